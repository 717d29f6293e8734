"""``--capacity-col`` in the what-if page: the options checked, the capacity block added to
the planner's data (:func:`reachplan.maps.planner_capacity.capacity_block`)."""

from __future__ import annotations

from typing import Any

import click

from reachplan.cli.errors import flags_for

#: the capacity block's parameters as this command's options name them
_FLAGS: dict[str, str | None] = {"capacity": "capacity_col", "demand": "demand",
                                 "candidate_capacity": "candidate_capacity",
                                 "demand_rate": "demand_rate", "weight_col": "weight_col"}


def add_capacity(data: dict[str, Any], capacity: Any, rule: Any, centres: Any, *,
                 candidates: Any, opened: Any, candidate_capacity: str | None,
                 demand: Any, districts: Any, weight_col: str | None) -> None:
    """``data["capacity"]`` for ``--capacity-col``, or a one-line usage error (exit 2)."""
    from reachplan.maps.planner_capacity import capacity_block

    if capacity.capacity_output is not None:
        raise click.UsageError("--what-if shows each site's load in the page: leave out "
                               "--capacity-output (reachplan coverage writes it)")
    rate = capacity.demand_rate
    if demand is not None and rate is not None:
        raise click.UsageError("give --demand FILE or --demand-rate R, not both: demand comes "
                               "from points or from district weights")
    if demand is None and rate is None:
        raise click.UsageError("--capacity-col with --what-if needs demand: --demand FILE "
                               "(with --demand-weight-col) or --demand-rate R (with "
                               "--weight-col)")
    if rate is not None and not weight_col:
        raise click.UsageError("--demand-rate needs --weight-col COL: demand = weight x rate")
    with flags_for(**_FLAGS):
        data["capacity"] = capacity_block(data, rule, centres, capacity=capacity.capacity_col,
                                          demand=demand, candidates=candidates, opened=opened,
                                          candidate_capacity=candidate_capacity,
                                          districts=districts, demand_rate=rate)
