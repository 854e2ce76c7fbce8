"""The public tier's maps: recorded crime on squares (``public/map.html``) and the CCTV consultation map.

These pages draw only what they are given: counts on square cells that the
public aggregation has already suppressed below its threshold, ward outlines
and names, and (consultation) proposed camera sites by rank. No street name,
location text or incident position is ever passed in, and no popup carries
more than a count. The page is the same fixed template, script and JSON data
block as every other map (:mod:`.mappage`), so it works offline and no data
string is ever code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..config.sections import RenderConfig
from .geojson import FeatureSet, bounds_lonlat
from .mappage import MapLayer, MapPage, entry, style_data
from .palette import LABEL_COLOURS, LAYER_STYLES, PUBLIC_CLASSES
from .streets import area_labels, label_rows, thin_labels

#: The Open Government Licence statement for public sector information (police.uk data, boundaries).
OGL_CREDIT = "Contains public sector information licensed under the Open Government Licence v3.0"


@dataclass(frozen=True)
class PublicMapText:
    """The words of a public map: ``title``, ``subtitle`` (period and what is counted), ``credits`` (data
    sources and licence), ``about`` (paragraphs: how the counts are protected) and, on a consultation map,
    how to respond (``respond_text``, and ``respond_url``: a web or mailto: address, shown as a link only
    when it is one)."""

    title: str
    subtitle: str
    credits: str
    about: tuple[str, ...]
    respond_text: str = ""
    respond_url: str = ""


def count_classes(counts: Sequence[int] | np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Class index (0..3) of each count by the quartiles of the counts shown, and each class's range."""
    c = np.asarray(counts, dtype=float)
    if not len(c):
        return np.zeros(0, int), []
    edges = np.unique(np.quantile(c, [0.25, 0.5, 0.75]))
    idx = np.minimum(np.searchsorted(edges, c, side="left"), len(PUBLIC_CLASSES) - 1)
    lo = [int(c.min())] + [int(e) + 1 for e in edges]
    hi = [int(e) for e in edges] + [int(c.max())]
    return idx, [(a, b) for a, b in zip(lo, hi, strict=True)]


def _cells_layer(cells: gpd.GeoDataFrame, counts: np.ndarray, name: str, rc: RenderConfig) -> MapLayer | None:
    if not len(cells):
        return None
    idx, ranges = count_classes(counts)
    fs = FeatureSet.build(
        cells,
        {
            "c": [PUBLIC_CLASSES[i] for i in idx],
            "count": [int(n) for n in counts],
            "t": [f"{int(n)} incidents" for n in counts],
        },
        0.0,
        rc.coord_decimals,
    )
    s = LAYER_STYLES["public_cells"]
    entries = [
        entry(s, f"{a:,}–{b:,} incidents" if a != b else f"{a:,} incidents", PUBLIC_CLASSES[k])
        for k, (a, b) in enumerate(ranges)
        if a <= b
    ]
    legend = {"title": "Recorded crime per square", "entries": entries}
    return MapLayer(
        "cells",
        name,
        "Recorded crime",
        "vector",
        True,
        "hs-cells",
        legend,
        {"style": style_data(s)},
        features=fs,
    )


def _outline_layers(
    wards: gpd.GeoDataFrame | None, boundary: BaseGeometry, crs: Any, rc: RenderConfig
) -> list[MapLayer]:
    """Ward outlines and names (or the area's boundary when no wards are given)."""
    s = LAYER_STYLES["wards"]
    if wards is not None and len(wards):
        names = [str(n) for n in wards["ward_name"]]
        fs = FeatureSet.build(wards, {"t": names}, rc.simplify_m, rc.coord_decimals)
        what, label = "Wards", "Ward boundary"
    else:
        fs = FeatureSet.build(gpd.GeoDataFrame(geometry=[boundary], crs=crs), {}, rc.simplify_m, rc.coord_decimals)
        what, label = "Boundary", "Boundary of the area"
    out = [
        MapLayer(
            "wards",
            what,
            "Map",
            "vector",
            True,
            "hs-context",
            {"title": what, "entries": [entry(s, label)]},
            {"style": style_data(s)},
            features=fs,
        )
    ]
    if wards is not None and len(wards):
        centre = gpd.GeoSeries([boundary.centroid], crs=crs).to_crs("EPSG:4326").iat[0]
        rows = label_rows(thin_labels(area_labels(wards, None), latitude=float(centre.y)), crs, rc.coord_decimals)
        out.append(
            MapLayer(
                "places",
                "Ward names",
                "Map",
                "labels",
                True,
                "hs-labels",
                {
                    "title": "Names",
                    "entries": [{"symbol": "text", "colour": LABEL_COLOURS["ward"], "label": "Ward name"}],
                },
                {"rows": rows},
            )
        )
    return out


def _sites_layer(sites: gpd.GeoDataFrame | None, rc: RenderConfig) -> MapLayer | None:
    """Proposed camera sites by rank only (no street, no figures)."""
    if sites is None or not len(sites):
        return None
    ranks = [int(r) for r in sites["rank"]]
    pts = gpd.GeoDataFrame({"rank": ranks}, geometry=sites.geometry.to_numpy(), crs=sites.crs)
    fs = FeatureSet.build(pts, {"t": [f"Proposed camera site {r}" for r in ranks], "r": ranks}, 0.0, rc.coord_decimals)
    s = LAYER_STYLES["proposed_sites"]
    return MapLayer(
        "sites",
        "Proposed camera sites",
        "Proposals",
        "vector",
        True,
        "hs-points",
        {"title": "Proposed camera sites", "entries": [entry(s, "Proposed new camera (number = priority)")]},
        {"style": style_data(s)},
        features=fs,
    )


def public_map(
    cells: gpd.GeoDataFrame,
    counts: Sequence[int] | np.ndarray,
    boundary: BaseGeometry,
    text: PublicMapText,
    rc: RenderConfig,
    wards: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    kind: str = "public",
) -> MapPage:
    """A public map page: ``cells`` (square polygons in a metric CRS) with their already-suppressed ``counts``,
    ward outlines and names, and (consultation) proposed camera sites by rank."""
    crs = cells.crs
    counts = np.asarray(counts, dtype=int)
    layers = [
        _cells_layer(cells, counts, "Recorded crime per square", rc),
        _sites_layer(sites, rc),
        *_outline_layers(wards, boundary, crs, rc),
    ]
    present = [layer for layer in layers if layer is not None]
    search: list[list[Any]] = []
    if wards is not None and len(wards):
        ll = wards.to_crs("EPSG:4326")
        for n, g in zip(ll["ward_name"], ll.geometry, strict=True):
            b = shapely.bounds(g)
            search.append([str(n), round(b[1], 5), round(b[0], 5), round(b[3], 5), round(b[2], 5), ""])
        search.sort(key=lambda r: str(r[0]).lower())
    data = {
        "kind": kind,
        "view": bounds_lonlat(boundary, crs),
        "basemap": None,
        "search": search,
        "list": None,
        "about": list(text.about),
        "notes": [],
        "credits": text.credits,
        "respond": {"text": text.respond_text, "url": text.respond_url}
        if (text.respond_text or text.respond_url)
        else None,
    }
    return MapPage(text.title, text.subtitle, data, layers=tuple(present), search_hint="Find a ward")
