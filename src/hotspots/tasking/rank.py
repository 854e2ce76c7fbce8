"""Candidate places and their rank.

A candidate is a **place** (:mod:`hotspots.tasking.places`): the hotspot areas
of every crime type (from the surfaces stage, or computed on all crime types
when that stage did not run) and the near-repeat alert zones that overlap or
lie within ``[tasking] merge_distance_m`` of each other. Each is described from
the incidents inside it (working CRS): location, ward, crime types, harm, peak
days and hours (minute-precision data only), emerging-hotspot class,
near-repeat window and CCTV coverage.

Score (the rank order, highest first)::

    score = sum over the place's incidents in the analysis window (lookback_days) of
            harm x the largest multiplier of the pieces holding the incident

    multiplier of a piece = trend multiplier   (``emerging_multiplier`` for new, consecutive,
                                                intensifying or emerging classes;
                                                ``fading_multiplier`` for diminishing,
                                                historical or former; 1 otherwise)
                          x near-repeat multiplier (``near_repeat_multiplier`` for a live
                                                near-repeat alert zone; 1 otherwise)

For a place of one hotspot area this is harm x that area's multiplier. Ties
break on incidents, then on the place's point (north to south, then west to
east) so the order is deterministic.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config.sections import TaskingConfig
from ..stages.results import RunResults
from .pieces import zone_expiries
from .places import PLACE_COLUMNS, coverage_polygons, describe_places
from .score import FADING, RISING, TREND_PRIORITY
from .times import DAYS, day_hour_profile, peak_days_hours

__all__ = [
    "CANDIDATE_COLUMNS",
    "DAYS",
    "FADING",
    "RISING",
    "TREND_PRIORITY",
    "candidate_items",
    "coverage_polygons",
    "day_hour_profile",
    "peak_days_hours",
    "rank_items",
    "zone_expiries",
]

#: Columns of :func:`candidate_items` (besides geometry).
CANDIDATE_COLUMNS = PLACE_COLUMNS


def candidate_items(res: RunResults, tcfg: TaskingConfig | None = None) -> gpd.GeoDataFrame:
    """Every candidate place of a run, described and scored (GeoDataFrame in the working CRS), unranked."""
    return describe_places(res, tcfg).frame


def rank_items(items: gpd.GeoDataFrame, tcfg: TaskingConfig, harm_unit: str = "count") -> gpd.GeoDataFrame:
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
    it["reason"] = [
        rank_reason(
            int(r.rank),
            float(r.harm),
            harm_unit,
            str(r.crime_types),
            float(r.harm_share),
            str(r.score_notes),
            float(r.score),
        )
        for r in it.itertuples()
    ]
    return it


def rank_reason(
    rank: int, harm: float, harm_unit: str, crime_types: str, harm_share: float, score_notes: str, score: float
) -> str:
    """'Rank 1: harm 1,420 (count) from Violence and sexual offences 751, Shoplifting 413 (11.4% of the area's
    harm in the window); intensifying hot spot for Shoplifting (x1.25); score 1,523.3.'"""
    parts = [
        f"harm {harm:,.0f} ({harm_unit}) from {crime_types or 'no incidents'} "
        f"({100 * harm_share:.1f}% of the area's harm in the window)"
    ]
    if score_notes:
        parts.append(score_notes)
    return f"Rank {rank}: " + "; ".join(parts) + f"; score {score:,.1f}."
