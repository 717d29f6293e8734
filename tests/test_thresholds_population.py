"""A population raster at several thresholds: people covered per threshold, people by band and
people-weighted equity, against one CLI run per threshold (the single-threshold path decides
cells row by row, an independent algorithm) and PySAL ``inequality``.

Data: tests/fixtures/worldpop (WorldPop, CC BY 4.0: see its README), the real outline cut at
3.45 S into two districts in groups A and B; three centres as in tests/test_population.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from reachplan.cli.main import cli

pytest.importorskip("rasterio")
pytest.importorskip("exactextract")
from inequality.gini import Gini  # noqa: E402
from inequality.theil import Theil  # noqa: E402

WORLDPOP = Path(__file__).parent / "fixtures" / "worldpop"
BURUNDI = str(WORLDPOP / "burundi_west.tif")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pop")
    outline = gpd.read_file(WORLDPOP / "burundi_west.geojson").geometry.iloc[0]
    halves = [outline.intersection(shapely.box(29.0, -3.45, 30.0, -3.0)),
              outline.intersection(shapely.box(29.0, -4.0, 30.0, -3.45))]
    gpd.GeoDataFrame({"id": ["N", "S"], "grp": ["A", "B"]}, geometry=halves,
                     crs="EPSG:4326").to_file(folder / "d.geojson")
    (folder / "c.csv").write_text("name,lat,lon\nBujumbura,-3.38,29.36\nMuramvya,-3.27,29.61\n"
                                  "Kabezi,-3.53,29.36\n", encoding="utf-8")
    return [str(folder / "d.geojson"), str(folder / "c.csv"), "--id-col", "id",
            "--group-col", "grp", "--population", BURUNDI]


def run_json(runner, args):
    res = runner.invoke(cli, ["coverage", *args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.mark.parametrize("k", [1, 2])
def test_people_at_several_radii_equal_separate_runs(runner, inputs, k):
    args = [*inputs, "--min-centers", str(k)]
    several = run_json(runner, [*args, "--radius-km", "5,10,20"])
    block = several["population"]
    within = []
    for step in block["thresholds"]:
        km = f"{step['threshold']:g}"
        one = run_json(runner, [*args, "--radius-km", km])
        assert step["population_covered"] == one["population"]["population_covered"], km
        assert step["percent"] == one["population"]["percent"], km
        for a, b in zip(several["districts"], one["districts"], strict=True):
            assert a[f"population_covered_{km}km"] == b["population_covered"], km
            assert a[f"population_percent_{km}km"] == b["population_percent"], km
        within.append(one["population"]["population_covered"])
    # people by band: the differences of the separate runs, and the rest beyond 20 km
    bands = [b["population"] for b in block["equity"]["bands"]]
    total = block["population"]
    assert bands == [within[0], within[1] - within[0], within[2] - within[1],
                     total - within[2]]
    assert [g["group"] for g in block["equity"]["groups"]] == ["A", "B"]
    assert block["population_covered"] == within[-1]  # the headline: the largest


def test_people_weighted_equity_equals_pysal(runner, inputs):
    data = run_json(runner, [*inputs, "--radius-km", "5,10,20"])
    rows = data["districts"]
    people = np.array([r["population_cells"] for r in rows])
    assert np.array_equal(people, people.round())  # whole people: repeat each district's %
    for i, km in enumerate(("5", "10", "20")):
        share = np.array([100.0 * r[f"population_covered_{km}km"] / r["population_cells"]
                          for r in rows])
        repeated = np.repeat(share, people.astype(int))
        got = data["population"]["equity"]["inequality"]["covered"][i]
        assert got["gini"] == pytest.approx(Gini(repeated).g, abs=1e-6)
        assert got["theil"] == pytest.approx(Theil(repeated).T, abs=1e-6)


def test_one_radius_keeps_the_population_block(runner, inputs):
    data = run_json(runner, [*inputs, "--radius-km", "10"])
    assert "thresholds" not in data["population"] and "equity" not in data["population"]
    assert not any(k.startswith("population_covered_") for k in data["districts"][0])


def test_people_at_several_travel_times_equal_separate_runs(tmp_path):
    """tests/fixtures/roads/tiny.osm under a 40 x 3 raster of 0.002-degree cells (as in
    tests/test_population.py): the people within 1, 2 and 3 minutes of one search equal three
    single-threshold searches."""
    import pandas as pd
    import rasterio
    from rasterio.transform import Affine

    from reachplan.demand.population import population_coverage
    from reachplan.roads import TravelRule

    path = tmp_path / "tiny.tif"
    with rasterio.open(path, "w", driver="GTiff", width=40, height=3, count=1, dtype="float32",
                       crs="EPSG:4326", transform=Affine(0.002, 0.0, -0.004, 0.0, -0.002, 0.003),
                       nodata=-1.0) as dst:
        dst.write(np.arange(1, 121, dtype="float32").reshape(1, 3, 40))
    rule = TravelRule.from_roads(Path(__file__).parent / "fixtures" / "roads" / "tiny.osm",
                                 [1, 2, 3], cache_dir=False)
    centre = pd.DataFrame({"lat": [0.0], "lon": [0.0]})
    several = population_coverage(centre, path, rule).summary
    within = [population_coverage(centre, path, rule.with_minutes(t)).summary[
        "population_covered"] for t in (1, 2, 3)]
    assert [s["population_covered"] for s in several["thresholds"]] == within
    assert within[0] < within[1] < within[2] < 7260.0  # each band holds people
    bands = [b["population"] for b in several["equity"]["bands"]]
    assert bands == [within[0], within[1] - within[0], within[2] - within[1], 7260 - within[2]]


def test_dask_and_any_windows_give_the_same_thresholds(inputs):
    pytest.importorskip("dask.distributed")
    from reachplan.demand.population import population_coverage
    from reachplan.io import read_boundaries, read_points
    from reachplan.rules import Rule

    districts = read_boundaries(inputs[0], id_col="id", group_col="grp")
    centres = read_points(inputs[1])
    rule = Rule.radius([5, 10, 20], min_centers=2)
    whole = population_coverage(centres, BURUNDI, rule, districts=districts)
    small = population_coverage(centres, BURUNDI, rule, districts=districts, window_cells=500)
    dask = population_coverage(centres, BURUNDI, rule, districts=districts, window_cells=500,
                               engine="dask")
    assert whole.summary == small.summary == dask.summary
    assert whole.by_district.equals(dask.by_district)
