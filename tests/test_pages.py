"""index.html and tasking.html speak plain words: no crime-type code, forecast method name or stage name on
a page; the headline's changes agree with their counts; the forecast's track record is quoted and charted;
every page says which meeting date it is for, the data's period and source."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import build_demo_pack

from hotspots.config.sections import CANONICAL_CRIME_TYPES
from hotspots.forecast.methods import NEEDS_TIMES, default_method_names
from hotspots.render.pages.forecast import BOTTOM, CHART_H, CHART_W, LEFT, RIGHT, TOP, track_record_chart
from hotspots.render.pages.headline import change


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    return build_demo_pack(tmp_path_factory)


class _Text(HTMLParser):
    """The text a reader sees, without the names of files shown as links to themselves (gis/kde_....tif)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._href: list[str | None] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href.append(dict(attrs).get("href"))
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "a" and self._href:
            self._href.pop()
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if self._skip or (self._href and self._href[-1] == data.strip()):
            return
        self.parts.append(data)


def page_text(path: Path) -> str:
    p = _Text()
    p.feed(path.read_text(encoding="utf-8"))
    return " ".join(p.parts)


#: Internal names no reader should meet: multi-word crime-type codes, forecast method names (but the English
#: words "prospective", "learned" and "blend"), stage names and result columns.
RAW_NAMES = sorted(
    {c for c in CANONICAL_CRIME_TYPES if "_" in c}
    | (
        {*default_method_names("day"), *default_method_names("month"), *NEEDS_TIMES}
        - {"prospective", "learned", "blend"}
    )
    | {"nearrepeat", "ward_table", "main_crime_type", "hit_rate", "pai_1", "pai_5", "trend_class"}
)
PAGES = ("index.html", "tasking.html", "public/index.html", "concentration.html", "dosage.html")


def test_no_page_shows_a_raw_code_or_method_name(pack):
    pages = [pack / p for p in PAGES if (pack / p).exists()]
    assert {p.name for p in pages} >= {"index.html", "tasking.html"}
    present = set(pd.read_csv(pack / "tasking.csv")["crime_types"].astype(str))  # the demo has these codes
    assert present
    for p in pages:
        text = page_text(p)
        found = [n for n in RAW_NAMES if re.search(rf"(?<![\w/.]){re.escape(n)}(?![\w(])", text)]
        assert found == [], (p.name, found)
        assert "blend(" not in text and "knox_for_incidents" not in text, p.name


def test_the_scan_would_catch_a_raw_code(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<p>Crime: violence_and_sexual_offences, criminal_damage_arson; method naive_12m.</p>")
    text = page_text(bad)
    assert [n for n in RAW_NAMES if re.search(rf"(?<![\w/.]){re.escape(n)}(?![\w(])", text)] == [
        "criminal_damage_arson",
        "naive_12m",
    ]


@pytest.mark.parametrize(
    ("now", "then", "shown", "cls"),
    [
        (2748, 2750, "0%", ""),  # -0.07%: never "-0%"
        (19, 19, "no change", ""),
        (3, 2, "+50%", "up"),
        (82, 74, "+11%", "up"),
        (125, 162, "-23%", "down"),
        (5, 0, "new", "up"),
        (0, 0, "no change", ""),
    ],
)
def test_a_change_agrees_with_its_counts(now, then, shown, cls):
    assert change(now, then) == (shown, cls)


def test_headline_changes_on_the_page_agree_with_the_counts_beside_them(pack):
    html = (pack / "index.html").read_text()
    table = html.split("<h2>Headline")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([^<]+)</td>((?:<td[^>]*>[^<]*</td>)+)</tr>", table)
    assert len(rows) >= 5
    for name, cells in rows:
        v = re.findall(r"<td[^>]*>([^<]*)</td>", cells)
        now, prev, pc = int(v[0].replace(",", "")), int(v[1].replace(",", "")), v[2]
        assert pc == change(now, prev)[0], name
        assert not pc.startswith("-0") and not pc.startswith("+0"), name
        assert name[0].isupper() and "_" not in name


def test_index_and_tasking_say_the_meeting_date_period_and_source(pack):
    for name in ("index.html", "tasking.html"):
        text = page_text(pack / name)
        assert "Meeting date 14 Nov 2025: given with --date." in text, name
        assert "Data from " in text and "the analysis uses the 365 days from 14 Nov 2024 to 13 Nov 2025" in text
        assert "Source: recorded crime (incidents.csv)." in text, name


def test_the_forecast_quotes_its_out_of_sample_record_and_charts_it(pack):
    html = (pack / "index.html").read_text()
    text = page_text(pack / "index.html")
    section = text.split("Forecast", 1)[1]
    m = re.search(
        r"at (?:each of the last (\d+) forecast dates|the last forecast date) the method was chosen exactly as "
        r"today.*?top 5% of the map then held (\d+)% of the next fortnight's crimes on average; counts of the "
        r"last 12 months held (\d+)%",
        section,
    )
    assert m, section[:600]
    n = int(m.group(1) or 1)
    lines = re.findall(r'<polyline points="([^"]+)"', html.split('id="track-record"')[-1].split("</svg>")[0])
    if n >= 2:  # a chart of the record, one point per date for each line
        assert 'id="track-record"' in html and [len(pts.split()) for pts in lines] == [n, n]
    else:  # one date is a sentence, not a chart
        assert 'id="track-record"' not in html
    assert "Top 5% of the map: share of the next fortnight's crimes" in text and "PAI (predictive accuracy" in text


def test_the_track_record_chart_puts_each_figure_where_it_belongs():
    rec = pd.DataFrame(
        {
            "origin": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
            "hit_rate": [0.10, 0.20, 0.15],
            "baseline": [0.05, 0.10, np.nan],  # a date without a figure is left out, not drawn as zero
        }
    )
    c = track_record_chart(rec, "Counts of the last 12 months")
    assert c is not None and c["n"] == 2
    w, h = CHART_W - LEFT - RIGHT, CHART_H - TOP - BOTTOM
    pts = [tuple(map(float, p.split(","))) for p in c["chosen"].split()]
    # axis top is 20% (the largest figure rounded up to 5 points): 10% halfway up, 20% at the top
    assert pts == [(LEFT, round(TOP + h * 0.5, 1)), (LEFT + w, TOP)]
    assert [t["label"] for t in c["ticks"]] == ["0%", "5%", "10%", "15%", "20%"]
    assert [t["label"] for t in c["xlabels"]] == ["Jan 2025", "Feb 2025"]
    assert track_record_chart(rec, "x") == c | {"baseline_name": "x"}  # same record, same numbers
    assert track_record_chart(rec.head(1), "x") is None
