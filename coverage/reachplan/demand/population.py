"""Population rasters as demand: people per district, and people within reach of a centre.

Two answers from one raster (any GDAL raster, any CRS, read by :mod:`reachplan.demand.rasters`):

* **People per district** (:func:`district_population`): the exact sum of every cell times
  the fraction of its area inside the district, by ``exactextract`` (nodata honoured). This
  is the district's weight: :func:`with_population` puts it in ``weight``, so ``assess``,
  ``gaps`` and ``plan`` report and optimise people (``weight_percent`` ...), keeping a
  weight column that was given as ``weight_given`` to compare.
* **People within reach** (:func:`population_coverage`): every populated cell is a demand
  point at its centre, with its count as weight, decided by the rule's point reach
  (:meth:`reachplan.rules.CoverageRule.point_reach`: within R km geodesic, within T minutes
  by road snapped as demand points are, at least K centres). Cells are located in a district
  by their centre too, so a district's population covered is never more than its population
  by centres (``population_cells``); cells whose centre lies in no district are counted and
  reported, never dropped.

The raster is read in windows of whole rows; each window is processed independently
(:func:`_process_window`), in this process or as a dask task (:mod:`reachplan.demand.runners`),
and its sums are exact (:func:`reachplan.demand.assess._exact_sums`), so both engines give
identical results.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from reachplan._words import plural
from reachplan.demand.assess import (
    _centre_arrays,
    _Districts,
    _exact_sums,
    _percent,
    _reach,
    rule_and_engine,
)
from reachplan.demand.rasters import (
    INSTALL,
    WINDOW_CELLS,
    RasterSpec,
    RasterWindow,
    open_raster,
    plan_windows,
)
from reachplan.demand.runners import Progress, run_dask, run_memory
from reachplan.errors import InputError, first_line
from reachplan.frames import input_name
from reachplan.geodesy.grid import cell_centres, grid_rows
from reachplan.rules import CoverageRule, PointReach, cost_of

__all__ = ["PopulationResult", "district_population", "population_coverage",
           "population_points", "with_population"]


def _label(population: str | os.PathLike) -> str:
    return os.fspath(population)


def district_population(districts: gpd.GeoDataFrame, population: str | os.PathLike, *,
                        label: str | None = None) -> np.ndarray:
    """People in each district: ``exactextract``'s sum of the raster's cells times the
    fraction of each cell inside the district (nodata cells count 0), in ``districts`` order.
    """
    from reachplan.frames import as_districts

    spec = open_raster(population, label=label)
    try:
        from exactextract import exact_extract
    except ImportError:
        raise InputError(f"population needs exactextract: {INSTALL}",
                         params=("population",)) from None
    frame = as_districts(districts)
    polygons = gpd.GeoDataFrame(geometry=frame.geometry.to_crs(CRS.from_wkt(spec.crs_wkt))
                                .reset_index(drop=True))
    try:
        table = exact_extract(spec.path, polygons, ["sum"], output="pandas",
                              max_cells_in_memory=WINDOW_CELLS)
    except Exception as exc:  # exactextract raises plain RuntimeErrors from GDAL
        raise InputError(f"{spec.label}: cannot sum the raster per district "
                         f"({first_line(exc)})", params=("population",)) from None
    return np.nan_to_num(table["sum"].to_numpy(dtype=np.float64), nan=0.0)


def with_population(districts: gpd.GeoDataFrame, population: str | os.PathLike, *,
                    label: str | None = None) -> gpd.GeoDataFrame:
    """The districts with their people (:func:`district_population`) as ``weight``: a
    weight that was given moves to ``weight_given`` (and ``attrs["weight_given_col"]``)."""
    from reachplan.frames import as_districts

    frame = as_districts(districts).copy()
    people = district_population(frame, population, label=label)
    given = frame.attrs.get("weight_col")
    if given is not None:
        frame["weight_given"] = frame["weight"]
        frame.attrs["weight_given_col"] = given
    frame["weight"] = people
    frame.attrs["weight_col"] = "population"
    frame.attrs["population"] = label or _label(population)
    return frame


def population_points(population: str | os.PathLike, *, label: str | None = None,
                      window_cells: int = WINDOW_CELLS) -> gpd.GeoDataFrame:
    """The raster's populated cells as demand points: ``lat``, ``lon`` (cell centres,
    WGS84), ``people`` and point geometry, in raster order, for capacity allocation
    (``assess_capacity(..., demand=points, demand_weight_col="people")``). It holds every
    populated cell (about 60 bytes each): for national rasters at 100 m, aggregate first."""
    spec = open_raster(population, label=label)
    parts = []
    for window in plan_windows(spec, window_cells):
        cells = window.read(spec)
        lat, lon = cell_centres(spec.transform, cells.rows, cells.cols, spec.crs_wkt)
        ok = np.isfinite(lat) & np.isfinite(lon)
        parts.append((lat[ok], lon[ok], cells.values[ok]))
    lat, lon, people = (np.concatenate([p[k] for p in parts]) for k in range(3))
    frame = gpd.GeoDataFrame({"lat": lat, "lon": lon, "people": people},
                             geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    frame.attrs["source"] = spec.label
    return frame


# --------------------------------------------------------------------------- per window


@dataclass
class _WindowResult:
    cells: int
    nodata: int
    empty: int
    populated: int
    offgrid: int  # centres off the Earth (a projected grid's corners)
    by_district: tuple[np.ndarray, np.ndarray, list[Fraction], list[Fraction]]
    # several thresholds: people per (district, band of cost), exact and flat; per district
    # the sum of people x cost and the people who have a cost (their mean cost)
    bands: list[Fraction] | None = None
    cost_sums: tuple[list[Fraction], list[Fraction]] | None = None


_ROWS_PAY_OFF = 6


def _process_window(window: RasterWindow, spec: RasterSpec, reach: PointReach,
                    districts: _Districts | None, steps: tuple[float, ...],
                    threads: int) -> _WindowResult:
    cells = window.read(spec)
    by_rows = getattr(reach, "covered_grid", None)  # optional: a rule's answer per grid row
    # row by row costs ~0.07 us a cell of the window, cell by cell ~0.4 us a populated cell
    # (measured on 2,000 sites at 10 km): rows pay off from a sixth of the cells populated
    dense = cells.index.size * _ROWS_PAY_OFF >= cells.read
    kth = None  # several thresholds: each cell's k-th cost, cell by cell
    if by_rows is not None and dense and not steps and grid_rows(spec.transform, spec.crs_wkt):
        a, _, c, _, e, f = spec.transform
        row_lat = f + (np.arange(window.row_off, window.row_off + window.height) + 0.5) * e
        on_earth = np.abs(row_lat) <= 90.0
        grid = by_rows(np.where(on_earth, row_lat, 0.0), c, a, spec.width, threads=threads)
        if on_earth.all():
            ok = slice(None)
            covered = grid.ravel()[cells.index]
        else:  # rows past a pole (a grid that says so): no cell there is on the Earth
            ok = on_earth[cells.index // spec.width]
            covered = grid.ravel()[cells.index[ok]]
        lat: np.ndarray | None = None
        lon: np.ndarray | None = None
    else:
        lat, lon = cell_centres(spec.transform, cells.rows, cells.cols, spec.crs_wkt)
        ok = np.isfinite(lat) & np.isfinite(lon)
        lat, lon = lat[ok], lon[ok]
        if steps:  # several thresholds: each cell's k-th cost decides them all (one search)
            kth = _cell_costs(reach, lat, lon, threads)
            covered = kth <= steps[-1]
        else:
            covered = reach.covered(lat, lon, threads=threads)
    values = cells.values[ok]
    n_ok = values.size
    nd = districts.n + 1 if districts is not None else 1
    if districts is None:
        where = np.zeros(values.size, dtype=np.int64)
    else:
        if lat is None or lon is None:
            lat, lon = cell_centres(spec.transform, cells.rows[ok], cells.cols[ok],
                                    spec.crs_wkt)
        where = districts.locate(lat, lon)
    counts = np.bincount(where, minlength=nd)
    cov = np.bincount(where[covered], minlength=nd)
    sums = _exact_sums(values, where * 2 + covered, 2 * nd)  # (district, covered) at once
    total = [a + b for a, b in zip(sums[0::2], sums[1::2], strict=True)]
    bands = cost_sums = None
    if kth is not None:
        band = np.searchsorted(np.asarray(steps), kth, side="left")
        bands = _exact_sums(values, where * (len(steps) + 1) + band, nd * (len(steps) + 1))
        has = np.isfinite(kth)
        cost_sums = (_exact_sums(values[has] * kth[has], where[has], nd),  # any windows:
                     _exact_sums(values[has], where[has], nd))  # the same sums, exactly
    return _WindowResult(cells.read, cells.nodata, cells.empty, n_ok,
                         cells.index.size - n_ok, (counts, cov, total, sums[1::2]), bands,
                         cost_sums)


def _cell_costs(reach: PointReach, lat: np.ndarray, lon: np.ndarray, threads: int
                ) -> np.ndarray:
    """Each cell's k-th smallest cost (``k``: the rule's min_centers; inf when fewer than k
    reach it within the largest threshold), the nearest centre's for one."""
    from reachplan.thresholds import kth_costs

    k = int(getattr(reach, "min_centers", 1))
    if k == 1:
        return np.asarray(reach.nearest(lat, lon, threads=threads)[1], dtype=float)
    point, _, cost = reach.pairs(lat, lon, threads=threads)
    return kth_costs(point, cost, np.size(lat), k)


# --------------------------------------------------------------------------- result


@dataclass
class PopulationResult:
    """People within reach: ``summary`` (the JSON ``"population"`` block), ``by_district``
    and ``by_group`` (with districts), and the warnings to show."""

    summary: dict[str, Any]
    by_district: pd.DataFrame | None
    by_group: pd.DataFrame | None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``"population"`` block of the coverage JSON."""
        return dict(self.summary)


def population_coverage(centres: pd.DataFrame, population: str | os.PathLike,
                        rule: CoverageRule | None = None, *, radius_km: float | None = None,
                        districts: gpd.GeoDataFrame | None = None, engine: str = "memory",
                        scheduler: str | None = None, window_cells: int = WINDOW_CELLS,
                        label: str | None = None, progress: Progress | None = None
                        ) -> PopulationResult:
    """People within reach of a centre under ``rule``, from a population raster.

    Parameters
    ----------
    centres
        Centres as given by :func:`reachplan.io.read_points` or any point GeoDataFrame.
    population
        A raster GDAL reads (GeoTIFF, COG, VRT), any CRS, band 1 = people per cell; its
        nodata cells count 0.
    rule
        The coverage rule, e.g. ``Rule.radius(25)``: a cell is covered when the rule reaches
        its centre (as a demand point).
    radius_km
        Shorthand for ``rule=Rule.radius(radius_km)``.
    districts
        Boundaries for the roll-ups by district and group, and their exact populations
        (:func:`district_population`, the ``population`` column).
    engine, scheduler
        ``"memory"`` reads the windows here; ``"dask"`` reads each as a task on a
        ``dask.distributed`` cluster at ``scheduler`` (a local one when ``None``).
    window_cells
        Cells per window (bounds memory: about 100 bytes a populated cell).
    label
        How outputs name the raster (the path as given by default).
    progress
        Called as ``progress(windows_done, windows_total)`` after every window.
    """
    rule = rule_and_engine(rule, radius_km, engine, "a cell")
    if isinstance(window_cells, bool) or not isinstance(window_cells, (int, np.integer)) \
            or window_cells < 1:
        raise InputError(f"window_cells={window_cells!r}: must be a whole number >= 1",
                         params=("window_cells",))
    from reachplan.frames import as_districts, as_points

    label = label or _label(population)
    spec = open_raster(population, label=label)
    centres = as_points(centres, param="centres")
    frame = None if districts is None else as_districts(districts)
    clat, clon, _ = _centre_arrays(centres)
    reach = rule.point_reach(clat, clon)
    located = _Districts(frame) if frame is not None else None
    windows = plan_windows(spec, window_cells)
    cost = cost_of(rule)
    steps = tuple(t * cost.divide_by for t in cost.thresholds) if cost.several else ()
    args = (spec, reach, located, steps)  # _process_window(window, *args, threads)
    if engine == "memory":
        results = run_memory(_process_window, windows, args, progress)
    else:
        results = run_dask(_process_window, windows, args, scheduler, progress)
    exact = None if frame is None else district_population(frame, population, label=label)
    result = _combine(results, spec, _reach(rule), frame, exact)
    if steps:
        from reachplan.demand.population_steps import add_thresholds

        add_thresholds(result, [(r.bands, r.cost_sums) for r in results], cost, frame)
    return result


def _sum(results: list[_WindowResult], k: int) -> Any:
    first = results[0].by_district[k]
    if isinstance(first, np.ndarray):
        return sum((r.by_district[k] for r in results), np.zeros_like(first))
    return [sum(col, Fraction(0)) for col in zip(*(r.by_district[k] for r in results),
                                                  strict=True)]


def _combine(results: list[_WindowResult], spec: RasterSpec, reach: dict[str, Any],
             districts: gpd.GeoDataFrame | None, exact: np.ndarray | None
             ) -> PopulationResult:
    counts, cov = _sum(results, 0), _sum(results, 1)
    total, reached = _sum(results, 2), _sum(results, 3)
    people = sum(total, Fraction(0))
    people_cov = sum(reached, Fraction(0))
    crs = CRS.from_wkt(spec.crs_wkt)
    name = input_name(spec.label)  # the file name alone: no local folder in outputs
    summary: dict[str, Any] = {
        "raster": name,
        "crs": crs.to_string(),
        "cells": sum(r.cells for r in results),
        "cells_nodata": sum(r.nodata for r in results),
        "cells_populated": int(counts.sum()),
        "cells_covered": int(cov.sum()),
        "population": float(people),
        "population_covered": float(people_cov),
        "percent": _percent(people_cov, people),
        "demand_at": "cell centres",
        **reach,
    }
    warnings = []
    offgrid = sum(r.offgrid for r in results)
    if offgrid:
        summary["cells_off_earth"] = offgrid
        warnings.append(f"{name}: {plural(offgrid, 'populated cell')} "
                        "whose centre is not on the Earth in WGS84, left out")
    by_district = by_group = None
    if districts is not None:
        assert exact is not None
        summary["cells_outside"] = int(counts[-1])
        summary["population_outside"] = float(total[-1])
        summary["population_districts"] = float(np.sum(exact))
        if counts[-1]:
            warnings.append(f"{name}: {plural(int(counts[-1]), 'populated cell')} "
                            f"({float(total[-1]):,.0f} people) lie outside every district: "
                            "counted in the totals, in no district")
        by_district, by_group = _rollups(districts, exact, counts, cov, total, reached)
        if "weight_given" in by_district:  # the weight given beside, to compare
            summary["weight_given_col"] = districts.attrs.get("weight_given_col",
                                                              districts.attrs.get("weight_col"))
            summary["weight_given_total"] = float(by_district["weight_given"].sum())
    return PopulationResult(summary, by_district, by_group, warnings)


def _rollups(districts: gpd.GeoDataFrame, exact: np.ndarray, counts: np.ndarray,
             cov: np.ndarray, total: list[Fraction], reached: list[Fraction]
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(districts)
    table = pd.DataFrame({
        "id": districts["id"].astype(str).to_numpy(),
        "name": districts["name"].to_numpy() if "name" in districts else None,
        "group": districts["group"].to_numpy() if "group" in districts else None,
        "population": exact,
        "cells": counts[:n],
        "population_cells": [float(x) for x in total[:n]],
        "population_covered": [float(x) for x in reached[:n]],
        "population_percent": [_percent(a, b) for a, b in zip(reached[:n], total[:n],
                                                                strict=True)],
    })
    if "weight_given" in districts:  # a weight given beside the raster (with_population)
        table["weight_given"] = districts["weight_given"].to_numpy(dtype=float)
    elif districts.attrs.get("weight_col") not in (None, "population"):
        table["weight_given"] = districts["weight"].to_numpy(dtype=float)
    groups = []
    keys = table["group"].where(table["group"].notna(), None)
    for g in sorted({k for k in keys if k is not None}, key=str):
        sel = np.flatnonzero((keys == g).to_numpy())
        g_total = sum((total[i] for i in sel), Fraction(0))
        g_cov = sum((reached[i] for i in sel), Fraction(0))
        groups.append({"group": g, "population": float(exact[sel].sum()),
                       "population_cells": float(g_total),
                       "population_covered": float(g_cov),
                       "population_percent": _percent(g_cov, g_total)})
    by_group = pd.DataFrame(groups, columns=["group", "population", "population_cells",
                                             "population_covered", "population_percent"])
    table = table.sort_values("id", kind="stable").reset_index(drop=True)
    return table, by_group
