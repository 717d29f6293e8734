"""What-if planner benchmark: one change in the page vs one ``reachplan coverage`` run per change.

Data: the embedded India data (777 districts with state and modelled population, the 2,000
synthetic sample centres with their types), every PIN code (19,416) as demand points and as
candidate sites, radius 30 km (geodesic): 21,416 sites in the page.

* page: ``reachplan map ... --what-if --offline`` built in this process (the build is timed),
  opened in headless Chromium from file:// with every other request refused; open time is
  from navigation start to ``reachplan.ready`` (data inflated, counts made, figures drawn),
  median of --loads;
* a change: ``reachplan.toggle(id)`` of a random site (existing or candidate), which updates
  the counts, the figures box (``summary()``: districts, weight, groups, types, demand points)
  and the districts' colours, then ``gaps()`` (the ranked gap list); median and worst of
  --toggles changes; then 40 sites clicked at random in India's bounding box
  (``reachplan.add``), timed the same way;
* after all of them, ``summary()`` and the order of ``gaps()`` are compared with the CLI's on
  the page's ``exportCsv()``;
* the CLI per change: ``reachplan coverage ... --demand @india-pincodes --format json`` on
  the page's ``exportCsv()``, a fresh process per change as a script would run it (median of
  --runs);
* Planwise (InSTEDD): each change is an HTTP request to its server, which recomputes the
  scenario's coverage in PostGIS/pgRouting and returns the result; not measured here (it needs
  that server stack), stated in words in the table.

Run: ``.venv/bin/python benchmarks/bench_planner.py [--loads 3] [--toggles 300] [--runs 3]``
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
INPUTS = ["@india", "@india-sample", "--group-col", "state", "--weight-col", "population_est",
          "--type-col", "type", "--radius-km", "30"]
DEMAND = ["--demand", "@india-pincodes"]
ADDS = 40  # sites clicked after the toggles


def build(path: Path) -> float:
    from click.testing import CliRunner

    from reachplan.cli.main import cli

    start = time.perf_counter()
    res = CliRunner().invoke(cli, ["map", *INPUTS, *DEMAND, "--what-if", "--offline",
                                   "-o", str(path), "--overwrite", "-q"])
    if res.exit_code != 0:
        sys.exit(res.output)
    return time.perf_counter() - start


def browser_figures(path: Path, loads: int, toggles: int) -> dict:
    from playwright import sync_api

    opens, refused = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(loads):
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                       else (refused.append(r.request.url), r.abort()))
            page.goto(path.as_uri())
            page.wait_for_function("window.reachplan && window.reachplan.ready",
                                   timeout=120_000)
            opens.append(page.evaluate(
                "reachplan.ready.then(() => { if (reachplan.error) throw reachplan.error;"
                " return performance.now(); })"))
            last = page
        times, adds = last.evaluate("""([n, k]) => {
            const r = window.reachplan, sites = r.sites().length, out = [], added = [];
            let seed = 20;
            const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
            for (let i = 0; i < n; i++) {
              const s = Math.floor(rnd() * sites), t0 = performance.now();
              r.toggle(s);
              r.gaps();
              out.push(performance.now() - t0);
            }
            for (let i = 0; i < k; i++) {  // clicks anywhere in India's bounding box
              const t0 = performance.now();
              r.add(8 + rnd() * 26, 69 + rnd() * 27, "clicked " + i);
              r.gaps();
              added.push(performance.now() - t0);
            }
            return [out, added]; }""", [toggles, ADDS])
        csv_text = last.evaluate("reachplan.exportCsv()")
        summary = last.evaluate("reachplan.summary()")
        gaps = [g["id"] for g in last.evaluate("reachplan.gaps()")]
        browser.close()
    return {"opens": opens, "toggles": times, "adds": adds, "csv": csv_text,
            "refused": refused, "summary": summary, "gaps": gaps}


def cli_per_change(csv_text: str, runs: int, folder: Path) -> tuple[list[float], dict]:
    """Seconds of each ``reachplan coverage`` run on the page's open sites, and its JSON."""
    sites = folder / "open.csv"
    sites.write_text(csv_text, encoding="utf-8")
    exe = Path(sys.executable).with_name("reachplan")
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([str(exe), "coverage", "@india", str(sites), *INPUTS[2:],
                               *DEMAND, "--format", "json", "-q"], check=True,
                              capture_output=True, text=True)
        out.append(time.perf_counter() - start)
    gaps = subprocess.run([str(exe), "gaps", "@india", str(sites), *INPUTS[2:], "-o", "-",
                           "-q"], check=True, capture_output=True, text=True)
    answer = json.loads(done.stdout)
    answer["gap_ids"] = [row["id"] for row in csv.DictReader(io.StringIO(gaps.stdout))]
    return out, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--toggles", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.access(CHROMIUM, os.X_OK):
        sys.exit(f"{CHROMIUM} is missing: install Debian's chromium")
    random.seed(20)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        page = folder / "what-if.html"
        built = build(page)
        size = page.stat().st_size
        got = browser_figures(page, args.loads, args.toggles)
        cli, answer = cli_per_change(got["csv"], args.runs, folder)
    same = all(got["summary"].get(k) == answer.get(k)
               for k in ("summary", "rule", "cost", "groups", "types", "demand")) \
        and got["gaps"] == answer["gap_ids"]
    toggles = sorted(got["toggles"])
    print(f"India, radius 30 km: 777 districts, 19,416 demand points, 2,000 sites + 19,416 "
          f"candidates; load average {Path('/proc/loadavg').read_text().split()[0]}")
    print(f"page: {size / 1e6:.2f} MB, built in {built:.1f} s; requests refused "
          f"(an --offline page makes none): {len(got['refused'])}; after the changes, "
          f"summary() and gaps() equal the CLI's on exportCsv(): {'yes' if same else 'NO'}")
    print()
    print("| one change | reachplan what-if page | reachplan coverage per change (CLI) | "
          "Planwise (server) |")
    print("|---|---|---|---|")
    print(f"| open | {statistics.median(got['opens']) / 1000:.2f} s (median of {args.loads}) "
          "| – | a server with PostGIS, pgRouting and Mapserver |")
    print(f"| toggle a site, every figure and the gap list | "
          f"{statistics.median(toggles):.1f} ms median, {toggles[-1]:.1f} ms worst "
          f"({len(toggles)} changes) | {statistics.median(cli):.1f} s (median of {args.runs}) "
          "| a round trip to the server, which recomputes the scenario |")
    adds = sorted(got["adds"])
    print(f"| add a site by click (geodesic, GeographicLib), every figure and the gap list | "
          f"{statistics.median(adds):.1f} ms median, {adds[-1]:.1f} ms worst ({len(adds)} "
          "sites) | the same run per change | the same round trip |")


if __name__ == "__main__":
    main()
