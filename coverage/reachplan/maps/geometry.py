"""Geometry of the maps: coverage simplification in metres and the delta-encoded polygons.

The default tolerance follows the data's scale (:func:`simplified`): 1 % of the median
district's bounding-box diagonal, at most :data:`DEFAULT_SIMPLIFY_M`, and smaller while a centre
inside a district would be drawn outside its simplified outline.

District polygons are simplified as a *coverage* (``shapely.coverage_simplify``), so neighbours
keep sharing their edges: no gaps or slivers open between them. The tolerance is in metres; it is
applied in a spherical azimuthal equidistant frame centred on the map (scale error under 1% within
1,500 km of the centre, which is fine for a visual tolerance; no distance is *measured* in it).
Coordinates are rounded to a grid no coarser than a fifth of the tolerance (3 to 5 decimals) and
delta-encoded as integers; group outlines are runs of the districts' own edges.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import CRS, Transformer

#: Largest default simplification tolerance in metres: invisible at country and state zoom
#: levels (one screen pixel is about 600 m at zoom 8) and keeps the India map near 1 MB.
DEFAULT_SIMPLIFY_M = 1000.0
#: The default tolerance as a share of the median district's bounding-box diagonal: 1 km-wide
#: city districts are simplified by about 14 m, India's (median 117 km) by the 1,000 m cap.
SIMPLIFY_SHARE = 0.01
#: While a centre falls outside its district's simplified outline, the default tolerance is
#: cut by this factor, up to ``_STEPS`` times (then 0). India's 1,000 m drew one of the 2,000
#: sample centres outside; 900 m keeps them all inside, with 6 % more vertices (a halving
#: would add 20 % and a finer coordinate grid, past 1.5 MB of HTML).
_STEP, _STEPS = 0.9, 10

def _local_frame(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    """pyproj transformers to and from an azimuthal equidistant frame (metres, WGS84) centred
    on ``lon0, lat0``: distances from the centre are geodesic, others nearly so nearby."""
    aeqd = CRS.from_dict({"proj": "aeqd", "lat_0": lat0, "lon_0": lon0, "datum": "WGS84",
                          "units": "m"})
    return (Transformer.from_crs("EPSG:4326", aeqd, always_xy=True),
            Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True))


def _frame_centre(geoms: np.ndarray) -> tuple[float, float]:
    """Centre (lon, lat) of the data's bounding box, for the local simplification frame."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    return (float(xmin + xmax) / 2, float(ymin + ymax) / 2)


def _simplify_coverage(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Simplify polygons as a coverage with a tolerance in metres (shared edges stay shared).

    The polygons are projected to an azimuthal equidistant frame centred on the data (pyproj),
    simplified with ``shapely.coverage_simplify`` and projected back. Vertices shared by two
    neighbours go through the same arithmetic, so they stay identical.
    """
    geoms = np.asarray(geoms, dtype=object)
    if tolerance_m <= 0 or len(geoms) == 0:
        return geoms
    to_metres, to_degrees = _local_frame(*_frame_centre(geoms))

    def forward(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_metres.transform(xy[:, 0], xy[:, 1]))

    def inverse(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_degrees.transform(xy[:, 0], xy[:, 1]))

    metric = shapely.transform(geoms, forward)
    simple = shapely.coverage_simplify(metric, tolerance_m)
    return shapely.transform(simple, inverse)


def scale_tolerance_m(geoms: np.ndarray) -> float:
    """:data:`SIMPLIFY_SHARE` of the median bounding-box diagonal of ``geoms`` (lon/lat),
    measured geodesically on WGS84 (pyproj), at most :data:`DEFAULT_SIMPLIFY_M`."""
    from pyproj import Geod

    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)]
    if len(geoms) == 0:
        return 0.0
    b = shapely.bounds(geoms)
    diagonal = Geod(ellps="WGS84").inv(b[:, 0], b[:, 1], b[:, 2], b[:, 3])[2]
    return float(min(DEFAULT_SIMPLIFY_M, SIMPLIFY_SHARE * float(np.median(diagonal))))


def simplified(geoms: np.ndarray, simplify_m: float | None, points: np.ndarray | None = None
               ) -> tuple[np.ndarray, float]:
    """The polygons simplified for a map, and the tolerance used (metres).

    A given ``simplify_m`` is used as is. By default (``None``) the tolerance follows the
    data's scale (:func:`scale_tolerance_m`) and is cut by 10 % (up to ten times, then 0)
    while a point of ``points`` inside a polygon would fall outside that polygon simplified.
    """
    geoms = np.asarray(geoms, dtype=object)
    if simplify_m is not None:
        return _simplify_coverage(geoms, float(simplify_m)), float(simplify_m)
    tolerance = scale_tolerance_m(geoms)
    points = np.asarray([] if points is None else points, dtype=object)
    # every point strictly inside a polygon, and that polygon
    which, polygon = shapely.STRtree(geoms).query(points, predicate="within")
    for _ in range(_STEPS + 1):
        simple = _simplify_coverage(geoms, tolerance)
        if tolerance <= 0 or bool(np.all(shapely.covers(simple[polygon], points[which]))):
            return simple, tolerance
        tolerance *= _STEP
    return geoms, 0.0


def _decimals(tolerance_m: float) -> int:
    """Decimal places of the coordinate grid: a step no coarser than a fifth of the tolerance."""
    if tolerance_m <= 0:
        return 5
    return int(min(5, max(3, math.ceil(math.log10(111_320 * 5 / tolerance_m)))))


class _Encoded:
    """Polygons on an integer grid, delta-encoded for the page, with group outline runs.

    ``geoms[i]`` is district *i* as ``[[ring, hole, ...], ...]``, each ring a flat list of
    ``dx, dy`` integer steps (the closing point dropped), chained from ``0, 0`` across the whole
    document in ring order. ``runs`` lists ``ring, first edge, edge count`` of the edges that
    lie on a group boundary (each drawn once): group outlines need no coordinates of their own.
    """

    def __init__(self, geoms: np.ndarray, groups: np.ndarray, decimals: int) -> None:
        self.scale = 10**decimals
        geoms = np.asarray(geoms, dtype=object)
        parts, part_geom = shapely.get_parts(geoms, return_index=True)
        polygonal = shapely.get_type_id(parts) == 3
        parts, part_geom = parts[polygonal], part_geom[polygonal]
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        pts = np.round(coords * self.scale).astype(np.int64)
        n_rings = len(rings)
        last = np.ones(len(pts), dtype=bool)
        last[:-1] = coord_ring[1:] != coord_ring[:-1]
        keep = ~last
        keep[1:] &= ~((coord_ring[1:] == coord_ring[:-1]) & np.all(pts[1:] == pts[:-1], axis=1))
        count = np.bincount(coord_ring[keep], minlength=n_rings)
        exterior = np.ones(n_rings, dtype=bool)
        exterior[1:] = ring_part[1:] != ring_part[:-1]
        part_ok = np.zeros(len(parts), dtype=bool)
        part_ok[ring_part[exterior & (count >= 3)]] = True
        ring_ok = (count >= 3) & part_ok[ring_part]
        keep &= ring_ok[coord_ring]
        pts, coord_ring = pts[keep], coord_ring[keep]
        self.xy = pts
        kept = np.flatnonzero(ring_ok)
        new_index = np.full(n_rings, -1)
        new_index[kept] = np.arange(len(kept))
        ring_of = new_index[coord_ring]
        sizes = np.bincount(ring_of, minlength=len(kept))
        self.ring_start = np.concatenate([[0], np.cumsum(sizes)])
        deltas = np.diff(np.vstack([np.zeros((1, 2), np.int64), pts]), axis=0).ravel().tolist()
        ring_geom = part_geom[ring_part[kept]]
        self.ring_geom = ring_geom
        self.geoms: list[list[list[list[int]]]] = [[] for _ in range(len(geoms))]
        bounds = (2 * self.ring_start).tolist()
        ext = exterior[kept].tolist()
        for k, g in enumerate(ring_geom.tolist()):
            ring = deltas[bounds[k]:bounds[k + 1]]
            if ext[k]:
                self.geoms[g].append([ring])
            else:
                self.geoms[g][-1].append(ring)
        self.runs = self._outline_runs(np.asarray(groups)[ring_geom], ring_of, sizes)

    def _outline_runs(self, ring_group: np.ndarray, ring_of: np.ndarray, sizes: np.ndarray
                      ) -> np.ndarray:
        """``(ring, first edge, count)`` of edges on a group boundary, each edge once."""
        n = len(self.xy)
        if n == 0:
            return np.zeros((0, 3), dtype=np.int64)
        idx = np.arange(n)
        nxt = idx + 1
        ring_end = self.ring_start[1:][ring_of]
        nxt[nxt == ring_end] = self.ring_start[:-1][ring_of[nxt == ring_end]]
        a, b = self.xy, self.xy[nxt]
        swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
        lo, hi = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
        keys = np.ascontiguousarray(np.hstack([lo, hi]))
        _, first, inverse, counts = np.unique(keys.view(np.dtype((np.void, 32))).ravel(),
                                              return_index=True, return_inverse=True,
                                              return_counts=True)
        g = ring_group[ring_of]
        gmin = np.full(len(first), np.iinfo(np.int64).max)
        gmax = np.full(len(first), np.iinfo(np.int64).min)
        np.minimum.at(gmin, inverse, g)
        np.maximum.at(gmax, inverse, g)
        is_first = np.zeros(n, dtype=bool)
        is_first[first] = True
        flag = is_first & ((counts[inverse] == 1) | (gmin[inverse] != gmax[inverse]))
        prev_same = np.zeros(n, dtype=bool)
        prev_same[1:] = (ring_of[1:] == ring_of[:-1]) & flag[:-1]
        next_same = np.zeros(n, dtype=bool)
        next_same[:-1] = (ring_of[1:] == ring_of[:-1]) & flag[1:]
        starts = np.flatnonzero(flag & ~prev_same)
        ends = np.flatnonzero(flag & ~next_same)
        ring = ring_of[starts]
        return np.column_stack([ring, starts - self.ring_start[:-1][ring], ends - starts + 1])

    def outline_lines(self) -> list[np.ndarray]:
        """The outline runs as lon/lat polylines (for the static picture)."""
        out = []
        for ring, first, count in self.runs.tolist():
            s, e = self.ring_start[ring], self.ring_start[ring + 1]
            m = e - s
            sel = s + (first + np.arange(count + 1)) % m
            out.append(self.xy[sel] / self.scale)
        return out
