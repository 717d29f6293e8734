"""Profiles decided as OSRM's car.lua and foot.lua do: access values, the cap on tagged
limits, walking speed on and off the roads.

The fixture (written below): nodes 1-6 on the equator 0.01 degree apart, so each way is
L = 6378137 m x pi / 180 x 0.01 = 1113.1949 m long.

- 201, 1-2 residential access=agricultural: closed to all (car.lua and foot.lua blacklist it)
- 202, 2-3 residential access=forestry: closed to all (both blacklist it)
- 203, 3-4 residential access=destination: open (car.lua: restricted, not blacklisted)
- 204, 4-5 primary maxspeed=130: car at min(130, 100) km/h, motorcycle min(130, 80)
- 205, 5-6 track access=agricultural foot=yes: walkers only (foot is more specific)
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest

from reachplan.roads import TravelRule, default_speeds, load_roads

L_KM = 6378137.0 * math.pi / 180.0 * 0.01 / 1000.0
XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="0.0" lon="0.00"/>
  <node id="2" lat="0.0" lon="0.01"/>
  <node id="3" lat="0.0" lon="0.02"/>
  <node id="4" lat="0.0" lon="0.03"/>
  <node id="5" lat="0.0" lon="0.04"/>
  <node id="6" lat="0.0" lon="0.05"/>
  <way id="201"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/>
    <tag k="access" v="agricultural"/></way>
  <way id="202"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/>
    <tag k="access" v="forestry"/></way>
  <way id="203"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/>
    <tag k="access" v="destination"/></way>
  <way id="204"><nd ref="4"/><nd ref="5"/><tag k="highway" v="primary"/>
    <tag k="maxspeed" v="130"/></way>
  <way id="205"><nd ref="5"/><nd ref="6"/><tag k="highway" v="track"/>
    <tag k="access" v="agricultural"/><tag k="foot" v="yes"/></way>
</osm>
"""


@pytest.fixture
def roads(tmp_path):
    path = tmp_path / "profiles.osm"
    path.write_text(XML, encoding="utf-8")
    return path


def edges_kmh(graph) -> dict[tuple[int, int], float]:
    """{(from node, to node): km/h} of every directed edge (node = 1 + lon / 0.01)."""
    coo = graph.matrix.tocoo()
    node = np.rint(graph.lon / 0.01).astype(int) + 1
    return {(int(node[u]), int(node[v])): round(L_KM / (m / 60.0), 9)
            for u, v, m in zip(coo.row, coo.col, coo.data, strict=True)}


def both_ways(kmh: dict[tuple[int, int], float]) -> dict[tuple[int, int], float]:
    return {**kmh, **{(b, a): speed for (a, b), speed in kmh.items()}}


@pytest.mark.parametrize(("profile", "want"), [
    ("car", both_ways({(3, 4): 25.0, (4, 5): 100.0})),
    ("motorcycle", both_ways({(3, 4): 25.0, (4, 5): 80.0})),
    ("walk", both_ways({(3, 4): 5.0, (4, 5): 5.0, (5, 6): 5.0})),
])
def test_access_values_as_osrm_profiles(roads, profile, want):
    graph = load_roads(roads, profile=profile, cache_dir=False)
    assert edges_kmh(graph) == want


def test_the_maxspeed_cap_does_not_move_with_a_speeds_file(roads, tmp_path):
    """primary maxspeed=130 drives at 100 (the car's top) with or without a speeds file
    that puts motorways at 130 and primaries at 70 (it used to become 130)."""
    speeds = tmp_path / "speeds.csv"
    speeds.write_text("highway,kmh\nmotorway,130\nprimary,70\n", encoding="utf-8")
    plain = edges_kmh(load_roads(roads, cache_dir=False))
    with_file = edges_kmh(load_roads(roads, speeds=speeds, cache_dir=False))
    assert plain[(4, 5)] == with_file[(4, 5)] == 100.0
    mapping = edges_kmh(load_roads(roads, speeds={"motorway": 130.0}, cache_dir=False,
                                   maxspeed_factor=2.0))
    assert mapping[(4, 5)] == 100.0  # 260, capped at 100 still


def test_walkers_are_never_quicker_off_the_road(roads):
    """OSRM's foot.lua walks every class at 5 km/h; the off-road leg is at most the fastest
    road's speed: 5 by default, and a faster --offroad-kmh is held to it."""
    assert set(default_speeds("walk").values()) == {5.0}
    graph = load_roads(roads, profile="walk", cache_dir=False)
    road = min(edges_kmh(graph).values())
    for asked in (5.0, 6.0, 3.0):
        rule = TravelRule(graph, 10, offroad_kmh=asked)
        assert rule.offroad_kmh == min(asked, 5.0) <= road
        assert rule.to_dict()["offroad_kmh"] == min(asked, 5.0)
    # a point 0.005 degree (L / 2) north of node 4 walks L / 2 at 5 km/h, then L to node 5
    rule = TravelRule(graph, 60, offroad_kmh=6.0)
    centre = gpd.GeoSeries(gpd.points_from_xy([0.03], [0.005]), crs="EPSG:4326")
    minutes, _ = rule.node_minutes(centre)
    node = np.rint(graph.lon / 0.01).astype(int) + 1
    leg_km = rule.snap(centre).leg_m[0] / 1000.0
    assert minutes[node == 5][0] == pytest.approx((leg_km + L_KM) / 5.0 * 60.0, rel=1e-12)
