"""`reachplan plan` and `reachplan compare` on the row-of-districts fixture.

Hand figures: tests/fixtures/planning/README.md (radius 120 km: before 2 of 8; greedy A then B
gives 7 of 8; the optimum B + C gives 8 of 8).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reachplan.cli.main import cli

ROW = Path(__file__).parent / "fixtures" / "planning"
B, C, K = (str(ROW / f) for f in ("districts.geojson", "centres.csv", "candidates.csv"))
BASE = ["plan", B, C, "--id-col", "id", "--radius-km", "120"]


def _json(runner: CliRunner, args: list[str]) -> dict:
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_plan_json_exact(runner: CliRunner) -> None:
    out = _json(runner, [*BASE, "--add", "2", "--candidates", K, "--format", "json"])
    assert out["before"] == {"districts": 8, "covered": 2, "percent": 25.0,
                             "weight_total": None, "weight_covered": None,
                             "weight_percent": None}
    assert out["after"]["covered"] == 8 and out["after"]["percent"] == 100.0
    assert out["method"] == "exact" and out["optimality_gap"] == 0.0
    assert [(s["rank"], s["name"], s["gain_districts"], s["covers"]) for s in out["sites"]] == [
        (1, "B-mid", 3, ["01", "02", "03"]),
        (2, "C-mid", 3, ["04", "05", "06"]),
    ]
    assert out["sites"][0]["lat"] == 0.5 and out["sites"][0]["lon"] == 1.5


def test_plan_greedy_table(runner: CliRunner) -> None:
    res = runner.invoke(cli, [*BASE, "--add", "2", "--candidates", K, "--method", "greedy"])
    assert res.exit_code == 0, res.output
    assert "2 of 8 (25.00%) -> 7 of 8 (87.50%)" in res.stdout
    assert "no optimality proof" in res.stdout
    lines = [ln.split() for ln in res.stdout.splitlines() if ln.strip()[:1].isdigit()]
    assert [ln[1] for ln in lines] == ["A-edge", "B-mid"]


def test_plan_target_reports_sites_and_unreachable(runner: CliRunner) -> None:
    out = _json(runner, [*BASE, "--target", "100", "--candidates", K, "--format", "json"])
    assert out["target_reached"] is True and len(out["sites"]) == 2
    res = runner.invoke(cli, [*BASE, "--target", "100", "--candidates", K, "--exclude", "C-mid"])
    assert res.exit_code == 0, res.output
    assert "cannot be reached" in res.stdout and "87.50% of districts" in res.stdout


def test_plan_weighted_json(runner: CliRunner) -> None:
    out = _json(runner, [*BASE, "--weight-col", "pop", "--objective", "weight", "--add", "1",
                         "--candidates", K, "--format", "json"])
    assert out["objective"] == "weight"
    assert [s["name"] for s in out["sites"]] == ["C-mid"]
    assert out["sites"][0]["gain_weight"] == 1020.0
    # before: 07 + 08 = 20 of 1070; after + 04 05 06 = 1040 of 1070
    assert out["before"]["weight_covered"] == 20.0
    assert out["after"]["weight_covered"] == 1040.0 and out["after"]["weight_percent"] == 97.2


@pytest.mark.parametrize("objective", [[], ["--objective", "districts"]])
def test_plan_objective_districts_despite_weights(runner: CliRunner, objective: list) -> None:
    # the default is the headline figure, districts: A-edge (4) beats C-mid (3); its weight
    # gain is 4 x 10 = 40
    out = _json(runner, [*BASE, "--weight-col", "pop", *objective, "--add", "1",
                         "--candidates", K, "--format", "json"])
    assert out["objective"] == "districts"
    assert [(s["name"], s["gain_districts"], s["gain_weight"]) for s in out["sites"]] == [
        ("A-edge", 4, 40.0)
    ]


def test_plan_table_says_the_objective_and_names_districts(runner: CliRunner) -> None:
    res = runner.invoke(cli, [*BASE, "--weight-col", "pop", "--add", "1", "--candidates", K])
    assert res.exit_code == 0, res.output
    assert "Objective: districts covered, the headline % of districts" in res.stdout
    assert "02 D2, 03 D3, 04 D4, 05 D5" in res.stdout


def test_plan_writes_sites_and_map(runner: CliRunner, tmp_path: Path) -> None:
    sites, page = tmp_path / "plan.csv", tmp_path / "plan.html"
    res = runner.invoke(cli, [*BASE, "--add", "2", "--candidates", K, "-o", str(sites),
                              "--map", str(page)])
    assert res.exit_code == 0, res.output
    text = sites.read_text(encoding="utf-8").splitlines()
    assert text[0] == "rank,name,lat,lon,gain_districts,gain_weight,covers,covers_names"
    assert text[1] == "1,B-mid,0.5,1.5,3,,01;02;03,D1;D2;D3"
    html = page.read_text(encoding="utf-8")
    assert "Proposed sites (2)" in html and "B-mid" in html
    # the same run again is refused without --overwrite, before any solving
    again = runner.invoke(cli, [*BASE, "--add", "2", "-o", str(sites)])
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_plan_is_deterministic(runner: CliRunner) -> None:
    args = [*BASE, "--add", "3", "--format", "json"]
    assert runner.invoke(cli, args).stdout == runner.invoke(cli, args).stdout


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ([], "--add"),
        (["--add", "1", "--target", "50"], "--target"),
        (["--add", "-1"], "--add"),
        (["--target", "120"], "--target"),
        (["--add", "1", "--time-limit", "0"], "--time-limit"),
        (["--add", "1", "--min-centers", "2"], "--min-centers"),
        (["--add", "1", "--exclude", "nowhere"], "--exclude"),
        (["--add", "1", "-o", "plan.txt"], "-o"),
        (["--add", "1", "--map", "plan.png"], "--map"),
        (["--add", "1", "--objective", "weight"], "--weight-col"),
        (["--add", "1", "--candidates", "missing.csv"], "missing.csv"),
    ],
)
def test_plan_errors_are_one_line_exit_2(runner: CliRunner, extra: list[str], needle: str
                                         ) -> None:
    res = runner.invoke(cli, [*BASE, *extra])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.output
    assert "Traceback" not in res.output


# ------------------------------------------------------------------------- compare


def _coverage_json(runner: CliRunner, centres: str, out: Path) -> str:
    res = runner.invoke(cli, ["coverage", B, centres, "--id-col", "id", "--radius-km", "120",
                              "--format", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    return str(out)


def test_compare_two_results_and_two_centre_files(runner: CliRunner, tmp_path: Path) -> None:
    after = tmp_path / "after.csv"
    after.write_text("name,lat,lon\nExisting,0.5,7.5\nB-mid,0.5,1.5\n", encoding="utf-8")
    a = _coverage_json(runner, C, tmp_path / "a.json")
    b = _coverage_json(runner, str(after), tmp_path / "b.json")
    out = _json(runner, ["compare", a, b, "--format", "json"])
    # B-mid (lon 1.5) covers 01 02 03; 04 (lon 3-4) gets closer: 3.5 -> 1.5 is 1.5 deg
    assert out["newly_covered"] == 3 and out["lost"] == 0
    by_id = {c["id"]: c for c in out["changes"]}
    assert [by_id[i]["change"] for i in ("01", "02", "03")] == ["newly covered"] * 3
    assert by_id["04"]["change"] == "closer" and by_id["08"]["change"] == "same"
    assert by_id["02"]["nearest_km_b"] == 0.0

    res = runner.invoke(cli, ["compare", C, str(after), "--boundaries", B, "--id-col", "id",
                              "--radius-km", "120", "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = res.stdout.splitlines()
    assert rows[0].startswith("id,name,group,change,")
    # 05 is 2.5 deg from both B-mid and Existing, 06 stays nearer Existing: unchanged
    assert [r.split(",")[0] for r in rows[1:]] == ["01", "02", "03", "04"]

    table = runner.invoke(cli, ["compare", b, a])
    assert table.exit_code == 0 and "lost in B: 3" in table.stdout


def test_compare_errors(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["compare", C, C])
    assert res.exit_code == 2 and "--boundaries" in res.output
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    res = runner.invoke(cli, ["compare", str(bad), str(bad)])
    assert res.exit_code == 2 and "bad.json" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_candidates_from_embedded_pincodes(runner):
    # PIN-code centroids are named by their PIN code; every site of the plan is one of them
    res = runner.invoke(cli, ["plan", "@india", "@india-sample", "--radius-km", "30",
                              "--candidates", "@india-pincodes", "--add", "2",
                              "--format", "json", "-q"])
    assert res.exit_code == 0, res.output
    sites = json.loads(res.stdout)["sites"]
    assert len(sites) == 2 and all(s["name"].isdigit() and len(s["name"]) == 6 for s in sites)


def test_plan_json_on_stdout_is_only_json() -> None:
    """HiGHS 1.16 prints a banner on the C-level stdout when a solver is built; only a real
    process shows it (the CliRunner swaps sys.stdout alone). stdout must parse as JSON."""
    import subprocess
    import sys

    code = "from reachplan.cli.main import cli; cli()"
    proc = subprocess.run([sys.executable, "-c", code, *BASE, "--add", "2",
                           "--method", "exact", "--format", "json"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["method"] == "exact"
    assert "Running HiGHS" not in proc.stdout + proc.stderr


# ---------------------------------------------------------------- capacitated (--capacity-col)
def _cap_plan(runner, cap, *extra):
    candidates = str(Path(cap["centres"]).with_name("candidates.csv"))
    res = runner.invoke(cli, ["plan", cap["districts"], cap["centres"], "--radius-km", "20",
                              "--capacity-col", "cap", "--demand", cap["demand"],
                              "--demand-weight-col", "requests", "--candidates", candidates,
                              *extra])
    return res


@pytest.mark.parametrize(("extra", "names", "served", "pct"), [
    (["--candidate-capacity", "8", "--add", "1"], ["K2 near p1 p2"], 43, 82.6923),
    (["--candidate-capacity", "8", "--add", "2"], ["K2 near p1 p2", "K1 near p4"], 50, 96.1538),
    (["--candidate-capacity", "cap", "--add", "1"], ["K1 near p4"], 42, 80.7692),
    (["--candidate-capacity", "cap", "--target", "85"], ["K1 near p4", "K2 near p1 p2"], 45,
     86.5385),
])
def test_capacitated_plan(runner, cap, extra, names, served, pct):
    """fixtures/capacity README: hand-worked choices (brute force over 2 candidates)."""
    res = _cap_plan(runner, cap, *extra, "--format", "json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["kind"] == "capacitated" and report["status"] == "optimal"
    assert report["optimality_gap"] == 0.0
    assert report["before"] == {"served": 35, "served_pct": 67.3077}
    assert report["after"]["served"] == served and report["after"]["served_pct"] == pct
    assert [s["name"] for s in report["sites"]] == names
    assert report["capacity"]["served"] == served


def test_capacitated_plan_table_and_sites_file(runner, cap, tmp_path):
    res = _cap_plan(runner, cap, "--candidate-capacity", "8", "--add", "1")
    assert res.exit_code == 0, res.output
    # the new site is full (8 of 8): existing 35 + 8 = 43 meets the simple bound
    assert res.stdout.startswith("Capacitated plan: 1 new site (proved optimal by a simple "
                                 "bound)")
    assert ("Optimal: served equals the demand the existing centres alone serve (35) plus "
            "the 1 largest new-site capacities") in res.stdout
    assert "Demand served: 35.00 (67.31%) -> 43.00 (82.69%) of 52.00" in res.stdout
    out = tmp_path / "sites.csv"
    res = _cap_plan(runner, cap, "--candidate-capacity", "8", "--add", "1", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines() == [
        "rank,name,lat,lon,capacity,load,utilisation_pct",
        "1,K2 near p1 p2,0.6,0.5,8.0,8.0,100.0"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--candidate-capacity", "cap", "--target", "90"],
     "--target 90: out of reach: opening every candidate serves 86.54% of demand"),
    (["--add", "1"], "--capacity-col in plan needs --candidate-capacity"),
    (["--candidate-capacity", "-3", "--add", "1"],
     "--candidate-capacity -3: give a capacity >= 0 or a column of --candidates"),
    (["--candidate-capacity", "cap", "--add", "1", "--target", "50"],
     "--add, --target: give exactly one"),
    (["--candidate-capacity", "beds", "--add", "1"], "candidates.csv: column 'beds' not found"),
])
def test_capacitated_plan_errors(runner, cap, extra, message):
    res = _cap_plan(runner, cap, *extra)
    assert res.exit_code == 2
    assert message in res.stderr
    assert res.stdout == ""


def test_capacity_options_need_capacity_col(runner, cap):
    res = runner.invoke(cli, ["plan", cap["districts"], cap["centres"], "--add", "1",
                              "--candidate-capacity", "5"])
    assert res.exit_code == 2 and "--candidate-capacity needs --capacity-col" in res.stderr


def test_capacitated_plan_stdout_is_only_json(cap):
    """HiGHS prints a banner on the C-level stdout when a solver is made; the capacity models
    must hide it as the uncapacitated plan does (CliRunner does not see fd 1: a real run)."""
    import subprocess
    import sys

    candidates = str(Path(cap["centres"]).with_name("candidates.csv"))
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("reachplan")), "plan", cap["districts"], cap["centres"],
         "--radius-km", "20", "--capacity-col", "cap", "--demand", cap["demand"],
         "--demand-weight-col", "requests", "--candidates", candidates,
         "--candidate-capacity", "8", "--add", "1", "--format", "json"],
        capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["after"]["served"] == 43


def test_a_candidate_column_error_names_the_candidate_option(runner):
    res = runner.invoke(cli, [*BASE, "--add", "1", "--candidates", K,
                              "--candidate-name-col", "title"])
    assert res.exit_code == 2
    assert "no column 'title' (given by --candidate-name-col)" in res.stderr


def test_candidate_coordinate_columns_by_option(runner, tmp_path):
    """The same candidates with their coordinate columns renamed deg_n/deg_e give the same plan when
    --candidate-lat-col/--candidate-lon-col name them; without, the error names those flags."""
    lines = Path(K).read_text(encoding="utf-8").splitlines()
    header = ["deg_n" if c == "lat" else "deg_e" if c == "lon" else c for c in lines[0].split(",")]
    assert "deg_n" in header and "deg_e" in header
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("\n".join([",".join(header), *lines[1:]]) + "\n", encoding="utf-8")
    want = _json(runner, [*BASE, "--add", "2", "--candidates", K, "--format", "json"])
    got = _json(runner, [*BASE, "--add", "2", "--candidates", str(renamed), "--format", "json",
                         "--candidate-lat-col", "deg_n", "--candidate-lon-col", "deg_e"])
    assert [s["lat"] for s in got["sites"]] == [s["lat"] for s in want["sites"]]
    assert [s["name"] for s in got["sites"]] == [s["name"] for s in want["sites"]]
    res = runner.invoke(cli, [*BASE, "--add", "2", "--candidates", str(renamed)])
    assert res.exit_code == 2 and "--candidate-lat-col" in res.stderr
