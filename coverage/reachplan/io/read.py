"""Read and validate inputs: district boundaries, point locations, and frames passed in code.

Everything a user's file can get wrong is caught here and raised as one-line
:class:`~reachplan.errors.InputError` messages naming the file, row or column, and the reader's
parameter that fixes it (the command line names its own option instead).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io as _io
import os
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
from pyproj import CRS

from reachplan._words import plural
from reachplan.errors import InputError, first_line
from reachplan.io.files import check_regular

__all__ = ["DISTRICT_NAME_NAMES", "EXCEL_SUFFIXES", "LAT_NAMES", "LON_NAMES", "NAME_NAMES",
           "TABLE_SUFFIXES", "as_districts", "as_points", "csv_header", "find_column",
           "parse_coordinates", "read_boundaries", "read_points", "readable_copy"]

LAT_NAMES = ("lat", "latitude", "y")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
NAME_NAMES = ("name", "center_name", "centre_name", "office_name", "site_name", "title", "label")
DISTRICT_NAME_NAMES = ("name", "district", "district_name", "dist_name")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_MAX_LISTED = 10


# --------------------------------------------------------------------------- helpers
@functools.cache
def _wgs84() -> CRS:
    """The CRS of every frame the readers return, parsed once."""
    return CRS.from_user_input("EPSG:4326")


def _listed(items: list, limit: int = _MAX_LISTED) -> str:
    """``"2, 5, 9"`` or ``"2, 5, 9, … (14 in all)"``."""
    shown = ", ".join(str(i) for i in items[:limit])
    return shown if len(items) <= limit else f"{shown}, … ({len(items)} in all)"


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    check_regular(path, "input")


def find_column(columns: Sequence[str], wanted: str | None, candidates: tuple[str, ...],
                source: str | os.PathLike, param: str) -> str | None:
    """An explicit column (must exist) or the first candidate present, case-insensitively.

    Shared by every reader (centres, boundaries, demand points), so that a wrong column gets
    the same one-line error everywhere; ``param`` is the reader's parameter that names it.
    """
    lower: dict[str, list[str]] = {}
    for c in columns:
        lower.setdefault(str(c).lower(), []).append(c)
    if wanted is not None:
        if wanted in columns:
            return wanted
        found = lower.get(wanted.lower(), [])
        if len(found) == 1:
            return found[0]
        if found:
            raise InputError(f"{source}: {_both(found)} all match '{wanted}' (given by {param}) "
                             "except in case; give the exact name", params=(param,))
        raise InputError(f"{source}: no column '{wanted}' (given by {param}); "
                         f"columns are: {_listed(list(columns), 30)}", params=(param,))
    for cand in candidates:
        found = lower.get(cand, [])
        if len(found) > 1:
            raise InputError(f"{source}: {_both(found)} could each be the '{cand}' column; "
                             f"choose one with {param}", params=(param,))
        if found:
            return found[0]
    return None


def _both(names: list[str]) -> str:
    """``columns 'lat' and 'LAT'``."""
    quoted = [f"'{n}'" for n in names]
    return "columns " + ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _as_text(values: pd.Series) -> pd.Series:
    """IDs as text exactly as the file has them; integral floats lose only the ``.0``."""
    if pd.api.types.is_float_dtype(values):
        out = values.map(lambda v: None if pd.isna(v) else (
            str(int(v)) if float(v).is_integer() else repr(float(v))))
    elif values.dtype == "str" and values.notna().any():  # text already, missing as NaN
        out = values
    elif pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
        out = values.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                         else str(v))
    else:
        out = values.map(lambda v: None if pd.isna(v) else str(v))
    return out.astype(object)


def _blank(values: pd.Series) -> np.ndarray:
    return np.array([v is None or (isinstance(v, float) and np.isnan(v))
                     or (isinstance(v, str) and v.strip() == "") for v in values.to_numpy(object)],
                    dtype=bool)


# --------------------------------------------------------------------------- vector layers
def _read_layer(path: Path, layer: str | None, what: str) -> gpd.GeoDataFrame:
    """Any format pyogrio reads (and GeoParquet), as a GeoDataFrame."""
    _check_exists(path)
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        try:
            return gpd.read_parquet(path)
        except ImportError:
            raise InputError(f"{path}: reading GeoParquet needs pyarrow; "
                             "pip install 'reachplan[parquet]'") from None
        except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem
            raise InputError(f"{path}: cannot read as GeoParquet ({first_line(exc)})") from None
    with readable_copy(path) as source:
        return _read_vector(path, source, layer, what)


def _read_vector(path: Path, source: Path, layer: str | None, what: str) -> gpd.GeoDataFrame:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    # GeoJSON holds one layer and no feature count: GDAL parses the whole file on every
    # open, so it is opened once (a small command's run spent a tenth on the other opens)
    geojson = path.suffix.lower() in (".geojson", ".json")
    if layer is not None or not geojson:
        try:
            layers = pyogrio.list_layers(source)
        except (DataSourceError, DataLayerError, OSError) as exc:
            raise InputError(
                f"{path}: cannot read {what} ({first_line(exc)}); use GeoJSON, GeoPackage, "
                "Shapefile, FlatGeobuf or GeoParquet") from None
        names = [str(n) for n in layers[:, 0]] if len(layers) else []
        if not names:
            raise InputError(f"{path}: holds no layer (an empty or truncated file?); give "
                             f"{what} as GeoJSON, GeoPackage, Shapefile, FlatGeobuf or "
                             "GeoParquet")
        if layer is None and len(names) > 1:
            raise InputError(f"{path}: has {len(names)} layers ({_listed(names)}); "
                             "choose one with layer", params=("layer",))
        if layer is not None and layer not in names:
            raise InputError(f"{path}: layer={layer!r} is not one of its layers: "
                             f"{_listed(names)}", params=("layer",))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # a .json that is TopoJSON may hold several layers (d3's world-atlas: countries
            # and land); pyogrio would warn and read the first
            warnings.filterwarnings("error", "More than one layer found", UserWarning)
            frame = pyogrio.read_dataframe(source, layer=layer)
            declared = None if geojson else \
                pyogrio.read_info(source, layer=layer).get("features", -1)
    except UserWarning:
        names = [str(n) for n in pyogrio.list_layers(source)[:, 0]]
        raise InputError(f"{path}: has {len(names)} layers ({_listed(names)}); "
                         "choose one with layer", params=("layer",)) from None
    except Exception as exc:  # noqa: BLE001 - GDAL on a broken file raises many types
        raise InputError(f"{path}: cannot read {what} ({first_line(exc)})") from None
    if declared is not None and 0 <= len(frame) < declared:
        raise InputError(f"{path}: declares {declared} features but only {len(frame)} could "
                         "be read; the file is truncated or damaged")
    return frame


_SQLITE_SUFFIXES = (".gpkg", ".sqlite", ".db", ".gpkx")


@contextlib.contextmanager
def readable_copy(path: Path) -> Iterator[Path]:
    """``path``, or a private copy of it when reading would change it.

    SQLite in WAL mode (GeoPackage) checkpoints the ``-wal`` sidecar into the database and
    deletes ``-wal``/``-shm`` when the last reader closes, even a read-only one (GDAL's
    IMMUTABLE/NOLOCK open options do not stop it): such a file is read from a copy of the
    database and its ``-wal``, so inputs are never changed.
    """
    wal = Path(f"{path}-wal")
    if path.suffix.lower() not in _SQLITE_SUFFIXES or not wal.exists():
        yield path
        return
    folder = Path(tempfile.mkdtemp(prefix="reachplan-read-"))
    try:
        copy = folder / path.name
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, f"{copy}-wal")
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _to_wgs84(frame: gpd.GeoDataFrame, crs: str | None, path: str | Path, how: str = "crs"
              ) -> gpd.GeoDataFrame:
    """``frame`` in WGS84 lon/lat; ``how`` names what sets a CRS (a parameter, a method)."""
    if crs is not None:
        try:
            frame = frame.set_crs(crs, allow_override=True)
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"crs={crs!r}: not a CRS pyproj knows ({first_line(exc)}); "
                             "use e.g. EPSG:4326", params=("crs",)) from None
    if frame.crs is None:
        raise InputError(f"{path}: has no CRS; say which it is with {how} "
                         "(e.g. EPSG:4326 for longitude/latitude)", params=(how,))
    if not frame.crs.equals(_wgs84()):
        _check_earth(frame.crs, path, how)
        try:
            frame = frame.to_crs(_wgs84())
        except Exception as exc:  # noqa: BLE001 - pyproj raises several types
            raise InputError(f"{path}: cannot convert from {frame.crs.name} to longitude/"
                             f"latitude ({first_line(exc)}); check the CRS or set it with "
                             f"{how}", params=(how,)) from None
    return frame


_EARTH_M = 6_378_137.0  # WGS84 semi-major axis; every Earth ellipsoid is within 1 km of it


def _check_earth(crs: Any, path: str | Path, how: str = "crs") -> None:
    """Refuse a CRS of another body (IAU Mars, the Moon) or with no Earth ellipsoid."""
    ellipsoid = crs.ellipsoid
    if ellipsoid is None or abs(ellipsoid.semi_major_metre - _EARTH_M) > 1000:
        body = f"ellipsoid '{ellipsoid.name}'" if ellipsoid is not None else "no ellipsoid"
        raise InputError(f"{path}: its CRS '{crs.name}' is not on Earth ({body}); reachplan "
                         f"measures on the WGS84 Earth: give an Earth CRS with {how}",
                         params=(how,))


# --------------------------------------------------------------------------- boundaries
def read_boundaries(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    crs: str | None = None,
    id_col: str | None = None,
    name_col: str | None = None,
    group_col: str | None = None,
    weight_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Read district boundaries into the frame the engine works on.

    Parameters
    ----------
    path
        Any vector format pyogrio reads, or GeoParquet; or an embedded dataset as on the
        command line (``"@india"``, with its column roles as defaults).
    layer
        Layer of a multi-layer source (GeoPackage).
    crs
        CRS to assume when the file has none (an error otherwise).
    id_col, name_col, group_col, weight_col
        Columns for district identity, display name, group (e.g. state) and weight
        (e.g. population). ``id_col`` defaults to the first column whose values are unique
        and non-null, else the row number; ``name_col`` to a column called like ``name``.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 with ``id`` (text, exactly as in the file), ``name``, ``group``,
        ``weight`` (NaN without a weight column) and 2-D valid polygonal ``geometry``,
        sorted by ``id``. ``attrs["warnings"]`` lists what was repaired, merged or skipped.
    """
    url = _postgis_url(path)
    if url is not None:  # a PostGIS table or query
        raw, label, known = _read_postgis(url, "boundaries"), _postgis_label(url), None
        bundled = False
    else:
        real, label, known = _resolve(path)
        raw = _read_layer(real, layer, "boundaries")
        bundled = known is not None or _bundled(real)  # the embedded data: checked by tests
    if known is not None:
        id_col, name_col = id_col or known["id_col"], name_col or known["name_col"]
        group_col, weight_col = group_col or known["group_col"], weight_col or known["weight_col"]
    if len(raw) == 0:
        raise InputError(f"{label}: has no features; is this the right file or layer?",
                         params=("layer",))
    raw = _to_wgs84(raw, crs, label)
    frame = _districts_from(raw, label, id_col=id_col, name_col=name_col, group_col=group_col,
                            weight_col=weight_col)
    if not bundled:
        frame.attrs["warnings"] += _overlaps(frame, label)
    return frame


def _postgis_url(path: str | os.PathLike) -> str | None:
    """``path`` when it is a PostgreSQL URL (see :mod:`reachplan.io.postgis`), else None."""
    from reachplan.io.postgis import is_postgis

    return path if isinstance(path, str) and is_postgis(path) else None


def _postgis_label(url: str) -> str:
    from reachplan.io.postgis import display_name

    return display_name(url)


def _read_postgis(url: str, what: str, *, geometry: bool = True) -> pd.DataFrame:
    """The rows of a PostGIS table or query; ``geometry``: a geometry column is required."""
    from reachplan.io.postgis import display_name, read_frame

    frame = read_frame(url, what)
    if geometry and not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{display_name(url)}: has no geometry column; {what} must be "
                         "polygons (a PostGIS geometry column)")
    return frame


def _bundled(path: Path) -> bool:
    """Whether ``path`` is one of reachplan's embedded datasets (as the CLI resolves them)."""
    from reachplan.datasets import india_districts_path

    with contextlib.suppress(OSError):
        return path.resolve().parent == india_districts_path().resolve().parent
    return False


#: Districts overlap when their intersection exceeds this share of the smaller one's area.
OVERLAP_SHARE = 1e-3
_OVERLAPS_LISTED = 3


def _overlaps(frame: gpd.GeoDataFrame, label: str) -> list[str]:
    """One warning naming overlapping districts (pairs whose intersection is more than
    :data:`OVERLAP_SHARE` of the smaller's area), or none. A valid coverage (GEOS's
    check, 0.1 s on India's 777 districts) has none; only otherwise are pairs measured."""
    geoms = frame.geometry.to_numpy()
    if shapely.coverage_is_valid(geoms):
        return []
    a, b = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    a, b = a[a < b], b[a < b]
    shared = shapely.area(shapely.intersection(geoms[a], geoms[b]))
    big = shared > OVERLAP_SHARE * np.minimum(shapely.area(geoms[a]), shapely.area(geoms[b]))
    if not big.any():
        return []
    order = np.lexsort((b[big], a[big], -shared[big]))  # the largest overlaps first
    names = [f"{frame['name'].iat[i]} ({frame['id'].iat[i]})" for i in range(len(frame))]
    pairs = [f"{names[i]} and {names[j]}" for i, j in zip(a[big][order], b[big][order],
                                                           strict=True)]
    more = f" and {len(pairs) - _OVERLAPS_LISTED} more" if len(pairs) > _OVERLAPS_LISTED else ""
    return [f"{label}: {plural(len(pairs), 'pair')} of districts overlap: "
            f"{'; '.join(pairs[:_OVERLAPS_LISTED])}{more}; a centre or point there may count "
            "in either or both: check the boundaries"]


def _resolve(path: str | os.PathLike) -> tuple[Path, str, Any]:
    """The file to read, the name to show for it, and column roles of an embedded dataset."""
    from reachplan.datasets import resolve

    real, known = resolve(path)
    return real, (os.fspath(path) if known is not None else str(real)), known


def _districts_from(raw: gpd.GeoDataFrame, path: str, *, id_col: str | None,
                    name_col: str | None, group_col: str | None, weight_col: str | None
                    ) -> gpd.GeoDataFrame:
    """read_boundaries' frame from a WGS84 frame; ``path`` names the source in messages."""
    messages: list[str] = []
    columns = [c for c in raw.columns if c != raw.active_geometry_name]
    rows = np.arange(1, len(raw) + 1)  # 1-based feature numbers, as users count

    geoms = np.asarray(raw.geometry.array)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.all():
        raise InputError(f"{path}: no feature has a geometry; boundaries must be polygons")
    gtype = shapely.get_type_id(geoms)
    polygonal = np.isin(gtype, (3, 6)) | empty | (gtype == 7)  # collections are checked below
    if not polygonal.any() or not (np.isin(gtype, (3, 6, 7)) & ~empty).any():
        raise InputError(f"{path}: has no polygons (found {raw.geom_type.dropna().iloc[0]}); "
                         "boundaries must be Polygon or MultiPolygon")
    if not polygonal.all():
        bad = rows[~polygonal].tolist()
        raise InputError(f"{path}: feature(s) {_listed(bad)} are not polygons "
                         f"({raw.geom_type.iloc[int(bad[0]) - 1]}); remove them")
    geom = shapely.force_2d(geoms)
    nonfinite = ~empty & _nonfinite(geom)
    if nonfinite.any():  # GEOS cannot work with them; make_valid would invent a shape
        messages.append(f"{path}: skipped {int(nonfinite.sum())} feature(s) with a missing (NaN) "
                        f"or infinite coordinate (feature {_listed(rows[nonfinite].tolist())})")
        geom[nonfinite] = shapely.Polygon()
    across = ~empty & _crosses_antimeridian(geom)
    repaired = np.zeros(len(geom), dtype=bool)  # invalid rings mended while splitting
    if across.any():
        repaired = _split_all(geom, across, rows, path, messages)
    invalid = ~empty & ~shapely.is_valid(geom)
    if invalid.any():
        geom[invalid] = _polygonal(shapely.make_valid(geom[invalid]))
    invalid |= repaired
    if invalid.any():
        messages.append(f"{path}: repaired {int(invalid.sum())} invalid polygon(s) with "
                        f"make_valid (feature {_listed(rows[invalid].tolist())})")
    geom[~empty] = _polygonal(geom[~empty])
    lost = ~empty & ~nonfinite & shapely.is_empty(geom)
    if empty.any() or lost.any():
        gone = rows[empty | lost].tolist()
        messages.append(f"{path}: skipped {len(gone)} feature(s) with no polygon area "
                        f"(feature {_listed(gone)})")
    keep = ~(empty | lost | nonfinite)

    id_name = find_column(columns, id_col, (), path, "id_col") if id_col else None
    if id_name is None:
        id_name = next((c for c in columns
                        if not _blank(raw[c]).any() and raw[c].is_unique), None)
    ids = _as_text(raw[id_name]) if id_name else pd.Series(rows.astype(str), dtype=object)
    name_name = find_column(columns, name_col, DISTRICT_NAME_NAMES, path, "name_col")
    group_name = find_column(columns, group_col, (), path, "group_col")
    weight_name = find_column(columns, weight_col, (), path, "weight_col")

    # plain pandas until the end (every step on a GeoDataFrame rebuilds its GeoSeries),
    # indexed by feature number
    frame = pd.DataFrame({
        "id": ids.to_numpy(),
        "name": _as_text(raw[name_name]).to_numpy() if name_name else ids.to_numpy(),
        "group": _as_text(raw[group_name]).to_numpy() if group_name else None,
        "weight": _weights(raw, weight_name, path, rows) if weight_name else np.nan,
        "geometry": geom,
    }, index=rows)
    no_id = keep & _blank(frame["id"])
    if no_id.any():
        messages.append(f"{path}: skipped {int(no_id.sum())} feature(s) with no {id_name} "
                        f"(feature {_listed(rows[no_id].tolist())})")
    keep &= ~no_id
    frame, merged = _merge_duplicates(frame[keep])
    if merged:
        messages.append(f"{path}: merged features sharing an id into one district each: "
                        + _listed(merged))
    if len(frame) == 0:
        raise InputError(f"{path}: no district left after skipping rows with no geometry or id")
    frame = frame.sort_values("id", kind="stable")
    messages += _nul_cells(frame, ["id", "name", "group"], frame.index.to_numpy(), path,
                           "feature")
    frame = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs=_wgs84())
    frame.attrs = {"warnings": messages, "source": path, "id_col": id_name,
                   "weight_col": weight_name}
    return frame


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


def _weights(raw: pd.DataFrame, col: str, path: str | Path, rows: np.ndarray) -> np.ndarray:
    values = pd.to_numeric(raw[col], errors="coerce")
    bad = values.isna().to_numpy() & ~_blank(raw[col])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{path}: feature {rows[i]}: weight '{raw[col].iloc[i]}' in column "
                         f"'{col}' is not a number; fix it or choose another weight_col",
                         params=("weight_col",))
    infinite = np.isinf(values.to_numpy(dtype=float))
    if infinite.any():  # it would make every sum and percentage NaN (not even valid JSON)
        i = int(np.flatnonzero(infinite)[0])
        raise InputError(f"{path}: feature {rows[i]}: weight '{raw[col].iloc[i]}' in column "
                         f"'{col}' is not a finite number; fix it or choose another "
                         "weight_col", params=("weight_col",))
    if (values < 0).any():
        i = int(np.flatnonzero((values < 0).to_numpy())[0])
        raise InputError(f"{path}: feature {rows[i]}: weight {values.iloc[i]} in column "
                         f"'{col}' is negative; weights must be >= 0")
    return values.fillna(0.0).to_numpy(dtype=float)


def _merge_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Merge rows sharing an id: one district, geometry unioned, weight counted once; the
    frame is indexed by feature number, a merged district by its first feature's."""
    dup = frame["id"].duplicated(keep=False).to_numpy()
    if not dup.any():
        return frame, []
    merged_rows = []
    first = []
    notes = []
    for key, part in frame[dup].groupby("id", sort=True):
        weights = part["weight"].to_numpy()
        same = np.all(weights == weights[0]) or np.isnan(weights).all()
        weight = weights[0] if same else float(np.nansum(weights))
        merged_rows.append({
            "id": key, "name": part["name"].iloc[0], "group": part["group"].iloc[0],
            "weight": weight, "geometry": shapely.union_all(part["geometry"].to_numpy()),
        })
        first.append(part.index[0])
        rule = "" if same or np.isnan(weights).all() else ", weights summed"
        notes.append(f"'{key}' (features {', '.join(str(r) for r in part.index)}{rule})")
    return pd.concat([frame[~dup], pd.DataFrame(merged_rows, index=first)]), notes


# --------------------------------------------------------------------------- points
def read_points(
    path: str | os.PathLike,
    *,
    lat_col: str | None = None,
    lon_col: str | None = None,
    name_col: str | None = None,
    layer: str | None = None,
    crs: str | None = None,
    where: tuple[str, ...] | list[str] | str | None = None,
    strict: bool = False,
    what: str = "centres",
) -> gpd.GeoDataFrame:
    """Read point locations (centres, candidate sites, demand) from a table or a point layer.

    CSV (delimiter sniffed; UTF-8 with or without BOM) and XLSX tables need latitude and
    longitude columns, found case-insensitively (``lat``/``latitude``/``y`` and
    ``lon``/``lng``/``long``/``longitude``/``x``) unless named. Rows with missing,
    non-numeric or out-of-range coordinates are skipped and reported by line number
    (``strict=True`` rejects the file instead). ``path`` may name an embedded dataset
    (``"@india-sample"``). ``crs`` is the CRS of a layer without one, or of a table whose
    columns hold projected y/x rather than degrees (e.g. ``"EPSG:3857"``).

    Returns
    -------
    GeoDataFrame
        EPSG:4326; the file's columns as text, plus ``lat``, ``lon``, ``name`` (the name
        column, else ``"row N"``) and point ``geometry``. ``attrs``: ``warnings``,
        ``source``, ``skipped`` (line numbers).
    """
    url = _postgis_url(path)
    if url is not None:  # a PostGIS table or query: a point layer, or latitude/longitude
        return _postgis_points(url, lat_col=lat_col, lon_col=lon_col, name_col=name_col,
                               crs=crs, where=where, strict=strict, what=what)
    path, label, known = _resolve(path)
    if known is not None:
        name_col = name_col or known["name_col"] or known["id_col"]
    _check_exists(path)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES or suffix in EXCEL_SUFFIXES:
        table, lines = _read_csv(path) if suffix in TABLE_SUFFIXES else _read_excel(path)
        if len(table) == 0:
            raise InputError(f"{label}: has a header but no rows; add {what} or check the file")
        lat, lon, messages, skipped, ok = _table_coordinates(
            table, lines, label, lat_col=lat_col, lon_col=lon_col, strict=strict, what=what,
            crs=crs)
    else:
        layer_frame = _to_wgs84(_read_layer(path, layer, what), crs, label)
        table, lat, lon, lines, messages, skipped, ok = _layer_coordinates(
            layer_frame, label, strict=strict, what=what)
    return _points_from(table, lat, lon, lines, ok, label, name_col=name_col, where=where,
                        messages=messages, skipped=skipped,
                        noun="line" if suffix in TABLE_SUFFIXES + EXCEL_SUFFIXES else "feature")


def _postgis_points(url: str, *, lat_col, lon_col, name_col, crs, where, strict: bool,
                    what: str) -> gpd.GeoDataFrame:
    """read_points for a PostGIS table or query: its geometry column, else its latitude and
    longitude columns; rows are counted from 1 in the order the server returns them."""
    label = _postgis_label(url)
    raw = _read_postgis(url, what, geometry=False)
    if isinstance(raw, gpd.GeoDataFrame):
        table, lat, lon, lines, messages, skipped, ok = _layer_coordinates(
            _to_wgs84(raw, crs, label), label, strict=strict, what=what)
    else:
        if len(raw) == 0:
            raise InputError(f"{label}: has no rows; add {what} or check the table or query")
        table = raw.apply(_as_text) if len(raw.columns) else raw
        lines = np.arange(1, len(table) + 1)
        lat, lon, messages, skipped, ok = _table_coordinates(
            table, lines, label, lat_col=lat_col, lon_col=lon_col, strict=strict, what=what,
            noun="row", crs=crs)
    return _points_from(table, lat, lon, lines, ok, label, name_col=name_col, where=where,
                        messages=messages, skipped=skipped, noun="row")


def _table_coordinates(table: pd.DataFrame, lines: np.ndarray, label: str, *,
                       lat_col: str | None, lon_col: str | None, strict: bool, what: str,
                       noun: str = "line", crs: str | None = None):
    """Coordinates from latitude/longitude columns, checked (see _check_coordinates); with
    ``crs``, the columns hold y/x in that CRS and are converted to WGS84 degrees."""
    columns = list(table.columns)
    lat_name = find_column(columns, lat_col, LAT_NAMES, label, "lat_col")
    lon_name = find_column(columns, lon_col, LON_NAMES, label, "lon_col")
    if lat_name is None or lon_name is None:
        raise InputError(
            f"{label}: no {'latitude' if lat_name is None else 'longitude'} column "
            "(looked for lat/latitude/y and lon/lng/long/longitude/x); name it with "
            f"lat_col and lon_col; columns are: {_listed(columns, 30)}",
            params=("lat_col", "lon_col"))
    lat, lon = parse_coordinates(table[lat_name]), parse_coordinates(table[lon_name])
    if crs is not None:
        lat, lon = _table_to_wgs84(lat, lon, crs, label)
    messages, skipped, ok = _check_coordinates(table, lat, lon, lat_name, lon_name, lines,
                                               label, strict, what, noun=noun)
    return lat, lon, messages, skipped, ok


def _table_to_wgs84(lat: np.ndarray, lon: np.ndarray, crs: str, label: str
                    ) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import CRS, Transformer

    try:
        source = CRS.from_user_input(crs)
    except Exception as exc:  # noqa: BLE001 - pyproj raises several types
        raise InputError(f"crs={crs!r}: not a CRS pyproj knows ({first_line(exc)}); "
                         "use e.g. EPSG:3857", params=("crs",)) from None
    _check_earth(source, label)
    if source.equals(_wgs84()):
        return lat, lon
    x, y = Transformer.from_crs(source, _wgs84(), always_xy=True).transform(lon, lat)
    return np.asarray(y, dtype=float), np.asarray(x, dtype=float)


def _layer_coordinates(layer_frame: gpd.GeoDataFrame, label: str, *, strict: bool, what: str):
    """Coordinates of a WGS84 point layer; the other columns as text."""
    if len(layer_frame) == 0:
        raise InputError(f"{label}: has no features; add {what} or check layer",
                         params=("layer",))
    geom = np.asarray(layer_frame.geometry.array)
    is_point = shapely.get_type_id(geom) == 0
    if not is_point.any():
        raise InputError(f"{label}: has no points; {what} must be points "
                         "(or a CSV/XLSX with latitude and longitude columns)")
    table = pd.DataFrame(layer_frame.drop(columns=layer_frame.geometry.name))
    table = table.apply(_as_text) if len(table.columns) else table
    with warnings.catch_warnings():  # empty points give NaN, which is checked below
        warnings.simplefilter("ignore", RuntimeWarning)
        lon = np.where(is_point, shapely.get_x(geom), np.nan)
        lat = np.where(is_point, shapely.get_y(geom), np.nan)
    lines = np.arange(1, len(table) + 1)
    messages, skipped, ok = _check_coordinates(table, lat, lon, "geometry", "geometry",
                                               lines, label, strict, what, noun="feature")
    return table, lat, lon, lines, messages, skipped, ok


def _points_from(table: pd.DataFrame, lat: np.ndarray, lon: np.ndarray, lines: np.ndarray,
                 ok: np.ndarray, label: str, *, name_col: str | None, where, messages: list[str],
                 skipped: list[int], noun: str = "line") -> gpd.GeoDataFrame:
    """read_points' frame: the table's rows with usable coordinates, named and filtered."""
    table = table.reset_index(drop=True)
    name_name = find_column(list(table.columns), name_col, NAME_NAMES, label, "name_col")
    names = np.array([f"row {n}" for n in lines], dtype=object)
    if name_name:
        given = table[name_name].fillna("").astype(str)
        names = np.where(given.str.strip() != "", given, names)
    out = table.assign(lat=lat, lon=lon, name=names, line=lines)[ok]
    out = _filter_where(out, where, label).reset_index(drop=True)
    messages = messages + _nul_cells(out, list(table.columns), out["line"].to_numpy(), label,
                                     noun)
    points = gpd.points_from_xy(out["lon"], out["lat"], crs=_wgs84())
    frame = gpd.GeoDataFrame(out.assign(geometry=points), geometry="geometry")
    frame.attrs = {"warnings": messages, "source": label, "skipped": skipped,
                   "name_col": name_name}
    return frame


# --------------------------------------------------------------------------- API inputs
_DISTRICT_COLUMNS = ("id", "name", "group", "weight")
_POINT_COLUMNS = ("lat", "lon", "name")


def as_districts(frame: Any, *, param: str = "districts") -> gpd.GeoDataFrame:
    """Districts as the engine works on them, from what a Python caller passed.

    A frame from :func:`read_boundaries` passes through unchanged. A path (or ``"@india"``)
    is read with it; any other GeoDataFrame of polygons with a CRS is taken as
    :func:`read_boundaries` would take the file (reprojected to WGS84; ``id``, ``name``,
    ``group`` and ``weight`` columns used when present). Anything else is an InputError
    naming ``param`` and what to pass.
    """
    if isinstance(frame, (str, os.PathLike)):
        return read_boundaries(frame)
    _check_frame(frame, param, "read_boundaries(path)", "polygons")
    if all(c in frame.columns for c in _DISTRICT_COLUMNS) and _is_wgs84(frame):
        return frame
    raw = _to_wgs84(frame, None, param, "set_crs")
    present = {c: c if c in raw.columns and raw[c].notna().any() else None
               for c in _DISTRICT_COLUMNS}
    out = _districts_from(raw, param, id_col=present["id"], name_col=present["name"],
                          group_col=present["group"], weight_col=present["weight"])
    out.attrs["source"] = frame.attrs.get("source", param)
    return out


def as_points(frame: Any, *, param: str = "centers") -> gpd.GeoDataFrame:
    """Points (centres, candidates) as the engine works on them, from what a caller passed.

    A frame from :func:`read_points` passes through unchanged; a path is read with it; a
    point GeoDataFrame with a CRS is reprojected to WGS84; a pandas DataFrame needs latitude
    and longitude columns (found by name as in a CSV). Rows without usable coordinates are
    skipped with a warning in ``attrs["warnings"]``. Anything else is an InputError.
    """
    if isinstance(frame, (str, os.PathLike)):
        return read_points(frame)
    if isinstance(frame, pd.DataFrame) and len(frame) == 0:  # none yet: plan from scratch
        empty = pd.DataFrame(frame).drop(columns=getattr(frame, "_geometry_column_name", None)
                                         or [], errors="ignore")
        empty = empty.assign(lat=np.array([], float), lon=np.array([], float),
                             name=np.array([], object), line=np.array([], np.int64))
        return gpd.GeoDataFrame(empty, geometry=gpd.points_from_xy([], []), crs=_wgs84())
    if isinstance(frame, pd.DataFrame) and not isinstance(frame, gpd.GeoDataFrame):
        lines = np.arange(1, len(frame) + 1)
        lat, lon, messages, skipped, ok = _table_coordinates(
            frame, lines, param, lat_col=None, lon_col=None, strict=False, what=param,
            noun="row")
        return _points_from(frame, lat, lon, lines, ok, param, name_col=None, where=None,
                            messages=messages, skipped=skipped, noun="row")
    _check_frame(frame, param, "read_points(path)", "points")
    if all(c in frame.columns for c in _POINT_COLUMNS) and _is_wgs84(frame):
        return frame
    raw = _to_wgs84(frame, None, param, "set_crs")
    raw = raw.drop(columns=[c for c in ("lat", "lon") if c in raw.columns])
    table, lat, lon, lines, messages, skipped, ok = _layer_coordinates(raw, param, strict=False,
                                                                       what=param)
    return _points_from(table, lat, lon, lines, ok, param, name_col=None, where=None,
                        messages=messages, skipped=skipped, noun="row")


def _nul_cells(frame: pd.DataFrame, columns: list, lines: np.ndarray, label: str, noun: str
               ) -> list[str]:
    """A warning naming text cells with a NUL byte (GDAL's writers end strings there)."""
    hits = []
    for col in columns:
        values = frame[col]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        hits += [f"column {col} {noun} {lines[i]}" for i, v in enumerate(values.to_numpy(object))
                 if isinstance(v, str) and "\x00" in v]
    if not hits:
        return []
    return [f"{label}: {len(hits)} text cell(s) hold a NUL byte ({_listed(hits)}); GeoJSON and "
            "GeoPackage outputs cut text there"]


def _check_frame(frame: Any, param: str, reader: str, shapes: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        got = ("a pandas DataFrame without geometry" if isinstance(frame, pd.DataFrame)
               else f"a {type(frame).__name__}")
        raise InputError(f"{param}: got {got}; pass reachplan.{reader} or a GeoDataFrame of "
                         f"{shapes} with a CRS")
    if frame.crs is None:
        raise InputError(f"{param}: the GeoDataFrame has no CRS; set it with "
                         f"{param}.set_crs(...) (EPSG:4326 for longitude/latitude)")


def _is_wgs84(frame: gpd.GeoDataFrame) -> bool:
    return frame.crs is not None and frame.crs.equals(_wgs84())


def parse_coordinates(values: pd.Series) -> np.ndarray:
    """Numbers from text; a decimal comma (``12,5``, common with ``;`` delimiters) is read as
    a decimal point when the whole column is written that way."""
    text = values.astype(str).str.strip()
    if (text.str.contains(",", regex=False).any()  # cheaper than the pattern on every cell
            and text.str.fullmatch(r"[+-]?\d+,\d+").any()
            and not text[text != ""].str.contains(".", regex=False).any()):
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)


def csv_header(head: bytes, source: str | os.PathLike) -> tuple[int, str, str]:
    """Length of a UTF-8 BOM, the header line and the delimiter, from a CSV's first bytes.

    The one place that sniffs CSV files, for centres and demand points alike: the delimiter
    is whichever of ``, ; tab |`` the header line uses.
    """
    if not head.strip():
        raise InputError(f"{source}: is empty; it needs a header row and one row per point")
    bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    end = head.find(b"\n")
    try:
        header = head[bom:] if end < 0 else head[bom:end]
        text = header.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: byte {bom + exc.start} is not UTF-8; save the file as "
                         "UTF-8 (CSV UTF-8 in Excel)") from None
    try:
        delimiter = csv.Sniffer().sniff(text, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    return bom, text, delimiter


def _read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Every cell as text, and the line each record starts on (quoted newlines counted)."""
    data = path.read_bytes()
    bom, _, delimiter = csv_header(data[:1 << 20], path)
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: byte {bom + exc.start} is not UTF-8; save the file as UTF-8 "
                         "(CSV UTF-8 in Excel)") from None
    del data
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    starts: list[int] = []
    header: list[str] | None = None
    done = 0  # physical lines read so far
    try:
        for row in reader:
            line, done = done + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            if header is None:
                header = [c.strip() for c in row]
                continue
            if len(row) > len(header):
                raise InputError(f"{path}: line {line} has {len(row)} fields but the header has "
                                 f"{len(header)}; check quoting and the delimiter "
                                 f"('{delimiter}')")
            rows.append(row + [""] * (len(header) - len(row)))
            starts.append(line)
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV near line {reader.line_num} "
                         f"({first_line(exc)}); check quoting") from None
    assert header is not None  # the file is not blank (csv_header checked)
    table = pd.DataFrame(rows, columns=_unique_header(header, path), dtype=object)
    return table, np.asarray(starts, dtype=np.int64)


def _unique_header(header: list, source: str | os.PathLike) -> list[str]:
    names = [str(c).strip() if c is not None else "" for c in header]
    seen = [n for n in names if n]
    dup = sorted({n for n in seen if seen.count(n) > 1})
    if dup:
        raise InputError(f"{source}: column '{dup[0]}' appears more than once in the header; "
                         "rename one")
    return [n or f"column {i + 1}" for i, n in enumerate(names)]


_MAX_XLSX_COLUMNS = 1000  # cells beyond a header this wide are not a table of places
# XML inside an XLSX read at most (openpyxl parses ~3 MiB/s: ~10 s, ~200,000 rows of three
# columns); bigger workbooks, and zip bombs, are refused before parsing: CSV has no bound
_MAX_XLSX_XML = 32 << 20


def _check_xlsx_size(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            size = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl names what is wrong
    if size > _MAX_XLSX_XML:
        raise InputError(f"{path}: holds {size / 2**20:.0f} MiB of XML, more than the "
                         f"{_MAX_XLSX_XML >> 20} MiB read from a workbook; save the sheet as "
                         "CSV (no size limit)")


def _read_excel(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The first sheet's cells as text, and each row's number in the sheet.

    Read-only and ignoring the declared dimension, so a sheet claiming A1:XFD1048576 or one
    far-away cell costs no memory for the empty cells in between.
    """
    from openpyxl import load_workbook

    _check_xlsx_size(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, TypeError) as exc:
        raise InputError(f"{path}: not a readable XLSX workbook ({first_line(exc)})") from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        header: list[str] | None = None
        rows: list[list[str]] = []
        numbers: list[int] = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = [_cell_text(v) for v in cells]
            if not any(values):
                continue
            if header is None:
                width = max(i for i, v in enumerate(values) if v) + 1
                if width > _MAX_XLSX_COLUMNS:
                    raise InputError(f"{path}: the header row has {width} columns (more than "
                                     f"{_MAX_XLSX_COLUMNS}); is the first sheet the table?")
                header = _unique_header(values[:width], path)
                continue
            extra = [i for i, v in enumerate(values[len(header):], len(header)) if v]
            if extra:
                raise InputError(f"{path}: row {number} has a value in column {extra[0] + 1}, "
                                 f"beyond the header's {len(header)} columns; remove it or "
                                 "name the column")
            rows.append((values + [""] * len(header))[:len(header)])
            numbers.append(number)
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, TypeError) as exc:
        raise InputError(f"{path}: not a readable XLSX workbook ({first_line(exc)})") from None
    finally:
        book.close()
    if header is None:
        raise InputError(f"{path}: the first sheet is empty; it needs a header row and one row "
                         "per point")
    return pd.DataFrame(rows, columns=header, dtype=object), np.asarray(numbers, dtype=np.int64)


def _cell_text(value: Any) -> str:
    """A cell as the text a user sees: integral numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _check_coordinates(table, lat, lon, lat_name, lon_name, lines, path, strict, what,
                       noun="line"):
    """Flag missing, non-numeric and out-of-range coordinates; detect swapped columns."""
    finite = np.isfinite(lat) & np.isfinite(lon)
    in_range = finite & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    swapped_ok = finite & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
    if finite.any() and in_range[finite].mean() < 0.5 and swapped_ok[finite].mean() > 0.9:
        raise InputError(f"{path}: latitude and longitude look swapped ('{lat_name}' holds "
                         f"values up to {np.nanmax(np.abs(lat)):.1f}); swap them: "
                         f"lat_col={lon_name!r} lon_col={lat_name!r}",
                         params=("lat_col", "lon_col"))
    if finite.any() and in_range[finite].mean() < 0.5 and lat_name != "geometry":
        big = max(np.nanmax(np.abs(lat[finite])), np.nanmax(np.abs(lon[finite])))
        if big > 1000:
            raise InputError(f"{path}: '{lat_name}'/'{lon_name}' hold values up to {big:.0f}, "
                             "projected coordinates (metres?), not degrees; give their CRS "
                             "with crs (e.g. EPSG:3857) or use degree columns",
                             params=("crs",))
    messages: list[str] = []
    bad = ~in_range
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        if lat_name == "geometry":
            reason = "is not a point"
        else:
            raw_lat, raw_lon = table[lat_name].iloc[i], table[lon_name].iloc[i]
            if not finite[i]:
                reason = (f"has no usable coordinates ({lat_name}='{raw_lat}', "
                          f"{lon_name}='{raw_lon}')")
            else:
                reason = f"has coordinates out of range ({raw_lat}, {raw_lon})"
        if strict:
            raise InputError(f"{path}: {noun} {lines[i]} {reason}; fix it, or drop strict=True "
                             "to skip such rows", params=("strict",))
        messages.append(f"{path}: skipped {int(bad.sum())} {what} row(s) with missing, "
                        f"non-numeric or out-of-range coordinates ({noun} "
                        f"{_listed(lines[bad].tolist())})")
    if not in_range.any():
        raise InputError(f"{path}: no row has usable coordinates in '{lat_name}'/'{lon_name}'; "
                         "check the columns (lat_col, lon_col)", params=("lat_col", "lon_col"))
    return messages, lines[bad].tolist(), in_range


def _filter_where(frame: pd.DataFrame, where, path: str | Path) -> pd.DataFrame:
    """Keep rows matching every ``col=v1,v2`` / ``col!=v`` expression (text comparison)."""
    if not where:
        return frame
    for expr in [where] if isinstance(where, str) else where:
        negate = "!=" in expr
        col, sep, values = expr.partition("!=" if negate else "=")
        col = col.strip()
        if not sep or not col:
            raise InputError(f"where={expr!r}: write it as column=value (or column!=value; "
                             "several values separated by commas)", params=("where",))
        real = find_column([c for c in frame.columns if c != "line"], col, (), path, "where")
        wanted = [v.strip() for v in values.split(",")]
        if real in ("lat", "lon"):  # coordinates are numbers here: 1.50 matches 1.5
            numbers = parse_coordinates(pd.Series(wanted))
            if np.isnan(numbers).any():
                raise InputError(f"where={expr!r}: '{real}' holds numbers; give numbers",
                                 params=("where",))
            hit = frame[real].isin(numbers)
        else:
            hit = frame[real].astype(str).str.strip().isin(wanted)
        frame = frame[~hit if negate else hit]
    if len(frame) == 0:
        shown = " ".join(f"where={e!r}" for e in ([where] if isinstance(where, str) else where))
        raise InputError(f"{path}: no row matches {shown}; check the value", params=("where",))
    return frame
