"""Read inputs: district boundaries and point locations, from a file, an embedded dataset or
PostGIS. Each reader reads the raw frame (:mod:`reachplan.io.formats`) and validates it
(:mod:`reachplan.frames.validate`), so a file and a frame passed in code get the same checks
and the same one-line errors.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np

from reachplan.errors import InputError
from reachplan.frames.columns import _as_text
from reachplan.frames.validate import (
    _districts_from,
    _layer_coordinates,
    _overlaps,
    _points_from,
    _table_coordinates,
    _to_wgs84,
)
from reachplan.io.formats import (
    EXCEL_SUFFIXES,
    TABLE_SUFFIXES,
    _bundled,
    _check_exists,
    _postgis_label,
    _postgis_url,
    _read_csv,
    _read_excel,
    _read_layer,
    _read_postgis,
    _resolve,
)

__all__ = ["read_boundaries", "read_points"]


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
