"""Runs reachplan's QGIS algorithms headless through ``processing.run``, for tests/test_qgis.py.

Run by the Python QGIS is built for (Debian's python3, in a venv with reachplan installed):
``python _qgis_driver.py JOBS.json RESULTS.json``. JOBS holds the plugin's folder and named
runs: ``{"alg": "reachplan:coverage", "params": {...}}``, where a parameter given as
``{"path": ..., "xy": ["longitude", "latitude"]}`` is a layer (a CSV of points with those
columns; without ``xy`` any file OGR reads), ``"cancel": true`` presses Cancel before the
run, ``"cancel_at": P`` when the run reports P % done. RESULTS holds each run's outputs
(or its error), the progress it reported, the provider's state, and which GEOS, PROJ and
GDAL libraries the process loaded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _layer(spec: dict[str, Any]) -> str:
    """A layer as qgis_process takes it: a file, or ``delimitedtext://`` and its URI (strings,
    not layer objects: a Python-owned layer outliving QGIS crashes the interpreter's exit)."""
    path = spec["path"]
    if "xy" not in spec:
        return path
    x, y = spec["xy"]
    return f"delimitedtext://file://{path}?type=csv&xField={x}&yField={y}&crs=EPSG:4326"


def _plain(value: Any) -> Any:
    return value if isinstance(value, (bool, int, float, str, type(None))) else str(value)


def _loaded_libraries() -> list[str]:
    maps = Path("/proc/self/maps").read_text().splitlines()
    names = {line.split()[-1] for line in maps if line.count(" ") >= 5}
    return sorted(n for n in names if any(k in Path(n).name for k in ("gdal", "proj", "geos"))
                  and ".so" in n and "cpython" not in n)


def main(jobs_path: str, out_path: str) -> None:
    jobs = json.loads(Path(jobs_path).read_text())
    from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append(jobs["processing"])  # QGIS's own Python plugins (processing)
    sys.path.insert(0, jobs["plugins"])
    from processing.core.Processing import Processing

    Processing.initialize()
    import processing
    from reachplan_qgis.provider import ReachplanProvider
    from reachplan_qgis.requirements import load

    provider = ReachplanProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    out: dict[str, Any] = {"algorithms": sorted(a.id() for a in provider.algorithms()),
                           "active": provider.canBeActivated(), "runs": {}}

    class Recorder(QgsProcessingFeedback):
        def __init__(self, cancel_at: float | None) -> None:
            super().__init__()
            self.steps: list[float] = []
            self.warnings: list[str] = []
            self.cancel_at = cancel_at
            self.progressChanged.connect(self.record)

        def record(self, percent: float) -> None:
            self.steps.append(percent)
            if self.cancel_at is not None and percent >= self.cancel_at:
                self.cancel()  # as a user pressing Cancel while the algorithm runs

        def pushWarning(self, text: str) -> None:  # noqa: N802 (QGIS's name)
            self.warnings.append(text)

    for key, job in jobs["runs"].items():
        params = {k: _layer(v) if isinstance(v, dict) else v for k, v in job["params"].items()}
        feedback = Recorder(job.get("cancel_at"))
        if job.get("cancel"):
            feedback.cancel()
        run: dict[str, Any] = {}
        try:
            results = processing.run(job["alg"], params, feedback=feedback)
            run["results"] = {k: _plain(v) for k, v in results.items()}
        except QgsProcessingException as exc:
            run["error"] = str(exc).strip().splitlines()[-1]
        run["progress"], run["warnings"] = feedback.steps, feedback.warnings
        out["runs"][key] = run
    out["wheels"] = load()
    out["libraries"] = _loaded_libraries()
    Path(out_path).write_text(json.dumps(out, indent=1))
    app.exitQgis()


if __name__ == "__main__":
    main(*sys.argv[1:])
