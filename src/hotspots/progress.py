"""Terminal progress for long stages (rich), silenced by ``--quiet``, and stage timings."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

from rich.console import Console


class Reporter:
    """Prints one line per stage with its duration and records timings (seconds)."""

    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.timings: dict[str, float] = {}
        self._console = None
        if not quiet:
            try:

                self._console = Console(file=self.stream, highlight=False)
            except ImportError:  # pragma: no cover - rich is a dependency
                self._console = None

    def say(self, msg: str) -> None:
        if self.quiet:
            return
        if self._console is not None:
            self._console.print(msg, markup=False)
        else:
            print(msg, file=self.stream)

    @contextmanager
    def stage(self, name: str):
        """Time a stage; show a spinner on a terminal while it runs."""
        t0 = time.perf_counter()
        status = None
        if self._console is not None and self._console.is_terminal:
            status = self._console.status(f"{name}...")
            status.start()
        try:
            yield
        finally:
            if status is not None:
                status.stop()
            dt = time.perf_counter() - t0
            self.timings[name] = round(self.timings.get(name, 0.0) + dt, 3)
        self.say(f"  {name:<28} {dt:6.1f} s")
