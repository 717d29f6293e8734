"""Where the parts of a large input are processed: in this process, or on a dask cluster.

A runner calls ``work(part, *args, threads)`` once for every part and returns the results in
the parts' order; it knows nothing of what a part holds (:mod:`reachplan.demand.assess` passes its
per-part function and the parts of :mod:`reachplan.demand.parts`). ``work`` and ``args`` must
pickle for dask. ``progress(done, total)`` is called after every part.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from reachplan.errors import InputError

__all__ = ["CONNECT_TIMEOUT", "Progress", "run_dask", "run_memory"]

CONNECT_TIMEOUT = "10s"  # to reach an existing dask scheduler
LOOPBACK_ANY_PORT = "127.0.0.1:0"  # where a local cluster serves its HTTP routes
Progress = Callable[[int, int], None]
R = TypeVar("R")


def run_memory(work: Callable[..., R], parts: Sequence[Any], args: tuple[Any, ...],
               progress: Progress | None = None) -> list[R]:
    """Parts in order; with several cores, that many parts at once (each single-threaded:
    the KD-tree and pyproj release the GIL), so at most that many parts are in memory."""
    cores = os.cpu_count() or 1
    if cores == 1 or len(parts) == 1:
        threads, workers = cores, 1
    else:
        threads, workers = 1, cores
    results: list[R] = []
    with ThreadPoolExecutor(workers) as pool:
        pending = []
        for part in parts:
            pending.append(pool.submit(work, part, *args, threads))
            if len(pending) > workers:  # keep the queue short: bounded memory
                results.append(pending.pop(0).result())
                if progress:
                    progress(len(results), len(parts))
        for future in pending:
            results.append(future.result())
            if progress:
                progress(len(results), len(parts))
    return results


def run_dask(work: Callable[..., R], parts: Sequence[Any], args: tuple[Any, ...],
             scheduler: str | None = None, progress: Progress | None = None) -> list[R]:
    """Parts on the ``dask.distributed`` scheduler at ``scheduler`` (a local cluster when
    ``None``), one thread each; ``args`` are sent to every worker once."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("engine='dask' needs dask: pip install 'reachplan[dask]'",
                         params=("engine",)) from None
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT)
            except OSError as exc:
                raise InputError(f"scheduler={scheduler!r}: cannot reach a dask scheduler "
                                 f"({exc}); check the address, e.g. tcp://host:8786",
                                 params=("scheduler",)) from None
        else:
            # dashboard_address=None still binds distributed's HTTP server to port 8787 and
            # warns when another cluster holds it: a free port on the loopback only
            cluster = LocalCluster(n_workers=1, threads_per_worker=os.cpu_count() or 1,
                                   processes=False, dashboard_address=LOOPBACK_ANY_PORT)
            client = Client(cluster)
        try:
            shared = client.scatter(list(args), broadcast=True)
            futures = [client.submit(work, part, *shared, 1, pure=False) for part in parts]
            for done, _ in enumerate(as_completed(futures), start=1):
                if progress:
                    progress(done, len(futures))
            return client.gather(futures)
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
