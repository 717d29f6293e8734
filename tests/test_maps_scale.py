"""Maps at city scale (issue 18.6): the default simplification follows the data's size.

The fixture is a 3x3 grid of about 1 km cells in Helsinki (lon 24.90-24.95, lat 60.15-60.18),
every edge cut into 10 m steps and pushed sideways by a smooth wiggle of 4 m (the same
function of the position for both neighbours, so they still share their edges). The old 1,000 m
default turned such cells into triangles or nothing; areas here are measured geodesically by
pyproj, independently of the simplifier's own frame.
"""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Polygon

from reachplan.engine import Rule, assess
from reachplan.maps import geometry, png

GEOD = pyproj.Geod(ellps="WGS84")
LON0, LAT0, DLON, DLAT = 24.90, 60.15, 0.018, 0.009  # about 1.0 km by 1.0 km


def _wiggle(xy: np.ndarray) -> np.ndarray:
    """A smooth displacement of about 4 m, a function of the position only."""
    dx = 7e-5 * np.sin(xy[:, 1] * 2400) * np.cos(xy[:, 0] * 900)
    dy = 3.5e-5 * np.sin(xy[:, 0] * 2100) * np.cos(xy[:, 1] * 1700)
    return xy + np.column_stack([dx, dy])


def _cells() -> np.ndarray:
    cells = []
    for row in range(3):
        for col in range(3):
            x, y = LON0 + col * DLON, LAT0 + row * DLAT
            square = Polygon([(x, y), (x + DLON, y), (x + DLON, y + DLAT), (x, y + DLAT)])
            cells.append(shapely.segmentize(square, 1.5e-4))  # about 10 m steps
    return shapely.transform(np.array(cells, dtype=object), _wiggle)


def _area_m2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def test_fixture_is_a_city_scale_coverage():
    cells = _cells()
    assert shapely.coverage_is_valid(cells)
    assert all(0.9e6 < _area_m2(c) < 1.1e6 for c in cells)  # about 1 km² each
    assert shapely.get_num_coordinates(cells).min() > 300


def test_default_tolerance_is_a_share_of_the_median_district():
    # the median cell's bounding box: about 1.0 x 1.0 km, diagonal ~1.43 km by pyproj
    cells = _cells()
    b = shapely.bounds(cells[4])
    diagonal = GEOD.inv(b[0], b[1], b[2], b[3])[2]
    assert geometry.scale_tolerance_m(cells) == pytest.approx(diagonal / 100, rel=0.02)
    assert 10 < geometry.scale_tolerance_m(cells) < 20
    # a country's districts (100 km wide) keep the 1,000 m cap
    wide = np.array([shapely.box(70, 10, 71, 11)], dtype=object)
    assert geometry.scale_tolerance_m(wide) == geometry.DEFAULT_SIMPLIFY_M


def test_city_districts_keep_their_shape_and_area():
    cells = _cells()
    simple, tolerance = geometry.simplified(cells, None)
    assert tolerance < 20
    assert shapely.coverage_is_valid(simple)
    for before, after in zip(cells, simple, strict=True):
        assert after.geom_type == "Polygon"
        assert shapely.get_num_coordinates(after) >= 5  # a closed ring of at least 4 corners
        assert _area_m2(after) == pytest.approx(_area_m2(before), rel=0.01)
    # it simplifies: fewer vertices than the 10 m-step input
    assert shapely.get_num_coordinates(simple).sum() < shapely.get_num_coordinates(cells).sum()
    # the old fixed default loses the shapes: this test can fail
    old = geometry._simplify_coverage(cells, 1000.0)
    assert any(g.is_empty or abs(_area_m2(g) - _area_m2(c)) > 0.01 * _area_m2(c)
               for g, c in zip(old, cells, strict=True))


def test_centres_inside_a_district_stay_inside_its_outline():
    cells = _cells()
    # centres at each cell's centre, and ones along the middle cell's outline, about 1 m
    # inside it (its outline shrunk by 1e-5 degrees: 0.6 m east-west, 1.1 m north-south)
    inner = [shapely.Point(LON0 + (c + 0.5) * DLON, LAT0 + (r + 0.5) * DLAT)
             for r in range(3) for c in range(3)]
    edge = list(shapely.points(shapely.get_coordinates(cells[4].buffer(-1e-5).exterior)))
    points = np.array(inner + edge, dtype=object)
    within = shapely.STRtree(cells).query(points, predicate="within")
    assert len(within[0]) == len(points)  # every point starts inside one cell
    # at the scale's tolerance some of them would be drawn outside: the check has work to do
    plain = geometry._simplify_coverage(cells, geometry.scale_tolerance_m(cells))
    assert not np.all(shapely.covers(plain[within[1]], points[within[0]]))
    simple, tolerance = geometry.simplified(cells, None, points)
    assert 0 < tolerance < geometry.scale_tolerance_m(cells)
    assert np.all(shapely.covers(simple[within[1]], points[within[0]]))


def test_png_shows_every_centre_and_district(tmp_path):
    import geopandas as gpd

    cells = _cells()
    districts = gpd.GeoDataFrame({"id": [str(i) for i in range(9)],
                                  "name": [f"cell {i}" for i in range(9)]},
                                 geometry=list(cells), crs="EPSG:4326")
    # one centre 300 m east of the grid, outside every district
    east = GEOD.fwd(LON0 + 3 * DLON, LAT0 + 1.5 * DLAT, 90, 300)[0]
    centres = gpd.GeoDataFrame({"name": ["in", "out"]},
                               geometry=[shapely.Point(LON0 + 0.5 * DLON, LAT0 + 0.5 * DLAT),
                                         shapely.Point(east, LAT0 + 1.5 * DLAT)],
                               crs="EPSG:4326")
    from reachplan.io import read_boundaries, read_points

    districts.to_file(tmp_path / "d.geojson")
    centres.assign(lat=centres.geometry.y, lon=centres.geometry.x).drop(
        columns="geometry").to_csv(tmp_path / "c.csv", index=False)
    result = assess(read_boundaries(tmp_path / "d.geojson", id_col="id", name_col="name"),
                    read_points(tmp_path / "c.csv"), Rule())
    ax = png._figure(result, title=None, color_by="status", simplify_m=None, size=None,
                     dpi=100).axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < LON0 and y0 < LAT0 and y1 > LAT0 + 3 * DLAT
    assert x1 > east  # the outside centre is not cropped
