"""The compressed road graph: vertices and edges before and after, memory, search time.

Run: ``.venv/bin/python benchmarks/bench_graph.py [--nodes 1000000,4000000] [--repeat 3]
[--centres 50]``. Prints a Markdown table (medians of ``--repeat``), one process per size.
``bench_roads.py`` can call :func:`graph_table` for the same table, and :func:`spliced` for a
reference graph with snapped points spliced into their segments (networkx, scipy).

The graph is generated like roads are mapped: a jittered lattice of junctions over India's
bounding box (lon 68-97, lat 8-37), every link a road of ``--per-link`` segments whose inner
vertices are bends (jittered off the straight line), a tenth of the links missing, one in
twenty one-way, local roads at 25-40 km/h and every 40th row and column an arterial at 80 km/h.
It goes through ``graph_from_segments`` (the real path: minutes, then compression).

Per size: road vertices and directed segments (uncompressed) against kept vertices and
compressed edges; bytes of the arrays the graph holds (vertices, chains, compressed CSR)
against the uncompressed graph it replaces (vertices and a CSR of every segment); the cache
entry's load (read and every check); and the searches, each against scipy's Dijkstra on the
uncompressed CSR with the same virtual source vertices (what reachplan ran before issue 22):
all-vertex nearest minutes from ``--centres`` centres at once, and each centre's own search
bounded at 60 minutes (as ``plan`` builds its matrix); with the largest relative difference
of the minutes (they agree to rounding).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from bench_core import timed  # benchmarks/ is on sys.path when a script runs
from scipy.sparse.csgraph import dijkstra


def chained_segments(n_nodes: int, per_link: int = 8, seed: int = 7):
    """About ``n_nodes`` road vertices: junctions on a lattice, links of ``per_link``
    segments (see the module docstring)."""
    from reachplan.roads.osm import Segments, position_key

    rng = np.random.default_rng(seed)
    side = max(2, int(np.sqrt(n_nodes / (2 * per_link - 1))))
    step = 29.0 / side
    ix, iy = (a.ravel() for a in np.meshgrid(np.arange(side), np.arange(side), indexing="ij"))
    jlon = 68.0 + ix * step + rng.uniform(-0.2, 0.2, ix.size) * step
    jlat = 8.0 + iy * step + rng.uniform(-0.2, 0.2, ix.size) * step
    ident = np.arange(side * side)
    u_parts, v_parts, kmh_parts, oneway_parts = [], [], [], []
    for di, dj in ((1, 0), (0, 1)):
        ok = (ix + di < side) & (iy + dj < side)
        a = ident[ok]
        b = a + di * side + dj
        keep = rng.random(a.size) >= 0.10
        a, b = a[keep], b[keep]
        arterial = (iy[a] % 40 == 0) if di else (ix[a] % 40 == 0)
        u_parts.append(a)
        v_parts.append(b)
        kmh_parts.append(np.where(arterial, 80.0, rng.choice([25.0, 40.0], a.size)))
        oneway_parts.append(rng.random(a.size) < 0.05)
    a, b = np.concatenate(u_parts), np.concatenate(v_parts)
    kmh, oneway = np.concatenate(kmh_parts), np.concatenate(oneway_parts)
    # every link: per_link + 1 points from junction a to junction b, inner ones bent
    t = np.linspace(0.0, 1.0, per_link + 1)
    lon = jlon[a, None] + t * (jlon[b] - jlon[a])[:, None]
    lat = jlat[a, None] + t * (jlat[b] - jlat[a])[:, None]
    bend = rng.uniform(-0.15, 0.15, (len(a), per_link - 1)) * step / per_link
    lon[:, 1:-1] += bend
    lat[:, 1:-1] -= bend
    lon, lat = np.round(lon, 7), np.round(lat, 7)
    key = position_key(lon, lat)
    seg_u, seg_v = key[:, :-1].ravel(), key[:, 1:].ravel()
    pick = np.repeat(np.arange(len(a)), per_link)
    return Segments(seg_u, seg_v, lon[:, :-1].ravel(), lat[:, :-1].ravel(),
                    lon[:, 1:].ravel(), lat[:, 1:].ravel(), kmh[pick],
                    np.ones(len(seg_u), dtype=bool), ~oneway[pick])


def _with_sources(matrix: sp.csr_matrix, node: np.ndarray) -> sp.csr_matrix:
    """The uncompressed graph plus one source vertex per centre (leg 0), as before."""
    n, k = matrix.shape[0], len(node)
    indptr = np.concatenate([matrix.indptr, matrix.indptr[-1] + np.arange(1, k + 1)])
    return sp.csr_matrix((np.concatenate([matrix.data, np.zeros(k)]),
                          np.concatenate([matrix.indices, node.astype(matrix.indices.dtype)]),
                          indptr.astype(matrix.indptr.dtype)), shape=(n + k, n + k))


def spliced(graph, snapped) -> tuple[sp.csr_matrix, int]:
    """A reference for minutes from snapped points (e.g. for networkx): the uncompressed
    graph (``graph.matrix``) with each on-network point spliced into its segment (a vertex
    at ``frac`` of the way, the segment's minutes split in proportion; a point at a vertex
    joins that vertex) and one source vertex per point joined to it by its leg. Returns the
    matrix and the index of the first source (sources follow in the points' order, off-network
    points included, joined to nothing). Two points on one segment are each joined to its
    ends, not to each other: right for minutes to road vertices, not between the points."""
    coo = graph.matrix.tocoo()
    edges = {(int(a), int(b)): float(w) for a, b, w in zip(coo.row, coo.col, coo.data,
                                                           strict=True)}
    n, k = graph.n_nodes, len(snapped)
    out = dict(edges)
    for i in np.flatnonzero(snapped.node >= 0):
        pos, f = int(snapped.pos[i]), float(snapped.frac[i])
        u, v = int(graph.chains.vertex[pos]), int(graph.chains.vertex[pos + 1])
        at = u if f <= 0 else v if f >= 1 else n + k + int(i)
        if u != at != v:  # between the vertices: split the segment there
            if (u, v) in edges:
                out[(u, at)], out[(at, v)] = f * edges[(u, v)], (1 - f) * edges[(u, v)]
            if (v, u) in edges:
                out[(v, at)], out[(at, u)] = (1 - f) * edges[(v, u)], f * edges[(v, u)]
        out[(n + int(i), at)] = float(snapped.leg_min[i])
    rows, cols = (np.array(c, dtype=np.int64) for c in zip(*out, strict=True))
    size = n + 2 * k
    return sp.csr_matrix((np.array(list(out.values())), (rows, cols)), shape=(size, size)), n


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    fin = np.isfinite(b)
    if not np.array_equal(fin, np.isfinite(a)):
        return float("inf")
    return float(np.max(np.abs(a[fin] - b[fin]) / np.maximum(b[fin], 1e-12), initial=0.0))


def run_one(n_nodes: int, n_centres: int, repeat: int, per_link: int) -> dict:
    """One size, in this process (the parent starts one process per size)."""
    from reachplan.roads import cache, graph_from_segments, nearest_minutes, search
    from reachplan.roads.travel import Snapped

    box = [chained_segments(n_nodes, per_link)]
    start = time.perf_counter()
    graph = graph_from_segments(box.pop(), "car")
    build_s = time.perf_counter() - start
    full = graph.matrix  # the uncompressed graph (built from the chains, untimed)
    before_bytes = (graph.lon.nbytes + graph.lat.nbytes + graph.key.nbytes + full.data.nbytes
                    + full.indices.nbytes + full.indptr.nbytes)
    rng = np.random.default_rng(11)
    node = rng.choice(graph.n_nodes, size=n_centres, replace=False)
    centres = Snapped(node.astype(np.int64), np.zeros(n_centres), np.zeros(n_centres))
    ref_matrix = _with_sources(full, node)
    n = graph.n_nodes
    t_before, ref = timed(lambda: dijkstra(ref_matrix, indices=np.arange(n, n + n_centres),
                                             min_only=True)[:n], repeat)
    t_after, got = timed(lambda: nearest_minutes(graph, centres)[0], repeat)
    t1_before, ref1 = timed(lambda: dijkstra(ref_matrix, indices=np.arange(n, n + n_centres),
                                               limit=60.0)[:, :n], repeat)
    t1_after, got1 = timed(lambda: np.vstack([d for _, d in search(graph, centres,
                                                                      limit=60.0)]), repeat)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "entry.graph"
        core, ch = graph.core, graph.chains
        cache.save_entry(target, "k", cache.Entry(
            graph.lon, graph.lat, graph.key, graph.kept, core.indptr, core.indices, core.data,
            ch.ptr, ch.vertex, ch.fwd, ch.bwd, graph.top_kmh))
        t_load, entry = timed(lambda: cache.load_entry(target, "k"), repeat)
        assert entry is not None
        entry_mb = target.stat().st_size / 1e6
    return {"nodes": graph.n_nodes, "edges": graph.n_edges, "kept": graph.n_kept,
            "core_edges": int(graph.core.nnz), "build_s": build_s,
            "before_mb": before_bytes / 1e6, "after_mb": graph.nbytes() / 1e6,
            "entry_mb": entry_mb, "load_s": t_load,
            "all_before": t_before, "all_after": t_after, "all_rel": _rel(got, ref),
            "one_before": t1_before, "one_after": t1_after, "one_rel": _rel(got1, ref1),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def graph_table(sizes: list[int], *, n_centres: int = 50, repeat: int = 3,
                per_link: int = 8) -> list[str]:
    """The Markdown table, one row per size (each measured in its own process)."""
    lines = [f"Generated roads, {per_link} segments a link; {n_centres} centres; medians of "
             f"{repeat}; load average {os.getloadavg()[0]:.2f} (shared machine).", "",
             "| road vertices | directed segments | kept vertices | compressed edges | build "
             "(s) | arrays before / after (MB) | cache entry (MB) / load (s) | all-vertex "
             f"minutes, {n_centres} centres at once: before / after (s) | each centre within 60 "
             "min: before / after (s) | max rel. diff | peak MB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--centres",
                               str(n_centres), "--repeat", str(repeat), "--per-link",
                               str(per_link)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            lines.append(f"| {n:,} | failed: {proc.stderr.strip().splitlines()[-1:]} |")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        lines.append(
            f"| {r['nodes']:,} | {r['edges']:,} | {r['kept']:,} | {r['core_edges']:,} | "
            f"{r['build_s']:.1f} | {r['before_mb']:,.0f} / {r['after_mb']:,.0f} | "
            f"{r['entry_mb']:,.0f} / {r['load_s']:.2f} | {r['all_before']:.2f} / "
            f"{r['all_after']:.2f} | {r['one_before']:.2f} / {r['one_after']:.2f} | "
            f"{max(r['all_rel'], r['one_rel']):.0e} | {r['peak_mb']:,.0f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="1000000,4000000")
    parser.add_argument("--centres", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--per-link", type=int, default=8)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.centres, args.repeat, args.per_link)))
        return
    sizes = [int(s) for s in args.nodes.split(",")]
    print("\n".join(graph_table(sizes, n_centres=args.centres, repeat=args.repeat,
                                per_link=args.per_link)))


if __name__ == "__main__":
    main()
