"""``covplan gaps``: where are the gaps?"""

from __future__ import annotations

import click

from covplan.cli.options import (
    emit_text,
    handle_errors,
    input_options,
    load_inputs,
    log_warnings,
    overwrite_opt,
    split_inputs,
)


def gap_table(result):
    """Uncovered districts, ranked: weight descending, then nearest centre farthest first."""
    gaps = result.gaps()
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
@handle_errors
def gaps(**kwargs) -> None:
    """List the uncovered districts, ranked by weight (descending) then by distance to the
    nearest centre (farthest first), with that centre and its distance.

    Text cells that a spreadsheet would run as a formula (starting with = + - @) are
    prefixed with ' in CSV and XLSX.

    \b
    Examples:
      covplan gaps @india @india-sample
      covplan gaps @india @india-sample -o gaps.xlsx
      covplan gaps districts.gpkg centres.csv --weight-col pop -o gaps.gpkg
      covplan gaps districts.gpkg centres.csv --radius-km 25 -o - | head
    """
    from covplan.engine import assess
    from covplan.io import write_table

    opts, own = split_inputs(kwargs)
    districts, centers, rule = load_inputs(opts)
    result = assess(districts, centers, rule, type_col=opts.get("type_col"))
    log_warnings(result.warnings)
    table = gap_table(result)
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
