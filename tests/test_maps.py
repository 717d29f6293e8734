"""Maps: assertions on the rendered HTML of tiny fixtures (tests/fixtures/maps).

The fixture is a 3x3 grid of 1-degree squares (lon 70-73, lat 10-13), ids 001-009 row by row
from the south-west, rows grouped South / Middle / North, weight 100,000 x id. Four centres sit
in 001, 005, 007 and 009, so exactly those four districts are covered (by hand).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Polygon

from reachplan import maps
from reachplan.engine import Rule, assess
from reachplan.errors import InputError
from reachplan.io import read_boundaries, read_points
from reachplan.maps import geometry
from reachplan.maps import page as map_page

HERE = Path(__file__).parent / "fixtures" / "maps"
XSS = "<img src=x onerror=alert(1)>"


def _result(rule: Rule | None = None, *, weight: bool = True):
    districts = read_boundaries(HERE / "grid.geojson", id_col="code", name_col="district",
                                group_col="state", weight_col="pop" if weight else None)
    centres = read_points(HERE / "centres.csv")
    return assess(districts, centres, rule or Rule(), type_col="type")


@pytest.fixture(scope="module")
def result():
    return _result()


def _payload(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="[^"]+">\n(.*?)</script>', page, re.S)
    assert found, "no data block in the page"
    return json.loads(found.group(1))


def _decode(payload: dict) -> tuple[list, list]:
    """An independent reader of the delta format: districts as lists of (lon, lat) rings."""
    x = y = 0
    scale = payload["scale"]
    shapes, rings = [], []
    for district in payload["shapes"]:
        polys = []
        for poly in district:
            out = []
            for ring in poly:
                pts = []
                for dx, dy in zip(ring[::2], ring[1::2], strict=True):
                    x, y = x + dx, y + dy
                    pts.append((x / scale, y / scale))
                out.append(pts)
                rings.append(pts)
            polys.append(out)
        shapes.append(polys)
    return shapes, rings


def _html(result, **kwargs) -> str:
    return maps.map_html(maps.coverage_map(result, **kwargs))


def test_layers_legend_and_summary(result):
    page = _html(result, title="Grid test")
    for name in ("Districts: coverage", "Gaps (not covered)", "Group outlines", "Centres (4)"):
        assert f'"{name}"' in page or name in page
    data = _payload(page)
    ids = data["districts"]["id"]
    assert ids == [f"{k:03d}" for k in range(1, 10)]
    covered = {i for i, c in zip(ids, data["districts"]["covered"], strict=True) if c}
    assert covered == {"001", "005", "007", "009"}
    assert [c["label"] for c in data["classes"]] == ["covered", "gap (not covered)"]
    assert data["districts"]["colour_class"] == [0, 1, 1, 1, 0, 1, 0, 1, 0]
    # summary: 4 of 9 = 44.44 %; weight (1+5+7+9)/45 = 48.89 %
    assert "Districts covered: 4 of 9 (44.44%)" in data["summary"][0]
    assert "48.89%" in data["summary"][1]
    assert "Rule: at least 1 centre inside the district" in data["summary"]
    assert any(line.endswith("grid.geojson") for line in data["summary"])
    assert [t["label"] for t in data["centres"]["types"]] == ["direct", "partner", "van"]
    assert "<title>Grid test</title>" in page


def test_rule_in_summary_names_min_centers():
    page = _html(_result(Rule.radius(25, min_centers=2)))
    assert "Rule: at least 2 centres within 25 km (geodesic)" in page


def test_every_input_text_is_escaped(result):
    page = _html(result, title=XSS)
    assert XSS not in page
    assert "<script>alert(2)" not in page
    assert "<title>&lt;img src=x onerror=alert(1)&gt;</title>" in page
    data = _payload(page)
    names = data["centres"]["data"][data["centres"]["columns"].index("name")]
    assert "&lt;img src=x onerror=alert(1)&gt;" in names
    assert "Gamma &amp; &quot;Sons&quot;" in names
    assert data["districts"]["name"][4] == "Echo &lt;script&gt;alert(2)&lt;/script&gt;"
    assert data["groups"] == ["Middle", "North &quot;&amp;&quot; co", "South"]
    assert data["title"] == "&lt;img src=x onerror=alert(1)&gt;"


def test_same_inputs_give_identical_html(result):
    first, second = _html(result), _html(_result())
    assert first == second
    assert not re.search(r"[0-9a-f]{32}", first), "a random folium id is left"


def test_geometry_round_trips_and_group_outlines(result):
    data = _payload(_html(result, simplify_m=0))
    shapes, rings = _decode(data)
    # district 001 is the square lon 70-71, lat 10-11 (closing point dropped)
    assert sorted(shapes[0][0][0]) == [(70, 10), (70, 11), (71, 10), (71, 11)]
    # outlines: the grid's outer edge (12 unit edges) plus the two lines between rows
    # (2 x 3 unit edges): 18 unit edges in all, each drawn once
    runs = np.array(data["group_outlines"]).reshape(-1, 3)
    total = 0.0
    for ring, first, count in runs:
        pts = rings[ring]
        for k in range(count):
            (x0, y0), (x1, y1) = pts[(first + k) % len(pts)], pts[(first + k + 1) % len(pts)]
            total += math.hypot(x1 - x0, y1 - y0)
    assert total == pytest.approx(18.0)


@pytest.mark.parametrize("color_by, expected", [
    # centres inside: 1 in 001, 005, 007, 009 -> class "1"; others "0"
    ("centers", [1, 0, 0, 0, 1, 0, 1, 0, 1]),
])
def test_colour_by_centres(result, color_by, expected):
    data = _payload(_html(result, color_by=color_by))
    assert data["districts"]["colour_class"] == expected
    assert [c["label"] for c in data["classes"]][:2] == ["0", "1"]


def test_colour_by_per_weight(result):
    data = _payload(_html(result, color_by="per-weight"))
    # centres per 100,000: 001 -> 1/100k*100k = 1.0; 005 -> 0.2; 007 -> 1/7; 009 -> 1/9
    labels = [c["label"] for c in data["classes"]]
    assert labels[0] == "0" and labels[-1] == "no weight"
    cls = data["districts"]["colour_class"]
    assert [cls[i] for i in (1, 2, 3, 5, 7)] == [0] * 5
    assert cls[0] == max(cls[i] for i in (0, 4, 6, 8))  # the highest rate, the top class
    assert cls[8] == min(cls[i] for i in (0, 4, 6, 8))  # 1/9 is the lowest positive rate


def test_per_weight_needs_a_weight():
    with pytest.raises(InputError, match="weight_col") as excinfo:
        maps.coverage_map(_result(weight=False), color_by="per-weight")
    assert "--" not in str(excinfo.value)  # the library names parameters, not CLI options


def test_radius_rings_need_a_radius_rule(result):
    with pytest.raises(InputError, match="show_radius") as excinfo:
        maps.coverage_map(result, show_radius=True)
    assert "--" not in str(excinfo.value)
    page = _html(_result(Rule.radius(25)), show_radius=True)
    assert "Radius 25 km" in page
    assert _payload(page)["ring_m"] == 25000


def test_sites_and_before_after(result):
    before = _result(Rule(min_centers=2))  # nothing covered before
    sites = read_points(HERE / "centres.csv").iloc[:2]
    page = _html(result, sites=sites, before=before)
    assert "Before: districts" in page and "After: coverage" in page
    assert "Proposed sites (2)" in page
    data = _payload(page)
    assert data["before"]["covered"] == [0] * 9
    assert "&lt;img src=x onerror=alert(1)&gt;" in data["sites"]["data"][1]


def test_online_map_links_leaflet_and_offline_map_inlines_it(result):
    online = _html(result)
    assert 'src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"' in online
    assert "jquery" not in online and "bootstrap" not in online
    offline = _html(result, offline=True)
    assert not re.search(r"<(script|link)[^>]+(src|href)=", offline)
    assert "tile.openstreetmap" not in offline
    assert "L.markerClusterGroup" in offline and "Leaflet" in offline
    assert "url(images/" not in offline
    with_tiles = _html(result, offline=True, tiles="http://localhost:8080/{z}/{x}/{y}.png")
    assert "http://localhost:8080/{z}/{x}/{y}.png" in with_tiles


def test_offline_assets_from_a_named_folder(result, tmp_path):
    for name in map_page._OFFLINE_FILES:
        (tmp_path / name).write_text(f"/* local {name} */", encoding="utf-8")
    page = _html(result, offline=True, assets=tmp_path)
    assert "/* local leaflet.js */" in page and "/* local MarkerCluster.css */" in page
    (tmp_path / "leaflet.js").unlink()
    with pytest.raises(InputError, match="leaflet.js"):
        maps.coverage_map(result, offline=True, assets=tmp_path)


def test_fixture_map_is_small(result):
    # everything but Leaflet itself: script, styles, data for 9 districts and 4 centres
    assert len(_html(result).encode()) < 30_000


def test_write_map_refuses_to_overwrite(result, tmp_path):
    target = tmp_path / "map.html"
    m = maps.coverage_map(result)
    maps.write_map(m, target)
    before = target.read_bytes()
    with pytest.raises(InputError, match="pass overwrite=True") as err:
        maps.write_map(m, target)
    assert err.value.params == ("overwrite",)
    maps.write_map(m, target, overwrite=True)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_png_is_written_and_reproducible(result, tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    maps.write_png(result, a, title="Grid")
    maps.write_png(result, b, title="Grid")
    assert a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert a.read_bytes() == b.read_bytes()


def _zigzag_pair(lat: float, amplitude_m: float, step_m: float, n: int = 40):
    """Two rectangles sharing a north-south zigzag edge at lon 0 (zigzag east-west)."""
    dlat = step_m / 111_195.0
    dlon = amplitude_m / (111_195.0 * math.cos(math.radians(lat)))
    edge = [((dlon if k % 2 else 0.0), lat + k * dlat) for k in range(n + 1)]
    top, bottom = edge[-1][1], edge[0][1]
    west = Polygon([(-0.5, bottom), *edge, (-0.5, top)])
    east = Polygon([(0.5, bottom), (0.5, top), *reversed(edge)])
    return np.array([west, east], dtype=object)


def test_simplification_is_in_metres_and_keeps_neighbours_joined():
    # a 300 m zigzag at latitude 60: a 3 km tolerance removes it, a 30 m one keeps it
    pair = _zigzag_pair(60.0, amplitude_m=300, step_m=300)
    kept = geometry._simplify_coverage(pair, 30)
    gone = geometry._simplify_coverage(pair, 3000)
    assert shapely.get_num_coordinates(kept).sum() == shapely.get_num_coordinates(pair).sum()
    assert shapely.get_num_coordinates(gone).sum() < 16
    for simple in (kept, gone):
        assert shapely.coverage_is_valid(simple)  # no overlaps
        union = shapely.union_all(simple)
        assert union.geom_type == "Polygon" and len(union.interiors) == 0  # no gaps
        assert union.area == pytest.approx(sum(g.area for g in simple), rel=1e-9)
        assert union.area == pytest.approx(shapely.union_all(pair).area, rel=1e-3)


def test_local_frame_measures_metres_from_its_centre():
    # distance from the centre = the geodesic distance (pyproj.Geod between two points)
    lon = np.array([80.0, 85.0, 72.0, 95.0])
    lat = np.array([22.0, 30.0, 10.0, 25.0])
    to_metres, to_degrees = geometry._local_frame(80.0, 22.0)
    x, y = to_metres.transform(lon, lat)
    geodesic = pyproj.Geod(ellps="WGS84").inv(np.full(4, 80.0), np.full(4, 22.0), lon, lat)[2]
    assert np.allclose(np.hypot(x, y), geodesic, rtol=1e-9, atol=1e-3)
    back_lon, back_lat = to_degrees.transform(x, y)
    assert np.allclose(back_lon, lon, atol=1e-9) and np.allclose(back_lat, lat, atol=1e-9)


def test_decimals_follow_the_tolerance():
    # the grid step (111,320 m / 10**d) is at most a fifth of the tolerance, 3 to 5 decimals
    assert geometry._decimals(1000) == 3
    assert geometry._decimals(500) == 4
    assert geometry._decimals(20) == 5
    assert geometry._decimals(0) == 5


def test_india_default_map_is_at_most_1_5_mb():
    # issue 3: the India default map (777 districts, 2,000 centres) is at most 1.5 MB of HTML
    from reachplan.datasets import india_districts_path, india_sample_centres_path

    districts = read_boundaries(india_districts_path(), id_col="lgd_code", name_col="district",
                                group_col="state", weight_col="population_est")
    result = assess(districts, read_points(india_sample_centres_path()), Rule(),
                    type_col="type")
    page = _html(result, title="India")
    assert len(page.encode()) <= 1_500_000
    data = _payload(page)
    assert len(data["districts"]["id"]) == len(districts) and len(data["centres"]["lat"]) == 2000
    assert all(data["shapes"]), "every district keeps a shape"


def test_india_coarse_level_keeps_every_district_with_fewer_vertices():
    # issue 13: at country zoom the page draws a coarser level (4 km tolerance instead of 1 km)
    from reachplan.datasets import india_districts_path

    districts = read_boundaries(india_districts_path(), id_col="lgd_code")
    result = assess(districts, read_points(HERE / "centres.csv"), Rule())
    data = _payload(_html(result))
    coarse = data["coarse"]
    # one pixel at zoom z is 156,543 m * cos(lat) / 2**z; India's bounding box is centred near
    # 22 N: zoom 5 -> ~4.5 km per pixel (>= 4 km tolerance), zoom 6 -> ~2.3 km (< 4 km)
    assert coarse["max_zoom"] == 5
    fine_shapes, _ = _decode(data)
    coarse_shapes, _ = _decode(coarse)
    assert all(c for c in coarse_shapes) and len(coarse_shapes) == len(fine_shapes)
    fine_n = sum(len(ring) for d in fine_shapes for poly in d for ring in poly)
    coarse_n = sum(len(ring) for d in coarse_shapes for poly in d for ring in poly)
    assert coarse_n < 0.4 * fine_n
    # neighbours stay joined: the districts neither overlap nor open gaps, beyond what rounding
    # to the coordinate grid does at the fine level too (ratios of areas of the same shapes)
    def polygons(shapes):
        return np.array([shapely.make_valid(shapely.MultiPolygon(
            [shapely.Polygon(p[0], p[1:]) for p in d])) for d in shapes], dtype=object)

    fine, rough = polygons(fine_shapes), polygons(coarse_shapes)
    union = shapely.union_all(rough).area
    assert shapely.area(rough).sum() / union == pytest.approx(1, abs=1e-3)  # no overlaps
    assert union / shapely.union_all(fine).area == pytest.approx(1, abs=5e-3)  # same land
    def holes(polys):
        return shapely.get_num_interior_rings(shapely.get_parts(shapely.union_all(polys))).sum()

    assert holes(rough) <= holes(fine)  # no new gaps between neighbours


def test_small_maps_have_no_coarse_level(result):
    # the 3x3 grid's squares cannot be simplified: a second level would save nothing
    assert _payload(_html(result))["coarse"] is None


def _png_header(data: bytes) -> tuple[int, int, float]:
    """Width, height (IHDR) and dots per inch (pHYs, pixels per metre) read from PNG bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    at = data.index(b"pHYs") + 4
    per_metre = int.from_bytes(data[at:at + 4], "big")
    return width, height, per_metre * 0.0254


def test_png_takes_a_size_in_pixels_and_a_dpi(result, tmp_path):
    path = maps.write_png(result, tmp_path / "a.png", size=(1600, 1200), dpi=150)
    width, height, dpi = _png_header(path.read_bytes())
    assert (width, height) == (1600, 1200)
    assert dpi == pytest.approx(150, abs=0.1)


def test_png_title_with_dollars_is_text_not_tex(result, tmp_path):
    # issue 8: matplotlib read '$...$' as mathtext and failed on a title such as this one
    title = "Budget $5M $\\frac{1}{0 $ and a lone $"
    path = maps.write_png(result, tmp_path / "a.png", title=title)
    assert _png_header(path.read_bytes())[0] == 1000


def test_png_legend_sits_beside_the_map():
    # issue 8: the legend covered India's southern tip; it now lies outside the map's axes
    from reachplan.datasets import india_districts_path
    from reachplan.maps import png

    districts = read_boundaries(india_districts_path(), id_col="lgd_code")
    result = assess(districts, read_points(HERE / "centres.csv"), Rule())
    fig = png._figure(result, title="India", color_by="status", simplify_m=None, size=None,
                      dpi=100)
    fig.canvas.draw()
    ax = fig.axes[0]
    legend, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.x0 >= frame.x1  # wholly to the right of the map
    assert legend.x1 <= fig.bbox.x1  # and inside the picture


def test_offline_assets_are_looked_for_only_where_expected(result, tmp_path):
    # issue 8: --assets / searched the whole disk; only the folder, dist/ and the npm layout
    # (node_modules/<package>/dist) are looked at now
    for name in map_page._OFFLINE_FILES:
        package = "leaflet.markercluster" if "luster" in name else "leaflet"
        target = tmp_path / "node_modules" / package / "dist" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"/* npm {name} */", encoding="utf-8")
    assert "/* npm leaflet.js */" in _html(result, offline=True, assets=tmp_path)
    deep = tmp_path / "deep" / "down"
    deep.mkdir(parents=True)
    for name in map_page._OFFLINE_FILES:
        (deep / name).write_text("/* too deep */", encoding="utf-8")
    with pytest.raises(InputError, match="leaflet.css"):
        maps.coverage_map(result, offline=True, assets=tmp_path / "deep")


def test_travel_rule_map_gives_minutes_share_and_the_rule(tiny_travel, tmp_path):
    """tiny.osm, car, T = 3, centre "west" on vertex 1 (L = 1113.195 m between vertices):
    A holds the centre: 0 min, vertices 1 (0) and 2 (L at 60 km/h = 1.113 min) within T.
    B: vertex 3 at 2L at 60 km/h = 2.226 min; 4 to 7 unreachable (3 -> 4 is one-way the
    other way): 1 of 5 vertices = 20 %. C, the island: no centre by road, 0 of 2 vertices.
    D: no vertex inside; vertex 2 (1.113 min) plus the walk north to D's edge at 5 km/h."""
    geod = pyproj.Geod(ellps="WGS84")
    walk_m = geod.inv(0.01, 0.0, 0.01, 0.003)[2]
    leg = 1113.19490793 / 1000 / 60 * 60
    page = _html(tiny_travel, simplify_m=0)
    data = _payload(page)
    travel = data["cost"]
    assert (travel["reach"], travel["unit"], travel["label"]) == (3.0, "min", "min by road")
    assert travel["nearest"] == [0.0, round(2 * leg, 2), None,
                                 round(leg + walk_m / 1000 / 5 * 60, 2)]
    assert travel["road_nodes_within_pct"] == [100.0, 20.0, 0.0, None]
    assert travel["centre"] == ["west", "west", None, "west"]  # the only centre
    assert data["districts"]["covered"] == [1, 1, 0, 0]
    rule = "at least 1 centre within 3 min by road (car, tiny.osm)"
    assert data["rule"] == rule
    assert f"<title>Coverage: {rule}</title>" in page
    # other rules carry no minutes, and say what covered means too
    grid = _payload(_html(_result(Rule.radius(25))))
    assert "cost" not in grid
    assert grid["rule"] == "at least 1 centre within 25 km (geodesic)"
    # the picture's legend says it as well
    from reachplan.maps import png

    fig = png._figure(tiny_travel, title=None, color_by="status", simplify_m=None, size=None,
                      dpi=100)
    assert "within 3 min by road" in " ".join(fig.axes[0].get_legend().get_title()
                                               .get_text().split())
