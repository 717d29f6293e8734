"""Overlapping district polygons are warned about once (issue 18.6).

Boxes in degrees (lon 0-3, lat 0-1), overlaps by hand: A (0-1) and B (0.5-1.5) share half of
each; C (2-3) and D (1.5-2.5) share half of each; B and D touch at lon 1.5 (no area). A sliver
E (2.9999999-3.01) shares 1e-7 square degrees with C: 1e-5 of E's 0.0100001, under the 0.1 %
tolerance.
"""

from __future__ import annotations

import json

import numpy as np
import shapely

from reachplan.cli.main import cli
from reachplan.datasets import india_districts_path
from reachplan.io import read_boundaries


def _write(path, boxes: dict[str, tuple[float, float, float, float]]) -> str:
    features = [{"type": "Feature", "properties": {"code": k, "name": f"Name {k}"},
                 "geometry": shapely.geometry.mapping(shapely.box(*b))}
                for k, b in boxes.items()]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return str(path)


def test_overlapping_pairs_are_named_once(tmp_path):
    path = _write(tmp_path / "d.geojson", {"A": (0, 0, 1, 1), "B": (0.5, 0, 1.5, 1),
                                           "C": (2, 0, 3, 1), "D": (1.5, 0, 2.5, 1)})
    warnings = [w for w in read_boundaries(path, id_col="code").attrs["warnings"]
                if "overlap" in w]
    assert len(warnings) == 1
    assert "2 pairs of districts overlap" in warnings[0]
    assert "Name A (A) and Name B (B)" in warnings[0]
    assert "Name C (C) and Name D (D)" in warnings[0]
    assert "Name B (B) and Name D (D)" not in warnings[0]  # they touch only


def test_a_sliver_under_the_tolerance_and_a_clean_grid_say_nothing(tmp_path, grid):
    path = _write(tmp_path / "d.geojson", {"C": (2, 0, 3, 1), "E": (2.9999999, 0, 3.01, 1)})
    assert not [w for w in read_boundaries(path, id_col="code").attrs["warnings"]
                if "overlap" in w]
    assert not [w for w in read_boundaries(grid[0]).attrs["warnings"] if "overlap" in w]


def test_one_overlap_is_one_pair_on_the_command_line(runner, tmp_path):
    path = _write(tmp_path / "d.geojson", {"A": (0, 0, 1, 1), "B": (0.5, 0, 1.5, 1)})
    (tmp_path / "c.csv").write_text("name,lat,lon\nc,0.5,0.25\n")
    res = runner.invoke(cli, ["coverage", path, str(tmp_path / "c.csv"), "--id-col", "code"])
    assert res.exit_code == 0, res.output
    assert "1 pair of districts overlap: Name A (A) and Name B (B)" in res.stderr
    res = runner.invoke(cli, ["coverage", path, str(tmp_path / "c.csv"), "--id-col", "code",
                              "-q"])
    assert "overlap" not in res.stderr


def test_embedded_india_has_no_overlaps():
    # the embedded districts skip the check on reading; this is why (STRtree + areas here)
    geoms = read_boundaries(india_districts_path(), id_col="lgd_code").geometry.to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    a, b = a[a < b], b[a < b]
    shared = shapely.area(shapely.intersection(geoms[a], geoms[b]))
    small = np.minimum(shapely.area(geoms[a]), shapely.area(geoms[b]))
    assert np.all(shared <= 1e-3 * small)
