"""The sparse reach table (roads/reach.py) against the dense rows it replaces.

For plan's candidate matrix, each centre's cost to a district is the least (minutes to an
access vertex + off-road leg) within T. The reference here is the dense path, written out:
every centre's full row over every road vertex (:func:`reachplan.roads.search`), read at every
access entry, the least per district; and those rows are themselves checked against networkx on
the uncompressed graph. The two must agree exactly (same pairs, same minutes to the bit).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from _roads_random import random_graph
from hypothesis import given, settings
from hypothesis import strategies as st

from reachplan.roads import graph_from_segments, search
from reachplan.roads.osm import Segments, position_key
from reachplan.roads.reach import district_pairs
from reachplan.roads.snapping import Snapped
from reachplan.roads.travel import DistrictAccess


def random_access(rng: np.random.Generator, n_nodes: int, n_districts: int) -> DistrictAccess:
    """Each district entered from a few road vertices, inside (leg 0) or from outside."""
    district = np.sort(rng.integers(0, n_districts, int(rng.integers(1, 3 * n_nodes))))
    node = rng.integers(0, n_nodes, len(district))
    leg = np.where(rng.random(len(node)) < 0.5, 0.0, np.round(rng.random(len(node)) * 5, 3))
    return DistrictAccess(district, node, leg, leg == 0, n_districts)


def least(out: dict, where, centre: int, cost, limit: float) -> None:
    """Keep in ``out`` the least finite cost within ``limit`` per (where, centre)."""
    for w, k in zip(np.asarray(where).tolist(), np.asarray(cost).tolist(), strict=True):
        if k <= limit and k < out.get((w, centre), np.inf):
            out[(w, centre)] = k


def dense(graph, centers, access, limit):
    """The dense path: full rows, read at every access entry, least per district."""
    out: dict = {}
    for centres, rows in search(graph, centers, limit=limit):
        for c, row in zip(centres.tolist(), rows, strict=True):
            least(out, access.district, c, row[access.node] + access.leg_min, limit)
    return out


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 10**6))
def test_sparse_pairs_equal_the_dense_rows(seed):
    rng = np.random.default_rng(seed)
    graph = random_graph(rng)
    if graph is None:
        return
    n = graph.n_nodes
    k = int(rng.integers(1, 6))
    node = rng.integers(-1, n, k)  # -1: a centre off the network
    centers = Snapped(node, np.zeros(k), np.where(node >= 0, rng.random(k), np.inf))
    access = random_access(rng, n, int(rng.integers(1, 6)))
    limit = float(rng.choice([0.5, 2.0, 5.0, np.inf]))
    d, c, cost = district_pairs(graph, centers, access, limit=limit)
    got = {(int(a), int(b)): float(x) for a, b, x in zip(d, c, cost, strict=True)}
    assert len(got) == len(d)  # one per pair
    assert got == dense(graph, centers, access, limit)  # exactly, not approximately


def test_dense_rows_match_networkx_on_a_random_graph():
    """The reference itself: a centre at a vertex, its row equals networkx's lengths (plus the
    centre's leg) on the uncompressed graph."""
    rng = np.random.default_rng(3)
    graph = None
    while graph is None or graph.n_nodes < 10:
        graph = random_graph(rng)
    m = graph.matrix.tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    g.add_weighted_edges_from(zip(m.row.tolist(), m.col.tolist(), m.data.tolist(),
                                  strict=True))
    centers = Snapped(np.arange(graph.n_nodes), np.zeros(graph.n_nodes),
                      np.full(graph.n_nodes, 0.25))
    for centres, rows in search(graph, centers, limit=np.inf):
        for c, row in zip(centres.tolist(), rows, strict=True):
            want = np.full(graph.n_nodes, np.inf)
            for t, x in nx.single_source_dijkstra_path_length(g, c).items():
                want[t] = x + 0.25
            np.testing.assert_allclose(row, want, rtol=1e-12)


def test_a_centre_on_a_chain_reaches_a_district_straight_along_it():
    """A straight two-way road of 5 vertices 0.001 degree apart (kept only at its ends): a
    centre on vertex 2 reaches the district entered at vertex 3 along the chain, with the
    minutes of one segment plus its leg, not via the far end."""
    lon = np.round(np.arange(5) * 0.001, 4)
    lat = np.zeros(5)
    seg = Segments(position_key(lon[:-1], lat[:-1]), position_key(lon[1:], lat[1:]),
                   lon[:-1], lat[:-1], lon[1:], lat[1:], np.full(4, 30.0),
                   np.ones(4, dtype=bool), np.ones(4, dtype=bool))
    graph = graph_from_segments(seg, "car")
    assert graph.n_kept == 2
    centers = Snapped(np.array([2]), np.zeros(1), np.array([0.5]))
    access = DistrictAccess(np.array([0]), np.array([3]), np.array([1.0]), np.array([False]), 1)
    d, c, cost = district_pairs(graph, centers, access, limit=np.inf)
    one = float(graph.matrix[2, 3])  # ~111 m at 30 km/h
    assert d.tolist() == [0] and c.tolist() == [0]
    assert cost[0] == (0.5 + one) + 1.0


def dense_points(graph, centers, points, limit):
    """Points the dense way: each centre's full row at both vertices of each point's segment
    (plus the way along it), then the point's leg, or straight along the chain from a centre
    on the same chain (travel._direct); least per (point, centre)."""
    from reachplan.roads.travel import _direct, _sides

    on = np.flatnonzero(points.node >= 0)
    out: dict = {}
    for centres, rows in search(graph, centers, limit=limit):
        for c, row in zip(centres.tolist(), rows, strict=True):
            for vtx, off in _sides(graph, points, on):
                least(out, on, c, row[vtx] + off + points.leg_min[on], limit)
    centre, point, road = _direct(graph, centers, points, on)
    for i, c in enumerate(centre.tolist()):
        p = on[point[i:i + 1]]
        least(out, p, c, road[i:i + 1] + points.leg_min[p], limit)
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10**6))
def test_point_pairs_equal_the_dense_rows(seed):
    """travel.point_pairs (sparse) against the dense rows, for points between vertices (on
    segments, some of them one-way) and at vertices; centres at vertices, some inside the
    chain a point is on."""
    from reachplan.roads import snap
    from reachplan.roads.travel import point_pairs

    rng = np.random.default_rng(seed)
    graph = random_graph(rng)
    if graph is None:
        return
    n = graph.n_nodes
    k = int(rng.integers(1, 5))
    centers = Snapped(rng.integers(0, n, k), np.zeros(k), rng.random(k))
    m = int(rng.integers(1, 8))
    points = snap(graph, rng.random(m) * 0.03, rng.random(m) * 0.03)
    limit = float(rng.choice([0.5, 2.0, 5.0]))
    p, c, cost = point_pairs(graph, centers, points, limit=limit)
    got = {(int(a), int(b)): float(x) for a, b, x in zip(p, c, cost, strict=True)}
    assert got == dense_points(graph, centers, points, limit)
