"""The one Benjamini-Hochberg implementation: a hand-computed case, brute force over every
rank, esda.fdr for the cut-off and scipy for the adjusted p-values, along axes and with NaN."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from hotspots.analysis.fdr import bh_adjust, fdr_cutoff, fdr_cutoffs

# the modules themselves (hotspots.analysis.gistar is also the name of the Gi* verb)
exceptions = importlib.import_module("hotspots.analysis.exceptions")
gistar = importlib.import_module("hotspots.analysis.gistar")
trends = importlib.import_module("hotspots.analysis.trends")


def brute_cutoff(p, alpha):
    """Step-up by definition: try every rank k from the largest down."""
    ps = sorted(v for v in p if np.isfinite(v))
    m = len(ps)
    if m == 0:
        return 0.0
    for k in range(m, 0, -1):
        if ps[k - 1] < k * alpha / m:
            return k * alpha / m
    return alpha / m


def brute_adjust(p):
    """q_i = min over j with p_j >= p_i of p_j * m / rank_j (ranks among the finite values)."""
    p = np.asarray(p, float)
    fin = [v for v in p if np.isfinite(v)]
    m = len(fin)
    ps = sorted(fin)
    out = []
    for v in p:
        if not np.isfinite(v):
            out.append(np.nan)
            continue
        k = max(i + 1 for i, u in enumerate(ps) if u == v)  # the largest rank of v among ties
        out.append(min(1.0, min(ps[j - 1] * m / j for j in range(k, m + 1))))
    return np.array(out)


def test_hand_computed_case():
    # m = 5, alpha = 0.05: the BH line is 0.01, 0.02, 0.03, 0.04, 0.05
    p = np.array([0.030, 0.001, 0.200, 0.015, 0.039])
    # sorted 0.001 < 0.01 yes, 0.015 < 0.02 yes, 0.030 < 0.03 no (strict), 0.039 < 0.04 yes, 0.2 no
    # -> the largest passing rank is 4: cut-off 0.04 and the first four are rejected (step-up)
    assert fdr_cutoff(p, 0.05) == pytest.approx(0.04)
    assert (p < fdr_cutoff(p, 0.05)).tolist() == [True, True, False, True, True]
    # sorted p * m / rank = .005, .0375, .05, .04875, .2 -> running minimum from the top:
    # .005, .0375, .04875, .04875, .2 (the 0.030 inherits the q of the larger 0.039)
    np.testing.assert_allclose(bh_adjust(p), [0.04875, 0.005, 0.2, 0.0375, 0.04875], rtol=1e-12)
    # nothing passes: the Bonferroni bound alpha / m
    assert fdr_cutoff(np.array([0.5, 0.9, 0.7]), 0.05) == pytest.approx(0.05 / 3)
    # NaN is not a test: m = 2 here
    assert fdr_cutoff(np.array([0.02, np.nan, 0.5]), 0.05) == pytest.approx(0.025)
    np.testing.assert_allclose(bh_adjust(np.array([0.02, np.nan, 0.5])), [0.04, np.nan, 0.5])
    assert fdr_cutoff(np.array([np.nan]), 0.05) == 0.0 and fdr_cutoff(np.array([]), 0.05) == 0.0


def test_brute_force_and_esda_on_random_p_with_ties():
    import esda

    rng = np.random.default_rng(12)
    for trial in range(60):
        n = int(rng.integers(1, 60))
        p = rng.uniform(0, 1, n)
        tied = rng.uniform(size=n) < 0.5
        p[tied] = np.round(rng.uniform(0, 0.06, tied.sum()), 3)  # many ties, some on the BH line itself
        p = np.clip(p, 1e-6, 1.0)
        for alpha in (0.01, 0.05, 0.10):
            assert fdr_cutoff(p, alpha) == pytest.approx(brute_cutoff(p, alpha), rel=1e-15, abs=0)
            assert fdr_cutoff(p, alpha) == esda.fdr(p, alpha)
        np.testing.assert_allclose(bh_adjust(p), brute_adjust(p), rtol=1e-12)
        # the two outputs agree: q < alpha rejects what p < cut-off rejects, except where a p-value
        # lies on the BH line itself (p_(k) = k alpha / m), where rounding decides either way
        ps = np.sort(p)
        for alpha in (0.01, 0.05, 0.10):
            line_gap = np.abs(ps - np.arange(1, n + 1) * alpha / n)
            differ = (bh_adjust(p) < alpha) != (p < fdr_cutoff(p, alpha))
            if differ.any():
                assert line_gap.min() < 1e-12 * alpha, f"trial {trial}: q and the cut-off disagree off the line"


def test_along_an_axis_equals_slice_by_slice():
    from scipy.stats import false_discovery_control

    rng = np.random.default_rng(4)
    p = rng.uniform(0, 0.2, size=(3, 7, 11))
    p[1, 2, 5] = np.nan
    for axis in (0, 1, 2, -1):
        q = bh_adjust(p, axis=axis)
        cut = fdr_cutoff(p, 0.05, axis=axis)
        moved_p = np.moveaxis(p, axis, -1)
        moved_q = np.moveaxis(q, axis, -1)
        assert q.shape == p.shape and cut.shape == moved_p.shape[:-1]
        for ix in np.ndindex(moved_p.shape[:-1]):
            row = moved_p[ix]
            np.testing.assert_allclose(moved_q[ix], brute_adjust(row), rtol=1e-12)
            assert cut[ix] == brute_cutoff(row, 0.05)
            if np.isfinite(row).all():
                np.testing.assert_allclose(moved_q[ix], false_discovery_control(row), rtol=1e-12)
    # over all values at once
    flat = p.ravel()
    np.testing.assert_allclose(bh_adjust(p).ravel(), brute_adjust(flat), rtol=1e-12)
    assert fdr_cutoff(p, 0.05) == brute_cutoff(flat, 0.05)


def test_cutoffs_at_several_levels_equal_one_level_at_a_time():
    """fdr_cutoffs (one sort for the three confidence levels of Gi*) gives fdr_cutoff's value at each
    level, bit for bit: with ties, NaN, no passing p-value and no p-value at all."""
    rng = np.random.default_rng(11)
    alphas = (0.10, 0.05, 0.01)
    cases = [rng.random(500) ** 4, np.round(rng.random(300), 2), np.full(40, 0.9), np.array([]), np.array([np.nan])]
    with_nan = rng.random(200) ** 3
    with_nan[::7] = np.nan
    cases.append(with_nan)
    for p in cases:
        assert fdr_cutoffs(p, alphas) == tuple(fdr_cutoff(p, a) for a in alphas)
    z = rng.normal(size=500)
    p = cases[0]
    bins, cut = gistar.classify(z, p, "fdr")
    assert cut == {90: fdr_cutoff(p, 0.10), 95: fdr_cutoff(p, 0.05), 99: fdr_cutoff(p, 0.01)}
    assert (bins[(p < cut[99]) & (z > 0)] == 3).all() and (bins[(p >= cut[90])] == 0).all()


def test_every_caller_uses_the_one_implementation():
    """Gi*, the emerging-hotspot cube and the exceptions table share these functions."""
    assert gistar.fdr_cutoff is fdr_cutoff and gistar.fdr_cutoffs is fdr_cutoffs
    assert trends.bh_adjust is bh_adjust
    assert exceptions.bh_adjust is bh_adjust
