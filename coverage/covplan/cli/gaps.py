"""``covplan gaps``: where are the gaps?"""

from __future__ import annotations

import click

from covplan.cli._capacity_options import (
    capacity_options,
    district_columns,
    run_capacity,
    split_capacity,
    write_centres,
)
from covplan.cli._demand_options import demand_point_options, split_demand
from covplan.cli.options import (
    emit_text,
    handle_errors,
    input_options,
    load_inputs,
    log_warnings,
    overwrite_opt,
    split_inputs,
)


def gap_table(result, capacity=None):
    """Uncovered districts, ranked: weight descending, then nearest centre farthest first.

    With a capacity allocation, then the covered districts over capacity (demand within
    reach left unserved), ranked by that unserved demand (descending, then id); a ``gap``
    column says which kind each row is, and the ``capacity_*`` columns give the figures.
    """
    import pandas as pd

    gaps = result.gaps()
    if capacity is not None:
        over = result.districts[result.districts["covered"]]
        over = district_columns(over, capacity)
        over = over[over["capacity_unserved_in_reach"] > 0]
        over = over.sort_values(["capacity_unserved_in_reach", "id"], ascending=[False, True],
                                kind="stable")
        gaps = district_columns(gaps, capacity)
        gaps.insert(0, "gap", "uncovered")
        over.insert(0, "gap", "over capacity")
        gaps = pd.concat([gaps, over], ignore_index=True)
    gaps.insert(0, "rank", range(1, len(gaps) + 1))
    gaps["nearest_km"] = gaps["nearest_km"].round(3)
    if not result.weighted:
        gaps = gaps.drop(columns="weight")
    return gaps.drop(columns="covered")


@click.command(short_help="Where are the gaps? Ranked list of uncovered districts.")
@input_options
@click.option("-o", "--output", default=None,
              help="Output file: .csv, .geojson, .gpkg or .xlsx; '-' writes CSV to stdout "
                   "[default: a table on stdout].")
@overwrite_opt
@demand_point_options
@capacity_options
@handle_errors
def gaps(**kwargs) -> None:
    """List the uncovered districts, ranked by weight (descending) then by distance to the
    nearest centre (farthest first), with that centre and its distance.

    With --capacity-col (and demand: --demand points or --demand-rate), the covered
    districts over capacity follow, ranked by their demand within reach left unserved.

    Text cells that a spreadsheet would run as a formula (starting with = + - @) are
    prefixed with ' in CSV and XLSX.

    \b
    Examples:
      covplan gaps @india @india-sample
      covplan gaps @india @india-sample -o gaps.xlsx
      covplan gaps districts.gpkg centres.csv --weight-col pop -o gaps.gpkg
      covplan gaps districts.gpkg centres.csv --radius-km 25 -o - | head
      covplan gaps districts.gpkg centres.csv --weight-col pop --demand-rate 0.002 \\
          --capacity-col cap -o gaps.csv
    """
    from covplan.engine import assess
    from covplan.io import write_table

    opts, own = split_inputs(kwargs)
    demand_opts = split_demand(own)
    capacity_opts = split_capacity(own)
    districts, centers, rule = load_inputs(opts)
    result = assess(districts, centers, rule, type_col=opts.get("type_col"))
    log_warnings(result.warnings)
    if capacity_opts.get("capacity_col") is None:
        for key in ("demand", "demand_weight_col"):
            if demand_opts.get(key):
                raise click.UsageError(f"--{key.replace('_', '-')} needs --capacity-col COL "
                                       "in gaps (over-capacity districts)")
    capacity = run_capacity(capacity_opts, demand_opts, centers, districts, rule,
                            type_col=opts.get("type_col"), weight_col=opts.get("weight_col"))
    table = gap_table(result, capacity)
    if capacity is not None and capacity_opts.get("capacity_output"):
        write_centres(capacity, capacity_opts["capacity_output"], overwrite=own["overwrite"])
    if own["output"] is None:
        emit_text(render_gaps(table), None, False)
    else:
        write_table(table, own["output"], overwrite=own["overwrite"])


def render_gaps(table) -> str:
    """The ranked gap list as an aligned text table for people."""
    from covplan.cli._report import num
    from covplan.cli._report import table as text_table

    if len(table) == 0:
        return "No gaps: every district is covered.\n"
    table = table.drop(columns=[c for c in ("geometry",) if c in table.columns])
    header = [str(c) for c in table.columns]
    rows = [["-" if _missing(v) else (num(v) if c == "weight" else
                                     f"{v:.3f}" if c == "nearest_km" else str(v))
             for c, v in zip(header, row, strict=True)]
            for row in table.itertuples(index=False)]
    return "\n".join(text_table(rows, header)) + "\n"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)
