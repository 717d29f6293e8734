"""Read road segments from an OSM extract (pyosmium) or a line layer (pyogrio).

Both readers return :class:`Segments`: one row per straight piece of road between two
consecutive vertices, with its speed and the directions a profile may travel it. The graph
(:mod:`covplan.roads.graph`) is built from that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from covplan.errors import InputError
from covplan.roads.speeds import way_speed

__all__ = ["OSM_SUFFIXES", "Segments", "is_osm", "read_layer", "read_osm"]

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".osm.xml")

_NO = {"no", "private"}
# Most specific first: the first of these tags present decides access for the profile.
_ACCESS_TAGS = {
    "car": ("motorcar", "motor_vehicle", "vehicle", "access"),
    "motorcycle": ("motorcycle", "motor_vehicle", "vehicle", "access"),
    "walk": ("foot", "access"),
}
_FORWARD = {"yes", "true", "1"}
_BACKWARD = {"-1", "reverse"}
_TWO_WAY = {"no", "false", "0"}


@dataclass(frozen=True)
class Segments:
    """Road pieces: vertex ids and coordinates at both ends, km/h, allowed directions."""

    u_id: np.ndarray  # int64 vertex ids (OSM node ids, or positions for layers)
    v_id: np.ndarray
    u_lon: np.ndarray
    u_lat: np.ndarray
    v_lon: np.ndarray
    v_lat: np.ndarray
    kmh: np.ndarray
    forward: np.ndarray  # bool: u -> v allowed
    backward: np.ndarray  # bool: v -> u allowed


def is_osm(path: str | Path) -> bool:
    """True when the file name looks like an OSM extract."""
    return str(path).lower().endswith(OSM_SUFFIXES)


def _allowed(tags, profile: str) -> bool:
    for key in _ACCESS_TAGS[profile]:
        value = tags.get(key)
        if value is not None:
            return value not in _NO
    return True


def _directions(tags, highway: str, profile: str) -> tuple[bool, bool]:
    if profile == "walk":
        return True, True
    oneway = tags.get("oneway")
    if oneway in _FORWARD:
        return True, False
    if oneway in _BACKWARD:
        return False, True
    if oneway in _TWO_WAY:
        return True, True
    implied = tags.get("junction") in ("roundabout", "circular") or highway == "motorway"
    return True, not implied


def read_osm(path: str | Path, profile: str, speeds: Mapping[str, float]) -> Segments:
    """Every routable segment of the extract for ``profile`` (pyosmium, node locations in C++).

    Ways whose nodes are missing from the extract (cut at its border) keep their pieces
    between nodes that are present.
    """
    import osmium

    name = str(path)
    if not Path(path).is_file():
        raise InputError(f"{name}: no such file (give an OSM extract, e.g. from Geofabrik)")
    ids: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    starts: list[int] = []  # first vertex position of each way piece
    way_kmh: list[float] = []
    way_fwd: list[bool] = []
    way_bwd: list[bool] = []
    saw_highway = False
    try:
        processor = (osmium.FileProcessor(name, osmium.osm.NODE | osmium.osm.WAY)
                     .with_locations()
                     .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                     .with_filter(osmium.filter.KeyFilter("highway")))
        for way in processor:
            tags = way.tags
            highway = tags.get("highway")
            saw_highway = True
            kmh = way_speed(highway, tags.get("maxspeed"), speeds, profile)
            if kmh is None or not _allowed(tags, profile):
                continue
            fwd, bwd = _directions(tags, highway, profile)
            piece: list[tuple[int, float, float]] = []
            for ref in way.nodes:
                loc = ref.location
                if loc.valid():
                    piece.append((ref.ref, loc.lon, loc.lat))
                    continue
                _flush(piece, ids, lons, lats, starts, way_kmh, way_fwd, way_bwd, kmh, fwd, bwd)
                piece = []
            _flush(piece, ids, lons, lats, starts, way_kmh, way_fwd, way_bwd, kmh, fwd, bwd)
    except RuntimeError as exc:
        raise InputError(f"{name}: not a readable OSM file ({str(exc).splitlines()[0]})"
                         ) from None
    if not saw_highway:
        raise InputError(f"{name}: no roads (no way with a highway tag) in this file")
    if not starts:
        raise InputError(f"{name}: no road that the {profile} profile may use")
    return _pieces_to_segments(np.array(ids, dtype=np.int64), np.array(lons), np.array(lats),
                               np.array(starts, dtype=np.int64), np.array(way_kmh),
                               np.array(way_fwd), np.array(way_bwd))


def _flush(piece, ids, lons, lats, starts, way_kmh, way_fwd, way_bwd, kmh, fwd, bwd) -> None:
    if len(piece) < 2:
        return
    starts.append(len(ids))
    for ref, lon, lat in piece:
        ids.append(ref)
        lons.append(lon)
        lats.append(lat)
    way_kmh.append(kmh)
    way_fwd.append(fwd)
    way_bwd.append(bwd)


def _pieces_to_segments(ids, lons, lats, starts, kmh, fwd, bwd) -> Segments:
    """Consecutive vertex pairs within each piece (a piece is a run of >= 2 vertices)."""
    n = len(ids)
    ends = np.append(starts[1:], n)
    piece_of = np.repeat(np.arange(len(starts)), ends - starts)
    first = np.arange(n - 1)
    keep = piece_of[first] == piece_of[first + 1]
    a = first[keep]
    b = a + 1
    p = piece_of[a]
    return Segments(ids[a], ids[b], lons[a], lats[a], lons[b], lats[b], kmh[p], fwd[p], bwd[p])


def read_layer(path: str | Path, profile: str, speeds: Mapping[str, float], *,
               speed_col: str | None = None, layer: str | None = None) -> Segments:
    """Segments of a line layer (GeoPackage, shapefile, GeoJSON...), both ways.

    The speed is ``speed_col`` (km/h) when given, else the profile's speed for the layer's
    ``highway`` column. Vertices are joined where their coordinates agree to 1e-7 degree
    (OSM's precision).
    """
    import geopandas as gpd
    import shapely

    name = str(path)
    try:
        frame = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"{name}: cannot read the roads ({str(exc).splitlines()[0]})"
                         ) from None
    if frame.crs is None:
        raise InputError(f"{name}: the roads have no CRS; save them with one (e.g. EPSG:4326)")
    frame = frame.to_crs("EPSG:4326")
    if speed_col is not None:
        if speed_col not in frame.columns:
            raise InputError(f"{name}: no column '{speed_col}' (given as speed_col)")
        raw = frame[speed_col]
        kmh = np.asarray(raw.apply(_to_float), dtype=float)
        bad = np.flatnonzero(~(kmh > 0) | ~np.isfinite(kmh))
        if len(bad):
            row = int(bad[0])
            raise InputError(f"{name}: row {row + 1}: {speed_col} '{raw.iloc[row]}' is not a "
                             "speed > 0 km/h")
    elif "highway" in frame.columns:
        kmh = np.array([speeds.get(str(h), np.nan) for h in frame["highway"]])
    else:
        raise InputError(f"{name}: the roads need a speed column (speed_col) or a 'highway' "
                         "column")
    geoms = frame.geometry.array
    lines = np.array([g is not None and g.geom_type in ("LineString", "MultiLineString")
                      for g in geoms])
    use = lines & np.isfinite(kmh)
    if not use.any():
        raise InputError(f"{name}: no road lines that the {profile} profile may use")
    parts, owner = shapely.get_parts(np.asarray(geoms[use]), return_index=True)
    coords, part_of = shapely.get_coordinates(parts, return_index=True)
    keys = np.round(coords * 1e7).astype(np.int64)
    _, vertex = np.unique(keys, axis=0, return_inverse=True)
    vertex = vertex.ravel().astype(np.int64)
    a = np.flatnonzero(part_of[:-1] == part_of[1:])
    b = a + 1
    speed = kmh[use][owner[part_of[a]]]
    both = np.ones(len(a), dtype=bool)
    return Segments(vertex[a], vertex[b], coords[a, 0], coords[a, 1], coords[b, 0],
                    coords[b, 1], speed, both, both)


def _to_float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
