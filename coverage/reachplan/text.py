"""Untrusted text rendered inert for each place reachplan writes it.

Names, ids, groups, types and rule strings come from users' files. Every writer of the package
passes them through one function here, chosen by where the text goes (its *sink*):

=====================  =====================================================================
sink                   function
=====================  =====================================================================
terminal / CI log      :func:`for_terminal` (one value), :func:`terminal_text` (lines the tool
                       composed); GitHub workflow commands reachplan itself issues:
                       :func:`workflow_command`; step outputs: :func:`github_output`
Markdown job summary   :func:`for_markdown`
XML (JUnit)            :func:`for_xml`
HTML (maps)            :func:`for_html`
JSON text              :func:`for_json_text`
CSV / XLSX cells       :func:`for_spreadsheet`
=====================  =====================================================================

Ordinary text (letters of any script, digits, spaces, usual punctuation) comes out as it went
in, byte for byte, in every sink; only what a sink would act on changes. Control characters
(C0, DEL, C1 such as ``ESC`` and ``CSI``), bidirectional overrides and isolates, line and
paragraph separators, lone surrogates and U+FFFE/U+FFFF become visible escapes in Python's
spelling (``\\n``, ``\\x1b``, ``\\u202e``), so one value stays one line and a terminal or a
log viewer runs no sequence from a file. ZWJ/ZWNJ, which Indic names need, are kept.

The GitHub Actions runner reads a line of a step's output as a command when, after leading
blanks, it starts with ``::`` (``::error::``, ``::add-mask::``, ``::stop-commands::``), or
when it holds ``##[`` anywhere (the older syntax, still parsed); it splits lines at CR and
at LF, and compares with the current culture (ICU), which skips zero-width and other ignorable
characters, so ``:\\u200b:`` counts as ``::``. The terminal sink breaks both spellings, with
or without such characters (``\\x3a:`` and ``##\\x5b``). reachplan does not wrap its output
in ``::stop-commands::TOKEN``: values are inert wherever they are printed, with or without
``--github`` (a command run in CI without it prints them too), and a run that died between
the stop and its token would leave commands off for the rest of the step.

This module depends on the standard library only (the ground floor, like ``errors.py``).
"""

from __future__ import annotations

import html
import re
import uuid

__all__ = ["XML_INVALID", "for_html", "for_json_text", "for_markdown", "for_spreadsheet",
           "for_terminal", "for_xml", "github_output", "terminal_text", "workflow_command"]

# bidi marks, embeddings, overrides and isolates (Trojan Source): U+061C, U+200E/F,
# U+202A-202E, U+2066-2069
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# every character a sink must not receive as is: C0, DEL, C1, bidi, U+2028/2029, lone
# surrogates, the non-characters U+FFFE/FFFF (the last two and C0 are not XML 1.0 either)
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BREAKS = "\r\n"  # kept in a workflow command's text: escaped as %0D, %0A
# characters a culture-sensitive comparison skips (Unicode's default ignorable code points:
# format characters, variation selectors, fillers). The runner compares with the current
# culture (.NET with ICU), so "#\u00ad#[" or ":\u200b:" may read as "##[" and "::".
_IGNORABLE = ("[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
              "\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
              "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001345f"
              "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
# the runner's ##[command] syntax, parsed anywhere in a line, and ::command:: at its start
# (after blanks)
_OLD_COMMAND = re.compile(f"#{_IGNORABLE}*#{_IGNORABLE}*\\[")
_NEW_COMMAND = re.compile(f"(?:\\s|{_IGNORABLE})*:(?={_IGNORABLE}*:)")


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escape(value: object, keep: str = "") -> str:
    """``value`` as text with every unsafe character (but those in ``keep``) made visible."""
    text = str(value)
    if keep:
        return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _visible(m), text)
    return _UNSAFE.sub(_visible, text)


# --------------------------------------------------------------------------- terminal, CI log
def for_terminal(value: object) -> str:
    """One value (a name, an id, a message quoting them) as one inert line for a terminal or a
    CI log: unsafe characters visible (newlines too), no GitHub workflow command at its start
    (``::x`` -> ``\\x3a:x``) or anywhere in it (``##[`` -> ``##\\x5b``)."""
    text = _OLD_COMMAND.sub(lambda m: m.group()[:-1] + "\\x5b", _escape(value))
    start = _NEW_COMMAND.match(text)
    if start is not None:
        text = text[:start.end() - 1] + "\\x3a" + text[start.end():]
    return text


def terminal_text(text: str) -> str:
    """Text the tool composed (lines joined by LF, values inside) for a terminal or a CI log:
    every line as :func:`for_terminal` renders a value, the LFs kept. Text already rendered
    comes out unchanged, so a value escaped where it was formatted is not escaped twice."""
    return "\n".join(for_terminal(line) for line in text.split("\n"))


def _escape_data(text: str) -> str:
    # as the runner unescapes a command's data (and @actions/core escapes it)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str) -> str:
    """A GitHub Actions workflow command reachplan issues (``::error title=...::message``):
    the message and properties escaped as the runner unescapes them (``%25``, ``%0D``,
    ``%0A``; ``%3A`` and ``%2C`` in properties), other unsafe characters visible; an empty
    property is left out (the runner would drop it)."""
    if not re.fullmatch(r"[a-z-]+", command):
        raise ValueError(f"{command!r} is not a workflow command name")
    props = ",".join(f"{k}={_escape_property(_escape(v, keep=_BREAKS))}"
                     for k, v in properties.items() if v)
    return (f"::{command}{' ' + props if props else ''}::"
            f"{_escape_data(_escape(message, keep=_BREAKS))}")


def github_output(values: dict[str, str]) -> str:
    """Lines for ``$GITHUB_OUTPUT`` (or ``$GITHUB_ENV``): ``name=value``, or for a value with a
    line break the ``name<<DELIMITER`` form with a random delimiter, so that no value can add
    another output."""
    lines = []
    for name, value in values.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
            raise ValueError(f"{name!r} is not a step output name")
        if "\n" not in value and "\r" not in value:
            lines.append(f"{name}={value}\n")
            continue
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        while delimiter in value:  # pragma: no cover - a random UUID in a value
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
        lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(lines)


# --------------------------------------------------------------------------- Markdown
# characters Markdown (GitHub's flavour) or HTML would act on in running text, as numeric
# character references: they read the same once rendered, in Markdown and in inline HTML
# (a backslash escape would show in HTML). Quotes stay: values never go into attributes.
_MARKDOWN = {c: f"&#{ord(c)};" for c in "[]`*~|\\#$@"}
_MARKDOWN.update({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_MARKDOWN_CHARS = re.compile("[" + re.escape("".join(_MARKDOWN)) + "]")
# http://..., www.x (GFM autolinks); an underscore that is not inside a word (inside one,
# it emphasises nothing: ids like warn_below stay as they are)
_AUTOLINK = re.compile(r":(?=//)|(?<=www)\.|_(?![^\W_])|(?<![^\W_])_", re.IGNORECASE)
# a list ("- x", "+ x", "1. x", "2) x"), a rule ("---") or a setext line ("===") at the start
_BLOCK_START = re.compile(r"^(\s*)(?:([-+=])|(\d{1,9})([.)])(?=\s|$))")


def _entity(ch: str) -> str:
    return f"&#{ord(ch)};"


def for_markdown(value: object) -> str:
    """A value inside a Markdown document (a GitHub job summary): table cell, list item or
    inline HTML such as ``<summary>``. It renders as the same text and as nothing else: no
    link, image, HTML tag, emphasis, code, math, mention, autolink, heading or list, and it
    stays one line and one table cell."""
    text = _MARKDOWN_CHARS.sub(lambda m: _MARKDOWN[m.group()], _escape(value))
    text = _AUTOLINK.sub(lambda m: _entity(m.group()), text)
    return _BLOCK_START.sub(lambda m: m.group(1) + (_entity(m.group(2)) if m.group(2) else
                                                    m.group(3) + _entity(m.group(4))), text)


# --------------------------------------------------------------------------- XML, HTML, JSON
#: characters an XML 1.0 document cannot hold (an XLSX file is XML: written as U+FFFD there)
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def for_xml(value: object) -> str:
    """A value for an XML 1.0 document built with :mod:`xml.etree.ElementTree` (which escapes
    ``&``, ``<``, ``>`` and quotes): characters XML 1.0 cannot hold, and other unsafe ones,
    visible; tabs and line feeds kept."""
    return _escape(value, keep="\t\n")


def for_html(value: object) -> str:
    """A value as HTML text or attribute (maps): :func:`html.escape` with quotes, unsafe
    characters visible, and ``##[`` broken (a page printed to a CI log)."""
    return _OLD_COMMAND.sub(lambda m: m.group()[:-1] + "&#91;",
                            html.escape(_escape(value), quote=True))


_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def for_json_text(text: str) -> str:
    """JSON text from :func:`json.dumps` (which escapes C0 itself) with the other unsafe
    characters and the ``[`` of ``##[`` as ``\\uXXXX`` escapes: the same JSON value, inert in a
    terminal or CI log. Such characters only ever occur inside JSON strings."""
    text = _OLD_COMMAND.sub(lambda m: m.group()[:-1] + "\\u005b", text)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# --------------------------------------------------------------------------- CSV, XLSX
# a spreadsheet starts a new row at CR or LF, so a formula start after one is guarded too
_FORMULA_AT_LINE_START = re.compile(r"(^|[\r\n\t])(?=[=+\-@\t\r])")


def for_spreadsheet(value: str) -> str:
    """A text cell of a CSV or XLSX table: prefixed with ``'`` where a spreadsheet would run
    it as a formula (``=``, ``+``, ``-``, ``@``, tab or CR at its start, or after a CR, LF or
    tab inside it), as OWASP advises against CSV injection."""
    return _FORMULA_AT_LINE_START.sub(r"\1'", value)
