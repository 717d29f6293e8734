"""`reachplan coverage --capacity-col` on tests/fixtures/capacity (figures from its README)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from pyproj import Geod

from reachplan.cli.main import cli

GEOD = Geod(ellps="WGS84")


def _points_args(cap, *extra):
    return ["coverage", cap["districts"], cap["centres"], "--radius-km", "20",
            "--capacity-col", "cap", "--demand", cap["demand"], "--demand-weight-col",
            "requests", *extra]


def _metres(lat1, lon1, lat2, lon2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_points_json_block(runner, cap):
    res = runner.invoke(cli, _points_args(cap, "--type-col", "type", "--group-col", "zone",
                                          "--format", "json", "-q"))
    assert res.exit_code == 0, res.output
    c = json.loads(res.stdout)["capacity"]
    assert c["status"] == "optimal"
    assert (c["demand"], c["served"], c["unserved"]) == (52, 35, 17)
    assert c["served_pct"] == pytest.approx(100 * 35 / 52, abs=1e-4)
    assert c["unserved_in_reach"] == 10 and c["points_over_capacity"] == 1
    assert c["capacity"] == 40 and c["centres_full"] == 1
    cost = (20 * _metres(0.55, 0.5, 0.5, 0.5) + 10 * _metres(0.65, 0.5, 0.5, 0.5)
            + 5 * _metres(2.6, 2.5, 2.5, 2.5))
    assert c["total_cost"] == pytest.approx(cost, abs=1.0)
    assert c["model"]["capacity"] == "column 'cap'"
    assert c["model"]["demand"] == "column 'requests' of demand.csv"
    assert c["model"]["rule"] == {"kind": "radius", "min_centers": 1, "radius_km": 20.0}
    assert c["centres"] == [
        {"name": "Centre A", "type": "direct", "capacity": 30, "load": 30,
         "utilisation_pct": 100.0},
        {"name": "Centre B", "type": "partner", "capacity": 10, "load": 5,
         "utilisation_pct": 50.0}]
    by_type = {t["type"]: t for t in c["by_centre_type"]}
    assert by_type["direct"]["pct_of_demand_served"] == pytest.approx(57.6923, abs=1e-4)
    assert by_type["partner"]["utilisation_pct"] == 50.0
    groups = {g["group"]: (g["demand"], g["served"], g["served_pct"]) for g in c["by_group"]}
    assert groups == {"South": (40, 30, 75.0), "Middle": (7, 0, 0.0), "North": (5, 5, 100.0)}
    districts = {d["district"]: (d["demand"], d["served"], d["unserved_in_reach"])
                 for d in c["districts"]}
    assert districts == {"001": (40, 30, 10), "005": (7, 0, 0), "009": (5, 5, 0)}


def test_shuffled_centres_same_totals(runner, cap, tmp_path):
    rows = Path(cap["centres"]).read_text(encoding="utf-8").splitlines()
    shuffled = tmp_path / "centres.csv"
    shuffled.write_text("\n".join([rows[0], rows[2], rows[1]]) + "\n", encoding="utf-8")
    res = runner.invoke(cli, _points_args(cap | {"centres": str(shuffled)}, "--format",
                                          "json", "-q"))
    c = json.loads(res.stdout)["capacity"]
    assert (c["served"], c["unserved_in_reach"]) == (35, 10)
    assert [x["name"] for x in c["centres"]] == ["Centre B", "Centre A"]


def test_points_table(runner, cap):
    res = runner.invoke(cli, _points_args(cap, "--type-col", "type", "--group-col", "zone"))
    assert res.exit_code == 0, res.output
    assert "served 35.00 of 52.00 (67.31%), optimal" in res.stdout
    assert "within reach but over capacity: 10.00" in res.stdout
    assert "Centres at capacity: 1 of 2" in res.stdout
    south = [line.split() for line in res.stdout.splitlines() if line.startswith("South")]
    assert ["South", "40.00", "30.00", "10.00", "75.00"] in south


def test_district_rate(runner, cap):
    res = runner.invoke(cli, ["coverage", cap["districts"], cap["centres"], "--capacity-col",
                              "cap", "--weight-col", "pop", "--demand-rate", "0.1", "--format",
                              "json", "-q"])
    assert res.exit_code == 0, res.output
    c = json.loads(res.stdout)["capacity"]
    assert (c["demand"], c["served"], c["unserved_in_reach"]) == (450, 20, 80)
    assert c["served_pct"] == pytest.approx(4.4444, abs=1e-4)
    assert c["model"]["demand"] == "district 'pop' x 0.1 (--demand-rate)"
    assert [x["utilisation_pct"] for x in c["centres"]] == [pytest.approx(33.3333), 100.0]
    d = {x["district"]: x for x in c["districts"]}
    assert (d["009"]["demand"], d["009"]["served"]) == (90, 10)
    assert (d["005"]["reachable"], d["005"]["unserved"]) == (0, 50)


def test_csv_and_capacity_output(runner, cap, tmp_path):
    out, centres = tmp_path / "d.csv", tmp_path / "c.csv"
    res = runner.invoke(cli, _points_args(cap, "-o", str(out), "--capacity-output",
                                          str(centres)))
    assert res.exit_code == 0, res.output
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows["001"]["capacity_served"] == "30.0"
    assert rows["001"]["capacity_unserved_in_reach"] == "10.0"
    assert rows["002"]["capacity_demand"] == "0.0"
    loads = [(r["name"], r["load"], r["utilisation_pct"])
             for r in csv.DictReader(io.StringIO(centres.read_text()))]
    assert loads == [("Centre A", "30.0", "100.0"), ("Centre B", "5.0", "50.0")]


def _bad(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("cell", "expected"), [
    ("", "centres.csv: column 'cap': row 3: value is missing"),
    ("-4", "centres.csv: column 'cap': row 3: -4 is negative"),
    ("lots", "centres.csv: column 'cap': row 3: 'lots' is not a number"),
])
def test_bad_capacity(runner, cap, tmp_path, cell, expected):
    centres = _bad(tmp_path, "centres.csv", "id,name,latitude,longitude,cap\n"
                   f"A,Centre A,0.5,0.5,30\nB,Centre B,2.5,2.5,{cell}\n")
    out = tmp_path / "out.json"
    res = runner.invoke(cli, _points_args(cap | {"centres": centres}, "-o", str(out)))
    assert res.exit_code == 2
    assert expected in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_demand_and_absent_column(runner, cap, tmp_path):
    demand = _bad(tmp_path, "demand.csv", "pid,latitude,longitude,requests\n"
                  "p1,0.55,0.5,20\np2,0.65,0.5,x\n")
    out = tmp_path / "out.json"
    res = runner.invoke(cli, _points_args(cap | {"demand": demand}, "-o", str(out)))
    assert res.exit_code == 2
    assert "demand.csv: column 'requests': row 3: 'x' is not a number" in res.stderr
    res = runner.invoke(cli, ["coverage", cap["districts"], cap["centres"], "--radius-km", "20",
                              "--capacity-col", "beds", "--demand", cap["demand"],
                              "-o", str(out)])
    assert res.exit_code == 2
    assert "centres.csv: column 'beds' not found" in res.stderr
    assert not out.exists()


def test_zero_total_capacity(runner, cap, tmp_path):
    centres = _bad(tmp_path, "centres.csv", "id,name,latitude,longitude,cap\n"
                   "A,Centre A,0.5,0.5,0\n")
    res = runner.invoke(cli, _points_args(cap | {"centres": centres}))
    assert res.exit_code == 2
    assert "centres.csv: column 'cap': total capacity is 0" in res.stderr


def test_bad_district_weight(runner, cap, tmp_path):
    res = runner.invoke(cli, ["coverage", cap["districts"], cap["centres"], "--capacity-col",
                              "cap", "--demand-rate", "0.1"])
    assert res.exit_code == 2 and "--demand-rate needs --weight-col" in res.stderr
    res = runner.invoke(cli, ["coverage", cap["districts"], cap["centres"], "--capacity-col",
                              "cap", "--weight-col", "pop", "--demand-rate", "-1"])
    assert res.exit_code == 2 and "--demand-rate" in res.stderr


def test_usage(runner, cap):
    res = runner.invoke(cli, ["coverage", cap["districts"], cap["centres"], "--capacity-col",
                              "cap"])
    assert res.exit_code == 2 and "--capacity-col needs demand" in res.stderr
    res = runner.invoke(cli, ["coverage", cap["districts"], cap["centres"], "--demand-rate",
                              "0.1"])
    assert res.exit_code == 2 and "--demand-rate needs --capacity-col" in res.stderr
    res = runner.invoke(cli, ["coverage", cap["districts"], cap["centres"], "--capacity-col",
                              "cap", "--demand", cap["demand"]])
    assert res.exit_code == 2 and "needs --radius-km" in res.stderr
