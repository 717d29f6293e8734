"""Travel time on roads: covplan.roads vs networkx, and a national-scale simulation.

Run: ``.venv/bin/python benchmarks/bench_roads.py [--repeat 5] [--nodes 1000000,20000000]
[--centres 2000] [--pbf-nodes 1000000]``. Prints Markdown tables (medians of ``--repeat``).

* Helsinki (tests/fixtures/roads/helsinki.osm.pbf, ODbL): graph from the PBF (first run, a
  fresh cache each time) and from the cache; nearest-centre minutes for every vertex from 50
  centres, covplan (snapping + one scipy multi-source Dijkstra) vs networkx
  ``multi_source_dijkstra_path_length`` on the same graph (built outside the timing), with
  the largest relative difference.
* A generated road-like graph (``--nodes``): a jittered lattice over India's bounding box with
  10 % of links missing, local roads at 25-40 km/h and every 40th row and column an arterial at
  80 km/h; ``--centres`` random centres. Each size runs in its own process: graph build
  (through ``graph_from_segments``, the real path), snapping, all-vertex nearest minutes, and
  the process's peak memory (ru_maxrss).
* PBF parse throughput (OSM nodes/s and MB/s): Helsinki, and a generated all-road PBF of
  ``--pbf-nodes`` nodes written with osmium (ways of 10 nodes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_core import timed  # benchmarks/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
HELSINKI = ROOT / "tests" / "fixtures" / "roads" / "helsinki.osm.pbf"


def count_osm_nodes(path: Path) -> int:
    import osmium

    return sum(1 for _ in osmium.FileProcessor(str(path), osmium.osm.NODE))


def bench_helsinki(repeat: int) -> None:
    import geopandas as gpd
    import networkx as nx

    from covplan.roads import TravelRule, load_roads, nearest_minutes

    def first_run():
        with tempfile.TemporaryDirectory() as tmp:
            return load_roads(HELSINKI, cache_dir=tmp)

    cache = tempfile.mkdtemp()
    load_roads(HELSINKI, cache_dir=cache)
    t_pbf, graph = timed(first_run, repeat)
    t_cache, cached = timed(lambda: load_roads(HELSINKI, cache_dir=cache), repeat)
    assert cached.from_cache
    print(f"\n### Helsinki ({graph.n_nodes:,} vertices, {graph.n_edges:,} directed edges, car)\n")
    print("| task | covplan (s) | networkx (s) | networkx / covplan | notes |")
    print("|---|---:|---:|---:|---|")
    print(f"| graph from PBF, first run | {t_pbf:.3f} | | | {HELSINKI.stat().st_size / 1e3:.0f}"
          " kB extract, parse + geodesic lengths + CSR + cache write |")
    print(f"| graph from cache | {t_cache:.4f} | | | SHA-256 of the file + .npz load |")

    for profile in ("car", "walk"):
        graph = load_roads(HELSINKI, profile=profile, cache_dir=cache)
        rng = np.random.default_rng(50)
        lon = rng.uniform(graph.lon.min(), graph.lon.max(), 50)
        lat = rng.uniform(graph.lat.min(), graph.lat.max(), 50)
        centres = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
        rule = TravelRule(graph, 30)
        t_snap, snapped = timed(lambda r=rule, c=centres: r.snap(c), repeat)
        t_ours, (minutes, _) = timed(
            lambda g=graph, s=snapped: nearest_minutes(g, s), repeat)
        g = nx.DiGraph()
        coo = graph.matrix.tocoo()
        g.add_nodes_from(range(graph.n_nodes))
        g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(),
                                      strict=True))
        for k in np.flatnonzero(snapped.node >= 0):
            g.add_edge(("c", int(k)), int(snapped.node[k]), weight=float(snapped.leg_min[k]))
        sources = [n for n in g if isinstance(n, tuple)]
        t_nx, lengths = timed(lambda g=g, s=sources: nx.multi_source_dijkstra_path_length(g, s),
                              repeat)
        ref = np.array([lengths.get(i, math.inf) for i in range(graph.n_nodes)])
        same_inf = bool(np.array_equal(np.isinf(ref), np.isinf(minutes)))
        fin = np.isfinite(ref)
        rel = float(np.max(np.abs(minutes[fin] - ref[fin]) / np.maximum(ref[fin], 1e-300)))
        print(f"| nearest-centre minutes, every vertex, 50 centres, {profile} "
              f"({graph.n_nodes:,} vertices) | {t_ours:.4f} | {t_nx:.4f} | {t_nx / t_ours:.1f}× "
              f"| same unreachable set: {same_inf}; max relative difference {rel:.1e}; "
              f"snapping the 50 centres (both sides use it, untimed) {t_snap:.4f} s |")


def synthetic_segments(n_nodes: int, seed: int = 7):
    """A jittered lattice over India's bounding box (lon 68-97, lat 8-37)."""
    from covplan.roads.osm import Segments

    side = int(math.sqrt(n_nodes))
    rng = np.random.default_rng(seed)
    step = 29.0 / side
    ix, iy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    ix, iy = ix.ravel(), iy.ravel()
    lon = 68.0 + ix * step + rng.uniform(-0.3, 0.3, ix.size) * step
    lat = 8.0 + iy * step + rng.uniform(-0.3, 0.3, ix.size) * step
    ident = np.arange(side * side, dtype=np.int64)
    us, vs, speeds = [], [], []
    for du, dv in ((1, 0), (0, 1)):
        ok = (ix + du < side) & (iy + dv < side)
        u = ident[ok]
        v = u + du * side + dv
        keep = rng.random(u.size) >= 0.10
        u, v = u[keep], v[keep]
        arterial = (iy[u] % 40 == 0) if du else (ix[u] % 40 == 0)
        kmh = np.where(arterial, 80.0, rng.choice([25.0, 40.0], u.size))
        us.append(u)
        vs.append(v)
        speeds.append(kmh)
    u, v, kmh = np.concatenate(us), np.concatenate(vs), np.concatenate(speeds)
    both = np.ones(u.size, dtype=bool)
    return Segments(u, v, lon[u], lat[u], lon[v], lat[v], kmh, both, both)


def _phase(func):
    """Wall and CPU seconds of one call (the box is shared: CPU time is the steadier)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def run_scale(n_nodes: int, n_centres: int) -> dict:
    """One size, in this process (the parent starts one process per size)."""
    from covplan.roads import graph_from_segments, nearest_minutes, snap

    box = [synthetic_segments(n_nodes)]
    build = _phase(lambda: graph_from_segments(box.pop(), "car"))  # frees the segments
    graph = build[2]
    rng = np.random.default_rng(11)
    lon = rng.uniform(68.5, 96.5, n_centres)
    lat = rng.uniform(8.5, 36.5, n_centres)
    snapped = _phase(lambda: snap(graph, lon, lat, max_snap_km=5.0))
    search = _phase(lambda: nearest_minutes(graph, snapped[2]))
    minutes = search[2][0]
    reached = np.isfinite(minutes)
    return {"nodes": graph.n_nodes, "edges": graph.n_edges, "build": build[:2],
            "snap": snapped[:2], "search": search[:2],
            "median_min": float(np.median(minutes[reached])),
            "max_min": float(minutes[reached].max()), "reached": float(reached.mean()),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def bench_scale(sizes: list[int], n_centres: int) -> None:
    print(f"\n### Generated road-like graph, {n_centres:,} centres (one process per size)\n")
    print("Seconds as wall / CPU (the machine is shared; CPU time is the steadier figure).\n")
    print("| vertices | directed edges | build CSR (s) | snap centres (s) | all-vertex nearest "
          "minutes (s) | median / max min | peak MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        proc = subprocess.run([sys.executable, __file__, "--one-scale", str(n),
                               "--centres", str(n_centres)], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            print(f"| {n:,} | failed: {proc.stderr.strip().splitlines()[-1:]} |||||")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        wall_cpu = [f"{r[k][0]:.1f} / {r[k][1]:.1f}" for k in ("build", "snap", "search")]
        print(f"| {r['nodes']:,} | {r['edges']:,} | {' | '.join(wall_cpu)} | "
              f"{r['median_min']:.0f} / {r['max_min']:.0f} | {r['peak_mb']:,.0f} |", flush=True)


def write_pbf(path: Path, n_nodes: int, per_way: int = 10) -> None:
    """An all-road PBF: the lattice's rows and columns as ways of ``per_way`` nodes (real
    highway ways in India average about that)."""
    import osmium

    side = int(math.sqrt(n_nodes))
    rng = np.random.default_rng(7)
    step = 29.0 / side
    with osmium.SimpleWriter(str(path)) as writer:
        for i in range(side * side):
            x, y = divmod(i, side)
            writer.add_node(osmium.osm.mutable.Node(
                id=i + 1, location=(68.0 + (x + rng.uniform(-0.3, 0.3)) * step,
                                    8.0 + (y + rng.uniform(-0.3, 0.3)) * step)))
        way = 0
        for line in range(side):
            for stride, first in ((1, line * side), (side, line)):  # a column, then a row
                ids = first + stride * np.arange(side) + 1
                for start in range(0, side - 1, per_way - 1):
                    way += 1
                    writer.add_way(osmium.osm.mutable.Way(
                        id=way, nodes=ids[start:start + per_way].tolist(),
                        tags={"highway": "residential"}))


def bench_parse(repeat: int, pbf_nodes: int) -> None:
    from covplan.roads import load_roads

    print("\n### PBF parse throughput (graph build, no cache)\n")
    print("| extract | MB | OSM nodes | ways | seconds (wall) | CPU s | nodes/s (CPU) | "
          "MB/s (CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "synthetic.osm.pbf"
        write_pbf(synthetic, pbf_nodes)
        for name, path in (("Helsinki", HELSINKI), ("generated all-road", synthetic)):
            import osmium

            n_nodes = count_osm_nodes(path)
            n_ways = sum(1 for _ in osmium.FileProcessor(str(path), osmium.osm.WAY))
            secs, _ = timed(lambda p=path: load_roads(p, cache_dir=False), repeat)
            cpu = _phase(lambda p=path: load_roads(p, cache_dir=False))[1]
            mb = path.stat().st_size / 1e6
            print(f"| {name} | {mb:.1f} | {n_nodes:,} | {n_ways:,} | {secs:.2f} | {cpu:.2f} | "
                  f"{n_nodes / cpu:,.0f} | {mb / cpu:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nodes", default="1000000,5000000,20000000",
                        help="comma-separated sizes of the generated graph")
    parser.add_argument("--centres", type=int, default=2000)
    parser.add_argument("--pbf-nodes", type=int, default=1_000_000)
    parser.add_argument("--one-scale", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--skip", default="", help="comma list of helsinki,scale,parse")
    args = parser.parse_args()
    if args.one_scale:
        print(json.dumps(run_scale(args.one_scale, args.centres)))
        return
    skip = set(args.skip.split(","))
    print(f"covplan.roads benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if "helsinki" not in skip:
        bench_helsinki(args.repeat)
    if "parse" not in skip:
        bench_parse(max(1, args.repeat // 2), args.pbf_nodes)
    if "scale" not in skip:
        bench_scale([int(s) for s in args.nodes.split(",")], args.centres)


if __name__ == "__main__":
    main()
