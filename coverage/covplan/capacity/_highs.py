"""Small helpers to drive HiGHS (highspy) for the capacity models.

The approach is the one of :func:`covplan.planning._solve_milp` (one thread and a fixed seed, so
results are reproducible; a time limit; a run in a thread that Ctrl-C can cancel, keeping the
best solution found); the models themselves differ, so the helpers are written here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def new_highs(*, time_limit: float | None = None) -> Any:
    import highspy

    from covplan.planning.milp import _no_banner

    with _no_banner():  # HiGHS prints a banner on stdout, which carries covplan's data
        h = highspy.Highs()
    h.silent()
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    return h


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


def run_interruptible(h: Any, *, on_progress: Callable[[dict[str, Any]], None] | None = None,
                      mip: bool = False, deadline: float | None = None) -> bool:
    """Run ``h`` in its thread; Ctrl-C cancels it and keeps the best solution found.

    ``deadline`` (a ``time.perf_counter()`` value) stops it too, as HiGHS' own time limit can
    overrun by seconds inside a long LP. Returns whether Ctrl-C interrupted the run.
    """
    stop = {"flag": False}
    latest: dict[str, Any] = {}
    if mip:
        def _on_mip(e: Any) -> None:
            out = e.data_out
            latest.update(objective=float(out.mip_primal_bound),
                          bound=float(out.mip_dual_bound), gap=float(out.mip_gap))
            if stop["flag"]:
                e.interrupt()

        h.cbMipImprovingSolution += _on_mip
        h.cbMipInterrupt += _on_mip

    def _on_lp(e: Any) -> None:
        if stop["flag"]:
            e.interrupt()

    h.cbSimplexInterrupt += _on_lp
    t0 = time.perf_counter()
    interrupted = False
    thread = h.startSolve()
    try:
        done = False
        while not done:
            done, _ = h.wait(0.1)
            if on_progress is not None and latest:
                on_progress({**latest, "elapsed_s": time.perf_counter() - t0})
            if not done and deadline is not None and time.perf_counter() > deadline:
                stop["flag"] = True
                h.cancelSolve()
                while not h.wait(0.1)[0]:
                    pass
                done = True
    except KeyboardInterrupt:
        interrupted = True
        stop["flag"] = True
        h.cancelSolve()
        while not h.wait(0.1)[0]:
            pass
    thread.join()
    return interrupted
