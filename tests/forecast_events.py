"""Synthetic incidents for the forecast tests: uniform over a 1 km square plus a quarter of them in
one hot rectangle, on random days."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots.forecast.harness import EventTable


def clustered_events(
    seed: int = 0,
    n: int = 3000,
    days: int = 900,
    hot: tuple[float, float, float, float] = (300, 400, 600, 700),
    start: str = "2021-01-01",
) -> EventTable:
    """``n`` incidents (x, y in metres on [0, 1000]^2), a quarter of them inside ``hot`` =
    (x0, x1, y0, y1), dated on whole days from ``start`` over ``days`` days."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1000, n)
    y = rng.uniform(0, 1000, n)
    is_hot = rng.random(n) < 0.25
    x[is_hot] = rng.uniform(hot[0], hot[1], is_hot.sum())
    y[is_hot] = rng.uniform(hot[2], hot[3], is_hot.sum())
    dates = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, n), unit="D")
    return EventTable.from_dates(x, y, dates)
