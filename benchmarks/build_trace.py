"""Where a road-graph build's memory goes: ``load_roads`` with an empty cache in this process,
its resident memory (anonymous, file, shared) sampled every 0.1 s beside the reader's progress
stages, then the peak of each stage and of the whole (ru_maxrss, this process and its children).

``.venv/bin/python benchmarks/build_trace.py benchmarks/_work/generated-20000000.osm.pbf``
(``--save DIR`` keeps the built cache entry there, e.g. to compare two builds' arrays with
``cache_compare.py``). Set ``MALLOC_ARENA_MAX`` or ``NUMPY_MADVISE_HUGEPAGE`` in the
environment to see their effect.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

FIELDS = ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM")


def status() -> dict[str, float]:
    """This process's resident memory in MB, by kind."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in FIELDS:
            out[name] = int(rest.split()[0]) / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pbf")
    parser.add_argument("--save", help="cache directory to build into (default: a temporary one)")
    args = parser.parse_args()
    from reachplan.roads import load_roads

    stage = ["start"]
    peaks: dict[str, dict[str, float]] = {}
    began: dict[str, float] = {}
    t0 = time.perf_counter()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            now = status()
            peak = peaks.setdefault(stage[0], {})
            for k, v in now.items():
                peak[k] = max(peak.get(k, 0.0), v)

    def progress(what: str, _done: int, _total: int) -> None:
        if what != stage[0]:
            stage[0] = what
            began[what] = time.perf_counter() - t0

    _mark(progress)
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    cpu = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        graph = load_roads(args.pbf, cache_dir=args.save or tmp, progress=progress)
    wall = time.perf_counter() - t0
    done.set()
    thread.join()
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    for what, peak in peaks.items():
        print(f"{began.get(what, 0.0):7.1f} s  {what:34s} "
              + "  ".join(f"{k} {v:,.0f}" for k, v in peak.items()))
    print(json.dumps({"seconds": round(wall, 1),
                      "cpu_self": round(time.process_time() - cpu, 1),
                      "peak_mb_self": round(own.ru_maxrss / 1024),
                      "peak_mb_children": round(children.ru_maxrss / 1024),
                      "vertices": graph.n_nodes, "kept": graph.n_kept,
                      "env": {k: os.environ.get(k) for k in ("MALLOC_ARENA_MAX",
                                                              "NUMPY_MADVISE_HUGEPAGE")},
                      "load": Path("/proc/loadavg").read_text().split()[:3]}))


def _mark(progress) -> None:
    """Stage markers inside the build: the steps of ``_graph_of_ways`` it calls (wrapped)."""
    from reachplan.roads import cache, compress, graph

    def wrap(module, name: str, label: str) -> None:
        inner = getattr(module, name)

        def call(*a, **k):
            progress(label, 0, 0)
            out = inner(*a, **k)
            progress(label + " done", 0, 0)
            return out

        setattr(module, name, call)

    wrap(graph, "_minutes", "graph: lengths")
    wrap(graph, "compress_segments", "graph: compress")
    wrap(compress, "_path_ends", "compress: pointer jumping")
    wrap(compress, "_chain_sums", "compress: chain sums")
    wrap(compress, "core_matrix", "compress: core matrix")
    wrap(cache, "save_entry", "cache write")


if __name__ == "__main__":
    main()
