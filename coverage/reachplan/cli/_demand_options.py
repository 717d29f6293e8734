"""Demand-point options for ``reachplan coverage`` (and any command that wants them).

Options
-------
--demand FILE             demand points: CSV, GeoParquet file or folder, any point layer, or
                          ``@india-pincodes`` (the embedded 19,416 PIN codes)
--demand-weight-col W     numeric weight per point (e.g. people): also % of weight covered
--demand-lat-col, --demand-lon-col, --demand-id-col
                          demand columns (lat/lon found by name when not given)
--demand-output FILE      per-point results (.csv .geojson .gpkg .xlsx, ``-`` = CSV on stdout)
--engine memory|dask      where the parts run; --scheduler ADDRESS: an existing dask cluster
--demand-chunksize N      points per part (bounds memory)

Use::

    @click.command()
    @input_options
    @demand_options
    @pass_groups(inputs=InputOptions, demand=DemandOptions)
    def coverage(inputs: InputOptions, demand: DemandOptions):
        districts, centers, rule = load_inputs(inputs)
        ...
        covered = run_demand(demand, centers, districts, rule)
        if covered is not None:
            data["demand"] = covered.summary
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click

from reachplan.cli.errors import DEMAND_FLAGS, flags_for
from reachplan.cli.inputs import resolve_dataset
from reachplan.cli.options import OptionGroup, _compose
from reachplan.cli.output import Progress, info, log_warnings


@dataclass(frozen=True)
class DemandOptions(OptionGroup):
    """The options of :data:`demand_options` (of :data:`demand_point_options`: the first
    five; the others keep their defaults)."""

    demand: str | None = None
    demand_weight_col: str | None = None
    demand_lat_col: str | None = None
    demand_lon_col: str | None = None
    demand_id_col: str | None = None
    demand_output: str | None = None
    engine: str = "memory"
    scheduler: str | None = None
    demand_chunksize: int = 1_000_000


demand_point_options = _compose(
    click.option("--demand", default=None, metavar="FILE",
                 help="Demand points (CSV, GeoParquet file or folder, point layer, or "
                      "@india-pincodes): % of points within --radius-km of a centre."),
    click.option("--demand-weight-col", default=None, metavar="COL",
                 help="Numeric demand weight (e.g. people): also % of weight covered."),
    click.option("--demand-lat-col", default=None, metavar="COL",
                 help="Demand latitude column [default: lat/latitude/y]."),
    click.option("--demand-lon-col", default=None, metavar="COL",
                 help="Demand longitude column [default: lon/lng/long/longitude/x]."),
    click.option("--demand-id-col", default=None, metavar="COL",
                 help="Demand ID column, copied as text to --demand-output."),
)

demand_options = _compose(
    demand_point_options,
    click.option("--demand-output", default=None, metavar="FILE",
                 help="Write per-point results (covered, nearest centre, km, district) here: "
                      ".csv .geojson .gpkg .xlsx, or - for CSV on stdout."),
    click.option("--engine", type=click.Choice(["memory", "dask"]), default="memory",
                 show_default=True,
                 help="memory: stream parts here; dask: run them on a dask cluster."),
    click.option("--scheduler", default=None, metavar="ADDRESS",
                 help="dask scheduler to use with --engine dask, e.g. tcp://10.0.0.5:8786 "
                      "[default: a local cluster]."),
    click.option("--demand-chunksize", type=click.IntRange(min=1), default=1_000_000,
                 show_default=True, help="Demand points per part."),
)


def run_demand(opts: DemandOptions, centers, districts, rule, *,
               overwrite: bool = False, progress: Callable[[int, int], None] | None = None,
               population: bool = False):
    """Demand coverage as the options say, or ``None`` without ``--demand``.

    ``population``: ``--population`` was given (its windows run on ``--engine``, so
    ``--scheduler`` needs no ``--demand`` then). Writes ``--demand-output`` (atomically) and
    logs the warnings; raises
    :class:`reachplan.errors.InputError` on bad input (the command turns it into exit 2).
    """
    if not opts.demand:
        for flag, value in (("--demand-output", opts.demand_output),
                            ("--demand-weight-col", opts.demand_weight_col),
                            ("--scheduler", None if population else opts.scheduler)):
            if value:
                raise click.UsageError(f"{flag} needs --demand FILE")
        return None
    from reachplan.demand import demand_coverage  # here: a command without --demand skips it
    from reachplan.rules import reaches_points

    if not reaches_points(rule):
        raise click.UsageError("--demand needs --radius-km R: a demand point is covered when a "
                               "centre lies within R km")
    if opts.scheduler and opts.engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    source, _ = resolve_dataset(opts.demand, "demand")
    id_col = opts.demand_id_col or ("pincode" if opts.demand == "@india-pincodes"
                                           else None)
    info(f"demand: {source}, {rule.describe()}, engine {opts.engine}")
    bar = Progress("reachplan: demand parts")
    try:
        with flags_for(**DEMAND_FLAGS):
            result = demand_coverage(
                centers, source, rule, weight_col=opts.demand_weight_col,
                lat_col=opts.demand_lat_col, lon_col=opts.demand_lon_col,
                id_col=id_col, engine=opts.engine, scheduler=opts.scheduler,
                chunksize=opts.demand_chunksize, districts=districts,
                keep_points=bool(opts.demand_output),
                progress=progress or bar)
    finally:
        bar.close()
    log_warnings(result.warnings)
    if opts.demand_output:
        write_points(result.points, opts.demand_output, overwrite=overwrite)
    return result


def add_demand_columns(result, demand) -> None:
    """Put each district's demand roll-up in the district outputs (JSON, CSV): the points in
    it (``demand_points``), those a centre reaches under the rule (``demand_covered``) and
    their % (``demand_percent``, and ``demand_weight_percent`` with a demand weight): under
    the travel rule, the share of the district's demand within T."""
    if demand is None or demand.by_district is None:
        return
    table = demand.by_district.set_index("id")
    ids = result.districts["id"].astype(str)
    frame = result.districts
    frame["demand_points"] = ids.map(table["points"]).fillna(0).astype("int64").to_numpy()
    frame["demand_covered"] = ids.map(table["covered"]).fillna(0).astype("int64").to_numpy()
    columns = [("demand_percent", "percent")]
    if demand.summary.get("weight_total") is not None:
        columns.append(("demand_weight_percent", "weight_percent"))
    for column, source in columns:
        values = ids.map(table[source]).to_numpy(dtype=object)
        frame[column] = [float("nan") if v is None else float(v) for v in values]


def write_points(points, output: str, *, overwrite: bool) -> None:
    """Per-point results as a table, or as point features for .geojson/.gpkg."""
    from reachplan.engine import round_nearest
    from reachplan.io import VECTOR_OUTPUTS, write_table

    # text as plain objects, so that write_table neutralises spreadsheet formulas in every
    # text column (it looks at object columns; pandas 3 reads text as 'str')
    text = [c for c in points.columns if points[c].dtype.kind not in "biufcmM"]
    points = points.astype({c: object for c in text})
    # nearest_km to the metre and nearest_min to a thousandth, as every output
    points = round_nearest(points)
    if output.lower().endswith(VECTOR_OUTPUTS):
        import geopandas as gpd

        points = gpd.GeoDataFrame(points, crs="EPSG:4326",
                                  geometry=gpd.points_from_xy(points["lon"], points["lat"]))
    with flags_for(path="demand_output"):
        write_table(points, output, overwrite=overwrite)
