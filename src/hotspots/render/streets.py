"""Street, ward and town-centre names for maps that work with no basemap (no internet).

Two sources of street names, both optional:

* **the incidents' own location texts.** police.uk places every record on a
  fixed "On or near <street>" snap point, so a year of records names
  thousands of streets with a position on each. :func:`street_labels_from_incidents`
  groups the positions by street name (on a 20 m grid, so exact positions of a
  force's extract cost no more than snap points), splits a name into separate
  streets where its positions fall in ``cluster_m`` squares that do not touch
  (two "High Street"s), cuts a long street into pieces of about ``segment_m``
  metres, and puts one label on each, at the position nearest the piece's
  weighted centre, turned along the principal axis of its positions. police.uk's place types
  ("Supermarket", "Parking Area", ...) are not streets and are left out; a
  leading house number and anything after a comma are dropped.
* **a streets layer** (``[study_area] roads``, with ``road_name_field`` and
  ``road_class_field``; OS Open Roads is the recommended open download):
  :func:`street_labels_from_roads` labels each named road along its line,
  about every ``spacing_m`` metres.

:func:`thin_labels` then decides from which zoom level each label is shown:
labels are placed greedily by importance (town centres, wards, then streets by
road class and by number of incidents) at each zoom level from 11 to 18, and a
label that would overlap one already placed, or repeat the same name too close
by, waits for a closer zoom. Positions are in the working CRS (metres) until
:func:`label_rows` converts them for the page.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..geo.study_area import StudyArea
from .geojson import WGS84, to_lonlat

#: police.uk snap-point names that are place types, not streets (compared in lower case).
POLICE_UK_PLACE_TYPES = frozenset(
    {
        "supermarket",
        "shopping area",
        "petrol station",
        "parking area",
        "sports/recreation area",
        "pedestrian subway",
        "further/higher educational building",
        "bus/coach station",
        "police station",
        "hospital",
        "conference/exhibition centre",
        "nightclub",
        "theatre/concert hall",
        "airport/airfield",
        "prison",
        "park/open space",
        "theme/adventure park",
        "hotel/motel",
        "cinema",
    }
)

#: police.uk place types not in the list above are spelled like "Sports/recreation Area" or "Bus/coach Station".
_PLACE_TYPE = re.compile(r"^[A-Z][a-z]+/[a-z]+( [A-Za-z]+)*$")

#: Importance of a named road by class (the canonical classes of ``[study_area] roads``).
ROAD_CLASS_WEIGHT = {"motorway": 4, "a_road": 3, "b_road": 2, "minor": 1}

#: Zoom levels at which labels are placed (Leaflet/Web Mercator zooms; 13 is about a borough on a desktop).
ZOOMS = tuple(range(11, 19))
#: Street names are not shown further out than this zoom.
STREET_MIN_ZOOM = 13

#: Approximate label size in screen pixels: width per character and height, by kind of label.
_CHAR_PX = {"street": 6.3, "ward": 7.6, "town": 8.0}
_HEIGHT_PX = {"street": 13.0, "ward": 15.0, "town": 16.0}
_PAD_PX = 6.0
#: The same name is not repeated closer than this many pixels (or 300 m, whichever is more).
_SAME_NAME_PX = 260.0


@dataclass(frozen=True)
class Label:
    """A name on the map: ``x, y`` in the working CRS (metres), ``angle`` in degrees counter-clockwise from
    east (-90 < angle <= 90, so text never reads upside down), ``kind`` (``street``, ``ward`` or ``town``),
    ``weight`` (importance: larger is placed first) and ``min_zoom`` (shown from this zoom; set by
    :func:`thin_labels`, -1 before). ``extent`` is the ``(xmin, ymin, xmax, ymax)`` the name covers, for the
    search box."""

    text: str
    x: float
    y: float
    angle: float
    kind: str
    weight: float
    extent: tuple[float, float, float, float]
    min_zoom: int = -1


def street_name(location_text: object) -> str:
    """The street name in a location text ("" when it names no street).

    >>> street_name("On or near Pine Way")
    'Pine Way'
    >>> street_name("12a High Street, Barnet")
    'High Street'
    >>> street_name("On or near Supermarket")
    ''
    """
    if not isinstance(location_text, str):
        return ""
    t = re.sub(r"\s+", " ", location_text).strip()
    t = re.sub(r"^on or near\s+", "", t, flags=re.I)
    t = t.split(",")[0].strip()
    t = re.sub(r"^(flat|unit)\s+\w+\s+", "", t, flags=re.I)
    t = re.sub(r"^\d+[a-z]?(-\d+[a-z]?)?\s+", "", t, flags=re.I)
    if not t or t.lower() in POLICE_UK_PLACE_TYPES or _PLACE_TYPE.match(t) or not re.search(r"[A-Za-z]{2}", t):
        return ""
    return t


def _axis_angle(xy: np.ndarray) -> tuple[float, float]:
    """(angle of the principal axis in degrees, -90 < a <= 90; elongation = major / minor spread)."""
    if len(xy) < 2:
        return 0.0, 1.0
    c = xy - xy.mean(axis=0)
    sxx, syy, sxy = float((c[:, 0] ** 2).mean()), float((c[:, 1] ** 2).mean()), float((c[:, 0] * c[:, 1]).mean())
    a = 0.5 * math.degrees(math.atan2(2.0 * sxy, sxx - syy))  # the 2 x 2 covariance's major axis, -90 < a <= 90
    half, mean = math.hypot((sxx - syy) / 2.0, sxy), (sxx + syy) / 2.0
    major, minor = mean + half, max(mean - half, 0.0)
    return (90.0 if a == -90.0 else a), math.sqrt(major) / math.sqrt(max(minor, 1e-6))


def _piece_label(name: str, xy: np.ndarray, n: np.ndarray) -> Label:
    """One label for the snap points ``xy`` (distinct positions) holding ``n`` incidents each."""
    centre = (xy * n[:, None]).sum(axis=0) / n.sum()
    k = int(np.argmin(((xy - centre) ** 2).sum(axis=1)))
    angle, elong = _axis_angle(xy)
    span = float(np.ptp(xy, axis=0).max()) if len(xy) > 1 else 0.0
    if elong < 3.0 or span < 40.0:
        angle = 0.0
    pad = 60.0
    ext = (
        float(xy[:, 0].min() - pad),
        float(xy[:, 1].min() - pad),
        float(xy[:, 0].max() + pad),
        float(xy[:, 1].max() + pad),
    )
    return Label(name, float(xy[k, 0]), float(xy[k, 1]), round(angle, 1), "street", float(n.sum()), ext)


def _snap(k: np.ndarray, x: np.ndarray, y: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of each name gathered on a ``cell_m`` grid (police.uk snap points are already few; exact
    positions of a force's extract are many): (name id, mean x y, incidents) per name and grid cell."""
    df = pd.DataFrame({"k": k, "gx": np.floor(x / cell_m), "gy": np.floor(y / cell_m), "x": x, "y": y})
    g = df.groupby(["k", "gx", "gy"], sort=True).agg(x=("x", "mean"), y=("y", "mean"), n=("x", "size"))
    return g.index.get_level_values(0).to_numpy(), g[["x", "y"]].to_numpy(float), g["n"].to_numpy(float)


def _streets(k: np.ndarray, xy: np.ndarray, cluster_m: float) -> np.ndarray:
    """A street id per point: points of one name in the same or touching ``cluster_m`` squares are one street
    (two "High Street"s far apart stay two)."""
    cells = pd.DataFrame(
        {
            "k": k,
            "cx": np.floor(xy[:, 0] / cluster_m).astype(np.int64),
            "cy": np.floor(xy[:, 1] / cluster_m).astype(np.int64),
        }
    )
    keys = cells.drop_duplicates().reset_index(drop=True)
    keys["cell"] = np.arange(len(keys))
    edges = []
    for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
        moved = keys.assign(cx=keys["cx"] + dx, cy=keys["cy"] + dy)
        hit = moved.merge(keys, on=["k", "cx", "cy"], suffixes=("", "_to"))
        edges.append(hit[["cell", "cell_to"]].to_numpy())
    e = np.concatenate(edges) if edges else np.zeros((0, 2), int)
    adj = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(len(keys), len(keys)))
    _, comp = connected_components(adj, directed=False)
    cell_of = cells.merge(keys, on=["k", "cx", "cy"], how="left")["cell"].to_numpy()
    return comp[cell_of]


def street_labels_from_incidents(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    location_text: Sequence[object] | np.ndarray,
    cluster_m: float = 400.0,
    segment_m: float = 600.0,
) -> list[Label]:
    """Street labels from incidents' positions (metres) and location texts; see the module docstring."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    codes, uniques = pd.factorize(pd.Series(location_text), use_na_sentinel=True)
    names = np.array([street_name(u) for u in uniques] + [""], dtype=object)
    name = names[codes]  # code -1 (missing) reads the trailing ""
    ok = (name != "") & np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return []
    name_id, name_list = pd.factorize(pd.Series(name[ok], dtype=object), sort=True)
    k, xy, n = _snap(name_id, x[ok], y[ok], 20.0)
    street = _streets(k, xy, cluster_m)
    order = np.lexsort((xy[:, 1], xy[:, 0], street))
    bounds = np.flatnonzero(np.r_[True, np.diff(street[order]) != 0, True])
    out: list[Label] = []
    for a, b in itertools.pairwise(bounds):
        sel = order[a:b]
        text = str(name_list[k[sel[0]]])
        if len(sel) == 1:  # most police.uk streets have one snap point
            px, py = float(xy[sel[0], 0]), float(xy[sel[0], 1])
            out.append(Label(text, px, py, 0.0, "street", float(n[sel[0]]), (px - 60, py - 60, px + 60, py + 60)))
        else:
            out += _split_long(text, xy[sel], n[sel], segment_m)
    return out


def _split_long(name: str, xy: np.ndarray, n: np.ndarray, segment_m: float) -> list[Label]:
    """One label per piece of about ``segment_m`` metres along the street's principal axis."""
    if len(xy) < 3:
        return [_piece_label(name, xy, n)]
    angle, _ = _axis_angle(xy)
    a = math.radians(angle)
    t = (xy - xy.mean(axis=0)) @ np.array([math.cos(a), math.sin(a)])
    length = float(t.max() - t.min())
    pieces = max(1, int(round(length / segment_m)))
    if pieces == 1:
        return [_piece_label(name, xy, n)]
    edges = np.linspace(t.min(), t.max(), pieces + 1)
    which = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, pieces - 1)
    return [_piece_label(name, xy[which == k], n[which == k]) for k in range(pieces) if (which == k).any()]


def street_labels_from_roads(roads: gpd.GeoDataFrame | None, spacing_m: float = 1000.0) -> list[Label]:
    """Labels along the named roads of a streets layer (``name`` and ``road_class`` columns, metres)."""
    if roads is None or not len(roads) or "name" not in roads.columns:
        return []
    names = np.array([str(v).strip() if isinstance(v, str) else "" for v in roads["name"]], dtype=object)
    geoms = roads.geometry.to_numpy()
    classes = roads["road_class"].astype(str).to_numpy() if "road_class" in roads.columns else None
    keep = (names != "") & ~shapely.is_missing(geoms)
    out: list[Label] = []
    for name in sorted(set(names[keep])):
        sel = keep & (names == name)
        merged = shapely.line_merge(shapely.union_all(geoms[sel]))
        best = max((ROAD_CLASS_WEIGHT.get(c, 1) for c in classes[sel]), default=1) if classes is not None else 1
        for part in shapely.get_parts(merged):
            if part.geom_type != "LineString" or part.length < 150.0:
                continue
            out += _along(str(name), part, spacing_m, best * 1000.0 + min(part.length, 999.0))
    return out


def _along(name: str, line: shapely.LineString, spacing_m: float, weight: float) -> list[Label]:
    """Labels every ``spacing_m`` metres along a line (at least one, in its middle), turned along it."""
    count = max(1, int(line.length // spacing_m))
    b = line.bounds
    ext = (b[0] - 60, b[1] - 60, b[2] + 60, b[3] + 60)
    out = []
    for k in range(count):
        d = line.length * (k + 0.5) / count
        p0 = line.interpolate(max(d - 30.0, 0.0))
        p1 = line.interpolate(min(d + 30.0, line.length))
        a = math.degrees(math.atan2(p1.y - p0.y, p1.x - p0.x))
        if a <= -90:
            a += 180
        elif a > 90:
            a -= 180
        p = line.interpolate(d)
        out.append(Label(name, float(p.x), float(p.y), round(a, 1), "street", weight, ext))
    return out


def area_labels(wards: gpd.GeoDataFrame, town_centres: gpd.GeoDataFrame | None) -> list[Label]:
    """Ward names (at a point inside each ward) and town-centre names (at their points)."""
    out: list[Label] = []
    for name, geom in zip(wards["ward_name"], wards.geometry, strict=True):
        if geom is None or geom.is_empty or not isinstance(name, str) or not name.strip():
            continue
        p = geom.point_on_surface()
        b = geom.bounds
        out.append(Label(name.strip(), p.x, p.y, 0.0, "ward", 1e9 + geom.area / 1e3, tuple(b)))
    if town_centres is not None and len(town_centres) and "name" in town_centres.columns:
        for name, geom in zip(town_centres["name"], town_centres.geometry, strict=True):
            if geom is None or geom.is_empty or not isinstance(name, str) or not name.strip():
                continue
            p = geom.centroid if geom.geom_type != "Point" else geom
            out.append(Label(name.strip(), p.x, p.y, 0.0, "town", 2e9, (p.x - 400, p.y - 400, p.x + 400, p.y + 400)))
    return out


def labels_of_area(incidents: pd.DataFrame, area: StudyArea) -> tuple[list[Label], float]:
    """Every label of a study area before thinning, most important first (street names from the incidents'
    location texts and from the named streets layer, ward and town-centre names), and the latitude of the
    area's centre in degrees (for :func:`thin_labels`); ``incidents`` carry ``x``, ``y`` (the area's CRS)
    and ``location_text``."""
    labels: list[Label] = []
    if len(incidents):
        labels += street_labels_from_incidents(
            incidents["x"].to_numpy(), incidents["y"].to_numpy(), incidents["location_text"]
        )
    labels += street_labels_from_roads(area.roads)
    labels += area_labels(area.wards, area.town_centres)
    centre = gpd.GeoSeries([area.boundary.centroid], crs=area.crs).to_crs(WGS84).iat[0]
    return labels, float(centre.y)


def metres_per_pixel(zoom: float, latitude: float) -> float:
    """Ground metres per screen pixel of a Web Mercator map at ``zoom`` and ``latitude`` (degrees)."""
    return 156543.03392 * math.cos(math.radians(latitude)) / 2.0**zoom


def _box(lab: Label, res: float) -> tuple[float, float, float, float]:
    w = (len(lab.text) * _CHAR_PX[lab.kind] + _PAD_PX) * res
    h = (_HEIGHT_PX[lab.kind] + _PAD_PX) * res
    a = math.radians(lab.angle)
    bw = abs(w * math.cos(a)) + abs(h * math.sin(a))
    bh = abs(w * math.sin(a)) + abs(h * math.cos(a))
    return (lab.x - bw / 2, lab.y - bh / 2, lab.x + bw / 2, lab.y + bh / 2)


class _Boxes:
    """Placed label boxes at one zoom level, bucketed on a square grid for overlap queries."""

    def __init__(self, cell: float):
        self.cell = cell
        self.buckets: dict[tuple[int, int], list[tuple[float, float, float, float]]] = defaultdict(list)

    def _keys(self, b: tuple[float, float, float, float]) -> Iterable[tuple[int, int]]:
        c = self.cell
        for i in range(int(b[0] // c), int(b[2] // c) + 1):
            for j in range(int(b[1] // c), int(b[3] // c) + 1):
                yield (i, j)

    def hits(self, b: tuple[float, float, float, float]) -> bool:
        for k in self._keys(b):
            for o in self.buckets.get(k, ()):
                if b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3]:
                    return True
        return False

    def add(self, b: tuple[float, float, float, float]) -> None:
        for k in self._keys(b):
            self.buckets[k].append(b)


def thin_labels(labels: Sequence[Label], latitude: float, zooms: Sequence[int] = ZOOMS) -> list[Label]:
    """Each label with the first zoom at which it fits (see the module docstring); labels that never fit are
    dropped. Deterministic: ties in importance are broken by name and position."""
    order = sorted(range(len(labels)), key=lambda i: (-labels[i].weight, labels[i].text, labels[i].x, labels[i].y))
    first: dict[int, int] = {}
    for z in zooms:
        res = metres_per_pixel(z, latitude)
        boxes = _Boxes(cell=200.0 * res)
        same: dict[str, list[tuple[float, float]]] = defaultdict(list)
        gap = max(300.0, _SAME_NAME_PX * res)
        # labels shown from an earlier zoom stay shown: place them first
        placed_now = [i for i in order if i in first] + [i for i in order if i not in first]
        for i in placed_now:
            lab = labels[i]
            if i not in first and lab.kind == "street" and z < STREET_MIN_ZOOM:
                continue
            b = _box(lab, res)
            key = lab.text.lower()
            if i not in first:
                if boxes.hits(b):
                    continue
                if any((lab.x - px) ** 2 + (lab.y - py) ** 2 < gap * gap for px, py in same[key]):
                    continue
                first[i] = z
            boxes.add(b)
            same[key].append((lab.x, lab.y))
    return [replace(labels[i], min_zoom=first[i]) for i in order if i in first]


def label_rows(labels: Sequence[Label], crs: object, decimals: int = 5) -> list[list[object]]:
    """``[lat, lon, text, angle, min_zoom, kind]`` per label for the page (positions in EPSG:4326)."""
    if not labels:
        return []
    pts = to_lonlat([shapely.Point(lab.x, lab.y) for lab in labels], crs, 0.0, decimals)
    return [
        [float(p.y), float(p.x), lab.text, int(round(lab.angle)), lab.min_zoom, lab.kind]
        for p, lab in zip(pts, labels, strict=True)
    ]
