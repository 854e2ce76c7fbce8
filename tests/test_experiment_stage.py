"""The patrol experiment in the products: a seeded schedule of the list's places (same seed, same bytes), one page
per Safer Neighbourhood Team with exactly its places, the evaluation of an ended schedule read back from the pack
recovering a planted effect, and nothing of it in the public tier."""

from __future__ import annotations

import json
import re
from html import unescape

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import fast_config

from hotspots.config.sections import ExperimentConfig
from hotspots.demo.patrol_sim import plant_patrol_effect
from hotspots.render.experiment import write_team_pages
from hotspots.render.filenames import ward_map_href
from hotspots.tasking.experiment import draw_plan, evaluate_plan, read_plan

TZ = "Europe/London"
BNG = "EPSG:27700"
MEETING = pd.Timestamp("2025-06-02", tz=TZ)
HOSTILE = '<script>alert("x")</script> & Co'


def list_items(n: int, wards: list[tuple[str, str]]) -> gpd.GeoDataFrame:
    """``n`` round places 400 m apart, dealt to ``wards`` (code, name) in turn, as a tasking list's items."""
    xy = [(530000 + 400 * (k % 10), 180000 + 400 * (k // 10)) for k in range(n)]
    return gpd.GeoDataFrame(
        {
            "item_id": [f"T{k:03d}" for k in range(n)],
            "place_name": [f"High Street {k}" for k in range(n)],
            "ward_code": [wards[k % len(wards)][0] for k in range(n)],
            "ward_name": [wards[k % len(wards)][1] for k in range(n)],
        },
        geometry=shapely.buffer(shapely.points(xy), 80.0),
        crs=BNG,
    )


WARDS = [("E05013628", "Hendon"), ("E05013629", "Colindale"), ("A/B", HOSTILE)]


def plan_of(kind: str, n: int = 12, days: int = 28, share: float = 0.5, seed: int = 11, block_days: int = 7):
    cfg = ExperimentConfig(kind=kind, seed=seed, share=share, block_days=block_days, days=days)
    return draw_plan(list_items(n, WARDS), MEETING, cfg, seed=seed, timezone=TZ)


@pytest.mark.parametrize("kind", ["crossover", "allocation"])
def test_same_seed_gives_the_same_schedule_bytes(tmp_path, kind):
    a = plan_of(kind).write(tmp_path / "a")
    b = plan_of(kind).write(tmp_path / "b")
    c = plan_of(kind, seed=12).write(tmp_path / "c")
    for name in ("schedule", "design"):
        assert a[name].read_bytes() == b[name].read_bytes()
    assert a["schedule"].read_bytes() != c["schedule"].read_bytes()
    assert a["schedule"].read_bytes().startswith(b"\xef\xbb\xbfplace_id,place,team_code,team,date,weekday,block,arm")
    # the team name with a formula-like start would be neutralised; this one is written as text, quoted
    assert HOSTILE.replace('"', '""') in a["schedule"].read_text(encoding="utf-8-sig")


def test_every_place_of_the_list_appears_once_each_day():
    plan = plan_of("crossover", n=13, days=21)
    t = plan.schedule
    ids = sorted(f"T{k:03d}" for k in range(13))
    assert not t.duplicated(["place_id", "date"]).any()
    by_day = t.groupby("date")["place_id"].apply(sorted)
    assert len(by_day) == 21 and all(v == ids for v in by_day)
    assert t["date"].min() == pd.Timestamp("2025-06-02") and t["date"].max() == pd.Timestamp("2025-06-22")
    # a crossover: every place has patrol and no-patrol days, 3 or 4 of each block's 7 days on patrol
    per_block = t.assign(p=t["arm"] == "patrol").groupby(["place_id", "block"])["p"].sum()
    assert set(per_block) <= {3, 4}


@pytest.mark.parametrize(("n", "share", "allowed"), [(20, 0.3, {6}), (10, 0.25, {2, 3}), (9, 0.5, {4, 5})])
def test_allocation_shares_as_configured(n, share, allowed):
    plan = plan_of("allocation", n=n, share=share)
    t = plan.schedule
    arms = t.groupby("place_id")["arm"].agg(["nunique", "first"])
    assert len(arms) == n and (arms["nunique"] == 1).all()  # a place is patrolled every day or on none
    assert int((arms["first"] == "patrol").sum()) in allowed
    assert (t.groupby("place_id").size() == plan.days).all()


def test_each_team_page_lists_exactly_its_places(tmp_path):
    plan = plan_of("crossover", n=14, days=14)
    pages = write_team_pages(plan, tmp_path, "Demo & <borough>")
    assert set(pages) == {c for c, _ in WARDS}
    assert pages["E05013628"] == tmp_path / "experiment" / "E05013628.html"
    assert pages["A/B"] == tmp_path / ward_map_href("A/B", "experiment") and "/" not in pages["A/B"].name
    for code, page in pages.items():
        html = page.read_text(encoding="utf-8")
        want = sorted(set(plan.schedule.loc[plan.schedule["team_code"] == code, "place_id"]))
        yours = html.split("<h2>Your places</h2>")[1].split("</table>")[0]
        assert sorted(re.findall(r"<tr><td class=\"id\">(T\d{3})</td>", yours)) == want
        days = html.split("<h2>Day by day</h2>")[1].split("</table>")[0]
        named = set(re.findall(r"T\d{3}", days))
        assert named == set(want)  # the day table names no other team's place
        # each day: the places to patrol are exactly that day's patrol rows of the schedule
        t = plan.for_team(code)
        for date, g in t.groupby("date"):
            row = re.search(rf"{date:%A %d %b}</td><td class=\"go\">(.*?)</td>", html)
            assert row is not None
            got = sorted(re.findall(r'<span class="nb">([^<]+)</span>', unescape(row.group(1))))
            assert got == sorted(g.loc[g["arm"] == "patrol", "place_id"])
        assert "<script>" not in html and "Demo &amp; &lt;borough&gt;" in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co Safer Neighbourhood Team" in pages[
        "A/B"
    ].read_text(encoding="utf-8")


def test_allocation_team_page_says_which_places_to_patrol(tmp_path):
    plan = plan_of("allocation", n=9, share=0.5)
    pages = write_team_pages(plan, tmp_path, "Demo")
    arms = plan.schedule.groupby("place_id")["arm"].first()
    for code, page in pages.items():
        html = page.read_text(encoding="utf-8")
        for pid in plan.for_team(code)["place_id"].unique():
            want = "patrol every day" if arms[pid] == "patrol" else "no extra patrol"
            assert re.search(rf"<tr><td class=\"id\">{pid}</td><td>[^<]*</td><td>{want}</td></tr>", html), (pid, want)


def _dose(plan) -> pd.DataFrame:
    on = plan.schedule[plan.schedule["arm"] == "patrol"]
    return pd.DataFrame({"place_id": on["place_id"], "day": on["date"], "minutes": 15.0})


def test_planted_crossover_effect_recovered_from_the_pack_files(tmp_path):
    """A 30% fall in crime on patrol days, planted in synthetic incidents, is recovered with its sign, and the
    interval holds the planted size, after the design goes through the pack's files and back."""
    plan = plan_of("crossover", n=24, days=56, seed=3)
    plan.write(tmp_path / "fim-2025-06-02" / "experiment")
    back = read_plan(tmp_path / "fim-2025-06-02")
    assert back is not None and back.schedule[["place_id", "date", "arm"]].equals(
        plan.schedule[["place_id", "date", "arm"]]
    )
    places = list_items(24, WARDS)
    sim = plant_patrol_effect(
        np.random.default_rng(8), places, _dose(plan), start="2025-06-02", days=56, base_rate_per_day=1.5, reduction=0.3
    )
    ev = evaluate_plan(back, sim.incidents, BNG, seed=1, permutations=199)
    for est, truth in (
        (ev.result.harm, sim.effect_harm_per_place_day),
        (ev.result.count, sim.effect_count_per_place_day),
    ):
        assert truth < 0 and est.estimate < 0 and est.ci_high < 0
        assert est.ci_low <= truth <= est.ci_high
    assert ev.result.count.relative == pytest.approx(-0.3, abs=0.1)
    assert len(ev.result.observations) == 24 * 56


def test_planted_allocation_effect_recovered_from_the_pack_files(tmp_path):
    plan = plan_of("allocation", n=40, days=56, seed=5)
    plan.write(tmp_path / "pack" / "experiment")
    back = read_plan(tmp_path / "pack")
    assert back is not None
    places = list_items(40, WARDS)
    sim = plant_patrol_effect(
        np.random.default_rng(2),
        places,
        _dose(plan),
        start="2025-04-07",
        days=112,
        base_rate_per_day=1.0,
        reduction=0.4,
    )
    ev = evaluate_plan(back, sim.incidents, BNG, seed=1, permutations=199)
    assert ev.result.harm.estimate < 0 and ev.result.count.estimate < 0
    assert ev.result.harm.ci_low <= sim.effect_harm_per_place_day <= ev.result.harm.ci_high
    assert ev.result.count.ci_low <= sim.effect_count_per_place_day <= ev.result.count.ci_high


def test_no_effect_planted_gives_an_interval_around_zero(tmp_path):
    plan = plan_of("crossover", n=24, days=56, seed=4)
    places = list_items(24, WARDS)
    sim = plant_patrol_effect(
        np.random.default_rng(9), places, _dose(plan), start="2025-06-02", days=56, base_rate_per_day=1.5, reduction=0.0
    )
    ev = evaluate_plan(plan, sim.incidents, BNG, permutations=0)
    assert ev.result.count.ci_low < 0 < ev.result.count.ci_high


# --------------------------------------------------------------------------- the pack
PREV_DATE = "2025-10-31"
DATE = "2025-11-14"


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """Two demo packs a fortnight apart with a 14-day crossover: the first hands out the schedule, the second
    evaluates it (its period ended at the second meeting) and hands out a new one."""
    from hotspots import pipeline

    root = tmp_path_factory.mktemp("experiment_packs")
    cfg = fast_config().override("experiment", kind="crossover", days=14, block_days=7, share=0.5, seed=7)
    pipeline.run(cfg, fim_date=PREV_DATE, out_dir=root / f"fim-{PREV_DATE}", quiet=True)
    pipeline.run(cfg, fim_date=DATE, out_dir=root / f"fim-{DATE}", quiet=True)
    return root / f"fim-{PREV_DATE}", root / f"fim-{DATE}"


def test_pack_hands_out_the_schedule_and_team_pages(packs):
    prev, _ = packs
    sched = pd.read_csv(prev / "experiment" / "schedule.csv", dtype=str, encoding="utf-8-sig")
    tasking = pd.read_csv(prev / "tasking.csv", dtype={"item_id": str})
    ranked = tasking[tasking["rank"].notna()]
    assert sorted(sched["place_id"].unique()) == sorted(ranked["item_id"])
    assert (sched.groupby("place_id").size() == 14).all()
    man = json.loads((prev / "manifest.json").read_text())
    assert "experiment" in man["stages_run"] and man["experiment"]["schedule"]["places"] == len(ranked)
    for code in sched["team_code"].unique():
        page = prev / ward_map_href(code, "experiment")
        assert page.exists()
        assert set(re.findall(r"<tr><td class=\"id\">([^<]+)</td><td>", page.read_text().split("</table>")[0])) == set(
            sched.loc[sched["team_code"] == code, "place_id"]
        )


def test_next_pack_evaluates_the_ended_experiment_on_the_patrol_page(packs):
    _, pack = packs
    man = json.loads((pack / "manifest.json").read_text())
    ev = man["experiment"]["evaluation"]
    assert ev["period"] == [PREV_DATE, DATE] and ev["kind"] == "crossover"
    table = pd.read_csv(pack / "experiment" / "evaluation.csv")
    assert list(table["outcome"]) == ["harm", "count"]
    assert (table["ci_low"] <= table["estimate"]).all() and (table["estimate"] <= table["ci_high"]).all()
    page = (pack / "dosage.html").read_text()
    assert "Patrol experiment: did patrol make a difference?" in page
    assert f"{table.loc[1, 'estimate']:+,.2f}" in page
    assert "Was the patrol delivered as drawn?" in page  # the demo's pings cover the fortnight
    assert (pack / "experiment" / "schedule.csv").exists()  # and a new schedule for this list
    assert json.loads((pack / "experiment" / "design.json").read_text())["start"] == DATE


def test_nothing_of_the_experiment_in_the_public_tier(packs):
    for pack in packs:
        assert (pack / "experiment" / "schedule.csv").exists()
        public = [f for f in (pack / "public").rglob("*") if f.is_file()]
        assert public
        for f in public:
            assert "experiment" not in f.relative_to(pack).as_posix().lower() and "schedule" not in f.name
            text = f.read_text(encoding="utf-8", errors="replace").lower()
            assert "experiment" not in text and "no patrol" not in text, f.name
            assert "safer neighbourhood team" not in text, f.name


def test_pack_without_experiment_records_not_run(packs, tmp_path):
    from hotspots import pipeline

    pack = pipeline.run(
        fast_config().override("dosage", pings=""),
        fim_date=PREV_DATE,
        out_dir=tmp_path / f"fim-{PREV_DATE}",
        quiet=True,
    )
    man = json.loads((pack / "manifest.json").read_text())
    assert man["stages_not_run"]["experiment"].startswith("no patrol experiment set")
    assert not (pack / "experiment").exists()


# --------------------------------------------------------------------------- the `hotspots experiment` command
def _cli(*argv: str) -> tuple[int, str, str]:
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from hotspots import cli

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def test_experiment_command_draws_the_schedule_the_pack_handed_out(packs, demo_config_path, tmp_path):
    """`hotspots experiment --list PACK` reads the pack's places back from layers.gpkg and, with the pack's settings,
    draws the very schedule and team pages the pack's own experiment stage wrote (same bytes)."""
    prev, _ = packs
    design = ["--kind", "crossover", "--days", "14", "--block-days", "7", "--share", "0.5", "--seed", "7"]
    rc, out, err = _cli(
        "experiment", "--config", str(demo_config_path), "--list", str(prev), *design, "--out", str(tmp_path)
    )
    assert rc == 0, err
    ours, theirs = tmp_path / "experiment", prev / "experiment"
    assert (ours / "schedule.csv").read_bytes() == (theirs / "schedule.csv").read_bytes()
    rec, pack_rec = (json.loads((d / "design.json").read_text()) for d in (ours, theirs))
    ours_places, their_places = rec.pop("places"), pack_rec.pop("places")
    assert rec == pack_rec
    assert sorted(ours_places) == sorted(their_places)  # the same polygons (layers.gpkg stores them as multipolygons)
    for pid, wkt in their_places.items():
        assert shapely.equals(shapely.from_wkt(ours_places[pid]), shapely.from_wkt(wkt)), pid
    pages = sorted(p.name for p in ours.glob("*.html"))
    assert pages and pages == sorted(p.name for p in theirs.glob("*.html"))
    for name in pages:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    assert "Safer Neighbourhood Team" in out and f"from {PREV_DATE}" in out


def test_experiment_command_draws_for_the_polygons_of_a_file(demo_config_path, tmp_path):
    """--places FILE: each polygon is a place of the ward holding most of it; an allocation treats the share asked."""
    places = list_items(12, [("x", "x")]).drop(columns=["ward_code", "ward_name"])
    demo = gpd.read_file(demo_config_path.parent.parent / "data" / "boundaries" / "wards.geojson").to_crs(BNG)
    centre = demo.geometry.iloc[0].representative_point()
    places["geometry"] = places.geometry.translate(centre.x - 530000 - 1800, centre.y - 180000 - 200)
    places = places.rename(columns={"item_id": "ref", "place_name": "name"})
    f = tmp_path / "places.gpkg"
    places.to_file(f)
    argv = ["--places", str(f), "--id-column", "ref", "--name-column", "name", "--start", "2025-06-02"]
    common = ["experiment", "--config", str(demo_config_path), *argv, "--kind", "allocation", "--days", "7"]
    rc, _, err = _cli(*common, "--out", str(tmp_path / "a"), "--quiet")
    assert rc == 0, err
    sched = pd.read_csv(tmp_path / "a" / "experiment" / "schedule.csv", dtype=str, encoding="utf-8-sig")
    assert sorted(sched["place_id"].unique()) == sorted(places["ref"])
    assert (sched.groupby("place_id")["arm"].nunique() == 1).all()  # a place is patrolled every day or never
    assert sched.drop_duplicates("place_id")["arm"].eq("patrol").sum() == 6
    # the ward of each place: the ward polygon holding most of its area (checked by brute force)
    wards = demo.set_index("ward_code")
    for pid, code in sched.drop_duplicates("place_id")[["place_id", "team_code"]].itertuples(index=False):
        g = places.loc[places["ref"] == pid, "geometry"].iloc[0]
        assert code == max(wards.index, key=lambda c: wards.loc[c, "geometry"].intersection(g).area)
    assert set(sched["place"]) == set(places["name"])
    # a point is not a place, and a missing id column is named
    bad = places.assign(geometry=places.geometry.centroid)
    bad.to_file(tmp_path / "points.gpkg")
    rc, _, err = _cli(
        *[a if a != str(f) else str(tmp_path / "points.gpkg") for a in common], "--out", str(tmp_path / "b")
    )
    assert rc == 2 and "must be a polygon" in err and "points.gpkg" in err
    rc, _, err = _cli(*[a if a != "ref" else "nope" for a in common], "--out", str(tmp_path / "c"))
    assert rc == 2 and "no column 'nope'" in err and "--id-column" in err


def test_experiment_command_evaluates_as_the_next_pack_does(packs, demo_config_path, tmp_path):
    """`hotspots experiment --evaluate PACK` gives the estimates and intervals the next pack gave, on its own page."""
    prev, pack = packs
    rc, out, err = _cli(
        "experiment",
        "--config",
        str(demo_config_path),
        "--evaluate",
        str(prev),
        "--date",
        DATE,
        "--seed",
        "7",
        "--out",
        str(tmp_path),
    )
    assert rc == 0, err
    ours = pd.read_csv(tmp_path / "experiment" / "evaluation.csv")
    theirs = pd.read_csv(pack / "experiment" / "evaluation.csv")
    pd.testing.assert_frame_equal(ours, theirs)
    page = (tmp_path / "experiment.html").read_text()
    assert "Patrol experiment: did patrol make a difference?" in page and f"{ours.loc[1, 'estimate']:+,.2f}" in page
    assert "Harm:" in out and "Crimes:" in out
    # before its last day has data it is refused, saying when it can be evaluated
    rc, _, err = _cli(
        "experiment",
        "--config",
        str(demo_config_path),
        "--evaluate",
        str(prev),
        "--date",
        PREV_DATE,
        "--out",
        str(tmp_path / "early"),
    )
    assert rc == 2 and "runs until 2025-11-13" in err and not (tmp_path / "early" / "experiment.html").exists()


def test_experiment_command_needs_a_design_and_checks_the_options(packs, demo_config_path, tmp_path):
    prev, _ = packs
    base = ["experiment", "--config", str(demo_config_path), "--list", str(prev), "--out", str(tmp_path)]
    rc, _, err = _cli(*base)
    assert rc == 2 and "--kind crossover" in err
    rc, _, err = _cli(*base, "--kind", "crossover", "--block-days", "1")
    assert rc == 2 and "--block-days" in err and "block_days is 1" in err
    rc, _, err = _cli(*base, "--kind", "allocation", "--share", "1.5")
    assert rc == 2 and "--share" in err and "between 0 and 1" in err
    assert not (tmp_path / "experiment").exists()
