"""The interactive page: one folium ``Map`` whose layers a small script fills from one data block.

The browser code is ``static/reachplan-map.js`` and ``static/reachplan-map.css`` (package data,
linted with eslint); styles, tooltips and popups are made in the browser from the data block,
lazily. The same inputs give byte-identical HTML: folium's random element ids are replaced by
ids numbered in tree order when the page is rendered.
"""

from __future__ import annotations

import base64
import copy
import math
import os
import re
from collections.abc import Mapping
from functools import cache
from importlib import import_module, resources
from pathlib import Path
from typing import Any, cast

import branca.element
import folium
import folium.plugins

from reachplan.errors import InputError, ReachplanError
from reachplan.io import atomic_output
from reachplan.maps.payload import (
    _PER_WEIGHT,
    COLOR_BY,
    ColourClass,
    MapPayload,
    _json_for_html,
    _type_column,
    build_payload,
)
from reachplan.text import for_html

_LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet"
#: Shown by online pages when Leaflet did not load (no network): otherwise the page is blank.
_NO_LEAFLET = (
    '<div class="cp-noleaflet" id="cp-noleaflet" role="alert">This map could not load its map '
    'library (Leaflet, from cdn.jsdelivr.net): is there a network connection? A map made '
    'offline (<code>reachplan map --offline</code>, or <code>offline=True</code> in Python) opens '
    'without one.</div>\n<script>window.addEventListener("load", function () {\n'
    '  if (!window.L) document.getElementById("cp-noleaflet").style.display = "block";\n'
    '});</script>')
#: Centres cluster at country zoom only: from zoom 8 (one pixel ~600 m) each centre shows in
#: its type's colour, so types can be told apart at regional zoom. Clustering fewer zoom levels
#: also makes the page load faster.
_CLUSTER_OPTIONS = {"chunkedLoading": True, "disableClusteringAtZoom": 8,
                    "spiderfyOnMaxZoom": False}
#: Where in an assets folder each file may be: the folder itself, or where npm puts it
#: (node_modules/leaflet/dist, node_modules/leaflet.markercluster/dist). Only these places are
#: looked at, never a search of the whole tree (``assets=/`` must not walk the disk).
_ASSET_FOLDERS = {
    name: (".", "dist", f"{package}/dist", f"node_modules/{package}/dist")
    for name, package in (("leaflet.css", "leaflet"), ("leaflet.js", "leaflet"),
                          ("MarkerCluster.css", "leaflet.markercluster"),
                          ("MarkerCluster.Default.css", "leaflet.markercluster"),
                          ("leaflet.markercluster.js", "leaflet.markercluster"))
}
_OFFLINE_FILES = {  # file name -> (xstatic module that ships it)
    "leaflet.css": "xstatic.pkg.leaflet",
    "leaflet.js": "xstatic.pkg.leaflet",
    "MarkerCluster.css": "xstatic.pkg.leaflet_markercluster",
    "MarkerCluster.Default.css": "xstatic.pkg.leaflet_markercluster",
    "leaflet.markercluster.js": "xstatic.pkg.leaflet_markercluster",
}


class _Raw(branca.element.Element):
    """Literal HTML (not a template: compiling 150 KB of Leaflet as Jinja takes a second)."""

    def __init__(self, text: str) -> None:
        super().__init__(template="{{ this.text }}")
        self.text = text


class _CoverageLayers(branca.element.MacroElement):
    """The data block and the script that fills the map's layers, legend and controls."""

    _template = branca.element.Template("""
{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
{% macro html(this, kwargs) %}<script type="application/json" id="{{ this.get_name() }}">
{{ this.payload }}</script>{% endmacro %}
{% macro script(this, kwargs) %}
reachplanMap({{ this.map.get_name() }}, "{{ this.get_name() }}", {{ this.groups }});
{% endmacro %}
""")

    def __init__(self, m: folium.Map, payload: MapPayload, groups: dict[str, Any]) -> None:
        super().__init__()
        self.map = m
        self.payload = _json_for_html(payload)
        self.group_refs = groups
        self.css = "\n" + _static("reachplan-map.css")

    def get_name(self) -> str:
        return "reachplan_data_" + super().get_name().rsplit("_", 1)[1]

    def render(self, **kwargs: Any) -> Any:
        refs = {k: (v.get_name() if v is not None else None) for k, v in self.group_refs.items()}
        self.groups = "{" + ", ".join(f'"{k}": {v or "null"}' for k, v in sorted(refs.items())) \
            + "}"
        root = cast(branca.element.Figure, self.get_root())
        root.header.add_child(_Raw("<script>" + _script_text() + "</script>"),
                              name="reachplan_js")
        return super().render(**kwargs)


@cache
def _static(name: str) -> str:
    """A file of the browser code shipped in ``reachplan/maps/static``."""
    return resources.files("reachplan.maps").joinpath("static").joinpath(name).read_text(
        encoding="utf-8")


def _script_text() -> str:
    return ("\n" + _static("reachplan-map.js")).replace("</", "<\\/")


_HEX_ID = re.compile(r"[0-9a-f]{32}")


def _render_numbered(root: branca.element.Element) -> str:
    """Render ``root`` with folium's random element ids replaced by ids numbered in tree order.

    Nothing of branca's is written: the ids are read (``get_name()`` ends with the id) and
    replaced in the rendered text.
    """
    numbers: dict[str, str] = {}

    def walk(element: branca.element.Element) -> None:
        numbers[element.get_name().rsplit("_", 1)[1]] = f"{len(numbers) + 1:04d}"
        for child in element._children.values():  # read only: branca has no public accessor
            walk(child)

    walk(root)
    text = root.render()
    return _HEX_ID.sub(lambda m: numbers.get(m.group(0), m.group(0)), text)


def _offline_assets(assets: str | os.PathLike | None) -> dict[str, str]:
    """The Leaflet and MarkerCluster JS/CSS texts, from ``assets`` or the xstatic packages."""
    out: dict[str, str] = {}
    for name, module in _OFFLINE_FILES.items():
        if assets is not None:
            places = [Path(assets, folder, name) for folder in _ASSET_FOLDERS[name]]
            found = [p for p in places if p.is_file()]
            if not found:
                raise InputError(
                    f"{assets}: no {name} in it (looked at "
                    f"{', '.join(str(p.relative_to(assets)) for p in places)}); the assets "
                    f"folder needs {', '.join(_OFFLINE_FILES)}")
            path = found[0]
        else:
            try:
                base = Path(import_module(module).BASE_DIR)
            except ImportError as exc:
                raise ReachplanError(
                    f"offline maps need the package "
                    f"{module.split('.')[-1].replace('_', '-')} (xstatic); install reachplan "
                    "with its dependencies, or give assets (a folder with the Leaflet files)"
                ) from exc
            path = base / name
        text = path.read_text(encoding="utf-8")
        if name == "leaflet.css":
            text = _inline_images(text, path.parent)
        out[name] = text
    return out


def _inline_images(css: str, folder: Path) -> str:
    """Leaflet's CSS with its ``url(images/...png)`` as data URIs (the file stays one file)."""
    return re.sub(r"url\((images/[\w.-]+\.png)\)",
                  lambda found: _data_uri(folder / found.group(1)), css)


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
    header = cast(branca.element.Figure, m.get_root()).header
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
    isochrones: Any = None,
    week: Any = None,
) -> folium.Map:
    """Build the interactive coverage map of a :class:`~reachplan.engine.CoverageResult`.

    Parameters
    ----------
    result
        The coverage result (``districts``, ``centers``, ``summary``, ``rule``).
    title
        Shown on top of the map and as the page title.
    color_by
        ``"status"`` (covered / gap), ``"centers"`` (centres inside, classed) or
        ``"per-weight"`` (centres per 100,000 of weight, classed; needs a weight) or
        ``"served"`` (% of demand served within capacities, classed; needs the districts'
        ``capacity_served_pct``, as ``reachplan map --capacity-col`` adds).
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
        Simplification tolerance in metres (default: 1 % of the median district's size, at
        most :data:`DEFAULT_SIMPLIFY_M`, less while a centre would leave its district; 0 keeps
        every vertex).
    sites
        Proposed sites (a point GeoDataFrame, e.g. from planning) drawn as their own layer.
    before
        Another result over the same districts; the map then toggles *before* / *after*.
    type_col
        Column of ``result.centers`` that holds the centre type (default: a column ``type``).
    inputs
        Labels and paths of the input files for the summary panel (default: the frames'
        ``attrs["source"]``).
    isochrones
        Service areas (:func:`reachplan.roads.isochrones`: ``center``, ``minutes``, polygons),
        drawn as one layer per band, the shortest on top.
    week
        A :class:`reachplan.hours.WeekProfile` of the same districts: the map gets an hour
        slider (Mo 00:00 to Su 23:00) that colours each district covered or gap in that hour.
    """
    if color_by not in COLOR_BY:
        raise InputError(f"color_by={color_by}: use one of {', '.join(COLOR_BY)}",
                         params=("color_by",))
    ring_m = result.rule.ring_m() if show_radius else None
    if show_radius and not ring_m:
        raise InputError("show_radius needs a rule with a ring, e.g. a radius: radius_km",
                         params=("show_radius", "radius_km"))
    if simplify_m is not None and not (math.isfinite(simplify_m) and simplify_m >= 0):
        raise InputError(f"simplify_m={simplify_m}: must be 0 or more metres",
                         params=("simplify_m",))
    districts = result.districts
    if len(districts) == 0:
        raise InputError("no districts to map")
    centres = result.centers
    type_col = _type_column(centres, type_col)

    payload = build_payload(result, color_by=color_by,
                            ring_m=ring_m,
                            simplify_m=simplify_m, title=title, sites=sites, before=before,
                            type_col=type_col, inputs=inputs)
    group_names = payload["groups"]
    if week is not None:
        from reachplan.maps.payload import week_data

        payload["week"] = week_data(week, len(districts))

    m = folium.Map(location=None, tiles=None, control_scale=True, zoom_control=True)
    m.options.update({"minZoom": 2, "maxZoom": 18})  # the cluster layer needs a maxZoom
    m.default_js = [("leaflet", _LEAFLET_CDN + ".js")]
    m.default_css = [("leaflet_css", _LEAFLET_CDN + ".css")]
    root = cast(branca.element.Figure, m.get_root())
    # the browser tab names the map, or else what "covered" means (e.g. within 30 min by road)
    root.title = for_html(title or f"Coverage: {result.rule.describe()}")
    if tiles is not None or not offline:
        folium.TileLayer(
            tiles=tiles or "OpenStreetMap",
            attr=None if tiles is None else for_html(f"Tiles: {tiles}"),
            name="Base map", control=before is None, overlay=False,
        ).add_to(m)

    def group(name: str, *, show: bool = True, overlay: bool = True) -> folium.FeatureGroup:
        layer = folium.FeatureGroup(name=name, show=show, overlay=overlay)
        layer.add_to(m)
        return layer

    layer_name = {"status": "Districts: coverage", "centers": "Districts: centres inside",
                  "per-weight": f"Districts: centres per {_PER_WEIGHT:,} weight",
                  "served": "Districts: demand served"}[color_by]
    refs: dict[str, Any] = {}
    if before is not None:
        refs["before"] = group("Before: districts", show=False, overlay=False)
        refs["districts"] = group(f"After: {layer_name[len('Districts: '):]}", overlay=False)
    else:
        refs["before"] = None
        refs["districts"] = group(layer_name)
    refs["gaps"] = group("Gaps (not covered)")
    refs["outlines"] = group("Group outlines") if group_names else None
    refs["rings"] = group(f"Radius {ring_m / 1000:g} km") if ring_m else None
    cluster = folium.plugins.MarkerCluster(name=f"Centres ({len(centres):,})",
                                           options=_CLUSTER_OPTIONS)
    cluster.add_to(m)
    refs["centres"] = cluster
    refs["sites"] = group(f"Proposed sites ({len(sites):,})") if "sites" in payload else None
    if isochrones is not None:
        payload["isochrones"] = _isochrone_layers(m, isochrones)
    if not offline:
        root.html.add_child(_Raw(_NO_LEAFLET), name="reachplan_no_leaflet")
    if offline:
        m.default_js, m.default_css = [], []
        cluster.default_js, cluster.default_css = [], []
        _inline(m, _offline_assets(assets))
    layers = _CoverageLayers(m, payload, refs)
    m.add_child(layers)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


#: Service-area outlines are simplified to this many degrees (about 10 m) for the page.
_ISOCHRONE_TOLERANCE_DEG = 1e-4


def _isochrone_layers(m: folium.Map, areas: Any) -> list[ColourClass]:
    """One layer per band of service areas, longest first so the shortest draws on top;
    returns the legend's entry of each band, shortest first.

    Centre names are HTML-escaped here (the tooltip shows them as markup).
    """
    import shapely

    from reachplan.maps import palette

    if not {"center", "minutes", "geometry"} <= set(areas.columns):
        raise InputError("isochrones: needs the columns center, minutes and geometry (as "
                         "reachplan.roads.isochrones gives)", params=("isochrones",))
    bands = sorted({float(b) for b in areas["minutes"]})
    legend: list[ColourClass] = []
    for i, band in reversed(list(enumerate(bands))):
        rows = areas[(areas["minutes"] == band) & ~areas.geometry.is_empty]
        colour = palette.ISOCHRONES[min(i, len(palette.ISOCHRONES) - 1)]
        legend.insert(0, {"label": for_html(f"within {band:g} min by road"),
                          "color": colour})
        shapes = shapely.simplify(rows.geometry.to_numpy(), _ISOCHRONE_TOLERANCE_DEG,
                                  preserve_topology=True)
        shapes = shapely.set_precision(shapes, 1e-5)
        features = [{"type": "Feature", "properties": {
                        "label": for_html(f"{name}: within {band:g} min by road")},
                     "geometry": shapely.geometry.mapping(shape)}
                    for name, shape in zip(rows["center"], shapes, strict=True)
                    if not shape.is_empty]
        layer = folium.FeatureGroup(name=f"Within {band:g} min by road ({len(features):,})")
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            style_function=lambda _f, c=colour: {
                "color": c, "weight": 1.5, "fillColor": c,
                "fillOpacity": palette.ISOCHRONE_FILL_OPACITY},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        ).add_to(layer)
        layer.add_to(m)
    return legend


def map_html(m: folium.Map) -> str:
    """The map's complete HTML page (reproducible: same map, same bytes).

    A copy is rendered (folium adds to the page on every render), so this can be called again.
    """
    return _render_numbered(copy.deepcopy(m.get_root()))


def write_map(m: folium.Map, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write the map as one HTML file, atomically; an existing file needs ``overwrite``."""
    path = Path(path)
    text = map_html(m)
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


