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
