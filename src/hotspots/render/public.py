"""The public tier's one aggregation: every number a public output shows comes from here.

Every public output of a pack (``public/index.html``, ``public/map.html``,
``public/cctv_consultation.html``) and the consultation map of ``hotspots cctv``
shows the figures of one :class:`PublicTier`, built by :func:`public_tier`. A
new public product must reuse it, never count incidents itself. The rules:

**One grid.** Squares of ``[public] cell_size_m`` (250 m by default) whose
corners are whole multiples of the square size in the working CRS, so the
squares do not depend on the data's extent: two packs of the same area, and
every public output of one pack, use exactly the same squares. The squares of
an area are those that overlap its boundary; a crime counts in the square that
holds its point (a point on an edge belongs to the square to its east, or to
its south).

**One period.** Counts cover one calendar period of ``[public] period_months``
months (3 by default: January-March, April-June, ...; periods start in January
and never overlap): the latest period that ended on or before the day before
the meeting. A crime counts in the period in which its time window ends (for
police.uk data, its month). Consecutive packs therefore show either the same
period, with the same figures when the records are the same, or periods that
do not overlap: subtracting one pack's figures from another's gives no count
of any group of crimes.

**One threshold.** A count below ``[public] min_count`` (5 by default) is never
shown: such a square is not drawn, such a crime type reads "not shown".

**Secondary suppression.** The public tier shows two kinds of figures for the
same crimes: counts per square (all crime types together) and counts per crime
type (the whole area). Both add up to the same total, so a hidden square could
be worked out as *total minus the squares shown* and a hidden crime type as
*total minus the types shown*. The tier therefore checks, before anything is
published, what someone holding every public figure can deduce: taking each
hidden square to hold 0 to ``min_count - 1`` crimes and each hidden crime type
any number, it computes the exact range each hidden figure could take (one
equation, so the range follows from the sums of the others' bounds). While any
hidden square's range is narrower than 0 to ``min_count - 1``, or a hidden
crime type with fewer than ``min_count`` crimes could be narrowed below that,
the smallest crime type still shown is hidden as well. Hiding every crime type
always protects, so this ends. No other totals are shown: no borough total, no
ward, row or column totals, no counts per crime type per square.

No incident-level point, street or location text, incident id or tasking item
ever reaches a public output: only the squares' outlines and counts, the crime
types' names and counts, and the period.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from ..config.sections import PublicConfig
from ..geo.grid import Grid
from ..stages.inputs import RunInputs
from ..vocabulary import crime_type_label


# --------------------------------------------------------------------------- the period
@dataclass(frozen=True)
class PublicPeriod:
    """A calendar period of whole months: ``start`` (first instant) to ``end`` (exclusive), tz-aware."""

    start: pd.Timestamp
    end: pd.Timestamp
    months: int

    @property
    def last_day(self) -> pd.Timestamp:
        return (self.end - pd.Timedelta(days=1)).normalize()

    @property
    def label(self) -> str:
        """The period in words: "September 2025", "July to September 2025", "2025"."""
        first, last = self.start, self.last_day
        if self.months == 1:
            return f"{first:%B %Y}"
        if self.months == 12 and first.month == 1:
            return f"{first:%Y}"
        return f"{first:%B} to {last:%B %Y}"

    def holds(self, times: pd.Series) -> np.ndarray:
        """Which tz-aware ``times`` fall in the period."""
        return ((times >= self.start) & (times < self.end)).to_numpy(bool)

    def to_dict(self) -> dict[str, str]:
        return {"start": f"{self.start:%Y-%m-%d}", "end": f"{self.last_day:%Y-%m-%d}", "label": self.label}


def public_period(as_of: pd.Timestamp, months: int) -> PublicPeriod:
    """The latest period of ``months`` calendar months (periods start in January) that ends on or
    before ``as_of`` (a tz-aware midnight, e.g. the meeting date: the period ends before it)."""
    if months <= 0 or 12 % months:
        raise ValueError(f"period length must divide a year (1, 2, 3, 4, 6 or 12 months), got {months}")
    tz = as_of.tz
    month_index = as_of.year * 12 + (as_of.month - 1)  # months since year 0 of the month holding as_of
    end_index = month_index - month_index % months  # the last period boundary at or before that month's start
    return PublicPeriod(_month_start(end_index - months, tz), _month_start(end_index, tz), months)


def _month_start(index: int, tz: Any) -> pd.Timestamp:
    """Local midnight starting month ``index`` (months since year 0) in ``tz``."""
    return pd.Timestamp(year=index // 12, month=index % 12 + 1, day=1).tz_localize(tz, nonexistent="shift_forward")


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class PublicTotal:
    """One crime type's count for the whole area, or None when it is not shown."""

    crime_type: str
    label: str
    count: int | None


@dataclass(frozen=True, eq=False)
class PublicTier:
    """Every figure the public outputs may show, already suppressed (see the module rules).

    ``cells``: the squares shown (GeoDataFrame in ``crs``): ``x_min``, ``y_min`` (south-west
    corner, metres), ``incidents`` (at least ``min_count``), geometry (the square clipped to the
    area). ``totals``: every crime type of the configuration, in a fixed order, with its count or
    None ("not shown"). The remaining fields are for the pack's manifest, not for publication.
    """

    cell_size_m: float
    min_count: int
    crs: str
    period: PublicPeriod
    cells: gpd.GeoDataFrame
    squares_in_area: int
    totals: tuple[PublicTotal, ...]
    notes: tuple[str, ...] = ()
    incidents_counted: int = 0
    outside_squares: int = 0
    withheld_types: tuple[str, ...] = field(default=())

    @property
    def shown_cells(self) -> int:
        return int(len(self.cells))

    def summary(self) -> dict[str, Any]:
        """What the tier holds and what was suppressed (for the pack's manifest, not for publication)."""
        return {
            "cell_size_m": self.cell_size_m,
            "min_count": self.min_count,
            "period": self.period.to_dict(),
            "squares_in_area": self.squares_in_area,
            "squares_shown": self.shown_cells,
            "crime_types_shown": sum(t.count is not None for t in self.totals),
            "crime_types_not_shown": sum(t.count is None for t in self.totals),
            "crime_types_hidden_to_protect_others": list(self.withheld_types),
            "incidents_counted": self.incidents_counted,
            "incidents_outside_the_squares": self.outside_squares,
        }


# --------------------------------------------------------------------------- building it
def public_tier(
    incidents: pd.DataFrame,
    boundary: BaseGeometry,
    settings: PublicConfig,
    *,
    as_of: pd.Timestamp,
    crs: str,
    crime_types: Iterable[str] = (),
) -> PublicTier:
    """The public figures of ``incidents`` (columns ``x``, ``y`` in metres of ``crs``, tz-aware
    ``end``, ``crime_type``) inside ``boundary`` for the latest ``settings.period_months`` period
    that ends on or before ``as_of`` (the meeting date), on ``settings.cell_size_m`` squares, with
    counts below ``settings.min_count`` and the figures that would reveal them not shown.

    ``crime_types`` lists the types every public table shows (types met in the data are added), so
    a type's presence in the table never tells that it occurred.
    """
    t = int(settings.min_count)
    period = public_period(as_of, settings.period_months)
    grid = Grid.from_boundary(boundary, settings.cell_size_m, crs=crs)
    inc = incidents[period.holds(incidents["end"])]
    row, col = grid.cell_index(inc["x"].to_numpy(float), inc["y"].to_numpy(float))
    in_square = row >= 0
    in_square[in_square] = grid.mask[row[in_square], col[in_square]]
    counts = np.zeros(grid.shape, dtype=np.int64)
    np.add.at(counts, (row[in_square], col[in_square]), 1)
    types = sorted(set(crime_types) | set(inc["crime_type"].astype(str)))
    by_type = inc.loc[in_square, "crime_type"].astype(str).value_counts()
    type_counts = {c: int(by_type.get(c, 0)) for c in types}
    cell_values = counts[grid.mask]
    cell_shown, type_shown, withheld = protect(cell_values, type_counts, t)
    shown = np.zeros(grid.shape, dtype=bool)
    shown[grid.mask] = cell_shown
    cells = _cells_frame(grid, counts, shown)
    totals = tuple(
        PublicTotal(c, crime_type_label(c), type_counts[c] if type_shown[c] else None)
        for c in sorted(types, key=lambda c: (crime_type_label(c), c))
    )
    return PublicTier(
        cell_size_m=float(settings.cell_size_m),
        min_count=t,
        crs=crs,
        period=period,
        cells=cells,
        squares_in_area=int(grid.mask.sum()),
        totals=totals,
        notes=_coverage_notes(incidents, period),
        incidents_counted=int(in_square.sum()),
        outside_squares=int((~in_square).sum()),
        withheld_types=tuple(withheld),
    )


def public_tier_for(inputs: RunInputs) -> PublicTier:
    """The public tier of a run: its incidents before the meeting date, its study area, ``[public]``
    settings and working CRS, every crime type its configuration maps to."""
    cfg = inputs.cfg
    return public_tier(
        inputs.incidents,
        inputs.area.boundary,
        cfg.public,
        as_of=inputs.fim_date,
        crs=inputs.area.crs,
        crime_types=cfg.crime_type_map.values(),
    )


def _cells_frame(grid: Grid, counts: np.ndarray, shown: np.ndarray) -> gpd.GeoDataFrame:
    rows, cols = np.nonzero(shown)  # row-major: north to south, then west to east
    cs = grid.cell_size
    x_min = grid.xmin + cols * cs
    y_min = grid.ymax - (rows + 1) * cs
    sub = Grid(cs, grid.xmin, grid.ymax, grid.ncols, grid.nrows, shown, grid.inside_fraction, grid.boundary, grid.crs)
    return gpd.GeoDataFrame(
        {"x_min": x_min.astype(float), "y_min": y_min.astype(float), "incidents": counts[rows, cols].astype(int)},
        geometry=sub.cell_polygons(clip=True),
        crs=grid.crs,
    )


def _coverage_notes(incidents: pd.DataFrame, period: PublicPeriod) -> tuple[str, ...]:
    """Plain-words notes when the records do not cover the whole period (no counts in them)."""
    if not len(incidents):
        return (f"There are no records for {period.label}.",)
    first = incidents["start"].min()
    last = incidents["end"].max()
    notes = []
    if first > period.start:
        notes.append(f"The records start on {first:%d %B %Y}, after the start of this period, so the figures are low.")
    if last < period.last_day:
        notes.append(f"The records end on {last:%d %B %Y}, before the end of this period, so the figures are low.")
    return tuple(notes)


# --------------------------------------------------------------------------- suppression
def protect(
    cell_counts: Sequence[int] | np.ndarray, type_counts: Mapping[str, int], min_count: int
) -> tuple[np.ndarray, dict[str, bool], list[str]]:
    """Primary and secondary suppression of the linked square and crime-type counts.

    Returns (which squares are shown, which crime types are shown, the types hidden only to
    protect others, in the order they were hidden). See the module rules; :func:`exposed`
    is the check.
    """
    cells = np.asarray(cell_counts, dtype=np.int64)
    cell_shown = cells >= min_count
    type_shown = {k: int(v) >= min_count for k, v in type_counts.items()}
    withheld: list[str] = []
    while exposed(cells, cell_shown, type_counts, type_shown, min_count):
        candidates = sorted((int(v), k) for k, v in type_counts.items() if type_shown[k])
        if not candidates:
            # every crime type is hidden: with at least one type this always protects; with none at all
            # (and so no crimes) the page can only say that there were none
            break
        _, k = candidates[0]
        type_shown[k] = False
        withheld.append(k)
    return cell_shown, type_shown, withheld


def exposed(
    cells: np.ndarray,
    cell_shown: np.ndarray,
    type_counts: Mapping[str, int],
    type_shown: Mapping[str, bool],
    min_count: int,
) -> bool:
    """Whether the published figures narrow a hidden small count.

    The figures satisfy one equation, ``sum(hidden squares) - sum(hidden types) = C`` with ``C``
    the types shown minus the squares shown. A hidden square is taken to hold 0..m (m =
    ``min_count - 1``, the page says so), a hidden type any number >= 0. The exact range of one
    hidden figure is its bounds intersected with ``C`` plus/minus the others' bounds. Exposed when
    a hidden square's range is narrower than 0..m, or a hidden type holding fewer than
    ``min_count`` crimes has a range that does not reach from 0 to m.
    """
    m = min_count - 1
    hidden_cells = cells[~cell_shown]
    a = int(hidden_cells.size)
    hidden_types = [int(v) for k, v in type_counts.items() if not type_shown[k]]
    b = len(hidden_types)
    c = sum(int(v) for k, v in type_counts.items() if type_shown[k]) - int(cells[cell_shown].sum())
    inf = math.inf
    y_hi_sum = inf if b else 0.0
    if a:
        # any hidden square i: C + sum(y) - sum(other x); every hidden square has the same range
        lo = max(0.0, c - (a - 1) * m)
        hi = min(float(m), c + y_hi_sum)
        if lo > 0 or hi < m:
            return True
    for k, v in type_counts.items():
        if type_shown[k] or int(v) >= min_count:
            continue
        others_hi = inf if b >= 2 else 0.0
        lo = max(0.0, -c - others_hi)  # y_k = sum(x) - C - sum(other y), with sum(x) >= 0
        hi = a * m - c  # sum(x) <= a*m, other hidden types >= 0
        if lo > 0 or hi < m:
            return True
    return False


__all__ = [
    "PublicPeriod",
    "PublicTier",
    "PublicTotal",
    "exposed",
    "protect",
    "public_period",
    "public_tier",
    "public_tier_for",
]
