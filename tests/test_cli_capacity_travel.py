"""`covplan coverage --capacity-col --demand FILE` under the travel rule, on tiny.osm.

Hand figures (tests/fixtures/roads/README.md; L = 1113.195 m, car, T = 6 min): centre
"west" on vertex 1 (capacity 1), "hub" on vertex 4 (capacity 5). Demand p1 on vertex 2
(3 requests): west reaches it in L at 60 km/h = 1.113 min; the hub cannot (3 -> 2 is
one-way the other way). p2 on vertex 5 (2 requests): the hub reaches it by motorway in
L at 100 km/h = 0.668 min; west cannot (4 -> 3 only). p3 on the island (4): nobody.
So west serves 1 of p1 (2 left within reach), the hub serves p2: 3 of 9 served.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pytest
import shapely

from covplan.cli.main import cli

TINY = "tests/fixtures/roads/tiny.osm"
L_KM = 6378137.0 * math.radians(0.01) / 1000.0
BOXES = {"A": (-0.001, -0.001, 0.015, 0.001), "B": (0.015, -0.001, 0.065, 0.001),
         "C": (0.49, -0.001, 0.52, 0.001)}


def test_capacity_with_demand_points_by_road(runner, tmp_path):
    gpd.GeoDataFrame({"id": list(BOXES)}, geometry=[shapely.box(*b) for b in BOXES.values()],
                     crs="EPSG:4326").to_file(tmp_path / "d.geojson")
    (tmp_path / "c.csv").write_text("name,lat,lon,cap\nwest,0,0,1\nhub,0,0.03,5\n",
                                    encoding="utf-8")
    (tmp_path / "p.csv").write_text("name,lat,lon,req\np1,0,0.01,3\np2,0,0.04,2\np3,0,0.5,4\n",
                                    encoding="utf-8")
    res = runner.invoke(cli, ["coverage", str(tmp_path / "d.geojson"), str(tmp_path / "c.csv"),
                              "--id-col", "id", "--roads", TINY, "--travel-minutes", "6",
                              "--capacity-col", "cap", "--demand", str(tmp_path / "p.csv"),
                              "--demand-weight-col", "req", "--format", "json", "-q"])
    assert res.exit_code == 0, res.output
    c = json.loads(res.stdout)["capacity"]
    assert (c["demand"], c["served"], c["unserved"], c["unserved_in_reach"]) == (9, 3, 6, 2)
    assert c["model"]["cost_unit"] == "min" and c["model"]["rule"]["kind"] == "travel"
    assert [(x["name"], x["load"]) for x in c["centres"]] == [("west", 1), ("hub", 2)]
    assert c["total_cost"] == pytest.approx(1 * L_KM / 60 * 60 + 2 * L_KM / 100 * 60,
                                            rel=1e-9)
    districts = {d["district"]: (d["demand"], d["served"]) for d in c["districts"]}
    assert districts == {"A": (3, 1), "B": (2, 2), "C": (4, 0)}
