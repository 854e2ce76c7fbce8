"""Place trajectories: planted chronic, rising, falling and flare-up places are recovered from
background noise, and pure noise gets no trajectory beyond the false discovery rate; the trend and
flare tests against scipy (hand-computed cases); the group naming rules and the chronic/acute label
on hand-made series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from shapely.geometry import box

from hotspots.analysis.places import grid_places
from hotspots.analysis.trajectories import (
    PlaceSeries,
    area_stability,
    flare_test,
    name_trajectory,
    place_series,
    place_trajectories,
    plant_trajectories,
    planted_rates,
    trend_test,
)
from hotspots.errors import InputError
from hotspots.geo.grid import Grid

TZ = "Europe/London"
YEARS = pd.date_range("2016-01-01", "2022-01-01", freq="YS", tz=TZ)  # six whole years


@pytest.fixture(scope="module")
def borough():
    """2,025 cells of 100 m (a 4.5 km square on the British National Grid)."""
    grid = Grid.from_boundary(box(500000, 180000, 504500, 184500), 100)
    return grid_places(grid)


def _incidents(events):
    return pd.DataFrame({"x": events.x, "y": events.y, "start": events.time, "end": events.time})


def _planted(places, seed):
    p = plant_trajectories(np.random.default_rng(seed), places.x, places.y, YEARS, n_per_class=10, jitter_m=40)
    series = place_series(_incidents(p.events), places)
    return p, series


@pytest.mark.parametrize("plant_seed", [0, 3, 7])
def test_planted_trajectories_are_recovered(borough, plant_seed):
    planted, series = _planted(borough, plant_seed)
    assert series.labels == tuple(str(y) for y in range(2016, 2022)) and series.period == "year"
    tr = place_trajectories(series, seed=0)
    truth = planted.sites["planted_class"].to_numpy()
    # sites are the grid cells in place order, so truth and result line up
    np.testing.assert_allclose(planted.sites[["x", "y"]].to_numpy(), np.column_stack([borough.x, borough.y]))
    for cls in ("stable high", "rising", "falling", "flare-up"):
        got = tr.classes[truth == cls]
        assert (got == cls).sum() >= 8, (cls, pd.Series(got).value_counts().to_dict())
    background = tr.classes[truth == "stable low"]
    assert (background != "stable low").sum() <= 5  # of 1,985 background places
    # chronic: the planted stable-high places; acute: the recent flare-ups; background almost never either
    assert (tr.labels[truth == "stable high"] == "chronic").sum() >= 9
    assert (tr.labels[truth == "flare-up"] == "acute").all()
    assert (tr.labels[truth == "stable low"] != "none").sum() <= 10
    assert set(tr.group_class) >= {"stable high", "rising", "falling", "flare-up"}
    # the settings are recorded; every place with a changed class passed the false discovery rate
    assert (tr.alpha, tr.flare_ratio, tr.trend_change) == (0.05, 3.0, 0.5) and "Benjamini-Hochberg" in tr.method
    changed = np.isin(tr.classes, ["rising", "falling", "flare-up"])
    assert (tr.q_value[changed] < tr.alpha).all()
    assert tr.n_tested == int((series.counts.sum(axis=1) >= series.n_periods).sum())


def _series(counts, labels=None):
    counts = np.asarray(counts)
    labels = labels or tuple(str(2016 + j) for j in range(counts.shape[1]))
    return PlaceSeries(
        counts=counts, labels=labels, period="year", period_rule="given", places=None, n_unplaced=0, n_set_aside=0
    )


@pytest.mark.parametrize("noise_seed", [0, 1, 2, 3, 4])
def test_pure_noise_gets_no_trajectory_beyond_the_false_discovery_rate(noise_seed):
    """3,000 places whose rates follow the borough exactly (each its own level, from quiet to busy; the whole
    borough falls by 40% over six years): no place changes, so every rising, falling or flare-up is a false
    discovery. Benjamini-Hochberg at 5% keeps them at most 5% of the places tested (under pure noise the
    chance of even one is at most 5%); the tests themselves are calibrated (about 5% of raw p-values under
    0.05), so without the correction noise would get a class about one time in twenty."""
    rng = np.random.default_rng(noise_seed)
    level = rng.gamma(0.6, 3.0, 3000)  # mean 1.8 a year, a long tail of busy places
    borough = np.linspace(1.0, 0.6, 6)
    counts = rng.poisson(level[:, None] * borough[None, :])
    tr = place_trajectories(_series(counts), seed=0)
    changed = np.isin(tr.classes, ["rising", "falling", "flare-up"])
    assert tr.n_tested > 1000
    assert changed.sum() <= 0.05 * tr.n_tested
    assert changed.sum() <= 1
    tested = counts.sum(axis=1) >= 6
    raw_trend = trend_test(counts[tested], counts.sum(axis=0)).p_value
    assert 0.02 <= (raw_trend < 0.05).mean() <= 0.08
    # the busy places that are high in more than half the years are stable high, not a trajectory
    assert (tr.classes[tr.high.sum(axis=1) > 3] == "stable high").all()


def test_trend_test_against_a_poisson_regression_fitted_by_scipy():
    """Hand-made counts and borough totals: the conditional (multinomial) trend fit equals the Poisson
    log-linear regression with the borough totals as offset, fitted here by scipy.optimize, and its p-value is
    the chi-squared(1) tail of the likelihood ratio (scipy.stats)."""
    counts = np.array([[1, 3, 2, 6, 9, 11], [12, 9, 10, 4, 3, 1], [4, 5, 3, 4, 6, 4]])
    B = np.array([500.0, 540.0, 480.0, 610.0, 590.0, 560.0])
    got = trend_test(counts, B)
    t = np.arange(6.0)
    for i, c in enumerate(counts):

        def nll(theta, c=c):
            return -stats.poisson.logpmf(c, np.exp(theta[0] + np.log(B) + theta[1] * t)).sum()

        fit = optimize.minimize(
            nll,
            x0=[np.log(c.sum() / B.sum()), 0.0],
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000},
        )
        null = -stats.poisson.logpmf(c, c.sum() * B / B.sum()).sum()
        lr = 2.0 * (null - fit.fun)
        assert got.slope[i] == pytest.approx(fit.x[1], abs=1e-5)
        assert got.lr[i] == pytest.approx(lr, rel=1e-6, abs=1e-9)
        assert got.p_value[i] == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-5)
    assert got.p_value[0] < 1e-3 and got.slope[0] > 0 and got.slope[1] < 0 and got.p_value[2] > 0.5
    # two periods: the slope in closed form, log((c1 / B1) / (c0 / B0))
    two = trend_test([[4, 10]], [200.0, 250.0])
    assert two.slope[0] == pytest.approx(np.log((10 / 250) / (4 / 200)), abs=1e-9)
    # leaving out the last period is the same as the test on the first five
    first5 = trend_test(counts[:, :5], B[:5])
    rest = trend_test(counts, B, exclude=[5, 5, 5])
    np.testing.assert_allclose(rest.lr, first5.lr, rtol=1e-9, atol=1e-12)
    # relative to the borough: counts that follow the borough exactly have no trend at all
    flat = trend_test([[50, 40, 30, 20]], [500.0, 400.0, 300.0, 200.0])
    assert flat.slope[0] == pytest.approx(0.0, abs=1e-9) and flat.p_value[0] == pytest.approx(1.0)


def test_flare_test_against_scipy_binomial_tests():
    """The peak's p-value is the exact binomial upper tail (scipy.stats.binomtest) times the number of periods."""
    counts = np.array([[2, 1, 3, 2, 12], [5, 4, 6, 5, 5], [0, 9, 0, 0, 1]])
    B = np.array([100.0, 120.0, 80.0, 100.0, 100.0])
    got = flare_test(counts, B)
    assert list(got.peak) == [4, 2, 1]  # the second: 6 of 25 where the borough has only 16% (80 of 500)
    for i, c in enumerate(counts):
        k = int(got.peak[i])
        ref = [
            stats.binomtest(int(x), int(c.sum()), b / B.sum(), alternative="greater").pvalue
            for x, b in zip(c, B, strict=True)
        ]
        assert k == int(np.argmin(ref))
        assert got.p_value[i] == pytest.approx(min(1.0, 5 * min(ref)), rel=1e-9)
    # hand-computed: 12 of 20 in a period holding 20% of the borough's crimes, P(X >= 12) = 1.0e-4 (x5 periods)
    assert got.p_value[0] == pytest.approx(5 * stats.binom.sf(11, 20, 0.2), rel=1e-12)
    assert 5 * stats.binom.sf(11, 20, 0.2) == pytest.approx(5.1e-4, rel=0.02)
    # ratio: the peak's rate (12 / 100) over the highest other (3 / 80), both per borough crime
    assert got.ratio[0] == pytest.approx((12 / 100) / (3 / 80))
    assert got.ratio[2] == pytest.approx((9 / 120) / (1 / 100))


def test_places_are_classed_by_their_own_counts():
    """Hand-made places among 400 quiet ones: each shape gets its class, whatever group k-means puts it in."""
    rng = np.random.default_rng(5)
    quiet = rng.poisson(1.0, (400, 6))
    special = np.array(
        [
            [9, 8, 10, 9, 8, 9],  # stable high
            [0, 1, 3, 6, 10, 14],  # rising
            [15, 11, 6, 3, 1, 0],  # falling
            [1, 0, 1, 1, 0, 14],  # a recent flare
            [0, 1, 14, 1, 0, 1],  # an old flare
            [1, 2, 1, 2, 1, 2],  # quiet
        ]
    )
    tr = place_trajectories(_series(np.vstack([quiet, special])), seed=0)
    assert list(tr.classes[-6:]) == ["stable high", "rising", "falling", "flare-up", "flare-up", "stable low"]
    assert list(tr.peak[-3:-1]) == [5, 2] and tr.slope[-5] > 0 > tr.slope[-4]
    assert (tr.q_value[-5:-1] < 0.05).all() and np.isnan(tr.q_value[tr.series.counts.sum(axis=1) < 6]).all()
    with pytest.raises(InputError, match="alpha"):
        place_trajectories(_series(np.vstack([quiet, special])), alpha=1.5)


def test_same_data_and_seed_give_the_same_groups(borough):
    _, series = _planted(borough, 11)
    a = place_trajectories(series, seed=5)
    b = place_trajectories(series, seed=5)
    np.testing.assert_array_equal(a.group, b.group)
    np.testing.assert_array_equal(a.classes, b.classes)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    # the order of the incidents does not matter either
    planted = plant_trajectories(np.random.default_rng(11), borough.x, borough.y, YEARS, n_per_class=10, jitter_m=40)
    shuffled = _incidents(planted.events).sample(frac=1.0, random_state=1)
    c = place_trajectories(place_series(shuffled, borough), seed=5)
    np.testing.assert_array_equal(a.classes, c.classes)


def test_naming_rules_on_hand_made_trajectories():
    T = 6
    borough = np.full(T, 0.5)  # borough mean per place, flat
    h = np.full(T, 3.0)  # "high" = 3 or more
    assert name_trajectory([6, 6, 5, 7, 6, 6], borough, h) == "stable high"
    assert name_trajectory([0, 1, 3, 5, 7, 9], borough, h) == "rising"
    assert name_trajectory([9, 7, 5, 3, 1, 0], borough, h) == "falling"
    assert name_trajectory([0, 1, 0, 0, 1, 12], borough, h) == "flare-up"  # a recent flare
    assert name_trajectory([0, 1, 12, 0, 1, 0], borough, h) == "flare-up"  # an old flare
    assert name_trajectory([4, 0, 0, 4, 4, 0], borough, h) == "flare-up"  # intermittent, no trend
    assert name_trajectory([1, 2, 1, 2, 1, 2], borough, h) == "stable low"  # never high
    # relative to the borough: a place that halves while the borough halves is stable
    falling_borough = np.linspace(1.0, 0.5, T)
    assert name_trajectory(6 * falling_borough, falling_borough, h) == "stable high"
    # ... but against a flat borough the same place falls by 3 / 4.5 = 67% of its mean: falling
    assert name_trajectory(6 * falling_borough, np.full(T, 1.0), h) == "falling"
    # a fall of 1.5 / 5.25 = 29% of the mean is under the 50% threshold: stable
    assert name_trajectory(6 * np.linspace(1.0, 0.75, T), np.full(T, 1.0), h) == "stable high"
    assert name_trajectory([8, 7, 6, 4, 3, 1], np.full(T, 1.0), h) == "falling"


def test_chronic_and_acute_labels_follow_the_stated_rule():
    # 100 quiet places (0 or 1 a year) and four hand-made ones; high = at least 3 (the top 5% is lower)
    rng = np.random.default_rng(0)
    quiet = rng.integers(0, 2, (100, 6))
    special = np.array(
        [
            [5, 4, 6, 0, 5, 0],  # high in 4 of 6 -> chronic
            [5, 4, 0, 0, 5, 0],  # high in 3 of 6 (not more than half), not last -> none
            [0, 0, 0, 0, 0, 4],  # high only in the last period -> acute
            [0, 0, 0, 4, 4, 1],
        ]
    )  # high twice, not in the last period -> none
    counts = np.vstack([quiet, special])
    series = PlaceSeries(
        counts=counts,
        labels=tuple(str(y) for y in range(2016, 2022)),
        period="year",
        period_rule="given",
        places=None,
        n_unplaced=0,
        n_set_aside=0,
    )
    tr = place_trajectories(series, seed=0, k_min=2, k_max=4)
    assert list(tr.labels[-4:]) == ["chronic", "none", "acute", "none"]
    assert (tr.labels[:100] == "none").all()
    np.testing.assert_array_equal(tr.high_threshold, 3.0)
    tr2 = place_trajectories(series, seed=0, k_min=2, k_max=4, recent_periods=3)
    assert list(tr2.labels[-4:]) == ["chronic", "acute", "acute", "acute"]
    # an area takes chronic if any place is chronic, else acute if any is acute
    assert area_stability(tr, [100, 102])[0] == "chronic"
    assert area_stability(tr, [101, 102])[0] == "acute"
    assert area_stability(tr, [0, 1])[0] == "none"


def test_periods_are_chosen_and_checked(borough):
    months = pd.date_range("2016-01-01", "2018-07-01", freq="MS", tz=TZ)  # 2.5 years
    inc = pd.DataFrame({"x": borough.x[0], "y": borough.y[0], "start": months, "end": months})
    s = place_series(inc, borough)
    assert s.period == "half-year" and s.n_periods == 5 and "fewer than 5 whole years" in s.period_rule
    with pytest.raises(InputError, match="at least 3"):
        place_series(inc.iloc[:12], borough, period="year")
    with pytest.raises(InputError, match="period"):
        place_series(inc, borough, period="month")


def test_planted_rates_are_as_documented():
    np.testing.assert_allclose(planted_rates("rising", 5, 0.2, 6.0), [0.2, 2.4, 4.6, 6.8, 9.0])
    np.testing.assert_allclose(planted_rates("falling", 5, 0.2, 6.0), [9.0, 6.8, 4.6, 2.4, 0.2])
    np.testing.assert_allclose(planted_rates("flare-up", 4, 0.2, 6.0), [0.2, 0.2, 0.2, 15.0])
    with pytest.raises(InputError):
        planted_rates("wobbly", 4, 0.2, 6.0)


def test_too_few_busy_places_to_cluster_are_named_one_by_one():
    counts = np.zeros((60, 6), dtype=np.int64)
    counts[0] = [6, 5, 7, 6, 6, 5]  # stable high
    counts[1] = [0, 0, 1, 0, 0, 9]  # a recent flare
    counts[np.arange(2, 20), np.arange(18) % 6] = 1  # quiet places with one incident each, spread over the years
    series = PlaceSeries(
        counts=counts,
        labels=tuple(str(y) for y in range(2016, 2022)),
        period="year",
        period_rule="given",
        places=None,
        n_unplaced=0,
        n_set_aside=0,
    )
    tr = place_trajectories(series, seed=0)
    assert tr.k == 2 and list(tr.group[:3]) == [0, 1, -1]
    assert list(tr.classes[:3]) == ["stable high", "flare-up", "stable low"]
    assert list(tr.labels[:3]) == ["chronic", "acute", "none"]


def test_place_series_counts_every_incident_once(borough):
    t = pd.Timestamp("2016-01-15", tz=TZ)
    inc = pd.DataFrame(
        {
            "x": [borough.x[0], borough.x[0], borough.x[5], 0.0, borough.x[2]] + [borough.x[1]] * 5,
            "y": [borough.y[0], borough.y[0], borough.y[5], 0.0, borough.y[2]] + [borough.y[1]] * 5,
            "start": [t, t + pd.DateOffset(years=1), t, t, pd.Timestamp("2020-12-20", tz=TZ)]
            + [pd.Timestamp(f"{y}-06-01", tz=TZ) for y in range(2016, 2021)],
        }
    )
    inc["end"] = inc["start"]
    s = place_series(inc, borough)
    assert s.labels == ("2016", "2017", "2018", "2019", "2020") and s.n_unplaced == 1 and s.n_set_aside == 0
    assert s.counts[0].tolist() == [1, 1, 0, 0, 0] and s.counts[1].tolist() == [1, 1, 1, 1, 1]
    assert s.counts[5].tolist() == [1, 0, 0, 0, 0] and s.counts[2].tolist() == [0, 0, 0, 0, 1]
    assert s.counts.sum() == len(inc) - 1  # all but the one off the grid
