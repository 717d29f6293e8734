"""Optimal capacity-limited allocation: hand-worked cases, networkx min-cost flow and scipy's
linprog as independent references, order independence, bad input."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from reachplan.capacity import allocate, rollup
from reachplan.errors import InputError

METHODS = ["lp", "flow"]


def _nx_reference(di, ci, cost, demand, capacity):
    """(served, cost) of a maximum flow of minimum cost, by networkx."""
    g = nx.DiGraph()
    for i, d in enumerate(demand):
        g.add_edge("s", ("p", i), capacity=int(d), weight=0)
    for j, c in enumerate(capacity):
        g.add_edge(("c", j), "t", capacity=int(c), weight=0)
    for i, j, k in zip(di, ci, cost, strict=True):
        g.add_edge(("p", int(i)), ("c", int(j)), capacity=int(demand[i]), weight=int(k))
    flow = nx.max_flow_min_cost(g, "s", "t")
    served = sum(flow["s"].values())
    return served, nx.cost_of_flow(g, flow)


def _linprog_reference(di, ci, cost, demand, capacity):
    """(served, cost) by two scipy linprog solves on a dense formulation."""
    n = len(di)
    a = np.zeros((len(demand) + len(capacity), n))
    a[di, np.arange(n)] = 1
    a[len(demand) + np.asarray(ci), np.arange(n)] = 1
    b = np.concatenate([demand, capacity])
    first = linprog(-np.ones(n), A_ub=a, b_ub=b, bounds=(0, None), method="highs")
    served = -first.fun
    second = linprog(cost, A_ub=np.vstack([a, -np.ones(n)]), b_ub=np.append(b, -served + 1e-7),
                     bounds=(0, None), method="highs")
    return served, second.fun


@pytest.mark.parametrize("method", METHODS)
def test_hand_worked_split(method):
    # A (3) reaches C1 at 1 and C2 at 5; B (2) reaches only C1 at 2. C1 takes 4, C2 takes 1.
    # All 5 can be served only with B->C1 2, A->C1 2, A->C2 1: cost 2*2 + 2*1 + 1*5 = 11.
    a = allocate([0, 0, 1], [0, 1, 0], [1.0, 5.0, 2.0], [3, 2], [4, 1], method=method)
    assert a.status == "optimal"
    assert a.total_served == 5
    assert a.total_cost == 11
    assert a.load.tolist() == [4, 1]
    assert a.utilisation_pct().tolist() == [100.0, 100.0]
    assert a.served.tolist() == [3, 2]


@pytest.mark.parametrize("method", METHODS)
def test_over_capacity_district(method):
    # two districts; north has 10 demand within reach of a centre of capacity 6
    a = allocate([0, 1, 2], [0, 0, 1], [0.0, 0.0, 0.0], [4, 6, 2], [6, 5], method=method)
    assert a.total_served == 8  # 6 of north's 10, all of south's 2
    table = rollup(a, ["north", "north", "south"])
    assert table.loc["north", "demand"] == 10
    assert table.loc["north", "served"] == 6
    assert table.loc["north", "unserved_in_reach"] == 4
    assert table.loc["north", "served_pct"] == 60.0
    assert table.loc["south", "served_pct"] == 100.0
    assert a.to_dict()["served_pct"] == 66.6667
    assert a.to_dict()["points_over_capacity"] >= 1


def test_unreachable_demand_is_unserved_not_over_capacity():
    a = allocate([0], [0], [1.0], [2, 5], [10])
    assert a.served.tolist() == [2, 0]
    assert a.reachable.tolist() == [True, False]
    assert rollup(a, ["x", "x"]).loc["x", "unserved_in_reach"] == 0


def test_zero_capacity_centre_serves_nobody():
    a = allocate([0, 0], [0, 1], [1.0, 9.0], [3], [0, 2])
    assert a.load.tolist() == [0, 2]
    assert np.isnan(a.utilisation_pct()[0])


def test_centres_by_type():
    a = allocate([0, 1], [0, 1], [1.0, 1.0], [5, 5], [5, 2])
    by = a.by_centre_type(["big", "small"])
    assert by.loc["small", "utilisation_pct"] == 100.0
    assert by.loc["big", "pct_of_demand_served"] == 50.0


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_matches_networkx_max_flow_min_cost(method, data):
    n_d = data.draw(st.integers(1, 7))
    n_c = data.draw(st.integers(1, 4))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n_d - 1), st.integers(0, n_c - 1)),
                               min_size=1, max_size=n_d * n_c, unique=True))
    di = [p[0] for p in pairs]
    ci = [p[1] for p in pairs]
    cost = data.draw(st.lists(st.integers(0, 20), min_size=len(pairs), max_size=len(pairs)))
    demand = data.draw(st.lists(st.integers(0, 9), min_size=n_d, max_size=n_d))
    capacity = data.draw(st.lists(st.integers(0, 9), min_size=n_c, max_size=n_c))
    if sum(capacity) == 0:
        capacity[0] = 1
    served, total = _nx_reference(di, ci, cost, demand, capacity)
    a = allocate(di, ci, np.asarray(cost, float), demand, capacity, method=method)
    assert a.status == "optimal"
    assert a.total_served == served
    assert a.total_cost == pytest.approx(total, abs=1e-6)
    assert np.all(a.load <= np.asarray(capacity) + 1e-9)
    assert np.all(a.served <= np.asarray(demand) + 1e-9)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_fractional_demand_matches_linprog(data):
    n_d, n_c = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 4))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n_d - 1), st.integers(0, n_c - 1)),
                               min_size=1, max_size=n_d * n_c, unique=True))
    di, ci = [p[0] for p in pairs], [p[1] for p in pairs]
    real = st.floats(0.0, 10.0, allow_nan=False).map(lambda x: round(x, 3))
    cost = np.asarray(data.draw(st.lists(real, min_size=len(pairs), max_size=len(pairs))))
    demand = np.asarray(data.draw(st.lists(real, min_size=n_d, max_size=n_d)))
    capacity = np.asarray(data.draw(st.lists(real, min_size=n_c, max_size=n_c))) + 0.5
    # fractional amounts (a draw of 1.5 capacity and 0 demand is whole: the flow's case)
    assume(not (np.all(demand == np.round(demand)) and np.all(capacity == np.round(capacity))))
    served, total = _linprog_reference(di, ci, cost, demand, capacity)
    a = allocate(di, ci, cost, demand, capacity)
    assert a.details.get("method") == "lp"
    assert a.total_served == pytest.approx(served, rel=1e-7, abs=1e-7)
    assert a.total_cost == pytest.approx(total, rel=1e-6, abs=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_shuffled_centres_and_pairs_give_the_same_totals(method):
    rng = np.random.default_rng(7)
    n_d, n_c = 60, 12
    mask = rng.random((n_d, n_c)) < 0.3
    di, ci = np.nonzero(mask)
    cost = rng.integers(0, 50, di.size).astype(float)
    demand = rng.integers(0, 5, n_d)
    capacity = rng.integers(0, 15, n_c)
    base = allocate(di, ci, cost, demand, capacity, method=method)
    perm = rng.permutation(n_c)  # centre j becomes perm[j]
    cap2 = np.empty_like(capacity)
    cap2[perm] = capacity
    order = rng.permutation(di.size)
    other = allocate(di[order], perm[ci][order], cost[order], demand, cap2, method=method)
    assert other.total_served == base.total_served
    assert other.total_cost == base.total_cost
    assert other.served.sum() == base.served.sum()


def test_flow_and_lp_agree():
    rng = np.random.default_rng(3)
    mask = rng.random((80, 10)) < 0.25
    di, ci = np.nonzero(mask)
    cost = rng.integers(0, 1000, di.size) / 10.0
    demand, capacity = rng.integers(0, 6, 80), rng.integers(0, 20, 10)
    a = allocate(di, ci, cost, demand, capacity, method="lp")
    b = allocate(di, ci, cost, demand, capacity, method="flow")
    assert (a.total_served, a.total_cost) == pytest.approx((b.total_served, b.total_cost))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"demand": [1, -2]}, "demand: row 1: -2 is negative"),
        ({"demand": [1, None]}, "demand: row 1: value is missing"),
        ({"demand": [1, float("nan")]}, "demand: row 1: value is missing"),
        ({"capacity": ["abc"]}, "capacity: row 0: 'abc' is not a number"),
        ({"capacity": [0]}, "capacity: total capacity is 0"),
        ({"capacity": [1, 2]}, "centre_idx"),
    ],
)
def test_bad_input_names_the_parameter_and_row(kwargs, message):
    args = {"demand_idx": [0, 1], "centre_idx": [0, 0], "cost": [1.0, 2.0], "demand": [1, 2],
            "capacity": [3]}
    if message == "centre_idx":
        args["centre_idx"] = [0, 2]
    args.update(kwargs)
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        allocate(**args)
