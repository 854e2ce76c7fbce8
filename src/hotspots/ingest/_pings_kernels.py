"""Numba kernel of the ping reader (private; array in, array out).

Units: coordinates in metres of the working CRS, times in seconds (float64).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _feasible(xa, ya, ta, xb, yb, tb, max_speed, jitter_m):
    """Can a unit move from (xa, ya) at ta to (xb, yb) at tb? (distance <= jitter + speed * time)."""
    d = math.hypot(xb - xa, yb - ya)
    return d <= jitter_m + max_speed * abs(tb - ta)


@njit(cache=True)
def speed_jumps(unit, t, x, y, max_speed, jitter_m, confirm):
    """Flag pings that imply an impossible movement.

    Inputs are sorted by (unit, t) with no repeated (unit, t). For each unit the
    pings are walked in time order against an *anchor*, the last accepted ping:

    * a ping reachable from the anchor (distance <= ``jitter_m`` + ``max_speed``
      x elapsed seconds) is accepted and becomes the anchor;
    * otherwise it is rejected, and it starts (or extends) a *run* of rejected
      pings that are reachable from one another. When a run reaches ``confirm``
      pings, the track has genuinely moved on (the anchor side was the odd one
      out): the run's pings are accepted and the last one becomes the anchor.
      If fewer than ``confirm`` pings had been accepted on the old track since
      the unit's first ping or the last such switch, they are rejected instead
      (an isolated bad fix at the start of a track does not hold the whole
      track hostage).

    Returns ``reject`` (bool) and ``implied`` (float64): the speed in metres per
    second from the anchor at the time the ping was judged (0 for accepted pings).
    """
    n = unit.shape[0]
    reject = np.zeros(n, dtype=np.bool_)
    implied = np.zeros(n, dtype=np.float64)
    i = 0
    while i < n:
        j = i
        while j < n and unit[j] == unit[i]:
            j += 1
        anchor = i
        chain_start = i
        chain_count = 1
        run_start = -1
        run_len = 0
        for k in range(i + 1, j):
            if _feasible(x[anchor], y[anchor], t[anchor], x[k], y[k], t[k], max_speed, jitter_m):
                anchor = k
                chain_count += 1
                run_len = 0
                continue
            dt = t[k] - t[anchor]
            implied[k] = math.hypot(x[k] - x[anchor], y[k] - y[anchor]) / dt if dt > 0 else np.inf
            reject[k] = True
            if run_len > 0 and _feasible(x[k - 1], y[k - 1], t[k - 1], x[k], y[k], t[k], max_speed, jitter_m):
                run_len += 1
            else:
                run_start = k
                run_len = 1
            if run_len >= confirm:
                if chain_count < confirm:
                    for m in range(chain_start, run_start):
                        if not reject[m]:
                            reject[m] = True
                            implied[m] = np.inf
                for m in range(run_start, k + 1):
                    reject[m] = False
                    implied[m] = 0.0
                anchor = k
                chain_start = run_start
                chain_count = run_len
                run_len = 0
        i = j
    return reject, implied
