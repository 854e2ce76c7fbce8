"""Numba kernels for camera viewsheds (array in, array out; EPSG:27700 metres).

Conventions shared by every kernel:

* a camera is (cx, cy, range_m, bearing_deg, fov_deg, mount_h): position in
  metres, bearing clockwise from grid north, horizontal field of view in
  degrees (>= 360 = full circle), mounting height in metres above the surface;
* the obstruction raster ``heights`` (nrows, ncols) holds surface heights in
  metres (building heights above ground, or a DSM), row 0 at the top; its
  top-left corner is (x0, ytop) and its square pixel side ``cs`` metres.
  Outside the raster the surface is taken as 0. ``use_los = False`` skips the
  line-of-sight test (flat ground: the viewshed is the geometric sector);
* a target is visible when it lies in the sector and the straight line from the
  camera (surface + mount_h) to the target (surface + target_h) passes above
  every raster sample between them (sampled every ``cs / 2`` metres, the
  camera's and the target's own pixels excluded). A point is looked up in the
  raster by the engine's one binning rule (:mod:`hotspots.geo._binning`: whole
  millimetres, a point on a pixel edge belongs to the pixel east / south of it).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..geo._binning import col_of, row_of


@njit(cache=True)
def _in_sector(dx, dy, rng, brg, fov):
    d2 = dx * dx + dy * dy
    if d2 > rng * rng:
        return False
    if fov >= 360.0 or d2 < 1e-18:
        return True
    b = math.degrees(math.atan2(dx, dy))
    diff = (b - brg + 540.0) % 360.0 - 180.0
    return abs(diff) <= fov * 0.5 + 1e-9


@njit(cache=True)
def _surface(heights, x0, ytop, cs, x, y):
    c = col_of(x, x0, cs)
    r = row_of(y, ytop, cs)
    if r < 0 or c < 0 or r >= heights.shape[0] or c >= heights.shape[1]:
        return 0.0
    v = heights[r, c]
    if not np.isfinite(v):
        return 0.0
    return v


@njit(cache=True)
def _line_of_sight(heights, x0, ytop, cs, ax, ay, mount_h, bx, by, target_h):
    nr = heights.shape[0]
    nc = heights.shape[1]
    ca = col_of(ax, x0, cs)
    ra = row_of(ay, ytop, cs)
    cb = col_of(bx, x0, cs)
    rb = row_of(by, ytop, cs)
    za = _surface(heights, x0, ytop, cs, ax, ay) + mount_h
    zb = _surface(heights, x0, ytop, cs, bx, by) + target_h
    dx = bx - ax
    dy = by - ay
    dist = math.sqrt(dx * dx + dy * dy)
    nstep = int(math.ceil(dist / (0.5 * cs)))
    for s in range(1, nstep):
        t = s / nstep
        x = ax + t * dx
        y = ay + t * dy
        c = col_of(x, x0, cs)
        r = row_of(y, ytop, cs)
        if (r == ra and c == ca) or (r == rb and c == cb):
            continue
        if r < 0 or c < 0 or r >= nr or c >= nc:
            continue
        h = heights[r, c]
        if np.isfinite(h) and h > za + t * (zb - za):
            return False
    return True


@njit(cache=True)
def viewshed_window(heights, x0, ytop, cs, cx, cy, rng, brg, fov, mount_h, target_h, use_los):
    """Visibility of the raster pixels around one camera.

    Returns (r0, c0, mask) where ``mask`` (uint8) covers rows r0.. and
    columns c0.. of the raster: 1 where the pixel centre is visible.
    """
    nr = heights.shape[0]
    nc = heights.shape[1]
    c0 = max(0, int(math.floor((cx - rng - x0) / cs)))
    c1 = min(nc - 1, int(math.floor((cx + rng - x0) / cs)))
    r0 = max(0, int(math.floor((ytop - (cy + rng)) / cs)))
    r1 = min(nr - 1, int(math.floor((ytop - (cy - rng)) / cs)))
    if c1 < c0 or r1 < r0:
        return 0, 0, np.zeros((0, 0), dtype=np.uint8)
    out = np.zeros((r1 - r0 + 1, c1 - c0 + 1), dtype=np.uint8)
    for r in range(r0, r1 + 1):
        yc = ytop - (r + 0.5) * cs
        for c in range(c0, c1 + 1):
            xc = x0 + (c + 0.5) * cs
            if not _in_sector(xc - cx, yc - cy, rng, brg, fov):
                continue
            if use_los and not _line_of_sight(heights, x0, ytop, cs, cx, cy, mount_h, xc, yc, target_h):
                continue
            out[r - r0, c - c0] = 1
    return r0, c0, out


@njit(cache=True)
def viewshed_count(heights, x0, ytop, cs, cx, cy, rng, brg, fov, mount_h, target_h, use_los):
    """Number of cameras seeing each pixel centre, shape of ``heights`` (int32)."""
    out = np.zeros(heights.shape, dtype=np.int32)
    for k in range(cx.shape[0]):
        r0, c0, m = viewshed_window(
            heights, x0, ytop, cs, cx[k], cy[k], rng[k], brg[k], fov[k], mount_h[k], target_h, use_los
        )
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                out[r0 + i, c0 + j] += m[i, j]
    return out


@njit(cache=True)
def _cover_pass(
    px_sorted, py_sorted, cx, cy, rng, brg, fov, mount_h, heights, x0, ytop, cs, target_h, use_los, out_p, out_c
):
    """Count the (point, camera) pairs in view; also record them when ``out_p``/``out_c``
    have room (empty arrays: count only). One signature for both passes of :func:`cover_pairs`."""
    fill = out_p.shape[0] > 0
    n = 0
    for k in range(cx.shape[0]):
        lo = np.searchsorted(px_sorted, cx[k] - rng[k], side="left")
        hi = np.searchsorted(px_sorted, cx[k] + rng[k], side="right")
        for i in range(lo, hi):
            dx = px_sorted[i] - cx[k]
            dy = py_sorted[i] - cy[k]
            if abs(dy) > rng[k]:
                continue
            if not _in_sector(dx, dy, rng[k], brg[k], fov[k]):
                continue
            if use_los and not _line_of_sight(
                heights, x0, ytop, cs, cx[k], cy[k], mount_h[k], px_sorted[i], py_sorted[i], target_h
            ):
                continue
            if fill:
                out_p[n] = i
                out_c[n] = k
            n += 1
    return n


@njit(cache=True)
def cover_pairs(px_sorted, py_sorted, cx, cy, rng, brg, fov, mount_h, heights, x0, ytop, cs, target_h, use_los):
    """All (point, camera) pairs where the camera sees the point.

    ``px_sorted`` must be sorted ascending (``py_sorted`` in the same order).
    Returns (point_index_in_sorted_order, camera_index), both int64.
    """
    dummy = np.zeros(0, dtype=np.int64)
    n = _cover_pass(
        px_sorted, py_sorted, cx, cy, rng, brg, fov, mount_h, heights, x0, ytop, cs, target_h, use_los, dummy, dummy
    )
    out_p = np.empty(n, dtype=np.int64)
    out_c = np.empty(n, dtype=np.int64)
    if n > 0:
        _cover_pass(
            px_sorted, py_sorted, cx, cy, rng, brg, fov, mount_h, heights, x0, ytop, cs, target_h, use_los, out_p, out_c
        )
    return out_p, out_c


@njit(cache=True)
def greedy_max_cover(indptr, indices, weights, covered0, k):
    """Greedy maximal covering on a sparse candidate -> demand incidence (CSR).

    ``indptr``/``indices``: candidate j covers demands ``indices[indptr[j]:indptr[j+1]]``;
    ``covered0`` (uint8) marks demand already covered by fixed cameras.
    Returns (chosen candidate per step, marginal gain per step); stops early
    (shorter arrays) when no candidate adds anything.
    """
    ncand = indptr.shape[0] - 1
    covered = covered0.copy()
    gain = np.zeros(ncand)
    for j in range(ncand):
        g = 0.0
        for t in range(indptr[j], indptr[j + 1]):
            if covered[indices[t]] == 0:
                g += weights[indices[t]]
        gain[j] = g
    used = np.zeros(ncand, dtype=np.uint8)
    chosen = np.full(k, -1, dtype=np.int64)
    gains = np.zeros(k)
    # lazy greedy: gains only ever fall, so a stale value is an upper bound
    stale = np.zeros(ncand, dtype=np.uint8)
    for step in range(k):
        while True:
            best = -1
            bestg = 0.0
            for j in range(ncand):
                if used[j] == 0 and gain[j] > bestg:
                    bestg = gain[j]
                    best = j
            if best < 0:
                break
            if stale[best] == 0:
                break
            g = 0.0
            for t in range(indptr[best], indptr[best + 1]):
                if covered[indices[t]] == 0:
                    g += weights[indices[t]]
            gain[best] = g
            stale[best] = 0
        if best < 0 or bestg <= 0.0:
            return chosen[:step], gains[:step]
        chosen[step] = best
        gains[step] = gain[best]
        used[best] = 1
        for t in range(indptr[best], indptr[best + 1]):
            covered[indices[t]] = 1
        for j in range(ncand):
            stale[j] = 1
    return chosen, gains


@njit(cache=True)
def interchange(indptr, indices, weights, covered0, chosen, max_passes):
    """Improve a set of sites by single swaps (vertex substitution, best improvement per pass).

    CSR as in :func:`greedy_max_cover`. Each pass tries, for every chosen
    site, the best replacement among the unchosen ones and applies the best
    improving swap; stops when no swap adds weight or after ``max_passes``.
    Returns the improved site set (same length).
    """
    ncand = indptr.shape[0] - 1
    nd = weights.shape[0]
    cur = chosen.copy()
    k = cur.shape[0]
    cnt = np.zeros(nd, dtype=np.int64)
    for d in range(nd):
        if covered0[d] != 0:
            cnt[d] = 1_000_000  # fixed coverage never drops
    insol = np.zeros(ncand, dtype=np.uint8)
    for a in range(k):
        insol[cur[a]] = 1
        for t in range(indptr[cur[a]], indptr[cur[a] + 1]):
            cnt[indices[t]] += 1
    for _ in range(max_passes):
        best_delta = 1e-9
        best_a = -1
        best_j = -1
        for a in range(k):
            i = cur[a]
            loss = 0.0
            for t in range(indptr[i], indptr[i + 1]):
                d = indices[t]
                cnt[d] -= 1
                if cnt[d] == 0:
                    loss += weights[d]
            for j in range(ncand):
                if insol[j] != 0:
                    continue
                g = 0.0
                for t in range(indptr[j], indptr[j + 1]):
                    if cnt[indices[t]] == 0:
                        g += weights[indices[t]]
                if g - loss > best_delta:
                    best_delta = g - loss
                    best_a = a
                    best_j = j
            for t in range(indptr[i], indptr[i + 1]):
                cnt[indices[t]] += 1
        if best_a < 0:
            break
        i = cur[best_a]
        for t in range(indptr[i], indptr[i + 1]):
            cnt[indices[t]] -= 1
        insol[i] = 0
        for t in range(indptr[best_j], indptr[best_j + 1]):
            cnt[indices[t]] += 1
        insol[best_j] = 1
        cur[best_a] = best_j
    return cur
