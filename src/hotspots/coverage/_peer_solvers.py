"""The same siting models solved by peers: spopt's MCLP and PuLP with CBC (``[siting] solver``).

The engine solves with HiGHS in-process (:mod:`.milp`); these solvers stay
available as independent cross-checks (tests and ``benchmarks/bench_siting.py``
compare their optima with HiGHS and brute force) and for users who ask for
them. Both run CBC as a child process that reads and writes model files, and
spopt's import takes about two seconds, so both are imported only when used.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .milp import MilpAnswer, reduce_demand


def _cbc(time_limit_s: float, msg: bool = False, warm: bool = False):
    import pulp

    return pulp.PULP_CBC_CMD(msg=msg, timeLimit=max(1, int(math.ceil(time_limit_s))), warmStart=warm)


def _sparse_model(Ar: sp.csr_matrix, wr: np.ndarray, k: int, start=None):
    import pulp

    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    nd, nc = Ar.shape
    x = [pulp.LpVariable(f"x{j}", 0, 1, cat=pulp.LpBinary) for j in range(nc)]
    y = [pulp.LpVariable(f"y{i}", 0, 1) for i in range(nd)]
    prob += pulp.LpAffineExpression([(y[i], float(wr[i])) for i in range(nd)])
    for i in range(nd):
        cols = Ar.indices[Ar.indptr[i] : Ar.indptr[i + 1]]
        e = pulp.LpAffineExpression([(x[j], 1.0) for j in cols] + [(y[i], -1.0)])
        prob += pulp.LpConstraint(e, pulp.LpConstraintGE, rhs=0.0)
    prob += pulp.LpConstraint(pulp.LpAffineExpression([(v, 1.0) for v in x]), pulp.LpConstraintLE, rhs=float(k))
    if start is not None:
        s = {int(j) for j in start}
        for j, v in enumerate(x):
            v.setInitialValue(1.0 if j in s else 0.0)
    return prob, x


def pulp_mclp(A: sp.csr_matrix, w, k: int, time_limit_s: float, start=()) -> MilpAnswer:
    """Maximal covering written sparsely with PuLP and solved by CBC (warm-started from ``start``,
    column indices of ``A``). Same model and reduction as :func:`hotspots.coverage.milp.mclp`."""
    import pulp

    Ar, wr, cols = reduce_demand(A, w)
    if len(cols) == 0:
        return MilpAnswer(np.zeros(0, np.int64), 0.0, True, "optimal")
    pos = {int(j): t for t, j in enumerate(cols)}
    prob, x = _sparse_model(Ar, wr, min(int(k), len(cols)), start=[pos[int(j)] for j in start if int(j) in pos])
    prob.solve(_cbc(time_limit_s, warm=True))
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return MilpAnswer(np.zeros(0, np.int64), np.nan, False, f"no solution: CBC status {pulp.LpStatus[prob.status]}")
    xs = np.array([v.value() or 0.0 for v in x])
    optimal = prob.sol_status == pulp.LpSolutionOptimal
    return MilpAnswer(
        np.sort(cols[np.nonzero(xs > 0.5)[0]]),
        float(pulp.value(prob.objective) or 0.0),
        optimal,
        "optimal" if optimal else "time limit (incumbent)",
    )


def spopt_mclp(A: sp.csr_matrix, w, k: int, time_limit_s: float) -> MilpAnswer:
    """:class:`spopt.locate.MCLP` (CBC) on the reduced problem: a site covers a demand point at cost 0,
    otherwise at cost 1, with a service radius of 0.5. spopt writes one term per demand x site pair."""
    import pulp
    from spopt.locate import MCLP

    Ar, wr, cols = reduce_demand(A, w)
    if len(cols) == 0:
        return MilpAnswer(np.zeros(0, np.int64), 0.0, True, "optimal")
    cost = np.where(Ar.toarray() > 0, 0.0, 1.0)
    model = MCLP.from_cost_matrix(cost, wr, service_radius=0.5, p_facilities=min(int(k), len(cols)))
    try:
        model.solve(_cbc(time_limit_s), results=False)
    except RuntimeError as exc:
        return MilpAnswer(np.zeros(0, np.int64), np.nan, False, f"no solution: spopt/CBC did not solve ({exc})")
    xs = np.array([v.value() or 0.0 for v in model.fac_vars])
    optimal = model.problem.sol_status == pulp.LpSolutionOptimal
    return MilpAnswer(
        np.sort(cols[np.nonzero(xs > 0.5)[0]]),
        float(pulp.value(model.problem.objective) or 0.0),
        optimal,
        "optimal" if optimal else "time limit (incumbent)",
    )
