"""Patrol dosage: visits from pings (against a plain shapely/pandas reference, hand-computed
cases and a simulation with planted visits), the structured playbook dosage, compliance."""

from __future__ import annotations

import tomllib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from dosage_reference import reference_visits
from shapely.geometry import Point, Polygon, box

from hotspots.analysis.dosage import (
    DWELL_BINS_MINUTES,
    KOPER,
    detect_visits,
    dosage_compliance,
    places_of_pings,
    visits_from_log,
)
from hotspots.analysis.dosage_text import Dosage, parse_dosage
from hotspots.demo.patrol_sim import simulate_patrols
from hotspots.errors import ConfigError, InputError
from hotspots.tasking.playbook import DEFAULT_RULE

TZ = "Europe/London"
BNG = "EPSG:27700"
T0 = pd.Timestamp("2025-06-02 10:00", tz=TZ)


def places_frame(geoms, ids=None):
    ids = ids or [f"T{k:02d}" for k in range(len(geoms))]
    return gpd.GeoDataFrame({"item_id": ids}, geometry=list(geoms), crs=BNG)


def track(unit, xy, t0=T0, step_s=10.0):
    xy = np.asarray(xy, dtype=float)
    return pd.DataFrame(
        {
            "unit": unit,
            "time": t0 + pd.to_timedelta(np.arange(len(xy)) * step_s, unit="s"),
            "x": xy[:, 0],
            "y": xy[:, 1],
        }
    )


# --------------------------------------------------------------------------- point in polygon
def test_point_in_places_kernel_matches_shapely():
    rng = np.random.default_rng(0)
    donut = Point(1000, 1000).buffer(300).difference(Point(1000, 1000).buffer(120))
    multi = shapely.MultiPolygon([box(1500, 200, 1700, 400), box(1800, 200, 1900, 900)])
    star = Polygon(
        [
            (200 + 250 * np.cos(a) * (1 + 0.5 * (k % 2)), 1600 + 250 * np.sin(a) * (1 + 0.5 * (k % 2)))
            for k, a in enumerate(np.linspace(0, 2 * np.pi, 24, endpoint=False))
        ]
    )
    overlapping = box(900, 900, 1400, 1400)  # overlaps the donut
    geoms = [donut, multi, star, overlapping]
    x = rng.uniform(-100, 2100, 200_000)
    y = rng.uniform(-100, 2100, 200_000)
    for buffer_m in (0.0, 15.0):
        pt, pl = places_of_pings(x, y, np.array(geoms, dtype=object), buffer_m)
        got = set(zip(pt.tolist(), pl.tolist(), strict=True))
        want = set()
        for p, g in enumerate(geoms):
            zone = shapely.buffer(g, buffer_m, quad_segs=8) if buffer_m else g
            want |= {(int(i), p) for i in np.flatnonzero(shapely.contains_xy(zone, x, y))}
        assert got == want
        assert np.all(np.diff(pt) >= 0)


# --------------------------------------------------------------------------- hand-computed visits
def test_one_parked_visit_hand_computed():
    place = places_frame([Point(0, 0).buffer(100)])
    # 5 pings approaching (all outside the 110 m zone), 90 parked at the centre, 5 leaving
    xy = (
        [(-500, 0), (-400, 0), (-300, 0), (-200, 0), (-150, 0)]
        + [(0, 0)] * 90
        + [(150, 0), (200, 0), (300, 0), (400, 0), (500, 0)]
    )
    v = detect_visits(track("U1", xy), place, crs=BNG)
    s = v.stays
    assert len(s) == 1 and s["kind"].iloc[0] == "visit"
    # 90 inside pings 10 s apart: 90 x 10 s = 15 minutes exactly
    assert s["minutes"].iloc[0] == pytest.approx(15.0)
    assert s["n_pings"].iloc[0] == 90
    assert s["start"].iloc[0] == T0 + pd.Timedelta(seconds=50 - 5)
    assert s["end"].iloc[0] == T0 + pd.Timedelta(seconds=50 + 890 + 5)
    # transit: from the ping before (-150) to the ping after (150): 300 m in 910 s
    assert s["speed_mps"].iloc[0] == pytest.approx(300.0 / 910.0)
    assert v.places["minutes"].iloc[0] == pytest.approx(15.0)
    assert v.daily["day"].iloc[0] == pd.Timestamp("2025-06-02") and v.weekly["week"].iloc[0] == pd.Timestamp(
        "2025-06-02"
    )


def test_gap_rules_join_and_split():
    place = places_frame([Point(0, 0).buffer(100)])
    inside = [(0, 0)] * 30  # 5 minutes
    out = [(400, 0)] * 5  # 50 s outside: joined (gap 60 s <= 120 s)
    v = detect_visits(track("U1", inside + out + inside), place, crs=BNG, drive_speed_mps=50)
    assert len(v.stays) == 1
    assert v.stays["minutes"].iloc[0] == pytest.approx(10.0)  # presence excludes the time outside
    assert v.stays["span_minutes"].iloc[0] == pytest.approx(10.0 + 60 / 60 - 10 / 60)
    long_out = [(400, 0)] * 60  # 10 minutes outside: two visits
    v2 = detect_visits(track("U1", inside + long_out + inside), place, crs=BNG, drive_speed_mps=50)
    assert v2.stays["minutes"].tolist() == pytest.approx([5.0, 5.0])
    # pings lost while parked (a 100 s hole) do not split the visit and the hole is counted
    t = T0 + pd.to_timedelta(np.r_[np.arange(30) * 10.0, 390 + np.arange(30) * 10.0], unit="s")
    p = pd.DataFrame({"unit": "U1", "time": t, "x": 0.0, "y": 0.0})
    v3 = detect_visits(p, place, crs=BNG)
    assert len(v3.stays) == 1 and v3.stays["minutes"].iloc[0] == pytest.approx((290 + 100 + 300) / 60)


def test_drive_through_and_short_stop():
    place = places_frame([Point(0, 0).buffer(100)])
    walk = [(-600 + 10 * k, 0) for k in range(121)]  # 10 m per 10 s: 1 m/s
    fast = track("CAR", [(-600 + 100 * k, 0) for k in range(13)])  # 100 m per 10 s = 10 m/s
    v = detect_visits(fast, place, crs=BNG)
    assert v.stays["kind"].tolist() == ["drive_through"] and v.places["visits"].iloc[0] == 0
    assert v.stays["speed_mps"].iloc[0] == pytest.approx(10.0)
    slow = track("FOOT", walk)  # walking through the 220 m wide zone: 21 pings inside, 210 s, a visit
    assert detect_visits(slow, place, crs=BNG).stays["kind"].tolist() == ["visit"]
    stop = track("U2", [(-600, 0)] * 3 + [(0, 0)] * 6 + [(600, 0)] * 3)  # 60 s parked
    v2 = detect_visits(stop, place, crs=BNG, drive_speed_mps=100)
    assert v2.stays["kind"].tolist() == ["short"] and v2.stays["minutes"].iloc[0] == pytest.approx(1.0)


def test_overlapping_places_both_count():
    places = places_frame(
        [Point(0, 0).buffer(100), Point(60, 0).buffer(100), Point(900, 0).buffer(50)], ["HOT", "ZONE", "FAR"]
    )
    v = detect_visits(track("U1", [(30, 0)] * 60), places, crs=BNG)
    assert v.places.set_index("place_id")["minutes"].to_dict() == {"HOT": 10.0, "ZONE": 10.0, "FAR": 0.0}
    assert any("HOT/ZONE" in n for n in v.notes)


def test_automatic_gap_is_stated():
    place = places_frame([Point(0, 0).buffer(100)])
    v = detect_visits(track("U1", [(0, 0)] * 20, step_s=60.0), place, crs=BNG)
    assert v.settings["max_gap_s"] == 180.0 and "3 x the median interval" in v.automatic["max_gap_s"]
    v = detect_visits(track("U1", [(0, 0)] * 20, step_s=10.0), place, crs=BNG)
    assert v.settings["max_gap_s"] == 120.0 and "120 s floor" in v.automatic["max_gap_s"]
    v = detect_visits(track("U1", [(0, 0)] * 20, step_s=10.0), place, crs=BNG, max_gap_s=30)
    assert v.settings["max_gap_s"] == 30.0 and v.automatic == {}


def test_engine_matches_reference_on_random_tracks():
    rng = np.random.default_rng(7)
    geoms = [Point(rng.uniform(0, 3000), rng.uniform(0, 3000)).buffer(rng.uniform(60, 200)) for _ in range(12)]
    geoms.append(box(500, 500, 900, 700).difference(box(600, 550, 700, 650)))
    places = places_frame(geoms)
    frames = []
    for u in range(15):
        n = 4000
        step = rng.choice([5.0, 10.0, 30.0])
        # a walk that alternates stops and moves, with lost pings
        speed = np.where(rng.random(n) < 0.6, 0.0, rng.uniform(1, 15, n))
        heading = np.cumsum(rng.normal(0, 0.4, n))
        xy = np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]) * (speed * step)[:, None], axis=0)
        xy = np.mod(xy + rng.uniform(0, 3000, 2), 3000)
        t = np.cumsum(np.where(rng.random(n) < 0.03, step * rng.integers(2, 40, n), step))
        keep = rng.random(n) > 0.02
        frames.append(
            pd.DataFrame(
                {
                    "unit": f"U{u:02d}",
                    "time": T0 + pd.to_timedelta(t[keep], unit="s"),
                    "x": xy[keep, 0],
                    "y": xy[keep, 1],
                }
            )
        )
    pings = pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=1)  # any order
    got = detect_visits(pings, places, crs=BNG, max_gap_s=150).stays
    want = reference_visits(pings, places, max_gap_s=150)
    assert len(got) == len(want) > 100
    for c in ("place_id", "unit", "kind", "n_pings"):
        assert got[c].tolist() == want[c].tolist(), c
    for c in ("minutes", "speed_mps"):
        assert np.allclose(got[c].to_numpy(float), want[c].to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True), c
    assert (got["start"] - want["start"]).abs().max() < pd.Timedelta(microseconds=1)
    assert set(got["kind"]) == {"visit", "drive_through", "short"}


# --------------------------------------------------------------------------- simulation with a planted truth
@pytest.fixture(scope="module")
def simulated(repo):
    roads = gpd.read_file(repo / "data" / "boundaries" / "roads.geojson")
    if roads.crs is None or roads.crs.to_epsg() != 27700:
        roads = roads.set_crs(BNG, allow_override=True)
    rng = np.random.default_rng(11)
    lines = roads[roads["road_class"] == "minor"].sample(10, random_state=5).geometry.to_numpy()
    centres = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    places = places_frame(shapely.buffer(centres, 75.0))
    plans = pd.DataFrame(
        {
            "item_id": places["item_id"],
            "minutes_per_visit": [15, 10, 15, 20, 15, 12, 15, 15, 10, 0],
            "visits_per_week": [3, 7, 5, 2, 1, 4, 6, 9, 3, 0],
        }
    )
    sim = simulate_patrols(
        rng,
        roads,
        places,
        start="2025-06-02",
        days=14,
        plans=plans,
        n_visiting_units=6,
        n_passing_units=4,
        passes_per_day=10,
    )
    return sim, places, detect_visits(sim.pings, places, crs=BNG)


def test_planted_minutes_recovered_within_5_percent(simulated):
    sim, _, v = simulated
    want = sim.minutes_per_place()
    got = v.places.set_index("place_id")["minutes"]
    assert len(want) == 9
    for pid, m in want.items():
        assert got[pid] == pytest.approx(m, rel=0.05), pid
    assert got["T09"] == 0  # no visits planted


def test_planted_visits_found_and_drive_throughs_are_not_visits(simulated):
    sim, _, v = simulated
    visits = v.visits
    assert len(visits) == len(sim.planted_visits)
    for r in sim.planted_visits.itertuples():
        hit = visits[
            (visits["place_id"] == r.place_id)
            & (visits["unit"] == r.unit)
            & (visits["start"] <= r.start)
            & (visits["end"] >= r.end)
        ]
        assert len(hit) == 1
    passing = v.stays[v.stays["unit"].str.startswith("TR")]
    assert len(passing) >= len(sim.planted_passes) > 0
    assert set(passing["kind"]) == {"drive_through"}
    # every planted pass shows up as a drive-through of that unit at that place around that time
    for r in sim.planted_passes.itertuples():
        hit = passing[
            (passing["place_id"] == r.place_id)
            & (passing["unit"] == r.unit)
            & (passing["start"] <= r.time)
            & (passing["end"] >= r.time)
        ]
        assert len(hit) == 1


def test_daily_and_weekly_tables_add_up(simulated):
    _, _, v = simulated
    assert v.daily["minutes"].sum() == pytest.approx(v.visits["minutes"].sum())
    assert v.weekly["minutes"].sum() == pytest.approx(v.visits["minutes"].sum())
    assert v.daily["visits"].sum() == len(v.visits) == v.places["visits"].sum()
    assert set(v.weekly["week"].dt.weekday) == {0}
    d = v.dwell_distribution()
    assert d["visits"].sum() == len(v.visits)
    assert list(d["koper"].unique()) == ["shorter", "10-15 minutes", "longer"]
    row = d[d["minutes_from"] == 10.0].iloc[0]
    assert row["visits"] == int(((v.visits["minutes"] >= 10) & (v.visits["minutes"] < 15)).sum())
    assert len(DWELL_BINS_MINUTES) - 1 == len(d)
    assert KOPER.low_minutes == 10 and KOPER.high_minutes == 15


def test_simulation_is_seeded(repo):
    roads = gpd.read_file(repo / "data" / "boundaries" / "roads.geojson").set_crs(BNG, allow_override=True)
    centres = shapely.line_interpolate_point(
        roads[roads["road_class"] == "minor"].geometry.to_numpy()[:3], 0.5, normalized=True
    )
    places = places_frame(shapely.buffer(centres, 75.0))
    runs = [
        simulate_patrols(
            np.random.default_rng(s), roads, places, start="2025-06-02", days=2, n_visiting_units=2, n_passing_units=1
        )
        for s in (1, 1, 2)
    ]
    assert runs[0].pings.equals(runs[1].pings) and runs[0].planted_visits.equals(runs[1].planted_visits)
    assert not runs[0].pings.equals(runs[2].pings)


def test_pings_through_the_reader(simulated, tmp_path):
    """The simulator's AVLS export, read and pseudonymised, gives the same minutes per place."""
    from hotspots.ingest.pings import read_pings

    sim, places, v = simulated
    import pyarrow as pa
    import pyarrow.csv as pcsv

    csv = tmp_path / "avls.csv"
    pcsv.write_csv(pa.Table.from_pandas(sim.to_csv_frame(), preserve_index=False), str(csv))
    r = read_pings(csv, timezone=TZ)
    assert len(r.quarantine) == 0
    v2 = detect_visits(r.pings, places, crs=r.crs)
    assert v2.places["minutes"].to_numpy() == pytest.approx(v.places["minutes"].to_numpy(), rel=0.01)
    assert not v2.stays["unit"].str.startswith(("CS", "TR")).any()


def test_input_checks():
    place = places_frame([Point(0, 0).buffer(100)])
    p = track("U1", [(0, 0)] * 5)
    with pytest.raises(InputError, match="EPSG:4326"):
        detect_visits(p, place, crs="EPSG:4326")
    with pytest.raises(InputError, match="'place'"):
        detect_visits(p, place, crs=BNG, id_column="place")
    with pytest.raises(InputError, match="tz-aware"):
        detect_visits(p.assign(time=p["time"].dt.tz_localize(None)), place, crs=BNG)
    with pytest.raises(InputError, match="unique"):
        detect_visits(p, places_frame([Point(0, 0).buffer(9), Point(50, 0).buffer(9)], ["A", "A"]), crs=BNG)
    with pytest.raises(InputError, match="polygon"):
        detect_visits(p, places_frame([Point(0, 0)]), crs=BNG)


# --------------------------------------------------------------------------- the playbook's dosage, structured
PLAYBOOK_EXPECTED = {
    # text: (minutes, visits, per, days_per_week, weekdays, nights, peak_hours, peak_days, varied, lasts, expiry,
    #        per week)
    "15 minutes a day, varied times, until the zone expires": (
        15,
        1,
        "day",
        7,
        (),
        False,
        False,
        False,
        True,
        None,
        True,
        7,
    ),
    "15 minutes, 3 times a week at the peak days and hours": (
        15,
        3,
        "week",
        7,
        (),
        False,
        True,
        True,
        False,
        None,
        False,
        3,
    ),
    "15 minutes an hour across the peak hours, 4 nights a week": (
        15,
        1,
        "hour",
        4,
        (),
        True,
        True,
        False,
        False,
        None,
        False,
        12,
    ),
    "15 minutes an hour across the peak hours, 3 days a week": (
        15,
        1,
        "hour",
        3,
        (),
        False,
        True,
        False,
        False,
        None,
        False,
        9,
    ),
    "15 minutes an hour, Friday and Saturday nights": (
        15,
        1,
        "hour",
        2,
        (4, 5),
        True,
        False,
        False,
        False,
        None,
        False,
        6,
    ),
    "15 minutes a day at the peak hours, 2 weeks": (15, 1, "day", 7, (), False, True, False, False, 14, False, 7),
    "15 minutes a day at the peak hours": (15, 1, "day", 7, (), False, True, False, False, None, False, 7),
    "15 minutes, 3 times a week": (15, 3, "week", 7, (), False, False, False, False, None, False, 3),
    "15 minutes, 3 times a week, for the next fortnight": (
        15,
        3,
        "week",
        7,
        (),
        False,
        False,
        False,
        False,
        14,
        False,
        3,
    ),
    # a chronic place's plan: the patrol meanwhile is measured, the plan itself is not patrol
    "a plan agreed at this meeting and reviewed at every meeting; 15 minutes of patrol, 3 times a week, meanwhile": (
        15,
        3,
        "week",
        7,
        (),
        False,
        False,
        False,
        False,
        None,
        False,
        3,
    ),
}


def test_every_playbook_dosage_parses(repo):
    rules = tomllib.loads((repo / "config" / "playbook.toml").read_text())["rules"]
    texts = [r["dosage"] for r in rules] + [DEFAULT_RULE.dosage]
    assert set(texts) == set(PLAYBOOK_EXPECTED)
    from hotspots.tasking.dosage import patrol_dosage

    for text in texts:
        asked = patrol_dosage(text)  # the patrol part (a plan agreed at the meeting is not patrol)
        assert asked.dosage is not None, text
        d = asked.dosage
        if not asked.skipped:
            assert d == parse_dosage(text, where=f"playbook.toml: {text}")
        m, vis, per, dpw, wd, night, ph, pd_, varied, lasts, expiry, per_week = PLAYBOOK_EXPECTED[text]
        assert (
            d.minutes_per_visit,
            d.visits,
            d.per,
            d.days_per_week,
            d.weekdays,
            d.nights,
            d.peak_hours,
            d.peak_days,
            d.varied_times,
            d.lasts_days,
            d.until_expiry,
        ) == (m, vis, per, dpw, wd, night, ph, pd_, varied, lasts, expiry), text
        assert d.visits_per_week(window_hours=3) == per_week
        assert d.minutes_per_week(window_hours=3) == per_week * m
        assert parse_dosage(d.describe()) == Dosage(**{**vars(d), "text": d.describe()})


@pytest.mark.parametrize(
    "text, words",
    [
        ("15 minutes a fortnight", "fortnight"),
        ("a day", "how long"),
        ("15 minutes", "how often"),
        ("15 minutes, 3 times a week, a day", "twice"),
        ("15 minutes a day {{ evil }}", "{{"),
        ("", "empty"),
    ],
)
def test_unreadable_dosage_is_named(text, words):
    with pytest.raises(ConfigError) as exc:
        parse_dosage(text, where="playbook.toml rules[3]")
    assert "playbook.toml rules[3]" in str(exc.value) and words in str(exc.value)


# --------------------------------------------------------------------------- compliance
def _log_visits(rows):
    e = pd.DataFrame(rows, columns=["place_id", "unit", "start", "end"])
    e["start"] = pd.to_datetime(e["start"]).dt.tz_localize(TZ)
    e["end"] = pd.to_datetime(e["end"]).dt.tz_localize(TZ)
    return visits_from_log(e, ["A", "B", "C", "D", "E"], timezone=TZ)


def test_compliance_hand_computed():
    rows = []
    for d in (2, 4, 6, 9, 11):  # A: 5 visits of 15 min in a fortnight (asked 6 x 15)
        rows.append(["A", "U1", f"2025-06-{d:02d} 19:00", f"2025-06-{d:02d} 19:15"])
    for d in range(2, 16):  # B: 14 visits of 30 min (asked 14 x 15): over-dosed
        rows.append(["B", "U2", f"2025-06-{d:02d} 12:00", f"2025-06-{d:02d} 12:30"])
    rows.append(["C", "U1", "2025-06-03 10:00", "2025-06-03 10:05"])  # C: one 5-minute visit: under-dosed
    # D: Friday and Saturday nights, 15 min an hour over 3 hours: 2 weekends = 4 nights x 3 = 12 visits asked
    for day, hour in (("06", 22), ("06", 23), ("08", 0), ("07", 22), ("10", 22)):  # Fri 6th, Sat 7th, Tue 10th
        rows.append(["D", "U3", f"2025-06-{day} {hour:02d}:00", f"2025-06-{day} {hour:02d}:15"])
    v = _log_visits(rows)
    plans = pd.DataFrame(
        {
            "item_id": ["A", "B", "C", "D", "E"],
            "dosage": [
                "15 minutes, 3 times a week",
                "15 minutes a day",
                "15 minutes a day, 2 weeks",
                "15 minutes an hour, Friday and Saturday nights",
                "15 minutes, 3 times a week",
            ],
        }
    )
    c = dosage_compliance(v, plans, "2025-06-02", "2025-06-16").table.set_index("place_id")
    assert c.loc["A", "asked_visits"] == pytest.approx(6) and c.loc["A", "asked_minutes"] == pytest.approx(90)
    assert c.loc["A", "minutes"] == pytest.approx(75) and c.loc["A", "compliance_minutes"] == pytest.approx(75 / 90)
    assert c.loc["A", "flag"] == "on target" and c.loc["A", "full_visits"] == 5
    assert np.isnan(c.loc["A", "on_time_share"])  # no times asked for
    assert c.loc["B", "compliance_minutes"] == pytest.approx(2.0) and c.loc["B", "flag"] == "over-dosed"
    assert c.loc["B", "share_koper_band"] == 0.0 and c.loc["A", "share_koper_band"] == 1.0
    assert c.loc["C", "flag"] == "under-dosed" and c.loc["C", "full_visits"] == 0  # 5 min < half of 15
    assert c.loc["C", "due_days"] == 14
    assert c.loc["D", "asked_visits"] == pytest.approx(12)
    # on time: Fri 22:00, Fri 23:00, Sat 00:00 (still Friday night), Sat 22:00 yes; Tuesday no
    assert c.loc["D", "on_time_share"] == pytest.approx(4 / 5)
    assert c.loc["E", "flag"] == "not visited" and c.loc["E", "minutes"] == 0
    # peak hours: known window -> measured; unknown -> NaN
    plans2 = pd.DataFrame({"item_id": ["A", "B"], "dosage": ["15 minutes a day at the peak hours"] * 2})
    c2 = dosage_compliance(v, plans2, "2025-06-02", "2025-06-16", peak_windows={"A": (18, 21)}).table
    assert c2.set_index("place_id").loc["A", "on_time_share"] == 1.0
    assert np.isnan(c2.set_index("place_id").loc["B", "on_time_share"])
    # an unreadable dosage names the place
    with pytest.raises(ConfigError, match="place A"):
        dosage_compliance(v, pd.DataFrame({"item_id": ["A"], "dosage": ["lots"]}), "2025-06-02", "2025-06-16")


def test_until_expiry_uses_the_due_date():
    v = _log_visits([["A", "U1", "2025-06-03 10:00", "2025-06-03 10:15"]])
    plans = pd.DataFrame(
        {
            "item_id": ["A"],
            "dosage": ["15 minutes a day, varied times, until the zone expires"],
            "due_until": [pd.Timestamp("2025-06-09", tz=TZ)],
        }
    )
    c = dosage_compliance(v, plans, "2025-06-02", "2025-06-16").table.iloc[0]
    assert c["due_days"] == 7 and c["asked_visits"] == pytest.approx(7) and c["time_spread"] == 1
