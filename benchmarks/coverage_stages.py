"""Where ``reachplan coverage --roads`` spends its time, stage by stage (issue 22).

``REACHPLAN_CACHE_DIR=... .venv/bin/python benchmarks/coverage_stages.py ROADS.osm.pbf
[--minutes 240] [--out FILE.json] [-- extra coverage options]``: runs ``reachplan coverage
@india @india-sample --roads ROADS --travel-minutes T --format json -q`` in this process with
timers around its stages (time.perf_counter; a stage called again adds up, nested stages are
not subtracted from their callers) and prints a table: seconds per stage, the whole command,
the process's peak RSS and the load average before and after (the machine is shared). The
JSON goes to ``--out`` (compare it byte for byte with another checkout's).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import resource
import sys
import time
from collections import defaultdict

STAGES = [  # (label, module, attribute); the first found of each is wrapped
    ("graph: cache load or build", "reachplan.roads.graph", "load_roads"),
    ("snap centres", "reachplan.roads.snapping", "snap"),
    ("search + all-vertex minutes", "reachplan.roads.travel", "nearest_minutes"),
    ("  of which chains.expand", "reachplan.roads.chains", "expand"),
    ("district access (geodesic)", "reachplan.roads.travel", "district_access"),
    ("  of which who is inside (grid)", "reachplan.geodesy.locate", "PolygonIndex.pairs"),
    ("  of which near boundaries (grid)", "reachplan.geodesy.nearby", "near_boundaries"),
    ("  of which near boundaries, who to measure", "reachplan.geodesy.nearby", "_worth_a_look"),
    ("district minutes and shares", "reachplan.roads.travel", "district_minutes"),
    ("centres' warnings (snap)", "reachplan.roads.rule", "TravelRule.centre_notes"),
]


def _wrap(times: dict[str, float], label: str, module: str, name: str) -> None:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:  # an older checkout (--before): no such stage
        return
    owner, attr = (mod, name) if "." not in name else (getattr(mod, name.split(".")[0]),
                                                       name.split(".")[1])
    if not hasattr(owner, attr):
        return
    inner = getattr(owner, attr)

    @functools.wraps(inner)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            times[label] += time.perf_counter() - start

    setattr(owner, attr, timed)
    # modules that imported the function by name get the timed one too
    for other in list(sys.modules.values()):
        if other is not None and other is not mod and getattr(other, attr, None) is inner \
                and owner is mod:
            setattr(other, attr, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roads")
    parser.add_argument("--minutes", default="240")
    parser.add_argument("--out", default=None)
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    import reachplan.roads.rule  # noqa: F401  (loaded before wrapping its names)
    from reachplan.cli.main import cli

    times: dict[str, float] = defaultdict(float)
    times["imports"] = time.perf_counter() - t0
    for label, module, name in STAGES:
        _wrap(times, label, module, name)
    out = io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(out):
        try:
            cli.main(["coverage", "@india", "@india-sample", "--roads", args.roads,
                      "--travel-minutes", args.minutes, "--format", "json", "-q",
                      *args.extra], standalone_mode=False)
        except SystemExit as stop:
            if stop.code:
                raise
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(out.getvalue())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print("| stage | s |\n|:--|--:|")
    for label in ["imports", *(stage[0] for stage in STAGES)]:
        if label in times:
            print(f"| {label} | {times[label]:.2f} |")
    print(f"| **coverage command (after imports)** | **{total:.2f}** ({cpu:.2f} CPU s) |")
    print(f"| whole process | {time.perf_counter() - t0:.2f} |")
    print(f"\npeak RSS {peak:.2f} GB; load average {load0[0]:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
