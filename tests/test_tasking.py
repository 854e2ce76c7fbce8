"""Tasking list: one item per place, playbook rules, peak times, overlap matching, stable ids, status and change
against a previous pack, columns that carry information."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.config import read_playbook_file as read_rules
from hotspots.tasking.playbook import DEFAULT_RULE, Playbook
from hotspots.tasking.rank import peak_days_hours
from hotspots.vocabulary import crime_type_label

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


def test_settings_for_places_and_unknown_times_are_checked(tmp_path):
    from hotspots.config import load_config
    from hotspots.errors import ConfigError

    cfg = load_config(REPO / "config" / "demo.toml")
    assert (
        cfg.tasking.merge_distance_m == 0
        and cfg.override("tasking", merge_distance_m=150).tasking.merge_distance_m == 150
    )
    with pytest.raises(ConfigError, match=r"\[tasking\] merge_distance_m"):
        cfg.override("tasking", merge_distance_m=-5)
    p = tmp_path / "pb.toml"
    p.write_text('[[rules]]\ntactic = "Patrol at the peak hours"\ntime = "unknown"\n')
    with pytest.raises(ConfigError, match="unknown times"):
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
    from conftest import fast_config

    from hotspots import pipeline

    return pipeline.analyse(fast_config(), "2025-11-14", stages=("surfaces", "trends", "nearrepeat", "coverage"))


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
    st = dict(zip(second.items["item_id"], second.items["status"], strict=True))
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


# --------------------------------------------------------------------------- one item per place
def _quiet_places(res, tcfg=None):
    from hotspots.announce import quietly
    from hotspots.tasking.places import describe_places

    with quietly():
        return describe_places(res, tcfg)


def _quiet_build(res, **kw):
    from hotspots.announce import quietly
    from hotspots.tasking.fim import build_tasking

    with quietly():
        return build_tasking(res, **kw)


def test_places_match_a_straightforward_reference(demo_res):
    """The fast path (one spatial query, bincount sums) equals a piece-by-piece shapely/pandas reference on the
    demo: the same places, incidents, harm, counts per crime type, score, owner ward, shared wards, location
    texts and CCTV share."""
    from tasking_reference import (
        reference_cctv_share,
        reference_piece_multipliers,
        reference_places,
    )

    from hotspots.tasking.pieces import run_pieces
    from hotspots.tasking.places import SHARED_WARD_SHARE, cctv_words, coverage_polygons, location_words

    tcfg = demo_res.cfg.tasking
    places = _quiet_places(demo_res)
    fr = places.frame
    inc = demo_res.recent().reset_index(drop=True)
    pieces = run_pieces(demo_res, tcfg)
    assert {p.kind for p in pieces} == {"hotspot", "near_repeat"}
    mult = reference_piece_multipliers(pieces, demo_res.grid, demo_res.trends.emerging, tcfg)
    ref = reference_places(pieces, inc, places.merge_distance_m, tcfg.min_incidents, mult)
    assert len(fr) == len(ref) and len(ref) < len(pieces)  # pieces did merge
    union = coverage_polygons(demo_res.coverage)
    by_sources = {tuple(sorted(r["sources"])): r for r in ref}
    for row in fr.itertuples():
        r = by_sources[tuple(sorted(row.source.split("; ")))]
        assert row.incidents == r["incidents"]
        assert row.harm == pytest.approx(r["harm"])
        assert row.score == pytest.approx(r["score"], abs=1e-3)
        assert json.loads(row.counts_by_type) == r["counts"]
        wh = r["ward_harm"]
        owner = sorted(wh, key=lambda k: (-wh[k], k))[0]
        assert row.ward_code == owner
        shared = sorted(
            (k for k in wh if k != owner and wh[k] >= SHARED_WARD_SHARE * sum(wh.values())), key=lambda k: (-wh[k], k)
        )
        names = dict(zip(demo_res.area.wards["ward_code"], demo_res.area.wards["ward_name"], strict=True))
        assert row.shared_with == ", ".join(f"{names[k]} SNT" for k in shared)
        locs = sorted(r["locations"].items(), key=lambda kv: (-kv[1], kv[0]))
        assert row.location == location_words(locs)
        assert row.cctv_coverage == cctv_words(reference_cctv_share(union, inc.loc[r["index"]]))


def test_one_item_per_place_on_the_demo(demo_res):
    """No two items share a place: their polygons are more than the merge distance apart (so they neither overlap
    nor touch) and so are their points; each planted place (four town centres, the new car-park hotspot) is
    one item, whatever crime types it holds."""
    tl = _quiet_build(demo_res)
    it = tl.items
    d = tl.merge_distance_m
    assert d == 100.0 and "merge_distance_m" in tl.choices and "100 m" in tl.choices["merge_distance_m"]
    assert len(it) == demo_res.cfg.tasking.max_items
    geoms = list(it.geometry)
    pts = [shapely.Point(x, y) for x, y in zip(it["x"], it["y"], strict=True)]
    for i in range(len(it)):
        assert geoms[i].covers(pts[i])
        for j in range(i + 1, len(it)):
            assert geoms[i].distance(geoms[j]) > d, (it["item_id"].iat[i], it["item_id"].iat[j])
            assert not geoms[i].intersects(geoms[j])
            assert pts[i].distance(pts[j]) > d
    truth = json.loads((REPO / "data" / "incidents" / "planted_truth.json").read_text())
    for tc in truth["town_centres"]:
        near = it[it.geometry.distance(shapely.Point(tc["x"], tc["y"])) <= d]
        assert len(near) == 1, tc["name"]
        row = near.iloc[0]
        assert row["place_name"] == f"{tc['name']} town centre"
        counts = json.loads(row["counts_by_type"])
        assert {"violence", "shoplifting", "robbery"} <= set(counts)  # every crime type of the place, once
        assert row["main_crime"] == "Violence and sexual offences"
        assert "Night-time economy" in row["tactic"] and "Retailer engagement" in row["tactic"]
        assert row["tactic"].count("Night-time economy") == 1
    em = shapely.Point(truth["emerging"]["x"], truth["emerging"]["y"])
    hit = it[it.geometry.distance(em) < 100]
    assert len(hit) == 1 and "Vehicle crime" in hit["crime_types"].iat[0]


def test_month_data_gets_tactics_that_need_no_times(demo_res):
    """With minute data the playbook's peak-hour tactics apply and the peak columns are shown; with month data
    no tactic or dosage asks for peak times, the rules for unknown times apply instead, and the peak columns
    are left out of the CSV with the reason said once."""
    import dataclasses

    minute = _quiet_build(demo_res)
    assert any("peak" in t for t in minute.items["tactic"])
    assert {"peak_days", "peak_hours"} <= set(minute.to_frame().columns)
    assert minute.items["peak_hours"].iat[0].startswith("Violence and sexual offences: ")
    assert minute.items["time_of_day"].iat[0] == "night"

    inc = demo_res.incidents.copy()
    inc["time_precision"] = "month"
    res = dataclasses.replace(demo_res, inputs=dataclasses.replace(demo_res.inputs, incidents=inc))
    month = _quiet_build(res)
    assert len(month.items) == len(minute.items)
    words = " ".join(month.items["tactic"]) + " " + " ".join(month.items["dosage"])
    assert "peak" not in words.lower()
    assert "when the SNT knows it is busy" in words
    assert (month.items["time_of_day"] == "unknown").all()
    assert all(json.loads(p)[0][2] == "unknown" for p in month.items["problems"])
    csv = month.to_frame()
    assert "peak_days" not in csv.columns and "peak_hours" not in csv.columns
    assert "peak_days" not in [c.key for c in month.page_columns()]
    notes = month.omitted_notes()
    assert sum("Peak days and Peak hours" in n for n in notes) == 1
    assert any("known only to the month" in n and "(CAD) times" in n for n in notes)


def test_playbook_rules_for_unknown_times():
    from hotspots.config import Rule
    from hotspots.tasking.playbook import DEFAULT_UNKNOWN_TIME_RULE, tactic_set

    book = Playbook(read_rules(REPO / "config" / "playbook.toml"))
    known = book.choose("hotspot", "robbery", "day")
    unknown = book.choose("hotspot", "robbery", "unknown")
    assert known.needs_times and not unknown.needs_times and unknown.time == "unknown"
    assert "when the SNT knows it is busy" in unknown.tactic
    assert book.choose("near_repeat", "burglary_residential", "unknown").tactic.startswith("Cocooning")
    assert not book.choose("hotspot", "drugs", "unknown").needs_times
    # a playbook of peak-hour rules only: nothing that needs times is proposed, the built-in rule is
    old = Playbook((Rule(tactic="Patrol at the peak hours", dosage="15 minutes a day at the peak hours"),))
    assert old.choose("hotspot", "robbery", "unknown") is DEFAULT_UNKNOWN_TIME_RULE
    assert old.choose("hotspot", "robbery", "night").tactic == "Patrol at the peak hours"
    assert Rule(tactic="x", time="night").needs_times and not Rule(tactic="x", time="unknown").needs_times
    # one tactic per rule: two problems that get the same rule share it, in order of harm, owner filled in
    ts = tactic_set(
        book,
        [
            ("hotspot", "robbery", "night"),
            ("hotspot", "theft_from_person", "night"),
            ("near_repeat", "burglary_residential", "day"),
        ],
        "Ashcombe",
        "DM0009",
    )
    assert len(ts) == 2
    assert ts[0].problems == ("Robbery at night", "Theft from the person at night")
    assert ts[0].owner == "Ashcombe SNT inspector"
    assert ts[1].problems == ("Residential burglary near-repeat alert zone",)


def test_harm_is_a_whole_number_with_its_unit(demo_res):
    from hotspots.stages.tasking_list import ITEM_COLUMNS

    tl = _quiet_build(demo_res)
    assert set(tl.items.columns) == {*ITEM_COLUMNS, "geometry"}  # the documented contract
    assert tl.harm_unit == "count" == demo_res.cfg.harm_unit()
    assert demo_res.cfg.harm_unit("ons_css") == "ONS crime severity points"
    csv = tl.to_frame()
    assert str(csv["harm"].dtype) == "Int64" and str(csv["incidents"].dtype) == "Int64"
    assert list(csv["harm"]) == [round(h) for h in tl.items["harm"]]
    assert next(c.label for c in tl.columns if c.key == "harm") == "Harm (count)"
    top = tl.items.iloc[0]
    assert top["reason"].startswith(f"Rank 1: harm {top['harm']:,.0f} (count) from Violence and sexual offences ")
    # plain words: no canonical code in a column a person reads
    for col in ("crime_types", "main_crime", "tactic", "reason", "kind"):
        assert not csv[col].astype(str).str.contains(r"\b[a-z]+_[a-z_]+\b").any(), col


def _write_previous(tl, folder: Path) -> Path:
    from hotspots._csvsafe import write_csv

    folder.mkdir(parents=True)
    tl.to_gpkg(folder / "layers.gpkg")
    write_csv(tl.to_frame(), folder / "tasking.csv")
    return folder


def test_change_and_did_it_work_against_the_last_pack(demo_res, tmp_path):
    """Against a previous pack of the same list (dated 14 days earlier): every item continues, the change says
    "the same as", and "did it work" gives the harm before and after and the WDD of evaluate_intervention on the
    last list's polygon (computed here directly as the reference)."""
    from hotspots.analysis.evaluate import evaluate_intervention

    first = _quiet_build(demo_res)
    prev = _write_previous(first, tmp_path / "fim-2025-10-31")
    second = _quiet_build(demo_res, out_dir=tmp_path / "fim-2025-11-14")
    assert second.previous == str(prev)
    assert set(second.items["status"]) == {"continuing"} and not len(second.closed)
    assert list(second.items["item_id"]) == list(first.items["item_id"])
    assert second.items["change"].str.endswith("the same as at the last FIM").all()
    keys = second.column_keys
    assert {"change", "previous_rank", "worked"} <= set(keys) and "delivered" not in keys
    assert second.delivered == {} and any("Patrol delivered" in n for n in second.omitted_notes())
    from hotspots.stages.tasking_list import DeliveredDosage

    first_id = second.items["item_id"].iat[0]
    dosed = second.with_delivered({first_id: DeliveredDosage(4, 55.0, 90.0, "under-dosed")})
    assert "delivered" in dosed.column_keys and not any("Patrol delivered" in n for n in dosed.omitted_notes())
    assert list(dosed.to_frame()["delivered"].head(2)) == ["4 visits, 55 of 90 minutes asked for (under-dosed)", ""]
    # did it work, item 1, against a direct call of the evaluation
    row = second.items.iloc[0]
    types = list(json.loads(first.items["counts_by_type"].iat[0]))
    inc = demo_res.incidents[demo_res.incidents["crime_type"].isin(types)]
    tz = demo_res.cfg.timezone
    ev = evaluate_intervention(
        inc,
        first.items.geometry.iat[0],
        pd.Timestamp("2025-10-31", tz=tz),
        demo_res.fim_date,
        boundary=demo_res.area.boundary,
        buffer_m=200.0,
        timezone=tz,
    )
    assert f"WDD {ev.wdd['wdd']:+.1f} incidents (p = {ev.wdd['p']:.2g})" in row["worked"]
    tb, ta = ev.table.set_index("area").loc["target", ["before", "after"]]
    assert row["worked"].startswith(f"harm {tb:,.0f} in the 14 days before the last FIM, {ta:,.0f} since")


def test_places_merged_since_the_last_list_close_into_the_new_item(demo_res, tmp_path):
    """A last list from an older version (one item per crime type, no harm or score column, no polygons): the
    place continues the item it overlaps most, the others close saying which item they are now part of, and the
    missing columns are notes, not errors."""
    from hotspots._csvsafe import write_csv

    tl = _quiet_build(demo_res)
    top = tl.items.iloc[0]
    pts = [shapely.Point(top["x"], top["y"]), top.geometry.representative_point(), top.geometry.centroid]
    pts = [p for p in pts if top.geometry.covers(p)][:2]
    old = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "item_id": ["T251031-01", "T251031-02", "T251031-03"],
            "status": ["new"] * 3,
            "main_crime_type": ["violence", "shoplifting", "robbery"],
            "incidents": [700, 400, 5],
            "x": [pts[0].x, pts[-1].x, 500000.0],
            "y": [pts[0].y, pts[-1].y, 100000.0],
        }
    )
    folder = tmp_path / "fim-2025-10-31"
    folder.mkdir()
    write_csv(old, folder / "tasking.csv")
    new = _quiet_build(demo_res, previous=folder)
    assert new.items["item_id"].iat[0] == "T251031-01" and new.items["status"].iat[0] == "continuing"
    closed = new.closed.set_index("item_id")
    assert list(closed.index) == ["T251031-02", "T251031-03"]
    assert closed.loc["T251031-02", "reason"].startswith("Closed: now part of item T251031-01")
    assert closed.loc["T251031-03", "reason"].startswith("Closed: no qualifying hotspot")
    assert any("no 'harm' column" in n for n in new.notes) and any("no 'score' column" in n for n in new.notes)
    assert any("matched by their point" in n for n in new.notes)
    assert new.items["change"].iat[0].startswith(f"{top['incidents']:,} incidents, up ")
    csv = new.to_frame()
    assert list(csv["status"].tail(2)) == ["closed", "closed"] and csv["rank"].tail(2).isna().all()


@pytest.mark.slow
def test_barnet_edgware_town_centre_is_one_item(shared_data):
    """Barnet on police.uk data (2018-06-15): Edgware town centre, five items of three owners before, is one
    item with every crime type and one owner; no two items share a place."""
    from conftest import fast_config

    from hotspots import pipeline

    cfg = fast_config(REPO / "config" / "barnet.toml", data_dir=shared_data)
    res = pipeline.analyse(cfg, "2018-06-15", stages=("surfaces",))
    tl = _quiet_build(res)
    it = tl.items
    edgware = shapely.Point(519470, 191950)  # Station Road by Edgware bus and Underground stations
    near = it[it.geometry.distance(edgware) <= 300]
    assert len(near) == 1
    row = near.iloc[0]
    assert row["ward_name"] == "Edgware" and row["owner"].startswith("Edgware SNT")
    pieces = [
        (t, g)
        for t, ha in res.surfaces.areas.items()
        for g, n in zip(ha.frame.geometry, ha.frame["incidents"], strict=True)
        if n >= cfg.tasking.min_incidents and g.distance(edgware) <= 100
    ]
    assert len({t for t, _ in pieces}) >= 3  # hotspot areas of several crime types meet here ...
    assert all(row.geometry.covers(g) for _, g in pieces)  # ... and all of them are this one item
    assert {"Anti-social behaviour", "Shoplifting", "Theft from the person"} <= {
        crime_type_label(t) for t in json.loads(row["counts_by_type"])
    }
    d = tl.merge_distance_m
    geoms = list(it.geometry)
    for i in range(len(it)):
        for j in range(i + 1, len(it)):
            assert geoms[i].distance(geoms[j]) > d
    assert "peak" not in " ".join(it["tactic"]).lower()
    assert "peak_days" not in tl.to_frame().columns


def test_items_that_fall_below_the_list_say_so(demo_res, tmp_path):
    """Last list of 20; this one keeps 5: items 6-20 close as still places, below the top 5, with their rank."""
    import dataclasses

    first = _quiet_build(demo_res)
    prev = _write_previous(first, tmp_path / "fim-2025-10-31")
    tcfg = dataclasses.replace(demo_res.cfg.tasking, max_items=5)
    short = _quiet_build(demo_res, previous=prev, tcfg=tcfg)
    assert list(short.items["item_id"]) == list(first.items["item_id"].head(5))
    n_places = len(_quiet_places(demo_res).frame)
    for r in short.closed.itertuples():
        assert r.reason == (
            f"Closed: still a hotspot place, but it ranks {int(r.previous_rank)} of {n_places} this time, "
            "below the top 5 ([tasking] max_items)."
        )
