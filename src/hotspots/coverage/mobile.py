"""Mobile (re-deployable) cameras: a short list of temporary spots for the coming fortnight.

The pipeline hands over the current near-repeat alert zones and emerging
hotspots as polygons with a ``priority`` column (higher = more urgent). Each
zone, in priority order, proposes one spot: the harm-weighted centre of the
recent incidents inside it (or the zone's representative point when none are
given), moved to the nearest such incident when the centre falls outside the
zone. Zones already seen by a live camera at that spot are skipped, as are
spots closer than ``min_separation_m`` to one already chosen; every skipped zone
is listed with its reason. Working CRS, metres, days.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import DEFAULT_CRS
from ..errors import InputError
from .uncertain import seen_probability


@dataclass(frozen=True, eq=False)
class MobilePlan:
    """Chosen spots (GeoDataFrame, working CRS) and the zones passed over with reasons."""

    spots: gpd.GeoDataFrame
    skipped: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.spots.drop(columns="geometry"))


def mobile_deployments(
    zones,
    cameras=None,
    n: int = 5,
    start=None,
    days: int = 14,
    min_separation_m: float = 300.0,
    x=None,
    y=None,
    harm=None,
    priority_col: str = "priority",
    crs=DEFAULT_CRS,
) -> MobilePlan:
    """Up to ``n`` temporary camera spots for ``days`` days from ``start`` (a date).

    ``zones``: GeoDataFrame of polygons with ``priority_col`` and optionally
    ``zone_id``, ``kind`` (e.g. ``near_repeat``, ``emerging``) and ``expires``.
    ``cameras``: live cameras (frame with x, y, range_m, bearing_deg, fov_deg).
    ``x, y, harm``: recent incidents (metres) used to centre each spot. Everything is in
    ``crs`` (the working CRS); zones are reprojected to it.
    """
    if priority_col not in zones.columns:
        raise InputError(
            f"mobile camera zones need a {priority_col!r} column (higher = more urgent); "
            f"got columns {list(zones.columns)}."
        )
    z = zones.to_crs(crs) if zones.crs is not None else zones.set_crs(crs)
    z = z.reset_index(drop=True)
    order = np.argsort(-z[priority_col].to_numpy(float), kind="stable")
    start = pd.Timestamp.today().normalize() if start is None else pd.Timestamp(start)
    end = start + pd.Timedelta(days=days - 1)
    xs = np.asarray(x if x is not None else [], float)
    ys = np.asarray(y if y is not None else [], float)
    hs = np.ones(len(xs)) if harm is None else np.asarray(harm, float)
    chosen: list[dict] = []
    skipped: list[dict] = []
    for i in order:
        geom = z.geometry.iat[i]
        zid = str(z["zone_id"].iat[i]) if "zone_id" in z.columns else f"zone_{i + 1}"
        kind = str(z["kind"].iat[i]) if "kind" in z.columns else ""
        if len(chosen) >= n:
            skipped.append(
                {
                    "zone_id": zid,
                    "kind": kind,
                    "priority": float(z[priority_col].iat[i]),
                    "reason": f"beyond the first {n} spots",
                }
            )
            continue
        inside = shapely.contains_xy(geom, xs, ys) if len(xs) else np.zeros(0, bool)
        if inside.any() and hs[inside].sum() > 0:
            w = hs[inside]
            px, py = float(np.average(xs[inside], weights=w)), float(np.average(ys[inside], weights=w))
            if not geom.contains(shapely.Point(px, py)):
                j = np.argmin((xs[inside] - px) ** 2 + (ys[inside] - py) ** 2)
                px, py = float(xs[inside][j]), float(ys[inside][j])
            basis = f"harm-weighted centre of {int(inside.sum())} recent incidents"
        else:
            p = geom.representative_point()
            px, py = p.x, p.y
            basis = "centre of the zone"
        if cameras is not None and len(cameras) and seen_probability(cameras, [px], [py])[0] >= 0.5:
            skipped.append(
                {
                    "zone_id": zid,
                    "kind": kind,
                    "priority": float(z[priority_col].iat[i]),
                    "reason": "already seen by a live camera (probability at least one half)",
                }
            )
            continue
        if any((px - c["x"]) ** 2 + (py - c["y"]) ** 2 < min_separation_m**2 for c in chosen):
            skipped.append(
                {
                    "zone_id": zid,
                    "kind": kind,
                    "priority": float(z[priority_col].iat[i]),
                    "reason": f"within {min_separation_m:g} m of a spot already chosen",
                }
            )
            continue
        until = end
        if "expires" in z.columns and pd.notna(z["expires"].iat[i]):
            exp = pd.Timestamp(z["expires"].iat[i])
            if exp.tzinfo is not None:
                exp = exp.tz_localize(None)
            until = min(end, exp.normalize())
        chosen.append(
            {
                "rank": len(chosen) + 1,
                "zone_id": zid,
                "kind": kind,
                "priority": float(z[priority_col].iat[i]),
                "x": round(px, 1),
                "y": round(py, 1),
                "deploy_from": start.date().isoformat(),
                "deploy_to": until.date().isoformat(),
                "basis": basis,
            }
        )
    cols = ["rank", "zone_id", "kind", "priority", "x", "y", "deploy_from", "deploy_to", "basis"]
    df = pd.DataFrame(chosen, columns=cols)
    spots = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=crs)
    return MobilePlan(spots, pd.DataFrame(skipped, columns=["zone_id", "kind", "priority", "reason"]))
