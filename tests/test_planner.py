"""The what-if planner's data (reachplan.maps.planner) and ``reachplan map --what-if``.

Expected pairs come from the grid fixture's hand computation (tests/fixtures/grid/README.md):
under presence, C1 is inside 001, C2 inside 005, C3 on the 002|003 edge, C4 on the corner of
004, 005, 007 and 008, C5 outside every district; every other centre is over 55 km from
every other district, beyond the 30 km of near pairs.
"""

from __future__ import annotations

import base64
import json
import re
import zlib

import numpy as np
import pytest

from reachplan.cli.main import cli
from reachplan.io import read_boundaries, read_points
from reachplan.maps.planner import planner_data
from reachplan.rules import Rule

IDS = ["001", "002", "003", "004", "005", "006", "007", "008", "009"]


def unpack(packed: dict) -> np.ndarray:
    """A packed array decoded here, independently of the page's decoder."""
    raw = zlib.decompress(base64.b64decode(packed["z"]))
    kind = packed["type"]
    dtype = {"i32": "<i4", "d32": "<i4", "e7": "<i4", "u32": "<u4", "u16": "<u2", "u8": "u1",
             "f64": "<f8"}[kind]
    arr = np.frombuffer(raw, dtype=dtype)
    if kind == "d32":
        arr = np.cumsum(arr.astype(np.int64))
    if kind == "e7":
        arr = np.cumsum(arr.astype(np.int64)) / 1e7
    assert len(arr) == packed["n"]
    return arr


def grid_inputs(grid):
    districts = read_boundaries(grid[0], group_col="zone", weight_col="pop")
    return districts, read_points(grid[1])


def reach_pairs(data: dict) -> set[tuple[str, str]]:
    start = unpack(data["reach"]["start"])
    district = unpack(data["reach"]["district"])
    flags = unpack(data["reach"]["flags"])
    names = ["C1", "C2", "C3", "C4", "C5", *data["sites"]["name"][5:]]
    out = set()
    for s in range(data["sites"]["n"]):
        for k in range(start[s], start[s + 1]):
            if flags[k] & 1:
                out.add((names[s], IDS[district[k]]))
    return out


def test_presence_pairs_are_the_hand_computed_ones(grid):
    districts, centres = grid_inputs(grid)
    data = planner_data(districts, centres, Rule.presence(), type_col="type")
    assert reach_pairs(data) == {("C1", "001"), ("C2", "005"), ("C3", "002"), ("C3", "003"),
                                 ("C4", "004"), ("C4", "005"), ("C4", "007"), ("C4", "008")}
    flags = unpack(data["reach"]["flags"])
    assert set(flags.tolist()) == {3}  # every pair inside or on the boundary, none near only
    assert data["sites"]["types"] == ["added", "direct", "partner"]
    assert unpack(data["sites"]["type"]).tolist() == [1, 1, 2, 2, 1]
    assert data["districts"]["groups"] == ["Middle", "North", "South"]
    assert unpack(data["districts"]["group"]).tolist() == [2, 2, 2, 0, 0, 0, 1, 1, 1]
    assert unpack(data["districts"]["weight"]).tolist() == [100.0 * i for i in range(1, 10)]
    assert unpack(data["sites"]["lat"]).tolist() == [0.5, 1.5, 0.5, 2.0, 1.5]
    assert unpack(data["sites"]["open"]).tolist() == [1] * 5


def test_radius_80_reaches_every_district_and_candidates_start_closed(grid):
    districts, centres = grid_inputs(grid)
    extra = read_points(grid[1]).iloc[:1]  # C1 again, as a candidate
    data = planner_data(districts, centres, Rule.radius(80), candidates=extra)
    pairs = reach_pairs(data)
    assert {d for _, d in pairs} == set(IDS)  # README: 80 km covers all nine
    assert ("C2", "009") in pairs  # 78.434 km
    assert unpack(data["sites"]["candidate"]).tolist() == [0, 0, 0, 0, 0, 1]
    assert unpack(data["sites"]["open"]).tolist() == [1, 1, 1, 1, 1, 0]
    assert data["sites"]["csv_header"] == "name,lat,lon"
    cost = unpack(data["reach"]["cost_m"])
    start = unpack(data["reach"]["start"])
    district = unpack(data["reach"]["district"])
    c2 = {IDS[district[k]]: cost[k] for k in range(start[1], start[2])}
    assert c2["009"] == 78_434  # metres: the README's pyproj figure, 78.434 km


def test_csv_cells_are_rendered_for_a_spreadsheet(grid, tmp_path):
    districts, _ = grid_inputs(grid)
    path = tmp_path / "c.csv"
    path.write_text('name,lat,lon\n"=HYPERLINK(""x""),a",0.5,0.5\n', encoding="utf-8")
    data = planner_data(districts, read_points(path), Rule.presence())
    assert data["sites"]["csv"] == {"0": '"\'=HYPERLINK(""x""),a"'}
    assert data["sites"]["name"] == ['=HYPERLINK("x"),a']  # raw text, for textContent


def test_what_if_page_embeds_the_data_and_the_geodesy(runner, grid, tmp_path):
    out = tmp_path / "w.html"
    res = runner.invoke(cli, ["map", *grid, "--radius-km", "60", "--what-if", "--offline",
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="reachplan_planner">\n(.*?)'
                      r"</script>", page, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["rule"] == {"kind": "radius", "min_centers": 1, "radius_km": 60.0}
    assert "geodesic.Geodesic" in page and "reachplanPlanner(" in page
    assert "https://" not in page.split("<body>")[0].split("leaflet")[0]


@pytest.mark.parametrize(("args", "flag"), [
    (["--candidates", "x.csv"], "--what-if"),
    (["--what-if", "--png", "x.png"], "--png"),
    (["--what-if", "--color-by", "centers"], "--color-by"),
    (["--what-if", "--demand", "@india-pincodes"], "--radius-km"),
])
def test_bad_options_are_one_line_exit_2(runner, grid, tmp_path, args, flag):
    res = runner.invoke(cli, ["map", *grid, "-o", str(tmp_path / "w.html"), *args])
    assert res.exit_code == 2, res.output
    assert flag in res.output and "Traceback" not in res.output
    assert not (tmp_path / "w.html").exists()


@pytest.mark.parametrize("text", ["name,lat,lon\n", "name,x_coord\nA,1\n"])
def test_bad_candidates_name_the_file_in_one_line(runner, grid, tmp_path, text):
    bad = tmp_path / "sites.csv"  # no row; no coordinates
    bad.write_text(text, encoding="utf-8")
    res = runner.invoke(cli, ["map", *grid, "--what-if", "--candidates", str(bad),
                              "-o", str(tmp_path / "w.html")])
    assert res.exit_code == 2, res.output
    assert "sites.csv" in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "w.html").exists()


def page_data(path) -> dict:
    page = path.read_text(encoding="utf-8")
    block = re.search(r'id="reachplan_planner">\n(.*?)</script>', page, re.S)
    assert block is not None
    return json.loads(block.group(1))


def test_plan_html_opens_the_proposed_sites(runner, grid, tmp_path):
    # presence: the one site is a point inside a gap (006 or 009, README); without
    # --candidates the plan's own candidates are not the page's
    out = tmp_path / "plan.html"
    res = runner.invoke(cli, ["plan", *grid, "--add", "1", "--html", str(out), "--offline"])
    assert res.exit_code == 0, res.output
    data = page_data(out)
    assert data["sites"]["n"] == 5 + 1  # the centres and the proposed site, open
    assert unpack(data["sites"]["open"]).tolist() == [1] * 6
    assert unpack(data["sites"]["candidate"]).tolist() == [0, 0, 0, 0, 0, 1]
    site = [d for s, d in reach_pairs(data) if s not in ("C1", "C2", "C3", "C4", "C5")]
    assert site in (["006"], ["009"])


def test_plan_html_needs_an_html_name(runner, grid, tmp_path):
    res = runner.invoke(cli, ["plan", *grid, "--add", "1", "--html", str(tmp_path / "p.png")])
    assert res.exit_code == 2 and "--html" in res.output


def test_a_source_tree_without_node_modules_says_npm_ci(monkeypatch, tmp_path):
    from reachplan.errors import ReachplanError
    from reachplan.maps import assets

    monkeypatch.setattr(assets, "_ROOT", tmp_path)
    assets.npm_asset.cache_clear()
    try:
        with pytest.raises(ReachplanError, match="npm ci"):
            assets.npm_asset("geographiclib-geodesic", "no-such-file.js")
    finally:
        assets.npm_asset.cache_clear()


def test_plan_html_keeps_the_other_candidates_closed(runner, grid, tmp_path):
    cands = tmp_path / "cands.csv"
    cands.write_text("name,lat,lon\nIn 006,1.5,2.5\nIn 009,2.5,2.5\n", encoding="utf-8")
    out = tmp_path / "plan.html"
    res = runner.invoke(cli, ["plan", *grid, "--add", "1", "--candidates", str(cands),
                              "--html", str(out)])
    assert res.exit_code == 0, res.output
    data = page_data(out)
    # the centres, the candidate not chosen (closed), the proposed site (open), each once
    assert data["sites"]["n"] == 7
    assert unpack(data["sites"]["open"]).tolist() == [1, 1, 1, 1, 1, 0, 1]
    assert sorted(data["sites"]["name"][5:]) == ["In 006", "In 009"]
