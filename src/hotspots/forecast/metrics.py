"""How well a risk surface foresaw the crime that followed it.

Every function takes a risk surface and the observed counts on the same grid
(arrays of shape (nrows, ncols)) plus the grid's ``mask`` (cells inside the
study area). Only masked cells take part. Higher risk means "task here first".

Flagging cells at an area share ``s``
    The ``k = max(1, round(s * N))`` masked cells with the highest risk are
    flagged (``N`` masked cells). Ties are broken deterministically: by risk
    (descending), then by cell id (ascending, ``cell_id = row * ncols + col``).
    NaN risk ranks below every number. Area shares are shares of cells, so the
    share actually flagged is ``k / N``.

Hit rate
    ``n / N_obs``: the share of the observed incidents that fall in flagged cells.

PAI, Predictive Accuracy Index (Chainey, Tompson & Uhlig 2008)
    ``(n / N_obs) / (k / N)``: hit rate divided by the area share flagged.

PEI, Predictive Efficiency Index (Hunt 2016)
    ``PAI / PAI*``, where ``PAI*`` is the best PAI any forecast could have had
    with the same ``k`` cells (the ``k`` cells with the most observed
    incidents). Equivalently ``n / n*`` with ``n*`` the incidents in those
    cells. 1 is perfect.

RRI, Recapture Rate Index (after Levine 2008)
    ``(n / N_obs) / (f / F)``: the observed share of incidents in the flagged
    cells divided by the share the forecast expected there (``f`` expected
    count in flagged cells, ``F`` expected total, from :func:`expected_counts`).
    1 means the forecast got the concentration in its flagged cells right;
    above 1 it under-stated it, below 1 it over-stated it.

Poisson log-likelihood
    ``sum_i [y_i log(lam_i) - lam_i - log(y_i!)]`` over masked cells, with
    ``lam`` the expected counts from :func:`expected_counts`. Surfaces of any
    scale become comparable because each is rescaled to the same expected
    total. ``info_gain`` is the log-likelihood gain per observed incident over
    a uniform forecast with the same total (nats per incident).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln

#: Share of the expected total spread uniformly so no cell has zero expectation.
UNIFORM_FLOOR = 0.01


def _masked(risk, actual, mask):
    risk = np.asarray(risk, dtype=float)
    actual = np.asarray(actual, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    if risk.shape != mask.shape or actual.shape != mask.shape:
        raise ValueError(f"risk {risk.shape}, actual {actual.shape} and mask {mask.shape} must have one shape")
    return risk, actual, mask


def rank_cells(risk: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Flat cell ids of the masked cells, highest risk first; ties by cell id ascending; NaN last."""
    risk = np.asarray(risk, dtype=float)
    ids = np.flatnonzero(np.asarray(mask, dtype=bool).ravel())
    r = risk.ravel()[ids]
    key = np.where(np.isfinite(r), -r, np.inf)  # NaN/-inf last
    # lexsort sorts by the last key first: primary -risk, secondary cell id
    order = np.lexsort((ids, key))
    return ids[order]


def n_flagged(n_cells: int, share: float) -> int:
    """Cells flagged at an area share: ``max(1, round(share * n_cells))`` (never more than ``n_cells``)."""
    if not 0 < share <= 1:
        raise ValueError(f"area share must be in (0, 1], got {share}")
    return int(min(n_cells, max(1, int(math.floor(share * n_cells + 0.5)))))


def flagged_mask(risk: np.ndarray, mask: np.ndarray, share: float) -> np.ndarray:
    """Boolean (nrows, ncols): the cells flagged at ``share`` of the area."""
    order = rank_cells(risk, mask)
    k = n_flagged(order.size, share)
    out = np.zeros(np.asarray(mask).size, dtype=bool)
    out[order[:k]] = True
    return out.reshape(np.asarray(mask).shape)


def hit_rate(risk, actual, mask, share: float) -> float:
    """Share of observed incidents in the flagged cells (NaN when none were observed)."""
    risk, actual, mask = _masked(risk, actual, mask)
    total = actual[mask].sum()
    if total <= 0:
        return float("nan")
    return float(actual[flagged_mask(risk, mask, share)].sum() / total)


def pai(risk, actual, mask, share: float) -> float:
    """Predictive Accuracy Index: hit rate / share of cells flagged."""
    risk, actual, mask = _masked(risk, actual, mask)
    n = int(mask.sum())
    k = n_flagged(n, share)
    return hit_rate(risk, actual, mask, share) / (k / n)


def best_captured(actual, mask, share: float) -> float:
    """Most incidents any ``k`` cells could hold (the ``k`` cells with the highest observed counts)."""
    actual = np.asarray(actual, dtype=float)
    vals = np.sort(actual[np.asarray(mask, dtype=bool)])[::-1]
    return float(vals[: n_flagged(vals.size, share)].sum())


def pei(risk, actual, mask, share: float) -> float:
    """Predictive Efficiency Index: PAI / best possible PAI with the same number of cells."""
    risk, actual, mask = _masked(risk, actual, mask)
    best = best_captured(actual, mask, share)
    if best <= 0:
        return float("nan")
    return float(actual[flagged_mask(risk, mask, share)].sum() / best)


def expected_counts(risk, mask, total: float, floor: float = UNIFORM_FLOOR) -> np.ndarray:
    """Risk rescaled to expected counts summing to ``total`` over the masked cells.

    Negative risk (e.g. Gi* z-scores) is shifted so the lowest masked cell is 0;
    NaN counts as 0. A share ``floor`` of the total is spread evenly over the
    masked cells so that no cell has zero expectation. Outside the mask: 0.
    """
    risk = np.asarray(risk, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    r = np.where(mask & np.isfinite(risk), risk, np.nan)
    vals = r[mask]
    fin = vals[np.isfinite(vals)]
    lo = fin.min() if fin.size else 0.0
    r = np.nan_to_num(r - min(lo, 0.0), nan=0.0)
    r[~mask] = 0.0
    s = r.sum()
    n = int(mask.sum())
    share = r / s if s > 0 else np.where(mask, 1.0 / n, 0.0)
    lam = total * ((1.0 - floor) * share + floor * mask / n)
    lam[~mask] = 0.0
    return lam


def poisson_loglik(expected, actual, mask) -> float:
    """Poisson log-likelihood of observed counts under expected counts, over masked cells."""
    lam = np.asarray(expected, dtype=float)[np.asarray(mask, dtype=bool)]
    y = np.asarray(actual, dtype=float)[np.asarray(mask, dtype=bool)]
    if np.any(lam <= 0):
        raise ValueError("expected counts must be positive in every masked cell")
    return float(np.sum(y * np.log(lam) - lam - gammaln(y + 1.0)))


def rri(risk, actual, mask, share: float, expected=None, total: float | None = None) -> float:
    """Recapture Rate Index: observed share in the flagged cells / the share the forecast expected there."""
    risk, actual, mask = _masked(risk, actual, mask)
    obs_total = actual[mask].sum()
    if obs_total <= 0:
        return float("nan")
    if expected is None:
        expected = expected_counts(risk, mask, obs_total if total is None else total)
    flag = flagged_mask(risk, mask, share)
    exp_share = expected[flag].sum() / expected[mask].sum()
    return float((actual[flag].sum() / obs_total) / exp_share) if exp_share > 0 else float("nan")


def capture_curve(risk, actual, mask, shares) -> np.ndarray:
    """Hit rate at each share in ``shares`` (one sort for all)."""
    risk, actual, mask = _masked(risk, actual, mask)
    order = rank_cells(risk, mask)
    total = actual[mask].sum()
    if total <= 0:
        return np.full(len(shares), np.nan)
    cum = np.cumsum(actual.ravel()[order])
    return np.array([cum[n_flagged(order.size, s) - 1] / total for s in shares])


def score_forecast(risk, actual, mask, shares=(0.01, 0.05, 0.10), expected_total: float | None = None) -> dict:
    """Every metric for one forecast: ``hit_rate_5``, ``pai_5``, ``pei_5``, ``rri_5`` ... per share
    (suffix = share in percent), plus ``loglik``, ``info_gain`` (nats per incident over uniform),
    ``observed`` and ``expected_total``.

    ``expected_total`` (default: the observed total) is the number of incidents
    the forecast expects; the harness passes the recent rate from the history,
    so no method sees the observed total.
    """
    risk, actual, mask = _masked(risk, actual, mask)
    obs = float(actual[mask].sum())
    total = obs if expected_total is None else float(expected_total)
    total = max(total, 1e-9)
    lam = expected_counts(risk, mask, total)
    out: dict = {"observed": obs, "expected_total": total}
    order = rank_cells(risk, mask)
    n = order.size
    flat_a = actual.ravel()
    flat_l = lam.ravel()
    cum_a = np.cumsum(flat_a[order])
    cum_l = np.cumsum(flat_l[order])
    best = np.cumsum(np.sort(actual[mask])[::-1])
    for s in shares:
        key = share_key(s)
        k = n_flagged(n, s)
        hit = cum_a[k - 1] / obs if obs > 0 else float("nan")
        out[f"hit_rate_{key}"] = float(hit)
        out[f"pai_{key}"] = float(hit / (k / n)) if obs > 0 else float("nan")
        out[f"pei_{key}"] = float(cum_a[k - 1] / best[k - 1]) if obs > 0 and best[k - 1] > 0 else float("nan")
        exp_share = cum_l[k - 1] / total
        out[f"rri_{key}"] = float(hit / exp_share) if obs > 0 and exp_share > 0 else float("nan")
    ll = poisson_loglik(lam, actual, mask)
    uniform = np.where(mask, total / n, 0.0)
    ll0 = poisson_loglik(uniform, actual, mask)
    out["loglik"] = ll
    out["info_gain"] = (ll - ll0) / obs if obs > 0 else float("nan")
    return out


def share_key(share: float) -> str:
    """Column suffix for an area share: 0.05 -> '5', 0.005 -> '0.5'."""
    pct = share * 100.0
    return f"{pct:g}"
