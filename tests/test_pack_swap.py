"""Writing a pack survives a kill at any instant, and only one run writes an output folder at a time.

A writer runs in a child process and is killed (SIGKILL, no clean-up possible) at every step of
:data:`hotspots.outfolder.STEPS`, in both swap strategies and with or without a previous pack.
Afterwards the output folder holds the whole previous pack or the whole new one (the two-rename
swap may leave, for the instant between its renames, no folder but a journal naming the complete
new one), and the next run finishes or undoes the swap and removes every hidden leftover.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hotspots import outfolder
from hotspots.errors import HotspotsError

REPO = Path(__file__).resolve().parents[1]
FILES = [f"f{i}.txt" for i in range(6)] + ["sub/g.txt", "sub/deeper/h.txt"]

WRITER = r"""
import json, os, signal, sys, time
from pathlib import Path
from hotspots import outfolder

out, label, kill_at, strategy = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
files = json.loads(sys.argv[5])


def hook(step):
    if step == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    if kill_at == "hold" and step == "staging":
        Path(str(out) + ".ready").write_text("ready")
        time.sleep(60)


with outfolder.writing(out, on_step=hook, strategy=strategy) as tmp:
    for i, name in enumerate(files):
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(label)
        if i == len(files) // 2:
            hook("half_written")
    (tmp / "manifest.json").write_text(json.dumps({"label": label, "files": files}))
    hook("written")
"""


def write_pack(out: Path, label: str, strategy: str = "auto") -> None:
    with outfolder.writing(out, strategy=strategy) as tmp:  # type: ignore[arg-type]
        for name in FILES:
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(label)
        (tmp / "manifest.json").write_text(json.dumps({"label": label, "files": FILES}))


def complete(out: Path) -> str | None:
    """The label of the pack at ``out`` when it is whole (manifest and every file it lists, all of
    one label), else None."""
    try:
        man = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    labels = {(out / f).read_text() if (out / f).is_file() else None for f in man["files"]}
    if labels != {man["label"]}:
        return None
    written = {*man["files"], "manifest.json", outfolder.MARKER}
    extra = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - written
    return None if extra else man["label"]


def run_writer(out: Path, label: str, kill_at: str, strategy: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WRITER, str(out), label, kill_at, strategy, json.dumps(FILES)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def exchange_works(folder: Path) -> bool:
    a, b = folder / "xa", folder / "xb"
    a.mkdir()
    b.mkdir()
    try:
        return outfolder.exchange(a, b)
    finally:
        a.rmdir()
        b.rmdir()


BEFORE_SWAP = ("locked", "recovered", "staging", "half_written", "written", "synced")
#: step killed at -> the pack the folder must hold afterwards ("new" or "old")
CASES = [("exchange", s, "old") for s in BEFORE_SWAP]
CASES += [("exchange", s, "new") for s in outfolder.EXCHANGE_STEPS]
CASES += [("journal", s, "old") for s in (*BEFORE_SWAP, "journal_written")]
CASES += [("journal", s, "new") for s in ("old_moved", "new_moved", "journal_removed", "old_removed")]


def test_cases_cover_every_step():
    assert {s for _, s, _ in CASES} >= set(outfolder.COMMON_STEPS + outfolder.EXCHANGE_STEPS + outfolder.JOURNAL_STEPS)


@pytest.mark.parametrize(("strategy", "step", "expect"), CASES)
def test_kill_at_every_step_leaves_old_or_new_pack(tmp_path, strategy, step, expect):
    if strategy == "exchange" and not exchange_works(tmp_path):
        pytest.skip("this file system cannot exchange two folders in one step")
    out = tmp_path / "fim-2025-11-14"
    write_pack(out, "old")
    assert complete(out) == "old"
    r = run_writer(out, "new", step, strategy)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    now = complete(out)
    if strategy == "journal" and step == "old_moved":
        # the one instant of the two-rename swap without a folder: the journal names the complete new pack
        assert not out.exists() and outfolder.journal_path(out).exists()
        plan = json.loads(outfolder.journal_path(out).read_text())
        assert complete(tmp_path / plan["new"]) == "new" and complete(tmp_path / plan["old"]) == "old"
    else:
        assert now == expect, (step, now)
    if step in ("staging", "half_written", "written", "synced"):
        assert outfolder.leftovers(out)  # the killed writer's hidden folder is still there...
    # the next run (here: taking the lock) finishes or undoes the swap and removes every leftover
    outfolder.recover(out)
    assert complete(out) == expect
    assert outfolder.leftovers(out) == []
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(("xa", "xb"))) == [out.name]
    write_pack(out, "next", strategy)
    assert complete(out) == "next" and sorted(p.name for p in tmp_path.iterdir()) == [out.name]


@pytest.mark.parametrize("step", [*BEFORE_SWAP, "renamed"])
def test_kill_of_a_first_pack_leaves_nothing_or_the_whole_pack(tmp_path, step):
    out = tmp_path / "fim-2025-11-14"
    r = run_writer(out, "new", step, "auto")
    assert r.returncode == -signal.SIGKILL, r.stderr
    if step == "renamed":
        assert complete(out) == "new"
    else:
        assert not out.exists()  # never a half-written folder under the pack's name
    outfolder.recover(out)
    assert outfolder.leftovers(out) == [] and sorted(p.name for p in tmp_path.iterdir()) == (
        [out.name] if step == "renamed" else []
    )


def test_a_failed_write_leaves_the_previous_pack_and_no_leftovers(tmp_path):
    out = tmp_path / "pack"
    write_pack(out, "old")
    with pytest.raises(RuntimeError, match="disk on fire"), outfolder.writing(out) as tmp:
        (tmp / "half.txt").write_text("x")
        raise RuntimeError("disk on fire")
    assert complete(out) == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


# --------------------------------------------------------------------------- one writer at a time
@pytest.fixture
def holder(tmp_path):
    """A child process holding the lock of ``tmp_path/pack`` while it writes (stopped at the end)."""
    out = tmp_path / "pack"
    write_pack(out, "old")
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(out), "new", "hold", "auto", json.dumps(FILES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    ready = Path(str(out) + ".ready")
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ready.unlink()
    yield out, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_second_writer_stops_at_once_naming_the_first(holder):
    out, proc = holder
    with pytest.raises(outfolder.OutputFolderBusy) as err:
        write_pack(out, "second")
    msg = str(err.value)
    assert f"process {proc.pid}" in msg and "--out" in msg and str(out) in msg
    assert isinstance(err.value, HotspotsError) and err.value.exit_code == 2
    assert complete(out) == "old"


def test_lock_dies_with_its_holder_and_the_next_run_tidies(holder):
    out, proc = holder
    assert [p.name for p in outfolder.leftovers(out)]  # the holder's hidden folder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    write_pack(out, "after")
    assert complete(out) == "after" and outfolder.leftovers(out) == []
    assert not outfolder.lock_path(out).exists()


def test_run_command_on_a_busy_folder_exits_2_before_the_analysis(holder, demo_config_path):
    out, _proc = holder
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotspots.cli",
            "run",
            "--config",
            str(demo_config_path),
            "--date",
            "2025-11-14",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2, r.stderr
    assert "being written by another hotspots run" in r.stderr + r.stdout
    assert "Traceback" not in r.stderr
    assert "ingest" not in r.stderr  # stopped before reading any data (no stage ran)
    assert complete(out) == "old"


def test_a_folder_of_other_files_is_never_replaced(tmp_path, demo_config_path):
    """`--out` naming a folder of the user's own files (a mistyped `--out .`) stops before any work and deletes
    nothing; an empty folder, one written before and a pack of an earlier version (manifest.json) are replaced."""
    docs = tmp_path / "documents"
    docs.mkdir()
    (docs / "keep.txt").write_text("precious")
    with pytest.raises(outfolder.OutputFolderError, match=r"keep\.txt.*Nothing was changed"):
        write_pack(docs, "new")
    assert sorted(p.name for p in docs.iterdir()) == ["keep.txt"]
    command = ["run", "--config", str(demo_config_path), "--date", "2025-11-14", "--out", str(docs)]
    r = subprocess.run(
        [sys.executable, "-m", "hotspots.cli", *command],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2 and "did not write (keep.txt)" in r.stderr + r.stdout and "Traceback" not in r.stderr
    assert "ingest" not in r.stderr and (docs / "keep.txt").read_text() == "precious"
    for name, content in (("empty", None), ("old_pack", "manifest.json")):
        folder = tmp_path / name
        folder.mkdir()
        if content:
            (folder / content).write_text("{}")
        write_pack(folder, "new")
        assert complete(folder) == "new" and (folder / outfolder.MARKER).exists()
    write_pack(tmp_path / "empty", "newer")  # written before: its marker lets the next run replace it
    assert complete(tmp_path / "empty") == "newer"


def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(outfolder.OutputFolderError, match="a file is in the way"):
        write_pack(blocker / "pack", "x")
    with pytest.raises(outfolder.OutputFolderError, match="is a file"):
        write_pack(blocker, "x")


def test_same_thread_may_lock_twice_other_thread_may_not(tmp_path):
    import threading

    out = tmp_path / "pack"
    errors: list[BaseException] = []
    with outfolder.locked(out), outfolder.locked(out):

        def other():
            try:
                with outfolder.locked(out):
                    pass
            except BaseException as e:
                errors.append(e)

        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert len(errors) == 1 and isinstance(errors[0], outfolder.OutputFolderBusy)


# --------------------------------------------------------------------------- the real pipeline, killed
@pytest.mark.slow
def test_real_run_killed_while_rendering_leaves_previous_pack(tmp_path, demo_config_path):
    """`hotspots run` killed while it writes (files already in its hidden folder): the previous pack is
    untouched, and the next run on the folder removes the hidden folder."""
    out = tmp_path / "fim-2025-11-14"
    write_pack(out, "old")
    code = (
        f"import sys; sys.path.insert(0, {str(REPO / 'tests')!r})\n"
        "from conftest import fast_config\n"
        "from hotspots import pipeline\n"
        f"pipeline.run(fast_config(), fim_date='2025-11-14', out_dir={str(out)!r}, quiet=True, stages=())\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    killed = False
    while time.monotonic() < deadline and proc.poll() is None:
        parts = [p for p in outfolder.leftovers(out) if p.is_dir()]
        if parts and sum(1 for f in parts[0].rglob("*") if f.is_file()) >= 3:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.02)
    proc.wait()
    assert killed, "the run finished before it could be killed while writing"
    assert complete(out) == "old"
    assert outfolder.leftovers(out)  # the killed run's hidden folder
    outfolder.recover(out)
    assert outfolder.leftovers(out) == [] and complete(out) == "old"


def test_previous_pack_that_cannot_be_moved_is_a_clear_error_and_stays(tmp_path, monkeypatch):
    """On Windows a folder holding a file open in a spreadsheet cannot be renamed: the run says so, the
    previous pack stays, nothing is left behind."""
    out = tmp_path / "pack"
    write_pack(out, "old")
    real = os.replace

    def refuse(src, dst):
        if Path(src) == out:
            raise PermissionError(13, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(outfolder.os, "replace", refuse)
    with pytest.raises(outfolder.OutputFolderError, match="open in another program"):
        write_pack(out, "new", "journal")
    monkeypatch.undo()
    assert complete(out) == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_leftover_links_are_removed_too(tmp_path):
    out = tmp_path / "pack"
    write_pack(out, "old")
    (tmp_path / ".pack.partial-1-dead").symlink_to(out, target_is_directory=True)
    outfolder.recover(out)
    assert complete(out) == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["pack"]
