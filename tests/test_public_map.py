"""The public-consultation map holds nothing incident-level; the `hotspots cctv` report end to end."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.config.sections import PublicConfig
from hotspots.render.coverage import write_public_map
from hotspots.render.public import public_tier


def _html_points_bng(html: str) -> np.ndarray:
    """Every [a, b] number pair in the HTML, read as lon/lat (or lat/lon for markers), in EPSG:27700."""
    from pyproj import Transformer

    pairs = np.array([(float(a), float(b)) for a, b in re.findall(r"\[\s*(-?\d+\.\d+)\s*,\s*(-?\d+\.\d+)\s*\]", html)])
    if len(pairs) == 0:
        return np.zeros((0, 2))
    latfirst = np.abs(pairs[:, 0]) > 40
    lon = np.where(latfirst, pairs[:, 1], pairs[:, 0])
    lat = np.where(latfirst, pairs[:, 0], pairs[:, 1])
    ok = (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(lon[ok], lat[ok])
    return np.c_[x, y]


def assert_nothing_incident_level(html: str, inc: pd.DataFrame, min_count: int, allowed_xy: np.ndarray):
    """No ids, no location strings, no point within 1.5 m of an incident (other than the allowed
    vertices: cell corners, boundary vertices, proposed sites), no cell count 1..min_count-1."""
    from scipy.spatial import cKDTree

    for ref in inc["id"].astype(str).unique():
        assert ref not in html, f"incident id {ref} found"
    for loc in inc["location"].astype(str).unique():
        assert loc not in html, f"location string {loc!r} found"
    pts = _html_points_bng(html)
    assert len(pts) > 0
    d_inc, _ = cKDTree(inc[["x", "y"]].to_numpy(float)).query(pts)
    d_ok, _ = cKDTree(allowed_xy).query(pts)
    leaks = (d_inc < 1.5) & (d_ok > 1.5)
    assert not leaks.any(), f"{int(leaks.sum())} incident position(s) found, e.g. {pts[leaks][0]}"
    counts = [int(v) for v in re.findall(r'"count":\s*(\d+)', html)]
    assert counts, "the map shows no cells at all"
    assert min(counts) >= min_count


def _allowed(boundary, corners, sites_xy=()):
    bx = np.asarray(shapely.get_coordinates(boundary))
    parts = [np.asarray(corners, float), bx]
    if len(sites_xy):
        parts.append(np.asarray(sites_xy, float))
    return np.vstack(parts)


AS_OF = pd.Timestamp("2025-10-01", tz="Europe/London")


def _synthetic(n=600, seed=1):
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(530500, 120, n // 2), rng.uniform(530000, 532000, n - n // 2)].round(1)
    y = np.r_[rng.normal(180500, 120, n // 2), rng.uniform(180000, 182000, n - n // 2)].round(1)
    end = pd.Timestamp("2025-07-01", tz="Europe/London") + pd.to_timedelta(rng.uniform(0, 91, n), unit="D")
    return pd.DataFrame(
        {
            "id": [f"REF-{i:05d}" for i in range(n)],
            "x": x,
            "y": y,
            "start": end,
            "end": end,
            "crime_type": np.where(np.arange(n) % 3 == 0, "robbery", "violence"),
            "location": [f"On or near Secret Lane {i % 37}" for i in range(n)],
        }
    )


def _tier(inc, b):
    return public_tier(inc, b, PublicConfig(cell_size_m=250, min_count=5), as_of=AS_OF, crs="EPSG:27700")


def test_public_cells_suppress_small_counts():
    inc = _synthetic()
    b = shapely.box(530000, 180000, 532000, 182000)
    cells = _tier(inc, b).cells
    h, _, _ = np.histogram2d(inc["x"], inc["y"], bins=[np.arange(530000, 532001, 250), np.arange(180000, 182001, 250)])
    want = np.sort(h[h >= 5].astype(int))
    assert np.array_equal(np.sort(cells["incidents"].to_numpy()), want)
    assert (cells["incidents"] >= 5).all() and ((h > 0) & (h < 5)).any()  # small cells existed and were dropped


def test_public_map_has_nothing_incident_level(tmp_path):
    inc = _synthetic()
    b = shapely.box(530000, 180000, 532000, 182000)
    tier = _tier(inc, b)
    sites = gpd.GeoDataFrame(
        {"rank": [1, 2], "site_id": ["S1", "S2"], "road_name": ["Secret Lane 1", "X"]},
        geometry=[shapely.Point(530510, 180490), shapely.Point(531200, 181300)],
        crs=27700,
    )
    p = write_public_map(tmp_path / "public" / "public_map.html", tier, sites, b)
    html = p.read_text()
    corners = np.array([(x, y) for x in range(530000, 532001, 250) for y in range(180000, 182001, 250)], float)
    allowed = _allowed(b, corners, [(530510, 180490), (531200, 181300)])
    assert_nothing_incident_level(html, inc, 5, allowed)
    assert "Proposed camera site 1" in html and "Secret Lane 1" not in html
    # the check itself can fail: a map with the points in it is caught
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(
        inc["x"].iat[7], inc["y"].iat[7]
    )
    bad = f"<script>L.marker([{round(lat, 6)}, {round(lon, 6)}]).addTo(map);</script>"
    with pytest.raises(AssertionError, match="incident position"):
        assert_nothing_incident_level(bad + html, inc, 5, allowed)
    with pytest.raises(AssertionError, match="location string"):
        assert_nothing_incident_level(html + inc["location"].iat[3], inc, 5, allowed)
    with pytest.raises(AssertionError):
        assert_nothing_incident_level(html + '{"count": 3}', inc, 5, allowed)


@pytest.fixture(scope="module")
def cctv_run(demo_config_path, tmp_path_factory):
    from hotspots.cli import main

    out = tmp_path_factory.mktemp("cctv") / "report"
    rc = main(
        [
            "cctv",
            "--config",
            str(demo_config_path),
            "--k",
            "3",
            "--anpr-k",
            "5",
            "--from",
            "2025-05-01",
            "--to",
            "2025-11-13",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    return out


def test_cctv_command_writes_the_report(cctv_run):
    out = cctv_run
    for f in (
        "coverage_by_type.csv",
        "gaps.csv",
        "gaps.gpkg",
        "proposed_sites.csv",
        "marginal_gain.csv",
        "marginal_gain.png",
        "anpr_entry_points.csv",
        "set_cover.csv",
        "coverage.gpkg",
        "summary.json",
        "public/public_map.html",
    ):
        assert (out / f).exists(), f
    s = json.loads((out / "summary.json").read_text())
    assert s["period"] == {"start": "2025-05-01", "end": "2025-11-13"}
    assert "cameras.csv" in s["inventory"]
    by = pd.read_csv(out / "coverage_by_type.csv").set_index("crime_type")
    assert by.loc["all", "incidents"] == s["incidents"] > 0
    ps = pd.read_csv(out / "proposed_sites.csv")
    assert len(ps) == 3 and ps["rank"].tolist() == [1, 2, 3]
    assert (np.diff(ps["cumulative_harm_covered"]) > 0).all()
    mg = pd.read_csv(out / "marginal_gain.csv")
    assert mg["new_cameras"].tolist() == [0, 1, 2, 3]
    assert mg["harm_covered"].iat[-1] == pytest.approx(ps["cumulative_harm_covered"].iat[-1])
    layers = set(gpd.list_layers(out / "coverage.gpkg")["name"])
    assert {"viewsheds", "gaps", "proposed_sites", "anpr_entry_points"} <= layers
    assert gpd.read_file(out / "coverage.gpkg", layer="proposed_sites").crs.to_epsg() == 27700


def test_cctv_public_map_from_demo_data(cctv_run, demo_config_path):
    from hotspots.render.mappage import read_page_data
    from hotspots.render.offline import external_urls

    html = (cctv_run / "public" / "public_map.html").read_text()
    # the map of `hotspots cctv` works offline: Leaflet inside the page, nothing loaded from the internet
    assert external_urls(html) == [] and "unpkg.com" not in html and "cdn.jsdelivr" not in html
    data = read_page_data(html)
    assert data["kind"] == "consultation" and data["basemap"] is None
    assert {layer["id"] for layer in data["layers"]} >= {"cells", "sites", "wards"}
    inc = pd.read_csv(demo_config_path.parents[1] / "data" / "incidents" / "incidents.csv")
    inc = inc.rename(columns={"ref": "id", "easting": "x", "northing": "y"})
    t = pd.to_datetime(inc["committed_from"])
    inc = inc[(t >= "2025-05-01") & (t < "2025-11-14")]
    s = json.loads((cctv_run / "summary.json").read_text())
    from hotspots.config import load_config
    from hotspots.geo.grid import Grid
    from hotspots.stages.inputs import load_study_area

    area = load_study_area(load_config(demo_config_path))
    g = Grid.from_boundary(area.boundary, 250)
    xs = g.xmin + 250 * np.arange(g.ncols + 1)
    ys = g.ymax - 250 * np.arange(g.nrows + 1)
    corners = np.array([(a, b) for a in xs for b in ys], float)
    ps = pd.read_csv(cctv_run / "proposed_sites.csv")
    assert_nothing_incident_level(html, inc, 5, _allowed(area.boundary, corners, ps[["x", "y"]].to_numpy()))
    assert s["incidents"] == len(inc)


def test_excel_safe_proposed_sites(tmp_path, demo_config_path):
    """Cells that would run as spreadsheet formulas are neutralised in proposed_sites.csv."""
    from hotspots.config import load_config
    from hotspots.geo.grid import Grid
    from hotspots.stages.coverage import coverage as run_coverage
    from hotspots.stages.inputs import load_study_area

    cfg = load_config(demo_config_path)
    area = load_study_area(cfg)
    inc = pd.read_csv(cfg.path("data/incidents/incidents.csv")).head(3000)
    inc = pd.DataFrame({"x": inc["easting"], "y": inc["northing"], "crime_type": "violence", "harm": 1.0})
    sites = tmp_path / "sites.csv"
    pd.DataFrame(
        {
            "site_id": ['=HYPERLINK("http://x")', "+cmd", "@sum", "-1+2", "plain"],
            "x": inc["x"].iloc[:5],
            "y": inc["y"].iloc[:5],
        }
    ).to_csv(sites, index=False)
    cfg = cfg.override("siting", k=5, candidates=str(sites), curve="greedy").override(
        "cameras", inventory="data/boundaries/cameras.csv"
    )
    res = run_coverage(cfg, inc, area, Grid.from_boundary(area.boundary, 100), None)
    res.write(tmp_path / "out")
    text = (tmp_path / "out" / "proposed_sites.csv").read_text()
    ids = pd.read_csv(tmp_path / "out" / "proposed_sites.csv")["site_id"].tolist()
    assert all(not str(v).startswith(("=", "+", "-", "@")) for v in ids)
    assert "'=HYPERLINK" in text or "'+cmd" in text
