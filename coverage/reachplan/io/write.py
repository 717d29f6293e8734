"""Write outputs: all or none, atomically, byte for byte the same on every run.

One table of output formats (``OUTPUT_FORMATS``), one overwrite check (:func:`check_output`),
one atomic write (:func:`atomic_output`: a temporary file beside the target, then a rename), and
:class:`OutputSet`, which stages a command's outputs so that they land together or not at all.

Longer than 500 lines: the writers of each format and :class:`OutputSet`'s staging are one
all-or-none mechanism; split, the modules would share its private state (the staged
temporary files).
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import errno
import io as _io
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from reachplan.errors import InputError, OutputError, first_line
from reachplan.frames.columns import inf_as_missing
from reachplan.text import XML_INVALID, for_spreadsheet, for_terminal

__all__ = ["OUTPUT_FORMATS", "STDOUT", "TABLE_OUTPUTS", "VECTOR_OUTPUTS", "OutputSet",
           "active_outputs", "atomic_output", "check_output", "inf_as_missing", "note_output",
           "output_format", "output_suffix", "remove_temporary_files", "write_table"]


# --------------------------------------------------------------------------- output
# The one table of output formats: suffix -> what it holds. Commands pick from it.
OUTPUT_FORMATS = {
    ".csv": "CSV table", ".xlsx": "XLSX workbook", ".geojson": "GeoJSON", ".gpkg": "GeoPackage",
    ".json": "JSON", ".txt": "text", ".html": "HTML map", ".htm": "HTML map", ".png": "PNG",
    ".postgis": "PostGIS table",
}
#: the format of a postgresql:// URL (reachplan.io.postgis), which has no suffix
POSTGIS = ".postgis"
TABLE_OUTPUTS = (".csv", ".geojson", ".gpkg", ".xlsx", POSTGIS)  # what write_table writes
VECTOR_OUTPUTS = (".geojson", ".gpkg")  # table outputs that carry geometry
STDOUT = "-"
_NUL = re.compile("\x00")
_NEARLY_FULL = 1 << 16  # bytes free below which a failed GDAL write is a full disk
_FAILED_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG}
_LIVE_TEMPS: set[Path] = set()  # private temporary folders, removed on any exit
_ACTIVE: contextvars.ContextVar[OutputSet | None] = contextvars.ContextVar(
    "reachplan_outputs", default=None)


def output_suffix(path: str | os.PathLike, allowed: Sequence[str], param: str = "path") -> str:
    """The suffix of an output among ``allowed`` (lower case), or an error naming the
    parameter ``param`` that gave ``path`` and listing them."""
    if _is_output_stdout(path) and STDOUT in allowed:
        return STDOUT
    suffix = _suffix(path)
    if suffix not in allowed:
        shown = _listed(a for a in allowed if a != STDOUT)
        raise InputError(f"{param}={str(path)!r}: unknown file format '{suffix}'; use "
                         f"{shown}" + (" (or - for stdout)" if STDOUT in allowed else ""),
                         params=(param,))
    return suffix


def output_format(fmt: str | None, path: str | os.PathLike | None,
                  by_suffix: Mapping[str, str], default: str) -> str:
    """The format of an output: the one ``by_suffix`` names for ``path``'s suffix, else
    ``fmt``, else ``default`` (stdout and unknown suffixes follow ``fmt``). A ``fmt`` that
    differs from the suffix's, or a known suffix not in ``by_suffix``, is refused."""
    if path is None or _is_output_stdout(path):
        return fmt or default
    suffix = _suffix(path)
    implied = by_suffix.get(suffix)
    if implied is None and suffix in OUTPUT_FORMATS:
        raise InputError(f"path={_shown(path)!r}: this command does not write "
                         f"{OUTPUT_FORMATS[suffix]}; use {_listed(by_suffix)}",
                         params=("path",))
    if implied is None:
        return fmt or default
    if fmt is not None and fmt != implied:
        given = "a PostGIS table" if suffix == POSTGIS else suffix
        raise InputError(f"fmt={fmt} conflicts with path={_shown(path)!r} ({given} is "
                         f"{implied}); drop fmt or change the suffix", params=("fmt", "path"))
    return implied


def _listed(suffixes: Iterable[str]) -> str:
    """``.csv, .xlsx or a postgresql:// URL``: output formats for a message."""
    suffixes = list(suffixes)
    shown = ", ".join(a for a in suffixes if a != POSTGIS)
    return shown + (" or a postgresql://...?table=NAME URL" if POSTGIS in suffixes else "")


def _suffix(path: str | os.PathLike) -> str:
    """The format an output path names: its suffix (lower case), or POSTGIS for a URL."""
    from reachplan.io.postgis import is_postgis

    return POSTGIS if is_postgis(os.fspath(path)) else Path(path).suffix.lower()


def _is_special(path: str | os.PathLike) -> bool:
    """stdout, or an existing device or FIFO: written into, as a stream."""
    if _is_output_stdout(path):
        return True
    with contextlib.suppress(OSError):
        return not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path)
    return False


def _is_output_stdout(path: str | os.PathLike) -> bool:
    return str(path) == STDOUT


def _os_error(path: str | os.PathLike, exc: OSError) -> OutputError:
    """One line for an operating-system error met while writing ``path``."""
    reason = exc.strerror or first_line(exc)
    failed = exc.errno in _FAILED_ERRNOS
    where = "stdout" if _is_output_stdout(path) else str(path)
    hint = "; free some space" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    return OutputError(f"{where}: cannot write ({reason}){hint}", failed=failed)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:  # e.g. a file where a folder of the path should be
        raise _os_error(path, exc) from None


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def check_output(path: str | os.PathLike, *, overwrite: bool = False,
                 inputs: Sequence[str | os.PathLike] = ()) -> None:
    """The one overwrite check: refuse an output that is one of ``inputs`` (the same file,
    through symbolic or hard links too, even with ``overwrite``), a folder, or an existing
    file without ``overwrite``. Devices, FIFOs and ``-`` (stdout) are always fine."""
    if _is_output_stdout(path) or _suffix(path) == POSTGIS:  # a table: checked by postgis
        return
    path = Path(path)
    st = _stat(path)
    if st is None:
        return
    for source in inputs:
        if _is_output_stdout(source):
            continue
        source_st = _stat(Path(source))
        if source_st is not None and _same_file(st, source_st):
            raise InputError(f"{path}: is also an input of this command ({source}); "
                             "write the output to another file")
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a folder; give a file name")
    if stat.S_ISREG(st.st_mode) and not overwrite:
        raise InputError(f"{path}: already exists; pass overwrite=True to replace it",
                         params=("overwrite",))


@dataclass
class _Staged:
    target: str  # as the user gave it ("-" for stdout)
    overwrite: bool
    folder: Path  # private temporary folder
    tmp: Path  # the file the writer writes
    direct: bool  # copy into the target (stdout, devices, FIFOs) instead of renaming


class OutputSet:
    """Outputs of one command, written all or none.

    Each :meth:`stage` checks a target (:func:`check_output`), creates its missing folders,
    and returns a path in a fresh private folder (``tempfile.mkdtemp``: unpredictable name,
    created exclusively, beside the target so the final rename stays on one file system).
    :meth:`commit` moves every staged file into place (renames; stdout, devices and FIFOs are
    written into); on any error nothing is committed and every temporary file and created
    folder is removed. Used as a context manager it is also the *active* set:
    :func:`atomic_output` calls inside it stage into it instead of committing alone.
    """

    def __init__(self, *, overwrite: bool = False,
                 inputs: Sequence[str | os.PathLike] = ()) -> None:
        self.overwrite = overwrite
        self.inputs = [str(p) for p in inputs if p is not None and not _is_output_stdout(p)]
        self.written: list[str] = []
        self.notes: list[str] = []
        self._staged: list[_Staged] = []
        self._tables: list[tuple[str, Callable[[], str]]] = []  # PostGIS writes, at commit
        self._made: list[Path] = []
        self._token: contextvars.Token | None = None

    def prepare(self, path: str | os.PathLike, *, overwrite: bool = False) -> None:
        """Check ``path`` early and create its missing folders (removed again on failure);
        ``overwrite`` forces replacing this one (e.g. a file the command rewrites)."""
        if _suffix(path) == POSTGIS:
            from reachplan.io.postgis import check_target

            check_target(os.fspath(path), overwrite=self.overwrite or overwrite)
            return
        check_output(path, overwrite=self.overwrite or overwrite, inputs=self.inputs)
        if _is_output_stdout(path):
            return
        missing = []
        parent = Path(path).absolute().parent
        while _stat(parent) is None:
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise _os_error(path, exc) from None
            self._made.append(folder)

    def _claim(self, path: str | os.PathLike, overwrite: bool) -> None:
        targets = [s.target for s in self._staged] + [t for t, _ in self._tables]
        if not _is_output_stdout(path) and str(path) in targets:
            raise InputError(f"{_shown(path)}: given for two outputs of this command; name "
                             "each once")
        self.prepare(path, overwrite=overwrite)

    def defer(self, path: str | os.PathLike, write: Callable[[], str], *,
              overwrite: bool = False) -> None:
        """Run ``write`` (a PostGIS table's own transaction; it returns the name to report)
        at :meth:`commit`, before the files move: a failed write moves none of them."""
        self._claim(path, overwrite)
        self._tables.append((str(path), write))

    def stage(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """A fresh temporary path to write ``path``'s content to."""
        self._claim(path, overwrite)
        direct = _is_output_stdout(path)
        if not direct:
            st = _stat(Path(path))
            direct = st is not None and not stat.S_ISREG(st.st_mode)
        where = None if direct else Path(path).absolute().parent
        try:
            folder = Path(tempfile.mkdtemp(prefix=".reachplan-", dir=where))
        except OSError as exc:
            raise _os_error(path, exc) from None
        _LIVE_TEMPS.add(folder)
        name = "stdout" if _is_output_stdout(path) else Path(path).name
        staged = _Staged(str(path), self.overwrite or overwrite, folder, folder / name, direct)
        self._staged.append(staged)
        return staged.tmp

    def commit(self) -> list[str]:
        """Move every staged output into place; returns the targets as given."""
        try:
            for s in self._staged:  # refuse a file that appeared meanwhile, before any move
                if not s.direct:
                    check_output(s.target, overwrite=s.overwrite, inputs=self.inputs)
                if not s.tmp.exists():
                    raise OutputError(f"{s.target}: the writer left no file")
            for _, write in self._tables:  # each all or none in its own transaction
                self.written.append(write())
            # stdout and devices first: a full disk or closed pipe there moves no file
            for s in sorted(self._staged, key=lambda s: not s.direct):
                try:
                    if _is_output_stdout(s.target):
                        _copy_to_stdout(s.tmp)
                    elif s.direct:
                        with open(s.tmp, "rb") as src, open(s.target, "wb") as dst:
                            shutil.copyfileobj(src, dst)
                    else:
                        os.replace(s.tmp, s.target)
                except OSError as exc:
                    raise _os_error(s.target, exc) from None
                self.written.append(s.target)
        except BaseException:
            self.discard()
            raise
        self._cleanup()
        self._made.clear()
        return self.written

    def discard(self) -> None:
        """Remove every temporary file and the folders this set created."""
        self._cleanup()
        for folder in reversed(self._made):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when still empty
        self._made.clear()

    def _cleanup(self) -> None:
        self._tables.clear()
        for s in self._staged:
            shutil.rmtree(s.folder, ignore_errors=True)
            _LIVE_TEMPS.discard(s.folder)
        self._staged.clear()

    def __enter__(self) -> OutputSet:
        self._token = _ACTIVE.set(self)
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if self._token is not None:
            _ACTIVE.reset(self._token)
            self._token = None
        if kind is None:
            self.commit()
            return
        target = self._staged[-1].target if self._staged else "output"
        self.discard()
        if isinstance(exc, OSError):  # a writer met a full disk, a read-only folder...
            raise _os_error(target, exc) from None


def note_output(message: str) -> None:
    """Record something a reader of the output should know (a replaced character); the
    CLI shows the notes of its :class:`OutputSet` as warnings."""
    outputs = active_outputs()
    if outputs is not None:
        outputs.notes.append(message)


def active_outputs() -> OutputSet | None:
    """The :class:`OutputSet` of the running command, if any."""
    return _ACTIVE.get()


def _copy_to_stdout(tmp: Path) -> None:
    sys.stdout.flush()
    data = tmp.read_bytes()
    buffer = getattr(sys.stdout, "buffer", None)
    try:
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:
            sys.stdout.write(data.decode("utf-8"))
            sys.stdout.flush()
    except OSError:
        # nothing more can reach stdout: point it at /dev/null so the interpreter's own
        # flush at exit does not print a second error
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        raise


def remove_temporary_files() -> None:
    """Remove every temporary output folder still alive (for signal handlers)."""
    for folder in list(_LIVE_TEMPS):
        shutil.rmtree(folder, ignore_errors=True)
        _LIVE_TEMPS.discard(folder)


atexit.register(remove_temporary_files)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, overwrite: bool = False,
                  inputs: Sequence[str | os.PathLike] = ()) -> Iterator[Path]:
    """Yield a temporary path for ``path``'s content; it lands at ``path`` only on success.

    Inside an active :class:`OutputSet` (a command's), the file is staged there and lands
    with the command's other outputs; otherwise alone, when the block ends. ``-`` is stdout.
    """
    outputs = active_outputs()
    if outputs is not None:
        yield outputs.stage(path, overwrite=overwrite)
        return
    with OutputSet(overwrite=overwrite, inputs=inputs) as own:
        yield own.stage(path)


def _neutralise(frame: pd.DataFrame, *, terminal: bool = False) -> pd.DataFrame:
    """Text cells as :func:`reachplan.text.for_spreadsheet` renders them (no formula runs in
    a spreadsheet); ``terminal``: then as :func:`reachplan.text.for_terminal` does too (CSV
    on stdout, read in a terminal or a CI log: one line per row, no control sequence)."""
    out = frame.copy()
    for col in out.columns:
        # text is 'object' in pandas 2 and 'str' in pandas 3: check both
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: v if not isinstance(v, str) else
                                    for_terminal(for_spreadsheet(v)) if terminal else
                                    for_spreadsheet(v))
    return out


def _replace_in_text(frame: pd.DataFrame, pattern: re.Pattern, what: str, path: str | os.PathLike
                     ) -> pd.DataFrame:
    """Text cells with ``pattern`` replaced by U+FFFD, and a note saying how many."""
    out = frame.copy()
    count = 0
    for col in out.columns:
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col]):
            hit = out[col].map(lambda v: isinstance(v, str) and pattern.search(v) is not None)
            if hit.any():
                count += int(hit.sum())
                out.loc[hit, col] = out.loc[hit, col].map(lambda v: pattern.sub("\ufffd", v))
    if count:
        note_output(f"{path}: {count} text cell(s) held {what} that this format cannot store; "
                    "written as \ufffd")
    return out


def write_table(frame: pd.DataFrame, path: str | os.PathLike, *, overwrite: bool = False,
                inputs: Sequence[str | os.PathLike] = ()) -> None:
    """Write a (Geo)DataFrame as CSV, GeoJSON, GeoPackage or XLSX by extension; ``-`` is CSV
    on stdout. Text cells are neutralised in CSV/XLSX (and on stdout rendered for a terminal:
    control characters visible, no CI workflow command); output is byte-for-byte reproducible.
    ``inputs`` are never overwritten (see :func:`check_output`)."""
    frame = inf_as_missing(frame)  # "no centre reachable": empty in CSV/XLSX, null in GIS
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name)
                         if isinstance(frame, gpd.GeoDataFrame) else frame)
    if _is_special(path) and Path(path).suffix.lower() not in TABLE_OUTPUTS:
        suffix = ".csv"  # stdout, a device or a FIFO: CSV unless named otherwise
    else:
        suffix = output_suffix(path, (*TABLE_OUTPUTS, STDOUT))
    if suffix in VECTOR_OUTPUTS and not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{path}: this result has no geometry; write .csv or .xlsx")
    if suffix == POSTGIS:  # text as it is, but PostgreSQL text cannot hold NUL
        _write_postgis(_replace_in_text(frame, _NUL, "NUL bytes", _shown(path)), str(path),
                       overwrite=overwrite)
        return
    with atomic_output(path, overwrite=overwrite, inputs=inputs) as tmp:
        if suffix == ".csv":
            _neutralise(plain, terminal=_is_output_stdout(path)).to_csv(
                tmp, index=False, lineterminator="\n", encoding="utf-8")
        elif suffix == ".xlsx":
            _write_xlsx(_replace_in_text(_neutralise(plain), XML_INVALID,
                                         "control characters", path), tmp)
        else:  # GDAL ends text at a NUL byte: say so rather than cut names silently
            _write_vector(_replace_in_text(frame, _NUL, "NUL bytes", path), tmp,
                          layer=Path(path).stem, driver="GPKG" if suffix == ".gpkg"
                          else "GeoJSON")


def _shown(path: str | os.PathLike) -> str:
    """``path`` as messages show it (a URL's password masked)."""
    from reachplan.io.postgis import display_name

    return display_name(str(path)) if _suffix(path) == POSTGIS else str(path)


def _write_postgis(frame: pd.DataFrame, url: str, *, overwrite: bool) -> None:
    """Write a PostGIS table with the command's outputs (at commit), or now outside one."""
    from reachplan.io.postgis import write_frame

    outputs = active_outputs()
    if outputs is not None:
        outputs.defer(url, lambda: write_frame(frame, url, overwrite=overwrite),
                      overwrite=overwrite)
        return
    with OutputSet(overwrite=overwrite) as own:
        own.defer(url, lambda: write_frame(frame, url, overwrite=overwrite))


def _write_vector(frame: gpd.GeoDataFrame, tmp: Path, *, layer: str, driver: str) -> None:
    import pyogrio

    # GeoPackage stamps the current time into gpkg_contents; pin it for reproducible output.
    from pyogrio.errors import DataLayerError, DataSourceError, FeatureError, FieldError

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    try:
        pyogrio.write_dataframe(frame, tmp, layer=layer, driver=driver)
    except (DataLayerError, DataSourceError, FeatureError, FieldError) as exc:
        # GDAL reports a full disk as a failed feature or table, not as an OSError
        free = shutil.disk_usage(tmp.parent).free
        full = free < _NEARLY_FULL or "No space left" in str(exc)
        raise OSError(errno.ENOSPC if full else errno.EIO,
                      os.strerror(errno.ENOSPC) if full else first_line(exc)) from None
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def _write_xlsx(frame: pd.DataFrame, tmp: Path) -> None:
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "reachplan"
    sheet.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        sheet.append([None if (isinstance(v, float) and np.isnan(v)) else
                      (v.item() if isinstance(v, np.generic) else v) for v in row])
    book.properties.created = dt.datetime(2000, 1, 1)
    buffer = _io.BytesIO()
    book.save(buffer)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries: re-pack with
    # fixed times so the same table gives the same bytes.
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z",
                              data)
            member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, data)
