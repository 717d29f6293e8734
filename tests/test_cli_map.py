"""``reachplan map`` on the 3x3 map fixture (tests/fixtures/maps; see tests/test_maps.py)."""

from __future__ import annotations

from pathlib import Path

from reachplan.cli.main import cli

HERE = Path(__file__).parent / "fixtures" / "maps"
INPUTS = [str(HERE / "grid.geojson"), str(HERE / "centres.csv"), "--id-col", "code",
          "--name-col", "district", "--group-col", "state"]


def test_map_writes_html_and_png(runner, tmp_path):
    out, png = tmp_path / "map.html", tmp_path / "map.png"
    res = runner.invoke(cli, ["map", *INPUTS, "-o", str(out), "--png", str(png),
                              "--title", "Grid", "--offline"])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "<title>Grid</title>" in page and "Districts: coverage" in page
    assert "<img src=x" not in page
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_map_refuses_an_existing_output_without_overwrite(runner, tmp_path):
    out, png = tmp_path / "map.html", tmp_path / "map.png"
    png.write_bytes(b"keep")
    res = runner.invoke(cli, ["map", *INPUTS, "-o", str(out), "--png", str(png)])
    assert res.exit_code == 2
    assert "map.png" in res.output and "--overwrite" in res.output
    assert not out.exists() and png.read_bytes() == b"keep"  # no partial output
    res = runner.invoke(cli, ["map", *INPUTS, "-o", str(out), "--png", str(png), "--overwrite"])
    assert res.exit_code == 0, res.output
    assert png.read_bytes() != b"keep"


def test_map_option_errors_are_one_line_exit_2(runner, tmp_path):
    out = str(tmp_path / "map.html")
    res = runner.invoke(cli, ["map", *INPUTS, "-o", out, "--color-by", "per-weight"])
    assert res.exit_code == 2 and "--weight-col" in res.output
    res = runner.invoke(cli, ["map", *INPUTS, "-o", out, "--show-radius"])
    assert res.exit_code == 2 and "--radius-km" in res.output
    res = runner.invoke(cli, ["map", *INPUTS, "-o", out, "--simplify-m", "-5"])
    assert res.exit_code == 2 and "--simplify-m" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "map.html").exists()


def test_map_creates_the_output_folder(runner, tmp_path):
    # the README's quick start writes -o maps/coverage.html into a folder not yet there
    out = tmp_path / "maps" / "coverage.html"
    res = runner.invoke(cli, ["map", *INPUTS, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_map_radius_rings_and_colour_by_centres(runner, tmp_path):
    out = tmp_path / "map.html"
    res = runner.invoke(cli, ["map", *INPUTS, "-o", str(out), "--radius-km", "25",
                              "--show-radius", "--color-by", "centers"])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "Radius 25 km" in page and "Districts: centres inside" in page


def test_map_to_stdout_writes_no_file_named_dash(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["map", *INPUTS, "-o", "-", "--offline", "-q"])
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith("<!DOCTYPE html>") and "reachplanMap(" in res.stdout
    assert list(tmp_path.iterdir()) == []


def test_png_size_and_dpi_options(runner, tmp_path):
    out, png = tmp_path / "map.html", tmp_path / "map.png"
    res = runner.invoke(cli, ["map", *INPUTS, "-o", str(out), "--png", str(png),
                              "--png-size", "640x480", "--png-dpi", "80"])
    assert res.exit_code == 0, res.output
    data = png.read_bytes()
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (640, 480)
    res = runner.invoke(cli, ["map", *INPUTS, "-o", str(out), "--png", str(png), "--overwrite",
                              "--png-size", "640by480"])
    assert res.exit_code == 2 and "--png-size" in res.output


def test_a_failing_png_leaves_no_html(runner, tmp_path, monkeypatch):
    from reachplan.errors import ReachplanError
    from reachplan.maps import png as png_module

    def fail(*args, **kwargs):
        raise ReachplanError("the picture failed")

    monkeypatch.setattr(png_module, "png_bytes", fail)
    out, png = tmp_path / "map.html", tmp_path / "map.png"
    res = runner.invoke(cli, ["map", *INPUTS, "-o", str(out), "--png", str(png)])
    assert res.exit_code == 2 and "the picture failed" in res.output
    assert list(tmp_path.iterdir()) == []


def test_plan_map_offline(runner, tmp_path):
    plan_dir = Path(__file__).parent / "fixtures" / "planning"
    page = tmp_path / "plan.html"
    args = ["plan", str(plan_dir / "districts.geojson"), str(plan_dir / "centres.csv"),
            "--radius-km", "120", "--add", "1", "--candidates",
            str(plan_dir / "candidates.csv"), "--map", str(page)]
    res = runner.invoke(cli, [*args, "--offline"])
    assert res.exit_code == 0, res.output
    html = page.read_text(encoding="utf-8")
    assert "L.markerClusterGroup" in html and "cdn.jsdelivr" not in html
    res = runner.invoke(cli, [*args[:-2], "--offline"])
    assert res.exit_code == 2 and "--map" in res.output


def test_capacity_map_colours_served_and_utilisation(runner, cap, tmp_path):
    """fixtures/capacity README (--demand-rate 0.1, presence): 001 fully served, 009 10 of 90
    (11.1 %), the rest 0 %; A 33.3 % used, B full."""
    import json
    import re

    out = tmp_path / "m.html"
    res = runner.invoke(cli, ["map", cap["districts"], cap["centres"], "--capacity-col", "cap",
                              "--weight-col", "pop", "--demand-rate", "0.1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="[^"]+">\n(.*?)</script>', page,
                      re.S)
    payload = json.loads(block.group(1))
    assert payload["heading"] == "Demand served within capacity"
    labels = [c["label"] for c in payload["classes"]]
    assert labels == ["under 50%", "50% to under 90%", "90% to under 100%", "100%",
                      "no demand"]
    by_id = dict(zip(payload["districts"]["id"], payload["districts"]["colour_class"],
                     strict=True))
    assert by_id["001"] == 3 and by_id["009"] == 0 and by_id["005"] == 0
    centres = payload["centres"]
    assert [t["label"] for t in centres["types"]] == [
        "under 50% used", "50% to under 90% used", "90% to under 100% used", "full"]
    assert centres["type"] == [0, 3]  # A 33 %, B full
    assert "utilisation_pct" in centres["columns"]


def test_served_colour_needs_capacity(runner, cap, tmp_path):
    res = runner.invoke(cli, ["map", cap["districts"], cap["centres"], "--color-by", "served",
                              "-o", str(tmp_path / "m.html")])
    assert res.exit_code == 2
    assert "--color-by served needs" in res.stderr and "--capacity-col" in res.stderr
