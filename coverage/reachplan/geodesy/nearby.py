"""Polygons and very many points (road vertices): grids first, geodesics only near boundaries.

:func:`polygons_within_xy` answers :func:`reachplan.geodesy.polygons_within` for points given
as coordinates, with the same pairs and distances, without making a shapely point of each:

* which points each polygon holds (distance 0) comes from the grid of
  :class:`reachplan.geodesy.locate.PolygonIndex` (``pairs``): cells that no ring crosses are
  wholly inside or outside each polygon, one exact test per set of them; points in the cells
  rings cross get GEOS's planar test, as ``polygons_within`` does for every point;
* only points near some boundary can be within ``radius_m`` of a polygon without being in it
  (:func:`near_boundaries`), so only those are measured, by ``polygons_within`` itself; the
  others' inside costs reach it as ``least`` so that its ``cheapest`` pruning is unchanged.

Near a boundary
---------------
A geodesic of length at most D from a point stays within D / M_min radians of its latitude
(M_min = a(1 - e²), WGS84's least meridional radius of curvature) and within D / (a cos φ)
radians of its longitude, φ the highest latitude it can reach (the parallel's radius is
N cos φ >= a cos φ). A grid of cells in lon/lat marks every cell a piece of a ring (at most a
cell long on each axis, its box widened by a margin) lies over, then widens the marks by as
many cells as those bounds span, plus one. A point in an unmarked cell has every ring more
than D away. D is ``radius_m`` plus 100 m: more than the difference between the distance
``polygons_within`` measures to a densified edge and the distance to the straight lon/lat
edge. Boxes that would reach a pole or cross the antimeridian, and points off [-180, 180],
are all taken as near (no saving, no risk).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import shapely
from scipy import ndimage

from reachplan.geodesy.locate import PolygonIndex, _segments
from reachplan.geodesy.polygons import _in_sorted, polygons_within

__all__ = ["near_boundaries", "polygons_within_xy"]

_M_MIN = 6_335_439.0  # a(1 - e²): metres per radian of latitude, at least
_A_M = 6_378_137.0
_MARGIN_M = 100.0
_NEAR_CELLS = 1 << 24  # cells of the near-boundary grid at most (32 MB of int16)
_PIECES = 1 << 20  # ring pieces marked at once
_FAST_FROM = 200_000  # points from which the grids pay for themselves
_STEP = 1 << 19  # points looked up in the grid at once (their temporaries are reused)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # of the coordinates' hash
_TOP_BITS = 20  # of the hashes' bitmap (128 KB)


def _owned_segments(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end (k x 2) and polygon position of every segment of every ring."""
    starts, ends, owners = [np.zeros((0, 2))], [np.zeros((0, 2))], [np.zeros(0, np.int64)]
    for i, geom in enumerate(polygons):
        if geom is None:
            continue
        start, end = _segments(np.asarray([geom], dtype=object))
        starts.append(start)
        ends.append(end)
        owners.append(np.full(len(start), i, dtype=np.int64))
    return np.concatenate(starts), np.concatenate(ends), np.concatenate(owners)


class _NearGrid:
    """The near-boundary grid (see the module docstring) of one set of rings: per cell, the
    rank of the largest level of the rings near it (0: none), ranks in ``levels``."""

    def __init__(self, start: np.ndarray, end: np.ndarray, level: np.ndarray,
                 top_level: float, radius_m: float, lon: np.ndarray, lat: np.ndarray) -> None:
        # no grid: every point gets rank 1, ``top_level`` (no saving, no risk)
        self.every = True
        self.levels = np.array([-np.inf, top_level])
        if len(start) == 0:
            self.levels = self.levels[:1]  # and every point rank 0: near no ring
            return
        reach = float(radius_m) + _MARGIN_M
        dphi = math.degrees(reach / _M_MIN)
        x0, y0 = (float(min(start[:, 0].min(), end[:, 0].min())),
                  float(min(start[:, 1].min(), end[:, 1].min())))
        x1, y1 = (float(max(start[:, 0].max(), end[:, 0].max())),
                  float(max(start[:, 1].max(), end[:, 1].max())))
        top = max(abs(y0), abs(y1)) + 2 * dphi  # a point near a ring is within dphi of it
        # (min and max are NaN when a coordinate is: no temporaries as long as the points)
        extent = (lon.min(), lon.max(), lat.min(), lat.max()) if lon.size else (0.0,) * 4
        if (top >= 89.0 or not np.isfinite(extent).all() or extent[0] < -180.0
                or extent[1] > 180.0):
            return
        dlam = math.degrees(reach / (_A_M * math.cos(math.radians(top))))
        x0, x1, y0, y1 = x0 - dlam, x1 + dlam, y0 - dphi, y1 + dphi
        if x0 < -180.0 or x1 > 180.0:
            return
        self.every = False
        # the largest of levels = the level of the largest rank (int16 cells: a quarter of
        # the float64 grid to fill and widen; fresh memory is slow to touch)
        self.levels = np.concatenate([[-np.inf], np.unique(level)])
        cell = max(min(dphi, dlam) / 2.0, math.sqrt((x1 - x0) * (y1 - y0) / _NEAR_CELLS))
        scale = 1.0 / cell
        cols, rows = int((x1 - x0) * scale) + 1, int((y1 - y0) * scale) + 1
        rank_type = np.int16 if self.levels.size <= np.iinfo(np.int16).max else np.int32
        rank = (np.searchsorted(self.levels[1:], level) + 1).astype(rank_type)
        marked = np.zeros((rows, cols), dtype=rank_type)  # the largest rank over each cell
        margin = 1e-9 * max(1.0, abs(x0), abs(x1), abs(y0), abs(y1))
        d = end - start
        pieces = np.maximum(np.ceil(np.abs(d).max(axis=1) * scale / 0.9), 1).astype(np.int64)
        ends = np.cumsum(pieces)
        first = 0
        while first < len(pieces):
            last = max(int(np.searchsorted(ends, ends[first] - pieces[first] + _PIECES)),
                       first + 1)
            k = pieces[first:last]
            seg = np.repeat(np.arange(first, last), k)
            j = np.arange(seg.size) - np.repeat(np.cumsum(k) - k, k)
            kk = k[seg - first]
            span = []
            for axis, origin, cells in ((0, x0, cols), (1, y0, rows)):
                a = start[seg, axis] + d[seg, axis] * (j / kk)
                b = start[seg, axis] + d[seg, axis] * ((j + 1) / kk)
                lo = np.clip((np.minimum(a, b) - margin - origin) * scale, 0, cells - 1)
                hi = np.clip((np.maximum(a, b) + margin - origin) * scale, 0, cells - 1)
                span.append((lo.astype(np.int64), hi.astype(np.int64)))
            (c0, c1), (r0, r1) = span
            value = rank[seg]
            for r in (r0, r1):
                for c in (c0, c1):
                    np.maximum.at(marked, (r, c), value)
            first = last
        # widen by the bounds' reach in cells, plus one for the rounding of the cell arithmetic
        wide_r, wide_c = math.ceil(dphi * scale) + 1, math.ceil(dlam * scale) + 1
        near = ndimage.maximum_filter1d(marked, 2 * wide_r + 1, axis=0, mode="constant",
                                        cval=0)
        ndimage.maximum_filter1d(near, 2 * wide_c + 1, axis=1, mode="constant", cval=0,
                                 output=marked)
        self.near = marked.ravel()
        self.box = (x0, y0, x1 - x0, y1 - y0)
        self.scale, self.cols, self.rows = scale, cols, rows

    @classmethod
    def of(cls, polygons: np.ndarray, lon: np.ndarray, lat: np.ndarray, radius_m: float,
           ceiling: np.ndarray | None) -> _NearGrid:
        if ceiling is None:
            start, end = _segments(polygons)
            level, top = np.ones(len(start), dtype=np.float64), 1.0
        else:
            start, end, owner = _owned_segments(polygons)
            level = np.asarray(ceiling, dtype=np.float64)[owner]
            top = float(np.max(ceiling)) if len(ceiling) else -np.inf
        return cls(start, end, level, top, radius_m, lon, lat)

    def rank(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Each point's cell's rank in ``levels`` (0 off the grid)."""
        if self.every:
            return np.full(lon.size, self.levels.size - 1, dtype=np.int64)
        x0, y0, width, height = self.box
        x, y = lon - x0, lat - y0
        off = ~((x >= 0) & (y >= 0) & (x <= width) & (y <= height))
        # (finite points within [-180, 180]: the cell numbers, clipped, fit in int32)
        c = np.clip((x * self.scale).astype(np.int32), 0, self.cols - 1)
        r = np.clip((y * self.scale).astype(np.int32), 0, self.rows - 1)
        r *= self.cols
        r += c
        out = self.near.take(r)
        out[off] = 0
        return out


def near_boundaries(polygons: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                    radius_m: float, ceiling: np.ndarray | None = None) -> np.ndarray:
    """Whether each point may lie within ``radius_m`` (geodesic) of a ring of ``polygons``;
    ``False`` only where that is proven impossible (see the module docstring).

    ``ceiling`` (per polygon): instead, the largest ceiling of the polygons whose rings may
    lie within ``radius_m`` of each point (``-inf`` where none may).
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    grid = _NearGrid.of(np.asarray(polygons, dtype=object), lon, lat, radius_m, ceiling)
    out = np.empty(lon.size, dtype=bool if ceiling is None else np.float64)
    for s in range(0, lon.size, _STEP):
        rank = grid.rank(lon[s:s + _STEP], lat[s:s + _STEP])
        out[s:s + _STEP] = rank > 0 if ceiling is None else grid.levels[rank]
    return out


def _least(poly: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """Per polygon, the least ``value`` of its pairs (``inf`` for none); ``poly`` sorted."""
    out = np.full(n, np.inf)
    if poly.size:
        first = np.flatnonzero(np.r_[True, poly[1:] != poly[:-1]])
        out[poly[first]] = np.minimum.reduceat(value, first)
    return out


def _digest(lon: np.ndarray, lat: np.ndarray, at: np.ndarray) -> np.ndarray:
    """A hash of the points' coordinates (+ 0.0: -0.0 and 0.0 are one coordinate)."""
    with np.errstate(over="ignore"):
        return (lat[at] + 0.0).view(np.uint64) * _MIX + (lon[at] + 0.0).view(np.uint64)


def _worth_a_look(polys: np.ndarray, lon: np.ndarray, lat: np.ndarray, radius_m: float,
                  qi: np.ndarray, pi: np.ndarray, cheapest: tuple[np.ndarray, float],
                  inside_cost: np.ndarray | None = None) -> np.ndarray:
    """With ``cheapest``: the points that may give a polygon whose ring is near them its
    least cost (see the module docstring), ascending; ``qi``, ``pi``: the pairs inside,
    sorted by polygon (``inside_cost``: their points' costs, when known)."""
    cost = np.asarray(cheapest[0], dtype=float)
    if inside_cost is None:
        inside_cost = cost[pi]
    best = _least(qi, inside_cost, len(polys))  # polygons_within's first bound: points inside
    grid = _NearGrid.of(polys, lon, lat, radius_m, best)
    keep = np.empty(lon.size, dtype=bool)
    rest = np.empty(lon.size, dtype=bool)  # near a ring but not kept
    for s in range(0, lon.size, _STEP):
        level = grid.levels[grid.rank(lon[s:s + _STEP], lat[s:s + _STEP])]
        c = cost[s:s + _STEP]
        keep[s:s + _STEP] = np.isfinite(c) & (c <= level * (1 + 1e-9) + 1e-9)
        rest[s:s + _STEP] = (level > -np.inf) & ~keep[s:s + _STEP]
    # points at the coordinates of one kept are measured with it (polygons_within lists a
    # pair of each point of a coordinate when it keeps one): keep them too (a hash of the
    # coordinates; a collision only keeps a point that then adds nothing)
    if not keep.any():
        return np.zeros(0, dtype=np.int64)
    kept = np.unique(_digest(lon, lat, np.flatnonzero(keep)))
    # a bitmap of the kept hashes' top bits lets few of the rest reach the binary search
    top = np.zeros(1 << _TOP_BITS, dtype=bool)
    top[kept >> np.uint64(64 - _TOP_BITS)] = True
    for s in range(0, lon.size, _STEP):
        at = s + np.flatnonzero(rest[s:s + _STEP])
        mine = _digest(lon, lat, at)
        maybe = top[mine >> np.uint64(64 - _TOP_BITS)]
        at, mine = at[maybe], mine[maybe]
        keep[at[kept[np.minimum(np.searchsorted(kept, mine), kept.size - 1)] == mine]] = True
    return np.flatnonzero(keep)


def polygons_within_xy(polygons, lon: np.ndarray, lat: np.ndarray, radius_m: float, *,
                       progress: Callable[[int, int], None] | None = None,
                       cheapest: tuple[np.ndarray, float] | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`reachplan.geodesy.polygons_within` for points at ``lon``/``lat`` (the same
    pairs and distances, sorted by polygon then point); ``progress`` counts the points near
    the boundaries only."""
    polys = np.asarray(getattr(polygons, "array", polygons), dtype=object)
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    if lon.size < _FAST_FROM or radius_m < 0 or not np.isfinite(radius_m):
        return polygons_within(polys, shapely.points(lon, lat), radius_m, progress=progress,
                               cheapest=cheapest)
    qi, pi = PolygonIndex(polys, grid_from=0).pairs(lon, lat)
    inside_cost = None
    if cheapest is not None:
        cost = np.asarray(cheapest[0], dtype=float)
        inside_cost = cost[pi]  # (one gather for both uses: pi is all over the points)
    if radius_m == 0:
        near = np.zeros(0, dtype=np.int64)
    elif cheapest is None:
        near = np.flatnonzero(near_boundaries(polys, lon, lat, radius_m))
    else:
        near = _worth_a_look(polys, lon, lat, radius_m, qi, pi, cheapest, inside_cost)
    measured = np.zeros(lon.size, dtype=bool)
    measured[near] = True
    sub = measured[pi]
    del measured
    near_q, near_p = qi[sub], pi[sub]  # pairs inside of the points measured
    least = None
    if cheapest is not None and inside_cost is not None:
        least = _least(qi, np.where(sub, np.inf, inside_cost), len(polys))  # the others'
        del inside_cost
        cheapest = (cost[near], cheapest[1])
    poly, pt, dist = polygons_within(polys, shapely.points(lon[near], lat[near]), radius_m,
                                     inside=(near_q, np.searchsorted(near, near_p)),
                                     progress=progress, cheapest=cheapest, least=least)
    pt = near[pt]
    # polygons_within lists the pairs inside it was given, at distance 0: when it does (checked
    # here), only its other pairs (few) go into all the pairs inside
    listed = _in_sorted((poly << 32) | pt, (near_q << 32) | near_p)
    if (np.array_equal(poly[listed], near_q) and np.array_equal(pt[listed], near_p)
            and not dist[listed].view(np.uint64).any()):  # +0.0 each
        return _merge(qi, pi, poly[~listed], pt[~listed], dist[~listed])
    return _merge(qi[~sub], pi[~sub], poly, pt, dist)


def _merge(poly_a: np.ndarray, pt_a: np.ndarray, poly_b: np.ndarray, pt_b: np.ndarray,
           dist_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``a`` (distance 0) and pairs ``b``, each sorted by polygon then point and no
    pair in both, merged in that order: each of ``b`` goes after the pairs of ``a`` before
    it (a binary search per pair of ``b``, usually the fewer), ``a`` fills the rest."""
    size = poly_a.size + poly_b.size
    key_b = (poly_b.astype(np.int64) << 32) | pt_b
    at_b = np.arange(poly_b.size) + np.searchsorted((poly_a << 32) | pt_a, key_b)
    is_a = np.ones(size, dtype=bool)
    is_a[at_b] = False
    poly = np.empty(size, dtype=np.int64)
    pt = np.empty(size, dtype=np.int64)
    dist = np.zeros(size)
    poly[is_a], pt[is_a] = poly_a, pt_a
    poly[at_b], pt[at_b], dist[at_b] = poly_b, pt_b, dist_b
    return poly, pt, dist
