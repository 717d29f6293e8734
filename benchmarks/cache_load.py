"""The cached road-graph load (issue 22: India's graph from the cache in <= 5 s), this checkout
beside an older one, and the SHA-256 of the roads file that keys it.

``.venv/bin/python benchmarks/cache_load.py --sizes 1000000,20000000 [--old CHECKOUT]
[--repeat 5] [--data /work/data] [--max-gb 12]``

For each size, the generated PBF (``--data``/``generated-N.osm.pbf`` when there, else written
into ``benchmarks/_work/`` as ``roads_scale.py`` does) is built once into a cache folder per
checkout (``benchmarks/_work/cache-load/``, kept between runs: a build at 20 M nodes takes
~30 s), then loaded ``--repeat`` times, each load in a fresh process with that checkout's
code: ``load_roads`` with the cache (the SHA-256 of the roads file, the entry read and
checked, the CSR made), the SHA-256 alone, and for this checkout the entry's parts (read,
structural checks, checksums in one thread). The entry is in the page cache (it was just
written or read), as on a second run; a cold read adds the disk's time. Peak memory is the
load process's ru_maxrss. Seconds are medians; the machine's load average is printed before
and after. The last rows project to 200 M nodes by bytes per second: entry bytes per OSM node
× 200 M at the 20 M-node rate, and the SHA-256 of the 533 MB 200 M-node PBF and of a 1.5 GB
India extract at the measured hashing rate.
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
PBF_200M_MB, INDIA_MB = 533.0, 1500.0
MAX_GB = [12.0]  # address-space limit of each step's process (a shared machine)


def _child(step: str, code: str, pbf: str, cache_dir: str) -> dict:
    """One step in this process (``code`` is the checkout's ``coverage`` on sys.path)."""
    from reachplan.roads import cache, load_roads

    start, cpu = time.perf_counter(), _cpu()
    out: dict = {}
    if step == "build":
        graph = load_roads(pbf, cache_dir=cache_dir)
        out["from_cache"] = graph.from_cache
    elif step == "load":
        graph = load_roads(pbf, cache_dir=cache_dir)
        assert graph.from_cache, "no cached entry"
        out.update(vertices=graph.n_nodes)
    elif step == "sha":
        cache.file_sha256(Path(pbf))
    elif step == "parts":
        out.update(_parts(cache, cache_dir))
    out["seconds"], out["cpu"] = time.perf_counter() - start, _cpu() - cpu
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _parts(cache, cache_dir: str) -> dict:  # type: ignore[no-untyped-def]
    """Format 6's load in its parts, one after another in one thread (private helpers,
    benchmark only)."""

    (target,) = (Path(cache_dir) / "roads").glob("*.graph")
    with open(target, "rb", buffering=0) as handle:
        t0 = time.perf_counter()
        layout = cache._header(handle, target.stat().st_size)
        view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        arrays = {name: cache._array(view, dtype, length, offset)
                  for name, (dtype, length, offset, _) in layout.arrays.items()}
        t1 = time.perf_counter()
    entry = cache.Entry(**arrays, top_kmh=layout.top_kmh)
    cache._check_graph(entry)
    t2 = time.perf_counter()
    for array in arrays.values():
        cache._sum(array)
    t3 = time.perf_counter()
    return {"read_s": t1 - t0, "checks_s": t2 - t1, "sum_s": t3 - t2}


def run(step: str, code: Path, pbf: Path, cache_dir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code / "coverage")}
    limit = int(MAX_GB[0] * 2**30)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run([sys.executable, __file__, "--child", step, str(code), str(pbf),
                           str(cache_dir)], capture_output=True, text=True, env=env,
                          check=False, preexec_fn=cap)
    if proc.returncode != 0:
        raise SystemExit(f"{step} with {code} failed: {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def pbf_for(n: int, data: Path) -> Path:
    if (data / f"generated-{n}.osm.pbf").exists():
        return data / f"generated-{n}.osm.pbf"
    path = WORK / f"generated-{n}.osm.pbf"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from pbf_gen import write_generated_pbf

        WORK.mkdir(exist_ok=True)
        write_generated_pbf(path, n, building_share=0.6)
    return path


def entry_bytes(cache_dir: Path) -> int:
    return sum(p.stat().st_size for p in (cache_dir / "roads").iterdir()
               if p.suffix in (".graph", ".npz"))


def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def bench(sizes: list[int], checkouts: dict[str, Path], repeat: int, data: Path) -> None:
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
          file=sys.stderr)
    rows = []
    sha_rate = []
    for n in sizes:
        pbf = pbf_for(n, data)
        for label, code in checkouts.items():
            cache_dir = WORK / "cache-load" / f"{label}-{n}"
            if not (cache_dir / "roads").exists() or not entry_bytes(cache_dir):
                cache_dir.mkdir(parents=True, exist_ok=True)
                run("build", code, pbf, cache_dir)
            loads = [run("load", code, pbf, cache_dir) for _ in range(repeat)]
            shas = [run("sha", code, pbf, cache_dir) for _ in range(repeat)]
            parts = ([run("parts", code, pbf, cache_dir) for _ in range(repeat)]
                     if label == "new" else [])
            size = entry_bytes(cache_dir)
            sha_rate.append(pbf.stat().st_size / med(shas, "seconds"))
            rows.append({"n": n, "label": label, "code": code, "pbf_mb": pbf.stat().st_size / 1e6,
                         "entry_mb": size / 1e6, "load_s": med(loads, "seconds"),
                         "load_cpu": med(loads, "cpu"),
                         "sha_s": med(shas, "seconds"),
                         "peak_mb": max(r["peak_mb"] for r in loads),
                         "vertices": loads[0]["vertices"],
                         **({k: med(parts, k) for k in ("read_s", "checks_s", "sum_s")}
                            if parts else {})})
            print(f"({label} {n:,}: {rows[-1]['load_s']:.2f} s)", file=sys.stderr, flush=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{os.cpu_count()} CPUs; load average {load} at the end; medians of {repeat} "
          "(each load a fresh process; the entry in the page cache).\n")
    print("| OSM nodes | checkout | road vertices | entry | cached load_roads: wall / CPU | "
          "of it SHA-256 "
          "of the PBF | the rest (entry + CSR) | entry GB/s | load peak | format 6 parts: "
          "read / checks / checksums (one thread) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        rest = r["load_s"] - r["sha_s"]
        parts = (f"{r['read_s']:.2f} / {r['checks_s']:.2f} / {r['sum_s']:.2f} s"
                 if "read_s" in r else "")
        print(f"| {r['n'] / 1e6:,.0f} M | {r['label']} | {r['vertices']:,} | "
              f"{r['entry_mb']:,.0f} MB | {r['load_s']:.2f} / {r['load_cpu']:.2f} s | "
              f"{r['sha_s']:.2f} s | "
              f"{rest:.2f} s | {r['entry_mb'] / 1e3 / rest:.2f} | {r['peak_mb']:,.0f} MB | "
              f"{parts} |")
    rate = statistics.median(sha_rate)
    print(f"\nSHA-256 (hashlib): {rate / 1e9:.2f} GB/s, {1e9 / rate:.2f} s per GB.\n")
    largest = max(r["n"] for r in rows)
    for r in (r for r in rows if r["n"] == largest):
        per_node = r["entry_mb"] * 1e6 / r["n"]
        rest = (r["load_s"] - r["sha_s"]) * 200e6 / r["n"]
        print(f"* {r['label']}: at 200 M nodes, an entry of ~{per_node * 200e6 / 1e9:.1f} GB "
              f"loads in ~{rest:.1f} s (at {r['entry_mb'] / 1e3 / (r['load_s'] - r['sha_s']):.2f}"
              f" GB/s), plus {PBF_200M_MB * 1e6 / rate:.1f} s of SHA-256 for the 533 MB "
              f"generated PBF ({INDIA_MB * 1e6 / rate:.1f} s for a 1.5 GB India extract): "
              f"~{rest + PBF_200M_MB * 1e6 / rate:.1f} s (~{rest + INDIA_MB * 1e6 / rate:.1f} s).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,20000000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--old", type=Path, help="an older checkout (its coverage/ is used)")
    parser.add_argument("--data", type=Path, default=Path("/work/data"),
                        help="where generated-N.osm.pbf may already be")
    parser.add_argument("--max-gb", type=float, default=12.0,
                        help="address-space limit of each step's process (default 12)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    MAX_GB[0] = args.max_gb
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    checkouts = {"new": ROOT, **({"old": args.old} if args.old else {})}
    bench([int(s) for s in args.sizes.split(",")], checkouts, args.repeat, args.data)


if __name__ == "__main__":
    main()
