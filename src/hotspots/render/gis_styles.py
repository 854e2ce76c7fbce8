"""QGIS styles of the layers of ``layers.gpkg``, stored in the GeoPackage so every layer opens styled.

A :class:`GisStyle` describes one layer's drawing (one symbol, categories of a text or class column, or
graduated classes of a numeric column; an optional label field) in the web map's colours
(:mod:`.palette`). It is written as QGIS QML (what QGIS loads) and as OGC SLD 1.1 (what other GIS
read) into the ``layer_styles`` table that QGIS itself uses: one row per layer, ``useAsDefault`` = 1,
so QGIS applies it when the layer is added (or on "Load default style").
:func:`layer_style` chooses the style of a layer by its name; :func:`write_styles` writes the table.

Widths and marker sizes are in millimetres on the map (QGIS's default unit); a web-map weight in
pixels is drawn at :data:`MM_PER_PX` mm per pixel.
"""

from __future__ import annotations

import contextlib
import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb

from .palette import (
    EMERGING_COLOURS,
    EMERGING_OTHER,
    GI_COLOURS,
    LAYER_STYLES,
    STATUS_COLOURS,
    TRAJECTORY_COLOURS,
    LayerStyle,
)

#: Millimetres drawn per web-map pixel (96 dpi).
MM_PER_PX = 0.26

#: Gi* class code -> name (the ``value`` column of the ``gistar_*`` layers).
GI_LABELS = {
    3: "hot spot, 99% confidence",
    2: "hot spot, 95% confidence",
    1: "hot spot, 90% confidence",
    -1: "cold spot, 90% confidence",
    -2: "cold spot, 95% confidence",
    -3: "cold spot, 99% confidence",
}

#: Style of a layer with no entry of its own (drawn, never invisible).
FALLBACK = LayerStyle("#4d4d4d", fill="#bdbdbd", fill_opacity=0.3, weight=1.0)


@dataclass(frozen=True)
class Symbol:
    """How one class is drawn: outline (or line, or marker edge) ``colour``, ``fill`` (``""`` = none) with
    ``fill_opacity`` 0..1, line ``width_mm``, ``dashed`` outline, marker ``size_mm`` (points)."""

    colour: str
    fill: str = ""
    fill_opacity: float = 0.0
    width_mm: float = 0.4
    dashed: bool = False
    size_mm: float = 3.0

    @classmethod
    def of(cls, style: LayerStyle, fill: str | None = None) -> Symbol:
        """The symbol of a palette :class:`~.palette.LayerStyle` (``fill`` overrides its fill colour)."""
        return cls(
            colour=style.colour,
            fill=style.fill if fill is None else fill,
            fill_opacity=style.fill_opacity,
            width_mm=round(style.weight * MM_PER_PX, 3),
            dashed=bool(style.dash),
        )


@dataclass(frozen=True)
class StyleClass:
    """One category (``value``) or graduated range (``lower`` .. ``upper``) with its name and symbol."""

    label: str
    symbol: Symbol
    value: str | None = None
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class GisStyle:
    """A layer's style: ``kind`` is ``single``, ``categorised`` (by ``attribute``, one class per value) or
    ``graduated`` (by numeric ``attribute``, ranges); ``geometry`` is ``polygon``, ``line`` or ``point``;
    ``label_field`` names the column drawn as a label ("" = none)."""

    kind: str
    geometry: str
    classes: tuple[StyleClass, ...]
    attribute: str = ""
    label_field: str = ""
    description: str = ""

    def qml(self) -> str:
        """The style as QGIS QML (renderer and labels)."""
        root = ET.Element(
            "qgis",
            {
                "version": "3.22.0",
                "styleCategories": "Symbology|Labeling",
                "labelsEnabled": "1" if self.label_field else "0",
            },
        )
        rtype = {"single": "singleSymbol", "categorised": "categorizedSymbol", "graduated": "graduatedSymbol"}[
            self.kind
        ]
        r = ET.SubElement(
            root, "renderer-v2", {"type": rtype, "forceraster": "0", "symbollevels": "0", "enableorderby": "0"}
        )
        if self.kind == "categorised":
            r.set("attr", self.attribute)
            cats = ET.SubElement(r, "categories")
            for i, c in enumerate(self.classes):
                ET.SubElement(
                    cats, "category", {"render": "true", "symbol": str(i), "value": str(c.value), "label": c.label}
                )
        elif self.kind == "graduated":
            r.set("attr", self.attribute)
            r.set("graduatedMethod", "GraduatedColor")
            ranges = ET.SubElement(r, "ranges")
            for i, c in enumerate(self.classes):
                ET.SubElement(
                    ranges,
                    "range",
                    {
                        "render": "true",
                        "symbol": str(i),
                        "lower": f"{c.lower:.6f}",
                        "upper": f"{c.upper:.6f}",
                        "label": c.label,
                    },
                )
        symbols = ET.SubElement(r, "symbols")
        for i, c in enumerate(self.classes):
            symbols.append(_qml_symbol(str(i), self.geometry, c.symbol))
        if self.label_field:
            root.append(_qml_labels(self.label_field, self.geometry))
        ET.indent(root)
        return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")

    def sld(self, layer: str) -> str:
        """The style as OGC SLD 1.1 (Symbology Encoding): one rule per class, a text rule for the labels."""
        sld_ns, se, ogc = "http://www.opengis.net/sld", "http://www.opengis.net/se", "http://www.opengis.net/ogc"
        ET.register_namespace("sld", sld_ns)
        ET.register_namespace("se", se)
        ET.register_namespace("ogc", ogc)
        root = ET.Element(f"{{{sld_ns}}}StyledLayerDescriptor", {"version": "1.1.0"})
        nl = ET.SubElement(root, f"{{{sld_ns}}}NamedLayer")
        ET.SubElement(nl, f"{{{se}}}Name").text = layer
        us = ET.SubElement(nl, f"{{{sld_ns}}}UserStyle")
        ET.SubElement(us, f"{{{se}}}Name").text = layer
        fts = ET.SubElement(us, f"{{{se}}}FeatureTypeStyle")
        for c in self.classes:
            rule = ET.SubElement(fts, f"{{{se}}}Rule")
            ET.SubElement(rule, f"{{{se}}}Name").text = c.label
            ET.SubElement(ET.SubElement(rule, f"{{{se}}}Description"), f"{{{se}}}Title").text = c.label
            if self.kind == "categorised":
                flt = ET.SubElement(rule, f"{{{ogc}}}Filter")
                eq = ET.SubElement(flt, f"{{{ogc}}}PropertyIsEqualTo")
                ET.SubElement(eq, f"{{{ogc}}}PropertyName").text = self.attribute
                ET.SubElement(eq, f"{{{ogc}}}Literal").text = str(c.value)
            elif self.kind == "graduated":
                flt = ET.SubElement(rule, f"{{{ogc}}}Filter")
                both = ET.SubElement(flt, f"{{{ogc}}}And")
                for op, v in (("PropertyIsGreaterThanOrEqualTo", c.lower), ("PropertyIsLessThanOrEqualTo", c.upper)):
                    cmp_ = ET.SubElement(both, f"{{{ogc}}}{op}")
                    ET.SubElement(cmp_, f"{{{ogc}}}PropertyName").text = self.attribute
                    ET.SubElement(cmp_, f"{{{ogc}}}Literal").text = f"{v:.6f}"
            rule.append(_sld_symbolizer(se, self.geometry, c.symbol))
        if self.label_field:
            rule = ET.SubElement(fts, f"{{{se}}}Rule")
            ts = ET.SubElement(rule, f"{{{se}}}TextSymbolizer")
            lab = ET.SubElement(ts, f"{{{se}}}Label")
            ET.SubElement(lab, f"{{{ogc}}}PropertyName").text = self.label_field
            halo = ET.SubElement(ts, f"{{{se}}}Halo")
            ET.SubElement(halo, f"{{{se}}}Radius").text = "2"
            fill = ET.SubElement(halo, f"{{{se}}}Fill")
            ET.SubElement(fill, f"{{{se}}}SvgParameter", {"name": "fill"}).text = "#ffffff"
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _rgba(colour: str, opacity: float = 1.0) -> str:
    r, g, b = (round(v * 255) for v in to_rgb(colour))
    return f"{r},{g},{b},{round(opacity * 255)}"


def _option_map(parent: ET.Element, props: dict[str, str]) -> None:
    m = ET.SubElement(parent, "Option", {"type": "Map"})
    for k, v in props.items():
        ET.SubElement(m, "Option", {"type": "QString", "name": k, "value": v})


def _qml_symbol(name: str, geometry: str, s: Symbol) -> ET.Element:
    kind = {"polygon": "fill", "line": "line", "point": "marker"}[geometry]
    sym = ET.Element("symbol", {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"})
    outline_style = "no" if s.width_mm <= 0 else "dash" if s.dashed else "solid"
    if geometry == "polygon":
        layer = ET.SubElement(sym, "layer", {"class": "SimpleFill", "enabled": "1", "pass": "0", "locked": "0"})
        props = {
            "color": _rgba(s.fill or "#ffffff", s.fill_opacity if s.fill else 0.0),
            "style": "solid" if s.fill and s.fill_opacity > 0 else "no",
            "outline_color": _rgba(s.colour),
            "outline_style": outline_style,
            "outline_width": f"{max(s.width_mm, 0.0):g}",
            "outline_width_unit": "MM",
            "joinstyle": "round",
        }
    elif geometry == "line":
        layer = ET.SubElement(sym, "layer", {"class": "SimpleLine", "enabled": "1", "pass": "0", "locked": "0"})
        props = {
            "line_color": _rgba(s.colour),
            "line_style": "dash" if s.dashed else "solid",
            "line_width": f"{max(s.width_mm, 0.1):g}",
            "line_width_unit": "MM",
        }
    else:
        layer = ET.SubElement(sym, "layer", {"class": "SimpleMarker", "enabled": "1", "pass": "0", "locked": "0"})
        props = {
            "name": "circle",
            "color": _rgba(s.fill or s.colour, s.fill_opacity if s.fill else 1.0),
            "outline_color": _rgba(s.colour),
            "outline_style": "solid",
            "outline_width": f"{max(s.width_mm, 0.1):g}",
            "outline_width_unit": "MM",
            "size": f"{s.size_mm:g}",
            "size_unit": "MM",
        }
    _option_map(layer, props)
    return sym


def _qml_labels(field_name: str, geometry: str) -> ET.Element:
    lab = ET.Element("labeling", {"type": "simple"})
    st = ET.SubElement(lab, "settings", {"calloutType": "simple"})
    ts = ET.SubElement(
        st,
        "text-style",
        {
            "fieldName": field_name,
            "isExpression": "0",
            "fontFamily": "Sans Serif",
            "fontSize": "10",
            "fontSizeUnit": "Point",
            "fontWeight": "75",
            "textColor": "17,17,17,255",
            "textOpacity": "1",
        },
    )
    ET.SubElement(
        ts,
        "text-buffer",
        {"bufferDraw": "1", "bufferSize": "1", "bufferSizeUnits": "MM", "bufferColor": "255,255,255,255"},
    )
    # polygons: over the centroid (1 = OverPoint); points: around the point (0)
    ET.SubElement(st, "placement", {"placement": "1" if geometry == "polygon" else "0", "centroidWhole": "1"})
    ET.SubElement(st, "rendering", {"obstacle": "1", "displayAll": "1"})
    return lab


def _sld_symbolizer(se: str, geometry: str, s: Symbol) -> ET.Element:
    def param(parent: ET.Element, name: str, value: str) -> None:
        ET.SubElement(parent, f"{{{se}}}SvgParameter", {"name": name}).text = value

    def stroke(parent: ET.Element) -> None:
        st = ET.SubElement(parent, f"{{{se}}}Stroke")
        param(st, "stroke", s.colour)
        param(st, "stroke-width", f"{max(s.width_mm, 0.0) / MM_PER_PX:g}")
        if s.dashed:
            param(st, "stroke-dasharray", "4 3")

    if geometry == "point":
        sym = ET.Element(f"{{{se}}}PointSymbolizer")
        mark = ET.SubElement(ET.SubElement(sym, f"{{{se}}}Graphic"), f"{{{se}}}Mark")
        ET.SubElement(mark, f"{{{se}}}WellKnownName").text = "circle"
        fill = ET.SubElement(mark, f"{{{se}}}Fill")
        param(fill, "fill", s.fill or s.colour)
        stroke(mark)
        ET.SubElement(sym[0], f"{{{se}}}Size").text = f"{s.size_mm / MM_PER_PX:g}"
        return sym
    if geometry == "line":
        sym = ET.Element(f"{{{se}}}LineSymbolizer")
        stroke(sym)
        return sym
    sym = ET.Element(f"{{{se}}}PolygonSymbolizer")
    if s.fill and s.fill_opacity > 0:
        fill = ET.SubElement(sym, f"{{{se}}}Fill")
        param(fill, "fill", s.fill)
        param(fill, "fill-opacity", f"{s.fill_opacity:g}")
    if s.width_mm > 0:
        stroke(sym)
    return sym


# --------------------------------------------------------------------------- the styles of the pack's layers
def geometry_kind(geometry_type: str) -> str:
    """``polygon``, ``line`` or ``point`` for an OGR geometry type name (``MultiPolygon`` -> ``polygon``)."""
    t = geometry_type.lower()
    return "polygon" if "polygon" in t else "line" if "line" in t else "point"


def _tint(colour: str, share_white: float) -> str:
    rgb = np.asarray(to_rgb(colour))
    mixed = rgb + (1.0 - rgb) * share_white
    return "#" + "".join(f"{round(v * 255):02x}" for v in mixed)


def _categorised(
    geometry: str, attribute: str, colours: dict[str, str], labels: dict[str, str], base: LayerStyle
) -> GisStyle:
    classes = tuple(
        StyleClass(label=labels.get(v, v), value=v, symbol=Symbol.of(base, fill=c)) for v, c in colours.items()
    )
    return GisStyle("categorised", geometry, classes, attribute=attribute)


def _graduated(geometry: str, attribute: str, values: pd.Series, base: LayerStyle, n: int = 4) -> GisStyle:
    """Quantile classes (``n`` at most) of ``values`` in tints of the layer's colour (lightest = lowest);
    one symbol when the column has fewer than two distinct values."""
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n + 1))) if v.size else np.array([])
    if edges.size < 2:
        return GisStyle("single", geometry, (StyleClass(label=attribute, symbol=Symbol.of(base)),))
    k = edges.size - 1
    classes = []
    for i in range(k):
        colour = _tint(base.fill or base.colour, 0.75 * (k - 1 - i) / max(k - 1, 1))
        lo, hi = float(edges[i]), float(edges[i + 1])
        sym = Symbol.of(base, fill=colour)
        sym = Symbol(sym.colour, sym.fill, max(sym.fill_opacity, 0.6), sym.width_mm, sym.dashed, sym.size_mm)
        classes.append(StyleClass(label=f"{lo:,.3g} to {hi:,.3g}", symbol=sym, lower=lo, upper=hi))
    return GisStyle("graduated", geometry, tuple(classes), attribute=attribute)


def _with_labels(style: GisStyle, label_field: str) -> GisStyle:
    return GisStyle(style.kind, style.geometry, style.classes, style.attribute, label_field, style.description)


def layer_style(name: str, frame: gpd.GeoDataFrame, geometry_type: str) -> GisStyle:
    """The style of the ``layers.gpkg`` layer ``name`` (its frame, its declared geometry type):

    ``tasking_items`` categorised by status, labelled with the rank; ``wards`` graduated by harm (when the
    ward table is joined), labelled with the ward name; ``gistar_*`` categorised by Gi* class;
    ``emerging_hotspots`` by trend class; ``place_trajectories`` by trajectory class; ``coverage_gaps``
    graduated by uncovered harm; ``hotspot_robustness`` graduated by robustness; other layers one symbol
    in their palette colour.
    """
    geom = geometry_kind(geometry_type)
    cols = set(frame.columns)
    if name == "tasking_items":
        base = LayerStyle("#1f78b4", fill="#1f78b4", fill_opacity=0.2, weight=3.0)
        st = _categorised(geom, "status", STATUS_COLOURS, {}, base)
        classes = tuple(
            StyleClass(c.label, Symbol(c.symbol.fill, c.symbol.fill, 0.2, c.symbol.width_mm), value=c.value)
            for c in st.classes
        )
        return GisStyle("categorised", geom, classes, attribute="status", label_field="rank")
    if name.startswith("gistar_"):
        base = LayerStyle("#b2182b", fill="#b2182b", fill_opacity=0.55, weight=0.0)
        return _categorised(
            geom, "value", {str(k): c for k, c in GI_COLOURS.items()}, {str(k): v for k, v in GI_LABELS.items()}, base
        )
    if name == "emerging_hotspots":
        base = LayerStyle("#999999", fill="#999999", fill_opacity=0.6, weight=0.0)
        present = [str(v) for v in frame["label"]] if "label" in cols else []
        colours = {lab: EMERGING_COLOURS.get(lab, EMERGING_OTHER) for lab in dict.fromkeys(present)}
        return _categorised(geom, "label", colours or dict(EMERGING_COLOURS), {}, base)
    if name == "place_trajectories":
        base = LayerStyle("#ffffff", fill="#999999", fill_opacity=0.7, weight=0.0)
        return _categorised(geom, "trajectory", dict(TRAJECTORY_COLOURS), {}, base)
    if name == "wards":
        base = LayerStyle("#555555", fill="#fd8d3c", fill_opacity=0.5, weight=1.2)
        if "harm" in cols and len(frame):
            return _with_labels(_graduated(geom, "harm", frame["harm"], base), "ward_name")
        return _with_labels(
            GisStyle("single", geom, (StyleClass("ward", Symbol.of(LAYER_STYLES["wards"])),)), "ward_name"
        )
    if name == "coverage_gaps" and "harm_uncovered" in cols and len(frame):
        return _graduated(geom, "harm_uncovered", frame["harm_uncovered"], LAYER_STYLES["coverage_gaps"])
    if name == "hotspot_robustness" and "robustness" in cols and len(frame):
        base = LayerStyle("#d95f02", fill="#d95f02", fill_opacity=0.6, weight=1.0)
        return _graduated(geom, "robustness", frame["robustness"], base)
    style = LAYER_STYLES.get(name, FALLBACK)
    return GisStyle("single", geom, (StyleClass(name.replace("_", " "), Symbol.of(style)),))


def paletted_raster_qml(classes: dict[int, tuple[str, tuple[int, int, int, int]]]) -> str:
    """QGIS QML of a class raster: one palette entry per code (``code -> (name, RGBA 0..255)``), so QGIS
    lists only the real classes by name (a GeoTIFF colour table always has 256 entries)."""
    root = ET.Element("qgis", {"version": "3.22.0", "styleCategories": "Symbology"})
    pipe = ET.SubElement(root, "pipe")
    rr = ET.SubElement(
        pipe, "rasterrenderer", {"type": "paletted", "band": "1", "opacity": "1", "alphaBand": "-1", "nodataColor": ""}
    )
    ET.SubElement(rr, "rasterTransparency")
    pal = ET.SubElement(rr, "colorPalette")
    for code, (name, (r, g, b, a)) in sorted(classes.items()):
        ET.SubElement(
            pal,
            "paletteEntry",
            {"value": str(code), "color": f"#{r:02x}{g:02x}{b:02x}", "alpha": str(a), "label": name},
        )
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"


def write_styles(path: Path, styles: dict[str, GisStyle], stamp: str) -> None:
    """Store ``styles`` (layer name -> style) in the GeoPackage ``path`` as QGIS's ``layer_styles`` table
    (created and registered as an attribute table when missing; one default row per layer, replacing an
    earlier one); ``update_time`` is ``stamp`` (ISO 8601, UTC)."""
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute("PRAGMA synchronous = OFF")  # the pack's folder is flushed whole before it is published
        con.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
            "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
            "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)"
        )
        con.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles', ?)",
            (stamp,),
        )
        geom_cols = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        for layer, style in styles.items():
            con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer,))
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', NULL, ?)",
                (
                    layer,
                    geom_cols.get(layer, "geom"),
                    layer,
                    style.qml(),
                    style.sld(layer),
                    style.description or f"hotspots style of {layer}",
                    stamp,
                ),
            )
        con.commit()
