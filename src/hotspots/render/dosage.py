"""The patrol dosage page (``dosage.html``): was the patrol asked for delivered, and what happened.

For each place of the last list: the patrol asked for and delivered (visits, minutes, share, flag), the
dwell-time chart with the Koper 10-15 minute band (an inline SVG drawn from the counts, so the page works
offline and a rerun writes the same bytes), and the outcomes (crime and harm in the place and around it
against matched untasked places, the weighted displacement difference, and patrol minutes against the
change in harm); and, when a randomised patrol experiment has ended, its evaluation (patrol against no-patrol
days or places, on harm and on counts, with intervals; :mod:`.experiment`). Every string from the data
reaches the page as a value of the autoescaped template ``templates/dosage.html``. Unit pseudonyms are not
shown on the page (the CSVs beside it have them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.dosage import KOPER
from ..stages.dosage_result import DosageResult
from ..stages.results import RunResults
from .experiment import evaluation_context
from .report import env

__all__ = ["dwell_chart_svg", "page_context", "render_dosage"]

#: Plain words for the compliance flags.
FLAG_WORDS = {
    "on target": "on target",
    "under-dosed": "under-dosed (less than asked)",
    "over-dosed": "over-dosed (much more than asked)",
    "not visited": "not visited",
}

#: Chart size in SVG user units (scales to the page width).
_W, _H, _PAD = 600, 240, 40


def _num(v: float, fmt: str = "{:,.0f}") -> str:
    return fmt.format(v) if v is not None and np.isfinite(v) else ""


def dwell_chart_svg(d: DosageResult) -> dict[str, Any]:
    """Bars of visits per dwell-time bin with the Koper band shaded, as numbers for the template's SVG."""
    dist = d.visits.dwell_distribution()
    n = len(dist)
    top = max(int(dist["visits"].max()) if n else 0, 1)
    bw = (_W - 2 * _PAD) / max(n, 1)
    bars = []
    for k, r in enumerate(dist.itertuples(index=False)):
        h = (_H - 2 * _PAD) * r.visits / top
        bars.append(
            {
                "x": round(_PAD + k * bw + 2, 1),
                "y": round(_H - _PAD - h, 1),
                "w": round(bw - 4, 1),
                "h": round(h, 1),
                "label": f"{r.bin} min",
                "count": int(r.visits),
                "koper": r.koper != "shorter" and r.koper != "longer",
                "tx": round(_PAD + k * bw + bw / 2, 1),
            }
        )
    band = [b for b in bars if b["koper"]]
    shade = (
        {"x": band[0]["x"] - 2, "w": round(band[-1]["x"] + band[-1]["w"] + 2 - band[0]["x"] + 2, 1)} if band else None
    )
    return {"w": _W, "h": _H, "pad": _PAD, "base": _H - _PAD, "bars": bars, "band": shade, "top": top}


def _compliance_rows(d: DosageResult) -> list[dict[str, str]]:
    rows = []
    for r in d.compliance.table.itertuples(index=False):
        pid = str(r.place_id)
        rows.append(
            {
                "id": pid,
                "place": d.place_names.get(pid, ""),
                "asked": d.asked.get(pid, str(r.dosage)),
                "asked_visits": _num(r.asked_visits, "{:,.1f}"),
                "asked_minutes": _num(r.asked_minutes),
                "visits": str(int(r.visits)),
                "minutes": _num(r.minutes),
                "share": _num(100 * r.compliance_minutes, "{:.0f}%"),
                "median": _num(r.median_visit_minutes, "{:.1f}"),
                "koper": _num(100 * r.share_koper_band, "{:.0f}%"),
                "flag": FLAG_WORDS.get(str(r.flag), str(r.flag)),
                "flag_class": str(r.flag).replace(" ", "-"),
            }
        )
    return rows


def _outcome_rows(d: DosageResult) -> tuple[list[dict[str, str]], list[str]]:
    o = d.outcomes
    if o is None:
        return [], []
    rows = []
    t = o.table
    for r in t.to_dict("records"):
        pid = str(r["place_id"])
        rows.append(
            {
                "id": pid,
                "place": d.place_names.get(pid, ""),
                "before": _num(r.get("count_before", np.nan)),
                "during": _num(r.get("count_during", np.nan)),
                "harm_before": _num(r.get("harm_before", np.nan)),
                "harm_during": _num(r.get("harm_during", np.nan)),
                "wdd": _num(r.get("wdd_harm", np.nan), "{:,.1f}"),
                "minutes_week": _num(r.get("minutes_per_week", np.nan), "{:,.0f}"),
            }
        )
    lines = []
    for kind, words in (("count", "crimes"), ("harm", "harm")):
        p = o.pooled.get(kind, {})
        if p:
            wdd = _num(p.get("wdd", np.nan), "{:,.1f}")
            lo = _num(p.get("ci_low", np.nan), "{:,.1f}")
            hi = _num(p.get("ci_high", np.nan), "{:,.1f}")
            lines.append(
                f"All places together, weighted displacement difference on {words}: {wdd} (95% interval {lo} to "
                f"{hi}); below zero means crime fell in the places more than in the matched places, without "
                "moving next door."
            )
    dr = o.dose_response
    if dr is not None and dr.n >= 3 and np.isfinite(dr.slope_per_10_minutes):
        lines.append(
            f"Patrol and harm: each extra 10 minutes a week went with a change in harm of "
            f"{dr.slope_per_10_minutes:+,.1f} (95% interval {dr.ci[0]:+,.1f} to {dr.ci[1]:+,.1f}; {dr.n} places)."
        )
    return rows, lines


def page_context(res: RunResults, d: DosageResult) -> dict[str, Any]:
    """Everything ``dosage.html`` shows (plain values only)."""
    out_rows, out_lines = _outcome_rows(d)
    flags = d.flag_counts()
    s = d.summary()
    pos = s["positions"]
    return {
        "project": res.cfg.project.name,
        "fim_date": f"{res.fim_date:%Y-%m-%d}",
        "start": f"{d.period[0]:%Y-%m-%d}",
        "end": f"{d.period[1]:%Y-%m-%d}",
        "source": "GPS pings from patrol radios and vehicles" if d.source == "gps" else "the patrol log",
        "read": pos.get("rows_read", 0),
        "accepted": pos.get("accepted", 0),
        "quarantined": pos.get("quarantined", 0),
        "units": pos.get("units", ""),
        "flags": [{"flag": FLAG_WORDS.get(k, k), "n": v} for k, v in flags.items()],
        "rows": _compliance_rows(d),
        "visits": s["visits"],
        "minutes": _num(s["minutes"]),
        "asked_minutes": _num(s["asked_minutes"]),
        "drive_throughs": s["drive_throughs"],
        "chart": dwell_chart_svg(d),
        "koper_low": f"{KOPER.low_minutes:g}",
        "koper_high": f"{KOPER.high_minutes:g}",
        "koper_finding": KOPER.finding,
        "koper_source": KOPER.source,
        "settings": d.visits.settings,
        "automatic": list(d.visits.automatic.values()),
        "window_hours": f"{res.cfg.dosage.peak_window_hours:g}",
        "under": f"{100 * res.cfg.dosage.under:.0f}%",
        "over": f"{100 * res.cfg.dosage.over:.0f}%",
        "outcomes": out_rows,
        "outcome_lines": out_lines,
        "notes": list(d.notes),
        "previous": d.previous_pack,
        "pseudonyms": d.pseudonymisation,
    }


def render_dosage(res: RunResults, out: Path) -> Path | None:
    """Write ``dosage.html`` into ``out``: the patrol delivered (when the dosage stage ran) and the evaluation
    of an ended patrol experiment (when there is one); None when there is neither."""
    d = res.dosage
    ev = res.experiment.evaluation if res.experiment is not None else None
    if d is None and ev is None:
        return None
    if d is not None:
        ctx = page_context(res, d)
    else:
        ctx = {
            "project": res.cfg.project.name,
            "fim_date": f"{res.fim_date:%Y-%m-%d}",
            "start": f"{ev.plan.start:%Y-%m-%d}" if ev is not None else "",
            "end": f"{res.fim_date:%Y-%m-%d}",
            "not_measured": res.not_run.get("dosage", "not run"),
        }
    ctx["measured"] = d is not None
    ctx["experiment"] = evaluation_context(ev) if ev is not None else None
    page = Path(out) / "dosage.html"
    page.write_text(env().get_template("dosage.html").render(**ctx), encoding="utf-8")
    return page
