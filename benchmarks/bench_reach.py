"""Plan's candidate x district table by road: dense rows (before) beside sparse reach (after).

``.venv/bin/python benchmarks/bench_reach.py ROADS.osm.pbf [--every 10] [--minutes 240]
[--repeat 2]``: the @india districts' access (computed once, not timed) and every ``--every``-th
@india-pincodes candidate snapped onto the roads (not timed); then the table of every
(district, candidate) within T two ways: "dense", what ``TravelRule.pairs`` did before (each
candidate's row over every road vertex from ``travel.search``, read at every access vertex,
least per district), and "sparse", ``roads.reach.district_pairs`` (only the kept vertices each
candidate reaches). Prints both times (medians), the pairs and whether they are identical, and
the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

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


def _sorted(d, p, c):
    order = np.lexsort((p, d))
    return d[order].astype(np.int64), p[order].astype(np.int64), c[order]


def main() -> None:
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
    args = ap.parse_args()
    graph = load_roads(args.roads)
    rule = TravelRule(graph, args.minutes)
    districts = gpd.read_file(datasets.india_districts_path())
    pins = pd.read_csv(datasets.india_pincodes_path()).iloc[::args.every]
    pts = gpd.GeoSeries(gpd.points_from_xy(pins["lon"], pins["lat"]), crs="EPSG:4326")
    snapped = rule.snap(pts)
    acc = rule.access(districts)
    times: dict[str, list[float]] = {"dense": [], "sparse": []}
    results = {}
    for _ in range(args.repeat):
        for name, run in (("dense", lambda: dense(graph, snapped, acc, args.minutes)),
                          ("sparse", lambda: district_pairs(graph, snapped, acc,
                                                            limit=args.minutes))):
            start = time.perf_counter()
            results[name] = _sorted(*run())
            times[name].append(time.perf_counter() - start)
    same = all(np.array_equal(a, b) for a, b in zip(results["dense"], results["sparse"],
                                                    strict=True))
    print(f"road vertices {graph.n_nodes:,}, kept {graph.n_kept:,}; candidates "
          f"{len(pins):,} ({int((snapped.node >= 0).sum()):,} on the network); "
          f"access entries {len(acc.node):,}; T = {args.minutes:g} min")
    print("| dense rows (s) | sparse reach (s) | dense / sparse | pairs | identical |")
    print("|---:|---:|---:|---:|:---|")
    a, b = statistics.median(times["dense"]), statistics.median(times["sparse"])
    print(f"| {a:.2f} | {b:.2f} | {a / b:.1f}× | {len(results['sparse'][0]):,} | {same} |")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
