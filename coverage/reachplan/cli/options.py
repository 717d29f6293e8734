"""Options shared by reachplan commands: click options (parsing an option value at most) and
the typed groups a command receives them in (:class:`InputOptions` ..., :func:`pass_groups`).

Shared options
--------------
BOUNDARIES, CENTERS       positional paths (``@india``, ``@india-sample``, ``@india-post-ho``
                          name the embedded data)
--layer, --boundaries-crs, --id-col, --name-col, --group-col, --weight-col
                          how to read the districts
--lat-col, --lon-col, --center-name-col, --centers-layer, --centers-crs, --where,
--type-col, --strict
                          how to read the centres
--radius-km, --min-centers, --roads, --travel-minutes, --profile, --speeds,
--maxspeed-factor, --offroad-kmh, --max-snap-km
                          the coverage rule (the last five: ``road_options``)
--format, -o/--output, --overwrite
                          where results go (stdout carries data only)
-v/--verbose, -q/--quiet  logging on stderr

Errors, inputs and output are the CLI modules :mod:`.errors`, :mod:`.inputs` and
:mod:`.output`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

NUMBER_LIMIT = 1e12  # no number option means more: km, minutes, rates, seconds, percent


class FiniteFloat(click.FloatRange):
    """A number option, optionally in a range, that is never NaN or +-inf: NaN passes every
    comparison (``--max-drop nan`` would pass any drop), and infinities every open bound.
    Magnitudes beyond :data:`NUMBER_LIMIT` are refused too, so that no conversion (km to m,
    minutes to seconds) overflows."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number", param, ctx)
        if abs(number) > NUMBER_LIMIT:
            self.fail(f"{value} is beyond 1e12 in size; give a number of sensible size",
                      param, ctx)
        return super().convert(number, param, ctx)

    def _describe_range(self) -> str:
        return "" if self.min is None and self.max is None else super()._describe_range()


class Thresholds(click.ParamType):
    """One number, or several separated by commas (``5,10,25``): the thresholds of a rule,
    as an ascending tuple. Each must be a finite number > 0 (>= 0 with ``allow_zero``) of
    sensible size; the order given does not matter; an empty part (``5,,10``) or a value
    given twice is refused."""

    name = "thresholds"

    def __init__(self, unit: str, example: str, *, allow_zero: bool = False) -> None:
        self.unit, self.example, self.allow_zero = unit, example, allow_zero

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        text = str(value)
        example = f"give {self.unit} separated by commas, e.g. {self.example}"
        least = ">= 0" if self.allow_zero else "> 0"
        out: list[float] = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                self.fail(f"{text!r}: an empty value between commas; {example}", param, ctx)
            try:
                number = float(part)
            except ValueError:
                self.fail(f"{text!r}: {part!r} is not a number; {example}", param, ctx)
            if not math.isfinite(number):
                self.fail(f"{text!r}: {part} is not a finite number; {example}", param, ctx)
            if abs(number) > NUMBER_LIMIT:
                self.fail(f"{text!r}: {part} is beyond 1e12 in size; give a number of "
                          "sensible size", param, ctx)
            if number < 0:
                self.fail(f"{text!r}: {part} is negative; give {self.unit} {least}", param, ctx)
            if number == 0 and not self.allow_zero:
                self.fail(f"{text!r}: {part} is not {least} {self.unit}", param, ctx)
            if number in out:
                self.fail(f"{text!r}: {part} is given twice; give each threshold once",
                          param, ctx)
            out.append(number)
        return tuple(sorted(out))


verbosity_opt = click.option("-v", "--verbose", "verbosity", count=True,
                             help="More messages on stderr (repeatable).")


def _quiet(func: Callable) -> Callable:
    return click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")(func)


def verbosity_options(func: Callable) -> Callable:
    """``-v`` (more on stderr, repeatable) and ``-q`` (only errors)."""
    return _compose(verbosity_opt, _quiet)(func)


def _compose(*decorators: Callable) -> Callable:
    def apply(func: Callable) -> Callable:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func
    return apply


boundaries_arg = click.argument("boundaries", metavar="BOUNDARIES")


centers_arg = click.argument("centers", metavar="CENTERS")


boundary_options = _compose(
    click.option("--layer", default=None, help="Layer of a multi-layer BOUNDARIES (GeoPackage)."),
    click.option("--boundaries-crs", default=None,
                 help="CRS of BOUNDARIES when the file has none, e.g. EPSG:4326."),
    click.option("--id-col", default=None,
                 help="District ID column [default: first unique, non-null column]."),
    click.option("--name-col", default=None, help="District name column [default: 'name']."),
    click.option("--group-col", default=None, help="Group column for roll-ups, e.g. state."),
    click.option("--weight-col", default=None,
                 help="Numeric weight (e.g. population): also report % of weight covered."),
    click.option("--population", default=None, metavar="RASTER",
                 help="Population raster (GeoTIFF, COG, VRT; any CRS): each district weighted "
                      "by its people (exact cell fractions), and coverage reports the people "
                      "within reach; needs reachplan[raster]."),
)


center_options = _compose(
    click.option("--lat-col", default=None, help="Latitude column [default: lat/latitude/y]."),
    click.option("--lon-col", default=None,
                 help="Longitude column [default: lon/lng/long/longitude/x]."),
    click.option("--center-name-col", default=None,
                 help="Centre name column [default: name/center_name/office_name...]."),
    click.option("--centers-layer", default=None,
                 help="Layer of a multi-layer CENTERS (GeoPackage)."),
    click.option("--centers-crs", default=None,
                 help="CRS of a CENTERS point layer that has none."),
    click.option("--where", multiple=True, metavar="COL=VALUE",
                 help="Keep centres where COL equals VALUE (COL!=VALUE excludes; a,b for "
                      "either). Repeatable."),
    click.option("--type-col", default=None, help="Centre type column: coverage by type."),
    click.option("--strict", is_flag=True,
                 help="Reject CENTERS with any bad row instead of skipping it."),
    click.option("--hours-col", default=None, metavar="COL",
                 help="Centres' OSM opening_hours (e.g. 'Mo-Fr 09:00-20:00; PH off'; empty: "
                      "always open); needs reachplan[hours]."),
    click.option("--site-col", default=None, metavar="COL",
                 help="With --hours-col: rows sharing COL are one site at several places "
                      "(a repair van's round), each place open in its own hours."),
    click.option("--at", default=None, metavar="WHEN",
                 help="Only the centres open at WHEN: '2026-12-05 20:00', or 'Sa 20:00' in "
                      "the week of --week-of (needs --hours-col)."),
    click.option("--week-of", default=None, metavar="DATE",
                 help="The ISO week (Monday-Sunday) of --at 'Sa 20:00' and coverage --week "
                      "[default: today]."),
    click.option("--tz", default=None, metavar="ZONE",
                 help="Time zone of --at (centres without a 'tz' column value are in the "
                      "zone at their coordinates) [default: each centre's local time]."),
    click.option("--country", default=None, metavar="ISO",
                 help="Country of public holidays (PH) for centres without a 'country' "
                      "column value, e.g. IN."),
)


# how a road network is read and joined (the travel rule; also reachplan isochrones)
road_options = _compose(
    click.option("--profile", type=click.Choice(["car", "motorcycle", "walk"]), default="car",
                 show_default=True, help="Travel mode on the roads (speeds per road class)."),
    click.option("--speeds", default=None, metavar="CSV",
                 help="Speeds per road class overriding the profile's: CSV highway,kmh."),
    click.option("--speed-col", default=None, metavar="COL",
                 help="With a line layer as --roads: its column of speeds in km/h (else its "
                      "'highway' column and the profile's speeds)."),
    click.option("--maxspeed-factor", type=FiniteFloat(min=0, min_open=True),
                 default=1.0, show_default=True, metavar="F",
                 help="Drive at F x the tagged maxspeed of OSM ways (0.8 is OSRM's car "
                      "profile)."),
    click.option("--offroad-kmh", type=FiniteFloat(min=0, min_open=True), default=5.0,
                 show_default=True, help="Speed of the straight leg between a point and its "
                                         "nearest road vertex."),
    click.option("--max-snap-km", type=FiniteFloat(min=0), default=2.0,
                 show_default=True, help="Points farther than this from every road are off "
                                         "the network (reported, never dropped)."),
)


rule_options = _compose(
    click.option("--radius-km", type=Thresholds("km", "5,10,25", allow_zero=True), default=None,
                 metavar="KM[,KM...]",
                 help="Covered when a centre is within this geodesic distance of the district "
                      "[default: a centre inside]. Several (5,10,25; coverage, check and map): "
                      "the coverage at each from one search."),
    click.option("--min-centers", type=int, default=1, show_default=True,
                 help="Centres needed for a district to count as covered."),
    click.option("--roads", default=None, metavar="FILE",
                 help="Road network for travel time: an OSM extract (.osm.pbf, .osm, "
                      ".osm.bz2, e.g. from Geofabrik) or a line layer; needs --travel-minutes."),
    click.option("--travel-minutes", type=Thresholds("minutes", "15,30,60"), default=None,
                 metavar="T[,T...]", help="Covered when a centre is within T minutes by road "
                                          "(--roads). Several (15,30,60,120; coverage, check "
                                          "and map): the coverage at each from one search."),
    road_options,
)



overwrite_opt = click.option("--overwrite", is_flag=True,
                             help="Replace an existing output file.")


def input_options(func: Callable) -> Callable:
    """BOUNDARIES CENTERS and every option that reads them and sets the rule."""
    return _compose(boundaries_arg, centers_arg, boundary_options, center_options,
                    rule_options, verbosity_opt, _quiet)(func)



_Group = TypeVar("_Group", bound="OptionGroup")


@dataclass(frozen=True)
class OptionGroup:
    """A group of shared options (one decorator's) handed to a command as one typed value
    (:func:`pass_groups`)."""

    @classmethod
    def take(cls: type[_Group], kwargs: dict[str, Any]) -> _Group:
        """The group from the command's parameters, taken out of ``kwargs`` (a command that
        lacks one of the group's options gets its default)."""
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{k: kwargs.pop(k) for k in names if k in kwargs})


def pass_groups(**groups: type[OptionGroup]) -> Callable:
    """Hand the options of each group to the command as one parameter: ``pass_groups(
    inputs=InputOptions)`` calls ``command(inputs=InputOptions(...), **its own)``."""
    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            packed = {name: group.take(kwargs) for name, group in groups.items()}
            return func(*args, **packed, **kwargs)
        wrapper.groups = groups  # type: ignore[attr-defined]  # read by the tests
        return wrapper
    return decorate


@dataclass(frozen=True)
class BoundaryOptions(OptionGroup):
    """The options of :data:`boundary_options`: how the districts are read."""

    layer: str | None = None
    boundaries_crs: str | None = None
    id_col: str | None = None
    name_col: str | None = None
    group_col: str | None = None
    weight_col: str | None = None
    population: str | None = None


@dataclass(frozen=True)
class CentreOptions(OptionGroup):
    """The options of :data:`center_options`: how the centres are read, and their hours."""

    lat_col: str | None = None
    lon_col: str | None = None
    center_name_col: str | None = None
    centers_layer: str | None = None
    centers_crs: str | None = None
    where: tuple[str, ...] = ()
    type_col: str | None = None
    strict: bool = False
    hours_col: str | None = None
    site_col: str | None = None
    at: str | None = None
    week_of: str | None = None
    tz: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class RoadOptions(OptionGroup):
    """The options of :data:`road_options`: how a road network is read and joined."""

    profile: str = "car"
    speeds: str | None = None
    speed_col: str | None = None
    maxspeed_factor: float = 1.0
    offroad_kmh: float = 5.0
    max_snap_km: float = 2.0


@dataclass(frozen=True)
class RuleOptions(RoadOptions):
    """The options of :data:`rule_options`: the coverage rule (``inputs.make_rule``)."""

    radius_km: tuple[float, ...] | None = None  # one or several thresholds, ascending
    min_centers: int = 1
    roads: str | None = None
    travel_minutes: tuple[float, ...] | None = None


@dataclass(frozen=True)
class InputOptions(BoundaryOptions, CentreOptions, RuleOptions):
    """BOUNDARIES, CENTERS and the options of :func:`input_options`: how the districts and
    centres are read, the coverage rule, and the logging."""

    boundaries: str = ""
    centers: str = ""
    verbosity: int = 0
    quiet: bool = False


def parse_minutes(value: str | None, flag: str = "--minutes") -> list[float] | None:
    """``"15,30,60"`` -> ``[15.0, 30.0, 60.0]`` (sorted, unique); a one-line error naming
    ``flag`` when a part is not a number of minutes > 0."""
    import math

    if value is None:
        return None
    bands = []
    for part in value.split(","):
        try:
            minutes = float(part.strip())
        except ValueError:
            raise click.BadParameter(f"{value!r}: {part.strip()!r} is not a number; give "
                                     "minutes > 0 separated by commas, e.g. 15,30,60",
                                     param_hint=flag) from None
        if not (math.isfinite(minutes) and minutes > 0):
            raise click.BadParameter(f"{value!r}: {part.strip()} is not a travel time > 0 "
                                     "minutes", param_hint=flag)
        bands.append(minutes)
    return sorted(set(bands))


what_if_opt = click.option(
    "--what-if", is_flag=True,
    help="The what-if planner: switch sites off and on, open candidates, click to add a site; "
         "every figure updates in the page (one self-contained HTML file).")
what_if_candidates_opt = click.option(
    "--candidates", default=None, metavar="FILE",
    help="With --what-if: candidate sites the planner may open (CSV/XLSX with lat/lon, or a "
         "point layer) [default: every PIN code (@india-pincodes) for @india, else none].")
what_if_html_opt = click.option(
    "--html", "html_path", default=None, metavar="HTML",
    help="Also write the what-if planner page (as map --what-if) with the proposed sites open "
         "and the other candidates closed, e.g. maps/what-if.html.")
