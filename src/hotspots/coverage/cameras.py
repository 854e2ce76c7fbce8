"""Camera inventory: reading, validation and per-type defaults.

An inventory is a CSV or a vector file (GeoJSON, GeoPackage) with one row per
camera:

``camera_id`` (or ``id``)
    unique, non-empty.
``type``
    ``cctv`` (public-space CCTV), ``anpr`` (number-plate reader) or ``traffic``.
position
    ``x``/``y`` (or ``easting``/``northing``) in ``[cameras] crs`` (default
    EPSG:27700, metres), or ``lon``/``lat`` (``longitude``/``latitude``,
    EPSG:4326), or, for vector files, point geometries.
``range_m``, ``bearing_deg``, ``fov_deg`` (optional)
    viewing range in metres, bearing in degrees clockwise from grid north and
    horizontal field of view in degrees. Blank -> the type's default from
    ``[cameras]``. A camera whose field of view is narrower than 360 degrees
    but has no bearing is kept and treated as a full circle, with a note.
``status`` (optional, default ``live``)
    ``live``, ``planned`` or ``faulty``. Only live cameras count as coverage.
``description`` (optional)
    free text.

Nothing is silently dropped: every rejected row is listed in
:attr:`CameraInventory.rejected` with the file, row, column, value and reason.
A file that is unusable as a whole (missing, unreadable, without an id, type or
position column, or with no valid row at all) raises
:class:`~hotspots.errors.InputError`.

Everything returned is in the working CRS (``target_crs``, default EPSG:27700, metres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from ..config.sections import CAMERA_TYPES, CamerasConfig
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

INVENTORY_COLUMNS = (
    "camera_id",
    "type",
    "x",
    "y",
    "range_m",
    "bearing_deg",
    "fov_deg",
    "status",
    "description",
    "source_row",
    "note",
    "geometry",
)


@dataclass(frozen=True, eq=False)
class CameraInventory:
    """Validated cameras (GeoDataFrame with :data:`INVENTORY_COLUMNS`, working CRS) plus every rejected row."""

    cameras: gpd.GeoDataFrame
    rejected: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["source", "row", "column", "value", "reason"])
    )
    source: str = ""

    def live(self, types: tuple[str, ...] | None = None):
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

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.cameras.drop(columns="geometry"))


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
    """Rows as strings plus, for vector files, point x/y in ``target_crs``.

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
        if len(gdf):
            g = g.to_crs(target_crs)
        gx = np.full(len(gdf), np.nan)
        gy = np.full(len(gdf), np.nan)
        ok = (~g.isna() & ~g.is_empty).to_numpy()
        if ok.any():
            pts = g[ok].representative_point()
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
    status: str | None
    description: str | None
    geometry: str | None

    @property
    def use_xy(self) -> bool:
        return self.x is not None and self.y is not None

    @property
    def use_ll(self) -> bool:
        return self.lon is not None and self.lat is not None

    @classmethod
    def find(cls, df: pd.DataFrame, path: Path, config: CamerasConfig, geometry: str | None) -> _Columns:
        """Pick the columns by their usual names; a file without an id, type or position column is refused."""
        cols = {str(c).strip().lower(): c for c in df.columns}
        id_col = _pick(cols, "camera_id", "id", "cam_id", "camera", "asset_id")
        if id_col is None:
            raise InputError(
                f"{path}: no camera id column; add a 'camera_id' column (found columns {list(df.columns)})."
            )
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
            status=_pick(cols, "status", "state", "available"),
            description=_pick(cols, "description", "name", "location", "view"),
            geometry=geometry,
        )
        if found.type is None and not config.default_type:
            raise InputError(
                f"{path}: no 'type' column; add one with cctv, anpr or traffic per camera (or set "
                "[cameras] default_type when every camera is of one type)."
            )
        if not (found.use_xy or found.use_ll or geometry):
            raise InputError(
                f"{path}: no camera position; add x,y columns (in [cameras] crs, default the "
                "working CRS) or lon,lat columns (EPSG:4326)."
            )
        return found


class _Rejected(Exception):
    """One inventory row is not used: the column, the value and why."""

    def __init__(self, column: str, value: object, reason: str):
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


def _positions(df: pd.DataFrame, c: _Columns, gx: np.ndarray | None, gy: np.ndarray | None):
    """Per row: x, y as read and where they came from (``xy``, ``ll``, ``geom`` or ``none``)."""
    n = len(df)
    px, py = np.full(n, np.nan), np.full(n, np.nan)
    kind = np.array(["none"] * n, dtype=object)
    for i in range(n):
        if c.use_xy:
            xv, yv = _num(df.iloc[i][c.x]), _num(df.iloc[i][c.y])
            if xv is not None and yv is not None and np.isfinite(xv) and np.isfinite(yv):
                px[i], py[i], kind[i] = xv, yv, "xy"
                continue
        if c.use_ll:
            lo, la = _num(df.iloc[i][c.lon]), _num(df.iloc[i][c.lat])
            if lo is not None and la is not None and np.isfinite(lo) and np.isfinite(la):
                px[i], py[i], kind[i] = lo, la, "ll"
                continue
        if gx is not None and gy is not None and np.isfinite(gx[i]):
            px[i], py[i], kind[i] = gx[i], gy[i], "geom"
    return px, py, kind


def _project_positions(px, py, kind, c: _Columns, src_crs: str, target_crs: str, path: Path) -> dict[int, _Rejected]:
    """Transform x/y (``src_crs``) and lon/lat (EPSG:4326) into ``target_crs`` in place; returns rows refused."""
    refused: dict[int, _Rejected] = {}
    for k, crs_from in (("xy", src_crs), ("ll", "EPSG:4326")):
        sel = kind == k
        if not sel.any() or same_crs(crs_from, target_crs):
            continue
        try:
            tr = Transformer.from_crs(crs_from, target_crs, always_xy=True)
        except Exception as exc:
            raise InputError(
                f"{path}: cannot use CRS {crs_from!r} for camera positions ({exc}); "
                "set [cameras] crs to an EPSG code such as EPSG:27700."
            ) from exc
        if k == "ll":
            for i in np.nonzero(sel & ((np.abs(px) > 180) | (np.abs(py) > 90)))[0]:
                refused[int(i)] = _Rejected(
                    f"{c.lon}/{c.lat}", f"{px[i]},{py[i]}", "longitude/latitude out of range; give degrees (EPSG:4326)"
                )
                kind[i] = "bad"
            sel = kind == k
        px[sel], py[sel] = tr.transform(px[sel], py[sel])
    return refused


def _identity(r: pd.Series, c: _Columns, config: CamerasConfig, seen: dict[str, int]) -> tuple[str, str]:
    cid = _text(r[c.id])
    if cid == "":
        raise _Rejected(c.id, "", "empty camera id; give every camera a unique id")
    if cid in seen:
        raise _Rejected(c.id, cid, f"duplicate camera id (first seen at row {seen[cid]}); ids must be unique")
    traw = _text(r[c.type]).lower() if c.type else config.default_type
    ctype = _TYPE_ALIASES.get(traw, traw)
    if ctype not in CAMERA_TYPES:
        raise _Rejected(c.type or "type", traw, f"unknown camera type; use one of {list(CAMERA_TYPES)}")
    return cid, ctype


def _check_position(r: pd.Series, c: _Columns, x: float, y: float, kind: str, src_crs: str, target_crs: str) -> None:
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
            else f"is [cameras] crs = {src_crs!r} right?"
        )
        raise _Rejected(
            f"{c.x}/{c.y}" if kind == "xy" else "position",
            f"{x:.1f},{y:.1f}",
            f"position is not in {area} ({crs_label(target_crs)}); {hint}",
        )


def _view(r: pd.Series, c: _Columns, ctype: str, config: CamerasConfig) -> tuple[float, float, float, list[str]]:
    """(range metres, field of view degrees, bearing degrees, notes) of one row, type defaults for blanks."""
    notes: list[str] = []
    rng = _num(r[c.range]) if c.range else None
    if rng is None:
        rng = config.default_range(ctype)
    elif not (np.isfinite(rng) and rng > 0):
        raise _Rejected(c.range or "range_m", r[c.range], "range_m must be a positive number of metres")
    fov = _num(r[c.fov]) if c.fov else None
    if fov is None:
        fov = config.default_fov(ctype)
    elif not (np.isfinite(fov) and 0 < fov <= 360):
        raise _Rejected(c.fov or "fov_deg", r[c.fov], "fov_deg must be in (0, 360] degrees")
    brg = _num(r[c.bearing]) if c.bearing else None
    if brg is not None and not np.isfinite(brg):
        raise _Rejected(
            c.bearing or "bearing_deg", r[c.bearing], "bearing_deg must be a number of degrees clockwise from north"
        )
    if brg is None:
        if fov < 360:
            notes.append(f"no bearing: {fov:g} deg field of view treated as a full circle")
            fov = 360.0
        brg = 0.0
    return float(rng), float(fov), float(brg) % 360.0, notes


def _status(r: pd.Series, c: _Columns, default_status: str) -> str:
    sraw = _text(r[c.status]).lower() if c.status else ""
    status = (_STATUS_ALIASES.get(sraw, sraw) if sraw else default_status) if c.status else default_status
    if status not in STATUSES:
        raise _Rejected(c.status or "status", sraw, f"unknown status; use one of {list(STATUSES)}")
    return status


def read_inventory(
    path: str | Path,
    config: CamerasConfig | None = None,
    crs: str | None = None,
    default_status: str = "live",
    target_crs: str = DEFAULT_CRS,
) -> CameraInventory:
    """Read and validate a camera inventory (CSV or vector file) into ``target_crs`` (metres).

    x/y columns of a CSV are in ``crs``, else ``config.crs``, else
    ``target_crs``. Rows with a problem are not dropped silently: they are
    returned in ``rejected`` with the file, row (the CSV line number, or the
    feature number), column, value and a reason. Raises :class:`InputError`
    when the file as a whole is unusable.
    """
    config = config or CamerasConfig()
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"camera inventory {path} does not exist; check [cameras] inventory (relative paths "
            "start at [project] data_dir)."
        )
    df, gx, gy, geom_col, first_line = _read_table(path, target_crs)
    c = _Columns.find(df, path, config, geom_col)
    src_crs = crs or config.crs or target_crs
    px, py, kind = _positions(df, c, gx, gy)
    refused = _project_positions(px, py, kind, c, src_crs, target_crs, path)
    rejected: list[dict] = []
    rows: list[dict] = []
    seen: dict[str, int] = {}
    for i in range(len(df)):
        r = df.iloc[i]
        line = i + first_line
        try:
            if i in refused:
                raise refused[i]
            cid, ctype = _identity(r, c, config, seen)
            _check_position(r, c, px[i], py[i], kind[i], src_crs, target_crs)
            rng, fov, brg, notes = _view(r, c, ctype, config)
            status = _status(r, c, default_status)
        except _Rejected as why:
            rejected.append(
                {
                    "source": str(path),
                    "row": line,
                    "column": why.column,
                    "value": _text(why.value),
                    "reason": why.reason,
                }
            )
            continue
        seen[cid] = line
        rows.append(
            {
                "camera_id": cid,
                "type": ctype,
                "x": float(px[i]),
                "y": float(py[i]),
                "range_m": rng,
                "bearing_deg": brg,
                "fov_deg": fov,
                "status": status,
                "description": _text(r[c.description]) if c.description else "",
                "source_row": line,
                "note": "; ".join(notes),
            }
        )
    rej = pd.DataFrame(rejected, columns=["source", "row", "column", "value", "reason"])
    if len(df) and not rows:
        first = "; ".join(f"row {a.row} {a.column}: {a.reason}" for a in rej.head(3).itertuples())
        raise InputError(f"{path}: no valid camera rows ({len(rej)} rejected), e.g. {first}.")
    return CameraInventory(cameras_frame(rows, target_crs), rej.sort_values("row").reset_index(drop=True), str(path))


def restrict_to_area(inventory: CameraInventory, boundary, max_distance_m: float) -> CameraInventory:
    """Set aside cameras farther than ``max_distance_m`` metres from ``boundary`` (listed in ``rejected``)."""
    c = inventory.cameras
    if len(c) == 0 or max_distance_m < 0:
        return inventory
    d = c.geometry.distance(boundary).to_numpy()
    far = d > max_distance_m
    if not far.any():
        return inventory
    extra = pd.DataFrame(
        {
            "source": inventory.source,
            "row": c.loc[far, "source_row"].to_numpy(),
            "column": "position",
            "value": c.loc[far, "camera_id"].to_numpy(),
            "reason": [f"{v:.0f} m from the study area (more than {max_distance_m:g} m)" for v in d[far]],
        }
    )
    rej = pd.concat([inventory.rejected, extra], ignore_index=True) if len(inventory.rejected) else extra
    return CameraInventory(c[~far].reset_index(drop=True), rej, inventory.source)


def cameras_frame(rows: list[dict] | pd.DataFrame, crs: str = DEFAULT_CRS) -> gpd.GeoDataFrame:
    """A GeoDataFrame of cameras in ``crs`` (metres) from row dicts with INVENTORY_COLUMNS (minus geometry)."""
    df = pd.DataFrame(rows, columns=[c for c in INVENTORY_COLUMNS if c != "geometry"])
    df = df.astype({"x": float, "y": float, "range_m": float, "bearing_deg": float, "fov_deg": float})
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
) -> gpd.GeoDataFrame:
    """Cameras from arrays of metres in ``crs``, e.g. candidate sites; defaults per type from ``config``."""
    config = config or CamerasConfig()
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    n = len(x)
    rng = np.broadcast_to(config.default_range(ctype) if range_m is None else np.asarray(range_m, float), (n,))
    fov = np.broadcast_to(config.default_fov(ctype) if fov_deg is None else np.asarray(fov_deg, float), (n,))
    brg = np.broadcast_to(np.asarray(bearing_deg, float), (n,))
    ids = [f"{ctype}_{i}" for i in range(n)] if ids is None else [str(v) for v in ids]
    rows = [
        {
            "camera_id": ids[i],
            "type": ctype,
            "x": x[i],
            "y": y[i],
            "range_m": rng[i],
            "bearing_deg": brg[i] % 360,
            "fov_deg": fov[i],
            "status": status,
            "description": "",
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
    """
    config = config or CamerasConfig()
    path = Path(path)
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
                    "source": str(path),
                    "row": i + 1,
                    "column": "geometry",
                    "value": g["camera_id"].iat[i],
                    "reason": f"{dist[i]:.0f} m from the study area (more than {within_m:g} m)",
                }
            )
            continue
        rows.append(
            {
                "camera_id": str(g["camera_id"].iat[i]),
                "type": "traffic",
                "x": g.geometry.x.iat[i],
                "y": g.geometry.y.iat[i],
                "range_m": config.traffic_range_m,
                "bearing_deg": 0.0,
                "fov_deg": 360.0,
                "status": "live" if avail.iat[i] == "true" else "faulty",
                "description": str(g["view"].iat[i]) if "view" in g.columns else "",
                "source_row": i + 1,
                "note": "TfL JamCam (road-traffic camera, not council CCTV); no bearing: full circle",
            }
        )
    rej = pd.DataFrame(rejected, columns=["source", "row", "column", "value", "reason"])
    return CameraInventory(cameras_frame(rows, target_crs), rej, f"TfL JamCam traffic cameras ({path.name})")
