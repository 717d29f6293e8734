"""kept_heap (glibc's large allocations from its heap during a build) changes where memory
comes from, never what is computed: arrays made inside and after it hold what they should,
and an error inside it still restores glibc's defaults and propagates."""

from __future__ import annotations

import numpy as np
import pytest

from reachplan.roads.heap import kept_heap


def test_large_arrays_inside_and_after():
    with kept_heap():
        a = np.arange(10_000_000, dtype=np.int64)  # 80 MB: over any mmap threshold
        b = a[::-1].copy()
        del a
        c = np.full(10_000_000, 7, dtype=np.int64)  # reuses a's memory
    assert int(b[0]) == 9_999_999 and int(b[-1]) == 0 and int(c.sum()) == 70_000_000
    d = np.ones(10_000_000)
    assert float(d.sum()) == 10_000_000.0


def test_an_error_inside_propagates():
    with pytest.raises(ZeroDivisionError), kept_heap():
        1 / 0  # noqa: B018
    with kept_heap():
        assert np.zeros(5_000_000).sum() == 0.0
