"""Counts in words for messages and reports: ``plural(1, "difference")`` is "1 difference"."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word``, in the plural (``many``, or ``word`` + "s") unless it is 1."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def signed(value: float, decimals: int = 2) -> str:
    """A change with its sign, zero without one (``+1.50``, ``-0.25``, ``0.00``: never
    ``-0.00``, which a rounding of a tiny negative gives)."""
    text = f"{value:+.{decimals}f}"
    return text[1:] if float(text) == 0 else text
