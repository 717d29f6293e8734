"""`reachplan access --roads --travel-minutes` (issue 18.6: access had no --roads), on tiny.osm.

Hand figures (tests/fixtures/roads/README.md; L = 1113.195 m, car, T = 6 min): centre "west"
on vertex 1 (supply 1), "hub" on vertex 4 (supply 5). Demand p1 on vertex 2 (3): west reaches
it in L at 60 km/h = 1.113 min, the hub cannot (3 -> 2 is one-way the other way); p2 on
vertex 5 (2): the hub reaches it by motorway in L at 100 km/h = 0.668 min, west cannot (4 -> 3
only); p4 on vertex 4 (1): the hub at 0 min; p3 on the island (4): nobody.

2SFCA: west 1 / 3, hub 5 / (2 + 1): p1 0.3333, p2 and p4 1.6667, p3 0.
E2SFCA --bands 0.5:1,6:0.5 (minutes): p1 and p2 weigh 0.5, p4 1. West 1 / (3 x 0.5) = 0.6667,
p1 0.5 x 0.6667 = 0.3333; hub 5 / (2 x 0.5 + 1) = 2.5: p2 0.5 x 2.5 = 1.25, p4 2.5.
"""

from __future__ import annotations

import csv
import io

import pytest

from reachplan.cli.main import cli

TINY = "tests/fixtures/roads/tiny.osm"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "c.csv").write_text("name,lat,lon,cap\nwest,0,0,1\nhub,0,0.03,5\n")
    (tmp_path / "p.csv").write_text("pid,lat,lon,req\np1,0,0.01,3\np2,0,0.04,2\np3,0,0.5,4\n"
                                    "p4,0,0.03,1\n")
    return tmp_path


def _run(runner, files, *extra):
    return runner.invoke(cli, ["access", str(files / "c.csv"), "--capacity-col", "cap",
                               "--demand", str(files / "p.csv"), "--demand-weight-col", "req",
                               "--demand-id-col", "pid", "--roads", TINY, "--travel-minutes",
                               "6", *extra, "-o", "-", "-q"])


def _acc(res) -> dict[str, float]:
    assert res.exit_code == 0, res.output
    return {r["id"]: round(float(r["accessibility"]), 4)
            for r in csv.DictReader(io.StringIO(res.stdout))}


def test_2sfca_by_road(runner, files):
    assert _acc(_run(runner, files)) == {"p1": 0.3333, "p2": 1.6667, "p3": 0.0, "p4": 1.6667}


def test_e2sfca_bands_in_minutes_by_road(runner, files):
    got = _acc(_run(runner, files, "--method", "e2sfca", "--bands", "0.5:1,6:0.5"))
    assert got == {"p1": 0.3333, "p2": 1.25, "p3": 0.0, "p4": 2.5}


@pytest.mark.parametrize(("extra", "words"), [
    (["--sigma-km", "3"], "--sigma-km is a decay by distance"),
    (["--method", "gravity", "--alpha", "-1"], "--alpha is a decay by distance"),
    (["--bands", "1:1,9:0.5"], "beyond --travel-minutes 6"),
    (["--radius-km", "5"], "not both")])
def test_distance_options_are_refused_by_road(runner, files, extra, words):
    res = _run(runner, files, *extra)
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output


def test_a_catchment_is_needed(runner, files):
    res = runner.invoke(cli, ["access", str(files / "c.csv"), "--capacity-col", "cap",
                              "--demand", str(files / "p.csv"), "-o", "-"])
    assert res.exit_code == 2 and "--radius-km KM, or --roads FILE --travel-minutes T" in \
        res.output
    res = runner.invoke(cli, ["access", str(files / "c.csv"), "--capacity-col", "cap",
                              "--demand", str(files / "p.csv"), "--roads", TINY, "-o", "-"])
    assert res.exit_code == 2 and "go together" in res.output
