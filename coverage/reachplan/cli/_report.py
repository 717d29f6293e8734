"""Plain-text rendering of coverage results for terminals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reachplan._words import plural
from reachplan.text import for_terminal

#: What an ``-o`` suffix holds for the reporting commands (coverage, compare): the table
#: formats are the per-row CSV, in that file type (or a PostGIS table); .txt is the text report.
REPORT_SUFFIXES = {".json": "json", ".csv": "csv", ".xlsx": "csv", ".postgis": "csv",
                   ".txt": "table"}


def report_format(fmt: str | None, output: str | None,
                  by_suffix: dict[str, str] = REPORT_SUFFIXES) -> str:
    """--format, or the one ``-o``'s suffix names (a conflict between them is refused naming
    both options), else ``table``."""
    from reachplan.cli.errors import flags_for
    from reachplan.io import output_format

    with flags_for(path="output"):
        return output_format(fmt, output, by_suffix, "table")


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


def reach_words(cost: dict[str, Any] | None) -> str:
    """A JSON ``"cost"`` block's reach in words: ``"within 25 km"``."""
    cost = cost or {}
    return (f"within {cost['reach']:g} {cost['label']}" if cost.get("reach") is not None
            else "reached by the rule")


def demand_lines(data: dict[str, Any]) -> list[str]:
    """Demand points within the radius, when they were assessed."""
    d = data.get("demand")
    if not d:
        return []
    reach = reach_words(d.get("cost"))
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
    trailing blanks trimmed. Every cell is rendered with :func:`reachplan.text.for_terminal`
    (a name with a newline or a control sequence stays one inert cell)."""
    lines = ([list(header)] if header is not None else []) + [list(r) for r in rows]
    lines = [[for_terminal(v) for v in r] for r in lines]  # users' names: one line, inert
    if not lines:
        return []
    n = len(lines[0])
    align = align or "l" + "r" * (n - 1)
    widths = [max(len(r[i]) for r in lines) for i in range(n)]

    def fmt(row: list[str]) -> str:
        cells = [v.ljust(w) if a == "l" else v.rjust(w)
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


def _band(b: dict[str, Any]) -> str:
    """A band of cost for people: ``<= 5``, ``5-10``, ``> 25 or none``."""
    if b["to"] is None:
        return f"> {b['from']:g} or none"
    return f"<= {b['to']:g}" if b["from"] == 0 else f"{b['from']:g}-{b['to']:g}"


def threshold_lines(data: dict[str, Any]) -> list[str]:
    """Coverage at each threshold, the bands of access and the inequality between
    districts, under a rule of several thresholds (else nothing)."""
    steps = data.get("thresholds") or []
    if not steps:
        return []
    label = (data.get("cost") or {}).get("label", "")
    weighted = steps[0].get("weight_percent") is not None
    header = ["within", "covered", "% districts"] + (["% weight"] if weighted else [])
    rows = [[f"{s['threshold']:g} {label}", f"{s['covered']} of {s['districts']}",
             pct(s["percent"])] + ([pct(s["weight_percent"])] if weighted else [])
            for s in steps]
    people = (data.get("population") or {}).get("thresholds") or []
    if len(people) == len(rows):  # a population raster's people, cell by cell
        header.append("% people")
        rows = [[*row, pct(p["percent"])] for row, p in zip(rows, people, strict=True)]
    eq = data.get("equity") or {}
    bands = eq.get("bands") or []
    band_rows = [[_band(b), str(b["districts"]), pct(b["percent"])]
                 + ([pct(b["weight_percent"])] if weighted else []) for b in bands]
    lines = ["", *table(rows, header)]
    if band_rows:
        lines += ["", *table(band_rows, [f"band ({label})", "districts", "% districts"]
                             + (["% weight"] if weighted else []))]
    people_bands = ((data.get("population") or {}).get("equity") or {}).get("bands") or []
    if people_bands:
        lines += ["", *table([[_band(b), num(b["population"]), pct(b["percent"])]
                              for b in people_bands],
                             [f"band ({label})", "people (cells)", "% people"])]
    ineq = eq.get("inequality") or {}
    cost = ineq.get("cost") or {}
    if cost:
        what = "weighted by weight" if ineq.get("weighted") else "unweighted"

        def index(v: float | None) -> str:
            return "-" if v is None else f"{v:.4f}"

        lines += ["", f"Inequality of access between districts ({what}): {label} to access "
                      f"Gini {index(cost.get('gini'))}, Theil {index(cost.get('theil'))} "
                      f"({cost['districts']} districts; {cost['unreachable']} unreachable "
                      "left out)"]
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


def result_dict(result, demand=None, capacity=None, *, districts: bool = True,
                population=None) -> dict:
    """The JSON contract, plus ``demand`` when demand points were assessed, ``capacity``
    when demand was allocated within capacities and ``population`` when a population
    raster's people within reach were counted (``districts=False``: without the
    per-district records)."""
    data = result.to_dict(districts=districts)
    if population is not None:
        from reachplan.cli._population import population_block

        data["population"] = population_block(population)
        data["warnings"] = [*data.get("warnings", []), *population.warnings]
    if demand is not None:
        data["demand"] = demand.summary
        data["warnings"] = [*data.get("warnings", []), *demand.warnings]  # as stderr said
    if capacity is not None:
        data["capacity"] = capacity.block
    return data


def render_table(result, demand=None, capacity=None, *, population=None) -> str:
    from reachplan.cli._population import population_lines

    data = (result_dict(result, demand, capacity, districts=False, population=population)
            | {"rule_text": result.rule.describe()})
    return "\n".join(summary_lines(data) + demand_lines(data)
                     + population_lines(data.get("population")) + threshold_lines(data)
                     + breakdown_lines(data) + capacity_lines(data)) + "\n"


def gap_table(result, capacity=None):
    """Uncovered districts, ranked: weight descending, then nearest centre farthest first.

    With a capacity allocation, then the covered districts over capacity (demand within
    reach left unserved), ranked by that unserved demand (descending, then id); a ``gap``
    column says which kind each row is, and the ``capacity_*`` columns give the figures.
    """
    import pandas as pd

    from reachplan.cli._capacity_options import district_columns

    gaps = result.gaps()
    if capacity is not None:
        over = result.districts[result.districts["covered"]]
        over = district_columns(over, capacity)
        over = over[over["capacity_unserved_in_reach"] > 0]
        over = over.sort_values(["capacity_unserved_in_reach", "id"], ascending=[False, True],
                                kind="stable")
        gaps = district_columns(gaps, capacity)
        gaps.insert(0, "gap", "uncovered")
        over.insert(0, "gap", "over capacity")
        gaps = pd.concat([gaps, over], ignore_index=True)
    from reachplan.engine import inf_as_missing, round_nearest

    gaps = round_nearest(inf_as_missing(gaps))
    gaps.insert(0, "rank", range(1, len(gaps) + 1))
    if not result.weighted:
        gaps = gaps.drop(columns="weight")
    return gaps.drop(columns="covered")


def render_gaps(table) -> str:
    """The ranked gap list as an aligned text table for people."""
    from reachplan.cli._report import num
    from reachplan.cli._report import table as text_table

    if len(table) == 0:
        return "No gaps: every district is covered.\n"
    table = table.drop(columns=[c for c in ("geometry",) if c in table.columns])
    header = [str(c) for c in table.columns]
    rows = [["-" if _missing(v) else (num(v) if c == "weight" else
                                     f"{v:.3f}" if c == "nearest_km" else str(v))
             for c, v in zip(header, row, strict=True)]
            for row in table.itertuples(index=False)]
    return "\n".join(text_table(rows, header)) + "\n"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


_COVERS_SHOWN = 8


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{pct(v)}%"


def _status_text(report: dict[str, Any]) -> str:
    status, gap = report["status"], report["optimality_gap"]
    if status == "optimal":
        return f"{report['method']}, proved optimal"
    if status == "heuristic":
        return "greedy, no optimality proof"
    gap_text = "unknown gap" if gap is None else f"optimality gap {100 * gap:.2f}%"
    if status == "interrupted":
        return f"INTERRUPTED: best plan so far ({report['method']}, {gap_text})"
    return f"time limit reached: best plan found ({report['method']}, {gap_text})"


def render_plan(report: dict[str, Any], *, weight_col: str | None = None) -> str:
    """The plan as text for people: before/after, then the sites in rank order."""
    b, a = report["before"], report["after"]
    n_sites = len(report["sites"])
    lines = [
        f"Plan: {n_sites} new site{'s' if n_sites != 1 else ''} ({_status_text(report)})",
        *(note[0].upper() + note[1:] + "." for note in report["notes"]),
        f"Districts covered: {b['covered']} of {b['districts']} ({_pct(b['percent'])}) -> "
        f"{a['covered']} of {a['districts']} ({_pct(a['percent'])})",
    ]
    if b["weight_total"] is not None:
        lines.append(
            f"Weight covered ({weight_col or 'weight'}): {num(b['weight_covered'])} "
            f"({_pct(b['weight_percent'])}) -> {num(a['weight_covered'])} "
            f"({_pct(a['weight_percent'])}) of {num(a['weight_total'])}"
        )
    target = report["request"]["target"]
    if target is not None:
        best = report["best_reachable"]
        if report["target_reached"]:
            lines.append(f"Target {target:g}% reached with {plural(n_sites, 'site')}.")
        else:
            fig = (f"{_pct(best['weight_percent'])} of weight"
                   if report["objective"] == "weight" else f"{_pct(best['percent'])} of districts")
            lines.append(
                f"Target {target:g}% cannot be reached with these candidates: the best "
                f"reachable is {fig} ({plural(best['districts'], 'district')}), which these "
                "sites give."
            )
    if report["sites"]:
        weighted = b["weight_total"] is not None
        header = ["rank", "site", "lat", "lon", "+districts"]
        if weighted:
            header.append("+weight")
        header.append("newly covers")
        rows = []
        for s in report["sites"]:
            covers = s["covers"][:_COVERS_SHOWN]
            more = len(s["covers"]) - len(covers)
            row = [str(s["rank"]), s["name"], f"{s['lat']:.5f}", f"{s['lon']:.5f}",
                   str(s["gain_districts"])]
            if weighted:
                row.append(num(s["gain_weight"]))
            named = [f"{i} {n}" if n and n != i else i
                     for i, n in zip(covers, s["covers_names"], strict=False)]
            row.append(", ".join(named) + (f" … (+{more})" if more > 0 else ""))
            rows.append(row)
        lines += ["", *table(rows, header, align="rl" + "r" * (len(header) - 3) + "l")]
    return "\n".join(lines) + "\n"
