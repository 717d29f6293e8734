"""A hostile-input corpus: odd but real files that once gave nonsense, hangs or tracebacks.

Each test builds a tiny input (or reads a tiny fixture) and asserts either the right answer,
worked out by hand, or a one-line InputError naming what is wrong.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from covplan.io import read_boundaries

FIXTURES = Path(__file__).parent / "fixtures"


def _points(places: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    """Town name -> (lat, lon) as a WGS84 point frame."""
    lat = [p[0] for p in places.values()]
    lon = [p[1] for p in places.values()]
    return gpd.GeoDataFrame({"name": list(places)}, geometry=gpd.points_from_xy(lon, lat),
                            crs="EPSG:4326")


def _containing(districts: gpd.GeoDataFrame, places: dict[str, tuple[float, float]]
                ) -> dict[str, list[str]]:
    pts = _points(places)
    out: dict[str, list[str]] = {name: [] for name in places}
    for _, d in districts.iterrows():
        for name, p in zip(pts["name"], pts.geometry, strict=True):
            if d.geometry.covers(p):
                out[name].append(d["id"])
    return out


# --------------------------------------------------------------------------- antimeridian
@pytest.fixture(scope="module")
def stitched() -> tuple[gpd.GeoDataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_boundaries(FIXTURES / "antimeridian" / "stitched.geojson")
    assert not caught
    return frame, frame.attrs["warnings"]


def test_rings_across_the_antimeridian_are_split_not_wrapped_round_the_world(stitched):
    frame, _ = stitched
    where = _containing(frame, {
        "Reykjavik": (64.1466, -21.9426), "Bodo": (67.2804, 14.4049),
        "Tromso": (69.6496, 18.9560), "Hobart": (-42.8821, 147.3272),
        "Cape Town": (-33.9249, 18.4241),
    })
    assert where == {name: [] for name in where}


def test_places_on_either_side_of_180_stay_in_their_district(stitched):
    frame, _ = stitched
    where = _containing(frame, {
        "Anadyr": (64.7337, 177.5089),  # west of 180
        "Provideniya": (64.4235, -173.2258),  # east of 180
        "Lavrentiya": (65.5833, -171.0),
        "Labasa": (-16.4167, 179.3833),  # Vanua Levu, west of 180
        "Vanua Levu east of 180": (-16.3, -179.9),  # inside NE's part east of the line
        "South Pole": (-90.0, 0.0),
        "Vostok Station": (-78.4644, 106.8372),
        "Antarctic interior": (-80.0, -100.0),
    })
    assert where == {
        "Anadyr": ["RU-CHU"], "Provideniya": ["RU-CHU"], "Lavrentiya": ["RU-CHU"],
        "Labasa": ["FJ"], "Vanua Levu east of 180": ["FJ"],
        "South Pole": ["AQ"], "Vostok Station": ["AQ"], "Antarctic interior": ["AQ"],
    }


def test_split_districts_keep_their_size(stitched):
    frame, _ = stitched
    # Unsplit, Chukotka spans 359.9 degrees of longitude; split, its parts lie within
    # 170..180 E and 180..169.9 W.
    chuk = frame.set_index("id").geometry["RU-CHU"]
    west = [p for p in shapely.get_parts(chuk) if p.bounds[0] > 0]
    east = [p for p in shapely.get_parts(chuk) if p.bounds[2] < 0]
    assert west and east
    assert min(p.bounds[0] for p in west) == pytest.approx(170.0082)
    assert max(p.bounds[2] for p in east) == pytest.approx(-169.89958)
    for g in frame.geometry:
        assert g.is_valid


def test_one_warning_names_the_split_features(stitched):
    _, messages = stitched
    split = [m for m in messages if "antimeridian" in m]
    assert len(split) == 1
    assert "3 polygon(s)" in split[0] and "feature 1, 2, 3" in split[0]
    assert not any("make_valid" in m for m in messages)


def test_districts_touching_180_are_not_split_or_warned(tmp_path):
    path = tmp_path / "touch.geojson"
    gpd.GeoDataFrame({"id": ["w", "e"]}, geometry=[shapely.box(179, -17, 180, -16),
                                                   shapely.box(-180, -17, -179, -16)],
                     crs="EPSG:4326").to_file(path)
    frame = read_boundaries(path)
    assert frame.attrs["warnings"] == []
    assert [round(shapely.area(g), 9) for g in frame.geometry] == [1.0, 1.0]
