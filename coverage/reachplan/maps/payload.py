"""The data block of a map page: districts, classes, centres and summary as plain JSON.

Every text that comes from an input file is HTML-escaped here, before it reaches the page, and
the page only ever inserts it as escaped markup.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, TypedDict

import numpy as np
import shapely

from reachplan.errors import InputError
from reachplan.maps import palette
from reachplan.maps.geometry import _decimals, _Encoded, _simplify_coverage, simplified
from reachplan.text import for_html, for_json_text

#: Ways to colour the districts.
COLOR_BY = ("status", "centers", "per-weight", "served")
#: Served colouring: % of a district's demand served within capacities (lower bound, label).
_SERVED_BINS = ((0.0, "under 50%"), (50.0, "50% to under 90%"), (90.0, "90% to under 100%"),
                (100.0, "100%"))

_PER_WEIGHT = 100_000  # per-weight colouring: centres per 100,000 of weight (e.g. people)
_CENTRE_BINS = ((0, 0, "0"), (1, 1, "1"), (2, 4, "2–4"), (5, 9, "5–9"), (10, None, "10+"))


class ColourClass(TypedDict):
    """One colour of a legend: its label (escaped HTML) and CSS colour."""

    label: str
    color: str


class DistrictColumns(TypedDict):
    """Per-district values, one list entry per district, in the order of the districts."""

    id: list[str | None]
    name: list[str | None]
    group: list[int]            # index into MapPayload.groups, -1 for none
    centres: list[int]          # centres inside
    covered: list[int]          # 1 covered, 0 gap
    nearest_km: list[float | None]
    nearest_centre: list[str | None]
    colour_class: list[int]     # index into MapPayload.classes


class _CostRequired(TypedDict):
    reach: float                # T, in unit
    unit: str                   # "min"
    label: str                  # the unit in words: "min by road"
    how: str                    # how it is measured: "by road" ("" when the label says all)
    nearest: list[float | None]  # None: no centre reaches it (by road)
    centre: list[str | None]    # escaped name of the centre that gives it (the quickest)


class CostColumns(_CostRequired, total=False):
    """Under a rule whose cost is not the geodesic distance (minutes by road, a toy rule's
    cells), read from its cost descriptor: the reach and, per district, the cost from the
    centre that gives the least (and, when the rule adds it, the share of the district's
    road vertices reached within T)."""

    road_nodes_within_pct: list[float | None]  # 0-100; None: no road vertex inside


class PointLayer(TypedDict):
    """A point layer (centres, proposed sites) with its popup table."""

    lat: list[float]
    lon: list[float]
    type: list[int]             # index into types (0 when there are no types)
    types: list[ColourClass]
    heading: str                # the legend's title of the types ("Centre type")
    columns: list[str]          # popup table: column names
    dictionaries: list[list[str] | None]  # per column: the values, when data holds indices
    data: list[list[Any]]       # per column: values, or indices into its dictionary (-1 none)


class BeforeData(TypedDict):
    """Coverage of the same districts before a plan: 1, 0, or -1 (district unknown before)."""

    covered: list[int]
    summary: list[str]


class CoarseShapes(TypedDict):
    """The districts simplified more, drawn at zoom levels up to ``max_zoom`` (fast first load).

    Same encoding as the page's own ``shapes`` and ``group_outlines`` (its own delta chain).
    """

    max_zoom: int
    scale: int
    shapes: list[list[list[list[int]]]]
    group_outlines: list[int]


class Colours(TypedDict):
    """The colours the script needs beyond the classes (see :mod:`reachplan.maps.palette`)."""

    covered: str
    gap: str
    nodata: str
    gap_line: str
    cluster: str
    site: str
    centre: str                 # centres when there are no types
    fill_opacity: float


def _colours() -> Colours:
    return {"covered": palette.COVERED, "gap": palette.GAP, "nodata": palette.NODATA,
            "gap_line": palette.GAP_LINE, "cluster": palette.CLUSTER, "site": palette.SITE,
            "centre": palette.TYPES[0], "fill_opacity": palette.FILL_OPACITY}


class _MapPayloadRequired(TypedDict):
    scale: int                  # coordinates are integers / scale degrees
    heading: str
    rule: str                   # the rule in words (what "covered" means), for the legend
    classes: list[ColourClass]
    districts: DistrictColumns
    shapes: list[list[list[list[int]]]]  # per district: polygons of rings of dx, dy steps
    groups: list[str]
    group_outlines: list[int]   # flat (ring, first edge, edge count) triples
    centres: PointLayer
    ring_m: float | None        # radius of the ring drawn round each centre
    summary: list[str]
    title: str | None
    bbox: list[list[float]]     # [[south, west], [north, east]]
    coarse: CoarseShapes | None
    colours: Colours


class MapPayload(_MapPayloadRequired, total=False):
    """The data block of a map page (JSON); every text in it is escaped HTML."""

    sites: PointLayer
    before: BeforeData
    cost: CostColumns
    isochrones: list[ColourClass]  # the service-area bands, shortest first
    week: WeekData
    thresholds: ThresholdData


class WeekData(TypedDict):
    """Coverage in each hour of a week (the map's hour slider): per district, its 168 hours
    as 42 hex digits (the first digit's high bit is Monday 00:00), the hour shown first
    (the worst) and per hour the % of districts covered."""

    start: str                  # the Monday, YYYY-MM-DD
    covered: list[str]
    hour: int
    percent: list[float]


class ThresholdData(TypedDict):
    """Coverage at each threshold of a result at several (the map's threshold selector):
    per threshold its label, a '0'/'1' character per district, and the % of districts
    covered; the one shown first (the largest, as the map's colours)."""

    labels: list[str]
    covered: list[str]
    percent: list[float]
    index: int


def threshold_data(result: Any) -> ThresholdData | None:
    """The selector's data from a result at several thresholds (None for one)."""
    from reachplan.rules import cost_of

    if not getattr(result, "thresholds", None):
        return None
    label = cost_of(result.rule).label
    columns = [result.districts[s["column"]].to_numpy(dtype=bool) for s in result.thresholds]
    return {"labels": [for_html(f"{s['threshold']:g} {label}") for s in result.thresholds],
            "covered": ["".join("1" if v else "0" for v in c) for c in columns],
            "percent": [float(s["percent"] or 0.0) for s in result.thresholds],
            "index": len(columns) - 1}


def week_data(profile: Any, districts: int) -> WeekData:
    """The slider's data from a :class:`reachplan.hours.WeekProfile` of the same districts."""
    covered = np.asarray(profile.covered, dtype=bool)
    if covered.shape != (168, districts):
        raise InputError(f"week: a profile of {covered.shape[1]} districts for a map of "
                         f"{districts}; give the week of the same districts", params=("week",))
    packed = np.packbits(covered.T, axis=1)  # districts × 21 bytes, Monday 00:00 first
    return {"start": f"{profile.start:%Y-%m-%d}", "covered": [row.tobytes().hex()
                                                             for row in packed],
            "hour": int(profile.worst(1).index[0]),
            "percent": [float(v) for v in profile.hours["percent"]]}


def _text(value: Any) -> str | None:
    """An input value as escaped HTML text (None stays None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return for_html(value)


def _num(value: Any, digits: int = 2) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, digits)


def _sig(value: float) -> float:
    """Round to two significant figures (class breaks)."""
    if value <= 0:
        return 0.0
    return float(f"{value:.2g}")


def _classes(districts: Any, color_by: str) -> tuple[list[int], list[ColourClass], str]:
    """Class index per district, the classes (label, colour) and the legend heading."""
    if color_by == "status":
        status: list[ColourClass] = [{"label": "covered", "color": palette.COVERED},
                                     {"label": "gap (not covered)", "color": palette.GAP}]
        return [0 if bool(c) else 1 for c in districts["covered"]], status, "Coverage"
    if color_by == "centers":
        n = np.asarray(districts["centers"], dtype=np.int64)
        binned = np.zeros(len(n), dtype=int)
        for i, (low, high, _) in enumerate(_CENTRE_BINS):
            binned[(n >= low) & ((n <= high) if high is not None else True)] = i
        bins: list[ColourClass] = [
            {"label": lab, "color": col}
            for (_, _, lab), col in zip(_CENTRE_BINS, palette.SEQUENTIAL, strict=True)]
        return binned.tolist(), bins, "Centres in district"
    if color_by == "per-weight":
        weight = np.asarray(districts["weight"], dtype=float)
        if not np.any(weight > 0):
            raise InputError("color_by=per-weight needs a weight: districts read with "
                             "weight_col (a numeric column with positive values)",
                             params=("color_by", "weight_col"))
        n = np.asarray(districts["centers"], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(weight > 0, n / weight * _PER_WEIGHT, np.nan)
        positive = rate[rate > 0]
        breaks = sorted({_sig(b) for b in np.quantile(positive, [0.25, 0.5, 0.75, 0.9])}
                        - {0.0}) if len(positive) else []
        edges = [0.0, *breaks]
        rates: list[ColourClass] = [{"label": "0", "color": palette.RATES[0]}]
        for i, lo in enumerate(edges):
            top = edges[i + 1] if i + 1 < len(edges) else None
            label = f"> {lo:g} – {top:g}" if top is not None else f"> {lo:g}"
            rates.append({"label": label, "color": palette.RATES[min(i + 1, 5)]})
        rates.append({"label": "no weight", "color": palette.NODATA})
        rate_class: list[int] = []
        for r in rate:
            if np.isnan(r):
                rate_class.append(len(rates) - 1)
            elif r <= 0:
                rate_class.append(0)
            else:
                rate_class.append(1 + sum(1 for e in edges[1:] if r > e))
        return rate_class, rates, f"Centres per {_PER_WEIGHT:,} weight"
    if color_by == "served":
        return _served_classes(districts)
    raise InputError(f"unknown colour scheme {color_by!r}; use one of: {', '.join(COLOR_BY)}")


def _served_classes(districts: Any) -> tuple[list[int], list[ColourClass], str]:
    """Classes of ``capacity_served_pct`` (a capacity allocation's served %; missing: no
    demand): light to dark as more is served, grey for no demand."""
    if "capacity_served_pct" not in districts.columns:
        raise InputError("color_by=served needs the districts' capacity_served_pct (a "
                         "capacity allocation: capacity_col)", params=("color_by",
                                                                       "capacity_col"))
    served: list[ColourClass] = [
        {"label": for_html(label), "color": colour}
        for (_, label), colour in zip(_SERVED_BINS, palette.SEQUENTIAL[1:], strict=True)]
    served.append({"label": "no demand", "color": palette.NODATA})
    pct = np.asarray(districts["capacity_served_pct"], dtype=float)
    cls = [len(served) - 1 if np.isnan(v)
           else max(i for i, (low, _) in enumerate(_SERVED_BINS) if v >= low - 1e-9)
           for v in pct]
    return cls, served, "Demand served within capacity"


def _table(frame: Any, skip: tuple[str, ...]
           ) -> tuple[list[str], list[list[str] | None], list[list[Any]]]:
    """Columns of a point frame as compact JSON: dictionary-coded when values repeat."""
    cols = [c for c in frame.columns if c not in skip]
    out_cols: list[str] = []
    dicts: list[list[str] | None] = []
    data: list[list[Any]] = []
    n = len(frame)
    for col in cols:
        values = [_text(v) for v in frame[col].tolist()]
        uniq = sorted({v for v in values if v is not None})
        out_cols.append(for_html(col))
        if n >= 8 and len(uniq) * 2 < n:
            index = {v: i for i, v in enumerate(uniq)}
            dicts.append(uniq)
            data.append([index[v] if v is not None else -1 for v in values])
        else:
            dicts.append(None)
            data.append(values)
    return out_cols, dicts, data


def _points(frame: Any, *, type_col: str | None) -> PointLayer:
    """Point layer data: coordinates, type index and popup columns."""
    geom = frame.geometry.values
    lat = [round(float(v), 5) for v in shapely.get_y(geom)]
    lon = [round(float(v), 5) for v in shapely.get_x(geom)]
    types: list[str] = []
    tidx = [0] * len(frame)
    if type_col is not None:
        raw = [_text(v) or "(none)" for v in frame[type_col].tolist()]
        types = sorted(set(raw))
        categories = getattr(getattr(frame[type_col], "cat", None), "categories", None)
        if categories is not None:  # an ordered scale (e.g. utilisation): keep its order
            types = [t for t in (_text(c) for c in categories) if t is not None]
            types += sorted(set(raw) - set(types))
        index = {t: i for i, t in enumerate(types)}
        tidx = [index[t] for t in raw]
    columns, dictionaries, data = _table(frame, skip=(frame.geometry.name,))
    heading = ("Centre type" if type_col is None or str(type_col).lower() == "type"
               else f"Centres by {type_col}")  # the capacity map: by utilisation
    return {"lat": lat, "lon": lon, "type": tidx,
            "types": [{"label": t, "color": palette.TYPES[i % len(palette.TYPES)]}
                      for i, t in enumerate(types)],
            "heading": for_html(heading),
            "columns": columns, "dictionaries": dictionaries, "data": data}


def _summary_lines(result: Any, inputs: Mapping[str, str] | None) -> list[str]:
    s = result.summary
    known = dict(getattr(result, "inputs", None) or {})
    lines = [f"Districts covered: {s['covered']:,} of {s['districts']:,} "
             f"({s['percent']:.2f}%)"]
    if s.get("weight_percent") is not None:
        col = known.get("weight_col") or "weight"
        lines.append(f"Weight ({col}) covered: {s['weight_percent']:.2f}% "
                     f"({s['weight_covered']:,.0f} of {s['weight_total']:,.0f})")
    lines.append(f"Rule: {result.rule.describe()}")
    if inputs is None:
        from reachplan.frames import input_name

        inputs = {label: known.get(key) or input_name(frame.attrs.get("source")) or ""
                  for label, key, frame in (("Boundaries", "boundaries", result.districts),
                                            ("Centres", "centers", result.centers))}
    for label, path in inputs.items():
        if path:
            lines.append(f"{label}: {path}")
    return [for_html(line) for line in lines]


def _cost_columns(result: Any) -> CostColumns | None:
    """The rule's own cost per district (minutes by road), from its cost descriptor; None
    when the cost is the geodesic distance the districts carry anyway."""
    from reachplan.rules import cost_of

    districts, cost = result.districts, cost_of(result.rule)
    if cost.geodesic or cost.column not in districts.columns:
        return None
    n = len(districts)
    column = districts[cost.column].tolist()
    centre = (districts[cost.center_column].tolist()
              if cost.center_column in districts.columns else [None] * n)
    out: CostColumns = {"reach": float(cost.reach), "unit": cost.unit, "label": cost.label,
                        "how": cost.label.removeprefix(cost.unit).strip(),
                        "nearest": [_num(v) for v in column],
                        "centre": [_text(v) for v in centre]}
    if "road_nodes_within_pct" in districts.columns:  # a figure the rule adds (by road)
        out["road_nodes_within_pct"] = [_num(v) for v in
                                        districts["road_nodes_within_pct"].tolist()]
    return out


def _type_column(frame: Any, type_col: str | None) -> str | None:
    if type_col is not None:
        if type_col not in frame.columns:
            raise InputError(f"centres: no column {type_col!r} for the centre type; "
                             f"use one of: {', '.join(map(str, frame.columns))}")
        return type_col
    for col in frame.columns:
        if str(col).lower() == "type":
            return col
    return None


def _json_for_html(obj: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``."""
    text = for_json_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                                    allow_nan=False))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


#: The coarse level's tolerance, as a multiple of the map's own.
_COARSE_FACTOR = 4.0
#: Metres per pixel at zoom 0 on the equator (Web Mercator, 256 px tiles).
_M_PER_PX_ZOOM0 = 156_543.03


def _coarse_shapes(simple: np.ndarray, fine: _Encoded, group_idx: np.ndarray,
                   simplify_m: float, lat: float) -> CoarseShapes | None:
    """The districts simplified ``_COARSE_FACTOR`` times more, for the zoom levels where that
    tolerance is at most one pixel; None when that saves little (under 30 % of vertices) or
    no zoom level qualifies. Simplified as a coverage from ``simple``, so neighbours stay
    joined; None too if a district drawn at the fine level would vanish on the coarse grid."""
    if simplify_m <= 0:
        return None
    tolerance = _COARSE_FACTOR * simplify_m
    max_zoom = math.floor(math.log2(_M_PER_PX_ZOOM0 * math.cos(math.radians(lat)) / tolerance))
    if max_zoom < 0:
        return None
    coarse = _simplify_coverage(simple, tolerance)
    if shapely.get_num_coordinates(coarse).sum() > 0.7 * shapely.get_num_coordinates(simple).sum():
        return None
    enc = _Encoded(coarse, group_idx, _decimals(tolerance))
    if any(f and not c for f, c in zip(fine.geoms, enc.geoms, strict=True)):
        return None
    return {"max_zoom": max_zoom, "scale": enc.scale, "shapes": enc.geoms,
            "group_outlines": enc.runs.ravel().tolist() if group_idx.max(initial=-1) >= 0
            else []}


def build_payload(result: Any, *, color_by: str, ring_m: float | None,
                  simplify_m: float | None,
                  title: str | None, sites: Any, before: Any, type_col: str | None,
                  inputs: Mapping[str, str] | None) -> MapPayload:
    """The data block of the map of ``result`` (arguments as in ``coverage_map``)."""
    districts = result.districts
    groups_raw = [_text(g) for g in districts["group"].tolist()]
    group_names = sorted({g for g in groups_raw if g is not None})
    gindex = {g: i for i, g in enumerate(group_names)}
    group_idx = np.array([gindex[g] if g is not None else -1 for g in groups_raw], dtype=np.int64)
    simple, simplify_m = simplified(districts.geometry.values, simplify_m,
                                    result.centers.geometry.values)
    enc = _Encoded(simple, group_idx, _decimals(simplify_m))
    bounds = shapely.total_bounds(districts.geometry.values)  # xmin, ymin, xmax, ymax
    coarse = _coarse_shapes(simple, enc, group_idx, simplify_m, (bounds[1] + bounds[3]) / 2)

    cls, classes, heading = _classes(districts, color_by)
    columns: DistrictColumns = {
        "id": [_text(v) for v in districts["id"].tolist()],
        "name": [_text(v) for v in districts["name"].tolist()],
        "group": group_idx.tolist(),
        "centres": [int(v) for v in districts["centers"].tolist()],
        "covered": [1 if bool(v) else 0 for v in districts["covered"].tolist()],
        "nearest_km": [_num(v) for v in districts["nearest_km"].tolist()],
        "nearest_centre": [_text(v) for v in districts["nearest_center"].tolist()],
        "colour_class": cls,
    }
    payload: MapPayload = {
        "scale": enc.scale, "heading": for_html(heading),
        "rule": for_html(result.rule.describe()), "classes": classes,
        "districts": columns, "shapes": enc.geoms, "groups": group_names,
        "group_outlines": enc.runs.ravel().tolist() if group_names else [],
        "centres": _points(result.centers, type_col=type_col),
        "ring_m": ring_m,
        "summary": _summary_lines(result, inputs),
        "title": _text(title),
        "bbox": [[round(float(b), 5) for b in bounds[1::-1]],
                 [round(float(b), 5) for b in bounds[:1:-1]]],
        "coarse": coarse,
        "colours": _colours(),
    }
    cost = _cost_columns(result)
    if cost is not None:
        payload["cost"] = cost
    steps = threshold_data(result) if color_by == "status" else None
    if steps is not None:
        payload["thresholds"] = steps
    if sites is not None and len(sites):
        payload["sites"] = _points(sites, type_col=None)
    if before is not None:
        bd = before.districts
        by_id = {str(i): bool(c) for i, c in zip(bd["id"], bd["covered"], strict=True)}
        payload["before"] = {
            "covered": [(1 if by_id[str(i)] else 0) if str(i) in by_id else -1
                        for i in districts["id"].tolist()],
            "summary": _summary_lines(before, {}),
        }
    return payload
