"""Road graphs from generated India-sized PBFs: reachplan's reader beside osmium-tool.

Used by ``bench_roads.py`` (the ``pbf`` section); also runnable alone:
``.venv/bin/python benchmarks/roads_scale.py --sizes 1000000,20000000 [--repeat 3]``.

For each size a PBF is written into ``benchmarks/_work/`` (40 % of the nodes on roads: a grid
of junctions over India's bounding box joined by ``highway=residential`` ways of 10 nodes; 60 %
in 4-node ``building=yes`` squares that a road reader must skip, as most of a real extract's
nodes are not on roads; see ``pbf_gen.py``), then, each step in its own process (its peak
memory is that process's ru_maxrss; a step is stopped past ``--max-gb`` of address space):

* osmium-tool (C++, ``apt-get install osmium-tool``, ``make osmium``): ``osmium tags-filter
  in.pbf w/highway`` (the same filter: highway ways and their nodes) and ``osmium
  add-locations-to-ways`` on its output (the node locations the graph needs);
* reachplan's reader: ``read_osm_ways`` (the highway ways, then only their nodes' locations);
* the whole graph build (``load_roads`` with an empty cache: read, graph, cache write);
* the cached load (``load_roads`` again: the SHA-256 of the roads file, the checked entry;
  ``cache_load.py`` breaks it down and compares it with an older checkout);
* end to end from that cache (``--steps``): ``reachplan coverage @india @india-sample --roads
  FILE --travel-minutes 240`` and ``reachplan plan ... --candidates @india-pincodes --add 10``
  (19,416 candidates), each in its own process.

Seconds are wall-clock medians of ``--repeat`` (sizes of 100 M nodes and more run once);
the machine's load average is printed with the table. The generated files are deleted at the
end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
BUILDING_SHARE = 0.6
E2E = {  # the commands run end to end on the built graph's cache
    "coverage": ["coverage", "@india", "@india-sample", "--format", "json", "-q"],
    "plan": ["plan", "@india", "@india-sample", "--candidates", "@india-pincodes", "--add", "10",
             "-q"],
}
MAX_GB = [12.0]
ONLY: list[str] = []  # --only: of filter, read and load these (the build always runs)
STEPS: list[str] = list(E2E)  # address-space limit of each step's process (a shared machine)
TOTAL_MB = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20


def _child(step: str, path: str, cache: str) -> dict:
    """One step in this process: seconds, CPU seconds, peak MB and counts."""
    from reachplan.roads import load_roads
    from reachplan.roads.osm import read_osm_ways
    from reachplan.roads.speeds import default_speeds

    start, cpu = time.perf_counter(), time.process_time()
    out: dict = {}
    if step in E2E:
        import contextlib
        import io

        from reachplan.cli.main import cli

        os.environ["REACHPLAN_CACHE_DIR"] = cache
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            cli.main([*E2E[step], "--roads", path, "--travel-minutes", "240"],
                     standalone_mode=False)
        out.update(output=text.getvalue()[-400:])
    elif step == "read":
        ways = read_osm_ways(path, "car", default_speeds("car"))
        assert ways is not None, "the fast reader left this file to pyosmium"
        out.update(osm_nodes=ways.osm_nodes, used_nodes=len(ways.x), ways=len(ways.kmh))
    else:
        graph = load_roads(path, cache_dir=cache)
        assert graph.from_cache == (step == "load")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    own = resource.getrusage(resource.RUSAGE_SELF)
    import multiprocessing.forkserver as fs

    fs._forkserver._stop()  # private, benchmark only: wait for the fork server (and so for
    # its workers) so that their CPU time and peak memory count among this step's children
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out.update(seconds=seconds, cpu=cpu + children.ru_utime + children.ru_stime,
               peak_mb=max(own.ru_maxrss, children.ru_maxrss) / 1024)
    if step in ("build", "load"):  # counted after the step's peak is taken: n_edges makes
        # every segment's minutes each way (2 GB more at 200 M OSM nodes), not the step's
        out.update(vertices=graph.n_nodes, edges=graph.n_edges)
    return out


def run_step(step: str, path: Path, cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "coverage")}
    limit = int(MAX_GB[0] * 2**30)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run([sys.executable, __file__, "--child", step, str(path), str(cache)],
                          capture_output=True, text=True, env=env, check=False, preexec_fn=cap)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1][:200]
        print(f"({step} {path.name} failed: {last})", file=sys.stderr, flush=True)
        return {"failed": last}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_osmium(args: list[str]) -> dict:
    """Wall seconds, CPU seconds and peak MB of one osmium command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(["osmium", *args], check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": wall, "cpu": after.ru_utime + after.ru_stime - before.ru_utime
            - before.ru_stime, "peak_mb": after.ru_maxrss / 1024}


def bench_sizes(sizes: list[int], repeat: int, keep: bool = False) -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from pbf_gen import write_generated_pbf

    WORK.mkdir(exist_ok=True)
    have_osmium = shutil.which("osmium") is not None
    rows = []
    for n in sizes:
        path = WORK / f"generated-{n}.osm.pbf"
        if not path.exists():
            t = time.perf_counter()
            write_generated_pbf(path, n, building_share=BUILDING_SHARE)
            print(f"(wrote {path.name}: {path.stat().st_size / 1e6:,.0f} MB in "
                  f"{time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
        times = 1 if n >= 100_000_000 else repeat
        row: dict = {"n": n, "mb": path.stat().st_size / 1e6}
        with tempfile.TemporaryDirectory(dir=WORK) as tmp:
            filtered, located = Path(tmp) / "highways.osm.pbf", Path(tmp) / "located.osm.pbf"
            if have_osmium and _runs("filter"):
                row["filter"] = [run_osmium(["tags-filter", str(path), "w/highway", "-o",
                                             str(filtered), "--overwrite"])
                                 for _ in range(times)]
                row["locate"] = [run_osmium(["add-locations-to-ways", str(filtered), "-o",
                                             str(located), "--overwrite"])
                                 for _ in range(times)]
                filtered.unlink()
                located.unlink()
            row["read"] = [run_step("read", path, Path(tmp)) for _ in range(times)
                           if _runs("read")]
            row["build"], row["load"] = [], []
            for k in range(times):
                cache = Path(tmp) / f"cache{k}"
                row["build"].append(run_step("build", path, cache))
                if _runs("load"):
                    row["load"].append(run_step("load", path, cache))
                for step in E2E:
                    if step in STEPS:
                        row.setdefault(step, []).append(run_step(step, path, cache))
                shutil.rmtree(cache, ignore_errors=True)
        rows.append(row)
        if not keep and n >= 100_000_000:
            path.unlink()
    print_table(rows, have_osmium)
    if not keep:
        for n in sizes:
            (WORK / f"generated-{n}.osm.pbf").unlink(missing_ok=True)
    return rows


def _runs(step: str) -> bool:
    return not ONLY or step in ONLY


def print_table(rows: list[dict], have_osmium: bool) -> None:
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print("\n### OSM PBF to road graph at scale (generated India-sized extracts, car)\n")
    print(f"{os.cpu_count()} CPUs, {TOTAL_MB / 1024:.0f} GB; load average {' '.join(load)} "
          "at the end (the machine was shared). Seconds are wall-clock medians; peak memory "
          "is each step's process (ru_maxrss) and its share of the machine's memory.\n")
    if not have_osmium:
        print("osmium-tool is not installed (`make osmium` or `apt-get install osmium-tool`): "
              "its columns are empty.\n")
    print("| OSM nodes | PBF MB | osmium tags-filter w/highway: wall / CPU s | + "
          "add-locations-to-ways: wall / CPU s | reachplan read: wall / CPU s | M nodes/s: "
          "wall / CPU | read / osmium filter: wall / CPU | read peak | graph build, no cache: "
          "wall / CPU s | build peak | vertices / edges | cached load (s) | load peak | "
          "coverage, T = 240: wall / CPU s | coverage peak | plan --add 10, 19,416 candidates: "
          "wall / CPU s | plan peak |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        nodes = next((x["osm_nodes"] for x in r["read"] if "osm_nodes" in x), 0)
        read, filt = r["read"], r.get("filter", [])
        rate = ratio = ""
        if _ok(read):
            rate = " / ".join(f"{nodes / _med(read, k) / 1e6:.1f}" for k in ("seconds", "cpu"))
        if _ok(read) and _ok(filt):
            ratio = " / ".join(f"{_med(read, k) / _med(filt, k):.2f}" for k in ("seconds", "cpu"))
        size = next((f"{x['vertices']:,} / {x['edges']:,}" for x in r["build"]
                     if "vertices" in x), "")
        print(f"| {nodes:,} | {r['mb']:,.0f} | {_both(filt)} | {_both(r.get('locate', []))} | "
              f"{_both(read)} | {rate} | {ratio} | {_peak(read)} | {_both(r['build'])} | "
              f"{_peak(r['build'])} | {size} | {_cell(r['load'], 'seconds')} | "
              f"{_peak(r['load'])} | {_both(r.get('coverage', []))} | "
              f"{_peak(r.get('coverage', []))} | {_both(r.get('plan', []))} | "
              f"{_peak(r.get('plan', []))} |", flush=True)


def _med(runs: list[dict], key: str) -> float:
    return statistics.median(x[key] for x in runs)


def _both(runs: list[dict]) -> str:
    """Median wall / CPU seconds."""
    if not _ok(runs):
        return _cell(runs, "seconds")
    return f"{_med(runs, 'seconds'):.1f} / {_med(runs, 'cpu'):.1f}"


def _ok(runs: list[dict]) -> bool:
    return bool(runs) and all("failed" not in x for x in runs)


def _cell(runs: list[dict], key: str, fmt: str = ".2f") -> str:
    if not runs:
        return ""
    if not _ok(runs):
        return "failed: " + next(x["failed"] for x in runs if "failed" in x).replace("|", "/")
    return format(statistics.median(x[key] for x in runs), fmt)


def _peak(runs: list[dict]) -> str:
    if not _ok(runs):
        return ""
    mb = max(x["peak_mb"] for x in runs)
    return f"{mb:,.0f} MB ({100 * mb / TOTAL_MB:.0f} %)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,20000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated PBFs")
    parser.add_argument("--max-gb", type=float, default=12.0,
                        help="address-space limit of each step's process (default 12)")
    parser.add_argument("--steps", default="coverage,plan",
                        help="end-to-end commands after the build and load (default "
                             "coverage,plan; '' for none)")
    parser.add_argument("--only", default="",
                        help="only these of filter (osmium, with locate), read, load "
                             "(e.g. 'build' for none; the build always runs)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    MAX_GB[0] = args.max_gb
    STEPS[:] = [x for x in args.steps.split(",") if x]
    ONLY[:] = [x for x in args.only.split(",") if x]
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    bench_sizes([int(s) for s in args.sizes.split(",")], args.repeat, args.keep)


if __name__ == "__main__":
    main()
