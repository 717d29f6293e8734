"""Inputs are named by file name and content, never by the path as typed (issue 18, part 6):
the same extract by a relative or an absolute path is the same rule, byte for byte, and no
local folder reaches JSON, maps or summaries."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from reachplan.cli.main import cli
from reachplan.rules import same_rule

TINY = Path(__file__).parent / "fixtures" / "roads" / "tiny.osm"
DISTRICT = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
            '{"id": "A"}, "geometry": {"type": "Polygon", "coordinates": [[[0.025, -0.005], '
            '[0.035, -0.005], [0.035, 0.005], [0.025, 0.005], [0.025, -0.005]]]}}]}')


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    """A working folder holding the districts, centres and roads; the tests run from it."""
    (tmp_path / "d.geojson").write_text(DISTRICT)
    (tmp_path / "c.csv").write_text("name,lat,lon\nC,0.0,0.0\n")
    shutil.copyfile(TINY, tmp_path / "tiny.osm")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def coverage_json(runner, boundaries: str, centres: str, roads: str) -> str:
    res = runner.invoke(cli, ["coverage", boundaries, centres, "--id-col", "id", "--roads",
                              roads, "--travel-minutes", "30", "--format", "json"])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_relative_and_absolute_paths_give_the_same_bytes(here, runner):
    relative = coverage_json(runner, "d.geojson", "c.csv", "tiny.osm")
    absolute = coverage_json(runner, str(here / "d.geojson"), str(here / "c.csv"),
                             str(here / "tiny.osm"))
    assert relative == absolute
    assert str(here) not in absolute
    data = json.loads(absolute)
    digest = hashlib.sha256(TINY.read_bytes()).hexdigest()[:16]
    assert data["rule"]["roads"] == "tiny.osm" and data["rule"]["roads_sha256"] == digest
    assert data["inputs"]["boundaries"] == "d.geojson" and data["inputs"]["centers"] == "c.csv"


def test_check_expect_passes_whichever_path_wrote_it(here, runner):
    golden = here / "expected.json"
    res = runner.invoke(cli, ["check", "d.geojson", "c.csv", "--id-col", "id", "--roads",
                              "tiny.osm", "--travel-minutes", "30", "--expect", str(golden),
                              "--update-expect"])
    assert res.exit_code == 0, res.output
    assert str(here) not in golden.read_text()
    res = runner.invoke(cli, ["check", str(here / "d.geojson"), str(here / "c.csv"),
                              "--id-col", "id", "--roads", str(here / "tiny.osm"),
                              "--travel-minutes", "30", "--expect", str(golden),
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["check"]["status"] == "pass"
    assert str(here) not in res.stdout


def test_compare_sees_the_same_rule_and_a_changed_extract(here, runner):
    (here / "a.json").write_text(coverage_json(runner, "d.geojson", "c.csv", "tiny.osm"))
    renamed = here / "roads" / "copy-of-tiny.osm"
    renamed.parent.mkdir()
    shutil.copyfile(TINY, renamed)  # the same content under another name and folder
    (here / "b.json").write_text(coverage_json(runner, str(here / "d.geojson"), "c.csv",
                                               str(renamed)))
    res = runner.invoke(cli, ["compare", "a.json", "b.json"])
    assert res.exit_code == 0, res.output
    assert "RULE CHANGED" not in res.stdout
    slower = here / "slower.osm"  # same name elsewhere, other content: another rule
    slower.write_text(TINY.read_text().replace('v="primary"', 'v="residential"'))
    (here / "c.json").write_text(coverage_json(runner, "d.geojson", "c.csv", str(slower)))
    res = runner.invoke(cli, ["compare", "a.json", "c.json"])
    assert res.exit_code == 0, res.output
    assert "RULE CHANGED" in res.stdout


def test_the_map_summary_names_files_only(here, runner):
    res = runner.invoke(cli, ["map", str(here / "d.geojson"), str(here / "c.csv"), "--id-col",
                              "id", "--roads", str(here / "tiny.osm"), "--travel-minutes",
                              "30", "-o", "map.html"])
    assert res.exit_code == 0, res.output
    page = (here / "map.html").read_text()
    assert str(here) not in page
    assert "d.geojson" in page and "tiny.osm" in page


def test_same_rule_ignores_the_name_of_an_input_whose_digest_agrees():
    a = {"kind": "travel", "minutes": 30.0, "roads": "a.osm", "roads_sha256": "01"}
    assert same_rule(a, {**a, "roads": "b.osm"})
    assert not same_rule(a, {**a, "roads_sha256": "02"})
    assert not same_rule(a, {**a, "minutes": 31.0, "roads": "b.osm"})
    assert not same_rule(a, {k: v for k, v in a.items() if k != "roads_sha256"})
    assert same_rule({"kind": "radius", "radius_km": 5}, {"kind": "radius", "radius_km": 5})
    assert not same_rule({"kind": "radius", "radius_km": 5}, {"kind": "radius", "radius_km": 6})


def test_a_speeds_file_is_named_by_name_and_content(here, runner):
    """--speeds changes the minutes: the rule names the file and its content, not its path."""
    (here / "speeds.csv").write_bytes(b"highway,kmh\nprimary,20\n")
    (here / "sub").mkdir()
    (here / "sub" / "renamed.csv").write_text("highway,kmh\nprimary,20\n")
    (here / "faster.csv").write_text("highway,kmh\nprimary,90\n")

    def rule(speeds: str) -> dict:
        res = runner.invoke(cli, ["coverage", "d.geojson", "c.csv", "--id-col", "id",
                                  "--roads", "tiny.osm", "--travel-minutes", "30",
                                  "--speeds", speeds, "--format", "json"])
        assert res.exit_code == 0, res.output
        assert str(here) not in res.stdout
        return json.loads(res.stdout)["rule"]

    plain = rule("speeds.csv")
    digest = hashlib.sha256(b"highway,kmh\nprimary,20\n").hexdigest()[:16]
    assert plain["speeds"] == "speeds.csv" and plain["speeds_sha256"] == digest
    assert rule(str(here / "speeds.csv")) == plain
    assert same_rule(plain, rule(str(here / "sub" / "renamed.csv")))
    assert not same_rule(plain, rule("faster.csv"))
    no_file = coverage_json(runner, "d.geojson", "c.csv", "tiny.osm")
    assert "speeds" not in json.loads(no_file)["rule"]  # absent unless given
