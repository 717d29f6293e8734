"""The map legend names what the centres' colours mean and lists the service areas (issue
18.6: the capacity map's centre legend was titled "Centre type", isochrone layers had no
legend entry). On the maps fixture (tests/fixtures/maps: four centres with a ``type``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import shapely

from reachplan import maps
from reachplan.engine import Rule, assess
from reachplan.io import read_boundaries, read_points
from reachplan.maps import palette

HERE = Path(__file__).parent / "fixtures" / "maps"
JS = Path(maps.__file__).parent / "static" / "reachplan-map.js"


def _payload(result, **kwargs) -> dict:
    page = maps.map_html(maps.coverage_map(result, **kwargs))
    found = re.search(r'<script type="application/json" id="[^"]+">\n(.*?)</script>', page,
                      re.S)
    assert found
    return json.loads(found.group(1))


def _result():
    districts = read_boundaries(HERE / "grid.geojson", id_col="code", name_col="district")
    return assess(districts, read_points(HERE / "centres.csv"), Rule())


def test_type_legend_is_titled_by_its_column():
    result = _result()
    assert _payload(result)["centres"]["heading"] == "Centre type"
    result.centers["utilisation"] = ["under 50 %", "full", "full", "50–90 %"]
    assert _payload(result, type_col="utilisation")["centres"]["heading"] == \
        "Centres by utilisation"
    # the page's script titles the legend with it, not with a fixed "Centre type"
    script = JS.read_text(encoding="utf-8")
    assert "centres.heading" in script and "<h4>Centre type</h4>" not in script


def test_isochrone_bands_have_legend_entries_shortest_first():
    result = _result()
    areas = gpd.GeoDataFrame({"center": ["a", "a", "b"], "minutes": [30.0, 15.0, 30.0]},
                             geometry=[shapely.box(70.1, 10.1, 70.6, 10.6),
                                       shapely.box(70.2, 10.2, 70.4, 10.4),
                                       shapely.box(71.1, 11.1, 71.5, 11.5)], crs="EPSG:4326")
    data = _payload(result, isochrones=areas)
    assert data["isochrones"] == [
        {"label": "within 15 min by road", "color": palette.ISOCHRONES[0]},
        {"label": "within 30 min by road", "color": palette.ISOCHRONES[1]}]
    assert "isochrones" not in _payload(result)
    assert "data.isochrones" in JS.read_text(encoding="utf-8")
