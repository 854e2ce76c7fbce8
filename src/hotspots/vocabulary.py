"""Plain words for the engine's codes, used by every page, map, table and document.

The engine works with canonical codes (``anti_social_behaviour``); people read
"Anti-social behaviour". Every product turns a code into words here, so the
same crime type reads the same everywhere: the FIM pack, the ward maps, the
briefing and the public tier.

>>> crime_type_label("anti_social_behaviour")
'Anti-social behaviour'
>>> crime_type_label("burglary_residential", sentence=True)
'residential burglary'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Display names of the canonical crime types (police.uk's own wording where it has one).
CRIME_TYPE_LABELS: dict[str, str] = {
    "burglary_residential": "Residential burglary",
    "burglary_business": "Business burglary",
    "burglary": "Burglary",
    "robbery": "Robbery",
    "violence": "Violence and sexual offences",
    "sexual_offences": "Sexual offences",
    "theft_from_person": "Theft from the person",
    "vehicle_crime": "Vehicle crime",
    "bicycle_theft": "Bicycle theft",
    "shoplifting": "Shoplifting",
    "other_theft": "Other theft",
    "criminal_damage_arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "possession_of_weapons": "Possession of weapons",
    "public_order": "Public order",
    "other_crime": "Other crime",
    "anti_social_behaviour": "Anti-social behaviour",
}


def crime_type_label(code: str, *, sentence: bool = False) -> str:
    """The display name of a canonical crime type.

    ``sentence=True`` gives the lower-case form used inside a sentence
    ("3 residential burglaries and 1 robbery"). An unknown code is shown with
    its underscores as spaces, so a new category never shows as an identifier.
    An empty code stays empty.
    """
    code = "" if code is None else str(code)
    if not code:
        return ""
    label = CRIME_TYPE_LABELS.get(code) or code.replace("_", " ").strip().capitalize()
    return label[:1].lower() + label[1:] if sentence else label


def crime_type_list(codes: Iterable[str], *, sentence: bool = False) -> str:
    """Several crime types as one phrase: "Robbery, Shoplifting and Vehicle crime"."""
    names = [crime_type_label(c, sentence=sentence) for c in codes if c]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


#: What each optional analysis stage shows, in the words of the people reading a pack.
STAGE_LABELS: dict[str, str] = {
    "surfaces": "Density and hot spots",
    "trends": "Emerging hotspots (trends)",
    "nearrepeat": "Near-repeat alert zones",
    "coverage": "CCTV coverage",
    "forecast": "Forecast",
    "ward_table": "Ward table",
    "tasking": "Tasking list",
    "concentration": "Where crime concentrates",
    "dosage": "Patrol delivered",
}


def stage_label(name: str) -> str:
    """The plain name of an analysis stage ("Near-repeat alert zones" for ``nearrepeat``); an unknown stage
    shows with its underscores as spaces."""
    return STAGE_LABELS.get(name) or name.replace("_", " ").strip().capitalize()


#: Plain names of the forecast methods (``hotspots.forecast.methods``); numbered forms
#: (``naive_12m``, ``naive_28d``, ``kde_200m``) are worded by :func:`forecast_method_label`.
FORECAST_METHOD_LABELS: dict[str, str] = {
    "kde": "Recent crime density",
    "longrun_kde": "Long-run crime density (older crimes count less)",
    "longrun_counts": "Long-run counts per square (older crimes count less)",
    "gistar": "Last year's statistically significant hot spots",
    "prospective": "Near-repeat risk (recent crimes raise the risk nearby for a few weeks)",
    "etas": "Self-exciting model (each crime raises the risk nearby for a while)",
    "learned": "Learned model (combines the signals of the other maps)",
    "learned_etas": "Learned model with the self-exciting signal",
    "blend": "Half learned model, half long-run counts",
}
_RELOCATED = "+relocated"
_NUMBERED_METHOD = re.compile(r"(naive|kde)_(\d+)(m|d)")


def forecast_method_label(name: str) -> str:
    """The plain name of a forecast method: ``naive_12m`` -> "Counts of the last 12 months",
    ``blend(learned,naive_12m)`` -> "An equal blend of: Learned model (...) and Counts of the last 12 months";
    ``<name>+relocated`` adds "(history moved onto the current locations)". An unknown name shows with its
    underscores as spaces, never as an identifier."""
    name = "" if name is None else str(name)
    if not name:
        return ""
    if name.endswith(_RELOCATED):
        return forecast_method_label(name[: -len(_RELOCATED)]) + " (history moved onto the current locations)"
    if name.startswith("blend(") and name.endswith(")"):
        members = [forecast_method_label(m) for m in name[len("blend(") : -1].split(",") if m]
        return "An equal blend of: " + (
            members[0] if len(members) == 1 else "; ".join(members[:-1]) + " and " + members[-1]
        )
    m = _NUMBERED_METHOD.fullmatch(name)
    if m:
        kind, n, unit = m.group(1), int(m.group(2)), m.group(3)
        if kind == "naive":
            what = ("month" if unit == "m" else "day") + ("s" if n != 1 else "")
            return f"Counts of the last {n} {what}" if n != 1 else f"Counts of the last {what}"
        return f"Recent crime density ({n} m radius)"
    return FORECAST_METHOD_LABELS.get(name) or name.replace("_", " ").strip().capitalize()


#: How precisely incident times are known, in words (``model.coarsest_precision``).
TIME_PRECISION_LABELS: dict[str, str] = {
    "minute": "to the minute",
    "day": "to the day",
    "month": "to the month only (police.uk open data)",
}


def time_precision_label(precision: str) -> str:
    """ "to the minute", "to the day", "to the month only (police.uk open data)"."""
    return TIME_PRECISION_LABELS.get(precision) or str(precision).replace("_", " ")
