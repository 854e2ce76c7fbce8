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
}


def stage_label(name: str) -> str:
    """The plain name of an analysis stage ("Near-repeat alert zones" for ``nearrepeat``); an unknown stage
    shows with its underscores as spaces."""
    return STAGE_LABELS.get(name) or name.replace("_", " ").strip().capitalize()
