"""The what-if planner page: the reach table packed for the browser, and the page around it.

The page evaluates the SAME reach table the library does (docs/architecture.md, "The reach
table"): every (district, site) pair within reach comes from ``rule.pairs`` and every (demand
point, site) pair from ``rule.point_reach(...).pairs``, built here once for every site the
planner may open (existing centres, then candidates). The page keeps a count per district (and
per type × district, per demand point) of the open sites that reach it; a toggle walks only
that site's pairs. Display geometry (simplified) never decides a figure.

Data format (``planner_data``: one JSON object, in ``<script type="application/json"
id="reachplan_planner">``; text fields are raw strings, JSON-escaped for the script element:
insert them with ``textContent`` or ``_internal.esc``, never as HTML)
---------------------------------------------------------------------------------------------
``version`` 1. ``rule``: ``rule.to_dict()``; ``cost``: ``cost_of(rule).to_dict()``;
``min_centers`` K; ``reach_m`` (radius rules, metres, else null); ``presence`` (bool).

``districts``: ``id``, ``name`` (lists of text), ``group`` (packed int32: index into
``groups``, the engine's ``factorize(sort=True)`` order, -1 none), ``groups`` (text or null
for the missing group), ``weight`` (packed float64 with NaN, or null without a weight column),
``boundary`` (the full-precision rings for a clicked site: ``ring_start`` packed int32 per
district into ``ring_off``, ``ring_off`` packed int32 per ring into the vertex arrays, ``lon``
and ``lat`` packed coordinates; a ring's last vertex repeats its first; the first ring of
each polygon part is its shell: ``part_of_ring`` packed int32 numbers the parts).

``sites``: ``name`` (text), ``type`` (packed int32 into ``types``, the type labels in
Python's sorted order; present only with a type column), ``candidate`` (packed uint8: 1 for a
candidate), ``open`` (packed uint8: 1 for a site open when the page opens: the centres, and
sites a plan proposes), ``lat``/``lon`` (packed coordinates), ``csv`` (by site
position, the row's text cells rendered for a CSV sink by
:func:`reachplan.text.for_spreadsheet` where they differ from ``name,type`` as they are),
``csv_header`` (the header of the exported file), ``added_type`` (the type of a clicked site).

``reach``: the district-site table by site (CSR): ``start`` (packed int32, sites + 1),
``district`` (packed d32), ``cost_m`` (packed uint16 or uint32: the geodesic distance in
metres as outputs write ``nearest_km``, the nearest-site ranking of gaps), ``flags`` (packed
uint8: 1 when ``rule.pairs`` lists the pair, the site reaches the district; 2 when the site
is inside or on its boundary, the ``centers`` of gaps; rows without 1 are near pairs within
``near_m``, kept for ``nearest_km`` only).

``points`` (or null without demand points): ``n``, ``lat``/``lon`` (packed coordinates),
``weight`` (packed float64, or null), ``start``/``point`` (packed int32/d32, the point-site pairs
by site, CSR), ``demand`` (the demand block's constant keys: ``radius_km``, ``cost``).

A packed array is ``{"type": "i32"|"d32"|"u32"|"u16"|"u8"|"f64"|"e7", "n": length, "z": base64 of
the zlib stream of its little-endian bytes}``; ``d32`` are int32 steps from the previous value
(the page adds them up), ``e7`` are coordinates stored as int32 deltas
of round(v × 1e7) (only when that gives back every float exactly; else ``f64``).
"""

from __future__ import annotations

import base64
import csv
import io
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from reachplan.errors import InputError
from reachplan.rules import cost_of, reaches_points
from reachplan.text import for_spreadsheet

__all__ = ["ADDED_TYPE", "CANDIDATE_TYPE", "DemandPoints", "planner_data", "read_demand",
           "what_if_map"]

#: The type of a candidate site without a type of its own, and of a site clicked in the page.
CANDIDATE_TYPE = "candidate"
ADDED_TYPE = "added"
#: Near pairs (for each gap's nearest open site): within this multiple of the reach, and at
#: least this many metres.
_NEAR_FACTOR, _NEAR_MIN_M = 2.0, 30_000.0
_E7 = 10_000_000


def _pack(values: Any, kind: str) -> dict[str, Any]:
    """One packed array (see the module docstring)."""
    arr = np.asarray(values)
    if kind == "e7":
        as_float = arr.astype("<f8")
        ints = np.round(as_float * _E7)
        if (len(ints) and np.abs(ints).max() >= 2**31) or not np.array_equal(
                ints / _E7, as_float):
            return _pack(as_float, "f64")
        steps = np.diff(ints.astype(np.int64), prepend=0).astype("<i4")
        raw = steps.tobytes()
    else:
        if kind == "d32":  # int32 steps from the previous value (sorted runs pack well)
            arr = np.diff(arr.astype(np.int64), prepend=0)
        dtype = {"i32": "<i4", "d32": "<i4", "u32": "<u4", "u16": "<u2", "u8": "u1",
                 "f64": "<f8"}[kind]
        raw = arr.astype(dtype).tobytes()
    return {"type": kind, "n": int(arr.size),
            "z": base64.b64encode(zlib.compress(raw, 9)).decode("ascii")}


def _csv_cells(values: Sequence[Any]) -> str:
    """Text cells of one CSV row, rendered for a spreadsheet (no trailing newline)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(
        ["" if v is None else for_spreadsheet(str(v)) for v in values])
    return out.getvalue()


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _boundary(geoms: np.ndarray) -> dict[str, Any]:
    parts, part_geom = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(ring_of, minlength=len(rings))
    ring_off = np.concatenate([[0], np.cumsum(counts)])
    ring_geom = part_geom[ring_part]
    ring_start = np.searchsorted(ring_geom, np.arange(len(geoms) + 1))
    return {"ring_start": _pack(ring_start, "i32"), "ring_off": _pack(ring_off, "i32"),
            "part_of_ring": _pack(ring_part, "i32"),
            "lon": _pack(coords[:, 0], "e7"), "lat": _pack(coords[:, 1], "e7")}


def _csr(owner: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n))])


def _groups(districts: pd.DataFrame) -> tuple[np.ndarray, list[str | None]]:
    """The engine's group order: ``factorize(fillna(""), sort=True)``; none: no groups."""
    group = districts["group"]
    if not group.notna().any():
        return np.full(len(districts), -1), []
    codes, keys = pd.factorize(group.fillna(""), sort=True)
    return codes, [str(k) or None for k in keys]


@dataclass(frozen=True)
class DemandPoints:
    """Demand points as the demand summary counts them: valid coordinates only."""

    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray | None
    block: dict[str, Any]  # the demand block's constant keys (radius_km, cost)
    warnings: list[str]


def read_demand(source: Any, rule: Any, *, lat_col: str | None = None,
                lon_col: str | None = None, weight_col: str | None = None) -> DemandPoints:
    """Demand points read as :func:`reachplan.demand_coverage` reads them (rows without
    valid coordinates skipped and counted, a bad weight an error)."""
    from reachplan.demand.parts import plan_parts

    spec, parts = plan_parts(source, lat_col=lat_col, lon_col=lon_col, weight_col=weight_col,
                             id_col=None, layer=None, chunksize=1 << 24)
    lats, lons, weights, skipped = [], [], [], 0
    for part in parts:
        chunk = part.read(spec)
        ok = (np.isfinite(chunk.lat) & np.isfinite(chunk.lon) & (np.abs(chunk.lat) <= 90)
              & (np.abs(chunk.lon) <= 180))
        skipped += int((~ok).sum())
        lats.append(chunk.lat[ok])
        lons.append(chunk.lon[ok])
        if chunk.weight is not None:
            w = chunk.weight[ok]
            if not (np.isfinite(w) & (w >= 0)).all():
                raise InputError(f"{spec.label}: weight column '{spec.weight}' has missing, "
                                 "non-numeric or negative values; fix those rows or leave "
                                 "out weight_col", params=("weight_col",))
            weights.append(w)
    lat = np.concatenate(lats) if lats else np.zeros(0)
    if lat.size == 0:
        raise InputError(f"{spec.label}: no demand point with valid coordinates (demand must "
                         "be points); check lat_col and lon_col", params=("lat_col", "lon_col"))
    cost = cost_of(rule)
    warnings = [f"{spec.label}: skipped {skipped} demand rows with missing or out-of-range "
                "lat/lon"] if skipped else []
    return DemandPoints(lat, np.concatenate(lons),
                        np.concatenate(weights) if spec.weight is not None else None,
                        {**dict(cost.reach_keys), "cost": cost.to_dict()}, warnings)


def planner_data(districts: Any, centres: Any, rule: Any, *, candidates: Any = None,
                 opened: Any = None, demand: DemandPoints | None = None,
                 type_col: str | None = None, near_m: float | None = None) -> dict[str, Any]:
    """The planner's data (see the module docstring) for ``districts`` (as
    :func:`reachplan.io.read_boundaries` gives), ``centres`` and ``candidates`` (as
    :func:`reachplan.io.read_points` gives) under ``rule``.

    Parameters
    ----------
    opened
        More sites (points, e.g. a plan's proposed sites), listed after the candidates and
        open when the page opens.
    demand
        Demand points (:func:`read_demand`).
    type_col
        Centre column of the site type (then the summary has ``types``); candidates without
        it are of type :data:`CANDIDATE_TYPE`.
    near_m
        Near pairs (for the gaps' nearest open site) within this many metres [default: twice
        the reach, at least 30 km].
    """
    from reachplan.geodesy import polygons_within

    if candidates is not None and len(candidates) == 0:
        raise InputError("candidates: no candidate site (an empty file?); give at least one "
                         "point or leave out candidates", params=("candidates",))
    if type_col is not None and type_col not in centres.columns:
        raise InputError(f"centres: no column {type_col!r} (given by type_col)",
                         params=("type_col",))
    frames = [f for f in (centres, candidates, opened) if f is not None]
    n_opened = 0 if opened is None else len(opened)
    geoms = np.concatenate([np.asarray(f.geometry.values, dtype=object) for f in frames])
    n_sites, n_centres = len(geoms), len(centres)
    lat, lon = shapely.get_y(geoms), shapely.get_x(geoms)
    names = [_text(v) or "" for f in frames for v in f["name"].tolist()]
    types: list[str] = []
    type_idx = np.zeros(n_sites, dtype=np.int64)
    if type_col is not None:
        raw = [_text(v) or "" for v in centres[type_col].tolist()]
        for extra in frames[1:]:
            raw += ([_text(v) or "" for v in extra[type_col].tolist()]
                    if type_col in extra.columns else [CANDIDATE_TYPE] * len(extra))
        types = sorted({*raw, ADDED_TYPE})
        index = {t: i for i, t in enumerate(types)}
        type_idx = np.array([index[t] for t in raw], dtype=np.int64)
    header = ["name", *([type_col] if type_col else []), "lat", "lon"]
    cells = {}  # only the rows whose cells are not "name,type" as they are
    for i, (n, t) in enumerate(zip(names, type_idx.tolist(), strict=True)):
        values = [n, *([types[t]] if type_col else [])]
        text = _csv_cells(values)
        if text != ",".join(values):
            cells[str(i)] = text

    dgeoms = districts.geometry
    site_series = _points_series(geoms, districts.crs)
    pd_, ps_, _ = rule.pairs(dgeoms, site_series)
    reach_m = float(rule.reach) if cost_of(rule).geodesic else None
    near = near_m if near_m is not None else max(_NEAR_FACTOR * (reach_m or 0.0), _NEAR_MIN_M)
    nd, ns, ncost = polygons_within(dgeoms, site_series, float(near))
    n_d = len(districts)
    key_near = ns.astype(np.int64) * n_d + nd
    key_reach = ps_.astype(np.int64) * n_d + pd_
    keys = np.union1d(key_near, key_reach)
    # metres, as outputs write nearest_km (to the metre); every near pair has one
    cost_m = np.zeros(len(keys), dtype=np.int64)
    at = np.searchsorted(keys, key_near)
    cost_m[at] = np.round(np.round(ncost / 1000.0, 3) * 1000.0).astype(np.int64)
    flags = np.zeros(len(keys), dtype=np.uint8)
    flags[np.searchsorted(keys, key_reach)] = 1
    flags[at[ncost == 0.0]] |= 2  # inside or on the boundary: the district's centres
    site_of, dist_of = np.divmod(keys, n_d)

    codes, group_names = _groups(districts)
    weight = districts["weight"].to_numpy(dtype=float)
    data: dict[str, Any] = {
        "version": 1,
        "rule": rule.to_dict(), "cost": cost_of(rule).to_dict(),
        "min_centers": int(rule.min_centers), "reach_m": reach_m,
        "presence": not reaches_points(rule),
        "districts": {
            "id": [str(v) for v in districts["id"].tolist()],
            "name": [_text(v) for v in districts["name"].tolist()],
            "group": _pack(codes, "i32"), "groups": group_names,
            "weight": None if np.isnan(weight).all() else _pack(weight, "f64"),
            "boundary": _boundary(np.asarray(dgeoms.values, dtype=object)),
        },
        "sites": {
            "n": n_sites, "name": names, "types": types,
            "type": _pack(type_idx, "i32") if type_col else None,
            "candidate": _pack(np.arange(n_sites) >= n_centres, "u8"),
            "open": _pack((np.arange(n_sites) < n_centres)
                          | (np.arange(n_sites) >= n_sites - n_opened), "u8"),
            "lat": _pack(lat, "e7"), "lon": _pack(lon, "e7"),
            "csv": cells, "csv_header": _csv_cells(header),
            "added_type": ADDED_TYPE if type_col else None,
        },
        "reach": {"start": _pack(_csr(site_of, n_sites), "i32"),
                  "district": _pack(dist_of, "d32"),
                  "cost_m": _pack(cost_m, "u16" if cost_m.max(initial=0) < 2**16 else "u32"),
                  "flags": _pack(flags, "u8"), "near_m": float(near)},
        "points": None,
    }
    if demand is not None:
        data["points"] = _points_data(rule, lat, lon, demand)
    return data


def _points_series(geoms: np.ndarray, crs: Any) -> Any:
    import geopandas as gpd

    return gpd.GeoSeries(geoms, crs=crs)


def _points_data(rule: Any, site_lat: np.ndarray, site_lon: np.ndarray,
                 demand: DemandPoints) -> dict[str, Any]:
    if not reaches_points(rule):
        raise InputError("demand: demand points need a rule that reaches points, e.g. "
                         "Rule.radius(km)", params=("demand", "radius_km"))
    plat, plon, pweight = demand.lat, demand.lon, demand.weight
    point, site, _ = rule.point_reach(site_lat, site_lon).pairs(plat, plon)
    order = np.lexsort((point, site))
    point, site = point[order], site[order]
    return {"n": int(len(plat)), "lat": _pack(plat, "e7"), "lon": _pack(plon, "e7"),
            "weight": None if pweight is None else _pack(pweight, "f64"),
            "start": _pack(_csr(site, len(site_lat)), "i32"),
            "point": _pack(point, "d32"), "demand": demand.block}


# --------------------------------------------------------------------------- the page

#: The planner's browser code, in order (static/), after the npm package's geodesy.
_SCRIPTS = ("reachplan-planner.js", "reachplan-planner-add.js", "reachplan-planner-ui.js",
            "reachplan-planner-capacity.js", "reachplan-planner-suggest.js",
            "reachplan-planner-actions.js",  # after suggest: its button asks for it
            "reachplan-planner-scenarios.js")  # scenarios last: they keep capacity too
_GEODESY = ("geographiclib-geodesic", "geographiclib-geodesic.min.js")
DATA_ID = "reachplan_planner"


def what_if_map(result: Any, data: dict[str, Any], *, title: str | None = None,
                offline: bool = False, assets: Any = None, tiles: str | None = None,
                simplify_m: float | None = None) -> Any:
    """The what-if page: the coverage map of ``result`` (its districts, drawn; the sites are
    the planner's own markers) with the planner's ``data`` (:func:`planner_data`) and script.
    """
    import dataclasses

    import folium
    import folium.plugins

    from reachplan.maps.page import _CoverageLayers, coverage_map

    display = dataclasses.replace(result, centers=result.centers.iloc[:0])
    m = coverage_map(display, title=title, offline=offline, assets=assets, tiles=tiles,
                     simplify_m=simplify_m)
    children = list(m._children.values())
    layers = [c for c in children if isinstance(c, _CoverageLayers)]
    # the map's (empty) centre cluster holds the sites; the candidates get their own layer
    cluster = [c for c in children if isinstance(c, folium.plugins.MarkerCluster)][0]
    cluster.layer_name = "Sites (click one to open or close it)"
    candidates = folium.FeatureGroup(name="Candidate sites", show=False)
    control = [c for c in children if isinstance(c, folium.LayerControl)][0]
    del m._children[control.get_name()]  # the control lists the layers made before it
    candidates.add_to(m)
    control.add_to(m)
    m.add_child(_planner_element(m, data, layers[0].get_name(), candidates))
    return m


def _planner_element(m: Any, data: dict[str, Any], maps_key: str, candidates: Any) -> Any:
    import branca

    from reachplan.maps.assets import npm_asset
    from reachplan.maps.page import _json_for_html, _Raw, _static

    class _Planner(branca.element.MacroElement):
        _template = branca.element.Template("""
{% macro html(this, kwargs) %}<script type="application/json" id="{{ this.data_id }}">
{{ this.payload }}</script>{% endmacro %}
{% macro script(this, kwargs) %}
reachplanPlanner({{ this.map.get_name() }}, "{{ this.data_id }}", "{{ this.maps_key }}",
                 {candidates: {{ this.candidates.get_name() }}});
{% endmacro %}
""")

        def __init__(self) -> None:
            super().__init__()
            self.map, self.data_id, self.maps_key = m, DATA_ID, maps_key
            self.candidates = candidates
            self.payload = _json_for_html(data)

    element = _Planner()
    code = [npm_asset(*_GEODESY), *(_static(name) for name in _SCRIPTS)]
    text = "\n".join(c.replace("</", "<\\/") for c in code)
    m.get_root().header.add_child(_Raw("<script>" + text + "</script>"),
                                  name="reachplan_planner_js")
    m.get_root().header.add_child(_Raw("<style>" + _static("reachplan-planner.css") + "</style>"),
                                  name="reachplan_planner_css")
    return element
