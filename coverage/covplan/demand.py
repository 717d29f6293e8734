"""Demand-point coverage: which share of points (customers, PIN codes, villages) a centre
reaches under the coverage rule (e.g. within R km, geodesic on WGS84), for millions of points.

How a point is decided
----------------------
The coverage rule decides (:meth:`covplan.rules.CoverageRule.point_reach`). For a radius, the
answers are exact geodesic ones, identical to a brute-force ``pyproj`` loop over every centre
(see :mod:`covplan.geodesy.points`).

Large inputs are read in parts (byte ranges of a CSV, row groups of GeoParquet); each part is
processed independently, so the in-memory engine streams with bounded memory and the dask engine
runs the very same function per part on a ``dask.distributed`` cluster. Weight sums are exact
(order-independent), so both engines give identical results.
"""

from __future__ import annotations

import csv
import io as _io
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from covplan.errors import InputError
from covplan.geodesy import nearest_centres
from covplan.geodesy.locate import PolygonIndex
from covplan.io import (
    LAT_NAMES,
    LON_NAMES,
    TABLE_SUFFIXES,
    csv_header,
    find_column,
    parse_coordinates,
    readable_copy,
)
from covplan.rules import CoverageRule, PointReach, Radius

__all__ = ["DemandResult", "demand_coverage", "nearest_centres"]

_MAX_PART_ROWS = 1 << 24  # exact weight sums need fewer than 2**26 rows per part
_FREXP_MIN = -1073  # np.frexp's lowest exponent (of the smallest subnormal)
_DENSE_KEYS = 1 << 22  # (group, exponent) sums kept in one array up to this many
_PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
_LISTED = 10
_CONNECT_TIMEOUT = "10s"  # to reach an existing dask scheduler
Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- exact sums


def _exact_sums(values: np.ndarray, groups: np.ndarray, n: int) -> list[Fraction]:
    """Exact per-group sums of float64 values (so any partitioning gives the same totals).

    Each value is an integer times a power of two; integers of one group and exponent are
    summed by bincount (exact: halves below 2**27, rows below 2**26), then each group's sums
    are shifted to one exponent and added as Python integers.
    """
    if values.size == 0:
        return [Fraction(0)] * n
    mant, expo = np.frexp(values)
    ints = np.ldexp(mant, 53).astype(np.int64)  # values == ints * 2**(expo-53), exactly
    expo = expo - _FREXP_MIN
    present = np.flatnonzero(np.bincount(expo))
    slot = np.zeros(present[-1] + 1, dtype=np.int64)
    slot[present] = np.arange(present.size)
    key = groups.astype(np.int64) * present.size + slot[expo]
    if n * present.size <= _DENSE_KEYS:
        keys = np.arange(n * present.size)
    else:
        keys, key = np.unique(key, return_inverse=True)
    shi = np.bincount(key, weights=ints >> 26, minlength=keys.size)
    slo = np.bincount(key, weights=ints & ((1 << 26) - 1), minlength=keys.size)
    used = np.flatnonzero((shi != 0) | (slo != 0))
    group, e = np.divmod(keys[used], present.size)
    shift = present[e] - present[0]  # exponents above the lowest present one
    total = [0] * n
    for g, k, h, low in zip(group.tolist(), shift.tolist(), shi[used].tolist(),
                            slo[used].tolist(), strict=True):
        total[g] += ((int(h) << 26) + int(low)) << k
    scale = int(present[0]) + _FREXP_MIN - 53  # the lowest exponent of a unit
    return [Fraction(t << scale) if scale >= 0 else Fraction(t, 1 << -scale) for t in total]


def _percent(part: Fraction | int, whole: Fraction | int) -> float | None:
    if whole == 0:
        return None
    return round(float(Fraction(part) * 100 / Fraction(whole)), 2)


# --------------------------------------------------------------------------- reading demand


@dataclass(frozen=True)
class _Spec:
    """Which columns to read, resolved once from the source's header."""

    label: str
    lat: str | None  # None: take coordinates from the geometry column
    lon: str | None
    weight: str | None
    id: str | None
    geometry: str | None = None
    row_word: str = "row"


@dataclass
class _Chunk:
    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray | None
    ids: np.ndarray | None
    first: int  # line/row number of the first row
    lines: np.ndarray | None = None  # every row's line, when records span several lines


@dataclass(frozen=True)
class _CsvPart:
    path: str
    start: int
    stop: int
    first: int
    names: tuple[str, ...]
    delimiter: str

    def read(self, spec: _Spec) -> _Chunk:
        # pandas' C reader, not pyarrow: a plain `pip install covplan` has no pyarrow
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            data = fh.read(self.stop - self.start)
        wanted = [c for c in (spec.lat, spec.lon, spec.weight) if c]
        usecols = wanted + ([spec.id] if spec.id else [])

        def _table(numbers_as: Any) -> pd.DataFrame:
            types = {c: numbers_as for c in wanted} | ({spec.id: str} if spec.id else {})
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
        return _Chunk(numbers[spec.lat], numbers[spec.lon],
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
class _ParquetPart:
    path: str
    row_groups: tuple[int, ...]
    first: int
    crs: str | None  # of this file's geometry column, when not WGS84 lon/lat

    def read(self, spec: _Spec) -> _Chunk:
        import pyarrow.parquet as pq

        cols = [c for c in (spec.lat, spec.lon, spec.weight, spec.id, spec.geometry) if c]
        table = pq.ParquetFile(self.path).read_row_groups(list(self.row_groups), columns=cols)
        frame = table.to_pandas()
        return _frame_chunk(frame, spec, self.first, self.crs)


@dataclass(frozen=True)
class _FramePart:
    frame: pd.DataFrame
    first: int

    def read(self, spec: _Spec) -> _Chunk:
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


def _frame_chunk(frame: pd.DataFrame, spec: _Spec, first: int, crs: str | None = None
                 ) -> _Chunk:
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
    return _Chunk(lat, lon, weight, ids, first)


def _resolve_spec(label: str, columns: Sequence[str], *, lat_col, lon_col, weight_col, id_col,
                  geometry: str | None = None, row_word: str = "row") -> _Spec:
    lat = find_column(columns, lat_col, LAT_NAMES, label, "--demand-lat-col")
    lon = find_column(columns, lon_col, LON_NAMES, label, "--demand-lon-col")
    if (lat is None or lon is None) and geometry is None:
        shown = ", ".join(map(str, list(columns)[:30]))
        raise InputError(f"{label}: no latitude/longitude columns (looked for lat/latitude/y and "
                         f"lon/lng/long/longitude/x; columns are: {shown}); name them with "
                         "--demand-lat-col and --demand-lon-col")
    if lat is None or lon is None:
        lat = lon = None
    else:
        geometry = None
    weight = find_column(columns, weight_col, (), label, "--demand-weight-col")
    ident = find_column(columns, id_col, (), label, "--demand-id-col")
    return _Spec(label, lat, lon, weight, ident, geometry, row_word)


def _csv_parts(path: Path, *, lat_col, lon_col, weight_col, id_col, chunksize: int
               ) -> tuple[_Spec, list[_CsvPart]]:
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
    return spec, [_CsvPart(str(path), start, stop, line, names, delimiter)
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
                   ) -> tuple[_Spec, list[_ParquetPart]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"{path}: reading GeoParquet needs pyarrow; "
                         "pip install 'covplan[parquet]'") from None

    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower()
                   in _PARQUET_SUFFIXES) if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: folder holds no .parquet files; point --demand at a file "
                         "or a folder of GeoParquet parts")
    try:
        first = pq.ParquetFile(files[0])
    except Exception as exc:  # noqa: BLE001 - any pyarrow failure means unreadable input
        raise InputError(f"{files[0]}: not a readable Parquet file ({str(exc).splitlines()[0]})"
                         ) from None
    columns = first.schema_arrow.names
    geometry, _ = _geo_column(first)
    spec = _resolve_spec(str(path), columns, lat_col=lat_col, lon_col=lon_col,
                         weight_col=weight_col, id_col=id_col, geometry=geometry)
    parts: list[_ParquetPart] = []
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
                parts.append(_ParquetPart(str(file), tuple(group), row, crs))
                row += rows
                group, rows = [], 0
        if group:
            parts.append(_ParquetPart(str(file), tuple(group), row, crs))
            row += rows
    return spec, parts


def _frame_parts(frame: pd.DataFrame, label: str, *, lat_col, lon_col, weight_col, id_col,
                 chunksize: int) -> tuple[_Spec, list[_FramePart]]:
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
    parts = [_FramePart(frame.iloc[s:s + chunksize], s + 1)
             for s in range(0, len(frame), chunksize)]
    return spec, parts


def _plan(source: Any, *, lat_col, lon_col, weight_col, id_col, layer, chunksize
          ) -> tuple[_Spec, list]:
    opts = dict(lat_col=lat_col, lon_col=lon_col, weight_col=weight_col, id_col=id_col,
                chunksize=chunksize)
    if isinstance(source, pd.DataFrame):
        return _frame_parts(source, "demand", **opts)
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: file not found; check the --demand path")
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


# --------------------------------------------------------------------------- per part


class _Districts:
    """District polygons for roll-ups, with their point-location index."""

    def __init__(self, frame: gpd.GeoDataFrame) -> None:
        frame = frame.to_crs("EPSG:4326") if frame.crs and not frame.crs.equals(
            CRS("EPSG:4326")) else frame
        self.geoms = np.asarray(frame.geometry.values, dtype=object)
        self.n = len(self.geoms)
        self.index = PolygonIndex(self.geoms)

    def locate(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Position of the district holding each point (lowest on shared edges), n if none:
        a grid answers most points, the exact test the rest (:mod:`covplan.geodesy.locate`)."""
        return self.index.locate(lon, lat)


@dataclass
class _PartResult:
    rows: int
    points: int
    covered: int
    weight_total: Fraction
    weight_covered: Fraction
    skipped: int
    skipped_lines: list[int]
    by_district: tuple[np.ndarray, np.ndarray, list[Fraction], list[Fraction]] | None
    frame: pd.DataFrame | None


@dataclass(frozen=True)
class _Cost:
    """The rule's reach, and the per-point column its cost goes to (metres as km)."""

    reach: float
    column: str
    scale: float
    min_centers: int = 1

    @classmethod
    def of(cls, rule: CoverageRule) -> _Cost:
        if rule.unit == "m":
            return cls(rule.reach, "nearest_km", 1000.0, rule.min_centers)
        return cls(rule.reach, f"nearest_{rule.unit}", 1.0, rule.min_centers)


def _process_part(part, spec: _Spec, index: PointReach, cost: _Cost,
                  districts: _Districts | None, keep_points: bool, threads: int) -> _PartResult:
    chunk = part.read(spec)
    n = chunk.lat.size
    lines = chunk.lines if chunk.lines is not None else chunk.first + np.arange(n)
    valid = (np.isfinite(chunk.lat) & np.isfinite(chunk.lon) & (np.abs(chunk.lat) <= 90)
             & (np.abs(chunk.lon) <= 180))
    bad = np.flatnonzero(~valid)
    lat, lon = chunk.lat[valid], chunk.lon[valid]
    weight = None
    if chunk.weight is not None:
        weight = chunk.weight[valid]
        wrong = np.flatnonzero(~(np.isfinite(weight) & (weight >= 0)))
        if wrong.size:
            where = int(lines[valid][wrong[0]])
            raise InputError(f"{spec.label}: {spec.row_word} {where}: weight column "
                             f"'{spec.weight}' is missing, not a number or negative "
                             f"({wrong.size} such rows in this part); fix those rows or "
                             "leave out --demand-weight-col")
    if keep_points:
        idx, dist = index.nearest(lat, lon, threads=threads)
        covered = (dist <= cost.reach if cost.min_centers == 1
                   else index.covered(lat, lon, threads=threads))
    else:
        covered = index.covered(lat, lon, threads=threads)
    m = lat.size
    w = weight if weight is not None else np.zeros(0)
    w_unc, w_cov = (_exact_sums(w, covered.astype(np.int64), 2) if weight is not None
                    else [Fraction(0), Fraction(0)])
    roll = None
    where_d = None
    if districts is not None:
        where_d = districts.locate(lat, lon)
        nd = districts.n + 1
        counts = np.bincount(where_d, minlength=nd)
        cov = np.bincount(where_d[covered], minlength=nd)
        if weight is not None:
            wt = _exact_sums(weight, where_d, nd)
            wc = _exact_sums(weight[covered], where_d[covered], nd)
        else:
            wt = wc = []
        roll = (counts, cov, wt, wc)
    frame = None
    if keep_points:
        data: dict[str, Any] = {spec.row_word: lines[valid]}
        if chunk.ids is not None:
            data["id"] = chunk.ids[valid]
        data.update(lat=lat, lon=lon)
        if weight is not None:
            data["weight"] = weight
        data.update(covered=covered, nearest_index=idx)
        data[cost.column] = dist / cost.scale
        if where_d is not None:
            data["district_index"] = where_d
        frame = pd.DataFrame(data)
    return _PartResult(n, m, int(covered.sum()), w_unc + w_cov, w_cov, int(bad.size),
                       lines[bad[:_LISTED]].tolist(), roll, frame)


# --------------------------------------------------------------------------- result


@dataclass
class DemandResult:
    """Demand coverage: ``summary`` (the JSON ``"demand"`` block), per-point and roll-ups."""

    summary: dict[str, Any]
    points: pd.DataFrame | None
    by_district: pd.DataFrame | None
    by_group: pd.DataFrame | None
    outside: int
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``"demand"`` block of the coverage JSON."""
        return dict(self.summary)


def _centre_arrays(centres: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(centres, gpd.GeoDataFrame) and not {"lat", "lon"} <= set(centres.columns):
        pts = centres.to_crs("EPSG:4326").geometry if centres.crs else centres.geometry
        lat, lon = pts.y.to_numpy(float), pts.x.to_numpy(float)
    else:
        lat = centres["lat"].to_numpy(float)
        lon = centres["lon"].to_numpy(float)
    names = (centres["name"].astype(str).to_numpy(dtype=object) if "name" in centres.columns
             else np.array([f"row {i + 1}" for i in range(len(centres))], dtype=object))
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.all():
        raise InputError(f"centres: {int((~ok).sum())} centres have no coordinates; "
                         "drop them before measuring demand")
    return lat, lon, names


def demand_coverage(centres: pd.DataFrame, demand: str | os.PathLike | pd.DataFrame,
                    rule: CoverageRule | None = None, *,
                    radius_km: float | None = None, weight_col: str | None = None,
                    lat_col: str | None = None, lon_col: str | None = None,
                    id_col: str | None = None, layer: str | None = None,
                    engine: str = "memory", scheduler: str | None = None,
                    chunksize: int = 1_000_000, districts: gpd.GeoDataFrame | None = None,
                    keep_points: bool = True, progress: Progress | None = None
                    ) -> DemandResult:
    """Share of demand points (and of their weight) that a centre reaches under ``rule``.

    Parameters
    ----------
    centres
        Centres as given by :func:`covplan.io.read_points` (``lat``, ``lon``, ``name``) or any
        point GeoDataFrame with a CRS.
    demand
        A CSV, a GeoParquet file or folder of parts, any point layer GDAL reads, or a frame.
    rule
        The coverage rule (:mod:`covplan.rules`), e.g. ``Rule.radius(25)``: a point is
        covered when a centre reaches it.
    radius_km
        Shorthand for ``rule=Rule.radius(radius_km)``.
    weight_col, lat_col, lon_col, id_col
        Demand columns: a non-negative weight (e.g. people), coordinates (found by name when
        not given), an identifier copied as text to the per-point output.
    engine
        ``"memory"`` streams parts through this process; ``"dask"`` runs the same parts on a
        ``dask.distributed`` cluster at ``scheduler`` (a local one when ``None``).
    chunksize
        Points per part (bounds memory: about 200 bytes per point while a part is processed).
    districts
        Boundaries from :func:`covplan.io.read_boundaries` for roll-ups by district and group.
    keep_points
        Keep the per-point frame (``.points``); turn off for aggregates only.
    progress
        Called as ``progress(parts_done, parts_total)`` after every part.
    """
    if (rule is None) == (radius_km is None):
        raise InputError("rule, radius_km: give one: the rule that decides when a centre "
                         "reaches a point, e.g. rule=Rule.radius(25)")
    rule = Radius(radius_km) if rule is None else rule  # type: ignore[arg-type]
    if engine not in ("memory", "dask"):
        raise InputError(f"engine={engine!r}: use 'memory' or 'dask'")
    chunksize = int(min(max(chunksize, 1), _MAX_PART_ROWS))
    from covplan.io import as_districts, as_points
    centres = as_points(centres, param="centres")
    districts = None if districts is None else as_districts(districts)
    clat, clon, cnames = _centre_arrays(centres)
    index = rule.point_reach(clat, clon)
    spec, parts = _plan(demand, lat_col=lat_col, lon_col=lon_col, weight_col=weight_col,
                        id_col=id_col, layer=layer, chunksize=chunksize)
    located = _Districts(districts) if districts is not None else None
    cost = _Cost.of(rule)
    if engine == "memory":
        results = _run_memory(parts, spec, index, cost, located, keep_points, progress)
    else:
        results = _run_dask(parts, spec, index, cost, located, keep_points, scheduler,
                            progress)
    return _combine(results, spec, _reach(rule), cnames, districts, keep_points, cost.column)


def _reach(rule: CoverageRule) -> dict[str, Any]:
    """The demand block's reach: ``radius_km`` (null for presence) for a distance rule, else
    the rule's reach in its unit, e.g. ``minutes`` for travel time."""
    if rule.unit == "m":
        return {"radius_km": rule.to_dict().get("radius_km")}
    return {"minutes" if rule.unit == "min" else f"reach_{rule.unit}": rule.reach}


def _run_memory(parts, spec, index, cost, located, keep_points, progress
                ) -> list[_PartResult]:
    """Parts in order; with several cores, that many parts at once (each single-threaded:
    the KD-tree and pyproj release the GIL), so at most that many parts are in memory."""
    cores = os.cpu_count() or 1
    if cores == 1 or len(parts) == 1:
        threads, workers = cores, 1
    else:
        threads, workers = 1, cores
    results: list[_PartResult] = []
    with ThreadPoolExecutor(workers) as pool:
        pending = []
        for part in parts:
            pending.append(pool.submit(_process_part, part, spec, index, cost, located,
                                       keep_points, threads))
            if len(pending) > workers:  # keep the queue short: bounded memory
                results.append(pending.pop(0).result())
                if progress:
                    progress(len(results), len(parts))
        for future in pending:
            results.append(future.result())
            if progress:
                progress(len(results), len(parts))
    return results


def _run_dask(parts, spec, index, cost, located, keep_points, scheduler, progress
              ) -> list[_PartResult]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("--engine dask needs dask: pip install 'covplan[dask]'") from None
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=_CONNECT_TIMEOUT)
            except OSError as exc:
                raise InputError(f"--scheduler {scheduler}: cannot reach a dask scheduler "
                                 f"({exc}); check the address, e.g. tcp://host:8786") from None
        else:
            cluster = LocalCluster(n_workers=1, threads_per_worker=os.cpu_count() or 1,
                                   processes=False, dashboard_address=None)
            client = Client(cluster)
        try:
            shared = client.scatter([spec, index, located], broadcast=True)
            futures = [client.submit(_process_part, part, *shared[:2], cost, shared[2],
                                     keep_points, 1, pure=False) for part in parts]
            for done, _ in enumerate(as_completed(futures), start=1):
                if progress:
                    progress(done, len(futures))
            return client.gather(futures)
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def _combine(results: list[_PartResult], spec: _Spec, reach: dict[str, Any], cnames: np.ndarray,
             districts: gpd.GeoDataFrame | None, keep_points: bool, cost_column: str
             ) -> DemandResult:
    points = sum(r.points for r in results)
    if points == 0:
        raise InputError(f"{spec.label}: no demand point with valid coordinates (demand must be "
                         "points); check --demand-lat-col/--demand-lon-col")
    covered = sum(r.covered for r in results)
    weighted = spec.weight is not None
    w_total = sum((r.weight_total for r in results), Fraction(0))
    w_cov = sum((r.weight_covered for r in results), Fraction(0))
    summary = {
        "points": points,
        "covered": covered,
        "percent": _percent(covered, points),
        "weight_total": float(w_total) if weighted else None,
        "weight_covered": float(w_cov) if weighted else None,
        "weight_percent": _percent(w_cov, w_total) if weighted else None,
        **reach,
    }
    warnings = []
    skipped = sum(r.skipped for r in results)
    if skipped:
        lines = [x for r in results for x in r.skipped_lines][:_LISTED]
        more = f", … ({skipped} in all)" if skipped > len(lines) else ""
        warnings.append(f"{spec.label}: skipped {skipped} demand rows with missing or "
                        f"out-of-range lat/lon ({spec.row_word}s "
                        f"{', '.join(map(str, lines))}{more})")
    by_district = by_group = None
    outside = 0
    if districts is not None:
        by_district, by_group, outside = _rollups(results, districts, weighted)
        if outside:
            warnings.append(f"{spec.label}: {outside} demand points lie outside every district")
    frame = None
    if keep_points:
        frame = pd.concat([r.frame for r in results], ignore_index=True)
        idx = frame.pop("nearest_index").to_numpy()
        km = frame.pop(cost_column)
        frame["nearest_center"] = _labels(cnames, idx)
        frame["nearest_index"] = idx
        frame[cost_column] = km
        if "district_index" in frame.columns and districts is not None:
            ids = districts["id"].astype(str).to_numpy(dtype=object)
            frame["district"] = _labels(ids, frame.pop("district_index").to_numpy())
    return DemandResult(summary, frame, by_district, by_group, outside, warnings)


def _labels(names: np.ndarray, idx: np.ndarray) -> pd.Categorical:
    """names[idx] as a categorical (a few bytes a point); missing where idx is out of range."""
    uniq, inverse = np.unique(names.astype(str), return_inverse=True)
    ok = (idx >= 0) & (idx < names.size)
    codes = np.where(ok, inverse[np.where(ok, idx, 0)] if names.size else -1, -1)
    return pd.Categorical.from_codes(codes, categories=uniq)


def _rollups(results: list[_PartResult], districts: gpd.GeoDataFrame, weighted: bool
             ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    nd = len(districts) + 1
    counts = np.zeros(nd, dtype=np.int64)
    cov = np.zeros(nd, dtype=np.int64)
    wt = [Fraction(0)] * nd
    wc = [Fraction(0)] * nd
    for r in results:
        assert r.by_district is not None
        c, v, t, k = r.by_district
        counts += c
        cov += v
        if weighted:
            wt = [a + b for a, b in zip(wt, t, strict=True)]
            wc = [a + b for a, b in zip(wc, k, strict=True)]
    table = pd.DataFrame({
        "id": districts["id"].astype(str).to_numpy() if "id" in districts else
        np.arange(1, nd).astype(str),
        "name": districts["name"].to_numpy() if "name" in districts else None,
        "group": districts["group"].to_numpy() if "group" in districts else None,
        "points": counts[:-1],
        "covered": cov[:-1],
        "percent": [_percent(a, b) for a, b in zip(cov[:-1], counts[:-1], strict=True)],
        "weight_total": [float(x) for x in wt[:-1]] if weighted else None,
        "weight_covered": [float(x) for x in wc[:-1]] if weighted else None,
        "weight_percent": [_percent(a, b) for a, b in zip(wc[:-1], wt[:-1], strict=True)]
        if weighted else None,
    })
    groups = []
    keys = table["group"].where(table["group"].notna(), None)
    for g in sorted({k for k in keys if k is not None}, key=str):
        sel = np.flatnonzero((keys == g).to_numpy())
        g_points, g_covered = int(counts[sel].sum()), int(cov[sel].sum())
        g_total = sum((wt[i] for i in sel), Fraction(0))
        g_weight = sum((wc[i] for i in sel), Fraction(0))
        groups.append({"group": g, "points": g_points, "covered": g_covered,
                       "percent": _percent(g_covered, g_points),
                       "weight_total": float(g_total) if weighted else None,
                       "weight_covered": float(g_weight) if weighted else None,
                       "weight_percent": _percent(g_weight, g_total) if weighted else None})
    by_group = pd.DataFrame(groups, columns=["group", "points", "covered", "percent",
                                             "weight_total", "weight_covered", "weight_percent"])
    table = table.sort_values("id", kind="stable").reset_index(drop=True)
    return table, by_group, int(counts[-1])
