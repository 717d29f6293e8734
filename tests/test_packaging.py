"""The package imports as `reachplan`, leaves `coverage` to coverage.py, and starts fast."""

from __future__ import annotations

import ast
import gc
import re
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest
from _docs import doc_text, page
from click.testing import CliRunner

from reachplan.cli.main import cli


def test_coverage_is_still_coverage_py():
    import pytest_cov  # noqa: F401  (pytest-cov is installed beside reachplan)

    import coverage

    assert hasattr(coverage, "Coverage")
    # the module is coverage.py's own file, not this repository's coverage/ folder (checked
    # by location, not by name: a clone in a folder called reachplan has reachplan in every path)
    root = Path(__file__).resolve().parents[1]
    here = Path(coverage.__file__ or "").resolve()
    assert not here.is_relative_to(root / "coverage")
    shipped = distribution("coverage").locate_file("coverage/__init__.py")
    assert here == Path(str(shipped)).resolve()


def test_reachplan_help_imports_no_heavy_library():
    code = ("import sys; from reachplan.cli.main import cli\n"
            "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('geopandas', 'folium', 'shapely', 'pandas')\n"
            "         if m in sys.modules]\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"



_RUN_AND_LIST = """\
import sys
from reachplan.cli.main import cli
try:
    cli(sys.argv[1:])
except SystemExit as exc:
    assert not exc.code, exc.code
print(sorted(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize(("args", "said", "heavy"), [
    # the command most users run first: scipy (0.2-0.4 s) and the plan/map/road code stay out
    (["coverage", "{d}", "{c}", "--radius-km", "60", "--group-col", "zone"], "8 of 9",
     ["scipy", "highspy", "folium", "reachplan.capacity", "reachplan.planning", "reachplan.maps",
      "reachplan.roads", "reachplan.demand"]),
    (["gaps", "{d}", "{c}"], "006  Cell 6", ["scipy", "highspy", "folium", "reachplan.capacity"]),
    # a greedy plan needs scipy.sparse, never the MILP solver
    (["plan", "{d}", "{c}", "--add", "1", "--method", "greedy"], "-> 8 of 9",
     ["highspy", "folium", "reachplan.capacity", "reachplan.maps"]),
])
def test_a_command_imports_only_what_it_uses(grid, args, said, heavy):
    """Each module here costs a small command's run a tenth or more of its time when loaded
    for nothing (``python -X importtime``); the command must still run."""
    d, c = grid
    argv = [a.format(d=d, c=c) for a in args]
    out = subprocess.run([sys.executable, "-c", _RUN_AND_LIST.format(heavy=heavy), *argv],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert said in out.stdout  # the command ran (the grid's README has the figures)


_EXIT = """\
import atexit, gc, sys
passes = []
gc.callbacks.append(lambda phase, info: passes.append(1) if phase == "start" else None)
atexit.register(lambda: print("passes:", len(passes), "frozen:", gc.get_freeze_count()))
from reachplan.cli.main import cli
cli(sys.argv[1:])
"""


def test_a_command_does_not_rescan_what_its_imports_left(grid):
    """The cyclic collector scanned the ~100,000 objects pandas and geopandas leave some 190
    times during a small command and twice more at exit (a fifth of its run): the console
    script's process imports them with the collector paused and freezes them, and freezes
    what is alive at exit once its atexit handlers are done (the handler above runs after
    reachplan's, atexit being last in, first out). In pytest's own process nothing freezes."""
    out = subprocess.run([sys.executable, "-c", _EXIT, "coverage", *grid], capture_output=True,
                         text=True, check=True)
    assert "7 of 9" in out.stdout
    passes, frozen = (int(w) for w in out.stdout.rsplit("passes:", 1)[1].split()[::2])
    assert passes < 60 and frozen > 10_000
    before = gc.get_freeze_count()
    assert CliRunner().invoke(cli, ["coverage", *grid]).exit_code == 0
    assert gc.get_freeze_count() == before


def test_every_command_has_examples(runner):
    for name in cli.list_commands(None):
        res = runner.invoke(cli, [name, "--help"])
        assert res.exit_code == 0, name
        assert "Examples:" in res.output, name


def test_console_script_is_reachplan():
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts["reachplan"] == "reachplan.cli.main:cli"
    assert "coverage" in scripts and scripts["coverage"].startswith("coverage")


def test_public_api_is_listed_and_importable():
    import reachplan

    for name in reachplan.__all__:
        assert getattr(reachplan, name) is not None, name


def test_wheel_carries_the_embedded_data(tmp_path):
    """`pip install .` (not only editable) finds the data: the wheel holds reachplan._data."""
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(root), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("reachplan-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in ("india_districts.fgb", "india_sample_centres.csv", "india_pincodes.csv",
                 "india_post_head_offices.csv", "README.md", "__init__.py"):
        assert f"reachplan/_data/{data}" in names
    assert "reachplan/cli/main.py" in names and "reachplan/py.typed" in names
    assert not any(n.startswith("coverage/") for n in names)  # never shadows coverage.py
    assert not any(n.endswith(".csv.gz") for n in names)  # the benchmark file stays out


def test_io_and_runners_import_nothing_above_them():
    # the layers point one way (docs/architecture.md): reading, writing and running parts
    # know no rule, engine, demand decision, planning, map or command line
    code = ("import sys, reachplan.io, reachplan.demand.parts, reachplan.demand.runners\n"
            "print(sorted(m for m in sys.modules if m.startswith('reachplan.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    assert loaded == ["reachplan._words", "reachplan.demand", "reachplan.demand.parts",
                      "reachplan.demand.runners", "reachplan.errors", "reachplan.frames",
                      "reachplan.frames.adapt", "reachplan.frames.columns",
                      "reachplan.frames.names", "reachplan.frames.repair",
                      "reachplan.frames.validate", "reachplan.io", "reachplan.io.files",
                      "reachplan.io.formats", "reachplan.io.read", "reachplan.io.write",
                      "reachplan.text"]


@pytest.mark.parametrize("module", ["reachplan.engine", "reachplan.planning", "reachplan.frames"])
def test_the_engine_takes_its_inputs_without_io(module):
    # frames passed in code are validated on the ground floor (reachplan.frames): the
    # engine and planning never load io (a path given to them is handed up to io's readers)
    code = (f"import sys, {module}\n"
            "print(sorted(m for m in sys.modules if m.startswith('reachplan.io')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_import_from_the_folder_holding_a_clone_named_reachplan(tmp_path):
    # run from the parent of a clone folder called reachplan/ (no __init__.py: a namespace
    # portion on sys.path[0]), the installed package must still win
    (tmp_path / "reachplan" / "coverage").mkdir(parents=True)
    code = "import reachplan; print(reachplan.assess.__name__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "assess"


def test_one_version_names_the_release_everywhere():
    import reachplan

    root = Path(__file__).resolve().parents[1]
    version = reachplan.__version__
    assert distribution("reachplan").version == version  # pyproject reads the one source
    ci = page("docs/guides/ci.md")
    assert f"uses: reachplan/reachplan@v{version}" in ci
    assert f"rev: v{version}" in ci
    # no other release is named in the examples, on any page
    assert set(re.findall(r"(?:@|rev: )v(\d+\.\d+\.\d+)", doc_text())) == {version}
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(version)}\].*`v{re.escape(version)}`", changelog, re.M)


# --------------------------------------------------------------------------- layers and sizes
PACKAGE = Path(__file__).resolve().parents[1] / "coverage" / "reachplan"

# docs/architecture.md's layers, lowest first: a module imports from its own layer or below
LAYERS = (
    ("reachplan.errors", "reachplan.text", "reachplan._words", "reachplan.thresholds"),
    ("reachplan.frames", "reachplan.solvers"),
    ("reachplan.io", "reachplan.datasets", "reachplan.demand.parts", "reachplan.demand.runners",
     "reachplan.demand.rasters"),
    ("reachplan.geodesy",),
    ("reachplan.rules", "reachplan.roads"),
    ("reachplan.engine",),
    ("reachplan.planning", "reachplan.demand.assess", "reachplan.demand.population",
     "reachplan.demand.population_steps",
     "reachplan.checks", "reachplan.capacity", "reachplan.hours"),
    ("reachplan.maps",),
    ("reachplan.cli",),
)
# the imports that go up, each inside the one function that needs it
HANDED_UP = {
    ("reachplan.frames.adapt", "reachplan.io.read"),  # a path given to assess/plan: io reads it
    ("reachplan.frames.names", "reachplan.io.postgis"),  # a PostGIS URL, its password masked
}
# re-exporters, each name imported on first use
LAZY = ("reachplan", "reachplan.demand")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    found = [(len(prefix), k) for k, layer in enumerate(LAYERS) for prefix in layer
             if module == prefix or module.startswith(prefix + ".")]
    assert found, f"{module}: in no layer of LAYERS (add it, and to docs/architecture.md)"
    return max(found)[1]


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = ([f"reachplan.{a.name}" for a in node.names  # the submodules only
                      if (PACKAGE / a.name).is_dir() or (PACKAGE / f"{a.name}.py").exists()]
                     if node.module == "reachplan" else [node.module])
            out.update(n for n in names if n.startswith("reachplan."))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("reachplan."))
    return out


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_data" not in p.parts)


def test_the_layer_table_orders_what_the_architecture_says():
    # the checker itself: a rule importing the engine, or io importing a rule, is upward
    assert _layer("reachplan.rules") < _layer("reachplan.engine") < _layer("reachplan.cli")
    assert _layer("reachplan.io.read") < _layer("reachplan.roads.rule")
    assert _layer("reachplan.demand.runners") < _layer("reachplan.demand.assess")
    assert _layer("reachplan.frames.adapt") < _layer("reachplan.io.read")


def test_the_layers_import_one_way():
    upward = []
    for path in _modules():
        module = _module(path)
        if module in LAZY:
            continue
        for target in _imports(path):
            if (target not in LAZY and (module, target) not in HANDED_UP
                    and _layer(target) > _layer(module)):
                upward.append(f"{module} imports {target}")
    assert upward == []


MAX_LINES = 500
REASON = "longer than 500 lines"


def test_no_module_is_long_without_a_reason_at_its_top():
    """A module over MAX_LINES says why in its docstring ("Longer than 500 lines: ...")."""
    long = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > MAX_LINES and REASON not in doc.lower():
            long.append(f"{path.relative_to(PACKAGE)}: {text.count(chr(10))} lines")
    assert long == []
