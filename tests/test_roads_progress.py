"""Progress of the travel rule's long steps: graph build, district access, searches; shown
on the CLI's one progress display (a terminal only)."""

from __future__ import annotations

import io

import geopandas as gpd
from shapely.geometry import box

from reachplan.cli.main import cli
from reachplan.cli.output import Steps
from reachplan.engine import assess
from reachplan.roads import TravelRule

TINY = "tests/fixtures/roads/tiny.osm"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _inputs():
    districts = gpd.GeoDataFrame({"id": ["a", "b"], "name": None, "group": None,
                                  "weight": float("nan")},
                                 geometry=[box(-0.001, -0.001, 0.015, 0.001),
                                           box(0.015, -0.001, 0.065, 0.001)], crs="EPSG:4326")
    centres = gpd.GeoDataFrame({"name": ["w", "h"], "lat": [0.0, 0.0], "lon": [0.0, 0.03]},
                               geometry=gpd.points_from_xy([0.0, 0.03], [0.0, 0.0]),
                               crs="EPSG:4326")
    return districts, centres


def test_the_rule_reports_each_long_step():
    calls: list[tuple[str, int, int]] = []
    rule = TravelRule.from_roads(TINY, 3, cache_dir=False, min_centers=2,
                                 progress=lambda *a: calls.append(a))
    assess(*_inputs(), rule)
    steps = [c[0] for c in calls]
    assert steps[0] == "reading roads (ways)" and calls[0][2] == 0
    assert ("building the road graph", 1, 1) in calls
    assert ("district access (road vertices)", rule.graph.n_nodes, rule.graph.n_nodes) in calls
    assert ("search (all centres at once)", 1, 1) in calls
    assert ("searches (centres)", 2, 2) in calls  # min_centers 2: one search per centre
    assert steps.count("district access (road vertices)") == 1  # computed once


def test_steps_draw_on_a_terminal(monkeypatch):
    screen = _Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    steps = Steps()
    rule = TravelRule.from_roads(TINY, 3, cache_dir=False, progress=steps)
    assess(*_inputs(), rule)
    steps.close()
    shown = screen.getvalue()
    for label in ("reachplan: building the road graph", "reachplan: search (all centres at once)",
                  "reachplan: district access (road vertices)"):
        assert label in shown
    assert f"{rule.graph.n_nodes}/{rule.graph.n_nodes}" in shown and "100%" in shown


def test_nothing_in_a_pipe(runner, tmp_path):
    districts, centres = _inputs()
    districts.to_file(tmp_path / "d.geojson")
    centres.drop(columns="geometry").to_csv(tmp_path / "c.csv", index=False)
    res = runner.invoke(cli, ["coverage", str(tmp_path / "d.geojson"), str(tmp_path / "c.csv"),
                              "--id-col", "id", "--roads", TINY, "--travel-minutes", "3"])
    assert res.exit_code == 0, res.output
    assert "reachplan: district access" not in res.stderr and "\r" not in res.stderr
