"""Compare two coverage results district by district: newly covered, lost, closer, farther."""

from __future__ import annotations

from typing import Any

from covplan.errors import InputError

__all__ = ["compare_results"]


def compare_results(a: dict[str, Any], b: dict[str, Any], *, label_a: str = "A",
                    label_b: str = "B") -> dict[str, Any]:
    """Per-district changes between two coverage results (the coverage JSON dicts).

    Returns
    -------
    dict
        ``{"a": summary, "b": summary, "newly_covered": n, "lost": n, "changes": [...]}`` where
        each change is ``{"id", "name", "group", "change", "covered_a", "covered_b",
        "nearest_km_a", "nearest_km_b", "nearest_km_change"}`` and ``change`` is
        ``"newly covered"``, ``"lost"``, ``"closer"``, ``"farther"`` or ``"same"``; sorted by id.
    """
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
    changes = []
    for did in sorted(rows_a):
        ra, rb = rows_a[did], rows_b[did]
        ka, kb = ra.get("nearest_km"), rb.get("nearest_km")
        delta = None if ka is None or kb is None else round(float(kb) - float(ka), 3)
        ca, cb = bool(ra["covered"]), bool(rb["covered"])
        if cb and not ca:
            change = "newly covered"
        elif ca and not cb:
            change = "lost"
        elif delta is None or abs(delta) < 0.0005:
            change = "same" if (ka is None) == (kb is None) else "changed"
        else:
            change = "closer" if delta < 0 else "farther"
        changes.append(
            {
                "id": did,
                "name": ra.get("name"),
                "group": ra.get("group"),
                "change": change,
                "covered_a": ca,
                "covered_b": cb,
                "nearest_km_a": ka,
                "nearest_km_b": kb,
                "nearest_km_change": delta,
            }
        )
    return {
        "a": a.get("summary"),
        "b": b.get("summary"),
        "newly_covered": sum(c["change"] == "newly covered" for c in changes),
        "lost": sum(c["change"] == "lost" for c in changes),
        "changes": changes,
    }


def _district_rows(result: dict[str, Any], label: str) -> dict[str, dict[str, Any]]:
    rows = result.get("districts") if isinstance(result, dict) else None
    if not isinstance(rows, list):
        raise InputError(
            f"{label}: not a coverage result (no \"districts\" list); make one with "
            "covplan coverage ... --format json"
        )
    out: dict[str, dict[str, Any]] = {}
    for k, row in enumerate(rows):
        if not isinstance(row, dict) or "id" not in row or "covered" not in row:
            raise InputError(
                f"{label}: districts[{k}] lacks \"id\" or \"covered\"; "
                "use the JSON of covplan coverage --format json"
            )
        out[str(row["id"])] = row
    return out
