"""Build reachplan's embedded India default data from the shared raw files.

Run from anywhere::

    python data/build_india.py [--shared PATH]

``--shared`` defaults to ``../shared/data/india`` relative to the repository root. The script
writes, into this ``data/`` folder, byte-identical files on every run (no timestamps, no random
state without a fixed seed, sorted orders):

- ``india_districts.fgb``      districts keyed by LGD code, with a modelled population estimate
- ``india_states.fgb``         state / UT outlines (same state names as the districts)
- ``india_sample_centres.csv`` a SYNTHETIC network of 2,000 service centres at real towns
- ``india_post_head_offices.csv`` India Post head offices (a real second network)
- ``india_pincodes.csv``       PIN-code centroids (demand points, plan candidates)
- ``india_post_offices.csv.gz`` every geocoded post office (benchmarks only; not in the wheel)

Every cleaning choice is printed with its counts and documented in ``data/README.md``. The
script stops with a one-line error when an input does not look as expected (an unmatched state
name, a count that changed), so a new upstream release cannot slip through silently.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Geod

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_SHARED = REPO.parent / "shared" / "data" / "india"
_GEOD = Geod(ellps="WGS84")

# --------------------------------------------------------------------------------------------
# State-name mapping. One row per state / UT of the district file (36). Columns:
#   display name (what we ship) | districts.fgb STATE_UT | states.fgb STATE |
#   census unit (Census 2011 rows whose total is split over this unit's districts) |
#   India Post state name (post_offices.csv.gz)
# Census 2011 predates three changes, handled through "census units":
#   - Ladakh was part of Jammu & Kashmir: J&K and Ladakh districts share the J&K 2011 total;
#   - Dadra & Nagar Haveli and Daman & Diu were two UTs, merged in 2020: their two 2011 totals
#     are added and split over the merged UT's districts;
#   - Telangana (2014) is already shown apart from Andhra Pradesh in the census CSV.
# --------------------------------------------------------------------------------------------
STATES: tuple[tuple[str, str, str, str, str], ...] = (
    ("Andaman and Nicobar Islands", "ANDAMAN AND NICOBAR ISLANDS", "ANDAMAN & NICOBAR",
     "Andaman & Nicobar Islands", "ANDAMAN AND NICOBAR ISLANDS"),
    ("Andhra Pradesh", "ANDHRA PRADESH", "ANDHRA PRADESH", "Andhra Pradesh", "ANDHRA PRADESH"),
    ("Arunachal Pradesh", "ARUNACHAL PRADESH", "ARUNACHAL PRADESH", "Arunachal Pradesh",
     "ARUNACHAL PRADESH"),
    ("Assam", "ASSAM", "ASSAM", "Assam", "ASSAM"),
    ("Bihar", "BIHAR", "BIHAR", "Bihar", "BIHAR"),
    ("Chandigarh", "CHANDIGARH", "CHANDIGARH", "Chandigarh", "CHANDIGARH"),
    ("Chhattisgarh", "CHHATTISGARH", "CHHATTISGARH", "Chhattisgarh", "CHHATTISGARH"),
    ("Dadra and Nagar Haveli and Daman and Diu", "DADRA & NAGAR HAVELI & DAMAN & DIU",
     "DADRA & NAGAR HAVELI & DAMAN & DIU", "Dadra & Nagar Haveli + Daman & Diu",
     "THE DADRA AND NAGAR HAVELI AND DAMAN AND DIU"),
    ("Delhi", "DELHI", "DELHI", "Delhi", "DELHI"),
    ("Goa", "GOA", "GOA", "Goa", "GOA"),
    ("Gujarat", "GUJARAT", "GUJARAT", "Gujarat", "GUJARAT"),
    ("Haryana", "HARYANA", "HARYANA", "Haryana", "HARYANA"),
    ("Himachal Pradesh", "HIMACHAL PRADESH", "HIMACHAL PRADESH", "Himachal Pradesh",
     "HIMACHAL PRADESH"),
    ("Jammu and Kashmir", "JAMMU AND KASHMIR", "JAMMU AND KASHMIR",
     "Jammu & Kashmir (incl. Ladakh)", "JAMMU AND KASHMIR"),
    ("Jharkhand", "JHARKHAND", "JHARKHAND", "Jharkhand", "JHARKHAND"),
    ("Karnataka", "KARNATAKA", "KARNATAKA", "Karnataka", "KARNATAKA"),
    ("Kerala", "KERALA", "KERALA", "Kerala", "KERALA"),
    ("Ladakh", "LADAKH", "LADAKH", "Jammu & Kashmir (incl. Ladakh)", "LADAKH"),
    ("Lakshadweep", "LAKSHADWEEP", "LAKSHADWEEP", "Lakshadweep", "LAKSHADWEEP"),
    ("Madhya Pradesh", "MADHYA PRADESH", "MADHYA PRADESH", "Madhya Pradesh", "MADHYA PRADESH"),
    ("Maharashtra", "MAHARASHTRA", "MAHARASHTRA", "Maharashtra", "MAHARASHTRA"),
    ("Manipur", "MANIPUR", "MANIPUR", "Manipur", "MANIPUR"),
    ("Meghalaya", "MEGHALAYA", "MEGHALAYA", "Meghalaya", "MEGHALAYA"),
    ("Mizoram", "MIZORAM", "MIZORAM", "Mizoram", "MIZORAM"),
    ("Nagaland", "NAGALAND", "NAGALAND", "Nagaland", "NAGALAND"),
    ("Odisha", "ODISHA", "ODISHA", "Odisha", "ODISHA"),
    ("Puducherry", "PUDUCHERRY", "PUDUCHERRY", "Puducherry", "PUDUCHERRY"),
    ("Punjab", "PUNJAB", "PUNJAB", "Punjab", "PUNJAB"),
    ("Rajasthan", "RAJASTHAN", "RAJASTHAN", "Rajasthan", "RAJASTHAN"),
    ("Sikkim", "SIKKIM", "SIKKIM", "Sikkim", "SIKKIM"),
    ("Tamil Nadu", "TAMIL NADU", "TAMIL NADU", "Tamil Nadu", "TAMIL NADU"),
    ("Telangana", "TELANGANA", "TELANGANA", "Telangana", "TELANGANA"),
    ("Tripura", "TRIPURA", "TRIPURA", "Tripura", "TRIPURA"),
    ("Uttar Pradesh", "UTTAR PRADESH", "UTTAR PRADESH", "Uttar Pradesh", "UTTAR PRADESH"),
    ("Uttarakhand", "UTTARAKHAND", "UTTARAKHAND", "Uttarakhand", "UTTARAKHAND"),
    ("West Bengal", "WEST BENGAL", "WEST BENGAL", "West Bengal", "WEST BENGAL"),
)
# Census units made of several Census 2011 rows (every other unit is one row of the same name).
CENSUS_UNITS: dict[str, tuple[str, ...]] = {
    "Jammu & Kashmir (incl. Ladakh)": ("Jammu & Kashmir",),
    "Dadra & Nagar Haveli + Daman & Diu": ("Dadra & Nagar Haveli", "Daman & Diu"),
}
# states.fgb polygons that are no state: disputed inter-state slivers, dropped (see README).
DISPUTED_STATE_POLYGONS = (
    "DISPUTED (MADHYA PRADESH & GUJARAT)",
    "DISPUTED (MADHYA PRADESH & RAJASTHAN)",
    "DISPUTED (RAJATHAN & GUJARAT)",
    "DISPUTED (WEST BENGAL , BIHAR & JHARKHAND)",
)

# Expected shapes of the raw inputs; a change upstream stops the build.
EXPECTED = {
    "district_rows": 808,
    "no_id_rows": 29,
    "disputed_rows": 28,
    "placeholder_code_rows": 2,
    "districts_out": 777,
    "census_total": 1_210_664_673,
    "post_offices": 165_625,
    "post_offices_geocoded": 151_789,
    "pincodes": 19_416,
    "places": 7_094,
}
PLACEHOLDER_CODE = "NOT AVAILABLE"
# GeoNames places whose population is wrong for the place, found by checking every place of
# 1,000,000 or more by hand; they are left out of the population signal and of the towns.
GEONAMES_EXCLUDED: dict[str, str] = {
    "1254745": "Teni (Tamil Nadu): 1,034,724 is about ten times the town",
    "1261162": "Nowrangapur (Odisha): 1,220,946 is a district-level figure for a small town",
    "1270926": "Gorakhpur (Haryana, a village): 1,324,570 belongs to Gorakhpur, Uttar Pradesh",
    "12165956": "Kallakurichi (Tamil Nadu): 1,682,687 is the district, not the town",
    "1258393": "Rasapudipalem (a locality of Visakhapatnam): 1,728,128 repeats the city",
    "6943660": "Shivaji Nagar (a locality of Pune): round 1,000,000 repeats part of the city",
    "1259652": "Pimpri (Pune): counted again by Pimpri-Chinchwad (7626690)",
    "1272423": "Dombivali (Thane): counted again by Kalyan (1268295), one corporation",
}
NAZUL_STATE, NAZUL_NAME = "DELHI", "NAZUL"
# PIN-code centroids are checked against the state(s) of the PIN's own offices in the India
# Post directory (post_offices.csv.gz `state`); a PIN none of whose offices has a state there
# is checked against its postal zone, the PIN's first digit (India Post's zones, as tabled in
# Wikipedia's "Postal Index Number" article; zone 9 is the Army Postal Service). Puducherry is
# in zones 5 (Yanam) and 6 (Puducherry, Karaikal, Mahe).
PIN_ZONES: dict[str, tuple[str, ...]] = {
    "1": ("Chandigarh", "Delhi", "Haryana", "Himachal Pradesh", "Jammu and Kashmir", "Ladakh",
          "Punjab"),
    "2": ("Uttar Pradesh", "Uttarakhand"),
    "3": ("Dadra and Nagar Haveli and Daman and Diu", "Gujarat", "Rajasthan"),
    "4": ("Chhattisgarh", "Goa", "Madhya Pradesh", "Maharashtra"),
    "5": ("Andhra Pradesh", "Karnataka", "Puducherry", "Telangana"),
    "6": ("Kerala", "Lakshadweep", "Puducherry", "Tamil Nadu"),
    "7": ("Andaman and Nicobar Islands", "Arunachal Pradesh", "Assam", "Manipur", "Meghalaya",
          "Mizoram", "Nagaland", "Odisha", "Sikkim", "Tripura", "West Bengal"),
    "8": ("Bihar", "Jharkhand"),
}
# A centroid within this geodesic distance of its state's polygon counts as in it: the state
# polygons are simplified ("lite") and coastal PINs sit on the shore line.
PIN_STATE_TOLERANCE_KM = 5.0
# Coverage cleaning (shapely.coverage_clean, GEOS CoverageCleaner): gaps narrower than 1 km
# between districts are given to a neighbour, overlaps to one of the two. It runs on the
# degree coordinates as published (no reprojection round trip); 1 km is turned into degrees
# with the longest degree anywhere on WGS84 (one degree of latitude at the poles, 111,694 m),
# so a gap closed is at most 1 km wide in any direction at any latitude (in India, at most
# 0.99 km north-south and 0.80-0.99 km east-west). A cleaning threshold, not a distance.
CLEAN_GAP_WIDTH_M = 1000.0
CLEAN_GAP_WIDTH_DEG = CLEAN_GAP_WIDTH_M / 111_694.0
CLEAN_MAX_LOSS = 0.05  # the build stops if cleaning takes more than 5 % of a district's area

# --------------------------------------------------------------------------------------------
# Synthetic sample network, modelled on a public claim: a phone maker's 2,000th authorised
# service centre in India, in 680 cities, covering more than 90% of districts.
# --------------------------------------------------------------------------------------------
N_CENTRES = 2000
N_CITIES = 680
N_VANS = 20
SEED = 20111  # fixed: the jitter of centres around their town point
PREMIUM_MIN_POP = 1_000_000  # GeoNames population of the town
DIRECT_MIN_POP = 100_000
# Urban agglomerations that service networks list as one city although they span districts.
METROS: dict[str, tuple[tuple[str, str], ...]] = {
    "Delhi NCR": tuple(("DELHI", d) for d in (
        "CENTRAL", "EAST", "NEW DELHI", "NORTH", "NORTH EAST", "NORTH WEST", "SHAHDARA",
        "SOUTH", "SOUTH EAST", "SOUTH WEST", "WEST")) + (
        ("HARYANA", "GURUGRAM"), ("HARYANA", "FARIDABAD"),
        ("UTTAR PRADESH", "GAUTAM BUDDHA NAGAR"), ("UTTAR PRADESH", "GHAZIABAD")),
    "Mumbai": (("MAHARASHTRA", "MUMBAI"), ("MAHARASHTRA", "MUMBAI SUBURBAN"),
               ("MAHARASHTRA", "THANE"), ("MAHARASHTRA", "PALGHAR"),
               ("MAHARASHTRA", "RAIGAD")),
    "Kolkata": (("WEST BENGAL", "KOLKATA"), ("WEST BENGAL", "HAORA"), ("WEST BENGAL", "HUGLI"),
                ("WEST BENGAL", "NORTH TWENTY-FOUR PARGANAS"),
                ("WEST BENGAL", "SOUTH 24PARGANAS")),
    "Chennai": (("TAMIL NADU", "CHENNAI"), ("TAMIL NADU", "CHENGALPATTU"),
                ("TAMIL NADU", "TIRUVALLUR"), ("TAMIL NADU", "KANCHEEPURAM")),
    "Hyderabad": (("TELANGANA", "HYDERABAD"), ("TELANGANA", "MEDCHAL-MALKAJGIRI"),
                  ("TELANGANA", "RANGA REDDY")),
    "Bengaluru": (("KARNATAKA", "BENGALURU (URBAN)"), ("KARNATAKA", "BENGALURU (RURAL)")),
    "Chandigarh Tricity": (("CHANDIGARH", "CHANDIGARH"),
                           ("PUNJAB", "SAS NAGAR (SAHIBZADA AJIT SINGH NAGAR)"),
                           ("HARYANA", "PANCHKULA")),
}
# "From Leh to Kanyakumari, Ziro to Dwarka": always covered.
FORCED = (("LADAKH", "LEH"), ("TAMIL NADU", "KANNIYAKUMARI"),
          ("ARUNACHAL PRADESH", "LOWER SUBANSIRI"), ("GUJARAT", "DEVBHUMI DWARKA"))


@dataclass
class BuildReport:
    """What each stage found and decided, printed after the build (every field is set by the
    stage that owns it; see ``STAGES``)."""

    clean_abs_max_km2: Any = None
    clean_rel_max: Any = None
    clean_rel_min: Any = None
    coverage_after: Any = None
    coverage_before: Any = None
    disputed_by_remark: Any = None
    disputed_km2: Any = None
    disputed_rows: Any = None
    districts: Any = None
    ho_outside: Any = None
    ho_quality: Any = None
    ho_rows: Any = None
    names_cleaned: Any = None
    nazul_into: Any = None
    nazul_km2: Any = None
    net_covered: Any = None
    net_covered_target: Any = None
    net_ho_sites: Any = None
    net_no_town: Any = None
    net_pct: Any = None
    net_renamed_cities: Any = None
    net_types: Any = None
    offices_rows: Any = None
    out_km2: Any = None
    pins_army: Any = None
    pins_moved: Any = None
    pins_off_zone: Any = None
    pins_outside: Any = None
    pins_zone: Any = None
    pins_within_tolerance: Any = None
    pins_zone_only: Any = None
    placeholder: Any = None
    places_excluded: Any = None
    places_outside: Any = None
    po_outside: Any = None
    pop_fallback_units: Any = None
    pop_no_bo: Any = None
    pop_no_gn: Any = None
    pop_zero: Any = None
    raw_km2: Any = None
    repaired: Any = None
    repeated_code_rows: Any = None
    state_disputed_km2: Any = None
    state_disputed_rows: Any = None
    swapped_inside: Any = None
    unit_total: Any = None
    z_rows: Any = None


class BuildError(RuntimeError):
    """An input does not look as this script expects."""


def _fail(msg: str) -> None:
    raise BuildError(msg)


def _check(cond: bool, msg: str) -> None:
    if not cond:
        _fail(msg)


def _log(msg: str) -> None:
    print(msg, flush=True)


def _km2(geom: shapely.Geometry) -> float:
    return abs(_GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def _polygonal(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """2D, valid, MultiPolygon: make_valid and keep only the polygonal parts."""
    geom = shapely.force_2d(geom)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        polys = shapely.get_parts(shapely.get_parts(geom))
        parts = [p for p in polys if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts)


def _largest_remainder(total: int, weights: np.ndarray, keys: list[str]) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (Hamilton method).

    Ties in the remainders go to the smaller key, so the result is deterministic.
    """
    w = np.asarray(weights, dtype=float)
    _check(w.sum() > 0, "largest remainder: all weights are zero")
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    short = int(total - base.sum())
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - base[i]), keys[i]))
    for i in order[:short]:
        base[i] += 1
    return base


# --------------------------------------------------------------------------------------------
# States and census
# --------------------------------------------------------------------------------------------
def _state_tables(shared: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    states = pd.DataFrame(
        STATES, columns=["state", "dist_name", "poly_name", "census_unit", "post_name"]
    )
    for col in states.columns[:3]:
        _check(states[col].is_unique, f"state mapping: column {col} has duplicates")
    census = pd.read_csv(shared / "state_population_2011.csv", dtype={"total_population": "int64"})
    _check(int(census.total_population.sum()) == EXPECTED["census_total"],
           f"state_population_2011.csv: total {census.total_population.sum()} is not "
           f"{EXPECTED['census_total']}")
    unit_rows = {u: CENSUS_UNITS.get(u, (u,)) for u in states.census_unit.unique()}
    used = [r for rows in unit_rows.values() for r in rows]
    missing = sorted(set(used) - set(census.state))
    _check(not missing, f"state mapping: census rows {missing} not in state_population_2011.csv")
    unused = sorted(set(census.state) - set(used))
    _check(not unused, f"state mapping: census rows {unused} are mapped to no state")
    _check(len(used) == len(set(used)), "state mapping: a census row is used twice")
    by_row = dict(zip(census.state, census.total_population, strict=True))
    unit_total = {u: int(sum(by_row[r] for r in rows)) for u, rows in unit_rows.items()}
    return states, unit_total


def _map_state(values: Iterable[str], mapping: dict[str, str], what: str) -> None:
    unmatched = sorted(set(values) - set(mapping))
    _check(not unmatched, f"state mapping: {what} names {unmatched} are unmatched; add them to "
                          "STATES in data/build_india.py")


# --------------------------------------------------------------------------------------------
# Districts
# --------------------------------------------------------------------------------------------
def _districts(shared: Path, states: pd.DataFrame, report: BuildReport) -> gpd.GeoDataFrame:
    raw = gpd.read_file(shared / "districts.fgb")
    _check(len(raw) == EXPECTED["district_rows"], f"districts.fgb: {len(raw)} rows, expected "
                                                    f"{EXPECTED['district_rows']}")
    _check(str(raw.crs).upper() == "EPSG:4326", f"districts.fgb: CRS {raw.crs}, expected 4326")
    report.z_rows = int(raw.has_z.sum())
    raw["km2"] = [_km2(shapely.force_2d(g)) for g in raw.geometry]
    report.raw_km2 = float(raw.km2.sum())

    no_id = raw.DIST_LGD.isna()
    disputed = no_id & raw.STATE_UT.isna() & raw.DISTRICT.isna()
    nazul = no_id & raw.STATE_UT.eq(NAZUL_STATE) & raw.DISTRICT.eq(NAZUL_NAME)
    _check(int(no_id.sum()) == EXPECTED["no_id_rows"], "districts.fgb: rows without DIST_LGD "
                                                        f"changed: {int(no_id.sum())}")
    _check(int(disputed.sum()) == EXPECTED["disputed_rows"] and int(nazul.sum()) == 1
           and int((disputed | nazul).sum()) == int(no_id.sum()),
           "districts.fgb: rows without DIST_LGD are no longer 28 disputed slivers + Nazul")
    _check(raw.loc[disputed, "REMARKS"].str.startswith("DISPUTED").all(),
           "districts.fgb: a row with no state and no district is not marked DISPUTED")
    report.disputed_rows = int(disputed.sum())
    report.disputed_km2 = float(raw.loc[disputed, "km2"].sum())
    report.disputed_by_remark = raw.loc[disputed].groupby("REMARKS").km2.agg(["size", "sum"])
    report.nazul_km2 = float(raw.loc[nazul, "km2"].sum())

    placeholder = raw.DIST_LGD == PLACEHOLDER_CODE
    _check(int(placeholder.sum()) == EXPECTED["placeholder_code_rows"],
           f"districts.fgb: {int(placeholder.sum())} rows with DIST_LGD '{PLACEHOLDER_CODE}'")
    report.placeholder = raw.loc[placeholder, ["STATE_UT", "DISTRICT", "km2"]]

    keep = raw.loc[~no_id & ~placeholder].copy()
    _check(keep.DIST_LGD.str.fullmatch(r"\d{3}").all(),
           "districts.fgb: an LGD code is not three digits")
    _map_state(keep.STATE_UT, dict(zip(states.dist_name, states.state, strict=True)),
               "districts.fgb STATE_UT")
    keep["geometry"] = [shapely.force_2d(g) for g in keep.geometry]
    invalid = ~keep.is_valid
    report.repaired = int(invalid.sum())
    keep["geometry"] = [_polygonal(g) for g in keep.geometry]

    # Rows repeating an LGD code: dissolve into one district (none besides the placeholder
    # today; kept general so an upstream split row cannot be double counted).
    dup = keep.DIST_LGD.duplicated(keep=False)
    report.repeated_code_rows = int(dup.sum())
    for code, grp in keep[dup].groupby("DIST_LGD"):
        _check(grp.STATE_UT.nunique() == 1 and grp.DISTRICT.nunique() == 1,
               f"districts.fgb: LGD code {code} used by different districts")
    merged = []
    for code, grp in keep.groupby("DIST_LGD", sort=True):
        first = grp.iloc[0]
        geom = (grp.geometry.iloc[0] if len(grp) == 1
                else _polygonal(shapely.union_all(grp.geometry.to_numpy())))
        merged.append((code, first.DISTRICT, first.STATE_UT, geom))
    out = gpd.GeoDataFrame(merged, columns=["lgd_code", "district_raw", "state_raw", "geometry"],
                           crs="EPSG:4326")

    # Nazul (Delhi; no LGD code): merged into the Delhi district with the longest shared border,
    # so that Delhi has no hole and a centre there still falls in a district.
    nz = _polygonal(raw.loc[nazul, "geometry"].iloc[0])
    delhi = out[out.state_raw == NAZUL_STATE]
    shared_len = {r.lgd_code: shapely.intersection(r.geometry.boundary, nz.boundary).length
                  for r in delhi.itertuples()}
    target = max(sorted(shared_len), key=lambda k: shared_len[k])
    _check(shared_len[target] > 0, "Nazul touches no Delhi district")
    i = out.index[out.lgd_code == target][0]
    out.at[i, "geometry"] = _polygonal(shapely.union_all([out.at[i, "geometry"], nz]))
    report.nazul_into = (target, out.at[i, "district_raw"])

    dist_to_state = dict(zip(states.dist_name, states.state, strict=True))
    out["state"] = out.state_raw.map(dist_to_state)
    # Six Assam names carry a spreadsheet escape of a carriage return ("BAKSA_x000D_\n").
    clean = out.district_raw.str.replace("_x000D_", "", regex=False).str.strip()
    report.names_cleaned = sorted(out.district_raw[clean != out.district_raw].map(repr))
    out["district"] = clean
    _check(out.district.str.fullmatch(r"[A-Z0-9 .()&'\-]+").all(),
           "districts.fgb: a district name has unexpected characters")
    _check(len(out) == EXPECTED["districts_out"], f"{len(out)} districts, expected "
                                                   f"{EXPECTED['districts_out']}")
    _check(out.is_valid.all() and not out.has_z.any(), "a district geometry is invalid or 3D")
    _check((out.geom_type == "MultiPolygon").all(), "a district is not a MultiPolygon")
    out = out.sort_values("lgd_code").reset_index(drop=True)
    # Gaps and overlaps between districts (digitising noise): measured, cleaned, measured again.
    # The dropped rows (disputed slivers, Mirpur, Muzaffarabad) take part in the cleaning as
    # their own polygons, then are discarded: no gap is closed by growing a district into them.
    dropped = [_polygonal(g) for g in raw.loc[disputed | placeholder, "geometry"]]
    report.coverage_before = _coverage_figures(out.geometry.to_numpy())
    before_km2 = np.array([_km2(g) for g in out.geometry])
    out["geometry"] = _clean_coverage(out.geometry.to_numpy(), dropped)
    after_km2 = np.array([_km2(g) for g in out.geometry])
    report.coverage_after = _coverage_figures(out.geometry.to_numpy())
    geoms = out.geometry.to_numpy()
    _check(bool(shapely.is_valid(geoms).all()) and bool(shapely.coverage_is_valid(geoms)),
           "districts: the cleaned coverage is invalid")
    _check((out.geom_type == "MultiPolygon").all() and not out.is_empty.any(),
           "districts: cleaning left a district empty or not a MultiPolygon")
    rel = (after_km2 - before_km2) / before_km2
    report.clean_rel_min = (float(rel.min()), out.lgd_code[int(rel.argmin())],
                               out.district[int(rel.argmin())])
    report.clean_rel_max = (float(rel.max()), out.lgd_code[int(rel.argmax())],
                               out.district[int(rel.argmax())])
    report.clean_abs_max_km2 = float(np.abs(after_km2 - before_km2).max())
    _check(rel.min() > -CLEAN_MAX_LOSS, f"districts: cleaning took {-rel.min():.1%} of the area "
                                        f"of {report.clean_rel_min[1:]}")
    report.out_km2 = float(after_km2.sum())
    return out


def _coverage_figures(geoms: np.ndarray) -> dict:
    """Gaps (holes of the union) and pairwise overlaps of a set of polygons, geodesic km2."""
    union = shapely.union_all(geoms)
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(union)
             for ring in part.interiors]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="overlaps")
    keep = left < right
    inter = shapely.intersection(geoms[left[keep]], geoms[right[keep]])
    inter = inter[shapely.area(inter) > 0]
    return {"gaps": len(holes), "gaps_km2": float(sum(_km2(h) for h in holes)),
            "gaps_deg2": float(sum(h.area for h in holes)),
            "overlap_pairs": len(inter), "overlap_km2": float(sum(_km2(g) for g in inter)),
            "overlap_deg2": float(shapely.area(inter).sum())}


def _clean_coverage(geoms: np.ndarray, dropped: list[shapely.Geometry]) -> list:
    """``shapely.coverage_clean`` of the districts (with the dropped rows as extra polygons).

    Works in degrees, with the gap width converted conservatively (see CLEAN_GAP_WIDTH_DEG):
    overlaps go to the neighbour with the longest shared border, gaps narrower than the width
    to the neighbour with the longest border; wider gaps (and the dropped rows) stay gaps.
    """
    allg = np.concatenate([geoms, np.array(dropped, dtype=object)])
    cleaned = shapely.coverage_clean(allg, gap_width=CLEAN_GAP_WIDTH_DEG,
                                     merge_strategy="longest_border")
    return [_polygonal(g) for g in cleaned[:len(geoms)]]


def _states_polygons(shared: Path, states: pd.DataFrame, report: BuildReport) -> gpd.GeoDataFrame:
    raw = gpd.read_file(shared / "states.fgb")
    names = set(raw.STATE)
    disputed = set(DISPUTED_STATE_POLYGONS)
    _check(disputed <= names, f"states.fgb: disputed polygons missing: {sorted(disputed - names)}")
    mapping = dict(zip(states.poly_name, states.state, strict=True))
    _map_state(names - disputed, mapping, "states.fgb STATE")
    missing = sorted(set(mapping) - names)
    _check(not missing, f"states.fgb: no polygon for {missing}")
    drop = raw.STATE.isin(disputed)
    report.state_disputed_rows = int(drop.sum())
    report.state_disputed_km2 = float(
        sum(_km2(shapely.force_2d(g)) for g in raw.geometry[drop]))
    keep = raw[~drop]
    out = gpd.GeoDataFrame(
        {"state": keep.STATE.map(mapping).to_numpy(),
         "geometry": [_polygonal(g) for g in keep.geometry]}, crs="EPSG:4326")
    _check(out.state.is_unique, "states.fgb: a state has several polygons")
    return out.sort_values("state").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Points
# --------------------------------------------------------------------------------------------
def _points(df: pd.DataFrame, lat: str = "lat", lon: str = "lon") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df[lon].astype(float), df[lat].astype(float)),
        crs="EPSG:4326")


def _locate(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.Series:
    """LGD code of the district holding each point (None outside); first code if several."""
    j = gpd.sjoin(points[["geometry"]], districts[["lgd_code", "geometry"]],
                  how="left", predicate="within")
    j = j.sort_values("lgd_code", na_position="last")
    return j.groupby(level=0).lgd_code.first().reindex(points.index)


def _post_offices(shared: Path) -> pd.DataFrame:
    po = pd.read_csv(shared / "post_offices.csv.gz", dtype=str, keep_default_na=False)
    _check(len(po) == EXPECTED["post_offices"], f"post_offices.csv.gz: {len(po)} rows")
    has = (po.lat != "") & (po.lon != "")
    _check(int(has.sum()) == EXPECTED["post_offices_geocoded"],
           f"post_offices.csv.gz: {int(has.sum())} geocoded rows")
    _check(set(po.loc[has, "geo_quality"]) == {"original", "swapped", "suspect"},
           "post_offices.csv.gz: unexpected geo_quality among geocoded rows")
    return po


# --------------------------------------------------------------------------------------------
# Population estimate
# --------------------------------------------------------------------------------------------
def _share(values: pd.Series) -> pd.Series | None:
    total = values.sum()
    return values / total if total > 0 else None


def _population(districts: gpd.GeoDataFrame, states: pd.DataFrame, unit_total: dict[str, int],
                po_pts: gpd.GeoDataFrame, places: gpd.GeoDataFrame, shared: Path,
                report: BuildReport) -> gpd.GeoDataFrame:
    census = pd.read_csv(shared / "state_population_2011.csv")
    rows = {u: CENSUS_UNITS.get(u, (u,)) for u in unit_total}
    urban = {u: int(census.set_index("state").loc[list(r), "urban_population"].sum())
             for u, r in rows.items()}
    rural = {u: int(census.set_index("state").loc[list(r), "rural_population"].sum())
             for u, r in rows.items()}
    for u in unit_total:
        _check(urban[u] + rural[u] == unit_total[u], f"census: urban + rural != total for {u}")

    good = po_pts[po_pts.geo_quality.isin(["original", "swapped"])]
    bo_count = good[good.office_type == "BO"].lgd_code.value_counts()
    so_count = good[good.office_type != "BO"].lgd_code.value_counts()
    gn_pop = places.groupby("lgd_code").population.sum()
    d = districts.copy()
    d["unit"] = d.state.map(dict(zip(states.state, states.census_unit, strict=True)))
    d["bo"] = d.lgd_code.map(bo_count).fillna(0).astype(float)
    d["so"] = d.lgd_code.map(so_count).fillna(0).astype(float)
    d["gn"] = d.lgd_code.map(gn_pop).fillna(0).astype(float)
    est = np.zeros(len(d))
    fallback = []
    for unit, idx in d.groupby("unit").groups.items():
        sub = d.loc[idx]
        # Rural share: branch offices (village-level offices). Urban share: the mean of the
        # district's share of sub/head offices and of GeoNames town population.
        share_bo = _share(sub.bo)
        share_so = _share(sub.so)
        share_gn = _share(sub.gn)
        if share_bo is None:
            share_bo = share_so
            fallback.append(f"{unit}: rural by offices")
        if share_gn is None:
            share_gn = share_so
            fallback.append(f"{unit}: urban without GeoNames")
        _check(share_bo is not None and share_so is not None, f"population: no signal in {unit}")
        share_u = 0.5 * share_so + 0.5 * share_gn
        est[d.index.get_indexer(idx)] = rural[unit] * share_bo + urban[unit] * share_u
    d["float_est"] = est
    d["population_est"] = 0
    for unit, idx in d.groupby("unit").groups.items():
        sub = d.loc[idx]
        d.loc[idx, "population_est"] = _largest_remainder(
            unit_total[unit], sub.float_est.to_numpy(), sub.lgd_code.tolist())
    d["population_est"] = d.population_est.astype("int64")
    for unit, total in unit_total.items():
        _check(int(d.loc[d.unit == unit, "population_est"].sum()) == total,
               f"population: {unit} does not sum to its census total")
    report.pop_fallback_units = fallback
    report.pop_zero = d.loc[d.population_est == 0, ["lgd_code", "district", "state"]]
    report.pop_no_bo = int((d.bo == 0).sum())
    report.pop_no_gn = int((d.gn == 0).sum())
    return d


# --------------------------------------------------------------------------------------------
# Synthetic network
# --------------------------------------------------------------------------------------------
def _resolve(pairs: Iterable[tuple[str, str]], districts: pd.DataFrame) -> list[str]:
    key = {(r.state_raw, r.district): r.lgd_code for r in districts.itertuples()}
    out = []
    for pair in pairs:
        _check(pair in key, f"sample network: district {pair} not found in districts.fgb")
        out.append(key[pair])
    return out


def _jitter(lon: float, lat: float, rng: np.random.Generator, max_km: float,
            ok: Callable[[float, float], bool]) -> tuple[float, float] | None:
    """A point near (lon, lat), geodesic offset up to ``max_km``, for which ``ok`` holds."""
    for _ in range(40):
        az = float(rng.uniform(0, 360))
        dist = float(rng.uniform(0.2, 1.0)) * max_km * 1000
        x, y, _b = _GEOD.fwd(lon, lat, az, dist)
        x, y = round(x, 5), round(y, 5)
        if ok(x, y):
            return x, y
    return None


def _sample_network(d: gpd.GeoDataFrame, places: gpd.GeoDataFrame, ho: gpd.GeoDataFrame,
                    report: BuildReport) -> pd.DataFrame:
    places = places[places.lgd_code.notna()].sort_values(
        ["lgd_code", "population", "geonameid"], ascending=[True, False, True])
    town = places.groupby("lgd_code").head(1).set_index("lgd_code")[
        ["name", "population", "latitude", "longitude"]]
    metro_of: dict[str, str] = {}
    for metro, pairs in METROS.items():
        codes = _resolve(pairs, d)
        for code in codes:
            metro_of[code] = metro
        # A metro district with no GeoNames place (Mumbai city district: GeoNames' one "Mumbai"
        # point lies in Mumbai Suburban) gets its site at its first India Post head office.
        for code in codes:
            if code in town.index:
                continue
            here = ho[ho.lgd_code == code].sort_values(["pincode", "name"])
            _check(len(here) > 0, f"sample network: metro district {code} has no town and no HO")
            pop = int(town.loc[[c for c in codes if c in town.index], "population"].max())
            town.loc[code] = [metro, pop, float(here.lat.iloc[0]), float(here.lon.iloc[0])]
            report.net_ho_sites = [*(report.net_ho_sites or []), (code, here.name.iloc[0])]
    forced = set(_resolve(FORCED, d))
    has_town = set(town.index)
    _check(set(metro_of) | forced <= has_town, "sample network: a metro/forced district has no "
                                               "GeoNames place")
    absorbed = len(metro_of) - len(METROS)
    n_covered = N_CITIES + absorbed
    ranked = d[d.lgd_code.isin(has_town)].sort_values(["population_est", "lgd_code"],
                                                      ascending=[False, True])
    chosen = set(metro_of) | forced
    for code in ranked.lgd_code:
        if len(chosen) >= n_covered:
            break
        chosen.add(code)
    _check(len(chosen) == n_covered, f"sample network: only {len(chosen)} districts eligible")
    report.net_no_town = sorted(set(d.lgd_code) - has_town)

    dd = d.set_index("lgd_code")
    sites = dd.loc[sorted(chosen), ["district", "state", "population_est", "geometry"]].copy()
    sites["town"] = town.loc[sites.index, "name"]
    sites["town_pop"] = town.loc[sites.index, "population"].astype(int)
    sites["lat"] = town.loc[sites.index, "latitude"].astype(float)
    sites["lon"] = town.loc[sites.index, "longitude"].astype(float)
    sites["metro"] = [metro_of.get(c) for c in sites.index]
    # City label: the metro, else the town; same-named towns in different districts get
    # ", <state>" (and then ", <district>") so that one label means one city.
    sites["city"] = sites.metro.fillna(sites.town)
    non_metro = sites.metro.isna()
    clash = non_metro & sites.city.duplicated(keep=False) & non_metro
    sites.loc[clash, "city"] = sites.loc[clash, "town"] + ", " + sites.loc[clash, "state"]
    clash = non_metro & sites.city.duplicated(keep=False)
    sites.loc[clash, "city"] = (sites.loc[clash, "city"] + ", "
                                + sites.loc[clash, "district"].str.title())
    _check(not sites.loc[non_metro, "city"].duplicated().any(), "sample network: city clash")
    _check(sites.city.nunique() == N_CITIES, f"sample network: {sites.city.nunique()} cities")
    report.net_renamed_cities = sorted(sites.loc[non_metro & (sites.city != sites.town),
                                                    "city"])

    # Vans: one at each of the N_VANS largest (by area) covered districts outside metros.
    area = pd.Series({c: _km2(g) for c, g in sites.geometry.items()})
    vans = area[non_metro.to_numpy()].sort_values(ascending=False).index[:N_VANS]
    fixed_total = N_CENTRES - N_VANS
    extra = _largest_remainder(fixed_total - len(sites), sites.population_est.to_numpy(),
                               list(sites.index))
    sites["n_fixed"] = 1 + extra
    rng = np.random.default_rng(SEED)
    tree = shapely.STRtree(d.geometry.to_numpy())
    codes = d.lgd_code.to_numpy()
    rows = []
    for code, s in sites.iterrows():
        max_km = 8.0 if s.town_pop >= PREMIUM_MIN_POP else 3.0

        def ok(x: float, y: float, code: str = code) -> bool:
            # inside its district and no other (district borders overlap a little)
            hits = tree.query(shapely.Point(x, y), predicate="within")
            return len(hits) == 1 and codes[hits[0]] == code

        kinds = ["fixed"] * int(s.n_fixed) + (["van"] if code in vans else [])
        for k, kind in enumerate(kinds, start=1):
            lon, lat = round(s.lon, 5), round(s.lat, 5)
            if k > 1 or not ok(lon, lat):
                found = _jitter(s.lon, s.lat, rng, max_km, ok)
                if found is None:
                    found = _jitter(s.lon, s.lat, rng, 2 * max_km, ok)
                _check(found is not None, f"sample network: no place for a centre in {code}")
                lon, lat = found
            if kind == "van":
                typ, label = "van", f"{s.town} repair van (synthetic)"
            else:
                typ = ("premium" if k == 1 and s.town_pop >= PREMIUM_MIN_POP
                       else "direct" if s.town_pop >= DIRECT_MIN_POP else "partner")
                label = f"{s.town} service centre {k} (synthetic)"
            rows.append((code, k, label, s.city, s.state, typ, lat, lon))
    net = pd.DataFrame(rows, columns=["lgd", "k", "name", "city", "state", "type", "lat", "lon"])
    _check(len(net) == N_CENTRES, f"sample network: {len(net)} centres")
    net = net.sort_values(["state", "city", "lgd", "k"]).reset_index(drop=True)
    net.insert(0, "center_id", [f"SC{i:04d}" for i in range(1, len(net) + 1)])
    report.net_covered_target = n_covered
    report.net_types = net.type.value_counts().sort_index()
    return net.drop(columns=["lgd", "k"])


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------
def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8")


def _write_fgb(gdf: gpd.GeoDataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp.fgb")
    if tmp.exists():
        tmp.unlink()
    pyogrio.write_dataframe(gdf, tmp, driver="FlatGeobuf", layer=path.stem,
                            layer_options={"SPATIAL_INDEX": "NO"})
    os.replace(tmp, path)


def _gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


@dataclass
class Products:
    """What the stages hand on to each other (frames in EPSG:4326)."""

    states: pd.DataFrame | None = None
    districts: gpd.GeoDataFrame | None = None
    state_polys: gpd.GeoDataFrame | None = None
    po: pd.DataFrame | None = None  # every post office row
    geo: pd.DataFrame | None = None  # the geocoded ones
    po_pts: gpd.GeoDataFrame | None = None
    places: gpd.GeoDataFrame | None = None
    net: pd.DataFrame | None = None
    ho: pd.DataFrame | None = None
    pins: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def stage_boundaries(shared: Path, p: Products, report: BuildReport) -> None:
    """State tables, cleaned district coverage, state polygons."""
    p.states, report.unit_total = _state_tables(shared)
    p.districts = _districts(shared, p.states, report)
    p.state_polys = _states_polygons(shared, p.states, report)
    _check(set(p.state_polys.state) == set(p.districts.state), "states and districts disagree")


def stage_points(shared: Path, p: Products, report: BuildReport) -> None:
    """Post offices and GeoNames places, located in the districts."""
    p.po = _post_offices(shared)
    p.geo = p.po[p.po.lat != ""].copy()
    po_pts = _points(p.geo)
    po_pts["lgd_code"] = _locate(po_pts, p.districts)
    report.po_outside = po_pts[po_pts.lgd_code.isna()].groupby("geo_quality").size()
    sw = po_pts[po_pts.geo_quality == "swapped"]
    report.swapped_inside = (int(sw.lgd_code.notna().sum()), len(sw))
    p.po_pts = po_pts

    places = pd.read_csv(shared / "places.csv", dtype={"geonameid": str, "admin1code": str})
    _check(len(places) == EXPECTED["places"], f"places.csv: {len(places)} rows")
    bad = places.geonameid.isin(list(GEONAMES_EXCLUDED))
    _check(int(bad.sum()) == len(GEONAMES_EXCLUDED), "places.csv: an excluded place is missing")
    places = places[~bad].reset_index(drop=True)
    report.places_excluded = int(bad.sum())
    places = _points(places, "latitude", "longitude")
    places["lgd_code"] = _locate(places, p.districts)
    report.places_outside = int(places.lgd_code.isna().sum())
    p.places = places


def stage_population(shared: Path, p: Products, report: BuildReport) -> None:
    """The modelled population estimate of every district."""
    p.districts = _population(p.districts, p.states, report.unit_total, p.po_pts, p.places,
                              shared, report)


def stage_network(shared: Path, p: Products, report: BuildReport) -> None:
    """The synthetic sample network, checked independently with a plain sjoin."""
    po_pts, districts = p.po_pts, p.districts
    ho_all = po_pts[(po_pts.office_type == "HO") & po_pts.geo_quality.isin(["original", "swapped"])]
    net = _sample_network(districts, p.places, ho_all.rename(columns={"office_name": "name"}),
                          report)
    pts = _points(net)
    j = gpd.sjoin(pts, districts[["lgd_code", "geometry"]], how="left", predicate="within")
    _check(j.lgd_code.notna().all(), "sample network: a centre falls outside every district")
    _check(not j.index.duplicated().any(), "sample network: a centre lies in two districts")
    covered = j.lgd_code.nunique()
    report.net_covered = covered
    report.net_pct = 100 * covered / len(districts)
    _check(covered == report.net_covered_target, "sample network: coverage differs from plan")
    p.net = net


def stage_head_offices(shared: Path, p: Products, report: BuildReport) -> None:
    """India Post head offices with usable coordinates: the real second network."""
    states = p.states
    ho = p.po[(p.po.office_type == "HO")]
    report.ho_quality = ho.geo_quality.value_counts().sort_index()
    ho = ho[ho.geo_quality.isin(["original", "swapped"])].copy()
    _map_state(ho.state, dict(zip(states.post_name, states.state, strict=True)),
               "post_offices.csv.gz state (head offices)")
    ho["state"] = ho.state.map(dict(zip(states.post_name, states.state, strict=True)))
    ho = ho.rename(columns={"office_name": "name"})[
        ["pincode", "name", "district", "state", "lat", "lon"]]
    ho = ho.sort_values(["pincode", "name"], kind="stable").reset_index(drop=True)
    report.ho_outside = ho.loc[_locate(_points(ho), p.districts).isna(), ["pincode", "name"]]
    report.ho_rows = len(ho)
    p.ho = ho


def _km_outside(lon: np.ndarray, lat: np.ndarray, allowed: list[tuple[str, ...]],
                polys: dict[str, shapely.Geometry]) -> np.ndarray:
    """Per point, the geodesic km to the nearest of its allowed states' polygons (0 inside).
    The nearest polygon point is found in lon/lat, so the figure is an upper bound."""
    out = np.zeros(lon.size)
    for i, (x, y, names) in enumerate(zip(lon, lat, allowed, strict=True)):
        pt = shapely.Point(x, y)
        if any(polys[n].covers(pt) for n in names):
            continue
        best = np.inf
        for n in names:
            near = shapely.get_coordinates(shapely.shortest_line(pt, polys[n]))[1]
            best = min(best, _GEOD.inv(x, y, near[0], near[1])[2] / 1000.0)
        out[i] = best
    return out


def _in_state_offices(p: Products) -> pd.DataFrame:
    """Geocoded offices (original or swapped, not suspect) within the tolerance of their own
    state (India Post's), with the display state name."""
    to_state = dict(zip(p.states.post_name, p.states.state, strict=True))
    geo = p.geo[p.geo.geo_quality.isin(["original", "swapped"])].copy()
    geo["state_name"] = geo.state.map(to_state)
    geo = geo[geo.state_name.notna()].reset_index(drop=True)
    geo["x"], geo["y"] = geo.lon.astype(float), geo.lat.astype(float)
    polys = dict(zip(p.state_polys.state, p.state_polys.geometry, strict=True))
    inside = np.zeros(len(geo), dtype=bool)
    for name, rows in geo.groupby("state_name").groups.items():
        inside[rows] = shapely.covers(polys[name], shapely.points(geo.x[rows], geo.y[rows]))
    return geo[inside]


def _move_to(offices: pd.DataFrame, names: tuple[str, ...],
             polys: dict[str, shapely.Geometry]) -> tuple[float, float] | None:
    """The mean position of ``offices`` (rounded as published, 5 decimals), or, when that
    falls outside the tolerance of ``names`` (a concave state), the office nearest to it."""
    if offices.empty:
        return None
    x, y = round(float(offices.x.mean()), 5), round(float(offices.y.mean()), 5)
    if _km_outside(np.array([x]), np.array([y]), [names], polys)[0] <= PIN_STATE_TOLERANCE_KM:
        return x, y
    d = _GEOD.inv(np.full(len(offices), x), np.full(len(offices), y), offices.x.to_numpy(),
                  offices.y.to_numpy())[2]
    k = int(np.argmin(d))
    return float(offices.x.iloc[k]), float(offices.y.iloc[k])


def stage_pincodes(shared: Path, p: Products, report: BuildReport) -> None:
    """PIN-code centroids (demand points and plan candidates), checked against their state.

    A PIN's states are those of its offices in the India Post directory (its postal zone's
    when none has one). A centroid farther than PIN_STATE_TOLERANCE_KM from all of them is
    moved: to the mean of the PIN's own offices that lie in their state (``flag`` = ``offices``),
    else to the mean of such offices of its sorting district (the PIN's first three digits)
    in the PIN's states (``sorting_district``); with no such office either, it is kept if it
    lies in its postal zone (``zone``: the directory's state may be the wrong one), else the
    build stops. Zone 9 (Army Postal Service) is not checked. See data/README.md.
    """
    pins = pd.read_csv(shared / "pincode_centroids.csv", dtype=str, keep_default_na=False)
    _check(len(pins) == EXPECTED["pincodes"] and pins.pincode.is_unique
           and pins.pincode.str.fullmatch(r"\d{6}").all(), "pincode_centroids.csv: unexpected")
    pins = pins.sort_values("pincode").reset_index(drop=True)
    to_state = dict(zip(p.states.post_name, p.states.state, strict=True))
    named = p.po.assign(state_name=p.po.state.map(to_state)).dropna(subset=["state_name"])
    directory = named.groupby("pincode").state_name.agg(lambda s: tuple(sorted(set(s))))
    # zone 9, the Army Postal Service: base post offices filed under an administrative
    # state, not where they are; not checked
    army = pins.pincode.str.startswith("9")
    zone = pins.pincode.str[0].map(PIN_ZONES)
    _check(zone[~army].notna().all(), "pincode_centroids.csv: a PIN outside postal zones 1-9")
    allowed = pins.pincode.map(directory).fillna(zone).tolist()
    report.pins_army = int(army.sum())
    report.pins_zone_only = int(pins.pincode.map(directory).isna().sum())
    report.pins_off_zone = int(sum(not set(a) <= set(PIN_ZONES[pin[0]])
                                   for a, pin, skip in zip(allowed, pins.pincode, army,
                                                           strict=True) if not skip))
    polys = dict(zip(p.state_polys.state, p.state_polys.geometry, strict=True))
    km = np.zeros(len(pins))
    km[~army] = _km_outside(pins.lon[~army].astype(float).to_numpy(),
                            pins.lat[~army].astype(float).to_numpy(),
                            [a for a, skip in zip(allowed, army, strict=True) if not skip],
                            polys)
    offices = _in_state_offices(p)
    by_pin = dict(tuple(offices.groupby("pincode")))
    by_sorting = dict(tuple(offices.groupby(offices.pincode.str[:3])))
    pins["flag"] = ""
    report.pins_within_tolerance = int(((km > 0) & (km <= PIN_STATE_TOLERANCE_KM)).sum())
    for i in np.flatnonzero(km > PIN_STATE_TOLERANCE_KM):
        pin, names = pins.pincode[i], allowed[i]
        own = by_pin.get(pin, offices.iloc[:0])
        near = by_sorting.get(pin[:3], offices.iloc[:0])
        for flag, group in (("offices", own), ("sorting_district", near)):
            moved = _move_to(group[group.state_name.isin(names)], names, polys)
            if moved is not None:
                pins.loc[i, ["lon", "lat", "flag"]] = [str(moved[0]), str(moved[1]), flag]
                break
        else:  # no office to place it by: the directory's state may be the wrong one
            z = PIN_ZONES[pin[0]]
            x, y = float(pins.lon[i]), float(pins.lat[i])
            _check(_km_outside(np.array([x]), np.array([y]), [z], polys)[0]
                   <= PIN_STATE_TOLERANCE_KM,
                   f"PIN {pin}: centroid outside {names} and its postal zone, and no office "
                   "to place it by")
            pins.loc[i, "flag"] = "zone"
    report.pins_moved = pins.flag.value_counts().drop("", errors="ignore").sort_index()
    report.pins_zone = pins.loc[pins.flag == "zone", "pincode"].tolist()
    report.pins_outside = int(_locate(_points(pins), p.districts).isna().sum())
    p.pins = pins


def write_outputs(p: Products, out: Path, report: BuildReport) -> None:
    """Every embedded file, byte-reproducible."""
    offices = p.geo[["pincode", "office_name", "office_type", "lat", "lon", "geo_quality"]]
    districts = p.districts
    dist_out = gpd.GeoDataFrame(
        districts[["lgd_code", "district", "state", "population_est"]],
        geometry=districts.geometry.to_numpy(), crs="EPSG:4326")
    _write_fgb(dist_out, out / "india_districts.fgb")
    _write_fgb(p.state_polys, out / "india_states.fgb")
    _write_bytes(out / "india_sample_centres.csv", _csv_bytes(p.net))
    _write_bytes(out / "india_post_head_offices.csv", _csv_bytes(p.ho))
    _write_bytes(out / "india_pincodes.csv", _csv_bytes(p.pins))
    _write_bytes(out / "india_post_offices.csv.gz", _gzip_bytes(_csv_bytes(offices)))
    report.districts = districts
    report.offices_rows = len(offices)


STAGES: dict[str, Callable[[Path, Products, BuildReport], None]] = {
    "boundaries": stage_boundaries,
    "points": stage_points,
    "population": stage_population,
    "network": stage_network,
    "head_offices": stage_head_offices,
    "pincodes": stage_pincodes,
}
"""The stages in order; each reads what the earlier ones produced (``--until`` stops after
one, writing nothing)."""


def build(shared: Path, out: Path, *, until: str | None = None) -> BuildReport:
    """Build every embedded file from ``shared`` into ``out``; return the report. With
    ``until``, run the stages up to and including that one and write nothing."""
    report, products = BuildReport(), Products()
    for name, stage in STAGES.items():
        stage(shared, products, report)
        if name == until:
            return report
    write_outputs(products, out, report)
    return report


OUTPUTS = ("india_districts.fgb", "india_states.fgb", "india_sample_centres.csv",
           "india_post_head_offices.csv", "india_pincodes.csv", "india_post_offices.csv.gz")


def _print_report(r: BuildReport, out: Path) -> None:
    _log(f"districts.fgb: {r.z_rows} rows had Z values (dropped); "
         f"{r.repaired} invalid geometries repaired")
    _log(f"dropped {r.disputed_rows} disputed slivers (no state/district/code): "
         f"{r.disputed_km2:.2f} km2 of {r.raw_km2:.0f} km2")
    for remark, row in r.disputed_by_remark.iterrows():
        _log(f"    {remark}: {int(row['size'])} rows, {row['sum']:.2f} km2")
    _log(f"merged Nazul (Delhi, no LGD code, {r.nazul_km2:.2f} km2) into "
         f"{r.nazul_into[0]} {r.nazul_into[1]}")
    for row in r.placeholder.itertuples():
        _log(f"dropped {row.STATE_UT} / {row.DISTRICT}: code '{PLACEHOLDER_CODE}', "
             f"{row.km2:.0f} km2")
    _log(f"district names cleaned: {r.names_cleaned}")
    _log(f"rows repeating a real LGD code (dissolved): {r.repeated_code_rows}")
    _log(f"states.fgb: dropped {r.state_disputed_rows} disputed polygons "
         f"({r.state_disputed_km2:.2f} km2)")
    d = r.districts
    for when in ("before", "after"):
        c = getattr(r, f"coverage_{when}")
        _log(f"coverage {when} cleaning: {c['gaps']} gaps (holes), {c['gaps_km2']:.1f} km2 "
             f"({c['gaps_deg2']:.4f} deg2); {c['overlap_pairs']} overlapping pairs, "
             f"{c['overlap_km2']:.1f} km2 ({c['overlap_deg2']:.4f} deg2)")
    _log(f"cleaning (gap width {CLEAN_GAP_WIDTH_M:.0f} m = {CLEAN_GAP_WIDTH_DEG:.6f} deg): area "
         f"change per district min {r.clean_rel_min[0]:+.3%} {r.clean_rel_min[1:]}, max "
         f"{r.clean_rel_max[0]:+.3%} {r.clean_rel_max[1:]}; largest "
         f"{r.clean_abs_max_km2:.2f} km2")
    _log(f"districts out: {len(d)}, area {r.out_km2:.0f} km2")
    _log(f"population: districts with no geocoded branch office {r.pop_no_bo}, with no "
         f"GeoNames place {r.pop_no_gn}; urban fallback units {r.pop_fallback_units}; "
         f"zero estimates {len(r.pop_zero)}")
    _log(f"post offices outside every district: {r.po_outside.to_dict()}; swapped inside "
         f"{r.swapped_inside[0]}/{r.swapped_inside[1]}")
    _log(f"places excluded (wrong population): {r.places_excluded}; places outside every "
         f"district: {r.places_outside}")
    _log(f"head offices by geo_quality: {r.ho_quality.to_dict()}; kept {r.ho_rows}; "
         f"outside every district {len(r.ho_outside)} {r.ho_outside.values.tolist()}")
    _log(f"pincode centroids: {r.pins_army} Army Postal Service PINs (zone 9, not checked); "
         f"{r.pins_zone_only} PINs with no state in the directory "
         f"(checked against their postal zone); {r.pins_off_zone} whose directory state is "
         f"outside their zone; {r.pins_within_tolerance} outside their state by at most "
         f"{PIN_STATE_TOLERANCE_KM:g} km (kept); moved: {r.pins_moved.to_dict()}; kept in "
         f"their postal zone, not their directory state: {r.pins_zone}")
    _log(f"pincode centroids outside every district: {r.pins_outside}")
    _log(f"sample network: {N_CENTRES} centres, {N_CITIES} cities, types "
         f"{r.net_types.to_dict()}; districts with no GeoNames town {len(r.net_no_town)}")
    _log(f"sample network sites at a head office: {r.net_ho_sites}")
    _log(f"sample network renamed cities: {r.net_renamed_cities}")
    _log(f"SAMPLE NETWORK PRESENCE COVERAGE: {r.net_covered}/{len(d)} districts = "
         f"{r.net_pct:.2f}%")
    for name in OUTPUTS:
        p = out / name
        _log(f"{name:30s} {p.stat().st_size:>10,d} B  sha256 "
             f"{hashlib.sha256(p.read_bytes()).hexdigest()[:16]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help=f"folder with the raw files (default {DEFAULT_SHARED})")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: data/)")
    parser.add_argument("--until", choices=list(STAGES), default=None,
                        help="run the stages up to this one, print what they found, write "
                             "nothing")
    args = parser.parse_args(argv)
    if not args.shared.is_dir():
        print(f"error: {args.shared}: no such folder; pass --shared PATH", file=sys.stderr)
        return 2
    try:
        report = build(args.shared, args.out, until=args.until)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.until is not None:
        for key, value in vars(report).items():
            if value is not None and key != "districts":
                _log(f"{key}: {value}")
        return 0
    _print_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
