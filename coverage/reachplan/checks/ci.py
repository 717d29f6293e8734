"""Check outcomes in the formats CI systems read: JUnit XML, GitHub Actions annotations, job
summary (Markdown) and step outputs. Plain text in, text out; the CLI decides where it goes.
Every text from an outcome (rule names, scopes, messages, details: they quote users' files)
goes through its sink's function in :mod:`reachplan.text`.

GitHub shows at most 10 annotations of each type per step; :func:`github_annotations` keeps
the first 10 and then says in one notice how many more there are.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from reachplan.checks.rules import Outcome, overall_status
from reachplan.text import for_markdown, for_xml, workflow_command

__all__ = ["github_annotations", "github_outputs", "junit_xml", "step_summary"]

ANNOTATIONS_PER_TYPE = 10
_LEVEL = {"fail": "error", "warn": "warning"}
_ICON = {"pass": "✅", "warn": "⚠️", "fail": "❌"}


def _is_failure(o: Outcome, warnings_as_errors: bool) -> bool:
    return o.status == "fail" or (warnings_as_errors and o.status == "warn")


def junit_xml(outcomes: list[Outcome], *, warnings_as_errors: bool = False,
              suite: str = "reachplan check") -> str:
    """One ``<testcase>`` per outcome (rule × scope); a failure carries the figure and the
    top gaps, a warning (unless ``warnings_as_errors``) is a pass with ``<system-out>``."""
    failures = sum(_is_failure(o, warnings_as_errors) for o in outcomes)
    counts = {"tests": str(len(outcomes)), "failures": str(failures), "errors": "0",
              "skipped": "0"}
    root = ET.Element("testsuites", {"name": for_xml(suite), **counts})
    tsuite = ET.SubElement(root, "testsuite", {"name": for_xml(suite), **counts})
    for o in outcomes:
        case = ET.SubElement(tsuite, "testcase", {"classname": for_xml(f"reachplan.{o.rule}"),
                                                  "name": for_xml(f"{o.scope}: {o.metric}")})
        body = "\n".join(for_xml(line) for line in (o.message, *o.details))
        if _is_failure(o, warnings_as_errors):
            fail = ET.SubElement(case, "failure", {"message": for_xml(o.message),
                                                   "type": "warning" if o.status == "warn"
                                                   else "threshold"})
            fail.text = body
        elif o.status == "warn":
            ET.SubElement(case, "system-out").text = "warning: " + body
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def github_annotations(outcomes: list[Outcome], *, warnings_as_errors: bool = False,
                       title: str = "reachplan check") -> list[str]:
    """Workflow commands (``::error title=...::message``), at most
    :data:`ANNOTATIONS_PER_TYPE` per type, then one ``::notice`` with the number left out."""
    lines: list[str] = []
    left: dict[str, int] = {"error": 0, "warning": 0}
    shown: dict[str, int] = {"error": 0, "warning": 0}
    for o in outcomes:
        if o.status == "pass":
            continue
        level = "error" if _is_failure(o, warnings_as_errors) else "warning"
        if shown[level] >= ANNOTATIONS_PER_TYPE:
            left[level] += 1
            continue
        shown[level] += 1
        lines.append(workflow_command(level, o.message, title=f"{title}: {o.rule}"))
    if any(left.values()):
        parts = [f"{n} more {kind}{'s' if n != 1 else ''}" for kind, n in left.items() if n]
        lines.append(workflow_command("notice", " and ".join(parts) + " than GitHub shows "
                                      "per step; see the job summary", title=title))
    return lines


def _threshold_text(o: Outcome) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in o.threshold.items())


def step_summary(outcomes: list[Outcome], *, warnings_as_errors: bool = False) -> str:
    """A Markdown job summary: the status first, then one table row per outcome, then the
    gaps (and other details) of each failing or warning outcome folded in ``<details>``."""
    status = overall_status(outcomes, warnings_as_errors=warnings_as_errors)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("fail", "warn", "pass")}
    lines = [f"## {_ICON[status]} reachplan check: {status}", ""]
    tally = (f"{counts['fail']} failed, {counts['warn']} warned, {counts['pass']} passed"
             + (" (warnings count as errors)" if warnings_as_errors else ""))
    lines += [tally, ""]
    lines += ["| status | rule | scope | result | threshold |", "|---|---|---|---|---|"]
    for o in outcomes:
        lines.append(f"| {_ICON[o.status]} {o.status} | {for_markdown(o.rule)} | "
                     f"{for_markdown(o.scope)} | {for_markdown(o.message)} | "
                     f"{for_markdown(_threshold_text(o))} |")
    for o in outcomes:
        if o.status != "pass" and o.details:
            lines += ["", f"<details><summary>{for_markdown(o.rule)} — "
                          f"{for_markdown(o.scope)} ({len(o.details)} listed)</summary>", ""]
            lines += [f"- {for_markdown(d)}" for d in o.details]
            lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def github_outputs(data: dict[str, Any], outcomes: list[Outcome], *,
                   warnings_as_errors: bool = False) -> dict[str, str]:
    """Step outputs: ``percent`` (of districts covered), ``gaps`` (districts not covered) and
    ``status`` (pass, warn or fail)."""
    s = data["summary"]
    return {"percent": f"{s['percent']:.2f}" if s["percent"] is not None else "",
            "gaps": str(s["districts"] - s["covered"]),
            "status": overall_status(outcomes, warnings_as_errors=warnings_as_errors)}
