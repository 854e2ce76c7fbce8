"""Run every stage for one FIM date and write the pack atomically.

:func:`analyse` loads the inputs and runs the stages (the analysis stages of
:data:`hotspots.stages.ANALYSIS_STAGES`, then the tasking list) in memory and
returns the typed :class:`~hotspots.stages.results.RunResults`;
:func:`write_pack` only writes. The pack is built in a temporary folder beside
its destination and renamed into place only when everything has been written,
so a failed run leaves an earlier pack untouched. Running on a Dask cluster is
:mod:`hotspots.scale.distributed`'s business, not this module's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from ._csvsafe import write_csv
from ._util import file_sha256
from .config import Config
from .ingest.readers import list_files
from .progress import Reporter
from .render import layers as L
from .render import maps, report
from .stages import ANALYSIS_STAGES, RunInputs, RunResults, Stage, load_inputs, run_stages
from .tasking import stage as tasking_stage

#: Every stage of a pack, in the order they run: the analyses, then the tasking list.
PIPELINE_STAGES: tuple[Stage, ...] = (*ANALYSIS_STAGES, tasking_stage.STAGE)

#: Stages that always run and are not listed in the manifest's ``stages_run`` (as in 0.1.0 manifests).
_UNLISTED = ("ward_table",)

#: ``pack_dir`` value meaning "the default pack folder, ``[output] folder/fim-YYYY-MM-DD``".
DEFAULT_PACK_DIR = "[output] folder/fim-DATE"


def input_files(cfg: Config) -> list[Path]:
    """Every input file the run reads (for the manifest's hashes)."""
    files = []
    for src in cfg.incidents:
        p = cfg.path(src.path)
        files += list_files(p, ("*.csv", "*.csv.gz", "*.geojson", "*.gpkg", "*.shp")) if p.is_dir() else [p]
    sa = cfg.study_area
    for key in ("wards", "boundary", "population", "lsoas", "roads", "town_centres"):
        v = getattr(sa, key)
        if v:
            files.append(cfg.path(v))
    files += [cfg.path(s.path) for s in cfg.cameras.sources()]
    for key in ("roads", "boundary", "street_points", "neighbours"):
        v = getattr(cfg.anpr, key)
        if v:
            files.append(cfg.path(v))
    return files


def default_out_dir(cfg: Config, fim_date: pd.Timestamp) -> Path:
    """``[output] folder/fim-YYYY-MM-DD`` (relative folders start at the current folder)."""
    base = Path(cfg.output.folder)
    if not base.is_absolute():
        base = Path.cwd() / base
    return base / f"fim-{fim_date:%Y-%m-%d}"


def run_analysis(
    inputs: RunInputs, reporter: Reporter | None = None, stages: Sequence[str] | None = None
) -> RunResults:
    """Run every stage on loaded inputs; ``stages`` limits the optional analysis stages (None = all)."""
    return run_stages(RunResults(inputs=inputs), PIPELINE_STAGES, only=stages, reporter=reporter)


def analyse(
    cfg: Config,
    fim_date: str | None = None,
    reporter: Reporter | None = None,
    now: pd.Timestamp | None = None,
    stages: Sequence[str] | None = None,
    previous: str | Path | None = None,
    pack_dir: str | Path | None = None,
) -> RunResults:
    """Load the inputs and run every stage, the tasking list included (no files written).

    ``stages`` limits the optional analysis stages run (names as in
    :data:`PIPELINE_STAGES`; None = all; the others are "not requested").
    ``previous`` is the last FIM's pack and ``pack_dir`` where this pack will
    go (an earlier ``fim-YYYY-MM-DD`` sibling of it is the previous pack when
    ``previous`` is not given; :data:`DEFAULT_PACK_DIR` = the default folder);
    without either every tasking item is new.
    """
    rep = reporter or Reporter(quiet=True)
    default = pack_dir == DEFAULT_PACK_DIR
    inputs = load_inputs(cfg, fim_date, rep, now=now, previous=previous, pack_dir=None if default else pack_dir)
    if default:
        inputs = dataclasses.replace(inputs, pack_dir=default_out_dir(cfg, inputs.fim_date))
    return run_analysis(inputs, rep, stages)


def manifest(res: RunResults, timings: dict[str, float], files: list[str], layers: dict[str, Any]) -> dict[str, Any]:
    """How the pack was made: version, settings, input hashes, counts, seed, timings, stages, layers."""
    cfg = res.cfg
    tl = res.tasking
    man: dict[str, Any] = {
        "package": "hotspots",
        "version": __version__,
        "fim_date": f"{res.fim_date:%Y-%m-%d}",
        "generated_at": pd.Timestamp.now(tz=cfg.timezone).isoformat(timespec="seconds"),
        "config_file": str(cfg.source_file),
        "config": cfg.raw,
        "data_dir": str(cfg.data_dir),
        "random_seed": cfg.project.seed,
        "harm_scheme": cfg.harm.scheme,
        "grid": {
            "cell_size_m": res.grid.cell_size,
            "ncols": res.grid.ncols,
            "nrows": res.grid.nrows,
            "cells_in_area": res.grid.n_cells,
            "crs": res.grid.crs,
        },
        "inputs": [
            {"path": str(p), "sha256": file_sha256(p), "bytes": Path(p).stat().st_size} for p in input_files(cfg)
        ],
        "rows": res.ingest.summary(),
        "incidents_before_fim_date": int(len(res.incidents)),
        "time_precision": sorted(res.incidents["time_precision"].unique()),
        "notes": list(res.area.notes),
        "timings_s": timings,
        "files": sorted(files),
    }
    if tl is not None:
        man["tasking"] = {
            "items": int(len(tl.items)),
            "status": tl.status_counts(),
            "previous_pack": tl.previous,
            "playbook": tl.playbook_source,
            "review_date": f"{tl.review_date:%Y-%m-%d}",
        }
    man["stages_run"] = sorted(s.name for s in PIPELINE_STAGES if s.name not in _UNLISTED and res.ran(s.name))
    man["stages_not_run"] = dict(res.not_run)
    man["layers"] = {k: int(len(v)) for k, v in layers.items()}
    man["headline"] = {k: v for k, v in report.headline(res).items() if k in ("periods", "total")}
    return man


def _write_maps(res: RunResults, layers: dict[str, Any], tmp: Path) -> dict[str, str]:
    """The borough map and (with ``[render] ward_maps``) one map per ward; returns ward code -> file."""
    pieces = maps.prepare(res, layers)
    maps.save_map(maps.build_map(res, pieces), tmp / "map.html")
    ward_files: dict[str, str] = {}
    if pieces.rcfg.ward_maps:
        (tmp / "wards").mkdir()
        for code, name in zip(res.area.wards["ward_code"], res.area.wards["ward_name"]):
            fname = f"wards/{_safe_name(code)}.html"
            maps.save_map(
                maps.build_map(res, pieces, ward_code=code, title=f"{name} ({code}): FIM {res.fim_date:%Y-%m-%d}"),
                tmp / fname,
            )
            ward_files[code] = fname
    return ward_files


def write_pack(res: RunResults, out_dir: str | Path, rep: Reporter | None = None) -> Path:
    """Write every product of ``res`` into ``out_dir`` atomically; returns the pack folder.

    index.html, tasking.csv/html, map.html, wards/<ward_code>.html, layers.gpkg,
    gis/*.tif, public/, quarantine.csv, ward_table.csv, cctv/*.csv (when coverage ran) and manifest.json.
    ``res`` must hold the tasking list and the ward table (as :func:`analyse` returns).
    """
    rep = rep or Reporter(quiet=True)
    if res.tasking is None or res.ward_table is None:
        raise ValueError("write_pack needs the results of analyse(): the tasking list and the ward table are missing.")
    tasking = res.tasking
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    try:
        with rep.stage("write tables"):
            write_csv(tasking.to_frame(), tmp / "tasking.csv")
            write_csv(res.ward_table, tmp / "ward_table.csv")
            res.ingest.write_quarantine(tmp / "quarantine.csv")
            if res.coverage is not None:
                res.coverage.write_tables(tmp / "cctv")
        with rep.stage("GIS layers"):
            layers = L.vector_layers(res)
            L.write_gpkg(layers, tmp / "layers.gpkg", tasking)
            L.write_rasters(res, tmp / "gis")
        with rep.stage("render maps"):
            ward_files = _write_maps(res, layers, tmp)
        pcfg = res.cfg.public
        if pcfg.enabled:
            with rep.stage("public tier"):
                report.render_public(res, tmp, pcfg)
        with rep.stage("pages"):
            report.render_tasking(res, tasking, tmp, ward_files)
            report.render_index(res, tasking, layers, tmp, ward_files, pcfg.enabled)
        files = [p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file()] + ["manifest.json"]
        man = manifest(res, rep.timings, files, layers)
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str))
        _swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _safe_name(code: str) -> str:
    """A ward code as a file name (letters, digits, - and _ only)."""
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


def run(
    cfg: Config,
    fim_date: str | None = None,
    out_dir: str | Path | None = None,
    quiet: bool = False,
    now: pd.Timestamp | None = None,
    previous: str | Path | None = None,
    stages: Sequence[str] | None = None,
) -> Path:
    """Run the whole pipeline for one FIM date in this process; returns the pack folder.

    ``out_dir`` defaults to ``[output] folder/fim-YYYY-MM-DD``. ``previous`` is
    the last FIM's pack folder (default: the latest earlier ``fim-YYYY-MM-DD``
    sibling of the output folder), for stable tasking ids. ``stages`` limits
    the optional analysis stages (None = all; the pack marks the rest "not run").
    """
    rep = Reporter(quiet=quiet)
    rep.say(f"hotspots {__version__}: {cfg.project.name}")
    res = analyse(
        cfg, fim_date, rep, now=now, stages=stages, previous=previous, pack_dir=out_dir if out_dir else DEFAULT_PACK_DIR
    )
    return write_pack(res, res.inputs.pack_dir or default_out_dir(cfg, res.fim_date), rep)
