"""Shared fixtures: the real open data beside the repo, the demo borough, small configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hotspots._util import shared_data_dir

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "config" / "demo.toml"

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
