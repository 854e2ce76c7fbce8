"""Before/after evaluation: WDD against the published worked example (Wheeler & Ratcliffe 2018)
and hand-computed cases, counts against brute force, and the planted demo robbery hotspot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots.analysis.evaluate import (
    EvaluateConfig,
    circle_target,
    evaluate_intervention,
    parse_target,
    rate_ratio_test,
    wdd_test,
)
from hotspots.errors import ConfigError, InputError

REPO = Path(__file__).resolve().parents[1]
TZ = "Europe/London"


def test_wdd_published_example():
    # Wheeler & Ratcliffe (2018): treated 207 -> 110, control 308 -> 318,
    # displacement 178 -> 157, displacement control 150 -> 140
    r = wdd_test(treated=(207, 110), control=(308, 318), disp_treated=(178, 157), disp_control=(150, 140))
    assert r["wdd"] == -118  # (-97 - 10) + (-21 + 10)
    assert r["est_local"] == -107 and r["est_displace"] == -11
    assert r["var"] == 1568  # the sum of all eight counts
    assert round(r["z"], 2) == -2.98
    assert round(r["ci_low"]) == -196 and round(r["ci_high"]) == -40


def test_wdd_unequal_periods_and_area_weights_hand_computed():
    # before period twice as long: control 100/2 -> 50, treated 80/2 -> 20
    r = wdd_test(treated=(80, 20), control=(100, 50), time_weights=(2, 1))
    assert r["wdd"] == pytest.approx(-20.0)
    assert r["var"] == pytest.approx(100 / 4 + 50 + 80 / 4 + 20)  # 115
    # area weights divide counts (control, treated, disp control, disp treated)
    r = wdd_test((207, 110), (308, 318), (178, 157), (150, 140), area_weights=(0.9, 1.2, 1.6, 1.5))
    want = (110 - 207) / 1.2 - (318 - 308) / 0.9 + (157 - 178) / 1.5 - (140 - 150) / 1.6
    var = (207 + 110) / 1.44 + (308 + 318) / 0.81 + (178 + 157) / 2.25 + (150 + 140) / 2.56
    assert r["wdd"] == pytest.approx(want) and r["var"] == pytest.approx(var)
    assert r["wdd"] == pytest.approx(-99.69444444) and r["se"] == pytest.approx(35.4280755)


def test_wdd_single_control_serving_both_zones():
    # one control (weights 10 for the target, 5 for the buffer): its change enters twice
    r = wdd_test(
        treated=(10, 4),
        control=(100, 110),
        disp_treated=(6, 8),
        disp_control=(100, 110),
        area_weights=(10, 1, 5, 1),
        same_control=True,
    )
    assert r["wdd"] == pytest.approx(-6 - 1 + 2 - 2)
    assert r["var"] == pytest.approx(10 + 4 + 6 + 8 + (0.1 + 0.2) ** 2 * 210)


def test_rate_ratio_test_hand_computed():
    r = rate_ratio_test(before=10, after=2, e_before=30, e_after=30)
    assert r["rate_ratio"] == pytest.approx(0.2)
    assert r["p"] == pytest.approx(2 * (1 + 12 + 66) / 4096)


def _synthetic(rng):
    import geopandas as gpd

    start = pd.Timestamp("2024-01-01", tz=TZ)
    n = 6000
    x = rng.uniform(0, 4000, n)
    y = rng.uniform(0, 4000, n)
    t = start + pd.to_timedelta(rng.uniform(0, 730, n), unit="D")
    # planted: 60 extra crimes in the target (r 150 m at 2000,2000) in the first year only
    m = 60
    ang = rng.uniform(0, 2 * np.pi, m)
    rad = 150 * np.sqrt(rng.uniform(0, 1, m))
    x = np.r_[x, 2000 + rad * np.cos(ang)]
    y = np.r_[y, 2000 + rad * np.sin(ang)]
    t = t.append(start + pd.to_timedelta(rng.uniform(0, 365, m), unit="D"))
    inc = gpd.GeoDataFrame(
        {"x": x, "y": y, "start": t, "end": t, "time_precision": "minute", "crime_type": "robbery", "harm": 1.0},
        geometry=gpd.points_from_xy(x, y),
        crs=27700,
    )
    return inc


def test_evaluate_counts_match_brute_force_and_detect_the_drop(tmp_path):
    from shapely.geometry import box

    rng = np.random.default_rng(9)
    inc = _synthetic(rng)
    target = circle_target(2000, 2000, 150)
    res = evaluate_intervention(inc, target, "2025-01-01", "2026-01-01", boundary=box(0, 0, 4000, 4000), buffer_m=200)
    d = np.hypot(inc.x - 2000, inc.y - 2000).to_numpy()
    t = inc.start
    before = (t >= pd.Timestamp("2024-01-01", tz=TZ)) & (t < pd.Timestamp("2025-01-01", tz=TZ))
    after = (t >= pd.Timestamp("2025-01-01", tz=TZ)) & (t < pd.Timestamp("2026-01-01", tz=TZ))
    tab = res.table.set_index("area")
    # circle polygon has 128 vertices: compare away from the edges
    assert abs(tab.loc["target", "before"] - (before & (d <= 150)).sum()) <= 1
    assert abs(tab.loc["buffer", "after"] - (after & (d > 150) & (d <= 350)).sum()) <= 1
    assert abs(tab.loc["control", "after"] - (after & (d > 350)).sum()) <= 1
    assert res.wdd["wdd"] < 0 and res.wdd["p"] < 0.01
    assert tab.loc["target", "rate_ratio"] < 0.5 and tab.loc["target", "p"] < 0.01
    assert res.relative_effect["ci_high"] < 1
    paths = res.write(tmp_path)
    assert paths["plot"].stat().st_size > 1000 and paths["table"].exists()


def test_evaluation_starting_after_the_data_end_is_refused_in_words():
    """A meeting held before any new crime is recorded: nothing to measure, said plainly (no division by zero)."""
    from shapely.geometry import box

    inc = _synthetic(np.random.default_rng(9))
    last_day = pd.Timestamp(inc["end"].max()).tz_convert(TZ).normalize()
    start = (last_day + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    end = (last_day + pd.Timedelta(days=15)).strftime("%Y-%m-%d")
    with pytest.raises(InputError, match=f"data end on {last_day.date()}.*no after period"):
        evaluate_intervention(inc, circle_target(2000, 2000, 150), start, end, boundary=box(0, 0, 4000, 4000))


def test_parse_target_and_errors():
    g = parse_target("530000,190000,100")
    assert g.area == pytest.approx(np.pi * 100**2, rel=0.01)
    with pytest.raises(InputError):
        parse_target("/no/such/file.geojson")
    with pytest.raises(ConfigError):
        EvaluateConfig(control_weight="size").validate("x.toml")


def test_evaluate_cli_on_demo_stopping_hotspot(tmp_path):
    """The planted robbery hotspot stopped at the end of June 2024 (camera CCTV-044):
    a year after vs the year before shows a large significant fall."""
    truth_p = REPO / "data/incidents/planted_truth.json"
    if not truth_p.exists():
        pytest.skip("demo borough data not generated")
    s = json.loads(truth_p.read_text())["stopping"]
    from hotspots.cli import main

    rc = main(
        [
            "evaluate",
            "--config",
            str(REPO / "config/demo.toml"),
            "--target",
            f"{s['x']},{s['y']},{s['radius_m']}",
            "--start",
            "2024-07-01",
            "--end",
            "2025-07-01",
            "--buffer-m",
            "200",
            "--crime-type",
            "robbery",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert rc == 0
    df = pd.read_csv(tmp_path / "evaluation.csv")
    tab = df[df["area"].isin(["target", "buffer", "control"])].set_index("area")
    assert tab.loc["target", "before"] > 3 * tab.loc["target", "after"]
    wdd = df.set_index("area").loc["WDD wdd", "value"]
    p = df.set_index("area").loc["WDD p", "value"]
    assert wdd < 0 and p < 0.001
    assert (tmp_path / "evaluation.png").stat().st_size > 1000


def test_parse_target_reads_a_geojson_polygon_in_lon_lat(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    poly = box(530000, 190000, 530400, 190300)  # 0.12 km2 in EPSG:27700
    gpd.GeoDataFrame({"name": ["CCTV viewshed"]}, geometry=[poly], crs=27700).to_crs(4326).to_file(
        tmp_path / "t.geojson", driver="GeoJSON"
    )
    g = parse_target(str(tmp_path / "t.geojson"))
    assert g.area == pytest.approx(poly.area, rel=1e-3)
    assert g.centroid.distance(poly.centroid) < 1.0
