"""The input rules behind the bad-input table, checked on the values they produce.

Each test plants values whose right reading is known (a US date, an accented
street in a Windows-1252 line, a local time in New York, two points a known
distance apart, twelve whole months of burglaries) and checks what ingest and
the run make of them.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Polygon
from test_bad_input import GENERIC_HEADER, NEW_YORK, World, generic_row, police_row, ward_collection

from hotspots.config import load_config
from hotspots.errors import InputError
from hotspots.progress import Reporter
from hotspots.stages.inputs import analysis_window, load_incidents, load_inputs, load_study_area

NOW = pd.Timestamp("2025-12-01 12:00", tz="Europe/London")


def _ingest(cfg_path, now=NOW):
    cfg = load_config(cfg_path)
    return load_incidents(cfg, load_study_area(cfg), now=now)


def _starts(res) -> dict[str, pd.Timestamp]:
    return dict(zip(res.incidents["incident_id"], res.incidents["start"], strict=True))


# --------------------------------------------------------------------------- dates
def test_us_dates_are_read_month_first(tmp_path):
    w = World(tmp_path)
    rows = [generic_row("D1", t="01/13/2025 10:00"), generic_row("D2", x=530600, t="02/03/2025 11:00")]
    starts = _starts(_ingest(w.generic(rows)))
    assert starts["D1"] == pd.Timestamp("2025-01-13 10:00", tz="Europe/London")
    assert starts["D2"] == pd.Timestamp("2025-02-03 11:00", tz="Europe/London")  # 3 February, not 2 March


def test_uk_dates_are_read_day_first(tmp_path):
    w = World(tmp_path)
    rows = [generic_row("D1", t="13/01/2025 10:00"), generic_row("D2", x=530600, t="02/03/2025 11:00")]
    starts = _starts(_ingest(w.generic(rows)))
    assert starts["D2"] == pd.Timestamp("2025-03-02 11:00", tz="Europe/London")  # 2 March


def test_configured_order_and_format_are_used(tmp_path):
    w = World(tmp_path)
    rows = [generic_row("D1", t="03/04/2025 10:00")]
    assert _starts(_ingest(w.generic(rows, source="dayfirst = false")))["D1"].month == 3
    w2 = World(tmp_path / "fmt")
    starts = _starts(_ingest(w2.generic(rows, source='date_format = "%d/%m/%Y %H:%M"')))
    assert starts["D1"] == pd.Timestamp("2025-04-03 10:00", tz="Europe/London")


def test_named_months_offsets_and_twelve_hour_times(tmp_path):
    w = World(tmp_path)
    rows = [
        generic_row("N1", t="10 Jan 2025 10:05"),
        generic_row("N2", x=530600, t='"Jan 11, 2025 3:15 pm"'),  # quoted: the cell holds a comma
        generic_row("N3", x=530700, t="2025-07-12T10:00:00Z"),
        generic_row("N4", x=530800, t="2025/07/13"),
    ]
    res = _ingest(w.generic(rows))
    starts = _starts(res)
    assert starts["N1"] == pd.Timestamp("2025-01-10 10:05", tz="Europe/London")
    assert starts["N2"] == pd.Timestamp("2025-01-11 15:15", tz="Europe/London")
    assert starts["N3"] == pd.Timestamp("2025-07-12 11:00", tz="Europe/London")  # 10:00 UTC is 11:00 BST
    assert starts["N4"] == pd.Timestamp("2025-07-13", tz="Europe/London")
    prec = dict(zip(res.incidents["incident_id"], res.incidents["time_precision"], strict=True))
    assert prec == {"N1": "minute", "N2": "minute", "N3": "minute", "N4": "day"}


def test_lone_numbers_and_impossible_dates_are_unreadable_never_guessed(tmp_path):
    w = World(tmp_path)
    rows = [
        generic_row("G1"),
        generic_row("X1", t="12"),  # a day number alone: dateutil would make it this month's 12th
        generic_row("X2", t="45678"),  # an Excel serial number
        generic_row("X3", t="2025-02-30"),
        generic_row("X4", t="31/31/2025"),
    ]
    res = _ingest(w.generic(rows))
    q = res.quarantine.set_index("input:ref")
    assert q["reason"].to_dict() == {"X1": "bad_date", "X2": "bad_date", "X3": "bad_date", "X4": "bad_date"}
    assert "'45678'" in q.loc["X2", "detail"]


def test_a_day_ends_at_local_midnight_on_the_day_the_clocks_change(tmp_path):
    w = World(tmp_path)
    res = _ingest(w.generic([generic_row("S1", t="2025-03-30")]))  # British Summer Time starts at 01:00
    end = res.incidents["end"].iloc[0]
    assert end == pd.Timestamp("2025-03-30 23:59:59", tz="Europe/London")


def test_naive_times_are_local_times_of_the_project_time_zone(tmp_path):
    w = World(tmp_path)
    d = 0.0059
    polys = [
        (c, n, Polygon([(x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d)])) for c, n, (x, y) in NEW_YORK
    ]
    lon, lat = NEW_YORK[0][2]
    rows = [
        f"T1,Burglary,{lon},{lat},2025-01-10 21:30,2025-01-10 21:30,x",
        f"T2,Burglary,{lon},{lat},2025-07-10 21:30,2025-07-10 21:30,x",
    ]
    cfg = w.generic(
        rows,
        header="ref,type,lon,lat,from,to,where",
        crs="EPSG:4326",
        coords='lon = "lon"\nlat = "lat"',
        project='timezone = "America/New_York"\ncrs = "EPSG:32618"',
        wards=ward_collection(polys, crs=None),
    )
    starts = _starts(_ingest(cfg, now=pd.Timestamp("2025-12-01", tz="America/New_York")))
    assert str(starts["T1"].tz) == "America/New_York"
    assert starts["T1"].tz_convert("UTC") == pd.Timestamp("2025-01-11 02:30", tz="UTC")  # EST, UTC-5
    assert starts["T2"].tz_convert("UTC") == pd.Timestamp("2025-07-11 01:30", tz="UTC")  # EDT, UTC-4


def test_configured_month_precision_covers_the_whole_month(tmp_path):
    w = World(tmp_path)
    res = _ingest(w.generic([generic_row("M1", t="2025-02-14 10:00")], source='time_precision = "month"'))
    row = res.incidents.iloc[0]
    assert row["time_precision"] == "month"
    assert row["start"] == pd.Timestamp("2025-02-01", tz="Europe/London")
    assert row["end"] == pd.Timestamp("2025-02-28 23:59:59", tz="Europe/London")


# --------------------------------------------------------------------------- text
def test_a_cp1252_line_leaves_the_utf8_lines_intact(tmp_path):
    w = World(tmp_path)
    cfg = w.generic([])
    w.write(
        "inc.csv",
        (GENERIC_HEADER + "\n").encode()
        + "A1,Robbery,530500,180500,2025-01-10,2025-01-10,On or near Café Road\n".encode()
        + "A2,Robbery,530600,180500,2025-01-11,2025-01-11,On or near Crème Lane\n".encode("cp1252")
        + "A3,Robbery,530700,180500,2025-01-12,2025-01-12,On or near Zoë Street\n".encode(),
    )
    res = _ingest(cfg)
    texts = dict(zip(res.incidents["incident_id"], res.incidents["location_text"], strict=True))
    assert texts == {"A1": "On or near Café Road", "A2": "On or near Crème Lane", "A3": "On or near Zoë Street"}
    assert any("line(s) 3" in n for n in res.notes)


def test_semicolon_files_and_crlf_line_ends_are_read(tmp_path):
    w = World(tmp_path)
    cfg = w.generic([])
    text = "ref;type;x;y;from;to;where\r\nA1;Robbery;530500;180500;2025-01-10;2025-01-10;On or near High Street\r\n"
    w.write("inc.csv", text)
    res = _ingest(cfg)
    assert res.incidents["location_text"].tolist() == ["On or near High Street"]
    assert any("semicolon" in n for n in res.notes)


def test_quoted_cells_with_commas_and_line_breaks_stay_one_row(tmp_path):
    w = World(tmp_path)
    cfg = w.generic([])
    w.write(
        "inc.csv",
        GENERIC_HEADER
        + '\nA1,Robbery,530500,180500,2025-01-10,2025-01-10,"On or near High Street, ""the parade""\nrear"\n'
        "A2,Robbery,530600,180500,2025-01-11,2025-01-11,plain\n",
    )
    res = _ingest(cfg)
    texts = dict(zip(res.incidents["incident_id"], res.incidents["location_text"], strict=True))
    assert texts["A1"] == 'On or near High Street, "the parade"\nrear'
    assert res.summary()["rows_read"] == 2


def test_a_malformed_row_is_quarantined_with_its_cells(tmp_path):
    w = World(tmp_path)
    res = _ingest(w.generic([generic_row("A1"), generic_row("B1") + ",extra,more"]))
    q = res.quarantine.iloc[0]
    assert q["reason"] == "malformed_row" and q["source_row"] == 2
    assert "line 3 has 9 fields where the header (line 1) has 7" in q["detail"]
    assert q["input:ref"] == "B1" and q["input:(extra field 2)"] == "more"


# --------------------------------------------------------------------------- places
def test_distances_are_true_metres_in_a_suitable_crs(tmp_path):
    """Two points 0.01 degree of longitude apart in Manhattan: about 843 m on the ellipsoid. In the
    local UTM zone and in New York's State Plane (feet, worked in metres) the engine measures the
    same distance within 0.1%; British National Grid would have stretched it and is refused."""
    (lon, lat) = NEW_YORK[0][2]
    geodesic = Geod(ellps="WGS84").inv(lon, lat, lon + 0.01, lat)[2]
    for crs in ("EPSG:32618", "EPSG:2263"):
        w = World(tmp_path / crs.replace(":", "_"))
        d = 0.0059
        polys = [
            (c, n, Polygon([(x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d)]))
            for c, n, (x, y) in NEW_YORK
        ]
        rows = [f"P1,Burglary,{lon},{lat},2025-01-10,,x", f"P2,Burglary,{lon + 0.01},{lat},2025-01-10,,x"]
        cfg = w.generic(
            rows,
            header="ref,type,lon,lat,from,to,where",
            crs="EPSG:4326",
            coords='lon = "lon"\nlat = "lat"',
            project=f'crs = "{crs}"',
            wards=ward_collection(polys, crs=None),
        )
        inc = _ingest(cfg).incidents.set_index("incident_id")
        measured = (
            (inc.loc["P1", "x"] - inc.loc["P2", "x"]) ** 2 + (inc.loc["P1", "y"] - inc.loc["P2", "y"]) ** 2
        ) ** 0.5
        assert measured == pytest.approx(geodesic, rel=1e-3), crs


def test_one_crime_type_for_a_source_without_the_column(tmp_path):
    w = World(tmp_path)
    rows = ["A1,530500,180500,2025-01-10,,On or near High Street"]
    cfg = w.generic(rows, header="ref,x,y,from,to,where", crime_column="", source='crime_type = "burglary_residential"')
    inc = _ingest(cfg).incidents
    assert inc["crime_type"].tolist() == ["burglary_residential"]
    assert inc["offence"].tolist() == ["Residential burglary"]  # plain words, never the code


def test_repeated_ids_across_a_csv_and_its_gz_copy_are_refused_not_doubled(tmp_path):
    w = World(tmp_path)
    cfg = w.police({"2025-01.csv": [police_row()] * 2, "2025-01.csv.gz": [police_row()] * 2})
    with pytest.raises(InputError, match="both hold Metropolitan Police Service crimes for 2025-01"):
        _ingest(cfg)


# --------------------------------------------------------------------------- the meeting date and the window
def _monthly_burglaries(w: World, year: int = 2012) -> World:
    """One police.uk burglary in ward W1 in each month of ``year`` and of the next January, and a
    population file: 400 households in W1."""
    files = {f"{year}-{m:02d}.csv": [police_row(f"{year}-{m:02d}")] for m in range(1, 13)}
    files[f"{year + 1}-01.csv"] = [police_row(f"{year + 1}-01")]
    w.police(files)
    w.write("population.csv", "ward_code,population,households\nW1,1000,400\nW2,900,300\n")
    body = (
        (w.root / "run.toml")
        .read_text()
        .replace('wards = "wards.geojson"', 'wards = "wards.geojson"\npopulation = "population.csv"')
    )
    (w.root / "run.toml").write_text(body)
    return w


def test_month_data_use_whole_months_and_the_true_window_length(tmp_path):
    from hotspots.stages import ward_table
    from hotspots.stages.results import RunResults

    w = _monthly_burglaries(World(tmp_path))
    inp = load_inputs(load_config(w.root / "run.toml"), "2013-01-01", now=NOW)
    assert inp.window.label == "2012-01-01 to 2012-12-31 (366 days, 12 whole months)"
    table = ward_table.run(RunResults(inputs=inp)).set_index("ward_code")
    assert table.loc["W1", "burglaries"] == 12  # January 2012 is not cut off
    expected = round(1000 * 12 / 400 / (366 / 365.25), 2)
    assert table.loc["W1", "burglary_rate_per_1000_households"] == pytest.approx(expected)
    assert (table["window"] == inp.window.label).all()


def test_the_window_is_days_for_day_and_minute_data():
    fim = pd.Timestamp("2025-11-14", tz="Europe/London")
    win = analysis_window(fim, 365, "minute", "Europe/London")
    assert win.start == pd.Timestamp("2024-11-14", tz="Europe/London") and win.end == fim
    assert win.days == 365 and win.months == 0
    mid = analysis_window(pd.Timestamp("2018-06-15", tz="Europe/London"), 365, "month", "Europe/London")
    assert mid.label == "2017-06-01 to 2018-05-31 (365 days, 12 whole months)"


def test_without_date_the_meeting_is_the_day_after_the_latest_incident(tmp_path):
    w = World(tmp_path)
    rows = [generic_row("A1", t="2025-01-10 09:00"), generic_row("A2", x=530600, t="2025-01-13 23:10")]
    lines: list[str] = []
    rep = Reporter(quiet=True)
    rep.quiet = False
    rep.say = lines.append  # type: ignore[method-assign]
    inp = load_inputs(load_config(w.generic(rows)), None, rep, now=NOW)
    assert inp.fim_date == pd.Timestamp("2025-01-14", tz="Europe/London")
    assert sorted(inp.incidents["incident_id"]) == ["A1", "A2"]  # the latest day's incident is used
    assert "the day after the latest incident (2025-01-13)" in inp.choices["fim_date"]
    said = "\n".join(lines)
    assert "chose: meeting date 2025-01-14" in said and "FIM date 2025-01-14" in said


def test_the_pack_records_the_meeting_date_and_how_it_was_chosen(tmp_path):
    from hotspots import pipeline

    w = World(tmp_path)
    rows = [generic_row(f"A{i}", x=530100 + 90 * i, t=f"2025-01-{1 + i:02d} 10:30") for i in range(20)]
    cfg = load_config(w.generic(rows))
    out = pipeline.run(cfg, out_dir=tmp_path / "pack", quiet=True, stages=(), now=NOW)
    man = json.loads((out / "manifest.json").read_text())
    assert man["fim_date"] == "2025-01-21"
    assert man["fim_date_chosen"].startswith("meeting date 2025-01-21: the day after the latest incident")
    assert man["analysis_window"] == "2024-01-22 to 2025-01-20 (365 days)"  # 2024 is a leap year
    given = pipeline.run(cfg, "2025-01-15", out_dir=tmp_path / "pack2", quiet=True, stages=(), now=NOW)
    assert json.loads((given / "manifest.json").read_text())["fim_date_chosen"] == "given (--date)"


def test_a_meeting_date_given_as_a_date_object_is_its_calendar_day(tmp_path):
    import datetime as dt

    from hotspots.model import parse_meeting_date

    today = dt.date(2025, 12, 1)
    assert parse_meeting_date(dt.date(2025, 1, 14), today=today) == dt.date(2025, 1, 14)
    assert parse_meeting_date(dt.datetime(2025, 1, 14, 23, 30), today=today) == dt.date(2025, 1, 14)
    late_evening = pd.Timestamp("2025-01-14 23:30", tz="Europe/London")
    assert parse_meeting_date(late_evening, today=today) == dt.date(2025, 1, 14)
    with pytest.raises(InputError, match=r"--date NaT is not a date"):
        parse_meeting_date(pd.NaT, today=today)
    with pytest.raises(InputError, match=r"--date 3000-01-01 is more than a year after today"):
        parse_meeting_date(dt.date(3000, 1, 1), today=today)
    w = World(tmp_path)
    rows = [generic_row("A1", t="2025-01-10 09:00"), generic_row("A2", x=530600, t="2025-01-13 23:10")]
    inp = load_inputs(load_config(w.generic(rows)), dt.date(2025, 1, 13), now=NOW)
    assert inp.fim_date == pd.Timestamp("2025-01-13", tz="Europe/London")
    assert list(inp.incidents["incident_id"]) == ["A1"]  # A2 ends on the meeting day, after midnight
