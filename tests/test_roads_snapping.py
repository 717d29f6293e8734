"""Snapping to the main road network, not to a tiny fragment a few metres nearer.

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
