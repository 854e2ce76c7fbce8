"""Numba kernels for the hotspot surfaces (kernel density and Getis-Ord Gi*).

Array in, array out; no Python objects. Coordinates are metres (EPSG:27700).
Pure-numpy references of every kernel live in the tests.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Kernel codes understood by :func:`kde_grid`.
KERNEL_CODES = {"quartic": 0, "epanechnikov": 1, "gaussian": 2}

#: Gaussian kernels use sigma = radius / GAUSS_SIGMAS_PER_RADIUS and are summed out to
#: GAUSS_TRUNCATE_SIGMAS * sigma (the neglected tail is below exp(-32) of the peak).
GAUSS_SIGMAS_PER_RADIUS = 3.0
GAUSS_TRUNCATE_SIGMAS = 8.0


@njit(cache=True)
def kde_grid(x, y, w, xmin, ymax, cell, nrows, ncols, radius, kernel):
    """Kernel density at every cell centre of a north-up grid, exact (no binning).

    Each point scatters its kernel onto the cells whose centres lie within the
    kernel's support, so a cell only ever receives points within reach; the
    result is the exact sum over points of ``w_i * K(|c - p_i|)``.

    Parameters
    ----------
    x, y : float64 arrays (n,)
        Point coordinates, metres.
    w : float64 array (n,)
        Point weights (1 for counts).
    xmin, ymax, cell : float
        Top-left grid corner and cell side, metres.
    nrows, ncols : int
        Grid shape (row 0 at the top).
    radius : float
        Search radius in metres (support of quartic/Epanechnikov; 3 sigma for Gaussian).
    kernel : int
        0 quartic K = 3/(pi r^2) (1-(d/r)^2)^2, 1 Epanechnikov K = 2/(pi r^2) (1-(d/r)^2),
        2 Gaussian with sigma = r/3.

    Returns
    -------
    float64 array (nrows, ncols)
        Density in weight per square metre.
    """
    out = np.zeros((nrows, ncols))
    r2 = radius * radius
    if kernel == 0:
        c = 3.0 / (math.pi * r2)
        reach = radius
    elif kernel == 1:
        c = 2.0 / (math.pi * r2)
        reach = radius
    else:
        sigma = radius / GAUSS_SIGMAS_PER_RADIUS
        c = 1.0 / (2.0 * math.pi * sigma * sigma)
        inv2s2 = 1.0 / (2.0 * sigma * sigma)
        reach = GAUSS_TRUNCATE_SIGMAS * sigma
    reach2 = reach * reach
    inv_r2 = 1.0 / r2
    dx2 = np.empty(ncols)
    for i in range(x.shape[0]):
        px = x[i]
        py = y[i]
        wi = w[i]
        if not (math.isfinite(px) and math.isfinite(py)) or wi == 0.0:
            continue
        c0 = int(math.ceil((px - reach - xmin) / cell - 0.5))
        c1 = int(math.floor((px + reach - xmin) / cell - 0.5))
        r0 = int(math.ceil((ymax - py - reach) / cell - 0.5))
        r1 = int(math.floor((ymax - py + reach) / cell - 0.5))
        if c0 < 0:
            c0 = 0
        if r0 < 0:
            r0 = 0
        if c1 > ncols - 1:
            c1 = ncols - 1
        if r1 > nrows - 1:
            r1 = nrows - 1
        if c0 > c1 or r0 > r1:
            continue
        for cc in range(c0, c1 + 1):
            dx = xmin + (cc + 0.5) * cell - px
            dx2[cc] = dx * dx
        for rr in range(r0, r1 + 1):
            dy = ymax - (rr + 0.5) * cell - py
            dy2 = dy * dy
            if dy2 >= reach2:
                continue
            for cc in range(c0, c1 + 1):
                d2 = dx2[cc] + dy2
                if d2 < reach2:
                    if kernel == 0:
                        u = 1.0 - d2 * inv_r2
                        out[rr, cc] += wi * c * u * u
                    elif kernel == 1:
                        out[rr, cc] += wi * c * (1.0 - d2 * inv_r2)
                    else:
                        out[rr, cc] += wi * c * math.exp(-d2 * inv2s2)
    return out


@njit(cache=True)
def window_sums(values, indptr, indices):
    """Sum of ``values`` over each site's Gi* window: the site itself plus its CSR
    neighbours (``indptr``/``indices`` list the neighbours *excluding* the site)."""
    n = values.shape[0]
    s = np.empty(n)
    for i in range(n):
        acc = values[i]
        for k in range(indptr[i], indptr[i + 1]):
            acc += values[indices[k]]
        s[i] = acc
    return s


@njit(cache=True)
def gistar_z(values, indptr, indices, layers, mean, sd, n):
    """The Getis-Ord Gi* z-score (binary weights, self included) on a CSR neighbourhood.

    The one implementation of the formula, shared by the Gi* surfaces and the
    space-time cube. Site ``i``'s window is ``i`` itself plus its neighbours
    ``indices[indptr[i]:indptr[i+1]]`` (self excluded); ``values`` may already be a
    sum over ``layers`` (a float count) stacked observations per site (the time
    steps of a space-time window), so the window holds ``W_i = layers * (k_i + 1)``
    observations. With ``mean`` and ``sd`` the mean and population standard
    deviation of all ``n`` observations (Getis & Ord 1995; ArcGIS)::

        z_i = (S_i - mean * W_i) / (sd * sqrt((n W_i - W_i^2) / (n - 1)))

    Returns ``(S, W, z)``: window sums, window sizes and z, all float64 ``(N,)``.
    z is NaN where it is undefined (``sd`` 0, or a window holding every observation).
    """
    s = window_sums(values, indptr, indices)
    N = values.shape[0]
    w = np.empty(N)
    z = np.empty(N)
    for i in range(N):
        wi = layers * (indptr[i + 1] - indptr[i] + 1.0)
        w[i] = wi
        den = sd * math.sqrt((n * wi - wi * wi) / (n - 1.0)) if n > 1 else 0.0
        if den > 0.0:
            z[i] = (s[i] - mean * wi) / den
        else:
            z[i] = np.nan
    return s, w, z


@njit(cache=True)
def gistar_analytic(y, indptr, indices):
    """Getis-Ord Gi* with binary weights, self included (esda ``G_Local(star=True, transform="B")``).

    ``indptr``/``indices`` give each site's neighbours *excluding itself* (CSR).
    Returns ``(G, z, p_two_sided, wsum)`` where ``wsum`` is the number of sites in
    each site's window (neighbours + itself), ``G = S_i / sum(y)`` and ``p`` is the
    two-sided normal p-value of z from :func:`gistar_z` (NaN where z is undefined).
    """
    n = y.shape[0]
    ysum = 0.0
    ysq = 0.0
    for i in range(n):
        ysum += y[i]
        ysq += y[i] * y[i]
    mean = ysum / n
    var = ysq / n - mean * mean
    sd = math.sqrt(var) if var > 0.0 else 0.0
    s, wsum, z = gistar_z(y, indptr, indices, 1.0, mean, sd, n)
    G = np.empty(n)
    p = np.empty(n)
    for i in range(n):
        G[i] = s[i] / ysum if ysum != 0.0 else np.nan
        p[i] = math.erfc(abs(z[i]) / math.sqrt(2.0))  # NaN stays NaN
    return G, z, p, wsum


@njit(cache=True)
def permutation_draws(n, maxk, permutations, seed):
    """Table (permutations, maxk) of site offsets drawn without replacement from
    ``0 .. n-2`` (the ``n - 1`` sites other than the one tested), seeded with
    ``np.random.seed(seed)``. Offset ``d`` stands for site ``d`` if ``d < i``
    else ``d + 1`` when site ``i`` is tested (esda's conditional scheme)."""
    np.random.seed(seed)
    draws = np.empty((permutations, maxk), dtype=np.int64)
    for p in range(permutations):
        for j in range(maxk):
            while True:
                cand = np.random.randint(0, n - 1)
                dup = False
                for q in range(j):
                    if draws[p, q] == cand:
                        dup = True
                        break
                if not dup:
                    break
            draws[p, j] = cand
    return draws


@njit(cache=True)
def gistar_permutation_counts(y, indptr, indices, draws):
    """Conditional-permutation counts for Gi* (binary weights, self included).

    Site ``i`` keeps its own value and takes its ``k_i`` neighbours' values from
    the first ``k_i`` columns of each row of ``draws`` (see
    :func:`permutation_draws`); the same table serves every site, as in esda.
    Simulated and observed window sums within ``1e-9`` (relative) count as ties.

    Permutations run in the outer loop: along the sites of one permutation a
    drawn offset ``d`` switches from site ``d + 1`` to site ``d`` once ``i > d``,
    so the prefix sums of the drawn values change at most ``maxk`` times and
    each site costs O(1).

    Returns ``(n_greater_equal, n_less_equal)``: per site, how many simulated
    window sums were >= / <= the observed one.
    """
    n = y.shape[0]
    permutations, maxk = draws.shape
    obs = window_sums(y, indptr, indices)
    tol = np.empty(n)
    kk = np.empty(n, dtype=np.int64)
    for i in range(n):
        tol[i] = 1e-9 * max(1.0, abs(obs[i]))
        kk[i] = indptr[i + 1] - indptr[i]
    ge = np.zeros(n, dtype=np.int64)
    le = np.zeros(n, dtype=np.int64)
    lo = obs - tol
    hi = obs + tol
    v = np.empty(maxk)
    prefix = np.zeros(maxk + 1)
    evpos = np.empty(maxk, dtype=np.int64)
    for p in range(permutations):
        for j in range(maxk):
            v[j] = y[draws[p, j] + 1]
            evpos[j] = draws[p, j] + 1
        order = np.argsort(evpos)
        for j in range(maxk):
            prefix[j + 1] = prefix[j] + v[j]
        start = 0
        for e in range(maxk + 1):
            end = evpos[order[e]] if e < maxk else n
            if end > n:
                end = n
            for i in range(start, end):
                s = y[i] + prefix[kk[i]]
                ge[i] += s >= lo[i]
                le[i] += s <= hi[i]
            if end > start:
                start = end
            if e < maxk:
                j = order[e]
                v[j] = y[draws[p, j]]
                for q in range(maxk):
                    prefix[q + 1] = prefix[q] + v[q]
    return ge, le
