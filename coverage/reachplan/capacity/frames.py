"""Adapter from points and a coverage rule to the long (point, centre, cost) table.

This is the only module of :mod:`reachplan.capacity` that knows GeoDataFrames. The pairs come
from the coverage rule (its ``point_reach(...).pairs``): for a radius, every (demand point,
centre) within R km, geodesic on WGS84, with its distance in metres, measured with
``pyproj.Geod.inv`` (the conformal-sphere KD-tree of :mod:`reachplan.geodesy.points` only
proposes candidates, so the pairs are those of a brute-force pyproj loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from reachplan.capacity import _checks
from reachplan.errors import InputError

__all__ = ["column_amounts", "district_of_points", "pairs_for_rule", "radius_pairs"]


def radius_pairs(lat: Any, lon: Any, centre_lat: Any, centre_lon: Any, radius_m: float, *,
                 threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (point, centre) pair within ``radius_m`` metres (geodesic WGS84) and its metres.

    Returns int64 point positions, int64 centre positions and float64 metres, sorted by
    point, then centre.
    """
    from reachplan.geodesy import CentreIndex

    lat = np.ascontiguousarray(lat, dtype=np.float64)
    lon = np.ascontiguousarray(lon, dtype=np.float64)
    if not (np.isfinite(radius_m) and radius_m >= 0):
        raise InputError(f"radius_m: {radius_m}: give a distance >= 0")
    index = CentreIndex(np.asarray(centre_lat, dtype=np.float64),
                        np.asarray(centre_lon, dtype=np.float64))
    return index.within(lat, lon, np.full(lat.size, float(radius_m)), threads=threads,
                        every=True)


def pairs_for_rule(points: Any, centres: Any, rule: Any, *, threads: int = 1
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, centre, cost) pairs of demand points and centres under ``rule``.

    ``points`` and ``centres`` are GeoDataFrames (or GeoSeries) of points in EPSG:4326 (as
    :func:`reachplan.read_points` gives). A rule with a ``pairs(points, centres)`` method (the
    rule seam) is asked for them; today's :class:`reachplan.Rule` with a radius is measured here
    in metres. A presence rule has no reach between points.
    """
    geo_p = getattr(points, "geometry", points)
    geo_c = getattr(centres, "geometry", centres)
    for name, geo in (("points", geo_p), ("centres", geo_c)):
        crs = getattr(geo, "crs", None)
        if crs is not None and not crs.equals("EPSG:4326"):
            raise InputError(f"{name}: CRS {crs.to_string()}; give longitude/latitude "
                             "(EPSG:4326)")
    reach = rule.point_reach(  # raises for a rule with no reach between points (presence)
        np.asarray(geo_c.y, dtype=float), np.asarray(geo_c.x, dtype=float))
    p, c, k = reach.pairs(np.asarray(geo_p.y, dtype=float), np.asarray(geo_p.x, dtype=float),
                          threads=threads)
    return _checks.pairs(p, c, k, len(geo_p), len(geo_c))


def district_of_points(points: Any, districts: Any, column: str | None = None) -> np.ndarray:
    """The district of each point: its ``column`` value (text, as in the file), or its row
    position when ``column`` is None; None for points outside every district (on a shared
    edge, the first district in row order).
    """
    from reachplan.demand.assess import _Districts

    geo = getattr(points, "geometry", points)
    where = _Districts(districts).locate(np.asarray(geo.y, dtype=np.float64),
                                         np.asarray(geo.x, dtype=np.float64))
    labels = (np.arange(len(districts)) if column is None
              else districts[column].to_numpy(dtype=object))
    out = np.full(where.size, None, dtype=object)
    inside = where < len(districts)
    out[inside] = labels[where[inside]]
    return out


def column_amounts(frame: pd.DataFrame, column: str, *, label: str | None = None,
                   rows: Sequence[Any] | None = None) -> np.ndarray:
    """Amounts (demand, capacity) from a frame's column, checked: >= 0, numbers, present.

    Messages name ``label`` (e.g. the file), the column and the row: ``rows`` gives the row
    labels (e.g. the file's line numbers), default the frame's index.
    """
    where = f"{label}: " if label else ""
    if column not in frame.columns:
        raise InputError(f"{where}column '{column}' not found; columns are "
                         f"{', '.join(map(str, frame.columns))}")
    values = [None if _blank(v) else v.strip() if isinstance(v, str) else v
              for v in frame[column].to_numpy(dtype=object)]
    return _checks.amounts(np.asarray(values, dtype=object), f"{where}column '{column}'",
                           rows=list(frame.index) if rows is None else rows)


def _blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or bool(pd.isna(value))
