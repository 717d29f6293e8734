"""``reachplan plan --capacity-col``: the capacitated plan (:func:`reachplan.capacity.
plan_capacity`) from the options, and its table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from reachplan.cli._capacity_options import CAPACITY_FLAGS, CapacityOptions, demand_points
from reachplan.cli._demand_options import DemandOptions
from reachplan.cli._report import num, pct, table
from reachplan.cli.errors import flags_for
from reachplan.cli.output import info


def run_capacity_plan(capacity: CapacityOptions, demand_opts: DemandOptions, centers,
                      candidates, districts, rule, *, candidate_capacity: str | None,
                      add: int | None, target: float | None, exclude: tuple[str, ...],
                      time_limit: float, weight_col: str | None,
                      progress: Callable[[dict[str, Any]], None] | None = None):
    """The capacitated plan (:func:`reachplan.capacity.plan_capacity`): (report dict, frame of
    the new sites), from the plan's options."""
    from reachplan.capacity import plan_capacity

    assert capacity.capacity_col is not None  # plan --capacity-col
    if candidates is None:
        raise click.UsageError("--capacity-col in plan needs --candidates FILE (sites that may "
                               "open) and --candidate-capacity N|COLUMN")
    if candidate_capacity is None:
        raise click.UsageError("--capacity-col in plan needs --candidate-capacity N|COLUMN: "
                               "the capacity of a new site")
    if exclude:
        raise click.UsageError("--exclude is not available with --capacity-col yet; remove "
                               "those rows from --candidates")
    points = demand_points(capacity, demand_opts, rule, weight_col=weight_col)
    info(f"capacitated plan: {len(candidates)} candidates")
    with flags_for(**CAPACITY_FLAGS):
        return plan_capacity(districts, centers, rule, capacity=capacity.capacity_col,
                             candidates=candidates,
                             candidate_capacity=candidate_capacity, demand=points,
                             demand_weight_col=demand_opts.demand_weight_col,
                             demand_rate=capacity.demand_rate, weight_col=weight_col,
                             add=add, target_pct=target,
                             time_limit=time_limit, rate_name="--demand-rate",
                             progress=progress)


def render_capacity_plan(report: dict[str, Any]) -> str:
    """The capacitated plan for people."""
    status = report["status"]
    gap = report["optimality_gap"]
    by_bound = status == "optimal" and report.get("optimality_proof") not in (
        None, "HiGHS", "trivial")
    if status == "optimal":
        how = "proved optimal by a simple bound" if by_bound else "HiGHS MILP, proved optimal"
    else:
        gap_text = "unknown gap" if gap is None else f"optimality gap {100 * gap:.2f}%"
        how = ("INTERRUPTED: best plan so far" if status == "interrupted"
               else "time limit reached: best plan found") + f" ({gap_text})"
    n = len(report["sites"])
    b, a = report["before"], report["after"]
    lines = [f"Capacitated plan: {n} new site{'s' if n != 1 else ''} ({how})",
             f"Capacity: {report['model']['capacity']}, new sites "
             f"{report['model']['candidate_capacity']}; demand {report['model']['demand']}",
             f"Demand served: {num(b['served'])} ({pct(b['served_pct'])}%) -> "
             f"{num(a['served'])} ({pct(a['served_pct'])}%) of {num(report['demand'])}"]
    if by_bound:
        lines.append(f"Optimal: {report['optimality_proof']}.")
    target = report["request"]["target"]
    if target is not None:
        lines.append(f"Target {target:g}% of demand served: the fewest sites that reach it.")
    if report["sites"]:
        rows = [[str(s["rank"]), s["name"], f"{s['lat']:.5f}", f"{s['lon']:.5f}",
                 num(s["capacity"]), num(s["load"]), pct(s["utilisation_pct"])]
                for s in report["sites"]]
        lines += ["", *table(rows, ["rank", "site", "lat", "lon", "capacity", "load",
                                    "% utilised"], align="rlrrrrr")]
    return "\n".join(lines) + "\n"
