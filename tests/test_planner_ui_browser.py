"""The what-if page's panel in headless Chromium: clicks change the figures the API reports.

The page is the 3×3 grid of tests/fixtures/grid (README: the hand computation) at 60 km with
its zones as groups, `pop` as weight and the centres' types, the candidates and demand points
of tests/fixtures/capacity. Figures the tests expect by hand, from the grid's README:

- as loaded: 8 of 9 districts (88.89 %), weight 3600 of 4500 (80.00 %), gap 009;
- C3 ("Edge 002|003") closed: 003 loses its only centre within 60 km (C2 is 78 km from its
  corner, C5 111 km east), 006 keeps C2 (55.64 km): 7 of 9 (77.78 %), weight 3300 (73.33 %);
- a site added inside 009 covers it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_maps_browser import XSS, Page, browser  # noqa: F401  (the shared Chromium fixture)

from reachplan.cli.main import cli

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures"
GRID = FIXTURES / "grid"
CAP = FIXTURES / "capacity"
OPTIONS = ["--radius-km", "60", "--group-col", "zone", "--weight-col", "pop", "--type-col",
           "type", "--demand", str(CAP / "demand.csv")]
KEYS = ("summary", "rule", "cost", "groups", "types", "demand")


def _write(runner, out: Path, districts: Path, centres: Path, candidates: Path,
           options: list[str]) -> Path:
    res = runner.invoke(cli, ["map", str(districts), str(centres), *options, "--what-if",
                              "--offline", "--candidates", str(candidates), "-o", str(out),
                              "--overwrite"])
    assert res.exit_code == 0, res.output
    return out


def _open(browser, path: Path, size=(1100, 800)) -> Page:  # noqa: F811
    page = Page(browser, offline=True, size=size)
    page.page.goto(path.as_uri())
    page.page.wait_for_function("window.reachplan && window.reachplan.ready", timeout=30_000)
    page.page.evaluate("window.reachplan.ready.then(() => 1)")
    page.page.locator(".cp-planner").wait_for(timeout=10_000)
    return page


@pytest.fixture
def grid_page(browser, runner, tmp_path):  # noqa: F811
    path = _write(runner, tmp_path / "grid.html", GRID / "districts.geojson",
                  GRID / "centres.csv", CAP / "candidates.csv", OPTIONS)
    page = _open(browser, path)
    yield page
    assert page.errors == [] and page.dialogs == []
    assert page.refused == []  # an --offline page asks the network for nothing
    page.context.close()


def _section(page: Page, name: str):
    """Open the panel's section ``name`` (its <details>) and return its locator, once its
    content is drawn (on the details' toggle event, which comes a task later)."""
    box = page.page.locator(f".cp-pl-{name}")
    if not box.evaluate("d => d.open"):
        box.locator("> summary").click()
        page.page.wait_for_timeout(50)
    return box


def _figures(page: Page) -> dict[str, str]:
    return page.page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '.cp-pl-fig[data-fig]')].map(e => [e.dataset.fig, e.textContent]))""")


def _expected_lines(sm: dict) -> dict[str, str]:
    """The panel's lines as the API's summary() says they must read."""
    s, d = sm["summary"], sm["demand"]
    return {"districts": f"Districts covered: {s['covered']:,} of {s['districts']:,} "
                         f"({s['percent']:.2f}%)",
            "weight": f"Weight covered: {s['weight_percent']:.2f}% "
                      f"({s['weight_covered']:,.0f} of {s['weight_total']:,.0f})",
            "points": f"Demand points covered: {d['covered']:,} of {d['points']:,} "
                      f"({d['percent']:.2f}%)"}


def _table(page: Page, by: str) -> list[list[str]]:
    return page.page.evaluate("""by => [...document.querySelectorAll(
        `.cp-pl-table[data-by='${by}'] tr`)].slice(1)
        .map(r => [...r.children].map(c => c.textContent))""", by)


def _counts(page: Page) -> dict[str, str]:
    return page.page.evaluate("""() => ({
        legend: document.querySelector('.cp-legend').textContent,
        summary: document.querySelectorAll('.cp-summary').length,
        layers: [...document.querySelectorAll('.leaflet-control-layers-overlays label')]
            .map(e => e.textContent.trim()).filter(t => /Sites|sites/.test(t))})""")


def test_clicks_change_the_figures_the_api_reports(grid_page):
    page = grid_page
    sm = page.page.evaluate("reachplan.summary()")
    assert (sm["summary"]["covered"], sm["summary"]["weight_covered"]) == (8, 3600)
    assert _figures(page) == _expected_lines(sm)
    # close C3 with a click on its row in the site list
    sites = _section(page, "sites")
    sites.locator(".cp-pl-site", has_text="Edge 002|003").click()
    assert page.page.evaluate("reachplan.sites()[2].open") is False
    sm = page.page.evaluate("reachplan.summary()")
    assert sm["summary"] == {"districts": 9, "covered": 7, "percent": 77.78,
                             "weight_total": 4500.0, "weight_covered": 3300.0,
                             "weight_percent": 73.33}
    assert _figures(page) == _expected_lines(sm)
    # the group and type tables are the API's rows
    assert _table(page, "group") == [
        [g["group"], f"{g['covered']} of {g['districts']}", f"{g['percent']:.2f}%",
         f"{g['weight_percent']:.2f}%"] for g in sm["groups"]]
    assert [r[0] for r in _table(page, "type")] == [t["type"] for t in sm["types"]]
    # the rest of the page follows: legend classes, layer names
    counts = _counts(page)
    assert "covered (7)" in counts["legend"] and "gap (not covered) (2)" in counts["legend"]
    assert counts["summary"] == 0  # the map's panel of the first state is gone
    assert _figures(page)["weight"] == "Weight covered: 73.33% (3,300 of 4,500)"
    assert counts["layers"] == ["Sites (4 of 5 open)", "Candidate sites (0 of 2 open)"]
    # a candidate opened from the filtered list (kind: candidates)
    sites.locator("select[aria-label='kind of site']").select_option("candidate")
    assert sites.locator(".cp-pl-site").count() == 2
    sites.locator(".cp-pl-site", has_text="K2 near p1 p2").locator("input").check()
    assert page.page.evaluate("reachplan.sites()[6].open") is True
    assert _figures(page) == _expected_lines(page.page.evaluate("reachplan.summary()"))
    assert _counts(page)["layers"] == ["Sites (4 of 5 open)", "Candidate sites (1 of 2 open)"]
    # an open candidate is drawn with the sites (the candidates' layer is off)
    assert page.page.evaluate("() => Object.values(window.reachplanMaps)[0].layers.centres"
                              ".getLayers().length") == 6
    # the group filter: the sites lying in a South district (C1, C3 and K2)
    sites.locator("select[aria-label='kind of site']").select_option("all")
    sites.locator("select[aria-label='group']").select_option(label="South")
    assert sites.locator(".cp-pl-name").all_inner_texts() == [
        "Inside 001", "Edge 002|003", "K2 near p1 p2"]


def test_tooltips_and_gap_outlines_follow_the_scenario(grid_page):
    """The map's own tooltips and dashed gap outlines were made for the page's start: after
    C3 closes, 003 (lon 2-3, lat 0-1) reads as a gap and is outlined as one."""
    page = grid_page
    page.key = page.page.evaluate("Object.keys(window.reachplanMaps)[0]")
    before = page.hover_district(2, 2.3, 0.5)
    assert "covered · 1 open site within 60 km" in before
    page.page.evaluate("reachplan.toggle(2, false)")
    after = page.hover_district(2, 2.3, 0.5)
    assert "Cell 3 (South)" in after and "gap · 0 open sites within 60 km" in after
    page.page.mouse.move(1, 1)  # (the hovered district is outlined in black meanwhile)
    dashes = page.page.evaluate("k => window.reachplanMaps[k].districts.map(l => "
                                "l.options.dashArray)", page.key)
    assert [i for i, d in enumerate(dashes) if d] == [2, 8]  # 003 and 009
    page.page.evaluate("reachplan.toggle(2, true)")
    dashes = page.page.evaluate("k => window.reachplanMaps[k].districts.map(l => "
                                "l.options.dashArray)", page.key)
    assert [i for i, d in enumerate(dashes) if d] == [8]


def test_a_marker_click_switches_its_site(grid_page):
    page = grid_page
    point = page.page.evaluate("""() => { const m = reachplan._internal.map;
        const p = m.latLngToContainerPoint([1.5, 1.5]);   // C2, the centre of 005
        const r = m.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; }""")
    page.page.mouse.click(*point)
    assert page.page.evaluate("reachplan.sites()[1].open") is False
    page.page.mouse.click(*point)
    assert page.page.evaluate("reachplan.sites()[1].open") is True


def test_click_the_map_to_add_a_site_and_zoom_to_a_gap(grid_page):
    page = grid_page
    gaps = _section(page, "gaps")
    assert gaps.locator(".cp-pl-gap").all_inner_texts()[0].startswith("Cell 9 — North")
    gaps.locator(".cp-pl-gap").first.click()  # zooms to 009 (lon 2-3, lat 2-3)
    centre = page.page.evaluate("reachplan._internal.map.getCenter()")
    assert 2 < centre["lat"] < 3 and 2 < centre["lng"] < 3
    add = _section(page, "add")
    add.locator("button", has_text="Click the map").click()
    box = page.page.locator(".leaflet-container").bounding_box()
    page.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    sites = page.page.evaluate("reachplan.sites()")
    assert sites[-1]["added"] and sites[-1]["open"]
    assert 2 < sites[-1]["lat"] < 3 and 2 < sites[-1]["lon"] < 3
    assert page.page.evaluate("reachplan.summary().summary.covered") == 9
    assert add.locator(".cp-pl-msg").first.inner_text() == \
        "Added added site 1: 9 of 9 districts covered (100.00%)."
    assert "Gaps (0)" in gaps.inner_text()


def test_scenarios_export_round_trips_through_the_cli(grid_page, runner, tmp_path):
    page = grid_page
    box = _section(page, "scenarios")
    page.page.evaluate("reachplan.toggle(2, false); reachplan.toggle(5, true); "
                       "reachplan.add(2.5, 2.5, '=SUM(A1) & <b>x</b>')")
    box.locator("input[aria-label='scenario name']").fill("close C3, open K1")
    box.locator("button", has_text="Keep").click()
    kept = page.page.evaluate("reachplan.scenarios()")
    assert [k["name"] for k in kept] == ["as loaded", "close C3, open K1"]
    # side by side: one column per scenario and "now"
    heads = box.locator("th .cp-pl-name").all_inner_texts()
    assert heads == ["as loaded", "close C3, open K1", "now"]
    row = box.locator("tr", has_text="% districts").locator("td").all_inner_texts()
    assert row == ["88.89%", "88.89%", "88.89%"]  # C3's 003 lost, 009 won by the added site
    files = {}
    for kind in ("CSV", "JSON"):
        with page.page.expect_download() as info:
            box.locator("th", has_text="close C3").locator("button", has_text=kind).click()
        files[kind] = tmp_path / info.value.suggested_filename
        info.value.save_as(files[kind])
    assert files["CSV"].name == "what-if-close-C3-open-K1.csv"
    summary = json.loads(files["JSON"].read_text(encoding="utf-8"))
    assert summary == kept[1]["summary"]
    res = runner.invoke(cli, ["coverage", str(GRID / "districts.geojson"), str(files["CSV"]),
                              *OPTIONS, "--format", "json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    cli_json = json.loads(res.stdout)
    assert {k: summary.get(k) for k in KEYS} == {k: cli_json.get(k) for k in KEYS}
    # restoring "as loaded" opens its sites again, and the figures follow
    box.locator("th", has_text="as loaded").locator("button", has_text="restore").click()
    assert [s["open"] for s in page.page.evaluate("reachplan.sites()")] == \
        [True] * 5 + [False] * 3
    assert _figures(page)["districts"] == "Districts covered: 8 of 9 (88.89%)"


HOSTILE = {"name": XSS, "id": "<svg onload=alert(3)>", "group": "<b onclick=alert(4)>Z</b>",
           "type": "<script>alert(5)</script>", "candidate": "<iframe src=javascript:alert(6)>",
           "candidate_type": "<marquee onstart=alert(9)>"}
BREAKOUT = "</script><script>alert(8)</script>"


def test_every_value_from_the_files_is_text_in_every_panel(browser, runner, tmp_path):  # noqa: F811
    """Hostile names, ids, groups and types in districts, centres and candidates: shown as
    the text they are, in the figures, gaps, site list, tooltips and scenarios; nothing runs."""
    import geopandas as gpd
    import shapely

    districts = gpd.GeoDataFrame(
        {"code": [HOSTILE["id"], "B&amp;"], "name": [HOSTILE["name"], "\u202eevil"],
         "zone": [HOSTILE["group"], "=1+1"], "pop": [10.0, 20.0]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs="EPSG:4326")
    districts.to_file(tmp_path / "d.geojson", driver="GeoJSON")
    (tmp_path / "c.csv").write_text(
        f'name,type,lat,lon\n"{HOSTILE["name"]}","{HOSTILE["type"]}",0.5,0.5\n',
        encoding="utf-8")
    (tmp_path / "k.csv").write_text(f'name,type,lat,lon\n"{HOSTILE["candidate"]}",'
                                    f'"{HOSTILE["candidate_type"]}",0.5,1.5\n'
                                    f'"{BREAKOUT}",van,0.5,1.6\n', encoding="utf-8")
    path = _write(runner, tmp_path / "h.html", tmp_path / "d.geojson", tmp_path / "c.csv",
                  tmp_path / "k.csv", ["--id-col", "code", "--group-col", "zone",
                                       "--weight-col", "pop", "--type-col", "type"])
    assert "<script>alert(8)" not in path.read_text(encoding="utf-8")  # no way out of JSON
    page = _open(browser, path)
    for name in ("figures", "gaps", "sites", "scenarios", "add"):
        _section(page, name)
    page.page.evaluate("name => reachplan.scenario(name)", "<img src=y onerror=alert(7)>")
    panel = page.page.locator(".cp-planner").inner_text()
    for value in (HOSTILE["group"], HOSTILE["type"], HOSTILE["candidate"], BREAKOUT,
                  HOSTILE["candidate_type"],
                  "\\u202eevil",
                  "<img src=y onerror=alert(7)>"):
        assert value in panel, value
    assert HOSTILE["name"] in panel  # the gap list names the district
    # the panel holds only the elements it makes: no tag of a value became an element
    tags = set(page.page.evaluate(
        "() => [...document.querySelectorAll('.cp-planner *')].map(e => e.tagName)"))
    assert tags <= {"SUMMARY", "DETAILS", "DIV", "SPAN", "TABLE", "TBODY", "TR", "TH", "TD",
                    "OL", "UL", "LI", "INPUT", "SELECT", "OPTION", "BUTTON"}
    page.page.locator("label", has_text="Candidate sites").locator("input").check()
    page.page.evaluate("""() => { const m = reachplan._internal.map;
        m.eachLayer(l => { if (l.openTooltip && l.getTooltip && l.getTooltip()) {
            l.openTooltip(); } }); }""")
    tips = page.page.locator(".leaflet-tooltip").all_inner_texts()
    assert any(HOSTILE["name"] in t and f"id {HOSTILE['id']}" in t for t in tips)
    assert any(HOSTILE["candidate"] in t for t in tips)
    assert page.page.locator(".leaflet-tooltip img, .leaflet-tooltip svg").count() == 0
    page.page.wait_for_timeout(200)
    assert page.dialogs == [] and page.errors == [] and page.refused == []
    page.context.close()


def test_the_panel_shows_unsafe_characters_as_the_html_sink_does(grid_page):
    """_internal.visible against tests/test_text.py's reference (each unsafe character as
    Python's unicode_escape spells it: the form reachplan.text.for_html writes in maps)."""
    from test_text import FRAGMENTS, visible

    values = [*FRAGMENTS, "".join(FRAGMENTS), "नई\u200dदिल्ली\u202e"]
    got = grid_page.page.evaluate("v => v.map(reachplan._internal.visible)", values)
    assert got == [visible(v) for v in values]
    # lone surrogates (which JSON cannot carry to the page) and a pair that is one character
    assert grid_page.page.evaluate(
        r"reachplan._internal.visible('a\ud800b\udc00c\ud83d\ude00')") == \
        "a\\ud800b\\udc00c\U0001f600"


def test_a_page_whose_data_fails_shows_no_panel_of_zeros(browser, runner, tmp_path):  # noqa: F811
    path = _write(runner, tmp_path / "g.html", GRID / "districts.geojson",
                  GRID / "centres.csv", CAP / "candidates.csv", OPTIONS)
    text = path.read_text(encoding="utf-8")
    start = text.index('"z":"', text.index('id="reachplan_planner"')) + 5
    path.write_text(text[:start] + "AAAA" + text[start + 4:], encoding="utf-8")
    page = Page(browser, offline=True)
    page.page.goto(path.as_uri())
    alert = page.page.locator(".cp-planner-error[role=alert]")
    alert.wait_for(state="visible", timeout=30_000)
    assert "failed to load" in alert.inner_text()
    assert page.page.locator(".cp-planner, .cp-pl-fig").count() == 0
    page.context.close()


def test_the_planner_as_drawn_for_the_documentation(browser, runner, tmp_path):  # noqa: F811
    """India at 30 km with PIN codes as demand and three candidates in gap districts (a small
    set: the page stays quick to build), one scenario kept; written to
    REACHPLAN_SCREENSHOTS/what-if-planner.png when that names a folder (`make docs`)."""
    folder = os.environ.get("REACHPLAN_SCREENSHOTS")
    if not folder:
        pytest.skip("REACHPLAN_SCREENSHOTS names no folder (make docs sets it)")
    candidates = tmp_path / "candidates.csv"
    candidates.write_text("name,lat,lon\nKinnaur,31.58,78.42\nChanglang,27.13,95.73\n"
                          "West Kameng,27.3,92.4\n", encoding="utf-8")
    path = _write(runner, tmp_path / "india.html", Path("@india"), Path("@india-sample"),
                  candidates, ["--radius-km", "30", "--group-col", "state", "--type-col",
                               "type", "--demand", "@india-pincodes"])
    page = _open(browser, path, size=(1280, 860))
    page.page.locator("label", has_text="Candidate sites").locator("input").check()
    box = _section(page, "scenarios")
    box.locator("input[aria-label='scenario name']").fill("three new sites")
    page.page.evaluate("n => { for (let s = n - 3; s < n; s++) reachplan.toggle(s, true); }",
                       page.page.evaluate("reachplan.sites().length"))
    box.locator("button", has_text="Keep").click()
    page.page.evaluate("[2, 3, 4].forEach(s => reachplan.toggle(s, false))")
    page.page.locator(".cp-pl-sub", has_text="By site type").locator("> summary").click()
    page.page.wait_for_timeout(500)
    page.page.screenshot(path=str(Path(folder) / "what-if-planner.png"))
    assert page.errors == [] and page.refused == []
    page.context.close()


def test_capacity_figures_and_utilisation_in_the_panel(browser, runner, tmp_path):  # noqa: F811
    """tests/fixtures/capacity/README.md at 20 km: 35 of 52 served (67.31 %), 10 in reach but
    over capacity (p2, 19.23 %), 7 out of reach (p4, 13.46 %); A full (30 of 30), B at 50 %;
    with K2 open at capacity 8: 43 served (82.69 %)."""
    path = _write(runner, tmp_path / "c.html", GRID / "districts.geojson", CAP / "centres.csv",
                  CAP / "candidates.csv",
                  ["--radius-km", "20", "--capacity-col", "cap", "--demand",
                   str(CAP / "demand.csv"), "--demand-weight-col", "requests",
                   "--candidate-capacity", "8"])
    page = _open(browser, path)
    figures = page.page.locator(".cp-figures")
    line = ("capacity: served {} · in reach but over capacity 10 (19.23%) · out of reach 7 "
            "(13.46%)")
    figures.get_by_text(line.format("35 (67.31%)")).wait_for(timeout=10_000)
    page.page.locator(".cp-pl-sub", has_text="Utilisation").locator("> summary").click()
    assert _table(page, "utilisation") == [["Centre A", "30", "30", "100.0%"],
                                           ["Centre B", "5", "10", "50.0%"]]
    sites = _section(page, "sites")
    sites.locator(".cp-pl-site", has_text="K2 near p1 p2").click()
    figures.get_by_text(line.format("43 (82.69%)").replace("10 (19.23%)", "2 (3.85%)")
                        ).wait_for(timeout=10_000)
    box = _section(page, "scenarios")
    box.locator("input[aria-label='scenario name']").fill("K2")
    box.locator("button", has_text="Keep").click()
    row = box.locator("tr", has_text="% served (capacity)").locator("td")
    page.page.wait_for_function("() => [...document.querySelectorAll('.cp-pl-compare tr')]"
                                ".some(r => r.textContent.includes('82.69%'))")
    assert row.all_inner_texts() == ["67.31%", "82.69%", "82.69%"]
    assert page.errors == [] and page.refused == []
    page.context.close()


def test_suggest_explains_and_opens_the_next_site(browser, runner, tmp_path):  # noqa: F811
    """Presence on the grid (gaps 006, weight 600, and 009, weight 900): a candidate in each;
    each covers one gap, so the weight breaks the tie: the one in 009."""
    candidates = tmp_path / "k.csv"
    candidates.write_text("name,lat,lon\nIn 006,1.5,2.5\nIn 009,2.5,2.5\n", encoding="utf-8")
    path = _write(runner, tmp_path / "s.html", GRID / "districts.geojson",
                  GRID / "centres.csv", candidates, ["--weight-col", "pop"])
    page = _open(browser, path)
    add = _section(page, "add")
    add.locator("button", has_text="Suggest the next site").click()
    text = page.page.evaluate("reachplan.suggest().text")
    assert text.startswith("Open In 009")
    add.locator(".cp-pl-suggestion").get_by_text(text).wait_for(timeout=5_000)
    add.locator(".cp-pl-suggestion button", has_text="Open it").click()
    assert page.page.evaluate("reachplan.sites()[6].open") is True
    assert _figures(page)["districts"] == "Districts covered: 8 of 9 (88.89%)"
    page.key = page.page.evaluate("Object.keys(window.reachplanMaps)[0]")
    tip = page.hover_district(8, 2.3, 2.3)  # 009, with the new site inside
    assert "covered · 1 open site inside or on its boundary" in tip
    assert page.errors == [] and page.refused == []
    page.context.close()


def test_a_click_where_the_rule_cannot_add_says_why(browser, runner, tmp_path,  # noqa: F811
                                                    fixtures_dir):
    """Travel time on tests/fixtures/roads/tiny.osm: the page has road minutes for its sites
    and candidates only, so a click on the map adds nothing and the panel says why."""
    import geopandas as gpd
    import shapely

    gpd.GeoDataFrame({"id": ["A"]}, geometry=[shapely.box(-0.001, -0.001, 0.065, 0.001)],
                     crs="EPSG:4326").to_file(tmp_path / "d.geojson", driver="GeoJSON")
    (tmp_path / "c.csv").write_text("name,lat,lon\nwest,0.0,0.0\n", encoding="utf-8")
    (tmp_path / "k.csv").write_text("name,lat,lon\nk30,0.0,0.03\n", encoding="utf-8")
    path = _write(runner, tmp_path / "t.html", tmp_path / "d.geojson", tmp_path / "c.csv",
                  tmp_path / "k.csv", ["--roads", str(fixtures_dir / "roads" / "tiny.osm"),
                                       "--travel-minutes", "3"])
    page = _open(browser, path)
    add = _section(page, "add")
    add.locator("button", has_text="Click the map").click()
    box = page.page.locator(".leaflet-container").bounding_box()
    page.page.mouse.click(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
    message = add.locator(".cp-pl-error")
    assert message.inner_text() == page.page.evaluate("reachplan._internal.addBlocked")
    assert "cannot be added here" in message.inner_text()
    assert page.page.evaluate("reachplan.sites().length") == 2
    assert page.errors == [] and page.refused == []
    page.context.close()


def test_a_plans_page_compares_the_sites_without_and_with_the_plan(browser, runner,  # noqa: F811
                                                                     tmp_path):
    """reachplan plan --html on the grid under presence (gaps 006 and 009, README), with a
    candidate in each and --add 2: without the plan 7 of 9, with it 9 of 9."""
    candidates = tmp_path / "k.csv"
    candidates.write_text("name,lat,lon\nIn 006,1.5,2.5\nIn 009,2.5,2.5\n", encoding="utf-8")
    out = tmp_path / "plan.html"
    res = runner.invoke(cli, ["plan", str(GRID / "districts.geojson"), str(GRID / "centres.csv"),
                              "--add", "2", "--candidates", str(candidates), "--html", str(out),
                              "--offline"])
    assert res.exit_code == 0, res.output
    page = _open(browser, out)
    kept = page.page.evaluate("reachplan.scenarios()")
    assert [(k["name"], k["summary"]["summary"]["covered"], k["open"]) for k in kept] == [
        ("without the plan", 7, [0, 1, 2, 3, 4]), ("the plan", 9, [0, 1, 2, 3, 4, 5, 6])]
    assert [s["open"] for s in page.page.evaluate("reachplan.sites()")] == [True] * 7
    row = _section(page, "scenarios").locator("tr", has_text="% districts").locator("td")
    row.first.wait_for(timeout=5_000)  # drawn once the section opens
    assert row.all_inner_texts() == ["77.78%", "100.00%", "100.00%"]
    assert page.errors == [] and page.refused == []
    page.context.close()
