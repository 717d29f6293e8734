"""``reachplan check``: guard coverage numbers in CI (rules, baseline, golden file, reports)."""

from __future__ import annotations

import os
from typing import Any

import click

from reachplan._words import plural
from reachplan.cli import options
from reachplan.cli._demand_options import (
    DemandOptions,
    add_demand_columns,
    demand_options,
    run_demand,
)
from reachplan.cli._report import table
from reachplan.cli.errors import ReachplanUsageError, handle_errors
from reachplan.cli.inputs import load_inputs
from reachplan.cli.output import configure_logging, echo, emit_json, emit_text, log_warnings
from reachplan.text import for_terminal, github_output

# what a rule's missing data is, and how to give it (MissingDataError.need -> words, flag)
_NEEDS = {"weight": ("weights", "--weight-col"),
          "demand_weight": ("demand weights", "--demand-weight-col"),
          "groups": ("groups", "--group-col"), "types": ("centre types", "--type-col"),
          "demand": ("demand points", "--demand FILE")}


def _need(need: str) -> tuple[str, str]:
    """What a missing datum is and the options that give it: the cost column of the
    command's travel rule comes from --roads and --travel-minutes."""
    from reachplan.roads.rule import TravelRule

    if need == TravelRule.cost_column:
        return "travel times", "--roads FILE and --travel-minutes T"
    return _NEEDS.get(need, (need, need))


def _percent_opt(value: float | None, name: str) -> None:
    if value is not None and not 0 <= value <= 100:
        raise click.BadParameter(f"{value:g} is not a percentage from 0 to 100",
                                 param_hint=name)


def _spec(inputs: options.InputOptions, rules: str | None, min_percent: float | None,
          min_weight_percent: float | None, min_percent_all_hours: float | None):
    """Rules from --rules (or ./pyproject.toml) plus the shorthand flags, and their source."""
    from reachplan.checks import CheckRule, CheckSpec, load_rules, pyproject_rules

    source = None
    if rules:
        spec, source = load_rules(rules), rules
    else:
        notes: list[str] = []
        found = pyproject_rules(".", notes=notes)
        configure_logging(inputs.verbosity, inputs.quiet)
        log_warnings(notes)
        spec = CheckSpec() if found is None else found[1]
        source = None if found is None else found[0]
    shorthand = []
    if min_percent is not None:
        shorthand.append(CheckRule("min-percent", "percent", fail_below=min_percent,
                                   label="--min-percent"))
    if min_weight_percent is not None:
        if not inputs.weight_col and not inputs.boundaries.startswith("@"):
            raise click.BadParameter("needs --weight-col to know what weight means",
                                     param_hint="--min-weight-percent")
        shorthand.append(CheckRule("min-weight-percent", "weight_percent",
                                   fail_below=min_weight_percent,
                                   label="--min-weight-percent"))
    if min_percent_all_hours is not None:
        shorthand.append(CheckRule("min-percent-all-hours", "percent",
                                   fail_below=min_percent_all_hours,
                                   label="--min-percent-all-hours", at="every hour"))
    return CheckSpec(spec.rules + tuple(shorthand), spec.max_drop, spec.keep_covered), source


def _evaluate(spec, data: dict[str, Any]):
    from reachplan.checks import MissingDataError, evaluate

    try:
        return evaluate(spec.rules, data)
    except MissingDataError as exc:
        if exc.rule == "min-weight-percent" and exc.need == "weight":
            raise click.BadParameter("the boundaries carry no weight",
                                     param_hint="--min-weight-percent") from None
        what, flag = _need(exc.need)
        raise ReachplanUsageError(f"rule '{exc.rule}': needs {what}; pass {flag}") from None


def _status_lines(outcomes, warnings_as_errors: bool) -> list[str]:
    """Every warning and failure, with its details indented, for stderr."""
    lines = []
    for o in outcomes:
        if o.status == "pass":
            continue
        level = "FAIL" if o.status == "fail" or warnings_as_errors else "warning"
        lines.append(f"reachplan check: {level}: {for_terminal(o.message)}")
        lines += [f"  {for_terminal(d)}" for d in o.details]
    return lines


def _check_table(outcomes) -> str:
    if not outcomes:
        return ""
    rows = [(o.status, o.rule, o.scope, o.message) for o in outcomes]  # table() renders them
    lines = ["", "Checks:", *table(rows, align="llll", indent="  ")]
    return "\n".join(lines) + "\n"


def _append(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


@click.command(short_help="Exit 1 when coverage breaks a rule (for CI).")
@options.input_options
@click.option("--rules", default=None, metavar="FILE",
              help="Rules file (reachplan.toml, or a pyproject.toml with [tool.reachplan.check]) "
                   "[default: [tool.reachplan.check] of ./pyproject.toml, when there is one].")
@click.option("--min-percent", type=options.FiniteFloat(), default=None,
              help="Least % of districts that must be covered (a fail_below rule).")
@click.option("--min-weight-percent", type=options.FiniteFloat(), default=None,
              help="Least % of weight that must be covered (needs --weight-col).")
@click.option("--min-percent-all-hours", type=options.FiniteFloat(), default=None,
              help="Least % of districts covered at every hour of the week (needs "
                   "--hours-col; the worst hour is judged).")
@click.option("--min-hours-covered", type=options.FiniteFloat(0, 168), default=None,
              metavar="H", help="Fail when a district is covered fewer than H hours of the "
                                "week (needs --hours-col).")
@click.option("--warnings-as-errors", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--baseline", default=None, metavar="JSON",
              help="A previous `reachplan coverage --format json`: fail on regressions.")
@click.option("--max-drop", type=options.FiniteFloat(0, 100), default=None, metavar="POINTS",
              help="Percentage points a scope may drop below --baseline [default: 0, or "
                   "max_drop of the rules file].")
@click.option("--keep-covered", multiple=True, metavar="ID",
              help="District that must stay covered since --baseline. Repeatable.")
@click.option("--expect", default=None, metavar="JSON",
              help="Golden file: the per-district result must equal it.")
@click.option("--update-expect", is_flag=True, help="Rewrite the --expect file instead.")
@click.option("--expect-tolerance-km", type=options.FiniteFloat(0), default=0.001,
              show_default=True, help="How far nearest_km may differ from --expect.")
@click.option("--expect-tolerance-min", type=options.FiniteFloat(0), default=0.001,
              show_default=True,
              help="How far the rule's own cost (travel: minutes by road) may differ from "
                   "--expect, in its unit.")
@click.option("--junit", default=None, metavar="FILE",
              help="Write a JUnit XML report: one test case per rule and scope.")
@click.option("--github/--no-github", default=None,
              help="GitHub Actions annotations, job summary and outputs [default: when "
                   "GITHUB_ACTIONS=true].")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True, help="Summary on stdout as text or the coverage JSON with a "
                                      "'check' block.")
@options.overwrite_opt
@demand_options
@handle_errors
@click.pass_context
@options.pass_groups(inputs=options.InputOptions, demand_opts=DemandOptions)
def check(ctx: click.Context, inputs: options.InputOptions, rules: str | None,
          min_percent: float | None, min_weight_percent: float | None,
          min_percent_all_hours: float | None, min_hours_covered: float | None,
          warnings_as_errors: bool, baseline: str | None, max_drop: float | None,
          keep_covered: tuple[str, ...], expect: str | None, update_expect: bool,
          expect_tolerance_km: float, expect_tolerance_min: float, junit: str | None,
          github: bool | None, fmt: str, overwrite: bool, demand_opts: DemandOptions) -> None:
    """Decide coverage and check it against rules: exit 0 when no rule fails (warnings
    allowed), 1 when one fails, 2 on bad input, usage or a rules file that does not
    validate. The summary goes to stdout; warnings and failures to stderr.

    Rules come from --rules FILE (or [tool.reachplan.check] in ./pyproject.toml), the
    shorthands --min-percent / --min-weight-percent, a --baseline to compare with, and an
    --expect golden file; at least one is needed. See "reachplan in CI" in the README.

    \b
    Examples:
      reachplan check @india @india-sample --min-percent 90
      reachplan check districts.gpkg centres.csv --weight-col pop --min-weight-percent 98
      reachplan check districts.gpkg centres.csv --rules reachplan.toml --junit report.xml
      reachplan check districts.gpkg centres.csv --baseline main.json --max-drop 0.5
      reachplan check districts.gpkg centres.csv --expect expected.json
    """
    from reachplan import checks
    from reachplan.checks import ci
    from reachplan.cli._report import render_table, result_dict
    from reachplan.cli.inputs import _load_json
    from reachplan.engine import assess
    from reachplan.io import input_name
    from reachplan.rules import cost_of

    _percent_opt(min_percent, "--min-percent")
    _percent_opt(min_weight_percent, "--min-weight-percent")
    _percent_opt(min_percent_all_hours, "--min-percent-all-hours")
    spec, source = _spec(inputs, rules, min_percent, min_weight_percent,
                         min_percent_all_hours)
    if update_expect and not expect:
        raise click.UsageError("--update-expect needs --expect FILE")
    if not baseline:
        for flag, value in (("--max-drop", max_drop), ("--keep-covered", keep_covered)):
            if value:
                raise click.UsageError(f"{flag} needs --baseline JSON")
    if not (spec.rules or baseline or expect
            or min_hours_covered is not None):
        raise click.UsageError("nothing to check: give --min-percent, --min-weight-percent, "
                               "--min-percent-all-hours, --min-hours-covered, --rules FILE, "
                               "--baseline or --expect")
    baseline_data = _load_json(baseline, "--baseline") if baseline else None
    expected = (_load_json(expect, "--expect")
                if expect and not update_expect else None)

    districts, centers, rule = load_inputs(inputs, thresholds=True)
    if demand_opts.demand and cost_of(rule).several:
        raise click.UsageError("--demand decides at one threshold; give one --radius-km or "
                               "--travel-minutes with --demand")
    result = assess(districts, centers, rule, type_col=inputs.type_col)
    log_warnings(result.warnings)
    demand = run_demand(demand_opts, centers, districts, rule)
    add_demand_columns(result, demand)
    data = result_dict(result, demand)

    import dataclasses

    from reachplan.cli._timed_checks import hours_covered_outcomes, timed_outcomes

    outcomes = _evaluate(dataclasses.replace(spec, rules=tuple(r for r in spec.rules
                                                               if r.at is None)), data)
    outcomes += timed_outcomes(
        [r for r in spec.rules if r.at is not None], inputs, districts, centers, rule,
        lambda rules, at_data: _evaluate(dataclasses.replace(spec, rules=tuple(rules)),
                                         at_data))
    outcomes += hours_covered_outcomes(min_hours_covered, inputs, districts, centers, rule)
    changes = None
    if baseline_data is not None and baseline:
        drop = max_drop if max_drop is not None else (spec.max_drop or 0.0)
        extra, changes = checks.compare_baseline(
            baseline_data, data, max_drop=drop,
            keep_covered=tuple(spec.keep_covered) + tuple(keep_covered),
            label=input_name(baseline), source=baseline)
        outcomes += extra
    if expected is not None and expect:
        diff = checks.compare_expected(expected, data, tolerance_km=expect_tolerance_km,
                                       tolerance_min=expect_tolerance_min,
                                       label=input_name(expect),
                                       source=expect)
        message = (f"per-district result equals {input_name(expect)}" if not diff else
                   f"{plural(len(diff), 'difference')} from {input_name(expect)} "
                   "(rewrite it with "
                   "--update-expect if the change is intended)")
        outcomes.append(checks.Outcome("expect", "districts", "differences", float(len(diff)),
                                       "fail" if diff else "pass", message, {}, tuple(diff)))

    wae = warnings_as_errors
    if update_expect:
        emit_json(checks.expected_record(data), expect, True)
        outcomes.append(checks.Outcome("expect", "districts", "differences", 0.0, "pass",
                                       f"wrote {input_name(expect)} (--update-expect)"))
    status = checks.overall_status(outcomes, warnings_as_errors=wae)
    if junit:  # files first: an error writing them leaves no partial stdout
        emit_text(ci.junit_xml(outcomes, warnings_as_errors=wae), junit, True)
    if fmt == "json":
        data["check"] = {"status": status, "warnings_as_errors": wae,
                         "rules_file": input_name(source),
                         "results": [o.to_dict() for o in outcomes], "baseline": changes}
        emit_json(data, None, False)
    else:
        echo(render_table(result, demand) + _check_table(outcomes), nl=False)
    if github is None:
        github = os.environ.get("GITHUB_ACTIONS") == "true"
    if github:
        for line in ci.github_annotations(outcomes, warnings_as_errors=wae):
            click.echo(line, err=True)  # workflow commands: their text escaped by ci
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            _append(os.environ["GITHUB_STEP_SUMMARY"],
                    ci.step_summary(outcomes, warnings_as_errors=wae))
        if os.environ.get("GITHUB_OUTPUT"):
            values = ci.github_outputs(data, outcomes, warnings_as_errors=wae)
            _append(os.environ["GITHUB_OUTPUT"], github_output(values))

    lines = _status_lines(outcomes, wae)
    counts = ", ".join(f"{sum(o.status == k for o in outcomes)} {word}" for k, word in
                       (("fail", "failed"), ("warn", "warned"), ("pass", "passed")))
    echo("\n".join([*lines, f"reachplan check: {'FAIL' if status == 'fail' else 'OK'} "
                                    f"({counts})"]), err=True)
    if status == "fail":
        ctx.exit(1)
