"""Geodesic (WGS84) distances between polygons and points, fast and exact.

How a distance is decided
-------------------------
* A point inside a polygon or on its boundary is at distance 0 (shapely ``intersects``).
* Otherwise the distance is the geodesic distance on the WGS84 ellipsoid from the point to
  the nearest point of the polygon's boundary. Polygon edges are taken as straight lines in
  longitude/latitude (the GIS convention) and densified to at most ``SEGMENT_DEG`` degrees.
* An edge is measured exactly: ``pyproj.Geod.inv`` gives the distance and azimuth from the
  point to the edge's end vertices, which places them in the point's azimuthal-equidistant
  plane (where distances from the point are true), and the distance to the edge is taken
  there. For edges of ~1 km this agrees with a fine geodesic reference to well under a metre.
* Which (point, vertex) pairs are measured comes from the conformal sphere's proven bounds
  (:mod:`reachplan.geodesy.sphere`, as for :mod:`reachplan.geodesy.points`): a vertex is skipped
  only when the bounds show that no edge touching it can be the nearest, or within the
  radius. Distances and decisions are therefore those of measuring every vertex of every
  polygon from every point.
* When only each polygon's least ``cost[point] + per_m * distance`` matters
  (``polygons_within(cheapest=...)``, a travel rule's way into a district), a pair is left
  unmeasured only when a proven lower bound of the distance it would be given makes it dearer
  than a proven upper bound of that least (:func:`_worth_measuring`).

Longer than 500 lines: one algorithm (exact edge distances, and the bounds that skip
vertices) whose steps share the ``_Boundary`` arrays; the bounds' proofs are in
:mod:`.sphere`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from reachplan.geodesy import sphere
from reachplan.geodesy.points import CentreIndex, Members, distinct

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

__all__ = ["geodesic_m", "nearest_to_polygons", "polygons_within"]

SEGMENT_DEG = 0.01  # densify boundaries: no vertex gap longer than ~1.1 km
# Longest densified edge on the ground: 0.01° of the longest degree (of latitude, at the
# poles: 111.7 km) is 1,117 m.
_EDGE_M = 1_120.0
# (vertex, point) pairs up to which nearest_to_polygons compares all of them (no KD-tree)
_BRUTE_PAIRS = 4_000_000
# (vertex, point) pairs the KD-tree's candidates may hold before each vertex's exact nearest
# point takes over (centres far away, where the sphere's bounds are loose)
_MAX_TREE_PAIRS = 2_000_000
# a²/b of WGS84, its largest radius of curvature (at the poles): an edge straight in lon/lat is
# at most this many metres per radian of sqrt(Δφ² + Δλ²) long (ds² = M²dφ² + N²cos²φ dλ²)
_MAX_CURVATURE_M = 6_399_594.0
_TOL_ARC = 1e-7  # slack on an arc from a dot product (0.6 m), see _all_pairs_candidates
_POINT_CHUNK = 20_000  # points per KD-tree pass in polygons_within (bounds memory)


def geodesic_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic WGS84 distance in metres (vectorised ``pyproj.Geod.inv``, in its argument
    order: longitude first)."""
    return np.asarray(sphere.GEOD.inv(lon1, lat1, lon2, lat2)[2], dtype=float)


@dataclass(frozen=True)
class _Coords:
    """Coordinates with their conformal latitude and unit vector on the conformal sphere."""

    lat: np.ndarray
    lon: np.ndarray
    chi: np.ndarray
    xyz: np.ndarray

    @classmethod
    def of(cls, lat: np.ndarray, lon: np.ndarray) -> _Coords:
        chi = sphere.conformal(lat)
        return cls(lat, lon, chi, sphere.unit_vectors(chi, lon))

    def take(self, which: np.ndarray) -> _Coords:
        return _Coords(self.lat[which], self.lon[which], self.chi[which], self.xyz[which])


@dataclass(frozen=True)
class _Boundary(_Coords):
    """Densified boundary vertices of a set of polygons."""

    owner: np.ndarray  # polygon position of each vertex
    edge: np.ndarray  # True where vertex k and k+1 are an edge of the same ring

    @classmethod
    def of_polygons(cls, polygons: np.ndarray) -> _Boundary:
        parts, part_owner = shapely.get_parts(polygons, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        rings = shapely.segmentize(rings, SEGMENT_DEG)
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        edge = np.zeros(len(coords), dtype=bool)
        edge[:-1] = ring_of[:-1] == ring_of[1:]
        at = _Coords.of(coords[:, 1], coords[:, 0])
        return cls(at.lat, at.lon, at.chi, at.xyz, part_owner[ring_part[ring_of]], edge)


def _points(pts: np.ndarray) -> _Coords:
    return _Coords.of(shapely.get_y(pts), shapely.get_x(pts))


def _edge_m(distance_m: np.ndarray | float) -> np.ndarray:
    """Longest image of a densified edge in the azimuthal-equidistant plane of a point at most
    ``distance_m`` from one of its ends.

    That plane keeps distances from the point and stretches lengths across the line of sight
    by s / m12 (m12 the reduced length): θ / sin θ on a sphere of the polar radius, at angular
    distance θ, and 5 % covers the ellipsoid. Near the antipode (θ ≥ 3) the plane tears and
    the bound is infinite. A point's distance to an edge is at least its distance to either
    end minus this; the nearest point of an edge is within half of it of one end.
    """
    theta = (np.asarray(distance_m, dtype=float) + 2 * _EDGE_M) / 6_356_752.0 + 1e-9
    clipped = np.minimum(theta, 3.0)
    return np.where(theta < 3.0, _EDGE_M * 1.05 * clipped / np.sin(clipped), np.inf)


def _inside_pairs(polygons: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(polygon, point) positions where the point is inside or on the boundary."""
    tree = shapely.STRtree(points)
    qi, pi = tree.query(polygons, predicate="intersects")
    order = np.argsort(qi * len(points) + pi, kind="stable")
    return qi[order], pi[order]


def _edge_distances(boundary: _Boundary, points: _Coords, point: np.ndarray,
                    vertex: np.ndarray) -> np.ndarray:
    """Exact distance (m) from each ``point`` to the edges touching its ``vertex``.

    Each (point, vertex) is measured once with ``Geod.inv``, even when it is shared by
    neighbouring candidates.
    """
    n, m = len(boundary.lon), len(vertex)
    prev_ok = (vertex > 0) & boundary.edge[np.maximum(vertex - 1, 0)]
    next_ok = boundary.edge[vertex]
    all_pt = np.concatenate([point, point[prev_ok], point[next_ok]])
    all_v = np.concatenate([vertex, vertex[prev_ok] - 1, vertex[next_ok] + 1])
    keys, inverse = np.unique(all_pt.astype(np.int64) * n + all_v, return_inverse=True)
    up, uv = keys // n, keys % n
    az, _, d = sphere.GEOD.inv(points.lon[up], points.lat[up], boundary.lon[uv],
                               boundary.lat[uv])
    rad = np.radians(az)
    x, y = (d * np.sin(rad))[inverse], (d * np.cos(rad))[inverse]
    dist = np.asarray(d, dtype=float)[inverse]
    best = dist[:m].copy()
    offset = m
    for ok, step in ((prev_ok, -1), (next_ok, 1)):
        idx = np.flatnonzero(ok)
        other = slice(offset, offset + len(idx))
        offset += len(idx)
        ax, ay = x[idx], y[idx]
        dx, dy = x[other] - ax, y[other] - ay
        length2 = dx * dx + dy * dy
        t = np.where(length2 > 0, -(ax * dx + ay * dy) / np.where(length2 > 0, length2, 1), 0)
        t = np.clip(t, 0.0, 1.0)
        planar = np.hypot(ax + t * dx, ay + t * dy)
        # The azimuthal frame tears near the point's antipode (both ends ~20,000 km away in
        # different directions: the chord between them passes near the point). Every point of
        # the edge is within its length of an end, so no point of it is nearer than the nearer
        # end minus that length: the frame's answer is held to that proven floor.
        a, b = vertex[idx], vertex[idx] + step
        span = _MAX_CURVATURE_M * np.hypot(np.radians(boundary.lat[b] - boundary.lat[a]),
                                           np.radians(boundary.lon[b] - boundary.lon[a]))
        floor = np.minimum(dist[idx], dist[other]) - span
        best[idx] = np.minimum(best[idx], np.maximum(planar, floor))
    return best


def _pair_distances(boundary: _Boundary, points: _Coords, pair_poly: np.ndarray,
                    pair_pt: np.ndarray, vertex_start: np.ndarray, vertex_count: np.ndarray, *,
                    local: bool) -> np.ndarray:
    """Exact boundary distance (m) for each (polygon, point) pair.

    Sphere arcs to every vertex of the polygon bound each vertex's distance; the edges of the
    vertices the bounds cannot rule out are measured exactly. ``local``: bounds over the
    latitudes the pair can reach (the scale tables), else anywhere on Earth (no tables: small
    inputs start faster).
    """
    if len(pair_poly) == 0:
        return np.zeros(0)
    counts = vertex_count[pair_poly]
    pair_of = np.repeat(np.arange(len(pair_poly)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    vertex = vertex_start[pair_poly][pair_of] + offsets
    chord = np.linalg.norm(boundary.xyz[vertex] - points.xyz[pair_pt][pair_of], axis=1)
    best = np.full(len(pair_poly), np.inf)
    np.minimum.at(best, pair_of, chord)
    theta = sphere.arc(best) + sphere.ABS_TOL_RAD
    chi = points.chi[pair_pt]
    # the nearest vertex is at most `upper` away (along the great circle, within θ of the
    # point); a vertex whose edges hold the distance is within one edge image of that
    k_max = sphere.scale_bounds(chi, theta)[1] if local else sphere.K_MAX
    upper = theta * k_max + sphere.PYPROJ_TOL_M
    far = upper + _edge_m(upper)
    k_min = sphere.scale_bounds(chi, sphere.reach(far))[0] if local else sphere.K_MIN
    near = chord <= sphere.chord(sphere.reach(far, k_min))[pair_of]
    d = _edge_distances(boundary, points, pair_pt[pair_of[near]], vertex[near])
    out = np.full(len(pair_poly), np.inf)
    np.minimum.at(out, pair_of[near], d)
    return out


def _vertex_ranges(boundary: _Boundary, n_polygons: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of polygon i are ``start[i] : start[i] + count[i]`` (owner is sorted)."""
    count = np.bincount(boundary.owner, minlength=n_polygons)
    start = np.cumsum(count) - count
    return start, count


def _prepare(polygons, points):
    polys = np.asarray(getattr(polygons, "array", polygons), dtype=object)
    pts = np.asarray(getattr(points, "array", points), dtype=object)
    return polys, pts


def nearest_to_polygons(polygons, points, *, inside: tuple[np.ndarray, np.ndarray] | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Nearest point to each polygon, and its geodesic distance.

    Parameters
    ----------
    polygons
        GeoSeries or array of (Multi)Polygons in EPSG:4326.
    points
        GeoSeries or array of Points in EPSG:4326.
    inside
        The (polygon, point) pairs of ``polygons_within(polygons, points, 0)``, when the
        caller has them already (saves the point-in-polygon pass).

    Returns
    -------
    index, distance_m
        Position of the nearest point for each polygon (the first by position among those
        inside, which are at distance 0; ties broken by position) and the distance in metres;
        ``-1`` and ``inf`` when there are no points.
    """
    polys, pts = _prepare(polygons, points)
    one = _Distinct.of(pts)
    if one is None:
        return _nearest(polys, pts, inside)
    # points sharing a coordinate are measured once: the lowest position answers for them
    pairs = None if inside is None else one.pairs(*inside)
    index, dist = _nearest(polys, pts[one.first], pairs)
    return np.where(index >= 0, one.first[np.maximum(index, 0)], -1), dist


def _nearest(polys: np.ndarray, pts: np.ndarray,
             inside: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    n = len(polys)
    index = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    if n == 0 or len(pts) == 0:
        return index, dist
    qi, pi = _inside_pairs(polys, pts) if inside is None else inside
    first = np.unique(qi, return_index=True)
    index[first[0]] = pi[first[1]]
    dist[first[0]] = 0.0
    todo = np.flatnonzero(index < 0)
    if len(todo) == 0:
        return index, dist

    boundary = _Boundary.of_polygons(polys[todo])
    points = _points(pts)
    small = len(boundary.lon) * len(pts) <= _BRUTE_PAIRS
    if small:
        pair_poly, pair_pt = _all_pairs_candidates(boundary, points, len(todo))
    else:
        pair_poly, pair_pt = _tree_candidates(boundary, points, len(todo))
    # 1-D keys: np.unique(axis=0) on the row pairs sorts many times slower
    keys = np.unique(pair_poly.astype(np.int64) * len(pts) + pair_pt)
    pairs = np.column_stack([keys // len(pts), keys % len(pts)])
    start, count = _vertex_ranges(boundary, len(todo))
    d = _pair_distances(boundary, points, pairs[:, 0], pairs[:, 1], start, count,
                        local=not small)
    order = np.lexsort((pairs[:, 1], d, pairs[:, 0]))  # by polygon, distance, point position
    pairs, d = pairs[order], d[order]
    head = np.unique(pairs[:, 0], return_index=True)[1]
    index[todo[pairs[head, 0]]] = pairs[head, 1]
    dist[todo[pairs[head, 0]]] = d[head]
    return index, dist


def _polygon_min(boundary: _Boundary, per_vertex: np.ndarray, n_polygons: int) -> np.ndarray:
    """The least of ``per_vertex`` over each polygon's vertices (inf for none)."""
    start, count = _vertex_ranges(boundary, n_polygons)
    out = np.full(n_polygons, np.inf)
    some = count > 0  # a polygon's vertices are contiguous: one reduceat, not ufunc.at
    if some.any():
        out[some] = np.minimum.reduceat(per_vertex, start[some])
    return out


def _nearest_within(best_m: np.ndarray) -> np.ndarray:
    """Given a polygon's vertex at most ``best_m`` from some point, the distance from the
    polygon's vertices within which every point that could be its nearest lies: the nearest
    point of an edge is within half its image of one of its ends."""
    return best_m + _edge_m(best_m) / 2


def _all_pairs_candidates(boundary: _Boundary, points: _Coords, n_polygons: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """(polygon, point) pairs that can hold each polygon's nearest point, every vertex against
    every point with the sphere's bounds anywhere on Earth: for small inputs, without
    importing scipy.spatial (a third of a small command's run) or building the scale tables."""
    # squared chords from dot products of unit vectors: one matrix product. They are off by
    # under 1e-15, so an arc by under 4e-8 rad; widening arcs by _TOL_ARC and the squared
    # chords by 1e-14 keeps every pair the exact chords keep (and a few more)
    chord2 = boundary.xyz @ points.xyz.T  # 2 - 2 dot, in place: each temporary of this
    chord2 *= -2.0                          # size cost more in page faults than the product
    chord2 += 2.0
    np.maximum(chord2, 0.0, out=chord2)
    theta = sphere.arc(np.sqrt(chord2.min(axis=1))) + _TOL_ARC
    best = _polygon_min(boundary, theta, n_polygons) * sphere.K_MAX + sphere.PYPROJ_TOL_M
    far = _nearest_within(best)[boundary.owner]
    reach2 = sphere.chord(sphere.reach(far) + _TOL_ARC) ** 2 + 1e-14
    # the flat positions, then rows and columns: np.nonzero on the 2-D mask took 2-15x longer
    vertex, point = np.divmod(np.flatnonzero(chord2 <= reach2[:, None]), chord2.shape[1])
    return boundary.owner[vertex], point


def _tree_candidates(boundary: _Boundary, points: _Coords, n_polygons: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(polygon, point) pairs that can hold each polygon's nearest point, from a KD-tree of
    the points with the sphere's bounds over the latitudes each polygon reaches (or each
    vertex's exact nearest point when those hold too many pairs)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points.xyz)
    k = min(4, len(points.xyz))
    chord, near = tree.query(boundary.xyz, k=k)
    chord, near = chord.reshape(len(chord), k), near.reshape(len(near), k)
    # per polygon: its least arc to a point, and the band of latitudes its vertices span
    theta = _polygon_min(boundary, sphere.arc(chord[:, 0]), n_polygons) + sphere.ABS_TOL_RAD
    south = _polygon_min(boundary, boundary.chi, n_polygons)
    half = np.maximum((-_polygon_min(boundary, -boundary.chi, n_polygons) - south) / 2, 0.0)
    middle = np.where(np.isfinite(south), south + half, 0.0)
    # the great circle from that vertex to its point stays within θ of the vertex
    best = theta * sphere.scale_bounds(middle, half + theta)[1] + sphere.PYPROJ_TOL_M
    far = _nearest_within(best)
    k_min = sphere.scale_bounds(middle, half + sphere.reach(far))[0]
    # no point beyond this arc from a vertex can be the nearest
    reach = sphere.chord(sphere.reach(far, k_min))[boundary.owner]
    keep = chord <= reach[:, None]
    pair_poly = np.repeat(boundary.owner, k)[keep.ravel()]
    pair_pt = near.ravel()[keep.ravel()]
    full = np.flatnonzero(keep[:, -1])  # k neighbours all inside the limit: ask for all
    if len(full) and k < len(points.xyz):
        if tree.query_ball_point(boundary.xyz[full], reach[full], return_length=True).sum() \
                > _MAX_TREE_PAIRS:
            # far points: the bounds' margin holds too many; the exact distances do not
            return _exact_candidates(boundary, points, n_polygons)
        more = tree.query_ball_point(boundary.xyz[full], reach[full])
        extra_pt = np.concatenate([np.asarray(m, dtype=np.int64) for m in more])
        extra_poly = np.repeat(boundary.owner[full], [len(m) for m in more])
        pair_poly = np.concatenate([pair_poly, extra_poly])
        pair_pt = np.concatenate([pair_pt, extra_pt])
    return pair_poly, pair_pt


def _exact_candidates(boundary: _Boundary, points: _Coords, n_polygons: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(polygon, point) pairs that can hold each polygon's nearest point, found with the exact
    nearest point of every boundary vertex (:class:`~reachplan.geodesy.points.CentreIndex`).

    The work stays bounded whatever the distance: points on another continent cost about what
    near ones do.
    """
    centres = CentreIndex(points.lat, points.lon)
    threads = os.cpu_count() or 1
    # neighbours share their border's vertices: ask once per distinct coordinate
    first, slot = distinct(boundary.lat, boundary.lon)
    u_near, u_dist = centres.nearest(boundary.lat[first], boundary.lon[first], threads=threads)
    v_near, v_dist = u_near[slot], u_dist[slot]
    radius = _nearest_within(_polygon_min(boundary, v_dist, n_polygons))[boundary.owner]
    active = np.flatnonzero(v_dist <= radius)
    vp, cand, _ = centres.within(boundary.lat[active], boundary.lon[active], radius[active],
                                 threads=threads)
    return (np.concatenate([boundary.owner, boundary.owner[active][vp]]),
            np.concatenate([v_near, cand]))


@dataclass(frozen=True)
class _Distinct:
    """Points sharing a coordinate, measured once (thousands of centres at one place then
    cost what one does)."""

    first: np.ndarray  # lowest position of each distinct coordinate, ascending
    rank: np.ndarray  # for every point, its coordinate's rank among them
    members: Members

    @classmethod
    def of(cls, pts: np.ndarray) -> _Distinct | None:
        """The distinct coordinates of ``pts``, or None when they are all distinct."""
        if len(pts) < 2:
            return None
        xy = shapely.get_coordinates(pts)
        if len(xy) != len(pts):  # empty points: leave them to the callers' own checks
            return None
        first, rank = distinct(xy[:, 1], xy[:, 0])
        if first.size == len(pts):
            return None
        return cls(first, rank, Members(rank, first.size))

    def pairs(self, poly: np.ndarray, pt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(polygon, point) pairs in terms of distinct coordinates, sorted, without repeats."""
        keys = np.unique(poly.astype(np.int64) * self.first.size + self.rank[pt])
        return keys // self.first.size, keys % self.first.size


@dataclass(frozen=True)
class _Near:
    """The (point, vertex) entries that can hold the distance of each (polygon, point) pair
    within a radius, grouped by pair (``pair_of``); chords on the conformal sphere."""

    pairs: np.ndarray  # polygon * n_points + point, sorted
    point: np.ndarray  # per entry
    vertex: np.ndarray
    chord: np.ndarray
    pair_of: np.ndarray
    k_min: np.ndarray  # per pair: bounds of the scale over every path that matters
    k_max: np.ndarray
    upper: np.ndarray  # per pair: its nearest vertex is at most this far (m)


def _near_entries(boundary: _Boundary, vertex_tree: cKDTree, points: _Coords,
                  radius_m: float, home: np.ndarray,
                  within: tuple[np.ndarray, np.ndarray] | None = None) -> _Near:
    """The KD-tree's (point, vertex) pairs that the sphere's bounds cannot rule out, grouped
    by (polygon, point). ``home`` is a polygon holding each point (-1 if none): its vertices
    are skipped, as the pair is at 0 already (they were two fifths of the pairs on India x
    PIN codes). ``within=(cost, best)``: only pairs whose point's cost is at most the
    polygon's best (with the margin of :func:`_worth_measuring`)."""
    from scipy.spatial import cKDTree

    edge = float(_edge_m(radius_m))
    # a vertex farther than this from the point touches no edge within the radius
    reach = sphere.reach(radius_m + edge)
    sparse = cKDTree(points.xyz).sparse_distance_matrix(
        vertex_tree, float(sphere.chord(reach)), output_type="ndarray")
    point, vertex, chord = sparse["i"], sparse["j"], sparse["v"]
    owner = boundary.owner[vertex]
    away = owner != home[point]
    if within is not None:
        away &= within[0][point] <= within[1][owner] * (1 + 1e-9) + 1e-9
    point, vertex, chord, owner = point[away], vertex[away], chord[away], owner[away]
    n = len(points.lat)
    key = owner.astype(np.int64) * n + point
    order = np.argsort(key, kind="stable")
    key, point, vertex, chord = key[order], point[order], vertex[order], chord[order]
    pairs, start = np.unique(key, return_index=True)
    # every arc here is within `reach`, so are the paths of every distance that matters
    k_min, k_max = sphere.scale_bounds(points.chi, reach)
    pair_pt = pairs % n
    # per pair, the bound on its best vertex's distance; the other vertices are compared in
    # chords (monotonic in the arc), so that only one arcsine per pair is taken
    theta = (sphere.arc(np.minimum.reduceat(chord, start)) if len(chord) else np.zeros(0)) \
        + sphere.ABS_TOL_RAD
    upper = theta * k_max[pair_pt] + sphere.PYPROJ_TOL_M
    count = np.diff(np.append(start, len(key)))
    pair_of = np.repeat(np.arange(len(pairs)), count)
    return _Near(pairs, point, vertex, chord, pair_of, k_min[pair_pt], k_max[pair_pt], upper)


def _measure(boundary: _Boundary, points: _Coords, near: _Near, radius_m: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Exact distance (m) of each pair of ``near``, measuring only the vertices the bounds
    keep near its closest one; the pairs (keys) within ``radius_m`` and their distances."""
    edge = float(_edge_m(radius_m))
    far = np.minimum(near.upper, radius_m) + edge
    keep = near.chord <= sphere.chord(sphere.reach(far, near.k_min))[near.pair_of]
    d = _edge_distances(boundary, points, near.point[keep], near.vertex[keep])
    dist = np.full(len(near.pairs), np.inf)
    np.minimum.at(dist, near.pair_of[keep], d)
    ok = dist <= radius_m
    return near.pairs[ok], dist[ok]


def _lower_bounds(boundary: _Boundary, points: _Coords, near: _Near) -> np.ndarray:
    """Per pair of ``near``, a lower bound (m) of the distance :func:`_measure` gives it,
    without measuring: for an edge AB whose ends are dA and dB from the point, every point
    of the edge's image in the point's azimuthal-equidistant plane (where
    :func:`_edge_distances` measures) is at least (dA + dB - E) / 2 from it, E bounding that
    image's length (:func:`_edge_m`), and so is the floor it applies; dA and dB are bounded
    below by the sphere (arc times the least scale). A pair whose nearest edge has no end
    among its entries is farther than the radius: :func:`_measure` drops it anyway."""
    if len(near.pairs) == 0:
        return np.zeros(0)
    k_min = near.k_min[near.pair_of]
    here = np.maximum(sphere.arc(near.chord) - sphere.ABS_TOL_RAD, 0.0) * k_min \
        - sphere.PYPROJ_TOL_M
    # the image bound holds for a point within this of an end: the nearer end's upper bound
    image = _edge_m((sphere.arc(near.chord) + sphere.ABS_TOL_RAD) * near.k_max[near.pair_of]
                    + sphere.PYPROJ_TOL_M)
    best = here.copy()
    last = len(boundary.lon) - 1
    for ok, other in ((boundary.edge[np.maximum(near.vertex - 1, 0)] & (near.vertex > 0),
                       np.maximum(near.vertex - 1, 0)),
                      (boundary.edge[near.vertex], np.minimum(near.vertex + 1, last))):
        chord = np.linalg.norm(boundary.xyz[other] - points.xyz[near.point], axis=1)
        there = np.maximum(sphere.arc(chord) - sphere.ABS_TOL_RAD, 0.0) * k_min \
            - sphere.PYPROJ_TOL_M
        best = np.where(ok, np.minimum(best, (here + there - image) / 2), best)
    out = np.full(len(near.pairs), np.inf)
    np.minimum.at(out, near.pair_of, best)
    return np.maximum(out, 0.0)


def _near_boundary(boundary: _Boundary, vertex_tree: cKDTree, points: _Coords,
                   radius_m: float, home: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(polygon, point, distance m) where a point is within ``radius_m`` of a boundary.

    The KD-tree keeps every (point, vertex) pair the sphere's bounds cannot rule out; per
    (polygon, point) only the vertices the bounds keep near the closest one are then measured
    exactly (:func:`_near_entries`, :func:`_measure`).
    """
    n = len(points.lat)
    keys, dist = _measure(boundary, points,
                          _near_entries(boundary, vertex_tree, points, radius_m, home), radius_m)
    return keys // n, keys % n, dist


def polygons_within(polygons, points, radius_m: float, *,
                    inside: tuple[np.ndarray, np.ndarray] | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    cheapest: tuple[np.ndarray, float] | None = None,
                    least: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (polygon, point) pair within ``radius_m`` metres, geodesic.

    ``inside`` gives the (polygon, point) pairs of points inside or on a polygon when the
    caller has them already (from ``polygons_within(polygons, points, 0)``).
    ``progress(done, total)``: distinct points measured near the boundaries so far.
    ``cheapest=(cost, per_m)``: only the pairs that can give a polygon its least
    ``cost[point] + per_m * distance`` (``cost`` per point, ``inf`` for none; ``per_m`` > 0)
    are needed. Every pair inside is still listed, and of the others every pair whose sum can
    equal that least; the others, which proven lower bounds of their distances rule out
    (:func:`_lower_bounds`), are not measured. The distances listed are those listed without
    it. ``least`` (per polygon, with ``cheapest``): the least cost of points inside it that
    are not among ``points`` (``inf`` for none), e.g. points known to be far from every
    boundary; pairs are then left out as they would be with those points given too.

    Returns
    -------
    polygon_index, point_index, distance_m
        Positions and distances (0 for a point inside or on the boundary), sorted by
        polygon then point.
    """
    polys, pts = _prepare(polygons, points)
    if radius_m < 0 or not np.isfinite(radius_m):
        raise ValueError(f"radius must be a finite distance >= 0, got {radius_m}")
    if cheapest is not None and not (len(cheapest[0]) == len(pts) and cheapest[1] > 0):
        raise ValueError("cheapest: one cost per point and a cost per metre > 0")
    one = _Distinct.of(pts)
    if one is None:
        return _within(polys, pts, radius_m, inside, progress, cheapest, least)
    # points sharing a coordinate are measured once, then every one of them is listed; the
    # least cost among them stands for them (a pair of each is kept if that one is)
    pairs = None if inside is None else one.pairs(*inside)
    cheap = None
    if cheapest is not None:
        cheap = (np.full(one.first.size, np.inf), cheapest[1])
        np.minimum.at(cheap[0], one.rank, np.asarray(cheapest[0], dtype=float))
    poly, entry, dist = _within(polys, pts[one.first], radius_m, pairs, progress, cheap,
                                least)
    counts, position = one.members.expand(entry)
    poly, dist = np.repeat(poly, counts), np.repeat(dist, counts)
    order = np.lexsort((position, poly))
    return poly[order], position[order], dist[order]


def _in_sorted(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Which ``keys`` are in ``sorted_keys`` (binary search; ``np.isin`` re-sorts its second
    array on every call)."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys


def _within(polys: np.ndarray, pts: np.ndarray, radius_m: float,
            inside: tuple[np.ndarray, np.ndarray] | None,
            progress: Callable[[int, int], None] | None = None,
            cheapest: tuple[np.ndarray, float] | None = None,
            least: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    empty = np.zeros(0, dtype=np.int64)
    if len(polys) == 0 or len(pts) == 0:
        return empty, empty, np.zeros(0)
    qi, pi = _inside_pairs(polys, pts) if inside is None else inside
    out_poly, out_pt, out_d = [qi], [pi], [np.zeros(len(qi))]
    if radius_m > 0:
        from scipy.spatial import cKDTree

        boundary = _Boundary.of_polygons(polys)
        vertex_tree = cKDTree(boundary.xyz)
        points = _points(pts)
        # sorted once: np.isin against it re-sorted it for every chunk (~0.7 s a chunk for
        # a million road vertices, most of the time of a travel rule's district access)
        inside_keys = np.sort(qi.astype(np.int64) * len(pts) + pi)
        home = np.full(len(pts), -1, dtype=np.int64)
        home[pi] = qi
        todo = np.arange(len(pts))
        wanted = None
        if cheapest is not None:
            todo, wanted = _worth_measuring(boundary, vertex_tree, points, radius_m, home,
                                            (qi, pi), inside_keys, len(polys), cheapest,
                                            progress, least)
            progress = None  # the few pairs left take a fraction of that
        for first in range(0, len(todo), _POINT_CHUNK):
            chunk = todo[first:first + _POINT_CHUNK]
            near = _near_entries(boundary, vertex_tree, points.take(chunk), radius_m,
                                 home[chunk])
            if wanted is not None:  # the pairs the bounds could not rule out
                keys = near.pairs // len(chunk) * len(pts) + chunk[near.pairs % len(chunk)]
                near = _only(near, _in_sorted(keys, wanted))
            found, dist = _measure(boundary, points.take(chunk), near, radius_m)
            poly, pt = found // len(chunk), chunk[found % len(chunk)]
            new = ~_in_sorted(poly * len(pts) + pt, inside_keys)
            out_poly.append(poly[new])
            out_pt.append(pt[new])
            out_d.append(dist[new])
            if progress is not None:
                progress(min(first + _POINT_CHUNK, len(todo)), len(todo))
    poly_idx = np.concatenate(out_poly).astype(np.int64)
    pt_idx = np.concatenate(out_pt).astype(np.int64)
    dist = np.concatenate(out_d)
    order = np.lexsort((pt_idx, poly_idx))
    return poly_idx[order], pt_idx[order], dist[order]


def _only(near: _Near, keep: np.ndarray) -> _Near:
    """The pairs of ``near`` where ``keep`` (per pair), with their entries."""
    entry = keep[near.pair_of]
    renumber = np.cumsum(keep) - 1
    return _Near(near.pairs[keep], near.point[entry], near.vertex[entry], near.chord[entry],
                 renumber[near.pair_of[entry]], near.k_min[keep], near.k_max[keep],
                 near.upper[keep])


def _worth_measuring(boundary: _Boundary, vertex_tree: cKDTree, points: _Coords,
                     radius_m: float, home: np.ndarray, inside: tuple[np.ndarray, np.ndarray],
                     inside_keys: np.ndarray, n_polygons: int,
                     cheapest: tuple[np.ndarray, float],
                     progress: Callable[[int, int], None] | None,
                     least: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The points, and the (polygon, point) keys (sorted), whose pair can give its polygon
    the least ``cost + per_m * distance``.

    A polygon's least is at most its points inside's least cost, and at most ``cost + per_m
    * upper`` for a pair whose nearest vertex is at most ``upper`` <= radius away (the
    distance measured is at most that vertex's). A pair whose ``cost + per_m * lower`` (the
    lower bound of its distance) exceeds that is not the least; the margin (1e-9 relative)
    covers the rounding of the caller's own sums. Points of infinite cost are never needed,
    nor those dearer than every polygon's least from its points inside.
    ``progress(done, total)``: points decided so far (bounded, or left out at once).
    """
    cost = np.asarray(cheapest[0], dtype=float)
    per_m = float(cheapest[1])
    n = len(points.lat)
    best = np.full(n_polygons, np.inf) if least is None else np.array(least, dtype=float)
    np.minimum.at(best, inside[0], cost[inside[1]])
    # no pair of a point dearer than every polygon's least so far can be a least
    finite = np.flatnonzero(np.isfinite(cost) & (cost <= best.max() * (1 + 1e-9) + 1e-9))
    found_poly, found_pt, found_low = [], [], []
    for first in range(0, len(finite), _POINT_CHUNK):
        chunk = finite[first:first + _POINT_CHUNK]
        near = _near_entries(boundary, vertex_tree, points.take(chunk), radius_m, home[chunk],
                             (cost[chunk], best))
        poly, pt = near.pairs // len(chunk), chunk[near.pairs % len(chunk)]
        sure = near.upper <= radius_m
        np.minimum.at(best, poly[sure], cost[pt[sure]] + per_m * near.upper[sure])
        low = cost[pt] + per_m * _lower_bounds(boundary, points.take(chunk), near)
        # pairs that cannot beat their polygon's points inside are dropped at once
        can = low <= best[poly] * (1 + 1e-9) + 1e-9
        found_poly.append(poly[can])
        found_pt.append(pt[can])
        found_low.append(low[can])
        if progress is not None:  # the points left out are decided already
            progress(n - len(finite) + first + len(chunk), n)
    if progress is not None and len(finite) == 0:
        progress(n, n)
    poly = np.concatenate(found_poly).astype(np.int64) if found_poly else np.zeros(0, np.int64)
    pt = np.concatenate(found_pt).astype(np.int64) if found_pt else np.zeros(0, np.int64)
    low = np.concatenate(found_low) if found_low else np.zeros(0)
    can = low <= best[poly] * (1 + 1e-9) + 1e-9
    keys = poly[can] * n + pt[can]
    keys = np.unique(keys[~_in_sorted(keys, inside_keys)])
    return np.unique(keys % n), keys
