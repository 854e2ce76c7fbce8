"""briefing.pdf, the printable FIM briefing: read back with pypdf from the demo pack (page count, A4, the top
place's id and street, the live alert zones' expiry dates, the footer) and checked piece by piece (escaping,
plain-word changes, the protective-marking setting). The Barnet pack's briefing is checked in
``test_pack.py::test_barnet_pack_from_real_data``; byte-identical reruns in ``test_rerun_identical.py``."""

from __future__ import annotations

import io
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import DEMO_CONFIG, build_demo_pack

pypdf = pytest.importorskip("pypdf")

A4_PT = (595.28, 841.89)


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    return build_demo_pack(tmp_path_factory)


def pdf_pages(path: Path) -> list[str]:
    """The text of every page, whitespace runs made single spaces (table cells wrap across lines)."""
    reader = pypdf.PdfReader(str(path))
    return [re.sub(r"\s+", " ", p.extract_text()) for p in reader.pages]


def check_a4(path: Path) -> int:
    """Every page is A4 portrait (595 x 842 pt, within 1 pt); returns the page count."""
    reader = pypdf.PdfReader(str(path))
    for page in reader.pages:
        box = page.mediabox
        assert abs(float(box.width) - A4_PT[0]) <= 1 and abs(float(box.height) - A4_PT[1]) <= 1
    return len(reader.pages)


def day(t) -> str:
    """A date as the briefing prints it, written out independently: 'Thu 27 Nov 2025'."""
    d = pd.Timestamp(t)
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b')} {d.year}"


def test_demo_briefing_reads_back(pack):
    pdf = pack / "briefing.pdf"
    n = check_a4(pdf)
    assert 2 <= n <= 6
    pages = pdf_pages(pdf)
    text = " ".join(pages)
    top = pd.read_csv(pack / "tasking.csv").iloc[0]
    street = str(top["place_name"]).split(",")[0]
    assert str(top["item_id"]) in text and street in text
    assert f"1. {top['place_name']}" in pages[1]  # the top place opens the places pages
    for k, page in enumerate(pages, start=1):
        assert f"Page {k} of {n}" in page
        assert "meeting Fri 14 Nov 2025" in page
        assert "Open Government Licence" in page
        assert page.count("OFFICIAL-SENSITIVE") == 2  # the demo config's marking, top and bottom
    # no raw crime-type code anywhere (plain words only)
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text)


def test_demo_briefing_streams_are_compressed_not_ascii85_and_its_maps_decode(pack):
    """The place maps are stored as compressed binary streams (no pure-Python ASCII85 pass), they
    decode to full pictures; ReportLab's process-wide setting is changed only during a build."""
    from reportlab import rl_config

    from hotspots.render import briefing as B

    raw = (pack / "briefing.pdf").read_bytes()
    assert b"/FlateDecode" in raw and b"/ASCII85Decode" not in raw
    reader = pypdf.PdfReader(str(pack / "briefing.pdf"))
    pictures = [img.image for page in reader.pages for img in page.images]
    assert len(pictures) >= 2 and all(min(p.size) > 100 and p.getextrema() for p in pictures)
    before = rl_config.useA85
    with B._plain_compressed_streams():
        assert not rl_config.useA85
    assert rl_config.useA85 == before


def test_demo_briefing_lists_live_zones_with_their_expiry(pack):
    zones = gpd.read_file(pack / "layers.gpkg", layer="near_repeat_zones")
    assert len(zones) > 12  # the demo plants more zones than the briefing lists
    text = " ".join(pdf_pages(pack / "briefing.pdf"))
    expiry = pd.to_datetime(zones["expiry_date"])
    assert f"{len(zones)} live alert zones, expiring between {day(expiry.min())} and {day(expiry.max())}" in text
    zones = zones.assign(expiry=expiry).sort_values(
        ["n_burglaries", "expiry", "zone_id"], ascending=[False, False, True]
    )
    listed = zones.head(12)
    for zid, ex in zip(listed["zone_id"], listed["expiry"], strict=True):
        row = re.search(rf"{zid} (.*?) (\w{{3}} \d{{1,2}} \w{{3}} \d{{4}})", text)
        assert row is not None and row.group(2) == day(ex), zid
    assert f"And {len(zones) - 12} more" in text


def test_data_strings_are_never_markup(tmp_path):
    """A place name or tactic with reportlab markup prints literally (escaped), and breaks nothing."""
    from reportlab.platypus import SimpleDocTemplate

    from hotspots.render import briefing as B
    from hotspots.render.briefing_content import PlaceCard, TacticLine
    from hotspots.render.briefing_maps import MAP_DPI

    B._register_fonts()
    evil = "<b>Oak & Ash</b> <font size=40>Road</font>"
    card = PlaceCard(
        rank=1,
        item_id="T1-01",
        place_name=evil,
        ward_name="Ward <i>",
        status="new",
        main_crime="Robbery",
        crime_types="Robbery 3",
        incidents=3,
        harm=3,
        change="",
        stability="",
        near_repeat="",
        expires=None,
        owner="SNT & partners",
        tactics=(TacticLine("Patrol <br/> & watch", "15 minutes", "SNT & partners", "Robbery at night"),),
        delivered="",
        geometry=None,
        x=0.0,
        y=0.0,
    )
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=MAP_DPI)
    plt.close(fig)
    out = tmp_path / "card.pdf"
    SimpleDocTemplate(str(out), invariant=1).build([B._card(card, buf.getvalue(), "count", B._styles())])
    text = " ".join(pdf_pages(out))
    assert "<b>Oak & Ash</b> <font size=40>Road</font>" in text
    assert "Patrol <br/> & watch" in text and "Ward <i>" in text


def test_changes_in_plain_words():
    from hotspots.render.briefing_content import _change_words, change_text, span_text

    assert change_text(110, 100) == "+10%"
    assert change_text(90, 100) == "-10%"
    assert change_text(1001, 1000) == "no change"  # 0.1%: not "+0%"
    assert change_text(5, 0) == "new" and change_text(0, 0) == "no change"
    assert _change_words(2748, 2750, "the month before") == "about the same as the month before (2,750)"
    assert _change_words(455, 480, "the fortnight before") == "5% fewer than the fortnight before (480)"
    assert _change_words(12, 8, "the month before") == "50% more than the month before (8)"
    assert span_text("2025-11-02", "2025-11-02") == "2 Nov"
    assert span_text("2025-11-02", "2025-11-13") == "2 to 13 Nov"
    assert span_text("2025-10-30", "2025-11-03") == "30 Oct to 3 Nov"


def test_forecast_methods_in_plain_words():
    from hotspots.render.briefing_content import method_words

    assert method_words("naive_12m") == "counts of the last 12 months"
    assert (
        method_words("blend(kde,naive_12m)")
        == "an equal blend of: Recent crime density and Counts of the last 12 months"
    )
    assert method_words("kde+relocated") == "recent crime density (history moved onto the current locations)"
    assert method_words("seasonal_knn") == "seasonal knn"  # a new method never shows its identifier


def test_protective_marking_setting():
    from hotspots.config import load_config
    from hotspots.errors import ConfigError

    cfg = load_config(DEMO_CONFIG)
    assert cfg.render.protective_marking == "OFFICIAL-SENSITIVE"
    assert cfg.override("render", protective_marking="OFFICIAL").render.protective_marking == "OFFICIAL"
    with pytest.raises(ConfigError, match=r"\[render\] protective_marking"):
        cfg.override("render", protective_marking="OFFICIAL\nSECRET")


def test_track_record_chart_fills_its_slot():
    """With a track record the forecast section carries the chart (an image) and its figures in words."""
    from reportlab.platypus import Image, Paragraph

    from hotspots.render import briefing as B
    from hotspots.render.briefing_content import TrackRecord

    B._register_fonts()
    rec = TrackRecord(("2018-01", "2018-02", "2018-03"), (0.30, 0.25, 0.35), (0.20, 0.22, 0.21), 0.05, "kde")
    png = B.track_record_png(rec.periods, rec.chosen, rec.naive, rec.share)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == B.track_record_png(rec.periods, rec.chosen, rec.naive, 0.05)
    content = _empty_content()
    import dataclasses

    with_record = B._rest(dataclasses.replace(content, track_record=rec), B._styles())
    without = B._rest(content, B._styles())
    assert any(isinstance(f, Image) for f in with_record) and not any(isinstance(f, Image) for f in without)
    assert rec.mean_chosen == pytest.approx(0.30) and rec.mean_naive == pytest.approx(0.21)
    nan = TrackRecord(("a", "b"), (0.2, float("nan")), (0.1, float("nan")), 0.05, "kde")
    assert nan.mean_chosen == pytest.approx(0.2)  # a period without crimes has no hit rate
    assert all(isinstance(f, (Paragraph, Image)) for f in with_record)


def _empty_content():
    from hotspots.render.briefing_content import BriefingContent, Headline, HeadlineRow

    total = HeadlineRow("All crime", 0, 0, 0)
    return BriefingContent(
        project="Test",
        meeting=pd.Timestamp("2018-06-15"),
        review=pd.Timestamp("2018-06-29"),
        marking="OFFICIAL",
        credit="",
        harm_unit="count",
        headline=Headline("", "month", "", "", "", (), (), total, ""),
        places=(),
        other_places=(),
        list_notes=(),
        status_counts={"new": 0, "continuing": 0, "escalated": 0, "closed": 0},
        zones=(),
        zones_more=0,
        zones_note="",
        gaps=(),
        gaps_more=0,
        gaps_note="",
        forecast_note="",
        track_record=None,
        concentration="",
    )


def test_concentration_section_has_its_paragraph_and_chart():
    """The concentration section carries its paragraph and a chart (an image) of the Gini per period when there is
    a trend to draw; with a paragraph but no trend, the paragraph alone."""
    import dataclasses

    from reportlab.platypus import Image, KeepTogether, Paragraph

    from hotspots.render import briefing as B
    from hotspots.render.briefing_content import ConcentrationTrend

    B._register_fonts()
    trend = ConcentrationTrend(("2021", "2022", "2023"), (0.85, 0.79, 0.85), (0.64, 0.51, 0.64))
    png = B.concentration_png(trend.periods, trend.gini, trend.generalised)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == B.concentration_png(trend.periods, trend.gini, trend.generalised)
    content = dataclasses.replace(_empty_content(), concentration="The top 5% of places hold 47% of crime.")

    def flat(flowables):  # the section is kept together on one page: look inside
        out = []
        for f in flowables:
            out += flat(f._content) if isinstance(f, KeepTogether) else [f]
        return out

    with_chart = flat(B._rest(dataclasses.replace(content, concentration_trend=trend), B._styles()))
    text_only = flat(B._rest(content, B._styles()))
    assert sum(isinstance(f, Image) for f in with_chart) == 1 and not any(isinstance(f, Image) for f in text_only)
    heads = [f.getPlainText() for f in with_chart if isinstance(f, Paragraph)]
    assert "How concentrated crime is" in heads and "The top 5% of places hold 47% of crime." in heads
    assert not any(isinstance(f, Image) for f in flat(B._rest(_empty_content(), B._styles())))


def test_demo_briefing_shows_how_concentrated_crime_is(pack):
    text = " ".join(pdf_pages(pack / "briefing.pdf"))
    assert "How concentrated crime is" in text


def test_place_map_roads_drawn_together_give_the_picture_of_one_line_each(monkeypatch):
    """The small maps draw every road near a place as one collection; the PNG is byte for byte the one drawn
    with a line per road (round caps, the roads' colour and width), multi-part roads and crossings included."""
    import numpy as np
    import shapely
    from matplotlib.lines import Line2D

    from hotspots.render import briefing_maps as bm
    from hotspots.render.palette import LAYER_STYLES

    crs = "EPSG:27700"
    wards = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 600, 800), shapely.box(600, 0, 1200, 800)], crs=crs)
    rng = np.random.default_rng(3)
    lines = [shapely.LineString(rng.uniform(0, 1200, (int(rng.integers(2, 6)), 2))) for _ in range(40)]
    lines.append(shapely.MultiLineString([[(50, 50), (1100, 700)], [(50, 700), (1100, 60), (900, 10)]]))
    roads = gpd.GeoDataFrame(geometry=lines, crs=crs)
    ctx = bm.MapContext(wards, roads, None, (), (), 51.6)
    place = shapely.box(500, 300, 700, 500)

    drawn = bm.place_map_png(ctx, 1, place)

    def line_per_road(ax, ctx, box):
        rs = LAYER_STYLES["roads"]
        for g in ctx.roads.cx[box[0] : box[2], box[1] : box[3]].geometry:
            for part in getattr(g, "geoms", [g]):
                xy = np.asarray(part.coords)
                ax.add_artist(
                    Line2D(xy[:, 0], xy[:, 1], color=rs.colour, linewidth=1.4, zorder=1, solid_capstyle="round")
                )

    context = bm._context_layers

    def without_roads(ax, ctx, box):
        context(ax, bm.MapContext(ctx.wards, None, None, (), (), ctx.latitude), box)

    def with_a_line_per_road(ax, ctx, box):
        without_roads(ax, ctx, box)
        line_per_road(ax, ctx, box)

    monkeypatch.setattr(bm, "_context_layers", with_a_line_per_road)
    reference = bm.place_map_png(ctx, 1, place)
    assert drawn == reference
    monkeypatch.setattr(bm, "_context_layers", without_roads)
    assert bm.place_map_png(ctx, 1, place) != drawn  # the roads are on the map
