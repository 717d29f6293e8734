"""``reachplan plan --capacity-col``: capacitated expansion (:func:`reachplan.capacity.expand`)
with its JSON report and table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from reachplan.cli._capacity_options import _records, centre_capacity, demand_pairs
from reachplan.cli._report import num, pct, table
from reachplan.cli.options import ReachplanUsageError, info

if TYPE_CHECKING:
    import numpy as np


def candidate_capacity(candidates, value: str) -> np.ndarray:
    """``--candidate-capacity``: one number for every candidate, or a column of --candidates
    (checked: errors name the file, column and row)."""
    import numpy as np

    from reachplan.capacity import column_amounts

    try:
        amount = float(value)
    except ValueError:
        amount = None
    if amount is not None:
        if not (np.isfinite(amount) and amount >= 0):
            raise click.BadParameter(f"{value}: give a capacity >= 0 or a column of "
                                     "--candidates", param_hint="--candidate-capacity")
        return np.full(len(candidates), amount)
    return column_amounts(candidates, value, label=candidates.attrs.get("source", "candidates"),
                          rows=candidates["line"].tolist())


def run_capacity_plan(own: dict[str, Any], demand_opts: dict[str, Any], centers,
                      candidates, districts, rule, *, weight_col: str | None,
                      progress: Callable[[dict[str, Any]], None] | None = None):
    """The capacitated plan: (report dict, per-site frame of the new sites). ``own`` holds the
    plan's options (add, target, time_limit, exclude) and capacity_col, demand_rate,
    candidate_capacity."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from reachplan.capacity import expand
    from reachplan.errors import InputError

    if candidates is None:
        raise click.UsageError("--capacity-col in plan needs --candidates FILE (sites that may "
                               "open) and --candidate-capacity N|COLUMN")
    if own.get("candidate_capacity") is None:
        raise click.UsageError("--capacity-col in plan needs --candidate-capacity N|COLUMN: "
                               "the capacity of a new site")
    if own.get("exclude"):
        raise click.UsageError("--exclude is not available with --capacity-col yet; remove "
                               "those rows from --candidates")
    col = own["capacity_col"]
    cap_existing = centre_capacity(centers, col)
    cap_new = candidate_capacity(candidates, own["candidate_capacity"])
    capacity = np.r_[cap_existing, cap_new]
    if capacity.size and capacity.sum() <= 0:
        raise ReachplanUsageError(f"{centers.attrs.get('source', 'CENTERS')}: column '{col}' and "
                                "--candidate-capacity: total capacity is 0")
    sites = gpd.GeoDataFrame(
        geometry=pd.concat([centers.geometry, candidates.geometry], ignore_index=True),
        crs="EPSG:4326")
    demand, pairs, _district_of, model = demand_pairs(own, demand_opts, sites, districts, rule,
                                                      weight_col=weight_col)
    is_candidate = np.r_[np.zeros(len(centers), bool), np.ones(len(candidates), bool)]
    info(f"capacitated plan: {demand.size} demand rows, {len(candidates)} candidates, "
         f"{pairs[0].size} pairs")
    target = own.get("target")
    try:
        result = expand(pairs[0], pairs[1], pairs[2], demand, capacity, is_candidate,
                        add=own.get("add"), target_pct=target, time_limit=own["time_limit"],
                        progress=progress)
    except InputError as exc:  # the plan's option for target_pct is --target
        params = tuple("target" if p == "target_pct" else p for p in exc.params)
        raise InputError(str(exc).replace("target_pct", "target"), params=params) from None
    alloc = result.allocation
    n_old = len(centers)
    chosen = [int(i) for i in result.chosen]
    rows = pd.DataFrame({
        "name": [str(candidates["name"].iloc[i - n_old]) for i in chosen],
        "lat": [float(candidates["lat"].iloc[i - n_old]) for i in chosen],
        "lon": [float(candidates["lon"].iloc[i - n_old]) for i in chosen],
        "capacity": capacity[chosen] if chosen else np.zeros(0),
        "load": alloc.load[chosen] if chosen else np.zeros(0),
    })
    rows["utilisation_pct"] = (100.0 * rows["load"] / rows["capacity"].where(
        rows["capacity"] > 0)).round(4)
    rows = rows.sort_values(["load", "name"], ascending=[False, True], kind="stable")
    rows.insert(0, "rank", range(1, len(rows) + 1))
    total = float(demand.sum())
    report = {
        "kind": "capacitated",
        "status": result.status,
        "optimality_gap": result.gap,
        "optimality_proof": result.details.get("proof"),
        "method": "highs-milp",
        "model": {"capacity": f"column '{col}'",
                  "candidate_capacity": own["candidate_capacity"], **model,
                  "rule": rule.to_dict(), "cost_unit": rule.unit},
        "request": {"add": own.get("add"), "target": target,
                    "time_limit": own["time_limit"]},
        "before": {"served": _amount(result.baseline_served),
                   "served_pct": _share(result.baseline_served, total)},
        "after": {"served": _amount(result.served), "served_pct": result.served_pct},
        "greedy_served": _amount(result.greedy_served),
        "demand": _amount(total),
        "sites": _records(rows),
        "capacity": alloc.to_dict(),
    }
    sites_frame = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]),
                                   crs="EPSG:4326")
    return report, sites_frame


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


def _amount(value: float) -> float | int:
    import numpy as np

    return int(value) if np.isfinite(value) and value == int(value) else round(value, 6)


def _share(part: float, whole: float) -> float | None:
    return None if whole <= 0 else round(100.0 * part / whole, 4)
