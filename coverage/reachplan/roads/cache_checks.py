"""The checks a road-graph cache entry's arrays pass before they are used
(:mod:`reachplan.roads.cache`): that they describe a graph
:func:`reachplan.roads.graph.graph_from_segments` could have made.

Each check is one vectorised pass: min/max reductions for ranges (a NaN fails them), and
comparisons of neighbours in slices of 2^20 elements into one reused buffer, so no temporary is
the size of the graph (the largest is a bitmap of the vertices, one byte each). They come in
groups (:data:`CHECKS`), each with the arrays it needs, so that the cache can run a group as
soon as its arrays are read; a group that indexes with another array checks that one again
first (cheaply), so no group depends on another having passed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["CHECKS", "Doubt"]

_FMAX = float(np.finfo(np.float64).max)  # the largest finite minutes
_CHUNK = 1 << 20  # elements per slice in the neighbour checks (their buffers stay in cache)


class Doubt(Exception):
    """Why an entry is not used (the text follows the entry's name in the warning)."""


def _in(a: np.ndarray, low: float, high: float) -> bool:
    """Every value in [low, high] (and none NaN: NaN fails both comparisons)."""
    return not len(a) or bool(a.min() >= low and a.max() <= high)


def _pairs(a: np.ndarray, ok: Callable[[np.ndarray, np.ndarray, np.ndarray], Any],
           starts: np.ndarray | None = None) -> bool:
    """``ok(a[j + 1], a[j])`` for every j, except where j + 1 is in ``starts`` (sorted): one
    pass in slices into one reused buffer."""
    buffer = np.empty(min(_CHUNK, max(len(a) - 1, 0)), dtype=bool)
    for lo in range(0, len(a) - 1, _CHUNK):
        hi = min(lo + _CHUNK, len(a) - 1)
        good = buffer[:hi - lo]
        ok(a[lo + 1:hi + 1], a[lo:hi], good)
        if starts is not None:
            cut = starts[np.searchsorted(starts, lo + 1):np.searchsorted(starts, hi + 1)]
            good[cut - 1 - lo] = True
        if not good.all():
            return False
    return True


def _increasing(after: np.ndarray, before: np.ndarray, out: np.ndarray) -> None:
    np.greater(after, before, out=out)


def _not_decreasing(after: np.ndarray, before: np.ndarray, out: np.ndarray) -> None:
    np.greater_equal(after, before, out=out)


def _not_increasing(after: np.ndarray, before: np.ndarray, out: np.ndarray) -> None:
    np.less_equal(after, before, out=out)


def _steps_of_two(after: np.ndarray, before: np.ndarray, out: np.ndarray) -> None:
    np.greater_equal(after - before, 2, out=out)  # values already in [0, p]: no overflow


def _no_self_loop(indptr: np.ndarray, indices: np.ndarray) -> bool:
    """No edge from a row to itself, in slices of edges (each with the rows it spans)."""
    m = len(indices)
    for lo in range(0, m, _CHUNK):
        hi = min(lo + _CHUNK, m)
        first = int(np.searchsorted(indptr, lo, side="right")) - 1
        last = int(np.searchsorted(indptr, hi - 1, side="right")) - 1
        counts = np.diff(np.clip(indptr[first:last + 2], lo, hi))
        rows = np.repeat(np.arange(first, last + 1, dtype=indices.dtype), counts)
        if (rows == indices[lo:hi]).any():
            return False
    return True


def _check_vertices(a: dict[str, np.ndarray], n: int, p: int) -> None:
    if not (_in(a["lon"], -180, 180) and _in(a["lat"], -90, 90)):
        raise Doubt("has vertices off the globe (non-finite or out-of-range coordinates)")
    if not _pairs(a["vertex"], _increasing):
        raise Doubt("has vertex keys out of order")


def _check_kept(kept: np.ndarray, n: int) -> None:
    if not (_in(kept, 0, n - 1) and _pairs(kept, _increasing)):
        raise Doubt("has kept vertices out of order or past the vertices it holds")


def _check_core(a: dict[str, np.ndarray], n: int, p: int) -> None:
    """The compressed graph: CSR over the kept vertices, minutes finite and >= 0."""
    kept, indptr, indices, minutes = a["kept"], a["indptr"], a["indices"], a["minutes"]
    k, m = len(kept), len(minutes)
    _check_kept(kept, n)
    if not (indptr[0] == 0 and indptr[-1] == m and _in(indptr, 0, m)
            and _pairs(indptr, _not_decreasing)):
        raise Doubt("has a row pointer ('indptr') that does not run from 0 up to the edges")
    if not _in(indices, 0, k - 1):
        raise Doubt(f"has edges to vertices past the {k} it keeps")
    if not (_pairs(indices, _increasing, indptr[1:-1]) and _no_self_loop(indptr, indices)):
        raise Doubt("has self-loops or repeated or unsorted edges")
    if not _in(minutes, 0, _FMAX):
        raise Doubt("has minutes that are negative or not finite")


def _check_chain_ptr(ptr: np.ndarray, p: int) -> None:
    """From 0 to the chain positions in steps of 2 or more (each chain check repeats this
    cheap one before it indexes with the pointer)."""
    if not (len(ptr) and ptr[0] == 0 and ptr[-1] == p and _in(ptr, 0, p)
            and _pairs(ptr, _steps_of_two)):
        raise Doubt("has a chain pointer ('chain_ptr') that does not run from 0 up to the "
                     "chain positions in steps of 2 or more")


def _check_chain_vertices(a: dict[str, np.ndarray], n: int, p: int) -> None:
    """Chains of at least one segment, on known vertices, ends kept."""
    ptr, vertex = a["chain_ptr"], a["chain_vertex"]
    _check_chain_ptr(ptr, p)
    if not _in(vertex, 0, n - 1):
        raise Doubt(f"has chains through vertices past the {n} it holds")
    _check_kept(a["kept"], n)  # again (cheap), before indexing with it
    is_kept = np.zeros(n, dtype=bool)
    is_kept[a["kept"]] = True
    if not (is_kept[vertex[ptr[:-1]]].all() and is_kept[vertex[ptr[1:] - 1]].all()):
        raise Doubt("has chains that do not end at kept vertices")


_MINUTES = "has chain minutes that are not finite, not from 0 or out of order"


def _check_chain_fwd(a: dict[str, np.ndarray], n: int, p: int) -> None:
    """Minutes from each chain's start: finite, from 0, non-decreasing (a NaN fails every
    comparison, and every position is in a pair within its chain of two or more)."""
    ptr, fwd = a["chain_ptr"], a["chain_fwd"]
    _check_chain_ptr(ptr, p)
    if not ((fwd[ptr[:-1]] == 0).all() and np.isfinite(fwd[ptr[1:] - 1]).all()
            and _pairs(fwd, _not_decreasing, ptr[1:-1])):  # so each chain's last is its max
        raise Doubt(_MINUTES)


def _check_chain_bwd(a: dict[str, np.ndarray], n: int, p: int) -> None:
    """Minutes back from each chain's end: no NaN (inf on one-way chains), non-increasing
    to 0."""
    ptr, bwd = a["chain_ptr"], a["chain_bwd"]
    _check_chain_ptr(ptr, p)
    if not ((bwd[ptr[1:] - 1] == 0).all() and _pairs(bwd, _not_increasing, ptr[1:-1])):
        raise Doubt(_MINUTES)


# groups of checks: the arrays each needs, in the order their doubts are said
CHECKS: list[tuple[tuple[str, ...], Callable[[dict[str, np.ndarray], int, int], None]]] = [
    (("lon", "lat", "vertex"), _check_vertices),
    (("kept", "indptr", "indices", "minutes"), _check_core),
    (("kept", "chain_ptr", "chain_vertex"), _check_chain_vertices),
    (("chain_ptr", "chain_fwd"), _check_chain_fwd),
    (("chain_ptr", "chain_bwd"), _check_chain_bwd),
]
