"""`reachplan check` in CI: --baseline, --expect, --junit and the GitHub Actions outputs.

Figures are the grid's hand computation (tests/fixtures/grid/README.md): presence covers 7 of
9 (77.78 %), gaps 006 (55.287 km) and 009 (78.434 km); --radius-km 80 covers all 9, and
--radius-km 60 all but 009. By zone under presence: South 3/3, Middle 2/3, North 2/3.
The JUnit XML is read with junitparser, an independent parser.
"""

from __future__ import annotations

import json

import pytest
from junitparser import Failure, JUnitXml

from reachplan.checks import Outcome
from reachplan.checks.ci import github_annotations
from reachplan.cli.main import cli


@pytest.fixture
def coverage_json(runner, grid, tmp_path):
    """`reachplan coverage --format json` of the grid, written to a file."""
    def make(name: str, *args: str) -> str:
        path = tmp_path / name
        res = runner.invoke(cli, ["coverage", *grid, "--group-col", "zone", *args,
                                  "--format", "json", "-o", str(path)])
        assert res.exit_code == 0, res.output
        return str(path)
    return make


def _check(runner, grid, *args: str, env: dict | None = None):
    return runner.invoke(cli, ["check", *grid, "--group-col", "zone", *args], env=env)


# --------------------------------------------------------------------------- baseline

def test_baseline_drop_fails_and_lists_what_was_lost(runner, grid, coverage_json):
    base = coverage_json("main.json", "--radius-km", "80")  # 9 of 9
    res = _check(runner, grid, "--baseline", base, "--format", "json")
    assert res.exit_code == 1, res.output
    check = json.loads(res.stdout)["check"]
    assert check["baseline"] == {"lost": ["006", "009"], "newly_covered": []}
    drops = {r["scope"]: r["value"] for r in check["results"] if r["metric"] == "percent_drop"}
    # 100 -> 77.78 overall; 100 -> 66.67 in Middle and North; South unchanged
    assert drops == {"overall": 22.22, "group Middle": 33.33, "group North": 33.33,
                     "group South": 0.0}
    assert "overall: percent 77.78, was 100.00 in " in res.stderr
    assert "a drop of more than max_drop 0" in res.stderr
    assert "  lost: 006 Cell 6" in res.stderr and "  lost: 009 Cell 9" in res.stderr


@pytest.mark.parametrize(("args", "code"), [
    (["--max-drop", "33.33"], 0),              # every drop within; two districts lost: warn
    (["--max-drop", "33.32"], 1),              # Middle and North dropped 33.33
    (["--max-drop", "33.33", "--warnings-as-errors"], 1),
    (["--max-drop", "50", "--keep-covered", "009"], 1),
    (["--max-drop", "50", "--keep-covered", "001"], 0),
])
def test_baseline_exit_codes(runner, grid, coverage_json, args, code):
    base = coverage_json("main.json", "--radius-km", "80")
    res = _check(runner, grid, "--baseline", base, *args)
    assert res.exit_code == code, res.output
    if "009" in args:
        assert "lost from keep_covered: 009 Cell 9" in res.stderr


def test_baseline_gain_passes(runner, grid, coverage_json):
    base = coverage_json("main.json")  # presence: 7 of 9
    res = _check(runner, grid, "--baseline", base, "--radius-km", "60", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["check"]["baseline"] == {"lost": [], "newly_covered": ["006"]}
    assert "0 districts lost coverage, 1 gained since" in res.stdout


def test_baseline_settings_from_the_rules_file(runner, grid, coverage_json, tmp_path):
    base = coverage_json("main.json", "--radius-km", "80")
    rules = tmp_path / "reachplan.toml"
    rules.write_text('[baseline]\nmax_drop = 40\nkeep_covered = ["006"]\n', encoding="utf-8")
    res = _check(runner, grid, "--baseline", base, "--rules", str(rules))
    assert res.exit_code == 1 and "lost from keep_covered: 006 Cell 6" in res.stderr
    assert "a drop of more than" not in res.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--max-drop", "1", "--min-percent", "1"], "--max-drop needs --baseline"),
    (["--keep-covered", "001", "--min-percent", "1"], "--keep-covered needs --baseline"),
])
def test_baseline_options_alone_are_2(runner, grid, args, message):
    res = _check(runner, grid, *args)
    assert res.exit_code == 2 and message in res.stderr


def test_baseline_errors_are_2(runner, grid, coverage_json, tmp_path):
    base = coverage_json("main.json")
    res = _check(runner, grid, "--baseline", base, "--keep-covered", "042")
    assert res.exit_code == 2 and "no district '042'" in res.stderr and res.stdout == ""
    res = _check(runner, grid, "--baseline", str(tmp_path / "none.json"))
    assert res.exit_code == 2 and "none.json" in res.stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"summary": {}, "districts": [{"id": "X", "covered": True}]}),
                     encoding="utf-8")
    res = _check(runner, grid, "--baseline", str(other))
    assert res.exit_code == 2 and "different districts" in res.stderr and res.stdout == ""


# --------------------------------------------------------------------------- golden files

def test_expect_round_trip(runner, grid, tmp_path):
    golden = tmp_path / "expected.json"
    res = _check(runner, grid, "--expect", str(golden), "--update-expect")
    assert res.exit_code == 0, res.output
    stored = json.loads(golden.read_text(encoding="utf-8"))
    assert stored["rule"] == {"kind": "presence", "min_centers": 1, "radius_km": None}
    rows = {r["id"]: r for r in stored["districts"]}
    assert list(rows) == [f"00{i}" for i in range(1, 10)]
    assert rows["006"] == {"id": "006", "covered": False, "centers": 0, "nearest_km": 55.287}
    assert rows["005"] == {"id": "005", "covered": True, "centers": 2, "nearest_km": 0.0}
    res = _check(runner, grid, "--expect", str(golden))
    assert res.exit_code == 0 and "per-district result equals" in res.stdout


def test_expect_readable_diff(runner, grid, tmp_path):
    golden = tmp_path / "expected.json"
    assert _check(runner, grid, "--expect", str(golden), "--update-expect").exit_code == 0
    res = _check(runner, grid, "--expect", str(golden), "--radius-km", "60")
    assert res.exit_code == 1
    assert "2 differences from" in res.stderr and "--update-expect" in res.stderr
    assert "  rule: expected {'kind': 'presence'" in res.stderr
    assert "  006: covered expected false, got true" in res.stderr
    # 006's nearest centre is 55.287 km away either way: no km line for it
    assert "006: nearest_km" not in res.stderr


@pytest.mark.parametrize(("stored_km", "tolerance", "code"), [
    (55.2875, None, 0), (55.289, None, 1), (55.289, "0.002", 0), (None, None, 1)])
def test_expect_tolerance(runner, grid, tmp_path, stored_km, tolerance, code):
    golden = tmp_path / "expected.json"
    assert _check(runner, grid, "--expect", str(golden), "--update-expect").exit_code == 0
    data = json.loads(golden.read_text(encoding="utf-8"))
    next(r for r in data["districts"] if r["id"] == "006")["nearest_km"] = stored_km
    golden.write_text(json.dumps(data), encoding="utf-8")
    args = ["--expect-tolerance-km", tolerance] if tolerance else []
    res = _check(runner, grid, "--expect", str(golden), *args)
    assert res.exit_code == code, res.output
    if code:
        shown = "null" if stored_km is None else f"{stored_km:g}"
        assert f"006: nearest_km expected {shown}, got 55.287" in res.stderr


def test_expect_missing_and_extra_districts(runner, grid, tmp_path):
    golden = tmp_path / "expected.json"
    golden.write_text(json.dumps({"districts": [
        {"id": "001", "covered": True}, {"id": "010", "covered": True}]}), encoding="utf-8")
    res = _check(runner, grid, "--expect", str(golden))
    assert res.exit_code == 1
    assert "010: in " in res.stderr and "missing from this run" in res.stderr
    assert "002: in this run, not in " in res.stderr


def test_expect_errors_are_2(runner, grid, tmp_path):
    res = _check(runner, grid, "--update-expect", "--min-percent", "1")
    assert res.exit_code == 2 and "--update-expect needs --expect" in res.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows": []}', encoding="utf-8")
    res = _check(runner, grid, "--expect", str(bad))
    assert res.exit_code == 2 and "bad.json: no 'districts' list" in res.stderr
    assert res.stdout == ""


# --------------------------------------------------------------------------- JUnit

def _rules(tmp_path, text: str) -> str:
    path = tmp_path / "reachplan.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


ZONES = """
[[rule]]
name = "zones"
scope = "groups"
metric = "percent"
warn_below = 90
fail_below = 60

[[rule]]
name = "districts"
metric = "percent"
fail_below = 50
"""


@pytest.mark.parametrize("wae", [False, True])
def test_junit_one_case_per_rule_and_scope(runner, grid, tmp_path, wae):
    report = tmp_path / "junit.xml"
    res = _check(runner, grid, "--rules", _rules(tmp_path, ZONES), "--junit", str(report),
                 *(["--warnings-as-errors"] if wae else []))
    assert res.exit_code == (1 if wae else 0), res.output
    xml = JUnitXml.fromfile(str(report))
    cases = [c for suite in xml for c in suite]
    assert [(c.classname, c.name) for c in cases] == [
        ("reachplan.zones", "group Middle: percent"), ("reachplan.zones", "group North: percent"),
        ("reachplan.zones", "group South: percent"), ("reachplan.districts", "overall: percent")]
    failed = {c.name: c.result[0] for c in cases if c.result}
    if wae:  # Middle and North (66.67 %) warn, and warnings count as failures
        assert set(failed) == {"group Middle: percent", "group North: percent"}
        middle = failed["group Middle: percent"]
        assert isinstance(middle, Failure)
        assert middle.message.startswith("group Middle: 66.67% of districts covered")
        assert "006 Cell 6 (nearest centre 55.287 km)" in middle.text
    else:
        assert failed == {}
        assert "warning: group North: 66.67%" in cases[1].system_out
        assert "009 Cell 9" in cases[1].system_out
    assert xml.tests == 4 and xml.failures == (2 if wae else 0)


def test_junit_failure_and_overwrite(runner, grid, tmp_path):
    report = tmp_path / "junit.xml"
    res = _check(runner, grid, "--min-percent", "80", "--junit", str(report))
    assert res.exit_code == 1
    case = next(iter(next(iter(JUnitXml.fromfile(str(report))))))
    assert case.classname == "reachplan.min-percent" and case.name == "overall: percent"
    assert case.result[0].message == "77.78% of districts covered, below --min-percent 80"
    # both gaps, weight-less so by distance: 009 (78.434 km) first
    assert case.result[0].text.splitlines()[1:] == [
        "009 Cell 9 (nearest centre 78.434 km)", "006 Cell 6 (nearest centre 55.287 km)"]
    res = _check(runner, grid, "--min-percent", "50", "--junit", str(report))
    assert res.exit_code == 2 and "--overwrite" in res.stderr and res.stdout == ""
    res = _check(runner, grid, "--min-percent", "50", "--junit", str(report), "--overwrite")
    assert res.exit_code == 0 and JUnitXml.fromfile(str(report)).failures == 0


def test_reports_are_byte_identical(runner, grid, tmp_path):
    outs = []
    for name in ("a", "b"):
        summary = tmp_path / f"{name}.md"
        res = _check(runner, grid, "--rules", _rules(tmp_path, ZONES), "--junit",
                     str(tmp_path / f"{name}.xml"), "--github",
                     env={"GITHUB_STEP_SUMMARY": str(summary)})
        outs.append(((tmp_path / f"{name}.xml").read_bytes(), summary.read_bytes(),
                     res.stdout))
    assert outs[0] == outs[1]
    assert str(tmp_path) not in outs[0][0].decode() + outs[0][1].decode()


# --------------------------------------------------------------------------- GitHub

def _github_env(tmp_path) -> dict[str, str]:
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.write_text("earlier step\n", encoding="utf-8")
    output.write_text("other=1\n", encoding="utf-8")
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(output)}


def test_github_outputs_summary_and_annotations(runner, grid, tmp_path):
    env = _github_env(tmp_path)
    res = _check(runner, grid, "--rules", _rules(tmp_path, ZONES), "--min-percent", "80",
                 env=env)
    assert res.exit_code == 1
    output = (tmp_path / "output.txt").read_text(encoding="utf-8")
    assert output == "other=1\npercent=77.78\ngaps=2\nstatus=fail\n"
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8").splitlines()
    assert summary[0] == "earlier step"  # appended, never replaced
    assert summary[1] == "## ❌ reachplan check: fail"
    assert summary[3] == "1 failed, 2 warned, 2 passed"
    assert "| ⚠️ warn | zones | group Middle | group Middle: 66.67% of districts covered, " \
           "below warn_below 90 (rule 'zones') | warn_below 90, fail_below 60 |" in summary
    text = "\n".join(summary)
    assert "<details><summary>min-percent — overall (2 listed)</summary>" in text
    assert "- 009 Cell 9 (nearest centre 78.434 km)" in text
    errors = [x for x in res.stderr.splitlines() if x.startswith("::error ")]
    warnings = [x for x in res.stderr.splitlines() if x.startswith("::warning ")]
    assert errors == ["::error title=reachplan check%3A min-percent::77.78%25 of districts "
                      "covered, below --min-percent 80"]
    assert len(warnings) == 2 and "::notice" not in res.stderr


def test_github_off_without_the_variable(runner, grid, tmp_path):
    env = _github_env(tmp_path) | {"GITHUB_ACTIONS": "false"}
    res = _check(runner, grid, "--min-percent", "80", env=env)
    assert res.exit_code == 1 and "::error" not in res.stderr
    assert (tmp_path / "output.txt").read_text(encoding="utf-8") == "other=1\n"
    res = _check(runner, grid, "--min-percent", "80", "--no-github",
                 env=env | {"GITHUB_ACTIONS": "true"})
    assert "::error" not in res.stderr


def test_github_annotations_capped_at_ten_per_type(runner, grid, tmp_path):
    # 12 failing rules and 11 warning ones: 10 of each, then one notice with the rest
    text = "".join(f'[[rule]]\nname = "f{i:02d}"\nmetric = "percent"\nfail_below = 80\n'
                   for i in range(12))
    text += "".join(f'[[rule]]\nname = "w{i:02d}"\nmetric = "gaps"\nwarn_above = 1\n'
                    for i in range(11))
    res = _check(runner, grid, "--rules", _rules(tmp_path, text), "--github")
    assert res.exit_code == 1
    lines = res.stderr.splitlines()
    errors = [x for x in lines if x.startswith("::error ")]
    warnings = [x for x in lines if x.startswith("::warning ")]
    notices = [x for x in lines if x.startswith("::notice ")]
    assert [e.split("%3A ")[1].split("::")[0] for e in errors] == [f"f{i:02d}" for i in
                                                                   range(10)]
    assert len(warnings) == 10
    assert notices == ["::notice title=reachplan check::2 more errors and 1 more warning than "
                       "GitHub shows per step; see the job summary"]


def test_github_annotation_escaping():
    outcome = Outcome("a:b,c", "overall", "percent", 1.0, "fail", "50% done\nnext line")
    assert github_annotations([outcome]) == [
        "::error title=reachplan check%3A a%3Ab%2Cc::50%25 done%0Anext line"]
    warn = Outcome("w", "overall", "percent", 1.0, "warn", "x")
    assert github_annotations([warn], warnings_as_errors=True)[0].startswith("::error ")


def test_github_with_json_keeps_stdout_json(runner, grid, tmp_path):
    res = _check(runner, grid, "--min-percent", "80", "--format", "json",
                 env=_github_env(tmp_path))
    assert res.exit_code == 1 and "::error " in res.stderr
    assert json.loads(res.stdout)["check"]["status"] == "fail"


def test_junit_into_a_missing_folder_creates_it(runner, grid, tmp_path):
    # every output creates its missing folder (issue 8: -o maps/coverage.html)
    out = tmp_path / "reports" / "junit.xml"
    res = _check(runner, grid, "--min-percent", "50", "--junit", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").startswith("<?xml")


@pytest.mark.parametrize(("rule", "baseline", "expect", "wae", "code"), [
    ("50", "same", "same", False, 0),       # everything passes
    ("50", "full", "same", False, 1),       # only the baseline gate fails
    ("50", "same", "radius", False, 1),     # only the golden file differs
    ("80", "same", "same", False, 1),       # only the rule fails
    (None, "full-loose", "same", False, 0),  # lost districts within --max-drop: a warning
    (None, "full-loose", "same", True, 1),
    ("50", None, "same", True, 0),
])
def test_sources_combine(runner, grid, coverage_json, tmp_path, rule, baseline, expect, wae,
                         code):
    golden = tmp_path / "expected.json"
    args = ["--radius-km", "60"] if expect == "radius" else []
    assert _check(runner, grid, "--expect", str(golden), "--update-expect", *args).exit_code == 0
    args = ["--expect", str(golden)]
    if rule:
        args += ["--min-percent", rule]
    if baseline == "same":
        args += ["--baseline", coverage_json("base.json")]
    elif baseline:
        args += ["--baseline", coverage_json("base.json", "--radius-km", "80")]
        if baseline == "full-loose":
            args += ["--max-drop", "40"]
    if wae:
        args.append("--warnings-as-errors")
    res = _check(runner, grid, *args)
    assert res.exit_code == code, res.output
