"""Expansion planning: where to open the next centres, and what each one buys.

Two doors, as in spopt's ``locate`` models:

* :func:`solve_matrix` works on a plain coverage structure: a sparse boolean matrix ``A``
  (districts x candidate sites; ``A[i, j]`` is true when site ``j`` would cover district ``i``
  under the rule), a boolean vector ``already`` (districts covered by the existing centres) and
  optional weights. It never needs a GeoDataFrame.
* :func:`plan` is a thin adapter: it assesses the existing network with :mod:`covplan.engine`,
  builds ``A`` with :func:`covplan.geodesy.polygons_within` (geodesic WGS84) and returns the plan
  as the JSON-ready dict of the ``covplan plan`` command.

Methods: ``greedy`` (largest marginal gain first, ties broken by the larger marginal tie weight
if any, then by candidate order), ``exact``
(maximum coverage MILP for ``add``; partial set cover, i.e. fewest sites, for ``target``) solved
with HiGHS (highspy) under a time limit, warm-started from greedy and reporting the optimality
gap, and ``auto`` (the default): the exact solver, which returns the proved optimum when it
finishes within the time limit and otherwise the best plan found, labelled with its gap. Before
solving, districts with identical candidate sets are merged and dominated candidates (whose
districts are a subset of another candidate's) dropped.

Lexicographic tie-break: when the objective counts districts and ``tie_weights`` are given (e.g.
population), among the plans with the best count the solver prefers the one covering the most
tie weight. The MILP optimises ``count + tie / (2 * (total_tie + 1))`` (max coverage) or
``sites - covered_tie / (2 * (total_tie + 1))`` (fewest sites): the tie term is below 1/2, so the
count comes first and its optimality is still proved from the solver's bound; the tie weight is
optimal only within the solver's absolute gap on the combined objective (``_TIE_ABS_GAP``; the
tie weight's own status and remaining gap are in ``MatrixPlan.details["tie_break"]``).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy import sparse

from covplan.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

    from covplan.engine import CoverageResult
    from covplan.rules import CoverageRule

__all__ = [
    "MatrixPlan",
    "Progress",
    "solve_matrix",
    "greedy_order",
    "candidate_matrix",
    "default_candidates",
    "PlanRun",
    "plan",
    "run_plan",
    "plan_sites_frame",
    "compare_results",
]

Method = Literal["greedy", "exact", "auto"]
Progress = Callable[[dict[str, Any]], None]
"""A progress hook: called with ``{"phase", "done", "total", "objective", "bound", "gap",
"elapsed_s"}`` (``bound``/``gap`` are ``None`` in the greedy phase)."""

_METHODS = ("greedy", "exact", "auto")
_REL_GAP = 1e-6  # relative gap under which a weighted optimum counts as proved
# absolute gap on the combined objective (count + scaled tie term) when tie weights break ties;
# in tie-weight units it is _TIE_ABS_GAP * 2 * (total_tie + 1), e.g. ~240 people out of 1.2e9
_TIE_ABS_GAP = 1e-7


@dataclass
class MatrixPlan:
    """A plan on the matrix level (positions, not names).

    Attributes
    ----------
    sites
        Candidate positions in rank order (each the largest marginal gain given those before).
    gain_count, gain_weight
        Per site: districts and weight it newly covers (``gain_weight`` equals ``gain_count``
        when no weights were given).
    covers
        Per site: sorted district positions it newly covers.
    method
        ``"greedy"`` or ``"exact"``: which solver produced the chosen set.
    status
        ``"optimal"`` (proved), ``"time_limit"`` (best found when the limit struck),
        ``"interrupted"`` (Ctrl-C: best found so far) or ``"heuristic"`` (greedy, no proof).
    optimality_gap
        Relative gap ``(bound - found) / found`` (max coverage) or ``(found - bound) / found``
        (fewest sites) from the solver; 0 when proved optimal; ``None`` for greedy.
    covered_count, covered_weight
        Districts and weight covered after the plan (existing coverage included).
    target_reached
        For ``target``: whether the target was met; ``None`` for ``add``.
    best_reachable_count, best_reachable_weight
        What every candidate together would cover (existing coverage included).
    covered_tie_weight
        Tie weight covered after the plan (existing coverage included) when ``tie_weights``
        were given, else ``None``.
    """

    sites: list[int]
    gain_count: list[int]
    gain_weight: list[float]
    covers: list[list[int]]
    method: str
    status: str
    optimality_gap: float | None
    covered_count: int
    covered_weight: float
    target_reached: bool | None = None
    best_reachable_count: int = 0
    best_reachable_weight: float = 0.0
    elapsed_s: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    covered_tie_weight: float | None = None


# --------------------------------------------------------------------------- core (matrix door)


@dataclass
class _Reduced:
    """Uncovered, coverable districts merged into groups; candidates restricted to them."""

    groups: sparse.csc_array  # groups x candidates (all original candidates), bool
    weight: np.ndarray  # objective weight of each group
    members: list[np.ndarray]  # district positions of each group
    tie: np.ndarray | None = None  # summed tie weight of each group (None: no tie-break)


def _as_csc(A: Any) -> sparse.csc_array:
    if sparse.issparse(A):
        m = sparse.csc_array(A, dtype=bool)
    else:
        m = sparse.csc_array(np.asarray(A, dtype=bool))
    m.eliminate_zeros()
    m.sort_indices()
    return m


def _reduce(A: sparse.csc_array, already: np.ndarray, objective: np.ndarray,
            tie: np.ndarray | None = None) -> _Reduced:
    """Merge uncovered districts that share the same candidate set; drop uncoverable ones.

    A group's weight (and tie weight) is the sum over its districts.
    """
    rows = sparse.csr_array(A)
    rows.sort_indices()
    keys: dict[bytes, int] = {}
    members: list[list[int]] = []
    group_cols: list[np.ndarray] = []
    for i in np.flatnonzero(~already):
        cols = rows.indices[rows.indptr[i] : rows.indptr[i + 1]]
        if cols.size == 0:
            continue
        key = cols.astype(np.int64).tobytes()
        g = keys.get(key)
        if g is None:
            keys[key] = len(members)
            members.append([int(i)])
            group_cols.append(cols)
        else:
            members[g].append(int(i))
    n_groups = len(members)
    indptr = np.zeros(n_groups + 1, dtype=np.int64)
    if n_groups:
        indptr[1:] = np.cumsum([c.size for c in group_cols])
        indices = np.concatenate(group_cols).astype(np.int64)
    else:
        indices = np.zeros(0, dtype=np.int64)
    g_rows = sparse.csr_array(
        (np.ones(indices.size, dtype=bool), indices, indptr), shape=(n_groups, A.shape[1])
    )
    member_arrays = [np.asarray(m, dtype=np.int64) for m in members]
    weight = np.array([objective[m].sum() for m in member_arrays], dtype=float)
    tie_g = None if tie is None else np.array([tie[m].sum() for m in member_arrays], dtype=float)
    return _Reduced(sparse.csc_array(g_rows), weight, member_arrays, tie_g)


def _undominated(groups: sparse.csc_array, *, chunk: int = 2000) -> np.ndarray:
    """Positions of candidates worth keeping for the exact model.

    A candidate is dropped when it covers no group, or when another candidate covers a superset
    of its groups (a strict superset, or the same set and an earlier position): swapping it for
    that candidate never lowers coverage, so some optimum avoids it. This holds for the tie
    weights too (they are non-negative): the swap never lowers the covered tie weight either.
    """
    size = np.diff(groups.indptr)
    live = np.flatnonzero(size > 0)
    if live.size == 0:
        return live
    b = sparse.csc_array(groups[:, live], dtype=np.int32)
    bt = sparse.csr_array(b.T)
    sz = size[live]
    keep = np.ones(live.size, dtype=bool)
    for start in range(0, live.size, chunk):
        stop = min(start + chunk, live.size)
        overlap = sparse.csc_array(bt @ b[:, start:stop])  # rows: all live, cols: this chunk
        for k in range(stop - start):
            j = start + k
            lo, hi = overlap.indptr[k], overlap.indptr[k + 1]
            others = overlap.indices[lo:hi]
            ov = overlap.data[lo:hi]
            # candidate `other` contains j's set when overlap == |S_j|
            sup = others[(ov == sz[j]) & (others != j)]
            if sup.size and np.any((sz[sup] > sz[j]) | (sup < j)):
                keep[j] = False
    return live[keep]


def _greedy(
    groups: sparse.csc_array,
    weight: np.ndarray,
    *,
    limit: int | None,
    need: float | None,
    allowed: np.ndarray | None = None,
    progress: Progress | None = None,
    t0: float | None = None,
    tie: np.ndarray | None = None,
) -> tuple[list[int], list[list[int]], bool]:
    """Greedy maximum coverage on groups.

    Picks the candidate with the largest remaining weight (ties: the largest remaining ``tie``
    weight when given, then the lowest position) until ``limit`` sites are chosen, the covered
    weight reaches ``need``, or nothing more can be gained. Returns the chosen positions, the
    groups each newly covers, and whether Ctrl-C cut it short.
    """
    t0 = time.perf_counter() if t0 is None else t0
    n_cand = groups.shape[1]
    rows = sparse.csr_array(groups)
    remaining = weight.astype(float).copy()
    gains = np.asarray(groups.T @ remaining, dtype=float).ravel()
    tie_left = None if tie is None else np.asarray(tie, dtype=float).copy()
    tie_gains = None if tie_left is None else np.asarray(groups.T @ tie_left, dtype=float).ravel()
    if allowed is not None:
        mask = np.full(n_cand, False)
        mask[allowed] = True
        gains[~mask] = -np.inf
    chosen: list[int] = []
    covers: list[list[int]] = []
    got = 0.0
    total = limit if limit is not None else None
    tol = 1e-9 * max(float(weight.sum()), 1.0)
    try:
        while True:
            if limit is not None and len(chosen) >= limit:
                break
            if need is not None and got >= need - tol:
                break
            j = int(np.argmax(gains)) if n_cand else -1
            if j < 0 or not gains[j] > 0:
                break
            if tie_gains is not None:
                # equal gains: the larger tie gain, then the lowest position (argmax: first)
                level = np.flatnonzero(gains == gains[j])
                j = int(level[np.argmax(tie_gains[level])])
            g_new = groups.indices[groups.indptr[j] : groups.indptr[j + 1]]
            g_new = g_new[remaining[g_new] > 0]
            # zero-weight groups still count as covered districts, so include them
            g_all = groups.indices[groups.indptr[j] : groups.indptr[j + 1]]
            g_all = g_all[~np.isnan(remaining[g_all])]
            got += float(remaining[g_new].sum())
            chosen.append(j)
            covers.append([int(g) for g in g_all])
            remaining[g_all] = np.nan  # covered
            touched = np.unique(
                np.concatenate([rows.indices[rows.indptr[g] : rows.indptr[g + 1]] for g in g_all])
            )
            # recompute exactly (no running subtraction: keeps ties exact and deterministic)
            sub = groups[:, touched]
            left = np.nan_to_num(remaining, nan=0.0)
            fresh = np.asarray(sub.T @ left, dtype=float).ravel()
            live = gains[touched] > -np.inf
            gains[touched[live]] = fresh[live]
            gains[j] = -np.inf
            if tie_gains is not None and tie_left is not None:
                tie_left[g_all] = 0.0
                tie_gains[touched] = np.asarray(sub.T @ tie_left, dtype=float).ravel()
            if progress is not None:
                progress(
                    {
                        "phase": "greedy",
                        "done": len(chosen),
                        "total": total,
                        "objective": got,
                        "bound": None,
                        "gap": None,
                        "elapsed_s": time.perf_counter() - t0,
                    }
                )
    except KeyboardInterrupt:
        return chosen, covers, True
    return chosen, covers, False


def greedy_order(
    A: Any,
    chosen: Sequence[int],
    *,
    already: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    tie_weights: np.ndarray | None = None,
) -> list[int]:
    """Rank a set of sites as a sequence: each next site is the largest marginal gain.

    Ties go to the larger gain in ``tie_weights`` (e.g. population when the objective counts
    districts), then to the earlier candidate position. Sites that add nothing keep their
    input order at the end.
    """
    m = _as_csc(A)
    n = m.shape[0]
    already = np.zeros(n, dtype=bool) if already is None else np.asarray(already, dtype=bool)
    w = np.ones(n) if weights is None else np.nan_to_num(np.asarray(weights, dtype=float))
    tie = np.zeros(n) if tie_weights is None else np.nan_to_num(
        np.asarray(tie_weights, dtype=float))
    covered = already.copy()
    left = sorted(set(int(c) for c in chosen))
    order: list[int] = []
    while left:
        best, best_key = left[0], None
        for c in left:
            rows = m.indices[m.indptr[c] : m.indptr[c + 1]]
            new = rows[~covered[rows]]
            key = (float(w[new].sum()), float(tie[new].sum()), int(new.size))
            if best_key is None or key > best_key:
                best, best_key = c, key
        order.append(best)
        left.remove(best)
        rows = m.indices[m.indptr[best] : m.indptr[best + 1]]
        covered[rows] = True
    return order


def _solve_milp(
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
    h = highspy.Highs()
    h.silent()
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
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
    h.setSolution(sol)

    latest: dict[str, Any] = {}

    def _on_event(e: Any) -> None:
        out = e.data_out
        found, bound, gap = (float(out.mip_primal_bound), float(out.mip_dual_bound),
                             float(out.mip_gap))
        if tie is not None:  # report the count, not the combined objective
            found, bound, gap = _count_progress(found, bound, maximise=add is not None)
        latest.update(objective=found, bound=bound, gap=gap)
        if stop["flag"]:
            e.interrupt()

    def _on_lp(e: Any) -> None:
        if stop["flag"]:
            e.interrupt()

    stop = {"flag": False}
    h.cbMipImprovingSolution += _on_event
    h.cbMipInterrupt += _on_event
    h.cbSimplexInterrupt += _on_lp

    interrupted = False
    thread = h.startSolve()
    try:
        done = False
        while not done:
            done, _ = h.wait(0.1)
            if progress is not None and latest:
                progress(
                    {
                        "phase": "exact",
                        "done": None,
                        "total": None,
                        "objective": latest.get("objective"),
                        "bound": latest.get("bound"),
                        "gap": latest.get("gap"),
                        "elapsed_s": time.perf_counter() - t0,
                    }
                )
    except KeyboardInterrupt:
        interrupted = True
        stop["flag"] = True
        h.cancelSolve()
        while not h.wait(0.1)[0]:
            pass
    thread.join()

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


def solve_matrix(
    A: Any,
    *,
    already: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    add: int | None = None,
    target: float | None = None,
    method: Method = "auto",
    time_limit: float = 60.0,
    progress: Progress | None = None,
    tie_weights: np.ndarray | None = None,
) -> MatrixPlan:
    """Choose candidate sites on a plain coverage structure.

    Parameters
    ----------
    A
        Districts x candidates, boolean (dense or scipy sparse): ``A[i, j]`` when site ``j``
        would cover district ``i``.
    already
        Districts covered by the existing centres (default: none).
    weights
        Objective weight per district (e.g. population); default: every district counts 1.
        NaN counts as 0.
    add
        Open at most this many sites, maximising covered weight (maximum coverage).
    target
        Open the fewest sites that bring coverage to this percentage (0-100) of all districts
        (or of the total weight). Exactly one of ``add`` and ``target``.
    method
        ``"greedy"``; ``"exact"`` (HiGHS; the best plan found and its gap when the time limit
        strikes first); or ``"auto"``: exact, and greedy (labelled ``heuristic``) if the
        HiGHS solver (highspy) is not installed.
    time_limit
        Seconds for the exact solver.
    progress
        Optional hook, see :data:`Progress`.
    tie_weights
        Secondary objective per district (e.g. population; NaN counts as 0), used when the
        objective counts districts (no ``weights``): among the plans covering the most
        districts (``add``) or reaching ``target`` with the fewest sites, the one covering the
        most tie weight; greedy breaks equal gains by the larger tie gain. Status and gap
        describe the count; the tie weight is optimal within the solver's absolute gap
        (``details["tie_break"]``). With ``weights`` they only order the listing of sites with
        equal gain (see :func:`greedy_order`).
    """
    t0 = time.perf_counter()
    if (add is None) == (target is None):
        raise InputError("give exactly one of --add K and --target P")
    if add is not None and (int(add) != add or add < 0):
        raise InputError(f"--add {add}: must be a whole number >= 0")
    if target is not None and not (0.0 <= float(target) <= 100.0):
        raise InputError(f"--target {target}: must be a percentage between 0 and 100")
    if method not in _METHODS:
        raise InputError(f"--method {method!r}: use one of {', '.join(_METHODS)}")
    if method == "exact" and not _have_highs():
        raise InputError("--method exact needs the HiGHS solver: pip install highspy "
                         "(or use --method greedy)")
    if not (time_limit > 0):
        raise InputError(f"--time-limit {time_limit}: must be a positive number of seconds")

    m = _as_csc(A)
    n = m.shape[0]
    already = np.zeros(n, dtype=bool) if already is None else np.asarray(already, dtype=bool)
    if already.shape != (n,):
        raise ValueError(f"already has shape {already.shape}; expected ({n},)")
    weighted = weights is not None
    w = np.ones(n) if weights is None else np.nan_to_num(np.asarray(weights, dtype=float))
    if w.shape != (n,):
        raise ValueError(f"weights has shape {w.shape}; expected ({n},)")
    if np.any(w < 0):
        raise InputError("weights must not be negative; check the --weight-col column")
    tie_all: np.ndarray | None = None
    if tie_weights is not None:
        tie_all = np.nan_to_num(np.asarray(tie_weights, dtype=float))
        if tie_all.shape != (n,):
            raise ValueError(f"tie_weights has shape {tie_all.shape}; expected ({n},)")
        if np.any(tie_all < 0):
            raise InputError("tie weights must not be negative; check the --weight-col column")
    # the lexicographic tie-break applies to the count objective only
    lexi = tie_all is not None and not weighted

    red = _reduce(m, already, w, tie_all if lexi else None)
    base = float(w[already].sum())
    total = float(w.sum())
    reach = base + float(red.weight.sum())
    need: float | None = None
    target_reached: bool | None = None
    if target is not None:
        if weighted:
            goal = float(target) / 100.0 * total
        else:
            goal = float(math.ceil(float(target) / 100.0 * n - 1e-9))
        tol = 1e-9 * max(total, 1.0)
        target_reached = reach >= goal - tol
        # unreachable: plan for the best reachable figure instead
        need = max((goal if target_reached else reach) - base, 0.0)

    g_chosen, g_covers, g_interrupted = _greedy(
        red.groups, red.weight, limit=add, need=need, progress=progress, t0=t0, tie=red.tie
    )
    chosen, status, gap, details = g_chosen, "heuristic", None, {}
    used = "greedy"
    if g_interrupted:
        status = "interrupted"
    elif method == "auto" and not _have_highs():
        details = {"note": "highspy is not installed: greedy plan, no optimality proof"}
    elif method != "greedy" and (need is None or need > 0) and red.groups.shape[0] > 0:
        greedy_val = float(red.weight[sorted({g for c in g_covers for g in c})].sum())
        if add is not None and greedy_val >= float(red.weight.sum()) - 1e-9 * max(total, 1.0):
            # greedy already covers everything coverable: nothing to prove
            status, gap, used = "optimal", 0.0, "exact"
        else:
            keep = _undominated(red.groups)
            warm, _, _ = _greedy(red.groups, red.weight, limit=add, need=need, allowed=keep,
                                 tie=red.tie)
            # keep the better start (g_chosen may include dominated sites); lexicographic with
            # the tie weight when there is one
            if add is not None:
                if _start_key(red, warm, sites=False) < _start_key(red, g_chosen, sites=False):
                    warm = g_chosen
            elif _start_key(red, warm, sites=True) < _start_key(red, g_chosen, sites=True):
                warm = g_chosen
            # counts are whole numbers: a gap below 1 proves optimality; weights get a
            # relative tolerance (abs gaps below 1 on 1e9 people would be numerical noise)
            integral = not weighted
            x, status, gap, details = _solve_milp(
                red.groups,
                red.weight,
                np.union1d(keep, np.asarray(warm, dtype=np.int64)),
                add=add,
                need=need,
                warm=warm,
                integral=integral,
                time_limit=time_limit,
                progress=progress,
                t0=t0,
                tie=red.tie,
            )
            if x is not None:
                chosen, used = x, "exact"
    elif method != "greedy":
        status, gap, used = "optimal", 0.0, "exact"

    # gains on district level; greedy picks are already a sequence, an exact set is ranked
    order = list(chosen) if used == "greedy" else greedy_order(
        m, chosen, already=already, weights=w, tie_weights=tie_weights)
    covered = already.copy()
    gain_count: list[int] = []
    gain_weight: list[float] = []
    covers: list[list[int]] = []
    for c in order:
        rows = m.indices[m.indptr[c] : m.indptr[c + 1]]
        new = np.sort(rows[~covered[rows]])
        covered[new] = True
        gain_count.append(int(new.size))
        gain_weight.append(float(w[new].sum()))
        covers.append([int(i) for i in new])
    covered_weight = float(w[covered].sum())
    if target is not None and need is not None:
        goal_met = covered_weight - base >= need - 1e-9 * max(total, 1.0)
        if not goal_met:
            target_reached = False
    all_cov = already.copy()
    for members in red.members:
        all_cov[members] = True
    return MatrixPlan(
        sites=order,
        gain_count=gain_count,
        gain_weight=gain_weight,
        covers=covers,
        method=used,
        status=status,
        optimality_gap=gap,
        covered_count=int(covered.sum()),
        covered_weight=covered_weight,
        target_reached=target_reached,
        best_reachable_count=int(all_cov.sum()),
        best_reachable_weight=float(w[all_cov].sum()),
        elapsed_s=time.perf_counter() - t0,
        details=details,
        covered_tie_weight=None if tie_all is None else float(tie_all[covered].sum()),
    )


def _have_highs() -> bool:
    import importlib.util

    return importlib.util.find_spec("highspy") is not None


def _start_key(red: _Reduced, chosen: Sequence[int], *, sites: bool) -> tuple[float, float]:
    """Larger is a better warm start: (-sites or covered weight, covered tie weight)."""
    hit = _covered_groups(red.groups, chosen)
    tie = 0.0 if red.tie is None else float(red.tie[hit].sum())
    first = -float(len(chosen)) if sites else float(red.weight[hit].sum())
    return first, tie


def _covered_groups(groups: sparse.csc_array, chosen: Sequence[int]) -> np.ndarray:
    hit = np.zeros(groups.shape[0], dtype=bool)
    for c in chosen:
        hit[groups.indices[groups.indptr[c] : groups.indptr[c + 1]]] = True
    return hit


# --------------------------------------------------------------------------- adapter (GIS door)


def default_candidates(boundaries: gpd.GeoDataFrame, mask: np.ndarray | None = None
                       ) -> gpd.GeoDataFrame:
    """One candidate site per district: a point guaranteed inside it (``representative_point``).

    Parameters
    ----------
    boundaries
        Districts as returned by :func:`covplan.io.read_boundaries`.
    mask
        Which districts get a candidate (default: all).
    """
    import geopandas as gpd

    chosen = boundaries if mask is None else boundaries[np.asarray(mask, dtype=bool)]
    pts = chosen.geometry.representative_point()
    names = [
        f"{n} ({i})" if isinstance(n, str) and n and n != i else str(i)
        for i, n in zip(chosen["id"], chosen["name"], strict=True)
    ]
    return gpd.GeoDataFrame(
        {
            "name": names,
            "lat": np.round(pts.y.to_numpy(), 6),
            "lon": np.round(pts.x.to_numpy(), 6),
        },
        geometry=gpd.points_from_xy(np.round(pts.x, 6), np.round(pts.y, 6)),
        crs="EPSG:4326",
    ).reset_index(drop=True)


def candidate_matrix(
    boundaries: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, rule: CoverageRule
) -> sparse.csc_array:
    """Districts x candidates: which candidate would cover which district under ``rule``
    (the rule's pairs within reach)."""
    pi, qi, _ = rule.pairs(boundaries.geometry, candidates.geometry)
    shape = (len(boundaries), len(candidates))
    return sparse.csc_array((np.ones(pi.size, dtype=bool), (pi, qi)), shape=shape)


def _apply_exclude(
    boundaries: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, exclude: Sequence[str]
) -> gpd.GeoDataFrame:
    """Drop candidates named in ``exclude`` or lying inside a district whose id is in it."""
    from covplan.geodesy import polygons_within

    if not exclude:
        return candidates
    ids = boundaries["id"].astype(str).to_numpy()
    names = candidates["name"].astype(str).to_numpy()
    drop = np.zeros(len(candidates), dtype=bool)
    district_rows: list[int] = []
    for value in exclude:
        hit_d = np.flatnonzero(ids == value)
        hit_n = names == value
        if hit_d.size == 0 and not hit_n.any():
            raise InputError(
                f"--exclude {value!r}: no district id and no candidate site has this name; "
                "use a district id from the boundaries or a site name from the candidates"
            )
        district_rows.extend(int(i) for i in hit_d)
        drop |= hit_n
    if district_rows:
        rows = np.asarray(sorted(set(district_rows)))
        _, qi, _ = polygons_within(boundaries.geometry.iloc[rows], candidates.geometry, 0.0)
        drop[qi] = True
    return candidates[~drop].reset_index(drop=True)


@dataclass
class PlanRun:
    """A plan with the coverage results around it (for maps and tables).

    Attributes
    ----------
    report
        The JSON-ready dict (see :func:`plan`).
    before, after
        :class:`covplan.engine.CoverageResult` without and with the planned sites.
    sites
        The planned sites as a point GeoDataFrame (:func:`plan_sites_frame`).
    """

    report: dict[str, Any]
    before: CoverageResult
    after: CoverageResult
    sites: gpd.GeoDataFrame


def plan(boundaries: gpd.GeoDataFrame, centres: gpd.GeoDataFrame, rule: CoverageRule,
         **kwargs: Any
         ) -> dict[str, Any]:
    """Plan new sites on top of the existing centres; the JSON-ready report.

    Same parameters as :func:`run_plan`. Returns ``{"before", "after", "method",
    "optimality_gap", "status", "objective", "rule", "request", "target_reached",
    "best_reachable", "candidates", "sites", "warnings"}``; ``before``/``after`` are coverage
    summaries exactly as in the coverage JSON; each site is ``{"rank", "name", "lat", "lon",
    "gain_districts", "gain_weight", "covers"}``.
    """
    return run_plan(boundaries, centres, rule, **kwargs).report


def run_plan(
    boundaries: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    rule: CoverageRule,
    *,
    add: int | None = None,
    target: float | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    exclude: Sequence[str] = (),
    method: Method = "auto",
    time_limit: float = 60.0,
    objective: Literal["auto", "districts", "weight"] = "auto",
    progress: Progress | None = None,
) -> PlanRun:
    """Plan new sites on top of the existing centres.

    Parameters
    ----------
    boundaries, centres
        As returned by :func:`covplan.io.read_boundaries` and :func:`covplan.io.read_points`.
    rule
        The coverage rule (:mod:`covplan.rules`); only ``min_centers=1`` is supported.
    add, target
        Open at most ``add`` sites for the most coverage, or the fewest sites that reach
        ``target`` percent. Exactly one.
    candidates
        Candidate sites (points, with a ``name`` column); default one representative point
        inside each uncovered district.
    exclude
        District ids (no site inside them) or candidate site names to leave out.
    method, time_limit, progress
        See :func:`solve_matrix`.
    objective
        ``"districts"`` (count covered districts), ``"weight"`` (covered weight; needs the
        boundaries' weights) or ``"auto"``: weight when the boundaries carry weights
        (``--weight-col``), else districts. ``target`` is a percentage of the same figure.
        With ``"districts"`` and weights, the weight breaks ties: among the plans with the best
        count, the one covering the most weight (``tie_weights`` of :func:`solve_matrix`).
    """
    from covplan.engine import assess

    if rule.min_centers != 1:
        raise InputError(
            f"--min-centers {rule.min_centers}: plan supports only --min-centers 1 "
            "(a district covered by one centre); drop the option"
        )
    if (add is None) == (target is None):
        raise InputError("give exactly one of --add K and --target P")
    before = assess(boundaries, centres, rule)
    districts = before.districts.set_index("id").reindex(boundaries["id"])
    already = districts["covered"].fillna(False).to_numpy(dtype=bool)
    weighted = bool(boundaries["weight"].notna().any())
    if objective not in ("auto", "districts", "weight"):
        raise InputError(f"--objective {objective!r}: use districts or weight")
    if objective == "weight" and not weighted:
        raise InputError("--objective weight needs district weights: pass --weight-col")
    by_weight = weighted and objective != "districts"
    w_all = np.nan_to_num(boundaries["weight"].to_numpy(dtype=float)) if weighted else None

    warnings: list[str] = []
    if candidates is None:
        candidates = default_candidates(boundaries, ~already)
        source = "one point inside each uncovered district"
    else:
        source = str(candidates.attrs.get("source", "candidates"))
        candidates = candidates.reset_index(drop=True)
    candidates = _apply_exclude(boundaries, candidates, [str(e) for e in exclude])
    # only uncovered districts can gain: build the (costly) geodesic matrix for those alone
    open_rows = np.flatnonzero(~already)
    sub = candidate_matrix(boundaries.iloc[open_rows], candidates, rule)
    coo = sparse.coo_array(sub)
    A = sparse.csc_array(
        (np.ones(coo.nnz, dtype=bool), (open_rows[coo.row], coo.col)),
        shape=(len(boundaries), len(candidates)),
    )
    found = solve_matrix(
        A,
        already=already,
        weights=w_all if by_weight else None,
        tie_weights=w_all if weighted and not by_weight else None,
        add=add,
        target=target,
        method=method,
        time_limit=time_limit,
        progress=progress,
    )
    reachable = already | (np.diff(sparse.csr_array(A).indptr) > 0)

    import geopandas as gpd
    import pandas as pd

    chosen = candidates.iloc[found.sites]
    new_sites = gpd.GeoDataFrame(
        {"name": chosen["name"].astype(str).to_numpy(),
         "lat": chosen["lat"].to_numpy(dtype=float),
         "lon": chosen["lon"].to_numpy(dtype=float)},
        geometry=chosen.geometry.to_numpy(),
        crs="EPSG:4326",
    )
    base_cols = ["name", "lat", "lon", "geometry"]
    together = gpd.GeoDataFrame(
        pd.concat([centres[base_cols], new_sites[base_cols]], ignore_index=True),
        geometry="geometry",
        crs="EPSG:4326",
    )
    together.attrs = dict(centres.attrs)
    after = assess(boundaries, together, rule)
    if int(after.summary["covered"]) != found.covered_count:
        warnings.append(
            f"the plan predicted {found.covered_count} covered districts but the coverage "
            f"engine counts {after.summary['covered']} with the new sites"
        )

    ids = boundaries["id"].astype(str).to_numpy()
    n = len(boundaries)
    total_w = float(np.nansum(boundaries["weight"])) if weighted else None
    sites = [
        {
            "rank": rank,
            "name": str(new_sites["name"].iloc[k]),
            "lat": float(new_sites["lat"].iloc[k]),
            "lon": float(new_sites["lon"].iloc[k]),
            "gain_districts": int(found.gain_count[k]),
            "gain_weight": _round(w_all[found.covers[k]].sum()) if w_all is not None else None,
            "covers": [str(ids[i]) for i in found.covers[k]],
        }
        for k, rank in zip(range(len(found.sites)), itertools.count(1), strict=False)
    ]
    best = {
        "districts": found.best_reachable_count,
        "percent": _pct(found.best_reachable_count, n),
        "weight": _round(w_all[reachable].sum()) if w_all is not None else None,
        "weight_percent": _pct(w_all[reachable].sum(), total_w) if w_all is not None else None,
    }
    report = {
        "before": dict(before.summary),
        "after": dict(after.summary),
        "method": found.method,
        "optimality_gap": None if found.optimality_gap is None
        else round(float(found.optimality_gap), 6),
        "status": found.status,
        "objective": "weight" if by_weight else "districts",
        "rule": rule.to_dict(),
        "request": {"add": None if add is None else int(add),
                    "target": None if target is None else float(target),
                    "method": method, "time_limit_s": float(time_limit)},
        "target_reached": found.target_reached,
        "best_reachable": best,
        "candidates": {"source": source, "count": int(len(candidates))},
        "sites": sites,
        "warnings": list(before.warnings) + warnings,
    }
    return PlanRun(report, before, after, plan_sites_frame(report))


def _round(x: float) -> float:
    return round(float(x), 6)


def _pct(part: float, whole: float | None) -> float | None:
    if not whole:
        return None if whole is None else 0.0
    return round(100.0 * float(part) / float(whole), 2)


def plan_sites_frame(result: dict[str, Any]) -> gpd.GeoDataFrame:
    """The planned sites as a point GeoDataFrame (for ``-o plan.csv|.geojson|.gpkg``).

    ``covers`` becomes one text cell of district ids joined by ``;``.
    """
    import geopandas as gpd
    import pandas as pd

    rows = result["sites"]
    frame = pd.DataFrame(
        {
            "rank": [s["rank"] for s in rows],
            "name": [s["name"] for s in rows],
            "lat": [s["lat"] for s in rows],
            "lon": [s["lon"] for s in rows],
            "gain_districts": [s["gain_districts"] for s in rows],
            "gain_weight": [s["gain_weight"] for s in rows],
            "covers": [";".join(s["covers"]) for s in rows],
        }
    )
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )


# --------------------------------------------------------------------------- compare


def compare_results(a: dict[str, Any], b: dict[str, Any], *, label_a: str = "A",
                    label_b: str = "B") -> dict[str, Any]:
    """Per-district changes between two coverage results (the coverage JSON dicts).

    Returns
    -------
    dict
        ``{"a": summary, "b": summary, "newly_covered": n, "lost": n, "changes": [...]}`` where
        each change is ``{"id", "name", "group", "change", "covered_a", "covered_b",
        "nearest_km_a", "nearest_km_b", "nearest_km_change"}`` and ``change`` is
        ``"newly covered"``, ``"lost"``, ``"closer"``, ``"farther"`` or ``"same"``; sorted by id.
    """
    rows_a = _district_rows(a, label_a)
    rows_b = _district_rows(b, label_b)
    if set(rows_a) != set(rows_b):
        only_a = sorted(set(rows_a) - set(rows_b))
        only_b = sorted(set(rows_b) - set(rows_a))
        raise InputError(
            f"{label_a} and {label_b} describe different districts "
            f"({len(only_a)} only in {label_a}, e.g. {only_a[:3]}; {len(only_b)} only in "
            f"{label_b}, e.g. {only_b[:3]}); compare results made from the same boundaries"
        )
    changes = []
    for did in sorted(rows_a):
        ra, rb = rows_a[did], rows_b[did]
        ka, kb = ra.get("nearest_km"), rb.get("nearest_km")
        delta = None if ka is None or kb is None else round(float(kb) - float(ka), 3)
        ca, cb = bool(ra["covered"]), bool(rb["covered"])
        if cb and not ca:
            change = "newly covered"
        elif ca and not cb:
            change = "lost"
        elif delta is None or abs(delta) < 0.0005:
            change = "same" if (ka is None) == (kb is None) else "changed"
        else:
            change = "closer" if delta < 0 else "farther"
        changes.append(
            {
                "id": did,
                "name": ra.get("name"),
                "group": ra.get("group"),
                "change": change,
                "covered_a": ca,
                "covered_b": cb,
                "nearest_km_a": ka,
                "nearest_km_b": kb,
                "nearest_km_change": delta,
            }
        )
    return {
        "a": a.get("summary"),
        "b": b.get("summary"),
        "newly_covered": sum(c["change"] == "newly covered" for c in changes),
        "lost": sum(c["change"] == "lost" for c in changes),
        "changes": changes,
    }


def _district_rows(result: dict[str, Any], label: str) -> dict[str, dict[str, Any]]:
    rows = result.get("districts") if isinstance(result, dict) else None
    if not isinstance(rows, list):
        raise InputError(
            f"{label}: not a coverage result (no \"districts\" list); make one with "
            "covplan coverage ... --format json"
        )
    out: dict[str, dict[str, Any]] = {}
    for k, row in enumerate(rows):
        if not isinstance(row, dict) or "id" not in row or "covered" not in row:
            raise InputError(
                f"{label}: districts[{k}] lacks \"id\" or \"covered\"; "
                "use the JSON of covplan coverage --format json"
            )
        out[str(row["id"])] = row
    return out
