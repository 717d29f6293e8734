"""polygons_within_xy (grids first, geodesics near boundaries) against polygons_within on
every point, and near_boundaries against brute-force geodesic distances to the rings.

Polygons: Voronoi cells sharing their edges, some with holes, some joined into
multipolygons with a far cell, one overlapping its neighbours; at 20° N and at 60° N (where
a degree of longitude is half as long). Points: random, on every vertex and along every
edge, some sharing coordinates (measured once, listed for each).
"""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import box

from reachplan.geodesy import locate, nearby, polygons_within
from reachplan.geodesy.nearby import near_boundaries, polygons_within_xy

GEOD = pyproj.Geod(ellps="WGS84")


def cells(lat0: float, seed: int) -> list:
    rng = np.random.default_rng(seed)
    frame = box(80.0, lat0, 80.4, lat0 + 0.3)
    seeds = shapely.multipoints(np.column_stack([rng.uniform(80.0, 80.4, 30),
                                                 rng.uniform(lat0, lat0 + 0.3, 30)]))
    out = [c.intersection(frame) for c in
           shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))]
    for i in range(0, 8, 4):
        out[i] = out[i].difference(out[i].centroid.buffer(0.01, quad_segs=4))
    out[1] = shapely.union(out[1], out[20])
    out.append(out[5].centroid.buffer(0.03, quad_segs=8))  # overlaps its neighbours
    return out


def points(geoms: list, lat0: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(79.95, 80.45, 6000)
    lat = rng.uniform(lat0 - 0.05, lat0 + 0.35, 6000)
    xy = shapely.get_coordinates(shapely.boundary(np.asarray(geoms, dtype=object)))
    a, b = xy[:-1:3], xy[1::3]
    along = a + (b - a) * rng.uniform(0, 1, (len(a), 1))
    lon = np.concatenate([lon, xy[::5, 0], along[:, 0], lon[:300]])  # the last: repeats
    lat = np.concatenate([lat, xy[::5, 1], along[:, 1], lat[:300]])
    return lon, lat


def boundary_metres(geoms: list, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Geodesic metres from each point to the nearest vertex of the rings densified to
    0.0002° (so within ~12 m of the distance to the rings themselves)."""
    rings = shapely.segmentize(shapely.boundary(np.asarray(geoms, dtype=object)), 0.0002)
    xy = shapely.get_coordinates(rings)
    out = np.full(len(lon), np.inf)
    for i in range(len(lon)):
        d = GEOD.inv(np.full(len(xy), lon[i]), np.full(len(xy), lat[i]), xy[:, 0],
                     xy[:, 1])[2]
        out[i] = d.min()
    return out


@pytest.mark.parametrize("lat0", [20.0, 60.0])
def test_near_boundaries_never_misses_a_point_within_the_radius(lat0):
    geoms = cells(lat0, 1)
    lon, lat = points(geoms, lat0, 2)
    pick = np.random.default_rng(3).choice(len(lon), 250, replace=False)
    lon, lat = lon[pick], lat[pick]
    near = near_boundaries(np.asarray(geoms, dtype=object), lon, lat, 2000.0)
    metres = boundary_metres(geoms, lon, lat)
    assert near[metres <= 2000.0 + 15.0].all()
    assert not near.all()  # and it does rule points out (deep inside, or far outside)
    # with no radius, only points at most a margin from a ring are near
    near0 = near_boundaries(np.asarray(geoms, dtype=object), lon, lat, 0.0)
    assert near0[metres <= 15.0].all() and near0.sum() < near.sum()


@pytest.mark.parametrize("lat0", [20.0, 60.0])
@pytest.mark.parametrize("cheap", [False, True])
@pytest.mark.parametrize("shortcut", [True, False])
def test_polygons_within_xy_equals_polygons_within(monkeypatch, lat0, cheap, shortcut):
    monkeypatch.setattr(nearby, "_FAST_FROM", 0)  # the grids, however few the points
    if not shortcut:  # the pairs inside measured points not found again: the general merge
        monkeypatch.setattr(nearby, "_in_sorted", lambda keys, _: np.zeros(len(keys), bool))
    monkeypatch.setattr(nearby, "_STEP", 1000)  # and the points in several slices
    monkeypatch.setattr(locate, "_CHUNK", 777)
    geoms = np.asarray(cells(lat0, 4), dtype=object)
    lon, lat = points(list(geoms), lat0, 5)
    rng = np.random.default_rng(6)
    cheapest = None
    if cheap:
        cost = rng.uniform(0, 60, len(lon))
        cost[rng.random(len(lon)) < 0.1] = np.inf
        cheapest = (cost, 60.0 / 1000.0 / 5.0)
    want = polygons_within(geoms, shapely.points(lon, lat), 2000.0, cheapest=cheapest)
    got = polygons_within_xy(geoms, lon, lat, 2000.0, cheapest=cheapest)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    if cheapest is not None:  # and fewer points were measured than are near a boundary
        qi, pi = polygons_within(geoms, shapely.points(lon, lat), 0.0)[:2]
        looked = nearby._worth_a_look(geoms, lon, lat, 2000.0, qi, pi, cheapest)
        assert len(looked) < 0.7 * near_boundaries(geoms, lon, lat, 2000.0).sum()
    got0 = polygons_within_xy(geoms, lon, lat, 0.0)
    want0 = polygons_within(geoms, shapely.points(lon, lat), 0.0)
    for g, w in zip(got0, want0, strict=True):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("cheap", [False, True])
def test_polygons_within_xy_across_the_antimeridian_takes_every_point(monkeypatch, cheap):
    monkeypatch.setattr(nearby, "_FAST_FROM", 0)
    monkeypatch.setattr(nearby, "_STEP", 300)
    geoms = np.asarray([box(179.9, -17.2, 180.0, -17.0), box(-180.0, -17.2, -179.9, -17.0)],
                       dtype=object)
    rng = np.random.default_rng(7)
    lon = np.concatenate([rng.uniform(179.8, 180.0, 500), rng.uniform(-180.0, -179.8, 500)])
    lat = rng.uniform(-17.3, -16.9, 1000)
    assert near_boundaries(geoms, lon, lat, 2000.0).all()
    cheapest = None
    if cheap:  # every point near: the largest ceiling of all for each
        cost = rng.uniform(0, 60, len(lon))
        cheapest = (cost, 60.0 / 1000.0 / 5.0)
        ceiling = np.array([3.0, 7.0])
        assert (near_boundaries(geoms, lon, lat, 2000.0, ceiling=ceiling) == 7.0).all()
    want = polygons_within(geoms, shapely.points(lon, lat), 2000.0, cheapest=cheapest)
    got = polygons_within_xy(geoms, lon, lat, 2000.0, cheapest=cheapest)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


def test_ceiling_is_at_least_every_near_polygons_ceiling():
    geoms = cells(20.0, 8)
    lon, lat = points(geoms, 20.0, 9)
    pick = np.random.default_rng(10).choice(len(lon), 120, replace=False)
    lon, lat = lon[pick], lat[pick]
    ceiling = np.random.default_rng(11).uniform(0, 100, len(geoms))
    ceiling[:3] = ceiling[3]  # some equal: one rank for them
    got = near_boundaries(np.asarray(geoms, dtype=object), lon, lat, 2000.0, ceiling=ceiling)
    want = np.full(len(lon), -np.inf)
    for i, g in enumerate(geoms):
        metres = boundary_metres([g], lon, lat)
        want[metres <= 2000.0 + 15.0] = np.maximum(want[metres <= 2000.0 + 15.0], ceiling[i])
    assert (got >= want).all()
    assert (got < ceiling.max()).any()  # and it is a local answer, not the largest of all
