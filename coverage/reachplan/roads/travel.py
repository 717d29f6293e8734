"""Travel time from centres over the road graph: snapping, searches, per-district minutes.

Getting on the network
----------------------
A centre or demand point joins the road graph at its nearest road vertex of the *main
network* (geodesic WGS84: a unit-sphere KD-tree proposes candidates, ``pyproj.Geod``
decides) by a straight off-road leg at ``offroad_kmh`` (default walking pace, 5 km/h).

The main network is every strongly connected part of the graph with at least
``SMALL_COMPONENT`` (1000) vertices: OSRM's rule (``osrm-extract --small-component-size``,
default 1000; its snapping prefers a "big component" within reach,
``NearestCandidatesWithAlternativeFromBigComponent``), and OSMnx's practice of keeping the
largest strongly connected component. Real extracts hold many tiny fragments (a car park's
aisles, a one-way spur, a road cut at the extract's border) that a point a few metres nearer
would otherwise snap to and be stranded on. A point with no main-network vertex within
``max_snap_km`` takes its nearest vertex of any part (``Snapped.isolated``: e.g. an island
with its own few roads); so does every point of a graph with no part that large. A point
farther than
``max_snap_km`` from every road vertex is *off the network*: it is reported as such
(``node == -1``), never dropped, and reaches nothing by road. Road vertices that no centre
can reach (another island of the network, a one-way trap) get ``inf`` minutes.

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
import os
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from reachplan.errors import InputError
from reachplan.geodesy import CentreIndex, polygons_within
from reachplan.roads import chains
from reachplan.roads.graph import RoadGraph

__all__ = ["SMALL_COMPONENT", "DistrictAccess", "Progress", "Snapped", "centres_reaching",
           "district_access", "district_minutes", "nearest_minutes",
           "point_minutes", "point_pairs", "snap", "search"]

OFFROAD_KMH = 5.0
MAX_SNAP_KM = 2.0
SMALL_COMPONENT = 1000  # a strongly connected part this big is main network (OSRM's default)
_DENSE_BYTES = 1 << 28  # rows of a bounded search matrix held at once (256 MB)
# (what, done, total): a long step's advance, for a progress display. total 0: size unknown
# (done counts what is done so far); a step ends with done == total > 0.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Snapped:
    """Each point's road vertex (-1 = off the network), off-road metres and minutes, and
    whether it had to join a small fragment (no main-network vertex within reach)."""

    node: np.ndarray
    leg_m: np.ndarray
    leg_min: np.ndarray
    isolated: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        if len(self.isolated) != len(self.node):
            object.__setattr__(self, "isolated", np.zeros(len(self.node), dtype=bool))

    @property
    def off_network(self) -> np.ndarray:
        return self.node < 0

    def __len__(self) -> int:
        return len(self.node)


def _check_leg(offroad_kmh: float, max_snap_km: float) -> None:
    if not (np.isfinite(offroad_kmh) and offroad_kmh > 0):
        raise InputError(f"offroad_kmh {offroad_kmh}: must be a speed > 0 km/h")
    if not (max_snap_km >= 0):
        raise InputError(f"max_snap_km {max_snap_km}: must be a distance >= 0 km")


# per graph: its main-network mask and an index over it (built once, freed with the graph)
_MAIN: weakref.WeakKeyDictionary[RoadGraph, tuple[np.ndarray, CentreIndex | None]] = \
    weakref.WeakKeyDictionary()
# per graph: each vertex's position on its chain (-1: a kept vertex)
_POSITION: weakref.WeakKeyDictionary[RoadGraph, np.ndarray] = weakref.WeakKeyDictionary()


def _main(graph: RoadGraph) -> tuple[np.ndarray, CentreIndex | None]:
    """Whether each vertex is on the main network, and a nearest-vertex index over those
    (None when snapping has no part to prefer: every vertex is main, or none is).

    The strongly connected parts are those of the compressed graph, each counting the road
    vertices it holds uncompressed: its kept vertices, and the inner vertices of every chain
    with both ends in it (on a one-way chain between two parts, each inner vertex is a part
    of its own), so the main network is the same as the uncompressed graph's.
    """
    if graph not in _MAIN:
        ch, kept = graph.chains, graph.kept
        n_parts, part = connected_components(graph.core, directed=True, connection="strong")
        first, last = ch.ends()
        a = part[np.searchsorted(kept, ch.vertex[first])]
        same = a == part[np.searchsorted(kept, ch.vertex[last])]
        inner = np.diff(ch.ptr) - 2
        size = (np.bincount(part, minlength=n_parts)
                + np.bincount(a[same], weights=inner[same], minlength=n_parts))
        big = size >= SMALL_COMPONENT
        main = np.zeros(graph.n_nodes, dtype=bool)
        main[kept] = big[part]
        pos, _, _ = chains.interior(ch)
        main[ch.vertex[pos]] = np.repeat(same & big[a], inner)
        index = None if main.all() or not main.any() else CentreIndex(graph.lat[main],
                                                                       graph.lon[main])
        _MAIN[graph] = (main, index)
    return _MAIN[graph]


def _position(graph: RoadGraph) -> np.ndarray:
    """Each vertex's position on its chain; -1 for a kept vertex."""
    if graph not in _POSITION:
        where = np.full(graph.n_nodes, -1, dtype=np.int64)
        pos, _, _ = chains.interior(graph.chains)
        where[graph.chains.vertex[pos]] = pos
        _POSITION[graph] = where
    return _POSITION[graph]


def snap(graph: RoadGraph, lon, lat, *, offroad_kmh: float = OFFROAD_KMH,
         max_snap_km: float = MAX_SNAP_KM) -> Snapped:
    """Nearest main-network road vertex of each point (exact geodesic), else the nearest of
    any part within ``max_snap_km`` (``isolated``), and the off-road leg to it."""
    _check_leg(offroad_kmh, max_snap_km)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    n = len(lon)
    node = np.full(n, -1, dtype=np.int64)
    leg_m = np.full(n, np.inf)
    if n == 0 or graph.n_nodes == 0:
        return Snapped(node, leg_m, np.full(n, np.inf))
    threads = os.cpu_count() or 1
    reach_m = max_snap_km * 1000.0
    main, index = _main(graph)
    # exact geodesic nearest vertex, the lowest position on ties (conformal-sphere bounds)
    if index is None:
        node, leg_m = graph.index().nearest(lat, lon, threads=threads)
        isolated = np.zeros(n, dtype=bool)
    else:
        pos, leg_m = index.nearest(lat, lon, threads=threads)
        node = np.flatnonzero(main)[pos]
        isolated = leg_m > reach_m
        if isolated.any():  # no main-network vertex within reach: the nearest of any part
            node[isolated], leg_m[isolated] = graph.index().nearest(
                lat[isolated], lon[isolated], threads=threads)
    far = leg_m > reach_m
    node[far] = -1
    leg_min = np.where(far, np.inf, leg_m / 1000.0 / offroad_kmh * 60.0)
    return Snapped(node, leg_m, leg_min, isolated & ~far)


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
    pos = _position(graph)[snapped.node[on]]
    frac = np.zeros(k)
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


def _along(graph: RoadGraph, src: _Sources, which: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source of ``which``, vertex, minutes) for every inner vertex of the chain each of the
    sources ``which`` (on a chain) sits on, straight along that chain from the point."""
    ch = graph.chains
    which = which[src.pos[which] >= 0]
    chain = np.unique(np.searchsorted(ch.ptr, src.pos[which], side="right") - 1)
    inner = np.diff(ch.ptr)[chain] - 2
    dest = (np.arange(int(inner.sum())) - np.repeat(np.cumsum(inner) - inner, inner)
            + np.repeat(ch.ptr[chain] + 1, inner))
    s, d, minutes = chains.same_chain(ch, src.pos[which], src.frac[which], dest,
                                      np.zeros(len(dest)))
    return which[s], ch.vertex[dest[d]].astype(np.int64), minutes + src.leg[which[s]]


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
    beyond = minutes > limit
    minutes[beyond], which[beyond] = np.inf, -1
    source = np.where(which >= 0, src.on[np.maximum(which, 0)], -1)
    return minutes, source.astype(np.int64)


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
    for first in range(0, len(src.on), step):
        rows = np.arange(first, min(first + step, len(src.on)))
        dist = np.atleast_2d(dijkstra(src.matrix, directed=True, indices=nk + rows,
                                      limit=limit))[:, :nk]
        minutes, _ = chains.expand(graph.chains, graph.kept, dist, n)
        del dist
        s, v, cost = _along(graph, src, rows)
        r = s - first
        np.minimum.at(minutes, (r, v), cost)
        minutes[minutes > limit] = np.inf
        yield src.on[rows], minutes


def centres_reaching(graph: RoadGraph, centers: Snapped, *, limit: float,
                     progress: Progress | None = None) -> np.ndarray:
    """How many centres reach each road vertex within ``limit`` minutes.

    One search bounded at ``limit`` per on-network centre (:func:`search`, from the centre
    itself, off-road leg included), in the same memory-bounded chunks; centres sharing a place
    each count. Off-network centres reach nothing. ``progress("searches (centres)", done,
    total)`` after each chunk.
    """
    count = np.zeros(graph.n_nodes, dtype=np.int64)
    total, done = int((centers.node >= 0).sum()), 0
    if total:
        for centres, dist in search(graph, centers, limit=limit):
            count += np.count_nonzero(dist <= limit, axis=0)
            done += len(centres)
            if progress is not None:
                progress("searches (centres)", done, total)
    return count


def point_pairs(graph: RoadGraph, centers: Snapped, points: Snapped, *, limit: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (point, centre, minutes) with minutes <= ``limit``, sorted by point then centre.

    One search bounded at ``limit`` per on-network centre (:func:`search`, from the centre
    itself, off-road leg included); a point's minutes from a centre are its road vertex's
    plus its own off-road leg. Points and centres off the network pair with nothing. Memory:
    one chunk of searches plus the pairs found, whatever the number of points.
    """
    on = np.flatnonzero(points.node >= 0)
    by_node = on[np.argsort(points.node[on], kind="stable")]  # points grouped by vertex
    nodes = points.node[by_node]
    out_p, out_c, out_k = [], [], []
    if len(by_node) and (centers.node >= 0).any():
        for centres, dist in search(graph, centers, limit=limit):
            row, vertex = np.nonzero(dist <= limit)
            first = np.searchsorted(nodes, vertex, side="left")
            count = np.searchsorted(nodes, vertex, side="right") - first
            pair = np.repeat(np.arange(len(vertex)), count)  # one per (reached vertex, point)
            start = np.repeat(first - np.cumsum(count) + count, count)
            point = by_node[start + np.arange(len(pair))]
            cost = dist[row[pair], vertex[pair]] + points.leg_min[point]
            keep = cost <= limit
            out_p.append(point[keep])
            out_c.append(centres[row[pair[keep]]])
            out_k.append(cost[keep])
    if not out_p:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    p = np.concatenate(out_p).astype(np.int64)
    c = np.concatenate(out_c).astype(np.int64)
    k = np.concatenate(out_k)
    order = np.lexsort((c, p))
    return p[order], c[order], k[order]


def point_minutes(minutes: np.ndarray, source: np.ndarray, points: Snapped
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Minutes of each (demand) point: its road vertex's minutes plus its off-road leg."""
    on = points.node >= 0
    node = np.maximum(points.node, 0)
    mins = np.where(on, minutes[node] + points.leg_min, np.inf)
    src = np.where(on & np.isfinite(mins), source[node], -1)
    return mins, src.astype(np.int64)


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
    import geopandas as gpd

    _check_leg(offroad_kmh, max_snap_km)
    geoms = getattr(districts, "geometry", districts)
    nodes = gpd.points_from_xy(graph.lon, graph.lat)
    report = (None if progress is None else
              functools.partial(progress, "district access (road vertices)"))
    cheapest = None if minutes is None else (np.asarray(minutes, dtype=float),
                                             60.0 / 1000.0 / offroad_kmh)
    d, v, metres = polygons_within(geoms, nodes, max_snap_km * 1000.0, progress=report,
                                   cheapest=cheapest)
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
