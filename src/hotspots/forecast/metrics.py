"""How well a risk surface foresaw the crime that followed it.

Every function takes a risk surface and the observed counts on the same grid
(arrays of shape (nrows, ncols)) plus the grid's ``mask`` (cells inside the
study area). Only masked cells take part. Higher risk means "task here first".

Flagging cells at an area share ``s``
    The ``k = max(1, round(s * N))`` masked cells with the highest risk are
    flagged (``N`` masked cells). NaN (and -inf) risk ranks below every number.
    Area shares are shares of cells, so the share actually flagged is ``k / N``.

Ties at the cut: scores are expected values under random tie-breaking
    When the k-th highest risk is shared by ``m`` cells of which only ``k - a``
    fit (``a`` cells rank strictly above them), which ``k - a`` of them a map
    shows is arbitrary, and on count surfaces hundreds of cells tie at the cut
    (262-303 cells tied at a count of 2 for Barnet's trailing-year counts at 5%).
    Breaking such ties by cell id would score the forecast on an accident of
    numbering (north-west first), so every score is its **expected value over
    all orders of the tied cells**: each tied cell counts with weight
    ``(k - a) / m``. Hit rate, PAI, PEI, RRI and the capture curve all use this
    rule (:func:`expected_top_sums`). The *product* (the cells a tasking map
    shows, :func:`rank_cells` / :func:`flagged_mask`) still needs one definite
    order: it breaks ties by cell id (ascending, ``cell_id = row * ncols + col``).

Hit rate
    ``n / N_obs``: the share of the observed incidents that fall in flagged cells
    (expected over tie orders).

Ceiling
    ``n* / N_obs``: the most any map with ``k`` cells could have captured (the
    ``k`` cells with the most observed incidents), as a share of the incidents.

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


def _rank_key(risk_values: np.ndarray) -> np.ndarray:
    """Sort key: ascending key = descending risk; NaN and -inf share the last place."""
    return np.where(np.isfinite(risk_values) | (risk_values == np.inf), -risk_values, np.inf)


def expected_top_sums(risk, mask, values, ks) -> np.ndarray:
    """Expected sum of ``values`` over the ``k`` highest-risk masked cells, for each ``k`` in ``ks``,
    when ties in risk are broken in a uniformly random order.

    ``values`` may be one (nrows, ncols) array or a stack (p, nrows, ncols); the result has shape
    (len(ks),) or (p, len(ks)). The cells strictly above the k-th risk count fully; the ``m`` cells
    sharing it count ``(k - a) / m`` each, ``a`` being the cells strictly above.
    """
    risk = np.asarray(risk, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    vals = np.asarray(values, dtype=float)
    single = vals.ndim == risk.ndim
    if single:
        vals = vals[None]
    ids = np.flatnonzero(mask.ravel())
    key = _rank_key(risk.ravel()[ids])
    order = np.argsort(key, kind="stable")
    sk = key[order]
    n = sk.size
    v = vals.reshape(vals.shape[0], -1)[:, ids][:, order]
    cum = np.concatenate([np.zeros((v.shape[0], 1)), np.cumsum(v, axis=1)], axis=1)
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]]) if n else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], n]
    ks = np.asarray(ks, dtype=np.int64)
    if n == 0:
        out = np.zeros((v.shape[0], ks.size))
        return out[0] if single else out
    if ks.size and (ks.min() < 1 or ks.max() > n):
        raise ValueError(f"k must be in 1..{n} (masked cells), got {ks.tolist()}")
    g = np.searchsorted(starts, ks - 1, side="right") - 1
    a, e = starts[g], ends[g]
    before = cum[:, a]
    group = cum[:, e] - before
    out = before + group * ((ks - a) / (e - a))[None, :]
    return out[0] if single else out


def rank_cells(risk: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Flat cell ids of the masked cells, highest risk first; ties by cell id ascending; NaN last.

    This is the definite order a *product* shows (which cells a map flags); scores
    do not depend on it (:func:`expected_top_sums`)."""
    risk = np.asarray(risk, dtype=float)
    ids = np.flatnonzero(np.asarray(mask, dtype=bool).ravel())
    key = _rank_key(risk.ravel()[ids])
    # lexsort sorts by the last key first: primary -risk, secondary cell id
    order = np.lexsort((ids, key))
    return ids[order]


def n_flagged(n_cells: int, share: float) -> int:
    """Cells flagged at an area share: ``max(1, round(share * n_cells))`` (never more than ``n_cells``)."""
    if not 0 < share <= 1:
        raise ValueError(f"area share must be in (0, 1], got {share}")
    return int(min(n_cells, max(1, int(math.floor(share * n_cells + 0.5)))))


def flagged_mask(risk: np.ndarray, mask: np.ndarray, share: float) -> np.ndarray:
    """Boolean (nrows, ncols): the cells a map flags at ``share`` of the area (ties by cell id)."""
    order = rank_cells(risk, mask)
    k = n_flagged(order.size, share)
    out = np.zeros(np.asarray(mask).size, dtype=bool)
    out[order[:k]] = True
    return out.reshape(np.asarray(mask).shape)


def _captured(risk, actual, mask, share: float) -> float:
    """Expected incidents in the flagged cells (random order among cells tied at the cut)."""
    k = n_flagged(int(mask.sum()), share)
    return float(expected_top_sums(risk, mask, actual, [k])[0])


def hit_rate(risk, actual, mask, share: float) -> float:
    """Share of observed incidents in the flagged cells, expected over the orders of tied cells
    (NaN when none were observed)."""
    risk, actual, mask = _masked(risk, actual, mask)
    total = actual[mask].sum()
    if total <= 0:
        return float("nan")
    return _captured(risk, actual, mask, share) / float(total)


def ceiling(actual, mask, share: float) -> float:
    """The highest hit rate any map could reach at ``share``: the best ``k`` cells' share of the incidents."""
    actual = np.asarray(actual, dtype=float)
    total = actual[np.asarray(mask, dtype=bool)].sum()
    return best_captured(actual, mask, share) / float(total) if total > 0 else float("nan")


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
    return _captured(risk, actual, mask, share) / best


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
    k = n_flagged(int(mask.sum()), share)
    got, exp_in = expected_top_sums(risk, mask, np.stack([actual, np.asarray(expected, dtype=float)]), [k])[:, 0]
    exp_share = exp_in / np.asarray(expected, dtype=float)[mask].sum()
    return float((got / obs_total) / exp_share) if exp_share > 0 else float("nan")


def capture_curve(risk, actual, mask, shares) -> np.ndarray:
    """Hit rate at each share in ``shares`` (one sort for all; expected over tie orders)."""
    risk, actual, mask = _masked(risk, actual, mask)
    total = actual[mask].sum()
    if total <= 0:
        return np.full(len(shares), np.nan)
    n = int(mask.sum())
    return expected_top_sums(risk, mask, actual, [n_flagged(n, s) for s in shares]) / total


def score_forecast(risk, actual, mask, shares=(0.01, 0.05, 0.10), expected_total: float | None = None) -> dict:
    """Every metric for one forecast: ``hit_rate_5``, ``pai_5``, ``pei_5``, ``rri_5``, ``ceiling_5`` ...
    per share (suffix = share in percent; scores expected over the orders of tied cells), plus
    ``loglik``, ``info_gain`` (nats per incident over uniform), ``observed`` and ``expected_total``.

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
    n = int(mask.sum())
    ks = [n_flagged(n, s) for s in shares]
    cap_a, cap_l = expected_top_sums(risk, mask, np.stack([actual, lam]), ks)
    best = np.cumsum(np.sort(actual[mask])[::-1])
    for i, s in enumerate(shares):
        key = share_key(s)
        k = ks[i]
        hit = cap_a[i] / obs if obs > 0 else float("nan")
        out[f"hit_rate_{key}"] = float(hit)
        out[f"pai_{key}"] = float(hit / (k / n)) if obs > 0 else float("nan")
        out[f"pei_{key}"] = float(cap_a[i] / best[k - 1]) if obs > 0 and best[k - 1] > 0 else float("nan")
        exp_share = cap_l[i] / total
        out[f"rri_{key}"] = float(hit / exp_share) if obs > 0 and exp_share > 0 else float("nan")
        out[f"ceiling_{key}"] = float(best[k - 1] / obs) if obs > 0 else float("nan")
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
