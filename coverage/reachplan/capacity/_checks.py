"""Input checks shared by the capacity models: one-line :class:`InputError` messages that name
the Python parameter (or the column, when the adapter passes one) and the offending row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from reachplan.errors import InputError

# the largest demand or capacity taken: the solvers' tolerances are absolute (HiGHS reads
# amounts near 1e20 as infinite, OR-Tools' flows are int64), so larger amounts are refused
AMOUNT_LIMIT = 1e12


def amounts(values: Any, what: str, *, size: int | None = None,
            rows: Sequence[Any] | None = None) -> np.ndarray:
    """Non-negative finite float64 amounts (demand, capacity, supply).

    ``what`` names the parameter or column in messages; ``rows`` gives the row labels
    (default: positions).
    """
    raw = np.asarray(values, dtype=object).ravel() if not isinstance(values, np.ndarray) \
        else values.ravel()
    if size is not None and raw.size != size:
        raise InputError(f"{what}: {raw.size} values for {size} rows; give one per row")
    try:
        out = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        out = None
    if out is None:
        for pos, value in enumerate(raw):
            if value is None:
                raise InputError(f"{what}: row {_label(rows, pos)}: value is missing; "
                                 "give a number >= 0") from None
            if not _is_number(value):
                raise InputError(f"{what}: row {_label(rows, pos)}: {value!r} is not a number; "
                                 "fix or delete the row") from None
        out = np.asarray(raw, dtype=np.float64)  # pragma: no cover - all numbers after all
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        pos = int(bad[0])
        raise InputError(f"{what}: row {_label(rows, pos)}: value is missing or not finite; "
                         "give a number >= 0")
    neg = np.flatnonzero(out < 0)
    if neg.size:
        pos = int(neg[0])
        raise InputError(f"{what}: row {_label(rows, pos)}: {out[pos]:g} is negative; "
                         "give a number >= 0")
    huge = np.flatnonzero(out > AMOUNT_LIMIT)
    if huge.size:
        pos = int(huge[0])
        raise InputError(f"{what}: row {_label(rows, pos)}: {out[pos]:g} is beyond 1e12; "
                         "give amounts in a larger unit (e.g. thousands)")
    return out


def pairs(demand_idx: Any, centre_idx: Any, cost: Any, n_demand: int, n_centres: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The long (demand, centre, cost) table as int64/int64/float64 arrays, checked."""
    d = np.asarray(demand_idx)
    c = np.asarray(centre_idx)
    k = np.asarray(cost, dtype=np.float64)
    if not (d.ndim == c.ndim == k.ndim == 1 and d.size == c.size == k.size):
        raise InputError("demand_idx, centre_idx, cost: give three 1-d arrays of one length")
    if d.size and not (np.issubdtype(d.dtype, np.integer) and np.issubdtype(c.dtype, np.integer)):
        raise InputError("demand_idx, centre_idx: give integer positions")
    d = d.astype(np.int64, copy=False)
    c = c.astype(np.int64, copy=False)
    if d.size:
        if d.min() < 0 or d.max() >= n_demand:
            raise InputError(f"demand_idx: positions must lie in 0..{n_demand - 1}")
        if c.min() < 0 or c.max() >= n_centres:
            raise InputError(f"centre_idx: positions must lie in 0..{n_centres - 1}")
        bad = np.flatnonzero(~np.isfinite(k) | (k < 0))
        if bad.size:
            raise InputError(f"cost: pair {int(bad[0])}: {k[bad[0]]:g} is not a cost >= 0")
    return d, c, k


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _label(rows: Sequence[Any] | None, pos: int) -> str:
    return str(pos) if rows is None else str(rows[pos])
