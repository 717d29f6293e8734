"""What-if panel benchmark: one change as the planner sees it, the panel redrawn, in Chromium.

Data: the page of ``bench_planner.py`` (India, radius 30 km, PIN codes as demand points and
as candidates: 21,416 sites). A change is ``reachplan.toggle(id)`` of a random site; the
panel (reachplan-planner-ui.js and its parts) redraws in the API's change listener, so the
time of the call is the time until every figure on the screen is the new one. Three ways:

* API only: the counts and ``summary()``, no listener (the floor);
* the page as it opens: the panel's figures (and the legend, layer names, district colours);
* every section open: also the gap list, the site list and the scenario table.

Before the panel redrew only what a change altered (commit 469417e), every section open
cost 35 ms median per change at a load of 8 (the site rows and tables made again, and a
forced layout each time); the table in docs/benchmarks.md puts that beside these figures.

Run: ``.venv/bin/python benchmarks/bench_planner_panel.py [--toggles 300]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_planner import ARGS, CHROMIUM, build  # noqa: E402

TOGGLES = """([n, mode]) => {
    const r = window.reachplan, I = r._internal, sites = I.nSites(), out = [];
    const sections = [...document.querySelectorAll('.cp-pl-section')];
    sections.forEach(d => { d.open = mode !== "closed"; });
    let seed = 20;
    for (let i = 0; i < n; i++) {
      seed = (seed * 16807) % 2147483647;
      const s = seed % sites, t0 = performance.now();
      if (mode === "api") { I.apply(s, I.isOpen(s) ? -1 : 1); I.open[s] ^= 1; r.summary(); }
      else r.toggle(s);
      out.push(performance.now() - t0);
    }
    return out; }"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--toggles", type=int, default=300)
    args = parser.parse_args()
    from playwright import sync_api

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "india.html"
        seconds = build(path)
        rows = {}
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for mode in ("api", "closed", "open"):
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                    "file:") else r.abort())
                page.goto(path.as_uri())
                page.wait_for_function("window.reachplan && window.reachplan.ready",
                                       timeout=120_000)
                page.evaluate("reachplan.ready.then(() => 1)")
                page.wait_for_timeout(1000)
                rows[mode] = page.evaluate(TOGGLES, [args.toggles, mode])
                page.close()
            browser.close()
    names = {"api": "API only (counts + summary(), no panel)",
             "closed": "panel as the page opens (figures)",
             "open": "panel, every section open (redraws what changed)"}
    print(f"India what-if page built in {seconds:.0f} s; {args.toggles} random toggles each; "
          f"load average {load:.1f} -> {os.getloadavg()[0]:.1f} (shared machine)")
    print(f"| {'one change':<52} | median ms | worst ms |")
    print(f"|{'-' * 54}|-----------|----------|")
    for mode, times in rows.items():
        print(f"| {names[mode]:<52} | {statistics.median(times):9.1f} | {max(times):8.1f} |")


if __name__ == "__main__":
    main()
