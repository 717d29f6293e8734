"""The static picture of a coverage map (matplotlib, Agg): PNG for slides and reports."""

from __future__ import annotations

import io
import math
import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from reachplan.errors import InputError
from reachplan.io import atomic_output
from reachplan.maps.geometry import _decimals, _Encoded, simplified
from reachplan.maps.payload import COLOR_BY, _classes, _text

_DEFAULT_WIDTH_PX = 1000


def write_png(
    result: Any,
    path: str | os.PathLike,
    *,
    title: str | None = None,
    color_by: str = "status",
    simplify_m: float | None = None,
    size: tuple[int, int] | None = None,
    dpi: int = 100,
    overwrite: bool = False,
) -> Path:
    """Write a static picture of the coverage map (matplotlib, Agg) as PNG.

    Districts are coloured as in :func:`coverage_map`, group outlines drawn on top and centres
    shown as small dots; the aspect ratio follows the mean latitude, and the legend sits beside
    the map, never on it.

    Parameters
    ----------
    size
        Width and height of the picture in pixels (default: 1,000 wide, as high as the map
        needs).
    dpi
        Dots per inch: the scale of text and lines, and the resolution written in the file.
    """
    data = png_bytes(result, title=title, color_by=color_by, simplify_m=simplify_m, size=size,
                     dpi=dpi)
    path = Path(path)
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return path


def png_bytes(result: Any, *, title: str | None = None, color_by: str = "status",
              simplify_m: float | None = None, size: tuple[int, int] | None = None,
              dpi: int = 100) -> bytes:
    """The picture of :func:`write_png` as PNG bytes (nothing written)."""
    fig = _figure(result, title=title, color_by=color_by, simplify_m=simplify_m, size=size,
                  dpi=dpi)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


#: Margin round the data in the picture, as a share of its extent.
_PAD = 0.02


def _extent(districts: np.ndarray, centres: np.ndarray) -> tuple[float, float, float, float]:
    """``xmin, ymin, xmax, ymax`` of the districts (unsimplified) and the centres, padded by
    :data:`_PAD` of the extent on each side, so nothing drawn is cut at the edge."""
    geoms = np.concatenate([np.asarray(districts, dtype=object),
                            np.asarray(centres, dtype=object)])
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(geoms))
    dx, dy = _PAD * max(xmax - xmin, 1e-9), _PAD * max(ymax - ymin, 1e-9)
    return xmin - dx, ymin - dy, xmax + dx, ymax + dy


def _figure(result: Any, *, title: str | None, color_by: str, simplify_m: float | None,
            size: tuple[int, int] | None, dpi: int) -> Any:
    """The matplotlib Figure of the picture."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.path import Path as MplPath

    if color_by not in COLOR_BY:
        raise InputError(f"color_by={color_by}: use one of {', '.join(COLOR_BY)}",
                         params=("color_by",))
    if not dpi > 0 or (size is not None and not (size[0] > 0 and size[1] > 0)):
        raise InputError(f"size {size} and dpi {dpi}: give positive pixel counts and dpi")
    districts = result.districts
    pts = result.centers.geometry.values
    simple, simplify_m = simplified(districts.geometry.values, simplify_m, pts)
    cls, classes, heading = _classes(districts, color_by)

    def paths(geom: Any) -> list[MplPath]:
        out = []
        for part in shapely.get_parts(geom):
            if part.geom_type != "Polygon" or part.is_empty:
                continue
            rings = [np.asarray(part.exterior.coords)[:, :2]]
            rings += [np.asarray(h.coords)[:, :2] for h in part.interiors]
            out.append(MplPath.make_compound_path(*[MplPath(r, closed=True) for r in rings]))
        return out

    polys, colours = [], []
    for geom, c in zip(simple, cls, strict=True):
        for p in paths(geom):
            polys.append(p)
            colours.append(classes[c]["color"])
    xmin, ymin, xmax, ymax = _extent(districts.geometry.values, pts)
    aspect = 1 / max(0.2, math.cos(math.radians((ymin + ymax) / 2)))
    map_share = 0.74  # of the width: the legend has the rest, beside the map
    if size is None:
        width_in = _DEFAULT_WIDTH_PX / dpi
        height_in = width_in * map_share * min(2.0, aspect * (ymax - ymin)
                                               / max(xmax - xmin, 1e-9)) + 0.6
    else:
        width_in, height_in = size[0] / dpi, size[1] / dpi
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    ax = fig.add_axes((0.01, 0.01, map_share, 0.9 if title else 0.98))
    ax.set_anchor("NE")
    ax.add_collection(PathCollection(polys, facecolors=colours, edgecolors="#666666",
                                     linewidths=0.15))
    groups = [_text(g) for g in districts["group"].tolist()]
    names = {g: i for i, g in enumerate(sorted({g for g in groups if g is not None}))}
    if names:
        enc = _Encoded(simple, np.array([-1 if g is None else names[g] for g in groups],
                                        dtype=np.int64),
                       _decimals(simplify_m))
        ax.add_collection(LineCollection(enc.outline_lines(), colors="#333333",
                                         linewidths=0.5))
    if len(pts):
        ax.scatter(shapely.get_x(pts), shapely.get_y(pts), s=2, c="#222222", linewidths=0)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect(aspect)
    ax.set_axis_off()
    s = result.summary
    if title:
        fig.suptitle(title, fontsize=13, y=0.985, parse_math=False)  # '$' is not TeX here
    handles: list[Any] = [Patch(facecolor=c["color"], edgecolor="#666666", label=c["label"])
                          for c in classes]
    if len(pts):
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=2,
                              color="#222222", label=f"centre ({len(pts):,})"))
    # what "covered" means, wrapped to the legend's width ('$' in a file name is not TeX)
    rule = textwrap.fill(f"covered: {result.rule.describe()}", width=34).replace("$", r"\$")
    ax.legend(handles=handles, title=f"{heading}\n{s['covered']} of {s['districts']} districts "
              f"covered ({s['percent']:.2f}%)\n{rule}", loc="upper left",
              bbox_to_anchor=(1.02, 1.0), fontsize=8, title_fontsize=8, frameon=True)
    return fig
