"""What the CLI writes: messages for people on stderr (:func:`echo`, :func:`info`, warnings,
the verbosity -v/-q sets, a progress bar) and results on stdout or ``-o`` (:func:`emit_json`,
:func:`emit_report`, :func:`emit_text`), every embedded dataset named as the user typed it.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import Iterator
from typing import Any

import click

from reachplan.text import for_json_text, for_terminal, terminal_text


def configure_logging(verbosity: int, quiet: bool) -> None:
    """Messages go to stderr: warnings by default, none with -q, details with -v."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    base = (ctx.find_root().obj or {}).get("verbosity", 0)
    ctx.meta["reachplan.level"] = -1 if quiet else verbosity + base


def _level() -> int:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get("reachplan.level", 0) if ctx else 0


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """The one way the CLI writes messages and reports for people (stdout or, ``err``,
    stderr): every line rendered inert for a terminal or a CI log (control characters
    visible, no GitHub workflow command; :func:`reachplan.text.terminal_text`). Values are
    best rendered where they are formatted too (:func:`reachplan.text.for_terminal`), so
    that one keeps to one line; the second pass leaves them as they are."""
    click.echo(terminal_text(text), err=err, nl=nl)


def info(message: str) -> None:
    """A progress or detail message, shown with -v."""
    if _level() >= 1:
        echo(f"reachplan: {message}", err=True)


class Progress:
    """The one progress display of the CLI: a click progress bar on stderr for work with a
    known size (``progress(done, total)``), or a status line (:meth:`note`). Only when stderr
    is a terminal and not ``-q``: nothing in pipes, CI logs or captured output."""

    def __init__(self, label: str) -> None:
        self.label = label
        stream = sys.stderr
        self.enabled = _level() >= 0 and hasattr(stream, "isatty") and stream.isatty()
        self._bar: Any = None
        self._noted = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if self._bar is None or self._bar.length != total:
            self.close()
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr,
                                          show_pos=True, show_percent=True, show_eta=True)
        self._bar.update(max(done - self._bar.pos, 0))

    def note(self, text: str) -> None:
        """A status line where no total is known (e.g. a solver's gap), redrawn in place."""
        if self.enabled:
            self.close()
            click.echo(f"\r{self.label}: {text}   ", nl=False, err=True)
            self._noted = True

    def close(self) -> None:
        if self._bar is not None:
            self._bar.render_finish()
            self._bar = None
        if self._noted:
            click.echo("", err=True)
            self._noted = False

class Steps:
    """A library's ``progress(what, done, total)`` on the one progress display: a bar per step
    with a size, a status line counting while the size is unknown (total 0); a step ends
    when done reaches its total, or when another begins."""

    def __init__(self) -> None:
        self.what: str | None = None
        self.display: Progress | None = None

    def __call__(self, what: str, done: int, total: int) -> None:
        if what != self.what or self.display is None:
            self.close()
            self.what, self.display = what, Progress(f"reachplan: {what}")
        if total > 0:
            self.display(done, total)
            if done >= total:
                self.close()
        else:
            self.display.note(f"{done:,}" if done else "...")

    def close(self) -> None:
        if self.display is not None:
            self.display.close()
        self.what, self.display = None, None



_GIVEN: dict[str, str] = {}  # path of an embedded dataset -> the name the user typed


def as_given(text: str) -> str:
    """``text`` with embedded datasets' local paths replaced by the names the user typed
    (``@india``), so messages and outputs are the same bytes on every machine."""
    for resolved, given in _GIVEN.items():
        text = text.replace(resolved, given)
    return text


def notice(message: str) -> None:
    """A fact the user should see about the run (not a warning), on stderr unless -q."""
    if _level() >= 0:
        echo(f"reachplan: {for_terminal(as_given(message))}", err=True)


def log_warnings(messages: list[str]) -> None:
    """Warnings about the inputs, on stderr unless -q."""
    if _level() >= 0:
        for message in messages:
            echo(f"reachplan: warning: {for_terminal(as_given(message))}", err=True)


@contextlib.contextmanager
def cache_warnings() -> Iterator[None]:
    """The road-graph cache's warnings (an entry not trusted) as ``reachplan: warning:``
    lines, like the inputs' warnings; other warnings pass on untouched."""
    import warnings

    from reachplan.roads.cache import CacheWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    log_warnings([str(w.message) for w in caught if issubclass(w.category, CacheWarning)])
    for w in caught:
        if not issubclass(w.category, CacheWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _finite(data: Any) -> Any:
    """``data`` with NaN and infinities as ``None``: JSON has no such numbers."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def emit_json(data: Any, output: str | None, overwrite: bool) -> None:
    """JSON to stdout, or atomically to a file."""
    text = json.dumps(_finite(data), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    emit_text(for_json_text(text), output, overwrite)


def emit_report(text: str, output: str | None, overwrite: bool) -> None:
    """A report for people (tables, summaries) to stdout or a file, rendered as :func:`echo`
    renders it, so that the file holds what the terminal shows."""
    emit_text(terminal_text(text), output, overwrite)


def emit_text(text: str, output: str | None, overwrite: bool) -> None:
    """Text to stdout (``None`` or ``-``) or to a file, as it is (JSON, XML: their own sinks
    rendered it); lands with the command's outputs."""
    from reachplan.io import atomic_output

    with atomic_output(output or "-", overwrite=overwrite) as tmp:
        tmp.write_text(as_given(text), encoding="utf-8")
