"""``covplan coverage``: how covered are we?"""

from __future__ import annotations

import click

from covplan.cli._capacity_options import (
    capacity_options,
    district_columns,
    run_capacity,
    split_capacity,
    write_centres,
)
from covplan.cli._demand_options import (
    add_demand_columns,
    demand_options,
    run_demand,
    split_demand,
)
from covplan.cli._report import render_table, result_dict
from covplan.cli.options import (
    emit_json,
    emit_text,
    handle_errors,
    input_options,
    load_inputs,
    log_warnings,
    overwrite_opt,
    split_inputs,
)

FORMATS = ("table", "json", "csv")


def format_for(fmt: str | None, output: str | None) -> str:
    """The --format given, else the output's extension, else ``table``."""
    if fmt:
        return fmt
    if output and output != "-":
        suffix = output.rsplit(".", 1)[-1].lower()
        if suffix in ("json", "csv"):
            return suffix
    return "table"


def write_result(result, fmt: str, output: str | None, overwrite: bool, demand=None,
                 capacity=None) -> None:
    """Write a coverage result as a table, JSON or per-district CSV."""
    if fmt == "json":
        emit_json(result_dict(result, demand, capacity), output, overwrite)
    elif fmt == "csv":
        from covplan.engine import district_table
        from covplan.io import write_table

        table = district_table(result)
        if capacity is not None:
            table = district_columns(table, capacity)
        write_table(table, output or "-", overwrite=overwrite)
    else:
        emit_text(render_table(result, demand, capacity), output, overwrite)


@click.command(short_help="How covered are we? % of districts (and weight) covered.")
@input_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="table (for people), json (the documented contract) or csv (one row per "
                   "district) [default: table, or the -o extension].")
@click.option("-o", "--output", default=None, help="Write here instead of stdout.")
@overwrite_opt
@demand_options
@capacity_options
@handle_errors
def coverage(**kwargs) -> None:
    """Decide which districts are covered and report % of districts (and of weight),
    by group and by centre type.

    BOUNDARIES is a polygon layer (GeoJSON, GeoPackage, Shapefile, FlatGeobuf, GeoParquet);
    CENTERS a CSV/XLSX with latitude and longitude columns, or a point layer.

    \b
    Examples:
      covplan coverage @india @india-sample --type-col type
      covplan coverage districts.gpkg centres.csv --group-col state --weight-col pop
      covplan coverage districts.geojson centres.csv --radius-km 25 --format json | jq .summary
      covplan coverage @india @india-sample --radius-km 25 --demand @india-pincodes
      covplan coverage districts.gpkg centres.csv --radius-km 30 --capacity-col cap \\
          --demand offices.csv --demand-weight-col requests --format json
      covplan coverage districts.gpkg centres.csv --weight-col pop --demand-rate 0.002 \\
          --capacity-col cap --type-col type
    """
    from covplan.engine import assess

    opts, own = split_inputs(kwargs)
    demand_opts = split_demand(own)
    capacity_opts = split_capacity(own)
    districts, centers, rule = load_inputs(opts)
    result = assess(districts, centers, rule, type_col=opts.get("type_col"))
    log_warnings(result.warnings)
    # capacity first: its input errors must stop the command before any file is written
    capacity = run_capacity(capacity_opts, demand_opts, centers, districts, rule,
                            type_col=opts.get("type_col"), weight_col=opts.get("weight_col"))
    demand = run_demand(demand_opts, centers, districts, rule, overwrite=own["overwrite"])
    add_demand_columns(result, demand)
    if capacity is not None and capacity_opts.get("capacity_output"):
        write_centres(capacity, capacity_opts["capacity_output"], overwrite=own["overwrite"])
    write_result(result, format_for(own["fmt"], own["output"]), own["output"], own["overwrite"],
                 demand, capacity)
