"""Coverage at several thresholds in one pass, and equity of access.

Independent references: the same CLI run once per threshold (a single-threshold run is the
decision as it was before thresholds existed), hand figures on the 3x3 grid
(tests/fixtures/grid/README.md: nearest centres 0 km for seven districts, 55.287 km for 006,
78.434 km for 009; pop = 100 x the cell number) and on tiny.osm
(tests/test_cli_compare_travel.py's hub network: B 0 min, A 9.351 min, D about 15.3 min, C an
island), and PySAL ``inequality`` for Gini and Theil (a weighted index with whole weights is
the unweighted index of each value repeated that many times).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from inequality.gini import Gini
from inequality.theil import Theil

from reachplan.cli.main import cli
from reachplan.thresholds import band_shares, covered_at, equity, gini, kth_costs, theil

GRID = ["tests/fixtures/grid/districts.geojson", "tests/fixtures/grid/centres.csv",
        "--id-col", "code", "--group-col", "zone", "--weight-col", "pop"]
TINY = "tests/fixtures/roads/tiny.osm"


def run_json(runner, args, tmp_path, name="out.json"):
    out = tmp_path / name
    res = runner.invoke(cli, ["coverage", *args, "--format", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the numpy core

def test_kth_costs_by_hand():
    # district 0: costs 3, 1, 2 -> 1st 1, 2nd 2; district 1: one pair (5); district 2: none
    d = np.array([0, 1, 0, 0])
    c = np.array([3.0, 5.0, 1.0, 2.0])
    assert kth_costs(d, c, 3, 1).tolist() == [1.0, 5.0, np.inf]
    assert kth_costs(d, c, 3, 2).tolist() == [2.0, np.inf, np.inf]
    assert kth_costs(d, c, 3, 4).tolist() == [np.inf, np.inf, np.inf]
    assert covered_at(np.array([1.0, 5.0, np.inf]), [1, 4, 5]).tolist() == [
        [True, True, True], [False, False, True], [False, False, False]]


def test_band_shares_by_hand():
    # costs 0, 4, 5, 12, inf with weights 1, 2, 3, 4, 10 in bands <=5, (5,10], >10 or none
    bands = band_shares(np.array([0.0, 4.0, 5.0, 12.0, np.inf]), [5, 10],
                        np.array([1.0, 2.0, 3.0, 4.0, 10.0]))
    assert [b["districts"] for b in bands] == [3, 0, 2]
    assert [b["weight"] for b in bands] == [6.0, 0.0, 14.0]
    assert [b["weight_percent"] for b in bands] == [30.0, 0.0, 70.0]
    assert [(b["from"], b["to"]) for b in bands] == [(0.0, 5.0), (5.0, 10.0), (10.0, None)]


def test_gini_and_theil_by_hand():
    # 1, 2, 3, 4: sum |xi - xj| over ordered pairs = 2 x (1+2+3+1+2+1) = 20; / (2 n^2 mean)
    assert gini([1, 2, 3, 4]) == pytest.approx(20 / (2 * 16 * 2.5))
    # 0, 0, 0, 4: mean 1; Theil = (1/4) x 4 ln 4 = ln 4; Gini = 2 x 3 x 4 / (2 x 16 x 1)
    assert theil([0, 0, 0, 4]) == pytest.approx(np.log(4))
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([2, 2, 2]) == 0.0 and theil([2, 2, 2]) == 0.0
    assert gini([0, 0]) is None and theil([]) is None


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_gini_and_theil_equal_pysal_inequality(seed):
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 10.0, size=40)
    x[:5] = 0.0  # centres inside: a cost of 0
    assert gini(x) == pytest.approx(Gini(x).g, rel=1e-12)
    assert theil(x) == pytest.approx(Theil(x).T, rel=1e-9, abs=1e-12)
    w = rng.integers(0, 6, size=40)  # whole weights: each value repeated w times
    repeated = np.repeat(x, w)
    assert gini(x, w) == pytest.approx(Gini(repeated).g, rel=1e-12)
    assert theil(x, w) == pytest.approx(Theil(repeated).T, rel=1e-9, abs=1e-12)


def test_equity_leaves_out_unreachable_and_names_them():
    block = equity(np.array([0.0, 10.0, np.inf]), [5, 20], weight=np.array([1.0, 1.0, 2.0]))
    cost = block["inequality"]["cost"]
    assert (cost["districts"], cost["unreachable"]) == (2, 1)
    assert cost["gini"] == pytest.approx(Gini(np.array([0.0, 10.0])).g)
    # % covered at 20: 100, 100, 0 with weights 1, 1, 2 -> 100, 100, 0, 0
    at20 = block["inequality"]["covered"][1]
    assert at20["gini"] == pytest.approx(Gini(np.array([100.0, 100, 0, 0])).g)


# --------------------------------------------------------------------------- CLI, radius

def test_several_radii_equal_separate_runs(runner, tmp_path):
    several = run_json(runner, [*GRID, "--radius-km", "50,60,80"], tmp_path, "several.json")
    for step in several["thresholds"]:
        km = f"{step['threshold']:g}"
        one = run_json(runner, [*GRID, "--radius-km", km], tmp_path, f"{km}.json")
        assert {k: step[k] for k in one["summary"]} == one["summary"]
        assert step["groups"] == one["groups"]
        assert [r[step["column"]] for r in several["districts"]] == [
            r["covered"] for r in one["districts"]]
    assert several["summary"] == one["summary"]  # the headline: at the largest threshold


def test_several_radii_with_two_centres_equal_separate_runs(runner, tmp_path):
    args = [*GRID, "--min-centers", "2"]
    several = run_json(runner, [*args, "--radius-km", "0,60,120"], tmp_path, "several.json")
    for step in several["thresholds"]:
        km = f"{step['threshold']:g}"
        one = run_json(runner, [*args, "--radius-km", km], tmp_path, f"{km}.json")
        assert [r[step["column"]] for r in several["districts"]] == [
            r["covered"] for r in one["districts"]], km


def test_grid_bands_by_hand(runner, tmp_path):
    data = run_json(runner, [*GRID, "--radius-km", "60,50,80"], tmp_path)  # any order
    assert [s["threshold"] for s in data["thresholds"]] == [50, 60, 80]
    assert [s["covered"] for s in data["thresholds"]] == [7, 8, 9]
    assert [s["weight_covered"] for s in data["thresholds"]] == [3000, 3600, 4500]
    bands = data["equity"]["bands"]
    assert [b["districts"] for b in bands] == [7, 1, 1, 0]
    assert [b["weight"] for b in bands] == [3000, 600, 900, 0]
    middle = next(g for g in data["equity"]["groups"] if g["group"] == "Middle")
    assert [b["weight"] for b in middle["bands"]] == [900, 600, 0, 0]  # 004 005 | 006
    cost = data["equity"]["inequality"]["cost"]
    km = np.array([0, 0, 0, 0, 0, 55.287, 0, 0, 78.434])
    pop = np.arange(1, 10)  # pop / 100: the same index
    assert cost["gini"] == pytest.approx(Gini(np.repeat(km, pop)).g, abs=1e-5)
    assert cost["theil"] == pytest.approx(Theil(np.repeat(km, pop)).T, abs=1e-5)
    assert data["rule"]["thresholds_km"] == [50, 60, 80]
    assert data["cost"]["thresholds"] == [50, 60, 80]


def test_one_threshold_keeps_its_json_contract(runner, tmp_path):
    data = run_json(runner, [*GRID, "--radius-km", "60"], tmp_path)
    assert "thresholds" not in data and "equity" not in data
    assert data["rule"] == {"kind": "radius", "min_centers": 1, "radius_km": 60.0}
    assert "thresholds" not in data["cost"]
    assert not any(k.startswith("covered_") for k in data["districts"][0])


def test_csv_has_a_column_per_threshold(runner, tmp_path):
    out = tmp_path / "d.csv"
    res = runner.invoke(cli, ["coverage", *GRID, "--radius-km", "50,60,80", "-o", str(out)])
    assert res.exit_code == 0, res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert header[-3:] == ["covered_50km", "covered_60km", "covered_80km"]
    row9 = next(line for line in lines if line.startswith("009,"))
    assert row9.split(",")[-3:] == ["False", "False", "True"]


def test_curve_png_is_deterministic(runner, tmp_path):
    pngs = []
    for name in ("a.png", "b.png"):
        res = runner.invoke(cli, ["coverage", *GRID, "--radius-km", "50,60,80",
                                  "--curve", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        pngs.append((tmp_path / name).read_bytes())
    assert pngs[0].startswith(b"\x89PNG") and pngs[0] == pngs[1]


@pytest.mark.parametrize(("value", "says"), [
    ("5,,10", "an empty value between commas"),
    ("-5,10", "-5 is negative"),
    ("5,1e13", "beyond 1e12"),
    ("5,10,5", "5 is given twice"),
    ("5,ten", "'ten' is not a number"),
    ("5,inf", "not a finite number"),
])
def test_bad_threshold_lists_are_one_line_errors(runner, value, says):
    res = runner.invoke(cli, ["coverage", *GRID, "--radius-km", value])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "--radius-km" in lines[0] and says in lines[0], res.output


def test_bad_travel_minutes_list(runner):
    res = runner.invoke(cli, ["coverage", *GRID, "--roads", TINY, "--travel-minutes", "0,15"])
    assert res.exit_code == 2
    assert "--travel-minutes" in res.output and "0 is not > 0 minutes" in res.output


@pytest.mark.parametrize("args", [
    ["coverage", *GRID, "--radius-km", "5,10", "--demand", "tests/fixtures/grid/centres.csv"],
    ["coverage", *GRID, "--radius-km", "5,10", "--capacity-col", "pop"],
    ["coverage", *GRID, "--radius-km", "5,10", "--week", "--hours-col", "hours"],
    ["gaps", *GRID, "--radius-km", "5,10"],
    ["plan", *GRID, "--radius-km", "5,10", "--add", "1"],
    ["coverage", *GRID, "--radius-km", "10", "--curve", "x.png"],
])
def test_what_takes_one_threshold_refuses_several(runner, args):
    res = runner.invoke(cli, args)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and ("--radius-km" in lines[0] or "--curve" in lines[0]), res.output


# --------------------------------------------------------------------------- CLI, travel

@pytest.fixture
def tiny(tmp_path):
    import geopandas as gpd
    import shapely

    boxes = {"A": (-0.001, -0.001, 0.015, 0.001), "B": (0.015, -0.001, 0.065, 0.001),
             "C": (0.49, -0.001, 0.52, 0.001), "D": (0.009, 0.003, 0.011, 0.004)}
    gpd.GeoDataFrame({"id": list(boxes)}, geometry=[shapely.box(*b) for b in boxes.values()],
                     crs="EPSG:4326").to_file(tmp_path / "d.geojson")
    (tmp_path / "both.csv").write_text("name,lat,lon\nhub,0,0.03\nwest,0,0\n",
                                       encoding="utf-8")
    (tmp_path / "hub.csv").write_text("name,lat,lon\nhub,0,0.03\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("centres", "k"), [("hub", 1), ("both", 2)])
def test_several_travel_times_equal_separate_runs(runner, tiny, centres, k):
    args = [str(tiny / "d.geojson"), str(tiny / f"{centres}.csv"), "--id-col", "id",
            "--roads", TINY, "--min-centers", str(k)]
    several = run_json(runner, [*args, "--travel-minutes", "5,10,20"], tiny, "several.json")
    for step in several["thresholds"]:
        t = f"{step['threshold']:g}"
        one = run_json(runner, [*args, "--travel-minutes", t], tiny, f"{t}.json")
        assert {key: step[key] for key in one["summary"]} == one["summary"], t
        assert [r[step["column"]] for r in several["districts"]] == [
            r["covered"] for r in one["districts"]], t
    if k == 1:  # by hand: B inside (0), A 9.351 min, D about 15.3 min, C an island
        assert [s["covered"] for s in several["thresholds"]] == [1, 2, 3]
        assert [b["districts"] for b in several["equity"]["bands"]] == [1, 1, 1, 1]
        assert several["equity"]["inequality"]["cost"]["unreachable"] == 1


# --------------------------------------------------------------------------- check

def test_check_rule_at_a_threshold(runner, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "at50"\nthreshold = 50\nmetric = "percent"\n'
                     'fail_below = 80\n\n'
                     '[[rule]]\nname = "north60"\nthreshold = 60\nscope = "groups"\n'
                     'names = ["North"]\nmetric = "weight_percent"\nfail_below = 60\n',
                     encoding="utf-8")
    res = runner.invoke(cli, ["check", *GRID, "--radius-km", "50,60,80", "--rules",
                              str(rules), "--format", "json"])
    assert res.exit_code == 1, res.output  # 77.78 % at 50 km is below 80
    report = json.loads(res.stdout)
    by_rule = {o["rule"]: o for o in report["check"]["results"]}
    assert by_rule["at50"]["value"] == 77.78 and by_rule["at50"]["status"] == "fail"
    assert by_rule["north60"]["value"] == 62.5 and by_rule["north60"]["status"] == "pass"
    assert any("009" in d for d in by_rule["at50"]["details"])  # the gaps at 50 km


def test_check_rule_names_a_threshold_the_result_lacks(runner, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nthreshold = 45\nmetric = "percent"\nfail_below = 80\n',
                     encoding="utf-8")
    res = runner.invoke(cli, ["check", *GRID, "--radius-km", "50,60", "--rules", str(rules)])
    assert res.exit_code == 2
    assert "threshold" in res.output and "50, 60" in res.output


def test_map_carries_the_threshold_selector(runner, tmp_path):
    out = tmp_path / "m.html"
    res = runner.invoke(cli, ["map", *GRID, "--radius-km", "50,60,80", "--offline", "-o",
                              str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert '"labels":["50 km","60 km","80 km"]' in html
    assert '"covered":["111110110","111111110","111111111"]' in html  # 006, 009 as above
    res = runner.invoke(cli, ["map", *GRID, "--radius-km", "50,60", "--capacity-col", "cap",
                              "-o", str(tmp_path / "w.html")])
    assert res.exit_code == 2 and "--capacity-col decides at one threshold" in res.output
    res = runner.invoke(cli, ["map", *GRID, "--radius-km", "50,60", "--what-if",
                              "-o", str(tmp_path / "p.html")])
    assert res.exit_code == 2 and "map --what-if decides at one threshold" in res.output
    assert not (tmp_path / "p.html").exists()


def test_the_library_refuses_several_thresholds_where_it_decides_at_one():
    from reachplan import demand_coverage, read_boundaries, read_points
    from reachplan.capacity.assess import capacity_demand
    from reachplan.errors import InputError
    from reachplan.planning import plan
    from reachplan.rules import Rule

    districts = read_boundaries(GRID[0], id_col="code")
    centres = read_points(GRID[1])
    rule = Rule.radius([5, 10])
    for call in (lambda: demand_coverage(centres, centres, rule=rule),
                 lambda: capacity_demand(districts, centres, rule, demand_rate=1.0),
                 lambda: plan(districts, centres, rule, add=1)):
        with pytest.raises(InputError, match=r"^rule: .* decides at one threshold, not 5, 10"):
            call()


def test_the_table_shows_each_threshold_and_band(runner):
    res = runner.invoke(cli, ["coverage", *GRID, "--radius-km", "50,60,80"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert "Rule: at least 1 centre within 50, 60, 80 km (geodesic)" in lines
    assert any(line.split() == ["50", "km", "7", "of", "9", "77.78", "66.67"] for line in lines)
    assert any(line.split() == ["50-60", "1", "11.11", "13.33"] for line in lines)
    assert any(line.startswith("Inequality of access between districts (weighted by weight)")
               for line in lines)
