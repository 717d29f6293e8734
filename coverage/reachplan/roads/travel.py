"""Travel time from centres over the road graph: snapping, searches, per-district minutes.

Getting on the network
----------------------
Points join the road where it is nearest (:mod:`reachplan.roads.snapping`). A search starts
at a centre itself: its off-road leg, then the road from where it joined, to its chain's
ends and straight along its chain. Road vertices that no centre can reach (another island of
the network, a one-way trap) get ``inf`` minutes. A point's minutes are those of the place
it joined plus its own leg: from either vertex of its segment, or straight along the chain
from a centre on the same chain.

Districts
---------
A district's minutes are 0 when a centre lies inside it (or on its boundary); otherwise the
quickest of: a road vertex inside it (its minutes), or a road vertex within ``max_snap_km`` of
its boundary plus the straight off-road leg from that vertex to the boundary at
``offroad_kmh``. So a district that no mapped road enters is still reached on foot from the
nearest road. The share within T counts the road vertices inside the district.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from reachplan.errors import InputError
from reachplan.geodesy.nearby import polygons_within_xy
from reachplan.roads import chains
from reachplan.roads.graph import RoadGraph
from reachplan.roads.snapping import (
    MAX_SNAP_KM,
    OFFROAD_KMH,
    SMALL_COMPONENT,
    Snapped,
    check_leg,
    snap,
)

__all__ = ["MAX_SNAP_KM", "OFFROAD_KMH", "SMALL_COMPONENT", "DistrictAccess", "Progress",
           "Snapped", "centres_reaching", "district_access", "district_minutes",
           "nearest_minutes", "point_minutes", "point_pairs", "snap", "search"]

_DENSE_BYTES = 1 << 28  # rows of a bounded search matrix held at once (256 MB)
_SLICE = 1 << 20  # road vertices or chain positions per slice of a pass over the whole graph
# (what, done, total): a long step's advance, for a progress display. total 0: size unknown
# (done counts what is done so far); a step ends with done == total > 0.
Progress = Callable[[str, int, int], None]
# per graph: each vertex's position on its chain (-1: a kept vertex)
_POSITION: weakref.WeakKeyDictionary[RoadGraph, np.ndarray] = weakref.WeakKeyDictionary()


def _position(graph: RoadGraph) -> np.ndarray:
    """Each vertex's position on its chain; -1 for a kept vertex."""
    if graph not in _POSITION:
        # a vertex that is no chain's end lies at one position of one chain; the ends are the
        # kept vertices: every position written, then the kept ones reset (in slices: no
        # position array of the whole graph, 7 s of 80 M vertices' at 200 M OSM nodes)
        where = np.full(graph.n_nodes, -1, dtype=np.int64)
        vertex = graph.chains.vertex
        for first in range(0, len(vertex), _SLICE):
            part = vertex[first:first + _SLICE]
            where[part] = np.arange(first, first + len(part))
        where[graph.kept] = -1
        _POSITION[graph] = where
    return _POSITION[graph]


@dataclass(frozen=True)
class _Sources:
    """The compressed graph plus one virtual vertex per on-network point (``on``), joined
    by its off-road leg and the road to its chain's ends; and where the points sit on their
    chains (``pos`` -1: at a kept vertex), for the vertices between them and the ends."""

    matrix: sp.csr_matrix
    on: np.ndarray
    pos: np.ndarray
    frac: np.ndarray
    leg: np.ndarray


def _with_sources(graph: RoadGraph, snapped: Snapped) -> _Sources:
    """Each search starts at the point itself: its virtual vertex leads to the kept vertex it
    snapped to, or along its chain to the chain's ``b`` (and back to ``a`` when two-way)."""
    ch, kept = graph.chains, graph.kept
    on = np.flatnonzero(snapped.node >= 0)
    nk, k = graph.n_kept, len(on)
    leg = snapped.leg_min[on]
    pos, frac = _located(graph, snapped, on)
    at = np.flatnonzero(pos < 0)
    inner = np.flatnonzero(pos >= 0)
    c = np.searchsorted(ch.ptr, pos[inner], side="right") - 1
    first, last = ch.ptr[c], ch.ptr[c + 1] - 1
    x, y = chains.coordinates(ch, pos[inner], frac[inner])
    back = np.isfinite(ch.bwd[first])
    rows = np.concatenate([at, inner, inner[back]])
    cols = np.concatenate([np.searchsorted(kept, snapped.node[on][at]),
                           np.searchsorted(kept, ch.vertex[last]),
                           np.searchsorted(kept, ch.vertex[first][back])])
    cost = np.concatenate([leg[at], leg[inner] + (ch.fwd[last] - x),
                           leg[inner][back] + (ch.bwd[first][back] - y[back])])
    order = np.lexsort((cost, cols, rows))
    rows, cols, cost = rows[order], cols[order], cost[order]
    once = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])] if len(rows) \
        else np.zeros(0, dtype=bool)
    rows, cols, cost = rows[once], cols[once], cost[once]
    m = graph.core
    extra = np.bincount(rows, minlength=k)
    indptr = np.concatenate([m.indptr, m.indptr[-1] + np.cumsum(extra)])
    indices = np.concatenate([m.indices, cols.astype(m.indices.dtype)])
    data = np.concatenate([m.data, cost])
    matrix = sp.csr_matrix((data, indices, indptr.astype(m.indptr.dtype)),
                           shape=(nk + k, nk + k))
    return _Sources(matrix, on, pos, frac, leg)


def _along_positions(graph: RoadGraph, src: _Sources, which: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source of ``which``, chain position, minutes) for every inner position of the chain
    each of the sources ``which`` (on a chain) sits on, straight along that chain from the
    point, its off-road leg included."""
    ch = graph.chains
    which = which[src.pos[which] >= 0]
    chain = np.unique(np.searchsorted(ch.ptr, src.pos[which], side="right") - 1)
    inner = np.diff(ch.ptr)[chain] - 2
    dest = (np.arange(int(inner.sum())) - np.repeat(np.cumsum(inner) - inner, inner)
            + np.repeat(ch.ptr[chain] + 1, inner))
    s, d, minutes = chains.same_chain(ch, src.pos[which], src.frac[which], dest,
                                      np.zeros(len(dest)))
    return which[s], dest[d], minutes + src.leg[which[s]]


def _along(graph: RoadGraph, src: _Sources, which: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source of ``which``, vertex, minutes) for every inner vertex of the chain each of the
    sources ``which`` (on a chain) sits on, straight along that chain from the point."""
    s, p, minutes = _along_positions(graph, src, which)
    return s, graph.chains.vertex[p].astype(np.int64), minutes


def nearest_minutes(graph: RoadGraph, centers: Snapped, *, limit: float = np.inf
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from the quickest centre to every road vertex, and that centre's position.

    One multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra(min_only=True)``) on the
    compressed graph from the centres themselves (off-road leg included), then every vertex
    of a chain from the quicker of its chain's ends (or straight from a centre on the same
    chain). Vertices beyond ``limit`` minutes or on another island get ``inf`` and source -1.
    """
    if len(centers) == 0:  # e.g. planning from scratch: nothing is reached yet
        return np.full(graph.n_nodes, np.inf), np.full(graph.n_nodes, -1, dtype=np.int64)
    src = _with_sources(graph, centers)
    if len(src.on) == 0:
        raise InputError(f"centers: all {len(centers)} centres are off the road network "
                         "(farther than max_snap_km from every road)")
    nk = graph.n_kept
    dist, _, origin = dijkstra(src.matrix, directed=True,
                               indices=np.arange(nk, nk + len(src.on)),
                               return_predecessors=True, min_only=True, limit=limit)
    origin = origin[:nk]
    minutes, which = chains.expand(graph.chains, graph.kept, dist[:nk], graph.n_nodes,
                                   np.where(origin >= 0, origin - nk, -1))
    assert which is not None
    s, v, cost = _along(graph, src, np.arange(len(src.on)))
    order = np.lexsort((s, cost, v))  # the quickest, then the first centre, per vertex
    s, v, cost = s[order], v[order], cost[order]
    once = np.r_[True, v[1:] != v[:-1]] if len(v) else np.zeros(0, dtype=bool)
    s, v, cost = s[once], v[once], cost[once]
    better = cost < minutes[v]
    minutes[v[better]], which[v[better]] = cost[better], s[better]
    for first in range(0, graph.n_nodes, _SLICE):  # in place, slice by slice
        m, w = minutes[first:first + _SLICE], which[first:first + _SLICE]
        beyond = m > limit
        m[beyond], w[beyond] = np.inf, -1
        fine = w >= 0
        w[fine] = src.on[w[fine]]
    return minutes, which


def search(graph: RoadGraph, centers: Snapped, *, limit: float = np.inf, chunk: int | None = None
           ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Bounded searches one centre at a time: yields (centre positions, minutes[k, nodes]).

    Each on the compressed graph, then expanded to every road vertex (see
    :func:`nearest_minutes`); off-network centres are skipped. Rows are produced in chunks
    that fit ``_DENSE_BYTES``.
    """
    src = _with_sources(graph, centers)
    n, nk = graph.n_nodes, graph.n_kept
    step = chunk or max(1, _DENSE_BYTES // (8 * (n + nk + len(src.on))))
    a_pos, b_pos = graph.chains.ends()
    ends = (np.searchsorted(graph.kept, graph.chains.vertex[a_pos]),
            np.searchsorted(graph.kept, graph.chains.vertex[b_pos]))
    for first in range(0, len(src.on), step):
        rows = np.arange(first, min(first + step, len(src.on)))
        dist = np.atleast_2d(dijkstra(src.matrix, directed=True, indices=nk + rows,
                                      limit=limit))[:, :nk]
        minutes = chains.expand_reached(graph.chains, graph.kept, dist, n, ends)
        del dist
        s, v, cost = _along(graph, src, rows)
        r = s - first
        np.minimum.at(minutes, (r, v), cost)
        minutes[minutes > limit] = np.inf
        yield src.on[rows], minutes


def centres_reaching(graph: RoadGraph, centers: Snapped, *, limit: float,
                     progress: Progress | None = None) -> np.ndarray:
    """How many centres reach each road vertex within ``limit`` minutes.

    One search bounded at ``limit`` per on-network centre, from the centre itself (off-road
    leg included); centres sharing a place each count, off-network centres reach nothing.
    The counts of :func:`search`'s dense rows, from the kept vertices each search reaches and
    the reached stretch of each chain with a reached end, never a row over every road vertex
    (:func:`reachplan.roads.reach.vertex_counts`). ``progress("searches (centres)", done,
    total)`` after each batch of centres.
    """
    from reachplan.roads.reach import vertex_counts  # (reach builds on this module)

    report = (None if progress is None else
              functools.partial(progress, "searches (centres)"))
    return vertex_counts(graph, centers, limit=limit, progress=report)


def _located(graph: RoadGraph, snapped: Snapped, on: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Segment start position and fraction of the points ``on`` (a point made from a vertex
    alone: at that vertex; -1 at a kept vertex, which is then the point's ``node``)."""
    pos, frac = snapped.pos[on].copy(), snapped.frac[on].copy()
    by_node = pos < 0
    if by_node.any():  # (the position table costs a number per road vertex: only if needed)
        pos[by_node] = _position(graph)[snapped.node[on][by_node]]
        frac[by_node] = 0.0
    # at a chain's end: at that kept vertex (``node``), free to leave it by any road
    c = np.searchsorted(graph.chains.ptr, pos, side="right") - 1
    at_end = (pos >= 0) & (((frac <= 0) & (pos == graph.chains.ptr[c]))
                           | ((frac >= 1) & (pos + 2 == graph.chains.ptr[np.minimum(
                               c + 1, graph.chains.n_chains)])))
    pos[at_end] = -1
    return pos, frac


def _sides(graph: RoadGraph, points: Snapped, on: np.ndarray
           ) -> list[tuple[np.ndarray, np.ndarray]]:
    """For the points ``on``, the two vertices of their segment, each with the minutes from
    it to the point along the segment (``inf``: a one-way segment leads away)."""
    pos, frac = _located(graph, points, on)
    at = pos >= 0
    p = np.where(at, pos, 0)
    node = points.node[on]
    if not at.any():
        return [(node, np.zeros(len(on)))]
    vertex = graph.chains.vertex
    wf, wb = graph.chains.segment_minutes(p)
    with np.errstate(invalid="ignore"):
        off_v = np.where(frac >= 1, 0.0, (1.0 - frac) * wb)
    return [(np.where(at, vertex[p], node).astype(np.int64), np.where(at, frac * wf, 0.0)),
            (np.where(at, vertex[p + 1], node).astype(np.int64), np.where(at, off_v, 0.0))]


def _direct(graph: RoadGraph, centers: Snapped, points: Snapped, on: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centre, point of ``on``, minutes road only + centre's leg) straight along the chain
    for every centre and point on the same chain."""
    c_on = np.flatnonzero(centers.node >= 0)
    c_pos, c_frac = _located(graph, centers, c_on)
    p_pos, p_frac = _located(graph, points, on)
    cs, ps = np.flatnonzero(c_pos >= 0), np.flatnonzero(p_pos >= 0)
    s, d, minutes = chains.same_chain(graph.chains, c_pos[cs], c_frac[cs], p_pos[ps],
                                      p_frac[ps])
    centre = c_on[cs[s]]
    return centre, ps[d], minutes + centers.leg_min[centre]


def point_pairs(graph: RoadGraph, centers: Snapped, points: Snapped, *, limit: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (point, centre, minutes) with minutes <= ``limit``, sorted by point then centre.

    One search bounded at ``limit`` per on-network centre (:func:`search`, from the centre
    itself, off-road leg included); a point's minutes from a centre are the quicker way in
    from either vertex of its segment (or straight along the chain from a centre on it), plus
    its own off-road leg. Points and centres off the network pair with nothing. The sides of
    the points' segments are read from the kept vertices each search reaches
    (:func:`reachplan.roads.reach.district_pairs`, the points as districts), not from dense
    rows: memory is one chunk of searches plus the pairs found.
    """
    on = np.flatnonzero(points.node >= 0)
    out_p, out_c, out_k = [], [], []
    if len(on) and (centers.node >= 0).any():
        from reachplan.roads.reach import district_pairs  # (reach builds on this module)

        # each side of a point's segment is a way in: minutes there plus the way along it
        vtx, off = (np.concatenate(x) for x in zip(*_sides(graph, points, on), strict=True))
        which = np.tile(np.arange(len(on)), len(vtx) // len(on))
        access = DistrictAccess(which, vtx, off, off == 0, len(on))
        p, c, road = district_pairs(graph, centers, access, limit=limit)
        cost = road + points.leg_min[on[p]]
        keep = cost <= limit
        out_p.append(on[p[keep]])
        out_c.append(c[keep])
        out_k.append(cost[keep])
        centre, point, road = _direct(graph, centers, points, on)
        cost = road + points.leg_min[on[point]]
        keep = cost <= limit
        out_p.append(on[point[keep]])
        out_c.append(centre[keep])
        out_k.append(cost[keep])
    if not out_p:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    p = np.concatenate(out_p).astype(np.int64)
    c = np.concatenate(out_c).astype(np.int64)
    k = np.concatenate(out_k)
    order = np.lexsort((k, c, p))
    p, c, k = p[order], c[order], k[order]
    once = np.r_[True, (p[1:] != p[:-1]) | (c[1:] != c[:-1])] if len(p) else p.astype(bool)
    return p[once], c[once], k[once]


def point_minutes(minutes: np.ndarray, source: np.ndarray, points: Snapped, *,
                  graph: RoadGraph, centers: Snapped | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Minutes of each (demand) point from the quickest centre and that centre (-1): the
    quicker way in from either vertex of its segment (``minutes`` and ``source`` per road
    vertex, :func:`nearest_minutes`), or straight along the chain from one of ``centers``
    on the same chain, plus its own off-road leg."""
    on = np.flatnonzero(points.node >= 0)
    best, who = np.full(len(on), np.inf), np.full(len(on), -1, dtype=np.int64)
    for vtx, off in _sides(graph, points, on):
        cost = minutes[vtx] + off
        better = cost < best
        best[better], who[better] = cost[better], source[vtx[better]]
    if centers is not None and len(on):
        centre, point, road = _direct(graph, centers, points, on)
        order = np.lexsort((centre, road, point))  # the quickest, then the first centre
        centre, point, road = centre[order], point[order], road[order]
        once = np.r_[True, point[1:] != point[:-1]] if len(point) else point.astype(bool)
        centre, point, road = centre[once], point[once], road[once]
        better = road < best[point]
        best[point[better]], who[point[better]] = road[better], centre[better]
    mins, src = np.full(len(points), np.inf), np.full(len(points), -1, dtype=np.int64)
    mins[on] = best + points.leg_min[on]
    src[on] = np.where(np.isfinite(mins[on]), who, -1)
    return mins, src


@dataclass(frozen=True)
class DistrictAccess:
    """(district, road vertex, off-road minutes) for every vertex inside a district (0) or
    within ``max_snap_km`` of it; sorted by district."""

    district: np.ndarray
    node: np.ndarray
    leg_min: np.ndarray
    inside: np.ndarray  # bool: the vertex is inside the district
    n_districts: int


def district_access(graph: RoadGraph, districts, *, offroad_kmh: float = OFFROAD_KMH,
                    max_snap_km: float = MAX_SNAP_KM, progress: Progress | None = None,
                    minutes: np.ndarray | None = None) -> DistrictAccess:
    """How each district is entered from the road graph (see the module docstring);
    ``progress("district access (road vertices)", done, total)`` as the vertices are
    measured.

    ``minutes`` (per road vertex, e.g. from :func:`nearest_minutes`): only what
    :func:`district_minutes` needs for these minutes, every vertex inside but of those
    outside only the ones that can give a district its quickest way in (proven lower bounds
    on the walk rule the others out unmeasured): the same minutes, centres and shares, from a
    fraction of the geodesic work (issue 18.6).
    """
    check_leg(offroad_kmh, max_snap_km)
    geoms = getattr(districts, "geometry", districts)
    report = (None if progress is None else
              functools.partial(progress, "district access (road vertices)"))
    cheapest = None if minutes is None else (np.asarray(minutes, dtype=float),
                                             60.0 / 1000.0 / offroad_kmh)
    d, v, metres = polygons_within_xy(geoms, graph.lon, graph.lat, max_snap_km * 1000.0,
                                      progress=report, cheapest=cheapest)
    return DistrictAccess(d, v, metres / 1000.0 / offroad_kmh * 60.0, metres == 0,
                          len(geoms))


def district_minutes(access: DistrictAccess, minutes: np.ndarray, source: np.ndarray,
                     inside_center: np.ndarray, *, within: float | None = None,
                     reached: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per district: minutes from the quickest centre, that centre, share of vertices within.

    ``inside_center`` is, per district, a centre inside it (-1 if none): that district gets 0
    minutes and that centre. ``within`` (T minutes) gives the share of the district's road
    vertices reached within T (NaN for a district with no road vertex inside); ``reached``
    (per road vertex, bool) says instead which vertices count as reached, e.g. those that
    enough centres reach within T (:func:`centres_reaching`).
    """
    n = access.n_districts
    cost = minutes[access.node] + access.leg_min
    best = np.full(n, np.inf)
    np.minimum.at(best, access.district, cost)
    # the centre of the first pair that attains the best cost (pairs are in district order)
    hit = np.flatnonzero(np.isfinite(cost) & (cost == best[access.district]))
    who = np.full(n, -1, dtype=np.int64)
    first = np.unique(access.district[hit], return_index=True)
    who[first[0]] = source[access.node[hit[first[1]]]]
    inside_center = np.asarray(inside_center, dtype=np.int64)
    has = inside_center >= 0
    best[has] = 0.0
    who[has] = inside_center[has]
    share = np.full(n, np.nan)
    if within is not None or reached is not None:
        ins = access.inside
        counted = reached if reached is not None else minutes <= within
        total = np.bincount(access.district[ins], minlength=n)
        ok = np.bincount(access.district[ins], weights=counted[access.node[ins]],
                         minlength=n)
        share = np.where(total > 0, ok / np.maximum(total, 1), np.nan)
    return best, who, share
