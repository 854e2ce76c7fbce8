"""Keys that identify data, for caches that must never hand back another data set's results.

A cache keyed on a date and a few settings returns stale results when the data
behind it changes (the same origin on half the incidents gave the full data's
features). :func:`digest` hashes the data itself: numpy arrays (dtype, shape and
bytes), numbers, strings, ``None``, tuples / lists / dicts of these, grids
(:class:`~hotspots.geo.grid.Grid`: corner, cell size, shape, mask, CRS), frozen
dataclasses (every field) and scikit-learn style estimators (class and
parameters, :func:`method_key`). Equal inputs give equal keys in every process;
changing one coordinate of one incident changes the key.

Used for the learned model's feature cache and the per-origin surface cache of
the backtest (:mod:`.harness`); reusable for any cache of results across runs
(for example backtest scores across meetings).
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..geo.grid import Grid


def _feed_scalar(h, obj) -> bool:
    """Feed ``obj`` if it is None, a number, a string, bytes or a time; False for anything else."""
    if obj is None:
        h.update(b"N")
    elif isinstance(obj, (bool, np.bool_)):
        h.update(b"B1" if obj else b"B0")
    elif isinstance(obj, (int, np.integer)):
        h.update(b"I" + str(int(obj)).encode() + b";")
    elif isinstance(obj, (float, np.floating)):
        h.update(b"F" + struct.pack("<d", float(obj)))
    elif isinstance(obj, str):
        b = obj.encode("utf-8")
        h.update(b"S" + str(len(b)).encode() + b":" + b)
    elif isinstance(obj, bytes):
        h.update(b"Y" + str(len(obj)).encode() + b":" + obj)
    elif isinstance(obj, (np.datetime64, pd.Timestamp)):
        h.update(b"t" + str(obj).encode())
    else:
        return False
    return True


def _feed_container(h, obj) -> bool:
    """Feed ``obj`` if it is an array, a tuple, a list or a dict; False for anything else."""
    if isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        if a.dtype == object:
            h.update(b"O" + str(a.shape).encode())
            for v in a.ravel():
                _feed(h, v)
        else:
            h.update(b"A" + a.dtype.str.encode() + str(a.shape).encode() + b":")
            h.update(a.tobytes())
    elif isinstance(obj, (tuple, list)):
        h.update(b"T" + str(len(obj)).encode() + b"(")
        for v in obj:
            _feed(h, v)
        h.update(b")")
    elif isinstance(obj, dict):
        h.update(b"D" + str(len(obj)).encode() + b"{")
        for k in sorted(obj, key=repr):
            _feed(h, k)
            _feed(h, obj[k])
        h.update(b"}")
    else:
        return False
    return True


def _feed(h, obj) -> None:
    if _feed_scalar(h, obj) or _feed_container(h, obj):
        return
    if isinstance(obj, Grid):
        h.update(b"G")
        _feed(h, (obj.cell_size, obj.xmin, obj.ymax, obj.nrows, obj.ncols, obj.crs, obj.mask))
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(b"C" + type(obj).__qualname__.encode())
        _feed(h, tuple((f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)))
    elif isinstance(obj, BaseEstimator):
        _feed(h, method_key(obj))
    else:
        raise TypeError(
            f"cannot key a cache on a {type(obj).__name__}; pass arrays, numbers, strings, "
            "tuples, dicts, grids, dataclasses or estimators"
        )


def digest(*parts) -> str:
    """A hex key (BLAKE2b, 128 bits) of ``parts``: equal data give equal keys, any change gives another."""
    h = hashlib.blake2b(digest_size=16)
    _feed(h, parts)
    return h.hexdigest()


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_ROW_SEED = np.uint64(0x9E3779B97F4A7C15)


def _mix(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection of 64-bit integers that spreads every input bit."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _column_bits(col: np.ndarray | None, n: int) -> np.ndarray:
    """One 64-bit integer per value: the bit pattern of a number, a 64-bit BLAKE2b of a string
    (None and NaN: a fixed value); a missing column (None): a fixed value per row."""
    if col is None:
        return np.full(n, 0x6E6F6E65, dtype=np.uint64)
    a = np.asarray(col)
    if a.dtype.kind == "f":
        return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)
    if a.dtype.kind in "iub":
        return np.ascontiguousarray(a, dtype=np.int64).view(np.uint64)
    codes, uniques = pd.factorize(a.ravel(), use_na_sentinel=True)
    words = np.array(
        [int.from_bytes(hashlib.blake2b(str(u).encode("utf-8"), digest_size=8).digest(), "little") for u in uniques]
        + [0x4E614E],
        dtype=np.uint64,
    )
    return words[codes]  # the sentinel -1 picks the last word


def row_hashes(*columns: np.ndarray | None) -> np.ndarray:
    """A 64-bit hash per row of equally long columns (numbers, strings or None = no column).

    Each column enters through a bijection, so changing any one value of a row always changes
    that row's hash; the hash of a row depends on that row alone, so the rows of a subset keep
    their hashes. :func:`digest` of the hashes of a table's rows (in order) keys the table at a
    fraction of the cost of hashing every value (strings above all)."""
    n = len(next(c for c in columns if c is not None)) if any(c is not None for c in columns) else 0
    h = np.full(n, _ROW_SEED, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in columns:
            h = _mix(h ^ _column_bits(c, n))
    return h


def method_key(method) -> tuple:
    """What identifies a forecast method: its class and parameters (nested estimators included)."""
    params = method.get_params(deep=False)
    return (
        type(method).__module__ + "." + type(method).__qualname__,
        tuple((k, _param(params[k])) for k in sorted(params)),
    )


def _param(v):
    if isinstance(v, BaseEstimator):
        return method_key(v)
    if isinstance(v, (tuple, list)):
        return tuple(_param(x) for x in v)
    return v
