"""Counts and changes in words (issue 18.6: "1 differences", "-0.00 points")."""

from __future__ import annotations

import json

import pytest

from reachplan._words import plural, signed
from reachplan.cli.main import cli


@pytest.mark.parametrize(("n", "text"), [(0, "0 differences"), (1, "1 difference"),
                                         (2, "2 differences"), (1500, "1,500 differences")])
def test_plural(n, text):
    assert plural(n, "difference") == text


def test_plural_irregular():
    assert plural(1, "centre") == "1 centre" and plural(3, "city", "cities") == "3 cities"


@pytest.mark.parametrize(("value", "text"), [(0.0, "0.00"), (-0.0, "0.00"), (-0.004, "0.00"),
                                             (0.004, "0.00"), (1.5, "+1.50"), (-0.25, "-0.25")])
def test_signed_never_shows_minus_zero(value, text):
    assert signed(value) == text


def test_check_against_an_unchanged_baseline_says_0_00_points(runner, grid, tmp_path):
    base = tmp_path / "base.json"
    res = runner.invoke(cli, ["coverage", *grid, "--format", "json", "-o", str(base)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["check", *grid, "--baseline", str(base), "--max-drop", "0.5"])
    assert res.exit_code == 0, res.output
    assert "(0.00 points)" in res.output and "-0.00" not in res.output
    assert "0 districts lost coverage" in res.output


def test_check_expect_with_one_difference_says_difference(runner, grid, tmp_path):
    expect = tmp_path / "expected.json"
    res = runner.invoke(cli, ["coverage", *grid, "--format", "json", "-o", str(expect)])
    assert res.exit_code == 0, res.output
    data = json.loads(expect.read_text())
    data["districts"][0]["covered"] = not data["districts"][0]["covered"]
    expect.write_text(json.dumps(data))
    res = runner.invoke(cli, ["check", *grid, "--expect", str(expect)])
    assert res.exit_code == 1, res.output
    assert "1 difference from" in res.output and "1 differences" not in res.output
