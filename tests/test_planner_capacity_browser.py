"""Capacity in the what-if page (``reachplan map --what-if --capacity-col``), in headless
Chromium: the page's allocation equals the CLI's optimum on the scenario it exports.

The hand-computed case is tests/fixtures/capacity/README.md; the random scenarios (sites
switched off, candidates switched on, sites clicked) are checked against ``reachplan coverage
--capacity-col --format json`` run on the page's exported CSV: the totals of an optimum are
unique (most served, then least cost), so they must agree; which points go short and each
site's load may differ between equally good allocations and are not compared.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import test_maps_browser
from test_planner_capacity_solver import offline_tab

from reachplan.cli.main import cli

pytestmark = pytest.mark.browser
chromium = test_maps_browser.browser  # the map tests' fixture: Debian's Chromium, no network

UNIQUE = ("demand", "served", "unserved", "served_pct", "unserved_in_reach", "capacity")


def open_page(chromium, path):
    """The page opened from file:// with every other request refused; (page, refused)."""
    page, refused = offline_tab(chromium)
    page.goto(path.as_uri())
    page.wait_for_function("window.reachplan && window.reachplan.ready", timeout=30_000)
    page.evaluate("() => window.reachplan.ready.then(() => true)")
    return page, refused


def toggle_some(page, rng, sites: int, count: int, p_on: float) -> None:
    """Switch ``count`` of the first ``sites`` sites, each on with probability ``p_on``."""
    for site in rng.choice(sites, size=count, replace=False):
        page.evaluate("([s, on]) => reachplan.toggle(s, on)",
                      [int(site), bool(rng.random() < p_on)])


def write_page(runner, out, *args):
    res = runner.invoke(cli, ["map", *args, "--what-if", "--offline", "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def cli_capacity(runner, tmp_path, csv_text, *args) -> dict:
    scenario = tmp_path / "scenario.csv"
    scenario.write_text(csv_text, encoding="utf-8")
    res = runner.invoke(cli, ["coverage", args[0], str(scenario), *args[1:], "--format",
                              "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_hand_computed_fixture(chromium, runner, cap, tmp_path):
    """README of tests/fixtures/capacity: 35 of 52 served, 10 in reach but over capacity
    (p2), 7 out of reach (p4); A at 100 %, B at 50 %. Opening K2 (capacity 8): 43 served."""
    cands = str(tmp_path / "cands.csv")
    (tmp_path / "cands.csv").write_text(
        "name,latitude,longitude\nK1 near p4,1.55,1.5\nK2 near p1 p2,0.6,0.5\n",
        encoding="utf-8")
    out = write_page(runner, tmp_path / "w.html", cap["districts"], cap["centres"],
                     "--radius-km", "20", "--capacity-col", "cap", "--demand", cap["demand"],
                     "--demand-weight-col", "requests", "--candidates", cands,
                     "--candidate-capacity", "8")
    page, refused = open_page(chromium, out)
    first = page.evaluate("() => reachplan.capacity()")
    assert (first["served"], first["unserved_in_reach"], first["out_of_reach"]) == (35, 10, 7)
    assert [(c["name"], c["load"], c["utilisation_pct"]) for c in first["centres"]] == [
        ("Centre A", 30, 100), ("Centre B", 5, 50)]
    after = page.evaluate("() => { reachplan.toggle(3, true); return reachplan.capacity(); }")
    assert (after["served"], after["served_pct"]) == (43, 82.6923)
    csv_text = page.evaluate("() => reachplan.exportCsv()")
    assert csv_text.splitlines()[0] == "name,lat,lon,cap"
    assert csv_text.splitlines()[3] == "K2 near p1 p2,0.6,0.5,8"
    box = page.locator(".cp-figures").inner_text()
    assert "served 43 (82.69%)" in box and "out of reach 7 (13.46%)" in box
    assert ("utilisation: 2 of 3 sites full; busiest Centre A 100%, K2 near p1 p2 100%, "
            "Centre B 50%") in box
    assert refused == []
    page.context.close()


def _random_inputs(tmp_path, seed: int, *, thirds: bool = False):
    """Centres, candidates and demand points scattered over the 3x3 grid (lon, lat 0..3),
    whole-number capacities and demand (``thirds``: demand in thirds, not whole)."""
    rng = np.random.default_rng(seed)

    def rows(n, prefix, cols):
        lat, lon = rng.uniform(0.05, 2.95, n).round(5), rng.uniform(0.05, 2.95, n).round(5)
        return [f"{prefix}{i},{lat[i]},{lon[i]}" + "".join(f",{c[i]}" for c in cols)
                for i in range(n)]
    centres = tmp_path / "centres.csv"
    centres.write_text("name,lat,lon,cap\n" + "\n".join(
        rows(7, "C", [rng.integers(0, 60, 7)])) + "\n", encoding="utf-8")
    cands = tmp_path / "cands.csv"
    cands.write_text("name,lat,lon,size\n" + "\n".join(
        rows(9, "K", [rng.integers(5, 40, 9)])) + "\n", encoding="utf-8")
    demand = tmp_path / "demand.csv"
    demand.write_text("pid,lat,lon,w\n" + "\n".join(
        rows(80, "p", [(rng.integers(0, 9 * (3 if thirds else 1), 80)
                        / (3 if thirds else 1)).round(6)])) + "\n",
        encoding="utf-8")
    return centres, cands, demand


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_scenarios_equal_the_cli(chromium, runner, grid, tmp_path, seed):
    """Seed 3 has demand in thirds: the CLI then solves an LP (HiGHS, tolerance 1e-9
    relative) where the page's flow is exact up to rounding, so they agree to 1e-7."""
    centres, cands, demand = _random_inputs(tmp_path, seed, thirds=seed == 3)
    common = ["--radius-km", "45", "--capacity-col", "cap", "--demand", str(demand),
              "--demand-weight-col", "w"]
    out = write_page(runner, tmp_path / "w.html", grid[0], str(centres), *common,
                     "--candidates", str(cands), "--candidate-capacity", "size")
    page, refused = open_page(chromium, out)
    rng = np.random.default_rng(100 + seed)
    short = 0
    for step in range(4):
        toggle_some(page, rng, 16, 4, 0.5)
        if step == 2:  # a clicked site: capacity of --candidate-capacity's column is 0
            page.evaluate("([a, b]) => reachplan.add(a, b, 'clicked')",
                          [float(rng.uniform(0.2, 2.8)), float(rng.uniform(0.2, 2.8))])
        mine = page.evaluate("() => reachplan.capacity()")
        csv_text = page.evaluate("() => reachplan.exportCsv()")
        theirs = cli_capacity(runner, tmp_path, csv_text, grid[0], *common)
        block = theirs["capacity"]
        short += block["unserved_in_reach"] > 0
        for key in UNIQUE:
            assert mine[key] == (block[key] if seed != 3 else pytest.approx(
                block[key], rel=1e-7, abs=1e-4 if key == "served_pct" else 1e-7)), key
        assert mine["out_of_reach"] == pytest.approx(
            block["unserved"] - block["unserved_in_reach"], rel=1e-7, abs=1e-7)
        assert abs(mine["total_cost"] - block["total_cost"]) <= 5e-4 * block["served"] + 1e-6
        assert page.evaluate("() => reachplan.summary().demand")["covered"] == \
            theirs["demand"]["covered"]
    assert short > 0  # some scenario leaves demand in reach unserved: capacity binds
    assert refused == []
    page.context.close()


@pytest.mark.parametrize(("args", "flag"), [
    (["--candidate-capacity", "5"], "--what-if"),
    (["--what-if", "--capacity-col", "cap"], "--demand"),
    (["--what-if", "--capacity-col", "cap", "--demand-rate", "0.1"], "--weight-col"),
    (["--what-if", "--capacity-col", "cap", "--demand-rate", "0.1", "--demand", "D"],
     "--demand-rate"),
    (["--what-if", "--capacity-col", "cap", "--demand", "D", "--capacity-output", "x.csv"],
     "--capacity-output"),
    (["--what-if", "--capacity-col", "nope", "--demand", "D"], "nope"),
    (["--what-if", "--capacity-col", "cap", "--demand", "D", "--candidates", "K"],
     "--candidate-capacity"),
    (["--what-if", "--candidate-capacity", "5"], "--capacity-col"),
])
def test_bad_capacity_options_are_one_line_exit_2(runner, cap, tmp_path, args, flag):
    args = [{"D": cap["demand"], "K": cap["centres"]}.get(a, a) for a in args]
    out = tmp_path / "w.html"
    res = runner.invoke(cli, ["map", cap["districts"], cap["centres"], "--radius-km", "20",
                              "-o", str(out), *args])
    assert res.exit_code == 2, res.output
    assert flag in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) <= 3
    assert not out.exists()


def test_hostile_names_stay_text(chromium, runner, cap, tmp_path):
    """A centre named as markup and a capacity column named as a formula: the figures box
    shows the name as text (no element, no dialog), the CSV header is spreadsheet-safe."""
    centres = tmp_path / "centres.csv"
    centres.write_text('name,latitude,longitude,=cap()\n'
                       '"<img src=x onerror=alert(1)>",0.5,0.5,30\n', encoding="utf-8")
    out = write_page(runner, tmp_path / "w.html", cap["districts"], str(centres),
                     "--radius-km", "20", "--capacity-col", "=cap()", "--demand",
                     cap["demand"], "--demand-weight-col", "requests")
    page, _ = open_page(chromium, out)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert page.evaluate("() => reachplan.capacity()")["served"] == 30
    box = page.locator(".cp-figures")
    assert "busiest <img src=x onerror=alert(1)> 100%" in box.inner_text()
    assert box.locator("img").count() == 0 and dialogs == []
    assert page.evaluate("() => reachplan.exportCsv()").splitlines()[0] == "name,lat,lon,'=cap()"
    page.context.close()


@pytest.mark.parametrize(("given", "opened", "served"), [("8", "K2 near p1 p2", 43),
                                                         ("cap", "K1 near p4", 42)])
def test_plan_html_opens_the_capacitated_plan(chromium, runner, cap, fixtures_dir, tmp_path,
                                              given, opened, served):
    """README of tests/fixtures/capacity: with --candidate-capacity 8 --add 1 opens K2 (43
    served); with the candidates' cap column K1 (42). The page opens with that site open and
    re-allocates to the same figure."""
    out = tmp_path / "plan.html"
    res = runner.invoke(cli, ["plan", cap["districts"], cap["centres"], "--radius-km", "20",
                              "--capacity-col", "cap", "--demand", cap["demand"],
                              "--demand-weight-col", "requests", "--candidates",
                              str(fixtures_dir / "capacity" / "candidates.csv"),
                              "--candidate-capacity", given, "--add", "1", "--html", str(out),
                              "--offline", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["after"]["served"] == served
    page, refused = open_page(chromium, out)
    sites = page.evaluate("() => reachplan.sites().filter(s => s.open).map(s => s.name)")
    assert sites == ["Centre A", "Centre B", opened]
    assert page.evaluate("() => reachplan.capacity()")["served"] == served
    assert refused == []
    page.context.close()


def test_district_demand_by_hand(chromium, runner, cap, tmp_path):
    """README of tests/fixtures/capacity, --demand-rate 0.1 --weight-col pop under presence:
    001 gets its 10 from A, 009 gets 10 of 90 from B: served 20 of 450 (4.4444 %), 80 in
    reach but over capacity, 450 - 100 = 350 out of reach; A at 33.3333 %, B at 100 %."""
    out = write_page(runner, tmp_path / "w.html", cap["districts"], cap["centres"],
                     "--weight-col", "pop", "--capacity-col", "cap", "--demand-rate", "0.1")
    page, _ = open_page(chromium, out)
    got = page.evaluate("() => reachplan.capacity()")
    assert (got["served"], got["served_pct"], got["unserved_in_reach"], got["out_of_reach"]) \
        == (20, 4.4444, 80, 350)
    assert [c["utilisation_pct"] for c in got["centres"]] == [33.3333, 100]
    page.context.close()


@pytest.mark.parametrize("rule", [["--radius-km", "60"], []])
def test_district_demand_equals_the_cli(chromium, runner, grid, tmp_path, rule):
    """District weight x rate on random scenarios (a radius, presence): the unique totals
    equal coverage --capacity-col --demand-rate on the exported CSV (to 1e-7: the demand is
    not whole, the CLI solves an LP)."""
    centres, cands, _ = _random_inputs(tmp_path, 4)
    common = [*rule, "--weight-col", "pop", "--capacity-col", "cap", "--demand-rate", "0.25"]
    out = write_page(runner, tmp_path / "w.html", grid[0], str(centres), *common,
                     "--candidates", str(cands), "--candidate-capacity", "size")
    page, _ = open_page(chromium, out)
    rng = np.random.default_rng(44)
    for _ in range(3):
        toggle_some(page, rng, 16, 5, 0.5)
        mine = page.evaluate("() => reachplan.capacity()")
        csv_text = page.evaluate("() => reachplan.exportCsv()")
        block = cli_capacity(runner, tmp_path, csv_text, grid[0], *common)["capacity"]
        for key in UNIQUE:
            assert mine[key] == pytest.approx(block[key], rel=1e-7, abs=1e-7), key
        assert abs(mine["total_cost"] - block["total_cost"]) <= 5e-4 * block["served"] + 1e-6
    page.context.close()


def test_a_failed_allocation_says_so(chromium, runner, cap, tmp_path):
    """An allocation that fails (here: the capacities damaged after loading) leaves no zeros in
    the box: it says the allocation failed, and capacity() rejects."""
    out = write_page(runner, tmp_path / "w.html", cap["districts"], cap["centres"],
                     "--radius-km", "20", "--capacity-col", "cap", "--demand", cap["demand"])
    page, _ = open_page(chromium, out)
    page.evaluate("() => reachplan.capacity()")
    message = page.evaluate("""() => { reachplan._internal.data.capacity.site = null;
        reachplan.toggle(1, false);
        return reachplan.capacity().then(() => null, e => e.message); }""")
    assert message
    page.wait_for_function("document.querySelector('.cp-figures').textContent"
                           ".includes('the allocation failed')", timeout=10_000)
    page.context.close()
