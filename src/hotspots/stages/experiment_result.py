"""The patrol experiment's typed result: the randomised schedule of this list's places, and the evaluation
of an earlier schedule whose period has ended.

Built by :mod:`hotspots.tasking.experiment` from the library (:func:`~hotspots.analysis.experiments.allocate_places`,
:func:`~hotspots.analysis.experiments.crossover_schedule`, :func:`~hotspots.analysis.experiments.evaluate_crossover`,
:func:`~hotspots.analysis.experiments.evaluate_allocation`); written by :meth:`PatrolExperiment.write` (the
schedule CSV and the design record the next pack reads back) and shown by :mod:`hotspots.render.experiment`
(one page per Safer Neighbourhood Team) and the patrol page (``dosage.html``, the evaluation).

The schedule names places and days of patrol: it is for the partnership and never goes into the public tier.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._csvsafe import write_csv
from ..analysis.experiments import ExperimentResult

__all__ = [
    "DESIGN_FILE",
    "EXPERIMENT_DIR",
    "SCHEDULE_COLUMNS",
    "SCHEDULE_FILE",
    "ExperimentEvaluation",
    "ExperimentPlan",
    "PatrolExperiment",
]

#: The pack's folder for the experiment (never inside ``public/``).
EXPERIMENT_DIR = "experiment"
#: The schedule, one row per place and day (spreadsheet-safe CSV).
SCHEDULE_FILE = "schedule.csv"
#: The design record (kind, seed, share, days, the places' polygons) the next pack reads back.
DESIGN_FILE = "design.json"
#: Columns of the schedule, in order.
SCHEDULE_COLUMNS = ("place_id", "place", "team_code", "team", "date", "weekday", "block", "arm")


@dataclass(frozen=True, eq=False)
class ExperimentPlan:
    """A randomised patrol schedule over the places of one list.

    ``kind``: ``allocation`` (each place patrolled on every day of the period, or on none) or ``crossover``
    (each place has patrol days and no-patrol days, drawn in blocks of ``block_days``); ``seed``, ``share``
    (of places, or of each block's days, on patrol); ``start``: the first day (a local calendar date, naive);
    ``days``: its length in days; ``design``: the draw in words; ``schedule``: one row per place and day with
    :data:`SCHEDULE_COLUMNS` (``arm`` is ``patrol`` or ``no patrol``; ``team_code``/``team``: the ward whose
    Safer Neighbourhood Team patrols the place, and its name); ``places``: place id -> polygon as WKT in
    ``crs`` (metres), so a later pack can count crime in them; ``drawn_at``: the meeting date it was drawn
    for (YYYY-MM-DD); ``timezone``: the zone of its days.
    """

    kind: str
    seed: int
    share: float
    block_days: int
    days: int
    start: pd.Timestamp
    design: str
    schedule: pd.DataFrame
    places: Mapping[str, str]
    crs: str
    drawn_at: str
    timezone: str

    @property
    def end(self) -> pd.Timestamp:
        """The day after the last day (a local calendar date, naive)."""
        return self.start + pd.Timedelta(days=self.days)

    @property
    def last_day(self) -> pd.Timestamp:
        return self.end - pd.Timedelta(days=1)

    def teams(self) -> dict[str, str]:
        """Team code -> team name, sorted by name then code."""
        t = self.schedule[["team_code", "team"]].drop_duplicates()
        t = t.sort_values(["team", "team_code"], kind="stable")
        return dict(zip(t["team_code"].astype(str), t["team"].astype(str), strict=True))

    def for_team(self, code: str) -> pd.DataFrame:
        """The rows of the places one team patrols."""
        return self.schedule[self.schedule["team_code"] == str(code)].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The schedule as written to the CSV (dates as YYYY-MM-DD)."""
        out = self.schedule[list(SCHEDULE_COLUMNS)].copy()
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
        return out

    def record(self) -> dict[str, Any]:
        """The design record (``design.json``)."""
        return {
            "kind": self.kind,
            "seed": self.seed,
            "share": self.share,
            "block_days": self.block_days,
            "days": self.days,
            "start": f"{self.start:%Y-%m-%d}",
            "end": f"{self.end:%Y-%m-%d}",
            "drawn_at": self.drawn_at,
            "timezone": self.timezone,
            "design": self.design,
            "crs": self.crs,
            "places": dict(sorted(self.places.items())),
        }

    def write(self, folder: str | Path) -> dict[str, Path]:
        """``schedule.csv`` and ``design.json`` into ``folder`` (created if needed); same plan, same bytes."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        sched = write_csv(self.to_frame(), out / SCHEDULE_FILE)
        rec = out / DESIGN_FILE
        rec.write_text(json.dumps(self.record(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return {"schedule": sched, "design": rec}


@dataclass(frozen=True, eq=False)
class ExperimentEvaluation:
    """An earlier experiment whose period has ended, evaluated on the incidents of its period.

    ``plan``: the design read back from ``pack``; ``result``: the library's estimates (harm and counts, patrol
    minus no patrol per place and day for a crossover, difference in change for an allocation, with their
    intervals); ``patrol``: from the patrol positions when they cover the period, the minutes of patrol a
    place got on average on a patrol day and on a no-patrol day (columns ``arm``, ``place_days``,
    ``minutes_per_day``, ``days_with_visit``), None without positions; ``notes``: what the reader must know.
    """

    plan: ExperimentPlan
    result: ExperimentResult
    pack: str
    patrol: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def effects(self) -> pd.DataFrame:
        """One row per outcome (harm, crimes): the estimate, its interval and the arms' means."""
        rows = []
        for e in (self.result.harm, self.result.count):
            rows.append(
                {
                    "outcome": e.outcome,
                    "estimate": e.estimate,
                    "ci_low": e.ci_low,
                    "ci_high": e.ci_high,
                    "confidence": 1 - e.alpha,
                    "p": e.p,
                    "p_randomisation": e.p_randomisation,
                    "patrol_mean": e.treated_mean,
                    "no_patrol_mean": e.control_mean,
                    "relative": e.relative,
                    "places": e.n_places,
                    "observations": e.n_observations,
                    "method": e.method,
                }
            )
        return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class PatrolExperiment:
    """The stage's result: ``plan`` (the schedule this pack hands out: drawn for this list, or an earlier one
    still running, carried forward; None when there is none) and ``evaluation`` (an earlier schedule whose
    period has ended; None when there is none), with ``notes``."""

    plan: ExperimentPlan | None
    evaluation: ExperimentEvaluation | None
    carried_from: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, Any]:
        """Figures for the manifest."""
        out: dict[str, Any] = {"notes": list(self.notes)}
        if self.plan is not None:
            p = self.plan
            out["schedule"] = {
                "kind": p.kind,
                "seed": p.seed,
                "share": p.share,
                "start": f"{p.start:%Y-%m-%d}",
                "end": f"{p.end:%Y-%m-%d}",
                "places": int(p.schedule["place_id"].nunique()),
                "teams": len(p.teams()),
                "carried_from": self.carried_from,
            }
        if self.evaluation is not None:
            ev = self.evaluation
            out["evaluation"] = {
                "pack": ev.pack,
                "kind": ev.plan.kind,
                "period": [f"{ev.plan.start:%Y-%m-%d}", f"{ev.plan.end:%Y-%m-%d}"],
                **{
                    e.outcome: {k: _round(getattr(e, k)) for k in ("estimate", "ci_low", "ci_high", "p")}
                    for e in (ev.result.harm, ev.result.count)
                },
            }
        return out

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Into ``out_dir/experiment/``: the schedule and its design record (when there is a plan) and the
        evaluation's tables (``evaluation.csv`` per outcome, ``evaluation_places.csv`` per place)."""
        folder = Path(out_dir) / EXPERIMENT_DIR
        paths: dict[str, Path] = {}
        if self.plan is not None:
            paths.update(self.plan.write(folder))
        if self.evaluation is not None:
            folder.mkdir(parents=True, exist_ok=True)
            ev = self.evaluation
            paths["evaluation"] = write_csv(_rounded(ev.effects()), folder / "evaluation.csv")
            paths["evaluation_places"] = write_csv(_rounded(ev.result.per_place), folder / "evaluation_places.csv")
        return paths


def _round(v: float) -> float | None:
    return round(float(v), 4) if np.isfinite(v) else None


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == float:
            out[c] = np.round(out[c].to_numpy(float), 4)
    return out
