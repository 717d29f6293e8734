"""Check rules at a moment (``at = "Su 20:00"``) or at every hour of the week
(``at = "every hour"``): each is evaluated on the result of the centres open then, and its
outcome names the moment (the worst hour of the week for ``every hour``)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from reachplan.cli.options import CentreOptions


def timed_outcomes(rules: list[Any], opts: CentreOptions, districts: Any, centers: Any,
                   rule: Any, evaluate: Any) -> list[Any]:
    """Outcomes of the rules with an ``at``, in their order; ``evaluate(rules, data)`` is
    the command's evaluation (its errors name the command's options)."""
    if not rules:
        return []
    from reachplan import hours
    from reachplan.checks.rules import EVERY_HOUR
    from reachplan.cli import inputs
    from reachplan.cli.errors import CENTRE_FLAGS, flags_for
    from reachplan.cli.inputs import week_of

    if not opts.hours_col or opts.at:
        raise click.UsageError(f"rule '{rules[0].name}' is at {rules[0].at!r}: give "
                               "--hours-col COL (the centres' opening hours) and no --at")
    with flags_for(**CENTRE_FLAGS):
        site_hours = inputs.site_hours(centers, opts)
        week = None
        out = []
        for check in rules:
            if check.at == EVERY_HOUR:
                if week is None:
                    week = hours.week_profile(districts, centers, rule, site_hours,
                                              week_of=week_of(opts))
                moment = _worst(week, check.metric)
                label = f"worst hour {moment:%a %H:%M} ({moment:%Y-%m-%d})"
            else:
                with flags_for(at=None):
                    moment = _moment(check, week_of(opts))
                label = f"at {moment:%a %H:%M} ({moment:%Y-%m-%d})"
            data = _result_at(districts, centers, rule, site_hours, moment, opts)
            out += [_named(o, label) for o in evaluate([check], data)]
    return out


def _moment(check: Any, week_of: Any) -> datetime:
    from reachplan import hours
    from reachplan.errors import InputError

    try:
        return hours.parse_when(check.at, week_of=week_of)
    except InputError:
        raise InputError(f"rule '{check.name}': key 'at': {check.at!r} is not a moment; give "
                         "'Su 20:00', '2026-12-05 20:00' or 'every hour'") from None


def _worst(week: Any, metric: str) -> datetime:
    """The hour of the week with the least coverage by ``metric`` (earliest among ties)."""
    column = "weight_percent" if metric == "weight_percent" else "covered"
    row = week.hours.sort_values([column, "start"], kind="stable").iloc[0]
    return datetime.fromisoformat(row["start"])


def _result_at(districts: Any, centers: Any, rule: Any, site_hours: Any, moment: datetime,
               opts: CentreOptions) -> dict[str, Any]:
    """The coverage JSON of the centres open at ``moment``."""
    from reachplan import hours
    from reachplan.cli._report import result_dict
    from reachplan.engine import assess

    is_open = hours.open_at(site_hours, moment)
    result = assess(districts, centers[is_open].reset_index(drop=True), rule,
                    type_col=opts.type_col)
    return result_dict(result, None)


def _named(outcome: Any, label: str) -> Any:
    return dataclasses.replace(outcome, scope=f"{outcome.scope} {label}",
                               message=f"{label}: {outcome.message}")


def hours_covered_outcomes(least: float | None, opts: CentreOptions, districts: Any,
                           centers: Any, rule: Any) -> list[Any]:
    """``--min-hours-covered H``: fail when a district is covered fewer than H hours of the
    week (the districts below, fewest hours first, in the details)."""
    if least is None:
        return []
    from reachplan import hours
    from reachplan.checks import Outcome
    from reachplan.cli import inputs
    from reachplan.cli.inputs import week_of

    if not opts.hours_col or opts.at:
        raise click.UsageError("--min-hours-covered needs --hours-col COL (the centres' "
                               "opening hours) and no --at")
    site_hours = inputs.site_hours(centers, opts)
    week = hours.week_profile(districts, centers, rule, site_hours, week_of=week_of(opts))
    table = week.districts.sort_values(["hours_covered", "id"], kind="stable")
    below = table[table["hours_covered"] < least]
    fewest = int(table["hours_covered"].iloc[0]) if len(table) else 0
    message = (f"week of {week.start:%Y-%m-%d}: {len(below)} of {len(table)} districts covered "
               f"fewer than {least:g} hours" + (f" (fewest: {fewest} h), below "
                                                f"--min-hours-covered {least:g}"
                                                if len(below) else ""))
    details = tuple(f"{r.id} {r.name}: {r.hours_covered} h" for r in below.head(5).itertuples())
    if len(below) > 5:
        details += (f"… {len(below) - 5} more",)
    return [Outcome("min-hours-covered", "districts", "hours_covered", float(fewest),
                    "fail" if len(below) else "pass", message, {"fail_below": float(least)},
                    details)]
