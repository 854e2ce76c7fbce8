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
