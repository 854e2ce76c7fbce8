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
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import Transformer
from rasterio.warp import Resampling, calculate_default_transform, reproject

from ..coverage.report import CoverageResult
from ..geo.grid import Grid
from ..stages.concentration_result import ConcentrationResult
from ..stages.results import RunResults, SurfacesResult, TaskingList, TrendsResult
from .gis_styles import GI_LABELS, GisStyle, layer_style, paletted_raster_qml, write_styles
from .palette import EMERGING_COLOURS, EMERGING_OTHER, RAMPS

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
    if res.concentration is not None:
        layers.update(concentration_layers(res.concentration, res.area.crs))
    return layers


def concentration_layers(conc: ConcentrationResult, crs: object) -> dict[str, gpd.GeoDataFrame]:
    """``place_trajectories`` (every place with at least one crime: trajectory class, chronic/acute label,
    crimes per period; grid cells as squares, other places as points) and ``hotspot_robustness`` (each
    crime type's hotspot areas with the share of other grids and radii that find them); ``crs`` is the
    places' CRS (the working CRS)."""
    out: dict[str, gpd.GeoDataFrame] = {}
    tr = conc.trajectories
    if tr is not None:
        df = tr.to_frame()
        df = df[df["events"] > 0].drop(columns=["group"]).reset_index(drop=True)
        df.attrs = {}
        grid = tr.series.places.grid
        x, y = df.pop("x").to_numpy(float), df.pop("y").to_numpy(float)
        if grid is not None:
            h = grid.cell_size / 2
            geom = shapely.box(x - h, y - h, x + h, y + h)
        else:
            geom = shapely.points(x, y)
        df.columns = [str(c) for c in df.columns]
        out["place_trajectories"] = gpd.GeoDataFrame(df, geometry=geom, crs=crs)
    rob = conc.robustness_frame()
    if rob is not None:
        out["hotspot_robustness"] = rob
    return out


#: Point layers (their declared geometry type when they are empty; every other empty layer is polygons).
POINT_LAYERS = frozenset({"cameras", "proposed_sites", "anpr_entry_points", "anpr_readers", "mobile_spots"})


def declared_geometry_type(name: str, frame: gpd.GeoDataFrame) -> str:
    """The one geometry type a layer is declared with in the GeoPackage: polygons (of any mix) as
    ``MultiPolygon``, lines as ``MultiLineString``, points as ``Point`` (``MultiPoint`` when any is multi);
    an empty layer takes its kind from :data:`POINT_LAYERS`."""
    kinds = set(frame.geom_type.dropna()) if len(frame) else set()
    if not kinds:
        return "Point" if name in POINT_LAYERS else "MultiPolygon"
    if kinds <= {"Polygon", "MultiPolygon"}:
        return "MultiPolygon"
    if kinds <= {"LineString", "MultiLineString"}:
        return "MultiLineString"
    if kinds <= {"Point"}:
        return "Point"
    if kinds <= {"Point", "MultiPoint"}:
        return "MultiPoint"
    raise ValueError(f"layer {name!r} mixes {sorted(kinds)}: one layer holds one kind of geometry")


def _as_stored(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy with datetimes, text and mixed columns as text (what a GeoPackage column holds)."""
    d = frame.copy()
    for c in d.columns:
        if c == d.geometry.name:
            continue
        if (
            d[c].dtype == object
            or isinstance(d[c].dtype, pd.DatetimeTZDtype)
            or str(d[c].dtype).startswith(("datetime", "string"))
        ):
            d[c] = d[c].astype(str)
    return d


def write_gpkg(
    layers: dict[str, gpd.GeoDataFrame],
    path: Path,
    tasking: TaskingList | None = None,
    as_of: pd.Timestamp | None = None,
) -> Path:
    """One GeoPackage with every layer (datetimes and objects stored as text), each declared with one
    geometry type (:func:`declared_geometry_type`) and carrying its QGIS style in the ``layer_styles``
    table (:mod:`.gis_styles`; the closed tasking items too).

    Finished by :func:`finalise_gpkg`: its timestamps are ``as_of`` (default the tasking list's
    meeting date), so the same layers always give the same bytes.
    """
    path = Path(path)
    if path.exists():
        path.unlink()
    with unsynced_sqlite():
        styles = _write_layers(layers, path, tasking)
        if path.exists():
            stamp = as_of if as_of is not None else tasking.fim_date if tasking is not None else None
            write_styles(path, styles, gpkg_timestamp(stamp))
            finalise_gpkg(path, stamp)
    return path


@contextlib.contextmanager
def unsynced_sqlite() -> Iterator[None]:
    """GDAL writes GeoPackages inside this block without flushing each transaction to disk
    (``OGR_SQLITE_SYNCHRONOUS=OFF``; the setting it had is restored after).

    The bytes written are the same; only the waits for the disk go. A pack is written into a
    hidden folder that is flushed to disk as a whole before it is swapped into place
    (:mod:`hotspots.outfolder`), so a crash still leaves the previous pack or the new one whole."""
    import pyogrio

    before = pyogrio.get_gdal_config_option(_SYNC_OPTION)
    pyogrio.set_gdal_config_options({_SYNC_OPTION: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({_SYNC_OPTION: before})


#: GDAL's setting of SQLite's ``synchronous`` pragma for the GeoPackages it writes.
_SYNC_OPTION = "OGR_SQLITE_SYNCHRONOUS"


def _write_layers(layers: dict[str, gpd.GeoDataFrame], path: Path, tasking: TaskingList | None) -> dict[str, GisStyle]:
    """Write every layer into the GeoPackage ``path``; returns the style of each layer written."""
    styles: dict[str, GisStyle] = {}
    for name, df in layers.items():
        gtype = declared_geometry_type(name, df)
        if name == "tasking_items" and tasking is not None:
            tasking.to_gpkg(path, geometry_type=gtype)
            styles[name] = layer_style(name, df, gtype)
            if len(tasking.closed):
                closed_type = declared_geometry_type("tasking_closed", tasking.closed)
                styles["tasking_closed"] = layer_style("tasking_closed", tasking.closed, closed_type)
            continue
        _as_stored(df).to_file(
            path, layer=name, driver="GPKG", geometry_type=gtype, promote_to_multi=gtype.startswith("Multi")
        )
        styles[name] = layer_style(name, df, gtype)
    return styles


#: Timestamp written into a GeoPackage when no date is given (the Unix epoch).
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def gpkg_timestamp(as_of: pd.Timestamp | None) -> str:
    """``as_of`` (the Unix epoch when None; naive = UTC) as a GeoPackage timestamp, ISO 8601 in UTC."""
    when = EPOCH if as_of is None else pd.Timestamp(as_of)
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def finalise_gpkg(path: Path, as_of: pd.Timestamp | None = None) -> Path:
    """The one function that finishes a GeoPackage: every timestamp GDAL takes from the clock
    (``gpkg_contents.last_change``, and ``layer_styles.update_time`` when styles are stored) becomes
    ``as_of`` (the meeting date; the Unix epoch when None), in UTC, so the file's bytes depend only
    on its content."""
    stamp = gpkg_timestamp(as_of)
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute("PRAGMA synchronous = OFF")  # the pack's folder is flushed whole before it is published
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
                units=hd[1],
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
                units="risk score (sum of distance- and time-decayed weights of recent burglaries)",
            )
        )
    if res.forecast is not None:
        out.append(res.forecast.to_geotiff(folder / "forecast_expected.tif", "expected"))
    if res.trends is not None:
        em = res.trends.emerging
        out.append(write_class_geotiff(em.grid, folder / "emerging_classes.tif", em.class_grid(), em.labels))
    return out


#: Nodata value of a class raster (outside the study area).
CLASS_NODATA = 255


def class_colours(labels: tuple[str, ...]) -> dict[int, tuple[int, int, int, int]]:
    """RGBA colour of each emerging class code (0 = no pattern: transparent), from :mod:`.palette`."""
    out = {}
    for code, lab in enumerate(labels):
        r, g, b = (round(v * 255) for v in matplotlib.colors.to_rgb(EMERGING_COLOURS.get(lab, EMERGING_OTHER)))
        out[code] = (r, g, b, 0 if code == 0 else 255)
    return out


def write_class_geotiff(grid: Grid, path: Path, codes: np.ndarray, labels: tuple[str, ...]) -> Path:
    """Emerging-hotspot classes as a uint8 GeoTIFF (grid's CRS): class code per cell, :data:`CLASS_NODATA`
    outside the study area, a colour table in the map's colours, and the class names as the band's
    category names and raster attribute table (in ``<name>.tif.aux.xml``, where GDAL keeps them for a
    GeoTIFF), and QGIS's default style ``<name>.qml`` (a palette of the real classes only), so QGIS and
    other GIS show each class by name and colour."""
    if len(labels) >= CLASS_NODATA:
        raise ValueError(f"{len(labels)} classes do not fit a byte raster with nodata {CLASS_NODATA}")
    arr = np.asarray(codes)
    arr = np.where(grid.mask & (arr >= 0), arr, CLASS_NODATA).astype("uint8")
    path = Path(path)
    description = "emerging-hotspot class"
    colours = class_colours(labels)
    with rasterio.open(path, "w", **grid.geotiff_profile("uint8", CLASS_NODATA), photometric="palette") as dst:
        dst.write(arr, 1)
        dst.write_colormap(1, colours)
        dst.set_band_description(1, description)
        dst.set_band_unit(1, "class code")
    write_category_names(path, labels, colours, description)
    qml = {code: (lab, colours[code]) for code, lab in enumerate(labels)}
    path.with_suffix(".qml").write_text(paletted_raster_qml(qml), encoding="utf-8")
    return path


def write_category_names(
    path: Path, labels: tuple[str, ...], colours: dict[int, tuple[int, int, int, int]], description: str
) -> Path:
    """The GDAL side file ``<path>.aux.xml`` naming the classes of band 1 (category names, and a
    thematic raster attribute table: value, name, red, green, blue, alpha)."""
    pam = ET.Element("PAMDataset")
    band = ET.SubElement(pam, "PAMRasterBand", {"band": "1"})
    ET.SubElement(band, "Description").text = description
    names = ET.SubElement(band, "CategoryNames")
    for lab in labels:
        ET.SubElement(names, "Category").text = lab
    rat = ET.SubElement(band, "GDALRasterAttributeTable", {"tableType": "thematic"})
    # GDAL field types: 0 integer, 2 string; usages: 5 min-max (the value), 2 name, 6-9 red, green, blue, alpha
    fields = (("Value", 0, 5), ("Class", 2, 2), ("Red", 0, 6), ("Green", 0, 7), ("Blue", 0, 8), ("Alpha", 0, 9))
    for i, (name, ftype, usage) in enumerate(fields):
        fd = ET.SubElement(rat, "FieldDefn", {"index": str(i)})
        ET.SubElement(fd, "Name").text = name
        ET.SubElement(fd, "Type").text = str(ftype)
        ET.SubElement(fd, "Usage").text = str(usage)
    for code, lab in enumerate(labels):
        row = ET.SubElement(rat, "Row", {"index": str(code)})
        for v in (code, lab, *colours[code]):
            ET.SubElement(row, "F").text = str(v)
    ET.indent(pam)
    side = path.with_name(path.name + ".aux.xml")
    side.write_text(ET.tostring(pam, encoding="unicode") + "\n", encoding="utf-8")
    return side


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
