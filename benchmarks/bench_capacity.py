"""Benchmark: capacity and accessibility on India Post branch offices (issue 11).

Instance (a model, not real loads): the ~126,700 branch offices (type BO) of
data/india_post_offices.csv.gz are demand points of weight 1 each; the 2,000 sample centres of
data/india_sample_centres.csv are supply, with a capacity modelled by centre type
(CAPACITY_MODEL, offices served per centre); pairs are every office-centre pair within 30 km
(geodesic WGS84, reachplan.capacity.radius_pairs). For the expansion, the 809 head offices (HO)
are candidate sites with capacity CANDIDATE_CAPACITY each.

Rows (times are medians of --repeat runs, except the HiGHS LP and the MILP, run once; a run of
2SFCA is the mean of 20 calls for reachplan, 5 for PySAL, as single calls of milliseconds are
mostly noise):
- pairs within 30 km (exact geodesic)
- allocation, reachplan (OR-Tools min-cost flow after the exact component reduction)
- allocation, HiGHS LP (two simplex solves): the plain LP, same optimum
- 2SFCA and E2SFCA, reachplan vs PySAL access ``two_stage_fca`` on the same pairs (max cost
  30 km; E2SFCA with bands 10/20/30 km -> 1/0.68/0.22, PySAL's ``weights.step_fn``)
- capacitated expansion, K=25 head offices, HiGHS MILP, time limit 60 s: status and gap

Targets: allocation <= 3 s; 2SFCA >= 10x PySAL access; expansion proved or gap in <= 60 s.

Run: .venv/bin/python benchmarks/bench_capacity.py [--repeat 3] [--skip-lp]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from reachplan.capacity import accessibility, allocate, expand, radius_pairs, step

ROOT = Path(__file__).resolve().parents[1]
RADIUS_M = 30_000.0
CAPACITY_MODEL = {"premium": 200, "direct": 60, "partner": 30, "van": 15}  # a model
CANDIDATE_CAPACITY = 500  # a model: a new hub
K = 25


def _median(fn, repeat, inner=1):
    """Median over ``repeat`` runs of the mean time of ``inner`` calls (inner > 1 for calls of
    milliseconds, whose single timings are mostly noise on a busy machine)."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(inner):
            out = fn()
        times.append((time.perf_counter() - t) / inner)
    return out, statistics.median(times)


def _pysal(p, c, m, demand, supply, weight_fn=None):
    import access

    demand_df = pd.DataFrame({"geoid": np.arange(demand.size), "pop": demand})
    supply_df = pd.DataFrame({"geoid": np.arange(supply.size), "cap": supply})
    cost_df = pd.DataFrame({"origin": p, "dest": c, "cost": m})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acc = access.Access(demand_df=demand_df, demand_index="geoid", demand_value="pop",
                            supply_df=supply_df, supply_index="geoid", supply_value="cap",
                            cost_df=cost_df, cost_origin="origin", cost_dest="dest",
                            cost_name="cost")
        out = acc.two_stage_fca(max_cost=RADIUS_M, weight_fn=weight_fn)
    return out.iloc[:, 0].reindex(range(demand.size)).fillna(0.0).to_numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-lp", action="store_true", help="skip the slow HiGHS LP row")
    args = ap.parse_args()
    threads = os.cpu_count() or 1

    offices = pd.read_csv(ROOT / "data" / "india_post_offices.csv.gz", dtype=str)
    branch = offices[offices["office_type"] == "BO"]
    heads = offices[offices["office_type"] == "HO"]
    centres = pd.read_csv(ROOT / "data" / "india_sample_centres.csv", dtype=str)
    lat, lon = branch["lat"].astype(float).to_numpy(), branch["lon"].astype(float).to_numpy()
    clat, clon = centres["lat"].astype(float).to_numpy(), centres["lon"].astype(float).to_numpy()
    demand = np.ones(lat.size)
    capacity = centres["type"].map(CAPACITY_MODEL).astype(float).to_numpy()

    (p, c, m), t_pairs = _median(
        lambda: radius_pairs(lat, lon, clat, clon, RADIUS_M, threads=threads), args.repeat)
    alloc, t_alloc = _median(lambda: allocate(p, c, m, demand, capacity), args.repeat)
    rows = [("pairs within 30 km (geodesic)", f"{p.size:,} pairs", t_pairs, ""),
            ("allocation, reachplan (min-cost flow)",
             f"{alloc.total_served:,.0f} served, {alloc.status}", t_alloc, "target <= 3 s")]
    if not args.skip_lp:
        lp, t_lp = _median(lambda: allocate(p, c, m, demand, capacity, method="lp"), 1)
        same = (lp.total_served == alloc.total_served
                and abs(lp.total_cost - alloc.total_cost) <= 1e-6 * alloc.total_cost + 1)
        rows.append(("allocation, HiGHS LP (two solves)",
                     f"{lp.total_served:,.0f} served, {lp.status}", t_lp,
                     f"same optimum: {same}"))
    import access

    bands = {10_000: 1.0, 20_000: 0.68, 30_000: 0.22}  # E2SFCA bands in metres
    for label, decay, fn in (("2SFCA", None, None),
                             ("E2SFCA (bands 10/20/30 km)", step(bands),
                              access.weights.step_fn(bands))):
        ours, t_ours = _median(lambda d=decay: accessibility(p, c, m, demand, capacity,
                                                             max_cost=RADIUS_M, decay=d),
                               args.repeat, inner=20)
        ref, t_ref = _median(lambda f=fn: _pysal(p, c, m, demand, capacity, f), args.repeat,
                             inner=5 if fn is None else 1)
        equal = bool(np.allclose(ours, ref, rtol=1e-12, atol=0))
        rows.append((f"{label}, reachplan", f"equal to PySAL access: {equal}", t_ours,
                     f"{t_ref / t_ours:.0f}x PySAL access (target >= 10x)"))
        rows.append((f"{label}, PySAL access two_stage_fca", "", t_ref, ""))

    # expansion: existing centres + head offices as candidates
    hlat, hlon = heads["lat"].astype(float).to_numpy(), heads["lon"].astype(float).to_numpy()
    slat, slon = np.concatenate([clat, hlat]), np.concatenate([clon, hlon])
    sp, sc, sm = radius_pairs(lat, lon, slat, slon, RADIUS_M, threads=threads)
    scap = np.concatenate([capacity, np.full(hlat.size, float(CANDIDATE_CAPACITY))])
    cand = np.r_[np.zeros(clat.size, bool), np.ones(hlat.size, bool)]
    t = time.perf_counter()
    plan = expand(sp, sc, sm, demand, scap, cand, add=K, time_limit=60.0)
    t_plan = time.perf_counter() - t
    gap = "n/a" if plan.gap is None else f"{100 * plan.gap:.3f}%"
    rows.append((f"expansion K={K} of {hlat.size} head offices (MILP)",
                 f"{plan.status}, gap {gap}; served {plan.baseline_served:,.0f} -> "
                 f"{plan.served:,.0f} (greedy {plan.greedy_served:,.0f})", t_plan,
                 f"{plan.details['merged_points']:,} merged points"))

    print(f"India Post branch offices: {lat.size:,} demand points (weight 1 each) x "
          f"{clat.size:,} centres within {RADIUS_M / 1000:g} km; capacity model by type "
          f"{CAPACITY_MODEL} (a model); {alloc.percent_served}% of all demand served")
    print(f"Python {platform.python_version()}, {threads} cores; medians of {args.repeat} runs "
          "(LP and MILP once)")
    print()
    print(f"| {'step':<44} | {'result':<56} | {'seconds':>8} | note")
    print(f"|{'-' * 46}|{'-' * 58}|{'-' * 10}|------")
    for name, result, secs, note in rows:
        print(f"| {name:<44} | {result:<56} | {secs:>8.3f} | {note}")


if __name__ == "__main__":
    main()
