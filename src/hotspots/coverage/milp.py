"""Exact siting models solved in this process with HiGHS (:func:`scipy.optimize.milp`).

No subprocess and no model file on disk: the constraint matrix goes to HiGHS
as a sparse matrix. Three models over a 0/1 coverage matrix ``A`` (demand
points x candidate sites, CSR) and demand weights ``w`` (harm):

* :func:`mclp` -- maximal covering: at most ``k`` sites maximising the covered
  weight (``max sum w_i y_i`` s.t. ``y_i <= sum_{j covers i} x_j``,
  ``sum x_j <= k``, ``x`` binary, ``0 <= y <= 1``; ``y`` is integral at the
  optimum because ``x`` is);
* :func:`mclp_lp_bound` -- the same model with ``x`` continuous: an upper bound;
  :class:`CoverPrices` keeps the prices of the demand rows (the LP's duals) it finds,
  which bound the optimum at every ``k`` at once;
* :func:`partial_set_cover` -- fewest sites whose covered weight reaches a target.

Before solving, demand points that no site covers or that weigh nothing are
dropped and points covered by exactly the same sites are merged (their weights
summed): an equivalent model with the same optimum, often several times smaller.
The solution is checked against ``A`` by the caller; the relative MIP gap is 0,
so "optimal" means proven optimal, not within HiGHS's default 0.01 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

#: HiGHS status codes of :func:`scipy.optimize.milp` (0 optimal, 1 a limit was reached).
_OPTIMAL, _LIMIT = 0, 1


@dataclass(frozen=True)
class MilpAnswer:
    """What HiGHS returned: the chosen sites (column indices of the original ``A``), the objective
    (covered weight of the reduced model, or number of sites), whether it is proven optimal, and the
    status text (``"optimal"``, ``"time limit (incumbent)"`` or ``"no solution: <reason>"``)."""

    chosen: np.ndarray
    objective: float
    optimal: bool
    status: str


def reduce_demand(A: sp.csr_matrix, w: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """An equivalent, smaller covering problem: (rows x useful sites, weights, useful site indices).

    Rows with no weight or no covering site are dropped; rows covered by the
    same set of sites are merged into one row carrying the sum of their weights;
    sites that cover no remaining row are dropped (they can never add weight).
    """
    A = sp.csr_matrix(A)
    A.sort_indices()
    w = np.asarray(w, float)
    nnz_row = np.diff(A.indptr)
    keep = np.nonzero((w > 0) & (nnz_row > 0))[0]
    if len(keep) == 0:
        return sp.csr_matrix((0, 0), dtype=np.int8), np.zeros(0), np.zeros(0, np.int64)
    Ak = A[keep]
    keys = [Ak.indices[Ak.indptr[i] : Ak.indptr[i + 1]].tobytes() for i in range(Ak.shape[0])]
    codes, groups = pd.factorize(pd.Series(keys, dtype=object), sort=False)
    wr = np.bincount(codes, weights=w[keep], minlength=len(groups))
    first = np.unique(codes, return_index=True)[1]  # one row of each group (all rows of a group are equal)
    Ar = Ak[first]
    cols = np.unique(Ar.indices)
    return Ar[:, cols].tocsr(), wr, cols.astype(np.int64)


def _cover_rows(Ar: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The rows of the maximal covering model over (x, y): covering ``y_i - sum_j A_ij x_j <= 0`` and the budget
    ``sum_j x_j`` (at most k)."""
    nd, nc = Ar.shape
    link = sp.hstack([-Ar.astype(float), sp.identity(nd, format="csr")], format="csr")
    budget = sp.csr_matrix(np.r_[np.ones(nc), np.zeros(nd)][None, :])
    return link, budget


def _cover_model(Ar: sp.csr_matrix, wr: np.ndarray, k: int, relax: bool):
    """(c, integrality, bounds, constraints) of the maximal covering model on the reduced matrix."""
    nd, nc = Ar.shape
    c = np.r_[np.zeros(nc), -wr]  # minimise -covered weight
    integrality = np.r_[np.zeros(nc) if relax else np.ones(nc), np.zeros(nd)]
    link, budget = _cover_rows(Ar)
    cons = [
        LinearConstraint(link, -np.inf, 0.0),
        LinearConstraint(budget, -np.inf, float(k)),
    ]
    return c, integrality, Bounds(0.0, 1.0), cons


def _options(time_limit_s: float) -> dict:
    return {"time_limit": float(time_limit_s), "mip_rel_gap": 0.0, "disp": False}


def _answer(res, cols: np.ndarray, n_x: int, what: str) -> MilpAnswer:
    if res.x is None:
        return MilpAnswer(np.zeros(0, np.int64), np.nan, False, f"no solution: {res.message}")
    x = np.asarray(res.x[:n_x])
    chosen = cols[np.nonzero(x > 0.5)[0]]
    optimal = res.status == _OPTIMAL
    status = "optimal" if optimal else ("time limit (incumbent)" if res.status == _LIMIT else res.message)
    return MilpAnswer(np.sort(chosen), float(res.fun), optimal, status if optimal else f"{what}: {status}")


def mclp(A: sp.csr_matrix, w, k: int, time_limit_s: float = 60.0) -> MilpAnswer:
    """At most ``k`` columns of ``A`` maximising the weight ``w`` of the rows they cover (HiGHS).

    ``objective`` is the covered weight. Rows already covered by existing
    cameras should be left out (zero weight) by the caller.
    """
    Ar, wr, cols = reduce_demand(A, w)
    if len(cols) == 0:
        return MilpAnswer(np.zeros(0, np.int64), 0.0, True, "optimal")
    c, integ, bounds, cons = _cover_model(Ar, wr, min(int(k), len(cols)), relax=False)
    res = milp(c, integrality=integ, bounds=bounds, constraints=cons, options=_options(time_limit_s))
    ans = _answer(res, cols, len(cols), "maximal covering")
    return MilpAnswer(ans.chosen, -ans.objective if np.isfinite(ans.objective) else np.nan, ans.optimal, ans.status)


def mclp_lp_bound(A: sp.csr_matrix, w, k: int, time_limit_s: float = 60.0) -> tuple[float, np.ndarray | None]:
    """LP relaxation of :func:`mclp`: (upper bound on the covered weight, fractional value per column of
    ``A`` or None when the LP did not solve; the bound is then the total coverable weight)."""
    return CoverPrices.of(A, w).solve(k, time_limit_s)


@dataclass(eq=False)
class CoverPrices:
    """Upper bounds for one maximal covering problem (``A``, ``w``) at any number of sites ``k``.

    Any price ``p_i >= 0`` per demand row bounds the weight that ``k`` sites can cover
    (the Lagrangian relaxation of the covering rows ``y_i <= sum_j A_ij x_j``)::

        sum_i max(0, w_i - p_i)  +  the sum of the k largest  sum_i A_ij p_i

    At the prices of the LP relaxation's optimum (its row duals) this equals the LP
    optimum at that ``k``, and it often equals the LP optimum at neighbouring ``k`` too.
    :meth:`solve` solves the LP at one ``k`` (HiGHS) and keeps its prices; :meth:`bound`
    is the least bound over the prices kept so far (infinite before any), so a solver
    that only needs to show its sites reach the LP optimum can try the prices it has
    before solving another LP. ``w`` is the weight of each row of ``A`` (for siting: the
    harm existing cameras do not see yet).
    """

    w: np.ndarray
    Ar: sp.csr_matrix
    wr: np.ndarray
    cols: np.ndarray
    n_sites: int
    prices: list[np.ndarray]

    @classmethod
    def of(cls, A: sp.csr_matrix, w) -> CoverPrices:
        w = np.asarray(w, float)
        Ar, wr, cols = reduce_demand(A, w)
        return cls(w, Ar, wr, cols, int(A.shape[1]), [])

    def belongs_to(self, w) -> bool:
        """Whether these prices are of the problem with row weights ``w`` (the same ``A`` is the caller's duty)."""
        return np.array_equal(self.w, np.asarray(w, float))

    def bound_at(self, price: np.ndarray, k: int) -> float:
        """The bound on the weight ``k`` sites can cover given by ``price`` (one per reduced row, >= 0)."""
        site_value = np.asarray(self.Ar.T @ price).ravel()
        top = np.sort(site_value)[::-1][: max(0, min(int(k), len(site_value)))]
        return float(np.maximum(self.wr - price, 0.0).sum() + top.sum())

    def bound(self, k: int) -> float:
        """The least bound at ``k`` over the prices kept so far (0 when no site covers any weight)."""
        if len(self.cols) == 0:
            return 0.0
        return min((self.bound_at(p, k) for p in self.prices), default=np.inf)

    def solve(self, k: int, time_limit_s: float = 60.0) -> tuple[float, np.ndarray | None]:
        """The LP relaxation at ``k`` (HiGHS), keeping its prices for :meth:`bound`: (its optimum, the
        fractional value of each site, a column of the original ``A``), or (the total coverable weight,
        None) when the LP did not solve."""
        if len(self.cols) == 0:
            return 0.0, np.zeros(self.n_sites)
        nd, nc = self.Ar.shape
        link, budget = _cover_rows(self.Ar)
        res = linprog(
            np.r_[np.zeros(nc), -self.wr],
            A_ub=sp.vstack([link, budget], format="csr"),
            b_ub=np.r_[np.zeros(nd), float(min(int(k), nc))],
            bounds=(0.0, 1.0),
            method="highs",
            options={"time_limit": float(time_limit_s), "disp": False},
        )
        if res.status != _OPTIMAL or res.x is None:
            return float(self.wr.sum()), None
        self.prices.append(np.maximum(-np.asarray(res.ineqlin.marginals[:nd]), 0.0))
        xs = np.zeros(self.n_sites)
        xs[self.cols] = res.x[:nc]
        return float(-res.fun), xs


def partial_set_cover(A: sp.csr_matrix, w, need: float, time_limit_s: float = 60.0, relax: bool = False) -> MilpAnswer:
    """Fewest columns of ``A`` whose covered rows weigh at least ``need`` (HiGHS); ``objective`` is the
    number of sites (fractional with ``relax``: a lower bound)."""
    Ar, wr, cols = reduce_demand(A, w)
    nd, nc = Ar.shape
    if nc == 0:
        return MilpAnswer(np.zeros(0, np.int64), np.nan, False, "no solution: no site covers any weight")
    c = np.r_[np.ones(nc), np.zeros(nd)]
    integrality = np.r_[np.zeros(nc) if relax else np.ones(nc), np.zeros(nd)]
    link = sp.hstack([-Ar.astype(float), sp.identity(nd, format="csr")], format="csr")
    target = sp.csr_matrix(np.r_[np.zeros(nc), wr][None, :])
    cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(target, float(need) - 1e-9, np.inf)]
    res = milp(c, integrality=integrality, bounds=Bounds(0.0, 1.0), constraints=cons, options=_options(time_limit_s))
    return _answer(res, cols, nc, "partial set cover")
