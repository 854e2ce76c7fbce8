"""Street names from police.uk location texts, and the one rule for merging hotspot areas into places."""

from __future__ import annotations

import gzip

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.analysis.hotspot_places import merge_into_places, place_labels
from hotspots.geo.streets import StreetPoints, place_of, road_class_of, street_of, top_streets


@pytest.mark.parametrize(
    ("text", "street", "place"),
    [
        ("On or near High Street", "High Street", "High Street"),
        ("on or near  Kingsway ", "Kingsway", "Kingsway"),
        ("On or near Supermarket", "", ""),
        ("On or near Sports/recreation Area", "", ""),
        ("On or near Further/Higher Educational Building", "", ""),
        ("On or near Petrol Station", "", ""),
        ("On or near Fire Station", "", ""),
        ("On or near Ambulance Station", "", ""),
        ("Wembley Park (lu Station)", "", "Wembley Park station"),
        ("Cricklewood (station)", "", "Cricklewood station"),
        ("On or near Great North Way (barnet By-pass)", "Great North Way (Barnet By-pass)", None),
        ("On or near A406", "A406", "A406"),
        ("", "", ""),
        (None, "", ""),
        (float("nan"), "", ""),
    ],
)
def test_street_of_location_texts(text, street, place):
    assert street_of(text) == street
    if place is not None:
        assert place_of(text) == place


@pytest.mark.parametrize(
    ("locations", "name"),
    [
        (["On or near High Street", "On or near Station Road"], "High Street, Colindale"),
        (
            ["On or near Shopping Area", "On or near Supermarket", "On or near High Street"],
            "Shopping Area by High Street, Colindale",
        ),
        (["On or near Fire Station", "Edgware (lu Station)"], "Fire Station by Edgware station, Colindale"),
        (["Edgware (lu Station)", "On or near High Street"], "Edgware station, Colindale"),
        (["On or near Parking Area"], "Parking Area, Colindale"),
        (["On or near (barnet By-pass)"], "(Barnet By-pass), Colindale"),
        ([], "Colindale"),
    ],
)
def test_a_tasking_place_is_named_by_the_street_rule(locations, name):
    """A place's name reads its commonest location with :func:`street_of`'s rule (one rule for the engine): a kind of
    place is named by the street it is by, a station as a station."""
    from hotspots.tasking.places import _place_name

    locs = [(t, 10 - k) for k, t in enumerate(locations)]
    assert _place_name(shapely.Point(0, 0), 50.0, None, locs, "Colindale") == name


def test_road_numbers_and_top_streets():
    assert [road_class_of(n) for n in ("M1", "A406", "B552", "A1(M)", "High Road", "Avenue A1")] == [
        "motorway",
        "a_road",
        "b_road",
        "motorway",
        "",
        "",
    ]
    texts = ["On or near B Road"] * 3 + ["On or near A Road"] * 3 + ["On or near Supermarket"] * 9 + ["On or near C"]
    assert top_streets(texts) == ["A Road", "B Road"]  # by count, ties alphabetical, kinds of place left out
    assert top_streets(["On or near Parking Area"]) == []


def test_street_points_index_and_nearest():
    texts = ["On or near High Street", "On or near High Street", "On or near Supermarket", "On or near Mill Lane"]
    sp = StreetPoints.from_texts(texts, [0.0, 0.0, 50.0, 300.0], [0.0, 0.0, 0.0, 0.0])
    assert sp.name.tolist() == ["High Street", "Mill Lane"] and sp.n.tolist() == [2, 1]
    names, d = sp.nearest([10.0, 290.0, 1000.0], [0.0, 0.0, 0.0], 150.0)
    assert names.tolist() == ["High Street", "Mill Lane", ""] and d[0] == pytest.approx(10.0) and np.isinf(d[2])
    both = sp.concat(StreetPoints.from_texts(["On or near High Street"], [0.0], [0.0]))
    assert both.n.tolist() == [3, 1]  # the same point named alike: counts added
    assert sp.in_geometry(shapely.box(-5, -5, 5, 5)).tolist() == [0]


def test_police_uk_points_reprojected(tmp_path):
    p = tmp_path / "beyond.csv.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("Crime ID,Longitude,Latitude,Location\n1,-0.2,51.6,On or near High Street\n")
        fh.write("2,-0.2,51.6,On or near High Street\n3,-0.21,51.61,On or near Supermarket\n4,,,On or near Nowhere\n")
    sp = StreetPoints.read_police_uk(p)
    from pyproj import Transformer

    ex, ey = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(-0.2, 51.6)
    assert sp.name.tolist() == ["High Street"] and sp.n.tolist() == [2]
    assert sp.x[0] == pytest.approx(ex) and sp.y[0] == pytest.approx(ey)


def test_place_rule_overlap_touch_and_distance():
    """Areas that overlap, touch (also at a corner) or lie within the distance are one place; chains count."""
    boxes = [
        shapely.box(0, 0, 100, 100),  # 0
        shapely.box(50, 50, 150, 150),  # 1 overlaps 0
        shapely.box(150, 150, 250, 250),  # 2 touches 1 at a corner
        shapely.box(330, 150, 430, 250),  # 3 80 m from 2
        shapely.box(1000, 0, 1100, 100),  # 4 alone
    ]
    assert place_labels(boxes, 0.0).tolist() == [0, 0, 0, 1, 2]
    assert place_labels(boxes, 100.0).tolist() == [0, 0, 0, 0, 1]
    assert place_labels(boxes, 79.0).tolist() == [0, 0, 0, 1, 2]
    g = merge_into_places(gpd.GeoDataFrame(geometry=boxes, crs=27700), 100.0)
    assert g["members"].tolist() == [(0, 1, 2, 3), (4,)]
    assert g.geometry.iat[0].area == pytest.approx(shapely.union_all(boxes[:4]).area)
    assert g.crs.to_epsg() == 27700


def test_place_rule_equals_a_brute_force_single_linkage():
    rng = np.random.default_rng(7)
    boxes = [
        shapely.box(x, y, x + w, y + w)
        for x, y, w in zip(*rng.uniform(0, 3000, (2, 60)), rng.uniform(20, 200, 60), strict=True)
    ]
    d = 120.0
    n = len(boxes)
    lab = list(range(n))

    def find(i):
        while lab[i] != i:
            i = lab[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if boxes[i].distance(boxes[j]) <= d:
                lab[find(i)] = find(j)
    ref = pd.factorize(pd.Series([find(i) for i in range(n)]))[0]
    assert place_labels(boxes, d).tolist() == ref.tolist()


def test_cctv_gap_places_and_tasking_places_use_one_distance():
    """The CCTV gap places and the tasking list's places are merged by the same rule at the same automatic
    distance (the tasking list's: the larger of the grid cell and the median spacing of incident locations,
    computed independently here): no two gap places lie within that distance of each other."""
    from conftest import REPO, fast_config

    from hotspots import pipeline
    from hotspots.announce import quietly
    from hotspots.tasking.places import describe_places

    if not (REPO / "data" / "incidents" / "incidents.csv").exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    with quietly():
        res = pipeline.analyse(fast_config(), "2025-11-14", stages=("surfaces", "coverage"))
        places = describe_places(res)
    inc = res.recent()
    xy = np.unique(np.round(inc[["x", "y"]].to_numpy(float)), axis=0)
    nearest = [np.sort(np.hypot(*(xy - p).T))[1] for p in xy]  # brute force, not the KD-tree
    want = float(np.ceil(max(res.grid.cell_size, float(np.median(nearest))) / 10.0) * 10.0)
    assert places.merge_distance_m == want
    cov = res.coverage
    assert cov is not None and f"within {want:g} m of each other are one place" in cov.choices["merge_distance_m"]
    g = list(cov.gaps.geometry)
    assert len(g) > 1
    for i in range(len(g)):
        for j in range(i + 1, len(g)):
            assert g[i].distance(g[j]) > want
