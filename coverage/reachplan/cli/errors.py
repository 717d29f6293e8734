"""Errors on the command line: a library error becomes one line naming the running command's
options (exit 2; 1 when writing failed), and every command's outputs land all or none
(:func:`handle_errors`; :func:`flags_for` where one input's options have other names).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import click

from reachplan.cli.output import _level, as_given, echo, log_warnings


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
    from reachplan.cli.inputs import resolve_dataset  # inputs raise this module's errors

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
