"""Forecast surfaces kept on disk between meetings, keyed on the data, the method and the code.

A pack for the next fortnight backtests the same past origins as the last one: only the
newest origin is new. :class:`PersistentCache` is the in-memory cache of a backtest
(:mod:`.harness`) that also keeps every fitted surface in a folder, so the next run loads
what it has already computed instead of refitting it.

Never stale: an entry's key is the one :func:`.harness.forecast_surface` uses in memory,
the method's class and parameters and :meth:`.harness.History.data_key` (every incident
known at the origin, the cut-off, the grid and the cell context; :mod:`.cache_key`), and
the folder is named after the code (:func:`code_fingerprint`: every source file of the
package and the versions of the numerical libraries), so a change of data, setting or
code finds no entry and is computed afresh. A surface loaded from the folder is the very
array that was saved (``.npy``, float64), so a pack is byte-identical with a warm or a
cold cache. Entries are written atomically (a killed run leaves no half file); the
folder is trimmed to :data:`MAX_BYTES`, least recently used first. Deleting the folder
is always safe: the next run computes everything again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np

from .cache_key import digest
from .trees import FittedModels

#: Largest size of a cache folder (bytes) before the least recently used surfaces are removed.
MAX_BYTES = 512 * 1024 * 1024
#: Libraries whose versions are part of the code fingerprint.
LIBRARIES = ("numpy", "scipy", "scikit-learn", "numba", "pandas", "shapely")


@cache
def code_fingerprint() -> str:
    """A key of the code that computes surfaces: every ``.py`` file of the hotspots package (path and
    bytes), the versions of :data:`LIBRARIES`, Python's version and the machine type."""
    h = hashlib.blake2b(digest_size=16)
    package = Path(__file__).resolve().parents[1]
    for p in sorted(package.rglob("*.py")):
        h.update(p.relative_to(package).as_posix().encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    for lib in LIBRARIES:
        try:
            v = metadata.version(lib)
        except metadata.PackageNotFoundError:
            v = "-"
        h.update(f"{lib}={v};".encode())
    h.update(f"{platform.python_version()};{platform.machine()}".encode())
    return h.hexdigest()


def _persistent(key) -> bool:
    return isinstance(key, tuple) and len(key) == 3 and key[0] in ("surface", "model")


class PersistentCache(dict):
    """A backtest's cache (a dict, as :mod:`.harness` expects) whose forecast surfaces are also kept
    in ``folder``/``forecast-<code fingerprint>``, for the next run to reuse.

    Surfaces (``.npy``) and the learned model's fits (``"model"`` keys, :class:`~.trees.FittedModels`,
    ``.npz`` of numeric arrays, never pickles: :func:`.harness.fitted_model`) go to disk; features
    are cheap to recompute. ``hits`` and ``writes`` count the entries loaded from and saved to the
    folder by this object."""

    def __init__(self, folder: str | Path):
        super().__init__()
        self.root = Path(folder)
        self.folder = self.root / f"forecast-{code_fingerprint()[:20]}"
        self.hits = 0
        self.writes = 0

    def _path(self, key) -> Path:
        return self.folder / f"{digest(key)}.{'npz' if key[0] == 'model' else 'npy'}"

    def get(self, key, default=None):
        value = super().get(key)
        if value is None and _persistent(key):
            value = self._load_model(self._path(key)) if key[0] == "model" else self._load(self._path(key))
            if value is not None:
                self.hits += 1
                super().__setitem__(key, value)
        return default if value is None else value

    def has(self, key) -> bool:
        """Whether ``key`` is held in memory or (a surface) in the folder, without loading it."""
        return super().__contains__(key) or (_persistent(key) and self._path(key).is_file())

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        if _persistent(key):
            if key[0] == "model":
                self._save_model(self._path(key), value)
            else:
                self._save(self._path(key), value)

    @staticmethod
    def _load(path: Path) -> np.ndarray | None:
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None  # absent, or unreadable: computed again (and rewritten)
        if arr.dtype != np.float64 or arr.ndim != 2:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept longest when the folder is trimmed
        arr.setflags(write=False)
        return arr

    @staticmethod
    def _load_model(path: Path) -> FittedModels | None:
        try:
            with np.load(path, allow_pickle=False) as z:
                value = FittedModels.from_arrays(z)
        except (OSError, ValueError, EOFError, KeyError, TypeError):
            return None  # absent, or unreadable: fitted again (and rewritten)
        with contextlib.suppress(OSError):
            os.utime(path)
        return value

    def _save_model(self, path: Path, value) -> None:
        if not isinstance(value, FittedModels):
            return
        self._write(path, lambda f: np.savez(f, allow_pickle=False, **value.to_arrays()))

    def _write(self, path: Path, write) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".part-", suffix=path.suffix)
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, path)
            self.writes += 1
        except OSError:
            return  # a full or read-only disk only costs the reuse next time

    def _save(self, path: Path, value) -> None:
        arr = np.asarray(value)
        if arr.dtype != np.float64 or arr.ndim != 2:
            return
        self._write(path, lambda f: np.save(f, arr, allow_pickle=False))

    def prune(self, max_bytes: int = MAX_BYTES) -> int:
        """Remove the least recently used surfaces and fits (every code version's) until the folder holds at
        most ``max_bytes``; returns the number of files removed."""
        files = []
        for p in [*self.root.glob("forecast-*/*.npy"), *self.root.glob("forecast-*/*.npz")]:
            try:
                st = p.stat()
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, p))
        total = sum(size for _m, size, _p in files)
        removed = 0
        for _mtime, size, p in sorted(files):
            if total <= max_bytes:
                break
            try:
                p.unlink()
            except OSError:
                continue
            total -= size
            removed += 1
        return removed
