"""Shared by the benchmark scripts: print a run's rows and save them where run_all.py reads them."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def save_rows(name: str, rows: list[dict]) -> Path:
    """Print each row as JSON and write all of them to ``benchmarks/results/<name>.json``."""
    for r in rows:
        print(json.dumps(r, indent=1))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(rows, indent=2))
    print(f"written {path}")
    return path
