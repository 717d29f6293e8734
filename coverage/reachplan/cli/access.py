"""``reachplan access``: supply-to-demand accessibility (2SFCA, E2SFCA, gravity) per demand
point and per district."""

from __future__ import annotations

import math

import click

from reachplan.cli import inputs, options
from reachplan.cli._demand_options import DemandOptions, demand_point_options
from reachplan.cli.errors import DEMAND_FLAGS, flags_for, handle_errors
from reachplan.cli.inputs import read_centres, resolve_dataset
from reachplan.cli.output import configure_logging, info, log_warnings

METHODS = ("2sfca", "e2sfca", "gravity")
_NO_CATCHMENT = "give the catchment: --radius-km KM, or --roads FILE --travel-minutes T"


def parse_bands(text: str, scale: float = 1000.0) -> dict[float, float]:
    """``"10:1,20:0.68,30:0.22"`` -> ``{10000.0: 1.0, 20000.0: 0.68, 30000.0: 0.22}``
    (limits in km given, metres returned; minutes to minutes with ``scale`` 1)."""
    bands: dict[float, float] = {}
    for part in text.split(","):
        limit, sep, weight = part.partition(":")
        try:
            km, w = float(limit), float(weight)
        except ValueError:
            km = w = float("nan")
        if (not sep or not (0 < km * scale < math.inf and 0 <= w < math.inf)
                or km in bands):
            unit = "km" if scale == 1000.0 else "min"
            raise click.BadParameter(f"'{part.strip()}': give {unit.upper()}:WEIGHT pairs, e.g. "
                                     f"10:1,20:0.68,30:0.22 (finite {unit} > 0, weight >= 0, "
                                     f"each {unit} once)", param_hint="--bands")
        bands[km] = w
    return {km * scale: w for km, w in bands.items()}


def make_decay(method: str, *, radius_km: float | None, bands: str | None,
               sigma_km: float | None, alpha: float | None, scale_km: float, min_km: float,
               travel_minutes: float | None = None):
    """The decay the options give (costs in metres; in minutes by road with
    ``travel_minutes``, where --bands limits are minutes), or None for plain 2SFCA."""
    from reachplan.capacity import gaussian, gravity, step

    if travel_minutes is not None:
        return _minutes_decay(method, travel_minutes, bands=bands, sigma_km=sigma_km,
                              alpha=alpha)
    if radius_km is None:
        raise click.UsageError(_NO_CATCHMENT)

    given = [name for name, value in (("--bands", bands), ("--sigma-km", sigma_km),
                                      ("--alpha", alpha)) if value is not None]
    if len(given) > 1:
        raise click.UsageError(f"give one decay: {' or '.join(given)}")
    if method == "e2sfca" and bands is None:
        raise click.UsageError("--method e2sfca needs --bands KM:WEIGHT,..., e.g. "
                               "10:1,20:0.68,30:0.22")
    if method == "gravity" and alpha is None:
        raise click.UsageError("--method gravity needs --alpha A (e.g. -1), with --scale-km "
                               "and --min-km")
    if bands is not None:
        table = parse_bands(bands)
        if max(table) > radius_km * 1000.0 + 1e-6:
            raise click.BadParameter(f"a band reaches beyond --radius-km {radius_km:g}; pairs "
                                     "end there", param_hint="--bands")
        return step(table)
    if sigma_km is not None:
        return gaussian(sigma_km * 1000.0)
    if alpha is not None:
        if method != "gravity":
            raise click.UsageError("--alpha is the gravity decay: use --method gravity")
        return gravity(scale_km * 1000.0, alpha, min_km * 1000.0)
    return None


def _minutes_decay(method: str, minutes: float, *, bands: str | None, sigma_km: float | None,
                   alpha: float | None):
    """The decay by road: --bands MIN:W (a step in minutes), or none."""
    from reachplan.capacity import step

    for flag, value in (("--sigma-km", sigma_km), ("--alpha", alpha)):
        if value is not None:
            raise click.UsageError(f"{flag} is a decay by distance: with --roads give "
                                   "--bands MIN:WEIGHT,... (minutes by road)")
    if method == "gravity":
        raise click.UsageError("--method gravity is by distance: with --roads use 2sfca or "
                               "e2sfca --bands MIN:WEIGHT,...")
    if method == "e2sfca" and bands is None:
        raise click.UsageError("--method e2sfca needs --bands MIN:WEIGHT,... (minutes by road "
                               "with --roads), e.g. 10:1,20:0.68,30:0.22")
    if bands is None:
        return None
    table = parse_bands(bands, scale=1.0)
    if max(table) > minutes + 1e-9:
        raise click.BadParameter(f"a band reaches beyond --travel-minutes {minutes:g}; pairs "
                                 "end there", param_hint="--bands")
    return step(table)


def _access_rule(radius_km: float | None, roads: str | None, travel_minutes: float | None,
                 road: options.RoadOptions):
    """The catchment: within --radius-km, or within --travel-minutes by road (--roads)."""
    if radius_km is None and roads is None:
        raise click.UsageError(_NO_CATCHMENT)
    return inputs.make_rule(radius_km, 1, roads=roads, travel_minutes=travel_minutes,
                            profile=road.profile, speeds=road.speeds, speed_col=road.speed_col,
                            maxspeed_factor=road.maxspeed_factor,
                            offroad_kmh=road.offroad_kmh, max_snap_km=road.max_snap_km)


@click.command(short_help="Accessibility: supply per unit of demand (2SFCA, E2SFCA, gravity).")
@click.argument("centers", metavar="CENTERS")
@options.center_options
@click.option("--capacity-col", required=True, metavar="COL",
              help="Supply per centre (capacity, staff, beds).")
@demand_point_options
@click.option("--radius-km", type=options.FiniteFloat(min=0, min_open=True), default=None,
              help="Catchment: centres and demand points within this geodesic distance.")
@click.option("--roads", default=None, metavar="FILE",
              help="Catchment by road instead: an OSM extract or a line layer (as "
                   "`coverage --roads`); needs --travel-minutes.")
@click.option("--travel-minutes", type=options.FiniteFloat(min=0, min_open=True), default=None,
              metavar="T", help="With --roads: centres and demand points within T minutes by "
                                "road; --bands limits are then minutes.")
@options.road_options
@click.option("--method", type=click.Choice(METHODS), default="2sfca", show_default=True,
              help="2sfca (weight 1 in the catchment, or a decay), e2sfca (--bands) or "
                   "gravity (--alpha).")
@click.option("--bands", default=None, metavar="KM:W,...",
              help="Step decay: weight W up to KM, e.g. 10:1,20:0.68,30:0.22.")
@click.option("--sigma-km", type=options.FiniteFloat(min=0, min_open=True), default=None,
              help="Gaussian decay exp(-d²/2σ²) of this width.")
@click.option("--alpha", type=options.FiniteFloat(), default=None,
              help="Gravity decay (max(d, --min-km) / --scale-km) ** alpha, e.g. -1.")
@click.option("--scale-km", type=options.FiniteFloat(min=0, min_open=True), default=1.0,
              show_default=True, help="Gravity decay scale.")
@click.option("--min-km", type=options.FiniteFloat(min=0), default=1.0, show_default=True,
              help="Gravity decay: distances below count as this.")
@click.option("--boundaries", default=None, metavar="FILE",
              help="District polygons (or @india): each point's district, and "
                   "--districts-output.")
@click.option("--id-col", default=None, help="District ID column of --boundaries.")
@click.option("--name-col", default=None, help="District name column of --boundaries.")
@click.option("--layer", default=None, help="Layer of a multi-layer --boundaries.")
@click.option("-o", "--output", required=True,
              help="Per demand point: .csv, .geojson, .gpkg or .xlsx; '-' writes CSV to stdout.")
@click.option("--districts-output", default=None, metavar="FILE",
              help="Per district, weighted by demand (needs --boundaries): .csv .geojson .gpkg "
                   ".xlsx.")
@options.overwrite_opt
@options.verbosity_options
@handle_errors
@options.pass_groups(centre=options.CentreOptions, demand_opts=DemandOptions,
                     road=options.RoadOptions)
def access(centers: str, centre: options.CentreOptions, capacity_col: str,
           demand_opts: DemandOptions, radius_km: float | None, roads: str | None,
           travel_minutes: float | None, road: options.RoadOptions, method: str,
           bands: str | None, sigma_km: float | None, alpha: float | None, scale_km: float,
           min_km: float, boundaries: str | None, id_col: str | None, name_col: str | None,
           layer: str | None, output: str, districts_output: str | None, overwrite: bool,
           verbosity: int, quiet: bool) -> None:
    """Supply-to-demand accessibility of every demand point (two-step floating catchment):
    each centre's supply (--capacity-col) is shared among the demand within --radius-km,
    weighted by the decay; each point adds up the shares of the centres it reaches. Units:
    supply per unit of demand (e.g. beds per person). A point with no centre in reach gets 0.

    Per district (--boundaries, --districts-output): the demand-weighted mean of its points.
    Figures equal PySAL access's two_stage_fca on the same pairs.

    \b
    Examples:
      reachplan access centres.csv --capacity-col beds --demand villages.csv \\
          --demand-weight-col pop --radius-km 30 -o access.csv
      reachplan access centres.csv --capacity-col cap --demand offices.csv --radius-km 30 \\
          --method e2sfca --bands 10:1,20:0.68,30:0.22 --boundaries @india \\
          --districts-output districts.gpkg -o points.gpkg
      reachplan access centres.csv --capacity-col cap --demand @india-pincodes --radius-km 50 \\
          --method gravity --alpha -1 -o -
    """
    import numpy as np
    import pandas as pd

    from reachplan.capacity import (
        accessibility,
        column_amounts,
        district_accessibility,
        district_of_points,
        pairs_for_rule,
    )
    from reachplan.io import read_boundaries, read_points, write_table

    configure_logging(verbosity, quiet)
    if not demand_opts.demand:
        raise click.UsageError("give --demand FILE: the demand points")
    if districts_output and not boundaries:
        raise click.UsageError("--districts-output needs --boundaries FILE")
    if (roads is None) != (travel_minutes is None):
        raise click.UsageError("--roads FILE and --travel-minutes T go together")
    decay = make_decay(method, radius_km=radius_km, bands=bands,
                       sigma_km=sigma_km, alpha=alpha, scale_km=scale_km,
                       min_km=min_km, travel_minutes=travel_minutes)
    centres_path, cdefaults = resolve_dataset(centers, "centers")
    centres = read_centres(centres_path, centre, cdefaults.get("name_col"))
    log_warnings(list(centres.attrs.get("warnings", [])))
    supply = column_amounts(centres, capacity_col,
                            label=centres.attrs.get("source", centers),
                            rows=centres["line"].tolist())
    demand_path, _ = resolve_dataset(demand_opts.demand, "demand")
    with flags_for(**DEMAND_FLAGS):
        points = read_points(demand_path, lat_col=demand_opts.demand_lat_col,
                             lon_col=demand_opts.demand_lon_col, what="demand")
    log_warnings(list(points.attrs.get("warnings", [])))
    label = points.attrs.get("source", demand_opts.demand)
    weight = demand_opts.demand_weight_col
    demand = (column_amounts(points, weight, label=label, rows=points["line"].tolist())
              if weight else np.ones(len(points)))
    districts = None
    if boundaries:
        path, bdefaults = resolve_dataset(boundaries, "boundaries")
        districts = read_boundaries(path, layer=layer,
                                    id_col=id_col or bdefaults.get("id_col"),
                                    name_col=name_col or bdefaults.get("name_col"))
    rule = _access_rule(radius_km, roads, travel_minutes, road)
    p, c, cost = pairs_for_rule(points, centres, rule)  # metres, or minutes by road
    info(f"access: {len(points)} demand points, {len(centres)} centres, {p.size} pairs")
    values = accessibility(p, c, cost, demand, supply, method=method, max_cost=rule.reach,
                           decay=decay)
    point_id = demand_opts.demand_id_col or (
        "pincode" if demand_opts.demand == "@india-pincodes" else None)
    ids = (points[point_id].astype(str) if point_id else points["line"]).to_numpy()
    reach = np.bincount(p, minlength=len(points))
    out = pd.DataFrame({"id" if point_id else "line": ids, "lat": points["lat"].to_numpy(),
                        "lon": points["lon"].to_numpy(), "demand": demand,
                        "centres_in_reach": reach, "accessibility": values})
    district = None
    if districts is not None:
        district = district_of_points(points, districts, "id")
        out["district"] = pd.Series(district, dtype=object)
    frames = [(output, "output", _as_points(out))]
    if districts_output and districts is not None and district is not None:
        frames.append((districts_output, "districts_output",
                       _district_frame(districts, district_accessibility(values, demand,
                                                                         list(district)), demand,
                                       district)))
    for path, option, frame in frames:
        with flags_for(path=option):
            write_table(frame, path, overwrite=overwrite)


def _as_points(frame):
    import geopandas as gpd

    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                            crs="EPSG:4326")


def _district_frame(districts, by_district, demand, district):
    """Every district (its geometry for .geojson/.gpkg): demand and accessibility (empty when
    it has no demand)."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    totals = pd.Series(demand).groupby(pd.Series(district, dtype=object)).sum()
    ids = districts["id"].astype(str)
    frame = pd.DataFrame({"id": ids.to_numpy(), "name": districts["name"].to_numpy(),
                          "demand": ids.map(totals).fillna(0.0).to_numpy(),
                          "accessibility": ids.map(by_district).to_numpy(dtype=float)})
    frame.loc[~np.isfinite(frame["accessibility"]), "accessibility"] = np.nan
    return gpd.GeoDataFrame(frame, geometry=districts.geometry.to_numpy(), crs="EPSG:4326")

