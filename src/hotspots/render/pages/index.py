"""``index.html``: the overview the FIM chair and analysts read without opening a map."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from ... import __version__
from ...crs import crs_label
from ...model import coarsest_precision
from ...stages.results import RunResults, TaskingList
from ...vocabulary import stage_label, time_precision_label
from . import sections
from .common import data_period, data_source, day, env, meeting_line
from .forecast import forecast
from .headline import headline

FILE_NOTES = {
    "index.html": "this overview",
    "map.html": "borough map (open in any browser; works offline)",
    "tasking.html": "the ranked tasking list as a web page",
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
    "briefing.pdf": "the printable FIM briefing (A4): headline changes, the top places with a map each, live "
    "alert zones, CCTV gaps",
    "cctv/gap_places.csv": "CCTV coverage gaps, one row per place (for Excel)",
    "cctv/proposed_sites.csv": "proposed camera sites (for Excel)",
    "cctv/anpr_readers.csv": "proposed ANPR readers (for Excel)",
    "cctv/cameras_rejected.csv": "camera rows not used, with the reason",
    "experiment/schedule.csv": "patrol experiment: which places to patrol on which days (for Excel)",
    "experiment/design.json": "patrol experiment: how it was drawn (read back by the next pack)",
    "experiment/evaluation.csv": "patrol experiment that ended: harm and crimes with and without patrol",
    "experiment/evaluation_places.csv": "patrol experiment that ended: the figures of each place",
}

#: Sections of the index and the stage each needs (its "not run" reason is shown in its place).
SECTION_STAGES = ("surfaces", "trends", "nearrepeat", "coverage", "forecast", "concentration", "dosage")


def _what(rel: str, crs: str) -> str:
    if rel.startswith("wards/"):
        return "ward map for the Safer Neighbourhood Team"
    if rel.startswith("gis/"):
        return f"GeoTIFF surface ({crs})" if rel.endswith(".tif") else f"style or metadata of a GIS surface ({crs})"
    if rel.startswith("public/"):
        return "public version (aggregated, safe to publish)"
    if rel.startswith("experiment/") and rel.endswith(".html"):
        return "patrol experiment: the days to patrol each place, for the Safer Neighbourhood Team"
    return FILE_NOTES.get(rel, "").format(crs=crs)


def file_rows(out: Path, crs: str) -> list[dict[str, str]]:
    """Every file of the pack with a line on what it is (``crs`` names the CRS of the GIS files)."""
    rows = []
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(out).as_posix()
        rows.append({"name": rel, "href": rel, "what": _what(rel, crs)})
    for name in ("index.html", "manifest.json"):
        if name not in {r["name"] for r in rows}:
            rows.append({"name": name, "href": name, "what": FILE_NOTES[name]})
    return sorted(rows, key=lambda r: r["name"])


def _top_items(tl: TaskingList | None, n: int = 8) -> dict[str, object]:
    """The first ``n`` items with the list's own headings (plain words; the raw codes stay in the CSV)."""
    if tl is None or not len(tl.items):
        return {"columns": [], "rows": []}
    labels = {c.key: c.label for c in tl.columns}
    keys = [k for k in ("rank", "place_name", "ward_name", "main_crime", "harm", "trend_class", "owner") if k in labels]
    frame = tl.to_frame().head(min(n, len(tl.items)))
    rows = []
    for r in frame.to_dict("records"):
        cells = []
        for k in keys:
            v = r[k]
            cells.append("" if v is None or v is pd.NA else f"{v:,}" if k == "harm" else str(v))
        rows.append({"id": str(r.get("item_id", "")), "status": str(r.get("status", "")), "cells": cells})
    return {"columns": [labels[k] for k in keys], "rows": rows, "numeric": [k in ("rank", "harm") for k in keys]}


def render_index(
    res: RunResults,
    tasking: TaskingList,
    layers: dict[str, gpd.GeoDataFrame],
    out: Path,
    ward_files: dict[str, str],
    public: bool,
) -> Path:
    """``index.html``: the overview an analyst reads at the FIM without opening a map (``layers`` is accepted
    for the pipeline's call and not read: every figure comes from the typed results)."""
    inc = res.incidents
    ing = res.ingest.summary()
    tl = tasking
    sc = tl.status_counts() if tl is not None else {}
    not_run = {s: res.not_run.get(s, "not run") for s in SECTION_STAGES}
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
    notes = [f"{stage_label(k)}: {v}" for k, v in res.not_run.items()]
    if tl is not None:
        notes += list(tl.notes) + list(tl.omitted_notes())
    g = res.grid
    precision = coarsest_precision(inc)
    ctx = {
        "project": res.cfg.project.name,
        "fim_date": day(res.fim_date),
        "meeting_line": meeting_line(res),
        "period_line": data_period(res),
        "source_line": data_source(res),
        "review_date": day(tl.review_date) if tl is not None else "",
        "version": __version__,
        "headline": headline(res),
        "harm_scheme": res.cfg.harm.scheme,
        "top": _top_items(tl),
        "n_items": len(tl.items) if tl is not None else 0,
        "status_line": ", ".join(f"{v} {k}" for k, v in sc.items()),
        "previous": tl.previous if tl is not None else "",
        "emerging": sections.emerging(res),
        "nearrepeat": sections.nearrepeat(res),
        "coverage": sections.coverage(res),
        "forecast": forecast(res),
        "concentration": sections.concentration(res),
        "dosage": res.dosage.summary() if res.dosage is not None else None,
        "not_run": not_run,
        "wards": wards,
        "data": {
            "rows_read": ing["rows_read"],
            "accepted": ing["accepted"],
            "quarantined": ing["quarantined"],
            "reasons": ing["quarantined_by_reason"],
            "used": len(inc),
            "first": day(res.ingest.incidents["start"].min()),
            "last": day(res.ingest.incidents["end"].max()),
            "window": f"{day(res.window_start)} to {day(res.fim_date - pd.Timedelta(days=1))} "
            f"({res.cfg.analysis.lookback_days} days)",
            "precision": f"Times known {time_precision_label(precision)}"
            + ("" if inc["time_precision"].nunique() <= 1 else " for some incidents (the coarsest present)"),
            "grid": f"{g.cell_size:g} m squares, {g.n_cells:,} in the area ({crs_label(g.crs)})",
        },
        "notes": notes,
        "files": file_rows(out, crs_label(g.crs)),
        "public": public,
        "generated_at": pd.Timestamp.now(tz=res.cfg.timezone).strftime("%Y-%m-%d %H:%M"),
        "basemap": res.cfg.render.basemap,
    }
    p = out / "index.html"
    p.write_text(env().get_template("index.html").render(**ctx), encoding="utf-8")
    return p
