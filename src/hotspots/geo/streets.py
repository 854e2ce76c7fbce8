"""Street names from incident locations: police.uk's "On or near ..." snap points as a street index.

police.uk publishes every crime at one of a fixed set of anonymised map points,
each labelled "On or near <street>" or "On or near <kind of place>"
("Supermarket", "Parking Area", "Sports/Recreation Area"), and stations as
"Edgware (lu Station)". Many points share a street name, so the points of the
incidents (and of the points over a border, when a file of them is given) are
a street index with a name and a position for thousands of streets: enough to
name a place ("High Street / Station Road"), the street nearest a proposed
camera, or the road crossing a borough boundary, with no road network at all.

:func:`street_of` is the one rule for reading a street out of a location text (:func:`location_text` the
one for tidying the text itself);
:class:`StreetPoints` holds the distinct named points (working CRS, metres).
The names are data: pages escape them like any other input string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from ..crs import DEFAULT_CRS, same_crs
from ..errors import InputError

#: police.uk map points named after a kind of place rather than a street (compared in lower case).
PLACE_KINDS = frozenset(
    {
        "supermarket",
        "petrol station",
        "ambulance station",
        "fire station",
        "parking area",
        "shopping area",
        "pedestrian subway",
        "nightclub",
        "hospital",
        "police station",
        "prison",
        "cinema",
        "church",
        "mosque",
        "synagogue",
        "hotel",
        "museum",
        "library",
        "theatre",
        "airport",
        "sports/recreation area",
        "further/higher educational building",
        "bus/coach station",
        "theatre/concert hall",
        "conference/exhibition centre",
        "park/open space",
        "airport/airfield",
        "hotel/motel",
        "theme/adventure park",
    }
)

_PREFIX = re.compile(r"^\s*on or near\s+", re.IGNORECASE)
_STATION = re.compile(r"^(?P<name>.+?)\s*\((?:lu |dlr |tram |overground )?station\)\s*$", re.IGNORECASE)
_ROAD_NUMBER = re.compile(r"^(?P<cls>[ABM])\d+(?:\(M\))?$", re.IGNORECASE)


def location_text(text: object) -> str:
    """A location text as a name: without police.uk's "On or near " prefix, spaces tidied, and the words police.uk
    lower-cases inside brackets capitalised ("On or near (barnet By-pass)" -> "(Barnet By-pass)"); "" for blank."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = _PREFIX.sub("", str(text)).strip()
    s = re.sub(r"\s+", " ", s)
    # police.uk lower-cases words inside brackets: "(barnet By-pass)" -> "(Barnet By-pass)"
    return re.sub(r"\((\w)", lambda m: "(" + m.group(1).upper(), s)


def street_of(text: object) -> str:
    """The street a location text names: "On or near High Street" -> "High Street".

    "" when it names no street: blank, a kind of place (:data:`PLACE_KINDS`, or
    any "X/Y" kind), or a station.
    """
    s = location_text(text)
    if not s or "/" in s or s.lower() in PLACE_KINDS or _STATION.match(s):
        return ""
    return s


def place_of(text: object) -> str:
    """A street, or else a station ("Edgware (lu Station)" -> "Edgware station"); "" for kinds of place."""
    s = location_text(text)
    m = _STATION.match(s)
    if m:
        return f"{m.group('name').strip()} station"
    return street_of(s)


def road_class_of(name: str) -> str:
    """``motorway``, ``a_road`` or ``b_road`` for a road number ("M1", "A406", "B552"), else ""."""
    m = _ROAD_NUMBER.match(name.strip())
    if not m:
        return ""
    if name.strip().upper().endswith("(M)"):  # A1(M): an A road built as a motorway
        return "motorway"
    return {"M": "motorway", "A": "a_road", "B": "b_road"}[m.group("cls").upper()]


def streets_of(location_texts: Iterable[object]) -> np.ndarray:
    """:func:`street_of` of many texts at once (each distinct text read once)."""
    codes, uniq = pd.factorize(pd.Series(np.asarray(list(location_texts), dtype=object)), use_na_sentinel=False)
    return np.array([*(street_of(u) for u in uniq), ""], dtype=object)[codes]


def top_streets(location_texts: Iterable[object], top: int = 2, names: Iterable[str] | None = None) -> list[str]:
    """The ``top`` streets named most often among ``location_texts`` (ties: alphabetical); ``names`` gives
    the streets already read from them."""
    names = list(names) if names is not None else [street_of(t) for t in location_texts]
    counts = pd.Series([n for n in names if n], dtype=object).value_counts()
    if not len(counts):
        return []
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [k for k, _n in order[:top]]


@dataclass(frozen=True, eq=False)
class StreetPoints:
    """Distinct named points: ``name`` (str), ``x``, ``y`` (metres, ``crs``) and ``n`` (incidents there)."""

    name: np.ndarray
    x: np.ndarray
    y: np.ndarray
    n: np.ndarray
    crs: str = DEFAULT_CRS

    def __len__(self) -> int:
        return int(len(self.name))

    @classmethod
    def from_texts(cls, texts, x, y, crs: str = DEFAULT_CRS, counts=None) -> StreetPoints:
        """The distinct (street, x, y) of location texts at points (texts naming no street are left out);
        ``counts`` incidents per text (default 1 each)."""
        names = streets_of(texts)
        n = np.ones(len(names), np.int64) if counts is None else np.asarray(counts, np.int64)
        df = pd.DataFrame({"name": names, "x": np.asarray(x, float), "y": np.asarray(y, float), "n": n})
        df = df[(df["name"] != "") & np.isfinite(df["x"]) & np.isfinite(df["y"])]
        g = df.groupby(["name", "x", "y"], sort=True)["n"].sum().reset_index()
        return cls(g["name"].to_numpy(object), g["x"].to_numpy(float), g["y"].to_numpy(float), g["n"].to_numpy(), crs)

    @classmethod
    def from_incidents(cls, incidents: pd.DataFrame, crs: str = DEFAULT_CRS) -> StreetPoints:
        """The street index of incidents with ``location_text``, ``x`` and ``y`` (an empty index without texts)."""
        if "location_text" not in incidents.columns or not len(incidents):
            return cls.empty(crs)
        return cls.from_texts(incidents["location_text"], incidents["x"], incidents["y"], crs)

    @classmethod
    def read_police_uk(cls, path: str | Path, crs: str = DEFAULT_CRS) -> StreetPoints:
        """The named points of a police.uk street-crime CSV (``Longitude``, ``Latitude``, ``Location``;
        ``.csv.gz`` accepted), e.g. the crimes just over a borough boundary."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"street points file {path} does not exist; fix [anpr] street_points.")
        try:
            df = pd.read_csv(path, usecols=["Longitude", "Latitude", "Location"])
        except ValueError as exc:
            raise InputError(
                f"{path}: a police.uk street-crime CSV with Longitude, Latitude and Location columns is needed ({exc})."
            ) from exc
        df["Longitude"] = pd.to_numeric(df["Longitude"], errors="coerce")
        df["Latitude"] = pd.to_numeric(df["Latitude"], errors="coerce")
        df = df[df["Longitude"].abs().le(180) & df["Latitude"].abs().le(90)]
        pts = df.groupby(["Location", "Longitude", "Latitude"], sort=True).size().rename("n").reset_index()
        x, y = pts["Longitude"].to_numpy(float), pts["Latitude"].to_numpy(float)
        if not same_crs("EPSG:4326", crs):
            x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(x, y)
        return cls.from_texts(pts["Location"].to_numpy(object), x, y, crs, counts=pts["n"].to_numpy())

    @classmethod
    def empty(cls, crs: str = DEFAULT_CRS) -> StreetPoints:
        return cls(np.zeros(0, object), np.zeros(0), np.zeros(0), np.zeros(0, np.int64), crs)

    def concat(self, other: StreetPoints) -> StreetPoints:
        """Both indexes as one (points named alike at the same place merged, their counts added)."""
        df = pd.DataFrame(
            {
                "name": np.r_[self.name, other.name],
                "x": np.r_[self.x, other.x],
                "y": np.r_[self.y, other.y],
                "n": np.r_[self.n, other.n],
            }
        )
        g = df.groupby(["name", "x", "y"], sort=True)["n"].sum().reset_index()
        return StreetPoints(
            g["name"].to_numpy(object), g["x"].to_numpy(float), g["y"].to_numpy(float), g["n"].to_numpy(), self.crs
        )

    def nearest(self, x, y, max_m: float) -> tuple[np.ndarray, np.ndarray]:
        """The street nearest each point (x, y metres) within ``max_m`` metres ("" beyond) and its distance."""
        x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
        if not len(self) or not len(x):
            return np.full(len(x), "", dtype=object), np.full(len(x), np.inf)
        d, j = cKDTree(np.c_[self.x, self.y]).query(np.c_[x, y], distance_upper_bound=max_m)
        found = np.isfinite(d)
        names = np.full(len(x), "", dtype=object)
        names[found] = self.name[j[found]]
        return names, d

    def in_geometry(self, geom: BaseGeometry) -> np.ndarray:
        """Indices of the points inside ``geom`` (a polygon in the same CRS)."""
        if not len(self):
            return np.zeros(0, np.int64)
        return np.nonzero(shapely.contains_xy(geom, self.x, self.y))[0]
