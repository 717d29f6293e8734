"""Unreachable demand points: one representation in every output, and nearest_min rounded
(issue 18.6: they were inf in CSV, blank in XLSX and missing in GeoJSON, with a raw pyogrio
warning naming a site-packages file).

tiny.osm (tests/fixtures/roads/README.md; L = 1113.195 m, car, T = 6 min): centre "west" on
vertex 1, "hub" on vertex 4. p1 on vertex 2: west reaches it in L at 60 km/h = 1.11320 min
(the hub cannot: 3 -> 2 is one-way the other way); p2 on vertex 5: the hub reaches it by
motorway in L at 100 km/h = 0.66792 min; p3 on the island: no centre. Files are read back
with the csv module, openpyxl and json, not with reachplan.
"""

from __future__ import annotations

import csv
import json
import math
import warnings

import pytest
from openpyxl import load_workbook

from reachplan.cli.main import cli

TINY = "tests/fixtures/roads/tiny.osm"
L_KM = 6378137.0 * math.radians(0.01) / 1000.0
EXPECTED = {"p1": round(L_KM / 60 * 60, 3), "p2": round(L_KM / 100 * 60, 3), "p3": None}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "c.csv").write_text("name,lat,lon\nwest,0,0\nhub,0,0.03\n", encoding="utf-8")
    (tmp_path / "p.csv").write_text("name,lat,lon\np1,0,0.01\np2,0,0.04\np3,0,0.5\n",
                                    encoding="utf-8")
    (tmp_path / "d.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "all"}, "geometry": {
            "type": "Polygon",
            "coordinates": [[[-0.01, -0.01], [0.6, -0.01], [0.6, 0.01], [-0.01, 0.01],
                             [-0.01, -0.01]]]}}]}), encoding="utf-8")
    return tmp_path


def _run(runner, files, out: str, *more: str):
    res = runner.invoke(cli, ["coverage", str(files / "d.geojson"), str(files / "c.csv"),
                              "--id-col", "id", "--roads", TINY, "--travel-minutes", "6",
                              "--demand", str(files / "p.csv"), "--demand-id-col", "name",
                              "--demand-output", str(files / out), "--format", "json", *more])
    assert res.exit_code == 0, res.output
    return res


def test_csv_leaves_unreachable_empty_and_rounds_minutes(runner, files):
    _run(runner, files, "pts.csv")
    rows = list(csv.DictReader((files / "pts.csv").read_text(encoding="utf-8").splitlines()))
    got = {r["id"]: r["nearest_min"] for r in rows}
    assert got == {"p1": f"{EXPECTED['p1']}", "p2": f"{EXPECTED['p2']}", "p3": ""}


def test_xlsx_leaves_unreachable_empty(runner, files):
    _run(runner, files, "pts.xlsx")
    rows = list(load_workbook(files / "pts.xlsx").active.iter_rows(values_only=True))
    col, ids = rows[0].index("nearest_min"), rows[0].index("id")
    assert {r[ids]: r[col] for r in rows[1:]} == EXPECTED


def test_geojson_writes_null_and_no_raw_warning(runner, files):
    res = _run(runner, files, "pts.geojson")
    features = json.loads((files / "pts.geojson").read_text())["features"]
    got = {f["properties"]["id"]: f["properties"]["nearest_min"] for f in features}
    assert got == EXPECTED  # the key is there, null, for p3
    assert "site-packages" not in res.output and "RuntimeWarning" not in res.output


def test_library_warnings_are_one_reachplan_line_and_quiet_with_q(runner, grid, monkeypatch):
    import reachplan.engine

    real = reachplan.engine.assess

    def assess(*args, **kwargs):  # a warning as pyogrio.raw raises it
        warnings.warn_explicit("GDAL says hello\n  more", RuntimeWarning,
                               "/x/site-packages/pyogrio/raw.py", 733, module="pyogrio.raw")
        return real(*args, **kwargs)

    monkeypatch.setattr(reachplan.engine, "assess", assess)
    res = runner.invoke(cli, ["coverage", *grid])
    assert res.exit_code == 0, res.output
    assert "reachplan: warning: GDAL says hello\n" in res.stderr
    assert "site-packages" not in res.stderr
    res = runner.invoke(cli, ["coverage", *grid, "-q"])
    assert res.exit_code == 0 and "GDAL" not in res.stderr
