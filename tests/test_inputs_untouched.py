"""Reading an input never changes it: a GeoPackage in WAL mode keeps its bytes and its
-wal/-shm sidecars, and what the WAL holds is still read."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import shapely

from reachplan.cli.main import cli
from reachplan.io import read_boundaries, read_points

# a writer that commits to the WAL and dies before checkpointing, as a live editor leaves it
_LEAVE_WAL = """
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute('PRAGMA journal_mode=WAL')
db.execute('PRAGMA wal_autocheckpoint=0')
db.execute(f"UPDATE {sys.argv[2]} SET name = name || ' (edited)'")
db.commit()
os._exit(0)
"""


def _wal_gpkg(path: Path, frame: gpd.GeoDataFrame) -> None:
    # no spatial index: its triggers need SpatiaLite functions plain sqlite3 lacks
    frame.to_file(path, driver="GPKG", layer=path.stem, SPATIAL_INDEX="NO")
    subprocess.run([sys.executable, "-c", _LEAVE_WAL, str(path), path.stem], check=True)
    assert Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()


def _state(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_wal_geopackages_are_read_without_changing_them(runner, tmp_path):
    districts = gpd.GeoDataFrame({"id": ["001"], "name": ["Square"]},
                                 geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    centres = gpd.GeoDataFrame({"name": ["Inside"]}, geometry=[shapely.Point(0.5, 0.5)],
                               crs="EPSG:4326")
    _wal_gpkg(tmp_path / "districts.gpkg", districts)
    _wal_gpkg(tmp_path / "centres.gpkg", centres)
    before = _state(tmp_path)
    assert len(before) == 6  # two databases, each with -wal and -shm

    assert read_boundaries(tmp_path / "districts.gpkg")["name"].tolist() == ["Square (edited)"]
    assert read_points(tmp_path / "centres.gpkg")["name"].tolist() == ["Inside (edited)"]
    res = runner.invoke(cli, ["coverage", str(tmp_path / "districts.gpkg"),
                              str(tmp_path / "centres.gpkg"), "--format", "json",
                              "--radius-km", "1", "--demand", str(tmp_path / "centres.gpkg")])
    assert res.exit_code == 0, res.output
    assert _state(tmp_path) == before
