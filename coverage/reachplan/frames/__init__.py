"""Frames as the engine works on them, on the ground floor (below io, rules and the engine):
the engine, planning and demand take their inputs through here and never import io.

- :mod:`.columns`: column names and coordinates found and parsed, ids as text, row filters;
- :mod:`.repair`: polygons split at the antimeridian, mended with make_valid;
- :mod:`.validate`: a raw frame (from a file or passed in code) checked into districts or points;
- :mod:`.adapt`: ``as_districts`` / ``as_points``, what a Python caller passed (a frame, or a
  path handed up to :mod:`reachplan.io`'s readers);
- :mod:`.names`: how outputs name an input (its file name, no folder).
"""

from __future__ import annotations

from reachplan.frames.adapt import as_districts, as_points
from reachplan.frames.columns import (
    DISTRICT_NAME_NAMES,
    LAT_NAMES,
    LON_NAMES,
    NAME_NAMES,
    find_column,
    inf_as_missing,
    parse_coordinates,
)
from reachplan.frames.names import input_name

__all__ = ["DISTRICT_NAME_NAMES", "LAT_NAMES", "LON_NAMES", "NAME_NAMES", "as_districts",
           "as_points", "find_column", "inf_as_missing", "input_name", "parse_coordinates"]
