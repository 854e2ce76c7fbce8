"""The inputs of every command, loaded one way: study area, ingest, meeting date, incidents, grid.

:func:`load_inputs` is what ``hotspots run`` and every analysis subcommand call
first: it reads the study area and the incidents a config describes, fixes the
meeting (FIM) date, keeps the incidents whose whole time window lies before it
(a police.uk month is used once the month is over) and builds the analysis grid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..announce import choose, reporting_to
from ..config import Config
from ..errors import InputError
from ..geo.grid import Grid
from ..geo.study_area import StudyArea, read_study_area
from ..ingest import IngestResult, IngestSettings, read_incidents
from ..model import coarsest_precision, local_midnight, parse_meeting_date
from ..progress import Reporter


def load_study_area(cfg: Config) -> StudyArea:
    """The study area of ``[study_area]`` in the working CRS (``[project] crs``)."""
    return read_study_area(cfg.study_area, cfg.data_dir, cfg.project.name, cfg.crs)


def ingest_settings(cfg: Config) -> IngestSettings:
    """The explicit settings ingest needs, taken from a config."""
    return IngestSettings(
        data_dir=cfg.data_dir,
        crime_type_map=cfg.crime_type_map,
        harm_weights=cfg.harm_weights(),
        timezone=cfg.timezone,
        boundary_tolerance_m=cfg.study_area.boundary_tolerance_m,
    )


def load_incidents(cfg: Config, area: StudyArea, now: pd.Timestamp | None = None) -> IngestResult:
    """Read, validate and geocode every ``[[incidents]]`` source of ``cfg``
    (see :func:`hotspots.ingest.read_incidents`)."""
    return read_incidents(cfg.incidents, area, ingest_settings(cfg), now=now)


def _today(now: pd.Timestamp | None, tz: str) -> dt.date:
    """The local date of ``now`` (default: the current time) in ``tz``."""
    if now is None:
        return pd.Timestamp.now(tz=tz).date()
    return (now.tz_convert(tz) if now.tzinfo is not None else now).date()


def parse_fim_date(
    value: str | dt.date | None, incidents: pd.DataFrame, tz: str, now: pd.Timestamp | None = None
) -> pd.Timestamp:
    """The FIM date as tz-aware midnight in ``tz``; default the day after the latest incident ends
    (so every accepted incident lies wholly before it).

    A given ``value`` (``YYYY-MM-DD``, or a date / timestamp taken as its calendar day) must be a date
    no more than a year after ``now`` (default: now); see :func:`hotspots.model.parse_meeting_date`.
    """
    if value is not None:
        return local_midnight(pd.Timestamp(parse_meeting_date(value, "--date", _today(now, tz))), tz)
    if not len(incidents):
        return pd.Timestamp.now(tz=tz).normalize()
    last_day = incidents["end"].max().tz_convert(tz).tz_localize(None).normalize()
    return local_midnight(last_day + pd.Timedelta(days=1), tz)


@dataclass(frozen=True)
class AnalysisWindow:
    """The analysis window before the meeting: incidents that started in [``start``, ``end``).

    For day- and minute-precision data it is the ``[analysis] lookback_days``
    days before the meeting (``end`` = the FIM date). For month-precision data
    (police.uk) it is the whole calendar months nearest that length ending
    before the meeting's month, so no month is cut and yearly rates use the true
    number of days. ``start``/``end`` are tz-aware local midnights.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    months: int = 0  # whole calendar months (month-precision data); 0 = a window of days

    @property
    def days(self) -> int:
        """Calendar days in the window."""
        return int((self.end.date() - self.start.date()).days)

    @property
    def label(self) -> str:
        """The window in words, e.g. ``2012-01-01 to 2012-12-31 (366 days, 12 whole months)``."""
        last = (self.end.tz_localize(None) - pd.Timedelta(days=1)).date()
        months = f", {self.months} whole months" if self.months else ""
        return f"{self.start:%Y-%m-%d} to {last:%Y-%m-%d} ({self.days} days{months})"

    def select(self, incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The incidents that started inside the window."""
        return incidents[(incidents["start"] >= self.start) & (incidents["start"] < self.end)]


def analysis_window(fim_date: pd.Timestamp, lookback_days: int, precision: str, tz: str) -> AnalysisWindow:
    """The one rule for the analysis window (see :class:`AnalysisWindow`); ``precision`` is the
    coarsest time precision of the incidents (``minute``, ``day`` or ``month``)."""
    meeting = fim_date.tz_convert(tz).tz_localize(None).normalize()
    if precision == "month":
        months = max(1, round(lookback_days / (365.25 / 12)))
        end = meeting.to_period("M").start_time
        start = end - pd.DateOffset(months=months)
        return AnalysisWindow(local_midnight(start, tz), local_midnight(end, tz), months)
    return AnalysisWindow(local_midnight(meeting - pd.Timedelta(days=lookback_days), tz), local_midnight(meeting, tz))


@dataclass(frozen=True, eq=False)
class RunInputs:
    """What every stage starts from.

    ``incidents`` are the accepted incidents whose whole time window ends before
    ``fim_date`` (tz-aware midnight at the start of the meeting day, in
    ``[project] timezone``); ``ingest`` keeps every accepted and quarantined row.
    ``window`` is the analysis window (:func:`analysis_window`). ``previous_pack``
    (an earlier pack given with ``--previous``) and ``pack_dir`` (where this
    run's pack goes; an earlier ``fim-YYYY-MM-DD`` sibling is the previous pack
    when none is given) tell the tasking list what to compare with. ``choices``
    holds the automatic choices made while loading (the meeting date when
    ``--date`` was not given), one sentence each.
    """

    cfg: Config
    area: StudyArea
    ingest: IngestResult
    fim_date: pd.Timestamp
    incidents: gpd.GeoDataFrame
    grid: Grid
    previous_pack: Path | None = None
    pack_dir: Path | None = None
    choices: dict[str, str] = field(default_factory=dict)

    @cached_property
    def window(self) -> AnalysisWindow:
        """The analysis window (:func:`analysis_window` for the incidents' coarsest time precision)."""
        return analysis_window(
            self.fim_date, self.cfg.analysis.lookback_days, coarsest_precision(self.incidents), self.cfg.timezone
        )

    @property
    def window_start(self) -> pd.Timestamp:
        """Start of the analysis window (see :class:`AnalysisWindow`)."""
        return self.window.start

    def recent(self, days: int | None = None) -> gpd.GeoDataFrame:
        """Incidents of the analysis window; with ``days``, those that started in the ``days`` before the meeting."""
        if days is None:
            return self.window.select(self.incidents)
        start = self.fim_date - pd.Timedelta(days=days)
        inc = self.incidents
        return inc[inc["start"] >= start]


def load_inputs(
    cfg: Config,
    fim_date: str | dt.date | None = None,
    reporter: Reporter | None = None,
    *,
    now: pd.Timestamp | None = None,
    previous: str | Path | None = None,
    pack_dir: str | Path | None = None,
) -> RunInputs:
    """Study area, ingest, the meeting date, the incidents before it and the analysis grid for ``cfg``.

    ``fim_date`` (YYYY-MM-DD, or a date) defaults to the day after the latest incident;
    ``reporter`` prints progress and hears the automatic choices (quiet when
    None); ``now`` is the limit for "date in the future" (default: now).
    """
    rep = reporter or Reporter(quiet=True)
    choices: dict[str, str] = {}
    if fim_date is not None:  # a mistyped --date stops the run before anything is read
        parse_meeting_date(fim_date, "--date", _today(now, cfg.timezone))
    with reporting_to(rep.chose):
        with rep.stage("study area"):
            area = load_study_area(cfg)
        for n in area.notes:
            rep.say("  note: " + n)
        with rep.stage("ingest"):
            ing = load_incidents(cfg, area, now=now)
        rep.say(ing.report())
        fim = parse_fim_date(fim_date, ing.incidents, cfg.timezone, now=now)
        inc = ing.incidents[ing.incidents["end"] < fim].reset_index(drop=True)
        if len(inc) == 0:
            raise InputError(
                f"no accepted incidents before the FIM date {fim:%Y-%m-%d}"
                + (f" (the data start on {ing.incidents['start'].min():%Y-%m-%d})" if len(ing.incidents) else "")
                + "; choose a later --date."
            )
        window = analysis_window(fim, cfg.analysis.lookback_days, coarsest_precision(inc), cfg.timezone)
        if not len(window.select(inc)):
            last = inc["end"].max()
            raise InputError(
                f"the analysis window before --date {fim:%Y-%m-%d} ({window.label}) holds no accepted incident: the "
                f"data end on {last:%Y-%m-%d}. Choose a meeting date within {cfg.analysis.lookback_days} days after "
                "that, or leave --date out to use the day after the latest incident."
            )
        if fim_date is None:
            latest = inc["end"].max()
            choose(
                choices,
                "fim_date",
                f"meeting date {fim:%Y-%m-%d}: the day after the latest incident ({latest:%Y-%m-%d}); "
                "give --date to choose another",
            )
        rep.say(f"  FIM date {fim:%Y-%m-%d}; analysis window {window.label}")
        with rep.stage("grid"):
            grid = area.grid(cfg.grid.cell_size_m)
        rep.say(f"  grid: {grid.cell_size:g} m cells, {grid.n_cells:,} cells inside the study area")
    return RunInputs(
        cfg=cfg,
        area=area,
        ingest=ing,
        fim_date=fim,
        incidents=inc,
        grid=grid,
        previous_pack=Path(previous) if previous else None,
        pack_dir=Path(pack_dir) if pack_dir else None,
        choices=choices,
    )
