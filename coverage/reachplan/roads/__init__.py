"""Travel time on roads: OSM extracts or line layers -> a graph of minutes -> coverage.

Read :mod:`reachplan.roads.speeds` for the profiles and speeds, :mod:`reachplan.roads.graph`
for the graph, :mod:`reachplan.roads.cache` for its cache, :mod:`reachplan.roads.travel` for
how points and districts get on the network, :mod:`reachplan.roads.isochrones` for service
areas.
"""

from __future__ import annotations

from reachplan.roads.graph import RoadGraph, cache_root, graph_from_segments, load_roads
from reachplan.roads.isochrones import isochrones
from reachplan.roads.rule import TravelRule
from reachplan.roads.speeds import PROFILES, default_speeds, parse_maxspeed, read_speeds
from reachplan.roads.travel import (
    MAX_SNAP_KM,
    OFFROAD_KMH,
    DistrictAccess,
    Snapped,
    district_access,
    district_minutes,
    nearest_minutes,
    point_minutes,
    search,
    snap,
)

__all__ = ["MAX_SNAP_KM", "OFFROAD_KMH", "PROFILES", "DistrictAccess", "RoadGraph", "Snapped",
           "TravelRule", "cache_root", "default_speeds", "district_access", "district_minutes",
           "graph_from_segments", "isochrones", "load_roads", "nearest_minutes",
           "parse_maxspeed", "point_minutes", "read_speeds", "search", "snap"]
