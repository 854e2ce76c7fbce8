"""Randomised patrol experiments: seeded designs, estimators against scipy and hand-computed
cases, and recovery of a planted patrol effect within its interval."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from hotspots.analysis.experiments import allocate_places, crossover_schedule, evaluate_allocation, evaluate_crossover
from hotspots.demo.patrol_sim import plant_patrol_effect
from hotspots.errors import InputError, PrecisionError

TZ = "Europe/London"
BNG = "EPSG:27700"


def grid_places(n, radius=80.0):
    xy = np.array([(530000 + 400 * (k % 10), 180000 + 400 * (k // 10)) for k in range(n)], dtype=float)
    return gpd.GeoDataFrame(
        {"item_id": [f"H{k:02d}" for k in range(n)]}, geometry=shapely.buffer(shapely.points(xy), radius), crs=BNG
    )


# --------------------------------------------------------------------------- designs
def test_crossover_schedule_is_seeded_and_balanced():
    ids = [f"H{k:02d}" for k in range(12)]
    a = crossover_schedule(ids, "2025-06-02", 63, seed=4, patrol_share=0.5)
    b = crossover_schedule(list(reversed(ids)), "2025-06-02", 63, seed=4, patrol_share=0.5)
    c = crossover_schedule(ids, "2025-06-02", 63, seed=5, patrol_share=0.5)
    assert a.table.equals(b.table) and not a.table.equals(c.table)
    t = a.table
    assert len(t) == 12 * 63 and set(t["arm"]) == {"patrol", "no patrol"}
    per_block = t.assign(p=t["arm"] == "patrol").groupby(["place_id", "block"])["p"].sum()
    assert set(per_block.unique()) <= {3, 4}  # 3.5 of 7 days, rounded at random
    assert 0.42 < (t["arm"] == "patrol").mean() < 0.58
    assert (t.groupby("place_id")["date"].nunique() == 63).all()
    assert a.for_place("H03")["place_id"].eq("H03").all() and len(a.for_place("H03")) == 63
    csv = a.to_frame()
    assert csv["date"].iloc[0] == "2025-06-02" and csv["weekday"].iloc[0] == "Monday"
    assert "seed 4" in a.design
    teams = {p: ("Ashcombe SNT" if k < 5 else "Brookfield SNT") for k, p in enumerate(ids)}
    with_teams = crossover_schedule(ids, "2025-06-02", 63, seed=4, teams=teams)
    assert with_teams.table.drop(columns="team").equals(t)  # teams do not change the draw
    assert set(with_teams.for_team("Ashcombe SNT")["place_id"]) == set(ids[:5])
    with pytest.raises(InputError, match="without teams"):
        a.for_team("Ashcombe SNT")


def test_allocation_is_seeded_and_stratified():
    ids = [f"P{k:02d}" for k in range(21)]
    strata = {p: ("north" if k < 10 else "south") for k, p in enumerate(ids)}
    a = allocate_places(ids, seed=1, strata=strata)
    assert a.table.equals(allocate_places(ids[::-1], seed=1, strata=strata).table)
    got = a.table.groupby("stratum")["arm"].apply(lambda s: (s == "treatment").sum())
    assert got["north"] == 5 and got["south"] in (5, 6)
    with pytest.raises(InputError, match="stratum"):
        allocate_places(ids, seed=1, strata={"P00": "x"})


# --------------------------------------------------------------------------- estimators
def _incidents_at(places, rows):
    """Incidents at the centre of the named places, at noon of the given days, with harm weights."""
    recs = []
    for k, (pid, day, harm) in enumerate(rows):
        c = places.set_index("item_id").geometry[pid].centroid
        t = pd.Timestamp(day + " 12:00", tz=TZ)
        recs.append(
            {
                "incident_id": f"I{k}",
                "crime_type": "robbery",
                "start": t,
                "end": t,
                "time_precision": "minute",
                "x": c.x,
                "y": c.y,
                "harm": harm,
            }
        )
    df = pd.DataFrame(recs)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=BNG)


def test_crossover_estimator_hand_computed():
    places = grid_places(2)
    sched = crossover_schedule(["H00", "H01"], "2025-06-02", 4, seed=0, block_days=4)
    t = sched.table
    # place harm per day: put 2 incidents (harm 10 + 2) on one no-patrol day of H00, 1 (harm 6) on a patrol day of H01
    h00_no = t[(t.place_id == "H00") & (t.arm == "no patrol")]["date"].iloc[0].strftime("%Y-%m-%d")
    h01_pat = t[(t.place_id == "H01") & (t.arm == "patrol")]["date"].iloc[0].strftime("%Y-%m-%d")
    inc = _incidents_at(places, [("H00", h00_no, 10.0), ("H00", h00_no, 2.0), ("H01", h01_pat, 6.0)])
    r = evaluate_crossover(sched, inc, places, permutations=0)
    # each place has 2 patrol and 2 no-patrol days
    d = np.array([0 - 12 / 2, 6 / 2 - 0])
    assert r.harm.estimate == pytest.approx(d.mean())
    assert r.harm.se == pytest.approx(d.std(ddof=1) / np.sqrt(2)) and r.harm.df == 1
    ref = stats.ttest_1samp(d, 0.0)
    assert r.harm.p == pytest.approx(ref.pvalue)
    lo, hi = ref.confidence_interval(0.95)
    assert (r.harm.ci_low, r.harm.ci_high) == pytest.approx((lo, hi))
    dc = np.array([0 - 2 / 2, 1 / 2 - 0])
    assert r.count.estimate == pytest.approx(dc.mean())
    assert r.per_place.set_index("place_id").loc["H00", "harm_no_patrol_days"] == pytest.approx(6.0)


def test_allocation_estimator_matches_welch():
    rng = np.random.default_rng(3)
    places = grid_places(16)
    alloc = allocate_places(places["item_id"], seed=2)
    rows = []
    for pid in places["item_id"]:
        for _ in range(rng.integers(0, 6)):
            rows.append((pid, f"2025-05-{rng.integers(3, 31):02d}", float(rng.choice([2.0, 6.0, 10.0]))))
        for _ in range(rng.integers(0, 6)):
            rows.append((pid, f"2025-06-{rng.integers(2, 30):02d}", float(rng.choice([2.0, 6.0, 10.0]))))
    inc = _incidents_at(places, rows)
    r = evaluate_allocation(alloc, inc, places, "2025-06-02", "2025-06-30", permutations=199, seed=1)
    pp = r.per_place.set_index("place_id")
    # independent recount of the change in harm per day
    df = pd.DataFrame(rows, columns=["p", "d", "h"])
    d = pd.to_datetime(df["d"])
    dur = df[(d >= "2025-06-02") & (d < "2025-06-30")].groupby("p")["h"].sum() / 28
    bef = df[(d >= "2025-05-05") & (d < "2025-06-02")].groupby("p")["h"].sum() / 28
    change = dur.reindex(pp.index, fill_value=0) - bef.reindex(pp.index, fill_value=0)
    assert np.allclose(pp["harm_change"], change)
    tr = (pp["arm"] == "treatment").to_numpy()
    ref = stats.ttest_ind(change[tr], change[~tr], equal_var=False)
    assert r.harm.estimate == pytest.approx(change[tr].mean() - change[~tr].mean())
    assert r.harm.p == pytest.approx(ref.pvalue)
    assert r.harm.df == pytest.approx(ref.df)
    assert 0 < r.harm.p_randomisation <= 1


# --------------------------------------------------------------------------- planted effect
def _crossover_trial(seed, n_places=24, days=84, reduction=0.35, rate=0.8):
    rng = np.random.default_rng(seed)
    places = grid_places(n_places)
    sched = crossover_schedule(places["item_id"], "2025-06-02", days, seed=seed)
    dose = sched.patrol_days().rename(columns={"date": "day"}).assign(minutes=15.0)
    rates = {p: rate * (0.5 + k / n_places) for k, p in enumerate(places["item_id"])}
    sim = plant_patrol_effect(
        rng, places, dose, start="2025-06-02", days=days, base_rate_per_day=rates, reduction=reduction
    )
    return places, sched, sim


def test_planted_crossover_effect_recovered():
    places, sched, sim = _crossover_trial(seed=7)
    r = evaluate_crossover(sched, sim.incidents, places, permutations=499, seed=3)
    for est, truth in ((r.harm, sim.effect_harm_per_place_day), (r.count, sim.effect_count_per_place_day)):
        assert est.estimate < 0 and truth < 0
        assert est.ci_low <= truth <= est.ci_high
        assert est.ci_high < 0  # a 35% reduction is detected
        assert est.p_randomisation < 0.01
    assert r.harm.relative == pytest.approx(-0.35, abs=0.15)
    assert len(r.observations) == 24 * 84


def test_crossover_interval_coverage():
    """Over repeated trials the 95% interval holds the planted effect about 95% of the time."""
    hits, n = 0, 120
    for k in range(n):
        places, sched, sim = _crossover_trial(seed=100 + k, n_places=10, days=28, reduction=0.3, rate=1.0)
        r = evaluate_crossover(sched, sim.incidents, places, permutations=0)
        hits += r.harm.ci_low <= sim.effect_harm_per_place_day <= r.harm.ci_high
    assert 0.88 <= hits / n <= 0.995


def test_planted_allocation_effect_recovered():
    rng = np.random.default_rng(5)
    places = grid_places(40)
    alloc = allocate_places(places["item_id"], seed=9)
    treated = alloc.table[alloc.table["arm"] == "treatment"]["place_id"]
    days = pd.date_range("2025-06-02", periods=56, freq="D")
    dose = pd.DataFrame([(p, d, 15.0) for p in treated for d in days], columns=["place_id", "day", "minutes"])
    sim = plant_patrol_effect(rng, places, dose, start="2025-04-07", days=112, base_rate_per_day=1.0, reduction=0.4)
    r = evaluate_allocation(alloc, sim.incidents, places, "2025-06-02", "2025-07-28", permutations=299)
    truth = sim.effect_harm_per_place_day  # change per day: -0.4 x rate x mean harm in the treated places only
    assert r.harm.estimate < 0 and r.harm.ci_low <= truth <= r.harm.ci_high
    assert r.count.ci_low <= sim.effect_count_per_place_day <= r.count.ci_high


def test_month_precision_is_refused():
    places = grid_places(2)
    sched = crossover_schedule(["H00", "H01"], "2025-06-02", 14, seed=0)
    inc = _incidents_at(places, [("H00", "2025-06-03", 1.0)]).assign(time_precision="month")
    with pytest.raises(PrecisionError, match="month"):
        evaluate_crossover(sched, inc, places)
