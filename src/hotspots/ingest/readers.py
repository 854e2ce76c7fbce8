"""Readers: turn one source (police.uk CSVs, a generic CSV, GeoJSON/GeoPackage points)
into a *raw* table with the canonical field names still as text, plus
``source_file`` and ``source_row`` (1-based data row, the header is row 0) so
every row can be traced back.

Readers never drop rows: a record with the wrong number of fields stays, marked
in ``_malformed`` (validation quarantines it). Whole-file mistakes (an empty,
binary or corrupt file, none of the expected columns, a needed column named
twice, swapped or mixed-up coordinate columns, the same data twice) raise
:class:`InputError` with the file name and the fix. Text is read strictly by
:mod:`hotspots.ingest.textfile`; what it had to decide (an encoding, a
delimiter) comes back as notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config.sections import IncidentSource
from ..crs import DEFAULT_CRS, parse_crs
from ..errors import InputError
from ..geo.study_area import read_vector
from ..textfile import CsvTable, read_table
from ..vocabulary import crime_type_label

#: Prefix of the columns that carry a row's cells as read (they go to quarantine.csv with the row).
INPUT_PREFIX = "input:"

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


@dataclass(frozen=True)
class FileRead:
    """One file of a source as read: rows, SHA-256 of its (decompressed) content, encoding, delimiter and notes.

    ``months`` (police.uk) holds the (Month, Reported by) pairs the file covers,
    so the same month of the same force in two files is found.
    """

    path: Path
    rows: int
    digest: str
    encoding: str = ""
    delimiter: str = ""
    notes: tuple[str, ...] = ()
    months: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, eq=False)
class SourceRead:
    """A source's raw rows (text), the CRS of their x/y (or lon/lat) values and the files they came from."""

    raw: pd.DataFrame
    xy_crs: str
    files: tuple[FileRead, ...] = field(default_factory=tuple)

    @property
    def notes(self) -> list[str]:
        return [n for f in self.files for n in f.notes]


def list_files(path: Path, patterns=("*.csv", "*.csv.gz")) -> list[Path]:
    """A file, or every matching file below a folder (sorted, so runs are repeatable)."""
    if path.is_dir():
        files = sorted({f for pat in patterns for f in path.rglob(pat) if f.is_file()})
        if not files:
            raise InputError(
                f"{path}: folder has no {' or '.join(patterns)} files; point [[incidents]] path at "
                "the file or at a folder of monthly files."
            )
        return files
    if not path.exists():
        raise InputError(f"{path}: file not found; check [[incidents]] path.")
    return [path]


def _to_float(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype(str).str.strip().replace("", np.nan), errors="coerce")


def _finite(s: pd.Series) -> pd.Series:
    v = _to_float(s)
    return v[np.isfinite(v)]


def check_lonlat(lon: pd.Series, lat: pd.Series, where: str, lon_col: str, lat_col: str) -> None:
    """Catch swapped longitude/latitude and grid metres in degree columns (from the medians: a few
    impossible values are left to the row checks)."""
    lo, la = _finite(lon), _finite(lat)
    if len(lo) == 0 or len(la) == 0:
        return
    mlo, mla = lo.median(), la.median()
    if abs(mlo) > 360 or abs(mla) > 360:
        raise InputError(
            f"{where}: columns {lon_col!r}/{lat_col!r} hold values like {mlo:.0f}, {mla:.0f}: these look "
            "like grid metres (e.g. British National Grid), not degrees. Map them as x/y with the CRS they are "
            "in (e.g. crs = 'EPSG:27700') instead of lon/lat."
        )
    if 49 <= mlo <= 61 and -9 <= mla <= 3:
        raise InputError(
            f"{where}: longitude and latitude look swapped ({lon_col!r} median {mlo:.4f}, {lat_col!r} "
            f"median {mla:.4f}; UK latitudes are 49-61, longitudes -9 to 3). Swap the column mapping."
        )


def check_xy(x: pd.Series, y: pd.Series, crs: str, where: str, x_col: str, y_col: str) -> None:
    """Catch degrees in metre columns, and metres declared as degrees (a geographic ``crs``)."""
    xs, ys = _finite(x), _finite(y)
    if len(xs) == 0 or len(ys) == 0:
        return
    mx, my = xs.median(), ys.median()
    parsed = parse_crs(crs)
    geographic = parsed is not None and parsed.is_geographic
    if geographic:
        if abs(mx) > 180 or abs(my) > 90:
            raise InputError(
                f"{where}: columns {x_col!r}/{y_col!r} hold values like {mx:.0f}, {my:.0f}, but the source's crs "
                f"{crs} is longitude/latitude in degrees; these look like grid metres. Set crs to the CRS the "
                "coordinates were recorded in (e.g. crs = 'EPSG:27700' for British National Grid)."
            )
        return
    if xs.abs().median() <= 180 and ys.abs().median() <= 90:
        raise InputError(
            f"{where}: columns {x_col!r}/{y_col!r} hold values like {mx:.4f}, {my:.4f}: "
            f"these look like longitude/latitude degrees, not {crs} metres. Map them as lon/lat "
            "(or set crs = 'EPSG:4326')."
        )


def _base_frame(table: CsvTable) -> pd.DataFrame:
    """Where each row came from, whether it is malformed, and its cells as read (``input:<column>``)."""
    raw = pd.DataFrame(index=table.frame.index)
    raw["source_file"] = str(table.path)
    raw["source_row"] = np.asarray(table.rows, dtype=np.int64)
    raw["_malformed"] = list(table.malformed)
    return pd.concat([raw, table.originals().add_prefix(INPUT_PREFIX)], axis=1)


def _file_read(table: CsvTable, months: frozenset[tuple[str, str]] = frozenset()) -> FileRead:
    return FileRead(
        path=table.path,
        rows=len(table.rows),
        digest=table.digest,
        encoding=table.encoding,
        delimiter=table.delimiter,
        notes=table.notes,
        months=months,
    )


def read_police_uk(path: Path) -> tuple[pd.DataFrame, list[FileRead]]:
    """police.uk street CSVs: a file, a folder of monthly files, ``.csv.gz`` accepted."""
    frames, files = [], []
    for f in list_files(path):
        table = read_table(f, (*POLICE_UK_COLUMNS, "Reported by"))
        df = table.frame
        missing = [c for c in POLICE_UK_COLUMNS if c not in df.columns]
        if len(missing) == len(POLICE_UK_COLUMNS):
            raise InputError(
                f"{f}: none of the police.uk columns {list(POLICE_UK_COLUMNS)} found (the file has "
                f"{list(df.columns)[:12]}). Is it a police.uk street-crime CSV? For other layouts use "
                "format = 'generic' with an [incidents.columns] mapping."
            )
        if missing:
            raise InputError(f"{f}: police.uk columns {missing} are missing; export the full street-crime CSV.")
        table.require_unique((*POLICE_UK_COLUMNS, "Reported by"), "a police.uk column")
        well_formed = table.well_formed
        check_lonlat(df["Longitude"][well_formed], df["Latitude"][well_formed], str(f), "Longitude", "Latitude")
        raw = pd.DataFrame(index=df.index)
        raw["incident_id"] = df["Crime ID"].str.strip()
        raw["crime_label"] = df["Crime type"]
        raw["lon"] = df["Longitude"]
        raw["lat"] = df["Latitude"]
        raw["date"] = df["Month"]
        raw["location_text"] = df["Location"]
        raw["lsoa_code"] = df["LSOA code"]
        raw["time_precision"] = "month"
        force = df["Reported by"].str.strip() if "Reported by" in df.columns else pd.Series("", index=df.index)
        month = df["Month"].str.strip()
        dated = well_formed & (month != "")
        pairs = pd.DataFrame({"month": month[dated], "force": force[dated]}).drop_duplicates()
        months = frozenset(zip(pairs["month"], pairs["force"], strict=True))
        frames.append(pd.concat([raw, _base_frame(table)], axis=1))
        files.append(_file_read(table, months))
    refuse_repeated_months(files)
    return pd.concat(frames, ignore_index=True), files


def refuse_repeated_months(files: list[FileRead]) -> None:
    """The same police.uk month of the same force in two files (a ``.csv`` beside its ``.csv.gz``, a
    backup copy in a subfolder) would count every crime without a Crime ID twice: refuse, naming both."""
    seen: dict[tuple[str, str], Path] = {}
    for f in files:
        for key in sorted(f.months):
            first = seen.setdefault(key, f.path)
            if first != f.path:
                month, force = key
                raise InputError(
                    f"{first} and {f.path} both hold {force or 'police.uk'} crimes for {month}: the same month "
                    "twice (a .csv beside its .csv.gz, or a backup copy) would count every crime without a "
                    "Crime ID twice. Keep one of the two files (move the other out of the folder)."
                )


def _mapped(df: pd.DataFrame, col: str, f: Path, key: str) -> pd.Series:
    if col not in df.columns:
        raise InputError(
            f"{f}: column {col!r} (mapped by [incidents.columns] {key}) is not in the file; "
            f"columns found: {list(df.columns)[:20]}. Fix the mapping in the config."
        )
    return df[col]


def _mapped_columns(src: IncidentSource) -> list[str]:
    cm = src.columns
    return [c for c in (cm.id, cm.crime_type, cm.x, cm.y, cm.lon, cm.lat, cm.date, cm.start, cm.end, cm.location) if c]


def _generic_frame(df: pd.DataFrame, src: IncidentSource, f: Path) -> pd.DataFrame:
    cm = src.columns
    wanted = _mapped_columns(src)
    if wanted and not any(c in df.columns for c in wanted):
        raise InputError(
            f"{f}: none of the mapped columns {wanted} are in the file (it has {list(df.columns)[:20]}). "
            "Fix [incidents.columns] in the config to name this file's columns."
        )
    raw = pd.DataFrame(index=df.index)
    raw["incident_id"] = _mapped(df, cm.id, f, "id").str.strip() if cm.id else ""
    if src.crime_type:
        raw["crime_label"] = crime_type_label(src.crime_type)
    elif cm.crime_type:
        raw["crime_label"] = _mapped(df, cm.crime_type, f, "crime_type")
    else:
        raise InputError(
            f"{f}: [incidents.columns] crime_type is not set; name the column holding the crime type, or give "
            'every row of this source one type with [[incidents]] crime_type = "burglary_residential".'
        )
    if cm.x or cm.y:
        raw["x"], raw["y"] = _mapped(df, cm.x, f, "x"), _mapped(df, cm.y, f, "y")
    elif cm.lon or cm.lat:
        raw["lon"], raw["lat"] = _mapped(df, cm.lon, f, "lon"), _mapped(df, cm.lat, f, "lat")
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
    raw["time_precision"] = src.time_precision
    return raw


def _check_coordinate_columns(raw: pd.DataFrame, src: IncidentSource, xy_crs: str, f: Path, ok: pd.Series) -> None:
    cm = src.columns
    if "x" in raw.columns and cm.x:
        check_xy(raw["x"][ok], raw["y"][ok], xy_crs, str(f), cm.x, cm.y)
    elif "lon" in raw.columns and cm.lon:
        check_lonlat(raw["lon"][ok], raw["lat"][ok], str(f), cm.lon, cm.lat)


def read_generic(path: Path, src: IncidentSource, xy_crs: str = DEFAULT_CRS) -> tuple[pd.DataFrame, list[FileRead]]:
    """A CSV with a column mapping from config (x/y with a CRS or lon/lat; date or start/end)."""
    frames, files = [], []
    wanted = _mapped_columns(src)
    for f in list_files(path):
        table = read_table(f, wanted)
        table.require_unique(wanted, "named in [incidents.columns]")
        raw = _generic_frame(table.frame, src, f)
        _check_coordinate_columns(raw, src, xy_crs, f, table.well_formed)
        frames.append(pd.concat([raw, _base_frame(table)], axis=1))
        files.append(_file_read(table))
    return pd.concat(frames, ignore_index=True), files


def read_geo(path: Path, src: IncidentSource, crs: str = DEFAULT_CRS) -> tuple[pd.DataFrame, list[FileRead]]:
    """GeoJSON / GeoPackage / shapefile points reprojected to ``crs``; attributes mapped as for a generic CSV.

    A feature without a geometry (null or empty) is kept and quarantined for missing coordinates.
    """
    import hashlib

    frames, files = [], []
    for f in list_files(path, ("*.geojson", "*.gpkg", "*.shp", "*.json")):
        g = read_vector(f, "incident", crs=crs)
        geom_ok = (g.geometry.notna() & ~g.geometry.is_empty).to_numpy()
        types = set(g.geometry[geom_ok].geom_type)
        if types - {"Point"}:
            raise InputError(f"{f}: incidents must be points; found {sorted(types)}.")
        attrs = pd.DataFrame(g.drop(columns="geometry"))
        attrs = attrs.astype(object).where(attrs.notna(), "").astype(str)
        attrs["geometry"] = ""
        raw = _generic_frame(attrs, src, f)
        pts = g.geometry.where(pd.Series(geom_ok, index=g.index))
        raw["x"] = [f"{p.x!r}" if ok else "" for p, ok in zip(pts, geom_ok, strict=False)]
        raw["y"] = [f"{p.y!r}" if ok else "" for p, ok in zip(pts, geom_ok, strict=False)]
        raw["source_file"] = str(f)
        raw["source_row"] = np.arange(1, len(g) + 1)
        raw["_malformed"] = ""
        frames.append(pd.concat([raw, attrs.drop(columns="geometry").add_prefix(INPUT_PREFIX)], axis=1))
        files.append(FileRead(path=f, rows=len(g), digest=hashlib.sha256(Path(f).read_bytes()).hexdigest()))
    return pd.concat(frames, ignore_index=True), files


def source_xy_crs(src: IncidentSource, crs: str = DEFAULT_CRS) -> str:
    """The CRS of a source's coordinates: police.uk and lon/lat columns are EPSG:4326; a generic CSV's
    x/y are in the source's ``crs`` (default the working CRS ``crs``); vector files are reprojected to ``crs``."""
    if src.format == "police_uk":
        return "EPSG:4326"
    if src.format == "generic":
        return "EPSG:4326" if (src.columns.lon and not src.columns.x) else (src.crs or crs)
    return crs


def read_source(path: Path, src: IncidentSource, crs: str = DEFAULT_CRS) -> SourceRead:
    """Read one configured source (see :class:`SourceRead`).

    ``crs`` is the working CRS: the CRS of a generic CSV's x/y columns unless the
    source names its own, and the CRS vector files are reprojected to.
    """
    xy_crs = source_xy_crs(src, crs)
    if src.format == "police_uk":
        raw, files = read_police_uk(path)
    elif src.format == "generic":
        raw, files = read_generic(path, src, xy_crs)
    else:
        raw, files = read_geo(path, src, crs)
    return SourceRead(raw=raw, xy_crs=xy_crs, files=tuple(files))
