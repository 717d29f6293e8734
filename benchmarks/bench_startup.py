"""Start-up of a real command: ``reachplan coverage`` vs a plain geopandas script, end to end.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--repeat 15]``. Prints a Markdown table
of medians (seconds, wall clock) and ratios. Each run is a fresh process (imports, reading the
files, the join, the output), the two sides alternating so that a busy machine slows both.

Inputs, small and real, written once to a temporary folder from the embedded data:

* South India: the 142 districts of Andhra Pradesh, Karnataka, Kerala, Tamil Nadu and
  Telangana (GeoJSON) x their 296 post head offices (CSV);
* Uttar Pradesh: 75 districts x 66 head offices.

The plain script reads both files with geopandas, joins the points to the districts
(``sjoin(predicate="within")``), counts the covered districts per state and prints them: the
same answer as ``reachplan coverage --group-col state``, which also checks its inputs. One more
row times ``--format json``, which also finds each uncovered district's nearest centre
(geodesic), work the plain script does not do.

A second table times the plan of issue 13, ``reachplan plan @india @india-post-ho --radius-km 30
--candidates @india-pincodes --add 25`` end to end, and its geodesic matrices in a child
process (median of 3): the one the plan builds (uncovered districts x candidates) and the
whole India x 19,416 PIN codes. ``--src DIR`` runs another checkout's ``coverage/`` (e.g.
``git worktree add /tmp/old main``) in the same runs, as the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "South India, 142 districts x 296 head offices": [
        "Andhra Pradesh", "Karnataka", "Kerala", "Tamil Nadu", "Telangana"],
    "Uttar Pradesh, 75 districts x 66 head offices": ["Uttar Pradesh"],
}

PLAIN = """\
import sys

import geopandas as gpd
import pandas as pd

districts = gpd.read_file(sys.argv[1])
table = pd.read_csv(sys.argv[2])
centres = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]),
                           crs="EPSG:4326")
joined = gpd.sjoin(centres[["geometry"]], districts[["lgd_code", "geometry"]],
                   predicate="within")
districts["covered"] = districts["lgd_code"].isin(joined["lgd_code"])
by_state = districts.groupby("state")["covered"].agg(["size", "sum"])
by_state["percent"] = (100 * by_state["sum"] / by_state["size"]).round(2)
print(f"Districts covered: {districts['covered'].sum()} of {len(districts)}")
print(by_state.to_string())
"""


def write_inputs(folder: Path) -> dict[str, tuple[Path, Path]]:
    import geopandas as gpd
    import pandas as pd

    districts = gpd.read_file(ROOT / "data" / "india_districts.fgb")
    offices = pd.read_csv(ROOT / "data" / "india_post_head_offices.csv", dtype=str)
    paths = {}
    for n, (label, states) in enumerate(CASES.items()):
        d, c = folder / f"districts{n}.geojson", folder / f"centres{n}.csv"
        districts[districts["state"].isin(states)].to_file(d)
        offices[offices["state"].isin(states)].to_csv(c, index=False)
        paths[label] = (d, c)
    return paths


def reachplan_cmd(src: str | None) -> list[str]:
    if src is None:
        return [str(Path(sys.executable).with_name("reachplan"))]
    boot = (f"import sys; sys.path.insert(0, {str(Path(src) / 'coverage')!r}); "
            "sys.argv[0] = 'reachplan'; from reachplan.cli.main import cli; cli()")
    return [sys.executable, "-c", boot]


# as after ``pip install``, where modules are byte-compiled: the warm-up run writes them
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=_ENV)
    return time.perf_counter() - start


PLAN = ["plan", "@india", "@india-post-ho", "--radius-km", "30", "--candidates",
        "@india-pincodes", "--add", "25", "--format", "json"]

MATRIX = """\
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from reachplan import datasets
from reachplan.engine import assess
from reachplan.io import read_boundaries, read_points
from reachplan.planning.sites import candidate_matrix
from reachplan.rules import Radius
info = datasets.DATASETS["india_districts"]
d = read_boundaries(datasets.dataset_path("india_districts"), id_col=info["id_col"])
ho = read_points(datasets.dataset_path("india_head_offices"))
cand = read_points(datasets.dataset_path("india_pincodes"))
rule = Radius(30)
covered = assess(d, ho, rule).districts["covered"].to_numpy(dtype=bool)
todo = d.iloc[np.flatnonzero(~covered)]
def median(fn):
    times = []
    for _ in range(3):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out
plan_s, a = median(lambda: candidate_matrix(todo, cand, rule))
full_s, p = median(lambda: rule.pairs(d.geometry, cand.geometry))
print(json.dumps({"plan": plan_s, "plan_rows": len(todo), "plan_nnz": int(a.nnz),
                  "full": full_s, "full_nnz": int(len(p[0]))}))
"""


def plan_table(src: str | None, repeat: int) -> None:
    sides = {"this checkout": (reachplan_cmd(None), str(ROOT / "coverage"))}
    if src is not None:
        sides[f"baseline ({src})"] = (reachplan_cmd(src), str(Path(src) / "coverage"))
    for cmd, _ in sides.values():
        run(cmd + PLAN)  # warm up, write the .pyc files
    plan_times: dict[str, list[float]] = {label: [] for label in sides}
    for _ in range(repeat):
        for label, (cmd, _) in sides.items():
            plan_times[label].append(run(cmd + PLAN))
    print("\n`reachplan plan` on India x 785 head offices, 19,416 PIN-code candidates, 30 km, "
          f"--add 25: median of {repeat} end-to-end runs; matrices median of 3 in one child\n")
    print("| side | plan end to end (s) | plan's matrix (s) | India x PIN codes matrix (s) |")
    print("|---|---:|---:|---:|")
    for label, (_, path) in sides.items():
        out = subprocess.run([sys.executable, "-c", MATRIX, path], check=True,
                             capture_output=True, text=True, env=_ENV).stdout
        m = json.loads(out.strip().splitlines()[-1])
        print(f"| {label} | {statistics.median(plan_times[label]):.2f} | {m['plan']:.3f} "
              f"({m['plan_rows']} rows, {m['plan_nnz']:,} pairs) | {m['full']:.2f} "
              f"({m['full_nnz']:,} pairs) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--src", default=None, help="another checkout to run reachplan from")
    parser.add_argument("--plan-repeat", type=int, default=5)
    args = parser.parse_args()
    sides = {"": reachplan_cmd(None)}
    if args.src:
        sides[" (baseline)"] = reachplan_cmd(args.src)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = folder / "plain.py"
        script.write_text(PLAIN)
        jobs = {}
        for n, (label, (d, c)) in enumerate(write_inputs(folder).items()):
            for fmt in ("table", "json")[:2 - n]:  # JSON (nearest centres) on the first only
                for tag, reachplan in sides.items():
                    jobs[label + ("" if fmt == "table" else ", `--format json`") + tag] = (
                        reachplan + ["coverage", str(d), str(c), "--id-col", "lgd_code",
                                   "--name-col", "district", "--group-col", "state",
                                   "--format", fmt],
                        [sys.executable, str(script), str(d), str(c)])
        for tag, reachplan in sides.items():
            jobs["`reachplan --help` (plain: `import geopandas`)" + tag] = (
                reachplan + ["--help"], [sys.executable, "-c", "import geopandas"])
        rows = []
        for label, (ours, plain) in jobs.items():
            run(ours), run(plain)  # warm the file cache, write the .pyc files
            t_ours, t_plain, wins = [], [], 0
            for _ in range(args.repeat):
                t_ours.append(run(ours))
                t_plain.append(run(plain))
                wins += t_ours[-1] <= t_plain[-1]
            rows.append((label, statistics.median(t_ours), statistics.median(t_plain),
                         f"{wins} of {args.repeat}"))
    print(f"\n{args.repeat} alternating runs each, median wall-clock seconds"
          + (f"; baseline: reachplan from {args.src}" if args.src else "") + "\n")
    print("| task | reachplan (s) | plain (s) | plain / reachplan | reachplan no slower in |")
    print("|---|---:|---:|---:|---:|")
    for label, ours, plain, wins in rows:
        print(f"| {label} | {ours:.3f} | {plain:.3f} | {plain / ours:.2f}x | {wins} |")
    if args.plan_repeat:
        plan_table(args.src, args.plan_repeat)


if __name__ == "__main__":
    main()
