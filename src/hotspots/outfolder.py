"""Output folders written whole: one writer at a time, and a swap that survives a kill at any instant.

A FIM pack (or the ``hotspots cctv`` report) is a folder people open while the
next one is being made, on a laptop, a server or a Windows file share. Writing
it follows three rules:

**One writer at a time.** A run takes a lock on the output folder before it
reads anything (``.NAME.lock`` beside the folder ``NAME``; an operating-system
lock, ``flock`` on Linux and macOS, ``msvcrt.locking`` on Windows, released
when the process ends however it ends, so a killed run never leaves a stale
lock). A second run on the same folder does not wait: it stops at once with
exit status 2 and a message naming the process, machine and start time of the
run that holds it (:class:`OutputFolderBusy`). The holder removes the lock file
when it is done (on Windows it stays, holding only who last wrote); a run that
locked a file removed in between notices and locks the new one.

**Everything is written to a hidden folder first** (``.NAME.partial-TOKEN``),
flushed to disk (``fsync``), and only then swapped into place. A failed run
removes its hidden folder; a killed one leaves it, and the next run on the same
folder removes it when it takes the lock (:func:`recover`).

**The swap is recoverable at any instant.**

* On Linux (local file systems) the finished folder and the hidden one are
  exchanged in one atomic step (``renameat2`` with ``RENAME_EXCHANGE``): at
  every instant ``NAME`` is either the whole previous pack or the whole new
  one. The previous pack, now in the hidden folder, is then deleted.
* Elsewhere (Windows, macOS, a network share that refuses the exchange) the
  swap is two renames with a journal: ``.NAME.swap.json`` (written atomically)
  names both folders, then ``NAME`` -> ``.NAME.old-TOKEN``, then the new
  folder -> ``NAME``, then the journal is removed. A kill between the two
  renames leaves no ``NAME`` for that moment, but the journal says where the
  complete new pack is; the next run (or :func:`recover`) finishes the swap
  before anything else. Plain directory renames are atomic on NTFS and SMB
  shares, so this works on a Windows file share too.

**Only folders it wrote are replaced.** Every folder written here holds a marker file
(:data:`MARKER`); an existing folder is replaced only when it is empty, holds the marker, or is a
pack of an earlier version (it has ``manifest.json``). Any other folder (``--out .``, a documents
folder) stops the run before anything is read, with the folder and some of its files named
(:func:`check_replaceable`), so a mistyped ``--out`` never deletes a user's files.

Either way a failed or killed run leaves the previous pack complete (or, once
the swap has happened, the new one), never a mixture; the kill-at-every-step
test drives a writer through every step in :data:`STEPS` and kills it there.

The layout beside an output folder ``NAME``::

    NAME                    the finished folder
    .NAME.lock              the lock, while a run writes (who is writing)
    .NAME.partial-TOKEN     a folder being written (or left by a killed run)
    .NAME.old-TOKEN         a previous folder on its way out
    .NAME.swap.json         a two-rename swap in progress
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from .errors import HotspotsError

#: How the new folder replaces the old: ``auto`` = the atomic exchange where the system offers it,
#: else the two renames with a journal; ``journal`` forces the second (tests, or a share that
#: misreports the exchange).
Strategy = Literal["auto", "exchange", "journal"]

#: Steps every write goes through, in order (the kill-at-every-step test stops a writer at each).
COMMON_STEPS = ("locked", "recovered", "staging", "synced")
#: Step when there was no previous folder: one rename.
FIRST_STEPS = ("renamed",)
#: Steps of the atomic exchange.
EXCHANGE_STEPS = ("exchanged", "old_removed")
#: Steps of the two renames with a journal.
JOURNAL_STEPS = ("journal_written", "old_moved", "new_moved", "journal_removed", "old_removed")
#: Every step name.
STEPS = COMMON_STEPS + FIRST_STEPS + EXCHANGE_STEPS + JOURNAL_STEPS

StepHook = Callable[[str], None]

#: File in every folder written here: the next run may replace the folder whole.
MARKER = ".hotspots-output"
MARKER_TEXT = "Written by hotspots. The next run with this folder as its output replaces the whole folder.\n"


class OutputFolderError(HotspotsError):
    """The output folder cannot be used (its parent is a file, it is not writable, the disk is full...)."""


class OutputFolderBusy(OutputFolderError):
    """Another run is writing the same output folder."""


# --------------------------------------------------------------------------- names
def check_replaceable(out_dir: str | Path) -> None:
    """Refuse (:class:`OutputFolderError`) an existing output folder that a run would wrongly replace: one
    that is not empty and holds neither :data:`MARKER` nor ``manifest.json`` (see the module rules)."""
    out = Path(out_dir)
    if not out.is_dir() or (out / MARKER).exists() or (out / "manifest.json").exists():
        return
    own = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    if own:
        shown = ", ".join(own[:3]) + (f" and {len(own) - 3} more" if len(own) > 3 else "")
        raise OutputFolderError(
            f"the output folder {out} already holds files that hotspots did not write ({shown}); a run replaces "
            "its output folder whole, so it would delete them. Give a new or empty folder with --out (or "
            "[output] folder), or one that hotspots wrote before. Nothing was changed."
        )


def _paths(out: Path) -> tuple[Path, str]:
    return out.parent, out.name


def lock_path(out: str | Path) -> Path:
    """The lock file beside the output folder ``out``."""
    parent, name = _paths(Path(out))
    return parent / f".{name}.lock"


def journal_path(out: str | Path) -> Path:
    """The journal of a two-rename swap of ``out``."""
    parent, name = _paths(Path(out))
    return parent / f".{name}.swap.json"


def leftovers(out: str | Path) -> list[Path]:
    """Hidden folders and files a killed writer of ``out`` may have left (not the lock file)."""
    parent, name = _paths(Path(out))
    if not parent.is_dir():
        return []
    pats = (f".{name}.partial-*", f".{name}.old-*", f".{name}.swap.json", f".{name}.swap.json.tmp")
    return sorted({p for pat in pats for p in parent.glob(pat)})


def absolute(out: str | Path) -> Path:
    """``out`` as an absolute path (its parent resolved), the form every function here uses."""
    p = Path(out).expanduser()
    p = p if p.is_absolute() else Path.cwd() / p
    return p.parent.resolve() / p.name


# --------------------------------------------------------------------------- the lock
@dataclass
class _Held:
    handle: IO[str]
    depth: int


_held: dict[tuple[str, int], _Held] = {}
_held_guard = threading.Lock()


def _try_lock(fh: IO[str]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        fh.seek(1 << 20)  # lock a byte past the text, so the holder's details stay readable
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fh: IO[str]) -> None:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        fh.seek(1 << 20)
        with contextlib.suppress(OSError):
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _busy_message(out: Path, fh: IO[str]) -> str:
    try:
        fh.seek(0)
        who = json.loads(fh.read(4096) or "{}")
    except (OSError, ValueError):
        who = {}
    holder = (
        f" (process {who.get('pid', '?')} on {who.get('host', '?')}, started {who.get('since', '?')})" if who else ""
    )
    return (
        f"{out} is being written by another hotspots run{holder}. Wait for that run to finish, "
        "or write this one to another folder with --out."
    )


def _cannot_write(folder: Path, exc: OSError) -> OutputFolderError:
    if isinstance(exc, (NotADirectoryError, FileExistsError)):
        why = "a file is in the way (a part of the path is a file, not a folder)"
    elif isinstance(exc, PermissionError):
        why = "permission denied"
    else:
        why = exc.strerror or str(exc)
    return OutputFolderError(
        f"cannot write the output folder in {folder}: {why}. Choose a folder you can write to with --out."
    )


def _open_lock(out: Path) -> IO[str]:
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"the output folder {out} is a file; give a folder name with --out.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return open(lock_path(out), "a+", encoding="utf-8")  # held until the lock is released
    except OSError as exc:
        raise _cannot_write(out.parent, exc) from None


@contextlib.contextmanager
def locked(out_dir: str | Path, on_step: StepHook | None = None) -> Iterator[Path]:
    """Hold the lock of the output folder ``out_dir`` (absolute path yielded) for the ``with`` block.

    Taking the lock first finishes or undoes an interrupted swap and removes what a killed
    writer left (:func:`recover`). Re-entrant in the same thread (the pipeline locks before the
    analysis and the writer locks again); another process or thread gets
    :class:`OutputFolderBusy` at once.
    """
    out = absolute(out_dir)
    key = (str(out), threading.get_ident())
    with _held_guard:
        held = _held.get(key)
        if held is not None:
            held.depth += 1
    if held is not None:
        try:
            yield out
        finally:
            held.depth -= 1
        return
    fh = _acquire(out)
    try:
        try:
            fh.seek(0)
            fh.truncate()
            since = time.strftime("%Y-%m-%d %H:%M:%S %z")
            fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": since}))
            fh.flush()
        except OSError as exc:
            _unlock(fh)
            raise _cannot_write(out.parent, exc) from None
        _step(on_step, "locked")
        with _held_guard:
            _held[key] = _Held(fh, 1)
        try:
            _recover_locked(out)
            _step(on_step, "recovered")
            check_replaceable(out)
            yield out
        finally:
            with _held_guard:
                _held.pop(key, None)
            if sys.platform != "win32":
                lock_path(out).unlink(missing_ok=True)  # removed while still held; see _acquire
            _unlock(fh)
    finally:
        fh.close()


def _acquire(out: Path) -> IO[str]:
    """Open and lock ``.NAME.lock``. The holder removes the file when it finishes, so a lock taken
    on a file that is no longer at that path (removed in between) is dropped and taken again."""
    for _ in range(20):
        fh = _open_lock(out)
        if not _try_lock(fh):
            msg = _busy_message(out, fh)
            fh.close()
            raise OutputFolderBusy(msg)
        if _is_current(fh, lock_path(out)):
            return fh
        _unlock(fh)
        fh.close()
    raise OutputFolderBusy(f"{out} is being written and released by other runs over and over; try again.")


def _is_current(fh: IO[str], path: Path) -> bool:
    if sys.platform == "win32":  # pragma: no cover - the file is never removed there
        return True
    try:
        a, b = os.fstat(fh.fileno()), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _step(hook: StepHook | None, name: str) -> None:
    if hook is not None:
        hook(name)


# --------------------------------------------------------------------------- recovery
def recover(out_dir: str | Path) -> Path:
    """Finish or undo an interrupted swap of ``out_dir`` and remove what killed writers left.

    Takes the lock (so it never touches a folder a live run is writing); returns the folder.
    Every run does this when it takes the lock; call it directly to tidy up without a run.
    """
    with locked(out_dir) as out:
        return out


def tidy(out_dir: str | Path) -> bool:
    """:func:`recover` unless another run holds the lock (then nothing is touched); True when tidied."""
    try:
        recover(out_dir)
    except OutputFolderBusy:
        return False
    return True


def _recover_locked(out: Path) -> None:
    parent = out.parent
    journal = journal_path(out)
    if journal.exists():
        if not out.exists():
            new, old = _journal_folders(out)
            if new is not None and new.is_dir():
                os.replace(new, out)  # the new folder was complete before the journal was written
            elif old is not None and old.is_dir():
                os.replace(old, out)
        journal.unlink()
    for p in leftovers(out):
        _remove(p)
    _fsync_dir(parent)


def _remove(p: Path) -> None:
    """Remove a leftover folder, file or link (what cannot be removed now stays for the next run)."""
    if p.is_symlink() or not p.is_dir():
        with contextlib.suppress(OSError):
            p.unlink()
    else:
        shutil.rmtree(p, ignore_errors=True)


def _journal_folders(out: Path) -> tuple[Path | None, Path | None]:
    """The (new, old) folders the journal of ``out`` names. The journal is written atomically, so it is
    whole; should it be unreadable all the same, the only hidden folders left are this swap's own
    (every other leftover was removed when the lock was taken), and those are used."""
    parent, name = _paths(out)
    try:
        plan = json.loads(journal_path(out).read_text(encoding="utf-8"))
        return parent / str(plan["new"]), parent / str(plan["old"])
    except (OSError, ValueError, KeyError, TypeError):
        new = sorted(parent.glob(f".{name}.partial-*"))
        old = sorted(parent.glob(f".{name}.old-*"))
        return (new[0] if len(new) == 1 else None), (old[0] if len(old) == 1 else None)


# --------------------------------------------------------------------------- writing
@contextlib.contextmanager
def writing(out_dir: str | Path, on_step: StepHook | None = None, strategy: Strategy = "auto") -> Iterator[Path]:
    """Write a folder whole: yields a hidden folder beside ``out_dir`` to write into; when the
    ``with`` block ends normally its contents replace ``out_dir`` (see the module rules).

    An exception in the block removes the hidden folder and leaves ``out_dir`` as it was.
    ``on_step(name)`` is called at each step of :data:`STEPS` (for tests).
    """
    with locked(out_dir, on_step) as out:
        staging = out.parent / f".{out.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
        except OSError as exc:
            raise _cannot_write(out.parent, exc) from None
        _step(on_step, "staging")
        try:
            (staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
            yield staging
            _sync_tree(staging)
            _step(on_step, "synced")
            _publish(staging, out, on_step, strategy)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _publish(staging: Path, out: Path, on_step: StepHook | None, strategy: Strategy) -> None:
    parent = out.parent
    if not os.path.lexists(out):
        os.replace(staging, out)
        _fsync_dir(parent)
        _step(on_step, "renamed")
        return
    if strategy != "journal" and exchange(staging, out):
        _fsync_dir(parent)
        _step(on_step, "exchanged")
        _remove(staging)  # now the previous folder (what cannot be removed now, the next run removes)
        _step(on_step, "old_removed")
        return
    if strategy == "exchange":
        raise OutputFolderError(f"this system cannot exchange two folders in one step in {parent}.")
    old = parent / f".{out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    journal = journal_path(out)
    tmp = journal.with_name(journal.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"new": staging.name, "old": old.name}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, journal)
    _fsync_dir(parent)
    _step(on_step, "journal_written")
    try:
        os.replace(out, old)
    except OSError as exc:
        journal.unlink(missing_ok=True)
        raise OutputFolderError(
            f"cannot replace {out}: {exc.strerror or exc}. A file in it may be open in another program "
            "(a spreadsheet, for example); close it and run again. The folder is as it was."
        ) from None
    _step(on_step, "old_moved")
    try:
        os.replace(staging, out)
    except BaseException:
        if not out.exists() and old.exists():
            os.replace(old, out)
        journal.unlink(missing_ok=True)
        raise
    _fsync_dir(parent)
    _step(on_step, "new_moved")
    journal.unlink()
    _fsync_dir(parent)
    _step(on_step, "journal_removed")
    _remove(old)
    _step(on_step, "old_removed")


# --------------------------------------------------------------------------- system calls
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: str | Path, b: str | Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False, changing nothing, where the system or the file system does not offer it.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - Windows has no directory fsync
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to disk before it is swapped into place."""
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(dirpath))


#: ``prctl`` option: the signal a process gets when the thread that forked it ends (Linux).
_PR_SET_PDEATHSIG = 1


def enter_forked_child(parent_pid: int) -> None:
    """Call first in a process forked from a run (a stage run beside the others, a forecast worker).

    A run that is killed must leave nothing behind that holds or writes its output folder: the child
    is killed when its parent ends (Linux ``PR_SET_PDEATHSIG``; it ends at once if the parent
    ``parent_pid`` is already gone), and its inherited copies of the output folders' locks are
    pointed at ``/dev/null`` without unlocking (an ``flock`` belongs to the open file, which the
    parent still holds), so only the parent's copy keeps the folder locked.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (AttributeError, OSError):
            pass
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent ended before the child could ask to follow it
    nowhere = os.open(os.devnull, os.O_RDWR)
    try:
        for held in list(_held.values()):
            with contextlib.suppress(OSError, ValueError):
                os.dup2(nowhere, held.handle.fileno())
    finally:
        os.close(nowhere)


__all__ = [
    "COMMON_STEPS",
    "EXCHANGE_STEPS",
    "FIRST_STEPS",
    "JOURNAL_STEPS",
    "STEPS",
    "OutputFolderBusy",
    "OutputFolderError",
    "absolute",
    "enter_forked_child",
    "exchange",
    "journal_path",
    "leftovers",
    "lock_path",
    "locked",
    "recover",
    "tidy",
    "writing",
]
