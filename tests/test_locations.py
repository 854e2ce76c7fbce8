"""Changes of the published location set: detected at the right month, none where there is none,
and history carried onto the new points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.forecast.harness import EventTable, History, Horizon, backtest, make_origins, to_days
from hotspots.forecast.locations import (
    LocationChange,
    Relocated,
    detect_location_change,
    month_labels,
    relocate_to_points,
)
from hotspots.forecast.methods import NaiveCounts, make_method
from hotspots.geo.grid import Grid

TZ = "Europe/London"


def _snapped(seed=0, months=48, change_at: int | None = 30, per_month=250, blip_at: int | None = None):
    """police.uk-like monthly data on a 4 km square: incidents snapped to a fixed set of whole-metre
    map points, with persistent hot points. From month ``change_at`` on, every map point is replaced
    by a new one 20-50 m away (plus new points in between), as police.uk did in July 2022."""
    rng = np.random.default_rng(seed)
    n_pts = 1500
    old = np.round(rng.uniform(0, 4000, (n_pts, 2)))
    ang = rng.uniform(0, 2 * np.pi, n_pts)
    r = rng.uniform(20, 50, n_pts)
    new = np.round(old + np.c_[r * np.cos(ang), r * np.sin(ang)])
    extra = np.round(rng.uniform(0, 4000, (600, 2)))
    weight = rng.gamma(0.3, size=n_pts)
    weight /= weight.sum()
    month0 = pd.Period("2018-01", "M")
    xs, ys, ms = [], [], []
    for m in range(months):
        k = rng.poisson(per_month)
        idx = rng.choice(n_pts, size=k, p=weight)
        pts = old[idx]
        if change_at is not None and m >= change_at:
            pts = new[idx].copy()
            swap = rng.random(k) < 0.25  # some incidents at the extra new points
            pts[swap] = extra[rng.integers(0, len(extra), swap.sum())]
        if blip_at is not None and m == blip_at:
            pts = np.round(rng.uniform(0, 4000, (k, 2)))
        xs.append(pts[:, 0])
        ys.append(pts[:, 1])
        ms += [str(month0 + m)] * k
    x, y = np.concatenate(xs), np.concatenate(ys)
    start = pd.to_datetime(pd.Series(ms) + "-01").dt.tz_localize(TZ)
    end = start + pd.offsets.MonthBegin(1) - pd.Timedelta(seconds=1)
    inc = pd.DataFrame(
        {"x": x, "y": y, "start": start, "end": end, "time_precision": "month", "crime_type": "burglary"}
    )
    return EventTable.from_incidents(inc), old, new


def test_a_planted_change_is_detected_at_its_month():
    ev, _old, _new = _snapped(change_at=30)
    res = detect_location_change(ev.x, ev.y, ev.t)
    assert res.detected and len(res.changes) == 1
    ch = res.latest
    assert ch.month == "2020-07"  # month 30 after 2018-01
    assert ch.start_day == to_days(pd.Timestamp("2020-07-01", tz="UTC"))
    assert ch.share_before > 0.9 and ch.share_at_change < 0.1
    assert ch.months_after == 17 and ch.share_after_old_points < 0.1
    assert "2020-07" in res.describe()
    m = res.monthly.set_index("month")
    assert m.loc["2020-07", "share_seen"] == pytest.approx(ch.share_at_change)
    assert len(res.monthly) == 48 and res.monthly["incidents"].sum() == len(ev)
    # with only the change month itself known it is already detected (nothing contradicts it) ...
    known = ev.t < to_days(pd.Timestamp("2020-08-01", tz="UTC"))
    early = detect_location_change(ev.x[known], ev.y[known], ev.t[known])
    assert early.latest is not None and early.latest.month == "2020-07" and early.latest.months_after == 0
    # ... and not a month before it
    known = ev.t < to_days(pd.Timestamp("2020-07-01", tz="UTC"))
    assert not detect_location_change(ev.x[known], ev.y[known], ev.t[known]).detected


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_change_is_detected_without_one(seed):
    ev, _o, _n = _snapped(seed=seed, change_at=None)
    assert not detect_location_change(ev.x, ev.y, ev.t).detected
    # exact (unsnapped) coordinates never reuse a point: no baseline, no change
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 4000, len(ev))
    y = rng.uniform(0, 4000, len(ev))
    res = detect_location_change(x, y, ev.t)
    assert not res.detected and res.monthly["share_seen"].max() < 0.05


def test_a_one_month_blip_that_the_next_months_contradict_is_not_a_change():
    ev, _o, _n = _snapped(change_at=None, blip_at=25)
    res = detect_location_change(ev.x, ev.y, ev.t)
    assert res.monthly.set_index("month").loc["2020-02", "share_seen"] < 0.1  # the blip is there
    assert not res.detected


def test_relocation_moves_old_incidents_to_the_nearest_new_point_within_reach():
    ch = LocationChange("2020-07", 100.0, 1.0, 0.0, 0.0, 1)
    x = np.array([0.0, 10.0, 500.0, 30.0, 1000.0])
    y = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
    t = np.array([50.0, 60.0, 70.0, 150.0, 160.0])  # three before the change, two after (the new points)
    rel = relocate_to_points(x, y, t, ch, max_move_m=100.0)
    np.testing.assert_array_equal(rel.x, [30.0, 30.0, 500.0, 30.0, 1000.0])  # 500 has no new point within 100 m
    np.testing.assert_array_equal(rel.moved, [True, True, False, False, False])
    np.testing.assert_allclose(rel.distance_m, [30.0, 20.0, 0.0, 0.0, 0.0])


def test_relocated_method_sees_only_the_past_and_beats_the_mixed_history_after_a_change():
    ev, _o, _n = _snapped(seed=4, months=48, change_at=30, per_month=300)
    grid = Grid.from_boundary(shapely.box(0, 0, 4000, 4000), 100)
    hz = Horizon(days=0, months=1)
    # before the change nothing is relocated: the same surface as the plain method
    h = History(ev, pd.Timestamp("2020-05-01", tz=TZ), hz, grid)
    plain = NaiveCounts(1095.0).fit(h).predict(h.origin)
    wrapped = Relocated(NaiveCounts(1095.0)).fit(h)
    assert wrapped.change_ is None
    np.testing.assert_array_equal(wrapped.predict(h.origin), plain)
    # three months after: the change is found from the history alone and most of it is moved
    h = History(ev, pd.Timestamp("2020-10-01", tz=TZ), hz, grid)
    wrapped = Relocated(NaiveCounts(1095.0)).fit(h)
    assert wrapped.change_.month == "2020-07" and wrapped.moved_share_ > 0.5
    # over the year after the change, three years of counts carried onto the new points forecast
    # better than the same counts on the mixed old and new points
    origins = make_origins("2020-08-01", "2021-07-01", hz, TZ)
    res = backtest(
        ev, grid, {"plain": NaiveCounts(1095.0), "relocated": make_method("naive_36m+relocated")}, origins, hz
    )
    wide = res.scores.pivot(index="origin", columns="method", values="hit_rate_5")
    assert wide["relocated"].mean() > wide["plain"].mean() + 0.03
    assert (wide["relocated"] > wide["plain"]).sum() >= 10


@pytest.mark.shared_data
def test_barnet_police_uk_change_is_found_in_july_2022(shared_data):
    from pyproj import Transformer

    from hotspots.ingest.validate import police_uk_whole_metres

    df = pd.read_csv(
        shared_data / "crime" / "barnet_burglary_policeuk_2010-12_2024-02.csv.gz",
        usecols=["Month", "Longitude", "Latitude"],
    )
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        df["Longitude"].to_numpy(), df["Latitude"].to_numpy()
    )
    t = (
        to_days(pd.Timestamp("1970-01-01"))
        + (pd.to_datetime(df["Month"] + "-15") - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
    )
    res = detect_location_change(police_uk_whole_metres(pd.Series(x)), police_uk_whole_metres(pd.Series(y)), t)
    assert [c.month for c in res.changes] == ["2022-07"]
    assert res.latest.share_at_change < 0.1 and res.latest.share_before > 0.95
    assert month_labels(np.array([t[0]]))[0] == "2010-12"


def test_each_cut_off_is_relocated_with_what_was_known_then_and_cached_once():
    from hotspots.forecast.locations import RelocationRule

    ev, _o, _n = _snapped(seed=7, months=48, change_at=30, per_month=250)
    grid = Grid.from_boundary(shapely.box(0, 0, 4000, 4000), 100)
    hz = Horizon(days=0, months=1)
    rule = RelocationRule()
    cache: dict = {}
    late = History(ev, pd.Timestamp("2021-06-01", tz=TZ), hz, grid, cache=cache).placed_by(rule)
    cut = pd.Timestamp("2020-10-01", tz=TZ)
    # a cut-off of the relocated history is relocated with the points known at the cut-off only ...
    from_late = late.until(cut)
    direct = History(ev, cut, hz, grid).placed_by(rule)
    np.testing.assert_array_equal(from_late.events()[0], direct.events()[0])
    np.testing.assert_array_equal(from_late.events()[1], direct.events()[1])
    x, y, t = History(ev, cut, hz, grid).events()
    rx, _ry = rule(x, y, t)
    np.testing.assert_array_equal(direct.events()[0], rx)
    # ... so it is the same history (same key, same cached features) from any later origin
    other = History(ev, pd.Timestamp("2021-03-01", tz=TZ), hz, grid, cache=cache).placed_by(rule).until(cut)
    assert other.data_key() == from_late.data_key()
    assert late.until(cut).placement is rule
    # before the change the rule leaves the history as published
    early = History(ev, pd.Timestamp("2020-06-01", tz=TZ), hz, grid)
    np.testing.assert_array_equal(early.placed_by(rule).events()[0], early.events()[0])


def test_month_numbers_and_point_ids_match_the_pandas_and_pairwise_definitions():
    """The integer month and point keys give exactly what formatting each time with pandas and
    ranking (x, y) pairs with ``np.unique(axis=0)`` give, including times on month boundaries."""
    from hotspots.forecast.locations import DAY_NS, _point_ids, month_numbers

    rng = np.random.default_rng(3)
    bounds = (pd.date_range("2009-01-01", "2024-12-01", freq="MS") - pd.Timestamp("1970-01-01")).days.to_numpy()
    t = np.concatenate(
        [rng.uniform(14000, 20000, 5000), bounds.astype(float), bounds - 1e-9, bounds + 1e-9, bounds - 0.5]
    )
    expected = np.asarray(pd.to_datetime(t * DAY_NS, unit="ns").strftime("%Y-%m"))
    assert list(month_labels(t)) == list(expected)
    years, months = np.divmod(month_numbers(t), 12)
    assert [f"{y + 1970:04d}-{m + 1:02d}" for y, m in zip(years, months, strict=True)] == list(expected)

    for res in (1.0, 0.1):
        x = rng.integers(500_000, 510_000, 4000) + rng.choice([0.0, 0.04, 0.5, 0.96], 4000)
        y = rng.integers(180_000, 190_000, 4000) + rng.choice([0.0, 0.04, 0.5, 0.96], 4000)
        x[:50], y[:50] = x[50:100], y[50:100]  # repeated points
        qx = np.floor(x / res + 0.5).astype(np.int64)
        qy = np.floor(y / res + 0.5).astype(np.int64)
        _u, ref = np.unique(np.stack([qx, qy], axis=1), axis=0, return_inverse=True)
        assert np.array_equal(_point_ids(x, y, res), ref.ravel())
