"""Numba kernels of the near-repeat engine (private; array in, array out).

Units: coordinates in metres, times in days (floats). Every kernel that draws
random numbers is seeded explicitly with ``np.random.seed(seed)`` inside the
kernel, so the same inputs and seed give identical outputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def band_index(v, edges, closed_right):
    """Band of value ``v`` given increasing upper ``edges`` (len B).

    ``closed_right``: band k holds (edges[k-1], edges[k]] (band 0 holds [0, edges[0]]).
    Otherwise band k holds [edges[k-1], edges[k]) (band 0 holds [0, edges[0])).
    Values beyond the last edge get band B ("more than").
    """
    nb = edges.shape[0]
    if closed_right:
        for k in range(nb):
            if v <= edges[k]:
                return k
    else:
        for k in range(nb):
            if v < edges[k]:
                return k
    return nb


@njit(cache=True)
def count_pairs(counts, pi, pj, cell, t, tedges, closed_right, lut):
    """Add each close pair to its (spatial band, temporal band) cell of ``counts``.

    The temporal band of a pair's time difference (days) is the varying part:
    with a look-up table (``lut.shape[0] > 0``, every time a whole day) it is
    ``lut[dt]`` (the last entry serves every larger difference), precomputed
    from :func:`band_index`; otherwise :func:`band_index` over ``tedges``. The
    choice is made once per call, outside the loop over pairs, so each loop
    stays tight.
    """
    npairs = pi.shape[0]
    cap = lut.shape[0] - 1
    if cap >= 0:
        for p in range(npairs):
            d = int(abs(t[pi[p]] - t[pj[p]]))
            if d > cap:
                d = cap
            counts[cell[p] + lut[d]] += 1
    else:
        for p in range(npairs):
            counts[cell[p] + band_index(abs(t[pi[p]] - t[pj[p]]), tedges, closed_right)] += 1


@njit(cache=True)
def knox_counts(pi, pj, cell, t, tedges, closed_right, lut, ncells, permutations, seed):
    """Banded Knox counts over fixed close pairs, observed and under permutation.

    pi, pj : int32 pair endpoints (sorted by pi for locality); cell : int32
    offset of each pair's spatial band in the flattened (spatial x temporal
    bands) table, i.e. ``spatial_band * n_tcols``. t : float64 event times in
    days. ``tedges``, ``closed_right`` and ``lut`` give the temporal bands (see
    :func:`count_pairs`: ``lut`` is a whole-day look-up table, or empty).
    Returns ``obs`` (ncells,) and ``sims`` (permutations, ncells); each
    permutation shuffles the times over the events (``np.random.seed(seed)``)
    while the spatial pairs stay fixed.
    """
    obs = np.zeros(ncells, dtype=np.int64)
    count_pairs(obs, pi, pj, cell, t, tedges, closed_right, lut)
    sims = np.zeros((permutations, ncells), dtype=np.int64)
    if permutations == 0:
        return obs, sims
    np.random.seed(seed)
    tp = t.copy()
    cnt = np.zeros(ncells, dtype=np.int64)
    for r in range(permutations):
        np.random.shuffle(tp)
        cnt[:] = 0
        count_pairs(cnt, pi, pj, cell, tp, tedges, closed_right, lut)
        for c in range(ncells):
            sims[r, c] = cnt[c]
    return obs, sims


@njit(cache=True)
def pairs_within_time(ts, edges, closed_right):
    """Number of unordered pairs with time difference within each edge.

    ``ts`` must be sorted ascending (days). For each edge e returns the count
    of pairs i<j with ts[j]-ts[i] <= e (``closed_right``) or < e. Two pointers,
    O(n * len(edges)) time and no pair storage.
    """
    n = ts.shape[0]
    ne = edges.shape[0]
    out = np.zeros(ne, dtype=np.int64)
    for k in range(ne):
        e = edges[k]
        j = 0
        total = 0
        for i in range(n):
            if j < i + 1:
                j = i + 1
            if closed_right:
                while j < n and ts[j] - ts[i] <= e:
                    j += 1
            else:
                while j < n and ts[j] - ts[i] < e:
                    j += 1
            total += j - i - 1
        out[k] = total
    return out


@njit(cache=True)
def local_knox_kernel(nb_ptr, nb_idx, t, order, tau, permutations, seed):
    """Local Knox counts and conditional-permutation exceedances.

    ``nb_ptr``/``nb_idx``: CSR list of each event's spatial neighbours (self
    excluded); ``order``: the indices that sort ``t`` ascending (``np.argsort``
    done by the caller, which keeps numba's sort out of this kernel's compile).
    For event i the statistic is the number of its spatial neighbours j with
    |t_j - t_i| <= tau (days). Under the conditional null the
    event keeps its own time and its neighbours receive times drawn without
    replacement from the other n-1 events. Returns (nsti, nti, exceed) where
    nti is the number of other events within tau of t_i (any distance) and
    exceed counts permutations with statistic >= observed.
    """
    n = t.shape[0]
    nsti = np.zeros(n, dtype=np.int64)
    nti = np.zeros(n, dtype=np.int64)
    exceed = np.zeros(n, dtype=np.int64)
    # observed statistic
    for i in range(n):
        c = 0
        for q in range(nb_ptr[i], nb_ptr[i + 1]):
            if abs(t[nb_idx[q]] - t[i]) <= tau:
                c += 1
        nsti[i] = c
    # temporal neighbour counts via sorting
    ts = np.empty(n)
    for a in range(n):
        ts[a] = t[order[a]]
    lo = 0
    hi = 0
    for a in range(n):
        while ts[a] - ts[lo] > tau:
            lo += 1
        if hi < a:
            hi = a
        while hi + 1 < n and ts[hi + 1] - ts[a] <= tau:
            hi += 1
        nti[order[a]] = hi - lo  # excludes the event itself
    if permutations == 0:
        return nsti, nti, exceed
    np.random.seed(seed)
    pool = np.arange(n)
    for i in range(n):
        k = nb_ptr[i + 1] - nb_ptr[i]
        if k == 0:
            exceed[i] = permutations  # statistic 0 >= 0 always
            continue
        ti = t[i]
        obs = nsti[i]
        for _r in range(permutations):
            # partial Fisher-Yates over the pool, skipping the focal event
            c = 0
            drawn = 0
            pos = 0
            while drawn < k:
                s = pos + np.random.randint(0, n - pos)
                tmp = pool[pos]
                pool[pos] = pool[s]
                pool[s] = tmp
                v = pool[pos]
                pos += 1
                if v == i:
                    continue
                drawn += 1
                if abs(t[v] - ti) <= tau:
                    c += 1
            if c >= obs:
                exceed[i] += 1
    return nsti, nti, exceed


@njit(cache=True)
def prospective_kernel(ex, ey, et, at_day, xmin, ymax, cs, nrows, ncols, bw_m, bw_days, band_m, band_days):
    """Bowers-Johnson-Pease prospective risk on a grid (cell centres).

    ex, ey : event coordinates (metres); et : event times (days). Only events
    with 0 < at_day - et <= bw_days count. Each adds, to every cell whose
    centre lies within ``bw_m`` metres, 1/(1+db) * 1/(1+wb) with
    db = floor(d / band_m) the distance band and wb = floor((at_day - et) /
    band_days) the time band (Bowers, Johnson & Pease 2004). Grid: top-left
    corner (xmin, ymax), square cells of ``cs`` metres, row 0 at the top.
    Returns (nrows, ncols).
    """
    out = np.zeros((nrows, ncols))
    bw2 = bw_m * bw_m
    for e in range(ex.shape[0]):
        age = at_day - et[e]
        if age <= 0.0 or age > bw_days:
            continue
        wf = 1.0 / (1.0 + np.floor(age / band_days))
        c0 = int(np.floor((ex[e] - bw_m - xmin) / cs))
        c1 = int(np.floor((ex[e] + bw_m - xmin) / cs))
        r0 = int(np.floor((ymax - (ey[e] + bw_m)) / cs))
        r1 = int(np.floor((ymax - (ey[e] - bw_m)) / cs))
        if c0 < 0:
            c0 = 0
        if r0 < 0:
            r0 = 0
        if c1 > ncols - 1:
            c1 = ncols - 1
        if r1 > nrows - 1:
            r1 = nrows - 1
        for r in range(r0, r1 + 1):
            yc = ymax - (r + 0.5) * cs
            dy = yc - ey[e]
            for c in range(c0, c1 + 1):
                xc = xmin + (c + 0.5) * cs
                dx = xc - ex[e]
                d2 = dx * dx + dy * dy
                if d2 <= bw2:
                    out[r, c] += wf / (1.0 + np.floor(np.sqrt(d2) / band_m))
    return out


@njit(cache=True)
def aoristic_minutes_kernel(start_min, dur_min):
    """Aoristic weights over the 168 hours of the week.

    start_min : minutes since the start of the week (Monday 00:00) of each
    event's start; dur_min : whole minutes of the event's window (-1 = no end).
    Each event's unit weight is spread over the hours its window covers in
    proportion to the minutes spent in each hour; windows of a week or more
    spread evenly over all 168 hours; zero, one-minute, missing or negative
    windows put the whole weight in the start hour. Returns (n, 168).
    """
    n = start_min.shape[0]
    out = np.zeros((n, 168))
    for i in range(n):
        s = start_min[i]
        d = dur_min[i]
        h = (s // 60) % 168
        if d >= 10080:
            for j in range(168):
                out[i, j] = 1.0 / 168.0
            continue
        if d <= 1:
            out[i, h] += 1.0
            continue
        w = 1.0 / d
        left = 60 - (s % 60)
        rem = d
        while rem > 0:
            if rem <= left:
                out[i, h] += rem * w
                rem = 0
            else:
                out[i, h] += left * w
                rem -= left
                left = 60
                h = (h + 1) % 168
    return out
