"""Population rasters as demand (tests/fixtures/worldpop: real WorldPop cells, see its README).

Every expected figure comes from another method: exactextract itself and a brute-force
shapely area fraction per cell for the district sums; a pyproj ``Geod.inv`` from every cell
centre to every centre for the people within reach; numpy over the whole array for totals.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Geod

from reachplan.cli.main import cli
from reachplan.demand import population
from reachplan.demand.population import (
    district_population,
    population_coverage,
    with_population,
)
from reachplan.errors import InputError
from reachplan.rules import Rule

WORLDPOP = Path(__file__).parent / "fixtures" / "worldpop"
BURUNDI = WORLDPOP / "burundi_west.tif"
OUTLINE = WORLDPOP / "burundi_west.geojson"
HAITI = WORLDPOP / "haiti_ppp_2020_1km.tif"
GEOD = Geod(ellps="WGS84")
CENTRES = pd.DataFrame({"name": ["Bujumbura", "Muramvya", "Kabezi"],
                        "lat": [-3.38, -3.27, -3.53], "lon": [29.36, 29.61, 29.36]})


def _districts() -> gpd.GeoDataFrame:
    """The real outline cut at 3.45 S into north and south (groups A, B), and a small square
    round Bujumbura's port straddling cells (group A)."""
    outline = gpd.read_file(OUTLINE).geometry.iloc[0]
    north = outline.intersection(shapely.box(29.0, -3.45, 30.0, -3.0))
    south = outline.intersection(shapely.box(29.0, -4.0, 30.0, -3.45))
    square = shapely.box(29.3531, -3.3937, 29.3719, -3.3771)
    return gpd.GeoDataFrame({"id": ["N", "S", "Q"], "name": ["north", "south", "square"],
                             "group": ["A", "B", "A"], "weight": [1.0, 2.0, 3.0]},
                            geometry=[north.difference(square), south, square], crs="EPSG:4326")


def _cells(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, object]:
    """Every cell's value (nodata as 0) and its centre, from rasterio's own transform."""
    with rasterio.open(path) as src:
        data = src.read(1, masked=True).astype(float).filled(0.0)
        rows, cols = np.indices(data.shape)
        x, y = rasterio.transform.xy(src.transform, rows.ravel(), cols.ravel(), offset="center")
        return data.ravel(), np.asarray(y, float), np.asarray(x, float), src.transform


def test_district_sums_equal_exactextract_and_brute_force_fractions():
    districts = _districts()
    got = district_population(districts, BURUNDI)
    from exactextract import exact_extract

    ref = exact_extract(str(BURUNDI), districts, ["sum"], output="pandas")["sum"].to_numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    # independent: each cell times the planar fraction of its square inside the district
    values, _, _, t = _cells(BURUNDI)
    rows, cols = np.indices((64, 64))
    boxes = shapely.box(t.c + cols.ravel() * t.a, t.f + (rows.ravel() + 1) * t.e,
                        t.c + (cols.ravel() + 1) * t.a, t.f + rows.ravel() * t.e)
    area = shapely.area(boxes)
    brute = [float(np.sum(values * shapely.area(shapely.intersection(boxes, g)) / area))
             for g in districts.geometry]
    np.testing.assert_allclose(got, brute, rtol=1e-6)
    assert 0 < got[2] < 40_000  # the square: a few cells, none whole


def test_with_population_makes_people_the_weight_and_keeps_the_given_one():
    districts = _districts()
    districts.attrs["weight_col"] = "pop2010"
    out = with_population(districts, BURUNDI)
    np.testing.assert_allclose(out["weight"], district_population(districts, BURUNDI))
    assert out["weight_given"].tolist() == [1.0, 2.0, 3.0]
    assert out.attrs["weight_col"] == "population"
    assert out.attrs["weight_given_col"] == "pop2010"


def _brute_within(path: Path, districts, radius_km: float, k: int = 1):
    """Per district (and outside) the people by cell centre and those within R of k centres:
    Geod.inv from every cell centre to every centre."""
    values, lat, lon, _ = _cells(path)
    keep = values > 0
    values, lat, lon = values[keep], lat[keep], lon[keep]
    near = np.zeros(values.size, dtype=int)
    for clat, clon in zip(CENTRES["lat"], CENTRES["lon"], strict=True):
        d = GEOD.inv(lon, lat, np.full(lon.size, clon), np.full(lat.size, clat))[2]
        near += d <= radius_km * 1000
    covered = near >= k
    points = shapely.points(lon, lat)
    where = np.full(values.size, len(districts))
    for i, g in reversed(list(enumerate(districts.geometry))):
        where[shapely.covers(g, points)] = i
    total = np.bincount(where, weights=values, minlength=len(districts) + 1)
    cov = np.bincount(where[covered], weights=values[covered], minlength=len(districts) + 1)
    return total, cov


@pytest.mark.parametrize("by", ["rows", "cells"])
@pytest.mark.parametrize(("radius_km", "k"), [(10.0, 1), (7.5, 2), (25.0, 3)])
def test_people_within_r_equal_a_geodesic_check_of_every_cell(radius_km, k, by, monkeypatch):
    # both ways of deciding a window: its grid rows at once, or each populated cell
    monkeypatch.setattr(population, "_ROWS_PAY_OFF", 10**9 if by == "rows" else 0)
    districts = _districts()
    res = population_coverage(CENTRES, BURUNDI, Rule.radius(radius_km, min_centers=k),
                              districts=districts)
    total, cov = _brute_within(BURUNDI, districts, radius_km, k)
    table = res.by_district.set_index("id").loc[["N", "S", "Q"]]
    assert table["population_cells"].tolist() == total[:3].tolist()
    assert table["population_covered"].tolist() == cov[:3].tolist()
    s = res.summary
    assert s["population"] == total.sum() and s["population_covered"] == cov.sum()
    assert s["population_outside"] == total[3] > 0  # the cells in DR Congo: counted
    assert s["cells"] == 4096 and s["cells_nodata"] == 905
    groups = res.by_group.set_index("group")
    assert groups.loc["A", "population_covered"] == cov[0] + cov[2]
    assert groups.loc["B", "population_cells"] == total[1]


def test_nodata_and_float_rasters():
    with rasterio.open(HAITI) as src:
        data = src.read(1, masked=True)
        expected = float(data.astype(np.float64).sum())
        nodata = int(np.ma.getmaskarray(data).sum())
    res = population_coverage(CENTRES, HAITI, radius_km=1.0)
    assert res.summary["cells_nodata"] == nodata
    assert res.summary["population"] == pytest.approx(expected, rel=1e-12)
    assert res.summary["population_covered"] == 0.0  # Haiti is far from Burundi's centres


def test_dask_windows_give_the_memory_answer():
    pytest.importorskip("dask.distributed")
    districts = _districts()
    args = dict(districts=districts, window_cells=500)  # 9 windows of 7 rows
    memory = population_coverage(CENTRES, BURUNDI, Rule.radius(12), **args)
    dask = population_coverage(CENTRES, BURUNDI, Rule.radius(12), engine="dask", **args)
    whole = population_coverage(CENTRES, BURUNDI, Rule.radius(12), districts=districts)
    assert memory.summary == dask.summary == whole.summary
    pd.testing.assert_frame_equal(memory.by_district, dask.by_district)
    pd.testing.assert_frame_equal(memory.by_district, whole.by_district)


def _reprojected(tmp_path: Path) -> Path:
    """burundi_west.tif in UTM 35S at 1 km, people kept by sum resampling."""
    from pyproj import Transformer
    from rasterio.warp import Resampling, reproject

    out = tmp_path / "utm.tif"
    with rasterio.open(BURUNDI) as src:
        crs = "EPSG:32735"
        left, bottom, right, top = Transformer.from_crs(src.crs, crs, always_xy=True) \
            .transform_bounds(*src.bounds)
        left, top = np.floor(left / 1000) * 1000, np.ceil(top / 1000) * 1000
        w, h = int(np.ceil((right - left) / 1000)), int(np.ceil((top - bottom) / 1000))
        transform = Affine(1000.0, 0.0, left, 0.0, -1000.0, top)
        profile = src.profile | {"crs": crs, "transform": transform, "width": w, "height": h,
                                 "dtype": "float32", "nodata": -1.0, "blockysize": 16}
        with rasterio.open(out, "w", **profile) as dst:
            reproject(rasterio.band(src, 1), rasterio.band(dst, 1), dst_nodata=-1.0,
                      resampling=Resampling.sum)
    return out


def test_a_projected_raster_gives_its_reprojections_answers(tmp_path):
    utm = _reprojected(tmp_path)
    districts = _districts()
    a = population_coverage(CENTRES, BURUNDI, radius_km=10, districts=districts)
    b = population_coverage(CENTRES, utm, radius_km=10, districts=districts)
    # the documented resampling difference (docs/guides/population.md): sum resampling
    # moves people by up to a cell; the total is kept, the people per district within 1 %
    # and within R within 2 % (measured: 0.03 % at 10 km, 1.7 % at 5 km); the square Q, a
    # few cells, is compared joined to its surrounding north (its cells go by centre)
    assert b.summary["crs"] == "EPSG:32735"
    assert b.summary["population"] == pytest.approx(a.summary["population"], rel=1e-6)
    assert b.summary["population_covered"] == pytest.approx(a.summary["population_covered"],
                                                            rel=0.02)
    ta, tb = a.by_district.set_index("id"), b.by_district.set_index("id")
    for ids in (["N", "Q"], ["S"]):
        assert tb.loc[ids, "population"].sum() == pytest.approx(
            ta.loc[ids, "population"].sum(), rel=0.01)
        assert tb.loc[ids, "population_covered"].sum() == pytest.approx(
            ta.loc[ids, "population_covered"].sum(), rel=0.03)
    # and within R is decided at the UTM cells' centres, each checked by Geod.inv
    values, y, x, _ = _cells(utm)
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:32735", "EPSG:4326", always_xy=True).transform(x, y)
    near = np.zeros(values.size, dtype=bool)
    for clat, clon in zip(CENTRES["lat"], CENTRES["lon"], strict=True):
        near |= GEOD.inv(lon, lat, np.full(lon.size, clon), np.full(lon.size, clat))[2] <= 1e4
    assert b.summary["population_covered"] == pytest.approx(float(values[near].sum()),
                                                            rel=1e-12)


def test_a_whole_world_grid_wraps_at_the_antimeridian(tmp_path):
    """A 0-360 degree world of 10-degree cells holding 1 each: a centre at 179.9 E reaches
    the cells centred on 175 E and 175 W (185 in the file) alike."""
    path = tmp_path / "world.tif"
    profile = {"driver": "GTiff", "width": 36, "height": 18, "count": 1, "dtype": "float32",
               "crs": "EPSG:4326", "transform": Affine(10.0, 0.0, 0.0, 0.0, -10.0, 90.0)}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((1, 18, 36), dtype="float32"))
    res = population_coverage(pd.DataFrame({"lat": [0.0], "lon": [179.9]}), path,
                              radius_km=1500)
    lat = 90 - 5 - 10 * np.arange(18)
    lon = 5 + 10 * np.arange(36)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    d = GEOD.inv(lo.ravel(), la.ravel(), np.full(la.size, 179.9), np.zeros(la.size))[2]
    assert res.summary["population_covered"] == float((d <= 1.5e6).sum()) == 4.0
    assert res.summary["population"] == 648.0


def test_library_errors_name_the_parameter(tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff")
    with pytest.raises(InputError, match=r"bad.tif: cannot open as a raster") as err:
        population_coverage(CENTRES, bad, radius_km=1)
    assert err.value.params == ("population",)
    with pytest.raises(InputError, match="window_cells=0"):
        population_coverage(CENTRES, BURUNDI, radius_km=1, window_cells=0)


def _run(runner, *args):
    return runner.invoke(cli, ["coverage", str(OUTLINE), *args])


def test_cli_reports_people_within_reach(runner, tmp_path):
    centres = tmp_path / "c.csv"
    CENTRES.to_csv(centres, index=False)
    res = _run(runner, str(centres), "--radius-km", "10", "--population", str(BURUNDI),
               "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    outline = gpd.read_file(OUTLINE)
    total, cov = _brute_within(BURUNDI, outline, 10.0)
    block = data["population"]
    assert block["raster"] == "burundi_west.tif"
    assert (block["population"], block["population_covered"]) == (total.sum(), cov.sum())
    assert block["cells_outside"] > 0 and block["population_outside"] == total[1]
    row = data["districts"][0]
    assert row["population_covered"] == cov[0]
    assert row["weight"] == pytest.approx(float(district_population(outline, BURUNDI)[0]))
    assert data["inputs"]["weight_col"] == "population"
    text = _run(runner, str(centres), "--radius-km", "10", "--population", str(BURUNDI))
    assert "People within 10 km of a centre (burundi_west.tif" in text.stdout


@pytest.mark.parametrize("content", [b"not a tiff", b""])
def test_cli_bad_raster_is_one_line_exit_2(runner, tmp_path, content):
    bad = tmp_path / "pop.tif"
    bad.write_bytes(content)
    centres = tmp_path / "c.csv"
    CENTRES.to_csv(centres, index=False)
    out = tmp_path / "out.json"
    res = _run(runner, str(centres), "--radius-km", "10", "--population", str(bad),
               "-o", str(out))
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert lines[-1].startswith(f"Error: {bad}: cannot open as a raster")
    assert "--population" in lines[-1] or "people per cell" in lines[-1]
    assert "Traceback" not in res.stderr and not out.exists()


def test_cli_raster_without_crs_is_refused(runner, tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8",
                       transform=Affine(0.1, 0.0, 29.0, 0.0, -0.1, -3.0)) as dst:
        dst.write(np.ones((1, 2, 2), dtype="uint8"))
    centres = tmp_path / "c.csv"
    CENTRES.to_csv(centres, index=False)
    res = _run(runner, str(centres), "--population", str(path))
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines()[-1] == (
        f"Error: {path}: the raster has no CRS; set one (e.g. gdal_edit.py -a_srs EPSG:4326) "
        "so cells can be placed")


def test_travel_time_decides_cells_as_it_decides_demand_points(tmp_path):
    """tests/fixtures/roads/tiny.osm under a 40 x 3 raster of 0.002-degree cells: the people
    within 3 minutes are those of the same cells given as weighted demand points."""
    from reachplan.demand import demand_coverage
    from reachplan.roads import TravelRule

    path = tmp_path / "tiny.tif"
    with rasterio.open(path, "w", driver="GTiff", width=40, height=3, count=1, dtype="float32",
                       crs="EPSG:4326", transform=Affine(0.002, 0.0, -0.004, 0.0, -0.002, 0.003),
                       nodata=-1.0) as dst:
        dst.write(np.arange(1, 121, dtype="float32").reshape(1, 3, 40))
    rule = TravelRule.from_roads(Path(__file__).parent / "fixtures" / "roads" / "tiny.osm", 3,
                                 cache_dir=False)
    centre = pd.DataFrame({"lat": [0.0], "lon": [0.0]})
    res = population_coverage(centre, path, rule)
    values, lat, lon, _ = _cells(path)
    points = demand_coverage(centre, pd.DataFrame({"lat": lat, "lon": lon, "w": values}), rule,
                             weight_col="w")
    assert res.summary["population"] == points.summary["weight_total"] == 7260.0
    assert res.summary["population_covered"] == points.summary["weight_covered"]
    assert 0 < res.summary["population_covered"] < 7260.0
    assert res.summary["cost"]["unit"] == "min"


def test_cli_capacity_serves_the_cells(runner, tmp_path):
    centres = tmp_path / "c.csv"
    CENTRES.assign(cap=[100_000, 50_000, 20_000]).to_csv(centres, index=False)
    res = _run(runner, str(centres), "--radius-km", "10", "--population", str(BURUNDI),
               "--capacity-col", "cap", "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    values, _, _, _ = _cells(BURUNDI)
    cap = data["capacity"]
    assert cap["demand"] == pytest.approx(float(values.sum()))
    assert "people" in cap["model"]["demand"]
    within = data["population"]["population_covered"]
    assert cap["served"] <= min(170_000, within) + 1e-6
    assert cap["served"] == pytest.approx(170_000)  # each centre has more within 10 km


def test_gaps_rank_by_people(runner, tmp_path):
    districts = tmp_path / "d.geojson"
    _districts().drop(columns="weight").to_file(districts)
    centres = tmp_path / "c.csv"
    pd.DataFrame({"name": ["far"], "lat": [-3.0], "lon": [30.5]}).to_csv(centres, index=False)
    res = runner.invoke(cli, ["gaps", str(districts), str(centres), "--population",
                              str(BURUNDI), "-o", "-"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(io.StringIO(res.stdout))
    people = district_population(_districts(), BURUNDI)
    assert table["id"].tolist() == ["N", "S", "Q"]  # people descending
    np.testing.assert_allclose(table["weight"], np.sort(people)[::-1].round(6), rtol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_rows_of_a_wgs84_grid_are_decided_as_every_cell_would_be(seed):
    """The radius rule's answer per grid row (a few geodesics per centre and row) against
    Geod.inv from every cell centre to every centre: random grids from 30 arc-seconds to 3
    degrees, over the antimeridian (columns past 180 E) and near the poles, centres
    sharing a place, R from 1 km to 20,000 km, one or two centres needed."""
    rng = np.random.default_rng(seed)
    for case in range(8):
        ny, nx = int(rng.integers(3, 30)), int(rng.integers(3, 90))
        dlon = float(rng.choice([1 / 120, 1 / 12, 0.5, 3.0]))
        lon0 = float(rng.uniform(-200, 170) if case % 3 else rng.uniform(170, 179))
        row_lat = rng.uniform(-80, 90) - (np.arange(ny) + 0.5) * dlon * rng.choice([0.5, 1, 2])
        row_lat = row_lat[np.abs(row_lat) <= 90]
        n = int(rng.integers(1, 25))
        clat = rng.uniform(max(-90, row_lat.min() - 2), min(90, row_lat.max() + 2), n)
        clon = (rng.uniform(lon0 - 5, lon0 + nx * dlon + 5, n) + 180) % 360 - 180
        clat[-1], clon[-1] = clat[0], clon[0]  # two centres at one place: each counts
        km = float(rng.choice([1, 5, 25, 300, 3000, 15000]) * rng.uniform(0.5, 1.33))
        k = int(rng.integers(1, 3))
        got = Rule.radius(km, min_centers=k).point_reach(clat, clon).covered_grid(
            row_lat, lon0, dlon, nx)
        lat = np.repeat(row_lat, nx)
        lon = np.tile(lon0 + (np.arange(nx) + 0.5) * dlon, row_lat.size)
        near = sum((GEOD.inv(lon, lat, np.full(lat.size, b), np.full(lat.size, a))[2]
                    <= km * 1000).astype(int) for a, b in zip(clat, clon, strict=True))
        assert (got.ravel() == (near >= k)).all(), (seed, case, km, k)


def test_cli_engine_dask_gives_the_memory_json(runner, tmp_path):
    pytest.importorskip("dask.distributed")
    centres = tmp_path / "c.csv"
    CENTRES.to_csv(centres, index=False)
    args = [str(centres), "--radius-km", "10", "--population", str(BURUNDI), "--format",
            "json"]
    memory = _run(runner, *args)
    dask = _run(runner, *args, "--engine", "dask")
    assert memory.exit_code == dask.exit_code == 0, dask.output
    assert memory.stdout == dask.stdout


def test_cli_compares_people_with_a_weight_given(runner, tmp_path):
    districts = tmp_path / "d.geojson"
    _districts().rename(columns={"weight": "census"}).to_file(districts)
    centres = tmp_path / "c.csv"
    CENTRES.to_csv(centres, index=False)
    res = runner.invoke(cli, ["coverage", str(districts), str(centres), "--radius-km", "10",
                              "--weight-col", "census", "--population", str(BURUNDI),
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    rows = {r["id"]: r for r in data["districts"]}
    assert [rows[k]["weight_given"] for k in "NSQ"] == [1.0, 2.0, 3.0]
    people = district_population(_districts(), BURUNDI)
    assert [rows[k]["weight"] for k in "NSQ"] == pytest.approx(people.tolist())
    assert data["population"]["weight_given_col"] == "census"
    assert data["population"]["weight_given_total"] == 6.0


def test_the_run_half_width_meets_r_where_newton_once_failed():
    """The half-width of a row's run is R away from the centre to the millimetre (a pair
    whose Newton step converged was once sent to 90 degrees, and its run's ends walked
    10,000 cells one by one)."""
    from reachplan.geodesy.grid import _half_width

    rng = np.random.default_rng(3)
    plat = np.r_[23.89282636, rng.uniform(-85, 85, 500)]
    rlat = np.r_[23.84375, plat[1:] + rng.uniform(-0.08, 0.08, 500)]
    plon = rng.uniform(-180, 180, plat.size)
    half = _half_width(plat, plon, rlat, 10_000.0, 1)
    d = GEOD.inv(plon, plat, plon + half, rlat)[2]
    near = GEOD.inv(plon, plat, plon, rlat)[2] <= 10_000.0  # rows the circle reaches
    assert np.abs(d[near] - 10_000.0).max() < 1e-3


@pytest.mark.parametrize("fmt", ["VRT", "COG"])
def test_a_vrt_or_a_cog_gives_the_geotiffs_answer(tmp_path, fmt):
    path = tmp_path / f"pop.{fmt.lower()}"
    if fmt == "COG":
        with rasterio.open(BURUNDI) as src:
            profile = src.profile | {"driver": "COG", "compress": "deflate"}
            for key in ("blockysize", "blockxsize", "tiled", "interleave"):
                profile.pop(key, None)
            with rasterio.open(path, "w", **profile) as dst:
                dst.write(src.read())
    else:  # a hand-written VRT over the GeoTIFF, as gdalbuildvrt writes one
        with rasterio.open(BURUNDI) as src:
            t = src.transform
        path.write_text(
            f'<VRTDataset rasterXSize="64" rasterYSize="64"><SRS>EPSG:4326</SRS>'
            f"<GeoTransform>{t.c!r}, {t.a!r}, 0, {t.f!r}, 0, {t.e!r}</GeoTransform>"
            '<VRTRasterBand dataType="UInt16" band="1"><NoDataValue>65535</NoDataValue>'
            f'<SimpleSource><SourceFilename relativeToVRT="0">{BURUNDI}</SourceFilename>'
            "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>",
            encoding="utf-8")
    districts = _districts()
    a = population_coverage(CENTRES, BURUNDI, radius_km=10, districts=districts)
    b = population_coverage(CENTRES, path, radius_km=10, districts=districts)
    assert {k: v for k, v in b.summary.items() if k != "raster"} == \
        {k: v for k, v in a.summary.items() if k != "raster"}
    pd.testing.assert_frame_equal(a.by_district, b.by_district)


def test_the_text_report_lists_people_by_group(runner, tmp_path):
    districts = tmp_path / "d.geojson"
    _districts().to_file(districts)
    centres = tmp_path / "c.csv"
    CENTRES.to_csv(centres, index=False)
    res = runner.invoke(cli, ["coverage", str(districts), str(centres), "--radius-km", "10",
                              "--group-col", "group", "--population", str(BURUNDI)])
    assert res.exit_code == 0, res.output
    total, cov = _brute_within(BURUNDI, _districts(), 10.0)
    lines = res.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["group", "people"])
    a, b = lines[header + 1].split(), lines[header + 2].split()
    assert a[:3] == ["A", f"{total[0] + total[2]:,.0f}", f"{cov[0] + cov[2]:,.0f}"]
    assert b[:3] == ["B", f"{total[1]:,.0f}", f"{cov[1]:,.0f}"]
