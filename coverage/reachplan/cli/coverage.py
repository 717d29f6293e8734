"""``reachplan coverage``: how covered are we?"""

from __future__ import annotations

import click

from reachplan.cli import options
from reachplan.cli._capacity_options import (
    CapacityOptions,
    assess_inputs,
    capacity_options,
    district_columns,
    run_capacity,
    write_centres,
)
from reachplan.cli._demand_options import (
    DemandOptions,
    add_demand_columns,
    demand_options,
    run_demand,
)
from reachplan.cli._population import add_population_columns, run_population
from reachplan.cli._report import render_table, report_format, result_dict
from reachplan.cli.errors import flags_for, handle_errors
from reachplan.cli.output import emit_json, emit_report

FORMATS = ("table", "json", "csv")


def write_result(result, fmt: str, output: str | None, overwrite: bool, demand=None,
                 capacity=None, population=None) -> None:
    """Write a coverage result as a table, JSON or per-district CSV."""
    if fmt == "json":
        emit_json(result_dict(result, demand, capacity, population=population), output,
                  overwrite)
    elif fmt == "csv":
        from reachplan.engine import district_table
        from reachplan.io import write_table

        table = district_table(result)
        if capacity is not None:
            table = district_columns(table, capacity)
        with flags_for(path="output"):
            write_table(table, output or "-", overwrite=overwrite)
    else:
        emit_report(render_table(result, demand, capacity, population=population), output,
                    overwrite)


@click.command(short_help="How covered are we? % of districts (and weight) covered.")
@options.input_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="table (for people), json (the documented contract) or csv (one row per "
                   "district) [default: the -o extension (.xlsx: the csv rows), or table].")
@click.option("-o", "--output", default=None, help="Write here instead of stdout.")
@options.overwrite_opt
@click.option("--week", is_flag=True,
              help="The 168-hour profile (needs --hours-col): % covered per hour of the week "
                   "of --week-of, the worst hours, hours covered per district.")
@click.option("--heatmap", default=None, metavar="PNG",
              help="With --week: a day × hour heat map of % districts covered.")
@click.option("--curve", default=None, metavar="PNG",
              help="With several thresholds (--radius-km 5,10,25 or --travel-minutes "
                   "15,30,60): the coverage-vs-threshold curve.")
@demand_options
@capacity_options
@handle_errors
@options.pass_groups(inputs=options.InputOptions, demand=DemandOptions, capacity=CapacityOptions)
def coverage(inputs: options.InputOptions, fmt: str | None, output: str | None, overwrite: bool,
             week: bool, heatmap: str | None, curve: str | None, demand: DemandOptions,
             capacity: CapacityOptions) -> None:
    """Decide which districts are covered and report % of districts (and of weight),
    by group and by centre type.

    BOUNDARIES is a polygon layer (GeoJSON, GeoPackage, Shapefile, FlatGeobuf, GeoParquet);
    CENTERS a CSV/XLSX with latitude and longitude columns, or a point layer.

    \b
    Examples:
      reachplan coverage @india @india-sample --type-col type
      reachplan coverage districts.gpkg centres.csv --group-col state --weight-col pop
      reachplan coverage districts.geojson centres.csv --radius-km 25 --format json | jq .summary
      reachplan coverage @india @india-sample --radius-km 25 --demand @india-pincodes
      reachplan coverage districts.gpkg centres.csv --radius-km 30 --capacity-col cap \\
          --demand offices.csv --demand-weight-col requests --format json
      reachplan coverage districts.gpkg centres.csv --weight-col pop --demand-rate 0.002 \\
          --capacity-col cap --type-col type
      reachplan coverage districts.gpkg centres.csv --radius-km 10 --population pop.tif
      reachplan coverage @india @india-sample --radius-km 5,10,25 --curve curve.png
    """
    fmt = report_format(fmt, output)
    several = one_threshold_only(inputs, demand, capacity, week=week or bool(heatmap))
    if curve and not several:
        raise click.UsageError("--curve PNG needs several thresholds, e.g. --radius-km "
                               "5,10,25 or --travel-minutes 15,30,60")
    if week or heatmap:
        from reachplan.cli._week import run_week

        if not week:
            raise click.UsageError("--heatmap PNG needs --week")
        return run_week(inputs, demand, capacity, fmt, output, overwrite, heatmap)
    # the table shows no nearest centre
    run = assess_inputs(inputs, nearest=fmt != "table", thresholds=True)
    districts, centers, rule, result = run.districts, run.centers, run.rule, run.result
    # capacity first: its input errors must stop the command before any file is written
    served = run_capacity(capacity, demand, centers, districts, rule,
                          type_col=inputs.type_col, weight_col=inputs.weight_col,
                          population=inputs.population)
    covered = run_demand(demand, centers, districts, rule, overwrite=overwrite,
                         population=bool(inputs.population))
    add_demand_columns(result, covered)
    people = run_population(inputs.population, centers, districts, rule, engine=demand.engine,
                            scheduler=demand.scheduler)
    add_population_columns(result, people)
    if served is not None and capacity.capacity_output:
        write_centres(served, capacity.capacity_output, overwrite=overwrite)
    if curve:
        from reachplan.maps.curve import write_curve_png

        with flags_for(path="curve"):
            write_curve_png(result_dict(result, population=people, districts=False), curve,
                            overwrite=overwrite)
    write_result(result, fmt, output, overwrite, covered, served, people)


def one_threshold_only(inputs: options.InputOptions, demand: DemandOptions,
                       capacity: CapacityOptions, *, week: bool) -> bool:
    """Whether several thresholds are given; refused (one line naming the flag) with what
    decides at one threshold only: demand points, capacity, the week."""
    given = [(flag, value) for flag, value in (("--radius-km", inputs.radius_km),
                                               ("--travel-minutes", inputs.travel_minutes))
             if value is not None and len(value) > 1]
    if not given:
        return False
    flag, value = given[0]
    listed = ",".join(f"{v:g}" for v in value)
    for other, used in (("--demand", demand.demand), ("--capacity-col", capacity.capacity_col),
                        ("--week", week)):
        if used:
            raise click.UsageError(f"{flag} {listed}: {other} decides at one threshold; give "
                                   f"one {flag} with {other}")
    return True
