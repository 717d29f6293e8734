"""Benchmark: demand points within 25 km of 2,000 centres (issue 5), reachplan beside geopandas.

Instance: 1M and 10M synthetic demand points (uniform over India's bounding box, fixed seed)
and the 2,000 embedded sample centres (data/india_sample_centres.csv; synthetic if absent),
radius 25 km. Every measurement runs in its own subprocess, so the peak memory (ru_maxrss)
is that of one method; times are medians of --repeat runs and exclude making the points.

Methods
- reachplan memory: ``demand_coverage(..., keep_points=False)`` on an in-memory frame (exact).
- reachplan memory + per point: the same, also measuring each point's nearest centre and km.
- reachplan memory + district roll-up: coverage plus counts per India district and state;
  points are located by the grid index (``reachplan.geodesy.locate.PolygonIndex``).
- reachplan + roll-up, plain locate: the same with the previous locate, every point tested by
  GEOS (an STRtree of the points queried by each prepared district, "intersects").
- reachplan memory, Parquet folder: streamed in 1M-point parts from disk (bounded memory).
- reachplan dask: ``engine="dask"`` on a LocalCluster over the Parquet folder (includes starting
  and closing the cluster).
- reachplan memory, CSV file: the same points read from a CSV (``id,lat,lon``: text ids
  ``P0000001``..., 6 decimals) by ``demand_coverage(..., id_col="id")`` itself (line-numbered,
  checked), as ``reachplan coverage --demand FILE --demand-id-col id`` does, beside
- plain KD-tree script, CSV: ``pandas.read_csv`` of the file's lat/lon, unit vectors, a
  ``scipy.spatial.cKDTree`` of the centres and ``query(distance_upper_bound=chord)`` on a
  sphere: what a user would write by hand (no checks, spherical); "vs plain" is the ratio of
  the two (issue 18: <= 1.5x without pyarrow).
- geopandas LCC: reproject to EPSG:7755 (India LCC) and ``sjoin(predicate="dwithin")``: the
  plain script; its disagreements with the exact geodesic answer are counted on 1M points.

Targets (2-core machine): 1M x 2,000 <= 1.5 s; 10M <= 15 s and <= 4 GB peak; 10M with the
district roll-up <= 2x the bare count (issue 13).

Run: .venv/bin/python benchmarks/bench_demand.py [--repeat 3] [--large-repeat 1]
     [--sizes 1000000,10000000] [--methods memory,districts,districts_plain]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261121
RADIUS_KM = 25.0
BBOX = (6.5, 35.7, 68.1, 97.4)  # India: lat min/max, lon min/max
METHODS = ("memory", "points", "districts", "districts_plain", "parquet", "dask", "csv",
           "kdtree_csv", "geopandas")
LABELS = {
    "memory": "reachplan memory",
    "points": "reachplan memory + per point",
    "districts": "reachplan memory + district roll-up",
    "districts_plain": "+ roll-up, plain locate",
    "parquet": "reachplan memory, Parquet folder",
    "dask": "reachplan dask LocalCluster",
    "csv": "reachplan memory, CSV file",
    "kdtree_csv": "plain KD-tree script, CSV file",
    "geopandas": "geopandas LCC sjoin dwithin",
}


def _points(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    return pd.DataFrame({"lat": rng.uniform(BBOX[0], BBOX[1], n),
                         "lon": rng.uniform(BBOX[2], BBOX[3], n)})


def _centres() -> pd.DataFrame:
    path = ROOT / "data" / "india_sample_centres.csv"
    if path.exists():
        return pd.read_csv(path, dtype=str).astype({"lat": float, "lon": float})
    rng = np.random.default_rng(SEED + 1)
    return pd.DataFrame({"lat": rng.uniform(8, 34, 2000), "lon": rng.uniform(70, 95, 2000),
                         "name": [f"synthetic {i}" for i in range(2000)]})


def _write_parquet(n: int, folder: Path, part: int = 1_000_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = _points(n)
    for i, start in enumerate(range(0, n, part)):
        chunk = pa.Table.from_pandas(frame.iloc[start:start + part], preserve_index=False)
        pq.write_table(chunk, folder / f"part-{i:04d}.parquet", row_group_size=part)


def _write_csv(n: int, path: Path) -> None:
    frame = _points(n).round(6)
    frame.insert(0, "id", [f"P{i:07d}" for i in range(1, n + 1)])
    frame.to_csv(path, index=False, float_format="%.6f")


def _kdtree_covered(path: Path, centres: pd.DataFrame) -> int:
    """The plain script: read the CSV, unit vectors, a KD-tree of the centres, one query."""
    from scipy.spatial import cKDTree

    def unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        la, lo = np.radians(lat), np.radians(lon)
        return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])

    table = pd.read_csv(path, usecols=["lat", "lon"])
    tree = cKDTree(unit(centres["lat"].to_numpy(), centres["lon"].to_numpy()))
    chord = 2 * np.sin(RADIUS_KM / 6371.0088 / 2)
    dist, _ = tree.query(unit(table["lat"].to_numpy(), table["lon"].to_numpy()),
                         distance_upper_bound=chord)
    return int(np.isfinite(dist).sum())


def _geopandas_covered(points: pd.DataFrame, centres: pd.DataFrame) -> np.ndarray:
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(points["lon"], points["lat"]),
                           crs="EPSG:4326").to_crs("EPSG:7755")
    ctr = gpd.GeoDataFrame(geometry=gpd.points_from_xy(centres["lon"], centres["lat"]),
                           crs="EPSG:4326").to_crs("EPSG:7755")
    joined = gpd.sjoin(pts, ctr, predicate="dwithin", distance=RADIUS_KM * 1000)
    covered = np.zeros(len(pts), dtype=bool)
    covered[np.unique(joined.index.to_numpy())] = True
    return covered


def _child(method: str, n: int, repeat: int, folder: str) -> dict:
    from reachplan.demand import demand_coverage

    centres = _centres()
    on_disk = ("parquet", "dask", "csv", "kdtree_csv")
    points = None if method in on_disk else _points(n)
    districts = None
    if method.startswith("districts"):
        from reachplan.io import read_boundaries

        if method == "districts_plain":  # the locate before the grid index: GEOS on each point
            import reachplan.demand.assess
            from reachplan.geodesy.locate import locate_exact

            reachplan.demand.assess._Districts.locate = (  # type: ignore[method-assign]
                lambda self, lat, lon: locate_exact(self.geoms, lon, lat))
        districts = read_boundaries(ROOT / "data" / "india_districts.fgb", id_col="lgd_code",
                                    name_col="district", group_col="state")
    times, covered = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        if method == "geopandas":
            covered = int(_geopandas_covered(points, centres).sum())
        elif method == "kdtree_csv":
            covered = _kdtree_covered(Path(folder) / "points.csv", centres)
        else:
            source = (folder if method in ("parquet", "dask") else
                      str(Path(folder) / "points.csv") if method == "csv" else points)
            res = demand_coverage(centres, source, radius_km=RADIUS_KM,
                                  id_col="id" if method == "csv" else None,
                                  keep_points=method == "points", districts=districts,
                                  engine="dask" if method == "dask" else "memory")
            covered = res.summary["covered"]
        times.append(time.perf_counter() - t0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": statistics.median(times), "peak_mb": peak_mb, "covered": covered}


def _disagreements(n: int) -> dict:
    from reachplan.demand import demand_coverage

    centres = _centres()
    points = _points(n)
    exact = demand_coverage(centres, points, radius_km=RADIUS_KM).points["covered"].to_numpy()
    lcc = _geopandas_covered(points, centres)
    return {"points": n, "disagree": int((exact != lcc).sum()),
            "lcc_extra": int((lcc & ~exact).sum()), "lcc_missed": int((exact & ~lcc).sum())}


def _run(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         check=False)
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _has_pyarrow() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large-repeat", type=int, default=1, help="runs for 5M+ points")
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--disagree", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, n, folder = args.child
        print(json.dumps(_child(method, int(n), args.repeat, folder)))
        return
    if args.disagree:
        print(json.dumps(_disagreements(args.disagree)))
        return

    sizes = [int(float(s)) for s in args.sizes.split(",")]
    methods = args.methods.split(",")
    print(f"# demand coverage, radius {RADIUS_KM:g} km, {len(_centres())} centres; "
          f"{platform.python_version()} on {os.cpu_count()} cores; median of {args.repeat} "
          f"({args.large_repeat} for 5M+); load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'points':>11}  {'method':<32} {'seconds':>8} {'points/s':>11} {'peak MB':>8} "
          f"{'covered':>9} {'vs memory':>9}")
    for n in sizes:
        repeat = args.repeat if n < 5_000_000 else args.large_repeat
        with tempfile.TemporaryDirectory() as tmp:
            if {"parquet", "dask"} & set(methods):
                _write_parquet(n, Path(tmp))
            if {"csv", "kdtree_csv"} & set(methods):
                _write_csv(n, Path(tmp) / "points.csv")
            base = None
            by_method: dict[str, float] = {}
            for method in methods:
                r = _run(["--child", method, str(n), tmp, "--repeat", str(repeat)])
                if "error" in r:
                    print(f"{n:>11,}  {LABELS[method]:<32} failed: {r['error']}")
                    continue
                if method == "memory":
                    base = r["seconds"]
                by_method[method] = r["seconds"]
                ratio = f"{r['seconds'] / base:.2f}x" if base else ""
                print(f"{n:>11,}  {LABELS[method]:<32} {r['seconds']:>8.2f} "
                      f"{n / r['seconds']:>11,.0f} {r['peak_mb']:>8,.0f} {r['covered']:>9,} "
                      f"{ratio:>9}", flush=True)
            if {"csv", "kdtree_csv"} <= set(by_method):
                print(f"{n:>11,}  CSV: reachplan / plain KD-tree script = "
                      f"{by_method['csv'] / by_method['kdtree_csv']:.2f}x (pyarrow "
                      f"{'installed' if _has_pyarrow() else 'absent'})", flush=True)
    d = _run(["--disagree", str(min(sizes))]) if "geopandas" in methods else {"error": ""}
    print(f"# load average {os.getloadavg()[0]:.1f} at the end")
    if "error" not in d:
        print(f"# EPSG:7755 + dwithin vs exact geodesic on {d['points']:,} points: "
              f"{d['disagree']:,} decided differently ({100 * d['disagree'] / d['points']:.3f}%; "
              f"{d['lcc_extra']:,} wrongly covered, {d['lcc_missed']:,} wrongly uncovered)")


if __name__ == "__main__":
    main()
