"""Demand points read in parts, for millions of points in bounded memory.

A source (a CSV, a GeoParquet file or folder of parts, any point layer GDAL reads, or a frame)
is planned once (:func:`plan_parts`: its columns, resolved from the header into a
:class:`PointSpec`, and its parts: byte ranges of a CSV cut at record ends, row groups of
GeoParquet, slices of a frame). Each part is small, pickles, and reads itself
(``part.read(spec)`` -> :class:`Chunk`) wherever it runs: in this process or on a dask worker.
What is done with a chunk is :mod:`reachplan.demand.assess`'s business.
"""

from __future__ import annotations

import csv
import io as _io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from reachplan.errors import InputError
from reachplan.frames.columns import LAT_NAMES, LON_NAMES, find_column, parse_coordinates
from reachplan.io.files import check_regular
from reachplan.io.formats import TABLE_SUFFIXES, csv_header, readable_copy

__all__ = ["Chunk", "CsvPart", "FramePart", "ParquetPart", "PointSpec", "plan_parts"]

_PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")


@dataclass(frozen=True)
class PointSpec:
    """Which columns to read, resolved once from the source's header."""

    label: str
    lat: str | None  # None: take coordinates from the geometry column
    lon: str | None
    weight: str | None
    id: str | None
    geometry: str | None = None
    row_word: str = "row"


@dataclass
class Chunk:
    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray | None
    ids: np.ndarray | None
    first: int  # line/row number of the first row
    lines: np.ndarray | None = None  # every row's line, when records span several lines


@dataclass(frozen=True)
class CsvPart:
    path: str
    start: int
    stop: int
    first: int
    names: tuple[str, ...]
    delimiter: str

    def read(self, spec: PointSpec) -> Chunk:
        # pandas' C reader, not pyarrow: a plain `pip install reachplan` has no pyarrow
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            data = fh.read(self.stop - self.start)
        wanted = [c for c in (spec.lat, spec.lon, spec.weight) if c]
        usecols = wanted + ([spec.id] if spec.id else [])

        def _table(numbers_as: Any) -> pd.DataFrame:
            types = {c: numbers_as for c in wanted} | ({spec.id: object} if spec.id else {})
            return pd.read_csv(_io.BytesIO(data), sep=self.delimiter, header=None,
                               names=list(self.names), usecols=usecols, dtype=types,
                               keep_default_na=False, na_values={c: [""] for c in wanted},
                               engine="c", encoding="utf-8")

        try:
            try:
                table = _table(np.float64)
                numbers = {c: table[c].to_numpy(dtype=np.float64) for c in wanted}
            except ValueError as exc:  # a value that is not a plain number: parse as text
                if isinstance(exc, pd.errors.ParserError):
                    raise
                table = _table(str)
                numbers = {c: _numbers(table[c].astype(object),
                                       coordinates=c in (spec.lat, spec.lon)) for c in wanted}
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InputError(f"{spec.label}: not a readable CSV near line {self.first} "
                             f"({str(exc).strip().splitlines()[0]}); check quoting and the "
                             "number of columns per line") from None
        ids = table[spec.id].to_numpy(dtype=object) if spec.id else None
        assert spec.lat and spec.lon
        lines = _record_lines(data, self.first)
        if lines is not None and lines.size != len(table):
            lines = None  # the parser saw other records: fall back to one line per row
        return Chunk(numbers[spec.lat], numbers[spec.lon],
                      numbers[spec.weight] if spec.weight else None, ids, self.first, lines)


def _quote_parity(data: np.ndarray, carry: int = 0) -> np.ndarray:
    """After each byte: 1 inside a quoted CSV field, 0 outside (``""`` escapes keep parity)."""
    return np.bitwise_xor.accumulate((data == 34).astype(np.uint8)) ^ np.uint8(carry)


def _record_lines(data: bytes, first: int) -> np.ndarray | None:
    """Line on which each record of ``data`` starts (``first`` for the first), skipping blank
    lines as the parser does; None when every line is one record."""
    if b'"' not in data and b"\n\n" not in data and b"\n\r\n" not in data:
        return None
    arr = np.frombuffer(data, dtype=np.uint8)
    newline = np.flatnonzero(arr == 10)
    ends = newline[_quote_parity(arr)[newline] == 0]
    starts = np.concatenate([[0], ends + 1])
    starts = starts[starts < arr.size]
    nxt = np.append(arr, 0)[np.minimum(starts + 1, arr.size)]
    blank = (arr[starts] == 10) | ((arr[starts] == 13) & (nxt == 10))
    starts = starts[~blank]
    return first + np.searchsorted(newline, starts).astype(np.int64)


@dataclass(frozen=True)
class ParquetPart:
    path: str
    row_groups: tuple[int, ...]
    first: int
    crs: str | None  # of this file's geometry column, when not WGS84 lon/lat

    def read(self, spec: PointSpec) -> Chunk:
        import pyarrow.parquet as pq

        cols = [c for c in (spec.lat, spec.lon, spec.weight, spec.id, spec.geometry) if c]
        table = pq.ParquetFile(self.path).read_row_groups(list(self.row_groups), columns=cols)
        frame = table.to_pandas()
        return _frame_chunk(frame, spec, self.first, self.crs)


@dataclass(frozen=True)
class FramePart:
    frame: pd.DataFrame
    first: int

    def read(self, spec: PointSpec) -> Chunk:
        return _frame_chunk(self.frame, spec, self.first)


def _numbers(values: pd.Series, *, coordinates: bool = False) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    if coordinates:  # decimal commas read as centres' coordinates are
        return parse_coordinates(values)
    return pd.to_numeric(values.astype(str).str.strip(), errors="coerce").to_numpy(
        dtype=np.float64)


def _geo_column(handle) -> tuple[str | None, str | None]:
    """GeoParquet primary WKB column and its CRS (None when WGS84 lon/lat)."""
    meta = handle.schema_arrow.metadata or {}
    if b"geo" not in meta:
        return None, None
    geo = json.loads(meta[b"geo"])
    name = geo.get("primary_column")
    col = geo.get("columns", {}).get(name, {})
    if str(col.get("encoding", "WKB")).upper() != "WKB":
        return None, None
    raw = col.get("crs")
    if raw is None:
        return name, None
    crs = CRS.from_user_input(raw)
    if crs.equals(CRS("OGC:CRS84")) or crs.equals(CRS("EPSG:4326")):
        return name, None
    return name, crs.to_wkt()


def _frame_chunk(frame: pd.DataFrame, spec: PointSpec, first: int, crs: str | None = None
                 ) -> Chunk:
    if spec.lat and spec.lon:
        lat = _numbers(frame[spec.lat], coordinates=True)
        lon = _numbers(frame[spec.lon], coordinates=True)
    else:
        geoms = frame[spec.geometry].to_numpy()
        if geoms.dtype == object and geoms.size and isinstance(geoms[0], (bytes, bytearray)):
            geoms = shapely.from_wkb(geoms)
        geoms = np.asarray(geoms, dtype=object)
        kinds = shapely.get_type_id(geoms)
        lon = np.where(kinds == 0, shapely.get_x(geoms), np.nan)
        lat = np.where(kinds == 0, shapely.get_y(geoms), np.nan)
        if crs:
            lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
                lon, lat)
            lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    weight = _numbers(frame[spec.weight]) if spec.weight else None
    ids = frame[spec.id].astype(str).to_numpy(dtype=object) if spec.id else None
    return Chunk(lat, lon, weight, ids, first)


def _resolve_spec(label: str, columns: Sequence[str], *, lat_col, lon_col, weight_col, id_col,
                  geometry: str | None = None, row_word: str = "row") -> PointSpec:
    lat = find_column(columns, lat_col, LAT_NAMES, label, "lat_col")
    lon = find_column(columns, lon_col, LON_NAMES, label, "lon_col")
    if (lat is None or lon is None) and geometry is None:
        shown = ", ".join(map(str, list(columns)[:30]))
        raise InputError(f"{label}: no latitude/longitude columns (looked for lat/latitude/y and "
                         f"lon/lng/long/longitude/x; columns are: {shown}); name them with "
                         "lat_col and lon_col", params=("lat_col", "lon_col"))
    if lat is None or lon is None:
        lat = lon = None
    else:
        geometry = None
    weight = find_column(columns, weight_col, (), label, "weight_col")
    ident = find_column(columns, id_col, (), label, "id_col")
    return PointSpec(label, lat, lon, weight, ident, geometry, row_word)


def _csv_parts(path: Path, *, lat_col, lon_col, weight_col, id_col, chunksize: int
               ) -> tuple[PointSpec, list[CsvPart]]:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    bom, header, delimiter = csv_header(head, path)
    names = tuple(n.strip() for n in next(csv.reader([header], delimiter=delimiter)))
    spec = _resolve_spec(str(path), names, lat_col=lat_col, lon_col=lon_col,
                         weight_col=weight_col, id_col=id_col, row_word="line")
    end = head.find(b"\n")
    body = size if end < 0 else end + 1
    rows_in_head = max(head.count(b"\n") - 1, 1)
    bytes_per_row = max((len(head) - body) / rows_in_head, 1.0) if end >= 0 else 1.0
    step = max(int(bytes_per_row * chunksize), 1 << 16)
    return spec, [CsvPart(str(path), start, stop, line, names, delimiter)
                  for start, stop, line in _record_cuts(path, body, size, step)]


def _record_cuts(path: Path, body: int, size: int, step: int) -> list[tuple[int, int, int]]:
    """(start, stop, first line) of parts of about ``step`` bytes, each cut after a newline
    that ends a record: one outside quotes, so a quoted field holding newlines stays whole.
    One pass in 4 MB blocks; lines are counted as they pass, so rows are numbered exactly."""
    cuts: list[tuple[int, int, int]] = []
    start, first, target = body, 2, body + step
    pos, newlines, parity = body, 0, 0
    with open(path, "rb") as fh:
        fh.seek(body)
        while pos < size:
            block = fh.read(min(1 << 22, size - pos))
            if not block:
                break
            arr = np.frombuffer(block, dtype=np.uint8)
            newline = np.flatnonzero(arr == 10)
            if b'"' in block:
                par = _quote_parity(arr, parity)
                ends, parity = newline[par[newline] == 0], int(par[-1])
            else:
                ends = newline if parity == 0 else newline[:0]
            while True:
                k = int(np.searchsorted(ends, target - 1 - pos))
                if k >= ends.size or pos + int(ends[k]) + 1 >= size:
                    break
                stop = pos + int(ends[k]) + 1
                cuts.append((start, stop, first))
                first = 2 + newlines + int(np.searchsorted(newline, ends[k])) + 1
                start, target = stop, stop + step
            newlines += newline.size
            pos += len(block)
    if start < size:
        cuts.append((start, size, first))
    return cuts


def _parquet_parts(path: Path, *, lat_col, lon_col, weight_col, id_col, chunksize: int
                   ) -> tuple[PointSpec, list[ParquetPart]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"{path}: reading GeoParquet needs pyarrow; "
                         "pip install 'reachplan[parquet]'") from None

    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower()
                   in _PARQUET_SUFFIXES) if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: folder holds no .parquet files; give a file or a folder "
                         "of GeoParquet parts")
    try:
        first = pq.ParquetFile(files[0])
    except Exception as exc:  # noqa: BLE001 - any pyarrow failure means unreadable input
        raise InputError(f"{files[0]}: not a readable Parquet file ({str(exc).splitlines()[0]})"
                         ) from None
    columns = first.schema_arrow.names
    geometry, _ = _geo_column(first)
    spec = _resolve_spec(str(path), columns, lat_col=lat_col, lon_col=lon_col,
                         weight_col=weight_col, id_col=id_col, geometry=geometry)
    parts: list[ParquetPart] = []
    row = 1
    for file in files:
        handle = pq.ParquetFile(file)
        meta = handle.metadata
        crs = _geo_column(handle)[1] if spec.geometry else None
        group: list[int] = []
        rows = 0
        for rg in range(meta.num_row_groups):
            group.append(rg)
            rows += meta.row_group(rg).num_rows
            if rows >= chunksize:
                parts.append(ParquetPart(str(file), tuple(group), row, crs))
                row += rows
                group, rows = [], 0
        if group:
            parts.append(ParquetPart(str(file), tuple(group), row, crs))
            row += rows
    return spec, parts


def _frame_parts(frame: pd.DataFrame, label: str, *, lat_col, lon_col, weight_col, id_col,
                 chunksize: int) -> tuple[PointSpec, list[FramePart]]:
    geometry = None
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        if frame.crs is None:
            raise InputError(f"{label}: the point layer has no CRS; set one before using it "
                             "as demand")
        if not frame.crs.equals(CRS("EPSG:4326")):
            frame = frame.to_crs("EPSG:4326")
        geometry = frame.geometry.name
    spec = _resolve_spec(label, list(frame.columns), lat_col=lat_col, lon_col=lon_col,
                         weight_col=weight_col, id_col=id_col, geometry=geometry)
    frame = frame.reset_index(drop=True)
    parts = [FramePart(frame.iloc[s:s + chunksize], s + 1)
             for s in range(0, len(frame), chunksize)]
    return spec, parts


def plan_parts(source: Any, *, lat_col, lon_col, weight_col, id_col, layer, chunksize
               ) -> tuple[PointSpec, list]:
    """The columns to read and the parts of ``source`` (a CSV, a GeoParquet file or folder,
    any point layer GDAL reads, or a frame), each of about ``chunksize`` rows; the arguments
    are :func:`reachplan.demand_coverage`'s."""
    opts = dict(lat_col=lat_col, lon_col=lon_col, weight_col=weight_col, id_col=id_col,
                chunksize=chunksize)
    if isinstance(source, pd.DataFrame):
        return _frame_parts(source, "demand", **opts)
    from reachplan.io.postgis import display_name, is_postgis, read_frame

    if is_postgis(source):  # a PostGIS table or query: read whole, then in parts
        return _frame_parts(read_frame(source, "demand points"), display_name(source), **opts)
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    check_regular(path, "demand points")
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in _PARQUET_SUFFIXES:
        return _parquet_parts(path, **opts)
    if suffix in TABLE_SUFFIXES:
        return _csv_parts(path, **opts)
    try:
        with readable_copy(path) as source:  # a GeoPackage in WAL mode stays untouched
            frame = gpd.read_file(source, layer=layer)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several types
        raise InputError(f"{path}: not a readable point layer ({str(exc).splitlines()[0]}); "
                         "use CSV, GeoParquet or a vector format GDAL reads") from None
    return _frame_parts(frame, str(path), **opts)
