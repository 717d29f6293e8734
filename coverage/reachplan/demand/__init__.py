"""Demand points at scale: which share of points a centre reaches, read and decided in parts.

- :mod:`.assess`: one part's decisions and the roll-ups (``demand_coverage``, ``DemandResult``);
- :mod:`.parts`: large point files read in parts (byte ranges of a CSV, row groups of
  GeoParquet, a PostGIS query); it knows only io;
- :mod:`.runners`: runs a function per part here or on a dask cluster; it knows nothing of
  what a part holds.

``parts`` and ``runners`` sit on io's floor, ``assess`` above the rules: names are imported on
first use, so loading those two loads no rule, engine or geodesy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["DemandResult", "demand_coverage"]

if TYPE_CHECKING:
    from reachplan.demand.assess import DemandResult, demand_coverage


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("reachplan.demand.assess"), name)
    raise AttributeError(f"module 'reachplan.demand' has no attribute {name!r}")
