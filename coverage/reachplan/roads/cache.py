"""The road-graph cache: built graphs as ``.npz`` entries, trusted only once checked.

An entry is named by, and records, the SHA-256 of the roads file's content, the profile, the
speeds, the reader options and the entry format (:func:`entry_key`); a second run with the same
inputs loads it instead of parsing the extract. Before an entry is used:

* on POSIX the cache folder, its ``roads`` folder and the entry must be owned by this user (or
  root) and writable by nobody else (like ssh's StrictModes); folders are made 0700 and entries
  0600, written to a temporary file beside the target and renamed. A folder that fails is not
  used at all this run; an entry that fails is rebuilt. Windows has no such modes: not checked.
* every array's header (dtype, shape) is read before any array is allocated, and the sizes
  must add up to the file's own size (a header claiming 10^12 vertices costs nothing);
* the graph must be one :func:`reachplan.roads.graph.graph_from_segments` could have made:
  for the compressed graph, ``indptr`` from 0, non-decreasing, ending at the edge count;
  column indices in range, sorted within a row, no self-loop; minutes finite and >= 0; kept
  vertices increasing and in range; for the chains, at least one segment each, vertices in
  range, ends kept, minutes from ``a`` finite, from 0 and non-decreasing, minutes back from
  ``b`` non-increasing to 0; coordinates on the globe; vertex keys increasing; and the key it
  records the one asked for.

Any doubt gives one :class:`CacheWarning` naming the entry and the reason, and the graph is
rebuilt from the roads file (kept in memory when the cache cannot be written).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np

__all__ = ["CacheWarning", "Entry", "cache_root", "entry_key", "file_sha256", "load_entry",
           "open_folder", "save_entry"]

FORMAT = 5  # the entry layout, the key's recipe or what a graph holds; bump on any change
# (4: access values closed as OSRM's profiles, issue 18.6; 5: the compressed graph, issue 22)

_F8, _I8, _I4 = np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.int32)
_KEY = np.dtype("<U64")
# member -> (allowed dtypes, rank); "n" vertices and "m" edges are read off lon and data
_MEMBERS: dict[str, tuple[tuple[np.dtype, ...], int]] = {
    "lon": ((_F8,), 1), "lat": ((_F8,), 1), "vertex": ((_I8,), 1), "kept": ((_I8,), 1),
    "indptr": ((_I4, _I8), 1), "indices": ((_I4, _I8), 1), "minutes": ((_F8,), 1),
    "chain_ptr": ((_I8,), 1), "chain_vertex": ((_I4, _I8), 1), "chain_fwd": ((_F8,), 1),
    "chain_bwd": ((_F8,), 1), "top_kmh": ((_F8,), 0), "cache_key": ((_KEY,), 0),
}


class CacheWarning(UserWarning):
    """A road-graph cache folder or entry was not trusted; the graph is built anew."""


class _Doubt(Exception):
    """Why an entry is not used (the text follows the entry's name in the warning)."""


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
    """SHA-256 of a file's content, hex (about 1.6 GB/s here: 0.06 s per 100 MB)."""
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
    return folder / f"roads-{profile}-{key[:32]}.npz"


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
    with os.fdopen(fd, "rb") as handle:
        try:
            st = os.fstat(fd)  # the file read below, not whatever the name points at now
            why = _unsafe(st)
            if why is not None:
                raise _Doubt(why)
            return _read(handle, st.st_size, key)
        except _Doubt as exc:
            _warn(target, str(exc))
        except (OSError, EOFError, ValueError, NotImplementedError, RuntimeError,
                zipfile.BadZipFile) as exc:  # what zipfile and numpy raise on junk
            _warn(target, f"is damaged ({type(exc).__name__}: {exc})")
    return None


def _header(stream: IO[bytes]) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an .npy header (numpy bounds the header's own size)."""
    fmt = np.lib.format
    version = fmt.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(stream)
    else:
        raise _Doubt(f"has an .npy member of version {version}")
    if fortran and len(shape) > 1:
        raise _Doubt("has a Fortran-ordered array")
    return shape, dtype


def _read(handle: BinaryIO, size: int, key: str) -> Entry:
    with zipfile.ZipFile(handle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        names = {f"{name}.npy" for name in _MEMBERS}
        if set(infos) != names:
            raise _Doubt("does not hold the arrays of a road graph (written by another "
                         "version?)")
        if any(info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1
               for info in infos.values()):
            raise _Doubt("has compressed or encrypted members (not written by reachplan)")
        if sum(info.file_size for info in infos.values()) > size:
            raise _Doubt("claims more bytes than the file holds (truncated?)")
        heads = {}
        for name in _MEMBERS:
            with archive.open(infos[f"{name}.npy"]) as stream:
                heads[name] = (*_header(stream), stream.tell())
        _check_headers(heads, {name: infos[f"{name}.npy"].file_size for name in _MEMBERS})
        arrays = {name: _array(archive, infos[f"{name}.npy"], heads[name][1], heads[name][0])
                  for name in _MEMBERS}
    if str(arrays["cache_key"][()]) != key:
        raise _Doubt("was built from another roads file or other options (its key differs)")
    entry = Entry(arrays["lon"], arrays["lat"], arrays["vertex"], arrays["kept"],
                  arrays["indptr"], arrays["indices"], arrays["minutes"], arrays["chain_ptr"],
                  arrays["chain_vertex"], arrays["chain_fwd"], arrays["chain_bwd"],
                  float(arrays["top_kmh"][()]))
    _check_graph(entry)
    return entry


def _check_headers(heads: dict[str, tuple[tuple[int, ...], np.dtype, int]],
                   sizes: dict[str, int]) -> None:
    """Every member's dtype and rank as written, its shape consistent with the others and
    its bytes exactly those its header announces (so no array outgrows the file)."""
    for name, (shape, dtype, offset) in heads.items():
        allowed, rank = _MEMBERS[name]
        if dtype not in allowed or len(shape) != rank:
            raise _Doubt(f"has '{name}' of dtype {dtype} and shape {shape}")
        if offset + int(np.prod(shape, dtype=object)) * dtype.itemsize != sizes[name]:
            raise _Doubt(f"has '{name}' whose header does not match its size")
    n, m = heads["lon"][0][0], heads["minutes"][0][0]
    k, p = heads["kept"][0][0], heads["chain_vertex"][0][0]
    want = {"lat": (n,), "vertex": (n,), "indptr": (k + 1,), "indices": (m,),
            "chain_fwd": (p,), "chain_bwd": (p,)}
    for name, shape in want.items():
        if heads[name][0] != shape:
            raise _Doubt(f"has '{name}' of shape {heads[name][0]}, not {shape}")
    if heads["indptr"][1] != heads["indices"][1]:
        raise _Doubt("has 'indptr' and 'indices' of different dtypes")


def _array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dtype: np.dtype,
           shape: tuple[int, ...]) -> np.ndarray:
    """One member read straight into its array (its size already checked); reading to the
    end makes zipfile check the CRC."""
    out = np.empty(shape, dtype=dtype)
    view = out.reshape(-1).data.cast("B")
    with archive.open(info) as stream:
        _header(stream)
        done = 0
        while done < len(view):
            chunk = stream.read(min(len(view) - done, 1 << 22))
            if not chunk:
                raise _Doubt("is truncated")
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
        if stream.read(1):
            raise _Doubt(f"has more bytes in '{info.filename}' than its header says")
    return out


def _check_graph(e: Entry) -> None:
    """The arrays describe a graph graph_from_segments could have made."""
    n, k, m = len(e.lon), len(e.kept), len(e.minutes)
    if not (np.isfinite(e.lon).all() and np.isfinite(e.lat).all()
            and (np.abs(e.lon) <= 180).all() and (np.abs(e.lat) <= 90).all()):
        raise _Doubt("has vertices off the globe (non-finite or out-of-range coordinates)")
    if n > 1 and not (e.vertex[1:] > e.vertex[:-1]).all():
        raise _Doubt("has vertex keys out of order")
    if k and (e.kept[0] < 0 or e.kept[-1] >= n or (np.diff(e.kept) <= 0).any()):
        raise _Doubt("has kept vertices out of order or past the vertices it holds")
    step = np.diff(e.indptr)
    if e.indptr[0] != 0 or e.indptr[-1] != m or (step < 0).any():
        raise _Doubt("has a row pointer ('indptr') that does not run from 0 up to the edges")
    if m and (e.indices.min() < 0 or e.indices.max() >= k):
        raise _Doubt(f"has edges to vertices past the {k} it keeps")
    rows = np.repeat(np.arange(k, dtype=e.indices.dtype), step)
    if (rows == e.indices).any() or ((e.indices[1:] <= e.indices[:-1])
                                      & (rows[1:] == rows[:-1])).any():
        raise _Doubt("has self-loops or repeated or unsorted edges")
    if not (np.isfinite(e.minutes).all() and (e.minutes >= 0).all()):
        raise _Doubt("has minutes that are negative or not finite")
    if not (np.isfinite(e.top_kmh) and e.top_kmh >= 0):
        raise _Doubt("has a top speed that is negative or not finite")
    _check_chains(e, n)


def _check_chains(e: Entry, n: int) -> None:
    """Chains of at least one segment, on known vertices, ends kept, minutes in order."""
    ptr, p = e.chain_ptr, len(e.chain_vertex)
    if len(ptr) == 0 or ptr[0] != 0 or ptr[-1] != p or (np.diff(ptr) < 2).any():
        raise _Doubt("has a chain pointer ('chain_ptr') that does not run from 0 up to the "
                     "chain positions in steps of 2 or more")
    if p and (e.chain_vertex.min() < 0 or e.chain_vertex.max() >= n):
        raise _Doubt(f"has chains through vertices past the {n} it holds")
    first, last = ptr[:-1], ptr[1:] - 1
    is_kept = np.zeros(n, dtype=bool)
    is_kept[e.kept] = True
    if not (is_kept[e.chain_vertex[first]].all() and is_kept[e.chain_vertex[last]].all()):
        raise _Doubt("has chains that do not end at kept vertices")
    fwd, bwd = e.chain_fwd, e.chain_bwd
    with np.errstate(invalid="ignore"):  # inf - inf on one-way chains: nan, not < 0
        up, down = np.diff(fwd), bwd[:-1] - bwd[1:]
    up[last[:-1]] = 0.0  # from one chain's end to the next chain's start
    down[last[:-1]] = 0.0
    if not (np.isfinite(fwd).all() and (fwd[first] == 0).all() and (bwd[last] == 0).all()
            and not (up < 0).any() and not (down < 0).any() and not np.isnan(bwd).any()):
        raise _Doubt("has chain minutes that are not finite, not from 0 or out of order")


def save_entry(target: Path, key: str, entry: Entry) -> None:
    """Write ``entry`` atomically (0600, a temporary file beside the target, renamed);
    OSError when the folder cannot be written."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, lon=entry.lon, lat=entry.lat, vertex=entry.vertex,
                     kept=entry.kept, indptr=entry.indptr, indices=entry.indices,
                     minutes=entry.minutes, chain_ptr=entry.chain_ptr,
                     chain_vertex=entry.chain_vertex, chain_fwd=entry.chain_fwd,
                     chain_bwd=entry.chain_bwd,
                     top_kmh=np.array(entry.top_kmh, dtype=np.float64),
                     cache_key=np.array(key, dtype=_KEY))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
