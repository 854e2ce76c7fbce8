"""Forecast metrics against hand-computed cases (tiny grids, known counts, ties)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from hotspots.forecast import metrics as M

# 2 x 3 grid, cell ids 0..5 row-major
RISK = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
ACTUAL = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
MASK = np.ones((2, 3), dtype=bool)


def test_rank_and_flag_by_hand():
    assert list(M.rank_cells(RISK, MASK)) == [4, 5, 0, 2, 1, 3]
    # a third of 6 cells = 2 cells: ids 4 and 5
    f = M.flagged_mask(RISK, MASK, 1 / 3)
    assert f.sum() == 2 and f[1, 1] and f[1, 2]


def test_hit_rate_pai_pei_by_hand():
    # flagged cells 4 (3 incidents) and 5 (0): 3 of 6 incidents in 2 of 6 cells
    assert M.hit_rate(RISK, ACTUAL, MASK, 1 / 3) == pytest.approx(0.5)
    assert M.pai(RISK, ACTUAL, MASK, 1 / 3) == pytest.approx(0.5 / (2 / 6))
    # the best two cells hold 3 + 2 = 5 incidents
    assert M.best_captured(ACTUAL, MASK, 1 / 3) == 5
    assert M.pei(RISK, ACTUAL, MASK, 1 / 3) == pytest.approx(3 / 5)
    # a perfect forecast has PEI 1
    assert M.pei(ACTUAL, ACTUAL, MASK, 1 / 3) == pytest.approx(1.0)


def test_ties_are_broken_by_cell_id():
    flat = np.ones((2, 3))
    assert list(M.rank_cells(flat, MASK)) == [0, 1, 2, 3, 4, 5]
    # cells 0 and 1 flagged: 1 of 6 incidents
    assert M.hit_rate(flat, ACTUAL, MASK, 1 / 3) == pytest.approx(1 / 6)
    # a partial tie: 2 ties with 2 at ids 0 and 2 -> 0 first
    r = np.array([[2.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    assert list(M.rank_cells(r, MASK))[:3] == [5, 0, 2]
    # a permuted input order cannot change the result
    assert M.hit_rate(r, ACTUAL, MASK, 0.5) == pytest.approx((0 + 1 + 2) / 6)


def test_nan_ranks_last_and_mask_is_respected():
    r = RISK.copy()
    r[1, 1] = np.nan
    assert list(M.rank_cells(r, MASK))[-1] == 4
    mask = MASK.copy()
    mask[1, 2] = False  # cell 5 outside the area
    assert list(M.rank_cells(RISK, mask)) == [4, 0, 2, 1, 3]
    # 5 cells: 20% -> 1 cell (cell 4, 3 of 6 incidents)
    assert M.hit_rate(RISK, ACTUAL, mask, 0.2) == pytest.approx(0.5)
    assert M.pai(RISK, ACTUAL, mask, 0.2) == pytest.approx(0.5 / 0.2)


def test_n_flagged_rounds_half_up_and_at_least_one():
    assert M.n_flagged(10, 0.05) == 1  # 0.5 -> 1
    assert M.n_flagged(10, 0.25) == 3  # 2.5 -> 3
    assert M.n_flagged(1000, 0.001) == 1
    assert M.n_flagged(8984, 0.05) == 449
    with pytest.raises(ValueError):
        M.n_flagged(10, 0.0)


def test_expected_counts_and_rri_by_hand():
    lam = M.expected_counts(RISK, MASK, total=6.0)
    # 99% in proportion to risk (sum 15), 1% spread over 6 cells
    ref = 6.0 * (0.99 * RISK / 15.0 + 0.01 / 6.0)
    np.testing.assert_allclose(lam, ref)
    assert lam.sum() == pytest.approx(6.0)
    exp_share = 0.99 * 9 / 15 + 0.01 * 2 / 6
    assert M.rri(RISK, ACTUAL, MASK, 1 / 3, total=6.0) == pytest.approx(0.5 / exp_share)
    # negative risk (z-scores) is shifted so the lowest cell is 0
    z = RISK - 10.0
    np.testing.assert_allclose(M.expected_counts(z, MASK, 6.0), lam)


def test_poisson_loglik_matches_scipy():
    lam = M.expected_counts(RISK, MASK, total=6.0)
    ref = stats.poisson.logpmf(ACTUAL.ravel(), lam.ravel()).sum()
    assert M.poisson_loglik(lam, ACTUAL, MASK) == pytest.approx(ref, rel=1e-12)


def test_score_forecast_agrees_with_single_metrics():
    rng = np.random.default_rng(3)
    risk = rng.gamma(0.5, size=(20, 30))
    risk[rng.random(risk.shape) < 0.3] = 0.0  # many ties at zero
    actual = rng.poisson(risk * 0.3).astype(float)
    mask = rng.random(risk.shape) > 0.1
    shares = (0.01, 0.05, 0.1)
    sc = M.score_forecast(risk, actual, mask, shares, expected_total=40.0)
    for s in shares:
        k = M.share_key(s)
        assert sc[f"hit_rate_{k}"] == pytest.approx(M.hit_rate(risk, actual, mask, s))
        assert sc[f"pai_{k}"] == pytest.approx(M.pai(risk, actual, mask, s))
        assert sc[f"pei_{k}"] == pytest.approx(M.pei(risk, actual, mask, s))
        assert sc[f"rri_{k}"] == pytest.approx(M.rri(risk, actual, mask, s, total=40.0))
    lam = M.expected_counts(risk, mask, 40.0)
    assert sc["loglik"] == pytest.approx(stats.poisson.logpmf(actual[mask], lam[mask]).sum())
    uni = np.full(int(mask.sum()), 40.0 / mask.sum())
    gain = (sc["loglik"] - stats.poisson.logpmf(actual[mask], uni).sum()) / actual[mask].sum()
    assert sc["info_gain"] == pytest.approx(gain)
    curve = M.capture_curve(risk, actual, mask, shares)
    np.testing.assert_allclose(curve, [sc[f"hit_rate_{M.share_key(s)}"] for s in shares])


def test_brute_force_hit_rate_on_random_grids():
    # independent reference: flag by Python sorting of (−risk, id) tuples
    rng = np.random.default_rng(11)
    for _ in range(5):
        risk = rng.integers(0, 4, size=(7, 9)).astype(float)
        actual = rng.integers(0, 3, size=(7, 9)).astype(float)
        mask = rng.random((7, 9)) > 0.2
        cells = sorted((-risk.ravel()[i], i) for i in np.flatnonzero(mask.ravel()))
        k = max(1, math.floor(0.1 * len(cells) + 0.5))
        top = [i for _, i in cells[:k]]
        ref = actual.ravel()[top].sum() / actual[mask].sum()
        assert M.hit_rate(risk, actual, mask, 0.1) == pytest.approx(ref)


def test_no_incidents_gives_nan_not_error():
    z = np.zeros((2, 3))
    assert math.isnan(M.hit_rate(RISK, z, MASK, 0.5))
    sc = M.score_forecast(RISK, z, MASK, (0.5,), expected_total=2.0)
    assert math.isnan(sc["hit_rate_50"]) and math.isnan(sc["info_gain"])
