"""Run every stage for one FIM date and write the pack atomically.

:func:`analyse` loads the inputs and runs the stages (the analysis stages of
:data:`hotspots.stages.ANALYSIS_STAGES`, then the tasking list) in memory and
returns the typed :class:`~hotspots.stages.results.RunResults`;
:func:`write_pack` only writes. The pack is written under the output folder's
lock into a hidden folder beside its destination and swapped into place only
when everything has been written (:mod:`hotspots.outfolder`), so a failed or
killed run leaves an earlier pack untouched and two runs never write the same
folder at once. Running on a Dask cluster is :mod:`hotspots.scale.distributed`'s
business, not this module's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__, heap, outfolder
from ._csvsafe import write_csv
from ._util import available_workers, file_sha256
from .config import Config
from .ingest.readers import list_files
from .progress import Reporter
from .render import layers as L
from .render import maps, report
from .render.briefing import BRIEFING_PDF, write_briefing
from .render.concentration import render_concentration
from .render.dosage import render_dosage
from .render.experiment import render_experiment
from .render.filenames import ward_map_files
from .render.public import PublicTier
from .stages import ANALYSIS_STAGES, RunInputs, RunResults, Stage, load_inputs, run_stages
from .stages.background import Background, can_fork
from .stages.inputs import parse_fim_date
from .stages.results import TaskingList
from .tasking import dosage as dosage_stage
from .tasking import experiment as experiment_stage
from .tasking import stage as tasking_stage
from .writable import check_writable

#: Every stage of a pack, in the order they run: the analyses, the patrol delivered at the last list's places,
#: the tasking list, then the patrol experiment over its places.
PIPELINE_STAGES: tuple[Stage, ...] = (
    *ANALYSIS_STAGES,
    dosage_stage.STAGE,
    tasking_stage.STAGE,
    experiment_stage.STAGE,
)

#: Stages that always run and are not listed in the manifest's ``stages_run`` (as in 0.1.0 manifests).
_UNLISTED = ("ward_table",)

#: ``pack_dir`` value meaning "the default pack folder, ``[output] folder/fim-YYYY-MM-DD``".
DEFAULT_PACK_DIR = "[output] folder/fim-DATE"


#: The files an [[incidents]] folder is read from.
INCIDENT_PATTERNS = ("*.csv", "*.csv.gz", "*.geojson", "*.gpkg", "*.shp")


def input_files(cfg: Config) -> list[Path]:
    """Every input file the run reads (for the manifest's hashes)."""
    files = []
    for src in cfg.incidents:
        p = cfg.path(src.path)
        files += list_files(p, INCIDENT_PATTERNS) if p.is_dir() else [p]
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
    fim_date: str | dt.date | None = None,
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
    heap.settle()  # the inputs live to the end of the run
    res = run_analysis(inputs, rep, stages)
    heap.settle()  # and so do the results
    return res


def manifest(
    res: RunResults,
    timings: dict[str, float],
    files: list[str],
    layers: dict[str, Any],
    public: PublicTier | None = None,
) -> dict[str, Any]:
    """How the pack was made: version, settings, input hashes, counts, seed, the steps run, stages,
    layers, and what the public tier shows and suppressed.

    Same inputs and seed give the same manifest, except ``generated_at`` (the one field that
    records when it was made; the step durations are shown on the terminal, not kept here)."""
    cfg = res.cfg
    tl = res.tasking
    man: dict[str, Any] = {
        "package": "hotspots",
        "version": __version__,
        "fim_date": f"{res.fim_date:%Y-%m-%d}",
        "fim_date_chosen": res.inputs.choices.get("fim_date", "given (--date)"),
        "analysis_window": res.inputs.window.label,
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
        "notes": list(res.area.notes) + list(res.ingest.notes),
        "steps": list(timings),  # their durations are printed on the terminal: a pack's bytes must not vary
        "files": sorted(files),
    }
    if tl is not None:
        man["tasking"] = {
            "items": int(len(tl.items)),
            "status": tl.status_counts(),
            "previous_pack": tl.previous,
            "playbook": tl.playbook_source,
            "review_date": f"{tl.review_date:%Y-%m-%d}",
            "merge_distance_m": tl.merge_distance_m,
            "harm_unit": tl.harm_unit,
            "columns": tl.column_keys,
            "omitted_columns": list(tl.omitted_notes()),
            "choices": dict(tl.choices),
        }
    if res.dosage is not None:
        man["dosage"] = res.dosage.summary()
    if res.experiment is not None:
        man["experiment"] = res.experiment.summary()
    man["stages_run"] = sorted(s.name for s in PIPELINE_STAGES if s.name not in _UNLISTED and res.ran(s.name))
    man["stages_not_run"] = dict(res.not_run)
    man["layers"] = {k: int(len(v)) for k, v in layers.items()}
    man["headline"] = {k: v for k, v in report.headline(res).items() if k in ("periods", "total")}
    if public is not None:
        man["public"] = public.summary()
    return man


def _write_maps(res: RunResults, layers: dict[str, Any], tmp: Path) -> dict[str, str]:
    """The borough map and (with ``[render] ward_maps``) one map per ward; returns ward code -> file."""
    pieces = maps.prepare(res, layers)
    maps.save_map(maps.build_map(res, pieces), tmp / "map.html")
    if not pieces.rcfg.ward_maps:
        return {}
    ward_files = ward_map_files(res.area.wards["ward_code"])
    (tmp / "wards").mkdir()
    for code in res.area.wards["ward_code"]:  # titled "<name> ward"; the subtitle gives the meeting date
        maps.save_map(maps.build_map(res, pieces, ward_code=code), tmp / ward_files[str(code)])
    return ward_files


def write_pack(res: RunResults, out_dir: str | Path, rep: Reporter | None = None) -> Path:
    """Write every product of ``res`` into ``out_dir`` as a whole; returns the pack folder (absolute).

    index.html, tasking.csv/html, briefing.pdf, map.html, wards/<ward map file>.html, layers.gpkg,
    gis/*.tif, public/, quarantine.csv, ward_table.csv, cctv/*.csv (when coverage ran) and manifest.json.
    ``res`` must hold the tasking list and the ward table (as :func:`analyse` returns).
    The pack is written under the output folder's lock into a hidden folder and swapped
    into place only when complete (:func:`hotspots.outfolder.writing`): a failed or killed
    run leaves the previous pack untouched, and a second run on the same folder stops
    with a clear message.
    """
    rep = rep or Reporter(quiet=True)
    if res.tasking is None or res.ward_table is None:
        raise ValueError("write_pack needs the results of analyse(): the tasking list and the ward table are missing.")
    with outfolder.writing(out_dir) as tmp:
        _write_products(res, res.tasking, tmp, rep)
    return outfolder.absolute(out_dir)


def _write_products(res: RunResults, tasking: TaskingList, tmp: Path, rep: Reporter) -> None:
    """Every file of the pack, written into the (hidden, not yet published) folder ``tmp``.

    With a core to spare the briefing (its own file, read by nothing else) is laid out in a
    forked process while the other products are written here; the same bytes either way."""
    briefing = None
    if available_workers() > 1 and can_fork():
        briefing = Background(lambda _: write_briefing(res, tasking, tmp / BRIEFING_PDF), None)
    try:
        _write_others(res, tasking, tmp, rep, briefing)
    finally:
        if briefing is not None:
            briefing.cancel()


def _write_others(res: RunResults, tasking: TaskingList, tmp: Path, rep: Reporter, briefing: Background | None) -> None:
    with rep.stage("write tables"):
        write_csv(tasking.to_frame(), tmp / "tasking.csv")
        write_csv(res.ward_table, tmp / "ward_table.csv")
        res.ingest.write_quarantine(tmp / "quarantine.csv")
        if res.coverage is not None:
            res.coverage.write_tables(tmp / "cctv")
        if res.dosage is not None:  # unit pseudonyms and per-place patrol: never in public/
            res.dosage.write(tmp)
        if res.experiment is not None:  # the patrol schedule: experiment/, never in public/
            res.experiment.write(tmp)
    with rep.stage("GIS layers"):
        layers = L.vector_layers(res)
        L.write_gpkg(layers, tmp / "layers.gpkg", tasking, as_of=res.fim_date)
        L.write_rasters(res, tmp / "gis")
    with rep.stage("render maps"):
        ward_files = _write_maps(res, layers, tmp)
    pcfg = res.cfg.public
    public = None
    if pcfg.enabled:
        with rep.stage("public tier"):
            public = report.render_public(res, tmp, pcfg)
    with rep.stage("pages"):
        report.render_tasking(res, tasking, tmp, ward_files)
        render_concentration(res, tmp)
        render_dosage(res, tmp)
        render_experiment(res, tmp)
    with rep.stage("briefing"):
        if briefing is None:
            write_briefing(res, tasking, tmp / BRIEFING_PDF)
        else:
            briefing.result()
    with rep.stage("index page"):  # last: it lists every file of the pack, the briefing included
        report.render_index(res, tasking, layers, tmp, ward_files, pcfg.enabled)
    files = [p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file()] + ["manifest.json"]
    man = manifest(res, rep.timings, files, layers, public)
    (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str))


def known_out_dir(
    cfg: Config, fim_date: str | dt.date | None, out_dir: str | Path | None, now: pd.Timestamp | None = None
) -> Path | None:
    """The pack folder of a run, when it is known before the incidents are read: ``out_dir``, else
    ``[output] folder/fim-DATE`` for a given date (checked against ``now``, default now); None when
    the date comes from the data."""
    if out_dir:
        return Path(out_dir)
    if fim_date:
        return default_out_dir(cfg, parse_fim_date(fim_date, pd.DataFrame(), cfg.timezone, now=now))
    return None


def run(
    cfg: Config,
    fim_date: str | dt.date | None = None,
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
    # a folder that cannot be written (a file in the way, read-only, a full disk) stops the run
    # before any work; the lock below is then taken before the analysis when the folder is known,
    # so a second run on it stops at once instead of after minutes of work
    if out_dir:
        check_writable(out_dir, "--out")
    else:
        check_writable(Path(cfg.output.folder), "[output] folder")
    early = known_out_dir(cfg, fim_date, out_dir, now=now)
    with heap.settled_heap(), outfolder.locked(early) if early is not None else contextlib.nullcontext():
        res = analyse(
            cfg,
            fim_date,
            rep,
            now=now,
            stages=stages,
            previous=previous,
            pack_dir=out_dir if out_dir else DEFAULT_PACK_DIR,
        )
        return write_pack(res, res.inputs.pack_dir or default_out_dir(cfg, res.fim_date), rep)
