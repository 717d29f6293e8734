"""reachplan's commands as QGIS Processing algorithms: coverage, gaps, plan, isochrones,
access and the map. Each reads QGIS layers through :mod:`.adapter`, calls reachplan's Python
API and writes a feature sink (or an HTML file); reachplan is imported when an algorithm runs,
so that QGIS starts (and says what is missing) without it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProviderRegistry,
    QgsWkbTypes,
)

from . import adapter
from .adapter import step
from .requirements import load, missing

PROFILES = ("car", "motorcycle", "walk")
SUMMARY = ("districts", "covered", "percent", "weight_total", "weight_covered",
           "weight_percent")


#: reachplan's Python parameters named in its errors -> these algorithms' parameters
PARAMETERS = {"id_col": "ID_FIELD", "name_col": "NAME_FIELD", "group_col": "GROUP_FIELD",
              "weight_col": "WEIGHT_FIELD", "type_col": "TYPE_FIELD", "add": "ADD",
              "target": "TARGET", "min_centers": "MIN_CENTRES", "objective": "OBJECTIVE",
              "method": "METHOD", "time_limit": "TIME_LIMIT", "minutes": "MINUTES",
              "buffer_m": "BUFFER_M", "radius_km": "RADIUS_KM"}


def as_parameters(message: str, params: tuple[str, ...]) -> str:
    """reachplan's message with the Python parameters it names given as this plugin's
    parameters (``type_col`` -> ``TYPE_FIELD``)."""
    for name in params:
        if name in PARAMETERS:
            message = re.sub(rf"(?<![\w.]){name}\b", PARAMETERS[name], message)
    return message


class _Algorithm(QgsProcessingAlgorithm):
    """Names, help and the reachplan check every algorithm shares."""

    NAME = ""
    LABEL = ""
    HELP = ""

    def name(self) -> str:
        return self.NAME

    def displayName(self) -> str:
        return self.LABEL

    def shortHelpString(self) -> str:
        return self.HELP

    def createInstance(self) -> QgsProcessingAlgorithm:
        return type(self)()

    def canExecute(self) -> tuple[bool, str]:
        message = missing()
        return message is None, message or ""

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        feedback.pushDebugInfo(load())
        from reachplan.errors import ReachplanError

        try:
            return self.compute(parameters, context, feedback)
        except ReachplanError as exc:  # bad input: one line naming the parameter
            message = as_parameters(str(exc), getattr(exc, "params", ()))
        except QgsProcessingException as exc:
            message = str(exc)
        except KeyboardInterrupt:  # what a progress hook raises on Cancel (see _plan_hook)
            message = "cancelled"
        # raised outside the handler, so that no traceback holds this run's QGIS objects
        # (a standalone script crashed at exit when one did)
        raise QgsProcessingException(message)

    def compute(self, parameters: dict[str, Any], context: QgsProcessingContext,
                feedback: QgsProcessingFeedback) -> dict[str, Any]:
        raise NotImplementedError

    # ------------------------------------------------------------------ parameters
    def _number(self, parameters: dict[str, Any], name: str,
                context: QgsProcessingContext) -> float | None:
        if parameters.get(name) in (None, ""):
            return None
        return self.parameterAsDouble(parameters, name, context)

    def _field(self, parameters: dict[str, Any], name: str,
               context: QgsProcessingContext) -> str | None:
        return self.parameterAsString(parameters, name, context) or None

    def _source(self, parameters: dict[str, Any], name: str, context: QgsProcessingContext):
        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, name))
        return source

    def _described(self, parameters: dict[str, Any], name: str, context: QgsProcessingContext
                   ) -> tuple[str, list[str]]:
        """How reachplan's messages and reports name an input (its file's name, as the
        command line does, else the layer's name), and the fields that are GDAL's feature ids
        (a GeoPackage's ``fid``), which the command line does not see as columns."""
        layer = self.parameterAsVectorLayer(parameters, name, context)
        if layer is None:
            return name.lower(), []
        ids = ([layer.fields().at(i).name() for i in layer.primaryKeyAttributes()]
               if layer.providerType() == "ogr" else [])
        parts = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source())
        path = parts.get("path") or ""
        return (Path(path).name if path else layer.name()), ids

    def layer(self, parameters: dict[str, Any], name: str, context: QgsProcessingContext,
              feedback: QgsProcessingFeedback, roles: dict[str, str | None]) -> Any:
        """The layer parameter ``name`` as a GeoDataFrame (see :func:`adapter.frame`)."""
        label, ids = self._described(parameters, name, context)
        return adapter.frame(self._source(parameters, name, context), feedback, roles,
                             name=label, hidden=ids)

    def add_points(self, name: str, label: str, *, optional: bool = False) -> None:
        self.addParameter(QgsProcessingParameterFeatureSource(
            name, label, [QgsProcessing.TypeVectorPoint], optional=optional))
        self.addParameter(QgsProcessingParameterField(
            f"{name}_NAME_FIELD", f"{label}: name field [default: name, center_name, ...]",
            parentLayerParameterName=name, optional=True))

    def add_districts(self) -> None:
        self.addParameter(QgsProcessingParameterFeatureSource(
            "DISTRICTS", "Districts (polygons)", [QgsProcessing.TypeVectorPolygon]))
        for role, label in (("ID", "id [default: first unique, non-null field]"),
                            ("NAME", "name [default: 'name']"),
                            ("GROUP", "group (roll-ups, e.g. state)"),
                            ("WEIGHT", "weight (e.g. population)")):
            self.addParameter(QgsProcessingParameterField(
                f"{role}_FIELD", f"Districts: {label} field", parentLayerParameterName="DISTRICTS",
                optional=True, type=(QgsProcessingParameterField.Numeric if role == "WEIGHT"
                                     else QgsProcessingParameterField.Any)))
        self.add_points("CENTRES", "Centres (points)")
        self.addParameter(QgsProcessingParameterField(
            "TYPE_FIELD", "Centres: type field (coverage by type)",
            parentLayerParameterName="CENTRES", optional=True))

    def add_rule(self, *, min_centres: bool = True) -> None:
        self.addParameter(QgsProcessingParameterNumber(
            "RADIUS_KM", "Covered within this geodesic distance, km [default: a centre inside]",
            type=QgsProcessingParameterNumber.Double, minValue=0.0, optional=True))
        if min_centres:
            self.addParameter(QgsProcessingParameterNumber(
                "MIN_CENTRES", "Centres needed to count as covered",
                type=QgsProcessingParameterNumber.Integer, minValue=1, defaultValue=1))
        self.add_roads(optional=True)
        self.addParameter(QgsProcessingParameterNumber(
            "TRAVEL_MINUTES", "Covered within this many minutes by road (with a roads file)",
            type=QgsProcessingParameterNumber.Double, minValue=0.0, optional=True))

    def add_roads(self, *, optional: bool) -> None:
        self.addParameter(QgsProcessingParameterFile(
            "ROADS", "Roads: an OSM extract (.osm.pbf, .osm, .osm.bz2) or a line layer file",
            optional=optional))
        self.addParameter(QgsProcessingParameterEnum(
            "PROFILE", "Travel mode on the roads", options=list(PROFILES), defaultValue=0))

    # ------------------------------------------------------------------ inputs
    def districts(self, parameters: dict[str, Any], context: QgsProcessingContext,
                  feedback: QgsProcessingFeedback) -> tuple[Any, Any, str | None]:
        """Districts and centres as reachplan reads them, and the centres' type column."""
        from reachplan.io import as_districts

        roles = {role: self._field(parameters, f"{role.upper()}_FIELD", context)
                 for role in ("id", "name", "group", "weight")}
        districts = as_districts(self.layer(parameters, "DISTRICTS", context, feedback, roles))
        if roles["weight"]:
            districts.attrs["weight_col"] = roles["weight"]
        centres = self.points(parameters, "CENTRES", context, feedback)
        return districts, centres, self._field(parameters, "TYPE_FIELD", context)

    def points(self, parameters: dict[str, Any], name: str, context: QgsProcessingContext,
               feedback: QgsProcessingFeedback, param: str = "centers") -> Any:
        """The point layer ``name`` as reachplan reads points (lat, lon, name, line)."""
        from reachplan.io import as_points

        roles = {"name": self._field(parameters, f"{name}_NAME_FIELD", context)}
        raw = self.layer(parameters, name, context, feedback, roles)
        points = as_points(raw, param=param)
        points.attrs["source"] = raw.attrs["source"]
        return points

    def rule(self, parameters: dict[str, Any], context: QgsProcessingContext,
             feedback: QgsProcessingFeedback, *, minutes: float | None = None) -> Any:
        """The coverage rule the parameters give: presence, a radius, or minutes by road."""
        from reachplan.rules import Rule

        radius = self._number(parameters, "RADIUS_KM", context)
        min_centres = (self.parameterAsInt(parameters, "MIN_CENTRES", context)
                       if self.parameterDefinition("MIN_CENTRES") else 1)
        roads = self.parameterAsFile(parameters, "ROADS", context) or None
        minutes = minutes if minutes is not None else self._number(parameters, "TRAVEL_MINUTES",
                                                                   context)
        if (roads is None) != (minutes is None):
            raise QgsProcessingException("a roads file and travel minutes go together: a "
                                         "centre within that many minutes by road")
        if roads is not None and minutes is not None:
            if radius is not None:
                raise QgsProcessingException("give a radius or roads with travel minutes, "
                                             "not both")
            from reachplan.roads import TravelRule

            profile = PROFILES[self.parameterAsEnum(parameters, "PROFILE", context)]
            feedback.pushInfo(f"roads: {roads} ({profile})")
            return TravelRule.from_roads(roads, minutes, profile=profile,
                                         min_centers=min_centres)
        if radius is None:
            return Rule.presence(min_centers=min_centres)
        return Rule.radius(radius, min_centers=min_centres)

    def sink(self, parameters: dict[str, Any], context: QgsProcessingContext, table: Any,
             feedback: QgsProcessingFeedback, *, points: bool = False) -> str:
        """Write a GeoDataFrame (EPSG:4326) to the OUTPUT sink, of points or (multi)polygons
        (an empty table too); the sink's id."""
        kind = QgsWkbTypes.Point if points else QgsWkbTypes.MultiPolygon
        sink, dest = self.parameterAsSink(parameters, "OUTPUT", context,
                                          adapter.sink_fields(table), kind,
                                          QgsCoordinateReferenceSystem(adapter.WGS84))
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, "OUTPUT"))
        adapter.write(table, sink, feedback, multi=not points)
        return dest


def _warn(feedback: QgsProcessingFeedback, messages: list[str]) -> None:
    for message in messages:
        feedback.pushWarning(message)


def _district_rows(frame: Any, weighted: bool) -> Any:
    """Per-district rows as every output writes them (nearest_* rounded, no empty weight)."""
    from reachplan.engine import round_nearest

    frame = round_nearest(frame.copy())
    return frame if weighted else frame.drop(columns="weight")


class _Assessing(_Algorithm):
    """Districts, centres and a rule in; a coverage result."""

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        self.add_districts()
        self.add_rule()

    def assess(self, parameters: dict[str, Any], context: QgsProcessingContext,
               feedback: QgsProcessingFeedback, *, nearest: bool = True) -> Any:
        from reachplan.engine import assess

        step(feedback, 0, "reading the layers")
        districts, centres, type_col = self.districts(parameters, context, feedback)
        step(feedback, 20, "building the rule")
        rule = self.rule(parameters, context, feedback)
        step(feedback, 40, rule.describe())
        result = assess(districts, centres, rule, type_col=type_col, nearest=nearest)
        _warn(feedback, result.warnings)
        step(feedback, 80)
        return result


class Coverage(_Assessing):
    NAME, LABEL = "coverage", "Coverage: how covered are we?"
    HELP = ("Decides which districts are covered (a centre inside, within a radius, or within "
            "T minutes by road) and reports % of districts and of weight. The output layer has "
            "one feature per district: centers (inside), covered, nearest_km and "
            "nearest_center (and nearest_min by road). Same figures as `reachplan coverage "
            "--format json`, which the optional JSON report holds.")

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        super().initAlgorithm(config)
        self.addParameter(QgsProcessingParameterFeatureSink(
            "OUTPUT", "Coverage per district", QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterFileDestination(
            "REPORT", "Report (the JSON of reachplan coverage --format json)",
            fileFilter="JSON files (*.json)", optional=True, createByDefault=False))
        for key in SUMMARY:
            self.addOutput(QgsProcessingOutputNumber(key.upper(), key.replace("_", " ")))

    def compute(self, parameters: dict[str, Any], context: QgsProcessingContext,
            feedback: QgsProcessingFeedback) -> dict[str, Any]:
        result = self.assess(parameters, context, feedback)
        out: dict[str, Any] = {key.upper(): result.summary[key] for key in SUMMARY}
        out["OUTPUT"] = self.sink(parameters, context,
                                  _district_rows(result.districts, result.weighted), feedback)
        report = self.parameterAsFileOutput(parameters, "REPORT", context)
        if report:
            from reachplan.text import for_json_text

            text = json.dumps(result.to_dict(), ensure_ascii=False, indent=2, allow_nan=False)
            Path(report).write_text(for_json_text(text) + "\n", encoding="utf-8")
            out["REPORT"] = report
        step(feedback, 100)
        return out


class Gaps(_Assessing):
    NAME, LABEL = "gaps", "Gaps: where are the uncovered districts?"
    HELP = ("The uncovered districts, ranked by weight (descending) then by distance to the "
            "nearest centre (farthest first), with that centre and its distance: `reachplan "
            "gaps -o gaps.gpkg`.")

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        super().initAlgorithm(config)
        self.addParameter(QgsProcessingParameterFeatureSink(
            "OUTPUT", "Gaps", QgsProcessing.TypeVectorPolygon))
        self.addOutput(QgsProcessingOutputNumber("GAPS", "gaps"))

    def compute(self, parameters: dict[str, Any], context: QgsProcessingContext,
            feedback: QgsProcessingFeedback) -> dict[str, Any]:
        result = self.assess(parameters, context, feedback)
        gaps = result.gaps().drop(columns="covered")  # all false
        gaps.insert(0, "rank", range(1, len(gaps) + 1))
        dest = self.sink(parameters, context, _district_rows(gaps, result.weighted), feedback)
        step(feedback, 100)
        return {"OUTPUT": dest, "GAPS": len(gaps)}


METHODS: tuple[Literal["auto", "greedy", "exact"], ...] = ("auto", "greedy", "exact")
OBJECTIVES: tuple[Literal["auto", "districts", "weight"], ...] = ("auto", "districts", "weight")


def _plan_hook(feedback: QgsProcessingFeedback):
    """reachplan's plan progress hook on QGIS's feedback; Cancel interrupts the solver as
    Ctrl-C does (the exact solver keeps its best plan, labelled interrupted)."""

    def hook(info: dict[str, Any]) -> None:
        if feedback.isCanceled():
            raise KeyboardInterrupt
        if info.get("total"):
            feedback.setProgress(40 + 50 * info["done"] / info["total"])
        elif info.get("gap") is not None:
            feedback.setProgressText(f"exact: gap {100 * info['gap']:.2f} %")

    return hook


class Plan(_Algorithm):
    NAME, LABEL = "plan", "Plan: where do we open next?"
    HELP = ("Opens at most N new sites (or the fewest for a target %) for the most coverage, "
            "chosen among the candidates (default: one point inside each uncovered district). "
            "The output layer holds the chosen sites with what each adds: `reachplan plan`.")

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        self.add_districts()
        self.add_rule()
        self.addParameter(QgsProcessingParameterNumber(
            "ADD", "Sites to open (or leave empty and give a target)",
            type=QgsProcessingParameterNumber.Integer, minValue=0, optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            "TARGET", "Target % covered (the fewest sites that reach it)",
            type=QgsProcessingParameterNumber.Double, minValue=0.0, maxValue=100.0,
            optional=True))
        self.add_points("CANDIDATES", "Candidate sites (points)", optional=True)
        self.addParameter(QgsProcessingParameterEnum(
            "OBJECTIVE", "Objective", options=list(OBJECTIVES), defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(
            "METHOD", "Method", options=list(METHODS), defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            "TIME_LIMIT", "Time limit of the exact solver, s",
            type=QgsProcessingParameterNumber.Double, minValue=0.0, defaultValue=60.0))
        self.addParameter(QgsProcessingParameterFeatureSink(
            "OUTPUT", "Planned sites", QgsProcessing.TypeVectorPoint))
        for key in ("BEFORE_PERCENT", "AFTER_PERCENT"):
            self.addOutput(QgsProcessingOutputNumber(key, key.lower().replace("_", " ")))
        self.addOutput(QgsProcessingOutputString("STATUS", "status"))

    def compute(self, parameters: dict[str, Any], context: QgsProcessingContext,
            feedback: QgsProcessingFeedback) -> dict[str, Any]:
        from reachplan.planning import run_plan

        step(feedback, 0, "reading the layers")
        districts, centres, _ = self.districts(parameters, context, feedback)
        candidates = None
        if parameters.get("CANDIDATES"):
            candidates = self.points(parameters, "CANDIDATES", context, feedback, "candidates")
        step(feedback, 20, "building the rule")
        rule = self.rule(parameters, context, feedback)
        add = self._number(parameters, "ADD", context)
        step(feedback, 40, rule.describe())
        run = run_plan(districts, centres, rule, add=None if add is None else int(add),
                       target=self._number(parameters, "TARGET", context),
                       candidates=candidates,
                       method=METHODS[self.parameterAsEnum(parameters, "METHOD", context)],
                       objective=OBJECTIVES[self.parameterAsEnum(parameters, "OBJECTIVE",
                                                                 context)],
                       time_limit=self.parameterAsDouble(parameters, "TIME_LIMIT", context),
                       progress=_plan_hook(feedback))
        report = run.report
        _warn(feedback, [*report["warnings"], *report["notes"]])
        step(feedback, 90)
        dest = self.sink(parameters, context, run.sites, feedback, points=True)
        step(feedback, 100)
        return {"OUTPUT": dest, "BEFORE_PERCENT": report["before"]["percent"],
                "AFTER_PERCENT": report["after"]["percent"], "STATUS": report["status"]}


def parse_minutes(text: str) -> list[float]:
    """``"15,30,60"`` -> ``[15.0, 30.0, 60.0]`` (sorted, unique; each > 0)."""
    try:
        bands = sorted({float(part) for part in text.split(",")})
    except ValueError:
        bands = []
    if not bands or bands[0] <= 0 or bands[-1] == float("inf"):
        raise QgsProcessingException(f"minutes {text!r}: give travel times > 0 separated by "
                                     "commas, e.g. 15,30,60")
    return bands


class Isochrones(_Algorithm):
    NAME, LABEL = "isochrones", "Isochrones: service areas by road"
    HELP = ("The service area of every centre for each travel time: the roads it reaches "
            "within T minutes, widened by the buffer, one polygon per centre and band "
            "(cumulative): `reachplan isochrones`.")

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        self.add_roads(optional=False)
        self.add_points("CENTRES", "Centres (points)")
        self.addParameter(QgsProcessingParameterString(
            "MINUTES", "Travel-time bands, minutes (comma-separated)", defaultValue="15,30,60"))
        self.addParameter(QgsProcessingParameterNumber(
            "BUFFER_M", "Width either side of a reached road, m",
            type=QgsProcessingParameterNumber.Double, minValue=0.001, defaultValue=50.0))
        self.addParameter(QgsProcessingParameterFeatureSink(
            "OUTPUT", "Service areas", QgsProcessing.TypeVectorPolygon))

    def compute(self, parameters: dict[str, Any], context: QgsProcessingContext,
            feedback: QgsProcessingFeedback) -> dict[str, Any]:
        bands = parse_minutes(self.parameterAsString(parameters, "MINUTES", context))
        step(feedback, 0, "reading the centres")
        centres = self.points(parameters, "CENTRES", context, feedback)
        step(feedback, 10, "reading the roads")
        rule = self.rule(parameters, context, feedback, minutes=bands[-1])
        step(feedback, 50, "tracing the service areas")
        areas = rule.isochrones(centres, bands,
                                buffer_m=self.parameterAsDouble(parameters, "BUFFER_M", context))
        off = int(areas["off_network"].sum()) // len(bands)
        if off:
            feedback.pushWarning(f"{off} of {len(centres)} centres are off the road network: "
                                 "their areas are empty")
        step(feedback, 90)
        dest = self.sink(parameters, context, areas, feedback)
        step(feedback, 100)
        return {"OUTPUT": dest}


class Access(_Algorithm):
    NAME, LABEL = "access", "Access: supply per unit of demand (2SFCA)"
    HELP = ("Two-step floating catchment (2SFCA): each centre's supply (capacity field) is "
            "shared among the demand within the catchment (a radius, or T minutes by road); "
            "each demand point adds up the shares of the centres it reaches (0 when none): "
            "`reachplan access` with --method 2sfca.")

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        self.add_points("CENTRES", "Centres (points)")
        self.addParameter(QgsProcessingParameterField(
            "CAPACITY_FIELD", "Centres: supply field (capacity, staff, beds)",
            parentLayerParameterName="CENTRES", type=QgsProcessingParameterField.Numeric))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "DEMAND", "Demand points", [QgsProcessing.TypeVectorPoint]))
        self.addParameter(QgsProcessingParameterField(
            "DEMAND_WEIGHT_FIELD", "Demand: weight field [default: 1 per point]",
            parentLayerParameterName="DEMAND", type=QgsProcessingParameterField.Numeric,
            optional=True))
        self.addParameter(QgsProcessingParameterField(
            "DEMAND_ID_FIELD", "Demand: id field [default: the row number]",
            parentLayerParameterName="DEMAND", optional=True))
        self.add_rule(min_centres=False)
        self.addParameter(QgsProcessingParameterFeatureSink(
            "OUTPUT", "Accessibility per demand point", QgsProcessing.TypeVectorPoint))

    def compute(self, parameters: dict[str, Any], context: QgsProcessingContext,
            feedback: QgsProcessingFeedback) -> dict[str, Any]:
        import geopandas as gpd
        import numpy as np

        from reachplan.capacity import accessibility, column_amounts, pairs_for_rule

        step(feedback, 0, "reading the layers")
        centres = self.points(parameters, "CENTRES", context, feedback)
        supply = column_amounts(centres,
                                self.parameterAsString(parameters, "CAPACITY_FIELD", context),
                                label=centres.attrs.get("source"),
                                rows=centres["line"].tolist())
        points = self.points(parameters, "DEMAND", context, feedback, "demand")
        weight = self._field(parameters, "DEMAND_WEIGHT_FIELD", context)
        demand = (column_amounts(points, weight, label=points.attrs.get("source"),
                                 rows=points["line"].tolist())
                  if weight else np.ones(len(points)))
        if self._number(parameters, "RADIUS_KM", context) is None \
                and not self.parameterAsFile(parameters, "ROADS", context):
            raise QgsProcessingException("give the catchment: a radius in km, or a roads file "
                                         "with travel minutes")
        step(feedback, 20, "building the rule")
        rule = self.rule(parameters, context, feedback)
        step(feedback, 40, "pairs within reach")
        p, c, cost = pairs_for_rule(points, centres, rule)
        step(feedback, 70, f"{p.size} pairs within reach")
        values = accessibility(p, c, cost, demand, supply, method="2sfca", max_cost=rule.reach)
        id_col = self._field(parameters, "DEMAND_ID_FIELD", context)
        ids = points[id_col].astype(str) if id_col else points["line"]
        out = gpd.GeoDataFrame(
            {"id" if id_col else "line": ids.to_numpy(), "lat": points["lat"].to_numpy(),
             "lon": points["lon"].to_numpy(), "demand": demand,
             "centres_in_reach": np.bincount(p, minlength=len(points)),
             "accessibility": values},
            geometry=gpd.points_from_xy(points["lon"], points["lat"]), crs=adapter.WGS84)
        dest = self.sink(parameters, context, out, feedback, points=True)
        step(feedback, 100)
        return {"OUTPUT": dest}


COLOR_BY = ("status", "centers", "per-weight")


class CoverageMap(_Assessing):
    NAME, LABEL = "map", "Map: the interactive coverage map (HTML)"
    HELP = ("Writes reachplan's interactive coverage map (Leaflet, one HTML file): districts "
            "coloured by status, centres, gaps, nearest centres: `reachplan map`. Offline "
            "inlines Leaflet so that the page opens with no network.")

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        super().initAlgorithm(config)
        self.addParameter(QgsProcessingParameterEnum(
            "COLOR_BY", "Colour districts by", options=list(COLOR_BY), defaultValue=0))
        self.addParameter(QgsProcessingParameterString(
            "TITLE", "Title", optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            "OFFLINE", "Offline (Leaflet inlined, no base tiles)", defaultValue=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT", "Map", fileFilter="HTML files (*.html)"))

    def compute(self, parameters: dict[str, Any], context: QgsProcessingContext,
            feedback: QgsProcessingFeedback) -> dict[str, Any]:
        from reachplan.maps import coverage_map, write_map

        result = self.assess(parameters, context, feedback)
        page = coverage_map(result, title=self.parameterAsString(parameters, "TITLE", context)
                            or None,
                            color_by=COLOR_BY[self.parameterAsEnum(parameters, "COLOR_BY",
                                                                   context)],
                            offline=self.parameterAsBool(parameters, "OFFLINE", context),
                            type_col=self._field(parameters, "TYPE_FIELD", context))
        step(feedback, 90, "writing the page")
        path = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        write_map(page, path, overwrite=True)
        step(feedback, 100)
        return {"OUTPUT": path}


ALGORITHMS: tuple[type[_Algorithm], ...] = (Coverage, Gaps, Plan, Isochrones, Access,
                                            CoverageMap)
