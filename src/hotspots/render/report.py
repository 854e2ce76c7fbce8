"""The pack's HTML pages (jinja2, autoescape on) and the public tier.

``index.html`` is the overview an analyst reads at the FIM without opening a
map; ``tasking.html`` the ranked list; ``public/`` an aggregated version safe
to publish, every figure from :mod:`hotspots.render.public` (one grid, one
period, one threshold, secondary suppression; no incident points, no location
strings). Sections whose stage did not run say so instead of failing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .. import __version__
from ..config.sections import PublicConfig, RenderConfig
from ..coverage.result import CoverageResult
from ..crs import crs_label
from ..model import coarsest_precision
from ..stages.results import RunResults, TaskingList
from .public import PublicTier, public_tier_for
from .public_maps import OGL_CREDIT, PublicMapText, public_map

TEMPLATES = Path(__file__).resolve().parent / "templates"


def env() -> Environment:
    """The pages' template environment (autoescape on: data reach the templates only as values)."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


# --------------------------------------------------------------------------- headline counts
def _change(now: int, then: int) -> tuple[str, str]:
    if then == 0:
        return ("new" if now else "no change"), ("up" if now else "")
    pct = 100.0 * (now - then) / then
    return f"{pct:+.0f}%", ("up" if pct > 0 else "down" if pct < 0 else "")


def periods(fim: pd.Timestamp, precision: str, days: int = 14) -> tuple[Any, Any, Any, str]:
    """(current, previous, same period last year) as (start, end) pairs, end exclusive.

    Fortnights before the FIM date for day/minute data; for month-precision data,
    the last whole calendar month before the FIM date.
    """
    if precision == "month":
        end = fim.normalize().replace(day=1)
        start = end - pd.DateOffset(months=1)
        prev = (start - pd.DateOffset(months=1), start)
        ly = (start - pd.DateOffset(years=1), end - pd.DateOffset(years=1))
        return (start, end), prev, ly, "month"
    cur = (fim - pd.Timedelta(days=days), fim)
    prev = (fim - pd.Timedelta(days=2 * days), fim - pd.Timedelta(days=days))
    ly = (cur[0] - pd.DateOffset(years=1), cur[1] - pd.DateOffset(years=1))
    return cur, prev, ly, "fortnight"


def headline(res: RunResults) -> dict[str, Any]:
    """Counts per crime type now, in the previous period and the same period last year."""
    inc = res.incidents
    prec = coarsest_precision(inc)
    cur, prev, ly, kind = periods(res.fim_date, prec, res.cfg.analysis.fortnight_days)
    mid = inc["start"] + (inc["end"] - inc["start"]) / 2

    def count(p):
        sel = (mid >= p[0]) & (mid < p[1])
        return inc.loc[sel, "crime_type"].value_counts(), float(inc.loc[sel, "harm"].sum())

    c, h = count(cur)
    p, _ = count(prev)
    y, _ = count(ly)
    types = sorted(set(c.index) | set(p.index) | set(y.index), key=lambda t: (-int(c.get(t, 0)), t))

    def row(name, a, b, d):
        pc, pcl = _change(a, b)
        lc, lcl = _change(a, d)
        return {
            "crime_type": name,
            "current": a,
            "previous": b,
            "last_year": d,
            "prev_change": pc,
            "prev_class": pcl,
            "ly_change": lc,
            "ly_class": lcl,
        }

    rows = [row(t, int(c.get(t, 0)), int(p.get(t, 0)), int(y.get(t, 0))) for t in types]
    total = row("all", int(c.sum()), int(p.sum()), int(y.sum()))
    total["harm"] = h

    def lab(q):
        e = q[1] - pd.Timedelta(days=1)
        return f"{q[0]:%d %b %Y} to {e:%d %b %Y}"

    has_ly = len(inc) and inc["start"].min() <= ly[0]
    return {
        "period_label": f"the {kind} to {cur[1] - pd.Timedelta(days=1):%d %b %Y}",
        "current_label": lab(cur),
        "previous_label": lab(prev),
        "last_year_label": lab(ly),
        "explain": (
            "Counts by the middle of each incident's time window. "
            + ("police.uk data give only the month, so the last whole month is compared. " if kind == "month" else "")
            + ("" if has_ly else "The data do not reach back a full year, so the last-year comparison is incomplete.")
        ),
        "rows": rows,
        "total": total,
        "periods": {
            "current": [str(cur[0]), str(cur[1])],
            "previous": [str(prev[0]), str(prev[1])],
            "last_year": [str(ly[0]), str(ly[1])],
        },
    }


# --------------------------------------------------------------------------- sections
def _emerging(res: RunResults) -> dict[str, Any] | None:
    tr = res.trends
    if tr is None:
        return None
    em = tr.emerging
    leg = em.legend()
    counts = em.counts_by_class()
    rows: list[dict[str, Any]] = [
        {"label": k, "cells": v, "meaning": leg.get(k, "")} for k, v in counts.items() if k != em.labels[0]
    ]
    rows.sort(key=lambda r: -r["cells"])
    exc = []
    ex = tr.exceptions
    if len(ex):
        for r in ex[ex["flag"].astype(bool)].head(12).itertuples(index=False):
            exc.append(
                {
                    "unit_name": r.unit_name,
                    "crime_type": r.crime_type,
                    "current": r.current,
                    "previous": r.previous,
                    "reason": r.reason,
                }
            )
    s = em.summary()
    return {
        "rows": rows,
        "exceptions": exc,
        "note": f"{s['n_steps']} {s['step']}s from {s['first_step_start']} to the FIM date; every grid cell is "
        f"classed (see the 'Emerging hotspots' layer on the map).",
    }


def _nearrepeat(res: RunResults) -> dict[str, Any] | None:
    nr = res.nearrepeat
    if nr is None:
        return None
    z = nr.zones
    rows = [
        {"id": str(zid), "expires": f"{ex:%Y-%m-%d}", "n": int(n), "streets": str(st)}
        for zid, ex, n, st in zip(z["zone_id"], z["expiry_date"], z["n_burglaries"], z["streets"], strict=True)
    ]
    # the details under the note: the result's summary without its zones sentence (the note says it)
    lines = [ln for ln in nr.summary().splitlines() if ln.strip() and ln != nr.zones_sentence()]
    rows.sort(key=lambda r: (r["expires"], r["id"]))
    note = (
        f"{nr.zones_sentence()} Soonest expiry first; each is on the maps with its expiry date."
        if rows
        else nr.zones_sentence()
    )
    return {"rows": rows, "note": note, "lines": lines}


def _table(title: str, df: pd.DataFrame, note: str = "") -> dict[str, Any]:
    """A table for the page: a title, its column headings, its rows as text, a note under it."""
    return {
        "title": title,
        "columns": [str(c) for c in df.columns],
        "rows": [[f"{v:,}" if isinstance(v, (int, np.integer)) else str(v) for v in row] for row in df.to_numpy()],
        "note": note,
    }


def _coverage(res: RunResults, layers: dict[str, gpd.GeoDataFrame]) -> dict[str, Any] | None:
    """The CCTV and ANPR section: the camera inventories, coverage, gap places, proposed camera sites,
    proposed ANPR readers (with the shortfall explained) and the camera rows not used, from the typed result."""
    cov = res.coverage
    if cov is None:
        return None
    sm = cov.summary()
    note = (
        f"{sm['live_cameras_used']} live cameras see "
        f"{100 * sm['share_incidents_covered']:.0f}% of incidents and "
        f"{100 * sm['share_harm_covered']:.0f}% of harm in {sm['period']['start']} to "
        f"{sm['period']['end']} (expected shares where camera positions are approximate). With "
        f"{sm['siting']['k']} proposed new cameras: {100 * sm['siting']['share_with_new']:.0f}% of harm. "
        f"{len(cov.gaps)} place(s) where harm is high and cameras see little of it; see the "
        "'CCTV coverage gaps' layer on the map."
    )
    tables = [
        _table("Coverage gaps: places where harm is high and the cameras see little of it", cov.gap_table(10)),
        _table("Proposed camera sites", cov.site_table()),
    ]
    if cov.anpr is not None:
        tables.append(
            _table(
                f"Proposed ANPR readers ({len(cov.anpr.readers)} of {cov.anpr.requested} asked for)",
                cov.reader_table(),
                cov.anpr.shortfall,
            )
        )
    rejected = cov.rejected_table()
    outside = sum(s.outside for s in cov.inventories())
    tables.append(
        _table(
            f"Camera rows rejected as invalid ({len(rejected)})",
            rejected,
            (f"{outside:,} more rows lie outside the study area and are not used. " if outside else "")
            + "Every row not used is in cctv/cameras_rejected.csv with the reason.",
        )
    )
    return {"note": note, "inventories": list(cov.inventory_statements()), "tables": tables}


def _forecast(res: RunResults) -> dict[str, Any] | None:
    fc = res.forecast
    if fc is None:
        return None
    df = fc.summary_frame()
    cols, rows = [], []
    if len(df):
        keep = [
            c
            for c in df.columns
            if c == "method" or c == "origins" or (c.startswith(("hit_rate_", "pai_")) and not c.endswith("_se"))
        ]
        df = df[keep]
        cols = [str(c) for c in df.columns]
        for r in df.itertuples(index=False):
            rows.append([(f"{v:.3g}" if isinstance(v, (float, np.floating)) else v) for v in r])
    return {
        "method": f"{fc.method} (selected by {fc.selected_by})",
        "columns": cols,
        "rows": rows,
        "note": fc.describe() + " " + " ".join(fc.notes),
    }


FILE_NOTES = {
    "index.html": "this overview",
    "map.html": "borough map (open in any browser; works offline)",
    "tasking.html": "the ranked tasking list as a web page",
    "briefing.pdf": "the printable FIM briefing (A4): headline changes, the top places with a map each, live "
    "alert zones, CCTV gaps",
    "concentration.html": "how concentrated crime is year by year, harm spots, chronic and acute places, "
    "robust hotspots",
    "concentration_lorenz.png": "concentration curves (share of crimes at the busiest places)",
    "concentration_gini.png": "the Gini and the generalised Gini over time",
    "concentration_trajectories.png": "map of chronic, rising, falling and flare-up grid cells",
    "tasking.csv": "the ranked tasking list for Excel",
    "dosage.html": "patrol asked for and delivered at the last list's places, and what happened to crime",
    "dosage_compliance.csv": "patrol asked for and delivered per place (for Excel)",
    "dosage_visits.csv": "every patrol stay: visits, drive-throughs and short stops, by unit label",
    "dosage_daily.csv": "patrol minutes and visits per place and day",
    "dosage_dwell.csv": "visits by length, against the 10-15 minute band",
    "dosage_outcomes.csv": "crime and harm before and since tasking, against matched places",
    "dosage_quarantine.csv": "patrol positions that were set aside, with the reason",
    "dosage_summary.json": "the patrol figures and settings",
    "layers.gpkg": "every map layer for QGIS/ArcGIS ({crs})",
    "manifest.json": "how this pack was made: version, settings, input file hashes, counts, steps, seed",
    "quarantine.csv": "input rows that were rejected, with the reason",
    "ward_table.csv": "counts, harm and rates per ward",
}


def _concentration(res: RunResults) -> dict[str, Any] | None:
    """The index's short section on concentration: the latest period's power few and the generalised Gini."""
    conc = res.concentration
    if conc is None:
        return None
    y = conc.yearly()
    if not len(y):
        return None
    last = y.iloc[-1]
    labels = pd.Series(conc.trajectories.labels).value_counts() if conc.trajectories is not None else None
    return {
        "period": str(last["period"]),
        "p50": f"{100 * last['places_for_50pct']:.1f}%",
        "top5": f"{100 * last['top5pct_share']:.0f}%",
        "ggini": f"{last['generalised_gini']:.2f}",
        "places": conc.places.description,
        "chronic": int(labels.get("chronic", 0)) if labels is not None else None,
        "acute": int(labels.get("acute", 0)) if labels is not None else None,
    }


def _file_rows(out: Path, crs: str) -> list[dict[str, str]]:
    """Every file of the pack with a line on what it is (``crs`` names the CRS of the GIS files)."""
    rows = []
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(out).as_posix()
        if rel.startswith("wards/"):
            what = "ward map for the Safer Neighbourhood Team"
        elif rel.startswith("gis/"):
            what = f"GeoTIFF surface ({crs})"
        elif rel.startswith("public/"):
            what = "public version (aggregated, safe to publish)"
        else:
            what = FILE_NOTES.get(rel, "").format(crs=crs)
        rows.append({"name": rel, "href": rel, "what": what})
    for name in ("index.html", "manifest.json"):
        if name not in {r["name"] for r in rows}:
            rows.append({"name": name, "href": name, "what": FILE_NOTES[name]})
    return sorted(rows, key=lambda r: r["name"])


def render_index(
    res: RunResults,
    tasking: TaskingList,
    layers: dict[str, gpd.GeoDataFrame],
    out: Path,
    ward_files: dict[str, str],
    public: bool,
) -> Path:
    """``index.html``: the overview an analyst reads at the FIM without opening a map."""
    inc = res.incidents
    ing = res.ingest.summary()
    tl = tasking
    rows = tl.items.head(8).to_dict("records") if tl is not None and len(tl.items) else []
    sc = tl.status_counts() if tl is not None else {}
    not_run = {
        s: res.not_run.get(s, "not run")
        for s in ("surfaces", "trends", "nearrepeat", "coverage", "forecast", "concentration", "dosage")
    }
    wt = res.ward_table
    if wt is None:
        raise ValueError("the overview needs the ward table (as analyse() returns)")
    items_per_ward = tl.items["ward_code"].value_counts() if tl is not None and len(tl.items) else pd.Series(dtype=int)
    wards = [
        {
            "ward_name": r.ward_name,
            "ward_code": r.ward_code,
            "rank": r.rank,
            "incidents": int(r.incidents),
            "items": int(items_per_ward.get(r.ward_code, 0)),
            "href": ward_files.get(r.ward_code, ""),
        }
        for r in wt.itertuples(index=False)
    ]
    notes = [f"{k}: {v}" for k, v in res.not_run.items()]
    if tl is not None:
        notes += list(tl.notes)
    g = res.grid
    ctx = {
        "project": res.cfg.project.name,
        "fim_date": f"{res.fim_date:%Y-%m-%d}",
        "review_date": f"{tl.review_date:%Y-%m-%d}" if tl is not None else "",
        "data_end": f"{inc['end'].max():%Y-%m-%d}",
        "version": __version__,
        "headline": headline(res),
        "harm_scheme": res.cfg.harm.scheme,
        "tasking_rows": rows,
        "n_items": len(tl.items) if tl is not None else 0,
        "status_line": ", ".join(f"{v} {k}" for k, v in sc.items()),
        "previous": tl.previous if tl is not None else "",
        "emerging": _emerging(res),
        "nearrepeat": _nearrepeat(res),
        "coverage": _coverage(res, layers),
        "forecast": _forecast(res),
        "concentration": _concentration(res),
        "dosage": res.dosage.summary() if res.dosage is not None else None,
        "not_run": not_run,
        "wards": wards,
        "data": {
            "rows_read": ing["rows_read"],
            "accepted": ing["accepted"],
            "quarantined": ing["quarantined"],
            "reasons": ing["quarantined_by_reason"],
            "used": len(inc),
            "first": f"{res.ingest.incidents['start'].min():%Y-%m-%d}",
            "last": f"{res.ingest.incidents['end'].max():%Y-%m-%d}",
            "window": f"{res.window_start:%Y-%m-%d} to {res.fim_date - pd.Timedelta(days=1):%Y-%m-%d} "
            f"({res.cfg.analysis.lookback_days} days)",
            "precision": f"{coarsest_precision(inc)} (coarsest present; "
            + ", ".join(f"{k} {v:,}" for k, v in inc["time_precision"].value_counts().items())
            + ")",
            "grid": f"{g.cell_size:g} m cells, {g.n_cells:,} in the area ({crs_label(g.crs)})",
        },
        "notes": notes,
        "files": _file_rows(out, crs_label(g.crs)),
        "public": public,
        "generated_at": pd.Timestamp.now(tz=res.cfg.timezone).strftime("%Y-%m-%d %H:%M"),
        "basemap": res.cfg.render.basemap,
    }
    p = out / "index.html"
    p.write_text(env().get_template("index.html").render(**ctx), encoding="utf-8")
    return p


TASKING_HTML_COLUMNS = [
    ("rank", "Rank"),
    ("item_id", "Id"),
    ("status", "Status"),
    ("location", "Location"),
    ("ward_name", "Ward / SNT"),
    ("crime_types", "Crime types"),
    ("harm", "Harm"),
    ("trend_class", "Trend"),
    ("stability", "Chronic or acute"),
    ("robustness", "Robustness"),
    ("near_repeat_window", "Near repeat"),
    ("peak_days", "Peak days"),
    ("peak_hours", "Peak hours"),
    ("cctv_coverage", "CCTV"),
    ("tactic", "Tactic"),
    ("dosage", "Dosage"),
    ("delivered", "Patrol delivered since the last FIM"),
    ("change", "Since last FIM"),
    ("worked", "Did it work"),
    ("owner", "Owner"),
    ("review_date", "Review"),
    ("reason", "Why"),
]


def render_tasking(res: RunResults, tasking: TaskingList, out: Path, ward_files: dict[str, str]) -> Path:
    """``tasking.html``: the ranked list as a page (every value escaped by the template)."""
    df = tasking.to_frame()
    shown = set(tasking.column_keys)  # columns that carry no information for this data are left out
    recs = []
    for r in df.to_dict("records"):
        r = {
            k: ("" if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA) else v) for k, v in r.items()
        }
        r["ward_href"] = ward_files.get(str(r.get("ward_code", "")), "")
        recs.append(r)
    ctx = {
        "project": res.cfg.project.name,
        "fim_date": f"{res.fim_date:%Y-%m-%d}",
        "review_date": f"{tasking.review_date:%Y-%m-%d}",
        "status_line": ", ".join(f"{v} {k}" for k, v in tasking.status_counts().items()),
        "lookback": res.cfg.analysis.lookback_days,
        "playbook": " + ".join(Path(x.strip()).name for x in tasking.playbook_source.split("+")),
        "columns": [c for k, c in TASKING_HTML_COLUMNS if k in shown],
        "keys": [k for k, _ in TASKING_HTML_COLUMNS if k in shown],
        "rows": recs,
    }
    p = out / "tasking.html"
    p.write_text(env().get_template("tasking.html").render(**ctx), encoding="utf-8")
    return p


# --------------------------------------------------------------------------- public tier
def render_public(res: RunResults, out: Path, pcfg: PublicConfig, tier: PublicTier | None = None) -> PublicTier:
    """``public/index.html``, ``public/map.html`` and (when the CCTV stage ran)
    ``public/cctv_consultation.html``: every figure from the one public aggregation
    (:func:`hotspots.render.public.public_tier`), nothing else. Returns the tier (for the manifest)."""
    pub = out / "public"
    pub.mkdir(parents=True, exist_ok=True)
    tier = tier if tier is not None else public_tier_for(res.inputs)
    cells = tier.cells
    rc = res.cfg.render
    public_map(
        cells,
        cells["incidents"].to_numpy(),
        res.area.boundary,
        _public_text(res, tier, f"{res.cfg.project.name}: recorded crime"),
        rc,
        wards=res.area.wards,
    ).save(pub / "map.html")
    if res.coverage is not None:
        _cctv_public_map(res, res.coverage, tier, pub, rc)
    rows = [{"crime_type": r.label, "n": f"{r.count:,}" if r.count is not None else "not shown"} for r in tier.totals]
    names = {"cctv_consultation.html": "CCTV consultation map"}
    extra = [
        {"name": names.get(p.name, p.stem), "href": p.name}
        for p in sorted(pub.glob("*.html"))
        if p.name not in ("index.html", "map.html")
    ]
    ctx = {
        "project": res.cfg.project.name,
        "period": tier.period.label,
        "cell": f"{tier.cell_size_m:g}",
        "min_count": tier.min_count,
        "rows": rows,
        "notes": list(tier.notes),
        "extra": extra,
    }
    (pub / "index.html").write_text(env().get_template("public_index.html").render(**ctx), encoding="utf-8")
    return tier


def _public_text(res: RunResults, tier: PublicTier, title: str, extra: tuple[str, ...] = ()) -> PublicMapText:
    """Title, the public tier's period and squares, data credit and the protection of small counts, for a public
    map."""
    cell_m, min_count = tier.cell_size_m, tier.min_count
    police_uk = any(src.format == "police_uk" for src in res.cfg.incidents)
    source = "Crime data: police.uk. " if police_uk else "Crime data: recorded crime. "
    return PublicMapText(
        title=title,
        subtitle=f"Recorded crime {tier.period.label}, counted on {cell_m:g} m squares",
        credits=source + OGL_CREDIT,
        about=(
            f"Crimes are counted on squares of {cell_m:g} m; squares with fewer than {min_count} crimes are not "
            "shown, and no individual crime location, street or address is published.",
            *extra,
        ),
    )


def _cctv_public_map(res: RunResults, cov: CoverageResult, tier: PublicTier, pub: Path, rc: RenderConfig) -> Path:
    """``public/cctv_consultation.html``: the CCTV public-consultation map (the public tier's squares, the
    proposed sites by rank only), offline like every other map."""
    cells = tier.cells
    pcfg = res.cfg.public
    text = dataclasses.replace(
        _public_text(
            res,
            tier,
            f"{res.cfg.project.name}: proposed CCTV sites",
            ("The numbered squares are proposed sites for new cameras, in order of priority.",),
        ),
        respond_text=pcfg.consultation_text,
        respond_url=pcfg.consultation_url,
    )
    page = public_map(
        cells, cells["incidents"].to_numpy(), res.area.boundary, text, rc, res.area.wards, cov.proposed_sites
    )
    return page.save(pub / "cctv_consultation.html")
