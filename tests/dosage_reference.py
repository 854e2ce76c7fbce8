"""A straightforward shapely/pandas implementation of the visit rules of
``hotspots.analysis.dosage.detect_visits``, written independently of its numba kernels:
the tests and ``benchmarks/bench_dosage.py`` check the engine against it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely


def reference_visits(
    pings: pd.DataFrame,
    places,
    *,
    id_column="item_id",
    buffer_m=10.0,
    max_gap_s=120.0,
    min_dwell_s=120.0,
    drive_speed_mps=5.0,
) -> pd.DataFrame:
    """Stays (place_id, unit, start, end, minutes, n_pings, speed_mps, kind), sorted like the engine's."""
    p = pings.sort_values(["unit", "time"], kind="stable").reset_index(drop=True)
    t = (p["time"] - p["time"].iloc[0]).dt.total_seconds().to_numpy()
    unit = p["unit"].astype(str).to_numpy()
    x = p["x"].to_numpy(float)
    y = p["y"].to_numpy(float)
    n = len(p)
    # the share of time each ping stands for
    left = np.zeros(n)
    right = np.zeros(n)
    for _unit, idx in p.groupby(p["unit"].astype(str), sort=False).indices.items():
        idx = np.sort(idx)
        d = np.diff(t[idx])
        step = float(np.median(d)) if len(d) else 0.0
        fallback = min(step, max_gap_s) / 2.0
        for k, i in enumerate(idx):
            before = d[k - 1] if k > 0 else np.inf
            after = d[k] if k < len(d) else np.inf
            left[i] = before / 2.0 if before <= max_gap_s else fallback
            right[i] = after / 2.0 if after <= max_gap_s else fallback
    rows = []
    for pid, geom in zip(places[id_column].astype(str), places.geometry, strict=True):
        zone = shapely.buffer(geom, buffer_m, quad_segs=8) if buffer_m > 0 else geom
        inside = np.flatnonzero(shapely.contains_xy(zone, x, y))
        groups = []
        for i in inside:
            if groups and unit[groups[-1][-1]] == unit[i] and t[i] - t[groups[-1][-1]] <= max_gap_s:
                groups[-1].append(i)
            else:
                groups.append([i])
        for g in groups:
            a, b = g[0], g[-1]
            lo = a - 1 if a > 0 and unit[a - 1] == unit[a] and t[a] - t[a - 1] <= max_gap_s else a
            hi = b + 1 if b + 1 < n and unit[b + 1] == unit[b] and t[b + 1] - t[b] <= max_gap_s else b
            path = sum(np.hypot(x[k + 1] - x[k], y[k + 1] - y[k]) for k in range(lo, hi))
            speed = path / (t[hi] - t[lo]) if t[hi] > t[lo] else np.nan
            presence = float(sum(left[i] + right[i] for i in g))
            kind = "drive_through" if speed > drive_speed_mps else ("short" if presence < min_dwell_s else "visit")
            rows.append(
                {
                    "place_id": pid,
                    "unit": unit[a],
                    "start": p["time"].iloc[a] - pd.Timedelta(seconds=left[a]),
                    "end": p["time"].iloc[b] + pd.Timedelta(seconds=right[b]),
                    "minutes": presence / 60.0,
                    "n_pings": len(g),
                    "speed_mps": speed,
                    "kind": kind,
                }
            )
    out = pd.DataFrame(rows, columns=["place_id", "unit", "start", "end", "minutes", "n_pings", "speed_mps", "kind"])
    return out.sort_values(["place_id", "start", "unit"], kind="stable").reset_index(drop=True)
