"""Several thresholds in one pass: 4 thresholds at the cost of one, beside 4 separate runs.

Run: ``.venv/bin/python benchmarks/bench_thresholds.py [--repeat 3] [--nodes 200000]
[--road-centres 300]``. Prints a Markdown table of medians (seconds), one run.

* radius: India's 777 districts x the 2,000 sample centres, ``assess`` under
  ``Rule.radius([10, 25, 50, 100])`` beside ``Rule.radius(100)`` (one threshold, the
  largest) and four separate runs (10, 25, 50, 100 km), with one and two centres needed;
* travel: the same districts on a generated road-like graph over India's bounding box
  (``bench_roads.synthetic_segments``: ``--nodes`` vertices, built outside the timings) with
  ``--road-centres`` random centres, ``TravelRule(graph, [15, 30, 60, 120])`` beside 120 alone
  and four separate runs, one and two centres needed. Each run makes a new rule (no cache
  shared between runs: the separate runs pay what four commands would);
* population: ``population_coverage`` on ``bench_raster.make_raster``'s generated raster of
  ``--raster-side`` squared cells (3 arc-seconds, WorldPop densities) and 200 sites,
  ``Rule.radius([2.5, 5, 7.5, 10])`` beside 10 alone (a single threshold decides cells row
  by row, ``covered_grid``; several take each cell's nearest centre) and four runs.

Every threshold's decisions of the one pass are checked equal to its separate run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from reachplan import datasets
from reachplan.engine import Rule, assess
from reachplan.io import read_boundaries, read_points

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_roads import synthetic_segments  # noqa: E402

KM = [10.0, 25.0, 50.0, 100.0]
MINUTES = [15.0, 30.0, 60.0, 120.0]


def compare(name: str, make, steps: list[float], districts, centres, repeat: int,
            run=None) -> list:
    """(name, seconds for all at once, seconds for the largest alone, seconds for each
    separately: medians, the three interleaved in each repeat so that the load of the shared
    machine falls on all alike) after checking the one pass equals the separate runs."""
    def assessed(rule):
        return assess(districts, centres, rule, nearest=False)

    run = run or assessed
    start = time.process_time()
    run(make(steps[-1]))  # warm-up: imports, indexes
    if time.process_time() - start < 0.5:  # a short job: more repeats steady its median
        repeat *= 5
    sides = {
        "all": lambda: run(make(steps)),
        "one": lambda: run(make(steps[-1])),
        "separate": lambda: [run(make(s)) for s in steps],
    }
    times: dict[str, list[float]] = {k: [] for k in sides}
    cpu: dict[str, list[float]] = {k: [] for k in sides}
    out: dict[str, object] = {}
    for _ in range(repeat):
        for key, func in sides.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            out[key] = func()
            times[key].append(time.perf_counter() - start)
            cpu[key].append(time.process_time() - start_cpu)
    several, runs = out["all"], out["separate"]
    if hasattr(several, "thresholds"):  # districts: every threshold's decisions
        for step, one in zip(several.thresholds, runs, strict=True):  # type: ignore
            got = several.districts[step["column"]].to_numpy()  # type: ignore[attr-defined]
            assert np.array_equal(got, one.districts["covered"].to_numpy()), (name, step)
    else:  # people: every threshold's people covered
        got = [s["population_covered"] for s in several.summary["thresholds"]]  # type: ignore
        assert got == [one.summary["population_covered"] for one in runs], name  # type: ignore
    return [name, *(statistics.median(times[k]) for k in sides),
            *(statistics.median(cpu[k]) for k in sides)]


def population_row(side: int, repeat: int) -> list:
    """The radius rule on a generated population raster (bench_raster.make_raster)."""
    import tempfile

    import pandas as pd
    from bench_raster import make_raster, sites

    from reachplan.demand.population import population_coverage

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "people.tif"
        make_raster(path, side)
        lat, lon = sites(200, side)
        centres = pd.DataFrame({"lat": lat, "lon": lon})
        return compare(f"population 2.5/5/7.5/10 km ({side * side:,} cells, 200 sites)",
                       lambda km: Rule.radius(km), [2.5, 5.0, 7.5, 10.0], None, None, repeat,
                       run=lambda rule: population_coverage(centres, path, rule))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--road-centres", type=int, default=300)
    parser.add_argument("--raster-side", type=int, default=2000)
    args = parser.parse_args()

    info = datasets.DATASETS["india_districts"]
    districts = read_boundaries(datasets.dataset_path("india_districts"),
                                id_col=info["id_col"], weight_col=info["weight_col"])
    centres = read_points(datasets.dataset_path("india_sample_centres"))
    rows = []
    for k in (1, 2):
        rows.append(compare(f"radius 10/25/50/100 km, K={k}",
                            lambda km, k=k: Rule.radius(km, min_centers=k), KM,
                            districts, centres, args.repeat))

    from reachplan.roads import TravelRule, graph_from_segments

    graph = graph_from_segments(synthetic_segments(args.nodes), "car")
    rng = np.random.default_rng(11)
    import geopandas as gpd

    road = gpd.GeoDataFrame({"name": [f"c{i}" for i in range(args.road_centres)]},
                            geometry=gpd.points_from_xy(
                                rng.uniform(68.5, 96.5, args.road_centres),
                                rng.uniform(8.5, 36.5, args.road_centres)), crs="EPSG:4326")
    road["lat"], road["lon"] = road.geometry.y, road.geometry.x
    for k in (1, 2):
        rows.append(compare(f"travel 15/30/60/120 min, K={k} ({graph.n_nodes:,} vertices, "
                            f"{args.road_centres} centres)",
                            lambda m, k=k: TravelRule(graph, m, min_centers=k, max_snap_km=10.0),
                            MINUTES, districts, road, args.repeat))

    rows.append(population_row(args.raster_side, args.repeat))
    with open("/proc/loadavg", encoding="ascii") as f:
        load = f.read().split()[:3]
    print(f"\nMedians of {args.repeat} ({5 * args.repeat} for jobs under 0.5 s), CPU seconds "
          "(wall in brackets: the machine is shared, load average "
          f"{' '.join(load)} on 2 cores; CPU time is the steadier figure).\n")
    print("| rule | 4 thresholds, one pass | the largest alone | 4 separate runs | "
          "one pass / one | separate / one pass |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, w_all, w_one, w_sep, c_all, c_one, c_sep in rows:
        print(f"| {name} | {c_all:.3f} ({w_all:.3f}) | {c_one:.3f} ({w_one:.3f}) | "
              f"{c_sep:.3f} ({w_sep:.3f}) | {c_all / c_one:.2f}× | {c_sep / c_all:.1f}× |")


if __name__ == "__main__":
    main()
