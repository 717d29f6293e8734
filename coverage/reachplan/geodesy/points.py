"""Exact geodesic queries from many points to a set of centres (WGS84).

How a point is decided
----------------------
Centres go into a KD-tree of unit vectors on the conformal sphere
(:mod:`reachplan.geodesy.sphere`), where every geodesic distance has a proven lower and upper
bound from the arc between its ends. The sphere is only a filter: a point is surely within
reach (or surely not) when the bounds say so; the few within the bounds' reach of R, and every
centre that could be the nearest one, are measured with ``pyproj.Geod(ellps="WGS84").inv``.
Decisions and nearest centres are therefore those of a brute-force pyproj loop over every
centre.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from reachplan.geodesy import sphere

__all__ = ["CentreIndex", "nearest_centres"]


def _inv(lat1, lon1, lat2, lon2, threads: int) -> np.ndarray:
    """Geodesic WGS84 distances in metres (pyproj releases the GIL, so threads help)."""
    n = lat1.size
    if threads <= 1 or n < 50_000:
        return sphere.GEOD.inv(lon1, lat1, lon2, lat2, return_back_azimuth=False)[2]
    bounds = np.linspace(0, n, threads + 1).astype(int)
    slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    with ThreadPoolExecutor(threads) as pool:
        parts = pool.map(
            lambda s: sphere.GEOD.inv(lon1[s], lat1[s], lon2[s], lat2[s],
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

        self.tree = (cKDTree(sphere.unit_vectors(sphere.conformal(self.lat), self.lon))
                     if self.lat.size else None)

    def nearest(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1
                ) -> tuple[np.ndarray, np.ndarray]:
        """Position of the geodesic-nearest centre (lowest position on ties) and metres."""
        n = lat.size
        if self.tree is None or n == 0:
            return np.full(n, -1, dtype=np.int64), np.full(n, np.inf)
        chi = sphere.conformal(lat)
        xyz = sphere.unit_vectors(chi, lon)
        k = min(2, self.lat.size)
        chord, pos = self.tree.query(xyz, k=k, workers=threads if threads > 1 else 1)
        theta = sphere.arc(chord.reshape(n, k))
        idx = pos.reshape(n, k)[:, 0].astype(np.int64)
        dist = _inv(lat, lon, self.lat[idx], self.lon[idx], threads)
        if k == 2:
            # the geodesic to the true nearest stays within θ1·RATIO of the point
            k_min, k_max = sphere.scale_bounds(chi,
                                               theta[:, 0] * sphere.RATIO + sphere.ABS_TOL_RAD)
            limit = (theta[:, 0] + sphere.ABS_TOL_RAD) * k_max / k_min + sphere.ABS_TOL_RAD
            amb = np.flatnonzero(theta[:, 1] <= limit)
            if amb.size:
                pts, cands, d = self._candidates(lat, lon, xyz, amb,
                                             sphere.chord(limit[amb]), threads)
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
        chi = sphere.conformal(lat)
        xyz = sphere.unit_vectors(chi, lon)
        # a centre within R is reached by a geodesic whose image stays within `reach`
        reach = sphere.reach(radius_m)
        chord, _ = self.tree.query(xyz, k=1, distance_upper_bound=float(sphere.chord(reach)),
                                   workers=threads if threads > 1 else 1)
        out = np.zeros(n, dtype=bool)
        near = np.flatnonzero(np.isfinite(chord))  # the others have no centre within R
        theta = sphere.arc(chord[near])
        k_min, k_max = sphere.scale_bounds(chi[near], reach)
        out[near] = (theta + sphere.ABS_TOL_RAD) * k_max <= radius_m - sphere.PYPROJ_TOL_M
        bound = sphere.reach(radius_m, k_min)  # no centre beyond
        band = np.flatnonzero(~out[near] & (theta <= bound))
        if band.size:
            pts, _, d = self._candidates(lat, lon, xyz, near[band],
                                         sphere.chord(bound[band]), threads)
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
        chi = sphere.conformal(lat)
        xyz = sphere.unit_vectors(chi, lon)
        reach = sphere.reach(radius_m)
        k_min, _ = sphere.scale_bounds(chi, reach)
        bound = sphere.reach(radius_m, k_min)  # no centre beyond
        pts, cands, d = self._candidates(lat, lon, xyz, np.arange(n), sphere.chord(bound),
                                         threads)
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
