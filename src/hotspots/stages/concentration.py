"""Stage ``concentration``: how concentrated crime and harm are, which places are chronic or acute, how robust
each hotspot is.

Reads ``[concentration]``, ``[harm]``, ``[hotspots]``, ``[gistar]`` and ``[project] seed``, and the
surfaces stage (its hotspot areas' crime types and each type's search radius). It calls the library:

* :func:`~hotspots.analysis.concentration.concentration_table` on every whole period of the incidents
  before the meeting, over snap points (police.uk month data) or the grid's cells
  (``[concentration] places``), for the whole area and each crime type, with the run's harm scheme and
  each scheme of ``[concentration] harm_schemes``; :func:`concentration_trend` of the Gini, the generalised
  Gini and the share in the top 5%;
* :func:`~hotspots.analysis.harm_spots.harm_spots` over the analysis window (``[analysis] lookback_days``);
* :func:`~hotspots.analysis.trajectories.place_trajectories` on the grid's cells over the whole history,
  seeded with the run seed (the tasking list's chronic/acute label comes from it);
* :func:`~hotspots.analysis.robustness.hotspot_robustness` per crime type with the surfaces' own search
  radius, the other grids built once (:func:`sweep_grids`); with a core to spare the later crime types
  in a forked process (:mod:`.background`) while this one sweeps the earlier ones.

The stage runs in the background (forked once the surfaces are made) when the machine has a core to
spare; its result is the same either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._util import available_workers
from ..analysis.concentration import concentration_table, concentration_trend
from ..analysis.harm import with_harm
from ..analysis.harm_spots import HarmSpots, harm_spots
from ..analysis.periods import period_bins
from ..analysis.places import Places, grid_places, snap_point_places
from ..analysis.robustness import HotspotRobustness, hotspot_robustness, sweep_grids
from ..analysis.trajectories import MIN_PERIODS, Trajectories, place_series, place_trajectories
from ..announce import choose
from ..config import Config
from ..errors import InputError
from ..geo.grid import Grid
from ..model import coarsest_precision
from .background import Background, can_fork
from .concentration_result import ConcentrationResult
from .registry import Stage
from .results import RunResults, SurfacesResult

#: Measures whose trend over the periods is tested (Kendall's tau).
TREND_MEASURES = ("gini", "generalised_gini", "top5pct_share")


def choose_places(cfg: Config, incidents: pd.DataFrame, grid: Grid, choices: dict[str, str]) -> tuple[Places, str]:
    """The places of ``[concentration] places``: snap points (the distinct locations of every incident given,
    so empty years count) or the grid's cells; ``auto`` takes snap points for police.uk month data."""
    how = cfg.concentration.places
    if how == "auto":
        month = len(incidents) > 0 and coarsest_precision(incidents) == "month"
        how = "snap_points" if month else "grid"
        rule = (
            "police.uk snap points, because the incidents are dated to the month (police.uk data) and published "
            "at a fixed set of anonymised points"
            if month
            else f"grid cells of {grid.cell_size:g} m, because the incidents have their own locations"
        )
        choose(choices, "places", f"Concentration is measured over {rule}.")
    else:
        rule = "as set in [concentration] places"
    if how == "snap_points":
        return snap_point_places(incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)), rule
    return grid_places(grid), rule


#: police.uk revised its snap-point map in 2022: many points of 2011 and earlier left, many new ones came.
SNAP_MAP_CHANGE_YEAR = 2022


def snap_point_caveat(places: Places, incidents: pd.DataFrame) -> list[str]:
    """A note when snap-point places span police.uk's 2022 revision of its snap-point map."""
    if places.kind != "snap points" or not len(incidents):
        return []
    first, last = incidents["start"].min(), incidents["end"].max()
    if not (first.year < SNAP_MAP_CHANGE_YEAR <= last.year):
        return []
    return [
        "police.uk revised its map of snap points in 2022: many points used until then were retired and new "
        "ones brought in, so a change in concentration around 2022 is partly the map changing, not the crime. "
        'Grid cells (places = "grid") do not have this problem.'
    ]


def choose_period(cfg: Config, incidents: pd.DataFrame, choices: dict[str, str]) -> str:
    """``year`` or ``half-year``: ``auto`` takes years when the incidents cover at least five whole years."""
    period = cfg.concentration.period
    if period != "auto":
        return period
    years = period_bins(incidents, "year").n
    period = "year" if years >= MIN_PERIODS else "half-year"
    choose(
        choices,
        "period",
        f"Concentration and stability are measured per {period.replace('-', ' ')}: the data hold {years} whole "
        f"year(s){'' if period == 'year' else f', fewer than {MIN_PERIODS}'}.",
    )
    return period


def _harm_spots(cfg: Config, recent: pd.DataFrame, grid: Grid, choices: dict[str, str]) -> tuple[HarmSpots | None, str]:
    """Harm spots against count spots on the grid's cells over the analysis window, under the run's harm scheme
    (or, with a count-only scheme, the first of ``[concentration] harm_schemes``); None without a harm scheme."""
    scheme = cfg.harm.scheme
    if scheme == "count":
        others = [s for s in cfg.concentration.harm_schemes if s != "count"]
        if not others:
            return None, ""
        scheme = others[0]
        choose(
            choices,
            "harm_spots_scheme",
            f"Harm spots weigh crimes by the {scheme} harm scheme, because the run counts every crime the same.",
        )
    if len(recent) == 0:
        return None, scheme
    weighted = with_harm(recent, scheme, cfg.harm_schemes)
    return harm_spots(weighted, grid_places(grid), top=cfg.concentration.top_places, harm_scheme=scheme), scheme


def _trajectories(cfg: Config, incidents: pd.DataFrame, grid: Grid, period: str) -> Trajectories | None:
    """Trajectory class and chronic/acute label of every grid cell, or None with fewer than 3 whole periods."""
    try:
        series = place_series(incidents, grid_places(grid), period=period)
    except InputError:
        return None
    c = cfg.concentration
    return place_trajectories(
        series,
        seed=cfg.project.seed,
        high_share=c.high_share,
        min_high_count=c.min_high_count,
        recent_periods=min(c.recent_periods, series.n_periods),
    )


def _robustness(
    cfg: Config, surfaces: SurfacesResult, recent: pd.DataFrame, grid: Grid
) -> dict[str, HotspotRobustness]:
    """Robustness of each crime type's hotspot areas, with the surfaces' own search radius and hotspot rule."""
    types = [t for t, a in surfaces.areas.items() if len(a.frame)]
    if not cfg.concentration.robustness or not types or grid.boundary is None:
        return {}
    grids = sweep_grids(grid)
    hc, gc = cfg.hotspots, cfg.gistar

    def of(chosen: list[str]) -> dict[str, HotspotRobustness]:
        out = {}
        for t in chosen:
            out[t] = hotspot_robustness(
                recent[recent["crime_type"] == t],
                grid,
                method=hc.method,
                confidence=hc.confidence,
                correction=gc.correction,
                band_m=gc.band_m,
                kde_percentile=hc.kde_percentile,
                radius_m=surfaces.kde[t].radius_m,
                min_overlap=cfg.concentration.min_overlap,
                fragile_below=cfg.concentration.fragile_below,
                min_cells=hc.min_cells,
                weights="harm" if gc.value == "harm" else None,
                grids=grids,
                wards=surfaces.wards,
                harm_scheme=cfg.harm.scheme,
                label=t,
            )
        return out

    if len(types) < 2 or available_workers() < 2 or not can_fork():
        return of(types)
    # the later types in a forked process while this one does the earlier ones (about half the incidents
    # each): the same results, and their announcements come back in the same order
    sizes = np.cumsum([int((recent["crime_type"] == t).sum()) for t in types])
    half = min(max(int(np.searchsorted(sizes, sizes[-1] / 2)), 1), len(types) - 1)
    later = Background(of, types[half:])
    try:
        return {**of(types[:half]), **later.result()}
    finally:
        later.cancel()


def concentration(
    cfg: Config,
    incidents: pd.DataFrame,
    recent: pd.DataFrame,
    grid: Grid,
    surfaces: SurfacesResult | None,
) -> ConcentrationResult:
    """Concentration, stability and robustness of ``incidents`` (every incident before the meeting) and
    ``recent`` (the analysis window) with the settings of ``cfg``; robustness needs ``surfaces``."""
    if len(incidents) == 0:
        raise InputError("there are no incidents before the meeting date to measure concentration on.")
    choices: dict[str, str] = {}
    notes: list[str] = []
    places, rule = choose_places(cfg, incidents, grid, choices)
    notes.extend(places.notes)
    period = choose_period(cfg, incidents, choices)
    notes.extend(snap_point_caveat(places, incidents))
    scheme = cfg.harm.scheme
    table = concentration_table(incidents, places, groupings=("all", "crime_type"), period=period, harm_scheme=scheme)
    if len(table) == 0:
        raise InputError(
            f"the incidents cover no whole {period.replace('-', ' ')}, so there is nothing to measure "
            "concentration over; give a longer history."
        )
    if table.attrs.get("n_set_aside"):
        notes.append(
            f"{table.attrs['n_set_aside']:,} incidents in part-covered {period.replace('-', ' ')}s at either end "
            "of the data are left out, so a partial period does not look like a fall in crime."
        )
    schemes = {}
    for s in cfg.concentration.harm_schemes:
        if s != scheme:
            schemes[s] = concentration_table(
                with_harm(incidents, s, cfg.harm_schemes), places, groupings=("all",), period=period, harm_scheme=s
            )
    series = place_series(incidents, places, period=period, min_periods=1)
    trend = pd.concat([concentration_trend(table, m) for m in TREND_MEASURES], ignore_index=True)
    hs, hs_scheme = _harm_spots(cfg, recent, grid, choices)
    traj = _trajectories(cfg, incidents, grid, period)
    if traj is None:
        notes.append(f"fewer than 3 whole {period.replace('-', ' ')}s of data: no place is labelled chronic or acute.")
    rob = _robustness(cfg, surfaces, recent, grid) if surfaces is not None else {}
    return ConcentrationResult(
        places=places,
        place_rule=rule,
        period=period,
        series=series,
        table=table,
        schemes=schemes,
        trend=trend,
        harm_spots=hs,
        harm_scheme=hs_scheme,
        trajectories=traj,
        robustness=rob,
        fragile_below=cfg.concentration.fragile_below,
        notes=tuple(notes),
        choices=choices,
    )


def run(res: RunResults) -> ConcentrationResult:
    """Concentration over every incident before the meeting; harm spots and robustness over the window."""
    return concentration(res.cfg, res.incidents, res.recent(), res.grid, res.surfaces)


STAGE: Stage[ConcentrationResult] = Stage(
    name="concentration",
    title="concentration",
    sections=("concentration", "harm", "hotspots", "gistar", "analysis", "project"),
    depends_on=("surfaces",),
    run=run,
    background=True,  # beside coverage and the rest, from the moment the surfaces are made
)
