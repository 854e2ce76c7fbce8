"""Short-term exceptions (exact Poisson tests, flags) and seasonality: hand-computed cases,
planted changes and planted / real seasonal peaks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots._util import shared_data_dir
from hotspots.analysis.exceptions import (
    ExceptionsConfig,
    plan_periods,
    poisson_change_test,
    seasonal_index,
    seasonality,
    short_term_exceptions,
)
from hotspots.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
TZ = "Europe/London"


def make_incidents(times, ward, crime_type="burglary", precision="day", x=None, y=None):
    import geopandas as gpd

    t = pd.DatetimeIndex(times)
    t = t.tz_localize(TZ) if t.tz is None else t
    n = len(t)
    x = np.full(n, 1000.0) if x is None else np.asarray(x, float)
    y = np.full(n, 1000.0) if y is None else np.asarray(y, float)
    return gpd.GeoDataFrame(
        {
            "x": x,
            "y": y,
            "start": t,
            "end": t,
            "time_precision": precision,
            "crime_type": crime_type,
            "ward_code": ward,
            "harm": 1.0,
        },
        geometry=gpd.points_from_xy(x, y),
        crs=27700,
    )


# --------------------------------------------------------------------------- exact test
def test_poisson_change_test_hand_computed():
    # 5 vs 0 with equal exposure: two-sided p = 2 * 0.5**5
    assert poisson_change_test(5, 0)[0] == pytest.approx(0.0625)
    # 10 vs 2: P(X <= 2) + P(X >= 10) for Binomial(12, 1/2) = 2 * 79 / 4096
    assert poisson_change_test(10, 2)[0] == pytest.approx(158 / 4096)
    # 3 now vs 0 in six earlier periods: only X = 3 is as unlikely -> (1/7)**3
    assert poisson_change_test(3, 0, 1.0, 6.0)[0] == pytest.approx((1 / 7) ** 3)
    assert np.isnan(poisson_change_test(0, 0)[0])


def test_vectorised_binomial_test_equals_scipy_bit_for_bit():
    """binomtest_two_sided runs scipy's two-sided algorithm for many tests at once: every p-value is
    scipy.stats.binomtest's, to the last bit, including outcomes exactly as likely as the observed one
    (p = 1/2, p = k/n) and the ends p = 0 and p = 1."""
    from scipy.stats import binomtest

    from hotspots.analysis.binomial import binomtest_two_sided

    rng = np.random.default_rng(7)
    ks, ns, ps = [], [], []
    for _ in range(1500):
        n = int(rng.choice([1, 2, 3, 5, 10, 30, 100, 1000, 5000]) * rng.random()) + 1
        ks.append(int(rng.integers(0, n + 1)))
        ns.append(n)
        ps.append(float(rng.choice([rng.random(), 0.5, 1 / 3, 14 / 378, 1 / 7, 0.0, 1.0, 1e-6])))
    for n in range(1, 25):
        for k in range(n + 1):
            ks += [k, k]
            ns += [n, n]
            ps += [0.5, k / n]
    expected = np.array([binomtest(k, n, p).pvalue for k, n, p in zip(ks, ns, ps, strict=True)])
    got = binomtest_two_sided(ks, ns, ps)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)
    assert binomtest_two_sided(10, 12, 0.5)[()] == binomtest(10, 12, 0.5).pvalue
    assert binomtest_two_sided([], [], []).shape == (0,)


def test_periods_fortnight_and_month():
    p = plan_periods("2025-11-14", "minute", ExceptionsConfig(trailing_periods=6))
    assert p.current == (pd.Timestamp("2025-10-31", tz=TZ), pd.Timestamp("2025-11-14", tz=TZ))
    assert p.previous[1] == p.current[0] and p.previous[0] == pd.Timestamp("2025-10-17", tz=TZ)
    assert p.last_year == (pd.Timestamp("2024-11-01", tz=TZ), pd.Timestamp("2024-11-15", tz=TZ))  # 364 days back
    assert p.trailing == (pd.Timestamp("2025-08-08", tz=TZ), pd.Timestamp("2025-10-31", tz=TZ))  # 6 x 14 days
    m = plan_periods("2018-07-10", "month", ExceptionsConfig())
    assert m.current == (pd.Timestamp("2018-06-01", tz=TZ), pd.Timestamp("2018-07-01", tz=TZ))
    assert m.last_year[0] == pd.Timestamp("2017-06-01", tz=TZ)


def test_planted_surge_is_flagged_and_steady_ward_is_not():
    rng = np.random.default_rng(2)
    fim = pd.Timestamp("2025-11-14", tz=TZ)
    start = fim - pd.Timedelta(days=500)
    times, wards = [], []
    for ward, rate in (("A", 0.35), ("B", 0.35)):  # about 5 per fortnight each
        n = rng.poisson(rate * 500)
        times += list(start + pd.to_timedelta(rng.uniform(0, 500, n), unit="D"))
        wards += [ward] * n
    # planted surge: 25 extra burglaries in ward A in the current fortnight
    times += list(fim - pd.to_timedelta(rng.uniform(0.01, 13.9, 25), unit="D"))
    wards += ["A"] * 25
    inc = make_incidents(times, np.array(wards))
    ex = short_term_exceptions(inc, fim)
    a = ex[(ex.unit_id == "A") & (ex.crime_type == "burglary")].iloc[0]
    b = ex[(ex.unit_id == "B") & (ex.crime_type == "burglary")].iloc[0]
    assert a["flag"] == "up" and "up to" in a["reason"]
    # plain words: the crime type as people say it, whole counts (a baseline scaled to another period is "about")
    assert re.match(rf"Burglary in \S+ up to {int(a['current'])} from (about )?\d+ in ", a["reason"]), a["reason"]
    assert b["flag"] == ""
    # counts equal a direct count
    cur = (inc.ward_code == "A") & (inc.start >= fim - pd.Timedelta(days=14)) & (inc.start < fim)
    assert a["current"] == cur.sum()
    # the p-value is the exact test of the counts shown
    assert a["p_previous"] == pytest.approx(poisson_change_test(a["current"], a["previous"])[0])
    assert ex.iloc[0]["flag"] != ""  # flagged rows first


def test_material_threshold_suppresses_small_significant_changes():
    fim = pd.Timestamp("2025-11-14", tz=TZ)
    # 6 incidents this fortnight, none in the previous 6 fortnights or last year
    times = [fim - pd.Timedelta(days=d) for d in (1, 2, 3, 4, 5, 6)] + [fim - pd.Timedelta(days=600)]
    inc = make_incidents(times, "A")
    loose = short_term_exceptions(inc, fim, ExceptionsConfig(min_count=5, min_change=3, fdr=False))
    strict = short_term_exceptions(inc, fim, ExceptionsConfig(min_count=10, min_change=3, fdr=False))
    row = lambda df: df[(df.unit_id == "A") & (df.crime_type == "burglary")].iloc[0]  # noqa: E731
    assert row(loose)["p_trailing"] == pytest.approx((1 / 7) ** 6)
    assert row(loose)["flag"] == "up"
    assert row(strict)["flag"] == ""


def test_hotspot_area_rows_count_points_inside():
    import geopandas as gpd
    from shapely.geometry import box

    fim = pd.Timestamp("2025-11-14", tz=TZ)
    times = [fim - pd.Timedelta(days=d) for d in range(1, 11)]
    x = np.arange(10) * 100.0
    inc = make_incidents(times, "A", x=x, y=np.zeros(10))
    areas = gpd.GeoDataFrame({"area_id": ["H1"], "name": ["Parade"]}, geometry=[box(-50, -50, 450, 50)], crs=27700)
    ex = short_term_exceptions(inc, fim, areas=areas)
    r = ex[(ex.unit_type == "hotspot area") & (ex.crime_type == "all crime")].iloc[0]
    assert r["unit_name"] == "Parade" and r["current"] == 5
    # the pipeline's hotspot polygons carry a crime-type label instead of a name
    areas2 = gpd.GeoDataFrame(
        {"area_id": ["burglary-3"], "label": ["burglary"]}, geometry=[box(-50, -50, 250, 50)], crs=27700
    )
    ex2 = short_term_exceptions(inc, fim, areas=areas2)
    r2 = ex2[(ex2.unit_type == "hotspot area") & (ex2.crime_type == "all crime")].iloc[0]
    assert r2["unit_id"] == "burglary-3" and r2["current"] == 3


def test_exceptions_config_validation():
    with pytest.raises(ConfigError, match="seasonal"):
        ExceptionsConfig(seasonal_high=0.8).validate("x.toml")


# --------------------------------------------------------------------------- seasonality
def test_seasonal_index_recovers_a_planted_pattern():
    rng = np.random.default_rng(4)
    factor = np.array([1.4, 1.0, 1.0, 1.0, 1.0, 0.7, 0.7, 1.0, 1.0, 1.0, 1.4, 1.4])
    days = pd.date_range("2019-01-01", "2023-12-31", freq="D")
    lam = 200 * factor[days.month - 1] * np.linspace(0.9, 1.1, len(days))  # with a trend
    n = rng.poisson(lam)
    times = np.repeat(days, n) + pd.Timedelta(hours=12)
    inc = make_incidents(times, "A")
    res = seasonality(inc, "2023-11-20", ExceptionsConfig(include_all_crime=False))
    idx = res.index_table().loc["burglary"].to_numpy()
    want = factor / factor.mean()
    np.testing.assert_allclose(idx, want, atol=0.03)
    out = res.outlook.set_index("crime_type").loc["burglary"]
    assert out["status"] == "high" and out["index"] == pytest.approx(want[10], abs=0.05)
    summer = seasonality(inc, "2023-06-05", ExceptionsConfig(include_all_crime=False))
    assert summer.outlook.iloc[0]["status"] == "low"


def test_seasonal_index_needs_twelve_months():
    r = pd.Series([1.0] * 11, index=pd.period_range("2020-01", periods=11, freq="M"))
    idx, _, method = seasonal_index(r)
    assert np.isnan(idx).all() and "not enough" in method


@pytest.mark.shared_data
def test_barnet_burglary_winter_peak():
    d = shared_data_dir()
    f = d / "crime/barnet_burglary_policeuk_2010-12_2024-02.csv.gz"
    if not f.exists():
        pytest.skip(f"{f} not found")
    df = pd.read_csv(f, usecols=["Month"])
    start = pd.to_datetime(df["Month"] + "-01").dt.tz_localize(TZ)
    end = (start.dt.tz_localize(None) + pd.offsets.MonthBegin(1)).dt.tz_localize(TZ) - pd.Timedelta("1us")
    inc = make_incidents(start, "x", precision="month")
    inc["end"] = end.to_numpy()
    res = seasonality(inc, "2023-11-20", ExceptionsConfig(include_all_crime=False))
    idx = res.index_table().loc["burglary"]
    assert idx[[11, 12, 1]].mean() > 1.1  # the winter peak the partnership noticed
    assert idx[[5, 6, 7]].mean() < 0.95
    assert res.profile["n_years"].min() >= 12
    assert res.outlook.iloc[0]["status"] == "high"


def test_demo_planted_winter_uplift():
    truth_p = REPO / "data/incidents/planted_truth.json"
    if not truth_p.exists():
        pytest.skip("demo borough data not generated")
    truth = json.loads(truth_p.read_text())
    df = pd.read_csv(REPO / "data/incidents/incidents.csv")
    df = df[df["offence"] == truth["near_repeat"]["offence"]]
    local = lambda c: pd.to_datetime(df[c]).dt.tz_localize(TZ, ambiguous="NaT", nonexistent="NaT")  # noqa: E731
    inc = make_incidents(local("committed_from"), "x", "burglary_residential", "minute")
    inc["end"] = local("committed_to").to_numpy()
    inc = inc[inc["start"].notna() & inc["end"].notna()]
    s = seasonality(inc, "2025-11-14", ExceptionsConfig(crime_types=("burglary_residential",), include_all_crime=False))
    idx = s.index_table().loc["burglary_residential"]
    winter = truth["near_repeat"]["winter_months"]
    assert idx[winter].mean() > 1.1
    assert idx[[m for m in range(1, 13) if m not in winter]].max() < idx[winter].min()
    assert s.outlook.iloc[0]["status"] == "high"


@pytest.mark.shared_data
def test_barnet_monthly_ward_counts_match_pandas():
    d = shared_data_dir()
    f = d / "crime/barnet_street_crime_policeuk_api_2016-01_2018-06.csv.gz"
    if not f.exists():
        pytest.skip(f"{f} not found")
    df = pd.read_csv(f, usecols=["Month", "Crime type", "ward_code_2002_2022"])
    start = pd.to_datetime(df["Month"] + "-01").dt.tz_localize(TZ)
    end = (start.dt.tz_localize(None) + pd.offsets.MonthBegin(1)).dt.tz_localize(TZ) - pd.Timedelta("1us")
    inc = make_incidents(start, df["ward_code_2002_2022"].to_numpy(), df["Crime type"].to_numpy(), "month")
    inc["end"] = end.to_numpy()
    ex = short_term_exceptions(inc, "2018-07-01", ExceptionsConfig(include_study_area=False))
    assert (ex["period"] == "month").all() and (ex["period_start"] == "2018-06-01").all()
    bur = ex[(ex.crime_type == "Burglary") & (ex.unit_type == "ward")].set_index("unit_id")
    ref = df[df["Crime type"] == "Burglary"].groupby(["ward_code_2002_2022", "Month"]).size().unstack(fill_value=0)
    assert {f"E050000{n}" for n in range(43, 64)} <= set(bur.index)  # Barnet's 21 wards (and a few neighbours')
    for ward, r in bur.iterrows():
        assert r["current"] == ref.loc[ward, "2018-06"]
        assert r["previous"] == ref.loc[ward, "2018-05"]
        assert r["last_year"] == ref.loc[ward, "2017-06"]
        assert r["trailing_mean"] == pytest.approx(
            ref.loc[ward, ["2017-12", "2018-01", "2018-02", "2018-03", "2018-04", "2018-05"]].mean()
        )


def test_reasons_name_the_crime_type_in_words_and_give_whole_counts():
    """A hand-made row: "Criminal damage and arson ... from 31", never "Criminal damage arson ... from 31.0"."""
    from hotspots.analysis.exceptions import _flag
    from hotspots.config.sections import ExceptionsConfig
    from hotspots.vocabulary import crime_type_label

    row = pd.Series(
        {
            "crime_type": "criminal_damage_arson",
            "unit_name": "Colindale",
            "current": 60,
            "previous": 31.0,
            "p_previous": 1e-4,
            "q_previous": 1e-3,
        }
    )
    cfg = ExceptionsConfig()
    flag, reason = _flag(row, {"previous": 14.0}, 14.0, cfg, "q", {"previous": "the previous fortnight"})
    assert flag == "up"
    assert reason.startswith(
        f"{crime_type_label('criminal_damage_arson')} in Colindale up to 60 from 31 in the previous"
    )
    assert "31.0" not in reason and "damage arson" not in reason
    # a baseline scaled to a period of another length is a whole number "about"
    _, scaled = _flag(row, {"previous": 28.0}, 14.0, cfg, "q", {"previous": "the previous four weeks"})
    assert "from about 16 in the previous four weeks" in scaled
