"""The compressed road graph: chains of pass-through vertices become one edge.

A road vertex is *passed through* when it joins exactly two road segments and a vehicle can
only go on: both segments two-way, or one leading in and the other out (a one-way road). Every
other vertex is *kept*: junctions, dead ends, the vertex where a one-way road meets a two-way
one, and the lowest vertex of a ring with no junction (so every ring has one). A *chain* is
a maximal run of segments joined at pass-through vertices, from a kept vertex ``a`` to a kept
vertex ``b``; it is one edge ``a -> b`` (and ``b -> a`` when two-way) of the compressed graph,
weighted by the chain's summed minutes, as OSRM and Valhalla do. Searches run on the kept
vertices only; the chains keep every vertex in order with its cumulative minutes, so the
minutes of any vertex (and of any point along a segment) follow from its chain's two ends.

A chain runs in its direction of travel (a one-way chain from its tail); a two-way chain from
its end with the lower vertex number. Per position ``j`` of a chain (0 = ``a`` ... L = ``b``):

* ``fwd[j]``: minutes from ``a`` to position ``j`` along the chain (always finite);
* ``bwd[j]``: minutes from ``b`` back to position ``j`` (``inf`` on a one-way chain but at
  ``b``).

Both are summed one segment after the other (the order a search adds them in), from their own
end; the minutes between kept vertices equal the uncompressed graph's to rounding (tested to
1e-9 relative against it and networkx).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

__all__ = ["Chains", "compress"]


@dataclass(eq=False)
class Chains:
    """Every road segment, chain by chain (see the module docstring)."""

    ptr: np.ndarray  # int64, chains + 1: chain c holds positions ptr[c]:ptr[c + 1] (>= 2)
    vertex: np.ndarray  # per position: its road vertex
    fwd: np.ndarray  # per position: minutes from the chain's first vertex
    bwd: np.ndarray  # per position: minutes from the chain's last vertex back to it

    @property
    def n_chains(self) -> int:
        return len(self.ptr) - 1

    @property
    def n_segments(self) -> int:
        return len(self.vertex) - self.n_chains

    def chain_of(self) -> np.ndarray:
        """The chain of every position."""
        return np.repeat(np.arange(self.n_chains), np.diff(self.ptr))

    def ends(self) -> tuple[np.ndarray, np.ndarray]:
        """Each chain's first (``a``) and last (``b``) position."""
        return self.ptr[:-1], self.ptr[1:] - 1

    def starts(self) -> np.ndarray:
        """The first position of every segment (its other end is the next position)."""
        last = np.zeros(len(self.vertex), dtype=bool)
        last[self.ptr[1:] - 1] = True
        return np.flatnonzero(~last)

    def segment_minutes(self, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Minutes along each segment (first position ``start``) forward and backward
        (``inf``: one-way)."""
        fwd = self.fwd[start + 1] - self.fwd[start]
        with np.errstate(invalid="ignore"):
            bwd = np.where(np.isinf(self.bwd[start]), np.inf,
                           self.bwd[start] - self.bwd[start + 1])
        return fwd, bwd

    def nbytes(self) -> int:
        return int(self.ptr.nbytes + self.vertex.nbytes + self.fwd.nbytes + self.bwd.nbytes)


def _chain_sums(w: np.ndarray, first: np.ndarray, length: np.ndarray,
                reverse: bool = False) -> np.ndarray:
    """Per position, the running sum of ``w`` (one per segment, at its first position) from
    the chain's start (or, ``reverse``, from its end), one segment after the other."""
    out = np.zeros(len(w))
    order = np.argsort(-length, kind="stable")
    sorted_len = length[order]
    acc = np.zeros(len(order))
    for k in range(int(sorted_len[0]) if len(order) else 0):
        live = int(np.searchsorted(-sorted_len, -k, side="left"))  # chains longer than k
        chains = order[:live]
        if reverse:
            seg = first[chains] + length[chains] - 1 - k
            acc[:live] += w[seg]
            out[seg] = acc[:live]
        else:
            seg = first[chains] + k
            acc[:live] += w[seg]
            out[seg + 1] = acc[:live]
    return out


def compress(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, n: int
             ) -> tuple[Chains, np.ndarray, sp.csr_matrix]:
    """Chains, kept vertices (increasing) and the compressed CSR matrix (over kept vertices,
    in that order) of a graph given as unique directed edges without self-loops."""
    return compress_edges([rows, cols, cost], n)


def compress_edges(edges: list[np.ndarray], n: int
                   ) -> tuple[Chains, np.ndarray, sp.csr_matrix]:
    """:func:`compress` of ``edges = [rows, cols, cost]``, which it empties: each array is
    freed once used if the caller holds no other reference (a large graph's build peak)."""
    rows, cols, cost = (np.asarray(a) for a in edges)
    edges.clear()
    up = rows < cols
    key = np.minimum(rows, cols).astype(np.int64)  # one per undirected pair, built in place
    key *= n
    key += np.maximum(rows, cols)
    del rows, cols
    by = np.argsort(key, kind="stable")
    key = key[by]
    new = np.ones(len(key), dtype=bool)
    np.not_equal(key[1:], key[:-1], out=new[1:])
    idx = np.int32 if 2 * len(key) < 2**31 - 1 else np.int64  # segment ends, ranks
    inv = np.cumsum(new, dtype=idx)  # each sorted edge's segment, + 1
    inv -= 1
    vdt = np.int32 if n < 2**31 - 1 else np.int64
    p, q = (a.astype(vdt) for a in np.divmod(key[new], n))
    del key, new
    m = len(p)
    w_pq, w_qp = np.full(m, np.inf), np.full(m, np.inf)
    up = up[by]
    cost_by = cost[by]
    del cost
    del by
    w_pq[inv[up]] = cost_by[up]
    w_qp[inv[~up]] = cost_by[~up]
    del inv, up, cost_by
    # incidences (vertex, segment, may leave, may enter), by vertex
    ends = np.concatenate([p, q])
    order = np.argsort(ends, kind="stable")
    ends = ends[order]
    seg = order.astype(idx)
    del order
    second = seg >= m  # the incidence at the segment's q end
    seg[second] -= m
    out_ok = np.where(second, np.isfinite(w_qp)[seg], np.isfinite(w_pq)[seg])
    in_ok = np.where(second, np.isfinite(w_pq)[seg], np.isfinite(w_qp)[seg])
    del second
    degree = np.bincount(ends, minlength=n)
    two = np.flatnonzero(degree == 2)
    i1 = (np.cumsum(degree) - degree)[two].astype(idx)
    del degree
    i2 = i1 + 1
    o1, n1, o2, n2 = out_ok[i1], in_ok[i1], out_ok[i2], in_ok[i2]
    through = (o1 & n1 & o2 & n2) | (n1 & ~o1 & o2 & ~n2) | (o1 & ~n1 & n2 & ~o2)
    del o1, n1, o2, n2, in_ok
    passed = np.zeros(n, dtype=bool)
    passed[two[through]] = True
    del through
    while True:  # twice at most: rings without a junction keep their lowest vertex
        at = passed[two]
        s1, s2 = seg[i1[at]], seg[i2[at]]
        links = sp.coo_matrix((np.ones(len(s1), dtype=np.int8), (s1, s2)), shape=(m, m))
        n_chains, label = connected_components(links, directed=False)
        anchored = np.zeros(n_chains, dtype=bool)
        anchored[label[~passed[p] | ~passed[q]]] = True
        if anchored.all():
            break
        ring = ~anchored[label]
        low = np.full(n_chains, n, dtype=np.int64)
        np.minimum.at(low, label[ring], p[ring])
        passed[low[~anchored]] = False
    # each chain starts at a kept end it may leave by: the lowest (vertex, segment)
    cand = np.flatnonzero(~passed[ends] & out_ok)
    cv, cs = ends[cand], seg[cand]
    del ends, seg, out_ok, cand, two, i1, i2, at, links
    pick = np.lexsort((cs, cv, label[cs]))
    first_of = np.r_[True, label[cs[pick[1:]]] != label[cs[pick[:-1]]]] if len(pick) else pick
    start_seg, start_v = cs[pick[first_of]], cv[pick[first_of]]
    chain_id = np.empty(n_chains, dtype=np.int64)
    chain_id[label[start_seg]] = np.argsort(np.lexsort((start_seg, start_v)), kind="stable")
    a_of = np.empty(n_chains, dtype=np.int64)
    a_of[chain_id[label[start_seg]]] = start_v
    # segment order within a chain: breadth-first from a root joined to every start segment
    root_links = sp.coo_matrix(
        (np.ones(len(s1) + len(start_seg), dtype=np.int8),
         (np.concatenate([s1, np.full(len(start_seg), m)]), np.concatenate([s2, start_seg]))),
        shape=(m + 1, m + 1)).tocsr()
    visit = breadth_first_order(root_links, m, directed=False, return_predecessors=False)
    del root_links, s1, s2
    rank = np.empty(m + 1, dtype=idx)
    rank[visit] = np.arange(len(visit), dtype=idx)
    del visit
    key = chain_id.astype(idx)[label].astype(np.int64)  # (chain, rank): unique, one sort
    del label
    key *= m + 1
    key += rank[:m]
    del rank
    s = np.argsort(key).astype(idx)
    key = key[s]
    key //= m + 1
    c = key.astype(idx)
    del key
    first = np.r_[True, c[1:] != c[:-1]] if m else np.zeros(0, dtype=bool)
    ps, qs = p[s], q[s]
    del p, q
    prev_p, prev_q = np.r_[ps[:1], ps[:-1]], np.r_[qs[:1], qs[:-1]]
    shared_p = (ps == prev_p) | (ps == prev_q)
    del prev_p, prev_q
    frm = np.where(shared_p, ps, qs)
    del shared_p
    frm[first] = a_of[c[first]]
    along = frm == ps
    to = np.where(along, qs, ps)
    del ps, qs
    w_s = w_pq[s]
    w_b = w_qp[s]
    del w_pq, w_qp, s
    w_f = np.where(along, w_s, w_b)
    np.copyto(w_b, w_s, where=~along)
    del w_s, along
    length = np.bincount(c, minlength=n_chains)
    seg_ptr = np.zeros(n_chains + 1, dtype=np.int64)
    np.cumsum(length, out=seg_ptr[1:])
    ptr = seg_ptr + np.arange(n_chains + 1)
    pos = np.arange(m, dtype=np.int64)
    pos += c  # each segment's first position
    del c
    index = np.int32 if n < 2**31 - 1 else np.int64
    vertex = np.empty(m + n_chains, dtype=index)
    vertex[pos] = frm
    vertex[ptr[1:] - 1] = to[seg_ptr[1:] - 1]
    del frm, to
    w_at = np.zeros(m + n_chains)  # each segment's minutes at its first position
    first_pos = ptr[:-1]
    w_at[pos] = w_f
    del w_f
    fwd = _chain_sums(w_at, first_pos, length)
    w_at[pos] = w_b
    del w_b, pos
    bwd = _chain_sums(w_at, first_pos, length, reverse=True)
    del w_at  # a one-way chain's bwd is inf but at b: its segments' w_b are inf
    chains = Chains(ptr, vertex, fwd, bwd)
    kept = np.flatnonzero(~passed)
    return chains, kept, core_matrix(chains, kept)


def core_matrix(chains: Chains, kept: np.ndarray) -> sp.csr_matrix:
    """The compressed graph over ``kept``: one edge per chain and direction, the quickest of
    parallel chains; a chain from a vertex back to itself adds nothing."""
    n = len(kept)
    first, last = chains.ends()
    a = np.searchsorted(kept, chains.vertex[first])
    b = np.searchsorted(kept, chains.vertex[last])
    back = np.isfinite(chains.bwd[first])
    rows = np.concatenate([a, b[back]]).astype(np.int64)
    cols = np.concatenate([b, a[back]]).astype(np.int64)
    cost = np.concatenate([chains.fwd[last], chains.bwd[first][back]])
    keep = rows != cols
    edge, cost = rows[keep] * n + cols[keep], cost[keep]
    order = np.lexsort((cost, edge))
    edge, cost = edge[order], cost[order]
    once = np.r_[True, edge[1:] != edge[:-1]] if len(edge) else np.zeros(0, dtype=bool)
    edge, cost = edge[once], cost[once]
    r, col = np.divmod(edge, max(n, 1))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    index = np.int32 if max(n, len(col)) < 2**31 - 1 else np.int64
    return sp.csr_matrix((cost, col.astype(index), indptr.astype(index)), shape=(n, n))


def coordinates(chains: Chains, pos: np.ndarray, frac: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Where a point ``frac`` of the way along the segment starting at position ``pos`` is,
    in minutes: from its chain's ``a`` (forward) and from its ``b`` back (``inf``: one-way)."""
    f0, f1 = chains.fwd[pos], chains.fwd[pos + 1]
    b0, b1 = chains.bwd[pos], chains.bwd[pos + 1]
    x = np.where(frac <= 0, f0, np.where(frac >= 1, f1, f0 + frac * (f1 - f0)))
    with np.errstate(invalid="ignore"):
        y = np.where(frac >= 1, b1, np.where((frac <= 0) | np.isinf(b0), b0,
                                             b1 + (1 - frac) * (b0 - b1)))
    return x, y


def interior(chains: Chains) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The positions that are no chain's end, with their chain's ``a`` and ``b`` positions."""
    first, last = chains.ends()
    inner = np.diff(chains.ptr) - 2
    chain = np.repeat(np.arange(chains.n_chains), inner)
    pos = np.arange(int(inner.sum())) + np.repeat(first + 1 - (np.cumsum(inner) - inner),
                                                  inner)
    return pos, first[chain], last[chain]


def expand(chains: Chains, kept: np.ndarray, t_kept: np.ndarray, n: int,
           src_kept: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Minutes of all ``n`` vertices (rows of ``t_kept`` are searches over the kept
    vertices): an interior vertex is reached from its chain's ``a`` or its ``b``, whichever is
    quicker (``src_kept``: the source of each kept vertex, carried along; -1 none)."""
    out = np.full(t_kept.shape[:-1] + (n,), np.inf)
    out[..., kept] = t_kept
    src = None
    if src_kept is not None:
        src = np.full(src_kept.shape[:-1] + (n,), -1, dtype=np.int64)
        src[..., kept] = src_kept
    # chain by chain, not through index arrays per position: each chain's ends' minutes
    # repeated along it (the same sums as from each position's ends)
    first, last = chains.ends()
    length = np.diff(chains.ptr)
    inner = np.ones(len(chains.vertex), dtype=bool)
    inner[first] = False
    inner[last] = False
    v = chains.vertex[inner]
    va, vb = chains.vertex[first], chains.vertex[last]
    via_a = (np.repeat(out[..., va], length, axis=-1) + chains.fwd)[..., inner]
    via_b = (np.repeat(out[..., vb], length, axis=-1) + chains.bwd)[..., inner]
    out[..., v] = np.minimum(via_a, via_b)
    if src is not None:
        src_a = np.repeat(src[..., va], length, axis=-1)[..., inner]
        src_b = np.repeat(src[..., vb], length, axis=-1)[..., inner]
        src[..., v] = np.where(via_a <= via_b, src_a, src_b)
        src[..., v] = np.where(np.isfinite(out[..., v]), src[..., v], -1)
    return out, src


def same_chain(chains: Chains, s_pos: np.ndarray, s_frac: np.ndarray,
               d_pos: np.ndarray, d_frac: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, destination, minutes) for every source and destination point on the same
    chain, along the chain only (forward when the destination lies ahead, back when behind,
    never on a one-way chain). Points are (segment start position, fraction along)."""
    s_c = np.searchsorted(chains.ptr, s_pos, side="right") - 1
    d_c = np.searchsorted(chains.ptr, d_pos, side="right") - 1
    by = np.argsort(s_c, kind="stable")
    lo = np.searchsorted(s_c[by], d_c, side="left")
    count = np.searchsorted(s_c[by], d_c, side="right") - lo
    dst = np.repeat(np.arange(len(d_pos)), count)
    src = by[np.repeat(lo, count) + np.arange(int(count.sum()))
             - np.repeat(np.cumsum(count) - count, count)]
    sx, sy = coordinates(chains, s_pos[src], s_frac[src])
    dx, dy = coordinates(chains, d_pos[dst], d_frac[dst])
    ahead = (d_pos[dst] > s_pos[src]) | ((d_pos[dst] == s_pos[src])
                                         & (d_frac[dst] >= s_frac[src]))
    with np.errstate(invalid="ignore"):
        minutes = np.where(ahead, dx - sx, np.where(np.isinf(sy), np.inf, dy - sy))
    return src, dst, np.maximum(minutes, 0.0)


def expand_reached(chains: Chains, kept: np.ndarray, t_kept: np.ndarray, n: int,
                   ends: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """:func:`expand` for bounded searches (rows mostly ``inf``): only the chains with a
    reached end are walked. ``ends``: each chain's ``a`` and ``b`` as kept positions."""
    a_k, b_k = ends
    out = np.full((len(t_kept), n), np.inf)
    out[:, kept] = t_kept
    first = chains.ptr[:-1]
    for row, t in enumerate(t_kept):
        fin = np.isfinite(t)
        sel = np.flatnonzero(fin[a_k] | fin[b_k])
        inner = np.diff(chains.ptr)[sel] - 2
        if not inner.sum():
            continue
        chain = np.repeat(sel, inner)
        pos = (np.arange(int(inner.sum())) - np.repeat(np.cumsum(inner) - inner, inner)
               + first[chain] + 1)
        out[row, chains.vertex[pos]] = np.minimum(t[a_k[chain]] + chains.fwd[pos],
                                                  t[b_k[chain]] + chains.bwd[pos])
    return out
