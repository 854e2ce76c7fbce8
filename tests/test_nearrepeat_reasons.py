"""Why no near-repeat alert zone is live, the one burglary count, and the Knox test a notebook runs on its own."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.analysis.nearrepeat import NearRepeatConfig, near_repeat, near_repeat_knox
from hotspots.errors import InputError, PrecisionError
from hotspots.geo.grid import Grid

TZ = "Europe/London"


def _burglaries(days_before: list[int], fim: str, precision: str = "day", month_starts=None) -> gpd.GeoDataFrame:
    """Burglaries ``days_before`` the meeting ``fim`` (day precision), or whole months from ``month_starts``."""
    n = len(days_before) if month_starts is None else len(month_starts)
    rng = np.random.default_rng(5)
    x = 530000 + rng.uniform(0, 2000, n)
    y = 190000 + rng.uniform(0, 1500, n)
    if month_starts is None:
        start = pd.Series([pd.Timestamp(fim, tz=TZ) - pd.Timedelta(days=d) for d in days_before])
        end = start + pd.Timedelta(hours=23)
    else:
        start = pd.Series([pd.Timestamp(m, tz=TZ) for m in month_starts])
        end = pd.Series([s + pd.offsets.MonthEnd(0) + pd.Timedelta(hours=23) for s in start])
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"B{i}" for i in range(n)],
            "crime_type": "burglary_residential",
            "start": start,
            "end": end,
            "time_precision": precision,
            "x": x,
            "y": y,
            "location_text": [f"On or near Street {i % 7}" for i in range(n)],
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:27700",
    )


GRID = Grid.from_boundary(shapely.box(530000, 190000, 532000, 191500), 100)


def test_zones_live_have_no_reason():
    res = near_repeat(_burglaries([3, 40, 100, 200], "2024-06-01"), GRID, "2024-06-01")
    assert len(res.zones) == 1 and res.n_recent == 1
    assert res.zones_cause == "" and res.zones_reason == ""


def test_no_recent_burglary_is_the_reason():
    # the latest burglary is 20 days before the meeting: none in the last 14 days starts a zone
    res = near_repeat(_burglaries([20, 40, 100, 200, 400], "2024-06-01"), GRID, "2024-06-01")
    assert len(res.zones) == 0 and res.n_recent == 0
    assert res.zones_cause == "none_recent"
    assert res.latest_burglary == pd.Timestamp("2024-05-12")
    assert "No burglary is recorded in the 14 days before the meeting" in res.zones_reason
    assert "Sun 12 May 2024" in res.zones_reason
    # one count: the 365 days before the meeting (the one 400 days back is out), everywhere it is quoted
    assert res.n_burglaries == res.repeats.n_burglaries == 4
    assert "4 burglaries in the 365 days before the meeting" in res.summary()
    assert f"No live alert zone. {res.zones_reason}" in res.summary()


def test_expired_zones_are_the_reason():
    # burglaries 5 and 9 days back with zones live for 3 days only
    nc = NearRepeatConfig(radius_m=150.0, duration_days=3.0, alert_days=14)
    res = near_repeat(_burglaries([5, 9, 100], "2024-06-01"), GRID, "2024-06-01", nc)
    assert len(res.zones) == 0 and res.n_recent == 2
    assert res.zones_cause == "expired"
    assert "The 2 burglaries of the last 14 days are older than the 3 days a zone stays live" in res.zones_reason


def test_no_burglary_at_all():
    inc = _burglaries([3], "2024-06-01")
    inc["crime_type"] = "robbery"
    res = near_repeat(inc, GRID, "2024-06-01")
    assert res.zones_cause == "no_burglaries" and res.n_burglaries == 0 and res.latest_burglary is None


def test_month_data_reason_names_the_latest_month():
    # police.uk-like months: the latest month in the data is April 2018, the meeting 15 June 2018
    months = ["2017-09-01", "2017-12-01", "2018-02-01", "2018-04-01", "2018-04-01"]
    res = near_repeat(_burglaries([], "2018-06-15", "month", months), GRID, "2018-06-15")
    assert res.knox is None and "only the month" in res.knox_refusal
    assert "knox_for_incidents" not in res.summary()  # no Python on a page
    assert res.zones_cause == "none_recent" and "April 2018" in res.zones_reason
    assert "known only to the month" in res.zones_reason


def test_notebook_knox_is_the_stage_knox():
    """near_repeat_knox with a run's settings is the table near_repeat computes (same events, same permutations)."""
    rng = np.random.default_rng(11)
    days = list(rng.integers(0, 500, 300))
    inc = _burglaries(days, "2024-06-01")
    nc = NearRepeatConfig(permutations=49, spatial_bandwidth_m=200.0, n_spatial_bands=3, n_temporal_bands=3)
    alone = near_repeat_knox(inc, "2024-06-01", nc, seed=7, timezone=TZ)
    res = near_repeat(inc, GRID, "2024-06-01", nc, seed=7, timezone=TZ)
    assert res.knox is not None
    assert (
        alone.n_events == res.knox.n_events == res.n_burglaries == sum(1 <= d <= 365 for d in days)
    )  # day 0 is the meeting day itself
    np.testing.assert_array_equal(alone.observed, res.knox.observed)
    np.testing.assert_array_equal(alone.p_value, res.knox.p_value)
    assert alone.summary() == res.knox.summary()
    with pytest.raises(PrecisionError):
        near_repeat_knox(_burglaries([], "2018-06-15", "month", ["2018-01-01"] * 5), "2018-06-15")
    with pytest.raises(InputError, match="at least 3"):
        near_repeat_knox(_burglaries([1, 2], "2024-06-01"), "2024-06-01")


def test_pages_say_why_and_quote_one_count(demo_config_path):
    """index.html's section, the briefing and the maps say why no zone is live, with the result's one count."""
    import dataclasses

    from conftest import DEMO_DATE, fast_config

    from hotspots import pipeline
    from hotspots.analysis.knox import incident_days
    from hotspots.render import briefing_content, maps
    from hotspots.render.pages import sections

    cfg = fast_config()
    res = pipeline.analyse(cfg, DEMO_DATE, stages=("nearrepeat",))
    fim = pd.Timestamp(DEMO_DATE, tz=TZ)
    # the demo's burglaries, the last 20 days left out: nothing starts a zone
    old = res.incidents[res.incidents["start"] < fim - pd.Timedelta(days=20)]
    nr = near_repeat(old, res.grid, DEMO_DATE, cfg.nearrepeat, seed=int(cfg.project.seed), timezone=TZ)
    quiet = dataclasses.replace(res, nearrepeat=nr)
    assert nr.zones_cause == "none_recent"
    # the count, by hand: burglary types whose day lies in the 365 days before the meeting
    burg = old[old["crime_type"].isin(cfg.nearrepeat.crime_types)]
    day = incident_days(burg, TZ)
    at = (pd.Timestamp(DEMO_DATE) - pd.Timestamp("1970-01-01")).days
    assert nr.n_burglaries == int(((day >= at - 365) & (day < at)).sum()) == nr.repeats.n_burglaries
    assert nr.knox is not None and nr.knox.n_events == nr.n_burglaries

    section = sections.nearrepeat(quiet)
    assert section is not None and not section["rows"]
    assert nr.zones_reason in section["note"]
    count = f"{nr.n_burglaries:,} burglaries in the 365 days before the meeting"
    assert any(count in ln for ln in section["lines"])
    assert not any(nr.zones_reason in ln for ln in section["lines"])  # said once, in the note
    _rows, _more, note = briefing_content._zones(quiet)
    assert nr.zones_reason in note and count in note
    page = maps.build_map(quiet, maps.prepare(quiet))
    assert f"Near-repeat alert zones: none live. {nr.zones_reason}" in page.data["notes"]
    # with live zones (the demo as it is) no reason is given anywhere
    live = sections.nearrepeat(res)
    assert live is not None and live["rows"] and res.nearrepeat is not None and res.nearrepeat.zones_reason == ""
    assert not any(
        n.startswith("Near-repeat alert zones") for n in maps.build_map(res, maps.prepare(res)).data["notes"]
    )


def test_nearrepeat_command_says_how_many_zones_are_live_in_words(tmp_path, capsys, demo_config_path):
    """`hotspots nearrepeat` prints the result's own sentence about live zones (with the reason when none is)."""
    from conftest import DEMO_DATE

    from hotspots.cli import main

    rc = main(["nearrepeat", "--config", str(demo_config_path), "--date", DEMO_DATE, "--out", str(tmp_path), "--quiet"])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    zone_lines = [ln for ln in lines if "live alert zone" in ln]
    assert len(zone_lines) == 1 and "zone(s)" not in zone_lines[0]
    assert re.fullmatch(r"(\d+ live alert zones?\.|No live alert zone\. \S.*)", zone_lines[0])
