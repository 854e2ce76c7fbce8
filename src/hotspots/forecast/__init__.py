"""Forecast backtesting: which method puts patrols where the next fortnight's crime happens.

* :mod:`.harness` – rolling-origin backtest with a look-ahead guard
  (:class:`~.harness.History`, :func:`~.harness.backtest`);
* :mod:`.metrics` – hit rate, PAI, PEI, RRI and Poisson log-likelihood at fixed area shares;
* :mod:`.methods` – naive counts, retrospective and long-run KDE, prospective near-repeat,
  Gi* and a learned Poisson gradient-boosting model, all ``fit(history)`` / ``predict(origin, horizon)``;
* :mod:`.features` – past-only cell features for the learned model;
* :mod:`.exposure` – static exposure covariates per cell (addresses, households, distances, cameras);
* :mod:`.etas` – the self-exciting point process (ETAS / SEPP) forecast, its EM fit and a simulator;
* :mod:`.locations` – detecting a change of the published location set, and relocated history;
* :mod:`.selection` – choosing the method from past scores, and the choice's own out-of-sample record;
* :mod:`.choice` – the forecast for a meeting: location change, candidates, backtest, choice, fit;
* :mod:`.cache_key` – keys of the data, for caches that must not return another data set's results;
* :mod:`.stage` – ``run_forecast`` for the FIM pipeline (``[forecast]`` section);
* :mod:`.plots`, :mod:`.cli` – PNG plots and ``hotspots backtest``.

Heavy modules are imported lazily: ``from hotspots.forecast import run_forecast`` works.
"""

from __future__ import annotations

__all__ = ["ForecastConfig", "ForecastResult", "run_forecast", "backtest", "EventTable", "History", "Horizon",
           "make_origins", "make_method", "make_methods"]

_WHERE = {"ForecastConfig": "stage", "ForecastResult": "stage", "run_forecast": "stage", "backtest": "harness",
          "EventTable": "harness", "History": "harness", "Horizon": "harness", "make_origins": "harness",
          "make_method": "methods", "make_methods": "methods"}


def __getattr__(name):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(name)
