"""Plain-text rendering of coverage results for terminals."""

from __future__ import annotations

from collections.abc import Sequence
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


def table(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None, *,
          align: str | None = None, indent: str = "") -> list[str]:
    """The one text-table renderer of the CLI: columns two spaces apart, each aligned left
    (``l``) or right (``r``) as ``align`` says (default: the first left, the rest right),
    trailing blanks trimmed."""
    lines = ([list(header)] if header is not None else []) + [list(r) for r in rows]
    if not lines:
        return []
    n = len(lines[0])
    align = align or "l" + "r" * (n - 1)
    widths = [max(len(str(r[i])) for r in lines) for i in range(n)]

    def fmt(row: list[str]) -> str:
        cells = [str(v).ljust(w) if a == "l" else str(v).rjust(w)
                 for v, w, a in zip(row, widths, align, strict=True)]
        return (indent + "  ".join(cells)).rstrip()

    return [fmt(r) for r in lines]


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
        lines += ["", *table(rows, header)]
    return lines


def capacity_lines(data: dict[str, Any]) -> list[str]:
    """Demand served within capacities: overall, by group, by centre type."""
    c = data.get("capacity")
    if not c:
        return []
    status = "optimal" if c["status"] == "optimal" else f"{c['status']}, not proved optimal"
    lines = ["", f"Capacity ({c['model']['capacity']}; demand {c['model']['demand']}): "
                 f"served {num(c['served'])} of {num(c['demand'])} ({pct(c['served_pct'])}%), "
                 f"{status}",
             f"Unserved: {num(c['unserved'])}, of which within reach but over capacity: "
             f"{num(c['unserved_in_reach'])}",
             f"Centres at capacity: {c['centres_full']} of {len(c['centres'])}"]
    groups = c.get("by_group") or []
    if groups:
        rows = [[g["group"], num(g["demand"]), num(g["served"]), num(g["unserved_in_reach"]),
                 pct(g["served_pct"])] for g in groups]
        lines += ["", *table(rows, ["group", "demand", "served", "over capacity",
                                    "% served"])]
    types = c.get("by_centre_type") or []
    if types:
        rows = [[t["type"] or "(none)", str(t["centres"]), num(t["capacity"]), num(t["load"]),
                 pct(t["utilisation_pct"]), pct(t["pct_of_demand_served"])] for t in types]
        lines += ["", *table(rows, ["type", "centres", "capacity", "load", "% utilised",
                                    "% of demand"])]
    return lines
