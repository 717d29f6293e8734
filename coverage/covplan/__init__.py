"""covplan: coverage planning for service networks.

The Python API mirrors the command line::

    import covplan
    districts = covplan.read_boundaries("districts.gpkg", group_col="state")
    centres = covplan.read_points("centres.csv")
    result = covplan.assess(districts, centres, covplan.Rule.radius(25))
    result.summary, result.gaps()

Names are imported on first use, so ``import covplan`` (and ``covplan --help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CovplanError": "covplan.errors",
    "InputError": "covplan.errors",
    "read_boundaries": "covplan.io",
    "read_points": "covplan.io",
    "write_table": "covplan.io",
    "Rule": "covplan.rules",
    "CoverageRule": "covplan.rules",
    "Presence": "covplan.rules",
    "Radius": "covplan.rules",
    "CoverageResult": "covplan.engine",
    "assess": "covplan.engine",
    "nearest_to_polygons": "covplan.geodesy",
    "polygons_within": "covplan.geodesy",
    "DemandResult": "covplan.demand",
    "demand_coverage": "covplan.demand",
    "PlanRun": "covplan.planning",
    "plan": "covplan.planning",
    "run_plan": "covplan.planning",
    "solve_matrix": "covplan.planning",
    "compare_results": "covplan.compare",
    "coverage_map": "covplan.maps",
    "write_map": "covplan.maps",
    "write_png": "covplan.maps",
}

__all__ = [
    "CoverageResult",
    "CoverageRule",
    "CovplanError",
    "DemandResult",
    "InputError",
    "PlanRun",
    "Presence",
    "Radius",
    "Rule",
    "__version__",
    "assess",
    "compare_results",
    "coverage_map",
    "demand_coverage",
    "nearest_to_polygons",
    "plan",
    "polygons_within",
    "read_boundaries",
    "read_points",
    "run_plan",
    "solve_matrix",
    "write_map",
    "write_png",
    "write_table",
]

if TYPE_CHECKING:
    from covplan.compare import compare_results
    from covplan.demand import DemandResult, demand_coverage
    from covplan.engine import CoverageResult, assess
    from covplan.errors import CovplanError, InputError
    from covplan.geodesy import nearest_to_polygons, polygons_within
    from covplan.io import read_boundaries, read_points, write_table
    from covplan.maps import coverage_map, write_map, write_png
    from covplan.planning import PlanRun, plan, run_plan, solve_matrix
    from covplan.rules import CoverageRule, Presence, Radius, Rule


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'covplan' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
