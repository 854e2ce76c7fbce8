"""Rolling-origin backtest of forecast methods, with look-ahead made impossible.

For each origin date in an evaluation window every method is fitted on the
incidents known *before* the origin and scored on the incidents of the next
horizon (default 14 days; one calendar month for month-precision data such as
police.uk, chosen automatically from ``time_precision``).

Time is measured in float days since 1970-01-01 00:00 UTC. Each incident has a
time ``t`` (the midpoint of its recorded window) and a time ``t_end`` (the end
of its window). An incident is *known* at an origin when ``t_end < origin``: a
burglary discovered after a weekend away is only known once the window closes,
and a police.uk month only once the month is over. The incidents a forecast is
scored on are those with ``origin <= t < origin + horizon``.

Look-ahead guard
    Methods never see the incident table. They get a :class:`History`, which
    holds only the incidents known before the origin and raises
    :class:`~hotspots.errors.LookAheadError` on any request that reaches the
    origin or later. After ``fit`` the harness also checks what the method says
    it used (``history_end_``, the latest ``t_end`` it read) and raises if that
    is at or after the origin. Features that a method caches per origin live
    in ``History.cache``, keyed by the cut-off they were computed at, so a
    later origin can reuse them without recomputing.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._csvsafe import write_csv
from .._numba_ready import load_numba
from ..config.sections import DEFAULT_TIMEZONE
from ..errors import InputError, LookAheadError
from ..geo.grid import Grid
from ..model import coarsest_precision
from ..outfolder import enter_forked_child
from . import metrics
from .cache_key import digest, method_key, row_hashes

DAY_NS = 86400e9
DEFAULT_SHARES = (0.01, 0.05, 0.10)
#: Shares at which the capture curve (hit rate vs area) is drawn.
CURVE_SHARES = tuple(np.round(np.concatenate([np.arange(0.005, 0.05, 0.005), np.arange(0.05, 0.301, 0.01)]), 4))


# --------------------------------------------------------------------------- time
def to_days(ts) -> float:
    """A timestamp (tz-aware, or naive = UTC) as float days since 1970-01-01 UTC."""
    ts = pd.Timestamp(ts)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return float(ts.value / DAY_NS)


def series_days(s: pd.Series) -> np.ndarray:
    """Timestamps (tz-aware or naive UTC, any resolution) as float days since 1970-01-01 UTC."""
    if len(s) == 0:
        return np.zeros(0)
    s = pd.to_datetime(s)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.dt.as_unit("ns").astype("int64").to_numpy() / DAY_NS


@dataclass(frozen=True)
class Horizon:
    """How far ahead a forecast looks: ``days`` days, or ``months`` calendar months."""

    days: int = 14
    months: int = 0

    def __post_init__(self):
        if (self.months > 0) == (self.days > 0):
            raise InputError(f"a horizon is either days or months, got days={self.days}, months={self.months}.")

    def end(self, origin: pd.Timestamp) -> pd.Timestamp:
        """The end of the horizon from ``origin``: calendar months or days later, at the same local
        time (a fortnight across a change of summer time is 14 calendar days, not 336 hours)."""
        origin = pd.Timestamp(origin)
        if self.months:
            return origin + pd.DateOffset(months=self.months)
        return origin + pd.DateOffset(days=self.days)

    def step_back(self, origin: pd.Timestamp, k: int) -> pd.Timestamp:
        """The origin ``k`` horizons before ``origin`` (calendar months or days, same local time)."""
        origin = pd.Timestamp(origin)
        if self.months:
            return origin - pd.DateOffset(months=self.months * k)
        return origin - pd.DateOffset(days=self.days * k)

    @property
    def approx_days(self) -> float:
        return self.months * 365.25 / 12.0 if self.months else float(self.days)

    @property
    def label(self) -> str:
        if self.months:
            return "1 month" if self.months == 1 else f"{self.months} months"
        return f"{self.days} days"

    @classmethod
    def for_precision(cls, precision: str, days: int = 14) -> Horizon:
        """One month for month-precision data, else ``days`` days."""
        return cls(days=0, months=1) if precision == "month" else cls(days=days)


def make_origins(start, end, horizon: Horizon, tz: str = DEFAULT_TIMEZONE, step_days: int | None = None) -> list:
    """Origins (tz-aware local midnights) from ``start`` to ``end`` inclusive.

    Month horizons: the first day of each month in the range. Day horizons:
    every ``step_days`` (default the horizon) calendar days starting at ``start``, always at
    local midnight (across a change of summer time too).
    """

    def _ts(v):
        t = pd.Timestamp(v)
        return t.tz_localize(tz) if t.tzinfo is None else t.tz_convert(tz)

    s, e = _ts(start).normalize(), _ts(end).normalize()
    out = []
    if horizon.months:
        cur = s if s.day == 1 else (s + pd.offsets.MonthBegin(1)).normalize()
        while cur <= e:
            out.append(cur)
            cur = (cur + pd.DateOffset(months=1)).normalize()
    else:
        step = step_days or horizon.days
        cur = s
        while cur <= e:
            out.append(cur)
            # calendar days in local time: a fixed 24 h step would slip to 23:00 the day before at the
            # end of summer time, and normalising then moved every later origin a day early
            cur = (cur + pd.DateOffset(days=step)).normalize()
    return out


# --------------------------------------------------------------------------- events
@dataclass(frozen=True, eq=False)
class EventTable:
    """Incidents reduced to what forecasting needs: metres (any projected CRS; the engine
    uses EPSG:27700) and float days since 1970-01-01 UTC.

    ``t`` is the midpoint of each incident's time window, ``t_end`` its end.
    ``ward`` (optional) holds a ward code per incident.
    """

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    t_end: np.ndarray
    precision: str = "day"
    ward: np.ndarray | None = None

    def __post_init__(self):
        n = len(self.x)
        for name in ("y", "t", "t_end"):
            if len(getattr(self, name)) != n:
                raise InputError(f"EventTable: {name} has {len(getattr(self, name))} values for {n} incidents.")

    def __len__(self) -> int:
        return len(self.x)

    @classmethod
    def from_incidents(cls, incidents, crime_types=None) -> EventTable:
        """From an Incidents GeoDataFrame (working CRS), optionally keeping only ``crime_types``."""
        inc = incidents
        if crime_types:
            inc = inc[inc["crime_type"].isin(list(crime_types))]
        t_start = series_days(inc["start"])
        t_end = series_days(inc["end"])
        t = (t_start + t_end) / 2.0
        ward = inc["ward_code"].astype(str).to_numpy() if "ward_code" in inc.columns else None
        return cls(
            inc["x"].to_numpy(float),
            inc["y"].to_numpy(float),
            np.asarray(t, float),
            np.asarray(t_end, float),
            coarsest_precision(inc),
            ward,
        )

    @classmethod
    def from_dates(cls, x, y, dates, precision: str = "day") -> EventTable:
        """From whole dates (day precision): ``t`` is midday, ``t_end`` the last instant of the day."""
        day0 = series_days(pd.to_datetime(pd.Series(dates)).dt.normalize())
        return cls(np.asarray(x, float), np.asarray(y, float), day0 + 0.5, day0 + 1.0 - 1e-6, precision)

    def subset(self, sel: np.ndarray) -> EventTable:
        return EventTable(
            self.x[sel],
            self.y[sel],
            self.t[sel],
            self.t_end[sel],
            self.precision,
            None if self.ward is None else self.ward[sel],
        )


def _readonly(a):
    if a is None:
        return None
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _placed(h: History, rule, px, py) -> History:
    """``h`` with its incidents at ``rule``'s places; ``px``, ``py``: the published places."""
    x, y = rule(px, py, h._t)
    h._x, h._y = _readonly(x), _readonly(y)
    h._place = (rule, px, py)
    h._key = None
    h._rows = None
    return h


class History:
    """The incidents known before a forecast origin, and nothing else.

    Built by the harness; methods read it through :meth:`events`,
    :meth:`counts` and :meth:`until`. Every request whose end lies after the
    origin raises :class:`~hotspots.errors.LookAheadError`. The arrays it
    holds were cut at the origin before the method ever saw them, so reading
    them directly cannot reach later incidents either.

    Attributes: ``origin`` (tz-aware timestamp), ``origin_day`` (float days),
    ``horizon`` (:class:`Horizon`), ``grid``, ``context`` (static cell
    covariates, may be None), ``precision``, ``cache`` (dict shared across the
    origins of one backtest).
    """

    def __init__(self, events: EventTable, origin, horizon: Horizon, grid, context=None, cache=None):
        self.origin = pd.Timestamp(origin)
        self.origin_day = to_days(self.origin)
        self.horizon = horizon
        self.grid = grid
        self.context = context
        self.precision = events.precision
        self.cache = {} if cache is None else cache
        known = events.t_end < self.origin_day
        self._x = _readonly(events.x[known])
        self._y = _readonly(events.y[known])
        self._t = _readonly(events.t[known])
        self._t_end = _readonly(events.t_end[known])
        self._ward = _readonly(None if events.ward is None else events.ward[known])
        self.read_until_ = float(self._t_end.max()) if self._t_end.size else -math.inf
        self._key: str | None = None
        self._rows: np.ndarray | None = None  # row_hashes of the known incidents, computed when first keyed
        self._static_key: str | None = None  # digest of the grid and the cell context, shared with until()
        self._place: tuple[Any, np.ndarray, np.ndarray] | None = None  # (placement rule, published x, published y)

    def __len__(self) -> int:
        return int(self._x.size)

    def __repr__(self) -> str:
        return f"History({len(self)} incidents known before {self.origin:%Y-%m-%d})"

    # ------------------------------------------------------------------ guard
    def _check(self, end_day: float, what: str) -> None:
        if end_day > self.origin_day + 1e-9:
            raise LookAheadError(
                f"{what} asked for incidents up to {pd.Timestamp(end_day * DAY_NS):%Y-%m-%d %H:%M} UTC, after the "
                f"forecast origin {self.origin:%Y-%m-%d}; a forecast may only use incidents known before its origin."
            )

    def day(self, ts) -> float:
        return to_days(ts)

    @property
    def precision_is_month(self) -> bool:
        return self.precision == "month"

    def events(self, start: float | None = None, end: float | None = None, with_ward: bool = False):
        """``(x, y, t)`` of the known incidents with ``start <= t < end`` (float days; default: all
        known, end = origin). ``end`` after the origin raises LookAheadError. ``with_ward`` also
        returns the ward codes."""
        end = self.origin_day if end is None else float(end)
        self._check(end, "History.events")
        sel = self._t < end
        # an incident whose window closes after ``end`` was not yet known then
        sel &= self._t_end < end
        if start is not None:
            sel &= self._t >= float(start)
        out: tuple[np.ndarray | None, ...] = (self._x[sel], self._y[sel], self._t[sel])
        if with_ward:
            out += (None if self._ward is None else self._ward[sel],)
        return out

    def counts(self, start: float | None = None, end: float | None = None) -> np.ndarray:
        """Incidents per grid cell with ``start <= t < end`` (days), shape (nrows, ncols)."""
        x, y, _t = self.events(start, end)
        return self.grid.counts(x, y)

    def until(self, cut) -> History:
        """The history as it stood at an earlier cut-off (timestamp), sharing this cache."""
        cut = pd.Timestamp(cut)
        self._check(to_days(cut), "History.until")
        h = object.__new__(History)
        h.origin, h.origin_day, h.horizon, h.grid = cut, to_days(cut), self.horizon, self.grid
        h.context, h.precision, h.cache = self.context, self.precision, self.cache
        known = self._t_end < h.origin_day
        h._x, h._y, h._t, h._t_end = self._x[known], self._y[known], self._t[known], self._t_end[known]
        h._ward = None if self._ward is None else self._ward[known]
        h.read_until_ = float(h._t_end.max()) if h._t_end.size else -math.inf
        h._key = None
        h._rows = None if self._rows is None else self._rows[known]
        h._static_key = self._static_key
        h._place = None
        if self._place is not None:
            rule, px, py = self._place
            return _placed(h, rule, px[known], py[known])
        return h

    def placed_by(self, rule) -> History:
        """The same history with every incident placed by ``rule`` as it would have been at this
        cut-off, and again at every earlier cut-off (:meth:`until`) with what was known then.

        ``rule(x, y, t) -> (x, y)`` (metres, float days) sees only the incidents known at the
        cut-off; e.g. :class:`~.locations.RelocationRule` carries old incidents onto the location
        set in use. Each cut-off's history is then the same whatever the origin it was cut from,
        so its features are computed once."""
        h = object.__new__(History)
        h.__dict__.update(self.__dict__)
        return _placed(h, rule, self._x, self._y)

    @property
    def placement(self):
        """The placement rule applied to this history (None: as published)."""
        return None if self._place is None else self._place[0]

    def data_key(self) -> str:
        """A key of everything a method could read: the known incidents (coordinates, times, wards),
        the precision, the cut-off, the grid and the cell context (:func:`.cache_key.digest`).
        Caches keyed on it cannot return results computed from other data.

        The incidents enter as one 64-bit hash per incident (:func:`.cache_key.row_hashes`, kept
        for the earlier cut-offs of :meth:`until`) and the grid and context as one digest shared
        with them, so keying the many cut-offs of a backtest costs little."""
        if self._key is None:
            if self._rows is None:
                self._rows = row_hashes(self._x, self._y, self._t, self._t_end, self._ward)
            if self._static_key is None:
                self._static_key = digest("cells", self.grid, self.context)
            self._key = digest("history", self.origin_day, self.precision, self._rows, self._static_key)
        return self._key

    @property
    def first_day(self) -> float:
        """Time (float days) of the earliest known incident (the origin when there is none)."""
        return float(self._t.min()) if len(self) else self.origin_day

    def rate_per_day(self, days: float = 365.0) -> float:
        """Known incidents per day over the last ``days`` days before the origin."""
        span = min(days, self.origin_day - float(self._t.min())) if len(self) else days
        if span <= 0:
            return 0.0
        x, _y, _t = self.events(self.origin_day - span)
        return len(x) / span


# --------------------------------------------------------------------------- running
def check_risk(risk, grid, name: str) -> np.ndarray:
    risk = np.asarray(risk, dtype=float)
    if risk.shape != grid.shape:
        raise InputError(
            f"forecast method {name!r} returned an array of shape {risk.shape}; the grid is "
            f"{grid.shape} (nrows, ncols)."
        )
    return risk


def forecast_surface(method, history: History, name: str = "") -> np.ndarray:
    """The risk surface of ``method`` fitted on ``history`` (a fresh clone; the look-ahead guard applies),
    computed once per (method and its parameters, history data) and kept in ``history.cache``.

    The harness and :class:`~.methods.Blend` both go through here, so a blend reuses the fit of a
    component that the backtest (or another blend) already made at the same origin, and the
    surface is identical to a fresh fit. Returns a read-only (nrows, ncols) array."""
    key = ("surface", digest(method_key(method)), history.data_key())
    hit = history.cache.get(key)
    if hit is not None:
        return hit
    _m, risk = fit_predict(method, history, name)
    risk = np.array(risk, dtype=float)
    risk.setflags(write=False)
    history.cache[key] = risk
    return risk


def drop_surfaces(cache: dict) -> None:
    """Forget the cached surfaces (they are only reused within one origin)."""
    for k in [k for k in cache if isinstance(k, tuple) and k and k[0] == "surface"]:
        del cache[k]


#: The fixed calendar epoch of refit cadences (:func:`refit_origin`): refits fall on the same dates
#: whatever the meeting, so the next meeting finds the fits of the last one.
REFIT_EPOCH = pd.Timestamp("1970-01-01")


def refit_origin(origin, horizon: Horizon, every: int) -> pd.Timestamp:
    """The cut-off at which a model used at ``origin`` is fitted when it is refitted every ``every``
    horizons: ``origin`` itself when ``every`` <= 1, else the latest refit date at or before it.

    Refit dates are counted in whole horizons from :data:`REFIT_EPOCH` (local calendar):
    month horizons, the first of every ``every * months``-th month since 1970-01; day horizons,
    every ``every * days``-th day since 1970-01-01 shifted by the origin's phase within a horizon
    (its days since the epoch modulo ``days``), so that every origin of a backtest (one horizon
    apart) and of the following meetings shares the same refit dates, and a refit date is itself
    one of those origins. Always at local midnight and never after ``origin``."""
    origin = pd.Timestamp(origin)
    every = int(every)
    if every <= 1:
        return origin
    tz = origin.tz
    local = origin.tz_localize(None) if tz is not None else origin
    if horizon.months:
        step = every * horizon.months
        m = (local.year - REFIT_EPOCH.year) * 12 + local.month - 1
        m -= m % step
        r = pd.Timestamp(year=REFIT_EPOCH.year + m // 12, month=m % 12 + 1, day=1)
    else:
        n = (local.normalize() - REFIT_EPOCH).days
        q, phase = divmod(n, horizon.days)
        r = REFIT_EPOCH + pd.Timedelta(days=(q - q % every) * horizon.days + phase)
    if tz is not None:
        r = r.tz_localize(tz)
    return min(r, origin)


def fitted_model(key, history: History, train):
    """``train(history)``, computed once per (``key``: what identifies the model's settings, the
    history's data) and kept in ``history.cache`` under ``("model", digest(key), data key)`` (a
    :class:`~.store.PersistentCache` keeps it for later runs). ``train`` must return the same
    value for the same history; the look-ahead guard of the method that uses it still applies."""
    ck = ("model", digest(key), history.data_key())
    hit = history.cache.get(ck)
    if hit is not None:
        return hit
    value = train(history)
    history.cache[ck] = value
    return value


def fit_cadence(method) -> int:
    """The longest refit cadence (``refit_every``, horizons) of ``method`` or any method inside it."""
    params = method.get_params(deep=False)
    out = max(1, int(params.get("refit_every", 1) or 1))
    for v in params.values():
        for m in v if isinstance(v, (tuple, list)) else (v,):
            if hasattr(m, "get_params"):
                out = max(out, fit_cadence(m))
    return out


def fit_predict(method, history: History, name: str = ""):
    """Fit a fresh copy of ``method`` on ``history`` and forecast the next horizon; enforce the guard."""
    m = clone(method)
    m.fit(history)
    used = getattr(m, "history_end_", None)
    if used is not None and used >= history.origin_day:
        raise LookAheadError(
            f"forecast method {name or type(m).__name__!r} used incidents up to "
            f"{pd.Timestamp(used * DAY_NS):%Y-%m-%d %H:%M} UTC, at or after its origin {history.origin:%Y-%m-%d}; "
            "a forecast may only use incidents known before its origin."
        )
    risk = check_risk(m.predict(history.origin, history.horizon), history.grid, name)
    return m, risk


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Scores of every method at every origin.

    ``scores``: one row per (origin, method) with every metric of
    :func:`hotspots.forecast.metrics.score_forecast` plus ``fit_s`` seconds.
    ``curves``: hit rate at :data:`CURVE_SHARES` per (origin, method).
    ``summary()`` gives mean and standard error over origins.
    """

    scores: pd.DataFrame
    curves: pd.DataFrame
    shares: tuple[float, ...]
    horizon: Horizon
    methods: tuple[str, ...]
    n_cells: int
    cell_size_m: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: with ``keep_surfaces``: {(origin, method): risk over the masked cells} and
    #: {origin: (observed counts over the masked cells, expected total)}, plus the grid
    surfaces: dict = field(default_factory=dict, repr=False)
    observed: dict = field(default_factory=dict, repr=False)
    grid: Grid | None = field(default=None, repr=False)

    def score_surface(self, origin, risk_masked: np.ndarray) -> dict:
        """Every metric of a surface given over the masked cells at ``origin`` (needs ``keep_surfaces``),
        scored exactly as the backtest scores its methods."""
        if self.grid is None:
            raise InputError("score_surface needs a backtest run with keep_surfaces=True (it keeps the grid).")
        grid = self.grid
        actual_m, expected_total = self.observed[origin]
        risk = np.full(grid.shape, np.nan)
        risk[grid.mask] = risk_masked
        actual = np.zeros(grid.shape)
        actual[grid.mask] = actual_m
        return metrics.score_forecast(risk, actual, grid.mask, self.shares, expected_total)

    @property
    def origins(self) -> list:
        return sorted(self.scores["origin"].unique())

    def metric_columns(self) -> list[str]:
        cols = []
        for s in self.shares:
            k = metrics.share_key(s)
            cols += [f"hit_rate_{k}", f"pai_{k}", f"pei_{k}", f"rri_{k}", f"ceiling_{k}"]
        return [*cols, "loglik", "info_gain"]

    def summary(self) -> pd.DataFrame:
        """Mean and standard error over origins per method (columns ``<metric>`` and ``<metric>_se``).

        ``ceiling_<k>`` is the mean of the highest hit rate any map could have reached
        at that share (the same for every method) and ``of_ceiling_<k>`` the method's
        mean hit rate as a share of it."""
        cols = [*self.metric_columns(), "fit_s"]
        g = self.scores.groupby("method", sort=False)[cols]
        mean = g.mean()
        se = g.std(ddof=1) / np.sqrt(g.count())
        out = mean.copy()
        for c in cols:
            out[c + "_se"] = se[c]
        out.insert(0, "origins", g.size())
        ordered = [c for c in cols for c in (c, c + "_se")]
        out = out[["origins", *ordered]]
        for s in self.shares:
            k = metrics.share_key(s)
            out[f"of_ceiling_{k}"] = out[f"hit_rate_{k}"] / out[f"ceiling_{k}"]
        return out.loc[list(self.methods)].reset_index()

    def best(self, share: float = 0.05, metric: str = "hit_rate") -> str:
        """Method with the highest mean ``metric`` at ``share`` (ties: higher info_gain, then name)."""
        col = f"{metric}_{metrics.share_key(share)}" if metric != "info_gain" else "info_gain"
        s = self.summary()
        s = s.assign(_m=s[col].fillna(-np.inf), _g=s["info_gain"].fillna(-np.inf))
        s = s.sort_values(["_m", "_g", "method"], ascending=[False, False, True], kind="mergesort")
        return str(s["method"].iloc[0])

    def to_frame(self) -> pd.DataFrame:
        """Every (origin, method) score as a table (same as ``scores``)."""
        return self.scores.copy()

    def to_csv(self, folder) -> dict:
        """Write ``backtest_summary.csv``, ``backtest_scores.csv`` and ``backtest_curves.csv``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {
            "summary": folder / "backtest_summary.csv",
            "scores": folder / "backtest_scores.csv",
            "curves": folder / "backtest_curves.csv",
        }
        write_csv(self.summary(), paths["summary"], float_format="%.6g")
        sc = self.scores.copy()
        sc["origin"] = sc["origin"].map(lambda t: f"{t:%Y-%m-%d}")
        write_csv(sc, paths["scores"], float_format="%.6g")
        cv = self.curves.copy()
        cv["origin"] = cv["origin"].map(lambda t: f"{t:%Y-%m-%d}")
        write_csv(cv, paths["curves"], float_format="%.6g")
        return paths


def backtest(
    events: EventTable,
    grid,
    methods: dict,
    origins,
    horizon: Horizon | None = None,
    shares=DEFAULT_SHARES,
    context=None,
    progress=None,
    cache: dict | None = None,
    reuse_fits: bool = True,
    keep_surfaces: bool = False,
    workers: int = 1,
) -> BacktestResult:
    """Score every method at every origin.

    Parameters
    ----------
    events : EventTable
        All incidents (the harness alone sees them; methods get a :class:`History`).
    grid : hotspots.geo.grid.Grid
        Analysis grid (metres, the working CRS in the engine).
    methods : dict name -> method
        Objects with ``fit(history)`` and ``predict(origin, horizon) -> (nrows, ncols)``
        (scikit-learn style; a fresh clone is fitted at each origin).
    origins : list of timestamps
        Forecast origins (see :func:`make_origins`).
    horizon : Horizon
        Default: one month for month-precision data, else 14 days.
    shares : area shares for the metrics.
    context : static cell covariates handed to the methods (see :mod:`.features`).
    progress : callable(str) for progress lines.
    cache : dict shared by the origins (features and surfaces, keyed on the data; see
        :mod:`.cache_key`); pass the same dict to reuse work across calls.
    reuse_fits : fit each distinct method once per origin and share the surface (a blend reuses
        its components' fits); False refits every time (same surfaces and scores, slower).
    keep_surfaces : keep every (origin, method) surface over the masked cells in
        ``BacktestResult.surfaces`` (float64, cell-id order), so that combinations of methods
        can be scored later without refitting.
    workers : processes that fit the origins' surfaces side by side (forked from this one, each
        fitting whole origins single-threaded); 1 fits them here, one after another. The surfaces,
        scores and everything else are identical whatever the number (the fits are deterministic
        and the same code runs on the same data); ``fit_s`` is then the seconds a worker took.
    """
    if horizon is None:
        horizon = Horizon.for_precision(events.precision)
    if not origins:
        raise InputError("the backtest has no origins: choose --start/--end inside the data's date range.")
    shares = tuple(float(s) for s in shares)
    cache = {} if cache is None else cache
    rows, curves = [], []
    notes = []
    surfaces, observed = {}, {}
    ready = _fit_in_workers(events, grid, methods, origins, horizon, context, cache, workers) if reuse_fits else {}
    for o in origins:
        o = pd.Timestamp(o)
        o_day = to_days(o)
        e_day = to_days(horizon.end(o))
        sel = (events.t >= o_day) & (events.t < e_day)
        actual = grid.counts(events.x[sel], events.y[sel])
        hist = History(events, o, horizon, grid, context, cache)
        expected_total = hist.rate_per_day(365.0) * (e_day - o_day)
        if keep_surfaces:
            observed[o] = (actual[grid.mask].copy(), expected_total)
        fitted = ready.pop(o, {})
        for name, method in methods.items():
            t0 = time.perf_counter()
            if name in fitted:
                risk, dt = fitted[name]
            else:
                risk = forecast_surface(method, hist, name) if reuse_fits else fit_predict(method, hist, name)[1]
                dt = time.perf_counter() - t0
            sc = metrics.score_forecast(risk, actual, grid.mask, shares, expected_total)
            rows.append({"origin": o, "method": name, **sc, "fit_s": dt})
            if keep_surfaces:
                surfaces[(o, name)] = np.array(risk[grid.mask], dtype=float)
            curve = metrics.capture_curve(risk, actual, grid.mask, CURVE_SHARES)
            curves.append(
                {"origin": o, "method": name, **{f"{s:g}": v for s, v in zip(CURVE_SHARES, curve, strict=True)}}
            )
        if progress:
            last = {r["method"]: r for r in rows[-len(methods) :]}
            k = metrics.share_key(shares[min(1, len(shares) - 1)])
            progress(
                f"{o:%Y-%m-%d}: {int(actual[grid.mask].sum())} incidents; hit rate at {k}%: "
                + ", ".join(f"{n} {last[n][f'hit_rate_{k}']:.3f}" for n in methods)
            )
        drop_surfaces(cache)
    scores = pd.DataFrame(rows)
    empty = scores.groupby("origin")["observed"].first()
    if (empty <= 0).any():
        notes.append(
            f"{int((empty <= 0).sum())} origin(s) had no incidents in the horizon; their hit rates are "
            "undefined and left out of the means."
        )
    return BacktestResult(
        scores=scores,
        curves=pd.DataFrame(curves),
        shares=shares,
        horizon=horizon,
        methods=tuple(methods),
        n_cells=int(grid.mask.sum()),
        cell_size_m=float(grid.cell_size),
        notes=tuple(notes),
        surfaces=surfaces,
        observed=observed,
        grid=grid if keep_surfaces else None,
    )


# --------------------------------------------------------------------------- fitting side by side
#: What the forked workers of :func:`_fit_in_workers` read (inherited at the fork, never pickled).
_JOB: dict = {}


def _fit_in_workers(events, grid, methods, origins, horizon, context, cache, workers: int) -> dict:
    """``{origin: {name: (risk, seconds)}}`` for the origins with a surface missing from ``cache``,
    fitted in ``workers`` processes forked from this one (empty with one worker, without ``fork``,
    or when fewer than two origins need fitting: then the backtest fits them itself).

    Each worker fits whole origins through :func:`forecast_surface` with its inherited copy of
    ``cache``, so it reuses the features it computed for earlier cut-offs and a
    :class:`~.store.PersistentCache` saves what it fits for the next run; the latest origins
    (the longest histories, the slowest fits) are handed out first."""
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return {}
    has = getattr(cache, "has", cache.__contains__)  # a PersistentCache looks on disk without loading
    todo = []
    for o in origins:
        hist = History(events, pd.Timestamp(o), horizon, grid, context, cache)
        keys = [("surface", digest(method_key(m)), hist.data_key()) for m in methods.values()]
        if not all(has(k) for k in keys):
            todo.append(pd.Timestamp(o))
    if len(todo) < 2:
        return {}
    # origins that share a refit date go to one worker, which fits that model once
    every = max(fit_cadence(m) for m in methods.values())
    groups: dict = {}
    for o in todo:
        groups.setdefault(refit_origin(o, horizon, every), []).append(o)
    tasks = [groups[r][::-1] for r in sorted(groups, reverse=True)]
    _JOB.update(events=events, grid=grid, methods=methods, horizon=horizon, context=context, cache=cache)
    load_numba()  # numba's own modules: loaded here once, inherited by every worker
    try:
        with multiprocessing.get_context("fork").Pool(
            min(workers, len(tasks)), initializer=enter_forked_child, initargs=(os.getpid(),)
        ) as pool:
            done = pool.map(_fit_origins, tasks, chunksize=1)
    finally:
        _JOB.clear()
    out = {}
    for surfaces, models in done:
        out.update(surfaces)
        for k, v in models.items():  # the models the workers fitted, for the forecast after the backtest
            if not has(k):
                cache[k] = v
    return out


def _fit_origins(origins) -> tuple[dict, dict]:
    """In a worker: ``({origin: {name: (risk, seconds)}}, {key: model})``, every method's surface at
    each of ``origins`` and the seconds each took, and the models fitted here."""
    j = _JOB
    cache = j["cache"]
    before = {k for k in dict.keys(cache) if _is_model(k)}
    out = {}
    for origin in origins:
        hist = History(j["events"], origin, j["horizon"], j["grid"], j["context"], cache)
        res = {}
        for name, method in j["methods"].items():
            t0 = time.perf_counter()
            risk = forecast_surface(method, hist, name)
            res[name] = (risk, time.perf_counter() - t0)
        out[origin] = res
        drop_surfaces(cache)
    models = {k: dict.__getitem__(cache, k) for k in dict.keys(cache) if _is_model(k) and k not in before}
    return out, models


def _is_model(key) -> bool:
    return isinstance(key, tuple) and len(key) == 3 and key[0] == "model"
