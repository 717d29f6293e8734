"""`reachplan check --rules`: scopes, metrics, warn/fail levels, exit codes, validation.

Expected figures are the grid's hand computation (tests/fixtures/grid/README.md):
presence covers 7 of 9 districts (77.78 %), weight 3000 of 4500 (66.67 %); gaps 006 (nearest
55.287 km) and 009 (78.434 km). By zone: South 3/3 (weight 600/600), Middle 2/3 (900/1500 =
60 %), North 2/3 (1500/2400 = 62.5 %); the farthest gap per zone is 0, 55.287 and 78.434 km.
By type: direct (C1, C2, C5) covers 001 and 005 = 2/9 (22.22 %); partner (C3 on the 002|003
edge, C4 on the 004|005|007|008 corner) covers 6/9 (66.67 %).
"""

from __future__ import annotations

import json
import textwrap

import pytest

from reachplan.checks import CheckRule, evaluate, load_rules, parse_rules
from reachplan.cli.main import cli
from reachplan.errors import InputError


@pytest.fixture
def rules_file(tmp_path):
    def write(text: str, name: str = "reachplan.toml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)
    return write


def _check(runner, grid, rules: str, *extra: str):
    return runner.invoke(cli, ["check", *grid, "--group-col", "zone", "--weight-col", "pop",
                               "--type-col", "type", "--rules", rules, *extra])


def _results(res) -> list[dict]:
    return json.loads(res.stdout)["check"]["results"]


RULE = """
[[rule]]
metric = "percent"
{levels}
"""

# overall 77.78 %: a rule per status
PASSING = "fail_below = 70"
WARNING = "warn_below = 80\nfail_below = 70"
FAILING = "fail_below = 80"


@pytest.mark.parametrize(("levels", "wae", "code"), [
    ([PASSING], False, 0),
    ([PASSING], True, 0),
    ([WARNING], False, 0),
    ([WARNING], True, 1),
    ([FAILING], False, 1),
    ([FAILING], True, 1),
    ([PASSING, WARNING], False, 0),
    ([PASSING, WARNING], True, 1),
    ([WARNING, FAILING], False, 1),
    ([PASSING, FAILING], True, 1),
])
def test_exit_code_matrix(runner, grid, rules_file, levels, wae, code):
    text = "".join(RULE.format(levels=lv).replace("[[rule]]", f'[[rule]]\nname = "r{i}"')
                   for i, lv in enumerate(levels))
    res = _check(runner, grid, rules_file(text), *(["--warnings-as-errors"] if wae else []))
    assert res.exit_code == code, res.output
    assert ("reachplan check: FAIL" in res.stderr) == (code == 1)
    if WARNING in levels and not wae:
        assert "reachplan check: warning: 77.78% of districts covered, below warn_below 80" \
            in res.stderr


def test_every_scope_and_metric(runner, grid, rules_file):
    rules = rules_file("""
        [[rule]]
        name = "weight"
        metric = "weight_percent"
        fail_below = 66
        [[rule]]
        name = "zones"
        scope = "groups"
        metric = "weight_percent"
        warn_below = 61
        fail_below = 50
        [[rule]]
        name = "gaps"
        scope = "groups"
        names = ["North", "South"]
        metric = "gaps"
        fail_above = 0
        [[rule]]
        name = "far"
        scope = "groups"
        metric = "max_nearest_km"
        warn_above = 55
        fail_above = 78.5
        [[rule]]
        name = "partners"
        scope = "types"
        names = ["partner"]
        metric = "percent"
        fail_below = 66.7
        [[rule]]
        name = "direct gaps"
        scope = "types"
        metric = "gaps"
        warn_above = 6
    """)
    res = _check(runner, grid, rules, "--format", "json")
    assert res.exit_code == 1, res.output
    got = {(r["rule"], r["scope"]): (r["value"], r["status"]) for r in _results(res)}
    assert got == {
        ("weight", "overall"): (66.67, "pass"),
        ("zones", "group Middle"): (60.0, "warn"),
        ("zones", "group North"): (62.5, "pass"),
        ("zones", "group South"): (100.0, "pass"),
        ("gaps", "group North"): (1.0, "fail"),
        ("gaps", "group South"): (0.0, "pass"),
        ("far", "group Middle"): (55.287, "warn"),
        ("far", "group North"): (78.434, "warn"),
        ("far", "group South"): (0.0, "pass"),
        ("partners", "type partner"): (66.67, "fail"),
        ("direct gaps", "type direct"): (7.0, "warn"),
        ("direct gaps", "type partner"): (3.0, "pass"),
    }
    north = next(r for r in _results(res) if r["rule"] == "gaps" and r["status"] == "fail")
    assert north["details"] == ["009 Cell 9 (nearest centre 78.434 km)"]
    assert north["threshold"] == {"fail_above": 0}


def test_demand_scope(runner, grid, rules_file, tmp_path):
    # three demand points: at C1 and at C2 (0 km), and the middle of 009 (>= 111 km from
    # every centre): 2 of 3 within 10 km
    demand = tmp_path / "demand.csv"
    demand.write_text("id,lat,lon\np1,0.5,0.5\np2,1.5,1.5\np3,2.5,2.5\n", encoding="utf-8")
    rules = rules_file("""
        [[rule]]
        scope = "demand"
        metric = "percent"
        fail_below = 66
        [[rule]]
        scope = "demand"
        metric = "gaps"
        warn_above = 0
    """)
    res = _check(runner, grid, rules, "--radius-km", "10", "--demand", str(demand),
                 "--format", "json")
    assert res.exit_code == 0, res.output
    assert [(r["value"], r["status"]) for r in _results(res)] == [(66.67, "pass"),
                                                                  (1.0, "warn")]
    assert "1 demand points not covered, above warn_above 0" in res.stderr


def test_pyproject_table_is_read_from_the_current_folder(runner, grid, tmp_path,
                                                         monkeypatch):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "network"
        [[tool.reachplan.check.rule]]
        metric = "gaps"
        fail_above = 1
    """), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["check", *grid])
    assert res.exit_code == 1, res.output
    assert "2 districts not covered, above fail_above 1 (rule 'overall-gaps')" in res.stderr
    # the same file given with --rules
    res = runner.invoke(cli, ["check", *grid, "--rules", "pyproject.toml", "--format", "json"])
    assert res.exit_code == 1 and _results(res)[0]["value"] == 2.0


def test_shorthand_adds_to_the_rules(runner, grid, rules_file):
    rules = rules_file(RULE.format(levels=PASSING))
    res = _check(runner, grid, rules, "--min-percent", "78", "--format", "json")
    assert res.exit_code == 1
    assert [r["status"] for r in _results(res)] == ["pass", "fail"]
    assert "below --min-percent 78" in res.stderr


def test_no_weight_for_a_weight_rule(runner, grid, rules_file):
    rules = rules_file('[[rule]]\nname = "w"\nmetric = "weight_percent"\nfail_below = 50\n')
    res = runner.invoke(cli, ["check", *grid, "--rules", rules])
    assert res.exit_code == 2 and "rule 'w'" in res.stderr and "--weight-col" in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize(("text", "extra", "needs"), [
    ('scope = "groups"', [], "--group-col"),
    ('scope = "types"', [], "--type-col"),
    ('scope = "demand"', [], "--demand"),
])
def test_scope_without_its_data(runner, grid, rules_file, text, extra, needs):
    rules = rules_file(f'[[rule]]\nname = "x"\n{text}\nmetric = "percent"\nfail_below = 1\n')
    res = runner.invoke(cli, ["check", *grid, "--rules", rules, *extra])
    assert res.exit_code == 2, res.output
    assert "rule 'x'" in res.stderr and needs in res.stderr and res.stdout == ""


def test_unknown_group_name(runner, grid, rules_file):
    rules = rules_file('[[rule]]\nname = "east"\nscope = "groups"\nnames = ["East"]\n'
                       'metric = "percent"\nfail_below = 1\n')
    res = _check(runner, grid, rules)
    assert res.exit_code == 2
    assert "rule 'east': key 'names': no group 'East'" in res.stderr and "'Middle'" in res.stderr


@pytest.mark.parametrize(("body", "message"), [
    ('metric = "percent"\nfail_below = 80\ntreshold = 1',
     "rule 1 'r': unknown key 'treshold'"),
    ('metric = "coverage"\nfail_below = 80', "rule 1 'r': key 'metric': 'coverage' is not"),
    ('fail_below = 80', "rule 1 'r': key 'metric' is missing"),
    ('metric = "percent"\nfail_below = 120',
     "rule 1 'r': key 'fail_below': 120 is not a percentage"),
    ('metric = "percent"\nfail_below = true', "rule 1 'r': key 'fail_below': True is not a"),
    ('metric = "gaps"\nfail_above = -1', "rule 1 'r': key 'fail_above': -1 is negative"),
    ('metric = "percent"', "rule 1 'r': give at least one of warn_below"),
    ('metric = "percent"\nwarn_below = 70\nfail_below = 80',
     "rule 1 'r': key 'warn_below': 70 is below fail_below 80, so it could never warn"),
    ('metric = "gaps"\nwarn_above = 5\nfail_above = 2',
     "rule 1 'r': key 'warn_above': 5 is above fail_above 2"),
    ('scope = "county"\nmetric = "percent"\nfail_below = 1',
     "rule 1 'r': key 'scope': 'county' is not one of"),
    ('scope = "types"\nmetric = "max_nearest_km"\nfail_above = 1',
     "rule 1 'r': key 'metric': max_nearest_km is not available for scope types"),
    ('metric = "percent"\nnames = ["North"]\nfail_below = 1',
     "rule 1 'r': key 'names': only scopes groups and types"),
    ('scope = "groups"\nnames = "North"\nmetric = "percent"\nfail_below = 1',
     "rule 1 'r': key 'names': give a non-empty list"),
])
def test_invalid_rule_is_2_naming_rule_and_key(runner, grid, rules_file, body, message):
    rules = rules_file(f'[[rule]]\nname = "r"\n{body}\n')
    res = _check(runner, grid, rules)
    assert res.exit_code == 2, res.output
    assert message in res.stderr and "reachplan.toml" in res.stderr
    assert res.stdout == "" and "Traceback" not in res.output


@pytest.mark.parametrize(("text", "message"), [
    ("[[rule]\nmetric=1", "not valid TOML"),
    ('rules = []', "unknown key 'rules'"),
    ('rule = {metric = "percent"}', "'rule' must be an array of tables"),
    ('[[rule]]\nname = "a"\nmetric = "gaps"\nfail_above = 1\n'
     '[[rule]]\nname = "a"\nmetric = "gaps"\nfail_above = 2', "rule 2 'a': key 'name'"),
    ('[baseline]\nmax_drop = "1"', "[baseline]: key 'max_drop': '1' is not a number"),
    ('[baseline]\nkeep_covered = [1]', "[baseline]: key 'keep_covered'"),
])
def test_invalid_rules_file_is_2(runner, grid, rules_file, text, message):
    res = _check(runner, grid, rules_file(text))
    assert res.exit_code == 2, res.output
    assert message in res.stderr and res.stdout == ""


def test_rules_file_missing_or_without_table(runner, grid, rules_file, tmp_path):
    res = _check(runner, grid, str(tmp_path / "nope.toml"))
    assert res.exit_code == 2 and "nope.toml: file not found" in res.stderr
    res = _check(runner, grid, rules_file('[tool.ruff]\nline-length = 1\n', "pyproject.toml"))
    assert res.exit_code == 2 and "has no [tool.reachplan.check] table" in res.stderr


def test_library_evaluates_a_stored_result():
    # the library works on any coverage JSON dict: a hand-written one here
    data = {"summary": {"districts": 4, "covered": 3, "percent": 75.0, "weight_total": None,
                        "weight_covered": None, "weight_percent": None},
            "groups": [], "types": [],
            "districts": [{"id": i, "name": None, "weight": None, "covered": i != "d",
                           "nearest_km": km} for i, km in
                          (("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 12.5))]}
    rules = [CheckRule("p", "percent", warn_below=80, fail_below=70),
             CheckRule("k", "max_nearest_km", fail_above=12)]
    out = evaluate(rules, data)
    assert [(o.rule, o.value, o.status) for o in out] == [("p", 75.0, "warn"),
                                                          ("k", 12.5, "fail")]
    assert out[1].details == ("d (nearest centre 12.500 km)",)
    data["districts"][3]["nearest_km"] = None  # no centre at all: the farthest is unbounded
    assert evaluate(rules[1:], data)[0].status == "fail"


def test_parse_rules_library_errors_name_rule_and_key(tmp_path):
    with pytest.raises(InputError, match=r"^x: rule 1: key 'scope'"):
        parse_rules({"rule": [{"scope": 3, "metric": "percent"}]}, source="x")
    spec = parse_rules({"rule": [{"metric": "gaps", "fail_above": 0}],
                        "baseline": {"max_drop": 0.5, "keep_covered": ["001"]}})
    assert spec.rules[0].name == "overall-gaps"
    assert (spec.max_drop, spec.keep_covered) == (0.5, ("001",))
    path = tmp_path / "c.toml"
    path.write_text('[[rule]]\nmetric = "percent"\nfail_below = 1\n', encoding="utf-8")
    assert load_rules(path).rules[0].fail_below == 1.0


def test_minutes_metric_needs_a_rule_in_minutes(runner, grid, rules_file):
    # a presence rule is not in minutes: districts carry nearest_km, never nearest_min
    rules = rules_file('[[rule]]\nname = "drive"\nmetric = "max_nearest_min"\nfail_above = 30\n')
    res = runner.invoke(cli, ["check", *grid, "--rules", rules])
    assert res.exit_code == 2 and "rule 'drive'" in res.stderr and "minutes" in res.stderr


def test_json_names_the_rules_file(runner, grid, rules_file, tmp_path, monkeypatch):
    rules_file(RULE.format(levels=PASSING))
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["check", *grid, "--rules", "reachplan.toml", "--format", "json"])
    check = json.loads(res.stdout)["check"]
    assert res.exit_code == 0
    assert (check["rules_file"], check["status"], check["baseline"]) == ("reachplan.toml", "pass",
                                                                        None)
    # the keys the README documents, in that order
    assert list(check) == ["status", "warnings_as_errors", "rules_file", "results", "baseline"]
    assert list(check["results"][0]) == ["rule", "scope", "metric", "value", "status",
                                         "threshold", "message", "details"]


def test_demand_weight_percent(runner, grid, rules_file, tmp_path):
    # people 1 and 2 at C1 and C2 (covered), 7 in the middle of 009 (not): 3 of 10 = 30 %
    demand = tmp_path / "demand.csv"
    demand.write_text("id,lat,lon,people\np1,0.5,0.5,1\np2,1.5,1.5,2\np3,2.5,2.5,7\n",
                      encoding="utf-8")
    rules = rules_file('[[rule]]\nscope = "demand"\nmetric = "weight_percent"\n'
                       'warn_below = 50\nfail_below = 30\n')
    args = ["check", *grid, "--rules", rules, "--radius-km", "10", "--demand", str(demand)]
    res = runner.invoke(cli, [*args, "--demand-weight-col", "people", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert [(r["value"], r["status"]) for r in _results(res)] == [(30.0, "warn")]
    res = runner.invoke(cli, args)
    assert res.exit_code == 2 and "needs demand weights; pass --demand-weight-col" in res.stderr


def test_districts_without_a_group(runner, tmp_path, fixtures_dir):
    # 009 loses its zone: "every group" then includes the districts with none (009 alone, a gap)
    geojson = (fixtures_dir / "grid" / "districts.geojson").read_text(encoding="utf-8")
    text = geojson.replace('"code": "009", "name": "Cell 9", "zone": "North"',
                           '"code": "009", "name": "Cell 9", "zone": null')
    assert text != geojson
    (tmp_path / "d.geojson").write_text(text, encoding="utf-8")
    rules = tmp_path / "r.toml"
    rules.write_text('[[rule]]\nscope = "groups"\nmetric = "gaps"\nfail_above = 0\n',
                     encoding="utf-8")
    res = runner.invoke(cli, ["check", str(tmp_path / "d.geojson"),
                              str(fixtures_dir / "grid" / "centres.csv"), "--group-col", "zone",
                              "--rules", str(rules), "--format", "json"])
    assert res.exit_code == 1, res.output
    got = {r["scope"]: (r["value"], r["details"]) for r in _results(res)}
    assert got["group (none)"] == (1.0, ["009 Cell 9 (nearest centre 78.434 km)"])
    assert got["group North"] == (0.0, [])
    assert got["group Middle"][0] == 1.0


def test_max_nearest_min_under_the_travel_rule(runner, rules_file, tmp_path, monkeypatch):
    """tiny.osm (tests/test_roads.py): centres on vertices 1 and 4; A and B hold a centre
    (0 min); D has no road: vertex 2 is L = 1.113 min by car from vertex 1, then 0.003 degree
    north on foot at 5 km/h, 3.98 min: 5.094 min. C is an island no centre reaches."""
    import geopandas as gpd
    import shapely
    from test_roads import D_LEG_KM, L_KM, TINY, km_min

    monkeypatch.setenv("REACHPLAN_CACHE_DIR", str(tmp_path / "cache"))
    d_min = L_KM + km_min(D_LEG_KM, 5)
    boxes = {"A": (-0.001, -0.001, 0.015, 0.001), "B": (0.015, -0.001, 0.065, 0.001),
             "D": (0.009, 0.003, 0.011, 0.004), "C": (0.49, -0.001, 0.52, 0.001)}
    for name, ids in (("abd", "ABD"), ("all", "ABDC")):
        gpd.GeoDataFrame({"id": list(ids)}, geometry=[shapely.box(*boxes[i]) for i in ids],
                         crs="EPSG:4326").to_file(tmp_path / f"{name}.geojson")
    (tmp_path / "c.csv").write_text("name,lat,lon\nc0,0,0\nc1,0,0.03\n", encoding="utf-8")

    def run(districts: str, limit: float):
        rules = rules_file('[[rule]]\nname = "drive"\nmetric = "max_nearest_min"\n'
                           f"fail_above = {limit}\n")
        return runner.invoke(cli, ["check", str(tmp_path / f"{districts}.geojson"),
                                   str(tmp_path / "c.csv"), "--id-col", "id", "--roads", TINY,
                                   "--travel-minutes", "6", "--rules", rules,
                                   "--format", "json"])

    res = run("abd", 6)
    assert res.exit_code == 0, res.output
    (result,) = _results(res)
    assert result["value"] == pytest.approx(d_min, abs=5e-4) and result["status"] == "pass"
    assert "5.094 min from the farthest district" in result["message"]
    res = run("abd", 5)
    assert res.exit_code == 1
    (result,) = _results(res)
    assert result["status"] == "fail" and "above fail_above 5" in result["message"]
    res = run("all", 30)
    assert res.exit_code == 1
    (result,) = _results(res)
    assert result["value"] is None
    assert result["message"].startswith("1 of 4 districts unreachable by road")
    assert result["details"] == ["C C (no centre reaches it by road)"]  # id, then name
