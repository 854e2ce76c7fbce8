"""Small helpers shared by several modules."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

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
