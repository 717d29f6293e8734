"""Inputs and outputs: every file reachplan reads or writes goes through this package.

- :mod:`reachplan.io.read`: district boundaries and point locations (``read_boundaries``,
  ``read_points``), read (:mod:`reachplan.io.formats`: vector layers, CSV, XLSX, PostGIS) and
  validated into one-line errors by :mod:`reachplan.frames`, which also adapts frames passed
  in code (``as_districts``, ``as_points``; re-exported here, as is ``input_name``);
- :mod:`reachplan.io.write`: the one table of output formats, the overwrite check and the
  all-or-none atomic writer;
- :mod:`reachplan.io.files`: inputs that may never end (FIFOs, devices) refused or read with a
  size bound.

Nothing here knows coverage rules or the command line.
"""

from reachplan.frames import (
    DISTRICT_NAME_NAMES,
    LAT_NAMES,
    LON_NAMES,
    NAME_NAMES,
    as_districts,
    as_points,
    find_column,
    input_name,
    parse_coordinates,
)
from reachplan.io.formats import EXCEL_SUFFIXES, TABLE_SUFFIXES, csv_header, readable_copy
from reachplan.io.read import read_boundaries, read_points
from reachplan.io.write import (
    OUTPUT_FORMATS,
    STDOUT,
    TABLE_OUTPUTS,
    VECTOR_OUTPUTS,
    OutputSet,
    active_outputs,
    atomic_output,
    check_output,
    note_output,
    output_format,
    output_suffix,
    remove_temporary_files,
    write_table,
)

__all__ = ["DISTRICT_NAME_NAMES", "EXCEL_SUFFIXES", "LAT_NAMES", "LON_NAMES", "NAME_NAMES",
           "OUTPUT_FORMATS", "STDOUT", "TABLE_OUTPUTS", "TABLE_SUFFIXES", "VECTOR_OUTPUTS",
           "OutputSet", "active_outputs", "as_districts", "as_points", "atomic_output",
           "check_output", "csv_header", "find_column", "input_name", "note_output",
           "output_format", "output_suffix", "parse_coordinates", "read_boundaries",
           "read_points", "readable_copy", "remove_temporary_files", "write_table"]
