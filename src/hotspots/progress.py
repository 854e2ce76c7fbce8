"""Terminal progress for long stages (rich), silenced by ``--quiet``, and stage timings."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console


class Reporter:
    """Prints one line per stage with its duration and records timings (seconds)."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.timings: dict[str, float] = {}
        self._console = None if quiet else Console(file=self.stream, highlight=False)

    def chose(self, msg: str) -> None:
        """An automatic choice of the engine (see :mod:`hotspots.announce`), as one indented line."""
        self.say(f"  chose: {msg}")

    def say(self, msg: str) -> None:
        if self.quiet:
            return
        if self._console is not None:
            self._console.print(msg, markup=False)
        else:
            print(msg, file=self.stream)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
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
