"""Map features prepared once per run and cut per ward: geometry in EPSG:4326, properties as plain data.

A :class:`FeatureSet` converts a layer from the working CRS (metres) to
longitude/latitude once, simplified by ``simplify_m`` metres and rounded to
``decimals`` places (5 = about 1 m), and builds each GeoJSON feature once;
each ward map then takes the features near its ward (:meth:`FeatureSet.clip`)
instead of converting the layer again. Properties are JSON values (text,
numbers, lists); the page shows them as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"


def plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars as Python numbers, NaN/None/NaT as ``""``."""
    if value is None:
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return ""
    if isinstance(value, (str, int, float, bool, list, dict)):
        return value
    try:
        if value != value:  # NaT, pd.NA
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _round(geoms: np.ndarray, decimals: int) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def to_lonlat(geoms: Sequence[BaseGeometry] | np.ndarray, crs: Any, simplify_m: float, decimals: int) -> np.ndarray:
    """Geometries in ``crs`` (metres) -> EPSG:4326, simplified by ``simplify_m`` metres first and rounded."""
    g = np.asarray(geoms, dtype=object)
    if not len(g):
        return g
    if simplify_m > 0:
        g = shapely.simplify(g, simplify_m, preserve_topology=True)
    ll = np.asarray(gpd.GeoSeries(g, crs=crs).to_crs(WGS84).values, dtype=object)
    return _round(ll, decimals)


def bounds_lonlat(geom: BaseGeometry, crs: Any) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of a geometry in ``crs`` (Leaflet's bounds order)."""
    b = gpd.GeoSeries([geom], crs=crs).to_crs(WGS84).total_bounds
    return [[round(float(b[1]), 5), round(float(b[0]), 5)], [round(float(b[3]), 5), round(float(b[2]), 5)]]


#: Characters written as JSON escapes in page data (then no data string can end a script or open markup).
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


def safe_json(value: Any) -> str:
    """``value`` as compact JSON safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and U+2028/U+2029 are
    written as ``\\uXXXX`` escapes; NaN is refused; the same value always gives the same text."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text)


def _features(props: Sequence[dict[str, Any]], geoms: np.ndarray) -> list[str]:
    """GeoJSON features as JSON text (GEOS writes the geometries: numbers only, and fast)."""
    if not len(geoms):
        return []
    return [
        '{"type":"Feature","properties":' + safe_json(p) + ',"geometry":' + g + "}"
        for p, g in zip(props, shapely.to_geojson(geoms), strict=True)
    ]


@dataclass(frozen=True, eq=False)
class FeatureSet:
    """Features of one layer in EPSG:4326: ``geoms`` (shapely, rounded), one property dict per feature and
    each GeoJSON feature as JSON text (``features``, safe inside a page: see :func:`safe_json`)."""

    geoms: np.ndarray
    props: tuple[dict[str, Any], ...]
    features: tuple[str, ...]
    decimals: int

    @classmethod
    def build(
        cls,
        frame: gpd.GeoDataFrame,
        props: dict[str, Sequence[Any]],
        simplify_m: float = 0.0,
        decimals: int = 5,
    ) -> FeatureSet:
        """From a GeoDataFrame with a CRS (metres) and ``props`` (name -> values aligned with its rows)."""
        if frame.crs is None:
            raise ValueError("a map layer needs a CRS")
        ll = to_lonlat(frame.geometry.to_numpy(), frame.crs, simplify_m, decimals)
        cols = {k: list(v) for k, v in props.items()}
        for k, v in cols.items():
            if len(v) != len(ll):
                raise ValueError(f"property {k!r} has {len(v)} values for {len(ll)} features")
        keep = [i for i, g in enumerate(ll) if g is not None and not g.is_empty]
        rows = tuple({k: plain(v[i]) for k, v in cols.items()} for i in keep)
        geoms = ll[keep] if len(ll) else ll
        return cls(geoms, rows, tuple(_features(rows, geoms)), decimals)

    def __len__(self) -> int:
        return len(self.geoms)

    def take(self, index: Sequence[int]) -> FeatureSet:
        """The features at ``index`` (in that order)."""
        idx = [int(i) for i in index]
        return FeatureSet(
            self.geoms[idx], tuple(self.props[i] for i in idx), tuple(self.features[i] for i in idx), self.decimals
        )

    def clip(self, area: BaseGeometry | None, cut: bool = True) -> FeatureSet:
        """The features that touch ``area`` (EPSG:4326); ``cut=True`` cuts them to the area's bounding box
        (quick, and enough for a map of the area); ``None`` = all of them."""
        if area is None or not len(self):
            return self
        sub = self.take(np.flatnonzero(shapely.intersects(self.geoms, area)).tolist())
        if not cut or not len(sub):
            return sub
        box = shapely.box(*area.bounds)
        inside = shapely.within(sub.geoms, box)
        if inside.all():
            return sub
        geoms = sub.geoms.copy()
        out = np.flatnonzero(~inside)
        geoms[out] = _round(shapely.clip_by_rect(sub.geoms[out], *area.bounds), self.decimals)
        new = dict(zip(out.tolist(), _features([sub.props[i] for i in out], geoms[out]), strict=True))
        keep = [i for i in range(len(geoms)) if not geoms[i].is_empty]
        feats = [new.get(i, sub.features[i]) for i in keep]
        return FeatureSet(geoms[keep], tuple(sub.props[i] for i in keep), tuple(feats), self.decimals)

    def collection_json(self) -> str:
        """The features as a GeoJSON FeatureCollection (JSON text, safe inside a page)."""
        return '{"type":"FeatureCollection","features":[' + ",".join(self.features) + "]}"
