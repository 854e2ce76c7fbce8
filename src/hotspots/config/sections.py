"""Every section of a run configuration as a frozen dataclass, with its checks.

One class per TOML section (``[density]`` -> :class:`DensityConfig`, ...). A
field's type annotation is its contract and its default the documented
default; units are in the field names (``_m`` metres, ``_days`` days, ``_s``
seconds, ``_deg`` degrees). ``validate(where)`` raises
:class:`~hotspots.errors.ConfigError` naming the section and key.

The loader (:mod:`hotspots.config.loader`) builds all of them when a config is
loaded, so a mistake in any section stops every command before any analysis.
The library (``analysis/``, ``coverage/``, ``forecast/``) takes some of these
objects as typed parameter bundles (e.g. ``emerging_hotspots(..., TrendsConfig())``)
but never the whole :class:`~hotspots.config.loader.Config`.

Fields whose metadata carries ``path`` name input files: ``"data"`` paths start
at ``[project] data_dir``, ``"config"`` paths at the config file's folder. The
loader checks that each one given exists.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

from ..crs import DEFAULT_CRS, crs_problem, parse_crs
from ..errors import ConfigError

#: The time zone of incident times unless ``[project] timezone`` says otherwise.
DEFAULT_TIMEZONE = "Europe/London"

#: The canonical crime categories every source label is mapped to.
CANONICAL_CRIME_TYPES = (
    "burglary_residential",
    "burglary_business",
    "burglary",  # police.uk does not split residential / business
    "robbery",
    "violence",
    "sexual_offences",
    "theft_from_person",
    "vehicle_crime",
    "bicycle_theft",
    "shoplifting",
    "other_theft",
    "criminal_damage_arson",
    "drugs",
    "possession_of_weapons",
    "public_order",
    "other_crime",
    "anti_social_behaviour",
)

#: Canonical types that count as burglary (police.uk does not split residential/business).
BURGLARY_TYPES = ("burglary", "burglary_residential", "burglary_business")

#: Burglaries a near-repeat analysis looks at by default (dwellings; police.uk's unsplit burglary).
NEAR_REPEAT_CRIME_TYPES = ("burglary_residential", "burglary")

#: Kernel density kernels.
KERNELS = ("quartic", "epanechnikov", "gaussian")

#: Multiple-testing corrections for Gi* classes.
CORRECTIONS = ("fdr", "bonferroni", "none")

#: Camera types an inventory may hold.
CAMERA_TYPES = ("cctv", "anpr", "traffic")

#: Metrics a forecast method can be selected by.
SELECT_METRICS = ("hit_rate", "pai", "pei", "info_gain")

#: Bowers, Johnson & Pease (2004) prospective-mapping defaults (metres, days).
PROSPECTIVE_BANDWIDTH_M = 400.0
PROSPECTIVE_BANDWIDTH_DAYS = 56.0
PROSPECTIVE_BAND_M = 50.0
PROSPECTIVE_BAND_DAYS = 7.0

#: Metadata marking a field as an input path relative to ``[project] data_dir``.
DATA_PATH = {"path": "data"}
#: Metadata marking a field as a file relative to the config file's folder.
CONFIG_PATH = {"path": "config"}


def _iso_date(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _unknown_types(types: tuple[str, ...]) -> list[str]:
    return [c for c in types if c not in CANONICAL_CRIME_TYPES]


def _one_of(
    bad: Callable[[str, str], NoReturn], key: str, value: str, allowed: tuple[str, ...], meaning: str = ""
) -> None:
    """``value`` of ``key`` must be one of ``allowed`` (``meaning`` explains them), else ``bad(key, why)``
    (the section's error: it names the file and the section)."""
    if value not in allowed:
        quoted = [f'"{a}"' for a in allowed]
        names = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        bad(key, f"must be {names}{meaning}, got {value!r}.")


def _check_types(where: str, key: str, types: tuple[str, ...]) -> None:
    bad = _unknown_types(types)
    if bad:
        raise ConfigError(f"{where}: {key} has unknown categories {bad}; choose from {list(CANONICAL_CRIME_TYPES)}.")


# --------------------------------------------------------------------------- forecast method names
_METHOD_PATTERNS = (
    (re.compile(r"naive_(\d+)m"), "naive_months"),
    (re.compile(r"naive_(\d+)d"), "naive_days"),
    (re.compile(r"kde_(\d+)m"), "kde_radius"),
)
_FIXED_METHODS = (
    "kde",
    "longrun_kde",
    "longrun_counts",
    "prospective",
    "etas",
    "gistar",
    "learned",
    "learned_etas",
    "blend",
)
#: ``<method>+relocated``: the method fitted on history carried onto the current location set
#: after a change of the publisher's map points (:mod:`hotspots.forecast.locations`).
RELOCATED_SUFFIX = "+relocated"
FORECAST_METHOD_HELP = (
    "naive_<N>m, naive_<N>d, kde, kde_<R>m, longrun_kde, longrun_counts, prospective, etas, gistar, "
    f"learned, learned_etas, blend (any of them with {RELOCATED_SUFFIX})"
)


def parse_forecast_method(name: str) -> tuple[str, int | None]:
    """The kind of a forecast method name and its number: ``naive_6m`` -> ("naive_months", 6),
    ``kde_200m`` -> ("kde_radius", 200), ``kde`` -> ("kde", None); ``<name>+relocated`` parses as
    ``<name>`` (its variant fitted on relocated history). Unknown names raise ConfigError."""
    base = name.removesuffix(RELOCATED_SUFFIX)
    for pattern, kind in _METHOD_PATTERNS:
        m = pattern.fullmatch(base)
        if m:
            return kind, int(m.group(1))
    if base in _FIXED_METHODS:
        return base, None
    raise ConfigError(f"unknown forecast method {name!r}; choose from {FORECAST_METHOD_HELP}.")


# --------------------------------------------------------------------------- foundation sections
@dataclass(frozen=True)
class ProjectConfig:
    """[project]: name, time zone and working CRS, seed and where relative data paths start.

    ``timezone`` (an IANA name such as Europe/London) is the zone of incident
    times for every analysis (Knox, near repeat, aoristic, repeats, trends,
    exceptions, forecast) and for the pages. ``crs`` is the working CRS: a
    projected CRS in metres or feet (feet are converted to metres on ingest).
    """

    name: str = "hotspots run"
    timezone: str = DEFAULT_TIMEZONE
    crs: str = DEFAULT_CRS
    seed: int = 42
    data_dir: str = "."

    def validate(self, where: str) -> None:
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{where}: [project] timezone {self.timezone!r} is not a time zone name; use an IANA "
                f"name such as {DEFAULT_TIMEZONE!r} or 'America/New_York'."
            ) from None
        problem = crs_problem(self.crs)
        if problem:
            raise ConfigError(f"{where}: [project] crs {problem}.")


@dataclass(frozen=True)
class StudyAreaConfig:
    """[study_area]: ward polygons, optional outline, population and households, roads and town centres.

    ``roads`` is a streets layer: its lines stand in for a basemap, its names label the maps and name ANPR
    sites. OS Open Roads (Ordnance Survey's free download) is the recommended input: its road names are in
    ``name1`` (``name_1`` in the GeoPackage) and its classes in ``class`` (``road_classification`` in the
    GeoPackage; "Motorway", "A Road", "B Road", ...): set ``road_name_field`` and ``road_class_field`` to
    them. ``town_centres`` is a point layer with a ``name`` column.
    """

    wards: str = field(default="", metadata=DATA_PATH)
    ward_code_field: str = "ward_code"
    ward_name_field: str = "ward_name"
    layer: str = ""
    boundary: str = field(default="", metadata=DATA_PATH)
    population: str = field(default="", metadata=DATA_PATH)
    population_code_field: str = "ward_code"
    population_field: str = "population"
    households_field: str = "households"
    lsoas: str = field(default="", metadata=DATA_PATH)
    lsoa_code_field: str = "lsoa_code"
    roads: str = field(default="", metadata=DATA_PATH)
    road_class_field: str = "road_class"
    road_name_field: str = "name"
    town_centres: str = field(default="", metadata=DATA_PATH)
    boundary_tolerance_m: float = 50.0

    def validate(self, where: str) -> None:
        if not self.wards:
            raise ConfigError(
                f"{where}: [study_area] wards is required: the path of a ward polygon file "
                "(GeoJSON, GeoPackage or shapefile)."
            )
        if self.boundary_tolerance_m < 0:
            raise ConfigError(
                f"{where}: [study_area] boundary_tolerance_m must be >= 0 metres, got {self.boundary_tolerance_m}."
            )


@dataclass(frozen=True)
class ColumnMap:
    """[incidents.columns]: which source column holds each canonical field (generic CSV)."""

    id: str = ""
    crime_type: str = ""
    x: str = ""
    y: str = ""
    lon: str = ""
    lat: str = ""
    date: str = ""
    start: str = ""
    end: str = ""
    location: str = ""


@dataclass(frozen=True)
class IncidentSource:
    """One [[incidents]] entry: a file or folder of incidents and how to read it.

    ``crs`` is the CRS of the x/y columns of a generic CSV ('' = ``[project] crs``).
    ``date_format`` a strptime format every date must follow ('' = the forms
    :mod:`hotspots.ingest.dates` reads); ``dayfirst`` the order of ``NN/NN/YYYY``
    dates (unset = decided per file from the values, refused when they cannot
    decide). ``crime_type`` gives every row of a source without a crime-type
    column one canonical type (instead of ``[incidents.columns] crime_type``).
    """

    path: str = field(default="", metadata=DATA_PATH)
    format: str = "police_uk"  # police_uk | generic | geo
    crs: str = ""
    time_precision: str = "auto"  # auto | minute | day | month
    date_format: str = ""  # strptime format; empty = the accepted forms
    dayfirst: bool | None = None  # None = decided per file from the values
    columns: ColumnMap = field(default_factory=ColumnMap)
    crime_type: str = ""  # one canonical type for every row (no crime-type column)
    crime_types: tuple[str, ...] = ()  # keep only these canonical types (empty = all)

    def validate(self, where: str) -> None:
        if not self.path:
            raise ConfigError(f"{where}: every [[incidents]] entry needs a path.")
        if self.format not in ("police_uk", "generic", "geo"):
            raise ConfigError(f"{where}: [[incidents]] format must be police_uk, generic or geo, got {self.format!r}.")
        if self.crime_type:
            _check_types(where, "[[incidents]] crime_type", (self.crime_type,))
            if self.columns.crime_type:
                raise ConfigError(
                    f"{where}: [[incidents]] crime_type ({self.crime_type!r}, one type for every row) and "
                    f"[incidents.columns] crime_type ({self.columns.crime_type!r}, a column) are both set; keep one."
                )
        elif self.format != "police_uk" and not self.columns.crime_type:
            raise ConfigError(
                f"{where}: [[incidents]] {self.path!r} has no crime type: name its column with "
                '[incidents.columns] crime_type = "..." or give every row one type with [[incidents]] '
                'crime_type = "burglary_residential".'
            )
        if self.date_format:
            try:
                dt.datetime.now().strftime(self.date_format)
            except ValueError as exc:
                raise ConfigError(
                    f"{where}: [[incidents]] date_format {self.date_format!r} is not a strptime format ({exc}); "
                    'e.g. "%d/%m/%Y %H:%M".'
                ) from None
            if not re.search(r"%[YyGcx]", self.date_format):
                raise ConfigError(
                    f'{where}: [[incidents]] date_format {self.date_format!r} has no year; e.g. "%d/%m/%Y %H:%M".'
                )
        if self.time_precision not in ("auto", "minute", "day", "month"):
            raise ConfigError(
                f"{where}: [[incidents]] time_precision must be auto, minute, day or month, "
                f"got {self.time_precision!r}."
            )
        _check_types(where, "[[incidents]] crime_types", self.crime_types)
        if self.crs and parse_crs(self.crs) is None:
            raise ConfigError(
                f"{where}: [[incidents]] crs {self.crs!r} is not a CRS pyproj knows; give an "
                "EPSG code such as EPSG:27700 (x/y in metres) or use lon/lat columns."
            )


@dataclass(frozen=True)
class CrimeTypesConfig:
    """[crime_types]: the mapping table file plus inline additions (source label -> canonical)."""

    mapping_file: str = field(default="crime_types.toml", metadata=CONFIG_PATH)
    map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HarmConfig:
    """[harm]: which weighting scheme ranks hotspots (count, ons_css, cambridge_chi...)."""

    scheme: str = "count"
    schemes_file: str = field(default="harm_schemes.toml", metadata=CONFIG_PATH)


@dataclass(frozen=True)
class GridConfig:
    """[grid]: analysis grid; 0 means choose automatically (about 100 cells on the short side)."""

    cell_size_m: float = 0.0

    def validate(self, where: str) -> None:
        if self.cell_size_m < 0:
            raise ConfigError(
                f"{where}: [grid] cell_size_m must be >= 0 metres (0 = automatic), got {self.cell_size_m}."
            )


@dataclass(frozen=True)
class AnalysisConfig:
    """[analysis]: which crime types the run analyses and over what window (days)."""

    crime_types: tuple[str, ...] = ()  # empty = every canonical type present
    lookback_days: int = 365
    fortnight_days: int = 14

    def validate(self, where: str) -> None:
        _check_types(where, "[analysis] crime_types", self.crime_types)
        if self.lookback_days <= 0 or self.fortnight_days <= 0:
            raise ConfigError(f"{where}: [analysis] lookback_days and fortnight_days must be positive days.")


@dataclass(frozen=True)
class OutputConfig:
    """[output]: where packs go (one folder per FIM date below it, ``fim-YYYY-MM-DD``).

    ``cache``: keep the forecast's fitted surfaces in ``.hotspots-cache`` beside the pack folder,
    so the next meeting's pack reuses the backtest fits whose data and settings have not changed
    (the pack is the same with or without it; deleting the folder is always safe).
    """

    folder: str = "out"
    cache: bool = True


# --------------------------------------------------------------------------- hotspot surfaces
@dataclass(frozen=True)
class DensityConfig:
    """[density]: kernel density settings.

    ``radius_m`` 0 chooses the radius by the spatial Silverman rule;
    ``min_radius_m``/``max_radius_m`` clamp the automatic choice. ``harm`` also
    computes a harm-weighted surface.
    """

    kernel: str = "quartic"
    radius_m: float = 0.0
    min_radius_m: float = 100.0
    max_radius_m: float = 1500.0
    harm: bool = True

    def validate(self, where: str) -> None:
        if self.kernel not in KERNELS:
            raise ConfigError(f"{where}: [density] kernel must be one of {list(KERNELS)}, got {self.kernel!r}.")
        if self.radius_m < 0:
            raise ConfigError(f"{where}: [density] radius_m must be >= 0 metres (0 = automatic), got {self.radius_m}.")
        if not 0 < self.min_radius_m <= self.max_radius_m:
            raise ConfigError(
                f"{where}: [density] needs 0 < min_radius_m <= max_radius_m (metres), got "
                f"{self.min_radius_m} and {self.max_radius_m}."
            )


@dataclass(frozen=True)
class GiStarConfig:
    """[gistar]: Getis-Ord Gi* settings.

    ``band_m`` 0 means queen neighbours (cell_size * sqrt(2)); ``permutations``
    0 skips the permutation test; ``p_value`` chooses which p classifies cells
    (``norm`` analytic, ``sim`` permutation, needs permutations > 0);
    ``correction`` is fdr | bonferroni | none; ``value`` tests cell counts or
    summed harm. (The confidence a hot spot needs is ``[hotspots] confidence``.)
    """

    band_m: float = 0.0
    permutations: int = 0
    p_value: str = "norm"
    correction: str = "fdr"
    seed: int = -1  # -1 = the run seed ([project] seed)
    value: str = "count"  # count | harm

    def validate(self, where: str) -> None:
        if self.band_m < 0:
            raise ConfigError(
                f"{where}: [gistar] band_m must be >= 0 metres (0 = queen neighbours), got {self.band_m}."
            )
        if self.permutations < 0:
            raise ConfigError(f"{where}: [gistar] permutations must be >= 0, got {self.permutations}.")
        if self.p_value not in ("norm", "sim"):
            raise ConfigError(f"{where}: [gistar] p_value must be 'norm' or 'sim', got {self.p_value!r}.")
        if self.p_value == "sim" and self.permutations == 0:
            raise ConfigError(f"{where}: [gistar] p_value = 'sim' needs permutations > 0 (e.g. 999).")
        if self.correction not in CORRECTIONS:
            raise ConfigError(
                f"{where}: [gistar] correction must be one of {list(CORRECTIONS)}, got {self.correction!r}."
            )
        if self.value not in ("count", "harm"):
            raise ConfigError(f"{where}: [gistar] value must be 'count' or 'harm', got {self.value!r}.")


@dataclass(frozen=True)
class HotspotsConfig:
    """[hotspots]: how hot cells become hotspot areas.

    ``method`` gistar (significant hot cells at ``confidence`` 90/95/99) or kde
    (cells at or above ``kde_percentile`` of the surface); ``min_cells`` drops
    smaller areas; ``top_locations`` location strings are listed per area;
    ``profile`` auto (day x hour profile when times are minute-precision),
    always (refuse month/day data) or never.
    """

    method: str = "gistar"
    confidence: int = 95
    kde_percentile: float = 99.0
    min_cells: int = 1
    top_locations: int = 3
    profile: str = "auto"

    def validate(self, where: str) -> None:
        if self.method not in ("gistar", "kde"):
            raise ConfigError(f"{where}: [hotspots] method must be 'gistar' or 'kde', got {self.method!r}.")
        if self.confidence not in (90, 95, 99):
            raise ConfigError(f"{where}: [hotspots] confidence must be 90, 95 or 99, got {self.confidence}.")
        if not 0 < self.kde_percentile < 100:
            raise ConfigError(
                f"{where}: [hotspots] kde_percentile must be between 0 and 100, got {self.kde_percentile}."
            )
        if self.min_cells < 1 or self.top_locations < 0:
            raise ConfigError(f"{where}: [hotspots] min_cells must be >= 1 and top_locations >= 0.")
        if self.profile not in ("auto", "always", "never"):
            raise ConfigError(f"{where}: [hotspots] profile must be auto, always or never, got {self.profile!r}.")


# --------------------------------------------------------------------------- near repeat
@dataclass(frozen=True)
class NearRepeatConfig:
    """[nearrepeat]: Knox bands, permutations, alert window and fall-back extents.

    Distances in metres, times in days. ``radius_m`` / ``duration_days`` of 0
    mean "calibrate": use the near-repeat extent the Knox test finds significant
    on the user's own data, else ``default_radius_m`` / ``default_days``.
    """

    crime_types: tuple[str, ...] = NEAR_REPEAT_CRIME_TYPES
    spatial_bandwidth_m: float = 100.0
    n_spatial_bands: int = 5
    temporal_bandwidth_days: float = 7.0
    n_temporal_bands: int = 4
    metric: str = "euclidean"
    convention: str = "closed"
    permutations: int = 999
    alpha: float = 0.05
    lookback_days: int = 365
    alert_days: int = 14
    radius_m: float = 0.0
    duration_days: float = 0.0
    default_radius_m: float = PROSPECTIVE_BANDWIDTH_M
    default_days: float = PROSPECTIVE_BANDWIDTH_DAYS
    band_m: float = PROSPECTIVE_BAND_M
    band_days: float = PROSPECTIVE_BAND_DAYS
    repeat_window_days: int = 365
    local_knox: bool = True
    extent_rule: str = "core"

    def validate(self, where: str) -> None:
        def bad(key: str, why: str) -> NoReturn:
            raise ConfigError(f"{where}: [nearrepeat] {key} {why}")

        self._validate_knox(bad)
        self._validate_windows(bad)
        _check_types(where, "[nearrepeat] crime_types", self.crime_types)

    def _validate_knox(self, bad: Callable[[str, str], NoReturn]) -> None:
        """The Knox test's bands, metric, permutations and significance, and the extent rule."""
        if self.spatial_bandwidth_m <= 0:
            bad("spatial_bandwidth_m", f"must be > 0 metres, got {self.spatial_bandwidth_m}.")
        if self.temporal_bandwidth_days <= 0:
            bad("temporal_bandwidth_days", f"must be > 0 days, got {self.temporal_bandwidth_days}.")
        if self.n_spatial_bands < 1 or self.n_temporal_bands < 1:
            bad("n_spatial_bands/n_temporal_bands", "must be at least 1.")
        _one_of(bad, "metric", self.metric, ("euclidean", "manhattan"))
        _one_of(bad, "convention", self.convention, ("closed", "nrc"))
        if self.permutations < 19:
            bad("permutations", f"must be at least 19 (p can reach 0.05), got {self.permutations}.")
        if not 0 < self.alpha < 1:
            bad("alpha", f"must be between 0 and 1, got {self.alpha}.")
        _one_of(
            bad,
            "extent_rule",
            self.extent_rule,
            ("core", "significant"),
            " (core: the half-maximum core of the pattern)",
        )

    def _validate_windows(self, bad: Callable[[str, str], NoReturn]) -> None:
        """The look-back, alert and repeat windows (days) and the alert extents (metres, days)."""
        for k in ("lookback_days", "alert_days", "repeat_window_days"):
            if getattr(self, k) <= 0:
                bad(k, f"must be a positive number of days, got {getattr(self, k)}.")
        for k in ("radius_m", "duration_days"):
            if getattr(self, k) < 0:
                bad(k, f"must be >= 0 (0 = calibrate from the Knox test), got {getattr(self, k)}.")
        for k in ("default_radius_m", "default_days", "band_m", "band_days"):
            if getattr(self, k) <= 0:
                bad(k, f"must be > 0, got {getattr(self, k)}.")


# --------------------------------------------------------------------------- trends
@dataclass(frozen=True)
class TrendsConfig:
    """[trends]: space-time cube, Gi*, trends and the class scheme.

    ``step``: ``auto`` (month for month-precision data, else ``step_days``),
    ``days`` or ``month``. ``n_steps`` 0 = every whole step from the first
    incident up to the FIM date, capped at ``max_steps``. ``time_lags``: how
    many previous steps join the Gi* neighbourhood. ``weight``: ``count`` or
    ``harm`` (the incidents' harm weights).
    """

    scheme: str = "esri"
    step: str = "auto"
    step_days: int = 14
    n_steps: int = 0
    max_steps: int = 130
    min_steps: int = 6
    time_lags: int = 1
    alpha: float = 0.05
    fdr: str = "step"
    trend_alpha: float = 0.05
    trend_test: str = "yue_wang"
    share: float = 0.9
    historical: str = "extended"
    historical_min_span: float = 0.25
    recent_steps: int = 0
    uk_hot_share: float = 0.5
    weight: str = "count"
    crime_types: tuple[str, ...] = ()

    def validate(self, where: str) -> None:
        def bad(key: str, msg: str) -> NoReturn:
            raise ConfigError(f"{where}: [trends] {key} {msg}")

        self._validate_cube(bad)
        self._validate_tests(bad)

    def _validate_cube(self, bad: Callable[[str, str], NoReturn]) -> None:
        """The class scheme and the space-time cube: step, number of steps, time lags."""
        _one_of(bad, "scheme", self.scheme, ("esri", "uk"))
        _one_of(bad, "step", self.step, ("auto", "days", "month"))
        if self.step_days < 1:
            bad("step_days", f"must be a positive number of days, got {self.step_days}.")
        if self.n_steps < 0 or self.max_steps < 1:
            bad("n_steps/max_steps", "must be >= 0 (n_steps, 0 = automatic) and >= 1 (max_steps).")
        if self.min_steps < 4:
            bad("min_steps", f"must be at least 4 (the trend test needs a series), got {self.min_steps}.")
        if self.time_lags < 0:
            bad("time_lags", f"must be >= 0 steps, got {self.time_lags}.")

    def _validate_tests(self, bad: Callable[[str, str], NoReturn]) -> None:
        """Significance, shares, the FDR and trend tests, the historical rule, crime types and weight."""
        for key in ("alpha", "trend_alpha"):
            v = getattr(self, key)
            if not 0 < v < 1:
                bad(key, f"must be between 0 and 1, got {v}.")
        for key in ("share", "historical_min_span", "uk_hot_share"):
            v = getattr(self, key)
            if not 0 < v <= 1:
                bad(key, f"must be in (0, 1], got {v}.")
        _one_of(bad, "fdr", self.fdr, ("step", "cube", "none"))
        _one_of(bad, "trend_test", self.trend_test, ("yue_wang", "mk"))
        _one_of(bad, "historical", self.historical, ("extended", "arcgis"))
        if self.recent_steps < 0:
            bad("recent_steps", f"must be >= 0 (0 = a quarter of the steps), got {self.recent_steps}.")
        unknown = _unknown_types(self.crime_types)
        if unknown:
            bad("crime_types", f"has unknown categories {unknown}; choose from {list(CANONICAL_CRIME_TYPES)}.")
        _one_of(bad, "weight", self.weight, ("count", "harm"))


@dataclass(frozen=True)
class ExceptionsConfig:
    """[exceptions]: the "what changed" table and the seasonal outlook.

    ``period_days`` 0 = the fortnight (``[analysis] fortnight_days``); ignored
    (calendar months) for month-precision data. Counts are incidents.
    """

    period_days: int = 0
    trailing_periods: int = 6
    alpha: float = 0.05
    fdr: bool = True
    min_count: int = 5
    min_change: int = 3
    seasonal_high: float = 1.1
    seasonal_low: float = 0.9
    crime_types: tuple[str, ...] = ()
    include_all_crime: bool = True
    include_study_area: bool = True

    def validate(self, where: str) -> None:
        if self.period_days < 0:
            raise ConfigError(
                f"{where}: [exceptions] period_days must be >= 0 days (0 = a fortnight), got {self.period_days}."
            )
        if self.trailing_periods < 1:
            raise ConfigError(f"{where}: [exceptions] trailing_periods must be >= 1, got {self.trailing_periods}.")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"{where}: [exceptions] alpha must be between 0 and 1, got {self.alpha}.")
        if self.min_count < 0 or self.min_change < 0:
            raise ConfigError(f"{where}: [exceptions] min_count and min_change must be >= 0 incidents.")
        if not (0 < self.seasonal_low <= 1 <= self.seasonal_high):
            raise ConfigError(
                f"{where}: [exceptions] need 0 < seasonal_low <= 1 <= seasonal_high, got "
                f"{self.seasonal_low} and {self.seasonal_high}."
            )
        _check_types(where, "[exceptions] crime_types", self.crime_types)


@dataclass(frozen=True)
class EvaluateConfig:
    """[evaluate]: displacement buffer (metres), control, periods (days)."""

    buffer_m: float = 200.0
    control: str = field(default="", metadata=DATA_PATH)  # polygon file; "" = the rest of the study area
    displacement_control: str = field(default="", metadata=DATA_PATH)
    before_days: int = 0  # 0 = the same length as the after period
    control_weight: str = "auto"  # auto | area | none
    alpha: float = 0.05
    crime_types: tuple[str, ...] = ()

    def validate(self, where: str) -> None:
        if self.buffer_m < 0:
            raise ConfigError(f"{where}: [evaluate] buffer_m must be >= 0 metres, got {self.buffer_m}.")
        if self.before_days < 0:
            raise ConfigError(
                f"{where}: [evaluate] before_days must be >= 0 (0 = same as after), got {self.before_days}."
            )
        if self.control_weight not in ("auto", "area", "none"):
            raise ConfigError(
                f"{where}: [evaluate] control_weight must be auto, area or none, got {self.control_weight!r}."
            )
        if not 0 < self.alpha < 1:
            raise ConfigError(f"{where}: [evaluate] alpha must be between 0 and 1, got {self.alpha}.")
        _check_types(where, "[evaluate] crime_types", self.crime_types)


# --------------------------------------------------------------------------- forecast
@dataclass(frozen=True)
class ForecastConfig:
    """[forecast]: which method forecasts the coming horizon and how it is chosen.

    ``method``: ``"auto"`` (chosen from ``candidates`` by the selection rule on
    the run's own past backtest scores; the pack quotes the rule's own
    out-of-sample record) or a method name (``naive_12m``, ``kde``,
    ``longrun_kde``, ``longrun_counts``, ``prospective``, ``etas``, ``gistar``,
    ``learned``, ``learned_etas``, ``blend``; ``<name>+relocated`` for the
    method fitted on history carried onto the current published locations).
    ``window``: number of rolling origins (one horizon apart, the last ending at
    the FIM date) in the in-pipeline backtest. ``candidates``: methods compared
    when ``auto`` (empty = the defaults for the data's time precision).
    ``crime_types``: canonical types forecast (default: the burglary types).
    ``shares``: area shares (0-1) the figures are reported at; the method is
    chosen by ``select_metric`` (hit_rate | pai | pei | info_gain) at
    ``select_share``. ``horizon_days``: 0 = ``[analysis] fortnight_days``
    (month-precision data always uses one calendar month).
    """

    method: str = "auto"
    window: int = 4
    candidates: tuple[str, ...] = ()
    crime_types: tuple[str, ...] = BURGLARY_TYPES
    shares: tuple[float, ...] = (0.01, 0.05, 0.10)
    select_share: float = 0.05
    select_metric: str = "hit_rate"
    horizon_days: int = 0

    def validate(self, where: str) -> None:
        for name in ((self.method,) if self.method != "auto" else ()) + tuple(self.candidates):
            try:
                parse_forecast_method(name)
            except ConfigError as exc:
                raise ConfigError(f"{where}: [forecast] {exc}") from None
        if self.window < 1:
            raise ConfigError(f"{where}: [forecast] window must be at least 1 origin, got {self.window}.")
        if not self.shares or any(not 0 < s <= 1 for s in self.shares):
            raise ConfigError(
                f"{where}: [forecast] shares must be area shares in (0, 1], e.g. [0.01, 0.05, 0.1]; "
                f"got {list(self.shares)}."
            )
        if not 0 < self.select_share <= 1:
            raise ConfigError(f"{where}: [forecast] select_share must be in (0, 1], got {self.select_share}.")
        if self.select_metric not in SELECT_METRICS:
            raise ConfigError(
                f"{where}: [forecast] select_metric must be one of {list(SELECT_METRICS)}, got {self.select_metric!r}."
            )
        if self.horizon_days < 0:
            raise ConfigError(f"{where}: [forecast] horizon_days must be >= 0 days (0 = [analysis] fortnight_days).")
        _check_types(where, "[forecast] crime_types", self.crime_types)


# --------------------------------------------------------------------------- cameras and coverage
@dataclass(frozen=True)
class CameraInventorySource:
    """One ``[[cameras.inventories]]`` entry: a camera list, who published it and how to read it.

    ``label`` names the inventory on every page; ``dated`` (ISO date) is when the
    list was published or last updated; ``default_type`` (cctv, anpr, traffic)
    types a file without a type column; ``crs`` is the CRS of x/y columns (''
    = ``[project] crs``); ``description_field`` the column describing where
    each camera is ('' = the first of description, location_desc, name,
    location, view). ``quality_field`` names a column of positional-quality
    classes and ``position_error_m`` gives each class its positional-error
    radius in metres: the camera's true position is taken to be anywhere
    within that distance of the mapped one, all places equally likely, and its
    coverage counts with the probability that the true position sees each
    place (0 m = the position is exact).
    """

    path: str = field(default="", metadata=DATA_PATH)
    label: str = ""
    dated: str = ""
    default_type: str = ""
    crs: str = ""
    description_field: str = ""
    quality_field: str = ""
    position_error_m: dict[str, float] = field(default_factory=dict)

    def validate(self, where: str) -> None:
        if not self.path:
            raise ConfigError(f"{where}: every [[cameras.inventories]] entry needs a path.")
        _check_inventory_fields(where, "[[cameras.inventories]]", self.default_type, self.crs, self.dated)
        if self.quality_field and not self.position_error_m:
            raise ConfigError(
                f"{where}: [[cameras.inventories]] quality_field = {self.quality_field!r} needs a "
                "position_error_m table giving each quality class its error radius in metres."
            )
        bad = {k: v for k, v in self.position_error_m.items() if not (0 <= v <= 5000)}
        if bad:
            raise ConfigError(
                f"{where}: [[cameras.inventories]] position_error_m must be between 0 and 5000 metres, got {bad}."
            )


def _check_inventory_fields(where: str, key: str, default_type: str, crs: str, dated: str) -> None:
    if default_type and default_type not in CAMERA_TYPES:
        raise ConfigError(f"{where}: {key} default_type must be one of {list(CAMERA_TYPES)}, got {default_type!r}.")
    if crs and parse_crs(crs) is None:
        raise ConfigError(
            f"{where}: {key} crs {crs!r} is not a CRS pyproj knows; give an EPSG code such as EPSG:27700."
        )
    if dated and not _iso_date(dated):
        raise ConfigError(f"{where}: {key} dated {dated!r} is not an ISO date (YYYY-MM-DD).")


@dataclass(frozen=True)
class CamerasConfig:
    """[cameras]: the camera inventories and per-type viewing defaults.

    Ranges in metres, angles in degrees (bearing clockwise from grid north),
    heights in metres above ground. One inventory can be given by ``inventory``
    (with ``label``, ``dated``, ``default_type`` and ``crs``, the CRS of x/y
    columns in a CSV, '' = ``[project] crs``); any number more, each with its own
    reading rules, as ``[[cameras.inventories]]`` tables (see
    :class:`CameraInventorySource`). A camera row whose range is above
    ``max_range_m`` or whose mounting height is above ``max_mount_height_m`` is
    rejected with the reason. ``position_samples`` positions stand for a camera
    whose position is uncertain (see :mod:`hotspots.coverage.uncertain`).
    """

    inventory: str = field(default="", metadata=DATA_PATH)
    crs: str = ""
    dated: str = ""  # ISO date of the ``inventory`` list
    inventories: tuple[CameraInventorySource, ...] = ()
    obstruction: str = field(default="", metadata=DATA_PATH)  # building-height / DSM GeoTIFF (metres)
    obstruction_is_dsm: bool = False  # true: raster holds absolute heights (DSM); ground = min of raster
    cctv_range_m: float = 80.0
    cctv_fov_deg: float = 360.0
    anpr_range_m: float = 30.0
    anpr_fov_deg: float = 60.0
    traffic_range_m: float = 150.0
    traffic_fov_deg: float = 360.0
    mount_height_m: float = 6.0
    target_height_m: float = 1.5
    coverage_types: tuple[str, ...] = ("cctv", "anpr", "traffic")
    label: str = ""  # how reports name the inventory (default: the file name)
    default_type: str = ""  # type for every row when the file has no 'type' column (e.g. "traffic")
    max_distance_from_area_m: float = -1.0  # >= 0: cameras farther from the study area are set aside (listed)
    max_range_m: float = 1000.0  # a camera row claiming a longer view is rejected
    max_mount_height_m: float = 100.0  # a camera row mounted higher is rejected
    position_samples: int = 128  # positions standing for a camera with an uncertain position

    def validate(self, where: str) -> None:
        for t in CAMERA_TYPES:
            r, f = getattr(self, f"{t}_range_m"), getattr(self, f"{t}_fov_deg")
            if not (0 < r <= self.max_range_m):
                raise ConfigError(
                    f"{where}: [cameras] {t}_range_m must be > 0 and at most max_range_m ({self.max_range_m:g}) "
                    f"metres, got {r}."
                )
            if not (0 < f <= 360):
                raise ConfigError(f"{where}: [cameras] {t}_fov_deg must be in (0, 360] degrees, got {f}.")
        if self.mount_height_m < 0 or self.target_height_m < 0:
            raise ConfigError(f"{where}: [cameras] mount_height_m and target_height_m must be >= 0 metres.")
        _check_inventory_fields(where, "[cameras]", self.default_type, self.crs, self.dated)
        bad = [t for t in self.coverage_types if t not in CAMERA_TYPES]
        if bad:
            raise ConfigError(
                f"{where}: [cameras] coverage_types has unknown type(s) {bad}; choose from {list(CAMERA_TYPES)}."
            )
        if not (0 < self.max_range_m <= 10_000) or not (0 < self.max_mount_height_m <= 1000):
            raise ConfigError(
                f"{where}: [cameras] max_range_m must be in (0, 10000] metres and max_mount_height_m in (0, 1000]."
            )
        if not (1 <= self.position_samples <= 4096):
            raise ConfigError(f"{where}: [cameras] position_samples must be 1..4096, got {self.position_samples}.")

    def sources(self) -> tuple[CameraInventorySource, ...]:
        """Every inventory to read: ``inventory`` (with this section's label, date, type and CRS) first,
        then the ``[[cameras.inventories]]`` tables."""
        first = (
            (
                CameraInventorySource(
                    path=self.inventory,
                    label=self.label,
                    dated=self.dated,
                    default_type=self.default_type,
                    crs=self.crs,
                ),
            )
            if self.inventory
            else ()
        )
        return first + self.inventories

    def default_range(self, ctype: str) -> float:
        return float(getattr(self, f"{ctype}_range_m"))

    def default_fov(self, ctype: str) -> float:
        return float(getattr(self, f"{ctype}_fov_deg"))


@dataclass(frozen=True)
class CoverageConfig:
    """[coverage]: period, crime types and gap rules (metres, ISO dates)."""

    period_start: str = ""  # ISO date, inclusive; empty = from the first incident
    period_end: str = ""  # ISO date, inclusive; empty = to the last incident
    crime_types: tuple[str, ...] = ()  # empty = all
    subsample_m: float = 10.0
    high_harm_quantile: float = 0.9
    gap_threshold: float = 0.5
    max_gaps: int = 50

    def validate(self, where: str) -> None:
        if self.subsample_m <= 0:
            raise ConfigError(f"{where}: [coverage] subsample_m must be > 0 metres, got {self.subsample_m}.")
        if not (0 <= self.high_harm_quantile < 1):
            raise ConfigError(
                f"{where}: [coverage] high_harm_quantile must be in [0, 1), got {self.high_harm_quantile}."
            )
        if not (0 < self.gap_threshold <= 1):
            raise ConfigError(f"{where}: [coverage] gap_threshold must be in (0, 1], got {self.gap_threshold}.")
        for key in ("period_start", "period_end"):
            v = getattr(self, key)
            if v and not _iso_date(v):
                raise ConfigError(f"{where}: [coverage] {key} {v!r} is not an ISO date (YYYY-MM-DD).")
        _check_types(where, "[coverage] crime_types", self.crime_types)


@dataclass(frozen=True)
class SitingConfig:
    """[siting]: how many new cameras, where candidates come from, solver limits.

    Distances in metres, times in seconds, ``target_share`` a fraction of harm.
    """

    k: int = 10
    candidates: str = field(default="", metadata=DATA_PATH)  # CSV (x,y or lon,lat) / vector file of sites
    include_planned: bool = False  # true: planned cameras count as existing coverage when siting new ones
    demand_cell_m: float = 25.0  # demand = incident harm summed on cells of this size; 0 = the analysis grid
    candidate_source: str = "auto"  # auto (roads when given, else lattice) | roads | lattice
    candidate_type: str = "cctv"
    candidate_range_m: float = 0.0  # 0 = the type's default range from [cameras]
    candidate_fov_deg: float = 0.0  # 0 = the type's default field of view
    candidate_spacing_m: float = 40.0
    candidate_buffer_m: float = 150.0
    max_candidates: int = 2000
    time_limit_s: float = 60.0
    solver: str = "auto"  # auto (= highs, in this process) | highs | spopt | pulp | greedy
    spopt_max_terms: int = 250_000  # spopt writes dense demand x site terms; above this the sparse model is used
    target_share: float = 0.25  # set covering: fewest new cameras to see this share of all harm
    curve: str = "optimal"  # optimal | greedy: how the 1..k marginal-gain curve is computed

    def validate(self, where: str) -> None:
        if self.k < 1:
            raise ConfigError(f"{where}: [siting] k must be >= 1 new cameras, got {self.k}.")
        if self.solver not in ("auto", "highs", "spopt", "pulp", "greedy"):
            raise ConfigError(
                f"{where}: [siting] solver must be auto, highs, spopt, pulp or greedy, got {self.solver!r}."
            )
        if self.candidate_source not in ("auto", "roads", "lattice"):
            raise ConfigError(
                f"{where}: [siting] candidate_source must be auto, roads or lattice, got {self.candidate_source!r}."
            )
        if self.candidate_type not in CAMERA_TYPES:
            raise ConfigError(
                f"{where}: [siting] candidate_type must be one of {list(CAMERA_TYPES)}, got {self.candidate_type!r}."
            )
        if self.curve not in ("optimal", "greedy"):
            raise ConfigError(f"{where}: [siting] curve must be optimal or greedy, got {self.curve!r}.")
        if not (0 < self.target_share <= 1):
            raise ConfigError(f"{where}: [siting] target_share must be in (0, 1], got {self.target_share}.")
        if self.candidate_spacing_m <= 0 or self.candidate_buffer_m < 0 or self.max_candidates < 1:
            raise ConfigError(
                f"{where}: [siting] candidate_spacing_m must be > 0 m, candidate_buffer_m >= 0 m "
                "and max_candidates >= 1."
            )
        if self.demand_cell_m < 0:
            raise ConfigError(f"{where}: [siting] demand_cell_m must be >= 0 metres (0 = the analysis grid).")
        if self.time_limit_s <= 0:
            raise ConfigError(f"{where}: [siting] time_limit_s must be > 0 seconds.")


def _default_class_weights() -> dict[str, float]:
    return {"motorway": 4.0, "a_road": 3.0, "b_road": 2.0, "minor": 1.0}


#: Road classes an [anpr] road may have (``unclassified`` when the roads carry none).
ROAD_CLASSES = ("motorway", "a_road", "b_road", "minor", "unclassified")


@dataclass(frozen=True)
class AnprConfig:
    """[anpr]: where roads enter the area, how entry points are weighted, how many new readers (metres).

    Entry points are where ``roads`` cross the outline (``boundary``), plus,
    with ``street_points`` (a police.uk street-crime CSV of the crimes just
    beyond the boundary), streets whose police.uk points lie on both sides of
    the boundary: the closest inside/outside pair of one street name at most
    ``street_pair_max_m`` apart whose segment crosses the boundary once, at an
    angle of at least ``street_min_angle_deg`` to it, with one of the two points
    at least ``street_min_side_m`` from it (a road running along the boundary
    has all its points on the line). A street crossing within
    ``street_merge_m`` of a road crossing is the same entry (the street names
    it). ``default_road_class`` is the class of roads whose file has none (e.g.
    ``a_road`` for the DfT Major Road Network, which holds only motorways and A
    roads). ``neighbours`` (polygons, named by ``neighbours_name_field``) says
    which area each entry leads to. An entry without a road name is described
    by the named police.uk street nearest it, within ``near_street_m``.
    """

    k: int = 20
    boundary: str = field(default="", metadata=DATA_PATH)  # outline file; default: the study-area boundary
    roads: str = field(default="", metadata=DATA_PATH)  # road lines; default: the study area's roads
    default_road_class: str = ""  # class of roads without one ('' = unclassified)
    street_points: str = field(default="", metadata=DATA_PATH)  # police.uk CSV of crimes beyond the boundary
    street_pair_max_m: float = 800.0
    street_min_side_m: float = 25.0
    street_min_angle_deg: float = 30.0
    street_merge_m: float = 150.0
    near_street_m: float = 500.0  # an entry without a road name is described by the named street this close
    neighbours: str = field(default="", metadata=DATA_PATH)  # polygons of the neighbouring areas
    neighbours_name_field: str = "name"
    class_weights: dict[str, float] = field(default_factory=_default_class_weights)
    unknown_class_weight: float = 1.0
    crime_types: tuple[str, ...] = ("burglary", "burglary_residential", "burglary_business", "vehicle_crime")
    crime_radius_m: float = 1000.0
    crime_weight: float = 1.0
    cover_distance_m: float = 250.0  # a reader covers an entry point this close along/near its road
    on_road_m: float = 30.0  # ... and only if the reader stands within this distance of that entry's road
    merge_distance_m: float = 30.0
    snap_m: float = 5.0  # a road ending this close to the boundary counts as crossing it (links split there)
    time_limit_s: float = 30.0

    def validate(self, where: str) -> None:
        if self.k < 1:
            raise ConfigError(f"{where}: [anpr] k must be >= 1 readers, got {self.k}.")
        for key in ("crime_radius_m", "cover_distance_m"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"{where}: [anpr] {key} must be > 0 metres.")
        if self.merge_distance_m < 0 or self.crime_weight < 0:
            raise ConfigError(f"{where}: [anpr] merge_distance_m and crime_weight must be >= 0.")
        bad = {k: v for k, v in self.class_weights.items() if v < 0}
        if bad:
            raise ConfigError(f"{where}: [anpr] class_weights must be >= 0, got {bad}.")
        _check_types(where, "[anpr] crime_types", self.crime_types)
        if self.default_road_class and self.default_road_class not in ROAD_CLASSES:
            raise ConfigError(
                f"{where}: [anpr] default_road_class must be one of {list(ROAD_CLASSES)}, "
                f"got {self.default_road_class!r}."
            )
        for key in ("street_pair_max_m", "street_merge_m", "near_street_m"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"{where}: [anpr] {key} must be > 0 metres.")
        if self.street_min_side_m < 0 or not (0 <= self.street_min_angle_deg <= 90):
            raise ConfigError(
                f"{where}: [anpr] street_min_side_m must be >= 0 metres and street_min_angle_deg in 0..90 degrees."
            )


# --------------------------------------------------------------------------- tasking
@dataclass(frozen=True)
class TaskingConfig:
    """[tasking]: how many items, what qualifies and how items are scored and matched.

    ``max_items`` items on the list; ``min_incidents`` in the window for an area to
    qualify; ``confidence`` (90/95/99) of the all-crime Gi* areas used when the
    surfaces stage did not run; multipliers as in :mod:`hotspots.tasking.rank`;
    ``escalation_ratio`` a continuing item whose score rose by at least this factor
    is *escalated*; ``match_overlap`` the overlap (intersection over the smaller
    area, 0..1) at which an item continues a previous item; ``id_prefix`` starts
    new ids; ``review_days`` to the review date (0 = [analysis] fortnight_days).
    ``merge_distance_m`` metres: hotspot areas (of any crime type) and near-repeat
    alert zones that overlap or lie within this distance of each other are one
    place, so one item (0 = automatic: the larger of the grid cell size and the
    median spacing of neighbouring incident locations, e.g. police.uk snap points).
    """

    max_items: int = 20
    min_incidents: int = 5
    confidence: int = 99
    emerging_multiplier: float = 1.25
    fading_multiplier: float = 0.8
    near_repeat_multiplier: float = 2.0
    escalation_ratio: float = 1.25
    match_overlap: float = 0.25
    id_prefix: str = "T"
    review_days: int = 0
    merge_distance_m: float = 0.0

    def validate(self, where: str) -> None:
        if self.max_items < 1:
            raise ConfigError(f"{where}: [tasking] max_items must be >= 1, got {self.max_items}.")
        if self.confidence not in (90, 95, 99):
            raise ConfigError(f"{where}: [tasking] confidence must be 90, 95 or 99, got {self.confidence}.")
        if not (0 < self.match_overlap <= 1):
            raise ConfigError(f"{where}: [tasking] match_overlap must be in (0, 1], got {self.match_overlap}.")
        for k in ("emerging_multiplier", "fading_multiplier", "near_repeat_multiplier", "escalation_ratio"):
            if getattr(self, k) <= 0:
                raise ConfigError(f"{where}: [tasking] {k} must be > 0, got {getattr(self, k)}.")
        if not self.id_prefix or not self.id_prefix.replace("-", "").isalnum():
            raise ConfigError(f"{where}: [tasking] id_prefix must be letters/digits, got {self.id_prefix!r}.")
        if self.review_days < 0:
            raise ConfigError(f"{where}: [tasking] review_days must be >= 0 days (0 = [analysis] fortnight_days).")
        if not (0 <= self.merge_distance_m <= 5000):
            raise ConfigError(
                f"{where}: [tasking] merge_distance_m must be 0..5000 metres (0 = automatic), "
                f"got {self.merge_distance_m}."
            )


@dataclass(frozen=True)
class ConcentrationConfig:
    """[concentration]: how concentrated crime and harm are, how stable places are, how robust hotspots are.

    ``places``: ``grid`` (the analysis grid's cells), ``snap_points`` (the distinct incident locations,
    as police.uk publishes them) or ``auto`` (snap points when the incidents are police.uk month data,
    else grid cells). ``period``: ``year``, ``half-year`` or ``auto`` (years when there are at least
    five whole years, else half-years). ``harm_schemes``: harm schemes (from the harm schemes file)
    whose concentration is compared with the run's own ``[harm] scheme`` (empty: only the run's).
    ``top_places``: how many harm spots and count spots to compare. ``recent_periods``: how many of the
    latest periods count as recent for an *acute* place. ``high_share`` (0..1) and ``min_high_count``:
    a place is *high* in a period when its count is in the top ``high_share`` of places and at least
    ``min_high_count``. ``robustness``: test each hotspot against other grids and search radii;
    ``fragile_below`` (0..1): a hotspot found in a smaller share of them is *fragile*;
    ``min_overlap`` (0..1): the share of the smaller area two hot areas must share to be the same.
    """

    places: str = "auto"
    period: str = "auto"
    harm_schemes: tuple[str, ...] = ()
    top_places: int = 20
    recent_periods: int = 1
    high_share: float = 0.05
    min_high_count: int = 3
    robustness: bool = True
    fragile_below: float = 0.5
    min_overlap: float = 0.5

    def validate(self, where: str) -> None:
        def bad(key: str, msg: str) -> NoReturn:
            raise ConfigError(f"{where}: [concentration] {key} {msg}")

        if self.places not in ("grid", "snap_points", "auto"):
            bad("places", f'must be "grid", "snap_points" or "auto", got {self.places!r}.')
        if self.period not in ("year", "half-year", "auto"):
            bad("period", f'must be "year", "half-year" or "auto", got {self.period!r}.')
        if self.top_places < 1:
            bad("top_places", f"must be a whole number >= 1, got {self.top_places}.")
        if self.recent_periods < 1:
            bad("recent_periods", f"must be >= 1 period, got {self.recent_periods}.")
        if not 0 < self.high_share < 1:
            bad("high_share", f"must be a share between 0 and 1 (e.g. 0.05 for the top 5%), got {self.high_share}.")
        if self.min_high_count < 1:
            bad("min_high_count", f"must be >= 1 incident, got {self.min_high_count}.")
        for key in ("fragile_below", "min_overlap"):
            v = getattr(self, key)
            if not 0 < v <= 1:
                bad(key, f"must be a share in (0, 1], got {v}.")


#: Where patrol positions come from: GPS pings (CSV or GPX) or a patrol log (CSV).
EXPERIMENT_KINDS = ("", "allocation", "crossover")


@dataclass(frozen=True)
class DosageConfig:
    """[dosage]: patrol delivered at the last list's places, against the dosage asked for.

    ``pings``: a GPS pings file or folder (CSV, CSV.GZ or GPX; '' = none), relative to the data folder;
    ``pings_crs``: CRS of x/y columns in the pings ('' = longitude/latitude or GPX);
    ``patrol_log``: a patrol log CSV (place or item id, start, end, unit) used when there are no pings;
    ``pseudonym_key_env``: the NAME of an environment variable holding a secret (at least 16 characters)
    for unit pseudonyms that stay the same from run to run (never the key itself; '' = units numbered
    Unit 01, Unit 02, ... per run). Visit rules: ``buffer_m`` (metres added around a place),
    ``max_gap_s`` (seconds between inside pings that still make one stay; 0 = automatic),
    ``min_dwell_s`` (least presence of a visit, seconds), ``drive_speed_mps`` (a stay crossed faster, in
    metres per second, is a drive-through). Compliance: ``under`` and ``over`` (shares of the minutes
    asked for below / above which a place is under- or over-dosed), ``peak_window_hours`` (hours a "per
    hour" dosage covers). Outcomes: ``outcome_buffer_m`` (displacement ring, metres) and ``controls``
    (matched untasked places per tasked place).
    """

    pings: str = field(default="", metadata=DATA_PATH)
    pings_crs: str = ""
    patrol_log: str = field(default="", metadata=DATA_PATH)
    pseudonym_key_env: str = ""
    buffer_m: float = 10.0
    max_gap_s: float = 0.0
    min_dwell_s: float = 120.0
    drive_speed_mps: float = 5.0
    under: float = 0.8
    over: float = 1.5
    peak_window_hours: float = 3.0
    outcome_buffer_m: float = 200.0
    controls: int = 3

    def validate(self, where: str) -> None:
        def bad(key: str, msg: str) -> NoReturn:
            raise ConfigError(f"{where}: [dosage] {key} {msg}")

        for key in ("buffer_m", "max_gap_s", "min_dwell_s", "outcome_buffer_m"):
            if not getattr(self, key) >= 0:
                bad(key, f"must be >= 0, got {getattr(self, key)}.")
        if not self.drive_speed_mps > 0:
            bad("drive_speed_mps", f"must be > 0 metres per second (5 m/s is 18 km/h), got {self.drive_speed_mps}.")
        if not 0 <= self.under <= 1:
            bad("under", f"must be a share between 0 and 1 (e.g. 0.8), got {self.under}.")
        if not self.over >= 1:
            bad("over", f"must be a share of at least 1 (e.g. 1.5), got {self.over}.")
        if not 0 < self.peak_window_hours <= 24:
            bad("peak_window_hours", f"must be between 0 and 24 hours, got {self.peak_window_hours}.")
        if self.controls < 1:
            bad("controls", f"must be a whole number >= 1, got {self.controls}.")
        env = self.pseudonym_key_env
        if env and not env.replace("_", "").isalnum():
            bad(
                "pseudonym_key_env",
                f"must be the name of an environment variable (letters, digits, _), got {env!r}; "
                "never put the key itself in the config.",
            )


@dataclass(frozen=True)
class ExperimentConfig:
    """[experiment]: a randomised patrol experiment over the places of this list.

    ``kind``: '' (none), ``allocation`` (whole places to patrol or no extra patrol) or ``crossover``
    (patrol and no-patrol days per place, in blocks of ``block_days`` days, as in the Southend harm-spot
    trial). ``seed``: the random seed of the design (0 = ``[project] seed``); ``share``: share of places
    (allocation) or of blocks (crossover) on patrol; ``days``: length of the experiment from the
    meeting date (days).
    """

    kind: str = ""
    seed: int = 0
    share: float = 0.5
    block_days: int = 7
    days: int = 14

    def validate(self, where: str) -> None:
        def bad(key: str, msg: str) -> NoReturn:
            raise ConfigError(f"{where}: [experiment] {key} {msg}")

        _one_of(bad, "kind", self.kind, EXPERIMENT_KINDS, " ('' for no experiment)")
        if not 0 < self.share < 1:
            bad("share", f"must be a share between 0 and 1 (e.g. 0.5), got {self.share}.")
        if self.block_days < 1:
            bad("block_days", f"must be >= 1 day, got {self.block_days}.")
        if self.days < 1:
            bad("days", f"must be >= 1 day, got {self.days}.")
        if self.seed < 0:
            bad("seed", f"must be >= 0, got {self.seed}.")
        if self.kind == "crossover":
            self._check_crossover(bad)

    def _check_crossover(self, bad: Callable[[str, str], NoReturn]) -> None:
        """A crossover must give every place both patrol days and days without extra patrol: its first block
        (``min(block_days, days)`` days) needs at least one day of each whatever the random rounding."""
        if self.days < 2:
            bad(
                "days",
                f"is {self.days}: a crossover needs at least 2 days, so that each place has patrol days and days "
                "without extra patrol; set days = 14 (two weeks), or kind = 'allocation'.",
            )
        if self.block_days < 2:
            bad(
                "block_days",
                f"is {self.block_days}: a crossover draws its patrol days within blocks of at least 2 days (a block "
                "of 1 day is all patrol or all no patrol); set block_days = 7 (a week).",
            )
        block = min(self.block_days, self.days)
        patrol = self.share * block
        if patrol < 1 or block - patrol < 1:
            which = "no patrol day" if patrol < 1 else "no day without extra patrol"
            bad(
                "share",
                f"{self.share:g} gives {patrol:.2g} patrol days in a block of {block} days (block_days = "
                f"{self.block_days}, days = {self.days}), so a place can get {which}; choose a share between "
                f"{1 / block:.3g} and {1 - 1 / block:.3g}, or longer blocks (block_days) and a longer experiment "
                "(days).",
            )


RULE_KINDS = ("", "hotspot", "near_repeat")
RULE_TIMES = ("", "night", "day", "unknown")
RULE_STABILITY = ("", "chronic", "acute")

#: The time of day of a problem whose incidents are not timed to the minute (police.uk month data).
UNKNOWN_TIME = "unknown"


@dataclass(frozen=True)
class Rule:
    """One playbook rule: the first rule whose conditions all match an item gives its tactic.

    ``kind`` ``near_repeat`` / ``hotspot`` / '' (both); ``crime_types`` the
    problem's crime type is one of them ('' = all); ``time`` ``night`` / ``day``
    (most incidents between 18:00 and 06:00, or not), ``unknown`` (only when the
    incidents' times of day are not known, e.g. police.uk month data) or ''
    (any). A rule that :attr:`needs_times` is never used when times are unknown.
    ``stability`` ``chronic`` (the place has been busy in most years), ``acute`` (not chronic, busy in
    the latest period) or '' (any, and places without a trajectory).
    ``owner`` may use ``{ward_name}`` and ``{ward_code}``.
    """

    tactic: str = ""
    dosage: str = ""
    owner: str = "{ward_name} SNT"
    kind: str = ""
    crime_types: tuple[str, ...] = ()
    time: str = ""
    stability: str = ""

    def validate(self, where: str) -> None:
        if not self.tactic:
            raise ConfigError(f"{where}: every playbook rule needs a tactic.")
        if self.kind not in RULE_KINDS:
            raise ConfigError(f"{where}: playbook rule kind must be one of {list(RULE_KINDS)}, got {self.kind!r}.")
        if self.time not in RULE_TIMES:
            raise ConfigError(f"{where}: playbook rule time must be one of {list(RULE_TIMES)}, got {self.time!r}.")
        if self.stability not in RULE_STABILITY:
            raise ConfigError(
                f"{where}: playbook rule stability must be one of {list(RULE_STABILITY)}, got {self.stability!r}."
            )
        if self.time == UNKNOWN_TIME and self.needs_times:
            raise ConfigError(
                f"{where}: a playbook rule for unknown times (time = 'unknown') cannot name peak days or hours "
                f"(the word 'peak' in its tactic or dosage), because those times are not known; got {self.tactic!r}."
            )
        bad = _unknown_types(self.crime_types)
        if bad:
            raise ConfigError(
                f"{where}: playbook rule crime_types {bad} are not canonical crime types; "
                f"choose from {list(CANONICAL_CRIME_TYPES)}."
            )
        bad_fields = [f for f in re.findall(r"{([^{}]*)}", self.owner) if f not in ("ward_name", "ward_code")]
        if bad_fields:
            raise ConfigError(
                f"{where}: playbook rule owner may only use {{ward_name}} and {{ward_code}}, got {bad_fields}."
            )

    @property
    def needs_times(self) -> bool:
        """Whether the rule needs the times of day: a night/day condition, or a tactic or dosage that names
        peak days or hours (the word "peak")."""
        return self.time in ("night", "day") or "peak" in f"{self.tactic} {self.dosage}".lower()

    def matches(self, kind: str, crime_type: str, time_of_day: str, stability: str = "") -> bool:
        """Whether the rule applies to a problem (``time_of_day`` "night", "day" or :data:`UNKNOWN_TIME`) at a
        place whose ``stability`` is "chronic", "acute", "none" or '' (not known)."""
        if self.kind and self.kind != kind:
            return False
        if self.stability and self.stability != stability:
            return False
        if self.crime_types and crime_type not in self.crime_types:
            return False
        if time_of_day == UNKNOWN_TIME and self.needs_times:
            return False
        return not self.time or self.time == time_of_day


@dataclass(frozen=True)
class PlaybookConfig:
    """[playbook]: ``file`` (relative to the config file's folder) and/or inline ``rules``.

    Inline rules are tried before the file's rules.
    """

    file: str = field(default="playbook.toml", metadata=CONFIG_PATH)
    rules: tuple[Rule, ...] = ()


# --------------------------------------------------------------------------- products
@dataclass(frozen=True)
class RenderConfig:
    """[render]: basemap and map detail.

    ``basemap`` "none" (no tiles: the page makes no request outside the pack),
    "osm" (OpenStreetMap tiles, needs internet) or a tile URL template such as
    ``https://tiles.example/{z}/{x}/{y}.png`` with ``attribution``;
    ``simplify_m`` metres of geometry simplification; ``coord_decimals`` decimal
    places of longitude/latitude (5 = about 1 m); ``density_types`` crime types
    (by harm) that get their own density and Gi* layers; ``ward_maps`` writes
    one map per ward; ``protective_marking`` the Government Security Classifications
    marking printed at the top and bottom of every page of the briefing (default
    "OFFICIAL-SENSITIVE": the briefing names places and the patrol planned there;
    "" prints none).
    """

    basemap: str = "none"
    attribution: str = ""
    simplify_m: float = 5.0
    coord_decimals: int = 5
    density_types: int = 3
    ward_maps: bool = True
    protective_marking: str = "OFFICIAL-SENSITIVE"

    def validate(self, where: str) -> None:
        m = self.protective_marking
        if len(m) > 60 or any(not ch.isprintable() for ch in m):
            raise ConfigError(
                f"{where}: [render] protective_marking must be one line of at most 60 printable characters "
                f'(e.g. "OFFICIAL" or "OFFICIAL-SENSITIVE"), got {m!r}.'
            )
        b = self.basemap
        if b not in ("none", "osm") and not (b.startswith(("http://", "https://")) and "{z}" in b):
            raise ConfigError(
                f"{where}: [render] basemap must be 'none', 'osm' or a tile URL template with "
                f"{{z}}/{{x}}/{{y}}, got {b!r}."
            )
        if b not in ("none", "osm") and not self.attribution:
            raise ConfigError(
                f"{where}: [render] attribution is required with a custom basemap URL "
                "(the tile provider's credit line)."
            )
        if not (0 <= self.coord_decimals <= 8):
            raise ConfigError(f"{where}: [render] coord_decimals must be 0..8, got {self.coord_decimals}.")
        if self.simplify_m < 0:
            raise ConfigError(f"{where}: [render] simplify_m must be >= 0 metres, got {self.simplify_m}.")
        if self.density_types < 0:
            raise ConfigError(f"{where}: [render] density_types must be >= 0, got {self.density_types}.")


#: Lengths of the public tier's periods: whole divisors of a year, so periods start in January and never overlap.
PUBLIC_PERIOD_MONTHS = (1, 2, 3, 4, 6, 12)


@dataclass(frozen=True)
class PublicConfig:
    """[public]: the publishable tier, one grid and one threshold for every public output
    (see :mod:`hotspots.render.public`).

    ``cell_size_m``: side of the squares (metres; squares start at multiples of it in the working
    CRS, so every pack of an area uses the same squares); ``min_count``: smallest count shown
    (smaller counts are not shown); ``period_months``: length of the calendar periods shown
    (1, 2, 3, 4, 6 or 12; periods start in January and never overlap; the pack shows the latest
    one that ended before the meeting); ``enabled``; ``consultation_text`` and ``consultation_url``
    (https://, http:// or mailto:) tell residents how to respond to the CCTV consultation map.
    """

    enabled: bool = True
    cell_size_m: float = 250.0
    min_count: int = 5
    period_months: int = 3
    consultation_text: str = ""
    consultation_url: str = ""

    def validate(self, where: str) -> None:
        if self.cell_size_m < 100:
            raise ConfigError(f"{where}: [public] cell_size_m must be at least 100 metres, got {self.cell_size_m}.")
        if self.min_count < 2:
            raise ConfigError(
                f"{where}: [public] min_count must be at least 2 (a count of 1 is a single crime), "
                f"got {self.min_count}."
            )
        if self.period_months not in PUBLIC_PERIOD_MONTHS:
            raise ConfigError(
                f"{where}: [public] period_months must be one of {list(PUBLIC_PERIOD_MONTHS)} (months that divide a "
                f"year, so periods never overlap), got {self.period_months}."
            )
        url = self.consultation_url
        if url and not (url.lower().startswith(("https://", "http://", "mailto:")) and url.isprintable()):
            raise ConfigError(
                f"{where}: [public] consultation_url must be a web address (https://...) or an e-mail link "
                f"(mailto:...), got {url!r}."
            )


#: Settings that no longer exist, and what replaces each (section, key) -> advice.
REMOVED_KEYS: dict[tuple[str, str], str] = {
    ("coverage", "public_min_count"): "every public output uses one threshold, set it with [public] min_count",
    ("coverage", "public_cell_m"): "every public output uses one grid, set its square size with [public] cell_size_m",
}


#: ``[scale] scheduler`` value that starts a Dask cluster on this machine.
LOCAL_SCHEDULER = "local"


@dataclass(frozen=True)
class ScaleConfig:
    """[scale]: where distributed work runs.

    ``scheduler``: a Dask scheduler address (``tcp://host:8786``), ``"local"`` for a
    LocalCluster with one single-threaded worker process per core, or ``""`` (default)
    to run everything in this process. ``retries``: extra attempts for a task that
    raises. ``tile_cells``: KDE tile side in cells.
    """

    scheduler: str = ""
    retries: int = 2
    tile_cells: int = 256

    def validate(self, where: str) -> None:
        if self.retries < 0:
            raise ConfigError(f"{where}: [scale] retries must be >= 0, got {self.retries}.")
        if self.tile_cells < 16:
            raise ConfigError(f"{where}: [scale] tile_cells must be at least 16 cells, got {self.tile_cells}.")
        s = self.scheduler.strip()
        if s and s != LOCAL_SCHEDULER and "://" not in s and ":" not in s:
            raise ConfigError(
                f"{where}: [scale] scheduler {s!r} is not an address; use e.g. "
                "'tcp://10.0.0.5:8786', 'local', or leave it empty."
            )


#: Section name -> dataclass, for every section a run config may have (``[[incidents]]`` aside).
SECTIONS: dict[str, type] = {
    "project": ProjectConfig,
    "study_area": StudyAreaConfig,
    "crime_types": CrimeTypesConfig,
    "harm": HarmConfig,
    "grid": GridConfig,
    "analysis": AnalysisConfig,
    "output": OutputConfig,
    "density": DensityConfig,
    "gistar": GiStarConfig,
    "hotspots": HotspotsConfig,
    "nearrepeat": NearRepeatConfig,
    "trends": TrendsConfig,
    "exceptions": ExceptionsConfig,
    "evaluate": EvaluateConfig,
    "forecast": ForecastConfig,
    "cameras": CamerasConfig,
    "coverage": CoverageConfig,
    "siting": SitingConfig,
    "anpr": AnprConfig,
    "tasking": TaskingConfig,
    "concentration": ConcentrationConfig,
    "dosage": DosageConfig,
    "experiment": ExperimentConfig,
    "playbook": PlaybookConfig,
    "render": RenderConfig,
    "public": PublicConfig,
    "scale": ScaleConfig,
}
