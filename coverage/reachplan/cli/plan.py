"""``reachplan plan``: where do we open next, and what does each new centre buy?"""

from __future__ import annotations

import time
from typing import Any, Literal

import click

from reachplan._words import plural
from reachplan.cli import options
from reachplan.cli._capacity_options import CapacityOptions, capacity_col_opt, demand_rate_opt
from reachplan.cli._demand_options import DemandOptions, demand_point_options
from reachplan.cli._report import render_plan, report_format
from reachplan.cli.errors import CANDIDATE_FLAGS, ReachplanUsageError, flags_for, handle_errors
from reachplan.cli.inputs import load_inputs, name_as_given, resolve_dataset
from reachplan.cli.output import Progress, echo, emit_json, emit_report, log_warnings


class _PlanProgress:
    """Solver events on the CLI's one progress display: a bar while the greedy phase knows
    how many sites it opens, a status line (best, bound, gap) while the exact solver runs."""

    def __init__(self) -> None:
        self.display = Progress("reachplan: plan")
        self.last = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        if not self.display.enabled or event["elapsed_s"] < 1.0:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        if event["phase"] in ("greedy", "matrix") and event["total"]:
            self.display(event["done"], event["total"])
            return
        if event["phase"] == "greedy":
            text = f"greedy: {plural(event['done'], 'site')}"
        else:
            gap = event["gap"]
            text = (f"exact: best {event['objective']:,.6g}, bound {event['bound']:,.6g}, "
                    f"gap {100 * gap:.2f}%" if gap is not None and gap < 1e300
                    else "exact: searching")
        self.display.note(f"{text} ({event['elapsed_s']:.0f} s; Ctrl-C keeps the best plan "
                          "so far)")

    def close(self) -> None:
        self.display.close()


@click.command(short_help="Where do we open next? New sites ranked by what they add.")
@options.input_options
@click.option("--add", "add", type=int, default=None, metavar="K",
              help="Open K new sites that cover the most (districts, or weight with "
                   "--weight-col).")
@click.option("--target", "target", type=options.FiniteFloat(), default=None, metavar="P",
              help="Open the fewest sites that bring coverage to P percent.")
@click.option("--candidates", default=None, metavar="FILE",
              help="Candidate sites (CSV/XLSX with lat/lon, or a point layer) "
                   "[default: one point inside each uncovered district].")
@click.option("--candidate-capacity", default=None, metavar="N|COL",
              help="With --capacity-col: the capacity of a new site, one number or a column "
                   "of --candidates.")
@capacity_col_opt
@demand_rate_opt
@demand_point_options
@click.option("--candidate-name-col", default=None,
              help="Name column of --candidates [default: name/...].")
@click.option("--candidate-lat-col", default=None,
              help="Latitude column of a --candidates table [default: lat/latitude/...].")
@click.option("--candidate-lon-col", default=None,
              help="Longitude column of a --candidates table [default: lon/longitude/...].")
@click.option("--exclude", multiple=True, metavar="ID|NAME",
              help="Leave out candidates inside this district (by id) or with this site name. "
                   "Repeatable.")
@click.option("--method", type=click.Choice(["auto", "greedy", "exact"]), default="auto",
              show_default=True,
              help="greedy (fast, readable, no proof), exact (HiGHS MILP), auto (exact, or the "
                   "best plan found within --time-limit, labelled with its gap).")
@click.option("--objective", type=click.Choice(["auto", "districts", "weight"]), default="auto",
              show_default=True,
              help="What to maximise (and what --target counts): districts (the headline % of "
                   "districts; --weight-col then breaks ties) or weight; auto = districts.")
@click.option("--time-limit", type=options.FiniteFloat(), default=60.0, show_default=True,
              metavar="S",
              help="Seconds for the exact solver.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default=None,
              help="Report on stdout: table (for people) or json (the documented contract) "
                   "[default: table, or json when -o ends in .json].")
@click.option("-o", "--output", default=None,
              help="Write the sites to .csv, .geojson, .gpkg or .xlsx (one row per site), or "
                   "the JSON report to .json; - is the report on stdout.")
@click.option("--map", "map_path", default=None, metavar="HTML",
              help="Write a map with the proposed sites, newly covered districts and a "
                   "before/after toggle, e.g. maps/plan.html.")
@options.what_if_html_opt
@click.option("--offline", is_flag=True,
              help="With --map or --html: a self-contained page that opens with no network "
                   "(Leaflet inlined, no base map).")
@click.option("--extend-hours", default=None, metavar="HOURS",
              help="With --hours-col: plan which sites' hours to extend to HOURS (OSM "
                   "opening_hours, e.g. 'Mo-Su 08:00-22:00') instead of new sites; with "
                   "--target-worst-hour P and/or --add K (at most K sites).")
@click.option("--target-worst-hour", type=options.FiniteFloat(), default=None, metavar="P",
              help="With --extend-hours: the fewest extensions that cover P percent of "
                   "districts in every hour of the week.")
@options.overwrite_opt
@handle_errors
@options.pass_groups(inputs=options.InputOptions, capacity=CapacityOptions,
                     demand_opts=DemandOptions)
def plan(inputs: options.InputOptions, add: int | None, target: float | None,
         candidates: str | None, candidate_capacity: str | None, capacity: CapacityOptions,
         demand_opts: DemandOptions, candidate_name_col: str | None,
         candidate_lat_col: str | None, candidate_lon_col: str | None, exclude: tuple[str, ...],
         method: Literal["auto", "greedy", "exact"],
         objective: Literal["auto", "districts", "weight"], time_limit: float,
         fmt: str | None, output: str | None, map_path: str | None, html_path: str | None,
         offline: bool, extend_hours: str | None, target_worst_hour: float | None,
         overwrite: bool) -> None:
    """Choose where to open new sites on top of the existing CENTERS, under the same rule as
    `reachplan coverage` (a centre inside, within --radius-km geodesic, or within
    --travel-minutes by road: then each candidate is one road search bounded at T, with a
    progress line on a terminal).

    Give --add K (the K sites that cover most) or --target P (the fewest sites that reach P%;
    if P cannot be reached the best reachable figure is reported). Sites are listed in rank
    order, each with the districts (and weight) it newly covers. Ctrl-C during a long solve
    keeps the best plan found so far, labelled as such.

    \b
    Examples:
      reachplan plan @india @india-sample --add 10
      reachplan plan @india @india-post-ho --radius-km 30 --candidates pins.csv --add 25
      reachplan plan districts.gpkg centres.csv --weight-col pop --target 95 --format json
      reachplan plan districts.gpkg centres.csv --add 5 -o plan.csv --map maps/plan.html
      reachplan plan districts.gpkg centres.csv --radius-km 30 --capacity-col cap \\
          --demand offices.csv --candidates sites.csv --candidate-capacity 500 --add 25

    With --capacity-col (and demand: --demand points or district --weight-col x
    --demand-rate), new sites are chosen to serve the most demand within capacities
    (capacitated maximal covering, HiGHS, warm-started from a greedy; --target P is then
    P% of demand served); the report gives demand served before and after, the gap, and
    each new site's load.
    """
    from reachplan.planning import PlanRequest

    if extend_hours is not None:
        from reachplan.cli._extend_hours import run_extend

        run_extend(inputs, extend_hours, target_worst_hour=target_worst_hour, target=target,
                   add=add, method=method, candidates=candidates,
                   capacity_col=capacity.capacity_col, map_path=map_path, output=output,
                   fmt=fmt, overwrite=overwrite)
        return
    if target_worst_hour is not None:
        raise ReachplanUsageError("--target-worst-hour needs --extend-hours HOURS")
    if capacity.capacity_col is None:
        for flag, value in (("--candidate-capacity", candidate_capacity),
                            ("--demand-rate", capacity.demand_rate),
                            ("--demand", demand_opts.demand)):
            if value is not None:
                raise ReachplanUsageError(f"{flag} needs --capacity-col COL")
    elif map_path is not None:
        raise ReachplanUsageError("--map is not available with --capacity-col yet (--html "
                                  "is: the what-if page re-allocates capacity)")
    # validated before any file is read; the library names parameters, handle_errors flags
    request = PlanRequest(add=add, target=target, method=method,
                          time_limit=time_limit, objective=objective)
    from reachplan.io import STDOUT, TABLE_OUTPUTS, output_suffix

    suffix = output_suffix(output, (*TABLE_OUTPUTS, ".json", STDOUT), "output") if output \
        else None
    site_file = suffix in TABLE_OUTPUTS
    # a site file leaves --format to the report on stdout; a .json output is the JSON report
    fmt = (fmt or "table") if site_file else report_format(fmt, output, {".json": "json"})
    if map_path is not None:
        output_suffix(map_path, (".html", ".htm"), "map_path")
    if html_path is not None:
        output_suffix(html_path, (".html", ".htm"), "html_path")
    if offline and map_path is None and html_path is None:
        raise click.UsageError("--offline is for the pages: give --map HTML or --html HTML "
                               "too")

    from reachplan.io import read_points
    from reachplan.planning import run_plan

    districts, centers, rule = load_inputs(inputs)
    sites = None
    if candidates is not None:
        path, columns = resolve_dataset(candidates, "candidates")
        with flags_for(**CANDIDATE_FLAGS):
            sites = read_points(path, name_col=candidate_name_col
                                     or columns.get("name_col"),
                                     lat_col=candidate_lat_col,
                                     lon_col=candidate_lon_col, what="candidate sites")
        name_as_given(sites, candidates)
        log_warnings(list(sites.attrs.get("warnings", [])))
    if capacity.capacity_col is not None:
        planned = _capacity_plan(capacity, demand_opts, centers, sites, districts, rule,
                                 candidate_capacity=candidate_capacity, add=add,
                                 target=target, exclude=exclude, time_limit=time_limit,
                                 weight_col=inputs.weight_col, output=output,
                                 overwrite=overwrite, site_file=site_file, fmt=fmt)
        if html_path is not None:
            _what_if_page(inputs, demand_opts, html_path, offline=offline,
                          overwrite=overwrite, loaded=(districts, centers, rule),
                          candidates=sites, planned=_as_candidates(planned, candidate_capacity),
                          capacity=capacity, candidate_capacity=candidate_capacity)
        return
    progress = _PlanProgress()
    try:
        run = run_plan(districts, centers, rule, add=request.add, target=request.target,
                       candidates=sites, exclude=exclude, method=request.method,
                       time_limit=request.time_limit, objective=request.objective,
                       progress=progress)
    finally:
        progress.close()
    report = run.report
    log_warnings(report["warnings"])
    if report["status"] == "interrupted":
        echo("reachplan: warning: interrupted; this is the best plan found so far",
                     err=True)

    if site_file and output:  # a site file is the output
        from reachplan.io import write_table

        with flags_for(path="output"):
            write_table(run.sites, output, overwrite=overwrite)
    if fmt == "json":
        emit_json(report, None if site_file else output, overwrite)
    else:
        text = render_plan(report, weight_col=run.before.inputs.get("weight_col")
                           or inputs.weight_col)
        emit_report(text, None if site_file else output, overwrite)
    if map_path is not None:
        from reachplan.maps import coverage_map, write_map

        n = len(report["sites"])
        m = coverage_map(run.after, sites=run.sites, before=run.before, offline=offline,
                         title=f"Plan: {n} new site{'s' if n != 1 else ''}")
        write_map(m, map_path, overwrite=overwrite)
    if html_path is not None:
        _what_if_page(inputs, demand_opts, html_path, offline=offline, overwrite=overwrite,
                      loaded=(districts, centers, rule), candidates=sites, planned=run.sites)


def _what_if_page(inputs, demand_opts: DemandOptions, html_path: str, *, offline: bool,
                  overwrite: bool, loaded, candidates, planned, capacity=None,
                  candidate_capacity: str | None = None) -> None:
    """--html: the what-if page with the planned sites open, the other candidates closed."""
    from reachplan.cli._what_if import run_what_if

    n = len(planned)
    run_what_if(inputs, demand_opts, candidates=None, output=html_path,
                title=f"What if: a plan of {n} new site{'s' if n != 1 else ''}",
                offline=offline, assets=None, tiles=None, simplify_m=None,
                overwrite=overwrite, loaded=loaded, candidate_frame=candidates,
                sites=planned, capacity=capacity, candidate_capacity=candidate_capacity)


def _as_candidates(planned, candidate_capacity: str | None):
    """The capacitated plan's sites with their capacity under the candidates' column (when
    --candidate-capacity names one), as the page reads the candidates' capacity."""
    try:
        float(str(candidate_capacity))
    except ValueError:
        return planned.rename(columns={"capacity": candidate_capacity})
    return planned


def _capacity_plan(capacity: CapacityOptions, demand_opts: DemandOptions, centers, candidates,
                   districts, rule, *, candidate_capacity: str | None, add: int | None,
                   target: float | None, exclude: tuple[str, ...], time_limit: float,
                   weight_col: str | None, output: str | None, overwrite: bool,
                   site_file: bool, fmt: str) -> Any:
    """plan --capacity-col: the capacitated expansion, reported and written; its sites."""
    from reachplan.cli._capacity_plan import render_capacity_plan, run_capacity_plan

    progress = _PlanProgress()
    try:
        report, sites = run_capacity_plan(
            capacity, demand_opts, centers, candidates, districts, rule,
            candidate_capacity=candidate_capacity, add=add, target=target, exclude=exclude,
            time_limit=time_limit, weight_col=weight_col,
            progress=lambda event: progress({"phase": "exact", **event}))
    finally:
        progress.close()
    if report["status"] == "interrupted":
        echo("reachplan: warning: interrupted; this is the best plan found so far",
                     err=True)
    if site_file and output:  # a site file is the output
        from reachplan.io import write_table

        with flags_for(path="output"):
            write_table(sites, output, overwrite=overwrite)
    if fmt == "json":
        emit_json(report, None if site_file else output, overwrite)
    else:
        emit_report(render_capacity_plan(report), None if site_file else output,
                            overwrite)
    return sites
