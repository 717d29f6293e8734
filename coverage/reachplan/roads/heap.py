"""Freed memory kept for reuse while a large road graph is built.

glibc serves every allocation over its mmap threshold (at most 32 MB: each of numpy's large
arrays) with fresh pages from the kernel and gives them back when the array is freed, so each
of a national build's temporaries (dozens of 80 M-element arrays, tens of GB in all) is touched
for the first time: a page fault per page and the kernel zeroing it, 1-5 s a GB on a VM. While
:func:`kept_heap` is active glibc serves them from its heap instead and keeps freed memory for
the next ones (the build's peak is unchanged: it is its live arrays' at that moment); after it,
the defaults are back and the heap's free memory is given back (``malloc_trim``).

Elsewhere than glibc (macOS, Windows, musl) it does nothing. A side effect on glibc: once set,
glibc no longer adapts its mmap threshold to the program (it keeps the one it had reached).
"""

from __future__ import annotations

import contextlib
import ctypes
import platform
from collections.abc import Iterator

__all__ = ["kept_heap"]

_M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
_M_MMAP_MAX = -4
_DEFAULT_TRIM_THRESHOLD = 128 * 1024
_DEFAULT_MMAP_MAX = 65536


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


@contextlib.contextmanager
def kept_heap() -> Iterator[None]:
    """Large allocations from glibc's heap, never trimmed, while active (see the module)."""
    libc = _glibc()
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_MAX, 0)
    libc.mallopt(_M_TRIM_THRESHOLD, -1)  # -1: never trim
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
        libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
        libc.malloc_trim(0)
