"""The road-graph cache (issue 18, part 4): an entry is used only when it is sound, its own
and bound to its source; anything else gives one warning and the graph built anew.

The reference answer is the graph built with the cache off (``cache_dir=False``), which never
reads an entry; every planted entry below must give exactly its minutes.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse.csgraph as csgraph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reachplan.roads import load_roads
from reachplan.roads.cache import CacheWarning

TINY = "tests/fixtures/roads/tiny.osm"
POSIX = os.name != "nt"
ROOT = POSIX and os.geteuid() == 0


def reference():
    return load_roads(TINY, cache_dir=False)


def same_graph(graph, ref) -> None:
    """Equal arrays, and equal minutes from every vertex (Dijkstra on each)."""
    np.testing.assert_array_equal(graph.lon, ref.lon)
    np.testing.assert_array_equal(graph.lat, ref.lat)
    np.testing.assert_array_equal(graph.key, ref.key)
    np.testing.assert_array_equal(graph.matrix.toarray(), ref.matrix.toarray())
    np.testing.assert_array_equal(csgraph.dijkstra(graph.matrix), csgraph.dijkstra(ref.matrix))
    np.testing.assert_array_equal(graph.kept, ref.kept)
    np.testing.assert_array_equal(graph.core.toarray(), ref.core.toarray())
    for name in ("ptr", "vertex", "fwd", "bwd"):
        np.testing.assert_array_equal(getattr(graph.chains, name), getattr(ref.chains, name))
    assert graph.top_kmh == ref.top_kmh


def load(cache: Path, **options):
    """load_roads and the CacheWarnings it gave (any other warning fails the test)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = load_roads(TINY, cache_dir=cache, **options)
    assert all(issubclass(w.category, CacheWarning) for w in caught), caught
    return graph, [str(w.message) for w in caught]


def the_entry(cache: Path) -> Path:
    entries = list((cache / "roads").glob("*.npz"))
    assert len(entries) == 1, entries
    return entries[0]


@pytest.fixture
def cache(tmp_path) -> Path:
    """A cache holding the one valid entry of TINY (car)."""
    root = tmp_path / "cache"
    graph, said = load(root)
    assert not graph.from_cache and said == []
    assert load(root)[0].from_cache
    return root


def members(entry: Path) -> dict[str, np.ndarray]:
    with np.load(entry, allow_pickle=False) as f:
        return {name: f[name] for name in f.files}


def plant(entry: Path, **replace: np.ndarray) -> None:
    """Rewrite the entry (same name, mode 0600) with some arrays replaced."""
    arrays = members(entry) | replace
    with open(entry, "wb") as handle:
        np.savez(handle, **arrays)
    entry.chmod(0o600)


def rebuilt_once(cache: Path, reason: str) -> None:
    """One warning naming the entry and ``reason``, the right graph, and the next run from a
    sound entry again, without a warning."""
    graph, said = load(cache)
    assert len(said) == 1, said
    assert reason in said[0] and "building the graph from the roads file" in said[0]
    assert not graph.from_cache
    same_graph(graph, reference())
    again, said = load(cache)
    assert said == [] and again.from_cache
    same_graph(again, reference())


def test_a_new_entry_is_private_and_folders_too(cache):
    entry = the_entry(cache)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    if POSIX:
        for folder in (cache, cache / "roads"):
            assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert [p.name for p in (cache / "roads").iterdir()] == [entry.name]  # no temporary left
    same_graph(load(cache)[0], reference())


def test_edges_past_the_vertex_count(cache):
    entry = the_entry(cache)
    indices = members(entry)["indices"].copy()
    k = len(members(entry)["kept"])  # the compressed graph's vertices
    indices[0] = k + 5  # would read past the arrays in Dijkstra
    plant(entry, indices=indices)
    rebuilt_once(cache, f"past the {k} it keeps")


def test_chains_past_the_vertex_count(cache):
    entry = the_entry(cache)
    vertex = members(entry)["chain_vertex"].copy()
    n = len(members(entry)["lon"])
    vertex[1] = n  # would index past the coordinates when snapping
    plant(entry, chain_vertex=vertex)
    rebuilt_once(cache, f"past the {n} it holds")


def test_chain_minutes_out_of_order(cache):
    entry = the_entry(cache)
    fwd = members(entry)["chain_fwd"].copy()
    ptr = members(entry)["chain_ptr"]
    fwd[ptr[1] - 1] = -1.0  # the first chain's end before its start
    plant(entry, chain_fwd=fwd)
    rebuilt_once(cache, "chain minutes")


def test_a_chain_ending_at_a_passed_vertex(cache):
    entry = the_entry(cache)
    kept = members(entry)["kept"].copy()
    n = len(members(entry)["lon"])
    gap = np.flatnonzero(np.diff(np.r_[kept, n]) > 1)[0]  # a passed vertex follows it
    kept[gap] += 1  # the kept vertex (some chain's end) swapped for a passed one
    plant(entry, kept=kept)
    rebuilt_once(cache, "do not end at kept vertices")


def test_negative_minutes(cache):
    entry = the_entry(cache)
    minutes = members(entry)["minutes"].copy()
    minutes[0] = -1.0  # scipy's Dijkstra refuses negative weights
    plant(entry, minutes=minutes)
    rebuilt_once(cache, "negative or not finite")


def test_nan_minutes(cache):
    entry = the_entry(cache)
    minutes = members(entry)["minutes"].copy()
    minutes[2] = np.nan  # silently wrong minutes
    plant(entry, minutes=minutes)
    rebuilt_once(cache, "negative or not finite")


def test_a_row_pointer_that_goes_backwards(cache):
    entry = the_entry(cache)
    indptr = members(entry)["indptr"].copy()
    indptr[3], indptr[4] = indptr[4], indptr[3] - 1
    plant(entry, indptr=indptr)
    rebuilt_once(cache, "row pointer")


def _npy(header: str, body: bytes) -> bytes:
    """An .npy member by hand: magic 1.0, the header padded to 64 bytes, the body."""
    text = header.encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + body


def test_a_huge_shape_header_allocates_nothing(cache):
    """'lon' claims 10^12 float64s (8 TB) in 16 bytes: refused before allocating."""
    entry = the_entry(cache)
    arrays = members(entry)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            if name == "lon":
                archive.writestr("lon.npy", _npy(
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }",
                    b"\0" * 16))
            else:
                member = io.BytesIO()
                np.lib.format.write_array(member, array)
                archive.writestr(f"{name}.npy", member.getvalue())
    entry.write_bytes(buffer.getvalue())
    tracemalloc.start()
    try:
        rebuilt_once(cache, "header does not match its size")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6


def test_a_truncated_entry(cache):
    entry = the_entry(cache)
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    rebuilt_once(cache, "is damaged")


def test_an_entry_from_a_future_zip_version(cache):
    """A central directory asking for zip version 7.1 (zipfile raises NotImplementedError)."""
    entry = the_entry(cache)
    data = bytearray(entry.read_bytes())
    at = data.index(b"PK\x01\x02") + 6  # 'version needed to extract' of the first member
    data[at:at + 2] = (71).to_bytes(2, "little")
    entry.write_bytes(bytes(data))
    rebuilt_once(cache, "zip file version 7.1")


def test_an_entry_of_other_options_keyed_to_ours(cache):
    """A valid but slower graph (walking speeds) under this run's name: its key differs."""
    walk_root = cache.parent / "walk"
    load(walk_root, profile="walk")
    walk = the_entry(walk_root)
    assert members(walk)["minutes"].sum() > members(the_entry(cache))["minutes"].sum()
    shutil.copyfile(walk, the_entry(cache))
    rebuilt_once(cache, "its key differs")


def test_an_entry_of_another_extract_keyed_to_ours(cache, tmp_path):
    """The graph of another extract (every primary road slow) planted under this run's name."""
    other = tmp_path / "other.osm"
    other.write_text(Path(TINY).read_text().replace('v="primary"', 'v="residential"'))
    other_root = tmp_path / "other-cache"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_roads(other, cache_dir=other_root)
    shutil.copyfile(the_entry(other_root), the_entry(cache))
    rebuilt_once(cache, "its key differs")


def test_a_key_that_is_not_ours(cache):
    plant(the_entry(cache), cache_key=np.array("0" * 64, dtype="<U64"))
    rebuilt_once(cache, "its key differs")


def test_an_entry_with_a_missing_or_extra_member(cache):
    entry = the_entry(cache)
    arrays = members(entry)
    del arrays["top_kmh"]
    with open(entry, "wb") as handle:
        np.savez(handle, **arrays, extra=np.zeros(3))
    rebuilt_once(cache, "does not hold the arrays of a road graph")


def test_an_object_array_is_never_unpickled(cache):
    entry = the_entry(cache)
    arrays = members(entry)
    arrays["lon"] = np.array([{"a": 1}] * len(arrays["lon"]), dtype=object)
    with open(entry, "wb") as handle:
        np.savez(handle, **arrays)
    rebuilt_once(cache, "dtype object")


@pytest.mark.skipif(not POSIX, reason="POSIX modes")
def test_an_entry_others_may_write_is_rebuilt(cache):
    entry = the_entry(cache)
    entry.chmod(0o666)
    rebuilt_once(cache, "writable by other users (mode 666")
    assert stat.S_IMODE(the_entry(cache).stat().st_mode) == 0o600


@pytest.mark.skipif(not POSIX, reason="POSIX modes")
@pytest.mark.parametrize("which", ["root", "roads"])
def test_a_folder_others_may_write_is_not_used(cache, which):
    folder = cache if which == "root" else cache / "roads"
    folder.chmod(0o777)
    before = the_entry(cache).stat().st_mtime_ns
    for _ in range(2):  # every run: one warning, never the entry, nothing written
        graph, said = load(cache)
        assert len(said) == 1 and f"folder {folder} is writable by other users" in said[0]
        assert "not using the cache" in said[0] and not graph.from_cache
        same_graph(graph, reference())
    assert the_entry(cache).stat().st_mtime_ns == before


@pytest.mark.skipif(not ROOT, reason="chown to another user needs root")
def test_an_entry_owned_by_another_user_is_rebuilt(cache):
    os.chown(the_entry(cache), 12345, -1)
    rebuilt_once(cache, "owned by another user (uid 12345)")
    assert the_entry(cache).stat().st_uid == os.geteuid()


@pytest.mark.skipif(not ROOT, reason="chown to another user needs root")
def test_a_folder_owned_by_another_user_is_not_used(cache):
    os.chown(cache / "roads", 12345, -1)
    graph, said = load(cache)
    assert len(said) == 1 and "owned by another user (uid 12345)" in said[0]
    assert not graph.from_cache
    same_graph(graph, reference())


@pytest.mark.skipif(not POSIX or ROOT, reason="as root every file is owned by root")
def test_ownership_is_checked_against_the_running_user(cache, monkeypatch):
    """Not root: pretend to be another user; the cache folder is then someone else's."""
    monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)
    graph, said = load(cache)
    assert len(said) == 1 and "owned by another user" in said[0]
    same_graph(graph, reference())


@pytest.mark.skipif(not POSIX, reason="symbolic links")
def test_an_entry_that_is_a_symbolic_link_is_rebuilt(cache, tmp_path):
    entry = the_entry(cache)
    elsewhere = tmp_path / "elsewhere.npz"
    shutil.move(entry, elsewhere)
    entry.symlink_to(elsewhere)
    rebuilt_once(cache, "cannot be opened")
    assert not the_entry(cache).is_symlink()


def test_a_cache_that_cannot_be_written_works_in_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    graph, said = load(blocker / "cache")
    assert said == [] and not graph.from_cache
    same_graph(graph, reference())


def test_the_cli_says_it_once_and_answers(cache, runner, tmp_path):
    """Through the CLI: one 'reachplan: warning:' line, exit 0, the output of a clean run."""
    from reachplan.cli.main import cli

    (tmp_path / "d.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"id": "A"}, "geometry": {"type": "Polygon", "coordinates": [[[0.025, -0.005], '
        '[0.035, -0.005], [0.035, 0.005], [0.025, 0.005], [0.025, -0.005]]]}}]}')
    (tmp_path / "c.csv").write_text("name,lat,lon\nC,0.0,0.0\n")
    args = ["coverage", str(tmp_path / "d.geojson"), str(tmp_path / "c.csv"), "--id-col",
            "id", "--roads", TINY, "--travel-minutes", "30", "--format", "json"]
    clean = runner.invoke(cli, args, env={"REACHPLAN_CACHE_DIR": str(tmp_path / "clean")})
    assert clean.exit_code == 0, clean.output
    the_entry(cache).write_bytes(b"PK\x03\x04 planted")
    res = runner.invoke(cli, args, env={"REACHPLAN_CACHE_DIR": str(cache)})
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stderr.splitlines() if "road-graph cache" in line]
    assert len(lines) == 1 and lines[0].startswith("reachplan: warning: road-graph cache: ")
    assert "Traceback" not in res.stderr
    assert res.stdout == clean.stdout


# --------------------------------------------------------------------------- corruption
_VALID: list[tuple[str, bytes]] = []


def _valid_entry() -> tuple[str, bytes]:
    """The name and bytes of TINY's valid entry (built once)."""
    if not _VALID:
        with tempfile.TemporaryDirectory() as folder:
            load(Path(folder) / "cache")
            entry = the_entry(Path(folder) / "cache")
            _VALID.append((entry.name, entry.read_bytes()))
    return _VALID[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_corruption_never_crashes_nor_changes_the_answer(data):
    """Flip, overwrite or cut bytes anywhere in a valid entry: at most one warning, never an
    exception, and always the graph the roads file gives."""
    name, valid = _valid_entry()
    damaged = bytearray(valid)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        damaged = damaged[: data.draw(st.integers(0, len(damaged)))]
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "cache" / "roads").mkdir(parents=True, mode=0o700)
        entry = Path(folder) / "cache" / "roads" / name
        entry.write_bytes(bytes(damaged))
        entry.chmod(0o600)
        graph, said = load(Path(folder) / "cache")
    assert len(said) <= 1
    same_graph(graph, reference())
