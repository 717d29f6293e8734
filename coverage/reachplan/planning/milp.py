"""The HiGHS model of a plan: maximum coverage (``add``) or partial set cover (``target``),
with a warm start, a time limit, progress events, Ctrl-C keeping the best plan found, and the
lexicographic tie-break (see :mod:`reachplan.planning.matrix`)."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from scipy import sparse

from reachplan.planning.request import Progress
from reachplan.solvers.highs import new_highs, run_interruptible

_REL_GAP = 1e-6  # relative gap under which a weighted optimum counts as proved
# absolute gap on the combined objective (count + scaled tie term) when tie weights break ties;
# in tie-weight units it is _TIE_ABS_GAP * 2 * (total_tie + 1), e.g. ~240 people out of 1.2e9
_TIE_ABS_GAP = 1e-7


def solve_milp(
    groups: sparse.csc_array,
    weight: np.ndarray,
    keep: np.ndarray,
    *,
    add: int | None,
    need: float | None,
    warm: list[int],
    integral: bool,
    time_limit: float,
    progress: Progress | None,
    t0: float,
    tie: np.ndarray | None = None,
) -> tuple[list[int] | None, str, float | None, dict[str, Any]]:
    """Solve the MILP with HiGHS; returns (chosen positions, status, gap, details).

    With ``tie`` (group tie weights; only with ``integral`` counts) the objective gains the
    lexicographic tie term (see the module docstring). Status and gap then describe the count
    (proved from the solver's bound: a count above the found one would exceed it); the tie
    term's own status and gap, in tie-weight units, go to ``details["tie_break"]``.
    """
    import highspy

    sub = sparse.csc_array(groups[:, keep])
    n_x = sub.shape[1]
    n_y = sub.shape[0]
    inf = highspy.kHighsInf
    h = new_highs(time_limit=time_limit)
    # tie term scale: the whole tie term stays below 1/2, so it never outweighs one district
    # (max coverage) or one site (fewest sites)
    scale = 0.0 if tie is None else 0.5 / (float(tie.sum()) + 1.0)
    if tie is not None:
        h.setOptionValue("mip_abs_gap", _TIE_ABS_GAP)
        h.setOptionValue("mip_rel_gap", 0.0)
    elif integral:
        h.setOptionValue("mip_abs_gap", 1.0 - 1e-6)
        h.setOptionValue("mip_rel_gap", 0.0)
    else:
        h.setOptionValue("mip_rel_gap", _REL_GAP)

    tie_cost = np.zeros(n_y) if tie is None else scale * np.asarray(tie, dtype=float)
    if add is not None:
        # maximise sum (w_g + s t_g) y_g ; y_g <= sum_{j covers g} x_j ; sum x_j <= add
        cost = np.concatenate([np.zeros(n_x), weight + tie_cost])
        sense = highspy.ObjSense.kMaximize
    else:
        # minimise sum x_j - s sum t_g y_g ; y_g <= sum x_j ; sum w_g y_g >= need
        cost = np.concatenate([np.ones(n_x), -tie_cost])
        sense = highspy.ObjSense.kMinimize
    lower = np.zeros(n_x + n_y)
    upper = np.ones(n_x + n_y)
    h.addVars(n_x + n_y, lower, upper)
    h.changeColsCost(n_x + n_y, np.arange(n_x + n_y, dtype=np.int32), cost)
    h.changeObjectiveSense(sense)
    h.changeColsIntegrality(
        n_x,
        np.arange(n_x, dtype=np.int32),
        np.full(n_x, highspy.HighsVarType.kInteger),
    )
    # coverage rows: y_g - sum x_j <= 0
    rows = sparse.csr_array(sub)
    starts, idx, val = [], [], []
    pos = 0
    for g in range(n_y):
        cols = rows.indices[rows.indptr[g] : rows.indptr[g + 1]]
        starts.append(pos)
        idx.append(np.append(cols, n_x + g))
        val.append(np.append(-np.ones(cols.size), 1.0))
        pos += cols.size + 1
    if n_y:
        h.addRows(
            n_y,
            np.full(n_y, -inf),
            np.zeros(n_y),
            pos,
            np.asarray(starts, dtype=np.int32),
            np.concatenate(idx).astype(np.int32),
            np.concatenate(val),
        )
    if add is not None:
        h.addRow(-inf, float(add), n_x, np.arange(n_x, dtype=np.int32), np.ones(n_x))
    else:
        assert need is not None  # a target when no count of sites is given
        h.addRow(float(need), inf, n_y, np.arange(n_x, n_x + n_y, dtype=np.int32), weight)

    # warm start from greedy
    col_of = {int(c): k for k, c in enumerate(keep)}
    start = np.zeros(n_x + n_y)
    for c in warm:
        if c in col_of:
            start[col_of[c]] = 1.0
    x0 = start[:n_x] > 0.5
    covered_g = np.asarray(rows @ x0.astype(np.int32)).ravel() > 0 if n_y else np.zeros(0, bool)
    start[n_x:] = covered_g
    sol = highspy.HighsSolution()
    sol.col_value = list(start)
    sol.value_valid = True
    # highspy 1.16 with presolve on misreads a warm start's objective and prunes on it,
    # returning a wrong plan labelled optimal (3 sites where 2 reach the target); the warm
    # start is what makes these solves fast, so presolve goes
    h.setOptionValue("presolve", "off")
    h.setSolution(sol)

    def _on_progress(latest: dict[str, Any]) -> None:
        found, bound, gap = latest["objective"], latest["bound"], latest["gap"]
        if tie is not None:  # report the count, not the combined objective
            found, bound, gap = _count_progress(found, bound, maximise=add is not None)
        assert progress is not None
        progress({"phase": "exact", "done": None, "total": None, "objective": found,
                  "bound": bound, "gap": gap, "elapsed_s": time.perf_counter() - t0})

    interrupted = run_interruptible(h, on_progress=None if progress is None else _on_progress,
                                    mip=True)

    status = h.getModelStatus()
    info = h.getInfo()
    details = {
        "model_status": h.modelStatusToString(status),
        "groups": int(n_y),
        "candidates": int(n_x),
        "nodes": int(info.mip_node_count),
    }
    if info.primal_solution_status == 0:  # no feasible point
        return None, "interrupted" if interrupted else "time_limit", None, details
    values = np.asarray(h.getSolution().col_value)[:n_x]
    chosen = [int(keep[k]) for k in np.flatnonzero(values > 0.5)]
    solved = status == highspy.HighsModelStatus.kOptimal
    if tie is not None:
        label, gap = _lexicographic_status(
            sub, weight, tie, values > 0.5, scale, float(info.mip_dual_bound),
            maximise=add is not None, solved=solved, interrupted=interrupted, details=details)
        return chosen, label, gap, details
    gap = float(info.mip_gap)
    if not math.isfinite(gap):
        gap = None
    if interrupted:
        label = "interrupted"
    elif solved:
        label, gap = "optimal", max(gap or 0.0, 0.0)
    else:
        label = "time_limit"
    return chosen, label, gap, details


def _count_progress(found: float, bound: float, *, maximise: bool
                    ) -> tuple[float, float, float]:
    """(count found, count bound, relative gap) from the combined objective's figures.

    The tie term lies in [0, 1/2): the count is ``floor`` (maximise) or ``ceil`` (minimise) of
    the combined value, and the bound on the count is rounded the same way.
    """
    if not (math.isfinite(found) and math.isfinite(bound)):
        return found, bound, math.inf
    c_found, c_bound = _whole(found, maximise), _whole(bound, maximise)
    diff = c_bound - c_found if maximise else c_found - c_bound
    gap = 0.0 if diff <= 0 else diff / c_found if c_found > 0 else math.inf
    return c_found, c_bound, float(gap)


def _whole(value: float, maximise: bool) -> float:
    """The count under a combined value: ``floor`` (maximise) or ``ceil`` (minimise)."""
    if not math.isfinite(value):
        return value
    return float(math.floor(value + 1e-6) if maximise else math.ceil(value - 1e-6))


def _lexicographic_status(
    sub: sparse.csc_array,
    weight: np.ndarray,
    tie: np.ndarray,
    x: np.ndarray,
    scale: float,
    bound: float,
    *,
    maximise: bool,
    solved: bool,
    interrupted: bool,
    details: dict[str, Any],
) -> tuple[str, float | None]:
    """Status and relative gap of the count from the combined objective's bound.

    The combined value is ``count + s * tie`` (maximise) or ``sites - s * tie`` (minimise) with
    ``0 <= s * tie < 1/2``. Maximise: the best count is at most ``floor(bound)``; minimise: the
    fewest sites is at least ``ceil(bound)``. The count is proved when that equals the found one.
    The tie term's status and its gap in tie-weight units go to ``details["tie_break"]``.
    """
    covered = np.asarray(sparse.csr_array(sub) @ x.astype(np.int32)).ravel() > 0
    tie_found = float(tie[covered].sum())
    best = _whole(bound, maximise)
    if maximise:
        found = float(weight[covered].sum())
        diff = best - found
        comb_gap = bound - (found + scale * tie_found)
    else:
        found = float(x.sum())
        diff = found - best
        comb_gap = (found - scale * tie_found) - bound
    if diff <= 0:
        gap: float | None = 0.0
    elif found > 0 and math.isfinite(diff):
        gap = diff / found
    else:
        gap = None
    if interrupted:
        label = "interrupted"
    elif diff <= 0:
        label = "optimal"  # the count is proved even if the tie term is not
    else:
        label = "time_limit"
    tie_status = "interrupted" if interrupted else "optimal" if solved else "time_limit"
    tie_gap = None
    if diff <= 0 and math.isfinite(comb_gap) and scale > 0:
        tie_gap = max(comb_gap, 0.0) / scale
    details["tie_break"] = {
        "status": tie_status,
        "gained": tie_found,  # tie weight of the newly covered districts
        # how much more tie weight the same count could still cover at most
        "gap": None if tie_gap is None else float(tie_gap),
    }
    return label, gap
