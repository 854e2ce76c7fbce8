"""Input files of the coverage report besides the cameras: candidate sites, road lines, an outline.

Everything is returned in the working CRS (``crs``, metres).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..crs import DEFAULT_CRS
from ..errors import InputError


def read_sites(path: Path, crs: str = DEFAULT_CRS) -> gpd.GeoDataFrame:
    """Candidate camera sites from a CSV (x,y in ``crs`` or lon,lat) or a vector file, in ``crs``.

    Columns ``site_id, x, y, source, road_class, road_name, geometry``.
    """
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path)
        cols = {c.lower(): c for c in df.columns}
        if "x" in cols and "y" in cols:
            x, y = pd.to_numeric(df[cols["x"]], errors="coerce"), pd.to_numeric(df[cols["y"]], errors="coerce")
            src_crs = crs
        elif "lon" in cols and "lat" in cols:
            x, y = pd.to_numeric(df[cols["lon"]], errors="coerce"), pd.to_numeric(df[cols["lat"]], errors="coerce")
            src_crs = "EPSG:4326"
        else:
            raise InputError(f"{path}: candidate sites need x,y (in the working CRS) or lon,lat columns.")
        bad = np.nonzero((~np.isfinite(x.to_numpy(float))) | (~np.isfinite(y.to_numpy(float))))[0]
        if len(bad):
            raise InputError(
                f"{path}: row(s) {[int(b) + 2 for b in bad[:5]]} have no numeric position; fix or remove them."
            )
        g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=src_crs).to_crs(crs)
    else:
        g = gpd.read_file(path).to_crs(crs)
        g["geometry"] = g.geometry.representative_point()
    g["x"] = g.geometry.x.round(1)
    g["y"] = g.geometry.y.round(1)
    idc = next((c for c in ("site_id", "id", "name") if c in g.columns), None)
    g["site_id"] = g[idc].astype(str) if idc else [f"S{i + 1:04d}" for i in range(len(g))]
    for c in ("source", "road_class", "road_name"):
        if c not in g.columns:
            g[c] = "given" if c == "source" else ""
    return g[["site_id", "x", "y", "source", "road_class", "road_name", "geometry"]].reset_index(drop=True)


def read_roads(path: Path, crs: str = DEFAULT_CRS) -> gpd.GeoDataFrame:
    """Road lines (any vector file) in ``crs``, with ``road_class`` ("unclassified" when the file has none)."""
    if not path.exists():
        raise InputError(f"roads file {path} does not exist; fix [anpr] roads.")
    r = gpd.read_file(path).to_crs(crs)
    if "road_class" not in r.columns:
        r["road_class"] = "unclassified"
    return r


def read_outline(path: Path, crs: str = DEFAULT_CRS) -> BaseGeometry:
    """The union of a polygon file's features in ``crs`` (e.g. the borough outline for ANPR entry points)."""
    return shapely.union_all(gpd.read_file(path).to_crs(crs).geometry.to_numpy())
