"""The wheel's one build step beyond pyproject.toml: the npm files the pages inline.

``package.json`` lists them (``reachplanVendor``: package -> files; the packages are its
``dependencies``, pinned by ``package-lock.json``). Building a wheel copies them from
``node_modules`` (``npm ci`` first; ``make test`` does) into ``reachplan/maps/vendor/<package>/``;
the repository holds no third-party code. An editable install skips the copy: the pages read
``node_modules`` in the source tree directly (``reachplan.maps.assets``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPy(build_py):
    """build_py, then the npm files into the build's reachplan/maps/vendor."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        listing = ROOT / "package.json"
        if not listing.is_file():
            raise SystemExit(f"setup.py: {listing} is missing: the wheel inlines the npm files "
                             "it lists (build from the source tree or its sdist)")
        vendor = json.loads(listing.read_text(encoding="utf-8"))
        for package, names in vendor["reachplanVendor"].items():
            target = Path(self.build_lib, "reachplan", "maps", "vendor", package)
            target.mkdir(parents=True, exist_ok=True)
            for name in names:
                source = ROOT / "node_modules" / package / name
                if not source.is_file():
                    raise SystemExit(f"setup.py: {source} is missing: run `npm ci` before "
                                     "building the wheel (package.json lists it)")
                shutil.copyfile(source, target / name)


setup(cmdclass={"build_py": BuildPy})
