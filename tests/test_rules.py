"""The rule seam: a rule defined here alone runs through assess, demand_coverage and plan.

``Cells`` is a toy rule: the world is cut into 1° cells (cell = floor(lon), floor(lat)), a
district's cell is that of a point inside it, and a centre reaches a district (or a point)
when their cells are at most ``n`` apart in either direction (Chebyshev distance). Its cost is
in "cells", so the engine must report it beside, not instead of, the geodesic ``nearest_km``.

Expected figures are worked out by hand from the fixture READMEs (tests/fixtures/grid and
tests/fixtures/planning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from reachplan.demand import demand_coverage
from reachplan.engine import assess
from reachplan.io import read_boundaries, read_points
from reachplan.planning import plan
from reachplan.rules import CoverageRule, PointReach, Rule


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


@dataclass(frozen=True)
class Cells:
    n: int
    min_centers: int = 1
    unit: str = "cells"

    @property
    def reach(self) -> float:
        return float(self.n)

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
