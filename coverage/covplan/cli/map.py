"""``covplan map``: the interactive coverage map (and optionally a PNG of it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from covplan.cli.options import (
    handle_errors,
    info,
    input_options,
    load_inputs,
    log_warnings,
    overwrite_opt,
    split_inputs,
)


def run_map(
    result: Any,
    output: str | Path,
    *,
    png: str | Path | None = None,
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
) -> list[Path]:
    """Write the HTML map of ``result`` (and a PNG when ``png`` is given); return the paths.

    Both outputs are checked before either is written, so a refused PNG leaves no HTML behind.
    Used by ``covplan map``, ``covplan demo`` and ``covplan plan --map``.
    """
    from covplan.errors import InputError
    from covplan.maps import coverage_map, write_map, write_png

    targets = [Path(output)] + ([Path(png)] if png is not None else [])
    for target in targets:
        if target.exists() and not overwrite:
            raise InputError(f"{target}: already exists; pass --overwrite to replace it")
        if not target.parent.exists():
            raise InputError(f"{target}: folder {target.parent} does not exist; create it first")
    m = coverage_map(result, title=title, color_by=color_by, show_radius=show_radius,
                     offline=offline, assets=assets, tiles=tiles, simplify_m=simplify_m,
                     sites=sites, before=before, type_col=type_col)
    written = [write_map(m, output, overwrite=overwrite)]
    if png is not None:
        written.append(write_png(result, png, title=title, color_by=color_by,
                                 simplify_m=simplify_m, overwrite=overwrite))
    return written


@click.command("map", short_help="Write an interactive coverage map (HTML).")
@input_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="HTML file to write, e.g. maps/coverage.html.")
@click.option("--title", default=None, help="Title shown on the map and as the page title.")
@click.option("--color-by", type=click.Choice(["status", "centers", "per-weight"]),
              default="status", show_default=True,
              help="Colour districts by coverage status, by centres inside (classed), or by "
                   "centres per 100,000 of --weight-col (classed).")
@click.option("--show-radius", is_flag=True,
              help="Draw a ring of --radius-km around every centre.")
@click.option("--offline", is_flag=True,
              help="One self-contained file that opens with no network: Leaflet inlined, "
                   "no base map unless --tiles names a local tile URL.")
@click.option("--assets", type=click.Path(exists=True, file_okay=False), default=None,
              help="With --offline: folder holding leaflet.js, leaflet.css, "
                   "leaflet.markercluster.js, MarkerCluster.css, MarkerCluster.Default.css "
                   "[default: from the installed xstatic packages].")
@click.option("--tiles", default=None, metavar="URL",
              help="Base map tile URL template, e.g. http://localhost:8080/{z}/{x}/{y}.png "
                   "[default: OpenStreetMap; none with --offline].")
@click.option("--simplify-m", type=click.FloatRange(min=0), default=None, metavar="M",
              help="Simplify district outlines to this tolerance in metres, keeping "
                   "neighbours' shared edges [default: 1000; 0 keeps every vertex].")
@click.option("--png", default=None, type=click.Path(dir_okay=False),
              help="Also write a static PNG picture of the map (for slides).")
@overwrite_opt
@handle_errors
def map_cmd(**kwargs: Any) -> None:
    """Write an interactive coverage map: districts coloured by coverage, group outlines,
    gaps highlighted, clustered centres with popups, a legend and summary, a district search
    box, hover tooltips and full screen. Every value from the input files is HTML-escaped.

    The India default map is about 1.1 MB; --offline adds about 0.2 MB of inlined Leaflet.

    \b
    Examples:
      covplan map @india @india-sample -o maps/coverage.html
      covplan map districts.gpkg centres.csv --radius-km 25 --show-radius -o map.html
      covplan map districts.gpkg centres.csv --weight-col pop --color-by per-weight \\
          --offline --png map.png -o map.html
    """
    from covplan.engine import assess

    opts, own = split_inputs(kwargs)
    districts, centers, rule = load_inputs(opts)
    result = assess(districts, centers, rule, type_col=opts.get("type_col"))
    log_warnings(result.warnings)
    written = run_map(result, own["output"], png=own["png"], overwrite=own["overwrite"],
                      title=own["title"], color_by=own["color_by"],
                      show_radius=own["show_radius"], offline=own["offline"],
                      assets=own["assets"], tiles=own["tiles"], simplify_m=own["simplify_m"],
                      type_col=opts.get("type_col"))
    info("wrote " + ", ".join(str(p) for p in written))
