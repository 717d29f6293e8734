"""Expansion planning: where to open the next centres, and what each one buys.

Two doors, as in spopt's ``locate`` models:

* :func:`solve_matrix` works on a plain coverage structure: a sparse boolean matrix ``A``
  (districts x candidate sites; ``A[i, j]`` is true when site ``j`` would cover district ``i``
  under the rule), a boolean vector ``already`` (districts covered by the existing centres) and
  optional weights. It never needs a GeoDataFrame.
* :func:`reachplan.planning.plan` is a thin adapter (:mod:`reachplan.planning.sites`): it assesses
  the existing network, builds ``A`` from the coverage rule's pairs and returns the plan as
  the JSON-ready dict of the ``reachplan plan`` command.

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
optimal only within the solver's absolute gap on the combined objective (``milp._TIE_ABS_GAP``; the
tie weight's own status and remaining gap are in ``MatrixPlan.details["tie_break"]``).

Longer than 500 lines: greedy and the exact solver's start and reading share one reduced
problem (``_Reduced``: merged districts, undominated candidates) and its tie-break, and the
methods are explained here; the MILP itself is built and run in :mod:`.milp`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from reachplan.errors import InputError
from reachplan.planning import request as _request
from reachplan.planning.milp import solve_milp
from reachplan.planning.request import Method, PlanRequest, Progress

__all__ = ["MatrixPlan", "greedy_order", "solve_matrix"]


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
    request = PlanRequest(add=add, target=target, method=method, time_limit=time_limit)
    add, target = request.add, request.target

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
        raise InputError("weights: must not be negative", params=("weights",))
    tie_all: np.ndarray | None = None
    if tie_weights is not None:
        tie_all = np.nan_to_num(np.asarray(tie_weights, dtype=float))
        if tie_all.shape != (n,):
            raise ValueError(f"tie_weights has shape {tie_all.shape}; expected ({n},)")
        if np.any(tie_all < 0):
            raise InputError("tie_weights: must not be negative", params=("tie_weights",))
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
    elif method == "auto" and not _request.have_highs():
        details = {"note": "highspy is not installed: greedy plan, no optimality proof"}
    elif method != "greedy" and (need is None or need > 0) and red.groups.shape[0] > 0:
        greedy_val = float(red.weight[sorted({g for c in g_covers for g in c})].sum())
        if add is not None and greedy_val >= float(red.weight.sum()) - 1e-9 * max(total, 1.0):
            # greedy already covers everything coverable: that is optimal; open the fewest
            # sites that still do it (a set cover of every coverable group, counted as 1 each)
            status, gap, used = "optimal", 0.0, "exact"
            keep = _undominated(red.groups)
            n_groups = red.groups.shape[0]
            x, _, _, _ = solve_milp(
                red.groups, np.ones(n_groups), np.union1d(keep, np.asarray(chosen, np.int64)),
                add=None, need=float(n_groups), warm=list(chosen), integral=True,
                time_limit=time_limit, progress=progress, t0=t0)
            if x is not None and len(x) < len(chosen):
                chosen = x
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
            x, status, gap, details = solve_milp(
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
