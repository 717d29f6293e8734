"""Whole-world boundary files: every feature of Natural Earth's countries (shapefiles, 1:110m
and 1:10m) and of d3's world-atlas (TopoJSON, 110m and 50m) reads, and test points land in
the features an independent count puts them in (see fixtures/world/README.md).

The independent count never splits anything: from each point it follows its meridian north to
the North Pole (which no country holds) and counts the crossings with the file's own rings,
each edge taken the short way round (as world maps mean an edge from 179° to -179°). An odd
count is inside. reachplan instead splits rings at ±180 and asks GEOS in the lon/lat plane.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from reachplan.geodesy.locate import PolygonIndex
from reachplan.geodesy.polygons import nearest_to_polygons
from reachplan.io import read_boundaries

WORLD = Path(__file__).parent / "fixtures" / "world"
GEOD = Geod(ellps="WGS84")

# file -> (how to unpack it, layer, name column)
FILES = {
    "ne-110m": ("naturalearth_lowres.zip", None, "name"),
    "ne-10m": ("ne_10m_admin_0_countries_deu.tar.xz", None, "NAME"),
    "atlas-110m": ("countries-110m.json.gz", "countries", "name"),
    "atlas-50m": ("countries-50m.json.gz", "countries", "name"),
}


def _unpacked(name: str, into: Path) -> Path:
    """The readable file of a fixture: zips are read as they are, the rest unpacked."""
    src = WORLD / name
    if name.endswith(".zip"):
        return src
    if name.endswith(".gz"):
        out = into / name.removesuffix(".gz")
        with gzip.open(src) as f, open(out, "wb") as g:
            shutil.copyfileobj(f, g)
        return out
    with tarfile.open(src) as tar:
        tar.extractall(into, filter="data")
    return into / name.replace(".tar.xz", ".shp")


class World:
    def __init__(self, key: str, into: Path) -> None:
        name, self.layer, self.name_col = FILES[key]
        self.path = _unpacked(name, into)
        self.raw = gpd.read_file(self.path, layer=self.layer)  # no reachplan in between
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.frame = read_boundaries(self.path, layer=self.layer, crs="EPSG:4326",
                                         id_col=self.name_col)
        assert not caught, [str(w.message) for w in caught]
        self.messages = self.frame.attrs["warnings"]


@pytest.fixture(scope="module", params=list(FILES))
def world(request, tmp_path_factory) -> World:
    return World(request.param, tmp_path_factory.mktemp(request.param))


# --------------------------------------------------------------------------- the reference
def _edges(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ring edge (start, end) of the geometries, and the geometry owning it."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[:-1] == ring_of[1:]
    return xy[:-1][same], xy[1:][same], part_of[ring_part[ring_of[:-1][same]]]


def inside_by_meridian(geoms: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(geometry, point) -> inside, by the parity of crossings of the point's meridian north
    of it. An edge covers the longitudes from its west end (included) to its east end
    (excluded), the short way round; edges along a meridian or a pole cross no meridian."""
    a, b, owner = _edges(geoms)
    step = (b[:, 0] - a[:, 0] + 180) % 360 - 180
    keep = (step != 0) & ~((np.abs(a[:, 1]) == 90) & (a[:, 1] == b[:, 1]))
    a, b, owner, step = a[keep], b[keep], owner[keep], step[keep]
    west = np.where(step > 0, a[:, 0], b[:, 0])
    # edges by the whole degrees of longitude they cover, so each meridian tests a few
    first = np.floor(west).astype(int)
    span = np.floor(west + np.abs(step)).astype(int) - first + 1
    edge = np.repeat(np.arange(len(a)), span)
    degree = (np.repeat(first, span) + np.arange(span.sum())
              - np.repeat(np.cumsum(span) - span, span)) % 360
    order = np.argsort(degree, kind="stable")
    edge, degree = edge[order], degree[order]
    out = np.zeros((len(geoms), len(lon)), dtype=bool)
    for x in np.unique(lon):
        d = int(np.floor(x)) % 360
        e = edge[np.searchsorted(degree, d):np.searchsorted(degree, d, side="right")]
        off = (x - west[e]) % 360
        e = e[off < np.abs(step[e])]
        off = (x - a[e, 0] + 180) % 360 - 180
        cross = a[e, 1] + off / step[e] * (b[e, 1] - a[e, 1])
        for j in np.flatnonzero(lon == x):
            np.logical_xor.at(out[:, j], owner[e[cross > lat[j]]], True)
    return out


def _test_points(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A coarse grid over the globe; meridians just either side of ±180 and parallels near
    the poles; and a point inside each district as reachplan read it."""
    glon, glat = np.meshgrid(np.arange(-177.5, 180, 10), np.arange(-87.5, 90, 5))
    near = np.array([179.999, 179.99, 179.9, 179.5, 178.5])
    alon, alat = np.meshgrid(np.concatenate([near, -near]), np.arange(-89.75, 90, 0.5))
    plon, plat = np.meshgrid(np.arange(-165, 180, 30), [-89.99, -89.9, -89.5, 89.5, 89.99])
    rep = shapely.get_coordinates(frame.geometry.representative_point().array)
    lon = np.concatenate([glon.ravel(), alon.ravel(), plon.ravel(), rep[:, 0]])
    lat = np.concatenate([glat.ravel(), alat.ravel(), plat.ravel(), rep[:, 1]])
    return lon, lat


# --------------------------------------------------------------------------- the files
def test_every_feature_reads_into_a_valid_district(world):
    named = world.raw[~world.raw.geometry.is_empty & world.raw.geometry.notna()]
    assert named[world.name_col].is_unique
    assert sorted(world.frame["id"]) == sorted(named[world.name_col])
    assert world.frame.geometry.is_valid.all()
    assert not any("could not split" in m for m in world.messages)


def test_only_rings_that_jump_are_split(world):
    """Natural Earth closes Antarctica along the South Pole and cuts Russia and Fiji at
    ±180: valid in the plane, nothing to split. d3's atlas joins them across the line."""
    split = [m for m in world.messages if "antimeridian" in m]
    if world.layer is None:
        assert split == []
    else:
        jumping = world.raw[world.name_col][[
            any(np.abs(np.diff(shapely.get_coordinates(r)[:, 0])).max() > 180
                for p in shapely.get_parts(g) for r in shapely.get_rings(p))
            for g in world.raw.geometry]]
        assert sorted(jumping) == ["Antarctica", "Fiji", "Russia"]
        rows = ", ".join(str(i + 1) for i in sorted(jumping.index))
        assert len(split) == 1 and f"(feature {rows})" in split[0]


def test_points_are_in_the_districts_an_independent_count_finds(world):
    lon, lat = _test_points(world.frame)
    expected = inside_by_meridian(np.asarray(world.raw.geometry.array), lon, lat)
    ids = world.frame["id"].to_numpy()
    geoms = np.asarray(world.frame.geometry.array)
    got = np.zeros((len(geoms), len(lon)), dtype=bool)
    poly, pt = shapely.STRtree(shapely.points(lon, lat)).query(geoms, predicate="intersects")
    got[poly, pt] = True
    # rows of the reference in the frame's order (ids are the names)
    row = {name: i for i, name in enumerate(world.raw[world.name_col])}
    expected = expected[[row[i] for i in ids]]
    wrong = np.flatnonzero((got != expected).any(axis=0))
    assert wrong.size == 0, [(lon[j], lat[j], ids[got[:, j]].tolist(),
                              ids[expected[:, j]].tolist()) for j in wrong[:10]]
    # presence counts per district, and the point-location index the engine uses
    assert got.sum(axis=1).tolist() == expected.sum(axis=1).tolist()
    first = np.where(expected.any(axis=0), expected.argmax(axis=0), len(geoms))
    assert PolygonIndex(geoms, grid_from=0).locate(lon, lat).tolist() == first.tolist()
    assert expected.any(axis=0).sum() > 500  # the test points do land in countries


# place -> (lat, lon, country); None: in no country. Towns from GeoNames / Wikipedia, inland
# enough to be inside at 1:110m; other points read off an atlas.
PLACES = {
    "Moscow": (55.7558, 37.6173, "Russia"),
    "Chukotka, west of 180": (67.0, 178.0, "Russia"),
    "Chukotka, just west of 180": (67.0, 179.5, "Russia"),
    "Provideniya, east of 180": (64.4235, -173.2258, "Russia"),
    "Wrangel Island, east of 180": (71.25, -179.5, "Russia"),
    "Wrangel Island, west of 180": (71.25, 179.5, "Russia"),
    "Viti Levu": (-17.8, 178.0, "Fiji"),
    "Labasa": (-16.4167, 179.3833, "Fiji"),
    "Washington": (38.9072, -77.0369, "United States of America"),
    "Fairbanks": (64.8378, -147.7164, "United States of America"),
    "Ottawa": (45.4215, -75.6972, "Canada"),
    "Brasilia": (-15.7939, -47.8828, "Brazil"),
    "Canberra": (-35.2809, 149.13, "Australia"),
    "New Delhi": (28.6139, 77.209, "India"),
    "Ulaanbaatar": (47.8864, 106.9057, "Mongolia"),
    "Madrid": (40.4168, -3.7038, "Spain"),
    "Vostok Station": (-78.4644, 106.8372, "Antarctica"),
    "near the South Pole": (-89.5, 30.0, "Antarctica"),
    "Antarctica under 180": (-85.0, 179.9, "Antarctica"),
    "Antarctica under -180": (-85.0, -179.9, "Antarctica"),
    "North Pacific on 180": (40.0, 179.9, None),
    "South Pacific": (-30.0, -140.0, None),
    "Atlantic": (0.0, -30.0, None),
    "Arctic Ocean": (89.5, 0.0, None),
    "Southern Ocean": (-60.0, 179.9, None),
}
ALIASES = {"United States": "United States of America"}  # NE's 10m name


def test_places_are_in_their_countries(world):
    names = np.array([ALIASES.get(n, n) for n in world.frame["id"]], dtype=object)
    geoms = np.asarray(world.frame.geometry.array)
    where = {}
    for place, (lat, lon, _) in PLACES.items():
        inside = shapely.intersects(geoms, shapely.Point(lon, lat))
        where[place] = names[inside].tolist()
    assert where == {place: [c] if c else [] for place, (_, _, c) in PLACES.items()}


def _short_way_edges(geom: shapely.Geometry, lon: float, lat: float, reach_m: float
                     ) -> np.ndarray:
    """Points at most 0.0005° apart along the file's own edges (the short way round) that may
    lie within ``reach_m`` of (lon, lat), in -180..180."""
    a, b, _ = _edges(np.array([geom]))
    step = (b[:, 0] - a[:, 0] + 180) % 360 - 180
    dlat = reach_m / 110_000 + 0.5
    dlon = min(180.0, dlat / max(np.cos(np.radians(min(89.0, abs(lat) + dlat))), 1e-3))
    near = ((np.minimum(a[:, 1], b[:, 1]) < lat + dlat)
            & (np.maximum(a[:, 1], b[:, 1]) > lat - dlat)
            & (np.abs((a[:, 0] - lon + 180) % 360 - 180) < dlon + np.abs(step))
            & ((step != 0) | (a[:, 1] != b[:, 1])))  # 180 -> -180: no length to scan
    lines = shapely.linestrings(np.stack([a[near], a[near] + np.column_stack(
        [step[near], b[near, 1] - a[near, 1]])], axis=1))
    xy = shapely.get_coordinates(shapely.segmentize(lines, 0.0005))
    return np.column_stack([(xy[:, 0] + 180) % 360 - 180, xy[:, 1]])


@pytest.mark.parametrize(("country", "lat", "lon"), [
    ("Russia", 66.0, -168.5),  # Bering Strait, east of Chukotka
    ("Russia", 64.0, 179.9),  # Gulf of Anadyr, on the line
    ("Fiji", -16.0, -179.5),  # north-east of Vanua Levu, across the line
    ("Fiji", -19.5, 179.99),
    ("Antarctica", -65.0, 180.0),  # the Southern Ocean, on the line
    ("Antarctica", -60.0, -179.0),
    ("United States of America", 60.0, -172.0),  # Bering Sea
    ("United States of America", 52.5, 179.5),  # by the Aleutians west of 180
])
def test_distances_across_the_line_match_a_scan_of_the_files_edges(world, country, lat, lon):
    names = [ALIASES.get(n, n) for n in world.frame["id"]]
    district = world.frame.geometry.iloc[names.index(country)]
    got = nearest_to_polygons([district], [shapely.Point(lon, lat)])[1][0]
    raw = world.raw.geometry[world.raw[world.name_col].map(lambda n: ALIASES.get(n, n))
                             == country].iloc[0]
    # edges that may be nearer than reachplan says: a wrong figure either way fails
    edge = _short_way_edges(raw, lon, lat, reach_m=got)
    n = len(edge)
    scan = GEOD.inv(np.full(n, lon), np.full(n, lat), edge[:, 0], edge[:, 1])[2].min()
    assert 0 < got <= scan + 1
    assert got == pytest.approx(scan, abs=60)  # the scan's points are < 60 m apart


# --------------------------------------------------------------------------- the rule itself
def _read(tmp_path: Path, *rings: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    path = tmp_path / "b.geojson"
    gpd.GeoDataFrame({"id": [f"r{i}" for i in range(len(rings))]},
                     geometry=[shapely.Polygon(r) for r in rings], crs="EPSG:4326"
                     ).to_file(path)
    return read_boundaries(path)


def test_a_square_across_180_is_split_into_its_two_halves(tmp_path):
    frame = _read(tmp_path, [(179, -1), (-179, -1), (-179, 1), (179, 1)])
    g = frame.geometry.iloc[0]
    assert sorted(p.bounds for p in shapely.get_parts(g)) == [
        (-180, -1, -179, 1), (179, -1, 180, 1)]
    inside = shapely.intersects(g, shapely.points([179.5, -179.5, 0, 178.5], [0, 0, 0, 0]))
    assert inside.tolist() == [True, True, False, False]
    assert any("split 1 polygon(s)" in m for m in frame.attrs["warnings"])


def test_a_ring_closed_along_the_pole_is_valid_as_it_is(tmp_path):
    cap = [(-180, -80), (0, -70), (180, -80), (180, -90), (-180, -90)]
    frame = _read(tmp_path, cap)
    assert frame.attrs["warnings"] == []
    assert shapely.equals(frame.geometry.iloc[0], shapely.Polygon(cap))


def test_a_polar_cap_stored_without_its_pole_is_closed_along_it(tmp_path):
    # once round the South Pole at 80 S, jumping from 120 to -120 (the short way, 120°)
    frame = _read(tmp_path, [(0, -80), (120, -80), (-120, -80)])
    g = frame.geometry.iloc[0]
    assert shapely.intersects(g, shapely.points([0, 179.9, -179.9, 60], [-89.9, -85, -85, -85])
                              ).all()
    assert not shapely.intersects(g, shapely.points([0, 179.9], [-70, 0])).any()


@settings(max_examples=40, deadline=None)
@given(st.floats(150, 210), st.floats(-70, 70),
       st.lists(st.tuples(st.floats(0, 1), st.floats(1, 15)), min_size=3, max_size=10),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_any_star_shaped_ring_stored_across_180_is_split_where_it_lies(
        cx, cy, arms, clockwise, seed):
    """A polygon star-shaped round (cx, cy) with longitudes taken on past 180, stored as world
    maps do (each longitude back in -180..180, either winding); a point is inside the split
    district exactly when it is inside the polygon drawn 360° further east or not at all."""
    n = len(arms)
    angle = (np.arange(n) + np.array([a for a, _ in arms]) * 0.8) * 2 * np.pi / n
    radius = np.array([r for _, r in arms])
    xy = np.column_stack([cx + radius * np.cos(angle), cy + radius * np.sin(angle)])
    drawn = shapely.Polygon(xy)
    stored = np.column_stack([(xy[:, 0] + 180) % 360 - 180, xy[:, 1]])
    with tempfile.TemporaryDirectory() as tmp:
        frame = _read(Path(tmp), [tuple(p) for p in (stored[::-1] if clockwise else stored)])
    assert not any("could not split" in m for m in frame.attrs["warnings"])
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = drawn.bounds
    lon, lat = rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)
    pts = shapely.points(lon, lat)
    clear = shapely.distance(drawn.boundary, pts) > 1e-7  # no answer hangs on a rounding
    expected = shapely.intersects(drawn, pts)
    got = shapely.intersects(frame.geometry.iloc[0],
                             shapely.points((lon + 180) % 360 - 180, lat))
    assert (got == expected)[clear].all()


@settings(max_examples=40, deadline=None)
@given(st.floats(-180, 180), st.booleans(), st.booleans(),
       st.lists(st.tuples(st.floats(0, 1), st.floats(50, 85)), min_size=4, max_size=12),
       st.integers(0, 2**32 - 1))
def test_any_ring_once_round_a_pole_holds_that_pole(start, south, westward, arms, seed):
    """A ring once round a pole with no pole in it (vertices at rising longitudes from
    ``start``, less than 180° apart, each back in -180..180, either way round): inside is what
    lies poleward of it, by the ring's latitude interpolated along longitude."""
    n = len(arms)
    lon = start + (np.arange(n) + np.array([a for a, _ in arms]) * 0.8) * 360 / n
    lat = np.array([d for _, d in arms]) * (-1 if south else 1)
    stored = list(zip((lon + 180) % 360 - 180, lat, strict=True))
    with tempfile.TemporaryDirectory() as tmp:
        frame = _read(Path(tmp), stored[::-1] if westward else stored)
    rng = np.random.default_rng(seed)
    plon, plat = rng.uniform(-180, 180, 400), rng.uniform(-90, 90, 400)
    edge = np.interp((plon - lon[0]) % 360 + lon[0], np.append(lon, lon[0] + 360),
                     np.append(lat, lat[0]))
    clear = np.abs(plat - edge) > 1e-7
    expected = plat < edge if south else plat > edge
    got = shapely.intersects(frame.geometry.iloc[0], shapely.points(plon, plat))
    assert (got == expected)[clear].all()


WINDS_TWICE = [(lon, -60 - k * 0.5) for k, lon in enumerate([0, 90, 179, -91, -1, 89, 178, -92])]


def test_a_ring_that_cannot_be_split_is_repaired_and_named(tmp_path):
    frame = _read(tmp_path, WINDS_TWICE, [(10, 10), (11, 10), (11, 11)])
    messages = frame.attrs["warnings"]
    assert any("could not split 1 polygon(s)" in m and "(feature 1)" in m for m in messages)
    assert frame.geometry.is_valid.all() and len(frame) == 2


def test_the_cli_warns_on_one_line_and_goes_on(runner, tmp_path):
    from reachplan.cli.main import cli

    path = tmp_path / "b.geojson"
    gpd.GeoDataFrame({"id": ["wound", "plain"]},
                     geometry=[shapely.Polygon(WINDS_TWICE), shapely.box(10, 10, 11, 11)],
                     crs="EPSG:4326").to_file(path)
    centres = tmp_path / "c.csv"
    centres.write_text("name,lat,lon\nc,10.5,10.5\n")
    res = runner.invoke(cli, ["coverage", str(path), str(centres), "--radius-km", "10"])
    assert res.exit_code == 0, res.output
    line = [m for m in res.stderr.splitlines() if "could not split" in m]
    assert len(line) == 1 and str(path) in line[0] and "(feature 1)" in line[0]
    assert "Traceback" not in res.output


def test_a_topojson_with_several_layers_asks_for_one(runner, tmp_path):
    from reachplan.cli.main import cli
    from reachplan.errors import InputError

    path = _unpacked("countries-110m.json.gz", tmp_path)
    with pytest.raises(InputError, match=r"has 2 layers \(countries, land\); choose one with "
                                         r"layer") as caught:
        read_boundaries(path, crs="EPSG:4326")
    assert caught.value.params == ("layer",)
    centres = tmp_path / "c.csv"
    centres.write_text("name,lat,lon\nSuva,-18.1416,178.4419\n")
    res = runner.invoke(cli, ["coverage", str(path), str(centres), "--boundaries-crs",
                              "EPSG:4326"])
    assert res.exit_code == 2 and "choose one with --layer" in res.stderr
    res = runner.invoke(cli, ["coverage", str(path), str(centres), "--boundaries-crs",
                              "EPSG:4326", "--layer", "countries", "--radius-km", "100"])
    assert res.exit_code == 0, res.output
    assert "split 3 polygon(s)" in res.stderr and "Traceback" not in res.output
