"""Expansion planning: where to open the next centres, and what each one buys.

* :mod:`~reachplan.planning.request`: what is asked (``add`` or ``target``, method, time limit,
  objective), validated once for every door.
* :mod:`~reachplan.planning.matrix`: the core on a plain districts x candidates matrix: greedy,
  reductions, and :func:`solve_matrix` (spopt's ``from_cost_matrix`` door).
* :mod:`~reachplan.planning.milp`: the HiGHS model (warm start, time limit, Ctrl-C, gap).
* :mod:`~reachplan.planning.sites`: the GeoDataFrame door: :func:`plan` / :func:`run_plan`.
"""

from __future__ import annotations

from reachplan.planning.matrix import MatrixPlan, greedy_order, solve_matrix
from reachplan.planning.request import Method, Objective, PlanRequest, Progress
from reachplan.planning.sites import (
    PlanRun,
    candidate_matrix,
    default_candidates,
    plan,
    plan_sites_frame,
    run_plan,
)

__all__ = ["MatrixPlan", "Method", "Objective", "PlanRequest", "PlanRun", "Progress",
           "candidate_matrix", "default_candidates", "greedy_order", "plan", "plan_sites_frame",
           "run_plan", "solve_matrix"]
