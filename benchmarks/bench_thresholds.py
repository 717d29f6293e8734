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
  shared between runs: the separate runs pay what four commands would).

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


def compare(name: str, make, steps: list[float], districts, centres, repeat: int) -> list:
    """(name, seconds for all at once, seconds for the largest alone, seconds for each
    separately: medians, the three interleaved in each repeat so that the load of the shared
    machine falls on all alike) after checking the one pass equals the separate runs."""
    assess(districts, centres, make(steps[-1]), nearest=False)  # warm-up: imports, indexes
    sides = {
        "all": lambda: assess(districts, centres, make(steps), nearest=False),
        "one": lambda: assess(districts, centres, make(steps[-1]), nearest=False),
        "separate": lambda: [assess(districts, centres, make(s), nearest=False)
                             for s in steps],
    }
    times: dict[str, list[float]] = {k: [] for k in sides}
    out: dict[str, object] = {}
    for _ in range(repeat):
        for key, func in sides.items():
            start = time.perf_counter()
            out[key] = func()
            times[key].append(time.perf_counter() - start)
    several, runs = out["all"], out["separate"]
    for step, run in zip(several.thresholds, runs, strict=True):  # type: ignore[attr-defined]
        got = several.districts[step["column"]].to_numpy()  # type: ignore[attr-defined]
        assert np.array_equal(got, run.districts["covered"].to_numpy()), (name, step)
    return [name, *(statistics.median(times[k]) for k in sides)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--road-centres", type=int, default=300)
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

    with open("/proc/loadavg", encoding="ascii") as f:
        load = f.read().split()[:3]
    print(f"\nMedians of {args.repeat} (seconds); load average {' '.join(load)} on a shared "
          "2-core machine.\n")
    print("| rule | 4 thresholds, one pass | the largest alone | 4 separate runs | "
          "one pass / one | separate / one pass |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, t_all, t_one, t_sep in rows:
        print(f"| {name} | {t_all:.3f} | {t_one:.3f} | {t_sep:.3f} | {t_all / t_one:.2f}× | "
              f"{t_sep / t_all:.1f}× |")


if __name__ == "__main__":
    main()
