"""The map pages without a browser: data never becomes code, street names where the streets are, labels that
never overlap, the same bytes for the same data, and one palette whose layers stay apart."""

from __future__ import annotations

import itertools
import json
import math
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from hotspots.render import mappage
from hotspots.render.geojson import FeatureSet, safe_json
from hotspots.render.mappage import MapLayer, MapPage, page_json, read_page_data
from hotspots.render.palette import EMERGING_COLOURS, GI_COLOURS, LAYER_STYLES, RAMPS
from hotspots.render.streets import (
    Label,
    _box,
    label_rows,
    metres_per_pixel,
    street_labels_from_incidents,
    street_labels_from_roads,
    street_name,
    thin_labels,
)

PAYLOADS = (
    "{{7*7}}",
    "{% if 1 %}IF{% endif %}",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "a & b \u2028 c \u2029 d <!-- e",
)


# --------------------------------------------------------------------------- data is never code
def _elements(html: str, tag: str) -> list[dict[str, str | None]]:
    """The attributes of every ``tag`` element an HTML parser finds (script contents are text to it)."""
    from html.parser import HTMLParser

    found: list[dict[str, str | None]] = []

    class P(HTMLParser):
        def handle_starttag(self, t, attrs):
            if t == tag:
                found.append(dict(attrs))

    P().feed(html)
    return found


def test_page_json_escapes_everything_that_could_end_a_script_and_round_trips():
    data = {"notes": list(PAYLOADS), "nested": {"k": "</SCRIPT >", "n": [1, 2.5, None]}}
    text = page_json(data)
    for ch in "<>&\u2028\u2029":
        assert ch not in text
    assert json.loads(text) == {**data, "layers": []}


def test_a_page_holds_data_only_in_its_json_block():
    title = " ".join(PAYLOADS)
    page = MapPage(title, "{{ config }}", {"notes": list(PAYLOADS), "search": [[p, 0, 0, 1, 1, ""] for p in PAYLOADS]})
    html = page.html()
    # an HTML parser sees the template's own three script elements and their types, nothing else
    assert _elements(html, "script") == [{"type": "application/json", "id": "hs-data"}, {}, {}]
    assert _elements(html, "img") == [] and _elements(html, "a") == []
    assert "<img src=x" not in html and "{{7*7}}" not in html.split('id="hs-data">')[0].split("<title>")[0]
    # the title is escaped text in <title> and <h1>, and the data read back are exactly what was given
    shown = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "49" not in shown and "&lt;/script&gt;" in shown and "{{7*7}}" in shown
    data = read_page_data(html)
    assert data["title"] == title and data["subtitle"] == "{{ config }}"
    assert data["notes"] == list(PAYLOADS)


def test_the_only_template_ever_compiled_is_the_constant_page(monkeypatch):
    """No string from the data reaches Jinja as template source: every parse is of templates/map.html."""
    from jinja2 import Environment

    parsed = []
    real = Environment._parse

    def spy(self, source, name, filename):
        parsed.append((name, source))
        return real(self, source, name, filename)

    monkeypatch.setattr(Environment, "_parse", spy)
    mappage._template.cache_clear()
    try:
        for p in PAYLOADS:
            MapPage(p, p, {"notes": [p]}).html()
    finally:
        mappage._template.cache_clear()
    assert [n for n, _ in parsed] == ["map.html"]
    assert parsed[0][1] == (mappage.TEMPLATES / "map.html").read_text(encoding="utf-8")


def test_feature_properties_are_escaped_once_and_geometry_is_numbers_only():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(530000, 180000)], crs=27700)
    fs = FeatureSet.build(frame, {"t": ["</script><b>x</b>"], "p": [[["k", "<&>"]]]})
    text = fs.collection_json()
    assert "<" not in text and ">" not in text and "&" not in text
    back = json.loads(text)
    assert back["features"][0]["properties"] == {"t": "</script><b>x</b>", "p": [["k", "<&>"]]}
    lon, lat = back["features"][0]["geometry"]["coordinates"]
    want = Transformer.from_crs(27700, 4326, always_xy=True).transform(530000, 180000)
    assert (lon, lat) == pytest.approx(want, abs=1e-5)
    assert safe_json({"a": "<"}) == '{"a":"\\u003c"}'


def test_the_same_data_give_the_same_bytes():
    frame = gpd.GeoDataFrame(
        {"name": ["b", "a"]},
        geometry=[shapely.box(530000, 180000, 530500, 180500), shapely.Point(531000, 181000)],
        crs=27700,
    )

    def page():
        fs = FeatureSet.build(frame, {"t": list(frame["name"])}, 5.0, 5)
        layer = MapLayer("x", "X", "G", "vector", True, "hs-areas", {"title": "X", "entries": []}, {}, features=fs)
        return MapPage("T", "S", {"view": [[51, 0], [52, 1]]}, layers=(layer,)).html()

    assert page() == page()
    assert "hs-data" in page() and not re.search(r"(folium|branca|map_[0-9a-f]{32})", page())


def test_a_cut_feature_keeps_its_properties_and_stays_inside_the_area():
    frame = gpd.GeoDataFrame(
        {"k": ["big", "far"]},
        geometry=[shapely.box(530000, 180000, 534000, 184000), shapely.box(540000, 190000, 540100, 190100)],
        crs=27700,
    )
    fs = FeatureSet.build(frame, {"k": list(frame["k"])})
    area = gpd.GeoSeries([shapely.box(531000, 181000, 532000, 182000)], crs=27700).to_crs(4326).iat[0]
    cut = fs.clip(area)
    assert [p["k"] for p in cut.props] == ["big"]
    assert shapely.box(*area.bounds).buffer(1e-5).contains(cut.geoms[0])
    whole = fs.clip(area, cut=False)
    assert whole.geoms[0].equals(fs.geoms[0])
    assert json.loads(cut.collection_json())["features"][0]["properties"] == {"k": "big"}


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "www.example.org"])
def test_a_consultation_link_must_be_a_web_or_mail_address(url):
    from hotspots.config.sections import PublicConfig
    from hotspots.errors import ConfigError

    with pytest.raises(ConfigError, match="consultation_url"):
        PublicConfig(consultation_url=url).validate("x.toml")
    PublicConfig(consultation_url="https://example.org/say", consultation_text="By 31 January").validate("x.toml")
    PublicConfig(consultation_url="mailto:cctv@example.org").validate("x.toml")


# --------------------------------------------------------------------------- tasking items
def _tasking_list():
    """Two places, hand-made: the second ranked first; peak times carry no information (month data)."""
    import pandas as pd

    from hotspots.config.sections import DEFAULT_TIMEZONE
    from hotspots.stages.tasking_list import ITEM_COLUMNS, OmittedColumn, TaskingList, item_columns

    fim = pd.Timestamp("2025-11-14", tz=DEFAULT_TIMEZONE)
    rows = {c: ["", ""] for c in ITEM_COLUMNS}
    rows.update(
        rank=[2, 1],
        item_id=["T1", "T2"],
        status=["new", "continuing"],
        place_name=["High Street, Ashcombe", "Elmbridge town centre"],
        ward_name=["Ashcombe", "Elmbridge"],
        ward_code=["W1", "W2"],
        main_crime_type=["anti_social_behaviour", "violence"],
        main_crime=["Anti-social behaviour", "Violence and sexual offences"],
        crime_types=["Anti-social behaviour 40, Shoplifting 12", "Violence and sexual offences 75"],
        incidents=[52, 1489],
        harm=[52.0, 1489.4],
        score=[60.2, 1500.0],
        review_date=[fim + pd.Timedelta(days=14)] * 2,
    )
    items = gpd.GeoDataFrame(
        rows, geometry=[shapely.box(530000, 180000, 530300, 180300), shapely.box(531000, 181000, 531400, 181400)]
    ).set_crs(27700)
    peak = {"peak_days", "peak_hours"}
    columns = tuple(c for c in item_columns() if c.key not in peak)
    omitted = tuple(OmittedColumn(k, k, "times are known only to the month") for k in sorted(peak))
    return TaskingList(items, items.iloc[:0], fim, fim, columns=columns, omitted=omitted)


def test_tasking_popups_show_the_lists_own_columns_in_words():
    from hotspots.config.sections import RenderConfig
    from hotspots.render.maps import ITEM_TITLE_COLUMNS, _item_features
    from hotspots.vocabulary import CRIME_TYPE_LABELS

    tl = _tasking_list()
    fs = _item_features(tl, RenderConfig())
    assert fs is not None and len(fs) == 2
    want = [c.label for c in tl.page_columns() if c.key not in ITEM_TITLE_COLUMNS]
    for p in fs.props:
        headings = [h for h, _ in p["p"]]
        assert set(headings) <= set(want) and headings == [h for h in want if h in headings]  # the list's order
        assert "Peak days" not in headings and "Ward code" not in headings  # no information / not on a page
    first = dict(fs.props[0]["p"])
    assert first["Main problem"] == "Anti-social behaviour" and first["Crime types"].startswith("Anti-social")
    assert first["Incidents"] == "52" and first["Harm (count)"] == "52" and first["Score"] == "60"
    assert dict(fs.props[1]["p"])["Incidents"] == "1,489" and first["Review"] == "2025-11-28"
    assert fs.props[0]["t"] == "Rank 2: High Street, Ashcombe, Anti-social behaviour"
    assert fs.props[1]["pt"] == "Rank 1: Elmbridge town centre (T2)"
    assert [p["place"] for p in fs.props] == ["High Street, Ashcombe", "Elmbridge town centre"]
    text = "".join(fs.features)
    assert not [code for code in CRIME_TYPE_LABELS if code in text]  # never a raw crime-type code


# --------------------------------------------------------------------------- street names
@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("On or near Pine Way", "Pine Way"),
        ("on or near  High   Street ", "High Street"),
        ("12a High Street, Barnet", "High Street"),
        ("Flat 3 Oak Court, London", "Oak Court"),
        ("On or near Supermarket", ""),
        ("On or near Sports/recreation Area", ""),
        ("On or near Parking Area", ""),
        ("Edgware (lu Station)", "Edgware (lu Station)"),
        ("", ""),
        (None, ""),
        (float("nan"), ""),
        ("12", ""),
    ],
)
def test_street_name(text, want):
    assert street_name(text) == want


def _incidents(rows):
    """rows: (location text, x, y, incidents there) -> arrays of one incident per row repeated."""
    x, y, loc = [], [], []
    for text, px, py, n in rows:
        x += [px] * n
        y += [py] * n
        loc += [text] * n
    return np.array(x, float), np.array(y, float), loc


def test_street_labels_sit_on_the_streets_snap_points_and_follow_the_street():
    diag = [("On or near Alpha Road", 530000 + 100 * k, 180000 + 100 * k, 1 + k) for k in range(5)]  # 45 degrees
    vertical = [("On or near Beta Lane", 536000.0, 180000 + 120 * k, 2) for k in range(4)]
    far_apart = [("On or near High Street", 530000, 186000, 3), ("On or near High Street", 534000, 186000, 1)]
    noise = [("On or near Supermarket", 530000 + 900 * k, 183000, 5) for k in range(6)]
    x, y, loc = _incidents(diag + vertical + far_apart + noise + [(None, 531000, 181000, 4)])
    labels = street_labels_from_incidents(x, y, loc)
    by = {}
    for lab in labels:
        by.setdefault(lab.text, []).append(lab)
    assert set(by) == {"Alpha Road", "Beta Lane", "High Street"}
    assert len(by["High Street"]) == 2  # two streets of one name, 4 km apart
    assert sorted(lab.weight for lab in by["High Street"]) == [1.0, 3.0]
    (alpha,) = by["Alpha Road"]
    # weighted centre of the snap points (weights 1..5) is (530300, 180300): the snap point nearest it
    assert (alpha.x, alpha.y) == (530300.0, 180300.0)
    assert alpha.angle == pytest.approx(45.0, abs=0.5) and alpha.weight == 15
    (beta,) = by["Beta Lane"]
    assert beta.angle == pytest.approx(90.0, abs=0.5)
    assert (beta.x, beta.y) in {(536000.0, 180000 + 120.0 * k) for k in range(4)}


def test_a_long_street_gets_a_label_per_piece():
    x, y, loc = _incidents([("On or near Long Road", 530000 + 200 * k, 180000, 1) for k in range(11)])  # 2 km
    labels = street_labels_from_incidents(x, y, loc, segment_m=600)
    assert len(labels) == 3  # round(2000 / 600)
    assert all(lab.angle == 0 for lab in labels)
    xs = sorted(lab.x for lab in labels)
    assert xs[0] < 530700 < xs[1] < 531400 < xs[2]


def test_named_roads_are_labelled_along_their_line():
    road = gpd.GeoDataFrame(
        {"name": ["Corner Road", "Corner Road", None], "road_class": ["a_road", "a_road", "minor"]},
        geometry=[
            shapely.LineString([(0, 0), (1500, 0)]),
            shapely.LineString([(1500, 0), (1500, 1500)]),
            shapely.LineString([(0, 100), (900, 100)]),
        ],
        crs=27700,
    )
    labels = street_labels_from_roads(road, spacing_m=1000)
    assert [lab.text for lab in labels] == ["Corner Road"] * 3  # one merged line of 3 km; the nameless road: none
    pos = sorted(((lab.x, lab.y), lab.angle) for lab in labels)
    assert pos[0] == ((500.0, 0.0), 0.0)
    assert pos[1][0] == (1500.0, 0.0) and pos[1][1] == pytest.approx(45.0)  # at the corner
    assert pos[2] == ((1500.0, 1000.0), 90.0)
    assert all(lab.weight > 3000 for lab in labels)  # an A road ranks above incident-only streets


def test_an_os_open_roads_layer_gives_names_and_classes(tmp_path):
    """OS Open Roads fields (``name1``, ``class``) named in the settings become the map's street names."""
    from hotspots.geo.study_area import read_roads, road_class

    roads = gpd.GeoDataFrame(
        {"name1": ["Station Road", None, "  "], "class": ["A Road", "Unclassified", "B Road"]},
        geometry=[
            shapely.LineString([(0, 0), (900, 0)]),
            shapely.LineString([(0, 50), (900, 50)]),
            shapely.LineString([(0, 90), (900, 90)]),
        ],
        crs=27700,
    )
    roads.to_file(tmp_path / "roads.gpkg", driver="GPKG")
    got, notes = read_roads(tmp_path / "roads.gpkg", "class", "name1", "EPSG:27700")
    assert got["road_class"].tolist() == ["a_road", "unclassified", "b_road"] and notes == []
    assert got["name"].iat[0] == "Station Road" and got["name"].isna().tolist() == [False, True, True]
    assert [lab.text for lab in street_labels_from_roads(got)] == ["Station Road"]
    _, notes = read_roads(tmp_path / "roads.gpkg", "road_class", "name", "EPSG:27700")
    assert any("road_name_field" in n for n in notes) and any("'road_class'" in n for n in notes)
    assert [road_class(v) for v in ("Motorway", "a road", "B-Road", "Classified Unnumbered", None)] == [
        "motorway",
        "a_road",
        "b_road",
        "classified_unnumbered",
        "unclassified",
    ]


def _overlapping_pairs(labels, zoom, latitude):
    """Brute force: every pair of labels shown at ``zoom`` whose boxes overlap."""
    res = metres_per_pixel(zoom, latitude)
    shown = [lab for lab in labels if lab.min_zoom <= zoom]
    boxes = np.array([_box(lab, res) for lab in shown]).reshape(-1, 4)
    bad = []
    for i, j in itertools.combinations(range(len(shown)), 2):
        a, b = boxes[i], boxes[j]
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
            bad.append((shown[i].text, shown[j].text))
    return bad


def test_thinned_labels_never_overlap_at_any_zoom_and_importance_wins():
    rng = np.random.default_rng(7)
    labels = [
        Label(f"Street {i}", float(x), float(y), float(a), "street", float(w), (0, 0, 0, 0))
        for i, (x, y, a, w) in enumerate(
            zip(
                rng.uniform(0, 4000, 400),
                rng.uniform(0, 4000, 400),
                rng.choice([0.0, 30.0, -60.0, 90.0], 400),
                rng.integers(1, 50, 400),
                strict=True,
            )
        )
    ]
    labels.append(Label("Big Ward", 2000.0, 2000.0, 0.0, "ward", 1e9, (0, 0, 0, 0)))
    labels.append(Label("Loser Street", 2000.0, 2000.0, 0.0, "street", 1.0, (0, 0, 0, 0)))
    out = thin_labels(labels, latitude=51.6)
    for z in range(11, 19):
        assert _overlapping_pairs(out, z, 51.6) == [], z
    got = {lab.text: lab for lab in out}
    assert got["Big Ward"].min_zoom == 11
    assert "Loser Street" not in got or got["Loser Street"].min_zoom > 18 - 1
    assert all(lab.min_zoom >= 13 for lab in out if lab.kind == "street")  # no street names further out
    counts = [sum(lab.min_zoom <= z for lab in out) for z in range(11, 19)]
    assert counts == sorted(counts) and counts[-1] > counts[2]  # more names as you zoom in


def test_the_same_name_is_not_repeated_close_by():
    labels = [
        Label("Oak Road", 0.0, 0.0, 0.0, "street", 5.0, (0, 0, 0, 0)),
        Label("Oak Road", 0.0, 150.0, 0.0, "street", 4.0, (0, 0, 0, 0)),
        Label("Oak Road", 0.0, 2000.0, 0.0, "street", 3.0, (0, 0, 0, 0)),
    ]
    out = thin_labels(labels, latitude=51.6)
    assert sorted(lab.y for lab in out) == [0.0, 2000.0]


def test_label_rows_are_latitude_longitude():
    rows = label_rows([Label("A", 530000.0, 180000.0, 12.4, "street", 1.0, (0, 0, 0, 0), 14)], 27700)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(530000, 180000)
    assert rows[0][:2] == pytest.approx([lat, lon], abs=1e-5) and rows[0][2:] == ["A", 12, 14, "street"]


# --------------------------------------------------------------------------- the palette
_CVD = {  # Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
    "normal": np.eye(3),
}


def _lab(hex_colour: str, m: np.ndarray) -> np.ndarray:
    c = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    rgb = np.clip(m @ np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4), 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _closest(colours: dict[str, str]) -> tuple[float, str]:
    worst = (math.inf, "")
    for vision, m in _CVD.items():
        for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2):
            d = float(np.linalg.norm(_lab(ca, m) - _lab(cb, m)))
            worst = min(worst, (d, f"{a} / {b} ({vision})"))
    return worst


def _key_colour(name: str) -> str:
    s = LAYER_STYLES[name]
    return s.fill if s.symbol in ("circle", "square", "triangle") else s.colour


def test_places_to_act_on_and_camera_layers_each_have_their_own_colour_and_symbol():
    names = (
        "tasking_items",
        "near_repeat_zones",
        "coverage_gaps",
        "proposed_sites",
        "anpr_readers",
        "cameras",
        "hotspot_areas",
        "fragile_hotspots",
    )
    d, pair = _closest({n: _key_colour(n) for n in names})
    assert d > 12, pair  # CIE76 distance, also under simulated colour blindness
    looks = {(LAYER_STYLES[n].symbol, LAYER_STYLES[n].dash, LAYER_STYLES[n].colour) for n in names}
    assert len(looks) == len(names)
    assert (
        len(
            {
                LAYER_STYLES[n].symbol
                for n in ("tasking_items", "near_repeat_zones", "coverage_gaps", "proposed_sites", "anpr_readers")
            }
        )
        == 5
    )


def test_emerging_classes_are_categorical_and_distinct():
    hot = {k: v for k, v in EMERGING_COLOURS.items() if k.endswith("hot spot")}
    assert len(hot) == 8 and len(set(hot.values())) == 8
    d, pair = _closest(hot)
    assert d > 12, pair
    cold = {k: v for k, v in EMERGING_COLOURS.items() if k.endswith("cold spot")}
    assert len(set(cold.values())) == 8 and not set(cold.values()) & set(hot.values())


def test_gi_star_is_diverging_red_to_blue_and_apart_from_the_other_families():
    def rgb(c):
        return [int(c[i : i + 2], 16) for i in (1, 3, 5)]

    for k in (1, 2, 3):
        assert rgb(GI_COLOURS[k])[0] > rgb(GI_COLOURS[k])[2] and rgb(GI_COLOURS[-k])[2] > rgb(GI_COLOURS[-k])[0]
    light = [sum(rgb(GI_COLOURS[k])) for k in (1, 2, 3)]
    assert light == sorted(light, reverse=True)  # stronger confidence, darker
    assert not set(GI_COLOURS.values()) & set(EMERGING_COLOURS.values())
    assert LAYER_STYLES["hotspot_areas"].colour not in set(GI_COLOURS.values()) | set(EMERGING_COLOURS.values())
    assert len(set(RAMPS.values())) == len(RAMPS)  # density, forecast and near-repeat risk in their own ramps
