"""The demo pack's pages in a real headless Chromium, opened from file:// with no network."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import build_demo_pack

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


def chromium_path() -> str | None:
    for p in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if p and Path(p).exists():
            return p
    return None


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return build_demo_pack(tmp_path_factory)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    exe = chromium_path()
    if exe is None:
        pytest.skip("chromium not found: run `make browser` (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chrome-profile")),
            executable_path=exe,
            args=ARGS,
            headless=True,
            viewport={"width": 1280, "height": 860},
        )
        yield ctx
        ctx.close()


def open_page(browser, path: Path):
    page = browser.new_page()
    log = {"errors": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("request", lambda r: log["requests"].append(r.url))
    page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(400)
    return page, log


def outside(requests, pack: Path) -> list[str]:
    root = pack.as_uri()
    return [u for u in requests if not (u.startswith(root) or u.startswith("data:") or u.startswith("about:"))]


def pixel_variance(png: Path) -> float:
    import matplotlib.image as mpimg

    return float(np.var(mpimg.imread(str(png))[..., :3]))


def test_borough_map_loads_offline_with_layers(browser, pack, tmp_path):
    page, log = open_page(browser, pack / "map.html")
    assert log["errors"] == []
    assert outside(log["requests"], pack) == []
    labels = [t.strip() for t in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()]
    for want in (
        "Ward boundaries",
        "Roads",
        "Density: all crime types (harm)",
        "Emerging hotspots (trend class)",
        "Hotspot areas (by crime type)",
        "Tasking items",
    ):
        assert want in labels, labels
    assert any(lab.startswith("Gi* hot and cold spots") for lab in labels)
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    assert page.locator("#hs-legend").count() == 1
    shot = tmp_path / "borough.png"
    page.screenshot(path=str(shot))
    assert pixel_variance(shot) > 0
    page.close()


def test_toggling_a_layer_changes_the_page(browser, pack, tmp_path):
    page, log = open_page(browser, pack / "map.html")
    before = page.locator(".leaflet-overlay-pane path").count()
    label = page.locator(".leaflet-control-layers-overlays label", has_text="Emerging hotspots")
    label.locator("input").check()
    page.wait_for_timeout(300)
    after = page.locator(".leaflet-overlay-pane path").count()
    assert after > before
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    page.screenshot(path=str(a))
    page.locator(".leaflet-control-layers-overlays label", has_text="Tasking items").locator("input").uncheck()
    page.wait_for_timeout(300)
    page.screenshot(path=str(b))
    assert a.read_bytes() != b.read_bytes()
    assert log["errors"] == []
    page.close()


def test_search_by_tasking_id_moves_the_map(browser, pack):
    import pandas as pd

    item = pd.read_csv(pack / "tasking.csv")["item_id"].iat[0]
    page, log = open_page(browser, pack / "map.html")
    z0 = page.evaluate(
        "() => { for (const k in window) { if (k.startsWith('map_') && window[k] && window[k].getZoom) "
        "return window[k].getZoom(); } }"
    )
    page.fill("#hs-search", item)
    page.press("#hs-search", "Enter")
    page.wait_for_timeout(500)
    z1 = page.evaluate(
        "() => { for (const k in window) { if (k.startsWith('map_') && window[k] && window[k].getZoom) "
        "return window[k].getZoom(); } }"
    )
    assert z1 > z0
    assert log["errors"] == []
    page.close()


def test_ward_maps_and_pages_load_without_errors(browser, pack):
    pages = [
        pack / "index.html",
        pack / "tasking.html",
        pack / "public" / "index.html",
        pack / "public" / "map.html",
        *sorted((pack / "wards").glob("*.html"))[:3],
    ]
    for p in pages:
        page, log = open_page(browser, p)
        assert log["errors"] == [], p
        assert outside(log["requests"], pack) == [], p
        if p.parent.name == "wards":
            # the SNT's own items are listed on its map, matching tasking.csv
            import pandas as pd

            df = pd.read_csv(pack / "tasking.csv")
            own = df[(df["ward_code"] == p.stem) & df["rank"].notna()]
            assert f"({len(own)})" in page.inner_text("#hs-items summary")
        page.close()


def test_popup_opens_on_tasking_item(browser, pack):
    page, log = open_page(browser, pack / "map.html")
    page.evaluate("""() => { for (const k in window) { const v = window[k];
        if (k.startsWith('geo_json_') && v && v.eachLayer) { v.eachLayer(l => { if (!window.__hit && l.getPopup()
            && l.getPopup().getContent().indexOf('Tasking item') >= 0) { window.__hit = 1; l.openPopup(); } }); } } }""")
    page.wait_for_timeout(300)
    txt = page.locator(".leaflet-popup-content").inner_text()
    assert "Tactic" in txt and "Review" in txt
    page.close()
