"""Domain errors. The CLI turns :class:`InputError` into one line and exit code 2."""

from __future__ import annotations

__all__ = ["ReachplanError", "InputError", "OutputError", "first_line"]


class ReachplanError(ValueError):
    """Base class of every error reachplan raises on purpose."""


class InputError(ReachplanError):
    """A user's input is wrong.

    The message is one line: the file, row or column, what is wrong, and what to do,
    e.g. ``"centres.csv: row 7: latitude 'abc' is not a number; fix or delete the row"``.

    The library speaks Python: a wrong argument is named as the parameter, e.g.
    ``"add=-1: must be a whole number >= 0"``, and listed in ``params`` so that a command
    line can name its own option instead (``--add -1: ...``).
    """

    def __init__(self, message: str, *, params: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.params = params


class OutputError(ReachplanError):
    """An output cannot be written: a folder the user cannot write in, a full disk.

    ``failed`` is true when the operation failed (disk full, I/O error) rather than the
    user choosing a target that cannot work; the CLI exits 1 then, else 2.
    """

    def __init__(self, message: str, *, failed: bool = False) -> None:
        super().__init__(message)
        self.failed = failed


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none): a library's
    multi-line error, quoted inside a one-line message."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
