"""What the CCTV project board reads in a pack: the inventories, gap places, proposed sites and readers,
rejected camera rows (index.html and cctv/*.csv), and the layers GIS analysts open."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import DEMO_DATE, build_demo_pack, fast_config


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    return build_demo_pack(tmp_path_factory)


def _section(html: str) -> str:
    i, j = html.index("<h2>CCTV and ANPR"), html.index("<h2>Forecast")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[i:j]))


def test_demo_pack_cctv_section_and_tables(pack):
    text = _section((pack / "index.html").read_text())
    assert "cameras.csv" in text and "camera rows in the list" in text  # the inventory's statement
    assert "Coverage gaps: places" in text and "Proposed camera sites" in text and "Proposed ANPR readers" in text
    assert "hotspot area " not in text and "high-harm grid cell near" not in text  # no internal labels
    gaps = pd.read_csv(pack / "cctv" / "gap_places.csv")
    assert len(gaps) and (gaps["incidents"] > 0).all() and (gaps["name"].str.len() > 0).all()
    assert gaps["rank"].tolist() == list(range(1, len(gaps) + 1))
    assert gaps["harm_uncovered"].is_monotonic_decreasing
    # the gap places are places: no two share ground
    g = gpd.read_file(pack / "layers.gpkg", layer="coverage_gaps")
    assert (g["incidents"] >= 0).all()  # real values, never a placeholder
    for i in range(len(g)):
        for j in range(i + 1, len(g)):
            assert g.geometry.iat[i].intersection(g.geometry.iat[j]).area < 1.0
    sites = pd.read_csv(pack / "cctv" / "proposed_sites.csv")
    assert (sites["street"].fillna("").str.len() > 0).all() and sites["ward_name"].notna().all()
    readers = pd.read_csv(pack / "cctv" / "anpr_readers.csv")
    assert len(readers) and readers["reason"].str.contains("crosses the boundary").all()
    assert (pack / "cctv" / "cameras_rejected.csv").exists()


def test_rejected_camera_rows_reach_the_page_and_the_csv(tmp_path, demo_config_path):
    """A camera row with an impossible range is listed with its reason in the CCTV section and the CSV."""
    from hotspots.render.pages.sections import coverage as coverage_section
    from hotspots.stages import RunResults, load_inputs
    from hotspots.stages import coverage as cov_stage

    raw = (demo_config_path.parents[1] / "data" / "boundaries" / "cameras.csv").read_text().splitlines()
    bad = raw[1].split(",")
    bad[0], bad[4] = "BAD-1", "1e12"
    p = tmp_path / "cams.csv"
    p.write_text("\n".join([*raw, ",".join(bad[:8]) + ",<b>Bus station</b> dome"]) + "\n")
    cfg = fast_config().override("cameras", inventory=str(p), label="Demo council CCTV", dated="2025-10-01")
    inp = load_inputs(cfg, DEMO_DATE)
    res = RunResults(inputs=inp)
    res = RunResults(inputs=inp, coverage=cov_stage.run(res))
    content = coverage_section(res)
    assert content["inventories"][0].startswith("Demo council CCTV dated 2025-10-01:")
    (table,) = [t for t in content["tables"] if t["title"].startswith("Camera rows rejected as invalid")]
    assert table["title"].endswith("(1)")
    row = dict(zip(table["columns"], table["rows"][0], strict=True))
    assert row["Camera"] == "BAD-1" and row["Field"] == "range_m" and "max_range_m" in row["Reason"]
    files = res.coverage.write_tables(tmp_path / "cctv")
    rej = pd.read_csv(tmp_path / "cctv" / "cameras_rejected.csv")
    assert rej["camera_id"].tolist() == ["BAD-1"] and rej["kind"].tolist() == ["invalid"]
    assert {f.name for f in files} == {
        "gap_places.csv",
        "proposed_sites.csv",
        "cameras_rejected.csv",
        "anpr_readers.csv",
    }


def test_map_names_proposed_sites_by_their_nearest_street():
    """A proposed site on a lattice has no road of its own: the map names it by its nearest street, as the
    page does; a site on a named road with no street found keeps the road's name."""
    import shapely

    from hotspots.config.sections import RenderConfig
    from hotspots.render.maps import _site_features

    sites = gpd.GeoDataFrame(
        {
            "rank": [1, 2],
            "street": ["Station Road", ""],
            "road_name": ["", "Watling Avenue"],
            "expected_harm_covered": [120.0, 80.0],
        },
        geometry=[shapely.Point(520000, 190000), shapely.Point(520500, 190500)],
        crs=27700,
    )
    fs = _site_features(sites, RenderConfig())
    assert fs is not None
    assert [p["t"] for p in fs.props] == [
        "Proposed camera site 1: Station Road",
        "Proposed camera site 2: Watling Avenue",
    ]
