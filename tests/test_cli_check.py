"""`reachplan check`: exit 0 when met, 1 when not, 2 on bad input."""

from __future__ import annotations

import json

from reachplan.cli.main import cli


def test_met(runner, grid):
    res = runner.invoke(cli, ["check", *grid, "--min-percent", "77"])
    assert res.exit_code == 0, res.output
    assert "Districts covered: 7 of 9" in res.stdout and "OK" in res.stderr


def test_not_met(runner, grid):
    res = runner.invoke(cli, ["check", *grid, "--min-percent", "80"])
    assert res.exit_code == 1
    assert "77.78% of districts covered, below --min-percent 80" in res.stderr


def test_weight_threshold(runner, grid):
    args = ["check", *grid, "--weight-col", "pop", "--min-percent", "50"]
    assert runner.invoke(cli, [*args, "--min-weight-percent", "66"]).exit_code == 0
    res = runner.invoke(cli, [*args, "--min-weight-percent", "67"])
    assert res.exit_code == 1 and "66.67% of weight covered" in res.stderr


def test_json(runner, grid):
    res = runner.invoke(cli, ["check", *grid, "--min-percent", "50", "--radius-km", "80",
                              "--format", "json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["summary"]["percent"] == 100.0


def test_bad_input_is_2(runner, grid, tmp_path):
    res = runner.invoke(cli, ["check", grid[0], str(tmp_path / "missing.csv"),
                              "--min-percent", "50"])
    assert res.exit_code == 2 and "missing.csv: file not found" in res.stderr


def test_percent_out_of_range(runner, grid):
    res = runner.invoke(cli, ["check", *grid, "--min-percent", "120"])
    assert res.exit_code == 2 and "--min-percent" in res.stderr


def test_weight_threshold_needs_weight(runner, grid):
    res = runner.invoke(cli, ["check", *grid, "--min-percent", "50",
                              "--min-weight-percent", "50"])
    assert res.exit_code == 2 and "--weight-col" in res.stderr


def test_weight_threshold_alone(runner, grid):
    # issue 8: a weight threshold needs no --min-percent beside it (weight 3000 of 4500)
    args = ["check", *grid, "--weight-col", "pop"]
    assert runner.invoke(cli, [*args, "--min-weight-percent", "66"]).exit_code == 0
    res = runner.invoke(cli, [*args, "--min-weight-percent", "67"])
    assert res.exit_code == 1 and "66.67% of weight covered, below --min-weight-percent 67" \
        in res.stderr


def test_nothing_to_check_is_2(runner, grid):
    res = runner.invoke(cli, ["check", *grid])
    assert res.exit_code == 2 and "--min-percent" in res.stderr and "--rules" in res.stderr
    assert res.stdout == ""
