"""Geodesic distances against independent references (pyproj between two points, and a
brute-force scan of a densely sampled boundary)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import shapely
from _reference import GEOD, brute_distance
from hypothesis import given, settings
from hypothesis import strategies as st

from covplan.geodesy import nearest_to_polygons, polygons_within, sphere


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
    from covplan.geodesy import polygons

    saved = polygons._BRUTE_PAIRS, polygons._MAX_SPHERE_PAIRS
    polygons._BRUTE_PAIRS = 10**12 if path == "all pairs" else -1
    polygons._MAX_SPHERE_PAIRS = -1 if path == "exact bounds" else saved[1]
    try:
        yield
    finally:
        polygons._BRUTE_PAIRS, polygons._MAX_SPHERE_PAIRS = saved


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
            if abs(ref - radius) > 2.0:  # decisions must agree away from the threshold
                assert ((i, j) in got) == (ref <= radius)


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
