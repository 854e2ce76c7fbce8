"""Ward table: counts, harm and rates per ward for the analysis window.

Burglary rates are per 1,000 households; every other type per 1,000 residents.
Rates are annualised over ``period_days`` (days) so windows of different
lengths compare.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config.sections import BURGLARY_TYPES


def ward_table(
    incidents: pd.DataFrame, wards: pd.DataFrame, period_days: float = 365, window: str = ""
) -> pd.DataFrame:
    """One row per ward, ranked by harm (then count, then ward code).

    Columns: rank, ward_code, ward_name, incidents, harm, burglaries,
    burglary_rate_per_1000_households, crime_rate_per_1000_population (both per
    year over ``period_days`` days), top_crime_type, and a one-line reason; with
    ``window`` (the window in words) a ``window`` column stating it.
    """
    inc = pd.DataFrame(incidents.drop(columns="geometry", errors="ignore"))
    w = pd.DataFrame(wards.drop(columns="geometry"))[["ward_code", "ward_name", "population", "households"]]
    g = inc.groupby("ward_code")
    t = pd.DataFrame(
        {
            "incidents": g.size(),
            "harm": g["harm"].sum(),
            "burglaries": inc[inc["crime_type"].isin(BURGLARY_TYPES)].groupby("ward_code").size(),
        }
    )
    top = inc.groupby(["ward_code", "crime_type"]).size().rename("n").reset_index()
    top = top.sort_values(["ward_code", "n", "crime_type"], ascending=[True, False, True]).drop_duplicates("ward_code")
    t = w.merge(t, left_on="ward_code", right_index=True, how="left")
    t = t.merge(
        top.rename(columns={"crime_type": "top_crime_type", "n": "top_crime_type_count"}), on="ward_code", how="left"
    )
    for c in ("incidents", "harm", "burglaries", "top_crime_type_count"):
        t[c] = t[c].fillna(0)
    t[["incidents", "burglaries", "top_crime_type_count"]] = t[
        ["incidents", "burglaries", "top_crime_type_count"]
    ].astype(int)
    years = period_days / 365.25
    t["burglary_rate_per_1000_households"] = np.round(1000 * t["burglaries"] / t["households"] / years, 2)
    t["crime_rate_per_1000_population"] = np.round(1000 * t["incidents"] / t["population"] / years, 2)
    t = t.sort_values(["harm", "incidents", "ward_code"], ascending=[False, False, True]).reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    total_harm = t["harm"].sum()
    t["reason"] = [
        f"{r.harm:,.0f} harm ({100 * r.harm / total_harm:.1f}% of the area's) from {r.incidents:,} incidents; "
        f"most common: {r.top_crime_type} ({r.top_crime_type_count:,})"
        if r.incidents
        else "no incidents in the window"
        for r in t.itertuples()
    ]
    t = t.drop(columns=["population", "households"]).assign(population=t["population"], households=t["households"])
    return t.assign(window=window) if window else t
