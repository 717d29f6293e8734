"""A hostile-input corpus: odd but real files that once gave nonsense, hangs or tracebacks.

Each test builds a tiny input (or reads a tiny fixture) and asserts either the right answer,
worked out by hand, or a one-line InputError naming what is wrong.
"""

from __future__ import annotations

import json
import math
import re
import tracemalloc
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import reachplan
from reachplan.datasets import DATASETS
from reachplan.demand import demand_coverage
from reachplan.engine import Rule, assess
from reachplan.errors import InputError
from reachplan.io import read_boundaries, read_points, write_table
from reachplan.planning import plan

FIXTURES = Path(__file__).parent / "fixtures"


def _points(places: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    """Town name -> (lat, lon) as a WGS84 point frame."""
    lat = [p[0] for p in places.values()]
    lon = [p[1] for p in places.values()]
    return gpd.GeoDataFrame({"name": list(places)}, geometry=gpd.points_from_xy(lon, lat),
                            crs="EPSG:4326")


def _containing(districts: gpd.GeoDataFrame, places: dict[str, tuple[float, float]]
                ) -> dict[str, list[str]]:
    pts = _points(places)
    out: dict[str, list[str]] = {name: [] for name in places}
    for _, d in districts.iterrows():
        for name, p in zip(pts["name"], pts.geometry, strict=True):
            if d.geometry.covers(p):
                out[name].append(d["id"])
    return out


# --------------------------------------------------------------------------- antimeridian
@pytest.fixture(scope="module")
def stitched() -> tuple[gpd.GeoDataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_boundaries(FIXTURES / "antimeridian" / "stitched.geojson")
    assert not caught
    return frame, frame.attrs["warnings"]


def test_rings_across_the_antimeridian_are_split_not_wrapped_round_the_world(stitched):
    frame, _ = stitched
    where = _containing(frame, {
        "Reykjavik": (64.1466, -21.9426), "Bodo": (67.2804, 14.4049),
        "Tromso": (69.6496, 18.9560), "Hobart": (-42.8821, 147.3272),
        "Cape Town": (-33.9249, 18.4241),
    })
    assert where == {name: [] for name in where}


def test_places_on_either_side_of_180_stay_in_their_district(stitched):
    frame, _ = stitched
    where = _containing(frame, {
        "Anadyr": (64.7337, 177.5089),  # west of 180
        "Provideniya": (64.4235, -173.2258),  # east of 180
        "Lavrentiya": (65.5833, -171.0),
        "Labasa": (-16.4167, 179.3833),  # Vanua Levu, west of 180
        "Vanua Levu east of 180": (-16.3, -179.9),  # inside NE's part east of the line
        "South Pole": (-90.0, 0.0),
        "Vostok Station": (-78.4644, 106.8372),
        "Antarctic interior": (-80.0, -100.0),
    })
    assert where == {
        "Anadyr": ["RU-CHU"], "Provideniya": ["RU-CHU"], "Lavrentiya": ["RU-CHU"],
        "Labasa": ["FJ"], "Vanua Levu east of 180": ["FJ"],
        "South Pole": ["AQ"], "Vostok Station": ["AQ"], "Antarctic interior": ["AQ"],
    }


def test_split_districts_keep_their_size(stitched):
    frame, _ = stitched
    # Unsplit, Chukotka spans 359.9 degrees of longitude; split, its parts lie within
    # 170..180 E and 180..169.9 W.
    chuk = frame.set_index("id").geometry["RU-CHU"]
    west = [p for p in shapely.get_parts(chuk) if p.bounds[0] > 0]
    east = [p for p in shapely.get_parts(chuk) if p.bounds[2] < 0]
    assert west and east
    assert min(p.bounds[0] for p in west) == pytest.approx(170.0082)
    assert max(p.bounds[2] for p in east) == pytest.approx(-169.89958)
    for g in frame.geometry:
        assert g.is_valid


def test_one_warning_names_the_split_features(stitched):
    _, messages = stitched
    split = [m for m in messages if "antimeridian" in m]
    assert len(split) == 1
    assert "3 polygon(s)" in split[0] and "feature 1, 2, 3" in split[0]
    assert not any("make_valid" in m for m in messages)


def test_districts_touching_180_are_not_split_or_warned(tmp_path):
    path = tmp_path / "touch.geojson"
    gpd.GeoDataFrame({"id": ["w", "e"]}, geometry=[shapely.box(179, -17, 180, -16),
                                                   shapely.box(-180, -17, -179, -16)],
                     crs="EPSG:4326").to_file(path)
    frame = read_boundaries(path)
    assert frame.attrs["warnings"] == []
    assert [round(shapely.area(g), 9) for g in frame.geometry] == [1.0, 1.0]


# --------------------------------------------------------------------------- the Python API
GRID = FIXTURES / "grid"
R60 = Rule.radius(60)  # the grid README: 8 of 9 covered, gap 009


def _gaps(result) -> list[str]:
    return sorted(result.districts.loc[~result.districts["covered"], "id"])


def test_api_reprojects_frames_in_another_crs():
    districts = read_boundaries(GRID / "districts.geojson", id_col="code").to_crs("EPSG:3857")
    centres = read_points(GRID / "centres.csv").to_crs("EPSG:3857")
    result = assess(districts, centres, R60)
    assert _gaps(result) == ["009"]
    assert result.summary["covered"] == 8


def test_api_takes_a_plain_read_file_frame():
    raw = gpd.read_file(GRID / "districts.geojson")  # code, name, zone, pop: no id/group/weight
    centres = gpd.read_file(GRID / "centres.csv")  # no geometry: a table of text
    centres = gpd.GeoDataFrame(centres, geometry=gpd.points_from_xy(
        centres["longitude"].astype(float), centres["latitude"].astype(float)), crs=4326)
    result = assess(raw, centres, R60)
    assert _gaps(result) == ["009"]  # ids from 'code', the first unique column


def test_api_takes_a_pandas_table_of_centres():
    table = pd.read_csv(GRID / "centres.csv")
    result = assess(read_boundaries(GRID / "districts.geojson", id_col="code"), table, R60)
    assert _gaps(result) == ["009"]
    assert result.centers["name"].iloc[0] == "Inside 001"


@pytest.mark.parametrize(("districts", "centres", "words"), [
    ("table", "grid", ["districts", "pandas DataFrame", "read_boundaries"]),
    ("list", "grid", ["districts", "list", "read_boundaries"]),
    ("grid", "nocrs", ["centers", "no CRS", "set_crs"]),
    ("grid", "nocoords", ["centers", "no latitude column"]),
])
def test_api_says_what_to_pass(districts, centres, words):
    grid = read_boundaries(GRID / "districts.geojson")
    given = {
        "grid": grid, "table": pd.DataFrame(grid.drop(columns="geometry")), "list": [1, 2],
    }
    points = {
        "grid": read_points(GRID / "centres.csv"),
        "nocrs": gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.5], [0.5])),
        "nocoords": pd.DataFrame({"name": ["a"]}),
    }
    with pytest.raises(InputError) as err:
        assess(given[districts], points[centres], R60)
    for word in words:
        assert word in str(err.value)
    assert "\n" not in str(err.value)


def test_plan_checks_its_inputs_too():
    grid = read_boundaries(GRID / "districts.geojson", id_col="code")
    table = pd.read_csv(GRID / "centres.csv")
    report = plan(grid.to_crs("EPSG:3857"), table, R60, add=1)
    assert report["after"]["covered"] == 9
    with pytest.raises(InputError, match="candidates: got a dict"):
        plan(grid, table, R60, add=1, candidates={"lat": 1})


def test_demand_checks_its_districts_and_centres():
    grid = read_boundaries(GRID / "districts.geojson", id_col="code")
    table = pd.read_csv(GRID / "centres.csv")
    points = pd.DataFrame({"lat": [2.5, 0.5], "lon": [2.5, 0.5]})  # in 009 (gap) and 001
    res = demand_coverage(table, points, radius_km=60, districts=grid.to_crs("EPSG:3857"))
    assert res.summary["covered"] == 1
    with pytest.raises(InputError, match="centres: got a list"):
        demand_coverage(["C1"], points, radius_km=60)


def test_embedded_aliases_work_in_the_api():
    districts = read_boundaries("@india")
    assert len(districts) == DATASETS["india_districts"]["rows"]
    assert districts.attrs["source"] == "@india"
    assert districts.attrs["weight_col"] == "population_est"
    centres = read_points("@india-sample")
    assert len(centres) == DATASETS["india_sample_centres"]["rows"]
    with pytest.raises(InputError, match="'@nowhere': no such embedded dataset; use one of "
                                         "@india, "):
        read_boundaries("@nowhere")


def test_dir_shows_the_api():
    names = dir(reachplan)
    for name in reachplan.__all__:
        assert name in names


# --------------------------------------------------------------------------- messages
def _csv(tmp_path: Path, text: str, name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_two_columns_differing_only_in_case_are_an_error_naming_both(tmp_path):
    path = _csv(tmp_path, "name,lat,LAT,lon\na,1,50,2\n")
    with pytest.raises(InputError, match=r"columns 'lat' and 'LAT' could each be the 'lat' "
                                         r"column; choose one with lat_col"):
        read_points(path)
    assert read_points(path, lat_col="LAT")["lat"].tolist() == [50.0]
    assert read_points(path, lat_col="lat")["lat"].tolist() == [1.0]
    with pytest.raises(InputError, match="'lat' and 'LAT' all match 'Lat'"):
        read_points(path, lat_col="Lat")
    with pytest.raises(InputError, match="choose one with lat_col"):
        demand_coverage(read_points(_csv(tmp_path, "lat,lon\n1,2\n", "x.csv")), path,
                        radius_km=1)


# --------------------------------------------------------------------------- odd real input
MARS = "IAU_2015:49900"  # Mars (2015) geographic


def test_a_crs_of_another_planet_is_refused_in_one_line(tmp_path):
    box = shapely.box(0, 0, 1, 1)
    gpd.GeoDataFrame({"id": ["a"]}, geometry=[box], crs=MARS).to_file(tmp_path / "mars.shp")
    gpd.GeoDataFrame({"id": ["c"]}, geometry=[shapely.Point(0.5, 0.5)], crs=MARS).to_file(
        tmp_path / "rover.shp")
    with pytest.raises(InputError, match=r"mars.shp: its CRS '.*Mars.*' is not on Earth"):
        read_boundaries(tmp_path / "mars.shp")
    with pytest.raises(InputError, match=r"rover.shp: its CRS .* not on Earth.*with crs$"):
        read_points(tmp_path / "rover.shp")
    grid = read_boundaries(GRID / "districts.geojson")
    with pytest.raises(InputError, match=r"centers: its CRS .* not on Earth"):
        assess(grid, gpd.GeoDataFrame(geometry=[shapely.Point(0.5, 0.5)], crs=MARS))


def test_line_numbers_count_quoted_newlines_and_blank_lines(tmp_path):
    path = _csv(tmp_path, 'name,lat,lon\n"Two\nline name",1,2\n\n"ok",1,2\nbad,x,2\n')
    # line 1 header, 2-3 the two-line record, 4 blank, 5 ok, 6 bad
    frame = read_points(path)
    assert frame["line"].tolist() == [2, 5]
    assert frame["name"].tolist() == ["Two\nline name", "ok"]
    assert "(line 6)" in frame.attrs["warnings"][0]
    with pytest.raises(InputError, match=r"c.csv: line 6 has no usable coordinates"):
        read_points(path, strict=True)


def test_a_line_with_more_fields_than_the_header_is_named(tmp_path):
    path = _csv(tmp_path, 'name,lat,lon\n"a\nb",1,2\nc,1,2,3\n')
    with pytest.raises(InputError, match=r"c.csv: line 4 has 4 fields but the header has 3"):
        read_points(path)


def _multiline_demand(tmp_path: Path, rows: int, bad: int | None = None) -> tuple[Path, int]:
    """Demand CSV whose ids hold quoted newlines (three lines per record); row ``bad`` (0-based)
    has no latitude. Returns the path and the line on which row ``bad`` starts."""
    lines = ["id,lat,lon,people"]
    bad_line = 0
    for i in range(rows):
        lat = "" if i == bad else f"{(i % 100) / 1000:.3f}"
        if i == bad:
            bad_line = 2 + 3 * i
        lines.append(f'"pin {i}\nsecond line\nthird, with comma",{lat},0.0,{i % 7}')
    path = tmp_path / "demand.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, bad_line


def test_demand_csv_with_quoted_newlines_splits_at_record_boundaries(tmp_path):
    rows = 6000  # ~270 kB: several parts of at least 64 kB
    path, bad_line = _multiline_demand(tmp_path, rows, bad=4321)
    res = demand_coverage(pd.DataFrame({"lat": [0.0], "lon": [0.0]}), path, radius_km=1000,
                          weight_col="people", id_col="id", chunksize=500)
    assert res.summary["points"] == rows - 1
    assert res.summary["covered"] == rows - 1
    assert res.summary["weight_total"] == sum(i % 7 for i in range(rows)) - 4321 % 7
    assert f"(lines {bad_line})" in res.warnings[0]
    assert res.points["line"].tolist()[:3] == [2, 5, 8]
    assert res.points["id"].iloc[2] == "pin 2\nsecond line\nthird, with comma"
    assert res.points["line"].iloc[-1] == 2 + 3 * (rows - 1)


def test_demand_and_centres_read_the_same_bom_and_delimiter(tmp_path):
    text = "\ufeffid;lat;lon\n1;0,5;0,5\n"
    centres = read_points(_csv(tmp_path, text, "centres.csv"))
    res = demand_coverage(centres, _csv(tmp_path, text, "demand.csv"), radius_km=1)
    assert centres.columns[0] == "id" and res.points["id" if "id" in res.points else "line"].size
    assert res.summary["covered"] == 1


# --------------------------------------------------------------------------- memory bombs
def _xlsx(path: Path, rows: list[list], *, far: tuple[int, int, str] | None = None,
          dimension: str | None = None) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    if far:
        book.active.cell(row=far[0], column=far[1], value=far[2])
    book.save(path)
    if dimension:  # what a hostile writer declares: the whole sheet
        import zipfile

        with zipfile.ZipFile(path) as src:
            parts = {n: src.read(n) for n in src.namelist()}
        sheet = "xl/worksheets/sheet1.xml"
        parts[sheet] = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'
                              .encode(), parts[sheet])
        with zipfile.ZipFile(path, "w") as dst:
            for name, data in parts.items():
                dst.writestr(name, data)
    return path


def _peak_mb(fn):
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_xlsx_declaring_the_whole_sheet_reads_only_its_cells(tmp_path):
    path = _xlsx(tmp_path / "c.xlsx", [["name", "lat", "lon"], ["a", 1.5, 2.25]],
                 dimension="A1:XFD1048576")
    frame, peak = _peak_mb(lambda: read_points(path))
    assert frame[["name", "lat", "lon", "line"]].values.tolist() == [["a", 1.5, 2.25, 2]]
    assert peak < 50


def test_xlsx_with_one_far_cell_names_its_row(tmp_path):
    path = _xlsx(tmp_path / "c.xlsx", [["name", "lat", "lon"], ["a", 1.5, 2.25]],
                 far=(200_000, 1, "stray"))
    frame, peak = _peak_mb(lambda: read_points(path))
    assert frame["line"].tolist() == [2]
    assert "(line 200000)" in frame.attrs["warnings"][0]
    assert peak < 50
    wide = _xlsx(tmp_path / "w.xlsx", [["name", "lat", "lon"], ["a", 1.5, 2.25]],
                 far=(2, 16384, "x"))
    with pytest.raises(InputError, match="w.xlsx: row 2 has a value in column 16384, beyond "
                                         "the header's 3 columns"):
        read_points(wide)


# --------------------------------------------------------------------------- outputs that lie
def test_infinite_weight_is_refused_naming_the_feature(tmp_path):
    path = tmp_path / "w.geojson"
    gpd.GeoDataFrame({"id": ["a", "b"], "pop": ["10", "inf"]},
                     geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
                     crs="EPSG:4326").to_file(path)
    with pytest.raises(InputError, match=r"w.geojson: feature 2: weight 'inf' in column 'pop' "
                                         r"is not a finite number"):
        read_boundaries(path, weight_col="pop")


def test_where_on_a_coordinate_column_filters_by_number(tmp_path):
    path = _csv(tmp_path, "name,lat,lon\na,1,2\nb,1.50,2\nc,3,2\n")
    assert read_points(path, where="lat=1.5,3")["name"].tolist() == ["b", "c"]
    with pytest.raises(InputError, match="no row matches where='lon!=2.0'"):
        read_points(path, where="lon!=2.0")


def test_projected_coordinates_in_a_table_are_named_and_can_be_reprojected(tmp_path):
    # Web Mercator metres: x = R * lon (radians), y = R * ln(tan(pi/4 + lat/2)), R = 6378137
    r = 6378137.0
    lat, lon = 12.9716, 77.5946  # Bengaluru
    x = r * math.radians(lon)
    y = r * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    path = _csv(tmp_path, f"name,x,y\nBLR,{x:.3f},{y:.3f}\nagain,{x:.3f},{y:.3f}\n")
    with pytest.raises(InputError, match=r"c.csv: .y./.x. hold values up to 8\d{6}, .*not "
                                         r"degrees; give their CRS with crs "):
        read_points(path)
    frame = read_points(path, crs="EPSG:3857")
    assert frame["lat"].tolist() == pytest.approx([lat, lat], abs=1e-6)
    assert frame["lon"].tolist() == pytest.approx([lon, lon], abs=1e-6)


# --------------------------------------------------------------------------- compare
def _result_json(**change) -> dict:
    row = {"id": "001", "name": "Cell 1", "group": None, "covered": True, "nearest_km": 0.0}
    row.update(change)
    return {"summary": {"covered": 1, "districts": 1, "percent": 100.0}, "districts": [row]}


@pytest.mark.parametrize(("b", "words"), [
    (_result_json(covered="yes"), ["B.json", "districts[0]", "covered", "true or false"]),
    (_result_json(nearest_km="far"), ["B.json", "districts[0]", "nearest_km", "number"]),
    (_result_json(id={"x": 1}), ["B.json", "districts[0]", "id"]),
    (_result_json(name=["x"]), ["B.json", "districts[0]", "name"]),
    ({**_result_json(), "summary": {"covered": "all"}}, ["B.json", "summary", "covered"]),
    ({"districts": "none"}, ["B.json", "districts"]),
    ("[" * 100_000 + "]" * 100_000, ["B.json", "nested"]),
])
def test_compare_refuses_json_of_the_wrong_shape_in_one_line(tmp_path, runner, b, words):
    from reachplan.cli.main import cli

    (tmp_path / "A.json").write_text(json.dumps(_result_json()))
    (tmp_path / "B.json").write_text(b if isinstance(b, str) else json.dumps(b))
    res = runner.invoke(cli, ["compare", str(tmp_path / "A.json"), str(tmp_path / "B.json")])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    message = res.output.strip()
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message


def test_compare_accepts_a_result_of_the_right_shape(tmp_path, runner):
    from reachplan.cli.main import cli

    (tmp_path / "A.json").write_text(json.dumps(_result_json(covered=False, nearest_km=12.5)))
    (tmp_path / "B.json").write_text(json.dumps(_result_json()))
    res = runner.invoke(cli, ["compare", str(tmp_path / "A.json"), str(tmp_path / "B.json")])
    assert res.exit_code == 0, res.output
    assert "Newly covered in B: 1; lost in B: 0" in res.output


# --------------------------------------------------------------------------- written cells
def test_formula_after_a_line_break_inside_a_cell_is_neutralised(tmp_path):
    frame = pd.DataFrame({"name": ["ok\r=cmd|' /C calc'!A0", "a\n+1", "b\r\n@SUM(1)",
                                   "c\t-2", "plain\nline", "=1"]})
    write_table(frame, tmp_path / "o.csv")
    text = (tmp_path / "o.csv").read_bytes().decode("utf-8")
    # a spreadsheet starts a new row at any CR or LF and a new cell at a tab: no piece may
    # start with a formula trigger
    pieces = [p.strip('"') for p in re.split(r"\r\n|\r|\n|\t|,", text)]
    assert not [p for p in pieces if p.startswith(("=", "+", "-", "@"))]
    for kept in ("'=cmd|' /C calc'!A0", "'+1", "'@SUM(1)", "'-2", "plain", "line", "'=1"):
        assert kept in pieces


def test_control_characters_are_replaced_for_xlsx_not_a_traceback(tmp_path):
    from openpyxl import load_workbook

    frame = pd.DataFrame({"name": ["bell\x07", "nul\x00cut", "tab\tok"]})
    write_table(frame, tmp_path / "o.xlsx")
    cells = [c.value for c in load_workbook(tmp_path / "o.xlsx").active["A"]][1:]
    assert cells == ["bell\ufffd", "nul\ufffdcut", "tab\tok"]


# --------------------------------------------------------------------------- broken files
@pytest.fixture(scope="module")
def flatgeobuf(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fgb") / "full.fgb"
    gpd.GeoDataFrame({"id": [f"{i:02d}" for i in range(50)]},
                     geometry=[shapely.box(i, 0, i + 1, 1) for i in range(50)],
                     crs="EPSG:4326").to_file(path)
    return path.read_bytes()


def test_a_truncated_flatgeobuf_is_one_line(tmp_path, flatgeobuf):
    # every cut in the header and every 97th byte of the features, some of which end exactly
    # after a feature (GDAL then reads fewer features than the header declares)
    for cut in [*range(0, 400, 7), *range(400, len(flatgeobuf), 97)]:
        path = tmp_path / "cut.fgb"
        path.write_bytes(flatgeobuf[:cut])
        for reader in (read_boundaries, read_points):
            with pytest.raises(InputError, match=r"cut.fgb: ") as err:
                reader(path)
            assert "\n" not in str(err.value)


def test_a_nan_coordinate_in_geojson_skips_that_feature_and_says_why(tmp_path):
    path = tmp_path / "nan.geojson"
    path.write_text('{"type":"FeatureCollection","features":['
                    '{"type":"Feature","properties":{"id":"a"},"geometry":{"type":"Polygon",'
                    '"coordinates":[[[0,0],[1,0],[1,NaN],[0,1],[0,0]]]}},'
                    '{"type":"Feature","properties":{"id":"b"},"geometry":{"type":"Polygon",'
                    '"coordinates":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}}]}')
    frame = read_boundaries(path)
    assert frame["id"].tolist() == ["b"]
    assert frame.attrs["warnings"] == [
        f"{path}: skipped 1 feature(s) with a missing (NaN) or infinite coordinate (feature 1)"]


def test_text_with_a_nul_byte_is_named_on_read(tmp_path):
    path = _csv(tmp_path, "name,lat,lon,note\nab\x00cd,1,2,x\nok,1,2,y\x00z\n")
    frame = read_points(path)
    assert frame["name"].tolist() == ["ab\x00cd", "ok"]  # kept exactly, as read
    assert frame.attrs["warnings"] == [
        f"{path}: 2 text cell(s) hold a NUL byte (column name line 2, column note line 3); "
        "GeoJSON and GeoPackage outputs cut text there"]
