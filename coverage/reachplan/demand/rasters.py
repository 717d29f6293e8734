"""Population rasters read in windows, for national rasters in bounded memory.

Any single-band raster GDAL reads (GeoTIFF, Cloud-Optimised GeoTIFF, VRT, ...) in any CRS is
opened once (:func:`open_raster`: its grid, CRS and nodata into a :class:`RasterSpec`) and cut
into windows of whole rows (:func:`plan_windows`, aligned to the file's blocks). Each window
is small, pickles, and reads itself (``window.read(spec)`` -> :class:`Cells`) wherever it runs:
in this process or on a dask worker, exactly as demand points in parts
(:mod:`reachplan.demand.parts`). A window keeps only its populated cells (value > 0, not
nodata, finite): the grid positions and counts; turning positions into coordinates is
:mod:`reachplan.geodesy.grid`'s business, what is done with them
:mod:`reachplan.demand.population`'s.

``rasterio`` comes with the ``raster`` extra; without it, asking for a raster is one line
naming what to install.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from reachplan.errors import InputError, first_line

__all__ = ["Cells", "RasterSpec", "RasterWindow", "open_raster", "plan_windows"]

WINDOW_CELLS = 1 << 22  # cells read at once: 4M cells, 32 MB as float64, per window
INSTALL = "pip install 'reachplan[raster]'"


def rasterio_module() -> Any:
    """``rasterio``, or the one-line error naming the extra."""
    try:
        import rasterio
    except ImportError:
        raise InputError(f"population needs rasterio: {INSTALL}",
                         params=("population",)) from None
    return rasterio


@dataclass(frozen=True)
class RasterSpec:
    """What is known of a raster once it is opened: its grid, CRS and nodata."""

    path: str
    label: str  # as outputs name it (the path as given)
    width: int
    height: int
    transform: tuple[float, float, float, float, float, float]  # affine a, b, c, d, e, f
    crs_wkt: str
    nodata: float | None
    block_rows: int

    @property
    def cells(self) -> int:
        return self.width * self.height


@dataclass
class Cells:
    """One window's populated cells: their positions in the window (row-major, ``index``)
    and counts; and the window's cells by what they were (``read``: all of them,
    ``nodata``, ``empty``: zero)."""

    index: np.ndarray
    values: np.ndarray
    row_off: int
    width: int
    read: int
    nodata: int
    empty: int

    @property
    def rows(self) -> np.ndarray:
        """Each populated cell's row in the raster."""
        return self.index // self.width + self.row_off

    @property
    def cols(self) -> np.ndarray:
        """Each populated cell's column."""
        return self.index % self.width


@dataclass(frozen=True)
class RasterWindow:
    """Rows ``row_off`` to ``row_off + height`` of the raster, every column."""

    row_off: int
    height: int

    def read(self, spec: RasterSpec) -> Cells:
        rasterio = rasterio_module()
        from rasterio.enums import MaskFlags
        from rasterio.windows import Window

        window = Window(0, self.row_off, spec.width, self.height)
        try:
            with rasterio.open(spec.path) as src:
                flags = set(src.mask_flag_enums[0])
                if flags <= {MaskFlags.nodata, MaskFlags.all_valid}:
                    # the nodata value alone: compared here, on the file's own type (a
                    # masked read of 4M cells as float64 takes twice as long)
                    values = src.read(1, window=window)
                    missing = _nodata(values, spec.nodata)
                else:  # a mask band or alpha: GDAL's mask
                    data = src.read(1, window=window, masked=True)
                    values = np.ma.getdata(data)
                    missing = np.ma.getmaskarray(data) | _nodata(values, None)
        except rasterio.errors.RasterioError as exc:
            raise InputError(f"{spec.label}: cannot read rows {self.row_off}-"
                             f"{self.row_off + self.height - 1} ({first_line(exc)}); check the "
                             "file", params=("population",)) from None
        negative = ~missing & (values < 0)
        if negative.any():
            r, c = np.argwhere(negative)[0]
            raise InputError(f"{spec.label}: row {self.row_off + int(r)}, column {int(c)}: "
                             f"value {values[r, c]:g} is negative ({int(negative.sum())} "
                             "such cells in this window); set the raster's nodata value "
                             "or fix the cells", params=("population",))
        index = np.flatnonzero(~missing & (values > 0))
        n_missing = int(np.count_nonzero(missing))
        return Cells(index, values.ravel()[index].astype(np.float64), self.row_off,
                     spec.width, int(values.size), n_missing,
                     int(values.size - n_missing - index.size))


def _nodata(values: np.ndarray, nodata: float | None) -> np.ndarray:
    """Cells that hold no count: the nodata value (NaN too) and, in floats, NaN and ±inf."""
    missing = (~np.isfinite(values) if values.dtype.kind == "f"
               else np.zeros(values.shape, dtype=bool))
    if nodata is not None and not np.isnan(nodata):
        missing |= values == np.asarray(nodata).astype(values.dtype)
    return missing


def open_raster(path: str | os.PathLike, *, label: str | None = None) -> RasterSpec:
    """Open a population raster (band 1) and check it has a CRS; one-line errors naming the
    file and the ``population`` parameter."""
    rasterio = rasterio_module()
    name = label or os.fspath(path)
    try:
        with rasterio.open(os.fspath(path)) as src:
            if src.count < 1:
                raise InputError(f"{name}: the raster has no band; give one of people per cell",
                                 params=("population",))
            if src.crs is None:
                raise InputError(f"{name}: the raster has no CRS; set one (e.g. gdal_edit.py "
                                 "-a_srs EPSG:4326) so cells can be placed",
                                 params=("population",))
            if src.transform.is_identity or src.width == 0 or src.height == 0:
                raise InputError(f"{name}: the raster has no georeferenced grid; give a "
                                 "georeferenced raster of people per cell", params=("population",))
            t = src.transform
            return RasterSpec(os.fspath(path), name, int(src.width), int(src.height),
                              (t.a, t.b, t.c, t.d, t.e, t.f), src.crs.to_wkt(),
                              None if src.nodata is None else float(src.nodata),
                              int(src.block_shapes[0][0]))
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{name}: cannot open as a raster ({first_line(exc)}); give a "
                         "GeoTIFF, COG or VRT of people per cell", params=("population",)) from None
    except rasterio.errors.RasterioError as exc:
        raise InputError(f"{name}: cannot read the raster ({first_line(exc)})",
                         params=("population",)) from None


def plan_windows(spec: RasterSpec, window_cells: int = WINDOW_CELLS) -> list[RasterWindow]:
    """Windows of whole rows, about ``window_cells`` cells each, cut at the file's blocks
    (a block is decompressed once)."""
    rows = max(1, int(window_cells) // max(spec.width, 1))
    if rows >= spec.block_rows:
        rows -= rows % spec.block_rows
    return [RasterWindow(r, min(rows, spec.height - r)) for r in range(0, spec.height, rows)]
