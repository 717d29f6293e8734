"""Paths to the embedded India default data (installed as the package ``reachplan._data``).

The files are built by ``data/build_india.py``; ``data/README.md`` (shipped beside them) gives
their provenance, licences and every cleaning choice. The sample network is SYNTHETIC.

Examples
--------
>>> from reachplan import datasets
>>> from reachplan.io import read_boundaries
>>> info = datasets.DATASETS["india_districts"]
>>> districts = read_boundaries(datasets.india_districts_path(), id_col=info["id_col"],
...                             name_col=info["name_col"], group_col=info["group_col"],
...                             weight_col=info["weight_col"])  # doctest: +SKIP
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypedDict

__all__ = [
    "ALIASES",
    "DATASETS",
    "DatasetInfo",
    "DatasetKey",
    "INDIA_SAMPLE_HOURS",
    "with_sample_hours",
    "dataset_path",
    "india_districts_path",
    "india_head_offices_path",
    "india_pincodes_path",
    "india_sample_centres_path",
    "india_states_path",
    "resolve",
]

_PACKAGE = "reachplan._data"

#: SYNTHETIC opening hours of the sample network by centre ``type`` (OSM ``opening_hours``),
#: modelled on hours such networks publish (premium centres daily 08:00-23:00, partner
#: centres in malls 09:00-18:00, vans on weekday rounds); no real centre's hours.
INDIA_SAMPLE_HOURS = MappingProxyType({
    "premium": "Mo-Su 08:00-23:00",
    "direct": "Mo-Sa 10:00-20:00; PH off",
    "partner": "Mo-Sa 09:00-18:00; PH off",
    "van": "Mo-Fr 10:00-16:00; PH off",
})

DatasetKey = Literal[
    "india_districts", "india_states", "india_sample_centres", "india_head_offices",
    "india_pincodes",
]


class DatasetInfo(TypedDict):
    """What an embedded file is and which of its columns play which role."""

    file: str
    kind: Literal["boundaries", "points"]
    rows: int
    description: str
    id_col: str | None
    name_col: str | None
    group_col: str | None
    weight_col: str | None
    lat_col: str | None
    lon_col: str | None


def _info(file: str, kind: Literal["boundaries", "points"], rows: int, description: str, *,
          id_col: str | None = None, name_col: str | None = None, group_col: str | None = None,
          weight_col: str | None = None) -> DatasetInfo:
    points = kind == "points"
    return DatasetInfo(file=file, kind=kind, rows=rows, description=description, id_col=id_col,
                       name_col=name_col, group_col=group_col, weight_col=weight_col,
                       lat_col="lat" if points else None, lon_col="lon" if points else None)


DATASETS: MappingProxyType[str, DatasetInfo] = MappingProxyType({
    "india_districts": _info(
        "india_districts.fgb", "boundaries", 777,
        "India districts keyed by LGD code; population_est is a modelled estimate "
        "(Census 2011 state totals split by post-office and town signals), not a census count",
        id_col="lgd_code", name_col="district", group_col="state", weight_col="population_est"),
    "india_states": _info(
        "india_states.fgb", "boundaries", 36, "India states and union territories",
        id_col="state", name_col="state"),
    "india_sample_centres": _info(
        "india_sample_centres.csv", "points", 2000,
        "SYNTHETIC network of 2,000 service centres in 680 cities at real GeoNames towns",
        id_col="center_id", name_col="name", group_col="type"),
    "india_head_offices": _info(
        "india_post_head_offices.csv", "points", 785,
        "India Post head offices with original coordinates (a real network); "
        "pincode is not unique (two offices can share one)",
        name_col="name", group_col="state"),
    "india_pincodes": _info(
        "india_pincodes.csv", "points", 19416, "one centroid per India PIN code",
        id_col="pincode"),
})
"""Every embedded dataset by key: file name, row count and the role of its columns."""


ALIASES: MappingProxyType[str, str] = MappingProxyType({
    "india": "india_districts",
    "india-states": "india_states",
    "india-sample": "india_sample_centres",
    "india-post-ho": "india_head_offices",
    "india-pincodes": "india_pincodes",
})
"""``@name`` as typed on the command line (and accepted by the readers) -> dataset key."""


def resolve(value: str | os.PathLike) -> tuple[Path, DatasetInfo | None]:
    """``"@india"`` -> the embedded file and what its columns are; a path -> itself, ``None``.

    Raises
    ------
    reachplan.errors.InputError
        ``value`` starts with ``@`` but names no embedded dataset.
    """
    text = os.fspath(value)
    if not isinstance(text, str) or not text.startswith("@"):
        return Path(text), None
    key = ALIASES.get(text[1:])
    if key is None:
        from reachplan.errors import InputError

        raise InputError(f"'{text}': no such embedded dataset; use one of "
                         f"{', '.join('@' + k for k in ALIASES)} or a file path")
    return dataset_path(key), DATASETS[key]


def with_sample_hours(frame: Any, path: str | os.PathLike, column: str = "hours") -> Any:
    """The sample network's centres with their SYNTHETIC hours (:data:`INDIA_SAMPLE_HOURS`
    by ``type``) in ``column``; any other frame, or one that has the column, as it is."""
    if (column in frame.columns or "type" not in frame.columns
            or Path(path) != dataset_path("india_sample_centres")):
        return frame
    out = frame.copy()
    out[column] = out["type"].map(dict(INDIA_SAMPLE_HOURS))
    return out


def dataset_path(key: DatasetKey | str) -> Path:
    """Path of an embedded dataset file.

    Parameters
    ----------
    key
        A key of :data:`DATASETS`, e.g. ``"india_districts"``.

    Raises
    ------
    KeyError
        ``key`` is not a known dataset.
    FileNotFoundError
        The file is missing from the installed package (a broken install).
    """
    if key not in DATASETS:
        raise KeyError(f"unknown dataset {key!r}; choose one of {', '.join(DATASETS)}")
    name = DATASETS[key]["file"]
    ref = resources.files(_PACKAGE).joinpath(name)
    if not ref.is_file():
        raise FileNotFoundError(
            f"embedded data file {name} is missing from {_PACKAGE}; reinstall reachplan "
            "(or run `python data/build_india.py` in a source checkout)")
    # reachplan._data is a regular package installed as files, so this is a real path.
    return Path(str(ref))


def india_districts_path() -> Path:
    """India districts (FlatGeobuf): ``lgd_code``, ``district``, ``state``, ``population_est``."""
    return dataset_path("india_districts")


def india_states_path() -> Path:
    """India states and union territories (FlatGeobuf): ``state``."""
    return dataset_path("india_states")


def india_sample_centres_path() -> Path:
    """The synthetic 2,000-centre sample network (CSV with ``lat``/``lon``)."""
    return dataset_path("india_sample_centres")


def india_head_offices_path() -> Path:
    """India Post head offices (CSV with ``lat``/``lon``)."""
    return dataset_path("india_head_offices")


def india_pincodes_path() -> Path:
    """PIN-code centroids (CSV: ``pincode``, ``lat``, ``lon``)."""
    return dataset_path("india_pincodes")
