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


def test_maps_break_ties_by_cell_id_scores_take_the_expectation_over_tie_orders():
    flat = np.ones((2, 3))
    # the map a user sees needs one definite order: cell id
    assert list(M.rank_cells(flat, MASK)) == [0, 1, 2, 3, 4, 5]
    # the score does not depend on it: 2 of 6 tied cells flagged, each cell's 1/3 chance of
    # being flagged times its incidents: (1 + 0 + 2 + 0 + 3 + 0) / 3 = 2 of 6 incidents
    assert M.hit_rate(flat, ACTUAL, MASK, 1 / 3) == pytest.approx(1 / 3)
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
    # independent reference in plain Python: cells strictly above the k-th risk count fully,
    # the cells tied with it share the remaining places equally
    rng = np.random.default_rng(11)
    for _ in range(5):
        risk = rng.integers(0, 4, size=(7, 9)).astype(float)
        actual = rng.integers(0, 3, size=(7, 9)).astype(float)
        mask = rng.random((7, 9)) > 0.2
        cells = [(float(risk.ravel()[i]), float(actual.ravel()[i])) for i in np.flatnonzero(mask.ravel())]
        k = max(1, math.floor(0.1 * len(cells) + 0.5))
        kth = sorted((r for r, _ in cells), reverse=True)[k - 1]
        above = [a for r, a in cells if r > kth]
        tied = [a for r, a in cells if r == kth]
        ref = (sum(above) + (k - len(above)) / len(tied) * sum(tied)) / sum(a for _, a in cells)
        assert M.hit_rate(risk, actual, mask, 0.1) == pytest.approx(ref)


def _scores_for_order(order, risk, actual, lam, mask, k):
    """Hit rate, PEI, RRI and captured count when the cells are flagged in exactly this order."""
    top = order[:k]
    obs = actual[mask].sum()
    best = np.sort(actual[mask])[::-1][:k].sum()
    hit = actual.ravel()[top].sum() / obs
    return hit, actual.ravel()[top].sum() / best, hit / (lam.ravel()[top].sum() / lam[mask].sum())


def test_scores_equal_the_exact_average_over_every_order_of_the_tied_cells():
    import itertools

    # 2 x 4 grid: one cell above, five tied at risk 1 across the cut at k = 3, two below
    risk = np.array([[1.0, 5.0, 1.0, 0.0], [1.0, 1.0, 0.0, 1.0]])
    actual = np.array([[2.0, 1.0, 0.0, 4.0], [1.0, 3.0, 0.0, 0.0]])
    mask = np.ones_like(risk, dtype=bool)
    lam = M.expected_counts(risk, mask, 9.0)
    tied = [0, 2, 4, 5, 7]
    k = 3
    share = 3 / 8
    assert M.n_flagged(8, share) == k
    runs = []
    for perm in itertools.permutations(tied):
        order = np.array([1, *perm, 3, 6])
        runs.append(_scores_for_order(order, risk, actual, lam, mask, k))
    hit, pei, rri = np.mean(runs, axis=0)
    assert len(runs) == 120
    assert M.hit_rate(risk, actual, mask, share) == pytest.approx(hit, abs=1e-12)
    assert M.pai(risk, actual, mask, share) == pytest.approx(hit / (k / 8), abs=1e-12)
    assert M.pei(risk, actual, mask, share) == pytest.approx(pei, abs=1e-12)
    assert M.rri(risk, actual, mask, share, total=9.0) == pytest.approx(rri, abs=1e-12)
    sc = M.score_forecast(risk, actual, mask, (share,), expected_total=9.0)
    key = M.share_key(share)
    assert sc[f"hit_rate_{key}"] == pytest.approx(hit, abs=1e-12)
    assert sc[f"ceiling_{key}"] == pytest.approx((4 + 3 + 2) / 11)
    # by hand: cell 1 (1 incident) + 2 of the 5 tied cells (2 + 0 + 1 + 3 + 0 = 6 incidents) -> 1 + 6 * 2/5
    assert hit == pytest.approx((1 + 6 * 2 / 5) / 11)


def test_scores_match_a_brute_force_average_over_random_tie_orders():
    rng = np.random.default_rng(21)
    risk = rng.integers(0, 4, size=(12, 15)).astype(float)  # four levels: ties everywhere
    risk[rng.random(risk.shape) < 0.05] = np.nan
    actual = rng.poisson(0.3 + 0.4 * np.nan_to_num(risk)).astype(float)
    mask = rng.random(risk.shape) > 0.1
    lam = M.expected_counts(risk, mask, 50.0)
    ids = np.flatnonzero(mask.ravel())
    n, draws = ids.size, 20000
    # a random order of the tied cells per draw: sort by risk, then by a random key
    key = np.where(np.isnan(risk.ravel()[ids]), 99.0, -risk.ravel()[ids])
    orders = ids[np.argsort(key[None, :] + 0.5 * rng.random((draws, n)), axis=1)]
    shares = (0.01, 0.05, 0.1, 0.25, 0.5)
    sc = M.score_forecast(risk, actual, mask, shares, expected_total=50.0)
    curve = M.capture_curve(risk, actual, mask, shares)
    for s, c in zip(shares, curve, strict=True):
        k = M.n_flagged(n, s)
        sims = np.array([_scores_for_order(o, risk, actual, lam, mask, k) for o in orders[:, :k]])
        mean, se = sims.mean(axis=0), sims.std(axis=0) / np.sqrt(draws)
        key_s = M.share_key(s)
        got = np.array([sc[f"hit_rate_{key_s}"], sc[f"pei_{key_s}"], sc[f"rri_{key_s}"]])
        assert np.all(np.abs(got - mean) <= 4 * se + 1e-12), (s, got, mean, se)
        assert c == pytest.approx(got[0])
        assert sc[f"pai_{key_s}"] == pytest.approx(got[0] / (k / n))
    # the cell-id order of a map is one particular draw, not the expectation
    k5 = M.n_flagged(n, 0.25)
    by_id = actual.ravel()[M.rank_cells(risk, mask)[:k5]].sum() / actual[mask].sum()
    assert by_id != pytest.approx(sc["hit_rate_25"], abs=1e-6)


def test_no_incidents_gives_nan_not_error():
    z = np.zeros((2, 3))
    assert math.isnan(M.hit_rate(RISK, z, MASK, 0.5))
    sc = M.score_forecast(RISK, z, MASK, (0.5,), expected_total=2.0)
    assert math.isnan(sc["hit_rate_50"]) and math.isnan(sc["info_gain"])
