"""How outputs name an input: by its file name, never by the folder it was read from (a
PostGIS URL by the URL, its password masked)."""

from __future__ import annotations

from pathlib import PurePath
from typing import overload


@overload
def input_name(source: str) -> str: ...
@overload
def input_name(source: object) -> str | None: ...


def input_name(source: object) -> str | None:
    """``source`` (a path as given, ``@india``, a parameter name) as JSON, maps and
    summaries show it: the file name alone, so that the same file given by a relative or an
    absolute path gives the same bytes and no local folder reaches an output."""
    if source is None:
        return None
    if "://" in str(source):  # io only for a URL (a path or a name never loads it)
        from reachplan.io.postgis import display_name, is_postgis

        if is_postgis(source):  # a table or query: the URL, its password masked
            return display_name(str(source))
    return PurePath(str(source)).name or str(source)
