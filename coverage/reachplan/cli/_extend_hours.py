"""``reachplan plan --extend-hours EXPR``: which sites' hours to extend, beside "open a site"
(the planning is :func:`reachplan.planning.extend_hours.extend_plan`)."""

from __future__ import annotations

from typing import Any

import click

from reachplan.cli.options import InputOptions
from reachplan.cli.output import emit_json, emit_report


def run_extend(inputs: InputOptions, extend_hours: str, *, target_worst_hour: float | None,
               target: float | None, add: int | None, method: str, candidates: str | None,
               capacity_col: str | None, map_path: str | None, output: str | None,
               fmt: str | None, overwrite: bool) -> None:
    """Read the inputs, plan the extensions and write the report (table or JSON)."""
    from reachplan.cli.inputs import load_inputs, week_of
    from reachplan.cli.inputs import site_hours as _site_hours
    from reachplan.planning.extend_hours import extend_plan

    if not inputs.hours_col:
        raise click.UsageError("--extend-hours needs --hours-col COL (the centres' opening "
                               "hours)")
    if inputs.at:
        raise click.UsageError("--extend-hours plans for the whole week: drop --at")
    if target is not None:
        raise click.UsageError("with --extend-hours give --target-worst-hour P, not --target")
    for flag, given in (("--candidates", candidates), ("--capacity-col", capacity_col),
                        ("--map", map_path)):
        if given:
            raise click.UsageError(f"{flag} is not taken with --extend-hours")
    from reachplan.io import STDOUT, output_suffix

    suffix = output_suffix(output, (".csv", ".xlsx", ".json", ".txt", STDOUT), "output") \
        if output else None
    districts, centers, rule = load_inputs(inputs)
    site_hours = _site_hours(centers, inputs)
    plan = extend_plan(districts, centers, rule, site_hours, extend_hours,
                       target=target_worst_hour, limit=add, method=method,
                       week_of=week_of(inputs))
    if suffix in (".csv", ".xlsx"):  # the steps, one row per extended site
        import pandas as pd

        from reachplan.cli.errors import flags_for
        from reachplan.io import write_table

        with flags_for(path="output"):
            write_table(pd.DataFrame(plan.steps, columns=STEP_COLUMNS), str(output),
                        overwrite=overwrite)
        output = None
    fmt = fmt or ("json" if suffix == ".json" else "table")
    if fmt == "json":
        emit_json(plan.as_dict(), output, overwrite)
    else:
        emit_report(extend_text(plan.as_dict()), output, overwrite)


STEP_COLUMNS = ["site", "name", "hours", "extend_to", "hours_added", "district_hours_gained",
                "worst_before", "worst_after", "worst_hour", "worst_percent", "hours_at_worst"]


def extend_text(report: dict[str, Any]) -> str:
    """The plan for people: the worst hour before, each step, the worst hour after."""
    from reachplan.text import for_terminal

    def worst(w: dict[str, Any]) -> str:
        return (f"{w['covered']} of {w['districts']} districts ({w['percent']:.2f} %) at "
                f"{w['worst_hour']} and {w['hours_at_worst'] - 1} other hour(s)")
    target = report["target_worst_hour"]
    lines = [f"Extend hours to {for_terminal(report['extend_to'])!s} "
             f"({report['method']}, {report['candidates']} candidate site(s); "
             f"{report['status'].replace('_', ' ')}"
             + (f", target {target:g} % in the worst hour" if target is not None else "") + ")",
             f"Worst hour before: {worst(report['before'])}"]
    for n, s in enumerate(report["steps"], 1):
        lines.append(f"  {n}. {for_terminal(s['site'])} {for_terminal(s['name'])} "
                     f"({for_terminal(s['hours'])}): +{s['hours_added']} open hour(s), "
                     f"+{s['district_hours_gained']} district-hours; worst hour "
                     f"{s['worst_before']} -> {s['worst_after']} of districts, now "
                     f"{s['worst_hour']} ({s['worst_percent']:.2f} %)")
    lines.append(f"Worst hour after: {worst(report['after'])}")
    if report["status"] == "target_unreachable":
        lines.append(f"Even with every candidate extended: {worst(report['bound'])}")
    return "\n".join(lines) + "\n"
