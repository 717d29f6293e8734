"""Run the demo and every command on the test fixtures, and print a SHA-256 of each output.

A refactor that must not change behaviour (issue 9) is checked by running this before and
after and diffing the two listings::

    python tools/same_outputs.py > before.txt   # on the old commit
    python tools/same_outputs.py > after.txt    # on the new one
    diff before.txt after.txt                   # empty: byte-identical outputs

It writes into a temporary folder and needs only the installed ``reachplan`` command.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
GRID = [str(FIX / "grid" / "districts.geojson"), str(FIX / "grid" / "centres.csv")]
PLAN = [str(FIX / "planning" / "districts.geojson"), str(FIX / "planning" / "centres.csv")]
EXE = str(Path(sys.executable).with_name("reachplan"))

# (name, arguments, output files the command writes into the folder)
RUNS: list[tuple[str, list[str], list[str]]] = [
    ("demo", ["demo", "--out", "{out}/demo"],
     ["demo/coverage.json", "demo/gaps.csv", "demo/plan.json", "demo/coverage.html",
      "demo/coverage-offline.html", "demo/plan.html"]),
    ("coverage-table", ["coverage", *GRID, "--group-col", "zone", "--weight-col", "pop"], []),
    ("coverage-json-r", ["coverage", *GRID, "--radius-km", "60", "--format", "json",
                         "--type-col", "type", "--weight-col", "pop"], []),
    ("coverage-csv-min2", ["coverage", *GRID, "--radius-km", "150", "--min-centers", "2",
                           "--format", "csv"], []),
    ("coverage-demand", ["coverage", "@india", "@india-sample", "--radius-km", "25",
                         "--demand", "@india-pincodes", "--format", "json",
                         "--demand-output", "{out}/points.csv"], ["points.csv"]),
    ("gaps", ["gaps", *GRID, "--radius-km", "60", "-o", "{out}/gaps.csv"], ["gaps.csv"]),
    ("gaps-gpkg", ["gaps", *GRID, "-o", "{out}/gaps.gpkg"], ["gaps.gpkg"]),
    ("gaps-xlsx", ["gaps", *GRID, "-o", "{out}/gaps.xlsx"], ["gaps.xlsx"]),
    ("check-pass", ["check", *GRID, "--min-percent", "10"], []),
    ("check-fail", ["check", *GRID, "--min-percent", "99", "--format", "json"], []),
    ("map", ["map", *GRID, "--radius-km", "60", "--show-radius", "-o", "{out}/m.html"],
     ["m.html"]),
    ("plan", ["plan", *PLAN, "--radius-km", "120", "--add", "2", "--candidates",
              str(FIX / "planning" / "candidates.csv"), "--format", "json"], []),
    ("plan-india", ["plan", "@india", "@india-sample", "--target", "95", "--candidates",
                    "@india-pincodes", "--format", "json"], []),
    ("plan-greedy", ["plan", "@india", "@india-post-ho", "--radius-km", "30", "--add", "10",
                     "--method", "greedy", "--candidates", "@india-pincodes"], []),
    ("compare", ["compare", GRID[1], str(FIX / "maps" / "centres.csv"), "--boundaries",
                 GRID[0], "--radius-km", "60"], []),
]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for name, args, files in RUNS:
            argv = [EXE, *(a.replace("{out}", tmp) for a in args)]
            proc = subprocess.run(argv, capture_output=True, cwd=tmp)
            out = proc.stdout.replace(tmp.encode(), b"{out}")
            print(f"{name}: exit {proc.returncode} stdout {_digest(out)}")
            for rel in files:
                path = Path(tmp) / rel
                got = _digest(path.read_bytes()) if path.exists() else "missing"
                print(f"{name}: {rel} {got}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
