"""``TravelRule``: a district is covered when a centre is within T minutes by road."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reachplan.errors import InputError
from reachplan.geodesy import polygons_within
from reachplan.roads import reach, travel
from reachplan.roads.graph import RoadGraph, load_roads
from reachplan.roads.travel import MAX_SNAP_KM, OFFROAD_KMH, DistrictAccess, Progress, Snapped
from reachplan.rules import Cost, reached_by

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["TravelRule"]

_SNAPS_KEPT = 3  # sets of points whose snapping a rule keeps


def _wgs84_frame(frame):
    """A GeoSeries/GeoDataFrame in EPSG:4326 (lon/lat), columns kept."""
    crs = getattr(frame, "crs", None)
    return frame.to_crs("EPSG:4326") if crs is not None and not crs.equals("EPSG:4326") else frame


def _wgs84(frame):
    """The geometries of a GeoSeries/GeoDataFrame in EPSG:4326."""
    frame = _wgs84_frame(frame)
    return getattr(frame, "geometry", frame)


def _shapes_key(geoms) -> bytes:
    """A digest of the shapes, in order (equal shapes, equal key; whatever the object)."""
    import hashlib

    import shapely

    wkb = shapely.to_wkb(np.asarray(getattr(geoms, "array", geoms), dtype=object))
    digest = hashlib.blake2b(digest_size=32)
    for item in wkb:
        item = item or b""  # a missing shape
        digest.update(len(item).to_bytes(8, "little") + item)
    return digest.digest()


def _snapped_key(snapped: Snapped) -> bytes:
    """Equal for points on the same places of the road with the same legs."""
    return b"".join(a.tobytes() for a in (snapped.node, snapped.pos, snapped.frac,
                                           snapped.leg_min))


def _lonlat(points) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    geoms = _wgs84(points)
    xy = shapely.get_coordinates(np.asarray(getattr(geoms, "array", geoms), dtype=object))
    return xy[:, 0], xy[:, 1]


class _TravelReach:
    """Minutes of demand points from the quickest centre: their road vertex's minutes plus
    their off-road leg (inf when off the network or on another island); and every centre
    within T of each point (capacity needs them all)."""

    def __init__(self, graph: RoadGraph, minutes: np.ndarray, source: np.ndarray,
                 within: float, offroad_kmh: float, max_snap_km: float,
                 centres: Snapped, min_centers: int = 1) -> None:
        self.graph, self.minutes, self.source = graph, minutes, source
        self.min_centers = min_centers
        self.within, self.offroad_kmh, self.max_snap_km = within, offroad_kmh, max_snap_km
        self.centres = centres

    def _snap(self, lat: np.ndarray, lon: np.ndarray) -> Snapped:
        return travel.snap(self.graph, lon, lat, offroad_kmh=self.offroad_kmh,
                           max_snap_km=self.max_snap_km)

    def nearest(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1
                ) -> tuple[np.ndarray, np.ndarray]:
        mins, src = travel.point_minutes(self.minutes, self.source, self._snap(lat, lon),
                                         graph=self.graph, centers=self.centres)
        return src, mins

    def covered(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1) -> np.ndarray:
        if self.min_centers == 1:
            return self.nearest(lat, lon)[1] <= self.within
        return reached_by(self.pairs(lat, lon)[0], np.size(lat), self.min_centers)

    def pairs(self, lat: np.ndarray, lon: np.ndarray, *, threads: int = 1
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (point, centre, minutes) within T, sorted by point then centre: one search
        bounded at T per centre (see :func:`reachplan.roads.travel.point_pairs`)."""
        return travel.point_pairs(self.graph, self.centres, self._snap(lat, lon),
                                  limit=self.within)


def _steps(minutes: Any) -> tuple[float, ...]:
    """The thresholds in minutes, ascending (one-line errors naming ``minutes``)."""
    from reachplan.thresholds import check_thresholds

    return check_thresholds(minutes, "minutes")


class TravelRule:
    """Covered when ``min_centers`` centres are within ``minutes`` by road (0 when inside).

    Implements the coverage-rule protocol (``pairs``, ``nearest``, ``describe``, ``to_dict``,
    ``ring_m``, ``min_centers``, ``unit = "min"``). Costs are minutes: the off-road leg from
    the centre to its road vertex, the road, then the way into the district (see
    :mod:`reachplan.roads.travel`).
    """

    unit = "min"
    cost_column = "nearest_min"  # where its minutes go in every output (see cost)
    pairs_progress = True  # pairs() takes progress(done, total): plan's matrix shows a bar

    def __init__(self, graph: RoadGraph, minutes: float | Sequence[float], *,
                 min_centers: int = 1, offroad_kmh: float = OFFROAD_KMH,
                 max_snap_km: float = MAX_SNAP_KM, roads: str | None = None,
                 progress: Progress | None = None) -> None:
        steps = _steps(minutes)
        minutes = steps[-1]
        if int(min_centers) < 1:
            raise InputError(f"min_centers {min_centers}: must be at least 1")
        if not (math.isfinite(offroad_kmh) and offroad_kmh > 0):
            raise InputError(f"offroad_kmh {offroad_kmh}: must be a speed > 0 km/h")
        if not (math.isfinite(max_snap_km) and max_snap_km >= 0):
            raise InputError(f"max_snap_km {max_snap_km}: must be a distance >= 0 km")
        self.graph = graph
        self.minutes = float(minutes)  # the largest threshold: every search is bounded by it
        self.thresholds = steps if len(steps) > 1 else ()  # all of them, ascending
        self.min_centers = int(min_centers)
        # never quicker off the road than on its fastest road: walkers' roads are all at
        # 5 km/h (OSRM's foot.lua), so a walk off them is at most that (issue 18.6)
        self.offroad_kmh = min(float(offroad_kmh), graph.top_kmh or math.inf)
        self.max_snap_km = float(max_snap_km)
        self.roads = graph.source if roads is None else str(roads)
        # progress(what, done, total) of the long steps (district access, searches)
        self.progress = progress
        # the last districts seen and how they are entered; shared by with_minutes() copies
        self._access: list[tuple[bytes, DistrictAccess]] = []
        # the same, only what the last centres' minutes need of it (district_minutes)
        self._quickest: list[tuple[bytes, DistrictAccess]] = []
        # the last centres' search (nearest() and district_columns() ask for the same one)
        self._searched: list[tuple[bytes, tuple[np.ndarray, np.ndarray]]] = []
        # with min_centers > 1: the road vertices that enough centres reach within T
        self._reached: list[tuple[bytes, np.ndarray]] = []
        # the last points snapped (their coordinates' bytes) and where they joined the road,
        # the most recent first (plan asks for the centres, the candidates, the centres...)
        self._snapped: list[tuple[bytes, Snapped]] = []

    @classmethod
    def from_roads(cls, roads: str | Path, minutes: float | Sequence[float], *,
                   profile: str = "car",
                   speeds: str | Path | Mapping[str, float] | None = None,
                   speed_col: str | None = None, layer: str | None = None,
                   cache_dir: str | Path | bool | None = None, min_centers: int = 1,
                   offroad_kmh: float = OFFROAD_KMH, max_snap_km: float = MAX_SNAP_KM,
                   maxspeed_factor: float = 1.0, progress: Progress | None = None
                   ) -> TravelRule:
        """Build (or load from the cache) the graph of ``roads`` and make the rule;
        ``progress(what, done, total)`` reports the long steps, the graph's build included
        (:data:`reachplan.roads.travel.Progress`); several ``minutes`` (``[15, 30, 60]``):
        the coverage at each from one search bounded at the largest."""
        _steps(minutes)
        graph = load_roads(roads, profile=profile, speeds=speeds, speed_col=speed_col,
                           layer=layer, cache_dir=cache_dir, maxspeed_factor=maxspeed_factor,
                           progress=progress)
        return cls(graph, minutes, min_centers=min_centers, offroad_kmh=offroad_kmh,
                   max_snap_km=max_snap_km, roads=str(roads), progress=progress)

    def with_minutes(self, minutes: float) -> TravelRule:
        """The same rule with another T, sharing the graph and the districts' access."""
        other = TravelRule(self.graph, float(minutes), min_centers=self.min_centers,
                           offroad_kmh=self.offroad_kmh, max_snap_km=self.max_snap_km,
                           roads=self.roads, progress=self.progress)
        other._access, other._searched = self._access, self._searched
        other._quickest, other._snapped = self._quickest, self._snapped
        return other

    @property
    def profile(self) -> str:
        return self.graph.profile

    # -- the protocol -------------------------------------------------------------------
    def _minutes_text(self) -> str:
        return ", ".join(f"{t:g}" for t in self.thresholds or (self.minutes,))

    def describe(self) -> str:
        many = "centre" if self.min_centers == 1 else "centres"
        return (f"at least {self.min_centers} {many} within {self._minutes_text()} min by "
                f"road ({self.profile}, {Path(self.roads).name})")

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``"rule"`` block. The roads file (and a speeds file) is named by its file
        name and the first 16 hex digits of its content's SHA-256, never by its path: the
        same extract given by any path is the same rule (``compare``, ``check --expect``),
        and no local folder reaches an output."""
        out: dict[str, Any] = {"kind": "travel", "minutes": self.minutes,
                               "profile": self.profile, "roads": Path(self.roads).name}
        if self.graph.sha256:  # known for a graph read from a file
            out["roads_sha256"] = self.graph.sha256[:16]
        if self.graph.speeds_file is not None:  # only when given: earlier results stay equal
            out["speeds"], digest = self.graph.speeds_file
            out["speeds_sha256"] = digest[:16]
        if self.thresholds:  # only then: a rule of one threshold keeps its block
            out["thresholds_min"] = list(self.thresholds)
        out.update(min_centers=self.min_centers, offroad_kmh=self.offroad_kmh,
                   max_snap_km=self.max_snap_km)
        if self.graph.maxspeed_factor != 1.0:  # only when set: earlier results stay equal
            out["maxspeed_factor"] = self.graph.maxspeed_factor
        return out

    def ring_m(self) -> float | None:
        return None

    def snap(self, points) -> Snapped:
        """Road vertex and off-road leg of each point (GeoSeries/GeoDataFrame of points);
        the last few sets' answers are kept (the engine asks for the centres three times)."""
        lon, lat = _lonlat(points)
        key = np.asarray(lon, dtype=float).tobytes() + np.asarray(lat, dtype=float).tobytes()
        for at, (seen, snapped) in enumerate(self._snapped):
            if seen == key:  # the most recent first
                self._snapped.insert(0, self._snapped.pop(at))
                return snapped
        snapped = travel.snap(self.graph, lon, lat, offroad_kmh=self.offroad_kmh,
                              max_snap_km=self.max_snap_km)
        self._snapped[:] = [(key, snapped), *self._snapped[:_SNAPS_KEPT - 1]]
        return snapped

    def access(self, districts) -> DistrictAccess:
        """How each district is entered from the roads (cached for the last districts).

        The cache is keyed by the districts' shapes (their WKB in lon/lat), not by the object:
        ``frame.geometry`` is a new series at each call, so the engine's two questions (the
        decision, then ``district_columns``) used to compute it twice.
        """
        geoms = _wgs84(districts)
        key = _shapes_key(geoms)
        if not self._access or self._access[0][0] != key:
            self._access[:] = [(key, travel.district_access(
                self.graph, geoms, offroad_kmh=self.offroad_kmh,
                max_snap_km=self.max_snap_km, progress=self.progress))]
        return self._access[0][1]

    @property
    def reach(self) -> float:
        """A centre reaches a district or point within this many minutes."""
        return self.minutes

    @property
    def cost(self) -> Cost:
        """Minutes by road, in ``nearest_min`` beside the geodesic ``nearest_km``."""
        return Cost("min", self.minutes, self.cost_column, "min by road",
                    f"within {self._minutes_text()} min by road ({self.profile})",
                    reach_keys=(("minutes", self.minutes),), thresholds=self.thresholds)

    def point_reach(self, lat: np.ndarray, lon: np.ndarray) -> _TravelReach:
        """Demand points: the quickest centre by road (one search from all centres)."""
        import geopandas as gpd

        centres = self._snap_centres(gpd.GeoSeries(gpd.points_from_xy(lon, lat),
                                                   crs="EPSG:4326"))
        minutes, source = self._search(centres)
        return _TravelReach(self.graph, minutes, source, self.minutes, self.offroad_kmh,
                            self.max_snap_km, centres, self.min_centers)

    def pairs(self, districts, points, *, inside: Any = None,
              progress: Callable[[int, int], None] | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (district, centre) within T minutes, with the minutes (0 when inside).

        One search bounded at T per centre (``plan``'s candidate matrix); ``progress(done,
        total)`` is called after each batch of centres, for a progress bar (else the rule's
        own ``progress``).
        """
        if progress is None and self.progress is not None:
            progress = functools.partial(self.progress, "searches (centres)")
        geoms, pts = _wgs84(districts), _wgs84(points)
        snapped = self._snap_centres(pts)
        acc = self.access(districts)
        d_in, p_in, _ = polygons_within(geoms, pts, 0.0)
        out_d, out_p, out_c = [d_in], [p_in], [np.zeros(len(d_in))]
        d, c, cost = reach.district_pairs(self.graph, snapped, acc, limit=self.minutes,
                                          progress=progress)
        out_d.append(d)
        out_p.append(c)
        out_c.append(cost)
        d = np.concatenate(out_d).astype(np.int64)
        p = np.concatenate(out_p).astype(np.int64)
        cost = np.concatenate(out_c)
        order = np.lexsort((cost, p, d))  # inside (0) first for a pair found twice
        d, p, cost = d[order], p[order], cost[order]
        first = np.ones(len(d), dtype=bool)
        first[1:] = (d[1:] != d[:-1]) | (p[1:] != p[:-1])
        return d[first], p[first], cost[first]

    def nearest(self, districts, points, *, inside: Any = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Quickest centre of each district and its minutes (-1 / inf when none reaches)."""
        result = self.district_minutes(districts, points)
        return result[1], result[0]

    # -- beyond the protocol ------------------------------------------------------------
    def node_minutes(self, points) -> tuple[np.ndarray, np.ndarray]:
        """Minutes from the quickest centre to every road vertex, and that centre."""
        return self._search(self._snap_centres(points))

    def _search(self, snapped: Snapped) -> tuple[np.ndarray, np.ndarray]:
        """:func:`travel.nearest_minutes`, from the last search when the centres are the
        same."""
        key = _snapped_key(snapped)
        if not self._searched or self._searched[0][0] != key:
            if self.progress is not None:  # one multi-source search: no size to show
                self.progress("search (all centres at once)", 0, 0)
            self._searched[:] = [(key, travel.nearest_minutes(self.graph, snapped))]
            if self.progress is not None:
                self.progress("search (all centres at once)", 1, 1)
        return self._searched[0][1]

    def district_columns(self, districts, points) -> dict[str, np.ndarray]:
        """Per-district figures beside ``nearest_min`` in every output: the engine adds them.

        ``road_nodes_within_pct``: the % (0-100, 2 decimals) of the district's road vertices
        that ``min_centers`` centres reach within T minutes, the share of its demand when no
        demand points are given; NaN (``null``) for a district with no road vertex inside.
        """
        share = self.district_minutes(districts, points)[2]
        return {"road_nodes_within_pct": np.round(100.0 * share, 2)}

    def district_minutes(self, districts, points
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per district: ``nearest_min``, the quickest centre (-1), and the share of its road
        vertices that ``min_centers`` centres reach within T."""
        geoms, pts = _wgs84(districts), _wgs84(points)
        snapped = self._snap_centres(pts)
        minutes, source = self._search(snapped)
        d_in, p_in, _ = polygons_within(geoms, pts, 0.0)
        inside = np.full(len(geoms), -1, dtype=np.int64)
        first = np.unique(d_in, return_index=True)
        inside[first[0]] = p_in[first[1]]
        reached = self._reached_by_enough(snapped) if self.min_centers > 1 else None
        return travel.district_minutes(self._access_for(districts, minutes), minutes, source,
                                       inside, within=self.minutes, reached=reached)

    def _access_for(self, districts, minutes: np.ndarray) -> DistrictAccess:
        """:meth:`access`, or when it is not known yet, only what these minutes need of it
        (:func:`travel.district_access`'s ``minutes``; cached for the last districts and
        minutes). With ``min_centers`` > 1 the decision counts every pair within T
        (:meth:`pairs`): the whole access is computed once for both."""
        geoms = _wgs84(districts)
        key = _shapes_key(geoms)
        if self.min_centers > 1 or (self._access and self._access[0][0] == key):
            return self.access(districts)
        key += minutes.tobytes()
        if not self._quickest or self._quickest[0][0] != key:
            self._quickest[:] = [(key, travel.district_access(
                self.graph, geoms, offroad_kmh=self.offroad_kmh,
                max_snap_km=self.max_snap_km, progress=self.progress, minutes=minutes))]
        return self._quickest[0][1]

    def _reached_by_enough(self, snapped: Snapped) -> np.ndarray:
        """Road vertices that ``min_centers`` centres reach within T (one bounded search per
        centre), from the last answer when the centres and T are the same."""
        key = (_snapped_key(snapped)
               + np.float64(self.minutes).tobytes())
        if not self._reached or self._reached[0][0] != key:
            count = travel.centres_reaching(self.graph, snapped, limit=self.minutes,
                                            progress=self.progress)
            self._reached[:] = [(key, count >= self.min_centers)]
        return self._reached[0][1]

    def demand_minutes(self, demand, centers) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per demand point: minutes to it from the quickest centre, that centre (-1), and
        whether the point is off the network (then inf / -1)."""
        centres = self._snap_centres(centers)
        minutes, source = self._search(centres)
        snapped = self.snap(demand)
        mins, src = travel.point_minutes(minutes, source, snapped, graph=self.graph,
                                         centers=centres)
        return mins, src, snapped.off_network

    def isochrones(self, centers, minutes: Sequence[float] = (15, 30, 60), **options: Any
                   ) -> gpd.GeoDataFrame:
        """Service areas of ``centers`` (see :func:`reachplan.roads.isochrones`), with this
        rule's off-road leg."""
        from reachplan.roads.isochrones import isochrones

        return isochrones(self.graph, _wgs84_frame(centers), minutes,
                          offroad_kmh=self.offroad_kmh, max_snap_km=self.max_snap_km,
                          **options)

    def centre_notes(self, points) -> list[tuple[str, np.ndarray]]:
        """Centres that do not get onto the main road network, for the engine's warnings:
        (what, positions) for those off the network and those on a small fragment."""
        snapped = self.snap(points)
        km = f"{self.max_snap_km:g} km"
        return [(f"are more than {km} from every road (off the network; they reach nothing "
                 "by road)", np.flatnonzero(snapped.off_network)),
                (f"have no road of the main network within {km}, only a small disconnected "
                 "fragment (isolated; they reach only that fragment)",
                 np.flatnonzero(snapped.isolated))]

    def _snap_centres(self, points) -> Snapped:
        snapped = self.snap(points)
        if len(snapped) and snapped.off_network.all():
            raise InputError(f"centers: all {len(snapped)} centres are more than "
                             f"{self.max_snap_km:g} km (max_snap_km) from every road of "
                             f"{Path(self.roads).name}; check the roads file covers them",
                             params=("max_snap_km",))
        return snapped
