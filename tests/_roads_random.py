"""Random road graphs for the roads tests: random ways over points on a small grid."""

from __future__ import annotations

import numpy as np

from reachplan.roads import graph_from_segments
from reachplan.roads.osm import Segments, position_key


def random_graph(rng: np.random.Generator, *, rings: float = 0.0, oneway: float = 0.3):
    """Random ways (some one-way, bends and junctions) over points on a grid of 0.001
    degree; a share ``rings`` of the ways closed (a ring, or a loop back to a junction).
    None when no way has a segment."""
    n = int(rng.integers(4, 60))
    lon = np.round(rng.integers(0, 30, n) * 0.001, 4)
    lat = np.round(rng.integers(0, 30, n) * 0.001, 4)
    u, v, fwd, bwd = [], [], [], []
    for _ in range(int(rng.integers(1, 15))):
        way = rng.choice(n, size=min(n, int(rng.integers(2, 12))), replace=False)
        if rings and rng.random() < rings:
            way = np.append(way, way[0])
        one = rng.random() < oneway
        for a, b in zip(way[:-1].tolist(), way[1:].tolist(), strict=True):
            if (lon[a], lat[a]) != (lon[b], lat[b]):
                u.append(a)
                v.append(b)
                fwd.append(True)
                bwd.append(not one)
    if not u:
        return None
    ua, va = np.array(u), np.array(v)
    seg = Segments(position_key(lon[ua], lat[ua]), position_key(lon[va], lat[va]),
                   lon[ua], lat[ua], lon[va], lat[va], rng.choice([20.0, 50.0], len(ua)),
                   np.array(fwd), np.array(bwd))
    return graph_from_segments(seg, "car")
