"""The base class of every forecast method (scikit-learn style): ``fit(history)`` then ``predict(origin, horizon)``.

Kept apart from :mod:`.methods` (the catalogue of methods and ``make_method``) so that methods
defined in their own modules (:mod:`.etas`, :mod:`.locations`) derive from it without importing
the catalogue that names them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..errors import LookAheadError, PrecisionError


class ForecastMethod(BaseEstimator):
    """Base class: ``fit(history)`` then ``predict(origin, horizon)``."""

    #: needs day- or minute-precision times
    needs_day_precision = False
    #: what the method is called in messages (None: the class name)
    display_name: str | None = None

    def requires_times(self) -> bool:
        """Whether ``fit`` needs day- or minute-precision times (the class's ``needs_day_precision``)."""
        return self.needs_day_precision

    def _start(self, history):
        if self.requires_times() and history.precision == "month":
            what = self.display_name or type(self).__name__
            raise PrecisionError(
                f"{what} needs day- or minute-precision incident times, but the data has "
                "month precision (police.uk); use counts, KDE, Gi* or the learned model instead."
            )
        self.grid_ = history.grid
        self.origin_ = history.origin
        self.history_end_ = history.read_until_

    def _check_origin(self, origin):
        if pd.Timestamp(origin) != self.origin_:
            raise LookAheadError(
                f"{type(self).__name__} was fitted for origin {self.origin_:%Y-%m-%d} but asked "
                f"to forecast from {pd.Timestamp(origin):%Y-%m-%d}; fit it again on the history "
                "before the new origin."
            )

    def _on_grid(self, values):
        out = np.asarray(values, dtype=float).copy()
        out[~self.grid_.mask] = np.nan
        return out
