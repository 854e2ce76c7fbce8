"""Local Knox statistic: which events start (or join) near-repeat chains.

For each event i the statistic is the number of other events within
``delta_m`` metres *and* ``tau_days`` days of it (both inclusive, as in
``pointpats.spacetime.KnoxLocal``). Its expectation under no space-time
interaction is ``n_s * n_t / (n - 1)`` with n_s the event's spatial neighbours
and n_t its temporal neighbours. Inference is by conditional permutation: the
event keeps its own time while its spatial neighbours receive times drawn at
random (without replacement) from the other n - 1 events; the pseudo p-value
is (1 + #permutations with count >= observed) / (permutations + 1). The exact
null distribution of that scheme is hypergeometric, reported as ``p_hypergeom``.

Coordinates in metres (the working CRS in the engine), times in days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._util import kernel_array
from ..errors import InputError
from . import _nearrepeat_kernels as K
from .neighbours import distance_band_neighbours


@dataclass(frozen=True, eq=False)
class LocalKnoxResult:
    """Per-event local Knox results (arrays of length n, in input order)."""

    n_st: np.ndarray  # observed space-time neighbours
    n_after: np.ndarray  # of which later than the event (it may have started them)
    n_before: np.ndarray  # of which earlier than the event
    n_s: np.ndarray  # spatial neighbours (within delta_m)
    n_t: np.ndarray  # temporal neighbours (within tau_days)
    expected: np.ndarray  # n_s * n_t / (n - 1)
    p_value: np.ndarray  # conditional-permutation pseudo p-value
    p_hypergeom: np.ndarray  # exact hypergeometric tail probability
    delta_m: float
    tau_days: float
    permutations: int
    seed: int

    def to_frame(self, ids=None) -> pd.DataFrame:
        """One row per event: event, n_st, n_after, n_before, n_s, n_t, expected,
        p_value, p_hypergeom, starts_chain."""
        n = len(self.n_st)
        starts = np.zeros(n, dtype=bool)
        starts[self.chain_starters()] = True
        return pd.DataFrame(
            {
                "event": np.arange(n) if ids is None else np.asarray(ids),
                "n_st": self.n_st,
                "n_after": self.n_after,
                "n_before": self.n_before,
                "n_s": self.n_s,
                "n_t": self.n_t,
                "expected": self.expected,
                "p_value": self.p_value,
                "p_hypergeom": self.p_hypergeom,
                "starts_chain": starts,
            }
        )

    def significant(self, alpha: float = 0.05) -> np.ndarray:
        """Events with more space-time neighbours than expected at p <= alpha."""
        return (self.p_value <= alpha) & (self.n_st > self.expected)

    def chain_starters(self, alpha: float = 0.05) -> np.ndarray:
        """Indices of significant events with no earlier space-time neighbour and at
        least one later one: the events that start near-repeat chains."""
        return np.nonzero(self.significant(alpha) & (self.n_before == 0) & (self.n_after > 0))[0]


def spatial_neighbours_csr(x, y, delta_m: float):
    """CSR arrays (ptr, idx) of each event's neighbours within ``delta_m`` metres
    (Euclidean, inclusive, self excluded): :func:`hotspots.analysis.neighbours.distance_band_neighbours`."""
    return distance_band_neighbours(x, y, delta_m)


def local_knox(
    x, y, t, delta_m: float = 200.0, tau_days: float = 14.0, permutations: int = 999, seed: int = 0
) -> LocalKnoxResult:
    """Local Knox statistics for each event (see the module docstring).

    x, y in metres, t in days; ``delta_m`` and ``tau_days`` are inclusive thresholds.
    """
    x = kernel_array(x, np.float64)
    y = kernel_array(y, np.float64)
    t = kernel_array(t, np.float64)
    if not (x.shape == y.shape == t.shape) or x.ndim != 1:
        raise InputError("x, y and t must be 1-D arrays of equal length.")
    if len(x) < 2:
        raise InputError(f"local Knox needs at least 2 events, got {len(x)}.")
    if not np.all(np.isfinite(x) & np.isfinite(y) & np.isfinite(t)):
        raise InputError("x, y and t must be finite; drop events with missing coordinates or dates.")
    if delta_m <= 0 or tau_days < 0:
        raise InputError("delta_m must be positive (metres) and tau_days >= 0 (days).")
    n = len(x)
    ptr, idx = spatial_neighbours_csr(x, y, delta_m)
    order = kernel_array(np.argsort(t, kind="stable"), np.int64)
    nsti, nti, exceed = K.local_knox_kernel(
        kernel_array(ptr, np.int64),
        kernel_array(idx, np.int64),
        t,
        order,
        float(tau_days),
        int(permutations),
        int(seed),
    )
    nsi = np.diff(ptr)
    rows = np.repeat(np.arange(n), nsi)
    close_t = np.abs(t[idx] - t[rows]) <= tau_days
    n_after = np.bincount(rows[close_t & (t[idx] > t[rows])], minlength=n)
    n_before = np.bincount(rows[close_t & (t[idx] < t[rows])], minlength=n)
    expected = nsi * nti / (n - 1)
    p = (1.0 + exceed) / (permutations + 1.0) if permutations > 0 else np.full(n, np.nan)
    # P(X >= n_st) for X ~ Hypergeom(N = n-1, K = n_t, draws = n_s)
    from scipy.stats import hypergeom  # imported when needed: scipy.stats costs most of a second

    p_hg = hypergeom.sf(nsti - 1, n - 1, nti, nsi)
    return LocalKnoxResult(
        n_st=nsti,
        n_after=n_after,
        n_before=n_before,
        n_s=nsi,
        n_t=nti,
        expected=expected,
        p_value=p,
        p_hypergeom=np.asarray(p_hg, dtype=float),
        delta_m=float(delta_m),
        tau_days=float(tau_days),
        permutations=int(permutations),
        seed=int(seed),
    )
