"""The page's capacity solver (static/reachplan-planner-capacity.js) in headless Chromium.

Its optimum is checked against two independent solvers on random small instances: networkx's
``max_flow_min_cost`` (network simplex) on the same graph with the costs in thousandths, as
the CLI's flow solver compares them, and reachplan.capacity.allocate (what the CLI reports).
The Web Worker is checked from a file:// page with every other request refused.
"""

from __future__ import annotations

import json
from importlib import resources

import networkx as nx
import numpy as np
import pytest
import test_maps_browser

from reachplan.capacity import allocate

pytestmark = pytest.mark.browser
chromium = test_maps_browser.browser  # the map tests' fixture: Debian's Chromium, no network



def offline_tab(chromium):
    """A new page (in its own context) that refuses every request but file:// and blob:
    (the worker's); (page, the refused URLs)."""
    tab = chromium.new_context().new_page()
    refused: list[str] = []
    tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        ("file://", "blob:")) else (refused.append(route.request.url), route.abort()))
    return tab, refused


def _source() -> str:
    return (resources.files("reachplan.maps") / "static" / "reachplan-planner-capacity.js"
            ).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(chromium):
    context = chromium.new_context()
    tab = context.new_page()
    tab.route("**/*", lambda route: route.abort())  # no network at all
    tab.set_content("<html><body></body></html>")
    tab.add_script_tag(content=_source())
    yield tab
    context.close()


SOLVE = """problems => problems.map(pr => {
  const r = window.reachplanCapacity.solve({
    demand: Float64Array.from(pr.demand), capacity: Float64Array.from(pr.capacity),
    point: Int32Array.from(pr.point), site: Int32Array.from(pr.site),
    cost: Float64Array.from(pr.cost)});
  return {served: Array.from(r.served), load: Array.from(r.load), flow: Array.from(r.flow),
          reachable: Array.from(r.reachable), totals: r.totals};
})"""


def _instances(seed: int, count: int, *, fractional: bool) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for t in range(count):
        n_p, n_s = int(rng.integers(1, 14)), int(rng.integers(1, 7))
        cells = rng.choice(n_p * n_s, size=int(rng.integers(0, n_p * n_s + 1)), replace=False)
        cost = rng.integers(0, 30, cells.size) * 100.0  # ties on purpose
        if t % 2:
            cost = (cost + rng.random(cells.size) * 100).round(3)
        demand = rng.integers(0, 7, n_p).astype(float)
        capacity = rng.integers(0, 7, n_s).astype(float)
        if fractional:
            demand, capacity = demand / 4, capacity / 2  # exact in binary
        out.append({"demand": demand.tolist(), "capacity": capacity.tolist(),
                    "point": (cells // n_s).tolist(), "site": (cells % n_s).tolist(),
                    "cost": cost.tolist()})
    return out


def _networkx(pr: dict, scale: int = 1) -> tuple[int, int]:
    """Most served, then least cost (in thousandths), by networkx on amounts x ``scale``."""
    g = nx.DiGraph()
    g.add_nodes_from(["S", "T"])
    for i, d in enumerate(pr["demand"]):
        g.add_edge("S", ("p", i), capacity=round(d * scale), weight=0)
    for j, c in enumerate(pr["capacity"]):
        g.add_edge(("s", j), "T", capacity=round(c * scale), weight=0)
    for p, s, c in zip(pr["point"], pr["site"], pr["cost"], strict=True):
        g.add_edge(("p", p), ("s", s), capacity=10**9, weight=int(np.rint(c * 1000)))
    flow = nx.max_flow_min_cost(g, "S", "T")
    return sum(flow["S"].values()), nx.cost_of_flow(g, flow)


def _feasible(pr: dict, r: dict) -> None:
    flow = np.asarray(r["flow"])
    assert (flow >= 0).all()
    served = np.bincount(pr["point"], weights=flow, minlength=len(pr["demand"]))
    load = np.bincount(pr["site"], weights=flow, minlength=len(pr["capacity"]))
    np.testing.assert_allclose(served, r["served"])
    np.testing.assert_allclose(load, r["load"])
    assert (served <= np.asarray(pr["demand"]) + 1e-12).all()
    assert (load <= np.asarray(pr["capacity"]) + 1e-12).all()


def test_whole_numbers_equal_networkx_and_the_cli(page) -> None:
    problems = _instances(20, 250, fractional=False)
    results = page.evaluate(SOLVE, problems)
    for pr, r in zip(problems, results, strict=True):
        _feasible(pr, r)
        served, cost = _networkx(pr)
        assert r["totals"]["served"] == served, pr
        mine = sum(int(np.rint(c * 1000)) * f for c, f in zip(pr["cost"], r["flow"],
                                                               strict=True))
        assert mine == cost, pr
        assert all(f == int(f) for f in r["flow"])  # whole numbers in, whole flows out
        if sum(pr["capacity"]) == 0 < sum(pr["demand"]):
            assert r["totals"]["served"] == 0  # allocate refuses: nothing to compare
            continue
        cli = allocate(pr["point"], pr["site"], pr["cost"], pr["demand"], pr["capacity"])
        block = cli.to_dict()
        # the optimum's totals are unique; which points go short (points_over_capacity) and
        # each site's load may differ between optimal splits, so they are not compared
        for key in ("served", "unserved", "unserved_in_reach"):
            assert r["totals"][key] == block[key], (key, pr)
        assert r["totals"]["served_pct"] == block["served_pct"]
        assert r["totals"]["reachable"] == float(np.asarray(pr["demand"])[cli.reachable].sum())
        # both optimal in thousandths: totals in metres within half a thousandth a unit
        assert abs(r["totals"]["total_cost"] - block["total_cost"]) <= 5e-4 * served + 1e-9


def test_fractional_amounts_equal_networkx(page) -> None:
    """Quarters and halves (exact in binary): the optimum of the amounts x 4 in whole
    numbers, divided by 4."""
    problems = _instances(21, 150, fractional=True)
    results = page.evaluate(SOLVE, problems)
    for pr, r in zip(problems, results, strict=True):
        _feasible(pr, r)
        served, cost = _networkx(pr, scale=4)
        assert r["totals"]["served"] * 4 == served, pr
        mine = sum(int(np.rint(c * 1000)) * f for c, f in zip(pr["cost"], r["flow"],
                                                               strict=True))
        assert mine * 4 == pytest.approx(cost, abs=1e-6), pr


def test_hand_example(page) -> None:
    """Two points of demand 2, one site of capacity 3 reaching both (100 m and 300 m), a
    second of capacity 1 reaching only the far point (50 m): the far point goes to the
    second site (1) and the first (1), the near one to the first (2): all 4 served, cost
    2*100 + 300 + 50."""
    pr = {"demand": [2, 2], "capacity": [3, 1], "point": [0, 1, 1], "site": [0, 0, 1],
          "cost": [100, 300, 50]}
    (r,) = page.evaluate(SOLVE, [pr])
    assert r["flow"] == [2, 1, 1]
    assert r["totals"]["served"] == 4
    assert r["totals"]["total_cost"] == 550
    assert r["load"] == [3, 1]


def test_out_of_reach_and_over_capacity(page) -> None:
    """Point 0 (demand 5) reaches a site of capacity 2; point 1 (demand 3) reaches none:
    served 2, in reach but over capacity 3, out of reach 3."""
    pr = {"demand": [5, 3], "capacity": [2], "point": [0], "site": [0], "cost": [10]}
    (r,) = page.evaluate(SOLVE, [pr])
    t = r["totals"]
    assert (t["served"], t["unserved_in_reach"], t["out_of_reach"]) == (2, 3, 3)
    assert (t["points_over_capacity"], t["centres_full"]) == (1, 1)
    assert r["reachable"] == [1, 0]


def test_rint_is_numpys(page) -> None:
    values = [0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001, 1234.5, 7.0]
    assert page.evaluate("v => v.map(window.reachplanCapacity.rint)", values) == [
        float(np.rint(v)) for v in values]


def test_worker_from_a_file_page_offline(chromium, tmp_path) -> None:
    """The solver runs in a Web Worker made from a Blob URL, from a file:// page, with every
    request that is not file:// refused; a request overtaken by a newer one gives null."""
    html = tmp_path / "worker.html"
    html.write_text("<html><body><script>" + _source().replace("</", "<\\/") +
                    "</script></body></html>", encoding="utf-8")
    tab, refused = offline_tab(chromium)
    tab.goto(html.as_uri())
    pr = _instances(22, 1, fractional=False)[0]
    out = tab.evaluate("""pr => {
      const s = window.reachplanCapacity.solver();
      const p = () => ({demand: Float64Array.from(pr.demand),
        capacity: Float64Array.from(pr.capacity), point: Int32Array.from(pr.point),
        site: Int32Array.from(pr.site), cost: Float64Array.from(pr.cost)});
      const first = s.solve(p()), second = s.solve(p()), third = s.solve(p());
      return Promise.all([first, second, third]).then(([a, b, c]) =>
        ({inWorker: s.inWorker, stale: [a, b], served: c.totals.served}));
    }""", pr)
    tab.context.close()
    assert out["inWorker"] is True
    assert out["stale"] == [None, None]  # the first solved, the second never sent
    assert out["served"] == _networkx(pr)[0]
    assert refused == []
    json.dumps(out)
