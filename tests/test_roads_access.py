"""How districts are entered from the roads: computed once per districts, the same minutes
as a brute-force reference (networkx's Dijkstra, geodesic distances to densely sampled
district edges) on random graphs."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
from _reference import brute_snap
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from reachplan.engine import assess
from reachplan.geodesy.polygons import _in_sorted
from reachplan.roads import TravelRule, graph_from_segments
from reachplan.roads import travel as travel_module
from reachplan.roads.osm import Segments, position_key

GEOD = pyproj.Geod(ellps="WGS84")


def random_roads(seed: int, side: int = 10, step: float = 0.002):
    """A jittered lattice with a tenth of its links missing, random speeds and one-ways."""
    rng = np.random.default_rng(seed)
    x, y = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    lon = (x.ravel() + rng.uniform(-0.3, 0.3, side * side)) * step
    lat = (y.ravel() + rng.uniform(-0.3, 0.3, side * side)) * step
    u = np.r_[np.flatnonzero(x.ravel() + 1 < side), np.flatnonzero(y.ravel() + 1 < side)]
    v = np.r_[u[: (side - 1) * side] + side, u[(side - 1) * side:] + 1]
    keep = rng.random(len(u)) >= 0.1
    u, v = u[keep], v[keep]
    kmh = rng.choice([10.0, 25.0, 50.0], len(u))
    fwd = np.ones(len(u), dtype=bool)
    bwd = rng.random(len(u)) >= 0.2
    seg = Segments(position_key(lon[u], lat[u]), position_key(lon[v], lat[v]), lon[u], lat[u],
                   lon[v], lat[v], kmh, fwd, bwd)
    return seg, graph_from_segments(seg, "car")


def random_boxes(rng, n: int, smallest: float) -> list:
    """``n`` boxes over the lattice of :func:`random_roads` and a little beyond it."""
    boxes = []
    for _ in range(n):
        x0, y0 = rng.uniform(-0.002, 0.018, 2)
        w, h = rng.uniform(smallest, 0.006, 2)
        boxes.append(box(x0, y0, x0 + w, y0 + h))
    return boxes


def frames(boxes, centres):
    districts = gpd.GeoDataFrame({"id": [f"d{i}" for i in range(len(boxes))], "name": None,
                                  "group": None, "weight": np.nan}, geometry=boxes,
                                 crs="EPSG:4326")
    points = gpd.GeoDataFrame({"name": [f"c{i}" for i in range(len(centres))],
                               "lat": [c[1] for c in centres], "lon": [c[0] for c in centres]},
                              geometry=gpd.points_from_xy([c[0] for c in centres],
                                                          [c[1] for c in centres]),
                              crs="EPSG:4326")
    return districts, points


def reference(seg: Segments, boxes, centres, snap_km: float) -> list[float]:
    """Per district: 0 with a centre inside, else min over road vertices of their minutes
    (networkx, centres joined to their nearest segment's point, found by brute force over
    every segment, 5 km/h off road) plus the walk to the district
    (0 inside, else to the nearest of 4,000 samples of its edges, when within snap_km)."""
    g = nx.DiGraph()
    for i in range(len(seg.u_id)):
        a, b = (seg.u_lon[i], seg.u_lat[i]), (seg.v_lon[i], seg.v_lat[i])
        w = GEOD.inv(a[0], a[1], b[0], b[1])[2] / 1000 / seg.kmh[i] * 60
        for p, q, ok in ((a, b, seg.forward[i]), (b, a, seg.backward[i])):
            if ok and w < g.get_edge_data(p, q, {"weight": math.inf})["weight"]:
                g.add_edge(p, q, weight=w)
    nodes = list(g)
    lon = np.array([n[0] for n in nodes])
    lat = np.array([n[1] for n in nodes])
    pairs = sorted({tuple(sorted((p, q))) for p, q in g.edges})
    for k, (x, y) in enumerate(centres):  # each centre joins its nearest segment's point
        i, f, metres = brute_snap(x, y, [(*p, *q) for p, q in pairs])
        if metres > snap_km * 1000:
            continue
        p, q = pairs[i]
        for a, b, share in ((p, q, f), (q, p, 1 - f)):  # split the segment's minutes there
            if g.has_edge(a, b):
                w = g[a][b]["weight"]
                g.add_edge(a, ("x", k), weight=share * w)
                g.add_edge(("x", k), b, weight=(1 - share) * w)
        g.add_edge(("c", k), ("x", k), weight=metres / 1000 / 5 * 60)
    lengths = nx.multi_source_dijkstra_path_length(g, [n for n in g if n[0] == "c"])
    out = []
    for poly in boxes:
        if any(poly.intersects(Point(c)) for c in centres):
            out.append(0.0)
            continue
        ring = np.array(poly.exterior.coords)
        t = np.linspace(0, 1, 1000, endpoint=False)
        samples = np.vstack([a + t[:, None] * (b - a) for a, b in zip(ring[:-1], ring[1:],
                                                                        strict=True)])
        best = math.inf
        for n, x, y in zip(nodes, lon, lat, strict=True):
            if n not in lengths:
                continue
            if poly.intersects(Point(x, y)):
                walk = 0.0
            else:
                d = GEOD.inv(np.full(len(samples), x), np.full(len(samples), y),
                             samples[:, 0], samples[:, 1])[2].min()
                walk = d / 1000 / 5 * 60 if d <= snap_km * 1000 else math.inf
            best = min(best, lengths[n] + walk)
        out.append(best)
    return out


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_district_minutes_equal_a_brute_force_reference(seed):
    seg, graph = random_roads(seed)
    rng = np.random.default_rng(seed + 1)
    boxes = random_boxes(rng, 4, 0.001)
    centres = [tuple(c) for c in rng.uniform(0.0, 0.018, (2, 2))]
    districts, points = frames(boxes, centres)
    got = TravelRule(graph, 60, max_snap_km=0.3).district_minutes(districts, points)[0]
    want = reference(seg, boxes, centres, 0.3)
    # the reference samples each boundary edge at 1000 points, so its walk is long by at most
    # half a sample spacing (triangle inequality): reachplan's exact minutes lie in that band
    spacing_m = max(GEOD.inv(*a, *b)[2] for poly in boxes
                    for a, b in zip(poly.exterior.coords[:-1], poly.exterior.coords[1:],
                                    strict=True)) / 1000
    slack_min = spacing_m / 2 / 1000 / 5 * 60
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert np.all(got <= want * (1 + 1e-6) + 1e-9), (got, want)  # seed 182: 4e-9 above
    assert np.all(got >= want - slack_min - 1e-9), (got, want, slack_min)


def test_one_assessment_computes_district_access_once(monkeypatch):
    """The engine asks the rule twice (the decision, then its district columns), each time
    with a new GeoSeries of the same shapes: one computation (it was two)."""
    calls = []
    real = travel_module.district_access
    monkeypatch.setattr(travel_module, "district_access",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    _, graph = random_roads(1)
    districts, points = frames([box(0, 0, 0.01, 0.01), box(0.01, 0, 0.02, 0.01)],
                               [(0.005, 0.005)])
    rule = TravelRule(graph, 5)
    assess(districts, points, rule)
    assert len(calls) == 1
    assess(districts.copy(), points, rule.with_minutes(3))  # equal shapes: still cached
    assert len(calls) == 1
    moved = districts.set_geometry([box(0, 0, 0.01, 0.011), box(0.01, 0, 0.02, 0.01)])
    assess(moved, points, rule)  # other shapes: computed again
    assert len(calls) == 2


@given(keys=st.lists(st.integers(-50, 50), max_size=30),
       table=st.lists(st.integers(-50, 50), max_size=30))
def test_in_sorted_is_isin(keys, table):
    k, t = np.array(keys, dtype=np.int64), np.sort(np.array(table, dtype=np.int64))
    np.testing.assert_array_equal(_in_sorted(k, t), np.isin(k, t))


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10**6), snap_km=st.sampled_from([0.1, 0.3, 2.0]))
def test_access_for_given_minutes_gives_the_same_minutes_as_every_pair(seed, snap_km):
    """district_access(minutes=...) measures only the vertices that can give a district its
    quickest way in: district_minutes from it equal those from every pair (minutes, centre,
    share), to the bit, and it lists no pair the full access lacks."""
    _, graph = random_roads(seed)
    rng = np.random.default_rng(seed + 2)
    boxes = random_boxes(rng, 5, 0.0005)
    centres = gpd.GeoSeries(gpd.points_from_xy(*rng.uniform(0.0, 0.018, (2, 2))),
                            crs="EPSG:4326")
    centres_snapped = travel_module.snap(graph, centres.x, centres.y)
    minutes, source = travel_module.nearest_minutes(graph, centres_snapped)
    geoms = gpd.GeoSeries(boxes, crs="EPSG:4326")
    full = travel_module.district_access(graph, geoms, max_snap_km=snap_km)
    some = travel_module.district_access(graph, geoms, max_snap_km=snap_km, minutes=minutes)
    inside = np.full(len(boxes), -1)
    for a, b in zip(travel_module.district_minutes(full, minutes, source, inside, within=3.0),
                    travel_module.district_minutes(some, minutes, source, inside, within=3.0),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    pairs = set(zip(full.district.tolist(), full.node.tolist(), full.leg_min.tolist(),
                    strict=True))
    assert set(zip(some.district.tolist(), some.node.tolist(), some.leg_min.tolist(),
                   strict=True)) <= pairs
    assert len(some.district) <= len(full.district)
