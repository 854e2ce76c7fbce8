"""How concentrated crime and harm are across places: Lorenz curve, Gini, the "power few".

What it answers for the partnership: *does a small share of places hold most of
the borough's crime and harm, and is that concentration rising?*

Every place counts, including the places with no incident: pass the values of
the full set of places (a :class:`~hotspots.analysis.places.Places` object gives
them, zeros included). Leaving the empty places out makes crime look far less
concentrated than it is.

Definitions (``n`` places with values ``v`` >= 0, total ``S``; ``N`` events)
--------------------------------------------------------------------------
* **Concentration (Lorenz) curve**: places ordered from the highest value down;
  ``x_k = k / n`` (share of places), ``y_k`` = share of ``S`` held by the top
  ``k`` places, ``k = 0..n``, joined by straight lines. (Ordered from the lowest
  value up it is the classic Lorenz curve; the two are mirror images and give
  the same Gini.)
* **Gini coefficient**: twice the area between the curve and the diagonal,
  ``G = sum_i sum_j |v_i - v_j| / (2 n^2 mean(v))`` (the "biased" population
  form, as ``DescTools::Gini(unbiased = FALSE)``). 0 = every place equal; at
  most ``1 - 1/n`` when one place holds everything.
* **Generalised Gini** (Bernasco, W. & Steenbeek, W. (2017) "More places than
  crimes: implications for evaluating the law of crime concentration at place",
  *Journal of Quantitative Criminology* 33(3): 451-467,
  doi:10.1007/s10940-016-9324-7). With fewer events than places (``N < n``)
  the diagonal is unattainable: the most equal spread possible puts one event
  in each of ``N`` places, so the line of *maximal equality* runs from (0, 0)
  to (``N/n``, 1) and then along the top. The generalised Gini is the area
  between the curve and that line divided by the area above that line, which
  works out to ``G' = 1 - max(1, n/N) (1 - G)``; it equals ``G`` when
  ``N >= n`` and is 0 for one event per place, however many places are empty.
  (This is the paper's "biased" version, the one its R package ``lorenzgini``
  computes with ``gini(x, generalized = TRUE, unbiased = FALSE)``.)
  For harm, the events are the incidents that carry harm (weight > 0): the most
  equal spread still puts one such incident per place, so ``G'`` for harm
  measures how much more concentrated harm is than that.
* **Power few**: the share of places holding 25%, 50% and 80% of ``S`` (read
  off the curve, so fractions of a place are linear between whole places), and
  the share of ``S`` held by the top 1% and 5% of places (the curve at x = 0.01,
  0.05).

:func:`concentration_table` gives these for the whole borough, by crime type and
by ward, year by year, for counts and for harm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import InputError
from .periods import period_bins
from .places import Places

SHARES = (25, 50, 80)
TOPS = (1, 5)
GROUPINGS = ("all", "crime_type", "ward")


# --------------------------------------------------------------------------- statistics
def _checked(values) -> np.ndarray:
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise InputError("no places: a concentration needs the values of at least one place.")
    if not np.all(np.isfinite(v)):
        raise InputError("place values contain NaN or infinity; every place needs a number (0 for none).")
    if np.any(v < 0):
        raise InputError(f"place values must be >= 0 (counts or harm), found {v.min():g}.")
    return v


def gini(values) -> float:
    """Gini coefficient of place values (population form; NaN when all are 0).

    ``G = 2 sum_i i v_(i) / (n S) - (n + 1) / n`` with ``v`` sorted ascending,
    which equals ``sum_i sum_j |v_i - v_j| / (2 n^2 mean(v))``.
    """
    v = np.sort(_checked(values))
    n, s = v.size, float(v.sum())
    if s <= 0:
        return float("nan")
    i = np.arange(1, n + 1, dtype=float)
    return float(2.0 * np.dot(i, v) / (n * s) - (n + 1.0) / n)


def generalised_gini(values, n_events: int | None = None) -> float:
    """Bernasco & Steenbeek (2017) generalised Gini: ``1 - max(1, n/N) (1 - G)``.

    ``n_events`` (N) defaults to the sum of ``values``, which must then be whole
    counts; pass it explicitly for harm (the number of incidents carrying harm).
    """
    v = _checked(values)
    n_ev = _events(v, n_events)
    g = gini(v)
    if n_ev <= 0 or not np.isfinite(g):
        return float("nan")
    return float(1.0 - max(1.0, v.size / n_ev) * (1.0 - g))


def _events(v: np.ndarray, n_events) -> int:
    if n_events is None:
        if not np.allclose(v, np.round(v)):
            raise InputError(
                "values are not whole counts, so the number of events cannot be read from them; "
                "pass n_events (for harm: the number of incidents that carry harm)."
            )
        return int(round(float(v.sum())))
    n_ev = int(n_events)
    if n_ev < 0:
        raise InputError(f"n_events must be >= 0, got {n_events}.")
    return n_ev


@dataclass(frozen=True, eq=False)
class LorenzCurve:
    """Concentration curve: ``place_share[k]`` (k/n) against ``value_share[k]``, the
    share held by the top k places, k = 0..n (places ordered highest first).

    ``equality_x`` is where the line of maximal equality reaches 1: ``min(1, N/n)``
    (Bernasco & Steenbeek 2017); the plain diagonal when ``N >= n``.
    """

    place_share: npt.NDArray[np.float64]
    value_share: npt.NDArray[np.float64]
    equality_x: float

    def share_of_places_for(self, value_share: float) -> float:
        """Smallest share of places (highest first) holding ``value_share`` (0..1) of the total."""
        y, n = self.value_share, self.place_share.size - 1
        k = int(np.searchsorted(y, value_share - 1e-12, side="left"))
        if k == 0:
            return 0.0
        k = min(k, n)
        step = y[k] - y[k - 1]
        frac = 1.0 if step <= 0 else (value_share - y[k - 1]) / step
        return float((k - 1 + min(max(frac, 0.0), 1.0)) / n)

    def share_held_by(self, place_share: float) -> float:
        """Share of the total held by the top ``place_share`` (0..1) of places."""
        return float(np.interp(place_share, self.place_share, self.value_share))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"place_share": self.place_share, "value_share": self.value_share})


def lorenz_curve(values, n_events: int | None = None) -> LorenzCurve:
    """The concentration curve of place values (see the module docstring)."""
    v = _checked(values)
    s = float(v.sum())
    if s <= 0:
        raise InputError("all places are 0: there is nothing to draw a concentration curve of.")
    n = v.size
    desc = np.sort(v)[::-1]
    y = np.concatenate([[0.0], np.cumsum(desc) / s])
    y[-1] = 1.0
    n_ev = _events(v, n_events)
    return LorenzCurve(
        place_share=np.arange(n + 1) / n, value_share=y, equality_x=float(min(1.0, n_ev / n)) if n_ev > 0 else 1.0
    )


@dataclass(frozen=True, eq=False)
class Concentration:
    """Concentration of one set of place values.

    ``n_places`` (all places, empty ones included), ``n_places_with_events``,
    ``n_events`` (N), ``total`` (S: events, or harm), ``gini``,
    ``generalised_gini``, ``sparse`` (N < n, so the two differ),
    ``places_for_share`` {25: share of places holding 25% of the total, 50: .., 80: ..},
    ``share_in_top`` {1: share of the total in the top 1% of places, 5: ..},
    ``curve`` the :class:`LorenzCurve`, ``what`` ("incidents" or "harm (<scheme>)").
    """

    n_places: int
    n_places_with_events: int
    n_events: int
    total: float
    gini: float
    generalised_gini: float
    sparse: bool
    places_for_share: dict[int, float] = field(default_factory=dict)
    share_in_top: dict[int, float] = field(default_factory=dict)
    curve: LorenzCurve | None = field(default=None, repr=False)
    what: str = "incidents"

    def summary(self, prefix: str = "") -> dict[str, float]:
        """Flat dict of the figures (keys prefixed with ``prefix``), for tables."""
        out = {f"{prefix}gini": self.gini, f"{prefix}generalised_gini": self.generalised_gini}
        for p, v in self.places_for_share.items():
            out[f"{prefix}places_for_{p}pct"] = v
        for q, v in self.share_in_top.items():
            out[f"{prefix}top{q}pct_share"] = v
        return out


def concentration(
    values, n_events: int | None = None, shares=SHARES, tops=TOPS, what: str = "incidents"
) -> Concentration:
    """Gini, generalised Gini, concentration curve and power-few figures of place values.

    Parameters
    ----------
    values : array (n,)
        Counts (or harm) of **every** place, zeros included.
    n_events : int, optional
        Number of events behind ``values``; default their sum (whole counts).
        For harm pass the number of incidents carrying harm.
    shares : percentages of the total (default 25, 50, 80) whose share of places is reported.
    tops : percentages of places (default 1, 5) whose share of the total is reported.
    """
    v = _checked(values)
    n_ev = _events(v, n_events)
    total = float(v.sum())
    curve: LorenzCurve | None = None
    if total <= 0:
        nan = float("nan")
        g = gg = nan
        places_for_share = {p: nan for p in shares}
        share_in_top = {q: nan for q in tops}
    else:
        curve = lorenz_curve(v, n_ev)
        g, gg = gini(v), generalised_gini(v, n_ev)
        places_for_share = {p: curve.share_of_places_for(p / 100.0) for p in shares}
        share_in_top = {q: curve.share_held_by(q / 100.0) for q in tops}
    return Concentration(
        n_places=int(v.size),
        n_places_with_events=int((v > 0).sum()),
        n_events=n_ev,
        total=total,
        gini=g,
        generalised_gini=gg,
        sparse=bool(n_ev < v.size),
        places_for_share=places_for_share,
        share_in_top=share_in_top,
        curve=curve,
        what=what,
    )


def concentration_trend(table: pd.DataFrame, measure: str = "generalised_gini", alpha: float = 0.05) -> pd.DataFrame:
    """Is concentration rising? One row per (grouping, group) of a :func:`concentration_table`.

    Over the periods in order: ``first`` and ``last`` value of ``measure``, the
    Theil-Sen ``slope`` per period, Kendall's ``tau`` and its two-sided ``p_value``
    (scipy), and ``direction``: *rising* / *falling* when p < ``alpha``, else
    *no clear trend* (also with fewer than 4 periods). Rows with no events are
    left out of the trend.
    """
    if measure not in table.columns:
        raise InputError(f"the table has no {measure!r} column; choose one of {list(table.columns)}.")
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}.")
    rows = []
    for (grouping, group), sub in table.groupby(["grouping", "group"], sort=False):
        sub = sub[np.isfinite(sub[measure].to_numpy(float))]
        v = sub[measure].to_numpy(float)
        rec = {
            "grouping": grouping,
            "group": group,
            "measure": measure,
            "periods": int(v.size),
            "first_period": sub["period"].iloc[0] if v.size else "",
            "last_period": sub["period"].iloc[-1] if v.size else "",
            "first": v[0] if v.size else np.nan,
            "last": v[-1] if v.size else np.nan,
            "slope": np.nan,
            "tau": np.nan,
            "p_value": np.nan,
            "direction": "no clear trend",
        }
        if v.size >= 4:
            t = np.arange(v.size, dtype=float)
            from scipy import stats  # imported when needed: scipy.stats costs most of a second

            rec["slope"] = float(stats.theilslopes(v, t)[0])
            kt = stats.kendalltau(t, v)
            rec["tau"], rec["p_value"] = float(kt.statistic), float(kt.pvalue)
            if kt.pvalue < alpha:
                rec["direction"] = "rising" if kt.statistic > 0 else "falling"
        rows.append(rec)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the table
def incident_weights(incidents: pd.DataFrame, weights: str | npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Harm per incident from a column name or an array; checked finite and >= 0."""
    if isinstance(weights, str):
        if weights not in incidents.columns:
            raise InputError(
                f"incidents have no {weights!r} column for harm; columns: {list(incidents.columns)} "
                "(hotspots.analysis.harm.with_harm adds one for a harm scheme)."
            )
        w = incidents[weights].to_numpy(float)
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (len(incidents),):
            raise InputError(f"weights has {w.size} values for {len(incidents)} incidents.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputError("harm weights must be finite and >= 0.")
    return w


def concentration_table(
    incidents: pd.DataFrame,
    places: Places,
    groupings=GROUPINGS,
    period: str | None = "year",
    wards=None,
    weights="harm",
    harm_scheme: str = "",
    complete_only: bool = True,
) -> pd.DataFrame:
    """Concentration of incidents and of harm, by group and period, as a tidy table.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents contract (x, y in EPSG:27700; crime_type; start, end; harm).
    places : Places
        The full set of places (see :mod:`hotspots.analysis.places`); every place
        counts in every row, empty or not.
    groupings : iterable of "all", "crime_type", "ward"
        Which breakdowns to give: the whole area, each crime type, each ward.
        By ward, the places are those whose representative point lies in the
        ward (needs ``wards``) and the events are the incidents at those places.
    period : "year", "half-year", "quarter" or None
        Calendar periods (midpoint of each incident's time window, local time);
        None gives one row over the whole data. With ``complete_only`` periods
        the data do not fully cover are left out (``attrs["n_set_aside"]``
        counts their incidents).
    weights : column name or array
        Harm per incident (default the ``harm`` column); ``harm_scheme`` names the
        scheme for the table.

    Returns
    -------
    DataFrame, one row per (grouping, group, period) with: ``grouping, group,
    period, n_places, n_places_with_events, n_events, n_unplaced`` (incidents of
    the row at no place; 0 in ward rows, where such incidents have no ward;
    ``attrs["n_unplaced"]`` is the total), ``harm, harm_scheme``, for counts ``gini, generalised_gini,
    places_for_25pct, places_for_50pct, places_for_80pct, top1pct_share,
    top5pct_share`` and the same for harm prefixed ``harm_``. Shares are
    fractions (0..1). ``attrs`` records the places and the harm scheme.
    """
    groupings = tuple(groupings)
    bad = [g for g in groupings if g not in GROUPINGS]
    if bad:
        raise InputError(f"unknown grouping(s) {bad}; choose from {list(GROUPINGS)}.")
    if "ward" in groupings and wards is None:
        raise InputError("grouping by ward needs the wards (GeoDataFrame with ward_code, EPSG:27700).")
    for col in ("x", "y") + (("crime_type",) if "crime_type" in groupings else ()):
        if col not in incidents.columns:
            raise InputError(f"incidents need a {col!r} column; columns: {list(incidents.columns)}.")
    w = incident_weights(incidents, weights)
    where = places.locate(incidents["x"].to_numpy(float), incidents["y"].to_numpy(float))
    labels: tuple[str, ...]
    if period is None:
        pidx = np.zeros(len(incidents), dtype=np.int64)
        labels, set_aside = ("all",), 0
    else:
        bins = period_bins(incidents, period, complete_only=complete_only)
        pidx, labels, set_aside = bins.index, bins.labels, bins.n_set_aside
    place_ward = places.wards(wards) if "ward" in groupings else None
    types = incidents["crime_type"].astype(str).to_numpy() if "crime_type" in groupings else None

    selections = []  # (grouping, group, place mask or None, incident mask)
    every = np.ones(len(incidents), dtype=bool)
    if "all" in groupings:
        selections.append(("all", "all", None, every))
    if types is not None:
        for t in sorted(set(types.tolist())):
            selections.append(("crime_type", t, None, types == t))
    if place_ward is not None:
        inc_ward = np.where(where >= 0, place_ward[np.maximum(where, 0)], "")
        for code in sorted(set(place_ward.tolist()) - {""}):
            selections.append(("ward", code, place_ward == code, inc_ward == code))

    rows = []
    for grouping, group, pmask, imask in selections:
        sub_places = np.arange(places.n) if pmask is None else np.nonzero(pmask)[0]
        remap = np.full(places.n, -1, dtype=np.int64)
        remap[sub_places] = np.arange(sub_places.size)
        for k, label in enumerate(labels):
            sel = imask & (pidx == k)
            at = where[sel]
            placed = at >= 0
            local = remap[at[placed]]
            inside = local >= 0
            local = local[inside]
            counts = np.bincount(local, minlength=sub_places.size).astype(float)
            harm_w = w[sel][placed][inside]
            harm = np.bincount(local, weights=harm_w, minlength=sub_places.size)
            c = concentration(counts) if sub_places.size else None
            h = concentration(harm, n_events=int((harm_w > 0).sum()), what="harm") if sub_places.size else None
            row: dict[str, object] = {
                "grouping": grouping,
                "group": group,
                "period": label,
                "n_places": int(sub_places.size),
                "n_places_with_events": c.n_places_with_events if c else 0,
                "n_events": int(counts.sum()),
                "n_unplaced": int((~placed).sum()) if pmask is None else 0,
                "harm": float(harm.sum()),
                "harm_scheme": harm_scheme,
            }
            if c is not None and h is not None:
                row.update(c.summary())
                row.update(h.summary("harm_"))
            rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs.update(
        {
            "places": places.description,
            "place_kind": places.kind,
            "harm_scheme": harm_scheme,
            "period": period or "all",
            "complete_only": complete_only,
            "n_set_aside": set_aside,
            "n_unplaced": int((where < 0).sum()),
            "note": "Every place counts, including places with no incident. Generalised Gini: "
            "Bernasco & Steenbeek (2017).",
        }
    )
    return df
