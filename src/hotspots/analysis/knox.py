"""Banded Knox test for near repeats (the Near Repeat Calculator's job, fast).

Every pair of events is classified by its spatial distance (metres) and its
time difference (days) into bands; the observed count of pairs in each
space-time cell is compared with counts from Monte Carlo permutations of the
event times over the fixed locations.

Bands
-----
Spatial bands have width ``spatial_bandwidth_m`` (``n_spatial_bands`` of them),
temporal bands width ``temporal_bandwidth_days`` (``n_temporal_bands``). With
``w`` the width and ``k = 1..K``:

``convention="closed"`` (default; the labels mean what they say)
    * "Same location": distance <= ``same_location_tol_m`` (default 0: identical points)
    * spatial band k: ((k-1) w, k w] metres (band 1 starts just above the same-location tolerance)
    * temporal band 1: [0, w] days, band k: ((k-1) w, k w] days
    * "More than": beyond the last edge.
    With whole days and w = 7 the temporal bands are 0-7, 8-14, 15-21 days.

``convention="nrc"`` (reproduces Ratcliffe's Near Repeat Calculator 1.3)
    The NRC labels a band "a to b" but counts [a-1, b): spatial band k holds
    [(k-1) w, k w) metres (band 1 excludes distance 0, which is "Same location"),
    temporal band k holds [(k-1) w, k w) days, so "0 to 7" holds pairs 0-6 days
    apart and "8 to 14" pairs 7-13 days apart. Labels copy the NRC's.

Implementation: only pairs within the largest finite spatial edge are found
(``scipy.spatial.cKDTree.query_pairs``; memory grows with the number of close
pairs, never n^2). The times are permuted over these fixed pairs in a numba
kernel. The "More than" spatial row follows from the totals of all pairs per
temporal band, which do not change under permutation and are counted from the
sorted times (two pointers, no pair storage).

Pseudo p-value of each cell: (1 + #permutations with count >= observed) / (permutations + 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .._csvsafe import write_csv
from .._util import kernel_array
from ..errors import InputError
from ..geo.checks import require_points, require_same_crs
from ..model import day_numbers, require_precision, wall_clock
from . import _nearrepeat_kernels as K

CONVENTIONS = ("closed", "nrc")
METRICS = ("euclidean", "manhattan")


def _fmt(v: float) -> str:
    return f"{v:g}"


def spatial_band_labels(bw: float, n: int, convention: str) -> list[str]:
    """Row labels: "Same location", one per band, "More than ..."."""
    labels = ["Same location"]
    for k in range(1, n + 1):
        lo, hi = (k - 1) * bw, k * bw
        if convention == "nrc":
            labels.append(f"{_fmt(lo + 1 if k > 1 else 1)} to {_fmt(hi)}")
        else:
            labels.append(f"{_fmt(lo)}-{_fmt(hi)} m")
    labels.append(f"More than {_fmt(n * bw)}" + ("" if convention == "nrc" else " m"))
    return labels


def temporal_band_labels(bw: float, n: int, convention: str, unit: str = "days") -> list[str]:
    labels = []
    whole = float(bw).is_integer()
    for k in range(1, n + 1):
        lo, hi = (k - 1) * bw, k * bw
        if convention == "nrc":
            labels.append(f"{_fmt(lo + 1 if k > 1 else 0)} to {_fmt(hi)}")
        elif whole:
            labels.append(f"{_fmt(lo + 1 if k > 1 else 0)}-{_fmt(hi)} {unit}")
        else:
            labels.append(f"{_fmt(lo)}-{_fmt(hi)} {unit}")
    labels.append(f"More than {_fmt(n * bw)}" + ("" if convention == "nrc" else f" {unit}"))
    return labels


@dataclass(frozen=True, eq=False)
class KnoxResult:
    """Banded Knox test result.

    Arrays have shape (S + 2, T + 1): rows are "Same location", the S spatial
    bands and "More than"; columns are the T temporal bands and "More than".

    Attributes
    ----------
    observed : int64 array — observed pair counts.
    expected_mean, expected_median : float arrays — mean / median count over permutations.
    ratio : observed / expected_mean (NaN where the expectation is 0).
    p_value : pseudo p-value (1 + #sims >= observed) / (permutations + 1).
    sims : int64 array (permutations, S + 2, T + 1) — the permutation counts (None if not kept).
    """

    observed: np.ndarray
    expected_mean: np.ndarray
    expected_median: np.ndarray
    ratio: np.ndarray
    p_value: np.ndarray
    spatial_labels: tuple[str, ...]
    temporal_labels: tuple[str, ...]
    spatial_bandwidth_m: float
    n_spatial_bands: int
    temporal_bandwidth_days: float
    n_temporal_bands: int
    metric: str
    convention: str
    permutations: int
    seed: int
    n_events: int
    n_close_pairs: int
    same_location_tol_m: float = 0.0
    crime_label: str = "burglary"
    time_unit: str = "days"
    sims: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------ band edges
    def spatial_edges(self) -> list[tuple[float, float]]:
        """(lower, upper) metres of each row (same location: (0, tol); More than: (edge, inf))."""
        w, n = self.spatial_bandwidth_m, self.n_spatial_bands
        return [(0.0, self.same_location_tol_m)] + [((k - 1) * w, k * w) for k in range(1, n + 1)] + [(n * w, math.inf)]

    def temporal_edges(self) -> list[tuple[float, float]]:
        w, n = self.temporal_bandwidth_days, self.n_temporal_bands
        return [((k - 1) * w, k * w) for k in range(1, n + 1)] + [(n * w, math.inf)]

    # ------------------------------------------------------------ tables
    def _table(self, arr: np.ndarray) -> pd.DataFrame:
        df = pd.DataFrame(arr, index=list(self.spatial_labels), columns=list(self.temporal_labels))
        df.index.name = "distance"
        return df

    def to_frame(self, which: str | None = None):
        """Tables as DataFrames.

        ``which`` one of observed, expected_mean, expected_median, ratio, p_value
        gives that (S+2) x (T+1) table; None gives a long table with one row per
        cell and columns spatial_band, temporal_band, distance_from_m,
        distance_to_m, days_from, days_to, observed, expected_mean,
        expected_median, ratio, p_value.
        """
        if which is not None:
            if which not in ("observed", "expected_mean", "expected_median", "ratio", "p_value"):
                raise ValueError(f"unknown table {which!r}")
            return self._table(getattr(self, which))
        rows = []
        se, te = self.spatial_edges(), self.temporal_edges()
        for i, sl in enumerate(self.spatial_labels):
            for j, tl in enumerate(self.temporal_labels):
                rows.append(
                    {
                        "spatial_band": sl,
                        "temporal_band": tl,
                        "distance_from_m": se[i][0],
                        "distance_to_m": se[i][1],
                        "days_from": te[j][0],
                        "days_to": te[j][1],
                        "observed": int(self.observed[i, j]),
                        "expected_mean": float(self.expected_mean[i, j]),
                        "expected_median": float(self.expected_median[i, j]),
                        "ratio": float(self.ratio[i, j]),
                        "p_value": float(self.p_value[i, j]),
                    }
                )
        return pd.DataFrame(rows)

    # ------------------------------------------------------------ interpretation
    def significant(self, alpha: float = 0.05) -> np.ndarray:
        """Cells with p <= alpha and observed above expectation."""
        return (self.p_value <= alpha) & (self.ratio > 1.0)

    def extent(self, alpha: float = 0.05, rule: str = "significant") -> tuple[float | None, float | None]:
        """Near-repeat extent (metres, days), or (None, None) when there is none.

        A cell counts when it is over-represented: p <= alpha and ratio > 1
        (``rule="significant"``), and in addition, for ``rule="core"``, its
        excess (ratio - 1) is at least half the largest excess among the
        spatial bands beyond the same location (a half-maximum rule that keeps
        the core of the pattern and drops the weak tail that chains of near
        repeats produce further out).

        Spatial extent: the upper edge of the farthest spatial band (excluding
        "Same location") such that it and every nearer band count in the first
        temporal band. Temporal extent: the upper edge of the longest run of
        counting temporal bands, starting at the first, over those spatial bands.
        """
        if rule not in ("significant", "core"):
            raise ValueError(f"rule must be 'significant' or 'core', got {rule!r}")
        sig = self.significant(alpha)
        if rule == "core":
            close = self.ratio[1 : self.n_spatial_bands + 1, : self.n_temporal_bands]
            finite = close[np.isfinite(close)]
            if finite.size == 0:
                return None, None
            half = 1.0 + 0.5 * (finite.max() - 1.0)
            with np.errstate(invalid="ignore"):
                sig = sig & (np.nan_to_num(self.ratio, nan=0.0) >= half)
        s_ext = 0
        for k in range(1, self.n_spatial_bands + 1):
            if sig[k, 0]:
                s_ext = k
            else:
                break
        if s_ext == 0:
            return None, None
        t_ext = 0
        for k in range(1, s_ext + 1):
            run = 0
            for j in range(self.n_temporal_bands):
                if sig[k, j]:
                    run = j + 1
                else:
                    break
            t_ext = max(t_ext, run)
        return s_ext * self.spatial_bandwidth_m, t_ext * self.temporal_bandwidth_days

    def _run_days(self, row: int, alpha: float) -> int:
        sig = self.significant(alpha)
        run = 0
        for j in range(self.n_temporal_bands):
            if sig[row, j]:
                run = j + 1
            else:
                break
        return run

    def summary(self, alpha: float = 0.05) -> str:
        """Plain-English reading of the table for analysts."""
        crime = self.crime_label
        tw = self.temporal_bandwidth_days
        distance = "straight-line distances" if self.metric == "euclidean" else "distances along a street grid"
        bands = (
            "each band holds what its label says"
            if self.convention == "closed"
            else "bands counted as the Near Repeat Calculator counts them"
        )
        lines = [
            f"Knox test on {self.n_events:,} {crime} events: the dates were shuffled {self.permutations:,} times "
            f"(seed {self.seed}) to see which pairs close in space and time are more than chance, "
            f"{distance}, {bands}; a finding counts when chance alone gives it at most {alpha:.0%} of the time "
            f"(p <= {alpha:g})."
        ]
        if self.permutations and 1.0 / (self.permutations + 1) > alpha:
            lines.append(
                f"Note: with {self.permutations} permutations the smallest possible p-value is "
                f"{1 / (self.permutations + 1):.3f}, above {alpha:g}; use more permutations."
            )
        found = False
        for i in range(self.n_spatial_bands + 1):
            run = self._run_days(i, alpha)
            if run == 0:
                continue
            found = True
            sel = slice(0, run)
            obs = self.observed[i, sel].sum()
            exp = self.expected_mean[i, sel].sum()
            pct = 100.0 * (obs / exp - 1.0) if exp > 0 else math.inf
            place = (
                "at the same location (repeat victimisation)"
                if i == 0
                else f"within {self.spatial_labels[i]}".replace(" to ", "-")
            )
            if self.convention == "nrc" and i > 0:
                place += " m"
            lines.append(
                f"{place[0].upper() + place[1:]}, {crime} is over-represented for up to "
                f"{_fmt(run * tw)} {self.time_unit}: about {pct:.0f}% more than expected "
                f"({obs:,} pairs observed, {exp:,.1f} expected)."
            )
        if not found:
            lines.append(
                "No space-time cell is significantly over-represented: no near-repeat pattern "
                "was detected at these bands."
            )
        else:
            ncells = (self.n_spatial_bands + 1) * self.n_temporal_bands
            lines.append(
                f"Caution: {ncells} cells are tested, so about {ncells * alpha:.1f} could reach "
                f"p <= {alpha:g} by chance; trust cells that join up with the rest of the pattern, "
                "not isolated ones."
            )
            d, t = self.extent(alpha)
            if d is not None and t is not None:
                lines.append(
                    f"Significant over-representation reaches about {_fmt(d)} m and {_fmt(t)} "
                    f"{self.time_unit} after an event."
                )
                cd, ct = self.extent(alpha, rule="core")
                if cd is not None and ct is not None and (cd, ct) != (d, t):
                    lines.append(
                        f"Core of the pattern (at least half the strongest excess): about {_fmt(cd)} m "
                        f"and {_fmt(ct)} {self.time_unit}."
                    )
            else:
                lines.append(
                    "Only the same location shows a significant pattern (repeat victimisation); "
                    "no near-repeat extent beyond it."
                )
        return "\n".join(lines)

    # ------------------------------------------------------------ writers
    def to_csv(self, path: str | Path) -> Path:
        """Write the long table (one row per cell) as CSV."""
        return write_csv(self.to_frame(), path)


def close_pairs(x: np.ndarray, y: np.ndarray, radius_m: float, metric: str = "euclidean"):
    """Pairs (i < j) within ``radius_m`` metres and their distances.

    Uses a k-d tree; memory grows with the number of close pairs. Returns
    (i, j, d) with d computed as sqrt(dx^2+dy^2) (euclidean) or |dx|+|dy| (manhattan).
    """
    pts = np.column_stack([x, y])
    p = 2 if metric == "euclidean" else 1
    tree = cKDTree(pts)
    pr = tree.query_pairs(radius_m * (1 + 1e-9) + 1e-9, p=p, output_type="ndarray")
    if pr.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    i = pr[:, 0].astype(np.int64)
    j = pr[:, 1].astype(np.int64)
    dx = x[i] - x[j]
    dy = y[i] - y[j]
    d = np.hypot(dx, dy) if metric == "euclidean" else np.abs(dx) + np.abs(dy)
    return i, j, d


def _validate(
    x,
    y,
    t,
    spatial_bandwidth_m,
    n_spatial_bands,
    temporal_bandwidth_days,
    n_temporal_bands,
    metric,
    convention,
    permutations,
):
    x = kernel_array(x, np.float64)
    y = kernel_array(y, np.float64)
    t = kernel_array(t, np.float64)
    if not (x.shape == y.shape == t.shape) or x.ndim != 1:
        raise InputError(f"x, y and t must be 1-D arrays of equal length; got shapes {x.shape}, {y.shape}, {t.shape}.")
    bad = ~(np.isfinite(x) & np.isfinite(y) & np.isfinite(t))
    if bad.any():
        raise InputError(
            f"{int(bad.sum())} event(s) have missing or non-finite x/y/time (first at position "
            f"{int(np.argmax(bad))}); drop or fix them before the Knox test."
        )
    if len(x) < 3:
        raise InputError(f"the Knox test needs at least 3 events, got {len(x)}.")
    if spatial_bandwidth_m <= 0 or temporal_bandwidth_days <= 0:
        raise InputError("spatial_bandwidth_m (metres) and temporal_bandwidth_days (days) must be positive.")
    if n_spatial_bands < 1 or n_temporal_bands < 1:
        raise InputError("n_spatial_bands and n_temporal_bands must be at least 1.")
    if metric not in METRICS:
        raise InputError(f"metric must be one of {METRICS}, got {metric!r}.")
    if convention not in CONVENTIONS:
        raise InputError(f"convention must be one of {CONVENTIONS}, got {convention!r}.")
    if permutations < 0:
        raise InputError(f"permutations must be >= 0, got {permutations}.")
    return x, y, t


def knox_test(
    x,
    y,
    t,
    *,
    spatial_bandwidth_m: float = 100.0,
    n_spatial_bands: int = 5,
    temporal_bandwidth_days: float = 7.0,
    n_temporal_bands: int = 4,
    metric: str = "euclidean",
    permutations: int = 999,
    seed: int = 0,
    convention: str = "closed",
    same_location_tol_m: float = 0.0,
    keep_sims: bool = False,
    crime_label: str = "burglary",
    time_unit: str = "days",
) -> KnoxResult:
    """Banded Knox test (see the module docstring for the band conventions).

    Parameters
    ----------
    x, y : coordinates in metres (any projected CRS; the working CRS in the engine).
    t : event times in days (floats; whole days for day-precision data).
    spatial_bandwidth_m, n_spatial_bands : width (metres) and number of spatial bands.
    temporal_bandwidth_days, n_temporal_bands : width (days) and number of temporal bands.
    metric : "euclidean" or "manhattan".
    permutations : Monte Carlo permutations of the times (seeded by ``seed``).
    convention : "closed" (default) or "nrc" (Near Repeat Calculator 1.3 counting).
    same_location_tol_m : distance (metres) at or below which a pair is "Same location".
    time_unit : name of the unit of ``t`` used in labels ("days"; "months" for month numbers).
    """
    x, y, t = _validate(
        x,
        y,
        t,
        spatial_bandwidth_m,
        n_spatial_bands,
        temporal_bandwidth_days,
        n_temporal_bands,
        metric,
        convention,
        permutations,
    )
    closed = convention == "closed"
    n = len(x)
    S, T = int(n_spatial_bands), int(n_temporal_bands)
    sedges = np.arange(1, S + 1, dtype=np.float64) * float(spatial_bandwidth_m)
    tedges = np.arange(1, T + 1, dtype=np.float64) * float(temporal_bandwidth_days)

    pi, pj, d = close_pairs(x, y, sedges[-1], metric)
    same = d <= same_location_tol_m
    # closed: band k holds (e_{k-1}, e_k]; otherwise [e_{k-1}, e_k)
    band = np.searchsorted(sedges, d, side="left" if closed else "right") + 1
    band[same] = 0
    keep = band <= S
    pi, pj, band = pi[keep], pj[keep], band[keep]
    order = np.lexsort((pj, pi))
    pi = kernel_array(pi[order], np.int32)  # int32 keeps the pair arrays small in the permutation loop
    pj = kernel_array(pj[order], np.int32)
    ncols = T + 1
    cell = kernel_array(band[order] * ncols, np.int32)
    ncells = (S + 1) * ncols
    whole_days = bool(np.all(t == np.round(t))) and (t.max() - t.min()) < 2**31
    if whole_days:  # temporal bands from a look-up table of whole-day differences
        cap = int(math.ceil(tedges[-1])) + 1
        lut = np.array([K.band_index(float(v), tedges, closed) for v in range(cap + 1)], dtype=np.int64)
    else:
        lut = np.zeros(0, dtype=np.int64)
    obs_flat, sims_flat = K.knox_counts(
        pi, pj, cell, t, tedges, bool(closed), lut, int(ncells), int(permutations), int(seed)
    )
    obs_close = obs_flat.reshape(S + 1, ncols)
    sims_close = sims_flat.reshape(-1, S + 1, ncols)
    # totals of all pairs per temporal band (invariant under permutation)
    ts = np.sort(t)
    cum = K.pairs_within_time(ts, tedges, closed)
    total_pairs = n * (n - 1) // 2
    col_tot = np.diff(np.concatenate([[0], cum, [total_pairs]])).astype(np.int64)

    obs = np.zeros((S + 2, T + 1), dtype=np.int64)
    obs[: S + 1] = obs_close
    obs[S + 1] = col_tot - obs_close.sum(axis=0)
    if permutations > 0:
        sims = np.zeros((permutations, S + 2, T + 1), dtype=np.int64)
        sims[:, : S + 1] = sims_close
        sims[:, S + 1] = col_tot[None, :] - sims_close.sum(axis=1)
        exp_mean = sims.mean(axis=0)
        exp_med = np.median(sims, axis=0)
        ge = (sims >= obs[None]).sum(axis=0)
        p = (1.0 + ge) / (permutations + 1.0)
    else:
        sims = None
        exp_mean = np.full(obs.shape, np.nan)
        exp_med = np.full(obs.shape, np.nan)
        p = np.full(obs.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(exp_mean > 0, obs / exp_mean, np.nan)
    return KnoxResult(
        observed=obs,
        expected_mean=exp_mean,
        expected_median=exp_med,
        ratio=ratio,
        p_value=p,
        spatial_labels=tuple(spatial_band_labels(spatial_bandwidth_m, S, convention)),
        temporal_labels=tuple(temporal_band_labels(temporal_bandwidth_days, T, convention, time_unit)),
        spatial_bandwidth_m=float(spatial_bandwidth_m),
        n_spatial_bands=S,
        temporal_bandwidth_days=float(temporal_bandwidth_days),
        n_temporal_bands=T,
        metric=metric,
        convention=convention,
        permutations=int(permutations),
        seed=int(seed),
        n_events=n,
        n_close_pairs=int(len(pi)),
        same_location_tol_m=float(same_location_tol_m),
        crime_label=crime_label,
        time_unit=time_unit,
        sims=sims if keep_sims else None,
    )


def incident_days(incidents: pd.DataFrame, timezone: str | None = None) -> np.ndarray:
    """Event times in whole days for the near-repeat analyses.

    The local calendar day (in ``timezone``, default Europe/London; the
    stages pass ``[project] timezone``) of the midpoint of each
    incident's [start, end] window, as days since 1970-01-01. Whole days make
    the bands read as analysts expect ("0-7 days" = up to 7 calendar days
    apart) and match the Near Repeat Calculator, which works on dates. For
    day-precision records (start at midnight, end before the next midnight)
    this is the recorded day.
    """
    start = wall_clock(incidents["start"], timezone)
    end = wall_clock(incidents["end"], timezone)
    return day_numbers(start + (end - start) / 2)


def month_numbers(incidents: pd.DataFrame, timezone: str | None = None) -> np.ndarray:
    """Calendar month of each incident's start (local time in ``timezone``) as year * 12 + month - 1."""
    local = wall_clock(incidents["start"], timezone)
    return (local.dt.year * 12 + local.dt.month - 1).to_numpy(dtype=float)


def knox_for_incidents(
    incidents: pd.DataFrame, months: bool = False, timezone: str | None = None, **kwargs: Any
) -> KnoxResult:
    """Banded Knox test on an Incidents GeoDataFrame (a projected CRS in metres).

    Day bands (default) need day- or minute-precision dates: month-precision
    data (police.uk) are refused with a :class:`~hotspots.errors.PrecisionError`,
    because pairs a few days apart cannot be told from pairs a month apart.
    ``months=True`` runs the test on calendar-month numbers instead, which any
    precision supports; ``temporal_bandwidth_days`` then counts months (e.g. 1).
    Days (or months) are local calendar days in ``timezone`` (default
    Europe/London). Other keyword arguments go to :func:`knox_test`.
    """
    require_points(incidents, "knox: incidents", ("x", "y", "start", "end"))
    require_same_crs(("knox: incidents", incidents))
    if months:
        kwargs.setdefault("temporal_bandwidth_days", 1.0)
        kwargs.setdefault("n_temporal_bands", 3)
        return knox_test(
            incidents["x"].to_numpy(float),
            incidents["y"].to_numpy(float),
            month_numbers(incidents, timezone),
            time_unit="months",
            **kwargs,
        )
    require_precision(
        incidents,
        "day",
        "The Knox near-repeat test with day bands",
        "Day bands cannot be measured on dates known only to the month. What would work: the force's own "
        "crime extract with committed dates (day or minute precision), or a month-scale test with bands of "
        "whole months (knox_for_incidents(..., months=True)).",
    )
    t = incident_days(incidents, timezone)
    return knox_test(incidents["x"].to_numpy(float), incidents["y"].to_numpy(float), t, **kwargs)
