"""Numba kernels of the emerging-hotspot analysis (array in, array out).

Nothing here knows about grids, dates or GeoDataFrames: the cube is a
``(T, N)`` float64 array (time steps x cells) and the spatial neighbourhood is
a CSR structure (``nbr_ptr``, ``nbr_idx``) of each cell's neighbours, the cell
itself excluded (as everywhere in the engine).
A pure-numpy reference of each kernel lives in ``tests/test_trends.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import gistar_z


@njit(cache=True)
def spacetime_gistar(counts, nbr_ptr, nbr_idx, lags):
    """Space-time Getis-Ord Gi* z-scores with binary weights, self included.

    The neighbourhood of bin ``(t, i)`` is cell ``i`` and every cell listed for
    ``i`` in the CSR arrays (which *exclude* the cell itself) at steps
    ``t - lags .. t`` (steps before the first are simply absent, so early bins
    have fewer neighbours). The mean and standard deviation are those of the
    whole cube (``n = T * N`` bins), as in the analytic Gi* of Getis & Ord
    (1995) / ArcGIS. Each step sums the lagged steps per cell and hands them to
    the one Gi* formula, :func:`hotspots.analysis._kernels.gistar_z`.

    Returns ``(z, w)``: z-scores and neighbour counts, both shape ``(T, N)``.
    A cube with no variance gives z = 0 everywhere.
    """
    T, N = counts.shape
    n = T * N
    total = 0.0
    total2 = 0.0
    for t in range(T):
        for i in range(N):
            v = counts[t, i]
            total += v
            total2 += v * v
    xbar = total / n
    var = total2 / n - xbar * xbar
    sd = np.sqrt(var) if var > 0.0 else 0.0
    z = np.zeros((T, N))
    w = np.zeros((T, N))
    lagged = np.empty(N)
    for t in range(T):
        t0 = t - lags
        if t0 < 0:
            t0 = 0
        for i in range(N):
            acc = 0.0
            for u in range(t0, t + 1):
                acc += counts[u, i]
            lagged[i] = acc
        _s, wt, zt = gistar_z(lagged, nbr_ptr, nbr_idx, float(t - t0 + 1), xbar, sd, n)
        for i in range(N):
            w[t, i] = wt[i]
            if not np.isnan(zt[i]):
                z[t, i] = zt[i]
    return z, w


@njit(cache=True)
def _select(a, k):
    """The k-th smallest value of ``a`` (0-based), partially reordering ``a`` in place.

    Quickselect (Hoare partition around the middle element): afterwards every value
    before position ``k`` is <= ``a[k]`` and every value after it is >=. Plain loops
    only, so the kernels using it compile in a fraction of a second (``np.partition``
    and ``np.sort`` pull in several seconds of numba library code).
    """
    lo = 0
    hi = a.shape[0] - 1
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                tmp = a[i]
                a[i] = a[j]
                a[j] = tmp
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return a[k]


@njit(cache=True)
def sen_slope(x):
    """Theil-Sen slope: median of (x_j - x_i) / (j - i) over all pairs i < j."""
    T = x.shape[0]
    m = T * (T - 1) // 2
    sl = np.empty(m)
    k = 0
    for a in range(T - 1):
        for b in range(a + 1, T):
            sl[k] = (x[b] - x[a]) / (b - a)
            k += 1
    h = m // 2
    upper = _select(sl, h)
    if m % 2 == 1:
        return upper
    # after selecting h, the (h-1)-th smallest is the largest value before position h
    lower = sl[0]
    for q in range(1, h):
        if sl[q] > lower:
            lower = sl[q]
    return 0.5 * (lower + upper)


@njit(cache=True)
def _acf_correction(x, slope, lags):
    """Yue & Wang (2004) variance factor ``1 + 2 sum_k (1 - k/n) r_k`` (k = 1..lags)
    from the autocorrelation ``r_k`` of the Sen-detrended series (1 when undefined)."""
    T = x.shape[0]
    y = np.empty(T)
    mu = 0.0
    for t in range(T):
        y[t] = x[t] - (t + 1) * slope
        mu += y[t]
    mu /= T
    for t in range(T):
        y[t] -= mu
    c0 = 0.0
    for t in range(T):
        c0 += y[t] * y[t]
    if c0 <= 0.0:
        return 1.0
    f = 1.0
    for k in range(1, min(lags, T - 1) + 1):
        ck = 0.0
        for t in range(T - k):
            ck += y[t] * y[t + k]
        f += 2.0 * (1.0 - k / T) * (ck / c0)
    if f <= 0.0:
        return 1.0
    return f


@njit(cache=True)
def mann_kendall(series, ac_lags, with_slope):
    """Mann-Kendall trend test of each row of ``series`` (shape ``(N, T)``).

    Returns ``(s, var_s, z, tau, slope)`` per row: the S statistic, its
    variance with the tie correction ``(n(n-1)(2n+5) - sum t(t-1)(2t+5)) / 18``
    (multiplied, when ``ac_lags`` > 0, by the Yue & Wang 2004 factor for
    serial correlation at lags 1..ac_lags of the Sen-detrended series), the
    normal score with continuity correction (``(S - 1)/sqrt(var)`` for S > 0,
    ``(S + 1)/sqrt(var)`` for S < 0, else 0), Kendall's tau ``S / (n(n-1)/2)``
    and the Theil-Sen slope per step (computed when ``with_slope`` or
    ``ac_lags`` > 0, else NaN). Rows containing NaN give NaN.
    """
    N, T = series.shape
    s_out = np.zeros(N)
    v_out = np.zeros(N)
    z_out = np.zeros(N)
    tau_out = np.zeros(N)
    slope_out = np.zeros(N)
    for r in range(N):
        x = series[r]
        bad = False
        for a in range(T):
            if np.isnan(x[a]):
                bad = True
                break
        if bad or T < 2:
            s_out[r] = np.nan
            v_out[r] = np.nan
            z_out[r] = np.nan
            tau_out[r] = np.nan
            slope_out[r] = np.nan
            continue
        s = 0.0
        for a in range(T - 1):
            xa = x[a]
            for b in range(a + 1, T):
                d = x[b] - xa
                if d > 0.0:
                    s += 1.0
                elif d < 0.0:
                    s -= 1.0
        # tie groups: each value's group is counted once, at its first occurrence
        ties = 0.0
        for a in range(T):
            first = True
            for b in range(a):
                if x[b] == x[a]:
                    first = False
                    break
            if first:
                run = 1
                for b in range(a + 1, T):
                    if x[b] == x[a]:
                        run += 1
                if run > 1:
                    ties += run * (run - 1.0) * (2.0 * run + 5.0)
        var = (T * (T - 1.0) * (2.0 * T + 5.0) - ties) / 18.0
        slope = sen_slope(x) if (with_slope or ac_lags > 0) else np.nan
        if ac_lags > 0:
            var = var * _acf_correction(x, slope, ac_lags)
        if var > 0.0:
            if s > 0.0:
                zz = (s - 1.0) / np.sqrt(var)
            elif s < 0.0:
                zz = (s + 1.0) / np.sqrt(var)
            else:
                zz = 0.0
        else:
            zz = 0.0
        s_out[r] = s
        v_out[r] = var
        z_out[r] = zz
        tau_out[r] = s / (T * (T - 1.0) / 2.0)
        slope_out[r] = slope
    return s_out, v_out, z_out, tau_out, slope_out


# Class codes of the ArcGIS-style scheme (cold codes = hot code + 8).
NO_PATTERN = 0
NEW = 1
CONSECUTIVE = 2
INTENSIFYING = 3
PERSISTENT = 4
DIMINISHING = 5
SPORADIC = 6
OSCILLATING = 7
HISTORICAL = 8


@njit(cache=True)
def _pattern(sig, opp, trend_sig, trend_dir, share, hist_span_share, hist_min_steps, extended):
    """Pattern code (0..8) of one cell's boolean series ``sig`` (hot, or cold for the
    mirror), ``opp`` the opposite series; ``trend_dir`` +1 when the trend points
    towards stronger clustering of this kind, -1 away, 0 none."""
    T = sig.shape[0]
    n_sig = 0
    for t in range(T):
        if sig[t]:
            n_sig += 1
    if n_sig == 0:
        return NO_PATTERN
    frac = n_sig / T
    final = sig[T - 1]
    if final:
        if frac >= share:
            if trend_sig and trend_dir > 0:
                return INTENSIFYING
            if trend_sig and trend_dir < 0:
                return DIMINISHING
            return PERSISTENT
        # length of the final uninterrupted run
        run = 0
        for t in range(T - 1, -1, -1):
            if sig[t]:
                run += 1
            else:
                break
        if n_sig == 1:
            return NEW
        if run >= 2 and n_sig == run:
            return CONSECUTIVE
        for t in range(T - run):
            if opp[t]:
                return OSCILLATING
        return SPORADIC
    # final step not significant
    if frac >= share:
        return HISTORICAL
    if extended:
        first = -1
        last = -1
        for t in range(T):
            if sig[t]:
                if first < 0:
                    first = t
                last = t
        span = last - first + 1
        if span >= hist_min_steps and span >= hist_span_share * T and n_sig >= share * span:
            return HISTORICAL
    return NO_PATTERN


@njit(cache=True)
def classify_esri(hot, cold, trend_p, trend_z, alpha_trend, share, hist_span_share, hist_min_steps, extended):
    """ArcGIS-style emerging-hotspot class code of every cell.

    ``hot``/``cold`` are boolean ``(N, T)``; ``trend_p``/``trend_z`` the
    Mann-Kendall p-value and z of each cell's Gi* z-series. Codes 1..8 are hot
    patterns, 9..16 the cold mirrors (code + 8), 0 no pattern. The rules are
    documented in :mod:`hotspots.analysis.trends`.
    """
    N, T = hot.shape
    out = np.zeros(N, dtype=np.int64)
    for i in range(N):
        tsig = trend_p[i] < alpha_trend
        tz = trend_z[i]
        up = 1 if tz > 0 else (-1 if tz < 0 else 0)
        final_hot = hot[i, T - 1]
        final_cold = cold[i, T - 1]
        if final_hot:
            out[i] = _pattern(hot[i], cold[i], tsig, up, share, hist_span_share, hist_min_steps, extended)
        elif final_cold:
            c = _pattern(cold[i], hot[i], tsig, -up, share, hist_span_share, hist_min_steps, extended)
            out[i] = c + 8 if c > 0 else 0
        else:
            h = _pattern(hot[i], cold[i], tsig, up, share, hist_span_share, hist_min_steps, extended)
            c = _pattern(cold[i], hot[i], tsig, -up, share, hist_span_share, hist_min_steps, extended)
            if h > 0 and c > 0:
                nh = 0
                nc = 0
                for t in range(T):
                    if hot[i, t]:
                        nh += 1
                    if cold[i, t]:
                        nc += 1
                out[i] = h if nh >= nc else c + 8
            elif h > 0:
                out[i] = h
            elif c > 0:
                out[i] = c + 8
    return out
