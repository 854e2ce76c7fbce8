"""``briefing.pdf``: the printable A4 briefing the FIM chair hands round.

Layout (reportlab platypus, no browser, no system library):

* **cover**: the headline changes in plain words (the last fortnight, or the
  last whole month for police.uk month data, against the period before and the
  same period last year), the busiest crime types, the places on the list at a
  glance, and what the list leaves out and why;
* **top places**: the first :data:`~.briefing_content.TOP_PLACES` items of the
  tasking list, three to a page, each with a small map (street names from the
  incidents' own location texts, ward boundaries, roads, the place outlined
  with its rank) beside its problems, figures, tactics, owner and any live
  alert zone;
* **the rest of the list**, the **live near-repeat alert zones** with the last
  day each runs to, the **CCTV gaps**, the **forecast's track record** and **how
  concentrated crime is** (one paragraph and a chart of the plain and the
  generalised Gini, period by period).

Every page carries the protective marking (``[render] protective_marking``) at
the top and bottom, and a footer with the meeting date, the page number ("Page
2 of 5"), the data source and the Open Government Licence credit.

Every string from the data is escaped (:func:`esc`) before it reaches
reportlab's paragraph markup: data are never markup. The document is written
with ``invariant=1`` and images of fixed size and metadata, so the same inputs
give the same bytes. Fonts: DejaVu Sans, shipped with matplotlib (every
character of a street name prints; embedded as a subset).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .. import __version__
from ..stages.results import RunResults, TaskingList
from .briefing_content import BriefingContent, PlaceCard, briefing_content, change_text, count_text, day_text, span_text
from .briefing_maps import concentration_png, map_context, place_map_png, track_record_png

#: File name of the briefing in the pack.
BRIEFING_PDF = "briefing.pdf"

#: Page margins (points).
MARGIN = 15 * mm
TOP = 17 * mm
BOTTOM = 21 * mm
#: Width of the text block (points).
WIDTH = A4[0] - 2 * MARGIN
#: Side of a small map on the page (points).
MAP_SIDE = 52 * mm
#: At most this many tactics per place are printed (the rest are in tasking.html).
MAX_TACTICS = 4

_FONT = "BriefingSans"
_BOLD = "BriefingSans-Bold"
_ITALIC = "BriefingSans-Oblique"
_GREY = colors.HexColor("#555555")
_RULE = colors.HexColor("#bbbbbb")
_HEAD_BG = colors.HexColor("#e8e8e8")


def esc(text: object) -> str:
    """``text`` as literal text for a reportlab Paragraph (``<``, ``>`` and ``&`` escaped; data are never
    markup)."""
    return escape("" if text is None else str(text))


def _register_fonts() -> None:
    if _FONT in pdfmetrics.getRegisteredFontNames():
        return
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(_FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(_BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFont(TTFont(_ITALIC, str(ttf / "DejaVuSans-Oblique.ttf")))
    pdfmetrics.registerFontFamily(_FONT, normal=_FONT, bold=_BOLD, italic=_ITALIC, boldItalic=_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=_FONT, fontSize=8.5, leading=11)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=_BOLD, fontSize=17, leading=21, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10.5, leading=14, textColor=_GREY),
        "h1": ParagraphStyle("h1", parent=base, fontName=_BOLD, fontSize=12.5, leading=16, spaceBefore=8, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontName=_BOLD, fontSize=10, leading=13, spaceAfter=2),
        "body": base,
        "bullet": ParagraphStyle("bullet", parent=base, leftIndent=10, bulletIndent=2, spaceAfter=1.5),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "note": ParagraphStyle("note", parent=base, fontSize=7.5, leading=9.5, textColor=_GREY),
        "card": ParagraphStyle("card", parent=base, fontSize=7.2, leading=8.8),
        "cardbullet": ParagraphStyle(
            "cardbullet", parent=base, fontSize=7.2, leading=8.8, leftIndent=8, bulletIndent=0
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.2),
        "cellhead": ParagraphStyle("cellhead", parent=base, fontName=_BOLD, fontSize=7.5, leading=9.2),
    }


def _table(
    head: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float], st: dict[str, ParagraphStyle]
) -> Table:
    """A table of plain-text cells (escaped here), heading row repeated on a new page."""
    data = [[Paragraph(esc(h), st["cellhead"]) for h in head]]
    data += [[Paragraph(esc(c), st["cell"]) for c in r] for r in rows]
    t = Table(data, colWidths=list(widths), repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), _HEAD_BG),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, _RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return t


# --------------------------------------------------------------------------- the pages
def _cover(c: BriefingContent, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    h = c.headline
    out: list[Flowable] = [
        Paragraph("Fortnightly Intelligence Meeting briefing", st["title"]),
        Paragraph(esc(c.project), st["subtitle"]),
        Paragraph(
            f"Meeting {esc(day_text(c.meeting))}. Actions reviewed at the next meeting, {esc(day_text(c.review))}.",
            st["subtitle"],
        ),
        Spacer(1, 4 * mm),
        Paragraph("Headline changes", st["h1"]),
    ]
    out += [Paragraph(esc(s), st["bullet"], bulletText="•") for s in h.sentences]
    rows = [
        [
            r.crime_type,
            count_text(r.current),
            count_text(r.previous),
            change_text(r.current, r.previous),
            count_text(r.last_year),
            change_text(r.current, r.last_year),
        ]
        for r in (*h.rows, h.total)
    ]
    out += [
        Spacer(1, 2 * mm),
        _table(
            [
                "Crime type",
                f"This {h.kind} ({h.current_label})",
                f"The {h.kind} before ({h.previous_label})",
                "Change",
                f"Same {h.kind} last year ({h.last_year_label})",
                "Change",
            ],
            rows,
            [0.3 * WIDTH, 0.16 * WIDTH, 0.16 * WIDTH, 0.09 * WIDTH, 0.2 * WIDTH, 0.09 * WIDTH],
            st,
        ),
        Paragraph(esc(h.note + (" The busiest crime types are listed." if len(h.rows) > 1 else "")), st["note"]),
        Paragraph("This meeting's places", st["h1"]),
    ]
    sc = c.status_counts
    out.append(
        Paragraph(
            esc(
                f"{len(c.places) + len(c.other_places)} places on the list: {sc['new']} new, {sc['continuing']} "
                f"continuing, {sc['escalated']} escalated; {sc['closed']} closed since the last meeting. The first "
                f"{len(c.places)} are on the next pages with a map each."
            ),
            st["body"],
        )
    )
    out.append(Spacer(1, 1.5 * mm))
    out.append(
        _table(
            ["Rank", "Id", "Place", "Main problem", "Status", "Owner"],
            [[str(p.rank), p.item_id, p.place_name, p.main_crime, p.status, p.owner] for p in c.places],
            [0.06 * WIDTH, 0.12 * WIDTH, 0.25 * WIDTH, 0.2 * WIDTH, 0.1 * WIDTH, 0.27 * WIDTH],
            st,
        )
    )
    notes = list(c.list_notes)
    if notes:
        out += [Spacer(1, 2 * mm)] + [Paragraph(esc(n), st["note"]) for n in notes]
    return out


def _card(p: PlaceCard, png: bytes, harm_unit: str, st: dict[str, ParagraphStyle]) -> Flowable:
    """One place: its small map beside its figures, owner and tactics (one per problem)."""
    ward = f", {p.ward_name} ward" if p.ward_name and p.ward_name not in p.place_name else ""
    s = st["card"]
    lines: list[Flowable] = [
        Paragraph(f"{p.rank}. {esc(p.place_name)}{esc(ward)}", st["h2"]),
        Paragraph(f"Id {esc(p.item_id)} · {esc(p.status)} · main problem: {esc(p.main_crime)}", st["note"]),
        Paragraph(
            f"<b>Crime types (incidents):</b> {esc(p.crime_types)}. <b>In all:</b> {esc(count_text(p.incidents))} "
            f"incidents, harm {esc(count_text(p.harm))} ({esc(harm_unit)}).",
            s,
        ),
    ]
    if p.change:
        lines.append(Paragraph(f"<b>Since the last meeting:</b> {esc(p.change)}", s))
    if p.stability:
        lines.append(Paragraph(f"<b>Chronic or acute:</b> {esc(p.stability)}", s))
    if p.expires is not None:
        lines.append(Paragraph(f"<b>Near-repeat alert zone live until {esc(day_text(p.expires))}.</b>", s))
    lines.append(Paragraph(f"<b>Owner:</b> {esc(p.owner)}", s))
    if p.delivered:
        lines.append(Paragraph(f"<b>Asked for and delivered since the last meeting:</b> {esc(p.delivered)}", s))
    for t in p.tactics[:MAX_TACTICS]:
        who = "" if t.owner == p.owner else f" ({t.owner})"
        lines.append(
            Paragraph(
                f"<b>{esc(t.problems)}:</b> {esc(t.tactic)}; <i>{esc(t.dosage)}</i>{esc(who)}.",
                st["cardbullet"],
                bulletText="•",
            )
        )
    if len(p.tactics) > MAX_TACTICS:
        more = len(p.tactics) - MAX_TACTICS
        lines.append(Paragraph(esc(f"and {more} more tactic{'s' if more > 1 else ''}: see tasking.html"), st["note"]))
    img = Image(io.BytesIO(png), width=MAP_SIDE, height=MAP_SIDE)
    card = Table([[img, lines]], colWidths=[MAP_SIDE + 4 * mm, WIDTH - MAP_SIDE - 4 * mm])
    card.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, _RULE),
            ]
        )
    )
    return KeepTogether([card])


def _places(res: RunResults, c: BriefingContent, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    if not c.places:
        return [Paragraph("Top places", st["h1"]), Paragraph("The tasking list is empty.", st["body"])]
    ctx = map_context(res, [(p.rank, p.geometry) for p in (*c.places, *c.other_places)])
    out: list[Flowable] = [
        Paragraph("Top places", st["h1"]),
        Paragraph(
            "Each map shows the place outlined in black with its rank, other places on the list in grey, live "
            "near-repeat alert zones in purple (dashed), ward boundaries (grey dashes), roads and street names.",
            st["note"],
        ),
        Spacer(1, 2 * mm),
    ]
    out += [_card(p, place_map_png(ctx, p.rank, p.geometry), c.harm_unit, st) for p in c.places]
    return out


def _rest(c: BriefingContent, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = []
    if c.other_places:
        out += [
            Paragraph("The rest of the list", st["h1"]),
            _table(
                ["Rank", "Id", "Place", "Main problem", "Status", "Owner"],
                [[str(p.rank), p.item_id, p.place_name, p.main_crime, p.status, p.owner] for p in c.other_places],
                [0.06 * WIDTH, 0.12 * WIDTH, 0.25 * WIDTH, 0.2 * WIDTH, 0.1 * WIDTH, 0.27 * WIDTH],
                st,
            ),
        ]
    out += [Paragraph("Live near-repeat alert zones", st["h1"]), Paragraph(esc(c.zones_note), st["body"])]
    if c.zones:
        out += [
            Spacer(1, 1.5 * mm),
            _table(
                ["Zone", "Streets", "Ward", "Burglaries", "Burglaries on", "Live until"],
                [
                    [
                        z.zone_id,
                        z.streets,
                        z.ward_name,
                        str(z.burglaries),
                        span_text(z.first, z.last),
                        day_text(z.expires),
                    ]
                    for z in c.zones
                ],
                [0.08 * WIDTH, 0.3 * WIDTH, 0.14 * WIDTH, 0.1 * WIDTH, 0.23 * WIDTH, 0.15 * WIDTH],
                st,
            ),
        ]
        if c.zones_more:
            out.append(Paragraph(esc(f"And {c.zones_more} more: every zone is on the maps."), st["note"]))
    out += [Paragraph("CCTV gaps", st["h1"]), Paragraph(esc(c.gaps_note), st["body"])]
    if c.gaps:
        out += [
            Spacer(1, 1.5 * mm),
            _table(
                ["Place", "Ward", "Crime", f"Harm cameras do not see ({c.harm_unit})", "Share cameras see"],
                [
                    [g.place, g.ward_name, g.crime_types, count_text(g.harm_unseen), f"{100 * g.seen_share:.0f}%"]
                    for g in c.gaps
                ],
                [0.3 * WIDTH, 0.17 * WIDTH, 0.27 * WIDTH, 0.14 * WIDTH, 0.12 * WIDTH],
                st,
            ),
        ]
        if c.gaps_more:
            out.append(
                Paragraph(esc(f"And {c.gaps_more} more on the map (the 'CCTV coverage gaps' layer)."), st["note"])
            )
    out += [Paragraph("Forecast track record", st["h1"]), Paragraph(esc(c.forecast_note), st["body"])]
    rec = c.track_record
    if rec is not None:
        png = track_record_png(rec.periods, rec.chosen, rec.naive, rec.share, rec.baseline)
        out.append(Image(io.BytesIO(png), width=WIDTH, height=WIDTH * 2.3 / 6.6))
    if c.concentration:
        section: list[Flowable] = [
            Paragraph("How concentrated crime is", st["h1"]),
            Paragraph(esc(c.concentration), st["body"]),
        ]
        ct = c.concentration_trend
        if ct is not None:
            png = concentration_png(ct.periods, ct.gini, ct.generalised)
            section.append(Image(io.BytesIO(png), width=WIDTH, height=WIDTH * 2.3 / 6.6))
        out.append(KeepTogether(section))  # the chart stays with its paragraph
    return out


# --------------------------------------------------------------------------- page furniture
def _canvas_maker(c: BriefingContent) -> Callable[..., Canvas]:
    """A canvas class that holds the pages back until the end, so each footer can say "Page n of m"."""

    class BriefingCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # reportlab's own page reset, not in the stubs

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                _furniture(self, c, self.getPageNumber(), total)
                super().showPage()
            super().save()

    return BriefingCanvas


def _furniture(cv: Canvas, c: BriefingContent, page: int, total: int) -> None:
    """Protective marking at the top and bottom; the footer with the meeting date, page number and credit."""
    w, h = A4
    cv.saveState()
    if c.marking:
        cv.setFont(_BOLD, 10)
        cv.drawCentredString(w / 2, h - 10 * mm, c.marking)
        cv.drawCentredString(w / 2, 6 * mm, c.marking)
    cv.setStrokeColor(_RULE)
    cv.setLineWidth(0.5)
    cv.line(MARGIN, BOTTOM - 4 * mm, w - MARGIN, BOTTOM - 4 * mm)
    cv.setFont(_FONT, 7.5)
    cv.setFillColor(colors.black)
    cv.drawString(MARGIN, BOTTOM - 8 * mm, f"FIM briefing, meeting {day_text(c.meeting)}")
    cv.drawRightString(w - MARGIN, BOTTOM - 8 * mm, f"Page {page} of {total}")
    cv.setFont(_FONT, 6.5)
    cv.setFillColor(_GREY)
    cv.drawString(MARGIN, BOTTOM - 11.5 * mm, c.credit)
    cv.restoreState()


@contextlib.contextmanager
def _plain_compressed_streams() -> Iterator[None]:
    """Build with the PDF's streams compressed but not ASCII85-encoded (ReportLab's ``useA85``).

    ReportLab encodes ASCII85 in pure Python: half a second of a briefing with six place maps, for a
    file a quarter larger. Every PDF reader reads plain compressed streams. The setting is
    ReportLab's, for the whole process, so it is put back afterwards."""
    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before


def write_briefing(res: RunResults, tasking: TaskingList, path: str | Path) -> Path:
    """Write the briefing of ``res`` (with its tasking list) to ``path`` as an A4 PDF; returns the path."""
    _register_fonts()
    content = briefing_content(res, tasking)
    st = _styles()
    story: list[Flowable] = _cover(content, st)
    story.append(PageBreak())
    story += _places(res, content, st)
    story.append(PageBreak())
    story += _rest(content, st)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=f"FIM briefing, meeting {day_text(content.meeting)}",
        author=content.project,
        subject="Fortnightly Intelligence Meeting briefing",
        creator=f"hotspots {__version__}",
        invariant=1,
    )
    with _plain_compressed_streams():
        doc.build(story, canvasmaker=_canvas_maker(content))
    out = Path(path)
    out.write_bytes(buf.getvalue())
    return out
