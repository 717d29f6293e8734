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


def vertex_centres(rng, n: int, k: int) -> Snapped:
    """``k`` centres at random road vertices, -1 (off the network) among them, with random
    off-road legs."""
    node = rng.integers(-1, n, k)
    return Snapped(node, np.zeros(k), np.where(node >= 0, rng.random(k), np.inf))


def random_case(seed: int, max_centres: int):
    """A random graph, 1 to ``max_centres - 1`` centres at its vertices, 1 to 5 districts'
    access and a limit (None when the graph came out empty)."""
    rng = np.random.default_rng(seed)
    graph = random_graph(rng)
    if graph is None:
        return None
    n = graph.n_nodes
    k = int(rng.integers(1, max_centres))
    centers = vertex_centres(rng, n, k)
    access = random_access(rng, n, int(rng.integers(1, 6)))
    return graph, centers, access, float(rng.choice([0.5, 2.0, 5.0, np.inf]))


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 10**6))
def test_sparse_pairs_equal_the_dense_rows(seed):
    case = random_case(seed, 6)
    if case is None:
        return
    graph, centers, access, limit = case
    # the centres' way: the same sums in the same order as the dense rows ("auto" may take
    # the districts' way, equal to 1e-9 only: test_district_searches_*)
    d, c, cost = district_pairs(graph, centers, access, limit=limit, direction="centres")
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


# -- one search per district (reach._by_district) -------------------------------------------


def close_pairs(got: dict, want: dict, limit: float) -> None:
    """Minutes equal to 1e-9 relative; the same pairs except those within 1e-9 * T of T
    (sums in another order may fall either side of T)."""
    edge = 1e-9 * limit if np.isfinite(limit) else 0.0
    for pair in set(got) ^ set(want):
        x = got.get(pair, want.get(pair))
        assert x >= limit - edge, (pair, x)
    for pair in set(got) & set(want):
        np.testing.assert_allclose(got[pair], want[pair], rtol=1e-9, atol=0)


def as_dict(d, c, cost) -> dict:
    out = {(int(a), int(b)): float(x) for a, b, x in zip(d, c, cost, strict=True)}
    assert len(out) == len(d)  # one per pair
    return out


def nx_pairs(graph, centers, access, limit) -> dict:
    """Centres at road vertices: networkx lengths on the uncompressed graph, plus the
    centre's leg and the entry's leg, least per (district, centre) within ``limit``."""
    m = graph.matrix.tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    g.add_weighted_edges_from(zip(m.row.tolist(), m.col.tolist(), m.data.tolist(),
                                  strict=True))
    out: dict = {}
    for c, (node, leg) in enumerate(zip(centers.node.tolist(), centers.leg_min.tolist(),
                                        strict=True)):
        if node < 0:
            continue
        far = nx.single_source_dijkstra_path_length(g, node)
        row = np.array([far.get(v, np.inf) for v in range(graph.n_nodes)]) + leg
        least(out, access.district, c, row[access.node] + access.leg_min, limit)
    return out


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6))
def test_district_searches_equal_the_centre_searches(seed):
    """Centres between vertices (snapped, some on one-way chains, some on the chain of an
    access vertex) and at vertices (some off the network), districts some with no way in:
    one search per district gives the centres' answers to 1e-9."""
    from reachplan.roads import snap

    rng = np.random.default_rng(seed)
    graph = random_graph(rng)
    if graph is None:
        return
    n = graph.n_nodes
    k = int(rng.integers(1, 40))
    if rng.random() < 0.5:
        centers = snap(graph, rng.random(k) * 0.03, rng.random(k) * 0.03)
    else:
        centers = vertex_centres(rng, n, k)
    access = random_access(rng, n, int(rng.integers(1, 8)))
    limit = float(rng.choice([0.5, 2.0, 5.0, np.inf]))
    fwd = as_dict(*district_pairs(graph, centers, access, limit=limit, direction="centres"))
    rev = as_dict(*district_pairs(graph, centers, access, limit=limit,
                                  direction="districts"))
    close_pairs(rev, fwd, limit)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6))
def test_district_searches_match_networkx(seed):
    case = random_case(seed, 12)
    if case is None:
        return
    graph, centers, access, limit = case
    rev = as_dict(*district_pairs(graph, centers, access, limit=limit,
                                  direction="districts"))
    close_pairs(rev, nx_pairs(graph, centers, access, limit), limit)


def ring_and_spur():
    """A closed two-way ring of 6 vertices (one chain from its lowest vertex back to it) and
    a one-way spur of 4 vertices leading away from ring vertex 3 (a one-way chain)."""
    ang = np.arange(6) * np.pi / 3
    lon = np.round(np.r_[0.01 * np.cos(ang), 0.01 * np.cos(np.pi) - 0.005 * np.arange(1, 4)],
                   4)
    lat = np.round(np.r_[0.01 * np.sin(ang), np.zeros(3)], 4)
    u = np.r_[np.arange(6), 3, 6, 7]
    v = np.r_[(np.arange(6) + 1) % 6, 6, 7, 8]
    fwd = np.ones(len(u), dtype=bool)
    bwd = np.r_[np.ones(6, dtype=bool), np.zeros(3, dtype=bool)]
    seg = Segments(position_key(lon[u], lat[u]), position_key(lon[v], lat[v]), lon[u], lat[u],
                   lon[v], lat[v], np.full(len(u), 30.0), fwd, bwd)
    return graph_from_segments(seg, "car")


def test_district_searches_on_a_ring_and_a_one_way_spur():
    """Centres at every vertex of a ring and a one-way spur and between vertices; districts
    entered on the ring's chain (with a centre on it), at the spur's far end (reached only
    downhill), and one with no way in: the districts' way against networkx and the centres'
    way."""
    from reachplan.roads import snap

    graph = ring_and_spur()
    n = graph.n_nodes
    assert n == 9
    node = np.r_[np.arange(n), -1]
    at = Snapped(node, np.zeros(len(node)), np.where(node >= 0, 0.1, np.inf))
    between = snap(graph, graph.lon[:-1] * 0.5 + graph.lon[1:] * 0.5,
                   graph.lat[:-1] * 0.5 + graph.lat[1:] * 0.5)
    far = int(np.argmin(graph.lon))  # the spur's far end
    ring = [v for v in range(n) if abs(graph.lat[v]) > 1e-6][:2]
    access = DistrictAccess(np.array([0, 0, 1, 1]), np.array([ring[0], ring[1], far, far]),
                            np.array([0.0, 0.5, 0.0, 2.0]), np.array([True, False, True,
                                                                       False]), 3)
    for limit in (1.0, 3.0, np.inf):
        rev = as_dict(*district_pairs(graph, at, access, limit=limit, direction="districts"))
        close_pairs(rev, nx_pairs(graph, at, access, limit), limit)
        assert not any(d == 2 for d, _ in rev)  # no way in: never reached
        for centers in (at, between):
            fwd = as_dict(*district_pairs(graph, centers, access, limit=limit,
                                          direction="centres"))
            rev = as_dict(*district_pairs(graph, centers, access, limit=limit,
                                          direction="districts"))
            close_pairs(rev, fwd, limit)
    # from the spur's far end (one-way away from the ring) nothing on the ring is reached
    rev = as_dict(*district_pairs(graph, at, access, limit=np.inf, direction="districts"))
    assert (0, far) not in rev and (1, far) in rev


def test_many_centres_search_from_the_districts(monkeypatch):
    """auto: the districts' way only when the centres outnumber the districts with a way in
    more than _BY_DISTRICT times; a bad direction is a one-line error naming it."""
    import pytest

    from reachplan.roads import reach

    graph = ring_and_spur()
    access = DistrictAccess(np.array([0, 1]), np.array([0, 8]), np.zeros(2),
                            np.ones(2, dtype=bool), 5)
    used = []
    real = reach._by_district
    monkeypatch.setattr(reach, "_by_district",
                        lambda *a, **k: used.append(1) or real(*a, **k))
    few = reach._BY_DISTRICT * 2
    for k, want in ((few, 0), (few + 1, 1)):
        node = np.arange(k) % graph.n_nodes
        centers = Snapped(node, np.zeros(k), np.full(k, 0.1))
        district_pairs(graph, centers, access, limit=np.inf)
        assert len(used) == want
    with pytest.raises(ValueError, match="direction"):
        district_pairs(graph, centers, access, limit=1.0, direction="both")
