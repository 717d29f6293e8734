"""Independent references for the tests: shapely predicates and a brute-force geodesic scan."""

from __future__ import annotations

import numpy as np
import pyproj
import shapely

GEOD = pyproj.Geod(ellps="WGS84")


def brute_distance(poly, pt) -> float:
    """Geodesic distance (m) to boundary points every ~50 m (edges straight in lon/lat); 0 when
    the point is inside or on the boundary."""
    if poly.intersects(pt):
        return 0.0
    coords = shapely.get_coordinates(shapely.segmentize(poly.boundary, 0.0005))
    n = len(coords)
    return float(GEOD.inv(np.full(n, pt.x), np.full(n, pt.y), coords[:, 0], coords[:, 1])[2].min())


def brute_foot(x: float, y: float, lon1: float, lat1: float, lon2: float, lat2: float
               ) -> tuple[float, float]:
    """The nearest point to (x, y) of the geodesic from 1 to 2: (fraction of its length,
    metres). Where the geodesic to (x, y) leaves the segment at a right angle (scipy's
    brentq on the cosine of that angle, from pyproj's direct and inverse problems), else the
    nearer end; checked against scipy's bounded minimisation of the distance itself."""
    from scipy.optimize import brentq, minimize_scalar

    az, _, length = GEOD.inv(lon1, lat1, lon2, lat2)

    def at(s: float) -> tuple[float, float, float]:
        return GEOD.fwd(lon1, lat1, az, s)

    def metres(s: float) -> float:
        px, py, _ = at(s)
        return GEOD.inv(x, y, px, py)[2]

    def cosine(s: float) -> float:  # > 0: (x, y) lies ahead
        px, py, back = at(s)
        return float(np.cos(np.radians(GEOD.inv(px, py, x, y)[0] - back - 180.0)))

    best = min((metres(0.0), 0.0), (metres(length), 1.0))
    if length > 0 and cosine(0.0) > 0 > cosine(length):
        s = brentq(cosine, 0.0, length, xtol=1e-12, rtol=1e-15)
        best = min(best, (metres(s), s / length))
        found = minimize_scalar(metres, bounds=(0.0, length), method="bounded")
        assert found.fun >= best[0] - 1e-6  # no nearer point along the segment
    return best[1], best[0]


def brute_snap(x: float, y: float, segments) -> tuple[int, float, float]:
    """Over every segment (lon1, lat1, lon2, lat2): (the nearest one, fraction, metres)."""
    found = [brute_foot(x, y, *s) for s in segments]
    k = int(np.argmin([m for _, m in found]))
    return k, found[k][0], found[k][1]


def brute_nearest_segment(x: float, y: float, ends: np.ndarray) -> tuple[int, float, float]:
    """The nearest point to (x, y) of every segment (rows lon1, lat1, lon2, lat2), by brute
    force: segments that the triangle inequality cannot rule out (an end nearer than the
    nearest vertex plus half the segment) are searched with :func:`brute_foot`. (segment,
    fraction, metres); the lowest row on ties."""
    if len(ends) == 0:
        return -1, 0.0, np.inf
    m = len(ends)
    du = GEOD.inv(np.full(m, x), np.full(m, y), ends[:, 0], ends[:, 1])[2]
    dv = GEOD.inv(np.full(m, x), np.full(m, y), ends[:, 2], ends[:, 3])[2]
    length = GEOD.inv(ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3])[2]
    bound = min(du.min(), dv.min())
    found = [(*brute_foot(x, y, *ends[k]), k)
             for k in np.flatnonzero(np.minimum(du, dv) - length / 2 <= bound + 1e-6)]
    best = min(found, key=lambda t: (t[1], t[2]))
    return int(best[2]), best[0], best[1]
