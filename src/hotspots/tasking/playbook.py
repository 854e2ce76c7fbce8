"""Tactics for tasking items, from a playbook of rules in the config.

The playbook is a list of rules (``config/playbook.toml``, or inline
``[[playbook.rules]]`` in the run config). A place has one or more *problems*
(a hotspot of one crime type, a near-repeat burglary zone), each with its time
of day; the first rule whose conditions all match a problem gives its tactic,
dosage and owner. Problems that get the same tactic share it, so a place lists
each tactic once (:func:`tactic_set`). Conditions:

* ``kind``: ``"near_repeat"`` (a near-repeat alert zone) or ``"hotspot"``
  (a hotspot area); empty matches both;
* ``crime_types``: the problem's crime type is in the list; empty matches all;
* ``stability``: ``"chronic"`` (the place has been busy in most years: a
  problem-solving plan with partners) or ``"acute"`` (not chronic, busy in the
  latest period: patrol, cocooning); empty matches any place;
* ``time``: ``"night"`` when most of the problem's incidents fall between 18:00
  and 06:00, ``"day"`` otherwise, ``"unknown"`` only when the times of day are
  not known (police.uk month data), empty for any. A rule that needs the times
  of day (a night/day condition, or "peak" in its tactic or dosage) is never used
  when they are unknown: the next matching rule applies, and without one the
  built-in :data:`DEFAULT_UNKNOWN_TIME_RULE`.

``owner`` may use ``{ward_name}`` and ``{ward_code}``. A place has one owner:
the owner of its first problem's rule (the problem with the most harm), in the
ward holding most of its harm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..config import Config
from ..config.sections import UNKNOWN_TIME, Rule
from ..stages.tasking_list import Tactic
from ..vocabulary import crime_type_label

#: Used when no playbook file is found and no rules are given (times of day known).
DEFAULT_RULE = Rule(
    tactic="Visible patrol of the hotspot at its peak days and hours; problem-solving review if it persists",
    dosage="15 minutes, 3 times a week",
    owner="{ward_name} SNT sergeant",
)

#: Used when no rule matches a problem whose times of day are unknown.
DEFAULT_UNKNOWN_TIME_RULE = Rule(
    tactic="Visible patrol of the hotspot when the SNT knows it is busy; problem-solving review if it persists",
    dosage="15 minutes, 3 times a week",
    owner="{ward_name} SNT sergeant",
)


@dataclass(frozen=True)
class Playbook:
    """The rules in the order they are tried, where they came from and notes for the pack."""

    rules: tuple[Rule, ...]
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def choose(self, kind: str, crime_type: str, time_of_day: str, stability: str = "") -> Rule:
        """The first matching rule (the built-in default when none matches); ``stability`` is the place's
        chronic/acute label ('' when not known)."""
        for r in self.rules:
            if r.matches(kind, crime_type, time_of_day, stability):
                return r
        return DEFAULT_UNKNOWN_TIME_RULE if time_of_day == UNKNOWN_TIME else DEFAULT_RULE


def playbook_of(cfg: Config) -> Playbook:
    """The run's playbook as loaded with the config: inline ``[[playbook.rules]]`` then the playbook file's rules."""
    pr = cfg.playbook_rules
    return Playbook(rules=pr.rules, source=pr.source, notes=pr.notes)


def problem_words(kind: str, crime_type: str, time_of_day: str) -> str:
    """A problem in plain words: "Robbery at night", "Residential burglary near-repeat alert zone"."""
    label = crime_type_label(crime_type) or "All crime"
    if kind == "near_repeat":
        return f"{label} near-repeat alert zone"
    return label + {"night": " at night", "day": " by day"}.get(time_of_day, "")


def tactic_set(
    book: Playbook, problems: Sequence[tuple[str, str, str]], ward_name: str, ward_code: str, stability: str = ""
) -> tuple[Tactic, ...]:
    """One :class:`Tactic` per distinct rule chosen for the ``problems`` ((kind, crime type, time of day), most
    harm first) at a place whose chronic/acute label is ``stability``, in the order their first problem comes;
    the owner filled in for the ward."""
    out: list[Tactic] = []
    seen: dict[tuple[str, str], int] = {}
    for kind, ctype, tod in problems:
        rule = book.choose(kind, ctype, tod, stability)
        key = (rule.tactic, rule.dosage)
        words = problem_words(kind, ctype, tod)
        if key in seen:
            t = out[seen[key]]
            out[seen[key]] = Tactic(t.tactic, t.dosage, t.owner, (*t.problems, words))
            continue
        seen[key] = len(out)
        out.append(
            Tactic(rule.tactic, rule.dosage, rule.owner.format(ward_name=ward_name, ward_code=ward_code), (words,))
        )
    return tuple(out)


def numbered(texts: Sequence[str], labels: Sequence[str] | None = None) -> str:
    """One text as it is; several as "(1) label: text (2) label: text" (without labels: "(1) text (2) text")."""
    if len(texts) == 1:
        return texts[0]
    labs = [f"{lab}: " for lab in labels] if labels is not None else [""] * len(texts)
    return " ".join(f"({k}) {lab}{t}" for k, (lab, t) in enumerate(zip(labs, texts, strict=True), start=1))
