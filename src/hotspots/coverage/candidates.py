"""Candidate camera sites: points along the roads near the high-harm places, a lattice elsewhere.

Everything is in the working CRS (metres).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ..crs import DEFAULT_CRS


def _thin_spatially(df: pd.DataFrame, spacing_m: float, max_candidates: int) -> pd.DataFrame:
    """Keep at most one site per square of side ``s`` metres (road sites first), growing
    ``s`` until no more than ``max_candidates`` remain, so thinning keeps every part of
    the zone served instead of dropping whole areas."""
    order = np.argsort((df["source"] != "road").to_numpy(), kind="stable")
    df = df.iloc[order].reset_index(drop=True)
    s = max(spacing_m, 1.0)
    while True:
        s *= 1.25
        key = np.floor(df["x"] / s).astype(np.int64) * 1_000_003 + np.floor(df["y"] / s).astype(np.int64)
        kept = df[~key.duplicated()]
        if len(kept) <= max_candidates:
            return kept.sort_values(["x", "y"], kind="stable").reset_index(drop=True)


def generate_candidates(
    focus,
    roads=None,
    boundary=None,
    spacing_m: float = 40.0,
    buffer_m: float = 150.0,
    max_candidates: int = 2000,
    crs=DEFAULT_CRS,
):
    """Candidate camera sites (GeoDataFrame in ``crs``, the working CRS, metres) inside and near the focus areas.

    ``focus``: shapely geometry or GeoDataFrame of hotspot areas / high-harm
    cells. The focus is buffered by ``buffer_m`` metres (and clipped to
    ``boundary`` buffered by ``buffer_m``). With ``roads`` (lines, optional
    ``road_class``/``name``), sites are points every ``spacing_m`` metres along
    the roads in that zone (where street furniture stands), plus a lattice every
    ``2 * spacing_m`` metres where no road passes within that distance; without
    roads, a lattice every ``spacing_m`` metres. More than ``max_candidates`` sites are
    thinned evenly. Columns: ``site_id, x, y, source, road_class, road_name``.
    """
    if hasattr(focus, "geometry"):
        fgeom = shapely.union_all(focus.to_crs(crs).geometry.to_numpy() if focus.crs else focus.geometry.to_numpy())
    else:
        fgeom = focus
    zone = fgeom.buffer(buffer_m) if buffer_m > 0 else fgeom
    if boundary is not None:
        zone = zone.intersection(boundary.buffer(buffer_m))
    xs: list[float] = []
    ys: list[float] = []
    src: list[str] = []
    rcls: list[str] = []
    rname: list[str] = []
    if roads is not None and len(roads):
        r = roads.to_crs(crs) if roads.crs is not None else roads
        r = r[r.geometry.intersects(zone)]
        for i in range(len(r)):
            seg = r.geometry.iat[i].intersection(zone)
            parts = shapely.get_parts(seg)
            for ln in parts:
                if ln.geom_type != "LineString" or ln.length == 0:
                    continue
                d = np.arange(spacing_m / 2, ln.length, spacing_m) if ln.length > spacing_m else [ln.length / 2]
                pts = shapely.line_interpolate_point(ln, np.asarray(d, float))
                xs.extend(shapely.get_x(pts))
                ys.extend(shapely.get_y(pts))
                src.extend(["road"] * len(pts))
                rcls.extend([str(r["road_class"].iat[i]) if "road_class" in r.columns else ""] * len(pts))
                rname.extend([str(r["name"].iat[i]) if "name" in r.columns else ""] * len(pts))
    # a lattice fills the parts of the zone no road passes near (estates, car parks, parks),
    # so a sparse road layer never leaves a hotspot without a candidate site
    step = spacing_m if not xs else 2 * spacing_m
    minx, miny, maxx, maxy = zone.bounds
    mx, my = np.meshgrid(np.arange(minx + step / 2, maxx, step), np.arange(miny + step / 2, maxy, step))
    gx, gy = mx.ravel(), my.ravel()
    inside = shapely.contains_xy(zone, gx, gy)
    gx, gy = gx[inside], gy[inside]
    if xs and len(gx):
        dist, _ = cKDTree(np.column_stack([xs, ys])).query(np.column_stack([gx, gy]))
        gx, gy = gx[dist > step], gy[dist > step]
    xs, ys = list(xs) + list(gx), list(ys) + list(gy)
    src = list(src) + ["lattice"] * len(gx)
    rcls = list(rcls) + [""] * len(gx)
    rname = list(rname) + [""] * len(gx)
    df = pd.DataFrame(
        {
            "x": np.round(np.asarray(xs, float), 1),
            "y": np.round(np.asarray(ys, float), 1),
            "source": src,
            "road_class": rcls,
            "road_name": rname,
        }
    )
    df = df.drop_duplicates(["x", "y"]).reset_index(drop=True)
    if len(df) > max_candidates:
        df = _thin_spatially(df, spacing_m, max_candidates)
    df.insert(0, "site_id", [f"S{i + 1:04d}" for i in range(len(df))])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=crs)
