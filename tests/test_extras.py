"""Without the optional extras (pyarrow, dask) the default paths work, and asking for an
extra's feature is one line naming what to pip install. The extras are hidden from a child
interpreter by an import hook; tests/test_install.py proves the same on a real install."""

from __future__ import annotations

import subprocess
import sys

HIDE = ("import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pyarrow', 'dask', 'distributed', 'dask_geopandas',\n"
        "                                    'rasterio', 'exactextract'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from reachplan.cli.main import cli\n"
        "cli()\n")


def _reachplan(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HIDE, *args], capture_output=True, text=True,
                          cwd=cwd)


def test_csv_demand_needs_no_pyarrow(grid, tmp_path):
    demand = tmp_path / "d.csv"
    # four points: two inside covered cells (0 km), one 2 km north of the grid, one bad row
    demand.write_text("id,lat,lon\na,0.5,0.5\nb,1.5,1.5\nc,3.018,0.5\nd,x,1\n")
    res = _reachplan("coverage", *grid, "--radius-km", "1", "--demand", str(demand),
                   "--format", "json")
    assert res.returncode == 0, res.stderr
    assert '"covered": 2,' in res.stdout and '"points": 3,' in res.stdout


def test_missing_extras_are_one_line_naming_what_to_install(grid, tmp_path):
    demand = tmp_path / "d.csv"
    demand.write_text("lat,lon\n0.5,0.5\n")
    res = _reachplan("coverage", *grid, "--radius-km", "1", "--demand", str(demand),
                   "--engine", "dask")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1] == (
        "Error: --engine dask needs dask: pip install 'reachplan[dask]'")
    parquet = tmp_path / "d.parquet"
    parquet.write_bytes(b"PAR1")
    for args in (["--demand", str(parquet)], []):
        boundaries = str(parquet) if not args else grid[0]
        res = _reachplan("coverage", boundaries, grid[1], "--radius-km", "1", *args)
        assert res.returncode == 2, res.stderr
        assert res.stderr.strip().splitlines()[-1] == (
            f"Error: {parquet}: reading GeoParquet needs pyarrow; pip install "
            "'reachplan[parquet]'")
        assert "Traceback" not in res.stderr


def test_population_needs_the_raster_extra(grid, tmp_path):
    raster = tmp_path / "pop.tif"
    raster.write_bytes(b"II*\0")
    res = _reachplan("coverage", *grid, "--radius-km", "1", "--population", str(raster))
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines()[-1] == (
        "Error: --population needs rasterio: pip install 'reachplan[raster]'")
    assert "Traceback" not in res.stderr
