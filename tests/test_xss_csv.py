"""Hostile strings in the input data: shown as text in every page, never run; tasking.csv safe in Excel."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
PROBE = "<img src=x onerror=alert(1)>"
WARD_PROBE = "<script>alert('ward')</script>Hill"
FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)")


@pytest.fixture(scope="module")
def crafted_pack(tmp_path_factory):
    if not (REPO / "data" / "incidents" / "incidents.csv").exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    root = tmp_path_factory.mktemp("crafted")
    data = root / "data"
    shutil.copytree(REPO / "data" / "boundaries", data / "boundaries")
    shutil.copytree(REPO / "data" / "patrol", data / "patrol")  # the demo config reads its patrol pings
    (data / "incidents").mkdir(parents=True)
    inc = pd.read_csv(REPO / "data" / "incidents" / "incidents.csv")
    inc = inc[pd.to_datetime(inc["committed_from"]) >= "2024-10-01"].reset_index(drop=True)
    inc.loc[inc.index % 2 == 0, "location"] = PROBE
    for k, f in enumerate(FORMULAS):
        inc.loc[inc.index % 11 == 2 * k + 1, "location"] = f
    inc.to_csv(data / "incidents" / "incidents.csv", index=False)
    wards = json.loads((data / "boundaries" / "wards.geojson").read_text())
    wards["features"][0]["properties"]["ward_name"] = WARD_PROBE
    (data / "boundaries" / "wards.geojson").write_text(json.dumps(wards))
    for f in ("crime_types.toml", "harm_schemes.toml", "playbook.toml"):
        shutil.copy(REPO / "config" / f, root / f)
    body = (REPO / "config" / "demo.toml").read_text().replace('data_dir = ".."', 'data_dir = "."')
    (root / "crafted.toml").write_text(body)
    from conftest import fast_config

    from hotspots import pipeline

    return pipeline.run(fast_config(root / "crafted.toml"), fim_date="2025-11-14", out_dir=root / "pack", quiet=True)


def test_probe_is_escaped_in_every_page(crafted_pack):
    pages = sorted(crafted_pack.rglob("*.html"))
    assert len(pages) > 5
    seen_escaped = False
    for p in pages:
        text = p.read_text()
        assert PROBE not in text, p
        assert "<script>alert('ward')" not in text, p
        seen_escaped |= "&lt;img src=x onerror=alert(1)&gt;" in text
    assert seen_escaped  # the location text is there, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in (crafted_pack / "tasking.html").read_text()


def test_public_tier_has_no_location_text(crafted_pack):
    for p in (crafted_pack / "public").rglob("*"):
        if p.is_file():
            t = p.read_text()
            assert "onerror=alert" not in t and "HYPERLINK" not in t and "evil.example" not in t, p


def test_tasking_csv_neutralises_formulas(crafted_pack):
    with open(crafted_pack / "tasking.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert body
    numeric = {"rank", "incidents", "harm", "score", "previous_rank", "x", "y", "area_ha"}
    found = False
    for r in body:
        for name, cell in zip(header, r, strict=True):
            if name in numeric:
                continue
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
            found |= cell.startswith("'=") or "'=HYPERLINK" in cell or cell.startswith(("'+", "'-", "'@"))
    # a crafted formula is the most common location of some item, so at least one cell was neutralised
    locs = pd.read_csv(crafted_pack / "tasking.csv")["location"]
    assert locs.str.contains("HYPERLINK|SUM|\\+1\\+1|-2\\+3", regex=True).any()
    assert found or all(not str(v).startswith(("=", "+", "-", "@")) for v in locs)


def test_probe_does_not_run_in_chromium(crafted_pack):
    from test_browser import ARGS, chromium_path

    exe = chromium_path()
    if exe is None:
        pytest.skip("chromium not found: run `make browser` (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(crafted_pack.parent / "profile"), executable_path=exe, args=ARGS, headless=True
        )
        dialogs, errors = [], []
        for f in ("tasking.html", "index.html", "map.html", "wards/DM0001.html"):
            page = ctx.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((crafted_pack / f).as_uri())
            page.wait_for_timeout(300)
            if f == "tasking.html":
                assert PROBE in page.inner_text("body")
            if f == "map.html":  # open every popup of the tasking layer: its text shows, nothing runs
                texts = page.evaluate("""() => { const out = []; hsLayers.items.eachLayer(function walk(l) {
                    if (l.eachLayer) { l.eachLayer(walk); return; }
                    if (l.getPopup && l.getPopup()) { l.openPopup();
                        out.push(document.querySelector('.leaflet-popup-content').textContent); } }); return out; }""")
                assert texts and any(PROBE in t for t in texts)
                page.wait_for_timeout(300)
            page.close()
        ctx.close()
    assert dialogs == [] and errors == []


def test_briefing_prints_crafted_names_as_text(crafted_pack):
    """briefing.pdf prints a crafted ward name and location text literally (escaped before reportlab's
    paragraph markup, which would otherwise read ``<script>`` as a tag), never as entities."""
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(str(crafted_pack / "briefing.pdf"))
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)  # cells wrap: compare without spaces
    assert WARD_PROBE in text
    assert "".join(PROBE.split()) in text
    assert "&lt;" not in text and "&amp;" not in text
