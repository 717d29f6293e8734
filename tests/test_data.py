"""The embedded India data as shipped: keys, geometry, population totals, sample network.

Expected figures are written out by hand: census totals copied from Census 2011
(``../shared/data/india/state_population_2011.csv``), counts from ``data/README.md``.
The coverage of the sample network is recomputed here with a plain geopandas sjoin.
"""

from __future__ import annotations

import gzip

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from reachplan import datasets

# The 36 states / UTs as named in the shipped files (hand-written list).
STATES = {
    "Andaman and Nicobar Islands", "Andhra Pradesh", "Arunachal Pradesh", "Assam", "Bihar",
    "Chandigarh", "Chhattisgarh", "Dadra and Nagar Haveli and Daman and Diu", "Delhi", "Goa",
    "Gujarat", "Haryana", "Himachal Pradesh", "Jammu and Kashmir", "Jharkhand", "Karnataka",
    "Kerala", "Ladakh", "Lakshadweep", "Madhya Pradesh", "Maharashtra", "Manipur", "Meghalaya",
    "Mizoram", "Nagaland", "Odisha", "Puducherry", "Punjab", "Rajasthan", "Sikkim",
    "Tamil Nadu", "Telangana", "Tripura", "Uttar Pradesh", "Uttarakhand", "West Bengal",
}


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return gpd.read_file(datasets.india_districts_path())


@pytest.fixture(scope="module")
def centres() -> pd.DataFrame:
    return pd.read_csv(datasets.india_sample_centres_path(), dtype=str, keep_default_na=False)


def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame.lon.astype(float), frame.lat.astype(float)),
        crs="EPSG:4326")


def test_every_dataset_path_exists() -> None:
    for key in datasets.DATASETS:
        assert datasets.dataset_path(key).is_file(), key
    with pytest.raises(KeyError, match="india_districts"):
        datasets.dataset_path("nope")


def test_district_keys(districts: gpd.GeoDataFrame) -> None:
    assert list(districts.columns) == ["lgd_code", "district", "state", "population_est",
                                       "geometry"]
    assert len(districts) == 777 == datasets.DATASETS["india_districts"]["rows"]
    codes = districts.lgd_code
    assert codes.map(type).eq(str).all()
    assert codes.notna().all() and codes.is_unique
    assert codes.str.fullmatch(r"\d{3}").all()
    assert {"001", "003", "004"} <= set(codes)  # leading zeros kept (003 = Leh, 004 = Kargil)
    assert codes.tolist() == sorted(codes)
    assert districts.set_index("lgd_code").loc["003", "district"] == "LEH"
    # names repeat across states; the code keeps them apart
    assert sorted(districts[districts.district == "BILASPUR"].state) == [
        "Chhattisgarh", "Himachal Pradesh"]
    assert not districts.district.str.contains("_x000D_|\n").any()


def test_district_geometry(districts: gpd.GeoDataFrame) -> None:
    assert districts.crs.to_epsg() == 4326
    assert (districts.geom_type == "MultiPolygon").all()
    assert districts.is_valid.all()
    assert not shapely.has_z(districts.geometry.to_numpy()).any()
    assert not districts.is_empty.any()


def test_districts_form_a_clean_coverage(districts: gpd.GeoDataFrame) -> None:
    # data/README.md, cleaning choice 9: no overlaps, shared edges identical, and only the
    # gaps wider than 1 km (disputed slivers and one 19.3 km2 gap) left: 22 holes.
    geoms = districts.geometry.to_numpy()
    assert shapely.coverage_is_valid(geoms)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    assert len(left) == 0
    union = shapely.union_all(geoms)
    assert sum(len(part.interiors) for part in shapely.get_parts(union)) == 22


def test_pincode_centroids_in_one_district_at_most(districts: gpd.GeoDataFrame) -> None:
    pins = pd.read_csv(datasets.india_pincodes_path(), dtype=str, keep_default_na=False)
    joined = gpd.sjoin(_points(pins), districts[["lgd_code", "geometry"]], how="left",
                       predicate="within")
    assert not joined.index.duplicated().any()  # documented: 9 in two districts before cleaning
    assert int(joined.lgd_code.isna().sum()) == 194  # documented: outside every district


def test_state_names_complete(districts: gpd.GeoDataFrame, centres: pd.DataFrame) -> None:
    assert set(districts.state) == STATES
    states = gpd.read_file(datasets.india_states_path())
    assert set(states.state) == STATES and len(states) == 36
    assert set(centres.state) <= STATES
    heads = pd.read_csv(datasets.india_head_offices_path(), dtype=str)
    assert set(heads.state) <= STATES


def test_population_sums_to_census_state_totals(districts: gpd.GeoDataFrame) -> None:
    assert districts.population_est.dtype.kind == "i"
    assert (districts.population_est > 0).all()
    by_state = districts.groupby("state").population_est.sum()
    # Census 2011 totals, copied by hand from state_population_2011.csv
    assert by_state["Kerala"] == 33_406_061
    assert by_state["Bihar"] == 104_099_452
    assert by_state["Goa"] == 1_458_545
    # Ladakh was inside Jammu & Kashmir in 2011; DNH and Daman & Diu were two UTs
    assert by_state["Jammu and Kashmir"] + by_state["Ladakh"] == 12_541_302
    assert by_state["Dadra and Nagar Haveli and Daman and Diu"] == 343_709 + 243_247
    assert by_state.sum() == 1_210_664_673


def test_sample_network_shape(centres: pd.DataFrame) -> None:
    assert list(centres.columns) == ["center_id", "name", "city", "state", "type", "lat", "lon"]
    assert len(centres) == 2000
    assert centres.center_id.tolist() == [f"SC{i:04d}" for i in range(1, 2001)]
    assert centres.city.nunique() == 680
    assert centres.type.value_counts().to_dict() == {
        "direct": 1285, "partner": 647, "premium": 48, "van": 20}
    assert centres.name.str.endswith("(synthetic)").all()


def test_sample_network_presence_coverage(districts: gpd.GeoDataFrame,
                                          centres: pd.DataFrame) -> None:
    joined = gpd.sjoin(_points(centres), districts[["lgd_code", "geometry"]],
                       how="left", predicate="within")
    assert joined.lgd_code.notna().all()  # every centre on land inside India
    assert not joined.index.duplicated().any()  # and in one district only
    covered = joined.lgd_code.nunique()
    assert covered == 710  # documented: 710 / 777 = 91.38 %
    assert round(100 * covered / len(districts), 2) == 91.38
    # "from Leh to Kanyakumari, Ziro to Dwarka"
    named = districts.set_index("district").loc[
        ["LEH", "KANNIYAKUMARI", "LOWER SUBANSIRI", "DEVBHUMI DWARKA"], "lgd_code"]
    assert set(named) <= set(joined.lgd_code)


def test_head_offices_and_pincodes() -> None:
    heads = pd.read_csv(datasets.india_head_offices_path(), dtype=str, keep_default_na=False)
    assert list(heads.columns) == ["pincode", "name", "district", "state", "lat", "lon"]
    assert len(heads) == 785
    assert heads.pincode.str.fullmatch(r"\d{6}").all()
    pins = pd.read_csv(datasets.india_pincodes_path(), dtype=str, keep_default_na=False)
    assert list(pins.columns) == ["pincode", "lat", "lon"]
    assert len(pins) == 19_416 and pins.pincode.is_unique
    assert pins.pincode.str.fullmatch(r"\d{6}").all()


def test_post_offices_gzip_is_deterministic() -> None:
    path = datasets.india_districts_path().with_name("india_post_offices.csv.gz")
    if not path.is_file():
        pytest.skip("benchmark file not installed (it is left out of the wheel)")
    raw = path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip mtime 0
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        header = fh.readline().strip()
        rows = sum(1 for _ in fh)
    assert header == "pincode,office_name,office_type,lat,lon,geo_quality"
    assert rows == 151_789
