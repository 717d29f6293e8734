"""Capacity in the what-if page: what the page's solver (static/reachplan-planner-capacity.js)
needs beyond the reach table of :mod:`reachplan.maps.planner`.

The page re-allocates demand on every change with the CLI's objective
(:func:`reachplan.capacity.allocate`: most demand served, then least total cost), in a Web
Worker, on the point-site pairs of the open sites. This module adds the ``capacity`` block to
the planner's data:

``column`` the capacity column (the exported CSV gains it, so ``reachplan coverage
--capacity-col COLUMN`` reads the scenario back; ``column_csv``: its CSV header cell);
``site`` (packed float64, one capacity per site: the centres' column, then the candidates'
and the opened sites' ``candidate_capacity``); ``added`` the capacity of a site clicked in
the page (``candidate_capacity`` when it is one number, else null: clicked sites then get
0); ``cost_k`` (packed uint32, or null): the rule's cost of every point-site pair in
thousandths of its unit (rounded half to even, as the CLI's flow solver compares costs),
aligned with ``points.point``, for rules whose cost the page cannot measure itself (minutes
by road); null for a radius, whose costs are the geodesic metres the page measures with
geographiclib (as pyproj measures them for the CLI); ``unit`` the cost's unit; ``model``
the words of the CLI's capacity block. Demand from district weights x a rate instead of
points adds ``district_demand`` (packed float64 per district), ``district_cost_k`` (packed
uint32: thousandths of the rule's cost of each district-site pair the rule lists, by site,
then district) and ``demand_model``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reachplan.capacity.frames import column_amounts
from reachplan.errors import InputError
from reachplan.maps.planner import DemandPoints, _csv_cells, _pack
from reachplan.rules import cost_of

__all__ = ["capacity_block"]


def _lines(frame: Any) -> list[Any]:
    return frame["line"].tolist() if "line" in frame.columns else list(frame.index)


def _amounts(frame: Any, column: str, what: str) -> np.ndarray:
    label = frame.attrs.get("source", what)
    return column_amounts(frame, column, label=label, rows=_lines(frame))


def _candidate_amounts(frame: Any, value: float | str | None, what: str) -> np.ndarray:
    """One capacity for every candidate (a number), or a column of ``frame``."""
    if value is None:
        raise InputError(f"candidate_capacity: the {what} need a capacity: give one number "
                         "or a column of theirs", params=("candidate_capacity",))
    try:
        amount = float(value)
    except ValueError:
        return _amounts(frame, str(value), what)
    if not (np.isfinite(amount) and amount >= 0):
        raise InputError(f"candidate_capacity={value}: give a capacity >= 0 or a column of "
                         "the candidates", params=("candidate_capacity",))
    return np.full(len(frame), amount)


def capacity_block(data: dict[str, Any], rule: Any, centres: Any, *, capacity: str,
                   demand: DemandPoints | None, candidates: Any = None, opened: Any = None,
                   candidate_capacity: float | str | None = None, districts: Any = None,
                   demand_rate: float | None = None) -> dict[str, Any]:
    """The ``capacity`` block of the planner's ``data`` (:func:`reachplan.maps.planner.
    planner_data` of the same ``centres``, ``candidates``, ``opened`` and ``demand`` points
    under ``rule``).

    Parameters
    ----------
    capacity
        The centres' capacity column.
    candidate_capacity
        The capacity of a candidate (and of an opened or clicked site): one number, or a
        column of the candidates; needed when there are candidates.
    districts, demand_rate
        Without ``demand`` points: demand per district = its weight x ``demand_rate``
        (``district_demand``, packed float64), allocated on the district-site pairs of the
        reach table with their costs (``district_cost_k``, packed uint32, thousandths, one
        per pair the rule lists, by site then district).
    """
    if (demand is None) == (demand_rate is None) or (demand is not None
                                                      and data.get("points") is None):
        raise InputError("demand, demand_rate: give one: demand points, or district weights "
                         "x a rate", params=("demand", "demand_rate"))
    parts = [_amounts(centres, capacity, "centres")]
    for frame, what in ((candidates, "candidate sites"), (opened, "opened sites")):
        if frame is not None and len(frame):
            parts.append(_candidate_amounts(frame, candidate_capacity, what))
    site = np.concatenate(parts)
    if site.size != data["sites"]["n"]:
        raise ValueError("capacity_block: the sites differ from the planner data's")
    try:
        added = None if candidate_capacity is None else float(candidate_capacity)
    except ValueError:
        added = None
    cost = cost_of(rule)
    cost_k = None
    block: dict[str, Any] = {}
    if demand is None:
        block = _district_demand(districts, rule, demand_rate, centres, candidates, opened)
    elif not cost.geodesic:  # minutes by road: only the rule can tell them
        cost_k = _pack(_road_costs(data, rule, demand, centres, candidates, opened), "u32")
    return {"column": capacity, "column_csv": _csv_cells([capacity]),
            "site": _pack(site, "f64"), "added": added, "cost_k": cost_k, "unit": rule.unit,
            "model": {"capacity": f"column '{capacity}'",
                      "candidate_capacity": candidate_capacity, "cost_unit": rule.unit},
            **block}


def _district_demand(districts: Any, rule: Any, rate: float | None, *frames: Any
                     ) -> dict[str, Any]:
    """District weight x rate as the CLI reads them (errors name the column and row), and
    the thousandths of the rule's cost of every district-site pair, by site then district
    (the order of the reach table's rows that the rule lists)."""
    import geopandas as gpd

    from reachplan.capacity import capacity_demand

    sites = gpd.GeoDataFrame(geometry=np.concatenate(
        [np.asarray(f.geometry.values, dtype=object) for f in frames
         if f is not None and len(f)]), crs="EPSG:4326")
    need = capacity_demand(districts, sites, rule, demand_rate=rate, rate_name="demand_rate")
    di, si, cost = need.pairs
    order = np.lexsort((di, si))
    return {"district_demand": _pack(need.amounts, "f64"),
            "district_cost_k": _pack(_thousandths(np.asarray(cost)[order]), "u32"),
            "demand_model": need.model}


def _road_costs(data: dict[str, Any], rule: Any, demand: DemandPoints, *frames: Any
                ) -> np.ndarray:
    """Thousandths of the rule's cost of every point-site pair, in ``points.point`` order
    (by site, then point), from the rule's point pairs (the pairs the CLI allocates on)."""
    import shapely

    geoms = np.concatenate([np.asarray(f.geometry.values, dtype=object)
                            for f in frames if f is not None and len(f)])
    lat, lon = shapely.get_y(geoms), shapely.get_x(geoms)
    point, site, minutes = rule.point_reach(lat, lon).pairs(demand.lat, demand.lon)
    order = np.lexsort((point, site))  # as planner_data orders them
    if order.size != data["points"]["point"]["n"]:
        raise ValueError("capacity_block: the rule's point pairs differ from the planner's")
    return _thousandths(np.asarray(minutes)[order])


def _thousandths(cost: np.ndarray) -> np.ndarray:
    """Costs in thousandths of their unit, rounded half to even (as the CLI's flow solver
    compares them), as uint32."""
    scaled = np.rint(np.asarray(cost, dtype=float) * 1000.0)
    if scaled.size and (scaled.min() < 0 or scaled.max() >= 2**32):
        raise InputError("capacity: a cost out of range for the page (0 to 4.29e6 units)")
    return scaled.astype(np.uint32)
