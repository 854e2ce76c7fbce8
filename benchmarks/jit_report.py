"""Numba compile report: which kernels a demo FIM pack compiles, how many signatures each, and how long.

Builds the demo pack (``config/demo.toml``, FIM date 2025-11-14) in a fresh process whose numba
cache (``NUMBA_CACHE_DIR``) is an empty temporary folder, so every kernel the pack needs is
compiled from scratch. Compile times come from numba's own ``numba:compile`` events: *own*
seconds exclude the functions compiled inside a kernel's compilation (helpers such as
``sen_slope`` inside ``mann_kendall``, and numba's own implementations of numpy functions),
*as called* seconds include them: what the kernel's first call costs. A numba library function
compiled once is charged to the first kernel that needs it. Every numba dispatcher of
the package is listed with the signatures it compiled (one each is the goal). CPU seconds are
reported beside wall seconds because the machine may be shared.

    python benchmarks/jit_report.py            # empty cache (cold start)
    python benchmarks/jit_report.py --warm     # the normal cache in the source tree
    python benchmarks/jit_report.py --json out.json

This is a report, not a side-by-side benchmark, so ``run_all.py`` does not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _compile_listener():
    """A numba event listener recording compile seconds per dispatcher, nesting-aware."""
    from numba.core import event

    class CompileTimes(event.Listener):
        def __init__(self):
            self.stack: list[list] = []
            self.rows: list[dict] = []

        def on_start(self, ev):
            self.stack.append([ev.data["dispatcher"], time.perf_counter(), time.process_time(), 0.0, 0.0])

        def on_end(self, ev):
            disp, t0, c0, children, children_cpu = self.stack.pop()
            total = time.perf_counter() - t0
            cpu = time.process_time() - c0
            if self.stack:
                self.stack[-1][3] += total
                self.stack[-1][4] += cpu
            py = disp.py_func
            self.rows.append(
                {
                    "kernel": f"{py.__module__}.{py.__qualname__}",
                    "total_s": total,
                    "cpu_s": cpu,
                    "own_s": total - children,
                    "own_cpu_s": cpu - children_cpu,
                    "nested": bool(self.stack),
                    "args": str(ev.data["args"]),
                }
            )

    listener = CompileTimes()
    event.register("numba:compile", listener)
    return listener


def _signatures() -> dict[str, list[str]]:
    """Every numba dispatcher of the package with the signatures compiled in this process."""
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import hotspots

    out = {}
    for mod in pkgutil.walk_packages(hotspots.__path__, "hotspots."):
        try:
            m = importlib.import_module(mod.name)
        except ImportError:  # optional extras (dask) may be missing
            continue
        for name, obj in vars(m).items():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == m.__name__:
                out[f"{m.__name__}.{name}"] = [str(s) for s in obj.signatures]
    return out


def _by_kernel(rows: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in rows:
        k = out.setdefault(
            r["kernel"], {"own_s": 0.0, "own_cpu_s": 0.0, "compiles": 0, "top_level_s": 0.0, "top_level_cpu_s": 0.0}
        )
        k["own_s"] += r["own_s"]
        k["own_cpu_s"] += r["own_cpu_s"]
        k["compiles"] += 1
        if not r["nested"]:
            k["top_level_s"] += r["total_s"]
            k["top_level_cpu_s"] += r["cpu_s"]
    return out


def _print(report: dict) -> None:
    print(
        f"demo pack: {report['pack_wall_s']:.1f} s wall; compiling {report['compile_s']:.1f} s wall, "
        f"{report['compile_cpu_s']:.1f} s CPU ({len(report['events'])} compilations)"
    )
    print("per kernel, CPU seconds (less sensitive to other load than wall seconds): 'own' excludes the")
    print("functions compiled inside it, 'as called' is a top-level call's compile including them")
    print(f"{'kernel':60s} {'own':>7s} {'as called':>10s} {'compiles':>8s}")
    for name, k in sorted(report["kernels"].items(), key=lambda kv: -kv[1]["top_level_cpu_s"]):
        print(f"{name:60s} {k['own_cpu_s']:7.2f} {k['top_level_cpu_s']:10.2f} {k['compiles']:8d}")
    print("\nsignatures per dispatcher (after the pack):")
    for name, sigs in sorted(report["signatures"].items()):
        print(f"  {len(sigs)}  {name}" + ("" if len(sigs) <= 1 else "   <-- more than one"))
        for sig in sigs if len(sigs) > 1 else ():
            print(f"       {sig}")


def _child(json_path: str | None) -> int:
    listener = _compile_listener()
    from hotspots import pipeline
    from hotspots.config import load_config

    cfg = load_config(REPO / "config" / "demo.toml")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        pipeline.run(cfg, fim_date="2025-11-14", out_dir=Path(out) / "pack", quiet=True)
    wall = time.perf_counter() - t0
    report = {
        "pack_wall_s": wall,
        "compile_s": sum(r["own_s"] for r in listener.rows),
        "compile_cpu_s": sum(r["own_cpu_s"] for r in listener.rows),
        "kernels": _by_kernel(listener.rows),
        "signatures": _signatures(),
        "events": listener.rows,
    }
    _print(report)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warm", action="store_true", help="use the normal numba cache instead of an empty one")
    ap.add_argument("--json", help="also write the report to this JSON file")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(args.json)
    cmd = [sys.executable, __file__, "--child"] + (["--json", args.json] if args.json else [])
    if args.warm:
        return subprocess.call(cmd, cwd=REPO)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        return subprocess.call(cmd, cwd=REPO, env=env)


if __name__ == "__main__":
    sys.exit(main())
