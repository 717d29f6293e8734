"""The what-if page under travel time (``--roads tiny.osm --travel-minutes 3``), in headless
Chromium: candidates' road minutes are precomputed into the page, so switching them on and
off gives ``reachplan coverage``'s figures (districts, demand points, min centres K and
capacity) on the exported CSV; a site cannot be clicked in elsewhere, and the page says why.

Roads: tests/fixtures/roads/tiny.osm (README there): vertices on the equator 0.01 degree
apart, a one-way chain eastwards from vertex 1 at lon 0, and an island 55 km away.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import test_maps_browser
from test_planner_capacity_browser import (
    UNIQUE,
    cli_capacity,
    open_page,
    toggle_some,
    write_page,
)

pytestmark = pytest.mark.browser
chromium = test_maps_browser.browser  # the map tests' fixture: Debian's Chromium, no network

BOXES = {"A": (-0.001, -0.001, 0.015, 0.001), "B": (0.015, -0.001, 0.065, 0.001),
         "C": (0.49, -0.001, 0.52, 0.001), "D": (0.009, 0.003, 0.011, 0.004)}


@pytest.fixture
def inputs(tmp_path, fixtures_dir) -> dict[str, str]:
    """Districts A-D of the tiny network (as conftest's tiny_travel), one centre at vertex 1,
    candidates along the chain and on the island, demand points along the chain."""
    features = [{"type": "Feature", "properties": {"id": k, "name": f"District {k}",
                                                   "pop": 10 * (i + 1)},
                 "geometry": {"type": "Polygon", "coordinates": [[
                     [x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}}
                for i, (k, (x0, y0, x1, y1)) in enumerate(BOXES.items())]
    (tmp_path / "d.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": features}), encoding="utf-8")
    (tmp_path / "c.csv").write_text("name,lat,lon,cap\nwest,0.0,0.0,3\n", encoding="utf-8")
    (tmp_path / "k.csv").write_text(
        "name,lat,lon,cap\nk20,0.0,0.02,2\nk30,0.0,0.03,4\nk50,0.0,0.05,1\nk85,0.0,0.505,5\n",
        encoding="utf-8")
    points = [f"p{i},0.0005,{0.005 * i:.3f},{1 + i % 3}" for i in range(1, 14)]
    (tmp_path / "p.csv").write_text("pid,lat,lon,n\n" + "\n".join(
        [*points, "on the island,0.0,0.5,2"]) + "\n", encoding="utf-8")
    return {"d": str(tmp_path / "d.geojson"), "c": str(tmp_path / "c.csv"),
            "k": str(tmp_path / "k.csv"), "p": str(tmp_path / "p.csv"),
            "roads": str(fixtures_dir / "roads" / "tiny.osm")}


@pytest.mark.parametrize("k", [1, 2])
def test_toggling_candidates_equals_the_cli(chromium, runner, tmp_path, inputs, k):
    rule = ["--roads", inputs["roads"], "--travel-minutes", "3", "--min-centers", str(k),
            "--weight-col", "pop", "--demand", inputs["p"], "--demand-weight-col", "n"]
    capacity = ["--capacity-col", "cap"] if k == 1 else []
    out = write_page(runner, tmp_path / "w.html", inputs["d"], inputs["c"], *rule,
                     *capacity, "--candidates", inputs["k"],
                     *(["--candidate-capacity", "cap"] if capacity else []))
    page, refused = open_page(chromium, out)
    rng = np.random.default_rng(k)
    for _ in range(5):
        toggle_some(page, rng, 5, 2, 0.6)
        mine = page.evaluate("() => reachplan.summary()")
        csv_text = page.evaluate("() => reachplan.exportCsv()")
        theirs = cli_capacity(runner, tmp_path, csv_text, inputs["d"], *rule, *capacity)
        for key in ("summary", "rule", "cost", "demand"):
            assert mine[key] == theirs[key], (key, csv_text)
        if capacity:
            allocated = page.evaluate("() => reachplan.capacity()")
            for key in UNIQUE:
                assert allocated[key] == theirs["capacity"][key], (key, csv_text)
            assert allocated["cost_unit"] == "min"
    assert refused == []
    page.context.close()


def test_clicking_elsewhere_says_why(chromium, runner, tmp_path, inputs):
    out = write_page(runner, tmp_path / "w.html", inputs["d"], inputs["c"], "--roads",
                     inputs["roads"], "--travel-minutes", "3", "--candidates", inputs["k"])
    page, _ = open_page(chromium, out)
    message = page.evaluate("""() => { try { reachplan.add(0.0, 0.01, 'x'); return null; }
                                        catch (e) { return e.message; } }""")
    assert message is not None and "within 3 min by road (car)" in message
    assert "candidate" in message and "\n" not in message
    assert message == page.evaluate("() => reachplan._internal.addBlocked")
    assert len(page.evaluate("() => reachplan.sites()")) == 5  # nothing added
    page.context.close()
