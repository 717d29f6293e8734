"""``reachplan.suggest()`` in the what-if page equals ``reachplan plan --add 1`` run on the
scenario the page exports: the open sites as centres (exportCsv) and every closed site as
--candidates, in the page's order. ``--method greedy`` must pick the very same site (the
same tie-breaks); the default (exact) method the same gains. The demand points it says the
site newly covers are checked with ``reachplan coverage`` before and after opening it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import test_maps_browser
from test_planner_capacity_browser import open_page, toggle_some, write_page

from reachplan.cli.main import cli

pytestmark = pytest.mark.browser
chromium = test_maps_browser.browser  # the map tests' fixture: Debian's Chromium, no network


def _candidates(path, seed: int, n: int = 14) -> None:
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(-0.3, 3.3, n).tolist(), rng.uniform(-0.3, 3.3, n).tolist()
    lines = [f"K{i},{lat[i]!r},{lon[i]!r}" for i in range(n)]
    lines.append("K on 005|006,1.5,2.0")  # on a shared edge: presence reaches both
    path.write_text("name,lat,lon\n" + "\n".join(lines) + "\n", encoding="utf-8")


def _demand(path, seed: int, n: int = 50) -> None:
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(0, 3, n).tolist(), rng.uniform(0, 3, n).tolist()
    path.write_text("pid,lat,lon,w\n" + "\n".join(
        f"p{i},{lat[i]!r},{lon[i]!r},{int(rng.integers(1, 5))}" for i in range(n)) + "\n",
        encoding="utf-8")


def _json(runner, args) -> dict:
    res = runner.invoke(cli, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.mark.parametrize(("rule", "weighted", "demand"), [
    (["--radius-km", "30"], True, True),
    (["--radius-km", "45"], False, True),
    ([], True, False),  # presence
])
def test_suggest_equals_plan_add_1(chromium, runner, grid, tmp_path, rule, weighted, demand):
    cands, points = tmp_path / "cands.csv", tmp_path / "demand.csv"
    _candidates(cands, 7)
    _demand(points, 8)
    weight = ["--weight-col", "pop"] if weighted else []
    dem = ["--demand", str(points), "--demand-weight-col", "w"] if demand else []
    out = write_page(runner, tmp_path / "w.html", grid[0], grid[1], *rule, *weight, *dem,
                     "--candidates", str(cands))
    page, _ = open_page(chromium, out)
    rng = np.random.default_rng(len(rule) + weighted)
    seen = set()
    for step in range(4):
        toggle_some(page, rng, 20, 5, 0.4)
        if step == 1 and rule:
            page.evaluate("() => reachplan.add(2.5, 2.5, 'clicked in 009')")
            page.evaluate("() => reachplan.toggle(reachplan.sites().length - 1, false)")
        mine = page.evaluate("() => reachplan.suggest()")
        opened = tmp_path / "open.csv"
        opened.write_text(page.evaluate("() => reachplan.exportCsv()"), encoding="utf-8")
        closed = [s for s in page.evaluate("() => reachplan.sites()") if not s["open"]]
        listed = tmp_path / "closed.csv"
        listed.write_text("name,lat,lon\n" + "".join(
            f"{s['name']},{s['lat']!r},{s['lon']!r}\n" for s in closed), encoding="utf-8")
        base = ["plan", grid[0], str(opened), *rule, *weight, "--candidates", str(listed),
                "--add", "1"]
        greedy = _json(runner, [*base, "--method", "greedy"])["sites"]
        exact = _json(runner, base)["sites"]
        if mine is None:
            assert greedy == [] and exact == []
            continue
        seen.add(mine["name"])
        keys = ("name", "lat", "lon", "gain_districts", "gain_weight", "covers",
                "covers_names")
        assert {k: mine[k] for k in keys} == {k: greedy[0][k] for k in keys}, step
        assert (mine["gain_districts"], mine["gain_weight"]) == (
            exact[0]["gain_districts"], exact[0]["gain_weight"])
        if demand:  # the demand points it newly covers, as coverage counts them
            cov = ["coverage", grid[0], *rule, *dem]
            before = _json(runner, [cov[0], cov[1], str(opened), *cov[2:]])["demand"]
            with_it = tmp_path / "with.csv"
            with_it.write_text(opened.read_text(encoding="utf-8").splitlines()[0] + "\n" +
                               "".join(opened.read_text(encoding="utf-8").splitlines(True)[1:])
                               + _row(page, mine["id"]), encoding="utf-8")
            after = _json(runner, [cov[0], cov[1], str(with_it), *cov[2:]])["demand"]
            assert mine["gain_points"] == after["covered"] - before["covered"]
            assert mine["gain_point_weight"] == pytest.approx(
                after["weight_covered"] - before["weight_covered"], abs=1e-9)
        assert mine["text"].startswith(f"Open {mine['name']}: {mine['gain_districts']} more")
    assert seen  # some step had a site to suggest
    page.context.close()


def _row(page, site: int) -> str:
    """The CSV row of a closed site, as exportCsv would write it when open."""
    return page.evaluate("""s => { reachplan.toggle(s, true);
        const rows = reachplan.exportCsv().split("\\n");
        const site = reachplan.sites()[s];
        reachplan.toggle(s, false);
        return rows.find(r => r.startsWith(site.name + ",")) + "\\n"; }""", site)


def test_nothing_left_to_cover_gives_null(chromium, runner, grid, tmp_path):
    """Under --radius-km 80 the five centres cover all nine districts (grid README)."""
    cands = tmp_path / "cands.csv"
    _candidates(cands, 3, n=3)
    out = write_page(runner, tmp_path / "w.html", grid[0], grid[1], "--radius-km", "80",
                     "--candidates", str(cands))
    page, _ = open_page(chromium, out)
    assert page.evaluate("() => reachplan.suggest()") is None
    page.context.close()
