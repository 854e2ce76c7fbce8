"""Check, before any analysis, that an output folder can be written.

A run that reads and analyses for minutes and then finds it cannot write its
products wastes the time and, at worst, leaves half a pack. Every command that
writes calls :func:`check_writable` on its output folder first; the writing
itself (atomic, into a temporary folder beside the destination) is the pack
writer's business.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from .errors import OutputError

#: Free space (bytes) the output disk must have: a FIM pack with its maps is tens of megabytes.
MIN_FREE_BYTES = 200 * 1024 * 1024

#: Size of the probe file written and removed again (bytes).
PROBE_BYTES = 64 * 1024


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and not p.is_symlink():
        if p.parent == p:
            break
        p = p.parent
    return p


def _probe(folder: Path) -> None:
    """Write, flush to disk and remove a small file in ``folder`` (raises OSError when that fails)."""
    fd, name = tempfile.mkstemp(prefix=".hotspots-write-check-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"\0" * PROBE_BYTES)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        Path(name).unlink(missing_ok=True)


def check_writable(out_dir: str | Path, what: str = "--out", min_free_bytes: int = MIN_FREE_BYTES) -> Path:
    """The absolute output folder ``out_dir``, once it is known that it can be written.

    Nothing is created: the check writes (and removes) a small file in the
    nearest folder that exists on the way to ``out_dir``, where the products'
    temporary folder will go. Raises :class:`~hotspots.errors.OutputError`
    naming ``what`` (the option or key that gave the folder) and the fix when a
    part of the path is a file, the folder is read-only, or its disk has less
    than ``min_free_bytes`` free.
    """
    target = Path(os.path.expanduser(str(out_dir))).absolute()
    if target.exists() and not target.is_dir():
        raise OutputError(f"{what} {target} is a file, not a folder; choose another output folder or move the file.")
    base = _nearest_existing(target)
    if not base.is_dir():
        raise OutputError(
            f"{what} {target}: {base} is a file, so no folder can be made below it; choose another output "
            "folder or move the file."
        )
    try:
        _probe(base)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise OutputError(
                f"{what} {target}: the disk holding {base} is full; free some space or choose a folder on another disk."
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise OutputError(
                f"{what} {target}: cannot write in {base} ({exc.strerror}); choose a folder you can write to, "
                "or ask for write permission."
            ) from None
        raise OutputError(
            f"{what} {target}: cannot write in {base} ({exc.strerror}); choose another output folder."
        ) from None
    free = shutil.disk_usage(base).free
    if free < min_free_bytes:
        raise OutputError(
            f"{what} {target}: only {free / 2**20:,.0f} MB free on the disk holding {base}; the products need "
            f"about {min_free_bytes / 2**20:,.0f} MB. Free some space or choose a folder on another disk."
        )
    return target
