"""`reachplan coverage` on the 3x3 grid (figures from fixtures/grid/README.md)."""

from __future__ import annotations

import json

from reachplan.cli.main import cli


def test_table(runner, grid):
    res = runner.invoke(cli, ["coverage", *grid, "--group-col", "zone", "--weight-col", "pop",
                              "--type-col", "type"])
    assert res.exit_code == 0, res.output
    assert "Districts covered: 7 of 9 (77.78%)" in res.stdout
    assert "Weight covered (pop): 3,000 of 4,500 (66.67%)" in res.stdout
    assert "partner" in res.stdout and "North" in res.stdout
    assert "1 of 5 centres lie outside every district" in res.stderr


def test_table_does_not_search_nearest_centres(runner, grid, monkeypatch):
    """The table shows no nearest centre, so it does not pay for the search (a third of a
    small command's work after its imports); JSON, which lists them, does."""
    import reachplan.geodesy.polygons as polygons

    def refuse(*args, **kwargs):
        raise AssertionError("nearest-centre search")

    monkeypatch.setattr(polygons, "_nearest", refuse)
    res = runner.invoke(cli, ["coverage", *grid])
    assert res.exit_code == 0, res.output
    assert "Districts covered: 7 of 9 (77.78%)" in res.stdout
    res = runner.invoke(cli, ["coverage", *grid, "--format", "json"])
    assert isinstance(res.exception, AssertionError)


def test_json_is_the_contract(runner, grid):
    res = runner.invoke(cli, ["coverage", *grid, "--radius-km", "60", "--format", "json", "-q"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["summary"]["covered"] == 8 and data["summary"]["percent"] == 88.89
    assert data["summary"]["weight_total"] is None
    assert data["rule"] == {"kind": "radius", "min_centers": 1, "radius_km": 60.0}
    gap = [d for d in data["districts"] if not d["covered"]]
    assert [d["id"] for d in gap] == ["009"]
    assert gap[0]["nearest_center"] == "Centre of 005"
    assert abs(gap[0]["nearest_km"] - 78.434) < 0.01
    assert res.stderr == ""  # -q


def test_ids_stay_text(runner, grid):
    res = runner.invoke(cli, ["coverage", *grid, "--format", "json"])
    ids = [d["id"] for d in json.loads(res.stdout)["districts"]]
    assert ids[0] == "001"


def test_csv_and_output_file(runner, grid, tmp_path):
    out = tmp_path / "cov.csv"
    res = runner.invoke(cli, ["coverage", *grid, "-o", str(out)])
    assert res.exit_code == 0, res.output
    lines = out.read_text().splitlines()
    assert lines[0] == "id,name,group,centers,covered,nearest_km,nearest_center"
    assert lines[6].startswith("006,Cell 6,,0,False,55.287")


def test_where_filters_centres(runner, grid):
    res = runner.invoke(cli, ["coverage", *grid, "--where", "type=partner", "--format", "json"])
    assert json.loads(res.stdout)["summary"]["covered"] == 6


def test_output_is_deterministic(runner, grid, tmp_path):
    for name in ("a.json", "b.json"):
        runner.invoke(cli, ["coverage", *grid, "--weight-col", "pop", "-o",
                            str(tmp_path / name)])
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_existing_output_needs_overwrite(runner, grid, tmp_path):
    out = tmp_path / "cov.json"
    out.write_text("keep me")
    res = runner.invoke(cli, ["coverage", *grid, "-o", str(out)])
    assert res.exit_code == 2
    assert "already exists" in res.stderr and "--overwrite" in res.stderr
    assert out.read_text() == "keep me"
    res = runner.invoke(cli, ["coverage", *grid, "-o", str(out), "--overwrite"])
    assert res.exit_code == 0 and json.loads(out.read_text())["summary"]["covered"] == 7


def test_demand_points_in_json_and_table(runner, grid, tmp_path):
    # P1 is 0.1 degree from C1; P3 is 0.5 degree of meridian (55.3 km) from C5; P2 is far
    demand = tmp_path / "demand.csv"
    demand.write_text("pin,lat,lon,people\nP1,0.6,0.5,1\nP2,10,10,2\nP3,2.0,4.0,5\n")
    args = ["coverage", *grid, "--radius-km", "60", "--demand", str(demand),
            "--demand-weight-col", "people"]
    res = runner.invoke(cli, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["demand"] == {
        "points": 3, "covered": 2, "percent": 66.67, "weight_total": 8.0,
        "weight_covered": 6.0, "weight_percent": 75.0, "radius_km": 60.0,
        "cost": {"unit": "km", "reach": 60.0, "column": "nearest_km", "label": "km",
                 "text": "within 60 km"}}
    res = runner.invoke(cli, args)
    assert "Demand points within 60 km of a centre: 2 of 3 (66.67%)" in res.stdout


def test_demand_needs_radius(runner, grid, tmp_path):
    demand = tmp_path / "demand.csv"
    demand.write_text("lat,lon\n0.6,0.5\n")
    res = runner.invoke(cli, ["coverage", *grid, "--demand", str(demand)])
    assert res.exit_code == 2 and "--radius-km" in res.stderr


def test_demand_with_semicolons_and_decimal_commas(runner, grid, tmp_path):
    # the same points as above, written the European way
    demand = tmp_path / "demand.csv"
    demand.write_text("pin;lat;lon\nP1;0,6;0,5\nP2;10;10\nP3;2,0;4,0\n")
    res = runner.invoke(cli, ["coverage", *grid, "--radius-km", "60", "--demand", str(demand),
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    demand_block = json.loads(res.stdout)["demand"]
    assert (demand_block["points"], demand_block["covered"]) == (3, 2)


def test_json_warnings_include_the_demand_warnings(runner, grid, tmp_path):
    demand = tmp_path / "d.csv"
    demand.write_text("lat,lon\n0.5,0.5\nnot,a number\n")
    res = runner.invoke(cli, ["coverage", *grid, "--radius-km", "1", "--demand", str(demand),
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    said = [line.removeprefix("reachplan: warning: ") for line in res.stderr.splitlines()
            if line.startswith("reachplan: warning: ")]
    assert any("skipped 1 demand rows" in w and "(lines 3)" in w for w in said)
    assert json.loads(res.stdout)["warnings"] == said  # what stderr warned, in order
