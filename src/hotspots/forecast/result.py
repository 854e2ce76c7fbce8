"""The forecast stage's typed result: :class:`ForecastResult`, the chosen method's surfaces and evidence.

Kept apart from :mod:`.outlook` (which computes it) so that reading or rendering a forecast imports
neither scikit-learn nor the backtest harness: a pack whose forecast runs in a background process pays
those imports there, not on the path of the other stages. Surfaces are cell arrays of the grid
(working CRS, metres); counts are incidents per cell over the horizon.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..geo.grid import Grid
from . import metrics

if TYPE_CHECKING:
    from .harness import BacktestResult, Horizon
    from .locations import LocationChangeResult
    from .selection import Selection


@dataclass(frozen=True, eq=False)
class ForecastResult:
    """The forecast for the coming horizon and the evidence behind its method.

    ``risk`` (nrows, ncols): the chosen method's risk surface (NaN outside the
    area); ``expected`` expected incidents per cell over the horizon (the risk
    rescaled to the recent rate); ``method`` the method used and
    ``selected_by`` ``"backtest"`` or ``"configured"``; ``backtest`` the
    :class:`~hotspots.forecast.harness.BacktestResult` (None when there was too
    little history); ``figures`` the chosen method's mean backtest metrics.
    """

    method: str
    selected_by: str
    risk: np.ndarray
    expected: np.ndarray
    grid: Grid
    origin: pd.Timestamp
    horizon: Horizon
    backtest: BacktestResult | None = None
    crime_types: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)
    shares: tuple[float, ...] = (0.01, 0.05, 0.10)
    notes: tuple[str, ...] = ()
    choices: Mapping[str, str] = field(default_factory=dict)
    selection: Selection | None = None
    location_change: LocationChangeResult | None = None

    @property
    def horizon_end(self) -> pd.Timestamp:
        return self.horizon.end(self.origin)

    def summary_frame(self) -> pd.DataFrame:
        """The backtest table (mean and standard error per method), empty without a backtest."""
        return self.backtest.summary() if self.backtest is not None else pd.DataFrame()

    def flagged(self, share: float = 0.05) -> np.ndarray:
        """Cells flagged at ``share`` of the area (bool, nrows x ncols)."""
        return metrics.flagged_mask(self.risk, self.grid.mask, share)

    def to_frame(self, clip: bool = False) -> gpd.GeoDataFrame:
        """GeoDataFrame of cells (the grid's CRS): risk, expected count, rank (1 = highest risk), flagged per share."""
        order = metrics.rank_cells(self.risk, self.grid.mask)
        rank = np.zeros(self.grid.nrows * self.grid.ncols)
        rank[order] = np.arange(1, order.size + 1)
        arrays = {"risk": self.risk, "expected": self.expected, "rank": rank.reshape(self.grid.shape)}
        for s in self.shares:
            arrays[f"top_{metrics.share_key(s)}pct"] = self.flagged(s).astype(int)
        df = self.grid.to_frame(clip=clip, **arrays)
        df.attrs.update(
            {
                "method": self.method,
                "selected_by": self.selected_by,
                "origin": f"{self.origin:%Y-%m-%d}",
                "horizon": self.horizon.label,
            }
        )
        return df

    def to_geotiff(self, path, what: str = "expected") -> Path:
        arr = self.expected if what == "expected" else self.risk
        return self.grid.write_geotiff(
            path,
            arr,
            description=f"forecast {what} ({self.method}), {self.origin:%Y-%m-%d} + {self.horizon.label}",
            units=f"incidents per cell over {self.horizon.label}" if what == "expected" else "risk score (relative)",
        )

    def describe(self) -> str:
        """One paragraph for the pack: which method, why, and how well it did."""
        if self.selected_by == "backtest" and self.backtest is not None:
            how = f"chosen from {len(self.backtest.methods)} methods by a backtest on this area's own data"
        else:
            how = "as configured" if self.selected_by == "configured" else "by default: too little history to compare"
        txt = f"Forecast for {self.origin:%d %b %Y} + {self.horizon.label}: method {self.method} ({how})."
        if self.figures:
            k = metrics.share_key(0.05) if 0.05 in self.shares else metrics.share_key(self.shares[0])
            hr = self.figures.get(f"hit_rate_{k}")
            se = self.figures.get(f"hit_rate_{k}_se")
            pai = self.figures.get(f"pai_{k}")
            n = self.figures.get("origins")
            if hr is not None and np.isfinite(hr) and self.selection is not None:
                txt += (
                    f" Over the last {n} origins, choosing each time as here from earlier results only, the "
                    f"chosen method's top {k}% of cells held {hr * 100:.0f}% of the next horizon's incidents "
                    f"(PAI {pai:.1f}; trailing 12-month counts {self.figures['baseline_hit_rate'] * 100:.0f}%)."
                )
            elif hr is not None and np.isfinite(hr):
                txt += (
                    f" Over the last {n} origins its top {k}% of cells held {hr * 100:.0f}%"
                    + (f" (± {se * 100:.0f})" if se is not None and np.isfinite(se) else "")
                    + f" of the next horizon's incidents (PAI {pai:.1f})."
                )
        return txt
