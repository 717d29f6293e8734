"""Shared fixtures: a CLI runner and the tiny hand-computable fixture files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def road_cache(tmp_path_factory) -> Path:
    """One road-graph cache for the session, never the user's ~/.cache/covplan."""
    return tmp_path_factory.mktemp("covplan-cache")


@pytest.fixture(autouse=True)
def _private_road_cache(road_cache, monkeypatch) -> None:
    """Every test builds road graphs in ``road_cache`` ($COVPLAN_CACHE_DIR; a test may point
    it elsewhere), so no test run writes to the user's home."""
    monkeypatch.setenv("COVPLAN_CACHE_DIR", str(road_cache))


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
