"""The README's "reachplan in CI" examples, run as written on the grid fixture.

The GitHub Actions example runs the check step of ``action.yml`` with GitHub's bash options and
its env files simulated; the GitLab example runs its script lines and reads the JUnit report it
names; the pre-commit example runs in real pre-commit (the hook taken from
``.pre-commit-hooks.yaml``, with ``language: system`` so that nothing is installed). Only the
``pip install`` lines and ``actions/*`` steps are skipped: tests run offline.

Expected figures (tests/fixtures/grid/README.md): 77.78 % of districts covered (warns below
90, passes the fail level 75); zones 100 / 66.67 / 66.67 % (all >= 60); farthest gap 009 at
78.434 km (warns above 60, fails above 100). So the example run warns and exits 0. With only
C1 (the middle of 001) the network covers 1 of 9 (11.11 %): it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from _docs import doc_text
from junitparser import JUnitXml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's scripts: reachplan, pre-commit, check-jsonschema


def readme_block(name: str) -> str:
    """The block marked ``ci-example: NAME`` (in docs/guides/ci.md)."""
    text = doc_text()
    match = re.search(rf"<!-- ci-example: {re.escape(name)} -->\n```\w+\n(.*?)```", text,
                      re.DOTALL)
    assert match, f"the docs have no ci-example {name}"
    return match.group(1)


@pytest.fixture
def workspace(tmp_path, fixtures_dir):
    """A repository as the examples expect it: districts, centres and the README's rules."""
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copy(fixtures_dir / "grid" / "districts.geojson", work / "districts.geojson")
    shutil.copy(fixtures_dir / "grid" / "centres.csv", work / "centres.csv")
    (work / "reachplan.toml").write_text(readme_block("reachplan.toml"), encoding="utf-8")
    return work


def only_c1(work: Path) -> None:
    lines = (work / "centres.csv").read_text(encoding="utf-8").splitlines()
    (work / "centres.csv").write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "REACHPLAN_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env | extra


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    # GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail {0}`
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def schema_check(schema: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120)


def test_readme_rules_example_is_what_the_checks_use(workspace):
    from reachplan.checks import load_rules

    spec = load_rules(workspace / "reachplan.toml")
    assert [r.name for r in spec.rules] == ["districts", "every zone", "farthest gap"]
    assert spec.max_drop == 0.5


# --------------------------------------------------------------------------- GitHub Actions

def test_action_yml_is_valid_for_github():
    res = schema_check("vendor.github-actions", ROOT / "action.yml")
    assert res.returncode == 0, res.stdout + res.stderr


def test_action_schema_check_can_fail(tmp_path):
    broken = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    del broken["runs"]["using"]
    broken["inputs"]["boundaries"]["required"] = "yes"
    path = tmp_path / "action.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert schema_check("vendor.github-actions", path).returncode == 1


def _github_step_env(action: dict, step: dict, given: dict[str, str]) -> dict[str, str]:
    """The env block of an action step with ``${{ inputs.x }}`` resolved as GitHub does."""
    env = {}
    for key, value in step.get("env", {}).items():
        name = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", value).group(1)
        env[key] = str(given.get(name, action["inputs"][name].get("default", "")))
    return env


def _run_github_example(workspace: Path, tmp_path: Path) -> tuple[int, dict[str, str], str,
                                                                   list[str]]:
    workflow_path = tmp_path / "coverage.yml"
    workflow_path.write_text(readme_block("github"), encoding="utf-8")
    res = schema_check("vendor.github-workflows", workflow_path)
    assert res.returncode == 0, res.stdout + res.stderr

    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    steps = yaml.safe_load(workflow_path.read_text(encoding="utf-8"))["jobs"]["check"]["steps"]
    ours = next(s for s in steps if s.get("uses", "").split("@")[0].endswith("/reachplan"))
    given = ours["with"]
    assert set(given) <= set(action["inputs"])
    assert all(k in given for k, v in action["inputs"].items() if v.get("required"))

    output, summary = tmp_path / "github_output", tmp_path / "step_summary.md"
    output.touch()
    summary.touch()
    github = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output),
              "GITHUB_STEP_SUMMARY": str(summary)}
    check_step = next(s for s in action["runs"]["steps"] if s.get("id") == "check")
    assert check_step["shell"] == "bash"
    run = bash(check_step["run"], workspace,
               _env(**github, **_github_step_env(action, check_step, given)))
    values = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").split())

    # the workflow's next step reads the action's outputs, which map the check step's
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.check.outputs.{name} }}}}"
    echo = next(s for s in steps if "run" in s)["run"]
    echo = re.sub(r"\$\{\{ steps\.reachplan\.outputs\.(\w+) \}\}",
                  lambda m: values[m.group(1)] if m.group(1) in action["outputs"] else "?", echo)
    printed = bash(echo, workspace, _env()).stdout
    return run.returncode, values, printed, [summary.read_text(encoding="utf-8"), run.stderr]


def test_github_example_warns_and_passes(workspace, tmp_path):
    code, values, printed, (summary, stderr) = _run_github_example(workspace, tmp_path)
    assert code == 0, stderr
    assert values == {"percent": "77.78", "gaps": "2", "status": "warn"}
    assert printed == "covered 77.78 % (warn)\n"
    assert summary.startswith("## ⚠️ reachplan check: warn\n\n0 failed, 2 warned, 3 passed\n")
    assert "- 009 Cell 9 (nearest centre 78.434 km)" in summary
    assert stderr.count("::warning ") == 2 and "::error" not in stderr
    junit = JUnitXml.fromfile(str(workspace / "reachplan-junit.xml"))
    assert (junit.tests, junit.failures) == (5, 0)


def test_github_example_fails(workspace, tmp_path):
    only_c1(workspace)
    code, values, printed, (summary, stderr) = _run_github_example(workspace, tmp_path)
    assert code == 1
    assert values == {"percent": "11.11", "gaps": "8", "status": "fail"}
    assert printed == "covered 11.11 % (fail)\n"
    assert summary.startswith("## ❌ reachplan check: fail")
    assert "::error title=reachplan check%3A districts::11.11%25 of districts covered" in stderr


# --------------------------------------------------------------------------- GitLab CI

def _run_gitlab_example(workspace: Path, tmp_path: Path) -> tuple[int, JUnitXml]:
    path = tmp_path / "gitlab-ci.yml"
    path.write_text(readme_block("gitlab"), encoding="utf-8")
    res = schema_check("vendor.gitlab-ci", path)
    assert res.returncode == 0, res.stdout + res.stderr
    job = yaml.safe_load(path.read_text(encoding="utf-8"))["coverage-check"]
    code = 0
    for line in job["script"]:
        if line.startswith("pip install"):
            continue  # the test environment has reachplan installed
        code = bash(line, workspace, _env(GITLAB_CI="true")).returncode
        if code:
            break  # GitLab stops the job at the first failing line
    assert job["artifacts"]["when"] == "always"  # the report is kept when the check fails
    return code, JUnitXml.fromfile(str(workspace / job["artifacts"]["reports"]["junit"]))


def test_gitlab_example_writes_the_junit_report(workspace, tmp_path):
    code, junit = _run_gitlab_example(workspace, tmp_path)
    assert code == 0
    cases = [c for suite in junit for c in suite]
    assert [(c.classname, c.name) for c in cases] == [
        ("reachplan.districts", "overall: percent"),
        ("reachplan.every zone", "group Middle: percent"),
        ("reachplan.every zone", "group North: percent"),
        ("reachplan.every zone", "group South: percent"),
        ("reachplan.farthest gap", "overall: max_nearest_km")]
    assert junit.failures == 0
    assert "farthest district to its nearest centre, above warn_above 60" in \
        cases[4].system_out


def test_gitlab_example_fails(workspace, tmp_path):
    only_c1(workspace)
    code, junit = _run_gitlab_example(workspace, tmp_path)
    assert code == 1
    failed = [c for suite in junit for c in suite if c.result]
    # 11.11 % < 75; zones: South 1/3 = 33.33 %, Middle and North 0 % < 60; 009 is farthest
    assert [c.name for c in failed] == ["overall: percent", "group Middle: percent",
                                        "group North: percent", "group South: percent",
                                        "overall: max_nearest_km"]


# --------------------------------------------------------------------------- pre-commit

def _run_pre_commit(workspace: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    from pre_commit.clientlib import load_config, load_manifest

    manifest = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))  # pre-commit's own schema
    readme_config = tmp_path / "readme-pre-commit-config.yaml"
    readme_config.write_text(readme_block("pre-commit"), encoding="utf-8")
    config = load_config(str(readme_config))
    hook = config["repos"][0]["hooks"][0]
    ours = next(h for h in manifest if h["id"] == hook["id"])
    local = {"repos": [{"repo": "local", "hooks": [
        {"id": ours["id"], "name": ours["name"], "entry": ours["entry"], "language": "system",
         "pass_filenames": ours["pass_filenames"], "files": ours["files"],
         "args": hook["args"]}]}]}
    (workspace / ".pre-commit-config.yaml").write_text(yaml.safe_dump(local), encoding="utf-8")
    env = _env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), GIT_CONFIG_NOSYSTEM="1",
               HOME=str(tmp_path))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(cmd, cwd=workspace, env=env, check=True, timeout=60)
    return subprocess.run([str(BIN / "pre-commit"), "run", "--all-files"], cwd=workspace,
                          env=env, capture_output=True, text=True, timeout=300)


def test_pre_commit_example_passes(workspace, tmp_path):
    res = _run_pre_commit(workspace, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert re.search(r"reachplan check\.+Passed", res.stdout)


def test_pre_commit_example_fails(workspace, tmp_path):
    only_c1(workspace)
    res = _run_pre_commit(workspace, tmp_path)
    assert res.returncode == 1
    assert re.search(r"reachplan check\.+Failed", res.stdout)
    assert "11.11% of districts covered, below fail_below 75 (rule 'districts')" in res.stdout
