"""The Mann-Kendall kernel's own selection and tie counting (plain loops, cheap to compile) against
numpy and pymannkendall, for series lengths whose number of slopes is odd and even, with ties."""

from __future__ import annotations

import numpy as np
import pytest

from hotspots.analysis import _trends_kernels as K
from hotspots.analysis.trends import mann_kendall


def test_select_equals_numpy_partition():
    rng = np.random.default_rng(2)
    for n in (1, 2, 3, 7, 50, 501):
        for values in (rng.normal(size=n), rng.integers(0, 4, n).astype(float), np.zeros(n)):
            for k in {0, n // 2, n - 1}:
                a = values.copy()
                got = K._select(a, k)
                assert got == np.partition(values, k)[k]
                assert np.all(a[:k] <= got) and np.all(a[k + 1 :] >= got)
                assert sorted(a) == sorted(values)  # reordered in place, nothing lost


@pytest.mark.parametrize("T", [2, 3, 4, 5, 8, 9, 12, 30, 31])
def test_sen_slope_is_the_median_pairwise_slope(T):
    rng = np.random.default_rng(T)
    for x in (rng.normal(size=T).cumsum(), rng.poisson(1.0, T).astype(float)):
        i, j = np.triu_indices(T, 1)
        assert K.sen_slope(x) == pytest.approx(np.median((x[j] - x[i]) / (j - i)), rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("T", [4, 5, 8, 12, 17, 30])
def test_tie_correction_and_slope_match_pymannkendall(T):
    mk = pytest.importorskip("pymannkendall")
    rng = np.random.default_rng(100 + T)
    series = np.vstack(
        [rng.poisson(0.7, T), rng.integers(0, 3, T), np.r_[np.zeros(T - 2), 1.0, 1.0], rng.normal(size=T)]
    ).astype(float)
    got = mann_kendall(series, 0)
    for r, x in enumerate(series):
        ref = mk.original_test(x)
        assert got["s"][r] == ref.s
        assert got["var"][r] == pytest.approx(ref.var_s, rel=1e-12)
        assert got["slope"][r] == pytest.approx(ref.slope, rel=1e-12, abs=1e-15)
