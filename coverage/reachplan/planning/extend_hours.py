"""Plan "extend hours" beside "open a site" (issue 23): which existing sites' opening hours,
extended to a given expression, lift the worst hour of the week above a target.

A candidate is a site with hours (never one always open) that the extension ``extend_to``
(an OSM ``opening_hours`` expression, e.g. ``Mo-Su 08:00-22:00`` or ``24/7``) would keep
open in more hours of the week, and that reaches at least one district. An extended site
is open when its own hours *or* the extension say so (each read in the site's own zone and
country, as :func:`reachplan.hours.open_mask` reads them).

The worst hour is the hour of the week with the fewest districts covered. Choices are
compared by (districts covered in the worst hour, fewer hours tied at that figure, more
district-hours covered over the week): the greedy takes, each step, the extension that
improves this most; the exact method (``method="exact"``, or ``"auto"`` when there are at
most :data:`EXACT_MAX` candidates) tries every subset and returns the fewest extensions that
meet the target (the best figure among them), explained in greedy order. When even every
candidate extended leaves the worst hour below the target (hours no extension opens), the
plan is the fewest extensions that reach that bound, and the status says the target cannot
be reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from itertools import combinations
from typing import Any

import numpy as np

from reachplan.errors import InputError
from reachplan.hours import WEEKDAYS, SiteHours, open_mask, reach_matrix, week_moments, week_start

#: at most this many candidates are solved exactly (every subset) by ``method="auto"``
EXACT_MAX = 15
Key = tuple[int, int, int]


def hour_label(h: int) -> str:
    """Hour ``h`` (0-167) of the week as "Mo 00:00"."""
    return f"{WEEKDAYS[h // 24]} {h % 24:02d}:00"


@dataclass
class ExtendPlan:
    """The plan: ``steps`` (one dict per extended site, in the order explained), the worst
    hour ``before`` and ``after`` (and ``bound``, with every candidate extended), ``status``
    (``target_met``, ``target_unreachable``, ``limit`` or ``no_gain``), the ``method`` used
    and the number of ``candidates``."""

    extend_to: str
    target: float | None
    method: str
    candidates: int
    before: dict[str, Any]
    after: dict[str, Any]
    status: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    #: the worst hour with every candidate extended (what no plan can pass)
    bound: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"extend_to": self.extend_to, "target_worst_hour": self.target,
                "method": self.method, "candidates": self.candidates, "status": self.status,
                "before": self.before, "after": self.after, "bound": self.bound,
                "steps": self.steps}


class _State:
    """Open sites reaching each (hour, district), and what one extension adds."""

    def __init__(self, counts: np.ndarray, need: int, districts: int) -> None:
        self.counts = counts  # hours × districts
        self.need = need
        self.districts = districts

    def per_hour(self) -> np.ndarray:
        return (self.counts >= self.need).sum(axis=1)

    def key(self, per_hour: np.ndarray) -> Key:
        worst = int(per_hour.min())
        return worst, -int((per_hour == worst).sum()), int(per_hour.sum())

    def gain(self, reach: np.ndarray, added: np.ndarray) -> np.ndarray:
        """Districts newly covered per hour when a site reaching ``reach`` (district indices)
        opens in the ``added`` hours too."""
        sub = self.counts[np.ix_(added, reach)]
        out = np.zeros(len(self.counts), dtype=np.int64)
        out[added] = (sub == self.need - 1).sum(axis=1)
        return out

    def apply(self, reach: np.ndarray, added: np.ndarray) -> None:
        self.counts[np.ix_(added, reach)] += 1

    def summary(self, per_hour: np.ndarray | None = None) -> dict[str, Any]:
        per_hour = self.per_hour() if per_hour is None else per_hour
        h = int(np.argmin(per_hour))
        worst = int(per_hour[h])
        return {"worst_hour": hour_label(h), "covered": worst, "districts": self.districts,
                "percent": round(100.0 * worst / self.districts, 2) if self.districts else None,
                "hours_at_worst": int((per_hour == worst).sum())}


def _check(extend_to: str, target: float | None, limit: int | None, method: str,
           hours: SiteHours) -> None:
    from reachplan.hours import _problem

    if not str(extend_to).strip():
        raise InputError("extend_to: give the hours to extend to, e.g. 'Mo-Su 08:00-22:00'",
                         params=("extend_to",))
    why = _problem(extend_to)
    if why is not None:
        raise InputError(f"extend_to={extend_to!r} is not OSM opening_hours ({why})",
                         params=("extend_to",))
    if target is None and limit is None:
        raise InputError("give target (percent of districts covered in the worst hour) or "
                         "limit (the most sites to extend)", params=("target", "limit"))
    if target is not None and not 0 <= target <= 100:
        raise InputError(f"target={target}: must be a percent between 0 and 100",
                         params=("target",))
    if limit is not None and limit < 0:
        raise InputError(f"limit={limit}: must be a whole number >= 0", params=("limit",))
    if method not in ("auto", "greedy", "exact"):
        raise InputError(f"method={method!r}: give auto, greedy or exact", params=("method",))
    if hours.sites is not None:
        raise InputError("extending the hours of sites at several places (site_col, a van's "
                         "round) is not planned; drop site_col", params=("site_col",))


def extend_plan(districts: Any, centers: Any, rule: Any, hours: SiteHours, extend_to: str, *,
                target: float | None = None, limit: int | None = None, method: str = "auto",
                week_of: date | None = None, reach: Any = None) -> ExtendPlan:
    """Which sites' hours to extend to ``extend_to`` so that the worst hour of the ISO week
    containing ``week_of`` covers at least ``target`` percent of districts (the fewest
    extensions), or, with ``limit`` alone, the ``limit`` extensions that lift it most."""
    _check(extend_to, target, limit, method, hours)
    centers = centers.reset_index(drop=True)
    if reach is None:
        reach = reach_matrix(districts, centers, rule)
    moments = week_moments(week_start(week_of or date.today()))
    old = open_mask(hours, moments)
    ext = open_mask(replace(hours, expressions=tuple(
        extend_to if e is not None else None for e in hours.expressions)), moments)
    counts = np.asarray(reach @ old.astype(np.float32).T).T.astype(np.int64)
    state = _State(counts, rule.min_centers, len(districts))
    csc = reach.tocsc()
    cands: list[tuple[int, np.ndarray, np.ndarray]] = []
    for s, expression in enumerate(hours.expressions):
        added = np.flatnonzero(ext[:, s] & ~old[:, s])
        reached = csc.indices[csc.indptr[s]:csc.indptr[s + 1]]
        if expression is not None and len(added) and len(reached):
            cands.append((s, np.sort(reached), added))
    exact = method == "exact" or (method == "auto" and len(cands) <= EXACT_MAX)
    if method == "exact" and len(cands) > EXACT_MAX:
        raise InputError(f"method='exact' tries every subset of at most {EXACT_MAX} candidate "
                         f"sites; there are {len(cands)}: use method='greedy' or 'auto'",
                         params=("method",))
    target_count = None if target is None else int(np.ceil(target * len(districts) / 100 - 1e-9))
    before = state.summary()
    everything = _State(state.counts.copy(), state.need, state.districts)
    for _, reached, added in cands:
        everything.apply(reached, added)
    bound = everything.summary()  # every candidate extended: the most the worst hour can be
    # past the bound no extension lifts the worst hour: plan for the bound instead
    goal = None if target_count is None else min(target_count, bound["covered"])
    chosen = _exact(state, cands, goal, limit) if exact else list(range(len(cands)))
    steps = _explain(state, cands, chosen, goal, limit, centers, hours, extend_to,
                     stop_early=not exact)
    after = state.summary()
    met = target_count is not None and after["covered"] >= target_count
    at_limit = limit is not None and len(steps) >= limit
    status = ("target_met" if met else "limit" if at_limit else
              "target_unreachable" if target_count is not None else "no_gain")
    return ExtendPlan(extend_to, target, "exact" if exact else "greedy", len(cands), before,
                      after, status, steps, bound)


def _explain(state: _State, cands: list[tuple[int, np.ndarray, np.ndarray]],
             chosen: list[int], target_count: int | None, limit: int | None, centers: Any,
             hours: SiteHours, extend_to: str, *, stop_early: bool) -> list[dict[str, Any]]:
    """Apply ``chosen`` candidates best first (the greedy order), one step each; the greedy
    (``stop_early``) stops at the target, the limit, or when no extension improves."""
    steps: list[dict[str, Any]] = []
    left = list(chosen)
    per_hour = state.per_hour()
    while left:
        current = state.key(per_hour)
        if stop_early and ((target_count is not None and current[0] >= target_count)
                           or (limit is not None and len(steps) >= limit)):
            break
        scored = [(state.key(per_hour + state.gain(cands[i][1], cands[i][2])), -n, i)
                  for n, i in enumerate(left)]
        best, _, i = max(scored)
        if stop_early and best <= current:
            break
        s, reached, added = cands[i]
        gained = state.gain(reached, added)
        state.apply(reached, added)
        before = state.summary(per_hour)
        per_hour = per_hour + gained
        now = state.summary(per_hour)
        row = centers.iloc[s]
        steps.append({"site": str(row.get("id", s)) if "id" in centers.columns else str(s),
                      "name": str(row.get("name", "")), "hours": hours.expressions[s],
                      "extend_to": extend_to, "hours_added": len(added),
                      "district_hours_gained": int(gained.sum()),
                      "worst_before": before["covered"], "worst_after": now["covered"],
                      "worst_hour": now["worst_hour"], "worst_percent": now["percent"],
                      "hours_at_worst": now["hours_at_worst"]})
        left.remove(i)
    return steps


def _exact(state: _State, cands: list[tuple[int, np.ndarray, np.ndarray]],
           target_count: int | None, limit: int | None) -> list[int]:
    """Every subset, smallest first: the fewest candidates meeting ``target_count`` (the
    best key among them); else the best key within ``limit`` (fewest among ties)."""
    base = state.per_hour()
    top = len(cands) if limit is None else min(limit, len(cands))
    best: tuple[Key, tuple[int, ...]] | None = None
    for size in range(top + 1):
        for subset in combinations(range(len(cands)), size):
            per_hour = _subset_per_hour(state, cands, subset, base)
            key = state.key(per_hour)
            if best is None or key > best[0]:
                best = (key, subset)
        if target_count is not None and best is not None and best[0][0] >= target_count:
            break
    return list(best[1]) if best is not None else []


def _subset_per_hour(state: _State, cands: list[tuple[int, np.ndarray, np.ndarray]],
                     subset: tuple[int, ...], base: np.ndarray) -> np.ndarray:
    """Districts covered per hour with ``subset`` extended: only the districts they reach
    change, so only those columns are recounted."""
    if not subset:
        return base
    touched = np.unique(np.concatenate([cands[i][1] for i in subset]))
    counts = state.counts[:, touched].copy()
    before = (counts >= state.need).sum(axis=1)
    for i in subset:
        _, reached, added = cands[i]
        cols = np.searchsorted(touched, reached)
        counts[np.ix_(added, cols)] += 1
    return base - before + (counts >= state.need).sum(axis=1)
