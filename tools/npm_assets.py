"""Fetch the npm files the pages inline (package.json's ``reachplanVendor``) into
``node_modules`` without npm, for ``make demo`` on a machine with only Python.

An editable install reads them from ``node_modules`` (``reachplan.maps.assets``); ``make test``
gets them, with everything else, from ``npm ci``. This fetches only the listed files of each
package, at the version ``package-lock.json`` pins, from the npm registry
(``$npm_config_registry`` or registry.npmjs.org), and refuses a tarball whose sha512 differs
from the lock's ``integrity``. Files already there are left alone.

    python tools/npm_assets.py [ROOT]
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org/"


def fetch(root: Path, registry: str | None = None) -> list[Path]:
    """Fetch the missing vendor files under ``root``; the files written."""
    # npm's own setting, in the lower case npm reads
    registry = registry or os.environ.get("npm_config_registry") or REGISTRY  # noqa: SIM112
    listing = json.loads((root / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((root / "package-lock.json").read_text(encoding="utf-8"))
    written = []
    for package, names in listing["reachplanVendor"].items():
        target = root / "node_modules" / package
        if all((target / name).is_file() for name in names):
            continue
        pinned = lock["packages"][f"node_modules/{package}"]
        url = (f"{registry.rstrip('/')}/{package}/-/{package.rsplit('/', 1)[-1]}-"
               f"{pinned['version']}.tgz")
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read(50_000_000)
        algorithm, _, expected = pinned["integrity"].partition("-")
        got = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
        if algorithm != "sha512" or got != expected:
            raise SystemExit(f"npm_assets: {url}: its {algorithm} is not package-lock.json's "
                             f"integrity for {package}; not used")
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for name in names:
                try:
                    member = tar.extractfile(f"package/{name}")
                except KeyError:
                    member = None
                if member is None:
                    raise SystemExit(f"npm_assets: {url} has no {name}")
                target.mkdir(parents=True, exist_ok=True)
                tmp = target / f".{name}.part"
                tmp.write_bytes(member.read())
                tmp.replace(target / name)
                written.append(target / name)
    return written


if __name__ == "__main__":
    here = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    for path in fetch(here):
        print(f"npm_assets: fetched {path.relative_to(here)}")
