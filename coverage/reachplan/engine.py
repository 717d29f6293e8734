"""How coverage is decided.

A district is **covered** when at least ``rule.min_centers`` centres reach it, where the rule
(:mod:`reachplan.rules`) says what reaching means: by default a centre inside the district or on
its boundary (:class:`~reachplan.rules.Presence`), or within R km, geodesic on WGS84
(:class:`~reachplan.rules.Radius`). This module asks the rule and never which rule it is.

Every district also gets the number of centres inside it, and its nearest centre with the
distance in km. Percentages are of districts and, with a weight (e.g. population), of weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from reachplan.errors import InputError
from reachplan.frames import inf_as_missing
from reachplan.geodesy import nearest_to_polygons, polygons_within
from reachplan.rules import CoverageRule, Rule, cost_of
from reachplan.thresholds import covered_at

__all__ = ["CoverageResult", "Rule", "assess", "decide", "district_table", "inf_as_missing",
           "summarise"]

_NDIGITS_NEAREST = 3  # every output writes nearest_km to the metre and a rule's own cost
# (nearest_min) to a thousandth of its unit; the frames keep full precision


def _written(column: str, value: Any) -> Any:
    """A per-district value as outputs write it (see _NDIGITS_NEAREST)."""
    if column.startswith("nearest_") and isinstance(value, float):
        return round(value, _NDIGITS_NEAREST)
    return value

_FIXED_COLUMNS = ("id", "name", "group", "weight", "centers", "covered", "nearest_km",
                  "nearest_center", "geometry")


@dataclass
class CoverageResult:
    """Per-district coverage, with summaries by group and by centre type."""

    districts: gpd.GeoDataFrame
    centers: gpd.GeoDataFrame
    rule: CoverageRule
    summary: dict[str, Any]
    groups: list[dict[str, Any]]
    types: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    #: under a rule of several thresholds (``rule.cost.thresholds``): per threshold,
    #: ascending, ``{"threshold", "unit", "column", **summary, "groups"}``; else empty
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    #: under a rule of several thresholds: the equity of access (:func:`reachplan.
    #: thresholds.equity`); else None
    equity: dict[str, Any] | None = None

    @property
    def _more_columns(self) -> list[str]:
        """Per-district columns beyond the fixed ones, in order: the rule's own nearest cost
        when it is not a distance (``nearest_min``), the rule's extra figures
        (``road_nodes_within_pct``), then any a caller added (the demand roll-up)."""
        return [c for c in self.districts.columns if c not in _FIXED_COLUMNS]

    @property
    def weighted(self) -> bool:
        return self.summary["weight_total"] is not None

    def gaps(self) -> gpd.GeoDataFrame:
        """Uncovered districts, by weight descending, then the rule's nearest cost descending
        (``nearest_min`` under a rule in minutes), then ``nearest_km`` descending, then id."""
        gaps = self.districts[~self.districts["covered"]]
        cost = cost_of(self.rule).column
        cost = cost if cost in gaps.columns else "nearest_km"
        key = gaps.assign(_w=gaps["weight"].fillna(0.0), _d=gaps[cost].fillna(np.inf),
                          _k=gaps["nearest_km"].fillna(np.inf))
        order = key.sort_values(["_w", "_d", "_k", "id"], ascending=[False, False, False, True],
                                kind="stable").index
        return gaps.loc[order].reset_index(drop=True)

    def to_dict(self, *, districts: bool = True) -> dict[str, Any]:
        """The JSON contract (see README): summary, rule, inputs, groups, types, districts,
        warnings; ``districts=False`` leaves out the per-district records (a summary)."""
        data: dict[str, Any] = {"summary": self.summary, "rule": self.rule.to_dict(),
                                "cost": cost_of(self.rule).to_dict(), "inputs": self.inputs,
                                "groups": self.groups, "types": self.types}
        if self.thresholds:  # only under several thresholds: one keeps its contract
            data["thresholds"] = self.thresholds
            data["equity"] = self.equity
        if districts:
            more = self._more_columns
            data["districts"] = [
                _district_record(r, more)
                for r in self.districts[[*_FIXED_COLUMNS[:-1], *more]].itertuples(index=False)]
        data["warnings"] = self.warnings
        return data


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _district_record(row: Any, more: list[str]) -> dict[str, Any]:
    record = {
        "id": row.id,
        "name": _clean(row.name),
        "group": _clean(row.group),
        "weight": _clean(row.weight),
        "centers": int(row.centers),
        "covered": bool(row.covered),
        "nearest_km": _clean(_written("nearest_km", row.nearest_km)),
        "nearest_center": _clean(row.nearest_center),
    }
    for offset, column in enumerate(more, start=len(_FIXED_COLUMNS) - 1):
        record[column] = _clean(_written(column, row[offset]))
    return record


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


def _inside(districts: gpd.GeoDataFrame, centers: gpd.GeoDataFrame
            ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """(district, centre) pairs with the centre inside or on the district, and each centre's
    district: a centre on a shared boundary counts in every district it touches; its home
    is the first (-1 when outside every district)."""
    inside_d, inside_c, _ = polygons_within(districts.geometry, centers.geometry, 0.0)
    home = np.full(len(centers), -1, dtype=np.int64)
    first = np.unique(inside_c, return_index=True)
    home[first[0]] = inside_d[first[1]]
    return (inside_d, inside_c), home


def _decide(districts: gpd.GeoDataFrame, centers: gpd.GeoDataFrame, rule: CoverageRule,
            inside: tuple[np.ndarray, np.ndarray], *, want_nearest: bool = True
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coverage of each district, its nearest centre by the rule's cost, and its k-th
    smallest cost (``k = min_centers``; inf beyond reach): the least threshold that covers
    it, from which a rule of several thresholds decides them all.

    With one centre needed and a reach above 0, a district is covered when its nearest
    centre (by the rule's cost) is within reach: that search is bounded whatever the reach,
    and its cost is the k-th. Otherwise the rule's pairs within reach (its largest threshold)
    are counted and their k-th cost taken. With ``want_nearest=False`` the nearest-centre
    search is skipped where the decision does not need it (its index and cost come back as
    -1 and NaN: not searched, unlike inf, no centre).
    """
    from reachplan.thresholds import kth_costs

    geoms, points = districts.geometry, centers.geometry
    n = len(districts)
    by_nearest = rule.min_centers == 1 and rule.reach > 0
    if want_nearest or by_nearest:
        nearest, cost = rule.nearest(geoms, points, inside=inside)
    else:
        nearest, cost = np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    if by_nearest:
        kth = cost  # the nearest cost, known beyond reach too
    else:
        d, _, c = rule.pairs(geoms, points, inside=inside)
        kth = kth_costs(d, c, n, rule.min_centers)
    return kth <= rule.reach, nearest, cost, kth


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
                         "district, but swapped they do); read them with lat_col and lon_col "
                         "the other way round", params=("lat_col", "lon_col"))


def assess(districts: gpd.GeoDataFrame, centers: gpd.GeoDataFrame,
           rule: CoverageRule | None = None,
           *, type_col: str | None = None, nearest: bool = True) -> CoverageResult:
    """Decide coverage of every district under ``rule``.

    Parameters
    ----------
    districts
        From :func:`reachplan.io.read_boundaries` (``id``, ``name``, ``group``, ``weight``).
    centers
        From :func:`reachplan.io.read_points` (EPSG:4326 points with a ``name``).
    rule
        A :class:`reachplan.rules.CoverageRule`; defaults to presence (a centre inside).
    type_col
        Centre column for a per-type breakdown (coverage by each type's centres alone).
    nearest
        Find each district's nearest centre (``nearest_km``, ``nearest_center`` and, under a
        rule in another unit, ``nearest_<unit>``). ``False`` skips that search where the
        decision does not need it, for callers that report only counts: the columns are then
        missing (NaN / None) wherever it was skipped, unlike ``inf`` (no centre at all).
    """
    rule = rule or Rule.presence()
    from reachplan.frames import as_districts, as_points, input_name
    districts, centers = as_districts(districts), as_points(centers)
    if type_col is not None and type_col not in centers.columns:
        src = centers.attrs.get("source", "centres")
        cols = [c for c in centers.columns if c not in ("geometry", "line")]
        raise InputError(f"{src}: no column '{type_col}' (given by type_col); columns are: "
                         + ", ".join(cols), params=("type_col",))
    centers = centers.reset_index(drop=True)
    inside, home = _inside(districts, centers)
    _check_swapped(districts, centers, home)  # cheap, and before the costly search
    covered, near, cost, kth = _decide(districts, centers, rule, inside,
                                       want_nearest=nearest)

    names = centers["name"].to_numpy(dtype=object)
    frame = districts[["id", "name", "group", "weight"]].copy()
    frame["centers"] = np.bincount(inside[0], minlength=len(districts))
    frame["covered"] = covered
    def named(positions: np.ndarray) -> pd.Series:
        return pd.Series([names[i] if i >= 0 else None for i in positions], dtype=object,
                         index=frame.index)

    by_cost, costs = near, cost_of(rule)
    if costs.geodesic:  # the rule's cost is the distance in metres
        dist_m = cost
    elif nearest:  # nearest_km and nearest_center stay geodesic, as the crow flies
        near, dist_m = nearest_to_polygons(districts.geometry, centers.geometry, inside=inside)
    else:
        near, dist_m = np.full(len(frame), -1), np.full(len(frame), np.nan)
    frame["nearest_km"] = dist_m / 1000.0
    frame["nearest_center"] = named(near)
    if not costs.geodesic:  # and the rule's own cost beside them, e.g. nearest_min, and which
        frame[costs.column] = costs.to_column(cost)  # centre gives it (the quickest by road)
        frame[costs.center_column] = named(by_cost)
    steps = costs.thresholds if costs.several else ()
    at = covered_at(kth, np.asarray(steps) * costs.divide_by)  # every threshold at once
    for i, step in enumerate(steps):
        frame[costs.threshold_column(step)] = at[:, i]
    more = getattr(rule, "district_columns", None)  # optional: the rule's own figures
    if more is not None:
        for column, values in more(districts.geometry, centers.geometry).items():
            frame[column] = values
    frame = gpd.GeoDataFrame(frame, geometry=districts.geometry.array, crs=districts.crs)

    used = centers.copy()
    ids = districts["id"].to_numpy(dtype=object)
    used["district"] = pd.Series(np.where(home >= 0, ids[np.maximum(home, 0)], None),
                                 dtype=object, index=used.index)

    messages = list(districts.attrs.get("warnings", [])) + list(centers.attrs.get("warnings", []))
    outside = np.flatnonzero(home < 0)
    notes = [("lie outside every district", outside)]
    rule_notes = getattr(rule, "centre_notes", None)  # optional: centres the rule cannot use
    if rule_notes is not None:
        notes += rule_notes(centers.geometry)
    for what, which in notes:
        if len(which):
            listed = ", ".join(f"{names[i]} (line {centers['line'].iloc[i]})"
                               if "line" in centers else str(names[i]) for i in which[:10])
            more = f", … ({len(which)} in all)" if len(which) > 10 else ""
            messages.append(f"{len(which)} of {len(centers)} centres {what}: {listed}{more}")

    weight = frame["weight"].to_numpy(dtype=float)
    grouped = _grouped(frame["group"])
    groups = _group_summaries(grouped, covered, weight)
    thresholds, equity_block = [], None
    if steps:
        from reachplan.thresholds import equity

        thresholds = [{"threshold": step, "unit": costs.unit,
                       "column": costs.threshold_column(step),
                       **summarise(at[:, i], weight),
                       "groups": _group_summaries(grouped, at[:, i], weight)}
                      for i, step in enumerate(steps)]
        equity_block = equity(costs.to_column(kth), steps, weight=weight,
                              groups=frame["group"].to_numpy(dtype=object)
                              if grouped is not None else None)
    types = []
    if type_col is not None:
        kinds = centers[type_col].fillna("").astype(str)
        for kind in sorted(kinds.unique()):
            subset = centers[(kinds == kind).to_numpy()]
            sub_covered = _decide(districts, subset, rule, _inside(districts, subset)[0],
                                  want_nearest=False)[0]
            types.append({"type": kind, "centers": int(len(subset)),
                          **summarise(sub_covered, weight)})
    inputs = {"boundaries": input_name(districts.attrs.get("source")),
              "centers": input_name(centers.attrs.get("source")),
              "centers_used": int(len(centers)), "centers_outside": int(len(outside)),
              "weight_col": districts.attrs.get("weight_col")}
    return CoverageResult(frame, used, rule, summarise(covered, weight), groups, types,
                          messages, inputs, thresholds, equity_block)


def _grouped(group: pd.Series) -> tuple[np.ndarray, Any] | None:
    """Group codes and keys as groupby(sort=True) orders them, or None without groups."""
    if not group.notna().any():
        return None
    return pd.factorize(group.fillna(""), sort=True)


def _group_summaries(grouped: tuple[np.ndarray, Any] | None, covered: np.ndarray,
                     weight: np.ndarray) -> list[dict[str, Any]]:
    """Per group, :func:`summarise` (without a sub-frame per group: a tenth of an
    India-sized assessment went to building those)."""
    if grouped is None:
        return []
    codes, keys = grouped
    return [{"group": key or None, **summarise(covered[codes == code], weight[codes == code])}
            for code, key in enumerate(keys)]


def decide(districts: gpd.GeoDataFrame, centers: gpd.GeoDataFrame,
           rule: CoverageRule | None = None) -> np.ndarray:
    """Whether each district is covered under ``rule``: the decision of :func:`assess`
    alone, without its report (nearest centres are searched only where the decision needs
    them; no swapped-coordinates check).

    Parameters are those of :func:`assess`; returns a boolean array in ``districts`` order.
    """
    rule = rule or Rule.presence()
    from reachplan.frames import as_districts, as_points
    districts = as_districts(districts)
    centers = as_points(centers).reset_index(drop=True)
    inside, _ = _inside(districts, centers)
    return _decide(districts, centers, rule, inside, want_nearest=False)[0]


def district_table(result: CoverageResult) -> pd.DataFrame:
    """Per-district rows as a plain table (for CSV/XLSX), ``nearest_km`` to the metre."""
    table = round_nearest(inf_as_missing(pd.DataFrame(result.districts.drop(columns="geometry"))))
    if not result.weighted:
        table = table.drop(columns="weight")
    return table


def round_nearest(table: pd.DataFrame) -> pd.DataFrame:
    """``nearest_km`` to the metre and a rule's own cost (``nearest_min``) to a thousandth, as
    every output writes them."""
    for column in table.columns:
        if column.startswith("nearest_") and table[column].dtype.kind == "f":
            table[column] = table[column].round(_NDIGITS_NEAREST)
    return table


