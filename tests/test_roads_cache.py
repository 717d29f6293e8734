"""The road-graph cache (issue 18, part 4): an entry is used only when it is sound, its own
and bound to its source; anything else gives one warning and the graph built anew.

The reference answer is the graph built with the cache off (``cache_dir=False``), which never
reads an entry; every planted entry below must give exactly its minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import struct
import tempfile
import tracemalloc
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse.csgraph as csgraph
import xxhash
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
    entries = list((cache / "roads").glob("*.graph"))
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


# The entry's layout read and written here from its description (the cache module's
# docstring), not with the module's code: a 28-byte preamble (magic, format, header length,
# header CRC-32), a JSON header, raw little-endian arrays at 64-byte aligned offsets.
MAGIC = b"reachplan-roads\0"


def head_of(entry: Path) -> dict:
    data = entry.read_bytes()
    magic, fmt, length, crc = struct.unpack("<16sIII", data[:28])
    assert magic == MAGIC and fmt == 7 and zlib.crc32(data[28:28 + length]) == crc
    return json.loads(data[28:28 + length])


def members(entry: Path) -> dict[str, np.ndarray]:
    data = entry.read_bytes()
    return {a["name"]: np.frombuffer(data, dtype=a["dtype"], count=a["shape"][0],
                                     offset=a["offset"]).copy()
            for a in head_of(entry)["arrays"]}


def write(entry: Path, arrays: dict[str, np.ndarray], *, key: str | None = None,
          top_kmh: float | None = None, edit=None, fmt: int = 7) -> None:
    """An entry laid out as described, checksums right; ``edit(rows)`` may then change the
    header's rows (offsets, dtypes, shapes) before it is written."""
    old = head_of(entry) if entry.exists() else {}
    rows, at = [], 0
    for name, array in arrays.items():
        rows.append({"name": name, "dtype": array.dtype.str, "shape": [len(array)],
                     "offset": at, "xxh3_64": xxhash.xxh3_64_intdigest(array.tobytes())})
        at += -(-array.nbytes // 64) * 64
    head, start = b"", 64
    while True:  # the header's length moves the arrays' offsets, which it holds
        shifted = [{**r, "offset": r["offset"] + start} for r in rows]
        if edit is not None:
            edit(shifted)
        head = json.dumps({"key": old.get("key") if key is None else key,
                           "top_kmh": old.get("top_kmh") if top_kmh is None else top_kmh,
                           "arrays": shifted}).encode()
        if -(-(28 + len(head)) // 64) * 64 == start:
            break
        start = -(-(28 + len(head)) // 64) * 64
    body = bytearray(struct.pack("<16sIII", MAGIC, fmt, len(head), zlib.crc32(head)) + head)
    for array in arrays.values():
        body += bytes(-len(body) % 64) + array.tobytes()
    entry.write_bytes(bytes(body))
    entry.chmod(0o600)


def plant(entry: Path, **replace: np.ndarray) -> None:
    """Rewrite the entry (same name, mode 0600) with some arrays replaced."""
    write(entry, members(entry) | replace)


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


@pytest.mark.parametrize(("name", "where", "value"), [
    ("chain_fwd", "middle", np.nan), ("chain_fwd", "first", np.nan),
    ("chain_fwd", "last", np.nan), ("chain_fwd", "last", np.inf),
    ("chain_bwd", "first", np.nan), ("chain_bwd", "middle", np.nan),
    ("chain_bwd", "last", np.nan), ("chain_bwd", "last", -np.inf),
])
def test_chain_minutes_not_a_number(cache, name, where, value):
    """NaN or inf anywhere in a chain (the longest chain: its first, a middle, its last)."""
    entry = the_entry(cache)
    arrays = members(entry)
    ptr = arrays["chain_ptr"]
    longest = int(np.argmax(np.diff(ptr)))
    at = {"first": ptr[longest], "middle": ptr[longest] + 1,
          "last": ptr[longest + 1] - 1}[where]
    minutes = arrays[name].copy()
    minutes[at] = value
    plant(entry, **{name: minutes})
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


def test_a_huge_shape_header_allocates_nothing(cache):
    """'lon' claims 10^12 float64s (8 TB): refused from the header, before allocating."""
    entry = the_entry(cache)
    write(entry, members(entry), edit=lambda rows: rows[0].update(shape=[10**12]))
    tracemalloc.start()
    try:
        rebuilt_once(cache, "past the end of the file")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6


def test_a_truncated_entry(cache):
    entry = the_entry(cache)
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    rebuilt_once(cache, "truncated?")


def test_an_entry_of_a_future_format(cache):
    entry = the_entry(cache)
    write(entry, members(entry), fmt=8)
    rebuilt_once(cache, "is of format 8, not 7")


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
    entry = the_entry(cache)
    write(entry, members(entry), key="0" * 64)
    rebuilt_once(cache, "its key differs")


@pytest.mark.parametrize(("change", "reason"), [
    ("missing", "does not hold the arrays of a road graph"),
    ("extra", "unknown or repeated array"),
    ("repeated", "unknown or repeated array"),
])
def test_an_entry_with_a_missing_extra_or_repeated_array(cache, change, reason):
    entry = the_entry(cache)
    arrays = members(entry)
    if change == "missing":
        del arrays["chain_bwd"]
    elif change == "extra":
        arrays["extra"] = np.zeros(3)
    write(entry, arrays, edit=(lambda rows: rows.append(dict(rows[-1])))
          if change == "repeated" else None)
    rebuilt_once(cache, reason)


@pytest.mark.parametrize(("name", "dtype"), [
    ("lon", "|O"), ("lon", "<f4"), ("lon", ">f8"), ("vertex", "<i4"), ("minutes", "<i8"),
    ("indices", "<u4"), ("kept", "<M8[s]"),
])
def test_a_dtype_not_allowed(cache, name, dtype):
    """Only the dtypes the module lists per array; an object dtype is never even parsed."""
    entry = the_entry(cache)
    write(entry, members(entry), edit=lambda rows: next(
        r for r in rows if r["name"] == name).update(dtype=dtype))
    rebuilt_once(cache, f"has '{name}' of dtype {dtype}, not one of")


def test_wider_index_dtypes_are_allowed(cache):
    """int64 'indptr' and 'indices' (as scipy makes for big graphs) load, the same graph."""
    entry = the_entry(cache)
    arrays = members(entry)
    assert arrays["indptr"].dtype == np.int32
    plant(entry, indptr=arrays["indptr"].astype(np.int64),
          indices=arrays["indices"].astype(np.int64))
    graph, said = load(cache)
    assert said == [] and graph.from_cache
    same_graph(graph, reference())
    plant(entry, indptr=arrays["indptr"].astype(np.int64), indices=arrays["indices"])
    rebuilt_once(cache, "'indptr' and 'indices' of different dtypes")


def _row(rows: list[dict], name: str) -> dict:
    return next(r for r in rows if r["name"] == name)


@pytest.mark.parametrize(("edit", "reason"), [
    (lambda rows: _row(rows, "kept").update(offset=_row(rows, "kept")["offset"] + 8),
     "not a multiple of 64"),
    (lambda rows: _row(rows, "lat").update(offset=_row(rows, "lon")["offset"]),
     "overlapping the header or the array before it"),
    (lambda rows: _row(rows, "lon").update(offset=0), "overlapping the header"),
    (lambda rows: _row(rows, "chain_bwd").update(
        shape=[_row(rows, "chain_bwd")["shape"][0] + 1]), "past the end of the file"),
    (lambda rows: _row(rows, "chain_bwd").update(
        offset=_row(rows, "chain_bwd")["offset"] + 64), "bytes before 'chain_bwd'"),
    (lambda rows: _row(rows, "chain_bwd").update(
        shape=[_row(rows, "chain_bwd")["shape"][0] - 1]), "bytes after its last array"),
    (lambda rows: _row(rows, "lat").update(shape=[True]), "not one length"),
    (lambda rows: _row(rows, "lat").update(shape=[3, 3]), "not one length"),
    (lambda rows: _row(rows, "lat").update(offset="64"), "without an offset"),
])
def test_a_layout_that_does_not_hold(cache, edit, reason):
    """Offsets misaligned, overlapping, past the file or leaving gaps; shapes not lengths."""
    entry = the_entry(cache)
    write(entry, members(entry), edit=edit)
    rebuilt_once(cache, reason)


def test_an_array_whose_length_disagrees_with_the_others(cache):
    entry = the_entry(cache)
    lat = members(entry)["lat"]
    plant(entry, lat=lat[:-1])  # a sound layout, one vertex short
    rebuilt_once(cache, f"has 'lat' of length {len(lat) - 1}, not {len(lat)}")


def test_trailing_bytes(cache):
    entry = the_entry(cache)
    entry.write_bytes(entry.read_bytes() + bytes(64))
    rebuilt_once(cache, "64 bytes after its last array")


def test_a_header_longer_than_the_file(cache):
    entry = the_entry(cache)
    data = bytearray(entry.read_bytes())
    data[20:24] = (len(data)).to_bytes(4, "little")
    entry.write_bytes(bytes(data))
    rebuilt_once(cache, "claims a header of")


def test_a_changed_header_byte(cache):
    """The top speed's digits changed: the header's checksum catches it."""
    entry = the_entry(cache)
    data = entry.read_bytes()
    at = data.index(b'"top_kmh": ') + len(b'"top_kmh": ')
    entry.write_bytes(data[:at] + (b"2" if data[at:at + 1] != b"2" else b"3") + data[at + 1:])
    rebuilt_once(cache, "header whose checksum differs")


def test_a_header_that_is_not_json(cache):
    entry = the_entry(cache)
    head = b"{not json"
    entry.write_bytes(struct.pack("<16sIII", MAGIC, 7, len(head), zlib.crc32(head)) + head)
    rebuilt_once(cache, "not JSON")


def test_a_changed_minute_the_checks_cannot_see(cache):
    """Minutes doubled (still finite, still >= 0: a sound graph, but not the one built) under
    the old checksum: caught only by the checksum."""
    entry = the_entry(cache)
    arrays = members(entry)
    crc = _row(head_of(entry)["arrays"], "minutes")["xxh3_64"]
    write(entry, arrays | {"minutes": arrays["minutes"] * 2},
          edit=lambda rows: _row(rows, "minutes").update(xxh3_64=crc))
    rebuilt_once(cache, "'minutes' whose checksum differs")


def test_unsorted_edges_and_self_loops(cache):
    entry = the_entry(cache)
    arrays = members(entry)
    indptr, indices = arrays["indptr"], arrays["indices"]
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))  # each edge's row
    row = np.flatnonzero(np.diff(indptr) >= 2)[0]
    swapped = indices.copy()
    a = indptr[row]
    swapped[a], swapped[a + 1] = indices[a + 1], indices[a]
    plant(entry, indices=swapped)
    rebuilt_once(cache, "self-loops or repeated or unsorted edges")
    looped = indices.copy()
    looped[a] = rows[a]  # an edge of 'row' to itself
    looped[a:indptr[row + 1]].sort()
    plant(the_entry(cache), indices=looped)
    rebuilt_once(cache, "self-loops or repeated or unsorted edges")


def test_an_old_npz_entry_is_left_alone(tmp_path):
    """A format-5 entry (an .npz) in the folder is never read: the graph is built, no
    warning; an .npz under the new entry's name is not a road graph."""
    root = tmp_path / "cache"
    (root / "roads").mkdir(parents=True, mode=0o700)
    root.chmod(0o700)
    old = root / "roads" / "roads-car-7c0766ae94a09c3053fe7bdd08ba2b4a.npz"
    with open(old, "wb") as handle:
        np.savez(handle, lon=np.zeros(3), cache_key=np.array("0" * 64))
    graph, said = load(root)
    assert said == [] and not graph.from_cache
    assert old.exists() and the_entry(root).suffix == ".graph"
    shutil.copyfile(old, the_entry(root))
    rebuilt_once(root, "no 'reachplan-roads' magic")


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
