"""The last meeting's list, read back from its pack, and which of its places this list continues.

The previous pack is the one given with ``--previous DIR``, else the latest
sibling folder ``fim-YYYY-MM-DD`` dated before this meeting. Its list is read
from ``tasking.csv`` (the figures: rank, score, incidents, harm) and its places'
polygons from ``layers.gpkg`` (layer ``tasking_items``, joined on ``item_id``);
either may be missing:

* ``tasking.csv`` missing: the figures come from the GeoPackage layer;
* ``layers.gpkg`` missing (or an item not in it): the item is the point
  ``x, y`` of the CSV, and a place continues it when the point lies inside it;
* a figure column missing (a pack from an older version): a note says what
  cannot be shown (for example the change in harm), the rest works.

Only ``item_id`` is required. Cells the CSV writer protected from spreadsheet
formulas (a leading apostrophe) are read back as written.

Matching: an item continues a previous item when their places overlap by at
least ``[tasking] match_overlap`` (intersection over the smaller area), whatever
their crime types. Pairs are matched one to one, greedily from the largest
overlap down (ties broken by the previous item's id), so the same inputs always
give the same ids.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ..errors import InputError
from ..stages.tasking_list import ITEMS_LAYER

PACK_DIR = re.compile(r"^fim-(\d{4}-\d{2}-\d{2})$")

#: Columns of the previous list this list uses, and what is lost without each.
FIGURES = {
    "rank": "its ranks are not shown as the last rank",
    "score": "escalation (a score up by a quarter or more) cannot be judged",
    "incidents": "the change in incidents since the last FIM is not shown",
    "harm": "the change in harm since the last FIM is not shown",
}


@dataclass(frozen=True, eq=False)
class PreviousList:
    """The last meeting's ranked items (``items``: GeoDataFrame in the working CRS with at least ``item_id``,
    ``rank``, ``score``, ``incidents``, ``harm``, NaN where the pack did not have them), its pack folder, its
    meeting date (None when unknown), whether its places are polygons (else points) and notes."""

    pack: Path
    items: gpd.GeoDataFrame
    fim_date: pd.Timestamp | None
    polygons: bool
    notes: tuple[str, ...] = ()


def find_previous_pack(out_dir: Path, fim_date: pd.Timestamp) -> Path | None:
    """The latest sibling ``fim-YYYY-MM-DD`` folder dated before ``fim_date`` that holds a tasking list."""
    parent = Path(out_dir).resolve().parent
    if not parent.is_dir():
        return None
    best = None
    for p in parent.iterdir():
        m = PACK_DIR.match(p.name)
        if not m or not p.is_dir() or not ((p / "layers.gpkg").exists() or (p / "tasking.csv").exists()):
            continue
        d = pd.Timestamp(m.group(1))
        if d.date() < fim_date.date() and (best is None or d > best[0]):
            best = (d, p)
    return best[1] if best else None


def _unprotect(v: object) -> object:
    """A CSV cell as written before spreadsheet protection (a leading apostrophe before = + - @ removed)."""
    if isinstance(v, str) and len(v) > 1 and v[0] == "'" and v[1] in "=+-@\t\r":
        return v[1:]
    return v


def _read_csv(f: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(f, encoding="utf-8-sig", dtype={"item_id": str}, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{f} is not a readable tasking list ({exc}); pass a pack folder written by `hotspots run` "
            "or leave out --previous."
        ) from None
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].map(_unprotect)
    return df


def _read_layer(f: Path) -> gpd.GeoDataFrame:
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
    return gpd.read_file(f, layer=ITEMS_LAYER)


def read_previous_items(pack: Path, crs: str | None = None) -> gpd.GeoDataFrame:
    """The ranked items of a previous pack's ``layers.gpkg`` (GeoDataFrame), reprojected to ``crs`` when given."""
    f = Path(pack) / "layers.gpkg"
    if not f.exists():
        raise InputError(
            f"previous pack {pack} has no layers.gpkg; pass a pack folder written by "
            "`hotspots run` (it holds layers.gpkg) or leave out --previous."
        )
    prev = _read_layer(f)
    if crs is None:
        return prev
    return prev.to_crs(crs) if prev.crs is not None else prev.set_crs(crs)


def pack_date(pack: Path) -> pd.Timestamp | None:
    """The previous meeting's date: ``fim_date`` of its manifest.json, else its folder name."""
    man = pack / "manifest.json"
    if man.exists():
        try:
            d = json.loads(man.read_text(encoding="utf-8")).get("fim_date")
            if d:
                return pd.Timestamp(d)
        except (ValueError, OSError):
            pass
    m = PACK_DIR.match(pack.name)
    return pd.Timestamp(m.group(1)) if m else None


def read_previous_list(pack: Path, crs: str) -> PreviousList:
    """The previous pack's ranked list (see the module docstring); :class:`InputError` when it holds none."""
    pack = Path(pack)
    csv, gpkg = pack / "tasking.csv", pack / "layers.gpkg"
    notes: list[str] = []
    layer = None
    if gpkg.exists():
        layer = read_previous_items(pack, crs)
    if csv.exists():
        table = pd.DataFrame(_read_csv(csv))
    elif layer is not None:
        table = pd.DataFrame(layer.drop(columns=layer.geometry.name))
    else:
        raise InputError(
            f"previous pack {pack} has neither tasking.csv nor layers.gpkg; pass a pack folder written by "
            "`hotspots run` or leave out --previous."
        )
    source = csv.name if csv.exists() else gpkg.name
    if "item_id" not in table.columns:
        raise InputError(
            f"{pack / source} has no 'item_id' column, so its places cannot keep their ids; "
            "pass a pack folder written by `hotspots run` or leave out --previous."
        )
    if "rank" in table.columns:
        table = table[pd.to_numeric(table["rank"], errors="coerce").notna()]  # closed rows have no rank
    if "status" in table.columns:
        table = table[table["status"].astype(str) != "closed"]
    table = table.reset_index(drop=True)
    table["item_id"] = table["item_id"].astype(str)
    for col, lost in FIGURES.items():
        if col not in table.columns:
            notes.append(f"the last list ({pack / source}) has no {col!r} column (an older version): {lost}")
            table[col] = np.nan
        else:
            table[col] = pd.to_numeric(table[col], errors="coerce")
    if layer is not None and "item_id" in layer.columns:
        for c in ("counts_by_type", "main_crime_type"):  # the crime types, kept in the layer only
            if c not in table.columns and c in layer.columns:
                table[c] = table["item_id"].map(dict(zip(layer["item_id"].astype(str), layer[c], strict=True)))
    geoms, polygons = _geometries(table, layer, pack, notes)
    keep = np.array([g is not None for g in geoms], dtype=bool)
    if not keep.all():
        notes.append(
            f"{int((~keep).sum())} item(s) of the last list have neither a polygon in layers.gpkg nor x, y "
            "in tasking.csv; they cannot be continued and are not listed as closed"
        )
    items = gpd.GeoDataFrame(table[keep].reset_index(drop=True), geometry=[g for g in geoms if g is not None], crs=crs)
    return PreviousList(pack=pack, items=items, fim_date=pack_date(pack), polygons=polygons, notes=tuple(notes))


def _geometries(
    table: pd.DataFrame, layer: gpd.GeoDataFrame | None, pack: Path, notes: list[str]
) -> tuple[list[object], bool]:
    """Each item's polygon from the layer (by id), else its x, y point; whether every item has a polygon."""
    by_id = {}
    if layer is not None and "item_id" in layer.columns:
        by_id = dict(zip(layer["item_id"].astype(str), layer.geometry, strict=True))
    has_xy = "x" in table.columns and "y" in table.columns
    xs = pd.to_numeric(table["x"], errors="coerce").to_numpy(float) if has_xy else None
    ys = pd.to_numeric(table["y"], errors="coerce").to_numpy(float) if has_xy else None
    out: list[object] = []
    n_points = 0
    for k, iid in enumerate(table["item_id"]):
        g = by_id.get(iid)
        if g is not None and not g.is_empty:
            out.append(g)
        elif xs is not None and ys is not None and np.isfinite(xs[k]) and np.isfinite(ys[k]):
            out.append(shapely.Point(xs[k], ys[k]))
            n_points += 1
        else:
            out.append(None)
    if n_points:
        notes.append(
            f"{n_points} item(s) of the last list have no polygon in {pack / 'layers.gpkg'}: they are matched "
            "by their point (x, y), which must lie inside a place"
        )
    return out, n_points == 0


def overlaps(cur: np.ndarray, prev: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(current index, previous index, overlap) for every intersecting pair: intersection over the smaller
    area for two polygons, 1 when a previous point lies inside a current place."""
    if not len(cur) or not len(prev):
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    pj, ci = shapely.STRtree(cur).query(prev, predicate="intersects")
    a_cur = shapely.area(cur[ci])
    a_prev = shapely.area(prev[pj])
    inter = shapely.area(shapely.intersection(cur[ci], prev[pj]))
    small = np.minimum(a_cur, a_prev)
    ov = np.where(small > 0, inter / np.where(small > 0, small, 1.0), 0.0)
    point = a_prev == 0  # a point (or line) of an older list: inside the place or not
    ov = np.where(point, shapely.covers(cur[ci], prev[pj]).astype(float), ov)
    return ci.astype(np.int64), pj.astype(np.int64), ov


def match_items(cur: gpd.GeoDataFrame, prev: gpd.GeoDataFrame | None, min_overlap: float) -> dict[int, int]:
    """Greedy one-to-one matching current row -> previous row by overlap (see the module docstring)."""
    if prev is None or not len(prev) or not len(cur):
        return {}
    ci, pj, ov = overlaps(np.asarray(cur.geometry.values), np.asarray(prev.geometry.values))
    ids = prev["item_id"].astype(str).to_numpy()
    pairs = sorted(
        (-round(float(o), 9), int(i), str(ids[j]), int(j))
        for i, j, o in zip(ci, pj, ov, strict=True)
        if o >= min_overlap
    )
    used_c: set[int] = set()
    used_p: set[int] = set()
    out: dict[int, int] = {}
    for _, i, _, j in pairs:
        if i in used_c or j in used_p:
            continue
        out[i] = j
        used_c.add(i)
        used_p.add(j)
    return out
