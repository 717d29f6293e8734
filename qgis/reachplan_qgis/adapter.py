"""The thin adapter between QGIS and reachplan: QGIS features to GeoDataFrames, and back.

reachplan never imports qgis. Features reach it as WKB and attribute values, reprojected to
EPSG:4326 by QGIS (QgsCoordinateTransform), so that no file is opened a second time through
the wheels' own GDAL (pyogrio) inside the QGIS process; results go back into feature sinks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessingException,
    QgsProcessingFeatureSource,
    QgsProcessingFeedback,
    QgsProject,
)
from qgis.PyQt.QtCore import QDate, QDateTime, QTime, QVariant

WGS84 = "EPSG:4326"


class Cancelled(QgsProcessingException):
    """The user pressed Cancel."""

    def __init__(self) -> None:
        super().__init__("cancelled")


def step(feedback: QgsProcessingFeedback, percent: float, text: str | None = None) -> None:
    """Report progress, or stop here when the user cancelled."""
    if feedback.isCanceled():
        raise Cancelled()
    feedback.setProgress(percent)
    if text:
        feedback.pushInfo(text)


def _value(value: Any) -> Any:
    """A QGIS attribute value as Python: NULL -> None, dates as ISO text."""
    if isinstance(value, QVariant):
        return None if value.isNull() else value.value()
    if isinstance(value, (QDate, QDateTime, QTime)):
        return value.toString("yyyy-MM-dd") if isinstance(value, QDate) else value.toString()
    return value


def frame(source: QgsProcessingFeatureSource, feedback: QgsProcessingFeedback,
          roles: Mapping[str, str | None], *, name: str, hidden: Sequence[str] = ()) -> Any:
    """A GeoDataFrame (EPSG:4326) of ``source``'s features: every attribute but the
    ``hidden`` fields, with the fields ``roles`` names (``{"id": "district_code"}``) renamed
    to the role reachplan reads (``id``, ``name``, ``group``, ``weight``), a field already
    bearing a role's name dropped. ``name`` labels the layer in reachplan's messages."""
    import geopandas as gpd
    import shapely

    fields = source.fields().names()
    for role, field in roles.items():
        if field and field not in fields:
            raise QgsProcessingException(f"{name}: no field '{field}' (given for {role})")
    transform = QgsCoordinateTransform(source.sourceCrs(),
                                       QgsCoordinateReferenceSystem(WGS84),
                                       QgsProject.instance())
    rows: list[list[Any]] = []
    wkb: list[bytes | None] = []
    for i, feature in enumerate(source.getFeatures()):
        if i % 1000 == 0 and feedback.isCanceled():
            raise Cancelled()
        geom = QgsGeometry(feature.geometry())
        if geom.isNull() or geom.isEmpty():
            wkb.append(None)
        else:
            geom.transform(transform)
            wkb.append(bytes(geom.asWkb()))
        rows.append([_value(v) for v in feature.attributes()])
    import pandas as pd

    table = _typed(pd.DataFrame(rows, columns=fields, dtype=object))
    renamed = {field: role for role, field in roles.items() if field}
    hidden = [f for f in hidden if f in table.columns and f not in renamed]
    table = table.drop(columns=hidden + [r for r in renamed.values() if r in table.columns
                                         and r not in renamed])
    table = table.rename(columns=renamed)
    out = gpd.GeoDataFrame(table, geometry=shapely.from_wkb(wkb), crs=WGS84)
    out.attrs["source"] = name
    return out


def _typed(table: Any) -> Any:
    """Columns of numbers as numbers (QGIS hands every value as a Python object)."""
    import pandas as pd

    for column in table.columns:
        values = table[column]
        if values.map(lambda v: v is None or (isinstance(v, (int, float))
                                              and not isinstance(v, bool))).all() \
                and values.notna().any():
            table[column] = pd.to_numeric(values)
    return table


def _field(name: str, kind: str) -> QgsField:
    types = {"b": QVariant.Bool, "i": QVariant.LongLong, "u": QVariant.LongLong,
             "f": QVariant.Double}
    return QgsField(name, types.get(kind, QVariant.String))


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def sink_fields(table: Any) -> QgsFields:
    """QgsFields for a frame's columns (its geometry column left out)."""
    fields = QgsFields()
    for column in table.columns:
        if column != getattr(table, "_geometry_column_name", None):
            fields.append(_field(str(column), table[column].dtype.kind))
    return fields


def write(table: Any, sink: QgsFeatureSink, feedback: QgsProcessingFeedback, *,
          multi: bool = False) -> int:
    """Add a GeoDataFrame's rows to ``sink`` (made with :func:`sink_fields`), polygons as
    multipolygons when ``multi``; the count."""
    import shapely

    geometry = getattr(table, "_geometry_column_name", None)
    columns = [c for c in table.columns if c != geometry]
    wkb = (shapely.to_wkb(table.geometry.to_numpy()) if geometry
           else [None] * len(table))
    for i, (row, shape) in enumerate(zip(table[columns].itertuples(index=False), wkb,
                                         strict=True)):
        if i % 1000 == 0 and feedback.isCanceled():
            raise Cancelled()
        feature = QgsFeature()
        if shape is not None:
            geom = QgsGeometry()
            geom.fromWkb(shape)
            if multi:
                geom.convertToMultiType()
            feature.setGeometry(geom)
        feature.setAttributes([_cell(v) for v in row])
        if not sink.addFeature(feature, QgsFeatureSink.FastInsert):
            raise QgsProcessingException(f"could not write feature {i + 1}")
    return len(table)
