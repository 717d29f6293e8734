"""2SFCA / E2SFCA / gravity equal PySAL access on the same long table; a hand-worked case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reachplan.capacity.accessibility import (
    accessibility,
    district_accessibility,
    gaussian,
    gravity,
    step,
)
from reachplan.errors import InputError

access = pytest.importorskip("access")
# PySAL access itself still calls pandas APIs that pandas now deprecates
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                        "ignore::FutureWarning")


def test_hand_worked_2sfca():
    # centre 0 (supply 10) reaches points 0 (pop 4) and 1 (pop 1): ratio 2;
    # centre 1 (supply 3) reaches point 1 only: ratio 3. A = [2, 2 + 3, 0].
    a = accessibility([0, 1, 1, 2], [0, 0, 1, 1], [1.0, 2.0, 3.0, 99.0], [4, 1, 5], [10, 3],
                      max_cost=50)
    assert a.tolist() == [2.0, 5.0, 0.0]


def test_district_mean_is_demand_weighted():
    out = district_accessibility([2.0, 5.0, 0.0], [4, 1, 5], ["a", "a", "b"])
    assert out["a"] == pytest.approx((2 * 4 + 5 * 1) / 5)
    assert out["b"] == 0.0


def _instance(seed):
    rng = np.random.default_rng(seed)
    n_d, n_c = 40, 8
    mask = rng.random((n_d, n_c)) < 0.5
    di, ci = np.nonzero(mask)
    cost = np.round(rng.random(di.size) * 40, 2)
    demand = rng.integers(1, 500, n_d).astype(float)
    supply = rng.integers(0, 20, n_c).astype(float)
    return di, ci, cost, demand, supply


def _pysal(di, ci, cost, demand, supply, call):
    demand_df = pd.DataFrame({"geoid": range(demand.size), "pop": demand})
    supply_df = pd.DataFrame({"geoid": range(supply.size), "doc": supply})
    cost_df = pd.DataFrame({"origin": di, "dest": ci, "cost": cost})
    acc = access.Access(demand_df=demand_df, demand_index="geoid", demand_value="pop",
                        supply_df=supply_df, supply_index="geoid", supply_value="doc",
                        cost_df=cost_df, cost_origin="origin", cost_dest="dest",
                        cost_name="cost")
    out = call(acc)
    return out.iloc[:, 0].reindex(range(demand.size)).fillna(0.0).to_numpy()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_2sfca_equals_pysal(seed):
    di, ci, cost, demand, supply = _instance(seed)
    ref = _pysal(di, ci, cost, demand, supply, lambda a: a.two_stage_fca(max_cost=25))
    ours = accessibility(di, ci, cost, demand, supply, max_cost=25)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    assert ours.max() > 0


@pytest.mark.parametrize("seed", [4, 5])
def test_e2sfca_equals_pysal(seed):
    di, ci, cost, demand, supply = _instance(seed)
    bands = {10: 1, 20: 0.68, 30: 0.22}
    ref = _pysal(di, ci, cost, demand, supply,
                 lambda a: a.enhanced_two_stage_fca(weight_fn=access.weights.step_fn(bands)))
    np.testing.assert_allclose(accessibility(di, ci, cost, demand, supply, method="e2sfca"),
                               ref, rtol=1e-12)
    np.testing.assert_allclose(
        accessibility(di, ci, cost, demand, supply, method="2sfca", decay=step(bands)), ref,
        rtol=1e-12)


def test_gaussian_equals_pysal():
    di, ci, cost, demand, supply = _instance(6)
    ref = _pysal(di, ci, cost, demand, supply,
                 lambda a: a.two_stage_fca(weight_fn=access.weights.gaussian(12.0)))
    np.testing.assert_allclose(accessibility(di, ci, cost, demand, supply, decay=gaussian(12)),
                               ref, rtol=1e-12)


def test_gravity_equals_pysal():
    di, ci, cost, demand, supply = _instance(7)
    fn = access.weights.gravity(scale=10, alpha=-1.5, min_dist=1)
    ref = _pysal(di, ci, cost, demand, supply,
                 lambda a: a.two_stage_fca(weight_fn=fn, max_cost=30))
    ours = accessibility(di, ci, cost, demand, supply, method="gravity",
                         decay=gravity(10, -1.5, 1), max_cost=30)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_bad_input():
    with pytest.raises(InputError, match="supply: row 1: -1 is negative"):
        accessibility([0], [0], [1.0], [1], [1, -1])
    with pytest.raises(InputError, match="decay: the gravity method"):
        accessibility([0], [0], [1.0], [1], [1], method="gravity")
    with pytest.raises(InputError, match="min_cost"):
        gravity(10, -1)
