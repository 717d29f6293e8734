"""Core engine benchmark: reachplan vs a plain geopandas script, in one run.

Run: ``.venv/bin/python benchmarks/bench_core.py [--repeat 5]``. Prints a Markdown table of
medians (seconds) and ratios. Inputs are read once, outside the timings, for both sides.

* presence: India districts x 151,789 geocoded post offices (reachplan ``assess`` vs
  ``geopandas.sjoin(predicate="within")`` + a count per district);
* radius 25 km: India districts x 2,000 centres (reachplan geodesic ``assess`` vs reprojecting to
  India's national LCC, EPSG:7755, and ``sjoin(predicate="dwithin")``; the plain script's
  decisions are compared with reachplan's, which are geodesic);
* ``reachplan --help`` start-up vs ``python -c "import geopandas"``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from reachplan import datasets
from reachplan.engine import Rule, assess
from reachplan.io import read_boundaries, read_points

ROOT = Path(__file__).resolve().parents[1]


def timed(func, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def plain_presence(districts: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> int:
    # fresh frames, so that neither side reuses a spatial index built in an earlier repeat
    points = gpd.GeoDataFrame(geometry=points.geometry.array.copy(), crs=points.crs)
    joined = gpd.sjoin(points, districts[["id", "geometry"]].copy(), predicate="within")
    counts = joined.groupby("id").size().reindex(districts["id"], fill_value=0)
    return int((counts >= 1).sum())


def plain_radius(districts: gpd.GeoDataFrame, points: gpd.GeoDataFrame, km: float) -> set:
    d = districts[["id", "geometry"]].to_crs(7755)
    p = points[["geometry"]].to_crs(7755)
    joined = gpd.sjoin(d, p, predicate="dwithin", distance=km * 1000)
    return set(joined["id"])


def command_seconds(args: list[str], repeat: int) -> float:
    def run():
        subprocess.run(args, check=True, capture_output=True)
    return timed(run, repeat)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat

    info = datasets.DATASETS["india_districts"]
    districts = read_boundaries(datasets.india_districts_path(), id_col=info["id_col"],
                                name_col=info["name_col"], group_col=info["group_col"],
                                weight_col=info["weight_col"])
    offices = pd.read_csv(ROOT / "data" / "india_post_offices.csv.gz", dtype=str)
    offices = gpd.GeoDataFrame(
        offices.assign(name=offices["office_name"], lat=offices["lat"].astype(float),
                       lon=offices["lon"].astype(float)),
        geometry=gpd.points_from_xy(offices["lon"].astype(float), offices["lat"].astype(float)),
        crs=4326)
    centres = read_points(datasets.india_sample_centres_path())

    rows = []
    t_cov, res = timed(lambda: assess(districts, offices, Rule()), repeat)
    t_plain, plain_n = timed(lambda: plain_presence(districts, offices), repeat)
    # offices on a shared border count in both districts for reachplan ('intersects'), in
    # neither for the plain 'within' script: report both figures
    rows.append((f"presence, {len(districts)} districts x {len(offices):,} post offices",
                 t_cov, t_plain, f"{res.summary['covered']} vs {plain_n} covered"))

    rule = Rule.radius(25)
    t_cov, res = timed(lambda: assess(districts, centres, rule), repeat)
    t_plain, plain_ids = timed(lambda: plain_radius(districts, centres, 25), repeat)
    ours = set(res.districts.loc[res.districts["covered"], "id"])
    rows.append((f"radius 25 km, {len(districts)} districts x {len(centres):,} centres",
                 t_cov, t_plain,
                 f"{len(ours)} vs {len(plain_ids)} covered; {len(ours ^ plain_ids)} differ"))

    reachplan = str(Path(sys.executable).with_name("reachplan"))
    t_help = command_seconds([reachplan, "--help"], repeat)
    t_gpd = command_seconds([sys.executable, "-c", "import geopandas"], repeat)
    rows.append(("`reachplan --help` start-up (plain: `import geopandas`)", t_help, t_gpd, ""))

    print(f"median of {repeat} runs; seconds\n")
    print("| task | reachplan | plain geopandas | plain / reachplan | notes |")
    print("|---|---:|---:|---:|---|")
    for task, ours_t, plain_t, note in rows:
        print(f"| {task} | {ours_t:.3f} | {plain_t:.3f} | {plain_t / ours_t:.1f}x | {note} |")


if __name__ == "__main__":
    main()
