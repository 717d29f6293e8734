"""The compressed road graph (chains of pass-through vertices as one edge) gives the minutes
of the uncompressed graph: between kept vertices, to every vertex, and from centres.

References are independent: networkx's Dijkstra on the uncompressed segments (one edge per
road segment, read from the graph's ``matrix`` or built here from the segments), and
scipy's Dijkstra on that uncompressed matrix; random graphs are made of random ways (random
vertex sequences, some one-way), so they hold chains, rings, parallel roads and junctions.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from reachplan.roads import (
    Snapped,
    graph_from_segments,
    load_roads,
    nearest_minutes,
    search,
    snap,
    travel,
)
from reachplan.roads import chains as chains_module
from reachplan.roads import compress as compress_module
from reachplan.roads import graph as graph_module
from reachplan.roads.chains import expand
from reachplan.roads.compress import _path_ends, compress, compress_segments
from reachplan.roads.osm import Segments, position_key

ROADS = Path(__file__).parent / "fixtures" / "roads"
REL = 1e-9


def close(got: np.ndarray, want: np.ndarray) -> None:
    """Same reach (inf where inf) and minutes equal to 1e-9 relative."""
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=REL, atol=1e-12)


def random_ways(seed: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Unique directed edges (rows, cols, minutes) of random ways over n vertices."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 80))
    edges: dict[tuple[int, int], float] = {}
    for _ in range(int(rng.integers(1, 20))):
        way = rng.choice(n, size=min(n, int(rng.integers(2, 15))), replace=False)
        if rng.random() < 0.15:  # a closed way (a ring, or a loop from a junction)
            way = np.append(way, way[0])
        oneway = rng.random() < 0.3
        for a, b in zip(way[:-1].tolist(), way[1:].tolist(), strict=True):
            if a == b:
                continue
            w = float(rng.choice([0.0, rng.random() * 3]) if rng.random() < 0.05
                      else rng.random() * 3)
            for key in [(a, b)] + ([] if oneway else [(b, a)]):
                edges[key] = min(edges.get(key, np.inf), w)
    rows, cols = (np.array(x, dtype=np.int64) for x in zip(*edges, strict=True))
    return n, rows, cols, np.array(list(edges.values()))


def networkx_all(n: int, rows, cols, cost) -> np.ndarray:
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(rows.tolist(), cols.tolist(), cost.tolist(), strict=True))
    out = np.full((n, n), np.inf)
    for s, lengths in nx.all_pairs_dijkstra_path_length(g):
        for t, d in lengths.items():
            out[s, t] = d
    return out


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6))
def test_kept_and_all_vertices_as_uncompressed(seed):
    n, rows, cols, cost = random_ways(seed)
    chains, kept, core = compress(rows, cols, cost, n)
    want = networkx_all(n, rows, cols, cost)
    close(dijkstra(core), want[np.ix_(kept, kept)])  # between kept vertices
    close(expand(chains, kept, dijkstra(core), n)[0], want[kept])  # to every vertex
    # every segment once, every vertex on some chain or kept
    pairs = np.unique(np.minimum(rows, cols) * n + np.maximum(rows, cols))
    assert chains.n_segments == len(pairs)
    assert set(np.concatenate([kept, chains.vertex]).tolist()) == set(range(n)) - (
        set(range(n)) - set(rows.tolist()) - set(cols.tolist()) - set(kept.tolist()))


@pytest.mark.parametrize("seed", range(0, 60, 3))
def test_expand_in_slices(seed, monkeypatch):
    """Expanded in slices of a few chain positions (as an India-sized graph is, 2^20 at a
    time), every vertex's minutes and sources are those of one pass, and networkx's."""
    n, rows, cols, cost = random_ways(seed)
    chains, kept, core = compress(rows, cols, cost, n)
    t = dijkstra(core, indices=[0, len(kept) - 1])
    src_kept = np.tile(np.arange(len(kept)), (2, 1))
    whole, whole_src = expand(chains, kept, t, n, src_kept)
    monkeypatch.setattr(chains_module, "_POSITIONS", 3)
    sliced, sliced_src = expand(chains, kept, t, n, src_kept)
    np.testing.assert_array_equal(sliced, whole)
    np.testing.assert_array_equal(sliced_src, whole_src)
    close(sliced[0], networkx_all(n, rows, cols, cost)[kept[0]])


@pytest.mark.parametrize("seed", range(0, 60, 3))
def test_compress_in_slices_from_a_future(seed, monkeypatch):
    """Parallel segments merged and paths jumped in slices of a few (as an India-sized graph's
    are, 2^20 at a time), the minutes given as a future (graph.py computes them while the
    chains are found): the same chains, kept vertices and core as in one pass."""
    n, rows, cols, cost = random_ways(seed)
    rng = np.random.default_rng(seed)
    twice = rng.random(len(rows)) < 0.3  # parallel segments, some quicker, some one-way
    u, v = np.r_[rows, cols[twice]], np.r_[cols, rows[twice]]
    w = np.r_[cost, cost[twice] * rng.choice([0.5, 1.0, 2.0], int(twice.sum()))]
    fwd, bwd = np.ones(len(u), dtype=bool), rng.random(len(u)) < 0.5
    whole = compress_segments([u, v, w, fwd, bwd], n)
    monkeypatch.setattr(compress_module, "_POSITIONS", 2)
    future: Future = Future()
    future.set_result(w)
    sliced = compress_segments([u, v, future, fwd, bwd], n)
    for a, b in [(whole[0].ptr, sliced[0].ptr), (whole[0].vertex, sliced[0].vertex),
                 (whole[0].fwd, sliced[0].fwd), (whole[0].bwd, sliced[0].bwd),
                 (whole[1], sliced[1]), (whole[2].indptr, sliced[2].indptr),
                 (whole[2].indices, sliced[2].indices), (whole[2].data, sliced[2].data)]:
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_a_road_with_bends_is_one_edge():
    """A two-way road 0-1-2-3 (bends at 1 and 2), two-way links 3-4 and 3-5, and a one-way
    road 5 -> 6 -> 7 -> 3: kept are 0 and 4 (dead ends), 3 and 5 (junctions); 8 segments in
    4 chains."""
    rows = np.array([0, 1, 1, 2, 2, 3, 3, 4, 3, 5, 5, 6, 7])
    cols = np.array([1, 0, 2, 1, 3, 2, 4, 3, 5, 3, 6, 7, 3])
    cost = np.array([1.0, 1.0, 2.0, 2.0, 4.0, 4.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125])
    chains, kept, core = compress(rows, cols, cost, 8)
    assert kept.tolist() == [0, 3, 4, 5]  # 1, 2 bends; 6, 7 on the one-way road
    dense = core.toarray()
    assert dense[0, 1] == dense[1, 0] == 7.0  # 1 + 2 + 4, summed in order
    assert dense[3, 1] == 0.875 and dense[1, 3] == 1.0  # 5 -> 6 -> 7 -> 3 and the 3-5 link
    assert chains.n_chains == 4 and chains.n_segments == 8


def test_a_ring_keeps_one_vertex():
    """A roundabout joined to nothing (0 -> 1 -> 2 -> 0, one-way): vertex 0 is kept."""
    chains, kept, core = compress(np.array([0, 1, 2]), np.array([1, 2, 0]),
                                  np.array([1.0, 2.0, 3.0]), 3)
    assert kept.tolist() == [0] and core.nnz == 0
    t, _ = expand(chains, kept, np.zeros((1, 1)), 3)
    assert t.tolist() == [[0.0, 1.0, 3.0]]


@pytest.mark.parametrize("seed", range(40))
def test_path_ends_against_walking(seed, monkeypatch):
    """Pointer jumping gives each element the end of its path and the steps to it, as walking
    one step at a time does; elements of a cycle get -1. Paths up to 300 long (9 passes);
    every other seed in slices of 7 elements (an India-sized graph's passes are sliced)."""
    if seed % 2:
        monkeypatch.setattr(compress_module, "_POSITIONS", 7)
    rng = np.random.default_rng(seed)
    after, at = [], 0
    for _ in range(int(rng.integers(1, 12))):
        size = int(rng.integers(1, 300))
        nxt = list(range(at + 1, at + size)) + [at if rng.random() < 0.3 else -1]
        after += nxt
        at += size
    perm = rng.permutation(at)  # elements numbered at random
    shuffled = np.full(at, -1, dtype=np.int32)
    shuffled[perm] = [perm[a] if a >= 0 else -1 for a in after]
    last, steps = _path_ends(shuffled.copy())  # it overwrites its argument
    for i in range(at):
        seen, j, k = set(), i, 0
        while shuffled[j] >= 0 and j not in seen:
            seen.add(j)
            j, k = int(shuffled[j]), k + 1
        if shuffled[j] >= 0:
            assert last[i] == -1
        else:
            assert (last[i], steps[i]) == (j, k)


def test_a_long_ring_and_a_long_chain():
    """A two-way ring of 1,000 vertices joined to nothing, and a two-way road of 1,000
    vertices: the ring keeps its lowest vertex (one chain from it back to it), the road its
    two ends; minutes summed in order along each."""
    n = 2000
    ring = np.arange(1000)
    road = np.arange(1000, 2000)
    rows = np.concatenate([ring, np.roll(ring, -1), road[:-1], road[1:]])
    cols = np.concatenate([np.roll(ring, -1), ring, road[1:], road[:-1]])
    chains, kept, core = compress(rows, cols, np.full(len(rows), 0.5), n)
    assert kept.tolist() == [0, 1000, 1999]
    assert chains.n_chains == 2 and chains.n_segments == 1999
    assert chains.vertex[: 1001].tolist() == [0, *range(1, 1000), 0]
    assert chains.fwd[1000] == 500.0 and core.toarray()[1, 2] == 499.5


@pytest.mark.parametrize("extract", ["helsinki.osm.pbf", "tiny.osm"])
@pytest.mark.parametrize("sliced", [False, True])
def test_extracts_against_networkx(extract, sliced, monkeypatch):
    """Every vertex from 12 vertices of the bundled extracts (kept and passed), compressed
    search vs networkx on the uncompressed segments; and the compression is real. Sliced:
    the passes over every vertex (as an India-sized graph's, 2^20 at a time) 7 at a time."""
    if sliced:
        monkeypatch.setattr(travel, "_SLICE", 7)
    graph = load_roads(ROADS / extract, cache_dir=False)
    # each vertex's chain position, walked chain by chain: -1 for kept vertices
    ch, want_pos = graph.chains, np.full(graph.n_nodes, -1)
    for c in range(ch.n_chains):
        for p in range(int(ch.ptr[c]) + 1, int(ch.ptr[c + 1]) - 1):
            want_pos[ch.vertex[p]] = p
    np.testing.assert_array_equal(travel._position(graph), want_pos)
    coo = graph.matrix.tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(),
                                  strict=True))
    rng = np.random.default_rng(22)
    for s in rng.choice(graph.n_nodes, size=min(12, graph.n_nodes), replace=False):
        lengths = nx.single_source_dijkstra_path_length(g, int(s))
        want = np.array([lengths.get(i, np.inf) for i in range(graph.n_nodes)])
        here = Snapped(np.array([s]), np.zeros(1), np.zeros(1))  # a centre at vertex s
        got, _ = nearest_minutes(graph, here)
        close(got, want)
    if extract == "helsinki.osm.pbf":
        assert graph.n_kept < graph.n_nodes / 3


def spliced(graph, here) -> tuple[sp.csr_matrix, int]:
    """The uncompressed graph with each snapped point spliced into its segment (a vertex at
    ``frac`` of the way, the segment's minutes split in proportion) and a source vertex per
    point joined to it by its leg: (matrix, index of the first source)."""
    coo = graph.matrix.tocoo()
    dense = {(int(a), int(b)): float(w) for a, b, w in zip(coo.row, coo.col, coo.data,
                                                           strict=True)}
    n, k = graph.n_nodes, len(here)
    edges = dict(dense)
    for i in range(k):
        u = int(graph.chains.vertex[here.pos[i]])
        v = int(graph.chains.vertex[here.pos[i] + 1])
        x, f = n + k + i, float(here.frac[i])
        if (u, v) in dense:
            edges[(u, x)], edges[(x, v)] = f * dense[(u, v)], (1 - f) * dense[(u, v)]
        if (v, u) in dense:
            edges[(v, x)], edges[(x, u)] = (1 - f) * dense[(v, u)], f * dense[(v, u)]
        edges[(n + i, x)] = float(here.leg_min[i])
    rows, cols = (np.array(c) for c in zip(*edges, strict=True))
    size = n + 2 * k
    return sp.csr_matrix((list(edges.values()), (rows, cols)), shape=(size, size)), n


def test_centres_on_a_chain_reach_along_it(monkeypatch):
    """A straight road of 9 vertices 0.001 degree apart, two-way then one-way eastward from
    vertex 5 (one chain each, kept only at 0, 5 and 8): searches from centres on the road, at
    vertices and between them, give the minutes of the uncompressed graph with the centres
    spliced into their segments, from one centre and from many at once. A centre just past
    vertex 7 on the one-way part reaches only vertex 8."""
    lon = np.round(np.arange(9) * 0.001, 4)
    lat = np.zeros(9)
    seg = Segments(position_key(lon[:-1], lat[:-1]), position_key(lon[1:], lat[1:]),
                   lon[:-1], lat[:-1], lon[1:], lat[1:], np.full(8, 30.0),
                   np.ones(8, dtype=bool), np.arange(8) < 5)  # 5.. one-way eastward
    graph = graph_from_segments(seg, "car")
    assert graph.n_kept == 3  # both ends and vertex 5 where the road turns one-way
    assert graph.n_edges == 13  # 5 two-way segments, 3 one-way
    monkeypatch.setattr(graph_module, "_EDGE_SLICE", 3)  # counted 3 positions at a time
    assert graph.n_edges == 13
    for where in ([0.003], [0.006], [0.003, 0.007], [0.0071], [0.0024, 0.0026, 0.0052]):
        here = snap(graph, where, [0.0001] * len(where))
        ref, n = spliced(graph, here)
        k = len(where)
        want = dijkstra(ref, indices=np.arange(n, n + k), min_only=True)[:n]
        close(nearest_minutes(graph, here)[0], want)
        rows = np.vstack([d for _, d in search(graph, here, limit=np.inf)])
        close(rows, dijkstra(ref, indices=np.arange(n, n + k))[:, :n])
        if where == [0.0071]:
            assert np.isfinite(want).tolist() == [False] * 8 + [True]
