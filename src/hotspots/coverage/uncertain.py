"""Coverage by cameras whose positions are approximate: the probability that a camera sees a place.

Published camera lists often give no coordinates, and positions derived from
street names are approximate (Barnet Council's list comes with a quality class
per camera). Each camera carries a positional-error radius ``r`` (metres,
``position_error_m``, 0 = exact): its true position is taken to be anywhere
within ``r`` of the mapped position, every place equally likely. A camera then
sees a point with probability

    P = (area of the part of the error disc from which the camera sees the point) / (pi r^2)

and several cameras see it with probability ``1 - prod(1 - P_j)`` (their
positional errors taken as independent). Coverage of incidents and harm,
coverage of cells and the existing coverage the siting model builds on all use
this probability, so an approximate camera spreads its expected coverage over
the area it may be in instead of claiming the exact circle around a guessed
point (the expected area seen stays the camera's own viewshed area).

For a full-circle view of range ``R`` on flat ground the disc from which the
camera sees a point at distance ``d`` is the lens where the error disc and a
circle of radius ``R`` around the point overlap, so ``P`` has a closed form
(:func:`lens_area`). Sector views and line of sight over an obstruction raster
have none; there the camera stands at ``position_samples`` equal-area positions
spread over its error disc (a Vogel spiral: deterministic, no random numbers)
and ``P`` is the share of those positions that see the point.

Everything is in the working CRS (metres).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .viewshed import Obstruction, visibility_pairs

#: The golden angle (radians) of the Vogel spiral.
_GOLDEN = np.pi * (3.0 - np.sqrt(5.0))


def disc_offsets(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points spread evenly over the unit disc (a Vogel spiral; each stands for an equal area)."""
    i = np.arange(n, dtype=float)
    rad = np.sqrt((i + 0.5) / n)
    ang = i * _GOLDEN
    return rad * np.cos(ang), rad * np.sin(ang)


def lens_area(d, big_r, small_r) -> np.ndarray:
    """Area (m^2) where a circle of radius ``big_r`` and one of radius ``small_r`` overlap, centres ``d`` apart."""
    d = np.asarray(d, float)
    big_r = np.broadcast_to(np.asarray(big_r, float), d.shape)
    small_r = np.broadcast_to(np.asarray(small_r, float), d.shape)
    out = np.zeros(d.shape)
    inner = d <= np.abs(big_r - small_r)
    out[inner] = np.pi * np.minimum(big_r, small_r)[inner] ** 2
    part = ~inner & (d < big_r + small_r)
    if part.any():
        dd, a, b = d[part], big_r[part], small_r[part]
        ca = np.clip((dd * dd + a * a - b * b) / (2 * dd * a), -1.0, 1.0)
        cb = np.clip((dd * dd + b * b - a * a) / (2 * dd * b), -1.0, 1.0)
        k = (-dd + a + b) * (dd + a - b) * (dd - a + b) * (dd + a + b)
        out[part] = a * a * np.arccos(ca) + b * b * np.arccos(cb) - 0.5 * np.sqrt(np.maximum(k, 0.0))
    return out


def _add(surv: np.ndarray, certain: np.ndarray, point: np.ndarray, p: np.ndarray) -> None:
    """Fold (point, probability) pairs into the per-point survival log and the certain flags."""
    sure = p >= 1.0
    certain[point[sure]] = True
    some = ~sure & (p > 0)
    if some.any():
        surv += np.bincount(point[some], weights=np.log1p(-p[some]), minlength=len(surv))


def _circles(cams: pd.DataFrame, x, y, surv, certain) -> None:
    """Full-circle views on flat ground with positional error: the closed form, for every (point, camera)
    pair closer than the camera's range plus its positional error."""
    if not len(x):
        return
    cx, cy = cams["x"].to_numpy(float), cams["y"].to_numpy(float)
    big, small = cams["range_m"].to_numpy(float), cams["position_error_m"].to_numpy(float)
    hits = cKDTree(np.c_[x, y]).query_ball_point(np.c_[cx, cy], big + small)
    n = np.fromiter((len(h) for h in hits), np.int64, len(hits))
    if not n.sum():
        return
    cam = np.repeat(np.arange(len(cams)), n)
    idx = np.concatenate([np.asarray(h, np.int64) for h in hits])
    d = np.hypot(x[idx] - cx[cam], y[idx] - cy[cam])
    prob = lens_area(d, big[cam], small[cam]) / (np.pi * small[cam] ** 2)
    _add(surv, certain, idx, np.minimum(prob, 1.0))


def _sampled(cams: pd.DataFrame, x, y, surv, certain, obstruction, mh, th, samples: int) -> None:
    """Sector views or line of sight with positional error: the camera at ``samples`` positions."""
    ox, oy = disc_offsets(samples)
    r = cams["position_error_m"].to_numpy(float)
    virt = cams.loc[cams.index.repeat(samples)].reset_index(drop=True)
    virt["x"] = np.repeat(cams["x"].to_numpy(float), samples) + np.tile(ox, len(cams)) * np.repeat(r, samples)
    virt["y"] = np.repeat(cams["y"].to_numpy(float), samples) + np.tile(oy, len(cams)) * np.repeat(r, samples)
    p, v = visibility_pairs(virt, x, y, obstruction, mh, th)
    if not len(p):
        return
    key = p * len(cams) + v // samples
    keys, n = np.unique(key, return_counts=True)
    _add(surv, certain, keys // len(cams), n / samples)


def seen_probability(
    cameras: pd.DataFrame,
    x,
    y,
    obstruction: Obstruction | None = None,
    mount_height_m: float = 6.0,
    target_height_m: float = 1.5,
    samples: int = 128,
) -> np.ndarray:
    """Probability that at least one of ``cameras`` sees each point (``x``, ``y`` metres), shape ``len(x)``.

    ``cameras`` is a frame with ``x, y, range_m, bearing_deg, fov_deg`` and
    optionally ``position_error_m`` (metres; absent or 0 = exact, and then the
    probability is 1 or 0 as for :func:`hotspots.coverage.viewshed.covered_points`).
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    surv = np.zeros(len(x))
    certain = np.zeros(len(x), bool)
    if len(cameras) and len(x):
        cams = pd.DataFrame(cameras).reset_index(drop=True)
        err = cams["position_error_m"].to_numpy(float) if "position_error_m" in cams.columns else np.zeros(len(cams))
        exact = ~(err > 0)
        circle = ~exact & (cams["fov_deg"].to_numpy(float) >= 360) & (obstruction is None)
        if exact.any():
            p, _c = visibility_pairs(cams[exact], x, y, obstruction, mount_height_m, target_height_m)
            certain[p] = True
        if circle.any():
            _circles(cams[circle], x, y, surv, certain)
        rest = ~exact & ~circle
        if rest.any():
            _sampled(cams[rest], x, y, surv, certain, obstruction, mount_height_m, target_height_m, samples)
    return np.where(certain, 1.0, -np.expm1(surv))


def reach_m(cameras: pd.DataFrame) -> np.ndarray:
    """How far from its mapped position each camera may see (range + positional error, metres)."""
    err = cameras["position_error_m"].to_numpy(float) if "position_error_m" in cameras.columns else 0.0
    return cameras["range_m"].to_numpy(float) + err
