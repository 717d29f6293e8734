"""`reachplan demo` and the embedded-data aliases, end to end."""

from __future__ import annotations

import csv
import json
import re

from _docs import page

from reachplan.cli.main import cli
from reachplan.datasets import dataset_path


def test_demo_writes_summary_gaps_and_more(runner, tmp_path):
    out = tmp_path / "demo"
    res = runner.invoke(cli, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    # 710 of 777 is documented in data/README.md and checked independently (plain sjoin) in
    # tests/test_data.py
    assert "Districts covered: 710 of 777 (91.38%)" in res.stdout
    _capacity_figures_agree(res.stdout)
    # the week (synthetic hours, issue 23): every centre is closed at midnight (the latest
    # close is premium's 23:00), so the worst hour is Monday 00:00 with nothing covered
    assert ("Worst hour:\n  Mo 00:00 (2027-01-25 00:00): 0 of 777 districts (0.00 %), "
            "0 centre(s) open") in res.stdout
    data = json.loads((out / "coverage.json").read_text())
    assert data["summary"]["covered"] == 710
    with open(out / "gaps.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 777 - 710
    weights = [float(r["weight"]) for r in rows]
    assert weights == sorted(weights, reverse=True)
    # fewest sites to 95% of districts: ceil(0.95 x 777) = 739 districts, 29 more than 710,
    # and a PIN-code site covers the one district it lies in
    plan = json.loads((out / "plan.json").read_text())
    assert len(plan["sites"]) == 29 and plan["after"]["covered"] == 739
    assert plan["target_reached"] is True
    html = (out / "coverage.html").read_text()
    assert "leaflet" in html.lower() and len(html) < 1_500_000
    offline = (out / "coverage-offline.html").read_text()
    # no script or stylesheet from a CDN (the browser tests block the network to prove it)
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']https?:""", offline)
    assert (out / "coverage.png").read_bytes().startswith(b"\x89PNG")
    # the curve: each radius of the one search equals a run at that radius alone (the single
    # radius is checked against PostGIS in tests/test_postgis.py)
    assert (out / "coverage-curve.png").read_bytes().startswith(b"\x89PNG")
    for km in (10, 25, 50):
        alone = runner.invoke(cli, ["coverage", "@india", "@india-sample", "--radius-km",
                                    str(km), "--format", "json"])
        s = json.loads(alone.stdout)["summary"]
        assert re.search(rf"^{km} km +{s['covered']} of 777 +{s['percent']:.2f} ", res.stdout,
                         flags=re.M), km
    # the what-if planner opens offline: no script, stylesheet or tile from the network
    what_if = (out / "what-if.html").read_text(encoding="utf-8")
    assert "window.reachplan" in what_if and len(what_if) < 6_000_000
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']https?:""", what_if)
    # outputs name the inputs as typed (@india), never this machine's install folder
    local = str(dataset_path("india_districts").parent)
    for name in ("coverage.json", "plan.json", "coverage.html", "plan.html", "what-if.html"):
        assert local not in (out / name).read_text(encoding="utf-8"), name
    assert data["inputs"]["boundaries"] == "@india"
    # the demand guide's figures are the demo's
    guide = page("docs/guides/demand.md")
    block = re.search(r'```json\n("demand": \{.*?\})\n```', guide, flags=re.S)
    assert block is not None
    assert json.loads("{" + block.group(1) + "}")["demand"] == data["demand"]
    assert plan["candidates"]["source"] == "@india-pincodes"
    # a second run refuses to overwrite without --overwrite, and leaves the files alone
    before = (out / "gaps.csv").read_bytes()
    res = runner.invoke(cli, ["demo", "--out", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.stderr
    assert res.stdout == ""  # refused before any work
    assert (out / "gaps.csv").read_bytes() == before


def test_embedded_aliases(runner):
    res = runner.invoke(cli, ["coverage", "@india", "@india-post-ho", "--format", "json", "-q"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    summary = data["summary"]
    assert summary["districts"] == 777 and summary["weight_total"] == 1_210_664_673
    assert (data["inputs"]["boundaries"], data["inputs"]["centers"]) == ("@india",
                                                                         "@india-post-ho")


def test_messages_name_embedded_data_as_typed(runner):
    res = runner.invoke(cli, ["coverage", "@india", "@india-sample", "--lat-col", "nope"])
    assert res.exit_code == 2
    assert res.stderr.startswith("Error: @india-sample: no column 'nope' (given by --lat-col)")


def test_unknown_alias(runner):
    res = runner.invoke(cli, ["coverage", "@mars", "@india-sample"])
    assert res.exit_code == 2
    assert "boundaries '@mars': no such embedded dataset" in res.stderr


ROADS_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="17.69134" lon="83.00395"/>
  <node id="2" lat="17.70100" lon="83.00650"/>
  <node id="3" lat="17.71057" lon="83.00920"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/></way>
</osm>
"""


def test_demo_roads_refuses_an_extract_that_misses_india(runner, tmp_path, monkeypatch):
    """The bundled extract is Helsinki: no sample centre is on it, so the demo's travel
    section has nothing to say; it refuses before printing or writing anything."""
    monkeypatch.setenv("REACHPLAN_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "demo"
    res = runner.invoke(cli, ["demo", "--out", str(out), "--roads",
                              "tests/fixtures/roads/helsinki.osm.pbf"])
    assert res.exit_code == 2
    assert res.stderr.startswith("Error: --roads tests/fixtures/roads/helsinki.osm.pbf: all "
                                 "2,000 sample centres are more than 2 km from every road")
    assert "india-latest.osm.pbf" in res.stderr and len(res.stderr.splitlines()) == 1
    assert res.stdout == "" and not out.exists()


def test_demo_roads_on_a_small_extract_of_india(runner, tmp_path, monkeypatch):
    """A hand-made extract: one road through the sample centres SC0002 and SC0003
    (Anakapalle). Expected, independently: the centres within 2 km of its vertices (brute
    force geodesic) are on the network, the others off; no uncovered district lies within
    2 km of the road, so by road the districts covered are the presence figure, 710."""
    import numpy as np
    import shapely
    from _reference import GEOD, brute_distance

    from reachplan.cli.inputs import resolve_dataset
    from reachplan.io import read_boundaries, read_points

    monkeypatch.setenv("REACHPLAN_CACHE_DIR", str(tmp_path / "cache"))
    roads = tmp_path / "anakapalle.osm"
    roads.write_text(ROADS_OSM, encoding="utf-8")
    nodes = [(83.00395, 17.69134), (83.00650, 17.70100), (83.00920, 17.71057)]
    centres = read_points("@india-sample")
    near = np.zeros(len(centres), dtype=bool)
    for lon, lat in nodes:
        n = len(centres)
        near |= GEOD.inv(np.full(n, lon), np.full(n, lat), centres["lon"].to_numpy(),
                         centres["lat"].to_numpy())[2] <= 2000.0
    off = len(centres) - int(near.sum())
    path, columns = resolve_dataset("@india", "boundaries")
    districts = read_boundaries(path, **columns)
    presence = json.loads(runner.invoke(cli, ["coverage", "@india", "@india-sample",
                                              "--format", "json"]).stdout)
    uncovered = {d["id"] for d in presence["districts"] if not d["covered"]}
    assert len(uncovered) == 777 - 710
    road = shapely.box(83.00395, 17.69134, 83.00920, 17.71057).buffer(0.1)  # > 10 km round
    for geom in districts.loc[districts["id"].isin(uncovered), "geometry"]:
        if geom.intersects(road):
            assert min(brute_distance(geom, shapely.Point(p)) for p in nodes) > 2000.0

    out = tmp_path / "demo"
    res = runner.invoke(cli, ["demo", "--out", str(out), "--roads", str(roads),
                              "--travel-minutes", "30"])
    assert res.exit_code == 0, res.output
    section = res.stdout[res.stdout.index("== Sample network — at least 1 centre within 30 min "
                                          "by road (motorcycle, anakapalle.osm) =="):]
    assert "Districts covered: 710 of 777" in section
    assert (f"Centres off the network (more than 2 km from every road of anakapalle.osm): "
            f"{off:,} of 2,000") in section
    data = json.loads((out / "coverage-roads.json").read_text())
    assert data["rule"]["kind"] == "travel" and data["rule"]["minutes"] == 30.0
    assert data["summary"]["covered"] == 710
    assert all("nearest_min" in d for d in data["districts"])
    assert "leaflet" in (out / "coverage-roads.html").read_text().lower()


def _capacity_figures_agree(stdout: str) -> None:
    """The demo's capacity section (a model) against an independent computation: under the
    presence rule each district's demand can only go to the centres inside it, and the sample
    centres each lie in one district (tests/test_data.py), so the most that can be served is
    the sum over districts of min(demand, capacity inside) -- from a plain geopandas sjoin."""
    import geopandas as gpd
    import pandas as pd

    from reachplan.cli.demo import CAPACITY_PER_DAY, REQUESTS_PER_PERSON_DAY

    districts = gpd.read_file(dataset_path("india_districts"))
    centres = pd.read_csv(dataset_path("india_sample_centres"))
    points = gpd.GeoDataFrame(centres, geometry=gpd.points_from_xy(centres.lon, centres.lat),
                              crs="EPSG:4326")
    joined = gpd.sjoin(points, districts[["lgd_code", "geometry"]], predicate="within")
    capacity = joined["type"].map(CAPACITY_PER_DAY).groupby(joined["lgd_code"]).sum()
    demand = districts.set_index("lgd_code")["population_est"] * REQUESTS_PER_PERSON_DAY
    served = sum(min(d, capacity.get(code, 0.0)) for code, d in demand.items())
    found = re.search(r"served ([\d,]+) of ([\d,]+) \(", stdout)
    assert found, stdout
    got_served, got_demand = (float(g.replace(",", "")) for g in found.groups())
    assert got_demand == round(demand.sum())
    assert abs(got_served - served) <= 0.5
