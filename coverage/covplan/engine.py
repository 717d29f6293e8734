"""How coverage is decided.

A district is **covered** when at least ``min_centers`` centres are

* inside it or on its boundary (rule ``presence``, the default), or
* within ``radius_km`` of it (rule ``radius``): the geodesic WGS84 distance from the
  district polygon to the centre, 0 when the centre is inside (see :mod:`covplan.geodesy`).

Every district also gets the number of centres inside it, and its nearest centre with the
distance in km. Percentages are of districts and, with a weight (e.g. population), of weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from covplan.errors import InputError
from covplan.geodesy import nearest_to_polygons, polygons_within

__all__ = ["CoverageResult", "Rule", "assess", "district_table", "summarise"]

_NDIGITS_KM = 3  # nearest_km is reported to the metre


@dataclass(frozen=True)
class Rule:
    """The coverage rule: ``presence`` (a centre inside) or ``radius`` (within R km)."""

    kind: Literal["presence", "radius"] = "presence"
    min_centers: int = 1
    radius_km: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("presence", "radius"):
            raise InputError(f"rule '{self.kind}': use presence or radius")
        if self.min_centers < 1:
            raise InputError(f"--min-centers {self.min_centers}: must be at least 1")
        if self.kind == "radius":
            if self.radius_km is None or not math.isfinite(self.radius_km) or self.radius_km < 0:
                raise InputError(f"--radius-km {self.radius_km}: must be a distance >= 0 km")
        elif self.radius_km is not None:
            raise InputError("a presence rule takes no radius; use Rule.radius(km)")

    @classmethod
    def radius(cls, km: float, *, min_centers: int = 1) -> Rule:
        """Covered when ``min_centers`` centres lie within ``km`` kilometres."""
        return cls("radius", min_centers, float(km))

    @property
    def reach_m(self) -> float:
        """Distance in metres within which a centre counts (0 for presence)."""
        return 0.0 if self.radius_km is None else self.radius_km * 1000.0

    def describe(self) -> str:
        """One line for people: ``"at least 1 centre within 25 km (geodesic)"``."""
        many = "centre" if self.min_centers == 1 else "centres"
        if self.kind == "presence":
            return f"at least {self.min_centers} {many} inside the district"
        return f"at least {self.min_centers} {many} within {self.radius_km:g} km (geodesic)"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "min_centers": self.min_centers, "radius_km": self.radius_km}


@dataclass
class CoverageResult:
    """Per-district coverage, with summaries by group and by centre type."""

    districts: gpd.GeoDataFrame
    centers: gpd.GeoDataFrame
    rule: Rule
    summary: dict[str, Any]
    groups: list[dict[str, Any]]
    types: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def weighted(self) -> bool:
        return self.summary["weight_total"] is not None

    def gaps(self) -> gpd.GeoDataFrame:
        """Uncovered districts, by weight descending, then ``nearest_km`` descending, then id."""
        gaps = self.districts[~self.districts["covered"]]
        key = gaps.assign(_w=gaps["weight"].fillna(0.0),
                          _d=gaps["nearest_km"].fillna(np.inf))
        order = key.sort_values(["_w", "_d", "id"], ascending=[False, False, True],
                                kind="stable").index
        return gaps.loc[order].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (see README): summary, rule, inputs, groups, types, districts,
        warnings."""
        return {
            "summary": self.summary,
            "rule": self.rule.to_dict(),
            "inputs": self.inputs,
            "groups": self.groups,
            "types": self.types,
            "districts": [_district_record(r) for r in self.districts.itertuples(index=False)],
            "warnings": self.warnings,
        }


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _district_record(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": _clean(row.name),
        "group": _clean(row.group),
        "weight": _clean(row.weight),
        "centers": int(row.centers),
        "covered": bool(row.covered),
        "nearest_km": _clean(round(row.nearest_km, _NDIGITS_KM)),
        "nearest_center": _clean(row.nearest_center),
    }


def _percent(part: float | None, whole: float | None) -> float | None:
    return round(100.0 * part / whole, 2) if whole and part is not None else None


def summarise(covered: np.ndarray, weight: np.ndarray) -> dict[str, Any]:
    """Counts and percentages of districts (and weight, when any is given) covered."""
    covered = np.asarray(covered, dtype=bool)
    weight = np.asarray(weight, dtype=float)
    has_weight = len(weight) > 0 and not np.isnan(weight).all()
    total = float(np.nansum(weight)) if has_weight else None
    part = float(np.nansum(weight[covered])) if has_weight else None
    return {
        "districts": int(len(covered)),
        "covered": int(covered.sum()),
        "percent": _percent(int(covered.sum()), len(covered)),
        "weight_total": _clean(total),
        "weight_covered": _clean(part),
        "weight_percent": _percent(part, total) if has_weight else None,
    }


def _decide(districts: gpd.GeoDataFrame, centers: gpd.GeoDataFrame, rule: Rule, *,
            want_nearest: bool = True
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Inside counts, coverage, nearest index/distance, and the district of each centre.

    With ``want_nearest=False`` a presence rule skips the nearest-centre search (its
    index and distance come back as -1 and inf); a radius rule still needs it.
    """
    geoms, points = districts.geometry, centers.geometry
    n = len(districts)
    inside_d, inside_c, _ = polygons_within(geoms, points, 0.0)
    inside = np.bincount(inside_d, minlength=n)
    if want_nearest or (rule.reach_m > 0 and rule.min_centers == 1):
        nearest, dist_m = nearest_to_polygons(geoms, points, inside=(inside_d, inside_c))
    else:
        nearest, dist_m = np.full(n, -1, dtype=np.int64), np.full(n, np.inf)
    if rule.reach_m == 0:  # presence, or a zero radius: the same decision
        count = inside
    elif rule.min_centers == 1:
        count = (dist_m <= rule.reach_m).astype(int)
    else:
        count = np.bincount(polygons_within(geoms, points, rule.reach_m)[0], minlength=n)
    home = np.full(len(centers), -1, dtype=np.int64)
    # a centre on a shared boundary counts in every district it touches; "home" is the first
    first = np.unique(inside_c, return_index=True)
    home[first[0]] = inside_d[first[1]]
    return inside, count >= rule.min_centers, nearest, dist_m, home


def _check_swapped(districts: gpd.GeoDataFrame, centers: gpd.GeoDataFrame, home: np.ndarray
                   ) -> None:
    """Raise when almost no centre falls in a district but swapped coordinates would."""
    if len(centers) < 3 or (home >= 0).mean() >= 0.1:
        return
    valid = (centers["lon"].abs() <= 90).to_numpy()
    if valid.mean() < 0.9:
        return
    swapped = gpd.points_from_xy(centers["lat"], centers["lon"], crs="EPSG:4326")
    hits = polygons_within(districts.geometry, swapped, 0.0)[1]
    if len(np.unique(hits)) >= 0.8 * len(centers):
        src = centers.attrs.get("source", "centres")
        raise InputError(f"{src}: latitude and longitude look swapped (only "
                         f"{int((home >= 0).sum())} of {len(centers)} centres fall in a "
                         "district, but swapped they do); pass --lat-col and --lon-col the "
                         "other way round")


def assess(districts: gpd.GeoDataFrame, centers: gpd.GeoDataFrame, rule: Rule | None = None,
           *, type_col: str | None = None) -> CoverageResult:
    """Decide coverage of every district under ``rule``.

    Parameters
    ----------
    districts
        From :func:`covplan.io.read_boundaries` (``id``, ``name``, ``group``, ``weight``).
    centers
        From :func:`covplan.io.read_points` (EPSG:4326 points with a ``name``).
    rule
        Defaults to presence (at least one centre inside).
    type_col
        Centre column for a per-type breakdown (coverage by each type's centres alone).
    """
    rule = rule or Rule()
    from covplan.io import as_districts, as_points
    districts, centers = as_districts(districts), as_points(centers)
    if type_col is not None and type_col not in centers.columns:
        src = centers.attrs.get("source", "centres")
        cols = [c for c in centers.columns if c not in ("geometry", "line")]
        raise InputError(f"{src}: no column '{type_col}' (given by --type-col); columns are: "
                         + ", ".join(cols))
    centers = centers.reset_index(drop=True)
    inside, covered, nearest, dist_m, home = _decide(districts, centers, rule)
    _check_swapped(districts, centers, home)

    names = centers["name"].to_numpy(dtype=object)
    frame = districts[["id", "name", "group", "weight"]].copy()
    frame["centers"] = inside
    frame["covered"] = covered
    frame["nearest_km"] = dist_m / 1000.0
    frame["nearest_center"] = pd.Series(
        [names[i] if i >= 0 else None for i in nearest], dtype=object, index=frame.index)
    frame = gpd.GeoDataFrame(frame, geometry=districts.geometry.array, crs=districts.crs)

    used = centers.copy()
    ids = districts["id"].to_numpy(dtype=object)
    used["district"] = pd.Series(np.where(home >= 0, ids[np.maximum(home, 0)], None),
                                 dtype=object, index=used.index)

    messages = list(districts.attrs.get("warnings", [])) + list(centers.attrs.get("warnings", []))
    outside = np.flatnonzero(home < 0)
    if len(outside):
        listed = ", ".join(f"{names[i]} (line {centers['line'].iloc[i]})"
                           if "line" in centers else str(names[i]) for i in outside[:10])
        more = f", … ({len(outside)} in all)" if len(outside) > 10 else ""
        messages.append(f"{len(outside)} of {len(centers)} centres lie outside every district: "
                        f"{listed}{more}")

    weight = frame["weight"].to_numpy(dtype=float)
    groups = []
    if frame["group"].notna().any():
        for key, part in frame.groupby(frame["group"].fillna(""), sort=True):
            groups.append({"group": key or None,
                           **summarise(part["covered"].to_numpy(), part["weight"].to_numpy())})
    types = []
    if type_col is not None:
        kinds = centers[type_col].fillna("").astype(str)
        for kind in sorted(kinds.unique()):
            subset = centers[(kinds == kind).to_numpy()]
            sub_covered = _decide(districts, subset, rule, want_nearest=False)[1]
            types.append({"type": kind, "centers": int(len(subset)),
                          **summarise(sub_covered, weight)})
    inputs = {"boundaries": districts.attrs.get("source"), "centers": centers.attrs.get("source"),
              "centers_used": int(len(centers)), "centers_outside": int(len(outside)),
              "weight_col": districts.attrs.get("weight_col")}
    return CoverageResult(frame, used, rule, summarise(covered, weight), groups, types,
                          messages, inputs)


def district_table(result: CoverageResult) -> pd.DataFrame:
    """Per-district rows as a plain table (for CSV/XLSX), ``nearest_km`` to the metre."""
    table = pd.DataFrame(result.districts.drop(columns="geometry"))
    table["nearest_km"] = table["nearest_km"].round(_NDIGITS_KM)
    table.loc[~np.isfinite(table["nearest_km"]), "nearest_km"] = np.nan
    if not result.weighted:
        table = table.drop(columns="weight")
    return table
