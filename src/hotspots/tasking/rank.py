"""Candidate tasking items and their rank.

An *item* is a place the FIM could task: a hotspot area of one crime type
(from the surfaces stage, or computed here on all crime types when that stage
did not run) or a near-repeat alert zone (from the near-repeat stage). Each
item is described from the incidents inside it (working CRS): location,
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
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..analysis.gistar import gistar_grid
from ..analysis.hotspot_areas import hotspot_areas
from ..config.sections import BURGLARY_TYPES, TaskingConfig
from ..coverage.report import CoverageResult
from ..geo.grid import Grid
from ..stages.results import RunResults, SurfacesResult, TrendsResult

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

RISING = ("new hot spot", "consecutive hot spot", "intensifying hot spot", "emerging")
FADING = ("diminishing hot spot", "historical hot spot", "former")
#: Order in which an item's trend class is chosen from the classes of its cells.
TREND_PRIORITY = (
    "intensifying hot spot",
    "new hot spot",
    "consecutive hot spot",
    "emerging",
    "persistent hot spot",
    "persistent",
    "sporadic hot spot",
    "oscillating hot spot",
    "intermittent",
    "diminishing hot spot",
    "historical hot spot",
    "former",
)


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


def day_hour_profile(incidents: pd.DataFrame) -> np.ndarray | None:
    """7 x 24 counts by the midpoint of each incident's time window; None unless minute precision."""
    if not len(incidents) or (incidents["time_precision"] != "minute").any():
        return None
    mid = incidents["start"] + (incidents["end"] - incidents["start"]) / 2
    out = np.zeros((7, 24))
    np.add.at(out, (mid.dt.dayofweek.to_numpy(), mid.dt.hour.to_numpy()), 1)
    return out


# --------------------------------------------------------------------------- candidate areas
def _areas_from_surfaces(surf: SurfacesResult, min_incidents: int) -> list[dict[str, Any]]:
    """Per-crime-type hotspot areas of the surfaces stage as candidate rows."""
    rows = []
    for ctype, ha in surf.areas.items():
        fr = ha.frame
        if fr is None or not len(fr):
            continue
        for r in fr.itertuples(index=False):
            if int(r.incidents) < min_incidents:
                continue
            rows.append(
                {
                    "kind": "hotspot",
                    "main_crime_type": ctype,
                    "source": f"{ctype} hotspot area {r.area_id} ({ha.criterion})",
                    "profile": ha.profiles.get(r.area_id),
                    "geometry": r.geometry,
                }
            )
    return rows


def _areas_all_crime(res: RunResults, tcfg: TaskingConfig) -> list[dict[str, Any]]:
    """All-crime Gi* hotspot areas on harm (used when the surfaces stage did not run)."""
    inc = res.recent()
    g = res.grid
    vals = g.counts(inc["x"].to_numpy(float), inc["y"].to_numpy(float), inc["harm"].to_numpy(float))
    gi = gistar_grid(vals, g, label="all crime", harm_scheme=res.cfg.harm.scheme)
    hot = gi.to_array(gi.hot(tcfg.confidence), False).astype(bool)
    ha = hotspot_areas(
        inc,
        g,
        hot,
        wards=res.area.wards,
        harm_scheme=res.cfg.harm.scheme,
        top_locations=3,
        criterion=f"all-crime Gi* hot spot at >= {tcfg.confidence}% confidence (FDR)",
    )
    rows = []
    for r in ha.frame.itertuples(index=False):
        if int(r.incidents) < tcfg.min_incidents:
            continue
        rows.append(
            {
                "kind": "hotspot",
                "main_crime_type": "",
                "source": f"all-crime hotspot area {r.area_id} ({ha.criterion})",
                "profile": ha.profiles.get(r.area_id),
                "geometry": r.geometry,
            }
        )
    return rows


def zone_expiries(zones: gpd.GeoDataFrame) -> list[pd.Timestamp]:
    """The last day each near-repeat alert zone is live (its ``expiry_date``)."""
    return [pd.Timestamp(v) for v in zones["expiry_date"]]


def _areas_from_nearrepeat(zones: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Every live near-repeat alert zone as a candidate row (main crime type chosen from its incidents)."""
    return [
        {
            "kind": "near_repeat",
            "main_crime_type": "",
            "source": "near-repeat alert zone",
            "profile": None,
            "expires": e,
            "geometry": g,
        }
        for g, e in zip(zones.geometry, zone_expiries(zones))
    ]


# --------------------------------------------------------------------------- describing items
def _location(texts: pd.Series) -> str:
    t = texts.dropna().astype(str)
    t = t[t.str.len() > 0].value_counts()
    if not len(t):
        return "no location text"
    top = list(t.index[:2])
    more = len(t) - len(top)
    return "; ".join(top) + (f" and {more} other location{'s' if more != 1 else ''}" if more > 0 else "")


def _cells_in(grid: Grid, geom: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    xc, yc = grid.centres()
    r, c = np.nonzero(grid.mask)
    inside = shapely.contains_xy(geom, xc[r, c], yc[r, c])
    if not inside.any():
        p = geom.representative_point()
        rr, cc = grid.cell_index(np.array([p.x]), np.array([p.y]))
        return rr[rr >= 0], cc[rr >= 0]
    return r[inside], c[inside]


def _trend_class(trends: TrendsResult, grid: Grid, geom: BaseGeometry) -> str:
    em = trends.emerging
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


def coverage_polygons(cov: CoverageResult) -> BaseGeometry | None:
    """Union of the live cameras' viewsheds (working CRS), or None when there are none."""
    v = cov.viewsheds
    return shapely.union_all(np.asarray(v.geometry.values)) if len(v) else None


def _cctv_status(cov_union: BaseGeometry | None, pts_x: np.ndarray, pts_y: np.ndarray, harm: np.ndarray) -> str:
    if cov_union is None:
        return "not assessed"
    if not len(pts_x):
        return "no incidents to assess"
    seen = shapely.contains_xy(cov_union, pts_x, pts_y)
    share = float(harm[seen].sum() / harm.sum()) if harm.sum() > 0 else float(seen.mean())
    word = "covered" if share >= 0.5 else ("partly covered" if share >= 0.1 else "gap")
    return f"{word} ({100 * share:.0f}% of harm in camera view)"


@dataclass(frozen=True, eq=False)
class _Window:
    """What every candidate is described against: the analysis window's incidents, wards, cameras, alert zones."""

    inc: gpd.GeoDataFrame
    px: np.ndarray
    py: np.ndarray
    total_harm: float
    wards: gpd.GeoDataFrame
    ward_geoms: np.ndarray
    minute: bool
    precision_word: str
    cov_union: BaseGeometry | None
    zones_live: list[tuple[BaseGeometry, pd.Timestamp]]

    @classmethod
    def of(cls, res: RunResults) -> _Window:
        inc = res.recent()
        zones = res.nearrepeat.zones if res.nearrepeat is not None else None
        return cls(
            inc=inc,
            px=inc["x"].to_numpy(float),
            py=inc["y"].to_numpy(float),
            total_harm=float(inc["harm"].to_numpy(float).sum()) or 1.0,
            wards=res.area.wards,
            ward_geoms=np.asarray(res.area.wards.geometry.values),
            minute=bool((inc["time_precision"] == "minute").all()) if len(inc) else False,
            precision_word="month" if (inc["time_precision"] == "month").any() else "day",
            cov_union=coverage_polygons(res.coverage) if res.coverage is not None else None,
            zones_live=list(zip(zones.geometry, zone_expiries(zones))) if zones is not None else [],
        )


def _typed(row: dict[str, Any], sub: pd.DataFrame) -> pd.DataFrame:
    """The incidents in a candidate that count for it: its crime type, burglary for an alert zone, else all."""
    if row["main_crime_type"]:
        return sub[sub["crime_type"] == row["main_crime_type"]]
    if row["kind"] == "near_repeat":
        return sub[sub["crime_type"].isin(BURGLARY_TYPES)]
    return sub


def _main_type(row: dict[str, Any], typed: pd.DataFrame) -> str:
    if row["main_crime_type"]:
        return row["main_crime_type"]
    if len(typed):
        return str(typed.groupby("crime_type")["harm"].sum().idxmax())
    return "burglary" if row["kind"] == "near_repeat" else ""


def _ward(geom: BaseGeometry, w: _Window) -> tuple[str, str]:
    """(code, name) of the ward holding most of ``geom``."""
    inter = shapely.area(shapely.intersection(w.ward_geoms, geom))
    if not len(inter):
        return "", ""
    wi = int(np.argmax(inter))
    return str(w.wards["ward_code"].iat[wi]), str(w.wards["ward_name"].iat[wi])


def _peaks(row: dict[str, Any], typed: pd.DataFrame, w: _Window) -> tuple[str, str, str]:
    """(peak days, peak hours, day/night); "n/a" with the reason when times are not known to the minute."""
    prof = row.get("profile")
    if prof is None and w.minute:
        prof = day_hour_profile(typed)
    days, hours, tod = peak_days_hours(prof)
    if not w.minute and not days:
        days = hours = f"n/a (times known only to the {w.precision_word})"
    return days, hours, tod


def _near_repeat_window(row: dict[str, Any], geom: BaseGeometry, res: RunResults, w: _Window) -> str:
    expires = row.get("expires")
    if row["kind"] == "near_repeat":
        return f"alert zone until {expires:%Y-%m-%d}" if expires is not None else "alert zone (live)"
    if res.nearrepeat is None:
        return "not run"
    live = [e for zg, e in w.zones_live if zg.intersects(geom) and e is not None]
    return f"overlaps an alert zone until {max(live):%Y-%m-%d}" if live else "no live alert zone"


def _multiplier(row: dict[str, Any], trend: str, tcfg: TaskingConfig) -> float:
    mult = 1.0
    if trend in RISING:
        mult *= tcfg.emerging_multiplier
    elif trend in FADING:
        mult *= tcfg.fading_multiplier
    if row["kind"] == "near_repeat":
        mult *= tcfg.near_repeat_multiplier
    return mult


def _describe(row: dict[str, Any], res: RunResults, w: _Window, tcfg: TaskingConfig) -> dict[str, Any] | None:
    """One candidate described from its incidents and scored; None for a hotspot with too few incidents."""
    geom = row["geometry"]
    shapely.prepare(geom)
    typed = _typed(row, w.inc[shapely.contains_xy(geom, w.px, w.py)])
    if row["kind"] == "hotspot" and len(typed) < tcfg.min_incidents:
        return None
    harm = float(typed["harm"].sum())
    ward_code, ward_name = _ward(geom, w)
    days, hours, tod = _peaks(row, typed, w)
    trend = _trend_class(res.trends, res.grid, geom) if res.trends is not None else "not run"
    mult = _multiplier(row, trend, tcfg)
    pt = geom.representative_point()
    return {
        "kind": row["kind"],
        "source": row["source"],
        "location": _location(typed["location_text"]) if len(typed) else "no incidents in the window",
        "ward_code": ward_code,
        "ward_name": ward_name,
        "snt": f"{ward_name} SNT" if ward_name else "",
        "main_crime_type": _main_type(row, typed),
        "crime_types": ", ".join(f"{t} {n}" for t, n in typed["crime_type"].value_counts().items()),
        "incidents": int(len(typed)),
        "harm": round(harm, 2),
        "harm_share": harm / w.total_harm,
        "trend_class": trend,
        "near_repeat_window": _near_repeat_window(row, geom, res, w),
        "expires": row.get("expires"),
        "peak_days": days,
        "peak_hours": hours,
        "time_of_day": tod,
        "cctv_coverage": _cctv_status(
            w.cov_union, typed["x"].to_numpy(float), typed["y"].to_numpy(float), typed["harm"].to_numpy(float)
        )
        if res.coverage is not None
        else "not run",
        "multiplier": mult,
        "score": round(harm * mult, 3),
        "area_ha": round(geom.area / 1e4, 2),
        "x": round(pt.x, 1),
        "y": round(pt.y, 1),
        "geometry": geom,
    }


CANDIDATE_COLUMNS = [
    "kind",
    "source",
    "location",
    "ward_code",
    "ward_name",
    "snt",
    "main_crime_type",
    "crime_types",
    "incidents",
    "harm",
    "harm_share",
    "trend_class",
    "near_repeat_window",
    "expires",
    "peak_days",
    "peak_hours",
    "time_of_day",
    "cctv_coverage",
    "multiplier",
    "score",
    "area_ha",
    "x",
    "y",
]


def candidate_items(res: RunResults, tcfg: TaskingConfig | None = None) -> gpd.GeoDataFrame:
    """Every candidate item of a run, described and scored (GeoDataFrame in the working CRS), unranked."""
    tcfg = tcfg or res.cfg.tasking
    rows = (
        _areas_from_surfaces(res.surfaces, tcfg.min_incidents)
        if res.surfaces is not None
        else _areas_all_crime(res, tcfg)
    )
    if res.nearrepeat is not None:
        rows += _areas_from_nearrepeat(res.nearrepeat.zones)
    w = _Window.of(res)
    out = [d for d in (_describe(row, res, w, tcfg) for row in rows) if d is not None]
    return gpd.GeoDataFrame(
        out if out else {c: [] for c in CANDIDATE_COLUMNS},
        geometry=[o["geometry"] for o in out] if out else [],
        crs=res.grid.crs,
    )


def rank_items(items: gpd.GeoDataFrame, tcfg: TaskingConfig) -> gpd.GeoDataFrame:
    """Sort by score (then incidents, then north-west first), keep ``max_items``, add rank and reason."""
    if not len(items):
        items = items.copy()
        items["rank"] = pd.Series(dtype=int)
        items["reason"] = pd.Series(dtype=str)
        return items
    it = items.assign(_ny=-items["y"]).sort_values(
        ["score", "incidents", "_ny", "x"], ascending=[False, False, True, True], kind="mergesort"
    )
    it = it.drop(columns="_ny").head(tcfg.max_items).reset_index(drop=True)
    it.insert(0, "rank", np.arange(1, len(it) + 1))
    reasons = []
    for r in it.itertuples():
        parts = [
            f"{r.harm:,.0f} harm from {r.incidents:,} {r.main_crime_type or 'incidents'} "
            f"({100 * r.harm_share:.1f}% of the area's harm in the window)"
        ]
        if r.kind == "near_repeat":
            parts.append(f"live near-repeat alert zone (x{tcfg.near_repeat_multiplier:g})")
        if r.trend_class in RISING:
            parts.append(f"{r.trend_class} (x{tcfg.emerging_multiplier:g})")
        elif r.trend_class in FADING:
            parts.append(f"{r.trend_class} (x{tcfg.fading_multiplier:g})")
        reasons.append(f"Rank {r.rank}: " + "; ".join(parts) + f"; score {r.score:,.1f}.")
    it["reason"] = reasons
    return it
