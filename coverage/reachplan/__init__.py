"""reachplan: coverage planning for service networks.

The Python API mirrors the command line::

    import reachplan
    districts = reachplan.read_boundaries("districts.gpkg", group_col="state")
    centres = reachplan.read_points("centres.csv")
    result = reachplan.assess(districts, centres, reachplan.Rule.radius(25))
    result.summary, result.gaps()

Names are imported on first use, so ``import reachplan`` (and ``reachplan --help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The one version source: pyproject.toml reads it, releases are tagged v<this>, and the
# README's Action and pre-commit examples name that tag (tests/test_packaging.py checks all four).
__version__ = "0.2.0"

_EXPORTS = {
    "ReachplanError": "reachplan.errors",
    "InputError": "reachplan.errors",
    "read_boundaries": "reachplan.io",
    "read_points": "reachplan.io",
    "write_table": "reachplan.io",
    "Rule": "reachplan.rules",
    "CoverageRule": "reachplan.rules",
    "Presence": "reachplan.rules",
    "Radius": "reachplan.rules",
    "CoverageResult": "reachplan.engine",
    "assess": "reachplan.engine",
    "nearest_to_polygons": "reachplan.geodesy",
    "polygons_within": "reachplan.geodesy",
    "DemandResult": "reachplan.demand",
    "demand_coverage": "reachplan.demand",
    "PopulationResult": "reachplan.demand",
    "district_population": "reachplan.demand",
    "population_coverage": "reachplan.demand",
    "population_points": "reachplan.demand",
    "with_population": "reachplan.demand",
    "PlanRun": "reachplan.planning",
    "plan": "reachplan.planning",
    "run_plan": "reachplan.planning",
    "solve_matrix": "reachplan.planning",
    "compare_results": "reachplan.checks.compare",
    "coverage_map": "reachplan.maps",
    "write_map": "reachplan.maps",
    "write_png": "reachplan.maps",
}

__all__ = [
    "CoverageResult",
    "CoverageRule",
    "ReachplanError",
    "DemandResult",
    "InputError",
    "PlanRun",
    "PopulationResult",
    "Presence",
    "Radius",
    "Rule",
    "__version__",
    "assess",
    "compare_results",
    "coverage_map",
    "demand_coverage",
    "district_population",
    "nearest_to_polygons",
    "plan",
    "polygons_within",
    "population_coverage",
    "population_points",
    "read_boundaries",
    "read_points",
    "run_plan",
    "solve_matrix",
    "with_population",
    "write_map",
    "write_png",
    "write_table",
]

if TYPE_CHECKING:
    from reachplan.checks.compare import compare_results
    from reachplan.demand import (
        DemandResult,
        PopulationResult,
        demand_coverage,
        district_population,
        population_coverage,
        population_points,
        with_population,
    )
    from reachplan.engine import CoverageResult, assess
    from reachplan.errors import InputError, ReachplanError
    from reachplan.geodesy import nearest_to_polygons, polygons_within
    from reachplan.io import read_boundaries, read_points, write_table
    from reachplan.maps import coverage_map, write_map, write_png
    from reachplan.planning import PlanRun, plan, run_plan, solve_matrix
    from reachplan.rules import CoverageRule, Presence, Radius, Rule


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'reachplan' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
