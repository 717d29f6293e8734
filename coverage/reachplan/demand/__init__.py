"""Demand points at scale: which share of points a centre reaches, read and decided in parts.

- :mod:`.assess`: one part's decisions and the roll-ups (``demand_coverage``, ``DemandResult``);
- :mod:`.parts`: large point files read in parts (byte ranges of a CSV, row groups of
  GeoParquet, a PostGIS query); it knows only io;
- :mod:`.runners`: runs a function per part here or on a dask cluster; it knows nothing of
  what a part holds;
- :mod:`.rasters`: population rasters read in windows (rasterio); :mod:`.population`: their
  people per district (exactextract) and within reach of a centre (``population_coverage``).

``parts``, ``runners`` and ``rasters`` sit on io's floor, ``assess`` and ``population`` above
the rules: names are imported on
first use, so loading those two loads no rule, engine or geodesy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "DemandResult": "reachplan.demand.assess",
    "demand_coverage": "reachplan.demand.assess",
    "PopulationResult": "reachplan.demand.population",
    "district_population": "reachplan.demand.population",
    "population_coverage": "reachplan.demand.population",
    "population_points": "reachplan.demand.population",
    "with_population": "reachplan.demand.population",
}
__all__ = ["DemandResult", "PopulationResult", "demand_coverage", "district_population",
           "population_coverage", "population_points", "with_population"]

if TYPE_CHECKING:
    from reachplan.demand.assess import DemandResult, demand_coverage
    from reachplan.demand.population import (
        PopulationResult,
        district_population,
        population_coverage,
        population_points,
        with_population,
    )


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'reachplan.demand' has no attribute {name!r}")
