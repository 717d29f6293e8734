"""Benchmark: coverage by hour of the week (issue 23) on India's 777 districts and the 2,000
sample centres, with the synthetic hours per centre type of
:data:`reachplan.datasets.INDIA_SAMPLE_HOURS` (a model, not any network's published hours).

Rows (medians of --repeat runs):
- one plain coverage run: ``assess`` under a 25 km radius (the reach table built inside)
- the reach table alone: ``hours.reach_matrix`` (the rule's pairs, once)
- the whole week after the reach table exists: ``week_profile(..., reach=...)`` (168 open
  masks from the parser, the sparse product, every summary)
- the whole week from scratch: ``week_profile`` (reach table included)
- the 19,416 PIN-code centroids (@india-pincodes) as demand points x the week:
  ``week_demand`` (their point-centre pairs once, then the 168 masks)

Targets: the week after the reach table <= 1 s and <= 1.2x one plain coverage run; demand
points x the week <= 3 s.

Run: PYTHONPATH=coverage .venv/bin/python benchmarks/bench_hours.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

from reachplan import hours
from reachplan.datasets import INDIA_SAMPLE_HOURS
from reachplan.engine import assess
from reachplan.io import read_boundaries, read_points
from reachplan.rules import Rule

WEEK = date(2027, 1, 27)  # the week of Republic Day (Tuesday 26 January 2027)


def _median(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from reachplan.cli.inputs import resolve_dataset

    path, columns = resolve_dataset("@india", "boundaries")
    districts = read_boundaries(path, **columns)
    path, columns = resolve_dataset("@india-sample", "centers")
    centres = read_points(path, name_col=columns.get("name_col"))
    centres["hours"] = centres["type"].map(INDIA_SAMPLE_HOURS)
    centres, site_hours = hours.read_hours(centres, "hours", country="IN")
    rule = Rule.radius(25.0)
    hours.open_mask(site_hours, hours.week_moments(hours.week_start(WEEK)))  # parse once
    plain, _ = _median(lambda: assess(districts, centres, rule, nearest=False), args.repeat)
    table, reach = _median(lambda: hours.reach_matrix(districts, centres, rule), args.repeat)
    week, profile = _median(lambda: hours.week_profile(districts, centres, rule, site_hours,
                                                       week_of=WEEK, reach=reach), args.repeat)
    whole, _ = _median(lambda: hours.week_profile(districts, centres, rule, site_hours,
                                                  week_of=WEEK), args.repeat)
    path, _ = resolve_dataset("@india-pincodes", "demand")
    pins = read_points(path)
    demand, _ = _median(lambda: hours.week_demand(centres, pins["lat"].to_numpy(),
                                                  pins["lon"].to_numpy(), rule, site_hours,
                                                  week_of=WEEK), args.repeat)
    from reachplan.planning.extend_hours import extend_plan

    extend, plan = _median(lambda: extend_plan(districts, centres, rule, site_hours, "24/7",
                                               target=50, week_of=WEEK, reach=reach),
                           args.repeat)
    print(f"India: {len(districts)} districts x {len(centres)} centres, 25 km, "
          f"week of {profile.start:%Y-%m-%d}; median of {args.repeat}")
    print(f"{'run':<44} {'seconds':>8} {'x plain':>8}")
    for name, secs in [("one plain coverage run (assess)", plain),
                       ("the reach table (rule.pairs, once)", table),
                       ("the week after the reach table exists", week),
                       ("the week from scratch", whole),
                       (f"{len(pins):,} PIN-code demand points x the week", demand),
                       (f"extend to 24/7, worst hour >= 50% ({len(plan.steps)} sites)",
                        extend)]:
        print(f"{name:<44} {secs:>8.3f} {secs / plain:>8.2f}")
    worst = profile.worst(1).iloc[0]
    print(f"worst hour: {worst['day']} {worst['hour']:02d}:00, {worst['covered']} of "
          f"{worst['districts']} districts ({worst['percent']} %)")


if __name__ == "__main__":
    main()
