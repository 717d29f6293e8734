"""``reachplan gaps``: where are the gaps?"""

from __future__ import annotations

import click

from reachplan.cli import options
from reachplan.cli._capacity_options import (
    CapacityOptions,
    assess_inputs,
    capacity_options,
    run_capacity,
    write_centres,
)
from reachplan.cli._demand_options import DemandOptions, demand_point_options
from reachplan.cli._report import gap_table, render_gaps
from reachplan.cli.errors import flags_for, handle_errors
from reachplan.cli.output import emit_report


@click.command(short_help="Where are the gaps? Ranked list of uncovered districts.")
@options.input_options
@click.option("-o", "--output", default=None,
              help="Output file: .csv, .geojson, .gpkg or .xlsx; '-' writes CSV to stdout "
                   "[default: a table on stdout].")
@options.overwrite_opt
@demand_point_options
@capacity_options
@handle_errors
@options.pass_groups(inputs=options.InputOptions, demand=DemandOptions, capacity=CapacityOptions)
def gaps(inputs: options.InputOptions, output: str | None, overwrite: bool,
         demand: DemandOptions, capacity: CapacityOptions) -> None:
    """List the uncovered districts, ranked by weight (descending) then by distance to the
    nearest centre (farthest first), with that centre and its distance.

    With --capacity-col (and demand: --demand points or --demand-rate), the covered
    districts over capacity follow, ranked by their demand within reach left unserved.

    Text cells that a spreadsheet would run as a formula (starting with = + - @) are
    prefixed with ' in CSV and XLSX.

    \b
    Examples:
      reachplan gaps @india @india-sample
      reachplan gaps @india @india-sample -o gaps.xlsx
      reachplan gaps districts.gpkg centres.csv --weight-col pop -o gaps.gpkg
      reachplan gaps districts.gpkg centres.csv --radius-km 25 -o - | head
      reachplan gaps districts.gpkg centres.csv --weight-col pop --demand-rate 0.002 \\
          --capacity-col cap -o gaps.csv
    """
    from reachplan.io import write_table

    run = assess_inputs(inputs)
    districts, centers, rule, result = run.districts, run.centers, run.rule, run.result
    if capacity.capacity_col is None:
        for flag, value in (("--demand", demand.demand),
                            ("--demand-weight-col", demand.demand_weight_col)):
            if value:
                raise click.UsageError(f"{flag} needs --capacity-col COL in gaps "
                                       "(over-capacity districts)")
    served = run_capacity(capacity, demand, centers, districts, rule,
                          type_col=inputs.type_col, weight_col=inputs.weight_col,
                          population=inputs.population)
    table = gap_table(result, served)
    if served is not None and capacity.capacity_output:
        write_centres(served, capacity.capacity_output, overwrite=overwrite)
    if output is None:
        emit_report(render_gaps(table), None, False)
    else:
        with flags_for(path="output"):
            write_table(table, output, overwrite=overwrite)
