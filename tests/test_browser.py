"""The pack's pages in a real headless Chromium, opened from file:// with no network, at desktop (1400 x 900)
and phone (390 x 844) sizes: layers, legend, labels, rank badges, controls that never overlap, printing,
no request outside the pack, and hostile input data shown as text and never run."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import build_demo_pack

from hotspots.config.sections import PublicConfig
from hotspots.render.filenames import ward_map_href
from hotspots.render.public import PublicTier, public_tier

pytestmark = pytest.mark.browser

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1400, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def chromium_path() -> str | None:
    for p in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if p and Path(p).exists():
            return p
    return None


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return build_demo_pack(tmp_path_factory)


@pytest.fixture(scope="module")
def chromium():
    exe = chromium_path()
    if exe is None:
        pytest.skip("chromium not found: run `make browser` (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def browser(chromium):
    """A desktop browser window (1400 x 900)."""
    ctx = chromium.new_context(**DESKTOP)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def phone(chromium):
    """A phone (390 x 844, touch)."""
    ctx = chromium.new_context(**PHONE)
    yield ctx
    ctx.close()


def open_page(ctx, path: Path, allowed: Path | None = None):
    """Open ``path``; every request outside ``allowed`` (default: the page's folder tree) is recorded and
    refused, dialogs are recorded and dismissed, errors collected."""
    page = ctx.new_page()
    root = (allowed or path.parent).as_uri()
    log: dict[str, list[str]] = {"errors": [], "requests": [], "outside": [], "dialogs": []}

    def route(r):
        url = r.request.url
        log["requests"].append(url)
        if url.startswith((root, "data:", "about:")):
            r.continue_()
        else:
            log["outside"].append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    if page.locator("#hs-map").count():
        page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    page.wait_for_timeout(200)
    return page, log


def ward_files(pack: Path) -> dict[str, Path]:
    """Ward code -> its map, from the pack's ward table (the one file-name rule, render/filenames.py)."""
    wt = pd.read_csv(pack / "ward_table.csv", dtype={"ward_code": str})
    return {c: pack / ward_map_href(c) for c in wt["ward_code"]}


def box(page, selector: str) -> dict | None:
    loc = page.locator(selector)
    if not loc.count() or not loc.first.is_visible():
        return None
    return loc.first.bounding_box()


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def inside(a: dict, w: float, h: float) -> bool:
    return a["x"] >= 0 and a["y"] >= 0 and a["x"] + a["width"] <= w + 0.5 and a["y"] + a["height"] <= h + 0.5


JS_VISIBLE = "() => Object.keys(hsLayers).filter(k => hsMap.hasLayer(hsLayers[k])).sort()"
JS_LEGEND = "() => [...document.querySelectorAll('#hs-legend-body .hs-leg')].map(e => e.dataset.layer).sort()"
JS_CHECKED = (
    "() => [...document.querySelectorAll('#hs-layers-body input:checked')].map(e => e.dataset.layer)"
    ".filter(Boolean).sort()"
)
JS_OPEN_ALL = """() => {  // tick every layer, then open every popup and tooltip; returns the text they showed
  document.querySelectorAll('#hs-layers-body input[type=checkbox]').forEach(i => {
    if (!i.checked) { i.checked = true; i.dispatchEvent(new Event('change')); } });
  const texts = []; let n = 0;
  const walk = (x) => {
    if (x.eachLayer) { x.eachLayer(walk); return; }
    if (x.getPopup && x.getPopup()) { x.openPopup(); n++;
      const c = document.querySelector('.leaflet-popup-content'); if (c) texts.push(c.textContent); }
    if (x.getTooltip && x.getTooltip()) { x.openTooltip();
      const t = document.querySelector('.leaflet-tooltip'); if (t) texts.push(t.textContent); x.closeTooltip(); }
  };
  for (const id in hsLayers) if (hsMap.hasLayer(hsLayers[id])) walk(hsLayers[id]);
  document.querySelectorAll('#hs-layers-body input[type=radio]').forEach(i => {
    i.checked = true; i.dispatchEvent(new Event('change')); });
  return {n: n, texts: texts};
}"""


# --------------------------------------------------------------------------- the borough map
def test_borough_map_loads_offline_with_layers(browser, pack, tmp_path):
    page, log = open_page(browser, pack / "map.html")
    assert log["errors"] == [] and log["outside"] == []
    labels = [t.strip() for t in page.locator("#hs-layers-body label").all_inner_texts()]
    for want in (
        "Ward boundaries",
        "Roads",
        "Street names",
        "Ward and town-centre names",
        "Density of harm: all crime types",
        "Forecast: expected incidents",
        "Near-repeat burglary risk",
        "Emerging hotspots (trend class)",
        "Hotspot areas (by crime type)",
        "Tasking items",
        "Near-repeat alert zones",
        "Cameras",
        "Proposed camera sites",
    ):
        assert want in labels, labels
    assert any(lab.startswith("Hot and cold spots: ") for lab in labels)
    assert not any("_" in lab for lab in labels)  # crime types in plain words
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    assert page.locator("#hs-legend .hs-leg").count() >= 5
    shot = tmp_path / "borough.png"
    page.screenshot(path=str(shot))
    import matplotlib.image as mpimg

    assert float(np.var(mpimg.imread(str(shot))[..., :3])) > 0
    page.close()


def test_toggling_a_layer_changes_the_page(browser, pack, tmp_path):
    page, log = open_page(browser, pack / "map.html")
    before = page.locator(".leaflet-pane path").count()
    page.locator("#hs-layers-body label", has_text="Emerging hotspots").locator("input").check()
    page.wait_for_timeout(200)
    assert page.locator(".leaflet-pane path").count() > before
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    page.screenshot(path=str(a))
    page.locator("#hs-layers-body label", has_text="Tasking items").locator("input").uncheck()
    page.wait_for_timeout(200)
    page.screenshot(path=str(b))
    assert a.read_bytes() != b.read_bytes()
    assert page.locator(".hs-rank").count() == 0  # the rank badges go with their layer
    assert log["errors"] == []
    page.close()


def test_search_by_tasking_id_moves_the_map_and_opens_the_item(browser, pack):
    item = pd.read_csv(pack / "tasking.csv")["item_id"].iat[0]
    page, log = open_page(browser, pack / "map.html")
    z0 = page.evaluate("() => hsMap.getZoom()")
    page.fill("#hs-search", item)
    page.press("#hs-search", "Enter")
    page.wait_for_timeout(300)
    assert page.evaluate("() => hsMap.getZoom()") > z0
    assert item in page.locator(".leaflet-popup-content h3").inner_text()
    page.fill("#hs-search", "no such place anywhere")
    page.press("#hs-search", "Enter")
    assert page.locator("#hs-search-miss").inner_text() == "No match"
    assert log["errors"] == []
    page.close()


def test_ward_maps_and_pages_load_without_errors(browser, pack):
    pages = [pack / "index.html", pack / "tasking.html", pack / "public" / "index.html", pack / "public" / "map.html"]
    df = pd.read_csv(pack / "tasking.csv", dtype={"ward_code": str})
    wards = list(ward_files(pack).items())[:3]
    for p in [*pages, *(f for _, f in wards)]:
        page, log = open_page(browser, p, allowed=pack)
        assert log["errors"] == [], p
        assert log["outside"] == [], p
        page.close()
    for code, f in wards:
        # the SNT's own items are listed on its map, matching tasking.csv
        page, _ = open_page(browser, f)
        own = df[(df["ward_code"] == code) & df["rank"].notna()]
        assert f"({len(own)})" in page.inner_text("#hs-items-title")
        assert page.locator("#hs-items-body button").count() == len(own)
        page.close()


def test_popup_opens_on_tasking_item(browser, pack):
    page, log = open_page(browser, pack / "map.html")
    page.locator(".hs-rank").first.click()
    page.wait_for_timeout(200)
    txt = page.locator(".leaflet-popup-content").inner_text()
    assert "Tactic" in txt and "Review" in txt and "Rank " in txt
    assert log["errors"] == []
    page.close()


# --------------------------------------------------------------------------- legend, labels, ranks
def test_legend_entries_are_the_visible_layers(browser, pack):
    page, log = open_page(browser, pack / "map.html")

    def same():
        vis = page.evaluate(JS_VISIBLE)
        assert page.evaluate(JS_LEGEND) == vis
        assert page.evaluate(JS_CHECKED) == vis
        return vis

    first = same()
    assert "items" in first and "zones" in first and "surface-0" in first
    inputs = page.locator("#hs-layers-body input[type=checkbox]")
    for i in range(inputs.count()):  # tick every layer one by one
        inputs.nth(i).check()
        same()
    radios = page.locator("#hs-layers-body input[type=radio]")
    names = page.locator("#hs-layers-body input[type=radio] + span").all_inner_texts()
    for i in range(radios.count()):  # one surface at a time, forecast and near-repeat risk included
        radios.nth(i).check()
        vis = same()
        surfaces = [v for v in vis if v.startswith("surface-")]
        assert len(surfaces) == (0 if names[i] == "None" else 1)
        if names[i] != "None":
            title = page.locator(f"#hs-legend-body .hs-leg[data-layer='{surfaces[0]}'] h3").inner_text()
            assert title == names[i]
    for i in range(inputs.count()):
        inputs.nth(i).uncheck()
    assert same() == []
    assert "No layer is switched on" in page.inner_text("#hs-legend-body")
    assert log["errors"] == []
    page.close()


def test_street_ward_and_town_names_are_on_the_map(browser, pack):
    from hotspots.render.mappage import read_page_data

    data = read_page_data((pack / "map.html").read_text())
    streets = next(layer for layer in data["layers"] if layer["id"] == "streets")["rows"]
    page, log = open_page(browser, pack / "map.html")
    wards = page.locator(".hs-label-ward").all_inner_texts()
    assert len(wards) >= 15  # most of the 20 ward names at the borough view
    assert page.locator(".hs-label-town").count() >= 3
    # the page shows exactly the street names its data place at this zoom (and around the view)
    want = page.evaluate(
        "(rows) => { const z = hsMap.getZoom(), b = hsMap.getBounds().pad(0.3);"
        " return rows.filter(r => r[4] <= z && b.contains([r[0], r[1]])).map(r => r[2]).sort(); }",
        streets,
    )
    assert sorted(page.locator(".hs-label-street").all_inner_texts()) == want
    n_out = len(want)
    # the street name nearest the first tasking item, shown from zoom 13 or 14, is there at zoom 16 among others
    at = next(layer for layer in data["layers"] if layer["id"] == "items")["fc"]["features"][0]["properties"]["at"]
    lat, lon, text = min(
        ((r[0], r[1], r[2]) for r in streets if r[4] <= 14), key=lambda r: (r[0] - at[0]) ** 2 + (r[1] - at[1]) ** 2
    )
    page.evaluate(f"() => {{ hsMap.setView([{lat}, {lon}], 16, {{animate: false}}); }}")
    page.wait_for_timeout(300)
    shown = page.locator(".hs-label-street").all_inner_texts()
    assert text in shown and len(shown) >= 5
    page.evaluate("() => { hsMap.setZoom(18, {animate: false}); }")
    page.wait_for_timeout(200)
    assert page.locator(".hs-label-street").count() > 0
    assert n_out > 0
    # labels never overlap on screen (their boxes, rotated text included)
    boxes = [b for b in (e.bounding_box() for e in page.locator(".hs-label-text").all()) if b]
    hits = [(i, j) for i, j in itertools.combinations(range(len(boxes)), 2) if overlap(boxes[i], boxes[j])]
    assert len(hits) <= len(boxes) // 10, hits  # the placement rule allows for font metrics, not more
    assert log["errors"] == []
    page.close()


def test_rank_badges_are_present_and_on_top(browser, pack):
    df = pd.read_csv(pack / "tasking.csv")
    ranked = df[df["rank"].notna()]
    page, log = open_page(browser, pack / "map.html")
    badges = page.locator(".hs-rank")
    assert badges.count() == len(ranked)
    assert sorted(int(t) for t in badges.all_inner_texts()) == sorted(ranked["rank"].astype(int))
    z = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.leaflet-map-pane > .leaflet-pane')].map("
        "p => [p.className.split(' ').find(c => c !== 'leaflet-pane' && c.endsWith('-pane')),"
        " +getComputedStyle(p).zIndex || 0]))"
    )
    others = [
        v for k, v in z.items() if k not in ("leaflet-hs-ranks-pane", "leaflet-tooltip-pane", "leaflet-popup-pane")
    ]
    assert len(others) >= 8 and z["leaflet-hs-ranks-pane"] > max(others)
    # at the centre of every badge the topmost element is a rank badge (never a place, label or marker)
    top = page.evaluate(
        "() => [...document.querySelectorAll('.hs-rank')].map(b => { const r = b.getBoundingClientRect();"
        " const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
        " return !!(e && e.closest('.hs-rank')); })"
    )
    assert all(top)
    # wherever two badges overlap, the lower rank number is the one on top
    badges = page.evaluate(
        "() => [...document.querySelectorAll('.hs-rank')].map(b => { const r = b.getBoundingClientRect();"
        " return {rank: +b.textContent, z: +b.style.zIndex, x: r.x, y: r.y, width: r.width, height: r.height}; })"
    )
    pairs = [(a, b) for a, b in itertools.combinations(badges, 2) if overlap(a, b)]
    for a, b in pairs:
        assert (a["z"] > b["z"]) == (a["rank"] < b["rank"]), (a, b)
    assert log["errors"] == []
    page.close()


def test_a_rank_badge_never_covers_a_town_centre_name(browser, pack):
    """Town-centre items put their badge on the town centre's name point: the name moves clear of it at every zoom,
    on the borough map and on the ward maps, and comes back when the tasking items are switched off."""
    df = pd.read_csv(pack / "tasking.csv", dtype={"ward_code": str})
    towns = df[df["place_name"].astype(str).str.endswith("town centre")]
    assert len(towns) >= 3  # the demo's town centres are on the list
    wards = ward_files(pack)
    pages = [pack / "map.html", *(wards[c] for c in towns["ward_code"].unique())]
    js_boxes = (
        "s => [...document.querySelectorAll(s)].map(e => { const r = e.getBoundingClientRect();"
        " return {x: r.x, y: r.y, width: r.width, height: r.height}; })"
    )
    checked = 0
    for path in pages:
        page, log = open_page(browser, path)
        for z in (None, 13, 14, 15, 16, 17):
            if z is not None:
                page.evaluate(f"() => {{ hsMap.setZoom({z}, {{animate: false}}); }}")
                page.wait_for_timeout(150)
            names = page.evaluate(js_boxes, ".hs-label-town .hs-label-text")
            badges = page.evaluate(js_boxes, ".hs-rank")
            assert not [(n, b) for n in names for b in badges if overlap(n, b)], (path.name, z)
            checked += len(names)
        page.locator("#hs-layers-body label", has_text="Tasking items").locator("input").uncheck()
        page.wait_for_timeout(150)
        moved = page.evaluate(
            "() => [...document.querySelectorAll('.hs-label-town .hs-label-text')]"
            ".filter(e => e.style.transform).length"
        )
        assert moved == 0  # without badges every name sits on its own point
        assert log["errors"] == []
        page.close()
    assert checked > 0


def test_hotspots_that_depend_on_the_grid_are_a_layer_in_plain_words(browser, pack):
    """The fragile hotspot areas of the run (layers.gpkg, hotspot_robustness) are a map layer off at first, with a
    legend entry in plain words once switched on; fragile tasking items say so in the list of places."""
    import geopandas as gpd

    rob = gpd.read_file(pack / "layers.gpkg", layer="hotspot_robustness")
    n_fragile = int(rob["fragile"].astype(bool).sum())
    assert n_fragile > 0  # the demo has hotspot areas few other grids find
    page, log = open_page(browser, pack / "map.html")
    n = page.evaluate("() => hsLayers.fragile.getLayers().length")
    assert n == n_fragile
    assert not page.evaluate("() => hsMap.hasLayer(hsLayers.fragile)")
    assert "depend on the grid" not in page.inner_text("#hs-legend-body")
    page.locator("#hs-layers-body label", has_text="Hotspots that depend on the grid").locator("input").check()
    page.wait_for_timeout(200)
    assert "Hotspot that depends on the grid" in page.inner_text("#hs-legend-body")
    tasking = pd.read_csv(pack / "tasking.csv")
    fragile_items = tasking[tasking["robustness"].astype(str).str.startswith("fragile")]
    assert len(fragile_items)
    listed = page.evaluate("() => document.getElementById('hs-items').textContent")
    assert listed.count("hotspot that depends on the grid") == len(fragile_items)
    assert log["errors"] == []
    page.close()


def test_numbered_camera_sites_are_above_the_names(browser, pack):
    page, log = open_page(browser, pack / "public" / "cctv_consultation.html")
    sites = page.locator(".hs-marker")
    assert sites.count() > 0
    z = page.evaluate(
        "() => [...document.querySelectorAll('.hs-marker')].map(m => +getComputedStyle(m.closest('.leaflet-pane'))"
        ".zIndex).concat([+getComputedStyle(document.querySelector('.leaflet-hs-labels-pane')).zIndex])"
    )
    *marks, labels = z
    assert min(marks) > labels  # a ward or street name never hides a site's number
    assert log["errors"] == []
    page.close()


def _overlap_page(tmp_path: Path) -> Path:
    """A map whose tasking items 17 and 4 cover the same place (4 drawn smaller inside 17), and item 9 apart."""
    from hotspots.config.sections import RenderConfig
    from hotspots.render.geojson import FeatureSet
    from hotspots.render.mappage import MapLayer, MapPage, style_data
    from hotspots.render.palette import LAYER_STYLES

    geoms = [
        shapely.box(530000, 180000, 530600, 180600),
        shapely.box(530100, 180100, 530500, 180500),
        shapely.box(531500, 181500, 531700, 181700),
    ]
    ranks, ids = [17, 4, 9], ["T-17", "T-04", "T-09"]
    items = gpd.GeoDataFrame({"rank": ranks}, geometry=geoms, crs=27700)
    rc = RenderConfig()
    at = gpd.GeoSeries(
        [shapely.Point(530550, 180550), shapely.Point(530150, 180150), shapely.Point(531600, 181600)], crs=27700
    ).to_crs(4326)
    fs = FeatureSet.build(
        items,
        {
            "r": ranks,
            "id": ids,
            "pt": [f"Rank {r}: {i}" for r, i in zip(ranks, ids, strict=True)],
            "p": [[["Where", f"place {i}"]] for i in ids],
            "at": [[p.y, p.x] for p in at],
            "ward": ["W"] * 3,
        },
        0.0,
        rc.coord_decimals,
    )
    layer = MapLayer(
        "items",
        "Tasking items",
        "Places",
        "vector",
        True,
        "hs-items",
        {"title": "Items", "entries": []},
        {"style": style_data(LAYER_STYLES["tasking_items"]), "ranks": True},
        features=fs,
    )
    b = gpd.GeoSeries([shapely.box(529800, 179800, 531900, 181900)], crs=27700).to_crs(4326).total_bounds
    page = MapPage("Overlap", "", {"view": [[b[1], b[0]], [b[3], b[2]]], "search": [], "list": None}, layers=(layer,))
    return page.save(tmp_path / "overlap.html")


def test_a_click_on_overlapping_places_opens_the_top_ranked(browser, tmp_path):
    page, log = open_page(browser, _overlap_page(tmp_path))
    # a point inside both items 17 and 4, away from both badges
    xy = page.evaluate(
        "() => { const p = hsMap.latLngToContainerPoint(L.latLng(" + _ll(530300, 180350) + "));"
        " const r = document.getElementById('hs-map').getBoundingClientRect(); return [r.x + p.x, r.y + p.y]; }"
    )
    page.mouse.click(*xy)
    page.wait_for_timeout(200)
    assert page.locator(".leaflet-popup-content h3").inner_text() == "Rank 4: T-04"
    page.keyboard.press("Escape")
    # item 17's badge still opens item 17
    page.locator(".hs-rank", has_text="17").click()
    page.wait_for_timeout(200)
    assert page.locator(".leaflet-popup-content h3").inner_text() == "Rank 17: T-17"
    assert log["errors"] == []
    page.close()


def _ll(x: float, y: float) -> str:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(x, y)
    return f"{lat}, {lon}"


# --------------------------------------------------------------------------- desktop and phone layouts
#: The controls that must never cover each other. The zoom buttons and the full-screen button share one bar.
CONTROLS_DESKTOP = {
    "title": "#hs-title",
    "search": "#hs-search",
    "layers": "#hs-layers",
    "legend": "#hs-legend",
    "zoom in": ".leaflet-control-zoom-in",
    "zoom out": ".leaflet-control-zoom-out",
    "fullscreen": ".leaflet-control-zoom-fullscreen",
}
CONTROLS_PHONE = {
    **CONTROLS_DESKTOP,
    "layers": "#hs-tabs button[data-panel='hs-layers']",
    "legend": "#hs-tabs button[data-panel='hs-legend']",
}


def _assert_controls_apart(page, controls: dict[str, str], w: int, h: int):
    """No two controls overlap, and each is on screen: wholly, or (a section of the side panel, which scrolls)
    its visible part inside the panel, with its heading showing."""
    boxes = {k: box(page, sel) for k, sel in controls.items()}
    assert all(boxes.values()), {k: v for k, v in boxes.items() if not v}
    panel = box(page, "#hs-panel")
    for k, b in boxes.items():
        if panel and controls[k].startswith("#hs-") and overlap(b, panel) and k in ("layers", "legend"):
            assert inside(panel, w, h) and b["y"] + 24 <= panel["y"] + panel["height"], (k, b, panel)
        else:
            assert inside(b, w, h), (k, b)
    for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2):
        assert not overlap(ba, bb), (a, b, ba, bb)


@pytest.mark.parametrize("which", ["map.html", "ward", "public/map.html"])
def test_no_two_controls_overlap_on_a_desktop(browser, pack, which):
    path = next(iter(ward_files(pack).values())) if which == "ward" else pack / which
    page, log = open_page(browser, path)
    _assert_controls_apart(page, CONTROLS_DESKTOP, 1400, 900)
    # the panel (legend, layers, list) scrolls inside the window: never cut off
    panel = box(page, "#hs-panel")
    assert inside(panel, 1400, 900)
    assert page.evaluate("() => getComputedStyle(document.getElementById('hs-panel')).overflowY") == "auto"
    assert log["errors"] == []
    page.close()


@pytest.mark.parametrize("which", ["map.html", "ward", "public/map.html", "public/cctv_consultation.html"])
def test_phone_shows_title_search_and_map_with_panels_collapsed(phone, pack, which):
    path = next(iter(ward_files(pack).values())) if which == "ward" else pack / which
    page, log = open_page(phone, path)
    _assert_controls_apart(page, CONTROLS_PHONE, 390, 844)
    assert not page.locator("#hs-layers").is_visible() and not page.locator("#hs-legend").is_visible()
    m = box(page, "#hs-map")
    assert m["height"] > 500 and m["width"] == 390
    # the legend opens as a sheet inside the screen, scrolls within it, and closes again
    page.locator("#hs-tabs button[data-panel='hs-legend']").click()
    sheet = box(page, "#hs-panel")
    assert page.locator("#hs-legend").is_visible() and not page.locator("#hs-layers").is_visible()
    assert inside(sheet, 390, 844) and sheet["height"] <= 0.65 * m["height"] + 40
    assert page.evaluate("() => getComputedStyle(document.getElementById('hs-panel')).overflowY") == "auto"
    page.locator("#hs-panel-close").click()
    assert not page.locator("#hs-panel").is_visible()
    assert log["errors"] == []
    page.close()


def test_phone_ward_map_shows_the_wards_own_tasking_items(phone, pack):
    df = pd.read_csv(pack / "tasking.csv", dtype={"ward_code": str})
    owning = df[df["rank"].notna()]["ward_code"].value_counts()
    files = ward_files(pack)
    checked = 0
    for code in owning.index[:3]:
        page, log = open_page(phone, files[code])
        own = df[(df["ward_code"] == code) & df["rank"].notna()]["rank"].astype(int)
        m = box(page, "#hs-map")
        tabs = box(page, "#hs-tabs")
        for r in own:
            b = page.locator(".hs-rank", has_text=re.compile(rf"^{r}$")).first.bounding_box()
            assert b is not None, (code, r)
            assert m["x"] <= b["x"] and b["x"] + b["width"] <= m["x"] + m["width"], (code, r, b)
            assert m["y"] <= b["y"] and b["y"] + b["height"] <= min(m["y"] + m["height"], tabs["y"]), (code, r, b)
        assert page.locator("#hs-tab-items").inner_text() == f"Items ({len(own)})"
        assert log["errors"] == []
        page.close()
        checked += 1
    assert checked


def test_a_place_opened_from_the_list_on_a_phone_shows_its_whole_popup(phone, pack):
    df = pd.read_csv(pack / "tasking.csv", dtype={"ward_code": str})
    top = df[df["rank"] == 1].iloc[0]
    page, log = open_page(phone, ward_files(pack)[top["ward_code"]])
    page.locator("#hs-tab-items").click()
    page.locator("#hs-items-body button").first.click()
    page.wait_for_timeout(500)
    assert page.locator(".leaflet-popup-content h3").inner_text().startswith(f"Rank 1: {top['place_name']}")
    pop, m, zoom = box(page, ".leaflet-popup-content-wrapper"), box(page, "#hs-map"), box(page, ".leaflet-control-zoom")
    assert m["x"] <= pop["x"] and pop["x"] + pop["width"] <= m["x"] + m["width"], (pop, m)  # nothing cut off
    assert m["y"] <= pop["y"] and pop["y"] + pop["height"] <= m["y"] + m["height"], (pop, m)
    assert not overlap(pop, zoom), (pop, zoom)  # the zoom buttons never cover its text
    assert inside(box(page, ".leaflet-popup-close-button"), 390, 844)
    assert log["errors"] == []
    page.close()


def _tier(x: np.ndarray, y: np.ndarray, b) -> PublicTier:
    """The public tier (250 m squares, threshold 5) of points ``x``, ``y`` (EPSG:27700) inside ``b``."""
    end = pd.Timestamp("2025-08-01", tz="Europe/London")
    inc = pd.DataFrame({"x": x, "y": y, "start": end, "end": end, "crime_type": "burglary"})
    as_of = pd.Timestamp("2025-10-01", tz="Europe/London")
    return public_tier(inc, b, PublicConfig(cell_size_m=250, min_count=5), as_of=as_of, crs="EPSG:27700")


def _consultation_page(tmp_path: Path, url: str) -> Path:
    from hotspots.config.sections import RenderConfig
    from hotspots.render.public_maps import PublicMapText, public_map

    rng = np.random.default_rng(4)
    b = shapely.box(529000, 179000, 532000, 182000)
    cells = _tier(rng.normal(530500, 300, 600), rng.normal(180500, 300, 600), b).cells
    text = PublicMapText("Consultation", "", "", (), respond_text="Tell us by 31 January", respond_url=url)
    name = re.sub(r"\W", "_", url) + ".html"
    return public_map(cells, cells["incidents"].to_numpy(), b, text, RenderConfig(), kind="consultation").save(
        tmp_path / name
    )


def test_the_consultation_map_says_how_to_respond_and_links_only_web_and_mail(browser, phone, tmp_path):
    page, log = open_page(browser, _consultation_page(tmp_path, "https://example.org/cctv"))
    assert "Tell us by 31 January" in page.inner_text("#hs-respond")
    assert page.locator("#hs-respond a").get_attribute("href") == "https://example.org/cctv"
    page.close()
    for url in ("javascript:alert(1)", " javascript:alert(1)", "data:text/html,<b>x</b>"):
        page, log = open_page(browser, _consultation_page(tmp_path, url))
        assert page.locator("#hs-respond a").count() == 0 and url.strip() in page.inner_text("#hs-respond")
        assert log["errors"] == [] and log["dialogs"] == []
        page.close()
    page, _ = open_page(phone, _consultation_page(tmp_path, "mailto:cctv@example.org"))
    page.locator("#hs-tabs button[data-panel='hs-about']").click()
    assert page.locator("#hs-respond a").is_visible()
    assert page.locator("#hs-respond a").get_attribute("href") == "mailto:cctv@example.org"
    page.close()


# --------------------------------------------------------------------------- offline, printing
def test_no_page_the_project_writes_requests_anything_outside_the_pack(browser, pack, tmp_path):
    from hotspots.render.coverage import write_public_map

    rng = np.random.default_rng(3)
    x, y = rng.normal(530500, 300, 800), rng.normal(180500, 300, 800)
    b = shapely.box(529000, 179000, 532000, 182000)
    sites = gpd.GeoDataFrame(
        {"rank": [1, 2]}, geometry=[shapely.Point(530500, 180500), shapely.Point(531000, 181000)], crs=27700
    )
    cctv = write_public_map(tmp_path / "cctv" / "public" / "public_map.html", _tier(x, y, b), sites, b)
    pages = [*sorted(pack.rglob("*.html")), cctv]
    assert len(pages) > 20
    for p in pages:
        root = pack if p.is_relative_to(pack) else cctv.parent
        page, log = open_page(browser, p, allowed=root)
        assert log["outside"] == [], (p, log["outside"])
        assert all(u.startswith((root.as_uri(), "data:", "about:")) for u in log["requests"]), p
        assert log["errors"] == [], (p, log["errors"])
        page.close()


def test_the_borough_map_prints_on_a4(browser, pack, tmp_path):
    page, log = open_page(browser, pack / "map.html")
    assert log["errors"] == []
    page.emulate_media(media="print")
    page.wait_for_timeout(200)
    assert not page.locator("#hs-search").is_visible() and not page.locator("#hs-layers").is_visible()
    assert page.locator("#hs-legend").is_visible() and page.locator(".hs-rank").count() > 0
    page.screenshot(path=str(tmp_path / "print.png"), full_page=True)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    pages = re.findall(rb"/Type\s*/Page\b", pdf)
    assert 1 <= len(pages) <= 2  # the map and its legend (one page for the demo borough)
    boxes = {tuple(round(float(v)) for v in m.split()) for m in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", pdf)}
    assert boxes == {(0, 0, 842, 595)}  # A4 landscape, in points
    page.close()


# --------------------------------------------------------------------------- hostile input data
@pytest.fixture(scope="module")
def payload_pack(tmp_path_factory):
    from payload_borough import build_payload_pack

    return build_payload_pack(tmp_path_factory.mktemp("payload"))


def test_payloads_in_every_input_field_are_shown_as_text_and_never_run(chromium, payload_pack):
    from payload_borough import LITERALS, marker_files

    from hotspots.render.mappage import read_page_data

    pack, root = payload_pack
    assert marker_files(root) == []  # no template evaluated the marker expression while the pack was written
    ctx = chromium.new_context(**DESKTOP)
    maps = [pack / "map.html", pack / "public" / "map.html", pack / "public" / "cctv_consultation.html"]
    maps += sorted((pack / "wards").glob("*.html"))[:4]
    for p in maps:
        text = p.read_text()
        data = read_page_data(text)
        assert "{{7*7}} {% if true %}IF-RAN{% endif %}" in data["title"], p  # project or ward name, as given
        page, log = open_page(ctx, p, allowed=pack)
        shown = page.evaluate(JS_OPEN_ALL)
        page.wait_for_timeout(200)
        assert log["dialogs"] == [], (p, log["dialogs"])
        assert log["errors"] == [] and log["outside"] == [], (p, log)
        assert page.locator("img[src=x], #hs-main script").count() == 0
        # the payload is on screen as text: in the title, popups and tooltips, labels and the search list
        options = page.evaluate("() => [...document.querySelectorAll('#hs-search-list option')].map(o => o.value)")
        labels = page.locator(".hs-label-text").all_text_contents()  # the text itself, before CSS upper-cases it
        seen = " ".join([page.inner_text("#hs-header"), *shown["texts"], *labels, *options])
        for lit in LITERALS:
            assert lit in seen, (p, lit)
        # nothing was evaluated: 49 never stands where {{7*7}} was given, IF-RAN never appears on its own
        assert "49 {% if true %}" not in seen and "{{7*7}} {% if true %}" in seen
        assert seen.count("IF-RAN") == seen.count("{% if true %}IF-RAN{% endif %}")
        page.close()
    ctx.close()
    assert marker_files(root) == []


# --------------------------------------------------------------------------- index and tasking pages
@pytest.mark.parametrize("name", ["index.html", "tasking.html"])
def test_index_and_tasking_pages_never_scroll_sideways(browser, phone, pack, name):
    """On a phone (390 px) and a 1400 px screen the page itself never scrolls sideways: wide tables scroll in
    their own box, the tasking list is one card per place."""
    for ctx in (phone, browser):
        page, log = open_page(ctx, pack / name)
        assert log["errors"] == [] and log["outside"] == [], log
        sw, cw = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert sw <= cw, (name, sw, cw)
        page.close()


def test_the_tasking_list_prints_on_a4_landscape_with_every_heading(browser, pack, tmp_path):
    """Printed, the tasking page is A4 landscape and every column heading of every card fits the page width."""
    page, _ = open_page(browser, pack / "tasking.html")
    page.set_viewport_size({"width": 1047, "height": 740})  # A4 landscape less 10 mm margins, at 96 px per inch
    page.emulate_media(media="print")
    sw, cw = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert sw <= cw
    labels = page.locator("article.item").first.locator("dt").all_inner_texts()
    assert {"Ward", "Crime types", "Why"} <= set(labels)
    assert page.locator("article.item").first.locator("table.tactics th").all_inner_texts()[-1] == "Owner"
    for dt in page.locator("article.item dt, table.tactics th").all()[:60]:
        b = dt.bounding_box()
        assert b is not None and b["x"] >= 0 and b["x"] + b["width"] <= cw + 0.5
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)  # the page's own @page: A4 landscape
    boxes = {tuple(round(float(v)) for v in m.split()) for m in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", pdf)}
    assert boxes == {(0, 0, 842, 595)}  # in points
    page.close()


def test_payloads_on_the_index_and_tasking_pages_are_text(chromium, payload_pack):
    from payload_borough import LITERALS, marker_files

    pack, root = payload_pack
    ctx = chromium.new_context(**DESKTOP)
    for name in ("index.html", "tasking.html", "public/index.html"):
        page, log = open_page(ctx, pack / name, allowed=pack)
        assert log["dialogs"] == [] and log["errors"] == [] and log["outside"] == [], (name, log)
        assert page.locator("img[src=x], main script").count() == 0, name
        shown = page.inner_text("body")
        assert "{{7*7}} {% if true %}IF-RAN{% endif %}" in shown and "49 {% if true %}" not in shown, name
        if name != "public/index.html":  # the public page shows no location text
            for lit in LITERALS:
                assert lit in shown, (name, lit)
        page.close()
    ctx.close()
    assert marker_files(root) == []
