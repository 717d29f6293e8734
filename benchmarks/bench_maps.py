"""Maps benchmark: reachplan's coverage map vs a plain folium map of the same data, in one run.

Data: the embedded India default (districts with state and modelled population, the 2,000
synthetic sample centres), presence rule, read and assessed once outside the timings.

* reachplan: ``coverage_map(result)`` + ``map_html`` (online: Leaflet from the CDN), and the same
  with ``offline=True`` (Leaflet inlined);
* plain folium: ``folium.GeoJson`` of the same districts (every column, a style function for
  covered/gap, a tooltip) + ``MarkerCluster`` of one ``folium.Marker`` per centre with a popup
  listing its columns, fitted to the districts, rendered with ``get_root().render()``.

Columns: HTML size, build time (median of --repeat), and load-to-rendered time in headless
Chromium (in the page, from navigation start to the first animation frame in which every
district is drawn: reachplan's canvas has drawn / plain folium's SVG paths are all in the page;
median of --loads). CDN
files are answered from the installed xstatic Leaflet packages, other requests (tiles, the
plain map's jQuery/Bootstrap/Font Awesome) with an empty 200, so no time goes to the network.

Run: ``.venv/bin/python benchmarks/bench_maps.py [--repeat 5] [--loads 5]``
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import tempfile
import time
from importlib import import_module
from pathlib import Path

import folium
import folium.plugins

from reachplan import maps
from reachplan.datasets import india_districts_path, india_sample_centres_path
from reachplan.engine import Rule, assess
from reachplan.io import read_boundaries, read_points

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
LOCAL = {"leaflet.js": "xstatic.pkg.leaflet", "leaflet.css": "xstatic.pkg.leaflet",
         "leaflet.markercluster.js": "xstatic.pkg.leaflet_markercluster",
         "MarkerCluster.css": "xstatic.pkg.leaflet_markercluster",
         "MarkerCluster.Default.css": "xstatic.pkg.leaflet_markercluster"}
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def plain_folium(result) -> str:
    """The map a plain folium script makes of the same districts and centres."""
    districts = result.districts
    m = folium.Map(tiles="OpenStreetMap")
    folium.GeoJson(
        districts,
        name="Districts",
        style_function=lambda f: {"fillColor": "#1b9e77" if f["properties"]["covered"]
                                  else "#d95f02", "color": "#555", "weight": 0.6,
                                  "fillOpacity": 0.65},
        tooltip=folium.GeoJsonTooltip(fields=["name", "group", "centers", "nearest_km"]),
    ).add_to(m)
    cluster = folium.plugins.MarkerCluster(name="Centres").add_to(m)
    cols = [c for c in result.centers.columns if c != "geometry"]
    for row in result.centers.itertuples(index=False):
        popup = "<br>".join(f"{c}: {getattr(row, c)}" for c in cols)
        folium.Marker([row.geometry.y, row.geometry.x], popup=popup).add_to(cluster)
    folium.LayerControl().add_to(m)
    xmin, ymin, xmax, ymax = districts.total_bounds
    m.fit_bounds([[ymin, xmin], [ymax, xmax]])
    return m.get_root().render()


def timed(func, repeat: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _route(route) -> None:
    url = route.request.url
    name = url.rsplit("/", 1)[-1]
    if url.startswith("file://"):
        route.continue_()
    elif name in LOCAL:
        body = (Path(import_module(LOCAL[name]).BASE_DIR) / name).read_bytes()
        kind = "text/css" if name.endswith(".css") else "application/javascript"
        route.fulfill(status=200, body=body, content_type=kind)
    elif url.endswith(".png"):
        route.fulfill(status=200, body=BLANK_PNG, content_type="image/png")
    else:
        route.fulfill(status=200, body=b"", content_type="text/plain")


_WATCH = """(() => {
  const maps = () => window.reachplanMaps ? Object.values(window.reachplanMaps) : [];
  const paths = () => document.querySelectorAll('.leaflet-overlay-pane path').length >= %d;
  const look = () => {
    const now = performance.now();
    if (window.__drawnAt === undefined && (maps().some(m => m.drawn) || paths())) {
      window.__drawnAt = now;
    }
    if (maps().some(m => m.complete) || (!window.reachplanMaps && paths())) {
      window.__completeAt = now;
    } else requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();"""


def load_times(paths: dict[str, Path], districts: int, loads: int
               ) -> dict[str, tuple[float, float]]:
    """Median seconds from navigation start until every district is drawn, and until the
    centres are clustered too, measured in the page, per map. reachplan records both itself
    (``drawnAt``: the animation frame after its canvas drew; ``completeAt``: after it added the
    centres, which it does after that frame); for plain folium, whose script adds centres before
    the first frame, both are the first animation frame in which every district's SVG path is
    in the page."""
    from playwright.sync_api import sync_playwright

    times: dict[str, list[tuple[float, float]]] = {label: [] for label in paths}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(loads):
            for label, path in paths.items():  # interleaved, so load noise hits every map
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                page = context.new_page()
                page.route("**/*", _route)
                page.add_init_script(_WATCH % districts)
                page.goto(path.as_uri(), wait_until="commit")
                page.wait_for_function("window.__completeAt !== undefined", polling=50,
                                       timeout=120_000)
                drawn, complete = page.evaluate(
                    """() => { const m = Object.values(window.reachplanMaps || {})[0];
                               return m ? [m.drawnAt, m.completeAt]
                                        : [window.__drawnAt, window.__completeAt]; }""")
                times[label].append((drawn / 1000, complete / 1000))
                context.close()
        browser.close()
    return {label: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
            for label, ts in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="builds per map (median)")
    parser.add_argument("--loads", type=int, default=5, help="browser loads per map (median)")
    args = parser.parse_args()

    districts = read_boundaries(india_districts_path(), id_col="lgd_code", name_col="district",
                                group_col="state", weight_col="population_est")
    centres = read_points(india_sample_centres_path())
    result = assess(districts, centres, Rule(), type_col="type")

    builds = {
        "reachplan map": lambda: maps.map_html(maps.coverage_map(result)),
        "reachplan map --offline": lambda: maps.map_html(maps.coverage_map(result, offline=True)),
        "plain folium": lambda: plain_folium(result),
    }
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for label, build in builds.items():
            seconds, page = timed(build, args.repeat)
            path = Path(tmp) / (label.replace(" ", "_").replace("-", "") + ".html")
            path.write_text(page, encoding="utf-8")
            rows[label] = {"mb": len(page.encode()) / 1e6, "build": seconds}
            paths[label] = path
        loads = load_times(paths, len(result.districts), args.loads)
    base = rows["plain folium"]
    print(f"India default: {len(result.districts)} districts, {len(result.centers):,} centres; "
          f"medians of {args.repeat} builds and {args.loads} loads; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| map | HTML (MB) | build (s) | load: districts drawn (s) | load: all drawn (s) "
          "| size vs plain | build vs plain | load vs plain (districts / all) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    plain = loads["plain folium"]
    for label, row in rows.items():
        drawn, complete = loads[label]
        print(f"| {label} | {row['mb']:.2f} | {row['build']:.2f} | {drawn:.2f} | {complete:.2f} "
              f"| {row['mb'] / base['mb']:.2f} | {row['build'] / base['build']:.2f} "
              f"| {drawn / plain[0]:.2f} / {complete / plain[1]:.2f} |")
    print("\n" + json.dumps({k: {**v, "load_districts": loads[k][0], "load_all": loads[k][1]}
                             for k, v in rows.items()}))


if __name__ == "__main__":
    main()
