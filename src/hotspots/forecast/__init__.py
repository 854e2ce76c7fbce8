"""Forecast backtesting: which method puts patrols where the next fortnight's crime happens.

* :mod:`.harness` – rolling-origin backtest with a look-ahead guard
  (:class:`~.harness.History`, :func:`~.harness.backtest`);
* :mod:`.metrics` – hit rate, PAI, PEI, RRI and Poisson log-likelihood at fixed area shares;
* :mod:`.base` – :class:`~.base.ForecastMethod`, the base class of every method;
* :mod:`.methods` – naive counts, retrospective and long-run KDE, prospective near-repeat,
  Gi* and a learned Poisson gradient-boosting model, all ``fit(history)`` / ``predict(origin, horizon)``;
* :mod:`.features` – past-only cell features for the learned model;
* :mod:`.exposure` – static exposure covariates per cell (addresses, households, distances, cameras);
* :mod:`.etas` – the self-exciting point process (ETAS / SEPP) forecast, its EM fit and a simulator;
* :mod:`.locations` – detecting a change of the published location set, and relocated history;
* :mod:`.selection` – choosing the method from past scores, and the choice's own out-of-sample record;
* :mod:`.choice` – the forecast for a meeting: location change, candidates, backtest, choice, fit;
* :mod:`.cache_key` – keys of the data, for caches that must not return another data set's results;
* :mod:`.outlook` – :func:`~.outlook.forecast_outlook`: the method chosen by the selection record and its
  forecast for the coming horizon (the pipeline's forecast stage calls it with ``[forecast]``);
* :mod:`.plots` – PNG plots of a backtest.

Modules are imported on first use: ``from hotspots.forecast import forecast_outlook`` works.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "EventTable",
    "ForecastResult",
    "History",
    "Horizon",
    "backtest",
    "forecast_outlook",
    "make_method",
    "make_methods",
    "make_origins",
]

_WHERE = {
    "ForecastResult": "outlook",
    "forecast_outlook": "outlook",
    "backtest": "harness",
    "EventTable": "harness",
    "History": "harness",
    "Horizon": "harness",
    "make_origins": "harness",
    "make_method": "methods",
    "make_methods": "methods",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(name)
