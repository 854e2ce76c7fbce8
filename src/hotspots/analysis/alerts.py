"""Near-repeat alert zones for cocooning visits and letter drops.

For each burglary in the last ``alert_days`` days before the meeting date, a
circle of ``radius_m`` metres around it is live until the burglary's date +
``duration_days``. Overlapping circles are merged into one zone; each zone
lists the streets inside it (location strings of past incidents in the zone
and, when a road layer with names is given, the names of road segments
crossing it), so officers know which householders to visit.

Coordinates in metres (a projected CRS, ``crs``); dates as pandas Timestamps (local days).
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import DEFAULT_CRS

_STREET_PREFIX = re.compile(r"^\s*(on or near|near)\s+", re.IGNORECASE)

ZONE_COLUMNS = [
    "zone_id",
    "n_burglaries",
    "first_event_date",
    "last_event_date",
    "expiry_date",
    "radius_m",
    "streets",
    "geometry",
]


def _street(text) -> str:
    if not isinstance(text, str) or not text.strip():
        return ""
    return _STREET_PREFIX.sub("", text.strip())


def alert_zones(
    x,
    y,
    dates,
    at_date,
    *,
    radius_m: float = 400.0,
    duration_days: float = 28.0,
    alert_days: int = 14,
    street_x=None,
    street_y=None,
    street_names=None,
    roads=None,
    road_name_field: str = "name",
    crs=DEFAULT_CRS,
):
    """Merged near-repeat alert zones live at ``at_date``.

    Parameters
    ----------
    x, y : burglary coordinates (metres in ``crs``).
    dates : burglary dates (datetime-like, same length).
    at_date : the meeting date; burglaries in [at_date - alert_days, at_date) start zones.
    radius_m : zone radius (the near-repeat distance found by the Knox test, else a default).
    duration_days : days a zone stays live after each burglary (expiry = last
        contributing burglary's date + duration_days, at least one day after at_date
        for the zone to be listed).
    street_x, street_y, street_names : points with location text (e.g. every past
        incident's "On or near ..." string) used to list the streets in each zone.
    roads : optional GeoDataFrame of road lines with a ``road_name_field`` column.

    Returns a GeoDataFrame (in ``crs``) with columns zone_id, n_burglaries,
    first_event_date, last_event_date, expiry_date, radius_m, streets (a
    "; "-joined, sorted list) and geometry (zone polygon), sorted by number of burglaries.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    dates = pd.to_datetime(pd.Series(dates)).reset_index(drop=True)
    at = pd.Timestamp(at_date)
    if dates.dt.tz is not None and at.tz is None:
        at = at.tz_localize(dates.dt.tz)
    recent = np.array(((dates < at) & (dates >= at - pd.Timedelta(days=alert_days))).to_numpy(), dtype=bool)
    recent &= np.isfinite(x) & np.isfinite(y)
    recent &= ((dates + pd.Timedelta(days=duration_days)) > at).to_numpy()
    empty = gpd.GeoDataFrame({c: [] for c in ZONE_COLUMNS[:-1]}, geometry=[], crs=crs)
    if not recent.any():
        return empty
    idx = np.nonzero(recent)[0]
    circles = shapely.buffer(shapely.points(x[idx], y[idx]), radius_m, quad_segs=16)
    merged = shapely.unary_union(circles)
    parts = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
    parts_arr = np.array(parts, dtype=object)
    tree = shapely.STRtree(parts_arr)
    # each burglary point lies in exactly one merged part
    pt_idx, part_idx = tree.query(shapely.points(x[idx], y[idx]), predicate="intersects")
    owner = np.full(len(idx), -1)
    owner[pt_idx] = part_idx
    street_lists: list[set] = [set() for _ in parts]
    if street_names is not None and street_x is not None:
        sx = np.asarray(street_x, float)
        sy = np.asarray(street_y, float)
        names = np.array([_street(s) for s in street_names], dtype=object)
        good = np.isfinite(sx) & np.isfinite(sy) & (names != "")
        q_pt, q_part = tree.query(shapely.points(sx[good], sy[good]), predicate="intersects")
        gnames = names[good]
        for a, b in zip(q_pt, q_part, strict=True):
            street_lists[b].add(gnames[a])
    if roads is not None and len(roads) and road_name_field in roads.columns:
        rg = roads.to_crs(crs) if roads.crs is not None and str(roads.crs) != crs else roads
        q_road, q_part = tree.query(rg.geometry.values, predicate="intersects")
        rnames = rg[road_name_field].to_numpy()
        for a, b in zip(q_road, q_part, strict=True):
            nm = rnames[a]
            if isinstance(nm, str) and nm.strip():
                street_lists[b].add(nm.strip())
    rows = []
    sub_dates = dates.iloc[idx].reset_index(drop=True)
    for k, geom in enumerate(parts):
        members = np.nonzero(owner == k)[0]
        if len(members) == 0:
            continue
        d = sub_dates.iloc[members]
        rows.append(
            {
                "n_burglaries": int(len(members)),
                "first_event_date": d.min(),
                "last_event_date": d.max(),
                "expiry_date": d.max() + pd.Timedelta(days=duration_days),
                "radius_m": float(radius_m),
                "streets": "; ".join(sorted(street_lists[k])),
                "geometry": geom,
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    gdf = gdf.sort_values(["n_burglaries", "last_event_date"], ascending=[False, False]).reset_index(drop=True)
    gdf.insert(0, "zone_id", [f"NR{i + 1:03d}" for i in range(len(gdf))])
    return gdf[ZONE_COLUMNS]
