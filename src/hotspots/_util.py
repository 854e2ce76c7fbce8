"""Small helpers shared by several modules."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

SHARED_DATA_ENV = "HOTSPOTS_SHARED_DATA"


def shared_data_dir() -> Path:
    """Folder of the shared open data (``../shared/data`` beside the repo).

    The environment variable ``HOTSPOTS_SHARED_DATA`` overrides it.
    """
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data"


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def kernel_array(values, dtype) -> np.ndarray:
    """``values`` as the one array type a numba kernel is compiled for.

    A numba kernel compiles a new machine-code version for every combination of dtype,
    memory order and writeability it is called with (pandas hands out read-only views;
    numpy slices may be Fortran-ordered or strided). Converting every input at the
    Python boundary with this function - ``dtype`` (``np.float64``, ``np.int64``, ...),
    C order, aligned, writeable - keeps each kernel at one compiled signature. Copies
    only when ``values`` is not already such an array.
    """
    return np.require(values, dtype=dtype, requirements=("C", "A", "W"))


#: Environment variable capping the processes a pack forks (1 = everything in one process).
WORKERS_ENV = "HOTSPOTS_WORKERS"


def available_workers() -> int:
    """Processes a computation may fork on this machine: the cores this process may run on (at most
    ``$HOTSPOTS_WORKERS`` when set, e.g. 1 on a machine shared with other work), or 1 inside a
    daemonic worker process (a ``multiprocessing`` pool's or a Dask worker's, whose cores are
    already shared out by the scheduler, and which may not start children of its own)."""
    import multiprocessing

    if multiprocessing.current_process().daemon or _in_dask_worker():
        return 1
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - platforms without sched_getaffinity
        cores = max(1, os.cpu_count() or 1)
    cap = os.environ.get(WORKERS_ENV, "").strip()
    if not cap:
        return cores
    try:
        return max(1, min(cores, int(cap)))
    except ValueError:
        from .errors import ConfigError

        raise ConfigError(
            f"{WORKERS_ENV}={cap!r} is not a number of processes; set it to a whole number such as 1 or 2, "
            "or unset it to use every core."
        ) from None


def _in_dask_worker() -> bool:
    import sys

    if "distributed" not in sys.modules:
        return False
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True
