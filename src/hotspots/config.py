"""TOML configuration -> validated, immutable settings objects.

A run is described by one TOML file (see ``config/demo.toml``). Loading it:

* rejects unknown keys, wrong types and impossible values with a
  :class:`~hotspots.errors.ConfigError` naming the key and the file;
* resolves input paths against ``[project] data_dir`` (itself relative to the
  config file), which the environment variable ``HOTSPOTS_DATA_DIR`` or the
  CLI's ``--data-dir`` can override;
* reads the crime-type mapping table and the harm schemes the file points to.

Each section is a frozen dataclass; a field's type annotation is its
contract. Units are in the field names (``_m`` metres, ``_days`` days).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

DATA_DIR_ENV = "HOTSPOTS_DATA_DIR"

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


# --------------------------------------------------------------------------- sections
@dataclass(frozen=True)
class ProjectConfig:
    """[project]: names, time zone, seed and where relative data paths start."""

    name: str = "hotspots run"
    timezone: str = "Europe/London"
    seed: int = 42
    data_dir: str = "."


@dataclass(frozen=True)
class StudyAreaConfig:
    """[study_area]: ward polygons, optional outline, population and households."""

    wards: str = ""
    ward_code_field: str = "ward_code"
    ward_name_field: str = "ward_name"
    layer: str = ""
    boundary: str = ""
    population: str = ""
    population_code_field: str = "ward_code"
    population_field: str = "population"
    households_field: str = "households"
    lsoas: str = ""
    lsoa_code_field: str = "lsoa_code"
    roads: str = ""
    road_class_field: str = "road_class"
    town_centres: str = ""
    boundary_tolerance_m: float = 50.0

    def validate(self, where: str) -> None:
        if not self.wards:
            raise ConfigError(f"{where}: [study_area] wards is required: the path of a ward polygon file "
                              "(GeoJSON, GeoPackage or shapefile).")
        if self.boundary_tolerance_m < 0:
            raise ConfigError(f"{where}: [study_area] boundary_tolerance_m must be >= 0 metres, "
                              f"got {self.boundary_tolerance_m}.")


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
    """One [[incidents]] entry: a file or folder of incidents and how to read it."""

    path: str = ""
    format: str = "police_uk"  # police_uk | generic | geo
    crs: str = "EPSG:27700"  # CRS of x/y columns (generic) when x/y are used
    time_precision: str = "auto"  # auto | minute | day | month
    date_format: str = ""  # strptime format; empty = ISO 8601
    dayfirst: bool = True
    columns: ColumnMap = field(default_factory=ColumnMap)
    crime_types: tuple[str, ...] = ()  # keep only these canonical types (empty = all)

    def validate(self, where: str) -> None:
        if not self.path:
            raise ConfigError(f"{where}: every [[incidents]] entry needs a path.")
        if self.format not in ("police_uk", "generic", "geo"):
            raise ConfigError(f"{where}: [[incidents]] format must be police_uk, generic or geo, got {self.format!r}.")
        if self.time_precision not in ("auto", "minute", "day", "month"):
            raise ConfigError(f"{where}: [[incidents]] time_precision must be auto, minute, day or month, "
                              f"got {self.time_precision!r}.")
        bad = [c for c in self.crime_types if c not in CANONICAL_CRIME_TYPES]
        if bad:
            raise ConfigError(f"{where}: [[incidents]] crime_types has unknown categories {bad}; "
                              f"choose from {list(CANONICAL_CRIME_TYPES)}.")


@dataclass(frozen=True)
class CrimeTypesConfig:
    """[crime_types]: the mapping table file plus inline additions (source label -> canonical)."""

    mapping_file: str = "crime_types.toml"
    map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HarmConfig:
    """[harm]: which weighting scheme ranks hotspots (count, ons_css, cambridge_chi...)."""

    scheme: str = "count"
    schemes_file: str = "harm_schemes.toml"


@dataclass(frozen=True)
class GridConfig:
    """[grid]: analysis grid; 0 means choose automatically (about 100 cells on the short side)."""

    cell_size_m: float = 0.0

    def validate(self, where: str) -> None:
        if self.cell_size_m < 0:
            raise ConfigError(f"{where}: [grid] cell_size_m must be >= 0 metres (0 = automatic), "
                              f"got {self.cell_size_m}.")


@dataclass(frozen=True)
class AnalysisConfig:
    """[analysis]: which crime types the run analyses and over what window."""

    crime_types: tuple[str, ...] = ()  # empty = every canonical type present
    lookback_days: int = 365
    fortnight_days: int = 14

    def validate(self, where: str) -> None:
        bad = [c for c in self.crime_types if c not in CANONICAL_CRIME_TYPES]
        if bad:
            raise ConfigError(f"{where}: [analysis] crime_types has unknown categories {bad}; "
                              f"choose from {list(CANONICAL_CRIME_TYPES)}.")
        if self.lookback_days <= 0 or self.fortnight_days <= 0:
            raise ConfigError(f"{where}: [analysis] lookback_days and fortnight_days must be positive days.")


@dataclass(frozen=True)
class OutputConfig:
    """[output]: where packs go (one folder per FIM date below it)."""

    folder: str = "out"


@dataclass(frozen=True)
class Config:
    """A whole validated run configuration."""

    source_file: Path
    project: ProjectConfig
    study_area: StudyAreaConfig
    incidents: tuple[IncidentSource, ...]
    crime_types: CrimeTypesConfig
    harm: HarmConfig
    grid: GridConfig
    analysis: AnalysisConfig
    output: OutputConfig
    crime_type_map: dict[str, str]
    harm_schemes: dict[str, dict[str, Any]]
    extra: dict[str, Any]  # sections owned by later stages, validated by them
    raw: dict[str, Any]

    # ------------------------------------------------------------------ paths
    @property
    def data_dir(self) -> Path:
        return resolve_data_dir(self.source_file, self.project.data_dir)

    def path(self, value: str) -> Path:
        """Resolve an input path: absolute stays, ``~`` expands, relative starts at data_dir."""
        p = Path(os.path.expandvars(os.path.expanduser(value)))
        return p if p.is_absolute() else (self.data_dir / p)

    def harm_weights(self, scheme: str | None = None) -> dict[str, float]:
        """Weights per canonical crime type for a harm scheme (default: the configured one)."""
        name = scheme or self.harm.scheme
        if name not in self.harm_schemes:
            raise ConfigError(f"{self.source_file}: [harm] scheme {name!r} is not defined; "
                              f"available: {sorted(self.harm_schemes)}.")
        return dict(self.harm_schemes[name]["weights"])


# Sections later stages own. Their keys are checked by the stage's own dataclass
# (see ``section()``); listing them here stops "unknown section" errors.
STAGE_SECTIONS = ("density", "gistar", "hotspots", "nearrepeat", "trends", "forecast", "backtest",
                  "cameras", "coverage", "siting", "anpr", "tasking", "playbook", "render", "public",
                  "exceptions", "evaluate", "scale")

_SECTIONS = {
    "project": ProjectConfig,
    "study_area": StudyAreaConfig,
    "crime_types": CrimeTypesConfig,
    "harm": HarmConfig,
    "grid": GridConfig,
    "analysis": AnalysisConfig,
    "output": OutputConfig,
}


# --------------------------------------------------------------------------- building
def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, key: str, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: key {key!r} must be a table, got {type(value).__name__}.")
        return build_section(tp, value, where, key)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], key, where)
    if origin is tuple:
        (inner, *_rest) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: key {key!r} must be a list, got {type(value).__name__}.")
        return tuple(_coerce(v, inner, f"{key}[{i}]", where) for i, v in enumerate(value))
    if origin is dict:
        _k, vt = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: key {key!r} must be a table, got {type(value).__name__}.")
        return {str(k): _coerce(v, vt, f"{key}.{k}", where) for k, v in value.items()}
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: key {key!r} must be a number, got {value!r}.")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: key {key!r} must be a whole number, got {value!r}.")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: key {key!r} must be true or false, got {value!r}.")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: key {key!r} must be a string, got {value!r}.")
        return value
    return value


def build_section(cls: type, values: dict[str, Any], where: str, prefix: str = "") -> Any:
    """Build dataclass ``cls`` from a TOML table, rejecting unknown keys and wrong types.

    ``where`` is the config file; ``prefix`` the section name used in messages.
    A ``validate(where)`` method on the dataclass is called afterwards.
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(repr(f'{prefix}.{u}' if prefix else u) for u in unknown)}"
            f" in [{prefix or cls.__name__}]; allowed keys: {sorted(names)}.")
    kwargs = {k: _coerce(v, hints[k], f"{prefix}.{k}" if prefix else k, where) for k, v in values.items()}
    obj = cls(**kwargs)
    if hasattr(obj, "validate"):
        obj.validate(where)
    return obj


def section(config: Config, name: str, cls: type) -> Any:
    """Build a stage-owned section (e.g. ``[density]``) with the stage's own dataclass."""
    return build_section(cls, config.extra.get(name, {}), str(config.source_file), name)


def resolve_data_dir(config_file: Path, data_dir: str) -> Path:
    env = os.environ.get(DATA_DIR_ENV)
    base = Path(os.path.expanduser(env or data_dir))
    if not base.is_absolute():
        base = (config_file.parent / base) if not env else Path.cwd() / base
    return base.resolve()


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(f"{what} {path} does not exist; check the path (relative paths start at the config file's folder).")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the line it names.") from exc


def load_crime_type_map(path: Path, inline: dict[str, str], where: str) -> dict[str, str]:
    """Read the label -> canonical table (keys compared case-insensitively, trimmed)."""
    table: dict[str, str] = {}
    raw = _read_toml(path, "crime-type mapping file") if path else {}
    for group, entries in raw.items():
        if not isinstance(entries, dict):
            raise ConfigError(f"{path}: [{group}] must be a table of 'source label' = 'canonical type'.")
        for label, canon in entries.items():
            table[label.strip().lower()] = canon
    for label, canon in inline.items():
        table[label.strip().lower()] = canon
    bad = sorted({c for c in table.values() if c not in CANONICAL_CRIME_TYPES})
    if bad:
        raise ConfigError(f"{path or where}: crime-type mapping targets {bad} are not canonical types; "
                          f"use one of {list(CANONICAL_CRIME_TYPES)}.")
    return table


def load_harm_schemes(path: Path) -> dict[str, dict[str, Any]]:
    raw = _read_toml(path, "harm schemes file")
    schemes: dict[str, dict[str, Any]] = {}
    for name, body in raw.items():
        if not isinstance(body, dict) or "weights" not in body:
            raise ConfigError(f"{path}: harm scheme [{name}] needs a 'weights' table (canonical type = weight).")
        weights = body["weights"]
        for k, v in weights.items():
            if k not in CANONICAL_CRIME_TYPES:
                raise ConfigError(f"{path}: [{name}.weights] key {k!r} is not a canonical crime type.")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ConfigError(f"{path}: [{name}.weights] {k} must be a number >= 0, got {v!r}.")
        missing = [c for c in CANONICAL_CRIME_TYPES if c not in weights]
        if missing:
            raise ConfigError(f"{path}: harm scheme [{name}] has no weight for {missing}; give every canonical type a weight.")
        schemes[name] = {"source": body.get("source", ""), "description": body.get("description", ""),
                         "weights": {k: float(v) for k, v in weights.items()}}
    return schemes


def load_config(path: str | Path, data_dir: str | None = None) -> Config:
    """Load and validate a run configuration.

    ``data_dir`` (e.g. the CLI's ``--data-dir``) overrides ``[project] data_dir``.
    """
    path = Path(path).resolve()
    raw = _read_toml(path, "config file")
    where = str(path)
    unknown = sorted(set(raw) - set(_SECTIONS) - {"incidents"} - set(STAGE_SECTIONS))
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {unknown}; allowed: "
                          f"{sorted(set(_SECTIONS) | {'incidents'} | set(STAGE_SECTIONS))}.")
    built = {name: build_section(cls, raw.get(name, {}), where, name) for name, cls in _SECTIONS.items()}
    if data_dir is not None:
        built["project"] = dataclasses.replace(built["project"], data_dir=str(Path(data_dir).resolve()))
    srcs = raw.get("incidents", [])
    if isinstance(srcs, dict):
        srcs = [srcs]
    if not srcs:
        raise ConfigError(f"{where}: no [[incidents]] source given; add at least one [[incidents]] table with a path.")
    incidents = tuple(build_section(IncidentSource, s, where, f"incidents[{i}]") for i, s in enumerate(srcs))
    cfg_dir = path.parent
    ct = built["crime_types"]
    ct_path = (cfg_dir / ct.mapping_file) if ct.mapping_file else None
    crime_map = load_crime_type_map(ct_path, ct.map, where) if ct_path else dict(ct.map)
    schemes = load_harm_schemes(cfg_dir / built["harm"].schemes_file)
    if built["harm"].scheme not in schemes:
        raise ConfigError(f"{where}: [harm] scheme {built['harm'].scheme!r} is not defined in "
                          f"{built['harm'].schemes_file}; available: {sorted(schemes)}.")
    extra = {k: raw[k] for k in STAGE_SECTIONS if k in raw}
    for k, v in extra.items():
        if not isinstance(v, dict):
            raise ConfigError(f"{where}: [{k}] must be a table.")
    cfg = Config(source_file=path, incidents=incidents, crime_type_map=crime_map, harm_schemes=schemes,
                 extra=extra, raw=raw, **built)
    for i, src in enumerate(cfg.incidents):
        p = cfg.path(src.path)
        if not p.exists():
            raise ConfigError(f"{where}: incidents[{i}].path {src.path!r} -> {p} does not exist; fix the path, "
                              f"set [project] data_dir, ${DATA_DIR_ENV} or --data-dir.")
    for key in ("wards", "boundary", "population", "lsoas", "roads", "town_centres"):
        val = getattr(cfg.study_area, key)
        if val and not cfg.path(val).exists():
            raise ConfigError(f"{where}: study_area.{key} {val!r} -> {cfg.path(val)} does not exist; fix the path, "
                              f"set [project] data_dir, ${DATA_DIR_ENV} or --data-dir.")
    return cfg


def with_overrides(cfg: Config, **sections: dict[str, Any]) -> Config:
    """A copy of ``cfg`` with stage sections replaced or merged (used by tests and the API)."""
    extra = dict(cfg.extra)
    for name, vals in sections.items():
        extra[name] = {**extra.get(name, {}), **vals}
    return dataclasses.replace(cfg, extra=extra)
