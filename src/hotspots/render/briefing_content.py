"""What the printable FIM briefing says, in plain words, as typed values (no layout here).

:func:`briefing_content` reads the typed run results and the tasking list and
returns a :class:`BriefingContent`: the headline changes (the last fortnight, or
the last whole month for police.uk month data, against the period before and the
same period last year), the top places (the first items of the tasking list, one
per place), the live near-repeat alert zones with the last day each runs to, the
CCTV gap places (named by their streets and ward)
and the forecast's track record when the run has one. Every string here is plain
text taken from the data: the layout (:mod:`hotspots.render.briefing`) escapes it
before it reaches reportlab's paragraph markup.

Positions and geometries are in the working CRS (metres).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..stages.concentration_result import ConcentrationResult
from ..stages.results import RunResults, TaskingList
from ..vocabulary import crime_type_label, forecast_method_label
from .concentration import briefing_paragraph
from .public_maps import OGL_CREDIT
from .report import headline

#: Places of the tasking list shown with a small map each (the rest are listed in one table).
TOP_PLACES = 6
#: At most this many alert zones and CCTV gaps are listed (the rest are counted, and all are on the maps).
MAX_ZONES = 12
MAX_GAPS = 8
#: Crime types listed in the cover's headline table (the busiest this period).
HEADLINE_TYPES = 8


def day_text(t: Any) -> str:
    """A date as the briefing prints it: ``Fri 27 Jun 2025`` (day of the week, no leading zero)."""
    d = pd.Timestamp(t)
    return f"{d:%a} {d.day} {d:%b %Y}"


def count_text(n: float) -> str:
    """A whole number with thousands separators: ``2,345``."""
    return f"{round(float(n)):,}"


def change_text(now: int, then: int) -> str:
    """The change from ``then`` to ``now`` as a percentage (``+12%``, ``-5%``, ``no change``; ``new`` from 0)."""
    if then == 0:
        return "new" if now else "no change"
    pct = 100.0 * (now - then) / then
    return "no change" if abs(pct) < 0.5 else f"{pct:+.0f}%"


def span_text(first: Any, last: Any) -> str:
    """Two days as a short span: ``1 Nov``, ``1 to 3 Nov``, ``30 Oct to 3 Nov`` (the year is the meeting's)."""
    a, b = pd.Timestamp(first), pd.Timestamp(last)
    if a.normalize() == b.normalize():
        return f"{a.day} {a:%b}"
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day} to {b.day} {b:%b}"
    return f"{a.day} {a:%b} to {b.day} {b:%b}"


@dataclass(frozen=True)
class HeadlineRow:
    """One crime type (plain words) in the current period, the period before and the same period last year."""

    crime_type: str
    current: int
    previous: int
    last_year: int


@dataclass(frozen=True)
class Headline:
    """The cover's headline changes: ``period`` (e.g. "the month to 31 May 2018"), the period names,
    ``sentences`` (plain words), ``rows`` (the busiest crime types) and ``total`` (all crime)."""

    period: str
    kind: str
    current_label: str
    previous_label: str
    last_year_label: str
    sentences: tuple[str, ...]
    rows: tuple[HeadlineRow, ...]
    total: HeadlineRow
    note: str


@dataclass(frozen=True)
class TacticLine:
    """One tactic of a place: what, how much, who, and the problems it answers (plain words)."""

    tactic: str
    dosage: str
    owner: str
    problems: str


@dataclass(frozen=True)
class PlaceCard:
    """One place of the tasking list as the briefing shows it. ``geometry`` is the place's outline and
    ``x, y`` a point inside it (working CRS, metres); ``expires`` the last live day of its alert zone (None
    without one); ``delivered`` the patrol delivered since the last meeting ("" until patrol data are read)."""

    rank: int
    item_id: str
    place_name: str
    ward_name: str
    status: str
    main_crime: str
    crime_types: str
    incidents: int
    harm: int
    change: str
    stability: str
    near_repeat: str
    expires: pd.Timestamp | None
    owner: str
    tactics: tuple[TacticLine, ...]
    delivered: str
    geometry: Any
    x: float
    y: float


@dataclass(frozen=True)
class ZoneRow:
    """A live near-repeat alert zone: id, streets, ward, burglaries, first and last burglary, last live day."""

    zone_id: str
    streets: str
    ward_name: str
    burglaries: int
    first: pd.Timestamp
    last: pd.Timestamp
    expires: pd.Timestamp


@dataclass(frozen=True)
class GapRow:
    """A CCTV gap place: its name (streets), ward, crime types, the harm cameras do not see there and the
    share they do."""

    place: str
    ward_name: str
    crime_types: str
    harm_unseen: int
    seen_share: float


@dataclass(frozen=True)
class TrackRecord:
    """The forecast's out-of-sample track record, period by period: ``periods`` (labels), ``chosen`` and
    ``naive`` hit rates (0..1: share of the next period's incidents in the flagged ``share`` of the area)
    of the method the pack's rule chose at each origin and of naive counts (``baseline``, in words), and the
    ``method`` used now, in words."""

    periods: tuple[str, ...]
    chosen: tuple[float, ...]
    naive: tuple[float, ...]
    share: float
    method: str
    baseline: str = "counts of the last 12 months"

    @property
    def mean_chosen(self) -> float:
        """Mean hit rate over the periods with crimes (a period with none has no hit rate)."""
        return float(np.nanmean(self.chosen))

    @property
    def mean_naive(self) -> float:
        return float(np.nanmean(self.naive))


@dataclass(frozen=True)
class ConcentrationTrend:
    """How concentrated crime was, period by period, for the briefing's chart: ``periods`` (labels), the plain
    ``gini`` and the ``generalised`` Gini (0 = crime spread evenly over the places, 1 = all in one place; the
    generalised one allows for there being fewer crimes than places)."""

    periods: tuple[str, ...]
    gini: tuple[float, ...]
    generalised: tuple[float, ...]


@dataclass(frozen=True)
class BriefingContent:
    """Everything the briefing prints (see the module docstring)."""

    project: str
    meeting: pd.Timestamp
    review: pd.Timestamp
    marking: str
    credit: str
    harm_unit: str
    headline: Headline
    places: tuple[PlaceCard, ...]
    other_places: tuple[PlaceCard, ...]
    list_notes: tuple[str, ...]
    status_counts: dict[str, int]
    zones: tuple[ZoneRow, ...]
    zones_more: int
    zones_note: str
    gaps: tuple[GapRow, ...]
    gaps_more: int
    gaps_note: str
    forecast_note: str
    track_record: TrackRecord | None
    concentration: str
    not_run: dict[str, str] = field(default_factory=dict)
    concentration_trend: ConcentrationTrend | None = None


# --------------------------------------------------------------------------- headline
def _change_words(now: int, then: int, what: str) -> str:
    """``"12% fewer than the month before (2,440)"`` / ``"the same as ..."`` / ``"... (none)"``."""
    if then == 0:
        return f"none in {what}" if now else f"none in {what} either"
    pct = 100.0 * (now - then) / then
    if abs(pct) < 0.5:
        return f"about the same as {what} ({count_text(then)})"
    word = "more" if pct > 0 else "fewer"
    return f"{abs(pct):.0f}% {word} than {what} ({count_text(then)})"


def _headline(res: RunResults) -> Headline:
    h = headline(res)
    kind = "month" if "month" in h["period_label"] else "fortnight"
    before, last_year = f"the {kind} before", f"the same {kind} last year"

    def row(r: dict[str, Any]) -> HeadlineRow:
        name = "All crime" if r["crime_type"] == "all" else crime_type_label(r["crime_type"])
        return HeadlineRow(name, int(r["current"]), int(r["previous"]), int(r["last_year"]))

    total = row(h["total"])
    rows = tuple(row(r) for r in h["rows"])
    sentences = [
        f"{count_text(total.current)} crimes in {h['period_label']}: "
        f"{_change_words(total.current, total.previous, before)} and "
        f"{_change_words(total.current, total.last_year, last_year)}."
    ]
    moved = sorted(rows, key=lambda r: (-(r.current - r.previous), r.crime_type))
    rises = [r for r in moved if r.current - r.previous >= 5][:3]
    falls = [r for r in reversed(moved) if r.previous - r.current >= 5][:3]
    if rises:
        sentences.append(
            f"Biggest rises on {before}: "
            + "; ".join(f"{r.crime_type} up {r.current - r.previous:,} to {r.current:,}" for r in rises)
            + "."
        )
    if falls:
        sentences.append(
            f"Biggest falls on {before}: "
            + "; ".join(f"{r.crime_type} down {r.previous - r.current:,} to {r.current:,}" for r in falls)
            + "."
        )
    if not rises and not falls:
        sentences.append(f"No crime type rose or fell by 5 or more on {before}.")
    return Headline(
        period=h["period_label"],
        kind=kind,
        current_label=h["current_label"],
        previous_label=h["previous_label"],
        last_year_label=h["last_year_label"],
        sentences=tuple(sentences),
        rows=rows[:HEADLINE_TYPES],
        total=total,
        note=h["explain"].strip(),
    )


# --------------------------------------------------------------------------- places
def _text(v: object) -> str:
    if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v)


def _whole(v: object) -> int:
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iat[0]
    return 0 if pd.isna(x) else int(round(float(x)))


def _cards(tl: TaskingList) -> list[PlaceCard]:
    items = tl.items
    out = []
    for i in range(len(items)):
        r = items.iloc[i]
        iid = str(r["item_id"])
        tactics = tuple(TacticLine(t.tactic, t.dosage, t.owner, "; ".join(t.problems)) for t in tl.tactics.get(iid, ()))
        expires = pd.Timestamp(r["expires"]) if "expires" in items.columns and pd.notna(r["expires"]) else None
        delivered = tl.delivered.get(iid)
        out.append(
            PlaceCard(
                rank=_whole(r["rank"]),
                item_id=iid,
                place_name=_text(r["place_name"]),
                ward_name=_text(r["ward_name"]),
                status=_text(r["status"]),
                main_crime=_text(r["main_crime"]),
                crime_types=_text(r["crime_types"]),
                incidents=_whole(r["incidents"]),
                harm=_whole(r["harm"]),
                change=_text(r["change"]) if "change" in tl.column_keys else "",
                stability=_text(r["stability"]) if "stability" in tl.column_keys else "",
                near_repeat=_text(r["near_repeat_window"]) if expires is not None else "",
                expires=expires,
                owner=_text(r["owner"]),
                tactics=tactics,
                delivered=delivered.describe() if delivered is not None else "",
                geometry=r.geometry,
                x=float(r["x"]),
                y=float(r["y"]),
            )
        )
    return out


# --------------------------------------------------------------------------- names of places
def _ward_at(wards: gpd.GeoDataFrame, geoms: Sequence[Any]) -> list[str]:
    """The name of the ward holding a point inside each geometry ("" outside every ward)."""
    if not len(geoms):
        return []
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    tree = shapely.STRtree(wards.geometry.to_numpy())
    src, hit = tree.query(pts, predicate="within")
    names = [""] * len(pts)
    for s, w in sorted(zip(src.tolist(), hit.tolist(), strict=True)):
        if not names[s]:
            names[s] = str(wards["ward_name"].iat[w])
    return names


# --------------------------------------------------------------------------- near repeat, CCTV, forecast
def _zones(res: RunResults) -> tuple[tuple[ZoneRow, ...], int, str]:
    nr = res.nearrepeat
    if nr is None:
        why = res.not_run.get("nearrepeat", "not run")
        return (), 0, f"No near-repeat alert zones: the near-repeat analysis did not run ({why})."
    z = nr.zones
    counted = f"The near-repeat analysis covers {nr.burglaries_text()}."
    if not len(z):
        return (), 0, f"{nr.zones_sentence()} {counted}"
    wards = _ward_at(res.area.wards, list(z.geometry))
    rows = []
    for k in range(len(z)):
        streets = [s.strip() for s in _text(z["streets"].iat[k]).split(";") if s.strip()]
        shown = "; ".join(streets[:3]) + (f" and {len(streets) - 3} more" if len(streets) > 3 else "")
        rows.append(
            ZoneRow(
                zone_id=_text(z["zone_id"].iat[k]),
                streets=shown,
                ward_name=wards[k],
                burglaries=_whole(z["n_burglaries"].iat[k]),
                first=pd.Timestamp(z["first_event_date"].iat[k]),
                last=pd.Timestamp(z["last_event_date"].iat[k]),
                expires=pd.Timestamp(z["expiry_date"].iat[k]),
            )
        )
    first, last = min(r.expires for r in rows), max(r.expires for r in rows)
    when = f"on {day_text(first)}" if first == last else f"between {day_text(first)} and {day_text(last)}"
    rows.sort(key=lambda r: (-r.burglaries, -r.expires.value, r.zone_id))
    shown = f"; the {MAX_ZONES} with the most burglaries are listed" if len(rows) > MAX_ZONES else ""
    note = (
        f"{len(rows)} live alert zone{'s' if len(rows) != 1 else ''}, expiring {when}{shown}. A zone covers "
        f"the homes near recent burglaries, where the risk of another is raised until the date shown. {counted}"
    )
    return tuple(rows[:MAX_ZONES]), max(0, len(rows) - MAX_ZONES), note


def _gaps(res: RunResults) -> tuple[tuple[GapRow, ...], int, str]:
    cov = res.coverage
    if cov is None:
        return (), 0, f"No CCTV gaps: the camera coverage analysis did not run ({res.not_run.get('coverage', '')})."
    g = cov.gaps
    if not len(g):
        return (), 0, "No CCTV gaps: cameras see most of the harm in every hotspot."
    rows = [
        GapRow(
            place=_text(g["name"].iat[k]),
            ward_name=_text(g["ward_name"].iat[k]) + (f" (also {o})" if (o := _text(g["other_wards"].iat[k])) else ""),
            crime_types=_text(g["crime_types"].iat[k]),
            harm_unseen=_whole(g["harm_uncovered"].iat[k]),
            seen_share=float(g["covered_share"].iat[k]),
        )
        for k in range(len(g))
    ]
    sm = cov.summary()
    start, end = day_text(sm["period"]["start"]), day_text(sm["period"]["end"])
    note = (
        f"Live cameras see {100 * sm['share_harm_covered']:.0f}% of harm from {start} to {end}. These places "
        "have high harm that cameras see little of, most unseen harm first."
    )
    return tuple(rows[:MAX_GAPS]), max(0, len(rows) - MAX_GAPS), note


def method_words(name: str) -> str:
    """A forecast method in plain words for the middle of a sentence: the one naming rule
    (:func:`~hotspots.vocabulary.forecast_method_label`) without its capital; ``kde`` -> "recent crime density"."""
    words = forecast_method_label(name)
    return words[:1].lower() + words[1:]


def _period_label(origin: pd.Timestamp, monthly: bool) -> str:
    return f"{origin:%b %Y}" if monthly else f"{origin.day} {origin:%b}"


def _track_record(res: RunResults) -> TrackRecord | None:
    """The forecast's out-of-sample track record (:class:`~hotspots.forecast.selection.TrackRecord`: at each
    past origin, the method the pack's own rule chose from earlier results only, scored on the next period,
    against naive counts), or None when the method was configured or there was too little history."""
    fc = res.forecast
    if fc is None or fc.selection is None or not len(fc.selection.record.table):
        return None
    rec = fc.selection.record
    t = rec.table.sort_values("origin")
    origins = [pd.Timestamp(o) for o in t["origin"]]
    monthly = "month" in fc.horizon.label
    return TrackRecord(
        periods=tuple(_period_label(o, monthly) for o in origins),
        chosen=tuple(float(v) for v in t["hit_rate"]),
        naive=tuple(float(v) for v in t["baseline"]),
        share=float(rec.rule.share),
        method=method_words(fc.method),
        baseline=method_words(rec.baseline),
    )


def _forecast_note(res: RunResults, record: TrackRecord | None) -> str:
    fc = res.forecast
    if fc is None:
        return f"No forecast: the forecast stage did not run ({res.not_run.get('forecast', 'not run')})."
    head = (
        f"The forecast from {day_text(fc.origin)} ({fc.horizon.label} ahead, using {method_words(fc.method)}) is "
        "on the map (the 'Forecast' layer)."
    )
    if record is None:
        why = (
            "the method is set in the configuration"
            if fc.selected_by == "configured"
            else "there is too little history"
        )
        return head + (
            f" It has no track record to show: {why}, so no method was chosen, period by period, from earlier results."
        )
    k = f"{100 * record.share:g}%"
    n = len(record.periods)
    return head + (
        f" Its track record over the last {n} period{'s' if n != 1 else ''}, each chosen as this one was from "
        f"earlier results only: the {k} of the area it flagged held {100 * record.mean_chosen:.0f}% of the "
        f"next period's crimes on average; {record.baseline} would have held {100 * record.mean_naive:.0f}%."
    )


# --------------------------------------------------------------------------- all of it
def data_credit(res: RunResults) -> str:
    """Data source and the Open Government Licence credit, for the footer."""
    police_uk = any(src.format == "police_uk" for src in res.cfg.incidents)
    return ("Crime data: police.uk. " if police_uk else "Crime data: recorded crime. ") + OGL_CREDIT + "."


def briefing_content(res: RunResults, tasking: TaskingList) -> BriefingContent:
    """Everything the briefing prints, from the run's typed results and its tasking list."""
    cards = _cards(tasking)
    zones, zones_more, zones_note = _zones(res)
    gaps, gaps_more, gaps_note = _gaps(res)
    record = _track_record(res)
    conc = res.concentration
    return BriefingContent(
        project=res.cfg.project.name,
        meeting=tasking.fim_date,
        review=tasking.review_date,
        marking=res.cfg.render.protective_marking,
        credit=data_credit(res),
        harm_unit=tasking.harm_unit,
        headline=_headline(res),
        places=tuple(cards[:TOP_PLACES]),
        other_places=tuple(cards[TOP_PLACES:]),
        list_notes=tasking.omitted_notes(),
        status_counts=tasking.status_counts(),
        zones=zones,
        zones_more=zones_more,
        zones_note=zones_note,
        gaps=gaps,
        gaps_more=gaps_more,
        gaps_note=gaps_note,
        forecast_note=_forecast_note(res, record),
        track_record=record,
        concentration=briefing_paragraph(conc) if conc is not None and len(conc.yearly()) else "",
        not_run=dict(res.not_run),
        concentration_trend=_concentration_trend(conc),
    )


def _concentration_trend(conc: ConcentrationResult | None) -> ConcentrationTrend | None:
    """The plain and generalised Gini per period (None without at least two periods: no trend to draw)."""
    if conc is None:
        return None
    df = conc.yearly()
    if len(df) < 2:
        return None
    return ConcentrationTrend(
        periods=tuple(str(p) for p in df["period"]),
        gini=tuple(float(v) for v in df["gini"]),
        generalised=tuple(float(v) for v in df["generalised_gini"]),
    )
