"""Capacity options (``--capacity-col``, ``--demand-rate``) and the glue from them to
:mod:`reachplan.capacity`.

Options
-------
--capacity-col COL        capacity per centre (a CENTERS column): allocate demand to centres
--demand-rate R           demand = district weight (--weight-col) x R, when there is no
                          --demand FILE (demand points, weighted by --demand-weight-col)
--capacity-output FILE    per-centre capacity, load and utilisation (.csv .geojson .gpkg .xlsx)

The work is :func:`reachplan.capacity.assess_capacity` (and ``plan_capacity``): demand from
demand points (``--demand FILE``, each point's ``--demand-weight-col`` or 1) paired with the
centres by the rule's point pairs (a rule that reaches points), or from districts (weight x
rate) paired by the rule's district pairs (any rule). This module checks the option
combinations, reads the demand points and maps the library's parameters to options.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from reachplan.cli.errors import DEMAND_FLAGS, flags_for
from reachplan.cli.inputs import resolve_dataset
from reachplan.cli.options import FiniteFloat, InputOptions, OptionGroup, _compose
from reachplan.cli.output import info

if TYPE_CHECKING:  # numpy and pandas are imported when a command runs (fast --help)
    import pandas as pd

    from reachplan.capacity import CapacityResult
    from reachplan.cli._demand_options import DemandOptions

capacity_col_opt = click.option(
    "--capacity-col", default=None, metavar="COL",
    help="Centre capacity column (e.g. repairs per day): serve demand within capacities (most "
         "demand served, then least distance) and report load, utilisation and unserved "
         "demand.")
demand_rate_opt = click.option(
    "--demand-rate", type=FiniteFloat(), default=None, metavar="R",
    help="With --capacity-col and no --demand: demand per district = its --weight-col x R "
         "(e.g. 0.002 requests per person per day).")

candidate_capacity_opt = click.option(
    "--candidate-capacity", default=None, metavar="N|COL",
    help="With --capacity-col: the capacity of a candidate site (and of a site added in the "
         "page), one number or a column of --candidates.")

capacity_options = _compose(
    capacity_col_opt,
    demand_rate_opt,
    click.option("--capacity-output", default=None, metavar="FILE",
                 help="Write per-centre capacity, load and utilisation % here: .csv .geojson "
                      ".gpkg .xlsx, or - for CSV on stdout."),
)


@dataclass(frozen=True)
class CapacityOptions(OptionGroup):
    """The options of :data:`capacity_options`."""

    capacity_col: str | None = None
    demand_rate: float | None = None
    capacity_output: str | None = None


@dataclass
class Assessed:
    """What ``coverage`` and ``gaps`` start from: the inputs read and assessed."""

    districts: Any
    centers: Any
    rule: Any
    result: Any


def assess_inputs(inputs: InputOptions, *, nearest: bool = True,
                  thresholds: bool = False) -> Assessed:
    """Read the inputs and assess them, logging the assessment's warnings; ``nearest=False``
    when the command shows no nearest centre (see :func:`reachplan.engine.assess`);
    ``thresholds=True`` when the command takes several thresholds (``load_inputs``)."""
    from reachplan.cli.inputs import load_inputs
    from reachplan.cli.output import log_warnings
    from reachplan.engine import assess

    districts, centers, rule = load_inputs(inputs, thresholds=thresholds)
    result = assess(districts, centers, rule, type_col=inputs.type_col, nearest=nearest)
    log_warnings(result.warnings)
    return Assessed(districts, centers, rule, result)


def run_capacity(opts: CapacityOptions, demand_opts: DemandOptions, centers, districts, rule,
                 *, type_col: str | None = None, weight_col: str | None = None,
                 population: str | None = None) -> CapacityResult | None:
    """Capacity-limited allocation as the options say (:func:`reachplan.capacity.
    assess_capacity`), or ``None`` without --capacity-col. With ``--population`` and no
    ``--demand``, the raster's populated cells are the demand points (their people the
    weight), or with ``--demand-rate`` the districts' people x the rate.

    Raises a one-line error (exit 2) naming the option, or the file, column and row, on bad
    input; writes nothing.
    """
    col = opts.capacity_col
    if not col:
        for flag, value in (("--demand-rate", opts.demand_rate),
                            ("--capacity-output", opts.capacity_output)):
            if value is not None:
                raise click.UsageError(f"{flag} needs --capacity-col COL")
        return None
    from reachplan.capacity import assess_capacity  # here: scipy loads only with --capacity-col

    if population:
        weight_col = weight_col or "population"  # the districts' weight is their people
    points = demand_points(opts, demand_opts, rule, weight_col=weight_col,
                           population=population)
    people = population and not demand_opts.demand and points is not None
    with flags_for(**CAPACITY_FLAGS):
        run = assess_capacity(districts, centers, rule, capacity=col, demand=points,
                              demand_weight_col="people" if people
                              else demand_opts.demand_weight_col,
                              demand_rate=opts.demand_rate, weight_col=weight_col,
                              type_col=type_col, rate_name="--demand-rate")
    assert run.demand is not None
    info(f"capacity: {run.demand.amounts.size} demand rows, {run.demand.pairs[0].size} pairs, "
         f"{len(run.centres)} centres")
    return run


# the capacity entries' parameters that this CLI's options name otherwise
CAPACITY_FLAGS: dict[str, str | None] = {"capacity": "capacity_col", "target_pct": "target"}


def demand_points(opts: CapacityOptions, demand_opts: DemandOptions, rule, *,
                  weight_col: str | None, population: str | None = None):
    """The --demand points (read as the options say), the --population raster's cells (no
    --demand nor --demand-rate), or None for district weight x --demand-rate; the option
    combinations checked first."""
    from reachplan.rules import reaches_points

    rate = opts.demand_rate
    if population and not demand_opts.demand and rate is None:
        if not reaches_points(rule):
            raise click.UsageError(
                "--capacity-col with --population cells needs --radius-km R or --roads FILE "
                "--travel-minutes T: a reach between centres and cells")
        from reachplan.demand.population import population_points

        with flags_for():
            return population_points(population, label=population)
    if demand_opts.demand and rate is not None:
        raise click.UsageError("give --demand FILE or --demand-rate R, not both: demand comes "
                               "from points or from district weights")
    if not demand_opts.demand and rate is None:
        raise click.UsageError("--capacity-col needs demand: --demand FILE (with "
                               "--demand-weight-col) or --demand-rate R (with --weight-col)")
    if rate is not None:
        if not weight_col:
            raise click.UsageError("--demand-rate needs --weight-col COL: demand = weight x "
                                   "rate")
        return None
    if not reaches_points(rule):
        raise click.UsageError(
            "--capacity-col with --demand points needs --radius-km R or --roads FILE "
            "--travel-minutes T: a reach between centres and points")
    from reachplan.io import read_points

    assert demand_opts.demand is not None  # no --demand-rate: --demand was given
    source, _ = resolve_dataset(demand_opts.demand, "demand")
    with flags_for(**DEMAND_FLAGS):
        points = read_points(source, lat_col=demand_opts.demand_lat_col,
                             lon_col=demand_opts.demand_lon_col, what="demand")
    points.attrs.setdefault("source", demand_opts.demand)
    return points


def write_centres(run: CapacityResult, output: str, *, overwrite: bool) -> None:
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


def district_columns(table: pd.DataFrame, run: CapacityResult) -> pd.DataFrame:
    """A per-district table (with an ``id`` column) gaining the capacity columns."""
    extra = run.districts.add_prefix("capacity_")
    extra.index = extra.index.astype(str)
    out = table.join(extra, on="id")
    for column in extra.columns:
        if column != "capacity_served_pct":
            out[column] = out[column].fillna(0.0)
    return out
