"""Every ```python block of README.md and docs/**/*.md runs as written (issue 18.6: the capacity
example crashed with KeyError: 'code').

Each block follows a marker ``<!-- python-example: NAME ... -->``; ``SETUPS[NAME]`` writes the
tiny files it names into a fresh folder, and the block runs there. A block without a marker,
or with a marker this file has no setup for, fails the test: none is skipped.

Files: the 3x3 grid (tests/fixtures/grid, its ``zone`` / ``pop`` columns renamed to the
``state`` / ``population`` the examples name), the capacity fixture's centres, demand and
candidates (tests/fixtures/capacity), and for the road example the Helsinki extract
(tests/fixtures/roads) under the name the example uses, with three centres and customers in
central Helsinki.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from _docs import doc_files

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures"
MARKER = re.compile(r"<!-- python-example: ([\w-]+)[^>]*-->\n```python\n")


def _blocks() -> list[tuple[str, str | None, str]]:
    """(where, marker name or None, code) of every python block in the docs."""
    found = []
    for path in doc_files():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"```python\n(.*?)```", text, re.DOTALL):
            line = text.count("\n", 0, match.start()) + 1
            marker = MARKER.search(text, max(0, match.start() - 200), match.start() + 10)
            name = marker.group(1) if marker and marker.end() == match.start() + 10 else None
            found.append((f"{path.relative_to(ROOT)}:{line}", name, match.group(1)))
    return found


def _grid(work: Path) -> None:
    districts = gpd.read_file(FIX / "grid" / "districts.geojson")
    districts.rename(columns={"zone": "state", "pop": "population"}).to_file(
        work / "districts.gpkg")
    shutil.copy(FIX / "grid" / "centres.csv", work / "centres.csv")


def _capacity(work: Path) -> None:
    _grid(work)
    centres = pd.read_csv(FIX / "capacity" / "centres.csv")
    centres.rename(columns={"cap": "repairs_per_day"}).to_csv(work / "centres.csv", index=False)
    shutil.copy(FIX / "capacity" / "demand.csv", work / "offices.csv")
    shutil.copy(FIX / "capacity" / "candidates.csv", work / "sites.csv")


def _travel(work: Path) -> None:
    shutil.copy(FIX / "roads" / "helsinki.osm.pbf", work / "southern-zone-latest.osm.pbf")
    (work / "speeds.csv").write_text("highway,kmh\nresidential,25\n", encoding="utf-8")
    halves = [shapely.box(24.92, 60.16, 24.94, 60.18), shapely.box(24.94, 60.16, 24.96, 60.18)]
    gpd.GeoDataFrame({"code": ["W", "E"], "name": ["West", "East"]}, geometry=halves,
                     crs="EPSG:4326").to_file(work / "districts.gpkg")
    points = {"centres": [(24.935, 60.170), (24.950, 60.168)],
              "customers": [(24.93, 60.165), (24.945, 60.172), (24.955, 60.175)]}
    for name, xy in points.items():
        gpd.GeoDataFrame({"name": [f"{name} {i}" for i in range(len(xy))]},
                         geometry=gpd.points_from_xy(*zip(*xy, strict=True)),
                         crs="EPSG:4326").to_file(work / f"{name}.gpkg")


def _postgis(work: Path) -> None:
    """Nothing on disk: the block works on the database "gis" of the session's PostGIS
    server, which _postgis_env fills and names in the environment (as libpq reads it)."""


def _postgis_env(server, monkeypatch) -> None:
    gis = server.database("gis")
    with gis.connect() as conn:
        conn.execute("DROP SCHEMA IF EXISTS admin, results CASCADE")
        conn.execute("DROP TABLE IF EXISTS sites")
        conn.execute("CREATE SCHEMA admin")
        conn.execute("CREATE SCHEMA results")
        conn.execute("CREATE TABLE admin.districts (code text, name text, geom geometry)")
        for row in gpd.read_file(FIX / "grid" / "districts.geojson").itertuples():
            conn.execute("INSERT INTO admin.districts VALUES (%s, %s, "
                         "ST_GeomFromText(%s, 4326))", (row.code, row.name, row.geometry.wkt))
        conn.execute("CREATE TABLE sites (name text, open boolean, geom geometry)")
        conn.execute("INSERT INTO sites VALUES ('C1', true, 'SRID=4326;POINT(0.5 0.5)'), "
                     "('C2', false, 'SRID=4326;POINT(1.5 1.5)')")
    for key, value in {"PGHOST": "127.0.0.1", "PGPORT": str(server.port),
                       "PGUSER": "reachplan", "PGPASSFILE": os.devnull}.items():
        monkeypatch.setenv(key, value)
    from _postgis_server import PASSWORD

    monkeypatch.setenv("PGPASSWORD", PASSWORD)


def _hours(work: Path) -> None:
    """The grid with ``pop`` kept and an ``opening_hours`` column (one site on weekdays only,
    one closed on public holidays, the rest always open)."""
    gpd.read_file(FIX / "grid" / "districts.geojson").to_file(work / "districts.gpkg")
    centres = pd.read_csv(FIX / "grid" / "centres.csv", dtype=str)
    centres["opening_hours"] = ["Mo-Fr 09:00-18:00", "Mo-Su 08:00-20:00; PH off"] + [
        "24/7"] * (len(centres) - 2)
    centres.to_csv(work / "centres.csv", index=False)


def _population(work: Path) -> None:
    """The WorldPop window of western Burundi (tests/fixtures/worldpop) with its outline, and
    two centres."""
    shutil.copy(FIX / "worldpop" / "burundi_west.tif", work / "worldpop.tif")
    shutil.copy(FIX / "worldpop" / "burundi_west.geojson", work / "districts.geojson")
    (work / "centres.csv").write_text("name,lat,lon\nBujumbura,-3.38,29.36\n"
                                      "Muramvya,-3.27,29.61\n", encoding="utf-8")


SETUPS: dict[str, Callable[[Path], None]] = {"api": _grid, "capacity": _capacity,
                                             "travel": _travel, "postgis": _postgis,
                                             "hours": _hours, "population": _population}


def test_every_python_block_has_a_setup():
    blocks = _blocks()
    assert len(blocks) >= 3
    missing = [where for where, name, _ in blocks if name not in SETUPS]
    assert not missing, f"python blocks with no python-example marker or setup: {missing}"


@pytest.mark.parametrize(("where", "name", "code"), _blocks(), ids=lambda v: str(v)[:20])
def test_python_block_runs(where, name, code, tmp_path, monkeypatch, request):
    assert name in SETUPS, f"{where}: no setup"
    SETUPS[name](tmp_path)
    if name == "postgis":
        _postgis_env(request.getfixturevalue("postgis_server"), monkeypatch)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__readme__"})
