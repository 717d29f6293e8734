"""Compare two coverage results district by district: newly covered, lost, closer, farther."""

from __future__ import annotations

import math
from typing import Any

from reachplan.errors import InputError
from reachplan.rules import same_rule

__all__ = ["compare_results", "cost_column", "cost_words"]


def compare_results(a: dict[str, Any], b: dict[str, Any], *, label_a: str = "A",
                    label_b: str = "B", tolerance_min: float = 0.0) -> dict[str, Any]:
    """Per-district changes between two coverage results (the coverage JSON dicts).

    When both results carry the same cost of their rule beside ``nearest_km`` (their
    ``"cost"`` block's column, e.g. ``nearest_min`` of travel-time results), "closer" and
    "farther" mean that cost, and a change of at most ``tolerance_min`` (in the cost's unit,
    after rounding to 0.001) counts as the same; otherwise they mean ``nearest_km``
    (geodesic, to the metre), which every result carries. Results
    decided under different rules are compared all the same (what changes when the rule
    changes is a fair question); ``rule_changed`` says so.

    Returns
    -------
    dict
        ``{"a": summary, "b": summary, "rule_a": {...}, "rule_b": {...}, "cost_a": {...},
        "cost_b": {...}, "rule_changed": bool, "by": "nearest_km" | the cost column,
        "newly_covered": n, "lost": n,
        "changes": [...]}`` where each change is ``{"id", "name", "group", "change",
        "covered_a", "covered_b", "nearest_km_a", "nearest_km_b", "nearest_km_change"}``
        (plus ``<by>_a``, ``<by>_b``, ``<by>_change``, e.g. ``nearest_min_a``, when ``by``
        is the rule's own cost) and ``change`` is ``"newly covered"``, ``"lost"``, ``"closer"``,
        ``"farther"``, ``"same"`` or ``"changed"`` (reached on one side only); sorted by id.
        ``cost_a`` / ``cost_b`` are the results' ``"cost"`` blocks (None in a JSON from before
        0.2).
    """
    if not (_is_number(tolerance_min) and tolerance_min >= 0):
        raise InputError(f"tolerance_min={tolerance_min!r}: must be minutes >= 0",
                         params=("tolerance_min",))
    rows_a = _district_rows(a, label_a)
    rows_b = _district_rows(b, label_b)
    if set(rows_a) != set(rows_b):
        only_a = sorted(set(rows_a) - set(rows_b))
        only_b = sorted(set(rows_b) - set(rows_a))
        raise InputError(
            f"{label_a} and {label_b} describe different districts "
            f"({len(only_a)} only in {label_a}, e.g. {only_a[:3]}; {len(only_b)} only in "
            f"{label_b}, e.g. {only_b[:3]}); compare results made from the same boundaries"
        )
    column = cost_column(a, rows_a)
    by_cost = (bool(rows_a) and column != "nearest_km" and column == cost_column(b, rows_b)
               and all(column in r for r in (*rows_a.values(), *rows_b.values())))
    key, tolerance = (column, tolerance_min) if by_cost else ("nearest_km", 0.0)
    changes = []
    for did in sorted(rows_a):
        ra, rb = rows_a[did], rows_b[did]
        row: dict[str, Any] = {"id": did, "name": ra.get("name"), "group": ra.get("group"),
                               "change": "", "covered_a": bool(ra["covered"]),
                               "covered_b": bool(rb["covered"])}
        for field in ("nearest_km", key) if by_cost else ("nearest_km",):
            va, vb = ra.get(field), rb.get(field)
            row[f"{field}_a"], row[f"{field}_b"] = va, vb
            row[f"{field}_change"] = (None if va is None or vb is None
                                      else round(float(vb) - float(va), 3))
        ca, cb, delta = row["covered_a"], row["covered_b"], row[f"{key}_change"]
        if cb and not ca:
            change = "newly covered"
        elif ca and not cb:
            change = "lost"
        elif delta is None or abs(delta) <= tolerance + 1e-9:
            none_a, none_b = row[f"{key}_a"] is None, row[f"{key}_b"] is None
            change = "same" if none_a == none_b else "changed"
        else:
            change = "closer" if delta < 0 else "farther"
        row["change"] = change
        changes.append(row)
    rule_a = a.get("rule") if isinstance(a, dict) else None
    rule_b = b.get("rule") if isinstance(b, dict) else None
    return {
        "a": _summary(a, label_a),
        "b": _summary(b, label_b),
        "rule_a": rule_a,
        "rule_b": rule_b,
        "cost_a": a.get("cost") if isinstance(a, dict) else None,
        "cost_b": b.get("cost") if isinstance(b, dict) else None,
        "rule_changed": (rule_a is not None and rule_b is not None
                         and not same_rule(rule_a, rule_b)),
        "by": key,
        "newly_covered": sum(c["change"] == "newly covered" for c in changes),
        "lost": sum(c["change"] == "lost" for c in changes),
        "changes": changes,
    }


def cost_column(result: Any, rows: Any = None) -> str:
    """The column of a coverage JSON's own cost: its ``"cost"`` block's, or in a JSON from
    before that block, the one ``nearest_<unit>`` key of its districts (``rows``: a list, or
    a dict by id) beside ``nearest_km`` (``nearest_km`` when there is none)."""
    cost = result.get("cost") if isinstance(result, dict) else None
    if isinstance(cost, dict) and isinstance(cost.get("column"), str):
        return str(cost["column"])
    rows = list(rows.values()) if isinstance(rows, dict) else rows or []
    first = rows[0] if rows and isinstance(rows[0], dict) else {}
    own = [k for k in first if k.startswith("nearest_") and k != "nearest_km"
           and not k.endswith("center")]
    return own[0] if len(own) == 1 else "nearest_km"


def cost_words(result: Any, column: str) -> tuple[str, str]:
    """The unit of a coverage JSON's ``column`` (``"min"``) and how it is measured
    (``"by road"``; empty for a distance or a JSON from before the ``"cost"`` block)."""
    unit = column.removeprefix("nearest_")
    cost = result.get("cost") if isinstance(result, dict) else None
    label = cost.get("label") if isinstance(cost, dict) and cost.get("column") == column else None
    how = label.removeprefix(unit).strip() if isinstance(label, str) else ""
    return unit, how


def _district_rows(result: dict[str, Any], label: str) -> dict[str, dict[str, Any]]:
    rows = result.get("districts") if isinstance(result, dict) else None
    if not isinstance(rows, list):
        raise InputError(
            f"{label}: not a coverage result (no \"districts\" list); make one with "
            "reachplan coverage ... --format json"
        )
    out: dict[str, dict[str, Any]] = {}
    for k, row in enumerate(rows):
        if not isinstance(row, dict) or "id" not in row or "covered" not in row:
            raise InputError(
                f"{label}: districts[{k}] lacks \"id\" or \"covered\"; "
                "use the JSON of reachplan coverage --format json"
            )
        wrong = wrong_field(row)
        if wrong:
            raise InputError(f"{label}: districts[{k}].{wrong}; use the JSON of reachplan "
                             "coverage --format json")
        out[str(row["id"])] = row
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
        value)


def wrong_field(row: dict[str, Any]) -> str | None:
    """What is wrong with one district of a coverage JSON, or None."""
    if not isinstance(row["id"], (str, int)) or isinstance(row["id"], bool):
        return f"id is {type(row['id']).__name__}, not text"
    if not isinstance(row["covered"], bool):
        return f"covered is {row['covered']!r}, not true or false"
    for key in [k for k in row if k.startswith("nearest_") and not k.endswith("center")]:
        value = row.get(key)
        if value is not None and not _is_number(value):
            return f"{key} is {value!r}, not a number"
    for key in ("name", "group"):
        if row.get(key) is not None and not isinstance(row[key], (str, int, float)):
            return f"{key} is {type(row[key]).__name__}, not text"
    return None


def _summary(result: dict[str, Any], label: str) -> dict[str, Any] | None:
    """The result's summary, checked: the numbers the comparison prints."""
    summary = result.get("summary")
    if summary is None or summary == {}:
        return summary
    if not isinstance(summary, dict):
        raise InputError(f"{label}: summary is not an object; use the JSON of reachplan "
                         "coverage --format json")
    for key in ("covered", "districts", "percent"):
        if not _is_number(summary.get(key)):
            raise InputError(f"{label}: summary.{key} is {summary.get(key)!r}, not a number; "
                             "use the JSON of reachplan coverage --format json")
    return summary
