"""The concentration page (``concentration.html``), its charts, and the words the command and the briefing use.

The page says, in plain words, how concentrated crime and harm are and whether that is changing (with
the Lorenz curves), which places a count-based list would miss once harm is weighed (harm spots against
count spots), which places are chronic, rising, falling or flaring up (a small static map), and how
robust the hotspots are to another grid or search radius. Every string from the data reaches the
page as a value of the autoescaped template ``templates/concentration.html``. Charts are PNG files
drawn with matplotlib (Agg) at a fixed size and DPI with no date in their metadata, so a rerun
writes the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd

from ..analysis.concentration import concentration
from ..analysis.trajectories import Trajectories
from ..stages.concentration_result import SHARE_COLUMNS, YEARLY_COLUMNS, ConcentrationResult
from ..stages.results import RunResults
from ..vocabulary import crime_type_label, crime_type_list
from .palette import TRAJECTORY_COLOURS
from .report import env

matplotlib.use("Agg")
import matplotlib.pyplot as plt

#: Chart size (inches) and resolution (dots per inch): fixed, so the bytes are the same on every run.
CHART_SIZE = (6.4, 4.0)
CHART_DPI = 100
#: PNG metadata: the matplotlib version only (no date), so reruns give the same bytes.
PNG_METADATA = {"Software": None}

#: Colours of the trajectory classes on the map (stable low is not drawn).
CLASS_COLOURS = TRAJECTORY_COLOURS

#: Page files written besides ``concentration.html``.
LORENZ_PNG = "concentration_lorenz.png"
GINI_PNG = "concentration_gini.png"
CLASSES_PNG = "concentration_trajectories.png"

_PERIOD_WORDS = {"year": "year", "half-year": "half-year"}


def _pct(v: float, digits: int = 1) -> str:
    return "" if not np.isfinite(v) else f"{100 * v:.{digits}f}%"


def yearly_text(conc: ConcentrationResult) -> str:
    """The period-by-period figures of the whole area as a text table (for the terminal), with the trend."""
    df = conc.yearly()
    heads = [h for _, h in YEARLY_COLUMNS]
    rows = []
    for r in df.itertuples(index=False):
        cells = []
        for (key, _), v in zip(YEARLY_COLUMNS, r, strict=True):
            if key in SHARE_COLUMNS:
                cells.append(_pct(float(v)))
            elif key in ("gini", "generalised_gini"):
                cells.append("" if not np.isfinite(v) else f"{v:.3f}")
            elif key == "period":
                cells.append(str(v))
            else:
                cells.append(f"{int(v):,}")
        rows.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in rows)) if rows else len(h) for i, h in enumerate(heads)]
    lines = [
        f"Concentration of crime over {conc.places.description}, per {_PERIOD_WORDS[conc.period]}:",
        "  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True)),
    ]
    lines += ["  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) for cells in rows]
    lines += trend_sentences(conc)
    return "\n".join(lines)


def _trend_row(conc: ConcentrationResult, measure: str) -> dict[str, Any] | None:
    t = conc.trend
    sub = t[(t["grouping"] == "all") & (t["measure"] == measure)]
    return sub.iloc[0].to_dict() if len(sub) else None


def trend_sentences(conc: ConcentrationResult) -> list[str]:
    """The plain and generalised Gini over the periods in plain words: what each shows, and whether they agree."""
    g, gg = _trend_row(conc, "gini"), _trend_row(conc, "generalised_gini")
    if g is None or gg is None or g["periods"] < 2:
        return []

    def move(r: dict[str, Any]) -> str:
        p = r["p_value"]
        pw = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        sig = f" (Kendall's tau {r['tau']:.2f}, {pw})" if np.isfinite(p) else ""
        span = f"from {r['first']:.3f} in {r['first_period']} to {r['last']:.3f} in {r['last_period']}"
        return f"{span}: {r['direction']}{sig}"

    out = [f"The Gini over all places goes {move(g)}.", f"The generalised Gini goes {move(gg)}."]
    if g["direction"] == "rising" and gg["direction"] != "rising":
        out.append(
            "The plain Gini rises partly because there are fewer crimes than places, so more places are empty "
            "whatever happens; the generalised Gini allows for that and does not show crime concentrating."
        )
    elif g["direction"] != gg["direction"]:
        out.append(
            "The two measures disagree: the plain Gini is moved by how many crimes there are against places; "
            "the generalised Gini, which allows for that, is the better guide."
        )
    return out


def power_few_sentences(conc: ConcentrationResult) -> list[str]:
    """The latest period's power-few figures in plain words."""
    df = conc.yearly()
    if not len(df):
        return []
    r = df.iloc[-1]
    return [
        f"In {r['period']}, {int(r['n_events']):,} crimes happened at {int(r['n_places_with_events']):,} of the "
        f"{conc.places.n:,} places ({conc.places.description}).",
        f"Half of those crimes happened at {_pct(r['places_for_50pct'])} of the places, and 80% at "
        f"{_pct(r['places_for_80pct'])}.",
        f"The busiest 1% of places had {_pct(r['top1pct_share'])} of the crimes; the busiest 5% had "
        f"{_pct(r['top5pct_share'])}.",
    ]


def briefing_paragraph(conc: ConcentrationResult) -> str:
    """One paragraph for the briefing: the power few in the latest period and which way concentration moves."""
    return " ".join(power_few_sentences(conc) + trend_sentences(conc)[1:])


# --------------------------------------------------------------------------- charts
def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CHART_DPI, metadata=PNG_METADATA)
    plt.close(fig)
    return buf.getvalue()


def gini_chart_png(conc: ConcentrationResult) -> bytes:
    """PNG: the plain and the generalised Gini per period (the briefing's chart)."""
    df = conc.yearly()
    fig, ax = plt.subplots(figsize=CHART_SIZE)
    x = np.arange(len(df))
    ax.plot(x, df["gini"], marker="o", label="Gini (all places)")
    ax.plot(x, df["generalised_gini"], marker="s", label="generalised Gini (allows for few crimes)")
    ax.set_xticks(x, [str(p) for p in df["period"]], rotation=45 if len(df) > 6 else 0, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("concentration (0 = even, 1 = all in one place)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def lorenz_chart_png(conc: ConcentrationResult) -> bytes:
    """PNG: concentration (Lorenz) curves of the first, middle and latest period, the busiest places first."""
    df = conc.yearly()
    t = conc.table
    allrows = t[(t["grouping"] == "all") & (t["group"] == "all")]
    fig, ax = plt.subplots(figsize=CHART_SIZE)
    picks = sorted({0, len(df) // 2, len(df) - 1}) if len(df) else []
    counts = _period_counts(conc)
    for k in picks:
        c = concentration(counts[:, k])
        if c.curve is None:
            continue
        ax.plot(c.curve.place_share * 100, c.curve.value_share * 100, label=str(allrows["period"].iloc[k]))
    ax.plot([0, 100], [0, 100], color="0.6", lw=0.8, ls="--", label="crime spread evenly")
    ax.set_xlim(0, 30)
    ax.set_ylim(0, 100)
    ax.set_xlabel("share of places, busiest first (%)")
    ax.set_ylabel("share of crimes (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _period_counts(conc: ConcentrationResult) -> np.ndarray:
    """Crimes per place (rows) and period (columns) of the whole area."""
    return np.asarray(conc.series.counts, dtype=float)


def classes_map_png(res: RunResults, conc: ConcentrationResult) -> bytes | None:
    """PNG: the grid cells that are chronic, rising, falling or flaring up, over the ward boundaries."""
    tr = conc.trajectories
    if tr is None:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 6.4))
    wards = res.area.wards
    if len(wards):
        wards.boundary.plot(ax=ax, color="0.55", lw=0.5)
    p = tr.series.places
    for cls, colour in CLASS_COLOURS.items():
        sel = tr.classes == cls
        if sel.any():
            ax.scatter(p.x[sel], p.y[sel], s=6, marker="s", color=colour, label=f"{cls} ({int(sel.sum()):,})")
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.legend(loc="lower left", fontsize=8, frameon=True)
    fig.tight_layout()
    return _png(fig)


# --------------------------------------------------------------------------- page
def _yearly_rows(conc: ConcentrationResult) -> list[dict[str, str]]:
    rows = []
    for r in conc.yearly().to_dict("records"):
        rows.append(
            {
                "period": str(r["period"]),
                "places": f"{int(r['n_places_with_events']):,}",
                "crimes": f"{int(r['n_events']):,}",
                "gini": f"{r['gini']:.3f}" if np.isfinite(r["gini"]) else "",
                "ggini": f"{r['generalised_gini']:.3f}" if np.isfinite(r["generalised_gini"]) else "",
                "p50": _pct(r["places_for_50pct"]),
                "p80": _pct(r["places_for_80pct"]),
                "top1": _pct(r["top1pct_share"]),
                "top5": _pct(r["top5pct_share"]),
            }
        )
    return rows


def _type_rows(conc: ConcentrationResult) -> list[dict[str, str]]:
    """Latest period, each crime type: its generalised Gini and the share of places for half of it."""
    t = conc.table
    sub = t[t["grouping"] == "crime_type"]
    if not len(sub):
        return []
    last = sub["period"].iloc[-1]
    sub = sub[(sub["period"] == last) & (sub["n_events"] > 0)].sort_values("n_events", ascending=False)
    return [
        {
            "type": crime_type_label(str(r["group"])),
            "period": str(last),
            "crimes": f"{int(r['n_events']):,}",
            "ggini": f"{r['generalised_gini']:.3f}" if np.isfinite(r["generalised_gini"]) else "",
            "p50": _pct(r["places_for_50pct"]),
        }
        for r in sub.to_dict("records")
    ]


def _harm_rows(conc: ConcentrationResult) -> list[dict[str, str]]:
    hs = conc.harm_spots
    if hs is None:
        return []
    return [
        {"list": str(r["list"]), "place": str(r["place_id"]), "reason": str(r["reason"])}
        for r in hs.differences.to_dict("records")
    ]


def _robust_rows(conc: ConcentrationResult, top: int = 5) -> list[dict[str, str]]:
    rows = []
    for t, r in conc.robustness.items():
        for a in r.areas.sort_values("rank").head(top).to_dict("records"):
            rows.append(
                {
                    "type": crime_type_label(t),
                    "rank": str(int(a["rank"])),
                    "wards": str(a.get("ward_names", "") or ""),
                    "found": f"{int(a['settings_found'])} of {len(r.settings)}",
                    "share": _pct(float(a["robustness"]), 0),
                    "verdict": "fragile" if bool(a["fragile"]) else "robust",
                }
            )
    return rows


def class_rule(tr: Trajectories) -> dict[str, str]:
    """The settings of the trajectory classes, as the page words them: the trend's smallest change (times),
    a flare's smallest ratio to the next busiest period (times), and the false discovery rate as "1 in N"."""
    return {
        "trend": f"{1 + tr.trend_change:g}",
        "flare": f"{tr.flare_ratio:g}",
        "one_in": f"{round(1 / tr.alpha):d}",
    }


def page_context(res: RunResults, conc: ConcentrationResult) -> dict[str, Any]:
    """Everything the concentration page shows (plain values; the template escapes them)."""
    tr = conc.trajectories
    class_counts = []
    label_counts = {}
    if tr is not None:
        vc = pd.Series(tr.classes).value_counts()
        class_counts = [{"cls": c, "n": f"{int(vc.get(c, 0)):,}"} for c in CLASS_COLOURS]
        lc = pd.Series(tr.labels).value_counts()
        label_counts = {k: f"{int(lc.get(k, 0)):,}" for k in ("chronic", "acute")}
    n_fragile = sum(int(r.areas["fragile"].sum()) for r in conc.robustness.values())
    n_areas = sum(len(r.areas) for r in conc.robustness.values())
    types = crime_type_list(sorted(conc.robustness)) if conc.robustness else ""
    return {
        "project": res.cfg.project.name,
        "period_word": _PERIOD_WORDS[conc.period],
        "places": conc.places.description,
        "place_rule": conc.place_rule,
        "power_few": power_few_sentences(conc),
        "trend": trend_sentences(conc),
        "yearly": _yearly_rows(conc),
        "types": _type_rows(conc),
        "harm_headline": conc.harm_spots.headline() if conc.harm_spots is not None else "",
        "harm_rows": _harm_rows(conc),
        "harm_scheme": conc.harm_scheme,
        "trajectory_method": tr.method if tr is not None else "",
        "class_rule": class_rule(tr) if tr is not None else {},
        "class_counts": class_counts,
        "label_counts": label_counts,
        "classes_png": CLASSES_PNG if tr is not None else "",
        "robust_rows": _robust_rows(conc),
        "robust_summary": (
            f"{n_areas - n_fragile} of {n_areas} hotspot areas ({types}) are found by at least "
            f"{conc.fragile_below:.0%} of the other grids and search radii; {n_fragile} are fragile."
            if n_areas
            else ""
        ),
        "notes": list(conc.notes),
        "lorenz_png": LORENZ_PNG,
        "gini_png": GINI_PNG,
    }


def render_concentration(res: RunResults, out: Path) -> Path | None:
    """Write ``concentration.html`` and its charts into ``out``; None when the stage did not run."""
    conc = res.concentration
    if conc is None:
        return None
    out = Path(out)
    (out / LORENZ_PNG).write_bytes(lorenz_chart_png(conc))
    (out / GINI_PNG).write_bytes(gini_chart_png(conc))
    classes = classes_map_png(res, conc)
    if classes is not None:
        (out / CLASSES_PNG).write_bytes(classes)
    page = out / "concentration.html"
    page.write_text(env().get_template("concentration.html").render(**page_context(res, conc)), encoding="utf-8")
    return page
