"""Options of the learned forecast model: monotone constraints on named features, histogram bins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from forecast_events import clustered_events

from hotspots.errors import ConfigError
from hotspots.forecast.harness import History, Horizon, backtest, make_origins, to_days
from hotspots.forecast.methods import LearnedRisk, monotone_constraints
from hotspots.geo.grid import Grid

TZ = "Europe/London"


def _events(seed=0, n=3000, days=900):
    return clustered_events(seed, n, days)


def _grid(cell_m: float = 50.0):
    return Grid.from_boundary(shapely.box(0, 0, 1000, 1000), cell_m)


def test_monotone_constraints_by_hand():
    names = ["count_91d", "count_365d", "kde_300m_1095d", "month_sin"]
    assert monotone_constraints(names, ()) is None
    assert monotone_constraints(names, ("month_sin", "count_91d")) == [1, 0, 0, 1]
    with pytest.raises(ConfigError, match="count_14d") as exc:
        monotone_constraints(names, ("count_91d", "count_14d"))
    assert "choose from count_91d, count_365d" in str(exc.value)


KW = dict(n_train_origins=6, with_prospective=False, random_state=3)
ORIGIN = pd.Timestamp("2022-08-01", tz=TZ)


def _recording_estimator(monkeypatch) -> list[dict]:
    """Record the settings of every boosting model the learned model builds (the fitted model keeps
    only its trees)."""
    import hotspots.forecast.methods as methods

    seen: list[dict] = []
    base = methods.HistGradientBoostingRegressor

    class Recording(base):  # type: ignore[misc, valid-type]
        def fit(self, X, y, sample_weight=None):
            seen.append(self.get_params())
            return super().fit(X, y, sample_weight=sample_weight)

    monkeypatch.setattr(methods, "HistGradientBoostingRegressor", Recording)
    return seen


def test_monotone_model_only_rises_with_the_constrained_features(monkeypatch):
    seen = _recording_estimator(monkeypatch)
    ev, grid = _events(), _grid()
    inc = ("count_365d", "count_91d")
    m = LearnedRisk(monotone_increasing=inc, **KW).fit(History(ev, ORIGIN, Horizon(14), grid))
    assert len(seen) == 1
    cst = list(seen[0]["monotonic_cst"])
    assert cst == [1 if n in inc else 0 for n in m.feature_names_] and sum(cst) == 2
    X = m.X_now_
    for name in inc:
        j = m.feature_names_.index(name)
        lo, hi = X.copy(), X.copy()
        hi[:, j] = lo[:, j] + 1 + np.arange(len(X)) % 3
        # every cell's forecast is at least as high with more incidents in the constrained window
        assert np.all(m.model_.predict(hi) >= m.model_.predict(lo) - 1e-12)


def test_options_reach_the_boosting_and_stay_deterministic_without_look_ahead(monkeypatch):
    ev, grid = _events(seed=1), _grid()
    origins = make_origins("2022-07-04", "2022-08-01", Horizon(14), TZ)
    meth = {"m": LearnedRisk(max_bins=31, monotone_increasing=("count_365d",), **KW)}
    one = backtest(ev, grid, meth, origins, keep_surfaces=True)
    # the same forecasts from a table that never had the incidents after the last origin
    past = ev.subset(ev.t_end < to_days(one.origins[-1]))
    two = backtest(past, grid, meth, origins[-1:], keep_surfaces=True)
    o = one.origins[-1]
    assert np.array_equal(one.surfaces[(o, "m")], two.surfaces[(o, "m")], equal_nan=True)
    seen = _recording_estimator(monkeypatch)
    m = LearnedRisk(max_bins=31, **KW).fit(History(ev, o, Horizon(14), grid))
    assert [p["max_bins"] for p in seen] == [31]
    # fewer bins is a different model
    base = LearnedRisk(**KW).fit(History(ev, o, Horizon(14), grid)).predict(o, Horizon(14))[grid.mask]
    assert not np.array_equal(m.predict(o, Horizon(14))[grid.mask], base)


def test_month_data_candidates_use_the_tuned_bins_and_day_data_keep_the_default():
    from hotspots.forecast.methods import LEARNED_MONTH_DEFAULTS, make_method

    assert LEARNED_MONTH_DEFAULTS == {"max_bins": 31}
    for name in ("learned", "blend", "learned+relocated"):
        month = make_method(name, 0, "month")
        day = make_method(name, 0, "day")
        learned_month = month.methods[0] if name == "blend" else getattr(month, "method", month)
        learned_day = day.methods[0] if name == "blend" else getattr(day, "method", day)
        assert learned_month.max_bins == 31 and not learned_month.with_prospective
        assert learned_day.max_bins == 255 and learned_day.with_prospective
    assert make_method("learned_etas", 0, "day").max_bins == 255
