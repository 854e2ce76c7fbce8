"""Numba kernels of patrol dosage (private; array in, array out).

Units: coordinates in metres of one projected CRS, times in seconds (float64).

Places are flattened polygons: ``vx, vy`` hold every ring's vertices (each ring
closed, first vertex repeated last), ring ``r`` spans ``ring_start[r] :
ring_start[r + 1]``, and the rings of place ``p`` (exterior rings and holes of
every part) are ``place_ring[p] : place_ring[p + 1]``. A point is inside a place
by the even-odd rule over all its rings (half-open crossing test, so a point is
never counted twice on a shared vertex). ``bbox`` is (P, 4): xmin, ymin, xmax, ymax.

A uniform grid indexes the places: cell (i, j) of side ``cs`` metres from
(gx0, gy0) lists the places whose bounding box touches it, in CSR form
(``cell_start`` of length nx * ny + 1 into ``cell_places``, row-major by j then i).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _inside(px, py, p, place_ring, ring_start, vx, vy):
    inside = False
    for r in range(place_ring[p], place_ring[p + 1]):
        a = ring_start[r]
        b = ring_start[r + 1]
        for k in range(a, b - 1):
            x1 = vx[k]
            y1 = vy[k]
            x2 = vx[k + 1]
            y2 = vy[k + 1]
            if (y1 > py) != (y2 > py):
                xc = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
                if px < xc:
                    inside = not inside
    return inside


@njit(cache=True)
def _cell_of(px, py, gx0, gy0, cs, nx, ny):
    i = int(math.floor((px - gx0) / cs))
    j = int(math.floor((py - gy0) / cs))
    if i < 0 or j < 0 or i >= nx or j >= ny:
        return -1
    return j * nx + i


@njit(cache=True)
def points_in_places(x, y, gx0, gy0, cs, nx, ny, cell_start, cell_places, bbox, place_ring, ring_start, vx, vy):
    """Every (point, place) pair with the point inside the place.

    Returns ``pt`` (int64) and ``pl`` (int32), ordered by point, then by place
    index within a point.
    """
    n = x.shape[0]
    count = 0
    for s in range(2):
        if s == 1:
            pt = np.empty(count, dtype=np.int64)
            pl = np.empty(count, dtype=np.int32)
            count = 0
        for k in range(n):
            c = _cell_of(x[k], y[k], gx0, gy0, cs, nx, ny)
            if c < 0:
                continue
            for q in range(cell_start[c], cell_start[c + 1]):
                p = cell_places[q]
                if x[k] < bbox[p, 0] or x[k] > bbox[p, 2] or y[k] < bbox[p, 1] or y[k] > bbox[p, 3]:
                    continue
                if _inside(x[k], y[k], p, place_ring, ring_start, vx, vy):
                    if s == 1:
                        pt[count] = k
                        pl[count] = p
                    count += 1
    return pt, pl


@njit(cache=True)
def stays(pair_place, pair_ping, unit, t, x, y, share, max_gap):
    """Group each place's inside pings into stays.

    ``pair_place``/``pair_ping`` list (place, ping) pairs sorted by place then
    ping; pings are sorted by (unit, t), so within a place the pairs run unit by
    unit in time order. Two consecutive inside pings of one unit at one place
    belong to the same stay when they are at most ``max_gap`` seconds apart
    (whatever the unit did in between). ``share`` is the time (seconds) each ping
    stands for.

    Returns per stay: place, unit, first and last ping index, number of inside
    pings, presence (seconds: sum of the inside pings' shares), and the
    transit speed (metres per second): the unit's path from the ping before the
    stay, through every ping of the unit up to the ping after it, over the time
    between those two pings (the ping before / after is left out when it is
    more than ``max_gap`` seconds away or belongs to another unit); NaN for a
    single ping with no neighbour within ``max_gap``.
    """
    m = pair_place.shape[0]
    n = t.shape[0]
    nst = 0
    for k in range(m):
        if (
            k == 0
            or pair_place[k] != pair_place[k - 1]
            or unit[pair_ping[k]] != unit[pair_ping[k - 1]]
            or t[pair_ping[k]] - t[pair_ping[k - 1]] > max_gap
        ):
            nst += 1
    s_place = np.empty(nst, dtype=np.int32)
    s_unit = np.empty(nst, dtype=np.int64)
    s_first = np.empty(nst, dtype=np.int64)
    s_last = np.empty(nst, dtype=np.int64)
    s_n = np.zeros(nst, dtype=np.int64)
    s_presence = np.zeros(nst, dtype=np.float64)
    s_speed = np.zeros(nst, dtype=np.float64)
    cur = -1
    for k in range(m):
        i = pair_ping[k]
        if (
            k == 0
            or pair_place[k] != pair_place[k - 1]
            or unit[i] != unit[pair_ping[k - 1]]
            or t[i] - t[pair_ping[k - 1]] > max_gap
        ):
            cur += 1
            s_place[cur] = pair_place[k]
            s_unit[cur] = unit[i]
            s_first[cur] = i
        s_last[cur] = i
        s_n[cur] += 1
        s_presence[cur] += share[i]
    for s in range(nst):
        a = s_first[s]
        b = s_last[s]
        u = s_unit[s]
        if a > 0 and unit[a - 1] == u and t[a] - t[a - 1] <= max_gap:
            a -= 1
        if b + 1 < n and unit[b + 1] == u and t[b + 1] - t[b] <= max_gap:
            b += 1
        path = 0.0
        for k in range(a, b):
            path += math.hypot(x[k + 1] - x[k], y[k + 1] - y[k])
        span = t[b] - t[a]
        s_speed[s] = path / span if span > 0 else np.nan
    return s_place, s_unit, s_first, s_last, s_n, s_presence, s_speed
