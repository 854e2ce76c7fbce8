"""Prospective surface, alert zones, repeat victimisation, the stage entry, the CLI and the demo borough."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.analysis.alerts import alert_zones
from hotspots.analysis.nearrepeat import NearRepeatConfig, near_repeat
from hotspots.analysis.prospective import prospective_surface
from hotspots.analysis.repeats import repeat_victimisation
from hotspots.geo.grid import Grid


def box_grid(cell=50.0):
    return Grid.from_boundary(shapely.box(530000, 190000, 532000, 191500), cell)


def brute_surface(x, y, t, grid, at_day, bw_m, bw_days, band_m=50.0, band_days=7.0):
    xc, yc = grid.centres()
    out = np.zeros(grid.shape)
    for a in range(len(x)):
        age = at_day - t[a]
        if not (0 < age <= bw_days):
            continue
        d = np.hypot(xc - x[a], yc - y[a])
        w = np.where(d <= bw_m, 1.0 / (1.0 + np.floor(d / band_m)), 0.0) / (1.0 + np.floor(age / band_days))
        out += w
    out[~grid.mask] = 0
    return out


def test_prospective_matches_brute_force_and_never_looks_ahead():
    g = box_grid()
    rng = np.random.default_rng(0)
    x = rng.uniform(529800, 532200, 80)
    y = rng.uniform(189800, 191700, 80)
    t = rng.integers(0, 100, 80).astype(float)
    s = prospective_surface(x, y, t, g, at_day=60, bandwidth_m=400, bandwidth_days=56)
    assert s.shape == (g.nrows, g.ncols)
    np.testing.assert_allclose(s, brute_surface(x, y, t, g, 60, 400, 56), rtol=1e-12, atol=1e-12)
    # events on or after the date change nothing
    later = t >= 60
    s2 = prospective_surface(x[~later], y[~later], t[~later], g, at_day=60)
    np.testing.assert_allclose(s, s2)
    # hand case: one event at a cell centre, 3 days old -> that cell gets 1/(1+0) * 1/(1+0) = 1,
    # a cell 100 m away gets 1/(1+2)
    xc, yc = g.centres()
    s3 = prospective_surface([xc[5, 5]], [yc[5, 5]], [57.0], g, at_day=60)
    assert s3[5, 5] == pytest.approx(1.0)
    assert s3[5, 7] == pytest.approx(1 / 3)
    # 10 days old -> second week band halves it
    s4 = prospective_surface([xc[5, 5]], [yc[5, 5]], [50.0], g, at_day=60)
    assert s4[5, 5] == pytest.approx(0.5)


def test_alert_zones_merge_expire_and_list_streets():
    at = pd.Timestamp("2024-03-15")
    x = np.array([531000.0, 531150.0, 535000.0, 531000.0, 538000.0])
    y = np.array([190500.0, 190500.0, 190500.0, 190500.0, 190500.0])
    dates = pd.to_datetime(["2024-03-10", "2024-03-12", "2024-03-05", "2024-01-01", "2024-03-15"])
    sx = np.array([531050.0, 535010.0, 539999.0])
    sy = np.array([190450.0, 190510.0, 190500.0])
    names = ["On or near Acacia Avenue", "On or near Birch Road", "On or near Far Lane"]
    z = alert_zones(
        x, y, dates, at, radius_m=200, duration_days=28, alert_days=14, street_x=sx, street_y=sy, street_names=names
    )
    assert z.crs.to_epsg() == 27700
    assert list(z.columns) == [
        "zone_id",
        "n_burglaries",
        "first_event_date",
        "last_event_date",
        "expiry_date",
        "radius_m",
        "streets",
        "geometry",
    ]
    # the two burglaries 150 m apart merge; the January one is too old; the one on the date is not before it
    assert sorted(z.n_burglaries) == [1, 2]
    big = z[z.n_burglaries == 2].iloc[0]
    assert big.first_event_date == pd.Timestamp("2024-03-10")
    assert big.expiry_date == pd.Timestamp("2024-03-12") + pd.Timedelta(days=28)
    assert big.streets == "Acacia Avenue"
    assert z[z.n_burglaries == 1].iloc[0].streets == "Birch Road"
    # roads layer adds road names crossing a zone
    roads = gpd.GeoDataFrame(
        {"name": ["Cedar Close", "Distant Way"]},
        geometry=[
            shapely.LineString([(530900, 190300), (530900, 190700)]),
            shapely.LineString([(545000, 190000), (546000, 190000)]),
        ],
        crs="EPSG:27700",
    )
    z2 = alert_zones(x, y, dates, at, radius_m=200, duration_days=28, roads=roads)
    assert "Cedar Close" in z2[z2.n_burglaries == 2].iloc[0].streets
    assert "Distant Way" not in ";".join(z2.streets)


def test_repeat_rate_hand_computed():
    # location A burgled 2023-06-01, 2024-02-01 (repeat), 2024-03-01 (repeat);
    # B burgled 2022-01-01 and 2024-02-10 (more than 365 days apart: not a repeat); C once;
    # D twice on the same day (the second is a repeat)
    x = np.array([1.0, 1.0, 1.0, 50.0, 50.0, 99.0, 200.0, 200.0])
    y = np.zeros(8)
    d = pd.to_datetime(
        ["2024-03-01", "2023-06-01", "2024-02-01", "2022-01-01", "2024-02-10", "2024-02-20", "2024-05-05", "2024-05-05"]
    )
    r = repeat_victimisation(
        x,
        y,
        d,
        location_text=["A"] * 3 + ["B"] * 2 + ["C"] + ["D"] * 2,
        period_start="2024-01-01",
        period_end="2025-01-01",
        snap_points=True,
    )
    assert r.n_burglaries == 6
    assert r.n_repeats == 3
    assert r.repeat_rate == pytest.approx(0.5)
    assert list(r.is_repeat) == [True, False, True, False, False, False, False, True]
    assert list(r.locations.location) == ["A", "D"]
    assert r.locations.n_repeats_in_period.iloc[0] == 2
    assert "snap points" in r.summary()


def _synthetic_incidents(precision="day", seed=3):
    """Background burglaries plus followers planted within 150 m and 1-10 days."""
    rng = np.random.default_rng(seed)
    n0 = 700
    x = rng.uniform(530000, 534000, n0)
    y = rng.uniform(189000, 193000, n0)
    day = rng.integers(0, 365, n0)
    k = 300
    ang = rng.uniform(0, 2 * np.pi, k)
    rad = rng.uniform(5, 150, k)
    x = np.concatenate([x, x[:k] + rad * np.cos(ang)])
    y = np.concatenate([y, y[:k] + rad * np.sin(ang)])
    day = np.concatenate([day, day[:k] + rng.integers(1, 11, k)])
    n = len(x)
    start = pd.Timestamp("2024-01-01", tz="Europe/London") + pd.to_timedelta(day, unit="D")
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"B{i}" for i in range(n)],
            "crime_type": "burglary_residential",
            "offence": "Burglary - residential",
            "start": start,
            "end": start + pd.Timedelta(hours=12),
            "time_precision": precision,
            "x": x,
            "y": y,
            "location_text": [f"On or near Street {i % 40}" for i in range(n)],
            "ward_code": "E05000001",
            "lsoa_code": "E01000001",
            "harm": 1.0,
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:27700",
    )


def test_run_nearrepeat_calibrates_and_writes(tmp_path):
    inc = _synthetic_incidents()
    grid = Grid.from_boundary(shapely.box(530000, 189000, 534000, 193000), 100)
    fim = pd.Timestamp("2025-01-05")
    res = near_repeat(inc, grid, fim)
    assert res.knox is not None and res.knox_refusal == ""
    # the planted extent (150 m, 10 days) lies in the first bands: 0-200 m... 0-14 days
    assert res.radius_m in (100.0, 200.0) and res.duration_days in (7.0, 14.0)
    assert "Knox test on this data" in res.calibration
    assert res.surface.shape == grid.shape and res.surface.max() > 0
    assert res.repeats.n_burglaries > 0
    from hotspots.render.nearrepeat import write_nearrepeat_report

    files = [p.name for p in write_nearrepeat_report(res, tmp_path)]
    assert "aoristic_hour_by_weekday.csv" not in files  # day-precision data: no hour profile
    for f in (
        "knox_table.csv",
        "knox.html",
        "alert_zones.csv",
        "repeat_locations.csv",
        "prospective_risk.tif",
        "nearrepeat_summary.txt",
        "nearrepeat.html",
    ):
        assert f in files and (tmp_path / f).exists()
    # the one burglary count: those of the 365 days before the meeting (each planted burglary lies within one
    # day, so its day is its start's), no incident at or after the meeting date; the Knox test and the repeat
    # rate count the same burglaries
    fim_london = pd.Timestamp(fim, tz="Europe/London")
    late = inc["start"] >= fim_london
    early = inc["start"] < fim_london - pd.Timedelta(days=365)
    assert res.n_burglaries == int((~late & ~early).sum()) < int((~late).sum())
    assert res.knox.n_events == res.repeats.n_burglaries == res.n_burglaries


def test_run_nearrepeat_month_data_records_refusal():
    inc = _synthetic_incidents("month")
    grid = Grid.from_boundary(shapely.box(530000, 189000, 534000, 193000), 200)
    res = near_repeat(inc, grid, "2025-01-05")
    assert res.knox is None
    assert "month" in res.knox_refusal
    assert res.radius_m == 400.0 and res.duration_days == 56.0
    assert "Default extent" in res.calibration
    assert res.repeats.caveat


def test_config_section_validates():
    from hotspots.config import build_section
    from hotspots.errors import ConfigError

    c = build_section(NearRepeatConfig, {"permutations": 99, "alert_days": 21}, "x.toml", "nearrepeat")
    assert c.permutations == 99 and c.alert_days == 21
    with pytest.raises(ConfigError, match=r"nearrepeat.*metric"):
        build_section(NearRepeatConfig, {"metric": "chebyshev"}, "x.toml", "nearrepeat")
    with pytest.raises(ConfigError, match="unknown key"):
        build_section(NearRepeatConfig, {"bands": 3}, "x.toml", "nearrepeat")


def test_cli_input_csv(tmp_path, capsys):
    from hotspots.cli import main

    inc = _synthetic_incidents()
    df = pd.DataFrame({"x": inc.x, "y": inc.y, "date": inc.start.dt.strftime("%Y-%m-%d")})
    src = tmp_path / "events.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "out"
    rc = main(
        [
            "nearrepeat",
            "--input",
            str(src),
            "--spatial-bandwidth",
            "100",
            "--spatial-bands",
            "3",
            "--temporal-bands",
            "3",
            "--permutations",
            "99",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "Same location" in text and "More than 300 m" in text and "over-represented" in text
    assert (out / "knox_table.csv").exists() and (out / "knox.html").exists()
    # a missing column is a clear error, not a traceback
    rc = main(["nearrepeat", "--input", str(src), "--date-col", "when", "--out", str(out)])
    assert rc == 2
    assert "when" in capsys.readouterr().err


def test_demo_borough_planted_extent_recovered(repo):
    inc_csv = repo / "data" / "incidents" / "incidents.csv"
    truth_json = repo / "data" / "incidents" / "planted_truth.json"
    if not truth_json.exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    from hotspots.analysis.knox import knox_test

    truth = json.loads(truth_json.read_text())["near_repeat"]
    radius, days = truth["radius_m"], truth["days"]
    df = pd.read_csv(inc_csv)
    b = df[df.offence.str.startswith("Burglary - residential")]
    t = (pd.to_datetime(b.committed_from).dt.normalize() - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    sbw, tbw = radius / 4, days / 2
    r = knox_test(
        b.easting.to_numpy(float),
        b.northing.to_numpy(float),
        t.to_numpy(float),
        spatial_bandwidth_m=sbw,
        n_spatial_bands=12,
        temporal_bandwidth_days=tbw,
        n_temporal_bands=8,
        permutations=999,
        seed=1,
    )
    sig = r.significant()
    # inside the planted extent every cell is significant and strongly over-represented
    inside_s = slice(1, 5)  # 0-radius
    inside_t = slice(0, 2)  # 0-days
    assert sig[inside_s, inside_t].all()
    assert (r.ratio[inside_s, inside_t] > 2).all()
    # well outside it (beyond twice the radius, or beyond twice the days plus a band), nothing is
    # significant after a Bonferroni correction over those cells; chains of near repeats can reach
    # up to twice the planted extent, so the ring in between is not tested
    outside = np.zeros_like(sig)
    outside[9:13, :8] = True
    outside[1:13, 5:8] = True
    alpha = 0.05 / outside.sum()
    assert not (r.significant(alpha) & outside).any()
    # the core (half-maximum) extent is the planted one; the significant extent includes the chain tail
    assert r.extent(rule="core") == (radius, days)
    d, tt = r.extent()
    assert radius <= d <= 2 * radius and days <= tt <= 3 * days


def test_demo_stage_calibrates_to_planted_extent(demo_config_path, repo):
    from hotspots.config import load_config
    from hotspots.stages.inputs import load_incidents, load_study_area

    truth = json.loads((repo / "data" / "incidents" / "planted_truth.json").read_text())["near_repeat"]
    cfg = load_config(demo_config_path).override("nearrepeat", permutations=199)
    area = load_study_area(cfg)
    inc = load_incidents(cfg, area).incidents
    fim = inc["start"].max().tz_convert("Europe/London").tz_localize(None).normalize() + pd.Timedelta(days=1)
    from hotspots.stages.nearrepeat import nearrepeat

    res = nearrepeat(cfg, inc, area, area.grid(cfg.grid.cell_size_m), fim)
    assert (res.radius_m, res.duration_days) == (truth["radius_m"], truth["days"])
    assert len(res.zones) > 0
    # every zone expires within the calibrated days of its last burglary and lists streets
    assert ((res.zones.expiry_date - res.zones.last_event_date) == pd.Timedelta(days=truth["days"])).all()
    assert (res.zones.streets.str.len() > 0).all()
    # each burglary of the last 14 days whose alert is still live on the meeting day lies inside a zone
    # (one from exactly 14 days ago expires on the meeting day itself)
    day = inc.start.dt.tz_localize(None).dt.normalize()
    live = (day >= fim - pd.Timedelta(days=14)) & (day + pd.Timedelta(days=truth["days"]) > fim)
    recent = inc[(inc.crime_type == "burglary_residential") & live]
    assert len(recent) > 20
    pts = gpd.GeoSeries(gpd.points_from_xy(recent.x, recent.y), crs="EPSG:27700")
    assert pts.within(res.zones.union_all().buffer(1e-6)).all()
    # the demo's burglaries carry committed-from/to times: an hour x weekday profile summing to the window
    assert res.aoristic is not None and res.aoristic.shape == (24, 7)
    n_window = int(
        (
            (inc.crime_type == "burglary_residential")
            & (inc.start < pd.Timestamp(fim, tz="Europe/London"))
            & (inc.start >= pd.Timestamp(fim, tz="Europe/London") - pd.Timedelta(days=365))
        ).sum()
    )
    assert res.aoristic.to_numpy().sum() == pytest.approx(n_window)


def test_repeat_locations_table_equals_one_location_at_a_time():
    """The table of locations with a repeat (built for all locations at once) equals building each row
    from that location's own burglaries: first burglary's point and text, counts in the period, first
    and last dates, and the same order."""
    rng = np.random.default_rng(5)
    n = 1500
    sites = rng.integers(0, 300, n)
    x = 530000.0 + (sites % 20) * 37.0
    y = 190000.0 + (sites // 20) * 41.0
    d = pd.Series(pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"))
    text = [f"On or near Street {s}" for s in sites]
    r = repeat_victimisation(x, y, d, location_text=text, period_start="2024-01-01", period_end="2024-12-01")
    assert len(r.locations) > 50

    codes = pd.factorize(pd.Series(list(zip(np.round(x).astype(int), np.round(y).astype(int), strict=True))))[0]
    in_period = ((d >= "2024-01-01") & (d < "2024-12-01")).to_numpy()
    rows = []
    for code in np.unique(codes[r.is_repeat]):
        members = np.nonzero(codes == code)[0]
        rows.append(
            {
                "x": float(x[members[0]]),
                "y": float(y[members[0]]),
                "location": text[members[0]],
                "n_burglaries_in_period": int(in_period[members].sum()),
                "n_repeats_in_period": int(r.is_repeat[members].sum()),
                "first_date": d.iloc[members].min(),
                "last_date": d.iloc[members].max(),
            }
        )
    expected = (
        pd.DataFrame(rows)
        .sort_values(["n_repeats_in_period", "last_date"], ascending=[False, False])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(r.locations, expected)
