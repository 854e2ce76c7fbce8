"""Harm weighting: a weight per canonical crime type, from a named scheme.

Schemes live in ``config/harm_schemes.toml`` (format read by
:func:`hotspots.config.load_harm_schemes`): ``count`` (1 each), ``ons_css``
(ONS Crime Severity Score based) and ``cambridge_chi`` (Cambridge Crime Harm
Index style, days of custody). Every canonical type must have a weight; each
scheme carries its ``source`` and ``description``. Outputs record the scheme
name so a ranking can always be traced back to its weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import CANONICAL_CRIME_TYPES, load_harm_schemes
from ..errors import ConfigError, InputError


def default_schemes_file() -> Path:
    """The harm schemes shipped with the engine (``config/harm_schemes.toml`` in the repository)."""
    return Path(__file__).resolve().parents[3] / "config" / "harm_schemes.toml"


def load_schemes(path: str | Path | None = None) -> dict[str, dict]:
    """Read harm schemes (default: the shipped file): ``{name: {source, description, weights}}``."""
    return load_harm_schemes(Path(path) if path else default_schemes_file())


def harm_weights(scheme: str = "count", schemes: dict | None = None) -> dict[str, float]:
    """Weights per canonical crime type of ``scheme`` (from ``schemes`` or the shipped file)."""
    schemes = schemes if schemes is not None else load_schemes()
    if scheme not in schemes:
        raise ConfigError(
            f"harm scheme {scheme!r} is not defined; available: {sorted(schemes)} (add it to harm_schemes.toml)."
        )
    return dict(schemes[scheme]["weights"])


def harm_values(crime_types, weights: dict[str, float]) -> np.ndarray:
    """Harm of each incident: the weight of its canonical ``crime_type``.

    Raises :class:`InputError` naming any type the scheme has no weight for.
    """
    ct = np.asarray(crime_types, dtype=object)
    uniq = set(ct.tolist())
    missing = sorted(str(u) for u in uniq if u not in weights)
    if missing:
        raise InputError(
            f"crime type(s) {missing} have no harm weight; known canonical types: {list(CANONICAL_CRIME_TYPES)}."
        )
    lut = {k: float(v) for k, v in weights.items()}
    return np.array([lut[c] for c in ct], dtype=float)


def with_harm(incidents, scheme: str, schemes: dict | None = None):
    """Copy of ``incidents`` with ``harm`` recomputed under ``scheme``; ``attrs['harm_scheme']`` records it."""
    w = harm_weights(scheme, schemes)
    out = incidents.copy()
    out["harm"] = harm_values(out["crime_type"].to_numpy(), w)
    out.attrs["harm_scheme"] = scheme
    return out


def scheme_table(schemes: dict | None = None):
    """DataFrame: one row per canonical type, one column per scheme (for reports)."""
    schemes = schemes if schemes is not None else load_schemes()
    return pd.DataFrame(
        {name: [s["weights"][c] for c in CANONICAL_CRIME_TYPES] for name, s in schemes.items()},
        index=pd.Index(CANONICAL_CRIME_TYPES, name="crime_type"),
    )
