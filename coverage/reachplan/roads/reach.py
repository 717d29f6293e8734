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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from reachplan.roads.graph import RoadGraph
from reachplan.roads.snapping import Snapped
from reachplan.roads.travel import DistrictAccess, _along, _position, _with_sources

__all__ = ["KeptAccess", "district_pairs", "kept_access"]

_DENSE_BYTES = 1 << 27  # rows over the kept vertices held at once (128 MB)
_MAX_ROWS = 256  # centres searched at once


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
