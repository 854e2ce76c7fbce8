"""A stage run in a forked process while the run goes on with the others.

A stage that reads only the inputs (the forecast: its backtest is most of a pack's work) can start
at the beginning of a run, in a child process forked from this one, and be collected when a later
stage needs it or at the end. The child runs the very function the stage would run here, on the
very same objects (inherited at the fork, not copied through a pipe), so its result is the same;
only the result comes back, pickled. The automatic choices it announces are replayed here, in the
stage's place, when it is collected; an error it raises is raised here, when it is collected.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable
from typing import Any

from .._numba_ready import load_numba
from ..announce import announce, reporting_to
from ..outfolder import enter_forked_child


def can_fork() -> bool:
    """Whether a child process can be forked here (a POSIX ``fork``, outside daemonic workers)."""
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


class Background:
    """``fn(arg)`` running in a forked child process; :meth:`result` waits for it."""

    def __init__(self, fn: Callable[[Any], Any], arg: Any):
        load_numba()  # numba's own modules: loaded here once, inherited by the child
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(fn, arg, send, os.getpid()), name="hotspots-background")
        self._proc.start()
        send.close()  # the child holds the only writing end: its death ends recv() with EOFError

    def result(self) -> Any:
        """The child's return value (its announcements replayed first), or its error raised here."""
        try:
            ok, payload, messages = self._recv.recv()
        except EOFError:
            self._proc.join()
            raise RuntimeError(
                f"the background process of this run ended without a result (exit code {self._proc.exitcode}); "
                "out of memory or killed?"
            ) from None
        finally:
            self._recv.close()
        self._proc.join()
        for m in messages:
            announce(m)
        if not ok:
            raise payload
        return payload

    def cancel(self) -> None:
        """Stop the child if it is still running (the run failed before collecting it)."""
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
        with contextlib.suppress(OSError):
            self._recv.close()


def _child(fn, arg, conn, parent_pid: int) -> None:
    enter_forked_child(parent_pid)  # dies with the run; holds none of its output folder's locks
    messages: list[str] = []
    try:
        with reporting_to(messages.append):
            out: tuple = (True, fn(arg), messages)
    except BaseException as exc:
        out = (False, _sendable(exc), messages)
    try:
        conn.send(out)
    except Exception as exc:
        conn.send((False, RuntimeError(f"the background result could not be sent back: {exc!r}"), messages))
    finally:
        conn.close()
        os._exit(0)  # no exit handlers of the parent's (temporary folders, locks) run in the child


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError carrying its traceback."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError("".join(traceback.format_exception(exc)))
