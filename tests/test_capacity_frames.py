"""The adapter from points and a rule to pairs: equal to a brute-force pyproj loop."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import box

from reachplan import Rule
from reachplan.capacity.frames import (
    column_amounts,
    district_of_points,
    pairs_for_rule,
    radius_pairs,
)
from reachplan.errors import InputError


def test_radius_pairs_equal_a_pyproj_loop():
    rng = np.random.default_rng(11)
    lat, lon = rng.uniform(10, 12, 300), rng.uniform(77, 79, 300)
    clat, clon = rng.uniform(10, 12, 25), rng.uniform(77, 79, 25)
    geod = Geod(ellps="WGS84")
    expected = set()
    for i in range(lat.size):
        d = geod.inv(np.full(clat.size, lon[i]), np.full(clat.size, lat[i]), clon, clat)[2]
        expected |= {(i, j, float(d[j])) for j in np.flatnonzero(d <= 30_000)}
    p, c, m = radius_pairs(lat, lon, clat, clon, 30_000)
    got = {(int(a), int(b)) for a, b in zip(p, c, strict=True)}
    assert got == {(a, b) for a, b, _ in expected}
    assert len(got) > 100
    want = {(a, b): d for a, b, d in expected}
    for a, b, d in zip(p, c, m, strict=True):
        assert d == pytest.approx(want[(int(a), int(b))], abs=1e-6)
    assert np.all(np.diff(p) >= 0)


def test_pairs_for_today_radius_rule():
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([77.0, 77.5], [12.0, 12.0]),
                           crs="EPSG:4326")
    cen = gpd.GeoDataFrame(geometry=gpd.points_from_xy([77.0], [12.1]), crs="EPSG:4326")
    p, c, m = pairs_for_rule(pts, cen, Rule.radius(20))
    assert p.tolist() == [0] and c.tolist() == [0]
    assert m[0] == pytest.approx(Geod(ellps="WGS84").inv(77.0, 12.0, 77.0, 12.1)[2])
    with pytest.raises(InputError, match="rule: a presence rule cannot decide points"):
        pairs_for_rule(pts, cen, Rule())


def test_pairs_from_any_rule_through_its_point_reach():
    """The seam: a rule's point_reach(...).pairs gives the table, whatever the rule."""
    class Fixed:
        def pairs(self, lat, lon, *, threads=1):
            return np.array([1]), np.array([0]), np.array([4.5])

    class Rule:
        def point_reach(self, lat, lon):
            return Fixed()

        def describe(self):
            return "fixed"

    p, c, m = pairs_for_rule(gpd.GeoSeries.from_xy([0, 1], [0, 1]),
                             gpd.GeoSeries.from_xy([0], [0]), Rule())
    assert (p.tolist(), c.tolist(), m.tolist()) == ([1], [0], [4.5])


def test_centres_sharing_a_place_each_get_their_pairs():
    """Two centres at one coordinate have separate capacities: both are listed."""
    pts = gpd.GeoSeries.from_xy([77.0], [12.0], crs="EPSG:4326")
    cen = gpd.GeoSeries.from_xy([77.0, 77.0, 80.0], [12.1, 12.1, 12.0], crs="EPSG:4326")
    p, c, m = pairs_for_rule(pts, cen, Rule.radius(20))
    assert p.tolist() == [0, 0] and c.tolist() == [0, 1]
    assert m[0] == m[1] == pytest.approx(Geod(ellps="WGS84").inv(77.0, 12.0, 77.0, 12.1)[2])


def test_district_of_points():
    districts = gpd.GeoDataFrame({"code": ["007", "008"]},
                                 geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326")
    pts = gpd.GeoSeries.from_xy([0.5, 1.5, 5.0], [0.5, 0.5, 5.0], crs="EPSG:4326")
    assert district_of_points(pts, districts, "code").tolist() == ["007", "008", None]


def test_column_amounts_name_file_column_and_row():
    frame = pd.DataFrame({"cap": ["3", " 4 ", "", "x"]}, index=[2, 3, 4, 5])
    with pytest.raises(InputError, match=r"centres.csv: column 'cap': row 4: value is missing"):
        column_amounts(frame, "cap", label="centres.csv")
    with pytest.raises(InputError, match=r"centres.csv: column 'cap': row 5: 'x' is not a nu"):
        column_amounts(frame.drop(index=4), "cap", label="centres.csv")
    assert column_amounts(frame.loc[[2, 3]], "cap").tolist() == [3.0, 4.0]
    with pytest.raises(InputError, match="column 'capacity' not found"):
        column_amounts(frame, "capacity")
