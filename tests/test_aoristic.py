"""Aoristic hour-by-weekday weights: hand-computed cases and the R aoristic package's reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.analysis.aoristic import WEEKDAYS, aoristic_hour_by_weekday, aoristic_weights


def col(day, hour):
    return 24 * WEEKDAYS.index(day) + hour


def test_hand_computed_windows():
    # 2024-01-01 is a Monday
    start = pd.to_datetime(
        [
            "2024-01-01 10:30",
            "2024-01-02 09:15",
            "2024-01-07 23:30",
            "2024-01-03 08:00",
            "2024-01-03 08:00",
            "2024-01-04 12:00",
        ]
    )
    end = pd.to_datetime(
        ["2024-01-01 12:30", None, "2024-01-08 00:30", "2024-01-20 08:00", "2024-01-03 07:00", "2024-01-04 12:00"]
    )
    w = aoristic_weights(start, end)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    # 10:30-12:30: 30 of 120 minutes in hour 10, 60 in hour 11, 30 in hour 12
    assert w[0, col("Mon", 10)] == pytest.approx(0.25)
    assert w[0, col("Mon", 11)] == pytest.approx(0.5)
    assert w[0, col("Mon", 12)] == pytest.approx(0.25)
    # missing end: all weight in the start hour
    assert w[1, col("Tue", 9)] == 1.0
    # Sunday 23:30 -> Monday 00:30 wraps round the week
    assert w[2, col("Sun", 23)] == pytest.approx(0.5) and w[2, col("Mon", 0)] == pytest.approx(0.5)
    # more than a week: even spread
    np.testing.assert_allclose(w[3], 1 / 168)
    # end before start, and zero-length window: the start hour
    assert w[4, col("Wed", 8)] == 1.0
    assert w[5, col("Thu", 12)] == 1.0


def test_timezone_aware_input_read_on_local_clock():
    start = pd.Series(pd.to_datetime(["2024-07-01 09:10"]).tz_localize("Europe/London")).dt.tz_convert("UTC")
    end = start + pd.Timedelta(minutes=20)
    w = aoristic_weights(start, end)
    assert w[0, col("Mon", 9)] == pytest.approx(1.0)


def test_matches_r_aoristic_reference(shared_data):
    d = shared_data / "nearrepeat_validation"
    dc = pd.read_csv(d / "dc_burglary_2016h1_epsg2248.csv")
    ref = pd.read_csv(d / "dc_burglary_2016h1_aoristic_hour_by_weekday_reference.csv")
    ours = aoristic_hour_by_weekday(pd.to_datetime(dc.start_datetime_local), pd.to_datetime(dc.end_datetime_local))
    np.testing.assert_allclose(ours.to_numpy(), ref[list(WEEKDAYS)].to_numpy(), atol=0.0006)
    assert ours.to_numpy().sum() == pytest.approx(len(dc))
