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
2. **High periods**: a place's count is *high* in period ``t`` when it is at
   or above ``h_t = max(min_high_count, the (1 - high_share) quantile of all
   places' counts in period t)`` (defaults: top 5% of places, and at least 3
   incidents).
3. **Trajectory class of each place, from its own counts**
   (:func:`classify_places`). Every place is measured against the whole
   area: with no change of its own, a place keeps the same share of the
   borough's crimes ``B_t`` in every period, so a borough-wide fall does not
   make every place "falling". Two tests, conditional on the place's total
   ``N`` (so its level does not matter):

   - **trend** (:func:`trend_test`): a Poisson log-linear model, count in
     period ``t`` with mean ``a * B_t * exp(slope * t)``; given ``N`` the
     counts are multinomial with shares proportional to ``B_t exp(slope t)``
     (the model of a Poisson regression with the borough total as offset;
     McCullagh & Nelder 1989, *Generalized Linear Models*, ch. 6). The
     likelihood-ratio statistic against ``slope = 0`` is referred to
     chi-squared on 1 degree of freedom;
   - **flare** (:func:`flare_test`): for each period, the exact binomial
     upper tail ``P(X >= c_t)``, ``X ~ Binomial(N, B_t / sum B)``; the peak is
     the period with the smallest, and its p-value is multiplied by the
     number of periods (Bonferroni, for choosing the peak after looking).

   Only places with at least ``min_events`` incidents (default: one per
   period on average) are tested; as both tests are conditional on ``N``,
   leaving out the quiet places does not bias them (independent filtering,
   Bourgon, Gentleman & Huber 2010, *PNAS* 107: 9546-9551). Both tests of
   every tested place form one family whose false discovery rate is held at
   ``alpha`` (default 5%) by the Benjamini-Hochberg procedure
   (:mod:`hotspots.analysis.fdr`): of the changes reported, at most about
   ``alpha`` are expected to be noise. A place *changed* when either of its
   tests is significant and it is high in at least one period. Then, in
   this order:

   - *flare-up*: the place changed, its peak period is high, at least
     ``flare_ratio`` (3) times its highest other period (counts relative to
     ``B_t``), and the other periods have no trend of their own (the trend
     test without the peak period, p >= ``alpha``): one period stands out;
   - *rising* / *falling*: the trend is significant and the fitted change over
     the periods is at least ``1 + trend_change`` (1.5) times up, or down to
     ``1 / (1 + trend_change)``;
   - *stable high*: high in more than half of the periods (whether or not it
     changed);
   - *flare-up* (intermittent): changed, but neither a single flare nor a
     clear trend, and high now and then;
   - *stable low*: otherwise (no significant change, or never high).

   **Overview groups** (:attr:`Trajectories.group`): the places with at
   least ``min_events`` incidents are also grouped by k-means on their
   standardised trajectories, as Curman, Andresen & Brantingham (2015) did
   for Vancouver street segments ("Crime and place: a longitudinal
   examination of street segment patterns in Vancouver, BC", *Journal of
   Quantitative Criminology* 31: 127-147), in the spirit of the group-based
   trajectories of Weisburd, Bushway, Lum & Yang (2004) ("Trajectories of
   crime at places", *Criminology* 42(2): 283-321):
   ``z_it = (log(1 + c_it) - mean_t) / sd_t`` over all places in period
   ``t``; k (``k_min``..``k_max``, at least 5) by the Calinski-Harabasz
   score, ``n_init=10`` starts from ``seed``. Each group's mean is named by
   :func:`name_trajectory` (the rules below). The groups describe the bulk
   of the borough; they do not give a place its class, because a handful
   of rising or flaring places among a thousand busy ones never forms a
   group of its own (on the synthetic demo borough k-means splits the
   1,342 busy cells by level only).

   :func:`name_trajectory` names a group's mean counts ``m_t``, with
   ``r_t = m_t / (borough mean per place in t)``, in this order: *stable
   low* when never high; *flare-up* when ``r`` at its peak is at least
   ``flare_ratio`` times the median of the other periods and twice the next
   highest; *rising* / *falling* when the least-squares trend of ``r`` adds
   up to a change of at least ``trend_change`` of its mean; *stable high*
   when high in more than half the periods; else *flare-up*.

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
from scipy.special import xlogy
from threadpoolctl import threadpool_limits

from ..errors import InputError
from .fdr import bh_adjust
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

    Per place (``places`` order): ``classes`` (one of :data:`CLASSES`, from
    the place's own counts), ``labels`` (chronic / acute / none), ``group``
    (k-means group, -1 for places with fewer than ``min_events`` incidents),
    ``high`` (n, T) whether each period's count reached ``high_threshold[t]``,
    ``p_value`` and ``q_value`` (Benjamini-Hochberg, NaN for untested places)
    of the change test, ``slope`` the fitted log-linear trend per period
    relative to the borough, ``peak`` the period of the flare test. Per group
    (the overview): ``group_mean`` (k, T) mean counts, ``group_class`` (the
    group's mean named by :func:`name_trajectory`), ``group_size``.
    ``k_scores`` the Calinski-Harabasz score of each k tried; ``alpha``,
    ``flare_ratio``, ``trend_change`` the settings of the class rules;
    ``method`` a plain description with the rules and settings used.
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
    p_value: npt.NDArray[np.float64]
    q_value: npt.NDArray[np.float64]
    slope: npt.NDArray[np.float64]
    peak: npt.NDArray[np.int64]
    n_tested: int
    alpha: float
    flare_ratio: float
    trend_change: float

    def to_frame(self) -> pd.DataFrame:
        """One row per place: ids, location, class, label, group, events, high periods, the change test's
        q-value (empty for places not tested), counts per period."""
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
                "q_value": np.round(self.q_value, 6),
            }
        )
        for j, lab in enumerate(s.labels):
            df[lab] = s.counts[:, j]
        df.attrs.update(
            {
                "method": self.method,
                "period": s.period,
                "period_rule": s.period_rule,
                "alpha": self.alpha,
                "flare_ratio": self.flare_ratio,
                "trend_change": self.trend_change,
            }
        )
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


# --------------------------------------------------------------------------- tests of one place's counts
#: Largest trend tried, as a factor per period: e^20 (the fit is at the bound when every incident
#: falls in the first or the last period).
_MAX_SLOPE = 20.0


@dataclass(frozen=True, eq=False)
class TrendTest:
    """Poisson log-linear trend of each place against the borough (rows: places).

    ``slope``: fitted change of the log rate per period (``exp(slope)`` is the factor per period,
    relative to the borough); ``lr``: likelihood-ratio statistic against no trend; ``p_value``:
    its chi-squared (1 degree of freedom) p-value, two-sided.
    """

    slope: npt.NDArray[np.float64]
    lr: npt.NDArray[np.float64]
    p_value: npt.NDArray[np.float64]


def _share(borough, T: int) -> np.ndarray:
    b = np.asarray(borough, dtype=float).reshape(-1)
    if b.size != T or np.any(b < 0) or not np.isfinite(b).all() or b.sum() <= 0:
        raise InputError(f"borough totals need {T} non-negative numbers, not all zero; got {b.tolist()}.")
    return b / b.sum()


def trend_test(counts, borough, exclude=None) -> TrendTest:
    """Likelihood-ratio test of a log-linear trend in each place's counts, relative to the borough.

    ``counts`` (n places, T periods) and ``borough`` (T per-period totals of the whole area). Model:
    the place's count in period t is Poisson with mean ``a * B_t * exp(slope * t)`` (``B_t`` the
    borough total, ``a`` the place's own level), so a place that falls as fast as the borough has
    no trend. Conditional on the place's total N the counts are multinomial with shares
    proportional to ``B_t exp(slope t)``: the level drops out and the fit is one equation in the
    slope (solved by bisection). The statistic ``2 (log L(slope) - log L(0))`` is compared with
    chi-squared on 1 degree of freedom. ``exclude`` (n,) optional: one period index per place to
    leave out (its count and its borough total), e.g. the peak period.
    """
    C = np.atleast_2d(np.asarray(counts, dtype=float))
    n, T = C.shape
    share = _share(borough, T)
    w = np.broadcast_to(share, (n, T)).copy()
    if exclude is not None:
        ex = np.asarray(exclude, dtype=np.int64).reshape(-1)
        w[np.arange(n), ex] = 0.0
        C = C.copy()
        C[np.arange(n), ex] = 0.0
    with np.errstate(divide="ignore"):
        logw = np.log(w)
    t = np.arange(T, dtype=float) - (T - 1) / 2.0  # centred: the slope is the same, the sums stay small
    N = C.sum(axis=1)
    S = C @ t

    def shares(b: np.ndarray) -> np.ndarray:
        z = logw + b[:, None] * t[None, :]
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    lo = np.full(n, -_MAX_SLOPE)
    hi = np.full(n, _MAX_SLOPE)
    for _ in range(100):  # N * E_b[t] rises with b: bisection to well below 1e-12
        mid = (lo + hi) / 2.0
        up = N * (shares(mid) @ t) < S
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    b = (lo + hi) / 2.0
    testable = (N > 0) & ((w > 0).sum(axis=1) >= 2)
    b = np.where(testable, b, 0.0)
    p1 = shares(b)
    p0 = w / np.where(w.sum(axis=1, keepdims=True) > 0, w.sum(axis=1, keepdims=True), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = 2.0 * (xlogy(C, p1) - xlogy(C, p0)).sum(axis=1)
    lr = np.where(testable, np.maximum(np.nan_to_num(lr), 0.0), 0.0)
    from scipy import stats  # imported when needed: scipy.stats costs most of a second

    return TrendTest(slope=b, lr=lr, p_value=stats.chi2.sf(lr, 1))


@dataclass(frozen=True, eq=False)
class FlareTest:
    """One period of each place above its other periods (rows: places).

    ``peak``: the period with the smallest p-value; ``ratio``: the place's rate in the peak period
    over its highest rate in any other period, both relative to the borough (``count / B_t``; inf
    when every other period is empty); ``p_value``: the exact
    binomial upper-tail p-value of the peak count, times the number of periods (Bonferroni, for
    choosing the peak after looking), capped at 1.
    """

    peak: npt.NDArray[np.int64]
    ratio: npt.NDArray[np.float64]
    p_value: npt.NDArray[np.float64]


def flare_test(counts, borough) -> FlareTest:
    """Exact test of one period standing out above a place's other periods, relative to the borough.

    With no change relative to the borough, a place's count in period t out of its N incidents is
    binomial with probability ``pi_t = B_t / sum(B)``. For each period the upper tail
    ``P(X >= c_t)`` is taken; the peak is the period with the smallest, and its p-value is
    multiplied by the T periods (Bonferroni).
    """
    C = np.atleast_2d(np.asarray(counts, dtype=np.int64))
    n, T = C.shape
    share = _share(borough, T)
    N = C.sum(axis=1)
    tail = np.ones((n, T))
    pos = share > 0
    from scipy import stats  # imported when needed: scipy.stats costs most of a second

    tail[:, pos] = stats.binom.sf(C[:, pos] - 1, N[:, None], share[None, pos])
    peak = np.argmin(tail, axis=1)  # ties: the first
    p = np.minimum(1.0, T * tail[np.arange(n), peak])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(pos[None, :], C / np.where(pos, share, 1.0)[None, :], 0.0)  # count / borough share
        top = rel[np.arange(n), peak]
        rel[np.arange(n), peak] = -1.0
        second = rel.max(axis=1) if T > 1 else np.zeros(n)
        ratio = np.where(second > 0, top / np.where(second > 0, second, 1.0), np.inf)
    ratio = np.where(N > 0, ratio, 1.0)
    return FlareTest(peak=peak.astype(np.int64), ratio=ratio, p_value=np.where(N > 0, p, 1.0))


def classify_places(
    counts,
    borough,
    high,
    tested,
    alpha: float = 0.05,
    flare_ratio: float = 3.0,
    trend_change: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, TrendTest, FlareTest]:
    """Class of every place from its own counts (the rules in the module docstring, step 3).

    ``counts`` (n, T), ``borough`` (T) per-period totals, ``high`` (n, T) whether each count is
    high, ``tested`` (n) the places tested (the others cannot be rising, falling or flare-up).
    Returns ``(classes, p_value, q_value, trend, flare)``: per place the smaller of its two
    p-values (trend, flare) and of their Benjamini-Hochberg q-values, adjusted over the one family
    of both tests of every tested place (NaN for the others).
    """
    C = np.atleast_2d(np.asarray(counts, dtype=np.int64))
    n, T = C.shape
    hi = np.asarray(high, dtype=bool).reshape(n, T)
    tested = np.asarray(tested, dtype=bool).reshape(n)
    trend = trend_test(C, borough)
    flare = flare_test(C, borough)
    q_trend = np.full(n, np.nan)
    q_flare = np.full(n, np.nan)
    if tested.any():  # one family: both tests of every tested place
        qq = bh_adjust(np.concatenate([trend.p_value[tested], flare.p_value[tested]]))
        q_trend[tested], q_flare[tested] = np.split(qq, 2)
    ever_high = hi.any(axis=1)
    sig_trend = tested & (q_trend < alpha) & ever_high
    sig_flare = tested & (q_flare < alpha) & ever_high
    changed = sig_trend | sig_flare
    # a flare: the peak is high, well above the other periods, and the rest has no trend of its own
    rest = trend_test(C, borough, exclude=flare.peak)
    flare_like = changed & hi[np.arange(n), flare.peak] & (flare.ratio >= flare_ratio) & (rest.p_value >= alpha)
    steep = np.abs(trend.slope) * (T - 1) >= np.log1p(trend_change)
    trending = sig_trend & ~flare_like & steep
    stable_high = hi.sum(axis=1) * 2 > T
    classes = np.full(n, "stable low", dtype=object)
    classes[stable_high] = "stable high"
    # significant but neither a clear trend nor a single flare: high now and then (intermittent)
    classes[changed & ~stable_high] = "flare-up"
    classes[flare_like] = "flare-up"
    classes[trending & (trend.slope > 0)] = "rising"
    classes[trending & (trend.slope < 0)] = "falling"
    p = np.minimum(trend.p_value, flare.p_value)
    q = np.where(tested, np.fmin(q_trend, q_flare), np.nan)
    return classes, p, q, trend, flare


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
    alpha: float = 0.05,
) -> Trajectories:
    """Trajectory class, chronic/acute label and overview group of every place.

    Parameters (see the module docstring for the method)
    ----------
    series : PlaceSeries
        From :func:`place_series`.
    seed : int
        Random state of k-means; same data and seed give the same result.
    min_events : int, optional
        Fewest incidents over all periods for a place to be clustered and
        tested (default: the number of periods); places below it are *stable
        low* (or *stable high*, when high in more than half the periods).
    k_min, k_max : int
        Fewest and most groups tried (chosen by the Calinski-Harabasz score);
        ``k_min`` defaults to the number of classes, so that no two shapes
        have to share a group (groups with the same name are one class anyway).
    high_share, min_high_count : a count is *high* in a period when it is at or
        above both the top ``high_share`` of places' counts and ``min_high_count``.
    recent_periods : int
        How many of the latest periods count as "recent" for *acute*.
    flare_ratio, trend_change : smallest effects: a flare's peak at least
        ``flare_ratio`` times the place's other periods, a trend a change of at
        least ``trend_change`` (0.5: 1.5 times up, or down to 1/1.5) over the periods.
    alpha : float
        False discovery rate (Benjamini-Hochberg) of the change test across places.
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
    if not 0 < alpha < 1:
        raise InputError(f"alpha (the false discovery rate) must be between 0 and 1, got {alpha}.")
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
        from sklearn.cluster import KMeans  # imported when needed: scikit-learn costs about half a second
        from sklearn.metrics import calinski_harabasz_score

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
    tested = C.sum(axis=1) >= max(min_ev, 1)
    if n and C.sum() > 0:
        classes, p_value, q_value, trend, flare = classify_places(
            C, C.sum(axis=0), high, tested, alpha, flare_ratio, trend_change
        )
        slope, peak = trend.slope, flare.peak
    else:
        classes = np.where(high.sum(axis=1) * 2 > T, "stable high", "stable low").astype(object)
        p_value, q_value = np.ones(n), np.full(n, np.nan)
        slope, peak = np.zeros(n), np.zeros(n, dtype=np.int64)
        tested = np.zeros(n, dtype=bool)
    chronic = high.sum(axis=1) * 2 > T
    acute = ~chronic & high[:, T - recent_periods :].any(axis=1)
    labels = np.where(chronic, "chronic", np.where(acute, "acute", "none")).astype(object)
    rule_words = f"{series.period}s as set" if series.period_rule == "given" else series.period_rule
    method = (
        f"Each place with at least {min_ev} crimes over {T} {series.period}s ({rule_words}; "
        f"{int(tested.sum()):,} places) is tested for a change against the whole area's crimes in each "
        f"{series.period}: a steady rise or fall (Poisson log-linear trend, likelihood-ratio test) and one "
        f"{series.period} far above its others (exact binomial test), with at most {alpha:.0%} false "
        f"findings across places (Benjamini-Hochberg). Rising or falling: a significant trend of at least "
        f"{1 + trend_change:g} times over the {series.period}s; flare-up: one {series.period} at least "
        f"{flare_ratio:g} times the others and no trend in the rest, or high now and then; stable high: "
        f"high in more than half the {series.period}s; else stable low. High in a {series.period}: at "
        f"least the top {high_share:.0%} of places' counts and at least {min_high_count}. Chronic: high "
        f"in more than half the {series.period}s; acute: not chronic and high in the last "
        f"{recent_periods} {series.period}(s). Overview groups: k-means (Curman et al. 2015) on "
        f"standardised log counts, k = {uniq.size} by the Calinski-Harabasz score, seed {seed}."
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
        p_value=p_value,
        q_value=q_value,
        slope=slope,
        peak=peak,
        n_tested=int(tested.sum()),
        alpha=float(alpha),
        flare_ratio=float(flare_ratio),
        trend_change=float(trend_change),
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
