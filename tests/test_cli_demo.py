"""`covplan demo` and the embedded-data aliases, end to end."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from covplan.cli.main import cli
from covplan.datasets import dataset_path


def test_demo_writes_summary_gaps_and_more(runner, tmp_path):
    out = tmp_path / "demo"
    res = runner.invoke(cli, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    # 710 of 777 is documented in data/README.md and checked independently (plain sjoin) in
    # tests/test_data.py
    assert "Districts covered: 710 of 777 (91.38%)" in res.stdout
    data = json.loads((out / "coverage.json").read_text())
    assert data["summary"]["covered"] == 710
    with open(out / "gaps.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 777 - 710
    weights = [float(r["weight"]) for r in rows]
    assert weights == sorted(weights, reverse=True)
    # fewest sites to 95% of districts: ceil(0.95 x 777) = 739 districts, 29 more than 710,
    # and a PIN-code site covers the one district it lies in
    plan = json.loads((out / "plan.json").read_text())
    assert len(plan["sites"]) == 29 and plan["after"]["covered"] == 739
    assert plan["target_reached"] is True
    html = (out / "coverage.html").read_text()
    assert "leaflet" in html.lower() and len(html) < 1_500_000
    offline = (out / "coverage-offline.html").read_text()
    # no script or stylesheet from a CDN (the browser tests block the network to prove it)
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']https?:""", offline)
    assert (out / "coverage.png").read_bytes().startswith(b"\x89PNG")
    # outputs name the inputs as typed (@india), never this machine's install folder
    local = str(dataset_path("india_districts").parent)
    for name in ("coverage.json", "plan.json", "coverage.html", "plan.html"):
        assert local not in (out / name).read_text(encoding="utf-8"), name
    assert data["inputs"]["boundaries"] == "@india"
    # the README's demand figures are the demo's
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r'```json\n("demand": \{.*?\})\n```', readme, flags=re.S)
    assert block is not None
    assert json.loads("{" + block.group(1) + "}")["demand"] == data["demand"]
    assert plan["candidates"]["source"] == "@india-pincodes"
    # a second run refuses to overwrite without --overwrite, and leaves the files alone
    before = (out / "gaps.csv").read_bytes()
    res = runner.invoke(cli, ["demo", "--out", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.stderr
    assert res.stdout == ""  # refused before any work
    assert (out / "gaps.csv").read_bytes() == before


def test_embedded_aliases(runner):
    res = runner.invoke(cli, ["coverage", "@india", "@india-post-ho", "--format", "json", "-q"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    summary = data["summary"]
    assert summary["districts"] == 777 and summary["weight_total"] == 1_210_664_673
    assert (data["inputs"]["boundaries"], data["inputs"]["centers"]) == ("@india",
                                                                         "@india-post-ho")


def test_messages_name_embedded_data_as_typed(runner):
    res = runner.invoke(cli, ["coverage", "@india", "@india-sample", "--lat-col", "nope"])
    assert res.exit_code == 2
    assert res.stderr.startswith("Error: @india-sample: no column 'nope' (given by --lat-col)")


def test_unknown_alias(runner):
    res = runner.invoke(cli, ["coverage", "@mars", "@india-sample"])
    assert res.exit_code == 2
    assert "boundaries '@mars': no such embedded dataset" in res.stderr
