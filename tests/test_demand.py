"""Demand-point coverage: hand-computable cases and a brute-force pyproj reference.

Expected figures come from ``pyproj.Geod.fwd`` (points placed at known geodesic distances), from
hand counts, or from a brute-force ``Geod.inv`` over every centre -- never from reachplan itself.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import box

from reachplan.demand import assess as demand
from reachplan.demand.assess import demand_coverage, nearest_centres
from reachplan.errors import InputError
from reachplan.geodesy import points as geo_points

GEOD = Geod(ellps="WGS84")
R_KM = 25.0


def _centres(*latlon: tuple[float, float]) -> pd.DataFrame:
    return pd.DataFrame({"lat": [p[0] for p in latlon], "lon": [p[1] for p in latlon],
                         "name": [f"C{i}" for i in range(len(latlon))]})


def _fwd(lat: float, lon: float, az: float, dist_m: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, dist_m)
    return lat2, lon2


def _brute(lat, lon, clat, clon) -> np.ndarray:
    """Geodesic distances (m) from every point to every centre, column by column."""
    out = np.empty((len(lat), len(clat)))
    for j in range(len(clat)):
        out[:, j] = GEOD.inv(lon, lat, np.full(len(lat), clon[j]), np.full(len(lat), clat[j]))[2]
    return out


def _near_threshold(rng, clat, clon, n, radius_m):
    """Points R-2 m and R+2 m from random centres, in random directions."""
    pick = rng.integers(0, len(clat), n)
    az = rng.uniform(-180, 180, n)
    dist = radius_m + np.where(rng.random(n) < 0.5, -2.0, 2.0)
    lon2, lat2, _ = GEOD.fwd(clon[pick], clat[pick], az, dist)
    return lat2, lon2


# --------------------------------------------------------------------------- tiny cases


@pytest.mark.parametrize("keep_points", [True, False])
def test_points_just_inside_and_outside_radius(keep_points):
    r = R_KM * 1000
    pts = [_fwd(0, 0, az, r + off) for az in (0, 45, 90, 180) for off in (-2.0, 2.0)]
    frame = pd.DataFrame({"lat": [p[0] for p in pts], "lon": [p[1] for p in pts]})
    res = demand_coverage(_centres((0, 0)), frame, radius_km=R_KM, keep_points=keep_points)
    assert res.summary == {"points": 8, "covered": 4, "percent": 50.0, "weight_total": None,
                           "weight_covered": None, "weight_percent": None, "radius_km": 25.0,
                           "cost": {"unit": "km", "reach": 25.0, "column": "nearest_km",
                                    "label": "km", "text": "within 25 km"}}
    if keep_points:
        assert res.points["covered"].tolist() == [True, False] * 4
        expected = [(r + off) / 1000 for _ in range(4) for off in (-2.0, 2.0)]
        assert res.points["nearest_km"].to_numpy() == pytest.approx(expected, abs=1e-9)
        assert res.points["nearest_center"].tolist() == ["C0"] * 8
        assert res.points["row"].tolist() == list(range(1, 9))


def test_pole_and_antimeridian():
    # a centre 1 km from the north pole; points beyond the pole, on the other meridian
    c_pole = _fwd(90, 0, 180, 1000)
    # a centre just west of the antimeridian; points just east of it
    c_anti = (-10.0, 179.99)
    far = _fwd(*c_anti, 90, 24_000)  # crosses to negative longitudes
    over = _fwd(*c_anti, 90, 26_000)
    pts = [(90.0, 0.0), _fwd(90, 0, 0, 23_000), _fwd(90, 0, 0, 25_000), far, over,
           (-90.0, 0.0)]
    assert far[1] < -179.0 and over[1] < -179.0
    frame = pd.DataFrame({"lat": [p[0] for p in pts], "lon": [p[1] for p in pts]})
    res = demand_coverage(_centres(c_pole, c_anti), frame, radius_km=R_KM)
    # pole: 1 km; 23 km beyond the pole on the 180° side: 24 km; 25 km beyond: 26 km
    assert res.points["covered"].tolist() == [True, True, False, True, False, False]
    assert res.points["nearest_index"].tolist() == [0, 0, 0, 1, 1, 1]
    assert res.points["nearest_km"].to_numpy()[:5] == pytest.approx([1, 24, 26, 24, 26],
                                                                     abs=1e-6)


def test_weights_and_json_block():
    r = R_KM * 1000
    pts = [_fwd(20, 78, 0, r - 100), _fwd(20, 78, 90, r + 100), _fwd(20, 78, 200, 1000)]
    frame = pd.DataFrame({"pin": ["001", "002", "003"], "lat": [p[0] for p in pts],
                          "lon": [p[1] for p in pts], "people": [1.5, 2.0, 0.5]})
    res = demand_coverage(_centres((20, 78)), frame, radius_km=R_KM, weight_col="people",
                          id_col="pin")
    # covered: 001 (1.5) and 003 (0.5) -> 2 of 3 points, 2.0 of 4.0 weight
    assert list(res.summary) == ["points", "covered", "percent", "weight_total",
                                 "weight_covered", "weight_percent", "radius_km", "cost"]
    assert res.summary == {"points": 3, "covered": 2, "percent": 66.67, "weight_total": 4.0,
                           "weight_covered": 2.0, "weight_percent": 50.0, "radius_km": 25.0,
                           "cost": {"unit": "km", "reach": 25.0, "column": "nearest_km",
                                    "label": "km", "text": "within 25 km"}}
    assert res.points["id"].tolist() == ["001", "002", "003"]


def test_weight_sums_are_exact_whatever_the_parts():
    rng = np.random.default_rng(3)
    w = rng.random(1000) * 10.0 ** rng.integers(-3, 6, 1000)
    frame = pd.DataFrame({"lat": rng.uniform(-1, 1, 1000), "lon": rng.uniform(-1, 1, 1000),
                          "w": w})
    sums = {demand_coverage(_centres((0, 0)), frame, radius_km=1e4, weight_col="w",
                            chunksize=size, keep_points=False).summary["weight_total"]
            for size in (3, 7, 333, 1000)}
    assert sums == {math.fsum(w)}  # fsum: the correctly rounded exact sum


def test_exact_sums_by_group():
    values = np.array([0.1, 0.2, 0.3, 1e16, 1.0, -1e16])
    groups = np.array([0, 0, 1, 1, 1, 1])
    assert demand._exact_sums(values, groups, 3) == [Fraction(0.1) + Fraction(0.2),
                                                     Fraction(0.3) + Fraction(1.0),
                                                     Fraction(0)]


def test_exact_sums_match_python_fractions(monkeypatch):
    # subnormals, huge, negative, zero, and integer weights; many groups, some empty
    rng = np.random.default_rng(12)
    values = np.concatenate([rng.uniform(-1e3, 1e3, 3000), rng.integers(0, 10**6, 3000),
                             [5e-324, 1e-310, 1.7e308, -1.7e308, 0.0, -0.0, 1e16, 3.0]])
    groups = rng.integers(0, 50, values.size)
    groups[-8:] = 7
    want = [sum((Fraction(v) for v, g in zip(values, groups, strict=True) if g == k), Fraction(0))
            for k in range(53)]
    assert demand._exact_sums(values, groups, 53) == want
    assert demand._exact_sums(values[:0], groups[:0], 3) == [Fraction(0)] * 3
    monkeypatch.setattr(demand, "_DENSE_KEYS", 0)  # many groups: only the keys present
    assert demand._exact_sums(values, groups, 53) == want


def test_district_rollups():
    # two 1°x1° squares at the equator; a centre in the middle of the west one
    districts = gpd.GeoDataFrame(
        {"id": ["002", "001"], "name": ["East", "West"], "group": ["S", "S"]},
        geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)], crs="EPSG:4326")
    frame = pd.DataFrame({
        "lat": [0.5, 0.6, 0.5, 0.5, 5.0],
        "lon": [0.5, 0.45, 1.5, 1.05, 5.0],  # West, West, East (far), East (near), outside
        "w": [10.0, 20.0, 30.0, 40.0, 50.0]})
    res = demand_coverage(_centres((0.5, 0.5)), frame, radius_km=R_KM, weight_col="w",
                          districts=districts)
    # 1.05°E at the equator is about 61 km from 0.5°E: uncovered; 0.6N 0.45E is ~12 km: covered
    by = res.by_district.set_index("id")
    assert by.loc["001", ["points", "covered"]].tolist() == [2, 2]
    assert by.loc["002", ["points", "covered", "percent"]].tolist() == [2, 0, 0.0]
    assert by.loc["002", "weight_total"] == 70.0
    assert res.by_district["id"].tolist() == ["001", "002"]
    assert res.outside == 1
    assert res.points["district"].tolist()[:4] == ["001", "001", "002", "002"]
    assert pd.isna(res.points["district"].iloc[4])
    assert res.by_group.to_dict("records") == [
        {"group": "S", "points": 4, "covered": 2, "percent": 50.0, "weight_total": 100.0,
         "weight_covered": 30.0, "weight_percent": 30.0}]
    assert any("1 demand points lie outside" in w for w in res.warnings)


# --------------------------------------------------------------------------- brute force


def test_agrees_with_brute_force_pyproj():
    rng = np.random.default_rng(11)
    m = 100
    clat = np.concatenate([np.degrees(np.arcsin(rng.uniform(-1, 1, m - 20))),
                           rng.uniform(88, 90, 10), rng.uniform(-10, 10, 10)])
    clon = np.concatenate([rng.uniform(-180, 180, m - 10), rng.choice([-179.999, 179.999], 10)])
    n = 12_000
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    nlat, nlon = _near_threshold(rng, clat, clon, 12_000, R_KM * 1000)
    plat = np.concatenate([lat, nlat, rng.uniform(87, 90, 3000)])
    plon = np.concatenate([lon, nlon, rng.uniform(-180, 180, 3000)])
    dist = _brute(plat, plon, clat, clon)
    want_idx = dist.argmin(axis=1)
    want_km = dist.min(axis=1) / 1000
    idx, km = nearest_centres(plat, plon, clat, clon)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(km, want_km)
    index = geo_points.CentreIndex(clat, clon)
    for radius_km in (R_KM, 500.0):
        covered = index.covered(plat, plon, radius_km * 1000, threads=2)
        np.testing.assert_array_equal(covered, want_km <= radius_km)


def test_india_scale_brute_force():
    """Tens of thousands of points over India x 120 centres, including R±2 m points."""
    rng = np.random.default_rng(5)
    clat, clon = rng.uniform(8, 37, 120), rng.uniform(68, 97, 120)
    nlat, nlon = _near_threshold(rng, clat, clon, 10_000, R_KM * 1000)
    plat = np.concatenate([rng.uniform(8, 37, 20_000), nlat])
    plon = np.concatenate([rng.uniform(68, 97, 20_000), nlon])
    want = _brute(plat, plon, clat, clon).min(axis=1) <= R_KM * 1000
    frame = pd.DataFrame({"lat": plat, "lon": plon})
    centres = pd.DataFrame({"lat": clat, "lon": clon})
    fast = demand_coverage(centres, frame, radius_km=R_KM, keep_points=False, chunksize=7000)
    assert fast.summary["covered"] == int(want.sum())
    full = demand_coverage(centres, frame, radius_km=R_KM, chunksize=7000)
    np.testing.assert_array_equal(full.points["covered"].to_numpy(), want)


@pytest.mark.parametrize("k", [2, 3])
def test_min_centers_counts_centres_within_reach(k):
    """With min_centers=k a point is covered when k centres (each listed, shared places too)
    lie within R: brute-force counts over every centre, with R±2 m points and a stacked pair."""
    from reachplan.rules import Rule

    rng = np.random.default_rng(17)
    clat, clon = rng.uniform(20, 21, 40), rng.uniform(77, 78, 40)
    clat, clon = np.append(clat, clat[0]), np.append(clon, clon[0])  # two centres, one place
    nlat, nlon = _near_threshold(rng, clat, clon, 3000, R_KM * 1000)
    plat = np.concatenate([rng.uniform(19.8, 21.2, 5000), nlat])
    plon = np.concatenate([rng.uniform(76.8, 78.2, 5000), nlon])
    counts = (_brute(plat, plon, clat, clon) <= R_KM * 1000).sum(axis=1)
    want = counts >= k
    assert 0 < want.sum() < (counts >= 1).sum()  # the rule changes the answer here
    frame = pd.DataFrame({"lat": plat, "lon": plon})
    centres = pd.DataFrame({"lat": clat, "lon": clon})
    rule = Rule.radius(R_KM, min_centers=k)
    fast = demand_coverage(centres, frame, rule, keep_points=False, chunksize=3000)
    assert fast.summary["covered"] == int(want.sum())
    full = demand_coverage(centres, frame, rule, chunksize=3000)
    np.testing.assert_array_equal(full.points["covered"].to_numpy(), want)


def test_no_centres_means_nothing_covered():
    frame = pd.DataFrame({"lat": [1.0], "lon": [2.0]})
    res = demand_coverage(_centres(), frame, radius_km=R_KM)
    assert res.summary["covered"] == 0
    assert res.points["nearest_km"].tolist() == [math.inf]
    assert res.points["nearest_center"].isna().all()


# --------------------------------------------------------------------------- files


def test_csv_semicolons_bom_text_ids_and_skipped_rows(tmp_path):
    path = tmp_path / "pins.csv"
    path.write_bytes("\ufeffPIN;Latitude;Longitude;pop\n001;0.1;0.1;5\n002;;0.2;1\n"
                     "003;abc;0;1\n004;0;3;2\n".encode())
    res = demand_coverage(_centres((0, 0)), path, radius_km=R_KM, weight_col="pop",
                          id_col="PIN")
    assert res.points["id"].tolist() == ["001", "004"]
    assert res.points["line"].tolist() == [2, 5]
    assert res.summary["points"] == 2 and res.summary["covered"] == 1
    assert res.summary["weight_percent"] == pytest.approx(71.43)
    assert res.warnings == [f"{path}: skipped 2 demand rows with missing or out-of-range "
                            "lat/lon (lines 3, 4)"]


def test_csv_parts_number_lines_exactly(tmp_path):
    path = tmp_path / "many.csv"
    rows = "\n".join(f"{i},{(i % 7) * 0.1},0" for i in range(5000))
    path.write_text("id,lat,lon\n" + rows + "\n1,999,0\n")
    res = demand_coverage(_centres((0, 0)), path, radius_km=R_KM, chunksize=300)
    assert res.warnings[0].endswith("(lines 5002)")
    assert res.points["line"].tolist() == list(range(2, 5002))
    assert res.summary["covered"] == sum(1 for i in range(5000) if (i % 7) * 0.1 * 111.3 < 25)


def test_geoparquet_folder_and_projected_layer(tmp_path):
    pts = gpd.GeoDataFrame({"w": [1.0, 2.0, 3.0]},
                           geometry=gpd.points_from_xy([0.1, 1.0, 0.0], [0.1, 0.0, -0.2]),
                           crs="EPSG:4326")
    folder = tmp_path / "parts"
    folder.mkdir()
    pts.iloc[:2].to_parquet(folder / "a.parquet")
    pts.iloc[2:].to_crs("EPSG:3857").to_parquet(folder / "b.parquet")
    res = demand_coverage(_centres((0, 0)), folder, radius_km=R_KM, weight_col="w")
    # (0.1, 0.1) ~16 km and (0, -0.2) ~22 km covered; (1, 0) ~111 km not
    assert (res.summary["covered"], res.summary["weight_covered"]) == (2, 4.0)
    gpkg = tmp_path / "pts.gpkg"
    pts.to_crs("EPSG:3857").to_file(gpkg)
    assert demand_coverage(_centres((0, 0)), gpkg, radius_km=R_KM).summary["covered"] == 2


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("content, kwargs, message", [
    ("a,b\n1,2\n", {}, "no latitude/longitude columns"),
    ("lat,lon\n1,2\n", {"weight_col": "pop"}, "no column 'pop' (given by weight_col)"),
    ("lat,lon,pop\n0,0,1\n0,0,-3\n", {"weight_col": "pop"}, "line 3: weight column 'pop'"),
    ("lat,lon,pop\n0,0,x\n", {"weight_col": "pop"}, "line 2: weight column 'pop'"),
    ("", {}, "is empty"),
    ("lat,lon\n,\n", {}, "no demand point with valid coordinates"),
    ("lat,lon\n1,2\n", {"radius_km": -1.0}, "km=-1.0: the radius must be"),
    ("lat,lon\n1,2\n", {"radius_km": None}, "rule, radius_km: give one"),
    ("lat,lon\n1,2\n", {"engine": "spark"}, "engine='spark'"),
])
def test_bad_input_names_file_and_column(tmp_path, content, kwargs, message):
    path = tmp_path / "demand.csv"
    path.write_text(content)
    opts = {"radius_km": R_KM, **kwargs}
    with pytest.raises(InputError) as err:
        demand_coverage(_centres((0, 0)), path, **opts)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    if "radius" not in message and "engine" not in message:
        assert str(path) in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match="nope.csv: file not found"):
        demand_coverage(_centres((0, 0)), tmp_path / "nope.csv", radius_km=R_KM)


def test_input_file_is_not_modified(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("lat,lon\n0,0\n")
    before = path.read_bytes()
    demand_coverage(_centres((0, 0)), path, radius_km=R_KM)
    assert path.read_bytes() == before


def test_progress_reports_every_part(tmp_path):
    frame = pd.DataFrame({"lat": np.zeros(10), "lon": np.zeros(10)})
    calls = []
    demand_coverage(_centres((0, 0)), frame, radius_km=R_KM, chunksize=4,
                    progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


# --------------------------------------------------------------------------- CLI options


@pytest.fixture
def demand_command():
    """A throwaway command wearing the demand options, as reachplan coverage will."""
    import click

    from reachplan.cli._demand_options import DemandOptions, demand_options, run_demand
    from reachplan.cli.errors import handle_errors
    from reachplan.cli.inputs import make_rule
    from reachplan.cli.options import pass_groups

    @click.command()
    @demand_options
    @click.option("--radius-km", type=float, default=None)
    @click.option("--overwrite", is_flag=True)
    @handle_errors
    @pass_groups(demand=DemandOptions)
    def cmd(demand: DemandOptions, radius_km: float | None, overwrite: bool):
        res = run_demand(demand, _centres((0, 0)), None, make_rule(radius_km, 1),
                         overwrite=overwrite)
        click.echo(json.dumps(res.summary if res else None))

    return cmd


def _invoke_demand(runner, command, tmp_path, content, *args):
    demand_csv = tmp_path / "d.csv"
    demand_csv.write_text(content)
    return runner.invoke(command, ["--demand", str(demand_csv), "--radius-km", "25", *args])


def test_cli_demand_output_and_summary(runner, demand_command, tmp_path):
    demand_csv = tmp_path / "d.csv"
    out = tmp_path / "points.csv"
    res = _invoke_demand(runner, demand_command, tmp_path, "pin,lat,lon\n=1,0.1,0\n002,1,1\n",
                         "--demand-id-col", "pin", "--demand-output", str(out))
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["covered"] == 1
    rows = out.read_text().splitlines()
    assert rows[0] == "line,id,lat,lon,covered,nearest_center,nearest_index,nearest_km"
    # id kept as text; km to the metre: pyproj.Geod.inv((0, 0), (1, 1)) = 156,899.568 m
    assert rows[2] == "3,002,1.0,1.0,False,C0,0,156.9"
    again = runner.invoke(demand_command, ["--demand", str(demand_csv), "--radius-km", "25",
                                           "--demand-output", str(out)])
    assert again.exit_code != 0  # an existing output is refused without --overwrite
    gpkg = tmp_path / "points.gpkg"
    assert runner.invoke(demand_command, ["--demand", str(demand_csv), "--radius-km", "25",
                                          "--demand-output", str(gpkg)]).exit_code == 0
    assert gpd.read_file(gpkg).geometry.x.tolist() == [0.0, 1.0]


def test_cli_demand_output_neutralises_formulas(runner, demand_command, tmp_path):
    out = tmp_path / "points.csv"
    res = _invoke_demand(runner, demand_command, tmp_path, "pin,lat,lon\n=1,0.1,0\n",
                         "--demand-id-col", "pin", "--demand-output", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[1].startswith("2,'=1,")


@pytest.mark.parametrize("args, message", [
    (["--radius-km", "25"], "needs --demand"),
    (["--demand", "missing.csv", "--radius-km", "25"], "missing.csv: file not found"),
    (["--demand", "@nope", "--radius-km", "25"], "no such embedded dataset"),
    (["--demand", "@india-pincodes"], "--demand needs --radius-km"),
    (["--demand", "@india-pincodes", "--radius-km", "25", "--scheduler", "tcp://x:1"],
     "--scheduler needs --engine dask"),
])
def test_cli_demand_errors_exit_2(runner, demand_command, args, message):
    if args == ["--radius-km", "25"]:
        args = [*args, "--demand-output", "x.csv"]
    res = runner.invoke(demand_command, args)
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("content, args, message", [
    ("lat,lon\n1,2\n", ["--demand-weight-col", "pop"],
     "no column 'pop' (given by --demand-weight-col)"),
    ("north,east\n1,2\n", [], "name them with --demand-lat-col and --demand-lon-col"),
    ("lat,lon,pop\n0,0,-3\n", ["--demand-weight-col", "pop"],
     "leave out --demand-weight-col"),
])
def test_cli_demand_errors_name_the_demand_options(runner, demand_command, tmp_path, content,
                                                   args, message):
    # demand_coverage names weight_col, lat_col: the command's --demand-* options
    res = _invoke_demand(runner, demand_command, tmp_path, content, *args)
    assert res.exit_code == 2
    assert message in res.stderr



def test_cli_embedded_pincodes(runner, demand_command):
    res = runner.invoke(demand_command, ["--demand", "@india-pincodes", "--radius-km", "25"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["points"] == 19_416  # one centre at (0, 0): no PIN code is near it
    assert summary["covered"] == 0
