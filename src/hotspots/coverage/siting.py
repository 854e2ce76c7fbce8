"""Camera siting: maximal covering (MCLP), set covering and the marginal-gain curve.

Demand is harm per grid cell (cell centres, working CRS); a candidate site
covers a cell when a camera placed there (type defaults from ``[cameras]``)
sees the cell centre. Existing live cameras are fixed: what they cover counts
as covered already.

Solvers
-------
* ``spopt``: :class:`spopt.locate.MCLP` with the live cameras as predefined
  facilities (``p = k + number of live cameras``). spopt writes one constraint
  term per demand x facility pair, so it is used while that product stays below
  ``[siting] spopt_max_terms``.
* ``pulp``: the same model written sparsely (only the pairs that cover), with
  continuous cover variables (integral at the optimum because sites are binary),
  solved by CBC with a time limit and a greedy warm start.
* ``greedy``: lazy greedy followed by single-swap interchange (numba). Whenever
  CBC does not prove optimality in time, the better of CBC's incumbent and this
  heuristic is returned with the LP relaxation bound and the gap to it.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import geopandas as gpd
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pulp
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree
from spopt.locate import MCLP

from .._util import kernel_array
from ..config.sections import SitingConfig  # noqa: F401  (the [siting] settings, re-exported beside their analysis)
from ..crs import DEFAULT_CRS
from . import _kernels as K
from .viewshed import visibility_pairs


@dataclass(frozen=True, eq=False)
class MCLPSolution:
    """k new sites maximising covered harm.

    ``chosen``: candidate indices ordered by marginal gain (the first is the best
    single addition given the rest of the chosen set's order). ``covered``: total
    harm covered including the fixed cameras; ``bound``: an upper bound on the
    optimum (equal to ``covered`` when proven optimal); ``gap`` = (bound -
    covered) / bound.
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


def _covered_weight(A: sp.csr_matrix, w: np.ndarray, chosen, fixed: np.ndarray) -> float:
    cov = fixed.copy()
    if len(chosen):
        cov |= np.asarray(A[:, np.asarray(chosen)].sum(axis=1)).ravel() > 0
    return float(w[cov].sum())


def _order_by_gain(A: sp.csr_matrix, w: np.ndarray, chosen, fixed: np.ndarray):
    """Order a chosen set greedily by marginal gain; returns (order, gains)."""
    chosen = [int(j) for j in chosen]
    if not chosen:
        return np.zeros(0, np.int64), np.zeros(0)
    sub = A[:, chosen].tocsc()
    cov = fixed.copy()
    order, gains = [], []
    left = list(range(len(chosen)))
    while left:
        best, bg = None, -1.0
        for t in left:
            rows = sub.indices[sub.indptr[t] : sub.indptr[t + 1]]
            g = float(w[rows[~cov[rows]]].sum())
            if g > bg + 1e-12:
                best, bg = t, g
        order.append(chosen[best])
        gains.append(bg)
        rows = sub.indices[sub.indptr[best] : sub.indptr[best + 1]]
        cov[rows] = True
        left.remove(best)
    return np.asarray(order, np.int64), np.asarray(gains)


def greedy_mclp(A: sp.csr_matrix, w, k: int, fixed=None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy maximal covering: (chosen site indices in order, marginal harm per site)."""
    w = np.asarray(w, float)
    fixed = np.zeros(A.shape[0], bool) if fixed is None else np.asarray(fixed, bool)
    At = A.T.tocsr()
    chosen, gains = K.greedy_max_cover(
        kernel_array(At.indptr, np.int64),
        kernel_array(At.indices, np.int64),
        kernel_array(w, np.float64),
        kernel_array(fixed, np.uint8),
        int(k),
    )
    return chosen, gains


def greedy_interchange(A: sp.csr_matrix, w, k: int, fixed=None, max_passes: int = 200):
    """Greedy followed by single-swap interchange (vertex substitution); (sites ordered by gain, gains)."""
    w = np.asarray(w, float)
    fixed = np.zeros(A.shape[0], bool) if fixed is None else np.asarray(fixed, bool)
    chosen, gains = greedy_mclp(A, w, k, fixed)
    if len(chosen) < k or len(chosen) == 0:
        return chosen, gains
    At = A.T.tocsr()
    better = K.interchange(
        kernel_array(At.indptr, np.int64),
        kernel_array(At.indices, np.int64),
        kernel_array(w, np.float64),
        kernel_array(fixed, np.uint8),
        kernel_array(chosen, np.int64),
        int(max_passes),
    )
    return _order_by_gain(A, w, better, fixed)


def _reduce(A: sp.csr_matrix, w: np.ndarray, fixed: np.ndarray):
    """Demand rows that matter: positive weight, not yet covered, coverable by some site."""
    coverable = np.asarray(A.sum(axis=1)).ravel() > 0
    keep = (w > 0) & ~fixed & coverable
    return keep


def _cbc(time_limit_s: float, msg: bool = False, warm: bool = False):
    return pulp.PULP_CBC_CMD(msg=msg, timeLimit=max(1, int(math.ceil(time_limit_s))), warmStart=warm)


def _sparse_model(Ar: sp.csr_matrix, wr: np.ndarray, k: int, relax: bool, start=None):
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    nd, nc = Ar.shape
    x = [pulp.LpVariable(f"x{j}", 0, 1, cat=pulp.LpContinuous if relax else pulp.LpBinary) for j in range(nc)]
    y = [pulp.LpVariable(f"y{i}", 0, 1) for i in range(nd)]
    prob += pulp.LpAffineExpression([(y[i], float(wr[i])) for i in range(nd)])
    for i in range(nd):
        cols = Ar.indices[Ar.indptr[i] : Ar.indptr[i + 1]]
        e = pulp.LpAffineExpression([(x[j], 1.0) for j in cols] + [(y[i], -1.0)])
        prob += pulp.LpConstraint(e, pulp.LpConstraintGE, rhs=0.0)
    prob += pulp.LpConstraint(pulp.LpAffineExpression([(v, 1.0) for v in x]), pulp.LpConstraintLE, rhs=float(k))
    if start is not None:
        s = set(int(j) for j in start)
        for j, v in enumerate(x):
            v.setInitialValue(1.0 if j in s else 0.0)
    return prob, x, y


def _lp_relaxation(A: sp.csr_matrix, w, k: int, fixed, time_limit_s: float):
    """(upper bound incl. fixed coverage, fractional site values or None)."""
    base = float(w[fixed].sum())
    keep = _reduce(A, w, fixed)
    if not keep.any():
        return base, None
    prob, x, y = _sparse_model(A[keep], w[keep], k, relax=True)
    prob.solve(_cbc(time_limit_s))
    if pulp.LpStatus[prob.status] != "Optimal":
        return base + float(w[keep].sum()), None  # trivial bound
    return base + float(pulp.value(prob.objective) or 0.0), np.array([v.value() or 0.0 for v in x])


def lp_bound(A: sp.csr_matrix, w, k: int, fixed=None, time_limit_s: float = 60.0) -> float:
    """LP relaxation upper bound on the harm covered with k new sites (incl. fixed coverage)."""
    w = np.asarray(w, float)
    fixed = np.zeros(A.shape[0], bool) if fixed is None else np.asarray(fixed, bool)
    return _lp_relaxation(A, w, k, fixed, time_limit_s)[0]


def lp_rounding(A: sp.csr_matrix, w, k: int, fixed=None, time_limit_s: float = 60.0, max_passes: int = 200):
    """LP relaxation, the k largest fractional sites, then single-swap interchange.

    Returns (sites ordered by gain, gains, LP bound)."""
    w = np.asarray(w, float)
    fixed = np.zeros(A.shape[0], bool) if fixed is None else np.asarray(fixed, bool)
    bound, xs = _lp_relaxation(A, w, k, fixed, time_limit_s)
    if xs is None:
        ch, g = greedy_interchange(A, w, k, fixed, max_passes)
        return ch, g, bound
    start = np.argsort(-xs, kind="stable")[:k]
    At = A.T.tocsr()
    better = K.interchange(
        kernel_array(At.indptr, np.int64),
        kernel_array(At.indices, np.int64),
        kernel_array(w, np.float64),
        kernel_array(fixed, np.uint8),
        kernel_array(start, np.int64),
        int(max_passes),
    )
    ch, g = _order_by_gain(A, w, better, fixed)
    return ch, g, bound


def solve_mclp(
    A: sp.csr_matrix,
    w,
    k: int,
    fixed=None,
    fixed_A: sp.csr_matrix | None = None,
    method: str = "auto",
    time_limit_s: float = 60.0,
    spopt_max_terms: int = 250_000,
) -> MCLPSolution:
    """Choose ``k`` sites (columns of ``A``, n_demand x n_sites) maximising covered weight ``w``.

    ``fixed`` marks demand already covered by existing cameras (or give
    ``fixed_A``, n_demand x n_existing, from which it is derived and which spopt
    receives as predefined facilities).
    """
    t0 = time.perf_counter()
    w = np.asarray(w, float)
    nd, nc = A.shape
    if fixed is None:
        fixed = (
            (np.asarray(fixed_A.sum(axis=1)).ravel() > 0)
            if fixed_A is not None and fixed_A.shape[1]
            else np.zeros(nd, bool)
        )
    fixed = np.asarray(fixed, bool)
    base = float(w[fixed].sum())
    k = int(min(k, nc))
    notes: list[str] = []
    g_chosen, g_gains = greedy_mclp(A, w, k, fixed)
    if len(g_chosen) == k:
        g_chosen, g_gains = greedy_interchange(A, w, k, fixed)
    g_cov = base + float(g_gains.sum())
    keep = _reduce(A, w, fixed)
    total_coverable = base + float(w[keep].sum())
    if len(g_chosen) < k:
        # fewer useful sites than k: greedy then covers everything coverable -> optimal
        return MCLPSolution(
            g_chosen,
            g_gains,
            g_cov,
            base,
            g_cov,
            0.0,
            "greedy",
            f"optimal (all coverable harm covered with {len(g_chosen)} site(s))",
            time.perf_counter() - t0,
        )
    if method == "greedy":
        bound = lp_bound(A, w, k, fixed, time_limit_s)
        gap = (bound - g_cov) / bound if bound > 0 else 0.0
        return MCLPSolution(
            g_chosen,
            g_gains,
            g_cov,
            base,
            bound,
            max(0.0, gap),
            "greedy + interchange",
            "heuristic (LP relaxation bound)",
            time.perf_counter() - t0,
        )
    # only sites that see some uncovered demand can matter
    uidx = np.nonzero(np.asarray(A[keep].sum(axis=0)).ravel() > 0)[0]
    if method == "auto":
        n_fixed_cols = fixed_A.shape[1] if fixed_A is not None else 0
        method = "spopt" if int(keep.sum() + fixed.sum()) * (len(uidx) + n_fixed_cols) <= spopt_max_terms else "pulp"
    chosen = None
    status = ""
    if method == "spopt":
        nfix = 0
        rows = keep | ((w > 0) & fixed)
        cols_A = A[rows][:, uidx]
        ncu = len(uidx)
        if fixed_A is not None and fixed_A.shape[1]:
            fa = fixed_A[rows]
            used = np.asarray(fa.sum(axis=0)).ravel() > 0
            fa = fa[:, np.nonzero(used)[0]]
            nfix = fa.shape[1]
            full = sp.hstack([cols_A, fa]).tocsr()
        else:
            full = cols_A
            if fixed[rows].any():
                # fixed coverage without camera columns: one synthetic predefined facility
                full = sp.hstack([cols_A, sp.csr_matrix(fixed[rows].astype(np.int8)[:, None])]).tocsr()
                nfix = 1
        cost = np.where(full.toarray() > 0, 0.0, 1.0)
        predef = np.r_[np.zeros(ncu, bool), np.ones(nfix, bool)] if nfix else None
        model = MCLP.from_cost_matrix(
            cost, w[rows], service_radius=0.5, p_facilities=k + nfix, predefined_facilities_arr=predef
        )
        try:
            model.solve(_cbc(time_limit_s), results=False)
            sol = model.problem.sol_status
            xs = np.array([v.value() or 0.0 for v in model.fac_vars[:ncu]])
            chosen = uidx[np.nonzero(xs > 0.5)[0]]
            status = "optimal" if sol == pulp.LpSolutionOptimal else "time limit (incumbent)"
        except RuntimeError as exc:
            notes.append(f"spopt/CBC did not solve: {exc}")
            chosen = None
        label = "spopt MCLP (CBC)"
    else:
        Ar = A[keep][:, uidx].tocsr()
        wr = w[keep]
        pos = {int(j): t for t, j in enumerate(uidx)}
        prob, x, _y = _sparse_model(Ar, wr, k, relax=False, start=[pos[int(j)] for j in g_chosen if int(j) in pos])
        prob.solve(_cbc(time_limit_s, warm=True))
        if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            xs = np.array([v.value() or 0.0 for v in x])
            chosen = uidx[np.nonzero(xs > 0.5)[0]]
            status = "optimal" if prob.sol_status == pulp.LpSolutionOptimal else "time limit (incumbent)"
        else:
            notes.append(f"CBC status {pulp.LpStatus[prob.status]}")
        label = "sparse MCLP (PuLP/CBC)"
    if chosen is not None and len(chosen) > k:
        chosen = chosen[:k]
    if chosen is not None:
        cov = _covered_weight(A, w, chosen, fixed)
        if status == "optimal" and cov + 1e-6 * max(1.0, cov) >= g_cov:
            order, gains = _order_by_gain(A, w, chosen, fixed)
            return MCLPSolution(
                order, gains, cov, base, cov, 0.0, label, "optimal", time.perf_counter() - t0, tuple(notes)
            )
    else:
        cov = -1.0
    # not proven optimal: best of incumbent, greedy + interchange and LP rounding, with the LP bound
    r_ch, r_g, bound = lp_rounding(A, w, k, fixed, time_limit_s)
    bound = min(bound, total_coverable)
    if base + float(r_g.sum()) > g_cov + 1e-9:
        g_chosen, g_gains, g_cov = r_ch, r_g, base + float(r_g.sum())
    if cov > g_cov:
        order, gains = _order_by_gain(A, w, chosen, fixed)
        best, bg, how = order, gains, f"{label}, {status}"
    else:
        best, bg, cov = g_chosen, g_gains, g_cov
        how = f"heuristic fallback: greedy / LP rounding + interchange ({label}: {status or 'no solution'})"
    gap = (bound - cov) / bound if bound > 0 else 0.0
    return MCLPSolution(
        best,
        bg,
        cov,
        base,
        bound,
        max(0.0, gap),
        how,
        "not proven optimal; bound = LP relaxation",
        time.perf_counter() - t0,
        tuple(notes),
    )


def brute_force_mclp(A: sp.csr_matrix, w, k: int, fixed=None) -> tuple[float, tuple[int, ...]]:
    """Exact optimum by enumerating every k-subset (small instances only)."""
    w = np.asarray(w, float)
    nd, nc = A.shape
    fixed = np.zeros(nd, bool) if fixed is None else np.asarray(fixed, bool)
    D = A.toarray().astype(bool)
    best, arg = -1.0, ()
    for combo in itertools.combinations(range(nc), min(k, nc)):
        cov = fixed | D[:, list(combo)].any(axis=1)
        v = float(w[cov].sum())
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
) -> pd.DataFrame:
    """Harm covered with 1..k new cameras: greedy and (``curve='optimal'``) the MCLP optimum per k."""
    w = np.asarray(w, float)
    fixed = np.zeros(A.shape[0], bool) if fixed is None else np.asarray(fixed, bool)
    base = float(w[fixed].sum())
    total = float(w.sum()) if total is None else float(total)
    g_chosen, g_gains = greedy_mclp(A, w, k, fixed)
    rows = []
    prev = base
    for kk in range(1, k + 1):
        g = base + float(g_gains[:kk].sum())
        row = {"new_cameras": kk, "harm_covered_greedy": g}
        if curve == "optimal":
            s = solve_mclp(A, w, kk, fixed, fixed_A, method, time_limit_s, spopt_max_terms)
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
    A: sp.csr_matrix, w, target_share: float, fixed=None, total: float | None = None, time_limit_s: float = 60.0
) -> SetCoverSolution:
    """Fewest new sites so that covered harm >= ``target_share`` x total harm (PuLP/CBC, greedy fallback).

    A partial set-covering model: minimise the number of sites subject to the
    covered weight reaching the target (the LSCP with a coverage target instead
    of full coverage).
    """
    w = np.asarray(w, float)
    fixed = np.zeros(A.shape[0], bool) if fixed is None else np.asarray(fixed, bool)
    total = float(w.sum()) if total is None else float(total)
    target = target_share * total
    base = float(w[fixed].sum())
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
    keep = _reduce(A, w, fixed)
    reach = base + float(w[keep].sum())
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
    Ar, wr = A[keep], w[keep]
    # greedy: add sites until the target is met
    gc, gg = greedy_mclp(Ar, wr, Ar.shape[1])
    cum = np.cumsum(gg)
    n_g = int(np.searchsorted(cum, need - 1e-9) + 1)
    g_sel = gc[:n_g]
    prob = pulp.LpProblem("partial_set_cover", pulp.LpMinimize)
    nd, nc = Ar.shape
    x = [pulp.LpVariable(f"x{j}", cat=pulp.LpBinary) for j in range(nc)]
    y = [pulp.LpVariable(f"y{i}", 0, 1) for i in range(nd)]
    prob += pulp.lpSum(x)
    for i in range(nd):
        cols = Ar.indices[Ar.indptr[i] : Ar.indptr[i + 1]]
        prob += pulp.LpConstraint(
            pulp.LpAffineExpression([(x[j], 1.0) for j in cols] + [(y[i], -1.0)]), pulp.LpConstraintGE, rhs=0.0
        )
    prob += pulp.LpConstraint(
        pulp.LpAffineExpression([(y[i], float(wr[i])) for i in range(nd)]), pulp.LpConstraintGE, rhs=float(need) - 1e-9
    )
    s = set(int(j) for j in g_sel)
    for j, v in enumerate(x):
        v.setInitialValue(1.0 if j in s else 0.0)
    prob.solve(_cbc(time_limit_s, warm=True))
    if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        xs = np.array([v.value() or 0.0 for v in x])
        sel = np.nonzero(xs > 0.5)[0]
        if len(sel) <= n_g:
            cov = base + float(wr[np.asarray(Ar[:, sel].sum(axis=1)).ravel() > 0].sum())
            st = "optimal" if prob.sol_status == pulp.LpSolutionOptimal else "time limit (incumbent)"
            lb = len(sel) if st == "optimal" else _lp_cover_bound(Ar, wr, need, time_limit_s)
            order, _ = _order_by_gain(A[:, :], w, sel, fixed) if len(sel) else (sel, None)
            return SetCoverSolution(len(sel), order, cov, target, total, lb, "PuLP/CBC partial set cover", st)
    lb = _lp_cover_bound(Ar, wr, need, time_limit_s)
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


def _lp_cover_bound(Ar, wr, need, time_limit_s) -> int:
    nd, nc = Ar.shape
    prob = pulp.LpProblem("psc_lp", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{j}", 0, 1) for j in range(nc)]
    y = [pulp.LpVariable(f"y{i}", 0, 1) for i in range(nd)]
    prob += pulp.lpSum(x)
    for i in range(nd):
        cols = Ar.indices[Ar.indptr[i] : Ar.indptr[i + 1]]
        prob += pulp.LpAffineExpression([(x[j], 1.0) for j in cols] + [(y[i], -1.0)]) >= 0
    prob += pulp.LpAffineExpression([(y[i], float(wr[i])) for i in range(nd)]) >= float(need) - 1e-9
    prob.solve(_cbc(time_limit_s))
    if pulp.LpStatus[prob.status] != "Optimal":
        return 1
    return int(math.ceil((pulp.value(prob.objective) or 0.0) - 1e-6))


# --------------------------------------------------------------------------- candidates
def _thin_spatially(df: pd.DataFrame, spacing_m: float, max_candidates: int) -> pd.DataFrame:
    """Keep at most one site per square of side ``s`` metres (road sites first), growing
    ``s`` until no more than ``max_candidates`` remain, so thinning keeps every part of
    the zone served instead of dropping whole areas."""
    order = np.argsort((df["source"] != "road").to_numpy(), kind="stable")
    df = df.iloc[order].reset_index(drop=True)
    s = max(spacing_m, 1.0)
    while True:
        s *= 1.25
        key = np.floor(df["x"] / s).astype(np.int64) * 1_000_003 + np.floor(df["y"] / s).astype(np.int64)
        kept = df[~key.duplicated()]
        if len(kept) <= max_candidates:
            return kept.sort_values(["x", "y"], kind="stable").reset_index(drop=True)


def generate_candidates(
    focus,
    roads=None,
    boundary=None,
    spacing_m: float = 40.0,
    buffer_m: float = 150.0,
    max_candidates: int = 2000,
    crs=DEFAULT_CRS,
):
    """Candidate camera sites (GeoDataFrame in ``crs``, the working CRS, metres) inside and near the focus areas.

    ``focus``: shapely geometry or GeoDataFrame of hotspot areas / high-harm
    cells. The focus is buffered by ``buffer_m`` metres (and clipped to
    ``boundary`` buffered by ``buffer_m``). With ``roads`` (lines, optional
    ``road_class``/``name``), sites are points every ``spacing_m`` metres along
    the roads in that zone (where street furniture stands), plus a lattice every
    ``2 * spacing_m`` metres where no road passes within that distance; without
    roads, a lattice every ``spacing_m`` metres. More than ``max_candidates`` sites are
    thinned evenly. Columns: ``site_id, x, y, source, road_class, road_name``.
    """
    if hasattr(focus, "geometry"):
        fgeom = shapely.union_all(focus.to_crs(crs).geometry.to_numpy() if focus.crs else focus.geometry.to_numpy())
    else:
        fgeom = focus
    zone = fgeom.buffer(buffer_m) if buffer_m > 0 else fgeom
    if boundary is not None:
        zone = zone.intersection(boundary.buffer(buffer_m))
    xs, ys, src, rcls, rname = [], [], [], [], []
    if roads is not None and len(roads):
        r = roads.to_crs(crs) if roads.crs is not None else roads
        r = r[r.geometry.intersects(zone)]
        for i in range(len(r)):
            seg = r.geometry.iat[i].intersection(zone)
            parts = getattr(seg, "geoms", [seg])
            for ln in parts:
                if ln.geom_type != "LineString" or ln.length == 0:
                    continue
                d = np.arange(spacing_m / 2, ln.length, spacing_m) if ln.length > spacing_m else [ln.length / 2]
                pts = shapely.line_interpolate_point(ln, np.asarray(d, float))
                xs.extend(shapely.get_x(pts))
                ys.extend(shapely.get_y(pts))
                src.extend(["road"] * len(pts))
                rcls.extend([str(r["road_class"].iat[i]) if "road_class" in r.columns else ""] * len(pts))
                rname.extend([str(r["name"].iat[i]) if "name" in r.columns else ""] * len(pts))
    # a lattice fills the parts of the zone no road passes near (estates, car parks, parks),
    # so a sparse road layer never leaves a hotspot without a candidate site
    step = spacing_m if not xs else 2 * spacing_m
    minx, miny, maxx, maxy = zone.bounds
    gx, gy = np.meshgrid(np.arange(minx + step / 2, maxx, step), np.arange(miny + step / 2, maxy, step))
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(zone, gx, gy)
    gx, gy = gx[inside], gy[inside]
    if xs and len(gx):
        dist, _ = cKDTree(np.column_stack([xs, ys])).query(np.column_stack([gx, gy]))
        gx, gy = gx[dist > step], gy[dist > step]
    xs, ys = list(xs) + list(gx), list(ys) + list(gy)
    src = list(src) + ["lattice"] * len(gx)
    rcls = list(rcls) + [""] * len(gx)
    rname = list(rname) + [""] * len(gx)
    df = pd.DataFrame(
        {
            "x": np.round(np.asarray(xs, float), 1),
            "y": np.round(np.asarray(ys, float), 1),
            "source": src,
            "road_class": rcls,
            "road_name": rname,
        }
    )
    df = df.drop_duplicates(["x", "y"]).reset_index(drop=True)
    if len(df) > max_candidates:
        df = _thin_spatially(df, spacing_m, max_candidates)
    df.insert(0, "site_id", [f"S{i + 1:04d}" for i in range(len(df))])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=crs)
