"""Send naturally separate work to a Dask cluster; without a scheduler everything runs here.

Units of work
    * one FIM pack per borough (:func:`run_packs`, ``hotspots run-boroughs``);
    * one whole run of one config (:func:`run_on_cluster`, ``hotspots run --scheduler``);
    * backtest (origin, method) pairs (:func:`distributed_backtest`);
    * KDE tiles of a very large area (:func:`hotspots.scale.tiles.tiled_density_surface`).

Every task is a pure function of its inputs and the config's seed, so the results
equal the serial run's. Packs are written whole by the pipeline (a hidden folder
swapped into place under the output folder's lock, :mod:`hotspots.outfolder`), so a
worker that dies mid-task leaves no half-written pack behind:
Dask re-runs the task on another worker (``retries`` extra attempts for tasks that
raise; a task whose worker dies is re-run up to the scheduler's
``distributed.scheduler.allowed-failures`` times), and if it still fails the run
stops with a :class:`~hotspots.errors.HotspotsError` naming the failed unit.

``[scale]`` config section::

    [scale]
    scheduler = "tcp://10.0.0.5:8786"   # a Dask scheduler address; "local" = a LocalCluster
                                        # on this machine; "" (default) = no Dask at all
    retries = 2                         # extra attempts for a task that raises
    tile_cells = 256                    # KDE tile side in cells

``--scheduler`` on the command line overrides ``scheduler``. Dask is imported only
when a scheduler is used.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .. import outfolder, pipeline
from ..config import Config, load_config
from ..config.sections import LOCAL_SCHEDULER as LOCAL
from ..errors import ConfigError, HotspotsError, InputError
from ..forecast import harness


def configured_scheduler(cfg: Config) -> str:
    """The ``[scale] scheduler`` of ``cfg`` ('' when not set)."""
    return cfg.scale.scheduler.strip()


# --------------------------------------------------------------------------- the client
#: Dask settings for the workers of ``--scheduler local`` (a worker builds one whole pack at a time, on
#: one core). Dask's defaults cost a pack about a quarter more CPU: ``MALLOC_TRIM_THRESHOLD_`` (set in
#: every worker to hand freed memory back to the system at once) turns off the C library's adaptive
#: memory thresholds, so every large numpy array is mapped, zeroed and unmapped again (about 14 times
#: the page faults of a plain process), and the statistical profiler samples the running pack every
#: 10 ms. Neither changes a result. docs/distributed.md gives the same settings for a cluster's workers.
LOCAL_WORKER_SETTINGS: dict[str, object] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,  # None: not set in the worker
    "distributed.worker.profile.enabled": False,
}


@contextmanager
def connect(scheduler):
    """A ``dask.distributed.Client`` for ``scheduler`` (an address, ``"local"``, or a Client), or None.

    A Client passed in is used as is and left open; one made here is closed on exit.
    """
    if not scheduler:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is an optional extra
        raise ConfigError(
            "a Dask scheduler was given but dask.distributed is not installed; pip install 'hotspots[dask]'."
        ) from None
    if isinstance(scheduler, Client):
        yield scheduler
        return
    scheduler = str(scheduler).strip()
    cluster = None
    try:
        if scheduler == LOCAL:
            import dask
            from distributed import LocalCluster

            with dask.config.set(LOCAL_WORKER_SETTINGS):  # read by the nannies as they start their workers
                cluster = LocalCluster(
                    n_workers=os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="20s")
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise ConfigError(
            f"could not reach the Dask scheduler at {scheduler!r} ({exc}). Start one with "
            "`dask scheduler` (and workers with `dask worker ADDRESS`), check the address and "
            "port, or drop --scheduler / [scale] scheduler to run on this machine."
        ) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def gather_all(client, futures, labels) -> list:
    """Wait for every future; return their results in order, or raise one error naming every failed unit.

    A task whose worker died too often (``KilledWorker``) or that raised after its retries
    is reported with its label. Nothing is returned unless every task succeeded.
    """
    from distributed import wait  # dask is the optional [dask] extra

    wait(futures)
    failed = []
    for fut, label in zip(futures, labels, strict=True):
        if fut.status != "finished":
            exc = fut.exception()
            failed.append((label, exc))
    if failed:
        first = failed[0][1]
        if isinstance(first, HotspotsError) and len(failed) == 1:
            raise first
        lines = "; ".join(f"{label}: {_describe(exc)}" for label, exc in failed)
        raise HotspotsError(
            f"{len(failed)} of {len(futures)} distributed task(s) failed - {lines}. "
            "Nothing was written for the failed units (packs are written atomically); fix the "
            "cause and run again."
        )
    return client.gather(futures)


def _describe(exc) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return (
            "its worker process died on every attempt (out of memory or killed?); give workers more "
            "memory or fewer threads"
        )
    return f"{name}: {exc}"


# --------------------------------------------------------------------------- packs
def _absolute_output(cfg):
    """``cfg`` with its data folder and [output] folder made absolute here, so a worker with another
    working folder (or environment) reads and writes the same places."""
    folder = Path(cfg.output.folder)
    if not folder.is_absolute():
        cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, folder=str(Path.cwd() / folder)))
    return dataclasses.replace(cfg, project=dataclasses.replace(cfg.project, data_dir=str(cfg.data_dir)))


def _run_pack(
    cfg: Config, fim_date: str | None, out_dir: str | None, now=None, previous: str | None = None, stages=None
) -> str:
    """Build one FIM pack in this process (the task a worker runs)."""
    out = pipeline.run(
        cfg,
        fim_date=fim_date,
        out_dir=out_dir,
        quiet=True,
        now=now,
        previous=previous,
        stages=tuple(stages) if stages is not None else None,
    )
    return str(out)


def run_pack(
    cfg: Config,
    fim_date: str | None = None,
    out_dir: str | Path | None = None,
    quiet: bool = False,
    now=None,
    previous: str | Path | None = None,
    scheduler: str | None = None,
    stages=None,
) -> Path:
    """Build one FIM pack here, or on the Dask cluster ``scheduler`` names.

    ``scheduler`` None takes ``[scale] scheduler`` from the config; ``""`` runs
    in this process (:func:`hotspots.pipeline.run`); an address or ``"local"``
    runs the whole pack as one task on the cluster (:func:`run_on_cluster`).
    """
    scheduler = configured_scheduler(cfg) if scheduler is None else scheduler.strip()
    if scheduler:
        return run_on_cluster(cfg, fim_date, out_dir, scheduler, quiet=quiet, now=now, previous=previous, stages=stages)
    return pipeline.run(cfg, fim_date=fim_date, out_dir=out_dir, quiet=quiet, now=now, previous=previous, stages=stages)


def run_on_cluster(
    cfg, fim_date=None, out_dir=None, scheduler=None, quiet: bool = False, now=None, previous=None, stages=None
) -> Path:
    """Run the whole pipeline for ``cfg`` as one task on the cluster; returns the pack folder.

    The inputs and the output folder must be reachable from the workers under the same
    paths (a shared file system); paths are made absolute here first.
    """
    cfg = _absolute_output(cfg)
    out = str(Path(out_dir).resolve()) if out_dir else None
    prev = str(Path(previous).resolve()) if previous else None
    retries = cfg.scale.retries
    with connect(scheduler) as client:
        if client is None:
            return Path(_run_pack(cfg, fim_date, out, now, prev, stages))
        if not quiet:
            print(f"sending the run to the Dask scheduler at {client.scheduler.address}", flush=True)
        fut = client.submit(
            _run_pack,
            cfg,
            fim_date,
            out,
            now,
            prev,
            stages,
            pure=False,
            retries=retries,
            key=f"hotspots-pack-{cfg.project.name}-{os.getpid()}-{id(cfg)}",
        )
        (path,) = gather_all(client, [fut], [f"FIM pack for {cfg.project.name}"])
    return Path(path)


def run_packs(
    config_paths, fim_date=None, out_root=None, scheduler=None, retries: int = 2, data_dir=None, now=None, progress=None
) -> list[Path]:
    """One FIM pack per config (e.g. per borough), in parallel on a cluster or one after another here.

    Parameters
    ----------
    config_paths : list of paths
        One TOML config per borough.
    fim_date : str, optional
        The FIM date (YYYY-MM-DD) for every pack; default each borough's own latest day.
    out_root : path, optional
        Each pack goes to ``out_root/<config file stem>``; default each config's [output] folder.
    scheduler : str or Client, optional
        Dask scheduler address, ``"local"``, or None/'' to run here, serially.
    retries : int
        Extra attempts for a pack whose task raises.
    progress : callable(str), optional

    Returns the pack folders in the order of ``config_paths``. Either every pack is
    written, or a :class:`HotspotsError` names the boroughs that failed (the others'
    packs are complete; a failed borough has no pack, never a partial one).
    """
    paths = [Path(p).resolve() for p in config_paths]
    if not paths:
        raise ConfigError("no config files given; name one config per borough, e.g. configs/LB*.toml.")
    cfgs = [_absolute_output(load_config(p, data_dir=data_dir)) for p in paths]
    outs = [str(Path(out_root).resolve() / p.stem) if out_root else None for p in paths]
    with connect(scheduler) as client:
        if client is None:
            done = []
            for p, cfg, out in zip(paths, cfgs, outs, strict=True):
                done.append(Path(_run_pack(cfg, fim_date, out, now)))
                if progress:
                    progress(f"{p.stem}: {done[-1]}")
            return done
        if progress:
            progress(f"{len(paths)} packs sent to the Dask scheduler at {client.scheduler.address}")
        futures = [
            client.submit(
                _run_pack,
                cfg,
                fim_date,
                out,
                now,
                pure=False,
                retries=retries,
                key=f"hotspots-pack-{p.stem}-{os.getpid()}-{i}",
                priority=incident_bytes(cfg),  # the largest boroughs first: no long pack left alone at the end
            )
            for i, (p, cfg, out) in enumerate(zip(paths, cfgs, outs, strict=True))
        ]
        try:
            done = [Path(r) for r in gather_all(client, futures, [f"borough {p.stem} ({p})" for p in paths])]
        finally:
            for out in outs:
                if out:
                    _remove_stale_partials(Path(out))
    if progress:
        for p, d in zip(paths, done, strict=True):
            progress(f"{p.stem}: {d}")
    return done


def incident_bytes(cfg: Config) -> int:
    """Size in bytes of the incident files ``cfg`` reads (a missing file counts 0): how long its pack takes,
    roughly, so the cluster can start the longest packs first."""
    files: set[Path] = set()
    for src in cfg.incidents:
        p = cfg.path(src.path)
        files |= {f for pat in pipeline.INCIDENT_PATTERNS for f in p.rglob(pat)} if p.is_dir() else {p}
    return sum(f.stat().st_size for f in files if f.is_file())


def _remove_stale_partials(out: Path) -> None:
    """Remove hidden pack folders that a dead worker left beside ``out`` (never a finished pack), unless
    another run holds the folder's lock (then its next run tidies up)."""
    outfolder.tidy(out)


# --------------------------------------------------------------------------- backtest
def _backtest_one(events, grid, name, method, origin, horizon, shares, context):
    res = harness.backtest(events, grid, {name: method}, [origin], horizon=horizon, shares=shares, context=context)
    return res.scores, res.curves, res.horizon


def distributed_backtest(
    events, grid, methods: dict, origins, horizon=None, shares=None, context=None, scheduler=None, retries: int = 2
):
    """:func:`hotspots.forecast.harness.backtest` with every (origin, method) pair as one task.

    Same arguments and the same :class:`BacktestResult` as the serial backtest (rows in
    origin order, methods in the given order); only ``fit_s`` (seconds) differs. Without
    a scheduler it is the serial backtest.
    """
    shares = harness.DEFAULT_SHARES if shares is None else tuple(float(s) for s in shares)
    with connect(scheduler) as client:
        if client is None:
            return harness.backtest(events, grid, methods, origins, horizon=horizon, shares=shares, context=context)
        if not origins:
            raise InputError("the backtest has no origins: choose --start/--end inside the data's date range.")
        ev = client.scatter(events, broadcast=True)
        gr = client.scatter(grid, broadcast=True)
        ctx = None if context is None else client.scatter(context, broadcast=True)
        pairs = [(pd.Timestamp(o), name) for o in origins for name in methods]
        futures = [
            client.submit(
                _backtest_one,
                ev,
                gr,
                name,
                methods[name],
                o,
                horizon,
                shares,
                ctx,
                pure=False,
                retries=retries,
                key=f"hotspots-backtest-{o:%Y%m%d}-{name}-{i}",
            )
            for i, (o, name) in enumerate(pairs)
        ]
        parts = gather_all(client, futures, [f"backtest {name} at origin {o:%Y-%m-%d}" for o, name in pairs])
    scores = pd.concat([p[0] for p in parts], ignore_index=True)
    curves = pd.concat([p[1] for p in parts], ignore_index=True)
    notes = []
    empty = scores.groupby("origin")["observed"].first()
    if (empty <= 0).any():
        notes.append(
            f"{int((empty <= 0).sum())} origin(s) had no incidents in the horizon; their hit rates are "
            "undefined and left out of the means."
        )
    return harness.BacktestResult(
        scores=scores,
        curves=curves,
        shares=shares,
        horizon=parts[0][2],
        methods=tuple(methods),
        n_cells=int(grid.mask.sum()),
        cell_size_m=float(grid.cell_size),
        notes=tuple(notes),
    )
