"""A fitted gradient-boosted model as plain arrays: kept on disk between meetings, predicted without it.

:class:`~.methods.LearnedRisk` fits scikit-learn's ``HistGradientBoostingRegressor(loss="poisson")``.
Its refit cadence reuses a model fitted at an earlier origin, also in the next meeting's run, so
the model must outlive the process that fitted it. Pickling would make the cache folder beside
the packs a place from which code is loaded; instead :func:`from_sklearn` copies the trees into
numeric arrays (:class:`TreeEnsemble`), which :mod:`.store` writes as ``.npz`` without pickles,
and :meth:`TreeEnsemble.predict` walks them.

The walk is the one scikit-learn's predictor makes on numeric features (a missing value goes to
the side the split learned; otherwise ``x <= threshold`` goes left), and the sums are taken in
the same order (the baseline, then each tree in turn) before the inverse of the log link, so the
predictions are the library's own, bit for bit (tested against ``model.predict``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..errors import InputError

#: The arrays of one ensemble, in the order :func:`to_arrays` writes them.
FIELDS = ("value", "feature", "threshold", "missing_left", "left", "right", "is_leaf", "starts", "baseline")


@dataclass(frozen=True, eq=False)
class TreeEnsemble:
    """The trees of one fitted Poisson boosting model: every tree's nodes one after another.

    ``value`` (raw-scale leaf values), ``feature`` (column of the split), ``threshold``,
    ``missing_left`` (a missing value goes left), ``left`` / ``right`` (child node numbers within
    the tree), ``is_leaf``: one entry per node; ``starts``: the first node of each tree (its
    root); ``baseline``: the raw prediction before the first tree."""

    value: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    is_leaf: np.ndarray
    starts: np.ndarray
    baseline: float

    @property
    def n_trees(self) -> int:
        return int(self.starts.size)

    def raw_predict(self, X: np.ndarray) -> np.ndarray:
        """The sum of the baseline and every tree's leaf value for each row of ``X`` (n, features)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        return _raw_predict(
            X,
            self.value,
            self.feature,
            self.threshold,
            self.missing_left,
            self.left,
            self.right,
            self.is_leaf,
            self.starts,
            float(self.baseline),
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Expected counts per row of ``X``: ``exp`` of :meth:`raw_predict` (the Poisson loss's log link)."""
        return np.exp(self.raw_predict(X))


def from_sklearn(model) -> TreeEnsemble:
    """The trees of a fitted ``HistGradientBoostingRegressor(loss="poisson")`` on numeric features."""
    if getattr(model, "loss", None) != "poisson" or getattr(model, "n_trees_per_iteration_", 1) != 1:
        raise InputError("from_sklearn: only a fitted HistGradientBoostingRegressor with loss='poisson' is supported.")
    trees = [it[0].nodes for it in model._predictors]
    if any(t["is_categorical"].any() for t in trees):
        raise InputError("from_sklearn: categorical splits are not supported; the learned model uses numeric features.")
    nodes = (
        np.concatenate(trees)
        if trees
        else np.zeros(
            0,
            dtype=[
                ("value", "f8"),
                ("feature_idx", "i8"),
                ("num_threshold", "f8"),
                ("missing_go_to_left", "u1"),
                ("left", "u4"),
                ("right", "u4"),
                ("is_leaf", "u1"),
            ],
        )
    )
    sizes = np.array([t.size for t in trees], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if trees else np.zeros(0, np.int64)
    return TreeEnsemble(
        value=np.ascontiguousarray(nodes["value"], dtype=np.float64),
        feature=np.ascontiguousarray(nodes["feature_idx"], dtype=np.int64),
        threshold=np.ascontiguousarray(nodes["num_threshold"], dtype=np.float64),
        missing_left=np.ascontiguousarray(nodes["missing_go_to_left"], dtype=bool),
        left=np.ascontiguousarray(nodes["left"], dtype=np.int64),
        right=np.ascontiguousarray(nodes["right"], dtype=np.int64),
        is_leaf=np.ascontiguousarray(nodes["is_leaf"], dtype=bool),
        starts=starts,
        baseline=float(np.asarray(model._baseline_prediction).ravel()[0]),
    )


@dataclass(frozen=True, eq=False)
class FittedModels:
    """What a learned model fitted at one cut-off: its ensembles (one per seed; none when there was
    too little history to learn from) and the number of training rows."""

    ensembles: tuple[TreeEnsemble, ...]
    n_train_rows: int

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Numeric arrays only (``np.savez`` without pickles): ``<field>_<seed>`` per ensemble."""
        out = {"n_models": np.array(len(self.ensembles)), "n_train_rows": np.array(self.n_train_rows)}
        for i, e in enumerate(self.ensembles):
            for f in FIELDS:
                out[f"{f}_{i}"] = np.asarray(getattr(e, f))
        return out

    @classmethod
    def from_arrays(cls, arrays) -> FittedModels:
        """The models written by :meth:`to_arrays` (``arrays``: a mapping such as ``np.load``'s)."""
        n = int(arrays["n_models"])
        ens = []
        for i in range(n):
            kw = {f: np.array(arrays[f"{f}_{i}"]) for f in FIELDS if f != "baseline"}
            ens.append(TreeEnsemble(**kw, baseline=float(arrays[f"baseline_{i}"])))
        return cls(tuple(ens), int(arrays["n_train_rows"]))


@njit(cache=True)
def _raw_predict(X, value, feature, threshold, missing_left, left, right, is_leaf, starts, baseline):
    """Per row: ``baseline`` plus each tree's leaf value, tree by tree (the library's order of sums)."""
    n = X.shape[0]
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        acc = 0.0
        acc += baseline
        for s in starts:
            node = s
            while not is_leaf[node]:
                x = X[i, feature[node]]
                go_left = missing_left[node] if np.isnan(x) else x <= threshold[node]
                node = s + (left[node] if go_left else right[node])
            acc += value[node]
        out[i] = acc
    return out
