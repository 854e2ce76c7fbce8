"""False discovery rate: the one Benjamini-Hochberg step-up procedure of the engine.

Every analysis that corrects many p-values at once (Gi* hot spots, the emerging-hotspot
cube, the "what changed" exceptions table) uses this module, so a cell or a ward is
judged by the same rule wherever it appears.

For ``m`` p-values sorted ascending, ``p_(1) <= ... <= p_(m)``, and a level ``alpha``:

* the **cut-off** is ``k * alpha / m`` for the largest rank ``k`` with
  ``p_(k) < k * alpha / m``; a test is rejected when its p-value is strictly below
  it. When no p-value passes, the cut-off is ``alpha / m`` (the Bonferroni bound),
  as in ``esda.fdr``;
* the **adjusted p-value** (q-value) of ``p_(k)`` is ``min_{j >= k} p_(j) * m / j``,
  capped at 1, as ``scipy.stats.false_discovery_control``; ``q < alpha`` rejects the
  same tests as ``p < cut-off`` (up to rounding at the boundary).

Both come from :func:`_ranked`, which sorts the p-values of every slice along an axis
and counts the tests. NaN (or infinite) p-values are not tests: they do not count in
``m`` and their q-value is NaN.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bh_adjust", "fdr_cutoff", "fdr_cutoffs"]


def _ranked(p, axis: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
    """The sorted p-values of every slice along ``axis`` (None: all values as one slice).

    Returns ``(p_sorted, order, m, rank, shape)``: ``p_sorted`` and ``order`` have the
    tested axis last (non-finite values as NaN, sorted to the end), ``m`` the number of
    finite p-values per slice (keepdims), ``rank`` 1..n, and ``shape`` the moved shape
    (to put results back).
    """
    p = np.asarray(p, dtype=np.float64)
    moved = p.reshape(-1) if axis is None else np.moveaxis(p, axis, -1)
    moved = np.where(np.isfinite(moved), moved, np.nan)
    order = np.argsort(moved, axis=-1, kind="stable")
    p_sorted = np.take_along_axis(moved, order, axis=-1)
    m = np.isfinite(moved).sum(axis=-1, keepdims=True)
    rank = np.arange(1, moved.shape[-1] + 1)
    return p_sorted, order, m, rank, moved.shape


def bh_adjust(p, axis: int | None = None) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), over all values or along ``axis``.

    ``axis=None`` treats every value as one family of tests; ``axis=k`` adjusts each
    slice along axis ``k`` separately (e.g. each time step of a cube). The result has
    the shape of ``p``; NaN p-values stay NaN and do not count as tests.
    """
    p = np.asarray(p, dtype=np.float64)
    p_sorted, order, m, rank, moved_shape = _ranked(p, axis)
    with np.errstate(invalid="ignore"):
        ranked = p_sorted * m / rank
    # running minimum from the largest p down; NaN (past the m finite values) is skipped
    q_sorted = np.fmin.accumulate(ranked[..., ::-1], axis=-1)[..., ::-1]
    q_sorted = np.minimum(q_sorted, 1.0)
    q = np.empty(moved_shape)
    np.put_along_axis(q, order, q_sorted, axis=-1)
    if axis is None:
        return q.reshape(p.shape)
    return np.moveaxis(q, -1, axis)


def _cutoff(p_sorted: np.ndarray, m: np.ndarray, rank: np.ndarray, alpha: float) -> np.ndarray:
    """The Benjamini-Hochberg cut-off of every slice from its sorted p-values (see :func:`fdr_cutoff`)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        passing = p_sorted < rank * alpha / m[..., None]  # False for NaN
        k = np.max(np.where(passing, rank, 0), axis=-1, initial=0)  # largest passing rank, 0 if none
        cut = np.where(k > 0, k * alpha / m, alpha / m)
    return np.where(m > 0, cut, 0.0)


def fdr_cutoff(p, alpha: float = 0.05, axis: int | None = None):
    """Benjamini-Hochberg cut-off: reject p-values strictly below it.

    Returns ``k * alpha / m`` for the largest rank ``k`` with ``p_(k) < k alpha / m``
    (the same value as ``esda.fdr``); when no p-value passes, ``alpha / m``; 0.0 when
    there is no finite p-value. NaN p-values are ignored. ``axis=None`` gives one float
    for all values; ``axis=k`` an array with one cut-off per slice along axis ``k``.
    """
    p_sorted, _order, m, rank, _shape = _ranked(p, axis)
    cut = _cutoff(p_sorted, m[..., 0], rank, alpha)
    if axis is None:
        return float(cut)
    return cut


def fdr_cutoffs(p, alphas) -> tuple[float, ...]:
    """:func:`fdr_cutoff` of all values at each level of ``alphas`` (e.g. 0.10, 0.05, 0.01), sorting the
    p-values once."""
    p_sorted, _order, m, rank, _shape = _ranked(p, None)
    return tuple(float(_cutoff(p_sorted, m[..., 0], rank, a)) for a in alphas)
