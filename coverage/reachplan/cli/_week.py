"""``reachplan coverage --week``: the 168-hour profile of a network with opening hours."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from reachplan.cli.errors import flags_for
from reachplan.cli.output import emit_json, emit_report, log_warnings

if TYPE_CHECKING:
    from reachplan.cli._capacity_options import CapacityOptions
    from reachplan.cli._demand_options import DemandOptions
    from reachplan.cli.options import InputOptions


def run_week(opts: InputOptions, demand: DemandOptions, capacity: CapacityOptions,
             fmt: str | None, output: str | None, overwrite: bool, heatmap: str | None) -> None:
    """Read the inputs, compute the week profile once and write it as ``fmt`` says."""
    from reachplan import hours
    from reachplan.cli.inputs import load_inputs, week_of
    from reachplan.cli.inputs import site_hours as _site_hours

    if not opts.hours_col:
        raise click.UsageError("--week needs --hours-col COL (the centres' opening hours)")
    if opts.at:
        raise click.UsageError("give --week or --at WHEN, not both")
    for flag, value in (("--capacity-col", capacity.capacity_col),
                        ("--capacity-output", capacity.capacity_output),
                        ("--demand-rate", capacity.demand_rate)):
        if value is not None:
            raise click.UsageError(f"{flag} is not taken with --week")
    districts, centers, rule = load_inputs(opts)  # the centres whose hours parse
    site_hours = _site_hours(centers, opts)
    profile = hours.week_profile(districts, centers, rule, site_hours, week_of=week_of(opts),
                                 type_col=opts.type_col)
    if demand.demand:
        profile.hours = profile.hours.join(week_demand(demand, centers, rule, site_hours,
                                                       week_of(opts)))
    if profile.clashes:
        log_warnings([f"{len(profile.clashes)} hour(s) when a site (--site-col) is open at two "
                      f"places at once, each counted once: " + ", ".join(profile.clashes[:5])
                      + (", ..." if len(profile.clashes) > 5 else "")])
    if heatmap:
        from reachplan.maps.week import write_week_png

        with flags_for(path="heatmap"):
            write_week_png(profile, heatmap, overwrite=overwrite)
    write_week(profile, fmt, output, overwrite)


def week_demand(own: DemandOptions, centers: Any, rule: Any, site_hours: Any,
                week: Any) -> Any:
    """``--demand`` points covered in each hour (their point–site pairs once)."""
    from reachplan import hours
    from reachplan.cli.errors import DEMAND_FLAGS
    from reachplan.cli.inputs import resolve_dataset
    from reachplan.io import read_points
    from reachplan.rules import reaches_points

    for flag, value in (("--demand-output", own.demand_output), ("--scheduler", own.scheduler)):
        if value:
            raise click.UsageError(f"{flag} is not taken with --week")
    if own.engine != "memory":
        raise click.UsageError("--engine dask is not taken with --week")
    if not reaches_points(rule):  # presence asks no point
        raise click.UsageError("--demand needs --radius-km R: a demand point is covered when a "
                               "centre lies within R km")
    source, _ = resolve_dataset(own.demand or "", "demand")  # given: run_week checks
    with flags_for(**DEMAND_FLAGS):
        points = read_points(source, lat_col=own.demand_lat_col,
                             lon_col=own.demand_lon_col)
        weight_col = own.demand_weight_col
        if weight_col and weight_col not in points.columns:
            from reachplan.errors import InputError

            raise InputError(f"{source}: no column '{weight_col}' (given by weight_col)",
                             params=("weight_col",))
    log_warnings(points.attrs.get("warnings", []))
    weight = (points[weight_col].to_numpy(dtype=float) if weight_col else None)
    return hours.week_demand(centers, points["lat"].to_numpy(), points["lon"].to_numpy(), rule,
                             site_hours, weight=weight, week_of=week)


def week_dict(profile: Any) -> dict[str, Any]:
    """The JSON of a week profile: hours, worst hours, per-district hours covered."""
    from reachplan.engine import _clean

    def records(frame: Any) -> list[dict[str, Any]]:
        return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]
    return {"week_start": f"{profile.start:%Y-%m-%d}", "without_hours": profile.without_hours,
            "hours": records(profile.hours), "worst": records(profile.worst()),
            "groups": records(profile.groups), "districts": records(profile.districts)}


def week_text(profile: Any, worst: int = 5) -> str:
    """The week for people: % of districts covered, day × hour, and the worst hours."""
    values = profile.hours["percent"].to_numpy().reshape(7, 24)
    lines = [f"Coverage by hour, week of {profile.start:%Y-%m-%d} (% of districts covered; "
             f"{profile.without_hours} centre(s) without hours count as always open)",
             "     " + " ".join(f"{h:>3}" for h in range(24))]
    for d, day in enumerate(("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")):
        lines.append(f"{day}   " + " ".join(f"{v:>3.0f}" for v in values[d]))
    lines.append("Worst hours:" if worst > 1 else "Worst hour:")
    for row in profile.worst(worst).itertuples():
        demand = (f", demand points {row.demand_percent:.2f} %"
                  if "demand_percent" in profile.hours.columns else "")
        lines.append(f"  {row.day} {row.hour:02d}:00 ({row.start}): {row.covered} of "
                     f"{row.districts} districts ({row.percent:.2f} %){demand}, "
                     f"{row.open_sites} centre(s) open")
    return "\n".join(lines) + "\n"


def write_week(profile: Any, fmt: str | None, output: str | None, overwrite: bool) -> None:
    """table (text), json, or csv/xlsx (one row per hour) to ``output`` or stdout."""
    if fmt == "json":
        emit_json(week_dict(profile), output, overwrite)
    elif fmt == "csv":
        from reachplan.io import write_table

        with flags_for(path="output"):
            write_table(profile.hours, output or "-", overwrite=overwrite)
    else:
        emit_report(week_text(profile), output, overwrite)
