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

import geopandas as gpd
import numpy as np
import pandas as pd

from .._csvsafe import write_csv
from ..announce import choose
from ..config.sections import NearRepeatConfig
from ..errors import PrecisionError
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
    "prospective_surface",
    "repeat_victimisation",
]


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

    def summary(self) -> str:
        lines = [f"Near-repeat analysis for {self.fim_date.date()} on {self.n_burglaries:,} burglaries."]
        lines.append(self.knox.summary() if self.knox is not None else f"Knox test not run: {self.knox_refusal}")
        lines.append(self.calibration)
        lines.append(f"{len(self.zones)} live alert zone(s).")
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


def _run_knox(
    window: pd.DataFrame, nc: NearRepeatConfig, fim: pd.Timestamp, seed: int, tz: str
) -> tuple[KnoxResult | None, str]:
    """The banded Knox test on the burglaries of the look-back window, or why it could not run."""
    if len(window) < 3:
        return None, (
            f"only {len(window)} burglaries in the {nc.lookback_days} days before {fim.date()}; "
            "the Knox test needs more events."
        )
    try:
        knox = knox_for_incidents(
            window,
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
    except PrecisionError as exc:
        return None, str(exc)
    return knox, ""


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
    fim = local_midnight(fim_date, tz) if pd.Timestamp(fim_date).tzinfo is None else pd.Timestamp(fim_date)
    fim_day = fim.tz_convert(tz).tz_localize(None).normalize()
    at_day = float((fim_day - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1))
    notes: list[str] = []
    burg = incidents[incidents["crime_type"].isin(nc.crime_types)]
    burg = burg[burg["start"] < fim]
    precision = coarsest_precision(burg) if len(burg) else "day"
    window = burg[burg["start"] >= fim - pd.Timedelta(days=nc.lookback_days)]
    knox, refusal = _run_knox(window, nc, fim, seed, tz)
    ext = _extent(nc, knox)
    choices: dict[str, str] = {}
    if ext.automatic:
        choose(choices, "extent", f"near repeat: {ext.sentence}")
    if len(burg):
        t_days = incident_days(burg, tz)
        if precision == "month":
            notes.append(
                "Burglary dates are known only to the month (police.uk): the prospective surface and "
                "alert zones use mid-month dates, so their timing is approximate."
            )
        x, y = burg["x"].to_numpy(float), burg["y"].to_numpy(float)
    else:
        t_days = np.zeros(0)
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
        period_start=fim_day - pd.Timedelta(days=365),
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
    return NearRepeatResult(
        aoristic=aor,
        fim_date=fim,
        n_burglaries=int(len(burg)),
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
    )
