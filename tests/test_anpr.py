"""ANPR entry points, weights, existing coverage and reader siting."""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.coverage.anpr import AnprConfig, anpr_siting, entry_points, run_anpr, weight_entries
from hotspots.coverage.cameras import make_cameras

SQUARE = shapely.box(0, 0, 1000, 1000)


def _roads():
    return gpd.GeoDataFrame(
        {
            "name": ["M1", "A1 north", "A1 south", "Cul-de-sac", "Outer Rd", "Link A", "Link B"],
            "road_class": ["motorway", "a_road", "a_road", "minor", "b_road", "b_road", "b_road"],
        },
        geometry=[
            shapely.LineString([(-100, 500), (1100, 500)]),  # crosses twice: (0,500), (1000,500)
            shapely.LineString([(300, 1200), (300, 600)]),  # enters at (300,1000)
            shapely.LineString([(310, 1200), (310, 600)]),  # dual carriageway 10 m away -> merged
            shapely.LineString([(700, 200), (700, 800)]),  # never reaches the boundary
            shapely.LineString([(-200, -200), (1200, -200)]),  # outside, no crossing
            shapely.LineString([(600, -100), (600, -0.6)]),  # link ends 0.6 m short of the edge
            shapely.LineString([(600, 0.6), (600, 300)]),
        ],  # and the next link starts 0.6 m inside
        crs=27700,
    )


def test_entry_points_hand_computed():
    e = entry_points(SQUARE, _roads(), merge_distance_m=30, snap_m=5)
    got = sorted((round(x, 1), round(y, 1)) for x, y in zip(e["x"], e["y"]))
    assert got == [(0.0, 500.0), (305.0, 1000.0), (600.0, 0.0), (1000.0, 500.0)]
    a1 = e[np.isclose(e["x"], 305)].iloc[0]
    assert a1["n_crossings"] == 2 and a1["road_class"] == "a_road"
    m1 = e[e["road_name"] == "M1"]
    assert len(m1) == 2 and set(m1["road_class"]) == {"motorway"}
    # without snapping the link split at the edge is missed
    e0 = entry_points(SQUARE, _roads(), merge_distance_m=30, snap_m=0)
    assert len(e0) == 3


def test_weights_class_times_crime_near():
    e = entry_points(SQUARE, _roads(), 30, 5)
    rng = np.random.default_rng(2)
    cx, cy = rng.uniform(0, 1000, 400), rng.uniform(0, 1000, 400)
    h = rng.uniform(1, 3, 400)
    cfg = AnprConfig(crime_radius_m=200.0, crime_weight=0.5)
    w = weight_entries(e, cfg, cx, cy, h)
    near = np.array([h[np.hypot(cx - x, cy - y) <= 200].sum() for x, y in zip(e["x"], e["y"])])
    assert np.allclose(w["crime_near"], near)
    cw = np.array([{"motorway": 4, "a_road": 3, "b_road": 2, "minor": 1}[c] for c in e["road_class"]], float)
    assert np.allclose(w["weight"], cw * (1 + 0.5 * near / near.mean()))


def test_existing_reader_on_the_road_covers_its_entry_only():
    roads = _roads()
    e = weight_entries(entry_points(SQUARE, roads, 30, 5), AnprConfig())
    # a reader on the M1, 150 m inside the west crossing; another 150 m from (600, 0) but off that road
    readers = make_cameras([150.0, 750.0], [500.0, 60.0], "anpr", ids=["R1", "R2"], bearing_deg=270, fov_deg=60)
    res = anpr_siting(e, readers, AnprConfig(cover_distance_m=250, on_road_m=30), k=1, roads=roads)
    ent = res.entries.set_index(
        res.entries["x"].round().astype(int).astype(str) + "," + res.entries["y"].round().astype(int).astype(str)
    )
    assert bool(ent.loc["0,500", "covered_existing"]) and ent.loc["0,500", "nearest_reader"] == "R1"
    assert not bool(ent.loc["600,0", "covered_existing"])
    assert res.weight_existing == pytest.approx(float(ent.loc["0,500", "weight"]))


def test_reader_choice_equals_bruteforce():
    roads = _roads()
    rng = np.random.default_rng(4)
    e = weight_entries(
        entry_points(SQUARE, roads, 30, 5), AnprConfig(), rng.uniform(0, 1000, 300), rng.uniform(0, 1000, 300)
    )
    w = e["weight"].to_numpy()
    for k in (1, 2, 3):
        res = anpr_siting(e, None, AnprConfig(cover_distance_m=50), k=k, roads=roads)
        best = max(w[list(c)].sum() for c in itertools.combinations(range(len(w)), k))
        assert res.weight_with_new == pytest.approx(best)
        assert len(res.readers) == k


def test_barnet_major_roads_have_no_class(shared_data):
    outline = gpd.read_file(shared_data / "boundaries" / "barnet_borough_outline.geojson").to_crs(27700)
    roads = gpd.read_file(shared_data / "context" / "barnet_2km_major_road_network_2018.geojson")
    crime = pd.read_csv(
        shared_data / "crime" / "barnet_street_crime_policeuk_api_2016-01_2018-06.csv.gz",
        usecols=["Crime type", "x_bng", "y_bng"],
    )
    crime = crime[crime["Crime type"].isin(["Burglary", "Vehicle crime"])]
    res = run_anpr(
        outline.geometry.iat[0], roads, None, AnprConfig(k=20), crime["x_bng"].to_numpy(), crime["y_bng"].to_numpy()
    )
    assert any("no class attribute" in n for n in res.notes)
    assert (res.entries["class_weight"] == 1.0).all()
    assert len(res.entries) >= 4
    # every entry point lies on the boundary line and on a road
    ring = outline.geometry.iat[0].boundary
    assert (res.entries.geometry.distance(ring) < 1.0).all()
    assert (res.entries.geometry.distance(shapely.union_all(roads.to_crs(27700).geometry.to_numpy())) < 6).all()
    # fewer entry points than readers: all are covered
    assert res.weight_with_new == pytest.approx(res.weight_total)


def test_demo_planted_crossings_found_and_covered(demo_config_path):
    from hotspots.config import load_config
    from hotspots.coverage.cameras import read_inventory
    from hotspots.stages.inputs import load_study_area

    cfg = load_config(demo_config_path)
    area = load_study_area(cfg)
    truth = json.loads(cfg.path("data/incidents/planted_truth.json").read_text())
    inc = pd.read_csv(cfg.path("data/incidents/incidents.csv"))
    inc = inc[inc["offence"].str.contains("Burglary|motor vehicle", regex=True)]
    inv = read_inventory(cfg.path("data/boundaries/cameras.csv"))
    res = run_anpr(
        area.boundary,
        area.roads,
        inv.cameras,
        AnprConfig(k=20),
        inc["easting"].to_numpy(float),
        inc["northing"].to_numpy(float),
    )
    e = res.entries
    pts = np.asarray(truth["cross_border"]["points"])
    d = np.hypot(e["x"].to_numpy()[None, :] - pts[:, :1], e["y"].to_numpy()[None, :] - pts[:, 1:])
    match = d.argmin(axis=1)
    assert (d.min(axis=1) < 30).all()  # every planted A-road crossing is an entry point
    # the planted cross-border crime makes those entries the heaviest of their class
    planted = set(match.tolist())
    a = e[e["road_class"] == "a_road"]
    assert set(a.sort_values("weight", ascending=False).index[: len(planted)]) == planted
    # the live ANPR readers stand on the A-roads 200 m inside: each covers one planted crossing
    live = inv.live(("anpr",))
    assert int(e["covered_existing"].sum()) == len(live)
    assert set(np.nonzero(e["covered_existing"].to_numpy())[0]) <= planted
    # with 20 new readers every planted crossing is covered
    cov = e["covered_existing"].to_numpy() | e["covered_new"].to_numpy()
    assert cov[list(planted)].all()
