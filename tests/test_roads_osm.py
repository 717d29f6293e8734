"""Travel time on real OSM data (tests/fixtures/roads/helsinki.osm.pbf, ODbL, see README).

The reference is built independently here: osmium's callback handler (not the engine's
FileProcessor), the speed rules re-read from the README's table, brute-force geodesic
snapping over every vertex, and networkx's multi-source Dijkstra.
"""

from __future__ import annotations

import math
import re

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pyproj
import pytest
from _reference import brute_nearest_segment
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from reachplan.roads import TravelRule, load_roads, snap
from reachplan.roads.snapping import place

HELSINKI = "tests/fixtures/roads/helsinki.osm.pbf"
GEOD = pyproj.Geod(ellps="WGS84")
# the README's table: highway -> (car, motorcycle, walk) km/h, None = not used
TABLE = {
    "motorway": (100, 80, None), "motorway_link": (60, 50, None), "trunk": (80, 70, 5),
    "trunk_link": (50, 45, 5), "primary": (60, 55, 5), "primary_link": (40, 40, 5),
    "secondary": (50, 45, 5), "secondary_link": (35, 35, 5), "tertiary": (40, 40, 5),
    "tertiary_link": (30, 30, 5), "unclassified": (30, 30, 5), "residential": (25, 25, 5),
    "living_street": (10, 10, 5), "service": (15, 15, 5), "road": (25, 25, 5),
    "track": (15, 20, 5), "path": (None, 10, 5), "footway": (None, None, 5),
    "pedestrian": (None, None, 5), "steps": (None, None, 5), "cycleway": (None, None, 5),
    "bridleway": (None, None, 5),
}
COLUMN = {"car": 0, "motorcycle": 1, "walk": 2}
# values that close a way (the README, after OSRM's car.lua and foot.lua blacklists)
MOTOR_CLOSED = ["no", "private", "agricultural", "forestry", "emergency", "psv", "taxi",
                "share_taxi", "minibus", "bus", "foot", "emergency_vehicle", "restricted",
                "military", "official"]
CLOSED = {"car": MOTOR_CLOSED, "motorcycle": MOTOR_CLOSED,
          "walk": ["no", "private", "agricultural", "forestry", "delivery", "use_sidepath"]}
ACCESS = {"car": ["motorcar", "motor_vehicle", "vehicle", "access"],
          "motorcycle": ["motorcycle", "motor_vehicle", "vehicle", "access"],
          "walk": ["foot", "access"]}


class Reference(osmium.SimpleHandler):
    """Directed edges {(u, v): minutes} and vertex coordinates, for one profile."""

    def __init__(self, profile: str) -> None:
        super().__init__()
        self.profile = profile
        speeds = {k: v[COLUMN[profile]] for k, v in TABLE.items()}
        self.speeds = {k: v for k, v in speeds.items() if v is not None}
        self.top = max(self.speeds.values())
        # vertices are places: keyed by osmium's fixed-point (x, y) = 1e-7 degree
        self.edges: dict[tuple, float] = {}
        self.where: dict[tuple[int, int], tuple[float, float]] = {}

    def kmh(self, tags) -> float | None:
        base = self.speeds.get(tags.get("highway"))
        for key in ACCESS[self.profile]:
            if key in tags:
                if tags[key] in CLOSED[self.profile]:
                    return None
                break
        if base is None or self.profile == "walk":
            return base
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*", tags.get("maxspeed", ""))
        if m:
            limit = float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0)
            if 5 <= limit <= 150:
                return min(limit, self.top)
        return base

    def way(self, w) -> None:
        if "highway" not in w.tags:
            return
        tags = {t.k: t.v for t in w.tags}
        kmh = self.kmh(tags)
        if kmh is None:
            return
        fwd = bwd = True
        if self.profile != "walk":
            one = tags.get("oneway")
            if one in ("yes", "true", "1"):
                bwd = False
            elif one in ("-1", "reverse"):
                fwd = False
            elif one not in ("no", "false", "0") and (
                    tags.get("junction") in ("roundabout", "circular")
                    or tags["highway"] == "motorway"):
                bwd = False
        locs = [n.location for n in w.nodes]
        for la, lb in zip(locs, locs[1:], strict=False):
            if not (la.valid() and lb.valid()):
                continue
            a, b = (la.x, la.y), (lb.x, lb.y)
            if a == b:
                continue
            self.where[a] = (la.lon, la.lat)
            self.where[b] = (lb.lon, lb.lat)
            metres = GEOD.inv(la.lon, la.lat, lb.lon, lb.lat)[2]
            minutes = metres / 1000.0 / kmh * 60.0
            for key, ok in (((a, b), fwd), ((b, a), bwd)):
                if ok:
                    self.edges[key] = min(self.edges.get(key, math.inf), minutes)


def reference_graph(profile: str, path: str = HELSINKI):
    """networkx DiGraph of the roads, its vertex keys and their lon/lat, the top speed."""
    ref = Reference(profile)
    ref.apply_file(path, locations=True)
    g = nx.DiGraph()
    g.add_weighted_edges_from((u, v, w) for (u, v), w in ref.edges.items())
    ids = list(ref.where)
    lon = np.array([ref.where[i][0] for i in ids])
    lat = np.array([ref.where[i][1] for i in ids])
    return g, ids, lon, lat, ref.top


_MAIN: list = []  # [(graph, mask)]: the last graph's main-network vertices


def main_mask(g, ids) -> np.ndarray:
    """networkx: vertices in strongly connected parts of >= 1000 vertices (OSRM's "big
    components"); all False when there is none."""
    if not _MAIN or _MAIN[0][0] is not g:
        big = set().union(*(c for c in nx.strongly_connected_components(g) if len(c) >= 1000))
        _MAIN[:] = [(g, np.array([i in big for i in ids]))]
    return _MAIN[0][1]


def nearest_preferring_main(metres: np.ndarray, main: np.ndarray, reach_m: float) -> int:
    """The nearest main entry within reach, else the nearest of all (brute force)."""
    if main.any() and metres[main].min() <= reach_m:
        return int(np.flatnonzero(main)[np.argmin(metres[main])])
    return int(np.argmin(metres))


def segments_of(g, ids, lon, lat) -> tuple[list, np.ndarray, np.ndarray]:
    """Every road segment of the reference graph once (vertex keys), its ends' lon/lat and
    whether it is on the main network (both ends in a big strongly connected part)."""
    where = dict(zip(ids, zip(lon.tolist(), lat.tolist(), strict=True), strict=True))
    pairs = sorted({tuple(sorted((a, b))) for a, b in g.edges})
    ends = np.array([(*where[a], *where[b]) for a, b in pairs]).reshape(-1, 4)
    main = dict(zip(ids, main_mask(g, ids).tolist(), strict=True))
    return pairs, ends, np.array([main[a] and main[b] for a, b in pairs], dtype=bool)


def brute_snap(segments, x: float, y: float, reach_m: float = 2000.0):
    """(segment, fraction, metres, isolated) of the nearest point of a main-network segment
    within reach, else of any segment, by brute force; None beyond reach."""
    pairs, ends, main = segments
    k, f, metres = brute_nearest_segment(x, y, ends[main]) if main.any() else (-1, 0, np.inf)
    isolated = metres > reach_m
    if isolated:
        k, f, metres = brute_nearest_segment(x, y, ends)
    else:
        k = int(np.flatnonzero(main)[k])
    return None if metres > reach_m else (k, f, metres, isolated and main.any())


def splice(g, ids, lon, lat, places) -> tuple[object, list]:
    """A copy of the reference graph with each place (lon, lat) joined to its brute-force
    nearest road point: the segment cut there (its minutes split in proportion, several cuts
    in order) and a vertex ("place", i) leading to the cut by the off-road leg at 5 km/h.
    Returns the graph and each place's leg in minutes (None: off the network)."""
    segments = segments_of(g, ids, lon, lat)
    cuts: dict[int, list] = {}
    legs = []
    for i, (x, y) in enumerate(places):
        found = brute_snap(segments, x, y)
        legs.append(None if found is None else found[2] / 1000.0 / 5.0 * 60.0)
        if found is not None:
            cuts.setdefault(found[0], []).append((found[1], i))
    h = g.copy()
    for k, at in cuts.items():
        a, b = segments[0][k]
        inner = [(f, ("cut", i)) for f, i in sorted(at) if 0 < f < 1]
        chain = [(0.0, a), *inner, (1.0, b)]
        for (fp, p), (fq, q) in zip(chain[:-1], chain[1:], strict=True):
            for s, t, w in ((p, q, g.get_edge_data(a, b)), (q, p, g.get_edge_data(b, a))):
                if w is not None:
                    h.add_edge(s, t, weight=(fq - fp) * w["weight"])
        for f, i in at:  # a place at a vertex joins the vertex itself
            h.add_edge(("place", i), a if f <= 0 else b if f >= 1 else ("cut", i),
                       weight=legs[i])
    return h, legs


def reference_minutes(profile: str, centres: list[tuple[float, float]], path: str = HELSINKI
                      ) -> tuple[dict[tuple[int, int], float], float]:
    g, ids, lon, lat, top = reference_graph(profile, path)
    h, legs = splice(g, ids, lon, lat, centres)
    sources = [("place", k) for k, leg in enumerate(legs) if leg is not None]
    lengths = nx.multi_source_dijkstra_path_length(h, sources)
    return {i: lengths.get(i, math.inf) for i in ids}, top


def reach_per_centre(g, ids, lon, lat, centres, minutes: float, points=()
                     ) -> list[dict]:
    """Per centre, {vertex key or ("point", i): minutes} of every vertex (and point) it
    reaches within ``minutes``: centres and points joined to the road by brute force,
    networkx's Dijkstra from each centre with cutoff T ({} for a centre off the network)."""
    h, legs = splice(g, ids, lon, lat, [*centres, *points])
    out = []
    for k in range(len(centres)):
        if legs[k] is None:
            out.append({})
            continue
        reach = nx.single_source_dijkstra_path_length(h, ("place", k), cutoff=minutes)
        got = {v: m for v, m in reach.items() if not isinstance(v[0], str)}
        for i in range(len(points)):
            j = len(centres) + i
            joined = [v for v in h.successors(("place", j))] if legs[j] is not None else []
            if joined and joined[0] in reach:
                cost = reach[joined[0]] + legs[j]
                if cost <= minutes:
                    got[("point", i)] = cost
        out.append(got)
    return out


def random_centres(graph, n: int, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    return list(zip(rng.uniform(graph.lon.min(), graph.lon.max(), n).tolist(),
                    rng.uniform(graph.lat.min(), graph.lat.max(), n).tolist(), strict=True))


def as_points(lonlat) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy([p[0] for p in lonlat], [p[1] for p in lonlat]),
                         crs="EPSG:4326")


@pytest.mark.parametrize("profile", ["car", "motorcycle", "walk"])
def test_every_vertex_matches_networkx_on_an_independent_graph(profile, tmp_path):
    graph = load_roads(HELSINKI, profile=profile, cache_dir=tmp_path)
    centres = random_centres(graph, 5, seed=1)
    expected, top = reference_minutes(profile, centres)
    places = list(zip(np.round(graph.lon * 1e7).astype(int).tolist(),
                      np.round(graph.lat * 1e7).astype(int).tolist(), strict=True))
    assert sorted(expected) == sorted(places)  # the same vertices
    minutes, source = TravelRule(graph, 30).node_minutes(as_points(centres))
    want = np.array([expected[p] for p in places])
    assert np.array_equal(np.isinf(minutes), np.isinf(want))
    finite = np.isfinite(want)
    assert finite.mean() > 0.5  # most of the town is reached
    np.testing.assert_allclose(minutes[finite], want[finite], rtol=1e-9, atol=0)
    assert graph.top_kmh <= top  # the fastest road actually used
    assert ((source >= 0) == finite).all()


def test_the_cached_graph_gives_the_same_minutes(tmp_path):
    first = load_roads(HELSINKI, cache_dir=tmp_path)
    again = load_roads(HELSINKI, cache_dir=tmp_path)
    assert again.from_cache
    centres = as_points(random_centres(first, 3, seed=2))
    a = TravelRule(first, 10).node_minutes(centres)[0]
    b = TravelRule(again, 10).node_minutes(centres)[0]
    np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def helsinki_car(tmp_path_factory):
    return load_roads(HELSINKI, cache_dir=tmp_path_factory.mktemp("cache"))


def grid(graph, n: int = 4) -> gpd.GeoSeries:
    xs = np.linspace(graph.lon.min(), graph.lon.max(), n + 1)
    ys = np.linspace(graph.lat.min(), graph.lat.max(), n + 1)
    return gpd.GeoSeries([box(xs[i], ys[j], xs[i + 1], ys[j + 1])
                          for i in range(n) for j in range(n)], crs="EPSG:4326")


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 6))
def test_properties(helsinki_car, seed, n):
    graph = helsinki_car
    centres = random_centres(graph, n, seed)
    points = as_points(centres)
    rule = TravelRule(graph, 3)
    districts = grid(graph)
    minutes, source = rule.node_minutes(points)
    # never quicker than the straight line at the fastest speed
    lon = np.array([c[0] for c in centres])[np.maximum(source, 0)]
    lat = np.array([c[1] for c in centres])[np.maximum(source, 0)]
    crow_min = GEOD.inv(lon, lat, graph.lon, graph.lat)[2] / 1000.0 / graph.top_kmh * 60.0
    ok = source >= 0
    assert (minutes[ok] >= crow_min[ok] * (1 - 1e-12)).all()
    # a larger T never lowers coverage
    pairs = {}
    for t in (1, 3, 6):
        d, p, _ = rule.with_minutes(t).pairs(districts, points)
        pairs[t] = set(zip(d.tolist(), p.tolist(), strict=True))
    assert pairs[1] <= pairs[3] <= pairs[6]
    # presence: a centre inside a district puts it at 0 minutes
    near, who, _ = rule.district_minutes(districts, points)
    holds = [i for i, g in enumerate(districts) if any(g.intersects(q) for q in points)]
    assert (near[holds] == 0).all() and (who[holds] >= 0).all()
    # pairs and nearest agree on the quickest centre's minutes
    d, _, c = rule.with_minutes(1e6).pairs(districts, points)
    quickest = np.full(len(districts), np.inf)
    np.minimum.at(quickest, d, c)
    np.testing.assert_allclose(quickest, near, rtol=1e-12)


@pytest.mark.parametrize("max_snap_km", [100.0, 0.03])
def test_snapping_is_the_brute_force_geodesic_nearest(helsinki_car, max_snap_km):
    """The nearest point of a main-network road segment (networkx's strongly connected parts
    of >= 1000 vertices) within max_snap_km, else of any segment; by brute force over every
    segment (scipy's Brent search along each geodesic). The place it joins is at that
    distance, between or at the segment's vertices."""
    graph = helsinki_car
    g = nx.from_scipy_sparse_array(graph.matrix, create_using=nx.DiGraph)
    ids = list(range(graph.n_nodes))
    assert 0.5 < main_mask(g, ids).mean() < 1.0  # Helsinki's car graph has small fragments
    segments = segments_of(g, ids, graph.lon, graph.lat)
    pts = random_centres(graph, 120, seed=3)
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    got = snap(graph, lon, lat, max_snap_km=max_snap_km)
    x, y = place(graph, np.maximum(got.pos, 0), got.frac)
    fragments = between = 0
    for i in range(len(pts)):
        want = brute_snap(segments, lon[i], lat[i], max_snap_km * 1000.0)
        if want is None:
            assert got.node[i] == -1 and not got.isolated[i]
            continue
        assert got.leg_m[i] == pytest.approx(want[2], rel=1e-9, abs=1e-6)
        assert GEOD.inv(lon[i], lat[i], x[i], y[i])[2] == pytest.approx(want[2], abs=1e-6)
        assert got.isolated[i] == want[3]
        fragments += want[3] or brute_nearest_segment(lon[i], lat[i], segments[1])[2] < want[2]
        between += 0 < got.frac[i] < 1
    assert between > len(pts) // 2  # most points join a road between two vertices
    assert fragments > 0  # some points had a nearer fragment than the main network


TINY = "tests/fixtures/roads/tiny.osm"


def _frames(boxes, centres):
    """Districts and centres as reachplan.io gives them."""
    districts = gpd.GeoDataFrame({"id": [f"d{i:02d}" for i in range(len(boxes))],
                                  "name": None, "group": None, "weight": np.nan},
                                 geometry=list(boxes), crs="EPSG:4326")
    points = gpd.GeoDataFrame({"name": [f"c{i}" for i in range(len(centres))],
                               "lat": [y for _, y in centres], "lon": [x for x, _ in centres]},
                              geometry=as_points(centres).array, crs="EPSG:4326")
    return districts, points


@pytest.mark.parametrize("place", ["tiny", "helsinki"])
@pytest.mark.parametrize("minutes", [1.5, 3.0, 6.0])
@pytest.mark.parametrize("min_centers", [1, 2, 3])
def test_share_of_road_vertices_within_t_matches_networkx(place, minutes, min_centers,
                                                          helsinki_car):
    """road_nodes_within_pct: per district, % of the road vertices inside it that at least
    min_centers centres reach within T, by networkx's Dijkstra from each centre (cutoff T)
    on the independently built graph. On tiny.osm two centres share vertex 4 (each counts)
    and one is off the network."""
    from reachplan.engine import assess

    if place == "tiny":  # tests/fixtures/roads/README.md: A, B (one-ways), the island C
        path, graph = TINY, load_roads(TINY, cache_dir=False)
        boxes = [box(-0.001, -0.001, 0.015, 0.001), box(0.015, -0.001, 0.065, 0.001),
                 box(0.49, -0.001, 0.52, 0.001), box(0.009, 0.003, 0.011, 0.004)]
        centres = [(0.0, 0.0), (0.03, 0.0), (0.03, 0.0), (3.0, 3.0)]
    else:
        path, graph = HELSINKI, helsinki_car
        pad = 1e-4  # no vertex on the outer edges
        xs = np.linspace(graph.lon.min() - pad, graph.lon.max() + pad, 5)
        ys = np.linspace(graph.lat.min() - pad, graph.lat.max() + pad, 5)
        boxes = [box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(4) for j in range(4)]
        centres = random_centres(graph, 6, seed=7)
    g, ids, lon, lat, _ = reference_graph("car", path)
    count = dict.fromkeys(ids, 0)
    for reach in reach_per_centre(g, ids, lon, lat, centres, minutes):
        for v in reach:
            count[v] += 1
    want = []
    for poly in boxes:
        inside = [c for (x, y), c in count.items() if poly.intersects(Point(x / 1e7, y / 1e7))]
        want.append(round(100.0 * sum(c >= min_centers for c in inside) / len(inside), 2)
                    if inside else None)
    assert any(w not in (None, 0.0, 100.0) for w in want) or place == "tiny"
    districts, points = _frames(boxes, centres)
    result = assess(districts, points, TravelRule(graph, minutes, min_centers=min_centers))
    got = [d["road_nodes_within_pct"] for d in result.to_dict()["districts"]]
    assert got == want


@pytest.mark.parametrize("place", ["tiny", "helsinki"])
def test_point_pairs_match_networkx_per_centre(place, helsinki_car):
    """The travel rule's point reach lists every (point, centre) within T with its minutes:
    networkx's Dijkstra from each centre (cutoff T) on the independent graph, plus each
    point's off-road leg, centres and points joined to their nearest road point by brute
    force (a centre and a point on one segment reach each other along it)."""
    if place == "tiny":
        path, graph, minutes = TINY, load_roads(TINY, cache_dir=False), 6.0
        centres = [(0.0, 0.0), (0.03, 0.0), (0.03, 0.0), (0.5, 0.0), (3.0, 3.0)]
        points = [(0.01, 0.0), (0.02, 0.0), (0.04, 0.0), (0.06, 0.0), (0.505, 0.0),
                  (0.0, 0.005), (2.0, 2.0)]
    else:
        path, graph, minutes = HELSINKI, helsinki_car, 4.0
        centres = random_centres(graph, 6, seed=11)
        points = random_centres(graph, 200, seed=12)
    g, ids, lon, lat, _ = reference_graph("car", path)
    want = {}
    for k, reach in enumerate(reach_per_centre(g, ids, lon, lat, centres, minutes, points)):
        for key, cost in reach.items():
            if key[0] == "point":
                want[(key[1], k)] = cost
    assert len(want) > len(points) // 4 or place == "tiny"
    reach = TravelRule(graph, minutes).point_reach(np.array([c[1] for c in centres]),
                                                   np.array([c[0] for c in centres]))
    p, c, cost = reach.pairs(np.array([q[1] for q in points]), np.array([q[0] for q in points]))
    assert list(zip(p.tolist(), c.tolist(), strict=True)) == sorted(want)
    np.testing.assert_allclose(cost, [want[k] for k in sorted(want)], rtol=1e-9, atol=1e-12)
    # the quickest pair of each point is the point's nearest minutes
    src, near = reach.nearest(np.array([q[1] for q in points]), np.array([q[0] for q in points]))
    quickest = np.full(len(points), np.inf)
    np.minimum.at(quickest, p, cost)
    np.testing.assert_allclose(quickest, np.where(near <= minutes, near, np.inf), rtol=1e-12)
    # with min_centers=k a point is covered when the reference lists k centres within T
    plat, plon = np.array([q[1] for q in points]), np.array([q[0] for q in points])
    clat, clon = np.array([c[1] for c in centres]), np.array([c[0] for c in centres])
    for k in (1, 2, 3):
        many = np.bincount([i for i, _ in want], minlength=len(points)) >= k
        got = TravelRule(graph, minutes, min_centers=k).point_reach(clat, clon).covered(plat, plon)
        np.testing.assert_array_equal(got, many)
