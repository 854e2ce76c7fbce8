"""TOML configuration -> one validated, immutable :class:`Config`.

A run is described by one TOML file (see ``config/demo.toml``). Loading it:

* builds every section (:mod:`hotspots.config.sections`) and rejects unknown
  sections, unknown keys, wrong types and impossible values with a
  :class:`~hotspots.errors.ConfigError` naming the key and the file, so every
  command stops before any analysis when the file is wrong;
* checks that every input path given exists, resolving data paths against
  ``[project] data_dir`` (itself relative to the config file), which the
  environment variable ``HOTSPOTS_DATA_DIR`` or the CLI's ``--data-dir`` can
  override;
* reads the crime-type mapping table, the harm schemes and the playbook the
  file points to.

A section is read as an attribute (``cfg.density.radius_m``) and changed with
:meth:`Config.override` (``cfg.override("siting", k=5)``), which applies the
same checks as the file.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..crs import working_crs
from ..errors import ConfigError
from .sections import (
    CANONICAL_CRIME_TYPES,
    REMOVED_KEYS,
    SECTIONS,
    AnalysisConfig,
    AnprConfig,
    CamerasConfig,
    ConcentrationConfig,
    CoverageConfig,
    CrimeTypesConfig,
    DensityConfig,
    DosageConfig,
    EvaluateConfig,
    ExceptionsConfig,
    ExperimentConfig,
    ForecastConfig,
    GiStarConfig,
    GridConfig,
    HarmConfig,
    HotspotsConfig,
    IncidentSource,
    NearRepeatConfig,
    OutputConfig,
    PlaybookConfig,
    ProjectConfig,
    PublicConfig,
    RenderConfig,
    Rule,
    ScaleConfig,
    SitingConfig,
    StudyAreaConfig,
    TaskingConfig,
    TrendsConfig,
)

DATA_DIR_ENV = "HOTSPOTS_DATA_DIR"


@dataclass(frozen=True)
class PlaybookRules:
    """The playbook as loaded: inline rules then the playbook file's rules, where they came from, notes."""

    rules: tuple[Rule, ...]
    source: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    """A whole validated run configuration: one typed attribute per section."""

    source_file: Path
    project: ProjectConfig
    study_area: StudyAreaConfig
    incidents: tuple[IncidentSource, ...]
    crime_types: CrimeTypesConfig
    harm: HarmConfig
    grid: GridConfig
    analysis: AnalysisConfig
    output: OutputConfig
    density: DensityConfig
    gistar: GiStarConfig
    hotspots: HotspotsConfig
    nearrepeat: NearRepeatConfig
    trends: TrendsConfig
    exceptions: ExceptionsConfig
    evaluate: EvaluateConfig
    forecast: ForecastConfig
    cameras: CamerasConfig
    coverage: CoverageConfig
    siting: SitingConfig
    anpr: AnprConfig
    tasking: TaskingConfig
    concentration: ConcentrationConfig
    dosage: DosageConfig
    experiment: ExperimentConfig
    playbook: PlaybookConfig
    render: RenderConfig
    public: PublicConfig
    scale: ScaleConfig
    crime_type_map: dict[str, str]
    harm_schemes: dict[str, dict[str, Any]]
    playbook_rules: PlaybookRules
    raw: dict[str, Any]

    # ------------------------------------------------------------------ paths and CRS
    @property
    def data_dir(self) -> Path:
        return resolve_data_dir(self.source_file, self.project.data_dir)

    def path(self, value: str) -> Path:
        """Resolve an input path: absolute stays, ``~`` expands, relative starts at data_dir."""
        return resolve_path(value, self.data_dir)

    def config_path(self, value: str) -> Path:
        """Resolve a file named relative to the config file's folder (mapping table, harm schemes, playbook)."""
        return resolve_path(value, self.source_file.parent)

    @property
    def crs(self) -> str:
        """The working CRS of every analysis (``[project] crs``; feet become the same projection in metres)."""
        return working_crs(self.project.crs, f"{self.source_file}: [project] crs")

    @property
    def timezone(self) -> str:
        """The time zone of incident times (``[project] timezone``)."""
        return self.project.timezone

    def harm_weights(self, scheme: str | None = None) -> dict[str, float]:
        """Weights per canonical crime type for a harm scheme (default: the configured one)."""
        name = scheme or self.harm.scheme
        if name not in self.harm_schemes:
            raise ConfigError(
                f"{self.source_file}: [harm] scheme {name!r} is not defined; available: {sorted(self.harm_schemes)}."
            )
        return dict(self.harm_schemes[name]["weights"])

    def harm_unit(self, scheme: str | None = None) -> str:
        """What one point of harm is under a scheme (its ``unit``, e.g. "count"; default: the configured scheme)."""
        name = scheme or self.harm.scheme
        self.harm_weights(name)  # the same error for an undefined scheme
        return harm_scheme_unit(name, self.harm_schemes[name])

    # ------------------------------------------------------------------ typed changes
    def override(self, section: str, **changes: Any) -> Config:
        """A copy with some keys of one section changed, checked like the file (types, ranges, paths).

        ``cfg.override("siting", k=5)``; an unknown section or key is a
        :class:`~hotspots.errors.ConfigError` naming it.
        """
        if section not in SECTIONS:
            raise ConfigError(f"{self.source_file}: no section [{section}] to change; sections: {sorted(SECTIONS)}.")
        current = getattr(self, section)
        values = {f.name: getattr(current, f.name) for f in dataclasses.fields(current)}
        unknown = sorted(set(changes) - set(values))
        if unknown:
            raise ConfigError(
                f"{self.source_file}: unknown key(s) {', '.join(f'{section}.{k}' for k in unknown)} "
                f"in [{section}]; allowed keys: {sorted(values)}."
            )
        values.update(changes)
        new = build_section(SECTIONS[section], values, str(self.source_file), section)
        cfg = dataclasses.replace(self, **{section: new})
        _check_section_paths(cfg, section, new)
        if section == "playbook":
            cfg = dataclasses.replace(cfg, playbook_rules=load_playbook_rules(cfg, "file" in changes))
        return cfg


# --------------------------------------------------------------------------- building
def _coerce(value: Any, tp: Any, key: str, where: str) -> Any:
    """``value`` of TOML key ``key`` as type ``tp`` (a section dataclass, an optional, a tuple, a
    dict or a scalar), or a :class:`ConfigError` naming the key."""
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
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
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: key {key!r} must be a list, got {type(value).__name__}.")
        return tuple(_coerce(v, inner, f"{key}[{i}]", where) for i, v in enumerate(value))
    if origin is dict:
        _k, vt = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: key {key!r} must be a table, got {type(value).__name__}.")
        return {str(k): _coerce(v, vt, f"{key}.{k}", where) for k, v in value.items()}
    return _coerce_scalar(value, tp, key, where)


#: What a scalar key must be, in the words of the error message.
_SCALAR_WORDS = {float: "a number", int: "a whole number", bool: "true or false", str: "a string"}


def _coerce_scalar(value: Any, tp: Any, key: str, where: str) -> Any:
    """A float, int, bool or str key's value (an int is a float too; a bool is no number; a float is
    finite); any other type (``Any``) as given."""
    if tp is float or tp is int:
        ok = not isinstance(value, bool) and isinstance(value, (int, float) if tp is float else int)
    elif tp is bool or tp is str:
        ok = isinstance(value, tp)
    else:
        return value
    if not ok:
        raise ConfigError(f"{where}: key {key!r} must be {_SCALAR_WORDS[tp]}, got {value!r}.")
    if tp is float and not math.isfinite(value):
        raise ConfigError(f"{where}: key {key!r} must be a finite number, got {value!r}.")
    return float(value) if tp is float else value


def build_section(cls: type, values: dict[str, Any], where: str, prefix: str = "") -> Any:
    """Build dataclass ``cls`` from a TOML table, rejecting unknown keys and wrong types.

    ``where`` is the config file; ``prefix`` the section name used in messages.
    A ``validate(where)`` method on the dataclass is called afterwards.
    """
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: [{prefix or cls.__name__}] must be a table, got {type(values).__name__}.")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    for u in unknown:
        if (prefix, u) in REMOVED_KEYS:
            raise ConfigError(f"{where}: [{prefix}] {u} no longer exists: {REMOVED_KEYS[(prefix, u)]}.")
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(repr(f'{prefix}.{u}' if prefix else u) for u in unknown)}"
            f" in [{prefix or cls.__name__}]; allowed keys: {sorted(names)}."
        )
    kwargs = {k: _coerce(v, hints[k], f"{prefix}.{k}" if prefix else k, where) for k, v in values.items()}
    obj = cls(**kwargs)
    validate = getattr(cls, "validate", None)
    if validate is not None:
        validate(obj, where)
    return obj


def resolve_path(value: str, base: Path) -> Path:
    """An input path as written in a config: absolute stays, ``~`` and ``$VARS`` expand, relative starts at ``base``."""
    p = Path(os.path.expandvars(os.path.expanduser(value)))
    return p if p.is_absolute() else (base / p)


def resolve_data_dir(config_file: Path, data_dir: str) -> Path:
    env = os.environ.get(DATA_DIR_ENV)
    base = Path(os.path.expanduser(env or data_dir))
    if not base.is_absolute():
        base = (config_file.parent / base) if not env else Path.cwd() / base
    return base.resolve()


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(
            f"{what} {path} does not exist; check the path (relative paths start at the config file's folder)."
        )
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the line it names.") from exc


def load_crime_type_map(path: Path | None, inline: dict[str, str], where: str) -> dict[str, str]:
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
        raise ConfigError(
            f"{path or where}: crime-type mapping targets {bad} are not canonical types; "
            f"use one of {list(CANONICAL_CRIME_TYPES)}."
        )
    return table


def harm_scheme_unit(name: str, scheme: dict[str, Any]) -> str:
    """What one point of harm is under a scheme: its ``unit``, else "count" for the count scheme and
    "<name> harm points" for another."""
    return str(scheme.get("unit") or ("count" if name == "count" else f"{name} harm points"))


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
            raise ConfigError(
                f"{path}: harm scheme [{name}] has no weight for {missing}; give every canonical type a weight."
            )
        schemes[name] = {
            "source": body.get("source", ""),
            "description": body.get("description", ""),
            "unit": harm_scheme_unit(name, body),
            "weights": {k: float(v) for k, v in weights.items()},
        }
    return schemes


def read_playbook_file(path: Path) -> tuple[Rule, ...]:
    """The ``[[rules]]`` of a playbook file (see ``config/playbook.toml``)."""
    raw = _read_toml(path, "playbook file")
    unknown = sorted(set(raw) - {"rules"})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {unknown}; a playbook file holds only [[rules]] tables.")
    rules = raw.get("rules", [])
    if not isinstance(rules, list):
        raise ConfigError(f"{path}: 'rules' must be a list of [[rules]] tables.")
    return tuple(build_section(Rule, r, str(path), f"rules[{i}]") for i, r in enumerate(rules))


def load_playbook_rules(cfg: Config, file_given: bool) -> PlaybookRules:
    """Inline ``[[playbook.rules]]`` then the playbook file's rules.

    A playbook file named in the config must exist; the default one
    (``playbook.toml`` beside the config) may be absent, and then the built-in
    default tactic applies (a note says so).
    """
    pc = cfg.playbook
    rules = list(pc.rules)
    notes: list[str] = []
    source = "inline [playbook] rules" if rules else ""
    if pc.file:
        p = cfg.config_path(pc.file)
        if p.exists():
            rules += read_playbook_file(p)
            source = (source + " + " if source else "") + str(p)
        elif file_given:
            raise ConfigError(
                f"{cfg.source_file}: [playbook] file {pc.file!r} not found at {p}; "
                "fix the path (relative to the config file) or remove the key."
            )
        else:
            notes.append(f"no playbook file at {p}; the built-in default tactic is used for every item")
    return PlaybookRules(rules=tuple(rules), source=source or "built-in default", notes=tuple(notes))


def _path_fields(obj: Any) -> list[tuple[str, str]]:
    """(field name, base) of the path fields of a section: base ``data`` or ``config``."""
    return [(f.name, f.metadata["path"]) for f in dataclasses.fields(obj) if "path" in f.metadata]


def _check_section_paths(cfg: Config, name: str, obj: Any) -> None:
    """Every data path a section names must exist (config-relative files are checked where they are read),
    including the paths of its tables of tables (e.g. ``cameras.inventories[1].path``)."""
    for key, base in _path_fields(obj):
        value = getattr(obj, key)
        if not value or base != "data":
            continue
        p = cfg.path(value)
        if not p.exists():
            raise ConfigError(
                f"{cfg.source_file}: {name}.{key} {value!r} -> {p} does not exist; fix the path, "
                f"set [project] data_dir, ${DATA_DIR_ENV} or --data-dir."
            )
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, tuple):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item) and not isinstance(item, type):
                    _check_section_paths(cfg, f"{name}.{f.name}[{i}]", item)


def load_config(path: str | Path, data_dir: str | None = None) -> Config:
    """Load and validate a run configuration: every section, every path, the mapping, harm and playbook files.

    ``data_dir`` (e.g. the CLI's ``--data-dir``) overrides ``[project] data_dir``.
    """
    path = Path(path).resolve()
    raw = _read_toml(path, "config file")
    where = str(path)
    unknown = sorted(set(raw) - set(SECTIONS) - {"incidents"})
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {unknown}; allowed: {sorted(set(SECTIONS) | {'incidents'})}.")
    built = {name: build_section(cls, raw.get(name, {}), where, name) for name, cls in SECTIONS.items()}
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
    crime_map = (
        load_crime_type_map(cfg_dir / ct.mapping_file, ct.map, where)
        if ct.mapping_file
        else load_crime_type_map(None, ct.map, where)
    )
    schemes = load_harm_schemes(cfg_dir / built["harm"].schemes_file)
    if built["harm"].scheme not in schemes:
        raise ConfigError(
            f"{where}: [harm] scheme {built['harm'].scheme!r} is not defined in "
            f"{built['harm'].schemes_file}; available: {sorted(schemes)}."
        )
    unknown_schemes = [s for s in built["concentration"].harm_schemes if s not in schemes]
    if unknown_schemes:
        raise ConfigError(
            f"{where}: [concentration] harm_schemes {unknown_schemes} are not defined in "
            f"{built['harm'].schemes_file}; available: {sorted(schemes)}."
        )
    cfg = Config(
        source_file=path,
        incidents=incidents,
        crime_type_map=crime_map,
        harm_schemes=schemes,
        playbook_rules=PlaybookRules((), ""),
        raw=raw,
        **built,
    )
    cfg = dataclasses.replace(cfg, playbook_rules=load_playbook_rules(cfg, "file" in raw.get("playbook", {})))
    for i, src in enumerate(cfg.incidents):
        p = cfg.path(src.path)
        if not p.exists():
            raise ConfigError(
                f"{where}: incidents[{i}].path {src.path!r} -> {p} does not exist; fix the path, "
                f"set [project] data_dir, ${DATA_DIR_ENV} or --data-dir."
            )
    for name in SECTIONS:
        _check_section_paths(cfg, name, getattr(cfg, name))
    return cfg
