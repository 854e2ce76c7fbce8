"""Stage ``dosage``: the patrol the last list's places got since the last meeting, against what was asked.

The delivered dosage concerns the PREVIOUS list: its places (``layers.gpkg``, else the points of
``tasking.csv``) and their dosage sentences (``tasking.csv``), over the fortnight from the previous
meeting to this one. The previous pack is the one given with ``--previous``, else the latest earlier
``fim-YYYY-MM-DD`` folder beside this run's pack (as for the tasking list, :mod:`.previous`); that is
why this stage lives with the tasking code and not in ``stages/``.

Reads ``[dosage]`` (the positions, the visit rules and the compliance thresholds), ``[project]``
(time zone, CRS) and ``[harm]`` (the outcomes' harm), and calls the library:

* :func:`~hotspots.ingest.pings.read_pings` (``area`` = the study area, ``period`` = the fortnight) and
  :func:`~hotspots.analysis.dosage.detect_visits` on the previous places; or, without pings,
  :func:`~hotspots.ingest.pings.read_patrol_log` and :func:`~hotspots.analysis.dosage.visits_from_log`;
* :func:`~hotspots.analysis.dosage.dosage_compliance` with each place's patrol dosage (parsed by
  :func:`~hotspots.analysis.dosage_text.parse_dosage`; ``due_until`` = an alert zone's last day);
* :func:`~hotspots.analysis.outcomes.tasking_outcomes` (controls: square cells over the study area).

Data-driven refusals (no positions given, no previous pack, a previous pack without places) are
"not run" with the reason; the rest of the pack is written as usual.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..analysis.dosage import VisitsResult, detect_visits, dosage_compliance, visits_from_log
from ..analysis.dosage_text import Dosage, parse_dosage
from ..analysis.harm import with_harm
from ..analysis.outcomes import OutcomesResult, tasking_outcomes
from ..announce import choose
from ..config import Config
from ..errors import ConfigError, InputError, PrecisionError
from ..ingest.pings import read_patrol_log, read_pings
from ..model import local_midnight
from ..stages.dosage_result import DosageResult
from ..stages.registry import Stage
from ..stages.results import RunResults
from .previous import PreviousList, find_previous_pack, read_previous_list

__all__ = ["STAGE", "measure_dosage", "patrol_dosage"]

#: Reason recorded when neither pings nor a patrol log are given.
NO_POSITIONS = "no patrol positions given (set [dosage] pings or patrol_log, or pass --pings)"

_NUMBERED = re.compile(r"\(\d+\)\s*")


@dataclass(frozen=True)
class _Asked:
    """The patrol dosage of one place: the structured dosage (None when its tactics name no patrol) and
    the parts of its dosage text that are not patrol (a plan, a letter drop)."""

    dosage: Dosage | None
    skipped: tuple[str, ...]


def patrol_dosage(text: str, window_hours: float = 3.0) -> _Asked:
    """The patrol dosage of an item's dosage text: every numbered part ("(1) ... (2) ...") and every
    ``;``-separated clause that reads as a patrol dosage; with several, the one asking for the most minutes
    a week (the tactics of one place are patrolled together, so their minutes are not added)."""
    parts = [p.strip() for p in _NUMBERED.split(str(text)) if p.strip()]
    found: list[Dosage] = []
    skipped: list[str] = []
    for part in parts:
        try:
            found.append(parse_dosage(part))
            continue
        except ConfigError:
            pass
        clauses = [c.strip() for c in part.split(";") if c.strip()]
        ok = False
        for c in clauses:
            try:
                found.append(parse_dosage(c))
                ok = True
            except ConfigError:
                skipped.append(c)
        if not ok and len(clauses) == 1:
            skipped[-1:] = [part]
    best = max(found, key=lambda d: d.minutes_per_week(window_hours)) if found else None
    return _Asked(best, tuple(skipped))


def _previous(res: RunResults) -> PreviousList:
    """The previous list (``--previous`` or the latest earlier sibling pack); InputError when there is none."""
    given = res.inputs.previous_pack
    pack = Path(given) if given else None
    if pack is None and res.inputs.pack_dir is not None:
        pack = find_previous_pack(Path(res.inputs.pack_dir), res.fim_date)
    if pack is None:
        raise InputError("no previous FIM pack, so there is no earlier list whose patrol could be measured")
    if not pack.is_dir():
        raise InputError(f"previous pack {pack} is not a folder; give the previous FIM pack's folder.")
    prev = read_previous_list(pack, res.grid.crs)
    if not len(prev.items):
        raise InputError(f"the previous list ({pack}) has no ranked items, so there is no patrol to measure")
    if prev.fim_date is None:
        raise InputError(
            f"the previous pack {pack} does not say its meeting date (no manifest.json, folder not named "
            "fim-YYYY-MM-DD), so the patrol period is unknown"
        )
    return prev


def _key(cfg: Config) -> str | None:
    """The pseudonym key from the environment variable named by ``[dosage] pseudonym_key_env`` (None: numbered)."""
    env = cfg.dosage.pseudonym_key_env
    if not env:
        return None
    key = os.environ.get(env, "")
    if len(key) < 16:
        raise InputError(
            f"[dosage] pseudonym_key_env names the environment variable {env}, which is "
            f"{'not set' if not key else 'shorter than 16 characters'}; set it to the partnership's secret key "
            "(at least 16 characters) or leave the setting empty to number the units per run"
        )
    return key


def _visits(
    cfg: Config, res: RunResults, places: gpd.GeoDataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[VisitsResult, dict[str, object], pd.DataFrame, str, list[str]]:
    """Visits from the pings (else the patrol log), the reading summary, the quarantine and the pseudonym rule."""
    d = cfg.dosage
    key = _key(cfg)
    notes: list[str] = []
    if d.pings:
        read = read_pings(
            cfg.path(d.pings),
            timezone=cfg.timezone,
            crs=d.pings_crs or None,
            area=res.area.boundary,
            period=(start, end),
            pseudonym_key=key,
            working_crs=cfg.crs,
        )
        if not len(read.pings):
            raise InputError(
                f"none of the patrol positions in {cfg.path(d.pings)} fall between the last meeting "
                f"({start:%Y-%m-%d}) and this one ({end:%Y-%m-%d}) inside the study area"
            )
        notes.extend(read.notes)
        visits = detect_visits(
            read.pings,
            places,
            crs=read.crs,
            buffer_m=d.buffer_m,
            max_gap_s=d.max_gap_s or None,
            min_dwell_s=d.min_dwell_s,
            drive_speed_mps=d.drive_speed_mps,
            timezone=cfg.timezone,
        )
        return visits, read.summary(), read.quarantine, read.pseudonymisation, notes
    log = read_patrol_log(cfg.path(d.patrol_log), timezone=cfg.timezone, place_ids=places["item_id"], pseudonym_key=key)
    visits = visits_from_log(log.entries, list(places["item_id"]), timezone=cfg.timezone)
    return visits, log.summary(), log.quarantine, log.pseudonymisation, notes


def _plans(items: gpd.GeoDataFrame, window_hours: float, notes: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Per item with a patrol dosage: item_id, the structured dosage and its alert zone's end."""
    rows = []
    asked: dict[str, str] = {}
    no_patrol = []
    dosage = items["dosage"] if "dosage" in items.columns else pd.Series([""] * len(items))
    expires = items["expires"] if "expires" in items.columns else pd.Series([None] * len(items))
    for iid, text, exp in zip(items["item_id"].astype(str), dosage, expires, strict=True):
        a = patrol_dosage("" if pd.isna(text) else str(text), window_hours)
        if a.dosage is None:
            no_patrol.append(iid)
            continue
        end = pd.Timestamp(exp) + pd.Timedelta(days=1) if isinstance(exp, str) and exp else None
        rows.append({"item_id": iid, "dosage": a.dosage, "due_until": end})
        asked[iid] = a.dosage.describe()
    if no_patrol:
        notes.append(
            f"{len(no_patrol)} place(s) of the last list asked for no patrol that can be measured "
            f"({', '.join(no_patrol)}); they are not in the compliance table"
        )
    return pd.DataFrame(rows, columns=["item_id", "dosage", "due_until"]), asked


def _outcomes(
    cfg: Config, res: RunResults, places: gpd.GeoDataFrame, start: pd.Timestamp, end: pd.Timestamp, visits, notes
) -> OutcomesResult | None:
    """Outcomes of the previous places against matched controls; None (with a note) when the data cannot."""
    inc = with_harm(res.incidents, cfg.harm.scheme, cfg.harm_schemes)
    try:
        return tasking_outcomes(
            inc,
            places[["item_id", "geometry"]],
            start,
            end,
            boundary=res.area.boundary,
            buffer_m=cfg.dosage.outcome_buffer_m,
            n_controls=cfg.dosage.controls,
            visits=visits,
        )
    except (InputError, PrecisionError) as exc:
        notes.append(f"the outcomes (crime and harm against matched places) could not be measured: {exc}")
        return None


def measure_dosage(res: RunResults, prev: PreviousList) -> DosageResult:
    """Patrol delivered at ``prev``'s places from its meeting to this one (see the module docstring)."""
    cfg = res.cfg
    d = cfg.dosage
    if not d.pings and not d.patrol_log:
        raise InputError(NO_POSITIONS)
    if prev.fim_date is None:
        raise InputError(f"the previous pack {prev.pack} does not say its meeting date")
    start, end = local_midnight(prev.fim_date, cfg.timezone), res.fim_date
    if end <= start:
        raise InputError(f"the previous pack {prev.pack} is not earlier than this meeting ({end:%Y-%m-%d})")
    notes = list(prev.notes)
    choices: dict[str, str] = {}
    items = prev.items
    if not prev.polygons:
        notes.append(
            "some places of the last list are points (no polygon in its layers.gpkg): patrol there is not measured"
        )
        items = items[items.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    plans, asked = _plans(items, d.peak_window_hours, notes)
    places = gpd.GeoDataFrame(items[["item_id"]].astype(str), geometry=items.geometry.values, crs=items.crs)
    visits, positions, quarantine, rule, read_notes = _visits(cfg, res, places, start, end)
    notes.extend(read_notes)
    for k, v in visits.automatic.items():
        choose(choices, k, f"Patrol visits: {v}")
    comp = dosage_compliance(
        visits,
        plans,
        start,
        end,
        window_hours=d.peak_window_hours,
        under=d.under,
        over=d.over,
    )
    if len(plans) and plans["dosage"].map(lambda x: x.peak_hours).any():
        notes.append(
            "the share of minutes at the asked-for times is left blank for dosages at the peak hours "
            "(the last list's peak hours are not read back); the minutes still count"
        )
    whole = [n for n in comp.notes if "no 'due_until'" in n]
    notes.extend(n for n in comp.notes if n not in whole)
    if whole:
        notes.append(
            f"{len(whole)} place(s) asked for patrol until their alert zone expires; the last list does not say "
            "when, so the whole period is used"
        )
    notes.extend(visits.notes)
    outcomes = _outcomes(cfg, res, places, start, end, visits, notes)
    return DosageResult(
        visits=visits,
        compliance=comp,
        outcomes=outcomes,
        period=(start, end),
        previous_pack=str(prev.pack),
        asked=asked,
        source=visits.source,
        positions=positions,
        quarantine=quarantine,
        pseudonymisation=rule,
        notes=tuple(notes),
        choices=choices,
        place_names=_names(items),
    )


def _names(items: gpd.GeoDataFrame) -> dict[str, str]:
    """Item id -> place name (and ward) as the last list gave them ('' when it had no names)."""
    if "place_name" not in items.columns:
        return {}
    return {str(i): ("" if pd.isna(n) else str(n)) for i, n in zip(items["item_id"], items["place_name"], strict=True)}


def run(res: RunResults) -> DosageResult:
    if not res.cfg.dosage.pings and not res.cfg.dosage.patrol_log:
        raise InputError(NO_POSITIONS)
    return measure_dosage(res, _previous(res))


STAGE: Stage[DosageResult] = Stage(
    name="dosage",
    title="patrol dosage",
    sections=("dosage", "project", "harm"),
    depends_on=(),
    run=run,
)
