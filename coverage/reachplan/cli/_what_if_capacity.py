"""``--capacity-col`` in the what-if page: the options checked, the capacity block added to
the planner's data (:func:`reachplan.maps.planner_capacity.capacity_block`)."""

from __future__ import annotations

from typing import Any

import click

from reachplan.cli.errors import flags_for

#: the capacity block's parameters as this command's options name them
_FLAGS: dict[str, str | None] = {"capacity": "capacity_col", "demand": "demand",
                                 "candidate_capacity": "candidate_capacity"}


def add_capacity(data: dict[str, Any], capacity: Any, rule: Any, centres: Any, *,
                 candidates: Any, opened: Any, candidate_capacity: str | None,
                 demand: Any) -> None:
    """``data["capacity"]`` for ``--capacity-col``, or a one-line usage error (exit 2)."""
    from reachplan.maps.planner_capacity import capacity_block

    for flag, value in (("--demand-rate", capacity.demand_rate),
                        ("--capacity-output", capacity.capacity_output)):
        if value is not None:
            raise click.UsageError(f"--what-if allocates demand points in the page: leave out "
                                   f"{flag} (give --demand FILE)")
    if demand is None:
        raise click.UsageError("--capacity-col with --what-if needs --demand FILE: the page "
                               "allocates the demand points (each --demand-weight-col or 1)")
    with flags_for(**_FLAGS):
        data["capacity"] = capacity_block(data, rule, centres, capacity=capacity.capacity_col,
                                          demand=demand, candidates=candidates, opened=opened,
                                          candidate_capacity=candidate_capacity)
