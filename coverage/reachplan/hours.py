"""Service hours: each site's OpenStreetMap ``opening_hours`` as a mask on the sites of the
reach table (never a new engine).

- :func:`read_hours`: check a centres frame's hours column (``opening-hours-py`` parses it),
  its time zones (``tz`` column or ``tz=``) and countries (``country`` column or ``country=``);
  a value that does not parse is an error naming the file, row and value (``strict=True``) or
  skipped and listed, as bad coordinates are. A site without hours is always open.
- :func:`open_at`: which sites are open at one moment; :func:`parse_when` reads ``--at``.
- :func:`week_profile`: the 168 hours of a week in one pass over the rule's (district, site)
  pairs: per hour, districts covered by the sites open then.

Moments are wall-clock times. Without ``tz`` each site is read in its own local time
("Sa 20:00" is 20:00 wherever the site is); with ``tz`` the moment is read in that zone and
converted to each site's zone (a ``tz`` column, else the zone at its coordinates by the
parser's offline lookup, else ``tz``), so a national network spanning zones, or a
week across a DST change, is one set of instants. Public holidays (``PH``) come from the
``holidays`` package for the site's country (India's national holidays included): on a
holiday, ``PH`` in the expression stands for that day's weekday, so the rule naming it applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from reachplan.errors import InputError

EXTRA = "pip install 'reachplan[hours]'"
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_PH = re.compile(r"\bPH\b")
_WHEN = re.compile(r"^\s*(Mo|Tu|We|Th|Fr|Sa|Su)\s+(\d{1,2}):(\d{2})\s*$")


def _parser_module() -> Any:
    try:
        import opening_hours
    except ModuleNotFoundError:
        raise InputError(f"hours_col needs the hours extra: {EXTRA}",
                         params=("hours_col",)) from None
    return opening_hours


@lru_cache(maxsize=4096)
def _parsed(expression: str) -> Any:
    """The parser's object for ``expression`` (no country: ``PH`` is resolved here)."""
    return _parser_module().OpeningHours(expression, country=None, auto_country=False,
                                         auto_timezone=False)


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        import holidays
    except ModuleNotFoundError:
        raise InputError(f"country needs the hours extra: {EXTRA}", params=("country",)) from None
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        raise InputError(f"country={country!r}: no holiday calendar for that country; give "
                         "an ISO 3166 code such as IN, FR, DE", params=("country",)) from None


@lru_cache(maxsize=64)
def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"tz={name!r}: not a time zone; give an IANA name such as "
                         "Asia/Kolkata or Europe/Paris", params=("tz",)) from None


@lru_cache(maxsize=65536)
def zone_at(lat: float, lon: float) -> str | None:
    """The IANA time zone at ``lat``/``lon`` by the parser's own offline lookup (boundary
    data inside ``opening-hours-py``); None at sea (the lookup's ``Etc/...`` zones)."""
    probe = _parser_module().OpeningHours("Mo 00:00-01:00", coords=(lat, lon),
                                          auto_timezone=True, auto_country=False)
    key = getattr(probe.next_change(datetime(2027, 1, 4, 12)).tzinfo, "key", None)
    return None if key is None or key.startswith("Etc/") else str(key)


@dataclass(frozen=True)
class SiteHours:
    """Per site of a centres frame (same order): its hours (None: always open), its time
    zone and country (None: the moment's own / no holidays)."""

    expressions: tuple[str | None, ...]
    zones: tuple[str | None, ...]
    countries: tuple[str | None, ...]
    tz: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: per row, the site it is a visit of (``site_col``: a van at several places), or None
    #: when every row is its own site
    sites: tuple[str, ...] | None = None

    @property
    def without_hours(self) -> int:
        """Sites with no hours given (always open)."""
        return sum(e is None for e in self.expressions)

    def summary(self) -> str:
        """One line for people: how many sites have hours, how many had none."""
        n = len(self.expressions)
        return (f"hours: {n - self.without_hours} of {n} site(s) with opening hours; "
                f"{self.without_hours} without (always open)")


def _column(frame: pd.DataFrame, name: str | None, default: str | None) -> list[str | None]:
    """A text column's values (blank -> None), or ``default`` for every row without one."""
    if name is None or name not in frame.columns:
        return [default] * len(frame)
    values = frame[name].astype("string").str.strip()
    return [default if pd.isna(v) or v == "" else str(v) for v in values]


def _problem(expression: str) -> str | None:
    """Why the parser cannot read ``expression`` (None when it can)."""
    ohs = _parser_module()
    try:
        _parsed(expression)
        if _PH.search(expression):
            _parsed(_PH.sub("Mo", expression))
    except (ohs.ParserError, SyntaxError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return first
    return None


def _check_column(points: Any, column: str, values: list[str | None], default: str | None,
                  lines: list[Any], source: str, check: Any) -> None:
    """Check each distinct value of a zone or country column (the option's own default
    first, named by its parameter); a bad value in the file names its line and column."""
    if default is not None:
        check(default)
    seen: set[str] = {default} if default is not None else set()
    for i, value in enumerate(values):
        if value is None or value in seen:
            continue
        seen.add(value)
        try:
            check(value)
        except InputError as exc:
            why = str(exc).split(": ", 1)[-1]
            raise InputError(f"{source}: line {lines[i]}: {column} {value!r}: {why}") from None


def _require(points: Any, column: str, param: str) -> None:
    if column not in points.columns:
        cols = [c for c in points.columns if c not in ("geometry", "line")]
        raise InputError(f"{points.attrs.get('source', 'centres')}: no column '{column}' "
                         f"(given by {param}); columns are: " + ", ".join(map(str, cols)),
                         params=(param,))


def read_hours(points: Any, hours_col: str, *, tz: str | None = None,
               country: str | None = None, tz_col: str = "tz", country_col: str = "country",
               site_col: str | None = None, strict: bool = False,
               zone_from_coords: bool = True) -> tuple[Any, SiteHours]:
    """Check ``points``' hours; returns the frame without rows whose hours do not parse (an
    error instead with ``strict=True``) and their :class:`SiteHours`. ``site_col``: rows
    sharing a value are visits of one site (a repair van's places on its round), each row
    its own position, open only in its own hours. A site's zone is its ``tz_col`` value,
    else (``zone_from_coords``) the zone at its coordinates (:func:`zone_at`), else ``tz``."""
    source = points.attrs.get("source", "centres")
    _require(points, hours_col, "hours_col")
    if site_col is not None:
        _require(points, site_col, "site_col")
    if tz is not None:
        _zone(tz)
    expressions = _column(points, hours_col, None)
    zones = _column(points, tz_col, None)
    if zone_from_coords and {"lat", "lon"} <= set(points.columns):
        zones = [z if z is not None else zone_at(float(la), float(lo))
                 for z, la, lo in zip(zones, points["lat"], points["lon"], strict=True)]
    zones = [tz if z is None else z for z in zones]
    countries = _column(points, country_col, country)
    lines = points["line"].tolist() if "line" in points.columns else list(range(len(points)))
    bad: list[int] = []
    for i, expression in enumerate(expressions):
        why = _problem(expression) if expression is not None else None
        if why is None:
            continue
        if strict:
            raise InputError(f"{source}: line {lines[i]}: {hours_col} {expression!r} is not "
                             f"OSM opening_hours ({why}); fix it, or drop strict=True to skip "
                             "such rows", params=("strict",))
        bad.append(i)
    _check_column(points, tz_col, zones, tz, lines, source, _zone)
    _check_column(points, country_col, countries, country, lines, source,
                  lambda code: _holidays(code, date.today().year))
    warnings = list(points.attrs.get("warnings", []))
    if bad:
        shown = ", ".join(str(lines[i]) for i in bad[:10]) + (", ..." if len(bad) > 10 else "")
        warnings.append(f"{source}: skipped {len(bad)} centre row(s) whose {hours_col} is not "
                        f"OSM opening_hours (line {shown})")
    keep = np.ones(len(points), dtype=bool)
    keep[bad] = False
    kept = points[keep].reset_index(drop=True)
    kept.attrs = {**points.attrs, "warnings": warnings,
                  "skipped": list(points.attrs.get("skipped", [])) + [lines[i] for i in bad]}

    def pick(values: list[str | None]) -> tuple[str | None, ...]:
        return tuple(v for v, k in zip(values, keep, strict=True) if k)
    lines_kept = [str(n) for n, k in zip(lines, keep, strict=True) if k]
    sites = None if site_col is None else tuple(
        v if v is not None else f"line {n}"
        for v, n in zip(pick(_column(points, site_col, None)), lines_kept, strict=True))
    return kept, SiteHours(pick(expressions), pick(zones), pick(countries), tz, warnings,
                           sites)


def parse_when(value: str, *, week_of: date | None = None) -> datetime:
    """``"2026-12-05 20:00"`` as is; ``"Sa 20:00"`` as that weekday and time in the ISO week
    (Monday to Sunday) containing ``week_of`` (default: today)."""
    match = _WHEN.match(value)
    if match:
        day = week_start(week_of or date.today()) + timedelta(days=WEEKDAYS.index(match[1]))
        hour, minute = int(match[2]), int(match[3])
        if hour > 23 or minute > 59:
            raise InputError(f"at={value!r}: no such time of day", params=("at",))
        return datetime(day.year, day.month, day.day, hour, minute)
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"at={value!r}: give a date and time ('2026-12-05 20:00') or a "
                         "weekday and time ('Sa 20:00')", params=("at",)) from None
    return when.replace(tzinfo=None) if when.tzinfo is None else when


def week_start(day: date) -> datetime:
    """Monday 00:00 of the ISO week containing ``day``."""
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day)


def _local(moment: datetime, tz: str | None, zone: str | None) -> datetime:
    """``moment`` (wall time in ``tz``, or in every site's own time when None) as wall time
    in the site's ``zone``."""
    if moment.tzinfo is not None:
        return moment.astimezone(_zone(zone)).replace(tzinfo=None) if zone else \
            moment.replace(tzinfo=None)
    if tz is None or zone is None or zone == tz:
        return moment
    return moment.replace(tzinfo=_zone(tz)).astimezone(_zone(zone)).replace(tzinfo=None)


def is_open(expression: str | None, local: datetime, country: str | None) -> bool:
    """Whether ``expression`` is open at the site's wall time ``local`` (holidays of
    ``country``); no expression is always open."""
    if expression is None:
        return True
    if country is not None and _PH.search(expression) \
            and local.date() in _holidays(country, local.year):
        expression = _PH.sub(WEEKDAYS[local.weekday()], expression)
    return bool(_parsed(expression).is_open(local))


def open_mask(hours: SiteHours, moments: list[datetime]) -> np.ndarray:
    """(moments × sites) booleans: each site open at each moment; sites sharing hours, zone
    and country are evaluated once."""
    keys: dict[tuple[str | None, str | None, str | None], list[int]] = {}
    for i, key in enumerate(zip(hours.expressions, hours.zones, hours.countries, strict=True)):
        keys.setdefault(key, []).append(i)
    mask = np.ones((len(moments), len(hours.expressions)), dtype=bool)
    for (expression, zone, country), sites in keys.items():
        if expression is None:
            continue
        column = [is_open(expression, _local(m, hours.tz, zone), country) for m in moments]
        mask[:, sites] = np.asarray(column, dtype=bool)[:, None]
    return mask


def open_at(hours: SiteHours, moment: datetime) -> np.ndarray:
    """Per site, whether it is open at ``moment``."""
    return open_mask(hours, [moment])[0]


def clashes(hours: SiteHours, is_open: np.ndarray, moment: datetime) -> list[str]:
    """One warning naming the sites (``site_col``) open at two places at ``moment``."""
    if hours.sites is None:
        return []
    seen = pd.Series(hours.sites, dtype=object)[is_open].value_counts()
    twice = sorted(str(s) for s in seen[seen > 1].index)
    if not twice:
        return []
    return [f"at {moment:%Y-%m-%d %H:%M}, {len(twice)} site(s) open at two places or more "
            "(site_col): " + ", ".join(twice[:10]) + (", ..." if len(twice) > 10 else "")]


@dataclass
class WeekProfile:
    """The 168 hours of a week: ``hours`` (one row per hour: day, hour, covered, percent,
    weight_percent, open_sites, and ``percent_<type>`` by each centre type's sites alone),
    ``districts`` (hours covered per district), ``groups`` (one row per hour and group) and
    ``covered`` (hours × districts)."""

    start: datetime
    hours: pd.DataFrame
    districts: pd.DataFrame
    groups: pd.DataFrame
    without_hours: int
    covered: np.ndarray  # (168 hours × districts) booleans
    #: "site at 2027-01-28 10:00" where a site (``site_col``) is open at two places at once
    clashes: list[str] = field(default_factory=list)

    def worst(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` hours with the fewest districts covered (earliest first among ties)."""
        return self.hours.sort_values(["covered", "start"], kind="stable").head(n)


def week_moments(start: datetime) -> list[datetime]:
    """The 168 hourly moments of the week beginning at ``start``."""
    return [start + timedelta(hours=h) for h in range(168)]


def reach_matrix(districts: Any, centers: Any, rule: Any) -> Any:
    """The rule's reach table as a sparse (districts × sites) matrix of ones: every pair
    within reach (``rule.pairs``), computed once for every hour."""
    from scipy import sparse

    from reachplan.engine import _inside

    centers = centers.reset_index(drop=True)
    inside, _ = _inside(districts, centers)
    d, s = rule.pairs(districts.geometry, centers.geometry, inside=inside)[:2]
    return sparse.csr_matrix((np.ones(len(d), dtype=np.float32), (d, s)),
                             shape=(len(districts), len(centers)))


def week_profile(districts: Any, centers: Any, rule: Any, hours: SiteHours, *,
                 week_of: date | None = None, type_col: str | None = None,
                 reach: Any = None) -> WeekProfile:
    """Coverage in each hour of the ISO week containing ``week_of`` (default: today), the
    rule's (district, site) pairs computed once (``reach``: :func:`reach_matrix`, when the
    caller has it) and masked by the sites open each hour."""
    from reachplan.engine import summarise
    from reachplan.rules import one_threshold

    one_threshold(rule, "the week profile")
    centers = centers.reset_index(drop=True)
    if reach is None:
        reach = reach_matrix(districts, centers, rule)
    start = week_start(week_of or date.today())
    moments = week_moments(start)
    mask = open_mask(hours, moments)
    open_f = mask.astype(np.float32)
    counts = np.asarray(reach @ open_f.T).T  # open sites reaching each district, per hour
    visits, names = _visits(hours)
    open_sites = mask.sum(axis=1) if visits is None else \
        np.asarray((open_f @ visits) > 0).sum(axis=1)
    if visits is not None and rule.min_centers > 1:  # a site at two places counts once
        counts = np.vstack([(reach.multiply(open_f[h]) @ visits > 0).sum(axis=1).T
                            for h in range(len(moments))])
    covered = np.asarray(counts) >= rule.min_centers
    weight = districts["weight"].to_numpy(dtype=float)
    rows = []
    for h, moment in enumerate(moments):
        s_ = summarise(covered[h], weight)
        rows.append({"start": f"{moment:%Y-%m-%d %H:%M}", "day": WEEKDAYS[h // 24],
                     "hour": h % 24, "covered": s_["covered"], "districts": s_["districts"],
                     "percent": s_["percent"], "weight_percent": s_["weight_percent"],
                     "open_sites": int(open_sites[h])})
    table = pd.DataFrame(rows)
    if type_col is not None:  # coverage by each type's sites alone, as assess's by type
        kinds = centers[type_col].astype(str).to_numpy()
        for kind in sorted(set(kinds)):
            counts = np.asarray(reach @ (open_f * (kinds == kind)).T).T
            table[f"percent_{kind}"] = np.round(100.0 * (counts >= rule.min_centers)
                                                .mean(axis=1), 2)
    per_district = districts[["id", "name", "group"]].copy().reset_index(drop=True)
    per_district["hours_covered"] = covered.sum(axis=0)
    groups = _groups(districts, covered, moments)
    clashes = [] if visits is None else [
        f"{names[s]} at {moments[h]:%Y-%m-%d %H:%M}" for h, s in
        zip(*np.nonzero(np.asarray(open_f @ visits) > 1), strict=True)]
    return WeekProfile(start, table, per_district, groups, hours.without_hours, covered,
                       clashes)


def week_demand(centers: Any, lat: np.ndarray, lon: np.ndarray, rule: Any, hours: SiteHours,
                *, weight: np.ndarray | None = None, week_of: date | None = None
                ) -> pd.DataFrame:
    """Demand points (``lat``/``lon``, optional ``weight``) covered in each hour of the week:
    the rule's point–site pairs (``rule.point_reach(...).pairs``) once, masked per hour.
    One row per hour: ``demand_points``, ``demand_covered``, ``demand_percent`` and, with a
    weight, ``demand_weight_percent``."""
    from scipy import sparse

    reach = rule.point_reach(centers["lat"].to_numpy(float), centers["lon"].to_numpy(float))
    p, s = reach.pairs(np.asarray(lat, float), np.asarray(lon, float))[:2]
    table = sparse.csr_matrix((np.ones(len(p), dtype=np.float32), (p, s)),
                              shape=(len(lat), len(centers)))
    mask = open_mask(hours, week_moments(week_start(week_of or date.today())))
    counts = np.asarray(table @ mask.astype(np.float32).T).T  # hours × points
    covered = counts >= rule.min_centers
    out = pd.DataFrame({"demand_points": len(lat), "demand_covered": covered.sum(axis=1)})
    out["demand_percent"] = np.round(100.0 * covered.mean(axis=1), 2) if len(lat) else None
    if weight is not None:
        w = np.nan_to_num(np.asarray(weight, float))
        total = w.sum()
        out["demand_weight_percent"] = (np.round(100.0 * (covered @ w) / total, 2)
                                        if total > 0 else None)
    return out


def _visits(hours: SiteHours) -> tuple[Any, list[str]]:
    """(rows × sites) matrix of ones: each row's site (None when every row is a site)."""
    if hours.sites is None:
        return None, []
    from scipy import sparse

    codes, names = pd.factorize(pd.Series(hours.sites, dtype=object), sort=True)
    matrix = sparse.csr_matrix((np.ones(len(codes), dtype=np.float32),
                                (np.arange(len(codes)), codes)), shape=(len(codes), len(names)))
    return matrix, [str(n) for n in names]


def _groups(districts: Any, covered: np.ndarray, moments: list[datetime]) -> pd.DataFrame:
    """One row per hour and group: districts of the group covered then (a sparse product)."""
    group = districts["group"].astype("string").fillna("").to_numpy(dtype=object)
    names = sorted(set(group) - {""})
    if not names:
        return pd.DataFrame(columns=["start", "group", "covered", "districts", "percent"])
    member = np.array([[g == name for g in group] for name in names], dtype=np.int64)
    per_group = covered.astype(np.int64) @ member.T  # hours × groups
    sizes = member.sum(axis=1)
    starts = [m.strftime("%Y-%m-%d %H:%M") for m in moments]
    return pd.DataFrame({
        "start": np.repeat(starts, len(names)), "group": names * len(moments),
        "covered": per_group.ravel(), "districts": np.tile(sizes, len(moments)),
        "percent": np.round(100.0 * per_group / sizes, 2).ravel()})
