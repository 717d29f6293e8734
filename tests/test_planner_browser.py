"""The what-if page in headless Chromium: its figures are the CLI's, to the last digit.

For random scenarios (sites closed, candidates opened, sites clicked anywhere, some exactly on
a district boundary) under presence, a radius, K = 2, district weights and weighted demand
points, ``reachplan.summary()`` must equal ``reachplan coverage --format json`` run on the
page's own ``exportCsv()``, and ``gaps()`` the order of ``reachplan gaps``. The CLI is the
independent reference here: it reads the exported file afresh and decides every pair itself.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import geopandas as gpd
import pytest
from test_maps_browser import XSS, Page, browser  # noqa: F401  (the shared Chromium fixture)

from reachplan.cli.main import cli
from reachplan.text import for_spreadsheet

pytestmark = pytest.mark.browser

GRID = Path(__file__).parent / "fixtures" / "grid"
KEYS = ("summary", "rule", "cost", "groups", "types", "demand")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """The grid with weights that are not whole numbers (sums then depend on their order),
    candidates and weighted demand points, made here from a fixed seed."""
    folder = tmp_path_factory.mktemp("planner")
    rng = random.Random(20)
    grid = gpd.read_file(GRID / "districts.geojson")
    grid["pop"] = [rng.uniform(0, 1000) / 7 for _ in range(len(grid))]
    grid.loc[4, "pop"] = None  # a district without a weight
    grid.to_file(folder / "districts.geojson", driver="GeoJSON")
    with open(folder / "candidates.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["name", "type", "lat", "lon"])
        for i in range(12):
            out.writerow([f"cand {i}", rng.choice(["van", "kiosk"]),
                          round(rng.uniform(-0.5, 3.5), 6), round(rng.uniform(-0.5, 3.5), 6)])
        out.writerow(["=on the 005|006 edge", "van", 1.5, 2.0])
        out.writerow([XSS + ', "quoted"', XSS, 2.2, 0.7])
    with open(folder / "demand.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["pin", "lat", "lon", "people"])
        for i in range(60):
            out.writerow([i, rng.uniform(-0.3, 3.3), rng.uniform(-0.3, 4.3),
                          rng.uniform(0, 50) / 3])
    return {"districts": folder / "districts.geojson", "candidates": folder / "candidates.csv",
            "demand": folder / "demand.csv", "centres": GRID / "centres.csv", "dir": folder}


def _page(runner, inputs, rule: list[str], name: str, demand: bool) -> Path:
    out = inputs["dir"] / f"{name}.html"
    args = ["map", str(inputs["districts"]), str(inputs["centres"]), "--group-col", "zone",
            "--weight-col", "pop", "--type-col", "type", *rule, "--what-if", "--offline",
            "--candidates", str(inputs["candidates"]), "-o", str(out), "--overwrite"]
    if demand:
        args += ["--demand", str(inputs["demand"]), "--demand-weight-col", "people"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    return out


def _open(browser, path: Path) -> Page:  # noqa: F811
    page = Page(browser, offline=True)
    page.page.goto(path.as_uri())
    page.page.wait_for_function("window.reachplan && window.reachplan.ready", timeout=30_000)
    page.page.evaluate("window.reachplan.ready.then(() => true, () => false)")
    assert page.page.evaluate("window.reachplan.error") is None, page.errors
    return page


def _cli_json(runner, inputs, rule: list[str], csv_text: str, demand: bool) -> dict:
    sites = inputs["dir"] / "open.csv"
    sites.write_text(csv_text, encoding="utf-8")
    args = ["coverage", str(inputs["districts"]), str(sites), "--group-col", "zone",
            "--weight-col", "pop", "--type-col", "type", *rule, "--format", "json"]
    if demand:
        args += ["--demand", str(inputs["demand"]), "--demand-weight-col", "people"]
    res = runner.invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _cli_gaps(runner, inputs, rule: list[str]) -> list[dict]:
    args = ["gaps", str(inputs["districts"]), str(inputs["dir"] / "open.csv"),
            "--group-col", "zone", "--weight-col", "pop", *rule, "-o", "-"]
    res = runner.invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return list(csv.DictReader(io.StringIO(res.stdout)))


RULES = {
    "presence": ([], False),
    "radius": (["--radius-km", "60"], True),
    "radius-k2": (["--radius-km", "90", "--min-centers", "2"], True),
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_summary_equals_the_cli_on_the_exported_sites(browser, runner, inputs, name):  # noqa: F811
    rule, demand = RULES[name]
    page = _open(browser, _page(runner, inputs, rule, name, demand))
    rng = random.Random(name)
    n = page.page.evaluate("reachplan.sites().length")
    clicks = [(2.0, 1.0), (1.5, 3.0), (0.0, 0.0)]  # a corner, an outer edge, the grid's corner
    for scenario in range(6):
        for site in rng.sample(range(n), 6):
            page.page.evaluate("([s, on]) => reachplan.toggle(s, on)",
                               [site, rng.random() < 0.5])
        lat, lon = clicks[scenario] if scenario < 3 else (rng.uniform(-0.5, 3.5),
                                                          rng.uniform(-0.5, 3.5))
        page.page.evaluate("([lat, lon, k]) => reachplan.add(lat, lon, '+added ' + k)",
                           [lat, lon, scenario])
        n += 1
        got = page.page.evaluate("reachplan.summary()")
        text = page.page.evaluate("reachplan.exportCsv()")
        want = _cli_json(runner, inputs, rule, text, demand)
        for key in KEYS:
            assert got.get(key) == want.get(key), (scenario, key, text)
        gaps = page.page.evaluate("reachplan.gaps()")
        cli_gaps = _cli_gaps(runner, inputs, rule)
        assert [g["id"] for g in gaps] == [g["id"] for g in cli_gaps], text
        for mine, theirs in zip(gaps, cli_gaps, strict=True):
            assert mine["centers"] == int(theirs["centers"])
            if mine["nearest_km"] is not None:  # within the page's near pairs
                assert mine["nearest_km"] == float(theirs["nearest_km"])
                # the CLI's CSV renders names for a spreadsheet
                assert for_spreadsheet(mine["nearest_center"]) == theirs["nearest_center"]
    assert page.errors == [] and page.refused == [] and page.dialogs == []


def test_page_sums_and_rounding_are_numpys_and_pythons(browser, runner, inputs):  # noqa: F811
    """The page's own numpy pairwise sum and Python round, on values where order and ties
    matter, against numpy and Python themselves."""
    import numpy as np

    page = _open(browser, _page(runner, inputs, [], "sums", False))
    rng = np.random.default_rng(20)
    for size in (0, 5, 8, 127, 128, 129, 1000, 4099):
        values = (rng.random(size) * 10.0 ** rng.integers(0, 9)).tolist()
        got = page.page.evaluate("v => reachplan._internal.npSum(new Float64Array(v))", values)
        assert got == float(np.sum(np.asarray(values)))
    ties = [0.125, 0.375, 2.675, 1.005, 12.345, 99.995, 33.335, 66.665, 0.5, 1 / 3 * 100]
    got = page.page.evaluate("v => v.map(x => reachplan._internal.pyRound(x, 2))", ties)
    assert got == [round(x, 2) for x in ties]


def test_offline_page_makes_no_request(browser, runner, inputs):  # noqa: F811
    from reachplan.maps.planner import _csv_cells

    page = _open(browser, _page(runner, inputs, ["--radius-km", "60"], "offline", True))
    page.page.evaluate("reachplan.toggle(0, false)")
    # a clicked site's name goes into the CSV as reachplan's own CSV writer renders it
    name = '=1+2\n@cmd, "quoted"\t-x'
    page.page.evaluate("n => reachplan.add(1.2, 1.7, n)", name)
    last = page.page.evaluate("reachplan.exportCsv()").rsplit(",1.2,1.7\n", 1)[0]
    assert last.endswith(_csv_cells([name, "added"]))
    assert page.refused == [] and page.errors == []


def test_a_page_whose_data_fails_to_load_says_so(browser, runner, inputs):  # noqa: F811
    path = _page(runner, inputs, [], "broken", False)
    text = path.read_text(encoding="utf-8")
    start = text.index('"z":"', text.index('id="reachplan_planner"')) + 5
    broken = inputs["dir"] / "broken-data.html"
    broken.write_text(text[:start] + "AAAA" + text[start + 4:], encoding="utf-8")
    page = Page(browser, offline=True)
    page.page.goto(broken.as_uri())
    page.page.wait_for_function("window.reachplan && window.reachplan.error", timeout=30_000)
    alert = page.page.locator(".cp-planner-error").inner_text()
    assert "failed to load" in alert
    assert page.page.locator(".cp-figures").count() == 0  # no box of zeros


def test_clicking_a_marker_switches_the_site_and_the_box(browser, runner, inputs):  # noqa: F811
    page = _open(browser, _page(runner, inputs, [], "click", False))
    box = page.page.locator(".cp-figures")
    # presence on the grid with weights: C1..C5 open, 7 of 9 covered (fixture README)
    assert "Districts covered: 7 of 9" in box.inner_text()
    assert page.page.locator(".cp-summary").count() == 0  # the first state's panel is gone
    point = page.page.evaluate("""() => {
        const m = reachplan._internal.map, rect = m.getContainer().getBoundingClientRect();
        const p = m.latLngToContainerPoint([0.5, 0.5]);  // C1, alone in 001
        return [rect.left + p.x, rect.top + p.y]; }""")
    page.page.mouse.click(point[0], point[1])
    page.page.wait_for_function("!reachplan.sites()[0].open", timeout=5_000)
    assert "Districts covered: 6 of 9" in box.inner_text()
    # a panel's extra figure (the _internal.figures hook), escaped as its label says
    page.page.evaluate("""() => {
        reachplan._internal.figures.push(s => ({label: "<b>Gaps</b>",
                                                html: String(reachplan.gaps().length)}));
        reachplan._internal.refresh(); }""")
    assert "<b>Gaps</b>: 3" in box.inner_text()
    assert page.errors == []
