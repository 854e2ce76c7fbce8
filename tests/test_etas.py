"""The self-exciting point process: kernels against numpy references, parameter recovery on
simulated incidents, and its place among the forecast methods."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from hotspots.errors import PrecisionError
from hotspots.forecast import _etas_kernels as K
from hotspots.forecast.etas import SelfExciting, _solve_omega, _solve_sigma2, density_at, fit_etas, simulate_etas
from hotspots.forecast.harness import EventTable, History, Horizon, backtest, make_origins
from hotspots.forecast.methods import NaiveCounts, default_method_names, make_method
from hotspots.geo.grid import Grid

TZ = "Europe/London"


def _surface(grid):
    xc, yc = grid.centres()
    return (
        0.2
        + np.exp(-((xc - 1500) ** 2 + (yc - 3500) ** 2) / (2 * 600**2))
        + 0.6 * np.exp(-((xc - 3800) ** 2 + (yc - 1200) ** 2) / (2 * 400**2))
    )


def test_fit_recovers_known_parameters_from_simulated_incidents():
    """Background 4 a day on a known surface, branching ratio 0.4, mean lag 5 days, 60 m: the EM
    fit recovers each within 10% (typically within 3%)."""
    grid = Grid.from_boundary(shapely.box(0, 0, 5000, 5000), 100)
    truth = {"mu": 4.0, "theta": 0.4, "omega": 0.2, "sigma": 60.0}
    for seed in (0, 1):
        sim = simulate_etas(grid, _surface(grid), days=1500.0, seed=seed, **truth)
        assert 0.35 < (sim.parent >= 0).mean() < 0.45  # about theta of the incidents are offspring
        bg = density_at(grid, sim.density, sim.x, sim.y, 0.0)
        fit = fit_etas(sim.x, sim.y, sim.t, bg, 0.0, 1500.0, max_lag_days=80.0, max_distance_m=500.0)
        assert fit.converged
        assert fit.mu == pytest.approx(truth["mu"], rel=0.10)
        assert fit.theta == pytest.approx(truth["theta"], rel=0.10)
        assert fit.mean_lag_days == pytest.approx(1 / truth["omega"], rel=0.10)
        assert fit.sigma == pytest.approx(truth["sigma"], rel=0.10)


def test_candidate_pairs_match_brute_force():
    rng = np.random.default_rng(1)
    n = 300
    t = np.sort(np.round(rng.uniform(0, 100, n)))  # ties in time: same-day pairs are not parent-child
    x = rng.uniform(0, 2000, n)
    y = rng.uniform(0, 2000, n)
    pi, pj, dt, d2 = K.candidate_pairs(t, x, y, 10.0, 300.0)
    ref = {
        (i, j)
        for j in range(n)
        for i in range(n)
        if 0 < t[j] - t[i] <= 10.0 and (x[j] - x[i]) ** 2 + (y[j] - y[i]) ** 2 <= 300.0**2
    }
    assert set(zip(pi.tolist(), pj.tolist(), strict=True)) == ref
    np.testing.assert_allclose(dt, t[pj] - t[pi])
    np.testing.assert_allclose(d2, (x[pj] - x[pi]) ** 2 + (y[pj] - y[pi]) ** 2)


def test_em_sums_match_numpy():
    rng = np.random.default_rng(2)
    n = 200
    t = np.sort(rng.uniform(0, 50, n))
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 1000, n)
    bg = rng.uniform(0.5, 1.5, n) / 1e6
    _pi, pj, dt, d2 = K.candidate_pairs(t, x, y, 20.0, 400.0)
    mu, theta, omega, s2, L, D = 3.0, 0.3, 0.25, 80.0**2, 20.0, 400.0
    g = (
        theta
        * omega
        * np.exp(-omega * dt)
        / (1 - math.exp(-omega * L))
        * np.exp(-d2 / (2 * s2))
        / (2 * np.pi * s2 * (1 - math.exp(-D * D / (2 * s2))))
    )
    lam = mu * bg + np.bincount(pj, weights=g, minlength=n)
    p = g / lam[pj]
    got = K.em_sums(pj, dt, d2, bg, mu, theta, omega, s2, L, D)
    ref = (p.sum(), (p * dt).sum(), (p * d2).sum(), (mu * bg / lam).sum(), np.log(lam).sum())
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_truncated_m_step_solvers_invert_the_truncated_means():
    # truncated exponential on (0, L]: mean = 1/w - L / (e^{wL} - 1)
    w = _solve_omega(4.0, 30.0)
    assert 1 / w - 30.0 / math.expm1(w * 30.0) == pytest.approx(4.0, rel=1e-9)
    # truncated 2-d Gaussian to d <= D: E[d^2] = 2 s2 - D^2 / (e^{D^2 / 2 s2} - 1), checked by sampling
    s2 = _solve_sigma2(5000.0, 150.0)
    rng = np.random.default_rng(0)
    d2 = (rng.normal(0, math.sqrt(s2), (400000, 2)) ** 2).sum(axis=1)
    assert d2[d2 <= 150.0**2].mean() == pytest.approx(5000.0, rel=0.01)


def test_triggered_counts_are_the_gaussian_mass_in_each_cell():
    x, y, t = np.array([430.0]), np.array([610.0]), np.array([95.0])
    theta, omega, sigma, L, D = 0.5, 0.1, 70.0, 200.0, 5000.0
    out = K.triggered_counts(x, y, t, 100.0, 114.0, theta, omega, sigma, L, D, 0.0, 1000.0, 100.0, 10, 10)
    time_w = theta * (math.exp(-omega * 5) - math.exp(-omega * 19)) / (1 - math.exp(-omega * L))
    r, c = 3, 4  # the cell 400-500 m east, 600-700 m north holds the point (row 3 from the top)
    px = stats.norm.cdf(500, 430, sigma) - stats.norm.cdf(400, 430, sigma)
    py = stats.norm.cdf(700, 610, sigma) - stats.norm.cdf(600, 610, sigma)
    assert out[r, c] == pytest.approx(time_w * px * py, rel=1e-6)
    assert out.sum() == pytest.approx(
        time_w
        * (1 - math.exp(-D * D / (2 * sigma**2))) ** -1
        * (stats.norm.cdf(1000, 430, sigma) - stats.norm.cdf(0, 430, sigma))
        * (stats.norm.cdf(1000, 610, sigma) - stats.norm.cdf(0, 610, sigma)),
        rel=1e-6,
    )
    # an incident at or after the start contributes nothing
    assert (
        K.triggered_counts(
            x, y, np.array([100.0]), 100.0, 114.0, theta, omega, sigma, L, D, 0.0, 1000.0, 100.0, 10, 10
        ).sum()
        == 0
    )


def test_etas_refuses_month_precision_and_is_a_candidate_for_day_data():
    assert "etas" in default_method_names("day") and "etas" not in default_method_names("month")
    rng = np.random.default_rng(3)
    months = pd.date_range("2021-01-01", "2022-12-01", freq="MS", tz=TZ)
    idx = rng.integers(0, len(months), 500)
    inc = pd.DataFrame(
        {
            "x": rng.uniform(0, 1000, 500),
            "y": rng.uniform(0, 1000, 500),
            "start": months[idx],
            "end": months[idx] + pd.offsets.MonthBegin(1) - pd.Timedelta(seconds=1),
            "time_precision": "month",
            "crime_type": "burglary",
        }
    )
    ev = EventTable.from_incidents(inc)
    grid = Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100)
    h = History(ev, pd.Timestamp("2022-06-01", tz=TZ), Horizon(days=0, months=1), grid)
    with pytest.raises(PrecisionError, match=r"self-exciting \(ETAS\) forecast needs day- or minute-precision"):
        make_method("etas").fit(h)


def test_etas_forecast_beats_counts_on_a_self_exciting_process():
    """Simulated burglary with strong, short-lived near repeats on a flat background: the fitted
    process puts next fortnight's incidents in the top 2% of cells far more often than a year of counts."""
    grid = Grid.from_boundary(shapely.box(0, 0, 4000, 4000), 100)
    sim = simulate_etas(grid, np.ones(grid.shape), mu=3.0, theta=0.6, omega=0.15, sigma=80.0, days=1100.0, seed=5)
    day0 = pd.Timestamp("2020-01-01", tz="UTC")
    start = day0 + pd.to_timedelta(sim.t, unit="D")
    inc = pd.DataFrame(
        {"x": sim.x, "y": sim.y, "start": start, "end": start, "time_precision": "minute", "crime_type": "burglary"}
    )
    ev = EventTable.from_incidents(inc)
    origins = make_origins("2022-06-01", "2022-09-30", Horizon(14), TZ)
    etas = SelfExciting(fit_window_days=365.0, max_lag_days=60.0, max_distance_m=500.0)
    res = backtest(
        ev, grid, {"naive_12m": NaiveCounts(365.25), "etas": etas}, origins, Horizon(14), shares=(0.02, 0.05)
    )
    s = res.summary().set_index("method")
    assert s.loc["etas", "hit_rate_2"] > 1.5 * s.loc["naive_12m", "hit_rate_2"]
    assert s.loc["etas", "info_gain"] > s.loc["naive_12m", "info_gain"]


def test_learned_model_can_take_the_etas_forecast_as_a_feature():
    from hotspots.forecast.features import dynamic_features

    grid = Grid.from_boundary(shapely.box(0, 0, 2000, 2000), 100)
    sim = simulate_etas(grid, np.ones(grid.shape), mu=2.0, theta=0.5, omega=0.2, sigma=60.0, days=500.0, seed=1)
    start = pd.Timestamp("2021-01-01", tz="UTC") + pd.to_timedelta(sim.t, unit="D")
    inc = pd.DataFrame(
        {"x": sim.x, "y": sim.y, "start": start, "end": start, "time_precision": "minute", "crime_type": "burglary"}
    )
    h = History(EventTable.from_incidents(inc), pd.Timestamp("2022-04-01", tz=TZ), Horizon(14), grid)
    names, X = dynamic_features(h, with_prospective=False, with_etas=True)
    ref = SelfExciting().fit(h).predict(h.origin, h.horizon)[grid.mask]
    np.testing.assert_allclose(X[:, names.index("etas_expected")], ref)
    assert make_method("learned_etas").with_etas and not make_method("learned").with_etas


def test_etas_is_a_forecast_method_the_config_accepts():
    """[forecast] method / candidates accept etas, learned_etas and the +relocated variants; a typo is
    refused naming the section and the choices."""
    from hotspots.config.sections import ForecastConfig, parse_forecast_method
    from hotspots.errors import ConfigError

    assert parse_forecast_method("etas") == ("etas", None)
    assert parse_forecast_method("learned_etas+relocated") == ("learned_etas", None)
    assert parse_forecast_method("naive_24m+relocated") == ("naive_months", 24)
    ForecastConfig(method="etas", candidates=("etas", "learned_etas", "blend+relocated")).validate("run.toml")
    assert isinstance(make_method("etas"), SelfExciting)
    assert make_method("etas+relocated").method.__class__ is SelfExciting
    for bad in ("etaz", "etas+relocated+relocated", "+relocated"):
        with pytest.raises(ConfigError, match=r"run\.toml: \[forecast\] unknown forecast method .*etas"):
            ForecastConfig(method=bad).validate("run.toml")
