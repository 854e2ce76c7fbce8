"""The run's results as GIS layers (working CRS) and as map-ready overlays.

``vector_layers`` gathers every vector result into named GeoDataFrames (the
working CRS, EPSG:27700 by default) for ``layers.gpkg``; ``write_rasters``
writes the surfaces as GeoTIFFs; ``kde_overlay`` warps a surface to Web
Mercator (EPSG:3857) and colours it into a PNG whose corners are exact, so
Leaflet's image overlay sits where the cells are (Leaflet stretches an image
linearly in Mercator). Stages that did not run contribute no layers.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from rasterio.warp import Resampling, calculate_default_transform, reproject

from ..coverage.report import CoverageResult
from ..geo.grid import Grid
from ..stages.results import RunResults, SurfacesResult, TaskingList, TrendsResult
from .palette import GI_COLOURS as GI_COLOURS  # re-exported: the Gi* class colours live in the palette
from .palette import RAMPS

GI_LABELS = {
    3: "hot spot, 99% confidence",
    2: "hot spot, 95% confidence",
    1: "hot spot, 90% confidence",
    -1: "cold spot, 90% confidence",
    -2: "cold spot, 95% confidence",
    -3: "cold spot, 99% confidence",
}

#: Layer names of the coverage stage's frames in the pack (the rest keep their own names).
COVERAGE_LAYER_NAMES = {"gaps": "coverage_gaps"}


def dissolve_cells(
    grid: Grid, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, labels: dict[int, str]
) -> gpd.GeoDataFrame:
    """Union the cells of each value into one (multi)polygon per value (in the grid's CRS)."""
    cs = grid.cell_size
    boxes = shapely.box(
        grid.xmin + cols * cs, grid.ymax - (rows + 1) * cs, grid.xmin + (cols + 1) * cs, grid.ymax - rows * cs
    )
    out = []
    for v in sorted(set(np.asarray(values).tolist()), reverse=True):
        if v not in labels:
            continue
        sel = np.asarray(values) == v
        out.append({"value": v, "label": labels[v], "cells": int(sel.sum()), "geometry": shapely.union_all(boxes[sel])})
    if not out:
        return gpd.GeoDataFrame({"label": []}, geometry=[], crs=grid.crs)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=grid.crs)


def top_crime_types(res: RunResults, n: int) -> list[str]:
    """The ``n`` crime types with most harm in the analysis window."""
    inc = res.recent()
    if not len(inc):
        return []
    h = inc.groupby("crime_type")["harm"].sum().sort_values(ascending=False, kind="stable")
    return [str(t) for t in h.index[:n]]


def gistar_layer(surf: SurfacesResult, crime_type: str) -> gpd.GeoDataFrame | None:
    g = surf.gistar.get(crime_type)
    if g is None or g.grid is None or g.rows is None or g.cols is None:
        return None
    keep = g.classes != 0
    return dissolve_cells(g.grid, g.rows[keep], g.cols[keep], g.classes[keep], GI_LABELS)


def emerging_layer(trends: TrendsResult) -> gpd.GeoDataFrame:
    em = trends.emerging
    labels = {i: lab for i, lab in enumerate(em.labels) if i != 0}
    keep = em.codes != 0
    df = dissolve_cells(em.grid, em.rows[keep], em.cols[keep], em.codes[keep], labels)
    leg = em.legend()
    df["explanation"] = [leg.get(lab, "") for lab in df["label"]]
    return df


def hotspot_areas_layer(surf: SurfacesResult) -> gpd.GeoDataFrame | None:
    frames = []
    for t, ha in surf.areas.items():
        fr = ha.frame
        if fr is not None and len(fr):
            f = fr.copy()
            f["crime_type"] = t
            frames.append(f)
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=surf.grid.crs)


def coverage_layers(cov: CoverageResult) -> dict[str, gpd.GeoDataFrame]:
    """cameras / viewsheds / coverage gaps / proposed sites (and ANPR, mobile) layers of the coverage stage."""
    return {COVERAGE_LAYER_NAMES.get(k, k): v for k, v in cov.map_layers().items() if v is not None}


def tasking_layer(tasking: TaskingList) -> gpd.GeoDataFrame:
    """The ranked items with text columns as text (as written to ``layers.gpkg``)."""
    it = tasking.items.copy()
    for c in it.columns:
        if c != "geometry" and it[c].dtype == object:
            it[c] = it[c].astype(str)
    return it


def vector_layers(res: RunResults) -> dict[str, gpd.GeoDataFrame]:
    """Every vector layer of the run by name (GeoDataFrames in the working CRS)."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    wards = res.area.wards.copy()
    if res.ward_table is not None:
        wt = res.ward_table.drop(
            columns=[c for c in ("ward_name", "population", "households") if c in res.ward_table.columns]
        )
        wards = wards.merge(wt, on="ward_code", how="left")
    layers["wards"] = gpd.GeoDataFrame(wards, geometry="geometry", crs=res.area.crs)
    if res.tasking is not None:
        layers["tasking_items"] = tasking_layer(res.tasking)
    surf = res.surfaces
    if surf is not None:
        ha = hotspot_areas_layer(surf)
        if ha is not None:
            layers["hotspot_areas"] = ha
        for t in surf.gistar:
            g = gistar_layer(surf, t)
            if g is not None and len(g):
                layers[f"gistar_{t}"] = g
    if res.trends is not None:
        layers["emerging_hotspots"] = emerging_layer(res.trends)
    if res.nearrepeat is not None:
        layers["near_repeat_zones"] = res.nearrepeat.zones
    if res.coverage is not None:
        layers.update(coverage_layers(res.coverage))
    return layers


def write_gpkg(
    layers: dict[str, gpd.GeoDataFrame],
    path: Path,
    tasking: TaskingList | None = None,
    as_of: pd.Timestamp | None = None,
) -> Path:
    """One GeoPackage with every layer; datetimes and objects stored as text.

    Finished by :func:`finalise_gpkg`: its timestamps are ``as_of`` (default the tasking list's
    meeting date), so the same layers always give the same bytes.
    """
    path = Path(path)
    if path.exists():
        path.unlink()
    for name, df in layers.items():
        if name == "tasking_items" and tasking is not None:
            tasking.to_gpkg(path)
            continue
        d = df.copy()
        for c in d.columns:
            if c == d.geometry.name:
                continue
            if (
                d[c].dtype == object
                or isinstance(d[c].dtype, pd.DatetimeTZDtype)
                or str(d[c].dtype).startswith(("datetime", "string"))
            ):
                d[c] = d[c].astype(str)
        d.to_file(path, layer=name, driver="GPKG")
    if path.exists():
        stamp = as_of if as_of is not None else tasking.fim_date if tasking is not None else None
        finalise_gpkg(path, stamp)
    return path


#: Timestamp written into a GeoPackage when no date is given (the Unix epoch).
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def finalise_gpkg(path: Path, as_of: pd.Timestamp | None = None) -> Path:
    """The one function that finishes a GeoPackage: every timestamp GDAL takes from the clock
    (``gpkg_contents.last_change``, and ``layer_styles.update_time`` when styles are stored) becomes
    ``as_of`` (the meeting date; the Unix epoch when None), in UTC, so the file's bytes depend only
    on its content."""
    when = EPOCH if as_of is None else pd.Timestamp(as_of)
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute("UPDATE gpkg_contents SET last_change = ?", (stamp,))
        styled = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'layer_styles'").fetchone()
        if styled:
            con.execute("UPDATE layer_styles SET update_time = ?", (stamp,))
        con.commit()
    return path


# --------------------------------------------------------------------------- rasters
def harm_density(res: RunResults) -> tuple[np.ndarray, str] | None:
    """All-type harm density (sum of the per-type harm KDEs, or count KDEs without harm) and its units, or None."""
    surf = res.surfaces
    if surf is None:
        return None
    parts = surf.kde_harm or surf.kde
    if not parts:
        return None
    arr = np.zeros(res.grid.shape)
    for d in parts.values():
        arr = arr + np.nan_to_num(d.surface)
    arr = np.where(res.grid.mask, arr, np.nan)
    units = next(iter(parts.values())).units
    return arr, units


def write_rasters(res: RunResults, folder: Path) -> list[Path]:
    """GeoTIFFs (working CRS): harm density of all types, KDE and Gi* z per type, risk surfaces, trend classes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    hd = harm_density(res)
    if hd is not None:
        out.append(
            res.grid.write_geotiff(
                folder / "density_all_types.tif",
                hd[0],
                description=f"all crime types, {hd[1]} (sum of per-type surfaces)",
            )
        )
    surf = res.surfaces
    if surf is not None:
        for t, d in surf.kde.items():
            out.append(d.to_geotiff(folder / f"kde_{t}.tif"))
        for t, g in surf.gistar.items():
            out.append(g.to_geotiff(folder / f"gistar_z_{t}.tif", "z"))
    nr = res.nearrepeat
    if nr is not None and nr.surface.shape == res.grid.shape:
        out.append(
            res.grid.write_geotiff(
                folder / "nearrepeat_prospective_risk.tif",
                nr.surface,
                description="prospective near-repeat burglary risk at the FIM date",
            )
        )
    if res.forecast is not None:
        out.append(res.forecast.to_geotiff(folder / "forecast_expected.tif", "expected"))
    if res.trends is not None:
        em = res.trends.emerging
        out.append(
            em.grid.write_geotiff(
                folder / "emerging_classes.tif",
                em.class_grid().astype(float),
                nodata=-1,
                description="emerging-hotspot class code: " + json.dumps(dict(enumerate(em.labels))),
            )
        )
    return out


@dataclass(frozen=True)
class Overlay:
    """A coloured raster for the map: PNG data URI and its lat/lon bounds [[s, w], [n, e]]."""

    name: str
    uri: str
    bounds: list[list[float]]
    vmax: float
    units: str
    colours: tuple[str, ...]


@lru_cache(maxsize=8)
def _mercator_transform(crs: str, ncols: int, nrows: int, bounds: tuple[float, ...]) -> tuple[Any, int, int]:
    """The Web Mercator (EPSG:3857) transform and size of a grid's warped image (the same for every surface
    of a run, so computed once)."""
    left, bottom, right, top = bounds
    return calculate_default_transform(crs, "EPSG:3857", ncols, nrows, left, bottom, right, top)


def kde_overlay(grid: Grid, surface: np.ndarray, name: str, units: str, cmap: str = RAMPS["density"]) -> Overlay | None:
    """Warp a (nrows, ncols) surface on ``grid`` to EPSG:3857 and colour it (transparent where zero/NaN)."""
    src = np.where(grid.mask, np.nan_to_num(np.asarray(surface, dtype="float64")), np.nan)
    vals = src[np.isfinite(src) & (src > 0)]
    if not vals.size:
        return None
    vmax = float(np.percentile(vals, 99.5))
    dst_t, w, h = _mercator_transform(grid.crs, grid.ncols, grid.nrows, tuple(grid.bounds))
    dst = np.full((h, w), np.nan)
    reproject(
        src,
        dst,
        src_transform=grid.transform,
        src_crs=grid.crs,
        dst_transform=dst_t,
        dst_crs="EPSG:3857",
        resampling=Resampling.bilinear,
        src_nodata=np.nan,
        dst_nodata=np.nan,
    )
    norm = np.clip(np.nan_to_num(dst) / vmax, 0, 1)
    rgba = matplotlib.colormaps[cmap](norm)
    rgba[..., 3] = np.where(norm > 0.06, 0.2 + 0.65 * norm, 0.0)
    buf = io.BytesIO()
    plt.imsave(buf, rgba, format="png")
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    to_ll = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    x0, y0 = dst_t.c, dst_t.f
    x1, y1 = x0 + dst_t.a * w, y0 + dst_t.e * h
    lon0, lat1 = to_ll.transform(x0, y0)
    lon1, lat0 = to_ll.transform(x1, y1)
    cols = tuple(matplotlib.colors.to_hex(matplotlib.colormaps[cmap](v)) for v in (0.1, 0.4, 0.7, 1.0))
    return Overlay(name=name, uri=uri, bounds=[[lat0, lon0], [lat1, lon1]], vmax=vmax, units=units, colours=cols)
