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
    assert refused == []
    page.context.close()


def _random_inputs(tmp_path, seed: int):
    """Centres, candidates and demand points scattered over the 3x3 grid (lon, lat 0..3),
    whole-number capacities and demand."""
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
        rows(80, "p", [rng.integers(0, 9, 80)])) + "\n", encoding="utf-8")
    return centres, cands, demand


@pytest.mark.parametrize("seed", [1, 2])
def test_random_scenarios_equal_the_cli(chromium, runner, grid, tmp_path, seed):
    centres, cands, demand = _random_inputs(tmp_path, seed)
    common = ["--radius-km", "45", "--capacity-col", "cap", "--demand", str(demand),
              "--demand-weight-col", "w"]
    out = write_page(runner, tmp_path / "w.html", grid[0], str(centres), *common,
                     "--candidates", str(cands), "--candidate-capacity", "size")
    page, refused = open_page(chromium, out)
    rng = np.random.default_rng(100 + seed)
    short = 0
    for step in range(4):
        for site in rng.choice(16, size=4, replace=False):
            page.evaluate("([s, on]) => reachplan.toggle(s, on)", [int(site),
                                                                   bool(rng.random() < 0.5)])
        if step == 2:  # a clicked site: capacity of --candidate-capacity's column is 0
            page.evaluate("([a, b]) => reachplan.add(a, b, 'clicked')",
                          [float(rng.uniform(0.2, 2.8)), float(rng.uniform(0.2, 2.8))])
        mine = page.evaluate("() => reachplan.capacity()")
        csv_text = page.evaluate("() => reachplan.exportCsv()")
        theirs = cli_capacity(runner, tmp_path, csv_text, grid[0], *common)
        block = theirs["capacity"]
        short += block["unserved_in_reach"] > 0
        for key in UNIQUE:
            assert mine[key] == block[key], (key, step, csv_text)
        assert mine["out_of_reach"] == block["unserved"] - block["unserved_in_reach"]
        assert abs(mine["total_cost"] - block["total_cost"]) <= 5e-4 * block["served"] + 1e-6
        assert page.evaluate("() => reachplan.summary().demand")["covered"] == \
            theirs["demand"]["covered"]
    assert short > 0  # some scenario leaves demand in reach unserved: capacity binds
    assert refused == []
    page.context.close()


@pytest.mark.parametrize(("args", "flag"), [
    (["--candidate-capacity", "5"], "--what-if"),
    (["--what-if", "--capacity-col", "cap"], "--demand"),
    (["--what-if", "--capacity-col", "cap", "--demand-rate", "0.1", "--weight-col", "pop"],
     "--demand-rate"),
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
