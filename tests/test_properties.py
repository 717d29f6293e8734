"""Invariants of the engine, checked on random inputs (hypothesis)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from covplan.engine import Rule, assess
from covplan.io import read_boundaries


@pytest.fixture(scope="module")
def districts(request):
    from pathlib import Path

    path = Path(request.config.rootpath) / "tests" / "fixtures" / "grid" / "districts.geojson"
    return read_boundaries(path, weight_col="pop")


def centres(points):
    lon = [p[0] for p in points]
    lat = [p[1] for p in points]
    return gpd.GeoDataFrame({"name": [f"c{i}" for i in range(len(points))], "lat": lat,
                             "lon": lon}, geometry=gpd.points_from_xy(lon, lat), crs=4326)


point = st.tuples(st.floats(-1, 4), st.floats(-1, 4))
rules = st.one_of(st.just(Rule()), st.floats(0, 200).map(Rule.radius),
                  st.integers(1, 3).map(lambda k: Rule("presence", k)))


@settings(max_examples=40, deadline=None)
@given(st.lists(point, min_size=1, max_size=6), point, rules)
def test_adding_a_centre_never_lowers_coverage(districts, points, extra, rule):
    before = assess(districts, centres(points), rule).districts["covered"].to_numpy()
    after = assess(districts, centres([*points, extra]), rule).districts["covered"].to_numpy()
    assert np.all(after >= before)


@settings(max_examples=40, deadline=None)
@given(st.lists(point, min_size=1, max_size=6), st.floats(0, 150), st.floats(0, 150))
def test_larger_radius_never_lowers_coverage(districts, points, r1, r2):
    small, large = sorted((r1, r2))
    a = assess(districts, centres(points), Rule.radius(small)).summary
    b = assess(districts, centres(points), Rule.radius(large)).summary
    assert b["covered"] >= a["covered"] and b["weight_covered"] >= a["weight_covered"]


@settings(max_examples=30, deadline=None)
@given(st.lists(point, min_size=1, max_size=6), rules)
def test_covered_plus_gaps_is_all(districts, points, rule):
    result = assess(districts, centres(points), rule)
    assert result.summary["covered"] + len(result.gaps()) == len(districts)
    assert set(result.gaps()["id"]).isdisjoint(result.districts.loc[result.districts["covered"],
                                                                    "id"])


@settings(max_examples=30, deadline=None)
@given(st.lists(point, min_size=1, max_size=6))
def test_presence_equals_radius_zero(districts, points):
    a = assess(districts, centres(points), Rule()).districts["covered"].tolist()
    b = assess(districts, centres(points), Rule.radius(0)).districts["covered"].tolist()
    assert a == b
