"""``reachplan isochrones``: service areas, where each centre reaches within T minutes by road."""

from __future__ import annotations

import click

from reachplan.cli import options
from reachplan.cli.errors import ReachplanUsageError, flags_for, handle_errors
from reachplan.cli.inputs import read_centres
from reachplan.cli.output import Steps, cache_warnings, configure_logging, info, log_warnings


def _minutes(ctx: click.Context, param: click.Parameter, value: str | None
             ) -> list[float] | None:
    return options.parse_minutes(value, max(param.opts, key=len))


minutes_opt = click.option(
    "--minutes", "minutes", default="15,30,60", show_default=True, metavar="T1,T2,...",
    callback=_minutes, help="Travel-time bands in minutes, separated by commas.")


@click.command(short_help="Service areas: where each centre reaches within T minutes.")
@click.argument("roads", metavar="ROADS")
@click.argument("centers", metavar="CENTERS")
@minutes_opt
@options.center_options
@options.road_options
@click.option("--buffer-m", type=options.FiniteFloat(min=0, min_open=True), default=50.0,
              show_default=True, help="Width either side of a reached road that counts as "
                                      "reached.")
@click.option("-o", "--output", required=True,
              help="Output file: .gpkg or .geojson (polygons), .csv or .xlsx (the table "
                   "without shapes); '-' writes CSV to stdout.")
@options.overwrite_opt
@options.verbosity_options
@handle_errors
@options.pass_groups(centre=options.CentreOptions, road=options.RoadOptions)
def isochrones(roads: str, centers: str, minutes: list[float], centre: options.CentreOptions,
               road: options.RoadOptions, buffer_m: float, output: str, overwrite: bool,
               verbosity: int, quiet: bool) -> None:
    """Write the service area of every centre in CENTERS for each travel time: the roads
    it reaches within T minutes (the part of a road driven before time runs out included),
    widened by --buffer-m, as one polygon per centre and band (the "service area" of ORS
    Tools or Esri Network Analyst). Bands are cumulative: the 60-minute area holds the
    30-minute one. ROADS is an OSM extract (.osm.pbf, .osm, .osm.bz2, e.g. from Geofabrik)
    or a line layer, read as `reachplan coverage --roads` reads it (and from the same cache).

    Columns: center (the centre's name), minutes, off_network (true when the centre is
    more than --max-snap-km from every road: its area is empty), area_km2 (geodesic).

    \b
    Examples:
      reachplan isochrones india-latest.osm.pbf centres.csv -o catchments.gpkg
      reachplan isochrones city.osm.pbf clinics.csv --minutes 10,20 --profile walk \\
          -o walk.geojson
      reachplan map districts.gpkg centres.csv --roads city.osm.pbf --travel-minutes 30 \\
          --isochrones 15,30 -o map.html
    """
    from reachplan.io import write_table
    from reachplan.roads import TravelRule

    configure_logging(verbosity, quiet)
    if output != "-" and not output.lower().endswith((".gpkg", ".geojson", ".json", ".csv",
                                                      ".xlsx")):
        raise ReachplanUsageError(f"-o {output}: unknown output format; use .gpkg, "
                                        ".geojson, .csv or .xlsx (or - for CSV on stdout)")
    bands = minutes
    info(f"roads: {roads} ({road.profile})")
    with cache_warnings():
        rule = TravelRule.from_roads(roads, bands[-1], profile=road.profile, speeds=road.speeds,
                                     speed_col=road.speed_col,
                                     maxspeed_factor=road.maxspeed_factor,
                                     offroad_kmh=road.offroad_kmh, max_snap_km=road.max_snap_km,
                                     progress=Steps())
    points = read_centres(centers, centre)  # --hours-col/--at: the centres open then
    log_warnings(list(points.attrs.get("warnings", [])))
    areas = rule.isochrones(points, bands, buffer_m=buffer_m)
    off = int(areas["off_network"].sum()) // len(bands)  # one row per centre and band
    if off:
        log_warnings([f"{off} of {len(points)} centres are more than "
                      f"{road.max_snap_km:g} km from every road (off the network): "
                      "their areas are empty"])
    with flags_for(path="output"):
        write_table(areas, output, overwrite=overwrite)
    info(f"wrote {len(areas)} service areas to {output}")


# the centre options come shared with coverage; a centre type means nothing here
isochrones.params = [p for p in isochrones.params if p.name != "type_col"]
