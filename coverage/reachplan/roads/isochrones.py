"""Service areas (isochrones): where each centre reaches within 15, 30, 60... minutes.

Method: **buffered reached edges**. For one centre and a band of T minutes, every road
segment u -> v with u reached in ``t_u <= T`` is kept: whole when ``t_u + w <= T``, else the
first ``(T - t_u) / w`` of it (the part driven before time runs out), plus the centre's
off-road leg. Those lines are buffered by ``buffer_m`` metres in an azimuthal equidistant
projection centred on the centre (true distances around it) and merged into one (multi)
polygon, returned in EPSG:4326. Bands are cumulative: the 60-minute area contains the
30-minute one. Unlike a concave hull, the polygon never claims land between roads that
no road reaches. ``area_km2`` is geodesic (WGS84).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from reachplan.errors import InputError
from reachplan.roads.graph import RoadGraph
from reachplan.roads.travel import MAX_SNAP_KM, OFFROAD_KMH, search, snap

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["isochrones"]

BUFFER_M = 50.0


def _bands(minutes: Sequence[float]) -> list[float]:
    bands = sorted({float(m) for m in minutes})
    if not bands or not all(np.isfinite(b) and b > 0 for b in bands):
        raise InputError(f"minutes {list(minutes)}: give one or more travel times > 0")
    return bands


def isochrones(graph: RoadGraph, centers, minutes: Sequence[float] = (15, 30, 60), *,
               names: Sequence[str] | None = None, offroad_kmh: float = OFFROAD_KMH,
               max_snap_km: float = MAX_SNAP_KM, buffer_m: float = BUFFER_M
               ) -> gpd.GeoDataFrame:
    """A GeoDataFrame with one row per centre and band: ``center``, ``minutes``,
    ``off_network``, ``area_km2`` and the service-area polygon (empty when off the network).

    ``centers`` is a GeoSeries/GeoDataFrame of points; ``names`` labels them (default: the
    centres' ``name`` column, else their positions).
    """
    import geopandas as gpd
    import pyproj
    import shapely

    bands = _bands(minutes)
    if not (np.isfinite(buffer_m) and buffer_m > 0):
        raise InputError(f"buffer_m {buffer_m}: must be a distance > 0 m")
    geoms = getattr(centers, "geometry", centers)
    if geoms.crs is not None and not geoms.crs.equals("EPSG:4326"):
        geoms = geoms.to_crs("EPSG:4326")
    if names is None:
        names = (centers["name"].astype(str).tolist() if hasattr(centers, "columns")
                 and "name" in centers.columns else [str(i) for i in range(len(geoms))])
    lon, lat = np.asarray(geoms.x), np.asarray(geoms.y)
    snapped = snap(graph, lon, lat, offroad_kmh=offroad_kmh, max_snap_km=max_snap_km)
    if len(snapped) and snapped.off_network.all():
        raise InputError(f"centers: all {len(snapped)} centres are more than {max_snap_km:g} "
                         "km (max_snap_km) from every road; check the roads file covers them",
                         params=("max_snap_km",))
    m = graph.matrix
    geod = pyproj.Geod(ellps="WGS84")
    areas: dict[int, list] = {}
    for idx, dist in search(graph, snapped, limit=bands[-1], chunk=1):
        c = int(idx[0])
        t = dist[0]
        aeqd = pyproj.Transformer.from_crs(
            "EPSG:4326", f"+proj=aeqd +lat_0={lat[c]} +lon_0={lon[c]} +datum=WGS84 +units=m",
            always_xy=True)
        cx, cy = aeqd.transform(lon[c], lat[c])
        reached = np.flatnonzero(np.isfinite(t))
        sub = m[reached]
        u = np.repeat(reached, np.diff(sub.indptr))
        v, w = sub.indices, sub.data
        # project only the vertices this centre's area touches, not the whole graph
        x = np.full(graph.n_nodes, np.nan)
        y = np.full(graph.n_nodes, np.nan)
        near = np.union1d(np.union1d(u, v), [snapped.node[c]])
        x[near], y[near] = aeqd.transform(graph.lon[near], graph.lat[near])
        polys = []
        for band in bands:
            keep = t[u] <= band
            uu, vv, ww = u[keep], v[keep], w[keep]
            frac = np.where(ww > 0, np.clip((band - t[uu]) / np.where(ww > 0, ww, 1), 0, 1),
                            1.0)
            ex = x[uu] + frac * (x[vv] - x[uu])
            ey = y[uu] + frac * (y[vv] - y[uu])
            lines = shapely.linestrings(
                np.stack([np.column_stack([x[uu], y[uu]]), np.column_stack([ex, ey])], axis=1))
            node = snapped.node[c]
            leg = min(1.0, band / snapped.leg_min[c]) if snapped.leg_min[c] > 0 else 1.0
            leg_line = shapely.LineString([(cx, cy), (cx + leg * (x[node] - cx),
                                                      cy + leg * (y[node] - cy))])
            shape = shapely.union_all(shapely.buffer(np.append(lines, leg_line), buffer_m))
            back = shapely.transform(
                shape, lambda xy, _t=aeqd: np.column_stack(
                    _t.transform(xy[:, 0], xy[:, 1], direction="INVERSE")))
            polys.append(back)
        areas[c] = polys
    rows = []
    empty = shapely.Polygon()
    for c in range(len(geoms)):
        for i, band in enumerate(bands):
            shape = areas[c][i] if c in areas else empty
            area = abs(geod.geometry_area_perimeter(shape)[0]) / 1e6 if c in areas else 0.0
            rows.append({"center": names[c], "minutes": band, "off_network": c not in areas,
                         "area_km2": round(area, 6), "geometry": shape})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
