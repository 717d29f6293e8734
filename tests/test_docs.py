"""The documentation site builds in strict mode, and strict mode does catch a broken link.

`mkdocs build --strict` with the project's mkdocs.yml (MkDocs Material, mkdocstrings for the
Python reference, mkdocs-click for the command line reference) into a temporary folder: a
broken link or anchor, a page missing from the nav, an API name that does not resolve or a
snippet that is not there fails it. A copy of the docs with one planted broken link must
fail, so the strict build is known to bite. The README's own links (GitHub shows them, MkDocs
does not build the README) are checked here too.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _docs import ROOT, doc_files

PLUGINS = ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_click")


def _build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    missing = [m for m in PLUGINS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(f"{missing} not installed: run `make test`, which installs the dev extras")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "coverage"),
                                          os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(site)], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def _copy(tmp_path: Path) -> Path:
    """mkdocs.yml, docs/, the CHANGELOG the changelog page includes and the package."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", root / "docs")
    (root / "coverage").symlink_to(ROOT / "coverage")
    for name in ("mkdocs.yml", "CHANGELOG.md"):
        shutil.copy(ROOT / name, root / name)
    return root


def test_site_builds_strictly(tmp_path):
    res = _build(ROOT, tmp_path / "site")
    assert res.returncode == 0, res.stderr
    site = tmp_path / "site"
    # the generated references are there: every command's --help, the API from docstrings
    cli = (site / "reference" / "cli.html").read_text(encoding="utf-8")
    for command in ("coverage", "gaps", "check", "map", "plan", "compare", "access"):
        assert f'id="reachplan-{command}"' in cli, command
    assert "--radius-km" in cli
    api = (site / "reference" / "python.html").read_text(encoding="utf-8")
    for name in ("reachplan.engine.assess", "reachplan.io.read_boundaries",
                 "reachplan.roads.TravelRule", "reachplan.errors.InputError"):
        assert f'id="{name}"' in api, name
    assert "[0.2.0]" in (site / "changelog.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("planted", ["[the plan](guides/no-such-page.md)",
                                     "[the plan](guides/plan.md#no-such-heading)"])
def test_a_broken_link_fails_the_build(tmp_path, planted):
    root = _copy(tmp_path)
    index = root / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + f"\nSee {planted}.\n",
                     encoding="utf-8")
    res = _build(root, tmp_path / "site")
    assert res.returncode != 0
    assert "no-such" in res.stderr


def test_every_relative_link_of_the_readme_and_pages_exists():
    broken = []
    for path in doc_files():
        text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, broken
