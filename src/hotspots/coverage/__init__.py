"""CCTV and ANPR: camera inventory, viewsheds, coverage of harm, gaps, siting, mobile cameras.

Stage entry: :func:`hotspots.coverage.report.run_coverage` (config sections
``[cameras]``, ``[coverage]``, ``[siting]``, ``[anpr]``). Command line:
``hotspots cctv``. Everything is EPSG:27700 (metres).
"""

from .report import CoverageResult, run_coverage

__all__ = ["CoverageResult", "run_coverage"]
