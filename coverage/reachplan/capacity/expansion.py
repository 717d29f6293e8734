"""Capacitated maximal covering: which new sites to open so that the most demand is served.

The model
---------
Sites are existing centres (always open) and candidates (open if chosen), each with a
capacity; pairs say which site may serve which demand point. With binary ``y_k`` per candidate
and flows ``x_ij >= 0``::

    maximise   sum x_ij
    subject to sum_j x_ij <= d_i                 (demand of point i)
               sum_i x_ij <= c_j                 (existing centre j)
               sum_i x_ik <= c_k y_k             (candidate k, only when open)
               x_ik <= d_i y_k                   (the same, pair by pair: a tighter relaxation)
               sum_k y_k <= K

or, for a target, minimise ``sum y_k`` with ``sum x_ij >= target``. Costs play no part in the
choice, so demand points that reach exactly the same sites are merged (an exact reduction that
shrinks large inputs many times over). HiGHS solves the MILP from a greedy warm start; its gap
is reported; a time limit or Ctrl-C keeps the best sites found. The chosen network's
allocation is then computed with :func:`reachplan.capacity.allocate` (most served, least cost).

How this project drives HiGHS for uncapacitated plans (``reachplan.planning._solve_milp``) is
followed here: one thread, a fixed seed, a warm start with ``setSolution``, callbacks that
report progress and honour an interrupt.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reachplan.capacity import _checks
from reachplan.capacity.allocation import Allocation, _allocate, _lp_scale, allocate
from reachplan.errors import InputError
from reachplan.solvers.highs import new_highs, run_interruptible

__all__ = ["Expansion", "expand"]



@dataclass(frozen=True)
class Expansion:
    """Result of :func:`expand`.

    Attributes
    ----------
    chosen
        Positions (in the site arrays) of the candidates to open, ascending.
    status
        ``"optimal"`` (proved), ``"time_limit"`` or ``"interrupted"`` (best found, with ``gap``).
    gap
        Relative gap of the objective (served demand, or number of sites) to HiGHS' bound.
    served, baseline_served, greedy_served
        Demand served with the chosen sites, with existing centres only, and with the greedy
        start's sites.
    allocation
        The optimal allocation of the chosen network.
    """

    chosen: list[int]
    status: str
    gap: float | None
    served: float
    baseline_served: float
    greedy_served: float
    allocation: Allocation
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def served_pct(self) -> float | None:
        return self.allocation.percent_served

    def to_dict(self) -> dict[str, Any]:
        return {"chosen": self.chosen, "status": self.status, "gap": self.gap,
                "served": self.served, "baseline_served": self.baseline_served,
                "greedy_served": self.greedy_served, "served_pct": self.served_pct,
                "details": self.details}


def expand(demand_idx: Any, site_idx: Any, cost: Any, demand: Any, capacity: Any,
           candidate: Any, *, add: int | None = None, target_pct: float | None = None,
           time_limit: float = 60.0,
           progress: Callable[[dict[str, Any]], None] | None = None) -> Expansion:
    """Choose new sites among candidates to serve the most demand within capacities.

    Parameters
    ----------
    demand_idx, site_idx, cost
        The long table of (demand point, site, cost) pairs over existing centres and
        candidates alike.
    demand
        Demand per point (>= 0).
    capacity
        Capacity per site (>= 0); a candidate's is its capacity once opened.
    candidate
        Per site, True for a candidate (may be opened), False for an existing centre.
    add
        Open at most this many candidates, maximising demand served ...
    target_pct
        ... or open the fewest that serve this percentage of all demand.
    time_limit
        Seconds in all (HiGHS gets what the greedy start leaves, at least 1 s); Ctrl-C or the
        limit keep the best sites found so far, and ``gap`` says how far from proved.
    progress
        Called about every 0.1 s with ``objective``, ``bound``, ``gap``, ``elapsed_s``.
    """
    t0 = time.perf_counter()
    dem = _checks.amounts(demand, "demand")
    cap = _checks.amounts(capacity, "capacity")
    di, si, k = _checks.pairs(demand_idx, site_idx, cost, dem.size, cap.size)
    cand = np.asarray(candidate, dtype=bool).ravel()
    if cand.size != cap.size:
        raise InputError(f"candidate: {cand.size} values for {cap.size} sites")
    if (add is None) == (target_pct is None):
        raise InputError("add, target_pct: give exactly one", params=("add", "target_pct"))
    if add is not None and add < 0:
        raise InputError(f"add={add}: give a number of sites >= 0", params=("add",))
    if target_pct is not None and not 0 <= target_pct <= 100:
        raise InputError(f"target_pct={target_pct}: give a percentage from 0 to 100",
                         params=("target_pct",))
    if dem.sum() > 0 and cap.sum() <= 0:
        raise InputError("capacity: total capacity is 0; give at least one site a capacity")

    whole = bool(np.all(dem == np.round(dem)) and np.all(cap == np.round(cap)))
    # the choice is made on amounts scaled by a power of two (exact) when all are far below 1:
    # the solvers' tolerances are absolute; the final allocation uses the amounts as given
    scale = _lp_scale(dem, cap)
    s_dem, s_cap = dem * scale, cap * scale
    groups, g_dem, g_pairs, g_sites = _merge(di, si, s_dem, s_cap)
    cand_pos = np.flatnonzero(cand & (cap > 0) & np.isin(np.arange(cap.size), g_sites))

    def served_with(opened: np.ndarray) -> float:
        c = np.where(cand, 0.0, s_cap)
        c[opened] = s_cap[opened]
        if c.sum() <= 0 or g_pairs.size == 0:
            return 0.0
        return allocate(g_pairs, g_sites, np.zeros(g_sites.size), g_dem, c).total_served

    baseline = served_with(np.zeros(0, dtype=np.int64))
    need = None if target_pct is None else target_pct / 100.0 * float(s_dem.sum())
    every = served_with(cand_pos)
    if need is not None and every < need * (1 - 1e-12):
        best = every
        raise InputError(f"target_pct={target_pct:g}: out of reach: opening every "
                         f"candidate serves {100 * best / s_dem.sum():.4g}% of demand",
                         params=("target_pct",))
    warm = _greedy(g_pairs, g_sites, g_dem, s_cap, cand, cand_pos, add=add, need=need,
                   served_with=served_with)
    greedy_served = served_with(np.asarray(warm, dtype=np.int64))

    bound = _bound(g_pairs, g_sites, g_dem, s_cap, cand_pos, baseline=baseline, every=every,
                   add=add, need=need, scale=scale)
    gap: float | None
    details: dict[str, Any]
    if (add == 0 or cand_pos.size == 0 or (need is not None and baseline >= need)
            or (add is not None and add >= cand_pos.size)):
        chosen = [] if add == 0 or need is not None else [int(c) for c in cand_pos]
        status, gap, details = "optimal", 0.0, {"nodes": 0, "proof": "trivial"}
    elif (greedy_served >= bound.value - _tolerance(bound.value, whole) if add is not None
          else len(warm) <= bound.value):
        # the greedy start reaches the simple bound: no search can do better
        chosen = list(warm)
        status, gap, details = "optimal", 0.0, {"nodes": 0, "proof": bound.reason}
    else:
        # leave about 10% of the limit for HiGHS' overrun and the final allocation
        left = max(0.9 * time_limit - (time.perf_counter() - t0), 1.0)
        chosen, status, gap, details = _solve(g_pairs, g_sites, g_dem, s_cap, cand, cand_pos,
                                              add=add, need=need, warm=warm, whole=whole,
                                              bound=bound, time_limit=left, progress=progress)
    opened = np.where(cand, 0.0, cap)
    opened[chosen] = cap[chosen]
    final = _allocate(di, si, k, dem, opened, method="auto", time_limit=None,
                      t0=time.perf_counter())
    details.update(points=int(dem.size), merged_points=int(g_dem.size),
                   pairs=int(di.size), merged_pairs=int(g_pairs.size),
                   candidates=int(cand_pos.size), seconds=round(time.perf_counter() - t0, 3))
    return Expansion(chosen=sorted(chosen), status=status, gap=gap, served=final.total_served,
                     baseline_served=baseline / scale, greedy_served=greedy_served / scale,
                     allocation=final,
                     details=details)


@dataclass(frozen=True)
class _Bound:
    """A bound on the objective that any plan obeys (an upper bound on demand served, or a
    lower bound on the number of sites), and why it holds, in words for the report."""

    value: float
    reason: str


def _bound(gp: np.ndarray, gs: np.ndarray, g_dem: np.ndarray, cap: np.ndarray,
           cand_pos: np.ndarray, *, baseline: float, every: float, add: int | None,
           need: float | None, scale: float = 1.0) -> _Bound:
    """The simple bound of a plan, from two facts that hold for any set S of new sites:

    - in any allocation, the flow into existing centres is a feasible allocation of the
      existing network alone, so it is at most ``baseline``;
    - a new site ``k`` takes at most ``min(capacity_k, demand within its reach)``.

    So served(S) <= baseline + the |S| largest of those amounts, and served(S) <= ``every``
    (the demand served with every candidate open: opening a site never serves less). For a
    target, the fewest sites are at least the fewest of those amounts that add up to what the
    existing network leaves short. Amounts are in the solve's units (the input's times
    ``scale``); the reason shows them in the input's.
    """
    reach = np.bincount(gs, weights=g_dem[gp], minlength=cap.size)
    top = np.sort(np.minimum(cap[cand_pos], reach[cand_pos]))[::-1]
    if add is not None:
        by_sites = baseline + float(top[:add].sum())
        if every <= by_sites:
            return _Bound(every, f"served equals the demand served with every candidate open "
                                 f"({every / scale:g})")
        return _Bound(by_sites, f"served equals the demand the existing centres alone serve "
                                f"({baseline / scale:g}) plus the {add} largest new-site "
                                "capacities, each capped at the demand within its reach "
                                f"({by_sites / scale:g})")
    assert need is not None  # the fewest sites for a target
    short = need * (1 - 1e-12) - baseline
    fewest = int(np.searchsorted(np.cumsum(top), short, side="left")) + 1 if short > 0 else 0
    return _Bound(float(fewest), f"fewer sites cannot serve the target: the existing centres "
                                 f"alone serve {baseline / scale:g}, short by "
                                 f"{short / scale:g}, and no "
                                 f"{fewest - 1} new sites can add that much (each adds at most "
                                 f"min(capacity, demand within its reach))")


def _tolerance(found: float, whole: bool) -> float:
    """How far below a bound a plan may be and still be optimal: less than one unit when
    demands and capacities are whole numbers (served is then whole), else relative 1e-6."""
    return (1.0 - 1e-6) if whole else 1e-6 * max(abs(found), 1.0)


def _merge(di: np.ndarray, si: np.ndarray, dem: np.ndarray, cap: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points reaching the same sites (with capacity) merged into groups.

    Returns each point's group (-1: reaches none), group demand, and the group-site pairs
    sorted by group, then site.
    """
    live = (dem[di] > 0) & (cap[si] > 0)
    di, si = di[live], si[live]
    order = np.lexsort((si, di))
    di, si = di[order], si[order]
    keep = np.r_[True, (np.diff(di) != 0) | (np.diff(si) != 0)] if di.size else np.zeros(0, bool)
    di, si = di[keep], si[keep]
    if di.size == 0:
        empty = np.zeros(0, np.int64)
        return np.full(dem.size, -1, dtype=np.int64), np.zeros(0), empty, empty
    pts, starts = np.unique(di, return_index=True)
    ends = np.append(starts[1:], di.size)
    keys = [si[a:b].tobytes() for a, b in zip(starts, ends, strict=True)]
    index: dict[bytes, int] = {}
    group_of_pt = np.array([index.setdefault(key, len(index)) for key in keys], dtype=np.int64)
    groups = np.full(dem.size, -1, dtype=np.int64)
    groups[pts] = group_of_pt
    g_dem = np.bincount(group_of_pt, weights=dem[pts], minlength=len(index))
    first = np.full(len(index), -1, dtype=np.int64)
    first[group_of_pt[::-1]] = np.arange(pts.size)[::-1]  # first point of each group
    counts = ends - starts
    g_pairs = np.repeat(np.arange(len(index)), counts[first])
    g_sites = np.concatenate([si[starts[f]:ends[f]] for f in first])
    return groups, g_dem, g_pairs, g_sites


def _greedy(gp: np.ndarray, gs: np.ndarray, g_dem: np.ndarray, cap: np.ndarray,
            cand: np.ndarray, cand_pos: np.ndarray, *, add: int | None, need: float | None,
            served_with: Callable[[np.ndarray], float]) -> list[int]:
    """Greedy start: repeatedly open the candidate whose capacity meets the most unserved
    demand in reach, then let it take that demand (most unserved groups first)."""
    base = np.where(cand, 0.0, cap)
    alloc = allocate(gp, gs, np.zeros(gs.size), g_dem, base) if base.sum() > 0 else None
    left = g_dem - (alloc.served if alloc is not None else 0.0)
    chosen: list[int] = []
    remaining = set(int(c) for c in cand_pos)
    in_cand = cand[gs]
    while remaining and (add is None or len(chosen) < add):
        if need is not None and served_with(np.asarray(chosen, np.int64)) >= need:
            break
        reach = np.bincount(gs[in_cand], weights=left[gp[in_cand]], minlength=cap.size)
        options = np.asarray(sorted(remaining))
        gain = np.minimum(reach[options], cap[options])
        best = int(options[int(np.argmax(gain))])  # first (lowest position) on ties
        chosen.append(best)
        remaining.discard(best)
        rows = gp[gs == best]
        room = cap[best]
        for g in rows[np.argsort(-left[rows], kind="stable")]:
            take = min(room, left[g])
            left[g] -= take
            room -= take
            if room <= 0:
                break
    return chosen


def _solve(gp: np.ndarray, gs: np.ndarray, g_dem: np.ndarray, cap: np.ndarray,
           cand: np.ndarray, cand_pos: np.ndarray, *, add: int | None, need: float | None,
           warm: list[int], whole: bool, bound: _Bound, time_limit: float,
           progress: Callable[[dict[str, Any]], None] | None
           ) -> tuple[list[int], str, float | None, dict[str, Any]]:
    """The capacitated maximal covering MILP on merged groups, with HiGHS."""
    import highspy

    inf = highspy.kHighsInf
    n_x, n_g, n_y = gp.size, g_dem.size, cand_pos.size
    y_of = np.full(cap.size, -1, dtype=np.int64)
    y_of[cand_pos] = np.arange(n_y)
    usable = ~cand[gs] | (y_of[gs] >= 0)  # drop pairs to candidates that cannot open
    gp, gs = gp[usable], gs[usable]
    n_x = gp.size
    sites, s_local = np.unique(gs, return_inverse=True)
    n_s = sites.size
    h = new_highs(time_limit=time_limit)
    # columns: x (n_x) then y (n_y)
    h.addVars(n_x + n_y, np.zeros(n_x + n_y),
              np.concatenate([np.minimum(g_dem[gp], cap[gs]), np.ones(n_y)]))
    maximise = add is not None
    cost = np.concatenate([np.ones(n_x), np.zeros(n_y)]) if maximise else \
        np.concatenate([np.zeros(n_x), np.ones(n_y)])
    h.changeColsCost(n_x + n_y, np.arange(n_x + n_y, dtype=np.int32), cost)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise
                           else highspy.ObjSense.kMinimize)
    h.changeColsIntegrality(n_y, np.arange(n_x, n_x + n_y, dtype=np.int32),
                            np.full(n_y, highspy.HighsVarType.kInteger))
    cols = np.arange(n_x, dtype=np.int32)
    # demand rows: sum_s x_gs <= D_g
    _add_rows_by(h, gp, cols, np.ones(n_x), n_g, np.full(n_g, -inf), g_dem)
    # site rows: sum_g x_gs - C_k y_k <= 0 (candidates) or <= C_j (existing)
    is_cand = cand[sites]
    extra_cols = n_x + y_of[sites[is_cand]]
    rows_idx = np.concatenate([s_local, np.flatnonzero(is_cand)])
    rows_col = np.concatenate([cols, extra_cols.astype(np.int32)])
    rows_val = np.concatenate([np.ones(n_x), -cap[sites[is_cand]]])
    _add_rows_by(h, rows_idx, rows_col, rows_val, n_s, np.full(n_s, -inf),
                 np.where(is_cand, 0.0, cap[sites]))
    # x_gk - D_g y_k <= 0 for candidate pairs
    cp = np.flatnonzero(cand[gs])
    if cp.size:
        starts = np.arange(0, 2 * cp.size, 2, dtype=np.int32)
        idx = np.empty(2 * cp.size, dtype=np.int32)
        idx[0::2] = cp
        idx[1::2] = n_x + y_of[gs[cp]]
        val = np.empty(2 * cp.size)
        val[0::2] = 1.0
        val[1::2] = -np.minimum(g_dem[gp[cp]], cap[gs[cp]])
        h.addRows(cp.size, np.full(cp.size, -inf), np.zeros(cp.size), idx.size, starts, idx,
                  val)
    ycols = np.arange(n_x, n_x + n_y, dtype=np.int32)
    if maximise:
        assert add is not None  # maximise: a number of sites to add
        h.addRow(-inf, float(add), n_y, ycols, np.ones(n_y))
    else:
        assert need is not None  # the fewest sites for a target
        h.addRow(float(need) * (1 - 1e-12), inf, n_x, cols, np.ones(n_x))
    if whole:
        h.setOptionValue("mip_abs_gap", 1.0 - 1e-6)
        h.setOptionValue("mip_rel_gap", 0.0)
    else:
        h.setOptionValue("mip_rel_gap", 1e-6)

    # warm start: the greedy sites and their optimal allocation
    open_cap = np.where(cand, 0.0, cap)
    open_cap[warm] = cap[warm]
    start = np.zeros(n_x + n_y)
    if open_cap.sum() > 0:
        start[:n_x] = allocate(gp, gs, np.zeros(n_x), g_dem, open_cap).flow
    start[n_x + y_of[np.asarray(warm, dtype=np.int64)]] = 1.0
    sol = highspy.HighsSolution()
    sol.col_value = list(start)
    sol.value_valid = True
    h.setSolution(sol)
    # HiGHS 1.16 misreports the incumbent (and so may prune wrongly) when a start is given
    # to a presolved MIP (found on a 18-point instance: objective 59, solution and optimum 58)
    h.setOptionValue("presolve", "off")

    t_solve = time.perf_counter()
    interrupted = run_interruptible(h, on_progress=progress, mip=True,
                                    deadline=t_solve + time_limit)
    solver_s = time.perf_counter() - t_solve
    info = h.getInfo()
    status = h.getModelStatus()
    details = {"model_status": h.modelStatusToString(status),
               "nodes": int(info.mip_node_count), "solver_s": round(solver_s, 3)}
    # stopped before HiGHS took the start in: the start is the plan (it is feasible)
    values = (np.asarray(h.getSolution().col_value) if info.primal_solution_status != 0
              else start)
    chosen = [int(c) for c in cand_pos[values[n_x:] > 0.5]]
    # the figures are those of the solution returned, not HiGHS' reported primal bound
    found = float(cost @ values)
    tol = _tolerance(found, whole)
    highs_bound = float(info.mip_dual_bound)
    # HiGHS' bound is only as good as the search got: stopped before its root relaxation, it
    # is the sum of the columns' bounds, far above any plan (a 6641 % gap was reported for a
    # plan the simple bound proves optimal); never set, it reads 0. A bound on the wrong side
    # of a feasible plan is no bound and is ignored. The tighter of the two is the proved one.
    valid = status != highspy.HighsModelStatus.kNotset and (
        highs_bound >= found - tol if maximise else highs_bound <= found + tol)
    if not valid:
        highs_bound = math.inf if maximise else -math.inf
    proved = min(highs_bound, bound.value) if maximise else max(highs_bound, bound.value)
    details.update(objective=found, bound=proved, highs_bound=highs_bound if valid else None,
                   simple_bound=bound.value,
                   highs_gap=float(info.mip_gap) if valid else None)
    diff = (proved - found) if maximise else (found - proved)
    gap: float | None
    if not math.isfinite(diff):
        gap = None
    else:
        gap = max(diff, 0.0) / abs(found) if found else (0.0 if diff <= tol else None)
    highs_proved = status == highspy.HighsModelStatus.kOptimal and (
        (highs_bound - found if maximise else found - highs_bound) <= tol)
    if highs_proved or diff <= tol:
        label = "optimal"
        if whole or gap is None:  # served is whole: less than one unit short is none short
            gap = 0.0
        details["proof"] = "HiGHS" if highs_proved else bound.reason
    else:
        label = "interrupted" if interrupted else "time_limit"
    return chosen, label, gap, details


def _add_rows_by(h: Any, row: np.ndarray, col: np.ndarray, val: np.ndarray, n_rows: int,
                 lower: np.ndarray, upper: np.ndarray) -> None:
    """Add ``n_rows`` rows given as (row, column, value) triples."""
    order = np.argsort(row, kind="stable")
    counts = np.bincount(row, minlength=n_rows)
    starts = np.zeros(n_rows, dtype=np.int32)
    np.cumsum(counts[:-1], out=starts[1:])
    h.addRows(n_rows, lower, upper, int(row.size), starts, col[order].astype(np.int32),
              val[order])
