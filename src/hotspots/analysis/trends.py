"""Emerging hotspots: a space-time cube, space-time Gi*, Mann-Kendall trends and classes.

What it answers for the Fortnightly Intelligence Meeting: *which places are
becoming hot, staying hot, or have stopped being hot?*

Method (working CRS, metres; times in ``[project] timezone``, default Europe/London)
---------------------------------------------------
1. **Cube.** Incidents are binned on the analysis grid
   (:class:`hotspots.geo.grid.Grid`) and into time steps that *end at the FIM
   date*: step ``k`` covers ``[end_k - step, end_k)`` and the last step ends at
   midnight at the start of the FIM date. The step is chosen from the data's
   ``time_precision`` (``[trends] step = "auto"``): whole calendar months for
   month-precision data such as police.uk (the last step is the last calendar
   month that has ended by the FIM date), ``step_days`` (default 14) days
   otherwise. An incident is placed by the midpoint of its ``start``-``end``
   window. Every cell of the grid mask is a location of the cube, so every
   cell is classified.
2. **Space-time Gi\\*.** For bin ``(t, i)`` the neighbourhood is cell ``i`` and
   its queen neighbours (the 8 surrounding cells) at step ``t`` and the
   previous ``time_lags`` steps (default 1), binary weights, self included.
   The z-score is the analytic Gi\\* with the mean and variance of the whole
   cube (as in ArcGIS Emerging Hot Spot Analysis). Two-sided p-values are
   corrected for multiple testing with Benjamini-Hochberg (``fdr = "step"``:
   within each time step, like one hot-spot map per step; ``"cube"``: over all
   bins; ``"none"``). A bin is *hot* when z > 0 and its FDR-adjusted p-value
   is below ``alpha`` (default 0.05), *cold* when z < 0 and likewise.
3. **Trends.** The Mann-Kendall test (with tie correction and continuity
   correction) of each cell's Gi\\* z-series gives the *trend in intensity*
   used by the classes (significant when p < ``trend_alpha``, default 0.05).
   Neighbouring steps share bins in their Gi\\* windows, so successive
   z-scores are correlated by construction and the plain test finds trends
   too often; ``trend_test = "yue_wang"`` (default) inflates the variance of S
   by the Yue & Wang (2004) factor for serial correlation at lags
   1..``time_lags`` of the Sen-detrended series (``"mk"`` = the plain test, as
   ArcGIS). The first ``time_lags`` steps, whose neighbourhood is truncated,
   are left out of the trend test. The plain test on the raw counts is
   reported alongside.
4. **Classes** (``scheme = "esri"``, the ArcGIS categories). With ``T`` steps,
   "hot share" = hot steps / ``T`` and ``share`` = 0.9:

   - *new hot spot*: hot in the final step and never hot before;
   - *consecutive hot spot*: a single uninterrupted run of at least two hot
     steps ending in the final step, never hot before that run, and hot share
     below 90%;
   - *intensifying hot spot*: hot share at least 90%, final step hot, and a
     significant upward Mann-Kendall trend in the Gi\\* z-scores;
   - *persistent hot spot*: hot share at least 90%, final step hot, no
     significant trend;
   - *diminishing hot spot*: as intensifying, with a significant downward trend;
   - *sporadic hot spot*: final step hot, hot share below 90%, hot before the
     final run with gaps (so neither new nor consecutive), never a cold spot;
   - *oscillating hot spot*: as sporadic, but a cold spot at some earlier step;
   - *historical hot spot*: final step not hot and either (ArcGIS rule) hot
     share at least 90%, or (``historical = "extended"``, the default) a hot
     spell that has ended: hot in at least 90% of the steps from its first to
     its last hot step, that spell lasting at least ``historical_min_span``
     (default 25%) of all steps and at least 2 steps. The extension classes a
     hotspot that stopped part-way through the period as historical instead
     of ArcGIS's "no pattern"; ``historical = "arcgis"`` keeps the strict rule;
   - the *cold-spot* classes mirror these with cold in place of hot and the
     trend reversed (an intensifying cold spot's z-scores fall);
   - *no pattern*: none of the above.

   Rules are tried in the order intensifying, diminishing, persistent, new,
   consecutive, oscillating, sporadic for a cell hot in the final step (the
   cold mirror for a cell cold in the final step), and historical otherwise
   (hot before cold when both apply, by the larger number of steps).

   ``scheme = "uk"``, the simpler scheme of UK crime-analysis practice: the
   last ``recent_steps`` steps (0 = a quarter of the steps, at least 2) are
   the *recent* window, the steps before it the *earlier* window, and a
   window counts as hot when at least ``uk_hot_share`` (default 50%) of its
   steps are hot. *persistent*: hot in both windows; *emerging*: hot
   recently but not earlier; *former*: hot earlier but not recently;
   *intermittent*: some hot steps, but neither window hot; *not hot*: never hot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.special import ndtr

from .._util import kernel_array
from ..announce import choose
from ..config.sections import TrendsConfig
from ..errors import InputError, PrecisionError
from ..geo.checks import require_points, require_same_crs
from ..geo.grid import Grid
from ..model import coarsest_precision, local_midnight, midpoint_times, require_precision, resolve_timezone
from ..model import days_since_epoch as _days
from . import _trends_kernels as K
from .fdr import bh_adjust
from .neighbours import grid_neighbours
from .neighbours import queen_csr as queen_csr  # re-exported for callers of hotspots.analysis.trends

ESRI_LABELS = (
    "no pattern",
    "new hot spot",
    "consecutive hot spot",
    "intensifying hot spot",
    "persistent hot spot",
    "diminishing hot spot",
    "sporadic hot spot",
    "oscillating hot spot",
    "historical hot spot",
    "new cold spot",
    "consecutive cold spot",
    "intensifying cold spot",
    "persistent cold spot",
    "diminishing cold spot",
    "sporadic cold spot",
    "oscillating cold spot",
    "historical cold spot",
)

UK_LABELS = ("not hot", "persistent", "emerging", "former", "intermittent")

_ESRI_LEGEND_HOT = {
    "new": "Hot spot in the latest {step} for the first time in the period.",
    "consecutive": "Hot spot for an unbroken run of recent {steps} up to the latest one, and never before that run.",
    "intensifying": "Hot spot in at least 90% of {steps} including the latest, and getting significantly hotter.",
    "persistent": "Hot spot in at least 90% of {steps} including the latest, with no significant trend.",
    "diminishing": "Hot spot in at least 90% of {steps} including the latest, but cooling significantly.",
    "sporadic": "Hot spot in the latest {step}, on and off before, never a cold spot.",
    "oscillating": "Hot spot in the latest {step} that was a cold spot at some earlier {step}.",
    "historical": "Was a sustained hot spot earlier in the period but is not hot in the latest {step}.",
}


def esri_legend(step: str = "fortnight") -> dict[str, str]:
    """Class label -> one-sentence explanation for the ArcGIS-style scheme."""
    steps = step + "s"
    out = {"no pattern": "No significant space-time clustering pattern."}
    for k, v in _ESRI_LEGEND_HOT.items():
        out[f"{k} hot spot"] = v.format(step=step, steps=steps)
    for k, v in _ESRI_LEGEND_HOT.items():
        txt = v.format(step=step, steps=steps).replace("Hot spot", "Cold spot").replace("hot spot", "cold spot")
        txt = txt.replace("getting significantly hotter", "getting significantly colder")
        txt = txt.replace("is not hot in", "is not cold in")
        txt = txt.replace("but cooling significantly", "but warming significantly")
        txt = txt.replace("never a cold spot", "never a hot spot").replace(
            "that was a cold spot", "that was a hot spot"
        )
        out[f"{k} cold spot"] = txt
    return out


def uk_legend(step: str = "fortnight") -> dict[str, str]:
    """Class label -> one-sentence explanation for the UK scheme."""
    return {
        "not hot": f"Never a significant hot spot in any {step} of the period.",
        "persistent": f"Hot in most {step}s both earlier in the period and recently.",
        "emerging": f"Hot in most recent {step}s but not earlier in the period.",
        "former": f"Hot in most {step}s earlier in the period but not recently.",
        "intermittent": f"Hot in some {step}s, but not consistently in either part of the period.",
    }


# --------------------------------------------------------------------------- helpers
def to_fim_timestamp(fim_date, timezone: str | None = None) -> pd.Timestamp:
    """Midnight at the start of the FIM date in ``timezone`` (default Europe/London)."""
    return local_midnight(fim_date, resolve_timezone(timezone))


@dataclass(frozen=True)
class StepPlan:
    """The time steps of a cube: ``starts[k] <= t < ends[k]`` (local time of the analysis)."""

    starts: pd.DatetimeIndex
    ends: pd.DatetimeIndex
    unit: str  # "month" or "N days"
    label: str  # "month", "fortnight", "week" or "N-day step" (for sentences)
    note: str
    choices: Mapping[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.starts)


def plan_steps(fim_date, precision: str, cfg: TrendsConfig, data_start=None, timezone: str | None = None) -> StepPlan:
    """Time steps ending at the FIM date, in calendar days of ``timezone``.

    ``precision`` is the coarsest ``time_precision`` of the data. ``data_start``
    (tz-aware timestamp) bounds the automatic number of steps: only whole steps
    starting on or after it are used.
    """
    tz = resolve_timezone(timezone)
    fim = to_fim_timestamp(fim_date, tz)
    mode = cfg.step
    choices: dict[str, str] = {}
    if mode == "auto":
        mode = "month" if precision == "month" else "days"
        why = f"chosen automatically: the data have {precision} precision"
        choose(
            choices,
            "step",
            f"emerging hotspots: time step chosen automatically: "
            f"{'calendar months' if mode == 'month' else f'{cfg.step_days} days'}, because the "
            f"incident times have {precision} precision",
        )
    else:
        why = "set in [trends] step"
    if mode == "days" and precision == "month":
        raise PrecisionError(
            f'[trends] step = "days" ({cfg.step_days}-day steps) needs day-precision times, but the '
            "incidents only have month precision (police.uk publishes months only). Use step = "
            '"month" or "auto".'
        )
    if mode == "month":
        last_end = fim.replace(day=1)  # first of the FIM month: months ending by the FIM date
        if cfg.n_steps:
            n = cfg.n_steps
        else:
            if data_start is None:
                raise InputError("Cannot choose the number of steps automatically without incidents.")
            ds = pd.Timestamp(data_start).tz_convert(tz)
            first = ds.normalize().replace(day=1)
            if first < ds.normalize():
                first = first + pd.DateOffset(months=1)
            n = (last_end.year - first.year) * 12 + (last_end.month - first.month)
            n = min(n, cfg.max_steps)
        ends = pd.DatetimeIndex([last_end - pd.DateOffset(months=k) for k in range(n - 1, -1, -1)])
        starts = pd.DatetimeIndex([e - pd.DateOffset(months=1) for e in ends])
        unit, label = "month", "month"
    else:
        d = cfg.step_days
        if cfg.n_steps:
            n = cfg.n_steps
        else:
            if data_start is None:
                raise InputError("Cannot choose the number of steps automatically without incidents.")
            ds = pd.Timestamp(data_start).tz_convert(tz).normalize()
            n = int(math.floor((fim - ds).days / d))
            n = min(n, cfg.max_steps)
        # calendar days in local time (DST-safe)
        ends = pd.DatetimeIndex(
            [(fim.tz_localize(None) - pd.Timedelta(days=d * k)).tz_localize(tz) for k in range(n - 1, -1, -1)]
        )
        starts = pd.DatetimeIndex([(e.tz_localize(None) - pd.Timedelta(days=d)).tz_localize(tz) for e in ends])
        unit = f"{d} days"
        label = {14: "fortnight", 7: "week"}.get(d, f"{d}-day step")
    if n < cfg.min_steps:
        raise InputError(
            f"Emerging-hotspot analysis needs at least {cfg.min_steps} time steps of {unit} ending at "
            f"{fim.date()}, but the incidents only cover {max(n, 0)}; supply a longer history or "
            "lower [trends] min_steps / step_days."
        )
    ending = (
        f"ending at the FIM date {fim.date()}"
        if ends[-1] == fim
        else f"the last whole month before the FIM date {fim.date()}"
    )
    note = (
        f"{n} steps of {unit} ({why}), {starts[0].date()} to {(ends[-1] - pd.Timedelta(days=1)).date()} "
        f"inclusive, {ending}"
    )
    if not cfg.n_steps:
        choose(
            choices,
            "n_steps",
            f"emerging hotspots: {n} steps of {unit} chosen automatically (every whole "
            f"step from the first incident, at most [trends] max_steps = {cfg.max_steps})",
        )
    return StepPlan(starts, ends, unit, label, note, dict(choices))


def _norm_sf2(z: np.ndarray) -> np.ndarray:
    return 2.0 * ndtr(-np.abs(z))


def spacetime_gistar(counts: np.ndarray, mask: np.ndarray, time_lags: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Space-time Gi* z-scores of a cube.

    ``counts`` has shape ``(T, N)`` over the masked cells of ``mask`` in
    row-major order. Returns ``(z, p)`` with two-sided normal p-values.
    """
    ptr, idx = grid_neighbours(mask)
    z, _w = K.spacetime_gistar(kernel_array(counts, np.float64), ptr, idx, int(time_lags))
    return z, _norm_sf2(z)


def mann_kendall(series: np.ndarray, ac_lags: int = 0, with_slope: bool = True) -> dict[str, np.ndarray]:
    """Mann-Kendall test of each row of ``series`` (N, T): s, var, z, p (two-sided), tau, slope.

    ``ac_lags`` > 0 applies the Yue & Wang (2004) correction of the variance for
    serial correlation at lags 1..ac_lags (as ``pymannkendall.yue_wang_modification_test``
    with ``lag=ac_lags``); 0 is the original test.
    """
    s, v, z, tau, slope = K.mann_kendall(kernel_array(series, np.float64), int(ac_lags), bool(with_slope))
    return {"s": s, "var": v, "z": z, "p": _norm_sf2(z), "tau": tau, "slope": slope}


def classify_uk(hot: np.ndarray, recent_steps: int, hot_share: float) -> np.ndarray:
    """UK-scheme codes (index into :data:`UK_LABELS`) from a boolean (N, T) hot array."""
    N, T = hot.shape
    r = recent_steps if recent_steps > 0 else max(2, int(round(T / 4)))
    r = min(r, T - 1)
    recent = hot[:, T - r :].mean(axis=1) >= hot_share
    earlier = hot[:, : T - r].mean(axis=1) >= hot_share
    any_hot = hot.any(axis=1)
    code = np.zeros(N, dtype=np.int64)
    code[any_hot] = 4
    code[recent & earlier] = 1
    code[recent & ~earlier] = 2
    code[~recent & earlier] = 3
    return code


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class EmergingResult:
    """Emerging-hotspot classes of every grid cell (in the grid's CRS).

    Arrays over cells follow the grid's masked cells in row-major order
    (``rows``, ``cols``); cube arrays have shape ``(T, N)``. ``choices`` holds
    the settings chosen automatically (the time step, the number of steps).
    """

    grid: Grid
    rows: np.ndarray
    cols: np.ndarray
    step_starts: pd.DatetimeIndex
    step_ends: pd.DatetimeIndex
    step_label: str
    counts: np.ndarray
    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    hot: np.ndarray
    cold: np.ndarray
    trend: dict[str, np.ndarray]
    count_trend: dict[str, np.ndarray]
    codes: np.ndarray
    labels: tuple[str, ...]
    scheme: str
    config: TrendsConfig
    notes: tuple[str, ...] = field(default_factory=tuple)
    choices: Mapping[str, str] = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return self.counts.shape[0]

    @property
    def n_cells(self) -> int:
        return self.counts.shape[1]

    @property
    def class_labels(self) -> np.ndarray:
        """Class label of every cell (object array, length N)."""
        return np.asarray(self.labels, dtype=object)[self.codes]

    def class_grid(self) -> np.ndarray:
        """Class codes as a (nrows, ncols) array, -1 outside the study area."""
        out = np.full(self.grid.shape, -1, dtype=np.int64)
        out[self.rows, self.cols] = self.codes
        return out

    def cell_array(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        out = np.full(self.grid.shape, fill, dtype=float)
        out[self.rows, self.cols] = values
        return out

    def legend(self) -> dict[str, str]:
        """Class label -> one-sentence explanation."""
        return esri_legend(self.step_label) if self.scheme == "esri" else uk_legend(self.step_label)

    def counts_by_class(self) -> dict[str, int]:
        vals, n = np.unique(self.codes, return_counts=True)
        return {self.labels[v]: int(c) for v, c in zip(vals, n, strict=True)}

    def explanations(self) -> list[str]:
        """One sentence per cell giving the evidence for its class."""
        T = self.n_steps
        nh = self.hot.sum(axis=0)
        nc = self.cold.sum(axis=0)
        fh = self.hot[-1]
        fc = self.cold[-1]
        tz = self.trend["z"]
        tp = self.trend["p"]
        lab = self.class_labels
        st = self.step_label
        out = []
        for i in range(self.n_cells):
            if self.codes[i] == 0 and nh[i] == 0 and nc[i] == 0:
                out.append(f"{lab[i].capitalize()}: never a significant hot or cold spot in {T} {st}s.")
                continue
            latest = "hot" if fh[i] else ("cold" if fc[i] else "neither hot nor cold")
            if tp[i] < self.config.trend_alpha:
                trend = f"Gi* trend {'rising' if tz[i] > 0 else 'falling'} (Mann-Kendall p = {tp[i]:.3g})"
            else:
                trend = f"no significant Gi* trend (p = {tp[i]:.2g})"
            out.append(
                f"{lab[i].capitalize()}: hot in {nh[i]} and cold in {nc[i]} of {T} {st}s, "
                f"{latest} in the latest; {trend}."
            )
        return out

    def to_frame(self):
        """GeoDataFrame of the cells: class code and label, explanation, hot/cold step
        counts, latest z, trend statistics (working CRS)."""
        rows, cols = self.rows, self.cols
        g = self.grid
        cs = g.cell_size
        geom = shapely.box(g.xmin + cols * cs, g.ymax - (rows + 1) * cs, g.xmin + (cols + 1) * cs, g.ymax - rows * cs)
        df = pd.DataFrame(
            {
                "cell_id": rows * g.ncols + cols,
                "row": rows,
                "col": cols,
                "class_code": self.codes,
                "class_label": self.class_labels,
                "explanation": self.explanations(),
                "n_hot_steps": self.hot.sum(axis=0),
                "n_cold_steps": self.cold.sum(axis=0),
                "latest_hot": self.hot[-1],
                "latest_cold": self.cold[-1],
                "latest_z": self.z[-1],
                "latest_count": self.counts[-1],
                "total_count": self.counts.sum(axis=0),
                "trend_z": self.trend["z"],
                "trend_p": self.trend["p"],
                "trend_tau": self.trend["tau"],
                "count_trend_z": self.count_trend["z"],
                "count_trend_p": self.count_trend["p"],
            }
        )
        return gpd.GeoDataFrame(df, geometry=geom, crs=g.crs)

    def to_geotiff(self, path, layer: str = "class") -> Path:
        """Write ``layer`` as a GeoTIFF on the grid (working CRS): ``class`` (codes into
        ``labels``, -1 outside), ``latest_z`` (Gi* z of the final step), ``trend_z``
        (Mann-Kendall z of the Gi* series) or ``n_hot`` (hot steps)."""
        if layer == "class":
            return self.grid.write_geotiff(
                path, self.class_grid().astype(float), nodata=-1, description=f"emerging-hotspot class ({self.scheme})"
            )
        arrays = {"latest_z": self.z[-1], "trend_z": self.trend["z"], "n_hot": self.hot.sum(axis=0)}
        if layer not in arrays:
            raise ValueError(f"layer must be one of class, {', '.join(arrays)}; got {layer!r}")
        return self.grid.write_geotiff(path, self.cell_array(arrays[layer]), description=layer)

    def to_gpkg(self, path, layer: str = "emerging_hotspots") -> Path:
        """Write :meth:`to_frame` to a GeoPackage layer (working CRS)."""
        path = Path(path)
        self.to_frame().to_file(path, layer=layer, driver="GPKG")
        return path

    def steps_frame(self) -> pd.DataFrame:
        """One row per time step: dates, incidents, hot and cold cells."""
        return pd.DataFrame(
            {
                "step": np.arange(self.n_steps),
                "start": self.step_starts,
                "end_exclusive": self.step_ends,
                "incidents": self.counts.sum(axis=1),
                "hot_cells": self.hot.sum(axis=1),
                "cold_cells": self.cold.sum(axis=1),
            }
        )

    def summary(self) -> dict:
        return {
            "scheme": self.scheme,
            "n_steps": self.n_steps,
            "n_cells": self.n_cells,
            "step": self.step_label,
            "first_step_start": str(self.step_starts[0].date()),
            "last_step_end_exclusive": str(self.step_ends[-1].date()),
            "classes": self.counts_by_class(),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- main entry
def build_cube(incidents, grid, plan: StepPlan, weight: str = "count") -> tuple[np.ndarray, dict]:
    """Counts (or harm sums) per (step, masked cell): shape (T, N).

    Returns the cube and a dict of how many incidents were outside the steps or the grid.
    """
    rows, cols = np.nonzero(grid.mask)
    lookup = np.full(grid.shape, -1, dtype=np.int64)
    lookup[rows, cols] = np.arange(len(rows))
    T, N = plan.n, len(rows)
    cube = np.zeros((T, N))
    info = {"used": 0, "outside_time": 0, "outside_grid": 0}
    if len(incidents) == 0:
        return cube, info
    t = midpoint_times(incidents)
    edges = np.concatenate([_days(plan.starts), _days(plan.ends[-1:])])
    k = np.searchsorted(edges, t, side="right") - 1
    in_time = (k >= 0) & (k < T) & (t < edges[-1])
    r, c = grid.cell_index(incidents["x"].to_numpy(float), incidents["y"].to_numpy(float))
    cell = np.where(r >= 0, lookup[np.maximum(r, 0), np.maximum(c, 0)], -1)
    in_grid = cell >= 0
    ok = in_time & in_grid
    w = incidents["harm"].to_numpy(float) if weight == "harm" else np.ones(len(incidents))
    np.add.at(cube, (k[ok], cell[ok]), w[ok])
    info = {
        "used": int(ok.sum()),
        "outside_time": int((~in_time).sum()),
        "outside_grid": int((in_time & ~in_grid).sum()),
    }
    return cube, info


def emerging_hotspots(
    incidents: gpd.GeoDataFrame,
    grid: Grid,
    fim_date,
    config: TrendsConfig | None = None,
    *,
    timezone: str | None = None,
) -> EmergingResult:
    """Emerging-hotspot analysis of ``incidents`` on ``grid`` for the FIM date.

    ``incidents`` follows the Incidents contract (a GeoDataFrame in the grid's
    projected CRS; only ``x``, ``y``, ``start``, ``end``, ``time_precision``,
    and ``harm``/``crime_type`` when used, are read). ``config`` holds the
    ``[trends]`` settings (default :class:`TrendsConfig`); steps are calendar
    days in ``timezone`` (default Europe/London). Automatic choices (the step, the number of steps) are
    announced and kept in ``choices``. See the module docstring for the method
    and rules.
    """
    cfg = config or TrendsConfig()
    require_points(incidents, "emerging_hotspots: incidents")
    require_same_crs(("grid", grid), ("emerging_hotspots: incidents", incidents))
    tz = resolve_timezone(timezone)
    inc = incidents
    if cfg.crime_types:
        inc = inc[inc["crime_type"].isin(cfg.crime_types)]
    if len(inc) == 0:
        raise InputError(
            "Emerging-hotspot analysis received no incidents"
            + (f" of types {list(cfg.crime_types)}" if cfg.crime_types else "")
            + "; check the crime types and the date range."
        )
    precision = coarsest_precision(inc)
    if cfg.step == "days":
        require_precision(inc, "day", f"[trends] {cfg.step_days}-day steps", 'Use [trends] step = "month" or "auto".')
    data_start = inc["start"].min()
    plan = plan_steps(fim_date, precision, cfg, data_start, tz)
    cube, info = build_cube(inc, grid, plan, cfg.weight)
    rows, cols = np.nonzero(grid.mask)
    ptr, idx = grid_neighbours(grid.mask)
    z, _w = K.spacetime_gistar(kernel_array(cube, np.float64), ptr, idx, int(cfg.time_lags))
    p = _norm_sf2(z)
    if cfg.fdr == "step":
        q = bh_adjust(p, axis=1)
    elif cfg.fdr == "cube":
        q = bh_adjust(p)
    else:
        q = p.copy()
    sig = q < cfg.alpha
    hot = sig & (z > 0)
    cold = sig & (z < 0)
    # the first `time_lags` steps have a truncated neighbourhood (smaller |z| for the
    # same clustering), so the trend test starts after them when the series allows
    skip = cfg.time_lags if plan.n - cfg.time_lags >= 4 else 0
    ac = cfg.time_lags if cfg.trend_test == "yue_wang" else 0
    trend = mann_kendall(z[skip:].T, ac)
    count_trend = mann_kendall(cube.T, 0, with_slope=False)
    labels: tuple[str, ...]
    if cfg.scheme == "esri":
        codes = K.classify_esri(
            kernel_array(hot.T, np.bool_),
            kernel_array(cold.T, np.bool_),
            kernel_array(trend["p"], np.float64),
            kernel_array(trend["z"], np.float64),
            float(cfg.trend_alpha),
            float(cfg.share),
            float(cfg.historical_min_span),
            2,
            bool(cfg.historical == "extended"),
        )
        labels = ESRI_LABELS
    else:
        codes = classify_uk(hot.T, cfg.recent_steps, cfg.uk_hot_share)
        labels = UK_LABELS
    notes = [
        plan.note,
        f"space-time Gi*: queen neighbours, current and {cfg.time_lags} previous step(s), binary weights, "
        f"self included; mean/variance over the whole cube; hot/cold at FDR ({cfg.fdr}) alpha {cfg.alpha}",
        f"{info['used']} incidents in the cube; {info['outside_time']} outside the steps, "
        f"{info['outside_grid']} outside the grid",
    ]
    return EmergingResult(
        grid=grid,
        rows=rows,
        cols=cols,
        step_starts=plan.starts,
        step_ends=plan.ends,
        step_label=plan.label,
        counts=cube,
        z=z,
        p=p,
        q=q,
        hot=hot,
        cold=cold,
        trend=trend,
        count_trend=count_trend,
        codes=np.asarray(codes),
        labels=labels,
        scheme=cfg.scheme,
        config=cfg,
        notes=tuple(notes),
        choices=plan.choices,
    )
