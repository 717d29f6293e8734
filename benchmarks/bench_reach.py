"""Plan's candidate x district table by road: dense rows (before) beside sparse reach (after).

``.venv/bin/python benchmarks/bench_reach.py ROADS.osm.pbf [--every 10] [--minutes 240]
[--repeat 2] [--ways dense,centres,districts]``: the @india districts' access (computed once,
not timed) and every ``--every``-th @india-pincodes candidate snapped onto the roads (not
timed); then the table of every (district, candidate) within T up to three ways: "dense", what
``TravelRule.pairs`` did before (each candidate's row over every road vertex from
``travel.search``, read at every access vertex, least per district); "centres",
``roads.reach.district_pairs(direction="centres")`` (one search per candidate, only the kept
vertices it reaches); "districts", ``direction="districts"`` (one search per district on the
reversed graph). Prints the times (medians) and peak memory of each (numpy's and scipy's
arrays, traced in one more run), the pairs, whether dense and centres are identical, and
for districts against centres: the same pairs but those within 1e-9 * T of T, the largest
relative difference in minutes and how many are bit-identical; and the load average (the
machine is shared).

``.venv/bin/python benchmarks/bench_reach.py counts ROADS.osm.pbf [--centres 200,2000]
[--minutes 60,240] [--repeat 2] [--cache-dir DIR]``: how many centres reach each road vertex
within T (``--min-centers`` > 1), every k-th @india-pincodes point as a centre (snapped, not
timed), two ways: "dense", what ``travel.centres_reaching`` did before (each centre's row over
every road vertex from ``travel.search``, counted), and "sparse", ``roads.reach.vertex_counts``
(the kept vertices each search reaches and the reached runs of its chains). Prints the medians,
the peak of memory each allocates above the loaded graph (tracemalloc, in a run of its own),
whether the counts are identical, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc

import numpy as np


def dense(graph, snapped, acc, limit):
    from reachplan.roads import travel

    starts = np.flatnonzero(np.r_[True, acc.district[1:] != acc.district[:-1]])
    owners = acc.district[starts]
    out_d, out_p, out_c = [], [], []
    for centres, dist in travel.search(graph, snapped, limit=limit):
        cost = np.minimum.reduceat(dist[:, acc.node] + acc.leg_min, starts, axis=1)
        r, c = np.nonzero(cost <= limit)
        out_d.append(owners[c])
        out_p.append(centres[r])
        out_c.append(cost[r, c])
    return np.concatenate(out_d), np.concatenate(out_p), np.concatenate(out_c)


def dense_counts(graph, snapped, limit):
    """``travel.centres_reaching`` before: dense rows per centre, counted."""
    from reachplan.roads import travel

    count = np.zeros(graph.n_nodes, dtype=np.int64)
    for _, dist in travel.search(graph, snapped, limit=limit):
        count += np.count_nonzero(dist <= limit, axis=0)
    return count


def _peak_mb(run) -> float:
    import tracemalloc

    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def bench_counts(argv: list[str]) -> None:
    import geopandas as gpd
    import pandas as pd

    from reachplan import datasets
    from reachplan.roads import TravelRule, load_roads
    from reachplan.roads.reach import vertex_counts

    ap = argparse.ArgumentParser(description="centres within T per road vertex")
    ap.add_argument("roads")
    ap.add_argument("--centres", default="200,2000")
    ap.add_argument("--minutes", default="60,240")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--dense-repeat", type=int, default=None,
                    help="runs of the dense path (default --repeat; it is the slow one)")
    ap.add_argument("--cache-dir", default=None)
    args = ap.parse_args(argv)
    start = time.perf_counter()
    graph = load_roads(args.roads, cache_dir=args.cache_dir)
    load_s = time.perf_counter() - start
    pins = pd.read_csv(datasets.india_pincodes_path())
    print(f"road vertices {graph.n_nodes:,}, kept {graph.n_kept:,}, chains "
          f"{graph.chains.n_chains:,} (loaded in {load_s:.1f} s)")
    print("| centres (on the network) | T (min) | dense rows (s) | sparse (s) | dense / sparse "
          "| dense peak (MB) | sparse peak (MB) | mean centres per vertex | identical |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|:---|")
    for k in (int(x) for x in args.centres.split(",")):
        rows = pins.iloc[np.linspace(0, len(pins) - 1, k).astype(int)]
        pts = gpd.GeoSeries(gpd.points_from_xy(rows["lon"], rows["lat"]), crs="EPSG:4326")
        for minutes in (float(x) for x in args.minutes.split(",")):
            snapped = TravelRule(graph, minutes).snap(pts)
            runs = {"dense": lambda m=minutes, s=snapped: dense_counts(graph, s, m),
                    "sparse": lambda m=minutes, s=snapped: vertex_counts(graph, s, limit=m)}
            times: dict[str, list[float]] = {"dense": [], "sparse": []}
            got = {}
            n_runs = {"dense": args.dense_repeat or args.repeat, "sparse": args.repeat}
            for i in range(max(n_runs.values())):
                for name, run in runs.items():
                    if i < n_runs[name]:
                        start = time.perf_counter()
                        got[name] = run()
                        times[name].append(time.perf_counter() - start)
            peak = {name: _peak_mb(run) for name, run in runs.items()}
            a, b = statistics.median(times["dense"]), statistics.median(times["sparse"])
            same = np.array_equal(got["dense"], got["sparse"])
            print(f"| {k:,} ({int((snapped.node >= 0).sum()):,}) | {minutes:g} | {a:.2f} | "
                  f"{b:.2f} | {a / b:.1f}× | {peak['dense']:,.0f} | {peak['sparse']:,.0f} | "
                  f"{got['sparse'].mean():.2f} | {same} |", flush=True)
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


def _sorted(d, p, c):
    order = np.lexsort((p, d))
    return d[order].astype(np.int64), p[order].astype(np.int64), c[order]


def main() -> None:
    import sys

    if sys.argv[1:2] == ["counts"]:
        bench_counts(sys.argv[2:])
        return
    import geopandas as gpd
    import pandas as pd

    from reachplan import datasets
    from reachplan.roads import TravelRule, load_roads
    from reachplan.roads.reach import district_pairs

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("roads")
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--minutes", type=float, default=240.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--ways", default="dense,centres,districts")
    args = ap.parse_args()
    ways = args.ways.split(",")
    graph = load_roads(args.roads)
    rule = TravelRule(graph, args.minutes)
    districts = gpd.read_file(datasets.india_districts_path())
    pins = pd.read_csv(datasets.india_pincodes_path()).iloc[::args.every]
    pts = gpd.GeoSeries(gpd.points_from_xy(pins["lon"], pins["lat"]), crs="EPSG:4326")
    snapped = rule.snap(pts)
    acc = rule.access(districts)
    runs = {"dense": lambda: dense(graph, snapped, acc, args.minutes),
            "centres": lambda: district_pairs(graph, snapped, acc, limit=args.minutes,
                                              direction="centres"),
            "districts": lambda: district_pairs(graph, snapped, acc, limit=args.minutes,
                                                direction="districts")}
    times: dict[str, list[float]] = {name: [] for name in ways}
    grew: dict[str, float] = {}
    results = {}
    for _ in range(args.repeat):
        for name in ways:
            start = time.perf_counter()
            results[name] = _sorted(*runs[name]())
            times[name].append(time.perf_counter() - start)
    for name in ways:  # one more run, traced (numpy's and scipy's arrays), not timed
        tracemalloc.start()
        runs[name]()
        grew[name] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(f"road vertices {graph.n_nodes:,}, kept {graph.n_kept:,}; candidates "
          f"{len(pins):,} ({int((snapped.node >= 0).sum()):,} on the network); "
          f"districts {acc.n_districts:,}; access entries {len(acc.node):,}; "
          f"T = {args.minutes:g} min")
    print("| way | median (s) | runs | peak traced (MB) | pairs |")
    print("|---|---:|---:|---:|---:|")
    for name in ways:
        print(f"| {name} | {statistics.median(times[name]):.2f} | {len(times[name])} | "
              f"{grew[name]:.0f} | {len(results[name][0]):,} |")
    if "dense" in results and "centres" in results:
        same = all(np.array_equal(a, b) for a, b in zip(results["dense"], results["centres"],
                                                        strict=True))
        print("dense and centres identical:", same)
    if "centres" in results and "districts" in results:
        print(_compare(results["centres"], results["districts"], args.minutes))
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


def _compare(want, got, limit: float) -> str:
    """The districts' way against the centres': pairs, minutes, bits."""
    n_d = int(max(want[0].max(initial=0), got[0].max(initial=0))) + 1
    kw, kg = want[1] * n_d + want[0], got[1] * n_d + got[0]
    kw_s, kg_s = np.argsort(kw), np.argsort(kg)
    only_w = np.setdiff1d(kw, kg)
    only_g = np.setdiff1d(kg, kw)
    edge = limit - 1e-9 * limit
    odd = (np.concatenate([want[2][np.isin(kw, only_w)], got[2][np.isin(kg, only_g)]])
           < edge).sum()
    both, iw, ig = np.intersect1d(kw[kw_s], kg[kg_s], assume_unique=True,
                                  return_indices=True)
    a, b = want[2][kw_s][iw], got[2][kg_s][ig]
    rel = np.abs(a - b) / np.maximum(np.abs(a), 1e-300)
    return (f"districts vs centres: {len(both):,} common pairs, {len(only_w)} only centres, "
            f"{len(only_g)} only districts ({odd} of them not within 1e-9 T of T); "
            f"largest relative difference {rel.max(initial=0):.2e}; bit-identical "
            f"{int((a == b).sum()):,} ({(a == b).mean() if len(a) else 1:.1%})")


if __name__ == "__main__":
    main()
