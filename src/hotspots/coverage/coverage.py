"""Coverage of incidents and harm by live cameras, and the coverage gaps.

Inputs are plain arrays so the stage does not depend on how they were made:
incident points (``x, y`` metres in the working CRS, ``crime_type``, ``harm``), a
harm-per-cell array on a :class:`hotspots.geo.grid.Grid`, optional hotspot
polygons, and the cameras (see :mod:`.cameras`).

* An incident is seen with the probability that at least one live camera sees
  its point (1 or 0 for cameras whose positions are exact; see
  :mod:`.uncertain` for approximate positions). Counts and harm "covered" are
  expected values: the sum of those probabilities (times harm).
* A grid cell's covered fraction is the mean of that probability over sample
  points every ``subsample_m`` metres inside the cell; its expected covered
  harm is ``harm x covered fraction``.
* Gaps are places (:mod:`.gaps`): hotspot areas and high-harm cells merged by
  the engine's one rule for a place, each with its own harm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..config.sections import CoverageConfig
from ..geo.checks import require_same_crs
from ..geo.grid import Grid
from .uncertain import reach_m, seen_probability
from .viewshed import Obstruction


@dataclass(frozen=True, eq=False)
class _CellView:
    """What the per-cell figures are computed from, when first asked for."""

    grid: Grid
    cameras: gpd.GeoDataFrame
    obstruction: Obstruction | None
    subsample_m: float
    mount_height_m: float
    target_height_m: float
    samples: int


@dataclass(frozen=True, eq=False)
class CoverageStats:
    """Coverage of incidents and cells by the live cameras.

    ``by_type``: one row per crime type plus ``all``: incidents,
    incidents_covered, share_incidents, harm, harm_covered, share_harm (covered
    = expected: the probability each incident is seen, summed). ``incident_seen``
    (n,) that probability. ``cell_fraction`` (nrows, ncols): share of each cell
    seen; ``cell_centre_seen``: probability the cell centre is seen (both
    computed when first asked for: nothing in a pack needs them).
    """

    by_type: pd.DataFrame
    incident_seen: np.ndarray = field(repr=False)
    n_cameras: int = 0
    cells: _CellView | None = field(default=None, repr=False)

    @cached_property
    def cell_fraction(self) -> np.ndarray:
        v = self.cells
        if v is None:
            raise ValueError("these coverage figures were made without a grid")
        return cell_covered_fraction(
            v.grid, v.cameras, v.obstruction, v.subsample_m, v.mount_height_m, v.target_height_m, v.samples
        )

    @cached_property
    def cell_centre_seen(self) -> np.ndarray:
        v = self.cells
        if v is None:
            raise ValueError("these coverage figures were made without a grid")
        xc, yc = v.grid.centres()
        out = np.zeros(v.grid.shape)
        if len(v.cameras):
            r, c = np.nonzero(v.grid.mask)
            out[r, c] = seen_probability(
                v.cameras, xc[r, c], yc[r, c], v.obstruction, v.mount_height_m, v.target_height_m, v.samples
            )
        return out

    @property
    def incident_covered(self) -> np.ndarray:
        """Incidents more likely seen than not (bool; exactly the seen ones when positions are exact)."""
        return self.incident_seen >= 0.5

    def to_frame(self) -> pd.DataFrame:
        return self.by_type


def coverage_by_type(crime_type, harm, seen) -> pd.DataFrame:
    """Incidents and harm covered per crime type (plus an ``all`` row); ``seen`` is the probability (or 0/1)
    that each incident is seen, so the covered figures are expected values."""
    df = pd.DataFrame(
        {
            "crime_type": np.asarray(crime_type, dtype=object),
            "harm": np.asarray(harm, float),
            "seen": np.asarray(seen, float),
        }
    )
    df["harm_cov"] = df["harm"] * df["seen"]
    g = (
        df.groupby("crime_type")
        .agg(
            incidents=("seen", "size"),
            incidents_covered=("seen", "sum"),
            harm=("harm", "sum"),
            harm_covered=("harm_cov", "sum"),
        )
        .reset_index()
    )
    g = g.sort_values("harm", ascending=False)
    tot = pd.DataFrame(
        [
            {
                "crime_type": "all",
                "incidents": len(df),
                "incidents_covered": df["seen"].sum(),
                "harm": df["harm"].sum(),
                "harm_covered": df["harm_cov"].sum(),
            }
        ]
    )
    g = pd.concat([g, tot], ignore_index=True)
    g["incidents_covered"] = g["incidents_covered"].astype(float).round(6)
    g["share_incidents"] = np.where(g["incidents"] > 0, g["incidents_covered"] / g["incidents"].clip(lower=1), 0.0)
    g["share_harm"] = np.where(g["harm"] > 0, g["harm_covered"] / g["harm"].where(g["harm"] > 0, 1), 0.0)
    return g[["crime_type", "incidents", "incidents_covered", "share_incidents", "harm", "harm_covered", "share_harm"]]


def cell_covered_fraction(
    grid,
    cameras,
    obstruction: Obstruction | None = None,
    subsample_m: float = 10.0,
    mount_height_m: float = 6.0,
    target_height_m: float = 1.5,
    samples: int = 128,
) -> np.ndarray:
    """Share of each grid cell seen by at least one camera, shape (nrows, ncols).

    Sample points lie on a regular lattice every ``subsample_m`` metres inside
    each cell (at least 1 per cell, at the centre when the cell is smaller);
    each counts with the probability it is seen (:func:`.uncertain.seen_probability`).
    Only cells within reach of a camera (range plus positional error) are sampled.
    """
    out = np.zeros(grid.shape)
    if len(cameras) == 0:
        return out

    cs = grid.cell_size
    m = max(1, int(round(cs / subsample_m)))
    offs = (np.arange(m) + 0.5) / m * cs
    xc, yc = grid.centres()
    rows, cols = np.nonzero(grid.mask)
    tree = cKDTree(np.c_[xc[rows, cols], yc[rows, cols]])
    near = np.zeros(len(rows), bool)
    reach = reach_m(cameras) + cs * 0.7072
    for hit in tree.query_ball_point(np.c_[cameras["x"].to_numpy(float), cameras["y"].to_numpy(float)], reach):
        near[hit] = True
    rows, cols = rows[near], cols[near]
    if len(rows) == 0:
        return out
    ox, oy = np.meshgrid(offs, offs)
    sx = (grid.xmin + cols * cs)[:, None] + ox.ravel()[None, :]
    sy = (grid.ymax - rows * cs)[:, None] - oy.ravel()[None, :]
    seen = seen_probability(cameras, sx.ravel(), sy.ravel(), obstruction, mount_height_m, target_height_m, samples)
    out[rows, cols] = seen.reshape(len(rows), m * m).mean(axis=1)
    return out


def compute_coverage(
    cameras: gpd.GeoDataFrame,
    x,
    y,
    crime_type,
    harm,
    grid: Grid,
    harm_per_cell,
    obstruction: Obstruction | None = None,
    config: CoverageConfig | None = None,
    mount_height_m: float = 6.0,
    target_height_m: float = 1.5,
    samples: int = 128,
) -> CoverageStats:
    """Coverage of incidents, harm and grid cells by ``cameras`` (all of them count; pass live ones).

    ``x, y`` (metres in the grid's CRS), ``crime_type`` and ``harm`` describe the
    incidents of the period; ``harm_per_cell`` (nrows, ncols) on ``grid`` is
    not used (kept for callers); the per-cell figures are computed when asked for.
    The gap places are :func:`hotspots.coverage.gaps.gap_places`.
    """
    require_same_crs(("grid", grid), ("cameras", cameras))
    config = config or CoverageConfig()
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    harm = np.asarray(harm, float)
    seen = seen_probability(cameras, x, y, obstruction, mount_height_m, target_height_m, samples)
    cells = _CellView(grid, cameras, obstruction, config.subsample_m, mount_height_m, target_height_m, samples)
    return CoverageStats(coverage_by_type(crime_type, harm, seen), seen, int(len(cameras)), cells)
