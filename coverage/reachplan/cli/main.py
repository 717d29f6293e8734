"""The ``reachplan`` command group.

Commands live one per module and are imported only when used, so ``reachplan --help`` stays
fast (no geopandas, no folium).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import warnings

import click

from reachplan import __version__
from reachplan.cli.options import verbosity_opt
from reachplan.cli.output import echo
from reachplan.text import for_terminal

INTERNAL_ERROR = 3  # exit code of an unexpected exception: a bug in reachplan
DEBUG_ENV = "REACHPLAN_DEBUG"  # set (to anything but "" or "0"): tracebacks of such bugs
_RUN = {"debug": False}  # --debug of the running invocation

# name -> "module:function"; a command's module imports heavy libraries inside the command
COMMANDS = {
    "coverage": "reachplan.cli.coverage:coverage",
    "gaps": "reachplan.cli.gaps:gaps",
    "check": "reachplan.cli.check:check",
    "demo": "reachplan.cli.demo:demo",
    "map": "reachplan.cli.map:map_cmd",
    "plan": "reachplan.cli.plan:plan",
    "compare": "reachplan.cli.compare:compare",
    "isochrones": "reachplan.cli.isochrones:isochrones",
    "access": "reachplan.cli.access:access",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def __call__(self, *args, **kwargs):
        """The console script's entry: this process runs one command (see
        :mod:`reachplan.cli._process`)."""
        from reachplan.cli._process import one_command_per_process

        one_command_per_process()
        return self.main(*args, **kwargs)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        """Like click's, but every error is one line on stderr (usage errors exit 2)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        _exit_on_signals()
        _RUN["debug"] = False
        try:
            with warnings.catch_warnings():  # a library's warning (numpy's RuntimeWarning):
                warnings.showwarning = _one_line_warning  # one line, not its source line
                code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            echo(f"Error: {for_terminal(exc.format_message())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:  # as exc.show() prints it, rendered inert
            echo(f"Error: {for_terminal(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except Exception as exc:  # the last resort: a bug, not the user's mistake
            if _debug():
                raise
            click.echo(internal_error(exc), err=True)
            sys.exit(INTERNAL_ERROR)
        sys.exit(code if isinstance(code, int) else 0)


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: object = None, line: str | None = None) -> None:
    text = (str(message).splitlines() or [""])[0]
    echo(f"reachplan: warning: {for_terminal(text)}", err=True)


def _debug() -> bool:
    return _RUN["debug"] or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def internal_error(exc: BaseException) -> str:
    """One line for an exception no check foresaw: its type and first line (control
    characters escaped), that it is a bug, and how to see the traceback."""
    text = str(exc).splitlines()[0] if str(exc).strip() else ""
    text = text.encode("unicode_escape").decode("ascii")[:300]
    return (f"reachplan: internal error: {type(exc).__name__}: {text}; this is a bug, please "
            f"report it; rerun as reachplan --debug COMMAND ... (or with {DEBUG_ENV}=1) to "
            "see the traceback")


def _exit_on_signals() -> None:
    """SIGTERM and SIGHUP end the run as an exception does: outputs being written are
    discarded (no temporary file is left) and the exit code is 128 + the signal."""
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            with contextlib.suppress(ValueError):  # only the main thread may set handlers
                signal.signal(getattr(signal, name), stop)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@verbosity_opt
@click.option("--debug", is_flag=True,
              help=f"Show the traceback of an internal error (or set {DEBUG_ENV}=1).")
@click.version_option(__version__, prog_name="reachplan")
@click.pass_context
def cli(ctx: click.Context, verbosity: int, debug: bool) -> None:
    """Coverage planning for service networks.

    How covered are we, where are the gaps, where do we open next? Each command reads
    district boundaries and centre locations (or the embedded India data: BOUNDARIES
    `@india`, CENTERS `@india-sample` or `@india-post-ho`) and decides coverage under an
    explicit rule: a centre inside the district (default), within --radius-km (geodesic),
    or within --travel-minutes by road (--roads, an OSM extract).

    \b
    Exit codes: 0 ok; 1 `check` threshold not met or an operation failed;
    2 bad input or usage (one line on stderr naming the file, row or option);
    3 an internal error (a bug: rerun with --debug for the traceback).

    \b
    Examples:
      reachplan demo --out maps/demo
      reachplan coverage districts.gpkg centres.csv --group-col state
      reachplan gaps districts.gpkg centres.csv --radius-km 25 -o gaps.xlsx
      reachplan check districts.gpkg centres.csv --min-percent 90
      reachplan coverage districts.gpkg centres.csv --roads india.osm.pbf --travel-minutes 30
      reachplan isochrones india.osm.pbf centres.csv --minutes 15,30,60 -o catchments.gpkg
    """
    _RUN["debug"] = debug  # read by main when an internal error ends the run
    ctx.obj = {"verbosity": verbosity}
