"""`reachplan gaps`: ranked gap lists in every format, neutralised and reproducible."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pytest

from reachplan.cli.main import cli


def test_csv_on_stdout_ranked_by_weight(runner, grid):
    res = runner.invoke(cli, ["gaps", *grid, "--weight-col", "pop", "-o", "-", "-q"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0] == "rank,id,name,group,weight,centers,nearest_km,nearest_center"
    assert lines[1].startswith("1,009,Cell 9,,900.0,0,78.434,Centre of 005")
    assert lines[2].startswith("2,006,Cell 6,,600.0,0,55.287,Edge 002|003")
    assert len(lines) == 3


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg", ".xlsx"])
def test_formats_are_readable_and_reproducible(runner, grid, tmp_path, suffix):
    paths = [tmp_path / run / f"gaps{suffix}" for run in ("one", "two")]
    for path in paths:
        path.parent.mkdir()
        res = runner.invoke(cli, ["gaps", *grid, "-o", str(path)])
        assert res.exit_code == 0, res.output
    assert paths[0].read_bytes() == paths[1].read_bytes()
    if suffix == ".xlsx":
        table = pd.read_excel(paths[0], dtype=str)
    elif suffix == ".csv":
        table = pd.read_csv(paths[0], dtype=str)
    else:
        table = gpd.read_file(paths[0])
        assert table.geom_type.tolist() == ["Polygon", "Polygon"]
    assert table["id"].astype(str).tolist() == ["009", "006"]


def test_formula_cells_are_neutralised(runner, grid, tmp_path):
    centres = tmp_path / "centres.csv"
    centres.write_text("name,lat,lon\n=HYPERLINK(\"http://x\"),1.5,1.5\n")
    res = runner.invoke(cli, ["gaps", grid[0], str(centres), "-o", str(tmp_path / "g.csv")])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "g.csv").read_text()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    res = runner.invoke(cli, ["gaps", grid[0], str(centres), "-o", str(tmp_path / "g.xlsx")])
    with zipfile.ZipFile(tmp_path / "g.xlsx") as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = book.read("xl/sharedStrings.xml").decode() if \
            "xl/sharedStrings.xml" in book.namelist() else ""
    assert "<f>" not in sheet
    assert "'=HYPERLINK" in sheet + strings


def test_without_output_prints_the_ranked_table(runner, grid):
    # the grid README: gaps 009 (C2, 78.434 km) then 006 (C3, 55.287 km), farthest first
    res = runner.invoke(cli, ["gaps", *grid, "--weight-col", "pop", "-q"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["rank", "id", "name", "group", "weight", "centers",
                                "nearest_km", "nearest_center"]
    assert lines[1].split() == ["1", "009", "Cell", "9", "-", "900", "0", "78.434",
                                "Centre", "of", "005"]
    assert lines[2].split() == ["2", "006", "Cell", "6", "-", "600", "0", "55.287",
                                "Edge", "002|003"]
    assert len(lines) == 3 and res.stderr == ""


def test_unknown_extension(runner, grid, tmp_path):
    res = runner.invoke(cli, ["gaps", *grid, "-o", str(tmp_path / "gaps.docx")])
    assert res.exit_code == 2 and "unknown file format '.docx'" in res.stderr
    assert f"Error: --output {tmp_path / 'gaps.docx'}:" in res.stderr  # the option, not `path`
    assert not list(tmp_path.iterdir())


def test_unknown_extension_in_python_names_the_parameter(tmp_path):
    import pandas as pd

    from reachplan.errors import InputError
    from reachplan.io import write_table

    with pytest.raises(InputError, match=r"^path='.*t\.docx': unknown file format '\.docx'"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.docx")
    assert not list(tmp_path.iterdir())


def test_unknown_extension_of_demand_output_names_its_option(runner, grid, tmp_path):
    demand = tmp_path / "d.csv"
    demand.write_text("lat,lon\n0.5,0.5\n")
    out = tmp_path / "points.docx"
    res = runner.invoke(cli, ["coverage", *grid, "--radius-km", "10", "--demand", str(demand),
                              "--demand-output", str(out)])
    assert res.exit_code == 2 and f"Error: --demand-output {out}: unknown file format" \
        in res.stderr, res.stderr
    assert not out.exists()


def test_neutralise_covers_every_text_dtype():
    from reachplan.io.write import _neutralise

    frame = pd.DataFrame({"obj": pd.Series(["=1", "ok"], dtype=object),
                          "text": pd.Series(["@x", "-y"], dtype="string"),
                          "num": [-1.5, 2.0]})
    out = _neutralise(frame)
    assert out["obj"].tolist() == ["'=1", "ok"]
    assert out["text"].tolist() == ["'@x", "'-y"]
    assert out["num"].tolist() == [-1.5, 2.0]  # numbers are not text


def test_xlsx_does_not_carry_the_save_time(runner, grid, tmp_path):
    import time

    paths = [tmp_path / run / "gaps.xlsx" for run in ("one", "two")]
    for path in paths:
        path.parent.mkdir()
        assert runner.invoke(cli, ["gaps", *grid, "-o", str(path)]).exit_code == 0
        time.sleep(1.1)  # openpyxl stamps the time to the second
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_over_capacity_rows_follow_the_uncovered(runner, cap):
    """fixtures/capacity README: presence rule, demand = pop x 0.1; 009 is covered (B) but
    gets 10 of its 90, so it follows the seven uncovered districts with 80 unserved."""
    import csv
    import io

    res = runner.invoke(cli, ["gaps", cap["districts"], cap["centres"], "--capacity-col", "cap",
                              "--weight-col", "pop", "--demand-rate", "0.1", "-o", "-"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["gap"], r["id"]) for r in rows] == [
        *(("uncovered", f"00{i}") for i in range(8, 1, -1)), ("over capacity", "009")]
    assert rows[-1]["rank"] == "8"
    assert (rows[-1]["capacity_served"], rows[-1]["capacity_unserved_in_reach"]) == \
        ("10.0", "80.0")


def test_over_capacity_ranked_by_unserved(runner, cap, tmp_path):
    """Both A and B over capacity: 001 (A, 30 places for 40) with 10 unserved in reach ranks
    before 009 (B, 10 places for 15) with 5."""
    import csv
    import io

    demand = tmp_path / "demand.csv"
    demand.write_text("pid,latitude,longitude,requests\np1,0.55,0.5,20\np2,0.65,0.5,20\n"
                      "p3,2.6,2.5,15\n", encoding="utf-8")
    res = runner.invoke(cli, ["gaps", cap["districts"], cap["centres"], "--radius-km", "20",
                              "--capacity-col", "cap", "--demand", str(demand),
                              "--demand-weight-col", "requests", "-o", "-"])
    assert res.exit_code == 0, res.output
    over = [(r["id"], r["capacity_unserved_in_reach"])
            for r in csv.DictReader(io.StringIO(res.stdout)) if r["gap"] == "over capacity"]
    assert over == [("001", "10.0"), ("009", "5.0")]


def test_demand_needs_capacity(runner, cap):
    res = runner.invoke(cli, ["gaps", cap["districts"], cap["centres"], "--demand",
                              cap["demand"], "-o", "-"])
    assert res.exit_code == 2 and "--demand needs --capacity-col" in res.stderr
