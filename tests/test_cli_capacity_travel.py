"""`reachplan coverage --capacity-col --demand FILE` under the travel rule, on tiny.osm.

Hand figures (tests/fixtures/roads/README.md; L = 1113.195 m, car, T = 6 min): centre
"west" on vertex 1 (capacity 1), "hub" on vertex 4 (capacity 5). Demand p1 on vertex 2
(3 requests): west reaches it in L at 60 km/h = 1.113 min; the hub cannot (3 -> 2 is
one-way the other way). p2 on vertex 5 (2 requests): the hub reaches it by motorway in
L at 100 km/h = 0.668 min; west cannot (4 -> 3 only). p3 on the island (4): nobody.
So west serves 1 of p1 (2 left within reach), the hub serves p2: 3 of 9 served.

Candidates for plan (capacity 10 each): "isle" on vertex 8 reaches p3 (0 min), "near1" on
vertex 2 reaches p1 (0 min), "mid" on vertex 3 reaches no demand (3 -> 2 and 3 -> 4 are
one-way the other way). Adding 1 site: isle (+4 > +2): 7 of 9 served, west still serving 1
of p1. Adding 2: isle and near1, which serves all 3 of p1 at 0 min (west then serves
nothing): 9 of 9, cost 2 x 0.668 min (p2).

With district demand instead (--weight-col pop x --demand-rate 0.01: A 1, B 2, C 4): A is
reached by west only (it holds west; from the hub, 4 -> 3 then a 557 m walk to A's edge is
9.35 min), B holds the hub (0 min) and west reaches its vertex 3 in 2L at 60 km/h = 2.23
min; C by no one. West serves A, the hub B: 3 of 7 served, nobody over capacity.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from reachplan.cli.main import cli

TINY = "tests/fixtures/roads/tiny.osm"
L_KM = 6378137.0 * math.radians(0.01) / 1000.0
BOXES = {"A": (-0.001, -0.001, 0.015, 0.001), "B": (0.015, -0.001, 0.065, 0.001),
         "C": (0.49, -0.001, 0.52, 0.001)}


@pytest.fixture
def files(tmp_path) -> dict[str, str]:
    """The districts, centres, demand points and candidates of the hand figures above."""
    gpd.GeoDataFrame({"id": list(BOXES), "pop": [100, 200, 400]},
                     geometry=[shapely.box(*b) for b in BOXES.values()],
                     crs="EPSG:4326").to_file(tmp_path / "d.geojson")
    texts = {"c.csv": "name,lat,lon,cap\nwest,0,0,1\nhub,0,0.03,5\n",
             "p.csv": "name,lat,lon,req\np1,0,0.01,3\np2,0,0.04,2\np3,0,0.5,4\n",
             "cand.csv": "name,lat,lon,cap\nisle,0,0.5,10\nnear1,0,0.01,10\nmid,0,0.02,10\n"}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return {"d": str(tmp_path / "d.geojson"), "c": str(tmp_path / "c.csv"),
            "p": str(tmp_path / "p.csv"), "cand": str(tmp_path / "cand.csv"),
            "dir": str(tmp_path)}


def _by_road(command: str, files: dict[str, str], *more: str) -> list[str]:
    return [command, files["d"], files["c"], "--id-col", "id", "--roads", TINY,
            "--travel-minutes", "6", "--capacity-col", "cap", *more, "-q"]


POINTS = ("--demand-weight-col", "req")
RATE = ("--weight-col", "pop", "--demand-rate", "0.01")


def test_capacity_with_demand_points_by_road(runner, files):
    res = runner.invoke(cli, _by_road("coverage", files, "--demand", files["p"], *POINTS,
                                      "--format", "json"))
    assert res.exit_code == 0, res.output
    c = json.loads(res.stdout)["capacity"]
    assert (c["demand"], c["served"], c["unserved"], c["unserved_in_reach"]) == (9, 3, 6, 2)
    assert c["model"]["cost_unit"] == "min" and c["model"]["rule"]["kind"] == "travel"
    assert [(x["name"], x["load"]) for x in c["centres"]] == [("west", 1), ("hub", 2)]
    assert c["total_cost"] == pytest.approx(1 * L_KM / 60 * 60 + 2 * L_KM / 100 * 60,
                                            rel=1e-9)
    districts = {d["district"]: (d["demand"], d["served"]) for d in c["districts"]}
    assert districts == {"A": (3, 1), "B": (2, 2), "C": (4, 0)}


def test_gaps_by_road_list_over_capacity_districts(runner, files):
    """Points: C is uncovered (p3's 4, none in reach); A is covered but over capacity (p1's
    3, west serves 1: 2 unserved within reach, 33.33 %); B is fully served, so not listed.
    District demand: only C (4 unserved, out of reach)."""
    import pandas as pd

    out = f"{files['dir']}/gaps.csv"
    res = runner.invoke(cli, _by_road("gaps", files, "--demand", files["p"], *POINTS,
                                      "-o", out, "--capacity-output",
                                      f"{files['dir']}/load.csv"))
    assert res.exit_code == 0, res.output
    gaps = pd.read_csv(out, dtype={"id": str})
    assert gaps["id"].tolist() == ["C", "A"]
    assert gaps["gap"].tolist() == ["uncovered", "over capacity"]
    assert math.isnan(gaps["nearest_min"].iloc[0]) and gaps["nearest_min"].iloc[1] == 0.0
    cols = ["capacity_demand", "capacity_served", "capacity_unserved",
            "capacity_unserved_in_reach"]
    assert gaps[cols].to_numpy().tolist() == [[4, 0, 4, 0], [3, 1, 2, 2]]
    assert gaps["capacity_served_pct"].tolist() == pytest.approx([0.0, 100 / 3], abs=1e-4)
    load = pd.read_csv(f"{files['dir']}/load.csv")
    assert load[["name", "load", "utilisation_pct"]].to_numpy().tolist() == [
        ["west", 1, 100.0], ["hub", 2, 40.0]]
    res = runner.invoke(cli, _by_road("gaps", files, *RATE, "-o", "-"))
    assert res.exit_code == 0, res.output
    gaps = pd.read_csv(io.StringIO(res.stdout), dtype={"id": str})
    assert gaps["id"].tolist() == ["C"]
    assert gaps[cols].to_numpy().tolist() == [[4, 0, 4, 0]]


@pytest.mark.parametrize(("add", "sites", "served", "cost"), [
    (1, [("isle", 4)], 7, L_KM / 60 * 60 + 2 * L_KM / 100 * 60),
    (2, [("isle", 4), ("near1", 3)], 9, 2 * L_KM / 100 * 60)])
def test_capacitated_plan_by_road(runner, files, add, sites, served, cost):
    res = runner.invoke(cli, _by_road("plan", files, "--demand", files["p"], *POINTS,
                                      "--candidates", files["cand"], "--candidate-capacity",
                                      "cap", "--add", str(add), "--format", "json"))
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["model"]["cost_unit"] == "min" and report["model"]["rule"]["minutes"] == 6
    assert (report["before"]["served"], report["after"]["served"]) == (3, served)
    assert [(s["name"], s["load"]) for s in report["sites"]] == sites
    assert report["capacity"]["total_cost"] == pytest.approx(cost, rel=1e-9)


def test_capacitated_plan_by_road_with_district_demand(runner, files):
    """A 1, B 2, C 4: before 3 of 7; isle on the island serves C: 7 of 7, all at 0 min."""
    res = runner.invoke(cli, _by_road("plan", files, *RATE, "--candidates", files["cand"],
                                      "--candidate-capacity", "cap", "--add", "1",
                                      "--format", "json"))
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert (report["before"]["served"], report["after"]["served"], report["demand"]) == (3, 7, 7)
    assert [(s["name"], s["load"]) for s in report["sites"]] == [("isle", 4)]
    assert report["capacity"]["total_cost"] == 0


@pytest.mark.parametrize("demand", ["points", "rate"])
def test_capacity_map_by_road(runner, files, demand):
    """Served %: points A 1 of 3 (33 %: 'under 50%'), B 2 of 2, C 0 of 4; district demand A
    and B fully served, C 0. West is full (1 of 1), the hub 40 % used (2 of 5) either way.
    The tooltips' minutes by road stay: A and B hold a centre (0 min), C is an island."""
    import re

    out = f"{files['dir']}/m.html"
    more = ("--demand", files["p"], *POINTS) if demand == "points" else RATE
    res = runner.invoke(cli, _by_road("map", files, *more, "-o", out))
    assert res.exit_code == 0, res.output
    page = Path(out).read_text(encoding="utf-8")
    payload = json.loads(re.search(r'<script type="application/json" id="[^"]+">\n(.*?)'
                                   r"</script>", page, re.S).group(1))
    assert payload["heading"] == "Demand served within capacity"
    labels = [c["label"] for c in payload["classes"]]
    served = [labels[k] for k in payload["districts"]["colour_class"]]
    assert served == (["under 50%", "100%", "under 50%"] if demand == "points"
                      else ["100%", "100%", "under 50%"])
    centres = payload["centres"]
    assert [centres["types"][k]["label"] for k in centres["type"]] == ["full",
                                                                       "under 50% used"]
    assert payload["cost"]["nearest"] == [0.0, 0.0, None]
    assert "within 6 min by road" in payload["rule"]
