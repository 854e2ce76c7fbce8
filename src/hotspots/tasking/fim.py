"""The FIM tasking list: ranked items with stable ids, tactics and the change since the last meeting.

Ids persist across fortnights: an item continues a previous item when their
areas overlap by at least ``[tasking] match_overlap`` (intersection over the
smaller area) and have the same main crime type. Pairs are matched greedily from the largest overlap down (ties
broken by rank and id), so the same inputs always give the same ids. A new
item gets ``<id_prefix><FIM date yymmdd>-<nn>`` numbered in rank order.

Status against the previous list: *new* (no match), *continuing* (matched),
*escalated* (matched and the score rose by at least ``escalation_ratio``),
*closed* (a previous item that nothing on this list continues; listed after the
ranked items without a rank).

The previous list is read from the previous pack's ``layers.gpkg`` (layer
``tasking_items``): the pack given with ``--previous DIR``, else the latest
sibling folder ``fim-YYYY-MM-DD`` dated before this FIM.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ..config.sections import TaskingConfig
from ..errors import InputError
from ..stages.results import CSV_COLUMNS, ITEMS_LAYER, RunResults, TaskingList
from .playbook import Playbook, playbook_of
from .rank import candidate_items, rank_items

PACK_DIR = re.compile(r"^fim-(\d{4}-\d{2}-\d{2})$")

__all__ = [
    "CSV_COLUMNS",
    "ITEMS_LAYER",
    "TaskingList",
    "build_tasking",
    "find_previous_pack",
    "match_items",
    "read_previous_items",
]


# --------------------------------------------------------------------------- previous pack
def find_previous_pack(out_dir: Path, fim_date: pd.Timestamp) -> Path | None:
    """The latest sibling ``fim-YYYY-MM-DD`` folder dated before ``fim_date`` that holds a layers.gpkg."""
    parent = Path(out_dir).resolve().parent
    if not parent.is_dir():
        return None
    best = None
    for p in parent.iterdir():
        m = PACK_DIR.match(p.name)
        if not m or not p.is_dir() or not (p / "layers.gpkg").exists():
            continue
        d = pd.Timestamp(m.group(1))
        if d.date() < fim_date.date() and (best is None or d > best[0]):
            best = (d, p)
    return best[1] if best else None


def read_previous_items(pack: Path, crs: str | None = None) -> gpd.GeoDataFrame:
    """The ranked items of a previous pack (GeoDataFrame), reprojected to ``crs`` when given."""
    f = Path(pack) / "layers.gpkg"
    if not f.exists():
        raise InputError(
            f"previous pack {pack} has no layers.gpkg; pass a pack folder written by "
            "`hotspots run` (it holds layers.gpkg) or leave out --previous."
        )
    try:
        layers = [n for n, _ in pyogrio.list_layers(f)]
    except Exception as exc:  # pyogrio raises its own DataSourceError for unreadable files
        raise InputError(
            f"{f} is not a readable GeoPackage ({exc}); pass a pack folder written by "
            "`hotspots run` or leave out --previous."
        ) from None
    if ITEMS_LAYER not in layers:
        raise InputError(
            f"{f} has no {ITEMS_LAYER!r} layer; it was not written by this version of "
            "`hotspots run`. Leave out --previous to start a fresh list."
        )
    prev = gpd.read_file(f, layer=ITEMS_LAYER)
    if crs is None:
        return prev
    return prev.to_crs(crs) if prev.crs is not None else prev.set_crs(crs)


# --------------------------------------------------------------------------- matching
def match_items(cur: gpd.GeoDataFrame, prev: gpd.GeoDataFrame | None, min_overlap: float) -> dict[int, int]:
    """Greedy one-to-one matching current row -> previous row by overlap (intersection / smaller area).

    Only items with the same main crime type match (when both lists give one).
    """
    if prev is None or not len(prev) or not len(cur):
        return {}
    cg = np.asarray(cur.geometry.values)
    pg = np.asarray(prev.geometry.values)
    pairs = []
    for i, g in enumerate(cg):
        inter = shapely.area(shapely.intersection(pg, g))
        small = np.minimum(shapely.area(pg), g.area)
        ov = np.where(small > 0, inter / np.where(small > 0, small, 1), 0.0)
        if "main_crime_type" in prev.columns and "main_crime_type" in cur.columns:
            # the same place with a different problem is a different item
            ov = np.where(prev["main_crime_type"].astype(str).to_numpy() == str(cur["main_crime_type"].iat[i]), ov, 0.0)
        for j in np.nonzero(ov >= min_overlap)[0]:
            pairs.append((-round(float(ov[j]), 9), i, str(prev["item_id"].iat[j]), int(j)))
    pairs.sort()
    used_c, used_p, out = set(), set(), {}
    for _, i, _, j in pairs:
        if i in used_c or j in used_p:
            continue
        out[i] = j
        used_c.add(i)
        used_p.add(j)
    return out


def _previous_items(
    previous: str | Path | None, out_dir: str | Path | None, fim: pd.Timestamp, crs: str, notes: list[str]
) -> tuple[Path | None, gpd.GeoDataFrame | None]:
    """The previous pack and its ranked items: ``previous`` when given (its problems are errors), else the latest
    earlier sibling of ``out_dir`` (an unusable one is noted and ignored)."""
    if previous and not Path(previous).is_dir():
        raise InputError(f"--previous {previous}: not a folder; give the previous FIM pack's folder.")
    prev_dir = Path(previous) if previous else (find_previous_pack(Path(out_dir), fim) if out_dir else None)
    if prev_dir is None:
        return None, None
    try:
        return prev_dir, read_previous_items(prev_dir, crs)
    except InputError as exc:
        if previous:  # asked for explicitly: say what is wrong
            raise
        notes.append(f"earlier pack {prev_dir} ignored: {exc}")
        return None, None


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
    for i, r in enumerate(items.itertuples()):
        if prev is not None and i in match:
            p = prev.iloc[match[i]]
            ids.append(str(p["item_id"]))
            prev_rank.append(int(p["rank"]))
            ps = float(p["score"]) if pd.notna(p["score"]) else 0.0
            status.append("escalated" if ps > 0 and r.score >= tcfg.escalation_ratio * ps else "continuing")
            continue
        n_new += 1
        while f"{tcfg.id_prefix}{fim:%y%m%d}-{n_new:02d}" in taken:  # never reuse an earlier id
            n_new += 1
        ids.append(f"{tcfg.id_prefix}{fim:%y%m%d}-{n_new:02d}")
        prev_rank.append(None)
        status.append("new")
    return ids, status, prev_rank


def _with_tactics(items: gpd.GeoDataFrame, book: Playbook) -> gpd.GeoDataFrame:
    """Tactic, dosage and owner of each item from the first playbook rule that matches it."""
    tactic, dosage, owner = [], [], []
    for r in items.itertuples():
        rule = book.choose(r.kind, r.main_crime_type, r.time_of_day)
        tactic.append(rule.tactic)
        dosage.append(rule.dosage)
        owner.append(rule.owner.format(ward_name=r.ward_name, ward_code=r.ward_code))
    items["tactic"], items["dosage"], items["owner"] = tactic, dosage, owner
    return items


def _closed_items(
    prev: gpd.GeoDataFrame | None, match: dict[int, int], columns: list[str], crs: str
) -> gpd.GeoDataFrame:
    """The previous items nothing on this list continues, marked closed (no rank)."""
    if prev is None or not len(prev):
        return gpd.GeoDataFrame({c: [] for c in columns if c != "geometry"}, geometry=[], crs=crs)
    gone = sorted(set(range(len(prev))) - set(match.values()))
    closed = prev.iloc[gone].copy()
    closed["status"] = "closed"
    closed["previous_rank"] = closed["rank"]
    closed["rank"] = None
    closed["reason"] = "Closed: no qualifying hotspot or alert zone overlaps this place in the current window."
    closed["review_date"] = ""
    return closed


def build_tasking(
    res: RunResults,
    previous: str | Path | None = None,
    out_dir: str | Path | None = None,
    tcfg: TaskingConfig | None = None,
) -> TaskingList:
    """Rank the run's items, give them ids, tactics, owners and status against the previous list.

    ``previous`` is a pack folder; without it the latest earlier sibling of
    ``out_dir`` named ``fim-YYYY-MM-DD`` is used when there is one.
    """
    cfg = res.cfg
    tcfg = tcfg or cfg.tasking
    book = playbook_of(cfg)
    notes = list(book.notes)
    fim = res.fim_date
    review = fim + pd.Timedelta(days=tcfg.review_days or cfg.analysis.fortnight_days)
    items = rank_items(candidate_items(res, tcfg), tcfg)
    prev_dir, prev = _previous_items(previous, out_dir, fim, res.grid.crs, notes)
    match = match_items(items, prev, tcfg.match_overlap)
    ids, status, prev_rank = _ids_and_status(items, prev, match, tcfg, fim)
    items = items.copy()
    items.insert(1, "item_id", ids)
    items.insert(2, "status", status)
    items["previous_rank"] = prev_rank
    items = _with_tactics(items, book)
    items["review_date"] = f"{review:%Y-%m-%d}"
    items["reason"] = [
        rs[:-1]
        + (
            f"; was rank {pr} at the last FIM" + (", score up" if st == "escalated" else "") + "."
            if pr is not None
            else "."
        )
        for rs, pr, st in zip(items["reason"], items["previous_rank"], items["status"])
    ]
    closed = _closed_items(prev, match, list(items.columns), res.grid.crs)
    if prev_dir is None:
        notes.append("no previous FIM pack found: every item is new")
    return TaskingList(
        items=items,
        closed=closed,
        fim_date=fim,
        review_date=review,
        previous=str(prev_dir) if prev_dir else "",
        playbook_source=book.source,
        notes=tuple(notes),
    )
