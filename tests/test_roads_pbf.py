"""The numpy PBF reader (reachplan.roads.pbf) against pyosmium's reader of the same files.

The reference is the pyosmium path (``read_osm_pyosmium``: libosmium resolves locations and
builds each way's line; tests/test_roads_osm.py checks it against an independent
handler-and-networkx reference). Generated PBFs are written by libosmium (pyosmium's
``SimpleWriter``), not by the reader under test; varints against protobuf's own encoder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest
from google.protobuf.internal.encoder import _VarintBytes
from hypothesis import given
from hypothesis import strategies as st

from reachplan.cli.main import cli
from reachplan.errors import InputError
from reachplan.roads import load_roads
from reachplan.roads import pbf as pbf_module
from reachplan.roads.graph import graph_from_segments, graph_from_ways
from reachplan.roads.osm import read_osm, read_osm_pyosmium, read_osm_ways, way_rule
from reachplan.roads.pbf import read_pbf_ways
from reachplan.roads.pbf_blocks import varints
from reachplan.roads.speeds import default_speeds

HELSINKI = "tests/fixtures/roads/helsinki.osm.pbf"
TINY = "tests/fixtures/roads/tiny.osm"


def same_graph(path, profile: str, *, workers: int | None = None, factor: float = 1.0) -> int:
    """Assert the readers give the same graph (vertices, edges, minutes): pyosmium's segments,
    the numpy reader's segments, and the graph built straight from its ways; its edges."""
    speeds = default_speeds(profile)
    fast = read_osm_ways(path, profile, speeds, maxspeed_factor=factor, workers=workers)
    assert fast is not None, "the numpy reader left the file to pyosmium"
    ref = graph_from_segments(read_osm_pyosmium(path, profile, speeds,
                                                maxspeed_factor=factor), profile)
    for graph in (graph_from_segments(read_osm(path, profile, speeds, maxspeed_factor=factor,
                                               workers=workers), profile),
                  graph_from_ways(fast, profile)):
        for name in ("key", "lon", "lat", "kept"):
            assert np.array_equal(getattr(graph, name), getattr(ref, name)), name
        for name in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(graph.matrix, name), getattr(ref.matrix, name)), name
            assert np.array_equal(getattr(graph.core, name), getattr(ref.core, name)), name
        assert graph.top_kmh == ref.top_kmh
    return ref.n_edges


@pytest.mark.parametrize(("profile", "workers", "factor"), [
    ("car", 1, 1.0), ("walk", 1, 1.0), ("motorcycle", 2, 0.8), ("car", 2, 0.8)])
def test_helsinki_gives_the_same_graph_as_pyosmium(profile, workers, factor):
    assert same_graph(HELSINKI, profile, workers=workers, factor=factor) > 3000



def test_the_numbering_in_small_slices_gives_the_same_graph(monkeypatch):
    """The vertex numbering's passes a few elements at a time (every slice boundary inside a
    way and its segments) give pyosmium's graph; the caller's ways are
    left as they were (the build writes over a copy of their refs)."""
    from reachplan.roads import graph as graph_module

    monkeypatch.setattr(graph_module, "_SLICE", 7)
    assert same_graph(HELSINKI, "car") > 3000
    ways = read_osm_ways(HELSINKI, "car", default_speeds("car"))
    assert ways is not None
    refs = ways.refs.copy()
    graph_from_ways(ways, "car")
    assert np.array_equal(ways.refs, refs)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64])
def test_the_numbering_of_shared_places_in_slices(monkeypatch, size):
    """Many nodes at a few places (runs of equal keys across slice boundaries), missing
    nodes and zero-length segments: the graph of the ways equals the graph of their segments
    (``ways_segments``, keyed from floats per segment), numbered a few elements at a time."""
    from reachplan.roads import graph as graph_module
    from reachplan.roads.osm import ways_segments
    from reachplan.roads.pbf import UNDEFINED, Ways

    monkeypatch.setattr(graph_module, "_SLICE", size)
    rng = np.random.default_rng(size)
    n_nodes, lengths = 60, rng.integers(2, 7, 25)
    x = rng.integers(0, 4, n_nodes).astype(np.int32) * 10_000_000
    y = rng.integers(0, 4, n_nodes).astype(np.int32) * 10_000_000
    x[rng.random(n_nodes) < 0.1] = UNDEFINED
    ways = Ways(x, y, rng.integers(0, n_nodes, lengths.sum()).astype(np.int32),
                np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
                rng.choice([30.0, 50.0, 90.0], len(lengths)), np.ones(len(lengths), bool),
                rng.random(len(lengths)) < 0.7)
    got = graph_from_ways(ways, "car")
    ref = graph_from_segments(ways_segments(ways), "car")
    assert got.n_nodes <= 16 < n_nodes  # 60 nodes at 16 places or fewer
    for name in ("key", "lon", "lat", "kept"):
        assert np.array_equal(getattr(got, name), getattr(ref, name)), name
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(got.matrix, name), getattr(ref.matrix, name)), name

def test_the_tiny_extract_as_pbf_gives_the_same_graph(tmp_path):
    path = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        for obj in osmium.FileProcessor(TINY):
            writer.add(obj)
    for profile in ("car", "walk"):
        assert same_graph(path, profile) > 0


def write_awkward(path, n_lattice: int = 120) -> None:
    """A lattice of roads in several blocks plus everything a reader must get right: ways whose
    nodes are missing (first, middle, last, all), untagged and tagged nodes off the roads,
    non-highway ways, one-node and zero-length ways, repeated nodes, one-way and closed
    roads, tagged limits, a highway value no profile knows, nodes outside the world."""
    rng = np.random.default_rng(4)
    with osmium.SimpleWriter(str(path)) as w:
        ident = 0
        grid = np.arange(n_lattice * n_lattice).reshape(n_lattice, n_lattice) + 1
        for i in range(n_lattice):
            for j in range(n_lattice):
                ident += 1
                tags = {"amenity": "bench"} if ident % 97 == 0 else {}
                w.add_node(osmium.osm.mutable.Node(
                    id=ident, location=(24.9 + 0.001 * i + rng.uniform(0, 1e-4),
                                        60.1 + 0.001 * j + rng.uniform(0, 1e-4)), tags=tags))
        extra = ident
        w.add_node(osmium.osm.mutable.Node(id=extra + 1, location=(24.95, 60.15)))  # a twin:
        w.add_node(osmium.osm.mutable.Node(id=extra + 2, location=(24.95, 60.15)))  # one place
        w.add_node(osmium.osm.mutable.Node(id=extra + 3, location=(24.951, 60.15)))
        w.add_node(osmium.osm.mutable.Node(id=extra + 4, location=(24.9, 95.0)))  # invalid
        way = 0
        kinds = [{"highway": "residential"}, {"highway": "primary", "maxspeed": "70"},
                 {"highway": "secondary", "oneway": "yes"}, {"highway": "tertiary",
                                                             "oneway": "-1"},
                 {"highway": "motorway"}, {"highway": "service", "access": "private"},
                 {"highway": "footway"}, {"highway": "track", "motor_vehicle": "no",
                                          "foot": "yes", "name": "Polku"},
                 {"highway": "unclassified", "junction": "roundabout", "maxspeed": "30 mph"},
                 {"building": "yes"}, {"highway": "imaginary"}, {}]
        for line in range(n_lattice):
            for ids in (grid[line, :], grid[:, line]):
                for start in range(0, n_lattice - 1, 7):
                    way += 1
                    w.add_way(osmium.osm.mutable.Way(id=way, nodes=ids[start:start + 8].tolist(),
                                                     tags=kinds[way % len(kinds)]))
        missing = 10 * extra
        odd = [[missing, 1, 2, missing + 1, 3, 4], [5, 6, missing + 2], [missing + 3, 7],
               [missing + 4, missing + 5], [8], [extra + 1, extra + 2], [extra + 1, extra + 3,
                                                                         extra + 2],
               [9, 9, 10, 10, 9], [11, extra + 4, 12, 13], [extra + 4, extra + 4]]
        for nodes in odd:
            way += 1
            w.add_way(osmium.osm.mutable.Way(id=way, nodes=nodes,
                                             tags={"highway": "residential"}))


@pytest.mark.parametrize("workers", [1, 2])
def test_an_awkward_pbf_gives_the_same_graph(tmp_path, workers):
    path = tmp_path / "awkward.osm.pbf"
    write_awkward(path)
    for profile in ("car", "motorcycle", "walk"):
        assert same_graph(path, profile, workers=workers) > 10_000


def test_dense_and_sparse_ids_give_the_same_ranks(tmp_path, monkeypatch):
    """Small ids use the bitmap, Helsinki's (10 digits) the sorted array: force the other."""
    path = tmp_path / "awkward.osm.pbf"
    write_awkward(path, 40)
    rule = way_rule("car", default_speeds("car"))
    dense = read_pbf_ways(str(path), rule, workers=1)
    monkeypatch.setattr(pbf_module, "_SPARSE_WORDS_PER_REF", 0)  # always sort
    sparse = read_pbf_ways(str(path), rule, workers=1)
    for name in ("x", "y", "refs", "start", "kmh"):
        assert np.array_equal(getattr(dense, name), getattr(sparse, name)), name
    assert dense.osm_nodes == 40 * 40 + 4


def test_only_the_used_nodes_keep_a_location(tmp_path):
    path = tmp_path / "awkward.osm.pbf"
    write_awkward(path, 40)
    ways = read_pbf_ways(str(path), way_rule("car", default_speeds("car")), workers=1)
    used = np.unique(ways.refs)
    assert np.array_equal(used, np.arange(len(ways.x)))  # every kept node is referenced
    assert len(ways.x) < 40 * 40  # footways, buildings, closed roads: their nodes are not


def test_progress_counts_the_blocks_of_both_passes(tmp_path):
    path = tmp_path / "awkward.osm.pbf"
    write_awkward(path)
    calls = []
    read_pbf_ways(str(path), way_rule("car", default_speeds("car")), workers=2,
                  progress=lambda *a: calls.append(a))
    ways = [c for c in calls if c[0] == "reading roads (ways)"]
    nodes = [c for c in calls if c[0] == "reading roads (node locations)"]
    assert ways[0][1] == 0 and ways[-1][1] == ways[-1][2] > 1
    assert nodes[0][1] == 0 and nodes[-1][1] == nodes[-1][2] > 1
    assert calls.index(ways[-1]) < calls.index(nodes[0])


@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=50))
def test_varints_decode_what_protobuf_encodes(values):
    raw = np.frombuffer(b"".join(_VarintBytes(v) for v in values), dtype=np.uint8)
    assert varints(raw).tolist() == values


@pytest.mark.parametrize("cut", [0.5, 0.999])
def test_a_truncated_pbf_is_one_line_exit_2(tmp_path, runner, cut):
    data = Path(HELSINKI).read_bytes()
    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(data[:int(len(data) * cut)])
    with pytest.raises(InputError, match=r"cut.osm.pbf: not a readable OSM file"):
        load_roads(path, cache_dir=False)
    centres = tmp_path / "c.csv"
    centres.write_text("name,lat,lon\na,60.17,24.94\n")
    districts = tmp_path / "d.geojson"
    districts.write_text('{"type":"FeatureCollection","features":[{"type":"Feature",'
                         '"properties":{"id":"x"},"geometry":{"type":"Polygon","coordinates":'
                         '[[[24.9,60.1],[25.0,60.1],[25.0,60.2],[24.9,60.1]]]}}]}')
    res = runner.invoke(cli, ["coverage", str(districts), str(centres), "--id-col", "id",
                              "--roads", str(path), "--travel-minutes", "10"])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "cut.osm.pbf: not a readable OSM file" in lines[0]


def test_workers_do_not_run_the_callers_script_again(tmp_path):
    """Workers start from a fork server (a process with other threads must not fork): they
    must not import the caller's script, which may read roads at its top level."""
    import subprocess
    import sys

    path = tmp_path / "awkward.osm.pbf"
    write_awkward(path, 60)
    script = tmp_path / "no_main_guard.py"
    script.write_text(
        "from reachplan.roads.osm import way_rule\n"
        "from reachplan.roads.pbf import read_pbf_ways\n"
        "from reachplan.roads.speeds import default_speeds\n"
        f"ways = read_pbf_ways({str(path)!r}, way_rule('car', default_speeds('car')), "
        "workers=2)\n"
        "print('read', ways.osm_nodes)\n")
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, env={"PYTHONPATH": str(root / "coverage"),
                                           "PATH": "/usr/bin:/bin"}, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["read", str(60 * 60 + 4)]
