"""The two-sided exact binomial test, vectorised: ``scipy.stats.binomtest(k, n, p).pvalue`` for
arrays of ``k``, ``n`` and ``p`` at once.

The exceptions table tests several hundred (ward or area, crime type, period) pairs per pack, and
``binomtest`` costs about a millisecond a call, most of it argument handling around a few
probability evaluations. :func:`binomtest_two_sided` runs scipy's own algorithm for every test
together: the same probability functions (``scipy.stats.binom``'s pmf, cdf and sf), the same
relative tolerance (1e-7) for outcomes as likely as the observed one, and the same binary search
for the far tail, one step for all tests at a time. The p-values are equal to ``binomtest``'s to
the last bit (``tests/test_exceptions.py`` compares them on thousands of random and edge cases).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: binomtest's relative tolerance: an outcome whose probability is within it of the observed
#: outcome's counts as "as extreme".
_RERR = 1 + 1e-7


def _search(pmf, d, lo, hi) -> npt.NDArray[np.float64]:
    """scipy's ``_binary_search_for_binom_tst`` for many searches at once: per element the index i in
    ``lo..hi`` with ``pmf(i) <= d < pmf(i + 1)`` (``pmf`` ascending over the range; floats holding
    integers, as scipy keeps them)."""
    lo, hi = lo.copy(), hi.copy()
    found = np.full(lo.shape, np.nan)
    active = lo < hi
    while active.any():
        i = np.flatnonzero(active)
        mid = lo[i] + (hi[i] - lo[i]) // 2
        val = pmf(mid, i)
        below, above = val < d[i], val > d[i]
        lo[i[below]] = mid[below] + 1
        hi[i[above]] = mid[above] - 1
        equal = ~(below | above)
        found[i[equal]] = mid[equal]
        active[i[equal]] = False
        active &= lo < hi
    rest = np.isnan(found)
    if rest.any():
        i = np.flatnonzero(rest)
        found[i] = np.where(pmf(lo[i], i) <= d[i], lo[i], lo[i] - 1)
    return found


def binomtest_two_sided(k: npt.ArrayLike, n: npt.ArrayLike, p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Two-sided exact binomial p-values of ``k`` successes in ``n`` trials with success probability
    ``p`` (arrays of one shape, or scalars; ``k`` and ``n`` whole numbers, 0 <= k <= n, n >= 1,
    0 <= p <= 1), equal to ``scipy.stats.binomtest(k, n, p).pvalue`` element by element. The
    p-value sums the probabilities of every outcome no more likely than ``k`` (within a relative
    1e-7), capped at 1."""
    from scipy.stats import binom  # imported when needed: scipy.stats costs most of a second

    k, n, p = (np.asarray(a, dtype=float) for a in np.broadcast_arrays(k, n, p))
    shape = k.shape
    k, n, p = k.ravel(), n.ravel(), p.ravel()
    out = np.ones(k.shape)
    if not k.size:
        return out.reshape(shape)
    d = binom.pmf(k, n, p)
    mode = p * n

    low = np.flatnonzero(k < mode)  # the far tail lies above the mode
    if low.size:
        kl, nl, pl = k[low], n[low], p[low]
        ix = _search(lambda x, i: -binom.pmf(x, nl[i], pl[i]), -d[low] * _RERR, np.ceil(pl * nl), nl.copy())
        y = nl - ix + (d[low] * _RERR == binom.pmf(ix, nl, pl)).astype(int)
        out[low] = binom.cdf(kl, nl, pl) + binom.sf(nl - y, nl, pl)

    high = np.flatnonzero(k > mode)  # the far tail lies below the mode
    if high.size:
        kh, nh, ph = k[high], n[high], p[high]
        ix = _search(lambda x, i: binom.pmf(x, nh[i], ph[i]), d[high] * _RERR, np.zeros(high.size), np.floor(ph * nh))
        y = ix + 1
        out[high] = binom.cdf(y - 1, nh, ph) + binom.sf(kh - 1, nh, ph)

    return np.minimum(1.0, out).reshape(shape)
