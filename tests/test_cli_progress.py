"""The CLI's one progress display: a bar on a terminal, nothing in pipes and CI logs."""

from __future__ import annotations

import io

from reachplan.cli.main import cli
from reachplan.cli.output import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_on_a_terminal(monkeypatch):
    screen = _Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    bar = Progress("reachplan: demand parts")
    for done in (1, 2, 3):
        bar(done, 3)
    bar.close()
    shown = screen.getvalue()
    assert "reachplan: demand parts" in shown
    assert "1/3" in shown and "3/3" in shown and "100%" in shown


def test_a_status_line_where_no_total_is_known(monkeypatch):
    screen = _Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    bar = Progress("reachplan: plan")
    bar.note("exact: gap 1.00%")
    bar.close()
    assert screen.getvalue() == "\rreachplan: plan: exact: gap 1.00%   \n"


def test_nothing_in_a_pipe(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    bar = Progress("reachplan: demand parts")
    bar(1, 2)
    bar.note("anything")
    bar.close()
    assert pipe.getvalue() == ""


def test_demand_run_in_a_pipe_prints_no_progress(runner, grid, tmp_path):
    demand = tmp_path / "d.csv"
    demand.write_text("lat,lon\n0.5,0.5\n0.6,0.6\n0.7,0.7\n")
    res = runner.invoke(cli, ["coverage", *grid, "--radius-km", "1", "--demand", str(demand),
                              "--demand-chunksize", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
