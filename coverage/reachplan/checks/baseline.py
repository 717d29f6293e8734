"""Comparing a result with an earlier one: the baseline gate (:func:`compare_baseline`: a scope's
percentage may not drop more than ``max_drop`` points, districts in ``keep_covered`` stay covered)
and golden files (:func:`expected_record`, :func:`compare_expected`: the per-district result must
equal a stored one within a tolerance)."""

from __future__ import annotations

import math
from typing import Any

from reachplan._words import plural, signed
from reachplan.checks.compare import cost_column, cost_words
from reachplan.checks.rules import Outcome, Status
from reachplan.errors import InputError
from reachplan.rules import same_rule

__all__ = ["compare_baseline", "compare_expected", "expected_record"]


# --------------------------------------------------------------------------- baseline

_COVERAGE_JSON = "use the JSON of reachplan coverage --format json"


def _percent_blocks(data: dict[str, Any], source: str = "this run") -> dict[str, float]:
    """Every percentage a result carries, by scope and metric: ``"group North percent"``;
    one line naming ``source`` and the key when a block has the wrong shape."""
    out: dict[str, float] = {}

    def add(label: str, block: Any, where: str) -> None:
        if not isinstance(block, dict):
            raise InputError(f"{source}: {where} is not an object; {_COVERAGE_JSON}")
        for metric in ("percent", "weight_percent"):
            value = block.get(metric)
            if value is None:
                continue
            if not _is_number(value):
                raise InputError(f"{source}: {where}.{metric} is {value!r}, not a number; "
                                 + _COVERAGE_JSON)
            out[f"{label} {metric}"] = float(value)

    add("overall", data.get("summary") or {}, "summary")
    for key, blocks_key in (("group", "groups"), ("type", "types")):
        blocks = data.get(blocks_key) or []
        if not isinstance(blocks, list):
            raise InputError(f"{source}: {blocks_key} is not a list; {_COVERAGE_JSON}")
        for k, b in enumerate(blocks):
            name = b.get(key) if isinstance(b, dict) else None
            add(f"{key} {name or '(none)'}", b, f"{blocks_key}[{k}]")
    if data.get("demand"):
        add("demand", data["demand"], "demand")
    return out


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _check_amount(value: Any, name: str, what: str, top: float = math.inf) -> None:
    """A finite number from 0 to ``top``, or an error naming the parameter ``name``."""
    if not (_is_number(value) and 0 <= value <= top):
        raise InputError(f"{name}={value!r}: must be {what}", params=(name,))


def compare_baseline(baseline: dict[str, Any], data: dict[str, Any], *, max_drop: float = 0.0,
                     keep_covered: tuple[str, ...] | list[str] = (),
                     label: str = "baseline", source: str | None = None,
                     ) -> tuple[list[Outcome], dict[str, Any]]:
    """Outcomes of a regression gate against ``baseline`` (a coverage JSON dict), and what
    changed: ``{"lost": [...], "newly_covered": [...]}`` (district ids). Outcomes name the
    baseline ``label``; errors about its content name ``source`` (its path), else ``label``.

    A scope's percentage (overall, each group and type, demand; of districts and of weight)
    fails when it dropped more than ``max_drop`` points; losing any district warns, losing
    one of ``keep_covered`` fails. Scopes missing from either side are not compared.
    """
    from reachplan.checks.compare import compare_results

    _check_amount(max_drop, "max_drop", "percentage points from 0 to 100", 100)
    changes = compare_results(baseline, data, label_a=label, label_b="this run")["changes"]
    ids = {c["id"] for c in changes}
    missing = [k for k in keep_covered if k not in ids]
    if missing:
        raise InputError(f"keep_covered: no district '{missing[0]}' in {label} and this run")
    lost = [c for c in changes if c["change"] == "lost"]
    gained = [c for c in changes if c["change"] == "newly covered"]

    def listed(rows: list[dict[str, Any]]) -> list[str]:
        return [f"{c['id']} {c['name']}" if c.get("name") else str(c["id"]) for c in rows]

    outcomes = []
    before, after = _percent_blocks(baseline, source or label), _percent_blocks(data)
    for key in before:
        if key not in after:
            continue
        drop = round(before[key] - after[key], 2)
        status: Status = "fail" if drop > max_drop + 1e-9 else "pass"
        scope, metric = key.rsplit(" ", 1)
        text = (f"{scope}: {metric} {after[key]:.2f}, was {before[key]:.2f} in {label} "
                f"({signed(-drop)} points)")
        if status == "fail":
            text += f", a drop of more than max_drop {max_drop:g}"
        outcomes.append(Outcome("baseline", scope, f"{metric}_drop", drop, status, text,
                                {"max_drop": max_drop}))
    kept_lost = [c for c in lost if c["id"] in keep_covered]
    status = "fail" if kept_lost else ("warn" if lost else "pass")
    text = (f"{plural(len(lost), 'district')} lost coverage, {len(gained)} gained since "
            f"{label}")
    if kept_lost:
        text += "; lost from keep_covered: " + ", ".join(listed(kept_lost))
    details = tuple([f"lost: {x}" for x in listed(lost)] + [f"gained: {x}" for x in
                                                            listed(gained)])
    outcomes.append(Outcome("baseline", "districts", "lost", float(len(lost)), status, text,
                            {}, details))
    return outcomes, {"lost": [c["id"] for c in lost],
                      "newly_covered": [c["id"] for c in gained]}


# --------------------------------------------------------------------------- golden files

EXPECT_FIELDS = ("id", "covered", "centers", "nearest_km")


def expected_record(data: dict[str, Any]) -> dict[str, Any]:
    """What a golden file stores of a result: its rule and, per district, the fields of
    :data:`EXPECT_FIELDS` (and the rule's own cost beside ``nearest_km``, e.g.
    ``nearest_min`` under a travel-time rule), sorted by id."""
    rows = sorted(data.get("districts") or [], key=lambda r: str(r["id"]))
    own = [c for c in (cost_column(data, rows),) if c not in EXPECT_FIELDS]
    return {"rule": data.get("rule"),
            "districts": [{k: r.get(k) for k in EXPECT_FIELDS}
                          | {k: r[k] for k in own if k in r} for r in rows]}


def _rows_by_id(data: Any, label: str) -> dict[str, dict[str, Any]]:
    from reachplan.checks.compare import wrong_field

    rows = data.get("districts") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "id" in r for r in rows):
        raise InputError(f"{label}: no 'districts' list with an 'id' per district; give a "
                         "file written by --update-expect or reachplan coverage --format json")
    for k, row in enumerate(rows):
        wrong = wrong_field({"covered": False} | row)  # a golden row may omit 'covered'
        centers = row.get("centers")
        if wrong is None and centers is not None and (
                isinstance(centers, bool) or not isinstance(centers, int)):
            wrong = f"centers is {centers!r}, not a count"
        if wrong:
            raise InputError(f"{label}: districts[{k}].{wrong}; rewrite it with "
                             "--update-expect or give reachplan coverage --format json")
    return {str(r["id"]): r for r in rows}


def compare_expected(expected: dict[str, Any], data: dict[str, Any], *,
                     tolerance_km: float = 0.001, tolerance_min: float = 0.001,
                     label: str = "expected", source: str | None = None) -> list[str]:
    """Differences between a golden record (or any coverage JSON) and ``data``, one readable
    line each (empty when they agree): missing and extra districts, ``covered`` and
    ``centers`` that differ, ``nearest_km`` further apart than ``tolerance_km``, the rule's
    own cost (``nearest_min``, when the record has it) further apart than ``tolerance_min``
    (in its unit), the
    rule. Lines name the record ``label``; errors about its content name ``source``, else
    ``label``."""
    _check_amount(tolerance_km, "tolerance_km", "a distance >= 0 km")
    _check_amount(tolerance_min, "tolerance_min", "minutes >= 0")
    want, got = _rows_by_id(expected, source or label), _rows_by_id(data, "this run")
    own = cost_column(expected, want)
    costs = [("nearest_km", tolerance_km, "km")]
    if own != "nearest_km":
        costs.append((own, tolerance_min, cost_words(expected, own)[0]))
    lines = []
    if expected.get("rule") is not None and not same_rule(expected["rule"], data.get("rule")):
        lines.append(f"rule: expected {expected['rule']}, got {data.get('rule')}")
    for did in sorted(set(want) | set(got)):
        if did not in got:
            lines.append(f"{did}: in {label}, missing from this run")
            continue
        if did not in want:
            lines.append(f"{did}: in this run, not in {label}")
            continue
        w, g = want[did], got[did]
        for key in ("covered", "centers"):
            if key in w and w[key] != g.get(key):
                lines.append(f"{did}: {key} expected {_show(w[key])}, got {_show(g.get(key))}")
        for key, tolerance, unit in costs:
            if key not in w:
                continue
            a, b = w[key], g.get(key)
            if (a is None) != (b is None) or (
                    a is not None and b is not None
                    and abs(float(a) - float(b)) > tolerance + 1e-9):
                lines.append(f"{did}: {key} expected {_show(a)}, got {_show(b)} "
                             f"(tolerance {tolerance:g} {unit})")
    return lines


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return f"{value:g}" if isinstance(value, float) else str(value)
