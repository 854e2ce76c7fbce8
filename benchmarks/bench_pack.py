"""The whole FIM pack, as an analyst runs it: this tree against the released 0.1.0, as whole processes.

0.1.0 (commit 19df790 on main) is taken from the git history (``git archive``) into a folder of
the system's temporary directory and installed there in its own virtual environment (pip's cache
makes this quick; the folder is reused by later runs). Each version builds its own demo pack
(``config/demo.toml``, FIM dates 2025-10-31 and 2025-11-14, its own bundled demo data) and the Barnet pack
(``config/barnet.toml --date 2018-06-15``, the shared open data) with ``hotspots run``, in a fresh
process, the two versions alternating, ``--repeats`` times; the rows give medians.

Rows per pack:

* **numba cache warm**: every kernel already compiled on disk (one untimed run first), a fresh
  output folder (so our forecast cache is empty too: a first meeting; demo 2025-10-31);
* **numba cache empty** (demo): ``NUMBA_CACHE_DIR`` an empty folder, every kernel compiled, as on
  the first run after an edit (``make env`` warms the cache at install so a newcomer never pays this);
* **next meeting** (demo): the pack for the meeting a fortnight later (2025-11-14) in the same output
  folder, so ours finds the forecast fits of the first pack in ``.hotspots-cache`` beside the packs;
  against 0.1.0 and against our own first meeting;
* **first ``make demo`` after ``make env``** (demo): what a newcomer waits for. ``make env`` ends with
  a warm-up pack (2025-11-14, untimed here) that fills the numba cache and, for ours, the forecast
  fits in ``out/.hotspots-cache``; ``make demo`` then builds the 2025-11-14 pack into ``out/demo``.

Ours uses every core of the machine (``HOTSPOTS_WORKERS`` unset): the forecast runs beside the other
stages and its backtest's fits are spread over the cores.

Wall seconds, CPU seconds (user + system of the process and its children) and the peak resident
memory of the process tree (``wait4``'s ``ru_maxrss``, the largest process) are reported; the
load average is stated with each row because the machine may be shared.

    python benchmarks/bench_pack.py                  # demo and Barnet, 3 repeats
    python benchmarks/bench_pack.py --repeats 1 --only demo
    HOTSPOTS_BENCH_REPEATS=2 python benchmarks/run_all.py --only pack
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from _results import save_rows  # noqa: E402

RELEASE = "19df790"  # hotspots 0.1.0 on main
RELEASE_DIR = Path(tempfile.gettempdir()) / "hotspots-bench-0.1.0"
PACKS = {
    # demo: the first meeting is 2025-10-31 and the next 2025-11-14 (the demo data end on 2025-11-13)
    "demo": {"config": "config/demo.toml", "date": "2025-10-31", "next": "2025-11-14"},
    "barnet": {"config": "config/barnet.toml", "date": "2018-06-15", "next": ""},
}


def release_env() -> Path:
    """The 0.1.0 source tree with its own venv (built once, reused while it works); returns the tree."""
    tree = RELEASE_DIR / "hotspots-0.1.0"
    py = tree / ".venv" / "bin" / "python"
    if py.exists() and subprocess.run([str(py), "-c", "import hotspots"], capture_output=True).returncode == 0:
        return tree
    shutil.rmtree(RELEASE_DIR, ignore_errors=True)
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", RELEASE], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    shared = (REPO.parent / "shared").resolve()
    if shared.exists():  # config/barnet.toml finds the open data at ../../shared/data
        (RELEASE_DIR / "shared").symlink_to(shared)
    subprocess.run([sys.executable, "-m", "venv", str(tree / ".venv")], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(tree)], check=True)
    return tree


def run_pack(tree: Path, config: str, date: str, out: Path, numba_dir: Path | None) -> dict:
    """One ``hotspots run`` in a fresh process; wall and CPU seconds, peak RSS (MB), load average."""
    exe = tree / ".venv" / "bin" / "hotspots"
    env = dict(os.environ)
    if numba_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_dir)
    cmd = [str(exe), "run", "--config", config, "--date", date, "--out", str(out), "--quiet"]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed in {tree}:\n{err[-2000:]}")
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024, "load": load}


def _median(runs: list[dict], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def _row(name: str, ours: list[dict], peer: list[dict], peer_name: str, notes: str) -> dict:
    o, p = _median(ours, "wall_s"), _median(peer, "wall_s")
    loads = [r["load"] for r in ours + peer]
    return {
        "benchmark": name,
        "ours_s": round(o, 2),
        "peer": peer_name,
        "peer_s": round(p, 2),
        "ratio": round(p / o, 2),
        "equal": None,
        "ours_cpu_s": round(_median(ours, "cpu_s"), 2),
        "peer_cpu_s": round(_median(peer, "cpu_s"), 2),
        "ours_peak_rss_mb": round(max(r["rss_mb"] for r in ours)),
        "peer_peak_rss_mb": round(max(r["rss_mb"] for r in peer)),
        "runs": len(ours),
        "load_average": [round(min(loads), 1), round(max(loads), 1)],
        "notes": (
            f"median of {len(ours)} alternating runs each; CPU {_median(ours, 'cpu_s'):.1f} s vs "
            f"{_median(peer, 'cpu_s'):.1f} s; peak RSS {max(r['rss_mb'] for r in ours):.0f} MB vs "
            f"{max(r['rss_mb'] for r in peer):.0f} MB; load average {min(loads):.1f}-{max(loads):.1f}. " + notes
        ),
    }


def bench(pack: str, repeats: int, work: Path, release: Path) -> list[dict]:
    spec = PACKS[pack]
    cfg, date = spec["config"], spec["date"]
    trees = {"ours": REPO, "0.1.0": release}
    warm_numba = {k: work / f"numba-{k}" for k in trees}
    for k, tree in trees.items():  # untimed: fill each version's numba cache
        run_pack(tree, cfg, date, work / f"prime-{k}" / f"fim-{date}", warm_numba[k])
    runs: dict[str, list[dict]] = {k: [] for k in ("warm", "cold", "next", "install")}
    peer: dict[str, list[dict]] = {k: [] for k in ("warm", "cold", "next", "install")}
    for i in range(repeats):
        for k, tree in trees.items():
            dest = runs if k == "ours" else peer
            out = work / f"{pack}-{k}-{i}"
            dest["warm"].append(run_pack(tree, cfg, date, out / f"fim-{date}", warm_numba[k]))
            if spec["next"]:
                dest["next"].append(run_pack(tree, cfg, spec["next"], out / f"fim-{spec['next']}", warm_numba[k]))
            if pack == "demo":
                empty = Path(tempfile.mkdtemp(prefix="numba-", dir=work))
                dest["cold"].append(run_pack(tree, cfg, date, work / f"{pack}-{k}-cold-{i}" / f"fim-{date}", empty))
                out = work / f"{pack}-{k}-install-{i}"  # `make env`'s warm-up pack, then `make demo`
                run_pack(tree, cfg, spec["next"], out / ".warm-up-pack", warm_numba[k])
                dest["install"].append(run_pack(tree, cfg, spec["next"], out / "demo", warm_numba[k]))
    label = f"{pack} pack (`{cfg}`, {date})"
    rows = [
        _row(
            f"{label}, numba cache warm, first meeting",
            runs["warm"],
            peer["warm"],
            "hotspots 0.1.0",
            "Whole `hotspots run` processes; a fresh output folder (our forecast cache empty).",
        )
    ]
    if runs["cold"]:
        rows.append(
            _row(
                f"{label}, numba cache empty",
                runs["cold"],
                peer["cold"],
                "hotspots 0.1.0",
                "Every numba kernel compiled (NUMBA_CACHE_DIR empty); `make env` fills the cache at install.",
            )
        )
    if runs["install"]:
        rows.append(
            _row(
                f"{pack} pack, first `make demo` ({spec['next']}) after `make env`",
                runs["install"],
                peer["install"],
                "hotspots 0.1.0",
                "`make env` ends with an untimed warm-up pack of the same date: the numba cache warm for both, "
                "and ours finds the warm-up's forecast fits in out/.hotspots-cache. Goal: at most 12 s.",
            )
        )
    if runs["next"]:
        rows.append(
            _row(
                f"{pack} pack, next meeting ({spec['next']}) after {date} in the same output folder",
                runs["next"],
                peer["next"],
                "hotspots 0.1.0",
                "Ours reuses the forecast fits of the previous meeting's pack (.hotspots-cache beside the packs).",
            )
        )
        rows.append(
            _row(
                f"{pack} pack, next meeting against our own first meeting",
                runs["next"],
                runs["warm"],
                "ours, first meeting",
                "Goal: the second of two consecutive meetings costs at most half the first (ratio >= 2).",
            )
        )
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=int(os.environ.get("HOTSPOTS_BENCH_REPEATS", "3")))
    ap.add_argument("--only", help="demo or barnet")
    a = ap.parse_args(argv)
    release = release_env()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as tmp:
        for pack in [a.only] if a.only else list(PACKS):
            if pack == "barnet" and not (REPO.parent / "shared" / "data").exists():
                print("barnet: the shared open data is missing beside the repository; skipped")
                continue
            rows += bench(pack, a.repeats, Path(tmp), release)
    save_rows("pack", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
