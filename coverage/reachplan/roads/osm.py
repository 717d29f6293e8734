"""Read road segments from an OSM extract (pyosmium) or a line layer (pyogrio).

Both readers return :class:`Segments`: one row per straight piece of road between two
consecutive vertices, with its speed and the directions a profile may travel it. The graph
(:mod:`reachplan.roads.graph`) is built from that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reachplan.errors import InputError
from reachplan.roads.pbf import UNDEFINED, Unsupported, Ways, read_pbf_ways
from reachplan.roads.speeds import CLOSED, way_speed

__all__ = ["OSM_SUFFIXES", "Segments", "Ways", "is_osm", "position_key", "read_layer",
           "read_osm", "read_osm_pyosmium", "read_osm_ways", "way_rule", "ways_segments"]

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".osm.xml")

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

    u_id: np.ndarray  # int64 vertex keys (position_key: one per place)
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
            return value not in CLOSED[profile]
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


def position_key(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """One int64 per place, exact at OSM's precision (1e-7 degree): a road vertex is a place,
    so two ways meet where they share a position."""
    x = np.round((np.asarray(lon) + 180.0) * 1e7).astype(np.int64)
    y = np.round((np.asarray(lat) + 90.0) * 1e7).astype(np.int64)
    return x * 1_800_000_001 + y


class way_rule:  # noqa: N801 - a function that workers can unpickle
    """``rule(tags)``: (km/h, forward, backward) of a way with these tags for ``profile``, or
    None when the profile does not use it."""

    def __init__(self, profile: str, speeds: Mapping[str, float],
                 maxspeed_factor: float = 1.0) -> None:
        self.profile, self.speeds, self.factor = profile, dict(speeds), maxspeed_factor

    def __call__(self, tags) -> tuple[float, bool, bool] | None:
        profile, speeds = self.profile, self.speeds
        highway = tags.get("highway")
        if highway is None or highway not in speeds:
            return None
        if len(tags) == 1:  # a bare highway tag: no limit, access or oneway to read
            return speeds[highway], True, profile == "walk" or highway != "motorway"
        kmh = way_speed(highway, tags.get("maxspeed"), speeds, profile, self.factor)
        if kmh is None or not _allowed(tags, profile):
            return None
        return (kmh, *_directions(tags, highway, profile))


def read_osm(path: str | Path, profile: str, speeds: Mapping[str, float], *,
             maxspeed_factor: float = 1.0,
             progress: Callable[[str, int, int], None] | None = None,
             workers: int | None = None) -> Segments:
    """Every routable segment of the extract for ``profile`` (tagged limits times
    ``maxspeed_factor``, see :func:`reachplan.roads.speeds.way_speed`).

    A ``.pbf`` goes through :func:`read_osm_ways` (numpy, two passes, ``workers`` processes);
    other formats, and PBFs that reader leaves aside, through pyosmium
    (:func:`read_osm_pyosmium`); both give the same segments.
    """
    if str(path).lower().endswith(".pbf"):
        ways = read_osm_ways(path, profile, speeds, maxspeed_factor=maxspeed_factor,
                             progress=progress, workers=workers)
        if ways is not None:
            return ways_segments(ways)
    return read_osm_pyosmium(path, profile, speeds, maxspeed_factor=maxspeed_factor,
                             progress=progress)


def read_osm_ways(path: str | Path, profile: str, speeds: Mapping[str, float], *,
                  maxspeed_factor: float = 1.0,
                  progress: Callable[[str, int, int], None] | None = None,
                  workers: int | None = None) -> Ways | None:
    """The routable ways of a PBF extract and their nodes' locations
    (:mod:`reachplan.roads.pbf`), or None for a file that reader leaves to pyosmium."""
    name = str(path)
    if not Path(path).is_file():
        raise InputError(f"{name}: no such file (give an OSM extract, e.g. from Geofabrik)")
    try:
        ways = read_pbf_ways(name, way_rule(profile, speeds, maxspeed_factor),
                             workers=workers, progress=progress)
    except Unsupported:
        return None
    if not ways.saw_highway:
        raise InputError(f"{name}: no roads (no way with a highway tag) in this file")
    if not len(ways.kmh):
        raise InputError(f"{name}: no road that the {profile} profile may use")
    return ways


def ways_segments(ways: Ways) -> Segments:
    """Consecutive node pairs of each way where both nodes have a location and differ
    (a way cut at the extract's border keeps its pieces between present nodes)."""
    refs = ways.refs
    inner = np.ones(len(refs), dtype=bool)
    inner[ways.start[1:] - 1] = False
    a = np.flatnonzero(inner[:-1])
    u, v = refs[a], refs[a + 1]
    xu, yu, xv, yv = ways.x[u], ways.y[u], ways.x[v], ways.y[v]
    keep = (xu != UNDEFINED) & (xv != UNDEFINED) & ((xu != xv) | (yu != yv))
    way = np.repeat(np.arange(len(ways.kmh)), np.diff(ways.start))[a[keep]]
    u_lon, u_lat = xu[keep] / 1e7, yu[keep] / 1e7
    v_lon, v_lat = xv[keep] / 1e7, yv[keep] / 1e7
    return Segments(position_key(u_lon, u_lat), position_key(v_lon, v_lat), u_lon, u_lat,
                    v_lon, v_lat, ways.kmh[way], ways.forward[way], ways.backward[way])


def read_osm_pyosmium(path: str | Path, profile: str, speeds: Mapping[str, float], *,
                      maxspeed_factor: float = 1.0,
                      progress: Callable[[str, int, int], None] | None = None) -> Segments:
    """:func:`read_osm` through pyosmium (any format libosmium reads); ``progress("reading
    roads (ways)", ways so far, 0)`` every 100,000 ways with a highway tag.

    pyosmium resolves node locations and builds each way's line as WKB in C++ (one call per
    way, not per node: the per-node Python path is 3-5 times slower); shapely decodes all
    lines at once. Ways with nodes missing from the extract (cut at its border) keep their
    pieces between the nodes that are present.
    """
    import osmium

    name = str(path)
    if not Path(path).is_file():
        raise InputError(f"{name}: no such file (give an OSM extract, e.g. from Geofabrik)")
    wkb = osmium.geom.WKBFactory()
    rule = way_rule(profile, speeds, maxspeed_factor)
    lines: list[str] = []
    way_kmh: list[float] = []
    way_fwd: list[bool] = []
    way_bwd: list[bool] = []
    saw_highway = False
    try:
        processor = (osmium.FileProcessor(name, osmium.osm.NODE | osmium.osm.WAY)
                     .with_locations()
                     .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                     .with_filter(osmium.filter.KeyFilter("highway")))
        for count, way in enumerate(processor, start=1):
            saw_highway = True
            if progress is not None and count % 100_000 == 0:
                progress("reading roads (ways)", count, 0)
            got = rule(way.tags)
            if got is None:
                continue
            kmh, fwd, bwd = got
            try:
                found = [wkb.create_linestring(way)]  # type: ignore[arg-type]
            except osmium.InvalidLocationError:  # cut at the extract's border: split there
                found = _pieces(way)
            except RuntimeError:  # fewer than two distinct positions: no segment
                continue
            lines.extend(found)
            way_kmh.extend([kmh] * len(found))
            way_fwd.extend([fwd] * len(found))
            way_bwd.extend([bwd] * len(found))
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as exc:
        # libosmium's parse errors: bad XML or PBF, a coordinate that is not a number, an id
        # past int64, a tag value over 1024 bytes; the message is the parser's, cut short
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"{name}: not a readable OSM file ({reason})") from None
    if not saw_highway:
        raise InputError(f"{name}: no roads (no way with a highway tag) in this file")
    if not lines:
        raise InputError(f"{name}: no road that the {profile} profile may use")
    coords, line_of = _decode_lines(lines)
    return _pairs(coords, line_of, np.array(way_kmh), np.array(way_fwd), np.array(way_bwd))


def _decode_lines(lines: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of hex-WKB linestrings and the line each belongs to.

    Every record is ``01 02000000 <n uint32> <n x 2 float64>`` (little-endian LineString):
    the headers are masked out of one joined buffer, which is 10x quicker than decoding
    hundreds of thousands of small geometries one by one. Anything else goes to shapely.
    """
    import shapely

    sizes = np.fromiter((len(h) // 2 for h in lines), dtype=np.int64, count=len(lines))
    buf = np.frombuffer(bytes.fromhex("".join(lines)), dtype=np.uint8)
    offsets = np.cumsum(sizes) - sizes
    head = offsets[:, None] + np.arange(9)
    if not ((buf[offsets] == 1).all() and (buf[offsets + 1] == 2).all()
            and not buf[head[:, 2:5]].any()):
        return shapely.get_coordinates(shapely.from_wkb(lines), return_index=True)
    keep = np.ones(len(buf), dtype=bool)
    keep[head.ravel()] = False
    coords = buf[keep].view("<f8").reshape(-1, 2)
    line_of = np.repeat(np.arange(len(lines)), (sizes - 9) // 16)
    return coords, line_of


def _pieces(way) -> list[str]:
    """WKB of the runs of >= 2 nodes with a location (slow path, border ways only)."""
    import shapely

    runs, run = [], []
    for node in way.nodes:
        if node.location.valid():
            run.append(f"{node.lon!r} {node.lat!r}")
        else:
            runs.append(run)
            run = []
    runs.append(run)
    return [shapely.to_wkb(shapely.from_wkt(f"LINESTRING ({', '.join(r)})"), hex=True)
            for r in runs if len(set(r)) >= 2]


def _pairs(coords: np.ndarray, line_of: np.ndarray, kmh, fwd, bwd) -> Segments:
    """Consecutive vertex pairs of each line, vertices keyed by position."""
    key = position_key(coords[:, 0], coords[:, 1])
    a = np.flatnonzero(line_of[:-1] == line_of[1:])
    b = a + 1
    p = line_of[a]
    return Segments(key[a], key[b], coords[a, 0], coords[a, 1], coords[b, 0], coords[b, 1],
                    kmh[p], fwd[p], bwd[p])


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
    if not isinstance(frame, gpd.GeoDataFrame):  # e.g. a CSV: a table without shapes
        raise InputError(f"{name}: holds no road lines; give an OSM extract (.osm.pbf, .osm, "
                         ".osm.bz2) or a line layer (GeoPackage, GeoJSON, Shapefile)")
    if frame.crs is None:
        raise InputError(f"{name}: the roads have no CRS; save them with one (e.g. EPSG:4326)")
    frame = frame.to_crs("EPSG:4326")
    if speed_col is not None:
        if speed_col not in frame.columns:
            raise InputError(f"{name}: no column '{speed_col}' (given as speed_col)",
                             params=("speed_col",))
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
                         "column", params=("speed_col",))
    geoms = frame.geometry.array
    lines = np.array([g is not None and g.geom_type in ("LineString", "MultiLineString")
                      for g in geoms])
    use = lines & np.isfinite(kmh)
    if not use.any():
        raise InputError(f"{name}: no road lines that the {profile} profile may use")
    parts, owner = shapely.get_parts(np.asarray(geoms[use]), return_index=True)
    both = np.ones(len(parts), dtype=bool)
    coords, part_of = shapely.get_coordinates(parts, return_index=True)
    return _pairs(coords, part_of, kmh[use][owner], both, both)


def _to_float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
