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
    got = sorted((round(x, 1), round(y, 1)) for x, y in zip(e["x"], e["y"], strict=True))
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
    near = np.array([h[np.hypot(cx - x, cy - y) <= 200].sum() for x, y in zip(e["x"], e["y"], strict=True)])
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


# ----------------------------------------------------------------------------- streets found from police.uk names
def _street_points():
    """Named points around SQUARE (0..1000): one street crossing the west edge, one road running along the
    south edge, two unrelated streets of one name far apart, a street meeting the east edge at a shallow angle."""
    from hotspots.geo.streets import StreetPoints

    pts = [
        ("Cross Road", 100.0, 600.0),  # inside, 100 m from the west edge
        ("Cross Road", -80.0, 610.0),  # outside, 80 m beyond it: a crossing
        ("Cross Road", 300.0, 590.0),
        ("Border Road", 300.0, 3.0),  # along the south edge, 3 m either side
        ("Border Road", 310.0, -3.0),
        ("Border Road", 600.0, 2.0),
        ("Border Road", 610.0, -2.0),
        ("Twin Lane", 500.0, 900.0),  # inside, north
        ("Twin Lane", 500.0, 2100.0),  # outside, 1.1 km further: another street of the same name
        ("Slant Way", 960.0, 100.0),  # 40 m inside the east edge ...
        ("Slant Way", 1040.0, 400.0),  # ... 40 m outside, 300 m along it: 15 degrees to the line
    ]
    n, x, y = zip(*pts, strict=True)
    return StreetPoints.from_texts([f"On or near {v}" for v in n], x, y)


def test_street_crossings_found_and_guarded():
    from hotspots.coverage.anpr import street_crossings

    sc = street_crossings(SQUARE, _street_points(), AnprConfig())
    assert sc["road_name"].tolist() == ["Cross Road"]
    c = sc.iloc[0]
    assert c["x"] == pytest.approx(0.0) and 600 < c["y"] < 610 and c["road_class"] == "minor"
    assert "100 m inside and 80 m outside" in c["evidence"]
    assert c["line"].crosses(SQUARE.boundary)
    # the guards can be relaxed: a shallow angle allowed, Slant Way counts; a long pair allowed, Twin Lane counts
    loose = street_crossings(SQUARE, _street_points(), AnprConfig(street_min_angle_deg=10, street_pair_max_m=1500))
    assert set(loose["road_name"]) == {"Cross Road", "Slant Way", "Twin Lane"}
    # Border Road's points straddle the line 2-3 m from it: only without the side guard would it count
    relaxed = street_crossings(SQUARE, _street_points(), AnprConfig(street_min_side_m=0))
    assert "Border Road" in set(relaxed["road_name"])


def test_entries_from_roads_and_streets_named_with_reasons():
    """A street crossing close to a road crossing names it; an unnamed road is described by the nearest street;
    every proposed reader says which road, where it leads and why it ranks."""
    roads = gpd.GeoDataFrame(
        {"road_class": ["a_road", "a_road"]},
        geometry=[shapely.LineString([(-200, 610), (400, 610)]), shapely.LineString([(500, 700), (500, 1300)])],
        crs=27700,
    )
    neighbours = gpd.GeoDataFrame(
        {"name": ["Westshire", "Northshire", "Here"]},
        geometry=[shapely.box(-2000, -500, 0, 1500), shapely.box(0, 1000, 1000, 3000), SQUARE],
        crs=27700,
    )
    rng = np.random.default_rng(1)
    cx, cy = rng.uniform(0, 300, 50), rng.uniform(500, 700, 50)  # crime near the west crossing
    res = run_anpr(SQUARE, roads, None, AnprConfig(k=5), cx, cy, streets=_street_points(), neighbours=neighbours)
    e = res.entries.set_index("road_name")
    assert set(res.entries["source"]) == {"road network and police.uk street names", "road network"}
    assert e.loc["Cross Road", "into"] == "Westshire" and e.loc["Cross Road", "crime_near_n"] == 50
    north = res.entries[res.entries["road_name"] == ""].iloc[0]
    assert north["into"] == "Northshire" and north["near_street"] == "Twin Lane"
    t = res.reader_table()
    assert t["Road"].tolist() == ["Cross Road (A road)", "A road near Twin Lane"]
    # the map names each reader the same way (the readers' own ``road`` column)
    from hotspots.config.sections import RenderConfig
    from hotspots.render.maps import _reader_features

    fs = _reader_features(res.readers, RenderConfig())
    assert fs is not None
    assert [p["t"] for p in fs.props] == [
        "Proposed ANPR reader 1: Cross Road (A road)",
        "Proposed ANPR reader 2: A road near Twin Lane",
    ]
    assert t["Crossing into"].tolist() == ["Westshire", "Northshire"]
    why = t["Why here"].iat[0]
    assert "crosses the boundary into Westshire" in why and "50 burglaries and vehicle crimes within 1 km" in why
    assert "counts 3 times a side street" in why and "police.uk points on Cross Road" in why
    # 5 asked for, 2 entry points: the shortfall is explained with the input that would give more
    assert res.requested == 5 and len(res.readers) == 2
    assert "only 2 places where roads enter the area were found" in res.shortfall
    assert "OS Open Roads" in res.shortfall


def test_shortfall_names_the_neighbours_without_police_uk_points():
    from hotspots.coverage.anpr import _unwatched_neighbours

    neighbours = gpd.GeoDataFrame(
        {"name": ["Westshire", "Northshire"]},
        geometry=[shapely.box(-2000, -500, 0, 1500), shapely.box(-500, 1000, 1500, 3000)],
        crs=27700,
    )
    # west: Cross Road's point 80 m beyond the edge; north: the nearest point lies 1.1 km beyond it
    assert _unwatched_neighbours(SQUARE, _street_points(), neighbours, "name") == ["Northshire"]


def test_barnet_entry_points_from_major_roads_and_police_uk_streets(shared_data):
    """Barnet: the DfT Major Road Network crosses the boundary 6 times; police.uk street names on both sides
    add the streets into Brent, Camden, Haringey, Enfield and Harrow. Hertsmere (another force) has no
    police.uk points in the file, so the shortfall, when there is one, says so."""
    from hotspots.geo.streets import StreetPoints

    outline = gpd.read_file(shared_data / "boundaries" / "barnet_borough_outline.geojson").to_crs(27700)
    boundary = outline.geometry.iat[0]
    roads = gpd.read_file(shared_data / "context" / "barnet_2km_major_road_network_2018.geojson")
    crime = pd.read_csv(
        shared_data / "crime" / "barnet_street_crime_policeuk_api_2016-01_2018-06.csv.gz",
        usecols=["Crime type", "x_bng", "y_bng", "Location"],
    )
    streets = StreetPoints.from_texts(crime["Location"], crime["x_bng"], crime["y_bng"]).concat(
        StreetPoints.read_police_uk(
            shared_data / "crime" / "barnet_border_2km_street_crime_policeuk_api_2016-01_2018-06.csv.gz"
        )
    )
    nb = gpd.read_file(shared_data / "boundaries" / "barnet_and_neighbour_boroughs.geojson").to_crs(27700)
    bv = crime[crime["Crime type"].isin(["Burglary", "Vehicle crime"])]
    cfg = AnprConfig(k=40, default_road_class="a_road", neighbours_name_field="borough")
    res = run_anpr(boundary, roads, None, cfg, bv["x_bng"], bv["y_bng"], streets=streets, neighbours=nb)
    e = res.entries
    assert (e["source"].str.startswith("road network")).sum() == 6
    streets_found = e[e["source"] == "police.uk street names"]
    assert len(streets_found) >= 20 and len(e) >= 26
    assert (e.geometry.distance(boundary.boundary) < 1.0).all()  # every entry lies on the boundary line
    assert set(streets_found["into"]) <= {"Brent", "Camden", "Haringey", "Enfield", "Harrow"}
    assert (streets_found["road_name"] != "").all() and (e["near_street"] != "").sum() >= len(e) - 2
    assert {"Finchley Road", "Great North Road", "Colney Hatch Lane"} <= set(streets_found["road_name"])
    # no street along the A5 boundary road (Edgware Road / Burnt Oak Broadway) is taken for a crossing
    assert not {"Edgware Road", "Burnt Oak Broadway", "Stone Grove", "Cricklewood Broadway"} & set(e["road_name"])
    assert len(res.readers) == len(e) < 40 and "Hertsmere" in res.shortfall
    assert res.reader_table()["Why here"].str.contains("burglaries and vehicle crimes within 1 km").all()
