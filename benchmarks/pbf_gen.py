"""Write large generated OSM PBF files quickly (numpy-encoded blocks, zlib in 2 processes).

A grid of junctions over India's bounding box joined by streets (``highway=residential`` ways
of ``per_way`` nodes: the nodes between junctions pass through, as on real roads) and, when
``building_share`` > 0, 4-node ``building=yes`` squares with their own nodes (most of a real
extract's nodes are not on roads: a road reader should skip them). 200 M nodes take a few
minutes; osmium-tool reads the result (``osmium check-refs``, ``fileinfo -e``), which checks
the encoding independently of reachplan's reader.
"""

from __future__ import annotations

import math
import multiprocessing
import struct
import zlib
from pathlib import Path

import numpy as np

PER_BLOCK = 8000


def varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Protobuf varint bytes of non-negative ints, one after the other, and each one's size."""
    v = values.astype(np.uint64)
    size = np.ones(len(v), dtype=np.int64)
    rest = v >> np.uint64(7)
    while rest.any():
        size += rest > 0
        rest >>= np.uint64(7)
    out = np.empty(int(size.sum()), dtype=np.uint8)
    at = np.cumsum(size) - size
    for k in range(int(size.max()) if len(v) else 0):
        m = size > k
        byte = (v[m] >> np.uint64(7 * k)) & np.uint64(0x7F)
        out[at[m] + k] = byte | np.where(size[m] > k + 1, 0x80, 0).astype(np.uint64)
    return out, size


def zigzag(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.int64)
    return ((v << 1) ^ (v >> 63)).view(np.uint64)


def _field(number: int, payload: bytes) -> bytes:
    return varints(np.array([number << 3 | 2]))[0].tobytes() + \
        varints(np.array([len(payload)]))[0].tobytes() + payload


def _packed(number: int, values: np.ndarray) -> bytes:
    return _field(number, varints(values)[0].tobytes())


def _strings(*words: str) -> bytes:
    return _field(1, b"".join(_field(1, w.encode()) for w in ("", *words)))


def _blob(kind: str, block: bytes, level: int) -> bytes:
    raw = varints(np.array([2 << 3]))[0].tobytes() + varints(np.array([len(block)]))[0].tobytes()
    body = raw + _field(3, zlib.compress(block, level))
    header = _field(1, kind.encode()) + b"\x18" + varints(np.array([len(body)]))[0].tobytes()
    return struct.pack(">I", len(header)) + header + body


def dense_block(ids: np.ndarray, x: np.ndarray, y: np.ndarray) -> bytes:
    """A block of dense nodes (coordinates in 1e-7 degree, granularity 100)."""
    dense = (_packed(1, zigzag(np.diff(ids, prepend=0))) + _packed(8, zigzag(np.diff(y, prepend=0)))
             + _packed(9, zigzag(np.diff(x, prepend=0))))
    return _strings() + _field(2, _field(2, dense))


def way_block(first_id: int, refs: np.ndarray, counts: np.ndarray, key: str, value: str) -> bytes:
    """A block of ways with ids from ``first_id``, node ids ``refs`` (``counts`` per way) and
    one tag each (string 1 = 2)."""
    n = len(counts)
    start = np.cumsum(counts) - counts
    deltas = np.diff(refs, prepend=0)
    deltas[start] = refs[start]
    ref_bytes, ref_size = varints(zigzag(deltas))
    per_way = np.bincount(np.repeat(np.arange(n), counts), weights=ref_size,
                          minlength=n).astype(np.int64)
    id_bytes, id_size = varints(np.arange(first_id, first_id + n))
    rl_bytes, rl_size = varints(per_way)
    body = 1 + id_size + 3 + 3 + 1 + rl_size + per_way  # 08 id 12 01 01 1a 01 02 42 len refs
    wl_bytes, wl_size = varints(body)
    total = 1 + wl_size + body
    at = np.cumsum(total) - total
    out = np.zeros(int(total.sum()), dtype=np.uint8)

    def scatter(data, sizes, where):
        pos = np.repeat(where - (np.cumsum(sizes) - sizes), sizes) + np.arange(len(data))
        out[pos] = data

    out[at] = 0x1A
    scatter(wl_bytes, wl_size, at + 1)
    p = at + 1 + wl_size
    out[p] = 0x08
    scatter(id_bytes, id_size, p + 1)
    p = p + 1 + id_size
    for k, b in enumerate((0x12, 0x01, 0x01, 0x1A, 0x01, 0x02, 0x42)):
        out[p + k] = b
    p = p + 7
    scatter(rl_bytes, rl_size, p)
    scatter(ref_bytes, per_way, p + rl_size)
    return _strings(key, value) + _field(2, out.tobytes())


class Plan:
    """What to write, as blocks computed on demand: a grid of ``J x J`` junctions joined by
    streets (one ``highway=residential`` way each) of ``per_way`` nodes, the ``per_way - 2``
    between the junctions pass-through vertices (real roads are mostly such chains), then
    the buildings' nodes and ways."""

    def __init__(self, n_nodes: int, per_way: int, box, building_share: float, seed: int):
        self.m = per_way - 2  # nodes between two junctions
        road = int(n_nodes * (1 - building_share))
        self.j = max(2, int(math.sqrt(road / (1 + 2 * self.m))))
        self.streets = self.j * (self.j - 1)  # each way (east-west), as many north-south
        self.n_junctions = self.j * self.j
        self.n_road = self.n_junctions + 2 * self.streets * self.m
        self.n_build = int(n_nodes * building_share) // 4
        self.box, self.seed = box, seed
        self.n_node_ids = self.n_road + 4 * self.n_build
        self.n_road_ways = 2 * self.streets

    def node_block(self, k: int) -> bytes:
        lo, hi = k * PER_BLOCK, min((k + 1) * PER_BLOCK, self.n_node_ids)
        i = np.arange(lo, hi)
        rng = np.random.default_rng((self.seed, k))
        west, south, span = self.box
        step = span / (self.j - 1)
        jitter = rng.uniform(-0.2, 0.2, (2, len(i))) * step
        gx, gy = np.divmod(np.minimum(i, self.n_junctions - 1), self.j)
        gx, gy = gx.astype(float), gy.astype(float)
        on = (i >= self.n_junctions) & (i < self.n_road)
        h = i - self.n_junctions
        street, k_in = np.divmod(h % (self.streets * self.m), self.m)
        frac = (k_in + 1) / (self.m + 1)
        east = h < self.streets * self.m  # street s from junction (s // j, s % j) eastwards
        sx, sy = np.divmod(street, self.j)
        nx, ny = np.divmod(street, self.j - 1)  # north-south: from (nx, ny) northwards
        gx = np.where(on, np.where(east, sx + frac, nx), gx)
        gy = np.where(on, np.where(east, sy, ny + frac), gy)
        jitter[:, on] *= 0.1
        b = (i - self.n_road) // 4
        corner = (i - self.n_road) % 4
        cell = (b * 7919) % self.n_junctions
        cx, cy = np.divmod(cell, self.j)
        house = i >= self.n_road
        gx = np.where(house, cx + 0.3 + np.where((corner == 1) | (corner == 2), 1e-3, 0), gx)
        gy = np.where(house, cy + 0.3 + np.where(corner >= 2, 1e-3, 0), gy)
        lon = west + gx * step + np.where(house, 0, jitter[0])
        lat = south + gy * step + np.where(house, 0, jitter[1])
        x = np.round(lon * 1e7).astype(np.int64)
        y = np.round(lat * 1e7).astype(np.int64)
        return dense_block(i + 1, x, y)

    def road_way_block(self, k: int) -> bytes:
        w = np.arange(k * PER_BLOCK, min((k + 1) * PER_BLOCK, self.n_road_ways))
        east = w < self.streets
        s = np.where(east, w, w - self.streets)
        sx, sy = np.divmod(s, self.j)
        nx, ny = np.divmod(s, self.j - 1)
        a = np.where(east, sx * self.j + sy, nx * self.j + ny)  # junction numbers
        b = np.where(east, (sx + 1) * self.j + sy, nx * self.j + ny + 1)
        first = self.n_junctions + np.where(east, 0, self.streets * self.m) + s * self.m
        middle = first[:, None] + np.arange(self.m)
        refs = np.column_stack([a, middle, b]).ravel() + 1
        counts = np.full(len(w), self.m + 2)
        return way_block(int(w[0]) + 1, refs, counts, "highway", "residential")
    def building_block(self, k: int) -> bytes:
        b = np.arange(k * PER_BLOCK, min((k + 1) * PER_BLOCK, self.n_build))
        first = self.n_road + 4 * b + 1
        refs = (first[:, None] + np.array([0, 1, 2, 3, 0])).ravel()
        counts = np.full(len(b), 5)
        return way_block(self.n_road_ways + int(b[0]) + 1, refs, counts, "building", "yes")

    def jobs(self) -> list[tuple[str, int]]:
        blocks = [("node", k) for k in range(math.ceil(self.n_node_ids / PER_BLOCK))]
        blocks += [("road", k) for k in range(math.ceil(self.n_road_ways / PER_BLOCK))]
        blocks += [("building", k) for k in range(math.ceil(self.n_build / PER_BLOCK))]
        return blocks


_PLAN: list[Plan] = []


def _encode(job: tuple[str, int]) -> bytes:
    plan = _PLAN[0]
    kind, k = job
    block = {"node": plan.node_block, "road": plan.road_way_block,
             "building": plan.building_block}[kind](k)
    return _blob("OSMData", block, 6)


def write_generated_pbf(path: Path, n_nodes: int, *, per_way: int = 10,
                        box: tuple[float, float, float] = (68.0, 8.0, 29.0),
                        building_share: float = 0.0, seed: int = 7, processes: int = 2) -> dict:
    """Write the PBF; returns its counts (nodes, road ways, buildings)."""
    plan = Plan(n_nodes, per_way, box, building_share, seed)
    header = _field(4, b"OsmSchema-V0.6") + _field(4, b"DenseNodes") + _field(
        16, b"reachplan benchmarks/pbf_gen.py")
    _PLAN[:] = [plan]
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(_blob("OSMHeader", header, 6))
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(processes) as pool:
            for blob in pool.imap(_encode, plan.jobs(), chunksize=8):
                f.write(blob)
    tmp.replace(path)
    return {"nodes": plan.n_node_ids, "road_ways": plan.n_road_ways, "buildings": plan.n_build}
