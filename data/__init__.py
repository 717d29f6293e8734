"""Embedded default data for reachplan (India districts and sample networks); see README.md."""
