"""``covplan check``: guard coverage numbers in CI."""

from __future__ import annotations

import click

from covplan.cli.options import (
    emit_json,
    handle_errors,
    input_options,
    load_inputs,
    log_warnings,
    split_inputs,
)


def _percent_opt(value: float | None, name: str) -> None:
    if value is not None and not 0 <= value <= 100:
        raise click.BadParameter(f"{value:g} is not a percentage from 0 to 100",
                                 param_hint=name)


@click.command(short_help="Exit 1 when coverage falls below a threshold (for CI).")
@input_options
@click.option("--min-percent", type=float, required=True,
              help="Least % of districts that must be covered.")
@click.option("--min-weight-percent", type=float, default=None,
              help="Least % of weight that must be covered (needs --weight-col).")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True, help="Summary on stdout as text or the coverage JSON.")
@handle_errors
@click.pass_context
def check(ctx: click.Context, **kwargs) -> None:
    """Decide coverage and compare it with thresholds: exit 0 when met, 1 when not,
    2 on bad input. The summary goes to stdout; the verdict to stderr.

    \b
    Examples:
      covplan check @india @india-sample --min-percent 90
      covplan check districts.gpkg centres.csv --min-percent 95 \\
          --weight-col pop --min-weight-percent 98 --format json
    """
    from covplan.cli.coverage import render_table
    from covplan.engine import assess

    opts, own = split_inputs(kwargs)
    _percent_opt(own["min_percent"], "--min-percent")
    _percent_opt(own["min_weight_percent"], "--min-weight-percent")
    if own["min_weight_percent"] is not None and not opts.get("weight_col") \
            and not opts["boundaries"].startswith("@"):
        raise click.BadParameter("needs --weight-col to know what weight means",
                                 param_hint="--min-weight-percent")
    districts, centers, rule = load_inputs(opts)
    result = assess(districts, centers, rule, type_col=opts.get("type_col"))
    log_warnings(result.warnings)
    if own["fmt"] == "json":
        emit_json(result.to_dict(), None, False)
    else:
        click.echo(render_table(result), nl=False)

    s = result.summary
    failures = []
    if s["percent"] < own["min_percent"]:
        failures.append(f"{s['percent']:.2f}% of districts covered, below "
                        f"--min-percent {own['min_percent']:g}")
    if own["min_weight_percent"] is not None:
        if s["weight_percent"] is None:
            raise click.BadParameter("the boundaries carry no weight",
                                     param_hint="--min-weight-percent")
        if s["weight_percent"] < own["min_weight_percent"]:
            failures.append(f"{s['weight_percent']:.2f}% of weight covered, below "
                            f"--min-weight-percent {own['min_weight_percent']:g}")
    if failures:
        click.echo("covplan check: FAIL: " + "; ".join(failures), err=True)
        ctx.exit(1)
    click.echo("covplan check: OK", err=True)
