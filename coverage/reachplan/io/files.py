"""Open inputs safely: files that never end (a device, a FIFO) and files too large to be what
they claim give one line, never a hang or a memory exhaustion.

- :func:`check_regular`: for readers that seek (GDAL, osmium, openpyxl, CSV read in parts): a
  FIFO or a device is refused before it is opened (opening a FIFO with no writer blocks);
- :func:`read_text`: for small text inputs (rules, baselines, golden files, speeds): read
  whole, at most ``limit`` bytes, from a regular file or a pipe (``<(git show ...)``); a FIFO
  with no writer reads as empty instead of blocking.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from reachplan.errors import InputError

__all__ = ["MAX_TEXT_BYTES", "check_regular", "read_text"]

MAX_TEXT_BYTES = 64 << 20  # a rules file, baseline or golden file larger than this is not one
_BLOCK = 1 << 20


def _kind(mode: int) -> str | None:
    """What a non-regular, non-folder file is, or ``None`` for a file or folder."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def check_regular(path: str | os.PathLike, what: str) -> None:
    """Refuse ``path`` when it is a FIFO, socket or device: ``what`` is read by a library
    that seeks, and such a file may never end."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing or unreadable: the caller's own check names it
    kind = _kind(mode)
    if kind is not None:
        raise InputError(f"{path}: is {kind}, not a file; save the {what} to a file and give "
                         "that")


def read_text(path: str | os.PathLike, what: str, *, limit: int = MAX_TEXT_BYTES,
              encoding: str = "utf-8-sig") -> str:
    """The text of a small input, at most ``limit`` bytes (more is one line naming the file
    and ``what`` it should be). Raises ``FileNotFoundError``, ``IsADirectoryError``,
    other ``OSError`` and ``UnicodeDecodeError`` as ``open`` would."""
    # O_NONBLOCK: opening a FIFO that has no writer returns at once (and reads as empty)
    nonblock = getattr(os, "O_NONBLOCK", 0)  # none on Windows, which has no FIFOs in paths
    fd = os.open(path, os.O_RDONLY | nonblock)
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    with os.fdopen(fd, "rb") as handle:
        if nonblock:
            os.set_blocking(fd, True)  # a pipe with a writer: wait for its data
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            block = handle.read1(min(_BLOCK, limit + 1 - size))
            if not block:
                break
            chunks.append(block)
            size += len(block)
    if size > limit:
        raise InputError(f"{Path(path)}: larger than {limit >> 20} MiB; not a {what}")
    return b"".join(chunks).decode(encoding)
