"""Population rasters as demand: people within reach of 2,000 sites on a 10^8-cell raster.

Run: ``.venv/bin/python benchmarks/bench_raster.py [--side 10000] [--sites 2000]
[--radius-km 10] [--settled 0.12] [--road-nodes 1000000] [--road-side 580] [--minutes 3]
[--no-plain] [--no-radius] [--no-travel]``.
Prints Markdown tables; every run is its own process, so its peak memory (ru_maxrss) is its own.

* A generated raster of ``--side`` x ``--side`` cells of 3 arc-seconds (~90 m, WorldPop's
  100 m grid) over central India (76-84.3 E, 18-26.3 N), float32, deflate, 512-cell tiles,
  nodata -99999, written once into ``benchmarks/_work/``. Densities as WorldPop's constrained
  rasters have them: people only on settled cells (``--settled``: 12 % of cells by default,
  denser round towns), up to 2,000 a cell, about 470 people/km² over the whole (India:
  430-490); ``--settled 1`` populates every cell, as the unconstrained rasters do.
* ``--sites`` random sites, the radius rule (``--radius-km``): reachplan's
  ``population_coverage`` (windows of 4M cells, exact geodesic per cell centre) beside the
  plain script: the whole band read into memory, ``np.nonzero``, every populated cell centre
  queried against a scipy KD-tree of the sites on a sphere of 6,371 km (approximate; its
  disagreements with reachplan's exact answer are counted).
* Travel time: the 1M-vertex generated city of ``bench_roads.py`` (a 58 km square, vertices
  ~60 m apart) under a ``--road-side`` square raster (100 m cells) and ``--sites`` sites,
  ``--minutes`` by road: reachplan (cells snapped as demand points, one multi-source search)
  beside the same through ``demand_coverage`` on the cells written as a CSV of points.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
WEST, NORTH, CELL = 76.0, 26.3, 1 / 1200  # 3 arc-seconds


def make_raster(path: Path, side: int, settled: float = 0.12) -> None:
    """The generated raster (see the module's docstring), written strip by strip: about
    ``settled`` of the cells populated (1: every cell, as WorldPop's unconstrained rasters)."""
    import rasterio
    from affine import Affine

    rng = np.random.default_rng(21)
    coarse = side // 100 + 1  # ~9 km "districts" of a density each
    towns = rng.lognormal(0.0, 1.2, (coarse, coarse))
    towns /= towns.mean()
    profile = {"driver": "GTiff", "width": side, "height": side, "count": 1,
               "dtype": "float32", "crs": "EPSG:4326", "nodata": -99999.0,
               "transform": Affine(CELL, 0.0, WEST, 0.0, -CELL, NORTH), "tiled": True,
               "blockxsize": 512, "blockysize": 512, "compress": "deflate", "BIGTIFF": "YES"}
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        for row in range(0, side, 512):
            h = min(512, side - row)
            density = np.repeat(towns[(row + np.arange(h)) // 100], 100, axis=1)[:, :side]
            lived = (rng.random((h, side)) < np.clip(settled * density, 0, 0.9)
                     if settled < 1 else np.ones((h, side), dtype=bool))
            # ~470 people/km² over the whole: cells of 0.008 km², mean 3.7 people a cell
            mean = 3.7 / min(settled, 1.0)
            people = np.where(lived, np.minimum(rng.lognormal(np.log(mean) - 0.605, 1.1,
                                                              (h, side)) * density, 2000),
                              0).astype(np.float32)
            people[:, :3][rng.random((h, 3)) < 0.5] = -99999.0  # a ragged nodata edge
            dst.write(people[None], window=rasterio.windows.Window(0, row, side, h))
    tmp.rename(path)


def sites(n: int, side: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    span = side * CELL
    return NORTH - rng.uniform(0.02, span - 0.02, n), WEST + rng.uniform(0.02, span - 0.02, n)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def run_reachplan(path: str, n_sites: int, side: int, radius_km: float) -> dict:
    import pandas as pd

    from reachplan import Rule, population_coverage

    lat, lon = sites(n_sites, side)
    start, cpu = time.perf_counter(), _cpu()
    res = population_coverage(pd.DataFrame({"lat": lat, "lon": lon}), path,
                              Rule.radius(radius_km))
    s = res.summary
    return {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "peak_mb": _peak_mb(),
            "population": s["population"], "covered": s["population_covered"],
            "cells": s["cells"], "populated": s["cells_populated"]}


def run_plain(path: str, n_sites: int, side: int, radius_km: float) -> dict:
    """The plain script: read it all, KD-tree on a sphere."""
    import rasterio
    from scipy.spatial import cKDTree

    lat, lon = sites(n_sites, side)
    start, cpu = time.perf_counter(), _cpu()

    def xyz(la, lo):
        la, lo = np.radians(la), np.radians(lo)
        return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])

    with rasterio.open(path) as src:
        data = src.read(1)
        t = src.transform
    rows, cols = np.nonzero(data > 0)
    values = data[rows, cols].astype(np.float64)
    del data
    clat = t.f + (rows + 0.5) * t.e
    clon = t.c + (cols + 0.5) * t.a
    tree = cKDTree(xyz(lat, lon))
    chord = 2 * np.sin(radius_km / 6371.0088 / 2)
    dist, _ = tree.query(xyz(clat, clon), k=1, distance_upper_bound=chord, workers=-1)
    covered = float(values[np.isfinite(dist)].sum())
    return {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "peak_mb": _peak_mb(),
            "population": float(values.sum()), "covered": covered}


def run_travel(folder: str, n_sites: int, minutes: float, road_side: int, via: str) -> dict:
    import pandas as pd

    from reachplan import population_coverage
    from reachplan.demand import demand_coverage
    from reachplan.roads import TravelRule

    folder_path = Path(folder)
    rule = TravelRule.from_roads(folder_path / "city.osm.pbf", minutes,
                                 cache_dir=folder_path / "cache")
    rng = np.random.default_rng(9)
    west, south, span = CITY
    centres = pd.DataFrame({"lat": rng.uniform(south + 0.01, south + span - 0.01, n_sites),
                            "lon": rng.uniform(west + 0.01, west + span - 0.01, n_sites)})
    start, cpu = time.perf_counter(), _cpu()
    if via == "raster":
        res = population_coverage(centres, folder_path / "city.tif", rule)
        covered, total = res.summary["population_covered"], res.summary["population"]
    else:
        d = demand_coverage(centres, str(folder_path / "cells.csv"), rule, weight_col="people",
                            keep_points=False)
        covered, total = d.summary["weight_covered"], d.summary["weight_total"]
    return {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "peak_mb": _peak_mb(),
            "covered": covered, "population": total}


CITY = (77.45, 12.85, 0.54)  # bench_roads.py's generated city: west, south, side (degrees)


def make_city(folder: Path, road_nodes: int, road_side: int) -> None:
    """bench_roads.py's city PBF, a raster of ``road_side`` cells over it, and the same
    cells as a CSV of points."""
    import rasterio
    from affine import Affine
    from bench_roads import write_pbf  # benchmarks/ is on sys.path when a script runs

    from reachplan.demand.rasters import RasterWindow, open_raster
    from reachplan.geodesy.grid import cell_centres

    if not (folder / "city.osm.pbf").exists():
        write_pbf(folder / "city.osm.pbf", road_nodes, box=CITY)
    west, south, span = CITY
    step = span / road_side
    rng = np.random.default_rng(4)
    people = np.where(rng.random((road_side, road_side)) < 0.6,
                      rng.lognormal(3.0, 1.0, (road_side, road_side)), 0).astype(np.float32)
    with rasterio.open(folder / "city.tif", "w", driver="GTiff", width=road_side,
                       height=road_side, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(step, 0.0, west, 0.0, -step, south + span)) as dst:
        dst.write(people[None])
    spec = open_raster(folder / "city.tif")
    cells = RasterWindow(0, road_side).read(spec)
    lat, lon = cell_centres(spec.transform, cells.rows, cells.cols, spec.crs_wkt)
    with open(folder / "cells.csv", "w") as fh:
        fh.write("lat,lon,people\n")
        for la, lo, v in zip(lat.tolist(), lon.tolist(), cells.values.tolist(), strict=True):
            fh.write(f"{la!r},{lo!r},{v!r}\n")


def child(kind: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, *args],
                          capture_output=True, text=True, check=False,
                          env={"PYTHONPATH": str(ROOT / "coverage"), "PATH": "/usr/bin:/bin"})
    if proc.returncode != 0:
        raise RuntimeError(f"{kind}: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--radius-km", type=float, default=10.0)
    parser.add_argument("--road-nodes", type=int, default=1_000_000)
    parser.add_argument("--road-side", type=int, default=580)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--settled", type=float, default=0.12,
                        help="share of cells populated (1: every cell, unconstrained)")
    parser.add_argument("--no-plain", action="store_true")
    parser.add_argument("--no-travel", action="store_true")
    parser.add_argument("--no-radius", action="store_true")
    parser.add_argument("--child", nargs="+", default=None)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "travel":
            out = run_travel(rest[0], int(rest[1]), float(rest[2]), int(rest[3]), rest[4])
        else:
            func = run_reachplan if kind == "reachplan" else run_plain
            out = func(rest[0], int(rest[1]), int(rest[2]), float(rest[3]))
        print(json.dumps(out))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    if not args.no_radius:
        bench_radius(args)
    if not args.no_travel:
        bench_travel(args)


def bench_radius(args: argparse.Namespace) -> None:
    path = WORK / f"population_{args.side}_{args.settled:g}.tif"
    if not path.exists():
        start = time.perf_counter()
        make_raster(path, args.side, args.settled)
        print(f"(generated {path.name} in {time.perf_counter() - start:.0f} s)")
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"\n### {args.side ** 2:,} cells x {args.sites:,} sites, within {args.radius_km:g} km "
          f"(load average {' '.join(load)}; a shared 2-core machine)\n")
    print("| method | seconds (wall / CPU) | peak MB | people | within R | % |")
    print("|---|---:|---:|---:|---:|---:|")
    params = [str(path), str(args.sites), str(args.side), str(args.radius_km)]
    ours = child("reachplan", *params)
    rows = [("reachplan `population_coverage` (windows, exact geodesic)", ours)]
    if not args.no_plain:
        rows.append(("plain: whole band in memory, KD-tree on a sphere", child("plain", *params)))
    for name, r in rows:
        print(f"| {name} | {r['seconds']:.1f} / {r['cpu']:.1f} | {r['peak_mb']:,.0f} | "
              f"{r['population']:,.0f} | "
              f"{r['covered']:,.0f} | {100 * r['covered'] / r['population']:.3f} |")
    print(f"\n{ours['populated']:,} populated cells of {ours['cells']:,}; machine load "
          f"average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}.")


def bench_travel(args: argparse.Namespace) -> None:
    folder = WORK / f"city_{args.road_nodes}_{args.road_side}"
    folder.mkdir(exist_ok=True)
    make_city(folder, args.road_nodes, args.road_side)
    print(f"\n### Travel time: {args.road_side ** 2:,} cells (~{60_000 / args.road_side:.0f} m) x "
          f"{args.sites:,} sites, "
          f"within {args.minutes:g} min on the generated city ({args.road_nodes:,} road "
          "vertices; graph cached by a first run)\n")
    print("| method | seconds (wall / CPU) | peak MB | people | within T | % |")
    print("|---|---:|---:|---:|---:|---:|")
    targs = [str(folder), str(args.sites), str(args.minutes), str(args.road_side)]
    child("travel", *targs, "raster")  # builds the graph cache
    for name, via in (("reachplan `population_coverage`", "raster"),
                      ("`demand_coverage` on the cells as a CSV of points", "points")):
        r = child("travel", *targs, via)
        print(f"| {name} | {r['seconds']:.1f} / {r['cpu']:.1f} | {r['peak_mb']:,.0f} | "
              f"{r['population']:,.0f} | "
              f"{r['covered']:,.0f} | {100 * r['covered'] / r['population']:.3f} |")


if __name__ == "__main__":
    main()
