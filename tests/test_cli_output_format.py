"""-o follows its extension; a --format that contradicts it is refused (issue 18.6).

On the 3x3 grid (tests/fixtures/grid: 9 districts). Files are read back with openpyxl and the
json module, not with reachplan.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reachplan.cli.main import cli

FIX = Path(__file__).parent / "fixtures"
COMPARE = [str(FIX / "grid" / "centres.csv"), str(FIX / "maps" / "centres.csv"),
           "--boundaries", str(FIX / "grid" / "districts.geojson"), "--radius-km", "60"]


def _refused(res, tmp_path: Path, *words: str) -> None:
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert "\n" not in line and "Traceback" not in line
    for word in words:
        assert word in line, line
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith(".")]


def test_coverage_xlsx_is_a_workbook_of_the_district_rows(runner, grid, tmp_path):
    out = tmp_path / "cov.xlsx"
    res = runner.invoke(cli, ["coverage", *grid, "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert "id" in rows[0] and "covered" in rows[0]
    assert len(rows) == 1 + 9  # a header and one row per district, not a text report


def test_coverage_format_csv_into_xlsx_is_the_same_rows(runner, grid, tmp_path):
    out = tmp_path / "cov.xlsx"
    res = runner.invoke(cli, ["coverage", *grid, "--format", "csv", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert len(list(load_workbook(out).active.iter_rows())) == 10


def test_coverage_json_extension_writes_json(runner, grid, tmp_path):
    out = tmp_path / "cov.json"
    assert runner.invoke(cli, ["coverage", *grid, "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text())["summary"]["districts"] == 9


@pytest.mark.parametrize(("fmt", "name", "suffix"), [
    ("json", "x.csv", ".csv is csv"), ("table", "x.json", ".json is json"),
    ("json", "x.xlsx", ".xlsx is csv"), ("csv", "x.txt", ".txt is table")])
def test_coverage_refuses_a_format_that_contradicts_the_extension(runner, grid, tmp_path, fmt,
                                                                   name, suffix):
    res = runner.invoke(cli, ["coverage", *grid, "--format", fmt, "-o", str(tmp_path / name)])
    _refused(res, tmp_path, f"--format {fmt} conflicts with --output", suffix)


def test_coverage_refuses_a_file_type_it_does_not_write(runner, grid, tmp_path):
    res = runner.invoke(cli, ["coverage", *grid, "-o", str(tmp_path / "cov.geojson")])
    _refused(res, tmp_path, "--output", "GeoJSON", ".json, .csv, .xlsx, .txt")


def test_compare_follows_the_extension_and_refuses_a_conflict(runner, tmp_path):
    out = tmp_path / "changes.xlsx"
    res = runner.invoke(cli, ["compare", *COMPARE, "--all", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("id", "name", "group", "change") and len(rows) == 10
    out.unlink()
    res = runner.invoke(cli, ["compare", *COMPARE, "--format", "csv", "-o",
                              str(tmp_path / "x.json")])
    _refused(res, tmp_path, "--format csv conflicts with --output", ".json is json")


def test_plan_refuses_a_text_report_into_json(runner, tmp_path):
    plan = [str(FIX / "planning" / "districts.geojson"), str(FIX / "planning" / "centres.csv"),
            "--radius-km", "120", "--add", "1"]
    res = runner.invoke(cli, ["plan", *plan, "--format", "table", "-o", str(tmp_path / "p.json")])
    _refused(res, tmp_path, "--format table conflicts with --output", ".json is json")
    res = runner.invoke(cli, ["plan", *plan, "-o", str(tmp_path / "p.json")])
    assert res.exit_code == 0, res.output
    assert "sites" in json.loads((tmp_path / "p.json").read_text())


@pytest.mark.parametrize(("args", "flag", "kind"), [
    (["-o", "m.png"], "--output", "PNG"), (["-o", "m.html", "--png", "m.htm"], "--png", "HTML")])
def test_map_refuses_html_into_png_and_png_into_html(runner, grid, tmp_path, args, flag, kind):
    args = [str(tmp_path / a) if a.startswith("m.") else a for a in args]
    res = runner.invoke(cli, ["map", *grid, *args])
    _refused(res, tmp_path, flag, kind)
