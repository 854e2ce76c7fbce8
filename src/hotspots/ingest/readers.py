"""Readers: turn one source (police.uk CSVs, a generic CSV, GeoJSON/GeoPackage points)
into a *raw* table with the canonical field names still as text, plus
``source_file`` and ``source_row`` (1-based data row, the header is row 0) so
every row can be traced back.

Readers never drop rows. Whole-file mistakes (empty file, none of the expected
columns, swapped or mixed-up coordinate columns) raise :class:`InputError`
with the file name and the fix.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config.sections import IncidentSource
from ..crs import DEFAULT_CRS
from ..errors import InputError

POLICE_UK_COLUMNS = ("Crime ID", "Month", "Longitude", "Latitude", "Location", "LSOA code", "Crime type")

RAW_FIELDS = (
    "incident_id",
    "crime_label",
    "x",
    "y",
    "lon",
    "lat",
    "date",
    "start",
    "end",
    "location_text",
    "lsoa_code",
)


def list_files(path: Path, patterns=("*.csv", "*.csv.gz")) -> list[Path]:
    """A file, or every matching file below a folder (sorted, so runs are repeatable)."""
    if path.is_dir():
        files = sorted({f for pat in patterns for f in path.rglob(pat)})
        if not files:
            raise InputError(
                f"{path}: folder has no {' or '.join(patterns)} files; point [[incidents]] path at "
                "the file or at a folder of monthly files."
            )
        return files
    if not path.exists():
        raise InputError(f"{path}: file not found; check [[incidents]] path.")
    return [path]


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty (no header, no rows); export the data again.") from None
    except UnicodeDecodeError:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="latin-1")
    if df.empty:
        raise InputError(f"{path}: the file has a header but no rows; export the data again or remove the file.")
    df.columns = [c.strip() for c in df.columns]
    return df


def _to_float(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype(str).str.strip().replace("", np.nan), errors="coerce")


def check_lonlat(lon: pd.Series, lat: pd.Series, where: str, lon_col: str, lat_col: str) -> None:
    """Catch swapped longitude/latitude and grid metres in degree columns."""
    lo, la = _to_float(lon).dropna(), _to_float(lat).dropna()
    if len(lo) == 0 or len(la) == 0:
        return
    mlo, mla = lo.median(), la.median()
    if abs(mlo) > 360 or abs(mla) > 360:
        raise InputError(
            f"{where}: columns {lon_col!r}/{lat_col!r} hold values like {mlo:.0f}, {mla:.0f}: these look "
            "like British National Grid metres, not degrees. Map them as x/y with crs = 'EPSG:27700' "
            "instead of lon/lat."
        )
    if 49 <= mlo <= 61 and -9 <= mla <= 3:
        raise InputError(
            f"{where}: longitude and latitude look swapped ({lon_col!r} median {mlo:.4f}, {lat_col!r} "
            f"median {mla:.4f}; UK latitudes are 49-61, longitudes -9 to 3). Swap the column mapping."
        )


def check_xy(x: pd.Series, y: pd.Series, crs: str, where: str, x_col: str, y_col: str) -> None:
    """Catch degrees in metre columns."""
    xs, ys = _to_float(x).dropna(), _to_float(y).dropna()
    if len(xs) == 0:
        return
    if xs.abs().median() <= 180 and ys.abs().median() <= 90 and crs.upper() != "EPSG:4326":
        raise InputError(
            f"{where}: columns {x_col!r}/{y_col!r} hold values like {xs.median():.4f}, {ys.median():.4f}: "
            f"these look like longitude/latitude degrees, not {crs} metres. Map them as lon/lat "
            "(or set crs = 'EPSG:4326')."
        )


def read_police_uk(path: Path) -> pd.DataFrame:
    """police.uk street CSVs: a file, a folder of monthly files, ``.csv.gz`` accepted."""
    frames = []
    for f in list_files(path):
        df = _read_csv(f)
        missing = [c for c in POLICE_UK_COLUMNS if c not in df.columns]
        if len(missing) == len(POLICE_UK_COLUMNS):
            raise InputError(
                f"{f}: none of the police.uk columns {list(POLICE_UK_COLUMNS)} found (the file has "
                f"{list(df.columns)[:12]}). Is it a police.uk street-crime CSV? For other layouts use "
                "format = 'generic' with an [incidents.columns] mapping."
            )
        if missing:
            raise InputError(f"{f}: police.uk columns {missing} are missing; export the full street-crime CSV.")
        check_lonlat(df["Longitude"], df["Latitude"], str(f), "Longitude", "Latitude")
        raw = pd.DataFrame(
            {
                "incident_id": df["Crime ID"].str.strip(),
                "crime_label": df["Crime type"],
                "lon": df["Longitude"],
                "lat": df["Latitude"],
                "date": df["Month"],
                "location_text": df["Location"],
                "lsoa_code": df["LSOA code"],
            }
        )
        raw["source_file"] = str(f)
        raw["source_row"] = np.arange(1, len(df) + 1)
        raw["time_precision"] = "month"
        raw["_original"] = df.to_dict("records")
        frames.append(raw)
    return pd.concat(frames, ignore_index=True)


def _mapped(df: pd.DataFrame, col: str, f: Path, key: str) -> pd.Series:
    if col not in df.columns:
        raise InputError(
            f"{f}: column {col!r} (mapped by [incidents.columns] {key}) is not in the file; "
            f"columns found: {list(df.columns)[:20]}. Fix the mapping in the config."
        )
    return df[col]


def _generic_frame(df: pd.DataFrame, src: IncidentSource, f: Path) -> pd.DataFrame:
    cm = src.columns
    wanted = [
        c for c in (cm.id, cm.crime_type, cm.x, cm.y, cm.lon, cm.lat, cm.date, cm.start, cm.end, cm.location) if c
    ]
    if wanted and not any(c in df.columns for c in wanted):
        raise InputError(
            f"{f}: none of the mapped columns {wanted} are in the file (it has {list(df.columns)[:20]}). "
            "Fix [incidents.columns] in the config to name this file's columns."
        )
    if not cm.crime_type:
        raise InputError(f"{f}: [incidents.columns] crime_type is not set; name the column holding the crime type.")
    raw = pd.DataFrame(index=df.index)
    raw["incident_id"] = _mapped(df, cm.id, f, "id").str.strip() if cm.id else ""
    raw["crime_label"] = _mapped(df, cm.crime_type, f, "crime_type")
    if cm.x or cm.y:
        raw["x"], raw["y"] = _mapped(df, cm.x, f, "x"), _mapped(df, cm.y, f, "y")
        check_xy(raw["x"], raw["y"], src.crs, str(f), cm.x, cm.y)
    elif cm.lon or cm.lat:
        raw["lon"], raw["lat"] = _mapped(df, cm.lon, f, "lon"), _mapped(df, cm.lat, f, "lat")
        check_lonlat(raw["lon"], raw["lat"], str(f), cm.lon, cm.lat)
    elif "geometry" not in df.columns:
        raise InputError(f"{f}: [incidents.columns] needs x and y (with crs) or lon and lat.")
    if cm.start:
        raw["start"] = _mapped(df, cm.start, f, "start")
        raw["end"] = _mapped(df, cm.end, f, "end") if cm.end else raw["start"]
    elif cm.date:
        raw["date"] = _mapped(df, cm.date, f, "date")
    else:
        raise InputError(f"{f}: [incidents.columns] needs date, or start (and optionally end).")
    raw["location_text"] = _mapped(df, cm.location, f, "location") if cm.location else ""
    raw["lsoa_code"] = ""
    raw["source_file"] = str(f)
    raw["source_row"] = np.arange(1, len(df) + 1)
    raw["time_precision"] = src.time_precision
    return raw


def read_generic(path: Path, src: IncidentSource) -> pd.DataFrame:
    """A CSV with a column mapping from config (x/y with a CRS or lon/lat; date or start/end)."""
    frames = []
    for f in list_files(path):
        df = _read_csv(f)
        raw = _generic_frame(df, src, f)
        raw["_original"] = df.to_dict("records")
        frames.append(raw)
    return pd.concat(frames, ignore_index=True)


def read_geo(path: Path, src: IncidentSource, crs: str = DEFAULT_CRS) -> pd.DataFrame:
    """GeoJSON / GeoPackage / shapefile points reprojected to ``crs``; attributes mapped as for a generic CSV."""
    files = list_files(path, ("*.geojson", "*.gpkg", "*.shp", "*.json"))
    frames = []
    for f in files:
        try:
            g = gpd.read_file(f)
        except Exception as exc:  # pyogrio raises several types
            raise InputError(f"{f}: could not read as a vector file ({exc}).") from exc
        if g.empty:
            raise InputError(f"{f}: the file has no features.")
        if g.crs is None:
            raise InputError(f"{f}: the file has no CRS; save it with one (e.g. EPSG:27700 or EPSG:4326).")
        g = g.to_crs(crs)
        geom_ok = g.geometry.notna() & ~g.geometry.is_empty
        types = set(g.geometry[geom_ok].geom_type)
        if types - {"Point"}:
            raise InputError(f"{f}: incidents must be points; found {sorted(types)}.")
        attrs = pd.DataFrame(g.drop(columns="geometry")).astype(str)
        cm = src.columns
        sub = IncidentSource(
            path=src.path,
            format="generic",
            crs=crs,
            time_precision=src.time_precision,
            date_format=src.date_format,
            dayfirst=src.dayfirst,
            columns=type(cm)(
                id=cm.id, crime_type=cm.crime_type, date=cm.date, start=cm.start, end=cm.end, location=cm.location
            ),
        )
        attrs["geometry"] = ""
        raw = _generic_frame(attrs, sub, f)
        raw["x"] = np.where(geom_ok, g.geometry.x.where(geom_ok), np.nan).astype(str)
        raw["y"] = np.where(geom_ok, g.geometry.y.where(geom_ok), np.nan).astype(str)
        raw["x"] = raw["x"].replace("nan", "")
        raw["y"] = raw["y"].replace("nan", "")
        raw["_original"] = attrs.drop(columns="geometry").to_dict("records")
        frames.append(raw)
    return pd.concat(frames, ignore_index=True)


def read_source(path: Path, src: IncidentSource, crs: str = DEFAULT_CRS) -> tuple[pd.DataFrame, str]:
    """Read one configured source; returns the raw table and the CRS of its x/y columns.

    ``crs`` is the working CRS: the CRS of a generic CSV's x/y columns unless the
    source names its own, and the CRS vector files are reprojected to.
    """
    if src.format == "police_uk":
        return read_police_uk(path), "EPSG:4326"
    if src.format == "generic":
        xy_crs = "EPSG:4326" if (src.columns.lon and not src.columns.x) else (src.crs or crs)
        return read_generic(path, src), xy_crs
    return read_geo(path, src, crs), crs
