"""The stage registry: what each stage is called, which config sections it reads, what it needs, how it runs.

A :class:`Stage` names itself (its name is also its :class:`RunResults`
attribute), the config sections it reads, the stages whose results it reads
(they run before it) and a ``run(results) -> result`` function. :func:`run_stages`
runs a sequence of stages in order, storing each result in a new
:class:`RunResults`. A stage that refuses because of the data (an
:class:`~hotspots.errors.InputError` or
:class:`~hotspots.errors.PrecisionError`, e.g. month-precision dates for a
day-level analysis, or no camera inventory) is recorded in ``not_run`` with
the reason and the run goes on; any other error stops the run, so a fault is
never hidden in a pack.

Adding a stage: write ``stages/<name>.py`` with its ``run`` function and a
``STAGE = Stage(...)``, add a typed attribute ``<name>`` to
:class:`RunResults`, and list the stage in :data:`hotspots.stages.ANALYSIS_STAGES`
(or, for a stage above this layer such as the tasking list, in the pipeline's
list).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .._util import available_workers
from ..announce import reporting_to
from ..config import SECTIONS
from ..errors import InputError, PrecisionError
from ..progress import Reporter
from .background import Background, can_fork
from .results import _STAGE_FIELDS, RunResults

R = TypeVar("R")

#: Errors by which a stage says "the data do not allow this analysis" (recorded in ``not_run``).
REFUSALS = (InputError, PrecisionError)


@dataclass(frozen=True)
class Stage(Generic[R]):
    """One stage of a run.

    ``name`` is also the :class:`RunResults` attribute that holds the result;
    ``title`` the words on the progress line (and the manifest's timing key);
    ``sections`` the config sections it reads; ``depends_on`` the stages whose
    results it reads (they must come earlier); ``optional`` stages may be left
    out of a run (``stages=``) and may refuse on the data. A ``background`` stage
    may run in a forked process while the others run here (:mod:`.background`), when
    the machine has a core to spare: it starts as soon as the stages it depends on
    have run (at the start of the run when it depends on none); its result is the
    same either way.
    """

    name: str
    title: str
    sections: tuple[str, ...]
    depends_on: tuple[str, ...]
    run: Callable[[RunResults], R]
    optional: bool = True
    background: bool = False

    def __post_init__(self) -> None:
        if self.name not in _STAGE_FIELDS:
            raise ValueError(f"stage {self.name!r} has no RunResults attribute; add one (stages: {_STAGE_FIELDS}).")
        unknown = [s for s in self.sections if s not in SECTIONS]
        if unknown:
            raise ValueError(f"stage {self.name!r} reads unknown config section(s) {unknown}.")


def check_order(stages: Sequence[Stage]) -> None:
    """Every stage's dependencies come before it, and no name repeats (ValueError otherwise)."""
    seen: set[str] = set()
    for st in stages:
        if st.name in seen:
            raise ValueError(f"stage {st.name!r} is listed twice.")
        late = [d for d in st.depends_on if d not in seen]
        if late:
            raise ValueError(f"stage {st.name!r} depends on {late}, which must run before it.")
        seen.add(st.name)


def run_stages(
    res: RunResults,
    stages: Sequence[Stage],
    only: Sequence[str] | None = None,
    reporter: Reporter | None = None,
    background: bool | None = None,
) -> RunResults:
    """Run ``stages`` in order on ``res`` and return the results with each stage's attribute filled.

    ``only`` limits the optional stages run (None = all); the others are
    recorded as "not requested for this run". Stages whose result is already
    present are skipped. Automatic choices made inside are announced to
    ``reporter``. ``background`` (default: when this machine has more than one
    core for this process, :func:`hotspots._util.available_workers`) starts each
    ``background`` stage in a forked process as soon as the stages it depends on have
    run, and collects it when a later stage depends on it, or at the end; the results
    are the same either way.
    """
    check_order(stages)
    if background is None:
        background = available_workers() > 1
    run = _Run(res, stages, only, reporter or Reporter(quiet=True), background and can_fork())
    with reporting_to(run.rep.chose):
        try:
            run.start_ready()
            for st in stages:
                run.step(st)
            for name in list(run.pending):
                run.collect(name)
        finally:
            for _st, job in run.pending.values():
                job.cancel()
    order = {st.name: i for i, st in enumerate(stages)}
    res, not_run = run.res, run.not_run
    first = [k for k in res.not_run if k in not_run]
    later = sorted((k for k in not_run if k not in res.not_run), key=lambda k: order.get(k, len(order)))
    return dataclasses.replace(res, not_run={k: not_run[k] for k in first + later})


class _Run:
    """The state of :func:`run_stages`: the results so far, the background stages waiting for their
    dependencies (``waiting``) and those running (``pending``)."""

    def __init__(
        self, res: RunResults, stages: Sequence[Stage], only: Sequence[str] | None, rep: Reporter, background: bool
    ):
        self.res, self.only, self.rep = res, only, rep
        self.not_run = dict(res.not_run)
        wanted = [st for st in stages if not res.ran(st.name) and self.requested(st)]
        self.waiting = [st for st in wanted if st.background] if background else []
        self.pending: dict[str, tuple[Stage, Background]] = {}
        self.done: set[str] = set()  # stages run, refused or skipped here, or collected from the background

    def requested(self, st: Stage) -> bool:
        return self.only is None or not st.optional or st.name in self.only

    def collect(self, name: str) -> None:
        st, job = self.pending.pop(name)
        self.res = _run_one(st, self.res, self.rep, self.not_run, job.result)
        self.done.add(name)

    def start(self, st: Stage) -> None:
        """Fork ``st`` now (its dependencies have all run or been collected)."""
        self.pending[st.name] = (st, Background(st.run, self.res))  # forked now: it sees every result so far
        self.waiting.remove(st)

    def start_ready(self) -> None:
        """Start every waiting background stage whose dependencies have all run."""
        for st in list(self.waiting):
            if all(dep in self.done for dep in st.depends_on):
                self.start(st)

    def step(self, st: Stage) -> None:
        """``st`` at its place in the order: run here, started or kept running in the background, or skipped."""
        for dep in st.depends_on:
            if dep in self.pending:
                self.collect(dep)
        if st in self.waiting:  # its dependencies were collected just now
            self.start(st)
        if st.name in self.pending:
            self.rep.timings.setdefault(st.title, 0.0)  # its step keeps its place in the run's list
            return
        if not self.res.ran(st.name):
            if not self.requested(st):
                self.not_run[st.name] = "not requested for this run"
            else:
                self.res = _run_one(st, self.res, self.rep, self.not_run, functools.partial(st.run, self.res))
        self.done.add(st.name)
        self.start_ready()


def _run_one(st: Stage, res: RunResults, rep: Reporter, not_run: dict, compute: Callable[[], Any]) -> RunResults:
    """``res`` with ``st``'s result from ``compute()``, or with the reason it refused in ``not_run``."""
    try:
        with rep.stage(st.title):
            result = compute()
    except REFUSALS as exc:
        if not st.optional:
            raise
        not_run[st.name] = str(exc)
        rep.say(f"  {st.name} not run: {exc}")
        return res
    return dataclasses.replace(res, **{st.name: result})
