"""Embedded default data for covplan (India districts and sample networks); see README.md."""
