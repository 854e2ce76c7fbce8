"""Work done side by side (forecast fits in worker processes, the forecast stage in a background process)
gives exactly what the one-after-another path gives: the same surfaces, scores, announcements, refusals
and, for the demo, the same pack bytes."""

from __future__ import annotations

import importlib
import io
import os

import numpy as np
import pytest
from test_forecast_store import ORIGINS, _events, _methods, _same

from hotspots.announce import announce
from hotspots.errors import InputError
from hotspots.forecast.harness import Horizon, backtest
from hotspots.forecast.store import PersistentCache
from hotspots.progress import Reporter
from hotspots.stages import RunResults, Stage, run_stages

harness = importlib.import_module("hotspots.forecast.harness")
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="side-by-side work needs fork (POSIX)")


@pytest.fixture
def in_workers(monkeypatch):
    """Records how many origins each call fitted in worker processes."""
    sizes: list[int] = []
    real = harness._fit_in_workers

    def recording(*args, **kwargs):
        out = real(*args, **kwargs)
        sizes.append(len(out))
        return out

    monkeypatch.setattr(harness, "_fit_in_workers", recording)
    return sizes


@needs_fork
def test_backtest_fitted_in_workers_equals_the_serial_backtest(tmp_path, in_workers):
    ev, grid = _events()
    serial = backtest(ev, grid, _methods(), ORIGINS, Horizon(14), keep_surfaces=True, workers=1)
    assert in_workers == [0]
    side = backtest(ev, grid, _methods(), ORIGINS, Horizon(14), keep_surfaces=True, workers=2)
    assert in_workers[-1] == len(ORIGINS)  # every origin was fitted in a worker, none here
    _same(serial, side)  # scores, curves and every surface, bit for bit
    assert (side.scores["fit_s"] > 0).all()  # the workers' own fitting seconds


@needs_fork
def test_the_backtest_loads_numba_before_it_forks_its_workers(monkeypatch, in_workers):
    """Its workers inherit numba's loaded modules (what that saves a child:
    test_a_background_stage_starts_with_numba_loaded)."""
    events: list[str] = []
    monkeypatch.setattr(harness, "load_numba", lambda: events.append("load numba"))
    real = harness.multiprocessing.get_context
    monkeypatch.setattr(harness.multiprocessing, "get_context", lambda *a: (events.append("fork"), real(*a))[1])
    ev, grid = _events()
    backtest(ev, grid, _methods(), ORIGINS, Horizon(14), workers=2)
    assert in_workers == [len(ORIGINS)] and events[:2] == ["load numba", "fork"]


@needs_fork
def test_fits_made_in_workers_are_kept_for_the_next_run(tmp_path, in_workers, fits):
    ev, grid = _events()
    first = backtest(ev, grid, _methods(), ORIGINS, Horizon(14), cache=PersistentCache(tmp_path), workers=2)
    assert in_workers == [len(ORIGINS)]
    fits["n"] = 0
    warm = PersistentCache(tmp_path)
    again = backtest(ev, grid, _methods(), ORIGINS, Horizon(14), cache=warm, workers=2)
    assert in_workers[-1] == 0 and fits["n"] == 0  # nothing left to fit: no worker was started
    assert warm.hits == 3 * len(ORIGINS)
    cols = [c for c in first.scores.columns if c != "fit_s"]
    assert first.scores[cols].equals(again.scores[cols])
    # one incident moved: the affected surfaces are fitted again (in workers), the scores follow the data
    moved = type(ev)(ev.x.copy(), ev.y, ev.t, ev.t_end, ev.precision)
    moved.x[np.argmax(ev.t < ev.t.min() + 30)] += 500.0
    backtest(moved, grid, _methods(), ORIGINS, Horizon(14), cache=PersistentCache(tmp_path), workers=2)
    assert in_workers[-1] == len(ORIGINS)


def _stage(run, background=True):
    return Stage(
        name="forecast", title="forecast", sections=("forecast",), depends_on=(), run=run, background=background
    )


def _made_elsewhere(_res):
    announce("the method was chosen for a reason")
    return ("made in", os.getpid())


def _refuses(_res):
    announce("looked at the data first")
    raise InputError("too little history for this")


def _fails(_res):
    raise ZeroDivisionError("a fault, not a refusal")


@needs_fork
def test_a_background_stage_returns_its_result_and_replays_its_announcements():
    out = io.StringIO()
    rep = Reporter(stream=out)
    res = run_stages(RunResults(inputs=None), [_stage(_made_elsewhere)], reporter=rep, background=True)
    assert res.forecast[0] == "made in" and res.forecast[1] != os.getpid()  # it ran in another process
    assert "chose: the method was chosen for a reason" in out.getvalue()
    assert list(rep.timings) == ["forecast"]
    here = run_stages(RunResults(inputs=None), [_stage(_made_elsewhere)], background=False)
    assert here.forecast[1] == os.getpid()


NUMBA_IN_A_CHILD = r"""
import multiprocessing, sys
import numpy as np
from hotspots.analysis import _kernels
from hotspots.stages.background import Background

def numba_modules_loaded_by_a_kernel(_):
    before = {m for m in sys.modules if m.startswith("numba.")}
    _kernels.window_sums(np.zeros(3), np.array([0, 1, 2, 3]), np.array([0, 1, 2]))
    return len({m for m in sys.modules if m.startswith("numba.")} - before)

if sys.argv[1] == "plain fork":
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        print(pool.map(numba_modules_loaded_by_a_kernel, [None])[0])
else:
    print(Background(numba_modules_loaded_by_a_kernel, None).result())
"""


@needs_fork
def test_a_background_stage_starts_with_numba_loaded():
    """numba loads about 70 modules of its own at a process's first kernel; a background stage is forked
    after its parent loaded them, so its first kernel loads none (a plain fork, the control, loads them)."""
    import subprocess
    import sys

    def run(how: str) -> int:
        out = subprocess.run([sys.executable, "-c", NUMBA_IN_A_CHILD, how], capture_output=True, text=True, check=True)
        return int(out.stdout.strip().splitlines()[-1])

    assert run("background") == 0
    assert run("plain fork") > 20


@needs_fork
def test_a_background_stage_refuses_and_fails_as_it_would_here():
    both = [
        run_stages(RunResults(inputs=None), [_stage(_refuses)], reporter=Reporter(quiet=True), background=b)
        for b in (True, False)
    ]
    assert [r.not_run for r in both] == [{"forecast": "too little history for this"}] * 2
    assert all(r.forecast is None for r in both)
    for b in (True, False):
        with pytest.raises(ZeroDivisionError, match="a fault, not a refusal"):
            run_stages(RunResults(inputs=None), [_stage(_fails)], background=b)


#: Set by a foreground stage listed after the background one: a child forked before it ran sees it unset.
_LATER_STAGE_RAN = {"yes": False}


def _surfaces_here(_res):
    return ("surfaces", os.getpid())


def _coverage_here(_res):
    _LATER_STAGE_RAN["yes"] = True
    return ("coverage", os.getpid())


def _concentration_from(res):
    return (res.surfaces, _LATER_STAGE_RAN["yes"], os.getpid())


def _with_dependency(background):
    return [
        Stage(name="surfaces", title="surfaces", sections=(), depends_on=(), run=_surfaces_here),
        Stage(name="coverage", title="coverage", sections=(), depends_on=(), run=_coverage_here),
        Stage(
            name="concentration",
            title="concentration",
            sections=(),
            depends_on=("surfaces",),
            run=_concentration_from,
            background=background,
        ),
        Stage(
            name="tasking", title="tasking", sections=(), depends_on=("concentration",), run=lambda r: r.concentration
        ),
    ]


@needs_fork
def test_a_background_stage_with_a_dependency_starts_once_it_has_run_and_reads_its_result(monkeypatch):
    """Started when the surfaces are made, before the coverage listed ahead of it; collected for the tasking list."""
    monkeypatch.setitem(_LATER_STAGE_RAN, "yes", False)
    rep = Reporter(quiet=True)
    res = run_stages(RunResults(inputs=None), _with_dependency(True), reporter=rep, background=True)
    surfaces, coverage_had_run, pid = res.concentration
    assert surfaces == ("surfaces", os.getpid())  # the dependency's result, made here, read in the child
    assert pid != os.getpid() and not coverage_had_run  # forked before the coverage ran
    assert res.coverage == ("coverage", os.getpid()) and res.tasking == res.concentration
    assert list(rep.timings) == ["surfaces", "coverage", "concentration", "tasking"]  # the listed order
    monkeypatch.setitem(_LATER_STAGE_RAN, "yes", False)
    here = run_stages(RunResults(inputs=None), _with_dependency(True), background=False)
    assert here.concentration[1:] == (True, os.getpid())  # one after another: after the coverage, in this process


@needs_fork
def test_a_background_stage_whose_dependency_is_not_requested_still_runs():
    only = run_stages(
        RunResults(inputs=None), _with_dependency(True), only=["concentration", "tasking"], background=True
    )
    assert only.surfaces is None and only.not_run["surfaces"] == "not requested for this run"
    assert only.concentration[0] is None and only.concentration[2] != os.getpid()


@needs_fork
@pytest.mark.slow
def test_the_demo_pack_is_the_same_built_side_by_side_or_one_step_after_another(tmp_path, monkeypatch):
    """Every file of the demo pack, byte for byte (packdiff too: tables, rasters, layers), with the learned
    model among the candidates so that the backtest's fits run in worker processes (a smaller learned model:
    fewer boosting rounds and training origins, so the same fits in the same processes cost less)."""
    from conftest import DEMO_DATE, fast_config
    from packdiff import compare_packs
    from test_rerun_identical import differences

    from hotspots import pipeline

    registry = importlib.import_module("hotspots.stages.registry")
    stage = importlib.import_module("hotspots.stages.forecast")
    methods = importlib.import_module("hotspots.forecast.methods")
    learned = methods.learned_model
    small = {"max_iter": 20, "n_train_origins": 3}
    monkeypatch.setattr(methods, "learned_model", lambda *a, **k: learned(*a, **{**small, **k}))
    cfg = fast_config().override("forecast", candidates=["naive_12m", "longrun_counts", "learned"])
    packs = {}
    for label, cores in (("one after another", 1), ("side by side", 2)):
        monkeypatch.setattr(registry, "available_workers", lambda cores=cores: cores)
        monkeypatch.setattr(stage, "available_workers", lambda cores=cores: cores)
        packs[label] = tmp_path / label / f"fim-{DEMO_DATE}"
        pipeline.run(cfg, fim_date=DEMO_DATE, out_dir=packs[label], quiet=True)
    slow, fast = packs.values()
    assert differences(slow, fast) == []
    assert compare_packs(slow, fast) == []
    assert (fast / "gis" / "forecast_expected.tif").exists()


def test_hotspots_workers_caps_the_processes_and_a_bad_value_is_named(monkeypatch):
    from hotspots._util import available_workers
    from hotspots.errors import ConfigError

    monkeypatch.delenv("HOTSPOTS_WORKERS", raising=False)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert available_workers() == cores
    monkeypatch.setenv("HOTSPOTS_WORKERS", "1")
    assert available_workers() == 1
    monkeypatch.setenv("HOTSPOTS_WORKERS", "64")
    assert available_workers() == cores  # never more than the cores this process may use
    monkeypatch.setenv("HOTSPOTS_WORKERS", "two")
    with pytest.raises(ConfigError, match="HOTSPOTS_WORKERS='two'"):
        available_workers()


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in fh)
    except FileNotFoundError:
        return False


@needs_fork
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
@pytest.mark.parametrize("kind", ["background stage", "forecast workers"])
def test_a_killed_run_leaves_no_child_running_or_holding_its_folder(tmp_path, kind):
    """A run killed while its side-by-side processes work: they end with it, and the output folder's
    lock is free at once for the next run (a child must never keep the folder locked)."""
    import signal
    import subprocess
    import sys
    import time

    from hotspots import outfolder

    out = tmp_path / "pack"
    start = {
        "background stage": "b = Background(time.sleep, 120)\n    print(b._proc.pid, flush=True)\n",
        "forecast workers": (
            "import multiprocessing\n"
            "    pool = multiprocessing.get_context('fork').Pool(\n"
            "        1, initializer=enter_forked_child, initargs=(os.getpid(),))\n"
            "    r = pool.apply_async(time.sleep, (120,))\n"
            "    print(pool._pool[0].pid, flush=True)\n"
        ),
    }[kind]
    code = (
        "import os, time\n"
        "from hotspots import outfolder\n"
        "from hotspots.outfolder import enter_forked_child\n"
        "from hotspots.stages.background import Background\n"
        f"with outfolder.locked({str(out)!r}):\n"
        f"    {start}"
        "    time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    assert _running(child)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _running(child):
        time.sleep(0.05)
    assert not _running(child), "the child outlived the killed run"
    with outfolder.locked(out):  # free: raises OutputFolderBusy if a child still held it
        pass
