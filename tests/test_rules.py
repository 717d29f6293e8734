"""The rule seam: a rule defined here alone runs through every question and command.

``Cells`` is a toy rule: the world is cut into 1° cells (cell = floor(lon), floor(lat)), a
district's cell is that of a point inside it, and a centre reaches a district (or a point)
when their cells are at most ``n`` apart in either direction (Chebyshev distance). Its cost is
in "cells", so the engine must report it beside, not instead of, the geodesic ``nearest_km``,
and every output (coverage, gaps, plan, demand, capacity, access, compare, check, map; from
the library and from the CLI, its rule factory patched) must carry it.

Expected figures are worked out by hand from the fixture READMEs (tests/fixtures/grid and
tests/fixtures/planning).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from reachplan.demand import demand_coverage
from reachplan.engine import assess
from reachplan.io import read_boundaries, read_points
from reachplan.planning import plan
from reachplan.rules import Cost, CoverageRule, PointReach, Rule, cost_of


def _cells(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return np.column_stack([np.floor(lon), np.floor(lat)]).astype(int)


def _apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Chebyshev distance in cells between every row of a and every row of b."""
    return np.abs(a[:, None, :] - b[None, :, :]).max(axis=2).astype(float)


@dataclass(frozen=True)
class _CellReach:
    centres: np.ndarray
    n: int

    def nearest(self, lat, lon, *, threads=1):
        cost = _apart(_cells(lon, lat), self.centres)
        idx = cost.argmin(axis=1)
        return idx.astype(np.int64), cost[np.arange(len(idx)), idx]

    def covered(self, lat, lon, *, threads=1):
        return self.nearest(lat, lon)[1] <= self.n

    def pairs(self, lat, lon, *, threads=1):
        cost = _apart(_cells(lon, lat), self.centres)
        p, c = np.nonzero(cost <= self.n)  # row-major: by point, then centre
        return p.astype(np.int64), c.astype(np.int64), cost[p, c]


@dataclass(frozen=True)
class Cells:
    n: int
    min_centers: int = 1
    unit: str = "cells"

    @property
    def reach(self) -> float:
        return float(self.n)

    @property
    def cost(self) -> Cost:
        return Cost("cells", float(self.n), "nearest_cells", "cells", f"within {self.n} cells")

    def _cost(self, districts, points) -> np.ndarray:
        inner = shapely.point_on_surface(np.asarray(districts.array))
        pts = np.asarray(points.array)
        return _apart(_cells(shapely.get_x(inner), shapely.get_y(inner)),
                      _cells(shapely.get_x(pts), shapely.get_y(pts)))

    def pairs(self, districts, points, *, inside=None):
        cost = self._cost(districts, points)
        d, p = np.nonzero(cost <= self.n)
        return d.astype(np.int64), p.astype(np.int64), cost[d, p]

    def nearest(self, districts, points, *, inside=None):
        if len(points) == 0:
            return np.full(len(districts), -1), np.full(len(districts), np.inf)
        cost = self._cost(districts, points)
        idx = cost.argmin(axis=1)
        return idx.astype(np.int64), cost[np.arange(len(idx)), idx]

    def point_reach(self, lat, lon) -> PointReach:
        return _CellReach(_cells(np.asarray(lon), np.asarray(lat)), self.n)

    def ring_m(self):
        return None

    def describe(self) -> str:
        return f"a centre within {self.n} cells"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "cells", "n": self.n, "min_centers": self.min_centers}


def test_toy_rule_satisfies_the_protocol():
    assert isinstance(Cells(0), CoverageRule)
    assert isinstance(Rule.radius(5), CoverageRule) and isinstance(Rule(), CoverageRule)


def test_assess_through_a_toy_rule(grid):
    """Grid centre cells: C1 (0,0)=001, C2 (1,1)=005, C3 (2,0)=003, C4 (1,2)=008, C5 (4,1)
    outside. With n=0 exactly those four districts are covered: 4 of 9; weight
    100+300+500+800 = 1700 of 4500 (37.78 %)."""
    districts = read_boundaries(grid[0], weight_col="pop")
    result = assess(districts, read_points(grid[1]), Cells(0))
    assert result.summary["covered"] == 4
    assert result.summary["percent"] == 44.44
    assert result.summary["weight_percent"] == 37.78
    rows = result.districts.set_index("id")
    assert sorted(rows.index[rows["covered"]]) == ["001", "003", "005", "008"]
    # the rule's cost goes to its own column; nearest_km stays geodesic: 006's nearest centre
    # as the crow flies is C3, 55.287 km away (grid README), though C2 is as near in cells.
    assert rows.loc["006", "nearest_cells"] == 1.0
    assert rows.loc["006", "nearest_km"] == pytest.approx(55.287, abs=1e-3)
    assert rows.loc["006", "nearest_center"] == "Edge 002|003"
    record = next(d for d in result.to_dict()["districts"] if d["id"] == "006")
    assert record["nearest_cells"] == 1.0
    assert result.to_dict()["rule"] == {"kind": "cells", "n": 0, "min_centers": 1}


def test_assess_counts_pairs_when_several_centres_are_needed(grid):
    """n=1, two centres: C2's cell (1,1) reaches all nine; C1 (0,0) reaches 001 002 004 005;
    C3 (2,0) 002 003 005 006; C4 (1,2) 004-009; C5 (4,1) none. Counts: 001 2 (C1 C2),
    002 3 (C1 C2 C3), 003 2, 004 3 (C1 C2 C4), 005 4, 006 3 (C2 C3 C4), 007 2, 008 2, 009 2:
    two or more everywhere (9 of 9), three or more in 002 004 005 006."""
    districts = read_boundaries(grid[0])
    result = assess(districts, read_points(grid[1]), Cells(1, min_centers=2))
    assert result.summary["covered"] == 9
    result = assess(districts, read_points(grid[1]), Cells(1, min_centers=3))
    covered = result.districts.set_index("id")["covered"]
    assert sorted(covered.index[covered]) == ["002", "004", "005", "006"]


def test_demand_coverage_through_a_toy_rule(grid):
    """Points in cells (0,0) [C1], (2,2) [no centre], (4,1) [C5]: 2 of 3 with n=0."""
    frame = pd.DataFrame({"lat": [0.3, 2.5, 1.2], "lon": [0.2, 2.5, 4.5]})
    res = demand_coverage(read_points(grid[1]), frame, Cells(0))
    assert (res.summary["points"], res.summary["covered"]) == (3, 2)
    assert res.points["covered"].tolist() == [True, False, True]
    assert res.points["nearest_cells"].tolist() == [0.0, 1.0, 0.0]
    assert "nearest_km" not in res.points.columns


def test_plan_through_a_toy_rule(fixtures_dir):
    """Planning fixture cells x = 0..7 on one row. n=1: Existing (x=7) covers 07 and 08;
    A-edge (x=3) would cover 03 04 05, B-mid (x=1) 01 02 03, C-mid (x=4) 04 05 06. Adding two:
    B + C cover the six open districts, 8 of 8."""
    base = fixtures_dir / "planning"
    districts = read_boundaries(base / "districts.geojson")
    candidates = read_points(base / "candidates.csv")
    out = plan(districts, read_points(base / "centres.csv"), Cells(1), add=2,
               candidates=candidates, method="exact")
    assert out["before"]["covered"] == 2
    assert sorted(s["name"] for s in out["sites"]) == ["B-mid", "C-mid"]
    assert out["after"]["covered"] == 8


@dataclass(frozen=True)
class _FarIsCheap(Cells):
    """Cells, but the reported cost runs against distance: 10 minus the cells apart."""

    def nearest(self, districts, points, *, inside=None):
        idx, cost = super().nearest(districts, points, inside=inside)
        return idx, 10.0 - cost


def test_gaps_are_ranked_by_the_rules_own_cost(grid):
    """Without weights, gaps rank by the rule's cost (descending), then nearest_km. One centre
    at (0.5, 0.5), in 001's cell: cells apart 1 for 002 004 005 (cost 9), 2 for the other five
    (cost 8). Among cost 9 by km: 005's corner (1, 1) is ~78.6 km away, 002's edge at lon 1
    0.5° of longitude at the equator (55.66 km), 004's at lat 1 0.5° of latitude (55.29 km);
    then 009, whose corner (2, 2) is ~235 km away. By km alone 009 would come first."""
    import geopandas as gpd

    centre = gpd.GeoDataFrame({"name": ["only"], "lat": [0.5], "lon": [0.5]},
                              geometry=gpd.points_from_xy([0.5], [0.5]), crs=4326)
    result = assess(read_boundaries(grid[0]), centre, _FarIsCheap(0))
    gaps = result.gaps()
    assert gaps["id"].tolist()[:4] == ["005", "002", "004", "009"]
    assert gaps["nearest_cells"].tolist()[:4] == [9.0, 9.0, 9.0, 8.0]


# --------------------------------------------------------------------- every question, every
# command. Grid cells (tests/fixtures/grid): district 00k is cell ((k-1) % 3, (k-1) // 3);
# centres C1 (0,0), C2 (1,1), C3 (2,0) [lon 2.0 is cell 2], C4 (1,2) [lat 2.0: cell 2],
# C5 (4,1). With n = 0: covered 001 003 005 008 (a centre in their cell); every gap, 002 004
# 006 007 009, is 1 cell from its nearest centre (the first in file order among equals: 002
# and 004 C1; 006 007 009 C2).

CELLS0 = {"unit": "cells", "reach": 0.0, "column": "nearest_cells", "label": "cells",
          "text": "within 0 cells"}
NEAREST_CELLS = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]  # 001..009
BY_CELLS = ["Inside 001", "Inside 001", "Edge 002|003", "Inside 001", "Centre of 005",
            "Centre of 005", "Centre of 005", "Corner 004|005|007|008", "Centre of 005"]


@pytest.fixture
def cells_cli(monkeypatch, runner):
    """Run the CLI in-process with its rule factory making ``Cells(n)``."""
    from reachplan.cli.main import cli

    def run(n: int, *args: str, code: int = 0):
        monkeypatch.setattr("reachplan.cli.inputs.make_rule", lambda *a, **k: Cells(n))
        res = runner.invoke(cli, list(args))
        assert res.exit_code == code, res.output
        return res
    return run


def _points(tmp_path, rows=((0.3, 0.2, 1), (2.5, 2.5, 1), (1.2, 4.5, 1))):
    """Demand points in cells (0,0) [C1], (2,2) [1 from C2 and C4], (4,1) [C5]."""
    path = tmp_path / "points.csv"
    path.write_text("pid,lat,lon,people\n" + "".join(
        f"P{k},{lat},{lon},{w}\n" for k, (lat, lon, w) in enumerate(rows, start=1)))
    return str(path)


def _two_centres(tmp_path):
    """C1 (cell 0,0) capacity 1, C2 (cell 1,1) capacity 5."""
    path = tmp_path / "two.csv"
    path.write_text("name,lat,lon,cap\nC1,0.5,0.5,1\nC2,1.5,1.5,5\n")
    return str(path)


def test_a_rule_without_a_cost_gets_one_from_its_unit():
    @dataclass(frozen=True)
    class Old(Cells):
        @property
        def cost(self):  # a rule written before 0.2: no descriptor
            return None

    assert cost_of(Old(2)) == Cost("cells", 2.0, "nearest_cells", "cells", "within 2 cells",
                                   reach_keys=(("reach_cells", 2.0),))
    assert cost_of(Rule.radius(5)).to_dict() == {"unit": "km", "reach": 5.0,
                                                 "column": "nearest_km", "label": "km",
                                                 "text": "within 5 km"}


def test_library_coverage_gaps_and_json_carry_the_cost(grid):
    result = assess(read_boundaries(grid[0], weight_col="pop"), read_points(grid[1]), Cells(0))
    data = result.to_dict()
    assert data["cost"] == CELLS0
    assert [d["nearest_cells"] for d in data["districts"]] == NEAREST_CELLS
    assert [d["nearest_cells_center"] for d in data["districts"]] == BY_CELLS
    gaps = result.gaps()  # by weight (pop = 100 x k): 009 007 006 004 002
    assert gaps["id"].tolist() == ["009", "007", "006", "004", "002"]
    assert gaps["nearest_cells"].tolist() == [1.0] * 5


def test_library_demand_plan_compare_check_and_map_carry_the_cost(grid, fixtures_dir):
    from reachplan import maps
    from reachplan.checks import evaluate, parse_rules
    from reachplan.checks.compare import compare_results

    frame = pd.DataFrame({"lat": [0.3, 2.5, 1.2], "lon": [0.2, 2.5, 4.5]})
    summary = demand_coverage(read_points(grid[1]), frame, Cells(0)).summary
    assert (summary["covered"], summary["cost"]) == (2, CELLS0)

    base = fixtures_dir / "planning"
    out = plan(read_boundaries(base / "districts.geojson"), read_points(base / "centres.csv"),
               Cells(1), add=2, candidates=read_points(base / "candidates.csv"))
    assert out["cost"] == {**CELLS0, "reach": 1.0, "text": "within 1 cells"}

    districts, centres = read_boundaries(grid[0]), read_points(grid[1])
    a = assess(districts, centres, Cells(0)).to_dict()
    b = assess(districts, centres.iloc[1:], Cells(0)).to_dict()  # without C1
    changes = compare_results(a, b)
    assert changes["by"] == "nearest_cells" and changes["cost_a"] == CELLS0
    # 001 loses C1 (0 cells) and is 1 cell from C2 in B; 002 and 004 stay 1 cell away
    first = changes["changes"][0]
    assert (first["id"], first["change"], first["nearest_cells_a"], first["nearest_cells_b"],
            first["nearest_cells_change"]) == ("001", "lost", 0.0, 1.0, 1.0)
    assert {c["change"] for c in changes["changes"][1:]} == {"same"}

    spec = parse_rules({"rule": [{"metric": "max_nearest_cost", "fail_above": 0.5}]})
    (outcome,) = evaluate(spec.rules, a)
    assert (outcome.value, outcome.status) == (1.0, "fail")
    assert outcome.message.startswith("1.000 cells from the farthest district")
    assert outcome.details[0] == "002 Cell 2 (nearest centre 1.000 cells)"

    page = maps.map_html(maps.coverage_map(assess(districts, centres, Cells(0))))
    cost = _page_data(page)["cost"]
    assert (cost["reach"], cost["unit"], cost["label"], cost["how"]) == (0.0, "cells", "cells",
                                                                         "")
    assert cost["nearest"] == NEAREST_CELLS and cost["centre"] == BY_CELLS
    assert "road_nodes_within_pct" not in cost


def test_library_capacity_and_access_use_the_cost(grid, tmp_path):
    """Cells(1): P1 (0,0) is reached by C1 (0 cells) and C2 (1), P2 (2,2) by C2 (1), P3
    (4,1) by none. Capacity C1 1, C2 5, demand 1 each: P1 -> C1, P2 -> C2; 2 served, total
    cost 1 cell. 2SFCA: R_C1 = 1/1, R_C2 = 5/2; A_P1 = 3.5, A_P2 = 2.5, A_P3 = 0."""
    from reachplan.capacity import accessibility, assess_capacity, pairs_for_rule

    points, centres = read_points(_points(tmp_path)), read_points(_two_centres(tmp_path))
    p, c, k = pairs_for_rule(points, centres, Cells(1))
    assert (p.tolist(), c.tolist(), k.tolist()) == ([0, 0, 1], [0, 1, 1], [0.0, 1.0, 1.0])
    run = assess_capacity(read_boundaries(grid[0]), centres, Cells(1), capacity="cap",
                          demand=points)
    assert (run.block["served"], run.block["total_cost"]) == (2, 1.0)
    assert run.block["model"]["cost_unit"] == "cells"
    assert run.centres["load"].tolist() == [1.0, 1.0]
    values = accessibility(p, c, k, np.ones(3), np.array([1.0, 5.0]), max_cost=Cells(1).reach)
    assert values.tolist() == [3.5, 2.5, 0.0]


def _page_data(page: str) -> dict:
    import json
    import re

    found = re.search(r'<script type="application/json" id="[^"]+">\n(.*?)</script>', page,
                      re.S)
    assert found
    return json.loads(found.group(1))


def test_cli_coverage_gaps_demand_and_map_carry_the_cost(cells_cli, grid, tmp_path):
    import json

    data = json.loads(cells_cli(0, "coverage", *grid, "--format", "json").stdout)
    assert data["cost"] == CELLS0
    assert [d["nearest_cells"] for d in data["districts"]] == NEAREST_CELLS
    csv = cells_cli(0, "coverage", *grid, "--format", "csv").stdout.splitlines()
    assert "nearest_cells" in csv[0].split(",")

    gaps = tmp_path / "gaps.csv"
    cells_cli(0, "gaps", *grid, "--weight-col", "pop", "-o", str(gaps))
    table = pd.read_csv(gaps, dtype={"id": str})
    assert table["id"].tolist() == ["009", "007", "006", "004", "002"]
    assert table["nearest_cells"].tolist() == [1.0] * 5

    points, out = _points(tmp_path), tmp_path / "pts.csv"
    args = ["coverage", *grid, "--demand", points, "--demand-output", str(out)]
    demand = json.loads(cells_cli(0, *args, "--format", "json").stdout)["demand"]
    assert (demand["covered"], demand["cost"]) == (2, CELLS0)
    assert pd.read_csv(out)["nearest_cells"].tolist() == [0.0, 1.0, 0.0]
    text = cells_cli(0, *args, "--overwrite").stdout
    assert "Demand points within 0 cells of a centre: 2 of 3 (66.67%)" in text

    page = tmp_path / "m.html"
    cells_cli(0, "map", *grid, "-o", str(page))
    cost = _page_data(page.read_text(encoding="utf-8"))["cost"]
    assert (cost["unit"], cost["nearest"], cost["centre"]) == ("cells", NEAREST_CELLS,
                                                               BY_CELLS)


def test_cli_plan_compare_and_check_carry_the_cost(cells_cli, grid, fixtures_dir, tmp_path):
    import json

    base = fixtures_dir / "planning"
    out = json.loads(cells_cli(1, "plan", str(base / "districts.geojson"),
                               str(base / "centres.csv"), "--add", "2", "--candidates",
                               str(base / "candidates.csv"), "--format", "json").stdout)
    assert sorted(s["name"] for s in out["sites"]) == ["B-mid", "C-mid"]
    assert out["cost"]["column"] == "nearest_cells" and out["cost"]["reach"] == 1.0

    fewer = tmp_path / "fewer.csv"  # the grid's centres without C1
    lines = Path(grid[1]).read_text().splitlines()
    fewer.write_text("\n".join([lines[0], *lines[2:]]) + "\n")
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    cells_cli(0, "coverage", *grid, "--format", "json", "-o", str(a))
    cells_cli(0, "coverage", grid[0], str(fewer), "--format", "json", "-o", str(b))
    text = cells_cli(0, "compare", str(a), str(b)).stdout
    assert "cells A" in text and "cells change" in text
    row = next(line.split() for line in text.splitlines() if line.startswith("001"))
    assert row[:4] == ["001", "Cell", "1", "lost"] and row[4:7] == ["0.00", "1.00", "+1.00"]
    direct = json.loads(cells_cli(0, "compare", grid[1], str(fewer), "--boundaries", grid[0],
                                  "--format", "json").stdout)
    assert direct["by"] == "nearest_cells" and direct["cost_b"] == CELLS0

    rules = tmp_path / "reachplan.toml"
    rules.write_text('[[rule]]\nname = "far"\nmetric = "max_nearest_cost"\nfail_above = 0.5\n')
    res = cells_cli(0, "check", *grid, "--rules", str(rules), "--format", "json", code=1)
    (result,) = json.loads(res.stdout)["check"]["results"]
    assert result["value"] == 1.0
    assert result["message"].startswith("1.000 cells from the farthest district")
    assert result["details"][0] == "002 Cell 2 (nearest centre 1.000 cells)"


def test_cli_capacity_and_access_carry_the_cost(cells_cli, grid, tmp_path):
    """As in test_library_capacity_and_access_use_the_cost, through the commands."""
    import json

    points, centres = _points(tmp_path), _two_centres(tmp_path)
    data = json.loads(cells_cli(1, "coverage", grid[0], centres, "--capacity-col", "cap",
                                "--demand", points, "--format", "json").stdout)
    block = data["capacity"]
    assert block["model"]["cost_unit"] == "cells" and block["model"]["rule"]["kind"] == "cells"
    assert (block["served"], block["total_cost"]) == (2, 1.0)
    out = tmp_path / "access.csv"
    cells_cli(1, "access", centres, "--capacity-col", "cap", "--demand", points,
              "--radius-km", "1", "-o", str(out))
    table = pd.read_csv(out)
    assert table["accessibility"].tolist() == [3.5, 2.5, 0.0]
    assert table["centres_in_reach"].tolist() == [2, 1, 0]


def test_capacity_entries_name_their_parameters(grid, tmp_path, fixtures_dir):
    """The library entries of capacity speak Python: errors name the parameter."""
    from reachplan.capacity import assess_capacity, plan_capacity
    from reachplan.errors import InputError

    districts, centres = read_boundaries(grid[0]), read_points(_two_centres(tmp_path))
    with pytest.raises(InputError, match="^demand, demand_rate: give one") as err:
        assess_capacity(districts, centres, Cells(1), capacity="cap")
    assert err.value.params == ("demand", "demand_rate")
    with pytest.raises(InputError, match="^demand_rate: needs the districts' weights") as err:
        assess_capacity(districts, centres, Cells(1), capacity="cap", demand_rate=0.5)
    assert err.value.params == ("demand_rate", "weight_col")
    weighted = read_boundaries(grid[0], weight_col="pop")
    with pytest.raises(InputError, match="^demand_rate=-1: give a rate >= 0") as err:
        assess_capacity(weighted, centres, Cells(1), capacity="cap", demand_rate=-1.0)
    assert err.value.params == ("demand_rate",)
    # district demand, pop x 0.01: Cells(0) pairs 001 with C1 (cap 1, demand 1) and 005
    # with C2 (cap 5, demand 5); the other seven districts reach no centre
    run = assess_capacity(weighted, centres, Cells(0), capacity="cap", demand_rate=0.01)
    assert (run.block["served"], run.block["demand"]) == (6, 45)
    assert run.block["model"]["demand"] == "district 'pop' x 0.01 (demand_rate)"
    points = read_points(_points(tmp_path))
    candidates = read_points(fixtures_dir / "planning" / "candidates.csv")
    with pytest.raises(InputError, match="^candidate_capacity=-2: give a capacity") as err:
        plan_capacity(districts, centres, Cells(1), capacity="cap", candidates=candidates,
                      candidate_capacity=-2, demand=points, add=1)
    assert err.value.params == ("candidate_capacity", "candidates")
    with pytest.raises(InputError, match="^target_pct=120: give a percentage") as err:
        plan_capacity(districts, centres, Cells(1), capacity="cap", candidates=candidates,
                      candidate_capacity=1, demand=points, target_pct=120)
    assert err.value.params == ("target_pct",)
