"""Coverage by hour of the week (issue 23) on the 3x3 grid (tests/fixtures/grid/README.md).

Presence rule: C1 reaches 001; C2 005; C3 002 and 003; C4 004, 005, 007 and 008; C5 nothing.
Every expected figure below is worked out by hand from the hours given to each centre."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reachplan import hours as H
from reachplan.cli.main import cli
from reachplan.engine import assess
from reachplan.io import read_boundaries, read_points
from reachplan.rules import Rule

HEADER = "id,name,type,latitude,longitude,hours\n"
ROWS = ["C1,Inside 001,direct,0.5,0.5,Mo-Fr 09:00-17:00",
        "C2,Centre of 005,direct,1.5,1.5,Mo-Su 08:00-23:00; PH off",
        "C3,Edge 002|003,partner,0.5,2.0,",  # no hours: always open
        "C4,Corner 004|005|007|008,partner,2.0,1.0,Sa 10:00-14:00",
        "C5,East of the grid,direct,1.5,4.0,24/7"]
# the week of India's Republic Day: Monday 25 January 2027; Tuesday 26 is the holiday
WEEK = date(2027, 1, 27)


@pytest.fixture
def sites(tmp_path):
    path = tmp_path / "centres.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n")
    return path


@pytest.fixture
def districts(grid):
    return read_boundaries(grid[0], weight_col="pop", group_col="zone")


def _hour(day: int, hour: int) -> int:
    return 24 * day + hour


def test_the_week_by_hand(districts, sites):
    points, site_hours = H.read_hours(read_points(sites), "hours", country="IN")
    assert site_hours.without_hours == 1
    week = H.week_profile(districts, points, Rule.presence(), site_hours, week_of=WEEK)
    assert week.start == datetime(2027, 1, 25)
    covered = week.hours["covered"].to_numpy()
    # always: 002 and 003 (C3, no hours); C5 reaches nothing
    assert covered[_hour(6, 3)] == 2  # Sunday 03:00
    assert covered[_hour(0, 8)] == 3  # Monday 08:00: + 005 (C2)
    assert covered[_hour(0, 10)] == 4  # Monday 10:00: + 001 (C1)
    assert covered[_hour(0, 17)] == 3  # C1 closes at 17:00
    assert covered[_hour(0, 23)] == 2  # C2 closes at 23:00
    assert covered[_hour(1, 10)] == 3  # Republic Day: C2 is off (PH off), C1 open
    assert covered[_hour(5, 11)] == 6  # Saturday 11:00: C4 adds 004, 005, 007, 008; no C1
    assert covered[_hour(5, 14)] == 3  # C4 closes at 14:00
    by_id = dict(zip(week.districts["id"], week.districts["hours_covered"], strict=True))
    # 001: 8 h x 5 days; 005: 15 h x 6 days (not on the holiday; C4's hours overlap C2's)
    assert by_id == {"001": 40, "002": 168, "003": 168, "004": 4, "005": 90, "006": 0,
                     "007": 4, "008": 4, "009": 0}
    worst = week.worst(1).iloc[0]
    assert (worst["day"], worst["hour"], worst["covered"]) == ("Mo", 0, 2)
    # weight: 002 + 003 = 500 of 4500
    assert week.hours["weight_percent"].iloc[0] == pytest.approx(11.11)
    # by zone, Monday 10:00: South 001, 002, 003 (3 of 3); Middle 005 (1 of 3); North none
    monday = week.groups[week.groups["start"] == "2027-01-25 10:00"].set_index("group")
    assert monday["covered"].to_dict() == {"Middle": 1, "North": 0, "South": 3}
    assert monday.loc["Middle", "percent"] == pytest.approx(33.33)


def test_by_centre_type(districts, sites):
    points, site_hours = H.read_hours(read_points(sites), "hours", country="IN")
    week = H.week_profile(districts, points, Rule.presence(), site_hours, week_of=WEEK,
                          type_col="type")
    saturday = week.hours.iloc[_hour(5, 11)]
    # direct alone: C2 (005), C5 (nothing) -> 1 of 9; partner: C3 and C4 -> 6 of 9
    assert saturday["percent_direct"] == pytest.approx(11.11)
    assert saturday["percent_partner"] == pytest.approx(66.67)


def test_without_a_country_no_day_is_a_holiday(districts, sites):
    points, site_hours = H.read_hours(read_points(sites), "hours")
    week = H.week_profile(districts, points, Rule.presence(), site_hours, week_of=WEEK)
    assert week.hours["covered"].iloc[_hour(1, 10)] == 4
    assert week.districts.set_index("id").loc["005", "hours_covered"] == 105  # 15 h x 7


def test_dst_ends_in_paris_and_the_week_is_read_in_utc(districts, tmp_path):
    # C2 in Paris, open 08:00-20:00 local; the week of Sunday 25 October 2026, when Paris
    # goes from UTC+2 to UTC+1 at 01:00 UTC. Read in UTC: Mon-Sat 06:00-17:00 UTC hours,
    # Sunday 07:00-18:00.
    path = tmp_path / "paris.csv"
    path.write_text("id,latitude,longitude,hours,tz\n"
                    "C2,1.5,1.5,Mo-Su 08:00-20:00,Europe/Paris\n")
    points, site_hours = H.read_hours(read_points(path), "hours", tz="UTC")
    week = H.week_profile(districts, points, Rule.presence(), site_hours,
                          week_of=date(2026, 10, 25))
    open_hours = week.covered[:, 4]  # district 005
    assert [h for h in range(24) if open_hours[_hour(5, h)]] == list(range(6, 18))
    assert [h for h in range(24) if open_hours[_hour(6, h)]] == list(range(7, 19))
    assert int(open_hours.sum()) == 12 * 7
    # without --tz the same site is read in its own wall time: 08:00-19:00 hours every day
    _, local = H.read_hours(read_points(path), "hours")
    week = H.week_profile(districts, points, Rule.presence(), local, week_of=date(2026, 10, 25))
    assert [h for h in range(24) if week.covered[_hour(6, h), 4]] == list(range(8, 20))


def test_at_a_moment_on_the_command_line(runner, grid, sites):
    args = ["coverage", grid[0], str(sites), "--hours-col", "hours", "--format", "json"]
    res = runner.invoke(cli, [*args, "--at", "2027-01-26 10:00", "--country", "IN"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)["summary"]
    assert (summary["covered"], summary["districts"]) == (3, 9)  # 001, 002, 003
    res = runner.invoke(cli, [*args, "--at", "Sa 11:00", "--week-of", str(WEEK)])
    assert json.loads(res.stdout)["summary"]["covered"] == 6
    assert "4 of 5 site(s) with opening hours; 1 without (always open)" in res.stderr
    assert "at 2027-01-30 11:00 (Sat): 4 of 5 centre(s) open" in res.stderr
    res = runner.invoke(cli, ["gaps", grid[0], str(sites), "--hours-col", "hours",
                              "--at", "Su 03:00", "--week-of", str(WEEK)])
    assert res.exit_code == 0
    # open: C3 (no hours) and C5 (24/7, reaches nothing): every district but 002 and 003
    assert sorted(line.split()[1] for line in res.stdout.splitlines()[1:]) == [
        "001", "004", "005", "006", "007", "008", "009"]


def test_week_outputs(runner, grid, sites, tmp_path):
    png, out = tmp_path / "week.png", tmp_path / "week.json"
    res = runner.invoke(cli, ["coverage", grid[0], str(sites), "--hours-col", "hours",
                              "--week", "--week-of", str(WEEK), "--country", "IN",
                              "--heatmap", str(png), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(out.read_text())
    assert data["week_start"] == "2027-01-25" and len(data["hours"]) == 168
    assert data["without_hours"] == 1
    assert data["worst"][0]["start"] == "2027-01-25 00:00"
    res = runner.invoke(cli, ["coverage", grid[0], str(sites), "--hours-col", "hours",
                              "--week", "--week-of", str(WEEK), "--format", "csv"])
    lines = res.stdout.splitlines()
    assert len(lines) == 169 and lines[0].startswith("start,day,hour,covered,districts")
    res = runner.invoke(cli, ["coverage", grid[0], str(sites), "--hours-col", "hours",
                              "--week", "--week-of", str(WEEK)])
    assert "Worst hours:" in res.stdout
    assert "Sa 11:00" not in res.stdout.split("Worst hours:")[1]
    xlsx = tmp_path / "week.xlsx"
    res = runner.invoke(cli, ["coverage", grid[0], str(sites), "--hours-col", "hours",
                              "--week", "--week-of", str(WEEK), "-o", str(xlsx)])
    assert res.exit_code == 0, res.output
    import openpyxl

    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet.max_row == 169 and sheet.cell(1, 1).value == "start"
    for extra in (["--capacity-col", "cap"], ["--at", "Mo 10:00"]):
        res = runner.invoke(cli, ["coverage", grid[0], str(sites), "--hours-col", "hours",
                                  "--week", *extra])
        assert res.exit_code == 2 and "--week" in res.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("strict", [True, False])
def test_a_value_that_does_not_parse(runner, grid, tmp_path, strict):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n".join([*ROWS[:4], "C5,East,direct,1.5,4.0,Mo-Fx 25:00"]) + "\n")
    args = ["coverage", grid[0], str(path), "--hours-col", "hours", "--at", "Mo 10:00",
            "--week-of", str(WEEK)]
    res = runner.invoke(cli, [*args, "--strict"] if strict else args)
    if strict:
        assert res.exit_code == 2 and res.stdout == ""
        last = res.stderr.strip().splitlines()[-1]
        assert last.startswith(f"Error: {path}: line 6: hours 'Mo-Fx 25:00' is not OSM "
                               "opening_hours (")
        assert last.endswith("fix it, or drop --strict to skip such rows")
        assert "Traceback" not in res.stderr
    else:
        assert res.exit_code == 0
        assert (f"warning: {path}: skipped 1 centre row(s) whose hours is not OSM "
                "opening_hours (line 6)") in res.stderr


def test_bad_options_are_one_line(runner, grid, sites):
    for extra, message in [
            (["--at", "Mo 10:00"], "--at WHEN needs --hours-col COL"),
            (["--hours-col", "hours", "--at", "tomorrow"], "--at tomorrow: give a date"),
            (["--hours-col", "hours", "--at", "Mo 10:00", "--tz", "Mars/Base"],
             "--tz Mars/Base: not a time zone"),
            (["--hours-col", "hours", "--at", "Mo 10:00", "--country", "XX"],
             "--country XX: no holiday calendar"),
            (["--hours-col", "opening"], "no column 'opening' (given by --hours-col)")]:
        res = runner.invoke(cli, ["coverage", grid[0], str(sites), *extra])
        assert res.exit_code == 2, (extra, res.output)
        assert message in res.stderr.strip().splitlines()[-1], res.stderr


def test_missing_extra_is_one_line(grid, sites):
    hide = ("import sys\n"
            "class Hide:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('opening_hours', 'holidays'):\n"
            "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
            "sys.meta_path.insert(0, Hide())\n"
            "from reachplan.cli.main import cli\n"
            "cli()\n")
    res = subprocess.run([sys.executable, "-c", hide, "coverage", grid[0], str(sites),
                          "--hours-col", "hours", "--at", "Mo 10:00"],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1] == (
        "Error: --hours-col needs the hours extra: pip install 'reachplan[hours]'")


# ----------------------------------------------------------------- property: hour = moment
GRID = Path(__file__).parent / "fixtures" / "grid"
DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]


@st.composite
def expressions(draw):
    """OSM opening_hours strings: 24/7, off, or rules of weekday ranges and time spans,
    optionally a day off."""
    kind = draw(st.sampled_from(["24/7", "off", "rules", "rules", "rules"]))
    if kind != "rules":
        return kind
    rules = []
    for _ in range(draw(st.integers(1, 2))):
        a = draw(st.integers(0, 6))
        b = draw(st.integers(a, 6))
        days = DAYS[a] if a == b else f"{DAYS[a]}-{DAYS[b]}"
        start = draw(st.integers(0, 22))
        end = draw(st.integers(start + 1, 24))
        rules.append(f"{days} {start:02d}:{draw(st.sampled_from(['00', '30']))}-{end:02d}:00")
    if draw(st.booleans()):
        rules.append(f"{draw(st.sampled_from(DAYS))} off")
    return "; ".join(rules)


@settings(max_examples=25, deadline=None)
@given(st.lists(expressions(), min_size=5, max_size=5), st.integers(0, 167),
       st.sampled_from([None, 60.0]))
def test_an_hour_of_the_week_is_coverage_at_that_moment(exprs, hour, radius):
    import opening_hours

    districts = read_boundaries(GRID / "districts.geojson")
    points = read_points(GRID / "centres.csv")
    points["hours"] = exprs
    rule = Rule.presence() if radius is None else Rule.radius(radius)
    kept, site_hours = H.read_hours(points, "hours")
    week = H.week_profile(districts, kept, rule, site_hours, week_of=date(2027, 3, 3))
    moment = datetime(2027, 3, 1) + timedelta(hours=hour)
    is_open = np.array([opening_hours.OpeningHours(e).is_open(moment) for e in exprs])
    if is_open.any():
        expected = assess(districts, points[is_open], rule).districts["covered"].to_numpy()
    else:
        expected = np.zeros(len(districts), dtype=bool)
    assert week.covered[hour].tolist() == expected.tolist()


# ------------------------------------------------------------------------- repair vans
VAN = ("site,latitude,longitude,hours\n"
       "V1,0.5,0.5,We 10:00-16:00\n"  # in 001 on Wednesdays
       "V1,2.5,2.5,Th 10:00-16:00\n"  # in 009 on Thursdays
       "V1,2.6,2.4,Th 12:00-14:00\n"  # also in 009, 12:00-14:00 on Thursdays: a clash
       "S2,2.5,1.5,24/7\n")  # a fixed site in 008


def test_a_van_is_one_site_at_several_places(districts, tmp_path):
    path = tmp_path / "vans.csv"
    path.write_text(VAN)
    points, site_hours = H.read_hours(read_points(path), "hours", site_col="site")
    week = H.week_profile(districts, points, Rule.presence(), site_hours, week_of=WEEK)
    by_id = week.districts.set_index("id")["hours_covered"]
    assert (by_id["001"], by_id["009"], by_id["008"]) == (6, 6, 168)
    open_sites = week.hours["open_sites"].to_numpy()
    assert open_sites[_hour(2, 11)] == 2  # Wednesday: V1 (in 001) and S2
    assert open_sites[_hour(3, 12)] == 2  # Thursday 12:00: V1 twice in 009 is one site
    assert week.clashes == ["V1 at 2027-01-28 12:00", "V1 at 2027-01-28 13:00"]
    # two centres needed: V1's two rows in 009 count once, so 009 is never covered; a rule
    # counting rows would cover it Thursday 12:00-14:00
    week = H.week_profile(districts, points, Rule.presence(min_centers=2), site_hours,
                          week_of=WEEK)
    assert week.districts.set_index("id")["hours_covered"]["009"] == 0
    _, rows = H.read_hours(read_points(path), "hours")  # without site_col: 3 rows, 3 sites
    week = H.week_profile(districts, points, Rule.presence(min_centers=2), rows, week_of=WEEK)
    assert week.districts.set_index("id")["hours_covered"]["009"] == 2


def test_a_van_on_the_command_line(runner, grid, tmp_path):
    path = tmp_path / "vans.csv"
    path.write_text(VAN)
    res = runner.invoke(cli, ["coverage", grid[0], str(path), "--hours-col", "hours",
                              "--site-col", "site", "--at", "Th 12:00", "--week-of", str(WEEK),
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["summary"]["covered"] == 2  # 008 and 009
    assert ("at 2027-01-28 12:00, 1 site(s) open at two places or more (site_col): V1"
            in res.stderr.replace("--site-col", "site_col"))


# ------------------------------------------------------------------ check at a time
def test_check_rules_at_a_moment_and_at_every_hour(runner, grid, sites, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nmetric = "percent"\nat = "Sa 11:00"\nfail_below = 60\n\n'
                     '[[rule]]\nname = "sunday-night"\nmetric = "percent"\nat = "Su 20:00"\n'
                     'fail_below = 60\n')
    junit = tmp_path / "junit.xml"
    res = runner.invoke(cli, ["check", grid[0], str(sites), "--hours-col", "hours",
                              "--week-of", str(WEEK), "--country", "IN", "--rules", str(rules),
                              "--min-percent-all-hours", "20", "--junit", str(junit)])
    assert res.exit_code == 1, res.output
    # Saturday 11:00: C2, C3, C4, C5 open (C1 closed) -> 002 003 004 005 007 008 = 6 of 9;
    # Sunday 20:00: C2, C3, C5 -> 002 003 005 = 3 of 9; the worst hour of the
    # week is Monday 00:00: C3 and C5 -> 002 003 = 2 of 9 (22.22 % >= 20: passes)
    err = res.stderr
    assert ("FAIL: at Sun 20:00 (2027-01-31): 33.33% of districts covered, below fail_below "
            "60 (rule 'sunday-night')") in err
    assert "at Sat 11:00 (2027-01-30): 66.67% of districts covered" in res.stdout
    assert "worst hour Mon 00:00 (2027-01-25): 22.22% of districts covered" in res.stdout
    assert 'name="overall at Sun 20:00 (2027-01-31): percent"' in junit.read_text()
    res = runner.invoke(cli, ["check", grid[0], str(sites), "--hours-col", "hours",
                              "--week-of", str(WEEK), "--min-percent-all-hours", "25"])
    assert res.exit_code == 1
    assert ("FAIL: worst hour Mon 00:00 (2027-01-25): 22.22% of districts covered, below "
            "--min-percent-all-hours 25") in res.stderr


def test_check_rules_at_need_hours(runner, grid, sites, tmp_path):
    res = runner.invoke(cli, ["check", grid[0], str(sites), "--min-percent-all-hours", "25"])
    assert res.exit_code == 2
    assert "give --hours-col COL" in res.stderr.strip().splitlines()[-1]
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nscope = "groups"\nmetric = "percent"\nat = "every hour"\n'
                     'fail_below = 60\n')
    res = runner.invoke(cli, ["check", grid[0], str(sites), "--hours-col", "hours",
                              "--rules", str(rules)])
    assert res.exit_code == 2
    assert "key 'at': 'every hour' takes scope overall" in res.stderr.strip().splitlines()[-1]


# -------------------------------------------------- the embedded sample's synthetic hours
def test_the_sample_network_has_synthetic_hours_per_type(runner):
    # Republic Day 2027 at noon: only premium centres (daily 08:00-23:00, no PH off) are open,
    # so coverage equals the sample filtered by type alone
    res = runner.invoke(cli, ["coverage", "@india", "@india-sample", "--hours-col", "hours",
                              "--at", "Tu 12:00", "--week-of", str(WEEK), "--country", "IN",
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    premium = runner.invoke(cli, ["coverage", "@india", "@india-sample", "--where",
                                  "type=premium", "--format", "json"])
    assert json.loads(res.stdout)["summary"] == json.loads(premium.stdout)["summary"]
    assert "at 2027-01-26 12:00 (Tue): 48 of 2000 centre(s) open" in res.stderr


def test_demand_points_over_the_week(runner, grid, sites, tmp_path):
    demand = tmp_path / "demand.csv"
    # a at C1's place (001), weight 1; b at C2's (005), weight 3; within 1 km of no other
    demand.write_text("id,lat,lon,w\na,0.5,0.5,1\nb,1.5,1.5,3\n")
    res = runner.invoke(cli, ["coverage", grid[0], str(sites), "--hours-col", "hours",
                              "--week", "--week-of", str(WEEK), "--country", "IN",
                              "--radius-km", "1", "--demand", str(demand),
                              "--demand-weight-col", "w", "--format", "json"])
    assert res.exit_code == 0, res.output
    by_start = {h["start"]: h for h in json.loads(res.stdout)["hours"]}
    monday = by_start["2027-01-25 10:00"]  # C1 and C2 open: both
    assert (monday["demand_covered"], monday["demand_weight_percent"]) == (2, 100.0)
    holiday = by_start["2027-01-26 10:00"]  # C2 off on Republic Day: a only, 1 of 4
    assert (holiday["demand_covered"], holiday["demand_weight_percent"]) == (1, 25.0)
    saturday = by_start["2027-01-30 10:00"]  # C1 closed: b only, 3 of 4
    assert (saturday["demand_covered"], saturday["demand_percent"],
            saturday["demand_weight_percent"]) == (1, 50.0, 75.0)
    assert by_start["2027-01-31 03:00"]["demand_covered"] == 0


def test_a_bad_zone_or_country_in_the_file_names_its_line(runner, grid, tmp_path):
    path = tmp_path / "zones.csv"
    path.write_text("id,latitude,longitude,hours,tz,country\n"
                    "C1,0.5,0.5,24/7,Europe/Paris,FR\n"
                    "C2,1.5,1.5,24/7,Europe/Pariss,FR\n"
                    "C3,0.5,2.0,24/7,,ZZ\n")
    res = runner.invoke(cli, ["coverage", grid[0], str(path), "--hours-col", "hours",
                              "--at", "Mo 10:00"])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines()[-1] == (
        f"Error: {path}: line 3: tz 'Europe/Pariss': not a time zone; give an IANA name such "
        "as Asia/Kolkata or Europe/Paris")
    path.write_text(path.read_text().replace("Pariss", "Paris"))
    res = runner.invoke(cli, ["coverage", grid[0], str(path), "--hours-col", "hours",
                              "--at", "Mo 10:00"])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines()[-1].startswith(
        f"Error: {path}: line 4: country 'ZZ': no holiday calendar")


def test_check_min_hours_covered_per_district(runner, grid, sites):
    args = ["check", grid[0], str(sites), "--hours-col", "hours", "--week-of", str(WEEK),
            "--country", "IN", "--min-hours-covered"]
    # hours per week by hand (test_the_week_by_hand): 001 40, 002 168, 003 168, 004 4,
    # 005 90, 006 0, 007 4, 008 4, 009 0
    res = runner.invoke(cli, [*args, "5"])
    assert res.exit_code == 1
    assert ("FAIL: week of 2027-01-25: 5 of 9 districts covered fewer than 5 hours (fewest: "
            "0 h), below --min-hours-covered 5") in res.stderr
    assert "  006 Cell 6: 0 h\n  009 Cell 9: 0 h\n  004 Cell 4: 4 h\n" in res.stderr
    res = runner.invoke(cli, ["check", grid[0], str(sites), "--hours-col", "hours",
                              "--min-hours-covered", "0"])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(("lat", "lon", "zone"), [
    (48.8566, 2.3522, "Europe/Paris"),  # Paris
    (22.5726, 88.3639, "Asia/Kolkata"),  # Kolkata
    (40.7128, -74.0060, "America/New_York"),  # New York
    (0.5, 0.5, None)])  # the grid fixture, at sea in the Gulf of Guinea
def test_a_zone_from_coordinates(lat, lon, zone):
    assert H.zone_at(lat, lon) == zone


def test_centres_without_a_tz_value_take_their_coordinates_zone(districts, tmp_path):
    # one centre in Paris, one in New York, one at sea (grid 001), no tz column; --tz UTC.
    # Monday 25 January 2027 09:00-10:00 local is 08:00 UTC in Paris (UTC+1), 14:00 UTC in
    # New York (UTC-5); the one at sea is in --tz (UTC): 09:00.
    path = tmp_path / "world.csv"
    path.write_text("id,latitude,longitude,hours\nP,48.8566,2.3522,Mo 09:00-10:00\n"
                    "N,40.7128,-74.0060,Mo 09:00-10:00\nS,0.5,0.5,Mo 09:00-10:00\n")
    _, site_hours = H.read_hours(read_points(path), "hours", tz="UTC")
    assert site_hours.zones == ("Europe/Paris", "America/New_York", "UTC")
    mask = H.open_mask(site_hours, H.week_moments(datetime(2027, 1, 25)))
    assert [list(np.flatnonzero(mask[:, i])) for i in range(3)] == [[8], [14], [9]]
    _, given = H.read_hours(read_points(path), "hours", tz="UTC", zone_from_coords=False)
    assert given.zones == ("UTC", "UTC", "UTC")


def test_map_week_slider_data(runner, grid, sites, tmp_path):
    # the page carries each district's 168 hours: 001 (C1, Mo-Fr 09:00-17:00) is covered on
    # Monday 10:00 (hour 10), not at 20:00 (hour 20); 002 (C3, no hours) always; 006 never
    import re
    out = tmp_path / "week.html"
    res = runner.invoke(cli, ["map", grid[0], str(sites), "--hours-col", "hours", "--country",
                              "IN", "--week-of", str(WEEK), "--week", "--offline", "-o",
                              str(out)])
    assert res.exit_code == 0, res.output
    payload = json.loads(re.search(r'<script type="application/json"[^>]*>(.*?)</script>',
                                   out.read_text(), re.S)[1])
    week = payload["week"]
    bits = [bin(int(h, 16))[2:].zfill(168) for h in week["covered"]]
    assert (bits[0][10], bits[0][20]) == ("1", "0")
    assert set(bits[1]) == {"1"} and set(bits[5]) == {"0"}
    assert week["hour"] == 0 and week["percent"][0] == pytest.approx(22.22)
    res = runner.invoke(cli, ["map", grid[0], str(sites), "--week", "-o", str(out),
                              "--overwrite"])
    assert res.exit_code == 2 and "--hours-col" in res.output


def test_the_sample_hours_come_only_under_their_own_column(runner):
    # --hours-col hours gives @india-sample its synthetic hours; any other name is a column
    # the file must have, as for every other input
    res = runner.invoke(cli, ["coverage", "@india", "@india-sample", "--hours-col", "nope",
                              "--at", "Su 20:00", "--week-of", "2027-01-25"])
    assert res.exit_code == 2
    assert "no column 'nope'" in res.output and "--hours-col" in res.output
