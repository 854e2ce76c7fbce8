"""The typed result of the concentration stage: how concentrated harm is, how stable places are, how robust
each hotspot is.

Built by :mod:`hotspots.stages.concentration`; read by the ``hotspots concentration`` command, the
concentration page, the GIS layers and the tasking list (the chronic/acute label of each item and the
fragile hotspots).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .._csvsafe import write_csv
from ..analysis.harm_spots import HarmSpots
from ..analysis.places import Places
from ..analysis.robustness import HotspotRobustness
from ..analysis.trajectories import PlaceSeries, Trajectories, area_stability

#: Columns of the year-by-year figures, in the order the command prints them, with their headings.
YEARLY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("period", "period"),
    ("n_places_with_events", "places with a crime"),
    ("n_events", "crimes"),
    ("gini", "Gini"),
    ("generalised_gini", "generalised Gini"),
    ("places_for_50pct", "places for 50%"),
    ("places_for_80pct", "places for 80%"),
    ("top1pct_share", "share in top 1%"),
    ("top5pct_share", "share in top 5%"),
)

#: Shares (0..1) among :data:`YEARLY_COLUMNS`, printed as percentages.
SHARE_COLUMNS = ("places_for_50pct", "places_for_80pct", "top1pct_share", "top5pct_share")


@dataclass(frozen=True)
class Stability:
    """Chronic/acute label and trajectory class of one place of the tasking list (or any area)."""

    label: str  # chronic, acute or none
    trajectory: str  # stable high, rising, falling, flare-up, stable low


@dataclass(frozen=True, eq=False)
class ConcentrationResult:
    """Everything the concentration stage produces.

    ``places`` the places concentration is measured over (snap points or grid cells, ``place_rule`` says
    why); ``series`` the crimes at each place in each whole period; ``table`` the concentration of crime
    and harm by period for the whole area and each crime type
    (:func:`~hotspots.analysis.concentration.concentration_table`, the run's harm scheme); ``schemes``
    the whole-area table under each compared harm scheme; ``trend`` rising/falling per group and
    measure; ``harm_spots`` the harm spots against count spots over the analysis window (None with a
    count-only harm scheme); ``trajectories`` the chronic/acute label and trajectory class of every grid
    cell over the whole history (None with too few periods); ``robustness`` per crime type, the share of
    other grids and search radii that find each hotspot area; ``notes`` and ``choices`` in plain words.
    """

    places: Places
    place_rule: str
    period: str
    series: PlaceSeries
    table: pd.DataFrame
    schemes: Mapping[str, pd.DataFrame]
    trend: pd.DataFrame
    harm_spots: HarmSpots | None
    harm_scheme: str
    trajectories: Trajectories | None
    robustness: Mapping[str, HotspotRobustness]
    fragile_below: float
    notes: tuple[str, ...] = ()
    choices: Mapping[str, str] = field(default_factory=dict)

    def yearly(self, grouping: str = "all", group: str = "all") -> pd.DataFrame:
        """The period-by-period figures of one group (default the whole area), columns of :data:`YEARLY_COLUMNS`."""
        t = self.table
        sub = t[(t["grouping"] == grouping) & (t["group"] == group)]
        return sub[[c for c, _ in YEARLY_COLUMNS]].reset_index(drop=True)

    def stability_of_cells(self, rows: np.ndarray, cols: np.ndarray) -> Stability | None:
        """Chronic/acute label and class of the grid cells (row, column indices of the analysis grid);
        None without trajectories or when none of the cells is a place."""
        tr = self.trajectories
        if tr is None:
            return None
        places = tr.series.places
        grid = places.grid
        if grid is None:
            return None
        xc, yc = grid.centres()
        idx = places.locate(xc[rows, cols], yc[rows, cols])
        idx = idx[idx >= 0]
        if idx.size == 0:
            return None
        label, cls = area_stability(tr, idx)
        return Stability(label, cls)

    def robustness_frame(self) -> gpd.GeoDataFrame | None:
        """Every crime type's hotspot areas with their robustness (one GeoDataFrame, ``crime_type`` column),
        or None when there are none."""
        frames = []
        for t, r in self.robustness.items():
            if len(r.areas):
                f = r.areas[
                    [
                        "area_id",
                        "robustness",
                        "settings_found",
                        "grid_robustness",
                        "radius_robustness",
                        "fragile",
                        "geometry",
                    ]
                ].copy()
                f.insert(0, "crime_type", t)
                frames.append(f)
        if not frames:
            return None
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the tables into ``out_dir``: ``concentration.csv`` (every group and period),
        ``concentration_trend.csv``, ``harm_spots.csv`` (places in one top list but not the other, with the
        reason), ``place_trajectories.csv`` (every grid cell with at least one crime: class, label, counts per
        period), ``hotspot_robustness.csv`` and ``concentration.json`` (places, choices, notes)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "table": write_csv(self.table, out / "concentration.csv"),
            "trend": write_csv(self.trend, out / "concentration_trend.csv"),
        }
        if self.harm_spots is not None:
            paths["harm_spots"] = write_csv(self.harm_spots.differences, out / "harm_spots.csv")
        if self.trajectories is not None:
            tf = self.trajectories.to_frame()
            paths["trajectories"] = write_csv(tf[tf["events"] > 0], out / "place_trajectories.csv")
        rob = self.robustness_frame()
        if rob is not None:
            paths["robustness"] = write_csv(pd.DataFrame(rob.drop(columns="geometry")), out / "hotspot_robustness.csv")
        meta = {
            "places": self.places.description,
            "place_rule": self.place_rule,
            "period": self.period,
            "harm_scheme": self.harm_scheme,
            "choices": dict(self.choices),
            "notes": list(self.notes),
        }
        paths["summary"] = out / "concentration.json"
        paths["summary"].write_text(json.dumps(meta, indent=2))
        return paths
