"""Driving HiGHS (highspy) the same way for every model: one thread and a fixed seed (results
are reproducible), no banner on stdout, and a run in a thread that Ctrl-C or a deadline can
cancel, keeping the best solution found."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["new_highs", "run_interruptible"]


@contextlib.contextmanager
def _no_banner() -> Iterator[None]:
    """HiGHS 1.16 prints its banner on the process's stdout when a solver is constructed,
    before any option can silence it; stdout carries reachplan's data (JSON, CSV), so the C-level
    stdout is pointed at the null device meanwhile."""
    try:
        import ctypes

        libc: Any = ctypes.CDLL(None)
        saved = os.dup(1)
    except (OSError, AttributeError):  # no C library to flush here: leave stdout alone
        yield
        return
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
        libc.fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def new_highs(*, time_limit: float | None = None) -> Any:
    import highspy

    with _no_banner():
        h = highspy.Highs()
    h.silent()
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    return h


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
