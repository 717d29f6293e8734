"""Reading inputs: formats, CRS, identity, and every user mistake as one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from reachplan.cli.main import cli
from reachplan.errors import InputError
from reachplan.io import as_points, read_boundaries, read_points


def write_geojson(path, features, crs=True):
    data = {"type": "FeatureCollection", "features": features}
    if not crs:
        data.pop("crs", None)
    path.write_text(json.dumps(data))
    return str(path)


def square(props, x=0, y=0, z=False):
    ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
    if z:
        ring = [[*c, 0] for c in ring]
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def run_error(runner, args, *fragments):
    res = runner.invoke(cli, args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    message = res.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---------------------------------------------------------------- boundaries
def test_ids_kept_as_text_and_first_unique_column(tmp_path):
    path = write_geojson(tmp_path / "b.geojson", [square({"kind": "x", "code": "007"}),
                                                  square({"kind": "x", "code": "010"}, x=1)])
    frame = read_boundaries(path)
    assert frame["id"].tolist() == ["007", "010"]  # 'kind' is not unique, 'code' is


def test_integer_ids_have_no_decimal_point(tmp_path):
    path = write_geojson(tmp_path / "b.geojson", [square({"n": 1}), square({"n": 2}, x=1)])
    assert read_boundaries(path, id_col="n")["id"].tolist() == ["1", "2"]


def test_row_number_when_no_unique_column(tmp_path):
    path = write_geojson(tmp_path / "b.geojson", [square({"k": "a"}), square({"k": "a"}, x=1)])
    assert read_boundaries(path)["id"].tolist() == ["1", "2"]


def test_duplicate_ids_merged_with_warning(tmp_path):
    path = write_geojson(tmp_path / "b.geojson", [
        square({"id": "A", "pop": 5}), square({"id": "A", "pop": 5}, x=1),
        square({"id": "B", "pop": 7}, x=2)])
    frame = read_boundaries(path, id_col="id", weight_col="pop")
    assert frame["id"].tolist() == ["A", "B"]
    assert frame.loc[0, "weight"] == 5  # the same weight on both parts counts once
    assert frame.geometry.iloc[0].area == pytest.approx(2.0)
    assert any("'A' (features 1, 2)" in w for w in frame.attrs["warnings"])


def test_rows_without_id_reported(tmp_path):
    path = write_geojson(tmp_path / "b.geojson", [square({"id": "A"}), square({"id": None}, x=1)])
    frame = read_boundaries(path, id_col="id")
    assert frame["id"].tolist() == ["A"]
    assert any("skipped 1 feature(s) with no id (feature 2)" in w for w in frame.attrs["warnings"])


def test_invalid_polygon_repaired_and_counted(tmp_path):
    bowtie = {"type": "Feature", "properties": {"id": "X"},
              "geometry": {"type": "Polygon",
                           "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}
    frame = read_boundaries(write_geojson(tmp_path / "b.geojson", [bowtie]))
    assert frame.geometry.is_valid.all() and frame.geometry.iloc[0].area == pytest.approx(0.5)
    assert any("repaired 1 invalid polygon" in w for w in frame.attrs["warnings"])


def test_z_dropped(tmp_path):
    frame = read_boundaries(write_geojson(tmp_path / "b.geojson", [square({"id": "A"}, z=True)]))
    assert not frame.geometry.has_z.any()


def test_reprojected_to_wgs84(tmp_path):
    metric = gpd.GeoDataFrame({"id": ["A"]}, geometry=[shapely.box(0, 0, 100_000, 100_000)],
                              crs="EPSG:3857")
    path = tmp_path / "m.gpkg"
    metric.to_file(path)
    frame = read_boundaries(path)
    assert frame.crs.to_epsg() == 4326
    assert frame.total_bounds[2] == pytest.approx(0.8983, abs=1e-3)  # 100 km at the equator


def test_missing_crs_needs_option(runner, tmp_path, grid):
    frame = gpd.GeoDataFrame({"id": ["A"]}, geometry=[shapely.box(0, 0, 1, 1)])
    path = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        frame.to_file(path)
    run_error(runner, ["coverage", str(path), grid[1]], "nocrs.shp: has no CRS",
              "--boundaries-crs")
    res = runner.invoke(cli, ["coverage", str(path), grid[1], "--boundaries-crs", "EPSG:4326"])
    assert res.exit_code == 0, res.output


def test_gpkg_with_two_layers_needs_layer(runner, tmp_path, grid):
    path = tmp_path / "two.gpkg"
    for name in ("districts", "states"):
        gpd.read_file(grid[0]).to_file(path, layer=name)
    run_error(runner, ["coverage", str(path), grid[1]], "has 2 layers", "--layer")
    res = runner.invoke(cli, ["coverage", str(path), grid[1], "--layer", "districts"])
    assert res.exit_code == 0 and "7 of 9" in res.stdout


@pytest.mark.parametrize(("content", "fragment"), [
    ("", "cannot read boundaries"),
    ("this is not geojson", "cannot read boundaries"),
])
def test_unreadable_boundaries(runner, tmp_path, grid, content, fragment):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    run_error(runner, ["coverage", str(path), grid[1]], "bad.geojson", fragment)


def test_unknown_format(runner, tmp_path, grid):
    path = tmp_path / "districts.docx"
    path.write_bytes(b"PK\x03\x04 not a vector file")
    run_error(runner, ["coverage", str(path), grid[1]], "districts.docx", "GeoPackage")


def test_no_polygons(runner, tmp_path, grid):
    path = tmp_path / "points.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point",
                                                           "coordinates": [0, 0]}}]}))
    run_error(runner, ["coverage", str(path), grid[1]], "points.geojson: has no polygons")


def test_empty_layer(runner, tmp_path, grid):
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    run_error(runner, ["coverage", str(path), grid[1]], "empty.geojson", "no features")


def test_unknown_id_col(runner, grid):
    run_error(runner, ["coverage", *grid, "--id-col", "nope"], "no column 'nope'", "--id-col",
              "code")


def test_non_numeric_weight(runner, tmp_path, grid):
    path = write_geojson(tmp_path / "b.geojson", [square({"id": "A", "pop": "many"})])
    run_error(runner, ["coverage", path, grid[1], "--weight-col", "pop"],
              "feature 1: weight 'many'", "'pop'")


def test_negative_radius(runner, grid):
    run_error(runner, ["coverage", *grid, "--radius-km", "-5"], "--radius-km", "negative")


def test_missing_file(runner, grid):
    run_error(runner, ["coverage", "nowhere.gpkg", grid[1]], "nowhere.gpkg: file not found")


# ---------------------------------------------------------------- centres
def test_bad_rows_skipped_by_line(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("name,lat,lon\nok,1,1\nno lat,,1\nword,abc,1\nfar,95,1\nok2,2,2\n")
    frame = read_points(path)
    assert frame["name"].tolist() == ["ok", "ok2"]
    assert frame.attrs["skipped"] == [3, 4, 5]
    assert "(line 3, 4, 5)" in frame.attrs["warnings"][0]


def test_strict_rejects(runner, tmp_path, grid):
    path = tmp_path / "c.csv"
    path.write_text("name,lat,lon\nok,1,1\nword,abc,1\n")
    run_error(runner, ["coverage", grid[0], str(path), "--strict"], "c.csv: line 3",
              "lat='abc'")


def test_bom_semicolons_and_column_case(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("\ufeffName;Latitude;LNG;code\nA;1,5;2;007\n".replace("1,5", "1.5")
                     .encode("utf-8"))
    frame = read_points(path)
    assert frame[["name", "lat", "lon", "code"]].values.tolist() == [["A", 1.5, 2.0, "007"]]


def test_not_utf8(runner, tmp_path, grid):
    path = tmp_path / "c.csv"
    path.write_bytes("name,lat,lon\nMünchen,1,1\n".encode("latin-1"))
    run_error(runner, ["coverage", grid[0], str(path)], "c.csv", "UTF-8")


def test_no_coordinate_columns(runner, tmp_path, grid):
    path = tmp_path / "c.csv"
    path.write_text("name,north,east\nA,1,1\n")
    run_error(runner, ["coverage", grid[0], str(path)], "c.csv: no latitude column",
              "--lat-col", "north")
    res = runner.invoke(cli, ["coverage", grid[0], str(path), "--lat-col", "north",
                              "--lon-col", "east"])
    assert res.exit_code == 0


def test_empty_centres(runner, tmp_path, grid):
    path = tmp_path / "c.csv"
    path.write_text("")
    run_error(runner, ["coverage", grid[0], str(path)], "c.csv: is empty")
    path.write_text("name,lat,lon\n")
    run_error(runner, ["coverage", grid[0], str(path)], "c.csv: has a header but no rows")


def test_swapped_columns_named(runner, tmp_path):
    # a district where India is; centres written as (lat=lon, lon=lat): all land outside it,
    # but swapped back they fall inside, so the error says so
    districts = write_geojson(tmp_path / "b.geojson", [
        {"type": "Feature", "properties": {"id": "IN"}, "geometry": {"type": "Polygon",
         "coordinates": [[[70, 10], [90, 10], [90, 30], [70, 30], [70, 10]]]}}])
    path = tmp_path / "c.csv"
    path.write_text("name,lat,lon\nA,77.2,28.6\nB,72.8,19.0\nC,88.3,22.5\n")
    run_error(runner, ["coverage", districts, str(path)], "c.csv", "look swapped")


def test_swapped_out_of_range_named(runner, tmp_path, grid):
    path = tmp_path / "c.csv"
    path.write_text("name,lat,lon\nA,151.2,-33.9\nB,144.9,-37.8\nC,115.9,-31.9\n")
    run_error(runner, ["coverage", grid[0], str(path)], "look swapped", "--lat-col lon")


def test_xlsx_centres(tmp_path, grid):
    path = tmp_path / "c.xlsx"
    pd.DataFrame({"Name": ["A"], "Lat": [0.5], "Lon": [0.5], "code": ["007"]}).to_excel(
        path, index=False)
    frame = read_points(path)
    assert frame[["name", "lat", "lon", "code"]].values.tolist() == [["A", 0.5, 0.5, "007"]]


def test_point_layer_centres(tmp_path):
    layer = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.Point(111_319.49, 0)],
                             crs="EPSG:3857")
    path = tmp_path / "c.gpkg"
    layer.to_file(path)
    frame = read_points(path)
    assert frame["lon"].iloc[0] == pytest.approx(1.0, abs=1e-6)


def test_point_layer_text_with_no_value_stays_none():
    # a str column is taken as text as it is, unless no row has a value
    layer = gpd.GeoDataFrame({"note": pd.Series([None, None], dtype="str"),
                              "code": pd.Series(["007", None], dtype="str")},
                             geometry=[shapely.Point(1, 2), shapely.Point(3, 4)],
                             crs="EPSG:4326")
    frame = as_points(layer)
    assert frame["note"].tolist() == [None, None]
    assert frame["code"].iloc[0] == "007" and pd.isna(frame["code"].iloc[1])


def test_where_unknown_column(runner, grid):
    run_error(runner, ["coverage", *grid, "--where", "colour=red"], "no column 'colour'",
              "--where")


def test_where_malformed(runner, grid):
    run_error(runner, ["coverage", *grid, "--where", "type"], "--where type:", "column=value")


def test_unknown_type_col(runner, grid):
    run_error(runner, ["coverage", *grid, "--type-col", "kind"], "no column 'kind'",
              "--type-col")


def test_inputs_not_modified(runner, grid):
    before = [Path(p).read_bytes() for p in grid]
    runner.invoke(cli, ["coverage", *grid])
    assert [Path(p).read_bytes() for p in grid] == before


def test_input_error_is_value_error():
    assert issubclass(InputError, ValueError)


@pytest.mark.parametrize(("name", "driver"), [("b.fgb", "FlatGeobuf"), ("b.shp", None),
                                              ("b.parquet", "parquet")])
def test_other_boundary_formats(tmp_path, grid, name, driver):
    frame = gpd.read_file(grid[0])
    path = tmp_path / name
    if driver == "parquet":
        frame.to_parquet(path)
    else:
        frame.to_file(path, driver=driver)
    got = read_boundaries(path, id_col="code")
    assert got["id"].tolist() == [f"{i:03d}" for i in range(1, 10)]


def test_centres_from_a_multi_layer_geopackage(runner, tmp_path, grid):
    path = tmp_path / "centres.gpkg"
    for name, lon in (("direct", 0.5), ("vans", 2.5)):
        gpd.GeoDataFrame({"name": [name]}, geometry=[shapely.Point(lon, 0.5)],
                         crs="EPSG:4326").to_file(path, layer=name)
    run_error(runner, ["coverage", grid[0], str(path)], "centres.gpkg: has 2 layers",
              "--centers-layer")
    res = runner.invoke(cli, ["coverage", grid[0], str(path), "--centers-layer", "vans",
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    covered = [d["id"] for d in json.loads(res.stdout)["districts"] if d["covered"]]
    assert covered == ["003"]  # (2.5, 0.5) is inside 003


def test_decimal_commas_with_semicolons(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("name;lat;lon\nMünchen;48,137;11,575\nBad;abc;1\n", encoding="utf-8")
    frame = read_points(path)
    assert frame[["name", "lat", "lon"]].values.tolist() == [["München", 48.137, 11.575]]
    assert frame.attrs["skipped"] == [3]


# ---------------------------------------------------------------- the library's parameters
# The readers name their Python parameters (tests above and in test_hostile.py); each command
# names its own option for it, which differs per input (centres' crs is --centers-crs).
MARS = "IAU_2015:49900"  # Mars (2015) geographic


def test_a_crs_parameter_is_each_inputs_own_option(runner, tmp_path, grid):
    box, point = shapely.box(0, 0, 1, 1), shapely.Point(0.5, 0.5)
    mars_b, mars_c = tmp_path / "mars.shp", tmp_path / "rover.shp"
    gpd.GeoDataFrame({"id": ["a"]}, geometry=[box], crs=MARS).to_file(mars_b)
    gpd.GeoDataFrame({"id": ["c"]}, geometry=[point], crs=MARS).to_file(mars_c)
    with pytest.raises(InputError, match="give an Earth CRS with crs$") as err:
        read_boundaries(mars_b)
    assert err.value.params == ("crs",)
    run_error(runner, ["coverage", str(mars_b), grid[1]], "mars.shp: its CRS",
              "give an Earth CRS with --boundaries-crs")
    run_error(runner, ["coverage", grid[0], str(mars_c)], "rover.shp: its CRS",
              "give an Earth CRS with --centers-crs")


def test_strict_and_where_name_the_flags(runner, tmp_path, grid):
    folder = tmp_path / "where"  # a path holding a parameter's name stays as it is
    folder.mkdir()
    path = folder / "strict.csv"
    path.write_text("name,lat,lon\nA,0.5,0.5\nB,,\n")
    with pytest.raises(InputError, match="line 3 has no usable coordinates.*drop strict=True"):
        read_points(path, strict=True)
    message = run_error(runner, ["coverage", grid[0], str(path), "--strict"],
                        "drop --strict to skip such rows")
    assert f"{path}: line 3" in message
    run_error(runner, ["coverage", grid[0], str(path), "--where", "colour=red"],
              f"{path}: no column 'colour' (given by --where)")
    run_error(runner, ["coverage", grid[0], str(path), "--where", "name=Z"],
              f"{path}: no row matches --where name=Z;")
