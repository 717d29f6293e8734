"""Validation: a raw frame (read from a file, a table, or passed in code) made into the frame the
engine works on: WGS84 on the Earth, districts with ids, names, groups and weights, points
with usable coordinates; what was skipped, merged or repaired in ``attrs["warnings"]``.

Everything a user's input can get wrong is raised as one-line
:class:`~reachplan.errors.InputError` messages naming the file, row or column, and the reader's
parameter that fixes it (the command line names its own option instead).
"""

from __future__ import annotations

import warnings
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
from reachplan.frames.columns import (
    DISTRICT_NAME_NAMES,
    LAT_NAMES,
    LON_NAMES,
    NAME_NAMES,
    _as_text,
    _blank,
    _filter_where,
    _listed,
    _nul_cells,
    _wgs84,
    find_column,
    parse_coordinates,
)
from reachplan.frames.repair import _crosses_antimeridian, _nonfinite, _polygonal, _split_all


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
    from pyproj import Transformer

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
