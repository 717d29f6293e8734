"""Plain-text rendering of coverage results for terminals."""

from __future__ import annotations

from typing import Any


def num(value: float | None) -> str:
    """A count or weight for people: thousands separated, '-' for none."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def pct(value: float | None) -> str:
    """A percentage to 2 decimals, '-' for none."""
    return "-" if value is None else f"{value:.2f}"


def summary_lines(data: dict[str, Any]) -> list[str]:
    """Headline figures: % of districts and, when weighted, % of weight."""
    s, inputs = data["summary"], data.get("inputs", {})
    lines = [f"Districts covered: {s['covered']} of {s['districts']} ({pct(s['percent'])}%)"]
    if s["weight_total"] is not None:
        name = inputs.get("weight_col") or "weight"
        lines.append(f"Weight covered ({name}): {num(s['weight_covered'])} of "
                     f"{num(s['weight_total'])} ({pct(s['weight_percent'])}%)")
    lines.append(f"Rule: {data['rule_text']}")
    if inputs:
        lines.append(f"Centres: {inputs.get('centers_used')} used, "
                     f"{inputs.get('centers_outside')} outside every district")
    return lines


def demand_lines(data: dict[str, Any]) -> list[str]:
    """Demand points within the radius, when they were assessed."""
    d = data.get("demand")
    if not d:
        return []
    reach = (f"within {d['radius_km']:g} km" if d.get("radius_km") is not None
             else "reached by the rule")
    lines = [f"Demand points {reach} of a centre: {d['covered']:,} of "
             f"{d['points']:,} ({pct(d['percent'])}%)"]
    if d.get("weight_total") is not None:
        lines.append(f"Demand weight {reach}: {num(d['weight_covered'])} "
                     f"of {num(d['weight_total'])} ({pct(d['weight_percent'])}%)")
    return lines


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def fmt(row: list[str]) -> str:
        first = str(row[0]).ljust(widths[0])
        rest = [str(v).rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()
    return [fmt(header), *[fmt(r) for r in rows]]


def breakdown_lines(data: dict[str, Any]) -> list[str]:
    """Per-group and per-type tables."""
    weighted = data["summary"]["weight_total"] is not None
    lines: list[str] = []
    for key, title in (("groups", "group"), ("types", "type")):
        items = data.get(key) or []
        if not items:
            continue
        header = [title, "districts", "covered", "% districts"]
        if key == "types":
            header.insert(1, "centres")
        if weighted:
            header.append("% weight")
        rows = []
        for item in items:
            row = [item[title] if item[title] is not None else "(none)"]
            if key == "types":
                row.append(str(item["centers"]))
            row += [str(item["districts"]), str(item["covered"]), pct(item["percent"])]
            if weighted:
                row.append(pct(item["weight_percent"]))
            rows.append(row)
        lines += ["", *_table(rows, header)]
    return lines
