"""Ingest: configured incident sources -> canonical :data:`~hotspots.model.INCIDENT_COLUMNS`
table in EPSG:27700, plus a quarantine table of every rejected row with a reason.

``accepted + quarantined = read`` holds for every source; the summary says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config import Config
from ..errors import InputError
from ..model import BNG, INCIDENT_COLUMNS, StudyArea
from .readers import read_source
from .validate import REASONS, assign_wards, check_rows

__all__ = ["IngestResult", "load_incidents", "REASONS"]


@dataclass(frozen=True, eq=False)
class IngestResult:
    """Accepted incidents (GeoDataFrame, EPSG:27700), quarantined rows and per-source counts."""

    incidents: object
    quarantine: pd.DataFrame
    sources: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def rows_read(self) -> int:
        return sum(s["rows_read"] for s in self.sources)

    def summary(self) -> dict:
        """Counts for the manifest: read, accepted, quarantined by reason, per source and in total."""
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
        }

    def report(self) -> str:
        """A few lines for the terminal."""
        s = self.summary()
        lines = [f"Read {s['rows_read']:,} rows: {s['accepted']:,} accepted, {s['quarantined']:,} quarantined"
                 + ("" if s["reconciles"] else "  (COUNTS DO NOT RECONCILE)")]
        for k, v in s["quarantined_by_reason"].items():
            lines.append(f"  {v:>8,}  {k}: {REASONS.get(k, '')}")
        if len(self.incidents):
            by = self.incidents["crime_type"].value_counts()
            lines.append("Accepted by crime type: " + ", ".join(f"{k} {v:,}" for k, v in by.items()))
            lines.append(f"Dates {self.incidents['start'].min():%Y-%m-%d} to {self.incidents['end'].max():%Y-%m-%d}; "
                         f"time precision: {', '.join(sorted(self.incidents['time_precision'].unique()))}")
        return "\n".join(lines)

    def write_quarantine(self, path: Path) -> Path:
        from .._csvsafe import write_csv

        write_csv(self.quarantine, path)
        return path


def _quarantine_frame(rows: pd.DataFrame) -> pd.DataFrame:
    orig = pd.DataFrame(list(rows["_original"]), index=rows.index) if len(rows) else pd.DataFrame(index=rows.index)
    base = rows[["source_file", "source_row", "reason", "detail"]]
    return pd.concat([base, orig.add_prefix("input:")], axis=1)


def _ingest_source(i: int, src, cfg: Config, area: StudyArea, now: pd.Timestamp, weights: dict[str, float]):
    path = cfg.path(src.path)
    raw, xy_crs = read_source(path, src)
    n_read = len(raw)
    rows = check_rows(raw, xy_crs, src, cfg.crime_type_map, cfg.project.timezone, now)
    ok = rows["reason"] == ""
    code, dist = assign_wards(rows[ok], area.wards, cfg.study_area.boundary_tolerance_m)
    rows.loc[ok, "ward_code"] = code
    outside = ok & rows["ward_code"].isna()
    rows.loc[outside, "reason"] = "outside_study_area"
    rows.loc[outside, "detail"] = ("point is " + dist.reindex(rows.index)[outside].round(0).astype(int).astype(str)
                                   + f" m outside the study area (tolerance {cfg.study_area.boundary_tolerance_m:g} m)")
    with_coords = rows["reason"].isin(["", "outside_study_area"])
    per_file = rows[with_coords].groupby("source_file")["reason"].apply(lambda r: (r == "outside_study_area").all())
    for f, all_out in per_file.items():
        if all_out:
            sub = rows[with_coords & (rows["source_file"] == f)]
            bx = area.boundary.bounds
            raise InputError(
                f"{f}: all {len(sub):,} rows with coordinates fall outside the study area (data spans x "
                f"{sub['x'].min():.0f}-{sub['x'].max():.0f}, y {sub['y'].min():.0f}-{sub['y'].max():.0f} in "
                f"EPSG:27700; the study area spans x {bx[0]:.0f}-{bx[2]:.0f}, y {bx[1]:.0f}-{bx[3]:.0f}). Check the "
                "coordinate columns and their crs, or the ward file.")
    # ids: keep blank police.uk ids (distinct crimes); repeated non-blank ids are quarantined
    ok = rows["reason"] == ""
    ids = rows["incident_id"].fillna("").astype(str).str.strip()
    dup = ok & (ids != "") & ids.where(ok).duplicated(keep="first")
    if dup.any():
        first_row = rows[ok & (ids != "")].drop_duplicates("incident_id").set_index("incident_id")["source_row"]
        rows.loc[dup, "reason"] = "duplicate_id"
        rows.loc[dup, "detail"] = ("id " + ids[dup].map(repr) + " already used by data row "
                                   + ids[dup].map(first_row).astype(str))
    blank = ids == ""
    stem = Path(str(src.path)).name
    ids = ids.where(~blank, f"{stem}#" + rows["source_row"].astype(str))
    rows["incident_id"] = f"s{i}:" + ids if len(cfg.incidents) > 1 else ids
    acc = rows[rows["reason"] == ""].copy()
    quar = _quarantine_frame(rows[rows["reason"] != ""])
    acc["harm"] = acc["crime_type"].map(weights).astype(float)
    acc["location_text"] = acc["location_text"].fillna("").astype(str).str.strip()
    acc["lsoa_code"] = acc.get("lsoa_code", pd.Series("", index=acc.index)).fillna("").astype(str)
    by_reason = quar["reason"].value_counts().to_dict()
    info = {"source": str(src.path), "path": str(path), "format": src.format, "rows_read": int(n_read),
            "accepted": int(len(acc)), "quarantined": int(len(quar)),
            "quarantined_by_reason": {k: int(v) for k, v in sorted(by_reason.items())},
            "rows_without_id": int(blank.sum())}
    return acc, quar, info


def load_incidents(cfg: Config, area: StudyArea, now: pd.Timestamp | None = None) -> IngestResult:
    """Read, validate and geocode every ``[[incidents]]`` source of ``cfg``.

    ``now`` (default: the current time) is the limit for "date in the future".
    Rows are assigned to wards by the engine's own point-in-polygon join.
    """
    import geopandas as gpd

    tz = cfg.project.timezone
    now = pd.Timestamp.now(tz=tz) if now is None else (now if now.tzinfo else now.tz_localize(tz))
    weights = cfg.harm_weights()
    accs, quars, infos = [], [], []
    for i, src in enumerate(cfg.incidents):
        a, q, info = _ingest_source(i, src, cfg, area, now, weights)
        accs.append(a)
        quars.append(q)
        infos.append(info)
    acc = pd.concat(accs, ignore_index=True)
    if area.lsoas is not None and len(acc):
        from .validate import assign_wards as _pip

        lw = area.lsoas[["lsoa_code", "geometry"]].rename(columns={"lsoa_code": "ward_code"})
        code, _ = _pip(acc, lw, 0.0)
        acc["lsoa_code"] = code.fillna("").to_numpy()
    geom = gpd.points_from_xy(acc["x"].to_numpy(float), acc["y"].to_numpy(float))
    inc = gpd.GeoDataFrame(acc, geometry=geom, crs=BNG)
    inc["x"] = inc["x"].astype(float)
    inc["y"] = inc["y"].astype(float)
    inc = inc[list(INCIDENT_COLUMNS)].sort_values(["start", "incident_id"], kind="stable").reset_index(drop=True)
    quar = pd.concat(quars, ignore_index=True) if quars else pd.DataFrame()
    return IngestResult(incidents=inc, quarantine=quar, sources=tuple(infos))
