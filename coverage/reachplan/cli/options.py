"""Options shared by reachplan commands, and the helpers that turn them into inputs.

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
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from reachplan.text import for_json_text, for_terminal, terminal_text


class ReachplanUsageError(click.ClickException):
    """A user's mistake: one line on stderr, exit code 2, no traceback."""

    exit_code = 2


class ReachplanFailure(click.ClickException):
    """An operation that failed (a full disk): one line on stderr, exit code 1."""

    exit_code = 1


# keyword arguments of commands that name files they read, and files they write: the one
# list every output is checked against (``check --expect`` is read, or written with
# ``--update-expect``; ``check`` without ``--rules`` reads ./pyproject.toml)
INPUT_PATH_KEYS = ("boundaries", "centers", "candidates", "demand", "a", "b", "boundaries_path",
                   "baseline", "rules", "roads", "speeds", "expect")
OUTPUT_PATH_KEYS = ("output", "png", "map_path", "demand_output", "junit", "capacity_output",
                    "districts_output")


def _written_expect(kwargs: dict[str, Any]) -> str | None:
    """The golden file ``check --update-expect`` rewrites (then an output, not an input)."""
    return kwargs.get("expect") if kwargs.get("update_expect") else None


def _input_paths(kwargs: dict[str, Any]) -> list[str]:
    """Every file the command reads, as its options name them: its outputs may be none."""
    paths = []
    for key in INPUT_PATH_KEYS:
        value = kwargs.get(key)
        if key == "expect" and _written_expect(kwargs):
            continue
        if isinstance(value, str) and value:
            paths.append(resolve_dataset(value, key)[0] if value.startswith("@") else value)
    if "rules" in kwargs and not kwargs["rules"]:
        paths.append("pyproject.toml")  # check's default rules file
    return paths


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


def handle_errors(func: Callable) -> Callable:
    """Run a command with all its outputs staged and landing together (all or none), an
    output that is one of its inputs refused, and library errors as one-line messages
    naming the command's options where the library named its parameters (exit 2; 1 when
    writing failed, e.g. a full disk). Reports what it wrote on stderr."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from reachplan.cli._process import imports_unscanned
        from reachplan.errors import OutputError, ReachplanError

        with imports_unscanned():  # pandas, geopandas, shapely: what every command reads with
            from reachplan.io import OutputSet

        try:
            with OutputSet(overwrite=bool(kwargs.get("overwrite")),
                           inputs=_input_paths(kwargs)) as outputs:
                for key in OUTPUT_PATH_KEYS:  # refuse bad outputs before the long work
                    if kwargs.get(key):
                        outputs.prepare(str(kwargs[key]))
                if _written_expect(kwargs):
                    outputs.prepare(str(kwargs["expect"]), overwrite=True)
                try:
                    with _library_warnings():
                        result = func(*args, **kwargs)
                except click.exceptions.Exit as exc:  # an exit code the command chose
                    stop: click.exceptions.Exit | None = exc  # (check's 1): outputs land
                else:
                    stop = None
        except OutputError as exc:
            raise (ReachplanFailure if exc.failed else ReachplanUsageError)(
                as_given(str(exc))) from None
        except ReachplanError as exc:
            raise ReachplanUsageError(
                as_given(as_flags(str(exc), getattr(exc, "params", ())))) from None
        log_warnings(outputs.notes)
        files = [p for p in outputs.written if p != "-"]
        if files and _level() >= 0:
            echo(f"reachplan: wrote {', '.join(files)}", err=True)
        if stop is not None:
            raise stop
        return result

    return wrapper


@contextlib.contextmanager
def _library_warnings() -> Iterator[None]:
    """Python warnings that pyogrio (GDAL) raises while a command runs, which Python would
    print with a site-packages path and source line, shown as ``reachplan: warning:`` lines,
    each once, unless -q. Other warnings keep the interpreter's filters."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("default", module=r"(pyogrio|geopandas\.io)(\.|$)")
        try:
            yield
        finally:
            seen = dict.fromkeys(str(w.message).strip().splitlines()[0] for w in caught
                                 if str(w.message).strip())
            log_warnings(list(seen))


def as_flags(message: str, params: tuple[str, ...],
             options: dict[str, str | None] | None = None) -> str:
    """``"add=-1: ..."`` -> ``"--add -1: ..."``: each named parameter that is an option of the
    running command becomes that option (``name=value`` and the bare name alike; a flag's
    ``name=True`` becomes the flag alone; a quoted value a shell needs no quotes for loses
    them). ``options`` maps a parameter to the command's option of another name (``lat_col``
    -> ``demand_lat_col``), or to ``None`` when the command has none for it; the rest keep
    their names (see :func:`flags_for`). A name inside a path (``demand.csv``,
    ``data/where``) is left alone."""
    ctx = click.get_current_context(silent=True)
    if not params or ctx is None:
        return message
    opts = {p.name: p for p in ctx.command.params if isinstance(p, click.Option) and p.name}
    for name in params:
        option = opts.get((options or {}).get(name, name) or "")
        if option is None:
            continue
        flag = max(option.opts, key=len)
        before = rf"(?<![\w./\\-]){re.escape(name)}"
        if option.is_flag:
            message = re.sub(before + r"=True\b", flag, message)
        # a value a shell reads unquoted loses its quotes: lat_col='lon' -> --lat-col lon
        message = re.sub(before + r"='([\w.:/@%+,=-]+)'", flag + r" \1", message)
        message = re.sub(before + "=", flag + " ", message)
        message = re.sub(before + r"(?![\w=/\\-]|\.\w)", flag, message)
    return message


@contextlib.contextmanager
def flags_for(**options: str | None) -> Iterator[None]:
    """Name this command's options in the library errors raised inside, where its option for
    a parameter has another name: ``with flags_for(lat_col="demand_lat_col"):`` around a
    demand reader makes its ``lat_col`` read ``--demand-lat-col``; ``name=None``: the command
    has no option for that parameter (the message keeps the Python name)."""
    from reachplan.errors import OutputError, ReachplanError

    try:
        yield
    except OutputError:
        raise
    except ReachplanError as exc:
        raise ReachplanUsageError(
            as_given(as_flags(str(exc), getattr(exc, "params", ()), options))) from None


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
    click.option("--radius-km", type=FiniteFloat(), default=None,
                 help="Covered when a centre is within this geodesic distance of the district "
                      "[default: a centre inside]."),
    click.option("--min-centers", type=int, default=1, show_default=True,
                 help="Centres needed for a district to count as covered."),
    click.option("--roads", default=None, metavar="FILE",
                 help="Road network for travel time: an OSM extract (.osm.pbf, .osm, "
                      ".osm.bz2, e.g. from Geofabrik) or a line layer; needs --travel-minutes."),
    click.option("--travel-minutes", type=FiniteFloat(min=0, min_open=True), default=None,
                 metavar="T", help="Covered when a centre is within T minutes by road "
                                   "(--roads)."),
    road_options,
)

# the library parameters whose options have other names, per input (see flags_for); None:
# no option for it on that input
BOUNDARY_FLAGS: dict[str, str | None] = {"crs": "boundaries_crs"}
CENTRE_FLAGS: dict[str, str | None] = {"name_col": "center_name_col", "layer": "centers_layer",
                                       "crs": "centers_crs"}
DEMAND_FLAGS: dict[str, str | None] = {
    "lat_col": "demand_lat_col", "lon_col": "demand_lon_col", "weight_col": "demand_weight_col",
    "id_col": "demand_id_col", "chunksize": "demand_chunksize", "name_col": None,
    "layer": None, "crs": None, "where": None, "strict": None}
CANDIDATE_FLAGS: dict[str, str | None] = {
    "name_col": "candidate_name_col", "lat_col": "candidate_lat_col",
    "lon_col": "candidate_lon_col", "layer": None,
    "crs": None, "where": None, "strict": None}

RULE_KEYS = ("radius_km", "min_centers", "roads", "travel_minutes", "profile", "speeds",
             "speed_col", "maxspeed_factor", "offroad_kmh", "max_snap_km")

overwrite_opt = click.option("--overwrite", is_flag=True,
                             help="Replace an existing output file.")


def input_options(func: Callable) -> Callable:
    """BOUNDARIES CENTERS and every option that reads them and sets the rule."""
    return _compose(boundaries_arg, centers_arg, boundary_options, center_options,
                    rule_options, verbosity_opt, _quiet)(func)


INPUT_KEYS = ("boundaries", "centers", "layer", "boundaries_crs", "id_col", "name_col",
              "group_col", "weight_col", "lat_col", "lon_col", "center_name_col",
              "centers_layer", "centers_crs", "where", "type_col", "strict", *RULE_KEYS,
              "verbosity", "quiet")


def split_inputs(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate the shared input options from a command's own."""
    shared = {k: kwargs.pop(k) for k in INPUT_KEYS if k in kwargs}
    return shared, kwargs


def make_rule(radius_km: float | None, min_centers: int, *, roads: str | None = None,
              travel_minutes: float | None = None, profile: str = "car",
              speeds: str | None = None, speed_col: str | None = None,
              maxspeed_factor: float = 1.0, offroad_kmh: float = 5.0, max_snap_km: float = 2.0):
    """The coverage rule the options describe (bad values raise one-line errors)."""
    from reachplan.rules import Rule

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
            return TravelRule.from_roads(roads, float(travel_minutes), profile=profile,
                                         speeds=speeds, speed_col=speed_col,
                                         maxspeed_factor=maxspeed_factor,
                                         min_centers=min_centers, offroad_kmh=offroad_kmh,
                                         max_snap_km=max_snap_km, progress=Steps())

    if radius_km is not None and radius_km < 0:
        raise click.BadParameter(f"{radius_km:g} is negative; give a distance >= 0 km",
                                 param_hint="--radius-km")
    if radius_km is not None and not math.isfinite(radius_km):
        raise click.BadParameter(f"{radius_km:g} is not a finite distance; give km >= 0",
                                 param_hint="--radius-km")
    if radius_km is None:
        return Rule.presence(min_centers=min_centers)
    return Rule.radius(radius_km, min_centers=min_centers)


def configure_logging(verbosity: int, quiet: bool) -> None:
    """Messages go to stderr: warnings by default, none with -q, details with -v."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    base = (ctx.find_root().obj or {}).get("verbosity", 0)
    ctx.meta["reachplan.level"] = -1 if quiet else verbosity + base


def _level() -> int:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get("reachplan.level", 0) if ctx else 0


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """The one way the CLI writes messages and reports for people (stdout or, ``err``,
    stderr): every line rendered inert for a terminal or a CI log (control characters
    visible, no GitHub workflow command; :func:`reachplan.text.terminal_text`). Values are
    best rendered where they are formatted too (:func:`reachplan.text.for_terminal`), so
    that one keeps to one line; the second pass leaves them as they are."""
    click.echo(terminal_text(text), err=err, nl=nl)


def info(message: str) -> None:
    """A progress or detail message, shown with -v."""
    if _level() >= 1:
        echo(f"reachplan: {message}", err=True)


class Progress:
    """The one progress display of the CLI: a click progress bar on stderr for work with a
    known size (``progress(done, total)``), or a status line (:meth:`note`). Only when stderr
    is a terminal and not ``-q``: nothing in pipes, CI logs or captured output."""

    def __init__(self, label: str) -> None:
        self.label = label
        stream = sys.stderr
        self.enabled = _level() >= 0 and hasattr(stream, "isatty") and stream.isatty()
        self._bar: Any = None
        self._noted = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if self._bar is None or self._bar.length != total:
            self.close()
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr,
                                          show_pos=True, show_percent=True, show_eta=True)
        self._bar.update(max(done - self._bar.pos, 0))

    def note(self, text: str) -> None:
        """A status line where no total is known (e.g. a solver's gap), redrawn in place."""
        if self.enabled:
            self.close()
            click.echo(f"\r{self.label}: {text}   ", nl=False, err=True)
            self._noted = True

    def close(self) -> None:
        if self._bar is not None:
            self._bar.render_finish()
            self._bar = None
        if self._noted:
            click.echo("", err=True)
            self._noted = False


class Steps:
    """A library's ``progress(what, done, total)`` on the one progress display: a bar per step
    with a size, a status line counting while the size is unknown (total 0); a step ends
    when done reaches its total, or when another begins."""

    def __init__(self) -> None:
        self.what: str | None = None
        self.display: Progress | None = None

    def __call__(self, what: str, done: int, total: int) -> None:
        if what != self.what or self.display is None:
            self.close()
            self.what, self.display = what, Progress(f"reachplan: {what}")
        if total > 0:
            self.display(done, total)
            if done >= total:
                self.close()
        else:
            self.display.note(f"{done:,}" if done else "...")

    def close(self) -> None:
        if self.display is not None:
            self.display.close()
        self.what, self.display = None, None


def load_inputs(opts: dict[str, Any]):
    """Read BOUNDARIES and CENTERS as the options say; returns (districts, centres, rule)."""
    from reachplan.io import read_boundaries

    configure_logging(opts.get("verbosity", 0), opts.get("quiet", False))
    rule = make_rule(opts.get("radius_km"), opts.get("min_centers", 1),
                     **{k: opts[k] for k in RULE_KEYS[2:] if opts.get(k) is not None})
    boundaries, bdefaults = resolve_dataset(opts["boundaries"], "boundaries")
    centers, cdefaults = resolve_dataset(opts["centers"], "centers")
    with flags_for(**BOUNDARY_FLAGS):
        districts = read_boundaries(
            boundaries, layer=opts.get("layer"), crs=opts.get("boundaries_crs"),
            id_col=opts.get("id_col") or bdefaults.get("id_col"),
            name_col=opts.get("name_col") or bdefaults.get("name_col"),
            group_col=opts.get("group_col") or bdefaults.get("group_col"),
            weight_col=opts.get("weight_col") or bdefaults.get("weight_col"))
    points = read_centres(centers, opts, cdefaults.get("name_col"))
    return (name_as_given(districts, opts["boundaries"]), name_as_given(points, opts["centers"]),
            rule)


def read_centres(path: str, opts: dict[str, Any], name_col: str | None = None):
    """CENTERS at ``path`` as the centre options in ``opts`` say (``center_options``; errors
    name those options); ``name_col``: the name column when ``--center-name-col`` is not
    given."""
    from reachplan.io import read_points

    with flags_for(**CENTRE_FLAGS):
        return read_points(path, lat_col=opts.get("lat_col"), lon_col=opts.get("lon_col"),
                           name_col=opts.get("center_name_col") or name_col,
                           layer=opts.get("centers_layer"), crs=opts.get("centers_crs"),
                           where=opts.get("where") or None, strict=opts.get("strict", False))


ALIASES = {
    "india": "india_districts",
    "india-states": "india_states",
    "india-sample": "india_sample_centres",
    "india-post-ho": "india_head_offices",
    "india-pincodes": "india_pincodes",
}


_GIVEN: dict[str, str] = {}  # path of an embedded dataset -> the name the user typed


def as_given(text: str) -> str:
    """``text`` with embedded datasets' local paths replaced by the names the user typed
    (``@india``), so messages and outputs are the same bytes on every machine."""
    for resolved, given in _GIVEN.items():
        text = text.replace(resolved, given)
    return text


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


def log_warnings(messages: list[str]) -> None:
    """Warnings about the inputs, on stderr unless -q."""
    if _level() >= 0:
        for message in messages:
            echo(f"reachplan: warning: {for_terminal(as_given(message))}", err=True)


@contextlib.contextmanager
def cache_warnings() -> Iterator[None]:
    """The road-graph cache's warnings (an entry not trusted) as ``reachplan: warning:``
    lines, like the inputs' warnings; other warnings pass on untouched."""
    import warnings

    from reachplan.roads.cache import CacheWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    log_warnings([str(w.message) for w in caught if issubclass(w.category, CacheWarning)])
    for w in caught:
        if not issubclass(w.category, CacheWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _finite(data: Any) -> Any:
    """``data`` with NaN and infinities as ``None``: JSON has no such numbers."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def emit_json(data: Any, output: str | None, overwrite: bool) -> None:
    """JSON to stdout, or atomically to a file."""
    text = json.dumps(_finite(data), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    emit_text(for_json_text(text), output, overwrite)


def emit_report(text: str, output: str | None, overwrite: bool) -> None:
    """A report for people (tables, summaries) to stdout or a file, rendered as :func:`echo`
    renders it, so that the file holds what the terminal shows."""
    emit_text(terminal_text(text), output, overwrite)


def emit_text(text: str, output: str | None, overwrite: bool) -> None:
    """Text to stdout (``None`` or ``-``) or to a file, as it is (JSON, XML: their own sinks
    rendered it); lands with the command's outputs."""
    from reachplan.io import atomic_output

    with atomic_output(output or "-", overwrite=overwrite) as tmp:
        tmp.write_text(as_given(text), encoding="utf-8")


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
