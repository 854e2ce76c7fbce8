"""Folium maps of a run: the borough map and one map per ward, working offline.

Geometry is in the working CRS (EPSG:27700 by default) inside the engine and
converted to EPSG:4326 here, at the edge (simplified by ``[render] simplify_m`` metres, coordinates rounded to
``coord_decimals``). Each vector layer is one GeoJSON; every string from input
data is HTML-escaped in Python before it reaches the page, and popups are bound
from those escaped strings. Leaflet and its plug-ins are inlined (see
:mod:`.offline`); with ``[render] basemap = "none"`` the page requests nothing
outside itself, and ward boundaries and roads stand in for the basemap.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from folium.utilities import JsCode
from jinja2 import Template
from shapely.geometry.base import BaseGeometry

from ..config.sections import RenderConfig
from ..stages.results import RunResults
from .layers import GI_COLOURS, GI_LABELS, Overlay, harm_density, kde_overlay, top_crime_types, vector_layers
from .offline import external_urls, head_html, strip_cdn

WGS84 = "EPSG:4326"

EMERGING_COLOURS = {
    "new hot spot": "#fb6a4a",
    "consecutive hot spot": "#ef3b2c",
    "intensifying hot spot": "#a50f15",
    "persistent hot spot": "#cb181d",
    "diminishing hot spot": "#fcae91",
    "sporadic hot spot": "#fdd0a2",
    "oscillating hot spot": "#fd8d3c",
    "historical hot spot": "#969696",
    "persistent": "#cb181d",
    "emerging": "#fb6a4a",
    "former": "#969696",
    "intermittent": "#fdd0a2",
}
STATUS_COLOURS = {"new": "#6a3d9a", "continuing": "#1f78b4", "escalated": "#e31a1c"}


def esc(value: object) -> str:
    """HTML-escape any value for a popup or tooltip."""
    return html.escape("" if value is None else str(value), quote=True)


# --------------------------------------------------------------------------- geojson helpers
def to_geojson(
    gdf: gpd.GeoDataFrame,
    props: dict[str, Sequence[Any]],
    simplify_m: float,
    decimals: int,
    clip: BaseGeometry | None = None,
) -> dict[str, Any]:
    """A FeatureCollection in EPSG:4326 with only the given (already escaped) properties.

    ``props`` maps property name -> list of values aligned with ``gdf`` rows;
    ``gdf`` must carry its CRS.
    """
    geoms = np.asarray(gdf.geometry.values)
    keep = np.ones(len(geoms), bool)
    if clip is not None and len(geoms):
        keep = shapely.intersects(geoms, clip)
        geoms = shapely.intersection(geoms[keep], clip)
    if simplify_m > 0 and len(geoms):
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    g = gpd.GeoSeries(geoms, crs=gdf.crs).to_crs(WGS84)
    g = shapely.set_precision(np.asarray(g.values), 10**-decimals)
    idx = np.nonzero(keep)[0]
    feats = []
    for k, (i, geom) in enumerate(zip(idx, g)):
        if geom is None or geom.is_empty:
            continue
        feats.append(
            {
                "type": "Feature",
                "id": f"f{k}",
                "properties": {p: (v[i].item() if isinstance(v[i], np.generic) else v[i]) for p, v in props.items()},
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _table(rows: Sequence[tuple[str, object]]) -> str:
    return (
        "<table class='hs-pop'>"
        + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows if v not in (None, ""))
        + "</table>"
    )


_BIND = (
    "function(f, l){ var p = f.properties; if (p.popup) l.bindPopup(p.popup, {maxWidth: 340});"
    " if (p.tip) l.bindTooltip(p.tip, {sticky: true}); }"
)


def _geojson_layer(
    fc: dict[str, Any],
    name: str,
    colour_prop: str | None = None,
    colour: str = "#333",
    fill: bool = True,
    weight: float = 1.5,
    fill_opacity: float = 0.35,
    show: bool = True,
    dash: str | None = None,
    point_radius: float | None = None,
) -> folium.FeatureGroup:
    """One GeoJSON layer (already escaped properties ``popup``/``tip``) in its own toggleable group."""

    def style(f, c=colour):
        col = f["properties"].get(colour_prop, c) if colour_prop else c
        s = {
            "color": col,
            "weight": weight,
            "fillColor": col,
            "fillOpacity": fill_opacity if fill else 0.0,
            "fill": fill,
        }
        if dash:
            s["dashArray"] = dash
        return s

    kw = {}
    if point_radius:
        kw["marker"] = folium.CircleMarker(radius=point_radius, fill=True, fill_opacity=0.9)
    fg = folium.FeatureGroup(name=name, show=show)
    folium.GeoJson(
        fc, style_function=style, on_each_feature=JsCode(_BIND), embed=True, control=False, smooth_factor=0.5, **kw
    ).add_to(fg)
    return fg


# --------------------------------------------------------------------------- map pieces
#: The analysis stages a map shows, in the legend's order of "not on this map".
MAP_STAGES = ("surfaces", "trends", "nearrepeat", "coverage", "forecast")

#: A legend: (section title, [(colour, label), ...]) per section.
Legend = list[tuple[str, list[tuple[str, str]]]]


@dataclass
class MapPieces:
    """Everything a map needs, prepared once per run (layers in the working CRS + raster overlays)."""

    layers: dict[str, gpd.GeoDataFrame]
    overlays: list[Overlay]
    gi_types: list[str]
    rcfg: RenderConfig
    not_run: dict[str, str] = field(default_factory=dict)
    search_index: list[dict[str, Any]] | None = None


def _overlays(res: RunResults, rcfg: RenderConfig) -> tuple[list[Overlay], list[str]]:
    """The density, forecast and near-repeat raster overlays, and the crime types with their own layers."""
    overlays: list[Overlay | None] = []
    gi_types: list[str] = []
    surf = res.surfaces
    if surf is not None:
        hd = harm_density(res)
        if hd is not None:
            overlays.append(kde_overlay(res.grid, hd[0], "Density: all crime types (harm)", hd[1]))
        gi_types = [t for t in top_crime_types(res, rcfg.density_types) if t in surf.kde]
        for t in gi_types:
            overlays.append(kde_overlay(res.grid, surf.kde[t].surface, f"Density: {t}", surf.kde[t].units))
    fc = res.forecast
    if fc is not None:
        overlays.append(
            kde_overlay(
                res.grid,
                fc.expected,
                f"Forecast: expected incidents ({fc.method})",
                "expected incidents per cell over the horizon",
                cmap="PuRd",
            )
        )
    nr = res.nearrepeat
    if nr is not None and nr.surface.shape == res.grid.shape:
        overlays.append(
            kde_overlay(res.grid, nr.surface, "Near-repeat prospective risk", "relative risk", cmap="Purples")
        )
    return [o for o in overlays if o is not None], gi_types


def prepare(res: RunResults, layers: dict[str, gpd.GeoDataFrame] | None = None) -> MapPieces:
    """The pieces every map of a run shares (``layers`` from :func:`vector_layers` when already built)."""
    rcfg = res.cfg.render
    overlays, gi_types = _overlays(res, rcfg)
    not_run = {s: res.not_run.get(s, "not run") for s in MAP_STAGES if not res.ran(s)}
    return MapPieces(
        layers=layers if layers is not None else vector_layers(res),
        overlays=overlays,
        gi_types=gi_types,
        rcfg=rcfg,
        not_run=not_run,
    )


class HsElement(MacroElement):
    """Raw HTML (legend) and a script run with the map (search, full screen)."""

    _template = Template("""
{% macro header(this, kwargs) %}{% endmacro %}
{% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}
{% macro script(this, kwargs) %}{{ this.js.replace('__MAP__', this._parent.get_name()) }}{% endmacro %}
""")

    def __init__(self, body: str = "", js: str = ""):
        super().__init__()
        self._name = "HsElement"
        self.body = body
        self.js = js


_CSS = """
<style>
html, body {background:#f4f4f1;}
.leaflet-container {background:#f4f4f1; font: 13px/1.4 system-ui, sans-serif;}
.leaflet-control-layers {font-size:12px; line-height:1.25}
.hs-legend {position:absolute; z-index:1000; right:10px; bottom:24px; background:#fff; padding:6px 9px;
  border-radius:4px; box-shadow:0 1px 4px rgba(0,0,0,.35); max-height:38vh; overflow:auto; font-size:12px; max-width:280px}
.hs-legend summary {cursor:pointer; font-weight:600}
.hs-legend h4 {margin:4px 0 2px; font-size:12px}
.hs-legend i {display:inline-block; width:12px; height:12px; margin-right:5px; vertical-align:middle; border:1px solid #777}
.hs-legend .nr {color:#777; font-style:italic}
.hs-title {position:absolute; z-index:1000; left:270px; top:10px; background:#fff; padding:4px 10px; border-radius:4px;
  box-shadow:0 1px 4px rgba(0,0,0,.35); font-weight:600; max-width:50vw}
.hs-items {position:absolute; z-index:1000; left:10px; bottom:60px; background:#fff; padding:5px 9px;
  border-radius:4px; box-shadow:0 1px 4px rgba(0,0,0,.35); max-width:60vw; max-height:40vh; overflow:auto; font-size:12px}
.hs-items summary {cursor:pointer; font-weight:600}
.hs-search input {width:190px; padding:4px; border:0; font-size:13px}
.hs-search input.hs-miss {background:#fdd}
table.hs-pop th {text-align:left; padding-right:6px; vertical-align:top; color:#444}
table.hs-pop {font-size:12px; border-collapse:collapse}
</style>
"""


def _legend_html(sections: Legend, not_run: dict[str, str]) -> str:
    parts = ["<div class='hs-legend' id='hs-legend'><details open><summary>Legend</summary>"]
    for title, entries in sections:
        parts.append(f"<h4>{esc(title)}</h4>")
        for colour, label in entries:
            parts.append(f"<div><i style='background:{esc(colour)}'></i>{esc(label)}</div>")
    if not_run:
        parts.append("<h4>Not on this map</h4>")
        for s, why in not_run.items():
            parts.append(f"<div class='nr'>{esc(s)}: {esc(why[:140])}</div>")
    parts.append("</details></div>")
    return "".join(parts)


def _search_js(index: list[dict[str, Any]]) -> str:
    data = json.dumps(index).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (
        """
(function(){ var map = __MAP__; var idx = %s;
 var C = L.Control.extend({options: {position: 'topleft'}, onAdd: function(){
   var d = L.DomUtil.create('div', 'hs-search leaflet-bar');
   var inp = document.createElement('input'); inp.type = 'search'; inp.id = 'hs-search';
   inp.setAttribute('list', 'hs-search-list'); inp.placeholder = 'Find a ward or tasking id';
   inp.setAttribute('aria-label', 'Find a ward or tasking id');
   var dl = document.createElement('datalist'); dl.id = 'hs-search-list';
   idx.forEach(function(e){ var o = document.createElement('option'); o.value = e.label; dl.appendChild(o); });
   d.appendChild(inp); d.appendChild(dl);
   L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
   function go(){ var q = inp.value.trim().toLowerCase(); if (!q) return;
     var hit = idx.find(function(e){ return e.label.toLowerCase() === q; }) ||
               idx.find(function(e){ return e.label.toLowerCase().indexOf(q) >= 0; });
     if (hit) { map.fitBounds(hit.b); inp.classList.remove('hs-miss'); } else { inp.classList.add('hs-miss'); } }
   inp.addEventListener('change', go);
   inp.addEventListener('keydown', function(ev){ if (ev.key === 'Enter') go(); });
   return d; }});
 new C().addTo(map);
 L.control.fullscreen({position: 'topleft', title: 'Full screen'}).addTo(map);
})();
"""
        % data
    )


def _ward_items_html(items: gpd.GeoDataFrame, ward_code: str) -> str:
    """A panel listing the tasking items a ward's SNT owns (escaped)."""
    own = items[items["ward_code"] == ward_code]
    rows = "".join(
        f"<tr><td>{esc(r.item_id)}</td><td>{esc(r.rank)}</td><td>{esc(r.status)}</td><td>{esc(r.location)}</td>"
        f"<td>{esc(r.main_crime_type)}</td><td>{esc(r.tactic)}; {esc(r.dosage)}</td><td>{esc(r.review_date)}</td></tr>"
        for r in own.itertuples(index=False)
    )
    body = (
        f"<table class='hs-pop'><tr><th>Id</th><th>Rank</th><th>Status</th><th>Where</th><th>Crime</th>"
        f"<th>Tactic</th><th>Review</th></tr>{rows}</table>"
        if len(own)
        else "<p>No tasking item is owned by this ward at this FIM.</p>"
    )
    return (
        f"<div class='hs-items' id='hs-items'><details><summary>Tasking items owned by this ward "
        f"({len(own)})</summary>{body}</details></div>"
    )


def search_index(res: RunResults, items: gpd.GeoDataFrame | None) -> list[dict[str, Any]]:
    """[{label, b: [[s, w], [n, e]]}] for every ward (by name and code) and tasking item id."""
    geoms, labels = [], []
    w = res.area.wards
    for n, c, g in zip(w["ward_name"], w["ward_code"], w.geometry):
        geoms += [g, g]
        labels += [str(n), str(c)]
    if items is not None and len(items):
        for i, g in zip(items["item_id"], items.geometry):
            geoms.append(g.buffer(150))
            labels.append(str(i))
    b = gpd.GeoSeries(geoms, crs=res.area.crs).to_crs(WGS84).bounds.to_numpy()
    return [
        {"label": lab, "b": [[round(r[1], 5), round(r[0], 5)], [round(r[3], 5), round(r[2], 5)]]}
        for lab, r in zip(labels, b)
    ]


def _bounds_ll(geom: BaseGeometry, crs: Any) -> list[list[float]]:
    b = gpd.GeoSeries([geom], crs=crs).to_crs(WGS84).total_bounds
    return [[round(b[1], 5), round(b[0], 5)], [round(b[3], 5), round(b[2], 5)]]


# --------------------------------------------------------------------------- one function per layer
@dataclass(frozen=True)
class _View:
    """What every layer of one map shares: the render settings, the clip area (ward maps) and the legend."""

    rc: RenderConfig
    clip: BaseGeometry | None
    legend: Legend


def _wards_layer(m: folium.Map, w: gpd.GeoDataFrame, ward_code: str | None, v: _View) -> None:
    """Ward boundaries (always), with the ward table in the popup; the focus ward drawn darker."""
    popups = []
    has_table = "incidents" in w.columns
    for r in w.itertuples(index=False):
        rows = [("Ward", f"{r.ward_name} ({r.ward_code})")]
        if has_table and r.incidents == r.incidents:
            rows += [
                ("Rank by harm", int(r.rank) if r.rank == r.rank else ""),
                ("Incidents in window", f"{int(r.incidents):,}"),
                ("Harm", f"{r.harm:,.0f}"),
                ("Most common", r.top_crime_type),
            ]
        popups.append(_table(rows))
    is_focus = (w["ward_code"] == ward_code).to_numpy() if ward_code else np.zeros(len(w), bool)
    fc = to_geojson(
        w,
        {"popup": popups, "tip": [esc(n) for n in w["ward_name"]], "c": ["#000" if f else "#555" for f in is_focus]},
        v.rc.simplify_m,
        v.rc.coord_decimals,
        clip=None if v.clip is None else v.clip.buffer(2000),
    )
    _geojson_layer(fc, "Ward boundaries", colour_prop="c", fill=True, fill_opacity=0.03, weight=1.2).add_to(m)


def _roads_layer(m: folium.Map, roads: gpd.GeoDataFrame | None, v: _View) -> None:
    """Roads as context (they stand in for the basemap)."""
    if roads is None or not len(roads):
        return
    nm = roads["name"] if "name" in roads.columns else [""] * len(roads)
    fc = to_geojson(
        roads,
        {"tip": [esc(n) if n == n else "" for n in nm]},
        max(v.rc.simplify_m, 10),
        v.rc.coord_decimals,
        clip=None if v.clip is None else v.clip.buffer(1000),
    )
    _geojson_layer(fc, "Roads", colour="#9a9a9a", fill=False, weight=1.5, show=True).add_to(m)


def _overlay_layers(m: folium.Map, overlays: list[Overlay], v: _View) -> None:
    """Raster overlays (density, forecast, near-repeat risk); the first is shown and gets the legend."""
    for i, o in enumerate(overlays):
        fg = folium.FeatureGroup(name=o.name, show=(i == 0))
        folium.raster_layers.ImageOverlay(
            o.uri, bounds=o.bounds, opacity=1.0, interactive=False, cross_origin=False, zindex=1
        ).add_to(fg)
        fg.add_to(m)
    if overlays:
        o = overlays[0]
        v.legend.append(
            (
                f"{o.name} ({o.units})",
                [(c, lab) for c, lab in zip(o.colours, ("low", "medium", "high", f"very high (>= {o.vmax:,.3g})"))],
            )
        )


def _gistar_layers(m: folium.Map, layers: dict[str, gpd.GeoDataFrame], gi_types: list[str], v: _View) -> None:
    """Gi* hot and cold cells of the crime types with most harm."""
    for t in gi_types:
        g = layers.get(f"gistar_{t}")
        if g is None or not len(g):
            continue
        fc = to_geojson(
            g,
            {
                "c": [GI_COLOURS[int(val)] for val in g["value"]],
                "tip": [esc(f"Gi* {t}: {lab} ({n} cells)") for lab, n in zip(g["label"], g["cells"])],
            },
            0,
            v.rc.coord_decimals,
            clip=v.clip,
        )
        _geojson_layer(
            fc, f"Gi* hot and cold spots: {t}", colour_prop="c", weight=0, fill_opacity=0.55, show=False
        ).add_to(m)
    if gi_types:
        v.legend.append(("Gi* cells (confidence)", [(GI_COLOURS[k], GI_LABELS[k]) for k in (3, 2, 1, -1, -2, -3)]))


def _emerging_layer(m: folium.Map, e: gpd.GeoDataFrame | None, v: _View) -> None:
    """Emerging-hotspot classes, one colour per class."""
    if e is None or not len(e):
        return
    fc = to_geojson(
        e,
        {
            "c": [EMERGING_COLOURS.get(lab, "#74add1") for lab in e["label"]],
            "tip": [esc(f"{lab}: {ex}") for lab, ex in zip(e["label"], e["explanation"])],
        },
        0,
        v.rc.coord_decimals,
        clip=v.clip,
    )
    _geojson_layer(
        fc, "Emerging hotspots (trend class)", colour_prop="c", weight=0, fill_opacity=0.6, show=False
    ).add_to(m)
    v.legend.append(("Emerging hotspots", [(EMERGING_COLOURS.get(lab, "#74add1"), lab) for lab in e["label"]]))


def _optional(frame: gpd.GeoDataFrame, column: str) -> list[Any]:
    """A column the table has only for some data (wards given, location text, minute-precision times), else blanks."""
    return frame[column].tolist() if column in frame.columns else [""] * len(frame)


def _hotspot_areas_layer(m: folium.Map, ha: gpd.GeoDataFrame | None, v: _View) -> None:
    """Hotspot areas of every crime type, with their figures in the popup."""
    if ha is None or not len(ha):
        return
    pops = []
    for r, wards, places, day, hour in zip(
        ha.itertuples(index=False),
        _optional(ha, "ward_names"),
        _optional(ha, "top_locations"),
        _optional(ha, "peak_day"),
        _optional(ha, "peak_hour"),
    ):
        peak = f"{day} {hour}:00" if isinstance(day, str) and day else ""
        pops.append(
            _table(
                [
                    ("Hotspot area", f"{r.crime_type} #{r.area_id} (rank {r.rank})"),
                    ("Incidents", r.incidents),
                    ("Harm", f"{r.harm:,.0f}"),
                    ("Wards", wards),
                    ("Locations", places),
                    ("Peak", peak),
                ]
            )
        )
    fc = to_geojson(
        ha,
        {"popup": pops, "tip": [esc(f"{t} hotspot area") for t in ha["crime_type"]]},
        v.rc.simplify_m,
        v.rc.coord_decimals,
        clip=v.clip,
    )
    _geojson_layer(
        fc, "Hotspot areas (by crime type)", colour="#d95f02", fill_opacity=0.15, weight=1.5, show=False
    ).add_to(m)
    v.legend.append(("Hotspot areas", [("#d95f02", "Gi* hotspot area of one crime type")]))


def _near_repeat_layer(m: folium.Map, z: gpd.GeoDataFrame | None, v: _View) -> None:
    """Near-repeat alert zones with their expiry dates and streets."""
    if z is None or not len(z):
        return
    pops, tips = [], []
    for ex, st in zip(z["expiry_date"], z["streets"]):
        ex = f"{ex:%Y-%m-%d}"
        pops.append(_table([("Near-repeat alert zone", ""), ("Expires", ex), ("Streets", str(st))]))
        tips.append(esc(f"Near-repeat alert zone, expires {ex}"))
    fc = to_geojson(z, {"popup": pops, "tip": tips}, v.rc.simplify_m, v.rc.coord_decimals, clip=v.clip)
    _geojson_layer(fc, "Near-repeat alert zones", colour="#7b3294", fill_opacity=0.25, dash="4 3").add_to(m)
    v.legend.append(("Near-repeat", [("#7b3294", "alert zone (popup gives the expiry date)")]))


#: Coverage layers on the map: (layer, name on the map, colour, id column for the tooltip).
COVERAGE_MAP_LAYERS = (
    ("viewsheds", "Camera viewsheds", "#1b9e77", "label"),
    ("coverage_gaps", "CCTV coverage gaps", "#e7298a", "label"),
    ("proposed_sites", "Proposed camera sites", "#66a61e", "label"),
    ("anpr_readers", "Proposed ANPR readers", "#d95f02", "label"),
    ("cameras", "Cameras", "#1b9e77", "label"),
)


def _coverage_layers(m: folium.Map, layers: dict[str, gpd.GeoDataFrame], v: _View) -> None:
    """Cameras, their viewsheds, the coverage gaps and the proposed camera sites."""
    for key, name, colour, id_col in COVERAGE_MAP_LAYERS:
        f = layers.get(key)
        if f is None or not len(f):
            continue
        fc = to_geojson(
            f,
            {"tip": [esc(f"{name}: {val}") for val in f[id_col]]},
            0 if key == "cameras" else v.rc.simplify_m,
            v.rc.coord_decimals,
            clip=v.clip,
        )
        point = f.geom_type.isin(["Point", "MultiPoint"]).all()
        _geojson_layer(
            fc,
            name,
            colour=colour,
            fill_opacity=0.3,
            show=key in ("cameras", "coverage_gaps"),
            point_radius=4 if point else None,
        ).add_to(m)
        v.legend.append((name, [(colour, name)]))


def _tasking_layer(
    m: folium.Map, it: gpd.GeoDataFrame | None, focus: BaseGeometry, ward_code: str | None, v: _View
) -> None:
    """The tasking items (on top), coloured by status; a ward map shows the items that touch the ward."""
    if it is None or not len(it):
        return
    sel = it if ward_code is None else it[it.geometry.intersects(focus)]
    pops = [
        _table(
            [
                ("Tasking item", f"{r.item_id} (rank {r.rank}, {r.status})"),
                ("Location", r.location),
                ("Ward / SNT", r.snt),
                ("Crime", r.crime_types),
                ("Harm", r.harm),
                ("Trend", r.trend_class),
                ("Near repeat", r.near_repeat_window),
                ("Peak days", r.peak_days),
                ("Peak hours", r.peak_hours),
                ("CCTV", r.cctv_coverage),
                ("Tactic", r.tactic),
                ("Dosage", r.dosage),
                ("Owner", r.owner),
                ("Review", r.review_date),
                ("Why", r.reason),
            ]
        )
        for r in sel.itertuples(index=False)
    ]
    fc = to_geojson(
        sel,
        {
            "popup": pops,
            "tip": [
                esc(f"{a} (rank {b}): {c}") for a, b, c in zip(sel["item_id"], sel["rank"], sel["main_crime_type"])
            ],
            "c": [STATUS_COLOURS.get(s, "#1f78b4") for s in sel["status"]],
        },
        v.rc.simplify_m,
        v.rc.coord_decimals,
    )
    _geojson_layer(fc, "Tasking items", colour_prop="c", fill_opacity=0.2, weight=3).add_to(m)
    v.legend.append(("Tasking items (by status)", [(c, s) for s, c in STATUS_COLOURS.items()]))


def _base_map(focus: BaseGeometry, crs: Any, rc: RenderConfig) -> folium.Map:
    """A Folium map fitted to ``focus``, with the configured basemap (none by default: nothing loads from outside)."""
    fb = _bounds_ll(focus, crs)
    m = folium.Map(
        location=[(fb[0][0] + fb[1][0]) / 2, (fb[0][1] + fb[1][1]) / 2],
        zoom_start=13,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        max_zoom=19,
    )
    if rc.basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap basemap", control=True).add_to(m)
    elif rc.basemap != "none":
        folium.TileLayer(rc.basemap, attr=esc(rc.attribution), name="Basemap", control=True).add_to(m)
    m.fit_bounds(fb)
    return m


def build_map(res: RunResults, pieces: MapPieces, ward_code: str | None = None, title: str = "") -> folium.Map:
    """The borough map, or one ward's map when ``ward_code`` is given (folium.Map, offline)."""
    layers = pieces.layers
    wards = res.area.wards
    if ward_code is not None:
        focus = wards.loc[wards["ward_code"] == ward_code].geometry.iat[0]
        clip = focus.buffer(300)
    else:
        focus, clip = res.area.boundary, None
    m = _base_map(focus, res.area.crs, pieces.rcfg)
    v = _View(pieces.rcfg, clip, [])
    _wards_layer(m, layers["wards"], ward_code, v)
    _roads_layer(m, res.area.roads, v)
    _overlay_layers(m, pieces.overlays, v)
    _gistar_layers(m, layers, pieces.gi_types, v)
    _emerging_layer(m, layers.get("emerging_hotspots"), v)
    _hotspot_areas_layer(m, layers.get("hotspot_areas"), v)
    _near_repeat_layer(m, layers.get("near_repeat_zones"), v)
    _coverage_layers(m, layers, v)
    it = layers.get("tasking_items")
    _tasking_layer(m, it, focus, ward_code, v)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    if ward_code is not None and it is not None and len(it):
        m.get_root().html.add_child(Element(_ward_items_html(it, ward_code)))
    if pieces.search_index is None:
        pieces.search_index = search_index(res, it)
    m.get_root().header.add_child(Element(head_html() + _CSS), name="hs_offline")
    ttl = title or (f"{res.cfg.project.name}: FIM {res.fim_date:%Y-%m-%d}")
    m.get_root().html.add_child(Element(f"<div class='hs-title'>{esc(ttl)}</div>"))
    m.add_child(HsElement(_legend_html(v.legend, pieces.not_run), _search_js(pieces.search_index)))
    strip_cdn(m)
    return m


def save_map(m: folium.Map, path: Any) -> None:
    """Render to one self-contained HTML file; refuse if anything would load from outside."""
    html_text = m.get_root().render()
    bad = external_urls(html_text)
    if bad:
        raise RuntimeError(f"map would load external resources: {bad[:5]}")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(html_text)
