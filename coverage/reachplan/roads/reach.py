"""Sparse reach tables: (district, centre, minutes) within T, at a cost per centre that grows
with what the centre reaches, not with the size of the network.

:func:`reachplan.roads.travel.search` gives each centre a dense row over every road vertex;
plan's candidate matrix then read every district's access vertices from each row, so one
candidate cost a pass over the whole network (issue 22: 19,416 candidates on a 20 M-node
extract did not finish in 330 s). Here each district's ways in are moved once onto the kept
vertices of the compressed graph: a road vertex inside a chain is reached from the chain's
``a`` (minutes ``t[a] + fwd``) or its ``b`` (``t[b] + bwd``), so an access entry (vertex,
off-road minutes ``leg``) becomes the entries ``(a, fwd, leg)`` and ``(b, bwd, leg)``. A
centre's cost to a district is then the least ``(t[k] + term) + leg`` over the entries of the
kept vertices ``k`` it reaches within T: the same sums in the same order as the dense path
(``min(x, y) + leg == min(x + leg, y + leg)`` in floating point, addition being monotone), so
the same minutes to the last bit. Of the entries of one kept vertex and district, one with a
smaller-or-equal term and leg than another always gives the smaller-or-equal sum: only the
others are kept (on a road inside a district, one per chain end).

The same holds for counting, per road vertex, the centres within T (``min_centers`` > 1,
:func:`vertex_counts`): a kept vertex counts the searches that reach it; an inner vertex of a
chain at position ``j`` is reached from the chain's ends when ``t[a] + fwd[j] <= T`` or
``t[b] + bwd[j] <= T``. ``fwd`` grows and ``bwd`` shrinks along a chain (running sums of
non-negative minutes; rounding and addition are monotone), so the first test holds on a prefix
of the chain's inner positions and the second on a suffix: each search adds one to at most two
runs of positions (found by bisection on the same sums, so the same answer to the bit), kept
as +1/-1 marks in one array over the chain positions, summed once at the end. A centre's own
chain (straight along it from the centre) is walked vertex by vertex, the minimum of the three
ways as the dense rows take it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from reachplan.roads.chains import Chains
from reachplan.roads.graph import RoadGraph
from reachplan.roads.snapping import Snapped
from reachplan.roads.travel import (
    DistrictAccess,
    _along,
    _along_positions,
    _position,
    _with_sources,
)

__all__ = ["KeptAccess", "district_pairs", "kept_access", "vertex_counts"]

_DENSE_BYTES = 1 << 27  # rows over the kept vertices held at once (128 MB)
_MAX_ROWS = 256  # centres searched at once
_SLICE = 1 << 20  # (search, reached kept vertex) pairs handled at once


@dataclass(frozen=True)
class KeptAccess:
    """The access entries moved onto kept vertices, in CSR by kept vertex: entries
    ``ptr[k]:ptr[k + 1]`` are (``district``, ``term``, ``leg``); ``by_node`` / ``nodes``: the
    original entries sorted by road vertex (for centres that reach a chain straight along
    it)."""

    ptr: np.ndarray
    district: np.ndarray
    term: np.ndarray
    leg: np.ndarray
    by_node: np.ndarray
    nodes: np.ndarray


def kept_access(graph: RoadGraph, access: DistrictAccess) -> KeptAccess:
    """:class:`KeptAccess` of ``access`` (see the module docstring)."""
    ch, nk = graph.chains, graph.n_kept
    node, leg, dist = access.node.astype(np.int64), access.leg_min, access.district
    where = _position(graph)[node]
    at = where < 0
    inner = np.flatnonzero(~at)
    p = where[inner]
    c = np.searchsorted(ch.ptr, p, side="right") - 1
    a = np.searchsorted(graph.kept, ch.vertex[ch.ptr[c]])
    b = np.searchsorted(graph.kept, ch.vertex[ch.ptr[c + 1] - 1])
    k = np.concatenate([np.searchsorted(graph.kept, node[at]), a, b])
    term = np.concatenate([np.zeros(int(at.sum())), ch.fwd[p], ch.bwd[p]])
    e = np.concatenate([np.flatnonzero(at), inner, inner])
    fin = np.isfinite(term)
    k, term, e = k[fin], term[fin], e[fin]
    d, lg = dist[e].astype(np.int64), leg[e]
    order = np.lexsort((lg, term, d, k))
    k, d, term, lg = k[order], d[order], term[order], lg[order]
    # Pareto front per (kept vertex, district): keep an entry only when its leg is below
    # every leg before it in its group (those have a smaller-or-equal term)
    new = np.r_[True, (k[1:] != k[:-1]) | (d[1:] != d[:-1])] if len(k) else np.zeros(0, bool)
    group = np.cumsum(new) - 1
    rank = np.unique(lg, return_inverse=True)[1].astype(np.int64).ravel()
    val = (int(group[-1]) + 1 - group) * (len(lg) + 1) + rank if len(k) else rank
    keep = np.r_[True, val[1:] < np.minimum.accumulate(val)[:-1]] if len(k) else new
    k, d, term, lg = k[keep], d[keep], term[keep], lg[keep]
    ptr = np.zeros(nk + 1, dtype=np.int64)
    np.cumsum(np.bincount(k, minlength=nk), out=ptr[1:])
    by_node = np.argsort(node, kind="stable")
    return KeptAccess(ptr, d, term, lg, by_node, node[by_node])


def _expand(ptr: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(which of ``first``, entry) for every entry ``ptr[f]:ptr[f + 1]`` of each ``f``."""
    count = ptr[first + 1] - ptr[first]
    which = np.repeat(np.arange(len(first)), count)
    entry = (np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
             + np.repeat(ptr[first], count))
    return which, entry


def district_pairs(graph: RoadGraph, centers: Snapped, access: DistrictAccess, *,
                   limit: float, progress: Callable[[int, int], None] | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(district, centre position, minutes) for every district a centre reaches within
    ``limit`` minutes by road, unsorted, one per pair (the quickest way in): the answers of
    the dense rows of :func:`reachplan.roads.travel.search` read at each district's access
    vertices, from one bounded search per on-network centre on the compressed graph and
    only the entries of the kept vertices it reaches. ``progress(done, total)`` after each
    batch of centres."""
    src = _with_sources(graph, centers)
    nk, total = graph.n_kept, len(src.on)
    out_d, out_c, out_k = [], [], []
    if total == 0 or len(access.district) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0)
    ka = kept_access(graph, access)
    step = max(1, min(_MAX_ROWS, _DENSE_BYTES // (8 * (nk + total))))
    n_d = int(access.n_districts)
    for first in range(0, total, step):
        rows = np.arange(first, min(first + step, total))
        dist = np.atleast_2d(dijkstra(src.matrix, directed=True, indices=nk + rows,
                                      limit=limit))[:, :nk]
        r, k = np.nonzero(dist <= min(limit, np.finfo(float).max))
        which, entry = _expand(ka.ptr, k)
        row = r[which]
        cost = (dist[row, k[which]] + ka.term[entry]) + ka.leg[entry]
        dists = ka.district[entry]
        del dist, which, entry
        s, v, along = _along(graph, src, rows)  # centres on a chain, straight along it
        lo = np.searchsorted(ka.nodes, v, side="left")
        count = np.searchsorted(ka.nodes, v, side="right") - lo
        at = (np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
              + np.repeat(lo, count))
        hit = ka.by_node[at]
        row = np.concatenate([row, np.repeat(s - first, count)])
        cost = np.concatenate([cost, np.repeat(along, count) + access.leg_min[hit]])
        dists = np.concatenate([dists, access.district[hit].astype(np.int64)])
        ok = cost <= min(limit, np.finfo(float).max)  # reached: finite minutes
        key, cost = row[ok].astype(np.int64) * n_d + dists[ok], cost[ok]
        order = np.lexsort((cost, key))
        key, cost = key[order], cost[order]
        once = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, dtype=bool)
        key, cost = key[once], cost[once]
        r_out, d_out = np.divmod(key, n_d)
        out_d.append(d_out)
        out_c.append(src.on[rows][r_out])
        out_k.append(cost)
        if progress is not None:
            progress(int(rows[-1]) + 1, total)
    return (np.concatenate(out_d).astype(np.int64), np.concatenate(out_c).astype(np.int64),
            np.concatenate(out_k))


def _first_false(lo: np.ndarray, hi: np.ndarray,
                 holds: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Per item ``i``, the first ``j`` in ``lo[i]:hi[i]`` where ``holds(i, j)`` is false
    (``hi[i]`` if none), for a test that is true then false along each range (bisection)."""
    lo, hi = lo.copy(), hi.copy()
    live = np.flatnonzero(lo < hi)
    while len(live):
        mid = (lo[live] + hi[live]) // 2
        ok = holds(live, mid)
        lo[live] = np.where(ok, mid + 1, lo[live])
        hi[live] = np.where(ok, hi[live], mid)
        live = live[lo[live] < hi[live]]
    return lo


def _chains_from(ends: np.ndarray, nk: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR by kept vertex of the chains with that vertex as their end ``ends``."""
    order = np.argsort(ends, kind="stable").astype(np.int64)
    ptr = np.zeros(nk + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=nk), out=ptr[1:])
    return ptr, order


def vertex_counts(graph: RoadGraph, centers: Snapped, *, limit: float,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """How many centres reach each road vertex within ``limit`` minutes (int64 per road
    vertex): the counts of :func:`reachplan.roads.travel.search`'s dense rows (``<= limit``,
    unreached vertices never count), from one bounded search per on-network centre on the
    compressed graph (see the module docstring). Memory: a batch of searches over the kept
    vertices, a slice of what they reach, and one int32 per chain position.
    ``progress(done, total)`` after each batch of centres."""
    ch, nk = graph.chains, graph.n_kept
    count = np.zeros(graph.n_nodes, dtype=np.int64)
    total = int((centers.node >= 0).sum())
    if total == 0:
        return count
    src = _with_sources(graph, centers)
    lim = min(limit, np.finfo(float).max)  # reached: finite minutes within the limit
    a_pos, b_pos = ch.ends()
    a_k = np.searchsorted(graph.kept, ch.vertex[a_pos])
    b_k = np.searchsorted(graph.kept, ch.vertex[b_pos])
    from_a, from_b = _chains_from(a_k, nk), _chains_from(b_k, nk)
    # each centre's own chain (-1: at a kept vertex), walked apart
    own = np.where(src.pos >= 0, np.searchsorted(ch.ptr, src.pos, side="right") - 1, -1)
    marks = np.zeros(len(ch.vertex) + 1, dtype=np.int32)  # +1 / -1 at runs' ends
    kept_count = np.zeros(nk, dtype=np.int64)
    step = max(1, min(_MAX_ROWS, _DENSE_BYTES // (8 * (nk + total))))
    for first in range(0, total, step):
        rows = np.arange(first, min(first + step, total))
        dist = np.atleast_2d(dijkstra(src.matrix, directed=True, indices=nk + rows,
                                      limit=limit))[:, :nk]
        hit = dist <= lim
        kept_count += hit.sum(axis=0)
        flat = np.flatnonzero(hit)
        del hit
        for lo in range(0, len(flat), _SLICE):
            r, k = np.divmod(flat[lo:lo + _SLICE], nk)
            for (ptr, order), from_b_end in ((from_a, False), (from_b, True)):
                which, entry = _expand(ptr, k)
                rr, c = r[which], order[entry]
                keep = c != own[rows[rr]]
                if from_b_end:  # a chain with both ends reached is counted from its a
                    keep &= ~(dist[rr, a_k[c]] <= lim)
                rr, c = rr[keep], c[keep]
                _mark_runs(ch, marks, c, dist[rr, a_k[c]], dist[rr, b_k[c]], lim)
        s, p, along = _along_positions(graph, src, rows)
        if len(s):
            c = np.searchsorted(ch.ptr, p, side="right") - 1
            row = s - first
            best = np.minimum(dist[row, a_k[c]] + ch.fwd[p], dist[row, b_k[c]] + ch.bwd[p])
            best = np.minimum(best, along)
            got = p[best <= lim]
            np.add.at(marks, got, 1)
            np.add.at(marks, got + 1, -1)
        del dist
        if progress is not None:
            progress(int(rows[-1]) + 1, total)
    count[graph.kept] = kept_count
    del kept_count
    np.cumsum(marks, out=marks)
    inner = np.flatnonzero(marks)  # inner positions only: every run ends inside its chain
    count[ch.vertex[inner]] += marks[inner]
    return count


def _mark_runs(ch: Chains, marks: np.ndarray, c: np.ndarray, t_a: np.ndarray, t_b: np.ndarray,
               lim: float) -> None:
    """Mark on ``marks`` the inner positions of chains ``c`` within ``lim`` from their ``a``
    (reached at ``t_a``) or their ``b`` (at ``t_b``): a prefix and a suffix of each."""
    lo, hi = ch.ptr[c] + 1, ch.ptr[c + 1] - 1  # inner positions lo:hi
    fwd, bwd = ch.fwd, ch.bwd
    end_a = _first_false(lo, hi, lambda i, j: t_a[i] + fwd[j] <= lim)
    start_b = _first_false(lo, hi, lambda i, j: t_b[i] + bwd[j] > lim)
    whole = end_a >= start_b  # the runs meet: every inner position
    runs = [(lo[whole], hi[whole]), (lo[~whole], end_a[~whole]),
            (start_b[~whole], hi[~whole])]
    for s, e in runs:
        some = s < e
        np.add.at(marks, s[some], 1)
        np.add.at(marks, e[some], -1)
