"""Tasking list: playbook rules, peak times, overlap matching, stable ids and status against a previous pack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.config import read_playbook_file as read_rules
from hotspots.tasking.playbook import DEFAULT_RULE, Playbook
from hotspots.tasking.rank import peak_days_hours

REPO = Path(__file__).resolve().parents[1]


def test_shipped_playbook_rules():
    book = Playbook(read_rules(REPO / "config" / "playbook.toml"))
    nr = book.choose("near_repeat", "burglary_residential", "")
    assert "Cocooning" in nr.tactic and "15 minutes" in nr.dosage
    night = book.choose("hotspot", "robbery", "night")
    assert "peak night-time hours" in night.tactic
    day = book.choose("hotspot", "robbery", "day")
    assert day is not night and "peak hours" in day.tactic
    other = book.choose("hotspot", "drugs", "")
    assert other.tactic.startswith("Visible patrol") and other.crime_types == ()
    assert Playbook(()).choose("hotspot", "robbery", "night") is DEFAULT_RULE


def test_playbook_rejects_unknown_crime_type(tmp_path):
    from hotspots.errors import ConfigError

    p = tmp_path / "pb.toml"
    p.write_text('[[rules]]\ntactic = "x"\ncrime_types = ["burglarry"]\n')
    with pytest.raises(ConfigError, match="burglarry"):
        read_rules(p)


def test_peak_days_hours_hand_case():
    prof = np.zeros((7, 24))
    prof[4, 22] = 5  # Fri 22:00
    prof[5, 23] = 4  # Sat 23:00
    prof[5, 0] = 3  # Sat 00:00 (wraps midnight)
    prof[0, 12] = 1
    days, hours, tod = peak_days_hours(prof)
    assert days == "Sat (54%), Fri (38%)"
    assert hours == "22:00-01:00 (92%)"
    assert tod == "night"
    assert peak_days_hours(None) == ("", "", "")


def test_match_items_greedy_by_overlap():
    import geopandas as gpd

    from hotspots.tasking.fim import match_items

    cur = gpd.GeoDataFrame(
        {"x": [0, 1, 2]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(90, 0, 190, 100), shapely.box(1000, 1000, 1100, 1100)],
        crs="EPSG:27700",
    )
    prev = gpd.GeoDataFrame(
        {"item_id": ["A", "B"]},
        geometry=[shapely.box(10, 0, 110, 100), shapely.box(5000, 0, 5100, 100)],
        crs="EPSG:27700",
    )
    # cur 0 overlaps A by 90%, cur 1 by 20%: A goes to cur 0 only; B matches nothing
    assert match_items(cur, prev, 0.25) == {0: 0}
    assert match_items(cur, prev, 0.1) == {0: 0}
    assert match_items(cur, prev.iloc[:0], 0.25) == {}


@pytest.fixture(scope="module")
def demo_res():
    if not (REPO / "data" / "incidents" / "incidents.csv").exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    from hotspots import pipeline
    from conftest import fast_config

    return pipeline.analyse(fast_config(), "2025-11-14", stages=("surfaces", "trends"))


def test_ids_persist_and_status_against_previous(demo_res, tmp_path):
    from hotspots.tasking.fim import build_tasking, read_previous_items

    first = build_tasking(demo_res, out_dir=tmp_path / "x" / "fim-2025-11-14")
    assert set(first.items["status"]) == {"new"}
    assert list(first.items["item_id"]) == [f"T251114-{k:02d}" for k in range(1, len(first.items) + 1)]
    # a hand-made previous pack: item 1 with half its score (-> escalated), item 2 missing (-> new),
    # every other item unchanged (-> continuing) and one far-away place nothing continues (-> closed)
    prev_dir = tmp_path / "fim-2025-10-31"
    prev_dir.mkdir()
    first.to_gpkg(prev_dir / "layers.gpkg")
    prev = read_previous_items(prev_dir)
    prev.loc[0, "score"] = prev.loc[0, "score"] / 2
    prev = prev.drop(index=1)
    far = prev.iloc[[0]].copy()
    far["item_id"] = "T251031-99"
    far["geometry"] = [shapely.box(0, 0, 100, 100)]
    prev = pd.concat([prev, far], ignore_index=True)
    (prev_dir / "layers.gpkg").unlink()
    prev.to_file(prev_dir / "layers.gpkg", layer="tasking_items", driver="GPKG")

    second = build_tasking(demo_res, out_dir=tmp_path / "fim-2025-11-14")  # finds the sibling by name
    assert second.previous == str(prev_dir)
    st = dict(zip(second.items["item_id"], second.items["status"]))
    ids = list(first.items["item_id"])
    assert st[ids[0]] == "escalated"
    assert {i: st[i] for i in ids[2:]} == {i: "continuing" for i in ids[2:]}
    assert second.items.loc[1, "status"] == "new"  # dropped from the previous list, so it is new again
    assert second.items.loc[1, "item_id"] not in set(prev["item_id"])  # and never takes an earlier id
    assert list(second.closed["item_id"]) == ["T251031-99"]
    assert second.status_counts() == {"new": 1, "continuing": len(ids) - 2, "escalated": 1, "closed": 1}
    assert second.items.loc[2, "previous_rank"] == 3
    csv = second.to_frame()
    assert csv["status"].iloc[-1] == "closed" and pd.isna(csv["rank"].iloc[-1])
    # --previous pointing at an earlier pack overrides the sibling search
    third = build_tasking(demo_res, previous=prev_dir)
    assert list(third.items["item_id"]) == list(second.items["item_id"])


def test_month_data_has_no_peak_times_but_still_ranks(demo_res):
    """Month-precision incidents: peak days/hours say why they are missing; ranking still works."""
    import dataclasses

    from hotspots.tasking.fim import build_tasking

    inc = demo_res.incidents.copy()
    inc["time_precision"] = "month"
    res = dataclasses.replace(
        demo_res,
        inputs=dataclasses.replace(demo_res.inputs, incidents=inc),
        surfaces=None,
        trends=None,
        nearrepeat=None,
        coverage=None,
        forecast=None,
    )
    tl = build_tasking(res)
    assert len(tl.items) > 0
    assert tl.items["peak_days"].str.startswith("n/a").all()
    assert (tl.items["trend_class"] == "not run").all()


def test_previous_pack_problems(demo_res, tmp_path):
    """--previous must be a pack folder; an unusable sibling pack is noted and skipped, not fatal."""
    from hotspots.errors import InputError
    from hotspots.tasking.fim import build_tasking

    with pytest.raises(InputError, match="not a folder"):
        build_tasking(demo_res, previous=tmp_path / "nope")
    old = tmp_path / "fim-2025-10-31"
    old.mkdir()
    (old / "layers.gpkg").write_bytes(b"")  # an older pack without a tasking layer
    with pytest.raises(InputError):
        build_tasking(demo_res, previous=old)
    tl = build_tasking(demo_res, out_dir=tmp_path / "fim-2025-11-14")
    assert tl.previous == "" and any("ignored" in n for n in tl.notes)
    assert set(tl.items["status"]) == {"new"}
