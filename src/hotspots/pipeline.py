"""Run every stage for one FIM date and write the pack atomically.

The pack is built in a temporary folder beside its destination and renamed into
place only when every stage has succeeded, so a failed run leaves an earlier
pack untouched.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from ._util import file_sha256
from .config import Config
from .errors import InputError
from .progress import Reporter


@dataclass
class RunResults:
    """Everything one run produced, in memory (the renderer reads this)."""

    cfg: Config
    fim_date: pd.Timestamp  # tz-aware midnight at the start of the FIM day (Europe/London)
    area: Any
    ingest: Any
    incidents: Any  # accepted incidents before the FIM date
    grid: Any
    ward_table: Any = None
    stages: dict[str, Any] = field(default_factory=dict)  # stage name -> result object
    notes: list[str] = field(default_factory=list)

    @property
    def window_start(self) -> pd.Timestamp:
        return self.fim_date - pd.Timedelta(days=self.cfg.analysis.lookback_days)

    def recent(self, days: int | None = None):
        """Incidents in the ``days`` (default lookback_days) before the FIM date."""
        start = self.fim_date - pd.Timedelta(days=days or self.cfg.analysis.lookback_days)
        inc = self.incidents
        return inc[inc["start"] >= start]


def parse_fim_date(value: str | None, incidents, tz: str) -> pd.Timestamp:
    """The FIM date as tz-aware midnight; default the day after the latest incident."""
    if value:
        try:
            d = pd.Timestamp(value)
        except ValueError:
            raise InputError(f"--date {value!r} is not a date; use YYYY-MM-DD.") from None
        return d.normalize().tz_localize(tz) if d.tzinfo is None else d.tz_convert(tz).normalize()
    last = incidents["end"].max()
    return (last + pd.Timedelta(seconds=1)).normalize() if len(incidents) else pd.Timestamp.now(tz=tz).normalize()


def input_files(cfg: Config) -> list[Path]:
    """Every input file the run reads (for the manifest's hashes)."""
    from .ingest.readers import list_files

    files = []
    for src in cfg.incidents:
        p = cfg.path(src.path)
        files += list_files(p, ("*.csv", "*.csv.gz", "*.geojson", "*.gpkg", "*.shp")) if p.is_dir() else [p]
    sa = cfg.study_area
    for key in ("wards", "boundary", "population", "lsoas", "roads", "town_centres"):
        v = getattr(sa, key)
        if v:
            files.append(cfg.path(v))
    for key in ("cameras",):
        v = cfg.extra.get(key, {}).get("inventory")
        if v:
            files.append(cfg.path(v))
    return files


def default_out_dir(cfg: Config, fim_date: pd.Timestamp) -> Path:
    base = Path(cfg.output.folder)
    if not base.is_absolute():
        base = Path.cwd() / base
    return base / f"fim-{fim_date:%Y-%m-%d}"


def analyse(cfg: Config, fim_date: str | None = None, reporter: Reporter | None = None,
            now: pd.Timestamp | None = None) -> RunResults:
    """Load inputs and run the analysis stages (no files written)."""
    from .geo.study_area import load_study_area
    from .ingest import load_incidents
    from .tasking.wards import ward_table

    rep = reporter or Reporter(quiet=True)
    with rep.stage("study area"):
        area = load_study_area(cfg)
    for n in area.notes:
        rep.say("  note: " + n)
    with rep.stage("ingest"):
        ing = load_incidents(cfg, area, now=now)
    rep.say(ing.report())
    fim = parse_fim_date(fim_date, ing.incidents, cfg.project.timezone)
    # an incident is used only when its whole time window lies before the FIM date
    # (a police.uk month is used once the month is over)
    inc = ing.incidents[ing.incidents["end"] < fim].reset_index(drop=True)
    if len(inc) == 0:
        raise InputError(f"no accepted incidents before the FIM date {fim:%Y-%m-%d}; choose a later --date.")
    with rep.stage("grid"):
        grid = area.grid(cfg.grid.cell_size_m)
    rep.say(f"  grid: {grid.cell_size:g} m cells, {grid.n_cells:,} cells inside the study area"
            + (" (cell size chosen automatically)" if cfg.grid.cell_size_m == 0 else ""))
    res = RunResults(cfg=cfg, fim_date=fim, area=area, ingest=ing, incidents=inc, grid=grid)
    with rep.stage("ward rates"):
        res.ward_table = ward_table(res.recent(), area.wards, period_days=cfg.analysis.lookback_days)
    return res


def manifest(res: RunResults, timings: dict[str, float], files: list[str]) -> dict:
    cfg = res.cfg
    return {
        "package": "hotspots",
        "version": __version__,
        "fim_date": f"{res.fim_date:%Y-%m-%d}",
        "generated_at": pd.Timestamp.now(tz=cfg.project.timezone).isoformat(timespec="seconds"),
        "config_file": str(cfg.source_file),
        "config": cfg.raw,
        "data_dir": str(cfg.data_dir),
        "random_seed": cfg.project.seed,
        "harm_scheme": cfg.harm.scheme,
        "grid": {"cell_size_m": res.grid.cell_size, "ncols": res.grid.ncols, "nrows": res.grid.nrows,
                 "cells_in_area": res.grid.n_cells, "crs": res.grid.crs},
        "inputs": [{"path": str(p), "sha256": file_sha256(p), "bytes": Path(p).stat().st_size}
                   for p in input_files(cfg)],
        "rows": res.ingest.summary(),
        "incidents_before_fim_date": int(len(res.incidents)),
        "time_precision": sorted(res.incidents["time_precision"].unique()),
        "notes": list(res.area.notes) + res.notes,
        "timings_s": timings,
        "files": sorted(files),
    }


def write_pack(res: RunResults, out_dir: Path, rep: Reporter) -> Path:
    """Write every product of ``res`` into ``out_dir`` atomically."""
    from ._csvsafe import write_csv
    from .render.maps import borough_map

    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    try:
        with rep.stage("write tables"):
            write_csv(res.ward_table, tmp / "tasking.csv")
            res.ingest.write_quarantine(tmp / "quarantine.csv")
        with rep.stage("render maps"):
            borough_map(res).save(str(tmp / "index.html"))
        files = [str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file()] + ["manifest.json"]
        (tmp / "manifest.json").write_text(json.dumps(manifest(res, rep.timings, files), indent=2, default=str))
        _swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _swap_into_place(tmp: Path, out_dir: Path) -> None:
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    os.chmod(out_dir, 0o755)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run(cfg: Config, fim_date: str | None = None, out_dir: str | Path | None = None, quiet: bool = False,
        now: pd.Timestamp | None = None) -> Path:
    """Run the whole pipeline for one FIM date; returns the pack folder."""
    rep = Reporter(quiet=quiet)
    rep.say(f"hotspots {__version__}: {cfg.project.name}")
    res = analyse(cfg, fim_date, rep, now=now)
    out = Path(out_dir) if out_dir else default_out_dir(cfg, res.fim_date)
    return write_pack(res, out, rep)


def replace_config(cfg: Config, **changes) -> Config:
    return dataclasses.replace(cfg, **changes)
