"""Coverage rules: what "a centre reaches a district (or a point)" means.

A rule is any object with the :class:`CoverageRule` interface. Every layer gets its decisions
from the rule and never asks which rule it is: the engine (:func:`reachplan.assess`), demand
points (:func:`reachplan.demand_coverage`), the planning candidate matrix and the maps. A new
rule (travel time on roads, say) is one new class; nothing else changes.

Two rules are built in, both geodesic on WGS84 (see :mod:`reachplan.geodesy`):

* :class:`Presence`: a centre inside the district or on its boundary (cost 0);
* :class:`Radius`: a centre within ``km`` of the district polygon (cost in metres, 0 inside).

A district is covered when at least ``min_centers`` centres reach it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from reachplan.errors import InputError

__all__ = ["Cost", "CoverageRule", "PointReach", "Presence", "Radius", "Rule", "cost_of",
           "one_threshold", "reaches_points", "same_rule"]

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(district_index, point_index, cost)``: int64, int64 and float arrays of equal length."""


@dataclass(frozen=True)
class Cost:
    """What a rule's cost is, for every reader of the reach table (engine, demand, compare,
    checks, maps, CLI): they read this, never the rule's kind or unit.

    Attributes
    ----------
    unit
        Unit of the per-district/per-point column, e.g. ``"km"``, ``"min"``, ``"cells"``.
    reach
        The threshold in that unit (a centre reaches when its cost is at most this).
    column
        The column (and JSON key) of the nearest centre's cost: ``nearest_km``, ``nearest_min``.
    label
        The unit in words for people, after a number: ``"km"``, ``"min by road"``.
    text
        The reach in a few words for people: ``"within 25 km"``, ``"a centre inside"``.
    divide_by
        A rule's costs (in ``rule.unit``) divided by this are in ``unit`` (1000 for metres).
    geodesic
        The cost is the geodesic distance every output reports as ``nearest_km`` (then it
        is not reported twice).
    reach_keys
        The reach as the demand block names it, kept for 0.1 readers (``radius_km``,
        ``minutes``).
    thresholds
        Every threshold the rule decides at, ascending, in ``unit`` (the largest is
        ``reach``): one search bounded at the largest gives them all
        (:mod:`reachplan.thresholds`). Empty for a rule of one threshold (see :attr:`steps`).
    """

    unit: str
    reach: float
    column: str
    label: str
    text: str
    divide_by: float = 1.0
    geodesic: bool = False
    reach_keys: tuple[tuple[str, Any], ...] = ()
    thresholds: tuple[float, ...] = ()

    @property
    def steps(self) -> tuple[float, ...]:
        """The thresholds in ``unit``, ascending: ``thresholds``, or ``(reach,)``."""
        return self.thresholds or (self.reach,)

    @property
    def several(self) -> bool:
        """Whether the rule decides at more than one threshold."""
        return len(self.thresholds) > 1

    def threshold_column(self, threshold: float) -> str:
        """The per-district column of coverage at ``threshold``: ``covered_5km``,
        ``covered_30min``."""
        return f"covered_{threshold:g}{self.unit}"

    @property
    def center_column(self) -> str:
        """The column naming the centre that gives the cost (``nearest_min_center``), or
        ``nearest_center`` when the cost is the geodesic distance."""
        return "nearest_center" if self.geodesic else f"{self.column}_center"

    def to_column(self, values: Any) -> Any:
        """Costs of the rule (in ``rule.unit``) in the column's unit."""
        return values / self.divide_by

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``"cost"`` block: ``{"unit", "reach", "column", "label", "text"}``."""
        out: dict[str, Any] = {"unit": self.unit, "reach": self.reach, "column": self.column,
                               "label": self.label, "text": self.text}
        if self.several:  # only then: a result of one threshold keeps its contract
            out["thresholds"] = list(self.thresholds)
        return out


def cost_of(rule: Any) -> Cost:
    """The rule's :class:`Cost`: its ``cost`` attribute, or one made from ``unit`` and
    ``reach`` for a rule written before there was one (a column ``nearest_<unit>``)."""
    cost = getattr(rule, "cost", None)
    if isinstance(cost, Cost):
        return cost
    if rule.unit == "m":
        return _km_cost(rule.reach / 1000.0, rule.reach / 1000.0)
    reach = float(rule.reach)
    return Cost(rule.unit, reach, f"nearest_{rule.unit}", rule.unit,
                f"within {reach:g} {rule.unit}", reach_keys=((f"reach_{rule.unit}", reach),))


def _km_cost(reach_km: float, radius_km: float | None,
             thresholds: tuple[float, ...] = ()) -> Cost:
    if radius_km is None:
        text = "a centre inside"
    else:
        text = f"within {_listed(thresholds) or format(radius_km, 'g')} km"
    return Cost("km", reach_km, "nearest_km", "km", text, divide_by=1000.0, geodesic=True,
                reach_keys=(("radius_km", radius_km),), thresholds=thresholds)


def _listed(thresholds: tuple[float, ...]) -> str:
    """``"5, 10, 25"`` for several thresholds, ``""`` for one."""
    return ", ".join(f"{t:g}" for t in thresholds) if len(thresholds) > 1 else ""


@runtime_checkable
class PointReach(Protocol):
    """A rule's answers for single points (customers, PIN codes) against fixed centres.

    It must pickle: the dask engine ships it to the workers.
    """

    def nearest(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1
                ) -> tuple[np.ndarray, np.ndarray]:
        """Position of each point's nearest centre by the rule's cost (-1 when none) and
        that cost (inf when none); ties go to the lowest position."""
        ...

    def covered(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1) -> np.ndarray:
        """Whether the rule's ``min_centers`` centres reach each point (for one centre this
        may be cheaper than ``nearest``)."""
        ...

    def pairs(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (point, centre, cost) within reach, sorted by point then centre, centres
        sharing a place each listed (capacity allocation needs them all)."""
        ...


@runtime_checkable
class CoverageRule(Protocol):
    """The interface every coverage rule implements.

    Attributes
    ----------
    min_centers
        Centres that must reach a district for it to count as covered (at least 1).
    unit
        Unit of every cost the rule returns, e.g. ``"m"`` (metres) or ``"min"`` (minutes).
    reach
        A centre reaches a district or a point when its cost is at most this (in ``unit``).
    cost
        A :class:`Cost`: the unit, reach and column every output reads (optional for a rule
        written before 0.2: :func:`cost_of` makes one from ``unit`` and ``reach``).

    A rule may also have ``district_columns(districts, points) -> dict[str, ndarray]``: more
    per-district figures, by column name, that the engine adds to every output (the travel
    rule's ``road_nodes_within_pct``); ``reaches_points = False`` when it cannot decide
    demand points (``point_reach`` raises: presence); and ``pairs_progress = True`` when its
    ``pairs`` takes a ``progress(done, total)`` callback (``plan`` then shows the matrix's
    progress).
    """

    @property
    def min_centers(self) -> int: ...

    @property
    def unit(self) -> str: ...

    @property
    def reach(self) -> float: ...

    def pairs(self, districts: Any, points: Any, *,
              inside: tuple[np.ndarray, np.ndarray] | None = None) -> Pairs:
        """Every (district, point) pair within reach, with its cost, sorted by district then
        point. ``districts`` and ``points`` are GeoSeries (or arrays) in EPSG:4326;
        ``inside`` optionally gives the (district, point) pairs of points inside or on a
        district, when the caller has them already."""
        ...

    def nearest(self, districts: Any, points: Any, *,
                inside: tuple[np.ndarray, np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Per district, the position of the point of least cost (-1 when there are no
        points) and that cost (inf when none), whether or not it is within reach."""
        ...

    def point_reach(self, lat: np.ndarray, lon: np.ndarray) -> PointReach:
        """Answers for demand points against centres at ``lat``/``lon`` (degrees)."""
        ...

    def ring_m(self) -> float | None:
        """Radius in metres of a circle maps may draw round each centre, or None."""
        ...

    def describe(self) -> str:
        """One line for people, e.g. ``"at least 1 centre within 25 km (geodesic)"``."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The ``"rule"`` block of the JSON outputs."""
        ...


def one_threshold(rule: Any, what: str) -> None:
    """An :class:`InputError` naming ``rule`` when it decides at several thresholds and
    ``what`` (demand points, a plan...) is decided at one only."""
    cost = cost_of(rule)
    if cost.several:
        listed = ", ".join(f"{t:g}" for t in cost.thresholds)
        raise InputError(f"rule: {what} decides at one threshold, not {listed} {cost.unit}; "
                         "give a rule of one", params=("rule",))


def reaches_points(rule: Any) -> bool:
    """Whether the rule decides demand points (``point_reach``): every rule but one that
    says ``reaches_points = False`` (presence: no district is asked)."""
    return bool(getattr(rule, "reaches_points", True))


def same_rule(a: Any, b: Any) -> bool:
    """Whether two ``"rule"`` blocks of JSON outputs describe the same rule: equal, but an
    input file named with its content's digest (``roads`` beside ``roads_sha256``) is the
    same input under any name when the digests agree."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return bool(a == b)
    a, b = dict(a), dict(b)
    for key in [k for k in a if k.endswith("_sha256")]:
        if a[key] is not None and a[key] == b.get(key):
            a.pop(key[: -len("_sha256")], None)
            b.pop(key[: -len("_sha256")], None)
    return a == b


def _check_min_centers(min_centers: Any) -> None:
    if isinstance(min_centers, bool) or not isinstance(min_centers, (int, np.integer)) \
            or min_centers < 1:
        raise InputError(f"min_centers={min_centers!r}: must be a whole number >= 1",
                         params=("min_centers",))


def _centres_text(min_centers: int) -> str:
    return f"at least {min_centers} {'centre' if min_centers == 1 else 'centres'}"


def reached_by(point: np.ndarray, n: int, min_centers: int) -> np.ndarray:
    """Whether each of ``n`` points has ``min_centers`` entries in ``point``, the point
    positions of a ``pairs`` answer (centres sharing a place each count, as for districts)."""
    return np.bincount(point, minlength=n) >= min_centers


@dataclass(frozen=True)
class _RadiusReach:
    """Demand points within ``radius_m`` of a centre (exact geodesic, see geodesy.points)."""

    index: Any  # reachplan.geodesy.CentreIndex
    radius_m: float
    min_centers: int = 1

    def nearest(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1
                ) -> tuple[np.ndarray, np.ndarray]:
        return self.index.nearest(lat, lon, threads=threads)

    def covered(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1) -> np.ndarray:
        if self.min_centers == 1:
            return self.index.covered(lat, lon, self.radius_m, threads=threads)
        return reached_by(self.pairs(lat, lon, threads=threads)[0], np.size(lat),
                          self.min_centers)

    def pairs(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.index.within(lat, lon, np.full(np.size(lat), self.radius_m),
                                 threads=threads, every=True)

    def covered_grid(self, row_lat: np.ndarray, lon0: float, dlon: float, width: int, *,
                     threads: int = 1) -> np.ndarray:
        """``covered`` for every cell centre of rows of a north-up WGS84 grid (rows at
        ``row_lat``, columns centred on ``lon0 + (j + ½)·dlon``): a boolean (rows, width)
        array, the same decisions at a few geodesics per (centre, row) instead of per cell
        (:func:`reachplan.geodesy.grid.within_counts`)."""
        from reachplan.geodesy.grid import within_counts

        index = self.index
        multiplicity = np.diff(index.members.start)
        counts = within_counts(index.lat, index.lon, multiplicity, self.radius_m,
                               np.asarray(row_lat, dtype=np.float64), lon0, dlon, width,
                               threads=threads)
        return counts >= self.min_centers


@dataclass(frozen=True)
class Radius:
    """Covered when ``min_centers`` centres lie within ``km`` kilometres of the district:
    the geodesic WGS84 distance from the district polygon to the centre, 0 when inside.

    ``km`` may be several distances (``Radius([5, 10, 25])``): the coverage at each from one
    search bounded at the largest, which is then ``km``; ``thresholds`` holds them all,
    ascending (empty for one distance)."""

    km: float
    min_centers: int = 1
    thresholds: tuple[float, ...] = ()
    kind: ClassVar[str] = "radius"

    def __post_init__(self) -> None:
        km: Any = self.km
        if self.thresholds and not isinstance(km, (list, tuple, np.ndarray)):
            if km != max(self.thresholds):
                raise InputError(f"km={km!r}: with thresholds, km is their largest; give "
                                 "the distances as km=[...]", params=("km",))
            km = self.thresholds
        if isinstance(km, (list, tuple, np.ndarray)):
            from reachplan.thresholds import check_thresholds

            steps = check_thresholds(km, "km", allow_zero=True)
            object.__setattr__(self, "thresholds", steps if len(steps) > 1 else ())
            km = steps[-1]
        if isinstance(km, bool) or not isinstance(km, (int, float, np.number)) \
                or not math.isfinite(float(km) * 1000.0) or km < 0:
            raise InputError(f"km={km!r}: the radius must be a finite distance >= 0 km "
                             "(in metres too)", params=("km",))
        _check_min_centers(self.min_centers)
        object.__setattr__(self, "km", float(km))

    @property
    def unit(self) -> str:
        return "m"

    @property
    def reach(self) -> float:
        return self.km * 1000.0

    @property
    def radius_km(self) -> float | None:
        return self.km

    @property
    def cost(self) -> Cost:
        return _km_cost(self.km, self.radius_km, self.thresholds)

    def pairs(self, districts: Any, points: Any, *,
              inside: tuple[np.ndarray, np.ndarray] | None = None) -> Pairs:
        from reachplan.geodesy import polygons_within

        return polygons_within(districts, points, self.reach, inside=inside)

    def nearest(self, districts: Any, points: Any, *,
                inside: tuple[np.ndarray, np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        from reachplan.geodesy import nearest_to_polygons

        return nearest_to_polygons(districts, points, inside=inside)

    def point_reach(self, lat: np.ndarray, lon: np.ndarray) -> PointReach:
        from reachplan.geodesy import CentreIndex

        return _RadiusReach(CentreIndex(lat, lon), self.reach, self.min_centers)

    def ring_m(self) -> float | None:
        return self.reach

    def describe(self) -> str:
        km = _listed(self.thresholds) or f"{self.km:g}"
        return f"{_centres_text(self.min_centers)} within {km} km (geodesic)"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "min_centers": self.min_centers,
                               "radius_km": self.km}
        if self.thresholds:  # only then: a rule of one radius keeps its block
            out["thresholds_km"] = list(self.thresholds)
        return out


@dataclass(frozen=True)
class Presence(Radius):
    """Covered when ``min_centers`` centres lie inside the district or on its boundary:
    a radius of 0, with the nearest centre (and its distance) still reported."""

    km: float = 0.0
    min_centers: int = 1
    thresholds: tuple[float, ...] = ()
    kind: ClassVar[str] = "presence"
    reaches_points: ClassVar[bool] = False  # point_reach raises: no district is asked

    def __post_init__(self) -> None:
        if self.km != 0:
            raise InputError(f"km={self.km!r}: a presence rule takes no radius; "
                             "use Rule.radius(km)")
        super().__post_init__()

    @property
    def radius_km(self) -> float | None:
        return None

    def point_reach(self, lat: np.ndarray, lon: np.ndarray) -> PointReach:
        raise InputError("rule: a presence rule cannot decide points (no district is "
                         "asked); pass a rule that reaches points, e.g. Rule.radius(km)")

    def ring_m(self) -> float | None:
        return None

    def describe(self) -> str:
        return f"{_centres_text(self.min_centers)} inside the district"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "min_centers": self.min_centers, "radius_km": None}


class Rule:
    """The built-in rules by name: ``Rule.presence()``, ``Rule.radius(25)``.

    ``Rule()`` is presence; ``Rule("radius", 1, 25.0)`` is kept for the 0.1 API.
    """

    def __new__(cls, kind: str = "presence", min_centers: int = 1,  # type: ignore[misc]
                radius_km: float | None = None) -> Radius:
        if kind == "presence":
            if radius_km is not None:
                raise InputError("radius_km: a presence rule takes no radius; "
                                 "use Rule.radius(km)")
            return Presence(min_centers=min_centers)
        if kind == "radius":
            return Radius(radius_km, min_centers)  # type: ignore[arg-type]
        raise InputError(f"kind={kind!r}: use 'presence' or 'radius'")

    @staticmethod
    def presence(*, min_centers: int = 1) -> Presence:
        """Covered when ``min_centers`` centres lie inside the district."""
        return Presence(min_centers=min_centers)

    @staticmethod
    def radius(km: float | Sequence[float], *, min_centers: int = 1) -> Radius:
        """Covered when ``min_centers`` centres lie within ``km`` kilometres; several
        (``Rule.radius([5, 10, 25])``): the coverage at each from one search."""
        return Radius(km, min_centers)  # type: ignore[arg-type]
