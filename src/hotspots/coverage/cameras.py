"""Camera inventories: reading, validating every field, per-type defaults, several lists in one run.

An inventory is a CSV or a vector file (GeoJSON, GeoPackage) with one row per
camera:

``camera_id`` (or ``id``)
    unique within the inventory, non-empty.
``type``
    ``cctv`` (public-space CCTV), ``anpr`` (number-plate reader) or ``traffic``;
    a file without the column uses the source's ``default_type``.
position
    ``x``/``y`` (or ``easting``/``northing``) in the source's ``crs`` (default the
    working CRS, metres), or ``lon``/``lat`` (``longitude``/``latitude``,
    EPSG:4326), or, for vector files, point geometries.
``range_m``, ``bearing_deg``, ``fov_deg``, ``mount_height_m`` (optional)
    viewing range in metres (at most ``[cameras] max_range_m``), bearing in
    degrees clockwise from grid north (0..360), horizontal field of view in
    degrees (0 < fov <= 360) and mounting height in metres (at most
    ``[cameras] max_mount_height_m``). Blank -> the type's default from
    ``[cameras]``. A camera with no bearing is modelled as a full circle (a 360
    degree view) of its range, and its row says so.
``status`` (optional, default ``live``)
    ``live``, ``planned`` or ``faulty`` (``available`` true/false as in TfL's
    list). Only live cameras count as coverage.
description (optional)
    where the camera is, in the publisher's words (``description``,
    ``location_desc``, ``name``, ``location`` or ``view``; or the source's
    ``description_field``). Pages show it instead of the camera id.
positional quality (optional)
    the source's ``quality_field``; each class has a positional-error radius in
    ``position_error_m`` (see :mod:`hotspots.coverage.uncertain`).

Nothing is silently dropped: every rejected row is listed in
:attr:`CameraInventory.rejected` with the inventory, file name, row, camera id,
column, value and reason. A file that is unusable as a whole (missing,
unreadable, without an id, type or position column, or with no valid row at
all) raises :class:`~hotspots.errors.InputError`.

Everything returned is in the working CRS (``target_crs``, default EPSG:27700, metres).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from ..config.sections import CAMERA_TYPES, CameraInventorySource, CamerasConfig
from ..crs import DEFAULT_CRS, crs_extent, crs_label, same_crs
from ..errors import InputError

STATUSES = ("live", "planned", "faulty")
_STATUS_ALIASES = {
    "working": "live",
    "active": "live",
    "operational": "live",
    "true": "live",
    "proposed": "planned",
    "broken": "faulty",
    "offline": "faulty",
    "false": "faulty",
    "not working": "faulty",
}
_TYPE_ALIASES = {
    "public_space": "cctv",
    "public space": "cctv",
    "pscctv": "cctv",
    "dome": "cctv",
    "ptz": "cctv",
    "number_plate": "anpr",
    "anpr_reader": "anpr",
    "jamcam": "traffic",
    "traffic_camera": "traffic",
}

#: Camera types in plain words (pages, tooltips).
TYPE_WORDS = {"cctv": "public-space CCTV", "anpr": "ANPR reader", "traffic": "traffic camera"}

INVENTORY_COLUMNS = (
    "camera_id",
    "inventory",
    "type",
    "x",
    "y",
    "range_m",
    "bearing_deg",
    "fov_deg",
    "mount_height_m",
    "status",
    "description",
    "position_quality",
    "position_error_m",
    "source_row",
    "note",
    "geometry",
)

#: Columns of :attr:`CameraInventory.rejected`; ``kind`` is :data:`INVALID` or :data:`OUTSIDE`.
REJECTED_COLUMNS = ("inventory", "source", "row", "camera_id", "column", "value", "reason", "kind")
INVALID = "invalid"
OUTSIDE = "outside the study area"


@dataclass(frozen=True)
class InventoryInfo:
    """One inventory as read: how the pack names it, its file name (never a local path), its date,
    how many rows the file had and the positional-error radius of each quality class (metres)."""

    label: str
    file: str
    dated: str = ""
    rows: int = 0
    position_error_m: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class InventorySummary:
    """What the pack states about one inventory (counts after validation and the study-area check)."""

    label: str
    file: str
    dated: str
    rows: int
    used: int
    rejected: int  # invalid rows
    outside: int  # rows farther from the study area than [cameras] max_distance_from_area_m
    live: int
    by_type: dict[str, int]
    positions: dict[str, int]  # quality class -> cameras used ({} when positions are exact)
    position_error_m: dict[str, float]
    no_bearing: int  # cameras modelled as a full circle because no bearing was given
    default_range: int  # cameras given their type's default range

    @property
    def approximate(self) -> bool:
        return any(self.position_error_m.get(q, 0.0) > 0 for q in self.positions)

    def statement(self, default_range_m: dict[str, float] | None = None) -> str:
        """One plain sentence: "Barnet Council CCTV dated 2017-06-12: 124 cameras in the list, 122 used; ..."."""
        head = f"{self.label}{f' dated {self.dated}' if self.dated else ''}: {self.rows} camera rows in the list"
        parts = [f"{self.used} used" + (f" ({self.live} live)" if self.live != self.used else "")]
        if self.rejected:
            parts.append(f"{self.rejected} rejected as invalid (listed with the reason)")
        if self.outside:
            parts.append(f"{self.outside} outside the study area")
        if self.positions:
            cls = ", ".join(
                f"{n} {q.replace('_', ' ')} ({_radius_words(self.position_error_m.get(q, 0.0))})"
                for q, n in self.positions.items()
            )
            parts.append(f"positions {'approximate' if self.approximate else 'exact'}: {cls}")
        if self.no_bearing and self.no_bearing == self.used:
            view = "no bearing given: each camera modelled as a 360° view"
        elif self.no_bearing:
            view = f"{self.no_bearing} without a bearing modelled as a 360° view"
        else:
            view = ""
        if view and default_range_m and self.default_range and len(self.by_type) == 1:
            (t,) = self.by_type
            view += f" of {default_range_m.get(t, 0):g} m (no range given)"
        if view:
            parts.append(view)
        return f"{head}, " + "; ".join(parts) + "."


def _radius_words(r: float) -> str:
    return "exact" if r <= 0 else f"within {r:g} m"


@dataclass(frozen=True, eq=False)
class CameraInventory:
    """Validated cameras (GeoDataFrame with :data:`INVENTORY_COLUMNS`, working CRS) plus every rejected row
    (:data:`REJECTED_COLUMNS`) and the inventories they came from."""

    cameras: gpd.GeoDataFrame
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REJECTED_COLUMNS)))
    sources: tuple[InventoryInfo, ...] = ()

    @property
    def source(self) -> str:
        """How reports name the inventories: their labels joined."""
        return " + ".join(s.label for s in self.sources)

    def live(self, types: tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
        """Live cameras, optionally of the given types only."""
        c = self.cameras
        keep = c["status"] == "live"
        if types is not None:
            keep &= c["type"].isin(list(types))
        return c[keep].reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Counts by type and status."""
        c = self.cameras
        if len(c) == 0:
            return pd.DataFrame(columns=["type", "status", "n"])
        return c.groupby(["type", "status"]).size().rename("n").reset_index()

    def summaries(self) -> tuple[InventorySummary, ...]:
        """One :class:`InventorySummary` per inventory, in the order they were read."""
        out = []
        for s in self.sources:
            c = self.cameras[self.cameras["inventory"] == s.label]
            rej = self.rejected[self.rejected["inventory"] == s.label]
            q = c["position_quality"].astype(str)
            positions = {k: int((q == k).sum()) for k in s.position_error_m if (q == k).any()} if len(c) else {}
            notes = c["note"].astype(str)
            out.append(
                InventorySummary(
                    label=s.label,
                    file=s.file,
                    dated=s.dated,
                    rows=s.rows,
                    used=int(len(c)),
                    rejected=int((rej["kind"] == INVALID).sum()),
                    outside=int((rej["kind"] == OUTSIDE).sum()),
                    live=int((c["status"] == "live").sum()),
                    by_type={str(k): int(v) for k, v in c["type"].value_counts().sort_index().items()},
                    positions=positions,
                    position_error_m=dict(s.position_error_m),
                    no_bearing=int(notes.str.contains("no bearing").sum()),
                    default_range=int(notes.str.contains("default range").sum()),
                )
            )
        return tuple(out)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.cameras.drop(columns="geometry"))


def combine(inventories: Sequence[CameraInventory], crs: str = DEFAULT_CRS) -> CameraInventory:
    """Several inventories as one (cameras keep their ``inventory`` label; labels must differ)."""
    labels = [s.label for inv in inventories for s in inv.sources]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise InputError(f"camera inventories share the label(s) {dup}; give each [[cameras.inventories]] a label.")
    cams = [inv.cameras for inv in inventories if len(inv.cameras)]
    frame = (
        gpd.GeoDataFrame(pd.concat(cams, ignore_index=True), geometry="geometry", crs=crs)
        if cams
        else cameras_frame([], crs)
    )
    rej = [inv.rejected for inv in inventories if len(inv.rejected)]
    rejected = pd.concat(rej, ignore_index=True) if rej else pd.DataFrame(columns=list(REJECTED_COLUMNS))
    return CameraInventory(frame, rejected, tuple(s for inv in inventories for s in inv.sources))


# --------------------------------------------------------------------------- reading
def _pick(cols: dict[str, str], *names: str) -> str | None:
    for n in names:
        if n in cols:
            return cols[n]
    return None


def _num(value) -> float | None:
    """Parse a number; None for blank; NaN for unparseable."""
    if value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return None if (isinstance(value, float) and math.isnan(value)) else float(value)
    s = str(value).strip()
    if s == "" or s.lower() in ("nan", "na", "none", "null"):
        return None
    try:
        return float(s)
    except ValueError:
        return float("nan")


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _read_table(
    path: Path, target_crs: str
) -> tuple[pd.DataFrame, np.ndarray | None, np.ndarray | None, str | None, int]:
    """Rows as read plus, for vector files, point x/y in ``target_crs``.

    Returns (table, gx, gy, geometry column or None, first data line).
    """
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except Exception as exc:  # pandas raises many types
            raise InputError(
                f"{path}: cannot read camera inventory CSV ({exc}); save it as UTF-8 CSV with a header row."
            ) from exc
        return df, None, None, None, 2
    if suffix in (".geojson", ".json", ".gpkg", ".shp", ".fgb"):
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:
            raise InputError(f"{path}: cannot read camera inventory ({exc}).") from exc
        if gdf.crs is None:
            raise InputError(f"{path}: the camera file has no CRS; save it with a CRS (EPSG:27700 or EPSG:4326).")
        g = gdf.geometry
        gx = np.full(len(gdf), np.nan)
        gy = np.full(len(gdf), np.nan)
        ok = (~g.isna() & ~g.is_empty).to_numpy()
        if ok.any():
            with np.errstate(all="ignore"):
                pts = g[ok].to_crs(target_crs).representative_point()
            gx[ok] = pts.x.to_numpy()
            gy[ok] = pts.y.to_numpy()
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        return df, gx, gy, "geometry", 1
    raise InputError(f"{path}: camera inventory must be .csv, .geojson, .gpkg or .shp (got {suffix!r}).")


@dataclass(frozen=True)
class _Columns:
    """Which column of an inventory holds each field (None when absent)."""

    id: str
    type: str | None
    x: str | None
    y: str | None
    lon: str | None
    lat: str | None
    range: str | None
    bearing: str | None
    fov: str | None
    height: str | None
    status: str | None
    description: str | None
    quality: str | None
    geometry: str | None

    @property
    def use_xy(self) -> bool:
        return self.x is not None and self.y is not None

    @property
    def use_ll(self) -> bool:
        return self.lon is not None and self.lat is not None

    @classmethod
    def find(cls, df: pd.DataFrame, path: Path, source: CameraInventorySource, geometry: str | None) -> _Columns:
        """Pick the columns by their usual names; a file without an id, type or position column is refused."""
        cols = {str(c).strip().lower(): c for c in df.columns}
        id_col = _pick(cols, "camera_id", "id", "cam_id", "camera", "asset_id")
        if id_col is None:
            raise InputError(
                f"{path}: no camera id column; add a 'camera_id' column (found columns {list(df.columns)})."
            )
        named = {}
        for key in ("description_field", "quality_field"):
            want = getattr(source, key)
            if want and want.strip().lower() not in cols:
                raise InputError(
                    f"{path}: no column {want!r} (the inventory's {key}); found columns {list(df.columns)}."
                )
            named[key] = cols[want.strip().lower()] if want else None
        found = cls(
            id=id_col,
            type=_pick(cols, "type", "camera_type", "kind"),
            x=_pick(cols, "x", "easting", "x_bng"),
            y=_pick(cols, "y", "northing", "y_bng"),
            lon=_pick(cols, "lon", "longitude", "lng"),
            lat=_pick(cols, "lat", "latitude"),
            range=_pick(cols, "range_m", "range"),
            bearing=_pick(cols, "bearing_deg", "bearing", "direction_deg"),
            fov=_pick(cols, "fov_deg", "fov", "field_of_view_deg"),
            height=_pick(cols, "mount_height_m", "height_m", "height"),
            status=_pick(cols, "status", "state", "available"),
            description=named["description_field"]
            or _pick(cols, "description", "location_desc", "location_description", "name", "location", "view"),
            quality=named["quality_field"],
            geometry=geometry,
        )
        if found.type is None and not source.default_type:
            raise InputError(
                f"{path}: no 'type' column; add one with cctv, anpr or traffic per camera (or set the "
                "inventory's default_type when every camera is of one type)."
            )
        if not (found.use_xy or found.use_ll or geometry):
            raise InputError(
                f"{path}: no camera position; add x,y columns (in the inventory's crs, default the "
                "working CRS) or lon,lat columns (EPSG:4326)."
            )
        return found


class _Rejected(Exception):
    """One inventory row is not used: the column, the value and why."""

    def __init__(self, column: str, value: object, reason: str):
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


def _numbers(df: pd.DataFrame, col: str | None) -> np.ndarray:
    """A column as numbers (NaN where blank or not a number; all NaN without the column)."""
    if col is None:
        return np.full(len(df), np.nan)
    v = pd.to_numeric(df[col].map(lambda s: s.strip() if isinstance(s, str) else s), errors="coerce")
    return v.to_numpy(float)


def _positions(df: pd.DataFrame, c: _Columns, gx: np.ndarray | None, gy: np.ndarray | None):
    """Per row: x, y as read and where they came from (``xy``, ``ll``, ``geom`` or ``none``): x/y columns
    first, then lon/lat, then the feature's geometry."""
    n = len(df)
    px, py = np.full(n, np.nan), np.full(n, np.nan)
    kind = np.full(n, "none", dtype=object)
    sources = [("xy", _numbers(df, c.x), _numbers(df, c.y)), ("ll", _numbers(df, c.lon), _numbers(df, c.lat))]
    if gx is not None and gy is not None:
        sources.append(("geom", gx, gy))
    with np.errstate(invalid="ignore"):
        for k, a, b in sources:
            use = (kind == "none") & np.isfinite(a) & np.isfinite(b)
            px[use], py[use], kind[use] = a[use], b[use], k
    return px, py, kind


def _project_positions(px, py, kind, c: _Columns, src_crs: str, target_crs: str, path: Path) -> dict[int, _Rejected]:
    """Transform x/y (``src_crs``) and lon/lat (EPSG:4326) into ``target_crs`` in place; returns rows refused."""
    refused: dict[int, _Rejected] = {}
    for k, crs_from in (("xy", src_crs), ("ll", "EPSG:4326")):
        sel = kind == k
        if k == "ll":
            for i in np.nonzero(sel & ((np.abs(px) > 180) | (np.abs(py) > 90)))[0]:
                refused[int(i)] = _Rejected(
                    f"{c.lon}/{c.lat}", f"{px[i]},{py[i]}", "longitude/latitude out of range; give degrees (EPSG:4326)"
                )
                kind[i] = "bad"
            sel = kind == k
        if not sel.any() or same_crs(crs_from, target_crs):
            continue
        try:
            tr = Transformer.from_crs(crs_from, target_crs, always_xy=True)
        except Exception as exc:
            raise InputError(
                f"{path}: cannot use CRS {crs_from!r} for camera positions ({exc}); "
                "set the inventory's crs to an EPSG code such as EPSG:27700."
            ) from exc
        with np.errstate(all="ignore"):
            px[sel], py[sel] = tr.transform(px[sel], py[sel])
    return refused


def _identity(r: dict, c: _Columns, source: CameraInventorySource, seen: dict[str, int]) -> tuple[str, str]:
    cid = _text(r[c.id])
    if cid == "":
        raise _Rejected(c.id, "", "empty camera id; give every camera a unique id")
    if cid in seen:
        raise _Rejected(c.id, cid, f"duplicate camera id (first seen at row {seen[cid]}); ids must be unique")
    traw = _text(r[c.type]).lower() if c.type else source.default_type
    if c.type and traw == "" and source.default_type:
        traw = source.default_type
    ctype = _TYPE_ALIASES.get(traw, traw)
    if ctype not in CAMERA_TYPES:
        raise _Rejected(c.type or "type", traw, f"unknown camera type; use one of {list(CAMERA_TYPES)}")
    return cid, ctype


def _check_position(r: dict, c: _Columns, x: float, y: float, kind: str, src_crs: str, target_crs: str) -> None:
    if kind == "none":
        where = f"{c.x}/{c.y}" if c.use_xy else (f"{c.lon}/{c.lat}" if c.use_ll else "geometry")
        val = (
            f"{_text(r[c.x])},{_text(r[c.y])}"
            if c.use_xy
            else (f"{_text(r[c.lon])},{_text(r[c.lat])}" if c.use_ll else "")
        )
        raise _Rejected(where, val, "missing or non-numeric position")
    (xmin, ymin, xmax, ymax), area = crs_extent(target_crs)
    degrees = kind == "xy" and abs(x) <= 180 and abs(y) <= 90
    if not (np.isfinite(x) and np.isfinite(y)) or not (xmin <= x <= xmax and ymin <= y <= ymax) or degrees:
        hint = (
            "these look like degrees: put them in lon,lat columns"
            if degrees
            else f"is the inventory's crs ({src_crs!r}) right?"
        )
        shown = f"{x:.1f},{y:.1f}" if np.isfinite(x) and np.isfinite(y) else "not a finite position"
        raise _Rejected(
            f"{c.x}/{c.y}" if kind == "xy" else "position",
            shown,
            f"position is not in {area} ({crs_label(target_crs)}); {hint}",
        )


@dataclass(frozen=True)
class _View:
    """How one camera sees: range (metres), field of view and bearing (degrees), mounting height (metres)."""

    range_m: float
    fov_deg: float
    bearing_deg: float
    mount_height_m: float
    notes: tuple[str, ...]


def _value(r: dict, col: str | None) -> float | None:
    return _num(r[col]) if col else None


def _view(r: dict, c: _Columns, ctype: str, config: CamerasConfig) -> _View:
    """How one row's camera sees, with the type's defaults for blanks; an impossible value rejects the row."""
    notes: list[str] = []
    rng = _value(r, c.range)
    if rng is None:
        rng = config.default_range(ctype)
        notes.append(f"default range {rng:g} m")
    elif not (np.isfinite(rng) and 0 < rng <= config.max_range_m):
        raise _Rejected(
            c.range or "range_m",
            r[c.range],
            f"range_m must be a number of metres above 0 and at most {config.max_range_m:g} "
            "([cameras] max_range_m): no camera sees farther",
        )
    fov = _value(r, c.fov)
    if fov is None:
        fov = config.default_fov(ctype)
    elif not (np.isfinite(fov) and 0 < fov <= 360):
        raise _Rejected(c.fov or "fov_deg", r[c.fov], "fov_deg must be in (0, 360] degrees")
    brg = _value(r, c.bearing)
    if brg is not None and not (np.isfinite(brg) and 0 <= brg <= 360):
        raise _Rejected(
            c.bearing or "bearing_deg",
            r[c.bearing],
            "bearing_deg must be a number of degrees from 0 to 360, clockwise from north",
        )
    if brg is None:
        if fov < 360:
            notes.append(f"no bearing: {fov:g} deg field of view treated as a full circle")
        else:
            notes.append("no bearing: full circle")
        fov, brg = 360.0, 0.0
    height = _value(r, c.height)
    if height is None:
        height = config.mount_height_m
    elif not (np.isfinite(height) and 0 < height <= config.max_mount_height_m):
        raise _Rejected(
            c.height or "mount_height_m",
            r[c.height],
            f"mount_height_m must be a number of metres above 0 and at most {config.max_mount_height_m:g} "
            "([cameras] max_mount_height_m)",
        )
    return _View(float(rng), float(fov), float(brg) % 360.0, float(height), tuple(notes))


def _status(r: dict, c: _Columns, default_status: str) -> str:
    sraw = _text(r[c.status]).lower() if c.status else ""
    status = _STATUS_ALIASES.get(sraw, sraw) if sraw else default_status
    if status not in STATUSES:
        raise _Rejected(c.status or "status", sraw, f"unknown status; use one of {list(STATUSES)}")
    return status


def _quality(r: dict, c: _Columns, source: CameraInventorySource) -> tuple[str, float]:
    if not c.quality:
        return "", 0.0
    q = _text(r[c.quality])
    if q not in source.position_error_m:
        raise _Rejected(
            c.quality,
            q,
            f"unknown position quality; the inventory's position_error_m knows {sorted(source.position_error_m)}",
        )
    return q, float(source.position_error_m[q])


def _row(
    r: dict,
    i: int,
    c: _Columns,
    px: np.ndarray,
    py: np.ndarray,
    kind: np.ndarray,
    source: CameraInventorySource,
    config: CamerasConfig,
    src_crs: str,
    target_crs: str,
    default_status: str,
    seen: dict[str, int],
) -> dict:
    """One validated camera as a dict of :data:`INVENTORY_COLUMNS` (raises :class:`_Rejected`)."""
    cid, ctype = _identity(r, c, source, seen)
    _check_position(r, c, px[i], py[i], kind[i], src_crs, target_crs)
    view = _view(r, c, ctype, config)
    status = _status(r, c, default_status)
    quality, error_m = _quality(r, c, source)
    return {
        "camera_id": cid,
        "type": ctype,
        "x": float(px[i]),
        "y": float(py[i]),
        "range_m": view.range_m,
        "bearing_deg": view.bearing_deg,
        "fov_deg": view.fov_deg,
        "mount_height_m": view.mount_height_m,
        "status": status,
        "description": _text(r[c.description]) if c.description else "",
        "position_quality": quality,
        "position_error_m": error_m,
        "note": "; ".join(view.notes),
    }


def read_inventory(
    path: str | Path,
    config: CamerasConfig | None = None,
    crs: str | None = None,
    default_status: str = "live",
    target_crs: str = DEFAULT_CRS,
    source: CameraInventorySource | None = None,
) -> CameraInventory:
    """Read and validate one camera inventory (CSV or vector file) into ``target_crs`` (metres).

    ``source`` says how to read it (label, date, default type, CRS of x/y,
    description and quality columns); by default the file's name labels it.
    x/y columns of a CSV are in ``crs``, else the source's crs, else
    ``target_crs``. Rows with a problem are not dropped silently: they are
    returned in ``rejected`` with the row (the CSV line number, or the feature
    number), column, value and a reason. Raises :class:`InputError` when the
    file as a whole is unusable.
    """
    config = config or CamerasConfig()
    path = Path(path)
    source = source or CameraInventorySource(
        path=str(path), default_type=config.default_type, crs=config.crs, label=config.label
    )
    label = source.label or path.name
    if not path.exists():
        raise InputError(
            f"camera inventory {path} does not exist; check [cameras] inventory (relative paths "
            "start at [project] data_dir)."
        )
    df, gx, gy, geom_col, first_line = _read_table(path, target_crs)
    c = _Columns.find(df, path, source, geom_col)
    src_crs = crs or source.crs or target_crs
    px, py, kind = _positions(df, c, gx, gy)
    refused = _project_positions(px, py, kind, c, src_crs, target_crs, path)
    rejected: list[dict] = []
    rows: list[dict] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(df.to_dict("records")):
        line = i + first_line
        try:
            if i in refused:
                raise refused[i]
            row = _row(r, i, c, px, py, kind, source, config, src_crs, target_crs, default_status, seen)
        except _Rejected as why:
            rejected.append(
                {
                    "inventory": label,
                    "source": path.name,
                    "row": line,
                    "camera_id": _text(r[c.id]),
                    "column": why.column,
                    "value": _text(why.value),
                    "reason": why.reason,
                    "kind": INVALID,
                }
            )
            continue
        seen[row["camera_id"]] = line
        rows.append({**row, "inventory": label, "source_row": line})
    rej = pd.DataFrame(rejected, columns=list(REJECTED_COLUMNS))
    if len(df) and not rows:
        first = "; ".join(f"row {a.row} {a.column}: {a.reason}" for a in rej.head(3).itertuples())
        raise InputError(f"{path}: no valid camera rows ({len(rej)} rejected), e.g. {first}.")
    info = InventoryInfo(label, path.name, source.dated, int(len(df)), dict(source.position_error_m))
    return CameraInventory(cameras_frame(rows, target_crs), rej.sort_values("row").reset_index(drop=True), (info,))


def restrict_to_area(inventory: CameraInventory, boundary, max_distance_m: float) -> CameraInventory:
    """Set aside cameras farther than ``max_distance_m`` metres from ``boundary`` (listed in ``rejected``)."""
    c = inventory.cameras
    if len(c) == 0 or max_distance_m < 0:
        return inventory
    d = c.geometry.distance(boundary).to_numpy()
    far = d > max_distance_m
    if not far.any():
        return inventory
    files = {s.label: s.file for s in inventory.sources}
    extra = pd.DataFrame(
        {
            "inventory": c.loc[far, "inventory"].to_numpy(),
            "source": [files.get(v, "") for v in c.loc[far, "inventory"]],
            "row": c.loc[far, "source_row"].to_numpy(),
            "camera_id": c.loc[far, "camera_id"].to_numpy(),
            "column": "position",
            "value": [f"{x:.0f},{y:.0f}" for x, y in zip(c.loc[far, "x"], c.loc[far, "y"], strict=True)],
            "reason": [f"{v:.0f} m from the study area (more than {max_distance_m:g} m)" for v in d[far]],
            "kind": OUTSIDE,
        },
        columns=list(REJECTED_COLUMNS),
    )
    rej = pd.concat([inventory.rejected, extra], ignore_index=True) if len(inventory.rejected) else extra
    return CameraInventory(c[~far].reset_index(drop=True), rej, inventory.sources)


def cameras_frame(rows: list[dict] | pd.DataFrame, crs: str = DEFAULT_CRS) -> gpd.GeoDataFrame:
    """A GeoDataFrame of cameras in ``crs`` (metres) from row dicts with INVENTORY_COLUMNS (minus geometry)."""
    df = pd.DataFrame(rows, columns=[c for c in INVENTORY_COLUMNS if c != "geometry"])
    df = df.astype(
        {
            "x": float,
            "y": float,
            "range_m": float,
            "bearing_deg": float,
            "fov_deg": float,
            "mount_height_m": float,
            "position_error_m": float,
        }
    )
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=crs)


def make_cameras(
    x,
    y,
    ctype: str = "cctv",
    range_m=None,
    bearing_deg=0.0,
    fov_deg=None,
    status: str = "live",
    ids=None,
    config: CamerasConfig | None = None,
    crs: str = DEFAULT_CRS,
    position_error_m=0.0,
) -> gpd.GeoDataFrame:
    """Cameras from arrays of metres in ``crs``, e.g. candidate sites; defaults per type from ``config``."""
    config = config or CamerasConfig()
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    n = len(x)
    rng = np.broadcast_to(config.default_range(ctype) if range_m is None else np.asarray(range_m, float), (n,))
    fov = np.broadcast_to(config.default_fov(ctype) if fov_deg is None else np.asarray(fov_deg, float), (n,))
    brg = np.broadcast_to(np.asarray(bearing_deg, float), (n,))
    err = np.broadcast_to(np.asarray(position_error_m, float), (n,))
    ids = [f"{ctype}_{i}" for i in range(n)] if ids is None else [str(v) for v in ids]
    rows = [
        {
            "camera_id": ids[i],
            "inventory": "",
            "type": ctype,
            "x": x[i],
            "y": y[i],
            "range_m": rng[i],
            "bearing_deg": brg[i] % 360,
            "fov_deg": fov[i],
            "mount_height_m": config.mount_height_m,
            "status": status,
            "description": "",
            "position_quality": "",
            "position_error_m": err[i],
            "source_row": -1,
            "note": "",
        }
        for i in range(n)
    ]
    return cameras_frame(rows, crs)


def load_tfl_jamcams(
    path: str | Path,
    config: CamerasConfig | None = None,
    boundary=None,
    within_m: float | None = None,
    target_crs: str = DEFAULT_CRS,
) -> CameraInventory:
    """TfL JamCam traffic cameras (GeoJSON, EPSG:4326) as a ``traffic`` inventory.

    ``available == false`` becomes status ``faulty``. With ``boundary`` (a
    shapely polygon in ``target_crs``) and ``within_m``, only cameras within that
    distance of the boundary are kept (the others are listed in ``rejected``
    with the reason, so nothing disappears silently). These are road-traffic
    cameras, not council CCTV; reports say which inventory was used.
    The generic :func:`read_inventory` with ``default_type = "traffic"`` reads
    the same file the same way.
    """
    config = config or CamerasConfig()
    path = Path(path)
    label = f"TfL JamCam traffic cameras ({path.name})"
    if not path.exists():
        raise InputError(f"TfL JamCam file {path} does not exist.")
    g = gpd.read_file(path)
    if "camera_id" not in g.columns:
        raise InputError(f"{path}: no 'camera_id' property; is this the TfL JamCam GeoJSON?")
    g = g.to_crs(target_crs)
    avail = g["available"].astype(str).str.lower() if "available" in g.columns else pd.Series(["true"] * len(g))
    rows, rejected = [], []
    dist = g.geometry.distance(boundary).to_numpy() if boundary is not None else np.zeros(len(g))
    for i in range(len(g)):
        if within_m is not None and dist[i] > within_m:
            rejected.append(
                {
                    "inventory": label,
                    "source": path.name,
                    "row": i + 1,
                    "camera_id": str(g["camera_id"].iat[i]),
                    "column": "geometry",
                    "value": str(g["camera_id"].iat[i]),
                    "reason": f"{dist[i]:.0f} m from the study area (more than {within_m:g} m)",
                    "kind": OUTSIDE,
                }
            )
            continue
        rows.append(
            {
                "camera_id": str(g["camera_id"].iat[i]),
                "inventory": label,
                "type": "traffic",
                "x": g.geometry.x.iat[i],
                "y": g.geometry.y.iat[i],
                "range_m": config.traffic_range_m,
                "bearing_deg": 0.0,
                "fov_deg": 360.0,
                "mount_height_m": config.mount_height_m,
                "status": "live" if avail.iat[i] == "true" else "faulty",
                "description": str(g["view"].iat[i]) if "view" in g.columns else "",
                "position_quality": "",
                "position_error_m": 0.0,
                "source_row": i + 1,
                "note": "TfL JamCam (road-traffic camera, not council CCTV); no bearing: full circle",
            }
        )
    rej = pd.DataFrame(rejected, columns=list(REJECTED_COLUMNS))
    info = InventoryInfo(label, path.name, "", int(len(g)))
    return CameraInventory(cameras_frame(rows, target_crs), rej, (info,))
