"""Tactics for tasking items, from a playbook of rules in the config.

The playbook is a list of rules (``config/playbook.toml``, or inline
``[[playbook.rules]]`` in the run config). The first rule whose conditions all
match an item gives its tactic, dosage and owner. Conditions:

* ``kind``: ``"near_repeat"`` (a near-repeat alert zone) or ``"hotspot"``
  (a hotspot area); empty matches both;
* ``crime_types``: the item's main crime type is in the list; empty matches all;
* ``time``: ``"night"`` when most of the item's incidents fall between 18:00 and
  06:00, ``"day"`` otherwise, empty for either (items whose times are only known
  to the month match only rules without a time condition).

``owner`` may use ``{ward_name}`` and ``{ward_code}``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError

KINDS = ("", "hotspot", "near_repeat")
TIMES = ("", "night", "day")


@dataclass(frozen=True)
class Rule:
    """One playbook rule (see the module docstring)."""

    tactic: str = ""
    dosage: str = ""
    owner: str = "{ward_name} SNT"
    kind: str = ""
    crime_types: tuple[str, ...] = ()
    time: str = ""

    def validate(self, where: str) -> None:
        from ..config import CANONICAL_CRIME_TYPES

        if not self.tactic:
            raise ConfigError(f"{where}: every playbook rule needs a tactic.")
        if self.kind not in KINDS:
            raise ConfigError(f"{where}: playbook rule kind must be one of {list(KINDS)}, got {self.kind!r}.")
        if self.time not in TIMES:
            raise ConfigError(f"{where}: playbook rule time must be one of {list(TIMES)}, got {self.time!r}.")
        bad = [c for c in self.crime_types if c not in CANONICAL_CRIME_TYPES]
        if bad:
            raise ConfigError(f"{where}: playbook rule crime_types {bad} are not canonical crime types; "
                              f"choose from {list(CANONICAL_CRIME_TYPES)}.")

    def matches(self, kind: str, crime_type: str, time_of_day: str) -> bool:
        if self.kind and self.kind != kind:
            return False
        if self.crime_types and crime_type not in self.crime_types:
            return False
        if self.time and self.time != time_of_day:
            return False
        return True


@dataclass(frozen=True)
class PlaybookConfig:
    """[playbook]: ``file`` (relative to the config file's folder) and/or inline ``rules``.

    Inline rules are tried before the file's rules.
    """

    file: str = "playbook.toml"
    rules: tuple[Rule, ...] = ()


#: Used when no playbook file is found and no rules are given.
DEFAULT_RULE = Rule(tactic="Visible patrol of the hotspot at its peak days and hours; problem-solving review "
                           "if it persists", dosage="15 minutes, 3 times a week", owner="{ward_name} SNT sergeant")


@dataclass(frozen=True)
class Playbook:
    rules: tuple[Rule, ...]
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def choose(self, kind: str, crime_type: str, time_of_day: str) -> Rule:
        """The first matching rule (the built-in default when none matches)."""
        for r in self.rules:
            if r.matches(kind, crime_type, time_of_day):
                return r
        return DEFAULT_RULE


def read_rules(path: Path) -> tuple[Rule, ...]:
    from ..config import build_section

    try:
        raw = tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the line it names.") from exc
    unknown = sorted(set(raw) - {"rules"})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {unknown}; a playbook file holds only [[rules]] tables.")
    return tuple(build_section(Rule, r, str(path), f"rules[{i}]") for i, r in enumerate(raw.get("rules", [])))


def load_playbook(cfg) -> Playbook:
    """The run's playbook: inline ``[[playbook.rules]]`` then the playbook file's rules."""
    from ..config import section

    pc = section(cfg, "playbook", PlaybookConfig)
    rules = list(pc.rules)
    notes = []
    source = "inline [playbook] rules" if rules else ""
    if pc.file:
        p = Path(pc.file)
        p = p if p.is_absolute() else Path(cfg.source_file).parent / p
        if p.exists():
            rules += read_rules(p)
            source = (source + " + " if source else "") + str(p)
        elif "file" in cfg.extra.get("playbook", {}):
            raise ConfigError(f"{cfg.source_file}: [playbook] file {pc.file!r} not found at {p}; "
                              "fix the path (relative to the config file) or remove the key.")
        else:
            notes.append(f"no playbook file at {p}; the built-in default tactic is used for every item")
    return Playbook(rules=tuple(rules), source=source or "built-in default", notes=tuple(notes))
