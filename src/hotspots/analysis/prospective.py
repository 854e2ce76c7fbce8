"""Prospective (near-repeat) risk surface, after Bowers, Johnson & Pease (2004).

For a date ``at_day`` (days), every burglary strictly before it and at most
``bandwidth_days`` old adds risk to each grid cell whose centre lies within
``bandwidth_m`` metres of it:

    risk(cell) = sum over events of  1 / (1 + floor(d / band_m))  *  1 / (1 + floor(age / band_days))

with d the distance from the event to the cell centre (metres) and age =
at_day - event time (days). Defaults: bandwidth 400 m and 56 days (8 weeks),
distance bands of 50 m and time bands of 7 days (one week), as in the paper.
Where the Knox test on the user's own data finds a significant near-repeat
extent, :func:`hotspots.analysis.nearrepeat.near_repeat` uses that extent
as the bandwidths instead (and reports it).

Grid arrays have shape (nrows, ncols), row 0 at the top (north), working CRS.
"""

from __future__ import annotations

import numpy as np

from .._util import kernel_array
from ..config.sections import PROSPECTIVE_BAND_DAYS as DEFAULT_BAND_DAYS
from ..config.sections import PROSPECTIVE_BAND_M as DEFAULT_BAND_M
from ..config.sections import PROSPECTIVE_BANDWIDTH_DAYS as DEFAULT_BANDWIDTH_DAYS
from ..config.sections import PROSPECTIVE_BANDWIDTH_M as DEFAULT_BANDWIDTH_M
from ..errors import InputError
from . import _nearrepeat_kernels as K


def prospective_surface(
    x,
    y,
    t_days,
    grid,
    at_day,
    bandwidth_m: float = DEFAULT_BANDWIDTH_M,
    bandwidth_days: float = DEFAULT_BANDWIDTH_DAYS,
    band_m: float = DEFAULT_BAND_M,
    band_days: float = DEFAULT_BAND_DAYS,
) -> np.ndarray:
    """Prospective risk on ``grid`` at ``at_day`` (see the module docstring).

    x, y : event coordinates in metres (working CRS); t_days : event times in days
    (same origin as ``at_day``). Only events with t < at_day are used, so the
    surface never looks ahead. Cells outside ``grid.mask`` are 0.
    Returns an array of shape (grid.nrows, grid.ncols).
    """
    x = kernel_array(x, np.float64)
    y = kernel_array(y, np.float64)
    t = kernel_array(t_days, np.float64)
    if not (x.shape == y.shape == t.shape):
        raise InputError("x, y and t_days must have the same length.")
    if bandwidth_m <= 0 or bandwidth_days <= 0 or band_m <= 0 or band_days <= 0:
        raise InputError("prospective bandwidths and bands must be positive (metres, days).")
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(t)
    out = K.prospective_kernel(
        kernel_array(x[ok], np.float64),
        kernel_array(y[ok], np.float64),
        kernel_array(t[ok], np.float64),
        float(at_day),
        float(grid.xmin),
        float(grid.ymax),
        float(grid.cell_size),
        int(grid.nrows),
        int(grid.ncols),
        float(bandwidth_m),
        float(bandwidth_days),
        float(band_m),
        float(band_days),
    )
    out[~grid.mask] = 0.0
    return out
