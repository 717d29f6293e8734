"""Coverage maps: an interactive Leaflet map (folium) and a static picture (matplotlib).

The interactive map is one folium ``Map`` whose layers are filled by a small script from one
compact JSON block, so the India default (about 780 districts, 2,000 centres) stays near 1 MB:

* district polygons are simplified as a *coverage* (``shapely.coverage_simplify``), so neighbours
  keep sharing their edges: no gaps or slivers open between them. The tolerance is in metres
  (``simplify_m``, default :data:`DEFAULT_SIMPLIFY_M`); it is applied in a spherical azimuthal
  equidistant frame centred on the map (scale error under 1% within 1,500 km of the centre, which
  is fine for a visual tolerance; no distance is *measured* in it);
* coordinates are rounded to a grid no coarser than a fifth of the tolerance (3 to 5 decimals)
  and delta-encoded as integers; properties are stored once per column, not per feature;
* styles, tooltips and popups are made in the browser from that data, lazily.

Every text that comes from an input file is HTML-escaped in Python before it reaches the page,
and the page only ever inserts it as escaped markup. The same inputs give byte-identical HTML
(element ids are numbered in tree order instead of folium's random ones).
"""

from __future__ import annotations

import base64
import copy
import html
import json
import math
import os
import re
from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

import branca.element
import folium
import folium.plugins
import numpy as np
import shapely
from pyproj import CRS, Transformer

from covplan._maps_js import SCRIPT
from covplan.errors import CovplanError, InputError
from covplan.io import atomic_output

__all__ = [
    "COLOR_BY",
    "DEFAULT_SIMPLIFY_M",
    "coverage_map",
    "map_html",
    "write_map",
    "write_png",
]

#: Default simplification tolerance in metres: invisible at country and state zoom levels
#: (one screen pixel is about 600 m at zoom 8) and keeps the India map near 1 MB.
DEFAULT_SIMPLIFY_M = 1000.0
#: Ways to colour the districts.
COLOR_BY = ("status", "centers", "per-weight")

_PER_WEIGHT = 100_000  # per-weight colouring: centres per 100,000 of weight (e.g. people)
_COVERED, _GAP, _NODATA = "#1b9e77", "#d95f02", "#bdbdbd"
_GAP_LINE = "#b2182b"
_CENTRE_BINS = ((0, 0, "0"), (1, 1, "1"), (2, 4, "2–4"), (5, 9, "5–9"), (10, None, "10+"))
_SEQUENTIAL = ("#f0f0f0", "#c7e9b4", "#7fcdbb", "#1d91c0", "#0c2c84")
_RATE_COLOURS = ("#f0f0f0", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#0c2c84")
_TYPE_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
                 "#f0e442", "#000000")
_LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet"
_OFFLINE_FILES = {  # file name -> (xstatic module that ships it)
    "leaflet.css": "xstatic.pkg.leaflet",
    "leaflet.js": "xstatic.pkg.leaflet",
    "MarkerCluster.css": "xstatic.pkg.leaflet_markercluster",
    "MarkerCluster.Default.css": "xstatic.pkg.leaflet_markercluster",
    "leaflet.markercluster.js": "xstatic.pkg.leaflet_markercluster",
}


# --------------------------------------------------------------------------- geometry


def _local_frame(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    """pyproj transformers to and from an azimuthal equidistant frame (metres, WGS84) centred
    on ``lon0, lat0``: distances from the centre are geodesic, others nearly so nearby."""
    aeqd = CRS.from_dict({"proj": "aeqd", "lat_0": lat0, "lon_0": lon0, "datum": "WGS84",
                          "units": "m"})
    return (Transformer.from_crs("EPSG:4326", aeqd, always_xy=True),
            Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True))


def _frame_centre(geoms: np.ndarray) -> tuple[float, float]:
    """Centre (lon, lat) of the data's bounding box, for the local simplification frame."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    return (float(xmin + xmax) / 2, float(ymin + ymax) / 2)


def _simplify_coverage(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Simplify polygons as a coverage with a tolerance in metres (shared edges stay shared).

    The polygons are projected to an azimuthal equidistant frame centred on the data (pyproj),
    simplified with ``shapely.coverage_simplify`` and projected back. Vertices shared by two
    neighbours go through the same arithmetic, so they stay identical.
    """
    geoms = np.asarray(geoms, dtype=object)
    if tolerance_m <= 0 or len(geoms) == 0:
        return geoms
    to_metres, to_degrees = _local_frame(*_frame_centre(geoms))

    def forward(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_metres.transform(xy[:, 0], xy[:, 1]))

    def inverse(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_degrees.transform(xy[:, 0], xy[:, 1]))

    metric = shapely.transform(geoms, forward)
    simple = shapely.coverage_simplify(metric, tolerance_m)
    return shapely.transform(simple, inverse)


def _decimals(tolerance_m: float) -> int:
    """Decimal places of the coordinate grid: a step no coarser than a fifth of the tolerance."""
    if tolerance_m <= 0:
        return 5
    return int(min(5, max(3, math.ceil(math.log10(111_320 * 5 / tolerance_m)))))


class _Encoded:
    """Polygons on an integer grid, delta-encoded for the page, with group outline runs.

    ``geoms[i]`` is district *i* as ``[[ring, hole, ...], ...]``, each ring a flat list of
    ``dx, dy`` integer steps (the closing point dropped), chained from ``0, 0`` across the whole
    document in ring order. ``runs`` lists ``ring, first edge, edge count`` of the edges that
    lie on a group boundary (each drawn once): group outlines need no coordinates of their own.
    """

    def __init__(self, geoms: np.ndarray, groups: np.ndarray, decimals: int) -> None:
        self.scale = 10**decimals
        geoms = np.asarray(geoms, dtype=object)
        parts, part_geom = shapely.get_parts(geoms, return_index=True)
        polygonal = shapely.get_type_id(parts) == 3
        parts, part_geom = parts[polygonal], part_geom[polygonal]
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        pts = np.round(coords * self.scale).astype(np.int64)
        n_rings = len(rings)
        last = np.ones(len(pts), dtype=bool)
        last[:-1] = coord_ring[1:] != coord_ring[:-1]
        keep = ~last
        keep[1:] &= ~((coord_ring[1:] == coord_ring[:-1]) & np.all(pts[1:] == pts[:-1], axis=1))
        count = np.bincount(coord_ring[keep], minlength=n_rings)
        exterior = np.ones(n_rings, dtype=bool)
        exterior[1:] = ring_part[1:] != ring_part[:-1]
        part_ok = np.zeros(len(parts), dtype=bool)
        part_ok[ring_part[exterior & (count >= 3)]] = True
        ring_ok = (count >= 3) & part_ok[ring_part]
        keep &= ring_ok[coord_ring]
        pts, coord_ring = pts[keep], coord_ring[keep]
        self.xy = pts
        kept = np.flatnonzero(ring_ok)
        new_index = np.full(n_rings, -1)
        new_index[kept] = np.arange(len(kept))
        ring_of = new_index[coord_ring]
        sizes = np.bincount(ring_of, minlength=len(kept))
        self.ring_start = np.concatenate([[0], np.cumsum(sizes)])
        deltas = np.diff(np.vstack([np.zeros((1, 2), np.int64), pts]), axis=0).ravel().tolist()
        ring_geom = part_geom[ring_part[kept]]
        self.ring_geom = ring_geom
        self.geoms: list[list[list[list[int]]]] = [[] for _ in range(len(geoms))]
        bounds = (2 * self.ring_start).tolist()
        ext = exterior[kept].tolist()
        for k, g in enumerate(ring_geom.tolist()):
            ring = deltas[bounds[k]:bounds[k + 1]]
            if ext[k]:
                self.geoms[g].append([ring])
            else:
                self.geoms[g][-1].append(ring)
        self.runs = self._outline_runs(np.asarray(groups)[ring_geom], ring_of, sizes)

    def _outline_runs(self, ring_group: np.ndarray, ring_of: np.ndarray, sizes: np.ndarray
                      ) -> np.ndarray:
        """``(ring, first edge, count)`` of edges on a group boundary, each edge once."""
        n = len(self.xy)
        if n == 0:
            return np.zeros((0, 3), dtype=np.int64)
        idx = np.arange(n)
        nxt = idx + 1
        ring_end = self.ring_start[1:][ring_of]
        nxt[nxt == ring_end] = self.ring_start[:-1][ring_of[nxt == ring_end]]
        a, b = self.xy, self.xy[nxt]
        swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
        lo, hi = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
        keys = np.ascontiguousarray(np.hstack([lo, hi]))
        _, first, inverse, counts = np.unique(keys.view(np.dtype((np.void, 32))).ravel(),
                                              return_index=True, return_inverse=True,
                                              return_counts=True)
        g = ring_group[ring_of]
        gmin = np.full(len(first), np.iinfo(np.int64).max)
        gmax = np.full(len(first), np.iinfo(np.int64).min)
        np.minimum.at(gmin, inverse, g)
        np.maximum.at(gmax, inverse, g)
        is_first = np.zeros(n, dtype=bool)
        is_first[first] = True
        flag = is_first & ((counts[inverse] == 1) | (gmin[inverse] != gmax[inverse]))
        prev_same = np.zeros(n, dtype=bool)
        prev_same[1:] = (ring_of[1:] == ring_of[:-1]) & flag[:-1]
        next_same = np.zeros(n, dtype=bool)
        next_same[:-1] = (ring_of[1:] == ring_of[:-1]) & flag[1:]
        starts = np.flatnonzero(flag & ~prev_same)
        ends = np.flatnonzero(flag & ~next_same)
        ring = ring_of[starts]
        return np.column_stack([ring, starts - self.ring_start[:-1][ring], ends - starts + 1])

    def outline_lines(self) -> list[np.ndarray]:
        """The outline runs as lon/lat polylines (for the static picture)."""
        out = []
        for ring, first, count in self.runs.tolist():
            s, e = self.ring_start[ring], self.ring_start[ring + 1]
            m = e - s
            sel = s + (first + np.arange(count + 1)) % m
            out.append(self.xy[sel] / self.scale)
        return out


# --------------------------------------------------------------------------- data


def _text(value: Any) -> str | None:
    """An input value as escaped HTML text (None stays None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return html.escape(str(value), quote=True)


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


def _classes(districts: Any, color_by: str) -> tuple[list[int], list[dict], str]:
    """Class index per district, the classes (label, colour) and the legend heading."""
    if color_by == "status":
        cls = [0 if bool(c) else 1 for c in districts["covered"]]
        return cls, [{"label": "covered", "color": _COVERED},
                     {"label": "gap (not covered)", "color": _GAP}], "Coverage"
    if color_by == "centers":
        n = np.asarray(districts["centers"], dtype=np.int64)
        cls = np.zeros(len(n), dtype=int)
        for i, (lo, hi, _) in enumerate(_CENTRE_BINS):
            cls[(n >= lo) & ((n <= hi) if hi is not None else True)] = i
        classes = [{"label": lab, "color": col}
                   for (_, _, lab), col in zip(_CENTRE_BINS, _SEQUENTIAL, strict=True)]
        return cls.tolist(), classes, "Centres in district"
    if color_by == "per-weight":
        weight = np.asarray(districts["weight"], dtype=float)
        if not np.any(weight > 0):
            raise InputError("--color-by per-weight needs a weight: pass --weight-col "
                             "(a numeric column with positive values)")
        n = np.asarray(districts["centers"], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(weight > 0, n / weight * _PER_WEIGHT, np.nan)
        positive = rate[rate > 0]
        breaks = sorted({_sig(b) for b in np.quantile(positive, [0.25, 0.5, 0.75, 0.9])}
                        - {0.0}) if len(positive) else []
        edges = [0.0, *breaks]
        classes = [{"label": "0", "color": _RATE_COLOURS[0]}]
        for i, lo in enumerate(edges):
            hi = edges[i + 1] if i + 1 < len(edges) else None
            label = f"> {lo:g} – {hi:g}" if hi is not None else f"> {lo:g}"
            classes.append({"label": label, "color": _RATE_COLOURS[min(i + 1, 5)]})
        classes.append({"label": "no weight", "color": _NODATA})
        cls = []
        for r in rate:
            if np.isnan(r):
                cls.append(len(classes) - 1)
            elif r <= 0:
                cls.append(0)
            else:
                cls.append(1 + sum(1 for e in edges[1:] if r > e))
        return cls, classes, f"Centres per {_PER_WEIGHT:,} weight"
    raise InputError(f"unknown colour scheme {color_by!r}; use one of: {', '.join(COLOR_BY)}")


def _table(frame: Any, skip: tuple[str, ...]) -> dict:
    """Columns of a point frame as compact JSON: dictionary-coded when values repeat."""
    cols = [c for c in frame.columns if c not in skip]
    out_cols, dicts, data = [], [], []
    n = len(frame)
    for col in cols:
        values = [_text(v) for v in frame[col].tolist()]
        uniq = sorted({v for v in values if v is not None})
        out_cols.append(html.escape(str(col)))
        if n >= 8 and len(uniq) * 2 < n:
            index = {v: i for i, v in enumerate(uniq)}
            dicts.append(uniq)
            data.append([index[v] if v is not None else -1 for v in values])
        else:
            dicts.append(None)
            data.append(values)
    return {"cols": out_cols, "dicts": dicts, "data": data}


def _points(frame: Any, *, type_col: str | None) -> dict:
    """Point layer data: coordinates, type index and popup columns."""
    geom = frame.geometry.values
    lat = [round(float(v), 5) for v in shapely.get_y(geom)]
    lon = [round(float(v), 5) for v in shapely.get_x(geom)]
    types: list[str] = []
    tidx = [0] * len(frame)
    if type_col is not None:
        raw = [_text(v) or "(none)" for v in frame[type_col].tolist()]
        types = sorted(set(raw))
        index = {t: i for i, t in enumerate(types)}
        tidx = [index[t] for t in raw]
    table = _table(frame, skip=(frame.geometry.name,))
    return {"lat": lat, "lon": lon, "t": tidx,
            "types": [{"label": t, "color": _TYPE_COLOURS[i % len(_TYPE_COLOURS)]}
                      for i, t in enumerate(types)], **table}


def _summary_lines(result: Any, inputs: Mapping[str, str] | None) -> list[str]:
    s = result.summary
    known = dict(getattr(result, "inputs", None) or {})
    lines = [f"Districts covered: {s['covered']:,} of {s['districts']:,} "
             f"({s['percent']:.2f}%)"]
    if s.get("weight_percent") is not None:
        col = known.get("weight_col") or "weight"
        lines.append(f"Weight ({col}) covered: {s['weight_percent']:.2f}% "
                     f"({s['weight_covered']:,.0f} of {s['weight_total']:,.0f})")
    lines.append(f"Rule: {result.rule.kind}: {result.rule.describe()}")
    if inputs is None:
        inputs = {label: known.get(key) or frame.attrs.get("source")
                  for label, key, frame in (("Boundaries", "boundaries", result.districts),
                                            ("Centres", "centers", result.centers))}
    for label, path in inputs.items():
        if path:
            lines.append(f"{label}: {path}")
    return [html.escape(line) for line in lines]


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
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# --------------------------------------------------------------------------- folium elements

class _Raw(branca.element.Element):
    """Literal HTML (not a template: compiling 150 KB of Leaflet as Jinja takes a second)."""

    _template = branca.element.Template("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class _CoverageLayers(branca.element.MacroElement):
    """The data block and the script that fills the map's layers, legend and controls."""

    _template = branca.element.Template("""
{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
{% macro html(this, kwargs) %}<script type="application/json" id="{{ this.get_name() }}">
{{ this.payload }}</script>{% endmacro %}
{% macro script(this, kwargs) %}
covplanMap({{ this._parent.get_name() }}, "{{ this.get_name() }}", {{ this.groups }});
{% endmacro %}
""")

    def __init__(self, payload: dict, groups: dict[str, str | None]) -> None:
        super().__init__()
        self._name = "CovplanData"
        self.payload = _json_for_html(payload)
        self.group_refs = groups
        self.css = _CSS

    def render(self, **kwargs: Any) -> None:
        refs = {k: (v.get_name() if v is not None else None) for k, v in self.group_refs.items()}
        self.groups = "{" + ", ".join(f'"{k}": {v or "null"}' for k, v in sorted(refs.items())) \
            + "}"
        root = self.get_root()
        root.header.add_child(_Raw("<script>" + _script_text() + "</script>"),
                              name="covplan_js")
        super().render(**kwargs)


_CSS = """
.cp-panel{background:#fff;padding:6px 9px;font:12px/1.35 system-ui,sans-serif;
 box-shadow:0 1px 4px rgba(0,0,0,.35);border-radius:4px;max-width:300px}
.cp-panel h4{margin:0 0 4px;font-size:13px}
.cp-sw{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-2px;
 border:1px solid #777}
.cp-title{position:absolute;top:8px;left:50%;transform:translateX(-50%);z-index:800;
 background:rgba(255,255,255,.9);padding:3px 12px;border-radius:4px;font:600 16px system-ui,
 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);pointer-events:none;white-space:nowrap}
.cp-search input{width:190px;font:12px system-ui,sans-serif;padding:3px}
.cp-fs{font:18px/26px sans-serif;width:30px;height:30px;text-align:center;cursor:pointer;
 background:#fff;border:none}
.cp-pop td{padding:0 6px 0 0;vertical-align:top}.cp-pop td:first-child{color:#555}
.cp-site{font-size:20px;line-height:20px;color:#6a3d9a;text-shadow:0 0 2px #fff}
"""


def _script_text() -> str:
    return SCRIPT.replace("</", "<\\/")


def _renumber(root: branca.element.Element) -> None:
    """Replace folium's random element ids by ids numbered in tree order (reproducible)."""
    counter = 0

    def walk(element: branca.element.Element) -> None:
        nonlocal counter
        counter += 1
        element._id = f"{counter:04d}"
        for child in element._children.values():
            walk(child)

    walk(root)


def _offline_assets(assets: str | os.PathLike | None) -> dict[str, str]:
    """The Leaflet and MarkerCluster JS/CSS texts, from ``assets`` or the xstatic packages."""
    out: dict[str, str] = {}
    for name, module in _OFFLINE_FILES.items():
        if assets is not None:
            found = sorted(Path(assets).rglob(name))
            if not found:
                raise InputError(f"{assets}: no file named {name}; the assets folder needs "
                                 f"{', '.join(_OFFLINE_FILES)}")
            path = found[0]
        else:
            try:
                base = Path(import_module(module).BASE_DIR)
            except ImportError as exc:
                raise CovplanError(
                    f"--offline needs the package {module.split('.')[-1].replace('_', '-')} "
                    "(xstatic); install covplan with its dependencies or pass --assets DIR"
                ) from exc
            path = base / name
        text = path.read_text(encoding="utf-8")
        if name == "leaflet.css":
            text = re.sub(r"url\((images/[\w.-]+\.png)\)",
                          lambda m, d=path.parent: _data_uri(d / m.group(1)), text)
        out[name] = text
    return out


def _data_uri(path: Path) -> str:
    if not path.exists():
        return "url(data:,)"
    return "url(data:image/png;base64," + base64.b64encode(path.read_bytes()).decode() + ")"


def _inline(m: folium.Map, assets: dict[str, str]) -> None:
    """Put the Leaflet and MarkerCluster assets inline in the page head (offline maps)."""
    css = "\n".join(assets[n] for n in ("leaflet.css", "MarkerCluster.css",
                                         "MarkerCluster.Default.css"))
    js = "\n".join(assets[n].replace("</script", "<\\/script")
                   for n in ("leaflet.js", "leaflet.markercluster.js"))
    header = m.get_root().header
    header.add_child(_Raw(f"<style>{css}</style>"), name="leaflet_inline_css")
    header.add_child(_Raw(f"<script>{js}</script>"), name="leaflet_inline_js")


# --------------------------------------------------------------------------- public API


def coverage_map(
    result: Any,
    *,
    title: str | None = None,
    color_by: str = "status",
    show_radius: bool = False,
    offline: bool = False,
    assets: str | os.PathLike | None = None,
    tiles: str | None = None,
    simplify_m: float | None = None,
    sites: Any = None,
    before: Any = None,
    type_col: str | None = None,
    inputs: Mapping[str, str] | None = None,
) -> folium.Map:
    """Build the interactive coverage map of a :class:`~covplan.engine.CoverageResult`.

    Parameters
    ----------
    result
        The coverage result (``districts``, ``centers``, ``summary``, ``rule``).
    title
        Shown on top of the map and as the page title.
    color_by
        ``"status"`` (covered / gap), ``"centers"`` (centres inside, classed) or
        ``"per-weight"`` (centres per 100,000 of weight, classed; needs a weight).
    show_radius
        Draw a ring of the rule's radius around every centre (radius rules only).
    offline
        Inline Leaflet and MarkerCluster (from the ``xstatic-leaflet*`` packages, or from
        ``assets``) so the file opens with no network; no base tiles unless ``tiles`` is given.
    assets
        A folder holding ``leaflet.js``, ``leaflet.css``, ``leaflet.markercluster.js``,
        ``MarkerCluster.css`` and ``MarkerCluster.Default.css`` to inline instead.
    tiles
        A tile URL template (e.g. a local tile server); default OpenStreetMap when online and
        none when offline.
    simplify_m
        Simplification tolerance in metres (default :data:`DEFAULT_SIMPLIFY_M`; 0 keeps every
        vertex).
    sites
        Proposed sites (a point GeoDataFrame, e.g. from planning) drawn as their own layer.
    before
        Another result over the same districts; the map then toggles *before* / *after*.
    type_col
        Column of ``result.centers`` that holds the centre type (default: a column ``type``).
    inputs
        Labels and paths of the input files for the summary panel (default: the frames'
        ``attrs["source"]``).
    """
    if color_by not in COLOR_BY:
        raise InputError(f"unknown --color-by {color_by!r}; use one of: {', '.join(COLOR_BY)}")
    radius_km = getattr(result.rule, "radius_km", None)
    if show_radius and not radius_km:
        raise InputError("--show-radius needs a radius rule: pass --radius-km")
    simplify_m = DEFAULT_SIMPLIFY_M if simplify_m is None else float(simplify_m)
    if not math.isfinite(simplify_m) or simplify_m < 0:
        raise InputError(f"--simplify-m must be 0 or more metres, not {simplify_m}")
    districts = result.districts
    if len(districts) == 0:
        raise InputError("no districts to map")
    centres = result.centers
    type_col = _type_column(centres, type_col)

    groups_raw = [_text(g) for g in districts["group"].tolist()]
    group_names = sorted({g for g in groups_raw if g is not None})
    gindex = {g: i for i, g in enumerate(group_names)}
    group_idx = np.array([gindex[g] if g is not None else -1 for g in groups_raw], dtype=np.int64)
    simple = _simplify_coverage(districts.geometry.values, simplify_m)
    enc = _Encoded(simple, group_idx, _decimals(simplify_m))

    cls, classes, heading = _classes(districts, color_by)
    bounds = shapely.total_bounds(districts.geometry.values)  # xmin, ymin, xmax, ymax
    d = {
        "id": [_text(v) for v in districts["id"].tolist()],
        "name": [_text(v) for v in districts["name"].tolist()],
        "group": group_idx.tolist(),
        "n": [int(v) for v in districts["centers"].tolist()],
        "cov": [1 if bool(v) else 0 for v in districts["covered"].tolist()],
        "km": [_num(v) for v in districts["nearest_km"].tolist()],
        "nc": [_text(v) for v in districts["nearest_center"].tolist()],
        "cls": cls,
    }
    payload: dict[str, Any] = {
        "scale": enc.scale, "heading": html.escape(heading), "classes": classes,
        "d": d, "g": enc.geoms, "groups": group_names,
        "go": enc.runs.ravel().tolist() if group_names else [],
        "c": _points(centres, type_col=type_col),
        "radius_m": float(radius_km) * 1000 if show_radius else None,
        "summary": _summary_lines(result, inputs),
        "title": _text(title),
        "bbox": [[round(float(b), 5) for b in bounds[1::-1]],
                 [round(float(b), 5) for b in bounds[:1:-1]]],
    }
    if sites is not None and len(sites):
        payload["sites"] = _points(sites, type_col=None)
    if before is not None:
        bd = before.districts
        by_id = {str(i): bool(c) for i, c in zip(bd["id"], bd["covered"], strict=True)}
        payload["before"] = {
            "cov": [(1 if by_id[str(i)] else 0) if str(i) in by_id else -1
                    for i in districts["id"].tolist()],
            "summary": _summary_lines(before, {}),
        }

    m = folium.Map(location=None, tiles=None, control_scale=True, zoom_control=True)
    m.options.update({"minZoom": 2, "maxZoom": 18})  # the cluster layer needs a maxZoom
    m.default_js = [("leaflet", _LEAFLET_CDN + ".js")]
    m.default_css = [("leaflet_css", _LEAFLET_CDN + ".css")]
    if title:
        m.get_root().title = html.escape(title)
    if tiles is not None or not offline:
        folium.TileLayer(
            tiles=tiles or "OpenStreetMap",
            attr=None if tiles is None else html.escape(f"Tiles: {tiles}"),
            name="Base map", control=before is None, overlay=False,
        ).add_to(m)

    def group(name: str, *, show: bool = True, overlay: bool = True) -> folium.FeatureGroup:
        return folium.FeatureGroup(name=name, show=show, overlay=overlay).add_to(m)

    layer_name = {"status": "Districts: coverage", "centers": "Districts: centres inside",
                  "per-weight": f"Districts: centres per {_PER_WEIGHT:,} weight"}[color_by]
    refs: dict[str, Any] = {}
    if before is not None:
        refs["before"] = group("Before: districts", show=False, overlay=False)
        refs["districts"] = group(f"After: {layer_name[len('Districts: '):]}", overlay=False)
    else:
        refs["before"] = None
        refs["districts"] = group(layer_name)
    refs["gaps"] = group("Gaps (not covered)")
    refs["outlines"] = group("Group outlines") if group_names else None
    refs["rings"] = group(f"Radius {radius_km:g} km") if show_radius else None
    cluster = folium.plugins.MarkerCluster(name=f"Centres ({len(centres):,})",
                                           options={"chunkedLoading": True}).add_to(m)
    refs["centres"] = cluster
    refs["sites"] = group(f"Proposed sites ({len(sites):,})") if "sites" in payload else None
    if offline:
        m.default_js, m.default_css = [], []
        cluster.default_js, cluster.default_css = [], []
        _inline(m, _offline_assets(assets))
    layers = _CoverageLayers(payload, refs)
    m.add_child(layers)
    folium.LayerControl(collapsed=False).add_to(m)
    _renumber(m.get_root())
    return m


def map_html(m: folium.Map) -> str:
    """The map's complete HTML page (reproducible: same map, same bytes).

    A copy is rendered (folium adds to the page on every render), so this can be called again.
    """
    root = copy.deepcopy(m.get_root())
    _renumber(root)
    return root.render()


def write_map(m: folium.Map, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write the map as one HTML file, atomically; an existing file needs ``overwrite``."""
    path = Path(path)
    text = map_html(m)
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_png(
    result: Any,
    path: str | os.PathLike,
    *,
    title: str | None = None,
    color_by: str = "status",
    simplify_m: float | None = None,
    width_in: float = 8.0,
    dpi: int = 100,
    overwrite: bool = False,
) -> Path:
    """Write a static picture of the coverage map (matplotlib, Agg) as PNG.

    Districts are coloured as in :func:`coverage_map`, group outlines drawn on top and centres
    shown as small dots; the aspect ratio follows the mean latitude.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.path import Path as MplPath

    if color_by not in COLOR_BY:
        raise InputError(f"unknown --color-by {color_by!r}; use one of: {', '.join(COLOR_BY)}")
    districts = result.districts
    simplify_m = DEFAULT_SIMPLIFY_M if simplify_m is None else float(simplify_m)
    simple = _simplify_coverage(districts.geometry.values, simplify_m)
    cls, classes, heading = _classes(districts, color_by)

    def paths(geom: Any) -> list[MplPath]:
        out = []
        for part in shapely.get_parts(geom):
            if part.geom_type != "Polygon" or part.is_empty:
                continue
            rings = [np.asarray(part.exterior.coords)[:, :2]]
            rings += [np.asarray(h.coords)[:, :2] for h in part.interiors]
            out.append(MplPath.make_compound_path(*[MplPath(r, closed=True) for r in rings]))
        return out

    polys, colours = [], []
    for geom, c in zip(simple, cls, strict=True):
        for p in paths(geom):
            polys.append(p)
            colours.append(classes[c]["color"])
    xmin, ymin, xmax, ymax = shapely.total_bounds(simple)
    aspect = 1 / max(0.2, math.cos(math.radians((ymin + ymax) / 2)))
    height_in = width_in * min(2.0, aspect * (ymax - ymin) / max(xmax - xmin, 1e-9)) + 0.6
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.9 if title else 0.98))
    ax.add_collection(PathCollection(polys, facecolors=colours, edgecolors="#666666",
                                     linewidths=0.15))
    groups = [_text(g) for g in districts["group"].tolist()]
    names = {g: i for i, g in enumerate(sorted({g for g in groups if g is not None}))}
    if names:
        enc = _Encoded(simple, np.array([names.get(g, -1) for g in groups], dtype=np.int64),
                       _decimals(simplify_m))
        ax.add_collection(LineCollection(enc.outline_lines(), colors="#333333",
                                         linewidths=0.5))
    pts = result.centers.geometry.values
    if len(pts):
        ax.scatter(shapely.get_x(pts), shapely.get_y(pts), s=2, c="#222222", linewidths=0)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect(aspect)
    ax.set_axis_off()
    s = result.summary
    if title:
        fig.suptitle(title, fontsize=13, y=0.985)
    handles = [Patch(facecolor=c["color"], edgecolor="#666666", label=c["label"])
               for c in classes]
    if len(pts):
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=2,
                              color="#222222", label=f"centre ({len(pts):,})"))
    ax.legend(handles=handles, title=f"{heading}\n{s['covered']} of {s['districts']} districts "
              f"covered ({s['percent']:.2f}%)", loc="lower left", fontsize=8, title_fontsize=8,
              frameon=True)
    path = Path(path)
    with atomic_output(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    return path
