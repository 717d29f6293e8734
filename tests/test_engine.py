"""The engine on the 3x3 grid: every expected figure is worked out in fixtures/grid/README.md."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from reachplan.engine import Rule, assess
from reachplan.errors import InputError
from reachplan.io import read_boundaries, read_points


@pytest.fixture
def inputs(grid):
    boundaries, centres = grid
    districts = read_boundaries(boundaries, group_col="zone", weight_col="pop")
    return districts, read_points(centres)


def by_id(result):
    return result.districts.set_index("id")


def test_presence_counts_edges_and_corners(inputs):
    result = assess(*inputs, Rule())
    d = by_id(result)
    assert sorted(d.index[d["covered"]]) == ["001", "002", "003", "004", "005", "007", "008"]
    assert d["centers"].to_dict() == {"001": 1, "002": 1, "003": 1, "004": 1, "005": 2,
                                      "006": 0, "007": 1, "008": 1, "009": 0}
    assert result.summary == {"districts": 9, "covered": 7, "percent": 77.78,
                              "weight_total": 4500.0, "weight_covered": 3000.0,
                              "weight_percent": 66.67}


def test_nearest_centres_of_gaps(inputs):
    d = by_id(assess(*inputs, Rule()))
    assert d.loc["006", "nearest_center"] == "Edge 002|003"
    assert d.loc["006", "nearest_km"] == pytest.approx(55.287, abs=0.01)
    assert d.loc["009", "nearest_center"] == "Centre of 005"
    assert d.loc["009", "nearest_km"] == pytest.approx(78.434, abs=0.01)
    assert d.loc["001", "nearest_km"] == 0.0


@pytest.mark.parametrize(("rule", "searched"), [(Rule(), False), (Rule.radius(60), True),
                                               (Rule.radius(60, min_centers=3), False)])
def test_nearest_false_skips_the_search_not_the_decision(inputs, rule, searched):
    """nearest=False (a summary's callers) decides the same; the nearest columns are missing
    (NaN, not inf: not searched) unless the rule's decision searched them anyway."""
    full, summary = assess(*inputs, rule), assess(*inputs, rule, nearest=False)
    assert summary.summary == full.summary and summary.groups == full.groups
    assert summary.districts["covered"].tolist() == full.districts["covered"].tolist()
    assert summary.districts["centers"].tolist() == full.districts["centers"].tolist()
    if searched:  # one centre within 60 km: the nearest search is the decision (006: 55.3 km)
        assert by_id(summary).loc["006", "nearest_km"] == pytest.approx(55.287, abs=0.01)
    else:
        assert summary.districts["nearest_km"].isna().all()
        assert summary.districts["nearest_center"].isna().all()


@pytest.mark.parametrize(("radius", "covered"), [(0, 7), (55, 7), (60, 8), (78, 8), (80, 9)])
def test_radius_rule(inputs, radius, covered):
    assert assess(*inputs, Rule.radius(radius)).summary["covered"] == covered


def test_min_centers(inputs):
    # only 005 holds two centres
    result = assess(*inputs, Rule("presence", min_centers=2))
    assert by_id(result).index[by_id(result)["covered"]].tolist() == ["005"]
    # within 60 km (half a degree is 55.3-55.6 km, a diagonal half degree 78.4 km):
    # 002: C3 on its edge, C1 0.5 deg west, C2 0.5 deg north -> 3 (C4 is 1 deg away)
    # 004: C4 on its corner, C1 0.5 deg south, C2 0.5 deg east -> 3
    # 005: C2 and C4 inside, C3 0.5 deg below its corner (2, 1) -> 3 (C1 is diagonal)
    # every other district has at most 2 (e.g. 001: C1 inside, C3 at 1 deg, C2 diagonal)
    result = assess(*inputs, Rule.radius(60, min_centers=3))
    assert by_id(result).index[by_id(result)["covered"]].tolist() == ["002", "004", "005"]


@pytest.mark.parametrize(("rule", "covered"), [
    (Rule(), ["001", "002", "003", "004", "005", "007", "008"]),
    (Rule.radius(60), ["001", "002", "003", "004", "005", "006", "007", "008"]),
    (Rule.radius(60, min_centers=3), ["002", "004", "005"]),
])
def test_decide_is_the_decision_alone(inputs, rule, covered):
    """decide() answers the grid README's hand figures (and the checks above) in district
    order, without a report; on one district it decides that district."""
    from reachplan.engine import decide

    districts, centres = inputs
    got = decide(districts, centres, rule)
    assert got.dtype == bool and districts["id"][got].tolist() == covered
    assert decide(districts.iloc[[8]], centres, Rule.radius(80)).tolist() == [True]  # 009


def test_groups_and_types(inputs):
    result = assess(*inputs, Rule(), type_col="type")
    groups = {g["group"]: (g["districts"], g["covered"]) for g in result.groups}
    assert groups == {"Middle": (3, 2), "North": (3, 2), "South": (3, 3)}
    types = {t["type"]: (t["centers"], t["covered"]) for t in result.types}
    assert types == {"direct": (3, 2), "partner": (2, 6)}


def test_an_unknown_type_column_names_the_parameter(inputs):
    # the library names type_col (the command line names --type-col: tests/test_io.py)
    with pytest.raises(InputError, match=r"no column 'kind' \(given by type_col\)") as err:
        assess(*inputs, Rule(), type_col="kind")
    assert err.value.params == ("type_col",)


def test_centre_outside_is_reported(inputs):
    result = assess(*inputs, Rule())
    assert result.centers.set_index("id").loc["C5", "district"] is None
    assert any("1 of 5 centres lie outside" in w and "East of the grid" in w
               for w in result.warnings)


def test_gaps_order_weight_then_distance(inputs):
    gaps = assess(*inputs, Rule()).gaps()
    assert gaps["id"].tolist() == ["009", "006"]  # weight 900 before 600
    districts, centres = inputs
    unweighted = districts.assign(weight=float("nan"))
    gaps = assess(unweighted, centres, Rule()).gaps()
    assert gaps["id"].tolist() == ["009", "006"]  # 78.4 km before 55.3 km


def test_json_contract_shape(inputs):
    data = assess(*inputs, Rule.radius(60)).to_dict()
    assert list(data) == ["summary", "rule", "cost", "inputs", "groups", "types", "districts",
                          "warnings"]
    assert data["rule"] == {"kind": "radius", "min_centers": 1, "radius_km": 60.0}
    assert data["cost"] == {"unit": "km", "reach": 60.0, "column": "nearest_km", "label": "km",
                            "text": "within 60 km"}
    presence = assess(*inputs, Rule()).to_dict()["cost"]
    assert presence == {"unit": "km", "reach": 0.0, "column": "nearest_km", "label": "km",
                        "text": "a centre inside"}
    first = data["districts"][0]
    assert list(first) == ["id", "name", "group", "weight", "centers", "covered", "nearest_km",
                           "nearest_center"]
    assert [d["id"] for d in data["districts"]] == [f"{i:03d}" for i in range(1, 10)]


def test_swapped_coordinates_are_named(inputs):
    districts, centres = inputs
    swapped = centres.copy()
    swapped["lat"], swapped["lon"] = centres["lon"], centres["lat"]
    swapped = gpd.GeoDataFrame(swapped, geometry=gpd.points_from_xy(swapped["lon"],
                                                                    swapped["lat"]), crs=4326)
    # mirror the grid across the diagonal so swapped points fall outside every district
    moved = districts.copy()
    moved["geometry"] = [shapely.affinity.translate(g, 10, 0) for g in districts.geometry]
    original = centres.assign(lon=centres["lon"] + 10)
    shifted = gpd.GeoDataFrame(original, geometry=gpd.points_from_xy(original["lon"],
                                                                     original["lat"]), crs=4326)
    assess(moved, shifted, Rule())  # fine the right way round
    flipped = shifted.copy()
    flipped["lat"], flipped["lon"] = shifted["lon"], shifted["lat"]
    flipped = gpd.GeoDataFrame(flipped, geometry=gpd.points_from_xy(flipped["lon"],
                                                                    flipped["lat"]), crs=4326)
    with pytest.raises(InputError, match="look swapped"):
        assess(moved, flipped, Rule())


@pytest.mark.parametrize("make, param", [
    (lambda: Rule.radius(-1), "km=-1"),
    (lambda: Rule.radius(float("inf")), "km=inf"),
    (lambda: Rule.radius(float("nan")), "km=nan"),
    (lambda: Rule.presence(min_centers=0), "min_centers=0"),
    (lambda: Rule.radius(5, min_centers=1.5), "min_centers=1.5"),
])
def test_rule_validation_names_the_parameter(make, param):
    """The library speaks Python: errors name the parameter, never a CLI flag."""
    with pytest.raises(InputError) as err:
        make()
    assert str(err.value).startswith(param + ":")
    assert "--" not in str(err.value)


def test_no_centres_covers_nothing(inputs):
    districts, centres = inputs
    result = assess(districts, centres.iloc[:0], Rule.radius(50))
    assert result.summary["covered"] == 0
    assert result.districts["nearest_center"].isna().all()
    assert result.to_dict()["districts"][0]["nearest_km"] is None
