"""The public tier: aggregated cells only, small counts suppressed, no points or location strings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import build_demo_pack

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return build_demo_pack(tmp_path_factory)


def _features(html: str) -> list[dict]:
    """Every feature of every vector layer in a map page's data block."""
    from hotspots.render.mappage import read_page_data

    return [f for layer in read_page_data(html)["layers"] if "fc" in layer for f in layer["fc"]["features"]]


def test_public_files_have_no_incident_detail(pack):
    pub = pack / "public"
    files = sorted(p for p in pub.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"index.html", "map.html"}
    raw = pd.read_csv(REPO / "data" / "incidents" / "incidents.csv")
    streets = sorted(set(raw["location"].dropna()))
    ids = raw["ref"].head(200).tolist()
    for p in files:
        t = p.read_text()
        for s in streets:
            assert s not in t, (p, s)
        for i in ids:
            assert i not in t
        assert "T2511" not in t  # no tasking ids
        assert "popup" not in t.lower() or "bindPopup" in t  # leaflet code only: no popup content


def test_public_map_cells_suppressed_and_counts_right(pack):
    """Every cell shown has at least min_count incidents; counts equal a brute-force count of the demo CSV."""
    html = (pack / "public" / "map.html").read_text()
    feats = _features(html)
    tips = [f["properties"]["t"] for f in feats if f["properties"].get("t", "").endswith("incidents")]
    shown = sorted(int(t.split()[0]) for t in tips)
    assert shown and min(shown) >= 5
    # no point geometries anywhere in the public map
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in feats)
    # brute force: 250 m cells aligned to multiples of 250 m; the public period is the last calendar
    # quarter before the FIM date (2025-11-14 -> July to September 2025), a crime counted by its end
    raw = pd.read_csv(REPO / "data" / "incidents" / "incidents.csv")
    end = pd.to_datetime(raw["committed_to"])
    sel = (end >= pd.Timestamp("2025-07-01")) & (end < pd.Timestamp("2025-10-01"))
    assert "July to September 2025" in (pack / "public" / "index.html").read_text()
    x, y = raw.loc[sel, "easting"].to_numpy(), raw.loc[sel, "northing"].to_numpy()
    # the grid counts rows from the top, so a point exactly on a cell's edge belongs to the cell east / south
    key = (np.floor(x / 250).astype(int), np.ceil(y / 250).astype(int))
    counts = pd.Series(1, index=pd.MultiIndex.from_arrays(key)).groupby(level=[0, 1]).sum()
    expect = sorted(int(c) for c in counts if c >= 5)
    assert shown == expect
