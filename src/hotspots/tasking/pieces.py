"""The pieces places are made of: hotspot areas of each crime type and near-repeat alert zones.

A *piece* is one polygon (working CRS) with the problem it stands for: a hotspot
area of one crime type (from the surfaces stage), an all-crime hotspot area
(computed here on harm when the surfaces stage did not run) or a live
near-repeat alert zone. Pieces that overlap or lie close together become one
place (:mod:`hotspots.tasking.places`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from ..analysis.gistar import gistar_grid
from ..analysis.hotspot_areas import hotspot_areas
from ..config.sections import TaskingConfig
from ..stages.results import RunResults, SurfacesResult

HOTSPOT = "hotspot"
NEAR_REPEAT = "near_repeat"


@dataclass(frozen=True, eq=False)
class Piece:
    """One hotspot area or alert zone.

    ``kind`` :data:`HOTSPOT` or :data:`NEAR_REPEAT`; ``crime_types`` the
    canonical types whose incidents count for it (empty = every type, for an
    all-crime area); ``crime_type`` its problem's type ("" = decided from its
    incidents); ``source`` where it came from, in words; ``expires`` the last
    live day of an alert zone.
    """

    kind: str
    crime_types: tuple[str, ...]
    crime_type: str
    source: str
    geometry: BaseGeometry
    expires: pd.Timestamp | None = None


def hotspot_pieces(surf: SurfacesResult, min_incidents: int) -> list[Piece]:
    """Per-crime-type hotspot areas of the surfaces stage with at least ``min_incidents`` incidents."""
    out = []
    for ctype, ha in surf.areas.items():
        fr = ha.frame
        if fr is None or not len(fr):
            continue
        for r in fr.itertuples(index=False):
            if int(r.incidents) < min_incidents:
                continue
            out.append(
                Piece(HOTSPOT, (ctype,), ctype, f"{ctype} hotspot area {r.area_id} ({ha.criterion})", r.geometry)
            )
    return out


def all_crime_pieces(res: RunResults, tcfg: TaskingConfig) -> list[Piece]:
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
        profile="never",
        criterion=f"all-crime Gi* hot spot at >= {tcfg.confidence}% confidence (FDR)",
    )
    return [
        Piece(HOTSPOT, (), "", f"all-crime hotspot area {r.area_id} ({ha.criterion})", r.geometry)
        for r in ha.frame.itertuples(index=False)
        if int(r.incidents) >= tcfg.min_incidents
    ]


def zone_expiries(zones: gpd.GeoDataFrame) -> list[pd.Timestamp]:
    """The last day each near-repeat alert zone is live (its ``expiry_date``)."""
    return [pd.Timestamp(v) for v in zones["expiry_date"]]


def near_repeat_pieces(zones: gpd.GeoDataFrame, crime_types: tuple[str, ...]) -> list[Piece]:
    """Every live near-repeat alert zone; its incidents are those of the near-repeat crime types."""
    ids = zones["zone_id"].astype(str) if "zone_id" in zones.columns else pd.Series(range(1, len(zones) + 1))
    return [
        Piece(NEAR_REPEAT, tuple(crime_types), "", f"near-repeat alert zone {z}", g, e)
        for z, g, e in zip(ids, zones.geometry, zone_expiries(zones), strict=True)
    ]


def run_pieces(res: RunResults, tcfg: TaskingConfig) -> list[Piece]:
    """Every piece of a run: hotspot areas (per type, or all-crime without the surfaces stage), then zones."""
    pieces = (
        hotspot_pieces(res.surfaces, tcfg.min_incidents) if res.surfaces is not None else all_crime_pieces(res, tcfg)
    )
    if res.nearrepeat is not None:
        pieces += near_repeat_pieces(res.nearrepeat.zones, res.cfg.nearrepeat.crime_types)
    return pieces
