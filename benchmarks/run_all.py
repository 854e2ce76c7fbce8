"""Run every ``benchmarks/bench_*.py`` and rewrite the results table in ``benchmarks/README.md``.

Each benchmark runs in its own fresh Python process (so no benchmark inherits another's
warm caches or memory) and writes its rows to ``benchmarks/results/<name>.json``; this
script reads those files back, so a benchmark that crashed or wrote nothing is reported
as failed rather than silently showing old figures. The table between
``<!-- results:start -->`` and ``<!-- results:end -->`` is replaced with this run's
rows, the machine facts (cores, CPU, memory, Python, library versions, load average)
and the date.

    python benchmarks/run_all.py                 # everything (what `make bench` does)
    python benchmarks/run_all.py --only kde,knox # some benchmarks
    python benchmarks/run_all.py --no-run        # rebuild the table from the existing JSON

Exit status 1 when any benchmark failed (non-zero exit, e.g. a failed equality
assertion, or no fresh JSON).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
TIMEOUT_S = float(os.environ.get("HOTSPOTS_BENCH_TIMEOUT", "5400"))
LIBRARIES = (
    "numpy",
    "numba",
    "scipy",
    "pandas",
    "geopandas",
    "shapely",
    "pyogrio",
    "scikit-learn",
    "KDEpy",
    "esda",
    "libpysal",
    "pointpats",
    "spopt",
    "pulp",
    "rasterio",
    "dask",
    "distributed",
    "pyarrow",
)


def discover(only=None) -> list[Path]:
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        want = {s.strip() for s in only.split(",") if s.strip()}
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in want]
    return scripts


def run_one(script: Path) -> dict:
    """Run one benchmark in a fresh process; return its rows (from its JSON) and how it went."""
    name = script.stem.removeprefix("bench_")
    out = RESULTS / f"{name}.json"
    started = time.time()
    print(f"== {script.name}", flush=True)
    try:
        r = subprocess.run([sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT_S)
        rc, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired as exc:
        rc, err = -1, f"timed out after {TIMEOUT_S:.0f} s\n{exc.stderr or ''}"
    wall = time.time() - started
    status, rows = "ok", []
    fresh = [f for f in _json_files(name) if f.stat().st_mtime >= started - 1]
    if rc != 0:
        status = f"failed (exit {rc})"
    elif not fresh:
        status = f"failed (did not write {out.relative_to(REPO)})"
    else:
        try:
            rows = _read_rows(fresh)
        except (json.JSONDecodeError, TypeError) as exc:
            status = f"failed (bad JSON: {exc})"
    if status != "ok":
        print(
            f"   {status}\n" + "\n".join("   | " + line for line in (err or "").strip().splitlines()[-15:]), flush=True
        )
    else:
        print(f"   {len(rows)} row(s) in {wall:.0f} s", flush=True)
    return {"name": name, "script": script.name, "status": status, "wall_s": wall, "rows": rows}


def _json_files(name: str) -> list[Path]:
    """``results/<name>.json``, or (for a benchmark that writes one file per data set) ``results/<name>_*.json``."""
    main = RESULTS / f"{name}.json"
    return [main] if main.exists() else sorted(RESULTS.glob(f"{name}_*.json"))


def _read_rows(files) -> list[dict]:
    rows = []
    for f in files:
        data = json.loads(f.read_text())
        data = data if isinstance(data, list) else [data]
        if not all(isinstance(r, dict) for r in data):
            raise TypeError(f"{f.name} is not a list of result rows")
        rows += data
    return rows


def load_existing(script: Path) -> dict:
    name = script.stem.removeprefix("bench_")
    files = _json_files(name)
    if not files:
        return {"name": name, "script": script.name, "status": "not run", "wall_s": None, "rows": []}
    return {
        "name": name,
        "script": script.name,
        "status": "ok (earlier run)",
        "wall_s": None,
        "rows": _read_rows(files),
    }


# --------------------------------------------------------------------------- machine facts
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return "unknown"


def machine_facts(load_before, load_after) -> list[str]:
    vers = []
    for lib in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            vers.append(f"{lib} {metadata.version(lib)}")
    return [
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {os.cpu_count()} logical cores ({_cpu_model()}), {_mem_gb()} RAM, {platform.system()} "
        f"{platform.release()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()})",
        f"- Libraries: {', '.join(vers)}",
        f"- Load average (1 min) at start {load_before:.1f}, at end {load_after:.1f}: the machine is shared, so "
        "absolute times carry noise; ours and the peer run back to back in the same process, so the ratios are "
        "the figures to quote.",
    ]


# --------------------------------------------------------------------------- the table
def _fmt_s(v) -> str:
    if v is None or v == "":
        return ""
    v = float(v)
    return f"{v:.3g}" if v < 100 else f"{v:,.0f}"


def _fmt_ratio(v) -> str:
    if v is None or v == "":
        return ""
    v = float(v)
    return f"{v:.3g}×" if v < 1000 else f"{v:,.0f}×"


def _fmt_equal(v) -> str:
    return {True: "yes", False: "no"}.get(v, "n/a")


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(results: list[dict], facts: list[str]) -> str:
    lines = [
        "| benchmark | ours (s) | peer | peer (s) | ratio (peer / ours) | equal | notes |",
        "|---|---:|---|---:|---:|:---:|---|",
    ]
    for res in results:
        lines.append(
            f"| **{res['script']}** ({res['status']}"
            + (f", {res['wall_s']:.0f} s" if res.get("wall_s") else "")
            + ") | | | | | | |"
        )
        for r in res["rows"]:
            lines.append(
                "| "
                + " | ".join(
                    [
                        _cell(r.get("benchmark", "")),
                        _fmt_s(r.get("ours_s")),
                        _cell(r.get("peer") or ""),
                        _fmt_s(r.get("peer_s")),
                        _fmt_ratio(r.get("ratio")),
                        _fmt_equal(r.get("equal")),
                        _cell(r.get("notes", "")),
                    ]
                )
                + " |"
            )
    legend = (
        "ratio > 1: ours is faster. equal: `yes` = our result was checked equal to the peer's in the same "
        "run, `no` = the peer computes something different (an approximation or another method; see notes), "
        "`n/a` = no peer computes the same thing."
    )
    return "\n".join(lines) + "\n\n" + legend + "\n\n" + "\n".join(facts)


def write_readme(body: str) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if START in text and END in text:
        text = text[: text.index(START) + len(START)] + "\n" + body + "\n" + text[text.index(END) :]
    else:
        text = text.rstrip("\n") + f"\n\n{START}\n{body}\n{END}\n"
    README.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated benchmark names (e.g. kde,scale)")
    ap.add_argument("--no-run", action="store_true", help="rebuild the table from the existing JSON files")
    a = ap.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    scripts = discover(a.only)
    if not scripts:
        print("no benchmarks found", file=sys.stderr)
        return 1
    load_before = os.getloadavg()[0]
    results = [load_existing(s) if a.no_run else run_one(s) for s in scripts]
    if a.only and not a.no_run:  # keep the other benchmarks' earlier rows in the table
        ran = {r["name"] for r in results}
        results = sorted(
            results + [load_existing(s) for s in discover() if s.stem.removeprefix("bench_") not in ran],
            key=lambda r: r["script"],
        )
    load_after = os.getloadavg()[0]
    write_readme(table(results, machine_facts(load_before, load_after)))
    (RESULTS / "run_all.json").write_text(
        json.dumps([{k: r[k] for k in ("name", "script", "status", "wall_s")} for r in results], indent=2)
    )
    failed = [r["script"] for r in results if not r["status"].startswith("ok") and r["status"] != "not run"]
    print(
        f"{len(results)} benchmark(s); table written to {README.relative_to(REPO)}"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
