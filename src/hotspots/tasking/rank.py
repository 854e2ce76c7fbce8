"""Candidate tasking items and their rank.

An *item* is a place the FIM could task: a hotspot area of one crime type
(from the surfaces stage, or computed here on all crime types when that stage
did not run) or a near-repeat alert zone (from the near-repeat stage). Each
item is described from the incidents inside it (EPSG:27700): location,
ward, crime types, harm, peak days and hours (minute-precision data only),
emerging-hotspot class, near-repeat window and CCTV coverage.

Score (the rank order, highest first)::

    score = harm in the item over the analysis window (lookback_days)
            x trend multiplier   (``emerging_multiplier`` for new, consecutive,
                                  intensifying or emerging classes;
                                  ``fading_multiplier`` for diminishing,
                                  historical or former; 1 otherwise)
            x near-repeat multiplier (``near_repeat_multiplier`` for a live
                                  near-repeat alert zone; 1 otherwise)

Ties break on incidents, then on the item's position (west to east, north to
south) so the order is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import BURGLARY_TYPES
from ..errors import ConfigError

BNG = "EPSG:27700"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

RISING = ("new hot spot", "consecutive hot spot", "intensifying hot spot", "emerging")
FADING = ("diminishing hot spot", "historical hot spot", "former")
#: Order in which an item's trend class is chosen from the classes of its cells.
TREND_PRIORITY = ("intensifying hot spot", "new hot spot", "consecutive hot spot", "emerging",
                  "persistent hot spot", "persistent", "sporadic hot spot", "oscillating hot spot", "intermittent",
                  "diminishing hot spot", "historical hot spot", "former")


@dataclass(frozen=True)
class TaskingConfig:
    """[tasking]: how many items, what qualifies and how items are scored and matched.

    ``max_items`` items on the list; ``min_incidents`` in the window for an area to
    qualify; ``confidence`` (90/95/99) of the all-crime Gi* areas used when the
    surfaces stage did not run; multipliers as in the module docstring;
    ``escalation_ratio`` a continuing item whose score rose by at least this factor
    is *escalated*; ``match_overlap`` the overlap (intersection over the smaller
    area, 0..1) at which an item continues a previous item; ``id_prefix`` starts
    new ids; ``review_days`` to the review date (0 = [analysis] fortnight_days).
    """

    max_items: int = 20
    min_incidents: int = 5
    confidence: int = 99
    emerging_multiplier: float = 1.25
    fading_multiplier: float = 0.8
    near_repeat_multiplier: float = 2.0
    escalation_ratio: float = 1.25
    match_overlap: float = 0.25
    id_prefix: str = "T"
    review_days: int = 0

    def validate(self, where: str) -> None:
        if self.max_items < 1:
            raise ConfigError(f"{where}: [tasking] max_items must be >= 1, got {self.max_items}.")
        if self.confidence not in (90, 95, 99):
            raise ConfigError(f"{where}: [tasking] confidence must be 90, 95 or 99, got {self.confidence}.")
        if not (0 < self.match_overlap <= 1):
            raise ConfigError(f"{where}: [tasking] match_overlap must be in (0, 1], got {self.match_overlap}.")
        for k in ("emerging_multiplier", "fading_multiplier", "near_repeat_multiplier", "escalation_ratio"):
            if getattr(self, k) <= 0:
                raise ConfigError(f"{where}: [tasking] {k} must be > 0, got {getattr(self, k)}.")
        if not self.id_prefix or not self.id_prefix.replace("-", "").isalnum():
            raise ConfigError(f"{where}: [tasking] id_prefix must be letters/digits, got {self.id_prefix!r}.")


def tasking_config(cfg) -> TaskingConfig:
    from ..config import section

    return section(cfg, "tasking", TaskingConfig)


# --------------------------------------------------------------------------- time helpers
def peak_days_hours(profile: np.ndarray | None) -> tuple[str, str, str]:
    """(peak days, peak hours, day/night) from a 7 x 24 day-of-week x hour count array.

    Peak days: the two busiest days with their share; peak hours: the busiest
    3-hour window (wrapping midnight); night when at least half the incidents
    fall between 18:00 and 06:00.
    """
    if profile is None or np.asarray(profile).sum() == 0:
        return "", "", ""
    p = np.asarray(profile, dtype=float)
    tot = p.sum()
    by_day = p.sum(axis=1)
    top = np.argsort(-by_day, kind="stable")[:2]
    days = ", ".join(f"{DAYS[d]} ({100 * by_day[d] / tot:.0f}%)" for d in top)
    by_hour = p.sum(axis=0)
    win = np.array([by_hour[[(h + k) % 24 for k in range(3)]].sum() for h in range(24)])
    h0 = int(np.argmax(win))
    hours = f"{h0:02d}:00-{(h0 + 3) % 24:02d}:00 ({100 * win[h0] / tot:.0f}%)"
    night = by_hour[list(range(18, 24)) + list(range(0, 6))].sum() / tot
    return days, hours, ("night" if night >= 0.5 else "day")


def day_hour_profile(incidents) -> np.ndarray | None:
    """7 x 24 counts by the midpoint of each incident's time window; None unless minute precision."""
    if not len(incidents) or (incidents["time_precision"] != "minute").any():
        return None
    mid = incidents["start"] + (incidents["end"] - incidents["start"]) / 2
    out = np.zeros((7, 24))
    np.add.at(out, (mid.dt.dayofweek.to_numpy(), mid.dt.hour.to_numpy()), 1)
    return out


# --------------------------------------------------------------------------- candidate areas
def _areas_from_surfaces(surf, min_incidents: int):
    """Per-crime-type hotspot areas of the surfaces stage as candidate rows."""
    rows = []
    for ctype, ha in getattr(surf, "areas", {}).items():
        fr = ha.frame
        if fr is None or not len(fr):
            continue
        for r in fr.itertuples(index=False):
            if int(r.incidents) < min_incidents:
                continue
            prof = ha.profiles.get(r.area_id) if getattr(ha, "profiles", None) else None
            rows.append({"kind": "hotspot", "main_crime_type": ctype, "source": f"{ctype} hotspot area "
                         f"{r.area_id} ({ha.criterion})", "profile": prof, "geometry": r.geometry})
    return rows


def _areas_all_crime(res, tcfg: TaskingConfig):
    """All-crime Gi* hotspot areas on harm (used when the surfaces stage did not run)."""
    from ..analysis.gistar import gistar_grid
    from ..analysis.hotspot_areas import hotspot_areas

    inc = res.recent()
    g = res.grid
    vals = g.counts(inc["x"].to_numpy(float), inc["y"].to_numpy(float), inc["harm"].to_numpy(float))
    gi = gistar_grid(vals, g, label="all crime", harm_scheme=res.cfg.harm.scheme)
    hot = gi.to_array(gi.hot(tcfg.confidence), False).astype(bool)
    ha = hotspot_areas(inc, g, hot, wards=res.area.wards, harm_scheme=res.cfg.harm.scheme, top_locations=3,
                       criterion=f"all-crime Gi* hot spot at >= {tcfg.confidence}% confidence (FDR)")
    rows = []
    for r in ha.frame.itertuples(index=False):
        if int(r.incidents) < tcfg.min_incidents:
            continue
        rows.append({"kind": "hotspot", "main_crime_type": "", "source": f"all-crime hotspot area {r.area_id} "
                     f"({ha.criterion})", "profile": ha.profiles.get(r.area_id), "geometry": r.geometry})
    return rows


def alert_zones(nr) -> object:
    """The near-repeat stage's alert zones GeoDataFrame (EPSG:27700), or None."""
    for name in ("alert_zones", "zones", "alerts"):
        z = getattr(nr, name, None)
        if z is not None and hasattr(z, "geometry"):
            return z.to_crs(BNG) if z.crs is not None and str(z.crs) != BNG else z
    return None


def zone_expiry(z, i: int) -> pd.Timestamp | None:
    for c in ("expires", "expiry", "expiry_date", "expires_on", "alert_until", "until"):
        if c in z.columns:
            v = z[c].iat[i]
            try:
                return pd.Timestamp(v)
            except (TypeError, ValueError):
                return None
    return None


def _areas_from_nearrepeat(nr, min_incidents: int):
    z = alert_zones(nr)
    if z is None or not len(z):
        return []
    rows = []
    for i in range(len(z)):
        ct = ""
        for c in ("crime_type", "crime_types"):
            if c in z.columns:
                ct = str(z[c].iat[i]).split(",")[0].strip()
        rows.append({"kind": "near_repeat", "main_crime_type": ct,
                     "source": "near-repeat alert zone", "profile": None, "expires": zone_expiry(z, i),
                     "geometry": z.geometry.iat[i]})
    return rows


# --------------------------------------------------------------------------- describing items
def _location(texts: pd.Series) -> str:
    t = texts.dropna().astype(str)
    t = t[t.str.len() > 0].value_counts()
    if not len(t):
        return "no location text"
    top = list(t.index[:2])
    more = len(t) - len(top)
    return "; ".join(top) + (f" and {more} other location{'s' if more != 1 else ''}" if more > 0 else "")


def _cells_in(grid, geom) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    xc, yc = grid.centres()
    r, c = np.nonzero(grid.mask)
    inside = shapely.contains_xy(geom, xc[r, c], yc[r, c])
    if not inside.any():
        p = geom.representative_point()
        rr, cc = grid.cell_index(np.array([p.x]), np.array([p.y]))
        return rr[rr >= 0], cc[rr >= 0]
    return r[inside], c[inside]


def _trend_class(trends, grid, geom) -> str:
    em = getattr(trends, "emerging", None)
    if em is None:
        return "not run"
    cg = em.class_grid()
    r, c = _cells_in(grid, geom)
    codes = cg[r, c]
    codes = codes[codes >= 0]
    if not len(codes):
        return em.labels[0]
    labels = {em.labels[k] for k in np.unique(codes)}
    for lab in TREND_PRIORITY:
        if lab in labels:
            return lab
    return em.labels[0] if 0 in set(codes.tolist()) else sorted(labels)[0]


def coverage_polygons(cov):
    """Union of camera viewsheds from the coverage stage (EPSG:27700), or None."""
    import shapely

    for name in ("viewsheds", "viewshed_polygons", "viewshed"):
        v = getattr(cov, name, None)
        if v is not None and hasattr(v, "geometry") and len(v):
            return shapely.union_all(np.asarray(v.geometry.values))
    return None


def _cctv_status(cov_union, pts_x, pts_y, harm) -> str:
    import shapely

    if cov_union is None:
        return "not assessed"
    if not len(pts_x):
        return "no incidents to assess"
    seen = shapely.contains_xy(cov_union, pts_x, pts_y)
    share = float(harm[seen].sum() / harm.sum()) if harm.sum() > 0 else float(seen.mean())
    word = "covered" if share >= 0.5 else ("partly covered" if share >= 0.1 else "gap")
    return f"{word} ({100 * share:.0f}% of harm in camera view)"


def candidate_items(res, tcfg: TaskingConfig | None = None):
    """Every candidate item of a run, described and scored (GeoDataFrame, EPSG:27700), unranked."""
    import geopandas as gpd
    import shapely

    cfg = res.cfg
    tcfg = tcfg or tasking_config(cfg)
    surf = res.stages.get("surfaces")
    nr = res.stages.get("nearrepeat")
    trends = res.stages.get("trends")
    cov = res.stages.get("coverage")
    rows = _areas_from_surfaces(surf, tcfg.min_incidents) if surf is not None else _areas_all_crime(res, tcfg)
    if nr is not None:
        rows += _areas_from_nearrepeat(nr, tcfg.min_incidents)
    inc = res.recent()
    px, py = inc["x"].to_numpy(float), inc["y"].to_numpy(float)
    harm_all = inc["harm"].to_numpy(float)
    total_harm = float(harm_all.sum()) or 1.0
    wards = res.area.wards
    wgeom = np.asarray(wards.geometry.values)
    cov_union = coverage_polygons(cov) if cov is not None else None
    minute = (inc["time_precision"] == "minute").all() if len(inc) else False
    zones = alert_zones(nr) if nr is not None else None
    zones_live = ([(zones.geometry.iat[i], zone_expiry(zones, i)) for i in range(len(zones))]
                  if zones is not None else [])
    out = []
    for row in rows:
        geom = row["geometry"]
        shapely.prepare(geom)
        sel = shapely.contains_xy(geom, px, py)
        sub = inc[sel]
        if row["main_crime_type"]:
            typed = sub[sub["crime_type"] == row["main_crime_type"]]
        elif row["kind"] == "near_repeat":
            typed = sub[sub["crime_type"].isin(BURGLARY_TYPES)]
        else:
            typed = sub
        if row["kind"] == "hotspot" and len(typed) < tcfg.min_incidents:
            continue
        harm = float(typed["harm"].sum())
        vc = typed["crime_type"].value_counts()
        main = row["main_crime_type"] or (str(typed.groupby("crime_type")["harm"].sum().idxmax())
                                          if len(typed) else ("burglary" if row["kind"] == "near_repeat" else ""))
        inter = shapely.area(shapely.intersection(wgeom, geom))
        wi = int(np.argmax(inter)) if len(inter) else -1
        ward_code = str(wards["ward_code"].iat[wi]) if wi >= 0 else ""
        ward_name = str(wards["ward_name"].iat[wi]) if wi >= 0 else ""
        prof = row.get("profile")
        if prof is None and minute:
            prof = day_hour_profile(typed)
        days, hours, tod = peak_days_hours(prof)
        if not minute and not days:
            days = hours = "n/a (times known only to the " + ("month" if (inc["time_precision"] == "month").any()
                                                               else "day") + ")"
        trend = _trend_class(trends, res.grid, geom) if trends is not None else "not run"
        mult = 1.0
        if trend in RISING:
            mult *= tcfg.emerging_multiplier
        elif trend in FADING:
            mult *= tcfg.fading_multiplier
        expires = row.get("expires")
        if row["kind"] == "near_repeat":
            mult *= tcfg.near_repeat_multiplier
            nr_window = f"alert zone until {expires:%Y-%m-%d}" if expires is not None else "alert zone (live)"
        elif nr is None:
            nr_window = "not run"
        else:
            live = [e for zg, e in zones_live if zg.intersects(geom)]
            live = [e for e in live if e is not None]
            nr_window = (f"overlaps an alert zone until {max(live):%Y-%m-%d}" if live
                         else "no live alert zone")
        pt = geom.representative_point()
        out.append({
            "kind": row["kind"], "source": row["source"],
            "location": _location(typed["location_text"]) if len(typed) else "no incidents in the window",
            "ward_code": ward_code, "ward_name": ward_name, "snt": f"{ward_name} SNT" if ward_name else "",
            "main_crime_type": main,
            "crime_types": ", ".join(f"{t} {n}" for t, n in vc.items()),
            "incidents": int(len(typed)), "harm": round(harm, 2), "harm_share": harm / total_harm,
            "trend_class": trend, "near_repeat_window": nr_window, "expires": expires,
            "peak_days": days, "peak_hours": hours, "time_of_day": tod,
            "cctv_coverage": _cctv_status(cov_union, typed["x"].to_numpy(float), typed["y"].to_numpy(float),
                                          typed["harm"].to_numpy(float)) if cov is not None else "not run",
            "multiplier": mult, "score": round(harm * mult, 3), "area_ha": round(geom.area / 1e4, 2),
            "x": round(pt.x, 1), "y": round(pt.y, 1), "geometry": geom,
        })
    cols = ["kind", "source", "location", "ward_code", "ward_name", "snt", "main_crime_type", "crime_types",
            "incidents", "harm", "harm_share", "trend_class", "near_repeat_window", "expires", "peak_days",
            "peak_hours", "time_of_day", "cctv_coverage", "multiplier", "score", "area_ha", "x", "y"]
    gdf = gpd.GeoDataFrame(out if out else {c: [] for c in cols}, geometry=[o["geometry"] for o in out] if out
                           else [], crs=BNG)
    return gdf


def rank_items(items, tcfg: TaskingConfig):
    """Sort by score (then incidents, then north-west first), keep ``max_items``, add rank and reason."""
    if not len(items):
        items = items.copy()
        items["rank"] = pd.Series(dtype=int)
        items["reason"] = pd.Series(dtype=str)
        return items
    it = items.assign(_ny=-items["y"]).sort_values(["score", "incidents", "_ny", "x"],
                                                   ascending=[False, False, True, True], kind="mergesort")
    it = it.drop(columns="_ny").head(tcfg.max_items).reset_index(drop=True)
    it.insert(0, "rank", np.arange(1, len(it) + 1))
    reasons = []
    for r in it.itertuples():
        parts = [f"{r.harm:,.0f} harm from {r.incidents:,} {r.main_crime_type or 'incidents'} "
                 f"({100 * r.harm_share:.1f}% of the area's harm in the window)"]
        if r.kind == "near_repeat":
            parts.append(f"live near-repeat alert zone (x{tcfg.near_repeat_multiplier:g})")
        if r.trend_class in RISING:
            parts.append(f"{r.trend_class} (x{tcfg.emerging_multiplier:g})")
        elif r.trend_class in FADING:
            parts.append(f"{r.trend_class} (x{tcfg.fading_multiplier:g})")
        reasons.append(f"Rank {r.rank}: " + "; ".join(parts) + f"; score {r.score:,.1f}.")
    it["reason"] = reasons
    return it
