"""Demand-point coverage: which share of points (customers, PIN codes, villages) a centre
reaches under the coverage rule (e.g. within R km, geodesic on WGS84), for millions of points.

How a point is decided
----------------------
The coverage rule decides (:meth:`reachplan.rules.CoverageRule.point_reach`). For a radius, the
answers are exact geodesic ones, identical to a brute-force ``pyproj`` loop over every centre
(see :mod:`reachplan.geodesy.points`).

Large inputs are read in parts (:mod:`reachplan.demand.parts`: byte ranges of a CSV, row groups of
GeoParquet); each part is processed independently here (:func:`_process_part`), so the
in-memory runner streams with bounded memory and the dask runner runs the very same function
per part on a ``dask.distributed`` cluster (:mod:`reachplan.demand.runners`). Weight sums are exact
(order-independent), so both engines give identical results. The roll-ups by district and
group are summed from the parts' results.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from reachplan._words import plural
from reachplan.demand.parts import PointSpec, plan_parts
from reachplan.demand.runners import Progress, run_dask, run_memory
from reachplan.errors import InputError
from reachplan.geodesy import nearest_centres
from reachplan.geodesy.locate import PolygonIndex
from reachplan.rules import CoverageRule, PointReach, Radius, cost_of, one_threshold

__all__ = ["DemandResult", "demand_coverage", "nearest_centres"]

_MAX_PART_ROWS = 1 << 24  # exact weight sums need fewer than 2**26 rows per part
_FREXP_MIN = -1073  # np.frexp's lowest exponent (of the smallest subnormal)
_DENSE_KEYS = 1 << 22  # (group, exponent) sums kept in one array up to this many
_LISTED = 10


# --------------------------------------------------------------------------- exact sums


def _exact_sums(values: np.ndarray, groups: np.ndarray, n: int) -> list[Fraction]:
    """Exact per-group sums of float64 values (so any partitioning gives the same totals).

    Each value is an integer times a power of two; integers of one group and exponent are
    summed by bincount (exact: halves below 2**27, rows below 2**26), then each group's sums
    are shifted to one exponent and added as Python integers.
    """
    if values.size == 0:
        return [Fraction(0)] * n
    mant, expo = np.frexp(values)
    ints = np.ldexp(mant, 53).astype(np.int64)  # values == ints * 2**(expo-53), exactly
    expo = expo - _FREXP_MIN
    present = np.flatnonzero(np.bincount(expo))
    slot = np.zeros(present[-1] + 1, dtype=np.int64)
    slot[present] = np.arange(present.size)
    key = groups.astype(np.int64) * present.size + slot[expo]
    if n * present.size <= _DENSE_KEYS:
        keys = np.arange(n * present.size)
    else:
        keys, key = np.unique(key, return_inverse=True)
    shi = np.bincount(key, weights=ints >> 26, minlength=keys.size)
    slo = np.bincount(key, weights=ints & ((1 << 26) - 1), minlength=keys.size)
    used = np.flatnonzero((shi != 0) | (slo != 0))
    group, e = np.divmod(keys[used], present.size)
    shift = present[e] - present[0]  # exponents above the lowest present one
    total = [0] * n
    for g, k, h, low in zip(group.tolist(), shift.tolist(), shi[used].tolist(),
                            slo[used].tolist(), strict=True):
        total[g] += ((int(h) << 26) + int(low)) << k
    scale = int(present[0]) + _FREXP_MIN - 53  # the lowest exponent of a unit
    return [Fraction(t << scale) if scale >= 0 else Fraction(t, 1 << -scale) for t in total]


def _percent(part: Fraction | int, whole: Fraction | int) -> float | None:
    if whole == 0:
        return None
    return round(float(Fraction(part) * 100 / Fraction(whole)), 2)


# --------------------------------------------------------------------------- per part


class _Districts:
    """District polygons for roll-ups, with their point-location index."""

    def __init__(self, frame: gpd.GeoDataFrame) -> None:
        frame = frame.to_crs("EPSG:4326") if frame.crs and not frame.crs.equals(
            CRS("EPSG:4326")) else frame
        self.geoms = np.asarray(frame.geometry.values, dtype=object)
        self.n = len(self.geoms)
        self.index = PolygonIndex(self.geoms)

    def locate(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Position of the district holding each point (lowest on shared edges), n if none:
        a grid answers most points, the exact test the rest (:mod:`reachplan.geodesy.locate`)."""
        return self.index.locate(lon, lat)


@dataclass
class _PartResult:
    rows: int
    points: int
    covered: int
    weight_total: Fraction
    weight_covered: Fraction
    skipped: int
    skipped_lines: list[int]
    by_district: tuple[np.ndarray, np.ndarray, list[Fraction], list[Fraction]] | None
    frame: pd.DataFrame | None


@dataclass(frozen=True)
class _Cost:
    """The rule's reach (in its unit), and the per-point column its cost goes to."""

    reach: float
    column: str
    divide_by: float
    min_centers: int = 1

    @classmethod
    def of(cls, rule: CoverageRule) -> _Cost:
        cost = cost_of(rule)
        return cls(rule.reach, cost.column, cost.divide_by, rule.min_centers)


def _process_part(part, spec: PointSpec, index: PointReach, cost: _Cost,
                  districts: _Districts | None, keep_points: bool, threads: int) -> _PartResult:
    chunk = part.read(spec)
    n = chunk.lat.size
    lines = chunk.lines if chunk.lines is not None else chunk.first + np.arange(n)
    valid = (np.isfinite(chunk.lat) & np.isfinite(chunk.lon) & (np.abs(chunk.lat) <= 90)
             & (np.abs(chunk.lon) <= 180))
    bad = np.flatnonzero(~valid)
    lat, lon = chunk.lat[valid], chunk.lon[valid]
    weight = None
    if chunk.weight is not None:
        weight = chunk.weight[valid]
        wrong = np.flatnonzero(~(np.isfinite(weight) & (weight >= 0)))
        if wrong.size:
            where = int(lines[valid][wrong[0]])
            raise InputError(f"{spec.label}: {spec.row_word} {where}: weight column "
                             f"'{spec.weight}' is missing, not a number or negative "
                             f"({wrong.size} such rows in this part); fix those rows or "
                             "leave out weight_col", params=("weight_col",))
    if keep_points:
        idx, dist = index.nearest(lat, lon, threads=threads)
        covered = (dist <= cost.reach if cost.min_centers == 1
                   else index.covered(lat, lon, threads=threads))
    else:
        covered = index.covered(lat, lon, threads=threads)
    m = lat.size
    w = weight if weight is not None else np.zeros(0)
    w_unc, w_cov = (_exact_sums(w, covered.astype(np.int64), 2) if weight is not None
                    else [Fraction(0), Fraction(0)])
    roll = None
    where_d = None
    if districts is not None:
        where_d = districts.locate(lat, lon)
        nd = districts.n + 1
        counts = np.bincount(where_d, minlength=nd)
        cov = np.bincount(where_d[covered], minlength=nd)
        if weight is not None:
            wt = _exact_sums(weight, where_d, nd)
            wc = _exact_sums(weight[covered], where_d[covered], nd)
        else:
            wt = wc = []
        roll = (counts, cov, wt, wc)
    frame = None
    if keep_points:
        data: dict[str, Any] = {spec.row_word: lines[valid]}
        if chunk.ids is not None:
            data["id"] = chunk.ids[valid]
        data.update(lat=lat, lon=lon)
        if weight is not None:
            data["weight"] = weight
        data.update(covered=covered, nearest_index=idx)
        data[cost.column] = dist / cost.divide_by
        if where_d is not None:
            data["district_index"] = where_d
        frame = pd.DataFrame(data)
    return _PartResult(n, m, int(covered.sum()), w_unc + w_cov, w_cov, int(bad.size),
                       lines[bad[:_LISTED]].tolist(), roll, frame)


# --------------------------------------------------------------------------- result


@dataclass
class DemandResult:
    """Demand coverage: ``summary`` (the JSON ``"demand"`` block), per-point and roll-ups."""

    summary: dict[str, Any]
    points: pd.DataFrame | None
    by_district: pd.DataFrame | None
    by_group: pd.DataFrame | None
    outside: int
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``"demand"`` block of the coverage JSON."""
        return dict(self.summary)


def _centre_arrays(centres: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(centres, gpd.GeoDataFrame) and not {"lat", "lon"} <= set(centres.columns):
        pts = centres.to_crs("EPSG:4326").geometry if centres.crs else centres.geometry
        lat, lon = pts.y.to_numpy(float), pts.x.to_numpy(float)
    else:
        lat = centres["lat"].to_numpy(float)
        lon = centres["lon"].to_numpy(float)
    names = (centres["name"].astype(str).to_numpy(dtype=object) if "name" in centres.columns
             else np.array([f"row {i + 1}" for i in range(len(centres))], dtype=object))
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.all():
        raise InputError(f"centres: {plural(int((~ok).sum()), 'centre')} without coordinates; "
                         "drop them before measuring demand")
    return lat, lon, names


def demand_coverage(centres: pd.DataFrame, demand: str | os.PathLike | pd.DataFrame,
                    rule: CoverageRule | None = None, *,
                    radius_km: float | None = None, weight_col: str | None = None,
                    lat_col: str | None = None, lon_col: str | None = None,
                    id_col: str | None = None, layer: str | None = None,
                    engine: str = "memory", scheduler: str | None = None,
                    chunksize: int = 1_000_000, districts: gpd.GeoDataFrame | None = None,
                    keep_points: bool = True, progress: Progress | None = None
                    ) -> DemandResult:
    """Share of demand points (and of their weight) that a centre reaches under ``rule``.

    Parameters
    ----------
    centres
        Centres as given by :func:`reachplan.io.read_points` (``lat``, ``lon``, ``name``) or any
        point GeoDataFrame with a CRS.
    demand
        A CSV, a GeoParquet file or folder of parts, any point layer GDAL reads, or a frame.
    rule
        The coverage rule (:mod:`reachplan.rules`), e.g. ``Rule.radius(25)``: a point is
        covered when a centre reaches it.
    radius_km
        Shorthand for ``rule=Rule.radius(radius_km)``.
    weight_col, lat_col, lon_col, id_col
        Demand columns: a non-negative weight (e.g. people), coordinates (found by name when
        not given), an identifier copied as text to the per-point output.
    engine
        ``"memory"`` streams parts through this process; ``"dask"`` runs the same parts on a
        ``dask.distributed`` cluster at ``scheduler`` (a local one when ``None``).
    chunksize
        Points per part (bounds memory: about 200 bytes per point while a part is processed).
    districts
        Boundaries from :func:`reachplan.io.read_boundaries` for roll-ups by district and group.
    keep_points
        Keep the per-point frame (``.points``); turn off for aggregates only.
    progress
        Called as ``progress(parts_done, parts_total)`` after every part.
    """
    rule = rule_and_engine(rule, radius_km, engine, "a point")
    one_threshold(rule, "demand_coverage")
    chunksize = int(min(max(chunksize, 1), _MAX_PART_ROWS))
    from reachplan.frames import as_districts, as_points
    centres = as_points(centres, param="centres")
    districts = None if districts is None else as_districts(districts)
    clat, clon, cnames = _centre_arrays(centres)
    index = rule.point_reach(clat, clon)
    spec, parts = plan_parts(demand, lat_col=lat_col, lon_col=lon_col, weight_col=weight_col,
                             id_col=id_col, layer=layer, chunksize=chunksize)
    located = _Districts(districts) if districts is not None else None
    cost = _Cost.of(rule)
    # ids are only shown per point: not kept, the parts skip them (1M text ids take ~0.3 s
    # to read into Python strings, more than the coordinates)
    args = (spec if keep_points else replace(spec, id=None), index, cost, located,
            keep_points)  # _process_part(part, *args, threads)
    if engine == "memory":
        results = run_memory(_process_part, parts, args, progress)
    else:
        results = run_dask(_process_part, parts, args, scheduler, progress)
    return _combine(results, spec, _reach(rule), cnames, districts, keep_points, cost.column)


def rule_and_engine(rule: CoverageRule | None, radius_km: float | None, engine: str,
                    what: str) -> CoverageRule:
    """The rule (``rule``, or ``Rule.radius(radius_km)``), one of them given, and ``engine``
    checked: one-line errors naming the parameters; ``what`` a rule reaches (``"a point"``)."""
    if (rule is None) == (radius_km is None):
        raise InputError("rule, radius_km: give one: the rule that decides when a centre "
                         f"reaches {what}, e.g. rule=Rule.radius(25)")
    if engine not in ("memory", "dask"):
        raise InputError(f"engine={engine!r}: use 'memory' or 'dask'", params=("engine",))
    return Radius(radius_km) if rule is None else rule  # type: ignore[arg-type]


def _reach(rule: CoverageRule) -> dict[str, Any]:
    """The demand block's reach as 0.1 named it (``radius_km``, null for presence, or
    ``minutes``), then the rule's cost (``"cost": {"unit", "reach", "column"}``)."""
    cost = cost_of(rule)
    return {**dict(cost.reach_keys), "cost": cost.to_dict()}


def _combine(results: list[_PartResult], spec: PointSpec, reach: dict[str, Any],
             cnames: np.ndarray, districts: gpd.GeoDataFrame | None, keep_points: bool,
             cost_column: str) -> DemandResult:
    points = sum(r.points for r in results)
    if points == 0:
        raise InputError(f"{spec.label}: no demand point with valid coordinates (demand must be "
                         "points); check lat_col and lon_col", params=("lat_col", "lon_col"))
    covered = sum(r.covered for r in results)
    weighted = spec.weight is not None
    w_total = sum((r.weight_total for r in results), Fraction(0))
    w_cov = sum((r.weight_covered for r in results), Fraction(0))
    summary = {
        "points": points,
        "covered": covered,
        "percent": _percent(covered, points),
        "weight_total": float(w_total) if weighted else None,
        "weight_covered": float(w_cov) if weighted else None,
        "weight_percent": _percent(w_cov, w_total) if weighted else None,
        **reach,
    }
    warnings = []
    skipped = sum(r.skipped for r in results)
    if skipped:
        lines = [x for r in results for x in r.skipped_lines][:_LISTED]
        more = f", … ({skipped} in all)" if skipped > len(lines) else ""
        warnings.append(f"{spec.label}: skipped {skipped} demand rows with missing or "
                        f"out-of-range lat/lon ({spec.row_word}s "
                        f"{', '.join(map(str, lines))}{more})")
    by_district = by_group = None
    outside = 0
    if districts is not None:
        by_district, by_group, outside = _rollups(results, districts, weighted)
        if outside:
            warnings.append(f"{spec.label}: {outside} demand points lie outside every district")
    frame = None
    if keep_points:
        frame = pd.concat([r.frame for r in results], ignore_index=True)
        idx = frame.pop("nearest_index").to_numpy()
        km = frame.pop(cost_column)
        frame["nearest_center"] = _labels(cnames, idx)
        frame["nearest_index"] = idx
        frame[cost_column] = km
        if "district_index" in frame.columns and districts is not None:
            ids = districts["id"].astype(str).to_numpy(dtype=object)
            frame["district"] = _labels(ids, frame.pop("district_index").to_numpy())
    return DemandResult(summary, frame, by_district, by_group, outside, warnings)


def _labels(names: np.ndarray, idx: np.ndarray) -> pd.Categorical:
    """names[idx] as a categorical (a few bytes a point); missing where idx is out of range."""
    uniq, inverse = np.unique(names.astype(str), return_inverse=True)
    ok = (idx >= 0) & (idx < names.size)
    codes = np.where(ok, inverse[np.where(ok, idx, 0)] if names.size else -1, -1)
    return pd.Categorical.from_codes(codes, categories=uniq)


def _rollups(results: list[_PartResult], districts: gpd.GeoDataFrame, weighted: bool
             ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    nd = len(districts) + 1
    counts = np.zeros(nd, dtype=np.int64)
    cov = np.zeros(nd, dtype=np.int64)
    wt = [Fraction(0)] * nd
    wc = [Fraction(0)] * nd
    for r in results:
        assert r.by_district is not None
        c, v, t, k = r.by_district
        counts += c
        cov += v
        if weighted:
            wt = [a + b for a, b in zip(wt, t, strict=True)]
            wc = [a + b for a, b in zip(wc, k, strict=True)]
    table = pd.DataFrame({
        "id": districts["id"].astype(str).to_numpy() if "id" in districts else
        np.arange(1, nd).astype(str),
        "name": districts["name"].to_numpy() if "name" in districts else None,
        "group": districts["group"].to_numpy() if "group" in districts else None,
        "points": counts[:-1],
        "covered": cov[:-1],
        "percent": [_percent(a, b) for a, b in zip(cov[:-1], counts[:-1], strict=True)],
        "weight_total": [float(x) for x in wt[:-1]] if weighted else None,
        "weight_covered": [float(x) for x in wc[:-1]] if weighted else None,
        "weight_percent": [_percent(a, b) for a, b in zip(wc[:-1], wt[:-1], strict=True)]
        if weighted else None,
    })
    groups = []
    keys = table["group"].where(table["group"].notna(), None)
    for g in sorted({k for k in keys if k is not None}, key=str):
        sel = np.flatnonzero((keys == g).to_numpy())
        g_points, g_covered = int(counts[sel].sum()), int(cov[sel].sum())
        g_total = sum((wt[i] for i in sel), Fraction(0))
        g_weight = sum((wc[i] for i in sel), Fraction(0))
        groups.append({"group": g, "points": g_points, "covered": g_covered,
                       "percent": _percent(g_covered, g_points),
                       "weight_total": float(g_total) if weighted else None,
                       "weight_covered": float(g_weight) if weighted else None,
                       "weight_percent": _percent(g_weight, g_total) if weighted else None})
    by_group = pd.DataFrame(groups, columns=["group", "points", "covered", "percent",
                                             "weight_total", "weight_covered", "weight_percent"])
    table = table.sort_values("id", kind="stable").reset_index(drop=True)
    return table, by_group, int(counts[-1])
