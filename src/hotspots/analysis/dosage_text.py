"""The playbook's dosage text as a structured prescription.

A playbook rule asks for a dosage in words ("15 minutes, 3 times a week at the
peak days and hours"). :func:`parse_dosage` reads such a sentence into a frozen
:class:`Dosage` so delivered patrol can be compared with it. The phrases it
understands (case does not matter; the parts can come in any order, separated by
commas or spaces):

=================================================  ================================================
phrase                                             meaning
=================================================  ================================================
``15 minutes``, ``10 mins``, ``half an hour``      minutes per visit (required)
``3 times a week``, ``twice a day``, ``once a      visits per week / day / hour
week``, ``a day``, ``daily``, ``an hour``,
``every hour``, ``hourly``, ``weekly``
``4 nights a week``, ``5 days a week``             on how many days (nights) a week visits are due
``Friday and Saturday nights``, ``on Mondays``     the named days (nights); Monday = 0
``at the peak hours``, ``across the peak hours``   at the place's busiest hours
``at the peak days and hours``                     at its busiest days and hours
``at night``, ``nights``                           between 18:00 and 06:00
``varied times``                                   spread over the day (no fixed time)
``2 weeks``, ``for 10 days``                       how long the dosage lasts
``until the zone expires``                         lasts until the near-repeat alert zone expires
=================================================  ================================================

Anything else in the text is an error that names the words not understood, so a
playbook edit can never silently change what is measured.

"Per hour" dosages cover the hours of the place's peak window; the number of
hours is a parameter of :meth:`Dosage.visits_per_week` (default 3, the length of
the busiest window the tasking list reports).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["NIGHT_HOURS", "WEEKDAYS", "Dosage", "parse_dosage"]

#: Night, as the playbook's "night" condition: from 18:00 to 06:00 local time.
NIGHT_HOURS = (18, 6)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_NUMBERS = {
    "once": 1,
    "one": 1,
    "twice": 2,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_NUM = r"(\d+(?:\.\d+)?|once|one|twice|two|three|four|five|six|seven|eight|nine|ten)"
_FILLER = {
    "at",
    "the",
    "and",
    "a",
    "an",
    "for",
    "of",
    "in",
    "on",
    "across",
    "during",
    "with",
    "over",
    "each",
    "every",
    "per",
    "patrol",
    "meanwhile",
}


def _num(s: str) -> float:
    return float(_NUMBERS.get(s, s))


@dataclass(frozen=True)
class Dosage:
    """A patrol prescription.

    Attributes
    ----------
    text : the sentence it was read from.
    minutes_per_visit : minutes each visit should last.
    visits : number of visits per ``per``.
    per : ``"hour"``, ``"day"`` or ``"week"``.
    days_per_week : days (or nights) a week on which visits are due (7 unless the text limits it).
    weekdays : the named days, Monday = 0 (empty: any day). A night belongs to the day it starts on.
    nights : visits between 18:00 and 06:00.
    peak_hours, peak_days : at the place's busiest hours / days.
    varied_times : at varied times of day.
    lasts_days : how long the dosage lasts (days), ``None`` when the text does not say.
    until_expiry : lasts until the place's alert zone expires.
    """

    text: str
    minutes_per_visit: float
    visits: float
    per: str
    days_per_week: float = 7.0
    weekdays: tuple[int, ...] = ()
    nights: bool = False
    peak_hours: bool = False
    peak_days: bool = False
    varied_times: bool = False
    lasts_days: int | None = None
    until_expiry: bool = False

    def visits_per_week(self, window_hours: float = 3.0) -> float:
        """Visits asked for in a full week. ``window_hours``: hours a day covered by a per-hour dosage."""
        if self.per == "week":
            return float(self.visits)
        if self.per == "day":
            return float(self.visits) * self.days_per_week
        return float(self.visits) * float(window_hours) * self.days_per_week

    def minutes_per_week(self, window_hours: float = 3.0) -> float:
        """Minutes of presence asked for in a full week."""
        return self.visits_per_week(window_hours) * self.minutes_per_visit

    def due_on(self, weekday: int) -> bool:
        """Whether visits are due on this weekday (Monday = 0)."""
        return not self.weekdays or weekday in self.weekdays

    def describe(self) -> str:
        """The prescription in plain words, as it is measured."""
        per = {"hour": "an hour", "day": "a day", "week": "a week"}[self.per]
        parts = [f"{self.minutes_per_visit:g} minutes, {self.visits:g} time{'s' if self.visits != 1 else ''} {per}"]
        if self.weekdays:
            parts.append(" and ".join(WEEKDAYS[d].title() for d in self.weekdays) + (" nights" if self.nights else ""))
        elif self.days_per_week != 7:
            parts.append(f"{self.days_per_week:g} {'nights' if self.nights else 'days'} a week")
        elif self.nights:
            parts.append("at night")
        if self.peak_hours or self.peak_days:
            parts.append("at the peak " + ("days and hours" if self.peak_days else "hours"))
        if self.varied_times:
            parts.append("at varied times")
        if self.lasts_days:
            parts.append(f"for {self.lasts_days} days")
        if self.until_expiry:
            parts.append("until the zone expires")
        return ", ".join(parts)


class _Reader:
    """Reads one dosage sentence phrase by phrase: each ``take`` finds every match of a phrase,
    records what it says and blanks it out, so whatever is left at the end was not understood."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.rest = " " + re.sub(r"\s+", " ", text.lower().replace(",", " , ").replace(";", " , ")) + " "
        self.minutes_per_visit: float | None = None
        self.visits: float | None = None
        self.per: str | None = None
        self.days_per_week = 7.0
        self.weekdays: tuple[int, ...] = ()
        self.nights = False
        self.peak_hours = False
        self.peak_days = False
        self.varied_times = False
        self.lasts_days: int | None = None
        self.until_expiry = False

    def take(self, pattern: str, read: Callable[[re.Match[str]], None]) -> None:
        while True:
            m = re.search(pattern, self.rest)
            if not m:
                return
            read(m)
            self.rest = self.rest[: m.start()] + " " + self.rest[m.end() :]

    def _twice(self, what: str) -> ConfigError:
        return ConfigError(f"{self.where}: {self.text!r} {what}")

    # one reader per phrase (the patterns are in parse_dosage)
    def minutes(self, m: re.Match[str]) -> None:
        if self.minutes_per_visit is not None:
            raise self._twice("gives the visit length twice; give it once.")
        self.minutes_per_visit = _num(m.group(1)) if m.group(1) else 30.0

    def expiry(self, m: re.Match[str]) -> None:
        self.until_expiry = True

    def varied(self, m: re.Match[str]) -> None:
        self.varied_times = True

    def peak(self, m: re.Match[str]) -> None:
        self.peak_hours = True
        if m.group(1):
            self.peak_days = True

    def days_a_week(self, m: re.Match[str]) -> None:
        self.days_per_week = _num(m.group(1))
        if m.group(2) == "nights":
            self.nights = True

    def named_days(self, m: re.Match[str]) -> None:
        names = re.findall("|".join(WEEKDAYS), m.group(0))
        self.weekdays = tuple(sorted({WEEKDAYS.index(d) for d in names}))
        self.days_per_week = float(len(self.weekdays))
        if m.group(2) and m.group(2).startswith("night"):
            self.nights = True

    def _often(self, visits: float, unit: str) -> None:
        if self.per is not None:
            raise self._twice('says how often twice; give one frequency (e.g. "3 times a week").')
        self.visits = visits
        self.per = "day" if unit.startswith("night") else unit
        if unit.startswith("night"):
            self.nights = True

    def frequency(self, m: re.Match[str]) -> None:
        self._often(_num(m.group(1)) if m.group(1) else 1.0, m.group(2))

    def adverb(self, m: re.Match[str]) -> None:
        self._often(1.0, {"hourly": "hour", "daily": "day", "nightly": "night", "weekly": "week"}[m.group(1)])

    def lasts(self, m: re.Match[str]) -> None:
        k = _num(m.group(1))
        self.lasts_days = int(round(k * (7 if m.group(2).startswith("week") else 1)))

    def next_period(self, m: re.Match[str]) -> None:
        self.lasts_days = 14 if m.group(1) == "fortnight" else 7

    def at_night(self, m: re.Match[str]) -> None:
        self.nights = True

    def dosage(self) -> Dosage:
        """The prescription read, or a :class:`ConfigError` saying what is missing or not understood."""
        where, text = self.where, self.text
        leftover = [w for w in re.findall(r"[^\s,]+", self.rest) if w not in _FILLER]
        if leftover:
            raise ConfigError(
                f"{where}: could not read {' '.join(leftover)!r} in the dosage {text!r}. Write it like "
                '"15 minutes, 3 times a week at the peak hours" (see hotspots.analysis.dosage_text for '
                "the phrases understood)."
            )
        if self.minutes_per_visit is None:
            raise ConfigError(
                f'{where}: the dosage {text!r} does not say how long a visit lasts; start it with e.g. "15 minutes".'
            )
        if self.per is None or self.visits is None:
            raise ConfigError(
                f'{where}: the dosage {text!r} does not say how often; add e.g. "a day" or "3 times a week".'
            )
        if self.minutes_per_visit <= 0 or self.visits <= 0:
            raise ConfigError(f"{where}: the dosage {text!r} asks for no patrol; give positive minutes and visits.")
        if self.days_per_week > 7 or self.days_per_week <= 0:
            raise ConfigError(f"{where}: the dosage {text!r} asks for {self.days_per_week:g} days a week; give 1-7.")
        return Dosage(
            text=text,
            minutes_per_visit=self.minutes_per_visit,
            visits=self.visits,
            per=self.per,
            days_per_week=self.days_per_week,
            weekdays=self.weekdays,
            nights=self.nights,
            peak_hours=self.peak_hours,
            peak_days=self.peak_days,
            varied_times=self.varied_times,
            lasts_days=self.lasts_days,
            until_expiry=self.until_expiry,
        )


def parse_dosage(text: str, where: str = "dosage") -> Dosage:
    """Read a playbook dosage sentence (see the module docstring) into a :class:`Dosage`.

    ``where`` names the text's origin (file and rule) in error messages. Raises
    :class:`ConfigError` naming the words it could not read and how to write them.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f'{where}: the dosage is empty; write e.g. "15 minutes, 3 times a week".')
    r = _Reader(text, where)
    r.take(rf" (?:{_NUM} (?:minutes?|mins?)|(half) an hour) ", r.minutes)
    r.take(r" until the (?:alert )?zone expires ", r.expiry)
    r.take(r" (?:at |with )?varied times(?: of day)? ", r.varied)
    r.take(r" (?:at |across |in |during )?the peak (days and )?hours ", r.peak)
    r.take(rf" {_NUM} (days|nights) (?:a|per|each) week ", r.days_a_week)
    day = rf"(?:{'|'.join(WEEKDAYS)})s?"
    r.take(rf" (?:on )?({day}(?:(?: ,| and| , and| or) {day})*)(?: (nights?|days?))? ", r.named_days)
    r.take(rf" (?:{_NUM} (?:times? )?)?(?:a|an|per|each|every) (hour|day|week|night) ", r.frequency)
    r.take(r" (hourly|daily|nightly|weekly) ", r.adverb)
    r.take(rf" (?:for )?{_NUM} (days?|weeks?) ", r.lasts)
    r.take(r" for the next (fortnight|week) ", r.next_period)
    r.take(r" (?:at )?nights? ", r.at_night)
    return r.dosage()
