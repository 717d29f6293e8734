"""End to end: hostile names, ids and groups from the input files stay inert in every output
of `check --github`, `gaps`, `coverage` and `compare` (issue 18, part 3).

The grid fixture (tests/fixtures/grid/README.md) with its names, zones and the ids of its two
gaps (006, 009) replaced by strings that a terminal, the GitHub Actions runner, a Markdown
renderer, an XML parser or a spreadsheet would act on. The invariants are checked with the
runner's parsing rules re-implemented in test_text.py and with independent parsers.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import JUnitXml
from test_text import Tags, parse_command, parse_github_file, runner_lines, unsafe

from reachplan.cli.main import cli

FIXTURES = Path(__file__).parent / "fixtures"
NAMES = [
    "::error file=x.py,line=1::forged",
    "Cell\n::add-mask::Cell",
    "::stop-commands::tok",
    "\r::warning::cr",
    "##[error]old syntax",
    "<img src=https://x.example/b.png>",
    "[click](https://evil.example) ![i](https://x.example/p.png)",
    "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x1b[31mred\x9b2J\u202e",
    '=HYPERLINK("https://x.example","y")',
]
ZONES = {"South": "::error::south", "Middle": "<b>M</b>\n::notice::middle",
         "North": "##[warning]north `x` *y*"}
IDS = {"006": "::error::six", "009": " \n::warning::nine"}
RULES = """
[[rule]]
name = "zones::error::rule"
scope = "groups"
metric = "percent"
warn_below = 90
fail_below = 60

[[rule]]
name = "min"
metric = "percent"
fail_below = 80
"""


@pytest.fixture
def hostile(tmp_path) -> tuple[str, str]:
    """The grid with hostile names, zones and gap ids; centres with a hostile type, name and
    one row whose bad latitude is hostile text (skipped with a warning that quotes it)."""
    data = json.loads((FIXTURES / "grid" / "districts.geojson").read_text(encoding="utf-8"))
    for feature, name in zip(data["features"], NAMES, strict=True):
        props = feature["properties"]
        props["name"] = name
        props["zone"] = ZONES[props["zone"]]
        props["code"] = IDS.get(props["code"], props["code"])
    districts = tmp_path / "districts.geojson"
    districts.write_text(json.dumps(data), encoding="utf-8")
    with (FIXTURES / "grid" / "centres.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[1][1], rows[1][2] = "::error::centre\x1b[2J", "<i>type</i>\n::add-mask::t"
    rows.append(["C9", "bad", "direct", "\x1b[31m::error::lat\n##[error]x", "1.0"])
    centres = tmp_path / "centres.csv"
    with centres.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return str(districts), str(centres)


def assert_inert(text: str, *, own_annotations: bool = False) -> None:
    """No unsafe character; no line the runner would run as a workflow command, except
    (``own_annotations``) reachplan's own annotations, whose one property is its title."""
    for line in runner_lines(text):
        assert not any(unsafe(c) for c in line), line
        command = parse_command(line)
        if command is None:
            continue
        assert own_annotations, line
        name, props, _ = command
        assert name in ("error", "warning", "notice") and set(props) == {"title"}, line
        assert line.startswith(f"::{name} title=reachplan check"), line


def _run(runner, args, env=None):
    res = runner.invoke(cli, args, env=env)
    assert res.exit_code in (0, 1), res.output
    return res


def test_check_github_outputs_are_inert(runner, hostile, tmp_path):
    rules = tmp_path / "reachplan.toml"
    rules.write_text(RULES, encoding="utf-8")
    summary, output, junit = tmp_path / "summary.md", tmp_path / "out.txt", tmp_path / "j.xml"
    output.write_text("earlier=1\n", encoding="utf-8")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
           "GITHUB_OUTPUT": str(output)}
    res = _run(runner, ["check", *hostile, "--group-col", "zone", "--type-col", "type",
                        "--rules", str(rules), "--junit", str(junit)], env)
    assert res.exit_code == 1
    assert_inert(res.stdout)
    assert_inert(res.stderr, own_annotations=True)
    # presence covers 7 of 9 (fails min 80); Middle and North 2 of 3 each (warn below 90)
    lines = res.stderr.splitlines()
    assert len([x for x in lines if x.startswith("::error ")]) == 1
    warnings = [x for x in lines if x.startswith("::warning ")]
    assert len(warnings) == 2 and any("##[warning]north" in x for x in warnings)
    assert "skipped 1 centres row" in res.stderr
    # the tables still say which group is which: the names, visible, one line each
    assert "\n\\x3a:error::south   " in res.stdout
    assert "\n<b>M</b>\\n::notice::middle   " in res.stdout
    # step outputs: exactly the three, nothing forged
    assert parse_github_file(output.read_text(encoding="utf-8")) == {
        "earlier": "1", "percent": "77.78", "gaps": "2", "status": "fail"}
    # job summary: only the tool's tags, one table row per outcome, no Markdown from names
    text = summary.read_text(encoding="utf-8")
    tags = Tags()
    tags.feed(text)
    tags.close()
    assert set(tags.tags) <= {"details", "summary"}
    bare = re.sub(r"&(#\d+|amp|lt|gt);|</?(details|summary)>", "\x00", text)
    assert not re.search(r"[<>\[\]`*]|://|^\s*::", bare, re.MULTILINE)
    assert all(x.count("|") == 6 for x in text.splitlines() if x.startswith("|"))
    assert not any(unsafe(c) for c in text.replace("\n", ""))
    # JUnit: well-formed, read by junitparser, names readable
    ET.parse(junit)
    cases = [c for suite in JUnitXml.fromfile(str(junit)) for c in suite]
    assert any("##[warning]north" in c.name for c in cases)
    assert not any(unsafe(c) for c in junit.read_text(encoding="utf-8").replace("\n", ""))


def test_gaps_coverage_and_compare_are_inert(runner, hostile, tmp_path):
    for args in (["gaps", *hostile], ["gaps", *hostile, "-o", "-"],
                 ["coverage", *hostile, "--group-col", "zone", "--type-col", "type"],
                 ["coverage", *hostile, "--format", "json"],
                 ["coverage", *hostile, "--format", "csv"]):
        res = _run(runner, args)
        assert_inert(res.stdout)
        assert_inert(res.stderr)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    _run(runner, ["coverage", *hostile, "--format", "json", "-o", str(a)])
    _run(runner, ["coverage", *hostile, "--radius-km", "60", "--format", "json", "-o", str(b)])
    for fmt in ("table", "csv", "json"):
        res = _run(runner, ["compare", str(a), str(b), "--all", "--format", fmt])
        assert_inert(res.stdout)
        assert_inert(res.stderr)


def test_gaps_csv_on_stdout_keeps_one_row_per_gap_and_files_keep_the_ids(runner, hostile,
                                                                        tmp_path):
    res = _run(runner, ["gaps", *hostile, "-o", "-"])
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    # ranked farthest first: 009 (78.434 km), then 006 (55.287 km)
    assert [r["id"] for r in rows] == [" \\n::warning::nine", "\\x3a:error::six"]
    _run(runner, ["gaps", *hostile, "-o", str(tmp_path / "gaps.csv")])
    with (tmp_path / "gaps.csv").open(encoding="utf-8", newline="") as f:
        assert [r["id"] for r in csv.DictReader(f)] == [IDS["009"], IDS["006"]]  # exact
    out = _run(runner, ["coverage", *hostile, "--format", "json"]).stdout
    assert {d["id"] for d in json.loads(out)["districts"]} >= set(IDS.values())  # same JSON


def test_map_page_is_inert_in_a_log(runner, hostile, tmp_path):
    # a page is text too (``-o -``, or cat in CI): the names are escaped HTML in it
    _run(runner, ["map", *hostile, "--group-col", "zone", "-o", str(tmp_path / "m.html")])
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "\\u0026lt;img src=https" in page  # escaped HTML, in JSON escaped for HTML
    assert_inert(page.replace("\t", " "))  # the page's own indentation


def test_errors_quoting_a_value_are_inert(runner, hostile, tmp_path):
    res = runner.invoke(cli, ["coverage", *hostile, "--id-col", "::error::col\n##[error]x"])
    assert res.exit_code == 2
    assert_inert(res.stderr)
    assert res.stderr.count("\n") == 1
