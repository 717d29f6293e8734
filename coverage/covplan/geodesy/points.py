"""Exact geodesic queries from many points to a set of centres (WGS84).

How a point is decided
----------------------
Centres go into a KD-tree of unit vectors built from their *conformal* latitude and longitude.
That map from the WGS84 ellipsoid to the unit sphere is conformal, so it stretches every length
element by one factor ``k(φ) = N(φ) cos φ / cos χ`` whatever the direction; ``k`` falls from
``a`` at the equator to about ``a - 21.3 km`` at the poles. For two points at angle θ on the
sphere: the great circle between them, stretched at most by ``max k``, bounds the geodesic
distance from above, and the geodesic, stretched at least by ``min k``, bounds it from below,
with ``k`` taken over the band of latitudes the two paths can reach (``_scale_bounds``). The
bounds are about 0.34% apart worldwide and far less within a band of a few degrees.

So the sphere is only a filter: a point is surely within reach (or surely not) when the bounds
say so; the few within the bounds' reach of R, and every centre that could be the nearest one,
are measured with ``pyproj.Geod(ellps="WGS84").inv``. Decisions and nearest centres are
therefore those of a brute-force pyproj loop over every centre.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pyproj import Geod

__all__ = ["CentreIndex", "nearest_centres"]

_GEOD = Geod(ellps="WGS84")
_E = math.sqrt(_GEOD.es)
_ABS_TOL_RAD = 1e-12  # 6 micrometres on the ground
_PYPROJ_TOL_M = 1e-6  # pyproj's geodesics are exact to 15 nanometres


def _conformal(lat: np.ndarray) -> np.ndarray:
    """Conformal latitude χ in radians of geodetic latitudes in degrees.

    Written with tan φ and atan so that it keeps full precision next to the poles.
    """
    phi = np.radians(lat)
    psi = np.arcsinh(np.tan(phi)) - _E * np.arctanh(_E * np.sin(phi))
    return np.arctan(np.sinh(psi))


def _scale_table() -> tuple[float, np.ndarray, np.ndarray]:
    """Step h and tables of k (metres per radian) at conformal latitudes 0, h, 2h, ... 90°.

    ``upper[j] >= k(χ)`` for ``χ >= j·h`` and ``lower[j] <= k(χ)`` for ``χ <= j·h``, as k falls
    monotonically (checked). Above 89.9° cos φ / cos χ loses precision, so there the tables
    hold k(89.9°) (upper) and the exact limit at the pole (lower),
    ``a / sqrt(1-e²) / ((1+e)/(1-e))^(e/2)``.
    """
    steps = 180_000
    step = (math.pi / 2) / steps
    chi = np.arange(steps + 1) * step
    cap = np.radians(89.9)
    inner = chi[chi < cap]
    psi = np.arcsinh(np.tan(inner))
    phi = inner.copy()
    for _ in range(12):  # φ from χ: tan φ = sinh(ψ + e·atanh(e·sin φ)), a contraction (e²)
        phi = np.arctan(np.sinh(psi + _E * np.arctanh(_E * np.sin(phi))))
    if np.abs(_conformal(np.degrees(phi)) - inner).max() > 1e-14:  # pragma: no cover
        raise RuntimeError("conformal latitude did not invert")
    k = _GEOD.a / np.sqrt(1 - _GEOD.es * np.sin(phi) ** 2) * np.cos(phi) / np.cos(inner)
    pole = _GEOD.a / math.sqrt(1 - _GEOD.es) / ((1 + _E) / (1 - _E)) ** (_E / 2)
    if not (np.all(np.diff(k) <= 0) and pole < k[-1]):  # pragma: no cover
        raise RuntimeError("conformal scale is not monotonic; geodesic filter unsafe")
    rest = chi.size - inner.size
    upper = np.append(k, np.full(rest, k[-1])) * (1 + 1e-9)
    lower = np.append(k, np.full(rest, pole)) * (1 - 1e-9)
    return step, upper, lower


# The tables take a noticeable part of a command's start-up: built on first use only.
_scale_tables = functools.cache(_scale_table)
# bounds anywhere on Earth: the tables' ends, k at the equator (a) and at the pole
_K_MAX = _GEOD.a * (1 + 1e-9)
_K_MIN = _GEOD.a / math.sqrt(1 - _GEOD.es) / ((1 + _E) / (1 - _E)) ** (_E / 2) * (1 - 1e-9)
_RATIO = _K_MAX / _K_MIN


def _scale_bounds(chi: np.ndarray, reach: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of k over conformal latitudes within ``reach`` of ``chi``."""
    lo, hi = chi - reach, chi + reach
    a_lo = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    a_hi = np.minimum(np.maximum(np.abs(lo), np.abs(hi)), math.pi / 2)
    step, k_upper, k_lower = _scale_tables()
    last = k_upper.size - 1
    # grid point at or below a_lo (k there is larger), at or above a_hi (smaller); the cells
    # are 9 microradians, so float rounding of the index moves k by far less than the margin
    i_lo = np.clip(np.floor(a_lo / step).astype(np.int64) - 1, 0, last)
    i_hi = np.clip(np.ceil(a_hi / step).astype(np.int64) + 1, 0, last)
    return k_lower[i_hi], k_upper[i_lo]


def _unit_vectors(chi: np.ndarray, lon: np.ndarray) -> np.ndarray:
    lam = np.radians(lon)
    cos_chi = np.cos(chi)
    return np.column_stack((cos_chi * np.cos(lam), cos_chi * np.sin(lam), np.sin(chi)))


def _inv(lat1, lon1, lat2, lon2, threads: int) -> np.ndarray:
    """Geodesic WGS84 distances in metres (pyproj releases the GIL, so threads help)."""
    n = lat1.size
    if threads <= 1 or n < 50_000:
        return _GEOD.inv(lon1, lat1, lon2, lat2, return_back_azimuth=False)[2]
    bounds = np.linspace(0, n, threads + 1).astype(int)
    slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    with ThreadPoolExecutor(threads) as pool:
        parts = pool.map(
            lambda s: _GEOD.inv(lon1[s], lat1[s], lon2[s], lat2[s],
                                return_back_azimuth=False)[2], slices)
        return np.concatenate(list(parts))


def distinct(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct coordinates: the lowest position of each (ascending), and for every input
    position the rank of its coordinate among them."""
    order = np.lexsort((lon, lat))
    new = np.ones(order.size, dtype=bool)
    new[1:] = (np.diff(lat[order]) != 0) | (np.diff(lon[order]) != 0)
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    first = np.full(int(new.sum()), order.size, dtype=np.int64)
    np.minimum.at(first, group, np.arange(order.size))
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return np.sort(first), rank[group]


class Members:
    """Every position holding each distinct coordinate (from :func:`distinct`'s ranks)."""

    def __init__(self, rank: np.ndarray, n_distinct: int) -> None:
        self.order = np.argsort(rank, kind="stable")
        self.start = np.searchsorted(rank[self.order], np.arange(n_distinct + 1))

    def expand(self, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each of ``entries`` (distinct-coordinate ranks), how many positions hold it,
        and all those positions, entry after entry (ascending within one)."""
        counts = self.start[entries + 1] - self.start[entries]
        first = np.repeat(self.start[entries], counts)
        offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return counts, self.order[first + offset]


class CentreIndex:
    """Conformal-sphere KD-tree of centres answering exact geodesic queries."""

    def __init__(self, lat: np.ndarray, lon: np.ndarray) -> None:
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        # centres sharing a coordinate are one entry (answered by the lowest position), so
        # thousands of centres at one place cost what one does
        keep, rank = distinct(lat, lon)
        self.position = keep  # position in the caller's order of each entry
        # every position of each entry, for queries that want all centres (capacities)
        self.members = Members(rank, keep.size)
        self.lat = np.ascontiguousarray(lat[keep])
        self.lon = np.ascontiguousarray(lon[keep])
        from scipy.spatial import cKDTree  # here, not at import: a third of a start-up

        self.tree = (cKDTree(_unit_vectors(_conformal(self.lat), self.lon))
                     if self.lat.size else None)

    def nearest(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1
                ) -> tuple[np.ndarray, np.ndarray]:
        """Position of the geodesic-nearest centre (lowest position on ties) and metres."""
        n = lat.size
        if self.tree is None or n == 0:
            return np.full(n, -1, dtype=np.int64), np.full(n, np.inf)
        chi = _conformal(lat)
        xyz = _unit_vectors(chi, lon)
        k = min(2, self.lat.size)
        chord, pos = self.tree.query(xyz, k=k, workers=threads if threads > 1 else 1)
        theta = _arc(chord.reshape(n, k))
        idx = pos.reshape(n, k)[:, 0].astype(np.int64)
        dist = _inv(lat, lon, self.lat[idx], self.lon[idx], threads)
        if k == 2:
            # the geodesic to the true nearest stays within θ1·_RATIO of the point
            k_min, k_max = _scale_bounds(chi, theta[:, 0] * _RATIO + _ABS_TOL_RAD)
            limit = (theta[:, 0] + _ABS_TOL_RAD) * k_max / k_min + _ABS_TOL_RAD
            amb = np.flatnonzero(theta[:, 1] <= limit)
            if amb.size:
                pts, cands, d = self._candidates(lat, lon, xyz, amb, _chord(limit[amb]),
                                                 threads)
                order = np.lexsort((cands, d, pts))
                first = order[np.r_[0, np.flatnonzero(np.diff(pts[order])) + 1]]
                idx[pts[first]] = cands[first]
                dist[pts[first]] = d[first]
        return self.position[idx], dist

    def covered(self, lat: np.ndarray, lon: np.ndarray, radius_m: float, *, threads: int = 1
                ) -> np.ndarray:
        """Whether some centre lies within ``radius_m`` (geodesic): pyproj only near R."""
        n = lat.size
        if self.tree is None or n == 0:
            return np.zeros(n, dtype=bool)
        chi = _conformal(lat)
        xyz = _unit_vectors(chi, lon)
        # a centre within R is reached by a geodesic whose image stays within `reach`
        reach = (radius_m + _PYPROJ_TOL_M) / _K_MIN + _ABS_TOL_RAD
        chord, _ = self.tree.query(xyz, k=1, distance_upper_bound=float(_chord(reach)),
                                   workers=threads if threads > 1 else 1)
        out = np.zeros(n, dtype=bool)
        near = np.flatnonzero(np.isfinite(chord))  # the others have no centre within R
        theta = _arc(chord[near])
        k_min, k_max = _scale_bounds(chi[near], reach)
        out[near] = (theta + _ABS_TOL_RAD) * k_max <= radius_m - _PYPROJ_TOL_M
        bound = (radius_m + _PYPROJ_TOL_M) / k_min + _ABS_TOL_RAD  # no centre beyond
        band = np.flatnonzero(~out[near] & (theta <= bound))
        if band.size:
            pts, _, d = self._candidates(lat, lon, xyz, near[band], _chord(bound[band]),
                                         threads)
            out[np.unique(pts[d <= radius_m])] = True
        return out

    def within(self, lat: np.ndarray, lon: np.ndarray, radius_m: np.ndarray, *,
               threads: int = 1, every: bool = False
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, centre position, metres) for every centre within each point's own
        ``radius_m`` (geodesic), sorted by point then centre; of centres sharing a coordinate,
        the lowest position only, or with ``every`` all of them."""
        n = lat.size
        if self.tree is None or n == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        chi = _conformal(lat)
        xyz = _unit_vectors(chi, lon)
        reach = (radius_m + _PYPROJ_TOL_M) / _K_MIN + _ABS_TOL_RAD
        k_min, _ = _scale_bounds(chi, reach)
        bound = (radius_m + _PYPROJ_TOL_M) / k_min + _ABS_TOL_RAD  # no centre beyond
        pts, cands, d = self._candidates(lat, lon, xyz, np.arange(n), _chord(bound), threads)
        ok = d <= radius_m[pts]
        pts, cands, d = pts[ok], cands[ok], d[ok]
        if every:
            counts, out = self.members.expand(cands)
            pts, d = np.repeat(pts, counts), np.repeat(d, counts)
        else:
            out = self.position[cands]
        order = np.lexsort((out, pts))
        return pts[order], out[order], d[order]

    def _candidates(self, lat, lon, xyz, which, chord, threads
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, centre, metres) for every centre within ``chord`` of the points ``which``."""
        assert self.tree is not None  # callers return early without centres
        lists = self.tree.query_ball_point(xyz[which], r=chord, workers=max(threads, 1))
        counts = np.fromiter((len(c) for c in lists), dtype=np.int64, count=len(lists))
        pts = np.repeat(which, counts)
        cands = np.fromiter((c for lst in lists for c in lst), dtype=np.int64,
                            count=int(counts.sum()))
        return pts, cands, _inv(lat[pts], lon[pts], self.lat[cands], self.lon[cands], threads)


def _arc(chord: np.ndarray) -> np.ndarray:
    return 2.0 * np.arcsin(np.minimum(chord * 0.5, 1.0))


def _chord(arc: np.ndarray | float) -> np.ndarray:
    """Chord of an arc, rounded up so a ball query keeps every centre within the arc."""
    return 2.0 * np.sin(np.minimum(arc, math.pi) * 0.5) * (1 + 1e-12) + 1e-15


def nearest_centres(lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray,
                    centre_lat: Sequence[float] | np.ndarray,
                    centre_lon: Sequence[float] | np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic WGS84 nearest centre of each point: plain numpy in, plain numpy out.

    Returns
    -------
    idx, dist_km
        Position of the nearest centre (lowest position on exact ties; -1 when there are no
        centres) and the distance in km (``inf`` when there are no centres), identical to the
        minimum of ``pyproj.Geod(ellps="WGS84").inv`` over all centres.
    """
    index = CentreIndex(np.asarray(centre_lat, dtype=float), np.asarray(centre_lon, dtype=float))
    idx, dist = index.nearest(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float),
                              threads=os.cpu_count() or 1)
    return idx, dist / 1000.0
