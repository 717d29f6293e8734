"""People within reach at several thresholds: the roll-up of the windows' people per band of
cost (:func:`reachplan.demand.population.population_coverage` under a rule of several
thresholds, ``Rule.radius([5, 10, 25])``).

Each window gives, exactly, the people of each (district, band) (bands: ``<= t1``, ``(t1,
t2]``, ..., beyond the largest or unreachable; a cell's band is that of its k-th smallest
cost) and per district the sum of people x cost over the people who have a cost. Here they are
added up into the population block's ``thresholds`` (people covered within each threshold:
the bands up to it), per-district columns ``population_covered_5km`` /
``population_percent_5km``, and its ``equity`` block (:func:`reachplan.thresholds.
people_equity`: people by band, overall and per group; Gini and Theil between districts of
the % of people covered at each threshold and of the people's mean cost, weighted by people).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from reachplan.rules import Cost
from reachplan.thresholds import people_equity

__all__ = ["add_thresholds"]

Part = tuple[list[Fraction] | None, tuple[list[Fraction], list[Fraction]] | None]


def _percent(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def add_thresholds(result: Any, parts: list[Part], cost: Cost, districts: Any) -> None:
    """Add the thresholds to ``result`` (a ``PopulationResult``) from each window's
    ``(bands, cost_sums)``; ``districts`` the frame the windows located cells in, or None."""
    steps = list(cost.thresholds)
    width = len(steps) + 1
    flat = [sum(col, Fraction(0)) for col in zip(*(p[0] or [] for p in parts), strict=True)]
    people = np.array([float(v) for v in flat], dtype=float).reshape(-1, width)
    weighted, with_cost = (np.array([float(sum(col, Fraction(0))) for col in zip(
        *(p[1][k] for p in parts if p[1] is not None), strict=True)]) for k in (0, 1))
    # exact per threshold: the bands up to it (Fractions, so any windowing gives the same)
    exact = np.array(flat, dtype=object).reshape(-1, width)
    total = sum(flat, Fraction(0))
    within = [sum(exact[:, : i + 1].ravel(), Fraction(0)) for i in range(len(steps))]
    result.summary["thresholds"] = [
        {"threshold": t, "unit": cost.unit, "population_covered": float(w),
         "percent": _percent(float(w), float(total))} for t, w in zip(steps, within, strict=True)]
    if districts is None:
        result.summary["equity"] = people_equity(np.zeros((0, width)), steps,
                                                 outside=people[-1])
        return
    n = len(districts)
    mean = np.full(n, np.nan)
    has = with_cost[:n] > 0
    mean[has] = cost.to_column(weighted[:n][has] / with_cost[:n][has])
    groups = districts["group"].to_numpy(dtype=object) if "group" in districts else None
    if groups is not None and all(g is None or g != g for g in groups):
        groups = None
    result.summary["equity"] = people_equity(
        people[:n], steps, outside=people[n], groups=groups, mean_cost=(mean, with_cost[:n]))
    ids = pd.Index(districts["id"].astype(str).to_numpy())
    cells = people[:n].sum(axis=1)
    table = result.by_district
    for i, t in enumerate(steps):
        covered = np.array([float(sum(row[: i + 1], Fraction(0))) for row in exact[:n]])
        suffix = f"{t:g}{cost.unit}"
        percent = [_percent(c, w) for c, w in zip(covered, cells, strict=True)]
        table[f"population_covered_{suffix}"] = table["id"].map(pd.Series(covered, index=ids))
        table[f"population_percent_{suffix}"] = table["id"].map(pd.Series(percent, index=ids))
