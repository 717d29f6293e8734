"""Travel time on roads, on hand-made fixtures whose minutes are worked out by hand.

tests/fixtures/roads/tiny.osm (see its README): vertices on the equator 0.01 degree apart,
so every segment is exactly L = 6378137 m * 0.01 * pi / 180 = 1113.19490793 m long.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import math
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from shapely.geometry import LineString, box

from reachplan.errors import InputError
from reachplan.roads import (
    TravelRule,
    graph_from_segments,
    isochrones,
    load_roads,
    parse_maxspeed,
    read_speeds,
    snap,
)
from reachplan.roads.cache import CacheWarning
from reachplan.roads.osm import Segments

TINY = "tests/fixtures/roads/tiny.osm"
A_M = 6378137.0
F = 1 / 298.257223563
L_KM = A_M * math.radians(0.01) / 1000.0  # one segment along the equator
MPH30 = 30 * 1.609344
INF = math.inf


def km_min(km: float, kmh: float) -> float:
    return km / kmh * 60.0


def pts(*lonlat: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy([p[0] for p in lonlat], [p[1] for p in lonlat]),
                         crs="EPSG:4326")


@pytest.fixture
def car(tmp_path):
    return load_roads(TINY, profile="car", cache_dir=tmp_path)


# tiny.osm's node ids by position (a road vertex is a place)
OSM_ID = {(0.0, 0.0): 1, (0.01, 0.0): 2, (0.02, 0.0): 3, (0.03, 0.0): 4, (0.04, 0.0): 5,
          (0.05, 0.0): 6, (0.06, 0.0): 7, (0.5, 0.0): 8, (0.51, 0.0): 9, (0.01, 0.01): 10,
          (0.07, 0.0): 11}


def osm_ids(graph) -> list[int]:
    return [OSM_ID[(round(x, 7), round(y, 7))] for x, y in zip(graph.lon, graph.lat,
                                                               strict=True)]


def minutes_by_id(graph, rule, centres) -> dict[int, float]:
    minutes, _ = rule.node_minutes(centres)
    return {i: float(m) for i, m in zip(osm_ids(graph), minutes, strict=True)}


def test_car_graph_has_the_car_roads_only(car):
    # 10 is on a private road, 11 on a footway; the building way is no road
    assert sorted(osm_ids(car)) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert car.top_kmh == 100.0


def test_oneway_and_maxspeed_from_node_4(car):
    rule = TravelRule(car, 30)
    got = minutes_by_id(car, rule, pts((0.03, 0.0)))
    m5 = km_min(L_KM, 100)  # motorway 4 -> 5
    m6 = m5 + km_min(L_KM, MPH30)  # tertiary with maxspeed 30 mph
    expected = {1: INF, 2: INF,  # 3 -> 2 is against oneway=yes
                3: km_min(L_KM, 25),  # oneway=-1: 4 -> 3 allowed
                4: 0.0, 5: m5, 6: m6, 7: m6 + km_min(L_KM, 40),  # maxspeed 500 ignored
                8: INF, 9: INF}  # the island
    assert got == pytest.approx(expected, rel=1e-12)


def test_oneway_backwards_and_motorway_implied_oneway(car):
    rule = TravelRule(car, 30)
    got = minutes_by_id(car, rule, pts((0.0, 0.0)))
    assert got[2] == pytest.approx(L_KM)  # primary 60 km/h beats the residential duplicate
    assert got[3] == pytest.approx(2 * L_KM)
    assert got[4] == INF  # 3 -> 4 is against oneway=-1
    back = minutes_by_id(car, rule, pts((0.06, 0.0)))
    assert back[5] == pytest.approx(km_min(L_KM, 40) + km_min(L_KM, MPH30))
    assert back[4] == INF  # a motorway is one-way unless tagged otherwise


def test_walkers_ignore_oneway_and_avoid_motorways(tmp_path):
    walk = load_roads(TINY, profile="walk", cache_dir=tmp_path)
    assert sorted(osm_ids(walk)) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]
    got = minutes_by_id(walk, TravelRule(walk, 30), pts((0.03, 0.0)))
    assert got[1] == pytest.approx(km_min(3 * L_KM, 5))
    assert got[5] == INF  # only the motorway joins 4 and 5


def test_motorcycle_speeds(tmp_path):
    moto = load_roads(TINY, profile="motorcycle", cache_dir=tmp_path)
    got = minutes_by_id(moto, TravelRule(moto, 30), pts((0.0, 0.0)))
    assert got[2] == pytest.approx(km_min(L_KM, 55))


def test_speeds_file_overrides_the_table(tmp_path):
    speeds = tmp_path / "speeds.csv"
    speeds.write_text("highway,kmh\nprimary,20\n")
    graph = load_roads(TINY, profile="car", speeds=speeds, cache_dir=tmp_path)
    got = minutes_by_id(graph, TravelRule(graph, 30), pts((0.0, 0.0)))
    assert got[2] == pytest.approx(km_min(L_KM, 25))  # now the residential duplicate wins
    assert got[3] == pytest.approx(km_min(L_KM, 25) + km_min(L_KM, 20))


@pytest.mark.parametrize(("factor", "kmh_5_6"), [
    (0.8, 0.8 * MPH30),  # OSRM car.lua's speed_reduction: 38.6 km/h
    (2.0, 2.0 * MPH30),  # 96.6 km/h, under the top speed
    (3.0, 100.0),  # 144.8 km/h, capped at the car's top speed (motorway, 100)
])
def test_maxspeed_factor_scales_tagged_limits_only(tmp_path, factor, kmh_5_6):
    """From vertex 4: the motorway 4 -> 5 has no maxspeed (100 km/h stays), 5 -> 6 is tagged
    30 mph (now factor x 48.28 km/h), 6 -> 7's maxspeed 500 is not sane (the tertiary's 40
    stays); 4 -> 3 (residential, untagged) stays 25."""
    graph = load_roads(TINY, profile="car", cache_dir=tmp_path, maxspeed_factor=factor)
    got = minutes_by_id(graph, TravelRule(graph, 30), pts((0.03, 0.0)))
    m6 = km_min(L_KM, 100) + km_min(L_KM, kmh_5_6)
    assert got[3] == pytest.approx(km_min(L_KM, 25), rel=1e-12)
    assert got[5] == pytest.approx(km_min(L_KM, 100), rel=1e-12)
    assert got[6] == pytest.approx(m6, rel=1e-12)
    assert got[7] == pytest.approx(m6 + km_min(L_KM, 40), rel=1e-12)
    rule = TravelRule.from_roads(TINY, 30, cache_dir=tmp_path, maxspeed_factor=factor)
    assert rule.graph.from_cache and rule.to_dict()["maxspeed_factor"] == factor


def test_maxspeed_factor_keys_the_cache_and_spares_walkers(tmp_path):
    plain = load_roads(TINY, cache_dir=tmp_path)
    assert not load_roads(TINY, cache_dir=tmp_path, maxspeed_factor=0.8).from_cache
    again = load_roads(TINY, cache_dir=tmp_path, maxspeed_factor=0.8)
    assert again.from_cache and again.maxspeed_factor == 0.8
    assert load_roads(TINY, cache_dir=tmp_path).from_cache  # 1 is the default's own entry
    assert "maxspeed_factor" not in TravelRule(plain, 30).to_dict()  # results as before
    walk = load_roads(TINY, profile="walk", cache_dir=False)
    slow = load_roads(TINY, profile="walk", cache_dir=False, maxspeed_factor=0.5)
    assert (walk.matrix != slow.matrix).nnz == 0
    for bad in (0, -1, math.nan, math.inf, "fast"):
        with pytest.raises(InputError, match=r"^maxspeed_factor=") as err:
            load_roads(TINY, cache_dir=False, maxspeed_factor=bad)
        assert err.value.params == ("maxspeed_factor",)


def test_offroad_leg_at_walking_pace(car):
    rule = TravelRule(car, 30)
    leg_km = A_M * math.radians(0.005) / 1000.0  # centre 0.005 degree west of vertex 1
    got = minutes_by_id(car, rule, pts((-0.005, 0.0)))
    assert got[1] == pytest.approx(km_min(leg_km, 5), rel=1e-12)
    assert got[2] == pytest.approx(km_min(leg_km, 5) + L_KM, rel=1e-12)
    s = snap(car, [-0.005, -0.03, 0.012], [0.0, 0.0, 0.0], max_snap_km=2.0)
    assert [osm_ids(car)[i] if i >= 0 else -1 for i in s.node] == [1, -1, 2]  # -1: 3.34 km
    assert s.leg_m[1] == pytest.approx(A_M * math.radians(0.03), rel=1e-12)
    assert snap(car, [-0.03], [0.0], max_snap_km=5.0).node[0] == s.node[0]


def test_demand_points_get_their_own_minutes(car):
    rule = TravelRule(car, 30)
    demand = pts((0.012, 0.0), (-0.03, 0.0), (0.505, 0.0))
    minutes, source, off = rule.demand_minutes(demand, pts((0.0, 0.0)))
    # (0.012, 0) lies on the primary road 2 -> 3 (60 km/h, L_KM min a segment), a fifth of
    # the way along: it joins the road there (no walk), 1 + 0.2 segments from the centre
    assert minutes[0] == pytest.approx(1.2 * L_KM, rel=1e-12)
    assert off.tolist() == [False, True, False]  # reported, not dropped
    assert minutes[1] == INF and minutes[2] == INF  # off the network; on the island
    assert source.tolist() == [0, -1, -1]


DISTRICTS = gpd.GeoSeries([
    box(-0.001, -0.001, 0.015, 0.001),  # A: vertices 1, 2
    box(0.015, -0.001, 0.065, 0.001),  # B: vertices 3..7
    box(0.49, -0.001, 0.52, 0.001),  # C: the island
    box(0.009, 0.003, 0.011, 0.004),  # D: no road inside; 0.003 degree north of vertex 2
], crs="EPSG:4326")
# the meridian from the equator to 0.003 N, with the radius of curvature a(1 - e^2) there
D_LEG_KM = A_M * (1 - F * (2 - F)) * math.radians(0.003) / 1000.0


def test_district_minutes_presence_roads_offroad_and_islands(car):
    rule = TravelRule(car, 3)
    nearest_min, who, share = rule.district_minutes(DISTRICTS, pts((0.0, 0.0), (0.03, 0.0)))
    assert who.tolist() == [0, 1, -1, 0]
    assert nearest_min[:3].tolist() == [0.0, 0.0, INF]  # inside: 0; island: unreachable
    # D: to vertex 2 by car, then on foot to D's edge (nearer than from vertex 1)
    assert nearest_min[3] == pytest.approx(L_KM + km_min(D_LEG_KM, 5), rel=1e-7)
    # B's vertices 3..7 at 2L (from vertex 1), 0, 0.6L, +0.6L/0.8045 (30 mph), +1.5L with
    # L = 1.113 min: 2.23, 0, 0.67, 2.05, 3.72 -> 4 of 5 within 3 minutes
    assert share[:3] == pytest.approx([1.0, 4 / 5, 0.0])
    assert math.isnan(share[3])
    assert rule.nearest(DISTRICTS, pts((0.0, 0.0), (0.03, 0.0)))[0].tolist() == [0, 1, -1, 0]


def test_pairs_grow_with_the_time_limit(car):
    centres = pts((0.0, 0.0), (0.03, 0.0))
    d5, p5, c5 = TravelRule(car, 5).pairs(DISTRICTS, centres)
    # D is 5.09 minutes away: out at 5
    assert list(zip(d5.tolist(), p5.tolist(), strict=True)) == [(0, 0), (1, 0), (1, 1)]
    assert c5.tolist() == [0.0, pytest.approx(2 * L_KM), 0.0]
    calls = []
    d20, p20, c20 = TravelRule(car, 20).pairs(DISTRICTS, centres,
                                              progress=lambda *a: calls.append(a))
    assert calls[-1] == (2, 2)
    # from vertex 4 a car reaches 3 (2.4 L) and walks 0.005 degree west into A
    walk_in = km_min(A_M * math.radians(0.005) / 1000.0, 5)
    # ... and from vertex 3 walks 1.06 km to D's corner (0.011, 0.003)
    corner_km = pyproj.Geod(ellps="WGS84").inv(0.02, 0.0, 0.011, 0.003)[2] / 1000.0
    assert list(zip(d20.tolist(), p20.tolist(), strict=True)) == [
        (0, 0), (0, 1), (1, 0), (1, 1), (3, 0), (3, 1)]
    assert c20.tolist() == pytest.approx([0.0, km_min(L_KM, 25) + walk_in, 2 * L_KM, 0.0,
                                          L_KM + km_min(D_LEG_KM, 5),
                                          km_min(L_KM, 25) + km_min(corner_km, 5)], rel=1e-7)


def test_no_centres_reach_nothing(car):
    rule = TravelRule(car, 30)
    none = pts()
    assert rule.nearest(DISTRICTS, none)[0].tolist() == [-1] * 4
    assert rule.nearest(DISTRICTS, none)[1].tolist() == [INF] * 4
    assert [len(a) for a in rule.pairs(DISTRICTS, none)] == [0, 0, 0]


def test_rule_protocol_surface(car):
    rule = TravelRule(car, 30, min_centers=2, roads="roads/india.osm.pbf")
    assert rule.unit == "min" and rule.min_centers == 2 and rule.ring_m() is None
    tiny_sha256 = hashlib.sha256(Path(TINY).read_bytes()).hexdigest()[:16]
    assert rule.to_dict() == {"kind": "travel", "minutes": 30.0, "profile": "car",
                              "roads": "india.osm.pbf", "roads_sha256": tiny_sha256,
                              "min_centers": 2, "offroad_kmh": 5.0, "max_snap_km": 2.0}
    assert rule.describe() == "at least 2 centres within 30 min by road (car, india.osm.pbf)"
    built = TravelRule.from_roads(TINY, 15, cache_dir=False)
    assert built.to_dict()["roads"] == "tiny.osm"  # the name, never the folder
    assert built.to_dict()["roads_sha256"] == tiny_sha256


def test_cache_skips_parsing_and_knows_the_options(tmp_path):
    first = load_roads(TINY, profile="car", cache_dir=tmp_path)
    again = load_roads(TINY, profile="car", cache_dir=tmp_path)
    assert not first.from_cache and again.from_cache
    assert (again.matrix != first.matrix).nnz == 0
    np.testing.assert_array_equal(again.lon, first.lon)
    assert not load_roads(TINY, profile="walk", cache_dir=tmp_path).from_cache
    assert not load_roads(TINY, speeds={"primary": 30}, cache_dir=tmp_path).from_cache
    copy = tmp_path / "copy.osm"
    shutil.copy(TINY, copy)
    assert load_roads(copy, cache_dir=tmp_path).from_cache  # keyed by content, not name
    copy.write_text(copy.read_text().replace('lon="0.06"', 'lon="0.061"'))
    assert not load_roads(copy, cache_dir=tmp_path).from_cache
    for cached in (tmp_path / "roads").glob("*.graph"):
        cached.write_bytes(b"damaged")
    with pytest.warns(CacheWarning, match="not a reachplan road graph"):  # rebuilt, no error
        assert not load_roads(TINY, cache_dir=tmp_path).from_cache


def test_bz2_extract_reads_like_the_plain_one(tmp_path):
    packed = tmp_path / "tiny.osm.bz2"
    packed.write_bytes(bz2.compress(Path(TINY).read_bytes()))
    a = load_roads(TINY, cache_dir=False)
    b = load_roads(packed, cache_dir=False)
    assert (a.matrix != b.matrix).nnz == 0


def test_line_layer_with_a_speed_column(tmp_path):
    layer = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame({"kmh": [60.0, 30.0]},
                     geometry=[LineString([(0, 0), (0.01, 0)]),
                               LineString([(0.01, 0), (0.02, 0)])],
                     crs="EPSG:4326").to_file(layer)
    graph = load_roads(layer, speed_col="kmh", cache_dir=False)
    minutes, _ = TravelRule(graph, 30).node_minutes(pts((0.02, 0.0)))
    assert minutes.tolist() == pytest.approx([L_KM + km_min(L_KM, 30), km_min(L_KM, 30), 0])
    gpd.GeoDataFrame({"kmh": ["fast"]}, geometry=[LineString([(0, 0), (1, 0)])],
                     crs="EPSG:4326").to_file(tmp_path / "bad.gpkg")
    with pytest.raises(InputError, match=r"bad.gpkg: row 1: kmh 'fast'"):
        load_roads(tmp_path / "bad.gpkg", speed_col="kmh", cache_dir=False)


def test_cli_line_layer_with_a_speed_column(tmp_path):
    """--roads takes a line layer and --speed-col its speeds: a centre at (0, 0), a district
    round (0.02, 0) reached over L at 60 then L at 30 km/h; --travel-minutes 3 misses it
    (L_KM + 2 L_KM = 3.34 min), 4 covers it. A CSV is no road layer, a missing column is
    named by its flag."""
    from click.testing import CliRunner

    from reachplan.cli.main import cli

    layer = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame({"kmh": [60.0, 30.0]},
                     geometry=[LineString([(0, 0), (0.01, 0)]),
                               LineString([(0.01, 0), (0.02, 0)])],
                     crs="EPSG:4326").to_file(layer)
    gpd.GeoDataFrame({"id": ["far"]}, geometry=[box(0.0195, -0.0005, 0.0205, 0.0005)],
                     crs="EPSG:4326").to_file(tmp_path / "d.geojson")
    (tmp_path / "c.csv").write_text("name,lat,lon\nhub,0,0\n")
    base = ["coverage", str(tmp_path / "d.geojson"), str(tmp_path / "c.csv"), "--id-col", "id",
            "--roads", str(layer), "--format", "json", "-q"]
    runner = CliRunner()
    for minutes, covered in (("3", False), ("4", True)):
        res = runner.invoke(cli, [*base, "--travel-minutes", minutes, "--speed-col", "kmh"])
        assert res.exit_code == 0, res.output
        (row,) = json.loads(res.stdout)["districts"]
        assert row["covered"] is covered
        assert row["nearest_min"] == pytest.approx(L_KM + km_min(L_KM, 30), abs=5e-4)
    res = runner.invoke(cli, [*base, "--travel-minutes", "3", "--speed-col", "nope"])
    assert res.exit_code == 2 and "no column 'nope' (given as --speed-col)" in res.stderr
    res = runner.invoke(cli, [*base[:-5], "--roads", str(tmp_path / "c.csv"),
                              "--travel-minutes", "3"])
    assert res.exit_code == 2 and "c.csv: holds no road lines" in res.stderr
    assert "Traceback" not in res.output


def test_zero_length_segments_are_followed():
    z = np.zeros(2)
    seg = Segments(np.array([1, 2]), np.array([2, 3]), z, z, np.array([0.0, 0.01]), z,
                   np.array([50.0, 50.0]), np.ones(2, bool), np.ones(2, bool))
    graph = graph_from_segments(seg, "car")  # vertices 1 and 2 share a place
    minutes, _ = TravelRule(graph, 30).node_minutes(pts((0.0, 0.0)))
    assert minutes.tolist() == pytest.approx([0.0, 0.0, km_min(L_KM, 50)])


def test_isochrones_are_buffered_reached_roads(car):
    iso = isochrones(car, pts((0.0, 0.0), (0.3, 0.3)), [1, 3], names=["a", "far"],
                     buffer_m=10)
    assert iso[["center", "minutes", "off_network"]].values.tolist() == [
        ["a", 1.0, False], ["a", 3.0, False], ["far", 1.0, True], ["far", 3.0, True]]
    one, three = iso.geometry.iloc[0], iso.geometry.iloc[1]
    # in 1 minute at 60 km/h: 1 km east of vertex 1 (and 10 m of buffer)
    assert one.bounds[2] == pytest.approx(1.01 / L_KM * 0.01, rel=1e-3)
    # in 3 minutes: all of 1 -> 2 -> 3 (2.23 min) and nothing of 3 -> 4 (one-way)
    assert three.bounds[2] == pytest.approx(0.02 + 0.01 / L_KM * 0.01, rel=1e-3)
    assert one.difference(three).area < 1e-9 * one.area  # bands are cumulative
    assert iso.area_km2.iloc[1] == pytest.approx(2 * L_KM * 0.02 + math.pi * 0.01**2, rel=0.02)
    assert iso.geometry.iloc[2].is_empty
    again = TravelRule(car, 30).isochrones(pts((0.0, 0.0)).to_crs("EPSG:3857"), [1],
                                           buffer_m=10)
    assert again.geometry.iloc[0].equals_exact(one, 1e-9)


def test_maxspeed_parsing():
    assert parse_maxspeed("50") == 50.0
    assert parse_maxspeed("50 km/h") == 50.0
    assert parse_maxspeed("30 mph") == pytest.approx(48.28032)
    for nonsense in ("none", "signals", "IN:urban", "500", "2", "", None):
        assert parse_maxspeed(nonsense) is None


@pytest.mark.parametrize(("content", "message"), [
    ("speed,kmh\nprimary,30\n", r"speeds.csv: row 1: the header must be 'highway,kmh'"),
    ("highway,kmh\nprimary,fast\n", r"speeds.csv: row 2: kmh 'fast' for 'primary'"),
    ("highway,kmh\nprimary,30\nresidential,-5\n", r"speeds.csv: row 3: kmh '-5'"),
    ("highway,kmh\n,30\n", r"speeds.csv: row 2: the highway class is empty"),
])
def test_bad_speeds_file(tmp_path, content, message):
    path = tmp_path / "speeds.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_speeds(path, "car")


def test_bad_inputs_name_the_file_or_parameter(tmp_path, car):
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"this is not OSM")
    with pytest.raises(InputError, match=r"junk.osm.pbf: not a readable OSM file"):
        load_roads(junk, cache_dir=False)
    bare = tmp_path / "bare.osm"
    bare.write_text('<osm version="0.6"><node id="1" lat="0" lon="0"/>'
                    '<way id="1"><nd ref="1"/><tag k="building" v="yes"/></way></osm>')
    with pytest.raises(InputError, match=r"bare.osm: no roads"):
        load_roads(bare, cache_dir=False)
    with pytest.raises(InputError, match=r"profile 'bicycle'"):
        load_roads(TINY, profile="bicycle", cache_dir=False)
    with pytest.raises(InputError, match=r"missing.osm.pbf: no such roads file"):
        load_roads(tmp_path / "missing.osm.pbf", cache_dir=False)
    for bad in (0, -5, math.nan, math.inf):
        with pytest.raises(InputError, match=r"^minutes"):
            TravelRule(car, bad)
    with pytest.raises(InputError, match=r"^centers: all 1 centres are more than 2 km"):
        TravelRule(car, 30).nearest(DISTRICTS, pts((1.5, 1.5)))
    with pytest.raises(InputError, match=r"^offroad_kmh"):
        TravelRule(car, 30, offroad_kmh=0)


def test_geometries_in_another_crs_are_reprojected(car):
    here = pts((0.012, 0.0)).to_crs("EPSG:3857")
    assert osm_ids(car)[TravelRule(car, 30).snap(here).node[0]] == 2
    rule = TravelRule(car, 5)
    got = rule.pairs(DISTRICTS.to_crs("EPSG:3857"), pts((0.0, 0.0)).to_crs("EPSG:3857"))
    want = rule.pairs(DISTRICTS, pts((0.0, 0.0)))
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9)


def test_a_way_cut_at_the_extract_border_keeps_its_present_pieces(tmp_path):
    cut = tmp_path / "cut.osm"  # node 99 is referenced but not in the file
    cut.write_text('<osm version="0.6"><node id="1" lat="0" lon="0"/>'
                   '<node id="2" lat="0" lon="0.01"/><node id="3" lat="0" lon="0.02"/>'
                   '<node id="4" lat="0" lon="0.03"/>'
                   '<way id="1"><nd ref="1"/><nd ref="99"/><nd ref="2"/><nd ref="3"/>'
                   '<nd ref="4"/><tag k="highway" v="primary"/></way></osm>')
    graph = load_roads(cut, cache_dir=False)
    assert sorted(osm_ids(graph)) == [2, 3, 4]  # 1 is alone on its side of the gap
    got = minutes_by_id(graph, TravelRule(graph, 30), pts((0.01, 0.0)))
    assert got == pytest.approx({2: 0.0, 3: L_KM, 4: 2 * L_KM})


def test_line_layer_with_a_highway_column_uses_the_profile(tmp_path):
    layer = tmp_path / "roads.geojson"
    gpd.GeoDataFrame({"highway": ["primary", "footway"]},
                     geometry=[LineString([(0, 0), (0.01, 0)]),
                               LineString([(0.01, 0), (0.02, 0)])],
                     crs="EPSG:4326").to_file(layer)
    car = load_roads(layer, profile="car", cache_dir=False)
    assert car.n_nodes == 2  # cars do not use footways
    walk = load_roads(layer, profile="walk", cache_dir=False)
    minutes, _ = TravelRule(walk, 60).node_minutes(pts((0.0, 0.0)))
    assert minutes.tolist() == pytest.approx([0.0, km_min(L_KM, 5), km_min(2 * L_KM, 5)])


def _frames(centres):
    """DISTRICTS and centres as reachplan.io would give them (id, name, group, weight)."""
    districts = gpd.GeoDataFrame(
        {"id": ["A", "B", "C", "D"], "name": ["A", "B", "C", "D"], "group": [None] * 4,
         "weight": [np.nan] * 4}, geometry=DISTRICTS.array, crs="EPSG:4326")
    points = gpd.GeoDataFrame(
        {"name": [f"c{i}" for i in range(len(centres))], "lat": [y for _, y in centres],
         "lon": [x for x, _ in centres]},
        geometry=gpd.points_from_xy([x for x, _ in centres], [y for _, y in centres]),
        crs="EPSG:4326")
    return districts, points


def test_travel_rule_through_the_engine_and_demand_points(car):
    """The seam: assess and demand_coverage take the travel rule as they take a radius.
    D is 5.09 minutes away (1.113 min by car to vertex 2, 3.98 on foot): out at 3, in at 6;
    C is an island: never."""
    from reachplan.demand import demand_coverage
    from reachplan.engine import assess

    districts, centres = _frames([(0.0, 0.0), (0.03, 0.0)])
    for minutes, covered in ((3, ["A", "B"]), (6, ["A", "B", "D"])):
        result = assess(districts, centres, TravelRule(car, minutes))
        rows = result.districts.set_index("id")
        assert sorted(rows.index[rows["covered"]]) == covered
    assert rows.loc["D", "nearest_min"] == pytest.approx(L_KM + km_min(D_LEG_KM, 5), rel=1e-7)
    assert rows.loc["C", "nearest_min"] == INF
    # the quickest centre by road (hand-worked in test_district_minutes_...: 0, 1, -1, 0)
    assert rows["nearest_min_center"].tolist() == ["c0", "c1", None, "c0"]
    record = {d["id"]: d for d in result.to_dict()["districts"]}
    assert record["C"]["nearest_min"] is None and record["A"]["nearest_min"] == 0.0
    assert record["C"]["nearest_min_center"] is None and record["B"]["nearest_min_center"] == "c1"
    assert result.to_dict()["rule"]["kind"] == "travel"
    # demand: vertex 2 is 1.113 min from vertex 1; the island and a far point never
    demand = pd.DataFrame({"lat": [0.0, 0.0, 1.0], "lon": [0.01, 0.5, 1.0]})
    res = demand_coverage(centres, demand, TravelRule(car, 3))
    assert res.points["covered"].tolist() == [True, False, False]
    assert res.points["nearest_min"].tolist() == pytest.approx([L_KM, INF, INF])


def test_commands_take_the_travel_rule(tmp_path, runner):
    """reachplan coverage/gaps with --roads and --travel-minutes: the same figures as the
    library (A and B covered at 3 minutes; C, the island, and D, 5.09 minutes, not)."""
    import json

    from reachplan.cli.main import cli

    districts, centres = _frames([(0.0, 0.0), (0.03, 0.0)])
    districts.drop(columns=["group", "weight"]).to_file(tmp_path / "d.geojson")
    centres.drop(columns="geometry").to_csv(tmp_path / "c.csv", index=False)
    base = [str(tmp_path / "d.geojson"), str(tmp_path / "c.csv"), "--id-col", "id",
            "--roads", TINY, "--travel-minutes", "3"]
    res = runner.invoke(cli, ["coverage", *base, "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["summary"]["covered"] == 2
    assert data["rule"]["kind"] == "travel" and data["rule"]["roads"] == "tiny.osm"
    res = runner.invoke(cli, ["gaps", *base, "-o", str(tmp_path / "gaps.csv")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "gaps.csv").read_text().count("\n") == 3  # header, C and D
    for bad, flag in ((["--roads", TINY], "--travel-minutes"),
                      (["--travel-minutes", "0", "--roads", TINY], "--travel-minutes"),
                      (["--roads", TINY, "--travel-minutes", "3", "--radius-km", "5"],
                       "--radius-km")):
        res = runner.invoke(cli, ["coverage", *base[:4], *bad])
        assert res.exit_code == 2 and flag in res.output, res.output


def test_maxspeed_factor_on_the_command_line(tmp_path, runner):
    """--maxspeed-factor 0.8 on coverage and isochrones: from the hub (vertex 4), vertex 6 is
    L at 100 km/h + L at 0.8 x 30 mph away (2.22 min, 2.05 at the limit), so a 2.1-minute
    rule no longer reaches B's vertex 6. B holds vertices 3 (2.67 min), 4 (0), 5 (0.67), 6
    and 7 (beyond): 3 of 5 within 2.1 minutes at the limit, 2 of 5 at 0.8 of it."""
    import json

    from reachplan.cli.main import cli

    districts, centres = _frames([(0.03, 0.0)])
    districts.drop(columns=["group", "weight"]).to_file(tmp_path / "d.geojson")
    centres.drop(columns="geometry").to_csv(tmp_path / "c.csv", index=False)
    base = ["coverage", str(tmp_path / "d.geojson"), str(tmp_path / "c.csv"), "--id-col", "id",
            "--roads", TINY, "--travel-minutes", "2.1", "--format", "json"]
    assert km_min(L_KM, 100) + km_min(L_KM, MPH30) < 2.1 < (km_min(L_KM, 100)
                                                           + km_min(L_KM, 0.8 * MPH30))
    shares = {}
    for factor in ("1", "0.8"):
        res = runner.invoke(cli, [*base, "--maxspeed-factor", factor])
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        shares[factor] = data["districts"][1]["road_nodes_within_pct"]
        assert data["rule"].get("maxspeed_factor") == (0.8 if factor == "0.8" else None)
    assert shares == {"1": 60.0, "0.8": 40.0}
    res = runner.invoke(cli, [*base, "--maxspeed-factor", "0"])
    assert res.exit_code == 2 and "--maxspeed-factor" in res.output
    res = runner.invoke(cli, ["isochrones", TINY, str(tmp_path / "c.csv"), "--minutes", "2.1",
                              "--maxspeed-factor", "0.8", "-o", str(tmp_path / "i.csv")])
    assert res.exit_code == 0, res.output


def test_centres_all_off_the_network_name_the_option(tmp_path, runner, monkeypatch):
    from reachplan.cli.main import cli

    monkeypatch.setenv("REACHPLAN_CACHE_DIR", str(tmp_path / "cache"))
    districts, _ = _frames([])
    districts.drop(columns=["group", "weight"]).to_file(tmp_path / "d.geojson")
    (tmp_path / "far.csv").write_text("name,lat,lon\nfar,1.5,1.5\n", encoding="utf-8")
    res = runner.invoke(cli, ["coverage", str(tmp_path / "d.geojson"), str(tmp_path / "far.csv"),
                              "--id-col", "id", "--roads", TINY, "--travel-minutes", "3"])
    assert res.exit_code == 2 and res.stdout == ""
    assert "all 1 centres are more than 2 km (--max-snap-km) from every road" in res.stderr


def test_cli_runs_cache_in_reachplan_cache_dir_never_home(tmp_path, runner, monkeypatch,
                                                         road_cache):
    """conftest points $REACHPLAN_CACHE_DIR at a session folder: a CLI run builds the graph
    there and writes nothing under $HOME. Without the variable it would go to
    ~/.cache/reachplan (checked too, so that the first half can fail)."""
    from reachplan.cli.main import cli

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    districts, centres = _frames([(0.0, 0.0)])
    districts.drop(columns=["group", "weight"]).to_file(tmp_path / "d.geojson")
    centres.drop(columns="geometry").to_csv(tmp_path / "c.csv", index=False)
    args = ["coverage", str(tmp_path / "d.geojson"), str(tmp_path / "c.csv"), "--id-col", "id",
            "--roads", TINY, "--travel-minutes", "3", "--format", "json"]
    for entry in (road_cache / "roads").glob("*.graph"):
        entry.unlink()  # built by this run, not an earlier test
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert list(home.rglob("*")) == []
    assert len(list((road_cache / "roads").glob("*.graph"))) == 1
    monkeypatch.delenv("REACHPLAN_CACHE_DIR")
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert len(list((home / ".cache" / "reachplan" / "roads").glob("*.graph"))) == 1


def test_share_within_t_in_every_output(tmp_path, runner):
    """Per district, the share of its demand within T: road vertices without --demand
    (A: 1 and 2 at 0 and 1.11 min: 100; B: 4 of 5, see above; C, the island: 0; D has no
    vertex: null), demand points with it (vertex 2 at 1.11 min in A; in B vertex 5 at
    0.67 min, vertex 7 at 3.72; the island point in C; none in D)."""
    import json

    from reachplan.cli.main import cli

    districts, centres = _frames([(0.0, 0.0), (0.03, 0.0)])
    districts.drop(columns=["group", "weight"]).to_file(tmp_path / "d.geojson")
    centres.drop(columns="geometry").to_csv(tmp_path / "c.csv", index=False)
    (tmp_path / "demand.csv").write_text("lat,lon,w\n0,0.01,10\n0,0.04,20\n0,0.06,30\n"
                                         "0,0.5,40\n", encoding="utf-8")
    base = [str(tmp_path / "d.geojson"), str(tmp_path / "c.csv"), "--id-col", "id",
            "--roads", TINY, "--travel-minutes", "3"]
    res = runner.invoke(cli, ["coverage", *base, "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [d["road_nodes_within_pct"] for d in data["districts"]] == [100.0, 80.0, 0.0, None]
    assert "demand_percent" not in data["districts"][0]
    res = runner.invoke(cli, ["coverage", *base, "--format", "csv"])
    table = pd.read_csv(io.StringIO(res.stdout), dtype={"id": str})
    assert table["road_nodes_within_pct"].tolist()[:3] == [100.0, 80.0, 0.0]
    assert math.isnan(table["road_nodes_within_pct"].iloc[3])
    res = runner.invoke(cli, ["gaps", *base, "-o", str(tmp_path / "gaps.geojson")])
    assert res.exit_code == 0, res.output
    gaps = gpd.read_file(tmp_path / "gaps.geojson")
    assert gaps["id"].tolist() == ["C", "D"]
    assert gaps["road_nodes_within_pct"].iloc[0] == 0.0
    assert gaps["road_nodes_within_pct"].isna().iloc[1]
    assert gaps["nearest_min"].isna().iloc[0]  # the island: null, not a dropped inf
    res = runner.invoke(cli, ["gaps", *base])
    assert "road_nodes_within_pct" in res.stdout
    res = runner.invoke(cli, ["coverage", *base, "--demand", str(tmp_path / "demand.csv"),
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    rows = {d["id"]: d for d in data["districts"]}
    assert [(rows[k]["demand_points"], rows[k]["demand_covered"], rows[k]["demand_percent"])
            for k in "ABCD"] == [(1, 1, 100.0), (2, 1, 50.0), (1, 0, 0.0), (0, 0, None)]
    assert data["demand"]["minutes"] == 3.0 and "radius_km" not in data["demand"]
    assert (data["demand"]["points"], data["demand"]["covered"]) == (4, 2)
    assert "demand_weight_percent" not in rows["A"]
    res = runner.invoke(cli, ["coverage", *base, "--demand", str(tmp_path / "demand.csv"),
                              "--demand-weight-col", "w", "--format", "csv"])
    table = pd.read_csv(io.StringIO(res.stdout), dtype={"id": str}).set_index("id")
    assert table["demand_percent"].tolist()[:3] == [100.0, 50.0, 0.0]
    # B: 20 of 20 + 30
    assert table["demand_weight_percent"].tolist()[:3] == [100.0, 40.0, 0.0]
    assert table.loc["D"].isna()[["demand_percent", "demand_weight_percent"]].all()
    res = runner.invoke(cli, ["coverage", *base, "--demand", str(tmp_path / "demand.csv")])
    assert "Demand points within 3 min by road of a centre: 2 of 4" in res.stdout


def test_share_within_t_counts_min_centers_centres(car):
    """With --min-centers 2, a road vertex counts when two centres reach it within T (3 min):
    west (vertex 1) reaches 1, 2 and 3 (2L at 60 km/h = 2.23 min); the hub (vertex 4)
    reaches 4, 3 (L at 25 km/h = 2.67), 5 (0.67) and 6 (0.67 + L at 30 mph = 2.05), not 7
    (3.72). Only vertex 3 is reached by both: A 0 of 2, B 1 of 5, C (the island) 0 of 2, D
    has no vertex. B is covered (the hub inside, west at 2.23 min), A not (the hub needs
    2.67 min to vertex 3, then 557 m on foot to A's edge)."""
    from reachplan.engine import assess

    districts, centres = _frames([(0.0, 0.0), (0.03, 0.0)])
    result = assess(districts, centres, TravelRule(car, 3, min_centers=2))
    rows = result.to_dict()["districts"]
    assert [d["road_nodes_within_pct"] for d in rows] == [0.0, 20.0, 0.0, None]
    assert [d["covered"] for d in rows] == [False, True, False, False]
    one = assess(districts, centres, TravelRule(car, 3)).to_dict()["districts"]
    assert [d["road_nodes_within_pct"] for d in one] == [100.0, 80.0, 0.0, None]
