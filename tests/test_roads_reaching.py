"""How many centres reach each road vertex within T (``min_centers`` > 1) from bounded searches
on the compressed graph (roads/reach.py ``vertex_counts``, behind ``travel.centres_reaching``).

Two references: the dense rows it replaces (:func:`reachplan.roads.search`, every centre's row
over every road vertex, counted ``<= T``), which must agree exactly; and scipy's Dijkstra on
the uncompressed graph (``graph.matrix``) with each centre spliced into its segment and joined
by its off-road leg, which must agree on every vertex not within 1e-9 of T (the two sum the
same minutes in another order). Random graphs are random ways over a small grid with one-way
ways and closed ways (rings, loops from a junction); centres are snapped from random points
(some off the network, some on the same place twice) or put on random vertices.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from _roads_random import random_graph
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from reachplan.roads import Snapped, graph_from_segments, load_roads, search, snap
from reachplan.roads.osm import Segments, position_key
from reachplan.roads.travel import centres_reaching

ROADS = Path(__file__).parent / "fixtures" / "roads"


def random_centres(rng: np.random.Generator, graph, box: float) -> Snapped:
    """Centres snapped from random points (far ones off the network), one of them twice;
    or, one time in four, centres made from random road vertices alone (-1: off)."""
    k = int(rng.integers(1, 7))
    if rng.random() < 0.25:
        node = rng.integers(-1, graph.n_nodes, k)
        return Snapped(node, np.zeros(k), np.where(node >= 0, rng.random(k), np.inf))
    lon = rng.uniform(-0.2 * box, 1.2 * box, k)
    lat = rng.uniform(-0.2 * box, 1.2 * box, k)
    lon[rng.random(k) < 0.15] += 1.0  # ~100 km away: off the network
    twice = int(rng.integers(k))
    lon, lat = np.append(lon, lon[twice]), np.append(lat, lat[twice])  # sharing a place
    return snap(graph, lon, lat, max_snap_km=1.0)


def dense_counts(graph, centers: Snapped, limit: float) -> np.ndarray:
    """The dense path: every centre's full row over every road vertex, counted <= T."""
    count = np.zeros(graph.n_nodes, dtype=np.int64)
    if (centers.node >= 0).any():
        for _, rows in search(graph, centers, limit=limit):
            count += np.count_nonzero(rows <= limit, axis=0)
    return count


def brute_minutes(graph, centers: Snapped) -> np.ndarray:
    """Minutes from each on-network centre to every road vertex on the uncompressed graph: a
    source vertex per centre joined by its leg to its place, which is a vertex spliced into its
    segment (the segment's minutes split in proportion; at its end, that vertex) or, made
    from a vertex, that vertex."""
    coo = graph.matrix.tocoo()
    edges = {(int(a), int(b)): float(w) for a, b, w in zip(coo.row, coo.col, coo.data,
                                                           strict=True)}
    n = graph.n_nodes
    on = np.flatnonzero(centers.node >= 0)
    extra: dict[tuple[int, int], float] = {}
    for i, c in enumerate(on.tolist()):
        source, place = n + 2 * i, n + 2 * i + 1
        extra[(source, place)] = float(centers.leg_min[c])
        p = int(centers.pos[c])
        if p < 0:
            extra[(place, int(centers.node[c]))] = 0.0
            continue
        a, b = int(graph.chains.vertex[p]), int(graph.chains.vertex[p + 1])
        f = float(centers.frac[c])
        if (a, b) in edges:
            extra[(place, b)] = (1 - f) * edges[(a, b)]
        if (b, a) in edges:
            extra[(place, a)] = f * edges[(b, a)]
        if f <= 0 or f >= 1:  # at a vertex: there, whatever way its segment runs
            extra[(place, a if f <= 0 else b)] = 0.0
    keys = list(edges) + list(extra)
    rows, cols = (np.array(x, dtype=np.int64) for x in zip(*keys, strict=True))
    size = n + 2 * len(on)
    m = sp.csr_matrix((list(edges.values()) + list(extra.values()), (rows, cols)),
                      shape=(size, size))
    return np.atleast_2d(dijkstra(m, indices=n + 2 * np.arange(len(on))))[:, :n]


def check(graph, centers: Snapped, limit: float) -> None:
    got = centres_reaching(graph, centers, limit=limit)
    assert got.dtype == np.int64 and got.shape == (graph.n_nodes,)
    np.testing.assert_array_equal(got, dense_counts(graph, centers, limit))
    if (centers.node >= 0).any():
        minutes = brute_minutes(graph, centers)
        clear = ~np.any(np.abs(minutes - limit) <= 1e-9 * limit, axis=0)
        want = np.count_nonzero(minutes <= limit, axis=0)
        np.testing.assert_array_equal(got[clear], want[clear])
    else:
        assert not got.any()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6))
def test_counts_equal_dense_rows_and_uncompressed_dijkstra(seed):
    rng = np.random.default_rng(seed)
    graph = random_graph(rng, rings=0.25, oneway=0.35)
    if graph is None:
        return
    centers = random_centres(rng, graph, 0.03)
    check(graph, centers, float(rng.choice([0.3, 1.0, 2.5, rng.uniform(0.1, 8.0)])))


def road(n: int, *, oneway_from: int | None = None, ring: bool = False):
    """A straight road of ``n`` vertices 0.001 degree apart (30 km/h), one-way eastward from
    vertex ``oneway_from``; ``ring``: closed back to vertex 0 through a vertex to the north."""
    lon = list(np.round(np.arange(n) * 0.001, 4))
    lat = [0.0] * n
    if ring:
        lon.append(lon[-1] / 2)
        lat.append(0.002)
        lon.append(0.0)
        lat.append(0.0)
    lon_a, lat_a = np.array(lon), np.array(lat)
    s = len(lon_a) - 1
    back = np.ones(s, dtype=bool) if oneway_from is None else np.arange(s) < oneway_from
    seg = Segments(position_key(lon_a[:-1], lat_a[:-1]), position_key(lon_a[1:], lat_a[1:]),
                   lon_a[:-1], lat_a[:-1], lon_a[1:], lat_a[1:], np.full(s, 30.0),
                   np.ones(s, dtype=bool), back)
    return graph_from_segments(seg, "car")


@pytest.mark.parametrize("kind", ["two-way", "one-way part", "ring", "one-way ring"])
def test_chains_rings_and_one_way_roads(kind):
    """Centres on a chain, between its vertices and at its ends, several on the same chain and
    two on the same place; limits that cut chains in their middle from either end."""
    graph = {"two-way": lambda: road(12), "one-way part": lambda: road(12, oneway_from=6),
             "ring": lambda: road(10, ring=True),
             "one-way ring": lambda: road(10, oneway_from=0, ring=True)}[kind]()
    for where in ([0.0035], [0.0035, 0.0035], [0.0, 0.011], [0.0024, 0.0026, 0.0071],
                  [0.009, 0.0005]):
        centers = snap(graph, where, [0.0001] * len(where))
        for limit in (0.1, 0.45, 1.0, 3.0):
            check(graph, centers, limit)


@pytest.mark.parametrize("extract", ["helsinki.osm.pbf", "tiny.osm"])
def test_bundled_extracts(extract):
    """Centres snapped from random points over each extract (some off it), limits from a
    fraction of a minute to past the whole network."""
    graph = load_roads(ROADS / extract, cache_dir=False)
    rng = np.random.default_rng(7)
    lo_lon, hi_lon = float(graph.lon.min()), float(graph.lon.max())
    lo_lat, hi_lat = float(graph.lat.min()), float(graph.lat.max())
    for k, limit in ((12, 0.5), (12, 2.0), (25, 5.0), (6, 30.0)):
        lon = rng.uniform(lo_lon - 0.01, hi_lon + 0.01, k)
        lat = rng.uniform(lo_lat - 0.01, hi_lat + 0.01, k)
        lon, lat = np.append(lon, [lon[0], 120.0]), np.append(lat, [lat[0], 0.0])
        check(graph, snap(graph, lon, lat), limit)


def test_small_batches_and_slices_give_the_same_counts(monkeypatch):
    """One centre per search batch and a handful of reached vertices per slice: the same."""
    from reachplan.roads import reach

    graph = load_roads(ROADS / "helsinki.osm.pbf", cache_dir=False)
    rng = np.random.default_rng(11)
    centers = snap(graph, rng.uniform(float(graph.lon.min()), float(graph.lon.max()), 9),
                   rng.uniform(float(graph.lat.min()), float(graph.lat.max()), 9))
    whole = centres_reaching(graph, centers, limit=3.0)
    monkeypatch.setattr(reach, "_MAX_ROWS", 1)
    monkeypatch.setattr(reach, "_SLICE", 7)
    np.testing.assert_array_equal(centres_reaching(graph, centers, limit=3.0), whole)
    np.testing.assert_array_equal(whole, dense_counts(graph, centers, 3.0))
