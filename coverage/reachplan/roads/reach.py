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

Many more centres than districts (plan: 19,416 candidates, 777 districts): the searches run
from the districts instead, on the reversed compressed graph (:func:`_by_district`). Each
centre's search begins with a few edges ``c_e`` to kept vertices ``j`` (its off-road leg and
the road to its chain's ends); its minutes to a district are the least ``c_e + R[j]``, ``R``
the district's minutes from every kept vertex (the least path to an entry's kept vertex plus
``term + leg``), found by one bounded search per district from a virtual vertex joined to its
entries. Only ``R`` at the centres' ``j`` is kept, a chunk of districts at a time. The sums
are the same but in another order (the path summed from the district's end, ``term + leg``
first), so the minutes equal the centres' way to 1e-9 relative rather than to the bit, and a
pair within that rounding of T may be in one answer and not the other; the minutes straight
along a centre's own chain are the same sums as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from reachplan.roads.chains import Chains
from reachplan.roads.graph import RoadGraph
from reachplan.roads.snapping import Snapped
from reachplan.roads.travel import (
    DistrictAccess,
    _along,
    _along_positions,
    _position,
    _Sources,
    _with_sources,
)

__all__ = ["KeptAccess", "district_pairs", "kept_access", "vertex_counts"]

_DENSE_BYTES = 1 << 27  # rows over the kept vertices held at once (128 MB)
_MAX_ROWS = 256  # centres (or districts) searched at once
_SLICE = 1 << 20  # (search, reached kept vertex) pairs handled at once
_BY_DISTRICT = 4  # search from the districts when centres outnumber them this much


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


def _entries(graph: RoadGraph, access: DistrictAccess
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kept vertex, chain minutes ``term``, access entry) of every way in moved onto the
    kept vertices (an entry at a kept vertex once, one inside a chain from each end it can be
    reached from), unsorted."""
    ch = graph.chains
    node = access.node.astype(np.int64)
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
    return k[fin], term[fin], e[fin]


def kept_access(graph: RoadGraph, access: DistrictAccess) -> KeptAccess:
    """:class:`KeptAccess` of ``access`` (see the module docstring)."""
    nk, node = graph.n_kept, access.node.astype(np.int64)
    k, term, e = _entries(graph, access)
    d, lg = access.district[e].astype(np.int64), access.leg_min[e]
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
                   limit: float, progress: Callable[[int, int], None] | None = None,
                   direction: str = "auto"
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(district, centre position, minutes) for every district a centre reaches within
    ``limit`` minutes by road, unsorted, one per pair (the quickest way in): the answers of
    the dense rows of :func:`reachplan.roads.travel.search` read at each district's access
    vertices.

    ``direction`` ``"centres"``: one bounded search per on-network centre on the compressed
    graph and only the entries of the kept vertices it reaches (the dense rows' sums in their
    order: the same minutes to the last bit). ``"districts"``: one bounded search per district
    on the reversed compressed graph (:func:`_by_district`), for many more centres than
    districts (plan's 19,416 candidates and 777 districts); the same sums in another order,
    so minutes equal the centres' way to 1e-9 relative, not to the bit, and a pair whose
    minutes lie within that rounding of ``limit`` may be in one answer and not the other.
    ``"auto"`` (default): districts when the on-network centres outnumber the districts with
    a way in more than :data:`_BY_DISTRICT` times. ``progress(done, total)`` after each
    batch, in centres (a batch of districts counts its share of the centres).
    """
    if direction not in ("auto", "centres", "districts"):
        raise ValueError(f"direction: {direction!r} is not 'auto', 'centres' or 'districts'")
    src = _with_sources(graph, centers)
    total = len(src.on)
    if total == 0 or len(access.district) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0)
    if direction == "auto":  # (every access entry is a way in from a chain end at least)
        n_in = int(np.count_nonzero(np.bincount(access.district)))
        direction = "districts" if total > _BY_DISTRICT * max(n_in, 1) else "centres"
    if direction == "districts":
        return _by_district(graph, src, access, limit=limit, progress=progress)
    return _by_centre(graph, src, access, kept_access(graph, access), limit=limit,
                      progress=progress)


def _once(row: np.ndarray, dists: np.ndarray, cost: np.ndarray, limit: float, n_d: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(district, row, minutes) of the least ``cost`` within ``limit`` per (row, district)."""
    ok = cost <= min(limit, np.finfo(float).max)  # reached: finite minutes
    key, cost = row[ok].astype(np.int64) * n_d + dists[ok], cost[ok]
    order = np.lexsort((cost, key))
    key, cost = key[order], cost[order]
    once = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, dtype=bool)
    key, cost = key[once], cost[once]
    r_out, d_out = np.divmod(key, n_d)
    return d_out, r_out, cost


def _straight(access: DistrictAccess, nodes: np.ndarray, by_node: np.ndarray,
              s: np.ndarray, v: np.ndarray, along: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, district, minutes) straight along its chain from each source ``s`` to the
    access entries at the vertices ``v`` inside it (minutes ``along``, :func:`_along`);
    ``nodes``: the access entries' vertices, sorted, ``by_node`` their entries (of those
    ``v`` may meet, or all)."""
    lo = np.searchsorted(nodes, v, side="left")
    count = np.searchsorted(nodes, v, side="right") - lo
    at = (np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
          + np.repeat(lo, count))
    hit = by_node[at]
    return (np.repeat(s, count), access.district[hit].astype(np.int64),
            np.repeat(along, count) + access.leg_min[hit])


def _by_centre(graph: RoadGraph, src: _Sources, access: DistrictAccess, ka: KeptAccess, *,
               limit: float, progress: Callable[[int, int], None] | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`district_pairs` one search per centre."""
    nk, total = graph.n_kept, len(src.on)
    out_d, out_c, out_k = [], [], []
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
        s, sd, sk = _straight(access, ka.nodes, ka.by_node, s, v, along)
        d_out, r_out, c_out = _once(np.concatenate([row, s - first]),
                                    np.concatenate([dists, sd]),
                                    np.concatenate([cost, sk]), limit, n_d)
        out_d.append(d_out)
        out_c.append(src.on[rows][r_out])
        out_k.append(c_out)
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


def _by_district(graph: RoadGraph, src: _Sources, access: DistrictAccess, *, limit: float,
                 progress: Callable[[int, int], None] | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`district_pairs` one search per district, on the reversed compressed graph.

    A centre's search starts with its edges ``c_e`` to kept vertices ``j`` (its own row of
    the sources' matrix); its minutes to a district are ``min_e c_e + R[j]``, where ``R[j]``
    is the least ``path(j -> k) + (term + leg)`` over the district's kept entries: the
    minutes from ``j`` to the district, found for every ``j`` at once by one search bounded
    at ``limit`` on the transposed graph from a virtual vertex joined to each kept entry
    ``k`` by ``term + leg``. Districts are searched a chunk at a time and only ``R`` at the
    centres' ``j`` is kept; centres on a chain reach the access vertices inside it straight
    along it as the centres' way does (:func:`_straight`, the same sums)."""
    nk, total, n_d = graph.n_kept, len(src.on), int(access.n_districts)
    m = src.matrix
    lo, hi = int(m.indptr[nk]), int(m.indptr[nk + total])
    first_edge = m.indptr[nk:nk + total + 1].astype(np.int64) - lo
    ends, end_of = np.unique(m.indices[lo:hi].astype(np.int64), return_inverse=True)
    c_e = np.asarray(m.data[lo:hi], dtype=float)
    has = np.flatnonzero(np.diff(first_edge) > 0)  # (every source has an edge)
    # the reversed graph plus one vertex per district with a way in, to its kept entries
    # (the least term + leg per district and kept vertex: no Pareto front needed)
    k, term, e = _entries(graph, access)
    key = access.district[e].astype(np.int64) * nk + k
    w = term + access.leg_min[e]
    del k, term, e
    order = np.argsort(key)
    key, w = key[order], w[order]
    del order
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) \
        else np.zeros(0, dtype=np.int64)
    w = np.minimum.reduceat(w, starts) if len(key) else w
    d_e, k_e = np.divmod(key[starts], nk)
    districts, d_row = np.unique(d_e, return_inverse=True)
    nv = len(districts)
    rev = graph.core.T.tocsr()
    extra = np.bincount(d_row, minlength=nv)
    indptr = np.concatenate([rev.indptr.astype(np.int64),
                             int(rev.indptr[-1]) + np.cumsum(extra)])
    big = max(nk + nv, len(indptr)) >= 2**31 - 1
    idx = np.int64 if big else np.int32
    matrix = sp.csr_matrix((np.concatenate([rev.data, w]),
                            np.concatenate([rev.indices, k_e]).astype(idx),
                            indptr.astype(idx)), shape=(nk + nv, nk + nv))
    del rev, key, d_e, k_e, w
    step = max(1, min(_MAX_ROWS, _DENSE_BYTES // (8 * (nk + nv + len(c_e)))))
    out_d, out_r, out_k = [], [], []
    for first in range(0, nv, step):
        rows = np.arange(first, min(first + step, nv))
        dist = np.atleast_2d(dijkstra(matrix, directed=True, indices=nk + rows,
                                      limit=limit))
        at_end = dist[:, ends]
        del dist
        via = at_end[:, end_of] + c_e  # (district, edge): c_e + R[j], R's last sum first
        best = np.full((len(rows), total), np.inf)
        if len(has):
            best[:, has] = np.minimum.reduceat(via, first_edge[has], axis=1)
        del via, at_end
        r, c = np.nonzero(best <= min(limit, np.finfo(float).max))
        out_d.append(districts[rows[r]])
        out_r.append(c)
        out_k.append(best[r, c])
        if progress is not None:
            progress(total * (int(rows[-1]) + 1) // nv, total)
    s, v, along = _along(graph, src, np.arange(total))
    near = np.flatnonzero(np.isin(access.node, v))  # the entries these vertices may meet
    by_node = near[np.argsort(access.node[near], kind="stable")]
    s, sd, sk = _straight(access, access.node[by_node], by_node, s, v, along)
    d_out, r_out, c_out = _once(np.concatenate([*out_r, s]), np.concatenate([*out_d, sd]),
                                np.concatenate([*out_k, sk]), limit, n_d)
    return d_out.astype(np.int64), src.on[r_out].astype(np.int64), c_out
