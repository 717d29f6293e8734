"""Frames passed in code, as the engine works on them: :func:`as_districts`, :func:`as_points`.

These are what ``assess``, ``demand_coverage`` and ``plan`` call on their inputs; a frame is
validated here, on the ground floor. A path (or ``"@india"``) is the one input handed up to
:mod:`reachplan.io`'s readers, imported only then.
"""

from __future__ import annotations

import os
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from reachplan.frames.columns import _wgs84
from reachplan.frames.validate import (
    _check_frame,
    _districts_from,
    _is_wgs84,
    _layer_coordinates,
    _points_from,
    _table_coordinates,
    _to_wgs84,
)

__all__ = ["as_districts", "as_points"]
_DISTRICT_COLUMNS = ("id", "name", "group", "weight")
_POINT_COLUMNS = ("lat", "lon", "name")


def as_districts(frame: Any, *, param: str = "districts") -> gpd.GeoDataFrame:
    """Districts as the engine works on them, from what a Python caller passed.

    A frame from :func:`read_boundaries` passes through unchanged. A path (or ``"@india"``)
    is read with it; any other GeoDataFrame of polygons with a CRS is taken as
    :func:`read_boundaries` would take the file (reprojected to WGS84; ``id``, ``name``,
    ``group`` and ``weight`` columns used when present). Anything else is an InputError
    naming ``param`` and what to pass.
    """
    if isinstance(frame, (str, os.PathLike)):
        from reachplan.io.read import read_boundaries

        return read_boundaries(frame)
    _check_frame(frame, param, "read_boundaries(path)", "polygons")
    if all(c in frame.columns for c in _DISTRICT_COLUMNS) and _is_wgs84(frame):
        return frame
    raw = _to_wgs84(frame, None, param, "set_crs")
    present = {c: c if c in raw.columns and raw[c].notna().any() else None
               for c in _DISTRICT_COLUMNS}
    out = _districts_from(raw, param, id_col=present["id"], name_col=present["name"],
                          group_col=present["group"], weight_col=present["weight"])
    out.attrs["source"] = frame.attrs.get("source", param)
    return out


def as_points(frame: Any, *, param: str = "centers") -> gpd.GeoDataFrame:
    """Points (centres, candidates) as the engine works on them, from what a caller passed.

    A frame from :func:`read_points` passes through unchanged; a path is read with it; a
    point GeoDataFrame with a CRS is reprojected to WGS84; a pandas DataFrame needs latitude
    and longitude columns (found by name as in a CSV). Rows without usable coordinates are
    skipped with a warning in ``attrs["warnings"]``. Anything else is an InputError.
    """
    if isinstance(frame, (str, os.PathLike)):
        from reachplan.io.read import read_points

        return read_points(frame)
    if isinstance(frame, pd.DataFrame) and len(frame) == 0:  # none yet: plan from scratch
        empty = pd.DataFrame(frame).drop(columns=getattr(frame, "_geometry_column_name", None)
                                         or [], errors="ignore")
        empty = empty.assign(lat=np.array([], float), lon=np.array([], float),
                             name=np.array([], object), line=np.array([], np.int64))
        return gpd.GeoDataFrame(empty, geometry=gpd.points_from_xy([], []), crs=_wgs84())
    if isinstance(frame, pd.DataFrame) and not isinstance(frame, gpd.GeoDataFrame):
        lines = np.arange(1, len(frame) + 1)
        lat, lon, messages, skipped, ok = _table_coordinates(
            frame, lines, param, lat_col=None, lon_col=None, strict=False, what=param,
            noun="row")
        return _points_from(frame, lat, lon, lines, ok, param, name_col=None, where=None,
                            messages=messages, skipped=skipped, noun="row")
    _check_frame(frame, param, "read_points(path)", "points")
    if all(c in frame.columns for c in _POINT_COLUMNS) and _is_wgs84(frame):
        return frame
    raw = _to_wgs84(frame, None, param, "set_crs")
    raw = raw.drop(columns=[c for c in ("lat", "lon") if c in raw.columns])
    table, lat, lon, lines, messages, skipped, ok = _layer_coordinates(raw, param, strict=False,
                                                                       what=param)
    return _points_from(table, lat, lon, lines, ok, param, name_col=None, where=None,
                        messages=messages, skipped=skipped, noun="row")
