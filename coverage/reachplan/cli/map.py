"""``reachplan map``: the interactive coverage map (and optionally a PNG of it)."""

from __future__ import annotations

from typing import Any

import click

from reachplan.cli._capacity_options import (
    CapacityOptions,
    candidate_capacity_opt,
    capacity_col_opt,
    demand_rate_opt,
)
from reachplan.cli._demand_options import DemandOptions, demand_point_options
from reachplan.cli._maps import check_map_outputs, png_options, run_map
from reachplan.cli.errors import handle_errors
from reachplan.cli.inputs import load_inputs
from reachplan.cli.options import (
    CentreOptions,
    FiniteFloat,
    InputOptions,
    input_options,
    overwrite_opt,
    pass_groups,
    what_if_candidates_opt,
    what_if_opt,
)
from reachplan.cli.output import info, log_warnings


def _isochrone_minutes(ctx: click.Context, param: click.Parameter, value: str | None
                       ) -> list[float] | None:
    from reachplan.cli.options import parse_minutes

    return parse_minutes(value, "--isochrones")


@click.command("map", short_help="Write an interactive coverage map (HTML).")
@input_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="HTML file to write, e.g. maps/coverage.html; - writes it to stdout.")
@click.option("--title", default=None, help="Title shown on the map and as the page title.")
@click.option("--color-by", type=click.Choice(["status", "centers", "per-weight", "served"]),
              default=None,
              help="Colour districts by coverage status, by centres inside (classed), by "
                   "centres per 100,000 of --weight-col (classed), or by % of demand served "
                   "within capacities (--capacity-col) [default: served with --capacity-col, "
                   "else status].")
@click.option("--show-radius", is_flag=True,
              help="Draw a ring of --radius-km around every centre.")
@click.option("--offline", is_flag=True,
              help="One self-contained file that opens with no network: Leaflet inlined, "
                   "no base map unless --tiles names a local tile URL.")
@click.option("--assets", type=click.Path(exists=True, file_okay=False), default=None,
              help="With --offline: folder holding leaflet.js, leaflet.css, "
                   "leaflet.markercluster.js, MarkerCluster.css, MarkerCluster.Default.css "
                   "[default: from the installed xstatic packages].")
@click.option("--tiles", default=None, metavar="URL",
              help="Base map tile URL template, e.g. http://localhost:8080/{z}/{x}/{y}.png "
                   "[default: OpenStreetMap; none with --offline].")
@click.option("--simplify-m", type=FiniteFloat(min=0), default=None, metavar="M",
              help="Simplify district outlines to this tolerance in metres, keeping "
                   "neighbours' shared edges [default: 1% of the median district's size, "
                   "at most 1000; 0 keeps every vertex].")
@click.option("--isochrones", "isochrones", default=None, metavar="T1,T2,...",
              callback=_isochrone_minutes,
              help="With --roads: draw each centre's service area within these minutes by "
                   "road (one layer per band), e.g. 15,30.")
@click.option("--week", is_flag=True,
              help="With --hours-col: an hour slider (Mo 00:00 to Su 23:00) colouring each "
                   "district covered or gap in that hour, first at the worst hour.")
@click.option("--png", default=None, type=click.Path(dir_okay=False),
              help="Also write a static PNG picture of the map (for slides).")
@png_options
@what_if_opt
@what_if_candidates_opt
@candidate_capacity_opt
@capacity_col_opt
@demand_rate_opt
@demand_point_options
@overwrite_opt
@handle_errors
@pass_groups(inputs=InputOptions, capacity=CapacityOptions, demand=DemandOptions)
def map_cmd(inputs: InputOptions, output: str, title: str | None, color_by: str | None,
            show_radius: bool, offline: bool, assets: str | None, tiles: str | None,
            simplify_m: float | None, isochrones: list[float] | None, week: bool,
            png: str | None,
            png_size: tuple[int, int] | None, png_dpi: int, what_if: bool,
            candidates: str | None, candidate_capacity: str | None, capacity: CapacityOptions,
            demand: DemandOptions, overwrite: bool) -> None:
    """Write an interactive coverage map: districts coloured by coverage, group outlines,
    gaps highlighted, clustered centres with popups, a legend and summary, a district search
    box, hover tooltips and full screen. Every value from the input files is HTML-escaped.

    The India default map is about 1.3 MB; --offline adds about 0.2 MB of inlined Leaflet.

    \b
    Examples:
      reachplan map @india @india-sample -o maps/coverage.html
      reachplan map districts.gpkg centres.csv --radius-km 25 --show-radius -o map.html
      reachplan map districts.gpkg centres.csv --weight-col pop --color-by per-weight \\
          --offline --png map.png --png-size 1600x1200 --png-dpi 150 -o map.html
      reachplan map @india @india-sample --offline -o - > coverage.html
      reachplan map districts.gpkg centres.csv --roads city.osm.pbf --travel-minutes 30 \\
          --isochrones 15,30 -o map.html
      reachplan map districts.gpkg centres.csv --weight-col pop --demand-rate 0.002 \\
          --capacity-col cap -o capacity.html
      reachplan map @india @india-sample --radius-km 30 --what-if --offline \\
          --demand @india-pincodes -o what-if.html
      reachplan map districts.gpkg centres.csv --radius-km 30 --what-if --capacity-col cap \\
          --demand offices.csv --candidates sites.csv --candidate-capacity 500 -o w.html

    With --capacity-col (and demand: --demand points or --demand-rate), districts are
    coloured by the % of their demand served within capacities and centres by how much of
    their capacity is used (load, capacity and utilisation in their popups).
    """
    from reachplan.engine import assess
    from reachplan.rules import cost_of

    if what_if:
        _what_if(inputs, demand, candidates=candidates, output=output, title=title,
                 offline=offline, assets=assets, tiles=tiles, simplify_m=simplify_m,
                 overwrite=overwrite, others={"--color-by": color_by, "--png": png,
                                              "--show-radius": show_radius,
                                              "--isochrones": isochrones, "--week": week},
                 capacity=capacity, candidate_capacity=candidate_capacity)
        return
    if candidates is not None:
        raise click.UsageError("--candidates needs --what-if (the planner's candidate sites)")
    if candidate_capacity is not None:
        raise click.UsageError("--candidate-capacity needs --what-if and --capacity-col: the "
                               "capacity of the planner's candidate sites")
    check_map_outputs(output, png)
    if isochrones is not None and inputs.roads is None:
        raise click.UsageError("--isochrones needs --roads FILE and --travel-minutes T: the "
                               "service areas are travel times by road")
    districts, centers, rule = load_inputs(inputs, thresholds=True)
    if cost_of(rule).several:
        for flag, used in (("--capacity-col", capacity.capacity_col), ("--demand", demand.demand),
                           ("--week", week)):
            if used:
                raise click.UsageError(f"{flag} decides at one threshold; give one "
                                       f"--radius-km or --travel-minutes with {flag}")
    result = assess(districts, centers, rule, type_col=inputs.type_col)
    log_warnings(result.warnings)
    type_col = inputs.type_col
    color_by = color_by or ("served" if capacity.capacity_col else "status")
    if capacity.capacity_col or demand.demand:
        result = _with_capacity(result, capacity, demand, rule, inputs.weight_col)
        type_col = "utilisation"
    areas = None if isochrones is None else rule.isochrones(centers, isochrones)
    profile = _week(inputs, districts, centers, rule) if week else None
    written = run_map(result, output, png=png, png_size=png_size, png_dpi=png_dpi,
                      overwrite=overwrite, title=title, color_by=color_by,
                      show_radius=show_radius, offline=offline, assets=assets, tiles=tiles,
                      simplify_m=simplify_m, type_col=type_col, isochrones=areas,
                      week=profile)
    info("wrote " + ", ".join(str(p) for p in written))


def _what_if(inputs: InputOptions, demand: DemandOptions, *, others: dict[str, Any],
             **page: Any) -> None:
    from reachplan.cli._what_if import run_what_if

    for flag, value in others.items():
        if value:
            raise click.UsageError(f"--what-if draws its own page: leave out {flag}")
    run_what_if(inputs, demand, **page)


def _week(opts: CentreOptions, districts: Any, centers: Any, rule: Any) -> Any:
    """The week profile the hour slider shows (the centres' hours, --week-of's week)."""
    from reachplan import hours
    from reachplan.cli.inputs import site_hours as _site_hours
    from reachplan.cli.inputs import week_of

    if not opts.hours_col:
        raise click.UsageError("--week needs --hours-col COL (the centres' opening hours)")
    if opts.at:
        raise click.UsageError("give --week or --at WHEN, not both")
    site_hours = _site_hours(centers, opts)
    return hours.week_profile(districts, centers, rule, site_hours, week_of=week_of(opts))


#: Centre utilisation classes on the map (lower bound in %, label), in this order.
UTILISATION = ((0.0, "under 50% used"), (50.0, "50% to under 90% used"),
               (90.0, "90% to under 100% used"), (100.0, "full"))


def _with_capacity(result: Any, cap_opts: CapacityOptions, demand_opts: DemandOptions, rule,
                   weight_col: str | None) -> Any:
    """The result with the capacity figures the map shows: districts gain capacity_* columns
    (``capacity_served_pct`` colours them), centres capacity, load, utilisation % and a
    utilisation class (their colour)."""
    import dataclasses

    import numpy as np
    import pandas as pd

    from reachplan.cli._capacity_options import district_columns, run_capacity

    if not cap_opts.capacity_col:
        raise click.UsageError("--demand needs --capacity-col COL in map")
    run = run_capacity(cap_opts, demand_opts, result.centers, result.districts, rule,
                       weight_col=weight_col)
    assert run is not None  # --capacity-col was given
    districts = district_columns(result.districts, run)
    no_demand = districts["capacity_demand"] <= 0
    districts.loc[no_demand, "capacity_served_pct"] = np.nan
    centres = result.centers.copy()
    util = run.centres["utilisation_pct"].to_numpy(dtype=float)
    for column in ("capacity", "load", "utilisation_pct"):
        centres[column] = run.centres[column].to_numpy()
    labels = [None if np.isnan(u) else [lab for low, lab in UTILISATION if u >= low - 1e-9][-1]
              for u in util]
    centres["utilisation"] = pd.Categorical(labels, categories=[lab for _, lab in UTILISATION])
    return dataclasses.replace(result, districts=districts, centers=centres)
