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

from dataclasses import dataclass, field

from ..config import Config
from ..config.sections import Rule

#: Used when no playbook file is found and no rules are given.
DEFAULT_RULE = Rule(
    tactic="Visible patrol of the hotspot at its peak days and hours; problem-solving review if it persists",
    dosage="15 minutes, 3 times a week",
    owner="{ward_name} SNT sergeant",
)


@dataclass(frozen=True)
class Playbook:
    """The rules in the order they are tried, where they came from and notes for the pack."""

    rules: tuple[Rule, ...]
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def choose(self, kind: str, crime_type: str, time_of_day: str) -> Rule:
        """The first matching rule (the built-in default when none matches)."""
        for r in self.rules:
            if r.matches(kind, crime_type, time_of_day):
                return r
        return DEFAULT_RULE


def playbook_of(cfg: Config) -> Playbook:
    """The run's playbook as loaded with the config: inline ``[[playbook.rules]]`` then the playbook file's rules."""
    pr = cfg.playbook_rules
    return Playbook(rules=pr.rules, source=pr.source, notes=pr.notes)
