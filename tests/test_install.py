"""`pip install reachplan` without extras runs every command the README and the docs mark.

The wheel of this tree is installed into a fresh venv, offline, from the wheelhouse of
runtime dependencies that `make test` prepares (`pip wheel` of reachplan without extras, in
.venv/wheelhouse). The commands are read from README.md and docs/**/*.md themselves (the
fenced blocks right after a `tests/test_install.py runs the next block` comment), so the docs
and this test cannot drift apart; they run on the embedded data or on small files named as the
docs name them.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from _docs import doc_text

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"
MARK = "<!-- tests/test_install.py runs the next block"
EXTRAS = ("pyarrow", "dask", "distributed", "dask_geopandas", "spopt", "pytest", "playwright",
          "hypothesis")


def readme_commands(text: str) -> list[str]:
    """Commands of the marked ```sh blocks (the marker line right above the block):
    continuation lines joined, comments dropped."""
    commands = []
    for block in re.findall(re.escape(MARK) + r"[^\n]*\n```sh\n(.*?)```", text, flags=re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split("  #")[0].strip()
            if line:
                commands.append(line)
    return commands


def test_readme_blocks_are_found():
    commands = readme_commands(doc_text())
    assert len(commands) >= 8
    assert all(c.startswith("reachplan ") for c in commands), commands
    assert any("--demand " in c for c in commands) and any(c.startswith("reachplan map")
                                                           for c in commands)


def _clean_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return env


def _user_files(work: Path, grid: tuple[str, str]) -> None:
    """The files the README's commands name, built from the grid fixture (every district
    covered, so `check --min-percent 90` passes)."""
    districts = gpd.read_file(grid[0]).rename(columns={"zone": "state", "pop": "population"})
    districts.to_file(work / "districts.gpkg", driver="GPKG")
    rows = Path(grid[1]).read_text().rstrip("\n").split("\n")
    rows += ["C6,Inside 006,direct,1.5,2.5", "C9,Inside 009,direct,2.5,2.5"]
    # a capacity column (beds) for the README's capacity and access examples
    (work / "centres.csv").write_text("\n".join([rows[0] + ",beds"]
                                                + [r + ",10" for r in rows[1:]]) + "\n")
    (work / "customers.csv").write_text("lat,lon,people\n0.5,0.5,10\n1.5,2.5,5\n2.9,3.5,1\n")
    (work / "villages.csv").write_text("lat,lon\n0.5,0.6\n1.4,2.5\n2.9,3.5\n")
    india = "name,lat,lon\nDelhi,28.6139,77.2090\nMumbai,19.0760,72.8777\n"
    (work / "old.csv").write_text(india)
    (work / "new.csv").write_text(india + "Chennai,13.0827,80.2707\n")


def build_wheel(tmp_path: Path) -> Path:
    """reachplan's wheel of this tree, built offline in ``tmp_path`` (also used by
    tests/test_qgis.py); fails when `make test` has not prepared the wheelhouse."""
    wheels = sorted(WHEELHOUSE.glob("*.whl"))
    if not wheels:
        pytest.fail(f"{WHEELHOUSE} holds no wheels: run `make test`, which prepares it")
    # build from a copy of the files git tracks (or would): a stale build/ folder in the
    # work tree (setuptools reuses it) must not slip old modules into the wheel
    source, dist = tmp_path / "source", tmp_path / "dist"
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():  # coverage/reachplan/_data -> ../../data
            (source / name).symlink_to(os.readlink(ROOT / name))
        elif (ROOT / name).is_file():
            shutil.copy2(ROOT / name, source / name)
    # the npm files the wheel inlines (setup.py copies them from node_modules: `npm ci`)
    (source / "node_modules").symlink_to((ROOT / "node_modules").resolve())
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(dist)], check=True,
                   capture_output=True)
    (wheel,) = dist.glob("reachplan-*.whl")
    return wheel


@pytest.mark.slow
def test_readme_commands_run_from_a_wheel_without_extras(tmp_path, grid):
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = _clean_env(venv)
    py = str(venv / "bin" / "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-index", "--find-links",
                    str(WHEELHOUSE), str(wheel)], check=True, env=env, capture_output=True)
    probe = ("import importlib.util as u; "
             f"print([m for m in {EXTRAS!r} if u.find_spec(m)])")
    found = subprocess.run([py, "-c", probe], env=env, capture_output=True, text=True,
                           check=True, cwd=tmp_path)
    assert found.stdout.strip() == "[]"  # no extra, no test tool: a plain install

    work = tmp_path / "work"
    work.mkdir()
    _user_files(work, grid)
    reachplan = shutil.which("reachplan", path=env["PATH"])
    assert reachplan == str(venv / "bin" / "reachplan")
    subprocess.run([reachplan, "coverage", "districts.gpkg", "centres.csv", "--format", "json",
                    "-o", "before.json"], cwd=work, env=env, check=True, capture_output=True)
    subprocess.run([reachplan, "coverage", "districts.gpkg", "new.csv", "--format", "json",
                    "-o", "after.json", "-q"], cwd=work, env=env, capture_output=True)
    commands = readme_commands(doc_text())
    commands.append("reachplan demo --out maps/demo")  # what `make demo` runs
    for command in commands:
        res = subprocess.run(shlex.split(command), cwd=work, env=env, capture_output=True,
                             text=True)
        assert res.returncode == 0, f"{command}\n{res.stderr}"
        assert "Traceback" not in res.stderr, command
    assert (work / "maps" / "coverage.html").exists()  # the quick start's folder was created
    assert (work / "covered.csv").read_text().startswith("line,lat,lon,weight,covered,")


def test_every_subpackage_is_in_the_explicit_package_list():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    source = ROOT / "coverage" / "reachplan"
    found = {".".join(("reachplan", *init.parent.relative_to(source).parts))
             for init in source.rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
