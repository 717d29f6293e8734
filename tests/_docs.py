"""The user documentation the tests read: README.md and every page of the site (docs/)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def doc_files() -> list[Path]:
    """README.md, then the site's pages in path order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def doc_text() -> str:
    """All of the documentation, one file after another."""
    return "\n".join(path.read_text(encoding="utf-8") for path in doc_files())


def page(relative: str) -> str:
    """One page, e.g. ``docs/guides/ci.md``."""
    return (ROOT / relative).read_text(encoding="utf-8")
