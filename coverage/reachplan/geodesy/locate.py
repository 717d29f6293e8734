"""Which polygon holds each point: a grid answers most points, GEOS decides the rest.

How a point is decided
----------------------
The answer for a point is the lowest index of the polygons it *intersects* (a point on a border
shared by two districts goes to the first; one on an edge, a vertex or a hole's ring is inside),
or ``n`` when it intersects none: shapely's (GEOS's) planar test in the lon/lat plane, the one
:func:`locate_exact` runs on every point.

:class:`PolygonIndex` lays a grid over the polygons' bounding box in that same plane. A cell is
*marked* when a polygon's boundary (any ring, exterior or hole) comes within a margin of its
closed box; the margin is far above the rounding of the lookup arithmetic, so every point the
lookup sends to a cell lies within it of the cell's box. A set of unmarked cells joined by
shared edges is connected and meets no ring, so it lies inside or outside each polygon as a
whole: every point of it has the same answer, which one exact test at one cell's centre gives.
Marked cells of the top grid are split into a finer grid classified the same way; points in
marked fine cells get the exact test. So every answer equals :func:`locate_exact`'s, whatever
the input (holes, multipolygons, overlapping polygons, shared borders, lines); points outside
the closed bounding box are outside.

Cells are marked without any polygon test: each ring is cut into pieces shorter than 0.9 of a
cell along each axis, and the cells under each piece's bounding box (widened by twice the
margin) are marked; that box spans at most 2 x 2 cells. Memory is bounded: at most
``_TOP_CELLS`` top cells and ``_FINE_CELLS`` fine cells (int32), pieces made in batches.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from scipy import ndimage

__all__ = ["PolygonIndex", "exact_pairs", "locate_exact"]

_GRID_FROM = 100_000  # points located exactly before the grid pays for itself
_TOP_CELLS = 1 << 16  # cells of the top grid
_FINE_CELLS = 1 << 22  # cells of all fine blocks together (16 MB of int32)
_SPLIT = 16  # a marked top cell becomes at most _SPLIT x _SPLIT fine cells
_PIECES = 1 << 20  # ring pieces made at once (about 100 MB of arrays)
_EXACT = -1  # code of a cell whose points get the exact test; -2 - k: fine block k
_PIECE = 0.9  # longest ring piece, in cells along each axis
_MIN_CELL = 64  # smallest cell side, in margins (so a widened piece spans at most 2 cells)
_CHUNK = 1 << 19  # points looked up at once by pairs() (their temporaries are reused)
_THREADS = 2
_KEY_SHIFT = 32  # a pair's sort key: polygon << _KEY_SHIFT | point's position in its slice
_KEY_LOW = (1 << _KEY_SHIFT) - 1


def locate_exact(geoms: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Lowest index of the polygons each point intersects, ``len(geoms)`` when none.

    The points go into a tree and each prepared polygon queries it: twice as fast as a
    point-by-point query, which cannot use prepared polygons.
    """
    n = len(geoms)
    out = np.full(np.size(lon), n, dtype=np.int64)
    if out.size == 0 or n == 0:
        return out
    polys, pts = exact_pairs(geoms, lon, lat)
    np.minimum.at(out, pts, polys)
    return out


def exact_pairs(geoms: np.ndarray, lon: np.ndarray, lat: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Every (polygon, point) position pair where the point intersects the polygon, in the
    tree's order (GEOS's planar test, as :func:`locate_exact`)."""
    if np.size(lon) == 0 or len(geoms) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    shapely.prepare(geoms)
    tree = shapely.STRtree(shapely.points(lon, lat))
    polys, pts = tree.query(geoms, predicate="intersects")
    return polys.astype(np.int64), pts.astype(np.int64)


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (k x 2 each) of every segment of every ring and line; a lone point is a
    segment of length 0."""
    parts = shapely.get_parts(geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)])
    while (multi := shapely.get_type_id(parts) >= 4).any():
        parts = np.concatenate([parts[~multi], shapely.get_parts(parts[multi])])
    polygon = shapely.get_type_id(parts) == 3
    lines = np.concatenate([shapely.get_rings(parts[polygon]), parts[~polygon]])
    xy, which = shapely.get_coordinates(lines, return_index=True)
    same = which[1:] == which[:-1]
    lone = np.ones(xy.shape[0], dtype=bool)  # a coordinate on no segment: a point
    lone[1:] &= ~same
    lone[:-1] &= ~same
    return (np.concatenate([xy[:-1][same], xy[lone]]),
            np.concatenate([xy[1:][same], xy[lone]]))


class PolygonIndex:
    """Answers :func:`locate_exact` for many points, most of them by a grid lookup.

    Parameters
    ----------
    geoms
        Polygons or multipolygons in lon/lat (``None`` or empty ones hold no point).
    grid_from
        Points located by the exact test alone before the grid is built: building it takes
        about as long as testing a few hundred thousand points against India's districts.
    """

    def __init__(self, geoms: np.ndarray, *, grid_from: int = _GRID_FROM) -> None:
        self.grid_from = grid_from
        self.geoms = np.asarray(geoms, dtype=object)
        self.n = len(self.geoms)
        shapely.prepare(self.geoms)
        self._lock = threading.Lock()
        self._geos = threading.Lock()
        self._seen = 0  # points located so far
        self._built = False

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_geos")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._geos = threading.Lock()
        shapely.prepare(self.geoms)

    def _build(self) -> None:
        """The grid: top cells, fine blocks of the marked ones, and each cell's code."""
        self.top: np.ndarray | None = None  # None: no polygon holds any point
        self.fine = np.zeros(0, dtype=np.int32)
        self.top_all: np.ndarray | None = None  # the same, overlaps sent to the exact test
        self.fine_all = self.fine
        self.nx = self.ny = self.split = 1
        bounds = shapely.total_bounds(self.geoms) if self.n else np.full(4, np.nan)
        if not np.isfinite(bounds).all():
            return
        x0, y0, x1, y1 = self.bounds = tuple(float(b) for b in bounds)
        self.margin = 1e-9 * max(1.0, *(abs(b) for b in self.bounds))
        width, height = x1 - x0, y1 - y0
        smallest = _MIN_CELL * self.margin
        if min(width, height) < smallest:  # too thin for cells: every point gets the test
            self.top = self.top_all = np.array([_EXACT], dtype=np.int32)
            return
        side = max(math.sqrt(width * height / _TOP_CELLS), smallest)
        self.nx = max(1, min(int(width / side), _TOP_CELLS))
        self.ny = max(1, min(int(height / side), _TOP_CELLS // self.nx))
        start, end = _segments(self.geoms)
        marked = np.zeros(self.ny * self.nx, dtype=bool)
        for cx, cy in self._touched(start, end, 1):
            marked[cy * self.nx + cx] = True
        top = np.full(marked.size, _EXACT, dtype=np.int32)
        blocks = np.flatnonzero(marked)
        room = min(_SPLIT, math.isqrt(_FINE_CELLS // max(blocks.size, 1)),
                   int(min(width / self.nx, height / self.ny) / smallest))
        shift = max(room, 1).bit_length() - 1  # fine cells per top cell side: 2**shift
        fine_marked = None
        if shift and blocks.size:
            split = self.split = 1 << shift
            low = split - 1
            block_of = np.full(marked.size, -1, dtype=np.int64)
            block_of[blocks] = np.arange(blocks.size) << (2 * shift)
            fine_marked = np.zeros(blocks.size << (2 * shift), dtype=bool)
            for cx, cy in self._touched(start, end, split):
                at = block_of[(cy >> shift) * self.nx + (cx >> shift)]
                at += ((cy & low) << shift) + (cx & low)
                fine_marked[at[at >= 0]] = True
            top[blocks] = -2 - np.arange(blocks.size, dtype=np.int32)
        # unmarked cells: one exact test per edge-connected set, at one cell's centre
        top_sets, n_top = ndimage.label(~marked.reshape(self.ny, self.nx))
        top_rep = self._representatives(top_sets.ravel(), n_top)
        half = self.split / 2
        fx = [(top_rep % self.nx) * self.split + half]
        fy = [(top_rep // self.nx) * self.split + half]
        if fine_marked is not None:
            plane = np.zeros((3, 3, 3), dtype=bool)
            plane[1] = ndimage.generate_binary_structure(2, 1)
            fine_sets, n_fine = ndimage.label(~fine_marked.reshape(-1, split, split),
                                              structure=plane)
            rep = self._representatives(fine_sets.ravel(), n_fine)
            b, r, c = rep >> (2 * shift), (rep >> shift) & low, rep & low
            fx.append((blocks[b] % self.nx) * split + c + 0.5)
            fy.append((blocks[b] // self.nx) * split + r + 0.5)
        cols, rows = self.nx * self.split, self.ny * self.split
        polys, reps = exact_pairs(self.geoms, x0 + np.concatenate(fx) * (width / cols),
                                  y0 + np.concatenate(fy) * (height / rows))
        answer = np.full(n_top + sum(len(x) for x in fx[1:]), self.n, dtype=np.int64)
        np.minimum.at(answer, reps, polys)
        # sets inside two polygons or more (overlaps): their points get the exact test when
        # every pair is asked for (pairs()), not only the lowest polygon
        several = np.bincount(reps, minlength=answer.size) > 1
        self.top, self.fine = self._codes(answer, None, marked, top, top_sets, n_top,
                                          fine_marked, fine_sets if fine_marked is not None
                                          else None)
        self.top_all, self.fine_all = self.top, self.fine
        if several.any():
            self.top_all, self.fine_all = self._codes(
                answer, several, marked, top, top_sets, n_top, fine_marked,
                fine_sets if fine_marked is not None else None)

    @staticmethod
    def _codes(answer: np.ndarray, several: np.ndarray | None, marked: np.ndarray,
               top: np.ndarray, top_sets: np.ndarray, n_top: int,
               fine_marked: np.ndarray | None, fine_sets: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Each top and fine cell's code from its set's answer (``several``: sets sent to
        the exact test instead)."""
        code = answer.astype(np.int32)
        if several is not None:
            code[several] = _EXACT
        lookup = np.concatenate([[_EXACT], code[:n_top]]).astype(np.int32)
        top_code = np.where(marked, top, lookup[top_sets.ravel()])
        fine_code = np.zeros(0, dtype=np.int32)
        if fine_marked is not None and fine_sets is not None:
            lookup = np.concatenate([[_EXACT], code[n_top:]]).astype(np.int32)
            fine_code = lookup[fine_sets.ravel()]
        return top_code, fine_code

    @staticmethod
    def _representatives(labels: np.ndarray, count: int) -> np.ndarray:
        """One cell (flat position) of each set labelled 1..count."""
        rep = np.zeros(count + 1, dtype=np.int64)
        rep[labels] = np.arange(labels.size)  # any member will do: the set is uniform
        return rep[1:]

    def _touched(self, start: np.ndarray, end: np.ndarray, split: int):
        """Batches of (column, row) of the cells that segments start-end may come within the
        margin of, in the grid of (nx*split) x (ny*split) cells."""
        x0, y0, x1, y1 = self.bounds
        cols, rows = self.nx * split, self.ny * split
        sx, sy = cols / (x1 - x0), rows / (y1 - y0)
        m = 2 * self.margin
        d = end - start
        pieces = np.ceil(np.maximum(np.abs(d[:, 0]) * sx, np.abs(d[:, 1]) * sy) / _PIECE)
        pieces = np.maximum(pieces, 1).astype(np.int64)
        ends = np.cumsum(pieces)
        first = 0
        while first < pieces.size:
            last = max(int(np.searchsorted(ends, ends[first] - pieces[first] + _PIECES)),
                       first + 1)
            k = pieces[first:last]
            seg = np.repeat(np.arange(first, last), k)
            t0 = np.arange(seg.size) - np.repeat(np.cumsum(k) - k, k)  # piece j of k
            kk = k[seg - first]
            t1 = (t0 + 1) / kk
            t0 = t0 / kk
            for axis, origin, scale, cells in ((0, x0, sx, cols), (1, y0, sy, rows)):
                a = start[seg, axis] + d[seg, axis] * t0
                b = start[seg, axis] + d[seg, axis] * t1
                lo = np.clip(((np.minimum(a, b) - m - origin) * scale), 0, cells - 1)
                hi = np.clip(((np.maximum(a, b) + m - origin) * scale), 0, cells - 1)
                if axis == 0:
                    xs = (lo.astype(np.int64), hi.astype(np.int64))
                else:
                    ys = (lo.astype(np.int64), hi.astype(np.int64))
            for x in xs:
                for y in ys:
                    yield x, y
            first = last

    def _ensure(self, lon: np.ndarray, *, now: bool = False) -> None:
        with self._lock:
            self._seen += lon.size
            if not self._built and (now or self._seen >= self.grid_from):
                self._build()
                self._built = True

    def _lookup(self, lon: np.ndarray, lat: np.ndarray, top: np.ndarray, fine: np.ndarray
                ) -> np.ndarray:
        """Each point's cell's code (``top``/``fine``; ``n`` outside the grid's box), int32."""
        x0, y0, x1, y1 = self.bounds
        inbox = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        if inbox.all():
            return self._cell_codes(lon, lat, top, fine)
        at = np.flatnonzero(inbox)
        code = np.full(lon.size, self.n, dtype=np.int32)
        code[at] = self._cell_codes(lon[at], lat[at], top, fine)
        return code

    def _cell_codes(self, lon: np.ndarray, lat: np.ndarray, top: np.ndarray, fine: np.ndarray
                    ) -> np.ndarray:
        """The codes of the cells of points inside the grid's box (int32: the cell numbers
        fit, there being at most ``_TOP_CELLS`` top and ``_FINE_CELLS`` fine cells)."""
        x0, y0, x1, y1 = self.bounds
        shift = self.split.bit_length() - 1
        cols, rows = self.nx << shift, self.ny << shift
        fx = ((lon - x0) * (cols / (x1 - x0) if x1 > x0 else 0.0)).astype(np.int32)
        fy = ((lat - y0) * (rows / (y1 - y0) if y1 > y0 else 0.0)).astype(np.int32)
        np.clip(fx, 0, cols - 1, out=fx)
        np.clip(fy, 0, rows - 1, out=fy)
        code = top.take((fy >> shift) * self.nx + (fx >> shift))
        block = np.flatnonzero(code < _EXACT)
        if block.size:
            low = self.split - 1
            at = ((-2 - code[block]) << (2 * shift)) + ((fy[block] & low) << shift)
            code[block] = fine.take(at + (fx[block] & low))
        return code

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Lowest index of the polygons each point intersects, ``n`` when none."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        self._ensure(lon)
        if not self._built:
            return locate_exact(self.geoms, lon, lat)
        out = np.full(lon.size, self.n, dtype=np.int64)
        if self.top is None or lon.size == 0:
            return out
        out[:] = self._lookup(lon, lat, self.top, self.fine)
        exact = np.flatnonzero(out == _EXACT)
        if exact.size:
            out[exact] = locate_exact(self.geoms, lon[exact], lat[exact])
        return out

    def pairs(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (polygon, point) position pair where the point intersects the polygon
        (:func:`exact_pairs`'s pairs), sorted by polygon then point: the grid's answer where
        a cell lies in one polygon or none, the exact test on the rest.

        The points go in slices of ``_CHUNK`` on two threads (numpy releases the GIL; the
        exact tests take turns, GEOS's prepared polygons being unsafe to share). Each slice's
        pairs are sorted there, as int64 keys (polygon, point in the slice); they then go
        straight to their places (from counts per polygon and slice): no sort of all the
        pairs, no temporary as long as all the points (fresh memory is slow to touch).
        """
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        self._ensure(lon, now=True)
        empty = np.zeros(0, dtype=np.int64)
        if self.top is None or self.top_all is None or lon.size == 0:
            return empty, empty
        starts = range(0, lon.size, _CHUNK)
        if len(starts) > 1:
            with ThreadPoolExecutor(_THREADS) as pool:
                keys = list(pool.map(lambda s: self._slice_keys(lon, lat, s), starts))
        else:
            keys = [self._slice_keys(lon, lat, 0)]
        counts = np.array([np.bincount(k >> _KEY_SHIFT, minlength=self.n) for k in keys],
                          dtype=np.int64).reshape(len(keys), self.n)
        total = counts.sum(axis=0)
        # where slice c's pairs of polygon p go, less where they sit in the slice's own keys
        first = np.cumsum(total) - total + np.cumsum(counts, axis=0) - counts
        shift = first - (np.cumsum(counts, axis=1) - counts)
        poly = np.repeat(np.arange(self.n, dtype=np.int64), total)
        pt = np.empty(poly.size, dtype=np.int64)
        for c, (s, k) in enumerate(zip(starts, keys, strict=True)):
            p = k >> _KEY_SHIFT
            pt[np.arange(k.size) + shift[c][p]] = (k & _KEY_LOW) + s
        return poly, pt

    def _slice_keys(self, lon: np.ndarray, lat: np.ndarray, s: int) -> np.ndarray:
        """The pairs of the points ``s:s + _CHUNK`` as sorted keys (polygon << _KEY_SHIFT |
        point's position in the slice)."""
        assert self.top_all is not None
        x, y = lon[s:s + _CHUNK], lat[s:s + _CHUNK]
        code = self._lookup(x, y, self.top_all, self.fine_all)
        one = np.flatnonzero((code >= 0) & (code < self.n))
        exact = np.flatnonzero(code == _EXACT)
        with self._geos:  # one thread at a time: GEOS's prepared polygons are not thread-safe
            polys, pts = exact_pairs(self.geoms, x[exact], y[exact])
        keys = np.concatenate([(code[one].astype(np.int64) << _KEY_SHIFT) | one,
                               (polys << _KEY_SHIFT) | exact[pts]])
        keys.sort()
        return keys
