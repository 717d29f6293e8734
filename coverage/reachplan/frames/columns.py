"""Columns and coordinates: the names readers look for, one column found by name (or a
one-line error), ids as text exactly as written, coordinates parsed from text, row filters.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import CRS

from reachplan.errors import InputError

__all__ = ["DISTRICT_NAME_NAMES", "LAT_NAMES", "LON_NAMES", "NAME_NAMES", "find_column",
           "inf_as_missing", "parse_coordinates"]


LAT_NAMES = ("lat", "latitude", "y")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
NAME_NAMES = ("name", "center_name", "centre_name", "office_name", "site_name", "title", "label")
DISTRICT_NAME_NAMES = ("name", "district", "district_name", "dist_name")
_MAX_LISTED = 10


@functools.cache
def _wgs84() -> CRS:
    """The CRS of every frame the readers return, parsed once."""
    return CRS.from_user_input("EPSG:4326")


def _listed(items: list, limit: int = _MAX_LISTED) -> str:
    """``"2, 5, 9"`` or ``"2, 5, 9, … (14 in all)"``."""
    shown = ", ".join(str(i) for i in items[:limit])
    return shown if len(items) <= limit else f"{shown}, … ({len(items)} in all)"


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


def parse_coordinates(values: pd.Series) -> np.ndarray:
    """Numbers from text; a decimal comma (``12,5``, common with ``;`` delimiters) is read as
    a decimal point when the whole column is written that way."""
    text = values.astype(str).str.strip()
    if (text.str.contains(",", regex=False).any()  # cheaper than the pattern on every cell
            and text.str.fullmatch(r"[+-]?\d+,\d+").any()
            and not text[text != ""].str.contains(".", regex=False).any()):
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)


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


def inf_as_missing(table: pd.DataFrame) -> pd.DataFrame:
    """The table with infinite floats (no centre reaches: ``nearest_km``, ``nearest_min``)
    as missing, as the JSON's ``null``: CSV and XLSX leave the cell empty, GeoJSON and
    GeoPackage write null (GDAL would drop an infinite value from GeoJSON, with a warning)."""
    table = table.copy()
    for column in table.columns:
        if table[column].dtype.kind == "f":
            table.loc[np.isinf(table[column].to_numpy()), column] = np.nan
    return table
