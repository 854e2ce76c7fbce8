"""When the publisher changes its anonymous map points: detect it, and carry old history across.

police.uk publishes each crime at the nearest of a fixed set of anonymous map
points. In July 2022 it replaced that set: only 6.8% of Barnet's July 2022
burglaries sat at a point used before, against about 99% in the months before.
Long-run features then mix two location sets, and a cell that held an old point
may hold no new one. This module

* **detects** such a change from the data alone (:func:`detect_location_change`):
  month by month, the share of incidents at points seen in earlier months; a
  change is a month whose share falls below ``drop_ratio`` times the median of
  the previous ``baseline_months`` months (when that median is at least
  ``min_baseline_share``, i.e. the data reuses points at all) and after which
  the share at points seen *before that month* stays below the same level;
* **relocates** the history before a change onto the new point set
  (:func:`relocate_to_points`): each earlier incident moves to the nearest point
  used since the change (known at the forecast origin) when one lies within
  ``max_move_m`` metres, else it stays; and wraps any forecast method so that it
  is fitted on the relocated history (:class:`Relocated`; name
  ``<method>+relocated`` in :func:`~.methods.make_method`).

Times are float days since 1970-01-01 UTC, coordinates metres (the grid's CRS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..config.sections import RELOCATED_SUFFIX
from .base import ForecastMethod
from .harness import forecast_surface

DAY_NS = 86400e9


@dataclass(frozen=True)
class LocationChange:
    """One change of the publisher's location set.

    ``month``: first month (``YYYY-MM``) published on the new set; ``start_day``: its
    first day (float days since 1970 UTC); ``share_before``: the median monthly share of
    incidents at previously seen points over the months before it; ``share_at_change``:
    that share in the change month; ``share_after_old_points``: the mean share of later
    months' incidents at points seen before the change; ``months_after``: months of data
    after the change month that confirm it (0 = detected on the change month alone).
    """

    month: str
    start_day: float
    share_before: float
    share_at_change: float
    share_after_old_points: float
    months_after: int

    def describe(self) -> str:
        after = (
            f"; in the {self.months_after} month(s) since, {self.share_after_old_points:.0%} of incidents "
            "were at a point used before the change"
            if self.months_after
            else ""
        )
        return (
            f"The published locations changed in {self.month}: {self.share_at_change:.0%} of that month's "
            f"incidents sat at a point used before, against {self.share_before:.0%} in earlier months{after}."
        )


@dataclass(frozen=True, eq=False)
class LocationChangeResult:
    """What :func:`detect_location_change` found.

    ``changes``: the detected changes, oldest first (empty when none); ``monthly``: one row per
    month (``month``, ``incidents``, ``share_seen`` = share at points seen in any earlier month,
    ``baseline`` = median share of the previous months); the settings used.
    """

    changes: tuple[LocationChange, ...]
    monthly: pd.DataFrame = field(repr=False)
    point_resolution_m: float = 1.0
    drop_ratio: float = 0.5
    min_baseline_share: float = 0.8
    baseline_months: int = 12

    @property
    def detected(self) -> bool:
        return bool(self.changes)

    @property
    def latest(self) -> LocationChange | None:
        return self.changes[-1] if self.changes else None

    def describe(self) -> str:
        if not self.changes:
            return "No change of the published location set was detected."
        return " ".join(c.describe() for c in self.changes)

    def to_frame(self) -> pd.DataFrame:
        return self.monthly.copy()


def month_numbers(t_days: np.ndarray) -> np.ndarray:
    """Calendar month (UTC) of each time in float days since 1970, as whole months since 1970-01
    (0 is January 1970); the same months as :func:`month_labels`, without formatting text."""
    ns = (np.asarray(t_days, dtype=float) * DAY_NS).astype(np.int64).astype("datetime64[ns]")
    return ns.astype("datetime64[M]").astype(np.int64)


def _month_text(numbers: np.ndarray) -> np.ndarray:
    """``YYYY-MM`` of whole months since 1970-01."""
    years, months = np.divmod(np.asarray(numbers, dtype=np.int64), 12)
    return np.asarray([f"{y:04d}-{m + 1:02d}" for y, m in zip(years + 1970, months, strict=True)], dtype=object)


def month_labels(t_days: np.ndarray) -> np.ndarray:
    """Calendar month (``YYYY-MM``, UTC) of each time in float days since 1970."""
    uniq, inverse = np.unique(month_numbers(t_days), return_inverse=True)
    return _month_text(uniq)[inverse.ravel()]


def _point_ids(x, y, resolution_m: float) -> np.ndarray:
    """One id per distinct point after rounding to ``resolution_m`` metres: the point's rank in
    (x, y) order, as ``np.unique(..., axis=0, return_inverse=True)`` numbers them."""
    qx = np.floor(np.asarray(x, dtype=float) / resolution_m + 0.5).astype(np.int64)
    qy = np.floor(np.asarray(y, dtype=float) / resolution_m + 0.5).astype(np.int64)
    if qx.size == 0:
        return np.zeros(0, dtype=np.int64)
    span_y = int(qy.max()) - int(qy.min()) + 1
    span_x = int(qx.max()) - int(qx.min()) + 1
    if span_x * span_y >= 2**62:  # too wide for one integer key: rank the pairs directly
        _u, ids = np.unique(np.stack([qx, qy], axis=1), axis=0, return_inverse=True)
        return ids.ravel()
    # one integer per point, in the same (x, y) order, so the ranks are the same
    key = (qx - qx.min()) * span_y + (qy - qy.min())
    _u, ids = np.unique(key, return_inverse=True)
    return ids.ravel()


def detect_location_change(
    x,
    y,
    t,
    point_resolution_m: float = 1.0,
    drop_ratio: float = 0.5,
    min_baseline_share: float = 0.8,
    baseline_months: int = 12,
    min_baseline_months: int = 6,
) -> LocationChangeResult:
    """Find the months in which the published location set changed.

    Parameters
    ----------
    x, y : metres; points closer than ``point_resolution_m`` (after rounding to it) are one point.
    t : float days since 1970 UTC (the incident's time; its calendar month is used).
    drop_ratio : a month is a candidate when its share of incidents at previously seen points is at
        most ``drop_ratio`` x the median share of the previous ``baseline_months`` months.
    min_baseline_share : the baseline must be at least this (data that does not reuse points,
        e.g. exact coordinates, never shows a change).
    min_baseline_months : months of baseline needed before a month can be a candidate.

    A candidate is confirmed when, in every later month of the data, the share of incidents at
    points seen *before* the candidate month stays at most ``drop_ratio`` x the baseline (a month
    with few repeats that the next month contradicts is not a change).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    cols = ["month", "incidents", "share_seen", "baseline"]
    if x.size == 0:
        return LocationChangeResult(
            (), pd.DataFrame(columns=cols), point_resolution_m, drop_ratio, min_baseline_share, baseline_months
        )
    months = month_numbers(t)
    pid = _point_ids(x, y, point_resolution_m)
    order = np.argsort(months, kind="stable")
    months, pid = months[order], pid[order]
    month_nums, starts = np.unique(months, return_index=True)
    labels = _month_text(month_nums).astype(str)
    ends = np.r_[starts[1:], months.size]
    # first month index in which each point appears
    first_month = np.full(pid.max() + 1, labels.size, dtype=np.int64)
    month_idx = np.repeat(np.arange(labels.size), ends - starts)
    np.minimum.at(first_month, pid, month_idx)
    seen_before = first_month[pid] < month_idx  # at a point that appeared in an earlier month
    n = (ends - starts).astype(int)
    share = np.array([seen_before[a:b].mean() for a, b in zip(starts, ends, strict=True)])
    base = np.full(labels.size, np.nan)
    for i in range(labels.size):
        prev = share[max(0, i - baseline_months) : i]
        if prev.size >= min_baseline_months:
            base[i] = float(np.median(prev))
    changes = []
    i = 0
    while i < labels.size:
        b = base[i]
        if np.isfinite(b) and b >= min_baseline_share and share[i] <= drop_ratio * b:
            # confirm: later months stay away from the points known before month i
            later = month_idx > i
            at_old = first_month[pid[later]] < i
            later_months = month_idx[later]
            ok = True
            shares_after = []
            for j in range(i + 1, labels.size):
                s = at_old[later_months == j]
                if s.size == 0:
                    continue
                shares_after.append(float(s.mean()))
                if s.mean() > drop_ratio * b:
                    ok = False
                    break
            if ok:
                start_day = pd.Timestamp(labels[i] + "-01").value / DAY_NS
                changes.append(
                    LocationChange(
                        str(labels[i]),
                        float(start_day),
                        float(b),
                        float(share[i]),
                        float(np.mean(shares_after)) if shares_after else float("nan"),
                        len(shares_after),
                    )
                )
                # a new baseline must build up on the new point set before another change can show
                base[i + 1 : min(labels.size, i + 1 + min_baseline_months)] = np.nan
        i += 1
    monthly = pd.DataFrame({"month": labels, "incidents": n, "share_seen": share, "baseline": base})
    return LocationChangeResult(
        tuple(changes), monthly, point_resolution_m, drop_ratio, min_baseline_share, baseline_months
    )


@dataclass(frozen=True, eq=False)
class Relocation:
    """Where the earlier incidents went: new ``x``, ``y`` (metres), ``moved`` (bool per incident),
    ``distance_m`` of each move (0 where not moved) and the ``change`` it answers."""

    x: np.ndarray
    y: np.ndarray
    moved: np.ndarray
    distance_m: np.ndarray
    change: LocationChange


def relocate_to_points(x, y, t, change: LocationChange, max_move_m: float = 100.0) -> Relocation:
    """Move each incident before ``change`` to the nearest point used since it (within ``max_move_m``).

    The new point set is the set of locations of the incidents with ``t >= change.start_day``
    among those given (pass only incidents known at the forecast origin). Incidents after the
    change, and earlier ones with no new point within ``max_move_m`` metres, keep their place.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    new = t >= change.start_day
    x2, y2 = x.copy(), y.copy()
    moved = np.zeros(x.size, dtype=bool)
    dist = np.zeros(x.size)
    old = ~new
    if new.any() and old.any():
        pts = np.unique(np.stack([x[new], y[new]], axis=1), axis=0)
        d, j = cKDTree(pts).query(np.stack([x[old], y[old]], axis=1), distance_upper_bound=max_move_m)
        ok = np.isfinite(d)
        idx = np.flatnonzero(old)[ok]
        x2[idx] = pts[j[ok], 0]
        y2[idx] = pts[j[ok], 1]
        moved[idx] = True
        dist[idx] = d[ok]
    return Relocation(x2, y2, moved, dist, change)


@dataclass(frozen=True)
class RelocationRule:
    """Places incidents on the location set in use at a cut-off: detects a change among the
    incidents given (all known at the cut-off) and, after one, moves the earlier incidents to the
    nearest point used since it within ``max_move_m`` metres; otherwise leaves them. A
    :meth:`History.placed_by <hotspots.forecast.harness.History.placed_by>` rule."""

    max_move_m: float = 100.0
    drop_ratio: float = 0.5
    min_baseline_share: float = 0.8

    def find(self, x, y, t) -> LocationChange | None:
        return detect_location_change(
            x, y, t, drop_ratio=self.drop_ratio, min_baseline_share=self.min_baseline_share
        ).latest

    def __call__(self, x, y, t):
        change = self.find(x, y, t)
        if change is None:
            return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        rel = relocate_to_points(x, y, t, change, self.max_move_m)
        return rel.x, rel.y


class Relocated(ForecastMethod):
    """Any forecast method fitted on the history relocated onto the current location set.

    ``method`` is fitted on the history placed by a :class:`RelocationRule`: at the origin, and
    at every earlier cut-off the method reads (the learned model's training origins), a change of
    location set is detected from the incidents known then and, after one, the incidents before
    it move to the nearest point used since it (known then) within ``max_move_m`` metres. Before
    any change the history is left as it is. ``change_`` (or None) and ``moved_share_`` record
    what was done at the origin.
    """

    def __init__(
        self, method=None, max_move_m: float = 100.0, drop_ratio: float = 0.5, min_baseline_share: float = 0.8
    ):
        self.method = method
        self.max_move_m = max_move_m
        self.drop_ratio = drop_ratio
        self.min_baseline_share = min_baseline_share

    def requires_times(self) -> bool:
        """As the wrapped method."""
        return bool(self.method.requires_times())

    def fit(self, history):
        self._start(history)
        rule = RelocationRule(self.max_move_m, self.drop_ratio, self.min_baseline_share)
        x, y, t = history.events()
        self.change_ = rule.find(x, y, t)
        target = history.placed_by(rule)
        tx, ty, _t = target.events()
        self.moved_share_ = float(np.mean((tx != x) | (ty != y))) if x.size else 0.0
        self.surface_ = forecast_surface(self.method, target, type(self.method).__name__)
        return self

    def predict(self, origin, horizon=None):
        self._check_origin(origin)
        return self._on_grid(self.surface_)


def relocated_names(names) -> tuple[str, ...]:
    """The candidates to use on data whose published locations changed: every method fitted on the
    relocated history (``<name>+relocated``; the same as the plain method before any change)."""
    return tuple(n if n.endswith(RELOCATED_SUFFIX) else n + RELOCATED_SUFFIX for n in names)
