"""The library half of the forecast stage: chosen by the record, quoted as the record."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.forecast.choice import choose_forecast, origins_before
from hotspots.forecast.harness import Horizon, to_days
from hotspots.forecast.selection import SelectionRule, origins_needed
from hotspots.geo.grid import Grid

TZ = "Europe/London"


def test_monthly_choice_after_a_location_change_is_relocated_and_quotes_its_record():
    from test_locations import _snapped

    ev, _o, _n = _snapped(seed=6, months=48, change_at=30, per_month=300)
    grid = Grid.from_boundary(shapely.box(0, 0, 4000, 4000), 100)
    hz = Horizon(days=0, months=1)
    meeting = pd.Timestamp("2021-10-07", tz=TZ)
    rule = SelectionRule(window=3)
    got = choose_forecast(
        ev, grid, meeting, hz, ["naive_12m", "naive_36m", "longrun_counts"], rule=rule, record_origins=6
    )
    assert got.location_change.detected and got.location_change.latest.month == "2020-07"
    assert got.candidates == ("naive_12m+relocated", "naive_36m+relocated", "longrun_counts+relocated")
    assert any("2020-07" in n for n in got.notes)
    bt = got.backtest
    assert len(bt.origins) == origins_needed(rule, 6) == 9
    assert bt.origins[-1] == pd.Timestamp("2021-09-01", tz=TZ)  # the last horizon ends at the meeting's month
    # the choice: best mean of the last 3 completed origins; the quote: the record's mean, recomputed here
    wide = bt.scores.pivot(index="origin", columns="method", values="hit_rate_5")
    assert got.method == wide.iloc[-3:].mean().idxmax()
    hits = []
    for i in range(3, 9):
        hits.append(wide.iloc[i][wide.iloc[i - 3 : i].mean().idxmax()])
    assert got.selection.quoted == pytest.approx(float(np.mean(hits)))
    assert got.figures()["record_hit_rate_5"] == pytest.approx(float(np.mean(hits)))
    assert got.figures()["record_origins"] == 6
    # the forecast uses nothing from the meeting's day on
    assert got.risk.shape == grid.shape and np.nansum(got.expected) > 0
    later = ev.subset(ev.t_end >= to_days(meeting))
    assert len(later) > 0  # there is future data it must not have seen
    assert origins_before(meeting, hz, 2) == [pd.Timestamp("2021-08-01", tz=TZ), pd.Timestamp("2021-09-01", tz=TZ)]


def test_too_little_history_falls_back_without_a_record():
    from test_locations import _snapped

    ev, _o, _n = _snapped(seed=1, months=14, change_at=None, per_month=200)
    grid = Grid.from_boundary(shapely.box(0, 0, 4000, 4000), 200)
    got = choose_forecast(
        ev, grid, pd.Timestamp("2019-02-10", tz=TZ), Horizon(days=0, months=1), ["naive_12m", "longrun_counts"]
    )
    assert got.selection is None and got.backtest is None and got.method == "longrun_counts"
    assert got.figures() == {} and "Too little history" in got.notes[0]
