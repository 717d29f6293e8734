"""Cell centres of a raster grid as WGS84 latitudes and longitudes.

A cell (row ``r``, column ``c``) of a grid with affine transform ``(a, b, c, d, e, f)`` has
its centre at ``x = c + (col + ½)·a + (row + ½)·b``, ``y = f + (col + ½)·d + (row + ½)·e`` in
the raster's CRS; a raster in any other CRS than WGS84 longitude/latitude has its centres
transformed by ``pyproj`` (always x then y). Longitudes come back in [-180, 180) (a 0-360°
grid wraps); centres that land off the Earth (a projected grid's corners) are reported as not
finite, for the caller to count.

Why the centre: a cell is demand at its centre for a rule (within R km, within T minutes),
as a demand point is. Where a cell straddles R only part of its people are within R; the
centre decides all of them. The error is bounded by the cells cut by the circle of radius R,
half a cell wide either side of it: see docs/guides/population.md for its measured size.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer

__all__ = ["cell_centres", "is_wgs84"]

_WGS84 = CRS.from_epsg(4326)


@lru_cache(maxsize=8)
def _transformer(crs_wkt: str) -> Transformer | None:
    crs = CRS.from_wkt(crs_wkt)
    if is_wgs84(crs):
        return None
    return Transformer.from_crs(crs, _WGS84, always_xy=True)


def is_wgs84(crs: CRS) -> bool:
    """Whether ``crs`` is WGS84 longitude/latitude (axis order aside)."""
    return bool(crs.is_geographic and crs.equals(_WGS84, ignore_axis_order=True))


def cell_centres(transform: tuple[float, ...], rows: np.ndarray, cols: np.ndarray,
                 crs_wkt: str) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees, WGS84) of the centres of cells ``rows``, ``cols``."""
    a, b, c, d, e, f = transform
    col = cols.astype(np.float64) + 0.5
    row = rows.astype(np.float64) + 0.5
    x = c + col * a + row * b
    y = f + col * d + row * e
    transformer = _transformer(crs_wkt)
    if transformer is not None:
        x, y = transformer.transform(x, y)
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    inside = (x >= -180.0) & (x < 180.0)  # kept as computed: no rounding by the wrap
    lon = np.where(inside, x, np.where(np.isfinite(x), (x + 180.0) % 360.0 - 180.0, np.nan))
    lat = np.where(np.isfinite(y) & (np.abs(y) <= 90.0), y, np.nan)
    return lat, lon
