"""Patrol positions: GPS pings (CSV or GPX) and patrol logs, validated as incidents are.

Two readers, each returning a frozen result with the accepted rows and a
quarantine table in which every rejected row carries a reason code
(:data:`PING_REASONS`, :data:`LOG_REASONS`), a sentence, its file and its row
number, so that ``accepted + quarantined = read`` holds for every file:

* :func:`read_pings` -- positions from vehicle or personal radios (AVLS / GPS):
  CSV (unit id, timestamp, longitude/latitude or x/y) or GPX tracks, any
  sampling interval from a few seconds to a few minutes;
* :func:`read_patrol_log` -- the fallback when there is no GPS: a CSV of
  visits written up by officers (place or tasking item id, start, end, unit).

Coordinates are reprojected to the working CRS (``working_crs``, British
National Grid metres by default) from an explicit ``crs`` for x/y columns
(longitude/latitude columns and GPX are EPSG:4326). Timestamps become tz-aware
in ``timezone``: times with a UTC offset (``Z``, ``+01:00``) are converted,
times without one are read as local times in ``timezone`` (a local time that
does not exist or happens twice at a clock change is quarantined, because
nothing in the row says which instant it was), and whole-number columns of 10
or 13 digits are Unix seconds or milliseconds (UTC).

Pseudonymised units
-------------------
A unit's raw id (call sign, radio ISSI, vehicle fleet number) never appears in
a result, in the quarantine or in an error message: each is replaced by a
pseudonym as soon as the file is read.

* default: ``Unit 01``, ``Unit 02`` ... numbered in the order in which each unit
  first appears in the files read (files in sorted path order). The same files
  give the same labels; labels are not comparable between different sets of
  files, and cannot be turned back into call signs;
* ``pseudonym_key`` given (a secret the force keeps outside the project's
  config files, at least 16 bytes): ``U-`` and the first 10 hex digits of
  HMAC-SHA256(key, raw id). The same unit gets the same label in every run with
  the same key, so weeks can be compared; only a holder of the key can check
  which call sign a label belongs to (:func:`pseudonymise_unit`).

The quarantine keeps only the pseudonym and the row's time and coordinate cells
(never the unit cell and never other columns of the file, which may hold names).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from .._csvsafe import write_csv
from ..config.sections import DEFAULT_TIMEZONE
from ..crs import DEFAULT_CRS
from ..errors import InputError
from ..textfile import read_csv_frame
from ._pings_kernels import speed_jumps
from .readers import check_lonlat, check_xy

__all__ = [
    "LOG_REASONS",
    "PING_REASONS",
    "LogColumns",
    "PatrolLogRead",
    "PingColumns",
    "PingsRead",
    "pseudonymise_unit",
    "read_patrol_log",
    "read_pings",
]

#: Quarantine reasons for GPS pings, in the order rows are checked.
PING_REASONS = {
    "missing_unit": "no unit id",
    "missing_time": "no timestamp",
    "bad_time": "timestamp could not be read",
    "ambiguous_time": "local time without a UTC offset that is skipped or repeated at a clock change",
    "outside_period": "timestamp outside the period asked for",
    "missing_coordinates": "no longitude/latitude (or x/y) value",
    "non_numeric_coordinates": "longitude/latitude (or x/y) is not a number",
    "invalid_coordinates": "coordinates out of range, or 0,0 (a receiver with no fix)",
    "outside_area": "position outside the study area by more than the tolerance",
    "duplicate_ping": "the unit already has a ping at exactly this time",
    "speed_jump": "reaching this position from the unit's previous accepted ping needs an impossible speed",
}

#: Quarantine reasons for patrol-log rows, in the order rows are checked.
LOG_REASONS = {
    "missing_place": "no place or tasking item id",
    "unknown_place": "the place id is not one of the places given",
    "missing_time": "no start or no end time",
    "bad_time": "start or end time could not be read",
    "ambiguous_time": "local time without a UTC offset that is skipped or repeated at a clock change",
    "end_before_start": "the end is before the start",
    "too_long": "the visit lasts longer than the limit (a mistyped date or time?)",
    "duplicate_entry": "the same unit, place and start as an earlier row",
    "overlapping_entry": "the unit is already logged at another place at this time",
}

_ROLE_NAMES = {
    "unit": (
        "unit",
        "unitid",
        "unitname",
        "callsign",
        "vehicle",
        "vehicleid",
        "radio",
        "radioid",
        "issi",
        "device",
        "deviceid",
        "resource",
        "resourceid",
        "officer",
        "collar",
        "collarnumber",
        "team",
    ),
    "time": (
        "timestamp",
        "time",
        "datetime",
        "recordedat",
        "gpstime",
        "fixtime",
        "utctime",
        "eventtime",
        "timestamputc",
        "positiontime",
    ),
    "lon": ("lon", "long", "lng", "longitude"),
    "lat": ("lat", "latitude"),
    "x": ("x", "easting", "east", "xbng", "eastings"),
    "y": ("y", "northing", "north", "ybng", "northings"),
    "place": ("itemid", "place", "placeid", "taskingid", "taskingitem", "hotspot", "hotspotid", "locationid", "item"),
    "start": ("start", "starttime", "from", "arrived", "timein", "arrival", "begin"),
    "end": ("end", "endtime", "to", "left", "timeout", "departure", "finish"),
    "date": ("date", "day", "visitdate"),
}


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-./]+", "", str(name).strip().lower())


@dataclass(frozen=True)
class PingColumns:
    """Column names of a pings CSV; empty = recognise automatically (``unit``, ``callsign``,
    ``timestamp``, ``longitude``/``latitude``, ``easting``/``northing``, ...)."""

    unit: str = ""
    time: str = ""
    lon: str = ""
    lat: str = ""
    x: str = ""
    y: str = ""


@dataclass(frozen=True)
class LogColumns:
    """Column names of a patrol log CSV; empty = recognise automatically (``item_id``/``place``,
    ``start``, ``end``, ``unit``/``officer``, optional ``date`` when start and end hold times only)."""

    place: str = ""
    start: str = ""
    end: str = ""
    unit: str = ""
    date: str = ""


# --------------------------------------------------------------------------- pseudonyms
def pseudonymise_unit(raw_id: str, key: bytes | str) -> str:
    """The keyed pseudonym of one raw unit id: ``U-`` + 10 hex digits of HMAC-SHA256(key, id).

    Lets a holder of the key check which label belongs to a known call sign.
    """
    k = key.encode() if isinstance(key, str) else bytes(key)
    return "U-" + hmac.new(k, str(raw_id).strip().encode("utf-8"), hashlib.sha256).hexdigest()[:10]


def _pseudonyms(raw: pd.Series, key: bytes | str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Per row the code of its unit (-1 where blank), the pseudonym of each code, and the rule
    applied (a sentence)."""
    text = raw.fillna("").astype(str).str.strip()
    codes, uniques = pd.factorize(text)
    uniques = np.asarray(uniques, dtype=object)
    blank = np.flatnonzero(uniques == "")
    if len(blank):  # renumber so that codes count only real units, in order of appearance
        b = int(blank[0])
        codes = np.where(codes == b, -1, np.where(codes > b, codes - 1, codes))
        uniques = np.delete(uniques, b)
    n_units = len(uniques)
    if key is None:
        width = max(2, len(str(n_units)))
        labels = np.array([f"Unit {k:0{width}d}" for k in range(1, n_units + 1)], dtype=object)
        rule = (
            "units numbered Unit 01, Unit 02, ... in the order they first appear in the files read; "
            "the raw ids are not kept"
        )
    else:
        k = key.encode() if isinstance(key, str) else bytes(key)
        if len(k) < 16:
            raise InputError(
                "pseudonym_key is shorter than 16 bytes; use a longer random secret (for example "
                "32 random bytes kept outside the project's config files)."
            )
        labels = np.array([pseudonymise_unit(u, k) for u in uniques], dtype=object)
        if len(set(labels)) < n_units:
            raise InputError("two units got the same keyed pseudonym; use a different pseudonym_key.")
        rule = (
            "units labelled U- and 10 hex digits of HMAC-SHA256 with the force's key (the same label for the "
            "same unit in every run with that key); the raw ids are not kept"
        )
    return codes.astype(np.int64), labels, rule


def _unit_labels(codes: np.ndarray, labels: np.ndarray, blank: str = "") -> np.ndarray:
    out = np.full(len(codes), blank, dtype=object)
    ok = codes >= 0
    out[ok] = labels[codes[ok]]
    return out


# --------------------------------------------------------------------------- file readers
def _list_files(path: Path, patterns: tuple[str, ...], what: str) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        files = sorted({f for pat in patterns for f in path.rglob(pat)})
        if not files:
            raise InputError(
                f"{path}: folder has no {' or '.join(patterns)} files; give the {what} file or a folder of them."
            )
        return files
    if not path.exists():
        raise InputError(f"{path}: file not found; check the {what} path.")
    return [path]


def _resolve(columns: list[str], given: dict[str, str], roles: tuple[str, ...], f: Path) -> dict[str, str]:
    """Map each role to a column of the file: the given name, else a recognised one."""
    have = {_norm(c): c for c in columns}
    out = {}
    for role in roles:
        if given.get(role):
            if given[role] not in columns:
                raise InputError(
                    f"{f}: column {given[role]!r} (given for {role}) is not in the file; columns found: "
                    f"{columns[:20]}. Fix the column mapping."
                )
            out[role] = given[role]
            continue
        for name in _ROLE_NAMES[role]:
            if name in have:
                out[role] = have[name]
                break
    return out


def _read_table(f: Path) -> pd.DataFrame:
    """A CSV as text columns, read with the multi-threaded pyarrow parser when it can, else with the
    incident reader's (which names the file in its errors)."""
    if Path(f).stat().st_size == 0:
        raise InputError(f"{f}: the file is empty (no header, no rows); export the data again.")
    try:
        df = pd.read_csv(f, dtype=str, engine="pyarrow", keep_default_na=False, na_values=[])
    except Exception:  # encoding, ragged rows...: the strict reader gives the precise message
        df = read_csv_frame(f)
    if df.empty:
        raise InputError(f"{f}: the file has a header but no rows; export the data again or remove the file.")
    df.columns = [str(c).lstrip("\ufeff").strip() for c in df.columns]
    return df


def _arrow_data(s: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow array behind a column held by Arrow (pandas keeps text so when pyarrow is
    installed), else None."""
    return s.array.__arrow_array__() if isinstance(s.array, pd.arrays.ArrowExtensionArray) else None


def _to_float(s: pd.Series) -> npt.NDArray[np.float64]:
    """Numbers from text cells; NaN where a cell is empty or not a number."""
    arr = _arrow_data(s)
    if arr is None:
        return pd.to_numeric(s.astype(str).str.strip(), errors="coerce").to_numpy(dtype=float)
    try:  # clean numbers: one cast
        out = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        arr = pc.utf8_trim_whitespace(arr)
        ok = pc.match_substring_regex(arr, r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
        out = pc.cast(pc.if_else(ok, arr, pa.scalar("nan")), pa.float64())
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=float)


def _blank(s: pd.Series) -> npt.NDArray[np.bool_]:
    """Whether each text cell is empty (or only spaces)."""
    arr = _arrow_data(s)
    if arr is None:
        return (s.fillna("").astype(str).str.strip() == "").to_numpy(dtype=bool)
    return np.asarray(
        pc.fill_null(pc.equal(pc.utf8_trim_whitespace(arr), ""), True).to_numpy(zero_copy_only=False), dtype=bool
    )


def _sorted_by(major: np.ndarray, minor: np.ndarray) -> bool:
    """Whether rows are already in (major, minor) order (ties kept in row order), so a sort can be skipped."""
    if len(major) < 2:
        return True
    dm = np.diff(major)
    return bool(np.all((dm > 0) | ((dm == 0) & (np.diff(minor) >= 0))))


def _sample(s: pd.Series, k: int = 100_000) -> pd.Series:
    """Every n-th cell, about ``k`` of them, for whole-file checks on medians."""
    return s.iloc[:: max(1, len(s) // k)]


def _read_ping_csv(f: Path, columns: PingColumns, crs: str | None) -> tuple[pd.DataFrame, str]:
    df = _read_table(f)
    cols = list(df.columns)
    m = _resolve(cols, vars(columns), ("unit", "time", "lon", "lat", "x", "y"), f)
    if not m:
        raise InputError(
            f"{f}: no recognisable pings columns (need a unit id, a timestamp and longitude/latitude "
            f"or x/y; the file has {cols[:20]}). Name them with columns=PingColumns(unit=..., time=..., "
            "lon=..., lat=...) or PingColumns(x=..., y=...) with crs=."
        )
    lonlat = "lon" in m and "lat" in m
    xy = "x" in m and "y" in m
    missing = [r for r in ("unit", "time") if r not in m] + ([] if (lonlat or xy) else ["lon/lat or x/y"])
    if missing:
        raise InputError(
            f"{f}: no column found for {', '.join(missing)} (the file has {cols[:20]}). Name the "
            "column(s) with columns=PingColumns(...)."
        )
    raw = pd.DataFrame({"unit": df[m["unit"]], "time": df[m["time"]]})
    if lonlat and not (xy and (columns.x or columns.y)):
        check_lonlat(_sample(df[m["lon"]]), _sample(df[m["lat"]]), str(f), m["lon"], m["lat"])
        raw["a"], raw["b"] = df[m["lon"]], df[m["lat"]]
        src_crs = "EPSG:4326"
        keep = [m["time"], m["lon"], m["lat"]]
    else:
        if not crs:
            raise InputError(
                f"{f}: positions are in columns {m['x']!r}/{m['y']!r}; say which CRS they are in, "
                "e.g. crs='EPSG:27700' for British National Grid metres."
            )
        check_xy(_sample(df[m["x"]]), _sample(df[m["y"]]), crs, str(f), m["x"], m["y"])
        raw["a"], raw["b"] = df[m["x"]], df[m["y"]]
        src_crs = crs
        keep = [m["time"], m["x"], m["y"]]
    raw["source_row"] = np.arange(1, len(df) + 1, dtype=np.int64)
    for c in keep:
        raw[f"input:{c}"] = df[c]
    return raw, src_crs


def _read_gpx(f: Path) -> pd.DataFrame:
    data = Path(f).read_bytes()
    if not data.strip():
        raise InputError(f"{f}: the file is empty; export the GPX track again.")
    head = data[: data.find(b"<gpx") if b"<gpx" in data else 4096]
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
        raise InputError(
            f"{f}: the file declares a DOCTYPE or entities, which GPX never needs; export the track again as plain GPX."
        )
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise InputError(
            f"{f}: not a GPX file (it is not readable XML: {exc}). Export the track as GPX 1.1, or give a CSV of pings."
        ) from None
    tag = root.tag
    ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    if tag[len(ns) :] != "gpx":
        raise InputError(
            f"{f}: not a GPX file (its root element is <{tag[len(ns) :]}>, not <gpx>). Export the "
            "track as GPX, or give a CSV of pings."
        )
    units, times, lats, lons = [], [], [], []
    for trk in root.iter(f"{ns}trk"):
        name = trk.find(f"{ns}name")
        unit = (name.text or "").strip() if name is not None and name.text else Path(f).name.split(".")[0]
        for pt in trk.iter(f"{ns}trkpt"):
            tm = pt.find(f"{ns}time")
            units.append(unit)
            times.append((tm.text or "") if tm is not None else "")
            lats.append(pt.get("lat", ""))
            lons.append(pt.get("lon", ""))
    if not units:
        raise InputError(
            f"{f}: the GPX file has no track points (<trkpt>); routes and waypoints are plans, not "
            "recorded positions. Export the recorded track."
        )
    raw = pd.DataFrame({"unit": units, "time": times, "a": lons, "b": lats}, dtype=object)
    raw["source_row"] = np.arange(1, len(raw) + 1, dtype=np.int64)
    raw["input:time"], raw["input:lon"], raw["input:lat"] = raw["time"], raw["a"], raw["b"]
    return raw


# --------------------------------------------------------------------------- times
_OFFSET_RE = r"(?:Z|[+-]\d{2}:?\d{2})$"
_EPOCH_S_RE = r"\d{9,10}(?:\.\d+)?"
_EPOCH_MS_RE = r"\d{12,13}"


#: Reason codes of :func:`parse_local_times` (0 = read).
TIME_REASONS = ("", "missing_time", "bad_time", "ambiguous_time")
_NAT = np.iinfo(np.int64).min


def _iso_fast(s: pd.Series, utc: bool) -> npt.NDArray[np.datetime64] | None:
    """Fast path: every cell an ISO 8601 date-time (with a UTC offset when ``utc``, else without),
    parsed by Arrow into datetime64[ns] (UTC when ``utc``); None when any cell is not, and the
    caller then parses cell by cell."""
    arr = _arrow_data(s)
    if arr is None:
        return None
    try:
        v = pc.cast(arr, pa.timestamp("ns", tz="UTC") if utc else pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if utc:
        v = pc.cast(v, pa.timestamp("ns"))  # the same instants, as plain UTC values
    return np.asarray(v.to_numpy(), dtype="datetime64[ns]")


def parse_local_times(text: pd.Series, timezone: str, dayfirst: bool = True) -> tuple[pd.Series, np.ndarray]:
    """Timestamps (tz-aware in ``timezone``; NaT where unread) and a reason code per row, an index
    into :data:`TIME_REASONS` (see the module docstring for the rules)."""
    s = text.fillna("").astype(str).str.strip()
    n = len(s)
    out = np.full(n, _NAT, dtype=np.int64)  # UTC nanoseconds
    code = np.zeros(n, dtype=np.int8)
    empty = (s == "").to_numpy(dtype=bool)
    code[empty] = 1
    digits_only = ~empty & ~s.str.contains(r"[^0-9.]", regex=True).to_numpy(dtype=bool)
    epoch_s = np.zeros(n, dtype=bool)
    epoch_ms = np.zeros(n, dtype=bool)
    if digits_only.any():
        cand = s[digits_only]
        epoch_s[digits_only] = cand.str.fullmatch(_EPOCH_S_RE).to_numpy(dtype=bool)
        epoch_ms[digits_only] = cand.str.fullmatch(_EPOCH_MS_RE).to_numpy(dtype=bool)
    tail = s.str.slice(-6)
    offset = ~empty & ~digits_only & tail.str.contains(_OFFSET_RE, regex=True).to_numpy(dtype=bool)
    naive = ~empty & ~offset & ~epoch_s & ~epoch_ms
    for mask, unit in ((epoch_s, "s"), (epoch_ms, "ms")):
        if mask.any():
            out[mask] = pd.DatetimeIndex(pd.to_datetime(pd.to_numeric(s[mask]), unit=unit, utc=True)).as_unit("ns").asi8
    if offset.any():
        sub = s[offset]
        fast = _iso_fast(sub, utc=True)
        if fast is not None:
            out[offset] = fast.view(np.int64)
        else:
            v = pd.to_datetime(sub, format="ISO8601", utc=True, errors="coerce")
            retry = v.isna()
            if retry.any():
                v[retry] = pd.to_datetime(sub[retry], format="mixed", dayfirst=dayfirst, utc=True, errors="coerce")
            out[offset] = pd.DatetimeIndex(v).as_unit("ns").asi8
    if naive.any():
        sub = s[naive]
        fast = _iso_fast(sub, utc=False)
        v = pd.Series(fast, index=sub.index) if fast is not None else None
        if v is None:
            v = pd.to_datetime(sub, format="ISO8601", errors="coerce")
            retry = v.isna()
            if retry.any():
                v[retry] = pd.to_datetime(sub[retry], format="mixed", dayfirst=dayfirst, errors="coerce")
        unread = v.isna().to_numpy()
        loc = pd.DatetimeIndex(v).as_unit("ns").tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        out[naive] = loc.asi8
        idx = np.flatnonzero(naive)
        code[idx[unread]] = 2
        code[idx[~unread & loc.isna()]] = 3
    code[~empty & ~naive & (out == _NAT)] = 2
    times = pd.Series(pd.DatetimeIndex(out.view("M8[ns]"), tz="UTC").tz_convert(timezone), index=s.index)
    return times, code


def _as_timestamp(v, timezone: str, what: str) -> pd.Timestamp:
    t = pd.Timestamp(v)
    if t is pd.NaT:
        raise InputError(f"{what} {v!r} is not a date or time.")
    return t.tz_localize(timezone) if t.tzinfo is None else t.tz_convert(timezone)


# --------------------------------------------------------------------------- results
#: One file's counts: path, format, rows_read, accepted, quarantined, quarantined_by_reason (and the
#: source CRS of pings).
FileCounts = dict[str, Any]


def _reconcile(files: tuple[FileCounts, ...]) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    for s in files:
        for k, v in s["quarantined_by_reason"].items():
            reasons[k] = reasons.get(k, 0) + v
    read = sum(s["rows_read"] for s in files)
    acc = sum(s["accepted"] for s in files)
    quar = sum(s["quarantined"] for s in files)
    return {
        "rows_read": read,
        "accepted": acc,
        "quarantined": quar,
        "quarantined_by_reason": dict(sorted(reasons.items())),
        "reconciles": read == acc + quar,
        "files": list(files),
    }


@dataclass(frozen=True, eq=False)
class PingsRead:
    """GPS pings read by :func:`read_pings`.

    Attributes
    ----------
    pings : DataFrame sorted by unit then time: ``unit`` (pseudonym), ``time`` (tz-aware in
        ``timezone``), ``x``, ``y`` (metres in ``crs``), ``source_file``, ``source_row``.
    quarantine : DataFrame: ``source_file, source_row, reason, detail, unit`` (pseudonym) and the
        row's time and coordinate cells as ``input:<column>``.
    units : DataFrame per unit: ``unit, pings, first, last, median_interval_s``.
    files : per file: path, format, rows_read, accepted, quarantined, quarantined_by_reason.
    crs, timezone : of ``pings``.
    settings : every validation setting used (speed limit m/s, jitter m, area tolerance m, period).
    pseudonymisation : the rule that replaced the raw unit ids.
    """

    pings: pd.DataFrame
    quarantine: pd.DataFrame
    units: pd.DataFrame
    files: tuple[FileCounts, ...]
    crs: str
    timezone: str
    settings: dict[str, float | int | bool | list[str] | None]
    pseudonymisation: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rows_read(self) -> int:
        return sum(s["rows_read"] for s in self.files)

    def summary(self) -> dict[str, Any]:
        """Counts for a manifest: read, accepted, quarantined by reason, per file and in total."""
        s = _reconcile(self.files)
        s.update(
            {
                "units": int(len(self.units)),
                "crs": self.crs,
                "timezone": self.timezone,
                "settings": dict(self.settings),
                "pseudonymisation": self.pseudonymisation,
            }
        )
        return s

    def report(self) -> str:
        """A few lines for a terminal."""
        s = _reconcile(self.files)
        lines = [
            f"Read {s['rows_read']:,} pings: {s['accepted']:,} accepted from {len(self.units)} units, "
            f"{s['quarantined']:,} quarantined" + ("" if s["reconciles"] else "  (COUNTS DO NOT RECONCILE)")
        ]
        for k, v in s["quarantined_by_reason"].items():
            lines.append(f"  {v:>10,}  {k}: {PING_REASONS.get(k, '')}")
        return "\n".join(lines)

    def write_quarantine(self, path: str | Path) -> Path:
        return write_csv(self.quarantine, path)


@dataclass(frozen=True, eq=False)
class PatrolLogRead:
    """Patrol-log visits read by :func:`read_patrol_log`.

    ``entries``: ``place_id, unit`` (pseudonym, or ``not recorded``), ``start, end`` (tz-aware),
    ``minutes``, ``source_file, source_row``; ``quarantine`` as for :class:`PingsRead`.
    """

    entries: pd.DataFrame
    quarantine: pd.DataFrame
    files: tuple[FileCounts, ...]
    timezone: str
    settings: dict[str, float | bool]
    pseudonymisation: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rows_read(self) -> int:
        return sum(s["rows_read"] for s in self.files)

    def summary(self) -> dict[str, Any]:
        s = _reconcile(self.files)
        s.update(
            {"timezone": self.timezone, "settings": dict(self.settings), "pseudonymisation": self.pseudonymisation}
        )
        return s

    def write_quarantine(self, path: str | Path) -> Path:
        return write_csv(self.quarantine, path)


# --------------------------------------------------------------------------- pings
class _Flags:
    """The first quarantine reason of each row (0 = none yet) and its detail sentence."""

    def __init__(self, n: int, reasons: dict[str, str]):
        self.names = ("", *reasons)
        self.code = np.zeros(n, dtype=np.int8)
        self.detail = np.full(n, "", dtype=object)

    @property
    def free(self) -> np.ndarray:
        return self.code == 0

    def mark(
        self,
        mask: npt.ArrayLike,
        name: str,
        text: str | Callable[[npt.NDArray[np.bool_]], npt.ArrayLike],
    ) -> npt.NDArray[np.bool_]:
        """Flag the still-unflagged rows of ``mask`` with ``name``. ``text`` is the detail: a string,
        or a function of the flagged-row mask returning one value per flagged row (so sentences are
        only built for rows that need them)."""
        m = np.asarray(mask, dtype=bool) & (self.code == 0)
        if m.any():
            self.code[m] = self.names.index(name)
            self.detail[m] = text if isinstance(text, str) else np.asarray(text(m), dtype=object)
        return m

    def quarantine(
        self, raw: pd.DataFrame, ucode: np.ndarray, labels: np.ndarray, paths: np.ndarray, file_of: np.ndarray
    ) -> pd.DataFrame:
        """Rows flagged: file, row, reason, detail, unit pseudonym ("" when blank) and the ``input:`` cells."""
        bad = np.flatnonzero(self.code != 0)
        sub = raw.iloc[bad]
        q = pd.DataFrame(
            {
                "source_file": paths[file_of[bad]].astype(str),
                "source_row": sub["source_row"].to_numpy(),
                "reason": np.asarray(self.names, dtype=object)[self.code[bad]],
                "detail": self.detail[bad],
                "unit": _unit_labels(ucode[bad], labels),
            }
        )
        for c in raw.columns:
            if c.startswith("input:"):
                q[c] = sub[c].to_numpy()
        return q


def _read_ping_files(
    files: list[Path], columns: PingColumns, crs: str | None
) -> tuple[pd.DataFrame, npt.NDArray[np.int32], list[FileCounts]]:
    """The rows of every file (unit, time, a, b, source_row, ``input:`` cells), the index of each
    row's file, and per file its path, format, source CRS and rows read."""
    frames: list[pd.DataFrame] = []
    infos: list[FileCounts] = []
    file_rows: list[npt.NDArray[np.int32]] = []
    for f in files:
        name = f.name.lower()
        if name.endswith(".gpx"):
            raw, src_crs, fmt = _read_gpx(f), "EPSG:4326", "gpx"
        elif name.endswith(".csv") or name.endswith(".csv.gz"):
            raw, src_crs = _read_ping_csv(f, columns, crs)
            fmt = "csv"
        else:
            raise InputError(f"{f}: pings must be a .csv, .csv.gz or .gpx file.")
        file_rows.append(np.full(len(raw), len(infos), dtype=np.int32))
        frames.append(raw)
        infos.append({"path": str(f), "format": fmt, "crs": src_crs, "rows_read": int(len(raw))})
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return raw, np.concatenate(file_rows), infos


def _timestamp_texts(times: pd.Series) -> npt.NDArray[np.object_]:
    """``times.astype(str)`` of tz-aware timestamps without NaT, built with numpy in one pass instead of one
    ``Timestamp`` at a time (a ping file holds hundreds of thousands): local date and time to the second,
    the fraction with as many digits as the finest value needs (none, 3, 6 or 9, the same for every row,
    as pandas does), and the UTC offset as +HH:MM."""
    local = times.dt.tz_localize(None).to_numpy("M8[ns]")
    local_ns = local.astype(np.int64)
    utc_ns = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("M8[ns]").astype(np.int64)
    text = np.char.replace(np.datetime_as_string(local, unit="s"), "T", " ")
    sub = local_ns % 1_000_000_000
    for digits, unit in ((9, 1), (6, 1_000), (3, 1_000_000)):  # the finest unit any value uses
        if (sub % (unit * 1_000)).any():
            text = np.char.add(np.char.add(text, "."), np.char.zfill((sub // unit).astype(str), digits))
            break
    minutes = (local_ns - utc_ns) // 60_000_000_000
    sign = np.where(minutes < 0, "-", "+")
    hours = np.char.zfill((np.abs(minutes) // 60).astype(str), 2)
    mins = np.char.zfill((np.abs(minutes) % 60).astype(str), 2)
    return np.char.add(np.char.add(text, sign), np.char.add(np.char.add(hours, ":"), mins)).astype(object)


def _flag_times(
    flags: _Flags,
    raw: pd.DataFrame,
    times: pd.Series,
    tcode: npt.NDArray[np.int8],
    timezone: str,
    period: tuple[Any, Any] | None,
) -> None:
    """Quarantine missing, unreadable and ambiguous timestamps, and times outside ``period``."""
    mark = flags.mark
    treason = np.asarray(TIME_REASONS, dtype=object)[tcode]

    def cell(m: npt.NDArray[np.bool_]) -> npt.NDArray[np.object_]:
        return raw["time"][m].fillna("").astype(str).str.slice(0, 40).map(repr).to_numpy(dtype=object)

    mark(treason == "missing_time", "missing_time", "the timestamp cell is empty")
    mark(treason == "bad_time", "bad_time", lambda m: "unreadable timestamp " + cell(m))
    mark(
        treason == "ambiguous_time",
        "ambiguous_time",
        lambda m: (
            "local time " + cell(m) + f" is skipped or repeated when the clocks change in {timezone}; "
            "export times with a UTC offset"
        ),
    )
    if period is not None:
        p0 = _as_timestamp(period[0], timezone, "period start")
        p1 = _as_timestamp(period[1], timezone, "period end")
        if p1 <= p0:
            raise InputError(f"read_pings: period end {p1} is not after its start {p0}.")
        outside = (times.notna() & ((times < p0) | (times >= p1))).to_numpy()
        mark(
            outside,
            "outside_period",
            lambda m: "time " + _timestamp_texts(times[m]) + f" is outside {p0} .. {p1}",
        )


def _flag_coordinates(
    flags: _Flags,
    raw: pd.DataFrame,
    infos: list[FileCounts],
    file_of: npt.NDArray[np.int32],
    working_crs: str,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Quarantine empty, non-numeric, out-of-range and no-fix coordinates; the positions of the
    other rows in ``working_crs`` (NaN for quarantined rows)."""
    mark = flags.mark
    n = len(raw)
    a = _to_float(raw["a"])
    b = _to_float(raw["b"])
    a_empty = np.zeros(n, dtype=bool)
    b_empty = np.zeros(n, dtype=bool)
    for vals, col, empty in ((a, "a", a_empty), (b, "b", b_empty)):
        nan = np.flatnonzero(np.isnan(vals))  # only a cell that is not a number can be blank
        if len(nan):
            empty[nan] = _blank(raw[col].iloc[nan])
    mark(a_empty | b_empty, "missing_coordinates", "a coordinate cell is empty")
    mark(~np.isfinite(a) | ~np.isfinite(b), "non_numeric_coordinates", "a coordinate is not a number")
    is_deg = np.array([i["crs"] == "EPSG:4326" for i in infos], dtype=bool)[file_of]
    with np.errstate(invalid="ignore"):
        out_range = is_deg & ((np.abs(b) > 90) | (np.abs(a) > 180))
        no_fix = (a == 0) & (b == 0)
    mark(out_range, "invalid_coordinates", "longitude/latitude out of range")
    mark(no_fix, "invalid_coordinates", "position 0,0 (the receiver had no fix)")
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    for src_crs in sorted({i["crs"] for i in infos}):
        in_crs = np.array([i["crs"] == src_crs for i in infos], dtype=bool)[file_of]
        sel = in_crs & flags.free
        if not sel.any():
            continue
        if str(src_crs).upper() == str(working_crs).upper():
            x[sel], y[sel] = a[sel], b[sel]
        else:
            tr = Transformer.from_crs(src_crs, working_crs, always_xy=True)
            x[sel], y[sel] = tr.transform(a[sel], b[sel])
    mark(
        flags.free & ~(np.isfinite(x) & np.isfinite(y)),
        "invalid_coordinates",
        f"position cannot be expressed in {working_crs}",
    )
    return x, y


def _flag_outside_area(
    flags: _Flags,
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    area: BaseGeometry,
    area_tolerance_m: float,
    infos: list[FileCounts],
    file_of: npt.NDArray[np.int32],
    working_crs: str,
) -> None:
    """Quarantine positions more than ``area_tolerance_m`` metres outside ``area``; a file whose
    every position is outside is an error (wrong columns or CRS)."""
    n = len(x)
    zone = area.buffer(area_tolerance_m) if area_tolerance_m > 0 else area
    shapely.prepare(zone)
    free = flags.free
    inside = np.zeros(n, dtype=bool)
    inside[free] = shapely.contains_xy(zone, x[free], y[free])
    out = free & ~inside
    if out.any():
        d = np.full(n, np.nan)
        d[out] = shapely.distance(area, shapely.points(x[out], y[out]))
        flags.mark(
            out,
            "outside_area",
            lambda m: [f"position is {v:,.0f} m outside the area (tolerance {area_tolerance_m:g} m)" for v in d[m]],
        )
    for k, info in enumerate(infos):
        m = (file_of == k) & np.isfinite(x)
        if m.any() and not inside[m].any():
            bx = area.bounds
            raise InputError(
                f"{info['path']}: all {int(m.sum()):,} pings with a position fall outside the area (they span x "
                f"{np.nanmin(x[m]):.0f}-{np.nanmax(x[m]):.0f}, y {np.nanmin(y[m]):.0f}-{np.nanmax(y[m]):.0f} in "
                f"{working_crs}; the area spans x {bx[0]:.0f}-{bx[2]:.0f}, y {bx[1]:.0f}-{bx[3]:.0f}). Check the "
                "coordinate columns and crs."
            )


def _flag_duplicates(
    flags: _Flags,
    order: npt.NDArray[np.intp],
    ucode: npt.NDArray[np.int64],
    tns: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    source_row: npt.NDArray[np.int64],
    src_path: npt.NDArray[np.object_],
) -> npt.NDArray[np.intp]:
    """Quarantine a later ping of a unit at the same time as an earlier one (``order``: the free
    rows by unit and time, ties in file order); returns ``order`` without them. ``src_path``: each
    row's file."""
    if len(order) < 2:
        return order
    n = len(x)
    same = (ucode[order[1:]] == ucode[order[:-1]]) & (tns[order[1:]] == tns[order[:-1]])
    if not same.any():
        return order
    # the first row (in file order) of each run of equal (unit, time) stays; later rows repeat it
    is_start = np.r_[True, ~same]
    first = order[np.flatnonzero(is_start)][np.cumsum(is_start) - 1]
    dup_rows = order[1:][same]
    ref = first[1:][same]
    dist = np.hypot(x[dup_rows] - x[ref], y[dup_rows] - y[ref])
    txt = np.empty(n, dtype=object)
    txt[dup_rows] = [
        f"same unit and time as row {r} of {Path(str(fn)).name}"
        + (" at the same position" if dd < 0.5 else f", {dd:.0f} m away")
        for r, fn, dd in zip(source_row[ref], src_path[ref], dist, strict=True)
    ]
    m = np.zeros(n, dtype=bool)
    m[dup_rows] = True
    flags.mark(m, "duplicate_ping", lambda mm: txt[mm])
    return order[np.isin(order, dup_rows, invert=True)]


def _flag_speed_jumps(
    flags: _Flags,
    order: npt.NDArray[np.intp],
    ucode: npt.NDArray[np.int64],
    tns: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    max_speed_mps: float,
    jitter_m: float,
    confirm_pings: int,
) -> npt.NDArray[np.intp]:
    """Quarantine pings the unit could not have reached from its previous accepted ping
    (:func:`speed_jumps`, rows in ``order``: by unit and time); returns ``order`` without them."""
    if not len(order):
        return order
    n = len(x)
    rej, speed = speed_jumps(
        ucode[order],
        (tns[order] - tns[order].min()) / 1e9,
        x[order],
        y[order],
        float(max_speed_mps),
        float(jitter_m),
        int(confirm_pings),
    )
    if not rej.any():
        return order
    rows = order[rej]
    txt = np.empty(n, dtype=object)
    v = speed[rej]
    fin = np.isfinite(v)
    words = np.full(len(v), "an isolated position that the unit's following pings contradict", dtype=object)
    words[fin] = (
        "needs "
        + pd.Series(np.round(v[fin]).astype(np.int64)).astype(str)
        + f" m/s from the unit's previous accepted ping (limit {max_speed_mps:g} m/s)"
    ).to_numpy(dtype=object)
    txt[rows] = words
    m = np.zeros(n, dtype=bool)
    m[rows] = True
    flags.mark(m, "speed_jump", lambda mm: txt[mm])
    return order[~rej]


def _units_table(pings: pd.DataFrame, tns: npt.NDArray[np.int64]) -> pd.DataFrame:
    """Per unit of ``pings`` (sorted by unit then time; ``tns`` their times in ns): pings, first,
    last and the median interval between consecutive pings in seconds."""
    ucodes_sorted = pings["unit"].cat.codes.to_numpy()
    tsec = tns / 1e9
    n = len(pings)
    newu = np.r_[True, ucodes_sorted[1:] != ucodes_sorted[:-1]] if n else np.zeros(0, bool)
    gaps = np.where(newu, np.nan, np.r_[np.nan, np.diff(tsec)]) if n else np.zeros(0)
    g = pd.DataFrame({"unit": pings["unit"], "time": pings["time"], "gap": gaps}).groupby("unit", observed=True)
    return pd.DataFrame(
        {"pings": g.size(), "first": g["time"].min(), "last": g["time"].max(), "median_interval_s": g["gap"].median()}
    ).reset_index()


def _count_files(infos: list[FileCounts], quarantine: pd.DataFrame, accepted_file_of: npt.NDArray[np.int32]) -> None:
    """Add accepted, quarantined and quarantined_by_reason to each file's counts."""
    q_by = quarantine.groupby(["source_file", "reason"]).size() if len(quarantine) else pd.Series(dtype=int)
    acc_by_file = (
        np.bincount(accepted_file_of, minlength=len(infos)) if len(accepted_file_of) else np.zeros(len(infos), int)
    )
    for k, info in enumerate(infos):
        p = info["path"]
        qr = q_by[p].to_dict() if len(q_by) and p in q_by.index.get_level_values(0) else {}
        info["accepted"] = int(acc_by_file[k])
        info["quarantined"] = int(sum(qr.values()))
        info["quarantined_by_reason"] = {r: int(v) for r, v in sorted(qr.items())}


def read_pings(
    path: str | Path,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    crs: str | None = None,
    columns: PingColumns | None = None,
    area: BaseGeometry | None = None,
    area_tolerance_m: float = 50.0,
    period: tuple[Any, Any] | None = None,
    max_speed_mps: float = 50.0,
    jitter_m: float = 30.0,
    confirm_pings: int = 3,
    pseudonym_key: bytes | str | None = None,
    working_crs: str = DEFAULT_CRS,
    dayfirst: bool = True,
) -> PingsRead:
    """Read and validate GPS pings from a CSV, a GPX file or a folder of them.

    Parameters
    ----------
    path : a ``.csv`` / ``.csv.gz`` / ``.gpx`` file, or a folder (every such file below it, sorted).
    timezone : time zone of the result, and of local times written without a UTC offset.
    crs : CRS of x/y columns (required when the positions are x/y); ignored for longitude/latitude
        and GPX (EPSG:4326).
    columns : :class:`PingColumns` naming the CSV columns; empty names are recognised automatically.
    area : optional polygon (shapely, in ``working_crs``), e.g. the study-area boundary; pings more than
        ``area_tolerance_m`` metres outside it are quarantined (``outside_area``).
    period : optional ``(start, end)``; pings outside ``[start, end)`` are quarantined (``outside_period``).
    max_speed_mps : speed limit in metres per second (default 50 m/s = 180 km/h) for ``speed_jump``.
    jitter_m : GPS error in metres always allowed between two pings, whatever the time between them.
    confirm_pings : this many consecutive pings that agree with one another but not with the track
        before them are taken as the unit genuinely moving on (see :func:`speed_jumps`).
    pseudonym_key : secret for keyed pseudonyms; ``None`` numbers the units (module docstring).
    working_crs : CRS of the result (default EPSG:27700, metres).
    dayfirst : read ambiguous dates like ``03/04/2025`` as 3 April (UK style).

    Whole-file mistakes (missing or empty file, no recognisable columns, swapped longitude/latitude,
    metres in degree columns, not a GPX file, every ping outside ``area``) raise :class:`InputError`
    naming the file and the fix.
    """
    if max_speed_mps <= 0 or jitter_m < 0 or area_tolerance_m < 0 or confirm_pings < 2:
        raise InputError(
            "read_pings: max_speed_mps must be > 0 m/s, jitter_m and area_tolerance_m >= 0 metres, "
            f"confirm_pings >= 2 (got {max_speed_mps}, {jitter_m}, {area_tolerance_m}, {confirm_pings})."
        )
    columns = columns or PingColumns()
    files = _list_files(Path(path), ("*.csv", "*.csv.gz", "*.gpx"), "pings")
    raw, file_of, infos = _read_ping_files(files, columns, crs)
    paths = np.array([i["path"] for i in infos], dtype=object)
    n = len(raw)
    ucode, ulabels, rule = _pseudonyms(raw["unit"], pseudonym_key)
    flags = _Flags(n, PING_REASONS)
    flags.mark(ucode < 0, "missing_unit", "the unit id cell is empty")
    times, tcode = parse_local_times(raw["time"], timezone, dayfirst)
    _flag_times(flags, raw, times, tcode, timezone, period)
    x, y = _flag_coordinates(flags, raw, infos, file_of, working_crs)
    if area is not None:
        _flag_outside_area(flags, x, y, area, area_tolerance_m, infos, file_of, working_crs)
    # duplicates and impossible jumps, per unit in time order
    free = np.flatnonzero(flags.free)
    tns = times.to_numpy(dtype="datetime64[ns]").view(np.int64) if n else np.zeros(0, np.int64)
    order = free if _sorted_by(ucode[free], tns[free]) else free[np.lexsort((free, tns[free], ucode[free]))]
    source_row = raw["source_row"].to_numpy()
    order = _flag_duplicates(flags, order, ucode, tns, x, y, source_row, paths[file_of])
    order = _flag_speed_jumps(flags, order, ucode, tns, x, y, max_speed_mps, jitter_m, confirm_pings)
    quarantine = flags.quarantine(raw, ucode, ulabels, paths, file_of)
    # order is sorted by (unit code, time); codes follow first appearance, labels sort the same way
    # for numbered units, so sort by label for keyed ones
    cats = np.asarray(sorted(ulabels), dtype=object) if len(ulabels) else np.array([], dtype=object)
    rank = np.empty(len(ulabels), dtype=np.int64)
    rank[np.argsort(ulabels.astype(str), kind="stable")] = np.arange(len(ulabels))
    key = rank[ucode[order]] if len(order) else np.zeros(0, np.int64)
    if not _sorted_by(key, tns[order]):
        order = order[np.lexsort((tns[order], key))]
    pings = pd.DataFrame(
        {
            "unit": pd.Categorical.from_codes(rank[ucode[order]], categories=cats)
            if len(cats)
            else pd.Categorical([], categories=[]),
            "time": times.iloc[order].reset_index(drop=True),
            "x": x[order],
            "y": y[order],
            "source_file": pd.Categorical.from_codes(file_of[order], categories=paths),
            "source_row": source_row[order],
        }
    )
    units_table = _units_table(pings, tns[order])
    _count_files(infos, quarantine, file_of[order])
    settings: dict[str, float | int | bool | list[str] | None] = {
        "max_speed_mps": float(max_speed_mps),
        "jitter_m": float(jitter_m),
        "confirm_pings": int(confirm_pings),
        "area_tolerance_m": float(area_tolerance_m) if area is not None else None,
        "period": [str(_as_timestamp(p, timezone, "period")) for p in period] if period is not None else None,
        "dayfirst": bool(dayfirst),
    }
    notes = []
    if len(pings):
        notes.append(f"pings from {pings['time'].min()} to {pings['time'].max()}")
    return PingsRead(
        pings=pings,
        quarantine=quarantine,
        units=units_table,
        files=tuple(infos),
        crs=working_crs,
        timezone=timezone,
        settings=settings,
        pseudonymisation=rule,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- patrol log
def read_patrol_log(
    path: str | Path,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    place_ids: Iterable[object] | None = None,
    columns: LogColumns | None = None,
    max_hours: float = 12.0,
    pseudonym_key: bytes | str | None = None,
    dayfirst: bool = True,
) -> PatrolLogRead:
    """Read and validate a patrol log CSV (one row per visit written up by officers).

    Parameters
    ----------
    path : a ``.csv`` / ``.csv.gz`` file or a folder of them.
    timezone : time zone of the result and of local times.
    place_ids : optional collection of valid place / tasking item ids; other ids are quarantined
        (``unknown_place``).
    columns : :class:`LogColumns`; empty names are recognised automatically. When a ``date`` column is
        present and start/end hold times of day only, each is read on that date, and an end earlier
        than the start is taken as after midnight (the next day).
    max_hours : a longer visit is quarantined (``too_long``); default 12 hours.
    pseudonym_key : as for :func:`read_pings`.

    Rows without a unit column (or with an empty unit cell) are kept with unit ``not recorded`` and
    are not checked for overlaps.
    """
    if max_hours <= 0:
        raise InputError(f"read_patrol_log: max_hours must be > 0 hours, got {max_hours}.")
    columns = columns or LogColumns()
    frames: list[pd.DataFrame] = []
    infos: list[FileCounts] = []
    file_rows: list[npt.NDArray[np.int32]] = []
    for f in _list_files(Path(path), ("*.csv", "*.csv.gz"), "patrol log"):
        df = _read_table(f)
        cols = list(df.columns)
        m = _resolve(cols, vars(columns), ("place", "start", "end", "unit", "date"), f)
        missing = [r for r in ("place", "start", "end") if r not in m]
        if len(missing) == 3:
            raise InputError(
                f"{f}: no recognisable patrol-log columns (need a place or item id, a start and an end; "
                f"the file has {cols[:20]}). Name them with columns=LogColumns(place=..., start=..., "
                "end=..., unit=...)."
            )
        if missing:
            raise InputError(
                f"{f}: no column found for {', '.join(missing)} (the file has {cols[:20]}). Name the "
                "column(s) with columns=LogColumns(...)."
            )
        raw = pd.DataFrame({"place": df[m["place"]], "start": df[m["start"]], "end": df[m["end"]]})
        raw["unit"] = df[m["unit"]] if "unit" in m else ""
        raw["date"] = df[m["date"]] if "date" in m else ""
        raw["source_row"] = np.arange(1, len(df) + 1, dtype=np.int64)
        for c in [m[r] for r in ("place", "date", "start", "end") if r in m]:
            raw[f"input:{c}"] = df[c]
        file_rows.append(np.full(len(raw), len(infos), dtype=np.int32))
        frames.append(raw)
        infos.append({"path": str(f), "format": "patrol_log", "rows_read": int(len(raw))})
    raw = pd.concat(frames, ignore_index=True)
    file_of = np.concatenate(file_rows)
    paths = np.array([i["path"] for i in infos], dtype=object)
    n = len(raw)
    ucode, ulabels, rule = _pseudonyms(raw["unit"], pseudonym_key)
    units = _unit_labels(ucode, ulabels, blank="not recorded")
    flags = _Flags(n, LOG_REASONS)
    mark = flags.mark

    place = raw["place"].fillna("").astype(str).str.strip()
    mark((place == "").to_numpy(), "missing_place", "the place id cell is empty")
    if place_ids is not None:
        known = {str(p) for p in place_ids}
        mark(
            ~place.isin(known).to_numpy(),
            "unknown_place",
            lambda mm: (
                "place id " + place[mm].str.slice(0, 40).map(repr) + " is not one of the places given"
            ).to_numpy(dtype=object),
        )
    date = raw["date"].fillna("").astype(str).str.strip()
    clock = r"\d{1,2}[:.]\d{2}(?::\d{2})?"
    texts = {}
    for side in ("start", "end"):
        t = raw[side].fillna("").astype(str).str.strip()
        only_time = t.str.fullmatch(clock)
        texts[side] = t.where(~(only_time & (date != "")), date + " " + t.str.replace(".", ":", regex=False))
    start, r1 = parse_local_times(texts["start"], timezone, dayfirst)
    end, r2 = parse_local_times(texts["end"], timezone, dayfirst)
    for code, text in (
        ("missing_time", "the start or end cell is empty"),
        ("bad_time", "unreadable start or end time"),
        ("ambiguous_time", f"a local time is skipped or repeated when the clocks change in {timezone}"),
    ):
        k = TIME_REASONS.index(code)
        mark((r1 == k) | (r2 == k), code, text)
    dated = (date != "") & raw["start"].fillna("").astype(str).str.strip().str.fullmatch(clock)
    wrap = dated & start.notna() & end.notna() & (end < start)
    end = end.where(~wrap, end + pd.Timedelta(days=1))
    mark(
        (start.notna() & end.notna() & (end < start)).to_numpy(),
        "end_before_start",
        lambda mm: ("end " + end[mm].astype(str) + " is before start " + start[mm].astype(str)).to_numpy(dtype=object),
    )
    hours = (end - start).dt.total_seconds() / 3600.0
    mark(
        (hours > max_hours).to_numpy(),
        "too_long",
        lambda mm: ("visit of " + hours[mm].round(1).astype(str) + f" hours (limit {max_hours:g})").to_numpy(
            dtype=object
        ),
    )
    ok = flags.free
    key = pd.DataFrame({"u": units, "p": place.to_numpy(), "s": start.to_numpy()})[ok]
    dup = np.zeros(n, dtype=bool)
    dup[np.flatnonzero(ok)[key.duplicated(keep="first").to_numpy()]] = True
    mark(dup, "duplicate_entry", "same unit, place and start as an earlier row")
    idx = np.flatnonzero(flags.free & (ucode >= 0))
    if len(idx):
        sub = pd.DataFrame({"u": ucode[idx], "s": start.to_numpy()[idx], "e": end.to_numpy()[idx], "i": idx})
        sub = sub.sort_values(["u", "s", "i"], kind="stable")
        over = np.zeros(n, dtype=bool)
        txt = np.empty(n, dtype=object)
        last_end, last_u, last_row = None, None, None
        for u, s0, e0, i in sub.itertuples(index=False):
            if u == last_u and s0 < last_end:
                over[i] = True
                txt[i] = f"overlaps the unit's visit logged in row {last_row} of {Path(str(paths[file_of[i]])).name}"
                continue
            last_u, last_end, last_row = u, e0, int(raw["source_row"].iat[i])
        mark(over, "overlapping_entry", lambda mm: txt[mm])
    ok = flags.free
    quarantine = flags.quarantine(raw, ucode, ulabels, paths, file_of)
    entries = pd.DataFrame(
        {
            "place_id": place.to_numpy()[ok],
            "unit": units[ok],
            "start": start[ok].reset_index(drop=True),
            "end": end[ok].reset_index(drop=True),
            "minutes": ((end[ok] - start[ok]).dt.total_seconds() / 60.0).to_numpy(),
            "source_file": paths[file_of[ok]].astype(str),
            "source_row": raw["source_row"].to_numpy()[ok],
        }
    )
    entries = entries.sort_values(["place_id", "start", "unit"], kind="stable").reset_index(drop=True)
    for info in infos:
        q = quarantine[quarantine["source_file"] == info["path"]]
        info["accepted"] = int((entries["source_file"] == info["path"]).sum())
        info["quarantined"] = int(len(q))
        info["quarantined_by_reason"] = {k: int(v) for k, v in sorted(q["reason"].value_counts().items())}
    settings = {"max_hours": float(max_hours), "dayfirst": bool(dayfirst), "places_checked": place_ids is not None}
    return PatrolLogRead(
        entries=entries,
        quarantine=quarantine,
        files=tuple(infos),
        timezone=timezone,
        settings=settings,
        pseudonymisation=rule,
    )
