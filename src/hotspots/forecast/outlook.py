"""The forecast for the coming horizon: choose a method by its track record, then forecast.

``forecast_outlook(incidents, study_area, grid, fim_date, settings)`` with
``method = "auto"`` hands the choice to :func:`.choice.choose_forecast`: it
detects a change of the published location set, backtests the candidate methods
on the area's own incidents over the selection rule's window plus the last
``settings.window`` origins, chooses by the rule (:data:`.selection.DEFAULT_RULE`)
from the origins whose horizon had ended, fits the choice on everything known
before the FIM date and returns the risk surface for the coming fortnight (one
month for month-precision data). The figures it quotes are the selection
procedure's own out-of-sample record (choosing at each past origin from earlier
results only), never the chosen method's score on the origins that chose it. A
configured method is backtested over the last ``settings.window`` origins and
quotes its mean score there (also out of sample: each origin sees only the
incidents before it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..announce import choose
from ..config.sections import RELOCATED_SUFFIX, ForecastConfig
from ..errors import InputError
from ..geo.checks import require_points, require_same_crs
from ..geo.grid import Grid
from ..geo.study_area import StudyArea
from ..model import local_midnight, resolve_timezone
from . import metrics
from .choice import choose_forecast
from .features import CellContext
from .harness import BacktestResult, EventTable, History, Horizon, backtest, forecast_surface, to_days
from .locations import LocationChangeResult
from .methods import NEEDS_TIMES, default_method_names, make_methods
from .selection import DEFAULT_RULE, Selection


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
    grid: Grid
    origin: pd.Timestamp
    horizon: Horizon
    backtest: BacktestResult | None = None
    crime_types: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)
    shares: tuple[float, ...] = (0.01, 0.05, 0.10)
    notes: tuple[str, ...] = ()
    choices: Mapping[str, str] = field(default_factory=dict)
    selection: Selection | None = None
    location_change: LocationChangeResult | None = None

    @property
    def horizon_end(self) -> pd.Timestamp:
        return self.horizon.end(self.origin)

    def summary_frame(self) -> pd.DataFrame:
        """The backtest table (mean and standard error per method), empty without a backtest."""
        return self.backtest.summary() if self.backtest is not None else pd.DataFrame()

    def flagged(self, share: float = 0.05) -> np.ndarray:
        """Cells flagged at ``share`` of the area (bool, nrows x ncols)."""
        return metrics.flagged_mask(self.risk, self.grid.mask, share)

    def to_frame(self, clip: bool = False) -> gpd.GeoDataFrame:
        """GeoDataFrame of cells (the grid's CRS): risk, expected count, rank (1 = highest risk), flagged per share."""
        order = metrics.rank_cells(self.risk, self.grid.mask)
        rank = np.zeros(self.grid.nrows * self.grid.ncols)
        rank[order] = np.arange(1, order.size + 1)
        arrays = {"risk": self.risk, "expected": self.expected, "rank": rank.reshape(self.grid.shape)}
        for s in self.shares:
            arrays[f"top_{metrics.share_key(s)}pct"] = self.flagged(s).astype(int)
        df = self.grid.to_frame(clip=clip, **arrays)
        df.attrs.update(
            {
                "method": self.method,
                "selected_by": self.selected_by,
                "origin": f"{self.origin:%Y-%m-%d}",
                "horizon": self.horizon.label,
            }
        )
        return df

    def to_geotiff(self, path, what: str = "expected") -> Path:
        arr = self.expected if what == "expected" else self.risk
        return self.grid.write_geotiff(
            path,
            arr,
            description=f"forecast {what} ({self.method}), {self.origin:%Y-%m-%d} + {self.horizon.label}",
            units=f"incidents per cell over {self.horizon.label}" if what == "expected" else "risk score (relative)",
        )

    def describe(self) -> str:
        """One paragraph for the pack: which method, why, and how well it did."""
        if self.selected_by == "backtest" and self.backtest is not None:
            how = f"chosen from {len(self.backtest.methods)} methods by a backtest on this area's own data"
        else:
            how = "as configured" if self.selected_by == "configured" else "by default: too little history to compare"
        txt = f"Forecast for {self.origin:%d %b %Y} + {self.horizon.label}: method {self.method} ({how})."
        if self.figures:
            k = metrics.share_key(0.05) if 0.05 in self.shares else metrics.share_key(self.shares[0])
            hr = self.figures.get(f"hit_rate_{k}")
            se = self.figures.get(f"hit_rate_{k}_se")
            pai = self.figures.get(f"pai_{k}")
            n = self.figures.get("origins")
            if hr is not None and np.isfinite(hr) and self.selection is not None:
                txt += (
                    f" Over the last {n} origins, choosing each time as here from earlier results only, the "
                    f"chosen method's top {k}% of cells held {hr * 100:.0f}% of the next horizon's incidents "
                    f"(PAI {pai:.1f}; trailing 12-month counts {self.figures['baseline_hit_rate'] * 100:.0f}%)."
                )
            elif hr is not None and np.isfinite(hr):
                txt += (
                    f" Over the last {n} origins its top {k}% of cells held {hr * 100:.0f}%"
                    + (f" (± {se * 100:.0f})" if se is not None and np.isfinite(se) else "")
                    + f" of the next horizon's incidents (PAI {pai:.1f})."
                )
        return txt


def _origins_before(fim: pd.Timestamp, horizon, window: int) -> list:
    base = fim
    if horizon.months:
        base = fim.normalize().replace(day=1)
    return [horizon.step_back(base, k) for k in range(window, 0, -1)]


def forecast_outlook(
    incidents: gpd.GeoDataFrame,
    study_area: StudyArea,
    grid: Grid,
    fim_date,
    settings: ForecastConfig | None = None,
    *,
    seed: int = 0,
    timezone: str | None = None,
    fortnight_days: int = 14,
    progress: Callable[[str], None] | None = None,
    cache: dict | None = None,
    workers: int = 1,
) -> ForecastResult:
    """Choose a forecast method by backtest (or take the configured one) and forecast from the FIM date.

    ``incidents``: Incidents GeoDataFrame in the grid's CRS; only those whose
    window ends before ``fim_date`` are used. ``grid``: the analysis grid.
    ``fim_date``: the meeting date (timestamp or YYYY-MM-DD; local midnight in
    ``timezone``, default Europe/London; the stage passes ``[project] timezone``). ``settings``: the
    ``[forecast]`` section; ``fortnight_days`` the horizon when it gives none. ``cache``: where
    the backtest keeps its features and fitted surfaces (default: a new dict; a
    :class:`~.store.PersistentCache` reuses the fits of earlier runs on the same data and settings).
    ``workers``: processes fitting the backtest's origins side by side (same result whatever the number).
    """
    fc = settings or ForecastConfig()
    require_points(incidents, "forecast_outlook: incidents", ("x", "y", "start", "end", "crime_type"))
    require_same_crs(("grid", grid), ("forecast_outlook: incidents", incidents), ("study_area", study_area))
    tz = resolve_timezone(timezone)
    fim = (
        local_midnight(fim_date, tz) if pd.Timestamp(fim_date).tzinfo is None else pd.Timestamp(fim_date).tz_convert(tz)
    )
    notes = []
    inc = incidents[incidents["end"] < fim]
    types = tuple(fc.crime_types)
    chosen_inc = inc[inc["crime_type"].isin(list(types))] if types else inc
    if types and len(chosen_inc) == 0:
        raise InputError(
            f"[forecast] crime_types {list(types)} match no incident before {fim:%Y-%m-%d}; "
            f"types present: {sorted(inc['crime_type'].unique())}. Set [forecast] crime_types."
        )
    events = EventTable.from_incidents(chosen_inc)
    horizon = Horizon.for_precision(events.precision, fc.horizon_days or fortnight_days)
    if events.precision == "month" and fc.horizon_days:
        notes.append("month-precision data: the horizon is one calendar month whatever horizon_days says.")
    context = CellContext.from_study_area(study_area, grid)
    names, dropped_note = _method_names(fc, events.precision)
    if dropped_note:
        notes.append(dropped_note)
    if fc.method == "auto":
        return _chosen_by_record(
            fc, events, grid, fim, horizon, names, context, seed, progress, types, notes, cache, workers
        )
    methods = make_methods(names, seed, events.precision)
    cache = {} if cache is None else cache
    origins = (
        [o for o in _origins_before(fim, horizon, fc.window) if to_days(o) - events.t.min() >= 365]
        if len(events)
        else []
    )
    bt = None
    if origins:
        # only incidents before the FIM date exist for the backtest: slice so no target reaches past it
        known = events.subset(events.t_end < to_days(fim))
        bt = backtest(known, grid, methods, origins, horizon, fc.shares, context, progress, cache, workers=workers)
    else:
        notes.append("less than a year of history before the earliest backtest origin: no backtest was run.")
    chosen, selected_by = _choose_method(fc, bt, names)
    choices: dict[str, str] = {}
    if fc.method == "auto":
        choose(choices, "method", f"forecast method chosen automatically: {chosen} ({selected_by})")
    figures = _figures(bt, chosen)
    hist = History(events, fim, horizon, grid, context, cache)
    risk = np.array(forecast_surface(methods[chosen], hist, chosen))
    total = hist.rate_per_day(365.0) * (to_days(horizon.end(fim)) - to_days(fim))
    expected = metrics.expected_counts(risk, grid.mask, total)
    expected[~grid.mask] = np.nan
    return ForecastResult(
        method=chosen,
        selected_by=selected_by,
        risk=risk,
        expected=expected,
        grid=grid,
        origin=fim,
        horizon=horizon,
        backtest=bt,
        crime_types=types,
        figures=figures,
        shares=tuple(fc.shares),
        notes=tuple(notes),
        choices=dict(choices),
    )


def _method_names(fc: ForecastConfig, precision: str) -> tuple[tuple[str, ...], str]:
    """The methods compared (or the configured one), with a note when the data's precision rules one out."""
    names = (tuple(fc.candidates) or default_method_names(precision)) if fc.method == "auto" else (fc.method,)
    if precision != "month":
        return names, ""
    dropped = [n for n in names if n.removesuffix(RELOCATED_SUFFIX) in NEEDS_TIMES]
    names = tuple(n for n in names if n not in dropped)
    if not names:
        raise InputError(
            f"[forecast] method {dropped[0]!r} needs day-precision incident times; the data has "
            "month precision. Choose another [forecast] method (e.g. auto or longrun_counts)."
        )
    return names, (f"{', '.join(dropped)}: need(s) day-precision times; left out (month data)." if dropped else "")


def _chosen_by_record(
    fc: ForecastConfig,
    events: EventTable,
    grid: Grid,
    fim: pd.Timestamp,
    horizon: Horizon,
    names: tuple[str, ...],
    context: CellContext,
    seed: int,
    progress: Callable[[str], None] | None,
    types: tuple[str, ...],
    notes: list[str],
    cache: dict | None = None,
    workers: int = 1,
) -> ForecastResult:
    """``method = "auto"``: the method the selection rule (:data:`~.selection.DEFAULT_RULE` at
    ``select_share`` / ``select_metric``) chooses from past scores, and as figures the selection
    procedure's own out-of-sample record over the last ``window`` origins (never the chosen
    method's score on the origins that chose it)."""
    rule = dataclasses.replace(DEFAULT_RULE, share=fc.select_share, metric=fc.select_metric)
    ch = choose_forecast(
        events,
        grid,
        fim,
        horizon,
        names,
        context,
        rule,
        fc.window,
        seed,
        progress,
        cache=cache,
        shares=fc.shares,
        workers=workers,
    )
    k = metrics.share_key(rule.share)
    f = ch.figures()
    figures: dict[str, Any] = (
        {
            f"hit_rate_{k}": f[f"record_hit_rate_{k}"],
            f"pai_{k}": f[f"record_pai_{k}"],
            "origins": f["record_origins"],
            "baseline_hit_rate": f[f"baseline_hit_rate_{k}"],
            "ceiling": f[f"ceiling_{k}"],
            "quoted": "track record",
        }
        if f
        else {}
    )
    selected_by = "backtest" if ch.selection is not None else "default (too little history to backtest)"
    choices: dict[str, str] = {}
    choose(choices, "method", f"forecast method chosen automatically: {ch.method} ({selected_by})")
    return ForecastResult(
        method=ch.method,
        selected_by=selected_by,
        risk=ch.risk,
        expected=ch.expected,
        grid=grid,
        origin=fim,
        horizon=horizon,
        backtest=ch.backtest,
        crime_types=types,
        figures=figures,
        shares=tuple(fc.shares),
        notes=tuple(notes) + ch.notes,
        choices=dict(choices),
        selection=ch.selection,
        location_change=ch.location_change,
    )


def _choose_method(fc: ForecastConfig, bt: BacktestResult | None, names: tuple[str, ...]) -> tuple[str, str]:
    if fc.method != "auto":
        return fc.method, "configured"
    if bt is not None:
        return bt.best(fc.select_share, fc.select_metric), "backtest"
    return ("longrun_counts" if "longrun_counts" in names else names[0]), "default (too little history to backtest)"


def _figures(bt: BacktestResult | None, chosen: str) -> dict[str, Any]:
    """The chosen method's mean backtest metrics (empty without a backtest)."""
    if bt is None:
        return {}
    row = bt.summary().set_index("method").loc[chosen]
    figures = {k: (float(v) if isinstance(v, (int, float, np.floating, np.integer)) else v) for k, v in row.items()}
    figures["origins"] = int(figures.get("origins", 0))
    return figures
