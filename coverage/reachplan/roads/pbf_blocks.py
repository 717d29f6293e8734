"""The PBF format's pieces, decoded with numpy: protobuf fields, packed varints, blobs.

https://wiki.openstreetmap.org/wiki/PBF_Format; :mod:`reachplan.roads.pbf` reads roads with
these.
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

__all__ = ["Unsupported", "blob_index", "block", "fields", "gather", "inflate", "only_nodes",
           "varint", "varints", "varints_at", "zigzag"]

_FEATURES = {"OsmSchema-V0.6", "DenseNodes"}


class Unsupported(Exception):
    """A PBF this reader leaves to pyosmium (the message says why)."""


# ----------------------------------------------------------------------------- protobuf
def varint(buf, p: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[p]
        p += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, p
        shift += 7


def fields(buf, p: int, end: int):
    """(field, value or start, end) of each field of a message (end is -1 for a varint)."""
    while p < end:
        key, p = varint(buf, p)
        wire = key & 7
        if wire == 0:
            value, p = varint(buf, p)
            yield key >> 3, value, -1
        elif wire == 2:
            size, p = varint(buf, p)
            if p + size > end:
                raise Unsupported("a field runs past its message")
            yield key >> 3, p, p + size
            p += size
        elif wire in (1, 5):
            p += 8 if wire == 1 else 4
        else:
            raise Unsupported(f"wire type {wire}")


def varints(a: np.ndarray) -> np.ndarray:
    """Every varint of a packed field (uint8 array) as uint64."""
    last = a < 0x80
    n = int(np.count_nonzero(last))
    if n == a.size:
        return a.astype(np.uint64)
    if not a.size or not last[-1]:
        raise Unsupported("a packed field ends inside a number")
    ends = np.flatnonzero(last)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    size = ends - starts + 1
    values = (a[starts] & 0x7F).astype(np.uint64)
    top = len(a) - 1
    for k in range(1, int(size.max())):  # k-th byte of every value at once (0 past its end)
        b = (a[np.minimum(starts + k, top)] & 0x7F).astype(np.uint64)
        values |= np.where(size > k, b << np.uint64(7 * k), np.uint64(0))
    return values


def zigzag(v: np.ndarray) -> np.ndarray:
    return (v >> np.uint64(1)).view(np.int64) ^ -(v & np.uint64(1)).view(np.int64)


def varints_at(a: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The varint starting at each of ``pos`` and the position after it."""
    b = a[pos]
    values = (b & 0x7F).astype(np.int64)
    after = pos + 1
    more = np.flatnonzero(b >= 0x80)
    shift = 7
    while more.size:
        b = a[after[more]]
        values[more] |= (b & 0x7F).astype(np.int64) << shift
        after[more] += 1
        more = more[b >= 0x80]
        shift += 7
    return values, after


def gather(a: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The packed varints of the byte ranges [start, end) one after the other, and how many
    each range holds."""
    size = end - start
    total = int(size.sum())
    if total == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(len(start), dtype=np.int64)
    offset = np.cumsum(size) - size
    index = np.arange(total, dtype=np.int64) + np.repeat(start - offset, size)
    raw = a[index]
    full = size > 0
    if np.any(raw[(offset + size - 1)[full]] >= 0x80):
        raise Unsupported("a packed field ends inside a number")
    upto = np.concatenate([[0], np.cumsum(raw < 0x80)])[offset + size]
    counts = np.diff(upto, prepend=0)
    return varints(raw), counts


# ----------------------------------------------------------------------------- blocks
def blob_index(path: str) -> list[tuple[int, int]]:
    """(offset, size) of every data blob; checks the header's required features."""
    blobs = []
    with open(path, "rb") as f:
        total = os.fstat(f.fileno()).st_size
        pos = 0
        while pos < total:
            if pos + 4 > total:
                raise Unsupported("truncated")
            f.seek(pos)
            (size,) = struct.unpack(">I", f.read(4))
            if size > 64 * 1024:
                raise Unsupported("not a PBF block header")
            head = f.read(size)
            kind, datasize = b"", -1
            for field, a, b in fields(head, 0, len(head)):
                if field == 1 and b >= 0:
                    kind = head[a:b]
                elif field == 3 and b < 0:
                    datasize = a
            start = pos + 4 + size
            if datasize < 0 or start + datasize > total or len(head) < size:
                raise Unsupported("truncated")
            if kind == b"OSMHeader":
                f.seek(start)
                _check_header(inflate(f.read(datasize)))
            elif kind == b"OSMData":
                blobs.append((start, datasize))
            pos = start + datasize
    return blobs


def _check_header(block: bytes) -> None:
    for field, a, b in fields(block, 0, len(block)):
        if field == 4 and block[a:b].decode("utf-8", "replace") not in _FEATURES:
            raise Unsupported(f"required feature {block[a:b]!r}")


def inflate(blob, limit: int = 0) -> bytes:
    """A blob's block (its first ``limit`` bytes at least, when given)."""
    for field, a, b in fields(blob, 0, len(blob)):
        if field == 1 and b >= 0:
            return bytes(blob[a:b])
        if field == 3 and b >= 0:
            try:
                if not limit:
                    return zlib.decompress(blob[a:b])
                return zlib.decompressobj().decompress(blob[a:b], limit)
            except zlib.error as exc:
                raise Unsupported(str(exc)) from None
        if field in (4, 5, 6, 7):
            raise Unsupported(f"blob compression {field}")
    raise Unsupported("an empty blob")


def only_nodes(blob) -> bool:
    """Whether a block holds one group of dense nodes and nothing else, inflating only its
    first bytes (the string table and the group's header)."""
    raw_size = next((a for f, a, b in fields(blob, 0, len(blob)) if f == 2 and b < 0), -1)
    head = inflate(blob, 16)
    if len(head) < 2 or head[0] != 0x0A:
        return False
    size, p = varint(head, 1)
    p += size
    head = inflate(blob, p + 16)
    if len(head) < p + 2 or head[p] != 0x12:
        return False
    size, q = varint(head, p + 1)
    return q < len(head) and head[q] == 0x12 and q + size == raw_size


def block(data: bytes):
    """String table, groups' (kind, start, end) and coordinate scaling of a block."""
    strings: list[bytes] = []
    groups = []
    scale = {17: 100, 19: 0, 20: 0}
    for field, a, b in fields(data, 0, len(data)):
        if field == 1:
            strings = [data[s:e] for f, s, e in fields(data, a, b) if f == 1]
        elif field == 2:
            kind = data[a] >> 3 if a < b else 0
            groups.append((kind, a, b))
        elif field in scale and b < 0:
            scale[field] = a - (1 << 64) if a >= 1 << 63 else a
    return strings, groups, scale
