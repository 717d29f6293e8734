"""Coverage at several thresholds from one search, and equity of access (plain numpy).

A district (or a point) is covered at threshold ``t`` when ``min_centers`` centres reach it
within ``t``: when its *k-th smallest cost* (``k = min_centers``) is at most ``t``. So one
search bounded at the largest threshold gives every threshold at once: :func:`kth_costs`
per district, then :func:`covered_at` is one comparison per threshold.

Equity of access: :func:`band_shares` (the share of districts and of weight, e.g. population,
in each band of cost: ``<= t1``, ``(t1, t2]``, ..., beyond the largest or unreachable), and the
inequality of access between districts: :func:`gini` and :func:`theil` (weighted by a
district weight when given; with whole weights they equal the unweighted index of each value
repeated that many times, which is how ``tests/test_thresholds.py`` checks them against PySAL
``inequality``). :func:`equity` puts them together as the JSON ``"equity"`` block.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from reachplan.errors import InputError

__all__ = ["band_shares", "check_thresholds", "covered_at", "equity", "gini", "kth_costs",
           "people_equity", "theil"]


def check_thresholds(values: Any, param: str, *, allow_zero: bool = False) -> tuple[float, ...]:
    """Thresholds as a sorted tuple of floats, or an :class:`InputError` naming ``param``.

    A single number is one threshold. Each must be finite and > 0 (>= 0 with
    ``allow_zero``); the order given does not matter (they come back ascending); a value given
    twice is refused (its columns would clash).
    """
    items = list(values) if isinstance(values, (list, tuple, np.ndarray)) else [values]
    if not items:
        raise InputError(f"{param}=[]: give at least one threshold", params=(param,))
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) \
                or not math.isfinite(float(v)) or v < 0 or (v == 0 and not allow_zero):
            least = ">= 0" if allow_zero else "> 0"
            raise InputError(f"{param}={v!r}: each threshold must be a finite number {least}",
                             params=(param,))
        out.append(float(v))
    twice = sorted({v for v in out if out.count(v) > 1})
    if twice:
        raise InputError(f"{param}: {twice[0]:g} is given twice; give each threshold once",
                         params=(param,))
    return tuple(sorted(out))


def kth_costs(district: np.ndarray, cost: np.ndarray, n: int, k: int) -> np.ndarray:
    """Per district (``0..n-1``), the ``k``-th smallest cost among its pairs (inf when it has
    fewer than ``k``): the least threshold at which ``k`` centres reach it.

    ``district`` and ``cost`` are a reach table's district positions and costs (any order).
    """
    district = np.asarray(district, dtype=np.int64)
    cost = np.asarray(cost, dtype=float)
    out = np.full(n, np.inf)
    if k < 1:
        raise InputError(f"k={k}: must be at least 1", params=("k",))
    if not len(district):
        return out
    order = np.lexsort((cost, district))
    d, c = district[order], cost[order]
    starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
    counts = np.diff(np.r_[starts, len(d)])
    enough = counts >= k
    out[d[starts[enough]]] = c[starts[enough] + k - 1]
    return out


def covered_at(kth: Any, thresholds: Any) -> np.ndarray:
    """``(n, len(thresholds))`` booleans: covered at each threshold (k-th cost <= it)."""
    return np.asarray(kth, dtype=float)[:, None] <= np.asarray(thresholds, dtype=float)[None, :]


def _band_of(kth: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Band of each value: 0 for ``<= t1``, i for ``(t_i, t_i+1]``, len(thresholds) beyond."""
    return np.searchsorted(np.asarray(thresholds, dtype=float), np.asarray(kth, dtype=float),
                           side="left")


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def band_shares(kth: np.ndarray, thresholds: Sequence[float],
                weight: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Districts (and weight) in each band of cost: ``[0, t1]``, ``(t1, t2]``, ...,
    ``(t_last, inf]`` (beyond the largest threshold, or unreachable).

    Each band: ``{"from", "to", "districts", "percent", "weight", "weight_percent"}`` (``to``
    is ``None`` for the last; the weight figures ``None`` without a weight). Missing weights
    count as 0.
    """
    thresholds = [float(t) for t in thresholds]
    band = _band_of(kth, thresholds)
    n = len(band)
    counts = np.bincount(band, minlength=len(thresholds) + 1)
    w = None if weight is None else np.nan_to_num(np.asarray(weight, dtype=float))
    sums = None if w is None else np.bincount(band, weights=w, minlength=len(thresholds) + 1)
    edges = [0.0, *thresholds]
    out = []
    for i in range(len(thresholds) + 1):
        row: dict[str, Any] = {"from": edges[i],
                               "to": thresholds[i] if i < len(thresholds) else None,
                               "districts": int(counts[i]), "percent": _pct(counts[i], n),
                               "weight": None, "weight_percent": None}
        if sums is not None and w is not None:
            row["weight"] = float(sums[i])
            row["weight_percent"] = _pct(float(sums[i]), float(w.sum()))
        out.append(row)
    return out


def _checked(values: Any, weight: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weight is None else np.asarray(weight, dtype=float)
    if x.shape != w.shape:
        raise InputError("weight: one weight per value", params=("weight",))
    if not (np.isfinite(x).all() and (x >= 0).all()):
        raise InputError("values: must be finite and >= 0", params=("values",))
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise InputError("weight: must be finite and >= 0", params=("weight",))
    return x, w


def gini(values: Any, weight: Any = None) -> float | None:
    """The Gini coefficient of ``values`` (>= 0), each counted ``weight`` times (default 1):
    ``sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean)``, 0 when all are equal; ``None`` when there
    is no value or the (weighted) mean is 0."""
    x, w = _checked(values, weight)
    total_w = w.sum()
    if not total_w or not (x * w).sum():
        return None
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    below = np.cumsum(w) - w  # weight of the values sorted before each one
    above = total_w - below - w
    pairs = 2.0 * float((w * x * (below - above)).sum())  # sum_ij w_i w_j |x_i - x_j|
    mean = float((x * w).sum()) / total_w
    return pairs / (2.0 * total_w**2 * mean)


def theil(values: Any, weight: Any = None) -> float | None:
    """The Theil T index of ``values`` (>= 0), each counted ``weight`` times (default 1):
    ``sum_i (w_i / W) (x_i / mean) ln(x_i / mean)``, with ``0 ln 0 = 0``; ``None`` when there
    is no value or the (weighted) mean is 0."""
    x, w = _checked(values, weight)
    total_w = w.sum()
    if not total_w or not (x * w).sum():
        return None
    ratio = x / (float((x * w).sum()) / total_w)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(ratio > 0, ratio * np.log(np.where(ratio > 0, ratio, 1.0)), 0.0)
    return float((w / total_w * terms).sum())


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _indices(values: np.ndarray, weight: np.ndarray | None) -> dict[str, Any]:
    return {"gini": _round(gini(values, weight)), "theil": _round(theil(values, weight))}


def equity(kth: np.ndarray, thresholds: Sequence[float], *, weight: np.ndarray | None = None,
           groups: np.ndarray | None = None, share: np.ndarray | None = None
           ) -> dict[str, Any]:
    """The JSON ``"equity"`` block of a result at several thresholds.

    Parameters
    ----------
    kth
        Per district, its cost of access in the unit of ``thresholds`` (the k-th smallest
        cost: the nearest centre's for one centre needed; inf when unreachable).
    weight
        Per district weight (population), or None: band shares and indices are then of
        districts.
    groups
        Per district group label (None for no group): the bands per group too.
    share
        ``(n, len(thresholds))`` per-district % (0-100) covered at each threshold, when finer
        than whole districts (a population covered in part); default: 100 when the district
        is covered, else 0.

    Returns ``{"bands", "groups", "inequality": {"cost", "covered"}}``: ``cost`` is the Gini
    and Theil of the cost between districts that have one (``unreachable`` of them have
    none), ``covered`` of the % covered at each threshold.
    """
    kth = np.asarray(kth, dtype=float)
    has_weight = weight is not None and not np.isnan(np.asarray(weight, dtype=float)).all()
    w = np.nan_to_num(np.asarray(weight, dtype=float)) if has_weight else None
    block: dict[str, Any] = {"bands": band_shares(kth, thresholds, w), "groups": []}
    if groups is not None:
        labels = np.asarray(groups, dtype=object)
        keys = sorted({"" if g is None else str(g) for g in labels})
        as_text = np.array(["" if g is None else str(g) for g in labels], dtype=object)
        for key in keys:
            part = as_text == key
            block["groups"].append({"group": key or None, "bands": band_shares(
                kth[part], thresholds, None if w is None else w[part])})
    finite = np.isfinite(kth)
    cost = {"districts": int(finite.sum()), "unreachable": int((~finite).sum()),
            **_indices(kth[finite], None if w is None else w[finite])}
    if share is None:
        share = 100.0 * covered_at(kth, thresholds)
    share = np.asarray(share, dtype=float)
    covered = [{"threshold": float(t), **_indices(share[:, i], w)}
               for i, t in enumerate(thresholds)]
    block["inequality"] = {"weighted": w is not None, "cost": cost, "covered": covered}
    return block


def _people_bands(people: np.ndarray, thresholds: Sequence[float]) -> list[dict[str, Any]]:
    """Bands (as :func:`band_shares`) from the people in each band (``people[i]``: band i)."""
    total = float(np.sum(people))
    edges = [0.0, *[float(t) for t in thresholds]]
    return [{"from": edges[i], "to": edges[i + 1] if i + 1 < len(edges) else None,
             "population": float(people[i]), "percent": _pct(float(people[i]), total)}
            for i in range(len(edges))]


def people_equity(people: np.ndarray, thresholds: Sequence[float], *,
                  outside: np.ndarray | None = None, groups: np.ndarray | None = None,
                  mean_cost: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """The ``"equity"`` block of people counted cell by cell (a population raster).

    Parameters
    ----------
    people
        ``(n, len(thresholds) + 1)``: per district, its people in each band of cost (``<=
        t1``, ``(t1, t2]``, ..., beyond the largest or unreachable).
    outside
        The people in no district, per band (in the overall bands, not in the indices).
    groups
        Per district group label (None for no group): the bands per group too.
    mean_cost
        ``(mean, weight)``: per district, the people-weighted mean cost of its people who have
        one (NaN when none has), and those people: the Gini and Theil of the mean between
        districts, weighted by them.

    Returns ``{"bands", "groups", "inequality": {"weighted", "cost", "covered"}}`` as
    :func:`equity`, with bands of people (``population``, ``percent``) and the % of each
    district's people covered at each threshold weighted by its people.
    """
    people = np.asarray(people, dtype=float)
    overall = people.sum(axis=0) + (0.0 if outside is None else np.asarray(outside, float))
    block: dict[str, Any] = {"bands": _people_bands(overall, thresholds), "groups": []}
    if groups is not None:
        as_text = np.array(["" if g is None else str(g) for g in groups], dtype=object)
        for key in sorted(set(as_text)):
            block["groups"].append({"group": key or None, "bands": _people_bands(
                people[as_text == key].sum(axis=0), thresholds)})
    total = people.sum(axis=1)
    has = total > 0
    share = 100.0 * np.cumsum(people, axis=1)[has, :len(thresholds)] / total[has, None]
    covered = [{"threshold": float(t), **_indices(share[:, i], total[has])}
               for i, t in enumerate(thresholds)]
    cost: dict[str, Any] = {}
    if mean_cost is not None:
        mean, reached = (np.asarray(a, dtype=float) for a in mean_cost)
        ok = np.isfinite(mean) & (reached > 0)
        cost = {"districts": int(ok.sum()), "unreachable": int((~ok).sum()),
                **_indices(mean[ok], reached[ok])}
    block["inequality"] = {"weighted": True, "cost": cost, "covered": covered}
    return block
