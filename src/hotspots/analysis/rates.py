"""Crime rates per ward (or LSOA) with exact Poisson confidence intervals.

Burglary types are rated per 1,000 households, everything else per 1,000
residents (``denominator="auto"``). The interval for a count k is Garwood's
exact Poisson interval::

    lower = chi2.ppf(alpha/2, 2k) / 2         (0 when k = 0)
    upper = chi2.ppf(1 - alpha/2, 2k + 2) / 2

scaled like the rate. Areas are ranked by rate (or count) with the whole
borough's rate alongside for comparison. Points are assigned to areas by
point-in-polygon (working CRS); points just outside every polygon (police.uk
snap points on boundary roads) can be given to the nearest area within
``snap_m`` metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.special import gammaincinv

from ..config import BURGLARY_TYPES
from ..errors import InputError


def garwood_interval(k, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) Poisson interval for counts ``k``: (lower, upper) expected counts."""
    k = np.asarray(k, dtype=float)
    a = 1.0 - confidence
    lo = np.where(k > 0, _chi2_ppf(a / 2, 2 * np.maximum(k, 1e-300)) / 2, 0.0)
    hi = _chi2_ppf(1 - a / 2, 2 * k + 2) / 2
    return lo, hi


def _chi2_ppf(q: float, df: np.ndarray) -> np.ndarray:
    """``scipy.stats.chi2.ppf(q, df)`` for 0 < q < 1 and df > 0, by the very formula scipy evaluates
    (without importing scipy.stats, which costs most of a second)."""
    return 2 * gammaincinv(df / 2, q)


def assign_areas(x, y, areas, code_field: str = "ward_code", snap_m: float = 0.0) -> np.ndarray:
    """Code of the polygon holding each point (object array; None when unassigned).

    A point inside (or on the edge of) several polygons takes the first in
    ``areas`` order; a point in none goes to the nearest polygon within
    ``snap_m`` metres. Coordinates and polygons in the working CRS.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    pts = shapely.points(x, y)
    geoms = np.asarray(areas.geometry.values)
    codes = areas[code_field].to_numpy(dtype=object)
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(pts, predicate="intersects")
    out = np.full(x.size, None, dtype=object)
    if pi.size:
        order = np.lexsort((gi, pi))
        pi, gi = pi[order], gi[order]
        first = np.ones(pi.size, dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        out[pi[first]] = codes[gi[first]]
    if snap_m > 0:
        left = np.nonzero(pd.isna(out) & np.isfinite(x) & np.isfinite(y))[0]
        if left.size:
            qi, ni = tree.query_nearest(pts[left], max_distance=snap_m, all_matches=False)
            out[left[qi]] = codes[ni]
    return out


@dataclass(frozen=True, eq=False)
class RatesResult:
    """Rates per area, ranked.

    ``table`` columns: rank, code, name, count, denominator, rate, rate_lower,
    rate_upper, ratio_to_borough; ``borough`` the whole area's figures
    (count, denominator, rate, rate_lower, rate_upper); rates are per ``per``
    ``denominator_kind`` (households or population) per ``period_years``.
    ``unassigned`` counts points in no area.
    """

    table: pd.DataFrame
    borough: dict[str, float]
    denominator_kind: str
    per: float
    period_years: float
    confidence: float
    unassigned: int
    label: str = ""

    def to_frame(self) -> pd.DataFrame:
        df = self.table.copy()
        df.attrs.update(
            {
                "denominator": self.denominator_kind,
                "per": self.per,
                "period_years": self.period_years,
                "confidence": self.confidence,
                "borough_rate": self.borough["rate"],
                "label": self.label,
            }
        )
        return df


def area_rates(
    counts: pd.Series,
    areas,
    code_field: str = "ward_code",
    name_field: str = "ward_name",
    denominator_field: str = "households",
    per: float = 1000.0,
    period_years: float = 1.0,
    confidence: float = 0.95,
    rank_by: str = "rate",
    unassigned: int = 0,
    label: str = "",
) -> RatesResult:
    """Rates from counts per area code (a Series indexed by code) and area denominators."""
    if denominator_field not in areas.columns:
        raise InputError(
            f"areas have no {denominator_field!r} column; give population/households ([study_area] population file)."
        )
    a = pd.DataFrame(
        {
            "code": areas[code_field].astype(str).to_numpy(),
            "name": areas[name_field].to_numpy() if name_field in areas.columns else "",
            "denominator": pd.to_numeric(areas[denominator_field], errors="coerce").to_numpy(float),
        }
    )
    a["count"] = a["code"].map(counts.rename(index=str)).fillna(0).astype(int)
    scale = per / period_years
    k = a["count"].to_numpy(float)
    den = a["denominator"].to_numpy(float)
    lo, hi = garwood_interval(k, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        a["rate"] = k / den * scale
        a["rate_lower"] = lo / den * scale
        a["rate_upper"] = hi / den * scale
    kb = float(k.sum())
    db = float(np.nansum(den))
    blo, bhi = garwood_interval(kb, confidence)
    borough = {
        "count": int(kb),
        "denominator": db,
        "rate": kb / db * scale if db else np.nan,
        "rate_lower": float(blo) / db * scale if db else np.nan,
        "rate_upper": float(bhi) / db * scale if db else np.nan,
    }
    a["ratio_to_borough"] = a["rate"] / borough["rate"]
    a["above_borough"] = a["rate_lower"] > borough["rate"]
    key = "rate" if rank_by == "rate" else "count"
    a = a.sort_values(
        [key, "count" if key == "rate" else "rate", "code"], ascending=[False, False, True], na_position="last"
    ).reset_index(drop=True)
    a.insert(0, "rank", np.arange(1, len(a) + 1))
    return RatesResult(
        table=a,
        borough=borough,
        denominator_kind=denominator_field,
        per=per,
        period_years=period_years,
        confidence=confidence,
        unassigned=int(unassigned),
        label=label,
    )


def ward_rates(
    incidents,
    areas,
    crime_types=None,
    denominator: str = "auto",
    code_field: str = "ward_code",
    name_field: str = "ward_name",
    per: float = 1000.0,
    period_years: float = 1.0,
    confidence: float = 0.95,
    snap_m: float = 0.0,
    assign: str = "spatial",
    rank_by: str = "rate",
    label: str = "",
) -> RatesResult:
    """Rates per ward (or LSOA: pass its code/name fields) for incidents.

    ``incidents``: Incidents GeoDataFrame (x, y, crime_type; working CRS) or an
    (n, 2) array of metres. ``crime_types`` filters first. ``denominator``
    ``auto`` uses households when every type rated is a burglary type, else
    population (or name the column). ``assign`` ``spatial`` does
    point-in-polygon (with ``snap_m``), ``column`` uses the incidents'
    ``code_field`` column. ``period_years`` annualises.
    """
    if isinstance(incidents, np.ndarray):
        x, y = incidents[:, 0], incidents[:, 1]
        types = None
        inc = None
    else:
        inc = incidents
        if crime_types is not None:
            inc = inc[inc["crime_type"].isin(list(crime_types))]
        x = inc["x"].to_numpy(float)
        y = inc["y"].to_numpy(float)
        types = set(inc["crime_type"].unique())
    if denominator == "auto":
        kinds = set(crime_types) if crime_types is not None else types
        denominator = "households" if kinds and kinds <= set(BURGLARY_TYPES) else "population"
    if assign == "column" and inc is not None and code_field in inc.columns:
        codes = inc[code_field].to_numpy(dtype=object)
    else:
        codes = assign_areas(x, y, areas, code_field, snap_m)
    codes = pd.Series(codes)
    unassigned = int(codes.isna().sum())
    counts = codes.dropna().astype(str).value_counts()
    return area_rates(
        counts, areas, code_field, name_field, denominator, per, period_years, confidence, rank_by, unassigned, label
    )
