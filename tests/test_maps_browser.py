"""Maps opened in a real browser: Debian's headless Chromium driven by Playwright, no internet.

CDN requests of the online map are answered with the Leaflet files of the installed xstatic
packages; tiles with a blank image; anything else is refused and counted. The offline map
must work with every request that is not ``file://`` refused.
"""

from __future__ import annotations

import base64
import os
import re
from importlib import import_module
from pathlib import Path

import pytest
import shapely

from reachplan import maps
from reachplan.engine import Rule, assess
from reachplan.io import read_boundaries, read_points

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
HERE = Path(__file__).parent / "fixtures" / "maps"
XSS = "<img src=x onerror=alert(1)>"
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _xstatic(module: str, name: str) -> bytes:
    return (Path(import_module(module).BASE_DIR) / name).read_bytes()


LOCAL = {  # CDN file name -> local copy from the xstatic packages
    "leaflet.js": ("xstatic.pkg.leaflet", "leaflet.js"),
    "leaflet.css": ("xstatic.pkg.leaflet", "leaflet.css"),
    "leaflet.markercluster.js": ("xstatic.pkg.leaflet_markercluster",
                                 "leaflet.markercluster.js"),
    "MarkerCluster.css": ("xstatic.pkg.leaflet_markercluster", "MarkerCluster.css"),
    "MarkerCluster.Default.css": ("xstatic.pkg.leaflet_markercluster",
                                  "MarkerCluster.Default.css"),
}


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/ensure-chromium installs it")
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium")
    from playwright import sync_api  # the dev extra installs it
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Page:
    """A page with console errors, dialogs and refused requests recorded."""

    def __init__(self, browser, *, offline: bool, size: tuple[int, int] = (1100, 800)) -> None:
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.refused: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", self._offline if offline else self._online)

    def _offline(self, route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()

    def _online(self, route) -> None:
        url = route.request.url
        name = url.rsplit("/", 1)[-1]
        if url.startswith("file://"):
            route.continue_()
        elif name in LOCAL:
            kind = "text/css" if name.endswith(".css") else "application/javascript"
            route.fulfill(status=200, body=_xstatic(*LOCAL[name]), content_type=kind)
        elif "tile.openstreetmap.org" in url:
            route.fulfill(status=200, body=BLANK_PNG, content_type="image/png")
        else:
            self.refused.append(url)
            route.abort()

    def open(self, path: Path, districts: int) -> None:
        self.page.goto(path.as_uri())
        try:
            self.page.wait_for_function(
                "window.reachplanMaps && Object.values(window.reachplanMaps)[0].complete",
                polling=100, timeout=30_000)  # rAF polling stalls in headless Chromium
        except Exception as exc:
            raise AssertionError(f"districts not drawn; page errors: {self.errors}, "
                                 f"refused: {self.refused}") from exc
        self.page.wait_for_timeout(300)
        self.key = self.page.evaluate("Object.keys(window.reachplanMaps)[0]")
        assert self.drawn() == districts

    def drawn(self) -> int:
        """Districts on the map (as polygons of the canvas renderer)."""
        return self.page.evaluate(
            """key => { const m = window.reachplanMaps[key];
                        return m.districts.filter(l => l && m.map.hasLayer(l)).length; }""",
            self.key)

    def hover_district(self, index: int, lon: float, lat: float) -> str:
        """Zoom to district ``index``, move the mouse over ``lon, lat``; the tooltip text."""
        # no tooltip left open from the last hover: at (1, 1) the mouse may be over another
        # district (Gir Somnath beside Diu), whose tooltip would answer for this one
        self.page.mouse.move(1, 1)
        self.page.evaluate("""key => { window.reachplanMaps[key].map.eachLayer(
                                  l => { if (l.closeTooltip) l.closeTooltip(); }); }""",
                           self.key)
        self.page.locator(".leaflet-tooltip").first.wait_for(state="detached", timeout=5_000)
        point = self.page.evaluate(
            """([key, i, lat, lon]) => {
                const m = window.reachplanMaps[key];
                m.map.fitBounds(m.districts[i].getBounds(), {animate: false});
                const rect = m.map.getContainer().getBoundingClientRect();
                const p = m.map.latLngToContainerPoint([lat, lon]);
                return [rect.left + p.x, rect.top + p.y];
            }""", [self.key, index, lat, lon])
        self.page.wait_for_timeout(200)
        # the canvas renderer looks for the polygon under the mouse at most every 32 ms
        for dx, dy in ((-3, -3), (0, 0), (1, 0)):
            self.page.mouse.move(point[0] + dx, point[1] + dy)
            self.page.wait_for_timeout(60)
        tooltip = self.page.locator(".leaflet-tooltip")
        tooltip.first.wait_for(state="visible", timeout=5_000)
        return tooltip.first.inner_text()


def _grid_result():
    districts = read_boundaries(HERE / "grid.geojson", id_col="code", name_col="district",
                                group_col="state", weight_col="pop")
    return assess(districts, read_points(HERE / "centres.csv"), Rule(), type_col="type")


def test_online_map_draws_districts_tooltips_and_escapes(browser, tmp_path):
    path = maps.write_map(maps.coverage_map(_grid_result(), title=XSS), tmp_path / "m.html")
    page = Page(browser, offline=False)
    page.open(path, 9)
    assert page.page.locator(".cp-title").inner_text() == XSS
    # district 005 (lon 71-72, lat 11-12) is named "Echo <script>alert(2)</script>"
    text = page.hover_district(4, 71.3, 11.7)
    assert "Echo <script>alert(2)</script>" in text and "covered" in text
    # the centre named like an XSS attack shows its name as text, and runs nothing
    page.page.evaluate(
        """key => { const m = window.reachplanMaps[key];
                    m.map.setView(m.centres[1].getLatLng(), 12, {animate: false}); }""",
        page.key)
    page.page.wait_for_timeout(800)  # the cluster layer re-draws after the zoom
    page.page.evaluate("key => window.reachplanMaps[key].centres[1].openPopup()", page.key)
    popup = page.page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=5_000)
    assert XSS in popup.inner_text()
    assert popup.locator("img").count() == 0
    page.page.wait_for_timeout(300)
    assert page.dialogs == []
    assert page.errors == [] and page.refused == []
    page.context.close()


def test_search_box_finds_a_district(browser, tmp_path):
    path = maps.write_map(maps.coverage_map(_grid_result(), offline=True), tmp_path / "m.html")
    page = Page(browser, offline=True)
    page.open(path, 9)
    box = page.page.locator(".cp-search input")
    box.fill("golf")
    box.press("Enter")
    tooltip = page.page.locator(".leaflet-tooltip")
    tooltip.first.wait_for(state="visible", timeout=5_000)
    assert "Golf" in tooltip.first.inner_text()
    assert page.errors == []
    page.context.close()


def _screenshot(page: Page, name: str) -> None:
    """The page as drawn, for the documentation: written only when REACHPLAN_SCREENSHOTS
    names a folder (`make docs` passes docs/img), so a test run never rewrites tracked files."""
    folder = os.environ.get("REACHPLAN_SCREENSHOTS")
    if folder:
        page.page.screenshot(path=str(Path(folder) / name))


@pytest.fixture(scope="module")
def india():
    from reachplan.datasets import india_districts_path, india_sample_centres_path

    districts = read_boundaries(india_districts_path(), id_col="lgd_code", name_col="district",
                                group_col="state", weight_col="population_est")
    centres = read_points(india_sample_centres_path())
    return assess(districts, centres, Rule(), type_col="type")


def test_offline_india_map_works_with_every_request_refused(browser, india, tmp_path):
    path = maps.write_map(maps.coverage_map(india, title="India", offline=True),
                          tmp_path / "india.html")
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link)[^>]+(src|href)=", html)
    page = Page(browser, offline=True)
    page.open(path, len(india.districts))
    _screenshot(page, "india-map.png")
    # hover a district with no centre inside (no marker on top): its name shows
    gaps = india.districts[~india.districts["covered"]]
    row = gaps.iloc[0]
    index = int(india.districts.index[india.districts["id"] == row["id"]][0])
    point = shapely.point_on_surface(row.geometry)
    text = page.hover_district(index, point.x, point.y)
    assert row["name"] in text and "gap" in text
    assert page.errors == [] and page.dialogs == []
    assert page.refused == []  # it never even asked the network
    page.context.close()


def test_online_map_without_network_says_why_it_is_blank(browser, tmp_path):
    path = maps.write_map(maps.coverage_map(_grid_result()), tmp_path / "m.html")
    page = Page(browser, offline=True)  # every request but file:// refused: no CDN
    page.page.goto(path.as_uri())
    notice = page.page.locator("#cp-noleaflet")
    notice.wait_for(state="visible", timeout=10_000)
    assert "Leaflet" in notice.inner_text() and "offline" in notice.inner_text()
    page.context.close()
    # with the network there, the notice stays hidden
    page = Page(browser, offline=False)
    page.open(path, 9)
    assert not page.page.locator("#cp-noleaflet").is_visible()
    page.context.close()


def _covered_by_panels(page: Page) -> list[str]:
    """Panels whose box overlaps a district's drawn outline (any vertex on screen inside)."""
    return page.page.evaluate(
        """key => { const m = window.reachplanMaps[key], out = [];
            const origin = m.map.getContainer().getBoundingClientRect();
            for (const el of document.querySelectorAll('.cp-summary, .cp-legend')) {
                const r = el.getBoundingClientRect();
                const hit = m.districts.some(l => l && l.getLatLngs().flat(3).some(ll => {
                    const p = m.map.latLngToContainerPoint(ll);
                    const x = p.x + origin.left, y = p.y + origin.top;
                    return x >= r.left && x <= r.right && y >= r.top && y <= r.bottom; }));
                if (hit) out.push(el.className);
            }
            return out; }""", page.key)


def test_panels_leave_india_visible_in_a_small_window(browser, india, tmp_path):
    # issue 8: at 800x600 the summary panel hid western and southern India
    path = maps.write_map(maps.coverage_map(india, offline=True), tmp_path / "india.html")
    page = Page(browser, offline=True, size=(800, 600))
    page.open(path, len(india.districts))
    assert _covered_by_panels(page) == []
    # a folded panel opens with a click on its heading, and shows the summary
    page.page.locator(".cp-summary > summary").click()
    assert "Districts covered" in page.page.locator(".cp-summary").inner_text()
    page.context.close()


def test_cluster_bubbles_are_neither_coverage_nor_type_colours(browser, india, tmp_path):
    from reachplan.maps import palette

    path = maps.write_map(maps.coverage_map(india, offline=True), tmp_path / "india.html")
    page = Page(browser, offline=True)
    page.open(path, len(india.districts))
    bubbles = page.page.locator(".marker-cluster div")
    assert bubbles.count() > 0
    colours = set(page.page.evaluate(
        "() => [...document.querySelectorAll('.marker-cluster div')]"
        ".map(e => getComputedStyle(e).backgroundColor)"))
    r, g, b = (int(palette.CLUSTER[k:k + 2], 16) for k in (1, 3, 5))
    assert colours == {f"rgb({r}, {g}, {b})"}
    # from zoom 8 on, centres are drawn one by one, each in its type's colour
    page.page.evaluate("key => { window.reachplanMaps[key].map.setView([19.07, 72.88], 8, "
                       "{animate: false}); }", page.key)
    page.page.wait_for_timeout(500)
    assert page.page.locator(".marker-cluster").count() == 0
    assert page.page.locator("path.cp-centre").count() > 0
    page.context.close()


def test_every_india_district_is_drawn_hoverable_and_searchable(browser, india, tmp_path):
    # issue 13: the canvas renderer and the coarse level still draw every district, in its
    # colour, and each can be hovered and found
    from shapely.ops import polylabel

    from reachplan.maps import palette

    districts = india.districts.reset_index(drop=True)
    points = []  # per district: a point deep inside, and how deep (degrees of latitude)
    for geom in districts.geometry:
        part = max(shapely.get_parts(geom), key=lambda p: p.area)
        inner = polylabel(part, tolerance=0.005)
        points.append([inner.y, inner.x, part.exterior.distance(inner) if not part.interiors
                       else part.boundary.distance(inner)])
    colours = [palette.COVERED if c else palette.GAP for c in districts["covered"]]
    path = maps.write_map(maps.coverage_map(india, offline=True), tmp_path / "india.html")
    page = Page(browser, offline=True)
    page.open(path, len(districts))
    checked = page.page.evaluate(
        """([key, points, colours]) => {
            const m = window.reachplanMaps[key];
            const canvas = document.querySelector('.leaflet-overlay-pane canvas');
            const r = canvas.getBoundingClientRect();
            const o = m.map.getContainer().getBoundingClientRect();
            const sx = canvas.width / r.width, sy = canvas.height / r.height;
            const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
            const out = {checked: 0, wrong: []};
            points.forEach(([lat, lon, depth], i) => {
                const p = m.map.latLngToContainerPoint([lat, lon]);
                const q = m.map.latLngToContainerPoint([lat + depth, lon]);
                if (p.y - q.y < 4) return;  // under 4 px deep: checked by hovering below
                const x = Math.round((o.left + p.x - r.left) * sx);
                const y = Math.round((o.top + p.y - r.top) * sy);
                const k = 4 * (y * canvas.width + x), d = img.data;
                const want = colours[i].match(/[0-9a-f]{2}/g).map(h => parseInt(h, 16));
                const ok = Math.abs(d[k + 3] - 166) <= 3 &&
                    want.every((v, c) => Math.abs(d[k + c] - v) <= 3);
                out.checked += 1;
                if (!ok) out.wrong.push([i, Array.from(d.slice(k, k + 4))]);
            });
            return out; }""", [page.key, points, colours])
    assert checked["wrong"] == []
    assert checked["checked"] >= 0.7 * len(districts)  # 581 of 777 at 1100x800
    # the smallest districts (too small to check by pixel at country zoom): hover each
    import pyproj

    geod = pyproj.Geod(ellps="WGS84")
    areas = [abs(geod.geometry_area_perimeter(g)[0]) for g in districts.geometry]
    # (without centres inside: a centre's marker would take the mouse)
    small = [i for i in sorted(range(len(areas)), key=areas.__getitem__)
             if districts.loc[i, "centers"] == 0][:3]
    for index in small:
        lat, lon, _ = points[index]
        text = page.hover_district(int(index), lon, lat)
        assert districts.loc[index, "name"] in text
    # every district is in the search list, and the search finds the smallest one by name
    box = page.page.locator(".cp-search input")
    box.focus()
    options = page.page.evaluate("() => [...document.querySelectorAll('.cp-search option')]"
                                 ".map(o => o.value)")
    assert len(options) == len(districts)
    assert all(f"({i})" in o for o, i in zip(options, districts["id"], strict=True))
    name = districts.loc[small[0], "name"]
    page.page.mouse.move(1, 1)
    box.fill(name)
    box.press("Enter")
    page.page.locator(".leaflet-tooltip", has_text=name).wait_for(timeout=5_000)
    assert page.errors == []
    page.context.close()


def test_isochrone_layers_draw_without_errors(browser, tmp_path):
    """Service areas on tiny.osm (two bands of one centre named like an attack): both drawn
    as layers of the map, their tooltip the escaped name, nothing run."""
    import geopandas as gpd

    from reachplan.roads import TravelRule

    districts = gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["A", "B"], "group": [None, None], "weight": [None, None]},
        geometry=[shapely.box(-0.001, -0.001, 0.015, 0.001),
                  shapely.box(0.015, -0.001, 0.065, 0.001)], crs="EPSG:4326")
    centres = gpd.GeoDataFrame({"name": [XSS], "lat": [0.0], "lon": [0.0]},
                               geometry=gpd.points_from_xy([0.0], [0.0]), crs="EPSG:4326")
    rule = TravelRule.from_roads("tests/fixtures/roads/tiny.osm", 3, cache_dir=False)
    areas = rule.isochrones(centres, [1, 3])
    m = maps.coverage_map(assess(districts, centres, rule), offline=True, isochrones=areas)
    page = Page(browser, offline=True)
    page.open(maps.write_map(m, tmp_path / "m.html"), 2)
    labels = page.page.evaluate(
        """key => Object.values(window.reachplanMaps[key].map._layers)
                 .filter(l => l.feature && l.feature.properties.label)
                 .map(l => l.feature.properties.label)""", page.key)
    assert sorted(labels) == [f"{XSS}: within 1 min by road".replace("<", "&lt;")
                              .replace(">", "&gt;"),
                              f"{XSS}: within 3 min by road".replace("<", "&lt;")
                              .replace(">", "&gt;")]
    legend = page.page.locator(".cp-legend").inner_text()  # issue 18.6: a legend entry each
    assert "Service areas (layers)\nwithin 1 min by road\nwithin 3 min by road\n" in legend
    page.page.wait_for_timeout(300)
    assert page.errors == [] and page.dialogs == [] and page.refused == []
    page.context.close()


def test_travel_rule_tooltips_read_minutes_by_road(browser, tiny_travel, tmp_path):
    """The tooltips of tests/conftest.py's tiny_travel (tiny.osm, T = 3 min, centre "west"
    on vertex 1; minutes worked by hand in tests/test_maps.py): B is 2 L at 60 km/h = 2.23
    min by road, 0.015 degree = 1.67 km from west as the crow flies, 1 of its 5 road
    vertices within T; no centre reaches the island C by road; D has no road vertex and is
    1.11 min plus a 332 m walk north at 5 km/h = 5.09 min away."""
    path = maps.write_map(maps.coverage_map(tiny_travel, offline=True, simplify_m=0),
                          tmp_path / "m.html")
    page = Page(browser, offline=True)
    page.open(path, 4)
    b = page.hover_district(1, 0.04, 0.0005)
    assert "covered · quickest centre 2.23 min by road (west)" in b
    assert "nearest centre 1.67 km as the crow flies (west)" in b
    assert "20% of its road vertices within 3 min" in b
    c = page.hover_district(2, 0.505, 0.0005)
    assert "gap · no centre reachable by road" in c
    assert "0% of its road vertices within 3 min" in c
    d = page.hover_district(3, 0.01, 0.0035)
    assert "gap · quickest centre 5.09 min by road (west)" in d and "no road vertex inside" in d
    legend = page.page.locator(".cp-legend").inner_text()
    assert "covered: at least 1 centre within 3 min by road (car, tiny.osm)" in legend
    assert page.errors == [] and page.dialogs == [] and page.refused == []
    page.context.close()


def test_hour_slider_recolours_districts(browser, tmp_path):
    # tests/test_hours.py's network on the 3x3 grid, week of 25 January 2027 (India):
    # 001 is covered only while C1 is open (Mo-Fr 09:00-17:00): Monday 10:00 (hour 10) yes,
    # Monday 20:00 (hour 20) no; 002 (C3, no hours) always; 006 never
    from datetime import date

    from reachplan import hours
    from reachplan.maps import palette

    grid = Path(__file__).parent / "fixtures" / "grid" / "districts.geojson"
    centres = tmp_path / "centres.csv"
    centres.write_text("id,name,latitude,longitude,hours\n"
                       "C1,Inside 001,0.5,0.5,Mo-Fr 09:00-17:00\n"
                       "C3,Edge 002|003,0.5,2.0,\n")
    districts = read_boundaries(grid)
    points, site_hours = hours.read_hours(read_points(centres), "hours", country="IN")
    week = hours.week_profile(districts, points, Rule.presence(), site_hours,
                              week_of=date(2027, 1, 27))
    path = maps.write_map(maps.coverage_map(assess(districts, points, Rule.presence()),
                                            offline=True, week=week), tmp_path / "w.html")
    page = Page(browser, offline=True)
    page.open(path, 9)

    def fills_at(hour: int) -> list[str]:
        slider = page.page.locator(".cp-hour input")
        slider.fill(str(hour))  # a range input: sets the value and fires "input"
        return page.page.evaluate(
            "key => window.reachplanMaps[key].districts.map(l => l.options.fillColor)",
            page.key)

    covered, gap = palette.COVERED, palette.GAP
    at_10 = fills_at(10)
    assert (at_10[0], at_10[1], at_10[5]) == (covered, covered, gap)
    assert page.page.locator(".cp-hour-label").inner_text().startswith("Mo 10:00")
    at_20 = fills_at(20)
    assert (at_20[0], at_20[1], at_20[5]) == (gap, covered, gap)
    assert page.page.locator(".cp-hour-label").inner_text().startswith("Mo 20:00")
    assert page.errors == [] and page.refused == []
    page.context.close()


def test_threshold_selector_recolours_districts(browser, tmp_path):
    # the 3x3 grid (tests/fixtures/grid/README.md): 006 is 55.287 km from a centre, 009
    # 78.434 km, the rest 0: within 50 km both are gaps, within 60 km only 009, 80 km none
    from reachplan.maps import palette

    grid = Path(__file__).parent / "fixtures" / "grid"
    result = assess(read_boundaries(grid / "districts.geojson", id_col="code"),
                    read_points(grid / "centres.csv"), Rule.radius([50, 60, 80]))
    path = maps.write_map(maps.coverage_map(result, offline=True), tmp_path / "t.html")
    page = Page(browser, offline=True)
    page.open(path, 9)

    def fills_at(option: str) -> list[str]:
        page.page.locator(".cp-threshold select").select_option(label=option)
        return page.page.evaluate(
            "key => window.reachplanMaps[key].districts.map(l => l.options.fillColor)",
            page.key)

    covered, gap = palette.COVERED, palette.GAP
    assert fills_at("within 50 km")[4:] == [covered, gap, covered, covered, gap]
    assert page.page.locator(".cp-threshold-label").inner_text().startswith("77.78%")
    assert fills_at("within 60 km")[5:] == [covered, covered, covered, gap]
    assert set(fills_at("within 80 km")) == {covered}
    assert page.errors == [] and page.refused == []
    page.context.close()
