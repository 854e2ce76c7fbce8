"""The patrol dosage stage's typed result: what patrol the last list's places got, against what was asked.

Built by :mod:`hotspots.tasking.dosage` (it reads the previous pack) from the library
(:func:`~hotspots.analysis.dosage.detect_visits` or :func:`~hotspots.analysis.dosage.visits_from_log`,
:func:`~hotspots.analysis.dosage.dosage_compliance`, :func:`~hotspots.analysis.outcomes.tasking_outcomes`);
read by the tasking list (its ``delivered`` column), the dosage page and ``hotspots dosage``.

Every table here may name units (by pseudonym only, never a call sign) and per-place figures: they are
for the partnership's analysts and never go into the public tier.
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
from ..analysis.dosage import ComplianceResult, VisitsResult
from ..analysis.outcomes import OutcomesResult
from .tasking_list import DeliveredDosage

__all__ = ["DosageResult"]


@dataclass(frozen=True, eq=False)
class DosageResult:
    """Patrol delivered at the previous list's places between the previous meeting and this one.

    ``visits``: stays, visits and minutes per place (:class:`VisitsResult`); ``compliance``: delivered
    against asked per place (:class:`ComplianceResult`; places whose dosage names no patrol are left out,
    see ``notes``); ``outcomes``: crime and harm before and during against matched controls (None when
    they could not be measured, ``notes`` says why); ``period``: (previous meeting, this meeting), local
    midnights; ``previous_pack``: the folder read; ``asked``: per item id, the patrol dosage measured (in
    words); ``source``: ``"gps"`` or ``"patrol log"``; ``positions``: the reading summary (rows read,
    accepted, quarantined by reason); ``quarantine``: rejected rows (unit pseudonyms only);
    ``pseudonymisation``: how units were labelled; ``place_names``: item id -> the place's name on the last list.
    """

    visits: VisitsResult
    compliance: ComplianceResult
    outcomes: OutcomesResult | None
    period: tuple[pd.Timestamp, pd.Timestamp]
    previous_pack: str
    asked: Mapping[str, str]
    source: str
    positions: Mapping[str, Any]
    quarantine: pd.DataFrame
    pseudonymisation: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    choices: Mapping[str, str] = field(default_factory=dict)
    place_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def days(self) -> float:
        """Length of the period in days."""
        return (self.period[1] - self.period[0]).total_seconds() / 86400.0

    def delivered(self) -> dict[str, DeliveredDosage]:
        """Per item id of the previous list, the patrol delivered (for :meth:`TaskingList.with_delivered`)."""
        out = {}
        for r in self.compliance.table.itertuples(index=False):
            pid = str(r.place_id)
            out[pid] = DeliveredDosage(
                visits=int(r.visits),
                minutes=float(r.minutes),
                asked_minutes=float(r.asked_minutes),
                flag=str(r.flag),
                asked=self.asked.get(pid, str(r.dosage)),
            )
        return out

    def flag_counts(self) -> dict[str, int]:
        """Places per compliance flag."""
        return self.compliance.counts() if len(self.compliance.table) else {}

    def summary(self) -> dict[str, Any]:
        """Figures for the manifest and the terminal."""
        t = self.compliance.table
        return {
            "previous_pack": self.previous_pack,
            "period": [f"{self.period[0]:%Y-%m-%d}", f"{self.period[1]:%Y-%m-%d}"],
            "source": self.source,
            "positions": dict(self.positions),
            "places": int(len(t)),
            "visits": int(t["visits"].sum()) if len(t) else 0,
            "minutes": round(float(t["minutes"].sum()), 1) if len(t) else 0.0,
            "asked_minutes": round(float(t["asked_minutes"].sum()), 1) if len(t) else 0.0,
            "flags": self.flag_counts(),
            "drive_throughs": int((self.visits.stays["kind"] == "drive_through").sum()),
            "settings": {k: v for k, v in self.visits.settings.items()},
            "automatic": dict(self.visits.automatic),
            "notes": list(self.notes),
        }

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the tables into ``out_dir`` (created if needed), spreadsheet-safe; returns name -> path.

        ``dosage_compliance.csv`` (per place), ``dosage_visits.csv`` (every stay: visit, drive-through or
        short stop, with its unit pseudonym), ``dosage_daily.csv``, ``dosage_dwell.csv`` (visits per
        dwell-time bin against the Koper band), ``dosage_outcomes.csv`` (when measured),
        ``dosage_quarantine.csv`` (rejected position rows) and ``dosage_summary.json``.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "compliance": write_csv(_dated(self.compliance.table), out / "dosage_compliance.csv"),
            "visits": write_csv(_dated(self.visits.stays), out / "dosage_visits.csv"),
            "daily": write_csv(_dated(self.visits.daily), out / "dosage_daily.csv"),
            "dwell": write_csv(self.visits.dwell_distribution(), out / "dosage_dwell.csv"),
            "quarantine": write_csv(self.quarantine, out / "dosage_quarantine.csv"),
        }
        if self.outcomes is not None:
            paths["outcomes"] = write_csv(self.outcomes.to_frame(), out / "dosage_outcomes.csv")
        paths["summary"] = out / "dosage_summary.json"
        paths["summary"].write_text(json.dumps(self.summary(), indent=2, default=str, sort_keys=True) + "\n")
        return paths


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with tz-aware times as ISO text with their offset, and floats rounded to 0.1 (stable bytes)."""
    out = frame.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = [v.isoformat() if pd.notna(v) else "" for v in out[c]]
        elif out[c].dtype == float:
            out[c] = np.round(out[c].to_numpy(float), 3)
    return out
