"""The FIM pack built from the demo borough: every file, section and layer present."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import REPO, build_demo_pack, fast_config

DEMO_DATE = "2025-11-14"


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    return build_demo_pack(tmp_path_factory)


def test_pack_has_every_file(pack):
    for f in (
        "index.html",
        "map.html",
        "tasking.csv",
        "tasking.html",
        "layers.gpkg",
        "briefing.pdf",
        "manifest.json",
        "quarantine.csv",
        "ward_table.csv",
        "public/index.html",
        "public/map.html",
    ):
        assert (pack / f).is_file(), f
    wards = pd.read_csv(REPO / "data" / "boundaries" / "ward_population.csv")["ward_code"]
    assert sorted(p.stem for p in (pack / "wards").glob("*.html")) == sorted(wards)
    tifs = {p.name for p in (pack / "gis").glob("*.tif")}
    assert "density_all_types.tif" in tifs and "emerging_classes.tif" in tifs
    assert any(t.startswith("kde_burglary_residential") for t in tifs)


def test_index_links_everything_and_fills_sections(pack):
    html = (pack / "index.html").read_text()
    for href in ("map.html", "tasking.html", "tasking.csv", "layers.gpkg", "public/index.html", "manifest.json"):
        assert f'href="{href}"' in html, href
    for p in (pack / "wards").glob("*.html"):
        assert f'href="wards/{p.name}"' in html
    for section in (
        "Headline",
        "Top tasking items",
        "Emerging hotspots",
        "Near-repeat alert zones",
        "CCTV coverage gaps",
        "Forecast",
        "Data coverage",
    ):
        assert section in html
    man = json.loads((pack / "manifest.json").read_text())
    # a stage that did not run is reported as such, never silently missing
    for stage in ("nearrepeat", "coverage", "forecast"):
        if stage not in man["stages_run"]:
            assert "not run" in html
    assert {"surfaces", "trends", "nearrepeat", "coverage", "forecast"} <= set(man["stages_run"])
    assert "Method used:" in html and "live cameras" in html


def test_headline_counts_match_incidents(pack):
    """The headline fortnight count equals a direct count of the demo CSV."""
    man = json.loads((pack / "manifest.json").read_text())
    raw = pd.read_csv(REPO / "data" / "incidents" / "incidents.csv")
    kw = {"ambiguous": "NaT", "nonexistent": "NaT"}  # the hour the clocks go back is ambiguous
    s = pd.to_datetime(raw["committed_from"]).dt.tz_localize("Europe/London", **kw)
    e = pd.to_datetime(raw["committed_to"]).dt.tz_localize("Europe/London", **kw)
    unsure = int((s.isna() | e.isna()).sum())
    mid = s + (e - s) / 2
    fim = pd.Timestamp(DEMO_DATE, tz="Europe/London")
    cur = ((mid >= fim - pd.Timedelta(days=14)) & (mid < fim) & (e < fim)).sum()
    prev = ((mid >= fim - pd.Timedelta(days=28)) & (mid < fim - pd.Timedelta(days=14))).sum()
    assert man["headline"]["total"]["current"] == cur
    assert abs(man["headline"]["total"]["previous"] - prev) <= unsure


def test_layers_gpkg_in_bng_with_every_layer(pack):
    import geopandas as gpd
    import pyogrio

    listed = pyogrio.list_layers(pack / "layers.gpkg")
    # every map layer, and QGIS's layer_styles table (no geometry) with their styles
    names = [n for n, gtype in listed if gtype is not None]
    assert [n for n, gtype in listed if gtype is None] == ["layer_styles"]
    for n in ("wards", "tasking_items", "hotspot_areas", "emerging_hotspots"):
        assert n in names
    assert any(n.startswith("gistar_") for n in names)
    for n in names:
        info = pyogrio.read_info(pack / "layers.gpkg", layer=n)
        assert "27700" in info["crs"], n
    items = gpd.read_file(pack / "layers.gpkg", layer="tasking_items")
    csv = pd.read_csv(pack / "tasking.csv")
    assert list(items["item_id"]) == list(csv.loc[csv["rank"].notna(), "item_id"])


def test_geotiff_georeferenced_and_matches_surface(pack):
    """The all-type density GeoTIFF sits on the analysis grid: hot pixels lie inside tasking items."""
    import geopandas as gpd
    import numpy as np
    import rasterio

    with rasterio.open(pack / "gis" / "density_all_types.tif") as src:
        assert src.crs.to_epsg() == 27700
        arr = src.read(1, masked=True)
        r, c = np.unravel_index(int(np.argmax(arr.filled(-1))), arr.shape)
        x, y = src.xy(r, c)
    items = gpd.read_file(pack / "layers.gpkg", layer="tasking_items")
    d = items.geometry.distance(gpd.points_from_xy([x], [y])[0])
    assert d.min() < 300  # the densest cell is in (or next to) a ranked hotspot


def test_tasking_csv_columns_and_review_date(pack):
    df = pd.read_csv(pack / "tasking.csv")
    for c in (
        "rank",
        "item_id",
        "status",
        "location",
        "ward_name",
        "snt",
        "crime_types",
        "harm",
        "trend_class",
        "near_repeat_window",
        "peak_days",
        "peak_hours",
        "cctv_coverage",
        "tactic",
        "dosage",
        "owner",
        "review_date",
        "reason",
    ):
        assert c in df.columns, c
    ranked = df[df["rank"].notna()]
    assert list(ranked["rank"].astype(int)) == list(range(1, len(ranked) + 1))
    assert (ranked["review_date"] == "2025-11-28").all()
    assert ranked["item_id"].is_unique
    assert ranked["score"].is_monotonic_decreasing
    # the demo's planted night-time-economy violence is at the top with the night-time tactic
    # (the CSV names crime types in plain words; the canonical code is in layers.gpkg)
    top = ranked.iloc[0]
    assert top["main_crime"] == "Violence and sexual offences" and "Night-time" in top["tactic"]


def test_maps_under_size_and_offline(pack):
    from hotspots.render.offline import external_urls

    assert (pack / "map.html").stat().st_size < 5_000_000
    for p in [pack / "map.html", *sorted((pack / "wards").glob("*.html")), pack / "public" / "map.html"]:
        assert external_urls(p.read_text()) == [], p


def test_planted_patterns_reach_the_tasking_list(pack):
    """The demo's planted truth: the new car-park hotspot is tasked as emerging and uncovered by CCTV; the
    robbery hotspot that stopped in mid-2024 is not tasked; the night-time economy tops the list."""
    import json

    import geopandas as gpd
    import shapely

    truth = json.loads((REPO / "data" / "incidents" / "planted_truth.json").read_text())
    items = gpd.read_file(pack / "layers.gpkg", layer="tasking_items")
    em = shapely.Point(truth["emerging"]["x"], truth["emerging"]["y"])
    hit = items[items.geometry.distance(em) < 100]
    assert len(hit) >= 1
    row = hit.iloc[0]
    assert row["main_crime_type"] == "vehicle_crime"
    assert row["trend_class"] in ("new hot spot", "consecutive hot spot", "intensifying hot spot")
    assert row["cctv_coverage"].startswith("gap")
    stop = shapely.Point(truth["stopping"]["x"], truth["stopping"]["y"])
    near = items[(items.geometry.distance(stop) < 150) & (items["main_crime_type"] == "robbery")]
    assert near.empty
    top = items.iloc[0]
    assert top["main_crime_type"] in ("violence", "robbery") and top["time_of_day"] == "night"


@pytest.mark.slow
def test_rerun_gives_identical_ids_and_ranks(pack, tmp_path):
    """Same inputs -> same ids and ranks (the tasking list alone is rebuilt from a fresh analysis)."""
    from hotspots import pipeline
    from hotspots.tasking.fim import build_tasking

    # coverage and forecast do not change ids or scores; the stages that do are rerun from scratch
    res = pipeline.analyse(fast_config(), DEMO_DATE, stages=("surfaces", "trends", "nearrepeat"))
    tl = build_tasking(res, out_dir=tmp_path / f"fim-{DEMO_DATE}")
    first = pd.read_csv(pack / "tasking.csv")
    assert list(tl.items["item_id"]) == list(first["item_id"])
    assert list(tl.items["score"].round(3)) == list(first["score"].round(3))


def test_density_overlay_is_georeferenced():
    """A single hot cell warped to Web Mercator lands where pyproj puts the cell centre (within one cell)."""
    import base64
    import io

    import matplotlib.image as mpimg
    import numpy as np
    import shapely
    from pyproj import Transformer

    from hotspots.geo.grid import Grid
    from hotspots.render.layers import kde_overlay

    g = Grid.from_boundary(shapely.box(530000, 180000, 536000, 186000), 100)
    surf = np.zeros(g.shape)
    r, c = 17, 42
    surf[r, c] = 10.0
    o = kde_overlay(g, surf, "test", "units")
    img = mpimg.imread(io.BytesIO(base64.b64decode(o.uri.split(",", 1)[1])))
    alpha = img[..., 3]
    pr, pc = np.unravel_index(int(np.argmax(alpha)), alpha.shape)
    (s, w), (n, e) = o.bounds
    merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x0, y1 = merc.transform(w, n)
    x1, y0 = merc.transform(e, s)
    # pixel centre -> Mercator (linear in Mercator, as Leaflet draws it) -> BNG
    mx = x0 + (pc + 0.5) * (x1 - x0) / alpha.shape[1]
    my = y1 - (pr + 0.5) * (y1 - y0) / alpha.shape[0]
    bx, by = Transformer.from_crs("EPSG:3857", "EPSG:27700", always_xy=True).transform(mx, my)
    cx, cy = g.xmin + (c + 0.5) * 100, g.ymax - (r + 0.5) * 100
    assert abs(bx - cx) < 100 and abs(by - cy) < 100


def test_render_config_validation(tmp_path):
    from hotspots.config import build_section
    from hotspots.errors import ConfigError
    from hotspots.render.maps import RenderConfig

    assert build_section(RenderConfig, {}, "x.toml", "render").basemap == "none"
    assert build_section(RenderConfig, {"basemap": "osm"}, "x.toml", "render").basemap == "osm"
    with pytest.raises(ConfigError, match="attribution"):
        build_section(RenderConfig, {"basemap": "https://t.example/{z}/{x}/{y}.png"}, "x.toml", "render")
    with pytest.raises(ConfigError, match="basemap"):
        build_section(RenderConfig, {"basemap": "google"}, "x.toml", "render")


def _bare_run(basemap: str):
    """A run with only the study area loaded (no analysis): enough to draw a map."""
    import geopandas as gpd

    from hotspots.config import load_config
    from hotspots.ingest import IngestResult
    from hotspots.model import INCIDENT_COLUMNS
    from hotspots.stages import RunInputs, RunResults
    from hotspots.stages.inputs import load_study_area

    cfg = load_config(REPO / "config" / "demo.toml")
    cfg = cfg.override("render", basemap=basemap)
    area = load_study_area(cfg)
    none = gpd.GeoDataFrame({c: [] for c in INCIDENT_COLUMNS if c != "geometry"}, geometry=[], crs=area.crs)
    inputs = RunInputs(
        cfg=cfg,
        area=area,
        ingest=IngestResult(none, pd.DataFrame()),
        incidents=none,
        grid=area.grid(0),
        fim_date=pd.Timestamp(DEMO_DATE, tz="Europe/London"),
    )
    return RunResults(inputs=inputs)


@pytest.mark.parametrize("basemap", ["none", "osm"])
def test_basemap_setting(basemap, tmp_path):
    from hotspots.render.maps import build_map, prepare, save_map

    if not (REPO / "data" / "boundaries" / "wards.geojson").exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    res = _bare_run(basemap)
    m = build_map(res, prepare(res))
    save_map(m, tmp_path / "m.html")
    html = (tmp_path / "m.html").read_text()
    if basemap == "osm":
        assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in html and "OpenStreetMap" in html
    else:
        assert "{z}" not in html and "tile.openstreetmap" not in html
    # every analysis stage is listed as missing on the map ("Not on this map"), in plain words, rather than failing
    from hotspots.render.mappage import read_page_data
    from hotspots.vocabulary import stage_label

    notes = read_page_data(html)["notes"]
    for stage in ("surfaces", "trends", "nearrepeat", "coverage", "forecast"):
        assert f"{stage_label(stage)}: not run" in notes
        assert not any(n.startswith(f"{stage}:") for n in notes)


def test_refusing_stage_is_reported_and_a_faulty_stage_stops_the_run():
    from hotspots.errors import PrecisionError
    from hotspots.progress import Reporter
    from hotspots.stages import Stage, run_stages

    def refuse(res):
        raise PrecisionError("needs day-precision times")

    def crash(res):
        raise ZeroDivisionError("boom")

    if not (REPO / "data" / "boundaries" / "wards.geojson").exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    refusing = Stage(name="nearrepeat", title="nearrepeat", sections=("nearrepeat",), depends_on=(), run=refuse)
    faulty = Stage(name="forecast", title="forecast", sections=("forecast",), depends_on=(), run=crash)
    bare = _bare_run("none")
    res = run_stages(bare, [refusing], reporter=Reporter(quiet=True))
    assert dict(res.not_run) == {"nearrepeat": "needs day-precision times"}
    assert res.nearrepeat is None and res.forecast is None
    with pytest.raises(ZeroDivisionError):  # a fault is never hidden in a pack
        run_stages(bare, [refusing, faulty], reporter=Reporter(quiet=True))


@pytest.mark.slow
@pytest.mark.shared_data
def test_barnet_pack_from_real_data(shared_data, tmp_path):
    """Real police.uk data (month precision): the pack builds, the borough map stays under 5 MB and offline,
    and the list leaves out the peak times (no information with month data) and says why, once."""
    from hotspots import pipeline
    from hotspots.render.offline import external_urls

    out = pipeline.run(
        fast_config(REPO / "config" / "barnet.toml", data_dir=shared_data),
        fim_date="2018-06-15",
        out_dir=tmp_path / "fim-2018-06-15",
        quiet=True,
    )
    assert (out / "map.html").stat().st_size < 5_000_000
    assert external_urls((out / "map.html").read_text()) == []
    df = pd.read_csv(out / "tasking.csv")
    assert len(df) and "peak_days" not in df.columns and "peak_hours" not in df.columns
    man = json.loads((out / "manifest.json").read_text())
    assert any("Peak days and Peak hours" in n and "month" in n for n in man["tasking"]["omitted_columns"])
    assert man["rows"]["rows_read"] == man["rows"]["accepted"] + man["rows"]["quarantined"]
    assert len(list((out / "wards").glob("*.html"))) == man["layers"]["wards"]
    # CCTV: both inventories stated, gap places named with their own harm, readers and sites named
    html = (out / "index.html").read_text()
    cctv = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[html.index("<h2>CCTV and ANPR") :]))
    assert "Barnet Council public-space CCTV list dated 2017-06-12: 124 camera rows in the list" in cctv
    assert "20 good (within 75 m), 48 fair (within 200 m)" in cctv and "TfL JamCam traffic cameras" in cctv
    gaps = pd.read_csv(out / "cctv" / "gap_places.csv")
    assert gaps["name"].str.contains("/").sum() >= len(gaps) // 2 and gaps["ward_name"].notna().all()
    # each place its own harm, not the borough total repeated: the places are disjoint (an incident counts in
    # one place at most) and no two of the top ten show the same harm (small places may tie, e.g. 13 and 13)
    places = gpd.read_file(out / "layers.gpkg", layer="coverage_gaps")
    assert len(places) == len(gaps) and places["harm"].tolist() == gaps["harm"].tolist()
    geoms = list(places.geometry)
    assert not any(geoms[i].intersects(geoms[j]) for i in range(len(geoms)) for j in range(i + 1, len(geoms)))
    assert gaps["harm"].head(10).nunique() == min(10, len(gaps))
    readers = pd.read_csv(out / "cctv" / "anpr_readers.csv")
    assert len(readers) == 3 and readers["reason"].str.contains("crosses the boundary into").all()
    sites = pd.read_csv(out / "cctv" / "proposed_sites.csv")
    assert sites["street"].notna().all() and sites["ward_name"].notna().all()
    # the printable briefing: A4, at most 6 pages, the top place by id and street
    from test_briefing import check_a4, pdf_pages

    assert 2 <= check_a4(out / "briefing.pdf") <= 6
    text = " ".join(pdf_pages(out / "briefing.pdf"))
    assert str(df["item_id"].iat[0]) in text and str(df["place_name"].iat[0]).split(",")[0] in text


def test_pages_show_no_python_object_text(pack):
    """Template slips (a method or object printed instead of its value) never reach a page."""
    for page in ("index.html", "tasking.html", "public/index.html"):
        html = (pack / page).read_text()
        for slip in ("built-in method", "<bound method", "object at 0x", "{{", "}}", "None</td>"):
            assert slip not in html, (page, slip)
