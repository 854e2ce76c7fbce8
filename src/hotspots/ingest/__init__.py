"""Ingest: configured incident sources -> canonical :data:`~hotspots.model.INCIDENT_COLUMNS`
table in the working CRS, plus a quarantine table of every rejected row with a reason.

``accepted + quarantined = read`` holds for every source; the summary says so.
:func:`read_incidents` takes the typed ``[[incidents]]`` sections and explicit
settings (never the whole config); :func:`hotspots.stages.inputs.load_incidents`
reads them from a config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import Transformer

from .._csvsafe import write_csv
from ..config.loader import resolve_path
from ..config.sections import IncidentSource
from ..crs import crs_label, inside_area_of_use
from ..errors import InputError
from ..geo.study_area import StudyArea
from ..model import INCIDENT_COLUMNS
from .readers import INPUT_PREFIX, SourceRead, read_source
from .validate import REASONS, assign_wards, check_rows

__all__ = ["REASONS", "IngestResult", "read_incidents"]


@dataclass(frozen=True)
class IngestSettings:
    """What ingest needs besides the sources: where relative paths start, the crime-type map
    (source label, lower case -> canonical type), harm weights per canonical type, the time
    zone of naive times and the tolerance (metres) for points just outside the study area."""

    data_dir: Path
    crime_type_map: dict[str, str]
    harm_weights: dict[str, float]
    timezone: str
    boundary_tolerance_m: float = 50.0


@dataclass(frozen=True, eq=False)
class IngestResult:
    """Accepted incidents (GeoDataFrame, working CRS), quarantined rows, per-source counts and notes.

    ``notes`` are the things ingest decided and the user should know (an
    encoding read as Windows-1252, dates read month first, a delimiter); they go
    to the terminal, ``ingest_summary.json`` and the pack's manifest.
    """

    incidents: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    sources: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rows_read(self) -> int:
        return sum(s["rows_read"] for s in self.sources)

    def summary(self) -> dict[str, Any]:
        """Counts for the manifest: read, accepted, quarantined by reason, per source and in total, and notes."""
        reasons: dict[str, int] = {}
        for s in self.sources:
            for k, v in s["quarantined_by_reason"].items():
                reasons[k] = reasons.get(k, 0) + v
        return {
            "rows_read": self.rows_read,
            "accepted": int(len(self.incidents)),
            "quarantined": int(len(self.quarantine)),
            "quarantined_by_reason": dict(sorted(reasons.items())),
            "reconciles": self.rows_read == len(self.incidents) + len(self.quarantine),
            "sources": list(self.sources),
            "notes": list(self.notes),
        }

    def report(self) -> str:
        """A few lines for the terminal."""
        s = self.summary()
        lines = [
            f"Read {s['rows_read']:,} rows: {s['accepted']:,} accepted, {s['quarantined']:,} quarantined"
            + ("" if s["reconciles"] else "  (COUNTS DO NOT RECONCILE)")
        ]
        for k, v in s["quarantined_by_reason"].items():
            lines.append(f"  {v:>8,}  {k}: {REASONS.get(k, '')}")
        lines += [f"note: {n}" for n in self.notes]
        if len(self.incidents):
            by = self.incidents["crime_type"].value_counts()
            lines.append("Accepted by crime type: " + ", ".join(f"{k} {v:,}" for k, v in by.items()))
            lines.append(
                f"Dates {self.incidents['start'].min():%Y-%m-%d} to {self.incidents['end'].max():%Y-%m-%d}; "
                f"time precision: {', '.join(sorted(self.incidents['time_precision'].unique()))}"
            )
        return "\n".join(lines)

    def write_quarantine(self, path: Path) -> Path:
        write_csv(self.quarantine, path)
        return path


def _quarantine_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows with their file, row, reason, detail and cells as read (``input:<column>``)."""
    inputs = rows[[c for c in rows.columns if c.startswith(INPUT_PREFIX)]].dropna(axis=1, how="all")
    return pd.concat([rows[["source_file", "source_row", "reason", "detail"]], inputs], axis=1)


def _refuse_outside_area_of_use(rows: pd.DataFrame, crs: str) -> None:
    """Refuse a file whose points lie (by their median) outside the working CRS's area of use: the wards
    lie inside it (:func:`~hotspots.geo.study_area.read_vector` checks), so such a file is not for this area."""
    ok = rows["reason"] == ""
    for f, sub in rows[ok].groupby("source_file", sort=False):
        x, y = float(sub["x"].median()), float(sub["y"].median())
        lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
        if not inside_area_of_use(lon, lat, crs):
            raise InputError(
                f"{f}: the incidents lie around longitude {lon:.3f}, latitude {lat:.3f}, outside the area of use "
                f"of the working CRS {crs_label(crs)} in which the study area's wards lie, so they are not for this "
                "area. Check that this is the right file, and its coordinate columns and crs."
            )


def _ingest_source(
    i: int, src: IncidentSource, n_sources: int, area: StudyArea, now: pd.Timestamp, settings: IngestSettings
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], SourceRead, list[str]]:
    path = resolve_path(src.path, settings.data_dir)
    read = read_source(path, src, area.crs)
    raw = read.raw
    n_read = len(raw)
    rows, notes = check_rows(raw, read.xy_crs, src, settings.crime_type_map, settings.timezone, now, area.crs)
    _refuse_outside_area_of_use(rows, area.crs)
    ok = rows["reason"] == ""
    tolerance = settings.boundary_tolerance_m
    code, dist = assign_wards(rows[ok], area.wards, tolerance)
    rows.loc[ok, "ward_code"] = code
    outside = ok & rows["ward_code"].isna()
    if outside.any():
        rows.loc[outside, "reason"] = "outside_study_area"
        rows.loc[outside, "detail"] = [
            f"point is {d:,.0f} m outside the study area (tolerance {tolerance:g} m)"
            for d in dist.reindex(rows.index)[outside]
        ]
    _refuse_file_outside(rows, area)
    _quarantine_repeated_ids(rows)
    ids = rows["incident_id"].fillna("").astype(str).str.strip()
    blank = ids == ""
    stem = Path(str(src.path)).name
    ids = ids.where(~blank, f"{stem}#" + rows["source_row"].astype(str))
    rows["incident_id"] = f"s{i}:" + ids if n_sources > 1 else ids
    acc = rows[rows["reason"] == ""].copy()
    quar = _quarantine_frame(rows[rows["reason"] != ""])
    acc["harm"] = acc["crime_type"].map(settings.harm_weights).astype(float)
    acc["location_text"] = acc["location_text"].fillna("").astype(str).str.strip()
    acc["lsoa_code"] = acc["lsoa_code"].fillna("").astype(str)
    by_reason = quar["reason"].value_counts().to_dict()
    all_notes = read.notes + notes
    info = {
        "source": str(src.path),
        "path": str(path),
        "format": src.format,
        "rows_read": int(n_read),
        "accepted": int(len(acc)),
        "quarantined": int(len(quar)),
        "quarantined_by_reason": {k: int(v) for k, v in sorted(by_reason.items())},
        "rows_without_id": int(blank.sum()),
        "files": [
            {"path": str(f.path), "rows": f.rows, "encoding": f.encoding, "delimiter": f.delimiter} for f in read.files
        ],
        "notes": all_notes,
    }
    return acc, quar, info, read, all_notes


def _refuse_repeated_files(reads: list[SourceRead]) -> None:
    """The same data in two files (or one file named by two sources) would be counted twice: refuse."""
    seen: dict[str, Path] = {}
    for read in reads:
        for f in read.files:
            first = seen.get(f.digest)
            if first is not None:
                why = (
                    f"{f.path} is named by two [[incidents]] sources"
                    if first == f.path
                    else f"{first} and {f.path} hold exactly the same data"
                )
                raise InputError(f"{why}, so every incident in it would be counted twice; keep one of them.")
            seen[f.digest] = f.path


def _refuse_file_outside(rows: pd.DataFrame, area: StudyArea) -> None:
    """A file whose every row with coordinates is outside the study area is a whole-file mistake."""
    with_coords = rows["reason"].isin(["", "outside_study_area"])
    per_file = rows[with_coords].groupby("source_file")["reason"].apply(lambda r: (r == "outside_study_area").all())
    for f, all_out in per_file.items():
        if all_out:
            sub = rows[with_coords & (rows["source_file"] == f)]
            bx = area.boundary.bounds
            raise InputError(
                f"{f}: all {len(sub):,} rows with coordinates fall outside the study area (data spans x "
                f"{sub['x'].min():.0f}-{sub['x'].max():.0f}, y {sub['y'].min():.0f}-{sub['y'].max():.0f} in "
                f"{crs_label(area.crs)}; the study area spans x {bx[0]:.0f}-{bx[2]:.0f}, y {bx[1]:.0f}-{bx[3]:.0f}). "
                "Check the coordinate columns and their crs, or the ward file."
            )


def _quarantine_repeated_ids(rows: pd.DataFrame) -> None:
    """Blank police.uk ids are distinct crimes and stay; a repeated non-blank id is quarantined (in place)."""
    ok = rows["reason"] == ""
    ids = rows["incident_id"].fillna("").astype(str).str.strip()
    dup = ok & (ids != "") & ids.where(ok).duplicated(keep="first")
    if dup.any():
        first_row = rows[ok & (ids != "")].drop_duplicates("incident_id").set_index("incident_id")["source_row"]
        rows.loc[dup, "reason"] = "duplicate_id"
        rows.loc[dup, "detail"] = (
            "id " + ids[dup].map(repr) + " already used by data row " + ids[dup].map(first_row).astype(str)
        )


def read_incidents(
    sources: Sequence[IncidentSource], area: StudyArea, settings: IngestSettings, now: pd.Timestamp | None = None
) -> IngestResult:
    """Read, validate and geocode every incident source into the study area's CRS.

    ``now`` (default: the current time) is the limit for "date in the future".
    Rows are assigned to wards by the engine's own point-in-polygon join.
    """
    tz = settings.timezone
    now = pd.Timestamp.now(tz=tz) if now is None else (now if now.tzinfo else now.tz_localize(tz))
    accs, quars, infos, reads, notes = [], [], [], [], []
    for i, src in enumerate(sources):
        a, q, info, read, src_notes = _ingest_source(i, src, len(sources), area, now, settings)
        accs.append(a)
        quars.append(q)
        infos.append(info)
        reads.append(read)
        notes += src_notes
    _refuse_repeated_files(reads)
    acc = pd.concat(accs, ignore_index=True)
    if area.lsoas is not None and len(acc):
        lw = area.lsoas[["lsoa_code", "geometry"]].rename(columns={"lsoa_code": "ward_code"})
        code, _ = assign_wards(acc, lw, 0.0)
        acc["lsoa_code"] = code.fillna("").to_numpy()
    geom = gpd.points_from_xy(acc["x"].to_numpy(float), acc["y"].to_numpy(float))
    inc = gpd.GeoDataFrame(acc, geometry=geom, crs=area.crs)
    inc["x"] = inc["x"].astype(float)
    inc["y"] = inc["y"].astype(float)
    inc = inc[list(INCIDENT_COLUMNS)].sort_values(["start", "incident_id"], kind="stable").reset_index(drop=True)
    quar = pd.concat(quars, ignore_index=True) if quars else pd.DataFrame()
    return IngestResult(incidents=inc, quarantine=quar, sources=tuple(infos), notes=tuple(notes))
