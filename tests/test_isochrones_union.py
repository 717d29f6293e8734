"""Service areas built the quick way (issue 18.6: union_all took 4 of 5.7 s) equal the plain
definition: every reached road segment (the part driven within T) buffered on its own, and
the buffers unioned (shapely.union_all), as the isochrones were built before. The quick way
joins the lines end to end and drops a two-way road's second copy first. On the Helsinki
extract (tests/fixtures/roads), two centres, bands of 2 and 4 minutes."""

from __future__ import annotations

import importlib

import geopandas as gpd
import numpy as np
import pytest
import shapely

from reachplan.roads import TravelRule

# the module (reachplan.roads.isochrones is also the name of its function)
iso = importlib.import_module("reachplan.roads.isochrones")


@pytest.fixture(scope="module")
def rule():
    return TravelRule.from_roads("tests/fixtures/roads/helsinki.osm.pbf", 60, cache_dir=False)


def test_quick_union_equals_the_union_of_each_buffered_segment(rule, monkeypatch):
    centres = gpd.GeoDataFrame({"name": ["a", "b"]}, crs="EPSG:4326",
                               geometry=gpd.points_from_xy([24.94, 24.955], [60.168, 60.165]))
    quick = rule.isochrones(centres, [2, 4], buffer_m=50)
    monkeypatch.setattr(iso, "_merged_buffer",
                        lambda lines, d: shapely.union_all(shapely.buffer(lines, d)))
    plain = rule.isochrones(centres, [2, 4], buffer_m=50)
    for got, ref in zip(quick.geometry, plain.geometry, strict=True):
        assert ref.area > 0
        # the same up to how round ends and joins are cut into segments (50 m buffers, 8
        # segments a quarter circle: under 1 m)
        assert shapely.area(shapely.symmetric_difference(got, ref)) < 2e-4 * ref.area
        assert shapely.hausdorff_distance(got, ref) < 1.5e-5  # degrees: under 1.7 m
        assert len(shapely.get_parts(got)) == len(shapely.get_parts(ref))
    assert np.allclose(quick["area_km2"], plain["area_km2"], rtol=1e-4)
