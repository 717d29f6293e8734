"""Browser files from the npm registry that the pages inline (the planner's geodesy).

They are runtime assets but third-party code, so the repository does not hold them:
``package.json`` lists them (``dependencies``, and ``reachplanVendor``: package -> files), the
wheel build (``setup.py``) copies them from ``node_modules`` into
``reachplan/maps/vendor/<package>``, and
a source checkout (an editable install) reads them from ``node_modules`` directly.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from reachplan.errors import ReachplanError

__all__ = ["npm_asset"]

#: The source tree's root (coverage/reachplan/maps/assets.py -> four levels up).
_ROOT = Path(__file__).resolve().parents[3]


@cache
def npm_asset(package: str, name: str) -> str:
    """The text of ``name`` of the npm ``package``, from the wheel's ``reachplan/maps/vendor``
    or, in a source checkout, from ``node_modules``."""
    shipped = resources.files("reachplan.maps").joinpath("vendor").joinpath(package).joinpath(
        name)
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    local = _ROOT / "node_modules" / package / name
    if local.is_file():
        return local.read_text(encoding="utf-8")
    raise ReachplanError(f"the what-if page needs {package}'s {name} (npm): run `npm ci` in "
                         "the source tree, or install reachplan from its wheel")
