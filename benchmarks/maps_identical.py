"""Do the maps of this tree and of another commit give the same bytes? (refactor check)

Renders one set of map pages (the 3x3 fixture in every colouring, with rings, sites and a
before/after toggle, online and offline, plus the India default) with the reachplan of this tree
and with the reachplan of ``--against REF`` (checked out in a temporary git worktree and imported
from there), then compares them byte for byte. For each page it prints the size and either
``identical`` or the first differing offset with a little context on both sides.

Run: ``.venv/bin/python benchmarks/maps_identical.py --against main``
(exit code 1 when a page differs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def render(out: Path, root: Path) -> None:
    """Write every case's page into ``out``, with the reachplan importable here."""
    from reachplan import maps
    from reachplan.engine import Rule, assess
    from reachplan.io import read_boundaries, read_points

    os.chdir(root)  # relative input paths: the summary panel names the inputs as given
    out = out.resolve()
    fixtures = Path("tests", "fixtures", "maps")

    def grid(rule=None, weight=True):
        districts = read_boundaries(fixtures / "grid.geojson", id_col="code",
                                    name_col="district", group_col="state",
                                    weight_col="pop" if weight else None)
        return assess(districts, read_points(fixtures / "centres.csv"), rule or Rule(),
                      type_col="type")

    result = grid()
    sites = read_points(fixtures / "centres.csv").iloc[:2]
    cases = {
        "status": (result, {"title": "<b>Grid</b> & co"}),
        "centers": (result, {"color_by": "centers"}),
        "per-weight": (result, {"color_by": "per-weight", "simplify_m": 0}),
        "radius-rings": (grid(Rule.radius(25, min_centers=2)), {"show_radius": True}),
        "plan": (result, {"sites": sites, "before": grid(Rule(min_centers=2)),
                          "title": "Plan: 2 new sites"}),
        "offline": (result, {"offline": True}),
        "offline-tiles": (result, {"offline": True,
                                   "tiles": "http://localhost:8080/{z}/{x}/{y}.png"}),
    }
    india = read_boundaries(Path("data", "india_districts.fgb"), id_col="lgd_code",
                            name_col="district", group_col="state",
                            weight_col="population_est")
    india_result = assess(india, read_points(Path("data", "india_sample_centres.csv")),
                          Rule(), type_col="type")
    cases["india"] = (india_result, {"title": "India"})
    out.mkdir(parents=True, exist_ok=True)
    for name, (res, kwargs) in cases.items():
        page = maps.map_html(maps.coverage_map(res, **kwargs))
        (out / f"{name}.html").write_text(page, encoding="utf-8")


def compare(old: Path, new: Path) -> bool:
    same = True
    for path in sorted(new.glob("*.html")):
        a, b = (old / path.name).read_bytes(), path.read_bytes()
        if a == b:
            print(f"{path.stem:15} {len(b):>10,} bytes  identical")
            continue
        same = False
        at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                  min(len(a), len(b)))
        print(f"{path.stem:15} {len(a):>10,} -> {len(b):,} bytes  DIFFERS at byte {at:,}")
        print(f"    before: {a[max(0, at - 60):at + 60]!r}")
        print(f"    after:  {b[max(0, at - 60):at + 60]!r}")
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="git commit to compare with")
    parser.add_argument("--render", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:
        render(args.render, args.root)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        tree = tmp_path / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--quiet", "--detach",
                        str(tree), args.against], check=True)
        try:
            env = {**os.environ, "PYTHONPATH": str(tree / "coverage")}
            subprocess.run([sys.executable, __file__, "--render", str(tmp_path / "old"),
                            "--root", str(tree)], check=True, env=env)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(tree)], check=True)
        render(tmp_path / "new", ROOT)
        print(f"maps of {args.against} (before) and of this tree (after):")
        sys.exit(0 if compare(tmp_path / "old", tmp_path / "new") else 1)


if __name__ == "__main__":
    main()
