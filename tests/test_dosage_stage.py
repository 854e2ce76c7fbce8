"""The patrol dosage stage, command and page on the demo borough: the planted patrol minutes recovered within
5%, drive-throughs not counted, asked vs delivered on the tasking list, no pings or unit labels in public/."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import REPO, fast_config

PREV_DATE = "2025-10-31"
DATE = "2025-11-14"
TRUTH = REPO / "data" / "patrol" / "planted_patrols.json"


@pytest.fixture(scope="module")
def truth():
    if not TRUTH.exists():
        pytest.skip("demo patrols missing: run `hotspots demo-data --out data`")
    return json.loads(TRUTH.read_text())


@pytest.fixture(scope="module")
def planted_pack(tmp_path_factory, truth):
    """A previous pack whose places are the planted patrol places (60 m circles), asking 15 minutes 3 times a week."""
    pack = tmp_path_factory.mktemp("planted") / f"fim-{PREV_DATE}"
    pack.mkdir()
    ids = [p["id"] for p in truth["places"]]
    geoms = shapely.buffer(
        shapely.points([(p["x"], p["y"]) for p in truth["places"]]), [p["radius_m"] for p in truth["places"]]
    )
    items = gpd.GeoDataFrame(
        {"item_id": ids, "rank": range(1, len(ids) + 1), "dosage": "15 minutes, 3 times a week"},
        geometry=geoms,
        crs=truth["crs"],
    )
    items.to_file(pack / "layers.gpkg", layer="tasking_items", driver="GPKG")
    (pack / "manifest.json").write_text(json.dumps({"fim_date": PREV_DATE}))
    return pack


@pytest.fixture(scope="module")
def command_out(tmp_path_factory, planted_pack):
    out = tmp_path_factory.mktemp("dosage_cmd") / "out"
    cmd = [
        sys.executable,
        "-m",
        "hotspots.cli",
        "dosage",
        "--config",
        str(REPO / "config" / "demo.toml"),
        "--date",
        DATE,
    ]
    cmd += [
        "--pings",
        str(REPO / "data" / "patrol" / "pings.csv.gz"),
        "--previous",
        str(planted_pack),
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    return done, out


def test_command_recovers_planted_minutes_within_5_percent(command_out, truth):
    done, out = command_out
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    comp = pd.read_csv(out / "dosage_compliance.csv").set_index("place_id")
    planted = pd.DataFrame(truth["visits"]).groupby("place_id")["minutes"].agg(["sum", "size"])
    assert len(planted) == len(truth["places"]) == len(comp)
    for pid, r in planted.iterrows():
        assert comp.loc[pid, "minutes"] == pytest.approx(r["sum"], rel=0.05), pid
        assert comp.loc[pid, "visits"] == r["size"], pid
    # asked: 15 minutes 3 times a week over 14 days = 90 minutes; the planted doses differ per place
    assert (comp["asked_minutes"] == 90).all()
    assert (out / "dosage.html").exists()


def test_drive_throughs_are_not_visits(command_out, truth):
    _, out = command_out
    stays = pd.read_csv(out / "dosage_visits.csv")
    visits = stays[stays["kind"] == "visit"]
    assert len(visits) == len(truth["visits"])
    passes = pd.DataFrame(truth["passes"])
    assert len(passes) > 0
    # a pass at 10 m/s through a 120 m place may fall between two pings 30 s apart (then nothing is seen);
    # what is seen of a pass is a drive-through, never a visit
    start = pd.to_datetime(stays["start"], utc=True)
    end = pd.to_datetime(stays["end"], utc=True)
    planted_visits = pd.DataFrame(truth["visits"])
    planted_visits["start"] = pd.to_datetime(planted_visits["start"], utc=True)
    planted_visits["end"] = pd.to_datetime(planted_visits["end"], utc=True)
    seen = 0
    for p in passes.itertuples():
        t = pd.Timestamp(p.time).tz_convert("UTC")
        hit = stays[(stays["place_id"] == p.place_id) & (start <= t) & (end >= t)]
        parked = planted_visits[
            (planted_visits["place_id"] == p.place_id) & (planted_visits["start"] <= t) & (planted_visits["end"] >= t)
        ]
        if not len(parked):  # no other unit parked there at the time: the pass is not a visit
            assert (hit["kind"] != "visit").all(), (p.place_id, p.time)
        seen += int((hit["kind"] == "drive_through").any())
    assert seen >= len(passes) // 4
    assert (stays["kind"] == "drive_through").sum() >= seen


def test_units_are_pseudonyms_everywhere(command_out, truth):
    _, out = command_out
    callsigns = {v["callsign"] for v in truth["visits"]} | {p["callsign"] for p in truth["passes"]}
    for f in out.rglob("*"):
        if f.is_file():
            text = f.read_text(encoding="utf-8", errors="replace")
            for c in callsigns:
                assert c not in text, (f.name, c)


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """The demo pack of the previous meeting, then this meeting's pack beside it (found as the previous)."""
    from hotspots import pipeline

    root = tmp_path_factory.mktemp("dosage_packs")
    cfg = fast_config()
    pipeline.run(cfg, fim_date=PREV_DATE, out_dir=root / f"fim-{PREV_DATE}", quiet=True)
    pipeline.run(cfg, fim_date=DATE, out_dir=root / f"fim-{DATE}", quiet=True)
    return root / f"fim-{PREV_DATE}", root / f"fim-{DATE}"


def test_pack_shows_asked_and_delivered_for_continuing_items(packs):
    prev, pack = packs
    first = json.loads((prev / "manifest.json").read_text())
    assert first["stages_not_run"]["dosage"].startswith("no previous FIM pack")
    man = json.loads((pack / "manifest.json").read_text())
    assert "dosage" in man["stages_run"]
    comp = pd.read_csv(pack / "dosage_compliance.csv").set_index("place_id")
    tasking = pd.read_csv(pack / "tasking.csv", dtype={"item_id": str})
    html = (pack / "tasking.html").read_text()
    cont = tasking[tasking["status"].isin(["continuing", "escalated"])]
    assert len(cont)
    for r in cont.itertuples():
        c = comp.loc[r.item_id]
        want = f"{int(c['visits'])} visit" if int(c["visits"]) == 1 else f"{int(c['visits'])} visits"
        assert r.delivered.startswith("asked ") and f"delivered {want}, {c['minutes']:,.0f} of" in r.delivered
        assert f"delivered {want}" in html
    page = (pack / "dosage.html").read_text()
    assert "Each place: asked and delivered" in page and "<svg" in page and "Koper" in page
    assert 'href="dosage.html"' in (pack / "index.html").read_text()


def test_ward_maps_and_briefing_show_asked_and_delivered(packs):
    """Each continuing item's asked-vs-delivered text is in the popup data of its ward's map and in the briefing."""
    import pypdf

    from hotspots.render.filenames import ward_map_files

    _, pack = packs
    tasking = pd.read_csv(pack / "tasking.csv", dtype={"item_id": str, "ward_code": str})
    cont = tasking[tasking["status"].isin(["continuing", "escalated"])]
    files = ward_map_files(sorted(tasking["ward_code"].dropna().unique()))
    for r in cont.itertuples():
        page = (pack / files[r.ward_code]).read_text()
        assert json.dumps(r.delivered)[1:-1] in page, r.item_id  # in the map's data block, as JSON text
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(pack / "briefing.pdf").pages)
    text = " ".join(text.split())
    shown = [r for r in cont.itertuples() if r.item_id in text]
    assert shown and any(" ".join(r.delivered.split())[:60] in text for r in shown)


def test_public_tier_has_no_pings_or_units(packs):
    _, pack = packs
    stays = pd.read_csv(pack / "dosage_visits.csv")
    units = set(stays["unit"].astype(str))
    assert units and all(u.startswith("Unit ") for u in units)
    pings = pd.read_csv(REPO / "data" / "patrol" / "pings.csv.gz").sample(200, random_state=1)
    coords = {f"{v:.6f}" for v in pings["longitude"]} | {f"{v:.6f}" for v in pings["latitude"]}
    public = [f for f in (pack / "public").rglob("*") if f.is_file()]
    assert public
    for f in public:
        text = f.read_text(encoding="utf-8", errors="replace")
        assert not any(u in text for u in units), f.name
        assert not any(c in text for c in coords), f.name
        assert "dosage" not in f.name


def test_run_without_pings_records_not_run(tmp_path):
    from hotspots import pipeline

    cfg = fast_config().override("dosage", pings="")
    pack = pipeline.run(cfg, fim_date=PREV_DATE, out_dir=tmp_path / f"fim-{PREV_DATE}", quiet=True)
    man = json.loads((pack / "manifest.json").read_text())
    assert man["stages_not_run"]["dosage"].startswith("no patrol positions given")
    assert not (pack / "dosage.html").exists() and (pack / "tasking.html").exists()
