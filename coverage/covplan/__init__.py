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
    "Rule": "covplan.engine",
    "CoverageResult": "covplan.engine",
    "assess": "covplan.engine",
    "nearest_to_polygons": "covplan.geodesy",
    "polygons_within": "covplan.geodesy",
}

__all__ = [
    "CoverageResult",
    "CovplanError",
    "InputError",
    "Rule",
    "__version__",
    "assess",
    "nearest_to_polygons",
    "polygons_within",
    "read_boundaries",
    "read_points",
    "write_table",
]

if TYPE_CHECKING:
    from covplan.engine import CoverageResult, Rule, assess
    from covplan.errors import CovplanError, InputError
    from covplan.geodesy import nearest_to_polygons, polygons_within
    from covplan.io import read_boundaries, read_points, write_table


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'covplan' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
