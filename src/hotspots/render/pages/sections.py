"""The index's sections built from the typed stage results: emerging hotspots and what changed, near-repeat
alert zones, CCTV and ANPR, and where crime concentrates. Each returns the template's values (plain words,
crime types by :func:`hotspots.vocabulary.crime_type_label`), or None when its stage did not run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...stages.results import RunResults
from ...vocabulary import crime_type_label

#: One sentence on q-values for the people reading the "What changed" table.
Q_VALUE_WORDS = (
    "q is the chance that a flagged change is a false alarm, allowing for the many places and crime types "
    "tested at once: the smaller, the surer (0.05 means about one in twenty)."
)


def _count(v: object) -> str:
    """A count as a page shows it ("1,234"), or "not known" when the data do not reach that far back."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "not known"
    return f"{float(v):,.0f}" if isinstance(v, float) else f"{v:,}"


def emerging(res: RunResults) -> dict[str, Any] | None:
    """Cells per emerging-hotspot class and the flagged short-term changes."""
    tr = res.trends
    if tr is None:
        return None
    em = tr.emerging
    leg = em.legend()
    counts = em.counts_by_class()
    rows: list[dict[str, Any]] = [
        {"label": k.capitalize(), "cells": v, "meaning": leg.get(k, "")} for k, v in counts.items() if k != em.labels[0]
    ]
    rows.sort(key=lambda r: -r["cells"])
    exc = []
    ex = tr.exceptions
    if len(ex):
        for r in ex[ex["flag"].astype(bool)].head(12).itertuples(index=False):
            exc.append(
                {
                    "unit_name": r.unit_name,
                    "crime_type": crime_type_label(r.crime_type) if r.crime_type != "all" else "All crime types",
                    "current": _count(r.current),
                    "previous": _count(r.previous),
                    "last_year": _count(r.last_year),
                    "direction": "Up" if r.flag == "up" else "Down",
                    "reason": r.reason,
                }
            )
    s = em.summary()
    return {
        "rows": rows,
        "exceptions": exc,
        "step": s["step"],
        "q_words": Q_VALUE_WORDS,
        "note": f"{s['n_steps']} {s['step']}s from {s['first_step_start']} to the meeting date; every "
        f"{res.grid.cell_size:g} m square of the map is classed (see the 'Emerging hotspots' layer on the map).",
    }


def nearrepeat(res: RunResults) -> dict[str, Any] | None:
    """The live alert zones (soonest expiry first), the analysis lines, and why there are none when none."""
    nr = res.nearrepeat
    if nr is None:
        return None
    z = nr.zones
    rows = [
        {"id": str(zid), "expires": f"{ex:%Y-%m-%d}", "n": int(n), "streets": str(st)}
        for zid, ex, n, st in zip(z["zone_id"], z["expiry_date"], z["n_burglaries"], z["streets"], strict=True)
    ]
    lines = [ln for ln in nr.summary().splitlines() if ln.strip()]
    rows.sort(key=lambda r: (r["expires"], r["id"]))
    if rows:
        note = f"{len(rows)} live alert zone(s), soonest expiry first; each is on the maps with its expiry date."
    elif nr.knox is None:
        note = (
            "No live alert zones: an alert zone lasts days, and the burglary dates here are known only to the month "
            "(or too few to test), so no zone can be drawn. The reason is below."
        )
    else:
        note = (
            "No live alert zones: no burglary recent enough to keep a zone live at the meeting date fell inside "
            "the near-repeat distance of another."
        )
    return {"rows": rows, "note": note, "lines": lines}


def table(title: str, df: pd.DataFrame, note: str = "") -> dict[str, Any]:
    """A table for the page: a title, its column headings, its rows as text, a note under it."""
    return {
        "title": title,
        "columns": [str(c) for c in df.columns],
        "rows": [[f"{v:,}" if isinstance(v, (int, np.integer)) else str(v) for v in row] for row in df.to_numpy()],
        "note": note,
    }


def coverage(res: RunResults) -> dict[str, Any] | None:
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
        table("Coverage gaps: places where harm is high and the cameras see little of it", cov.gap_table(10)),
        table("Proposed camera sites", cov.site_table()),
    ]
    if cov.anpr is not None:
        readers = cov.reader_table()
        empty = [c for c in readers.columns if not readers[c].astype(str).str.strip().any()]
        tables.append(
            table(
                f"Proposed ANPR readers ({len(cov.anpr.readers)} of {cov.anpr.requested} asked for)",
                readers.drop(columns=empty),
                cov.anpr.shortfall,
            )
        )
    rejected = cov.rejected_table()
    outside = sum(s.outside for s in cov.inventories())
    tables.append(
        table(
            f"Camera rows rejected as invalid ({len(rejected)})",
            rejected,
            (f"{outside:,} more rows lie outside the study area and are not used. " if outside else "")
            + "Every row not used is in cctv/cameras_rejected.csv with the reason.",
        )
    )
    return {"note": note, "inventories": list(cov.inventory_statements()), "tables": tables}


def concentration(res: RunResults) -> dict[str, Any] | None:
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
