"""Expansion planning: the matrix core against hand-derived optima and brute force."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reachplan.errors import InputError
from reachplan.planning import greedy_order, solve_matrix

# The greedy trap (hand-derived). Six districts d0..d5, three candidate sites:
#   A covers d0 d1 d3 d4   (4 districts)
#   B covers d0 d1 d2      (3)
#   C covers d3 d4 d5      (3)
# Greedy takes A first (4 > 3), then B or C adds one district: 5 of 6.
# With K = 2 the optimum is B + C: their sets are disjoint, 3 + 3 = 6 of 6.
# For "cover 100%" the fewest sites is 2 (B + C); no single site covers all six.
TRAP = np.array(
    [
        # A  B  C
        [1, 1, 0],  # d0
        [1, 1, 0],  # d1
        [0, 1, 0],  # d2
        [1, 0, 1],  # d3
        [1, 0, 1],  # d4
        [0, 0, 1],  # d5
    ],
    dtype=bool,
)


def test_greedy_falls_into_the_trap() -> None:
    p = solve_matrix(TRAP, add=2, method="greedy")
    assert p.sites == [0, 1]  # A, then B (tie with C broken by candidate order)
    assert p.gain_count == [4, 1]
    assert p.covers == [[0, 1, 3, 4], [2]]
    assert p.covered_count == 5
    assert p.method == "greedy" and p.status == "heuristic" and p.optimality_gap is None


@pytest.mark.parametrize("method", ["exact", "auto"])
def test_exact_finds_the_hand_optimum(method: str) -> None:
    p = solve_matrix(TRAP, add=2, method=method)
    assert sorted(p.sites) == [1, 2]
    assert p.covered_count == 6
    assert p.gain_count == [3, 3]
    assert p.status == "optimal" and p.optimality_gap == 0.0 and p.method == "exact"


def test_target_fewest_sites() -> None:
    p = solve_matrix(TRAP, target=100, method="exact")
    assert sorted(p.sites) == [1, 2] and p.target_reached is True
    # greedy needs three sites for 100%: A, B, C
    g = solve_matrix(TRAP, target=100, method="greedy")
    assert len(g.sites) == 3 and g.target_reached is True


def test_target_rounds_up_to_whole_districts() -> None:
    # 50% of 6 districts = 3: one site (A, 4 districts) is enough
    p = solve_matrix(TRAP, target=50, method="exact")
    assert len(p.sites) == 1 and p.covered_count >= 3


def test_existing_coverage_is_kept_and_counted() -> None:
    # d0..d4 already covered: only d5 is left, and only C covers it
    already = np.array([1, 1, 1, 1, 1, 0], dtype=bool)
    p = solve_matrix(TRAP, add=3, already=already, method="exact")
    assert p.sites == [2] and p.covers == [[5]] and p.covered_count == 6


def test_unreachable_target_reports_best_reachable() -> None:
    # d2 has no candidate at all: at most 2 of 3 districts (66.67%)
    A = np.array([[1, 0], [0, 1], [0, 0]], dtype=bool)
    p = solve_matrix(A, target=90, method="exact")
    assert p.target_reached is False
    assert p.best_reachable_count == 2
    assert p.covered_count == 2 and sorted(p.sites) == [0, 1]


def test_weights_change_the_choice() -> None:
    # K = 1. By districts A (4) wins; with weight 10 on d2 (only B covers it) B is worth
    # 1+1+10 = 12 against A's 4.
    w = np.array([1, 1, 10, 1, 1, 1], dtype=float)
    assert solve_matrix(TRAP, add=1, method="exact").sites == [0]
    p = solve_matrix(TRAP, add=1, weights=w, method="exact")
    assert p.sites == [1] and p.gain_weight == [12.0] and p.gain_count == [3]


def test_greedy_order_ranks_by_marginal_gain() -> None:
    # given the set {A, C}: A first (4 new), then C adds d5 only
    assert greedy_order(TRAP, [2, 0]) == [0, 2]


@pytest.mark.parametrize(
    ("kwargs", "start"),
    [
        ({"add": 1, "target": 50}, "add, target:"),
        ({}, "add, target:"),
        ({"add": -1}, "add=-1:"),
        ({"add": 1.5}, "add=1.5:"),
        ({"target": 120}, "target=120:"),
        ({"add": 1, "method": "magic"}, "method='magic':"),
        ({"add": 1, "time_limit": 0}, "time_limit=0:"),
        ({"add": 1, "time_limit": float("nan")}, "time_limit=nan:"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict, start: str) -> None:
    """The library speaks Python: the parameter, never a command-line flag."""
    with pytest.raises(InputError) as err:
        solve_matrix(TRAP, **kwargs)
    assert str(err.value).startswith(start)
    assert "--" not in str(err.value)


# ------------------------------------------------------------------ brute force (independent)


def _brute_max(A: np.ndarray, w: np.ndarray, k: int) -> float:
    n_c = A.shape[1]
    best = 0.0
    for combo in itertools.combinations(range(n_c), min(k, n_c)):
        cov = A[:, list(combo)].any(axis=1) if combo else np.zeros(A.shape[0], bool)
        best = max(best, float(w[cov].sum()))
    return best


def _brute_min_sites(A: np.ndarray, goal: int) -> int | None:
    n_c = A.shape[1]
    for k in range(n_c + 1):
        for combo in itertools.combinations(range(n_c), k):
            cov = A[:, list(combo)].any(axis=1) if combo else np.zeros(A.shape[0], bool)
            if cov.sum() >= goal:
                return k
    return None


@st.composite
def _instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n_d = draw(st.integers(1, 9))
    n_c = draw(st.integers(1, 7))
    cells = draw(st.lists(st.booleans(), min_size=n_d * n_c, max_size=n_d * n_c))
    w = draw(st.lists(st.integers(0, 20), min_size=n_d, max_size=n_d))
    return np.array(cells, dtype=bool).reshape(n_d, n_c), np.array(w, dtype=float)


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(inst=_instances(), k=st.integers(0, 4))
def test_exact_equals_brute_force_and_greedy_never_beats_it(
    inst: tuple[np.ndarray, np.ndarray], k: int
) -> None:
    A, w = inst
    best = _brute_max(A, w, k)
    exact = solve_matrix(A, add=k, weights=w, method="exact")
    greedy = solve_matrix(A, add=k, weights=w, method="greedy")
    assert exact.status == "optimal"
    assert exact.covered_weight == pytest.approx(best)
    assert greedy.covered_weight <= exact.covered_weight + 1e-9
    assert len(exact.sites) <= k and len(greedy.sites) <= k
    # the reported gains add up to the coverage
    assert sum(exact.gain_weight) == pytest.approx(exact.covered_weight)
    # unweighted too
    best_n = _brute_max(A, np.ones(A.shape[0]), k)
    assert solve_matrix(A, add=k, method="exact").covered_count == best_n


@_SETTINGS
@given(inst=_instances(), pct=st.integers(0, 100))
def test_target_minimum_equals_brute_force(inst: tuple[np.ndarray, np.ndarray], pct: int) -> None:
    A, _ = inst
    n = A.shape[0]
    goal = -(-pct * n // 100)  # ceil(pct% of n) in integers
    expected = _brute_min_sites(A, goal)
    p = solve_matrix(A, target=pct, method="exact")
    if expected is None:
        assert p.target_reached is False
        assert p.covered_count == int(A.any(axis=1).sum())
    else:
        assert p.target_reached is True
        assert len(p.sites) == expected
        assert p.covered_count >= goal
        assert len(solve_matrix(A, target=pct, method="greedy").sites) >= expected


def test_ctrl_c_keeps_the_best_plan_so_far() -> None:
    # the progress hook runs after each greedy pick; Ctrl-C there ends the solve with one site
    def interrupt(event: dict) -> None:
        raise KeyboardInterrupt

    p = solve_matrix(TRAP, add=2, method="auto", progress=interrupt)
    assert p.status == "interrupted" and p.sites == [0] and p.covered_count == 4


def test_dominated_and_duplicate_candidates_do_not_change_the_optimum() -> None:
    # D duplicates B, E covers only d2 (a subset of B's set): the optimum stays B + C
    extra = np.column_stack([TRAP, TRAP[:, 1], np.eye(6, dtype=bool)[:, 2]])
    p = solve_matrix(extra, add=2, method="exact")
    assert p.covered_count == 6 and p.status == "optimal"
    assert sorted(p.sites) in ([1, 2], [2, 3])


# ------------------------------------------------------------------ the GIS door (fixture)

ROW = Path(__file__).parent / "fixtures" / "planning"  # see its README for the hand figures


@pytest.fixture
def row() -> tuple:
    from reachplan.io import read_boundaries, read_points

    b = read_boundaries(ROW / "districts.geojson", id_col="id", name_col="name")
    c = read_points(ROW / "centres.csv")
    k = read_points(ROW / "candidates.csv", what="candidate sites")
    return b, c, k


def test_plan_on_the_row_fixture(row: tuple) -> None:
    from reachplan.engine import Rule
    from reachplan.planning import plan

    b, c, k = row
    out = plan(b, c, Rule.radius(120), add=2, candidates=k)
    assert out["before"]["covered"] == 2 and out["after"]["covered"] == 8
    assert out["after"]["percent"] == 100.0
    assert [s["name"] for s in out["sites"]] == ["B-mid", "C-mid"]
    assert [s["covers"] for s in out["sites"]] == [["01", "02", "03"], ["04", "05", "06"]]
    assert [s["covers_names"] for s in out["sites"]] == [["D1", "D2", "D3"], ["D4", "D5", "D6"]]
    assert out["method"] == "exact" and out["optimality_gap"] == 0.0
    assert list(out)[:4] == ["before", "after", "method", "optimality_gap"]
    assert list(out["sites"][0]) == [
        "rank", "name", "lat", "lon", "gain_districts", "gain_weight", "covers",
        "covers_names"
    ]

    greedy = plan(b, c, Rule.radius(120), add=2, candidates=k, method="greedy")
    assert [s["name"] for s in greedy["sites"]] == ["A-edge", "B-mid"]
    assert greedy["after"]["covered"] == 7 and greedy["optimality_gap"] is None


@pytest.mark.parametrize(("method", "after"), [("greedy", 7), ("exact", 8)])
def test_plan_after_is_the_engines_count_with_every_site(row: tuple, method: str,
                                                         after: int) -> None:
    """The report's "after" (hand figures: greedy A + B 7 of 8, optimum B + C 8 of 8) is the
    summary of assessing every centre and site afresh, which ``run.after`` does when read."""
    from reachplan.engine import Rule, assess
    from reachplan.planning import run_plan

    b, c, k = row
    run = run_plan(b, c, Rule.radius(120), add=2, candidates=k, method=method)
    assert run.report["after"]["covered"] == after
    assert run.report["after"] == run.after.summary
    both = run.after.centers
    assert both["name"].tolist()[1:] == [s["name"] for s in run.report["sites"]]
    assert run.report["after"] == assess(b, both, Rule.radius(120)).summary


def test_plan_after_checks_the_matrix_with_the_engine(row: tuple, monkeypatch) -> None:
    """A matrix that claims too much (B-mid covering 05 and 06 as well, 3-4 degrees away) is
    caught: the "after" figures are the engine's, and the report says the two disagree."""
    from scipy import sparse

    from reachplan.engine import Rule
    from reachplan.planning import run_plan, sites

    real = sites.candidate_matrix

    def wrong(boundaries, candidates, rule, **kw):
        m = real(boundaries, candidates, rule, **kw).toarray()
        for d in ("05", "06"):
            m[list(boundaries["id"]).index(d), list(candidates["name"]).index("B-mid")] = True
        return sparse.csc_array(m)

    monkeypatch.setattr(sites, "candidate_matrix", wrong)
    b, c, k = row
    run = run_plan(b, c, Rule.radius(120), add=1, candidates=k, method="exact")
    # believed: B-mid covers 01 02 03 05 06 (5, beating A-edge's 4): 7 of 8
    assert [s["name"] for s in run.report["sites"]] == ["B-mid"]
    assert run.report["after"]["covered"] == 5  # really 01 02 03 beside 07 08
    assert any("predicted 7 covered districts but the coverage engine counts 5" in w
               for w in run.report["warnings"])


def test_plan_exclude_and_unreachable_target(row: tuple) -> None:
    from reachplan.engine import Rule
    from reachplan.planning import plan

    b, c, k = row
    for excluded in ("05", "C-mid", "D5"):  # district id, site name, district name
        out = plan(b, c, Rule.radius(120), target=100, candidates=k, exclude=[excluded])
        assert out["target_reached"] is False
        assert out["best_reachable"] == {
            "districts": 7, "percent": 87.5, "weight": None, "weight_percent": None
        }
        assert out["after"]["covered"] == 7
        assert sorted(s["name"] for s in out["sites"]) == ["A-edge", "B-mid"]


def test_plan_says_why_it_has_fewer_sites_than_asked(row: tuple) -> None:
    """B-mid and C-mid cover all six open districts: no third site adds anything."""
    from reachplan.planning import plan
    from reachplan.rules import Rule

    b, c, k = row
    out = plan(b, c, Rule.radius(120), add=5, candidates=k)
    assert len(out["sites"]) == 2
    assert "only 2 of the 5 sites asked for add coverage" in out["notes"][-1]


def test_plan_exclude_by_an_ambiguous_name_lists_the_ids(row: tuple) -> None:
    from reachplan.planning import plan
    from reachplan.rules import Rule

    b, c, k = row
    twins = b.copy()
    twins.loc[twins["id"].isin(["04", "05"]), "name"] = "Twin"
    with pytest.raises(InputError, match=r"2 districts have this name \(ids 04, 05\)"):
        plan(twins, c, Rule.radius(120), add=1, candidates=k, exclude=["Twin"])


def test_plan_weighted_and_default_candidates(row: tuple) -> None:
    from reachplan.engine import Rule
    from reachplan.io import read_boundaries
    from reachplan.planning import plan

    b, c, k = row
    bw = read_boundaries(ROW / "districts.geojson", id_col="id", name_col="name",
                         weight_col="pop")
    # the default objective is the headline figure, districts: A-edge adds 4 (02-05), C-mid 3
    out = plan(bw, c, Rule.radius(120), add=1, candidates=k)
    assert out["objective"] == "districts"
    assert [s["name"] for s in out["sites"]] == ["A-edge"]
    assert out["notes"][0].startswith("objective: districts covered, the headline")
    # asked for, the weight: C-mid adds 10 + 10 + 1000
    out = plan(bw, c, Rule.radius(120), add=1, candidates=k, objective="weight")
    assert out["objective"] == "weight"
    assert [s["name"] for s in out["sites"]] == ["C-mid"]
    assert out["sites"][0]["gain_weight"] == 1020.0
    # presence, default candidates: one point per open district, each covers only its own
    out = plan(b, c, Rule(), add=2)
    assert out["before"]["covered"] == 1 and out["after"]["covered"] == 3
    assert out["candidates"]["count"] == 7
    assert plan(b, c, Rule(), target=50)["sites"].__len__() == 3


def test_plan_refuses_min_centers_above_one(row: tuple) -> None:
    from reachplan.engine import Rule
    from reachplan.planning import plan

    b, c, _ = row
    with pytest.raises(InputError, match="^min_centers=2: "):
        plan(b, c, Rule("presence", 2), add=1)


def test_compare_results_lists_changes() -> None:
    from reachplan.checks.compare import compare_results

    a = {"summary": {}, "districts": [
        {"id": "1", "covered": False, "nearest_km": 40.0},
        {"id": "2", "covered": True, "nearest_km": 0.0},
        {"id": "3", "covered": True, "nearest_km": 5.0},
    ]}
    b = {"summary": {}, "districts": [
        {"id": "1", "covered": True, "nearest_km": 10.0},
        {"id": "2", "covered": False, "nearest_km": 31.5},
        {"id": "3", "covered": True, "nearest_km": 5.0},
    ]}
    out = compare_results(a, b)
    assert [c["change"] for c in out["changes"]] == ["newly covered", "lost", "same"]
    assert [c["nearest_km_change"] for c in out["changes"]] == [-30.0, 31.5, 0.0]
    assert out["newly_covered"] == 1 and out["lost"] == 1
    with pytest.raises(InputError, match="different districts"):
        compare_results(a, {"districts": a["districts"][:2]})


def test_auto_falls_back_to_greedy_without_highs(monkeypatch: pytest.MonkeyPatch) -> None:
    import reachplan.planning as planning

    monkeypatch.setattr("reachplan.planning.request.have_highs", lambda: False)
    p = planning.solve_matrix(TRAP, add=2, method="auto")
    assert p.method == "greedy" and p.status == "heuristic" and p.covered_count == 5
    with pytest.raises(InputError, match="highspy"):
        planning.solve_matrix(TRAP, add=2, method="exact")


def test_ctrl_c_during_the_milp_keeps_the_incumbent(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first wait for the solver thread raises KeyboardInterrupt (as Ctrl-C would); the
    # solve is cancelled and the incumbent (at least the greedy warm start) comes back.
    import highspy

    real_wait = highspy.Highs.wait
    calls = {"n": 0}

    def wait(self: highspy.Highs, timeout: float = -1.0) -> tuple:
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt
        return real_wait(self, timeout)

    monkeypatch.setattr(highspy.Highs, "wait", wait)
    p = solve_matrix(TRAP, add=2, method="exact")
    assert p.status == "interrupted" and p.method == "exact"
    assert p.covered_count >= 5  # never worse than greedy's A + B


@_SETTINGS
@given(inst=_instances(), pct=st.integers(0, 100))
def test_weighted_target_minimum_equals_brute_force(
    inst: tuple[np.ndarray, np.ndarray], pct: int
) -> None:
    A, w = inst
    goal = pct / 100 * w.sum()
    n_c = A.shape[1]
    expected = None
    for k in range(n_c + 1):
        if any(w[A[:, list(c)].any(axis=1)].sum() >= goal - 1e-9
               for c in itertools.combinations(range(n_c), k)):
            expected = k
            break
    p = solve_matrix(A, target=pct, weights=w, method="exact")
    if expected is None:
        assert p.target_reached is False
    else:
        assert p.target_reached is True and len(p.sites) == expected
        assert p.covered_weight >= goal - 1e-9


def test_equal_gains_are_listed_by_tie_weight():
    # three one-district sites; the objective counts districts, so all gain 1: listed by the
    # population they add (5 > 3 > 1), not by position
    A = np.eye(3, dtype=bool)
    order = greedy_order(A, [0, 1, 2], tie_weights=np.array([1.0, 5.0, 3.0]))
    assert order == [1, 2, 0]
    assert greedy_order(A, [0, 1, 2]) == [0, 1, 2]  # no tie weights: by position
    plan = solve_matrix(A, add=3, method="exact", tie_weights=np.array([1.0, 5.0, 3.0]))
    assert plan.sites == [1, 2, 0]


# ------------------------------------------------------------------ tie weights (lexicographic)

# Hand-derived: five districts with populations (tie weights) and four sites.
#   A covers d0 d1 (pop 1 + 2  = 3)      D covers d4 alone (pop 500)
#   B covers d2 d3 (pop 30 + 4 = 34)
#   C covers d1 d2 (pop 2 + 30 = 32)
# K = 1: A, B and C each cover 2 districts, D only 1. The count comes first, so D (500 people)
#   loses; among the three with 2, B covers the most people (34 > 32 > 3).
# K = 2: only A + B covers 4 districts (d0..d3, pop 37); C + D covers 3 with 532 people and still
#   loses, because the count comes first.
LEX = np.array(
    [
        # A  B  C  D
        [1, 0, 0, 0],  # d0
        [1, 0, 1, 0],  # d1
        [0, 1, 1, 0],  # d2
        [0, 1, 0, 0],  # d3
        [0, 0, 0, 1],  # d4
    ],
    dtype=bool,
)
LEX_POP = np.array([1.0, 2.0, 30.0, 4.0, 500.0])


@pytest.mark.parametrize("method", ["exact", "greedy"])
def test_tie_weight_decides_among_equal_counts(method: str) -> None:
    p = solve_matrix(LEX, add=1, method=method, tie_weights=LEX_POP)
    assert p.sites == [1] and p.covered_count == 2 and p.covered_tie_weight == 34.0
    p = solve_matrix(LEX, add=2, method=method, tie_weights=LEX_POP)
    assert sorted(p.sites) == [0, 1] and p.covered_count == 4 and p.covered_tie_weight == 37.0
    if method == "exact":
        assert p.status == "optimal" and p.optimality_gap == 0.0
        assert p.details["tie_break"]["status"] == "optimal"
        assert p.details["tie_break"]["gained"] == 37.0
    # without tie weights the lowest position wins the tie (greedy) and the tie weight is unknown
    assert solve_matrix(LEX, add=1, method="greedy").sites == [0]
    assert solve_matrix(LEX, add=1, method="greedy").covered_tie_weight is None


def test_tie_weight_is_the_secondary_objective_of_the_fewest_sites() -> None:
    # Four districts, target 50% = 2 districts. A covers d0 d1 d2 (pop 1 + 1 + 1 = 3),
    # B covers d2 d3 (pop 1 + 50 = 51). Either site alone reaches the target, so the fewest is 1;
    # among one-site plans B covers more people, although A covers more districts.
    # Greedy picks A (the larger district gain): one site too, but only 3 people.
    A = np.array([[1, 0], [1, 0], [1, 1], [0, 1]], dtype=bool)
    pop = np.array([1.0, 1.0, 1.0, 50.0])
    p = solve_matrix(A, target=50, method="exact", tie_weights=pop)
    assert p.sites == [1] and p.target_reached is True and p.covered_tie_weight == 51.0
    assert p.status == "optimal" and p.optimality_gap == 0.0
    g = solve_matrix(A, target=50, method="greedy", tie_weights=pop)
    assert g.sites == [0] and g.covered_tie_weight == 3.0


def test_greedy_breaks_equal_gains_by_marginal_tie_weight() -> None:
    # X covers d0 d1 d2 and goes first (3 districts). Then A (d2 d3) and B (d4) each add one
    # district; A's total population is 1000 + 1 but d2 is already covered, so A adds 1 person
    # and B adds 5: B is next. The exact plan agrees (X + B: 4 districts, 100+100+1000+5 people).
    A = np.array(
        [
            # X  A  B
            [1, 0, 0],  # d0 pop 100
            [1, 0, 0],  # d1 pop 100
            [1, 1, 0],  # d2 pop 1000
            [0, 1, 0],  # d3 pop 1
            [0, 0, 1],  # d4 pop 5
        ],
        dtype=bool,
    )
    pop = np.array([100.0, 100.0, 1000.0, 1.0, 5.0])
    g = solve_matrix(A, add=2, method="greedy", tie_weights=pop)
    assert g.sites == [0, 2] and g.gain_count == [3, 1]
    e = solve_matrix(A, add=2, method="exact", tie_weights=pop)
    assert e.sites == [0, 2] and e.covered_tie_weight == 1205.0


def test_merged_districts_sum_their_tie_weights() -> None:
    # d0 and d1 have the same candidate set {A} and are merged into one group; so are d2 and
    # d3 ({B}). Populations 3 + 3 = 6 against 5 + 0 = 5: A wins with K = 1. Keeping one
    # member's weight instead of the sum would give 3 against 5 and pick B.
    A = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=bool)
    pop = np.array([3.0, 3.0, 5.0, 0.0])
    for method in ("exact", "greedy"):
        p = solve_matrix(A, add=1, method=method, tie_weights=pop)
        assert p.sites == [0] and p.covered_tie_weight == 6.0


def test_tie_weights_at_population_scale() -> None:
    # two one-district sites with 500,000,000 and 500,001,000 people (plus 200,000,000 people
    # elsewhere, covered already): 1,000 people out of 1.2e9 still decide
    A = np.array([[1, 0], [0, 1], [0, 0]], dtype=bool)
    pop = np.array([500_000_000.0, 500_001_000.0, 200_000_000.0])
    already = np.array([False, False, True])
    p = solve_matrix(A, add=1, already=already, method="exact", tie_weights=pop)
    assert p.sites == [1] and p.covered_tie_weight == 700_001_000.0
    assert p.status == "optimal"


def test_tie_weights_are_ignored_by_a_weighted_objective() -> None:
    # with weights the objective is the weight; tie weights only order the listing
    w = np.array([1.0, 1.0, 10.0, 1.0, 1.0, 1.0])
    p = solve_matrix(TRAP, add=1, weights=w, method="exact", tie_weights=np.arange(6.0))
    assert p.sites == [1] and p.gain_weight == [12.0]


def test_negative_tie_weights_are_refused() -> None:
    with pytest.raises(InputError, match="^tie_weights: must not be negative"):
        solve_matrix(TRAP, add=1, tie_weights=np.array([1.0, -1.0, 0, 0, 0, 0]))


def test_count_proof_from_the_combined_bound() -> None:
    # The proof logic on hand figures. One group of weight 3 with tie 4, the site chosen:
    # count 3, tie term 4 * s. Maximise: a bound of 3.4 means no plan covers 4 (proved);
    # a bound of 4.2 leaves 4 possible: not proved, relative gap (4 - 3) / 3.
    from scipy import sparse

    from reachplan.planning.milp import _lexicographic_status

    sub = sparse.csc_array(np.array([[1]], dtype=bool))
    w, tie, x = np.array([3.0]), np.array([4.0]), np.array([True])
    s = 0.5 / 5.0
    details: dict = {}
    label, gap = _lexicographic_status(sub, w, tie, x, s, 3.4, maximise=True, solved=False,
                                       interrupted=False, details=details)
    assert (label, gap) == ("optimal", 0.0)
    assert details["tie_break"]["status"] == "time_limit"
    assert details["tie_break"]["gap"] == pytest.approx((3.4 - 3.4) / s)  # 3 + 4 * 0.1 = 3.4
    label, gap = _lexicographic_status(sub, w, tie, x, s, 4.2, maximise=True, solved=False,
                                       interrupted=False, details=details)
    assert label == "time_limit" and gap == pytest.approx(1 / 3)
    assert details["tie_break"]["gap"] is None
    # Minimise (fewest sites): one site chosen; a bound of 0.3 means some plan might use 1
    # site... which is the found one: proved. A bound of -0.2 leaves 0 sites possible.
    label, gap = _lexicographic_status(sub, w, tie, x, s, 0.3, maximise=False, solved=True,
                                       interrupted=False, details=details)
    assert (label, gap) == ("optimal", 0.0)
    label, gap = _lexicographic_status(sub, w, tie, x, s, -0.2, maximise=False, solved=False,
                                       interrupted=True, details=details)
    assert label == "interrupted" and gap == pytest.approx(1.0)


def _brute_lex_add(A: np.ndarray, already: np.ndarray, t: np.ndarray, k: int
                   ) -> tuple[int, float]:
    """Best (covered districts, covered tie weight) with at most k sites, lexicographically."""
    best = (-1, -1.0)
    for combo in itertools.combinations(range(A.shape[1]), min(k, A.shape[1])):
        cov = already | A[:, list(combo)].any(axis=1)
        best = max(best, (int(cov.sum()), float(t[cov].sum())))
    return best


def _brute_lex_target(A: np.ndarray, already: np.ndarray, t: np.ndarray, goal: int
                      ) -> tuple[int, float]:
    """Fewest sites covering >= goal districts, then the most covered tie weight."""
    for k in range(A.shape[1] + 1):
        ties = [float(t[cov].sum())
                for combo in itertools.combinations(range(A.shape[1]), k)
                for cov in [already | A[:, list(combo)].any(axis=1)]
                if cov.sum() >= goal]
        if ties:
            return k, max(ties)
    raise AssertionError("goal above what every site together covers")


@st.composite
def _tie_instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    A, t = draw(_instances())
    already = np.array(draw(st.lists(st.booleans(), min_size=A.shape[0],
                                     max_size=A.shape[0])), dtype=bool)
    return A, already, t


@_SETTINGS
@given(inst=_tie_instances(), k=st.integers(0, 4))
def test_lexicographic_add_equals_brute_force(
    inst: tuple[np.ndarray, np.ndarray, np.ndarray], k: int
) -> None:
    A, already, t = inst
    best = _brute_lex_add(A, already, t, k)
    exact = solve_matrix(A, add=k, already=already, method="exact", tie_weights=t)
    greedy = solve_matrix(A, add=k, already=already, method="greedy", tie_weights=t)
    assert exact.status == "optimal" and exact.optimality_gap == 0.0
    assert (exact.covered_count, exact.covered_tie_weight) == (best[0], pytest.approx(best[1]))
    assert len(exact.sites) <= k and len(greedy.sites) <= k
    # greedy never beats exact lexicographically
    assert greedy.covered_count <= exact.covered_count
    if greedy.covered_count == exact.covered_count:
        assert greedy.covered_tie_weight <= exact.covered_tie_weight + 1e-9


@_SETTINGS
@given(inst=_tie_instances(), pct=st.integers(0, 100))
def test_lexicographic_target_equals_brute_force(
    inst: tuple[np.ndarray, np.ndarray, np.ndarray], pct: int
) -> None:
    A, already, t = inst
    n = A.shape[0]
    reachable = int((already | A.any(axis=1)).sum())
    goal = min(-(-pct * n // 100), reachable)  # unreachable: plan for the best reachable
    sites, tie = _brute_lex_target(A, already, t, goal)
    exact = solve_matrix(A, target=pct, already=already, method="exact", tie_weights=t)
    greedy = solve_matrix(A, target=pct, already=already, method="greedy", tie_weights=t)
    assert exact.status == "optimal" and exact.optimality_gap == 0.0
    assert len(exact.sites) == sites and exact.covered_count >= goal
    assert exact.covered_tie_weight == pytest.approx(tie)
    # greedy never beats exact lexicographically (fewer sites, or as many and more tie weight)
    assert len(greedy.sites) >= sites
    if len(greedy.sites) == sites:
        assert greedy.covered_tie_weight <= exact.covered_tie_weight + 1e-9


def test_progress_reports_the_count_not_the_combined_objective() -> None:
    from reachplan.planning.milp import _count_progress

    # maximise: 7 districts + tie term 0.3, bound 8.1 -> count 7, bound 8, gap 1/7
    assert _count_progress(7.3, 8.1, maximise=True) == (7.0, 8.0, pytest.approx(1 / 7))
    # minimise: 5 sites - tie term 0.2 = 4.8, bound 4.6 -> 5 sites, at least 5: no gap
    assert _count_progress(4.8, 4.6, maximise=False) == (5.0, 5.0, 0.0)
    # minimise: bound 3.9 -> at least 4 sites: gap (5 - 4) / 5
    assert _count_progress(4.8, 3.9, maximise=False) == (5.0, 4.0, pytest.approx(0.2))


def test_warm_started_target_is_truly_minimal() -> None:
    """highspy 1.16 with presolve on returned 3 sites, labelled optimal, for this instance;
    brute force: sites 2 and 3 together cover 7 of 8 districts (>= 76 %), and no single
    site covers more than 5."""
    A = np.array([[0, 1, 0, 1, 0], [0, 1, 0, 1, 0], [0, 0, 0, 1, 0], [1, 0, 0, 1, 0],
                  [1, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 1, 1, 0, 0], [1, 0, 1, 0, 0]], bool)
    best = min(len(c) for k in range(1, 6) for c in itertools.combinations(range(5), k)
               if A[:, list(c)].any(axis=1).sum() >= 7)
    assert best == 2
    plan = solve_matrix(A, target=76, method="exact")
    assert plan.status == "optimal" and len(plan.sites) == best
