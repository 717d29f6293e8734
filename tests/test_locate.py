"""The grid point-location index against the plain exact answer: each polygon tested against
every point with shapely's ``intersects`` (fresh copies of the polygons, not prepared), the
lowest index kept. Random points and adversarial ones: on edges, vertices, shared borders,
hole rings, the grid's own cell lines, India's districts."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from reachplan.geodesy.locate import PolygonIndex, locate_exact


def _brute(geoms, lon, lat) -> np.ndarray:
    """Lowest index of the polygons each point intersects (len when none), one polygon at a
    time over the points in its bounding box."""
    fresh = shapely.from_wkb(shapely.to_wkb(np.asarray(geoms, dtype=object)))
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    out = np.full(lon.size, len(fresh), dtype=np.int64)
    for i in reversed(range(len(fresh))):  # lower indices overwrite higher ones
        if fresh[i] is None or shapely.is_empty(fresh[i]):
            continue
        x0, y0, x1, y1 = shapely.bounds(fresh[i])
        near = np.flatnonzero((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        hit = shapely.intersects(fresh[i], shapely.points(lon[near], lat[near]))
        out[near[hit]] = i
    return out


def _index(geoms) -> PolygonIndex:
    index = PolygonIndex(np.asarray(geoms, dtype=object), grid_from=0)
    index.locate(np.zeros(1), np.zeros(1))  # builds the grid
    assert index._built
    return index


def _cell_lines(index: PolygonIndex, rng, per_line: int = 3):
    """Points exactly on the grid's cell lines (fine and top), and one float either side."""
    x0, y0, x1, y1 = index.bounds
    cols, rows = index.nx * index.split, index.ny * index.split
    xs = x0 + np.arange(cols + 1) * ((x1 - x0) / cols)
    ys = y0 + np.arange(rows + 1) * ((y1 - y0) / rows)
    xs = np.concatenate([xs, np.nextafter(xs, -np.inf), np.nextafter(xs, np.inf)])
    ys = np.concatenate([ys, np.nextafter(ys, -np.inf), np.nextafter(ys, np.inf)])
    lon = np.concatenate([np.repeat(xs, per_line), rng.uniform(x0, x1, ys.size * per_line)])
    lat = np.concatenate([rng.uniform(y0, y1, xs.size * per_line), np.repeat(ys, per_line)])
    # corners where the lines cross
    cx, cy = rng.choice(xs, 2000), rng.choice(ys, 2000)
    return np.concatenate([lon, cx]), np.concatenate([lat, cy])


def _vertices_and_edges(geoms, rng, per_edge: int = 3):
    """Every vertex, and points along every edge (exactly on it when axis-parallel or at 45°
    with dyadic coordinates, within a rounding of it otherwise)."""
    xy = shapely.get_coordinates(shapely.boundary(np.asarray(geoms, dtype=object)))
    a, b = xy[:-1], xy[1:]
    t = rng.integers(0, 65, (a.shape[0], per_edge)) / 64
    on = a[:, None, :] + (b - a)[:, None, :] * t[:, :, None]
    pts = np.concatenate([xy, on.reshape(-1, 2)])
    return pts[:, 0], pts[:, 1]


def _brute_pairs(geoms, lon, lat) -> set[tuple[int, int]]:
    """Every (polygon, point) where the point intersects the polygon, one polygon at a time
    (fresh copies, not prepared) over the points in its bounding box."""
    fresh = shapely.from_wkb(shapely.to_wkb(np.asarray(geoms, dtype=object)))
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    out: set[tuple[int, int]] = set()
    for i, g in enumerate(fresh):
        if g is None or shapely.is_empty(g):
            continue
        x0, y0, x1, y1 = shapely.bounds(g)
        near = np.flatnonzero((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        out.update((i, int(p)) for p in near[shapely.intersects(g, shapely.points(
            lon[near], lat[near]))])
    return out


def _check(geoms, lon, lat, index: PolygonIndex | None = None) -> np.ndarray:
    index = index or _index(geoms)
    got = index.locate(np.asarray(lon, float), np.asarray(lat, float))
    want = _brute(geoms, lon, lat)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"{bad.size} of {got.size} points differ, e.g. "
                           f"({lon[bad[0]]!r}, {lat[bad[0]]!r}): {got[bad[0]]} != "
                           f"{want[bad[0]]}")
    # every pair (overlaps and shared borders included), sorted by polygon then point
    poly, pt = index.pairs(np.asarray(lon, float), np.asarray(lat, float))
    assert (np.lexsort((pt, poly)) == np.arange(len(poly))).all()
    assert set(zip(poly.tolist(), pt.tolist(), strict=True)) == _brute_pairs(geoms, lon, lat)
    assert len(poly) == len(set(zip(poly.tolist(), pt.tolist(), strict=True)))
    return want


def _all_points(geoms, rng, n_random: int = 20_000):
    index = _index(geoms)
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geoms, dtype=object))
    pad = 0.1 * max(x1 - x0, y1 - y0)
    parts = [(rng.uniform(x0 - pad, x1 + pad, n_random), rng.uniform(y0 - pad, y1 + pad,
                                                                      n_random)),
             _vertices_and_edges(geoms, rng), _cell_lines(index, rng)]
    lon = np.concatenate([p[0] for p in parts])
    lat = np.concatenate([p[1] for p in parts])
    return index, lon, lat


# --------------------------------------------------------------------------- hand-made cases


def test_shared_edge_goes_to_the_lowest_index():
    west, east = box(0, 0, 1, 1), box(1, 0, 2, 1)
    lon = np.array([0.5, 1.0, 1.0, 1.0, 1.5, 2.0, 3.0, 0.0])
    lat = np.array([0.5, 0.5, 0.0, 1.0, 0.5, 1.0, 0.5, 1.0000001])
    # by hand: west, shared edge, shared corners (both lowest: the first listed), east,
    # east's far corner, outside, just above the west square
    assert _index([west, east]).locate(lon, lat).tolist() == [0, 0, 0, 0, 1, 1, 2, 2]
    assert _index([east, west]).locate(lon, lat).tolist() == [1, 0, 0, 0, 0, 0, 2, 2]


def test_hole_ring_is_inside_and_hole_is_outside():
    ring = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    inner = box(1.5, 1.5, 2.5, 2.5)  # an island district inside the hole
    lon = np.array([0.5, 2.0, 1.0, 3.0, 2.0, 1.2, 2.5, 1.5])
    lat = np.array([0.5, 2.0, 1.0, 2.0, 3.0, 1.2, 2.5, 2.0])
    # ring body, island, hole vertex, hole edge, hole edge, hole (not island), island corner,
    # island edge
    assert _index([ring, inner]).locate(lon, lat).tolist() == [0, 1, 0, 0, 0, 2, 1, 1]
    _check([ring, inner], *_all_points([ring, inner], np.random.default_rng(1))[1:])


def test_multipolygon_overlaps_lines_and_empty_geometries():
    rng = np.random.default_rng(2)
    geoms = [MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)]),
             None, Polygon(),
             box(0.5, 0.5, 2.5, 2.5),  # overlaps both parts of the first
             Polygon([(0, 3), (3, 0), (3, 3)]),  # slanted edges crossing everything
             shapely.LineString([(0, 1.5), (3, 1.5)])]
    _check(geoms, *_all_points(geoms, rng)[1:])


def test_points_exactly_on_slanted_edges():
    # the 45° edges hold every point (t, t) and (t, 4 - t) exactly
    diamond = [Polygon([(0, 0), (2, 2), (4, 0), (2, -2)]),
               Polygon([(0, 0), (2, 2), (0, 4), (-2, 2)])]
    t = np.random.default_rng(3).uniform(0, 2, 20_000)
    lon = np.concatenate([t, 4 - t, -t, t + 0.0])
    lat = np.concatenate([t, t, t, -t])
    got = _check(diamond, lon, lat)
    assert (got[:20_000] == 0).all()  # on the shared edge: the first


def test_across_the_antimeridian_split_at_read_time():
    fiji = MultiPolygon([box(177, -19, 180, -16), box(-180, -19, -178, -16)])
    other = box(-178, -19, -170, -10)
    rng = np.random.default_rng(4)
    lon = np.concatenate([np.full(1000, 180.0), np.full(1000, -180.0),
                          rng.uniform(-180, 180, 20_000)])
    lat = np.concatenate([rng.uniform(-20, -15, 2000), rng.uniform(-20, -9, 20_000)])
    got = _check([fiji, other], lon, lat)
    assert (got[:2000] == np.where(np.abs(lat[:2000] + 17.5) <= 1.5, 0, 2)).all()


def test_tiny_district_degenerate_and_empty_inputs():
    rng = np.random.default_rng(5)
    tiny = box(10, 10, 10 + 1e-9, 10 + 1e-9)  # too small for a grid: every point exact
    lon = np.concatenate([[10, 10 + 5e-10, 10 + 1e-9, 10 + 2e-9], rng.uniform(9, 11, 1000)])
    lat = np.concatenate([[10, 10 + 5e-10, 10 + 1e-9, 10], rng.uniform(9, 11, 1000)])
    assert _index([tiny]).locate(lon[:4], lat[:4]).tolist() == [0, 0, 0, 1]
    _check([tiny], lon, lat)
    # a tiny district among large ones
    geoms = [box(0, 0, 20, 20), tiny, box(10, 10, 10.5, 10.5)]
    _check(geoms, *_all_points(geoms, rng, 5000)[1:])
    # a flat, zero-area polygon
    flat = Polygon([(0, 0), (1, 0), (2, 0)])
    _check([flat, box(0, -1, 1, 0)], np.array([0.5, 1.5, 0.5]), np.array([0.0, 0.0, -0.5]))
    assert _index([]).locate(np.array([1.0]), np.array([1.0])).tolist() == [0]
    assert _index([None, Polygon()]).locate(np.array([1.0]), np.array([1.0])).tolist() == [2]
    assert _index([box(0, 0, 1, 1)]).locate(np.zeros(0), np.zeros(0)).size == 0


def test_random_polygons_sharing_edges_with_holes():
    # Voronoi cells share their edges vertex for vertex; some get holes, some are merged
    # into multipolygons with a far cell
    rng = np.random.default_rng(6)
    seeds = shapely.multipoints(rng.uniform(0, 10, (60, 2)))
    cells = list(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box(0, 0, 10, 10))))
    cells = [c.intersection(box(0, 0, 10, 10)) for c in cells]
    for i in range(0, 20, 4):
        c = cells[i].centroid
        cells[i] = cells[i].difference(c.buffer(0.1, quad_segs=4))
    for i in range(1, 20, 4):
        cells[i] = shapely.union(cells[i], cells[i + 30])
    _check(cells, *_all_points(cells, rng, 50_000)[1:])


def test_pairs_in_many_slices_with_overlaps_holes_and_shared_borders(monkeypatch):
    # pairs() cuts the points into slices and puts each slice's pairs in place: with slices
    # of 1000 points (some cut between two pairs of one point), the same pairs, in order
    from reachplan.geodesy import locate

    monkeypatch.setattr(locate, "_CHUNK", 1000)
    rng = np.random.default_rng(16)
    seeds = shapely.multipoints(rng.uniform(0, 10, (40, 2)))
    cells = [c.intersection(box(0, 0, 10, 10)) for c in shapely.get_parts(
        shapely.voronoi_polygons(seeds, extend_to=box(0, 0, 10, 10)))]
    cells[3] = cells[3].difference(cells[3].centroid.buffer(0.2, quad_segs=4))
    cells[5] = shapely.union(cells[5], cells[25])
    cells += [box(2, 2, 6, 6), cells[7], None]  # overlaps everything under it; a repeat
    index, lon, lat = _all_points(cells, rng, 30_000)
    order = rng.permutation(lon.size)  # the slices' points all over the grid
    _check(cells, lon[order], lat[order], index)


_EIGHTHS = st.integers(0, 32).map(lambda k: k / 8)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(_EIGHTHS, _EIGHTHS, _EIGHTHS, _EIGHTHS, st.booleans()),
                min_size=1, max_size=6))
def test_boxes_and_triangles_on_a_dyadic_lattice(shapes):
    # corners on a 1/8 lattice, points on a 1/16 lattice: many exactly on edges and vertices
    geoms = [Polygon([(a, b), (c, d), (a, d)]) if tri else box(a, b, c, d)
             for a, b, c, d, tri in shapes]
    rng = np.random.default_rng(len(shapes))
    lattice = rng.integers(-2, 70, (4000, 2)) / 16
    index, lon, lat = _all_points(geoms, rng, 2000)
    _check(geoms, np.concatenate([lon, lattice[:, 0]]), np.concatenate([lat, lattice[:, 1]]),
           index)


def test_exact_path_below_grid_from_gives_the_same():
    rng = np.random.default_rng(7)
    geoms = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
    lon, lat = rng.uniform(-0.5, 2.5, 300), rng.uniform(-0.5, 1.5, 300)
    lazy = PolygonIndex(np.asarray(geoms, dtype=object), grid_from=1000)
    first = lazy.locate(lon, lat)
    assert not lazy._built
    assert first.tolist() == _brute(geoms, lon, lat).tolist()
    assert first.tolist() == locate_exact(np.asarray(geoms, dtype=object), lon, lat).tolist()


def test_the_comparison_catches_a_wrong_cell():
    # break one classified top cell of a correct index: the comparison must see it
    geoms = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
    index = _index(geoms)
    cell = np.flatnonzero(index.top == 0)[100]
    row, col = divmod(int(cell), index.nx)
    x0, y0, x1, y1 = index.bounds
    w, h = (x1 - x0) / index.nx, (y1 - y0) / index.ny
    rng = np.random.default_rng(8)
    lon = np.concatenate([rng.uniform(0, 2, 5000), x0 + (col + rng.uniform(0, 1, 50)) * w])
    lat = np.concatenate([rng.uniform(0, 1, 5000), y0 + (row + rng.uniform(0, 1, 50)) * h])
    _check(geoms, lon, lat, index)
    index.top[cell] = 1
    with pytest.raises(AssertionError, match="50 of 5050 points differ"):
        _check(geoms, lon, lat, index)


def test_pickled_index_gives_the_same():
    import pickle

    geoms = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
    index = _index(geoms)
    lon, lat = np.array([0.5, 1.0, 1.5, 5.0]), np.array([0.5, 0.5, 0.5, 5.0])
    assert pickle.loads(pickle.dumps(index)).locate(lon, lat).tolist() == [0, 0, 1, 2]


# --------------------------------------------------------------------------- India


def test_india_districts_random_and_adversarial():
    from reachplan.io import read_boundaries

    geoms = np.asarray(read_boundaries("@india").geometry.values, dtype=object)
    rng = np.random.default_rng(9)
    index = _index(geoms)
    x0, y0, x1, y1 = index.bounds
    lon = [rng.uniform(x0 - 1, x1 + 1, 300_000)]
    lat = [rng.uniform(y0 - 1, y1 + 1, 300_000)]
    vx, vy = _vertices_and_edges(geoms, rng, per_edge=1)
    pick = rng.choice(vx.size, 100_000, replace=False)
    cx, cy = _cell_lines(index, rng, per_line=1)
    lon += [vx[pick], cx]
    lat += [vy[pick], cy]
    want = _check(geoms, np.concatenate(lon), np.concatenate(lat), index)
    assert 0.25 < (want[:300_000] < len(geoms)).mean() < 0.5  # India's share of its box
