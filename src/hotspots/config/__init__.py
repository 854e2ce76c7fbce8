"""Validated settings: every section of a run config as a frozen dataclass, loaded and checked up front.

``load_config(path)`` returns a :class:`Config` with one typed attribute per
section (``cfg.density``, ``cfg.trends``, ...). See :mod:`.sections` for the
sections and their keys and :mod:`.loader` for loading and
:meth:`Config.override`.
"""

from .loader import (
                     DATA_DIR_ENV,
                     Config,
                     PlaybookRules,
                     build_section,
                     load_config,
                     load_crime_type_map,
                     load_harm_schemes,
                     read_playbook_file,
                     resolve_data_dir,
)
from .sections import (
                     BURGLARY_TYPES,
                     CANONICAL_CRIME_TYPES,
                     DEFAULT_TIMEZONE,
                     SECTIONS,
                     AnalysisConfig,
                     AnprConfig,
                     CamerasConfig,
                     ColumnMap,
                     CoverageConfig,
                     CrimeTypesConfig,
                     DensityConfig,
                     EvaluateConfig,
                     ExceptionsConfig,
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

__all__ = [
    "DATA_DIR_ENV", "Config", "PlaybookRules", "build_section", "load_config", "load_crime_type_map",
    "load_harm_schemes", "read_playbook_file",
    "resolve_data_dir", "BURGLARY_TYPES", "CANONICAL_CRIME_TYPES", "DEFAULT_TIMEZONE", "SECTIONS",
    "AnalysisConfig", "AnprConfig", "CamerasConfig", "ColumnMap", "CoverageConfig", "CrimeTypesConfig",
    "DensityConfig", "EvaluateConfig", "ExceptionsConfig", "ForecastConfig", "GiStarConfig", "GridConfig",
    "HarmConfig", "HotspotsConfig", "IncidentSource", "NearRepeatConfig", "OutputConfig", "PlaybookConfig",
    "ProjectConfig", "PublicConfig", "RenderConfig", "Rule", "ScaleConfig", "SitingConfig", "StudyAreaConfig",
    "TaskingConfig", "TrendsConfig",
]
