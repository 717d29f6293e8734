"""tools/npm_assets.py: ``make demo`` fetches the page's npm files without npm, only at the
version and sha512 that package-lock.json pins (offline here: a file:// registry)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from npm_assets import fetch  # noqa: E402


def _tree(tmp_path: Path, body: bytes, integrity_of: bytes | None = None) -> tuple[Path, str]:
    """A source tree listing one package, and a registry folder holding its tarball."""
    blob = io.BytesIO()
    with tarfile.open(fileobj=blob, mode="w:gz") as tar:
        for name, data in (("package/geo.min.js", body), ("package/LICENSE.txt", b"MIT\n"),
                           ("package/other.js", b"not listed")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tgz = blob.getvalue()
    registry = tmp_path / "registry"
    (registry / "geo" / "-").mkdir(parents=True)
    (registry / "geo" / "-" / "geo-1.2.3.tgz").write_bytes(tgz)
    digest = base64.b64encode(hashlib.sha512(integrity_of or tgz).digest()).decode()
    root = tmp_path / "src"
    root.mkdir()
    (root / "package.json").write_text(json.dumps(
        {"reachplanVendor": {"geo": ["geo.min.js", "LICENSE.txt"]}}))
    (root / "package-lock.json").write_text(json.dumps(
        {"packages": {"node_modules/geo": {"version": "1.2.3",
                                           "integrity": f"sha512-{digest}"}}}))
    return root, registry.as_uri()


def test_fetches_only_the_listed_files_at_the_pinned_version(tmp_path):
    root, registry = _tree(tmp_path, b"var geodesic = 1;\n")
    written = fetch(root, registry)
    folder = root / "node_modules" / "geo"
    assert sorted(p.name for p in written) == ["LICENSE.txt", "geo.min.js"]
    assert (folder / "geo.min.js").read_bytes() == b"var geodesic = 1;\n"
    assert sorted(p.name for p in folder.iterdir()) == ["LICENSE.txt", "geo.min.js"]
    assert fetch(root, registry) == []  # there already: nothing fetched


def test_a_tarball_that_is_not_the_locked_one_is_refused(tmp_path):
    root, registry = _tree(tmp_path, b"evil();\n", integrity_of=b"something else")
    with pytest.raises(SystemExit, match="not package-lock.json's integrity for geo"):
        fetch(root, registry)
    assert not (root / "node_modules" / "geo" / "geo.min.js").exists()


def test_the_real_lock_pins_every_vendored_package():
    root = Path(__file__).resolve().parents[1]
    listing = json.loads((root / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((root / "package-lock.json").read_text(encoding="utf-8"))
    for package in listing["reachplanVendor"]:
        assert package in listing["dependencies"]
        assert lock["packages"][f"node_modules/{package}"]["integrity"].startswith("sha512-")
