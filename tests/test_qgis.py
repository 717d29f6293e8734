"""The QGIS Processing provider (qgis/reachplan_qgis) run headless in Debian's QGIS, each
algorithm compared with the command line on the same fixtures.

QGIS's Python bindings are built for the system Python, so a venv of /usr/bin/python3 (with
its site packages, for ``qgis``) gets reachplan's wheel of this tree, offline, from the
wheelhouse `make test` prepares. Two ways in: ``processing.run`` in a standalone script
(tests/_qgis_driver.py, every algorithm) and ``qgis_process`` with the plugin installed from
its zip (coverage). `make test` installs QGIS (.ci/ensure-qgis); without it these tests fail,
saying so.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from reachplan.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
GRID, CAP = FIXTURES / "grid", FIXTURES / "capacity"
TINY = FIXTURES / "roads" / "tiny.osm"
HELSINKI = FIXTURES / "roads" / "helsinki.osm.pbf"
SYSTEM_PYTHON = "/usr/bin/python3"
QGIS_PROCESS = "/usr/bin/qgis_process.bin"  # not the wrapper: it adds --noversioncheck,
# which Debian's qgis_process 3.22.16 rejects ("Command --noversioncheck not known!")
PROCESSING = "/usr/share/qgis/python/plugins"

pytestmark = pytest.mark.qgis

CENTRES = {"path": str(GRID / "centres.csv"), "xy": ["longitude", "latitude"]}
DISTRICTS = {"path": str(GRID / "districts.geojson")}
GRID_ARGS = ["--group-col", "zone", "--weight-col", "pop", "--radius-km", "60"]
GRID_PARAMS = {"DISTRICTS": DISTRICTS, "CENTRES": CENTRES, "GROUP_FIELD": "zone",
               "WEIGHT_FIELD": "pop", "RADIUS_KM": 60}


def _qgis_missing() -> str | None:
    if not Path(QGIS_PROCESS).exists():
        return f"{QGIS_PROCESS} is missing"
    found = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True)
    return None if found.returncode == 0 else f"{SYSTEM_PYTHON} cannot import qgis.core"


def _env(home: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), QT_QPA_PLATFORM="offscreen",
               REACHPLAN_CACHE_DIR=str(home / "cache"), PIP_CONFIG_FILE=os.devnull,
               PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **more)
    return env


@pytest.fixture(scope="session")
def qgis_venv(tmp_path_factory) -> Path:
    """A venv of the system Python (QGIS's) holding reachplan's wheel of this tree."""
    missing = _qgis_missing()
    if missing:
        pytest.fail(f"QGIS is not installed ({missing}): run `sudo sh .ci/ensure-qgis` (or "
                    "apt-get install --no-install-recommends qgis python3-qgis python3-venv)")
    from test_install import WHEELHOUSE, build_wheel

    tmp = tmp_path_factory.mktemp("qgis")
    wheel = build_wheel(tmp)
    venv = tmp / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    # --ignore-installed: every dependency from the wheelhouse, none from Debian's packages
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--ignore-installed",
         "--no-index", "--find-links", str(WHEELHOUSE), str(wheel)],
        env=_env(tmp), capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    return venv


def _site_packages(venv: Path) -> str:
    return subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()


def _cli(*args: str) -> str:
    from click.testing import CliRunner

    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


def _helsinki(folder: Path) -> None:
    """Two districts (west and east halves of central Helsinki) and two centres."""
    halves = [shapely.box(24.92, 60.16, 24.94, 60.18), shapely.box(24.94, 60.16, 24.96, 60.18)]
    gpd.GeoDataFrame({"code": ["W", "E"], "name": ["West", "East"]}, geometry=halves,
                     crs="EPSG:4326").to_file(folder / "helsinki.gpkg")
    (folder / "helsinki_centres.csv").write_text(
        "name,lat,lon\nstation,60.170,24.941\nharbour,60.1675,24.9525\n")


@pytest.fixture(scope="session")
def qgis_runs(qgis_venv, tmp_path_factory) -> tuple[dict, Path]:
    """Every algorithm run once through processing.run (one QGIS start for all)."""
    out = tmp_path_factory.mktemp("qgis-out")
    runs = {
        "coverage": {"alg": "reachplan:coverage", "params": {
            **GRID_PARAMS, "OUTPUT": str(out / "coverage.gpkg"),
            "REPORT": str(out / "coverage.json")}},
        "presence": {"alg": "reachplan:coverage", "params": {
            "DISTRICTS": DISTRICTS, "CENTRES": CENTRES, "WEIGHT_FIELD": "pop",
            "TYPE_FIELD": "type", "OUTPUT": "memory:", "REPORT": str(out / "presence.json")}},
        "gaps": {"alg": "reachplan:gaps", "params": {
            "DISTRICTS": DISTRICTS, "CENTRES": CENTRES, "WEIGHT_FIELD": "pop",
            "OUTPUT": str(out / "gaps.geojson")}},
        "by_road": {"alg": "reachplan:coverage", "params": {
            "DISTRICTS": {"path": str(out / "helsinki.gpkg")},
            "CENTRES": {"path": str(out / "helsinki_centres.csv"), "xy": ["lon", "lat"]},
            "ROADS": str(HELSINKI), "TRAVEL_MINUTES": 3, "OUTPUT": "memory:",
            "REPORT": str(out / "by_road.json")}},
        "projected": {"alg": "reachplan:coverage", "params": {
            **GRID_PARAMS, "DISTRICTS": {"path": str(out / "districts_3857.gpkg")},
            "GROUP_FIELD": "zone", "OUTPUT": "memory:", "REPORT": str(out / "projected.json")}},
        "no_gaps": {"alg": "reachplan:gaps", "params": {
            **GRID_PARAMS, "RADIUS_KM": 80, "OUTPUT": str(out / "no_gaps.gpkg")}},
        "plan": {"alg": "reachplan:plan", "params": {
            **GRID_PARAMS, "ADD": 1, "OUTPUT": str(out / "plan.geojson")}},
        "plan_candidates": {"alg": "reachplan:plan", "params": {
            **GRID_PARAMS, "ADD": 2, "METHOD": 1,
            "CANDIDATES": {"path": str(CAP / "candidates.csv"), "xy": ["longitude", "latitude"]},
            "OUTPUT": str(out / "plan_candidates.geojson")}},
        "isochrones": {"alg": "reachplan:isochrones", "params": {
            "ROADS": str(TINY), "CENTRES": {"path": str(out / "tiny_centres.csv"),
                                            "xy": ["lon", "lat"]},
            "MINUTES": "3,1", "OUTPUT": str(out / "isochrones.geojson")}},
        "access": {"alg": "reachplan:access", "params": {
            "CENTRES": {"path": str(CAP / "centres.csv"), "xy": ["longitude", "latitude"]},
            "CAPACITY_FIELD": "cap",
            "DEMAND": {"path": str(CAP / "demand.csv"), "xy": ["longitude", "latitude"]},
            "DEMAND_WEIGHT_FIELD": "requests", "DEMAND_ID_FIELD": "pid", "RADIUS_KM": 20,
            "OUTPUT": str(out / "access.geojson")}},
        "map": {"alg": "reachplan:map", "params": {
            **GRID_PARAMS, "CENTRES": {"path": str(out / "centres.geojson")}, "TITLE": "Grid",
            "OUTPUT": str(out / "map.html")}},
        "cancelled": {"alg": "reachplan:coverage", "cancel": True, "params": {
            **GRID_PARAMS, "OUTPUT": "memory:"}},
        "cancelled_midway": {"alg": "reachplan:coverage", "cancel_at": 40, "params": {
            **GRID_PARAMS, "OUTPUT": str(out / "cancelled.gpkg")}},
        "no_such_type_field": {"alg": "reachplan:coverage", "params": {
            **GRID_PARAMS, "TYPE_FIELD": "kind", "OUTPUT": "memory:"}},
        "roads_without_minutes": {"alg": "reachplan:coverage", "params": {
            "DISTRICTS": DISTRICTS, "CENTRES": CENTRES, "ROADS": str(TINY),
            "OUTPUT": "memory:"}},
    }
    # the map's popups show the centres' attributes as read: from a point layer both read
    # numbers and count features (a CSV gives the command line text and line numbers)
    gpd.read_file(GRID / "centres.csv").pipe(
        lambda t: gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(t["longitude"].astype(float),
                                                                  t["latitude"].astype(float)),
                                   crs="EPSG:4326")).to_file(out / "centres.geojson")
    _helsinki(out)
    gpd.read_file(GRID / "districts.geojson").to_crs(3857).to_file(out / "districts_3857.gpkg")
    (out / "tiny_centres.csv").write_text("name,lat,lon\nclinic,0,0\nfar away,0.3,0.3\n")
    jobs = out / "jobs.json"
    jobs.write_text(json.dumps({"processing": PROCESSING, "plugins": str(ROOT / "qgis"),
                                "runs": runs}))
    res = subprocess.run([str(qgis_venv / "bin" / "python"), str(ROOT / "tests" /
                                                                 "_qgis_driver.py"),
                          str(jobs), str(out / "results.json")],
                         env=_env(out), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads((out / "results.json").read_text()), out


def test_the_provider_lists_every_algorithm(qgis_runs):
    results, _ = qgis_runs
    assert results["active"] is True
    assert results["algorithms"] == [f"reachplan:{n}" for n in
                                     ("access", "coverage", "gaps", "isochrones", "map", "plan")]


def _cli_json(*args: str) -> dict:
    return json.loads(_cli("coverage", str(GRID / "districts.geojson"), str(GRID / "centres.csv"),
                           *args, "--format", "json"))


def test_coverage_gives_the_numbers_of_the_command_line(qgis_runs):
    results, out = qgis_runs
    run = results["runs"]["coverage"]
    cli_data = _cli_json(*GRID_ARGS)
    # the grid's hand computation (tests/fixtures/grid/README.md): 60 km covers 8 of 9
    assert cli_data["summary"]["covered"] == 8
    summary = {k.lower(): v for k, v in run["results"].items() if k not in ("OUTPUT", "REPORT")}
    assert summary == cli_data["summary"]
    qgis_data = json.loads((out / "coverage.json").read_text())
    # a CSV's line 6 (its header is line 1) is QGIS's 5th feature
    cli_data["warnings"] = [w.replace("(line 6)", "(line 5)") for w in cli_data["warnings"]]
    assert qgis_data == cli_data
    assert run["warnings"] == cli_data["warnings"]
    # the layer: one feature per district, the CLI's per-district figures
    layer = gpd.read_file(out / "coverage.gpkg")
    table = pd.read_csv(io.StringIO(_cli(
        "coverage", str(GRID / "districts.geojson"), str(GRID / "centres.csv"), *GRID_ARGS,
        "--format", "csv")), dtype={"id": str})
    pd.testing.assert_frame_equal(pd.DataFrame(layer.drop(columns="geometry")), table,
                                  check_dtype=False)
    assert dict(zip(layer["id"], layer["nearest_km"], strict=True))["006"] == 55.287
    grid = gpd.read_file(GRID / "districts.geojson")
    assert all(a.equals(b) for a, b in zip(layer.geometry, grid.geometry, strict=True))


def test_coverage_by_road_matches(qgis_runs):
    results, out = qgis_runs
    cli_data = json.loads(_cli("coverage", str(out / "helsinki.gpkg"),
                               str(out / "helsinki_centres.csv"), "--roads", str(HELSINKI),
                               "--travel-minutes", "3", "--format", "json"))
    assert json.loads((out / "by_road.json").read_text()) == cli_data
    assert "nearest_min" in cli_data["districts"][0]


def test_a_projected_layer_is_reprojected_by_qgis_as_by_the_command_line(qgis_runs):
    """Districts in Web Mercator: QGIS (its PROJ) brings them to EPSG:4326 for reachplan; the
    command line reprojects the same file with pyproj (the wheel's PROJ)."""
    results, out = qgis_runs
    cli_data = json.loads(_cli("coverage", str(out / "districts_3857.gpkg"),
                               str(GRID / "centres.csv"), *GRID_ARGS, "--format", "json"))
    qgis_data = json.loads((out / "projected.json").read_text())
    assert qgis_data["summary"] == cli_data["summary"]
    assert qgis_data["districts"] == cli_data["districts"]


def test_presence_rule_and_types_match(qgis_runs):
    results, out = qgis_runs
    cli_data = _cli_json("--weight-col", "pop", "--type-col", "type")
    assert cli_data["summary"]["covered"] == 7  # the README: presence covers 7 of 9
    qgis_data = json.loads((out / "presence.json").read_text())
    assert qgis_data["summary"] == cli_data["summary"]
    assert qgis_data["types"] == cli_data["types"] and len(qgis_data["types"]) == 2
    assert qgis_data["districts"] == cli_data["districts"]


def _frames_equal(qgis_file: Path, cli_file: Path, **kwargs) -> None:
    a, b = gpd.read_file(qgis_file), gpd.read_file(cli_file)
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")), **kwargs)
    for x, y in zip(a.geometry, b.geometry, strict=True):
        assert x.equals(y)  # a sink holds polygons as multipolygons


def test_gaps_match(qgis_runs, tmp_path):
    results, out = qgis_runs
    _cli("gaps", str(GRID / "districts.geojson"), str(GRID / "centres.csv"), "--weight-col",
         "pop", "-o", str(tmp_path / "gaps.geojson"))
    _frames_equal(out / "gaps.geojson", tmp_path / "gaps.geojson")
    assert results["runs"]["gaps"]["results"]["GAPS"] == 2  # 006 and 009 (README)
    assert list(gpd.read_file(out / "gaps.geojson")["id"]) == ["009", "006"]  # by weight
    # 80 km covers all 9 (README): an empty layer, still of polygons
    assert results["runs"]["no_gaps"]["results"]["GAPS"] == 0
    info = pyogrio.read_info(out / "no_gaps.gpkg")
    assert (info["features"], info["geometry_type"]) == (0, "MultiPolygon")


@pytest.mark.parametrize(("key", "args"), [
    ("plan", ["--add", "1"]),
    ("plan_candidates", ["--add", "2", "--method", "greedy", "--candidates",
                         str(CAP / "candidates.csv")]),
])
def test_plan_matches(qgis_runs, tmp_path, key, args):
    results, out = qgis_runs
    _cli("plan", str(GRID / "districts.geojson"), str(GRID / "centres.csv"), *GRID_ARGS,
         *args, "-o", str(tmp_path / "plan.geojson"))
    _frames_equal(out / f"{key}.geojson", tmp_path / "plan.geojson")
    if key == "plan":  # one site inside 009 covers it: all 9
        run = results["runs"]["plan"]["results"]
        assert (run["BEFORE_PERCENT"], run["AFTER_PERCENT"]) == (88.89, 100.0)
        assert gpd.read_file(out / "plan.geojson")["covers"].tolist() == ["009"]


def test_isochrones_match(qgis_runs, tmp_path):
    results, out = qgis_runs
    _cli("isochrones", str(TINY), str(out / "tiny_centres.csv"), "--minutes", "3,1", "-o",
         str(tmp_path / "iso.geojson"))
    _frames_equal(out / "isochrones.geojson", tmp_path / "iso.geojson")
    assert results["runs"]["isochrones"]["warnings"] == [
        "1 of 2 centres are off the road network: their areas are empty"]


def test_access_matches(qgis_runs, tmp_path):
    _, out = qgis_runs
    _cli("access", str(CAP / "centres.csv"), "--capacity-col", "cap", "--demand",
         str(CAP / "demand.csv"), "--demand-weight-col", "requests", "--demand-id-col", "pid",
         "--radius-km", "20", "-o", str(tmp_path / "access.geojson"))
    _frames_equal(out / "access.geojson", tmp_path / "access.geojson")
    # by hand (tests/fixtures/capacity/README.md): A's 30 shared by p1 and p2's 40 requests
    values = gpd.read_file(out / "access.geojson").set_index("id")["accessibility"]
    assert values["p1"] == pytest.approx(30 / 40) and values["p4"] == 0


def test_the_map_is_the_command_lines_page(qgis_runs, tmp_path):
    _, out = qgis_runs
    _cli("map", str(GRID / "districts.geojson"), str(out / "centres.geojson"), *GRID_ARGS,
         "--title", "Grid", "-o", str(tmp_path / "map.html"))
    assert (out / "map.html").read_bytes() == (tmp_path / "map.html").read_bytes()


def test_cancel_and_bad_input_stop_with_one_line(qgis_runs):
    results, out = qgis_runs
    assert results["runs"]["cancelled"]["error"].endswith("cancelled")
    assert "results" not in results["runs"]["cancelled"]
    midway = results["runs"]["cancelled_midway"]  # Cancel at 40 %: stops at the next step
    assert midway["error"].endswith("cancelled") and midway["progress"] == [20, 40]
    assert not (out / "cancelled.gpkg").exists()
    error = results["runs"]["roads_without_minutes"]["error"]
    assert error.endswith("a roads file and travel minutes go together: a centre within "
                          "that many minutes by road")
    error = results["runs"]["no_such_type_field"]["error"]
    assert error.startswith("centres.csv: no column 'kind' (given by TYPE_FIELD)"), error
    steps = results["runs"]["coverage"]["progress"]
    assert steps == sorted(steps) and steps[-1] == 100 and len(steps) >= 4


def test_the_wheels_keep_their_own_libraries_inside_qgis(qgis_runs, qgis_venv):
    """Two copies of GEOS, PROJ and GDAL in one process: QGIS's (Debian's) and the wheels'.
    Both are loaded; each wheel must call its own."""
    results, _ = qgis_runs
    libraries = [Path(p).name for p in results["libraries"]]
    assert any(n.startswith("libgdal.so") for n in libraries)  # QGIS's
    assert any(re.match(r"libgdal-[0-9a-f]+\.so", n) for n in libraries)  # pyogrio's
    alone = subprocess.run([str(qgis_venv / "bin" / "python"), "-c",
                            "import sys; sys.path.insert(0, 'qgis'); "
                            "from reachplan_qgis.requirements import load; print(load())"],
                           cwd=ROOT, env=_env(qgis_venv.parent), capture_output=True,
                           text=True, check=True).stdout.strip()
    assert results["wheels"] == alone


def _install_plugin(home: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    from qgis_plugin_zip import build

    plugins = home / ".local/share/QGIS/QGIS3/profiles/default/python/plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(build(home / "reachplan_qgis.zip")) as archive:
        archive.extractall(plugins)


DOC_MARK = "<!-- tests/test_qgis.py runs the next block -->"


def _doc_command() -> list[str]:
    """The qgis_process command docs/qgis.md shows (the block after DOC_MARK)."""
    text = (ROOT / "docs" / "qgis.md").read_text(encoding="utf-8")
    block = text.split(DOC_MARK, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return shlex.split(block.replace("\\\n", " "))


def test_qgis_process_runs_the_documented_command_from_the_plugin_zip(qgis_venv, tmp_path):
    """docs/qgis.md's command as written, with the plugin as users install it (the zip),
    reachplan on QGIS's Python path, and qgis_process, whose executable links QGIS's
    GEOS/PROJ/GDAL (the wheels' extension modules would bind to those without the plugin's
    RTLD_DEEPBIND import)."""
    home = tmp_path / "home"
    home.mkdir()
    _install_plugin(home)
    env = _env(home, PYTHONPATH=_site_packages(qgis_venv))
    enabled = subprocess.run([QGIS_PROCESS, "plugins", "enable", "reachplan_qgis"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert enabled.returncode == 0, enabled.stderr
    work = tmp_path / "work"  # the files the command names: the grid, as the docs name them
    work.mkdir()
    grid = gpd.read_file(GRID / "districts.geojson")
    grid.rename(columns={"zone": "state", "pop": "population"}).to_file(work / "districts.gpkg")
    table = pd.read_csv(GRID / "centres.csv")
    gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["longitude"], table["latitude"]),
                     crs="EPSG:4326").to_file(work / "centres.gpkg")
    command = _doc_command()
    assert command[0] == Path(QGIS_PROCESS).name
    res = subprocess.run([QGIS_PROCESS, *command[1:]], cwd=work, env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads(res.stdout)
    expected = _cli_json(*GRID_ARGS)["summary"]
    assert {k.lower(): v for k, v in data["results"].items() if k != "OUTPUT"} == expected
    # the log names the wheels' libraries, not QGIS's (e.g. GEOS 3.14.1 vs QGIS's 3.11.1)
    line = data["log"]["info"][0]
    geos = re.search(r"GEOS (\S+) \(shapely\)", line)
    assert geos and geos.group(1) == shapely.geos_version_string, line
    assert not data["geos_version"].startswith(shapely.geos_version_string)  # two copies
    layer = gpd.read_file(work / "coverage.gpkg")  # ids from the file's code, not its fid
    assert layer["covered"].sum() == 8 and len(layer) == 9 and layer["id"].iloc[0] == "001"
    assert list(layer.loc[~layer["covered"], "id"]) == ["009"]


def test_without_reachplan_the_provider_says_what_to_install(tmp_path):
    """QGIS's Python without reachplan: the provider cannot be activated, and says why."""
    if _qgis_missing():
        pytest.fail("QGIS is not installed: run `sudo sh .ci/ensure-qgis`")
    script = (f"import sys; sys.path.insert(0, {str(ROOT / 'qgis')!r}); "
              "from reachplan_qgis.provider import ReachplanProvider as P; p = P(); "
              "from reachplan_qgis.algorithms import Coverage; "
              "print(p.canBeActivated()); print(p.warningMessage()); "
              "print(Coverage().canExecute())")
    res = subprocess.run([SYSTEM_PYTHON, "-I", "-c", script], env=_env(tmp_path),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    active, message, executable = res.stdout.strip().splitlines()
    assert active == "False"
    assert message.startswith("reachplan's QGIS algorithms need reachplan, ")
    assert f"'{SYSTEM_PYTHON} -m pip install reachplan'" in message
    assert executable.startswith("(False, \"reachplan's QGIS algorithms need reachplan")


def test_the_plugin_zip_is_deterministic(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    from qgis_plugin_zip import build

    first = build(tmp_path / "a.zip").read_bytes()
    assert build(tmp_path / "b.zip").read_bytes() == first
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        names = archive.namelist()
    assert "reachplan_qgis/metadata.txt" in names and "reachplan_qgis/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n]
    metadata = (ROOT / "qgis" / "reachplan_qgis" / "metadata.txt").read_text()
    assert "hasProcessingProvider=yes" in metadata
    from reachplan import __version__

    assert f"version={__version__}" in metadata
