"""The embedded India data as shipped: keys, geometry, population totals, sample network.

Expected figures are written out by hand: census totals copied from Census 2011
(``../shared/data/india/state_population_2011.csv``), counts from ``data/README.md``.
The coverage of the sample network is recomputed here with a plain geopandas sjoin.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.ops
from pyproj import Geod

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
    assert int(joined.lgd_code.isna().sum()) == 46  # documented: outside every district


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
    assert list(pins.columns) == ["pincode", "lat", "lon", "flag"]
    assert len(pins) == 19_416 and pins.pincode.is_unique
    assert pins.flag.value_counts().to_dict() == {  # documented in data/README.md
        "": 18_981, "sorting_district": 266, "offices": 168, "zone": 1}
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


# PIN zones (first digit; India Post, as tabled in Wikipedia's "Postal Index Number"), written
# out here by hand; zone 9 is the Army Postal Service
PIN_ZONES = {
    "1": {"Chandigarh", "Delhi", "Haryana", "Himachal Pradesh", "Jammu and Kashmir", "Ladakh",
          "Punjab"},
    "2": {"Uttar Pradesh", "Uttarakhand"},
    "3": {"Dadra and Nagar Haveli and Daman and Diu", "Gujarat", "Rajasthan"},
    "4": {"Chhattisgarh", "Goa", "Madhya Pradesh", "Maharashtra"},
    "5": {"Andhra Pradesh", "Karnataka", "Puducherry", "Telangana"},
    "6": {"Kerala", "Lakshadweep", "Puducherry", "Tamil Nadu"},
    "7": {"Andaman and Nicobar Islands", "Arunachal Pradesh", "Assam", "Manipur", "Meghalaya",
          "Mizoram", "Nagaland", "Odisha", "Sikkim", "Tripura", "West Bengal"},
    "8": {"Bihar", "Jharkhand"},
}
# the raw files sit in shared/ beside the clone (data/build_india.py's default), or beside
# the folder of worktrees
RAW = next((p / "shared" / "data" / "india" / "post_offices.csv.gz"
            for p in Path(__file__).resolve().parents[2:4]
            if (p / "shared" / "data" / "india" / "post_offices.csv.gz").is_file()), Path("-"))


def _km_to_states(pins: pd.DataFrame, allowed: list[set[str]], states: gpd.GeoDataFrame
                  ) -> np.ndarray:
    """Geodesic km from each PIN to the nearest polygon point of its allowed states (0 in)."""
    polys = dict(zip(states.state, states.geometry, strict=True))
    geod = Geod(ellps="WGS84")
    out = np.zeros(len(pins))
    for i, (x, y, names) in enumerate(zip(pins.lon.astype(float), pins.lat.astype(float),
                                          allowed, strict=True)):
        pt = shapely.Point(x, y)
        if any(polys[n].covers(pt) for n in names):
            continue
        near = [shapely.ops.nearest_points(polys[n], pt)[0] for n in names]
        out[i] = min(geod.inv(x, y, q.x, q.y)[2] for q in near) / 1000
    return out


def test_uttar_pradesh_pincodes_no_longer_in_karnataka() -> None:
    # these 14 PIN codes (Azamgarh/Mau, UP) were all published at 12.16681 N 77.10656 E, in
    # Karnataka, ~1,300 km away; a plan picked two of them
    moved = ["276123", "276125", "276128", "276135", "276137", "276142", "276201", "276202",
             "276203", "276204", "276205", "276207", "276301", "276303"]
    pins = pd.read_csv(datasets.india_pincodes_path(), dtype=str, keep_default_na=False)
    pins = pins[pins.pincode.isin(moved)]
    assert len(pins) == 14 and (pins.flag != "").all()
    assert not ((pins.lat == "12.16681") & (pins.lon == "77.10656")).any()
    states = gpd.read_file(datasets.india_states_path())
    up = states.geometry[states.state == "Uttar Pradesh"].iloc[0]
    assert shapely.contains_xy(up, pins.lon.astype(float), pins.lat.astype(float)).all()


def test_every_unflagged_pincode_lies_in_its_postal_zone() -> None:
    # independent of the build: a point-in-polygon test against the states of each PIN's
    # postal zone, with the documented 5 km tolerance (simplified borders, shore lines)
    pins = pd.read_csv(datasets.india_pincodes_path(), dtype=str, keep_default_na=False)
    pins = pins[(pins.flag.isin(["", "zone"])) & ~pins.pincode.str.startswith("9")]
    states = gpd.read_file(datasets.india_states_path())
    km = _km_to_states(pins, [PIN_ZONES[p[0]] for p in pins.pincode], states)
    assert km.max() <= 5.0, pins.pincode.iloc[int(km.argmax())]


@pytest.mark.skipif(not RAW.is_file(), reason="raw India Post directory not beside the repo")
def test_every_unflagged_pincode_lies_in_its_offices_state() -> None:
    # the states India Post files each PIN's offices under (raw directory, upper case)
    raw = pd.read_csv(RAW, dtype=str, keep_default_na=False, usecols=["pincode", "state"])
    names = {s.upper(): s for s in STATES} | {
        "THE DADRA AND NAGAR HAVELI AND DAMAN AND DIU":
            "Dadra and Nagar Haveli and Daman and Diu"}
    raw = raw[raw.state.isin(names)]
    allowed = raw.groupby("pincode").state.agg(lambda s: {names[v] for v in s})
    pins = pd.read_csv(datasets.india_pincodes_path(), dtype=str, keep_default_na=False)
    pins = pins[(pins.flag != "zone") & pins.pincode.isin(allowed.index)
                & ~pins.pincode.str.startswith("9")]
    states = gpd.read_file(datasets.india_states_path())
    km = _km_to_states(pins, list(pins.pincode.map(allowed)), states)
    assert km.max() <= 5.0, pins.pincode.iloc[int(km.argmax())]
