"""Near-repeat analysis: how far and for how long burglary risk spreads, which
recent burglaries start chains, and which streets to visit this fortnight.

:func:`near_repeat` runs the whole analysis for one meeting date on an
Incidents GeoDataFrame; the pieces live in their own modules and are
re-exported here:

* :mod:`.knox` — banded Knox test (:func:`knox_test`, :func:`knox_for_incidents`, :class:`KnoxResult`)
* :mod:`.local_knox` — per-event local Knox (:func:`local_knox`)
* :mod:`.aoristic` — aoristic hour-by-weekday weights
* :mod:`.prospective` — Bowers-Johnson-Pease prospective risk surface (:func:`prospective_surface`)
* :mod:`.alerts` — merged near-repeat alert zones with expiry dates and streets
* :mod:`.repeats` — repeat victimisation and the repeat-rate KPI

Its settings are the ``[nearrepeat]`` section (:class:`NearRepeatConfig`).
Distances in metres (the incidents' projected CRS), times in local calendar
days (``timezone``, default Europe/London; the stage passes ``[project] timezone``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from .._csvsafe import write_csv
from ..announce import choose
from ..config.sections import NearRepeatConfig
from ..errors import InputError, PrecisionError
from ..geo.checks import require_points, require_same_crs
from ..geo.grid import Grid
from ..model import coarsest_precision, local_midnight, resolve_timezone
from .alerts import alert_zones
from .aoristic import aoristic_hour_by_weekday, aoristic_weights, incidents_aoristic
from .knox import KnoxResult, incident_days, knox_for_incidents, knox_test
from .local_knox import LocalKnoxResult, local_knox
from .prospective import prospective_surface
from .repeats import RepeatResult, repeat_victimisation

__all__ = [
    "KnoxResult",
    "LocalKnoxResult",
    "NearRepeatConfig",
    "NearRepeatResult",
    "RepeatResult",
    "alert_zones",
    "aoristic_hour_by_weekday",
    "aoristic_weights",
    "incidents_aoristic",
    "knox_for_incidents",
    "knox_test",
    "local_knox",
    "near_repeat",
    "near_repeat_knox",
    "prospective_surface",
    "repeat_victimisation",
]


#: Why no near-repeat alert zone is live ("" when one is); see :class:`NearRepeatResult`.
ZonesCause = Literal["", "no_burglaries", "none_recent", "expired"]


@dataclass(frozen=True, eq=False)
class NearRepeatResult:
    """Everything the near-repeat analysis produces for one meeting date.

    ``surface`` is the prospective risk on ``grid`` (nrows, ncols); ``zones``
    the live alert zones (GeoDataFrame in the incidents' CRS, columns of
    :data:`~hotspots.analysis.alerts.ZONE_COLUMNS`, ``expiry_date`` the last
    day a zone is live); ``local`` the local Knox of the recent burglaries
    (chain starters flagged); ``aoristic`` burglary weight by hour (rows) x
    weekday (columns), minute-precision data only. ``calibration`` says how the
    alert radius and duration were chosen; ``choices`` records it as an
    automatic choice when they were not set.

    ``n_burglaries`` is the one burglary count every page quotes: the
    burglaries of the ``lookback_days`` days before the meeting (by the local
    day of the middle of each one's time window), the events of the Knox test
    and of the repeat rate. ``n_recent`` of them fall in the last ``alert_days``
    days (those start alert zones); ``latest_burglary`` is the local day of the
    latest burglary before the meeting (None when there is none).
    ``zones_cause`` says why no zone is live (``""`` when one is):
    ``"no_burglaries"`` (none before the meeting), ``"none_recent"`` (none in
    the last ``alert_days`` days) or ``"expired"`` (the recent ones are older
    than ``duration_days``); ``zones_reason`` says it in plain words.
    """

    fim_date: pd.Timestamp
    n_burglaries: int
    knox: KnoxResult | None
    knox_refusal: str
    radius_m: float
    duration_days: float
    calibration: str
    surface: np.ndarray
    grid: Grid | None
    zones: gpd.GeoDataFrame
    repeats: RepeatResult
    local: pd.DataFrame | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    aoristic: pd.DataFrame | None = None
    choices: Mapping[str, str] = field(default_factory=dict)
    lookback_days: int = 365
    alert_days: int = 14
    n_recent: int = 0
    latest_burglary: pd.Timestamp | None = None
    zones_cause: ZonesCause = ""
    zones_reason: str = ""

    def burglaries_text(self) -> str:
        """The burglary count in words: "1,234 burglaries in the 365 days before the meeting"."""
        n = self.n_burglaries
        return f"{n:,} burglar{'y' if n == 1 else 'ies'} in the {self.lookback_days} days before the meeting"

    def zones_sentence(self) -> str:
        """How many alert zones are live, and when none is, why: "3 live alert zones." / "No live alert zone. No
        zone is live because ..."."""
        n = len(self.zones)
        if n == 0:
            return f"No live alert zone. {self.zones_reason}".strip()
        return f"{n} live alert zone{'' if n == 1 else 's'}."

    def summary(self) -> str:
        lines = [f"Near-repeat analysis for {self.fim_date.date()} on {self.burglaries_text()}."]
        lines.append(self.knox.summary() if self.knox is not None else f"Knox test not run: {self.knox_refusal}")
        lines.append(self.calibration)
        lines.append(self.zones_sentence())
        if self.local is not None and len(self.local):
            lines.append(
                f"Local Knox: {int(self.local['starts_chain'].sum())} of the {len(self.local)} most recent "
                f"burglaries started a near-repeat chain; {int(self.local['significant'].sum())} have "
                "significantly more space-time neighbours than expected."
            )
        lines.append(self.repeats.summary())
        lines += list(self.notes)
        return "\n".join(lines)

    def zones_table(self) -> pd.DataFrame:
        """The alert zones as a plain table: dates as YYYY-MM-DD, centroid x/y (metres) instead of geometry."""
        zones = self.zones.copy()
        for c in ("first_event_date", "last_event_date", "expiry_date"):
            if c in zones:
                zones[c] = pd.to_datetime(zones[c]).dt.strftime("%Y-%m-%d")
        return pd.DataFrame(zones.drop(columns="geometry")).assign(
            centroid_x=zones.geometry.centroid.x if len(zones) else [],
            centroid_y=zones.geometry.centroid.y if len(zones) else [],
        )

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write the tables (CSV), the surface (GeoTIFF), the zones (GeoPackage) and a summary into ``out_dir``.

        The pages (``knox.html``, ``nearrepeat.html``) are written by
        :func:`hotspots.render.nearrepeat.write_nearrepeat_report`.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        if self.knox is not None:
            written.append(self.knox.to_csv(out / "knox_table.csv"))
        written.append(write_csv(self.zones_table(), out / "alert_zones.csv"))
        if len(self.zones):
            zones = self.zones.copy()
            for c in ("first_event_date", "last_event_date", "expiry_date"):
                if c in zones:
                    zones[c] = pd.to_datetime(zones[c]).dt.strftime("%Y-%m-%d")
            zones.to_file(out / "alert_zones.gpkg", layer="alert_zones", driver="GPKG")
            written.append(out / "alert_zones.gpkg")
        written.append(self.repeats.to_csv(out / "repeat_locations.csv"))
        if self.local is not None:
            written.append(write_csv(self.local, out / "local_knox_recent.csv"))
        if self.aoristic is not None:
            written.append(write_csv(self.aoristic.round(3), out / "aoristic_hour_by_weekday.csv", index=True))
        if self.grid is not None:
            written.append(
                self.grid.write_geotiff(
                    out / "prospective_risk.tif", self.surface, description="prospective near-repeat burglary risk"
                )
            )
        (out / "nearrepeat_summary.txt").write_text(self.summary() + "\n", encoding="utf-8")
        written.append(out / "nearrepeat_summary.txt")
        return written


@dataclass(frozen=True)
class _Extent:
    """The alert radius (metres) and duration (days), how they were chosen, and whether automatically."""

    radius_m: float
    days: float
    sentence: str
    automatic: bool


@dataclass(frozen=True)
class _Burglaries:
    """The burglaries before the meeting (``before``, with their local days ``days``) and those of the
    look-back window (``window``): the one selection the Knox test, the repeat rate and the counts use."""

    before: gpd.GeoDataFrame
    days: np.ndarray
    window: gpd.GeoDataFrame
    fim: pd.Timestamp
    at_day: float


def _burglaries(incidents: gpd.GeoDataFrame, fim_date, nc: NearRepeatConfig, tz: str) -> _Burglaries:
    """Burglaries (``nc.crime_types``) starting before the meeting (local midnight of ``fim_date`` in ``tz``);
    the window holds those whose local day (of the middle of their time window) lies in the
    ``nc.lookback_days`` days before the meeting day."""
    fim = local_midnight(fim_date, tz) if pd.Timestamp(fim_date).tzinfo is None else pd.Timestamp(fim_date)
    fim_day = fim.tz_convert(tz).tz_localize(None).normalize()
    at_day = float((fim_day - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1))
    burg = incidents[incidents["crime_type"].isin(nc.crime_types)]
    burg = burg[burg["start"] < fim]
    days = incident_days(burg, tz) if len(burg) else np.zeros(0)
    in_window = (days >= at_day - nc.lookback_days) & (days < at_day)
    return _Burglaries(burg, days, burg[in_window], fim, at_day)


def _knox_on_window(b: _Burglaries, nc: NearRepeatConfig, seed: int, tz: str) -> KnoxResult:
    """The banded Knox test with the settings' bands on the look-back window (errors as :func:`near_repeat_knox`)."""
    if len(b.window) < 3:
        raise InputError(
            f"only {len(b.window)} burglaries in the {nc.lookback_days} days before {b.fim.date()}; "
            "the Knox test needs at least 3."
        )
    return knox_for_incidents(
        b.window,
        timezone=tz,
        spatial_bandwidth_m=nc.spatial_bandwidth_m,
        n_spatial_bands=nc.n_spatial_bands,
        temporal_bandwidth_days=nc.temporal_bandwidth_days,
        n_temporal_bands=nc.n_temporal_bands,
        metric=nc.metric,
        permutations=nc.permutations,
        seed=seed,
        convention=nc.convention,
    )


def near_repeat_knox(
    incidents: gpd.GeoDataFrame,
    fim_date,
    settings: NearRepeatConfig | None = None,
    *,
    seed: int = 0,
    timezone: str | None = None,
) -> KnoxResult:
    """The Knox test :func:`near_repeat` runs for the meeting ``fim_date``, on its own.

    The burglaries (``settings.crime_types``) of the ``settings.lookback_days``
    days before the meeting, with the settings' bands (metres, days), metric,
    convention and permutations, and ``seed``; so a notebook passing a run's
    ``cfg.nearrepeat``, ``cfg.project.seed`` and ``cfg.timezone`` gets the
    pack's table. Raises :class:`~hotspots.errors.PrecisionError` on dates known
    only to the month and :class:`~hotspots.errors.InputError` with fewer than
    3 burglaries.
    """
    nc = settings or NearRepeatConfig()
    require_points(incidents, "near_repeat_knox: incidents", ("x", "y", "start", "end", "crime_type"))
    tz = resolve_timezone(timezone)
    return _knox_on_window(_burglaries(incidents, fim_date, nc, tz), nc, seed, tz)


def _run_knox(b: _Burglaries, nc: NearRepeatConfig, seed: int, tz: str) -> tuple[KnoxResult | None, str]:
    """The banded Knox test on the burglaries of the look-back window, or why it could not run (plain words)."""
    try:
        return _knox_on_window(b, nc, seed, tz), ""
    except InputError as exc:
        return None, str(exc)
    except PrecisionError:
        n = int((b.window["time_precision"] == "month").sum())
        return None, (
            f"it needs burglary dates to the day, but {n:,} of the {len(b.window):,} burglaries have only "
            "the month (police.uk publishes months only). The force's own crime extract with the dates "
            "committed would allow it."
        )


def _extent(nc: NearRepeatConfig, knox: KnoxResult | None) -> _Extent:
    """Alert radius and duration: as set, else the Knox test's near-repeat extent, else the defaults."""
    ext_d, ext_t = knox.extent(nc.alpha, rule=nc.extent_rule) if knox is not None else (None, None)
    if nc.radius_m > 0 and nc.duration_days > 0:
        return _Extent(
            nc.radius_m,
            nc.duration_days,
            f"Alert radius {nc.radius_m:g} m and {nc.duration_days:g} days set in [nearrepeat].",
            False,
        )
    if ext_d is not None and ext_t:
        radius, days = nc.radius_m or ext_d, nc.duration_days or ext_t
        return _Extent(
            radius,
            days,
            f"Near-repeat extent ({nc.extent_rule} rule) from the Knox test on this data: "
            f"{ext_d:g} m and {ext_t:g} days; "
            f"alert radius {radius:g} m, alerts and prospective risk last {days:g} days.",
            True,
        )
    radius, days = nc.radius_m or nc.default_radius_m, nc.duration_days or nc.default_days
    why = "the Knox test found no significant near-repeat extent" if knox is not None else "the Knox test could not run"
    return _Extent(
        radius,
        days,
        f"Default extent used because {why}: {radius:g} m and {days:g} days "
        "(Bowers, Johnson & Pease 2004: 400 m, 8 weeks).",
        True,
    )


def _no_zones_reason(
    n_zones: int, n_recent: int, latest: pd.Timestamp | None, alert_days: int, duration_days: float, precision: str
) -> tuple[ZonesCause, str]:
    """Why no alert zone is live on the meeting day, as a cause and in plain words (``("", "")`` when one is).

    ``latest`` is the local day of the latest burglary before the meeting; ``precision`` the burglaries'
    coarsest time precision."""
    if n_zones:
        return "", ""
    if latest is None:
        return "no_burglaries", "No burglary is recorded before the meeting."
    if n_recent == 0:
        why = (
            f"No burglary is recorded in the {alert_days} days before the meeting, and alert zones start only "
            "from those"
        )
        if precision == "month":
            why += (
                f": burglary dates are known only to the month (police.uk), each counts as the middle of its "
                f"month, and the latest month in the data is {latest:%B %Y}."
            )
        else:
            why += f": the latest was on {latest:%a %d %b %Y}."
        return "none_recent", why
    return "expired", (
        f"The {n_recent:,} burglar{'y' if n_recent == 1 else 'ies'} of the last "
        f"{alert_days} days {'is' if n_recent == 1 else 'are'} older than the {duration_days:g} days a zone stays live."
    )


def _road_name_field(roads: gpd.GeoDataFrame | None) -> str:
    """The column of a road layer that holds street names (``name`` unless the layer uses another)."""
    if roads is None or "name" in roads.columns:
        return "name"
    return next((c for c in ("road_name", "street", "name1") if c in roads.columns), "name")


def _recent_local_knox(
    window: pd.DataFrame, nc: NearRepeatConfig, ext: _Extent, at_day: float, seed: int, tz: str
) -> pd.DataFrame:
    """Local Knox of the window's burglaries; the ones of the last ``alert_days`` days, chain starters first."""
    tw = incident_days(window, tz)
    lk = local_knox(
        window["x"].to_numpy(float),
        window["y"].to_numpy(float),
        tw,
        delta_m=ext.radius_m,
        tau_days=ext.days,
        permutations=nc.permutations,
        seed=seed,
    )
    df = lk.to_frame(ids=window["incident_id"].to_numpy())
    df["date"] = pd.to_datetime(pd.Timestamp("1970-01-01") + pd.to_timedelta(tw, unit="D")).strftime("%Y-%m-%d")
    df["location"] = window["location_text"].to_numpy(object)
    df["significant"] = lk.significant(nc.alpha)
    starts = np.zeros(len(df), dtype=bool)
    starts[lk.chain_starters(nc.alpha)] = True
    df["starts_chain"] = starts
    recent = tw >= at_day - nc.alert_days
    return (
        df[recent]
        .sort_values(["starts_chain", "significant", "n_st"], ascending=[False, False, False])
        .reset_index(drop=True)
    )


def near_repeat(
    incidents: gpd.GeoDataFrame,
    grid: Grid | None,
    fim_date,
    settings: NearRepeatConfig | None = None,
    *,
    seed: int = 0,
    timezone: str | None = None,
    roads: gpd.GeoDataFrame | None = None,
) -> NearRepeatResult:
    """The near-repeat analysis for one meeting date (``fim_date``, local midnight in ``timezone``).

    Uses the burglaries (``settings.crime_types``) strictly before the meeting
    date. Runs the Knox test on the last ``lookback_days`` when the data have
    day precision (otherwise records why not and falls back to the default
    extent), then the prospective surface at the meeting date on ``grid``, the
    alert zones (streets from the incidents' location text and ``roads``) and
    the repeat-victimisation KPI. ``seed`` drives every permutation test.
    """
    nc = settings or NearRepeatConfig()
    require_points(incidents, "near_repeat: incidents", ("x", "y", "start", "end", "crime_type", "location_text"))
    require_same_crs(*((("grid", grid),) if grid is not None else ()), ("near_repeat: incidents", incidents))
    tz = resolve_timezone(timezone)
    b = _burglaries(incidents, fim_date, nc, tz)
    fim, at_day, burg, window, t_days = b.fim, b.at_day, b.before, b.window, b.days
    fim_day = fim.tz_convert(tz).tz_localize(None).normalize()
    notes: list[str] = []
    precision = coarsest_precision(burg) if len(burg) else "day"
    knox, refusal = _run_knox(b, nc, seed, tz)
    ext = _extent(nc, knox)
    choices: dict[str, str] = {}
    if ext.automatic:
        choose(choices, "extent", f"near repeat: {ext.sentence}")
    if len(burg):
        if precision == "month":
            notes.append(
                "Burglary dates are known only to the month (police.uk): the prospective surface and "
                "alert zones use mid-month dates, so their timing is approximate."
            )
        x, y = burg["x"].to_numpy(float), burg["y"].to_numpy(float)
    else:
        x = y = np.zeros(0)
    surface = (
        prospective_surface(
            x,
            y,
            t_days,
            grid,
            at_day,
            bandwidth_m=ext.radius_m,
            bandwidth_days=ext.days,
            band_m=nc.band_m,
            band_days=nc.band_days,
        )
        if grid is not None
        else np.zeros((0, 0))
    )
    dates = pd.to_datetime(pd.Timestamp("1970-01-01") + pd.to_timedelta(t_days, unit="D"))
    zones = alert_zones(
        x,
        y,
        dates,
        fim_day,
        radius_m=ext.radius_m,
        duration_days=ext.days,
        alert_days=nc.alert_days,
        street_x=incidents["x"].to_numpy(float),
        street_y=incidents["y"].to_numpy(float),
        street_names=incidents["location_text"].to_numpy(object),
        roads=roads,
        road_name_field=_road_name_field(roads),
        crs=incidents.crs,
    )
    reps = repeat_victimisation(
        x,
        y,
        dates,
        location_text=burg["location_text"].to_numpy(object) if len(burg) else None,
        period_start=fim_day - pd.Timedelta(days=nc.lookback_days),
        period_end=fim_day,
        window_days=nc.repeat_window_days,
        snap_points=(precision == "month"),
    )
    local = (
        _recent_local_knox(window, nc, ext, at_day, seed, tz)
        if nc.local_knox and knox is not None and len(window) >= 3
        else None
    )
    aor = None
    if len(window) and precision == "minute":
        aor = aoristic_hour_by_weekday(window["start"], window["end"], tz)
    elif len(window):
        notes.append("No hour-of-day profile: burglary times are not recorded to the minute.")
    n_recent = int(((t_days >= at_day - nc.alert_days) & (t_days < at_day)).sum())
    latest = pd.Timestamp("1970-01-01") + pd.Timedelta(days=float(t_days.max())) if len(t_days) else None
    cause, reason = _no_zones_reason(len(zones), n_recent, latest, nc.alert_days, ext.days, precision)
    return NearRepeatResult(
        aoristic=aor,
        fim_date=fim,
        n_burglaries=int(len(window)),
        knox=knox,
        knox_refusal=refusal,
        radius_m=float(ext.radius_m),
        duration_days=float(ext.days),
        calibration=ext.sentence,
        surface=surface,
        grid=grid,
        zones=zones,
        repeats=reps,
        local=local,
        notes=tuple(notes),
        choices=dict(choices),
        lookback_days=int(nc.lookback_days),
        alert_days=int(nc.alert_days),
        n_recent=n_recent,
        latest_burglary=latest,
        zones_cause=cause,
        zones_reason=reason,
    )
