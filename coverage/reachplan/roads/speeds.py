"""Travel profiles: which roads a profile may use and how fast, in km/h.

Default speeds per OSM ``highway`` class are :data:`SPEED_TABLE` (typical travel speeds
in km/h, not limits; columns car, motorcycle (moto), walk), copied in the README's "Travel time".
``-`` means the profile does not use that class. Walkers go at 5 km/h on every class they
use, steps and tracks included, as OSRM's ``foot.lua`` (``walking_speed = 5``). A CSV
``highway,kmh`` overrides or adds classes (:func:`read_speeds`). ``maxspeed`` tags (``50``,
``50 km/h``, ``30 mph``) are honoured for car and motorcycle when sane (between
``MAXSPEED_SANE`` km/h): the way's speed is then the tagged limit times ``maxspeed_factor``
(default 1; OSRM's ``car.lua`` drives at 0.8 of it), capped at :data:`TOP_KMH`, the top of
the profile's default column, whatever a speeds file says. ``oneway`` is honoured for car
and motorcycle (``yes``/``true``/``1``, ``-1``/``reverse``; roundabouts and motorways are
one-way unless tagged ``oneway=no``); walkers use every way both ways. Access tags close a
way to a profile as OSRM's profiles do (:data:`CLOSED`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from pathlib import Path

from reachplan.errors import InputError
from reachplan.io.files import read_text

__all__ = ["CLOSED", "MAXSPEED_SANE", "PROFILES", "SPEED_TABLE", "TOP_KMH",
           "check_maxspeed_factor", "default_speeds", "parse_maxspeed", "read_speeds",
           "way_speed"]

PROFILES = ("car", "motorcycle", "walk")
MAXSPEED_SANE = (5.0, 150.0)

SPEED_TABLE = """
highway          car  moto  walk
motorway         100    80     -
motorway_link     60    50     -
trunk             80    70     5
trunk_link        50    45     5
primary           60    55     5
primary_link      40    40     5
secondary         50    45     5
secondary_link    35    35     5
tertiary          40    40     5
tertiary_link     30    30     5
unclassified      30    30     5
residential       25    25     5
living_street     10    10     5
service           15    15     5
road              25    25     5
track             15    20     5
path               -    10     5
footway            -     -     5
pedestrian         -     -     5
steps              -     -     5
cycleway           -     -     5
bridleway          -     -     5
"""


def _parse_table() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {p: {} for p in PROFILES}
    for line in SPEED_TABLE.strip().splitlines()[1:]:
        highway, *speeds = line.split()
        for profile, kmh in zip(PROFILES, speeds, strict=True):
            if kmh != "-":
                out[profile][highway] = float(kmh)
    return out


_DEFAULTS = _parse_table()
# tagged limits are capped here: the top of each profile's default column (car: motorway)
TOP_KMH = {profile: max(speeds.values()) for profile, speeds in _DEFAULTS.items()}

# Access values that close a way, read from the profile's most specific access tag
# (``_ACCESS_TAGS`` in osm.py). OSRM v26.8 profiles/car.lua: ``access_tag_blacklist`` less its
# ``restricted_access_tag_list`` (destination, delivery, customers, permit, residents: open,
# e.g. to reach a centre on a destination-only street; OSRM only adds a turn penalty to its
# weight, not to the time); reachplan keeps ``private`` closed (car.lua opens it on public
# road classes with that penalty). Motorcycles take the car's list (OSRM has no motorcycle
# profile; Valhalla's treats motorcycles as motor vehicles too). profiles/foot.lua:
# ``access_tag_blacklist``.
_MOTOR_CLOSED = frozenset({
    "no", "private", "agricultural", "forestry", "emergency", "psv", "taxi", "share_taxi",
    "minibus", "bus", "foot", "emergency_vehicle", "restricted", "military", "official"})
CLOSED = {"car": _MOTOR_CLOSED, "motorcycle": _MOTOR_CLOSED,
          "walk": frozenset({"no", "private", "agricultural", "forestry", "delivery",
                             "use_sidepath"})}


def _check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise InputError(f"profile '{profile}': use one of {', '.join(PROFILES)}")
    return profile


def default_speeds(profile: str) -> dict[str, float]:
    """The default km/h per ``highway`` class for ``profile`` (a fresh dict)."""
    return dict(_DEFAULTS[_check_profile(profile)])


def read_speeds(path: str | Path, profile: str) -> dict[str, float]:
    """The profile's speeds with the overrides in a CSV ``highway,kmh`` file.

    Classes in the file replace or add to the defaults; the others keep theirs.
    """
    speeds = default_speeds(profile)
    name = str(path)
    try:
        rows = list(csv.reader(io.StringIO(read_text(path, "speeds file", limit=1 << 20),
                                             newline="")))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: cannot read the speeds file ({exc.__class__.__name__}); "
                         "give a CSV with columns highway,kmh") from None
    header = [c.strip().lower() for c in rows[0]] if rows else []
    if header[:2] != ["highway", "kmh"]:
        raise InputError(f"{name}: row 1: the header must be 'highway,kmh'")
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise InputError(f"{name}: row {number}: expected 'highway,kmh', got {row!r}")
        highway, text = row[0].strip(), row[1].strip()
        if not highway:
            raise InputError(f"{name}: row {number}: the highway class is empty")
        try:
            kmh = float(text)
        except ValueError:
            kmh = math.nan
        if not math.isfinite(kmh) or kmh <= 0:
            raise InputError(f"{name}: row {number}: kmh '{text}' for '{highway}' is not a "
                             "speed > 0")
        speeds[highway] = kmh
    return speeds


_MAXSPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph)?\s*$", re.IGNORECASE)


def parse_maxspeed(text: str | None) -> float | None:
    """km/h of a ``maxspeed`` tag (``"50"``, ``"50 km/h"``, ``"30 mph"``), None if not sane."""
    if not text:
        return None
    match = _MAXSPEED.match(text)
    if match is None:
        return None
    kmh = float(match.group(1)) * (1.609344 if (match.group(2) or "").lower() == "mph" else 1)
    low, high = MAXSPEED_SANE
    return kmh if low <= kmh <= high else None


def check_maxspeed_factor(maxspeed_factor: float) -> float:
    """The factor applied to tagged limits, checked: a number > 0 (1 = drive at the limit)."""
    try:
        factor = float(maxspeed_factor)
    except (TypeError, ValueError):
        factor = math.nan
    if not (math.isfinite(factor) and factor > 0):
        raise InputError(f"maxspeed_factor={maxspeed_factor!r}: must be a number > 0 (1 drives "
                         "at the tagged limit, 0.8 as OSRM's car profile)",
                         params=("maxspeed_factor",))
    return factor


def way_speed(highway: str, maxspeed: str | None, speeds: Mapping[str, float], profile: str,
              maxspeed_factor: float = 1.0) -> float | None:
    """km/h of one way for ``profile``, or None when the profile does not use it: the class
    speed, or a sane tagged limit times ``maxspeed_factor``, capped at ``TOP_KMH[profile]``
    (not at the top of ``speeds``: a speeds file must not move the cap on tagged ways)."""
    base = speeds.get(highway)
    if base is None:
        return None
    if profile == "walk":
        return base
    limit = parse_maxspeed(maxspeed)
    return base if limit is None else min(limit * maxspeed_factor, TOP_KMH[profile])
