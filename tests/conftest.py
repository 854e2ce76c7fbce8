"""Shared fixtures: the real open data beside the repo, the demo borough, small configs."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from hotspots._util import shared_data_dir

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "config" / "demo.toml"
DEMO_DATE = "2025-11-14"

# numba caches next to the package; tests share it across workers
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or $HOTSPOTS_SHARED_DATA); skips the test when absent."""
    d = shared_data_dir()
    if not (d / "README.md").exists():
        pytest.skip(f"real open data not found at {d} (set HOTSPOTS_SHARED_DATA to the shared/data folder)")
    return d


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def demo_config_path() -> Path:
    if not (REPO / "data" / "incidents" / "incidents.csv").exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    return DEMO_CONFIG


def write_config(tmp_path: Path, body: str, name: str = "run.toml") -> Path:
    """Write a config beside copies of the shipped mapping and harm tables."""
    for f in ("crime_types.toml", "harm_schemes.toml"):
        (tmp_path / f).write_text((REPO / "config" / f).read_text())
    p = tmp_path / name
    p.write_text(body)
    return p


#: Lighter settings for the slow optional stages so the test pack builds in seconds; every section is still filled.
FAST = {
    "siting": {"k": 3, "time_limit_s": 5.0, "demand_cell_m": 0.0, "curve": "greedy"},
    "anpr": {"k": 3},
    "nearrepeat": {"permutations": 99},
    "forecast": {"window": 1, "candidates": ["naive_12m", "kde"]},
}


def fast_config(path: Path = DEMO_CONFIG, data_dir=None):
    """The demo config (or another) with :data:`FAST` merged into its stage sections."""
    from hotspots.config import load_config

    cfg = load_config(path, data_dir=str(data_dir) if data_dir else None)
    for section, values in FAST.items():
        cfg = cfg.override(section, **values)
    return cfg


def build_demo_pack(tmp_path_factory) -> Path:
    """Build the demo pack once per test session (shared by the pack, browser and public-tier tests)."""
    if not (REPO / "data" / "incidents" / "incidents.csv").exists():
        pytest.skip("demo data missing: run `hotspots demo-data --out data`")
    root = tmp_path_factory.getbasetemp()
    root = root.parent if root.name.startswith("popen-") else root
    out = root / "demo-pack" / f"fim-{DEMO_DATE}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "manifest.json").exists():
            from hotspots import pipeline

            pipeline.run(fast_config(), fim_date=DEMO_DATE, out_dir=out, quiet=True)
    return out


@pytest.fixture
def fits(monkeypatch):
    """Counts the fits the forecast harness makes (``fits["n"]``; a surface loaded from the cache is not a
    fit), in this process."""
    import importlib

    harness = importlib.import_module("hotspots.forecast.harness")
    count = {"n": 0}
    real = harness.fit_predict

    def counting(method, history, name=""):
        count["n"] += 1
        return real(method, history, name)

    monkeypatch.setattr(harness, "fit_predict", counting)
    return count
