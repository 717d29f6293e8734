"""The road-graph cache: built graphs as one raw-array file each, trusted only once checked.

An entry is named by, and records, the SHA-256 of the roads file's content, the profile, the
speeds, the reader options and the entry format (:func:`entry_key`); a second run with the same
inputs loads it instead of parsing the extract. The layout (format 7; 6 summed each array with
CRC-32, 5 was an ``.npz``, whose zip pass, second copy and graph-sized temporaries took twice
the time):

* a 28-byte preamble: the magic ``reachplan-roads\\0``, then little-endian uint32s: the format,
  the length of the header and the header's CRC-32;
* the header, JSON: the key, the top speed and, for every array, its name, dtype (one of
  ``<f8``, ``<i8``, ``<i4``, as allowed for that array), shape, offset and XXH3-64 checksum;
* the arrays, raw little-endian, each at an offset that is a multiple of 64, in the header's
  order, with fewer than 64 bytes of padding between them and none after the last.

Loading maps the entry read-only (``mmap``, ``ACCESS_READ``) and takes each array as a view of
the map at its offset: no copy and no fresh memory to fault in (on this VM, filling 4 GB of new
pages with ``readinto`` took 8 s at 200 M OSM nodes, the map and a sum over it 1.2 s; the
arrays live in the page cache, shared by every process that loads the same graph). Two threads
then check each group of arrays and checksum each array (numpy releases the GIL). The arrays
are read-only (numpy refuses a write). The checked bytes stay the bytes used because nothing
rewrites an entry in place: reachplan replaces one by writing a temporary file and renaming it
(a process that mapped the old entry keeps the old file's pages), and the folder and the entry
belong to this user alone (below). Rewriting an entry in place behind a running process (``cp``
onto it, by its owner or root) is outside what the checks defend against, as writing into the
process's memory would be.
Before an entry is used:

* on POSIX the cache folder, its ``roads`` folder and the entry must be owned by this user (or
  root) and writable by nobody else (like ssh's StrictModes); folders are made 0700 and entries
  0600, written to a temporary file beside the target and renamed. A folder that fails is not
  used at all this run; an entry that fails is rebuilt. Windows has no such modes: not checked.
* the preamble and the header are read and checked before any array is allocated: the magic
  and format, the header's length (at most 1 MiB) and CRC, exactly the arrays of a graph, each
  of an allowed dtype, shapes consistent with each other, offsets aligned, not overlapping, not
  past the end, and the arrays' sizes adding up to the file's own size (a header claiming 10^12
  vertices costs nothing); the key it records must be the one asked for;
* the graph must be one :func:`reachplan.roads.graph.graph_from_segments` could have made:
  for the compressed graph, ``indptr`` from 0, non-decreasing, ending at the edge count;
  column indices in range, sorted within a row, no self-loop; minutes finite and >= 0; kept
  vertices increasing and in range; for the chains, at least one segment each, vertices in
  range, ends kept, minutes from ``a`` finite, from 0 and non-decreasing, minutes back from
  ``b`` non-increasing to 0; coordinates on the globe; vertex keys increasing
  (:mod:`reachplan.roads.cache_checks`: each check one vectorised pass, min/max reductions
  for ranges and comparisons of neighbours in slices into one reused buffer, so no temporary
  is the size of the graph but a bitmap of the vertices, one byte each);
* every array's XXH3-64 (the ``xxhash`` package, xxHash's reference C) must match the
  header's. The checks above prove the graph is safe to use, not that it is the graph that was
  written: a bit flipped on disk in a minute, a coordinate or an index that stays in range
  passes them and silently changes answers (a test plants exactly that). So the checksum
  stays. XXH3-64 runs at 12-15 GB/s of one CPU here against zlib's CRC-32 at 1.7-2.2 GB/s
  (format 6): 0.3 s instead of 2.2 s of CPU for the 4.16 GB entry of a 200 M-node extract, on
  every cached load and every cache write; a random error goes unseen with probability 2^-64
  (CRC-32: 2^-32; CRC's guarantee on bursts of up to 32 bits is not needed against random
  damage). A weighted sum of 64-bit words in numpy (~10 GB/s) was not used: modulo 2^64 it
  misses the top bit flipped in any two words (the signs of two minutes).

Any doubt gives one :class:`CacheWarning` naming the entry and the reason, and the graph is
rebuilt from the roads file (kept in memory when the cache cannot be written). Entries of
older formats have other names (the key records the format) and are never read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import stat
import struct
import tempfile
import warnings
import zlib
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from reachplan.roads.cache_checks import CHECKS as _CHECKS
from reachplan.roads.cache_checks import Doubt as _Doubt

__all__ = ["CacheWarning", "Entry", "cache_root", "entry_key", "file_sha256", "load_entry",
           "open_folder", "save_entry"]

FORMAT = 7  # the entry layout, the key's recipe or what a graph holds; bump on any change
# (4: access values closed as OSRM's profiles, issue 18.6; 5: the compressed graph, issue 22;
# 6: raw arrays behind a JSON header instead of an .npz, issue 22; 7: XXH3-64 sums, not CRC-32)

MAGIC = b"reachplan-roads\0"
_PREAMBLE = struct.Struct("<16sIII")  # magic, format, header length, header CRC-32
ALIGN = 64
MAX_HEADER = 1 << 20
_DTYPES: dict[str, np.dtype] = {name: np.dtype(name) for name in ("<f8", "<i8", "<i4")}
_F8, _I8, _I4 = ("<f8",), ("<i8",), ("<i4", "<i8")
# array -> allowed dtypes, in the order written; "n" vertices and "m" edges are read off
# lon and minutes
ARRAYS: dict[str, tuple[str, ...]] = {
    "lon": _F8, "lat": _F8, "vertex": _I8, "kept": _I8, "indptr": _I4, "indices": _I4,
    "minutes": _F8, "chain_ptr": _I8, "chain_vertex": _I4, "chain_fwd": _F8, "chain_bwd": _F8,
}


class CacheWarning(UserWarning):
    """A road-graph cache folder or entry was not trusted; the graph is built anew."""


@dataclass(frozen=True)
class Entry:
    """The arrays of a cached graph (see :class:`reachplan.roads.graph.RoadGraph` and
    :class:`reachplan.roads.chains.Chains`)."""

    lon: np.ndarray
    lat: np.ndarray
    vertex: np.ndarray
    kept: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    minutes: np.ndarray
    chain_ptr: np.ndarray
    chain_vertex: np.ndarray
    chain_fwd: np.ndarray
    chain_bwd: np.ndarray
    top_kmh: float


def cache_root() -> Path:
    """Where built graphs are cached unless ``cache_dir`` says otherwise."""
    if os.environ.get("REACHPLAN_CACHE_DIR"):
        return Path(os.environ["REACHPLAN_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "reachplan"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "reachplan"
    return Path.home() / ".cache" / "reachplan"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's content, hex (0.75-0.9 s of one CPU per GB here, hashlib)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def entry_key(sha256: str, profile: str, options: Mapping[str, Any]) -> str:
    """The key of the graph of a roads file with this content, profile and options."""
    recipe = json.dumps({"format": FORMAT, "roads_sha256": sha256, "profile": profile,
                         **options}, sort_keys=True)
    return hashlib.sha256(recipe.encode()).hexdigest()


def _warn(what: Path, why: str) -> None:
    warnings.warn(f"road-graph cache: {what} {why}; building the graph from the roads file",
                  CacheWarning, stacklevel=4)


def _unsafe(st: os.stat_result) -> str | None:
    """Why a folder or entry with this status may have been written by someone else."""
    if os.name == "nt":  # no POSIX owner and modes: ACLs are the folder's business
        return None
    if st.st_uid not in (os.geteuid(), 0):
        return f"is owned by another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"is writable by other users (mode {st.st_mode & 0o777:o})"
    return None


def open_folder(root: Path) -> Path | None:
    """``root/roads``, made (0700) when missing; None, with one warning, when it or ``root``
    may be written by another user, and None silently when it cannot be made."""
    folder = root / "roads"
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        for path in (root, folder):
            with contextlib.suppress(FileExistsError):
                path.mkdir(mode=0o700)
        status = [os.stat(root), os.stat(folder)]
    except OSError:
        return None  # e.g. a read-only disk: nothing to trust or to fear, just no cache
    for path, st in zip((root, folder), status, strict=True):
        why = "is not a folder" if not stat.S_ISDIR(st.st_mode) else _unsafe(st)
        if why is not None:
            warnings.warn(f"road-graph cache: folder {path} {why}; not using the cache "
                          "(chmod 700 it if it is yours, or set REACHPLAN_CACHE_DIR to a "
                          "folder of your own)", CacheWarning, stacklevel=3)
            return None
    return folder


def entry_path(folder: Path, profile: str, key: str) -> Path:
    return folder / f"roads-{profile}-{key[:32]}.graph"


def load_entry(target: Path, key: str) -> Entry | None:
    """The entry at ``target`` when it is there and sound; None when absent, and None with
    one :class:`CacheWarning` when it is there but not trusted."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(target, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a symbolic link (ELOOP), a folder, no permission
        _warn(target, f"cannot be opened ({exc.strerror})")
        return None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        try:
            st = os.fstat(fd)  # the file read below, not whatever the name points at now
            why = "is not a regular file" if not stat.S_ISREG(st.st_mode) else _unsafe(st)
            if why is not None:
                raise _Doubt(why)
            return _read(handle, st.st_size, key)
        except _Doubt as exc:
            _warn(target, str(exc))
        except (OSError, ValueError, OverflowError, RecursionError, MemoryError) as exc:
            _warn(target, f"is damaged ({type(exc).__name__}: {exc})")
    return None


@dataclass(frozen=True)
class _Layout:
    """What the header says: the key, the top speed, and per array (dtype, length, offset,
    XXH3-64), in the order of the file."""

    key: str
    top_kmh: float
    arrays: dict[str, tuple[np.dtype, int, int, int]]


def _read(handle: Any, size: int, key: str) -> Entry:
    """The entry, its arrays viewed in the read-only map one after another while two threads
    check them (each group of checks once its arrays are in) and their checksums; the first
    doubt in a fixed order (the checks as listed in _CHECKS, then the checksums) is the one said."""
    layout = _header(handle, size)
    if layout.key != key:
        raise _Doubt("was built from another roads file or other options (its key differs)")
    if not (np.isfinite(layout.top_kmh) and layout.top_kmh >= 0):
        raise _Doubt("has a top speed that is negative or not finite")
    n, p = layout.arrays["lon"][1], layout.arrays["chain_vertex"][1]
    view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if len(view) != size:
        raise _Doubt("changed size while it was read")
    arrays: dict[str, np.ndarray] = {}
    checks: dict[int, Future[None]] = {}
    sums: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=2) as pool:  # numpy releases the GIL
        try:
            for name, (dtype, length, offset, digest) in layout.arrays.items():
                arrays[name] = _array(view, dtype, length, offset)
                sums.append(pool.submit(_sum_is, name, arrays[name], digest))
                for i, (needs, check) in enumerate(_CHECKS):
                    if i not in checks and all(a in arrays for a in needs):
                        checks[i] = pool.submit(check, dict(arrays), n, p)
            for future in [checks[i] for i in sorted(checks)] + sums:
                future.result()
        except BaseException:
            for future in [*checks.values(), *sums]:
                future.cancel()  # those not started yet: the entry is not used anyway
            raise
    return Entry(**arrays, top_kmh=layout.top_kmh)


def _sum_is(name: str, array: np.ndarray, digest: int) -> None:
    if _sum(array) != digest:
        raise _Doubt(f"has '{name}' whose checksum differs from its header's (damaged on "
                     "disk?)")


def _sum(array: np.ndarray) -> int:
    return xxhash.xxh3_64_intdigest(array.reshape(-1).data.cast("B"))


def _header(handle: Any, size: int) -> _Layout:
    """The preamble and header, checked, before anything is allocated."""
    pre = handle.read(_PREAMBLE.size)
    if len(pre) < _PREAMBLE.size or pre[:len(MAGIC)] != MAGIC:
        raise _Doubt("is not a reachplan road graph (no 'reachplan-roads' magic)")
    _, fmt, length, crc = _PREAMBLE.unpack(pre)
    if fmt != FORMAT:
        raise _Doubt(f"is of format {fmt}, not {FORMAT}")
    if length > min(MAX_HEADER, size - _PREAMBLE.size):
        raise _Doubt(f"claims a header of {length} bytes (truncated?)")
    text = handle.read(length)
    if len(text) != length or zlib.crc32(text) != crc:
        raise _Doubt("has a header whose checksum differs (damaged on disk?)")
    try:
        head = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:  # written by something else
        raise _Doubt(f"has a header that is not JSON ({exc})") from None
    if not (isinstance(head, dict) and set(head) == {"key", "top_kmh", "arrays"}
            and type(head["key"]) is str and type(head["top_kmh"]) in (int, float)
            and isinstance(head["arrays"], list)):
        raise _Doubt("has a header without the key, top speed and arrays of a road graph")
    arrays = {}
    for item in head["arrays"]:
        name = item.get("name") if isinstance(item, dict) else None
        if (not isinstance(name, str) or name not in ARRAYS or name in arrays
                or set(item) != {"name", "dtype", "shape", "offset", "xxh3_64"}):
            raise _Doubt(f"has an unknown or repeated array in its header ({str(item)[:80]})")
        shape, offset, digest = item["shape"], item["offset"], item["xxh3_64"]
        if item["dtype"] not in ARRAYS[name]:
            raise _Doubt(f"has '{name}' of dtype {str(item['dtype'])[:20]}, not one of "
                         f"{', '.join(ARRAYS[name])}")
        if not (isinstance(shape, list) and len(shape) == 1 and type(shape[0]) is int
                and shape[0] >= 0):
            raise _Doubt(f"has '{name}' of shape {str(shape)[:40]}, not one length")
        if not (type(offset) is int and type(digest) is int and 0 <= digest < 1 << 64):
            raise _Doubt(f"has '{name}' without an offset and a checksum")
        arrays[name] = (_DTYPES[item["dtype"]], shape[0], offset, digest)
    if set(arrays) != set(ARRAYS):
        raise _Doubt("does not hold the arrays of a road graph (written by another version?)")
    _check_layout(arrays, _PREAMBLE.size + length, size)
    return _Layout(head["key"], float(head["top_kmh"]), arrays)


def _check_layout(arrays: dict[str, tuple[np.dtype, int, int, int]], start: int,
                  size: int) -> None:
    """Offsets aligned, arrays after the header, apart, inside the file and filling it;
    lengths consistent with each other (so no array outgrows the file or another)."""
    end = start
    for name, (dtype, length, offset, _) in sorted(arrays.items(), key=lambda a: a[1][2]):
        if offset % ALIGN:
            raise _Doubt(f"has '{name}' at offset {offset}, not a multiple of {ALIGN}")
        if offset < end:
            raise _Doubt(f"has '{name}' at offset {offset}, overlapping the header or the "
                         "array before it")
        if offset - end >= ALIGN:
            raise _Doubt(f"has {offset - end} bytes before '{name}' that no array holds")
        end = offset + length * dtype.itemsize
        if end > size:
            raise _Doubt(f"has '{name}' ending at byte {end}, past the end of the file "
                         f"({size} bytes; truncated?)")
    if end != size:
        raise _Doubt(f"has {size - end} bytes after its last array (its header does not "
                     "match its size)")
    n, m = arrays["lon"][1], arrays["minutes"][1]
    k, p = arrays["kept"][1], arrays["chain_vertex"][1]
    want = {"lat": n, "vertex": n, "indptr": k + 1, "indices": m, "chain_fwd": p,
            "chain_bwd": p}
    for name, length in want.items():
        if arrays[name][1] != length:
            raise _Doubt(f"has '{name}' of length {arrays[name][1]}, not {length}")
    if arrays["indptr"][0] != arrays["indices"][0]:
        raise _Doubt("has 'indptr' and 'indices' of different dtypes")


def _array(view: mmap.mmap, dtype: np.dtype, length: int, offset: int) -> np.ndarray:
    """One array, a read-only view of the mapped entry (its place in the file already
    checked)."""
    return np.frombuffer(view, dtype=dtype, count=length, offset=offset)


def _check_graph(e: Entry) -> None:
    """The checks of :mod:`reachplan.roads.cache_checks` one after another (_read runs them
    in threads)."""
    arrays = {name: getattr(e, name) for name in ARRAYS}
    for _, check in _CHECKS:
        check(arrays, len(e.lon), len(e.chain_vertex))


def save_entry(target: Path, key: str, entry: Entry) -> None:
    """Write ``entry`` atomically (0600, a temporary file beside the target, renamed);
    OSError when the folder cannot be written."""
    arrays = {}
    for name, allowed in ARRAYS.items():
        have = np.asarray(getattr(entry, name))
        dtype = next((_DTYPES[d] for d in allowed if _DTYPES[d].kind == have.dtype.kind
                      and _DTYPES[d].itemsize == have.dtype.itemsize), _DTYPES[allowed[-1]])
        arrays[name] = np.ascontiguousarray(have.reshape(-1), dtype=dtype)
    table, offset = [], 0
    for name, array in arrays.items():  # offsets relative to the first array for now
        table.append({"name": name, "dtype": array.dtype.str, "shape": [len(array)],
                      "offset": offset, "xxh3_64": _sum(array)})
        offset = _aligned(offset + array.nbytes)

    def header(shift: int) -> bytes:
        rows = [{**row, "offset": row["offset"] + shift} for row in table]
        return json.dumps({"key": key, "top_kmh": float(entry.top_kmh), "arrays": rows},
                          allow_nan=False).encode()

    shift = _aligned(_PREAMBLE.size + len(header(0)))
    while _aligned(_PREAMBLE.size + len(head := header(shift))) != shift:  # digits grew
        shift = _aligned(_PREAMBLE.size + len(head))
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_PREAMBLE.pack(MAGIC, FORMAT, len(head), zlib.crc32(head)) + head)
            for row, array in zip(table, arrays.values(), strict=True):
                handle.write(b"\0" * (row["offset"] + shift - handle.tell()))
                handle.write(array.data.cast("B"))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN
