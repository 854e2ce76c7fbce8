"""Checks at the library's boundary, in one place: CRS, points and parameters.

Every public analysis function calls these before computing anything, so a
notebook user who passes longitude/latitude points with a British National
Grid grid gets a message saying what to do instead of an all-zero surface.
Each raises :class:`~hotspots.errors.InputError` (data) or
:class:`~hotspots.errors.ConfigError` (a parameter) naming the argument.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj

from ..crs import DEFAULT_CRS, crs_label, crs_problem, parse_crs, same_crs
from ..errors import ConfigError, InputError
from .grid import Grid
from .study_area import StudyArea

#: What :func:`crs_of` returns for an object that carries no CRS (a plain array or DataFrame).
NO_CRS_ATTACHED = object()


def crs_of(obj: Any) -> Any:
    """The CRS an object carries: GeoDataFrame/GeoSeries ``.crs`` (possibly None), a Grid's or
    StudyArea's ``crs``, a CRS given directly (str or pyproj); :data:`NO_CRS_ATTACHED` for arrays and
    plain DataFrames, whose coordinates are taken to be in the CRS of the grid they go with."""
    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        return obj.crs
    if isinstance(obj, (Grid, StudyArea)):
        return obj.crs
    if isinstance(obj, (str, pyproj.CRS)):
        return obj
    return NO_CRS_ATTACHED


def require_projected(crs: Any, what: str) -> None:
    """``crs`` must be a projected CRS in metres (or feet); ``what`` names the argument in the message."""
    if crs is NO_CRS_ATTACHED:
        return
    if crs is None:
        raise InputError(
            f"{what} has no CRS, so its coordinates cannot be read as metres; set the CRS it was "
            f"recorded in (e.g. gdf.set_crs('EPSG:4326') for longitude/latitude) and reproject it to "
            f"the working CRS (e.g. gdf.to_crs('{DEFAULT_CRS}'))."
        )
    problem = crs_problem(crs)
    if problem:
        raise InputError(f"{what}: {problem}. Reproject it first, e.g. gdf.to_crs('{DEFAULT_CRS}').")


def require_same_crs(*named: tuple[str, Any]) -> None:
    """Every named object (GeoDataFrame, Grid, StudyArea or CRS) must be in one projected CRS in metres.

    The first object with a usable CRS (by convention the grid) is the
    reference; the message names the odd object and says how to reproject it.
    Objects without a CRS of their own (arrays, plain DataFrames) are skipped.
    """
    known = [(name, crs_of(obj)) for name, obj in named]
    known = [(name, c) for name, c in known if c is not NO_CRS_ATTACHED]
    ref_name, ref = next(((n, c) for n, c in known if c is not None and not crs_problem(c)), ("", None))
    for name, c in known:
        if ref is not None and c is not None and not same_crs(c, ref):
            crs = parse_crs(c)
            kind = " (degrees, not metres)" if crs is not None and crs.is_geographic else ""
            raise InputError(
                f"{name} is in {crs_label(c)}{kind} but {ref_name} is in {crs_label(ref)}; "
                f"reproject it first, e.g. gdf.to_crs('{crs_label(ref)}')."
            )
        require_projected(c, name)


def require_points(data: Any, what: str, columns: Iterable[str] = ("x", "y")) -> None:
    """``data`` must be a non-empty table with the given columns (x/y coordinates in metres by default)."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(
            f"{what} must be a GeoDataFrame of incidents (the Incidents contract: x, y, start, end, "
            f"crime_type, ...), got {type(data).__name__}."
        )
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InputError(
            f"{what} has no column(s) {missing}; columns found: "
            f"{[c for c in data.columns if c != 'geometry'][:12]}. Read incidents with "
            "hotspots.load_incidents, or add the columns."
        )
    if len(data) == 0:
        raise InputError(f"{what} is empty: nothing to analyse; check the crime types and the date range.")


def require_positive(value: float, name: str, unit: str) -> None:
    """A parameter that must be a positive, finite number of ``unit`` (metres, days...)."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a positive number of {unit}, got {value!r}.")
