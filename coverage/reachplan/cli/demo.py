"""``reachplan demo``: the main job on the embedded India data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from reachplan.cli.errors import ReachplanUsageError, handle_errors
from reachplan.cli.options import FiniteFloat, overwrite_opt, verbosity_opt
from reachplan.cli.output import cache_warnings, info

OUTPUTS = ("coverage.json", "gaps.csv", "plan.json", "coverage.html", "coverage-offline.html",
           "coverage.png", "plan.html", "coverage-curve.png", "what-if.html")
CURVE_KM = (10, 25, 50)  # the curve: coverage at several radii from one search
PLAN_TARGET = 95.0  # % of districts: how many sites, and where, to get there
PIN_RADIUS_KM = 25  # "installation across all pin codes": PIN codes within 25 km of a centre
ROAD_OUTPUTS = ("coverage-roads.json", "coverage-roads.html")
# The capacity section is a MODEL, labelled as such: repairs a centre can take per day, by
# type, and requests per person per day (about 48,000 a day for India's modelled population
# against 51,335 a day of capacity: tight, so where it runs short shows)
CAPACITY_PER_DAY = {"premium": 60.0, "direct": 30.0, "partner": 15.0, "van": 10.0}
REQUESTS_PER_PERSON_DAY = 4e-5
INDIA_EXTRACT = "https://download.geofabrik.de/asia/india-latest.osm.pbf"


WEEK_RADIUS_KM = 25.0
WEEK_OF = date(2027, 1, 27)  # Tuesday 26 January 2027 is Republic Day (PH)


def _capacity_section(districts, centers, weight_col: str | None) -> list[str]:
    """Demand served within capacities under the presence rule: each district's modelled
    demand can be served by the centres inside it, each within its modelled capacity."""
    from reachplan.cli._capacity_options import CapacityOptions, run_capacity
    from reachplan.cli._demand_options import DemandOptions
    from reachplan.cli._report import capacity_lines
    from reachplan.engine import Rule

    modelled = centers.assign(capacity=centers["type"].map(CAPACITY_PER_DAY).fillna(0.0))
    run = run_capacity(CapacityOptions(capacity_col="capacity",
                                       demand_rate=REQUESTS_PER_PERSON_DAY),
                       DemandOptions(), modelled, districts, Rule(), type_col="type",
                       weight_col=weight_col)
    assert run is not None
    return capacity_lines({"capacity": run.block})[1:]


def _week_section(districts, centers) -> list[str]:
    """The sample network's week with its SYNTHETIC hours per centre type (the week of
    Republic Day 2027), or one line naming the extra it needs."""
    from reachplan.datasets import INDIA_SAMPLE_HOURS

    head = (f"== Coverage by hour, a centre within {WEEK_RADIUS_KM:g} km (synthetic hours: "
            + "; ".join(f"{k} {v}" for k, v in INDIA_SAMPLE_HOURS.items()) + ") ==")
    try:
        import opening_hours  # noqa: F401
    except ModuleNotFoundError:
        return [head, "(needs the hours extra: pip install 'reachplan[hours]')"]
    from reachplan import hours
    from reachplan.cli._week import week_text
    from reachplan.engine import Rule

    with_hours = centers.assign(hours=centers["type"].map(dict(INDIA_SAMPLE_HOURS)))
    _, site_hours = hours.read_hours(with_hours, "hours", country="IN")
    week = hours.week_profile(districts, with_hours, Rule.radius(WEEK_RADIUS_KM), site_hours,
                              week_of=WEEK_OF)
    return [head, week_text(week, worst=1).rstrip("\n")]


def write_what_if(districts, result, centers, candidates, target: Path, *, overwrite: bool) -> None:
    """The what-if planner of the sample network (presence), with every PIN code as a
    candidate, self-contained (opens offline)."""
    from reachplan.cli._maps import _write_all
    from reachplan.engine import Rule
    from reachplan.maps import map_html
    from reachplan.maps.planner import planner_data, what_if_map

    data = planner_data(districts, centers, Rule(), candidates=candidates,
                        type_col="type")
    page = map_html(what_if_map(result, data, offline=True,
                                title="reachplan demo: what if (sample network, synthetic)"))
    _write_all([(str(target), page.encode("utf-8"))], overwrite=overwrite)


def _road_rule(roads: str, minutes: float, profile: str, centers):
    """The travel rule on ``roads``, refused (one line, exit 2) when the extract reaches none
    of the sample centres: the demo is India's, so the extract must be India (or a part)."""
    from reachplan.roads import MAX_SNAP_KM, TravelRule

    with cache_warnings():
        rule = TravelRule.from_roads(roads, minutes, profile=profile)
    off = rule.snap(centers).off_network
    if off.all():
        raise ReachplanUsageError(
            f"--roads {roads}: all {len(off):,} sample centres are more than {MAX_SNAP_KM:g} km "
            f"from every road in it; the demo is India's: give an extract of India, e.g. "
            f"{INDIA_EXTRACT} (or a region of it)")
    return rule, int(off.sum())


@click.command(short_help="Run the main job on the embedded India data.")
@click.option("--out", "out_dir", default="maps/demo", show_default=True,
              type=click.Path(file_okay=False),
              help="Folder for the outputs (created if missing).")
@click.option("--roads", default=None, metavar="FILE",
              help="Also: coverage within --travel-minutes by road, on this OSM extract of "
                   "India (e.g. Geofabrik's india-latest.osm.pbf; not bundled).")
@click.option("--travel-minutes", type=FiniteFloat(min=0, min_open=True), default=60.0,
              show_default=True, metavar="T", help="With --roads: the travel time.")
@click.option("--profile", type=click.Choice(["car", "motorcycle", "walk"]),
              default="motorcycle", show_default=True,
              help="With --roads: the travel mode (two-wheelers are how most service "
                   "customers in India travel).")
@overwrite_opt
@verbosity_opt
@handle_errors
@click.pass_context
def demo(ctx: click.Context, out_dir: str, roads: str | None, travel_minutes: float,
         profile: str, overwrite: bool, verbosity: int) -> None:
    """Coverage of India's districts by the embedded sample network (synthetic, modelled
    on a public claim of 2,000 service centres covering over 90% of districts) and by India
    Post head offices (real): summary, % of the 19,416 PIN codes within 25 km of a centre,
    ranked gap list, an expansion plan to 95% of districts, and the maps.

    \b
    Writes to --out:
      coverage.json          the coverage JSON of the sample network (with the PIN-code
                             "demand")
      gaps.csv               uncovered districts, by modelled population then distance
      plan.json              fewest new sites (at PIN-code centroids) to reach 95% of districts
      coverage.html          the interactive map (Leaflet from a CDN, OpenStreetMap tiles)
      coverage-offline.html  the same map, self-contained: opens with no network (no tiles)
      coverage.png           a static picture of the map
      plan.html              the plan's map: proposed sites, before/after toggle
      coverage-curve.png     % of districts and of population within 10, 25, 50 km
      what-if.html           the what-if planner (offline): switch centres off, open
                             PIN-code candidates, suggest the next site; every figure updates
    With --roads, also (the sample network within --travel-minutes by road):
      coverage-roads.json    its coverage JSON ("rule": {"kind": "travel", ...}, nearest_min)
      coverage-roads.html    its map

    With --roads the output also says how many centres are off the network (more than 2 km
    from every road of the extract: a regional extract leaves the others off); they still
    cover the district they stand in. An extract that reaches none of them is refused.

    \b
    Examples:
      reachplan demo
      reachplan demo --out /tmp/demo --overwrite
      reachplan demo --roads india-latest.osm.pbf --travel-minutes 60
    """
    from reachplan.cli._maps import run_map
    from reachplan.cli._report import (
        gap_table,
        render_plan,
        render_table,
        result_dict,
        summary_lines,
        threshold_lines,
    )
    from reachplan.cli.inputs import name_as_given, resolve_dataset
    from reachplan.cli.output import configure_logging, echo, emit_json, log_warnings
    from reachplan.demand import demand_coverage
    from reachplan.engine import Rule, assess
    from reachplan.io import active_outputs, read_boundaries, read_points, write_table
    from reachplan.maps.curve import write_curve_png
    from reachplan.planning import run_plan

    configure_logging(verbosity, False)
    out = Path(out_dir)
    targets = {name: out / name for name in OUTPUTS + (ROAD_OUTPUTS if roads else ())}
    outputs = active_outputs()
    assert outputs is not None  # handle_errors runs every command in one
    for target in targets.values():  # all refused before the work, all written after it
        outputs.prepare(target)
    cpath, ccols = resolve_dataset("@india-sample", "centers")
    centers = name_as_given(read_points(cpath, name_col=ccols.get("name_col")),
                            "@india-sample")
    # the roads first: a wrong extract is refused before anything is printed or written
    road_rule, off = (_road_rule(roads, travel_minutes, profile, centers) if roads
                      else (None, 0))
    bpath, bcols = resolve_dataset("@india", "boundaries")
    districts = name_as_given(read_boundaries(bpath, **bcols), "@india")
    info(f"read {len(districts)} districts from @india")

    echo("== Sample network (synthetic: 2,000 centres at real towns) — "
               "a centre inside the district ==")
    result = assess(districts, centers, Rule(), type_col="type")
    log_warnings(result.warnings)
    ppath, _ = resolve_dataset("@india-pincodes", "demand")
    pins = demand_coverage(centers, ppath, radius_km=PIN_RADIUS_KM, id_col="pincode",
                           districts=districts)
    log_warnings(pins.warnings)
    echo(render_table(result, pins))

    echo("== India Post head offices (real) — within 25 km, geodesic ==")
    hpath, hcols = resolve_dataset("@india-post-ho", "centers")
    offices = name_as_given(read_points(hpath, name_col=hcols.get("name_col")),
                             "@india-post-ho")
    post = assess(districts, offices, Rule.radius(25))
    log_warnings(post.warnings)
    echo("\n".join(summary_lines(result_dict(post)
                                        | {"rule_text": post.rule.describe()})) + "\n")

    echo(f"== Where to open next: fewest sites to reach {PLAN_TARGET:g}% of districts "
               "(candidates: PIN-code centroids) ==")
    candidates = name_as_given(read_points(ppath, name_col="pincode"), "@india-pincodes")
    candidates["name"] = "PIN " + candidates["name"].astype(str)
    planned = run_plan(districts, centers, Rule(), target=PLAN_TARGET, candidates=candidates,
                       objective="districts")
    log_warnings(planned.report["warnings"])
    echo(render_plan(planned.report, weight_col=bcols.get("weight_col")))

    echo("== Capacity (a model: repairs per day by centre type "
               + ", ".join(f"{k} {v:g}" for k, v in CAPACITY_PER_DAY.items())
               + f"; {REQUESTS_PER_PERSON_DAY:g} requests per person per day) ==")
    echo("\n".join(_capacity_section(districts, centers, bcols.get("weight_col")))
               + "\n")

    echo("\n".join(_week_section(districts, centers)) + "\n")

    echo("== Sample network within " + ", ".join(f"{km:g}" for km in CURVE_KM)
         + " km (geodesic), from one search ==")
    radii = assess(districts, centers, Rule.radius(list(CURVE_KM)))
    log_warnings(radii.warnings)
    radii_data = result_dict(radii, districts=False)
    # the inequality line is left out: with most districts holding a centre (0 km) the Gini
    # of km to access is near 1 and says little here (docs/guides/thresholds.md)
    echo("\n".join(line for line in threshold_lines(radii_data)[1:]
                    if not line.startswith("Inequality")).rstrip("\n") + "\n")

    by_road = None
    if road_rule is not None:
        echo(f"== Sample network — {road_rule.describe()} ==")
        by_road = assess(districts, centers, road_rule)
        log_warnings(by_road.warnings)
        echo("\n".join(summary_lines(result_dict(by_road)
                                            | {"rule_text": by_road.rule.describe()})))
        echo(f"Centres off the network (more than {road_rule.max_snap_km:g} km from every "
                   f"road of {Path(roads or '').name}): {off:,} of {len(centers):,}; they "
                   "cover only the district they stand in.\n")

    emit_json(result_dict(result, pins), str(targets["coverage.json"]), overwrite)
    write_table(gap_table(result), targets["gaps.csv"], overwrite=overwrite)
    emit_json(planned.report, str(targets["plan.json"]), overwrite)
    title = "reachplan demo: India districts, sample network (synthetic)"
    run_map(result, targets["coverage.html"], png=targets["coverage.png"], overwrite=overwrite,
            title=title, type_col="type")
    run_map(result, targets["coverage-offline.html"], overwrite=overwrite, title=title,
            type_col="type", offline=True)
    run_map(planned.after, targets["plan.html"], overwrite=overwrite, sites=planned.sites,
            before=planned.before, title=f"reachplan demo: {len(planned.sites)} new sites")
    write_curve_png(radii_data, targets["coverage-curve.png"], overwrite=overwrite,
                    title="reachplan demo: India's districts, sample network (synthetic)")
    write_what_if(districts, result, centers, candidates, targets["what-if.html"],
                  overwrite=overwrite)
    if by_road is not None:
        emit_json(result_dict(by_road), str(targets["coverage-roads.json"]), overwrite)
        run_map(by_road, targets["coverage-roads.html"], overwrite=overwrite,
                title=f"reachplan demo: {by_road.rule.describe()}", type_col="type")
