"""Read the roads of an OSM PBF file at the speed of its blocks: numpy, two passes, parallel.

An ``.osm.pbf`` is a run of zlib-compressed blocks of a few thousand nodes or ways each
(https://wiki.openstreetmap.org/wiki/PBF_Format). This reader decodes them with numpy, a whole
block at a time, in worker processes:

1. *Ways*: every block is opened, but a block of nodes only as far as its first bytes (enough
   to see that it holds nodes); the ways with a ``highway`` tag keep their node ids and what
   the profile makes of their tags (``rule``: km/h and directions, asked once per distinct
   combination of the tags it reads).
2. *Node locations*: only the blocks of nodes are decompressed again, and only the nodes that
   those ways use keep a location, in an array indexed by their rank among the used ids (a
   bitmap of used ids and its running popcount: a few bits per possible id, never a dict).

Anything it does not handle (other compressions, plain nodes, blocks that mix nodes and ways,
a damaged file) raises :class:`Unsupported`, and the caller reads the file with pyosmium
instead, which gives the same roads (tests/test_roads_pbf.py) or the parser's own error.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reachplan.roads.pbf_blocks import (
    Unsupported,
    blob_index,
    block,
    fields,
    gather,
    inflate,
    only_nodes,
    varint,
    varints,
    varints_at,
    zigzag,
)

__all__ = ["Unsupported", "WayRule", "Ways", "read_pbf_ways"]

# what the profile makes of a way's tags: (km/h, forward, backward), None when it is not used
WayRule = Callable[[dict[str, str]], "tuple[float, bool, bool] | None"]
UNDEFINED = 2**31 - 1  # libosmium's undefined coordinate
_SERIAL_BYTES = 16 << 20  # smaller files are read in this process
# used ids are ranked with a bitmap (1 bit per possible id, 1 word of running count per 64)
# unless it would take more than this many 64-bit words per reference: then a sorted array
_SPARSE_WORDS_PER_REF = 2


@dataclass(frozen=True)
class Ways:
    """Routable ways as runs of node indices into ``x``/``y`` (osmium's fixed-point
    coordinates, 1e-7 degree; ``UNDEFINED`` where the extract lacks the node)."""

    x: np.ndarray  # int32 per used node, in id order
    y: np.ndarray
    refs: np.ndarray  # node indices, the ways one after the other
    start: np.ndarray  # int64, n_ways + 1 offsets into refs
    kmh: np.ndarray  # per way
    forward: np.ndarray
    backward: np.ndarray
    osm_nodes: int = 0  # nodes in the file (all of them, used or not)
    saw_highway: bool = True  # some way has a highway tag (used by the profile or not)


# ----------------------------------------------------------------------------- pass 1: ways
_RELEVANT = frozenset((b"highway", b"maxspeed", b"oneway", b"junction", b"access", b"vehicle",
                       b"motor_vehicle", b"motorcar", b"motorcycle", b"foot"))


def _way_fields(arr: np.ndarray, data: bytes, a: int, b: int):
    """Byte ranges of the keys, values and refs of every way of a group."""
    starts, ends = [], []
    p = a
    while p < b:  # the one loop per way: where each starts (the rest is numpy)
        size = data[p + 1]
        if data[p] != 0x1A or size >= 0x80:
            if data[p] != 0x1A:
                raise Unsupported("a group mixes ways with other things")
            size, p = varint(data, p + 1)
        else:
            p += 2
        starts.append(p)
        p += size
        ends.append(p)
    if p != b:
        raise Unsupported("a way runs past its group")
    cur = np.array(starts, dtype=np.int64)
    end = np.array(ends, dtype=np.int64)
    ranges = {f: (np.zeros(len(cur), dtype=np.int64), np.zeros(len(cur), dtype=np.int64))
              for f in (2, 3, 8)}
    active = np.flatnonzero(cur < end)
    while active.size:
        at = cur[active]
        tag = arr[at]
        if np.any(tag >= 0x80):
            raise Unsupported("a way field past 15")
        wire, field = tag & 7, tag >> 3
        nxt = at + 1
        w0 = np.flatnonzero(wire == 0)
        if w0.size:
            nxt[w0] = varints_at(arr, nxt[w0])[1]
        w2 = np.flatnonzero(wire == 2)
        if w2.size:
            length, after = varints_at(arr, nxt[w2])
            nxt[w2] = after + length
            for f, (s, e) in ranges.items():
                mine = field[w2] == f
                s[active[w2[mine]]] = after[mine]
                e[active[w2[mine]]] = after[mine] + length[mine]
        nxt[wire == 1] += 8
        nxt[wire == 5] += 4
        if np.any((wire != 0) & (wire != 2) & (wire != 1) & (wire != 5)):
            raise Unsupported("a bad wire type in a way")
        cur[active] = nxt
        active = active[nxt < end[active]]
    if np.any(cur != end):
        raise Unsupported("a way field runs past its way")
    return ranges


class _Rules:
    """The profile's rule, asked once per distinct combination of the tags it reads."""

    def __init__(self, rule: WayRule) -> None:
        self.rule = rule
        self.cache: dict[tuple, tuple[float, bool, bool] | None] = {}

    def __call__(self, pairs: tuple) -> tuple[float, bool, bool] | None:
        found = self.cache.get(pairs, False)
        if found is False:
            tags = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace")
                    for k, v in reversed(pairs)}  # a repeated key: the first counts
            found = self.cache[pairs] = self.rule(tags)
        return found  # type: ignore[return-value]


def _way_group(data: bytes, a: int, b: int, strings: list[bytes], rules: _Rules, out: dict):
    if b"highway" not in strings:  # a block of buildings, say: nothing to read
        return
    arr = np.frombuffer(data, dtype=np.uint8)
    ranges = _way_fields(arr, data, a, b)
    keys, n_keys = gather(arr, *ranges[2])
    vals, n_vals = gather(arr, *ranges[3])
    if not np.array_equal(n_keys, n_vals):
        raise Unsupported("a way with more keys than values")
    n_ways = len(n_keys)
    way_of = np.repeat(np.arange(n_ways), n_keys)
    index = {s: i for i, s in enumerate(strings) if s in _RELEVANT}
    if keys.size and int(max(keys.max(), vals.max())) >= len(strings):
        raise Unsupported("a tag past the string table")
    highway = keys == index[b"highway"]
    if not highway.any():
        return
    out["saw_highway"] = True
    other = np.isin(keys, [i for s, i in index.items() if s != b"highway"])
    n_other = np.bincount(way_of[other], minlength=n_ways)
    hw_way, first = np.unique(way_of[highway], return_index=True)
    hw_val = vals[highway][first]
    kmh = np.full(n_ways, np.nan)
    fwd = np.zeros(n_ways, dtype=bool)
    bwd = np.zeros(n_ways, dtype=bool)
    plain = n_other[hw_way] == 0
    for value in np.unique(hw_val[plain]):
        got = rules(((b"highway", strings[int(value)]),))
        if got is not None:
            ways = hw_way[plain][hw_val[plain] == value]
            kmh[ways], fwd[ways], bwd[ways] = got
    starts = np.concatenate([[0], np.cumsum(n_keys)])
    for w in hw_way[~plain].tolist():
        pairs = tuple((strings[int(k)], strings[int(v)])
                      for k, v in zip(keys[starts[w]:starts[w + 1]].tolist(),
                                      vals[starts[w]:starts[w + 1]].tolist(), strict=True)
                      if strings[int(k)] in index)
        got = rules(pairs)
        if got is not None:
            kmh[w], fwd[w], bwd[w] = got
    use = np.flatnonzero(~np.isnan(kmh))
    s, e = ranges[8]
    deltas, counts = gather(arr, s[use], e[use])
    ids = np.cumsum(zigzag(deltas))
    before = np.concatenate([[0], ids])[np.cumsum(counts) - counts]
    ids -= np.repeat(before, counts)
    long = counts >= 2
    if not long.all():
        ids = ids[np.repeat(long, counts)]
        use, counts = use[long], counts[long]
    out["refs"].append(ids)
    out["counts"].append(counts)
    out["kmh"].append(kmh[use])
    out["fwd"].append(fwd[use])
    out["bwd"].append(bwd[use])


_STATE: dict = {}  # the file, its blobs, the rule, the id bitmap, the output (see _share)


def _buffer():
    if "mm" not in _STATE or _STATE.get("pid") != os.getpid():
        with open(_STATE["path"], "rb") as f:
            _STATE["mm"] = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        _STATE["pid"] = os.getpid()
    return _STATE["mm"]


def _pass1(task: list[int]) -> dict:
    mm, blobs, rules = _buffer(), _STATE["blobs"], _STATE["rules"]
    out: dict = {"refs": [], "counts": [], "kmh": [], "fwd": [], "bwd": [], "nodes": [],
                 "saw_highway": False}
    for i in task:
        pos, size = blobs[i]
        blob = memoryview(mm)[pos:pos + size]
        if only_nodes(blob):
            out["nodes"].append(i)
            continue
        data = inflate(blob)
        strings, groups, _ = block(data)
        kinds = {g[0] for g in groups}
        if 1 in kinds:
            raise Unsupported("plain (not dense) nodes")
        if 2 in kinds:
            out["nodes"].append(i)
        for kind, a, b in groups:
            if kind == 3:
                _way_group(data, a, b, strings, rules, out)
    return out


# ----------------------------------------------------------------------------- pass 2: nodes
def _trunc_div(a: np.ndarray, d: int) -> np.ndarray:
    """C++'s integer division (towards zero), as libosmium converts PBF coordinates."""
    q = np.abs(a) // d
    return np.where(a < 0, -q, q)


def _rank(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each id is used, and its rank among the used ids (a bitmap and its running
    popcount when the ids are dense, else a sorted array)."""
    if "sorted" in _STATE:
        table = _STATE["sorted"]
        rank = np.searchsorted(table, ids)
        return table[np.minimum(rank, len(table) - 1)] == ids, rank
    words, cum = _STATE["words"], _STATE["cum"]
    inside = (ids >= 0) & (ids < 64 * len(words))
    word_of = np.where(inside, ids >> 6, 0)
    word = words[word_of]
    bit = (ids & 63).astype(np.uint64)
    used = inside & ((word >> bit) & np.uint64(1)).astype(bool)
    below = word & ((np.uint64(1) << bit) - np.uint64(1))
    return used, cum[word_of] + np.bitwise_count(below)


def _pass2(task: list[int]) -> int:
    mm, blobs = _buffer(), _STATE["blobs"]
    x_out, y_out = _STATE["xy"]
    seen = 0
    for i in task:
        pos, size = blobs[i]
        data = inflate(memoryview(mm)[pos:pos + size])
        arr = np.frombuffer(data, dtype=np.uint8)
        _, groups, scale = block(data)
        for kind, a, b in groups:
            if kind != 2:
                continue
            for field, start, end in fields(data, a, b):
                if field == 2:
                    seen += _dense(arr, data, start, end, scale, x_out, y_out)
    return seen


def _dense(arr, data, a, b, scale, x_out, y_out) -> int:
    """Store the locations of the used nodes of one DenseNodes message; how many it holds."""
    dense = {f: arr[s:e] for f, s, e in fields(data, a, b) if e >= 0}
    empty = arr[:0]
    ids = np.cumsum(zigzag(varints(dense.get(1, empty))))
    lat = np.cumsum(zigzag(varints(dense.get(8, empty))))
    lon = np.cumsum(zigzag(varints(dense.get(9, empty))))
    if not len(ids) == len(lat) == len(lon):
        raise Unsupported("dense nodes with more ids than coordinates")
    used, rank = _rank(ids)
    if used.any():
        rank = rank[used]
        x = _trunc_div(lon[used] * scale[17] + scale[20], 100)
        y = _trunc_div(lat[used] * scale[17] + scale[19], 100)
        bad = (np.abs(x) > 1_800_000_000) | (np.abs(y) > 900_000_000)
        x_out[rank] = np.where(bad, UNDEFINED, x)
        y_out[rank] = np.where(bad, UNDEFINED, y)
    return len(ids)


# ----------------------------------------------------------------------------- driver
def read_pbf_ways(path: str, rule: WayRule, *, workers: int | None = None,
                  progress: Callable[[str, int, int], None] | None = None) -> Ways:
    """The ways with a ``highway`` tag that ``rule`` accepts, and their nodes' locations.

    ``rule(tags)`` sees only the tags a profile reads (``highway``, ``maxspeed``, ``oneway``,
    ``junction`` and the access tags). ``workers`` processes (default: one per CPU for files
    over 16 MB, else this process); ``progress(what, blocks done, blocks)`` after each batch
    of blocks. Raises :class:`Unsupported` for what it leaves to pyosmium.
    """
    if sys.byteorder != "little":
        raise Unsupported("a big-endian machine")
    blobs = blob_index(path)
    if workers is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        workers = 1 if os.path.getsize(path) < _SERIAL_BYTES else max(1, cpus)
    _STATE.clear()
    _STATE.update(path=path, blobs=blobs, rules=_Rules(rule), files={}, folder=None)
    try:
        return _read(blobs, workers, progress)
    finally:
        if _STATE.get("folder"):
            shutil.rmtree(_STATE["folder"], ignore_errors=True)
        _STATE.clear()


def _read(blobs, workers: int, progress) -> Ways:
    found = _run(_pass1, list(range(len(blobs))), workers, progress, "reading roads (ways)")
    saw = any(f["saw_highway"] for f in found)
    chunks = [c for f in found for c in f["refs"]]
    counts = np.concatenate([np.zeros(0, dtype=np.int64)] + [c for f in found
                                                             for c in f["counts"]])
    kmh, fwd, bwd = (np.concatenate([np.zeros(0, dtype=t)] + [c for f in found for c in f[k]])
                     for k, t in (("kmh", float), ("fwd", bool), ("bwd", bool)))
    nodes = sorted(i for f in found for i in f["nodes"])
    del found
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    if not chunks or start[-1] == 0:
        empty = np.zeros(0, dtype=np.int32)
        return Ways(empty, empty, empty, start, kmh, fwd, bwd, 0, saw)
    if min(int(c.min()) for c in chunks) < 0:
        raise Unsupported("negative node ids")
    top = max(int(c.max()) for c in chunks)
    if top // 64 > _SPARSE_WORDS_PER_REF * int(start[-1]):  # sparse ids (a small extract)
        table = np.unique(np.concatenate(chunks))
        used = len(table)
        _share("sorted", table, workers)
    else:  # dense: 1 bit per possible id and a running count per 64
        words = _bitmap(chunks, top)
        counted = np.bitwise_count(words)
        used = int(counted.sum(dtype=np.int64))
        cum = np.zeros(len(words), dtype=np.uint32 if used < 2**32 else np.int64)
        np.cumsum(counted[:-1], out=cum[1:])
        del counted
        _share("words", words, workers)
        _share("cum", cum, workers)
        del words, cum
    refs = np.empty(int(start[-1]), dtype=np.int32 if used < 2**31 else np.int64)
    at = 0
    for k, chunk in enumerate(chunks):
        refs[at:at + len(chunk)] = _rank(chunk)[1]
        at += len(chunk)
        chunks[k] = None
    del chunks
    _share("xy", np.full((2, used), UNDEFINED, dtype=np.int32), workers)
    seen = _run(_pass2, nodes, workers, progress, "reading roads (node locations)")
    xy = np.array(_STATE["xy"])  # out of the shared file (deleted at the end)
    return Ways(xy[0], xy[1], refs, start, kmh, fwd, bwd, sum(seen), saw)


def _share(name: str, array: np.ndarray, workers: int) -> None:
    """Give ``array`` to this process's steps and, with workers, to theirs: a file in a
    private folder (in memory, /dev/shm, where there is one) that each maps."""
    if workers <= 1:
        _STATE[name] = array
        return
    if _STATE["folder"] is None:
        _STATE["folder"] = tempfile.mkdtemp(
            prefix="reachplan-pbf-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    path = os.path.join(_STATE["folder"], f"{name}.npy")
    mapped = np.lib.format.open_memmap(path, mode="w+", dtype=array.dtype, shape=array.shape)
    mapped[...] = array
    mapped.flush()
    _STATE[name] = mapped
    _STATE["files"][name] = path


def _init(state: dict) -> None:
    """A worker's start: the reader's state, its shared arrays mapped."""
    _STATE.clear()
    _STATE.update(state)
    for name, path in state["files"].items():
        _STATE[name] = np.load(path, mmap_mode="r+" if name == "xy" else "r")


def _bitmap(chunks: list, top: int) -> np.ndarray:
    """One bit per possible node id up to ``top``, set for the ids the chunks hold."""
    n_words = top // 64 + 1
    words = np.zeros(n_words, dtype=np.uint64)
    slab = 1 << 30  # ids per pass (a byte each): 1 GB
    for lo in range(0, 64 * n_words, slab):
        hi = min(lo + slab, 64 * n_words)
        flags = np.zeros(hi - lo, dtype=bool)
        for c in chunks:
            if lo == 0 and hi > top:
                flags[c] = True
            else:
                flags[c[(c >= lo) & (c < hi)] - lo] = True
        words[lo // 64:hi // 64] = np.packbits(flags, bitorder="little").view("<u8")
    return words


def _run(func, items: list[int], workers: int, progress, what: str) -> list:
    """``func`` over batches of ``items`` (blob numbers), in order, in ``workers``
    processes (they map the shared arrays, see :func:`_share`)."""
    size = max(1, min(32, len(items) // (8 * workers) or 1))
    batches = [items[k:k + size] for k in range(0, len(items), size)]
    done = 0
    out = []
    if progress is not None:
        progress(what, 0, len(items))
    if workers > 1 and len(batches) > 1:
        # not forked from this process: its threads (a jemalloc or BLAS pool, say) may hold
        # locks that a forked child would wait on forever
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            ctx.set_forkserver_preload(["reachplan.roads.pbf"])
        state = {k: v for k, v in _STATE.items()
                 if k in ("path", "blobs", "rules", "files", "folder")}
        with _without_main(), ctx.Pool(workers, initializer=_init, initargs=(state,)) as pool:
            for batch, result in zip(batches, pool.imap(_safe(func), batches), strict=True):
                out.append(result)
                done += len(batch)
                if progress is not None:
                    progress(what, done, len(items))
        return out
    for batch in batches:
        out.append(_safe(func)(batch))
        done += len(batch)
        if progress is not None:
            progress(what, done, len(items))
    return out


@contextlib.contextmanager
def _without_main():
    """Start workers that do not import the caller's main script: they need only this
    module, and a script that reads roads at its top level (no ``if __name__ ==
    "__main__"``) would otherwise run again in each worker and fail."""
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__")
             if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__dict__["__spec__"] = None
        yield
    finally:
        if main is not None:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


class _safe:
    """A worker function whose failures on a damaged file come back as Unsupported."""

    def __init__(self, func) -> None:
        self.func = func

    def __call__(self, batch):
        try:
            return self.func(batch)
        except (IndexError, ValueError, OverflowError) as exc:
            raise Unsupported(f"{type(exc).__name__}: {exc}") from None
