"""Forecast methods: each turns the past into a risk surface for the next horizon.

Every method is a small object in the scikit-learn style: the constructor only
stores its parameters, ``fit(history)`` reads a
:class:`~hotspots.forecast.harness.History` (the incidents known before the
origin, nothing else) and ``predict(origin, horizon)`` returns the risk of each
grid cell as an array of shape (nrows, ncols), NaN outside the study area.
Higher risk = task first. After ``fit`` each method records ``history_end_``,
the end (float days since 1970 UTC) of the latest incident window it read; the
harness refuses a forecast whose ``history_end_`` is not before its origin.

Methods
    ``NaiveCounts``       incidents per cell over a trailing window (days).
    ``RetrospectiveKDE``  quartic KDE of a trailing window; radius by the spatial
                          Silverman rule unless given (metres).
    ``DecayedKDE``        quartic KDE of many years of history with each incident
                          weighted by ``0.5 ** (age / half_life_days)``; a small
                          radius (or 0 = plain cell counts) keeps the detail of
                          long-run hot streets.
    ``Prospective``       the near-repeat (Bowers-Johnson-Pease) prospective surface
                          of :mod:`hotspots.analysis` at the origin (needs day precision).
    ``GiStarHot``         Getis-Ord Gi* z-scores of trailing-window cell counts.
    ``LearnedRisk``       a seeded ``HistGradientBoostingRegressor(loss="poisson")``
                          on past-only cell features (:mod:`.features`), trained on
                          earlier origins inside the history.
    ``Blend``             a weighted mean of other methods' surfaces, each scaled to sum to 1.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from ..analysis.density import density_surface, silverman_radius
from ..analysis.gistar import gistar_grid
from ..config.sections import FORECAST_METHOD_HELP, RELOCATED_SUFFIX, parse_forecast_method
from ..errors import ConfigError, InputError
from .base import ForecastMethod
from .etas import SelfExciting
from .features import dynamic_features, prospective_risk
from .harness import fitted_model, forecast_surface, refit_origin, to_days
from .locations import Relocated
from .trees import FittedModels, from_sklearn

MONTH_DAYS = 365.25 / 12.0


class NaiveCounts(ForecastMethod):
    """Incidents per cell in the ``window_days`` days before the origin."""

    def __init__(self, window_days: float = 365.0):
        self.window_days = window_days

    def fit(self, history):
        self._start(history)
        self.surface_ = history.counts(history.origin_day - self.window_days)
        return self

    def predict(self, origin, horizon=None):
        self._check_origin(origin)
        return self._on_grid(self.surface_)


class RetrospectiveKDE(ForecastMethod):
    """Quartic KDE (incidents per km²) of the ``window_days`` before the origin.

    ``radius_m`` 0 chooses the radius by the spatial Silverman rule
    (:func:`hotspots.analysis.density.silverman_radius`), clamped to
    [``min_radius_m``, ``max_radius_m``].
    """

    def __init__(
        self,
        radius_m: float = 0.0,
        window_days: float = 365.0,
        min_radius_m: float = 100.0,
        max_radius_m: float = 1500.0,
    ):
        self.radius_m = radius_m
        self.window_days = window_days
        self.min_radius_m = min_radius_m
        self.max_radius_m = max_radius_m

    def fit(self, history):
        self._start(history)
        x, y, _t = history.events(history.origin_day - self.window_days)
        if x.size < 2:
            self.radius_used_ = float(self.radius_m or self.min_radius_m)
            self.surface_ = history.grid.counts(x, y)
            return self
        r = self.radius_m if self.radius_m > 0 else silverman_radius(x, y)
        self.radius_used_ = float(min(max(r, self.min_radius_m), self.max_radius_m))
        self.surface_ = density_surface(x, y, history.grid, self.radius_used_)
        return self

    def predict(self, origin, horizon=None):
        self._check_origin(origin)
        return self._on_grid(self.surface_)


class DecayedKDE(ForecastMethod):
    """Long-run, time-decayed quartic KDE.

    Incidents of the last ``window_days`` days each weigh ``0.5 ** (age_days /
    half_life_days)``; ``radius_m`` 0 gives weighted cell counts instead of a
    kernel surface. ``short_weight`` > 0 blends in the last ``short_days`` of
    plain counts (as a share of the total weight) so that a new cluster is not
    drowned by the long run.
    """

    def __init__(
        self,
        radius_m: float = 150.0,
        half_life_days: float = 730.0,
        window_days: float = 3653.0,
        short_days: float = 91.0,
        short_weight: float = 0.0,
    ):
        self.radius_m = radius_m
        self.half_life_days = half_life_days
        self.window_days = window_days
        self.short_days = short_days
        self.short_weight = short_weight

    def fit(self, history):
        self._start(history)
        o = history.origin_day
        x, y, t = history.events(o - self.window_days)
        w = np.power(0.5, (o - t) / self.half_life_days) if math.isfinite(self.half_life_days) else np.ones_like(t)
        grid = history.grid

        def surf(xx, yy, ww):
            if xx.size == 0:
                return np.zeros(grid.shape)
            if self.radius_m > 0:
                return np.nan_to_num(density_surface(xx, yy, grid, float(self.radius_m), weights=ww))
            return grid.counts(xx, yy, ww)

        s = surf(x, y, w)
        if self.short_weight > 0:
            sel = t >= o - self.short_days
            s2 = surf(x[sel], y[sel], np.ones(int(sel.sum())))
            a, b = s[grid.mask].sum(), s2[grid.mask].sum()
            if a > 0 and b > 0:
                s = (1 - self.short_weight) * s / a + self.short_weight * s2 / b
        self.surface_ = s
        return self

    def predict(self, origin, horizon=None):
        self._check_origin(origin)
        return self._on_grid(self.surface_)


class Prospective(ForecastMethod):
    """Near-repeat prospective surface at the origin (``bandwidth_m`` metres, ``bandwidth_days`` days)."""

    needs_day_precision = True
    display_name = "The prospective near-repeat surface"

    def __init__(self, bandwidth_m: float = 400.0, bandwidth_days: float = 56.0):
        self.bandwidth_m = bandwidth_m
        self.bandwidth_days = bandwidth_days

    def fit(self, history):
        self._start(history)
        self.surface_ = prospective_risk(history, self.bandwidth_m, self.bandwidth_days)
        return self

    def predict(self, origin, horizon=None):
        self._check_origin(origin)
        return self._on_grid(self.surface_)


class GiStarHot(ForecastMethod):
    """Gi* z-score of trailing-window cell counts as risk (queen neighbours unless ``band_m``)."""

    def __init__(self, window_days: float = 365.0, band_m: float = 0.0):
        self.window_days = window_days
        self.band_m = band_m

    def fit(self, history):
        self._start(history)
        counts = history.counts(history.origin_day - self.window_days)
        if counts[history.grid.mask].sum() <= 0:
            self.surface_ = np.zeros(history.grid.shape)
            return self
        res = gistar_grid(counts, history.grid, band_m=self.band_m)
        self.surface_ = np.nan_to_num(res.to_array(res.z), nan=-np.inf)
        return self

    def predict(self, origin, horizon=None):
        self._check_origin(origin)
        return self._on_grid(self.surface_)


class LearnedRisk(ForecastMethod):
    """Gradient-boosted Poisson regression of next-horizon counts on past-only cell features.

    Training rows: every masked cell at each of the ``n_train_origins`` origins
    before the forecast origin (stepping back one horizon at a time), with
    features computed at that earlier origin and the label its count over the
    next ``label_horizons`` horizons (more than one smooths the label's Poisson
    noise; the model then predicts a rate over that span, which ranks cells the
    same way); every label ends no later than the forecast origin. The model is
    ``HistGradientBoostingRegressor(loss="poisson", random_state=...)``, fitted
    with ``n_threads`` OpenMP threads. Predictions are expected counts per cell
    over ``label_horizons`` horizons. ``with_exposure``: use the context's exposure
    covariates when it has them (:mod:`.exposure`); ``with_places``: add the distinct
    incident locations per cell over the last 1 and 3 years (map points in use, on
    police.uk data); ``with_etas``: add the self-exciting process's expected count (day- or
    minute-precision data); ``with_rings``: add the multi-scale neighbourhood counts (200 and
    400 m squares) and the days since the latest incident in the cell and its 3 x 3 block
    (:func:`.features.ring_features`). ``n_seeds`` > 1 fits that many models with seeds
    ``random_state``, ``random_state + 1``, ... (each holds out its own random tenth of the rows
    to stop early) and predicts their mean: a deterministic ensemble that averages out the
    hold-out's noise. ``max_bins``: the boosting's histogram bins per feature (at most 255).
    ``monotone_increasing``: feature names (see :func:`.features.dynamic_features`, e.g.
    ``"count_365d"``) on which the forecast may only rise (the boosting's monotonic constraint);
    a name the model does not compute raises ``ConfigError``.
    ``exposure_radii_m`` (metres; empty = none): the context's exposure counts per cell (postcode
    centroids, households) summed over squares of cells within each radius
    (:func:`.features.exposure_ring_features`); ``with_exposure_rates``: incidents (decayed with a
    two-year half-life) per exposure unit in the cell and those squares
    (:func:`.features.exposure_rate_features`); both need ``with_exposure`` and a context with
    exposure. ``with_ranks``: percentile ranks of the long-run counts among the area's cells
    (:func:`.features.rank_features`).
    ``refit_every`` > 1 (horizons): the model is fitted only at refit dates
    (:func:`.harness.refit_origin`, fixed calendar dates) and used at the origins up to the next
    one with the features recomputed at each; its labels end at the refit date, never after the
    origin. The fit is kept in the history's cache (:func:`.harness.fitted_model`), so the
    origins that share it and the next meeting's run reuse it.
    """

    def __init__(
        self,
        n_train_origins: int = 12,
        with_prospective: bool = True,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 100,
        l2_regularization: float = 1.0,
        random_state: int = 0,
        n_threads: int = 1,
        label_horizons: int = 1,
        with_places: bool = False,
        with_exposure: bool = True,
        with_etas: bool = False,
        with_rings: bool = False,
        n_seeds: int = 1,
        max_bins: int = 255,
        monotone_increasing: tuple[str, ...] = (),
        refit_every: int = 1,
        exposure_radii_m: tuple[float, ...] = (),
        with_exposure_rates: bool = False,
        with_ranks: bool = False,
    ):
        self.exposure_radii_m = exposure_radii_m
        self.with_exposure_rates = with_exposure_rates
        self.with_ranks = with_ranks
        self.refit_every = refit_every
        self.max_bins = max_bins
        self.monotone_increasing = monotone_increasing
        self.with_rings = with_rings
        self.n_seeds = n_seeds
        self.with_etas = with_etas
        self.with_places = with_places
        self.with_exposure = with_exposure
        self.n_train_origins = n_train_origins
        self.label_horizons = label_horizons
        self.with_prospective = with_prospective
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state
        self.n_threads = n_threads

    def _features(self, history):
        names, X = dynamic_features(
            history,
            with_prospective=self.with_prospective,
            with_places=self.with_places,
            with_etas=self.with_etas,
            with_rings=self.with_rings,
            exposure_radii_m=tuple(self.exposure_radii_m) if self.with_exposure else (),
            with_exposure_rates=self.with_exposure_rates and self.with_exposure,
            with_ranks=self.with_ranks,
        )
        ctx = history.context
        if not self.with_exposure and ctx is not None and ctx.exposure is not None:
            keep = [i for i, n in enumerate(names) if n not in ctx.exposure.names]
            names, X = [names[i] for i in keep], X[:, keep]
        return names, X

    def fit(self, history):
        self._start(history)
        names, X_now = self._features(history)
        self.feature_names_ = names
        self.X_now_ = X_now
        key = ("LearnedRisk.models", {k: v for k, v in self.get_params().items() if k != "refit_every"})
        at = refit_origin(history.origin, history.horizon, self.refit_every)
        fitted = fitted_model(key, history if at >= history.origin else history.until(at), self._train)
        if not fitted.ensembles and at < history.origin:  # too little history at the refit date
            fitted = fitted_model(key, history, self._train)
        self.fitted_ = fitted
        self.n_train_rows_ = fitted.n_train_rows
        self.model_ = fitted.ensembles[0] if fitted.ensembles else None
        return self

    def _train(self, history) -> FittedModels:
        """The models fitted at ``history``'s origin (no model: too little history to learn from)."""
        H = history.horizon
        mask = history.grid.mask
        first = history.first_day
        names: list[str] = []
        Xs, ys = [], []
        L = max(1, int(self.label_horizons))
        for k in range(L, int(self.n_train_origins) + L):
            o_k = H.step_back(history.origin, k)
            end_k = H.step_back(history.origin, k - L)  # label: the next L horizons, ending by the origin
            if to_days(o_k) - first < 365:  # features need a year of history
                break
            names, X = self._features(history.until(o_k))  # the same names at every cut-off
            y = history.counts(to_days(o_k), to_days(end_k))[mask]
            Xs.append(X)
            ys.append(y)
        n_rows = int(sum(len(y) for y in ys))
        if not ys or sum(float(y.sum()) for y in ys) <= 0:
            return FittedModels((), n_rows)  # the forecast falls back to the decayed count
        X = np.vstack(Xs)
        y = np.concatenate(ys)
        cst = monotone_constraints(names, self.monotone_increasing)
        models = []
        for i in range(max(1, int(self.n_seeds))):
            model = HistGradientBoostingRegressor(
                loss="poisson",
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2_regularization,
                max_bins=self.max_bins,
                monotonic_cst=cst,
                random_state=self.random_state + i,
            )
            with _threads(self.n_threads):
                models.append(from_sklearn(model.fit(X, y)))
        return FittedModels(tuple(models), n_rows)

    def predict(self, origin, horizon=None):
        self._check_origin(origin)
        mask = self.grid_.mask
        out = np.full(self.grid_.shape, np.nan)
        if self.model_ is None:
            j = next(i for i, n in enumerate(self.feature_names_) if n.startswith("decayed_count"))
            out[mask] = self.X_now_[:, j]
        else:
            out[mask] = np.mean([mdl.predict(self.X_now_) for mdl in self.fitted_.ensembles], axis=0)
        return out


def monotone_constraints(names, increasing) -> list[int] | None:
    """The boosting's ``monotonic_cst`` for feature ``names``: 1 for each name in ``increasing``, 0
    for the others; None when ``increasing`` is empty. Raises ``ConfigError`` naming a feature the
    model does not compute."""
    if not increasing:
        return None
    unknown = sorted(set(increasing) - set(names))
    if unknown:
        raise ConfigError(
            f"LearnedRisk monotone_increasing: no feature named {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(names)}."
        )
    inc = set(increasing)
    return [1 if n in inc else 0 for n in names]


def _threads(n: int):
    """Limit OpenMP threads while boosting (``n`` <= 0: leave the library default). On a shared
    machine a single thread avoids OpenMP spin-waiting, which can slow the fit many times over."""
    if n <= 0:
        return contextlib.nullcontext()

    return threadpool_limits(limits=n, user_api="openmp")


def blend_surfaces(surfaces, weights, mask) -> np.ndarray:
    """Weighted sum of surfaces (arrays of one shape), each made non-negative (shifted so its lowest
    cell in ``mask`` is 0 when negative; NaN and -inf count 0) and scaled to sum to 1 over ``mask``."""
    acc = None
    for s, w in zip(surfaces, weights, strict=True):
        s = np.nan_to_num(np.asarray(s, dtype=float), nan=0.0, neginf=0.0)
        s = s - min(s[mask].min(), 0.0)
        tot = s[mask].sum()
        acc = np.zeros(s.shape) if acc is None else acc
        if tot > 0:
            acc += w * s / tot
    if acc is None:
        raise InputError("blend_surfaces: no surfaces to blend.")
    return acc


class Blend(ForecastMethod):
    """Weighted mean of other methods' surfaces, each first scaled to sum to 1 over the area.

    Components are fitted through :func:`~.harness.forecast_surface`: a component the
    backtest has already fitted at this origin (the learned model, say) is reused, not refitted.
    """

    def __init__(self, methods=(), weights=()):
        self.methods = methods
        self.weights = weights

    def fit(self, history):
        self._start(history)
        surfs = [forecast_surface(meth, history, type(meth).__name__) for meth in self.methods]
        self.surface_ = blend_surfaces(surfs, self.weights, history.grid.mask)
        return self

    def predict(self, origin, horizon=None):
        self._check_origin(origin)
        return self._on_grid(self.surface_)


# --------------------------------------------------------------------------- registry
#: Methods that need day- or minute-precision incident times (they raise PrecisionError on month data).
NEEDS_TIMES = ("prospective", "etas", "learned_etas")


def default_method_names(precision: str) -> tuple[str, ...]:
    """The methods a backtest compares by default (prospective only for day/minute data)."""
    names = ["naive_3m", "naive_12m", "naive_36m", "kde", "longrun_kde", "longrun_counts", "gistar"]
    if precision != "month":
        names += ["prospective", "etas"]
    names += ["learned", "blend"]
    return tuple(names)


#: The learned model's settings in ``learned``, ``blend`` and ``learned_etas``: one model, without the
#: neighbourhood features. Both options were measured on Barnet's tuning window (2019-03 ... 2022-02,
#: docs/forecasting.md): ``n_seeds=5`` (a five-seed ensemble) added 0.4 points at 5% for four to seven
#: times the fitting time; ``with_rings=True`` added 0.3 points to the single model but lowered the
#: selection procedure's record (the figure the pack quotes), so neither is the default.
LEARNED_DEFAULTS = {"with_rings": False, "n_seeds": 1}

#: On top of :data:`LEARNED_DEFAULTS` for month-precision data (police.uk): 31 histogram bins per
#: feature instead of 255. Chosen on Barnet's tuning window (2019-03 ... 2022-02, docs/forecasting.md):
#: against 255 bins the single model gained 0.9 points at 5% of the area (better at 21 of 36 origins),
#: its blend 0.6, and the selection record over the last 12 tuning origins rose from 43.5% to 44.2%
#: (16.1% to 16.2% at 1%); 63 and 15 bins gained less. Scored once afterwards on the evaluation window
#: (2022-03 ... 2024-02) it was level at 5% (record 40.4% with 31 or 255 bins) and 0.3 points lower at
#: 1% (16.3% vs 16.6%). Day and minute data keep 255 bins (not tuned).
LEARNED_MONTH_DEFAULTS = {"max_bins": 31}


#: The learned model's refit cadence (``refit_every``, horizons) by the data's time precision; 1 (a fit
#: at every origin) for any precision not named. Empty: no cadence is the default. Measured by the
#: selection record on the tuning windows (docs/forecasting.md, "A refit cadence"): every fourth month
#: kept Barnet's record level with 255 bins (43.6% vs 43.5% at 5%) but lowered it by 0.6 points with
#: the month data's 31 bins (43.6% vs 44.2%), and every fourth fortnight lowered Chicago's by 0.3
#: points; the rule for a cheaper fit allows 0.2.
REFIT_EVERY: dict[str, int] = {}


def learned_model(seed: int = 0, precision: str = "day", **options) -> LearnedRisk:
    """The learned model as the named candidates use it (:data:`LEARNED_DEFAULTS`, and
    :data:`LEARNED_MONTH_DEFAULTS` for month-precision data; the prospective features only for
    day- or minute-precision data; the refit cadence of :data:`REFIT_EVERY`), with ``options`` on top."""
    month = precision == "month"
    defaults = {
        **LEARNED_DEFAULTS,
        **(LEARNED_MONTH_DEFAULTS if month else {}),
        "refit_every": REFIT_EVERY.get(precision, 1),
    }
    return LearnedRisk(random_state=seed, with_prospective=not month, **{**defaults, **options})


def make_method(name: str, seed: int = 0, precision: str = "day"):
    """A method from its name.

    ``naive_<N>m`` (trailing N months of counts), ``naive_<N>d`` (N days), ``kde``
    (1-year retrospective quartic KDE, Silverman radius), ``kde_<R>m`` (radius R
    metres), ``longrun_kde`` (10 years, half-life 2 years, 150 m radius),
    ``longrun_counts`` (the same without a kernel), ``prospective``
    (400 m / 56 days), ``gistar`` (Gi* z of 12-month counts), ``learned``, ``blend`` (equal
    shares of ``learned`` and counts decayed with a one-year half-life), ``learned_etas`` (the
    learned model with the self-exciting process's forecast among its features; day data);
    ``<name>+relocated`` (fitted on history carried onto the current location set).
    """
    if name.endswith(RELOCATED_SUFFIX):
        return Relocated(make_method(name[: -len(RELOCATED_SUFFIX)], seed, precision))
    kind, number = parse_forecast_method(name)  # unknown names raise ConfigError
    if number is not None:  # naive_<N>m, naive_<N>d, kde_<R>m
        if kind == "naive_months":
            return NaiveCounts(window_days=number * MONTH_DAYS)
        if kind == "naive_days":
            return NaiveCounts(window_days=float(number))
        return RetrospectiveKDE(radius_m=float(number))
    if name == "kde":
        return RetrospectiveKDE()
    if name == "longrun_kde":
        return DecayedKDE(radius_m=150.0, half_life_days=730.0)
    if name == "longrun_counts":
        return DecayedKDE(radius_m=0.0, half_life_days=730.0)
    if name == "prospective":
        return Prospective()
    if name == "gistar":
        return GiStarHot()
    if name == "etas":
        return SelfExciting(random_state=seed)
    if name == "blend":
        return Blend(
            methods=(learned_model(seed, precision), DecayedKDE(radius_m=0.0, half_life_days=365.0)),
            weights=(0.5, 0.5),
        )
    if name == "learned":
        return learned_model(seed, precision)
    if name == "learned_etas":
        return learned_model(seed, precision, with_etas=True)
    raise ConfigError(f"unknown forecast method {name!r}; choose from {FORECAST_METHOD_HELP}.")


def make_methods(names, seed: int = 0, precision: str = "day") -> dict:
    return {n: make_method(n, seed, precision) for n in names}
