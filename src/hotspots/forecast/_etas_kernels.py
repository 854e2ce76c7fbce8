"""Numba kernels of the self-exciting point process (:mod:`.etas`): pairs, EM sums, forecast.

Array in, array out; times in days, distances in metres. The triggering kernel is
``theta * f_t(dt) * f_s(d)`` with ``f_t`` exponential (rate ``omega`` per day)
truncated to ``0 < dt <= max_lag`` and ``f_s`` an isotropic Gaussian (``sigma``
metres) truncated to ``d <= max_dist``, each normalised over its support.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def candidate_pairs(t, x, y, max_lag, max_dist):
    """All (parent i, child j) with ``0 < t[j] - t[i] <= max_lag`` and distance ``<= max_dist``.

    ``t`` must be sorted ascending. Returns (i, j, dt, d2) arrays (int64, int64, float64, float64).
    """
    n = t.shape[0]
    md2 = max_dist * max_dist
    count = 0
    for j in range(n):
        i = j - 1
        while i >= 0 and t[j] - t[i] <= max_lag:
            if t[j] - t[i] > 0.0:
                dx = x[j] - x[i]
                dy = y[j] - y[i]
                if dx * dx + dy * dy <= md2:
                    count += 1
            i -= 1
    pi = np.empty(count, dtype=np.int64)
    pj = np.empty(count, dtype=np.int64)
    dt = np.empty(count)
    d2 = np.empty(count)
    k = 0
    for j in range(n):
        i = j - 1
        while i >= 0 and t[j] - t[i] <= max_lag:
            if t[j] - t[i] > 0.0:
                dx = x[j] - x[i]
                dy = y[j] - y[i]
                r2 = dx * dx + dy * dy
                if r2 <= md2:
                    pi[k] = i
                    pj[k] = j
                    dt[k] = t[j] - t[i]
                    d2[k] = r2
                    k += 1
            i -= 1
    return pi, pj, dt, d2


@njit(cache=True)
def em_sums(pj, dt, d2, bg, mu, theta, omega, sigma2, max_lag, max_dist):
    """One E-step. ``bg``: background density (per m²) at each event; ``mu``: background events per day.

    Returns (sum of triggering probabilities, their sum of dt, their sum of d², sum of background
    probabilities, sum over events of log intensity).
    """
    n = bg.shape[0]
    lam = np.empty(n)
    for j in range(n):
        lam[j] = mu * bg[j]
    zt = 1.0 - math.exp(-omega * max_lag)
    zs = 1.0 - math.exp(-max_dist * max_dist / (2.0 * sigma2))
    c = theta * omega / zt / (2.0 * math.pi * sigma2 * zs)
    m = pj.shape[0]
    g = np.empty(m)
    for k in range(m):
        g[k] = c * math.exp(-omega * dt[k] - d2[k] / (2.0 * sigma2))
        lam[pj[k]] += g[k]
    s = 0.0
    s_dt = 0.0
    s_d2 = 0.0
    for k in range(m):
        if lam[pj[k]] > 0.0:
            p = g[k] / lam[pj[k]]
            s += p
            s_dt += p * dt[k]
            s_d2 += p * d2[k]
    s_bg = 0.0
    ll = 0.0
    for j in range(n):
        if lam[j] > 0.0:
            s_bg += mu * bg[j] / lam[j]
            ll += math.log(lam[j])
        else:
            ll += -1e300
    return s, s_dt, s_d2, s_bg, ll


@njit(cache=True)
def _ncdf(z):
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@njit(cache=True)
def triggered_counts(x, y, t, start, end, theta, omega, sigma, max_lag, max_dist, x0, ytop, cs, nrows, ncols):
    """Expected triggered incidents per cell over ``[start, end)`` (days) from events ``x, y, t``
    (only those with ``t < start``), shape (nrows, ncols). Each cell gets the Gaussian's integral
    over the cell (exact for the untruncated kernel, renormalised by the truncation)."""
    out = np.zeros((nrows, ncols))
    zt = 1.0 - math.exp(-omega * max_lag)
    zs = 1.0 - math.exp(-max_dist * max_dist / (2.0 * sigma * sigma))
    for i in range(t.shape[0]):
        a = start - t[i]
        if a <= 0.0 or a >= max_lag:
            continue
        b = min(end - t[i], max_lag)
        w = theta * (math.exp(-omega * a) - math.exp(-omega * b)) / zt / zs
        if w <= 0.0:
            continue
        c0 = max(0, int(math.floor((x[i] - max_dist - x0) / cs)))
        c1 = min(ncols - 1, int(math.floor((x[i] + max_dist - x0) / cs)))
        r0 = max(0, int(math.floor((ytop - (y[i] + max_dist)) / cs)))
        r1 = min(nrows - 1, int(math.floor((ytop - (y[i] - max_dist)) / cs)))
        for c in range(c0, c1 + 1):
            xa = x0 + c * cs
            px = _ncdf((xa + cs - x[i]) / sigma) - _ncdf((xa - x[i]) / sigma)
            if px <= 0.0:
                continue
            for r in range(r0, r1 + 1):
                yt = ytop - r * cs
                py = _ncdf((yt - y[i]) / sigma) - _ncdf((yt - cs - y[i]) / sigma)
                out[r, c] += w * px * py
    return out
