"""What a plan is asked to do, validated in one place for every door (CLI, GIS, matrix).

The library names its parameters (``add=-1: ...``); the command line names its options.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from reachplan.errors import InputError

__all__ = ["Method", "Objective", "PlanRequest", "Progress"]

Method = Literal["greedy", "exact", "auto"]
Objective = Literal["auto", "districts", "weight"]
Progress = Callable[[dict[str, Any]], None]
"""A progress hook: called with ``{"phase", "done", "total", "objective", "bound", "gap",
"elapsed_s"}`` (``bound``/``gap`` are ``None`` in the greedy phase; phase ``"matrix"``, the
travel rule's candidate searches, has only ``done``, ``total`` and ``elapsed_s``)."""

METHODS = ("greedy", "exact", "auto")
OBJECTIVES = ("auto", "districts", "weight")


def have_highs() -> bool:
    """Whether the HiGHS solver (highspy) can be imported."""
    import importlib.util

    return importlib.util.find_spec("highspy") is not None


@dataclass(frozen=True)
class PlanRequest:
    """How many sites (``add``) or what coverage (``target`` percent), and how to solve.

    Raises :class:`reachplan.errors.InputError` naming the parameter when a value is wrong.
    """

    add: int | None = None
    target: float | None = None
    method: Method = "auto"
    time_limit: float = 60.0
    objective: Objective = "auto"

    def __post_init__(self) -> None:
        add, target = self.add, self.target
        if (add is None) == (target is None):
            raise InputError("add, target: give exactly one: add=K sites to open, or target=P "
                             "percent to reach", params=("add", "target"))
        if add is not None and (isinstance(add, bool) or not isinstance(add, (int, float))
                                or int(add) != add or add < 0):
            raise InputError(f"add={add!r}: must be a whole number of sites >= 0",
                             params=("add",))
        if target is not None and not (isinstance(target, (int, float))
                                       and 0.0 <= float(target) <= 100.0):
            raise InputError(f"target={target!r}: must be a percentage from 0 to 100",
                             params=("target",))
        if self.method not in METHODS:
            raise InputError(f"method={self.method!r}: use one of {', '.join(METHODS)}",
                             params=("method",))
        if self.method == "exact" and not have_highs():
            raise InputError("method='exact' needs the HiGHS solver: pip install highspy "
                             "(or use method='greedy')", params=("method",))
        if not (isinstance(self.time_limit, (int, float)) and math.isfinite(self.time_limit)
                and self.time_limit > 0):
            raise InputError(f"time_limit={self.time_limit!r}: must be a positive number of "
                             "seconds", params=("time_limit",))
        if self.objective not in OBJECTIVES:
            raise InputError(f"objective={self.objective!r}: use one of "
                             f"{', '.join(OBJECTIVES)}", params=("objective",))
        if add is not None:
            object.__setattr__(self, "add", int(add))
        if target is not None:
            object.__setattr__(self, "target", float(target))
