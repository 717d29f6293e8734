"""Snapping to the main road network, not to a tiny fragment a few metres nearer; and onto
the nearest point of a road between its vertices (against a brute force over every segment).

The fixture: a 32 x 32 lattice on the equator (1,024 vertices 0.001 degree apart, every link
two-way at 25 km/h: the main network, as OSRM counts big components, >= 1000 vertices) and a
fragment of two vertices F1 = (-0.0004, 0) and F2 = (-0.0004, 0.001), joined to nothing.
Along the equator 0.001 degree is L = 6378137 m x pi / 180 x 0.001 = 111.3195 m.
"""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
from shapely.geometry import LineString, box

from reachplan.roads import TravelRule, graph_from_segments, snap
from reachplan.roads.osm import Segments, position_key

L_M = 6378137.0 * math.pi / 180.0 * 0.001
SIDE = 32
FRAGMENT = [((-0.0004, 0.0), (-0.0004, 0.001))]


def lattice_lines() -> list[tuple[tuple[float, float], tuple[float, float]]]:
    lines = []
    for i in range(SIDE):
        for j in range(SIDE):
            here = (round(i * 0.001, 4), round(j * 0.001, 4))
            if i + 1 < SIDE:
                lines.append((here, (round((i + 1) * 0.001, 4), here[1])))
            if j + 1 < SIDE:
                lines.append((here, (here[0], round((j + 1) * 0.001, 4))))
    return lines + FRAGMENT


def lattice_graph():
    ends = np.array(lattice_lines())  # (segment, end, lon/lat)
    u, v = ends[:, 0], ends[:, 1]
    both = np.ones(len(ends), dtype=bool)
    seg = Segments(position_key(u[:, 0], u[:, 1]), position_key(v[:, 0], v[:, 1]),
                   u[:, 0], u[:, 1], v[:, 0], v[:, 1], np.full(len(ends), 25.0), both, both)
    return graph_from_segments(seg, "car")


def pts(*lonlat: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy([p[0] for p in lonlat], [p[1] for p in lonlat]),
                         crs="EPSG:4326")


def test_a_point_joins_the_main_network_not_the_nearer_fragment():
    """P = (-0.0003, 0) is 0.1 L from F1 and 0.3 L from the lattice corner (0, 0): it joins
    the corner. From a centre at (0.005, 0): 5 L at 25 km/h, then 0.3 L on foot at 5 km/h
    (1.7366 min); joined to F1 it would be unreachable."""
    graph = lattice_graph()
    got = snap(graph, [-0.0003], [0.0])
    assert (graph.lon[got.node[0]], graph.lat[got.node[0]]) == (0.0, 0.0)
    assert got.leg_m[0] == pytest.approx(0.3 * L_M, rel=1e-9)
    assert not got.isolated[0]
    rule = TravelRule(graph, 10)
    minutes, source, off = rule.demand_minutes(pts((-0.0003, 0.0)), pts((0.005, 0.0)))
    by_hand = 5 * L_M / 1000 / 25 * 60 + 0.3 * L_M / 1000 / 5 * 60
    assert minutes[0] == pytest.approx(by_hand, rel=1e-9)
    assert source.tolist() == [0] and not off[0]


def test_minutes_equal_networkx_on_the_lattice():
    """Every vertex's minutes from a centre beside the fragment: networkx's Dijkstra on a
    graph built here from the same lines (pyproj lengths), from the corner (0, 0) after
    the 0.3 L walk; the fragment stays unreached."""
    geod = pyproj.Geod(ellps="WGS84")
    g = nx.Graph()
    for a, b in lattice_lines():
        metres = geod.inv(a[0], a[1], b[0], b[1])[2]
        g.add_edge(a, b, weight=metres / 1000 / 25 * 60)
    lengths = nx.single_source_dijkstra_path_length(g, (0.0, 0.0))
    graph = lattice_graph()
    minutes, _ = TravelRule(graph, 10).node_minutes(pts((-0.0003, 0.0)))
    leg = 0.3 * L_M / 1000 / 5 * 60
    want = np.array([lengths[(round(x, 4), round(y, 4))] + leg
                     if (round(x, 4), round(y, 4)) in lengths and x >= 0 else math.inf
                     for x, y in zip(graph.lon, graph.lat, strict=True)])
    assert np.isinf(want).sum() == 2  # F1 and F2
    np.testing.assert_array_equal(np.isinf(minutes), np.isinf(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(minutes[fin], want[fin], rtol=1e-9)


def test_no_main_road_within_reach_joins_the_fragment_and_says_so():
    """With max_snap_km 0.02 (20 m) the lattice (33 m) is out of reach: P joins F1 (11 m)
    and is isolated; a point 1 km from everything is off the network."""
    graph = lattice_graph()
    got = snap(graph, [-0.0003, 0.5], [0.0, 0.5], max_snap_km=0.02)
    assert (graph.lon[got.node[0]], graph.lat[got.node[0]]) == (-0.0004, 0.0)
    assert got.leg_m[0] == pytest.approx(0.1 * L_M, rel=1e-9)
    assert got.isolated.tolist() == [True, False]
    assert got.node[1] == -1


def test_a_graph_without_a_big_part_snaps_to_the_nearest_vertex():
    """No part reaches 1000 vertices (the lattice's first 3 rows and the fragment): the
    nearest vertex of any part, as OSRM does when no big component is in reach."""
    lines = [ab for ab in lattice_lines() if max(ab[0][1], ab[1][1]) <= 0.002]
    ends = np.array(lines)
    u, v = ends[:, 0], ends[:, 1]
    both = np.ones(len(ends), dtype=bool)
    graph = graph_from_segments(Segments(
        position_key(u[:, 0], u[:, 1]), position_key(v[:, 0], v[:, 1]), u[:, 0], u[:, 1],
        v[:, 0], v[:, 1], np.full(len(ends), 25.0), both, both), "car")
    got = snap(graph, [-0.0003], [0.0])
    assert (graph.lon[got.node[0]], graph.lat[got.node[0]]) == (-0.0004, 0.0)
    assert not got.isolated[0]


@pytest.fixture
def lattice_files(tmp_path):
    """The lattice as a GeoJSON line layer (kmh 25), one district over it all, and three
    centres: on the lattice, beside the fragment (22 m from F1, 50 m from the lattice) and
    far from every road."""
    shapes = [LineString(ab) for ab in lattice_lines()]
    lines = gpd.GeoDataFrame({"kmh": [25.0] * len(shapes)}, geometry=shapes, crs="EPSG:4326")
    lines.to_file(tmp_path / "roads.geojson")
    gpd.GeoDataFrame({"id": ["all"]}, geometry=[box(-0.01, -0.01, 0.2, 0.2)],
                     crs="EPSG:4326").to_file(tmp_path / "d.geojson")
    (tmp_path / "c.csv").write_text("name,lat,lon\nmain,0.0,0.005\nbeside,0.0002,-0.0004\n"
                                    "far,0.15,0.15\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("command", [["coverage"], ["gaps"], ["check", "--min-percent", "0"]])
def test_commands_warn_of_off_network_and_isolated_centres(command, lattice_files, runner):
    from reachplan.cli.main import cli

    base = [str(lattice_files / "d.geojson"), str(lattice_files / "c.csv"), "--id-col", "id",
            "--roads", str(lattice_files / "roads.geojson"), "--speed-col", "kmh",
            "--travel-minutes", "10", "--max-snap-km", "0.03"]
    res = runner.invoke(cli, [*command[:1], *base, *command[1:]])
    assert res.exit_code == 0, res.output
    lines = res.stderr.splitlines()
    off = [line for line in lines if "off the network" in line]
    isolated = [line for line in lines if "isolated" in line]
    assert len(off) == 1 and "1 of 3 centres" in off[0]
    assert off[0].rsplit(": ", 1)[1] == "far (line 4)"
    assert len(isolated) == 1 and "1 of 3 centres" in isolated[0]
    assert isolated[0].rsplit(": ", 1)[1] == "beside (line 3)"


def long_roads(seed: int):
    """A jittered lattice of 1.1 km links (longer than the 100 m pieces the index cuts),
    a fifth one-way, random speeds: segments and the graph."""
    rng = np.random.default_rng(seed)
    side = 6
    x, y = (a.ravel() for a in np.meshgrid(np.arange(side), np.arange(side), indexing="ij"))
    lon = (x + rng.uniform(-0.3, 0.3, x.size)) * 0.01
    lat = (y + rng.uniform(-0.3, 0.3, y.size)) * 0.01
    u = np.r_[np.flatnonzero(x + 1 < side), np.flatnonzero(y + 1 < side)]
    v = np.r_[u[: (side - 1) * side] + side, u[(side - 1) * side:] + 1]
    both = rng.random(len(u)) >= 0.2
    seg = Segments(position_key(lon[u], lat[u]), position_key(lon[v], lat[v]), lon[u],
                   lat[u], lon[v], lat[v], rng.choice([20.0, 50.0], len(u)),
                   np.ones(len(u), dtype=bool), both)
    return seg, graph_from_segments(seg, "car")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_points_join_their_brute_force_nearest_road_point(seed):
    """Random points beside long segments: the leg is the brute-force nearest distance over
    every segment, and a demand point's minutes from a centre are networkx's on the segments
    with the centre and the point spliced into theirs (the segment's minutes split there)."""
    from _reference import brute_nearest_segment

    seg, graph = long_roads(seed)
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(-0.005, 0.055, 12), rng.uniform(-0.005, 0.055, 12)
    got = snap(graph, lon, lat)
    ends = np.column_stack([seg.u_lon, seg.u_lat, seg.v_lon, seg.v_lat])
    found = [brute_nearest_segment(x, y, ends) for x, y in zip(lon, lat, strict=True)]
    np.testing.assert_allclose(got.leg_m, [f[2] for f in found], rtol=1e-9, atol=1e-6)
    # centre = point 0; every other point's minutes on the spliced reference graph
    g = nx.DiGraph()
    cuts: dict[int, list] = {}
    for i, (k, f, _) in enumerate(found):
        cuts.setdefault(k, []).append((f, i))
    geod = pyproj.Geod(ellps="WGS84")
    for k in range(len(ends)):
        a, b = ("v", seg.u_id[k]), ("v", seg.v_id[k])
        w = geod.inv(*ends[k])[2] / 1000 / seg.kmh[k] * 60
        for f, i in cuts.get(k, []):  # a point at a vertex is that vertex, free both ways
            if f <= 0 or f >= 1:
                g.add_edge(("p", i), a if f <= 0 else b, weight=0.0)
                g.add_edge(a if f <= 0 else b, ("p", i), weight=0.0)
        inner = sorted((f, i) for f, i in cuts.get(k, []) if 0 < f < 1)
        path = [(0.0, a), *[(f, ("p", i)) for f, i in inner], (1.0, b)]
        for (fp, p), (fq, q) in zip(path[:-1], path[1:], strict=True):
            g.add_edge(p, q, weight=(fq - fp) * w)
            if seg.backward[k]:
                g.add_edge(q, p, weight=(fq - fp) * w)
    lengths = nx.single_source_dijkstra_path_length(g, ("p", 0))
    leg = np.array([f[2] for f in found]) / 1000 / 5 * 60
    want = np.array([lengths.get(("p", i), np.inf) + leg[0] + leg[i] for i in range(12)])
    rule = TravelRule(graph, 60)
    minutes, _, _ = rule.demand_minutes(pts(*zip(lon, lat, strict=True)), pts((lon[0], lat[0])))
    np.testing.assert_array_equal(np.isinf(minutes), np.isinf(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(minutes[fin], want[fin], rtol=1e-9, atol=1e-9)
