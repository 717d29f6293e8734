"""reachplan for QGIS: a Processing provider (coverage, gaps, plan, isochrones, access, map)."""

from __future__ import annotations

from typing import Any


def classFactory(iface: Any) -> Any:  # noqa: N802 (the name QGIS calls)
    from .plugin import ReachplanPlugin

    return ReachplanPlugin(iface)
