"""Accessibility indices on the long (demand point, centre, cost) table: 2SFCA, E2SFCA and the
gravity model, with the step / banded, Gaussian and power decays of PySAL ``access``.

For pair weights ``w_ij = f(cost_ij)`` (0 beyond ``max_cost``), demand ``P_i`` and supply
``S_j`` (e.g. capacity):

- step 1, each centre's supply-to-demand ratio ``R_j = S_j / sum_i w_ij P_i``;
- step 2, each point's accessibility ``A_i = sum_j w_ij R_j``.

With ``f = 1`` within ``max_cost`` this is the 2SFCA of Luo and Wang (2003); with bands it is
the E2SFCA of Luo and Qi (2009); with ``f(x) = (max(x, x_min)/s)^alpha`` it is the gravity
model (Joseph and Bantock 1982). The figures equal PySAL ``access``'s ``two_stage_fca``
(tested), except that a point with no centre within reach gets 0 (PySAL: NaN) and a centre
with no weighted demand within reach lends nothing (PySAL: an infinite ratio).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reachplan.capacity import _checks
from reachplan.errors import InputError

__all__ = ["Decay", "accessibility", "district_accessibility", "gaussian", "gravity", "step"]

# PySAL access's default E2SFCA bands (Luo and Qi 2009), in the cost unit (they used minutes)
E2SFCA_BANDS = {10.0: 1.0, 20.0: 0.68, 30.0: 0.22}


@dataclass(frozen=True)
class Decay:
    """A distance decay: a plain callable from a cost array to a weight array, with a name
    and its parameters for output (``to_dict``). Any callable ``cost -> weight`` serves as
    ``decay`` too; these are the ones PySAL ``access`` names."""

    name: str
    weights: Callable[[np.ndarray], np.ndarray]
    params: tuple[tuple[str, Any], ...] = ()

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        return self.weights(np.asarray(cost, dtype=np.float64))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.name, **dict(self.params)}


def step(bands: Mapping[float, float]) -> Decay:
    """Banded weights: cost up to each limit gets its weight; beyond the last, 0.

    ``step({10: 1, 20: 0.68, 30: 0.22})`` is PySAL's ``weights.step_fn`` with the same dict.
    """
    if not bands:
        raise InputError("bands: give at least one (limit, weight)")
    items = sorted((float(k), float(v)) for k, v in bands.items())
    if not all(np.isfinite(k) and np.isfinite(v) for k, v in items):
        raise InputError("bands: limits and weights must be finite numbers", params=("bands",))
    if any(v < 0 for _, v in items):
        raise InputError("bands: weights must be >= 0")
    limits = np.asarray([k for k, _ in items])
    values = np.asarray([v for _, v in items] + [0.0])

    def weights(cost: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(limits, cost, side="left")  # first limit >= cost
        return np.where(pos < limits.size, values[pos], 0.0)

    return Decay("step", weights, (("bands", [[k, v] for k, v in items]),))


def gaussian(sigma: float) -> Decay:
    """``exp(-x² / 2σ²)`` (PySAL's ``weights.gaussian``)."""
    if not (np.isfinite(sigma) and sigma > 0):
        raise InputError(f"sigma: {sigma}: give a width > 0")
    width = float(sigma)
    return Decay("gaussian", lambda cost: np.exp(-cost * cost / (2.0 * width * width)),
                 (("sigma", width),))


def gravity(scale: float, alpha: float, min_cost: float = 0.0) -> Decay:
    """``(max(x, min_cost) / scale) ** alpha`` (PySAL's ``weights.gravity``; alpha < 0)."""
    for name, value in (("alpha", alpha), ("min_cost", min_cost)):
        if not np.isfinite(value):
            raise InputError(f"{name}={value!r}: must be a finite number", params=(name,))
    if not (np.isfinite(scale) and scale > 0):
        raise InputError(f"scale: {scale}: give a cost > 0")
    if alpha < 0 and min_cost <= 0:
        raise InputError("min_cost: give a cost > 0 with alpha < 0 (the weight at 0 is "
                         "infinite)")
    s, a, m = float(scale), float(alpha), float(min_cost)
    return Decay("gravity", lambda cost: np.power(np.maximum(cost, m) / s, a),
                 (("scale", s), ("alpha", a), ("min_cost", m)))


def accessibility(demand_idx: Any, centre_idx: Any, cost: Any, demand: Any, supply: Any, *,
                  method: str = "2sfca", max_cost: float | None = None,
                  decay: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Supply-to-demand accessibility of every demand point.

    Parameters
    ----------
    demand_idx, centre_idx, cost
        The long table of pairs (a rule's ``pairs()``).
    demand
        Demand per point (population, requests), >= 0.
    supply
        Supply per centre (capacity, staff), >= 0.
    method
        ``"2sfca"`` (weight 1 within ``max_cost`` unless ``decay`` is given), ``"e2sfca"``
        (``decay`` defaults to PySAL's bands 10/20/30 → 1/0.68/0.22, in the cost unit) or
        ``"gravity"`` (``decay`` required, e.g. :func:`gravity`).
    max_cost
        Pairs costing more are left out (None: keep all pairs given).
    decay
        Weights by cost: a :class:`Decay` from :func:`step`, :func:`gaussian` or
        :func:`gravity`, or any callable from a cost array to a weight array.

    Returns
    -------
    numpy.ndarray
        Accessibility per demand point (supply per unit of demand), 0 with no centre in reach.
    """
    dem = _checks.amounts(demand, "demand")
    sup = _checks.amounts(supply, "supply")
    di, ci, k = _checks.pairs(demand_idx, centre_idx, cost, dem.size, sup.size)
    if method not in ("2sfca", "e2sfca", "gravity"):
        raise InputError(f"method: {method!r}; use '2sfca', 'e2sfca' or 'gravity'")
    if method == "e2sfca" and decay is None:
        decay = step(E2SFCA_BANDS)
    if method == "gravity" and decay is None:
        raise InputError("decay: the gravity method needs decay=gravity(scale, alpha, ...)")
    if max_cost is not None and k.size and k.max() > max_cost:
        keep = k <= max_cost
        di, ci, k = di[keep], ci[keep], k[keep]
    w = None if decay is None else _weights(decay, k)
    pair_demand = dem[di] if w is None else w * dem[di]
    weighted = np.bincount(ci, weights=pair_demand, minlength=sup.size)
    if not np.isfinite(weighted).all():
        raise InputError("decay: weighted demand overflows; give a decay whose weights stay "
                         "near 1 (a smaller alpha, a larger scale)", params=("decay",))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weighted > 0, sup / weighted, 0.0)
    pair_ratio = ratio[ci] if w is None else w * ratio[ci]
    return np.bincount(di, weights=pair_ratio, minlength=dem.size)


def _weights(decay: Callable[[np.ndarray], np.ndarray], cost: np.ndarray) -> np.ndarray:
    """The decay's weight per pair, or one line when a parameter pushes one past float64 (an
    alpha of 1e12, a sigma of 1e-300): such weights would make every figure NaN or 0."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        w = np.asarray(decay(cost), dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        named = decay.to_dict() if isinstance(decay, Decay) else decay
        raise InputError(f"decay: {named} gives weight {w[bad[0]]} at cost "
                         f"{cost[bad[0]]:g}; give a decay whose weights stay finite",
                         params=("decay",))
    return w


def district_accessibility(values: Any, demand: Any, groups: Sequence[Any]) -> pd.Series:
    """Demand-weighted mean accessibility per group (district), sorted by group label.

    A group without demand gets NaN.
    """
    vals = np.asarray(values, dtype=np.float64)
    dem = _checks.amounts(demand, "demand", size=vals.size)
    frame = pd.DataFrame({"g": np.asarray(groups, dtype=object), "wv": vals * dem, "w": dem})
    sums = frame.dropna(subset=["g"]).groupby("g", sort=True)[["wv", "w"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = sums["wv"] / sums["w"].where(sums["w"] > 0)
    out.index.name = "district"
    return out.rename("accessibility")
