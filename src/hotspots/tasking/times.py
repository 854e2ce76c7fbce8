"""Times of day for the tasking list: day-of-week x hour slots, peak days and hours, night or day.

Times are local (the incidents' ``start``/``end`` are tz-aware in ``[project]
timezone``); an incident is placed at the midpoint of its time window. Peak
times need times to the minute: with day or month precision (police.uk is
month) a problem's time of day is :data:`UNKNOWN_TIME`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config.sections import UNKNOWN_TIME

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

#: Day-of-week x hour slots in a week (7 x 24).
SLOTS = 7 * 24

__all__ = ["DAYS", "SLOTS", "UNKNOWN_TIME", "day_hour_profile", "peak_days_hours", "slot_codes"]


def slot_codes(incidents: pd.DataFrame) -> np.ndarray | None:
    """Day-of-week x 24 + hour (0..167, Monday 00:00 = 0) of each incident's time midpoint, local time;
    None unless every incident is timed to the minute."""
    if not len(incidents) or (incidents["time_precision"] != "minute").any():
        return None
    mid = incidents["start"] + (incidents["end"] - incidents["start"]) / 2
    return (mid.dt.dayofweek.to_numpy() * 24 + mid.dt.hour.to_numpy()).astype(np.int64)


def day_hour_profile(incidents: pd.DataFrame) -> np.ndarray | None:
    """7 x 24 counts by the midpoint of each incident's time window; None unless minute precision."""
    codes = slot_codes(incidents)
    if codes is None:
        return None
    return np.bincount(codes, minlength=SLOTS).reshape(7, 24).astype(float)


def peak_days_hours(profile: np.ndarray | None) -> tuple[str, str, str]:
    """(peak days, peak hours, day/night) from a 7 x 24 day-of-week x hour count array.

    Peak days: the two busiest days with their share; peak hours: the busiest
    3-hour window (wrapping midnight); night when at least half the incidents
    fall between 18:00 and 06:00.
    """
    if profile is None or np.asarray(profile).sum() == 0:
        return "", "", ""
    p = np.asarray(profile, dtype=float)
    tot = p.sum()
    by_day = p.sum(axis=1)
    top = np.argsort(-by_day, kind="stable")[:2]
    days = ", ".join(f"{DAYS[d]} ({100 * by_day[d] / tot:.0f}%)" for d in top)
    by_hour = p.sum(axis=0)
    win = np.array([by_hour[[(h + k) % 24 for k in range(3)]].sum() for h in range(24)])
    h0 = int(np.argmax(win))
    hours = f"{h0:02d}:00-{(h0 + 3) % 24:02d}:00 ({100 * win[h0] / tot:.0f}%)"
    night = by_hour[list(range(18, 24)) + list(range(0, 6))].sum() / tot
    return days, hours, ("night" if night >= 0.5 else "day")
