"""Cell features for the learned risk model, computed only from the past.

Two kinds:

* **static** covariates of each grid cell that do not depend on time
  (:class:`CellContext`): distance to the nearest town centre and to the
  nearest road (metres; NaN when the study area has none), the ward each cell
  centre falls in and that ward's households;
* **dynamic** features at a cut-off date (:func:`dynamic_features`), built from
  a :class:`~hotspots.forecast.harness.History` cut at that date, so nothing
  at or after the cut can leak in: counts over several trailing windows, a
  time-decayed count, quartic KDE at several radii
  (:func:`hotspots.analysis.density.density_surface`), the prospective
  near-repeat score (day- or minute-precision data only), the cell's ward rate
  over the last year and the calendar month of the cut-off.

Dynamic features are cached in ``History.cache`` by (feature set, cut-off),
so each origin's features are computed once per backtest and reused as
training rows for the origins after it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.ndimage import uniform_filter

from ..analysis.density import density_surface
from ..analysis.prospective import prospective_surface
from .etas import SelfExciting
from .exposure import ExposureFeatures

#: Trailing windows (days) of the count features.
COUNT_WINDOWS_DAYS = (14, 28, 61, 91, 182, 365, 730, 1095)
#: KDE radii (metres) and window (days) of the density features.
KDE_RADII_M = (150.0, 300.0, 600.0)
KDE_WINDOW_DAYS = 1095
#: Half-lives (days) of the exponentially decayed counts.
DECAY_HALF_LIVES_DAYS = (91.0, 182.0, 365.0, 730.0, 1461.0)
MONTH_DAYS = 365.25 / 12.0


@dataclass(frozen=True, eq=False)
class CellContext:
    """Static covariates per grid cell (arrays of shape (nrows, ncols)).

    ``dist_town_centre_m`` / ``dist_road_m``: metres from the cell centre to the
    nearest town centre / road, or None when the study area has none.
    ``ward_index``: index into ``ward_codes`` of the ward holding the cell
    centre (-1 outside every ward); ``ward_households``: households per ward
    (NaN when unknown), aligned with ``ward_codes``; ``exposure``: named
    per-cell covariates from :mod:`.exposure` (None = none).
    """

    dist_town_centre_m: np.ndarray | None = None
    dist_road_m: np.ndarray | None = None
    ward_index: np.ndarray | None = None
    ward_codes: tuple[str, ...] = ()
    ward_households: np.ndarray | None = None
    #: further static covariates (address density, households, cameras ...; :mod:`.exposure`)
    exposure: ExposureFeatures | None = None

    def with_exposure(self, exposure: ExposureFeatures | None) -> CellContext:
        """The same context with these exposure features (replacing any it had)."""
        return dataclasses.replace(self, exposure=exposure)

    @classmethod
    def from_study_area(cls, study_area, grid) -> CellContext:
        """Covariates of ``grid`` cells from a :class:`~hotspots.model.StudyArea` (working CRS)."""
        xc, yc = grid.centres()
        pts = shapely.points(xc.ravel(), yc.ravel())
        dist_tc = dist_rd = None
        tc = getattr(study_area, "town_centres", None)
        if tc is not None and len(tc):
            geoms = tc.to_crs(grid.crs).geometry.to_numpy() if tc.crs else tc.geometry.to_numpy()
            dist_tc = _nearest_distance(pts, geoms).reshape(grid.shape)
        roads = getattr(study_area, "roads", None)
        if roads is not None and len(roads):
            geoms = roads.to_crs(grid.crs).geometry.to_numpy() if roads.crs else roads.geometry.to_numpy()
            dist_rd = _nearest_distance(pts, geoms).reshape(grid.shape)
        wards = getattr(study_area, "wards", None)
        ward_index = None
        codes: tuple[str, ...] = ()
        hh = None
        if wards is not None and len(wards):
            codes = tuple(wards["ward_code"].astype(str))
            tree = shapely.STRtree(wards.geometry.to_numpy())
            pi, wi = tree.query(pts, predicate="intersects")
            idx = np.full(pts.size, -1, dtype=np.int64)
            # first ward wins on shared edges (query output is sorted by point)
            first = np.unique(pi, return_index=True)[1]
            idx[pi[first]] = wi[first]
            ward_index = idx.reshape(grid.shape)
            hh = wards["households"].to_numpy(float) if "households" in wards.columns else np.full(len(codes), np.nan)
        return cls(dist_tc, dist_rd, ward_index, codes, hh)


def _nearest_distance(points, geoms) -> np.ndarray:
    geoms = np.asarray([g for g in geoms if g is not None and not g.is_empty])
    if geoms.size == 0:
        return np.full(points.size, np.nan)
    tree = shapely.STRtree(geoms)
    _idx, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    return np.asarray(dist, dtype=float)


def static_features(context: CellContext | None, grid) -> tuple[list[str], list[np.ndarray]]:
    """Static feature columns over the masked cells (names, list of 1-d arrays)."""
    names: list[str] = []
    cols: list[np.ndarray] = []
    if context is None:
        return names, cols
    m = grid.mask
    if context.dist_town_centre_m is not None:
        names.append("dist_town_centre_m")
        cols.append(context.dist_town_centre_m[m])
    if context.dist_road_m is not None:
        names.append("dist_road_m")
        cols.append(context.dist_road_m[m])
    if context.exposure is not None:
        for n, v in zip(context.exposure.names, context.exposure.values, strict=True):
            names.append(n)
            cols.append(v[m])
    return names, cols


def _ward_rate(history, context: CellContext | None, grid, start: float) -> np.ndarray | None:
    """Incidents in the cell's ward since ``start`` per 1,000 households (per cell of the ward
    when households are unknown), one value per masked cell."""
    if context is None or context.ward_index is None or not context.ward_codes:
        return None
    x, y, _t = history.events(start)
    nw = len(context.ward_codes)
    widx = context.ward_index
    row, col = grid.cell_index(x, y)
    ok = row >= 0
    w_of_event = widx[row[ok], col[ok]]
    w_of_event = w_of_event[w_of_event >= 0]
    counts = np.bincount(w_of_event, minlength=nw).astype(float)
    hh = context.ward_households if context.ward_households is not None else np.full(nw, np.nan)
    cells = np.bincount(widx[grid.mask & (widx >= 0)], minlength=nw).astype(float)
    rate = np.where(
        np.isfinite(hh) & (hh > 0), counts / np.where(hh > 0, hh, 1.0) * 1000.0, counts / np.maximum(cells, 1.0)
    )
    wm = widx[grid.mask]
    return np.where(wm >= 0, rate[np.maximum(wm, 0)], np.nan)


def distinct_places(grid, x, y, resolution_m: float = 1.0) -> np.ndarray:
    """Distinct incident locations (rounded to ``resolution_m`` metres) per cell, shape (nrows, ncols).

    On police.uk data these are the anonymous map points in use: a cell without one cannot
    receive an incident."""
    row, col = grid.cell_index(x, y)
    ok = row >= 0
    if not ok.any():
        return np.zeros(grid.shape)
    q = np.stack(
        [
            row[ok] * grid.ncols + col[ok],
            np.floor(x[ok] / resolution_m + 0.5).astype(np.int64),
            np.floor(y[ok] / resolution_m + 0.5).astype(np.int64),
        ],
        axis=1,
    )
    cells = np.unique(q, axis=0)[:, 0]
    return np.bincount(cells, minlength=grid.nrows * grid.ncols).astype(float).reshape(grid.shape)


def dynamic_features(
    history,
    with_prospective: bool = True,
    kde_radii_m=KDE_RADII_M,
    count_windows_days=COUNT_WINDOWS_DAYS,
    kde_window_days: int = KDE_WINDOW_DAYS,
    half_life_days: float = 365.0,
    with_places: bool = False,
    with_etas: bool = False,
    with_rings: bool = False,
    exposure_radii_m=(),
    with_exposure_rates: bool = False,
    with_ranks: bool = False,
) -> tuple[list[str], np.ndarray]:
    """Features of every masked cell at ``history.origin`` (names, array (n_masked, p)).

    ``with_places`` adds the distinct incident locations per cell over the last 1 and 3 years
    (:func:`distinct_places`); ``with_etas`` (day- or minute-precision data) the self-exciting
    process's expected count per cell over the next horizon (:class:`~.etas.SelfExciting`
    fitted at the cut-off); ``with_rings`` the multi-scale neighbourhood and recency features of
    :func:`ring_features`; ``exposure_radii_m`` (metres) the context's per-cell exposure counts
    summed over squares of cells around each cell (:func:`exposure_ring_features`);
    ``with_exposure_rates`` the decayed incident counts per exposure unit in the cell and in those
    squares (:func:`exposure_rate_features`); ``with_ranks`` the percentile ranks of the long-run
    counts among the area's cells at the cut-off (:func:`rank_features`).

    Cached in ``history.cache`` under a key of the data (:meth:`History.data_key`: the known
    incidents, the cut-off, the grid and the cell context) and the feature settings.
    """
    key = (
        "features",
        history.data_key(),
        with_prospective,
        tuple(kde_radii_m),
        tuple(count_windows_days),
        kde_window_days,
        half_life_days,
        with_places,
        with_etas,
        with_rings,
        tuple(float(r) for r in exposure_radii_m),
        with_exposure_rates,
        with_ranks,
    )
    hit = history.cache.get(key)
    if hit is not None:
        return hit

    grid = history.grid
    m = grid.mask
    o = history.origin_day
    month_data = history.precision == "month"
    names: list[str] = []
    cols: list[np.ndarray] = []
    x, y, t = history.events(o - max(max(count_windows_days), kde_window_days, 3650))
    for w in count_windows_days:
        if month_data and w < 28:
            continue  # shorter than the data's resolution
        sel = t >= o - w
        names.append(f"count_{w}d")
        cols.append(grid.counts(x[sel], y[sel])[m])
    # exponentially decayed counts over ten years (all of it for shorter histories)
    for hl in (half_life_days, *(h for h in DECAY_HALF_LIVES_DAYS if h != half_life_days)):
        wts = np.exp(-np.log(2.0) * (o - t) / hl)
        names.append(f"decayed_count_hl{hl:g}d")
        cols.append(grid.counts(x, y, wts)[m])
    # persistence: in how many of the last 12 (and 36) months the cell had an incident
    age = o - t
    for n_months in (12, 36):
        b = np.floor(age / MONTH_DAYS).astype(np.int64)
        sel = b < n_months
        row, col = grid.cell_index(x[sel], y[sel])
        ok = row >= 0
        flat = (row[ok] * grid.ncols + col[ok]) * n_months + b[sel][ok]
        active = np.zeros(grid.nrows * grid.ncols * n_months, dtype=bool)
        active[np.unique(flat)] = True
        names.append(f"active_months_{n_months}")
        cols.append(active.reshape(grid.nrows * grid.ncols, n_months).sum(axis=1).reshape(grid.shape)[m])
    # the 3 x 3 block of cells around each cell, last year

    c365 = grid.counts(x[age <= 365.25], y[age <= 365.25])
    names.append("block3x3_count_365d")
    cols.append(uniform_filter(c365, size=3, mode="constant")[m] * 9.0)
    if with_rings:
        rn, rc = ring_features(grid, x, y, t, o)
        names += rn
        cols += [c[m] for c in rc]
    if with_places:
        for w in (365, 1095):
            sel = t >= o - w
            names.append(f"places_{w}d")
            cols.append(distinct_places(grid, x[sel], y[sel])[m])
    sel = t >= o - kde_window_days
    for r in kde_radii_m:
        names.append(f"kde_{r:g}m_{kde_window_days}d")
        if sel.any():
            cols.append(np.nan_to_num(density_surface(x[sel], y[sel], grid, float(r))[m]))
        else:
            cols.append(np.zeros(int(m.sum())))
    sel = t >= o - 365
    r = kde_radii_m[len(kde_radii_m) // 2]
    names.append(f"kde_{r:g}m_365d")
    cols.append(
        np.nan_to_num(density_surface(x[sel], y[sel], grid, float(r))[m]) if sel.any() else np.zeros(int(m.sum()))
    )
    if with_prospective and not month_data:
        for bw_m, bw_d in ((400.0, 56.0), (200.0, 14.0)):
            names.append(f"prospective_{bw_m:g}m_{bw_d:g}d")
            cols.append(prospective_risk(history, bw_m, bw_d)[m])
    if with_etas and not month_data:
        est = SelfExciting().fit(history)
        names.append("etas_expected")
        cols.append(np.nan_to_num(est.predict(history.origin, history.horizon))[m])
    en, ec = _exposure_and_rank_features(
        history, names, cols, (x, y, t), exposure_radii_m, with_exposure_rates, with_ranks
    )
    names += en
    cols += ec
    wr = _ward_rate(history, history.context, grid, o - 365)
    if wr is not None:
        names.append("ward_rate_365d")
        cols.append(wr)
    sn, sc = static_features(history.context, grid)
    names += sn
    cols += sc
    month = pd.Timestamp(history.origin).month
    names += ["month_sin", "month_cos"]
    n = int(m.sum())
    cols += [np.full(n, np.sin(2 * np.pi * month / 12.0)), np.full(n, np.cos(2 * np.pi * month / 12.0))]
    out = (names, np.column_stack(cols).astype(np.float64))
    history.cache[key] = out
    return out


#: Neighbourhood radii (metres) of :func:`ring_features`.
RING_RADII_M = (200.0, 400.0)
#: Cap (days) of the recency features when a cell has never had an incident.
RECENCY_CAP_DAYS = 3650.0


def block_sum(a: np.ndarray, half: int) -> np.ndarray:
    """Sum of ``a`` over the square of ``2 * half + 1`` cells centred on each cell (zeros beyond the edge)."""
    if half <= 0:
        return np.asarray(a, dtype=float).copy()
    c = np.cumsum(np.cumsum(np.pad(np.asarray(a, dtype=float), ((1, 0), (1, 0))), axis=0), axis=1)
    nr, nc = a.shape
    r0 = np.clip(np.arange(nr) - half, 0, nr)
    r1 = np.clip(np.arange(nr) + half + 1, 0, nr)
    c0 = np.clip(np.arange(nc) - half, 0, nc)
    c1 = np.clip(np.arange(nc) + half + 1, 0, nc)
    return c[np.ix_(r1, c1)] - c[np.ix_(r0, c1)] - c[np.ix_(r1, c0)] + c[np.ix_(r0, c0)]


def ring_features(grid, x, y, t, origin_day: float, radii_m=RING_RADII_M) -> tuple[list[str], list[np.ndarray]]:
    """Multi-scale neighbourhood and recency features at a cut-off (arrays of shape (nrows, ncols)).

    ``x, y`` metres in the grid's CRS and ``t`` float days of the incidents known before
    ``origin_day``. For each radius ``r`` in ``radii_m`` (metres), the square of cells whose
    centres lie within ``r`` of the cell's centre along each axis (``2 * floor(r / cell) + 1``
    cells a side): its incidents over the last 365 days (``ring<r>m_count_365d``) and its
    incidents over ten years each weighted ``0.5 ** (age / 730 days)`` (``ring<r>m_decayed_hl730d``).
    Recency: days since the cell's latest incident (``days_since_last``) and since the latest in
    its 3 x 3 block (``days_since_last_block3x3``), capped at 3,650 days (also when there is none).
    """
    names: list[str] = []
    cols: list[np.ndarray] = []
    age = origin_day - np.asarray(t, dtype=float)
    c365 = grid.counts(x[age <= 365.0], y[age <= 365.0])
    dec = grid.counts(x, y, np.power(0.5, age / 730.0))
    for r in radii_m:
        half = int(np.floor(float(r) / grid.cell_size + 1e-9))
        names += [f"ring{r:g}m_count_365d", f"ring{r:g}m_decayed_hl730d"]
        cols += [block_sum(c365, half), block_sum(dec, half)]
    row, col = grid.cell_index(x, y)
    ok = row >= 0
    latest = np.full(grid.nrows * grid.ncols, -np.inf)
    np.maximum.at(latest, row[ok] * grid.ncols + col[ok], -age[ok])
    latest = latest.reshape(grid.shape)  # minus the age of the latest incident; -inf: none
    padded = np.pad(latest, 1, constant_values=-np.inf)
    block = np.max(
        [padded[i : i + grid.nrows, j : j + grid.ncols] for i in range(3) for j in range(3)],
        axis=0,
    )
    names += ["days_since_last", "days_since_last_block3x3"]
    cols += [np.minimum(-latest, RECENCY_CAP_DAYS), np.minimum(-block, RECENCY_CAP_DAYS)]
    return names, cols


def _exposure_and_rank_features(
    history, names, cols, xyt, exposure_radii_m, with_exposure_rates: bool, with_ranks: bool
) -> tuple[list[str], list[np.ndarray]]:
    """The optional rank, exposure-square and incidents-per-exposure columns over the masked cells
    (``names`` / ``cols``: the features so far; ``xyt``: the known incidents)."""
    m = history.grid.mask
    out_n: list[str] = []
    out_c: list[np.ndarray] = []
    if with_ranks:
        out_n, out_c = rank_features(names, cols)
    exposure = history.context.exposure if history.context is not None else None
    if exposure is None:
        return out_n, out_c
    if len(exposure_radii_m):
        en, ec = exposure_ring_features(exposure, history.grid, exposure_radii_m)
        out_n += en
        out_c += [c[m] for c in ec]
    if with_exposure_rates:
        x, y, t = xyt
        en, ec = exposure_rate_features(exposure, history.grid, x, y, t, history.origin_day, exposure_radii_m)
        out_n += en
        out_c += [c[m] for c in ec]
    return out_n, out_c


#: The long-run counts whose percentile ranks :func:`rank_features` adds.
RANKED_FEATURES = ("count_365d", "count_1095d", "decayed_count_hl730d", "decayed_count_hl1461d", "active_months_36")
#: Half-life (days) of the decayed incident counts in :func:`exposure_rate_features`.
EXPOSURE_RATE_HALF_LIFE_DAYS = 730.0


def rank_features(names, cols) -> tuple[list[str], list[np.ndarray]]:
    """Percentile ranks among the area's cells of the features named in :data:`RANKED_FEATURES`.

    ``names`` and ``cols`` are feature names and 1-d arrays over the masked cells at one cut-off.
    Each rank is the mean rank of the tied cells divided by the number of cells (in (0, 1]; the
    highest count ranks 1), ``rank_<name>``: a scale that stays put when the borough's total rises
    or falls from one year to the next."""
    from scipy.stats import rankdata

    have = dict(zip(names, cols, strict=True))
    out_n: list[str] = []
    out_c: list[np.ndarray] = []
    for n in RANKED_FEATURES:
        if n in have:
            v = np.asarray(have[n], dtype=float)
            out_n.append(f"rank_{n}")
            out_c.append(rankdata(v, method="average") / max(v.size, 1))
    return out_n, out_c


def _square_half(radius_m: float, cell_m: float) -> int:
    """Cells either side of a cell in the square of cells whose centres lie within ``radius_m``."""
    return int(np.floor(float(radius_m) / cell_m + 1e-9))


def _per_cell_names(exposure: ExposureFeatures) -> list[tuple[str, np.ndarray]]:
    """The exposure counts per cell (features named ``<what>_per_cell``) as (what, values)."""
    return [
        (n.removesuffix("_per_cell"), v)
        for n, v in zip(exposure.names, exposure.values, strict=True)
        if n.endswith("_per_cell")
    ]


def exposure_ring_features(exposure: ExposureFeatures, grid, radii_m) -> tuple[list[str], list[np.ndarray]]:
    """Exposure counts over squares of cells (arrays of shape (nrows, ncols)).

    For each exposure feature ``<what>_per_cell`` (postcode centroids, households: :mod:`.exposure`)
    and each radius ``r`` in ``radii_m`` (metres), its sum over the square of cells whose centres lie
    within ``r`` of the cell's centre along each axis (``2 * floor(r / cell) + 1`` cells a side):
    ``<what>_sq<r>m``. Static: the same at every cut-off."""
    names: list[str] = []
    cols: list[np.ndarray] = []
    for what, v in _per_cell_names(exposure):
        for r in radii_m:
            names.append(f"{what}_sq{float(r):g}m")
            cols.append(block_sum(np.nan_to_num(v), _square_half(r, grid.cell_size)))
    return names, cols


def exposure_rate_features(
    exposure: ExposureFeatures, grid, x, y, t, origin_day: float, radii_m=()
) -> tuple[list[str], list[np.ndarray]]:
    """Incidents per exposure unit (arrays of shape (nrows, ncols)).

    ``x, y`` metres in the grid's CRS and ``t`` float days of the incidents known before
    ``origin_day``, each weighted ``0.5 ** (age / 730 days)``. For each exposure feature
    ``<what>_per_cell`` and each square (the cell itself, then the squares of ``radii_m`` metres as in
    :func:`exposure_ring_features`): the decayed incidents in the square divided by one plus the
    exposure in it, ``decayed_per_<what>_sq<r>m`` (``r`` = 0 for the cell itself). A cell with many
    homes and few burglaries and one with few homes and the same burglaries differ here."""
    age = origin_day - np.asarray(t, dtype=float)
    dec = grid.counts(x, y, np.power(0.5, age / EXPOSURE_RATE_HALF_LIFE_DAYS))
    names: list[str] = []
    cols: list[np.ndarray] = []
    radii = (0.0, *(float(r) for r in radii_m if float(r) > 0))
    for what, v in _per_cell_names(exposure):
        v = np.nan_to_num(v)
        for r in radii:
            half = _square_half(r, grid.cell_size)
            names.append(f"decayed_per_{what}_sq{r:g}m")
            cols.append(block_sum(dec, half) / (1.0 + block_sum(v, half)))
    return names, cols


def prospective_risk(history, bandwidth_m: float = 400.0, bandwidth_days: float = 56.0) -> np.ndarray:
    """Prospective near-repeat risk at ``history.origin`` on the grid (NaN outside the area).

    Uses :func:`hotspots.analysis.prospective.prospective_surface` with times in days
    since 1970 and ``at_day`` the origin (its default distance and time bands).
    """
    o = history.origin_day
    x, y, t = history.events(o - bandwidth_days - 1.0)
    surf = np.asarray(
        prospective_surface(x, y, t, history.grid, o, bandwidth_m=bandwidth_m, bandwidth_days=bandwidth_days),
        dtype=float,
    )
    surf = np.nan_to_num(surf)
    surf[~history.grid.mask] = 0.0
    return surf
