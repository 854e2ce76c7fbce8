"""What every page shares: the template environment (constant templates, autoescape on) and the lines that
say which meeting date was used, the data's period and source, and the data credit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ...stages.results import RunResults
from ..public_maps import OGL_CREDIT

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def env() -> Environment:
    """The pages' template environment (autoescape on: data reach the templates only as values)."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def day(t: pd.Timestamp) -> str:
    """A date as people write it: "14 Nov 2025"."""
    return f"{t:%d %b %Y}".lstrip("0")


def meeting_line(res: RunResults) -> str:
    """Which meeting date the pack is for and how it was chosen (given with --date, or the day after the
    latest incident)."""
    chosen = res.inputs.choices.get("fim_date", "")
    how = "the day after the latest incident (no --date given)" if chosen else "given with --date"
    return f"Meeting date {day(res.fim_date)}: {how}."


def data_period(res: RunResults) -> str:
    """The dates the accepted incidents span and the analysis window before the meeting."""
    inc = res.ingest.incidents
    first, last = inc["start"].min(), inc["end"].max()
    w = res.window_start
    end = res.fim_date - pd.Timedelta(days=1)
    return (
        f"Data from {day(first)} to {day(last)}; the analysis uses the {res.cfg.analysis.lookback_days} days "
        f"from {day(w)} to {day(end)}."
    )


def data_source(res: RunResults) -> str:
    """Where the incidents come from, in words, with the Open Government Licence credit for police.uk data."""
    kinds = []
    for src in res.cfg.incidents:
        what = "police.uk open data" if src.format == "police_uk" else f"recorded crime ({Path(src.path).name})"
        if what not in kinds:
            kinds.append(what)
    text = "Source: " + ", ".join(kinds) + "."
    if any(src.format == "police_uk" for src in res.cfg.incidents):
        text += f" {OGL_CREDIT}."
    return text
