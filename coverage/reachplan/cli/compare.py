"""``reachplan compare``: what changes between two networks (or two coverage results)?"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click

from reachplan._words import signed
from reachplan.cli._report import report_format, table
from reachplan.cli.errors import ReachplanUsageError, flags_for, handle_errors
from reachplan.cli.inputs import _load_json, load_inputs
from reachplan.cli.options import (
    FiniteFloat,
    InputOptions,
    boundary_options,
    center_options,
    overwrite_opt,
    pass_groups,
    rule_options,
    verbosity_options,
)
from reachplan.cli.output import configure_logging, emit_json, emit_report, log_warnings

FORMATS = ("table", "json", "csv")


def _result(path: str, label: str, inputs: InputOptions,
            boundaries: str | None) -> dict[str, Any]:
    """A coverage result dict from a coverage JSON, or from a centre file + --boundaries."""
    if path.lower().endswith(".json"):
        return _load_json(path, label)
    if not boundaries:
        raise ReachplanUsageError(f"{label} {path} is a centre file: give the districts with "
                                "--boundaries FILE (or pass two coverage JSON results)")
    from reachplan.engine import assess

    districts, centers, rule = load_inputs(replace(inputs, boundaries=boundaries, centers=path))
    result = assess(districts, centers, rule)
    log_warnings(result.warnings)
    return result.to_dict()


def _km(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _delta(v: float | None) -> str:
    return "-" if v is None else signed(v)


def rule_text(rule: Any, cost: Any = None) -> str:
    """A coverage JSON's rule in a few words: its ``"cost"`` block's text (the rule's own
    words), else the rule block as given (a JSON from before 0.2)."""
    if isinstance(cost, dict) and isinstance(cost.get("text"), str):
        return str(cost["text"])
    if not isinstance(rule, dict):
        return "an unknown rule"
    return "rule " + ", ".join(f"{k}={v!r}" for k, v in rule.items())


def render_compare(data: dict[str, Any], label_a: str, label_b: str, *, show_all: bool) -> str:
    """Summary line, then one row per changed district (or every district)."""
    lines = []
    if data.get("rule_changed"):
        lines += [f"RULE CHANGED: A is {rule_text(data['rule_a'], data.get('cost_a'))}, B is "
                  f"{rule_text(data['rule_b'], data.get('cost_b'))}; the changes mix network "
                  "and rule.", ""]
    sa, sb = data["a"] or {}, data["b"] or {}
    if sa and sb:
        lines.append(f"A ({label_a}): {sa['covered']} of {sa['districts']} covered "
                     f"({sa['percent']:.2f}%)")
        lines.append(f"B ({label_b}): {sb['covered']} of {sb['districts']} covered "
                     f"({sb['percent']:.2f}%)")
    lines.append(f"Newly covered in B: {data['newly_covered']}; lost in B: {data['lost']}")
    rows = [c for c in data["changes"] if show_all or c["change"] != "same"]
    if not rows:
        lines.append("No district changed." if not show_all else "")
        return "\n".join(lines).rstrip() + "\n"
    header = ["id", "name", "change", "nearest km A", "nearest km B", "km change"]
    body = [[str(c["id"]), str(c["name"] or ""), c["change"], _km(c["nearest_km_a"]),
             _km(c["nearest_km_b"]), _delta(c["nearest_km_change"])] for c in rows]
    by = data.get("by")
    if by and by != "nearest_km":  # closer/farther by the rule's own cost (minutes by road)
        cost = data.get("cost_a") or {}
        unit = cost.get("unit") or by.removeprefix("nearest_")
        header[3:3] = [f"{unit} A", f"{unit} B", f"{unit} change"]
        for row, c in zip(body, rows, strict=True):
            row[3:3] = [_km(c[f"{by}_a"]), _km(c[f"{by}_b"]), _delta(c[f"{by}_change"])]
        lines.append(f"Closer/farther: by {by}, in {cost.get('label') or unit}.")
    lines += ["", *table(body, header, align="lll" + "r" * (len(header) - 3))]
    return "\n".join(lines) + "\n"


@click.command(short_help="Per-district changes between two networks or coverage results.")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--boundaries", "boundaries_path", default=None, metavar="FILE",
              help="Districts, needed when A and B are centre files (@india for the embedded "
                   "default).")
@boundary_options
@center_options
@rule_options
@click.option("--all", "show_all", is_flag=True,
              help="List every district, not only those that changed.")
@click.option("--tolerance-min", type=FiniteFloat(0), default=0.0, show_default=True,
              metavar="MINUTES",
              help="Results with a cost of their own (travel: nearest_min): a district "
                   "whose cost moved by at most this counts as the same.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="table, json or csv [default: the -o extension (.xlsx: the csv rows), or "
                   "table].")
@click.option("-o", "--output", default=None, help="Write here instead of stdout.")
@overwrite_opt
@verbosity_options
@handle_errors
@pass_groups(inputs=InputOptions)
def compare(a: str, b: str, boundaries_path: str | None, inputs: InputOptions, show_all: bool,
            tolerance_min: float, fmt: str | None, output: str | None,
            overwrite: bool) -> None:
    """Compare two coverage results (JSON from `reachplan coverage --format json`) or two
    centre files over the same --boundaries, district by district: newly covered, lost,
    and how far the nearest centre moved (closer / farther: in km, or in minutes by road
    when both are travel-time results). Results decided under different rules are
    compared too, with the rule change said first.

    \b
    Examples:
      reachplan compare before.json after.json
      reachplan compare centres_2025.csv centres_2026.csv --boundaries @india --radius-km 30
      reachplan compare before.json after.json --format csv -o changes.csv
    """
    configure_logging(inputs.verbosity, inputs.quiet)
    from reachplan.checks.compare import compare_results

    fmt = report_format(fmt, output)
    ra = _result(a, "A", inputs, boundaries_path)
    rb = _result(b, "B", inputs, boundaries_path)
    if ra.get("rule") and rb.get("rule") and ra["rule"] != rb["rule"]:
        log_warnings([f"A and B were decided under different rules ({ra['rule']} vs "
                      f"{rb['rule']}); changes mix network and rule"])
    data = compare_results(ra, rb, label_a=a, label_b=b,
                           tolerance_min=tolerance_min)
    if fmt == "json":
        emit_json(data, output, overwrite)
    elif fmt == "csv":
        import pandas as pd

        from reachplan.io import write_table

        rows = [c for c in data["changes"] if show_all or c["change"] != "same"]
        columns = ["id", "name", "group", "change", "covered_a", "covered_b", "nearest_km_a",
                   "nearest_km_b", "nearest_km_change"]
        if data["by"] != "nearest_km":  # and the rule's own cost (nearest_min)
            columns += [f"{data['by']}_{end}" for end in ("a", "b", "change")]
        frame = pd.DataFrame(rows, columns=columns)
        with flags_for(path="output"):
            write_table(frame, output or "-", overwrite=overwrite)
    else:
        emit_report(render_compare(data, a, b, show_all=show_all), output,
                  overwrite)
