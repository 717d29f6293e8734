"""Geodesic (WGS84) distances, exact and fast.

* :mod:`reachplan.geodesy.polygons`: polygon-to-point distances and pairs within a distance.
* :mod:`reachplan.geodesy.points`: point-to-centre nearest and within-distance queries.
* :mod:`reachplan.geodesy.locate`: which polygon holds each point (a grid, then GEOS's planar
  test where the grid cannot tell), for demand points' district roll-ups.

The distance modules use the proven bounds of :mod:`reachplan.geodesy.sphere` (the conformal
sphere) only to *filter* candidates, and measure every candidate that matters with
``pyproj.Geod(ellps="WGS84")``.
"""

from __future__ import annotations

from reachplan.geodesy.points import CentreIndex, nearest_centres
from reachplan.geodesy.polygons import geodesic_m, nearest_to_polygons, polygons_within

__all__ = ["CentreIndex", "geodesic_m", "nearest_centres", "nearest_to_polygons",
           "polygons_within"]
