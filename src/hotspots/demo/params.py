"""Parameters and planted truth of the synthetic demo borough.

Every number that shapes the demo data lives in :class:`DemoParams`; the
generator records what it actually planted (locations chosen from the seed,
counts drawn) in :class:`DemoTruth` and in ``data/incidents/planted_truth.json``.
All coordinates are British National Grid (EPSG:27700) metres; all dates and
times are local (Europe/London).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: The trajectory classes a demo place can be planted with.
TRAJECTORY_CLASSES = frozenset({"stable high", "rising", "falling", "flare-up"})


@dataclass(frozen=True)
class DemoParams:
    """Knobs of the demo borough (EPSG:27700 metres, days, local Europe/London time).

    Geography
        ``centre_e``/``centre_n``: centre of the borough (metres, EPSG:27700).
        ``area_km2``: area of the irregular outline. ``n_wards``: number of
        wards (seeded Voronoi cells clipped to the outline).
        ``households_total``: households in the borough; persons per household
        vary by ward around ``persons_per_household``.

    Period
        ``start_date``..``end_date`` inclusive (local dates).

    1. Residential burglary (self-exciting, Hawkes-like)
        Background events: ``burglary_background_per_year`` a year, placed by
        household counts (ward chosen in proportion to households, uniform
        within it), with a winter uplift: the rate in ``winter_months`` is
        ``1 + winter_uplift`` times the rest of the year. Each burglary
        (background or triggered) produces Poisson(``nr_branching``) offspring,
        each uniform in a disc of ``nr_radius_m`` metres around it and uniform
        over ``nr_min_days``..``nr_days`` days after it (offspring falling
        outside the borough or after the period are dropped). Burglaries are
        recorded as a window (``committed_from`` before, ``committed_to`` after
        the event) of 1-8 hours.

    2. Robbery and violence in the night-time economy
        Town centres get Gaussian blobs of standard deviation
        ``town_centre_sigma_m`` metres. A share ``nte_share`` of robbery and
        violence happens in them, ``nte_weekend_share`` of that on Friday or
        Saturday nights, all between 21:00 and 03:00. The rest is diffuse.

    3. Emerging and stopping hotspots
        Emerging: ``emerging_offence`` uniform in a disc of
        ``emerging_radius_m`` metres at a seeded residential location, at
        ``emerging_per_month`` a month from ``emerging_start`` to the end of
        the period. Stopping: ``stopping_offence`` at ``stopping_per_month``
        from the start of the period until ``stopping_end`` (inclusive), radius
        ``stopping_radius_m``. The emerging hotspot is kept at least
        ``uncovered_clearance_m`` metres beyond the reach of every camera.

    4. Cross-border offending
        Where each A-road crosses the borough edge, ``cross_border_per_point``
        extra residential burglaries and the same number of vehicle crimes
        fall uniform within ``cross_border_radius_m`` metres (inside the
        borough).

    5. Shoplifting and other types
        Shoplifting: ``shoplifting_share_centres`` in town centres (sigma
        ``town_centre_sigma_m``) during shop hours 09:00-19:00, the rest at
        diffuse locations in daytime. Other types are diffuse, placed by
        households (``diffuse_household_share``) and by area.

    6. Near-boundary points
        ``n_near_boundary`` incidents are moved to 1-40 m outside the
        boundary (inside the 50 m ingest tolerance); no other point lies
        outside the borough.

    7. Places with known trajectories (chronic, rising, falling, flare-up)
        For each class of ``trajectory_rates`` (class, expected incidents in
        each whole calendar half-year of the period, oldest first),
        ``trajectory_places_per_class`` small places: ``trajectory_offences``
        (in turn) uniform in a disc of ``trajectory_radius_m`` metres around
        the centre of one cell of the engine's automatic grid (cells of
        :func:`~hotspots.geo.grid.auto_cell_size` metres at whole multiples of
        the cell size), so all of a place's incidents fall in that one cell.
        The part-covered half-years at either end get the rate of the nearest
        whole half-year, pro rata to the days covered. The places are
        residential, at least ``trajectory_clearance_m`` metres from the town
        centres, the emerging and stopping hotspots, the cross-border points
        and each other. Drawn from their own random stream, so the other
        incidents are unchanged.

    8. Patrol effect
        At the patrolled places of :mod:`.patrols` (60 m circles) over the
        patrol fortnight: street crime (``patrol_effect_offences``, shares)
        at ``patrol_effect_base_per_day`` expected incidents per place a day,
        multiplied by ``1 - patrol_effect_reduction * min(m /
        patrol_effect_full_dose_minutes, 1)`` on a day with ``m`` planted
        minutes of patrol there (harm falls where the dosage is delivered);
        Poisson counts, uniform in the circle and over the day. Its own
        random stream.
    """

    seed: int = 20251114
    centre_e: float = 537500.0
    centre_n: float = 200000.0
    area_km2: float = 85.0
    n_wards: int = 20
    households_total: int = 150_000
    persons_per_household: float = 2.5

    start_date: str = "2022-11-14"
    end_date: str = "2025-11-13"

    # 1. residential burglary
    burglary_background_per_year: float = 1300.0
    winter_months: tuple[int, ...] = (11, 12, 1)
    winter_uplift: float = 0.4
    nr_branching: float = 0.35
    nr_radius_m: float = 200.0
    nr_min_days: float = 1.0
    nr_days: float = 14.0

    # 2. night-time economy
    n_town_centres: int = 4
    town_centre_sigma_m: float = 200.0
    nte_share: float = 0.45
    nte_weekend_share: float = 0.75

    # 3. emerging / stopping
    emerging_offence: str = "Theft from motor vehicle"
    emerging_radius_m: float = 100.0
    emerging_start: str = "2025-03-01"
    emerging_per_month: float = 30.0
    stopping_offence: str = "Robbery of personal property"
    stopping_radius_m: float = 150.0
    stopping_end: str = "2024-06-30"
    stopping_per_month: float = 9.0
    uncovered_clearance_m: float = 300.0

    # 4. cross border
    cross_border_radius_m: float = 300.0
    cross_border_per_point: int = 45

    # 5. other types (three-year totals of the diffuse / town-centre processes)
    shoplifting_share_centres: float = 0.85
    diffuse_household_share: float = 0.7
    counts: tuple[tuple[str, int], ...] = (
        ("Burglary - business", 900),
        ("Robbery of personal property", 2800),
        ("Violence with injury", 5200),
        ("Violence without injury", 6800),
        ("Theft from motor vehicle", 3400),
        ("Theft of motor vehicle", 1500),
        ("Criminal damage", 4000),
        ("Shoplifting", 3600),
        ("Theft from the person", 1400),
    )

    # 6. near-boundary points
    n_near_boundary: int = 12

    # 7. places with known trajectories: expected incidents per whole half-year (2023 H1 .. 2025 H1)
    trajectory_rates: tuple[tuple[str, tuple[float, ...]], ...] = (
        ("stable high", (12.0, 12.0, 12.0, 12.0, 12.0)),
        ("rising", (1.0, 1.0, 8.0, 14.0, 20.0)),
        ("falling", (20.0, 14.0, 8.0, 1.0, 1.0)),
        ("flare-up", (1.0, 1.0, 1.0, 1.0, 20.0)),
    )
    trajectory_places_per_class: int = 3
    trajectory_radius_m: float = 40.0
    trajectory_clearance_m: float = 800.0
    trajectory_offences: tuple[str, ...] = ("Criminal damage", "Violence without injury", "Theft from the person")

    # 8. patrol effect at the patrolled places over the patrol fortnight
    patrol_effect_base_per_day: float = 1.0
    patrol_effect_reduction: float = 0.8
    patrol_effect_full_dose_minutes: float = 15.0
    patrol_effect_offences: tuple[tuple[str, float], ...] = (
        ("Theft from the person", 0.5),
        ("Robbery of personal property", 0.3),
        ("Violence without injury", 0.2),
    )

    def __post_init__(self) -> None:
        def bad(key, why):
            raise ConfigError(f"DemoParams.{key}: {why}")

        if not 0.0 <= self.nr_branching < 1.0:
            bad("nr_branching", f"{self.nr_branching} must be in [0, 1) or the burglary process explodes.")
        if not 1 <= self.nr_min_days <= self.nr_days:
            bad("nr_min_days", f"need 1 <= nr_min_days ({self.nr_min_days}) <= nr_days ({self.nr_days}).")
        for key in (
            "nr_radius_m",
            "emerging_radius_m",
            "stopping_radius_m",
            "cross_border_radius_m",
            "town_centre_sigma_m",
            "area_km2",
        ):
            if getattr(self, key) <= 0:
                bad(key, f"{getattr(self, key)} must be positive.")
        if not 3 <= self.n_town_centres <= 5:
            bad("n_town_centres", f"{self.n_town_centres} must be 3..5 (names available).")
        if not 2 <= self.n_wards <= 24:
            bad("n_wards", f"{self.n_wards} must be 2..24 (ward names available).")
        try:
            d0, d1 = date.fromisoformat(self.start_date), date.fromisoformat(self.end_date)
            e0, s1 = date.fromisoformat(self.emerging_start), date.fromisoformat(self.stopping_end)
        except ValueError as exc:
            raise ConfigError(f"DemoParams: dates must be YYYY-MM-DD ({exc}).") from None
        if not d0 < s1 < e0 <= d1:
            bad("emerging_start", "need start_date < stopping_end < emerging_start <= end_date.")
        missing = {
            "Robbery of personal property",
            "Violence with injury",
            "Violence without injury",
            "Burglary - business",
            "Theft from motor vehicle",
            "Theft of motor vehicle",
            "Criminal damage",
            "Shoplifting",
            "Theft from the person",
        } - set(dict(self.counts))
        if missing:
            bad("counts", f"missing offences {sorted(missing)}.")
        self._check_planted(bad)

    def _check_planted(self, bad) -> None:
        """Sections 7 and 8 (the planted trajectories and patrol effect)."""
        classes = [c for c, _ in self.trajectory_rates]
        if not classes or len(set(classes)) != len(classes) or not set(classes) <= TRAJECTORY_CLASSES:
            bad("trajectory_rates", f"classes {classes} must be distinct, from stable high, rising, falling, flare-up.")
        if len({len(r) for _, r in self.trajectory_rates}) != 1 or any(
            v < 0 for _, r in self.trajectory_rates for v in r
        ):
            bad("trajectory_rates", "every class needs the same number of half-year rates, none negative.")
        if self.trajectory_places_per_class < 1 or not self.trajectory_offences:
            bad("trajectory_places_per_class", "need at least one place per class and one offence.")
        if self.trajectory_radius_m <= 0 or self.trajectory_clearance_m < 0:
            bad("trajectory_radius_m", "the radius must be positive and the clearance not negative.")
        if not 0 <= self.patrol_effect_reduction < 1 or self.patrol_effect_base_per_day < 0:
            bad("patrol_effect_reduction", "need 0 <= reduction < 1 and a base rate >= 0.")
        if self.patrol_effect_full_dose_minutes <= 0:
            bad("patrol_effect_full_dose_minutes", "must be positive.")

    def count(self, offence: str) -> int:
        return dict(self.counts)[offence]


@dataclass(frozen=True)
class DemoTruth:
    """What the generator wrote and planted (EPSG:27700 metres, local dates).

    ``paths`` maps a short key (``wards``, ``ward_population``, ``roads``,
    ``town_centres``, ``cameras``, ``incidents``, ``planted_truth``,
    ``readme``) to the file written. ``planted`` is the machine-readable
    truth, identical to ``planted_truth.json``.
    """

    out_dir: Path
    paths: dict[str, Path]
    params: DemoParams
    town_centres: tuple[dict[str, Any], ...]
    emerging: dict[str, Any]
    stopping: dict[str, Any]
    near_repeat: dict[str, Any]
    uncovered_hotspots: tuple[str, ...]
    cross_border_points: tuple[tuple[float, float], ...]
    boundary_area_km2: float
    counts: dict[str, int] = field(default_factory=dict)
    planted: dict[str, Any] = field(default_factory=dict)  # JSON: planted_truth.json
