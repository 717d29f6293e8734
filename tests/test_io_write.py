"""Writing outputs: inputs are never written, every output lands whole or not at all, and
resource errors are one line. Each test builds its hostile situation in a tmp folder."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from reachplan.cli.main import cli
from reachplan.errors import InputError, OutputError
from reachplan.io import OutputSet, atomic_output, check_output, write_table

REACHPLAN = [sys.executable, "-c", "from reachplan.cli.main import cli; cli()"]


@pytest.fixture
def inputs(grid, tmp_path) -> tuple[Path, Path]:
    """Copies of the grid fixture that a test may try to overwrite."""
    districts, centres = tmp_path / "districts.geojson", tmp_path / "centres.csv"
    shutil.copy(grid[0], districts)
    shutil.copy(grid[1], centres)
    return districts, centres


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ----------------------------------------------------------------------- inputs are never written
@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
@pytest.mark.parametrize("which", ["boundaries", "centres"])
def test_output_that_is_an_input_is_refused_even_with_overwrite(runner, inputs, tmp_path,
                                                                link, which):
    target = inputs[0] if which == "boundaries" else inputs[1]
    before = target.read_bytes()
    out = target
    if link == "symlink":
        out = tmp_path / "alias.csv"
        out.symlink_to(target)
    elif link == "hardlink":
        out = tmp_path / "alias.csv"
        os.link(target, out)
    res = runner.invoke(cli, ["gaps", *map(str, inputs), "-o", str(out), "--overwrite"])
    assert res.exit_code == 2, res.output
    assert "is also an input" in res.stderr and len(res.stderr.splitlines()) == 1
    assert target.read_bytes() == before


def test_plan_refuses_to_write_over_its_candidates(runner, inputs, tmp_path):
    cands = tmp_path / "cands.csv"
    cands.write_text("name,lat,lon\nA,1.5,2.5\n")
    res = runner.invoke(cli, ["plan", *map(str, inputs), "--add", "1", "--candidates",
                              str(cands), "-o", str(cands), "--overwrite"])
    assert res.exit_code == 2 and "is also an input" in res.stderr
    assert cands.read_text() == "name,lat,lon\nA,1.5,2.5\n"


def test_check_output_compares_files_not_names(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("x\n")
    os.link(a, tmp_path / "b.csv")
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match="is also an input"):
        check_output(tmp_path / "sub" / ".." / "b.csv", overwrite=True, inputs=[a])
    check_output(tmp_path / "c.csv", inputs=[a])  # a new file is fine
    (tmp_path / "c.csv").write_text("y\n")
    check_output(tmp_path / "c.csv", overwrite=True, inputs=[a])  # another file is fine


# --------------------------------------------------------------------------- non-regular targets
def test_device_output_is_written_into_not_replaced(runner, grid):
    res = runner.invoke(cli, ["gaps", *grid, "-o", os.devnull])
    assert res.exit_code == 0, res.output
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_fifo_output_is_written_into(runner, grid, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    res = runner.invoke(cli, ["gaps", *grid, "-o", str(fifo), "-q"])
    reader.join(timeout=60)
    assert res.exit_code == 0, res.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the FIFO, not a file in its place
    assert got[0].decode().splitlines()[0] == "rank,id,name,group,centers,nearest_km,nearest_center"


def test_dash_means_stdout_and_writes_no_file(runner, grid, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["gaps", *grid, "-o", "-", "-q"])
    assert res.exit_code == 0
    assert res.stdout.startswith("rank,id,")
    assert _only(tmp_path) == []


# --------------------------------------------------------------------------- temporary files
def test_temporary_names_are_unpredictable_and_exclusive(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    # a link planted at the name earlier versions used is never followed
    (tmp_path / ".out.reachplan-tmp.csv").symlink_to(victim)
    seen = set()
    for _ in range(3):
        with atomic_output(tmp_path / "out.csv", overwrite=True) as tmp:
            assert tmp.parent.parent == tmp_path  # beside the target: one file system
            assert stat.S_IMODE(os.stat(tmp.parent).st_mode) == 0o700  # private
            seen.add(tmp.parent.name)
            tmp.write_text("new\n")
    assert len(seen) == 3
    assert victim.read_text() == "keep" and (tmp_path / "out.csv").read_text() == "new\n"
    assert _only(tmp_path) == [".out.reachplan-tmp.csv", "out.csv", "victim.txt"]


def test_outputs_of_a_command_land_all_or_none(tmp_path):
    first, second = tmp_path / "new" / "first.csv", tmp_path / "second.csv"
    with pytest.raises(RuntimeError), OutputSet() as outputs:
        with atomic_output(first) as tmp:
            tmp.write_text("one\n")
        assert not first.exists()  # staged, not yet in place
        with atomic_output(second) as tmp:
            tmp.write_text("two")
            raise RuntimeError("the second writer fails")
    assert _only(tmp_path) == []  # no first.csv, no temporary file, not even new/
    with OutputSet() as outputs:
        for path in (first, second):
            with atomic_output(path) as tmp:
                tmp.write_text(path.name)
    assert outputs.written == [str(first), str(second)]
    assert first.read_text() == "first.csv" and second.read_text() == "second.csv"


def test_demand_output_is_not_left_when_the_main_output_is_refused(runner, inputs, tmp_path):
    demand = tmp_path / "demand.csv"
    demand.write_text("lat,lon\n0.5,0.5\n2.5,2.5\n")
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    res = runner.invoke(cli, ["coverage", *map(str, inputs), "--radius-km", "10",
                              "--demand", str(demand), "--demand-output",
                              str(tmp_path / "points" / "points.csv"), "-o", str(taken)])
    assert res.exit_code == 2 and "taken.json: already exists" in res.stderr
    assert not (tmp_path / "points").exists() and taken.read_text() == "{}"


def test_missing_output_folders_are_created(runner, grid, tmp_path):
    out = tmp_path / "a" / "b" / "gaps.csv"
    res = runner.invoke(cli, ["gaps", *grid, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("rank,id,")


def test_concurrent_runs_never_mix_rows(inputs, tmp_path):
    out = tmp_path / "gaps.csv"
    other = tmp_path / "other.csv"  # centres giving a different gap list
    other.write_text("name,lat,lon\nOnly,0.5,0.5\n")
    runs = {}
    for centres in (inputs[1], other):
        expected = subprocess.run([*REACHPLAN, "gaps", str(inputs[0]), str(centres), "-o", "-",
                                   "-q"], capture_output=True, check=True).stdout
        runs[centres] = expected
    assert len(set(runs.values())) == 2
    for _ in range(3):
        procs = [subprocess.Popen([*REACHPLAN, "gaps", str(inputs[0]), str(c), "-o", str(out),
                                   "--overwrite", "-q"], stderr=subprocess.PIPE)
                 for c in runs]
        errors = [p.communicate()[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errors
        assert out.read_bytes() in runs.values()
        assert _only(tmp_path) == ["centres.csv", "districts.geojson", "gaps.csv",
                                   "other.csv"]


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_signal_during_a_write_leaves_no_temporary_file(tmp_path, signame):
    code = (
        "import os, signal, sys\n"
        "from reachplan.cli.main import _exit_on_signals\n"
        "from reachplan.io import atomic_output\n"
        "_exit_on_signals()\n"
        "with atomic_output(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('half')\n"
        f"    os.kill(os.getpid(), signal.{signame})\n"
        "    tmp.write_text('never reached')\n"
    )
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out.csv")],
                         capture_output=True, text=True)
    assert res.returncode == 128 + getattr(signal, signame), res.stderr
    assert "Traceback" not in res.stderr
    assert _only(tmp_path) == []


# --------------------------------------------------------------------------- resource errors
def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def test_stdout_to_a_full_device_is_one_line_exit_1(grid):
    with open("/dev/full", "wb") as full:
        res = subprocess.run([*REACHPLAN, "gaps", *grid, "-o", "-", "-q"], stdout=full,
                             stderr=subprocess.PIPE, text=True)
    assert res.returncode == 1
    assert "stdout: cannot write (No space left on device)" in _one_line(res.stderr)


def test_output_to_a_full_device_is_one_line_exit_1(grid):
    res = subprocess.run([*REACHPLAN, "gaps", *grid, "-o", "/dev/full", "-q"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert "/dev/full: cannot write (No space left on device)" in _one_line(res.stderr)


@pytest.fixture
def full_dir(tmp_path):
    """A folder on a file system of one page (a 4 KiB tmpfs; mounting it needs root)."""
    if os.geteuid() != 0:
        pytest.skip("a full file system needs root to mount a tiny tmpfs")
    folder = tmp_path / "full"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(folder)],
                   check=True)
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg", ".xlsx"])
def test_a_full_disk_is_one_line_exit_1_and_leaves_nothing(runner, full_dir, suffix):
    res = runner.invoke(cli, ["gaps", "@india", "@india-sample", "-q", "-o",
                              str(full_dir / f"gaps{suffix}")])
    assert res.exit_code == 1, res.output
    assert f"gaps{suffix}: cannot write (No space left on device); free some space" in \
        _one_line(res.stderr)
    assert _only(full_dir) == []


def test_disk_full_while_writing_is_one_line_exit_1(runner, grid, tmp_path, monkeypatch):
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    res = runner.invoke(cli, ["gaps", *grid, "-o", str(tmp_path / "gaps.csv")])
    assert res.exit_code == 1
    assert "gaps.csv: cannot write (No space left on device); free some space" in res.stderr
    assert _only(tmp_path) == []


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nobody may write in: a read-only tmpfs when we are root (root ignores file
    modes), else a folder without write permission."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
                       check=True)
        yield folder
        subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def test_read_only_folder_is_one_line_exit_2(runner, grid, read_only_dir):
    res = runner.invoke(cli, ["gaps", *grid, "-o", str(read_only_dir / "gaps.csv"), "-q"])
    assert res.exit_code == 2
    line = _one_line(res.stderr)
    assert "gaps.csv: cannot write (" in line
    assert _only(read_only_dir) == []


def test_output_that_is_a_folder_is_one_line_exit_2(runner, grid, tmp_path):
    (tmp_path / "gaps.csv").mkdir()
    res = runner.invoke(cli, ["gaps", *grid, "-o", str(tmp_path / "gaps.csv"), "--overwrite",
                              "-q"])
    assert res.exit_code == 2 and "gaps.csv: is a folder" in _one_line(res.stderr)


def test_output_under_a_file_is_one_line_exit_2(runner, grid, tmp_path):
    (tmp_path / "plain").write_text("a file, not a folder")
    res = runner.invoke(cli, ["gaps", *grid, "-o", str(tmp_path / "plain" / "gaps.csv"), "-q"])
    assert res.exit_code == 2 and "cannot write (Not a directory)" in _one_line(res.stderr)


def test_library_errors_name_the_file_and_say_if_the_operation_failed(tmp_path):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(OutputError) as info, atomic_output(tmp_path / "x.csv") as tmp:
        full(tmp)
    assert info.value.failed and str(info.value).startswith(str(tmp_path / "x.csv"))
    write_table(frame, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_text() == "a\n1\n"


# --------------------------------------------------------------------------- what users read
def test_a_successful_write_says_so_in_one_line(runner, grid, tmp_path):
    out = tmp_path / "gaps.csv"
    res = runner.invoke(cli, ["gaps", *grid, "-o", str(out)])
    assert res.exit_code == 0
    assert res.stderr.splitlines()[-1] == f"reachplan: wrote {out}"
    res = runner.invoke(cli, ["gaps", *grid, "-o", str(out), "--overwrite", "-q"])
    assert res.exit_code == 0 and res.stderr == ""


@pytest.mark.parametrize("command", [["coverage"], ["gaps"], ["plan", "--add", "1"],
                                     ["compare", "--boundaries"]])
def test_dash_is_stdout_wherever_o_is_offered(runner, grid, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    args = ([command[0], grid[1], grid[1], "--boundaries", grid[0]] if command[0] == "compare"
            else [*command, *grid])
    res = runner.invoke(cli, [*args, "-o", "-", "-q"])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() and _only(tmp_path) == []  # on stdout, no file named '-'


def test_check_prints_its_json_also_when_the_threshold_fails(runner, grid):
    res = runner.invoke(cli, ["check", *grid, "--min-percent", "90", "--format", "json", "-q"])
    assert res.exit_code == 1
    assert json.loads(res.stdout)["summary"]["covered"] == 7  # 7 of 9 (tests/fixtures/grid)


def test_two_outputs_on_stdout_come_in_order(runner, grid, tmp_path):
    demand = tmp_path / "d.csv"
    demand.write_text("lat,lon\n0.5,0.5\n")
    res = runner.invoke(cli, ["coverage", *grid, "--radius-km", "1", "--demand", str(demand),
                              "--demand-output", "-", "--format", "json", "-q"])
    assert res.exit_code == 0, res.output
    points, _, summary = res.stdout.partition("{")
    assert points.splitlines()[0].startswith("line,lat,lon,covered,nearest_center")
    assert json.loads("{" + summary)["demand"]["covered"] == 1


def test_map_html_is_not_left_when_the_png_fails(runner, grid, tmp_path, monkeypatch):
    import reachplan.maps.png

    def broken_png(result, **kwargs):
        raise InputError("cannot draw the picture")

    monkeypatch.setattr(reachplan.maps.png, "png_bytes", broken_png)
    res = runner.invoke(cli, ["map", *grid, "-o", str(tmp_path / "out" / "map.html"),
                              "--png", str(tmp_path / "out" / "map.png"), "-q"])
    assert res.exit_code == 2 and "cannot draw the picture" in res.stderr
    assert _only(tmp_path) == []  # no HTML, no half PNG, not even the folder


# ----------------------------------------------------------------------- outputs that lie
def test_a_formula_after_a_line_break_is_guarded_too(tmp_path):
    frame = pd.DataFrame({"name": ["ok\r=cmd|' /C calc'!A0", "x\n+1", "=1", "plain"]})
    write_table(frame, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_bytes().decode()
    assert "\r'=cmd|" in text and "\n'+1" in text and "'=1" in text
    assert "\r=" not in text and "\n+" not in text


def test_control_characters_reach_xlsx_replaced_and_said(tmp_path):
    from openpyxl import load_workbook

    frame = pd.DataFrame({"name": ["bell\x07name", "fine"]})
    with OutputSet() as outputs:
        write_table(frame, tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx").active
    assert [c.value for c in sheet["A"]] == ["name", "bell\ufffdname", "fine"]
    assert outputs.notes == [f"{tmp_path / 't.xlsx'}: 1 text cell(s) held control characters "
                             "that this format cannot store; written as \ufffd"]


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_a_nul_byte_does_not_silently_cut_a_name(tmp_path, suffix):
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"name": ["North\x00ern"]}, geometry=[shapely.Point(0, 0)],
                             crs="EPSG:4326")
    out = tmp_path / f"points{suffix}"
    with OutputSet() as outputs:
        write_table(frame, out)
    assert gpd.read_file(out)["name"].tolist() == ["North\ufffdern"]
    assert outputs.notes == [f"{out}: 1 text cell(s) held NUL bytes that this format cannot "
                             "store; written as \ufffd"]


def test_json_never_holds_nan(capsys):
    from reachplan.cli.output import emit_json

    emit_json({"weight": float("inf"), "rows": [float("nan"), 1.5]}, None, False)
    assert json.loads(capsys.readouterr().out) == {"weight": None, "rows": [None, 1.5]}
