"""Snapping from indexes of the segments near the points only (issue 22) against the whole
index and against a brute force over every segment: the same segment, fraction and leg,
bit for bit, for points beside roads, between far-apart roads, beyond ``max_snap_km`` (found
farther out, their true leg kept) and beside a small fragment only (isolated)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from reachplan.roads import graph_from_segments, snap, snapping
from reachplan.roads.osm import Segments, position_key


def roads(seed: int):
    """Two lattices 0.4° apart (1.1 km links with bends, some 3.3 km straight ones, longer
    than the local index's 2 km bound) and a two-vertex fragment between them."""
    rng = np.random.default_rng(seed)
    lines = []
    for x0 in (0.0, 0.4):
        side = 33  # 1,089 vertices: main network (>= 1000)
        x, y = (a.ravel() for a in np.meshgrid(np.arange(side), np.arange(side),
                                               indexing="ij"))
        lon = x0 + (x + rng.uniform(-0.3, 0.3, x.size)) * 0.01
        lat = 20.0 + (y + rng.uniform(-0.3, 0.3, y.size)) * 0.01
        u = np.r_[np.flatnonzero(x + 1 < side), np.flatnonzero(y + 1 < side)]
        v = np.r_[u[: (side - 1) * side] + side, u[(side - 1) * side:] + 1]
        keep = rng.random(len(u)) >= 0.1
        lines += [(lon[a], lat[a], lon[b], lat[b]) for a, b in zip(u[keep], v[keep],
                                                                    strict=True)]
        for k in range(0, side - 3, 5):  # long straight roads across each lattice
            lines.append((lon[k * side], lat[k * side], lon[(k + 3) * side + 2],
                          lat[(k + 3) * side + 2]))
    lines.append((0.37, 20.1, 0.3705, 20.1005))  # the fragment
    ends = np.asarray(lines)
    n = len(ends)
    seg = Segments(position_key(ends[:, 0], ends[:, 1]), position_key(ends[:, 2], ends[:, 3]),
                   ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3],
                   rng.choice([20.0, 50.0], n), np.ones(n, dtype=bool),
                   rng.random(n) >= 0.2)
    return ends, graph_from_segments(seg, "car")


def same(a, b) -> None:
    for name in ("node", "leg_m", "leg_min", "isolated", "pos", "frac"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("max_snap_km", [0.3, 2.0])
@pytest.mark.parametrize("chunk", [97, 1 << 20])  # passes over vertices, positions in chunks
def test_local_indexes_give_the_whole_index_answer(monkeypatch, seed, max_snap_km, chunk):
    from _reference import brute_nearest_segment

    monkeypatch.setattr(snapping, "_CHUNK", chunk)
    ends, graph = roads(seed)
    rng = np.random.default_rng(seed)
    lon = np.concatenate([rng.uniform(-0.02, 0.75, 60), [0.3702, 0.3702, 1.1, 0.55]])
    lat = np.concatenate([rng.uniform(19.98, 20.34, 60), [20.1002, 20.103, 20.1, 21.0]])
    monkeypatch.setattr(snapping, "_LOCAL_SHARE", 2.0)  # always the local indexes
    local = snap(graph, lon, lat, max_snap_km=max_snap_km)
    monkeypatch.setattr(snapping, "_LOCAL_SHARE", -1.0)  # always the whole index
    snapping._INDEX.clear()
    whole = snap(graph, lon, lat, max_snap_km=max_snap_km)
    same(local, whole)
    # the legs are the brute force's over every segment, however far (off-network points
    # keep their true distance)
    want = [brute_nearest_segment(x, y, ends)[2] for x, y in zip(lon, lat, strict=True)]
    np.testing.assert_allclose(local.leg_m, want, rtol=1e-9, atol=1e-6)
    assert local.off_network.any() and (~local.off_network).any()
    if max_snap_km == 0.3:
        assert local.isolated.any()  # beside the fragment only


def test_a_local_index_holds_the_segments_near_its_points_only():
    ends, graph = roads(3)
    start = graph.chains.starts()
    near = snapping._near_starts(graph, "every", snapping._in_boxes(
        graph, np.array([0.1]), np.array([20.1]), np.array([300.0])))
    assert near is not None and 0 < len(near) < len(start) / 4
    # every segment with an end within 300 m + its length of the point is in it
    from _reference import GEOD

    u, v = graph.chains.vertex[start], graph.chains.vertex[start + 1]
    du = GEOD.inv(np.full(len(u), 0.1), np.full(len(u), 20.1), graph.lon[u], graph.lat[u])[2]
    length = GEOD.inv(graph.lon[u], graph.lat[u], graph.lon[v], graph.lat[v])[2]
    assert set(start[du <= 300.0 + length].tolist()) <= set(near.tolist())


@pytest.mark.parametrize("seed", range(60))
def test_main_segments_have_both_vertices_in_a_big_strong_part(monkeypatch, seed):
    """The main network found per chain of the compressed graph against networkx's strongly
    connected components of the uncompressed graph (one-way chains, rings, small parts): a
    segment is main when both its vertices are in a part of >= SMALL_COMPONENT vertices;
    no part is preferred when every segment is main or none is."""
    from _roads_random import random_graph

    rng = np.random.default_rng(seed)
    graph = random_graph(rng, rings=0.3, oneway=float(rng.choice([0.3, 0.8])))
    if graph is None:
        pytest.skip("no segment")
    small = int(rng.integers(2, 9))  # (an inner vertex alone is a part: never main)
    monkeypatch.setattr(snapping, "SMALL_COMPONENT", small)
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    coo = graph.matrix.tocoo()
    g.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    big = set().union(*(c for c in nx.strongly_connected_components(g) if len(c) >= small))
    ch = graph.chains
    start = ch.starts()
    want = np.array([a in big and b in big for a, b in zip(ch.vertex[start].tolist(),
                                                            ch.vertex[start + 1].tolist(),
                                                            strict=True)])
    found = snapping._main_chains(graph)
    if want.all() or not want.any():
        assert found is None
    else:
        assert found is not None
        np.testing.assert_array_equal(np.repeat(found[0], np.diff(ch.ptr) - 1), want)
        assert found[1] == want.sum()


@pytest.mark.parametrize("chunk", [1, 2, 7, 1 << 20])
@pytest.mark.parametrize("few", [0, 20_000])
def test_long_segments_are_those_whose_bound_is_over_the_limit(monkeypatch, chunk, few):
    """The graph's limit L is the least of 250, 500, 1000 and 2000 m that leaves at most
    _LONG_FEW segments (and 1 %) longer by the bound of their straight lon/lat line
    (6,399,594 m a radian), else 2000 m; the long ones are every segment over it, found chunk
    by chunk of positions (a chain's last position and the next chain's first are no segment,
    however far apart)."""
    monkeypatch.setattr(snapping, "_CHUNK", chunk)
    monkeypatch.setattr(snapping, "_LONG_FEW", few)
    _, graph = roads(4)
    ch = graph.chains
    start = ch.starts()
    u, v = ch.vertex[start], ch.vertex[start + 1]
    bound = 6_399_594.0 * np.hypot(np.radians(graph.lat[v] - graph.lat[u]),
                                   np.radians(graph.lon[v] - graph.lon[u]))
    # links of 1.1 km with bends: 1 % of the segments is over 1 km, none over 2 km but the
    # long straight roads
    assert (bound > 1000.0).sum() > len(start) / 100 >= (bound > 2000.0).sum() > 0
    limit, long = snapping._long(graph)
    assert limit == 2000.0
    np.testing.assert_array_equal(long, start[bound > 2000.0])


def fine_roads(seed: int, gap: bool = False):
    """A 40 x 40 lattice of 0.002-degree links (222 m; 10 % missing, some one-way) and two
    short fragments 600 m and 1.5 km off its corner; ``gap``: no links in a 2.2 km square
    of its middle."""
    rng = np.random.default_rng(seed)
    side = 40
    x, y = (a.ravel() for a in np.meshgrid(np.arange(side), np.arange(side), indexing="ij"))
    lon, lat = x * 0.002, 10.0 + y * 0.002
    u = np.r_[np.flatnonzero(x + 1 < side), np.flatnonzero(y + 1 < side)]
    v = np.r_[u[: (side - 1) * side] + side, u[(side - 1) * side:] + 1]
    keep = rng.random(len(u)) >= 0.1
    if gap:
        keep &= ~((np.abs(x[u] - 20) < 6) & (np.abs(y[u] - 20) < 6))
    ends = np.c_[lon[u], lat[u], lon[v], lat[v]][keep]
    ends = np.r_[ends, [[-0.005, 9.995, -0.0052, 9.9951], [-0.012, 9.99, -0.0121, 9.9899]]]
    n = len(ends)
    seg = Segments(position_key(ends[:, 0], ends[:, 1]), position_key(ends[:, 2], ends[:, 3]),
                   ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3], np.full(n, 30.0),
                   np.ones(n, dtype=bool), rng.random(n) >= 0.2)
    return ends, graph_from_segments(seg, "car")


def test_the_limit_is_the_least_that_leaves_few_longer():
    """The fine lattice's links are 222 m (bound 223 m): none over 250 m."""
    _, graph = fine_roads(0)
    limit, long = snapping._long(graph)
    assert limit == 250.0 and len(long) == 0


@pytest.mark.parametrize("seed", [5, 6, 7])
@pytest.mark.parametrize("max_snap_km", [0.1, 0.7, 2.0])
def test_small_local_indexes_asked_farther_give_the_whole_index_answer(monkeypatch, seed,
                                                                       max_snap_km):
    """With L = 250 m, points 0 to 5 km from the roads (in the lattice's 2.2 km gap, beside
    the fragments, beyond it) are decided at 250 m, 1 km, 2 km or farther: the whole index's
    answer bit for bit, and the brute force's legs."""
    from _reference import brute_nearest_segment

    ends, graph = fine_roads(seed, gap=True)
    rng = np.random.default_rng(seed)
    lon = np.r_[rng.uniform(-0.05, 0.13, 50), rng.uniform(0.03, 0.05, 20), -0.0051, -0.0125]
    lat = np.r_[rng.uniform(9.95, 10.13, 50), rng.uniform(10.03, 10.05, 20), 9.9951, 9.9895]
    monkeypatch.setattr(snapping, "SMALL_COMPONENT", 100)
    local = snap(graph, lon, lat, max_snap_km=max_snap_km)
    monkeypatch.setattr(snapping, "_LOCAL_SHARE", -1.0)  # always the whole index
    whole = snap(graph, lon, lat, max_snap_km=max_snap_km)
    same(local, whole)
    # the brute force: over the main network's segments (both vertices in a strongly
    # connected part of >= 100 vertices, by networkx), else over every segment
    g = nx.DiGraph()
    coo = graph.matrix.tocoo()
    g.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    big = set().union(*(c for c in nx.strongly_connected_components(g) if len(c) >= 100))
    start = graph.chains.starts()
    u, v = graph.chains.vertex[start], graph.chains.vertex[start + 1]
    rows = np.c_[graph.lon[u], graph.lat[u], graph.lon[v], graph.lat[v]]
    main = rows[[a in big and b in big for a, b in zip(u.tolist(), v.tolist(), strict=True)]]
    on_main = np.array([brute_nearest_segment(x, y, main)[2]
                        for x, y in zip(lon, lat, strict=True)])
    anywhere = np.array([brute_nearest_segment(x, y, ends)[2]
                         for x, y in zip(lon, lat, strict=True)])
    isolated = on_main > max_snap_km * 1000.0
    np.testing.assert_array_equal(local.isolated | local.off_network, isolated)
    np.testing.assert_allclose(local.leg_m, np.where(isolated, anywhere, on_main),
                               rtol=1e-9, atol=1e-6)
    legs = local.leg_m[~local.off_network]
    assert (legs > 1000).any() or max_snap_km < 1  # decided past the first radii
    assert local.off_network.any() and (local.isolated.any() or max_snap_km == 2.0)
