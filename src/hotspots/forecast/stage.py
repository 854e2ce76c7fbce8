"""The forecast stage of the FIM pipeline: choose a method by backtest, forecast the coming horizon.

``run_forecast(cfg, incidents, study_area, grid, fim_date)`` backtests the
candidate methods over the last ``[forecast] window`` rolling origins before
the FIM date on the borough's own incidents, picks the best by
``select_metric`` at ``select_share`` of the area (or uses the configured
method), fits it on everything known before the FIM date and returns the risk
surface for the coming fortnight (one month for month-precision data) with the
method's backtest figures, so the pack can say which method was used and how
well it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import BURGLARY_TYPES
from ..errors import ConfigError, InputError
from . import metrics

SELECT_METRICS = ("hit_rate", "pai", "pei", "info_gain")


@dataclass(frozen=True)
class ForecastConfig:
    """[forecast]: which method forecasts the coming horizon and how it is chosen.

    ``method``: ``"auto"`` (the best of ``candidates`` in a backtest on the
    run's own data) or a method name (``naive_12m``, ``kde``, ``longrun_kde``,
    ``longrun_counts``, ``prospective``, ``gistar``, ``learned``...).
    ``window``: number of rolling origins (one horizon apart, the last ending at
    the FIM date) in the in-pipeline backtest. ``candidates``: methods compared
    when ``auto`` (empty = the defaults for the data's time precision).
    ``crime_types``: canonical types forecast (default: the burglary types).
    ``shares``: area shares (0-1) the figures are reported at; the method is
    chosen by ``select_metric`` (hit_rate | pai | pei | info_gain) at
    ``select_share``. ``horizon_days``: 0 = ``[analysis] fortnight_days``
    (month-precision data always uses one calendar month).
    """

    method: str = "auto"
    window: int = 4
    candidates: tuple[str, ...] = ()
    crime_types: tuple[str, ...] = BURGLARY_TYPES
    shares: tuple[float, ...] = (0.01, 0.05, 0.10)
    select_share: float = 0.05
    select_metric: str = "hit_rate"
    horizon_days: int = 0

    def validate(self, where: str) -> None:
        from .methods import make_method

        for name in ((self.method,) if self.method != "auto" else ()) + tuple(self.candidates):
            try:
                make_method(name)
            except ConfigError as exc:
                raise ConfigError(f"{where}: [forecast] {exc}") from None
        if self.window < 1:
            raise ConfigError(f"{where}: [forecast] window must be at least 1 origin, got {self.window}.")
        if not self.shares or any(not 0 < s <= 1 for s in self.shares):
            raise ConfigError(f"{where}: [forecast] shares must be area shares in (0, 1], e.g. [0.01, 0.05, 0.1]; "
                              f"got {list(self.shares)}.")
        if not 0 < self.select_share <= 1:
            raise ConfigError(f"{where}: [forecast] select_share must be in (0, 1], got {self.select_share}.")
        if self.select_metric not in SELECT_METRICS:
            raise ConfigError(f"{where}: [forecast] select_metric must be one of {list(SELECT_METRICS)}, "
                              f"got {self.select_metric!r}.")
        if self.horizon_days < 0:
            raise ConfigError(f"{where}: [forecast] horizon_days must be >= 0 days (0 = [analysis] fortnight_days).")


@dataclass(frozen=True, eq=False)
class ForecastResult:
    """The forecast for the coming horizon and the evidence behind its method.

    ``risk`` (nrows, ncols): the chosen method's risk surface (NaN outside the
    area); ``expected`` expected incidents per cell over the horizon (the risk
    rescaled to the recent rate); ``method`` the method used and
    ``selected_by`` ``"backtest"`` or ``"configured"``; ``backtest`` the
    :class:`~hotspots.forecast.harness.BacktestResult` (None when there was too
    little history); ``figures`` the chosen method's mean backtest metrics.
    """

    method: str
    selected_by: str
    risk: np.ndarray
    expected: np.ndarray
    grid: object
    origin: pd.Timestamp
    horizon: object
    backtest: object = None
    crime_types: tuple[str, ...] = ()
    figures: dict = field(default_factory=dict)
    shares: tuple[float, ...] = (0.01, 0.05, 0.10)
    notes: tuple[str, ...] = ()
    # [forecast task wiring] the selection procedure's record and the location-change finding
    selection: object = None
    location_change: object = None

    @property
    def horizon_end(self) -> pd.Timestamp:
        return self.horizon.end(self.origin)

    def summary_frame(self) -> pd.DataFrame:
        """The backtest table (mean and standard error per method), empty without a backtest."""
        return self.backtest.summary() if self.backtest is not None else pd.DataFrame()

    def flagged(self, share: float = 0.05) -> np.ndarray:
        """Cells flagged at ``share`` of the area (bool, nrows x ncols)."""
        return metrics.flagged_mask(self.risk, self.grid.mask, share)

    def to_frame(self, clip: bool = False):
        """GeoDataFrame of cells (EPSG:27700): risk, expected count, rank (1 = highest risk), flagged per share."""
        order = metrics.rank_cells(self.risk, self.grid.mask)
        rank = np.zeros(self.grid.nrows * self.grid.ncols)
        rank[order] = np.arange(1, order.size + 1)
        arrays = {"risk": self.risk, "expected": self.expected, "rank": rank.reshape(self.grid.shape)}
        for s in self.shares:
            arrays[f"top_{metrics.share_key(s)}pct"] = self.flagged(s).astype(int)
        df = self.grid.to_frame(clip=clip, **arrays)
        df.attrs.update({"method": self.method, "selected_by": self.selected_by,
                         "origin": f"{self.origin:%Y-%m-%d}", "horizon": self.horizon.label})
        return df

    def to_geotiff(self, path, what: str = "expected") -> Path:
        arr = self.expected if what == "expected" else self.risk
        return self.grid.write_geotiff(path, arr, description=f"forecast {what} ({self.method}), "
                                                                 f"{self.origin:%Y-%m-%d} + {self.horizon.label}")

    def describe(self) -> str:
        """One paragraph for the pack: which method, why, and how well it did."""
        how = ("chosen as the best of {} methods in a backtest on this area's own data".format(
            len(self.backtest.methods)) if self.selected_by == "backtest" and self.backtest is not None
               else "as configured")
        txt = f"Forecast for {self.origin:%d %b %Y} + {self.horizon.label}: method {self.method} ({how})."
        if self.figures:
            k = metrics.share_key(0.05) if 0.05 in self.shares else metrics.share_key(self.shares[0])
            hr = self.figures.get(f"hit_rate_{k}")
            se = self.figures.get(f"hit_rate_{k}_se")
            pai = self.figures.get(f"pai_{k}")
            n = self.figures.get("origins")
            if hr is not None and np.isfinite(hr) and self.selection is not None:
                txt += (f" Over the last {n} origins, choosing each time as here from earlier results only, the "
                        f"chosen method's top {k}% of cells held {hr * 100:.0f}% of the next horizon's incidents "
                        f"(PAI {pai:.1f}; trailing 12-month counts {self.figures['baseline_hit_rate'] * 100:.0f}%).")
            elif hr is not None and np.isfinite(hr):
                txt += (f" Over the last {n} origins its top {k}% of cells held {hr * 100:.0f}%"
                        + (f" (± {se * 100:.0f})" if se is not None and np.isfinite(se) else "")
                        + f" of the next horizon's incidents (PAI {pai:.1f}).")
        return txt


def _origins_before(fim: pd.Timestamp, horizon, window: int) -> list:
    base = fim
    if horizon.months:
        base = fim.normalize().replace(day=1)
    return [horizon.step_back(base, k) for k in range(window, 0, -1)]


def run_forecast(cfg, incidents, study_area, grid, fim_date, progress=None) -> ForecastResult:
    """Choose a forecast method by backtest (or take the configured one) and forecast from the FIM date.

    ``incidents``: Incidents GeoDataFrame (EPSG:27700); only those whose window
    ends before ``fim_date`` are used. ``grid``: the run's analysis grid.
    ``fim_date``: the meeting date (timestamp or YYYY-MM-DD; local midnight).
    """
    from ..config import section
    from .features import CellContext
    from .harness import EventTable, History, Horizon, backtest, fit_predict, to_days
    from .methods import default_method_names, make_methods

    fc = section(cfg, "forecast", ForecastConfig)
    tz = cfg.project.timezone
    fim = pd.Timestamp(fim_date)
    fim = fim.tz_localize(tz) if fim.tzinfo is None else fim.tz_convert(tz)
    notes = []
    inc = incidents[incidents["end"] < fim]
    types = tuple(fc.crime_types)
    chosen_inc = inc[inc["crime_type"].isin(list(types))] if types else inc
    if types and len(chosen_inc) == 0:
        raise InputError(f"[forecast] crime_types {list(types)} match no incident before {fim:%Y-%m-%d}; "
                         f"types present: {sorted(inc['crime_type'].unique())}. Set [forecast] crime_types.")
    events = EventTable.from_incidents(chosen_inc)
    horizon = Horizon.for_precision(events.precision, fc.horizon_days or cfg.analysis.fortnight_days)
    if events.precision == "month" and fc.horizon_days:
        notes.append("month-precision data: the horizon is one calendar month whatever horizon_days says.")
    context = CellContext.from_study_area(study_area, grid)
    seed = cfg.project.seed
    names = (tuple(fc.candidates) or default_method_names(events.precision)) if fc.method == "auto" \
        else (fc.method,)
    if events.precision == "month":
        dropped = [n for n in names if n in ("prospective", "etas")]
        names = tuple(n for n in names if n not in ("prospective", "etas"))
        if dropped:
            notes.append(f"{', '.join(dropped)} need(s) day-precision times; left out (month data).")
        if not names:
            raise InputError("[forecast] method 'prospective' needs day-precision incident times; the data has "
                             "month precision. Choose another [forecast] method (e.g. auto or longrun_counts).")
    # [forecast task wiring] auto: choose by the selection procedure's own out-of-sample record
    # (hotspots.forecast.choice); the record covers the last [forecast] window origins
    if fc.method == "auto":
        import dataclasses

        from .choice import choose_forecast
        from .selection import DEFAULT_RULE

        rule = dataclasses.replace(DEFAULT_RULE, share=fc.select_share, metric=fc.select_metric)
        ch = choose_forecast(events, grid, fim, horizon, names, context, rule, fc.window, seed, progress,
                             shares=fc.shares)
        k = metrics.share_key(rule.share)
        f = ch.figures()
        figures = ({f"hit_rate_{k}": f[f"record_hit_rate_{k}"], f"pai_{k}": f[f"record_pai_{k}"],
                    "origins": f["record_origins"], "baseline_hit_rate": f[f"baseline_hit_rate_{k}"],
                    "ceiling": f[f"ceiling_{k}"], "quoted": "track record"} if f else {})
        return ForecastResult(method=ch.method, selected_by="backtest" if ch.selection is not None else
                              "default (too little history to backtest)", risk=ch.risk, expected=ch.expected,
                              grid=grid, origin=fim, horizon=horizon, backtest=ch.backtest, crime_types=types,
                              figures=figures, shares=tuple(fc.shares), notes=tuple(notes) + ch.notes,
                              selection=ch.selection, location_change=ch.location_change)
    methods = make_methods(names, seed, events.precision)
    cache: dict = {}
    origins = [o for o in _origins_before(fim, horizon, fc.window) if to_days(o) - events.t.min() >= 365] \
        if len(events) else []
    bt = None
    if origins:
        # only incidents before the FIM date exist for the backtest: slice so no target reaches past it
        known = events.subset(events.t_end < to_days(fim))
        bt = backtest(known, grid, methods, origins, horizon, fc.shares, context, progress, cache)
    else:
        notes.append("less than a year of history before the earliest backtest origin: no backtest was run.")
    if fc.method == "auto":
        chosen = bt.best(fc.select_share, fc.select_metric) if bt is not None else (
            "longrun_counts" if "longrun_counts" in names else names[0])
        selected_by = "backtest" if bt is not None else "default (too little history to backtest)"
    else:
        chosen, selected_by = fc.method, "configured"
    figures = {}
    if bt is not None:
        row = bt.summary().set_index("method").loc[chosen]
        figures = {k: (float(v) if isinstance(v, (int, float, np.floating, np.integer)) else v)
                   for k, v in row.items()}
        figures["origins"] = int(figures.get("origins", 0))
    hist = History(events, fim, horizon, grid, context, cache)
    _m, risk = fit_predict(methods[chosen], hist, chosen)
    total = hist.rate_per_day(365.0) * (to_days(horizon.end(fim)) - to_days(fim))
    expected = metrics.expected_counts(risk, grid.mask, total)
    expected[~grid.mask] = np.nan
    return ForecastResult(method=chosen, selected_by=selected_by, risk=risk, expected=expected, grid=grid,
                          origin=fim, horizon=horizon, backtest=bt, crime_types=types, figures=figures,
                          shares=tuple(fc.shares), notes=tuple(notes))
