"""Issue 18.5: outputs onto inputs, numbers that open gates, inputs that never end, crashes.

Every case is a tiny input and either the right answer, worked out by hand, or one line on
stderr (exit 2) naming the file, key or option, with the inputs' bytes unchanged.
"""

from __future__ import annotations

import json
import math
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _docs import page

from reachplan.capacity import allocate
from reachplan.capacity.accessibility import accessibility, gravity, step
from reachplan.checks import compare_baseline, compare_expected, load_rules, pyproject_rules
from reachplan.cli.main import COMMANDS, INTERNAL_ERROR, cli
from reachplan.cli.options import FiniteFloat, Thresholds
from reachplan.errors import InputError
from reachplan.io import read_points
from reachplan.roads.osm import read_osm
from reachplan.roads.speeds import default_speeds
from reachplan.rules import Rule

FIXTURES = Path(__file__).parent / "fixtures"
D = str(FIXTURES / "grid" / "districts.geojson")
C = str(FIXTURES / "grid" / "centres.csv")
CAP = FIXTURES / "capacity"
OSM = FIXTURES / "roads" / "tiny.osm"
ORIGINAL = b"an input: these bytes must survive\n"


def _one_line(res, code: int = 2) -> str:
    assert res.exit_code == code, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.output
    return lines[0]


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail (not hang) when a read blocks: 20 s is 100x what these tiny inputs take."""
    def stop(signum, frame):
        raise AssertionError("blocked for 20 s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------- outputs onto inputs
# command -> (argv reading valid inputs, positional inputs by index, input options, outputs);
# an option given again overrides (click keeps the last), a positional is replaced
COMMAND_IO = {
    "coverage": (["coverage", D, C], {"BOUNDARIES": 1, "CENTERS": 2},
                 [("--roads", "--travel-minutes", "3"), ("--speeds",), ("--demand",)],
                 ["-o", "--capacity-output", "--demand-output"]),
    "gaps": (["gaps", D, C], {"BOUNDARIES": 1, "CENTERS": 2},
             [("--roads", "--travel-minutes", "3"), ("--speeds",)], ["-o"]),
    "check": (["check", D, C, "--min-percent", "1"], {"BOUNDARIES": 1, "CENTERS": 2},
              [("--rules",), ("--baseline",), ("--expect",), ("--roads", "--travel-minutes", "3"),
               ("--speeds",), ("--demand",)],
              ["--junit", "--update-expect --expect"]),
    "plan": (["plan", D, C, "--add", "1"], {"BOUNDARIES": 1, "CENTERS": 2},
             [("--candidates",), ("--roads", "--travel-minutes", "3"), ("--demand",)],
             ["-o", "--map"]),
    "compare": (["compare", "a.json", "b.json"], {"A": 1, "B": 2}, [("--boundaries",)], ["-o"]),
    "isochrones": (["isochrones", str(OSM), C, "-o", "iso.gpkg"], {"ROADS": 1, "CENTERS": 2},
                   [("--speeds",)], ["-o"]),
    "access": (["access", str(CAP / "centres.csv"), "--capacity-col", "cap", "--radius-km", "10",
                "-o", "acc.csv"], {"CENTERS": 1}, [("--demand",), ("--boundaries",)],
               ["-o", "--districts-output"]),
    "map": (["map", D, C, "-o", "map.html"], {"BOUNDARIES": 1, "CENTERS": 2},
            [("--roads", "--travel-minutes", "3"), ("--demand",)], ["-o", "--png"]),
}


def _io_cases() -> Iterator[tuple[str, str, str]]:
    for command, (_, positional, options, outputs) in COMMAND_IO.items():
        for source in [*positional, *(o[0] for o in options)]:
            for output in outputs:
                if source != output.split()[-1]:  # --update-expect rewrites its own --expect
                    yield command, source, output


@pytest.mark.parametrize(("command", "source", "output"), list(_io_cases()))
def test_no_output_lands_on_any_input(runner, tmp_path, monkeypatch, command, source, output):
    monkeypatch.chdir(tmp_path)
    argv, positional, options, _ = COMMAND_IO[command]
    argv = list(argv)
    victim = tmp_path / "input.osm"
    victim.write_bytes(ORIGINAL)
    if source in positional:
        argv[positional[source]] = str(victim)
    else:
        extra = next(o for o in options if o[0] == source)
        argv += [source, str(victim), *extra[1:]]
    argv += [*output.split()[:-1], output.split()[-1], str(victim)]
    message = _one_line(runner.invoke(cli, argv))
    assert f"{victim}: is also an input of this command" in message
    assert victim.read_bytes() == ORIGINAL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.osm"]


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_update_expect_never_writes_over_the_roads_through_a_link(runner, tmp_path, link):
    """The reported case: --update-expect wrote JSON over an OSM extract."""
    roads = tmp_path / "roads.osm"
    roads.write_bytes(OSM.read_bytes())
    golden = tmp_path / "expected.json"
    (golden.symlink_to if link == "symlink" else golden.hardlink_to)(roads)
    res = runner.invoke(cli, ["check", D, C, "--roads", str(roads), "--travel-minutes", "3",
                              "--expect", str(golden), "--update-expect"])
    assert "is also an input of this command" in _one_line(res)
    assert roads.read_bytes() == OSM.read_bytes()


def test_the_pyproject_check_reads_is_an_input_too(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("pyproject.toml").write_bytes(b'[project]\nname = "x"\n')
    res = runner.invoke(cli, ["check", D, C, "--min-percent", "1", "--junit", "pyproject.toml",
                              "--overwrite"])
    assert "pyproject.toml: is also an input" in _one_line(res)
    assert Path("pyproject.toml").read_bytes() == b'[project]\nname = "x"\n'


def test_junit_on_a_device_is_written_into_as_o_is(runner):
    res = runner.invoke(cli, ["check", D, C, "--min-percent", "1", "--junit", os.devnull])
    assert res.exit_code == 0, res.output
    assert f"reachplan: wrote {os.devnull}" in res.stderr


# --------------------------------------------------------------------------- numbers
def _number_options() -> Iterator[tuple[str, str]]:
    import importlib

    import click

    for name, target in sorted(COMMANDS.items()):
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        for param in command.params:
            if isinstance(param.type, (click.types.FloatParamType, FiniteFloat, Thresholds)):
                yield name, max(param.opts, key=len)


NUMBER_OPTIONS = list(_number_options())


def test_every_float_option_is_a_finite_float():
    import importlib

    for name, target in COMMANDS.items():
        module, _, attr = target.partition(":")
        for param in getattr(importlib.import_module(module), attr).params:
            if isinstance(param.type, __import__("click").types.FloatParamType):
                assert isinstance(param.type, FiniteFloat), (name, param.opts)
    assert len(NUMBER_OPTIONS) >= 20  # radius, minutes, speeds, percentages, rates, ...


@pytest.mark.parametrize(("command", "flag"), NUMBER_OPTIONS)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308"])
def test_number_options_refuse_nan_infinities_and_overflow(runner, command, flag, value):
    message = _one_line(runner.invoke(cli, [command, flag, value]))
    assert f"Invalid value for '{flag}'" in message
    assert ("not a finite number" if "inf" in value or value == "nan" else "beyond 1e12"
            ) in message


def test_max_drop_nan_no_longer_passes_a_dropped_gate(runner, tmp_path):
    base = tmp_path / "base.json"
    res = runner.invoke(cli, ["coverage", D, C, "--radius-km", "60", "--format", "json",
                              "-o", str(base)])
    assert res.exit_code == 0, res.output
    # 8 of 9 covered at 60 km (the grid README), none without a radius but 5 inside
    res = runner.invoke(cli, ["check", D, C, "--baseline", str(base), "--max-drop", "nan"])
    assert "--max-drop" in _one_line(res)
    res = runner.invoke(cli, ["check", D, C, "--baseline", str(base), "--max-drop", "0"])
    assert res.exit_code == 1, res.output


@pytest.mark.parametrize(("call", "param"), [
    (lambda: compare_baseline({}, {}, max_drop=math.nan), "max_drop"),
    (lambda: compare_expected({"districts": []}, {"districts": []}, tolerance_km=math.inf),
     "tolerance_km"),
    (lambda: compare_expected({"districts": []}, {"districts": []}, tolerance_min=-1.0),
     "tolerance_min"),
    (lambda: Rule.radius(1e308), "km"),
])
def test_the_library_names_the_parameter_of_a_bad_number(call, param):
    with pytest.raises(InputError) as info:
        call()
    assert param in info.value.params and str(info.value).startswith(param)


# --------------------------------------------------------------------------- capacity magnitudes
# two points, two centres: point 0 reaches both (1 m and 2 m), point 1 only centre 0; with
# demand and capacity 2 each, all is served only with 0 -> centre 1, 1 -> centre 0
PAIRS = (np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([1.0, 2.0, 1.0]))


@pytest.mark.parametrize("scale", [1e-300, 1.5e-9, 1e-3, 1.0, 4e11])
@pytest.mark.parametrize("method", ["lp", "auto"])
def test_allocation_serves_all_at_any_sensible_magnitude(scale, method):
    amounts = np.array([2.0, 2.0]) * scale
    result = allocate(*PAIRS, amounts, amounts, method=method)
    assert result.status == "optimal"
    assert np.allclose(result.served, amounts, rtol=1e-6, atol=0)
    assert np.allclose(result.flow, [0, 2 * scale, 2 * scale], rtol=1e-6, atol=0)


@pytest.mark.parametrize("what", ["demand", "capacity"])
def test_amounts_beyond_the_solvers_bound_are_one_line_naming_the_row(what):
    amounts = {"demand": np.array([2.0, 2.0]), "capacity": np.array([2.0, 2.0])}
    amounts[what][1] = 1e20
    with pytest.raises(InputError, match=rf"^{what}: row 1: 1e\+20 is beyond 1e12"):
        allocate(*PAIRS, amounts["demand"], amounts["capacity"])


def test_a_capacity_column_beyond_the_bound_names_file_column_and_line(runner, tmp_path):
    centres = tmp_path / "centres.csv"
    centres.write_text("id,name,latitude,longitude,cap\nA,a,0.5,0.5,30\nB,b,2.5,2.5,1e20\n")
    res = runner.invoke(cli, ["coverage", D, str(centres), "--radius-km", "100",
                              "--capacity-col", "cap", "--demand", str(CAP / "demand.csv"),
                              "--demand-weight-col", "requests"])
    message = _one_line(res)
    assert "centres.csv: column 'cap'" in message and "3" in message and "beyond 1e12" in message


def test_a_decay_that_overflows_is_one_line_not_nan():
    with pytest.raises(InputError, match="^decay: .* gives weight inf"):
        accessibility(np.array([0]), np.array([0]), np.array([5000.0]), [1.0], [1.0],
                      method="gravity", decay=gravity(1000.0, 1e12, 1000.0))


# --------------------------------------------------------------------------- OSM files
@pytest.mark.parametrize(("old", "new", "reason"), [
    ('<node id="3" lat="0.0"', '<node id="3" lat="abc"', "wrong format for coordinate"),
    ('<node id="3" ', f'<node id="{2**63}" ', "illegal id"),
    ('<way id="101">', f'<way id="{2**63}">', "illegal id"),
    ('v="30 mph"', f'v="{"9" * 100_000}"', "tag value is too long"),
])
def test_a_bad_osm_file_is_one_line_naming_it(tmp_path, old, new, reason):
    text = OSM.read_text()
    assert old in text
    path = tmp_path / "bad.osm"
    path.write_text(text.replace(old, new))
    with pytest.raises(InputError, match=rf"^{path}: not a readable OSM file \(.*{reason}"):
        read_osm(path, "car", default_speeds("car"))


# --------------------------------------------------------------------------- never-ending inputs
@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.mark.usefixtures("no_hang")
@pytest.mark.parametrize(("args", "words"), [
    (["coverage", "{}", C], "is a pipe (FIFO), not a file"),
    (["coverage", D, "{}"], "is a pipe (FIFO), not a file"),
    (["coverage", D, C, "--roads", "{}", "--travel-minutes", "3"], "is a pipe (FIFO)"),
    (["check", D, C, "--baseline", "{}"], "not readable JSON"),
    (["coverage", D, C, "--roads", str(OSM), "--travel-minutes", "3", "--speeds", "{}"],
     "the header must be 'highway,kmh'"),
])
def test_a_fifo_without_a_writer_is_one_line_not_a_hang(runner, fifo, args, words):
    res = runner.invoke(cli, [a.replace("{}", str(fifo)) for a in args])
    assert words in _one_line(res)


@pytest.mark.parametrize(("args", "words"), [
    (["coverage", "/dev/zero", C], "/dev/zero: is a device, not a file"),
    (["coverage", D, C, "--roads", "/dev/zero", "--travel-minutes", "3"], "is a device"),
    (["check", D, C, "--rules", "/dev/zero"], "/dev/zero: larger than 4 MiB"),
    (["check", D, C, "--baseline", "/dev/zero"], "/dev/zero: larger than 64 MiB"),
])
def test_an_endless_device_is_read_with_a_bound(runner, args, words):
    assert words in _one_line(runner.invoke(cli, args))


def test_a_pipe_with_a_writer_is_read_whole(tmp_path):
    from reachplan.io.files import read_text

    read, write = os.pipe()
    os.write(write, b"max_drop = 1\n")
    os.close(write)
    assert read_text(f"/dev/fd/{read}", "rules file") == "max_drop = 1\n"
    os.close(read)


def test_a_huge_xlsx_is_refused_before_parsing(tmp_path, monkeypatch):
    from openpyxl import Workbook

    import reachplan.io.formats as read

    book = Workbook()
    book.active.append(["name", "lat", "lon"])
    for i in range(50):
        book.active.append([f"c{i}", 1.5, 2.5])
    book.save(tmp_path / "c.xlsx")
    assert len(read_points(tmp_path / "c.xlsx")) == 50
    monkeypatch.setattr(read, "_MAX_XLSX_XML", 1 << 10)  # the bound, made tiny
    with pytest.raises(InputError, match=r"c.xlsx: holds \d+ MiB of XML, more than the 0 MiB"):
        read_points(tmp_path / "c.xlsx")


# --------------------------------------------------------------------------- rules, baselines
DEEP = "a = " + "[" * 20_000 + "]" * 20_000 + "\n"


def test_deeply_nested_rules_are_one_line(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(DEEP)
    with pytest.raises(InputError, match="rules.toml: not valid TOML .nested too deeply"):
        load_rules(path)


@pytest.mark.parametrize("text", [DEEP, "[tool.reachplan.check\n"])
def test_a_malformed_pyproject_is_ignored_with_a_warning(runner, tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    Path("pyproject.toml").write_text(text)
    notes: list[str] = []
    assert pyproject_rules(".", notes=notes) is None
    assert len(notes) == 1 and notes[0].endswith("; ignored")
    res = runner.invoke(cli, ["check", D, C, "--min-percent", "1"])
    assert res.exit_code == 0, res.output
    assert "reachplan: warning: pyproject.toml: not valid TOML" in res.stderr


@pytest.fixture(scope="module")
def result60(tmp_path_factory) -> dict:
    from click.testing import CliRunner

    res = CliRunner().invoke(cli, ["coverage", D, C, "--radius-km", "60", "--group-col", "zone",
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _groups_not_list(d):
    d["groups"] = "North"


def _group_not_object(d):
    d["groups"][0] = 5


def _group_percent_text(d):
    d["groups"][0]["percent"] = "high"


def _summary_weight_nan(d):
    d["summary"]["weight_percent"] = math.nan


@pytest.mark.parametrize(("mutate", "key"), [
    (_groups_not_list, "groups is not a list"),
    (_group_not_object, "groups[0] is not an object"),
    (_group_percent_text, "groups[0].percent is 'high', not a number"),
    (_summary_weight_nan, "summary.weight_percent is nan, not a number"),
])
def test_a_baseline_of_the_wrong_shape_names_file_and_key(runner, tmp_path, result60, mutate,
                                                          key):
    data = json.loads(json.dumps(result60))
    mutate(data)
    path = tmp_path / "base.json"
    path.write_text(json.dumps(data))
    res = runner.invoke(cli, ["check", D, C, "--radius-km", "60", "--group-col", "zone",
                              "--baseline", str(path), "-q"])
    assert _one_line(res).startswith(f"Error: {path}: {key}")


@pytest.mark.parametrize(("field", "value", "key"), [
    ("nearest_km", "abc", "districts[0].nearest_km is 'abc', not a number"),
    ("nearest_km", math.nan, "districts[0].nearest_km is nan, not a number"),
    ("centers", "two", "districts[0].centers is 'two', not a count"),
    ("covered", "yes", "districts[0].covered is 'yes', not true or false"),
])
def test_a_golden_file_of_the_wrong_shape_names_file_and_key(runner, tmp_path, field, value,
                                                             key):
    golden = tmp_path / "expected.json"
    res = runner.invoke(cli, ["check", D, C, "--radius-km", "60", "--expect", str(golden),
                              "--update-expect"])
    assert res.exit_code == 0, res.output
    data = json.loads(golden.read_text())
    data["districts"][0][field] = value
    golden.write_text(json.dumps(data))
    res = runner.invoke(cli, ["check", D, C, "--radius-km", "60", "--expect", str(golden), "-q"])
    assert _one_line(res).startswith(f"Error: {golden}: {key}")


# --------------------------------------------------------------------------- the last resort
def test_an_unexpected_exception_is_one_line_saying_it_is_a_bug(runner, monkeypatch):
    import reachplan.engine

    def broken(*args, **kwargs):
        raise ValueError("boom\x1b[31m\nsecond line")

    monkeypatch.setattr(reachplan.engine, "assess", broken)
    monkeypatch.delenv("REACHPLAN_DEBUG", raising=False)
    res = runner.invoke(cli, ["coverage", D, C, "-q"])
    message = _one_line(res, INTERNAL_ERROR)
    assert message == ("reachplan: internal error: ValueError: boom\\x1b[31m; this is a bug, "
                       "please report it; rerun as reachplan --debug COMMAND ... (or with "
                       "REACHPLAN_DEBUG=1) to see the traceback")
    res = runner.invoke(cli, ["--debug", "coverage", D, C, "-q"])
    assert isinstance(res.exception, ValueError)
    monkeypatch.setenv("REACHPLAN_DEBUG", "1")
    assert isinstance(runner.invoke(cli, ["coverage", D, C, "-q"]).exception, ValueError)


def test_exit_code_3_is_documented_and_used_by_nothing_else():
    assert "| 3 | an internal error" in page("docs/reference/errors.md")
    assert INTERNAL_ERROR == 3


@pytest.mark.parametrize(("make", "param"), [
    (lambda: gravity(1.0, math.nan, 1.0), "alpha"),
    (lambda: gravity(1.0, -1.0, math.inf), "min_cost"),
    (lambda: step({1.0: math.inf}), "bands"),
])
def test_decays_refuse_non_finite_parameters_naming_them(make, param):
    with pytest.raises(InputError) as info:
        make()
    assert info.value.params == (param,)


@pytest.mark.parametrize("scale", [1.0, 1e-9])
def test_plan_opens_the_same_site_at_any_magnitude(runner, tmp_path, scale):
    """tests/fixtures/capacity/README: candidate capacity 8 each, --add 1 opens K2, 43 of 52
    served (82.6923 %); every amount times ``scale`` changes nothing but the unit."""
    import csv

    for name, col in (("centres.csv", "cap"), ("demand.csv", "requests")):
        with open(CAP / name, newline="") as src:
            rows = list(csv.DictReader(src))
        for row in rows:
            row[col] = repr(float(row[col]) * scale)
        with open(tmp_path / name, "w", newline="") as dst:
            writer = csv.DictWriter(dst, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    res = runner.invoke(cli, ["plan", D, str(tmp_path / "centres.csv"), "--radius-km", "20",
                              "--capacity-col", "cap", "--demand", str(tmp_path / "demand.csv"),
                              "--demand-weight-col", "requests", "--candidates",
                              str(CAP / "candidates.csv"), "--candidate-capacity",
                              repr(8 * scale), "--add", "1", "--format", "json", "-q"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["after"]["served_pct"] == pytest.approx(82.6923)
    assert data["capacity"]["served"] == pytest.approx(43 * scale, rel=1e-6)


@pytest.mark.filterwarnings("default")
def test_a_library_warning_is_one_line_without_source(runner, monkeypatch):
    import warnings

    import reachplan.engine

    real = reachplan.engine.assess

    def noisy(*args, **kwargs):
        warnings.warn("overflow encountered in power\nsecond line", RuntimeWarning,
                      stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reachplan.engine, "assess", noisy)
    res = runner.invoke(cli, ["coverage", D, C])
    assert res.exit_code == 0, res.output
    assert "reachplan: warning: overflow encountered in power\n" in res.stderr
    assert "warnings.warn" not in res.stderr and "second line" not in res.stderr


@pytest.mark.parametrize("flag", ["--rules", "--baseline"])
def test_a_folder_as_a_text_input_is_one_line(runner, tmp_path, flag):
    message = _one_line(runner.invoke(cli, ["check", D, C, flag, str(tmp_path)]))
    assert f"{tmp_path}: not readable" in message and "Is a directory" in message
