"""`reachplan plan` with the travel rule, on tiny.osm (tests/fixtures/roads/README.md).

Hand figures (L = 1113.195 m; primary 60 km/h, so L takes 1.113 min; on foot 5 km/h):
districts A (vertices 1, 2), B (3..7), C (the island 8, 9), D (no road; 0.003 degree north
of vertex 2, 3.98 min on foot). The one centre sits on vertex 4, inside B: 4 -> 3 is allowed
but 3 -> 2 is not (2 -> 3 is one-way), so before the plan only B is covered: 1 of 4.
Candidates, T = 6 min:
  west   on vertex 1 (in A): A at 0; D at 1.113 + 3.98 = 5.094 min  -> gains A and D
  island on vertex 8 (in C): C at 0                                 -> gains C
  east   on vertex 7 (in B): reaches 6 and 5 only; B is covered     -> gains nothing
So --add 1 opens west (3 of 4), --target 100 opens west then island (4 of 4).
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from reachplan.cli.main import cli

TINY = "tests/fixtures/roads/tiny.osm"
BOXES = {"A": (-0.001, -0.001, 0.015, 0.001), "B": (0.015, -0.001, 0.065, 0.001),
         "C": (0.49, -0.001, 0.52, 0.001), "D": (0.009, 0.003, 0.011, 0.004)}


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    monkeypatch.setenv("REACHPLAN_CACHE_DIR", str(tmp_path / "cache"))
    gpd.GeoDataFrame({"id": list(BOXES)}, geometry=[shapely.box(*b) for b in BOXES.values()],
                     crs="EPSG:4326").to_file(tmp_path / "d.geojson")
    (tmp_path / "c.csv").write_text("name,lat,lon\nhub,0,0.03\n", encoding="utf-8")
    (tmp_path / "cand.csv").write_text("name,lat,lon\neast,0,0.06\nisland,0,0.5\nwest,0,0\n",
                                       encoding="utf-8")
    return [str(tmp_path / "d.geojson"), str(tmp_path / "c.csv"), "--id-col", "id",
            "--roads", TINY, "--travel-minutes", "6", "--candidates", str(tmp_path / "cand.csv")]


def test_plan_by_road(runner, inputs):
    res = runner.invoke(cli, ["plan", *inputs, "--add", "1", "--format", "json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert (report["before"]["covered"], report["after"]["covered"]) == (1, 3)
    assert [(s["name"], sorted(s["covers"])) for s in report["sites"]] == [("west", ["A", "D"])]
    assert (report["rule"]["kind"], report["rule"]["minutes"]) == ("travel", 6.0)
    res = runner.invoke(cli, ["plan", *inputs, "--target", "100", "--format", "json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert [(s["name"], sorted(s["covers"])) for s in report["sites"]] == [
        ("west", ["A", "D"]), ("island", ["C"])]
    assert report["after"]["covered"] == 4 and report["target_reached"]
    # at 5 minutes D is out of west's reach (5.094 min) and no candidate lies in D
    short = [*inputs[:-4], "--travel-minutes", "5", *inputs[-2:]]
    res = runner.invoke(cli, ["plan", *short, "--add", "3", "--format", "json"])
    report = json.loads(res.stdout)
    assert sorted(c for s in report["sites"] for c in s["covers"]) == ["A", "C"]
    # in a pipe: no progress line on stderr
    assert "\r" not in res.stderr


def test_the_candidate_searches_report_progress(inputs):
    """The library hook gets one 'matrix' event per batch of candidates, up to all three."""
    from reachplan.cli.inputs import make_rule
    from reachplan.io import read_boundaries, read_points
    from reachplan.planning import run_plan

    districts = read_boundaries(inputs[0], id_col="id")
    centres = read_points(inputs[1])
    candidates = read_points(inputs[-1])
    rule = make_rule(None, 1, roads=TINY, travel_minutes=6)
    events: list[dict] = []
    run_plan(districts, centres, rule, add=1, candidates=candidates, progress=events.append)
    matrix = [e for e in events if e["phase"] == "matrix"]
    assert matrix and (matrix[-1]["done"], matrix[-1]["total"]) == (3, 3)
    assert all(e["elapsed_s"] >= 0 for e in matrix)


def test_progress_on_a_terminal_shows_the_matrix_as_a_bar():
    """The one progress display of the CLI: matrix events (known total) drive its bar."""
    from reachplan.cli.plan import _PlanProgress

    class Display:
        enabled = True

        def __init__(self):
            self.bars, self.notes = [], []

        def __call__(self, done, total):
            self.bars.append((done, total))

        def note(self, text):
            self.notes.append(text)

        def close(self):
            pass

    line = _PlanProgress()
    line.display = Display()
    line({"phase": "matrix", "done": 1200, "total": 4000, "objective": None, "bound": None,
          "gap": None, "elapsed_s": 3.2})
    line.close()
    assert line.display.bars == [(1200, 4000)] and line.display.notes == []
