"""The synthetic demo borough: determinism, geometry and the planted processes."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

from hotspots.demo import DemoParams, DemoTruth, generate_demo

INCIDENT_HEADER = ["ref", "offence", "committed_from", "committed_to", "easting", "northing", "location"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> DemoTruth:
    return generate_demo(tmp_path_factory.mktemp("demo_a"))


@pytest.fixture(scope="module")
def wards(demo):
    return gpd.read_file(demo.paths["wards"])


@pytest.fixture(scope="module")
def incidents(demo):
    df = pd.read_csv(demo.paths["incidents"])
    df["t0"] = pd.to_datetime(df["committed_from"], format="%Y-%m-%d %H:%M")
    df["t1"] = pd.to_datetime(df["committed_to"], format="%Y-%m-%d %H:%M")
    return df


def _in_disc(df, x, y, r):
    return np.hypot(df["easting"] - x, df["northing"] - y) <= r


def test_regenerating_gives_byte_identical_files(demo, tmp_path):
    again = generate_demo(tmp_path / "b")
    assert set(demo.paths) == set(again.paths)
    for key, path in demo.paths.items():
        assert path.read_bytes() == again.paths[key].read_bytes(), key
    total = sum(p.stat().st_size for p in demo.paths.values())
    assert total < 8 * 1024 * 1024


def test_a_different_seed_gives_a_different_borough(demo, tmp_path):
    other = generate_demo(tmp_path / "c", DemoParams(seed=7))
    assert other.paths["incidents"].read_bytes() != demo.paths["incidents"].read_bytes()


def test_bad_parameters_are_refused():
    from hotspots.errors import ConfigError

    with pytest.raises(ConfigError, match="nr_branching"):
        DemoParams(nr_branching=1.2)
    with pytest.raises(ConfigError, match="emerging_start"):
        DemoParams(emerging_start="2022-01-01")


def test_wards_tile_the_borough(demo, wards):
    assert str(wards.crs) == "EPSG:27700"
    assert len(wards) == 20
    assert list(wards["ward_code"]) == [f"DM{i:04d}" for i in range(1, 21)]
    assert wards["ward_name"].is_unique
    assert wards.is_valid.all() and (wards.geom_type == "Polygon").all()
    geoms = list(wards.geometry)
    overlap = sum(geoms[i].intersection(geoms[j]).area for i in range(20) for j in range(i + 1, 20))
    assert overlap < 1.0  # m², i.e. only rounding slivers at most
    union = shapely.union_all(geoms)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert abs(union.area - wards.area.sum()) < 1.0
    assert 80e6 <= union.area <= 90e6
    # irregular outline: clearly not its own bounding rectangle
    assert union.area / shapely.envelope(union).area < 0.85


def test_geojson_layers_and_tables(demo, wards):
    for key in ("wards", "roads", "town_centres"):
        text = demo.paths[key].read_text()
        doc = json.loads(text)
        assert doc["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::27700"
        assert json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n" == text
    roads = gpd.read_file(demo.paths["roads"])
    assert str(roads.crs) == "EPSG:27700"
    assert set(roads["road_class"]) == {"motorway", "a_road", "b_road", "minor"}
    assert roads["road_id"].is_unique
    boundary = shapely.union_all(list(wards.geometry))
    for g in roads.loc[roads["road_class"] == "a_road", "geometry"]:
        assert g.crosses(boundary.exterior)
        assert g.difference(boundary).length > 1500  # extends well outside the borough
    tc = gpd.read_file(demo.paths["town_centres"])
    assert str(tc.crs) == "EPSG:27700" and 3 <= len(tc) <= 5
    assert set(tc["kind"]) == {"major", "district"}
    main = roads.loc[roads["road_class"].isin(["a_road", "b_road"])].union_all()
    assert all(main.distance(p) < 1.0 for p in tc.geometry)  # on main roads

    pop = pd.read_csv(demo.paths["ward_population"])
    assert list(pop.columns) == ["ward_code", "ward_name", "population", "households"]
    assert list(pop["ward_code"]) == list(wards["ward_code"])
    assert 350_000 <= pop["population"].sum() <= 400_000
    assert 2.3 <= pop["population"].sum() / pop["households"].sum() <= 2.7

    truth = json.loads(demo.paths["planted_truth"].read_text())
    assert json.dumps(truth, sort_keys=True, indent=2) + "\n" == demo.paths["planted_truth"].read_text()
    assert truth == json.loads(json.dumps(demo.planted))
    assert truth["n_incidents"] == sum(truth["counts"].values())


def test_cameras_and_uncovered_hotspot(demo):
    cams = pd.read_csv(demo.paths["cameras"])
    assert list(cams.columns) == [
        "camera_id",
        "type",
        "x",
        "y",
        "range_m",
        "bearing_deg",
        "fov_deg",
        "status",
        "description",
    ]
    assert cams["camera_id"].is_unique
    cctv, anpr = cams[cams["type"] == "cctv"], cams[cams["type"] == "anpr"]
    assert 40 <= len(cctv) <= 60 and 4 <= len(anpr) <= 6
    assert set(cams["status"]) <= {"live", "planned", "faulty"}
    assert (cams["status"] == "live").mean() > 0.8
    assert set(cctv["fov_deg"]) == {360, 90}
    # most CCTV in town centres
    tcx = np.array([[c["x"], c["y"]] for c in demo.town_centres])
    d = np.min(np.hypot(cctv["x"].to_numpy()[:, None] - tcx[:, 0], cctv["y"].to_numpy()[:, None] - tcx[:, 1]), 1)
    assert (d < 600).mean() > 0.7
    # ANPR near where the A-roads cross the edge
    cx = np.array(demo.cross_border_points)
    d = np.min(np.hypot(anpr["x"].to_numpy()[:, None] - cx[:, 0], anpr["y"].to_numpy()[:, None] - cx[:, 1]), 1)
    assert (d < 400).all()
    assert "emerging" in demo.uncovered_hotspots
    for name in demo.uncovered_hotspots:
        h = getattr(demo, name)
        reach = np.hypot(cams["x"] - h["x"], cams["y"] - h["y"]) - cams["range_m"]
        assert (reach > h["radius_m"]).all()


def test_incident_table_contract(demo, incidents, wards):
    raw = demo.paths["incidents"].read_text().splitlines()
    assert raw[0].split(",") == INCIDENT_HEADER
    df = incidents
    assert 30_000 <= len(df) <= 40_000
    assert df["ref"].is_unique and df["ref"].str.fullmatch(r"DM-\d{6}").all()
    assert df["offence"].nunique() >= 6
    assert (df["t1"] >= df["t0"]).all()
    assert df["t0"].min() >= pd.Timestamp("2022-11-14") and df["t1"].max() < pd.Timestamp("2025-11-14")
    # every local time exists in Europe/London (no spring-forward gap times)
    df["t0"].dt.tz_localize("Europe/London", ambiguous="NaT", nonexistent="raise")
    df["t1"].dt.tz_localize("Europe/London", ambiguous="NaT", nonexistent="raise")
    assert df["location"].str.startswith("On or near ").all()
    bur = df[df["offence"] == "Burglary - residential"]
    hours = (bur["t1"] - bur["t0"]).dt.total_seconds() / 3600
    assert hours.between(0.9, 8.1).all()
    rob = df[df["offence"] == "Robbery of personal property"]
    assert (rob["t0"] == rob["t1"]).all()
    veh = df[df["offence"].isin(["Theft from motor vehicle", "Theft of motor vehicle"])]
    assert ((veh["t1"] - veh["t0"]).dt.total_seconds() <= 6 * 3600).all()
    # all points within 50 m of the borough; only the planted handful outside at all
    boundary = shapely.union_all(list(wards.geometry))
    dist = shapely.distance(boundary, shapely.points(df["easting"], df["northing"]))
    assert dist.max() <= 50.0
    assert (dist > 1.0).sum() <= demo.params.n_near_boundary


def _monthly_rate(df, before: pd.Timestamp):
    """Incidents per month before and from ``before`` (by committed_from)."""
    start, end = pd.Timestamp("2022-11-14"), pd.Timestamp("2025-11-14")
    pre = (df["t0"] < before).sum() / ((before - start).days / 30.4375)
    post = (df["t0"] >= before).sum() / ((end - before).days / 30.4375)
    return pre, post


def test_emerging_hotspot_starts(demo, incidents):
    h = demo.emerging
    sel = incidents[(incidents["offence"] == h["offence"]) & _in_disc(incidents, h["x"], h["y"], h["radius_m"])]
    pre, post = _monthly_rate(sel, pd.Timestamp(h["start"]))
    assert post > 8 and post > 10 * pre


def test_stopping_hotspot_stops(demo, incidents):
    h = demo.stopping
    sel = incidents[(incidents["offence"] == h["offence"]) & _in_disc(incidents, h["x"], h["y"], h["radius_m"])]
    pre, post = _monthly_rate(sel, pd.Timestamp(h["end"]) + pd.Timedelta(days=1))
    assert pre > 5 and pre > 10 * post


def test_burglary_near_repeats_exceed_time_shuffle(demo, incidents):
    b = incidents[incidents["offence"] == "Burglary - residential"]
    xy = b[["easting", "northing"]].to_numpy(float)
    t = (
        (
            (b["t0"] - pd.Timestamp("2022-11-14")).dt.total_seconds().to_numpy()
            + (b["t1"] - pd.Timestamp("2022-11-14")).dt.total_seconds().to_numpy()
        )
        / 2
        / 86400
    )
    pairs = cKDTree(xy).query_pairs(1000.0, output_type="ndarray")
    d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    rng = np.random.default_rng(0)

    def ratio(dlo, dhi, tlo, thi):
        def count(tt):
            dt = np.abs(tt[pairs[:, 0]] - tt[pairs[:, 1]])
            return int(((d >= dlo) & (d < dhi) & (dt >= tlo) & (dt < thi)).sum())

        shuffled = [count(rng.permutation(t)) for _ in range(19)]
        return count(t), shuffled

    obs, sh = ratio(0, demo.params.nr_radius_m, 0, demo.params.nr_days)
    assert obs > max(sh) and obs > 2.0 * np.mean(sh)
    # no excess far away in space
    obs, sh = ratio(500, 1000, 0, 14)
    assert 0.9 < obs / np.mean(sh) < 1.1
    # no excess long after
    obs, sh = ratio(0, 200, 30, 60)
    assert obs / np.mean(sh) < 1.1


def test_winter_burglary_peak(incidents):
    b = incidents[incidents["offence"] == "Burglary - residential"]
    per_month = b.groupby(b["t0"].dt.to_period("M")).size()
    # whole months only
    per_month = per_month[(per_month.index >= pd.Period("2022-12")) & (per_month.index <= pd.Period("2025-10"))]
    m = per_month.index.month
    winter = per_month[np.isin(m, [11, 12, 1])].mean()
    summer = per_month[np.isin(m, [6, 7, 8])].mean()
    assert winter > 1.15 * summer


def test_town_centre_robbery_is_night_time(demo, incidents):
    rob = incidents[incidents["offence"] == "Robbery of personal property"]
    near = np.zeros(len(rob), bool)
    for c in demo.town_centres:
        near |= _in_disc(rob, c["x"], c["y"], 400).to_numpy()
    hour = rob["t0"].dt.hour
    night = (hour >= 21) | (hour < 3)
    assert near.sum() > 500
    assert night[near].mean() > 0.75
    assert night[~near].mean() < 0.4
    weekend_night = night & rob["t0"].sub(pd.Timedelta(hours=3)).dt.dayofweek.isin([4, 5])
    assert weekend_night[near].sum() > 0.5 * night[near].sum()


def test_town_centres_are_violence_peaks_on_a_100m_grid(demo, incidents, wards):
    v = incidents[incidents["offence"].str.startswith("Violence")]
    x0, y0, x1, y1 = shapely.union_all(list(wards.geometry)).bounds
    h, _, _ = np.histogram2d(
        v["easting"], v["northing"], bins=[np.arange(x0, x1 + 100, 100), np.arange(y0, y1 + 100, 100)]
    )
    top = np.quantile(h[h > 0], 0.99)
    for c in demo.town_centres:
        i, j = int((c["x"] - x0) // 100), int((c["y"] - y0) // 100)
        assert h[i - 1 : i + 2, j - 1 : j + 2].max() >= top


def test_cross_border_excess(demo, incidents, wards):
    veh = incidents[incidents["offence"].isin(["Theft from motor vehicle", "Theft of motor vehicle"])]
    r = demo.params.cross_border_radius_m
    boundary = shapely.union_all(list(wards.geometry))
    inside_area = sum(_disc_area_inside(boundary, x, y, r) for x, y in demo.cross_border_points)
    near = np.zeros(len(veh), bool)
    for x, y in demo.cross_border_points:
        near |= _in_disc(veh, x, y, r).to_numpy()
    density_near = near.sum() / inside_area
    density_all = len(veh) / boundary.area
    assert density_near > 3 * density_all


def _disc_area_inside(boundary, x, y, r):
    return shapely.Point(x, y).buffer(r).intersection(boundary).area


def test_trajectory_places_hold_their_planted_counts(demo, incidents):
    """Each planted place is a small disc inside one cell of the automatic grid, and its incidents per whole
    half-year are the counts recorded (plus at most a stray background incident or two)."""
    tr = demo.planted["trajectories"]
    assert tr["periods"] == ["2023 H1", "2023 H2", "2024 H1", "2024 H2", "2025 H1"] and tr["cell_size_m"] == 100.0
    assert {p["class"] for p in tr["places"]} == {"stable high", "rising", "falling", "flare-up"}
    half = incidents["t0"].dt.year.astype(str) + " H" + ((incidents["t0"].dt.month - 1) // 6 + 1).astype(str)
    for p in tr["places"]:
        assert p["x"] % 100 == 50 and p["y"] % 100 == 50 and p["radius_m"] < 50
        near = _in_disc(incidents, p["x"], p["y"], p["radius_m"] + 1)
        got = half[near & (incidents["offence"] == p["offence"])].value_counts()
        for label, n in zip(tr["periods"], p["n_planted"], strict=True):
            assert n <= got.get(label, 0) <= n + 2, (p["id"], label)
        assert near.sum() <= p["n_total"] + 5
        # the shapes are there in the counts drawn, not only in the rates
        n = np.array(p["n_planted"])
        shape = {
            "stable high": n.min() >= 5,
            "rising": n[-2:].sum() > 4 * n[:2].sum(),
            "falling": n[:2].sum() > 4 * n[-2:].sum(),
            "flare-up": n[-1] > 3 * n[:-1].max(),
        }
        assert shape[p["class"]], (p["id"], n)
        others = [(c["x"], c["y"]) for c in demo.town_centres] + [(demo.emerging["x"], demo.emerging["y"])]
        assert min(np.hypot(x - p["x"], y - p["y"]) for x, y in others) >= demo.params.trajectory_clearance_m


def test_the_patrol_effect_adds_incidents_and_changes_nothing_else(demo, tmp_path):
    """Without the patrol effect the incidents are the same rows less the planted ones (their own random stream),
    and the pings do not change."""
    plain = generate_demo(tmp_path / "no-effect", DemoParams(patrol_effect_base_per_day=0.0))
    cols = INCIDENT_HEADER[1:]
    a = pd.read_csv(demo.paths["incidents"])[cols]
    b = pd.read_csv(plain.paths["incidents"])[cols]
    pe = demo.planted["patrol_effect"]
    assert len(a) - len(b) == pe["n_planted"] > 0 and plain.planted["patrol_effect"]["n_planted"] == 0
    merged = a.merge(b.drop_duplicates(), how="left", indicator=True)
    extra = a[(merged["_merge"] == "left_only").to_numpy()]
    assert len(extra) == pe["n_planted"] and set(extra["offence"]) <= set(pe["offences"])
    assert plain.paths["pings"].read_bytes() == demo.paths["pings"].read_bytes()
    # the extra incidents lie in the patrolled places, in the patrol fortnight
    patrols = json.loads(demo.paths["planted_patrols"].read_text())
    t0 = pd.to_datetime(extra["committed_from"])
    assert t0.min() >= pd.Timestamp(pe["start"]) and t0.max() < pd.Timestamp(pe["start"]) + pd.Timedelta(days=14)
    inside = np.zeros(len(extra), bool)
    for q in patrols["places"]:
        inside |= _in_disc(extra, q["x"], q["y"], q["radius_m"] + 1).to_numpy()
    assert inside.all()
    # the recorded patrol days are the days of the planted visits, and the effect is the stated average
    days = pd.DataFrame(patrols["visits"]).assign(day=lambda v: v["start"].str[:10]).groupby("place_id")["day"]
    for q in pe["by_place"]:
        assert q["patrol_days"] == days.nunique()[q["id"]] and q["patrol_days"] + q["no_patrol_days"] == 14
        assert q["expected_per_no_patrol_day"] == pe["base_per_day"]
    diff = np.mean([q["expected_per_patrol_day"] - q["expected_per_no_patrol_day"] for q in pe["by_place"]])
    assert pe["effect_count_per_place_day"] == pytest.approx(diff, abs=1e-6) and diff < 0
