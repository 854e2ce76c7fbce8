"""Stability of places over the years: chronic, acute and emerging places.

What it answers: *which places stay hot year after year (chronic: for
problem-solving), which flared up recently (acute: for patrol), which are rising
and which are cooling?*

Method
------
1. **Counts per place per period** (:func:`place_series`): calendar years, or
   half-years when the data hold fewer than five whole years
   (``period="auto"``, the choice is stated in the result); only whole periods
   (:mod:`hotspots.analysis.periods`), every place included.
2. **Trajectory groups** (:func:`place_trajectories`): k-means clustering of
   the places' trajectories, as Curman, Andresen & Brantingham (2015) did for
   Vancouver street segments ("Crime and place: a longitudinal examination of
   street segment patterns in Vancouver, BC", *Journal of Quantitative
   Criminology* 31: 127-147), in the spirit of the group-based trajectories of
   Weisburd, Bushway, Lum & Yang (2004) ("Trajectories of crime at places",
   *Criminology* 42(2): 283-321). Each place's counts are put on a common
   scale period by period: ``z_it = (log(1 + c_it) - mean_t) / sd_t`` with the
   mean and standard deviation over all places in period ``t``, so a place is
   measured against the borough in the same period (a borough-wide fall does
   not make every place "falling") and a few very busy places do not dominate.
   Only places with at least ``min_events`` incidents over all periods
   (default: one per period on average) have a trajectory to cluster; the
   rest are *stable low*. The number of groups k (``k_min``..``k_max``) is
   the one with the highest Calinski-Harabasz score, the criterion of the
   longitudinal k-means (kml) Curman et al. used, but at least ``k_min``
   (default 5, one per class: no two shapes are forced into one group, and
   groups that get the same name are one class anyway); k-means uses ``n_init=10``
   starts from ``seed``, so the same data and seed give the same groups.
3. **Naming the groups** from each group's mean counts ``m_t``, read against
   the borough: a period is *high* for a count at or above
   ``h_t = max(min_high_count, the (1 - high_share) quantile of all places'
   counts in period t)`` (defaults: top 5% of places, and at least 3
   incidents); ``r_t = m_t / (borough mean per place in t)`` is the group's
   level relative to the borough. In this order:

   - *stable low*: the group mean is never high;
   - *flare-up*: one period stands out: ``r`` at its peak is at least
     ``flare_ratio`` (3) times the median of the other periods and at least
     twice the next-highest period;
   - *rising* / *falling*: the least-squares trend of ``r`` over the periods
     adds up to a change of at least ``trend_change`` (50%) of its mean, up
     or down;
   - *stable high*: high in more than half of the periods;
   - otherwise *flare-up* (intermittent: high now and then, no trend).

4. **Chronic / acute label of each place** (its own counts, not its group's):
   *chronic* when the place is high in more than half of the periods;
   *acute* when it is not chronic but is high in at least one of the last
   ``recent_periods`` periods (default the latest one): a recent flare;
   *none* otherwise. A tasking item covering several places takes
   :func:`area_stability`.

:func:`plant_trajectories` writes events with known trajectories into
background noise, for tests and the synthetic demo borough.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score
from threadpoolctl import threadpool_limits

from ..errors import InputError
from .periods import period_bins
from .places import Places

CLASSES = ("stable high", "rising", "falling", "flare-up", "stable low")
LABELS = ("chronic", "acute", "none")
MIN_PERIODS = 5


# --------------------------------------------------------------------------- counts per period
@dataclass(frozen=True, eq=False)
class PlaceSeries:
    """Incident counts per place (rows, in ``places`` order) and period (columns).

    ``labels`` name the periods (oldest first), ``period`` is ``year`` or
    ``half-year`` (``period_rule`` says how it was chosen); ``n_unplaced``
    incidents fell at no place and ``n_set_aside`` in partial periods.
    """

    counts: npt.NDArray[np.int64]
    labels: tuple[str, ...]
    period: str
    period_rule: str
    places: Places
    n_unplaced: int
    n_set_aside: int
    notes: tuple[str, ...] = ()

    @property
    def n_periods(self) -> int:
        return len(self.labels)


def place_series(incidents: pd.DataFrame, places: Places, period: str = "auto", min_periods: int = 3) -> PlaceSeries:
    """Counts of ``incidents`` per place and whole calendar period.

    ``period`` is ``year``, ``half-year`` or ``auto`` (years when the data hold
    at least five whole years, else half-years). Fewer than ``min_periods``
    periods is an :class:`InputError`; fewer than five gets a note.
    """
    for col in ("x", "y", "start", "end"):
        if col not in incidents.columns:
            raise InputError(f"incidents need a {col!r} column; columns: {list(incidents.columns)}.")
    if period == "auto":
        bins = period_bins(incidents, "year")
        rule = f"auto: {bins.n} whole years"
        if bins.n < MIN_PERIODS:
            bins = period_bins(incidents, "half-year")
            rule = f"auto: fewer than {MIN_PERIODS} whole years, so {bins.n} half-years"
    elif period in ("year", "half-year"):
        bins = period_bins(incidents, period)
        rule = "given"
    else:
        raise InputError(f"period must be 'year', 'half-year' or 'auto', got {period!r}.")
    if bins.n < min_periods:
        raise InputError(
            f"the incidents cover {bins.n} whole {bins.period}(s); trajectories need at least "
            f"{min_periods} (five or more is better): give a longer history or period='half-year'."
        )
    where = places.locate(incidents["x"].to_numpy(float), incidents["y"].to_numpy(float))
    ok = (where >= 0) & (bins.index >= 0)
    counts = np.zeros((places.n, bins.n), dtype=np.int64)
    np.add.at(counts, (where[ok], bins.index[ok]), 1)
    notes = []
    if bins.n < MIN_PERIODS:
        notes.append(f"only {bins.n} periods: trajectory classes are less certain than with five or more.")
    return PlaceSeries(
        counts=counts,
        labels=bins.labels,
        period=bins.period,
        period_rule=rule,
        places=places,
        n_unplaced=int(((where < 0) & (bins.index >= 0)).sum()),
        n_set_aside=bins.n_set_aside,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- classes
@dataclass(frozen=True, eq=False)
class Trajectories:
    """Trajectory class and chronic/acute label of every place.

    Per place (``places`` order): ``classes`` (one of :data:`CLASSES`),
    ``labels`` (chronic / acute / none), ``group`` (k-means group, -1 for places
    with fewer than ``min_events`` incidents), ``high`` (n, T) whether each
    period's count reached ``high_threshold[t]``. Per group:
    ``group_mean`` (k, T) mean counts, ``group_class``, ``group_size``.
    ``k_scores`` the Calinski-Harabasz score of each k tried; ``method`` a
    plain description with the rules and parameters used.
    """

    series: PlaceSeries
    classes: npt.NDArray[np.object_]
    labels: npt.NDArray[np.object_]
    group: npt.NDArray[np.int64]
    high: npt.NDArray[np.bool_]
    high_threshold: npt.NDArray[np.float64]
    group_mean: npt.NDArray[np.float64]
    group_class: tuple[str, ...]
    group_size: npt.NDArray[np.int64]
    k: int
    k_scores: dict[int, float]
    min_events: int
    seed: int
    method: str

    def to_frame(self) -> pd.DataFrame:
        """One row per place: ids, location, class, label, group, events, high periods, counts per period."""
        s = self.series
        df = pd.DataFrame(
            {
                "place_id": s.places.ids,
                "x": s.places.x,
                "y": s.places.y,
                "trajectory": self.classes,
                "stability": self.labels,
                "group": self.group,
                "events": s.counts.sum(axis=1),
                "high_periods": self.high.sum(axis=1),
            }
        )
        for j, lab in enumerate(s.labels):
            df[lab] = s.counts[:, j]
        df.attrs.update({"method": self.method, "period": s.period, "period_rule": s.period_rule})
        return df

    def group_frame(self) -> pd.DataFrame:
        """One row per group: its class, size and mean count per period."""
        df = pd.DataFrame(self.group_mean, columns=list(self.series.labels))
        df.insert(0, "places", self.group_size)
        df.insert(0, "trajectory", list(self.group_class))
        df.insert(0, "group", np.arange(self.k))
        return df


def _high_threshold(counts: np.ndarray, high_share: float, min_high_count: int) -> np.ndarray:
    q = np.quantile(counts, 1.0 - high_share, axis=0, method="higher") if counts.shape[0] else np.zeros(0)
    return np.maximum(float(min_high_count), q.astype(float))


def name_trajectory(
    mean_counts, borough_mean, high_threshold, flare_ratio: float = 3.0, trend_change: float = 0.5
) -> str:
    """Class of one mean trajectory (counts per period) by the rules in the module docstring."""
    m = np.asarray(mean_counts, dtype=float)
    T = m.size
    if not np.any(m >= high_threshold):
        return "stable low"
    r = np.divide(m, borough_mean, out=np.zeros(T), where=np.asarray(borough_mean) > 0)
    p = int(np.argmax(r))
    others = np.delete(r, p)
    second = float(others.max()) if others.size else 0.0
    if r[p] >= flare_ratio * float(np.median(others)) and r[p] >= 2.0 * second:
        return "flare-up"
    t = np.arange(T, dtype=float)
    slope = np.polyfit(t, r, 1)[0] if T > 1 else 0.0
    change = slope * (T - 1) / r.mean() if r.mean() > 0 else 0.0
    if change >= trend_change:
        return "rising"
    if change <= -trend_change:
        return "falling"
    if np.sum(m >= high_threshold) * 2 > T:
        return "stable high"
    return "flare-up"


def place_trajectories(
    series: PlaceSeries,
    seed: int = 0,
    min_events: int | None = None,
    k_min: int = 5,
    k_max: int = 10,
    high_share: float = 0.05,
    min_high_count: int = 3,
    recent_periods: int = 1,
    flare_ratio: float = 3.0,
    trend_change: float = 0.5,
    n_threads: int = 1,
) -> Trajectories:
    """Trajectory class (k-means groups, named) and chronic/acute label of every place.

    Parameters (see the module docstring for the method)
    ----------
    series : PlaceSeries
        From :func:`place_series`.
    seed : int
        Random state of k-means; same data and seed give the same result.
    min_events : int, optional
        Fewest incidents over all periods for a place to be clustered (default:
        the number of periods); places below it are *stable low*.
    k_min, k_max : int
        Fewest and most groups tried (chosen by the Calinski-Harabasz score);
        ``k_min`` defaults to the number of classes, so that no two shapes
        have to share a group (groups with the same name are one class anyway).
    high_share, min_high_count : a count is *high* in a period when it is at or
        above both the top ``high_share`` of places' counts and ``min_high_count``.
    recent_periods : int
        How many of the latest periods count as "recent" for *acute*.
    flare_ratio, trend_change : thresholds of the naming rules.
    n_threads : int
        OpenMP threads for k-means (0 = the library default). One thread gives the
        same groups and avoids OpenMP spin-waiting, which on a busy machine can
        make k-means tens of times slower.
    """
    C = np.asarray(series.counts)
    n, T = C.shape
    if not 0 < high_share < 1:
        raise InputError(f"high_share must be between 0 and 1, got {high_share}.")
    if not 1 <= recent_periods <= T:
        raise InputError(f"recent_periods must be between 1 and the number of periods ({T}), got {recent_periods}.")
    if not 2 <= k_min <= k_max:
        raise InputError(f"need 2 <= k_min <= k_max, got k_min={k_min}, k_max={k_max}.")
    min_ev = T if min_events is None else int(min_events)
    h = _high_threshold(C, high_share, min_high_count)
    high = h[None, :] <= C
    borough = C.mean(axis=0) if n else np.zeros(T)

    active = np.nonzero(C.sum(axis=1) >= max(min_ev, 1))[0]
    group = np.full(n, -1, dtype=np.int64)
    scores: dict[int, float] = {}
    if active.size >= 3:
        L = np.log1p(C.astype(float))
        sd = L.std(axis=0)
        Z = (L[active] - L.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        distinct = np.unique(Z, axis=0).shape[0]
        best = None
        top = min(k_max, distinct - 1, active.size - 1)  # Calinski-Harabasz needs 2 <= k <= n - 1
        for k in range(max(2, min(k_min, top)), top + 1):
            with _threads(n_threads):
                km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(Z)
            scores[k] = float(calinski_harabasz_score(Z, km.labels_))
            if best is None or scores[k] > scores[best[0]]:
                best = (k, km.labels_)
        lab = best[1] if best is not None else np.zeros(active.size, dtype=np.int64)
    else:
        lab = np.arange(active.size)  # too few to cluster: each place is its own group
    # number the groups by mean events, busiest first (ties by first member), so ids are stable
    uniq = np.unique(lab)
    means = np.array([C[active[lab == g]].mean(axis=0) for g in uniq]).reshape(-1, T)
    order = sorted(range(uniq.size), key=lambda i: (-means[i].sum(), int(np.argmax(lab == uniq[i]))))
    remap = np.empty(uniq.size, dtype=np.int64)
    remap[order] = np.arange(uniq.size)
    new_lab = remap[np.searchsorted(uniq, lab)] if active.size else lab
    group[active] = new_lab
    group_mean = means[order] if uniq.size else np.zeros((0, T))
    group_class = tuple(name_trajectory(m, borough, h, flare_ratio, trend_change) for m in group_mean)
    classes = np.full(n, "stable low", dtype=object)
    if active.size:
        classes[active] = np.asarray(group_class, dtype=object)[new_lab]
    chronic = high.sum(axis=1) * 2 > T
    acute = ~chronic & high[:, T - recent_periods :].any(axis=1)
    labels = np.where(chronic, "chronic", np.where(acute, "acute", "none")).astype(object)
    method = (
        f"k-means (Curman et al. 2015) on per-period standardised log counts of the {active.size:,} places "
        f"with at least {min_ev} incidents over {T} {series.period}s ({series.period_rule}); k = "
        f"{uniq.size} by the Calinski-Harabasz score; seed {seed}. High in a period: at least the top "
        f"{high_share:.0%} of places' counts and at least {min_high_count}. Chronic: high in more than half "
        f"the periods; acute: not chronic and high in the last {recent_periods} period(s)."
    )
    return Trajectories(
        series=series,
        classes=classes,
        labels=labels,
        group=group,
        high=high,
        high_threshold=h,
        group_mean=group_mean,
        group_class=group_class,
        group_size=np.bincount(new_lab, minlength=uniq.size) if active.size else np.zeros(0, int),
        k=int(uniq.size),
        k_scores=scores,
        min_events=min_ev,
        seed=int(seed),
        method=method,
    )


def _threads(n: int) -> AbstractContextManager[object]:
    """At most ``n`` OpenMP threads inside the block (no limit for ``n`` <= 0)."""
    if n <= 0:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="openmp")


def area_stability(trajectories: Trajectories, place_index) -> tuple[str, str]:
    """Label and class for an area made of several places (e.g. a tasking item's cells).

    ``place_index``: indices (into ``places``) of the area's places. The label is
    *chronic* if any of them is chronic, else *acute* if any is acute, else
    *none*; the class is that of the place with the most incidents (ties: the
    first).
    """
    idx = np.asarray(place_index, dtype=np.int64).ravel()
    if idx.size == 0:
        raise InputError("an area needs at least one place to take a stability label from.")
    labs = set(trajectories.labels[idx].tolist())
    label = "chronic" if "chronic" in labs else "acute" if "acute" in labs else "none"
    events = trajectories.series.counts[idx].sum(axis=1)
    return label, str(trajectories.classes[idx[int(np.argmax(events))]])


# --------------------------------------------------------------------------- planted truth
PLANTED = ("stable high", "rising", "falling", "flare-up")


def planted_rates(planted_class: str, n_periods: int, background: float, high: float) -> np.ndarray:
    """Expected incidents per period of a planted place.

    stable high: ``high`` every period; rising: from ``background`` up to
    ``1.5 * high`` in a straight line; falling: the reverse; flare-up:
    ``background`` except the last period, ``2.5 * high``; stable low:
    ``background``.
    """
    u = np.linspace(0.0, 1.0, n_periods)
    if planted_class == "stable high":
        return np.full(n_periods, float(high))
    if planted_class == "rising":
        return background + (1.5 * high - background) * u
    if planted_class == "falling":
        return background + (1.5 * high - background) * u[::-1]
    if planted_class == "flare-up":
        r = np.full(n_periods, float(background))
        r[-1] = 2.5 * high
        return r
    if planted_class == "stable low":
        return np.full(n_periods, float(background))
    raise InputError(f"unknown planted class {planted_class!r}; choose from {[*PLANTED, 'stable low']}.")


@dataclass(frozen=True, eq=False)
class PlantedTrajectories:
    """Events with known trajectories: ``events`` (x, y metres, ``time`` tz-aware,
    ``site``, ``planted_class``) and ``sites`` (site, x, y, planted_class)."""

    events: pd.DataFrame
    sites: pd.DataFrame


def plant_trajectories(
    rng: np.random.Generator,
    sites_x,
    sites_y,
    period_edges,
    n_per_class: int = 10,
    background: float = 0.2,
    high: float = 6.0,
    jitter_m: float = 0.0,
    classes=PLANTED,
) -> PlantedTrajectories:
    """Plant places with known trajectories among background sites.

    ``sites_x``/``sites_y`` (metres, EPSG:27700) are candidate places (e.g. cell
    centres or snap points); ``n_per_class`` of them, drawn with ``rng``, get
    each planted class of ``classes`` (see :func:`planted_rates`), the others
    are *stable low* background at ``background`` incidents per period.
    ``period_edges`` are the T + 1 tz-aware boundaries of the periods; each
    event gets a time uniformly inside its period and a location at its site,
    moved by up to ``jitter_m`` metres on each axis. Deterministic given ``rng``.
    """
    sx = np.asarray(sites_x, dtype=float)
    sy = np.asarray(sites_y, dtype=float)
    edges = pd.DatetimeIndex(period_edges)
    T = len(edges) - 1
    if T < 1 or edges.tz is None:
        raise InputError("period_edges must be at least two tz-aware timestamps.")
    need = n_per_class * len(classes)
    if need > sx.size:
        raise InputError(f"{need} planted places asked for but only {sx.size} sites given.")
    chosen = rng.choice(sx.size, need, replace=False)
    site_class = np.full(sx.size, "stable low", dtype=object)
    for j, c in enumerate(classes):
        site_class[chosen[j * n_per_class : (j + 1) * n_per_class]] = c
    rates = np.array([planted_rates(c, T, background, high) for c in site_class]).reshape(sx.size, T)
    counts = rng.poisson(rates)
    site_idx = np.repeat(np.repeat(np.arange(sx.size), T), counts.ravel())
    per_idx = np.repeat(np.tile(np.arange(T), sx.size), counts.ravel())
    span = (edges[1:] - edges[:-1]).total_seconds().to_numpy()
    offs = rng.uniform(0.0, 1.0, site_idx.size) * span[per_idx]
    times = edges[:-1][per_idx] + pd.to_timedelta(offs, unit="s")
    jx = rng.uniform(-jitter_m, jitter_m, site_idx.size) if jitter_m > 0 else 0.0
    jy = rng.uniform(-jitter_m, jitter_m, site_idx.size) if jitter_m > 0 else 0.0
    events = pd.DataFrame(
        {
            "x": sx[site_idx] + jx,
            "y": sy[site_idx] + jy,
            "time": times,
            "site": site_idx,
            "planted_class": site_class[site_idx],
        }
    )
    sites = pd.DataFrame({"site": np.arange(sx.size), "x": sx, "y": sy, "planted_class": site_class})
    return PlantedTrajectories(events=events, sites=sites)
