"""The FIM tasking list: ranked places with stable ids, tactics, owners and the change since the last meeting.

An item is a place (:mod:`hotspots.tasking.places`). Ids persist across
fortnights: an item continues a previous item when their places overlap by at
least ``[tasking] match_overlap`` (:mod:`hotspots.tasking.previous`), whatever
their crime types. A new item gets ``<id_prefix><FIM date yymmdd>-<nn>``
numbered in rank order, never an id used before.

Status against the previous list: *new* (no match), *continuing* (matched),
*escalated* (matched and the score rose by at least ``escalation_ratio``),
*closed* (a previous item that nothing on this list continues; listed after the
ranked items without a rank, saying when it became part of another item).

Each item has one tactic per problem (:func:`hotspots.tasking.playbook.tactic_set`),
one owner (the Safer Neighbourhood Team of the ward holding most of its harm,
saying which other teams share it), what changed since the last list and
whether the last tasking worked (:mod:`hotspots.tasking.changes`). Columns that
carry no information for the data at hand (peak times with month data, the
change with no previous pack, ...) are left out with the reason
(``TaskingList.omitted``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config.sections import TaskingConfig
from ..errors import InputError
from ..model import coarsest_precision, local_midnight
from ..stages.results import RunResults
from ..stages.tasking_list import (
    CSV_COLUMNS,
    ITEMS_LAYER,
    OmittedColumn,
    Tactic,
    TaskingList,
    item_columns,
)
from .changes import change_words, incidents_now, period_incidents, previous_types, worked, worked_refusal
from .places import describe_places
from .playbook import Playbook, numbered, playbook_of, tactic_set
from .previous import (
    PreviousList,
    find_previous_pack,
    match_items,
    overlaps,
    read_previous_items,
    read_previous_list,
)
from .rank import rank_items
from .stability import item_robustness, item_stability, robustness_words, stability_words

__all__ = [
    "CSV_COLUMNS",
    "ITEMS_LAYER",
    "TaskingList",
    "build_tasking",
    "find_previous_pack",
    "match_items",
    "read_previous_items",
    "read_previous_list",
]


# --------------------------------------------------------------------------- previous pack
def _previous_list(
    previous: str | Path | None,
    out_dir: str | Path | None,
    fim: pd.Timestamp,
    crs: str,
    timezone: str,
    notes: list[str],
) -> PreviousList | None:
    """The previous pack's list: ``previous`` when given (its problems are errors), else the latest earlier
    sibling of ``out_dir`` (an unusable one is noted and ignored). Its meeting date is local midnight in
    ``timezone``."""
    if previous and not Path(previous).is_dir():
        raise InputError(f"--previous {previous}: not a folder; give the previous FIM pack's folder.")
    prev_dir = Path(previous) if previous else (find_previous_pack(Path(out_dir), fim) if out_dir else None)
    if prev_dir is None:
        return None
    try:
        pl = read_previous_list(prev_dir, crs)
    except InputError as exc:
        if previous:  # asked for explicitly: say what is wrong
            raise
        notes.append(f"earlier pack {prev_dir} ignored: {exc}")
        return None
    notes.extend(pl.notes)
    if pl.fim_date is not None:
        pl = dataclasses.replace(pl, fim_date=local_midnight(pl.fim_date, timezone))
    return pl


def _ids_and_status(
    items: gpd.GeoDataFrame,
    prev: gpd.GeoDataFrame | None,
    match: dict[int, int],
    tcfg: TaskingConfig,
    fim: pd.Timestamp,
) -> tuple[list[str], list[str], list[int | None]]:
    """Per item: its id (the previous item's when it continues one, else a new one never used before), its status
    against the previous list and its previous rank."""
    ids: list[str] = []
    status: list[str] = []
    prev_rank: list[int | None] = []
    n_new = 0
    taken = set(prev["item_id"].astype(str)) if prev is not None and len(prev) else set()
    for i, score in enumerate(items["score"].to_numpy(float)):
        if prev is not None and i in match:
            p = prev.iloc[match[i]]
            ids.append(str(p["item_id"]))
            prev_rank.append(int(p["rank"]) if pd.notna(p["rank"]) else None)
            ps = float(p["score"]) if pd.notna(p["score"]) else 0.0
            status.append("escalated" if ps > 0 and score >= tcfg.escalation_ratio * ps else "continuing")
            continue
        n_new += 1
        while f"{tcfg.id_prefix}{fim:%y%m%d}-{n_new:02d}" in taken:  # never reuse an earlier id
            n_new += 1
        ids.append(f"{tcfg.id_prefix}{fim:%y%m%d}-{n_new:02d}")
        prev_rank.append(None)
        status.append("new")
    return ids, status, prev_rank


def _with_tactics(items: gpd.GeoDataFrame, book: Playbook) -> dict[str, tuple[Tactic, ...]]:
    """Tactic, dosage and owner columns of each item from its problems; returns the tactic sets by item id."""
    sets: dict[str, tuple[Tactic, ...]] = {}
    tactic, dosage, owner = [], [], []
    for iid, probs, wn, wc, shared, stab in zip(
        items["item_id"],
        items["problems"],
        items["ward_name"],
        items["ward_code"],
        items["shared_with"],
        items["stability_label"],
        strict=True,
    ):
        ts = tactic_set(book, [tuple(p) for p in json.loads(probs)], wn, wc, stab)
        sets[str(iid)] = ts
        labels = [", ".join(t.problems) for t in ts]
        tactic.append(numbered([t.tactic for t in ts], labels))
        dosage.append(numbered([t.dosage for t in ts]))
        owner.append(ts[0].owner + (f" (shared with {shared})" if shared else ""))
    items["tactic"], items["dosage"], items["owner"] = tactic, dosage, owner
    return sets


def _with_stability(res: RunResults, items: gpd.GeoDataFrame) -> None:
    """The chronic/acute label and the robustness of each item's place (empty without the concentration stage)."""
    conc = res.concentration
    if conc is None:
        items["stability"], items["stability_label"], items["robustness"] = "", "", ""
        return
    stab = item_stability(res, conc, items)
    items["stability"] = [stability_words(s) for s in stab]
    items["stability_label"] = [s.label if s is not None else "" for s in stab]
    items["robustness"] = [robustness_words(v, conc.fragile_below) for v in item_robustness(conc, items)]


def _reasons(items: gpd.GeoDataFrame) -> list[str]:
    return [
        rs[:-1]
        + (
            f"; was rank {pr} at the last FIM" + (", score up" if st == "escalated" else "") + "."
            if pr is not None and pd.notna(pr)
            else "."
        )
        for rs, pr, st in zip(items["reason"], items["previous_rank"], items["status"], strict=True)
    ]


# --------------------------------------------------------------------------- what changed, did it work
def _changes(
    items: gpd.GeoDataFrame, prev: PreviousList | None, match: dict[int, int], unit: str, count_scheme: bool
) -> list[str]:
    out = []
    for i in range(len(items)):
        if prev is None:
            out.append("")
        elif i in match:
            p = prev.items.iloc[match[i]]
            out.append(
                change_words(
                    float(items["incidents"].iat[i]),
                    float(items["harm"].iat[i]),
                    float(p["incidents"]),
                    float(p["harm"]),
                    unit,
                    count_scheme,
                )
            )
        else:
            out.append("new: not on the last list")
    return out


def _worked(res: RunResults, prev: PreviousList | None, rows: list[int], refusal: str) -> dict[int, str]:
    """ "Did it work" for the given rows of the previous list (previous row -> words)."""
    if prev is None or refusal or prev.fim_date is None:
        return {}
    period = period_incidents(res, prev.fim_date)
    out = {}
    for j in rows:
        p = prev.items.iloc[j]
        types = previous_types(p.get("counts_by_type"), p.get("main_crime_type"))
        out[j] = worked(res, p.geometry, types, prev.fim_date, period).text
    return out


def _largest_overlaps(cur: gpd.GeoDataFrame, prev: gpd.GeoDataFrame) -> dict[int, tuple[int, float]]:
    """Previous row -> (current row it overlaps most, that overlap), for previous rows that overlap any."""
    ci, pj, ov = overlaps(np.asarray(cur.geometry.values), np.asarray(prev.geometry.values))
    out: dict[int, tuple[int, float]] = {}
    for i, j, o in sorted(zip(ci, pj, ov, strict=True), key=lambda t: (-t[2], t[0])):
        if o > 0 and int(j) not in out:
            out[int(j)] = (int(i), float(o))
    return out


def _closed_reasons(
    closed: gpd.GeoDataFrame, items: gpd.GeoDataFrame, below: gpd.GeoDataFrame, tcfg: TaskingConfig, distance: float
) -> list[str]:
    """Why each previous item closed: now part of another item, overlapping a new item too little to keep its
    id, still a place but below the top ``max_items``, or no hotspot or zone there any more."""
    in_list = _largest_overlaps(items, closed)
    under = _largest_overlaps(below, closed) if len(below) else {}
    n_places = len(items) + len(below)
    out = []
    for j in range(len(closed)):
        if j in in_list:
            i, o = in_list[j]
            iid = items["item_id"].iat[i]
            if items["status"].iat[i] == "new":
                keep = 100 * tcfg.match_overlap
                out.append(
                    f"Closed: new item {iid} overlaps it by only {100 * o:.0f}% (of the smaller of the two), less "
                    f"than the {keep:.0f}% at which a place keeps its id ([tasking] match_overlap)."
                )
            else:
                out.append(
                    f"Closed: now part of item {iid} (hotspots and alert zones within {distance:g} m of each other "
                    "are one place)."
                )
        elif j in under:
            rank = int(below["rank"].iat[under[j][0]])
            out.append(
                f"Closed: still a hotspot place, but it ranks {rank} of {n_places} this time, below the top "
                f"{tcfg.max_items} ([tasking] max_items)."
            )
        else:
            out.append("Closed: no qualifying hotspot or alert zone overlaps this place in the current window.")
    return out


def _closed_items(
    res: RunResults,
    prev: PreviousList | None,
    match: dict[int, int],
    items: gpd.GeoDataFrame,
    below: gpd.GeoDataFrame,
    tcfg: TaskingConfig,
    distance: float,
    worked_by_prev: dict[int, str],
) -> gpd.GeoDataFrame:
    """The previous items nothing on this list continues, marked closed (no rank), saying why and what they have
    now. ``below`` are this meeting's places ranked below the list (with their rank among all places)."""
    crs = res.grid.crs
    if prev is None or not len(prev.items):
        return gpd.GeoDataFrame({c: [] for c in items.columns if c != "geometry"}, geometry=[], crs=crs)
    gone = sorted(set(range(len(prev.items))) - set(match.values()))
    closed = prev.items.iloc[gone].copy().reset_index(drop=True)
    changes = []
    window = res.recent()
    for j in range(len(closed)):
        p = closed.iloc[j]
        n, _ = incidents_now(window, p.geometry, previous_types(p.get("counts_by_type"), p.get("main_crime_type")))
        was = f" (was {float(p['incidents']):,.0f})" if pd.notna(p["incidents"]) else ""
        changes.append(f"{n:,} incidents of its crime types in the window inside it{was}")
    closed["status"] = "closed"
    closed["previous_rank"] = closed["rank"]
    closed["rank"] = None
    closed["reason"] = _closed_reasons(closed, items, below, tcfg, distance)
    closed["change"] = changes
    closed["worked"] = [worked_by_prev.get(j, "") for j in gone]
    closed["review_date"] = ""
    return closed


# --------------------------------------------------------------------------- columns that carry information
def _empty(values: pd.Series) -> bool:
    return bool(
        values.map(lambda v: v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or v == "").all()
    )


def omitted_columns(
    res: RunResults,
    items: gpd.GeoDataFrame,
    closed: gpd.GeoDataFrame,
    prev: PreviousList | None,
    worked_reason: str,
    delivered: bool,
    harm_unit: str,
) -> tuple[OmittedColumn, ...]:
    """The columns that carry no information for this list, each with the reason in plain words."""
    labels = {c.key: c.label for c in item_columns(harm_unit)}
    out: dict[str, str] = {}
    precision = coarsest_precision(res.recent())
    if precision != "minute":
        why = (
            f"times of day are known only to the {precision}"
            + (" (police.uk data)" if precision == "month" else "")
            + ", so there are no peak days or hours; the tactics say to patrol when the SNT knows the place is "
            "busy, and the analyst can ask for incident (CAD) times to set the hours"
        )
        out["peak_days"] = out["peak_hours"] = why
    for key, stage, what in (
        ("trend_class", "trends", "the emerging-hotspot trends"),
        ("near_repeat_window", "nearrepeat", "the near-repeat analysis"),
        ("cctv_coverage", "coverage", "the CCTV coverage analysis"),
        ("stability", "concentration", "the analysis of chronic and acute places"),
        ("robustness", "concentration", "the robustness analysis"),
    ):
        if res.result(stage) is None:
            out[key] = f"{what} did not run ({res.not_run.get(stage, 'not run')})"
    for key, why in (
        ("stability", "there are too few whole years (or half-years) of data to tell chronic from acute places"),
        ("robustness", "no hotspot area was tested against other grids and search radii"),
    ):
        if key not in out and key in items.columns and _empty(items[key]):
            out[key] = why
    if prev is None:
        for key in ("previous_rank", "change", "worked"):
            out[key] = "there is no last list to compare with (no earlier FIM pack was found)"
    else:
        if worked_reason:
            out["worked"] = worked_reason
        both = pd.concat([pd.DataFrame(items.drop(columns="geometry")), pd.DataFrame(closed.drop(columns="geometry"))])
        for key in ("previous_rank", "worked"):
            if key not in out and (key not in both.columns or _empty(both[key])):
                out[key] = "no place of the last list is on this list or closed"
    if not delivered:
        out["delivered"] = "patrol delivered is not recorded yet (it comes from patrol GPS pings or a patrol log)"
    return tuple(OmittedColumn(k, labels[k], out[k]) for k in CSV_COLUMNS if k in out)


# --------------------------------------------------------------------------- the list
def build_tasking(
    res: RunResults,
    previous: str | Path | None = None,
    out_dir: str | Path | None = None,
    tcfg: TaskingConfig | None = None,
) -> TaskingList:
    """Rank the run's places, give them ids, tactics, owners and status against the previous list.

    ``previous`` is a pack folder; without it the latest earlier sibling of
    ``out_dir`` named ``fim-YYYY-MM-DD`` is used when there is one.
    """
    cfg = res.cfg
    tcfg = tcfg or cfg.tasking
    book = playbook_of(cfg)
    notes = list(book.notes)
    fim = res.fim_date
    review = fim + pd.Timedelta(days=tcfg.review_days or cfg.analysis.fortnight_days)
    unit = cfg.harm_unit()
    places = describe_places(res, tcfg)
    every = rank_items(places.frame, dataclasses.replace(tcfg, max_items=max(len(places.frame), 1)), unit)
    items, below = every.head(tcfg.max_items), every.iloc[tcfg.max_items :]
    prev = _previous_list(previous, out_dir, fim, res.grid.crs, cfg.timezone, notes)
    prev_items = prev.items if prev is not None else None
    match = match_items(items, prev_items, tcfg.match_overlap)
    ids, status, prev_rank = _ids_and_status(items, prev_items, match, tcfg, fim)
    items = items.copy()
    items.insert(1, "item_id", ids)
    items.insert(2, "status", status)
    items["previous_rank"] = pd.array(prev_rank, dtype="Int64")
    _with_stability(res, items)
    tactics = _with_tactics(items, book)
    items["review_date"] = f"{review:%Y-%m-%d}"
    items["reason"] = _reasons(items)
    items["change"] = _changes(items, prev, match, unit, cfg.harm.scheme == "count")
    refusal = worked_refusal(res, prev.fim_date) if prev is not None else ""
    gone = sorted(set(range(len(prev.items))) - set(match.values())) if prev is not None else []
    worked_by_prev = _worked(res, prev, sorted(match.values()) + gone, refusal)
    items["worked"] = [worked_by_prev.get(match[i], "") if i in match else "" for i in range(len(items))]
    items["delivered"] = ""
    closed = _closed_items(res, prev, match, items, below, tcfg, places.merge_distance_m, worked_by_prev)
    if prev is None:
        notes.append("no previous FIM pack found: every item is new")
    omitted = omitted_columns(res, items, closed, prev, refusal, False, unit)
    gone_keys = {o.key for o in omitted}
    return TaskingList(
        items=items,
        closed=closed,
        fim_date=fim,
        review_date=review,
        previous=str(prev.pack) if prev is not None else "",
        playbook_source=book.source,
        notes=tuple(notes),
        columns=tuple(c for c in item_columns(unit) if c.key not in gone_keys),
        omitted=omitted,
        harm_unit=unit,
        merge_distance_m=places.merge_distance_m,
        choices=dict(places.choices),
        tactics=tactics,
    )
