"""``tasking.html``: the ranked list as a page the FIM reads on a screen, an inspector on a phone, and the
chair prints on A4.

A short ranked summary (rank, place, ward, main problem, harm, owner) that fits any width, then one card per
place with every column the list carries (:meth:`TaskingList.page_columns`, with their own headings) and its
tactics one per problem. Every value reaches the constant template as text (autoescaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...stages.results import RunResults, TaskingList
from ...tasking.stability import FRAGILE_WORDS
from .common import data_period, data_source, day, env, meeting_line

#: Columns the card shows in its title (rank, place, id, status) or its tactics table (tactic, dosage, owner).
TITLE_KEYS = ("rank", "item_id", "status", "place_name")
TACTIC_KEYS = ("tactic", "dosage", "owner")
#: Columns of the summary table at the top, when the list carries them.
SUMMARY_KEYS = ("rank", "place_name", "ward_name", "main_crime", "harm", "status")


def _text(key: str, v: object) -> str:
    """A list value as the page shows it: empty for missing, dates as "14 Nov 2025", counts as 1,234, other
    numbers (the score) to one decimal."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, pd.Timestamp):
        return day(v)
    if isinstance(v, (int, np.integer)) and key != "rank":
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):,.1f}"
    return str(v)


def _tactics(tasking: TaskingList, item_id: str, row: dict[str, Any]) -> list[dict[str, str]]:
    """The place's tactics, one per problem (from the typed list), else its tactic, dosage and owner texts."""
    typed = tasking.tactics.get(item_id, ())
    if typed:
        return [
            {"problems": "; ".join(t.problems), "tactic": t.tactic, "dosage": t.dosage, "owner": t.owner} for t in typed
        ]
    if any(_text(k, row.get(k)) for k in TACTIC_KEYS):
        return [{"problems": "", **{k: _text(k, row.get(k)) for k in TACTIC_KEYS}}]
    return []


def render_tasking(res: RunResults, tasking: TaskingList, out: Path, ward_files: dict[str, str]) -> Path:
    """``tasking.html``: the ranked list as a page (every value escaped by the template)."""
    cols = tasking.page_columns()
    labels = {c.key: c.label for c in cols}
    fact_cols = [c for c in cols if c.key not in TITLE_KEYS + TACTIC_KEYS]
    summary_keys = [k for k in SUMMARY_KEYS if k in labels]
    items = []
    for r in tasking.to_frame().to_dict("records"):
        item_id = _text("item_id", r.get("item_id"))
        items.append(
            {
                "id": item_id,
                "rank": _text("rank", r.get("rank")),
                "status": _text("status", r.get("status")),
                "place": _text("place_name", r.get("place_name")) or item_id,
                "ward_href": ward_files.get(str(r.get("ward_code", "")), ""),
                "facts": [
                    {"key": c.key, "label": c.label, "value": _text(c.key, r.get(c.key))}
                    for c in fact_cols
                    if _text(c.key, r.get(c.key))
                ],
                "tactics": _tactics(tasking, item_id, r),
                "summary": [_text(k, r.get(k)) for k in summary_keys],
                "fragile": _text("robustness", r.get("robustness")).startswith("fragile"),
            }
        )
    ctx = {
        "project": res.cfg.project.name,
        "fim_date": day(res.fim_date),
        "meeting_line": meeting_line(res),
        "period_line": data_period(res),
        "source_line": data_source(res),
        "review_date": day(tasking.review_date),
        "status_line": ", ".join(f"{v} {k}" for k, v in tasking.status_counts().items()),
        "lookback": res.cfg.analysis.lookback_days,
        "playbook": " + ".join(Path(x.strip()).name for x in tasking.playbook_source.split("+")),
        "summary_columns": [labels[k] for k in summary_keys],
        "summary_numeric": [k in ("rank", "harm") for k in summary_keys],
        "tactic_labels": [labels.get(k, k.capitalize()) for k in TACTIC_KEYS],
        "omitted": list(tasking.omitted_notes()),
        "column_notes": [{"label": c.label, "description": c.description} for c in cols],
        "items": items,
        "fragile_words": FRAGILE_WORDS,
    }
    p = out / "tasking.html"
    p.write_text(env().get_template("tasking.html").render(**ctx), encoding="utf-8")
    return p
