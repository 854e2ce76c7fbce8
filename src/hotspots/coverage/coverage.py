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
* Gaps are hotspot areas and high-harm cells (harm at or above the
  ``high_harm_quantile`` of cells with harm) whose covered share is below
  ``gap_threshold``, ranked by uncovered harm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ..config.sections import CoverageConfig
from ..geo.checks import require_same_crs
from ..geo.grid import Grid
from .uncertain import reach_m, seen_probability
from .viewshed import Obstruction


@dataclass(frozen=True, eq=False)
class CoverageStats:
    """Coverage of incidents and cells by the live cameras.

    ``by_type``: one row per crime type plus ``all``: incidents,
    incidents_covered, share_incidents, harm, harm_covered, share_harm (covered
    = expected: the probability each incident is seen, summed). ``incident_seen``
    (n,) that probability; ``cell_fraction`` (nrows, ncols): share of each cell
    seen; ``cell_centre_seen``: probability the cell centre is seen (the siting
    model's notion of a covered cell). ``gaps``: GeoDataFrame (working CRS)
    ranked by uncovered harm.
    """

    by_type: pd.DataFrame
    incident_seen: np.ndarray = field(repr=False)
    cell_fraction: np.ndarray = field(repr=False)
    cell_centre_seen: np.ndarray = field(repr=False)
    gaps: gpd.GeoDataFrame | None = None
    n_cameras: int = 0

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
    hotspot_areas: gpd.GeoDataFrame | None = None,
    obstruction: Obstruction | None = None,
    config: CoverageConfig | None = None,
    mount_height_m: float = 6.0,
    target_height_m: float = 1.5,
    samples: int = 128,
) -> CoverageStats:
    """Coverage of incidents, harm and hotspot areas by ``cameras`` (all of them count; pass live ones).

    ``x, y`` (metres in the grid's CRS), ``crime_type`` and ``harm`` describe the
    incidents of the period; ``harm_per_cell`` is (nrows, ncols) on ``grid``.
    ``hotspot_areas`` (GeoDataFrame in the grid's CRS, optional) may carry an id column
    (``area_id``, ``hotspot_id`` or ``id``) and a ``label``.
    """
    require_same_crs(
        ("grid", grid),
        ("cameras", cameras),
        *((("hotspot_areas", hotspot_areas),) if hotspot_areas is not None else ()),
    )
    config = config or CoverageConfig()
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    harm = np.asarray(harm, float)
    seen = seen_probability(cameras, x, y, obstruction, mount_height_m, target_height_m, samples)
    by_type = coverage_by_type(crime_type, harm, seen)
    frac = cell_covered_fraction(
        grid, cameras, obstruction, config.subsample_m, mount_height_m, target_height_m, samples
    )
    xc, yc = grid.centres()
    centre_seen = np.zeros(grid.shape)
    if len(cameras):
        r, c = np.nonzero(grid.mask)
        centre_seen[r, c] = seen_probability(
            cameras, xc[r, c], yc[r, c], obstruction, mount_height_m, target_height_m, samples
        )
    hpc = np.where(grid.mask, np.asarray(harm_per_cell, float), 0.0)
    gaps = []
    # hotspot areas
    if hotspot_areas is not None and len(hotspot_areas):
        ha = hotspot_areas
        idcol = next((c for c in ("area_id", "hotspot_id", "id") if c in ha.columns), None)
        pts = gpd.GeoDataFrame({"i": np.arange(len(x))}, geometry=gpd.points_from_xy(x, y), crs=grid.crs)
        j = gpd.sjoin(
            pts,
            ha.reset_index(drop=True).reset_index(names="_area")[["_area", "geometry"]],
            predicate="within",
            how="inner",
        )
        for a in range(len(ha)):
            idx = j.loc[j["_area"] == a, "i"].to_numpy()
            h = float(harm[idx].sum())
            hc = float((harm[idx] * seen[idx]).sum())
            gaps.append(
                {
                    "kind": "hotspot_area",
                    "gap_id": str(ha[idcol].iat[a]) if idcol else f"area_{a + 1}",
                    "label": str(ha["label"].iat[a]) if "label" in ha.columns else "",
                    "harm": h,
                    "harm_uncovered": h - hc,
                    "covered_share": hc / h if h > 0 else 0.0,
                    "incidents": int(len(idx)),
                    "geometry": ha.geometry.iat[a],
                }
            )
    # high-harm cells
    pos = hpc[grid.mask & (hpc > 0)]
    if len(pos):
        thr = float(np.quantile(pos, config.high_harm_quantile))
        rr, cc = np.nonzero(grid.mask & (hpc >= thr) & (hpc > 0))
        polys = _cell_boxes(grid, rr, cc)
        for r_, c_, g in zip(rr, cc, polys, strict=True):
            h = float(hpc[r_, c_])
            f = float(frac[r_, c_])
            gaps.append(
                {
                    "kind": "high_harm_cell",
                    "gap_id": f"cell_{int(r_ * grid.ncols + c_)}",
                    "label": "",
                    "harm": h,
                    "harm_uncovered": h * (1 - f),
                    "covered_share": f,
                    "incidents": -1,
                    "geometry": g,
                }
            )
    cols = [
        "rank",
        "kind",
        "gap_id",
        "label",
        "harm",
        "harm_uncovered",
        "covered_share",
        "incidents",
        "x",
        "y",
        "geometry",
    ]
    if gaps:
        gdf = gpd.GeoDataFrame(gaps, geometry="geometry", crs=grid.crs)
        gdf = gdf[(gdf["covered_share"] < config.gap_threshold) & (gdf["harm_uncovered"] > 0)]
        gdf = gdf.sort_values(["harm_uncovered", "gap_id"], ascending=[False, True]).head(config.max_gaps)
        rp = gdf.geometry.representative_point()
        gdf["x"] = rp.x.round(1)
        gdf["y"] = rp.y.round(1)
        gdf["rank"] = np.arange(1, len(gdf) + 1)
        gdf = gdf[cols].reset_index(drop=True)
    else:
        gdf = gpd.GeoDataFrame({c: [] for c in cols if c != "geometry"}, geometry=[], crs=grid.crs)
    return CoverageStats(by_type, seen, frac, centre_seen, gdf, int(len(cameras)))


def _cell_boxes(grid: Grid, rows, cols):
    cs = grid.cell_size
    return shapely.box(
        grid.xmin + cols * cs, grid.ymax - (rows + 1) * cs, grid.xmin + (cols + 1) * cs, grid.ymax - rows * cs
    )
