"""Capacity and accessibility on the long (demand point, centre, cost) table of a rule's pairs.

- :func:`allocate`: optimal capacity-limited allocation (most demand served, then least cost).
- :func:`accessibility`: 2SFCA / E2SFCA / gravity supply-to-demand ratios (as PySAL ``access``).
- :func:`expand`: capacitated maximal covering: K new sites (or the fewest for a target %).
- :func:`pairs_for_rule`, :func:`radius_pairs`, :func:`district_of_points`,
  :func:`column_amounts`: the adapter from frames and a rule to the arrays above.
- :func:`assess_capacity`, :func:`plan_capacity`: the library entries on frames and a rule,
  mirroring :mod:`reachplan.planning` (the CLI only maps its options to them).

The core takes plain numpy arrays; only :mod:`reachplan.capacity.frames` knows GeoDataFrames.
"""

from __future__ import annotations

from reachplan.capacity.accessibility import (
    Decay,
    accessibility,
    district_accessibility,
    gaussian,
    gravity,
    step,
)
from reachplan.capacity.allocation import Allocation, allocate, rollup
from reachplan.capacity.assess import (
    CapacityResult,
    Demand,
    assess_capacity,
    capacity_demand,
    plan_capacity,
)
from reachplan.capacity.expansion import Expansion, expand
from reachplan.capacity.frames import (
    column_amounts,
    district_of_points,
    pairs_for_rule,
    radius_pairs,
)

__all__ = [
    "Allocation",
    "CapacityResult",
    "Decay",
    "Demand",
    "Expansion",
    "accessibility",
    "allocate",
    "assess_capacity",
    "capacity_demand",
    "column_amounts",
    "district_accessibility",
    "district_of_points",
    "expand",
    "gaussian",
    "gravity",
    "pairs_for_rule",
    "plan_capacity",
    "radius_pairs",
    "rollup",
    "step",
]
