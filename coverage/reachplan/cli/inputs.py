"""Inputs as the options describe them: the embedded datasets (``@india``), BOUNDARIES and
CENTERS read (:func:`load_inputs`), the coverage rule (:func:`make_rule`), a stored result.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from reachplan.cli.errors import BOUNDARY_FLAGS, CENTRE_FLAGS, ReachplanUsageError, flags_for
from reachplan.cli.options import CentreOptions, InputOptions
from reachplan.cli.output import (
    _GIVEN,
    Steps,
    as_given,
    cache_warnings,
    configure_logging,
    info,
    log_warnings,
    notice,
)

Numbers = float | tuple[float, ...]


def _several(value: Numbers | None) -> bool:
    return isinstance(value, tuple) and len(value) > 1


def _one(value: Numbers) -> float | tuple[float, ...]:
    """A threshold as the rule takes it: a number for one, the tuple for several."""
    return value[0] if isinstance(value, tuple) and len(value) == 1 else value


def make_rule(radius_km: Numbers | None, min_centers: int, *, roads: str | None = None,
              travel_minutes: Numbers | None = None, profile: str = "car",
              speeds: str | None = None, speed_col: str | None = None,
              maxspeed_factor: float = 1.0, offroad_kmh: float = 5.0, max_snap_km: float = 2.0,
              thresholds: bool = True):
    """The coverage rule the options describe (bad values raise one-line errors);
    ``thresholds=False``: the running command decides at one threshold only, and several
    given are refused naming the flag."""
    from reachplan.rules import Rule

    if not thresholds:
        for flag, value in (("--radius-km", radius_km), ("--travel-minutes", travel_minutes)):
            if _several(value):
                command = click.get_current_context(silent=True)
                name = (command.info_name if command is not None else None) or "this command"
                if command is not None and command.params.get("what_if"):
                    name += " --what-if"
                raise click.BadParameter(
                    f"{', '.join(f'{v:g}' for v in value)}: {name} decides at one threshold; "  # type: ignore[union-attr]
                    "give one (several work in coverage, check and map)", param_hint=flag)

    if (roads is None) != (travel_minutes is None):
        raise click.UsageError("--roads FILE and --travel-minutes T go together: a centre "
                               "within T minutes by road")
    if min_centers < 1:
        raise click.BadParameter(f"{min_centers} is less than 1", param_hint="--min-centers")
    if roads is not None and travel_minutes is not None:
        if radius_km is not None:
            raise click.UsageError("give --radius-km or --roads/--travel-minutes, not both")
        from reachplan.roads import TravelRule

        info(f"roads: {roads} ({profile})")
        with cache_warnings():
            return TravelRule.from_roads(roads, _one(travel_minutes), profile=profile,
                                         speeds=speeds, speed_col=speed_col,
                                         maxspeed_factor=maxspeed_factor,
                                         min_centers=min_centers, offroad_kmh=offroad_kmh,
                                         max_snap_km=max_snap_km, progress=Steps())

    for km in (radius_km if isinstance(radius_km, tuple) else (radius_km,)):
        if km is not None and km < 0:
            raise click.BadParameter(f"{km:g} is negative; give a distance >= 0 km",
                                     param_hint="--radius-km")
        if km is not None and not math.isfinite(km):
            raise click.BadParameter(f"{km:g} is not a finite distance; give km >= 0",
                                     param_hint="--radius-km")
    if radius_km is None:
        return Rule.presence(min_centers=min_centers)
    return Rule.radius(_one(radius_km), min_centers=min_centers)


def load_inputs(opts: InputOptions, *, thresholds: bool = False):
    """Read BOUNDARIES and CENTERS as the options say; returns (districts, centres, rule).
    ``thresholds=True`` when the command decides at several thresholds (else several given
    to --radius-km or --travel-minutes are refused, naming the flag)."""
    from reachplan.io import read_boundaries

    configure_logging(opts.verbosity, opts.quiet)
    rule = make_rule(opts.radius_km, opts.min_centers, roads=opts.roads,
                     travel_minutes=opts.travel_minutes, profile=opts.profile,
                     speeds=opts.speeds, speed_col=opts.speed_col,
                     maxspeed_factor=opts.maxspeed_factor, offroad_kmh=opts.offroad_kmh,
                     max_snap_km=opts.max_snap_km, thresholds=thresholds)
    boundaries, bdefaults = resolve_dataset(opts.boundaries, "boundaries")
    centers, cdefaults = resolve_dataset(opts.centers, "centers")
    with flags_for(**BOUNDARY_FLAGS):
        districts = read_boundaries(
            boundaries, layer=opts.layer, crs=opts.boundaries_crs,
            id_col=opts.id_col or bdefaults.get("id_col"),
            name_col=opts.name_col or bdefaults.get("name_col"),
            group_col=opts.group_col or bdefaults.get("group_col"),
            weight_col=opts.weight_col or bdefaults.get("weight_col"))
    if opts.population:
        from reachplan.cli._population import weigh_by_population

        districts = weigh_by_population(districts, opts.population)
    points = read_centres(centers, opts, cdefaults.get("name_col"))
    return (name_as_given(districts, opts.boundaries), name_as_given(points, opts.centers),
            rule)


def read_centres(path: str, opts: CentreOptions, name_col: str | None = None):
    """CENTERS at ``path`` as the centre options in ``opts`` say (``center_options``; errors
    name those options); ``name_col``: the name column when ``--center-name-col`` is not
    given."""
    from reachplan.io import read_points

    with flags_for(**CENTRE_FLAGS):
        points = read_points(path, lat_col=opts.lat_col, lon_col=opts.lon_col,
                             name_col=opts.center_name_col or name_col,
                             layer=opts.centers_layer, crs=opts.centers_crs,
                             where=opts.where or None, strict=opts.strict)
    if opts.hours_col == "hours":  # the sample network's synthetic hours, when asked for
        from reachplan.datasets import with_sample_hours

        points = with_sample_hours(points, path)
    return centres_open(points, opts)[0]


def centres_open(points: Any, opts: CentreOptions) -> tuple[Any, Any]:
    """The centres with hours that parse (``--hours-col``) and, with ``--at``, only those
    open then; and their :class:`reachplan.hours.SiteHours` (None without --hours-col)."""
    if opts.at and not opts.hours_col:
        raise click.UsageError("--at WHEN needs --hours-col COL (the centres' opening hours)")
    if not opts.hours_col:
        return points, None
    from reachplan import hours

    with flags_for(**CENTRE_FLAGS):
        moment = hours.parse_when(opts.at, week_of=week_of(opts)) if opts.at else None
        points, site_hours = hours.read_hours(points, opts.hours_col, tz=opts.tz,
                                              country=opts.country,
                                              site_col=opts.site_col,
                                              strict=opts.strict)
        notice(site_hours.summary())
        if moment is not None:
            is_open = hours.open_at(site_hours, moment)
            notice(f"at {moment:%Y-%m-%d %H:%M} ({moment:%a}): {int(is_open.sum())} of "
                   f"{len(is_open)} centre(s) open")
            log_warnings(hours.clashes(site_hours, is_open, moment))
            points = points[is_open].reset_index(drop=True)
    return points, site_hours


def site_hours(centers: Any, opts: CentreOptions) -> Any:
    """The :class:`reachplan.hours.SiteHours` of centres :func:`read_centres` already read
    (their hours parse; a second read costs milliseconds), for a command that needs them
    beside the centres: the week, the map's slider, extending hours, timed checks."""
    from reachplan import hours

    if not opts.hours_col:
        raise click.UsageError("give --hours-col COL (the centres' opening hours)")
    with flags_for(**CENTRE_FLAGS):
        return hours.read_hours(centers, opts.hours_col, tz=opts.tz, country=opts.country,
                                site_col=opts.site_col)[1]


def week_of(opts: CentreOptions):
    """``--week-of DATE`` as a date (None when not given)."""
    from datetime import date

    if not opts.week_of:
        return None
    try:
        return date.fromisoformat(opts.week_of)
    except ValueError:
        raise click.BadParameter(f"{opts.week_of!r} is not a date; give YYYY-MM-DD",
                                 param_hint="--week-of") from None


ALIASES = {
    "india": "india_districts",
    "india-states": "india_states",
    "india-sample": "india_sample_centres",
    "india-post-ho": "india_head_offices",
    "india-pincodes": "india_pincodes",
}


def name_as_given(frame: Any, given: str) -> Any:
    """Set a frame's ``source`` (and its warnings) to name the input as the user gave it
    (a PostgreSQL URL's password masked)."""
    from reachplan.io.postgis import display_name

    frame.attrs["source"] = display_name(given)
    frame.attrs["warnings"] = [as_given(w) for w in frame.attrs.get("warnings", [])]
    return frame


def resolve_dataset(value: str, role: str) -> tuple[str, dict[str, str | None]]:
    """``@name`` picks an embedded dataset (with its column roles); anything else is a path."""
    if not value.startswith("@"):
        return value, {}
    from reachplan import datasets

    key = ALIASES.get(value[1:])
    if key is None:
        names = ", ".join("@" + k for k in ALIASES)
        raise ReachplanUsageError(f"{role} '{value}': no such embedded dataset; use one of "
                                f"{names} or a file path")
    info = datasets.DATASETS[key]
    if info["kind"] == "boundaries":
        columns = {k: info[k] for k in ("id_col", "name_col", "group_col", "weight_col")}
    else:
        columns = {"name_col": info["name_col"] or info["id_col"]}
    path = str(datasets.dataset_path(key))
    _GIVEN[path] = value
    return path, columns


def _load_json(path: str, label: str) -> dict[str, Any]:
    from reachplan.errors import InputError
    from reachplan.io.files import read_text

    p = Path(path)
    if not p.exists():
        raise ReachplanUsageError(f"{p}: no such file ({label}); check the path")
    try:
        data = json.loads(read_text(p, "coverage result"))
    except InputError as exc:
        raise ReachplanUsageError(f"{exc} ({label})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReachplanUsageError(f"{p}: not readable JSON ({str(exc).splitlines()[0]}); give "
                                "the output of reachplan coverage --format json") from None
    except RecursionError:
        raise ReachplanUsageError(f"{p}: JSON nested too deeply to be a coverage result; give "
                                "the output of reachplan coverage --format json") from None
    if not isinstance(data, dict):
        raise ReachplanUsageError(f"{p}: not a coverage result; give the output of "
                                "reachplan coverage --format json")
    return data
