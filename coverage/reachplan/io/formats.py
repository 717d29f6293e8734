"""File formats: vector layers (pyogrio, GeoParquet), CSV (delimiter sniffed, lines counted) and
XLSX tables read as text; GeoPackages in WAL mode read from a copy; PostGIS sources and the
embedded datasets resolved. What the rows mean is :mod:`reachplan.frames`' business.
"""

from __future__ import annotations

import contextlib
import csv
import io as _io
import os
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from reachplan.errors import InputError, first_line
from reachplan.frames.columns import _listed
from reachplan.io.files import check_regular

__all__ = ["EXCEL_SUFFIXES", "TABLE_SUFFIXES", "csv_header", "readable_copy"]
TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    check_regular(path, "input")


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


def _resolve(path: str | os.PathLike) -> tuple[Path, str, Any]:
    """The file to read, the name to show for it, and column roles of an embedded dataset."""
    from reachplan.datasets import resolve

    real, known = resolve(path)
    return real, (os.fspath(path) if known is not None else str(real)), known


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
