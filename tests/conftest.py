"""Shared fixtures: a CLI runner and the tiny hand-computable fixture files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def road_cache(tmp_path_factory) -> Path:
    """One road-graph cache for the session, never the user's ~/.cache/reachplan."""
    return tmp_path_factory.mktemp("reachplan-cache")


@pytest.fixture(autouse=True)
def _private_road_cache(road_cache, monkeypatch) -> None:
    """Every test builds road graphs in ``road_cache`` ($REACHPLAN_CACHE_DIR; a test may point
    it elsewhere), so no test run writes to the user's home."""
    monkeypatch.setenv("REACHPLAN_CACHE_DIR", str(road_cache))
    # a bug raises its exception in tests (a traceback), not the one-line internal error
    monkeypatch.setenv("REACHPLAN_DEBUG", "1")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def grid() -> tuple[str, str]:
    """The 3x3 grid of tests/fixtures/grid (see its README for the hand computation)."""
    return str(FIXTURES / "grid" / "districts.geojson"), str(FIXTURES / "grid" / "centres.csv")


@pytest.fixture
def cap() -> dict[str, str]:
    """tests/fixtures/capacity on the grid's districts (see its README)."""
    d = FIXTURES / "capacity"
    return {"districts": str(FIXTURES / "grid" / "districts.geojson"),
            "centres": str(d / "centres.csv"), "demand": str(d / "demand.csv")}


@pytest.fixture(scope="session")
def tiny_travel():
    """A coverage result on tests/fixtures/roads/tiny.osm (see its README): car, T = 3 min,
    one centre "west" on vertex 1; districts A (vertices 1, 2, the centre inside), B
    (vertices 3 to 7), C (the island, vertices 8, 9) and D (no vertex inside, 0.003 degree
    north of vertex 2). The maps' tests work its minutes out by hand."""
    import geopandas as gpd
    import shapely

    from reachplan.engine import assess
    from reachplan.roads import TravelRule

    boxes = {"A": (-0.001, -0.001, 0.015, 0.001), "B": (0.015, -0.001, 0.065, 0.001),
             "C": (0.49, -0.001, 0.52, 0.001), "D": (0.009, 0.003, 0.011, 0.004)}
    districts = gpd.GeoDataFrame(
        {"id": list(boxes), "name": [f"District {k}" for k in boxes], "group": None,
         "weight": None}, geometry=[shapely.box(*b) for b in boxes.values()], crs="EPSG:4326")
    centres = gpd.GeoDataFrame({"name": ["west"], "lat": [0.0], "lon": [0.0]},
                               geometry=gpd.points_from_xy([0.0], [0.0]), crs="EPSG:4326")
    rule = TravelRule.from_roads(FIXTURES / "roads" / "tiny.osm", 3, cache_dir=False)
    return assess(districts, centres, rule)


@pytest.fixture(scope="session")
def postgis_server():
    """A throwaway PostgreSQL + PostGIS cluster for the session (tests/_postgis_server.py),
    started by the first test that asks for it; it fails, never skips, without PostGIS."""
    from _postgis_server import running_server

    with running_server() as server:
        yield server
