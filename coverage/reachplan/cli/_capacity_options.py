"""Capacity options (``--capacity-col``, ``--demand-rate``) and the glue from them to
:mod:`reachplan.capacity`.

Options
-------
--capacity-col COL        capacity per centre (a CENTERS column): allocate demand to centres
--demand-rate R           demand = district weight (--weight-col) x R, when there is no
                          --demand FILE (demand points, weighted by --demand-weight-col)
--capacity-output FILE    per-centre capacity, load and utilisation (.csv .geojson .gpkg .xlsx)

Demand comes from demand points (``--demand FILE``, each point's ``--demand-weight-col`` or 1)
whose pairs with the centres are the rule's point pairs (``pairs_for_rule``: radius or travel
time; presence has none), or
from districts (weight x rate) whose pairs are the rule's district pairs (any rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reachplan.cli.options import (
    DEMAND_FLAGS,
    FiniteFloat,
    ReachplanUsageError,
    _compose,
    flags_for,
    info,
    resolve_dataset,
)

if TYPE_CHECKING:  # numpy and pandas are imported when a command runs (fast --help)
    import numpy as np
    import pandas as pd

CAPACITY_KEYS = ("capacity_col", "demand_rate", "capacity_output")

capacity_col_opt = click.option(
    "--capacity-col", default=None, metavar="COL",
    help="Centre capacity column (e.g. repairs per day): serve demand within capacities (most "
         "demand served, then least distance) and report load, utilisation and unserved "
         "demand.")
demand_rate_opt = click.option(
    "--demand-rate", type=FiniteFloat(), default=None, metavar="R",
    help="With --capacity-col and no --demand: demand per district = its --weight-col x R "
         "(e.g. 0.002 requests per person per day).")

capacity_options = _compose(
    capacity_col_opt,
    demand_rate_opt,
    click.option("--capacity-output", default=None, metavar="FILE",
                 help="Write per-centre capacity, load and utilisation % here: .csv .geojson "
                      ".gpkg .xlsx, or - for CSV on stdout."),
)


@dataclass
class CapacityRun:
    """The allocation and the tables the commands print or write."""

    block: dict[str, Any]
    centres: pd.DataFrame       # one row per centre: name, type, capacity, load, utilisation_pct
    districts: pd.DataFrame     # per district id: demand, reachable, served, unserved, ...
    geometry: Any = None        # the centres' points (for --capacity-output .geojson/.gpkg)


@dataclass
class Assessed:
    """What ``coverage`` and ``gaps`` start from: their options, split, and the assessment."""

    opts: dict[str, Any]
    own: dict[str, Any]
    demand_opts: dict[str, Any]
    capacity_opts: dict[str, Any]
    districts: Any
    centers: Any
    rule: Any
    result: Any


def assess_inputs(kwargs: dict[str, Any], *, nearest: bool = True) -> Assessed:
    """Split a command's options (inputs, demand, capacity, its own), read the inputs and
    assess them, logging the assessment's warnings; ``nearest=False`` when the command shows
    no nearest centre (see :func:`reachplan.engine.assess`)."""
    from reachplan.cli._demand_options import split_demand
    from reachplan.cli.options import load_inputs, log_warnings, split_inputs
    from reachplan.engine import assess

    opts, own = split_inputs(kwargs)
    demand_opts = split_demand(own)
    capacity_opts = split_capacity(own)
    districts, centers, rule = load_inputs(opts)
    result = assess(districts, centers, rule, type_col=opts.get("type_col"), nearest=nearest)
    log_warnings(result.warnings)
    return Assessed(opts, own, demand_opts, capacity_opts, districts, centers, rule, result)


def split_capacity(own: dict[str, Any]) -> dict[str, Any]:
    """Take the capacity options out of a command's own options."""
    return {k: own.pop(k) for k in CAPACITY_KEYS if k in own}


def run_capacity(opts: dict[str, Any], demand_opts: dict[str, Any], centers, districts, rule,
                 *, type_col: str | None = None, weight_col: str | None = None
                 ) -> CapacityRun | None:
    """Capacity-limited allocation as the options say, or ``None`` without --capacity-col.

    Raises :class:`ReachplanUsageError` (exit 2) naming file, column and row on bad input;
    writes nothing.
    """
    col = opts.get("capacity_col")
    if not col:
        for key in ("demand_rate", "capacity_output"):
            if opts.get(key) is not None:
                raise click.UsageError(f"--{key.replace('_', '-')} needs --capacity-col COL")
        return None
    from reachplan.capacity import allocate, rollup  # here: scipy loads only with --capacity-col

    capacity = centre_capacity(centers, col)
    label = centers.attrs.get("source", "CENTERS")
    if capacity.size and capacity.sum() <= 0:
        raise ReachplanUsageError(f"{label}: column '{col}': total capacity is 0; give at least "
                                "one centre a capacity > 0")
    demand, pairs, district_of, model = demand_pairs(opts, demand_opts, centers, districts,
                                                     rule, weight_col=weight_col)
    info(f"capacity: {demand.size} demand rows, {pairs[0].size} pairs, {capacity.size} centres")
    alloc = allocate(pairs[0], pairs[1], pairs[2], demand, capacity)
    by_district = rollup(alloc, district_of)
    block: dict[str, Any] = {"model": {"capacity": f"column '{col}'", **model,
                                       "rule": rule.to_dict(), "cost_unit": rule.unit}}
    block |= alloc.to_dict()
    if type_col:
        types = alloc.by_centre_type(centers[type_col].fillna("").astype(str).to_numpy())
        block["by_centre_type"] = _records(types.reset_index())
    groups = _group_rollup(alloc, district_of, districts)
    if groups is not None:
        block["by_group"] = _records(groups.reset_index())
    block["districts"] = _records(by_district.reset_index())
    centres = alloc.centres_frame().reset_index(drop=True)
    centres.insert(0, "name", centers["name"].astype(str).to_numpy())
    if type_col:
        centres.insert(1, "type", centers[type_col].fillna("").astype(str).to_numpy())
    centres["utilisation_pct"] = centres["utilisation_pct"].round(4)
    block["centres"] = _records(centres)
    return CapacityRun(block=block, centres=centres, districts=by_district,
                       geometry=centers.geometry)


def centre_capacity(centers, col: str) -> np.ndarray:
    """Capacity per centre from its column, checked (errors name file, column and row)."""
    from reachplan.capacity import column_amounts

    return column_amounts(centers, col, label=centers.attrs.get("source", "CENTERS"),
                          rows=_lines(centers))


def demand_pairs(opts: dict[str, Any], demand_opts: dict[str, Any], sites, districts, rule, *,
                 weight_col: str | None):
    """Demand, its (demand, site, cost) pairs with ``sites``, each demand row's district and
    the ``model`` text, from --demand points or district weight x --demand-rate."""
    rate = opts.get("demand_rate")
    if demand_opts.get("demand") and rate is not None:
        raise click.UsageError("give --demand FILE or --demand-rate R, not both: demand comes "
                               "from points or from district weights")
    if not demand_opts.get("demand") and rate is None:
        raise click.UsageError("--capacity-col needs demand: --demand FILE (with "
                               "--demand-weight-col) or --demand-rate R (with --weight-col)")
    if rate is not None:
        return _district_demand(districts, sites, rule, rate, weight_col)
    return _point_demand(demand_opts, sites, districts, rule)


def write_centres(run: CapacityRun, output: str, *, overwrite: bool) -> None:
    """``--capacity-output``: per-centre capacity, load and utilisation."""
    import numpy as np

    from reachplan.io import write_table

    frame: Any = run.centres
    if output.lower().endswith((".geojson", ".gpkg")):
        import geopandas as gpd

        frame = gpd.GeoDataFrame(run.centres, geometry=np.asarray(run.geometry),
                                 crs="EPSG:4326")
    with flags_for(path="capacity_output"):
        write_table(frame, output, overwrite=overwrite)


def district_columns(table: pd.DataFrame, run: CapacityRun) -> pd.DataFrame:
    """A per-district table (with an ``id`` column) gaining the capacity columns."""
    extra = run.districts.add_prefix("capacity_")
    extra.index = extra.index.astype(str)
    out = table.join(extra, on="id")
    for column in extra.columns:
        if column != "capacity_served_pct":
            out[column] = out[column].fillna(0.0)
    return out


def _point_demand(demand_opts: dict[str, Any], centers, districts, rule):
    import numpy as np

    from reachplan.capacity import column_amounts, district_of_points, pairs_for_rule
    from reachplan.errors import InputError
    from reachplan.io import read_points

    source, _ = resolve_dataset(demand_opts["demand"], "demand")
    with flags_for(**DEMAND_FLAGS):
        points = read_points(source, lat_col=demand_opts.get("demand_lat_col"),
                             lon_col=demand_opts.get("demand_lon_col"), what="demand")
    label = points.attrs.get("source", demand_opts["demand"])
    name = Path(str(label)).name  # no local paths in outputs
    weight = demand_opts.get("demand_weight_col")
    if weight:
        demand = column_amounts(points, weight, label=label, rows=_lines(points))
        model = {"demand": f"column '{weight}' of {name}"}
    else:
        demand = np.ones(len(points))
        model = {"demand": f"1 per point of {name}"}
    try:
        pairs = pairs_for_rule(points, centers, rule)
    except InputError as exc:
        if not str(exc).startswith("rule:"):
            raise
        raise click.UsageError(
            "--capacity-col with --demand points needs --radius-km R or --roads FILE "
            "--travel-minutes T: a reach between centres and points") from None
    return demand, pairs, district_of_points(points, districts, "id"), model


def _district_demand(districts, centers, rule, rate: float, weight_col: str | None):
    import numpy as np
    import pandas as pd

    from reachplan.capacity import column_amounts
    from reachplan.capacity._checks import amounts

    if not (np.isfinite(rate) and rate >= 0):
        raise click.BadParameter(f"{rate:g}: give a rate >= 0", param_hint="--demand-rate")
    if not weight_col:
        raise click.UsageError("--demand-rate needs --weight-col COL: demand = weight x rate")
    label = districts.attrs.get("source", "BOUNDARIES")
    frame = pd.DataFrame({weight_col: districts["weight"].to_numpy(dtype=object)})
    rows = [f"id {i}" for i in districts["id"].astype(str)]
    weights = column_amounts(frame, weight_col, label=label, rows=rows)
    demand = amounts(weights * rate, f"{label}: column '{weight_col}' x --demand-rate {rate:g}",
                     rows=rows)  # within the solvers' bound
    di, ci, cost = rule.pairs(districts.geometry, centers.geometry)
    model = {"demand": f"district '{weight_col}' x {rate:g} (--demand-rate)"}
    return (demand, (np.asarray(di, dtype=np.int64), np.asarray(ci, dtype=np.int64),
                             np.asarray(cost, dtype=np.float64)),
            districts["id"].astype(str).to_numpy(dtype=object), model)


def _group_rollup(alloc, district_of: np.ndarray, districts) -> pd.DataFrame | None:
    from reachplan.capacity import rollup

    if "group" not in districts.columns or districts["group"].isna().all():
        return None
    to_group = dict(zip(districts["id"].astype(str), districts["group"], strict=True))
    groups = [None if d is None else to_group.get(str(d)) for d in district_of]
    return rollup(alloc, groups, name="group")


def _lines(frame) -> list[Any]:
    return frame["line"].tolist() if "line" in frame.columns else list(frame.index)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({str(k): _plain(v, str(k).endswith("_pct")) for k, v in row.items()})
    return out


def _plain(value: Any, percent: bool = False) -> Any:
    import numpy as np

    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not np.isfinite(value):
            return None
        if percent:
            return round(value, 4)
        return int(value) if value == int(value) and abs(value) < 2**53 else round(value, 6)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value
