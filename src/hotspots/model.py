"""Data contracts shared by every stage: the incident table and the study area.

Incidents
    A GeoDataFrame in EPSG:27700 (metres) with exactly :data:`INCIDENT_COLUMNS`.
    ``crime_type`` is a canonical category (see :mod:`hotspots.config`),
    ``offence`` the source's own label; ``start``/``end`` are tz-aware
    (Europe/London) timestamps bounding when the crime happened (equal when the
    time is exact); ``time_precision`` is ``minute``, ``day`` or ``month``
    (police.uk is ``month``: start = first instant of the month, end = last).
    ``harm`` is the weight of the configured harm scheme.

StudyArea
    The boundary polygon and the wards (with population and households), all
    EPSG:27700.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import PrecisionError

BNG = "EPSG:27700"

INCIDENT_COLUMNS = (
    "incident_id", "crime_type", "offence", "start", "end", "time_precision", "x", "y",
    "location_text", "ward_code", "lsoa_code", "harm", "geometry",
)

#: Order of time precisions from finest to coarsest.
PRECISIONS = ("minute", "day", "month")


def coarsest_precision(incidents) -> str:
    """The coarsest ``time_precision`` present (``minute`` < ``day`` < ``month``)."""
    present = set(incidents["time_precision"].unique()) if len(incidents) else {"minute"}
    for p in reversed(PRECISIONS):
        if p in present:
            return p
    return "minute"


def require_precision(incidents, needed: str, analysis: str, remedy: str = "") -> None:
    """Refuse an analysis that needs finer time than the data has.

    ``needed`` is ``minute`` or ``day``. Raises :class:`PrecisionError` whose
    message says why and what would work instead.
    """
    have = coarsest_precision(incidents)
    if PRECISIONS.index(have) > PRECISIONS.index(needed):
        n = int((incidents["time_precision"] == have).sum())
        msg = (f"{analysis} needs {needed}-precision times, but {n} incident(s) only have {have} precision "
               f"(police.uk publishes months only).")
        if remedy:
            msg += " " + remedy
        raise PrecisionError(msg)


def midpoint_times(incidents) -> np.ndarray:
    """Midpoint of each incident's [start, end] window as float days since 1970-01-01 (UTC)."""
    s = days_since_epoch(incidents["start"])
    e = days_since_epoch(incidents["end"])
    return (s + e) / 2.0


def days_since_epoch(times) -> np.ndarray:
    """Tz-aware timestamps (Series, index or list) as float days since 1970-01-01 00:00 UTC,
    whatever pandas time unit they are stored in."""
    import pandas as pd

    return pd.DatetimeIndex(times).tz_convert("UTC").as_unit("ns").asi8 / 86400e9


@dataclass(frozen=True, eq=False)
class StudyArea:
    """Boundary and wards of the area analysed (EPSG:27700).

    ``wards`` has columns ``ward_code, ward_name, population, households,
    geometry`` (population/households NaN when no population file is given).
    ``roads`` (optional) has ``road_class`` and geometry; ``town_centres``
    (optional) has ``name`` and point geometry.
    """

    name: str
    boundary: object
    wards: object
    lsoas: object = None
    roads: object = None
    town_centres: object = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def area_km2(self) -> float:
        return float(self.boundary.area) / 1e6

    def grid(self, cell_size_m: float = 0.0):
        """The analysis grid over this area (see :class:`hotspots.geo.grid.Grid`)."""
        from .geo.grid import Grid

        return Grid.from_boundary(self.boundary, cell_size_m)
