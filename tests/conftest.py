"""Shared fixtures: a CLI runner and the tiny hand-computable fixture files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"


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
