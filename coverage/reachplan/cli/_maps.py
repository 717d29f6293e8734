"""Writing maps for every command that draws one (map, plan --map, demo): HTML and PNG made
in memory, then written all or none."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click


def run_map(
    result: Any,
    output: str | Path,
    *,
    png: str | Path | None = None,
    png_size: tuple[int, int] | None = None,
    png_dpi: int = 100,
    overwrite: bool = False,
    title: str | None = None,
    color_by: str = "status",
    show_radius: bool = False,
    offline: bool = False,
    assets: str | None = None,
    tiles: str | None = None,
    simplify_m: float | None = None,
    sites: Any = None,
    before: Any = None,
    type_col: str | None = None,
    isochrones: Any = None,
    week: Any = None,
) -> list[str]:
    """Write the HTML map of ``result`` (and a PNG when ``png`` is given); return what was written.

    ``output`` ``-`` writes the HTML to stdout. The outputs land all or none: both are made in
    memory first (a failing PNG leaves no HTML), then written by :func:`_write_all`. Used by
    ``reachplan map``, ``reachplan demo`` and ``reachplan plan --map``.
    """
    from reachplan.maps import coverage_map, map_html
    from reachplan.maps.png import png_bytes

    check_map_outputs(output, png)
    page = map_html(coverage_map(result, title=title, color_by=color_by,
                                 show_radius=show_radius, offline=offline, assets=assets,
                                 tiles=tiles, simplify_m=simplify_m, sites=sites,
                                 before=before, type_col=type_col,
                                 isochrones=isochrones, week=week))
    outputs: list[tuple[str, bytes]] = [(str(output), page.encode("utf-8"))]
    if png is not None:
        outputs.append((str(png), png_bytes(result, title=title, color_by=color_by,
                                            simplify_m=simplify_m, size=png_size,
                                            dpi=png_dpi)))
    _write_all(outputs, overwrite=overwrite)
    return [target if target != "-" else "(stdout)" for target, _ in outputs]


def check_map_outputs(output: str | Path, png: str | Path | None) -> None:
    """Refuse a map written into a file of another type (``-o map.png``, ``--png x.html``)."""
    from reachplan.cli.errors import flags_for
    from reachplan.io import output_format

    for target, option, by_suffix in ((output, "output", {".html": "html", ".htm": "html"}),
                                      (png, "png", {".png": "png"})):
        with flags_for(path=option):
            output_format(None, target, by_suffix, "")


def _write_all(outputs: list[tuple[str, bytes]], *, overwrite: bool) -> None:
    """Write every (target, bytes) or none: each file goes to its temporary file first, and
    only when all are written are they renamed into place; ``-`` (stdout) comes last.

    Kept to this one function so that io's shared all-or-none writer can replace it.
    """
    from reachplan.io import atomic_output

    with contextlib.ExitStack() as stack:
        temps = [(stack.enter_context(atomic_output(target, overwrite=overwrite)), data)
                 for target, data in outputs if target != "-"]
        for tmp, data in temps:
            tmp.write_bytes(data)
    for target, data in outputs:
        if target == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()


def _size(ctx: click.Context, param: click.Parameter, value: str | None
          ) -> tuple[int, int] | None:
    if value is None:
        return None
    width, sep, height = value.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise click.BadParameter(f"{value!r}: give WIDTHxHEIGHT in pixels, e.g. 1600x1200",
                                 ctx=ctx, param=param)
    return int(width), int(height)


def png_options(func: Any) -> Any:
    """``--png-size`` and ``--png-dpi`` for commands that write a PNG picture."""
    func = click.option("--png-dpi", type=click.IntRange(min=10, max=1200), default=100,
                        show_default=True, metavar="DPI",
                        help="Dots per inch of the PNG: the scale of its text and lines.")(func)
    return click.option("--png-size", default=None, metavar="WxH", callback=_size,
                        help="Size of the PNG in pixels, e.g. 1600x1200 [default: 1000 wide, "
                             "as high as the map needs].")(func)
