"""Capacity as library calls, mirroring :mod:`reachplan.planning`: frames and a rule in, the
JSON-ready report out.

- :func:`assess_capacity`: serve demand within the centres' capacities (most demand served,
  then least cost) and report load, utilisation and unserved demand, in total, per centre,
  per centre type, per district and per group (the ``"capacity"`` block of the coverage JSON).
- :func:`plan_capacity`: the capacitated plan: which candidates to open (``add`` of them, or
  the fewest for ``target_pct`` % of demand served).

Demand comes from demand points (``demand``, each point's ``demand_weight_col`` or 1) paired
with the sites by the rule's point pairs, or from the districts (their weight x
``demand_rate``) paired by the rule's district pairs. Errors name the Python parameters
(``InputError(..., params=...)``) or the file, column and row of bad data; the CLI only maps
its options to these calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from reachplan.capacity import _checks
from reachplan.capacity.allocation import Allocation, allocate, rollup
from reachplan.capacity.expansion import expand
from reachplan.capacity.frames import column_amounts, district_of_points, pairs_for_rule
from reachplan.errors import InputError
from reachplan.rules import one_threshold

if TYPE_CHECKING:
    from reachplan.rules import CoverageRule

__all__ = ["CapacityResult", "Demand", "assess_capacity", "capacity_demand", "plan_capacity"]

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Demand:
    """Demand rows, their (demand, site, cost) pairs, each row's district id and the
    ``model`` words of the JSON (where the demand comes from)."""

    amounts: np.ndarray
    pairs: Pairs
    district_of: Any  # an object array: a district id per row (None: outside every district)
    model: dict[str, str]


@dataclass
class CapacityResult:
    """The allocation, the JSON ``"capacity"`` block and the tables outputs print or write."""

    allocation: Allocation
    block: dict[str, Any]
    centres: pd.DataFrame       # one row per centre: name, type, capacity, load, utilisation_pct
    districts: pd.DataFrame     # per district id: demand, reachable, served, unserved, ...
    geometry: Any = None        # the centres' points (for .geojson/.gpkg outputs)
    demand: Demand | None = None


def capacity_demand(districts: Any, sites: Any, rule: CoverageRule, *, demand: Any = None,
                    demand_weight_col: str | None = None, demand_rate: float | None = None,
                    weight_col: str | None = None, rate_name: str = "demand_rate") -> Demand:
    """Demand and its pairs with ``sites``: from ``demand`` points (a frame as
    :func:`reachplan.read_points` gives; weight ``demand_weight_col`` or 1 each), or from the
    districts' ``weight`` (read with ``weight_col``, named so in the model words; default
    the frame's ``attrs["weight_col"]``) x ``demand_rate``. ``rate_name`` is how the model
    words name the rate."""
    one_threshold(rule, "capacity allocation")
    if (demand is None) == (demand_rate is None):
        raise InputError("demand, demand_rate: give one: demand points, or district weights "
                         "x a rate", params=("demand", "demand_rate"))
    if demand_rate is not None:
        weight_col = weight_col or districts.attrs.get("weight_col")
        return _district_demand(districts, sites, rule, demand_rate, weight_col, rate_name)
    return _point_demand(demand, sites, districts, rule, demand_weight_col)


def assess_capacity(districts: Any, centres: Any, rule: CoverageRule, *, capacity: str,
                    demand: Any = None, demand_weight_col: str | None = None,
                    demand_rate: float | None = None, weight_col: str | None = None,
                    type_col: str | None = None, rate_name: str = "demand_rate"
                    ) -> CapacityResult:
    """Serve demand within the capacities of ``centres`` (column ``capacity``) under
    ``rule``: most demand served, then least total cost.

    Parameters are those of :func:`capacity_demand`, with ``type_col`` (a centre column) for
    a roll-up by centre type. Returns a :class:`CapacityResult` whose ``block`` is the
    ``"capacity"`` block of the coverage JSON.
    """
    amounts = _capacities(centres, capacity)
    need = capacity_demand(districts, centres, rule, demand=demand,
                           demand_weight_col=demand_weight_col, demand_rate=demand_rate,
                           weight_col=weight_col, rate_name=rate_name)
    di, ci, cost = need.pairs
    alloc = allocate(di, ci, cost, need.amounts, amounts)
    block: dict[str, Any] = {"model": {"capacity": f"column '{capacity}'", **need.model,
                                       "rule": rule.to_dict(), "cost_unit": rule.unit}}
    block |= alloc.to_dict()
    if type_col:
        types = alloc.by_centre_type(centres[type_col].fillna("").astype(str).to_numpy())
        block["by_centre_type"] = records(types.reset_index())
    groups = _group_rollup(alloc, need.district_of, districts)
    if groups is not None:
        block["by_group"] = records(groups.reset_index())
    by_district = rollup(alloc, need.district_of)
    block["districts"] = records(by_district.reset_index())
    table = alloc.centres_frame().reset_index(drop=True)
    table.insert(0, "name", centres["name"].astype(str).to_numpy())
    if type_col:
        table.insert(1, "type", centres[type_col].fillna("").astype(str).to_numpy())
    table["utilisation_pct"] = table["utilisation_pct"].round(4)
    block["centres"] = records(table)
    return CapacityResult(alloc, block, table, by_district, centres.geometry, need)


def plan_capacity(districts: Any, centres: Any, rule: CoverageRule, *, capacity: str,
                  candidates: Any, candidate_capacity: float | str, demand: Any = None,
                  demand_weight_col: str | None = None, demand_rate: float | None = None,
                  weight_col: str | None = None, add: int | None = None,
                  target_pct: float | None = None, time_limit: float = 60.0,
                  rate_name: str = "demand_rate",
                  progress: Callable[[dict[str, Any]], None] | None = None
                  ) -> tuple[dict[str, Any], Any]:
    """The capacitated plan (:func:`reachplan.capacity.expand`) on frames: the JSON-ready
    report and a GeoDataFrame of the new sites.

    ``candidate_capacity`` is one capacity for every candidate, or a column of
    ``candidates`` (text that reads as a number is that number). Other parameters are those
    of :func:`assess_capacity` and :func:`reachplan.capacity.expand`.
    """
    import geopandas as gpd

    cap_old = _capacities(centres, capacity, total=False)
    cap_new = _candidate_capacity(candidates, candidate_capacity)
    both = np.r_[cap_old, cap_new]
    if both.size and both.sum() <= 0:
        raise InputError(f"{centres.attrs.get('source', 'centres')}: column '{capacity}' and "
                         "candidate_capacity: total capacity is 0",
                         params=("candidate_capacity",))
    sites = gpd.GeoDataFrame(
        geometry=pd.concat([centres.geometry, candidates.geometry], ignore_index=True),
        crs="EPSG:4326")
    need = capacity_demand(districts, sites, rule, demand=demand,
                           demand_weight_col=demand_weight_col, demand_rate=demand_rate,
                           weight_col=weight_col, rate_name=rate_name)
    is_candidate = np.r_[np.zeros(len(centres), bool), np.ones(len(candidates), bool)]
    di, si, cost = need.pairs
    result = expand(di, si, cost, need.amounts, both, is_candidate, add=add,
                    target_pct=target_pct, time_limit=time_limit, progress=progress)
    alloc = result.allocation
    chosen = [int(i) for i in result.chosen]
    picked = candidates.iloc[[i - len(centres) for i in chosen]]
    rows = pd.DataFrame({
        "name": [str(v) for v in picked["name"]],
        "lat": [float(v) for v in picked["lat"]],
        "lon": [float(v) for v in picked["lon"]],
        "capacity": both[chosen] if chosen else np.zeros(0),
        "load": alloc.load[chosen] if chosen else np.zeros(0),
    })
    rows["utilisation_pct"] = (100.0 * rows["load"] / rows["capacity"].where(
        rows["capacity"] > 0)).round(4)
    rows = rows.sort_values(["load", "name"], ascending=[False, True], kind="stable")
    rows.insert(0, "rank", range(1, len(rows) + 1))
    total = float(need.amounts.sum())
    report = {
        "kind": "capacitated",
        "status": result.status,
        "optimality_gap": result.gap,
        "optimality_proof": result.details.get("proof"),
        "method": "highs-milp",
        "model": {"capacity": f"column '{capacity}'", "candidate_capacity": candidate_capacity,
                  **need.model, "rule": rule.to_dict(), "cost_unit": rule.unit},
        "request": {"add": add, "target": target_pct, "time_limit": time_limit},
        "before": {"served": _amount(result.baseline_served),
                   "served_pct": _share(result.baseline_served, total)},
        "after": {"served": _amount(result.served), "served_pct": result.served_pct},
        "greedy_served": _amount(result.greedy_served),
        "demand": _amount(total),
        "sites": records(rows),
        "capacity": alloc.to_dict(),
    }
    frame = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]),
                             crs="EPSG:4326")
    return report, frame


def _capacities(centres: Any, column: str, *, total: bool = True) -> np.ndarray:
    """Capacity per centre from its column, checked (errors name file, column and row)."""
    label = centres.attrs.get("source", "centres")
    amounts = column_amounts(centres, column, label=label, rows=_lines(centres))
    if total and amounts.size and amounts.sum() <= 0:
        raise InputError(f"{label}: column '{column}': total capacity is 0; give at least "
                         "one centre a capacity > 0")
    return amounts


def _candidate_capacity(candidates: Any, value: float | str) -> np.ndarray:
    """One capacity for every candidate, or a column of ``candidates``."""
    try:
        amount = float(value)
    except ValueError:
        return column_amounts(candidates, str(value),
                              label=candidates.attrs.get("source", "candidates"),
                              rows=_lines(candidates))
    if not (np.isfinite(amount) and amount >= 0):
        raise InputError(f"candidate_capacity={value}: give a capacity >= 0 or a column of "
                         "candidates", params=("candidate_capacity", "candidates"))
    return np.full(len(candidates), amount)


def _point_demand(points: Any, sites: Any, districts: Any, rule: CoverageRule,
                  weight: str | None) -> Demand:
    label = points.attrs.get("source", "demand")
    name = Path(str(label)).name  # no local paths in outputs
    if weight:
        amounts = column_amounts(points, weight, label=label, rows=_lines(points))
        model = {"demand": f"column '{weight}' of {name}"}
    else:
        amounts = np.ones(len(points))
        model = {"demand": f"1 per point of {name}"}
    pairs = pairs_for_rule(points, sites, rule)
    return Demand(amounts, pairs, district_of_points(points, districts, "id"), model)


def _district_demand(districts: Any, sites: Any, rule: CoverageRule, rate: float,
                     weight_col: str | None, rate_name: str) -> Demand:
    if not (np.isfinite(rate) and rate >= 0):
        raise InputError(f"demand_rate={rate:g}: give a rate >= 0", params=("demand_rate",))
    if not weight_col:
        raise InputError("demand_rate: needs the districts' weights (weight_col of "
                         "read_boundaries): demand = weight x rate",
                         params=("demand_rate", "weight_col"))
    label = districts.attrs.get("source", "boundaries")
    frame = pd.DataFrame({weight_col: districts["weight"].to_numpy(dtype=object)})
    rows = [f"id {i}" for i in districts["id"].astype(str)]
    weights = column_amounts(frame, weight_col, label=label, rows=rows)
    amounts = _checks.amounts(weights * rate,
                              f"{label}: column '{weight_col}' x {rate_name} {rate:g}",
                              rows=rows)  # within the solvers' bound
    di, ci, cost = rule.pairs(districts.geometry, sites.geometry)
    model = {"demand": f"district '{weight_col}' x {rate:g} ({rate_name})"}
    return Demand(amounts, (np.asarray(di, dtype=np.int64), np.asarray(ci, dtype=np.int64),
                            np.asarray(cost, dtype=np.float64)),
                  districts["id"].astype(str).to_numpy(dtype=object), model)


def _group_rollup(alloc: Allocation, district_of: np.ndarray, districts: Any
                  ) -> pd.DataFrame | None:
    if "group" not in districts.columns or districts["group"].isna().all():
        return None
    to_group = dict(zip(districts["id"].astype(str), districts["group"], strict=True))
    groups = [None if d is None else to_group.get(str(d)) for d in district_of]
    return rollup(alloc, groups, name="group")


def _lines(frame: Any) -> list[Any]:
    return frame["line"].tolist() if "line" in frame.columns else list(frame.index)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as JSON-ready dicts (percentages to 4 decimals, whole numbers as
    integers, non-finite as null)."""
    return [{str(k): _plain(v, str(k).endswith("_pct")) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def _plain(value: Any, percent: bool = False) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not np.isfinite(value):
            return None
        if percent:
            return round(value, 4)
        return int(value) if value == int(value) and abs(value) < 2**53 else round(value, 6)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def _amount(value: float) -> float | int:
    return int(value) if np.isfinite(value) and value == int(value) else round(value, 6)


def _share(part: float, whole: float) -> float | None:
    return None if whole <= 0 else round(100.0 * part / whole, 4)
