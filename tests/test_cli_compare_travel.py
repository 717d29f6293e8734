"""`reachplan compare` and `reachplan check --expect` under the travel rule, on tiny.osm.

Hand figures (tests/fixtures/roads/README.md; L = 1113.195 m, car): districts A (vertices
1, 2), B (3..7), C (the island), D (no road, 0.003 degree north of vertex 2). T = 20 min.
Network "hub": one centre on vertex 4 (in B). 4 -> 3 is residential (25 km/h) and 3 -> 2
is one-way the other way, so A is reached from vertex 3 on foot: L at 25 km/h + 0.005
degree at 5 km/h = 2.672 + 6.679 = 9.351 min; D from vertex 3 on foot to its corner.
Network "both": hub plus a centre on vertex 1 (in A): A at 0; D by car to vertex 2 then on
foot, 1.113 + 3.980 = 5.094 min. Every district but the island is covered in both.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pyproj
import pytest
import shapely

from reachplan.cli.main import cli

TINY = "tests/fixtures/roads/tiny.osm"
A_M = 6378137.0
F = 1 / 298.257223563
L_KM = A_M * math.radians(0.01) / 1000.0
BOXES = {"A": (-0.001, -0.001, 0.015, 0.001), "B": (0.015, -0.001, 0.065, 0.001),
         "C": (0.49, -0.001, 0.52, 0.001), "D": (0.009, 0.003, 0.011, 0.004)}


def minutes(km: float, kmh: float) -> float:
    return km / kmh * 60.0


A_HUB = minutes(L_KM, 25) + minutes(A_M * math.radians(0.005) / 1000.0, 5)
D_HUB = minutes(L_KM, 25) + minutes(
    pyproj.Geod(ellps="WGS84").inv(0.02, 0.0, 0.011, 0.003)[2] / 1000.0, 5)
D_BOTH = L_KM + minutes(A_M * (1 - F * (2 - F)) * math.radians(0.003) / 1000.0, 5)


@pytest.fixture
def files(tmp_path):
    gpd.GeoDataFrame({"id": list(BOXES)}, geometry=[shapely.box(*b) for b in BOXES.values()],
                     crs="EPSG:4326").to_file(tmp_path / "d.geojson")
    (tmp_path / "hub.csv").write_text("name,lat,lon\nhub,0,0.03\n", encoding="utf-8")
    (tmp_path / "both.csv").write_text("name,lat,lon\nhub,0,0.03\nwest,0,0\n",
                                       encoding="utf-8")
    return tmp_path


def run(runner, args):
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    return res


def coverage_json(runner, files, centres, *rule):
    rule = rule or ("--roads", TINY, "--travel-minutes", "20")
    out = files / f"{centres}-{len(rule)}.json"
    run(runner, ["coverage", str(files / "d.geojson"), str(files / f"{centres}.csv"),
                 "--id-col", "id", *rule, "--format", "json", "-o", str(out)])
    return str(out)


def test_compare_travel_results_by_minutes(runner, files):
    hub, both = coverage_json(runner, files, "hub"), coverage_json(runner, files, "both")
    data = json.loads(run(runner, ["compare", hub, both, "--format", "json"]).stdout)
    assert data["by"] == "nearest_min" and not data["rule_changed"]
    rows = {c["id"]: c for c in data["changes"]}
    assert {k: r["change"] for k, r in rows.items()} == {
        "A": "closer", "B": "same", "C": "same", "D": "closer"}
    assert rows["A"]["nearest_min_a"] == pytest.approx(A_HUB, abs=5e-4)
    assert rows["A"]["nearest_min_change"] == round(-A_HUB, 3)
    assert rows["D"]["nearest_min_a"] == pytest.approx(D_HUB, abs=5e-4)
    assert rows["D"]["nearest_min_b"] == pytest.approx(D_BOTH, abs=5e-4)
    assert rows["C"]["nearest_min_a"] is None and rows["C"]["nearest_min_change"] is None
    # D moved by 15.4 - 5.1 = 10.3 min, A by 9.35: a tolerance of 10 min keeps only D
    assert D_HUB - D_BOTH > 10 > A_HUB
    data = json.loads(run(runner, ["compare", hub, both, "--format", "json",
                                   "--tolerance-min", "10"]).stdout)
    assert [c["id"] for c in data["changes"] if c["change"] != "same"] == ["D"]
    text = run(runner, ["compare", hub, both]).stdout
    assert "min change" in text and f"{-A_HUB:+.2f}" in text
    csv = run(runner, ["compare", hub, both, "--format", "csv"]).stdout
    assert csv.splitlines()[0].endswith("nearest_min_a,nearest_min_b,nearest_min_change")


def test_compare_across_rule_kinds_says_the_rule_changed(runner, files):
    """Road minutes against a 2 km radius: compared (what a rule change does is a fair
    question), by km, which both carry, with the rule change said first."""
    travel = coverage_json(runner, files, "hub")
    radius = coverage_json(runner, files, "hub", "--radius-km", "2")
    res = run(runner, ["compare", travel, radius])
    assert res.stdout.splitlines()[0] == (
        "RULE CHANGED: A is within 20 min by road (car), B is within 2 km; the changes mix "
        "network and rule.")
    data = json.loads(run(runner, ["compare", travel, radius, "--format", "json"]).stdout)
    assert data["rule_changed"] and data["by"] == "nearest_km"
    assert data["rule_a"]["kind"] == "travel" and data["rule_b"]["kind"] == "radius"
    assert "nearest_min_a" not in data["changes"][0]
    # the hub is 1.67 km from A's edge: within 2 km, and within 20 min by road (9.35)
    assert {c["id"]: c["change"] for c in data["changes"]}["A"] == "same"


def test_check_expect_compares_minutes(runner, files):
    golden = files / "expected.json"
    base = ["check", str(files / "d.geojson"), str(files / "both.csv"), "--id-col", "id",
            "--roads", TINY, "--travel-minutes", "20", "--expect", str(golden)]
    run(runner, [*base, "--update-expect"])
    record = json.loads(golden.read_text())
    rows = {r["id"]: r for r in record["districts"]}
    assert rows["D"]["nearest_min"] == pytest.approx(D_BOTH, abs=5e-4)
    assert rows["C"]["nearest_min"] is None and record["rule"]["kind"] == "travel"
    run(runner, base)  # equal to itself
    rows["D"]["nearest_min"] += 0.5  # the minutes alone move
    golden.write_text(json.dumps(record))
    res = runner.invoke(cli, base)
    assert res.exit_code == 1
    d = round(D_BOTH, 3)  # outputs write minutes to a thousandth
    assert f"D: nearest_min expected {d + 0.5:g}, got {d:g} (tolerance 0.001 min)" in res.stderr
    run(runner, [*base, "--expect-tolerance-min", "0.6"])
    res = runner.invoke(cli, [*base, "--expect-tolerance-min", "-1"])
    assert res.exit_code == 2 and "--expect-tolerance-min" in res.output


def test_compare_results_names_a_bad_tolerance():
    from reachplan.checks.compare import compare_results
    from reachplan.errors import InputError

    result = {"districts": [{"id": "A", "covered": True, "nearest_km": 0.0, "nearest_min": 0.0}]}
    with pytest.raises(InputError, match="tolerance_min") as info:
        compare_results(result, result, tolerance_min=-1)
    assert info.value.params == ("tolerance_min",)
    same = compare_results(result, result)
    assert same["by"] == "nearest_min" and same["changes"][0]["change"] == "same"
    assert not same["rule_changed"] and same["rule_a"] is None
