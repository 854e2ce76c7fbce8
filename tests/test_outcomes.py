"""Outcomes of tasking: matched controls, WDD per place and pooled (against an independent
recount and the engine's WDD test), planted effects recovered, dosage-response slope."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from hotspots.analysis.dosage import visits_from_log
from hotspots.analysis.evaluate import wdd_test
from hotspots.analysis.outcomes import tasking_outcomes
from hotspots.demo.patrol_sim import plant_patrol_effect
from hotspots.errors import InputError, PrecisionError

TZ = "Europe/London"
BNG = "EPSG:27700"
HISTORY0 = "2024-06-03"  # incidents from here
START, END = "2025-06-02", "2025-06-30"
DAYS = (pd.Timestamp(END) - pd.Timestamp(HISTORY0)).days


def circles(xy, r, prefix):
    return gpd.GeoDataFrame(
        {"item_id": [f"{prefix}{k:02d}" for k in range(len(xy))]},
        geometry=shapely.buffer(shapely.points(np.asarray(xy, float)), r),
        crs=BNG,
    )


def tasking_dose(ids, minutes):
    days = pd.date_range(START, END, freq="D", inclusive="left")
    return pd.DataFrame(
        [(p, d, m) for p, m in zip(ids, minutes, strict=True) for d in days if m > 0],
        columns=["place_id", "day", "minutes"],
    )


@pytest.fixture(scope="module")
def scene():
    """6 tasked places with rates 0.25..8 a day, three untasked twins of each (same rate) and decoys."""
    rng = np.random.default_rng(42)
    rates = 0.25 * 2.0 ** np.arange(6)
    tasked = circles([(530000 + 1500 * k, 180000) for k in range(6)], 80, "T")
    twins = circles([(530000 + 1500 * k, 182000 + 1500 * j) for j in range(3) for k in range(6)], 80, "C")
    decoys = circles([(540000 + 1500 * k, 186000) for k in range(8)], 80, "X")
    twin_rate = np.tile(rates, 3)
    decoy_rate = np.array([0.05, 0.09, 20, 30, 0.06, 25, 0.07, 40])
    rings = gpd.GeoDataFrame(
        {"item_id": [f"R{k:02d}" for k in range(len(tasked) + len(twins) + len(decoys))]},
        geometry=list(
            shapely.difference(
                shapely.buffer(pd.concat([tasked, twins, decoys]).geometry.to_numpy(), 200),
                pd.concat([tasked, twins, decoys]).geometry.to_numpy(),
            )
        ),
        crs=BNG,
    )
    areas = pd.concat([tasked, twins, decoys, rings], ignore_index=True)
    rate = dict(zip(areas["item_id"], np.r_[rates, twin_rate, decoy_rate, np.full(len(rings), 0.7)], strict=True))
    sim = plant_patrol_effect(
        rng,
        areas,
        tasking_dose(tasked["item_id"], [15] * 6),
        start=HISTORY0,
        days=DAYS,
        base_rate_per_day=rate,
        reduction=0.4,
    )
    candidates = pd.concat([twins, decoys], ignore_index=True)
    res = tasking_outcomes(sim.incidents, tasked, START, END, candidates=candidates, n_controls=3)
    return dict(tasked=tasked, twins=twins, rates=rates, sim=sim, res=res, candidates=candidates)


def test_matching_finds_the_twins(scene):
    m = scene["res"].matching
    for k, pid in enumerate(scene["tasked"]["item_id"]):
        got = set(m[m["place_id"] == pid]["control_id"])
        assert got == {f"C{k + 6 * j:02d}" for j in range(3)}, pid
    assert m["control_id"].is_unique  # without replacement
    assert set(m.columns) >= {"distance", "place_harm_bin1", "control_harm_bin4"}


def test_wdd_per_place_matches_an_independent_recount(scene):
    inc, tasked, res = scene["sim"].incidents, scene["tasked"], scene["res"]
    pid = "T03"
    row = res.table.set_index("place_id").loc[pid]
    target = tasked.set_index("item_id").geometry[pid]
    ring = target.buffer(200).difference(shapely.union_all(tasked.geometry.to_numpy()))
    ctrl = scene["candidates"].set_index("item_id").geometry[row["controls"].split(";")].to_numpy()
    cring = [c.buffer(200).difference(c) for c in ctrl]
    mid = inc["start"]
    before = (mid >= pd.Timestamp("2025-05-05", tz=TZ)) & (mid < pd.Timestamp(START, tz=TZ))
    during = (mid >= pd.Timestamp(START, tz=TZ)) & (mid < pd.Timestamp(END, tz=TZ))

    def n(geoms, when):
        return sum(int((shapely.covers(g, inc.geometry.to_numpy()) & when.to_numpy()).sum()) for g in geoms)

    t = (n([target], before), n([target], during))
    c = (n(ctrl, before), n(ctrl, during))
    d = (n([ring], before), n([ring], during))
    cd = (n(cring, before), n(cring, during))
    assert (row["count_before"], row["count_during"]) == t
    assert (row["buffer_count_before"], row["buffer_count_during"]) == d
    assert row["control_count_before"] * 3 == c[0] and row["control_count_during"] * 3 == c[1]
    ref = wdd_test(t, c, d, cd, time_weights=(1.0, 1.0), area_weights=(3, 1, 3, 1))
    assert row["wdd_count"] == pytest.approx(ref["wdd"]) and row["wdd_count_se"] == pytest.approx(ref["se"])
    assert row["wdd_count_p"] == pytest.approx(ref["p"])


def test_planted_effect_recovered_pooled_and_per_place(scene):
    res, sim, rates = scene["res"], scene["sim"], scene["rates"]
    D = 28
    truth_count = -0.4 * rates.sum() * D
    truth_harm = truth_count * sim.mean_harm_weight
    pc, ph = res.pooled["count"], res.pooled["harm"]
    assert pc["wdd"] < 0 and pc["ci_low"] <= truth_count <= pc["ci_high"] and pc["ci_high"] < 0
    assert ph["wdd"] < 0 and ph["ci_low"] <= truth_harm <= ph["ci_high"] and ph["ci_high"] < 0
    # the busiest place alone shows it too
    busiest = res.table.set_index("place_id").loc["T05"]
    assert busiest["wdd_count_ci_low"] <= -0.4 * rates[5] * D <= busiest["wdd_count_ci_high"] < 0
    out = res.to_frame()
    assert out["place_id"].iloc[-1] == "all places (pooled)" and out["wdd_harm"].iloc[-1] == ph["wdd"]
    assert set(res.areas["area"]) == {"target", "buffer", "control", "control buffer"}
    assert res.automatic["before_days"].startswith("28 days")


def test_harm_variance_is_compound_poisson(scene):
    """With every harm weight 1 the harm WDD is the count WDD, variance included."""
    inc = scene["sim"].incidents.assign(harm=1.0)
    r = tasking_outcomes(inc, scene["tasked"], START, END, candidates=scene["candidates"], n_controls=3)
    t = r.table
    assert np.allclose(t["wdd_harm"], t["wdd_count"]) and np.allclose(t["wdd_harm_se"], t["wdd_count_se"])


def test_dose_response_slope_with_automatic_controls():
    rng = np.random.default_rng(8)
    n = 20
    tasked = circles([(531000 + 900 * (k % 5), 181000 + 900 * (k // 5)) for k in range(n)], 70, "T")
    minutes = np.linspace(0, 15, n)
    boundary = box(530000, 180000, 535600, 184700)
    background = gpd.GeoDataFrame(
        {"item_id": ["BG"]}, geometry=[boundary.difference(shapely.union_all(tasked.geometry.to_numpy()))], crs=BNG
    )
    areas = pd.concat([tasked, background], ignore_index=True)
    # the rest of the area at a twentieth of the tasked places' density: enough history for every cell
    rate = {**{p: 2.0 for p in tasked["item_id"]}, "BG": 0.1 * background.area.iloc[0] / tasked.area.iloc[0]}
    sim = plant_patrol_effect(
        rng,
        areas,
        tasking_dose(tasked["item_id"], minutes),
        start=HISTORY0,
        days=DAYS,
        base_rate_per_day=rate,
        reduction=0.5,
    )
    entries = tasking_dose(tasked["item_id"], minutes)
    entries["start"] = (pd.to_datetime(entries["day"]) + pd.Timedelta(hours=14)).dt.tz_localize(TZ)
    entries["end"] = entries["start"] + pd.to_timedelta(entries["minutes"], unit="min")
    visits = visits_from_log(entries.assign(unit="Unit 01"), tasked["item_id"], timezone=TZ)
    res = tasking_outcomes(sim.incidents, tasked, START, END, boundary=boundary, visits=visits, n_controls=2)
    assert "square cells" in res.automatic["candidates"]
    assert res.table["minutes_per_week"].to_numpy() == pytest.approx(minutes * 7)
    dr = res.dose_response
    truth = -0.5 * 2.0 * sim.mean_harm_weight * 28 * 10 / (7 * 15)
    assert dr.n == n and dr.slope_per_10_minutes < 0 and dr.ci[1] < 0
    assert dr.ci[0] <= truth <= dr.ci[1]
    assert dr.spearman_rho < -0.4


def test_errors(scene):
    inc, tasked = scene["sim"].incidents, scene["tasked"]
    with pytest.raises(PrecisionError, match="month"):
        tasking_outcomes(inc.assign(time_precision="month"), tasked, START, END, candidates=scene["candidates"])
    with pytest.raises(InputError, match="candidate control"):
        tasking_outcomes(inc, tasked, START, END, candidates=scene["candidates"].iloc[:5])
    with pytest.raises(InputError, match="boundary"):
        tasking_outcomes(inc, tasked, START, END)
    with pytest.raises(InputError, match="not after"):
        tasking_outcomes(inc, tasked, END, START, candidates=scene["candidates"])
