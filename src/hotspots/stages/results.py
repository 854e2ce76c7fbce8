"""Typed results of a run: one attribute per stage, read directly by the tasking list and the renderer.

:class:`RunResults` holds the :class:`~hotspots.stages.inputs.RunInputs` and
the result of every stage (``None`` when it did not run; ``not_run`` says
why). The stage results without a library home of their own live here:
:class:`SurfacesResult` and :class:`TrendsResult`; :class:`TaskingList` lives in
:mod:`.tasking_list` (re-exported here).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .._csvsafe import write_csv
from ..analysis.density import DensityResult
from ..analysis.exceptions import SeasonalityResult
from ..analysis.gistar import GiStarResult
from ..analysis.hotspot_areas import HotspotAreas
from ..analysis.nearrepeat import NearRepeatResult
from ..analysis.rates import RatesResult
from ..analysis.trends import EmergingResult
from ..config import Config
from ..coverage.report import CoverageResult
from ..forecast.outlook import ForecastResult
from ..geo.grid import Grid
from ..geo.study_area import StudyArea
from ..ingest import IngestResult
from .concentration_result import ConcentrationResult
from .dosage_result import DosageResult
from .experiment_result import PatrolExperiment
from .inputs import RunInputs
from .tasking_list import CSV_COLUMNS, ITEMS_LAYER, TaskingList

__all__ = [
    "CSV_COLUMNS",
    "ITEMS_LAYER",
    "ConcentrationResult",
    "DosageResult",
    "RunResults",
    "SurfacesResult",
    "TaskingList",
    "TrendsResult",
]


# --------------------------------------------------------------------------- surfaces
@dataclass(frozen=True, eq=False)
class SurfacesResult:
    """Per crime type (dicts keyed by type): ``kde`` (counts), ``kde_harm``, ``gistar``, ``areas``, ``rates``."""

    kde: dict[str, DensityResult]
    kde_harm: dict[str, DensityResult]
    gistar: dict[str, GiStarResult]
    areas: dict[str, HotspotAreas]
    rates: dict[str, RatesResult]
    harm_scheme: str
    grid: Grid
    wards: gpd.GeoDataFrame | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def crime_types(self) -> list[str]:
        return list(self.kde)

    def hotspot_polygons(self) -> gpd.GeoDataFrame | None:
        """Hotspot areas of every crime type as one GeoDataFrame (``area_id`` = type-number, ``label`` = type),
        or None when there are none."""
        frames = []
        for t, a in self.areas.items():
            if a.frame is not None and len(a.frame):
                frames.append(
                    gpd.GeoDataFrame(
                        {"area_id": [f"{t}-{i}" for i in a.frame["area_id"]], "label": t},
                        geometry=a.frame.geometry.values,
                        crs=a.frame.crs,
                    )
                )
        return pd.concat(frames, ignore_index=True) if frames else None

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write GeoTIFFs and ``surfaces.gpkg`` into ``out_dir``; returns the paths written.

        ``kde_<type>.tif``, ``kde_harm_<type>.tif``, ``gistar_<type>.tif`` (z) and
        ``surfaces.gpkg`` with layers ``gistar_<type>``, ``hotspots_<type>`` and
        ``ward_rates_<type>``, all in the grid's CRS, plus ``surfaces.json``.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files: list[Path] = []
        for t, d in self.kde.items():
            files.append(d.to_geotiff(out / f"kde_{t}.tif"))
        for t, d in self.kde_harm.items():
            files.append(d.to_geotiff(out / f"kde_harm_{t}.tif"))
        for t, g in self.gistar.items():
            files.append(g.to_geotiff(out / f"gistar_{t}.tif", "z"))
        gpkg = out / "surfaces.gpkg"
        if gpkg.exists():
            gpkg.unlink()
        for t, g in self.gistar.items():
            df = g.to_frame()
            df["harm_scheme"] = self.harm_scheme
            df.to_file(gpkg, layer=f"gistar_{t}", driver="GPKG")
        for t, a in self.areas.items():
            if len(a.frame):
                a.to_gpkg(gpkg, layer=f"hotspots_{t}")
        if self.wards is not None:
            for t, r in self.rates.items():
                tab = r.table.rename(columns={"code": "ward_code", "name": "ward_name"})
                w = self.wards[["ward_code", "geometry"]].merge(tab, on="ward_code", how="right")
                w = gpd.GeoDataFrame(w, geometry="geometry", crs=self.grid.crs)
                w["borough_rate"] = r.borough["rate"]
                w["denominator_kind"] = r.denominator_kind
                w.to_file(gpkg, layer=f"ward_rates_{t}", driver="GPKG")
        files.append(gpkg)
        meta = out / "surfaces.json"
        meta.write_text(
            json.dumps(
                {
                    "harm_scheme": self.harm_scheme,
                    "settings": self.settings,
                    "kde": {t: d.metadata() for t, d in self.kde.items()},
                    "gistar_cutoffs": {t: g.cutoffs for t, g in self.gistar.items()},
                    "hotspot_counts": {t: int(len(a.frame)) for t, a in self.areas.items()},
                },
                indent=2,
                default=str,
            )
        )
        files.append(meta)
        return files


# --------------------------------------------------------------------------- trends
@dataclass(frozen=True, eq=False)
class TrendsResult:
    """Everything the trends stage produces for one FIM date: emerging hotspots, the "what changed"
    exceptions table and the seasonal outlook."""

    emerging: EmergingResult
    exceptions: pd.DataFrame
    seasonality: SeasonalityResult
    fim_date: pd.Timestamp
    notes: tuple[str, ...] = field(default_factory=tuple)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the stage's files into ``out_dir`` (created if needed); returns name -> path.

        ``trends_cells.gpkg`` (cells with class and explanation),
        ``trends_classes.tif`` (class codes), ``trends_latest_z.tif`` (latest Gi* z),
        ``trends_steps.csv``, ``exceptions.csv``, ``seasonality.csv``,
        ``seasonal_outlook.csv`` and ``trends_summary.json`` (classes, legend, notes).
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        em = self.emerging
        paths = {}
        paths["cells"] = em.to_gpkg(out / "trends_cells.gpkg")
        paths["classes_tif"] = em.to_geotiff(out / "trends_classes.tif", "class")
        paths["latest_z_tif"] = em.to_geotiff(out / "trends_latest_z.tif", "latest_z")
        paths["steps"] = write_csv(em.steps_frame(), out / "trends_steps.csv")
        paths["exceptions"] = write_csv(self.exceptions, out / "exceptions.csv")
        paths["seasonality"] = write_csv(self.seasonality.profile, out / "seasonality.csv")
        paths["outlook"] = write_csv(self.seasonality.outlook, out / "seasonal_outlook.csv")
        summary = {
            "fim_date": str(self.fim_date.date()),
            "emerging": em.summary(),
            "legend": em.legend(),
            "codes": dict(enumerate(em.labels)),
            "exceptions_flagged": int(self.exceptions["flag"].astype(bool).sum()) if "flag" in self.exceptions else 0,
            "notes": list(self.notes),
        }
        paths["summary"] = out / "trends_summary.json"
        paths["summary"].write_text(json.dumps(summary, indent=2, default=str))
        return paths


# --------------------------------------------------------------------------- the run
@dataclass(frozen=True, eq=False)
class RunResults:
    """Everything one run produced, in memory: the inputs and one typed attribute per stage.

    A stage's attribute is ``None`` when it did not run; ``not_run`` maps its
    name to the reason (a data-driven refusal, e.g. month-precision dates for
    a day-level analysis or no camera inventory, or "not requested").
    """

    inputs: RunInputs
    ward_table: pd.DataFrame | None = None
    surfaces: SurfacesResult | None = None
    trends: TrendsResult | None = None
    nearrepeat: NearRepeatResult | None = None
    coverage: CoverageResult | None = None
    forecast: ForecastResult | None = None
    concentration: ConcentrationResult | None = None
    dosage: DosageResult | None = None
    tasking: TaskingList | None = None
    experiment: PatrolExperiment | None = None
    not_run: Mapping[str, str] = field(default_factory=dict)

    # the inputs, typed, for readers of the results
    @property
    def cfg(self) -> Config:
        return self.inputs.cfg

    @property
    def area(self) -> StudyArea:
        return self.inputs.area

    @property
    def ingest(self) -> IngestResult:
        return self.inputs.ingest

    @property
    def incidents(self) -> gpd.GeoDataFrame:
        """Accepted incidents whose whole time window lies before the meeting date."""
        return self.inputs.incidents

    @property
    def grid(self) -> Grid:
        return self.inputs.grid

    @property
    def fim_date(self) -> pd.Timestamp:
        """Tz-aware midnight at the start of the meeting day (``[project] timezone``)."""
        return self.inputs.fim_date

    @property
    def window_start(self) -> pd.Timestamp:
        return self.inputs.window_start

    def recent(self, days: int | None = None) -> gpd.GeoDataFrame:
        """Incidents in the ``days`` (default ``[analysis] lookback_days``) before the meeting."""
        return self.inputs.recent(days)

    def ran(self, name: str) -> bool:
        """Whether the stage ``name`` produced a result."""
        return self.result(name) is not None

    def result(self, name: str) -> object:
        """The result of stage ``name`` (None when it did not run); raises for an unknown stage."""
        if name not in _STAGE_FIELDS:
            raise KeyError(f"no stage {name!r}; stages: {sorted(_STAGE_FIELDS)}")
        return getattr(self, name)


#: RunResults attributes that hold a stage's result (the stage's name).
_STAGE_FIELDS = (
    "ward_table",
    "surfaces",
    "trends",
    "nearrepeat",
    "coverage",
    "forecast",
    "concentration",
    "dosage",
    "tasking",
    "experiment",
)
