"""CCTV and ANPR: camera inventory, viewsheds, coverage of harm, gaps, siting, mobile cameras.

:func:`hotspots.coverage.report.coverage_report` assembles the report for the
CCTV project board from the pieces (the pipeline's coverage stage calls it with
``[cameras]``, ``[coverage]``, ``[siting]`` and ``[anpr]``). Command line:
``hotspots cctv``. Everything is in the working CRS (metres).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["CoverageResult", "coverage_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(".report", __name__), name)
    raise AttributeError(f"module 'hotspots.coverage' has no attribute {name!r}")
