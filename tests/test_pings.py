"""Patrol positions: every ping (and patrol-log row) is accepted or quarantined with a reason,
whole-file mistakes name the file and the fix, and raw unit ids never leave the reader."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from hotspots.errors import InputError
from hotspots.ingest.pings import (
    LOG_REASONS,
    PING_REASONS,
    LogColumns,
    PingColumns,
    pseudonymise_unit,
    read_patrol_log,
    read_pings,
)

TZ = "Europe/London"
TO_LONLAT = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
AREA = box(520000, 185000, 530000, 195000)  # a 10 km square of British National Grid


def lonlat(x, y):
    lo, la = TO_LONLAT.transform(x, y)
    return f"{lo:.6f}", f"{la:.6f}"


def good_rows(unit="PC 4711 Smith", n=6, x0=525000.0, y0=190000.0, t0="2025-06-02 10:00:00"):
    """n pings 10 s apart moving 10 m east each time (1 m/s)."""
    rows = []
    for k in range(n):
        lo, la = lonlat(x0 + 10 * k, y0)
        rows.append([unit, str(pd.Timestamp(t0) + pd.Timedelta(seconds=10 * k)), lo, la])
    return rows


def write(tmp_path, rows, name="pings.csv", header=("callsign", "timestamp", "longitude", "latitude")):
    p = tmp_path / name
    pd.DataFrame(rows, columns=list(header)).to_csv(p, index=False)
    return p


FAR_LO, FAR_LA = lonlat(560000, 190000)  # 30 km east of the area
# One bad row per reason, inserted among good rows (the row's own unit is "BAD UNIT").
BAD = {
    "missing_unit": ["", "2025-06-02 10:00:05", *lonlat(525000, 190000)],
    "missing_time": ["BAD UNIT", "", *lonlat(525000, 190000)],
    "bad_time": ["BAD UNIT", "next tuesday", *lonlat(525000, 190000)],
    "ambiguous_time": ["BAD UNIT", "2025-10-26 01:30:00", *lonlat(525000, 190000)],
    "outside_period": ["BAD UNIT", "2025-07-01 10:00:00", *lonlat(525000, 190000)],
    "missing_coordinates": ["BAD UNIT", "2025-06-02 10:00:05", "", "51.6"],
    "non_numeric_coordinates": ["BAD UNIT", "2025-06-02 10:00:05", "-0.2x", "51.6"],
    "invalid_coordinates": ["BAD UNIT", "2025-06-02 10:00:05", "0", "0"],
    "outside_area": ["BAD UNIT", "2025-06-02 10:00:05", FAR_LO, FAR_LA],
}


def test_reasons_cover_the_table():
    assert set(BAD) | {"duplicate_ping", "speed_jump"} == set(PING_REASONS)


@pytest.mark.parametrize("reason", sorted(BAD))
def test_each_row_reason(tmp_path, reason):
    rows = [*good_rows(), BAD[reason], *good_rows(unit="PC 9", n=3)]
    p = write(tmp_path, rows)
    r = read_pings(p, timezone=TZ, area=AREA, period=("2025-06-01", "2025-06-08"))
    assert r.quarantine["reason"].tolist() == [reason]
    assert r.quarantine["source_row"].tolist() == [7]
    assert r.quarantine["detail"].iloc[0] != ""
    assert len(r.pings) + len(r.quarantine) == r.rows_read == len(rows)
    s = r.summary()
    assert s["reconciles"] and s["quarantined_by_reason"] == {reason: 1}


def test_duplicate_ping_keeps_the_first_row(tmp_path):
    rows = good_rows()
    rows.insert(3, list(rows[2]))  # row 4 repeats row 3
    r = read_pings(write(tmp_path, rows), timezone=TZ)
    q = r.quarantine
    assert q["reason"].tolist() == ["duplicate_ping"] and q["source_row"].tolist() == [4]
    assert "row 3" in q["detail"].iloc[0] and "same position" in q["detail"].iloc[0]
    assert len(r.pings) == 6


def test_speed_jump_in_the_middle_and_at_the_start(tmp_path):
    rows = good_rows(n=8)
    rows[4][2], rows[4][3] = lonlat(527000, 190000)  # 2 km away in 10 s: 200 m/s
    r = read_pings(write(tmp_path, rows), timezone=TZ, max_speed_mps=50)
    assert r.quarantine["reason"].tolist() == ["speed_jump"] and r.quarantine["source_row"].tolist() == [5]
    assert "m/s" in r.quarantine["detail"].iloc[0]
    # a bad first fix must not take the rest of the track with it
    rows = good_rows(n=8)
    rows[0][2], rows[0][3] = lonlat(528000, 193000)
    r = read_pings(write(tmp_path, rows, "first.csv"), timezone=TZ)
    assert r.quarantine["reason"].tolist() == ["speed_jump"] and r.quarantine["source_row"].tolist() == [1]
    assert len(r.pings) == 7


def test_long_gap_relocation_is_not_a_jump(tmp_path):
    a = good_rows(n=4)
    b = good_rows(n=4, x0=529000, t0="2025-06-02 11:00:00")  # 4 km further on, an hour later
    r = read_pings(write(tmp_path, a + b), timezone=TZ)
    assert len(r.quarantine) == 0 and len(r.pings) == 8


def test_times_and_crs(tmp_path):
    rows = [
        ["A1", "2025-06-02T09:00:00Z", *lonlat(525000, 190000)],
        ["A1", "2025-06-02 10:00:10", *lonlat(525010, 190000)],  # local BST
        ["A1", "2025-06-02T10:00:20+01:00", *lonlat(525020, 190000)],
        ["A1", "1748854830", *lonlat(525030, 190000)],  # Unix seconds = 09:00:30 UTC
        ["A1", "02/06/2025 09:00:40Z", *lonlat(525040, 190000)],  # day first, UTC
        ["A1", "02/06/2025 10:00:50", *lonlat(525050, 190000)],
    ]  # day first, local
    r = read_pings(write(tmp_path, rows), timezone=TZ)
    t = r.pings["time"]
    assert str(t.dt.tz) == TZ
    assert [x.strftime("%d/%m %H:%M:%S") for x in t] == [f"02/06 10:00:{s:02d}" for s in range(0, 60, 10)]
    assert r.crs == "EPSG:27700"
    assert r.pings["x"].tolist() == pytest.approx([525000 + 10 * k for k in range(6)], abs=0.2)
    assert r.pings["y"].tolist() == pytest.approx([190000] * 6, abs=0.2)
    # x/y metres with an explicit CRS, and a non-BNG working CRS
    xy = pd.DataFrame(
        {
            "radio_id": ["R1", "R1"],
            "gps_time": ["2025-06-02 10:00:00", "2025-06-02 10:00:10"],
            "easting": [525000.0, 525010.0],
            "northing": [190000.0, 190000.0],
        }
    )
    p = tmp_path / "xy.csv"
    xy.to_csv(p, index=False)
    r2 = read_pings(p, timezone=TZ, crs="EPSG:27700", working_crs="EPSG:4326")
    lo, la = TO_LONLAT.transform(525000.0, 190000.0)
    assert r2.pings["x"].iloc[0] == pytest.approx(lo, abs=1e-9) and r2.pings["y"].iloc[0] == pytest.approx(la, abs=1e-9)


def test_gpx(tmp_path):
    pts = "".join(
        f'<trkpt lat="{lonlat(525000 + 10 * k, 190000)[1]}" lon="{lonlat(525000 + 10 * k, 190000)[0]}">'
        f"<time>2025-06-02T09:00:{10 * k:02d}Z</time></trkpt>"
        for k in range(5)
    )
    bad = '<trkpt lat="91.5" lon="-0.2"><time>2025-06-02T09:01:00Z</time></trkpt><trkpt lat="51.6" lon="-0.2"></trkpt>'
    gpx = (
        f'<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><name>BX22 Jones</name><trkseg>{pts}{bad}</trkseg></trk></gpx>"
    )
    p = tmp_path / "unit.gpx"
    p.write_text(gpx)
    r = read_pings(p, timezone=TZ)
    assert len(r.pings) == 5 and r.pings["unit"].unique().tolist() == ["Unit 01"]
    assert r.pings["time"].iloc[0].strftime("%H:%M") == "10:00"
    assert r.quarantine["reason"].tolist() == ["invalid_coordinates", "missing_time"]
    assert r.quarantine["source_row"].tolist() == [6, 7]


@pytest.mark.parametrize(
    "case",
    [
        "no_columns",
        "swapped",
        "metres_as_degrees",
        "empty",
        "header_only",
        "not_gpx",
        "gpx_doctype",
        "gpx_no_points",
        "xy_without_crs",
        "all_outside",
        "missing_time_col",
        "bad_extension",
    ],
)
def test_whole_file_mistakes(tmp_path, case):
    kw = {"timezone": TZ}
    if case == "no_columns":
        p = write(tmp_path, [["a", "b", "c", "d"]], header=("foo", "bar", "baz", "qux"))
        hint = "PingColumns"
    elif case == "swapped":
        rows = [[u, t, la, lo] for u, t, lo, la in good_rows()]
        p = write(tmp_path, rows)
        hint = "swap"
    elif case == "metres_as_degrees":
        p = write(tmp_path, [["A", "2025-06-02 10:00:00", "525000", "190000"]])
        hint = "x/y"
    elif case == "empty":
        p = tmp_path / "pings.csv"
        p.write_text("")
        hint = "empty"
    elif case == "header_only":
        p = tmp_path / "pings.csv"
        p.write_text("callsign,timestamp,longitude,latitude\n")
        hint = "no rows"
    elif case == "not_gpx":
        p = tmp_path / "track.gpx"
        p.write_text("<kml><Document/></kml>")
        hint = "not a GPX"
    elif case == "gpx_doctype":
        p = tmp_path / "track.gpx"
        p.write_text('<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa">]><gpx><trk><name>&a;</name></trk></gpx>')
        hint = "DOCTYPE"
    elif case == "gpx_no_points":
        p = tmp_path / "track.gpx"
        p.write_text('<gpx xmlns="http://www.topografix.com/GPX/1/1"><rte><rtept lat="51" lon="0"/></rte></gpx>')
        hint = "no track points"
    elif case == "xy_without_crs":
        p = write(tmp_path, [["A", "2025-06-02 10:00:00", "525000", "190000"]], header=("unit", "time", "x", "y"))
        hint = "crs="
    elif case == "all_outside":
        p = write(tmp_path, good_rows(x0=560000))
        kw["area"] = AREA
        hint = "outside the area"
    elif case == "missing_time_col":
        p = write(tmp_path, [["A", "-0.2", "51.6"]], header=("unit", "lon", "lat"))
        hint = "time"
    else:
        p = tmp_path / "pings.xlsx"
        p.write_text("x")
        hint = ".gpx"
    with pytest.raises(InputError) as exc:
        read_pings(p, **kw)
    msg = str(exc.value)
    assert str(p) in msg and hint in msg


def test_raw_unit_ids_never_leave_the_reader(tmp_path):
    raw_ids = ["PC 4711 Smith", "BX22 Jones"]
    rows = good_rows(raw_ids[0]) + good_rows(raw_ids[1], y0=190500) + [[raw_ids[1], "garbage", "-0.2", "51.6"]]
    p = write(tmp_path, rows)
    r = read_pings(p, timezone=TZ)
    text = " ".join([r.pings.to_csv(), r.quarantine.to_csv(), r.units.to_csv(), repr(r), str(r.summary()), r.report()])
    for raw in raw_ids:
        assert raw not in text and raw.split()[0] not in text
    assert r.pings["unit"].unique().tolist() == ["Unit 01", "Unit 02"]  # order of first appearance
    assert r.quarantine["unit"].tolist() == ["Unit 02"]
    assert "input:callsign" not in r.quarantine.columns
    # keyed pseudonyms: the same label in every run with the same key, different with another key
    key = b"0123456789abcdef-force-secret"
    k1 = read_pings(p, timezone=TZ, pseudonym_key=key).pings["unit"].unique().tolist()
    k2 = read_pings(p, timezone=TZ, pseudonym_key=key).pings["unit"].unique().tolist()
    k3 = read_pings(p, timezone=TZ, pseudonym_key=b"another-secret-of-16+").pings["unit"].unique().tolist()
    assert k1 == k2 != k3
    assert sorted(k1) == sorted(pseudonymise_unit(u, key) for u in raw_ids)
    with pytest.raises(InputError, match="16 bytes"):
        read_pings(p, timezone=TZ, pseudonym_key=b"short")


def test_explicit_columns_and_folder(tmp_path):
    d = tmp_path / "week"
    d.mkdir()
    write(d, good_rows(n=3), "a.csv", header=("who", "when", "long_deg", "lat_deg"))
    write(d, good_rows("Other", n=3), "b.csv", header=("who", "when", "long_deg", "lat_deg"))
    cols = PingColumns(unit="who", time="when", lon="long_deg", lat="lat_deg")
    r = read_pings(d, timezone=TZ, columns=cols)
    assert len(r.pings) == 6 and [f["rows_read"] for f in r.files] == [3, 3]
    with pytest.raises(InputError, match="'nope'"):
        read_pings(d, timezone=TZ, columns=PingColumns(unit="nope"))


def test_compressed_bom_and_latin1_files(tmp_path):
    import gzip

    text = "callsign,timestamp,longitude,latitude\n" + "".join(
        f"{u},{t},{lo},{la}\n" for u, t, lo, la in good_rows("Café 7", n=4)
    )
    (tmp_path / "bom.csv").write_text(text, encoding="utf-8-sig")
    with gzip.open(tmp_path / "week.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(text)
    (tmp_path / "latin.csv").write_text(text, encoding="latin-1")
    for name in ("bom.csv", "week.csv.gz", "latin.csv"):
        r = read_pings(tmp_path / name, timezone=TZ)
        assert len(r.pings) == 4 and len(r.quarantine) == 0, name
    (tmp_path / "ragged.csv").write_text(text + "A,2025-06-02 11:00:00,-0.2,51.6,extra,cells\n")
    with pytest.raises(InputError, match=re.escape("ragged.csv")):
        read_pings(tmp_path / "ragged.csv", timezone=TZ)


# --------------------------------------------------------------------------- patrol log
LOG_HEADER = ("item_id", "officer", "start", "end")
LOG_GOOD = [
    ["T01", "PC 1 Smith", "2025-06-02 10:00", "2025-06-02 10:15"],
    ["T02", "PC 1 Smith", "2025-06-02 11:00", "2025-06-02 11:12"],
    ["T01", "PC 2 Brown", "2025-06-03 20:00", "2025-06-03 20:20"],
]
LOG_BAD = {
    "missing_place": ["", "PC 3", "2025-06-04 10:00", "2025-06-04 10:15"],
    "unknown_place": ["T99", "PC 3", "2025-06-04 10:00", "2025-06-04 10:15"],
    "missing_time": ["T01", "PC 3", "2025-06-04 10:00", ""],
    "bad_time": ["T01", "PC 3", "2025-06-04 10:00", "soon"],
    "ambiguous_time": ["T01", "PC 3", "2025-10-26 01:10", "2025-10-26 01:40"],
    "end_before_start": ["T01", "PC 3", "2025-06-04 10:00", "2025-06-04 09:00"],
    "too_long": ["T01", "PC 3", "2025-06-04 10:00", "2025-06-05 10:00"],
    "duplicate_entry": ["T01", "PC 1 Smith", "2025-06-02 10:00", "2025-06-02 10:15"],
    "overlapping_entry": ["T02", "PC 1 Smith", "2025-06-02 10:05", "2025-06-02 10:20"],
}


def test_log_reasons_cover_the_table():
    assert set(LOG_BAD) == set(LOG_REASONS)


@pytest.mark.parametrize("reason", sorted(LOG_BAD))
def test_each_log_reason(tmp_path, reason):
    rows = [*LOG_GOOD, LOG_BAD[reason]]
    p = write(tmp_path, rows, "log.csv", header=LOG_HEADER)
    r = read_patrol_log(p, timezone=TZ, place_ids=["T01", "T02"])
    assert r.quarantine["reason"].tolist() == [reason]
    assert r.quarantine["source_row"].tolist() == [4]
    assert len(r.entries) + len(r.quarantine) == r.rows_read == 4
    assert r.summary()["reconciles"]
    assert "Smith" not in r.quarantine.to_csv() + r.entries.to_csv()


def test_log_with_date_and_times(tmp_path):
    rows = [["T01", "PC 1", "02/06/2025", "23:50", "00:10"], ["T01", "PC 1", "03/06/2025", "09.00", "09.15"]]
    p = write(tmp_path, rows, "log.csv", header=("place", "unit", "date", "time_in", "time_out"))
    r = read_patrol_log(p, timezone=TZ)
    e = r.entries
    assert e["minutes"].tolist() == [20.0, 15.0]
    assert e["start"].iloc[0] == pd.Timestamp("2025-06-02 23:50", tz=TZ)
    assert e["end"].iloc[0] == pd.Timestamp("2025-06-03 00:10", tz=TZ)


def test_log_whole_file_mistakes(tmp_path):
    p = write(tmp_path, [["a", "b"]], "log.csv", header=("foo", "bar"))
    with pytest.raises(InputError, match="LogColumns"):
        read_patrol_log(p, timezone=TZ)
    p = write(tmp_path, [["T01", "2025-06-02 10:00"]], "log2.csv", header=("item_id", "start"))
    with pytest.raises(InputError, match="end"):
        read_patrol_log(p, timezone=TZ)
    p = write(tmp_path, [["T01", "x", "y"]], "log3.csv", header=("ref", "from", "until"))
    r = read_patrol_log(p, timezone=TZ, columns=LogColumns(place="ref", start="from", end="until"))
    assert r.quarantine["reason"].tolist() == ["bad_time"]


@pytest.mark.parametrize("tz", ["Europe/London", "Asia/Kolkata", "America/Chicago"])
@pytest.mark.parametrize("resolution_ns", [10**9, 10**6, 10**3, 1])
def test_timestamp_texts_equal_pandas_strings(tz, resolution_ns):
    """The quarantine's times outside the patrol period are written as pandas writes them
    (``astype(str)``): the same fraction digits for every row (none, 3, 6 or 9, set by the finest
    value), the UTC offset as +HH:MM, both sides of a clock change, negative offsets."""
    from hotspots.ingest.pings import _timestamp_texts

    rng = np.random.default_rng(resolution_ns)
    ns = rng.integers(pd.Timestamp("1969-06-01").value, pd.Timestamp("2026-01-01").value, 3000)
    ns -= ns % resolution_ns
    ns[:500] -= ns[:500] % 10**9  # whole seconds beside finer values
    clock_change = [pd.Timestamp(t, tz="UTC").value for t in ("2025-10-26 00:30", "2025-10-26 01:30")]
    ns = np.append(ns, clock_change)
    times = pd.Series(pd.DatetimeIndex(ns.view("M8[ns]"), tz="UTC").tz_convert(tz))
    assert list(_timestamp_texts(times)) == list(times.astype(str))
    assert list(_timestamp_texts(times[:500])) == list(times[:500].astype(str))
