"""Getting on the network: a point joins the road where it is nearest (geodesic WGS84).

A centre or demand point joins the road graph at the nearest point of a road segment of the
*main network*, between two vertices or at one, by a straight off-road leg at
``offroad_kmh`` (default walking pace, 5 km/h) whose length is the geodesic distance to that
point; the road is then driven from there, the share ``frac`` of the segment already behind
(:class:`Snapped`: the segment's first chain position ``pos`` and ``frac``; ``node`` is the
nearer of the segment's two vertices). Before the compressed graph (issue 22) a point joined
at its nearest road *vertex*: the leg is now never longer, and a point beside a long straight
road no longer walks to a bend hundreds of metres away.

The main network is every strongly connected part of the graph with at least
``SMALL_COMPONENT`` (1000) road vertices (counted uncompressed): OSRM's rule
(``osrm-extract --small-component-size``, default 1000; its snapping prefers a "big
component" within reach, ``NearestCandidatesWithAlternativeFromBigComponent``), and OSMnx's
practice of keeping the largest strongly connected component. Real extracts hold many tiny
fragments (a car park's aisles, a one-way spur, a road cut at the extract's border) that a
point a few metres nearer would otherwise snap to and be stranded on. A segment is on the
main network when both its vertices are. A point with no main-network segment within
``max_snap_km`` takes its nearest segment of any part (``Snapped.isolated``: e.g. an island
with its own few roads); so does every point of a graph with no part that large. A point
farther than ``max_snap_km`` from every road is *off the network*: it is reported as such
(``node == -1``), never dropped, and reaches nothing by road.

The nearest road point
----------------------
A road segment is the geodesic between two consecutive vertices of a road. Each segment is

A road segment is the geodesic between two consecutive vertices of a road. Each segment is
cut into pieces of at most ``PIECE_M`` metres, or twice the segments' mean length when that
is longer (so the index holds at most 1.5 midpoints a segment, however long the roads'
straight runs), whose midpoints go into an exact geodesic point index
(:class:`reachplan.geodesy.CentreIndex`); every point of a piece lies within half a piece of
its midpoint. For a point P, the nearest midpoint (at d1) is on a road, so
the nearest road point is within d1; only segments with a midpoint within d1 + half a piece
can hold it, and for each of those the nearest point along the geodesic is found by
bisection on pyproj's direct and inverse problems (:func:`foot`: the distance to points along
a geodesic shorter than a few thousand kilometres has a single minimum). Ties go to the
segment with the lowest chain position.

Only the segments near the points
---------------------------------
A few thousand centres need not index millions of segments. The index is built over the
segments that can hold a point within ``R`` metres of some query point: a segment's points are
within its length of its first vertex, so those whose first vertex lies in a lon/lat box
proven to hold every point within ``R`` + ``L`` of a query point (latitude moves at most 1
radian per ``_M_MIN`` metres; longitude at most 1 radian per ``a cos(φ)`` metres at the
highest latitude the box reaches), and every segment longer than ``L`` by a bound of its
length. ``L`` is the graph's own: the least of 250, 500, 1000 and 2000 m that leaves few
segments longer (``_LONG_FEW``), as they join every local index. When a point's nearest
segment in that subset is within ``R``, every segment at least as near is in the subset, so
the answer (nearest, then lowest position) is the one over all segments. ``R`` is ``L``
first, then four times as large up to ``max_snap_km`` for the points not yet decided, from the
road vertices one scan found in the boxes at ``max_snap_km`` (most points are near a road:
their indexes stay small); a point whose nearest is farther is asked again as far as the
segment it got (16 times as far without one), up to all the segments (``_near_starts``). On
the main network only points within ``max_snap_km`` are kept, so those passes decide them.

Longer than 500 lines: the nearest road point, the local indexes that make it cheap and the
main network they prefer are one algorithm whose exactness argument (above) spans all three;
apart, each part's proof would lean on another module's internals.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import connected_components

from reachplan.errors import InputError
from reachplan.geodesy import CentreIndex
from reachplan.roads.graph import RoadGraph

__all__ = ["MAX_SNAP_KM", "OFFROAD_KMH", "PIECE_M", "SMALL_COMPONENT", "SegmentIndex",
           "Snapped", "foot", "place", "snap"]

OFFROAD_KMH = 5.0
MAX_SNAP_KM = 2.0
SMALL_COMPONENT = 1000  # a strongly connected part this big is main network (OSRM's default)

PIECE_M = 100.0  # the longest piece of a segment the index holds a midpoint of (at least)
_TOL_M = 1e-6  # pyproj's inverse is good to nanometres: this margin only absorbs rounding
_NM = 1e-9
_STEPS = 54  # bisections: 2^-54 = 6e-17 of the segment's length
# local indexes (see the module docstring): WGS84's least meridional radius of curvature
# a(1 - e²) (m per radian of latitude, at least) and its equatorial radius (N >= a)
_M_MIN = 6_335_439.0
_A_M = 6_378_137.0
# a geodesic is no longer than its straight lon/lat line, at most this many metres a radian
_MAX_CURVATURE_M = 6_399_594.0
_LONG_LIMITS = (250.0, 500.0, 1000.0, 2000.0)  # choices of L (the module docstring)
_LONG_FEW = 20_000  # at most this many long segments, and 1 % of them (else L = 2 km)
_GRID_CELLS = 16_000_000  # cells of the lon/lat grid of boxes at most
_LOCAL_SHARE = 0.5  # past this share of the segments, the whole index (built once) is used


def foot(lon, lat, lon1, lat1, lon2, lat2) -> tuple[np.ndarray, np.ndarray]:
    """For each point and segment (geodesic from 1 to 2): the fraction of the segment's
    length at which its nearest point lies, and the geodesic metres to it.

    The distance to a point X(s) moving along the geodesic changes at the rate
    -cos(a), a the angle at X between the geodesic's heading and the geodesic to the
    point: the nearest point is where that turns from negative to positive, found by
    bisection on its sign (to 1e-16 of the segment), or an end when it does not turn.
    """
    import pyproj

    geod = pyproj.Geod(ellps="WGS84")
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    lon1, lat1 = np.asarray(lon1, dtype=float), np.asarray(lat1, dtype=float)
    az, _, length = geod.inv(lon1, lat1, lon2, lat2)
    az, length = np.asarray(az), np.asarray(length)

    def ahead(s: np.ndarray, k: np.ndarray) -> np.ndarray:  # the point ahead of X(s): go on
        x, y, back = geod.fwd(lon1[k], lat1[k], az[k], s)
        to_point = np.asarray(geod.inv(x, y, lon[k], lat[k])[0])
        return np.cos(np.radians(to_point - (np.asarray(back) + 180.0))) > 0

    every = np.arange(len(length))
    at_start = ~ahead(np.zeros(len(length)), every)
    at_end = ahead(length, every)
    s = np.where(at_start, 0.0, length)
    # bisection for the pairs whose nearest point is inside the segment only (most are at
    # an end: the point lies beyond it)
    k = np.flatnonzero(~at_start & ~at_end)
    lo, hi = np.zeros(len(k)), length[k]
    for _ in range(_STEPS):
        mid = (lo + hi) / 2.0
        go = ahead(mid, k)
        lo, hi = np.where(go, mid, lo), np.where(go, hi, mid)
    s[k] = (lo + hi) / 2.0
    x, y, _ = geod.fwd(lon1, lat1, az, s)
    metres = np.asarray(geod.inv(lon, lat, x, y)[2])
    # a vertex as near as the foot, to a nanometre (e.g. the point is at the vertex, where
    # the heading to it is noise): the point joins at the vertex
    at_u = np.asarray(geod.inv(lon, lat, lon1, lat1)[2])
    at_v = np.asarray(geod.inv(lon, lat, lon2, lat2)[2])
    s = np.where(at_u <= metres + _NM, 0.0, np.where(at_v <= metres + _NM, length, s))
    metres = np.where(s == 0.0, at_u, np.where(s == length, at_v, metres))
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(length > 0, np.clip(s / length, 0.0, 1.0), 0.0)
    return frac, metres


class SegmentIndex:
    """Nearest road point among the segments starting at chain positions ``start``."""

    def __init__(self, lon1, lat1, lon2, lat2, start: np.ndarray) -> None:
        import pyproj

        geod = pyproj.Geod(ellps="WGS84")
        self.start = np.asarray(start, dtype=np.int64)
        self.ends = (np.asarray(lon1), np.asarray(lat1), np.asarray(lon2), np.asarray(lat2))
        az, _, length = geod.inv(lon1, lat1, lon2, lat2)
        length = np.asarray(length)
        piece_m = max(PIECE_M, 2.0 * float(length.mean())) if len(length) else PIECE_M
        pieces = np.maximum(1, np.ceil(length / piece_m)).astype(np.int64)
        seg = np.repeat(np.arange(len(length)), pieces)
        k = np.arange(len(seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        piece = length / pieces
        x, y, _ = geod.fwd(np.asarray(lon1)[seg], np.asarray(lat1)[seg],
                           np.asarray(az)[seg], (k + 0.5) * piece[seg])
        self.seg = seg
        self.halves = piece / 2.0  # per segment: every point of a piece is this near its midpoint
        self.half = float(self.halves.max()) if len(piece) else 0.0
        self.index = CentreIndex(np.asarray(y), np.asarray(x))

    def nearest(self, lon: np.ndarray, lat: np.ndarray, *, threads: int = 1
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each point's nearest segment (its chain start position), the fraction along it
        and the geodesic metres; -1 / inf without segments."""
        n = len(lon)
        pos, frac, metres = np.full(n, -1, dtype=np.int64), np.zeros(n), np.full(n, np.inf)
        if n == 0 or len(self.start) == 0:
            return pos, frac, metres
        _, d1 = self.index.nearest(lat, lon, threads=threads)
        pts, entry, dm = self.index.within(lat, lon, d1 + self.half + _TOL_M,
                                           threads=threads, every=True)
        seg = self.seg[entry]
        keep = dm - self.halves[seg] <= d1[pts] + _TOL_M  # the others cannot beat d1
        pts, seg = pts[keep], seg[keep]
        pair = np.unique(pts * len(self.start) + seg)
        pts, seg = np.divmod(pair, len(self.start))
        lon1, lat1, lon2, lat2 = (e[seg] for e in self.ends)
        f, d = foot(lon[pts], lat[pts], lon1, lat1, lon2, lat2)
        order = np.lexsort((self.start[seg], d, pts))  # the nearest, then the lowest position
        first = order[np.r_[True, pts[order][1:] != pts[order][:-1]]]
        pos[pts[first]] = self.start[seg[first]]
        frac[pts[first]] = f[first]
        metres[pts[first]] = d[first]
        return pos, frac, metres


@dataclass(frozen=True)
class Snapped:
    """Each point's place on the road: the segment starting at chain position ``pos`` and
    the fraction ``frac`` along it; ``node``, the nearer of that segment's vertices (-1 = off
    the network); off-road metres and minutes; whether it had to join a small fragment (no
    main-network road within reach). Made from ``node`` alone (``pos`` left out), a point
    joins the road at that vertex."""

    node: np.ndarray
    leg_m: np.ndarray
    leg_min: np.ndarray
    isolated: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    pos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    frac: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        if len(self.isolated) != len(self.node):
            object.__setattr__(self, "isolated", np.zeros(len(self.node), dtype=bool))
        if len(self.pos) != len(self.node):
            object.__setattr__(self, "pos", np.full(len(self.node), -1, dtype=np.int64))
            object.__setattr__(self, "frac", np.zeros(len(self.node)))

    @property
    def off_network(self) -> np.ndarray:
        return self.node < 0

    def __len__(self) -> int:
        return len(self.node)


def check_leg(offroad_kmh: float, max_snap_km: float) -> None:
    if not (np.isfinite(offroad_kmh) and offroad_kmh > 0):
        raise InputError(f"offroad_kmh {offroad_kmh}: must be a speed > 0 km/h")
    if not (max_snap_km >= 0):
        raise InputError(f"max_snap_km {max_snap_km}: must be a distance >= 0 km")


# per graph, built once and freed with the graph: which chains are on the main network
# (None: no part to prefer) with their segments' count, the long segments, and the segment
# indexes snapping uses ("main": the main network's, "every": all segments')
_MAIN: weakref.WeakKeyDictionary[RoadGraph, tuple[np.ndarray, int] | None] = \
    weakref.WeakKeyDictionary()
_LONG: weakref.WeakKeyDictionary[RoadGraph, tuple[float, np.ndarray]] = \
    weakref.WeakKeyDictionary()
_INDEX: weakref.WeakKeyDictionary[RoadGraph, dict[str, SegmentIndex]] = \
    weakref.WeakKeyDictionary()
# road vertices or chain positions one pass takes at once: its temporaries (8-16 MB) are
# reused by the allocator; larger ones are fresh pages each time, slow on a VM (1-5 s a GB)
_CHUNK = 1 << 20


def _main_chains(graph: RoadGraph) -> tuple[np.ndarray, int] | None:
    """Whether each chain's segments are on the main network, and how many segments are;
    None when snapping has no part to prefer (every segment is main, or none is).

    The strongly connected parts are those of the compressed graph, each counting the road
    vertices it holds uncompressed: its kept vertices, and the inner vertices of every chain
    with both ends in it (on a one-way chain between two parts, each inner vertex is a part
    of its own), so the main network is the same as the uncompressed graph's. A segment is
    main when both its vertices are: on a chain with inner vertices (every segment touches
    one) when both ends are in the same big part, else when both ends are in big parts.
    """
    if graph not in _MAIN:
        ch = graph.chains
        n_parts, part = connected_components(graph.core, directed=True, connection="strong")
        if n_parts <= 1:  # one part holds every vertex: all main, or none
            _MAIN[graph] = None
            return None
        of = np.empty(graph.n_nodes, dtype=part.dtype)  # each kept vertex's part
        of[graph.kept] = part
        first, last = ch.ends()
        a, b = of[ch.vertex[first]], of[ch.vertex[last]]
        del of
        same = a == b
        inner = np.diff(ch.ptr) - 2
        size = (np.bincount(part, minlength=n_parts)
                + np.bincount(a[same], weights=inner[same], minlength=n_parts))
        big = size >= SMALL_COMPONENT
        main = big[a] & big[b] & (same | (inner == 0))
        _MAIN[graph] = (None if main.all() or not main.any()
                        else (main, int((inner[main] + 1).sum())))
    return _MAIN[graph]


def _starts(graph: RoadGraph, which: str) -> np.ndarray:
    """First positions of all the segments ``which`` ("main": both vertices on the main
    network, or "every"), ascending."""
    start = graph.chains.starts()
    if which == "main":
        found = _main_chains(graph)
        assert found is not None
        start = start[np.repeat(found[0], np.diff(graph.chains.ptr) - 1)]
    return start


def _segment_index(graph: RoadGraph, start: np.ndarray) -> SegmentIndex:
    u, v = graph.chains.vertex[start], graph.chains.vertex[start + 1]
    return SegmentIndex(graph.lon[u], graph.lat[u], graph.lon[v], graph.lat[v], start)


def _whole(graph: RoadGraph, which: str) -> SegmentIndex:
    """The index of all the segments ``which``, built once per graph."""
    built = _INDEX.setdefault(graph, {})
    if which not in built:
        built[which] = _segment_index(graph, _starts(graph, which))
    return built[which]


def _segment_starts(graph: RoadGraph, which: str, pos: np.ndarray) -> np.ndarray:
    """The chain positions ``pos`` that start a segment ``which`` (not their chain's last;
    for "main", on a main chain)."""
    ptr = graph.chains.ptr
    chain = np.searchsorted(ptr, pos, side="right") - 1
    use = pos < ptr[chain + 1] - 1
    if which == "main":
        found = _main_chains(graph)
        assert found is not None
        use &= found[0][chain]
    return pos[use]


def _long(graph: RoadGraph) -> tuple[float, np.ndarray]:
    """The graph's ``L`` (see the module docstring) and the first positions of the segments
    that may be longer (their straight lon/lat line's bound), ascending; found once per
    graph, chunk by chunk of positions (a chain's last position starts no segment)."""
    if graph not in _LONG:
        vertex, ptr = graph.chains.vertex, graph.chains.ptr
        few = min(_LONG_FEW, graph.chains.n_segments // 100)
        # squared degrees a little below each limit's bound (none the bound finds is missed)
        least = [(np.degrees(m / _MAX_CURVATURE_M) * (1.0 - 1e-6)) ** 2 for m in _LONG_LIMITS]
        count = [0] * len(least)
        found: list[list[np.ndarray]] = [[] for _ in least]
        for first in range(0, len(vertex) - 1, _CHUNK):
            v = vertex[first:first + _CHUNK + 1]
            y, x = graph.lat[v], graph.lon[v]
            dy, dx = y[1:] - y[:-1], x[1:] - x[:-1]
            dy *= dy
            dx *= dx
            dy += dx
            ends = ptr[np.searchsorted(ptr, first + 1):
                       np.searchsorted(ptr, first + len(v) - 1, side="right")] - 1 - first
            dy[ends] = 0.0
            maybe = np.flatnonzero(dy > least[0])
            d2 = dy[maybe]
            for k, t in enumerate(least):
                over = maybe[d2 > t] if k else maybe
                count[k] += len(over)
                if count[k] <= few or k == len(least) - 1:
                    found[k].append(over + first)
        k = next((k for k, c in enumerate(count) if c <= few), len(least) - 1)
        pos = np.concatenate(found[k]) if found[k] else np.zeros(0, dtype=np.int64)
        u, w = vertex[pos], vertex[pos + 1]
        bound = _MAX_CURVATURE_M * np.hypot(np.radians(graph.lat[w] - graph.lat[u]),
                                            np.radians(graph.lon[w] - graph.lon[u]))
        _LONG[graph] = (_LONG_LIMITS[k], pos[bound > _LONG_LIMITS[k]])
    return _LONG[graph]


def _in_boxes(graph: RoadGraph, lon: np.ndarray, lat: np.ndarray, radius_m: np.ndarray,
              within: np.ndarray | None = None) -> np.ndarray | None:
    """The chain positions (ascending) whose road vertex lies in a lon/lat box proven to
    hold every point within each point's ``radius_m`` + ``L`` (more exactly: in a
    grid cell one of the boxes covers); None when there is no such box (a point not finite,
    or a box reaching a pole or crossing the antimeridian). ``within``: only these
    positions are tested (those of boxes holding these), else every road vertex is."""
    reach = radius_m + _long(graph)[0] + 1.0
    dphi = np.degrees(reach / _M_MIN)
    top = np.abs(lat) + dphi
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()) or top.max() >= 89.0:
        return None
    dlam = np.degrees(reach / (_A_M * np.cos(np.radians(top))))
    lo_lat, hi_lat, lo_lon, hi_lon = lat - dphi, lat + dphi, lon - dlam, lon + dlam
    if lo_lon.min() < -180.0 or hi_lon.max() > 180.0:
        return None
    lat0, lon0 = float(lo_lat.min()), float(lo_lon.min())
    span = (float(hi_lat.max()) - lat0) * (float(hi_lon.max()) - lon0)
    # cells: a quarter of the least box at most, and no more than there are vertices to test
    # (any cells would do: a vertex in a box falls in one of the cells it covers)
    cells = _GRID_CELLS if within is None else min(_GRID_CELLS, 4 * len(within) + 1024)
    scale = 1.0 / max(float(dphi.min()) / 2.0, float(np.sqrt(span / cells)))
    # a cell is [k, k + 1) of (x - x0) * scale: monotone in x, so a vertex inside a box
    # falls in one of the box's cells (x >= x0 here, where truncation is floor)
    rows = int((float(hi_lat.max()) - lat0) * scale) + 1
    cols = int((float(hi_lon.max()) - lon0) * scale) + 1
    r0, r1 = (((x - lat0) * scale).astype(np.int64) for x in (lo_lat, hi_lat))
    c0, c1 = (((x - lon0) * scale).astype(np.int64) for x in (lo_lon, hi_lon))
    # every box marked at once: +1/-1 at its corners, then sums along both axes
    corners = np.zeros((rows + 1, cols + 1), dtype=np.int32)
    for r, c, sign in ((r0, c0, 1), (r0, c1 + 1, -1), (r1 + 1, c0, -1), (r1 + 1, c1 + 1, 1)):
        np.add.at(corners, (r, c), sign)
    marked = (corners.cumsum(axis=0).cumsum(axis=1) > 0)[:rows, :cols].ravel()
    del corners

    def inside(vertex: np.ndarray | slice) -> np.ndarray:  # whether each is in a marked cell
        y, x = graph.lat[vertex] - lat0, graph.lon[vertex] - lon0
        on = (y >= 0) & (x >= 0) & (y < rows / scale) & (x < cols / scale)
        # the cell of every vertex, in place (|(x - x0) * scale| < 2^31: a cell is at least a
        # kilometre of latitude), clipped where it is off the grid (not `on`)
        row = np.multiply(y, scale, out=y).astype(np.int32)
        col = np.multiply(x, scale, out=x).astype(np.int32)
        np.clip(row, 0, rows - 1, out=row)
        np.clip(col, 0, cols - 1, out=col)
        row *= cols
        row += col
        on &= marked[row]
        return on

    vertex = graph.chains.vertex
    if within is not None:
        return within[inside(vertex[within])]
    near = np.zeros(graph.n_nodes, dtype=bool)  # road vertices in a marked cell
    for first in range(0, graph.n_nodes, _CHUNK):
        near[first:first + _CHUNK] = inside(slice(first, first + _CHUNK))
    return np.concatenate([np.flatnonzero(near[vertex[first:first + _CHUNK]]) + first
                           for first in range(0, len(vertex), _CHUNK)])


def _near_starts(graph: RoadGraph, which: str, pos: np.ndarray | None) -> np.ndarray | None:
    """The segments ``which`` (first positions, ascending) whose first vertex is at one of
    the positions ``pos`` (:func:`_in_boxes`), and every long one; None when there are no
    boxes or that would be most of the segments (the whole index then)."""
    if pos is None:
        return None
    start, long = _segment_starts(graph, which, pos), _long(graph)[1]
    if which == "main":
        long = _segment_starts(graph, which, long)
    at = np.minimum(np.searchsorted(start, long), max(len(start) - 1, 0))
    extra = long[start[at] != long] if len(start) else long
    start = np.sort(np.concatenate([start, extra]), kind="stable")  # two sorted runs
    main = _main_chains(graph) if which == "main" else None
    if len(start) > _LOCAL_SHARE * (main[1] if main else graph.chains.n_segments):
        return None
    return start


def _nearest(graph: RoadGraph, which: str, lon: np.ndarray, lat: np.ndarray,
             radius_m: float, *, beyond: bool, threads: int,
             within: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:meth:`SegmentIndex.nearest` over the segments ``which``, from indexes of the segments
    near the points (see the module docstring); None when ``which`` is "main" and there is
    no main network to prefer. Exact for every point whose nearest is within ``radius_m``;
    ``beyond``: for every point (the others asked again farther out, each as far as the
    segment it got, or 16 times as far without one), else a point whose nearest is farther
    only gets some segment farther than ``radius_m``, or none. ``within``: the positions in
    the points' boxes at ``radius_m`` (:func:`_in_boxes`), when known."""
    if which == "main" and _main_chains(graph) is None:
        return None
    n = len(lon)
    pos, frac, metres = np.full(n, -1, dtype=np.int64), np.zeros(n), np.full(n, np.inf)
    last = max(float(radius_m), PIECE_M)
    todo, reach = np.arange(n), np.full(n, min(_long(graph)[0], last))
    if within is None:
        within = _in_boxes(graph, lon, lat, np.full(n, last))
    while todo.size:
        boxes = _in_boxes(graph, lon[todo], lat[todo], reach[todo],
                          within if reach[todo].max() <= last else None)
        near = _near_starts(graph, which, boxes)
        if near is None:
            index: SegmentIndex | None = _whole(graph, which)
        elif near.size == 0:
            index = None
        else:
            index = _segment_index(graph, near)
        if index is not None:
            pos[todo], frac[todo], metres[todo] = index.nearest(lon[todo], lat[todo],
                                                                threads=threads)
        if near is None:
            break
        todo = todo[~(metres[todo] <= reach[todo])]
        if todo.size and reach[todo].max() < last:  # 4 times as far, up to radius_m
            reach[todo] = np.minimum(4.0 * reach[todo], last)
        elif beyond:  # a point given a segment at m: every segment as near is within m
            reach[todo] = np.minimum(metres[todo], 16.0 * reach[todo])
        else:
            break
    return pos, frac, metres


def snap(graph: RoadGraph, lon, lat, *, offroad_kmh: float = OFFROAD_KMH,
         max_snap_km: float = MAX_SNAP_KM) -> Snapped:
    """Nearest point of a main-network road segment to each point (exact geodesic), else of
    any part within ``max_snap_km`` (``isolated``), and the off-road leg to it."""
    check_leg(offroad_kmh, max_snap_km)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    n = len(lon)
    if n == 0 or graph.chains.n_segments == 0:
        return Snapped(np.full(n, -1, dtype=np.int64), np.full(n, np.inf), np.full(n, np.inf))
    threads = os.cpu_count() or 1
    reach_m = max_snap_km * 1000.0
    isolated = np.zeros(n, dtype=bool)
    # the positions in the points' boxes at max_snap_km: one scan of the vertices for both
    boxes = _in_boxes(graph, lon, lat, np.full(n, max(reach_m, PIECE_M)))
    main = _nearest(graph, "main", lon, lat, reach_m, beyond=False, threads=threads,
                    within=boxes)
    if main is None:
        every = _nearest(graph, "every", lon, lat, reach_m, beyond=True, threads=threads,
                         within=boxes)
        assert every is not None
        pos, frac, leg_m = every
    else:
        pos, frac, leg_m = main
        isolated = leg_m > reach_m
        if isolated.any():  # no main-network road within reach: the nearest of any part
            every = _nearest(graph, "every", lon[isolated], lat[isolated], reach_m,
                             beyond=True, threads=threads, within=boxes)
            assert every is not None
            pos[isolated], frac[isolated], leg_m[isolated] = every
    far = leg_m > reach_m
    pos[far] = -1
    vertex = graph.chains.vertex
    node = np.where(far, -1, np.where(frac <= 0.5, vertex[np.maximum(pos, 0)],
                                      vertex[np.maximum(pos, 0) + 1])).astype(np.int64)
    leg_min = np.where(far, np.inf, leg_m / 1000.0 / offroad_kmh * 60.0)
    return Snapped(node, leg_m, leg_min, isolated & ~far, pos, np.where(far, 0.0, frac))


def place(graph: RoadGraph, pos: np.ndarray, frac: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of the points ``frac`` along the segments starting at ``pos``
    (on the geodesic between the segment's vertices)."""
    import pyproj

    geod = pyproj.Geod(ellps="WGS84")
    u, v = graph.chains.vertex[pos], graph.chains.vertex[pos + 1]
    az, _, length = geod.inv(graph.lon[u], graph.lat[u], graph.lon[v], graph.lat[v])
    x, y, _ = geod.fwd(graph.lon[u], graph.lat[u], az, np.asarray(length) * frac)
    return (np.where(frac <= 0, graph.lon[u], np.where(frac >= 1, graph.lon[v], x)),
            np.where(frac <= 0, graph.lat[u], np.where(frac >= 1, graph.lat[v], y)))
