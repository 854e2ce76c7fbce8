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

Everything returned is EPSG:27700 (metres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError

BNG = "EPSG:27700"
CAMERA_TYPES = ("cctv", "anpr", "traffic")
STATUSES = ("live", "planned", "faulty")
_STATUS_ALIASES = {"working": "live", "active": "live", "operational": "live", "true": "live",
                   "proposed": "planned", "broken": "faulty", "offline": "faulty", "false": "faulty",
                   "not working": "faulty"}
_TYPE_ALIASES = {"public_space": "cctv", "public space": "cctv", "pscctv": "cctv", "dome": "cctv",
                 "ptz": "cctv", "number_plate": "anpr", "anpr_reader": "anpr", "jamcam": "traffic",
                 "traffic_camera": "traffic"}

INVENTORY_COLUMNS = ("camera_id", "type", "x", "y", "range_m", "bearing_deg", "fov_deg", "status",
                     "description", "source_row", "note", "geometry")


@dataclass(frozen=True)
class CamerasConfig:
    """[cameras]: the inventory file and per-type viewing defaults.

    Ranges in metres, angles in degrees (bearing clockwise from grid north),
    heights in metres above ground.
    """

    inventory: str = ""
    crs: str = BNG  # CRS of x/y columns in a CSV inventory
    obstruction: str = ""  # optional building-height / DSM GeoTIFF (metres above ground)
    obstruction_is_dsm: bool = False  # true: raster holds absolute heights (DSM); ground = min of raster
    cctv_range_m: float = 80.0
    cctv_fov_deg: float = 360.0
    anpr_range_m: float = 30.0
    anpr_fov_deg: float = 60.0
    traffic_range_m: float = 150.0
    traffic_fov_deg: float = 360.0
    mount_height_m: float = 6.0
    target_height_m: float = 1.5
    coverage_types: tuple[str, ...] = ("cctv", "anpr", "traffic")
    label: str = ""  # how reports name the inventory (default: the file name)
    default_type: str = ""  # type for every row when the file has no 'type' column (e.g. "traffic")
    max_distance_from_area_m: float = -1.0  # >= 0: cameras farther from the study area are set aside (listed)

    def validate(self, where: str) -> None:
        for t in CAMERA_TYPES:
            r, f = getattr(self, f"{t}_range_m"), getattr(self, f"{t}_fov_deg")
            if not (r > 0):
                raise ConfigError(f"{where}: [cameras] {t}_range_m must be > 0 metres, got {r}.")
            if not (0 < f <= 360):
                raise ConfigError(f"{where}: [cameras] {t}_fov_deg must be in (0, 360] degrees, got {f}.")
        if self.mount_height_m < 0 or self.target_height_m < 0:
            raise ConfigError(f"{where}: [cameras] mount_height_m and target_height_m must be >= 0 metres.")
        if self.default_type and self.default_type not in CAMERA_TYPES:
            raise ConfigError(f"{where}: [cameras] default_type must be one of {list(CAMERA_TYPES)}, "
                              f"got {self.default_type!r}.")
        bad = [t for t in self.coverage_types if t not in CAMERA_TYPES]
        if bad:
            raise ConfigError(f"{where}: [cameras] coverage_types has unknown type(s) {bad}; "
                              f"choose from {list(CAMERA_TYPES)}.")

    def default_range(self, ctype: str) -> float:
        return float(getattr(self, f"{ctype}_range_m"))

    def default_fov(self, ctype: str) -> float:
        return float(getattr(self, f"{ctype}_fov_deg"))


@dataclass(frozen=True, eq=False)
class CameraInventory:
    """Validated cameras (EPSG:27700) plus every rejected row with its reason."""

    cameras: object  # GeoDataFrame with INVENTORY_COLUMNS
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["source", "row", "column", "value", "reason"]))
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


def _read_table(path: Path) -> tuple[pd.DataFrame, np.ndarray | None, np.ndarray | None, str | None, int]:
    """Rows as strings plus, for vector files, point x/y in EPSG:27700.

    Returns (table, gx, gy, geometry_problem_per_row or None, first_data_line).
    """
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except Exception as exc:  # pandas raises many types
            raise InputError(f"{path}: cannot read camera inventory CSV ({exc}); save it as UTF-8 CSV "
                             "with a header row.") from exc
        return df, None, None, None, 2
    if suffix in (".geojson", ".json", ".gpkg", ".shp", ".fgb"):
        import geopandas as gpd

        try:
            gdf = gpd.read_file(path)
        except Exception as exc:
            raise InputError(f"{path}: cannot read camera inventory ({exc}).") from exc
        if gdf.crs is None:
            raise InputError(f"{path}: the camera file has no CRS; save it with a CRS (EPSG:27700 or EPSG:4326).")
        g = gdf.geometry
        if len(gdf):
            g = g.to_crs(BNG)
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


def read_inventory(path: str | Path, config: CamerasConfig | None = None, crs: str | None = None,
                   default_status: str = "live") -> CameraInventory:
    """Read and validate a camera inventory (CSV or vector file) into EPSG:27700.

    ``crs`` overrides ``config.crs`` for x/y columns in a CSV. Rows with a
    problem are not dropped silently: they are returned in ``rejected`` with the
    file, row (the CSV line number, or the feature number), column, value and a
    reason. Raises :class:`InputError` when the file as a whole is unusable.
    """
    config = config or CamerasConfig()
    path = Path(path)
    if not path.exists():
        raise InputError(f"camera inventory {path} does not exist; check [cameras] inventory (relative paths "
                         "start at [project] data_dir).")
    df, gx, gy, geom_col, first_line = _read_table(path)
    cols = {str(c).strip().lower(): c for c in df.columns}
    id_col = _pick(cols, "camera_id", "id", "cam_id", "camera", "asset_id")
    type_col = _pick(cols, "type", "camera_type", "kind")
    x_col = _pick(cols, "x", "easting", "x_bng")
    y_col = _pick(cols, "y", "northing", "y_bng")
    lon_col = _pick(cols, "lon", "longitude", "lng")
    lat_col = _pick(cols, "lat", "latitude")
    range_col = _pick(cols, "range_m", "range")
    bearing_col = _pick(cols, "bearing_deg", "bearing", "direction_deg")
    fov_col = _pick(cols, "fov_deg", "fov", "field_of_view_deg")
    status_col = _pick(cols, "status", "state", "available")
    desc_col = _pick(cols, "description", "name", "location", "view")
    if id_col is None:
        raise InputError(f"{path}: no camera id column; add a 'camera_id' column (found columns "
                         f"{list(df.columns)}).")
    if type_col is None and not config.default_type:
        raise InputError(f"{path}: no 'type' column; add one with cctv, anpr or traffic per camera (or set "
                         "[cameras] default_type when every camera is of one type).")
    use_xy = x_col is not None and y_col is not None
    use_ll = lon_col is not None and lat_col is not None
    if not (use_xy or use_ll or geom_col):
        raise InputError(f"{path}: no camera position; add x,y columns (in [cameras] crs, default EPSG:27700) "
                         "or lon,lat columns (EPSG:4326).")
    src_crs = crs or config.crs
    n = len(df)
    rejected: list[dict] = []
    rows: list[dict] = []
    px = np.full(n, np.nan)
    py = np.full(n, np.nan)
    p_crs = []

    def reject(i, column, value, reason):
        rejected.append({"source": str(path), "row": i + first_line, "column": column,
                         "value": _text(value), "reason": reason})

    # positions: numeric parse first, transform in bulk afterwards
    pos_kind = np.array(["none"] * n, dtype=object)
    for i in range(n):
        if use_xy:
            xv, yv = _num(df.iloc[i][x_col]), _num(df.iloc[i][y_col])
            if xv is not None and yv is not None and np.isfinite(xv) and np.isfinite(yv):
                px[i], py[i], pos_kind[i] = xv, yv, "xy"
                continue
        if use_ll:
            lo, la = _num(df.iloc[i][lon_col]), _num(df.iloc[i][lat_col])
            if lo is not None and la is not None and np.isfinite(lo) and np.isfinite(la):
                px[i], py[i], pos_kind[i] = lo, la, "ll"
                continue
        if gx is not None and np.isfinite(gx[i]):
            px[i], py[i], pos_kind[i] = gx[i], gy[i], "bng"
    del p_crs
    from pyproj import Transformer

    for kind, crs_from in (("xy", src_crs), ("ll", "EPSG:4326")):
        sel = pos_kind == kind
        if sel.any() and str(crs_from).upper() != BNG:
            try:
                tr = Transformer.from_crs(crs_from, BNG, always_xy=True)
            except Exception as exc:
                raise InputError(f"{path}: cannot use CRS {crs_from!r} for camera positions ({exc}); "
                                 "set [cameras] crs to an EPSG code such as EPSG:27700.") from exc
            if kind == "ll":
                bad_ll = sel & ((np.abs(px) > 180) | (np.abs(py) > 90))
                for i in np.nonzero(bad_ll)[0]:
                    reject(i, f"{lon_col}/{lat_col}", f"{px[i]},{py[i]}",
                           "longitude/latitude out of range; give degrees (EPSG:4326)")
                    pos_kind[i] = "bad"
                sel = pos_kind == kind
            tx, ty = tr.transform(px[sel], py[sel])
            px[sel], py[sel] = tx, ty

    seen: dict[str, int] = {}
    for i in range(n):
        r = df.iloc[i]
        line = i + first_line
        cid = _text(r[id_col])
        if cid == "":
            reject(i, id_col, "", "empty camera id; give every camera a unique id")
            continue
        if cid in seen:
            reject(i, id_col, cid, f"duplicate camera id (first seen at row {seen[cid]}); ids must be unique")
            continue
        traw = _text(r[type_col]).lower() if type_col else config.default_type
        ctype = _TYPE_ALIASES.get(traw, traw)
        if ctype not in CAMERA_TYPES:
            reject(i, type_col or "type", traw, f"unknown camera type; use one of {list(CAMERA_TYPES)}")
            continue
        if pos_kind[i] == "bad":
            continue
        if pos_kind[i] == "none":
            where = f"{x_col}/{y_col}" if use_xy else (f"{lon_col}/{lat_col}" if use_ll else "geometry")
            val = f"{_text(r[x_col])},{_text(r[y_col])}" if use_xy else (
                f"{_text(r[lon_col])},{_text(r[lat_col])}" if use_ll else "")
            reject(i, where, val, "missing or non-numeric position")
            continue
        if not (np.isfinite(px[i]) and np.isfinite(py[i])) or not (0 <= px[i] <= 7e5 and 0 <= py[i] <= 1.25e6) \
                or (pos_kind[i] == "xy" and abs(px[i]) <= 180 and abs(py[i]) <= 90):
            hint = ("these look like degrees: put them in lon,lat columns" if pos_kind[i] == "xy" and
                    abs(px[i]) <= 180 and abs(py[i]) <= 90 else f"is [cameras] crs = {src_crs!r} right?")
            reject(i, f"{x_col}/{y_col}" if pos_kind[i] == "xy" else "position", f"{px[i]:.1f},{py[i]:.1f}",
                   f"position is not in Great Britain (EPSG:27700); {hint}")
            continue
        notes = []
        rng = _num(r[range_col]) if range_col else None
        if rng is None:
            rng = config.default_range(ctype)
        elif not (np.isfinite(rng) and rng > 0):
            reject(i, range_col, r[range_col], "range_m must be a positive number of metres")
            continue
        fov = _num(r[fov_col]) if fov_col else None
        if fov is None:
            fov = config.default_fov(ctype)
        elif not (np.isfinite(fov) and 0 < fov <= 360):
            reject(i, fov_col, r[fov_col], "fov_deg must be in (0, 360] degrees")
            continue
        brg = _num(r[bearing_col]) if bearing_col else None
        if brg is not None and not np.isfinite(brg):
            reject(i, bearing_col, r[bearing_col], "bearing_deg must be a number of degrees clockwise from north")
            continue
        if brg is None:
            if fov < 360:
                notes.append(f"no bearing: {fov:g} deg field of view treated as a full circle")
                fov = 360.0
            brg = 0.0
        brg = float(brg) % 360.0
        if status_col:
            sraw = _text(r[status_col]).lower()
            status = _STATUS_ALIASES.get(sraw, sraw) if sraw else default_status
        else:
            status = default_status
        if status not in STATUSES:
            reject(i, status_col or "status", sraw, f"unknown status; use one of {list(STATUSES)}")
            continue
        seen[cid] = line
        rows.append({"camera_id": cid, "type": ctype, "x": float(px[i]), "y": float(py[i]), "range_m": float(rng),
                     "bearing_deg": brg, "fov_deg": float(fov), "status": status,
                     "description": _text(r[desc_col]) if desc_col else "", "source_row": line,
                     "note": "; ".join(notes)})
    rej = pd.DataFrame(rejected, columns=["source", "row", "column", "value", "reason"])
    if n and not rows:
        first = "; ".join(f"row {a.row} {a.column}: {a.reason}" for a in rej.head(3).itertuples())
        raise InputError(f"{path}: no valid camera rows ({len(rej)} rejected), e.g. {first}.")
    return CameraInventory(cameras_frame(rows), rej.sort_values("row").reset_index(drop=True), str(path))


def restrict_to_area(inventory: CameraInventory, boundary, max_distance_m: float) -> CameraInventory:
    """Set aside cameras farther than ``max_distance_m`` metres from ``boundary`` (listed in ``rejected``)."""
    c = inventory.cameras
    if len(c) == 0 or max_distance_m < 0:
        return inventory
    d = c.geometry.distance(boundary).to_numpy()
    far = d > max_distance_m
    if not far.any():
        return inventory
    extra = pd.DataFrame({"source": inventory.source, "row": c.loc[far, "source_row"].to_numpy(),
                          "column": "position", "value": c.loc[far, "camera_id"].to_numpy(),
                          "reason": [f"{v:.0f} m from the study area (more than {max_distance_m:g} m)" for v in d[far]]})
    rej = pd.concat([inventory.rejected, extra], ignore_index=True) if len(inventory.rejected) else extra
    return CameraInventory(c[~far].reset_index(drop=True), rej, inventory.source)


def cameras_frame(rows: list[dict] | pd.DataFrame):
    """A GeoDataFrame of cameras (EPSG:27700) from row dicts with INVENTORY_COLUMNS (minus geometry)."""
    import geopandas as gpd

    df = pd.DataFrame(rows, columns=[c for c in INVENTORY_COLUMNS if c != "geometry"])
    df = df.astype({"x": float, "y": float, "range_m": float, "bearing_deg": float, "fov_deg": float})
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=BNG)


def make_cameras(x, y, ctype: str = "cctv", range_m=None, bearing_deg=0.0, fov_deg=None, status: str = "live",
                 ids=None, config: CamerasConfig | None = None):
    """Cameras from arrays (EPSG:27700 metres), e.g. candidate sites; defaults per type from ``config``."""
    config = config or CamerasConfig()
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    n = len(x)
    rng = np.broadcast_to(config.default_range(ctype) if range_m is None else np.asarray(range_m, float), (n,))
    fov = np.broadcast_to(config.default_fov(ctype) if fov_deg is None else np.asarray(fov_deg, float), (n,))
    brg = np.broadcast_to(np.asarray(bearing_deg, float), (n,))
    ids = [f"{ctype}_{i}" for i in range(n)] if ids is None else [str(v) for v in ids]
    rows = [{"camera_id": ids[i], "type": ctype, "x": x[i], "y": y[i], "range_m": rng[i], "bearing_deg": brg[i] % 360,
             "fov_deg": fov[i], "status": status, "description": "", "source_row": -1, "note": ""}
            for i in range(n)]
    return cameras_frame(rows)


def load_tfl_jamcams(path: str | Path, config: CamerasConfig | None = None, boundary=None,
                     within_m: float | None = None) -> CameraInventory:
    """TfL JamCam traffic cameras (GeoJSON, EPSG:4326) as a ``traffic`` inventory.

    ``available == false`` becomes status ``faulty``. With ``boundary`` (a
    shapely polygon in EPSG:27700) and ``within_m``, only cameras within that
    distance of the boundary are kept (the others are listed in ``rejected``
    with the reason, so nothing disappears silently). These are road-traffic
    cameras, not council CCTV; reports say which inventory was used.
    """
    import geopandas as gpd

    config = config or CamerasConfig()
    path = Path(path)
    if not path.exists():
        raise InputError(f"TfL JamCam file {path} does not exist.")
    g = gpd.read_file(path)
    if "camera_id" not in g.columns:
        raise InputError(f"{path}: no 'camera_id' property; is this the TfL JamCam GeoJSON?")
    g = g.to_crs(BNG)
    avail = g["available"].astype(str).str.lower() if "available" in g.columns else pd.Series(["true"] * len(g))
    rows, rejected = [], []
    dist = g.geometry.distance(boundary).to_numpy() if boundary is not None else np.zeros(len(g))
    for i in range(len(g)):
        if within_m is not None and dist[i] > within_m:
            rejected.append({"source": str(path), "row": i + 1, "column": "geometry", "value": g["camera_id"].iat[i],
                             "reason": f"{dist[i]:.0f} m from the study area (more than {within_m:g} m)"})
            continue
        rows.append({"camera_id": str(g["camera_id"].iat[i]), "type": "traffic", "x": g.geometry.x.iat[i],
                     "y": g.geometry.y.iat[i], "range_m": config.traffic_range_m, "bearing_deg": 0.0,
                     "fov_deg": 360.0, "status": "live" if avail.iat[i] == "true" else "faulty",
                     "description": str(g["view"].iat[i]) if "view" in g.columns else "", "source_row": i + 1,
                     "note": "TfL JamCam (road-traffic camera, not council CCTV); no bearing: full circle"})
    rej = pd.DataFrame(rejected, columns=["source", "row", "column", "value", "reason"])
    return CameraInventory(cameras_frame(rows), rej, f"TfL JamCam traffic cameras ({path.name})")
