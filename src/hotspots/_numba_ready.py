"""numba's implementations loaded once in a process, before it forks workers.

The first kernel a process runs makes numba import about 70 modules of its own (half a second, even
with every kernel's machine code cached on disk). A child forked after that inherits them; one forked
before pays again. :func:`load_numba` loads them, so every place that forks (the background stages,
the backtest's workers) calls it first and its children start ready.
"""

from __future__ import annotations

import functools

from numba import njit


@njit(cache=True)
def _plus_one(x):
    """A trivial kernel (``x + 1.0``): running one kernel makes numba load its implementations."""
    return x + 1.0


@functools.cache
def load_numba() -> None:
    """Load numba's implementations in this process (once; a no-op afterwards and in its children)."""
    _plus_one(1.0)
