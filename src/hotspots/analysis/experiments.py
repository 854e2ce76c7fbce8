"""Randomised patrol experiments: allocate, schedule, evaluate.

Two designs, both seeded (same places, dates and seed give the same allocation):

* **Place allocation** (:func:`allocate_places`): each place to *treatment* (patrol)
  or *control*, completely at random within strata (e.g. wards, or bands of past
  harm). In each stratum the places are put in a random order and the first
  ``treatment_share`` of them are treated; when that share is not a whole number
  of places the extra place is treated with the fractional probability.
  Evaluated by :func:`evaluate_allocation`.
* **Crossover days** (:func:`crossover_schedule`): every place is its own control,
  patrolled on some days and not on others, as in the Southend harm-spot
  experiment (Basford et al. 2021, Cambridge Journal of Evidence-Based Policing).
  The days are split into blocks of ``block_days`` (default 7, so each weekday
  gets both arms over time); in each block of each place ``patrol_share`` of the
  days, chosen at random, are patrol days (a fractional number of days is
  rounded up or down at random with the fractional probability). Evaluated by
  :func:`evaluate_crossover`.

The schedule is a table (one row per place and day) that a renderer can write as
CSV and split into one page per Safer Neighbourhood Team.

Estimators and intervals
------------------------
Outcomes are harm (the incidents' harm weights) and counts, per place-day (crossover)
or per place (allocation); incidents are placed in a place by point in polygon and
on the local date of the midpoint of their time window (times to the day needed).

*Crossover*: for each place the mean outcome on its patrol days minus the mean on
its no-patrol days, ``d_p``; the effect is the mean of ``d_p`` over the P places
(each place one unit of analysis, so correlation between a place's days is
allowed for), with a t interval on P - 1 degrees of freedom from the standard
deviation of the ``d_p``. With a single place, Welch's t interval over its days.

*Allocation*: per place the outcome per day during the period minus per day in the
``before_days`` before it (the change); the effect is the treated places' mean
change minus the controls' (a difference in differences), with Welch's t interval
(Welch-Satterthwaite degrees of freedom).

Both also report a randomisation p-value: the design is re-drawn ``permutations``
times with the same rules (blocks, strata) and a seeded generator, and
``p = (1 + #{|effect*| >= |effect|}) / (permutations + 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from ..config.sections import DEFAULT_TIMEZONE
from ..errors import InputError
from ..model import midpoint_times, require_precision
from .dosage import check_places, places_of_pings

__all__ = [
    "Allocation",
    "EffectEstimate",
    "ExperimentResult",
    "Schedule",
    "allocate_places",
    "crossover_schedule",
    "evaluate_allocation",
    "evaluate_crossover",
]

PATROL, NO_PATROL = "patrol", "no patrol"
TREATMENT, CONTROL = "treatment", "control"


def _round_random(rng: np.random.Generator, v: float) -> int:
    f = math.floor(v)
    return int(f + (rng.random() < v - f))


@dataclass(frozen=True, eq=False)
class Allocation:
    """Places allocated to ``treatment`` or ``control``: ``table`` (place_id, stratum, arm)."""

    table: pd.DataFrame
    seed: int
    treatment_share: float
    design: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


@dataclass(frozen=True, eq=False)
class Schedule:
    """Crossover days: ``table`` (place_id, [team,] date, weekday, block, arm) with arm ``patrol``
    or ``no patrol``; dates are local calendar days."""

    table: pd.DataFrame
    start: pd.Timestamp
    days: int
    seed: int
    patrol_share: float
    block_days: int
    timezone: str
    design: str

    def to_frame(self) -> pd.DataFrame:
        """One row per place and day, ready for a CSV (dates as YYYY-MM-DD)."""
        out = self.table.copy()
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
        return out

    def for_place(self, place_id) -> pd.DataFrame:
        """The days of one place (for its team's page)."""
        return self.table[self.table["place_id"] == str(place_id)].reset_index(drop=True)

    def for_team(self, team) -> pd.DataFrame:
        """The days of every place one team patrols (needs ``teams`` when the schedule was made)."""
        if "team" not in self.table.columns:
            raise InputError("this schedule was made without teams; pass teams= to crossover_schedule.")
        return self.table[self.table["team"] == str(team)].reset_index(drop=True)

    def patrol_days(self) -> pd.DataFrame:
        """Only the patrol days."""
        return self.table[self.table["arm"] == PATROL].reset_index(drop=True)


@dataclass(frozen=True)
class EffectEstimate:
    """An effect with its interval: ``estimate`` (patrol minus no patrol, per place-day for a
    crossover, change per place-day for an allocation), ``se``, ``ci_low``/``ci_high`` at
    ``1 - alpha``, ``df``, two-sided ``p`` of the t test, ``p_randomisation``, the arms' means,
    ``relative`` = estimate / control mean, and ``method`` in words."""

    outcome: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    df: float
    p: float
    p_randomisation: float
    treated_mean: float
    control_mean: float
    relative: float
    n_places: int
    n_observations: int
    alpha: float
    method: str

    def summary(self) -> str:
        what = "harm" if self.outcome == "harm" else "crimes"
        return (
            f"{self.estimate:+.3f} {what} per place-day ({100 * (1 - self.alpha):g}% interval {self.ci_low:+.3f} to "
            f"{self.ci_high:+.3f}; p = {self.p:.3g}, randomisation p = {self.p_randomisation:.3g}); "
            f"{100 * self.relative:+.1f}% of the level without patrol."
        )


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """Evaluation of a randomised experiment: the effect on ``harm`` and on ``count``, the
    per-place summary and the observations the estimate was computed from."""

    harm: EffectEstimate
    count: EffectEstimate
    per_place: pd.DataFrame
    observations: pd.DataFrame
    design: str
    settings: dict[str, float | int | str]
    notes: tuple[str, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------- designs
def allocate_places(place_ids, *, seed: int, treatment_share: float = 0.5, strata=None) -> Allocation:
    """Randomise places to treatment or control (see the module docstring).

    ``strata``: optional mapping (or Series) place id -> stratum label; default one stratum.
    """
    ids = sorted({str(p) for p in place_ids})
    if len(ids) < 2:
        raise InputError("allocate_places: need at least 2 places.")
    if not 0 < treatment_share < 1:
        raise InputError(f"allocate_places: treatment_share must be between 0 and 1, got {treatment_share}.")
    strata = {} if strata is None else {str(k): str(v) for k, v in dict(strata).items()}
    missing = [p for p in ids if strata and p not in strata]
    if missing:
        raise InputError(f"allocate_places: no stratum for place(s) {missing[:5]}; give every place a stratum.")
    rng = np.random.default_rng(seed)
    rows = []
    labels = [strata.get(p, "all") for p in ids]
    for st in sorted(set(labels)):
        members = [p for p, lab in zip(ids, labels, strict=True) if lab == st]
        order = rng.permutation(len(members))
        k = _round_random(rng, treatment_share * len(members))
        for rank, j in enumerate(order):
            rows.append({"place_id": members[j], "stratum": st, "arm": TREATMENT if rank < k else CONTROL})
    table = pd.DataFrame(rows).sort_values("place_id", kind="stable").reset_index(drop=True)
    design = (
        f"complete randomisation of {len(ids)} places within {len(set(labels))} stratum(s), "
        f"treatment share {treatment_share:g}, seed {seed}"
    )
    return Allocation(table=table, seed=seed, treatment_share=treatment_share, design=design)


def crossover_schedule(
    place_ids,
    start,
    days: int,
    *,
    seed: int,
    patrol_share: float = 0.5,
    block_days: int = 7,
    teams=None,
    timezone: str = DEFAULT_TIMEZONE,
) -> Schedule:
    """Patrol and no-patrol days for each place over ``days`` days from ``start`` (a local date),
    in randomised blocks (see the module docstring).

    ``teams``: optional mapping place id -> the team that patrols it (e.g. its Safer Neighbourhood
    Team), added as a ``team`` column so each team's days can be listed (:meth:`Schedule.for_team`).
    """
    ids = sorted({str(p) for p in place_ids})
    if not ids:
        raise InputError("crossover_schedule: no places given.")
    if days < 2 or block_days < 2 or not 0 < patrol_share < 1:
        raise InputError(
            f"crossover_schedule: need days >= 2, block_days >= 2 and 0 < patrol_share < 1 "
            f"(got {days}, {block_days}, {patrol_share})."
        )
    d0 = pd.Timestamp(start)
    d0 = (d0.tz_convert(timezone).tz_localize(None) if d0.tzinfo else d0).normalize()
    dates = pd.date_range(d0, periods=days, freq="D")
    rng = np.random.default_rng(seed)
    block = np.arange(days) // block_days
    arms = np.empty((len(ids), days), dtype=object)
    for i in range(len(ids)):
        arms[i] = _draw_blocks(rng, block, patrol_share)
    table = pd.DataFrame(
        {
            "place_id": np.repeat(ids, days),
            "date": np.tile(dates, len(ids)),
            "weekday": np.tile(dates.day_name(), len(ids)),
            "block": np.tile(block + 1, len(ids)),
            "arm": arms.ravel(),
        }
    )
    if teams is not None:
        teams = {str(k): str(v) for k, v in dict(teams).items()}
        missing = [p for p in ids if p not in teams]
        if missing:
            raise InputError(f"crossover_schedule: no team for place(s) {missing[:5]}; give every place a team.")
        table.insert(1, "team", table["place_id"].map(teams))
    design = (
        f"crossover: {len(ids)} places x {days} days from {d0:%Y-%m-%d}, in blocks of {block_days} days with "
        f"{patrol_share:g} of each block's days patrolled at random, seed {seed}"
    )
    return Schedule(
        table=table,
        start=d0,
        days=days,
        seed=seed,
        patrol_share=patrol_share,
        block_days=block_days,
        timezone=timezone,
        design=design,
    )


def _draw_blocks(rng, block: np.ndarray, share: float) -> np.ndarray:
    arm = np.full(len(block), NO_PATROL, dtype=object)
    for b in np.unique(block):
        idx = np.flatnonzero(block == b)
        k = _round_random(rng, share * len(idx))
        arm[rng.permutation(idx)[:k]] = PATROL
    return arm


# --------------------------------------------------------------------------- outcomes per place-day
def _place_day_outcomes(
    incidents: pd.DataFrame, places: gpd.GeoDataFrame, id_column: str, timezone: str
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int32], pd.DatetimeIndex, npt.NDArray[np.float64]]:
    """The place ids, and per incident in a place (once per place it is in): the place's index,
    the local date of the incident's midpoint and its harm."""
    ids = check_places(places, None, id_column, "experiment")
    for c in ("x", "y", "start", "end", "harm", "time_precision"):
        if c not in incidents.columns:
            raise InputError(f"experiment: incidents need a {c!r} column (the canonical incident table).")
    if isinstance(incidents, gpd.GeoDataFrame) and incidents.crs is not None and incidents.crs != places.crs:
        raise InputError(f"experiment: incidents are in {incidents.crs} but the places in {places.crs}; reproject.")
    require_precision(
        incidents,
        "day",
        "Evaluating a patrol experiment",
        "Use a force extract with offence dates (police.uk gives months only).",
    )
    pt, pl = places_of_pings(
        incidents["x"].to_numpy(float), incidents["y"].to_numpy(float), places.geometry.to_numpy(), 0.0
    )
    mid = midpoint_times(incidents)[pt]
    local = pd.DatetimeIndex(pd.to_datetime(mid * 86400e9, utc=True)).tz_convert(timezone).tz_localize(None).normalize()
    return ids, pl, local, incidents["harm"].to_numpy(float)[pt]


def _t_interval(est: float, se: float, df: float, alpha: float) -> tuple[float, float, float]:
    if not (se > 0) or not np.isfinite(df) or df <= 0:
        return np.nan, np.nan, np.nan
    from scipy import stats  # imported when needed: scipy.stats costs most of a second

    q = stats.t.ppf(1 - alpha / 2, df)
    p = 2 * stats.t.sf(abs(est / se), df)
    return est - q * se, est + q * se, float(p)


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Difference of means a - b, its Welch standard error and Welch-Satterthwaite df."""
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if va + vb > 0 else np.nan
    return float(a.mean() - b.mean()), se, float(df)


def _crossover_effect(y: np.ndarray, treated: np.ndarray, place: np.ndarray, n_places: int):
    """(estimate, se, df, per-place differences) of the crossover estimator."""
    tn = np.bincount(place, weights=treated, minlength=n_places)
    cn = np.bincount(place, weights=~treated, minlength=n_places)
    ts = np.bincount(place, weights=y * treated, minlength=n_places)
    cs = np.bincount(place, weights=y * ~treated, minlength=n_places)
    ok = (tn > 0) & (cn > 0)
    d = ts[ok] / tn[ok] - cs[ok] / cn[ok]
    if len(d) >= 2:
        return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d))), float(len(d) - 1), d
    if len(d) == 1:
        est, se, df = _welch(y[treated], y[~treated])
        return est, se, df, d
    return np.nan, np.nan, np.nan, d


def evaluate_crossover(
    schedule: Schedule,
    incidents,
    places,
    *,
    id_column: str = "item_id",
    alpha: float = 0.05,
    permutations: int = 999,
    seed: int = 0,
) -> ExperimentResult:
    """Effect of patrol days on harm and counts in a crossover experiment (see the module docstring).

    ``places``: GeoDataFrame of the schedule's places (``id_column``), in the incidents' CRS;
    ``incidents``: canonical incidents covering the schedule's days.
    """
    if not 0 < alpha < 1 or permutations < 0:
        raise InputError("evaluate_crossover: need 0 < alpha < 1 and permutations >= 0.")
    tab = schedule.table
    ids, pl, day, harm = _place_day_outcomes(incidents, places, id_column, schedule.timezone)
    unknown = sorted(set(tab["place_id"]) - set(ids))
    if unknown:
        raise InputError(f"evaluate_crossover: the schedule's places {unknown[:5]} are not in the places given.")
    pos = {p: i for i, p in enumerate(tab["place_id"].unique())}
    obs_place = tab["place_id"].map(pos).to_numpy()
    key = pd.MultiIndex.from_arrays([tab["place_id"], tab["date"]])
    inc_key = pd.MultiIndex.from_arrays([ids[pl], day])
    hit = key.get_indexer(inc_key)
    inside = hit >= 0
    n_obs = len(tab)
    count = np.bincount(hit[inside], minlength=n_obs).astype(float)
    hsum = np.bincount(hit[inside], weights=harm[inside], minlength=n_obs)
    treated = (tab["arm"] == PATROL).to_numpy()
    n_places = len(pos)
    obs = tab.assign(count=count, harm=hsum)
    rng = np.random.default_rng(seed)
    block = tab["block"].to_numpy()
    group = obs_place * (block.max() + 1) + block
    perm_arms = _permuted_arms(rng, treated, group, permutations)
    est = {}
    per_place = None
    for name, y in (("harm", hsum), ("count", count)):
        e, se, df, _ = _crossover_effect(y, treated, obs_place, n_places)
        lo, hi, p = _t_interval(e, se, df, alpha)
        sims = np.array([_crossover_effect(y, t, obs_place, n_places)[0] for t in perm_arms])
        p_r = float((1 + np.sum(np.abs(sims) >= abs(e) - 1e-12)) / (len(sims) + 1)) if len(sims) else np.nan
        tm, cm = float(y[treated].mean()), float(y[~treated].mean())
        method = (
            "mean over places of (mean on patrol days - mean on no-patrol days); t interval on places - 1 df"
            if n_places >= 2
            else "difference of day means at one place; Welch t interval"
        )
        est[name] = EffectEstimate(
            outcome=name,
            estimate=e,
            se=se,
            ci_low=lo,
            ci_high=hi,
            df=df,
            p=p,
            p_randomisation=p_r,
            treated_mean=tm,
            control_mean=cm,
            relative=e / cm if cm > 0 else np.nan,
            n_places=n_places,
            n_observations=n_obs,
            alpha=alpha,
            method=method,
        )
        g = obs.groupby(["place_id", "arm"])[name].mean().unstack("arm")
        cols = {PATROL: f"{name}_patrol_days", NO_PATROL: f"{name}_no_patrol_days"}
        g = g.rename(columns=cols)
        per_place = g if per_place is None else per_place.join(g)
    days_by_arm = (
        obs.groupby(["place_id", "arm"])
        .size()
        .unstack("arm")
        .rename(columns={PATROL: "patrol_days", NO_PATROL: "no_patrol_days"})
    )
    per_place = days_by_arm.join(per_place).reset_index()
    notes = []
    if inside.sum() < len(hit):
        notes.append(f"{int(len(hit) - inside.sum())} incident(s) in the places fall outside the schedule's days")
    settings: dict[str, float | int | str] = {
        "alpha": alpha,
        "permutations": permutations,
        "seed": seed,
        "id_column": id_column,
    }
    return ExperimentResult(
        harm=est["harm"],
        count=est["count"],
        per_place=per_place,
        observations=obs,
        design=schedule.design,
        settings=settings,
        notes=tuple(notes),
    )


def _permuted_arms(rng, treated: np.ndarray, group: np.ndarray, permutations: int) -> list[np.ndarray]:
    """Re-draws of the arms that keep each group's number of treated observations."""
    out = []
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    for _ in range(permutations):
        keys = np.lexsort((rng.random(len(group)), g_sorted))
        t = np.empty_like(treated)
        t[order] = treated[order][keys]
        out.append(t)
    return out


def evaluate_allocation(
    allocation: Allocation,
    incidents,
    places,
    start,
    end,
    *,
    before_days: float | None = None,
    id_column: str = "item_id",
    alpha: float = 0.05,
    permutations: int = 999,
    seed: int = 0,
    timezone: str = DEFAULT_TIMEZONE,
) -> ExperimentResult:
    """Effect of treatment on harm and counts in a place-allocation experiment over ``[start, end)``
    (see the module docstring). ``before_days``: the baseline period (default as long as the trial)."""
    if not 0 < alpha < 1 or permutations < 0:
        raise InputError("evaluate_allocation: need 0 < alpha < 1 and permutations >= 0.")
    tab = allocation.table
    ids, pl, day, harm = _place_day_outcomes(incidents, places, id_column, timezone)
    unknown = sorted(set(tab["place_id"]) - set(ids))
    if unknown:
        raise InputError(f"evaluate_allocation: the allocation's places {unknown[:5]} are not in the places given.")
    s = pd.Timestamp(start)
    s = (s.tz_convert(timezone).tz_localize(None) if s.tzinfo else s).normalize()
    e = pd.Timestamp(end)
    e = (e.tz_convert(timezone).tz_localize(None) if e.tzinfo else e).normalize()
    if e <= s:
        raise InputError(f"evaluate_allocation: end {e:%Y-%m-%d} is not after start {s:%Y-%m-%d}.")
    trial = (e - s).days
    bd = int(before_days) if before_days else trial
    b0 = s - pd.Timedelta(days=bd)
    pos = {p: i for i, p in enumerate(tab["place_id"])}
    place_idx = np.array([pos.get(str(ids[k]), -1) for k in pl], dtype=np.int64)
    during = (day >= s) & (day < e) & (place_idx >= 0)
    before = (day >= b0) & (day < s) & (place_idx >= 0)
    n = len(tab)
    rows = {}
    for name, w in (("harm", harm), ("count", np.ones(len(harm)))):
        a = np.bincount(place_idx[during], weights=w[during], minlength=n) / trial
        b = np.bincount(place_idx[before], weights=w[before], minlength=n) / bd
        rows[name] = (a, b, a - b)
    treated = (tab["arm"] == TREATMENT).to_numpy()
    strata = tab["stratum"].to_numpy()
    rng = np.random.default_rng(seed)
    perm = _permuted_arms(rng, treated, pd.factorize(strata)[0], permutations)
    est = {}
    for name, (a, _, ch) in rows.items():
        if treated.sum() < 2 or (~treated).sum() < 2:
            raise InputError("evaluate_allocation: need at least 2 places in each arm.")
        e_, se, df = _welch(ch[treated], ch[~treated])
        lo, hi, p = _t_interval(e_, se, df, alpha)
        sims = np.array([ch[t].mean() - ch[~t].mean() for t in perm])
        p_r = float((1 + np.sum(np.abs(sims) >= abs(e_) - 1e-12)) / (len(sims) + 1)) if len(sims) else np.nan
        cm = float(a[~treated].mean())
        est[name] = EffectEstimate(
            outcome=name,
            estimate=e_,
            se=se,
            ci_low=lo,
            ci_high=hi,
            df=df,
            p=p,
            p_randomisation=p_r,
            treated_mean=float(a[treated].mean()),
            control_mean=cm,
            relative=e_ / cm if cm > 0 else np.nan,
            n_places=n,
            n_observations=n,
            alpha=alpha,
            method="difference in mean change per day (during - before), treatment - control; Welch t interval",
        )
    per_place = tab.assign(
        harm_before=rows["harm"][1],
        harm_during=rows["harm"][0],
        harm_change=rows["harm"][2],
        count_before=rows["count"][1],
        count_during=rows["count"][0],
        count_change=rows["count"][2],
    )
    settings: dict[str, float | int | str] = {
        "alpha": alpha,
        "permutations": permutations,
        "seed": seed,
        "before_days": bd,
        "trial_days": trial,
        "id_column": id_column,
    }
    notes = (f"trial {s:%Y-%m-%d}..{e - pd.Timedelta(days=1):%Y-%m-%d} ({trial} days), baseline {bd} days before",)
    return ExperimentResult(
        harm=est["harm"],
        count=est["count"],
        per_place=per_place,
        observations=per_place,
        design=allocation.design,
        settings=settings,
        notes=notes,
    )
