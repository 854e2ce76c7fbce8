"""Emerging hotspots: kernels against esda / pymannkendall / brute force, the class rules on
hand-built cubes, planted truth on the demo borough, and sanity on real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots._util import shared_data_dir
from hotspots.analysis import _trends_kernels as K
from hotspots.analysis.trends import (
    ESRI_LABELS,
    UK_LABELS,
    TrendsConfig,
    bh_adjust,
    classify_uk,
    emerging_hotspots,
    mann_kendall,
    plan_steps,
    queen_csr,
    spacetime_gistar,
)
from hotspots.errors import ConfigError, PrecisionError
from hotspots.geo.grid import Grid

REPO = Path(__file__).resolve().parents[1]
TZ = "Europe/London"


# --------------------------------------------------------------------------- helpers
def make_incidents(x, y, start, end=None, precision="day", crime_type="burglary"):
    import geopandas as gpd

    start = pd.DatetimeIndex(start)
    start = start.tz_localize(TZ) if start.tz is None else start
    end = start if end is None else pd.DatetimeIndex(end)
    return gpd.GeoDataFrame(
        {
            "x": np.asarray(x, float),
            "y": np.asarray(y, float),
            "start": start,
            "end": end,
            "time_precision": precision,
            "crime_type": crime_type,
            "harm": 1.0,
        },
        geometry=gpd.points_from_xy(x, y),
        crs=27700,
    )


def shared():
    d = shared_data_dir()
    if not d.exists():
        pytest.skip(f"shared data folder {d} not found (set HOTSPOTS_SHARED_DATA)")
    return d


def barnet_allcrime():
    d = shared()
    df = pd.read_csv(
        d / "crime/barnet_street_crime_policeuk_api_2016-01_2018-06.csv.gz",
        usecols=["Month", "Crime type", "x_bng", "y_bng", "ward_code_2002_2022"],
    )
    start = pd.to_datetime(df["Month"] + "-01").dt.tz_localize(TZ)
    end = (start.dt.tz_localize(None) + pd.offsets.MonthBegin(1)).dt.tz_localize(TZ) - pd.Timedelta("1us")
    inc = make_incidents(df["x_bng"], df["y_bng"], start, end, "month", df["Crime type"].to_numpy())
    inc["ward_code"] = df["ward_code_2002_2022"].to_numpy()
    return inc


def barnet_boundary():
    import geopandas as gpd

    d = shared()
    return gpd.read_file(d / "boundaries/barnet_borough_outline.geojson").to_crs(27700).geometry.union_all()


def brute_gistar(cube, mask, lags):
    """Direct double loop over the space-time neighbourhood (reference)."""
    rows, cols = np.nonzero(mask)
    T, N = cube.shape
    n = T * N
    xbar = cube.mean()
    s = np.sqrt((cube**2).mean() - xbar**2)
    z = np.zeros((T, N))
    for t in range(T):
        for i in range(N):
            nb = [j for j in range(N) if abs(rows[j] - rows[i]) <= 1 and abs(cols[j] - cols[i]) <= 1]
            steps = range(max(0, t - lags), t + 1)
            tot = sum(cube[u, j] for u in steps for j in nb)
            w = len(nb) * len(steps)
            z[t, i] = (tot - xbar * w) / (s * np.sqrt((n * w - w * w) / (n - 1)))
    return z


def small_mask():
    m = np.ones((6, 7), dtype=bool)
    m[0, 0] = m[5, 6] = m[2, 3] = False  # holes and corners
    return m


# --------------------------------------------------------------------------- kernels
def test_queen_csr_matches_brute_force():
    m = small_mask()
    rows, cols, ptr, idx = queen_csr(m)
    for i in range(len(rows)):
        got = sorted(idx[ptr[i] : ptr[i + 1]])
        want = [j for j in range(len(rows)) if abs(rows[j] - rows[i]) <= 1 and abs(cols[j] - cols[i]) <= 1]
        assert got == want


@pytest.mark.parametrize("lags", [0, 1, 2])
def test_spacetime_gistar_matches_brute_force(lags):
    rng = np.random.default_rng(1)
    m = small_mask()
    cube = rng.poisson(1.3, size=(6, m.sum())).astype(float)
    z, _p = spacetime_gistar(cube, m, lags)
    np.testing.assert_allclose(z, brute_gistar(cube, m, lags), rtol=1e-10, atol=1e-12)


def test_spacetime_gistar_matches_esda_on_the_whole_cube():
    """esda's analytic Gi* (binary weights, star) over the flattened cube with a
    space-time weights object gives the same z-scores."""
    from esda.getisord import G_Local
    from libpysal.weights import W

    rng = np.random.default_rng(7)
    m = small_mask()
    T, lags = 5, 1
    rows, _, ptr, idx = queen_csr(m)
    N = len(rows)
    cube = rng.poisson(0.8, size=(T, N)).astype(float)
    cube[3:, 5] += 6  # something to find
    neigh = {}
    for t in range(T):
        for i in range(N):
            node = t * N + i
            neigh[node] = [
                u * N + j for u in range(max(0, t - lags), t + 1) for j in idx[ptr[i] : ptr[i + 1]] if u * N + j != node
            ]
    w = W(neigh, silence_warnings=True)
    g = G_Local(cube.ravel(), w, transform="B", star=True, permutations=0)
    z, p = spacetime_gistar(cube, m, lags)
    np.testing.assert_allclose(z.ravel(), g.Zs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p.ravel(), 2 * g.p_norm, rtol=1e-9)


def test_mann_kendall_matches_pymannkendall():
    mk = pytest.importorskip("pymannkendall")
    rng = np.random.default_rng(3)
    series = np.vstack(
        [
            rng.normal(size=30).cumsum(),
            rng.poisson(2, size=30).astype(float),  # ties
            np.arange(30.0) * 0.1 + rng.normal(size=30),
            rng.normal(size=30),
        ]
    )
    got = mann_kendall(series, 0)
    for r, x in enumerate(series):
        ref = mk.original_test(x)
        assert got["s"][r] == ref.s
        assert got["var"][r] == pytest.approx(ref.var_s)
        assert got["z"][r] == pytest.approx(ref.z)
        assert got["p"][r] == pytest.approx(ref.p)
        assert got["slope"][r] == pytest.approx(ref.slope)
    got = mann_kendall(series, 1)
    for r, x in enumerate(series):
        ref = mk.yue_wang_modification_test(x, lag=1)
        assert got["var"][r] == pytest.approx(ref.var_s)
        assert got["p"][r] == pytest.approx(ref.p)


def test_bh_adjust_matches_scipy():
    from scipy.stats import false_discovery_control

    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(size=50), rng.uniform(0, 0.002, size=10)])
    np.testing.assert_allclose(bh_adjust(p), false_discovery_control(p), rtol=1e-12)
    p2 = p.reshape(6, 10)
    want = np.vstack([false_discovery_control(r) for r in p2])
    np.testing.assert_allclose(bh_adjust(p2, axis=1), want, rtol=1e-12)


# --------------------------------------------------------------------------- class rules
def _series(s):
    return np.array([c == "H" for c in s]), np.array([c == "C" for c in s])


def _classify(pattern, trend_p=1.0, trend_z=0.0, extended=True):
    hot, cold = _series(pattern)
    code = K.classify_esri(
        hot[None, :], cold[None, :], np.array([trend_p]), np.array([trend_z]), 0.05, 0.9, 0.25, 2, extended
    )[0]
    return ESRI_LABELS[code]


@pytest.mark.parametrize(
    "pattern, p, z, want",
    [
        ("..........", 1.0, 0.0, "no pattern"),
        (".........H", 1.0, 0.0, "new hot spot"),
        ("......HHHH", 1.0, 0.0, "consecutive hot spot"),
        ("HHHHHHHHHH", 0.01, 3.0, "intensifying hot spot"),
        ("HHHHHHHHHH", 0.30, 1.0, "persistent hot spot"),
        ("H.HHHHHHHHHHHHHHHHHH", 0.30, 1.0, "persistent hot spot"),  # 95% hot
        ("HHHHHHHHHH", 0.01, -3.0, "diminishing hot spot"),
        ("..H...H..H", 1.0, 0.0, "sporadic hot spot"),
        ("..H...HHHH", 1.0, 0.0, "sporadic hot spot"),  # hot before the final run
        ("C.H.....HH", 1.0, 0.0, "oscillating hot spot"),
        ("HHHHHHHHHHHHHHHHHHH.", 1.0, 0.0, "historical hot spot"),  # ArcGIS rule: 95% hot, final not hot
        ("HHHHHHHHHH..........", 1.0, 0.0, "historical hot spot"),  # extended rule: a spell that ended
        ("H.H.H.H.H.H.H.H.H...", 1.0, 0.0, "no pattern"),  # spell only 50% hot: not sustained
        ("..........HH........", 1.0, 0.0, "no pattern"),  # spell too short (10% of steps)
        (".........C", 1.0, 0.0, "new cold spot"),
        ("......CCCC", 1.0, 0.0, "consecutive cold spot"),
        ("CCCCCCCCCC", 0.01, -3.0, "intensifying cold spot"),
        ("CCCCCCCCCC", 0.01, 3.0, "diminishing cold spot"),
        ("CCCCCCCCCC", 0.5, 0.0, "persistent cold spot"),
        ("..C...C..C", 1.0, 0.0, "sporadic cold spot"),
        ("H.C.....CC", 1.0, 0.0, "oscillating cold spot"),
        ("CCCCCCCCCC..........", 1.0, 0.0, "historical cold spot"),
    ],
)
def test_esri_rules_on_hand_built_series(pattern, p, z, want):
    assert _classify(pattern, p, z) == want


def test_arcgis_historical_rule_is_strict():
    assert _classify("HHHHHHHHHH..........", extended=False) == "no pattern"
    assert _classify("HHHHHHHHHHHHHHHHHHH.", extended=False) == "historical hot spot"


def test_uk_scheme_on_hand_built_series():
    pats = ["HHHHHHHH", "....HHHH", "HHHH....", "H.....H.", "........"]
    hot = np.vstack([_series(s)[0] for s in pats])
    codes = classify_uk(hot, recent_steps=4, hot_share=0.5)
    assert [UK_LABELS[c] for c in codes] == ["persistent", "emerging", "former", "intermittent", "not hot"]


def _planted_cube_incidents(rng):
    """A 16x16-cell (100 m) area, 24 fortnights ending 2024-01-01, Poisson background
    plus planted blocks: persistent (all steps), new (final step only), a spell that
    stops after step 12, and one that starts at step 18."""
    fim = pd.Timestamp("2024-01-01", tz=TZ)
    T, n = 24, 16
    xs, ys, ts = [], [], []

    def add(cx, cy, steps, per_step):
        for k in steps:
            m = rng.poisson(per_step)
            xs.extend(cx + rng.uniform(-100, 100, m))
            ys.extend(cy + rng.uniform(-100, 100, m))
            t0 = fim - pd.Timedelta(days=14 * (T - k))
            ts.extend(t0 + pd.to_timedelta(rng.uniform(0, 14, m), unit="D"))

    # background: 0.3 per cell per step
    for k in range(T):
        m = rng.poisson(0.3 * n * n)
        xs.extend(rng.uniform(0, 1600, m))
        ys.extend(rng.uniform(0, 1600, m))
        t0 = fim - pd.Timedelta(days=14 * (T - k))
        ts.extend(t0 + pd.to_timedelta(rng.uniform(0, 14, m), unit="D"))
    add(250, 250, range(T), 12)  # persistent
    add(1350, 1350, [T - 1], 25)  # new
    add(250, 1350, range(0, 12), 12)  # stopping
    add(1350, 250, range(18, T), 12)  # emerging (6 steps)
    inc = make_incidents(xs, ys, ts, precision="day")
    from shapely.geometry import box

    grid = Grid.from_boundary(box(0, 0, 1600, 1600), 100)
    return inc, grid, fim


def test_planted_cube_end_to_end():
    rng = np.random.default_rng(11)
    inc, grid, fim = _planted_cube_incidents(rng)
    res = emerging_hotspots(inc, grid, fim, TrendsConfig(min_steps=6))
    assert res.n_steps == 24 and res.step_ends[-1] == fim
    assert res.counts.sum() == len(inc)  # every incident inside the steps and the grid
    cls = res.class_grid()

    def at(x, y):
        r, c = grid.cell_index(np.array([x]), np.array([y]))
        return ESRI_LABELS[cls[r[0], c[0]]]

    assert at(250, 250) == "persistent hot spot"
    assert at(1350, 1350) == "new hot spot"
    assert at(250, 1350) in ("historical hot spot", "diminishing hot spot")
    assert at(1350, 250) in ("consecutive hot spot", "new hot spot", "intensifying hot spot")
    # every cell classified, counts add up
    assert sum(res.counts_by_class().values()) == grid.n_cells == len(res.codes)
    frame = res.to_frame()
    assert len(frame) == grid.n_cells and frame["explanation"].str.len().min() > 20
    assert set(frame["class_label"]) <= set(res.legend())


# --------------------------------------------------------------------------- steps
def test_fortnight_steps_end_at_the_fim_date():
    plan = plan_steps("2025-11-14", "minute", TrendsConfig(n_steps=10))
    assert plan.n == 10 and plan.label == "fortnight"
    assert plan.ends[-1] == pd.Timestamp("2025-11-14", tz=TZ)
    assert all(
        (e - s).days == 14 or (e - s) == pd.Timedelta(days=14, hours=1) or (e - s) == pd.Timedelta(days=14, hours=-1)
        for s, e in zip(plan.starts, plan.ends, strict=True)
    )
    assert all(s.hour == 0 for s in plan.starts)  # local midnights across the clock change
    assert (plan.starts[1:] == plan.ends[:-1]).all()


def test_month_steps_for_month_precision_and_refusal_of_days():
    plan = plan_steps("2018-07-15", "month", TrendsConfig(), pd.Timestamp("2016-01-01", tz=TZ))
    assert plan.label == "month" and plan.n == 30
    assert plan.starts[0] == pd.Timestamp("2016-01-01", tz=TZ)
    assert plan.ends[-1] == pd.Timestamp("2018-07-01", tz=TZ)  # July not over by the FIM date
    with pytest.raises(PrecisionError):
        plan_steps("2018-07-15", "month", TrendsConfig(step="days"), pd.Timestamp("2016-01-01", tz=TZ))


def test_config_rejects_bad_values():
    with pytest.raises(ConfigError, match="scheme"):
        TrendsConfig(scheme="arcgis").validate("x.toml")
    with pytest.raises(ConfigError, match="fdr"):
        TrendsConfig(fdr="bonferroni").validate("x.toml")


# --------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_barnet_allcrime_monthly_cube_is_sane():
    inc = barnet_allcrime()
    grid = Grid.from_boundary(barnet_boundary(), 250)
    res = emerging_hotspots(inc, grid, "2018-07-01")
    assert res.step_label == "month" and res.n_steps == 30  # chosen from month precision
    assert res.counts.sum() == len(inc)
    by = res.counts_by_class()
    assert sum(by.values()) == grid.n_cells == len(res.codes)
    assert by.get("persistent hot spot", 0) > 10  # Barnet has steady town-centre hotspots
    assert by["no pattern"] > grid.n_cells / 2
    # persistent cells are hot in >= 90% of months including the latest
    per = res.codes == ESRI_LABELS.index("persistent hot spot")
    assert (res.hot[:, per].mean(axis=0) >= 0.9).all() and res.hot[-1, per].all()
    uk = emerging_hotspots(inc, grid, "2018-07-01", TrendsConfig(scheme="uk"))
    assert sum(uk.counts_by_class().values()) == grid.n_cells


@pytest.mark.shared_data
def test_chicago_fortnightly_cube_is_sane():
    import shapely

    d = shared()
    df = pd.read_csv(d / "nearrepeat_validation/chicago_res_burglary_2014_2017_epsg26971.csv")
    inc = make_incidents(df["x"], df["y"], pd.to_datetime(df["date"]), precision="day")
    inc["end"] = inc["start"] + pd.Timedelta(hours=23, minutes=59)
    hull = shapely.MultiPoint(np.c_[df["x"], df["y"]]).convex_hull
    grid = Grid.from_boundary(hull, 500)
    res = emerging_hotspots(inc, grid, "2018-01-01")
    assert res.step_label == "fortnight" and res.n_steps == 104
    assert res.step_ends[-1] == pd.Timestamp("2018-01-01", tz=TZ)
    # 2014-01-01 .. 2014-01-04 fall before the first whole fortnight
    assert res.counts.sum() == ((inc["start"] >= res.step_starts[0]).sum())
    by = res.counts_by_class()
    assert sum(by.values()) == grid.n_cells
    assert by.get("persistent hot spot", 0) > 0 and by["no pattern"] < grid.n_cells


# --------------------------------------------------------------------------- demo borough
@pytest.fixture(scope="module")
def demo():
    return demo_results()


def demo_results():
    truth_p = REPO / "data/incidents/planted_truth.json"
    if not truth_p.exists():
        pytest.skip("demo borough data not generated (run `hotspots demo-data --out data`)")
    from hotspots.config import load_config
    from hotspots.stages.inputs import load_inputs

    cfg = load_config(REPO / "config/demo.toml")
    res = load_inputs(cfg, "2025-11-14")
    return cfg, res, json.loads(truth_p.read_text())


def test_demo_planted_hotspots_are_classed(tmp_path, demo):
    from hotspots.stages.trends import trends as run_trends

    cfg, res, truth = demo
    tr = run_trends(cfg, res.incidents, res.area, res.grid, res.fim_date)
    em = tr.emerging
    assert em.step_label == "fortnight" and em.step_ends[-1] == res.fim_date
    cls = em.class_grid()

    def label(x, y):
        r, c = res.grid.cell_index(np.array([x]), np.array([y]))
        return ESRI_LABELS[cls[r[0], c[0]]]

    e, s = truth["emerging"], truth["stopping"]
    assert label(e["x"], e["y"]) in ("new hot spot", "consecutive hot spot", "intensifying hot spot")
    assert label(s["x"], s["y"]) in ("historical hot spot", "diminishing hot spot")
    for tc in truth["town_centres"]:
        assert label(tc["x"], tc["y"]) == "persistent hot spot", tc["name"]
    assert sum(em.counts_by_class().values()) == res.grid.n_cells
    paths = tr.write(tmp_path)
    for p in paths.values():
        assert Path(p).exists() and Path(p).stat().st_size > 0
    summary = json.loads(paths["summary"].read_text())
    assert summary["emerging"]["n_steps"] == em.n_steps


def test_trends_cli_on_demo(tmp_path, demo):
    from hotspots.cli import main

    rc = main(
        [
            "trends",
            "--config",
            str(REPO / "config/demo.toml"),
            "--date",
            "2025-11-14",
            "--out",
            str(tmp_path),
            "--scheme",
            "uk",
            "--quiet",
        ]
    )
    assert rc == 0
    summary = json.loads((tmp_path / "trends_summary.json").read_text())
    assert summary["emerging"]["scheme"] == "uk"
    assert set(summary["emerging"]["classes"]) <= set(UK_LABELS)
    # the planted hotspots under the UK scheme, read back from the GeoPackage
    import geopandas as gpd

    _cfg, res, truth = demo
    cells = gpd.read_file(tmp_path / "trends_cells.gpkg").set_index("cell_id")

    def label(x, y):
        r, c = res.grid.cell_index(np.array([x]), np.array([y]))
        return cells.loc[r[0] * res.grid.ncols + c[0], "class_label"]

    assert label(truth["emerging"]["x"], truth["emerging"]["y"]) == "emerging"
    assert label(truth["stopping"]["x"], truth["stopping"]["y"]) == "former"
    assert all(label(tc["x"], tc["y"]) == "persistent" for tc in truth["town_centres"])


def test_harm_weighting_sums_harm_and_scaling_leaves_z_unchanged():
    rng = np.random.default_rng(12)
    inc, grid, fim = _planted_cube_incidents(rng)
    inc["harm"] = rng.choice([1.0, 10.0], size=len(inc))
    res = emerging_hotspots(inc, grid, fim, TrendsConfig(weight="harm", min_steps=6))
    assert res.counts.sum() == pytest.approx(inc["harm"].sum())
    inc2 = inc.copy()
    inc2["harm"] = inc["harm"] * 3.0
    res2 = emerging_hotspots(inc2, grid, fim, TrendsConfig(weight="harm", min_steps=6))
    np.testing.assert_allclose(res2.z, res.z, rtol=1e-10, atol=1e-12)  # Gi* is scale-free
    assert (res2.codes == res.codes).all()


def test_legends_cover_every_class():
    from hotspots.analysis.trends import esri_legend, uk_legend

    leg = esri_legend("month")
    assert set(leg) == set(ESRI_LABELS) and set(uk_legend()) == set(UK_LABELS)
    assert "not cold in the latest month" in leg["historical cold spot"]
    assert "getting significantly colder" in leg["intensifying cold spot"]
    assert all(s.endswith(".") and len(s) > 20 for s in leg.values())


def test_geotiff_round_trip(tmp_path):
    import rasterio

    rng = np.random.default_rng(11)
    inc, grid, fim = _planted_cube_incidents(rng)
    res = emerging_hotspots(inc, grid, fim, TrendsConfig(min_steps=6))
    p = res.to_geotiff(tmp_path / "c.tif")
    with rasterio.open(p) as src:
        arr = src.read(1)
        assert src.crs.to_epsg() == 27700 and src.transform == grid.transform
    np.testing.assert_array_equal(arr[grid.mask], res.codes)
    p = res.to_geotiff(tmp_path / "z.tif", "latest_z")
    with rasterio.open(p) as src:
        np.testing.assert_allclose(src.read(1)[grid.mask], res.z[-1], rtol=1e-6, atol=1e-6)
