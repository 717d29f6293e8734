"""Benchmark: capacity and "suggest the next site" in the what-if page, in Chromium (issue 20).

Instance (a model, not real loads): India's 777 districts, the 2,000 sample centres with a
capacity by type (CAPACITY_MODEL, a quarter of benchmarks/bench_capacity.py's, so capacity
binds in many places), the 19,416 PIN codes as demand points (1 each) and as candidate sites
(the default of @india, CANDIDATE_CAPACITY each), a 30 km radius:

    reachplan map @india centres.csv --radius-km 30 --what-if --offline --type-col type \\
        --demand @india-pincodes --capacity-col cap --candidate-capacity 20

Rows, in headless Chromium (/usr/bin/chromium), medians over --repeat changes:
- the first allocation (every open site's pairs measured with geographiclib, then solved);
- a re-allocation after a toggle (an open centre closed, or a candidate opened): from
  toggle() to reachplan.capacity() resolving, the worker's solve inside (the page stays
  responsive meanwhile: the main thread only gathers the open sites' pairs);
- the same with every candidate open (21,416 sites; the hardest case: 925,907 pairs);
- suggest() on the scenario (every closed site's gain).
The CLI's reference: reachplan.capacity.allocate (OR-Tools min-cost flow after the exact
component reduction) on the same pairs, and the served totals compared.

Targets: re-solve <= 1 s; suggest well under the 50 ms of a toggle's figures.

Run: .venv/bin/python benchmarks/bench_planner_capacity.py [--repeat 15] [--page FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CAPACITY_MODEL = {"premium": 50, "direct": 15, "partner": 7, "van": 3}  # a model
CANDIDATE_CAPACITY = 20
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

TIMED = """async ([sites, on]) => {
  const out = [];
  for (const s of sites) {
    const t = performance.now();
    reachplan.toggle(s, on);
    const r = await reachplan.capacity();
    out.push([performance.now() - t, r.served, r.ms]);
  }
  return out;
}"""


def _page(folder: Path) -> Path:
    from reachplan.cli.main import cli

    centres = pd.read_csv(ROOT / "coverage/reachplan/_data/india_sample_centres.csv")
    centres["cap"] = centres["type"].map(CAPACITY_MODEL).astype(int)
    centres.to_csv(folder / "centres.csv", index=False)
    out = folder / "india-capacity.html"
    try:
        cli(["map", "@india", str(folder / "centres.csv"), "--radius-km", "30", "--what-if",
             "--offline", "--type-col", "type", "--demand", "@india-pincodes",
             "--capacity-col", "cap", "--candidate-capacity", str(CANDIDATE_CAPACITY),
             "-o", str(out), "--overwrite"], standalone_mode=False)
    except SystemExit as exc:  # pragma: no cover - click's exit
        if exc.code:
            raise
    return out


def _cli_served(page) -> tuple[float, float]:
    """The CLI's optimum on the page's open sites (its own pairs): served, seconds."""
    from reachplan.capacity import allocate, radius_pairs

    sites = page.evaluate("() => reachplan.sites().filter(s => s.open)"
                          ".map(s => [s.id, s.lat, s.lon])")
    cap = page.evaluate("ids => ids.map(s => reachplan._internal.capacityOf(s))",
                        [s[0] for s in sites])
    pins = pd.read_csv(ROOT / "coverage/reachplan/_data/india_pincodes.csv")
    lat, lon = np.array([s[1] for s in sites]), np.array([s[2] for s in sites])
    di, ci, k = radius_pairs(pins["lat"].to_numpy(), pins["lon"].to_numpy(), lat, lon,
                             30_000.0)
    t = time.perf_counter()
    alloc = allocate(di, ci, k, np.ones(len(pins)), np.asarray(cap, dtype=float))
    return alloc.total_served, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--page", type=Path, default=None,
                        help="a page made before with the command above (else made now)")
    opts = parser.parse_args()
    from playwright import sync_api

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = opts.page or _page(Path(tmp))
        built = time.perf_counter() - t
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page()
            t = time.perf_counter()
            page.goto(path.as_uri())
            page.wait_for_function("window.reachplan && window.reachplan.ready", timeout=60_000)
            page.evaluate("() => reachplan.ready.then(() => true)")
            first = page.evaluate("""async () => { const t = performance.now();
                const r = await reachplan.capacity(); return [performance.now() - t, r.ms]; }""")
            opened = time.perf_counter() - t
            sites = page.evaluate("() => reachplan.sites().map(s => s.candidate)")
            rng = np.random.default_rng(20)
            centres = [i for i, c in enumerate(sites) if not c]
            cands = [i for i, c in enumerate(sites) if c]
            picks = [int(s) for s in rng.choice(centres, opts.repeat, replace=False)]
            close = page.evaluate(TIMED, [picks, False])
            reopen = page.evaluate(TIMED, [picks, True])
            extra = [int(s) for s in rng.choice(cands, opts.repeat, replace=False)]
            cand = page.evaluate(TIMED, [extra, True])
            served_page = cand[-1][1]
            served_cli, cli_s = _cli_served(page)
            sugg = page.evaluate("""() => { const out = [];
                for (let i = 0; i < 9; i++) { const t = performance.now();
                  reachplan.suggest(); out.push(performance.now() - t); } return out; }""")
            page.evaluate("""() => { const n = reachplan.sites().length;
                for (let s = 0; s < n; s++) reachplan.toggle(s, true); }""")
            full = page.evaluate(TIMED, [picks[:5], False])
            browser.close()
    size_mb = path.stat().st_size / 1e6 if opts.page else float("nan")
    med = statistics.median

    def ms(rows):
        return f"{med(r[0] for r in rows):8.1f} ms (worst {max(r[0] for r in rows):.1f})"
    print(f"page: {size_mb:.2f} MB, built in {built:.1f} s, opened + first allocation "
          f"{opened:.2f} s; load {os.getloadavg()[0]:.2f} (2 cores, shared)")
    print(f"{'':44s} {'reachplan page (Chromium)':>32s}")
    print(f"{'first allocation (measure + solve)':44s} {first[0]:8.1f} ms (worker {first[1]} ms)")
    print(f"{'re-allocate: close a centre':44s} {ms(close)}")
    print(f"{'re-allocate: reopen it':44s} {ms(reopen)}")
    print(f"{'re-allocate: open a candidate':44s} {ms(cand)}")
    print(f"{'re-allocate: all 21,416 sites open':44s} {ms(full)}")
    print(f"{'suggest() (every closed site)':44s} {med(sugg):8.1f} ms (worst {max(sugg):.1f})")
    print(f"CLI reference (allocate, OR-Tools): {cli_s * 1000:.0f} ms; served page "
          f"{served_page} = CLI {served_cli:g}: {served_page == served_cli}")


if __name__ == "__main__":
    main()
