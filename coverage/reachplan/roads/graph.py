"""The road graph: vertices with coordinates, directed edges weighted in minutes.

Searches run on the compressed graph (:mod:`reachplan.roads.chains`): kept vertices
(junctions, dead ends) joined by one edge per chain of road, in CSR; the chains keep every
road vertex in order with its cumulative minutes, for snapping, districts and isochrones.

A built graph is cached as one file of raw arrays under the user's cache directory, keyed by
the SHA-256 of the roads file's content and the profile, speeds and reader options, so a second
run skips parsing; :mod:`reachplan.roads.cache` checks an entry before it is used. The cache
directory is ``$REACHPLAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/reachplan``, else
``~/.cache/reachplan`` (``%LOCALAPPDATA%\\reachplan`` on Windows); ``cache_dir=`` overrides it
and ``cache_dir=False`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from reachplan.errors import InputError
from reachplan.geodesy import CentreIndex, geodesic_m
from reachplan.io.files import check_regular
from reachplan.roads import cache
from reachplan.roads.cache import cache_root
from reachplan.roads.chains import Chains
from reachplan.roads.compress import compress_segments
from reachplan.roads.osm import (
    Segments,
    Ways,
    is_osm,
    read_layer,
    read_osm_pyosmium,
    read_osm_ways,
)
from reachplan.roads.pbf import UNDEFINED
from reachplan.roads.speeds import check_maxspeed_factor, default_speeds, read_speeds

_EDGE_SLICE = 1 << 20  # chain positions at a time while the edges are counted
_SLICE = 1 << 22  # elements a vertex-numbering pass handles at once (temporaries reused)

__all__ = ["RoadGraph", "cache_root", "graph_from_segments", "graph_from_ways", "load_roads"]


@dataclass(eq=False)
class RoadGraph:
    """Road vertices (``lon``, ``lat``, ``key``: one per place), the chains of road between
    them and the compressed graph searches run on.

    ``core[i, j]`` is the time to drive (ride, walk) from kept vertex ``kept[i]`` to
    ``kept[j]`` along one chain of road; a one-way road has only its allowed direction.
    ``matrix`` is the uncompressed graph (one edge per road segment), built when asked for.
    """

    lon: np.ndarray
    lat: np.ndarray
    key: np.ndarray
    chains: Chains
    kept: np.ndarray
    core: sp.csr_matrix
    profile: str
    top_kmh: float
    source: str = ""  # the roads file as given (for messages; outputs name it by sha256)
    from_cache: bool = False
    maxspeed_factor: float = 1.0  # tagged limits were driven at this share (1: at the limit)
    sha256: str = ""  # of the roads file's content ("" for a graph built from segments)
    speeds_file: tuple[str, str] | None = None  # a speeds file's name and content SHA-256
    _index: CentreIndex | None = field(default=None, repr=False)
    _matrix: sp.csr_matrix | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        """Road vertices (every OSM vertex of a road the profile uses)."""
        return len(self.lon)

    @property
    def n_edges(self) -> int:
        """Directed road segments (uncompressed), counted a slice of chain positions at a
        time (every segment's minutes each way at once took 2 GB at 200 M OSM nodes)."""
        ch = self.chains
        last = np.zeros(len(ch.vertex), dtype=bool)
        last[ch.ptr[1:] - 1] = True
        count = 0
        for k in range(0, len(last), _EDGE_SLICE):
            fwd, bwd = ch.segment_minutes(k + np.flatnonzero(~last[k:k + _EDGE_SLICE]))
            count += int(np.count_nonzero(np.isfinite(fwd)) + np.count_nonzero(np.isfinite(bwd)))
        return count

    @property
    def n_kept(self) -> int:
        """Vertices of the compressed graph (junctions, dead ends)."""
        return len(self.kept)

    def nbytes(self) -> int:
        """Bytes the graph's arrays hold (without the lazily built ``matrix`` and index)."""
        core = self.core
        return int(self.lon.nbytes + self.lat.nbytes + self.key.nbytes + self.kept.nbytes
                   + self.chains.nbytes() + core.data.nbytes + core.indices.nbytes
                   + core.indptr.nbytes)

    @property
    def matrix(self) -> sp.csr_matrix:
        """The uncompressed graph: ``matrix[u, v]`` minutes along the road segment u -> v
        (for checks and comparisons; searches use ``core``). Built once when asked for."""
        if self._matrix is None:
            start = self.chains.starts()
            u, v = self.chains.vertex[start], self.chains.vertex[start + 1]
            fwd, bwd = self.chains.segment_minutes(start)
            back = np.isfinite(bwd)
            self._matrix = _csr(np.concatenate([u, v[back]]), np.concatenate([v, u[back]]),
                                np.concatenate([fwd, bwd[back]]), self.n_nodes)
        return self._matrix

    def index(self) -> CentreIndex:
        """Exact geodesic nearest-vertex index (geodesy.points; built once)."""
        if self._index is None:
            self._index = CentreIndex(self.lat, self.lon)
        return self._index


def _csr(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR of unique directed edges, built from its parts (not COO: a 0-minute segment, two
    vertices at the same place, stays an explicit edge, which scipy.sparse.csgraph follows)."""
    order = np.lexsort((cols, rows))
    rows, cols, cost = rows[order], cols[order], cost[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    index = np.int32 if max(n, len(cols)) < 2**31 - 1 else np.int64
    return sp.csr_matrix((cost, cols.astype(index), indptr.astype(index)), shape=(n, n))


def graph_from_segments(seg: Segments, profile: str, *, source: str = "") -> RoadGraph:
    """Vertices numbered in key order; each segment's minutes = geodesic length / speed;
    then compressed (:func:`reachplan.roads.compress.compress`).

    Duplicate segments keep their quickest time; zero-length self-loops are dropped.
    """
    ids, inverse = np.unique(np.concatenate([seg.u_id, seg.v_id]), return_inverse=True)
    u, v = inverse[: len(seg.u_id)], inverse[len(seg.u_id):]
    n = len(ids)
    lon = np.empty(n)
    lat = np.empty(n)
    lon[u], lat[u] = seg.u_lon, seg.u_lat
    lon[v], lat[v] = seg.v_lon, seg.v_lat
    minutes = geodesic_m(seg.u_lon, seg.u_lat, seg.v_lon, seg.v_lat) / 1000.0 / seg.kmh * 60.0
    top = float(seg.kmh.max()) if len(seg.kmh) else 0.0
    return _graph(ids, lon, lat, [u, v, minutes, seg.forward, seg.backward], profile, top,
                  source)


def graph_from_ways(ways: Ways, profile: str, *, source: str = "") -> RoadGraph:
    """:func:`graph_from_segments` of :func:`reachplan.roads.osm.ways_segments` (the same
    graph), without every segment's coordinates and keys: vertices are keyed once per OSM node
    from its fixed-point coordinates (not twice per segment from floats), segments stay node
    indices, lengths are computed in slices."""
    parts = dict(vars(ways))
    parts["refs"] = ways.refs.copy()  # the build writes over its refs
    return _graph_of_ways(parts, profile, source)


def _graph_of_ways(parts: dict, profile: str, source: str) -> RoadGraph:
    """:func:`graph_from_ways` of a :class:`Ways`' fields, which it takes out of ``parts`` as
    it is done with them: once the caller drops the reader's ``Ways``, each array is freed
    when used (a national extract's build peak)."""
    ids, u, v, way = _numbered(parts)
    kmh = parts["kmh"]  # per way
    used_way = np.zeros(len(kmh), dtype=bool)
    used_way[way] = True
    top = float(kmh[used_way].max()) if used_way.any() else 0.0
    del used_way
    # the lengths (pyproj, which releases the GIL) on threads while this one finds the
    # chains, which need no minutes until their sums (the two CPUs of a small machine busy)
    with ThreadPoolExecutor(1) as pool:
        minutes = pool.submit(_minutes, ids, u, v, kmh, way)
        segments = [u, v, minutes, parts["forward"][way], parts["backward"][way]]
        del way, u, v, minutes
        chains, kept, core = compress_segments(segments, len(ids))  # frees them as it goes
    lon, lat = np.empty(len(ids)), np.empty(len(ids))  # x / 1e7, y / 1e7 of each key's nodes
    for k in range(0, len(ids), _SLICE):
        lon[k:k + _SLICE], lat[k:k + _SLICE] = _lonlat(ids[k:k + _SLICE])
    return RoadGraph(lon, lat, ids, chains, kept, core, profile, top, source)


def _numbered(parts: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The vertex keys (increasing) and each kept segment's two vertex numbers and way, of a
    :class:`Ways`' fields (taken out of ``parts``). Segments join consecutive nodes of a way;
    those with a node missing or both nodes at one place are dropped; a vertex is a place
    (``position_key``), numbered in key order.

    Every pass runs a slice at a time, writing into its output (the kept segments' first
    nodes over ``refs``, which no slice writes ahead of its reading): whole-array temporaries
    of 80 M elements cost more in first-touched memory than in arithmetic on this kind of
    machine. The sort's ties are harmless: equal keys get the same number in any order."""
    refs, start, x, y = parts.pop("refs"), parts.pop("start"), parts.pop("x"), parts.pop("y")
    n_pos = max(len(refs) - 1, 0)  # position i and i + 1: a segment unless a way ends at i
    ends = start[1:-1] - 1
    vn = np.empty(n_pos, dtype=refs.dtype)
    way = np.empty(n_pos, dtype=np.int32)
    used = np.zeros(len(x), dtype=bool)
    n = 0
    for a in range(0, n_pos, _SLICE):
        b = min(a + _SLICE, n_pos)
        first = int(np.searchsorted(start, a, side="right")) - 1
        last = int(np.searchsorted(start, b - 1, side="right")) - 1
        way_ab = np.repeat(np.arange(first, last + 1, dtype=np.int32),
                           np.diff(np.clip(start[first:last + 2], a, b)))
        ru, rv = refs[a:b], refs[a + 1:b + 1]
        xu, xv = x[ru], x[rv]
        keep = (xu != UNDEFINED) & (xv != UNDEFINED) & ((xu != xv) | (y[ru] != y[rv]))
        keep[ends[np.searchsorted(ends, a):np.searchsorted(ends, b)] - a] = False
        ru, rv = ru[keep], rv[keep]
        k = len(ru)
        refs[n:n + k], vn[n:n + k], way[n:n + k] = ru, rv, way_ab[keep]
        used[ru] = True
        used[rv] = True
        n += k
    un, vn, way = refs[:n], vn[:n], way[:n]
    del refs, start, ends
    node = np.empty(int(np.count_nonzero(used)), dtype=un.dtype)
    key = np.empty(len(node), dtype=np.int64)
    m = 0
    for a in range(0, len(used), _SLICE):
        at = np.flatnonzero(used[a:a + _SLICE])
        at += a
        s = slice(m, m + len(at))
        node[s] = at
        # position_key(x / 1e7, y / 1e7), exactly: (x / 1e7 + 180) * 1e7 rounds back to
        # x + 1.8e9
        xs = x[at].astype(np.int64)
        xs += 1_800_000_000
        xs *= 1_800_000_001
        xs += y[at] + 900_000_000
        key[s] = xs
        m += len(at)
    n_used = len(x)
    del used, x, y
    order = np.argsort(key)
    index = np.int32 if len(order) < 2**31 - 1 else np.int64
    vertex_of = np.full(n_used, -1, dtype=index)
    ids = np.empty(len(key), dtype=np.int64)
    n_ids = 0
    for a in range(0, len(order), _SLICE):
        at = order[a:a + _SLICE]
        ks = key[at]
        new = np.empty(len(ks), dtype=bool)
        new[0] = a == 0 or ks[0] != ids[n_ids - 1]
        np.not_equal(ks[1:], ks[:-1], out=new[1:])
        number = np.cumsum(new, dtype=index)
        number += n_ids - 1
        vertex_of[node[at]] = number
        fresh = ks[new]
        ids[n_ids:n_ids + len(fresh)] = fresh
        n_ids += len(fresh)
    ids = ids[:n_ids]
    del order, key, node
    u = un if un.dtype == vertex_of.dtype else np.empty(len(un), dtype=vertex_of.dtype)
    v = vn if vn.dtype == vertex_of.dtype else np.empty(len(vn), dtype=vertex_of.dtype)
    for a in range(0, len(un), _SLICE):
        s = slice(a, a + _SLICE)
        u[s] = vertex_of[un[s]]
        v[s] = vertex_of[vn[s]]
    return ids, u, v, way


def _minutes(ids: np.ndarray, u: np.ndarray, v: np.ndarray, kmh: np.ndarray,
             way: np.ndarray) -> np.ndarray:
    """Minutes along each segment ``u`` -> ``v`` (vertex keys ``ids``) at ``kmh[way]``: its
    geodesic length, in slices (pyproj's three outputs a slice at a time), a thread per CPU
    (pyproj releases the GIL while it solves). The vertices' coordinates are made from their
    keys a slice at a time: the graph's are not held while the chains are found."""
    out = np.empty(len(u))
    step = 1 << 18  # the slices' temporaries (about 100 bytes a segment) reused

    def part(k: int) -> None:
        s = slice(k, k + step)
        lon_u, lat_u = _lonlat(ids[u[s]])
        lon_v, lat_v = _lonlat(ids[v[s]])
        out[s] = geodesic_m(lon_u, lat_u, lon_v, lat_v) / 1000.0 / kmh[way[s]] * 60.0

    with ThreadPoolExecutor(min(os.cpu_count() or 1, 8)) as pool:
        list(pool.map(part, range(0, len(u), step)))
    return out


def _lonlat(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of vertex keys made from osmium's fixed-point coordinates
    (``(x + 1.8e9) * 1_800_000_001 + y + 9e8``), exactly ``x / 1e7`` and ``y / 1e7``."""
    x = key // 1_800_000_001  # not divmod: a division and a product take half its time
    y = x * 1_800_000_001
    np.subtract(key, y, out=y)
    x -= 1_800_000_000
    y -= 900_000_000
    return x / 1e7, y / 1e7


def _graph(ids, lon, lat, segments: list, profile: str, top: float,
           source: str) -> RoadGraph:
    """The graph of ``segments = [u, v, minutes, fwd, bwd]`` (vertex numbers, minutes,
    allowed directions), which it empties (freed once used): compressed, one edge per chain
    (:func:`reachplan.roads.compress.compress_segments`)."""
    chains, kept, core = compress_segments(segments, len(ids))  # frees them as it goes
    return RoadGraph(lon, lat, ids.astype(np.int64), chains, kept, core, profile, top, source)


def load_roads(roads: str | Path, *, profile: str = "car",
               speeds: str | Path | Mapping[str, float] | None = None,
               speed_col: str | None = None, layer: str | None = None,
               cache_dir: str | Path | bool | None = None,
               maxspeed_factor: float = 1.0,
               progress: Callable[[str, int, int], None] | None = None) -> RoadGraph:
    """The road graph of an OSM extract or a line layer, from the cache when it is there.

    Parameters
    ----------
    roads
        ``.osm.pbf`` / ``.osm`` / ``.osm.bz2`` extract, or a line layer (any format pyogrio
        reads) with a ``speed_col`` in km/h or a ``highway`` column.
    profile
        ``car``, ``motorcycle`` or ``walk`` (see :mod:`reachplan.roads.speeds`).
    speeds
        A CSV ``highway,kmh`` (or a mapping) overriding the profile's default speeds.
    maxspeed_factor
        OSM ``maxspeed`` limits are driven at this share of the limit (default 1; OSRM's car
        profile uses 0.8). Line layers carry no limits.
    cache_dir
        Cache directory; None for :func:`cache_root`, False for no cache.
    progress
        ``progress(what, done, total)`` while an extract is read and the graph built (not
        from the cache); total 0 while the size is unknown.
    """
    if profile not in ("car", "motorcycle", "walk"):
        raise InputError(f"profile '{profile}': use one of car, motorcycle, walk")
    factor = check_maxspeed_factor(maxspeed_factor)
    if speeds is None:
        table = default_speeds(profile)
    elif isinstance(speeds, Mapping):
        table = {**default_speeds(profile), **{str(k): float(v) for k, v in speeds.items()}}
        bad = [k for k, v in table.items() if not (v > 0 and np.isfinite(v))]
        if bad:
            raise InputError(f"speeds: '{bad[0]}' has speed {table[bad[0]]}; give km/h > 0")
    else:
        table = read_speeds(speeds, profile)
    speeds_file = (None if speeds is None or isinstance(speeds, Mapping)
                   else (Path(speeds).name, cache.file_sha256(Path(speeds))))
    path = Path(roads)
    source = str(roads)
    check_regular(path, "roads")
    if not path.is_file():
        raise InputError(f"{source}: no such roads file")
    sha256 = cache.file_sha256(path)
    key = cache.entry_key(sha256, profile, {"speeds": sorted(table.items()),
                                            "speed_col": speed_col, "layer": layer,
                                            "maxspeed_factor": factor})
    target = None
    if cache_dir is not False:
        root = cache_root() if cache_dir is None or cache_dir is True else Path(cache_dir)
        folder = cache.open_folder(root)
        target = None if folder is None else cache.entry_path(folder, profile, key)
        entry = None if target is None else cache.load_entry(target, key)
        if entry is not None:
            core = sp.csr_matrix((entry.minutes, entry.indices, entry.indptr),
                                 shape=(len(entry.kept), len(entry.kept)))
            chains = Chains(entry.chain_ptr, entry.chain_vertex, entry.chain_fwd,
                            entry.chain_bwd)
            return RoadGraph(entry.lon, entry.lat, entry.vertex, chains, entry.kept, core,
                             profile, entry.top_kmh, source, from_cache=True,
                             maxspeed_factor=factor, sha256=sha256, speeds_file=speeds_file)
    if progress is not None:
        progress("reading roads (ways)", 0, 0)
    ways = (read_osm_ways(path, profile, table, maxspeed_factor=factor, progress=progress)
            if str(path).lower().endswith(".pbf") else None)
    if ways is not None:
        if progress is not None:
            progress("building the road graph", 0, 0)
        parts = dict(vars(ways))
        del ways  # the build frees the reader's arrays as it goes
        graph = _graph_of_ways(parts, profile, source)
    else:
        if is_osm(path):
            seg = read_osm_pyosmium(path, profile, table, maxspeed_factor=factor,
                                    progress=progress)
        else:
            seg = read_layer(path, profile, table, speed_col=speed_col, layer=layer)
        if progress is not None:
            progress("building the road graph", 0, 0)
        graph = graph_from_segments(seg, profile, source=source)
    if progress is not None:
        progress("building the road graph", 1, 1)
    graph.maxspeed_factor, graph.sha256, graph.speeds_file = factor, sha256, speeds_file
    if target is not None:
        m, ch = graph.core, graph.chains
        with contextlib.suppress(OSError):  # a read-only cache only costs time
            cache.save_entry(target, key, cache.Entry(
                graph.lon, graph.lat, graph.key, graph.kept, m.indptr, m.indices, m.data,
                ch.ptr, ch.vertex, ch.fwd, ch.bwd, graph.top_kmh))
    return graph
