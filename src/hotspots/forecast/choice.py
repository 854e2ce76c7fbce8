"""The forecast for a meeting, chosen as the track record says: the library half of the forecast stage.

:func:`choose_forecast` does, for one forecast origin (the FIM date), everything a pipeline stage
needs apart from reading its configuration: it detects a change of the published location set in
the incidents known before the origin (:mod:`.locations`) and then fits every candidate on the
relocated history; backtests the candidates over enough past origins for the selection rule's
window plus the record (:func:`.selection.origins_needed`); chooses the method with
:func:`.selection.select_for` (only origins whose horizon had ended count) and fits it on
everything known before the origin. The figure to quote is ``ForecastChoice.selection.quoted``:
the selection procedure's own out-of-sample record, never the chosen method's score on the
origins that chose it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from . import metrics
from .harness import BacktestResult, History, Horizon, backtest, forecast_surface, to_days
from .locations import LocationChangeResult, detect_location_change, relocated_names
from .selection import DEFAULT_RULE, Selection, method_for, origins_needed, select_for


@dataclass(frozen=True, eq=False)
class ForecastChoice:
    """What :func:`choose_forecast` found and made.

    ``selection`` (:class:`~.selection.Selection`: the method, its members, the record and the
    quoted figure), ``backtest`` (:class:`~.harness.BacktestResult` of the candidates, or None
    when there was too little history; then ``selection`` is None and ``method`` the fallback),
    ``location_change`` (:class:`~.locations.LocationChangeResult`), ``candidates`` (as fitted,
    ``+relocated`` after a change), ``method`` (the chosen name), ``risk`` and ``expected``
    (nrows, ncols; NaN outside the area): the chosen method's surface and expected incidents per
    cell for the horizon from ``origin``; ``notes`` for the pack.
    """

    method: str
    selection: Selection | None
    backtest: BacktestResult | None
    location_change: LocationChangeResult
    candidates: tuple[str, ...]
    risk: np.ndarray
    expected: np.ndarray
    origin: pd.Timestamp
    horizon: Horizon
    notes: tuple[str, ...] = ()

    def figures(self) -> dict:
        """The figures a pack quotes: the record's mean hit rate at the rule's share, the baseline's,
        the ceiling and the number of origins (empty without a record)."""
        if self.selection is None or self.backtest is None:
            return {}
        rec = self.selection.record
        share = self.selection.rule.share
        k = metrics.share_key(share)
        n = self.backtest.n_cells
        return {
            f"record_hit_rate_{k}": rec.achieved,
            f"record_pai_{k}": rec.achieved / (metrics.n_flagged(n, share) / n),
            f"baseline_hit_rate_{k}": rec.baseline_mean,
            f"ceiling_{k}": rec.ceiling_mean,
            "record_origins": len(rec.table),
            "baseline": rec.baseline,
        }


def origins_before(origin, horizon, n: int) -> list:
    """The ``n`` origins one horizon apart whose last horizon ends at ``origin`` (month horizons:
    at the first of ``origin``'s month)."""
    base = pd.Timestamp(origin)
    if horizon.months:
        base = base.normalize().replace(day=1)
    return [horizon.step_back(base, k) for k in range(int(n), 0, -1)]


def choose_forecast(
    events,
    grid,
    origin,
    horizon,
    names,
    context=None,
    rule=None,
    record_origins: int = 12,
    seed: int = 0,
    progress=None,
    cache: dict | None = None,
    fallback: str = "longrun_counts",
    baseline: str = "naive_12m",
    shares=(0.01, 0.05, 0.10),
    workers: int = 1,
) -> ForecastChoice:
    """Choose the forecast method for ``origin`` by the selection procedure's record and forecast.

    ``events``: :class:`~.harness.EventTable` of the incidents to forecast (only those known
    before ``origin`` are used); ``grid``; ``origin``: tz-aware timestamp (the FIM date);
    ``horizon``: :class:`~.harness.Horizon`; ``names``: candidate method names; ``context``: cell
    covariates (:class:`~.features.CellContext`, with exposure features when available);
    ``rule``: :class:`~.selection.SelectionRule` (default :data:`~.selection.DEFAULT_RULE`);
    ``record_origins``: origins the quoted record covers; ``baseline``: the method the record is
    compared with (backtested as it is, never relocated, whether or not it is a candidate);
    ``shares``: area shares scored (the rule's share is always among them); ``cache``: the dict
    the backtest keeps features and surfaces in (e.g. a :class:`~.store.PersistentCache`, to
    reuse the fits of earlier runs); ``workers``: processes fitting the backtest's origins side by
    side (:func:`~.harness.backtest`; the result is the same whatever the number).
    """
    rule = DEFAULT_RULE if rule is None else rule
    origin = pd.Timestamp(origin)
    if origin.tzinfo is None:
        raise InputError("choose_forecast: the origin must be a tz-aware timestamp (local midnight of the meeting).")
    o_day = to_days(origin)
    known = events.subset(events.t_end < o_day)
    notes = []
    change = detect_location_change(known.x, known.y, known.t)
    names = tuple(names)
    if change.detected:
        names = relocated_names(names)
        notes.append(
            change.describe() + " Every method was fitted on the earlier incidents moved to the nearest "
            "point in use since the change."
        )
    first = float(known.t.min()) if len(known) else o_day
    origins = [
        o for o in origins_before(origin, horizon, origins_needed(rule, record_origins)) if to_days(o) - first >= 365
    ]
    cache = {} if cache is None else cache
    methods = {n: method_for(n, seed, known.precision) for n in names}
    methods.setdefault(baseline, method_for(baseline, seed, known.precision))
    bt = sel = None
    if len(origins) > max(rule.window, 1):
        shares = tuple(sorted(set(float(s) for s in shares) | {float(rule.share)}))
        bt = backtest(
            known,
            grid,
            methods,
            origins,
            horizon,
            shares=shares,
            context=context,
            progress=progress,
            cache=cache,
            keep_surfaces=rule.blend_top > 1,
            workers=workers,
        )
        sel = select_for(
            bt, origin, rule, names, record_origins=min(record_origins, len(origins) - 1), baseline=baseline
        )
        chosen = sel.method
    else:
        chosen = next((n for n in names if n.startswith(fallback)), names[0])
        notes.append(
            f"Too little history before the meeting to backtest: the forecast uses {chosen} without a track record."
        )
    hist = History(known, origin, horizon, grid, context, cache)
    # through the cache: the next meeting backtests this origin with these very data and finds the fit
    risk = np.array(forecast_surface(method_for(chosen, seed, known.precision), hist, chosen))
    total = hist.rate_per_day(365.0) * (to_days(horizon.end(origin)) - o_day)
    expected = metrics.expected_counts(risk, grid.mask, total)
    expected[~grid.mask] = np.nan
    return ForecastChoice(chosen, sel, bt, change, names, risk, expected, origin, horizon, tuple(notes))
