"""``reachplan isochrones``: service areas per centre and band, on the road fixtures.

tiny.osm (see tests/fixtures/roads/README.md): vertices on the equator 0.01 degree apart, so a
segment is L = 1113.1949 m; 1 -> 2 is primary (60 km/h, 1 km a minute), 2 -> 3 primary one-way,
3 -> 4 only 4 -> 3. From a centre on vertex 1 a car reaches, in 1 minute, the first 1000 m of
1 -> 2; in 3 minutes 1 -> 2 -> 3 (2L = 2226.39 m, 2.23 min), and no further (3 -> 4 is one-way
the other way). With the 50 m buffer a straight line of length s becomes s x 100 m plus two
half-discs: shapely draws a disc as a 32-gon, area 16 r^2 sin(2 pi / 32).
"""

from __future__ import annotations

import io
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from reachplan.cli.main import cli

TINY = "tests/fixtures/roads/tiny.osm"
HELSINKI = "tests/fixtures/roads/helsinki.osm.pbf"
L_M = 6378137.0 * math.radians(0.01)
DISC_M2 = 16 * 50.0**2 * math.sin(2 * math.pi / 32)


def buffered_line_km2(length_m: float) -> float:
    return (length_m * 100.0 + DISC_M2) / 1e6


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REACHPLAN_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def centres(tmp_path):
    path = tmp_path / "centres.csv"
    path.write_text("name,lat,lon\nclinic,0,0\nfar away,0.3,0.3\n", encoding="utf-8")
    return str(path)


def test_areas_are_the_roads_reached_in_time(runner, centres):
    res = runner.invoke(cli, ["isochrones", TINY, centres, "--minutes", "3,1", "-o", "-"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(io.StringIO(res.stdout))
    assert table[["center", "minutes", "off_network"]].values.tolist() == [
        ["clinic", 1.0, False], ["clinic", 3.0, False],
        ["far away", 1.0, True], ["far away", 3.0, True]]
    assert table["area_km2"].tolist() == pytest.approx(
        [buffered_line_km2(1000.0), buffered_line_km2(2 * L_M), 0.0, 0.0], rel=1e-4)
    assert "1 of 2 centres are more than 2 km from every road" in res.stderr


def test_polygons_in_a_geopackage(runner, centres, tmp_path):
    out = tmp_path / "catchments.gpkg"
    res = runner.invoke(cli, ["isochrones", TINY, centres, "--minutes", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    areas = gpd.read_file(out)
    assert areas.crs.equals("EPSG:4326") and list(areas["minutes"]) == [1.0, 1.0]
    west, south, east, north = areas.geometry.iloc[0].bounds
    # 1000 m of road and 50 m of buffer east of vertex 1 (111319.49 m a degree here)
    assert east == pytest.approx(1050.0 / (L_M * 100), rel=1e-4)
    assert west == pytest.approx(-50.0 / (L_M * 100), rel=1e-4)
    assert areas.geometry.iloc[1].is_empty
    # the same inputs give the same bytes
    (tmp_path / "again").mkdir()
    again = tmp_path / "again" / "catchments.gpkg"
    runner.invoke(cli, ["isochrones", TINY, centres, "--minutes", "1", "-o", str(again)])
    assert again.read_bytes() == out.read_bytes()


def test_walkers_use_the_footway_and_are_slower(runner, tmp_path):
    # a walker at vertex 7 (0.06, 0) reaches the footway to 11 that cars may not use:
    # 5 km/h is 83.33 m a minute, so 10 minutes reach 833.3 m both ways along the equator
    path = tmp_path / "c.csv"
    path.write_text("name,lat,lon\nhere,0,0.06\n", encoding="utf-8")
    res = runner.invoke(cli, ["isochrones", TINY, str(path), "--minutes", "10",
                              "--profile", "walk", "-o", "-"])
    assert res.exit_code == 0, res.output
    area = pd.read_csv(io.StringIO(res.stdout))["area_km2"].iloc[0]
    assert area == pytest.approx(buffered_line_km2(2 * 5000 / 60 * 10), rel=1e-4)


def test_helsinki_areas_hold_every_vertex_networkx_reaches(runner, tmp_path):
    """Independent check: every road vertex that networkx (on a graph built separately from
    the same file, test_roads_osm.reference_minutes) reaches within T lies in the T area;
    the bands nest."""
    from test_roads_osm import reference_minutes

    centre = (24.9384, 60.1699)  # central Helsinki
    path = tmp_path / "c.csv"
    path.write_text(f"name,lat,lon\ncentre,{centre[1]},{centre[0]}\n", encoding="utf-8")
    out = tmp_path / "h.geojson"
    res = runner.invoke(cli, ["isochrones", HELSINKI, str(path), "--minutes", "2,4",
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    areas = gpd.read_file(out)
    two, four = areas.geometry.iloc[0], areas.geometry.iloc[1]
    assert 0 < two.area < four.area
    assert four.buffer(1e-9).contains(two)
    minutes, _ = reference_minutes("car", [centre])
    for band, shape in ((2.0, two), (4.0, four)):
        keys = [k for k, m in minutes.items() if m <= band]
        assert len(keys) > 10
        xy = np.array(keys, dtype=float) / 1e7
        assert shapely.contains_xy(shape.buffer(1e-7), xy[:, 0], xy[:, 1]).all()


@pytest.mark.parametrize(("args", "flag"), [
    (["--minutes", "15,abc"], "--minutes"),
    (["--minutes", "0,30"], "--minutes"),
    (["--minutes", "nan"], "--minutes"),
    (["--buffer-m", "0"], "--buffer-m"),
    (["--profile", "bicycle"], "--profile"),
])
def test_bad_options_are_one_line_exit_2(runner, centres, tmp_path, args, flag):
    out = tmp_path / "out.gpkg"
    res = runner.invoke(cli, ["isochrones", TINY, centres, *args, "-o", str(out)])
    assert res.exit_code == 2 and flag in res.stderr, res.output
    assert len(res.stderr.strip().splitlines()) == 1 and not out.exists()


def test_bad_files_are_one_line_exit_2(runner, centres, tmp_path):
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"this is not OSM")
    out = tmp_path / "out.gpkg"
    far = tmp_path / "far.csv"
    far.write_text("name,lat,lon\nx,1.5,1.5\n", encoding="utf-8")
    for args, named in (([str(junk), centres, "-o", str(out)],
                         "junk.osm.pbf: not a readable OSM file"),
                        ([str(tmp_path / "none.osm"), centres, "-o", str(out)],
                         "none.osm: no such roads file"),
                        ([TINY, str(far), "-o", str(out)], "all 1 centres are more than 2 km"),
                        ([TINY, centres, "-o", str(tmp_path / "x.shp")], "-o")):
        res = runner.invoke(cli, ["isochrones", *args])
        assert res.exit_code == 2 and named in res.stderr, res.output
        assert len(res.stderr.strip().splitlines()) == 1 and not out.exists()
    out.write_text("keep me")
    res = runner.invoke(cli, ["isochrones", TINY, centres, "-o", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.stderr
    assert out.read_text() == "keep me"


@pytest.fixture
def districts(tmp_path):
    """A: vertices 1 and 2; B: vertices 3..7 (see tests/test_roads.py)."""
    path = tmp_path / "d.geojson"
    gpd.GeoDataFrame({"id": ["A", "B"]},
                     geometry=[shapely.box(-0.001, -0.001, 0.015, 0.001),
                               shapely.box(0.015, -0.001, 0.065, 0.001)],
                     crs="EPSG:4326").to_file(path)
    return str(path)


def test_map_draws_one_layer_per_band(runner, districts, tmp_path):
    centres = tmp_path / "c.csv"
    centres.write_text('name,lat,lon\n<b>clinic</b>,0,0\n', encoding="utf-8")
    base = ["map", districts, str(centres), "--roads", TINY, "--travel-minutes", "3"]
    out = tmp_path / "map.html"
    res = runner.invoke(cli, [*base, "--isochrones", "3,1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "Within 1 min by road (1)" in page and "Within 3 min by road (1)" in page
    # the longest band is drawn first, so the shortest lies on top
    assert page.index("Within 3 min by road") < page.index("Within 1 min by road")
    # escaped (and folium writes & as \u0026 in its JSON)
    assert "\\u0026lt;b\\u0026gt;clinic\\u0026lt;/b\\u0026gt;: within 1 min by road" in page
    assert "<b>clinic" not in page
    again = tmp_path / "again.html"
    runner.invoke(cli, [*base, "--isochrones", "3,1", "-o", str(again)])
    assert again.read_bytes() == out.read_bytes()
    without = tmp_path / "without.html"
    runner.invoke(cli, [*base, "-o", str(without)])
    assert "Within 3 min by road (1)" not in without.read_text(encoding="utf-8")


def test_map_isochrones_need_the_roads(runner, districts, centres, tmp_path):
    out = tmp_path / "map.html"
    res = runner.invoke(cli, ["map", districts, centres, "--isochrones", "15", "-o", str(out)])
    assert res.exit_code == 2 and "--isochrones needs --roads" in res.stderr
    res = runner.invoke(cli, ["map", districts, centres, "--roads", TINY, "--travel-minutes",
                              "3", "--isochrones", "15,-1", "-o", str(out)])
    assert res.exit_code == 2 and "--isochrones" in res.stderr and not out.exists()
