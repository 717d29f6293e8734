"""Optimal capacity-limited allocation of demand to centres.

The model
---------
Demand point ``i`` has demand ``d_i``, centre ``j`` capacity ``c_j``; a pair ``(i, j, cost)``
says that centre ``j`` may serve point ``i`` at that cost (metres or minutes: whatever the rule
yields). Flows ``x_ij >= 0`` with ``sum_j x_ij <= d_i`` and ``sum_i x_ij <= c_j`` form a
transportation problem. It is solved lexicographically with HiGHS' simplex, in two solves:

1. maximise the demand served ``S = sum x``;
2. minimise the total cost ``sum cost_ij x_ij`` subject to ``S`` staying at its maximum
   (a tolerance of ``1e-9`` relative).

With whole-number demand and capacity and OR-Tools installed (``pip install
'reachplan[capacity]'``), the same problem is solved as a maximum flow of minimum cost by
OR-Tools' network simplex (``SimpleMinCostFlow.solve_max_flow_with_min_cost``), about 20 times
faster than the LP here; costs are then compared in thousandths of their unit (millimetres,
milliseconds of a minute), while the totals reported use the costs as given.

Both optima are global (an LP), so totals depend on neither the order of the pairs nor of the
centres; only the split between tied alternatives may. With whole-number demand and capacity
the matrix is totally unimodular and the simplex ends on a vertex, so flows are whole numbers
and are rounded to them.

Reduction (exact): points with zero demand and centres with zero capacity drop out; in every
connected component of the demand-centre graph where sending each point to its cheapest centre
overloads no centre, that assignment is optimal for both objectives and needs no solver; the
other components are independent problems, solved one by one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from reachplan.capacity import _checks
from reachplan.errors import InputError
from reachplan.solvers.highs import new_highs, run_interruptible
from reachplan.solvers.transport import transport_matrix

__all__ = ["Allocation", "allocate", "rollup"]

_REL_TOL = 1e-9
_COST_SCALE = 1000.0  # the flow solver compares costs in thousandths of their unit


@dataclass(frozen=True)
class Allocation:
    """Result of :func:`allocate`.

    Attributes
    ----------
    status
        ``"optimal"`` (both objectives proved optimal by HiGHS), ``"time_limit"`` or
        ``"interrupted"`` (a feasible allocation, not proved optimal).
    demand, capacity
        The inputs, per demand point and per centre.
    demand_idx, centre_idx, cost, flow
        Every pair given, and the demand it carries (0 for unused pairs).
    served, unserved, reachable
        Per demand point: demand served, demand left unserved, and whether any centre with
        capacity is within reach (``unserved`` of a reachable point is demand "covered but over
        capacity").
    load
        Per centre: demand it serves.
    details
        Solver figures: pairs and points sent to the LP, iterations, seconds.
    """

    status: str
    demand: np.ndarray
    capacity: np.ndarray
    demand_idx: np.ndarray
    centre_idx: np.ndarray
    cost: np.ndarray
    flow: np.ndarray
    served: np.ndarray
    load: np.ndarray
    reachable: np.ndarray
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def unserved(self) -> np.ndarray:
        return self.demand - self.served

    @property
    def total_demand(self) -> float:
        return float(self.demand.sum())

    @property
    def total_served(self) -> float:
        return float(self.served.sum())

    @property
    def total_cost(self) -> float:
        return float(self.cost @ self.flow)

    @property
    def percent_served(self) -> float | None:
        return _pct(self.total_served, self.total_demand)

    def utilisation_pct(self) -> np.ndarray:
        """Load as a percentage of capacity per centre (``nan`` where capacity is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.capacity > 0, 100.0 * self.load / self.capacity, np.nan)

    def centres_frame(self, ids: Sequence[Any] | None = None) -> pd.DataFrame:
        """One row per centre: capacity, load, utilisation_pct."""
        return pd.DataFrame(
            {"capacity": self.capacity, "load": self.load,
             "utilisation_pct": self.utilisation_pct()},
            index=pd.Index(ids if ids is not None else range(self.capacity.size), name="centre"))

    def points_frame(self, ids: Sequence[Any] | None = None) -> pd.DataFrame:
        """One row per demand point: demand, served, unserved, reachable."""
        return pd.DataFrame(
            {"demand": self.demand, "served": self.served, "unserved": self.unserved,
             "reachable": self.reachable},
            index=pd.Index(ids if ids is not None else range(self.demand.size), name="point"))

    def by_centre_type(self, types: Sequence[Any]) -> pd.DataFrame:
        """Per centre type: capacity, load, utilisation %, and % of all demand it serves."""
        kinds = np.asarray(types, dtype=object)
        if kinds.size != self.capacity.size:
            raise InputError(f"types: {kinds.size} values for {self.capacity.size} centres")
        frame = pd.DataFrame({"type": kinds, "centres": 1, "capacity": self.capacity,
                              "load": self.load})
        out = frame.groupby("type", sort=True).sum()
        out["utilisation_pct"] = [_pct(a, b) for a, b in zip(out["load"], out["capacity"],
                                                             strict=True)]
        out["pct_of_demand_served"] = [_pct(a, self.total_demand) for a in out["load"]]
        return out

    def to_dict(self) -> dict[str, Any]:
        """Totals for a JSON ``"capacity"`` block."""
        util = self.utilisation_pct()
        over = int(np.count_nonzero(self.reachable & (self.unserved > 0)))
        return {
            "status": self.status,
            "method": self.details.get("method"),
            "demand": _num(self.total_demand),
            "served": _num(self.total_served),
            "unserved": _num(self.total_demand - self.total_served),
            "served_pct": self.percent_served,
            "unserved_in_reach": _num(float(self.unserved[self.reachable].sum())),
            "points_over_capacity": over,
            "capacity": _num(float(self.capacity.sum())),
            "centres_full": int(np.count_nonzero((self.capacity > 0) & (util >= 100 - 1e-7))),
            "total_cost": self.total_cost,
        }


def allocate(demand_idx: Any, centre_idx: Any, cost: Any, demand: Any, capacity: Any, *,
             method: str = "auto", time_limit: float | None = None) -> Allocation:
    """Assign demand to centres: most demand served, then least total cost, capacities kept.

    Parameters
    ----------
    demand_idx, centre_idx, cost
        The long table of pairs: every (demand point, centre) within reach of the rule and its
        cost (a rule's ``pairs()``). Duplicate pairs keep their lowest cost.
    demand
        Demand per point (>= 0), e.g. requests per day.
    capacity
        Capacity per centre (>= 0), in the same unit.
    method
        ``"flow"`` (OR-Tools min-cost flow; whole-number demand and capacity), ``"lp"`` (HiGHS)
        or ``"auto"`` (flow when it applies and OR-Tools is installed, else lp).
    time_limit
        Seconds for HiGHS in all (None: none). Ctrl-C stops it and keeps the best allocation
        found (both then give a feasible allocation that is not proved optimal).

    Returns
    -------
    Allocation
    """
    t0 = time.perf_counter()
    dem = _checks.amounts(demand, "demand")
    cap = _checks.amounts(capacity, "capacity")
    di, ci, k = _checks.pairs(demand_idx, centre_idx, cost, dem.size, cap.size)
    if dem.size and dem.sum() > 0 and cap.sum() <= 0:
        raise InputError("capacity: total capacity is 0; give at least one centre a capacity")
    return _allocate(di, ci, k, dem, cap, method=method, time_limit=time_limit, t0=t0)


def _allocate(di: np.ndarray, ci: np.ndarray, k: np.ndarray, dem: np.ndarray, cap: np.ndarray,
              *, method: str, time_limit: float | None, t0: float) -> Allocation:
    """:func:`allocate` on checked arrays (zero total capacity allowed: nothing served)."""
    di, ci, k = _dedupe(di, ci, k, cap.size)
    whole = bool(np.all(dem == np.round(dem)) and np.all(cap == np.round(cap)))
    solver = _pick_method(method, whole)

    flow = np.zeros(di.size)
    live = (dem[di] > 0) & (cap[ci] > 0)
    reachable = np.zeros(dem.size, dtype=bool)
    reachable[di[live]] = True
    details: dict[str, Any] = {"pairs": int(di.size), "lp_pairs": 0, "lp_points": 0}
    status = "optimal"
    rows = np.flatnonzero(live)
    if rows.size:
        easy, hard, comp = _nearest_where_feasible(di[rows], ci[rows], k[rows], dem, cap)
        flow[rows[easy]] = dem[di[rows[easy]]]
        labels = {"optimal": 0, "time_limit": 1, "interrupted": 2}
        scale = _lp_scale(dem, cap)
        for part in _split(rows[hard], comp[hard]):
            if solver == "flow":
                part_status, x, part_details = _solve_flow(di[part], ci[part], k[part], dem,
                                                           cap)
            else:
                left = None if time_limit is None else max(
                    time_limit - (time.perf_counter() - t0), 0.01)
                part_status, x, part_details = _solve_lp(di[part], ci[part], k[part],
                                                         dem * scale, cap * scale,
                                                         time_limit=left)
                x = x / scale
            flow[part] = x
            details["lp_pairs"] += part_details["lp_pairs"]
            details["lp_points"] += part_details["lp_points"]
            details["components"] = details.get("components", 0) + 1
            if labels[part_status] > labels[status]:
                status = part_status
            if part_status == "interrupted":
                break
    details["method"] = solver
    if whole and status == "optimal":
        flow = np.rint(flow)
    served = np.bincount(di, weights=flow, minlength=dem.size)
    load = np.bincount(ci, weights=flow, minlength=cap.size)
    return Allocation(status=status, demand=dem, capacity=cap, demand_idx=di, centre_idx=ci,
                      cost=k, flow=flow, served=served, load=load, reachable=reachable,
                      details=details)


def _lp_scale(dem: np.ndarray, cap: np.ndarray) -> float:
    """A power of two bringing the largest amount into [1, 2) when it is below 1 (else 1):
    HiGHS's tolerances are absolute (1e-7), so amounts all far below 1 would read as 0.
    Multiplying and dividing by a power of two is exact."""
    top = float(max(dem.max(initial=0.0), cap.max(initial=0.0)))
    if top <= 0 or top >= 1:
        return 1.0
    return math.ldexp(1.0, 1 - math.frexp(top)[1])


def _pick_method(method: str, whole: bool) -> str:
    if method not in ("auto", "flow", "lp"):
        raise InputError(f"method: {method!r}; use 'auto', 'flow' or 'lp'")
    if method == "lp":
        return "lp"
    if method == "flow" and not whole:
        raise InputError("method: 'flow' needs whole-number demand and capacity; use 'lp'")
    try:
        import ortools.graph.python.min_cost_flow  # noqa: F401
    except ImportError:
        if method == "flow":
            raise InputError("method: 'flow' needs OR-Tools: pip install 'reachplan[capacity]'"
                             ) from None
        return "lp"
    return "flow" if whole else "lp"


def _split(rows: np.ndarray, comp: np.ndarray) -> list[np.ndarray]:
    """``rows`` grouped by component (solved one by one: several small problems are much
    faster than one large one), in order of component label."""
    order = np.argsort(comp, kind="stable")
    cuts = np.flatnonzero(np.diff(comp[order])) + 1
    return [rows[part] for part in np.split(order, cuts)] if rows.size else []


def _solve_flow(di: np.ndarray, ci: np.ndarray, k: np.ndarray, dem: np.ndarray,
                cap: np.ndarray) -> tuple[str, np.ndarray, dict[str, Any]]:
    """Maximum flow of minimum cost (OR-Tools network simplex) on the given pairs."""
    from ortools.graph.python import min_cost_flow

    pts, d_local = np.unique(di, return_inverse=True)
    cts, c_local = np.unique(ci, return_inverse=True)
    n_d, n_c = pts.size, cts.size
    src, snk = n_d + n_c, n_d + n_c + 1
    scaled = np.rint(k * _COST_SCALE).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.full(n_d, src), d_local, n_d + np.arange(n_c)]).astype(np.int32)
    heads = np.concatenate([np.arange(n_d), n_d + c_local, np.full(n_c, snk)]).astype(np.int32)
    caps = np.concatenate([dem[pts], np.minimum(dem[di], cap[ci]), cap[cts]]).astype(np.int64)
    costs = np.concatenate([np.zeros(n_d, np.int64), scaled, np.zeros(n_c, np.int64)])
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    total = int(caps[:n_d].sum())
    flow.set_nodes_supplies(np.array([src, snk]), np.array([total, -total]))
    status = flow.solve_max_flow_with_min_cost()
    if status != min_cost_flow.SimpleMinCostFlow.OPTIMAL:  # pragma: no cover - integer input
        raise RuntimeError(f"OR-Tools min-cost flow ended with status {status}")
    x = np.asarray(flow.flows(arcs[n_d : n_d + di.size]), dtype=float)
    return "optimal", x, {"lp_pairs": int(di.size), "lp_points": int(n_d)}


def _dedupe(di: np.ndarray, ci: np.ndarray, k: np.ndarray, n_c: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs sorted by (demand, centre) with duplicates reduced to their lowest cost."""
    if di.size > 1:
        step_d, step_c = np.diff(di), np.diff(ci)
        if np.all((step_d > 0) | ((step_d == 0) & (step_c > 0))):
            return di, ci, k  # already sorted and unique (as radius_pairs gives them)
    order = np.lexsort((k, ci, di))
    di, ci, k = di[order], ci[order], k[order]
    if di.size > 1:
        first = np.r_[True, (np.diff(di) != 0) | (np.diff(ci) != 0)]
        di, ci, k = di[first], ci[first], k[first]
    return di, ci, k


def _nearest_where_feasible(di: np.ndarray, ci: np.ndarray, k: np.ndarray, dem: np.ndarray,
                            cap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (positions) of the cheapest assignment in components it solves, the pairs of the
    other components, and each pair's component.

    Pairs come sorted by demand point, then centre. A component (points and centres joined
    by pairs) in which every point's cheapest centre keeps within capacity is solved by that
    assignment: every point fully served, each at its least cost.
    """
    n_d, n_c = dem.size, cap.size
    # pairs are sorted by (point, centre), so a stable sort keeps the lowest centre first
    # among equal costs: per point, cheapest first
    order = np.lexsort((k, di))
    firsts = order[np.r_[True, np.diff(di[order]) != 0]]
    load = np.bincount(ci[firsts], weights=dem[di[firsts]], minlength=n_c)
    over_centre = load > cap * (1 + _REL_TOL)
    graph = sparse.coo_array((np.ones(di.size), (di, n_d + ci)), shape=(n_d + n_c,) * 2)
    _, comp = connected_components(graph, directed=False)
    bad_comp = np.zeros(comp.max() + 1, dtype=bool)
    bad_comp[comp[n_d:][over_centre]] = True
    hard = bad_comp[comp[di]]
    easy = firsts[~hard[firsts]]
    return easy, np.flatnonzero(hard), comp[di]


def _solve_lp(di: np.ndarray, ci: np.ndarray, k: np.ndarray, dem: np.ndarray, cap: np.ndarray,
              *, time_limit: float | None) -> tuple[str, np.ndarray, dict[str, Any]]:
    """The two-solve lexicographic LP on the given pairs (renumbered compactly)."""
    import highspy

    pts, d_local = np.unique(di, return_inverse=True)
    cts, c_local = np.unique(ci, return_inverse=True)
    n, n_d, n_c = di.size, pts.size, cts.size
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = n_d + n_c
    lp.col_cost_ = np.ones(n)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.minimum(dem[di], cap[ci])
    lp.row_lower_ = np.full(n_d + n_c, -inf)
    lp.row_upper_ = np.concatenate([dem[pts], cap[cts]])
    start, index, value = transport_matrix(d_local.astype(np.int32), c_local.astype(np.int32),
                                           n_d)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    lp.sense_ = highspy.ObjSense.kMaximize
    h = new_highs(time_limit=time_limit)
    h.passModel(lp)
    interrupted = run_interruptible(h)
    status1 = h.getModelStatus()
    iterations = int(h.getInfo().simplex_iteration_count)
    optimal = status1 == highspy.HighsModelStatus.kOptimal and not interrupted
    if not optimal:
        x = _feasible(h, n, di, ci, dem, cap)
        return ("interrupted" if interrupted else "time_limit"), x, {
            "lp_pairs": int(n), "lp_points": int(n_d), "iterations": iterations}
    best = float(h.getInfo().objective_function_value)
    # phase 2: least cost among the allocations serving the most
    h.addRow(best - _REL_TOL * max(best, 1.0), inf, n, np.arange(n, dtype=np.int32), np.ones(n))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), k)
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    interrupted = run_interruptible(h)
    status2 = h.getModelStatus()
    iterations += int(h.getInfo().simplex_iteration_count)
    x = _feasible(h, n, di, ci, dem, cap)
    if interrupted:
        label = "interrupted"
    elif status2 == highspy.HighsModelStatus.kOptimal:
        label = "optimal"
    else:
        label = "time_limit"
    return label, x, {"lp_pairs": int(n), "lp_points": int(n_d), "iterations": iterations}


def _feasible(h: Any, n: int, di: np.ndarray, ci: np.ndarray, dem: np.ndarray,
              cap: np.ndarray) -> np.ndarray:
    """HiGHS' column values made exactly feasible (clipped at 0, scaled into the bounds)."""
    sol = h.getSolution()
    if not sol.value_valid:
        return np.zeros(n)
    x = np.clip(np.asarray(sol.col_value, dtype=float)[:n], 0.0, None)
    for idx, bound in ((di, dem), (ci, cap)):
        total = np.bincount(idx, weights=x, minlength=bound.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(total > bound, bound / total, 1.0)
        x = x * scale[idx]
    return x


def rollup(allocation: Allocation, groups: Sequence[Any], *, name: str = "district"
           ) -> pd.DataFrame:
    """Per group (district, state, ...) of demand points: demand, reachable (demand within
    reach of some centre), served, unserved, unserved_in_reach (covered but over capacity)
    and served_pct; sorted by group label.

    ``groups`` gives each demand point's group (missing: left out).
    """
    labels = pd.Series(np.asarray(groups, dtype=object))
    if labels.size != allocation.demand.size:
        raise InputError(f"groups: {labels.size} values for {allocation.demand.size} points")
    frame = pd.DataFrame({
        name: labels,
        "demand": allocation.demand,
        "reachable": np.where(allocation.reachable, allocation.demand, 0.0),
        "served": allocation.served,
    })
    out = frame.dropna(subset=[name]).groupby(name, sort=True).sum()
    out["unserved"] = out["demand"] - out["served"]
    out["unserved_in_reach"] = out["reachable"] - out["served"]
    out["served_pct"] = [_pct(a, b) for a, b in zip(out["served"], out["demand"], strict=True)]
    return out[["demand", "reachable", "served", "unserved", "unserved_in_reach", "served_pct"]]


def _pct(part: float, whole: float) -> float | None:
    return None if whole <= 0 else round(100.0 * part / whole, 4)


def _num(value: float) -> float | int:
    return int(value) if math.isfinite(value) and value == int(value) else value
