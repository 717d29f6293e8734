"""Coverage checks on the JSON contract (a result as ``CoverageResult.to_dict()``, fresh or
stored): check rules (:mod:`.rules`) and their evaluation (:mod:`.evaluate`), the baseline
gate and golden files (:mod:`.baseline`), the CI formats (:mod:`.ci`) and the
district-by-district comparison of two results (:mod:`.compare`). The names below are the
public API, as when this was one module."""

from __future__ import annotations

from reachplan.checks.baseline import compare_baseline, compare_expected, expected_record
from reachplan.checks.evaluate import evaluate
from reachplan.checks.rules import (
    CheckRule,
    CheckSpec,
    MissingDataError,
    Outcome,
    load_rules,
    overall_status,
    parse_rules,
    pyproject_rules,
)

__all__ = [
    "CheckRule",
    "CheckSpec",
    "MissingDataError",
    "Outcome",
    "compare_baseline",
    "compare_expected",
    "evaluate",
    "expected_record",
    "load_rules",
    "overall_status",
    "parse_rules",
    "pyproject_rules",
]
