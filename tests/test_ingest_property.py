"""Property: whatever CSV arrives, ingest reconciles exactly or stops with a clear HotspotsError.

Hypothesis writes incident files with random rows (good and bad coordinates,
dates in ISO, UK, US and named-month forms, garbage, the far past and future,
repeated ids, accented and multi-line location text), random encodings
(UTF-8, UTF-8 with BOM, Windows-1252, UTF-16), delimiters, quoting and line
ends. For every file the test knows what each row should become; ingest must
either

* account for every row: accepted + quarantined = rows written, each
  quarantined row with the reason this row deserves, each accepted row with
  exactly the coordinates, start time, crime type and location written; or
* raise a :class:`~hotspots.errors.HotspotsError` that names the file,

and never raise anything else.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_bad_input import World

from hotspots.config import load_config
from hotspots.errors import HotspotsError
from hotspots.stages.inputs import ingest_settings, load_study_area

NOW = pd.Timestamp("2026-01-01 12:00", tz="Europe/London")
HEADER = ["ref", "type", "x", "y", "from", "to", "where"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

#: Accented letters whose Windows-1252 bytes (0xC0-0xFF) can never form a UTF-8 sequence, so a
#: Windows-1252 file holding them is recognised as not UTF-8 (any reader would be guessing otherwise).
ACCENTED = "éèàçñöüÉÜ"


@dataclass(frozen=True)
class Row:
    ref: str
    label: str
    x: str
    y: str
    date_kind: str  # "valid", "garbage", "empty", "future", "ancient"
    when: dt.datetime
    location: str
    coord_kind: str  # "inside", "outside", "empty", "text", "huge"


coord_kinds = st.sampled_from(["inside"] * 12 + ["outside", "empty", "text", "huge"])
date_kinds = st.sampled_from(["valid"] * 12 + ["garbage", "empty", "future", "ancient"])
moments = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2025, 10, 31)).map(
    lambda d: d.replace(hour=9 + d.hour % 12, second=0, microsecond=0)  # 09:00-20:59: clear of clock changes
)
locations = st.text(alphabet=st.sampled_from(list("abc XYZ,;|'\"\n\t-") + list(ACCENTED)), max_size=25)


@st.composite
def rows(draw) -> Row:
    kind = draw(coord_kinds)
    if kind == "inside":
        x = repr(draw(st.floats(530050, 531950)))
        y = repr(draw(st.floats(180050, 180950)))
    elif kind == "outside":
        x, y = repr(draw(st.floats(540000, 560000))), repr(draw(st.floats(180050, 180950)))
    elif kind == "empty":
        x, y = "", "180500"
    elif kind == "text":
        x, y = draw(st.sampled_from(["abc", "nan", "530,500", "--1"])), "180500"
    else:
        x, y = draw(st.sampled_from(["1e155", "inf", "-1e400", "1e9"])), "180500"
    return Row(
        ref=draw(st.sampled_from(["", "R1", "R2", "R3"]) | st.integers(10, 10_000).map(lambda i: f"C{i}")),
        label=draw(st.sampled_from(["Robbery", "Burglary", "Shoplifting", "Unicorn theft"])),
        x=x,
        y=y,
        date_kind=draw(date_kinds),
        when=draw(moments),
        location=draw(locations),
        coord_kind=kind,
    )


def render_date(row: Row, style: str) -> str:
    w = row.when
    if row.date_kind == "garbage":
        return "not a date"
    if row.date_kind == "empty":
        return ""
    if row.date_kind == "future":
        return "2999-01-01 10:00"
    if row.date_kind == "ancient":
        return "1677-01-01 10:00"
    if style == "uk":
        return f"{w:%d/%m/%Y %H:%M}"
    if style == "us":
        return f"{w:%m/%d/%Y %H:%M}"
    if style == "named":
        return f"{w.day} {MONTHS[w.month - 1]} {w.year} {w:%H:%M}"
    return f"{w:%Y-%m-%d %H:%M}"


MAPPED = {"robbery": "robbery", "burglary": "burglary", "shoplifting": "shoplifting"}


def expected_reasons(data: list[Row]) -> list[str]:
    """What each row must become ('' = accepted), in the order ingest checks (see REASONS)."""
    out, seen = [], set()
    for r in data:
        reason = {"empty": "missing_coordinates", "text": "non_numeric_coordinates"}.get(r.coord_kind, "")
        if r.coord_kind == "huge":
            reason = "impossible_coordinates"
        if not reason:
            reason = {
                "garbage": "bad_date",
                "empty": "bad_date",
                "ancient": "implausible_date",
                "future": "future_date",
            }.get(r.date_kind, "")
        if not reason and r.label.lower() not in MAPPED:
            reason = "unmapped_crime_type"
        if not reason and r.coord_kind == "outside":
            reason = "outside_study_area"
        if not reason and r.ref:
            reason = "duplicate_id" if r.ref in seen else ""
            seen.add(r.ref)
        out.append(reason)
    return out


def write_file(path: Path, data: list[Row], style: str, delimiter: str, quoting: int, newline: str, encoding: str):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    writer.writerow(HEADER)
    for r in data:
        d = render_date(r, style)
        writer.writerow([r.ref, r.label, r.x, r.y, d, d, r.location])
    path.write_bytes(buf.getvalue().encode(encoding))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("property"))
    cfg = load_config(w.generic([]))
    return w, cfg, load_study_area(cfg)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=st.lists(rows(), min_size=1, max_size=25),
    style=st.sampled_from(["iso", "uk", "us", "named"]),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    newline=st.sampled_from(["\n", "\r\n"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_ingest_reconciles_or_refuses_clearly(world, data, style, delimiter, quoting, newline, encoding):
    from hotspots.ingest import read_incidents

    w, cfg, area = world
    path = w.root / "inc.csv"
    write_file(path, data, style, delimiter, quoting, newline, encoding)
    try:
        res = read_incidents(cfg.incidents, area, ingest_settings(cfg), now=NOW)
    except HotspotsError as exc:
        assert path.name in str(exc), f"the message does not name the file: {exc}"
        event(f"refused: {str(exc).split(': ', 1)[1][:40]}")
        return
    n_accepted = sum(1 for r in expected_reasons(data) if not r)
    event(f"reconciled, {n_accepted if n_accepted < 5 else '5 or more'} rows accepted")
    summary = res.summary()
    assert summary["rows_read"] == len(data)
    assert summary["accepted"] + summary["quarantined"] == len(data) and summary["reconciles"]
    want = expected_reasons(data)
    got = [""] * len(data)
    for row, reason in zip(res.quarantine["source_row"], res.quarantine["reason"], strict=True):
        got[int(row) - 1] = reason
    assert got == want
    accepted = [r for r, reason in zip(data, want, strict=True) if not reason]
    inc = res.incidents.reset_index(drop=True)
    by_row = {int(i.rsplit("#", 1)[1]) if "#" in i else None: k for k, i in enumerate(inc["incident_id"])}
    by_ref = {i: k for k, i in enumerate(inc["incident_id"])}
    for n, r in enumerate(data, start=1):
        if want[n - 1]:
            continue
        k = by_ref[r.ref] if r.ref else by_row[n]
        got_row = inc.loc[k]
        assert got_row["x"] == float(r.x) and got_row["y"] == float(r.y)
        assert got_row["start"] == pd.Timestamp(r.when).tz_localize("Europe/London")
        assert got_row["crime_type"] == MAPPED[r.label.lower()]
        assert got_row["location_text"] == r.location.strip()
    assert len(accepted) == len(inc)
