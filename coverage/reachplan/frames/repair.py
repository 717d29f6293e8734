"""Geometry repair: polygons crossing the antimeridian split at ±180, invalid ones mended with
make_valid, and what is left kept polygonal.
"""

from __future__ import annotations

import numpy as np
import shapely
import shapely.errors

from reachplan.frames.columns import _listed


def _split_all(geom: np.ndarray, across: np.ndarray, rows: np.ndarray, path: str,
               messages: list[str]) -> np.ndarray:
    """Split the ``across`` polygons in place at ±180, adding the warnings to ``messages``;
    which of them had an invalid ring that make_valid mended.

    A polygon that cannot be split is repaired with make_valid as it is and named, never
    raised: one odd feature must not stop a whole-world file.
    """
    repaired = np.zeros(len(geom), dtype=bool)
    failed = np.zeros(len(geom), dtype=bool)
    for i in np.flatnonzero(across):
        try:
            geom[i], repaired[i] = _split_at_antimeridian(geom[i])
        except (shapely.errors.GEOSException, ValueError):
            geom[i], failed[i] = shapely.make_valid(geom[i]), True
    messages.append(f"{path}: split {int(across.sum())} polygon(s) whose rings jump across "
                    "the antimeridian (±180° longitude) at that line, as world maps store them "
                    f"(feature {_listed(rows[across].tolist())})")
    if failed.any():
        messages.append(f"{path}: could not split {int(failed.sum())} polygon(s) at the "
                        "antimeridian; repaired them with make_valid as they are, check their "
                        f"shape (feature {_listed(rows[failed].tolist())})")
    return repaired


def _nonfinite(geoms: np.ndarray) -> np.ndarray:
    """Which geometries have a NaN or infinite coordinate."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    x, y = coords.T  # not .all(axis=1): ten times slower on an (n, 2) array
    out = np.zeros(len(geoms), dtype=bool)
    out[index[~(np.isfinite(x) & np.isfinite(y))]] = True
    return out


def _ring_jumps(ring: np.ndarray) -> np.ndarray:
    """Per edge of a ring's (x, y) coordinates: +1 / -1 where it jumps east / west across
    ±180 (a longitude step of more than 180°), else 0.

    An edge along a pole (both ends at latitude ±90, as Natural Earth closes Antarctica from
    -180 to 180 at -90) is no jump: it runs along a single point of the globe.
    """
    step = np.diff(ring[:, 0])
    lat = ring[:, 1]
    along_pole = (np.abs(lat[:-1]) == 90) & (lat[1:] == lat[:-1])
    return np.where(along_pole, 0, np.where(step > 180, -1, np.where(step < -180, 1, 0)))


def _crosses_antimeridian(geoms: np.ndarray) -> np.ndarray:
    """Which polygons have a ring edge jumping more than 180° of longitude.

    No planar lon/lat polygon needs such an edge (except along a pole); rings stored that way
    (TopoJSON's ``stitch``, d3's world atlases) mean the shorter way round, across ±180.
    """
    out = np.zeros(len(geoms), dtype=bool)
    xmin, _, xmax, _ = shapely.bounds(geoms).T
    for i in np.flatnonzero(xmax - xmin > 180):  # cheap filter: only wide polygons can jump
        out[i] = any(_ring_jumps(c).any() for c in _ring_coords(geoms[i]))
    return out


def _ring_coords(geom: shapely.Geometry) -> list[np.ndarray]:
    """The (x, y) coordinates of every ring of a polygonal geometry's polygons."""
    parts = shapely.get_parts(geom)
    rings = shapely.get_rings(parts[shapely.get_type_id(parts) == 3])
    return [shapely.get_coordinates(r) for r in rings]


class _SplitError(ValueError):
    """A ring that the antimeridian split cannot make sense of."""


def _split_at_antimeridian(geom: shapely.Geometry) -> tuple[shapely.Geometry, bool]:
    """Split a polygon whose rings jump across ±180 into parts on either side of the line.

    Each ring is unwrapped (longitudes made continuous, so 179 → -179 reads 179 → 181) and
    cut into the strips -180..180, 180..540, ... shifted back by 360°; a ring whose jumps
    add up to once round the globe encloses a pole, the one on the side of its mean latitude,
    and is closed along it as Natural Earth stores Antarctica (twice round: an error). A
    polygon's region is then its rings' regions combined by the even-odd rule, so winding
    (which shapefiles, d3 and RFC 7946 each choose differently) never matters. Edges stay
    straight in lon/lat, as shapely and the rest of reachplan read them. Parts without a jump
    are kept as they are. The flag says whether a ring had to be repaired with make_valid.
    """
    out: list[shapely.Geometry] = []
    repaired = False
    for part in shapely.get_parts(geom):
        if shapely.get_type_id(part) != 3:
            continue
        rings = _ring_coords(part)
        if not any(_ring_jumps(c).any() for c in rings):
            out.append(part)
            continue
        region = shapely.Polygon()
        for ring in rings:
            piece, fixed = _ring_region(ring)
            region = shapely.symmetric_difference(region, piece)
            repaired |= fixed
        out.extend(shapely.get_parts(region))
    polygons = [p for p in out if shapely.get_type_id(p) == 3 and not p.is_empty]
    if not polygons:
        return shapely.Polygon(), repaired
    return (shapely.MultiPolygon(polygons) if len(polygons) > 1 else polygons[0]), repaired


def _ring_region(ring: np.ndarray) -> tuple[shapely.Geometry, bool]:
    """The area a ring that may jump across ±180 encloses, within -180..180; and whether its
    unwrapped outline was invalid and repaired with make_valid."""
    jumps = _ring_jumps(ring)
    lon = ring[:, 0] + 360.0 * np.concatenate([[0], np.cumsum(jumps)])
    xy = np.column_stack([lon, ring[:, 1]])
    turns = int(jumps.sum())
    if abs(turns) == 1:  # once round the globe: close it along the pole it goes round
        pole = -90.0 if ring[:, 1].mean() < 0 else 90.0
        xy = np.vstack([xy, [[lon[-1], pole], [lon[0], pole], xy[0]]])
    elif turns:
        raise _SplitError(f"a ring goes {abs(turns)} times round the globe")
    outline = shapely.Polygon(xy)
    fixed = not outline.is_valid
    if fixed:
        outline = shapely.make_valid(outline)
    west, east = int(np.floor((lon.min() + 180) / 360)), int(np.ceil((lon.max() - 180) / 360))
    pieces = [shapely.transform(shapely.intersection(
                  outline, shapely.box(360 * k - 180, -90, 360 * k + 180, 90)),
                  lambda c, k=k: c - [360.0 * k, 0.0])
              for k in range(west, east + 1)]
    return shapely.union_all(_polygonal(np.array(pieces, dtype=object))), fixed


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts (make_valid may return collections with lines)."""
    out = np.array(geoms, dtype=object)
    for i, g in enumerate(out):
        if g is None or g.geom_type in ("Polygon", "MultiPolygon"):
            continue
        parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out
