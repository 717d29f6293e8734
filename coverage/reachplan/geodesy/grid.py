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

__all__ = ["cell_centres", "grid_rows", "is_wgs84", "within_counts"]

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


def grid_rows(transform: tuple[float, ...], crs_wkt: str) -> bool:
    """Whether the grid's rows are parallels and its columns meridians, west to east, in
    WGS84 (north-up, no rotation): then :func:`within_counts` answers it row by row."""
    a, b, _, d, _, _ = transform
    return b == 0 and d == 0 and a > 0 and _transformer(crs_wkt) is None


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


# --------------------------------------------------------------------------- rows of cells

def _meridian_min() -> float:
    """The least meridional radius of curvature, a(1 - e²) (at the equator), a hair less."""
    from reachplan.geodesy.sphere import GEOD

    return GEOD.a * (1.0 - GEOD.es) * (1.0 - 1e-9)


def within_counts(centre_lat: np.ndarray, centre_lon: np.ndarray, multiplicity: np.ndarray,
                  radius_m: float, row_lat: np.ndarray, lon0: float, dlon: float, width: int,
                  *, threads: int = 1) -> np.ndarray:
    """Centres within ``radius_m`` (geodesic) of every cell centre of a north-up WGS84 grid:
    rows at latitudes ``row_lat``, columns centred on ``lon0 + (j + ½)·dlon``, ``j < width``;
    each centre counts ``multiplicity`` times. An int32 array (rows, width).

    Along one parallel the geodesic distance to a centre grows with the difference of
    longitude (a geodesic's longitude moves one way, Clairaut), so the cells of a row within R
    are one run of columns either side of the centre's meridian: its half-width Δλ* is solved
    by safeguarded Newton steps on ``pyproj.Geod.inv``, and the run's two ends are then
    checked on the cells themselves (the last cell in, the first out, each measured by
    ``Geod.inv``), so every decision is the one of measuring every cell. Rows are only those
    whose latitude a geodesic of length R can reach (the meridian arc bounds the distance
    from below). Cost: a few ``inv`` per (centre, row) pair, not per cell.
    """
    from reachplan.geodesy.points import _inv

    nrows = row_lat.size
    if centre_lat.size == 0 or nrows == 0 or width == 0:
        return np.zeros((nrows, width), dtype=np.int32)
    reach_deg = np.degrees(radius_m / _meridian_min()) + 1e-9
    order = np.argsort(row_lat, kind="stable")
    sorted_lat = row_lat[order]
    lo = np.searchsorted(sorted_lat, centre_lat - reach_deg, side="left")
    hi = np.searchsorted(sorted_lat, centre_lat + reach_deg, side="right")
    per = hi - lo
    centre = np.repeat(np.arange(centre_lat.size), per)
    row = order[np.repeat(lo, per) + np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)]
    plat, plon, rlat = centre_lat[centre], centre_lon[centre], row_lat[row]
    d0 = _inv(plat, plon, rlat, plon, threads)
    keep = d0 <= radius_m
    centre, row, plat, plon, rlat = (a[keep] for a in (centre, row, plat, plon, rlat))
    half = _half_width(plat, plon, rlat, radius_m, threads)
    whole = half >= 180.0
    opens, closes, weights = [], [], []
    for shift in (-360.0, 0.0, 360.0):
        if whole.all() and shift != 0.0:
            continue
        # columns from the first at or east of the centre's meridian (distances grow east)
        # and from the one before it (distances grow west)
        meridian = np.ceil((plon + shift - lon0) / dlon - 0.5).astype(np.int64)
        east = np.floor((plon + shift + half - lon0) / dlon - 0.5).astype(np.int64)
        west = np.ceil((plon + shift - half - lon0) / dlon - 0.5).astype(np.int64)
        part = np.flatnonzero(~whole)
        geo = (plat, plon, rlat, shift, radius_m, lon0, dlon, threads)
        east = _last_within(east, meridian - 1, +1, part, geo)
        west = _last_within(west, meridian, -1, part, geo)
        if shift == 0.0:  # a whole row counts once
            west, east = np.where(whole, 0, west), np.where(whole, width - 1, east)
        else:
            west, east = np.where(whole, 1, west), np.where(whole, 0, east)
        start, stop = np.clip(west, 0, width), np.clip(east, -1, width - 1)
        ok = stop >= start
        opens.append(row[ok] * (width + 1) + start[ok])
        closes.append(row[ok] * (width + 1) + stop[ok] + 1)
        weights.append(multiplicity[centre[ok]])
    # +1 where a run opens, -1 after it closes, then a running sum along each row
    weight = np.concatenate(weights).astype(np.float64)
    size = nrows * (width + 1)
    counts = (np.rint(np.bincount(np.concatenate(opens), weights=weight, minlength=size))
              - np.rint(np.bincount(np.concatenate(closes), weights=weight, minlength=size)))
    return np.cumsum(counts.reshape(nrows, width + 1), axis=1)[:, :width].astype(np.int32)


def _half_width(plat: np.ndarray, plon: np.ndarray, rlat: np.ndarray, radius_m: float,
                threads: int) -> np.ndarray:
    """Per (centre, row), the difference of longitude (degrees, 0-180) at which the row's
    parallel leaves the circle of radius R round the centre; 180 when it never does. An
    estimate: the cells at its ends are measured by :func:`_exact_ends`."""
    from reachplan.geodesy.sphere import GEOD

    far = GEOD.inv(plon, plat, plon + 180.0, rlat)[2] <= radius_m
    low = np.zeros(plat.size)
    high = np.full(plat.size, 180.0)
    p1, p2 = np.radians(plat), np.radians(rlat)
    sphere_r = 6_371_008.8
    cos_dl = ((np.cos(radius_m / sphere_r) - np.sin(p1) * np.sin(p2))
              / np.maximum(np.cos(p1) * np.cos(p2), 1e-300))
    x = np.degrees(np.arccos(np.clip(cos_dl, -1.0, 1.0)))
    n_r = GEOD.a / np.sqrt(1.0 - GEOD.es * np.sin(p2) ** 2)
    todo = np.flatnonzero(~far)
    for _ in range(60):  # Newton converges in a few; bisection halves the bracket otherwise
        if todo.size == 0:
            break
        _, back, dist = GEOD.inv(plon[todo], plat[todo], plon[todo] + x[todo], rlat[todo])
        f = dist - radius_m
        low[todo] = np.where(f <= 0, np.maximum(low[todo], x[todo]), low[todo])
        high[todo] = np.where(f > 0, np.minimum(high[todo], x[todo]), high[todo])
        moving = (np.abs(f) > 1e-6) & (high[todo] - low[todo] > 1e-12)
        todo, f, back = todo[moving], f[moving], back[moving]
        slope = n_r[todo] * np.cos(p2[todo]) * -np.sin(np.radians(back)) * np.pi / 180.0
        step = x[todo] - f / np.where(slope > 0, slope, np.inf)
        inside = (step >= low[todo]) & (step <= high[todo]) & (step != x[todo])
        x[todo] = np.where(inside, step, (low[todo] + high[todo]) / 2)
    return np.where(far, 180.0, x)


def _last_within(end: np.ndarray, before: np.ndarray, outward: int, todo: np.ndarray,
                 geo: tuple) -> np.ndarray:
    """The last column within R going ``outward`` (+1 east, -1 west) from the centre's
    meridian, from the estimate ``end``; ``before`` is the column just short of the first one
    that way (the answer when none is within). Each move is decided by measuring the cell,
    and distances grow monotonically outward, so the answer is the cells' own."""
    plat, plon, rlat, shift, radius_m, lon0, dlon, threads = geo
    from reachplan.geodesy.points import _inv

    def inside(j: np.ndarray, which: np.ndarray) -> np.ndarray:
        lon = lon0 + (j + 0.5) * dlon - shift
        return _inv(rlat[which], lon, plat[which], plon[which], threads) <= radius_m

    end = end.copy()
    # not short of the first column, not past the estimate's own side
    end[todo] = np.where(outward * (end[todo] - before[todo]) < 0, before[todo], end[todo])
    shrink = todo[outward * (end[todo] - before[todo]) > 0]
    while shrink.size:  # the end cell must be within R
        out = ~inside(end[shrink], shrink)
        shrink = shrink[out]
        end[shrink] -= outward
        shrink = shrink[outward * (end[shrink] - before[shrink]) > 0]
    grow = todo
    while grow.size:  # and the next cell out must not be
        more = inside(end[grow] + outward, grow)
        grow = grow[more]
        end[grow] += outward
    return end
