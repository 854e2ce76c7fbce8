"""The inputs of every command, loaded one way: study area, ingest, meeting date, incidents, grid.

:func:`load_inputs` is what ``hotspots run`` and every analysis subcommand call
first: it reads the study area and the incidents a config describes, fixes the
meeting (FIM) date, keeps the incidents whose whole time window lies before it
(a police.uk month is used once the month is over) and builds the analysis grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..announce import reporting_to
from ..config import Config
from ..errors import InputError
from ..geo.grid import Grid
from ..geo.study_area import StudyArea, read_study_area
from ..ingest import IngestResult, IngestSettings, read_incidents
from ..model import local_midnight
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


def parse_fim_date(value: str | None, incidents: pd.DataFrame, tz: str) -> pd.Timestamp:
    """The FIM date as tz-aware midnight in ``tz``; default the day after the latest incident ends
    (so every accepted incident lies wholly before it)."""
    if value:
        try:
            d = pd.Timestamp(value)
        except ValueError:
            raise InputError(f"--date {value!r} is not a date; use YYYY-MM-DD.") from None
        return local_midnight(d, tz)
    if not len(incidents):
        return pd.Timestamp.now(tz=tz).normalize()
    last_day = incidents["end"].max().tz_convert(tz).tz_localize(None).normalize()
    return local_midnight(last_day + pd.Timedelta(days=1), tz)


@dataclass(frozen=True, eq=False)
class RunInputs:
    """What every stage starts from.

    ``incidents`` are the accepted incidents whose whole time window ends before
    ``fim_date`` (tz-aware midnight at the start of the meeting day, in
    ``[project] timezone``); ``ingest`` keeps every accepted and quarantined row.
    ``previous_pack`` (an earlier pack given with ``--previous``) and
    ``pack_dir`` (where this run's pack goes; an earlier ``fim-YYYY-MM-DD``
    sibling is the previous pack when none is given) tell the tasking list what
    to compare with.
    """

    cfg: Config
    area: StudyArea
    ingest: IngestResult
    fim_date: pd.Timestamp
    incidents: gpd.GeoDataFrame
    grid: Grid
    previous_pack: Path | None = None
    pack_dir: Path | None = None

    @property
    def window_start(self) -> pd.Timestamp:
        """Start of the analysis window: ``[analysis] lookback_days`` before the meeting."""
        return self.fim_date - pd.Timedelta(days=self.cfg.analysis.lookback_days)

    def recent(self, days: int | None = None) -> gpd.GeoDataFrame:
        """Incidents that started in the ``days`` (default ``[analysis] lookback_days``) before the meeting."""
        start = self.fim_date - pd.Timedelta(days=days or self.cfg.analysis.lookback_days)
        inc = self.incidents
        return inc[inc["start"] >= start]


def load_inputs(
    cfg: Config,
    fim_date: str | None = None,
    reporter: Reporter | None = None,
    *,
    now: pd.Timestamp | None = None,
    previous: str | Path | None = None,
    pack_dir: str | Path | None = None,
) -> RunInputs:
    """Study area, ingest, the meeting date, the incidents before it and the analysis grid for ``cfg``.

    ``fim_date`` (YYYY-MM-DD) defaults to the day after the latest incident;
    ``reporter`` prints progress and hears the automatic choices (quiet when
    None); ``now`` is the limit for "date in the future" (default: now).
    """
    rep = reporter or Reporter(quiet=True)
    with reporting_to(rep.chose):
        with rep.stage("study area"):
            area = load_study_area(cfg)
        for n in area.notes:
            rep.say("  note: " + n)
        with rep.stage("ingest"):
            ing = load_incidents(cfg, area, now=now)
        rep.say(ing.report())
        fim = parse_fim_date(fim_date, ing.incidents, cfg.timezone)
        inc = ing.incidents[ing.incidents["end"] < fim].reset_index(drop=True)
        if len(inc) == 0:
            raise InputError(f"no accepted incidents before the FIM date {fim:%Y-%m-%d}; choose a later --date.")
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
    )
