"""Camera siting: maximal covering (MCLP), set covering and the marginal-gain curve.

Demand is harm at points (cell centres, working CRS, metres); a candidate site
covers a point when a camera placed there (type defaults from ``[cameras]``)
sees it. Existing cameras are fixed: ``seen[i]`` is the probability that they
already see point ``i`` (1 or 0 for cameras whose positions are known; between
the two for inventories with approximate positions, see
:mod:`hotspots.coverage.uncertain`). A new camera adds ``w_i * (1 - seen_i)`` at
each point it covers, so the expected covered harm is
``sum w_i seen_i + sum w_i (1 - seen_i) [i covered by a new site]`` -- linear,
and the same model as before when ``seen`` is 0/1.

Solvers (``[siting] solver``)
-----------------------------
* ``auto`` / ``highs``: HiGHS in this process (:mod:`.milp`): no child process,
  no model file on disk, relative MIP gap 0 (proven optimal).
* ``spopt``: :class:`spopt.locate.MCLP` (CBC), and ``pulp``: the sparse model
  with PuLP/CBC -- peers kept as cross-checks (:mod:`._peer_solvers`), imported
  only when asked for. spopt writes one term per demand x site pair, so it is
  used only while that product stays below ``[siting] spopt_max_terms``.
* ``greedy``: lazy greedy followed by single-swap interchange (numba), with the
  LP relaxation bound and the gap to it. Whenever the exact solver does not
  prove optimality in time, the better of its incumbent and this heuristic
  (and LP rounding) is returned with the bound.

The marginal-gain curve reuses the solution already found for ``k`` and solves
1..k-1 with the same solver: with HiGHS one after another, each trying the LP
prices found so far before solving another LP (:class:`~.milp.CoverPrices`),
with the other in-process solvers in threads.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._util import available_workers, kernel_array
from ..config.sections import SitingConfig  # noqa: F401  (the [siting] settings, re-exported beside their analysis)
from . import _kernels as K
from . import milp
from .candidates import generate_candidates  # noqa: F401  (candidate sites, re-exported beside the siting models)
from .milp import MilpAnswer
from .viewshed import visibility_pairs

#: Exact solvers by ``[siting] solver`` value (``auto`` is HiGHS).
EXACT_SOLVERS = ("highs", "spopt", "pulp")

#: ``[siting] solver`` values solved in this process (no CBC child), so independent solves may share threads.
IN_PROCESS_SOLVERS = ("auto", "highs", "greedy")

#: ``[siting] solver`` values that prove an answer by the LP relaxation, so its solves at several numbers of
#: cameras can share LP prices (:class:`~.milp.CoverPrices`).
LP_SOLVERS = ("auto", "highs")


@dataclass(frozen=True, eq=False)
class MCLPSolution:
    """k new sites maximising expected covered harm.

    ``chosen``: candidate indices ordered by marginal gain (the first is the best
    single addition given the rest of the chosen set's order). ``covered``:
    expected harm covered including the existing cameras (``fixed_covered``);
    ``bound``: an upper bound on the optimum (equal to ``covered`` when proven
    optimal); ``gap`` = (bound - covered) / bound.
    """

    chosen: np.ndarray
    gains: np.ndarray
    covered: float
    fixed_covered: float
    bound: float
    gap: float
    method: str
    status: str
    seconds: float
    notes: tuple[str, ...] = ()

    @property
    def new_covered(self) -> float:
        return self.covered - self.fixed_covered


@dataclass(frozen=True, eq=False)
class SetCoverSolution:
    """Fewest new cameras to see ``target`` harm (None when unreachable with every candidate)."""

    n_new: int | None
    chosen: np.ndarray
    covered: float
    target: float
    total: float
    lower_bound: int
    method: str
    status: str
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "target_share": self.target / self.total if self.total else 0.0,
                    "target_harm": self.target,
                    "new_cameras": self.n_new,
                    "lower_bound_cameras": self.lower_bound,
                    "harm_covered": self.covered,
                    "share_covered": self.covered / self.total if self.total else 0.0,
                    "method": self.method,
                    "status": self.status,
                    "notes": "; ".join(self.notes),
                }
            ]
        )


# --------------------------------------------------------------------------- coverage matrix
def coverage_matrix(
    sites, demand_x, demand_y, obstruction=None, mount_height_m: float = 6.0, target_height_m: float = 1.5
) -> sp.csr_matrix:
    """Sparse 0/1 matrix (n_demand x n_sites): site j sees demand point i."""
    p, c = visibility_pairs(sites, demand_x, demand_y, obstruction, mount_height_m, target_height_m)
    a = sp.csr_matrix((np.ones(len(p), dtype=np.int8), (p, c)), shape=(len(np.asarray(demand_x)), len(sites)))
    a.sum_duplicates()
    a.data[:] = 1
    return a


@dataclass(frozen=True, eq=False)
class _Demand:
    """A siting problem's demand: weights, what existing cameras already see, and the weight left for new ones."""

    w: np.ndarray  # harm per demand point
    seen: np.ndarray  # probability the existing cameras see each point (0..1)

    @classmethod
    def of(cls, n: int, w, fixed=None, fixed_A: sp.csr_matrix | None = None, seen=None) -> _Demand:
        w = np.asarray(w, float)
        if seen is not None:
            s = np.clip(np.asarray(seen, float), 0.0, 1.0)
        elif fixed is not None:
            s = np.asarray(fixed, bool).astype(float)
        elif fixed_A is not None and fixed_A.shape[1]:
            s = (np.asarray(fixed_A.sum(axis=1)).ravel() > 0).astype(float)
        else:
            s = np.zeros(n)
        return cls(w, s)

    @property
    def residual(self) -> np.ndarray:
        """Weight a new camera adds at each point it sees (harm not yet seen)."""
        return self.w * (1.0 - self.seen)

    @property
    def base(self) -> float:
        """Expected harm the existing cameras see."""
        return float((self.w * self.seen).sum())

    def covered(self, A: sp.csr_matrix, chosen) -> float:
        """Expected harm seen with the existing cameras and the ``chosen`` new sites."""
        cov = np.zeros(len(self.w), bool)
        if len(chosen):
            cov = np.asarray(A[:, np.asarray(chosen, np.int64)].sum(axis=1)).ravel() > 0
        return self.base + float(self.residual[cov].sum())

    def coverable(self, A: sp.csr_matrix) -> float:
        """Expected harm seen if every candidate site had a camera."""
        reach = np.diff(sp.csr_matrix(A).indptr) > 0
        return self.base + float(self.residual[reach].sum())


def _order_by_gain(A: sp.csr_matrix, r: np.ndarray, chosen):
    """Order a chosen set greedily by marginal residual weight ``r``; returns (order, gains)."""
    chosen = [int(j) for j in chosen]
    if not chosen:
        return np.zeros(0, np.int64), np.zeros(0)
    sub = A[:, chosen].tocsc()
    cov = np.zeros(A.shape[0], bool)
    order, gains = [], []
    left = list(range(len(chosen)))
    while left:
        best, bg = left[0], -1.0
        for t in left:
            rows = sub.indices[sub.indptr[t] : sub.indptr[t + 1]]
            g = float(r[rows[~cov[rows]]].sum())
            if g > bg + 1e-12:
                best, bg = t, g
        order.append(chosen[best])
        gains.append(bg)
        rows = sub.indices[sub.indptr[best] : sub.indptr[best + 1]]
        cov[rows] = True
        left.remove(best)
    return np.asarray(order, np.int64), np.asarray(gains)


def _greedy(A: sp.csr_matrix, r: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    At = A.T.tocsr()
    return K.greedy_max_cover(
        kernel_array(At.indptr, np.int64),
        kernel_array(At.indices, np.int64),
        kernel_array(r, np.float64),
        kernel_array(np.zeros(A.shape[0], np.uint8), np.uint8),
        int(k),
    )


def _interchange(A: sp.csr_matrix, r: np.ndarray, start, max_passes: int) -> np.ndarray:
    At = A.T.tocsr()
    return K.interchange(
        kernel_array(At.indptr, np.int64),
        kernel_array(At.indices, np.int64),
        kernel_array(r, np.float64),
        kernel_array(np.zeros(A.shape[0], np.uint8), np.uint8),
        kernel_array(np.asarray(start, np.int64), np.int64),
        int(max_passes),
    )


def greedy_mclp(A: sp.csr_matrix, w, k: int, fixed=None, seen=None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy maximal covering: (chosen site indices in order, marginal harm per site)."""
    d = _Demand.of(A.shape[0], w, fixed, seen=seen)
    return _greedy(A, d.residual, k)


def greedy_interchange(A: sp.csr_matrix, w, k: int, fixed=None, max_passes: int = 200, seen=None):
    """Greedy followed by single-swap interchange (vertex substitution); (sites ordered by gain, gains)."""
    d = _Demand.of(A.shape[0], w, fixed, seen=seen)
    r = d.residual
    chosen, gains = _greedy(A, r, k)
    if len(chosen) < k or len(chosen) == 0:
        return chosen, gains
    return _order_by_gain(A, r, _interchange(A, r, chosen, max_passes))


def lp_bound(A: sp.csr_matrix, w, k: int, fixed=None, time_limit_s: float = 60.0, seen=None) -> float:
    """LP relaxation upper bound on the expected harm covered with k new sites (incl. existing coverage)."""
    d = _Demand.of(A.shape[0], w, fixed, seen=seen)
    return d.base + milp.mclp_lp_bound(A, d.residual, k, time_limit_s)[0]


def lp_rounding(A: sp.csr_matrix, w, k: int, fixed=None, time_limit_s: float = 60.0, max_passes: int = 200, seen=None):
    """LP relaxation, the k largest fractional sites, then single-swap interchange.

    Returns (sites ordered by gain, gains, LP bound)."""
    d = _Demand.of(A.shape[0], w, fixed, seen=seen)
    r = d.residual
    bound, xs = milp.mclp_lp_bound(A, r, k, time_limit_s)
    if xs is None:
        ch, g = greedy_interchange(A, w, k, seen=d.seen, max_passes=max_passes)
        return ch, g, d.base + bound
    start = np.argsort(-xs, kind="stable")[:k]
    ch, g = _order_by_gain(A, r, _interchange(A, r, start, max_passes))
    return ch, g, d.base + bound


def _exact(A: sp.csr_matrix, r: np.ndarray, k: int, method: str, time_limit_s: float, start) -> MilpAnswer:
    if method == "highs":
        return milp.mclp(A, r, k, time_limit_s)
    from . import _peer_solvers as peers

    if method == "pulp":
        return peers.pulp_mclp(A, r, k, time_limit_s, start=start)
    return peers.spopt_mclp(A, r, k, time_limit_s)


def _proven_by_lp(
    A: sp.csr_matrix, d: _Demand, k: int, chosen, gains, time_limit_s: float, prices: milp.CoverPrices | None = None
):
    """(order, gains) of an optimal k-set when the LP relaxation proves one, else None.

    The LP optimum bounds the integer optimum from above, and any k sites from
    below: when the heuristic's sites reach the LP value they are optimal; when
    the LP's own solution is integral it is an optimal set. Either way no
    branch and bound is needed (on the demo and Barnet every k is settled here).
    ``prices`` (of this problem) are tried first: when the bound of the prices kept
    from earlier LPs already meets the heuristic's sites, no LP is solved at ``k``.
    """
    r = d.residual
    prices = milp.CoverPrices.of(A, r) if prices is None else prices
    heur = float(np.sum(gains))
    known = prices.bound(k)
    if known - heur <= 1e-9 * max(1.0, heur):
        return np.asarray(chosen, np.int64), np.asarray(gains, float)
    bound, xs = prices.solve(k, time_limit_s)
    tol = 1e-9 * max(1.0, bound)
    if xs is None:
        return None
    if bound - heur <= tol:
        return np.asarray(chosen, np.int64), np.asarray(gains, float)
    integral = np.all(np.minimum(xs, 1.0 - xs) <= 1e-9)
    sel = np.nonzero(xs > 0.5)[0]
    if integral and len(sel) <= k:
        order, g = _order_by_gain(A, r, sel)
        if bound - float(g.sum()) <= tol:
            return order, g
    return None


_LABELS = {"highs": "MCLP (HiGHS)", "pulp": "sparse MCLP (PuLP/CBC)", "spopt": "spopt MCLP (CBC)"}


def solve_mclp(
    A: sp.csr_matrix,
    w,
    k: int,
    fixed=None,
    fixed_A: sp.csr_matrix | None = None,
    method: str = "auto",
    time_limit_s: float = 60.0,
    spopt_max_terms: int = 250_000,
    seen=None,
    prices: milp.CoverPrices | None = None,
) -> MCLPSolution:
    """Choose ``k`` sites (columns of ``A``, n_demand x n_sites) maximising expected covered weight ``w``.

    What existing cameras already see is ``seen`` (probability per demand
    point), or ``fixed`` (bool), or derived from ``fixed_A`` (n_demand x
    n_existing). ``method``: auto, highs, spopt, pulp or greedy (module docstring).
    ``prices``: :class:`~.milp.CoverPrices` of ``A`` and the harm the existing cameras do
    not see (:func:`cover_prices`), shared by the solves of one problem at several ``k``.
    """
    t0 = time.perf_counter()
    d = _Demand.of(A.shape[0], w, fixed, fixed_A, seen)
    r = d.residual
    if prices is not None and not prices.belongs_to(r):
        raise ValueError("prices of another siting problem: make them with cover_prices of the same A, w and seen")
    k = int(min(k, A.shape[1]))
    notes: list[str] = []
    g_chosen, g_gains = _greedy(A, r, k)
    if len(g_chosen) == k and k > 0:
        g_chosen, g_gains = _order_by_gain(A, r, _interchange(A, r, g_chosen, 200))
    g_cov = d.base + float(g_gains.sum())
    if len(g_chosen) < k:
        # fewer useful sites than k: greedy then covers everything coverable -> optimal
        return MCLPSolution(
            g_chosen,
            g_gains,
            g_cov,
            d.base,
            g_cov,
            0.0,
            "greedy",
            f"optimal (all coverable harm covered with {len(g_chosen)} site(s))",
            time.perf_counter() - t0,
        )
    if method == "greedy":
        bound = d.base + milp.mclp_lp_bound(A, r, k, time_limit_s)[0]
        gap = (bound - g_cov) / bound if bound > 0 else 0.0
        return MCLPSolution(
            g_chosen,
            g_gains,
            g_cov,
            d.base,
            bound,
            max(0.0, gap),
            "greedy + interchange",
            "heuristic (LP relaxation bound)",
            time.perf_counter() - t0,
        )
    method = "highs" if method == "auto" else method
    if method == "highs":
        proven = _proven_by_lp(A, d, k, g_chosen, g_gains, time_limit_s, prices)
        if proven is not None:
            order, gains = proven
            cov = d.base + float(gains.sum())
            return MCLPSolution(
                order,
                gains,
                cov,
                d.base,
                cov,
                0.0,
                _LABELS["highs"],
                "optimal",
                time.perf_counter() - t0,
                ("proven optimal by the LP relaxation bound (no branch and bound needed)",),
            )
    if method == "spopt":
        Ar, _wr, cols = milp.reduce_demand(A, r)
        if Ar.shape[0] * len(cols) > spopt_max_terms:
            notes.append(
                f"spopt skipped: {Ar.shape[0]:,} demand x {len(cols):,} sites exceeds [siting] spopt_max_terms; "
                "solved with HiGHS"
            )
            method = "highs"
    label = _LABELS[method]
    ans = _exact(A, r, k, method, time_limit_s, g_chosen)
    chosen = ans.chosen[:k] if len(ans.chosen) else None
    cov = d.covered(A, chosen) if chosen is not None else -1.0
    if chosen is not None and ans.optimal and cov + 1e-6 * max(1.0, cov) >= g_cov:
        order, gains = _order_by_gain(A, r, chosen)
        return MCLPSolution(order, gains, cov, d.base, cov, 0.0, label, "optimal", time.perf_counter() - t0, ())
    if chosen is None:
        notes.append(f"{label}: {ans.status}")
    # not proven optimal: best of incumbent, greedy + interchange and LP rounding, with the LP bound
    r_ch, r_g, bound = lp_rounding(A, w, k, time_limit_s=time_limit_s, seen=d.seen)
    bound = min(bound, d.coverable(A))
    if d.base + float(r_g.sum()) > g_cov + 1e-9:
        g_chosen, g_gains, g_cov = r_ch, r_g, d.base + float(r_g.sum())
    if chosen is not None and cov > g_cov:
        best, bg = _order_by_gain(A, r, chosen)
        how = f"{label}, {ans.status}"
    else:
        best, bg, cov = g_chosen, g_gains, g_cov
        how = f"heuristic fallback: greedy / LP rounding + interchange ({label}: {ans.status or 'no solution'})"
    gap = (bound - cov) / bound if bound > 0 else 0.0
    return MCLPSolution(
        best,
        bg,
        cov,
        d.base,
        bound,
        max(0.0, gap),
        how,
        "not proven optimal; bound = LP relaxation",
        time.perf_counter() - t0,
        tuple(notes),
    )


def brute_force_mclp(A: sp.csr_matrix, w, k: int, fixed=None, seen=None) -> tuple[float, tuple[int, ...]]:
    """Exact optimum by enumerating every k-subset (small instances only): (expected covered weight, sites)."""
    d = _Demand.of(A.shape[0], w, fixed, seen=seen)
    r = d.residual
    nc = A.shape[1]
    D = A.toarray().astype(bool)
    best = -1.0
    arg: tuple[int, ...] = ()
    for combo in itertools.combinations(range(nc), min(k, nc)):
        v = d.base + float(r[D[:, list(combo)].any(axis=1)].sum())
        if v > best + 1e-12:
            best, arg = v, combo
    return best, arg


def marginal_curve(
    A: sp.csr_matrix,
    w,
    k: int,
    fixed=None,
    fixed_A=None,
    method: str = "auto",
    curve: str = "optimal",
    time_limit_s: float = 60.0,
    spopt_max_terms: int = 250_000,
    total: float | None = None,
    seen=None,
    solved: MCLPSolution | None = None,
    prices: milp.CoverPrices | None = None,
) -> pd.DataFrame:
    """Harm covered with 1..k new cameras: greedy and (``curve='optimal'``) the MCLP optimum per k.

    ``solved`` is the solution already found for ``k`` (reused, not solved again); ``prices``
    those of the solve that found it (:func:`cover_prices`; made here when not given).
    """
    d = _Demand.of(A.shape[0], w, fixed, fixed_A, seen)
    if prices is None and method in LP_SOLVERS:
        prices = milp.CoverPrices.of(A, d.residual)
    base = d.base
    total = float(d.w.sum()) if total is None else float(total)
    _greedy_sites, g_gains = _greedy(A, d.residual, k)
    optimal: dict[int, MCLPSolution] = {}
    if curve == "optimal":
        optimal = _solve_each_k(
            A,
            w,
            k,
            method=method,
            time_limit_s=time_limit_s,
            spopt_max_terms=spopt_max_terms,
            seen=d.seen,
            solved=solved,
            prices=prices,
        )
    rows: list[dict[str, object]] = []
    prev = base
    for kk in range(1, k + 1):
        g = base + float(g_gains[:kk].sum())
        row: dict[str, Any] = {"new_cameras": kk, "harm_covered_greedy": g}
        if curve == "optimal":
            s = optimal[kk]
            row.update(
                {"harm_covered": s.covered, "bound": s.bound, "gap": s.gap, "method": s.method, "status": s.status}
            )
        else:
            row.update({"harm_covered": g, "bound": np.nan, "gap": np.nan, "method": "greedy", "status": "heuristic"})
        row["marginal_gain"] = row["harm_covered"] - prev
        prev = row["harm_covered"]
        row["share_covered"] = row["harm_covered"] / total if total > 0 else 0.0
        rows.append(row)
    out = pd.DataFrame(rows)
    head = pd.DataFrame(
        [
            {
                "new_cameras": 0,
                "harm_covered_greedy": base,
                "harm_covered": base,
                "bound": base,
                "gap": 0.0,
                "method": "existing cameras",
                "status": "",
                "marginal_gain": 0.0,
                "share_covered": base / total if total > 0 else 0.0,
            }
        ]
    )
    return pd.concat([head, out], ignore_index=True)[
        [
            "new_cameras",
            "harm_covered",
            "share_covered",
            "marginal_gain",
            "harm_covered_greedy",
            "bound",
            "gap",
            "method",
            "status",
        ]
    ]


def _solve_each_k(
    A: sp.csr_matrix,
    w,
    k: int,
    *,
    method: str,
    time_limit_s: float,
    spopt_max_terms: int,
    seen,
    solved: MCLPSolution | None,
    prices: milp.CoverPrices | None = None,
) -> dict[int, MCLPSolution]:
    """The MCLP optimum for each of 1..k new cameras, keyed by the number of cameras.

    ``solved`` (the answer already found for ``k``) is reused. With ``prices`` the
    solves run one after another from 1 camera up: the prices of each LP solved
    often settle the next numbers of cameras without another LP (on the demo, 4 LPs
    for the 9 numbers instead of 9). Otherwise, with the solvers of
    :data:`IN_PROCESS_SOLVERS` the independent solves run in threads,
    one per core this process may use (:func:`~hotspots._util.available_workers`):
    HiGHS releases the interpreter lock while it solves, and each solve reads the
    same matrices without changing them, so the answers are those of one thread.
    """
    todo = [kk for kk in range(1, k + 1) if not (solved is not None and kk == k)]

    def one(kk: int) -> MCLPSolution:
        return solve_mclp(
            A,
            w,
            kk,
            method=method,
            time_limit_s=time_limit_s,
            spopt_max_terms=spopt_max_terms,
            seen=seen,
            prices=prices,
        )

    threads = 1 if prices is not None else min(available_workers() if method in IN_PROCESS_SOLVERS else 1, len(todo))
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        # the largest problems first, so the last thread to finish is not left with the slowest solve
        with ThreadPoolExecutor(max_workers=threads) as pool:
            answers = dict(zip(todo[::-1], pool.map(one, todo[::-1]), strict=True))
    else:
        answers = {kk: one(kk) for kk in todo}
    if solved is not None:
        answers[k] = solved
    return answers


def cover_prices(A: sp.csr_matrix, w, fixed=None, fixed_A: sp.csr_matrix | None = None, seen=None) -> milp.CoverPrices:
    """The :class:`~.milp.CoverPrices` of a siting problem (``A``, harm ``w``, existing coverage as in
    :func:`solve_mclp`), for :func:`solve_mclp` and :func:`marginal_curve` to share across numbers of cameras."""
    return milp.CoverPrices.of(A, _Demand.of(A.shape[0], w, fixed, fixed_A, seen).residual)


def plot_marginal_curve(curve: pd.DataFrame, path, title: str = "Harm covered by new cameras"):
    """Write the marginal-gain curve as a PNG (matplotlib, Agg)."""
    matplotlib.use("Agg")

    fig, ax1 = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax1.plot(curve["new_cameras"], 100 * curve["share_covered"], "o-", color="#1f4e79", label="share of harm covered")
    ax1.set_xlabel("new cameras")
    ax1.set_ylabel("harm covered (%)")
    ax2 = ax1.twinx()
    c = curve[curve["new_cameras"] > 0]
    ax2.bar(c["new_cameras"], c["marginal_gain"], alpha=0.35, color="#c55a11", label="marginal gain")
    ax2.set_ylabel("harm added by the n-th camera")
    ax1.set_title(title)
    ax1.grid(alpha=0.3)
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def set_cover(
    A: sp.csr_matrix,
    w,
    target_share: float,
    fixed=None,
    total: float | None = None,
    time_limit_s: float = 60.0,
    seen=None,
) -> SetCoverSolution:
    """Fewest new sites so that expected covered harm >= ``target_share`` x total harm (HiGHS, greedy fallback).

    A partial set-covering model: minimise the number of sites subject to the
    covered weight reaching the target (the LSCP with a coverage target instead
    of full coverage).
    """
    d = _Demand.of(A.shape[0], w, fixed, seen=seen)
    total = float(d.w.sum()) if total is None else float(total)
    target = target_share * total
    base = d.base
    if base >= target - 1e-9:
        return SetCoverSolution(
            0,
            np.zeros(0, np.int64),
            base,
            target,
            total,
            0,
            "existing cameras",
            "optimal",
            ("the live cameras already reach the target",),
        )
    reach = d.coverable(A)
    if reach < target - 1e-9:
        return SetCoverSolution(
            None,
            np.zeros(0, np.int64),
            reach,
            target,
            total,
            0,
            "none",
            "unreachable",
            (
                f"every candidate together covers {100 * reach / total:.1f}% of harm, below the "
                f"{100 * target_share:.0f}% target; add candidate sites or lower target_share",
            ),
        )
    need = target - base
    r = d.residual
    # greedy: add sites until the target is met
    gc, gg = _greedy(A, r, A.shape[1])
    cum = np.cumsum(gg)
    n_g = int(np.searchsorted(cum, need - 1e-9) + 1)
    g_sel = gc[:n_g]
    lb = _lp_cover_bound(A, r, need, time_limit_s)
    if n_g <= lb:  # the greedy count meets the LP lower bound: optimal without branch and bound
        order, _ = _order_by_gain(A, r, g_sel)
        return SetCoverSolution(
            n_g,
            order,
            base + float(cum[n_g - 1]),
            target,
            total,
            lb,
            "partial set cover (HiGHS)",
            "optimal",
            ("proven optimal by the LP relaxation bound",),
        )
    ans = milp.partial_set_cover(A, r, need, time_limit_s)
    if len(ans.chosen) and len(ans.chosen) <= n_g:
        sel = ans.chosen
        cov = d.covered(A, sel)
        if cov >= target - 1e-6 * max(1.0, target):
            lb = len(sel) if ans.optimal else lb
            order, _ = _order_by_gain(A, r, sel)
            status = "optimal" if ans.optimal else "time limit (incumbent)"
            return SetCoverSolution(len(sel), order, cov, target, total, lb, "partial set cover (HiGHS)", status)
    return SetCoverSolution(
        n_g,
        g_sel,
        base + float(cum[n_g - 1]),
        target,
        total,
        lb,
        "greedy fallback",
        "not proven optimal; lower bound = ceil(LP relaxation)",
    )


def _lp_cover_bound(A: sp.csr_matrix, r: np.ndarray, need: float, time_limit_s: float) -> int:
    ans = milp.partial_set_cover(A, r, need, time_limit_s, relax=True)
    if not ans.optimal or not np.isfinite(ans.objective):
        return 1
    return int(np.ceil(ans.objective - 1e-6))
