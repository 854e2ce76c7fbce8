"""Hotspot areas: contiguous hot cells merged into ranked polygons.

Cells qualify either as significant Gi* hot spots (``method="gistar"``, at or
above a confidence level) or as cells at or above a KDE percentile
(``method="kde"``). Qualifying cells that touch (8-neighbour / queen
connectivity) merge into one polygon (working CRS, clipped to the study area).
Each area reports its id, area in m², the wards it touches, counts by crime
type, total harm (under the recorded harm scheme), the most frequent location
strings (police.uk "On or near ...") and, where the incidents' times allow it
(minute precision), a day-of-week x hour profile. Areas are ranked by harm,
then by count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from ..config.sections import HotspotsConfig  # noqa: F401  (the [hotspots] settings, re-exported beside their analysis)
from ..errors import PrecisionError
from ..geo.checks import require_points, require_same_crs
from ..geo.grid import Grid
from ..model import require_precision

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def label_cells(hot: npt.ArrayLike) -> tuple[npt.NDArray[np.int32], int]:
    """Connected components (8-neighbour) of a boolean cell array; labels 1..n, 0 elsewhere."""
    lab, n = ndimage.label(np.asarray(hot, dtype=bool), structure=np.ones((3, 3), dtype=int))
    return lab, int(n)


def day_hour_profile(times: pd.Series) -> npt.NDArray[np.int64]:
    """7 x 24 counts (Monday first, hours 0-23) of tz-aware timestamps (local time)."""
    t = pd.DatetimeIndex(times)
    prof = np.zeros((7, 24), dtype=np.int64)
    if len(t):
        np.add.at(prof, (t.dayofweek.to_numpy(), t.hour.to_numpy()), 1)
    return prof


@dataclass(frozen=True, eq=False)
class HotspotAreas:
    """Ranked hotspot polygons (``frame``, working CRS) plus what made them.

    ``labels`` (nrows, ncols) gives each grid cell's area id (0 = none);
    ``profiles`` maps area id -> 7 x 24 day-of-week x hour counts (empty when
    the time precision does not allow it; ``profile_note`` says why).
    """

    frame: gpd.GeoDataFrame
    labels: npt.NDArray[np.int32]
    method: str
    criterion: str
    harm_scheme: str
    profiles: dict[int, npt.NDArray[np.int64]] = field(default_factory=dict)
    profile_note: str = ""
    label: str = ""

    def to_frame(self) -> gpd.GeoDataFrame:
        df = self.frame.copy()
        df.attrs.update(
            {
                "method": self.method,
                "criterion": self.criterion,
                "harm_scheme": self.harm_scheme,
                "profile_note": self.profile_note,
                "label": self.label,
            }
        )
        return df

    def to_gpkg(self, path: str | Path, layer: str = "hotspots") -> Path:
        path = Path(path)
        self.frame.to_file(path, layer=layer, driver="GPKG")
        return path

    def profile_frame(self, area_id: int) -> pd.DataFrame:
        """Day (rows, Mon..Sun) x hour (columns 0..23) counts of one area."""
        return pd.DataFrame(self.profiles[area_id], index=list(DAYS), columns=range(24))


def _hot_labels(hot: npt.ArrayLike, grid: Grid, min_cells: int) -> tuple[npt.NDArray[np.int32], int]:
    """Area id of each hot cell inside the grid's mask (touching cells share one; 0 = none),
    leaving out areas of fewer than ``min_cells`` cells, and the number of areas."""
    lab, n = label_cells(np.asarray(hot, dtype=bool) & grid.mask)
    if n and min_cells > 1:
        sizes = np.bincount(lab.ravel(), minlength=n + 1)
        small = sizes < min_cells
        small[0] = False
        lab[small[lab]] = 0
        lab, n = label_cells(lab > 0)
    return lab, n


def _area_polygons(lab: npt.NDArray[np.int32], n: int, grid: Grid) -> tuple[list[BaseGeometry], list[int]]:
    """Polygon (the union of its cells, clipped to the grid's boundary) and number of cells of areas 1..n."""
    rows, cols = np.nonzero(lab)
    cs = grid.cell_size
    boxes = shapely.box(
        grid.xmin + cols * cs, grid.ymax - (rows + 1) * cs, grid.xmin + (cols + 1) * cs, grid.ymax - rows * cs
    )
    ids = lab[rows, cols]
    polys: list[BaseGeometry] = []
    ncells: list[int] = []
    for k in range(1, n + 1):
        g = shapely.union_all(boxes[ids == k])
        if grid.boundary is not None:
            g = shapely.intersection(g, grid.boundary)
        polys.append(g)
        ncells.append(int((ids == k).sum()))
    return polys, ncells


def _ranked_counts(codes: npt.NDArray[np.intp]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The distinct ``codes`` and how often each occurs, most frequent first and ties in the order they
    first occur (the order of pandas' ``value_counts``)."""
    if not codes.size:
        return codes, codes
    distinct, first, counts = np.unique(codes, return_index=True, return_counts=True)
    seen = np.argsort(first, kind="stable")
    distinct, counts = distinct[seen], counts[seen]
    order = np.argsort(-counts, kind="stable")
    return distinct[order], counts[order]


def _profile_allowed(incidents: pd.DataFrame, profile: str) -> tuple[bool, str]:
    """Whether day-of-week x hour profiles can be drawn (minute precision), and why not when not.
    ``profile="always"`` raises the :class:`PrecisionError` instead."""
    if profile == "never":
        return False, "time profiles not requested ([hotspots] profile = 'never')"
    try:
        require_precision(
            incidents,
            "minute",
            "A day-of-week x hour profile",
            "Hotspot areas are still mapped and ranked; only the time profile is left out.",
        )
    except PrecisionError as exc:
        if profile == "always":
            raise
        return False, str(exc)
    return True, ""


def _touched_wards(areas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> tuple[list[str], list[str]]:
    """Per area the codes (comma-separated) and names of the wards it overlaps (touching is not enough),
    in the wards' order. Only pairs whose bounding boxes meet are tested."""
    wg = np.asarray(wards.geometry.values)
    ag = np.asarray(areas.geometry.values)
    codes = wards["ward_code"].astype(str).to_numpy()
    names = wards["ward_name"].astype(str).to_numpy() if "ward_name" in wards.columns else None
    a_idx, w_idx = shapely.STRtree(wg).query(ag)
    order = np.lexsort((w_idx, a_idx))
    a_idx, w_idx = a_idx[order], w_idx[order]
    hit = shapely.intersects(wg[w_idx], ag[a_idx]) & ~shapely.touches(wg[w_idx], ag[a_idx])
    a_idx, w_idx = a_idx[hit], w_idx[hit]
    bounds = np.searchsorted(a_idx, np.arange(len(ag) + 1))
    wcodes, wnames = [], []
    for i in range(len(ag)):
        w = w_idx[bounds[i] : bounds[i + 1]]
        wcodes.append(",".join(codes[w]))
        wnames.append(", ".join(names[w]) if names is not None else "")
    return wcodes, wnames


def hotspot_areas(
    incidents: gpd.GeoDataFrame,
    grid: Grid,
    hot: npt.ArrayLike,
    wards: gpd.GeoDataFrame | None = None,
    harm_scheme: str = "",
    method: str = "gistar",
    criterion: str = "",
    min_cells: int = 1,
    top_locations: int = 3,
    profile: str = "auto",
    label: str = "",
) -> HotspotAreas:
    """Merge hot cells into hotspot polygons and describe each.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents contract (x, y in the working CRS; crime_type, harm, location_text,
        start, end, time_precision).
    grid : Grid
        The analysis grid ``hot`` is on.
    hot : bool array (nrows, ncols)
        Qualifying cells (e.g. ``GiStarResult.to_array(res.hot(95), False)`` or
        ``DensityResult.percentile_mask(99)``).
    wards : GeoDataFrame, optional
        ``ward_code, ward_name, geometry`` (working CRS), for the wards each area touches.
    profile : auto | always | never
        Day x hour profiles: ``always`` raises PrecisionError on month/day data.
    """
    require_points(incidents, "hotspot_areas: incidents")
    require_same_crs(
        ("grid", grid), ("hotspot_areas: incidents", incidents), *((("wards", wards),) if wards is not None else ())
    )
    lab, n = _hot_labels(hot, grid, min_cells)
    polys, ncells = _area_polygons(lab, n, grid)

    x = incidents["x"].to_numpy(float)
    y = incidents["y"].to_numpy(float)
    r, c = grid.cell_index(x, y)
    inc_area = np.where(r >= 0, lab[np.maximum(r, 0), np.maximum(c, 0)], 0)
    harm = incidents["harm"].to_numpy(float) if "harm" in incidents.columns else np.ones(x.size)
    prof_ok, note = _profile_allowed(incidents, profile)

    recs: list[dict[str, Any]] = []
    profiles: dict[int, npt.NDArray[np.int64]] = {}
    type_codes = type_names = loc_codes = loc_names = None
    if "crime_type" in incidents.columns:
        type_codes, type_names = pd.factorize(incidents["crime_type"].astype(str).to_numpy())
    if "location_text" in incidents.columns and top_locations:
        locs = incidents["location_text"].astype("string")
        given = (locs.notna() & (locs.str.len() > 0)).to_numpy(bool)
        loc_codes = np.full(len(locs), -1, dtype=np.intp)
        codes, loc_names = pd.factorize(locs.to_numpy(object)[given])
        loc_codes[given] = codes
    # the incidents of area k, in their order: by_area[bounds[k - 1]:bounds[k]]
    by_area = np.argsort(inc_area, kind="stable")
    bounds = np.searchsorted(inc_area[by_area], np.arange(1, n + 2), side="left")
    for k in range(1, n + 1):
        idx = by_area[bounds[k - 1] : bounds[k]]
        rec: dict[str, Any] = {
            "area_id": k,
            "n_cells": ncells[k - 1],
            "area_m2": float(polys[k - 1].area),
            "incidents": int(idx.size),
            "harm": float(harm[idx].sum()),
        }
        if type_codes is not None and type_names is not None:
            tk, tv = _ranked_counts(type_codes[idx][type_codes[idx] >= 0])
            rec["counts_by_type"] = json.dumps({str(type_names[t]): int(v) for t, v in zip(tk, tv, strict=True)})
            rec["top_crime_type"] = str(type_names[tk[0]]) if tk.size else ""
        if loc_codes is not None and loc_names is not None:
            lk, lv = _ranked_counts(loc_codes[idx][loc_codes[idx] >= 0])
            rec["top_locations"] = "; ".join(
                f"{loc_names[c]} ({v})" for c, v in zip(lk[:top_locations], lv[:top_locations], strict=True)
            )
        if prof_ok:
            sub = incidents.loc[inc_area == k]
            mid = sub["start"] + (sub["end"] - sub["start"]) / 2
            p = day_hour_profile(mid)
            profiles[k] = p
            if p.sum():
                d, h = np.unravel_index(int(p.argmax()), p.shape)
                rec["peak_day"], rec["peak_hour"] = DAYS[d], int(h)
        recs.append(rec)
    df = pd.DataFrame(recs)
    if not len(df):
        df = pd.DataFrame(columns=["area_id", "n_cells", "area_m2", "incidents", "harm"])
    gdf = gpd.GeoDataFrame(df, geometry=polys if polys else [], crs=grid.crs)
    if wards is not None and len(gdf):
        gdf["ward_codes"], gdf["ward_names"] = _touched_wards(gdf, wards)
    gdf["harm_scheme"] = harm_scheme
    gdf["method"] = method
    if len(gdf):
        order = gdf.sort_values(["harm", "incidents", "area_m2"], ascending=[False, False, False]).index
        gdf = gdf.loc[order].reset_index(drop=True)
        gdf.insert(0, "rank", np.arange(1, len(gdf) + 1))
    else:
        gdf.insert(0, "rank", pd.Series(dtype=int))
    return HotspotAreas(
        frame=gdf,
        labels=lab,
        method=method,
        criterion=criterion,
        harm_scheme=harm_scheme,
        profiles=profiles,
        profile_note=note,
        label=label,
    )
