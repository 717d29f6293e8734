"""Travel time on roads: reachplan.roads vs networkx, and a national-scale simulation.

Run: ``.venv/bin/python benchmarks/bench_roads.py [--repeat 5] [--nodes 1000000,20000000]
[--centres 2000] [--pbf-nodes 1000000]``. Prints Markdown tables (medians of ``--repeat``).

* Helsinki (tests/fixtures/roads/helsinki.osm.pbf, ODbL): graph from the PBF (first run, a
  fresh cache each time) and from the cache; nearest-centre minutes for every vertex from 50
  centres, reachplan (snapping + one scipy multi-source Dijkstra) vs networkx
  ``multi_source_dijkstra_path_length`` on the same graph (built outside the timing), with
  the largest relative difference.
* A generated road-like graph (``--nodes``): a jittered lattice over India's bounding box with
  10 % of links missing, local roads at 25-40 km/h and every 40th row and column an arterial at
  80 km/h; ``--centres`` random centres. Each size runs in its own process: graph build
  (through ``graph_from_segments``, the real path), snapping, all-vertex nearest minutes, and
  the process's peak memory (ru_maxrss).
* OSM PBF to road graph at scale (``--pbf-nodes``, default 1 M and 20 M; 200 M is India's
  size): reachplan's reader (OSM nodes/s) beside osmium-tool's ``tags-filter w/highway`` and
  ``add-locations-to-ways`` on the same generated file, the graph build, the cached load and
  each step's peak memory (roads_scale.py).
* A generated city (``--city-nodes``, 1M road vertices on a 58 km square, 100 districts, 50
  centres): ``reachplan coverage --roads`` end to end, first run and cached, beside an earlier
  checkout (``--before``) when given: the run of issue 18.6 (37 s / 28 s before).
* OSRM, when installed (``make osrm``; else one line says how and the rest runs): Helsinki
  extracted with OSRM's own car.lua, its ``table`` durations for ``--osrm-pairs`` random
  vertex pairs (sources x destinations) against reachplan's minutes, both with reachplan's car
  speeds and with car.lua's highway speeds; all local (osrm-routed on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_core import timed  # benchmarks/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
HELSINKI = ROOT / "tests" / "fixtures" / "roads" / "helsinki.osm.pbf"
OSRM_HOME = ROOT / ".venv" / "osrm" / "osrm"  # where `make osrm` unpacks the wheel
OSRM_TOOLS = ("osrm-extract", "osrm-contract", "osrm-routed")
# car.lua's highway speeds (OSRM v26.10 profiles/car.lua, `speeds.highway`), km/h
CAR_LUA_KMH = {"motorway": 90, "motorway_link": 45, "trunk": 85, "trunk_link": 40,
               "primary": 65, "primary_link": 30, "secondary": 55, "secondary_link": 25,
               "tertiary": 40, "tertiary_link": 20, "unclassified": 25, "residential": 25,
               "living_street": 10, "service": 15}


def bench_helsinki(repeat: int) -> None:
    import geopandas as gpd
    import networkx as nx

    from reachplan.roads import TravelRule, load_roads, nearest_minutes

    def first_run():
        with tempfile.TemporaryDirectory() as tmp:
            return load_roads(HELSINKI, cache_dir=tmp)

    cache = tempfile.mkdtemp()
    load_roads(HELSINKI, cache_dir=cache)
    t_pbf, graph = timed(first_run, repeat)
    t_cache, cached = timed(lambda: load_roads(HELSINKI, cache_dir=cache), repeat)
    assert cached.from_cache
    print(f"\n### Helsinki ({graph.n_nodes:,} vertices, {graph.n_edges:,} directed edges, car)\n")
    print("| task | reachplan (s) | networkx (s) | networkx / reachplan | notes |")
    print("|---|---:|---:|---:|---|")
    print(f"| graph from PBF, first run | {t_pbf:.3f} | | | {HELSINKI.stat().st_size / 1e3:.0f}"
          " kB extract, parse + geodesic lengths + CSR + cache write |")
    print(f"| graph from cache | {t_cache:.4f} | | | SHA-256 of the file + checked entry load |")

    for profile in ("car", "walk"):
        graph = load_roads(HELSINKI, profile=profile, cache_dir=cache)
        rng = np.random.default_rng(50)
        lon = rng.uniform(graph.lon.min(), graph.lon.max(), 50)
        lat = rng.uniform(graph.lat.min(), graph.lat.max(), 50)
        centres = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
        rule = TravelRule(graph, 30)
        t_snap, snapped = timed(lambda r=rule, c=centres: r.snap(c), repeat)
        t_ours, (minutes, _) = timed(
            lambda g=graph, s=snapped: nearest_minutes(g, s), repeat)
        g = nx.DiGraph()
        coo = graph.matrix.tocoo()
        g.add_nodes_from(range(graph.n_nodes))
        g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(),
                                      strict=True))
        for k in np.flatnonzero(snapped.node >= 0):
            g.add_edge(("c", int(k)), int(snapped.node[k]), weight=float(snapped.leg_min[k]))
        sources = [n for n in g if isinstance(n, tuple)]
        t_nx, lengths = timed(lambda g=g, s=sources: nx.multi_source_dijkstra_path_length(g, s),
                              repeat)
        ref = np.array([lengths.get(i, math.inf) for i in range(graph.n_nodes)])
        same_inf = bool(np.array_equal(np.isinf(ref), np.isinf(minutes)))
        fin = np.isfinite(ref)
        rel = float(np.max(np.abs(minutes[fin] - ref[fin]) / np.maximum(ref[fin], 1e-300)))
        print(f"| nearest-centre minutes, every vertex, 50 centres, {profile} "
              f"({graph.n_nodes:,} vertices) | {t_ours:.4f} | {t_nx:.4f} | {t_nx / t_ours:.1f}× "
              f"| same unreachable set: {same_inf}; max relative difference {rel:.1e}; "
              f"snapping the 50 centres (both sides use it, untimed) {t_snap:.4f} s |")


def synthetic_segments(n_nodes: int, seed: int = 7):
    """A jittered lattice over India's bounding box (lon 68-97, lat 8-37)."""
    from reachplan.roads.osm import Segments

    side = int(math.sqrt(n_nodes))
    rng = np.random.default_rng(seed)
    step = 29.0 / side
    ix, iy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    ix, iy = ix.ravel(), iy.ravel()
    lon = 68.0 + ix * step + rng.uniform(-0.3, 0.3, ix.size) * step
    lat = 8.0 + iy * step + rng.uniform(-0.3, 0.3, ix.size) * step
    ident = np.arange(side * side, dtype=np.int64)
    us, vs, speeds = [], [], []
    for du, dv in ((1, 0), (0, 1)):
        ok = (ix + du < side) & (iy + dv < side)
        u = ident[ok]
        v = u + du * side + dv
        keep = rng.random(u.size) >= 0.10
        u, v = u[keep], v[keep]
        arterial = (iy[u] % 40 == 0) if du else (ix[u] % 40 == 0)
        kmh = np.where(arterial, 80.0, rng.choice([25.0, 40.0], u.size))
        us.append(u)
        vs.append(v)
        speeds.append(kmh)
    u, v, kmh = np.concatenate(us), np.concatenate(vs), np.concatenate(speeds)
    both = np.ones(u.size, dtype=bool)
    return Segments(u, v, lon[u], lat[u], lon[v], lat[v], kmh, both, both)


def _phase(func):
    """Wall and CPU seconds of one call (the box is shared: CPU time is the steadier)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def run_scale(n_nodes: int, n_centres: int) -> dict:
    """One size, in this process (the parent starts one process per size)."""
    from reachplan.roads import graph_from_segments, nearest_minutes, snap

    box = [synthetic_segments(n_nodes)]
    build = _phase(lambda: graph_from_segments(box.pop(), "car"))  # frees the segments
    graph = build[2]
    rng = np.random.default_rng(11)
    lon = rng.uniform(68.5, 96.5, n_centres)
    lat = rng.uniform(8.5, 36.5, n_centres)
    snapped = _phase(lambda: snap(graph, lon, lat, max_snap_km=5.0))
    search = _phase(lambda: nearest_minutes(graph, snapped[2]))
    minutes = search[2][0]
    reached = np.isfinite(minutes)
    return {"nodes": graph.n_nodes, "edges": graph.n_edges, "build": build[:2],
            "snap": snapped[:2], "search": search[:2],
            "median_min": float(np.median(minutes[reached])),
            "max_min": float(minutes[reached].max()), "reached": float(reached.mean()),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def bench_scale(sizes: list[int], n_centres: int) -> None:
    print(f"\n### Generated road-like graph, {n_centres:,} centres (one process per size)\n")
    print("Seconds as wall / CPU (the machine is shared; CPU time is the steadier figure).\n")
    print("| vertices | directed edges | build CSR (s) | snap centres (s) | all-vertex nearest "
          "minutes (s) | median / max min | peak MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        proc = subprocess.run([sys.executable, __file__, "--one-scale", str(n),
                               "--centres", str(n_centres)], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            print(f"| {n:,} | failed: {proc.stderr.strip().splitlines()[-1:]} |||||")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        wall_cpu = [f"{r[k][0]:.1f} / {r[k][1]:.1f}" for k in ("build", "snap", "search")]
        print(f"| {r['nodes']:,} | {r['edges']:,} | {' | '.join(wall_cpu)} | "
              f"{r['median_min']:.0f} / {r['max_min']:.0f} | {r['peak_mb']:,.0f} |", flush=True)


def write_pbf(path: Path, n_nodes: int, per_way: int = 10,
              box: tuple[float, float, float] = (68.0, 8.0, 29.0)) -> None:
    """An all-road PBF: the lattice's rows and columns as ways of ``per_way`` nodes (real
    highway ways in India average about that), over ``box`` (west, south, side in degrees;
    India's by default)."""
    import osmium

    side = int(math.sqrt(n_nodes))
    rng = np.random.default_rng(7)
    west, south, span = box
    step = span / side
    with osmium.SimpleWriter(str(path)) as writer:
        for i in range(side * side):
            x, y = divmod(i, side)
            writer.add_node(osmium.osm.mutable.Node(
                id=i + 1, location=(west + (x + rng.uniform(-0.3, 0.3)) * step,
                                    south + (y + rng.uniform(-0.3, 0.3)) * step)))
        way = 0
        for line in range(side):
            for stride, first in ((1, line * side), (side, line)):  # a column, then a row
                ids = first + stride * np.arange(side) + 1
                for start in range(0, side - 1, per_way - 1):
                    way += 1
                    writer.add_way(osmium.osm.mutable.Way(
                        id=way, nodes=ids[start:start + per_way].tolist(),
                        tags={"highway": "residential"}))


def bench_parse(repeat: int, sizes: list[int], keep: bool) -> None:
    """PBF -> graph at 1 M, 20 M (and, given, 200 M) OSM nodes beside osmium-tool
    (roads_scale.py)."""
    from roads_scale import bench_sizes

    bench_sizes(sizes, repeat, keep)


CITY = (77.45, 12.85, 0.54)  # west, south, side (degrees): a 58 km square metro


def city_inputs(folder: Path, n_nodes: int, cells: int = 10, n_centres: int = 50) -> list[str]:
    """A city-sized all-road PBF of ``n_nodes`` (0.54 degree lattice: vertices ~60 m apart),
    ``cells`` x ``cells`` square districts over it and ``n_centres`` random centres: the
    arguments of ``reachplan coverage`` for them."""
    import geopandas as gpd
    import shapely

    west, south, span = CITY
    write_pbf(folder / "city.osm.pbf", n_nodes, box=CITY)
    xs = np.linspace(west, west + span, cells + 1)
    ys = np.linspace(south, south + span, cells + 1)
    gpd.GeoDataFrame({"id": [f"d{i}" for i in range(cells * cells)]},
                     geometry=[shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1])
                               for i in range(cells) for j in range(cells)],
                     crs="EPSG:4326").to_file(folder / "districts.geojson")
    rng = np.random.default_rng(3)
    lon = rng.uniform(west + 0.01, west + span - 0.01, n_centres)
    lat = rng.uniform(south + 0.01, south + span - 0.01, n_centres)
    rows = [f"c{i},{y:.7f},{x:.7f}" for i, (x, y) in enumerate(zip(lon, lat, strict=True))]
    (folder / "centres.csv").write_text("name,lat,lon\n" + "\n".join(rows) + "\n")
    return ["coverage", str(folder / "districts.geojson"), str(folder / "centres.csv"),
            "--id-col", "id", "--roads", str(folder / "city.osm.pbf"), "--travel-minutes", "15",
            "--format", "json", "-q"]


def _cli_run(src: Path, args: list[str], cache: Path) -> tuple[tuple[float, float], dict]:
    """Wall and CPU seconds of one ``reachplan`` run with ``src`` first on the path, and its
    JSON."""
    env = {**os.environ, "PYTHONPATH": str(src), "REACHPLAN_CACHE_DIR": str(cache)}
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "from reachplan.cli.main import cli; cli()",
                           *args], env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    if proc.returncode != 0:
        raise RuntimeError(f"{src}: exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return (wall, cpu), json.loads(proc.stdout)


def bench_city(repeat: int, n_nodes: int, before: Path | None) -> None:
    """``reachplan coverage --roads`` on a generated city of ``n_nodes`` road vertices: the
    first run (PBF parsed, graph cached) and cached runs, this checkout beside ``before``
    (another checkout's ``coverage/`` folder, e.g. ``git archive`` of an earlier commit)."""
    import statistics

    sources = {"after": ROOT / "coverage"}
    if before is not None:
        sources = {"before": before, **sources}
    with tempfile.TemporaryDirectory() as tmp:
        args = city_inputs(Path(tmp), n_nodes)
        times: dict[str, dict[str, list[tuple[float, float]]]] = {}
        covered = {}
        for name, src in sources.items():
            first, cached = [], []
            for k in range(repeat):  # the versions one after the other, a fresh cache each
                cache = Path(tmp) / f"cache-{name}-{k}"
                first.append(_cli_run(src, args, cache)[0])
                secs, data = _cli_run(src, args, cache)
                cached.append(secs)
                covered[name] = data["summary"]["covered"]
            times[name] = {"first run (PBF parsed, graph cached)": first,
                           "cached run (graph from the cache)": cached}
            print(f"{name}: first {first}, cached {cached}", file=sys.stderr, flush=True)
    print(f"\n### `reachplan coverage --roads` on a generated city ({n_nodes:,} road vertices, "
          f"100 districts, 50 centres, T = 15 min; medians of {repeat} runs, seconds)\n")
    names = list(sources)
    ratio_head = f" {' / '.join(names)} (wall, CPU) |" if len(names) > 1 else ""
    print(f"| run | {' | '.join(f'{n} wall / CPU' for n in names)} |{ratio_head}")
    print("|---|" + "---:|" * (len(names) + (len(names) > 1)))
    for run in times["after"]:
        med = [(statistics.median(t[0] for t in times[n][run]),
                statistics.median(t[1] for t in times[n][run])) for n in names]
        ratio = (f" {med[0][0] / med[-1][0]:.1f}×, {med[0][1] / med[-1][1]:.1f}× |"
                 if len(med) > 1 else "")
        cells = " | ".join(f"{w:.1f} / {c:.1f}" for w, c in med)
        print(f"| {run} | {cells} |{ratio}")
    print(f"\nDistricts covered: {', '.join(f'{k} {v}' for k, v in covered.items())}.")


def find_osrm() -> tuple[Path, Path] | None:
    """OSRM's bin folder and its car.lua: ``$OSRM_BIN``, `make osrm`'s copy, or PATH."""
    folders = [Path(os.environ["OSRM_BIN"])] if os.environ.get("OSRM_BIN") else []
    folders.append(OSRM_HOME / "bin")
    on_path = shutil.which("osrm-routed")
    if on_path:
        folders.append(Path(on_path).resolve().parent)
    for folder in folders:
        if not all((folder / tool).is_file() for tool in OSRM_TOOLS):
            continue
        # the wheel's layout, then a source install's (share/osrm/profiles)
        for lua in (folder.parent / "share" / "profiles" / "car.lua",
                    folder.parent / "share" / "osrm" / "profiles" / "car.lua"):
            if lua.is_file():
                return folder, lua
    return None


def _get_json(url: str) -> dict:
    import urllib.request

    # localhost only: no proxy, whatever the environment says
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=60) as reply:
        return json.loads(reply.read())


# Variants of car.lua, to show where reachplan and OSRM part: (pattern, replacement, what)
_NO_REDUCTION = [(r"(\bspeed_reduction\s*=\s*)[0-9.]+", r"\g<1>1.0",
                  "maxspeed not reduced (speed_reduction 1)")]
_NO_TURN_COSTS = [
    (r"(\bturn_penalty\s*=\s*)[0-9.]+", r"\g<1>0", "turn penalty 0"),
    (r"(\boncoming_turn_penalty\s*=\s*)[0-9.]+", r"\g<1>0", "oncoming-turn penalty 0"),
    (r"(\bu_turn_penalty\s*=\s*)[0-9.]+", r"\g<1>0", "u-turn penalty 0"),
    (r"turn\.duration = turn\.duration \+ obs\.duration", "turn.duration = turn.duration",
     "no signal / stop / give-way delay")]
_NO_RESTRICTIONS = [(r"(\buse_turn_restrictions\s*=\s*)true", r"\g<1>false",
                     "turn restrictions ignored")]
OSRM_VARIANTS = {"car.lua": [], "maxspeed not reduced": _NO_REDUCTION,
                 "maxspeed not reduced, no turn or signal costs": _NO_REDUCTION + _NO_TURN_COSTS,
                 "maxspeed not reduced, no turn or signal costs, no turn restrictions":
                     _NO_REDUCTION + _NO_TURN_COSTS + _NO_RESTRICTIONS}


def _profile_variant(lua: Path, edits: list, folder: Path) -> Path:
    """A copy of ``lua``'s profiles folder with car.lua edited (each edit must hit once)."""
    import re

    target = folder / "profiles"
    shutil.copytree(lua.parent, target)
    text = lua.read_text(encoding="utf-8")
    for pattern, replacement, what in edits:
        text, hits = re.subn(pattern, replacement, text)
        if hits != 1:
            raise RuntimeError(f"{lua}: cannot set '{what}' ({hits} matches of {pattern})")
    (target / lua.name).write_text(text, encoding="utf-8")
    return target / lua.name


def osrm_table(bin_dir: Path, lua: Path, pbf: Path, src: np.ndarray, dst: np.ndarray,
               lon: np.ndarray, lat: np.ndarray) -> dict:
    """OSRM (CH) on ``pbf`` with ``lua``: durations (s) from vertices ``src`` to ``dst``, the
    snapping distance of each, and the seconds of extract + contract."""
    coords = ";".join(f"{lon[i]:.7f},{lat[i]:.7f}" for i in np.concatenate([src, dst]))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / pbf.name
        shutil.copyfile(pbf, work)
        base = str(work).removesuffix(".osm.pbf") + ".osrm"
        start = time.perf_counter()
        for cmd in ([bin_dir / "osrm-extract", "-p", lua, work], [bin_dir / "osrm-contract", base]):
            subprocess.run([str(c) for c in cmd], check=True, capture_output=True)
        prepare = time.perf_counter() - start
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [str(bin_dir / "osrm-routed"), "-a", "CH", "-i", "127.0.0.1", "-p", str(port),
             "--max-table-size", str(len(src) + len(dst)), base],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):  # up to 30 s for the server to load
                if server.poll() is not None:
                    raise RuntimeError(f"osrm-routed exited with {server.returncode}")
                try:
                    _get_json(f"{url}/nearest/v1/driving/{lon[src[0]]},{lat[src[0]]}")
                    break
                except OSError:
                    time.sleep(0.1)
            query = (f"{url}/table/v1/driving/{coords}?sources="
                     + ";".join(map(str, range(len(src)))) + "&destinations="
                     + ";".join(map(str, range(len(src), len(src) + len(dst)))))
            start = time.perf_counter()
            table = _get_json(query)
            asked = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=30)
    if table.get("code") != "Ok":
        raise RuntimeError(f"OSRM table: {table.get('code')} {table.get('message', '')}")
    durations = np.array([[math.inf if d is None else d for d in row]
                          for row in table["durations"]], dtype=float)
    return {"seconds": durations, "prepare": prepare, "query": asked,
            "src_snap_m": np.array([w["distance"] for w in table["sources"]]),
            "dst_snap_m": np.array([w["distance"] for w in table["destinations"]])}


def agreement(ours: np.ndarray, ref: np.ndarray) -> str:
    """Markdown cells: pairs, median reachplan/OSRM, median / p90 / max |relative difference|,
    the largest difference in minutes, share within 10 %, pairs that only one side reaches."""
    both = np.isfinite(ours) & np.isfinite(ref) & (ref > 0)
    one = int(np.sum(np.isfinite(ours) != np.isfinite(ref)))
    ratio = ours[both] / ref[both]
    rel = np.abs(ratio - 1.0)
    return (f"{int(both.sum()):,} | {np.median(ratio):.3f} | {np.median(rel):.1%} | "
            f"{np.percentile(rel, 90):.1%} | {rel.max():.0%} | "
            f"{np.abs(ours[both] - ref[both]).max():.1f} | {np.mean(rel <= 0.10):.0%} | "
            f"{one}")


def bench_osrm(n_sources: int, n_dests: int) -> None:
    from scipy.sparse.csgraph import connected_components

    from reachplan.roads import Snapped, load_roads, search

    found = find_osrm()
    if found is None:
        print("\nOSRM comparison skipped: no osrm-extract/osrm-contract/osrm-routed found; "
              "`make osrm` fetches them (the osrm-bindings wheel's executables, into "
              ".venv/osrm), or set OSRM_BIN to a folder that holds them.")
        return
    bin_dir, lua = found
    version = subprocess.run([str(bin_dir / "osrm-routed"), "--version"], capture_output=True,
                             text=True, check=False).stdout.strip()
    start = time.perf_counter()
    graph = load_roads(HELSINKI, cache_dir=False)
    build = time.perf_counter() - start
    # vertices of the largest strongly connected part: every pair is reachable in reachplan
    _, part = connected_components(graph.matrix, directed=True, connection="strong")
    pool = np.flatnonzero(part == np.bincount(part).argmax())
    rng = np.random.default_rng(10)
    picked = rng.choice(pool, n_sources + n_dests, replace=False)
    src, dst = picked[:n_sources], picked[n_sources:]
    osrm = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, edits) in enumerate(OSRM_VARIANTS.items()):
            variant = _profile_variant(lua, edits, Path(tmp) / str(k)) if edits else lua
            osrm[name] = osrm_table(bin_dir, variant, HELSINKI, src, dst, graph.lon, graph.lat)
    stock = osrm["car.lua"]
    # OSRM routes from the vertex itself only when it snaps onto it (a vertex on a road
    # that car.lua does not use, e.g. a track, snaps to another road: left out)
    keep_s, keep_d = stock["src_snap_m"] <= 1.0, stock["dst_snap_m"] <= 1.0
    trips = stock["seconds"][np.ix_(keep_s, keep_d)] / 60.0
    trips = trips[np.isfinite(trips) & (trips > 0)]
    print(f"\n### reachplan vs OSRM {version} (its car.lua), Helsinki\n")
    print(f"{n_sources} x {n_dests} random vertices of reachplan's car graph (largest strongly "
          f"connected part); {int(keep_s.sum())} x {int(keep_d.sum())} snap onto the vertex in "
          f"OSRM (within 1 m) and are compared; OSRM's minutes between them: median "
          f"{np.median(trips):.1f}, max {trips.max():.1f}. Graph build: reachplan {build:.2f} s "
          f"(parse + CSR), OSRM {stock['prepare']:.2f} s (osrm-extract + osrm-contract). "
          f"OSRM table query {stock['query']:.3f} s (HTTP, localhost).\n")
    print("| reachplan speeds | OSRM car.lua | what | pairs | median reachplan / OSRM | "
          "median abs. rel. diff | p90 | max | max diff (min) | within 10 % | "
          "reached by one side only |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    minutes = {}
    reduced = "car.lua's highway speeds, --maxspeed-factor 0.8"
    for label, speeds, factor in (("reachplan car (defaults)", None, 1.0),
                                  ("car.lua's highway speeds", CAR_LUA_KMH, 1.0),
                                  (reduced, CAR_LUA_KMH, 0.8)):
        g = load_roads(HELSINKI, speeds=speeds, cache_dir=False, maxspeed_factor=factor)
        # same vertices in the same order: only the speeds differ
        assert np.array_equal(g.lon, graph.lon) and np.array_equal(g.lat, graph.lat)
        zero = np.zeros(int(keep_s.sum()))
        snapped = Snapped(src[keep_s].astype(np.int64), zero, zero)
        minutes[label] = np.vstack([rows for _, rows in search(g, snapped)])[:, dst[keep_d]]
    rows = [("reachplan car (defaults)", "car.lua")]  # car.lua = as shipped
    rows += [("car.lua's highway speeds", name) for name in OSRM_VARIANTS]
    rows.insert(2, (reduced, "car.lua"))  # both drive at 0.8 x the limit
    for label, name in rows:
        ref = osrm[name]["seconds"][np.ix_(keep_s, keep_d)] / 60.0
        ours = minutes[label]
        print(f"| {label} | {name} | every pair | {agreement(ours, ref)} |")
        print(f"| {label} | {name} | nearest source per destination | "
              f"{agreement(ours.min(axis=0), ref.min(axis=0))} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nodes", default="1000000,5000000,20000000",
                        help="comma-separated sizes of the generated graph")
    parser.add_argument("--centres", type=int, default=2000)
    parser.add_argument("--pbf-nodes", default="1000000,20000000",
                        help="comma-separated OSM node counts of the generated PBFs (half on "
                             "roads), e.g. 1000000,20000000,200000000 for India's size")
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated PBFs in benchmarks/_work/")
    parser.add_argument("--one-scale", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--osrm-pairs", default="20x200",
                        help="sources x destinations for the OSRM comparison")
    parser.add_argument("--city-nodes", type=int, default=1_000_000,
                        help="road vertices of the generated city (coverage end to end)")
    parser.add_argument("--before", type=Path, default=None,
                        help="another checkout's coverage/ folder to time beside this one, "
                             "e.g. `git archive <commit> coverage | tar -x -C /tmp/before`")
    parser.add_argument("--skip", default="",
                        help="comma list of helsinki,osrm,scale,parse,city")
    args = parser.parse_args()
    if args.one_scale:
        print(json.dumps(run_scale(args.one_scale, args.centres)))
        return
    skip = set(args.skip.split(","))
    print(f"reachplan.roads benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if "helsinki" not in skip:
        bench_helsinki(args.repeat)
    if "osrm" not in skip:
        n_sources, n_dests = (int(n) for n in args.osrm_pairs.lower().split("x"))
        bench_osrm(n_sources, n_dests)
    if "parse" not in skip:
        bench_parse(max(1, args.repeat // 2), [int(n) for n in args.pbf_nodes.split(",")],
                    args.keep)
    if "scale" not in skip:
        bench_scale([int(s) for s in args.nodes.split(",")], args.centres)
    if "city" not in skip:
        bench_city(args.repeat, args.city_nodes, args.before)


if __name__ == "__main__":
    main()
