"""CCTV and ANPR: camera inventories, viewsheds, coverage of harm, gap places, siting, ANPR, mobile cameras.

:func:`hotspots.coverage.report.coverage_report` assembles the report for the
CCTV project board from the pieces (the pipeline's coverage stage calls it with
``[cameras]``, ``[coverage]``, ``[siting]`` and ``[anpr]``) and returns a
:class:`hotspots.coverage.result.CoverageResult`. Command line:
``hotspots cctv``. Everything is in the working CRS (metres).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public names and the module that provides each (imported on first use).
_EXPORTS = {"CoverageResult": ".result", "coverage_report": ".report"}

__all__ = ["CoverageResult", "coverage_report"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module 'hotspots.coverage' has no attribute {name!r}")
