"""A self-exciting point process (ETAS / SEPP) forecast, after Mohler et al. (2011, 2015).

The conditional intensity of incidents at place ``s`` (metres) and time ``t`` (days) is

    lambda(s, t) = mu * nu(s) + sum over earlier incidents i of  theta * f_t(t - t_i) * f_s(s - s_i)

* ``nu`` is the **background**: a smoothed long-run surface of the history (a decayed
  quartic KDE, or decayed cell counts), normalised to a density over the study area
  (per m²), with a share ``floor`` spread evenly; ``mu`` is the background rate
  (incidents per day);
* each incident **triggers** on average ``theta`` more (the branching ratio), at a lag
  exponential in time (rate ``omega`` per day, mean ``1 / omega`` days) and a displacement
  Gaussian in space (``sigma`` metres per axis), both truncated to ``max_lag_days`` and
  ``max_distance_m`` and renormalised there.

``mu, theta, omega, sigma`` are fitted by expectation-maximisation over the parent-child
probabilities of every pair within the truncation (:func:`fit_etas`; numba kernels in
:mod:`._etas_kernels`), with the exact M-step of the truncated kernels. The forecast for a
horizon is the expected count per cell: ``mu * nu * cell area * horizon`` plus the
triggered incidents still to come from each past incident (exact Gaussian integrals over the
cell). Day-precision times are spread uniformly over their day (seeded), so incidents of one
day can trigger each other; month-precision data is refused with a
:class:`~hotspots.errors.PrecisionError`.

:func:`simulate_etas` draws incidents from the same model (a Poisson background on a grid
surface plus branching offspring), which the tests use to check that the fit recovers known
parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..analysis.density import density_surface
from ..errors import InputError
from . import _etas_kernels as K
from .base import ForecastMethod
from .harness import to_days


@dataclass(frozen=True)
class EtasFit:
    """Fitted parameters: ``mu`` background incidents per day, ``theta`` branching ratio (triggered
    incidents per incident), ``omega`` decay rate per day (mean lag ``1 / omega`` days), ``sigma``
    spatial scale in metres; ``loglik`` the log-likelihood, ``n_iter`` EM iterations, ``converged``,
    ``n_events`` and ``n_pairs`` (candidate parent-child pairs), ``span_days`` the fitted window."""

    mu: float
    theta: float
    omega: float
    sigma: float
    loglik: float
    n_iter: int
    converged: bool
    n_events: int
    n_pairs: int
    span_days: float
    max_lag_days: float
    max_distance_m: float

    @property
    def mean_lag_days(self) -> float:
        return 1.0 / self.omega


def _solve_omega(mean_lag: float, max_lag: float) -> float:
    """omega with mean of the exponential truncated to (0, max_lag] equal to ``mean_lag``."""
    mean_lag = min(mean_lag, 0.5 * max_lag * (1 - 1e-9))

    def m(w):
        a = w * max_lag
        return 1.0 / w - max_lag / math.expm1(a) if a < 700 else 1.0 / w

    lo, hi = 1e-9 / max_lag, 1e6 / max_lag
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if m(mid) > mean_lag:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def _solve_sigma2(mean_d2: float, max_dist: float) -> float:
    """sigma² with mean squared distance of the 2-d Gaussian truncated to d <= max_dist equal to ``mean_d2``."""
    D2 = max_dist * max_dist
    mean_d2 = min(mean_d2, 0.5 * D2 * (1 - 1e-9))

    def m(s2):
        a = D2 / (2.0 * s2)
        return 2.0 * s2 - D2 / math.expm1(a) if a < 700 else 2.0 * s2

    lo, hi = 1e-12 * D2, 1e6 * D2
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if m(mid) < mean_d2:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def fit_etas(
    x,
    y,
    t,
    background,
    start: float,
    end: float,
    max_lag_days: float = 120.0,
    max_distance_m: float = 1000.0,
    init=(None, 0.2, 0.1, 100.0),
    max_iter: int = 500,
    tol: float = 1e-6,
    min_sigma_m: float = 0.0,
) -> EtasFit:
    """Fit ``mu, theta, omega, sigma`` by EM to incidents at ``x, y`` (metres), ``t`` (days) in
    ``[start, end)``.

    ``background``: the background density (per m², integrating to 1 over the area) at each
    incident. ``init``: starting ``(mu, theta, omega, sigma)`` (``mu`` None = half the mean rate).
    The candidate pairs are those within ``max_lag_days`` and ``max_distance_m``; the kernels are
    truncated there, so choose them well above the expected scales. ``min_sigma_m`` bounds the
    spatial scale from below: data whose incidents repeat at identical coordinates (addresses,
    anonymised block points) otherwise drive ``sigma`` to 0, where the likelihood is unbounded
    (the M-step for ``sigma`` is unimodal, so the bounded update is the constrained optimum).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    bg = np.asarray(background, dtype=np.float64)
    if not (x.size == y.size == t.size == bg.size):
        raise InputError("fit_etas: x, y, t and background need one value per incident.")
    if np.any((t < start) | (t >= end)):
        raise InputError("fit_etas: every incident time must lie in [start, end).")
    order = np.argsort(t, kind="stable")
    x, y, t, bg = x[order], y[order], t[order], bg[order]
    span = float(end - start)
    n = t.size
    _pi, pj, dt, d2 = K.candidate_pairs(t, x, y, float(max_lag_days), float(max_distance_m))
    mu = (0.5 * n / span) if init[0] is None else float(init[0])
    theta, omega, sigma = float(init[1]), float(init[2]), max(float(init[3]), min_sigma_m)
    remaining = np.minimum(end - t, max_lag_days)  # window left for each incident's offspring
    ll = -math.inf
    converged = False
    iterations = 0
    for _ in range(max_iter):
        iterations += 1
        s, s_dt, s_d2, s_bg, ll_events = K.em_sums(
            pj, dt, d2, bg, mu, theta, omega, sigma * sigma, float(max_lag_days), float(max_distance_m)
        )
        new_mu = s_bg / span
        if s > 0:
            new_omega = _solve_omega(s_dt / s, max_lag_days)
            new_sigma = max(math.sqrt(_solve_sigma2(s_d2 / s, max_distance_m)), min_sigma_m)
            exposure = float(np.sum(-np.expm1(-new_omega * remaining)) / -math.expm1(-new_omega * max_lag_days))
            new_theta = s / exposure
        else:
            new_omega, new_sigma, new_theta = omega, sigma, 0.0
        exposure_now = float(np.sum(-np.expm1(-omega * remaining)) / -math.expm1(-omega * max_lag_days))
        ll = ll_events - mu * span - theta * exposure_now
        change = max(
            abs(new_mu - mu) / max(mu, 1e-12),
            abs(new_theta - theta) / max(theta, 1e-3),
            abs(new_omega - omega) / omega,
            abs(new_sigma - sigma) / sigma,
        )
        mu, theta, omega, sigma = new_mu, new_theta, new_omega, new_sigma
        if change < tol:
            converged = True
            break
    return EtasFit(
        float(mu),
        float(theta),
        float(omega),
        float(sigma),
        float(ll),
        iterations,
        converged,
        n,
        int(pj.size),
        span,
        float(max_lag_days),
        float(max_distance_m),
    )


# --------------------------------------------------------------------------- background
def background_density(grid, surface: np.ndarray, floor: float = 0.01) -> np.ndarray:
    """A non-negative surface (nrows, ncols) as a density per m² over the masked cells, with a share
    ``floor`` spread evenly; 0 outside the mask."""
    s = np.where(grid.mask, np.nan_to_num(np.asarray(surface, dtype=float), nan=0.0), 0.0)
    s = np.maximum(s, 0.0)
    n = int(grid.mask.sum())
    tot = s.sum()
    share = s / tot if tot > 0 else np.where(grid.mask, 1.0 / n, 0.0)
    dens = ((1.0 - floor) * share + floor * grid.mask / n) / grid.cell_area_m2
    return np.where(grid.mask, dens, 0.0)


def density_at(grid, density: np.ndarray, x, y, outside: float) -> np.ndarray:
    """The density of the cell holding each point (``outside`` for points off the grid or outside the mask)."""
    row, col = grid.cell_index(x, y)
    ok = row >= 0
    out = np.full(np.asarray(x).shape, float(outside))
    vals = density[row[ok], col[ok]]
    out[ok] = np.where(grid.mask[row[ok], col[ok]], vals, outside)
    return out


# --------------------------------------------------------------------------- simulation
@dataclass(frozen=True, eq=False)
class SimulatedEvents:
    """Incidents drawn by :func:`simulate_etas`, sorted by time: ``x, y`` metres, ``t`` days in
    [0, days), ``parent`` index of the triggering incident (-1 = background), ``density`` the
    background density per m² on the grid used."""

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    parent: np.ndarray
    density: np.ndarray


def simulate_etas(
    grid, surface: np.ndarray, mu: float, theta: float, omega: float, sigma: float, days: float, seed: int = 0
) -> SimulatedEvents:
    """Draw incidents from the self-exciting model: a Poisson background of ``mu`` per day placed by
    ``surface`` (uniform within each cell of the grid's mask), and each incident's offspring,
    ``Poisson(theta)`` of them, ``Exp(omega)`` days later and ``N(0, sigma²)`` metres away per axis,
    generation after generation, up to ``days``. Offspring may fall outside the grid (kept)."""
    if not 0 <= theta < 1:
        raise InputError(f"simulate_etas: theta must be in [0, 1) for a stable process, got {theta}.")
    rng = np.random.default_rng(seed)
    dens = background_density(grid, surface, floor=0.0)
    p = (dens * grid.cell_area_m2).ravel()
    p = p / p.sum()
    n0 = rng.poisson(mu * days)
    cells = rng.choice(p.size, size=n0, p=p)
    r, c = np.divmod(cells, grid.ncols)
    xs = [grid.xmin + (c + rng.random(n0)) * grid.cell_size]
    ys = [grid.ymax - (r + rng.random(n0)) * grid.cell_size]
    ts = [rng.uniform(0.0, days, n0)]
    parents = [np.full(n0, -1, dtype=np.int64)]
    gen_x, gen_y, gen_t, gen_idx = xs[0], ys[0], ts[0], np.arange(n0)
    total = n0
    while gen_t.size:
        k = rng.poisson(theta, gen_t.size)
        par = np.repeat(np.arange(gen_t.size), k)
        m = par.size
        cx = gen_x[par] + rng.normal(0.0, sigma, m)
        cy = gen_y[par] + rng.normal(0.0, sigma, m)
        ct = gen_t[par] + rng.exponential(1.0 / omega, m)
        keep = ct < days
        cx, cy, ct, pidx = cx[keep], cy[keep], ct[keep], gen_idx[par[keep]]
        idx = np.arange(total, total + ct.size)
        total += ct.size
        xs.append(cx)
        ys.append(cy)
        ts.append(ct)
        parents.append(pidx)
        gen_x, gen_y, gen_t, gen_idx = cx, cy, ct, idx
    x, y, t, parent = (np.concatenate(a) for a in (xs, ys, ts, parents))
    order = np.argsort(t, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    parent = np.where(parent >= 0, rank[np.maximum(parent, 0)], -1)[order]
    return SimulatedEvents(x[order], y[order], t[order], parent, dens)


# --------------------------------------------------------------------------- forecast method
class SelfExciting(ForecastMethod):
    """ETAS / SEPP forecast (see the module docstring); needs day- or minute-precision times.

    Parameters: ``fit_window_days`` (days of history the triggering is fitted on);
    the background: quartic KDE of ``background_window_days`` of history with radius
    ``background_radius_m`` (0 = cell counts), each incident weighted
    ``0.5 ** (age / background_half_life_days)``, plus a uniform share ``floor``;
    ``max_lag_days`` / ``max_distance_m`` truncate the triggering kernel and ``min_sigma_m``
    bounds its spatial scale from below (see :func:`fit_etas`); ``random_state``
    seeds the spreading of day-precision times over their day.
    After ``fit``: ``fit_`` (:class:`EtasFit`) and ``background_`` (density per m²).
    """

    needs_day_precision = True
    display_name = "The self-exciting (ETAS) forecast"

    def __init__(
        self,
        fit_window_days: float = 730.0,
        background_window_days: float = 3653.0,
        background_radius_m: float = 0.0,
        background_half_life_days: float = 730.0,
        floor: float = 0.01,
        max_lag_days: float = 120.0,
        max_distance_m: float = 1000.0,
        min_sigma_m: float = 25.0,
        random_state: int = 0,
    ):
        self.min_sigma_m = min_sigma_m
        self.fit_window_days = fit_window_days
        self.background_window_days = background_window_days
        self.background_radius_m = background_radius_m
        self.background_half_life_days = background_half_life_days
        self.floor = floor
        self.max_lag_days = max_lag_days
        self.max_distance_m = max_distance_m
        self.random_state = random_state

    def _times(self, history, t):
        if history.precision != "day" or t.size == 0:
            return t
        rng = np.random.default_rng(self.random_state)
        return t + rng.uniform(-0.5, 0.5, t.size)  # a day-precision time is midday of its day

    def fit(self, history):
        self._start(history)
        self.horizon_ = history.horizon
        grid = history.grid
        o = history.origin_day
        bx, by, bt = history.events(o - self.background_window_days)
        w = np.power(0.5, (o - bt) / self.background_half_life_days)
        if bx.size and self.background_radius_m > 0:
            surf = np.nan_to_num(density_surface(bx, by, grid, float(self.background_radius_m), weights=w))
        else:
            surf = grid.counts(bx, by, w)
        self.background_ = background_density(grid, surf, self.floor)
        outside = self.floor / (int(grid.mask.sum()) * grid.cell_area_m2)
        x, y, t = history.events(o - self.fit_window_days)
        t = self._times(history, t)
        start = min(float(t.min()) if t.size else o, o - self.fit_window_days)
        # spread times may reach past the origin by under half a day: keep them inside the window
        t = np.minimum(t, o - 1e-9)
        self.fit_ = None
        if t.size >= 10:
            self.fit_ = fit_etas(
                x,
                y,
                t,
                density_at(grid, self.background_, x, y, outside),
                start,
                o,
                self.max_lag_days,
                self.max_distance_m,
                min_sigma_m=self.min_sigma_m,
            )
            self.events_ = (x, y, t)
        return self

    def predict(self, origin, horizon=None):
        self._check_origin(origin)
        grid = self.grid_
        o = to_days(origin)
        h = horizon if horizon is not None else self.horizon_
        e = to_days(h.end(origin))
        if self.fit_ is None:
            return self._on_grid(self.background_ * grid.cell_area_m2 * (e - o))
        f = self.fit_
        x, y, t = self.events_
        trig = K.triggered_counts(
            x,
            y,
            t,
            o,
            e,
            f.theta,
            f.omega,
            f.sigma,
            f.max_lag_days,
            f.max_distance_m,
            float(grid.xmin),
            float(grid.ymax),
            float(grid.cell_size),
            int(grid.nrows),
            int(grid.ncols),
        )
        return self._on_grid(f.mu * self.background_ * grid.cell_area_m2 * (e - o) + trig)
