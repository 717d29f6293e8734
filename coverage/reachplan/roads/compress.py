"""Finding the chains: road segments into the compressed graph of :mod:`reachplan.roads.chains`.

The build's side of the compressed graph (the layout, the searches' expansion and the minutes
along a chain are in :mod:`reachplan.roads.chains`): a vertex pair's segments merged into its
quickest minutes each way, chains found as paths of half-edges by pointer jumping, each chain's
minutes summed one segment after the other from its own end, and the compressed CSR matrix.
Every pass over the segments runs in slices of ``_POSITIONS`` elements into reused buffers: on
a VM the first touch of fresh memory costs 1-5 s a GB, and an India-sized extract has 85 M
segments (issue 22).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from reachplan.roads.chains import Chains, core_matrix

__all__ = ["compress", "compress_segments"]

_POSITIONS = 1 << 20  # segments or half-edges per slice of a pass


def _chain_sums(w: np.ndarray, first: np.ndarray, length: np.ndarray, order: np.ndarray,
                reverse: bool = False) -> np.ndarray:
    """Per position, the running sum of ``w`` (one per segment, at its first position) from
    the chain's start (or, ``reverse``, from its end), one segment after the other
    (``order``: the chains, longest first)."""
    out = np.zeros(len(w))
    sorted_len = length[order]
    # each chain's first (reverse: last) segment, longest chains first: a pass reads a prefix
    # of it (not two gathers through ``order``), of the lengths negated once (not a negated
    # copy each pass) and writes into two spare arrays (a pass's temporaries were fresh
    # memory: 9.4 M chains at 200 M OSM nodes, 75 MB each)
    base = first[order] + sorted_len - 1 if reverse else first[order]
    neg_len = -sorted_len
    seg_buf, w_buf = np.empty(len(order), dtype=base.dtype), np.empty(len(order))
    acc = np.zeros(len(order))
    for k in range(int(sorted_len[0]) if len(order) else 0):
        live = int(np.searchsorted(neg_len, -k, side="left"))  # chains longer than k
        seg, w_seg = seg_buf[:live], w_buf[:live]
        (np.subtract if reverse else np.add)(base[:live], k, out=seg)
        np.take(w, seg, out=w_seg, mode="clip")  # all in range: no check
        acc[:live] += w_seg
        if not reverse:
            seg += 1
        out[seg] = acc[:live]
    return out


def compress(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, n: int
             ) -> tuple[Chains, np.ndarray, sp.csr_matrix]:
    """Chains, kept vertices (increasing) and the compressed CSR matrix (over kept vertices,
    in that order) of a graph given as directed edges."""
    one = np.ones(len(rows), dtype=bool)
    return compress_segments([rows, cols, cost, one, ~one], n)


def compress_segments(segments: list, n: int) -> tuple[Chains, np.ndarray, sp.csr_matrix]:
    """:func:`compress` of road segments ``[u, v, minutes, forward, backward]`` (vertex
    numbers, minutes, which ways they may be driven), which it empties: each array is freed
    once used if the caller holds no other reference (a large graph's build peak). Segments
    joining the same two vertices keep the quickest minutes each way; self-loops are dropped.

    Chains are found as paths of *half-edges* (a segment entered through one of its ends):
    the half-edge after ``h`` enters the next segment at the pass-through vertex where ``h``'s
    segment is left, and a path ends where that vertex is kept. Every half-edge's last
    half-edge and distance to it come from pointer jumping (:func:`_path_ends`: a few passes
    of gathers over flat arrays, no graph library, no copy of the graph); each chain is one
    path and its mirror image, read in the chain's direction.

    ``minutes`` may also be a future of them (:mod:`concurrent.futures`), all finite: the
    chains are found while they are computed (no minutes are needed until the chains' sums).
    """
    u, v, fwd, bwd = (np.asarray(segments[k]) for k in (0, 1, 3, 4))
    minutes = segments[2]
    segments.clear()
    key, pq, qp, drop = _pair_keys(u, v, fwd, bwd, n)
    del u, v, fwd, bwd
    keep = None if not drop.any() else ~drop
    del drop
    if keep is not None:
        key, pq, qp = key[keep], pq[keep], qp[keep]
    if not hasattr(minutes, "result"):
        minutes = np.asarray(minutes)  # an infinite minutes is a direction not driven
        fin = np.isfinite(minutes if keep is None else minutes[keep])
        pq &= fin
        qp &= fin
        del fin
    by = np.argsort(key)  # the quickest of a pair's segments is kept each way below
    # half-edge h = 2 * segment + end (0: entered at p, 1: at q); its vertex, by half-edge
    by, new, starts, pq, qp, at = _sorted_pairs(key, by, pq, qp, n)
    del key
    m = len(starts)
    idx = np.int32 if 2 * m < 2**31 - 1 else np.int64  # half-edges, ranks
    # the segment may be driven from h's vertex on: one of the pair's segments may (each
    # finite, so the quickest of them is finite too); the chains are found without the
    # minutes, which may still be being computed (graph.py: on the other CPU)
    leave = np.empty(2 * m, dtype=bool)
    leave[0::2] = np.logical_or.reduceat(pq, starts) if m else pq
    leave[1::2] = np.logical_or.reduceat(qp, starts) if m else qp
    del starts  # remade from new (8 bytes a pair less while the chains are found)
    degree = np.bincount(at, minlength=n)
    two = np.flatnonzero(degree == 2)
    del degree
    h = np.arange(2 * m, dtype=idx)
    h1 = np.full(n, 2 * m, dtype=idx)  # a vertex's lowest and highest half-edge
    np.minimum.at(h1, at, h)
    h1 = h1[two]
    h2 = np.full(n, -1, dtype=idx)
    np.maximum.at(h2, at, h)
    del h
    h2 = h2[two]
    o1, o2 = leave[h1], leave[h2]
    n1, n2 = leave[h1 ^ 1], leave[h2 ^ 1]  # entered: the segment driven towards the vertex
    through = (o1 & n1 & o2 & n2) | (n1 & ~o1 & o2 & ~n2) | (o1 & ~n1 & n2 & ~o2)
    del o1, n1, o2, n2
    passed = np.zeros(n, dtype=bool)
    passed[two[through]] = True
    h1, h2 = h1[through], h2[through]
    del two, through
    # the half-edge after h: across h's segment, on through the pass-through vertex there
    after = np.full(2 * m, -1, dtype=idx)
    after[h1 ^ 1], after[h2 ^ 1] = h2, h1
    del h1, h2
    last, steps = _path_ends(after)  # overwrites after
    del after
    ring = np.flatnonzero(last < 0)  # rings without a junction: keep their lowest vertex
    if len(ring):
        after_ring = _ring_after(ring, at[ring])
        passed[_cycle_min(after_ring, at[ring])] = False
        after_ring[~passed[at[ring[after_ring]]]] = -1  # entering a kept vertex: an end
        l_last, steps[ring] = _path_ends(after_ring)
        last[ring] = ring[l_last]
        del after_ring, l_last
    del ring
    # each chain is a path from a kept vertex and its mirror, whose last half-edge is the
    # first one's twin; it runs from the end it may be driven from, the lowest (vertex,
    # segment) when both
    head = np.flatnonzero(~passed[at])
    twin = last[head] ^ 1
    ok, ok_twin = leave[head], leave[twin]
    first = ok & (~ok_twin | (at[head] < at[twin]) | ((at[head] == at[twin]) & (head < twin)))
    start = head[first]
    del head, twin, ok, ok_twin, first
    n_chains = len(start)
    chain_of_start = np.empty(n_chains, dtype=np.int64)  # by half-edge, then in chain order
    by_vertex = at[start].astype(np.int64)  # (vertex, half-edge) as one key: one sort
    by_vertex *= 2 * m
    by_vertex += start
    chain_of_start[np.argsort(by_vertex)] = np.arange(n_chains)
    del by_vertex
    length = np.empty(n_chains, dtype=np.int64)
    length[chain_of_start] = steps[start] + 1
    # each segment is read as the half-edge on its chain's path: h's path starts at the twin
    # of its twin's last half-edge, and h is that many steps from the start
    own = np.empty(2 * m, dtype=idx)
    own[0::2], own[1::2] = last[1::2], last[0::2]
    own ^= 1  # own[h]: the first half-edge of h's path
    del last
    label = np.full(2 * m, -1, dtype=idx)  # a path's chain, at its first half-edge
    label[start] = chain_of_start
    own = label[own]  # h's chain if h is read in its chain's direction, else -1
    del label
    h = np.flatnonzero(own >= 0).astype(idx)
    chain = own[h].astype(np.int64)
    del own
    ahead = np.empty(2 * m, dtype=idx)  # steps from the path's start: the twin's to its end
    ahead[0::2], ahead[1::2] = steps[1::2], steps[0::2]
    del steps
    seg_ptr = np.zeros(n_chains + 1, dtype=np.int64)
    np.cumsum(length, out=seg_ptr[1:])
    ptr = seg_ptr + np.arange(n_chains + 1)
    pos = seg_ptr[chain]  # each segment's first position
    pos += ahead[h]
    pos += chain
    del ahead, chain
    index = np.int32 if n < 2**31 - 1 else np.int64
    vertex = np.empty(m + n_chains, dtype=index)
    for s in _slices(len(h)):  # every first position, then every next (as in two passes)
        vertex[pos[s]] = at[h[s]]
    for s in _slices(len(h)):
        vertex[pos[s] + 1] = at[h[s] ^ 1]
    del at
    if hasattr(minutes, "result"):
        minutes = minutes.result()  # the future let go: its minutes freed once merged
    if keep is not None:
        minutes = minutes[keep]
    del keep
    w, odd, odd_qp = _pair_minutes(minutes, by, pq, qp, new, leave)
    del minutes, by, pq, qp, new
    # h holds one half-edge per segment, in segment order: each segment's minutes along its
    # chain's direction (from h's vertex) and back
    w_f = np.where(leave[h], w, np.inf)
    w_b = np.where(leave[h ^ 1], w, np.inf)
    del w, leave
    q_to_p = (h[odd] & 1).astype(bool)  # an odd pair read from q: forward is q -> p
    del h
    w_f[odd[q_to_p]] = odd_qp[q_to_p]
    w_b[odd[~q_to_p]] = odd_qp[~q_to_p]
    del odd, odd_qp, q_to_p
    w_at = np.zeros(m + n_chains)  # each segment's minutes at its first position
    w_at[pos] = w_f
    del w_f
    longest = np.argsort(-length, kind="stable")  # for both sums
    fwd = _chain_sums(w_at, ptr[:-1], length, longest)
    w_at[pos] = w_b
    del w_b, pos
    bwd = _chain_sums(w_at, ptr[:-1], length, longest, reverse=True)
    del longest
    del w_at  # a one-way chain's bwd is inf but at b: its segments' w_b are inf
    chains = Chains(ptr, vertex, fwd, bwd)
    kept = np.flatnonzero(~passed)
    return chains, kept, core_matrix(chains, kept)


def _pair_keys(u: np.ndarray, v: np.ndarray, fwd: np.ndarray, bwd: np.ndarray, n: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each segment's undirected pair ``p * n + q`` (``p < q``), whether it may be driven
    p -> q and q -> p, and whether it is dropped (a self-loop, or no way to drive it); a
    slice at a time into the outputs (85 M segments' whole-array temporaries are fresh
    memory, which costs 1-5 s a GB to touch on a VM)."""
    size = len(u)
    key = np.empty(size, dtype=np.int64)
    pq, qp, drop = (np.empty(size, dtype=bool) for _ in range(3))
    for s in _slices(size):
        us, vs = u[s], v[s]
        flip = us > vs  # as p -> q, p < q
        pq[s] = np.where(flip, bwd[s], fwd[s])
        qp[s] = np.where(flip, fwd[s], bwd[s])
        k = np.minimum(us, vs).astype(np.int64)
        k *= n
        k += np.maximum(us, vs)
        key[s] = k
        drop[s] = (us == vs) | ~(pq[s] | qp[s])
    return key, pq, qp, drop


def _sorted_pairs(key: np.ndarray, by: np.ndarray, pq: np.ndarray, qp: np.ndarray, n: int
                  ) -> tuple[np.ndarray, ...]:
    """The segments in pair order (``by``, int32 when it fits: held until the minutes are
    there), ``new`` at each pair's first, the pairs' first positions, ``pq`` and ``qp`` in
    that order, and the half-edges' vertices (``p`` and ``q`` of each pair, interleaved); a
    slice of ``by`` at a time (no sorted copy of the keys)."""
    size = len(by)
    vdt = np.int32 if n < 2**31 - 1 else np.int64
    new = np.empty(size, dtype=bool)
    pq_by, qp_by = np.empty(size, dtype=bool), np.empty(size, dtype=bool)
    small = np.int32 if size < 2**31 - 1 else by.dtype
    by_small, starts = np.empty(size, dtype=small), np.empty(size, dtype=small)
    at = np.empty(2 * size, dtype=vdt)
    m = 0
    for s in _slices(size):
        b = by[s]
        ks = key[b]
        nw = new[s]
        nw[0] = s.start == 0 or ks[0] != key[by[s.start - 1]]
        np.not_equal(ks[1:], ks[:-1], out=nw[1:])
        pq_by[s], qp_by[s], by_small[s] = pq[b], qp[b], b
        first = np.flatnonzero(nw)
        k = len(first)
        starts[m:m + k] = first + s.start
        pair = ks[first]
        p = pair // n
        at[2 * m:2 * (m + k):2] = p
        p *= n
        np.subtract(pair, p, out=pair)
        at[2 * m + 1:2 * (m + k):2] = pair
        m += k
    return by_small, new, starts[:m], pq_by, qp_by, at[:2 * m]


def _pair_minutes(minutes: np.ndarray, by: np.ndarray, pq: np.ndarray, qp: np.ndarray,
                  new: np.ndarray, leave: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair's minutes (``minutes[by]``: its segments, a pair's together, ``new`` at each
    pair's first; ``pq``, ``qp``: which ways each may be driven), the quickest of its segments
    each way: one per pair, p -> q's where it may be driven so, else q -> p's; and the pairs
    driven each way in different minutes (parallel one-way roads: ``odd``) with their
    q -> p. In slices of whole pairs, whose temporaries the allocator reuses."""
    m = len(leave) // 2
    w = np.empty(m)
    odd, odd_qp = [], []
    a = pair = 0
    while a < len(by):
        b = min(a + _POSITIONS, len(by))
        while b < len(by) and not new[b]:
            b += 1
        s = slice(a, b)
        first = np.flatnonzero(new[s])
        k = slice(pair, pair + len(first))
        w_qp = minutes[by[s]]
        w_pq = np.minimum.reduceat(np.where(pq[s], w_qp, np.inf), first)
        w_qp[~qp[s]] = np.inf
        w_qp = np.minimum.reduceat(w_qp, first)
        l_pq, l_qp = leave[2 * k.start:2 * k.stop:2], leave[2 * k.start + 1:2 * k.stop:2]
        w[k] = np.where(l_pq, w_pq, w_qp)
        o = np.flatnonzero(l_pq & l_qp & (w_pq != w_qp))
        odd.append(o + pair)
        odd_qp.append(w_qp[o])
        a, pair = b, k.stop
    return (w, np.concatenate([np.zeros(0, dtype=np.int64), *odd]),
            np.concatenate([np.zeros(0), *odd_qp]))


def _path_ends(after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every element of a set of disjoint paths and cycles (``after[i]``: the next one,
    -1 at a path's end), the last element of its path and how many steps ahead it is, by
    pointer jumping (each pass doubles the distance looked ahead); -1 for the elements of a
    cycle, which never end (the passes stop when they are all that is left). ``after`` is
    overwritten.

    A pass over whole arrays runs in slices into two spare arrays that it swaps with the
    current ones, not into fresh ones each pass: on a VM the first touch of fresh memory
    costs 1-5 s a GB, and 170 M half-edges (India) made 1.5 GB of temporaries a pass."""
    idx = after.dtype
    n = len(after)
    end = after < 0
    succ = after
    succ[end] = np.flatnonzero(end)  # an end is its own last element
    steps = (~end).astype(idx)
    pending = np.empty(n, dtype=bool)
    spare: tuple[np.ndarray, np.ndarray] | None = None
    left = n + 1
    while True:
        for s in _slices(n):
            np.logical_not(end[succ[s]], out=pending[s])
        count = int(np.count_nonzero(pending))
        if count == 0 or count == left:
            break
        left = count
        if count > n // 8:  # whole arrays: an end's steps are 0, its succ itself
            if spare is None:
                spare = np.empty_like(succ), np.empty_like(steps)
            new_succ, new_steps = spare
            for s in _slices(n):
                j = succ[s]
                np.add(steps[s], steps[j], out=new_steps[s])
                np.take(succ, j, out=new_succ[s], mode="clip")  # all in range: no check
            spare = succ, steps
            succ, steps = new_succ, new_steps
            del new_succ, new_steps, j
        else:
            spare = None
            i = np.flatnonzero(pending).astype(idx)
            j = succ[i]
            steps[i] += steps[j]
            succ[i] = succ[j]
            del i, j
    succ[pending] = -1
    return succ, steps


def _slices(n: int) -> list[slice]:
    """``0:n`` in slices of ``_POSITIONS``."""
    return [slice(k, min(k + _POSITIONS, n)) for k in range(0, n, _POSITIONS)]


def _ring_after(ring: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The half-edge after each of ``ring`` (sorted half-edges whose vertices ``at`` all pass
    through, each vertex by exactly two of them), as a position in ``ring``: across the
    segment (the twin), then on through the other half-edge at that vertex."""
    order = np.argsort(at, kind="stable")
    other = np.empty(len(ring), dtype=np.int64)
    other[order[0::2]], other[order[1::2]] = order[1::2], order[0::2]
    return other[np.searchsorted(ring, ring ^ 1)].astype(ring.dtype)


def _cycle_min(after: np.ndarray, value: np.ndarray) -> np.ndarray:
    """The smallest ``value`` of each cycle (``after``: the next element of each, all on
    cycles), once per cycle."""
    succ = after
    low = value.copy()
    ahead = 1
    while ahead < len(after):  # low[i]: the smallest of the ``ahead`` elements from i
        low = np.minimum(low, low[succ])
        succ = succ[succ]
        ahead *= 2
    return np.unique(low)
