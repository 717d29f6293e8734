"""reachplan.text: untrusted text stays inert in every sink (issue 18, part 3).

Each sink is tested with generated hostile strings (random control, format and separator
characters mixed with fragments that a terminal, the GitHub Actions runner, Markdown, XML or a
spreadsheet would act on), against its invariant checked independently of the code under test:
the runner's own parsing rules (actions/runner ActionCommand.cs, re-implemented below), the
standard library's XML, HTML and JSON parsers, junitparser, and openpyxl.
"""

from __future__ import annotations

import csv
import html
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from junitparser import Failure, JUnitXml

from reachplan.checks import Outcome
from reachplan.checks.ci import junit_xml, step_summary
from reachplan.io import write_table
from reachplan.text import (
    for_html,
    for_json_text,
    for_markdown,
    for_spreadsheet,
    for_terminal,
    for_xml,
    github_output,
    terminal_text,
    workflow_command,
)

BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FRAGMENTS = [
    "::error::x", "::add-mask::x", "::stop-commands::tok", "\n::warning::x", "\r::error::x",
    "  ::notice file=a::x", "\u3000::error::x", "##[error]x", "##[add-mask]x", "%0A::error::",
    "<img src=x>", "<script>alert(1)</script>", "[a](http://x)", "![i](http://x)",
    "<http://x>", "http://x.y/z", "www.x.com", "a@b.co", "@user", "#12", "`code`", "*em*",
    "_em_", "~~s~~", "$x$", "# h", "> q", "- l", "+ l", "1. l", "2) l", "===", "| c |", "\\",
    "&amp;", "&lt;img&gt;", "&#60;", "=HYPERLINK(\"http://x\",\"y\")", "+1", "-1", "@SUM(A1)",
    "\t=1", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "\x1b[31m", "\x1b[2J", "\x07", "\x9b",
    "\x9d", "\x00", "\x7f", "\x85", "\u202e", "\u2066", "\u2028", "\u2029", "\ufeff", "\ufffe",
    ":\u200b:error::x", "#\u00ad#[error]x", "\ufeff::x", ":\U000e0041:x",
    "Dakshin Kannada", "Leh (Ladakh)", "नई दिल्ली", "ಕ್ಷ", "\u200d", "a_b",
]
_noise = st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Lu", "Ll", "Nd", "Po", "Ps",
                                   "Pe", "Sm", "Mn"])
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(_noise, max_size=4)),
                   max_size=8).map("".join)
# lone surrogates: a str can hold them (JSON "\ud800" decodes to one), UTF-8 cannot
with_surrogates = st.lists(st.one_of(hostile, st.text(st.characters(categories=["Cs"]),
                                                      min_size=1, max_size=2)),
                           max_size=3).map("".join)
ordinary = st.text(st.characters(categories=["L", "Mn", "Mc", "Nd", "Zs"],
                                 include_characters=" .,;'()/&-"), max_size=30)


def unsafe(ch: str) -> bool:
    """A character no sink may receive as is (the issue's list, by Unicode category)."""
    return (unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in BIDI
            or ch in "\ufffe\uffff")


def visible(text: str) -> str:
    """The expected visible form: each unsafe character as Python's unicode_escape spells it."""
    return "".join(c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   if unsafe(c) else c for c in text)


# --------------------------------------------------------------------------- GitHub runner
def runner_lines(output: str) -> list[str]:
    """How the runner splits a step's output into lines (StreamReader.ReadLine: CR, LF, CRLF)."""
    return re.split(r"\r\n|\r|\n", output)


def ignorable(ch: str) -> bool:
    """Skipped by a culture-sensitive .NET comparison (ICU): format characters, variation
    selectors, Hangul fillers, the combining grapheme joiner."""
    return (unicodedata.category(ch) == "Cf" or "VARIATION SELECTOR" in unicodedata.name(ch, "")
            or "FILLER" in unicodedata.name(ch, "") or ch == "\u034f")


def parse_command(line: str) -> tuple[str, dict[str, str], str] | None:
    """actions/runner ActionCommand.TryParseV2 and TryParse, re-implemented: the command a
    line issues (name, properties, data), or None. Registered command names are irrelevant
    here: any name counts, and the runner's StartsWith/IndexOf compare with the current
    culture, which skips ignorable characters: so they are dropped first (stricter)."""
    line = "".join(c for c in line if not ignorable(c))
    stripped = line.lstrip()  # .NET TrimStart: Unicode white space
    if stripped.startswith("::"):
        end = stripped.find("::", 2)
        if end >= 0:
            info, data = stripped[2:end], stripped[end + 2:]
            name, _, props = info.partition(" ")
            properties = {}
            for part in filter(None, props.strip().split(",")):
                key, eq, value = part.partition("=")
                if eq and key and value:
                    properties[key] = (value.replace("%0D", "\r").replace("%0A", "\n")
                                       .replace("%3A", ":").replace("%2C", ",")
                                       .replace("%25", "%"))
            return name, properties, (data.replace("%0D", "\r").replace("%0A", "\n")
                                      .replace("%25", "%"))
    start = line.find("##[")
    if start >= 0 and line.find("]", start) >= 0:
        return line[start + 3:line.find("]", start)], {}, ""
    return None


def parse_github_file(text: str) -> dict[str, str]:
    """actions/runner's parser of $GITHUB_OUTPUT / $GITHUB_ENV (name=value, name<<EOF)."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        eq, here = line.find("="), line.find("<<")
        if eq >= 0 and (here < 0 or eq < here):
            out[line[:eq]] = line[eq + 1:]
            continue
        assert here > 0, f"invalid line {line!r}"
        name, delimiter, body = line[:here], line[here + 2:], []
        while lines[i] != delimiter:
            body.append(lines[i])
            i += 1
        i += 1
        out[name] = "\n".join(body)
    return out


@given(with_surrogates)
def test_terminal_value_is_one_inert_line(s):
    out = for_terminal(s)
    assert not any(unsafe(c) for c in out)
    assert runner_lines(out) == [out]  # one line: the runner sees no break in it
    assert parse_command(out) is None  # at the start of a line
    assert parse_command("| " + out) is None  # or inside one
    assert for_terminal(out) == out  # rendering twice changes nothing


@given(st.lists(with_surrogates, max_size=5))
def test_terminal_text_keeps_the_tools_lines_and_no_line_is_a_command(values):
    text = "\n".join(["Report:", *(f"{v}  {v}" for v in values), *values])
    out = terminal_text(text)
    assert len(out.split("\n")) == len(text.split("\n"))  # the tool's own LFs only
    for line in runner_lines(out):
        assert parse_command(line) is None
        assert not any(unsafe(c) for c in line)
    assert terminal_text(out) == out


@given(ordinary)
def test_ordinary_text_is_unchanged_in_every_sink(s):
    assert for_terminal(s) == terminal_text(s) == for_xml(s) == s
    assert for_html(s) == html.escape(s, quote=True)
    assert html.unescape(for_markdown(s)) == s
    text = json.dumps({"name": s}, ensure_ascii=False)
    assert for_json_text(text) == text


def test_markdown_escapes_only_what_would_act():
    assert for_markdown("77.78% covered (rule 'min')") == "77.78% covered (rule 'min')"
    assert for_markdown("1. x") == "1&#46; x"
    assert for_markdown("--- x") == "&#45;-- x"
    assert for_markdown("a_b warn_below _c_") == "a_b warn_below &#95;c&#95;"


def test_escapes_are_visible_and_readable():
    assert for_terminal("Pune\n::error::x") == "Pune\\n::error::x"
    assert for_terminal("::error::x") == "\\x3a:error::x"
    assert for_terminal(" \u3000::add-mask::x") == " \u3000\\x3a:add-mask::x"
    assert for_terminal("a##[error]b") == "a##\\x5berror]b"
    assert for_terminal("\x1b[31mred\x9b\u202e") == "\\x1b[31mred\\x9b\\u202e"
    assert for_terminal("ಕ್\u200dಷ") == "ಕ್\u200dಷ"  # ZWJ: Indic names need it


@given(hostile, hostile, hostile)
def test_workflow_commands_carry_the_text_and_nothing_else(message, title, file):
    line = workflow_command("error", message, title=title, file=file)
    assert runner_lines(line) == [line]
    parsed = parse_command(line)
    assert parsed is not None
    name, props, data = parsed
    # the runner reads back the message and properties, control characters visible, line
    # breaks as the runner carries them in an annotation
    keep = {"\n", "\r"}
    assert name == "error"
    # (parse_command drops ignorable characters, so the expected text is read without them)
    def read(text: str) -> str:
        shown = "".join(c if c in keep else visible(c) for c in text)
        return "".join(c for c in shown if not ignorable(c))

    assert data == read(message)
    # (the runner trims the properties' text at both ends, and drops an empty one)
    expect = {k: read(v) for k, v in (("title", title), ("file", file)) if v and read(v)}
    assert {k: v.strip() for k, v in props.items()} == {k: v.strip() for k, v in
                                                        expect.items()}


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), hostile,
                       max_size=4))
def test_github_output_cannot_add_an_output(values):
    values = {k: v for k, v in values.items() if not unsafe_for_output(v)}
    text = "earlier=1\n" + github_output(values)
    assert parse_github_file(text) == {"earlier": "1", **values}


def unsafe_for_output(value: str) -> bool:
    # the runner reads the file as UTF-8 lines: CR is not kept apart from LF by its parser
    return "\r" in value


def test_github_output_refuses_a_bad_name():
    with pytest.raises(ValueError):
        github_output({"a\nb": "x"})


# --------------------------------------------------------------------------- Markdown
class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


MARKUP = re.compile(r"[<>\[\]`*~|$@\\#]|://|www\.|(?<![^\W_])_|_(?![^\W_])", re.IGNORECASE)


@given(hostile)
def test_markdown_value_renders_as_its_text_and_nothing_else(s):
    out = for_markdown(s)
    assert re.fullmatch(r"([^&]|&(#\d+|amp|lt|gt);)*", out)  # only the entities it wrote
    bare = re.sub(r"&(#\d+|amp|lt|gt);", "\x00", out)  # each entity: one plain character
    assert not MARKUP.search(bare), out  # no link, image, tag, code, emphasis, math, autolink
    assert not re.match(r"\s*([-+=#>]|\d+[.)](\s|$))", bare)  # no list, heading, quote
    assert runner_lines(out) == [out]  # one line, one table cell
    parser = Tags()
    parser.feed(out)
    parser.close()
    assert parser.tags == []
    assert "".join(parser.text) == html.unescape(out) == visible(s)  # it reads as the text


@given(st.lists(st.tuples(hostile, hostile, hostile), min_size=1, max_size=4))
def test_job_summary_has_no_markup_from_values(rows):
    outcomes = [Outcome(rule, f"group {scope}", "percent", 50.0, "fail", f"{scope}: {msg}",
                        {"fail_below": 60.0}, (f"{msg} (nearest centre 1.000 km)",))
                for rule, scope, msg in rows]
    summary = step_summary(outcomes)
    parser = Tags()
    parser.feed(summary)
    parser.close()
    assert set(parser.tags) <= {"details", "summary"}
    assert parser.tags.count("details") == len(outcomes)
    table = [x for x in summary.split("\n") if x.startswith("| ")]
    assert len(table) == 1 + len(outcomes)
    assert all(x.count("|") == 6 for x in table)  # five cells in every row
    assert all(not x.strip() or x.startswith(("## ", "|", "<details>", "</details>", "- "))
               or x[0].isdigit() for x in summary.split("\n"))


# --------------------------------------------------------------------------- XML, HTML, JSON
@given(st.lists(st.tuples(hostile, with_surrogates), min_size=1, max_size=3))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_junit_parses_and_reads_back(tmp_path_factory, cases):
    outcomes = [Outcome(rule, "overall", "percent", 1.0, "fail", msg, {}, (msg, rule))
                for rule, msg in cases]
    text = junit_xml(outcomes)
    ET.fromstring(text.encode("utf-8"))  # well-formed XML 1.0, encodable
    path = tmp_path_factory.mktemp("junit") / "r.xml"
    path.write_text(text, encoding="utf-8")
    cases_read = [c for suite in JUnitXml.fromfile(str(path)) for c in suite]
    for case, (rule, msg) in zip(cases_read, cases, strict=True):
        fail = case.result[0]
        assert isinstance(fail, Failure)
        assert fail.message == "".join(c if c in "\t\n" else visible(c) for c in msg)
        assert case.classname == "reachplan." + "".join(c if c in "\t\n" else visible(c)
                                                        for c in rule)


def test_xml_keeps_tabs_and_newlines_only():
    assert for_xml("a\tb\nc\rd\x00e\x1b\ud800\ufffe") == "a\tb\nc\\rd\\x00e\\x1b\\ud800\\ufffe"


@given(with_surrogates)
def test_html_value_is_text(s):
    out = for_html(s)
    parser = Tags()
    parser.feed(f"<p title=\"{out}\">{out}</p>")
    parser.close()
    assert parser.tags == ["p"]
    assert "".join(parser.text) == visible(s)
    assert not any(unsafe(c) for c in out)
    assert parse_command("<p>" + out) is None  # inside a page, never at a line start


@given(st.recursive(with_surrogates | st.integers(), lambda kids: st.lists(kids, max_size=3)
                    | st.dictionaries(with_surrogates, kids, max_size=3), max_leaves=6))
def test_json_text_is_the_same_value_and_inert(value):
    raw = json.dumps(value, ensure_ascii=False, indent=2)
    out = for_json_text(raw)
    assert json.loads(out) == json.loads(json.dumps(value))  # as ASCII JSON says it
    assert not any(unsafe(c) and c != "\n" for c in out)
    for line in runner_lines(out):
        assert parse_command(line) is None
    out.encode("utf-8")  # no lone surrogate left


# --------------------------------------------------------------------------- CSV, XLSX
FORMULA_START = re.compile(r"(^|[\r\n\t])[=+\-@\t\r]")


@given(hostile)
def test_spreadsheet_cell_never_starts_a_formula(s):
    out = for_spreadsheet(s)
    assert not FORMULA_START.search(out)
    assert out.replace("'", "") == s.replace("'", "")  # only quotes added


@given(st.lists(hostile, min_size=1, max_size=5))
@settings(max_examples=25, deadline=None)
def test_csv_and_xlsx_hold_no_formula(tmp_path_factory, names):
    from openpyxl import load_workbook

    folder = tmp_path_factory.mktemp("tables")
    frame = pd.DataFrame({"id": [str(i) for i in range(len(names))], "name": names})
    write_table(frame, folder / "t.csv")
    with open(folder / "t.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    for row in rows[1:]:
        assert not any(FORMULA_START.search(cell) for cell in row)
    write_table(frame, folder / "t.xlsx")
    sheet = load_workbook(folder / "t.xlsx").active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_text_is_the_ground_floor():
    # docs/architecture.md: reachplan.text needs the standard library only
    import ast
    import sys
    from pathlib import Path

    import reachplan.text

    tree = ast.parse(Path(reachplan.text.__file__).read_text(encoding="utf-8"))
    names = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for a in node.names}
    names |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module}
    assert names - {"__future__"} <= sys.stdlib_module_names
