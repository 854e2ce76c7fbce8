"""CCTV and ANPR: camera inventory, viewsheds, coverage of harm, gaps, siting, mobile cameras.

Stage entry: :func:`hotspots.coverage.report.run_coverage` (config sections
``[cameras]``, ``[coverage]``, ``[siting]``, ``[anpr]``). Command line:
``hotspots cctv``. Everything is EPSG:27700 (metres).
"""

__all__ = ["CoverageResult", "run_coverage"]


def __getattr__(name):
    # imported on first use, so `hotspots --help` does not load the numerical libraries
    if name in __all__:
        from . import report

        return getattr(report, name)
    raise AttributeError(f"module 'hotspots.coverage' has no attribute {name!r}")
