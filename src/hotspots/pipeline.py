"""Run every stage for one FIM date and write the pack atomically.

The pack is built in a temporary folder beside its destination and renamed into
place only when every stage has succeeded, so a failed run leaves an earlier
pack untouched.
"""

from __future__ import annotations

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
    skipped: dict[str, str] = field(default_factory=dict)  # stage name -> why it did not run

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
            now: pd.Timestamp | None = None, stages: tuple[str, ...] | None = None) -> RunResults:
    """Load inputs and run the analysis stages (no files written).

    ``stages`` limits the optional stages run (names as in ``_stage_calls``; None = all).
    """
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
    run_optional_stages(res, rep, stages)
    return res


def _stage_calls(res: RunResults):
    """(stage name, call) for the analysis stages the pack renders, in the order they run."""
    from .analysis.nearrepeat import run_nearrepeat
    from .analysis.surfaces import run_surfaces
    from .analysis.trends import run_trends
    from .coverage.report import run_coverage
    from .forecast.stage import run_forecast

    cfg, area, grid = res.cfg, res.area, res.grid
    return [
        ("surfaces", lambda: run_surfaces(cfg, res.recent(), area, grid)),
        ("trends", lambda: run_trends(cfg, res.incidents, area, grid, res.fim_date)),
        ("nearrepeat", lambda: run_nearrepeat(cfg, res.incidents, area, grid, res.fim_date)),
        ("coverage", lambda: run_coverage(cfg, res.recent(), area, grid, hotspot_areas=_hotspot_polygons(res))),
        ("forecast", lambda: run_forecast(cfg, res.incidents, area, grid, res.fim_date)),
    ]


def _hotspot_polygons(res: RunResults):
    """The surfaces stage's hotspot areas of every crime type as one GeoDataFrame (area_id, label), or None."""
    surf = res.stages.get("surfaces")
    if surf is None:
        return None
    import geopandas as gpd

    frames = []
    for t, a in getattr(surf, "areas", {}).items():
        if a.frame is not None and len(a.frame):
            frames.append(gpd.GeoDataFrame({"area_id": [f"{t}-{i}" for i in a.frame["area_id"]], "label": t},
                                           geometry=a.frame.geometry.values, crs=a.frame.crs))
    return pd.concat(frames, ignore_index=True) if frames else None


def run_optional_stages(res: RunResults, rep: Reporter, only: tuple[str, ...] | None = None) -> None:
    """Run the analysis stages (all, or those named in ``only``).

    A stage that refuses on purpose (a :class:`~hotspots.errors.HotspotsError`, e.g.
    month-precision data for a time-of-day analysis, or no camera inventory) is
    recorded in ``res.skipped`` and the pack says why. Any other fault stops the
    run, so the previous pack stays in place and the fault is not hidden.
    """
    from .errors import HotspotsError

    for name, call in _stage_calls(res):
        if name in res.stages:
            continue
        if only is not None and name not in only:
            res.skipped[name] = "not requested for this run"
            continue
        try:
            with rep.stage(name):
                res.stages[name] = call()
        except HotspotsError as exc:
            res.skipped[name] = str(exc)
            rep.say(f"  {name} not run: {exc}")


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


def write_pack(res: RunResults, out_dir: Path, rep: Reporter, previous: str | Path | None = None) -> Path:
    """Write every product of ``res`` into ``out_dir`` atomically.

    index.html, tasking.csv/html, map.html, wards/<ward_code>.html, layers.gpkg,
    gis/*.tif, public/, quarantine.csv, ward_table.csv and manifest.json.
    ``previous`` is the last FIM's pack (default: the latest earlier sibling).
    """
    from ._csvsafe import write_csv
    from .render import layers as L
    from .render import maps, report
    from .tasking.fim import build_tasking

    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    try:
        with rep.stage("tasking list"):
            tasking = build_tasking(res, previous=previous, out_dir=out_dir)
            res.stages["tasking"] = tasking
        with rep.stage("write tables"):
            write_csv(tasking.to_frame(), tmp / "tasking.csv")
            write_csv(res.ward_table, tmp / "ward_table.csv")
            res.ingest.write_quarantine(tmp / "quarantine.csv")
        with rep.stage("GIS layers"):
            layers = L.vector_layers(res, tasking)
            L.write_gpkg(layers, tmp / "layers.gpkg", tasking)
            L.write_rasters(res, tmp / "gis")
        with rep.stage("render maps"):
            pieces = maps.prepare(res, tasking, layers)
            maps.save_map(maps.build_map(res, pieces), tmp / "map.html")
            ward_files = {}
            if pieces.rcfg.ward_maps:
                (tmp / "wards").mkdir()
                for code, name in zip(res.area.wards["ward_code"], res.area.wards["ward_name"]):
                    fname = f"wards/{_safe_name(code)}.html"
                    maps.save_map(maps.build_map(res, pieces, ward_code=code,
                                                 title=f"{name} ({code}): FIM {res.fim_date:%Y-%m-%d}"), tmp / fname)
                    ward_files[code] = fname
        pcfg = report.public_config(res.cfg)
        if pcfg.enabled:
            with rep.stage("public tier"):
                report.render_public(res, tmp, pcfg)
        with rep.stage("pages"):
            report.render_tasking(res, tasking, tmp, ward_files)
            report.render_index(res, tasking, layers, tmp, ward_files, pcfg.enabled)
        files = [p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file()] + ["manifest.json"]
        man = manifest(res, rep.timings, files)
        man["tasking"] = {"items": int(len(tasking.items)), "status": tasking.status_counts(),
                          "previous_pack": tasking.previous, "playbook": tasking.playbook_source,
                          "review_date": f"{tasking.review_date:%Y-%m-%d}"}
        man["stages_run"] = sorted(k for k, v in res.stages.items() if v is not None)
        man["stages_not_run"] = dict(res.skipped)
        man["layers"] = {k: int(len(v)) for k, v in layers.items()}
        man["headline"] = {k: v for k, v in report.headline(res).items() if k in ("periods", "total")}
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str))
        _swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _safe_name(code: str) -> str:
    """A ward code as a file name (letters, digits, - and _ only)."""
    import re

    return re.sub(r"[^A-Za-z0-9_-]", "_", str(code)) or "ward"


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
        now: pd.Timestamp | None = None, previous: str | Path | None = None,
        scheduler: str | None = None, stages: tuple[str, ...] | None = None) -> Path:
    """Run the whole pipeline for one FIM date; returns the pack folder.

    ``previous`` is the last FIM's pack folder (default: the latest earlier
    ``fim-YYYY-MM-DD`` sibling of the output folder), for stable tasking ids.
    ``scheduler`` is a Dask scheduler address (or ``"local"``) to run on; default
    ``[scale] scheduler`` from the config; ``""`` runs here (see ``hotspots.scale.distributed``).
    ``stages`` limits the optional analysis stages run here (None = all; the pack marks the rest "not run").
    """
    if scheduler is None:
        from .scale.distributed import configured_scheduler

        scheduler = configured_scheduler(cfg)
    if scheduler:
        from .scale.distributed import run_on_cluster

        return run_on_cluster(cfg, fim_date, out_dir, scheduler, quiet=quiet, now=now, previous=previous,
                              stages=stages)
    rep = Reporter(quiet=quiet)
    rep.say(f"hotspots {__version__}: {cfg.project.name}")
    res = analyse(cfg, fim_date, rep, now=now, stages=stages)
    out = Path(out_dir) if out_dir else default_out_dir(cfg, res.fim_date)
    return write_pack(res, out, rep, previous=previous)
