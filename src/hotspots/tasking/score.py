"""How a place's score is raised or lowered: trend classes and live near-repeat zones.

Each piece of a place (a hotspot area or an alert zone) has a multiplier::

    multiplier = trend multiplier   (``emerging_multiplier`` for a new, consecutive,
                                     intensifying or emerging class of its cells;
                                     ``fading_multiplier`` for diminishing,
                                     historical or former; 1 otherwise)
               x near-repeat multiplier (``near_repeat_multiplier`` for a live alert zone)

and a place's score is the sum over its incidents of harm x the largest
multiplier of the pieces that hold the incident (for a place of one piece:
harm x that piece's multiplier).
"""

from __future__ import annotations

import numpy as np

from ..analysis.trends import EmergingResult
from ..config.sections import TaskingConfig

RISING = ("new hot spot", "consecutive hot spot", "intensifying hot spot", "emerging")
FADING = ("diminishing hot spot", "historical hot spot", "former")
#: Order in which a trend class is chosen from the classes of a place's cells.
TREND_PRIORITY = (
    "intensifying hot spot",
    "new hot spot",
    "consecutive hot spot",
    "emerging",
    "persistent hot spot",
    "persistent",
    "sporadic hot spot",
    "oscillating hot spot",
    "intermittent",
    "diminishing hot spot",
    "historical hot spot",
    "former",
)


def trend_of_codes(em: EmergingResult, codes: np.ndarray) -> str:
    """The trend class shown for a set of cells (their class codes, -1 outside): the first of
    :data:`TREND_PRIORITY` present, else the first class label."""
    codes = codes[codes >= 0]
    if not len(codes):
        return em.labels[0]
    labels = {em.labels[k] for k in np.unique(codes)}
    for lab in TREND_PRIORITY:
        if lab in labels:
            return lab
    return em.labels[0] if 0 in set(codes.tolist()) else sorted(labels)[0]


def trend_multiplier(trend: str, tcfg: TaskingConfig) -> float:
    """``emerging_multiplier`` for a rising class, ``fading_multiplier`` for a fading one, else 1."""
    if trend in RISING:
        return tcfg.emerging_multiplier
    if trend in FADING:
        return tcfg.fading_multiplier
    return 1.0
