"""PostGIS in and out, against a real server: a throwaway PostgreSQL 15 cluster with PostGIS 3
(tests/_postgis_server.py; Debian's postgresql-15-postgis-3, installed by .ci/ensure-postgis)
started for this session on a loopback port. No silent skip: without the server the tests
fail, naming what to install.

The fixtures are loaded with plain SQL (``ST_GeomFromText``), and written tables are read back
with plain SQL through psycopg, independently of reachplan's reader and writer; expected values
are the same command's output on the files (tests/fixtures/grid, hand-computed in its README).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest
import shapely
from _postgis_server import DB, PASSWORD, Server
from click.testing import CliRunner

from reachplan.cli.main import cli

GRID = Path(__file__).parent / "fixtures" / "grid"
DISTRICTS, CENTRES = str(GRID / "districts.geojson"), str(GRID / "centres.csv")


@pytest.fixture(scope="module")
def server(postgis_server: Server) -> Server:
    """The session's PostGIS server (conftest.py), with the grid as tables districts, sites."""
    _load_grid(postgis_server)
    return postgis_server


def _load_grid(srv: Server, *, srid: int = 4326, districts: str = "districts",
               sites: str = "sites") -> None:
    """The grid fixture as two tables, by plain SQL; ``srid``: PostGIS transforms to it."""
    frame = pyogrio.read_dataframe(DISTRICTS)
    geom = f"ST_Transform(ST_GeomFromText(%s, 4326), {srid})"
    with srv.connect() as conn:
        conn.execute(f"CREATE TABLE {districts} (code text, name text, zone text, pop integer, "
                     f"geom geometry(Polygon, {srid}))")
        for row in frame.itertuples():
            conn.execute(f"INSERT INTO {districts} VALUES (%s, %s, %s, %s, {geom})",
                         (row.code, row.name, row.zone, int(row.pop), row.geometry.wkt))
        conn.execute(f"CREATE TABLE {sites} (id text, name text, type text, "
                     f"geom geometry(Point, {srid}))")
        with open(CENTRES, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                wkt = f"POINT ({r['longitude']} {r['latitude']})"
                conn.execute(f"INSERT INTO {sites} VALUES (%s, %s, %s, {geom})",
                             (r["id"], r["name"], r["type"], wkt))


def _load_points(srv: Server, table: str, csv_path: Path, lat: str, lon: str) -> None:
    """A CSV of points as a table by plain SQL: its columns as text, a point geometry."""
    rows = _file_rows(str(csv_path))
    columns = [c for c in rows[0] if c not in (lat, lon)]
    with srv.connect() as conn:
        conn.execute(f"CREATE TABLE {table} ({', '.join(f'{c} text' for c in columns)}, "
                     "geom geometry(Point, 4326))")
        for r in rows:
            conn.execute(f"INSERT INTO {table} VALUES ({', '.join(['%s'] * len(columns))}, "
                         "ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                         [r[c] for c in columns] + [float(r[lon]), float(r[lat])])


@pytest.fixture
def pg_env(monkeypatch) -> None:
    """The password from the environment, as libpq reads it; no ~/.pgpass."""
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    monkeypatch.setenv("PGPASSFILE", os.devnull)


def _cli(*args: str):
    return CliRunner().invoke(cli, list(args))


def _ok(*args: str):
    """A command that must succeed, quietly."""
    res = _cli(*args, "-q")
    assert res.exit_code == 0, res.stderr
    return res


def _one_error(res) -> str:
    """The one line of a refused command: exit 2, no traceback, nothing else on stderr."""
    assert res.exit_code == 2, (res.output, res.stderr)
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    return lines[0]


def _file_rows(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _table(srv: Server, name: str, order: str = "id") -> tuple[list[str], list[tuple]]:
    """Columns and rows of a written table, read by plain SQL (geometry as WKB)."""
    with srv.connect() as conn:
        cur = conn.execute(f"SELECT * FROM {name} ORDER BY {order}")
        return [c.name for c in cur.description], cur.fetchall()


def _same_as_csv(srv: Server, table: str, csv_path: str, order: str = "id") -> None:
    """The table holds the CSV's columns and rows: text equal, numbers equal to 1e-9, a
    missing value empty in the CSV (a geometry column, which CSV has not, aside)."""
    columns, rows = _table(srv, table, order)
    if "geometry" in columns:
        at = columns.index("geometry")
        columns, rows = columns[:at] + columns[at + 1:], [r[:at] + r[at + 1:] for r in rows]
    expected = _file_rows(csv_path)
    assert columns == list(expected[0])
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        for col, value in zip(columns, row, strict=True):
            if value is None:
                assert want[col] == "", (col, want)
            elif isinstance(value, bool):
                assert str(value) == want[col], (col, value, want)
            elif isinstance(value, (int, float)):
                assert value == pytest.approx(float(want[col]), abs=1e-9), (col, want)
            else:
                assert value == want[col], (col, value, want)


# --------------------------------------------------------------------------- round trips
def test_coverage_round_trip_equals_the_file_run(server, pg_env, tmp_path):
    out = tmp_path / "coverage.csv"
    _ok("coverage", DISTRICTS, CENTRES, "--radius-km", "60", "-o", str(out))
    res = _cli("coverage", server.url("table=districts"), server.url("table=sites"),
               "--radius-km", "60", "-o", server.url("table=coverage_out"))
    assert res.exit_code == 0, res.stderr
    assert f"reachplan: wrote {server.url('table=coverage_out')}" in res.stderr
    _same_as_csv(server, "coverage_out", str(out))
    # ids kept exactly: '001', not 1; the hand-computed gap
    assert server.rows("SELECT id, covered FROM coverage_out WHERE NOT covered") == [
        ("009", False)]


def test_gaps_with_geometry_round_trip(server, pg_env, tmp_path):
    gpkg = tmp_path / "gaps.gpkg"
    _ok("gaps", DISTRICTS, CENTRES, "--radius-km", "60", "-o", str(gpkg))
    _ok("gaps", server.url("table=districts"), server.url("table=sites"), "--radius-km", "60",
        "-o", server.url("table=gaps_out"))
    want = pyogrio.read_dataframe(gpkg)
    got = server.rows("SELECT rank, id, name, nearest_km, nearest_center, "
                      "ST_AsBinary(geometry), ST_SRID(geometry) FROM gaps_out ORDER BY rank")
    assert len(got) == len(want) == 1
    rank, gid, name, km, centre, wkb, srid = got[0]
    assert (rank, gid, name, centre, srid) == (1, "009", "Cell 9", "Centre of 005", 4326)
    assert km == pytest.approx(78.434, abs=1e-3)  # the README's hand computation
    assert shapely.from_wkb(bytes(wkb)).equals(want.geometry.iloc[0])


def test_query_source_equals_the_file_run_with_where(server, pg_env, tmp_path):
    out = tmp_path / "direct.csv"
    _ok("coverage", DISTRICTS, CENTRES, "--where", "type=direct", "-o", str(out))
    # a % in the query is SQL's, not a placeholder
    query = "query=SELECT * FROM sites WHERE type LIKE 'dir%' ORDER BY id"
    _ok("coverage", server.url("table=districts"), server.url(query),
        "-o", server.url("table=direct_out"))
    _same_as_csv(server, "direct_out", str(out))


def test_another_srid_is_transformed_like_a_file_in_another_crs(server, pg_env, tmp_path):
    _load_grid(server, srid=3857, districts="districts_3857", sites="sites_3857")
    assert server.rows("SELECT DISTINCT ST_SRID(geom) FROM districts_3857") == [(3857,)]
    out = tmp_path / "coverage.csv"
    _ok("coverage", DISTRICTS, CENTRES, "--radius-km", "60", "-o", str(out))
    _ok("coverage", server.url("table=districts_3857"), server.url("table=sites_3857"),
        "--radius-km", "60", "-o", server.url("table=coverage_3857"))
    _same_as_csv(server, "coverage_3857", str(out))


def test_srid_0_is_a_table_without_a_crs(server, pg_env, tmp_path):
    server.run("CREATE TABLE no_srid AS SELECT code, name, ST_SetSRID(geom, 0) AS geom "
               "FROM districts")
    line = _one_error(_cli("coverage", server.url("table=no_srid"), CENTRES))
    assert line.endswith("has no CRS; say which it is with --boundaries-crs (e.g. EPSG:4326 "
                         "for longitude/latitude)"), line
    out = tmp_path / "coverage.csv"
    _ok("coverage", DISTRICTS, CENTRES, "-o", str(out))
    _ok("coverage", server.url("table=no_srid"), CENTRES, "--boundaries-crs", "EPSG:4326",
        "-o", server.url("table=no_srid_out"))
    _same_as_csv(server, "no_srid_out", str(out))


def test_a_local_socket_and_a_spatial_index(server, monkeypatch):
    """libpq parameters pass through (host= a socket folder: trust, no password)."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    url = f"postgresql://reachplan@/{DB}?host={server.socket_dir}&port={server.port}&table="
    _ok("gaps", url + "districts", CENTRES, "-o", url + "socket_gaps")
    assert server.rows("SELECT count(*) FROM socket_gaps") == [(2,)]  # 006 and 009
    assert server.rows("SELECT indexdef LIKE '%USING gist (geometry)' FROM pg_indexes "
                       "WHERE tablename = 'socket_gaps'") == [(True,)]


def test_demand_points_from_a_query(server, pg_env, tmp_path):
    """Demand points from a table without geometry: latitude/longitude columns."""
    server.run("CREATE TABLE demand (pid text, lat float8, lon float8, people integer)")
    server.run("INSERT INTO demand VALUES ('a', 0.5, 0.5, 10), ('b', 2.5, 2.5, 5)")
    demand_csv = tmp_path / "demand.csv"
    demand_csv.write_text("pid,lat,lon,people\na,0.5,0.5,10\nb,2.5,2.5,5\n")
    args = ("--radius-km", "60", "--demand-weight-col", "people", "--format", "json", "-q")
    res = _cli("coverage", server.url("table=districts"), server.url("table=sites"),
               "--demand", server.url("query=SELECT * FROM demand"), *args)
    assert res.exit_code == 0, res.stderr
    demand = json.loads(res.stdout)["demand"]
    # a (0.5, 0.5) is C1's own place; b (2.5, 2.5) is > 150 km from every centre
    assert (demand["points"], demand["covered"], demand["weight_covered"]) == (2, 1, 10)
    files = _cli("coverage", DISTRICTS, CENTRES, "--demand", str(demand_csv), *args)
    assert json.loads(files.stdout)["demand"] == demand


def test_allocations_round_trip(server, pg_env, tmp_path):
    """Capacity: demand points and centres from tables, the districts' figures and the
    centres' loads (the allocation) written to tables, equal to the file run."""
    cap = Path(__file__).parent / "fixtures" / "capacity"
    _load_points(server, "cap_centres", cap / "centres.csv", "latitude", "longitude")
    _load_points(server, "cap_demand", cap / "demand.csv", "latitude", "longitude")
    args = ("--radius-km", "20", "--capacity-col", "cap", "--demand-weight-col", "requests")
    districts, loads = tmp_path / "d.csv", tmp_path / "c.csv"
    _ok("coverage", DISTRICTS, str(cap / "centres.csv"), "--demand", str(cap / "demand.csv"),
        "-o", str(districts), "--capacity-output", str(loads), *args)
    _ok("coverage", server.url("table=districts"), server.url("table=cap_centres"),
        "--demand", server.url("table=cap_demand"), "-o", server.url("table=cap_out"),
        "--capacity-output", server.url("table=cap_loads"), *args)
    _same_as_csv(server, "cap_out", str(districts))
    _same_as_csv(server, "cap_loads", str(loads), order="name")
    # the fixture's README: A serves 30 of its 30, B 5 of its 10
    assert server.rows("SELECT name, load FROM cap_loads ORDER BY name") == [
        ("Centre A", 30.0), ("Centre B", 5.0)]


def test_plan_candidates_from_a_table_sites_to_a_table(server, pg_env, tmp_path):
    planning = Path(__file__).parent / "fixtures" / "planning"
    with server.connect() as conn:
        conn.execute("CREATE TABLE plan_districts (id text, name text, pop integer, "
                     "geom geometry)")
        for row in pyogrio.read_dataframe(planning / "districts.geojson").itertuples():
            conn.execute("INSERT INTO plan_districts VALUES (%s, %s, %s, "
                         "ST_GeomFromText(%s, 4326))",
                         (row.id, row.name, int(row.pop), row.geometry.wkt))
    _load_points(server, "plan_candidates", planning / "candidates.csv", "lat", "lon")
    args = ("--radius-km", "30", "--add", "2")
    sites = tmp_path / "sites.csv"
    _ok("plan", str(planning / "districts.geojson"), str(planning / "centres.csv"),
        "--candidates", str(planning / "candidates.csv"), "-o", str(sites), *args)
    _ok("plan", server.url("table=plan_districts"), str(planning / "centres.csv"),
        "--candidates", server.url("table=plan_candidates"), "-o", server.url("table=plan_sites"),
        *args)
    _same_as_csv(server, "plan_sites", str(sites), order="rank")
    assert server.rows("SELECT name, ST_X(geometry), ST_Y(geometry), ST_SRID(geometry) "
                       "FROM plan_sites ORDER BY rank") == [("A-edge", 3.0, 0.5, 4326),
                                                            ("B-mid", 1.5, 0.5, 4326)]


def test_names_that_need_quoting(server, pg_env, tmp_path):
    server.run('CREATE SCHEMA "My Schema"')
    server.run('CREATE TABLE "My Schema"."Dist-ricts" AS SELECT * FROM districts')
    out = tmp_path / "coverage.csv"
    _ok("coverage", DISTRICTS, CENTRES, "-o", str(out))
    source = server.url('table="My Schema"."Dist-ricts"')
    target = server.url('table="My Schema"."Out ""put"""')
    _ok("coverage", source, server.url("table=sites"), "-o", target)
    _same_as_csv(server, '"My Schema"."Out ""put"""', str(out))
    # unquoted names fold to lower case, as in SQL: "Dist-ricts" is not dist-ricts
    line = _one_error(_cli("coverage", server.url('table="My Schema".dist-ricts'),
                           server.url("table=sites")))
    assert "is not a table name" in line or "no table" in line


def test_two_geometry_columns_need_geom(server, pg_env, tmp_path):
    server.run("CREATE TABLE two_geoms AS SELECT *, ST_Centroid(geom) AS centre FROM districts")
    line = _one_error(_cli("coverage", server.url("table=two_geoms"), CENTRES))
    assert line.endswith("has 2 geometry columns (geom, centre); choose one with geom=NAME")
    out = tmp_path / "coverage.csv"
    _ok("coverage", DISTRICTS, CENTRES, "-o", str(out))
    _ok("coverage", server.url("table=two_geoms&geom=geom"), CENTRES,
        "-o", server.url("table=two_geoms_out"))
    _same_as_csv(server, "two_geoms_out", str(out))


# --------------------------------------------------------------------------- refusals
def test_a_table_that_does_not_exist(server, pg_env):
    line = _one_error(_cli("coverage", server.url("table=nowhere"), server.url("table=sites")))
    assert line == (f"Error: {server.url('table=nowhere')}: no table nowhere in database {DB}; "
                    "check the name (names with capitals, spaces or dots need double quotes, "
                    'as in SQL: table="My Schema"."Districts")')


def test_urls_without_a_table_or_with_an_unknown_driver():
    url = "postgresql+nosuchdriver://someone@127.0.0.1:1/db?table=districts"
    line = _one_error(_cli("coverage", url, CENTRES))
    assert line.startswith(f"Error: {url}: cannot use driver postgresql+nosuchdriver (")
    line = _one_error(_cli("gaps", DISTRICTS, CENTRES, "-o", "postgresql://someone@h/db"))
    assert line == "Error: postgresql://someone@h/db: name the table to write with table=NAME"


def test_a_query_that_fails(server, pg_env):
    for query, reason in (("SELECT * FROM nowhere", 'relation "nowhere" does not exist'),
                          ("SELEKT 1", 'syntax error at or near "SELEKT"')):
        line = _one_error(_cli("coverage", server.url("table=districts"),
                               server.url(f"query={query}")))
        assert line.endswith(f"reading the query failed ({reason})"), line


def test_existing_table_needs_overwrite_and_is_left_as_it_was(server, pg_env):
    server.run("CREATE TABLE kept (id text, note text)")
    server.run("INSERT INTO kept VALUES ('x', 'mine')")
    line = _one_error(_cli("coverage", server.url("table=districts"), server.url("table=sites"),
                           "-o", server.url("table=kept")))
    assert line == (f"Error: {server.url('table=kept')}: table kept already exists; pass "
                    "--overwrite to replace it")
    assert server.rows("SELECT * FROM kept") == [("x", "mine")]
    _ok("coverage", server.url("table=districts"), server.url("table=sites"),
               "-o", server.url("table=kept"), "--overwrite")
    assert server.rows("SELECT count(*) FROM kept") == [(9,)]


def test_a_write_failing_midway_leaves_the_old_table(server, pg_env):
    """The replacement is dropped, created and filled in one transaction: an event trigger
    makes every row fail after the old table was dropped and the new one created."""
    server.run("CREATE TABLE victim (id text, note text)")
    server.run("INSERT INTO victim VALUES ('x', 'old')")
    server.run("""
        CREATE FUNCTION refuse_rows() RETURNS event_trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands()
                     WHERE object_identity = 'public.victim' AND command_tag = 'CREATE TABLE')
          THEN EXECUTE 'ALTER TABLE public.victim ADD CONSTRAINT no_rows CHECK (false)';
          END IF;
          IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands()
                     WHERE object_identity = 'public.fresh' AND command_tag = 'CREATE TABLE')
          THEN EXECUTE 'ALTER TABLE public.fresh ADD CONSTRAINT no_rows CHECK (false)';
          END IF;
        END $$""")
    server.run("CREATE EVENT TRIGGER refuse_rows ON ddl_command_end WHEN TAG IN "
               "('CREATE TABLE') EXECUTE FUNCTION refuse_rows()")
    try:
        line = _one_error(_cli("coverage", server.url("table=districts"),
                               server.url("table=sites"), "-o", server.url("table=victim"),
                               "--overwrite", "-q"))
        # a new table failing the same way is not left behind, empty or half-filled
        _one_error(_cli("coverage", server.url("table=districts"), server.url("table=sites"),
                        "-o", server.url("table=fresh"), "-q"))
        assert server.rows("SELECT to_regclass('public.fresh')") == [(None,)]
    finally:
        server.run("DROP EVENT TRIGGER refuse_rows")
        server.run("DROP FUNCTION refuse_rows()")
    assert line.startswith(f"Error: {server.url('table=victim')}: writing table victim failed")
    assert 'violates check constraint "no_rows"' in line
    assert line.endswith("the database is as it was")
    assert server.rows("SELECT * FROM victim") == [("x", "old")]
    assert server.rows("SELECT column_name FROM information_schema.columns WHERE "
                       "table_name = 'victim' ORDER BY ordinal_position") == [("id",), ("note",)]


def test_no_file_lands_when_the_table_write_fails(server, pg_env, tmp_path):
    """Outputs are all or none: a refused table moves no file either."""
    server.run("CREATE TABLE taken (id text)")
    demand_out = tmp_path / "points.csv"
    server.run("CREATE TABLE few (lat float8, lon float8)")
    server.run("INSERT INTO few VALUES (0.5, 0.5)")
    _one_error(_cli("coverage", server.url("table=districts"), server.url("table=sites"),
                    "--demand", server.url("table=few"), "--demand-output", str(demand_out),
                    "-o", server.url("table=taken"), "-q"))
    assert not demand_out.exists()
    assert server.rows("SELECT count(*) FROM taken") == [(0,)]


# --------------------------------------------------------------------------- the password
def test_an_inline_password_is_never_shown(server, monkeypatch, tmp_path):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", os.devnull)
    districts = server.url("table=districts", password=PASSWORD)
    sites = server.url("table=sites", password=PASSWORD)
    out = tmp_path / "report.json"
    res = _cli("coverage", districts, sites, "-o", str(out),
               "-v")  # works: libpq takes the password from the URL
    assert res.exit_code == 0, res.stderr
    res2 = _cli("gaps", districts, sites, "-o",
                server.url("table=pw_gaps", password=PASSWORD))
    assert res2.exit_code == 0, res2.stderr
    assert "reachplan:***@127.0.0.1" in res2.stderr
    failures = [
        _cli("coverage", server.url("table=nowhere", password=PASSWORD), sites),
        _cli("coverage", districts, server.url("query=SELEKT", password=PASSWORD)),
        _cli("coverage", server.url("table=districts", password="wrong-" + PASSWORD), sites),
        _cli("gaps", districts, sites, "-o", server.url("table=pw_gaps", password=PASSWORD)),
        _cli("coverage", districts, sites, "--format", "json",
             "-o", server.url("table=pw_json", password=PASSWORD)),
    ]
    for res_n in failures:
        line = _one_error(res_n)
        assert "***" in line, line
    texts = [res.stdout, res.stderr, res2.stdout, res2.stderr, out.read_text()]
    texts += [r.stdout + r.stderr for r in failures]
    assert not any(PASSWORD in t for t in texts)
    assert json.loads(out.read_text())["inputs"]["boundaries"] == (
        f"postgresql://reachplan:***@127.0.0.1:{server.port}/{DB}?table=districts")


def test_without_a_password_libpq_says_so_in_one_line(server, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", os.devnull)
    line = _one_error(_cli("coverage", server.url("table=districts"), server.url("table=sites")))
    assert "password" in line


# --------------------------------------------------------------------------- the extra
HIDE = ("import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('sqlalchemy', 'psycopg', 'geoalchemy2'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from reachplan.cli.main import cli\n"
        "cli()\n")


def test_without_the_extra_one_line_says_what_to_install():
    url = "postgresql://someone@127.0.0.1:1/db?table=districts"
    res = subprocess.run([sys.executable, "-c", HIDE, "coverage", url, CENTRES],
                         capture_output=True, text=True)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [
        "Error: a postgresql:// URL needs the postgis extra: pip install 'reachplan[postgis]'"]
