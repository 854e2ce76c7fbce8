"""Near-repeat stage: how far and for how long burglary risk spreads, which
recent burglaries start chains, and which streets to visit this fortnight.

The pieces live in their own modules and are re-exported here:

* :mod:`.knox` — banded Knox test (:func:`knox_test`, :func:`knox_for_incidents`, :class:`KnoxResult`)
* :mod:`.local_knox` — per-event local Knox (:func:`local_knox`)
* :mod:`.aoristic` — aoristic hour-by-weekday weights
* :mod:`.prospective` — Bowers-Johnson-Pease prospective risk surface (:func:`prospective_surface`)
* :mod:`.alerts` — merged near-repeat alert zones with expiry dates and streets
* :mod:`.repeats` — repeat victimisation and the repeat-rate KPI

:func:`run_nearrepeat` is the pipeline stage; its settings are the
``[nearrepeat]`` config section (:class:`NearRepeatConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, PrecisionError
from .alerts import alert_zones
from .aoristic import aoristic_hour_by_weekday, aoristic_weights, incidents_aoristic
from .knox import KnoxResult, incident_days, knox_for_incidents, knox_test
from .local_knox import LocalKnoxResult, local_knox
from .prospective import (DEFAULT_BAND_DAYS, DEFAULT_BAND_M, DEFAULT_BANDWIDTH_DAYS, DEFAULT_BANDWIDTH_M,
                          prospective_surface)
from .repeats import RepeatResult, repeat_victimisation

__all__ = [
    "NearRepeatConfig", "NearRepeatResult", "run_nearrepeat", "knox_test", "knox_for_incidents", "KnoxResult",
    "local_knox", "LocalKnoxResult", "prospective_surface", "alert_zones", "repeat_victimisation",
    "RepeatResult", "aoristic_weights", "aoristic_hour_by_weekday", "incidents_aoristic",
]

BURGLARY_TYPES = ("burglary_residential", "burglary")


@dataclass(frozen=True)
class NearRepeatConfig:
    """[nearrepeat]: Knox bands, permutations, alert window and fall-back extents.

    Distances in metres, times in days. ``radius_m`` / ``duration_days`` of 0
    mean "calibrate": use the near-repeat extent the Knox test finds significant
    on the user's own data, else ``default_radius_m`` / ``default_days``.
    """

    crime_types: tuple[str, ...] = BURGLARY_TYPES
    spatial_bandwidth_m: float = 100.0
    n_spatial_bands: int = 5
    temporal_bandwidth_days: float = 7.0
    n_temporal_bands: int = 4
    metric: str = "euclidean"
    convention: str = "closed"
    permutations: int = 999
    alpha: float = 0.05
    lookback_days: int = 365
    alert_days: int = 14
    radius_m: float = 0.0
    duration_days: float = 0.0
    default_radius_m: float = DEFAULT_BANDWIDTH_M
    default_days: float = DEFAULT_BANDWIDTH_DAYS
    band_m: float = DEFAULT_BAND_M
    band_days: float = DEFAULT_BAND_DAYS
    repeat_window_days: int = 365
    local_knox: bool = True
    extent_rule: str = "core"

    def validate(self, where: str) -> None:
        def bad(key, why):
            raise ConfigError(f"{where}: [nearrepeat] {key} {why}")

        if self.spatial_bandwidth_m <= 0:
            bad("spatial_bandwidth_m", f"must be > 0 metres, got {self.spatial_bandwidth_m}.")
        if self.temporal_bandwidth_days <= 0:
            bad("temporal_bandwidth_days", f"must be > 0 days, got {self.temporal_bandwidth_days}.")
        if self.n_spatial_bands < 1 or self.n_temporal_bands < 1:
            bad("n_spatial_bands/n_temporal_bands", "must be at least 1.")
        if self.metric not in ("euclidean", "manhattan"):
            bad("metric", f"must be 'euclidean' or 'manhattan', got {self.metric!r}.")
        if self.convention not in ("closed", "nrc"):
            bad("convention", f"must be 'closed' or 'nrc', got {self.convention!r}.")
        if self.permutations < 19:
            bad("permutations", f"must be at least 19 (p can reach 0.05), got {self.permutations}.")
        if not 0 < self.alpha < 1:
            bad("alpha", f"must be between 0 and 1, got {self.alpha}.")
        if self.extent_rule not in ("core", "significant"):
            bad("extent_rule", f"must be 'core' (half-maximum core of the pattern) or 'significant', "
                f"got {self.extent_rule!r}.")
        for k in ("lookback_days", "alert_days", "repeat_window_days"):
            if getattr(self, k) <= 0:
                bad(k, f"must be a positive number of days, got {getattr(self, k)}.")
        for k in ("radius_m", "duration_days"):
            if getattr(self, k) < 0:
                bad(k, f"must be >= 0 (0 = calibrate from the Knox test), got {getattr(self, k)}.")
        for k in ("default_radius_m", "default_days", "band_m", "band_days"):
            if getattr(self, k) <= 0:
                bad(k, f"must be > 0, got {getattr(self, k)}.")


@dataclass(frozen=True, eq=False)
class NearRepeatResult:
    """Everything the near-repeat stage produces for one meeting date."""

    fim_date: pd.Timestamp
    n_burglaries: int
    knox: KnoxResult | None
    knox_refusal: str
    radius_m: float
    duration_days: float
    calibration: str               # how radius/duration were chosen (sentence)
    surface: np.ndarray            # prospective risk (nrows, ncols)
    grid: object
    zones: object                  # GeoDataFrame EPSG:27700
    repeats: RepeatResult
    local: pd.DataFrame | None     # local Knox of recent burglaries (chain starters flagged)
    notes: tuple[str, ...] = field(default_factory=tuple)
    aoristic: pd.DataFrame | None = None   # burglary weight by hour (rows) x weekday (columns)

    def summary(self) -> str:
        lines = [f"Near-repeat analysis for {self.fim_date.date()} on {self.n_burglaries:,} burglaries."]
        lines.append(self.knox.summary() if self.knox is not None else f"Knox test not run: {self.knox_refusal}")
        lines.append(self.calibration)
        lines.append(f"{len(self.zones)} live alert zone(s).")
        if self.local is not None and len(self.local):
            lines.append(f"Local Knox: {int(self.local['starts_chain'].sum())} of the {len(self.local)} most recent "
                         f"burglaries started a near-repeat chain; {int(self.local['significant'].sum())} have "
                         "significantly more space-time neighbours than expected.")
        lines.append(self.repeats.summary())
        lines += list(self.notes)
        return "\n".join(lines)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write CSV/HTML tables (and the surface as GeoTIFF, zones as GeoPackage) into ``out_dir``."""
        import html

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        if self.knox is not None:
            written.append(self.knox.to_csv(out / "knox_table.csv"))
            self.knox.to_html(out / "knox.html")
            written.append(out / "knox.html")
        zones = self.zones.copy()
        for c in ("first_event_date", "last_event_date", "expiry_date"):
            if c in zones:
                zones[c] = pd.to_datetime(zones[c]).dt.strftime("%Y-%m-%d")
        pd.DataFrame(zones.drop(columns="geometry")).assign(
            centroid_x=zones.geometry.centroid.x if len(zones) else [],
            centroid_y=zones.geometry.centroid.y if len(zones) else []).to_csv(out / "alert_zones.csv", index=False)
        written.append(out / "alert_zones.csv")
        if len(zones):
            zones.to_file(out / "alert_zones.gpkg", layer="alert_zones", driver="GPKG")
            written.append(out / "alert_zones.gpkg")
        written.append(self.repeats.to_csv(out / "repeat_locations.csv"))
        if self.local is not None:
            self.local.to_csv(out / "local_knox_recent.csv", index=False)
            written.append(out / "local_knox_recent.csv")
        if self.aoristic is not None:
            self.aoristic.round(3).to_csv(out / "aoristic_hour_by_weekday.csv")
            written.append(out / "aoristic_hour_by_weekday.csv")
        if self.grid is not None:
            written.append(self.grid.write_geotiff(out / "prospective_risk.tif", self.surface,
                                                   description="prospective near-repeat burglary risk"))
        summ = self.summary()
        (out / "nearrepeat_summary.txt").write_text(summ + "\n", encoding="utf-8")
        written.append(out / "nearrepeat_summary.txt")
        body = "".join(f"<p>{html.escape(s)}</p>" for s in summ.splitlines())
        ztab = pd.DataFrame(zones.drop(columns="geometry")).to_html(index=False, escape=True)
        (out / "nearrepeat.html").write_text(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Near-repeat burglary</title></head><body>"
            f"<h1>Near-repeat burglary</h1>{body}<h2>Alert zones</h2>{ztab}</body></html>", encoding="utf-8")
        written.append(out / "nearrepeat.html")
        return written


def _fim_timestamp(fim_date) -> pd.Timestamp:
    ts = pd.Timestamp(fim_date)
    if ts.tz is None:
        ts = ts.tz_localize("Europe/London")
    return ts


def _day_number(ts: pd.Timestamp) -> float:
    local = ts.tz_convert("Europe/London").tz_localize(None).normalize()
    return float((local - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1))


def run_nearrepeat(cfg, incidents, study_area, grid, fim_date) -> NearRepeatResult:
    """The near-repeat stage for one meeting date (``fim_date``).

    Uses burglaries (config ``crime_types``) strictly before the meeting date.
    Runs the Knox test on the last ``lookback_days`` when the data have day
    precision (otherwise records why not and falls back to the default extent),
    then the prospective surface at the meeting date, the alert zones and the
    repeat-victimisation KPI.
    """
    from ..config import section
    from ..model import coarsest_precision

    nc = section(cfg, "nearrepeat", NearRepeatConfig) if cfg is not None else NearRepeatConfig()
    seed = int(cfg.project.seed) if cfg is not None else 0
    fim = _fim_timestamp(fim_date)
    at_day = _day_number(fim)
    notes: list[str] = []

    burg = incidents[incidents["crime_type"].isin(nc.crime_types)]
    burg = burg[burg["start"] < fim]
    precision = coarsest_precision(burg) if len(burg) else "day"
    window = burg[burg["start"] >= fim - pd.Timedelta(days=nc.lookback_days)]

    knox = None
    refusal = ""
    if len(window) < 3:
        refusal = (f"only {len(window)} burglaries in the {nc.lookback_days} days before {fim.date()}; "
                   "the Knox test needs more events.")
    else:
        try:
            knox = knox_for_incidents(
                window, spatial_bandwidth_m=nc.spatial_bandwidth_m, n_spatial_bands=nc.n_spatial_bands,
                temporal_bandwidth_days=nc.temporal_bandwidth_days, n_temporal_bands=nc.n_temporal_bands,
                metric=nc.metric, permutations=nc.permutations, seed=seed, convention=nc.convention)
        except PrecisionError as exc:
            refusal = str(exc)

    ext_d, ext_t = knox.extent(nc.alpha, rule=nc.extent_rule) if knox is not None else (None, None)
    if nc.radius_m > 0 and nc.duration_days > 0:
        radius, days = nc.radius_m, nc.duration_days
        calibration = f"Alert radius {radius:g} m and {days:g} days set in [nearrepeat]."
    elif ext_d is not None and ext_t:
        radius = nc.radius_m or ext_d
        days = nc.duration_days or ext_t
        calibration = (f"Near-repeat extent ({nc.extent_rule} rule) from the Knox test on this data: "
                       f"{ext_d:g} m and {ext_t:g} days; "
                       f"alert radius {radius:g} m, alerts and prospective risk last {days:g} days.")
    else:
        radius = nc.radius_m or nc.default_radius_m
        days = nc.duration_days or nc.default_days
        why = ("the Knox test found no significant near-repeat extent" if knox is not None
               else "the Knox test could not run")
        calibration = (f"Default extent used because {why}: {radius:g} m and {days:g} days "
                       "(Bowers, Johnson & Pease 2004: 400 m, 8 weeks).")

    if len(burg):
        t_days = incident_days(burg)
        if precision == "month":
            notes.append("Burglary dates are known only to the month (police.uk): the prospective surface and "
                         "alert zones use mid-month dates, so their timing is approximate.")
        x = burg["x"].to_numpy(float)
        y = burg["y"].to_numpy(float)
    else:
        t_days = np.zeros(0)
        x = y = np.zeros(0)
    surface = (prospective_surface(x, y, t_days, grid, at_day, bandwidth_m=radius, bandwidth_days=days,
                                   band_m=nc.band_m, band_days=nc.band_days)
               if grid is not None else np.zeros((0, 0)))

    dates = pd.to_datetime(pd.Timestamp("1970-01-01") + pd.to_timedelta(t_days, unit="D"))
    roads = getattr(study_area, "roads", None) if study_area is not None else None
    road_field = "name"
    if roads is not None and "name" not in roads.columns:
        road_field = next((c for c in ("road_name", "street", "name1") if c in roads.columns), "name")
    zones = alert_zones(x, y, dates, fim.tz_convert("Europe/London").tz_localize(None).normalize(),
                        radius_m=radius, duration_days=days, alert_days=nc.alert_days,
                        street_x=incidents["x"].to_numpy(float), street_y=incidents["y"].to_numpy(float),
                        street_names=incidents["location_text"].to_numpy(object), roads=roads,
                        road_name_field=road_field)

    reps = repeat_victimisation(
        x, y, dates, location_text=burg["location_text"].to_numpy(object) if len(burg) else None,
        period_start=fim.tz_convert("Europe/London").tz_localize(None).normalize() - pd.Timedelta(days=365),
        period_end=fim.tz_convert("Europe/London").tz_localize(None).normalize(),
        window_days=nc.repeat_window_days, snap_points=(precision == "month"))

    local = None
    if nc.local_knox and knox is not None and len(window) >= 3:
        tw = incident_days(window)
        lk = local_knox(window["x"].to_numpy(float), window["y"].to_numpy(float), tw,
                        delta_m=radius, tau_days=days, permutations=nc.permutations, seed=seed)
        df = lk.to_frame(ids=window["incident_id"].to_numpy())
        df["date"] = pd.to_datetime(pd.Timestamp("1970-01-01") + pd.to_timedelta(tw, unit="D")).strftime("%Y-%m-%d")
        df["location"] = window["location_text"].to_numpy(object)
        df["significant"] = lk.significant(nc.alpha)
        starts = np.zeros(len(df), dtype=bool)
        starts[lk.chain_starters(nc.alpha)] = True
        df["starts_chain"] = starts
        recent = tw >= at_day - nc.alert_days
        local = df[recent].sort_values(["starts_chain", "significant", "n_st"],
                                       ascending=[False, False, False]).reset_index(drop=True)

    aor = None
    if len(window) and precision == "minute":
        aor = aoristic_hour_by_weekday(window["start"], window["end"])
    elif len(window):
        notes.append("No hour-of-day profile: burglary times are not recorded to the minute.")

    return NearRepeatResult(aoristic=aor, fim_date=fim, n_burglaries=int(len(burg)), knox=knox, knox_refusal=refusal,
                            radius_m=float(radius), duration_days=float(days), calibration=calibration,
                            surface=surface, grid=grid, zones=zones, repeats=reps, local=local, notes=tuple(notes))
