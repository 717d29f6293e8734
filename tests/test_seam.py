"""The rule seam holds everywhere: outside the rule modules no code asks which rule it is.

Every question (coverage, gaps, plan, demand, capacity, access, compare, check, maps, the CLI)
reads the rule's table and its cost descriptor (:class:`reachplan.rules.Cost`: unit, reach,
column), never the rule's kind or unit. This test greps the package for the ways code used to
ask (issue 19), and shows on the old code that it would have caught them.
"""

from __future__ import annotations

import re
from pathlib import Path

import reachplan

PACKAGE = Path(reachplan.__file__).parent
# where a rule is defined: the only places that may know rule kinds, units and cost columns
RULE_MODULES = {"rules.py", "roads/rule.py"}

# one pattern per way of asking "which rule is it?"
BRANCHES = {
    "isinstance on a rule class": r"isinstance\([^)]*\b(Presence|Radius|TravelRule)\b",
    "a branch on a kind": (r"""\bkind\b["')\]]*\s*(==|!=)\s*["']"""
                           r"(travel|radius|presence|step|gaussian|gravity)\b"),
    "a rule's kind": r"\brule\w*\.kind\b",
    "a branch on a unit": r"""\bunit\b\s*(==|!=|\bin\b)\s*[("'\[]""",
    "a rule's method signature": r"inspect\.signature\(\s*rule",
    "a capability guessed by attribute": r"hasattr\(\s*(rule|reach)\b",
    "a cost column by name": r"""["']nearest_min["']""",
    "a reach read from the rule's own block": r"to_dict\(\)\s*(\.get\(|\[)",
    "a result's reach keyed by rule": (r"""\b(d|data|demand|summary|block)(\.get\(|\[)"""
                                       r"""["'](radius_km|minutes)["']"""),
    "a decay by kind": r"Decay\(\s*kind\b|\bdecay\.kind\b",
}


def _code_lines(text: str) -> list[tuple[int, str]]:
    """(line number, code) without comments and docstrings' prose lines."""
    out = []
    in_doc = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        quotes = stripped.count('"""') + stripped.count("'''")
        if in_doc or (quotes == 1 and stripped[:3] in ('"""', "'''")) or (
                quotes == 2 and stripped[:3] in ('"""', "'''")):
            if quotes % 2 == 1:
                in_doc = not in_doc
            continue
        out.append((number, line.split(" #", 1)[0]))
    return out


def branches(root: Path, skip: set[str]) -> list[str]:
    """Every line under ``root`` (Python files, ``skip`` left out) matching a pattern."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in skip:
            continue
        for number, code in _code_lines(path.read_text(encoding="utf-8")):
            found += [f"{rel}:{number}: {what}: {code.strip()}"
                      for what, pattern in BRANCHES.items() if re.search(pattern, code)]
    return found


def test_no_branch_on_rule_kind_or_unit_outside_the_rule_modules():
    assert branches(PACKAGE, RULE_MODULES) == []


def test_the_rule_modules_themselves_are_where_the_kinds_are():
    """The patterns are live: the rule modules, left out above, do name kinds and units."""
    inside = branches(PACKAGE, set())
    assert any(line.startswith("rules.py:") for line in inside)


OLD_CODE = {  # lines of the code issue 19 replaced, as they were (commit d51e22d)
    "cli/_demand_options.py": "    if isinstance(rule, Presence):\n",
    "cli/compare.py": '    if kind == "travel":\n',
    "engine.py": '    if rule.unit == "m":\n',
    "demand/assess.py": ('    return {"minutes" if rule.unit == "min" '
                         'else f"reach_{rule.unit}": 0}\n'),
    "cli/_report.py": '    reach = (f"within {d[\'radius_km\']:g} km" if d else "")\n',
    "maps/payload.py": ('    minutes = rule.to_dict().get("minutes") if getattr(rule, "unit", "m")'
                        ' == "min" else None\n'),
    "planning/sites.py": ('    if progress is not None and "progress" in '
                          'inspect.signature(rule.pairs).parameters:\n'),
    "capacity/frames.py": '    if not hasattr(reach, "pairs"):\n',
    "checks/evaluate.py": '    key = "nearest_min" if minutes else "nearest_km"\n',
    "capacity/accessibility.py": '        if self.kind == "step":\n',
}


def test_the_grep_catches_each_old_branch(tmp_path):
    """Planted in a copy of its module, each old line is found, at its place."""
    for rel, line in OLD_CODE.items():
        copy = tmp_path / rel
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text((PACKAGE / rel).read_text(encoding="utf-8") + "\n\ndef _old(rule):\n"
                        + line + "        pass\n", encoding="utf-8")
    found = branches(tmp_path, set())
    assert sorted({f.split(":", 1)[0] for f in found}) == sorted(OLD_CODE)
