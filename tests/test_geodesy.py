"""Geodesic distances against independent references (pyproj between two points, a
brute-force scan of a densely sampled boundary, and a scan of every vertex without any
candidate filter)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import shapely
from _reference import GEOD, brute_distance
from hypothesis import given, settings
from hypothesis import strategies as st

from reachplan.geodesy import nearest_to_polygons, polygons, polygons_within, sphere


def test_point_inside_and_on_boundary_is_zero():
    square = shapely.box(0, 0, 1, 1)
    idx, d = nearest_to_polygons([square], [shapely.Point(5, 5), shapely.Point(1, 0.5)])
    assert idx.tolist() == [1] and d.tolist() == [0.0]


def test_meridian_distance_matches_pyproj_reference():
    # 0.5 degree of meridian south of the square's corner (2, 1)
    idx, d = nearest_to_polygons([shapely.box(2, 1, 3, 2)], [shapely.Point(2.0, 0.5)])
    assert d[0] == pytest.approx(55287.237, rel=1e-4)


def test_across_the_antimeridian():
    east_of_line = shapely.box(-180, -17, -179, -16)
    centre = shapely.Point(179.5, -16.5)  # 0.5 degree west of the line, at lat -16.5
    d = nearest_to_polygons([east_of_line], [centre])[1]
    assert d[0] == pytest.approx(GEOD.inv(179.5, -16.5, -180, -16.5)[2], rel=1e-3)
    assert d[0] == pytest.approx(53382, rel=1e-3)


def test_across_the_pole():
    # a centre at lat 89.5 on the opposite meridian: the geodesic crosses the pole
    polar = shapely.Polygon([(0, 88), (10, 88), (10, 89), (0, 89)])
    d = nearest_to_polygons([polar], [shapely.Point(-175, 89.5)])[1]
    assert d[0] == pytest.approx(GEOD.inv(-175, 89.5, 5, 89)[2], rel=1e-3)


def test_no_points():
    idx, d = nearest_to_polygons([shapely.box(0, 0, 1, 1)], [])
    assert idx.tolist() == [-1] and np.isinf(d).all()


def test_hole_counts_as_outside():
    ring = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    d = nearest_to_polygons([ring], [shapely.Point(2, 2)])[1]
    assert d[0] == pytest.approx(brute_distance(ring, shapely.Point(2, 2)), rel=1e-4)
    assert d[0] > 100_000


lon = st.floats(-20, 20)
lat = st.floats(-60, 60)


@pytest.mark.parametrize("path", ["all pairs", "tree", "exact bounds"])
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(lon, lat), min_size=1, max_size=6), st.integers(0, 10_000))
def test_nearest_agrees_with_brute_force(path, centres, seed):
    """Every candidate filter (all vertex-point pairs for small inputs, the KD-tree and the
    sphere's margin, the exact bounds that take over when the margin would hold too many
    pairs) agrees with the brute-force scan."""
    with _filter(path):
        _nearest_agrees(centres, seed)


@contextlib.contextmanager
def _filter(path):
    """Force one of nearest_to_polygons' candidate filters."""
    saved = polygons._BRUTE_PAIRS, polygons._MAX_TREE_PAIRS
    polygons._BRUTE_PAIRS = 10**12 if path == "all pairs" else -1
    polygons._MAX_TREE_PAIRS = -1 if path == "exact bounds" else saved[1]
    try:
        yield
    finally:
        polygons._BRUTE_PAIRS, polygons._MAX_TREE_PAIRS = saved


def _adversarial_case():
    """Districts with a hole, across the antimeridian and near the pole; centres on vertices,
    on edges, inside holes, at equal distances from two districts, and 50 random ones."""
    rng = np.random.default_rng(3)
    holed = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    polys = [holed, shapely.box(179, -17, 180, -16), shapely.box(-180, -17, -179, -16),
             shapely.Polygon([(0, 85), (10, 85), (10, 87), (0, 87)]), shapely.box(6, 0, 7, 1)]
    fixed = [(2, 2), (1, 1), (3, 2), (5, 0.5), (179.5, -18), (-179.5, -18), (180, -20),
             (5, 88), (-175, 86), (4, 4), (7.5, 0.5), (5.5, 0.5), (1.5, 1.5)]
    pts = fixed + list(zip(rng.uniform(-30, 30, 50), rng.uniform(-40, 40, 50), strict=True))
    return polys, [shapely.Point(p) for p in pts]


def test_all_pairs_and_tree_filters_give_identical_answers():
    """The filter that compares every vertex with every point (small inputs, no scipy import)
    and the KD-tree give the same nearest centre and the same metres, ties included."""
    polys, pts = _adversarial_case()
    answers = {}
    for path in ("all pairs", "tree", "exact bounds"):
        with _filter(path):
            answers[path] = [nearest_to_polygons(polys, pts), nearest_to_polygons(polys, pts[4:])]
    for path in ("tree", "exact bounds"):
        for got, expected in zip(answers[path], answers["all pairs"], strict=True):
            assert got[0].tolist() == expected[0].tolist()
            assert got[1].tolist() == expected[1].tolist()
    # (7.5, 0.5) and (5.5, 0.5) mirror each other about box(6, 0, 7, 1): a tie, and the
    # first of them by position answers
    assert answers["all pairs"][1][0][4] + 4 == pts.index(shapely.Point(7.5, 0.5))
    assert answers["all pairs"][1][1][4] == pytest.approx(GEOD.inv(7.5, 0.5, 7, 0.5)[2])


def test_far_clustered_centres_agree_with_brute_force():
    """300 centres on another continent, clustered, so each district's nearest is a near-tie
    among many: the answer still equals brute force."""
    rng = np.random.default_rng(7)
    polys = [shapely.box(77 + i, 20, 77.8 + i, 20.8) for i in range(3)]
    pts = [shapely.Point(x, y) for x, y in zip(rng.uniform(0, 20, 300),
                                                rng.uniform(45, 55, 300), strict=True)]
    idx, d = nearest_to_polygons(polys, pts)
    for i, poly in enumerate(polys):
        ref = np.array([brute_distance(poly, p) for p in pts])
        assert d[i] == pytest.approx(ref.min(), rel=1e-4)
        assert ref[idx[i]] == pytest.approx(ref.min(), rel=1e-4)


def test_many_centres_at_one_coordinate_answer_as_one():
    pts = [shapely.Point(5, 5)] * 5000 + [shapely.Point(5.5, 5.5)]
    idx, d = nearest_to_polygons([shapely.box(0, 0, 1, 1), shapely.box(6, 6, 7, 7)], pts)
    assert idx.tolist() == [0, 5000]  # the lowest position of the nearest coordinate
    assert d[0] == pytest.approx(GEOD.inv(5, 5, 1, 1)[2], rel=1e-3)


def _nearest_agrees(centres, seed):
    rng = np.random.default_rng(seed)
    polys = []
    for _ in range(3):
        x, y = rng.uniform(-20, 20), rng.uniform(-60, 60)
        w, h = rng.uniform(0.05, 3), rng.uniform(0.05, 3)
        polys.append(shapely.box(x, y, x + w, y + h).buffer(rng.uniform(0, 0.3)))
    pts = [shapely.Point(c) for c in centres]
    idx, d = nearest_to_polygons(polys, pts)
    for i, poly in enumerate(polys):
        ref = [brute_distance(poly, p) for p in pts]
        # agree with the reference to 0.1 % (and the metre, for near-zero distances)
        assert d[i] == pytest.approx(min(ref), rel=1e-3, abs=1.0)
        assert ref[idx[i]] == pytest.approx(min(ref), rel=1e-3, abs=1.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(lon, lat), min_size=1, max_size=8), st.floats(0, 300_000))
def test_within_agrees_with_brute_force(centres, radius):
    polys = [shapely.box(0, 0, 2, 1), shapely.box(-10, 30, -8, 33), shapely.box(15, -50, 18, -49)]
    pts = [shapely.Point(c) for c in centres]
    pi, qi, d = polygons_within(polys, pts, radius)
    got = set(zip(pi.tolist(), qi.tolist(), strict=True))
    for i, poly in enumerate(polys):
        for j, p in enumerate(pts):
            ref = brute_distance(poly, p)
            # the reference samples the boundary every 0.0005° (under 56 m): it is at most
            # 28 m above the true distance. Decisions must agree away from the threshold.
            if radius >= ref + 2.0:
                assert (i, j) in got
            elif radius < ref - 30.0:
                assert (i, j) not in got


def test_stacked_points_are_listed_each_and_measured_once():
    """2,000 centres at one place (78 km from the second box) and one far away:
    polygons_within lists every one of them (min_centers counts them all), in position
    order, with the geodesic distance."""
    pts = [shapely.Point(0.5, 0.5)] * 2000 + [shapely.Point(5, 5)]
    poly, pt, d = polygons_within([shapely.box(0, 0, 1, 1), shapely.box(1.2, 0, 2, 1)], pts,
                                  100_000)
    assert poly.tolist() == [0] * 2000 + [1] * 2000
    assert pt.tolist() == list(range(2000)) * 2
    assert d[2000] == pytest.approx(brute_distance(shapely.box(1.2, 0, 2, 1), pts[0]), rel=1e-3)


# ------------------------------------------------ the sphere's bounds, against pyproj


def test_sphere_bounds_hold_on_random_pairs():
    """On the conformal sphere, k_min·θ <= s <= k_max·θ, globally and over latitude bands."""
    rng = np.random.default_rng(7)
    n = 40_000
    lat1 = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon1 = rng.uniform(-180, 180, n)
    # short, medium and long pairs; a quarter start within 5° of a pole
    dist = np.concatenate([rng.uniform(1, 1e3, n // 4), rng.uniform(1e3, 1e5, n // 4),
                           rng.uniform(1e5, 1e7, n // 4), rng.uniform(1, 5e4, n - 3 * (n // 4))])
    lat1[-(n // 4):] = rng.uniform(85, 90, n // 4) * rng.choice([-1, 1], n // 4)
    lon2, lat2, _ = GEOD.fwd(lon1, lat1, rng.uniform(-180, 180, n), dist)
    s = GEOD.inv(lon1, lat1, lon2, lat2)[2]
    chi1 = sphere.conformal(lat1)
    u1 = sphere.unit_vectors(chi1, lon1)
    u2 = sphere.unit_vectors(sphere.conformal(lat2), lon2)
    theta = 2 * np.arcsin(np.linalg.norm(u1 - u2, axis=1) / 2)
    # global bounds: the equatorial radius a and the conformal scale at the pole
    a, f = 6378137.0, 1 / 298.257223563
    assert s.max() <= 1e7 + 1e-6
    assert np.all(s <= a * theta * (1 + 1e-9) + 1e-6)
    assert np.all(s >= a * (1 - f) * theta)  # b < k at the pole (6356752 m vs 6356800 m)
    # local bounds over the band reachable from the first point
    k_min, k_max = sphere.scale_bounds(chi1, theta * sphere.RATIO)
    assert np.all(s <= k_max * theta + 1e-6)
    assert np.all(s >= k_min * theta - 1e-6)
    assert np.median(k_max / k_min) < 1.001  # the band is what makes the filter sharp


def test_edge_image_bound_holds_at_every_distance():
    """An edge of 0.01° (lon/lat), seen from a point 100 m to 19,900 km away, is never longer
    in the point's azimuthal-equidistant plane than polygons._edge_m says (that bound decides
    which vertices are measured)."""
    rng = np.random.default_rng(11)
    n = 50_000
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lat[: n // 5] = rng.uniform(80, 90, n // 5) * rng.choice([-1, 1], n // 5)
    lon = rng.uniform(-180, 180, n)
    dist = np.exp(rng.uniform(np.log(1e2), np.log(1.99e7), n))
    lon2, lat2, _ = GEOD.fwd(lon, lat, rng.uniform(-180, 180, n), dist)
    turn = rng.uniform(0, 2 * np.pi, n)
    lat3, lon3 = np.clip(lat2 + 0.01 * np.sin(turn), -90, 90), lon2 + 0.01 * np.cos(turn)
    assert GEOD.inv(lon2, lat2, lon3, lat3)[2].max() <= polygons._EDGE_M
    az1, _, d1 = GEOD.inv(lon, lat, lon2, lat2)
    az2, _, d2 = GEOD.inv(lon, lat, lon3, lat3)
    image = np.hypot(d2 * np.sin(np.radians(az2)) - d1 * np.sin(np.radians(az1)),
                     d2 * np.cos(np.radians(az2)) - d1 * np.cos(np.radians(az1)))
    bound = polygons._edge_m(np.minimum(d1, d2))
    assert np.isfinite(bound).mean() > 0.99  # infinite only near the antipode
    assert np.all(image <= bound)


# ------------------------------------- every vertex measured: the filters drop none that matter


def _every_vertex(poly, lon: float, lat: float) -> float:
    """Distance (m) from a point to a polygon by measuring every vertex of its boundary
    densified to 0.01°: 0 inside or on it, else the least of the geodesic distance to each
    vertex and the distance to each edge in the point's azimuthal-equidistant plane, each
    edge taken from both of its ends. This is the definition polygons.py computes, written
    out without any candidate filter, so its figures must equal the module's to the bit.

    The plane tears near the point's antipode (an edge there can pass next to its centre):
    when a vertex is 19,000 km away or more, the reference does not apply (NaN)."""
    if poly.intersects(shapely.Point(lon, lat)):
        return 0.0
    best = np.inf
    for ring in shapely.get_rings(shapely.get_parts(poly)):
        c = shapely.get_coordinates(shapely.segmentize(ring, 0.01))
        az, _, d = GEOD.inv(np.full(len(c), lon), np.full(len(c), lat), c[:, 0], c[:, 1])
        if d.max() >= 19_000_000:
            return np.nan
        x, y = d * np.sin(np.radians(az)), d * np.cos(np.radians(az))
        best = min(best, d.min())
        for a, b in ((slice(0, -1), slice(1, None)), (slice(1, None), slice(0, -1))):
            ax, ay = x[a], y[a]
            dx, dy = x[b] - ax, y[b] - ay
            length2 = dx * dx + dy * dy
            t = np.where(length2 > 0, -(ax * dx + ay * dy) / np.where(length2 > 0, length2, 1),
                         0)
            t = np.clip(t, 0.0, 1.0)
            best = min(best, np.hypot(ax + t * dx, ay + t * dy).min())
    return float(best)


def _every_pair(polys, pts) -> np.ndarray:
    return np.array([[_every_vertex(poly, p.x, p.y) for p in pts] for poly in polys])


def _assert_exact(polys, pts, radii=(0.0, 25_000.0)) -> int:
    """nearest_to_polygons and polygons_within equal the every-vertex scan to the bit: the
    same nearest point (first by position on ties), the same metres, the same pairs. Returns
    how many districts' nearest points were compared."""
    ref = _every_pair(polys, pts)
    rows = np.isfinite(ref).all(axis=1)  # districts the reference applies to
    idx, d = nearest_to_polygons(polys, pts)
    assert idx[rows].tolist() == ref[rows].argmin(axis=1).tolist()
    assert d[rows].tolist() == ref[rows].min(axis=1).tolist()
    for radius in radii:
        pi, qi, dist = polygons_within(polys, pts, radius)
        known = np.isfinite(ref[pi, qi])
        got = list(zip(pi[known].tolist(), qi[known].tolist(), dist[known].tolist(),
                       strict=True))
        assert got == [(i, j, ref[i, j]) for i, j in np.argwhere(ref <= radius)]
    return int(rows.sum())


def _threshold_case(radius: float):
    """Convex districts (a box at 10°N, one at 70°N, one touching the antimeridian) and points
    R±1 m from a corner (in the corner's outward diagonal, so the corner is the nearest
    boundary point) and R±2 m due west of a point midway between two vertices of the west edge."""
    boxes = [(30.0, 10.0, 31.0, 11.0), (30.0, 70.0, 31.0, 70.5), (179.0, -17.0, 180.0, -16.0)]
    polys, pts, inside = [], [], []
    for x0, y0, x1, y1 in boxes:
        polys.append(shapely.box(x0, y0, x1, y1))
        for off in (-1.0, 1.0):
            lon2, lat2, _ = GEOD.fwd(x1, y1, 45.0, radius + off)
            pts.append(shapely.Point(lon2, lat2))
            inside.append(off < 0)
            lon2, lat2, _ = GEOD.fwd(x0, (y0 + y1) / 2 + 0.005, -90.0, radius + 2 * off)
            pts.append(shapely.Point(lon2, lat2))
            inside.append(off < 0)
    return polys, pts, inside


@pytest.mark.parametrize("path", ["all pairs", "tree", "exact bounds"])
@pytest.mark.parametrize("radius", [1_000.0, 25_000.0, 300_000.0])
def test_points_just_inside_and_outside_radius(path, radius):
    """Points 1 m either side of R from a corner, and 2 m either side from an edge (the edge's
    azimuthal-equidistant chord is within a metre of the geodesic there): decided as placed,
    and every distance equals the every-vertex scan, through every candidate filter."""
    polys, pts, inside = _threshold_case(radius)
    with _filter(path):
        pi, qi, _ = polygons_within(polys, pts, radius)
        _assert_exact(polys, pts, radii=(radius,))
    got = set(zip(pi.tolist(), qi.tolist(), strict=True))
    for j, expected in enumerate(inside):
        assert ((j // 4, j) in got) == expected, j


def _adversarial_places():
    """Districts near the pole, across the antimeridian, with a hole, thin and long, and a
    multipolygon on both sides of the antimeridian; points on vertices and edges, inside holes,
    over the pole, across the antimeridian, stacked, and 16,000 km away."""
    polys = [
        shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]]),
        shapely.Polygon([(-40, 88), (100, 88), (100, 89.5), (-40, 89.5)]),
        shapely.MultiPolygon([shapely.box(179.6, 60, 180, 61), shapely.box(-180, 60, -179.7, 61)]),
        shapely.box(-70, -80, -50, -79),
        shapely.box(10, -0.02, 14, 0.02),
    ]
    fixed = [(2, 2), (1, 1), (3, 2), (4, 4), (5, 0.5), (140, 89.9), (-100, 88.2), (0, 90),
             (179.9, 60.5), (-179.9, 59.5), (180, 62), (-60, -80.5), (120, 85.5), (12, 0.0),
             (12, 0.03), (-150, 0.0), (-142, -20), (2, 2)]
    return polys, [shapely.Point(p) for p in fixed]


@pytest.mark.parametrize("path", ["all pairs", "tree", "exact bounds"])
def test_adversarial_places_equal_every_vertex_scan(path):
    polys, pts = _adversarial_places()
    with _filter(path):
        compared = _assert_exact(polys, pts,
                                 radii=(0.0, 1_000.0, 60_000.0, 2_500_000.0, 20_010_000.0))
    assert compared == 3  # the polar districts have a point within 1,000 km of the antipode


@pytest.mark.parametrize("path", ["all pairs", "tree", "exact bounds"])
def test_far_clustered_points_equal_every_vertex_scan(path):
    """Points on another continent, clustered: each district's nearest is a near-tie among
    many, and the sphere's bounds are widest (a band of 40° of latitude)."""
    rng = np.random.default_rng(5)
    polys = [shapely.box(77 + i, 20, 77.6 + i, 20.5).buffer(0.05) for i in range(2)]
    pts = [shapely.Point(x, y) for x, y in zip(rng.uniform(0, 20, 60), rng.uniform(45, 55, 60),
                                                strict=True)]
    with _filter(path):
        _assert_exact(polys, pts, radii=(6_000_000.0,))


@pytest.mark.parametrize("path", ["all pairs", "tree", "exact bounds"])
@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 5_000.0, 80_000.0, 1_500_000.0]))
def test_random_places_equal_every_vertex_scan(path, seed, radius):
    """Random districts anywhere (poles and antimeridian included) and random points, some
    within a few km of a district: the every-vertex scan, to the bit."""
    rng = np.random.default_rng(seed)
    polys = []
    for _ in range(3):
        x, y = rng.uniform(-180, 179), rng.uniform(-89, 88)
        w, h = rng.uniform(0.02, 1.0), rng.uniform(0.02, min(1.0, 89.9 - y))
        polys.append(shapely.box(x, y, min(x + w, 180.0), y + h))
    near = [(rng.uniform(p.bounds[0] - 0.2, p.bounds[2] + 0.2),
             float(np.clip(rng.uniform(p.bounds[1] - 0.2, p.bounds[3] + 0.2), -90, 90)))
            for p in polys for _ in range(2)]
    far = list(zip(rng.uniform(-180, 180, 3), rng.uniform(-90, 90, 3), strict=True))
    pts = [shapely.Point(p) for p in near + far]
    with _filter(path):
        _assert_exact(polys, pts, radii=(radius,))


def test_within_in_chunks_equals_one_pass(monkeypatch):
    """polygons_within bounds memory with chunks of points: chunked, it lists the same."""
    polys, pts = _adversarial_places()
    whole = polygons_within(polys, pts, 300_000)
    monkeypatch.setattr(polygons, "_POINT_CHUNK", 4)
    chunked = polygons_within(polys, pts, 300_000)
    for a, b in zip(whole, chunked, strict=True):
        assert a.tolist() == b.tolist()


def test_near_a_districts_antipode_no_edge_comes_out_near():
    """A centre in Argentina 19,800-19,980 km from a district near Shanghai (near its
    antipode, where the azimuthal frame tears: an edge came out 1e-12 km away, so a 25 km
    radius covered it). Against a geodesic scan of the boundary sampled every 0.0005°: the
    distance is within one densified edge (<= 1.6 km) of it, and decisions follow."""
    district = shapely.box(121.0, 31.0, 121.6, 31.4)
    ring = shapely.get_coordinates(shapely.segmentize(district.boundary, 0.0005))
    places = [(-31.2, -58.7), (-31.0, -58.0), (-30.0, -60.0), (-31.25, -58.75),
              (-31.4, -58.6), (-31.0, -59.0)]
    pts = [shapely.Point(lon, lat) for lat, lon in places]
    for (lat, lon), p in zip(places, pts, strict=True):
        _, got = nearest_to_polygons(np.array([district]), np.array([p]))
        scan = GEOD.inv(np.full(len(ring), lon), np.full(len(ring), lat), ring[:, 0],
                        ring[:, 1])[2].min()
        assert scan - 1_600 <= got[0] <= scan + 1e-6, (lat, lon, got[0], scan)
        assert len(polygons_within(np.array([district]), np.array([p]), 25_000.0)[0]) == 0
        inside = polygons_within(np.array([district]), np.array([p]), scan + 2_000)[0]
        assert len(inside) == 1


def _least(poly, pt, dist, cost, per_m, n_polys):
    """Per polygon: the least cost[pt] + per_m * dist over its pairs and the first pair (by
    point position) that attains it; inf / -1 for none finite."""
    total = cost[pt] + per_m * dist
    best = np.full(n_polys, np.inf)
    np.minimum.at(best, poly, total)
    first = np.full(n_polys, -1)
    for i in range(len(poly)):  # pairs are sorted by polygon, then point
        if np.isfinite(total[i]) and total[i] == best[poly[i]] and first[poly[i]] < 0:
            first[poly[i]] = pt[i]
    return best, first


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), lat=st.sampled_from([0.0, 45.0, -60.0, 84.0]),
       per_m=st.sampled_from([0.012, 0.0005, 1.0]))
def test_cheapest_pairs_give_the_least_of_every_pair(seed, lat, per_m):
    """polygons_within(cheapest=...) lists a subset of every pair, with the same metres, every
    pair inside, and the same least cost + per_m * distance per polygon and the same first
    pair attaining it, as the computation of every pair (costs random, some infinite, some
    points stacked, and costs that bring every pair within 30 m of the least: the bounds'
    margins are what is tested)."""
    rng = np.random.default_rng(seed)
    polys = []
    for _ in range(int(rng.integers(1, 5))):
        x0, y0 = rng.uniform(0, 0.04), lat + rng.uniform(0, 0.03)
        w, h = rng.uniform(0.0005, 0.02, 2)
        polys.append(shapely.box(x0, y0, x0 + w, y0 + h))
    n = int(rng.integers(1, 60))
    xy = np.column_stack([rng.uniform(-0.01, 0.06, n), lat + rng.uniform(-0.01, 0.045, n)])
    xy[rng.random(n) < 0.2] = xy[0]  # stacked points
    pts = shapely.points(xy)
    cost = rng.uniform(0, 30, n)
    cost[rng.random(n) < 0.15] = np.inf
    radius = float(rng.choice([0.0, 300.0, 2_000.0]))
    poly, pt, dist = polygons_within(polys, pts, radius)
    if rng.random() < 0.5 and len(poly):  # near ties: every pair within 30 m of the least
        nearest = np.full(n, np.inf)
        np.minimum.at(nearest, pt, dist)
        cost = np.where(np.isfinite(nearest), 100.0 - per_m * nearest, cost) \
            + per_m * rng.uniform(0, 30, n)
    if len(poly):  # a point whose cost makes it tie the least: kept, first by position
        k = int(rng.integers(len(poly)))
        if np.isfinite(cost[pt[k]]):
            cost[rng.integers(n)] = cost[pt[k]] + per_m * dist[k]
    c_poly, c_pt, c_dist = polygons_within(polys, pts, radius, cheapest=(cost, per_m))
    every = dict(zip(zip(poly.tolist(), pt.tolist(), strict=True), dist.tolist(),
                     strict=True))
    got = list(zip(c_poly.tolist(), c_pt.tolist(), strict=True))
    assert all(every[key] == d for key, d in zip(got, c_dist.tolist(), strict=True))
    assert got == sorted(got)
    inside = polygons_within(polys, pts, 0.0)
    assert set(zip(*(a.tolist() for a in inside[:2]), strict=True)) <= set(got)
    want = _least(poly, pt, dist, cost, per_m, len(polys))
    have = _least(c_poly, c_pt, c_dist, cost, per_m, len(polys))
    np.testing.assert_array_equal(have[0], want[0])
    np.testing.assert_array_equal(have[1], want[1])


def test_cheapest_measures_only_what_can_be_least():
    """A point inside at cost 0 makes every pair outside unneeded (walks are not free), and
    a point 1 km out at cost 0 beats one 1.9 km out at cost 0 (the corners, the nearest
    vertices, are 1.14 and 1.98 km from them): one pair each."""
    square = shapely.box(0, 0, 0.01, 0.01)
    lon_1km = GEOD.fwd(0.01, 0.005, 90, 1_000)[0]
    lon_19km = GEOD.fwd(0.01, 0.005, 90, 1_900)[0]
    pts = shapely.points([(0.005, 0.005), (lon_1km, 0.005), (lon_19km, 0.005)])
    poly, pt, _ = polygons_within([square], pts, 2_000, cheapest=(np.zeros(3), 0.01))
    assert pt.tolist() == [0]
    poly, pt, d = polygons_within([square], pts[1:], 2_000, cheapest=(np.zeros(2), 0.01))
    assert pt.tolist() == [0] and d[0] == pytest.approx(1_000, abs=0.01)
    with pytest.raises(ValueError, match="cheapest"):
        polygons_within([square], pts, 2_000, cheapest=(np.zeros(2), 0.01))
