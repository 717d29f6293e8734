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
1e-9 relative against it and networkx). The chains are found from the road segments by
:mod:`reachplan.roads.compress`; this module holds their layout and what searches read of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Chains", "coordinates", "core_matrix", "expand", "expand_reached", "interior",
           "same_chain"]

_POSITIONS = 1 << 20  # chain positions expanded at once


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


def core_matrix(chains: Chains, kept: np.ndarray) -> sp.csr_matrix:
    """The compressed graph over ``kept``: one edge per chain and direction, the quickest of
    parallel chains; a chain from a vertex back to itself adds nothing."""
    n = len(kept)
    first, last = chains.ends()
    a = np.searchsorted(kept, chains.vertex[first])
    b = np.searchsorted(kept, chains.vertex[last])
    bwd = chains.bwd[first]
    back = np.isfinite(bwd)  # each chain a -> b, then b -> a where it may be driven back
    apart = a != b  # not a chain from a vertex back to itself
    back &= apart
    # row * n + col of each edge (no rows and columns apart: 15 M chains' temporaries are
    # fresh memory, 1-5 s a GB), in the same order as ever (ties sort the same)
    a, b = a.astype(np.int64, copy=False), b.astype(np.int64, copy=False)
    edge = np.concatenate([a[apart] * n + b[apart], b[back] * n + a[back]])
    del a, b
    cost = np.concatenate([chains.fwd[last][apart], bwd[back]])
    del bwd, back, apart
    order = np.argsort(edge)  # one sort, not two (lexsort): the quickest of each edge below
    edge, cost = edge[order], cost[order]
    once = np.flatnonzero(np.r_[True, edge[1:] != edge[:-1]]) if len(edge) else order[:0]
    edge = edge[once]
    cost = np.minimum.reduceat(cost, once) if len(once) else cost
    r = edge // max(n, 1)  # divmod's quotient and remainder, in half its time
    col = r * max(n, 1)
    np.subtract(edge, col, out=col)
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
    # repeated along it (the same sums as from each position's ends); in slices of about
    # _POSITIONS positions, whose temporaries the allocator reuses (fresh pages cost 1-5 s a GB
    # on a VM: 51 s of 80 M vertices' expansion at 200 M OSM nodes went to them)
    ptr = chains.ptr
    cut = np.searchsorted(ptr, np.arange(0, int(ptr[-1]), _POSITIONS), side="right") - 1
    cut = np.unique(np.r_[cut, len(ptr) - 1])
    for c0, c1 in zip(cut[:-1].tolist(), cut[1:].tolist(), strict=True):
        p0 = int(ptr[c0])
        length = np.diff(ptr[c0:c1 + 1])
        first, last = ptr[c0:c1] - p0, ptr[c0 + 1:c1 + 1] - 1 - p0
        vertex = chains.vertex[p0:int(ptr[c1])]
        inner = np.ones(len(vertex), dtype=bool)
        inner[first] = False
        inner[last] = False
        v = vertex[inner]
        va, vb = vertex[first], vertex[last]
        # every position of the slice from both ends, in place (the ends' own values are
        # not written back): the same sums and the same minimum as position by position
        via_a = np.repeat(out[..., va], length, axis=-1)
        via_a += chains.fwd[p0:p0 + len(vertex)]
        via_b = np.repeat(out[..., vb], length, axis=-1)
        via_b += chains.bwd[p0:p0 + len(vertex)]
        from_a = via_a <= via_b
        np.minimum(via_a, via_b, out=via_a)
        out[..., v] = via_a[..., inner]
        if src is not None:
            who = np.repeat(src[..., va], length, axis=-1)
            np.copyto(who, np.repeat(src[..., vb], length, axis=-1), where=~from_a)
            who[np.isinf(via_a)] = -1
            src[..., v] = who[..., inner]
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
