"""The transportation matrix of the capacity models (HiGHS is driven by solvers.highs)."""

from __future__ import annotations

import numpy as np


def transport_matrix(demand_idx: np.ndarray, centre_idx: np.ndarray, n_demand: int,
                     extra_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    """Column-wise (start, index, value) of the transportation matrix, one column per pair.

    Row ``i`` (``i < n_demand``) sums the flow out of demand point ``i``; row
    ``n_demand + j`` the flow into centre ``j``. ``extra_rows`` (optional, one per pair or -1)
    adds a third entry per column, e.g. a linking row.
    """
    n = demand_idx.size
    if extra_rows is None:
        index = np.empty(2 * n, dtype=np.int32)
        index[0::2] = demand_idx
        index[1::2] = n_demand + centre_idx
        start = np.arange(0, 2 * n + 1, 2, dtype=np.int32)
        return start, index, np.ones(2 * n)
    has = extra_rows >= 0
    per = 2 + has.astype(np.int32)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per, out=start[1:])
    index = np.empty(int(start[-1]), dtype=np.int32)
    index[start[:-1]] = demand_idx
    index[start[:-1] + 1] = n_demand + centre_idx
    index[start[:-1][has] + 2] = extra_rows[has]
    return start.astype(np.int32), index, np.ones(index.size)


