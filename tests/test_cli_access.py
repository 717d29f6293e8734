"""`reachplan access` on tests/fixtures/capacity: A (supply 30) and B (10), four demand points
(see its README for the distances: p1 5.5 km and p2 16.6 km from A, p3 11.1 km from B, p4
out of reach)."""

from __future__ import annotations

import csv
import io
import math

import geopandas as gpd
import pytest
from pyproj import Geod

from reachplan.cli.main import cli

GEOD = Geod(ellps="WGS84")


def _km(lat1, lon1, lat2, lon2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2] / 1000.0


def _args(cap, *extra):
    return ["access", cap["centres"], "--capacity-col", "cap", "--demand", cap["demand"],
            "--demand-weight-col", "requests", "--demand-id-col", "pid", "--radius-km", "20",
            *extra]


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def _acc(res):
    assert res.exit_code == 0, res.output
    return {r["pid" if "pid" in r else "id"]: float(r["accessibility"]) for r in _rows(res.stdout)}


def test_2sfca_points_and_districts(runner, cap, tmp_path):
    # A: 30 / (20 + 20) = 0.75 for p1 and p2; B: 10 / 5 = 2 for p3; p4 nothing in reach
    out = tmp_path / "d.csv"
    res = runner.invoke(cli, _args(cap, "--boundaries", cap["districts"], "--districts-output",
                                   str(out), "-o", "-"))
    assert _acc(res) == {"p1": 0.75, "p2": 0.75, "p3": 2.0, "p4": 0.0}
    rows = _rows(res.stdout)
    assert [r["district"] for r in rows] == ["001", "001", "009", "005"]
    assert [r["centres_in_reach"] for r in rows] == ["1", "1", "1", "0"]
    districts = {r["id"]: (r["demand"], r["accessibility"]) for r in _rows(out.read_text())}
    assert districts["001"] == ("40.0", "0.75")
    assert districts["005"] == ("7.0", "0.0")
    assert districts["002"] == ("0.0", "")  # no demand: no figure


def test_e2sfca_bands(runner, cap):
    # weights: p1 (5.5 km) 1, p2 (16.6 km) 0.5, p3 (11.1 km) 0.5
    # A: 30 / (20 + 10) = 1; B: 10 / 2.5 = 4; p2 = 0.5 x 1, p3 = 0.5 x 4
    res = runner.invoke(cli, _args(cap, "--method", "e2sfca", "--bands", "10:1,20:0.5",
                                   "-o", "-"))
    assert _acc(res) == {"p1": 1.0, "p2": 0.5, "p3": 2.0, "p4": 0.0}


def test_gaussian_and_gravity(runner, cap):
    d1, d2 = _km(0.55, 0.5, 0.5, 0.5), _km(0.65, 0.5, 0.5, 0.5)
    d3 = _km(2.6, 2.5, 2.5, 2.5)
    for extra, f in ((["--sigma-km", "10"], lambda d: math.exp(-d * d / 200.0)),
                     (["--method", "gravity", "--alpha", "-1", "--scale-km", "2"],
                      lambda d: (max(d, 1.0) / 2.0) ** -1)):
        r_a = 30 / (20 * f(d1) + 20 * f(d2))
        r_b = 10 / (5 * f(d3))
        got = _acc(runner.invoke(cli, _args(cap, *extra, "-o", "-")))
        assert got["p1"] == pytest.approx(f(d1) * r_a, rel=1e-9)
        assert got["p2"] == pytest.approx(f(d2) * r_a, rel=1e-9)
        assert got["p3"] == pytest.approx(f(d3) * r_b, rel=1e-9)
        assert got["p4"] == 0.0


def test_geojson_and_xlsx(runner, cap, tmp_path):
    out, dist = tmp_path / "p.geojson", tmp_path / "d.xlsx"
    res = runner.invoke(cli, _args(cap, "--boundaries", cap["districts"], "--districts-output",
                                   str(dist), "-o", str(out)))
    assert res.exit_code == 0, res.output
    frame = gpd.read_file(out)
    assert list(frame["accessibility"]) == [0.75, 0.75, 2.0, 0.0]
    assert frame.geometry.iloc[2].y == 2.6
    assert dist.exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["--method", "e2sfca"], "--method e2sfca needs --bands"),
    (["--method", "gravity"], "--method gravity needs --alpha"),
    (["--bands", "10:1,x"], "--bands"),
    (["--bands", "30:1"], "beyond --radius-km 20"),
    (["--bands", "10:1", "--sigma-km", "3"], "give one decay"),
    (["--districts-output", "d.csv"], "--districts-output needs --boundaries"),
])
def test_usage(runner, cap, extra, message):
    res = runner.invoke(cli, _args(cap, *extra, "-o", "-"))
    assert res.exit_code == 2
    assert message in res.stderr


def test_bad_supply_names_file_column_row(runner, cap, tmp_path):
    centres = tmp_path / "centres.csv"
    centres.write_text("name,latitude,longitude,cap\nA,0.5,0.5,30\nB,2.5,2.5,-1\n",
                       encoding="utf-8")
    out = tmp_path / "p.csv"
    res = runner.invoke(cli, _args(cap | {"centres": str(centres)}, "-o", str(out)))
    assert res.exit_code == 2
    assert "centres.csv: column 'cap': row 3: -1 is negative" in res.stderr
    assert not out.exists()


def test_a_demand_column_error_names_the_demand_option(runner, cap):
    # read_points names its lat_col; for access' demand points that is --demand-lat-col
    res = runner.invoke(cli, _args(cap, "--demand-lat-col", "north", "-o", "-"))
    assert res.exit_code == 2
    assert "no column 'north' (given by --demand-lat-col)" in res.stderr
