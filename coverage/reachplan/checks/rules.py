"""Check rules: their TOML spec and types (their evaluation against a result is in
:mod:`reachplan.checks.evaluate`, the baseline gate and golden files in
:mod:`reachplan.checks.baseline`, the CI formats in :mod:`reachplan.checks.ci`).

A check reads a coverage result as its JSON dict (``CoverageResult.to_dict()``, with a
``"demand"`` block when demand points were assessed), so it works the same on a fresh result
and on a stored ``reachplan coverage --format json``. Three kinds of outcome:

* ``evaluate`` (:mod:`reachplan.checks.evaluate`) — each :class:`CheckRule` (a metric over
  a scope, with ``warn_below`` / ``fail_below`` / ``warn_above`` / ``fail_above``) gives
  one :class:`Outcome` per scope member: overall, each group, each centre type, demand points.
* ``compare_baseline`` (:mod:`reachplan.checks.baseline`) — fail when a scope's percentage
  dropped more than ``max_drop`` points since a baseline result, or when a district in
  ``keep_covered`` lost coverage.
* ``compare_expected`` (same module) — the per-district result (ids, covered, centres,
  ``nearest_km`` within a tolerance) must equal a stored one (``expected_record``).

Rules come from a TOML table (:func:`load_rules`, :func:`parse_rules`)::

    [[rule]]
    name = "districts"          # optional: "<scope>-<metric>" by default
    scope = "overall"           # overall | groups | types | demand
    metric = "percent"          # percent | weight_percent | gaps | max_nearest_cost (the rule's
                                # cost: km, or minutes by road) | max_nearest_km | max_nearest_min
    warn_below = 90
    fail_below = 80

    [[rule]]
    scope = "groups"
    names = ["North"]           # only these groups (or types); default: every one
    metric = "max_nearest_km"
    fail_above = 60

    [[rule]]
    threshold = 30              # a result at several thresholds (--travel-minutes 15,30,60):
    metric = "percent"          # judged at this one (scope overall or groups; metric
    fail_below = 75             # percent, weight_percent or gaps)

    [baseline]
    max_drop = 0.5              # percentage points
    keep_covered = ["001"]

The same table may sit in a ``pyproject.toml`` as ``[tool.reachplan.check]``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reachplan.errors import InputError

__all__ = [
    "CheckRule",
    "CheckSpec",
    "MissingDataError",
    "Outcome",
    "load_rules",
    "overall_status",
    "parse_rules",
    "pyproject_rules",
]

Status = Literal["pass", "warn", "fail"]

SCOPES = ("overall", "groups", "types", "demand")
METRICS = ("percent", "weight_percent", "gaps", "max_nearest_km", "max_nearest_min",
           "max_nearest_cost")
# metrics each scope's JSON block can give (types and demand carry no per-district distances)
_SCOPE_METRICS = {
    "overall": METRICS,
    "groups": METRICS,
    "types": ("percent", "weight_percent", "gaps"),
    "demand": ("percent", "weight_percent", "gaps"),
}
THRESHOLDS = ("warn_below", "fail_below", "warn_above", "fail_above")
_RULE_KEYS = ("name", "scope", "names", "metric", *THRESHOLDS, "at", "threshold")
EVERY_HOUR = "every hour"  # at = "every hour": the rule holds at the week's worst hour
_TOP_KEYS = ("rule", "baseline")
_BASELINE_KEYS = ("max_drop", "keep_covered")
TOP_GAPS = 5  # gaps listed with a failing or warning outcome


class MissingDataError(InputError):
    """A rule needs data the result does not carry (``need``: weight, demand_weight, groups,
    types, demand, nearest_min)."""

    def __init__(self, rule: str, need: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.need = need


@dataclass(frozen=True)
class CheckRule:
    """One metric over one scope, with warn and fail thresholds (``None`` = unused)."""

    name: str
    metric: str
    scope: str = "overall"
    names: tuple[str, ...] | None = None
    warn_below: float | None = None
    fail_below: float | None = None
    warn_above: float | None = None
    fail_above: float | None = None
    label: str | None = None  # how messages name a threshold, e.g. "--min-percent"
    at: str | None = None  # a moment ("Su 20:00"; docs/guides/hours.md) or EVERY_HOUR
    threshold: float | None = None  # of a result at several thresholds (its "thresholds")

    def thresholds(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in THRESHOLDS if getattr(self, k) is not None}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "scope": self.scope,
                "names": list(self.names) if self.names is not None else None,
                "metric": self.metric, **self.thresholds(),
                **({"at": self.at} if self.at is not None else {}),
                **({"threshold": self.threshold} if self.threshold is not None else {})}


@dataclass(frozen=True)
class CheckSpec:
    """Parsed rules, plus the baseline settings of the rules table."""

    rules: tuple[CheckRule, ...] = ()
    max_drop: float | None = None
    keep_covered: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """The result of one rule on one scope member (or of the baseline / expected check)."""

    rule: str
    scope: str  # "overall", "group North", "type partner", "demand", "baseline", "expect"
    metric: str
    value: float | None
    status: Status
    message: str
    threshold: dict[str, float] = field(default_factory=dict)
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if value is not None and not math.isfinite(value):
            value = None
        return {"rule": self.rule, "scope": self.scope, "metric": self.metric, "value": value,
                "status": self.status, "threshold": dict(self.threshold),
                "message": self.message, "details": list(self.details)}


def overall_status(outcomes: list[Outcome], *, warnings_as_errors: bool = False) -> Status:
    """``fail`` when any outcome fails (or warns, with ``warnings_as_errors``), else ``warn``
    when any warns, else ``pass``."""
    statuses = {o.status for o in outcomes}
    if "fail" in statuses or (warnings_as_errors and "warn" in statuses):
        return "fail"
    return "warn" if "warn" in statuses else "pass"


# --------------------------------------------------------------------------- rules files

def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    return tomllib.loads(text)


MAX_RULES_BYTES = 4 << 20  # a rules file (or pyproject.toml) larger than this is refused


def _read_toml(p: Path) -> dict[str, Any]:
    """A TOML file's table; one line when it cannot be read, is over
    :data:`MAX_RULES_BYTES`, is not TOML, or nests too deeply for the parser."""
    from reachplan.io.files import read_text

    try:
        text = read_text(p, "rules file", limit=MAX_RULES_BYTES)
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not readable ({exc})") from None
    try:
        return _toml_loads(text)
    except ValueError as exc:
        raise InputError(f"{p}: not valid TOML ({exc})") from None
    except RecursionError:
        raise InputError(f"{p}: not valid TOML (nested too deeply to be a rules file)") from None


def _tool_table(data: dict[str, Any]) -> Any:
    """``[tool.reachplan.check]`` of a parsed pyproject.toml, or ``None``."""
    node: Any = data
    for key in ("tool", "reachplan", "check"):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def load_rules(path: str | Path) -> CheckSpec:
    """Read and validate a rules file: a ``reachplan.toml``, or a ``pyproject.toml`` whose
    ``[tool.reachplan.check]`` holds the rules."""
    p = Path(path)
    data = _read_toml(p)
    if "tool" in data:
        table = _tool_table(data)
        if table is None:
            raise InputError(f"{p}: has no [tool.reachplan.check] table")
        return parse_rules(table, source=f"{p} [tool.reachplan.check]")
    return parse_rules(data, source=str(p))


def pyproject_rules(folder: str | Path = ".", *, notes: list[str] | None = None
                    ) -> tuple[str, CheckSpec] | None:
    """The ``[tool.reachplan.check]`` rules of ``folder/pyproject.toml`` with their source, or
    ``None`` when there is no such file or table. A pyproject.toml that cannot be read or
    parsed is not ours to judge: it is ignored, with a line saying why in ``notes``."""
    p = Path(folder) / "pyproject.toml"
    if not p.is_file():
        return None
    try:
        data = _read_toml(p)
    except InputError as exc:
        if notes is not None:
            notes.append(f"{exc}; ignored")
        return None
    table = _tool_table(data)
    if table is None:
        return None
    return str(p), parse_rules(table, source=f"{p} [tool.reachplan.check]")


def parse_rules(table: Any, *, source: str = "rules") -> CheckSpec:
    """Validate a rules table (the TOML, as a dict) into a :class:`CheckSpec`.

    Raises :class:`InputError` naming the rule and the key at fault.
    """
    if not isinstance(table, dict):
        raise InputError(f"{source}: the check rules must be a table")
    for key in table:
        if key not in _TOP_KEYS:
            raise InputError(f"{source}: unknown key '{key}'; use {' or '.join(_TOP_KEYS)}")
    raw_rules = table.get("rule", [])
    if not isinstance(raw_rules, list):
        raise InputError(f"{source}: 'rule' must be an array of tables ([[rule]])")
    rules: list[CheckRule] = []
    for i, raw in enumerate(raw_rules, start=1):
        rule = _parse_rule(raw, f"{source}: rule {i}")
        if any(r.name == rule.name for r in rules):
            raise InputError(f"{source}: rule {i} '{rule.name}': key 'name': another rule has "
                             "this name; give each rule its own name")
        rules.append(rule)
    max_drop, keep = _parse_baseline(table.get("baseline", {}), f"{source}: [baseline]")
    return CheckSpec(tuple(rules), max_drop, keep)


def _parse_baseline(raw: Any, where: str) -> tuple[float | None, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: must be a table")
    for key in raw:
        if key not in _BASELINE_KEYS:
            raise InputError(f"{where}: unknown key '{key}'; use one of "
                             + ", ".join(_BASELINE_KEYS))
    max_drop = raw.get("max_drop")
    if max_drop is not None:
        max_drop = _number(max_drop, f"{where}: key 'max_drop'")
        if not 0 <= max_drop <= 100:
            raise InputError(f"{where}: key 'max_drop': {max_drop:g} is not a number of "
                             "percentage points from 0 to 100")
    keep = raw.get("keep_covered", [])
    if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
        raise InputError(f"{where}: key 'keep_covered': give a list of district ids as text, "
                         'e.g. ["001", "002"]')
    return max_drop, tuple(keep)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where}: {value!r} is not a number")
    return float(value)


def _parse_rule(raw: Any, where: str) -> CheckRule:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: must be a table ([[rule]])")
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InputError(f"{where}: key 'name': give a non-empty text")
    if name:
        where = f"{where} '{name}'"
    for key in raw:
        if key not in _RULE_KEYS:
            raise InputError(f"{where}: unknown key '{key}'; use one of " + ", ".join(_RULE_KEYS))
    scope = raw.get("scope", "overall")
    if scope not in SCOPES:
        raise InputError(f"{where}: key 'scope': {scope!r} is not one of " + ", ".join(SCOPES))
    if "metric" not in raw:
        raise InputError(f"{where}: key 'metric' is missing; use one of " + ", ".join(METRICS))
    metric = raw["metric"]
    if metric not in METRICS:
        raise InputError(f"{where}: key 'metric': {metric!r} is not one of "
                         + ", ".join(METRICS))
    if metric not in _SCOPE_METRICS[scope]:
        raise InputError(f"{where}: key 'metric': {metric} is not available for scope {scope}; "
                         "use one of " + ", ".join(_SCOPE_METRICS[scope]))
    names = raw.get("names")
    if names is not None:
        if scope not in ("groups", "types"):
            raise InputError(f"{where}: key 'names': only scopes groups and types take names")
        if (not isinstance(names, list) or not names
                or not all(isinstance(n, str) for n in names)):
            raise InputError(f"{where}: key 'names': give a non-empty list of texts, "
                             'e.g. ["North"]')
        names = tuple(names)
    values: dict[str, Any] = {}
    for key in THRESHOLDS:
        if key in raw:
            values[key] = _check_threshold(metric, _number(raw[key], f"{where}: key '{key}'"),
                                           f"{where}: key '{key}'")
    if not values:
        raise InputError(f"{where}: give at least one of " + ", ".join(THRESHOLDS))
    for warn, fail, worse in (("warn_below", "fail_below", "below"),
                              ("warn_above", "fail_above", "above")):
        if warn in values and fail in values and (
                values[warn] < values[fail] if worse == "below" else values[warn] > values[fail]):
            raise InputError(f"{where}: key '{warn}': {values[warn]:g} is {worse} {fail} "
                             f"{values[fail]:g}, so it could never warn")
    at = raw.get("at")
    if at is not None and (not isinstance(at, str) or not at.strip()):
        raise InputError(f"{where}: key 'at': give a moment ('Su 20:00', '2026-12-05 20:00') "
                         f"or '{EVERY_HOUR}'")
    if at == EVERY_HOUR and (scope != "overall" or metric not in METRICS[:3]):
        raise InputError(f"{where}: key 'at': '{EVERY_HOUR}' takes scope overall and metric "
                         "percent, weight_percent or gaps")
    threshold = raw.get("threshold")
    if threshold is not None:
        threshold = _number(threshold, f"{where}: key 'threshold'")
        if threshold < 0:
            raise InputError(f"{where}: key 'threshold': {threshold:g} is negative")
        if scope not in ("overall", "groups") or metric not in METRICS[:3] or at is not None:
            raise InputError(f"{where}: key 'threshold': takes scope overall or groups, "
                             "metric percent, weight_percent or gaps, and no 'at'")
    return CheckRule(name or f"{scope}-{metric}", metric, scope, names, **values, at=at,
                     threshold=threshold)


def _check_threshold(metric: str, value: float, where: str) -> float:
    if metric.endswith("percent") and not 0 <= value <= 100:
        raise InputError(f"{where}: {value:g} is not a percentage from 0 to 100")
    if value < 0:
        raise InputError(f"{where}: {value:g} is negative")
    return value
