"""Build the QGIS plugin zip (build/reachplan_qgis.zip) from qgis/reachplan_qgis/.

Deterministic: files in sorted order, one fixed timestamp, no __pycache__; the zip holds one
folder, reachplan_qgis/, as QGIS's "Install from ZIP" expects. ``make qgis-plugin`` runs it;
tests/test_qgis.py builds the zip it installs with it too.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "qgis" / "reachplan_qgis"
EPOCH = (2020, 1, 1, 0, 0, 0)


def build(out: Path) -> Path:
    """Write the plugin zip to ``out``; returns it."""
    files = sorted(p for p in PLUGIN.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(str(path.relative_to(PLUGIN.parent)), EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "reachplan_qgis.zip"))
