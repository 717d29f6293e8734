"""The dask engine gives exactly the in-memory engine's results (LocalCluster, a few 100k points).

The reference is the in-memory engine, itself checked against brute-force pyproj in
test_demand.py; here the claim under test is "same parts, same answers" on a real cluster.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from reachplan.demand import demand_coverage
from reachplan.errors import InputError

# distributed and pyarrow come with the dev extra (reachplan[dask]); a missing one fails here,
# it is never skipped


@pytest.fixture(scope="module")
def demand_files(tmp_path_factory):
    rng = np.random.default_rng(42)
    n = 300_000
    frame = pd.DataFrame({
        "pin": [f"{i:06d}" for i in range(n)],
        "lat": np.round(rng.uniform(8, 37, n), 5),
        "lon": np.round(rng.uniform(68, 97, n), 5),
        "people": rng.random(n) * 1000,
    })
    frame.loc[[10, 123_456], "lat"] = np.nan  # skipped rows, reported by line
    root = tmp_path_factory.mktemp("demand")
    csv_path = root / "demand.csv"
    frame.to_csv(csv_path, index=False)
    folder = root / "parts"
    folder.mkdir()
    points = gpd.GeoDataFrame(frame.drop(columns=["lat", "lon"]),
                              geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                              crs="EPSG:4326").iloc[:200_000]
    for i in range(4):
        points.iloc[i * 50_000:(i + 1) * 50_000].to_parquet(folder / f"part-{i}.parquet",
                                                            row_group_size=20_000)
    return csv_path, folder


@pytest.fixture(scope="module")
def centres():
    rng = np.random.default_rng(1)
    return pd.DataFrame({"lat": rng.uniform(8, 37, 2000), "lon": rng.uniform(68, 97, 2000),
                         "name": [f"C{i:04d}" for i in range(2000)]})


@pytest.fixture(scope="module")
def districts():
    cells = [box(lon, lat, lon + 5, lat + 5)
             for lat in range(5, 40, 5) for lon in range(65, 100, 5)]
    return gpd.GeoDataFrame({"id": [f"{i:03d}" for i in range(len(cells))], "name": None,
                             "group": [f"S{i % 3}" for i in range(len(cells))]},
                            geometry=cells, crs="EPSG:4326")


def _assert_same(a, b):
    assert a.summary == b.summary
    assert a.warnings == b.warnings
    assert a.outside == b.outside
    pd.testing.assert_frame_equal(a.by_district, b.by_district)
    pd.testing.assert_frame_equal(a.by_group, b.by_group)
    if a.points is not None:
        pd.testing.assert_frame_equal(a.points, b.points)


def test_csv_dask_equals_memory(demand_files, centres, districts):
    csv_path, _ = demand_files
    opts = dict(radius_km=25.0, weight_col="people", id_col="pin", chunksize=40_000,
                districts=districts)
    memory = demand_coverage(centres, csv_path, **opts)
    calls = []
    dask = demand_coverage(centres, csv_path, engine="dask", **opts,
                           progress=lambda done, total: calls.append((done, total)))
    _assert_same(memory, dask)
    assert memory.summary["points"] == 299_998
    assert "lines 12, 123458" in memory.warnings[0]
    assert calls[-1][0] == calls[-1][1] == len(calls) > 1


def test_geoparquet_folder_dask_equals_memory(demand_files, centres, districts):
    _, folder = demand_files
    opts = dict(radius_km=25.0, weight_col="people", chunksize=40_000, keep_points=False,
                districts=districts)
    memory = demand_coverage(centres, folder, **opts)
    dask = demand_coverage(centres, folder, engine="dask", **opts)
    _assert_same(memory, dask)
    assert memory.summary["points"] == 199_998  # two points have no latitude


def test_unreachable_scheduler_is_an_input_error(centres, tmp_path, monkeypatch):
    monkeypatch.setattr("reachplan.demand.runners.CONNECT_TIMEOUT", "1s")
    path = tmp_path / "d.csv"
    path.write_text("lat,lon\n0,0\n")
    with pytest.raises(InputError, match="scheduler='tcp://127.0.0.1:9'"):
        demand_coverage(centres, path, radius_km=1.0, engine="dask",
                        scheduler="tcp://127.0.0.1:9")


def test_existing_cluster_by_address(demand_files, centres):
    from dask.distributed import LocalCluster

    csv_path, _ = demand_files
    opts = dict(radius_km=10.0, chunksize=100_000, keep_points=False)
    memory = demand_coverage(centres, csv_path, **opts)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address="127.0.0.1:0") as cluster:
        remote = demand_coverage(centres, csv_path, engine="dask",
                                 scheduler=cluster.scheduler_address, **opts)
        assert len(cluster.scheduler.workers) == 1  # the cluster outlives the call
    assert remote.summary == memory.summary


def test_travel_rule_on_dask_equals_memory(tmp_path):
    """The travel rule's point answers pickle to the workers: the same minutes on both engines
    (tiny.osm, hand-worked in tests/test_roads.py: vertex 2 is 1.113 min from vertex 1; the
    island and a point 150 km off any road are never reached)."""
    from reachplan.roads import TravelRule, load_roads

    graph = load_roads("tests/fixtures/roads/tiny.osm", profile="car", cache_dir=tmp_path)
    centres = gpd.GeoDataFrame({"name": ["w", "e"], "lat": [0.0, 0.0], "lon": [0.0, 0.03]},
                               geometry=gpd.points_from_xy([0.0, 0.03], [0.0, 0.0]), crs=4326)
    demand = pd.DataFrame({"lat": [0.0, 0.0, 1.0], "lon": [0.01, 0.5, 1.0]})
    memory = demand_coverage(centres, demand, TravelRule(graph, 3), engine="memory")
    on_dask = demand_coverage(centres, demand, TravelRule(graph, 3), engine="dask")
    assert on_dask.summary == memory.summary and memory.summary["covered"] == 1
    assert on_dask.points["nearest_min"].tolist() == memory.points["nearest_min"].tolist()
    assert memory.points["nearest_min"].iloc[0] == pytest.approx(
        6378137.0 * math.radians(0.01) / 1000.0)


def test_local_cluster_does_not_need_port_8787(demand_files, centres):
    """Another program holding distributed's default HTTP port 8787 (another engineer's
    cluster) must not make the local engine warn (an error under this suite's settings)."""
    import socket

    csv_path, _ = demand_files
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8787))
        holder.listen()
    except OSError:
        pass  # something already holds it: the same situation
    try:
        result = demand_coverage(centres, csv_path, radius_km=10.0, engine="dask",
                                 chunksize=100_000, keep_points=False)
    finally:
        holder.close()
    assert result.summary["points"] > 0
