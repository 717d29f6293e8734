"""Check rules evaluated against a result (a coverage JSON dict): each rule's figure per scope
member, its status against the thresholds, and the gaps a failing outcome lists. The rules
themselves (their TOML spec and types) are :mod:`reachplan.checks.rules`."""

from __future__ import annotations

import math
from typing import Any

from reachplan.checks.compare import cost_column, cost_words
from reachplan.checks.rules import (
    TOP_GAPS,
    CheckRule,
    MissingDataError,
    Outcome,
    Status,
)
from reachplan.errors import InputError

_WHAT = {
    "percent": "% of {unit} covered",
    "weight_percent": "% of weight covered",
    "gaps": " {unit} not covered",
}
_FARTHEST = " {cost} from the farthest district to its nearest centre"


def _column(metric: str, data: dict[str, Any]) -> str:
    """The per-district column a ``max_nearest_*`` metric reads: the result's own cost for
    ``max_nearest_cost`` (its ``"cost"`` block's column), else the one it names."""
    if metric == "max_nearest_cost":
        return cost_column(data, data.get("districts"))
    return metric.removeprefix("max_")


def _figure(metric: str, value: float | None, unit: str, cost: str = "km") -> str:
    """``"77.78% of districts covered"``, ``"2 districts not covered"``..."""
    if value is None:
        return f"no {metric}"
    if metric.startswith("max_nearest"):
        if math.isinf(value):
            return f"no centre at all ({metric} unknown)"
        text = f"{value:.3f}"
    else:
        text = f"{value:g}" if metric == "gaps" else f"{value:.2f}"
    return text + _WHAT.get(metric, _FARTHEST).format(unit=unit, cost=cost)


def _judge(rule: CheckRule, value: float) -> tuple[Status, str | None]:
    """The status and the threshold that decided it (``None`` when it passes)."""
    levels: tuple[Status, ...] = ("fail", "warn")
    for level in levels:
        below = getattr(rule, f"{level}_below")
        if below is not None and value < below:
            return level, f"{level}_below"
        above = getattr(rule, f"{level}_above")
        if above is not None and value > above:
            return level, f"{level}_above"
    return "pass", None


def _members(rule: CheckRule, data: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(scope label, summary block, key of the rows in data["districts"]) per scope member."""
    if rule.scope == "overall":
        return [("overall", data["summary"], "")]
    if rule.scope == "demand":
        demand = data.get("demand")
        if not demand:
            raise MissingDataError(rule.name, "demand",
                                   f"rule '{rule.name}': scope demand needs demand points; "
                                   "pass demand to the check (reachplan.demand_coverage)")
        return [("demand", demand, "")]
    key = "group" if rule.scope == "groups" else "type"
    blocks = data.get(rule.scope) or []
    if not blocks:
        param = "group_col to read_boundaries" if key == "group" else "type_col to assess"
        raise MissingDataError(rule.name, rule.scope,
                               f"rule '{rule.name}': scope {rule.scope} needs {rule.scope}; "
                               f"pass {param}")
    by_name = {b[key] if b[key] is not None else "": b for b in blocks}
    names = rule.names if rule.names is not None else list(by_name)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(repr(n) for n in by_name)
        raise InputError(f"rule '{rule.name}': key 'names': no {key} {unknown[0]!r}; the "
                         f"{rule.scope} are {known}")
    return [(f"{key} {n or '(none)'}", by_name[n], n) for n in names]


def _rows(data: dict[str, Any], scope: str, member: str) -> list[dict[str, Any]]:
    rows = data.get("districts") or []
    if scope == "groups":
        return [r for r in rows if (r.get("group") or "") == member]
    return rows


def _value(rule: CheckRule, block: dict[str, Any], rows: list[dict[str, Any]],
           column: str) -> float:
    m = rule.metric
    if m == "percent":
        return float(block["percent"] if block["percent"] is not None else 0.0)
    if m == "weight_percent":
        if block.get("weight_percent") is None:
            need, param = (("demand_weight", "weight_col of demand_coverage")
                           if rule.scope == "demand" else ("weight", "weight_col"))
            raise MissingDataError(rule.name, need,
                                   f"rule '{rule.name}': metric weight_percent needs weights; "
                                   f"the result has none ({param})")
        return float(block["weight_percent"])
    if m == "gaps":
        total = block.get("districts", block.get("points"))
        return float(total - block["covered"])
    if rows and any(column not in r for r in rows):
        raise MissingDataError(rule.name, column,
                               f"rule '{rule.name}': metric {m} needs {column} per district; "
                               "the result has none (its rule is not in that unit)")
    values = [r[column] for r in rows]
    if not values:
        return 0.0
    return math.inf if any(v is None for v in values) else float(max(values))


def _words(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def top_gaps(rows: list[dict[str, Any]], n: int = TOP_GAPS, data: Any = None) -> list[str]:
    """The first ``n`` uncovered districts, by weight, then cost (descending), then id.

    The cost is the result's own (``data``'s ``"cost"`` block: ``nearest_min`` under a
    travel-time rule), else the distance.
    """
    key = cost_column(data, rows)
    key = key if any(key in r for r in rows) else "nearest_km"
    unit, how = cost_words(data, key)
    gaps = [r for r in rows if not r.get("covered")]
    gaps.sort(key=lambda r: (-(r.get("weight") or 0.0),
                             -(r[key] if r.get(key) is not None else math.inf),
                             str(r["id"])))
    lines = []
    for r in gaps[:n]:
        name = f" {r['name']}" if r.get("name") else ""
        cost = r.get(key)
        if cost is not None:
            near = _words("nearest centre", f"{cost:.3f}", unit, how)
        else:  # a cost of the rule's own is infinite when no centre reaches (by road)
            near = "no centre" if key == "nearest_km" else _words("no centre reaches it", how)
        lines.append(f"{r['id']}{name} ({near})")
    if len(gaps) > n:
        lines.append(f"… {len(gaps) - n} more")
    return lines


def at_threshold(data: dict[str, Any], threshold: float, rule: str
                 ) -> tuple[str, dict[str, Any]]:
    """``data`` as a result decided at one of its ``"thresholds"``: that threshold's summary
    and groups, and each district's ``covered`` at it; and the words saying so. An
    :class:`InputError` naming the thresholds there are when it is not one of them."""
    steps = data.get("thresholds") or []
    step = next((s for s in steps if s["threshold"] == threshold), None)
    if step is None:
        there = (", ".join(f"{s['threshold']:g}" for s in steps) if steps
                 else "none: give several, e.g. --radius-km 5,10,25")
        raise InputError(f"rule '{rule}': key 'threshold': the result has no threshold "
                         f"{threshold:g}; its thresholds are {there}")
    column = step["column"]
    rows = [{**r, "covered": r.get(column)} for r in data.get("districts") or []]
    label = (data.get("cost") or {}).get("label") or step.get("unit", "")
    at = {k: v for k, v in step.items() if k not in ("threshold", "unit", "column", "groups")}
    return f"within {threshold:g} {label}: ", {**data, "summary": at, "groups": step["groups"],
                                                "districts": rows}


def evaluate(rules: list[CheckRule] | tuple[CheckRule, ...], whole: dict[str, Any]
             ) -> list[Outcome]:
    """One :class:`Outcome` per rule and scope member, in rule order.

    Raises :class:`MissingDataError` when a rule needs data the result lacks (weights,
    groups, types, demand), and :class:`InputError` for a named group or type it lacks.
    """
    outcomes = []
    for rule in rules:
        at, data = (("", whole) if rule.threshold is None
                    else at_threshold(whole, rule.threshold, rule.name))
        for label, block, member in _members(rule, data):
            rows = [] if rule.scope in ("types", "demand") else _rows(data, rule.scope, member)
            column = _column(rule.metric, data)
            value = _value(rule, block, rows, column)
            status, key = _judge(rule, value)
            unit = "demand points" if rule.scope == "demand" else "districts"
            cost, how = cost_words(data, column)
            figure = _figure(rule.metric, value, unit, cost)
            if column != "nearest_km" and math.isinf(value):
                # a cost of the rule's own (minutes by road) is infinite where none reaches
                lost = sum(r.get(column) is None for r in rows)
                figure = _words(f"{lost} of {len(rows)} {unit} unreachable", how,
                                f"from every centre ({rule.metric} infinite)")
            prefix = at + ("" if label == "overall" else f"{label}: ")
            if key is None:
                message = f"{prefix}{figure}"
            else:
                side = "below" if key.endswith("below") else "above"
                limit = rule.thresholds()[key]
                name = (f"{rule.label} {limit:g}" if rule.label
                        else f"{key} {limit:g} (rule '{rule.name}')")
                message = f"{prefix}{figure}, {side} {name}"
            details = tuple(top_gaps(rows, data=data)) if status != "pass" and rows else ()
            outcomes.append(Outcome(rule.name, label, rule.metric, value, status, message,
                                    rule.thresholds(), details))
    return outcomes
