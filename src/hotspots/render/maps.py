"""Folium maps of a run: the borough map and one map per ward, working offline.

Geometry is EPSG:27700 inside the engine and converted to EPSG:4326 here, at
the edge (simplified by ``[render] simplify_m`` metres, coordinates rounded to
``coord_decimals``). Each vector layer is one GeoJSON; every string from input
data is HTML-escaped in Python before it reaches the page, and popups are bound
from those escaped strings. Leaflet and its plug-ins are inlined (see
:mod:`.offline`); with ``[render] basemap = "none"`` the page requests nothing
outside itself, and ward boundaries and roads stand in for the basemap.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from .layers import GI_COLOURS, kde_overlay, top_crime_types, vector_layers

WGS84 = "EPSG:4326"
BNG = "EPSG:27700"

EMERGING_COLOURS = {
    "new hot spot": "#fb6a4a", "consecutive hot spot": "#ef3b2c", "intensifying hot spot": "#a50f15",
    "persistent hot spot": "#cb181d", "diminishing hot spot": "#fcae91", "sporadic hot spot": "#fdd0a2",
    "oscillating hot spot": "#fd8d3c", "historical hot spot": "#969696",
    "persistent": "#cb181d", "emerging": "#fb6a4a", "former": "#969696", "intermittent": "#fdd0a2",
}
STATUS_COLOURS = {"new": "#6a3d9a", "continuing": "#1f78b4", "escalated": "#e31a1c"}


def esc(value) -> str:
    """HTML-escape any value for a popup or tooltip."""
    return html.escape("" if value is None else str(value), quote=True)


@dataclass(frozen=True)
class RenderConfig:
    """[render]: basemap and map detail.

    ``basemap`` "none" (no tiles: the page makes no request outside the pack),
    "osm" (OpenStreetMap tiles, needs internet) or a tile URL template such as
    ``https://tiles.example/{z}/{x}/{y}.png`` with ``attribution``;
    ``simplify_m`` metres of geometry simplification; ``coord_decimals`` decimal
    places of longitude/latitude (5 = about 1 m); ``density_types`` crime types
    (by harm) that get their own density and Gi* layers; ``ward_maps`` writes
    one map per ward.
    """

    basemap: str = "none"
    attribution: str = ""
    simplify_m: float = 5.0
    coord_decimals: int = 5
    density_types: int = 3
    ward_maps: bool = True

    def validate(self, where: str) -> None:
        b = self.basemap
        if b not in ("none", "osm") and not (b.startswith(("http://", "https://")) and "{z}" in b):
            raise ConfigError(f"{where}: [render] basemap must be 'none', 'osm' or a tile URL template with "
                              f"{{z}}/{{x}}/{{y}}, got {b!r}.")
        if b not in ("none", "osm") and not self.attribution:
            raise ConfigError(f"{where}: [render] attribution is required with a custom basemap URL "
                              "(the tile provider's credit line).")
        if not (0 <= self.coord_decimals <= 8):
            raise ConfigError(f"{where}: [render] coord_decimals must be 0..8, got {self.coord_decimals}.")
        if self.simplify_m < 0:
            raise ConfigError(f"{where}: [render] simplify_m must be >= 0 metres, got {self.simplify_m}.")


def render_config(cfg) -> RenderConfig:
    from ..config import section

    return section(cfg, "render", RenderConfig)


# --------------------------------------------------------------------------- geojson helpers
def to_geojson(gdf, props: dict, simplify_m: float, decimals: int, clip=None) -> dict:
    """A FeatureCollection in EPSG:4326 with only the given (already escaped) properties.

    ``props`` maps property name -> list of values aligned with ``gdf`` rows.
    """
    import shapely

    geoms = np.asarray(gdf.geometry.values)
    keep = np.ones(len(geoms), bool)
    if clip is not None and len(geoms):
        keep = shapely.intersects(geoms, clip)
        geoms = shapely.intersection(geoms[keep], clip)
    if simplify_m > 0 and len(geoms):
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    import geopandas as gpd

    g = gpd.GeoSeries(geoms, crs=gdf.crs or BNG).to_crs(WGS84)
    g = shapely.set_precision(np.asarray(g.values), 10 ** -decimals)
    idx = np.nonzero(keep)[0]
    feats = []
    for k, (i, geom) in enumerate(zip(idx, g)):
        if geom is None or geom.is_empty:
            continue
        feats.append({"type": "Feature", "id": f"f{k}",
                      "properties": {p: (v[i].item() if isinstance(v[i], np.generic) else v[i])
                                     for p, v in props.items()},
                      "geometry": shapely.geometry.mapping(geom)})
    return {"type": "FeatureCollection", "features": feats}


def _table(rows) -> str:
    return "<table class='hs-pop'>" + "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows if v not in (None, "")) + "</table>"


_BIND = ("function(f, l){ var p = f.properties; if (p.popup) l.bindPopup(p.popup, {maxWidth: 340});"
         " if (p.tip) l.bindTooltip(p.tip, {sticky: true}); }")


def _geojson_layer(fc, name, colour_prop=None, colour="#333", fill=True, weight=1.5, fill_opacity=0.35,
                   show=True, dash=None, point_radius=None):
    import folium
    from folium.utilities import JsCode

    def style(f, c=colour):
        col = f["properties"].get(colour_prop, c) if colour_prop else c
        s = {"color": col, "weight": weight, "fillColor": col, "fillOpacity": fill_opacity if fill else 0.0,
             "fill": fill}
        if dash:
            s["dashArray"] = dash
        return s

    kw = {}
    if point_radius:
        kw["marker"] = folium.CircleMarker(radius=point_radius, fill=True, fill_opacity=0.9)
    fg = folium.FeatureGroup(name=name, show=show)
    folium.GeoJson(fc, style_function=style, on_each_feature=JsCode(_BIND), embed=True, control=False,
                   smooth_factor=0.5, **kw).add_to(fg)
    return fg


# --------------------------------------------------------------------------- map pieces
@dataclass
class MapPieces:
    """Everything a map needs, prepared once per run (EPSG:27700 frames + overlays)."""

    layers: dict
    overlays: list
    gi_types: list
    rcfg: RenderConfig
    legend: list = field(default_factory=list)
    not_run: dict = field(default_factory=dict)
    search_index: list | None = None


def prepare(res, tasking=None, layers=None) -> MapPieces:
    rcfg = render_config(res.cfg)
    layers = layers if layers is not None else vector_layers(res, tasking)
    overlays = []
    surf = res.stages.get("surfaces")
    gi_types = []
    if surf is not None:
        from .layers import harm_density

        hd = harm_density(res)
        if hd is not None:
            o = kde_overlay(res.grid, hd[0], "Density: all crime types (harm)", hd[1])
            if o:
                overlays.append(o)
        gi_types = [t for t in top_crime_types(res, rcfg.density_types) if t in surf.kde]
        for t in gi_types:
            o = kde_overlay(res.grid, surf.kde[t].surface, f"Density: {t}", surf.kde[t].units)
            if o:
                overlays.append(o)
    fc = res.stages.get("forecast")
    if fc is not None and getattr(fc, "expected", None) is not None:
        o = kde_overlay(res.grid, fc.expected, f"Forecast: expected incidents ({fc.method})",
                        "expected incidents per cell over the horizon", cmap="PuRd")
        if o:
            overlays.append(o)
    nr = res.stages.get("nearrepeat")
    if nr is not None and getattr(nr, "surface", None) is not None and np.shape(nr.surface) == res.grid.shape:
        o = kde_overlay(res.grid, nr.surface, "Near-repeat prospective risk", "relative risk", cmap="Purples")
        if o:
            overlays.append(o)
    not_run = {}
    for s in ("surfaces", "trends", "nearrepeat", "coverage", "forecast"):
        if res.stages.get(s) is None:
            not_run[s] = res.skipped.get(s, "not run") if hasattr(res, "skipped") else "not run"
    return MapPieces(layers=layers, overlays=overlays, gi_types=gi_types, rcfg=rcfg, not_run=not_run)


def _make_element_class():
    from branca.element import MacroElement
    from jinja2 import Template

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

    return HsElement


class _Html:
    _cls = None

    @classmethod
    def element(cls, html_body: str = "", script: str = ""):
        if cls._cls is None:
            cls._cls = _make_element_class()
        return cls._cls(html_body, script)


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


def _legend_html(sections, not_run) -> str:
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


def _search_js(index) -> str:
    data = json.dumps(index).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return """
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
""" % data


def _ward_items_html(items, ward_code: str) -> str:
    """A panel listing the tasking items a ward's SNT owns (escaped)."""
    own = items[items["ward_code"] == ward_code]
    rows = "".join(
        f"<tr><td>{esc(r.item_id)}</td><td>{esc(r.rank)}</td><td>{esc(r.status)}</td><td>{esc(r.location)}</td>"
        f"<td>{esc(r.main_crime_type)}</td><td>{esc(r.tactic)}; {esc(r.dosage)}</td><td>{esc(r.review_date)}</td></tr>"
        for r in own.itertuples(index=False))
    body = (f"<table class='hs-pop'><tr><th>Id</th><th>Rank</th><th>Status</th><th>Where</th><th>Crime</th>"
            f"<th>Tactic</th><th>Review</th></tr>{rows}</table>" if len(own) else
            "<p>No tasking item is owned by this ward at this FIM.</p>")
    return (f"<div class='hs-items' id='hs-items'><details><summary>Tasking items owned by this ward "
            f"({len(own)})</summary>{body}</details></div>")


def search_index(res, items) -> list[dict]:
    """[{label, b: [[s, w], [n, e]]}] for every ward (by name and code) and tasking item id."""
    import geopandas as gpd

    geoms, labels = [], []
    w = res.area.wards
    for n, c, g in zip(w["ward_name"], w["ward_code"], w.geometry):
        geoms += [g, g]
        labels += [str(n), str(c)]
    if items is not None and len(items):
        for i, g in zip(items["item_id"], items.geometry):
            geoms.append(g.buffer(150))
            labels.append(str(i))
    b = gpd.GeoSeries(geoms, crs=BNG).to_crs(WGS84).bounds.to_numpy()
    return [{"label": lab, "b": [[round(r[1], 5), round(r[0], 5)], [round(r[3], 5), round(r[2], 5)]]}
            for lab, r in zip(labels, b)]


def _bounds_ll(geom) -> list:
    import geopandas as gpd

    b = gpd.GeoSeries([geom], crs=BNG).to_crs(WGS84).total_bounds
    return [[round(b[1], 5), round(b[0], 5)], [round(b[3], 5), round(b[2], 5)]]


def build_map(res, pieces: MapPieces, ward_code: str | None = None, title: str = ""):
    """The borough map, or one ward's map when ``ward_code`` is given (folium.Map, offline)."""
    import folium
    from branca.element import Element

    from .offline import head_html, strip_cdn

    rc = pieces.rcfg
    L = pieces.layers
    wards = res.area.wards
    clip = None
    if ward_code is not None:
        wgeom = wards.loc[wards["ward_code"] == ward_code].geometry.iat[0]
        clip = wgeom.buffer(300)
        focus = wgeom
    else:
        focus = res.area.boundary
    fb = _bounds_ll(focus)
    tiles = None
    m = folium.Map(location=[(fb[0][0] + fb[1][0]) / 2, (fb[0][1] + fb[1][1]) / 2], zoom_start=13, tiles=tiles,
                   control_scale=True, prefer_canvas=False, max_zoom=19)
    if rc.basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap basemap", control=True).add_to(m)
    elif rc.basemap != "none":
        folium.TileLayer(rc.basemap, attr=esc(rc.attribution), name="Basemap", control=True).add_to(m)
    m.fit_bounds(fb)
    simp, dec = rc.simplify_m, rc.coord_decimals
    legend = []

    # wards (always)
    w = L["wards"]
    wt_cols = set(w.columns)
    popups = []
    for r in w.itertuples(index=False):
        rows = [("Ward", f"{r.ward_name} ({r.ward_code})")]
        if "incidents" in wt_cols and r.incidents == r.incidents:
            rows += [("Rank by harm", int(r.rank) if r.rank == r.rank else ""),
                     ("Incidents in window", f"{int(r.incidents):,}"), ("Harm", f"{r.harm:,.0f}"),
                     ("Most common", getattr(r, "top_crime_type", ""))]
        popups.append(_table(rows))
    is_focus = (w["ward_code"] == ward_code).to_numpy() if ward_code else np.zeros(len(w), bool)
    fc = to_geojson(w, {"popup": popups, "tip": [esc(n) for n in w["ward_name"]],
                        "c": ["#000" if f else "#555" for f in is_focus]}, simp, dec,
                    clip=None if ward_code is None else clip.buffer(2000))
    _geojson_layer(fc, "Ward boundaries", colour_prop="c", fill=True, fill_opacity=0.03,
                   weight=1.2).add_to(m)
    # roads (context, stands in for the basemap)
    roads = getattr(res.area, "roads", None)
    if roads is not None and len(roads):
        nm = roads["name"] if "name" in roads.columns else [""] * len(roads)
        fc = to_geojson(roads, {"tip": [esc(n) if n == n else "" for n in nm]}, max(simp, 10), dec,
                        clip=None if clip is None else clip.buffer(1000))
        _geojson_layer(fc, "Roads", colour="#9a9a9a", fill=False, weight=1.5, show=True).add_to(m)

    # density overlays
    for i, o in enumerate(pieces.overlays):
        fg = folium.FeatureGroup(name=o.name, show=(i == 0))
        folium.raster_layers.ImageOverlay(o.uri, bounds=o.bounds, opacity=1.0, interactive=False,
                                          cross_origin=False, zindex=1).add_to(fg)
        fg.add_to(m)
    if pieces.overlays:
        o = pieces.overlays[0]
        legend.append((f"{o.name} ({o.units})", [(c, lab) for c, lab in zip(o.colours, (
            "low", "medium", "high", f"very high (>= {o.vmax:,.3g})"))]))

    # Gi* for the top crime types
    for t in pieces.gi_types:
        g = L.get(f"gistar_{t}")
        if g is None or not len(g):
            continue
        fc = to_geojson(g, {"c": [GI_COLOURS[int(v)] for v in g["value"]],
                            "tip": [esc(f"Gi* {t}: {lab} ({n} cells)") for lab, n in zip(g["label"], g["cells"])]},
                        0, dec, clip=clip)
        _geojson_layer(fc, f"Gi* hot and cold spots: {t}", colour_prop="c", weight=0, fill_opacity=0.55,
                       show=False).add_to(m)
    if pieces.gi_types:
        from .layers import GI_LABELS

        legend.append(("Gi* cells (confidence)", [(GI_COLOURS[k], GI_LABELS[k]) for k in (3, 2, 1, -1, -2, -3)]))

    # emerging hotspots
    e = L.get("emerging_hotspots")
    if e is not None and len(e):
        fc = to_geojson(e, {"c": [EMERGING_COLOURS.get(lab, "#74add1") for lab in e["label"]],
                            "tip": [esc(f"{lab}: {ex}") for lab, ex in zip(e["label"], e["explanation"])]},
                        0, dec, clip=clip)
        _geojson_layer(fc, "Emerging hotspots (trend class)", colour_prop="c", weight=0, fill_opacity=0.6,
                       show=False).add_to(m)
        legend.append(("Emerging hotspots", [(EMERGING_COLOURS.get(lab, "#74add1"), lab)
                                             for lab in e["label"]]))

    # hotspot areas
    ha = L.get("hotspot_areas")
    if ha is not None and len(ha):
        pops = []
        for r in ha.itertuples(index=False):
            pops.append(_table([("Hotspot area", f"{r.crime_type} #{r.area_id} (rank {r.rank})"),
                                ("Incidents", r.incidents), ("Harm", f"{r.harm:,.0f}"),
                                ("Wards", getattr(r, "ward_names", "")),
                                ("Locations", getattr(r, "top_locations", "")),
                                ("Peak", f"{getattr(r, 'peak_day', '')} {getattr(r, 'peak_hour', '')}:00"
                                 if isinstance(getattr(r, "peak_day", None), str) else "")]))
        fc = to_geojson(ha, {"popup": pops, "tip": [esc(f"{t} hotspot area") for t in ha["crime_type"]]}, simp, dec,
                        clip=clip)
        _geojson_layer(fc, "Hotspot areas (by crime type)", colour="#d95f02", fill_opacity=0.15, weight=1.5,
                       show=False).add_to(m)
        legend.append(("Hotspot areas", [("#d95f02", "Gi* hotspot area of one crime type")]))

    # near-repeat zones
    z = L.get("near_repeat_zones")
    if z is not None and len(z):
        from ..tasking.rank import zone_expiry

        pops, tips = [], []
        for i in range(len(z)):
            ex = zone_expiry(z, i)
            st = next((str(z[c].iat[i]) for c in ("streets", "location", "location_text") if c in z.columns), "")
            pops.append(_table([("Near-repeat alert zone", ""), ("Expires", f"{ex:%Y-%m-%d}" if ex is not None
                                                                   else "see list"), ("Streets", st)]))
            tips.append(esc(f"Near-repeat alert zone, expires {ex:%Y-%m-%d}" if ex is not None else
                            "Near-repeat alert zone"))
        fc = to_geojson(z, {"popup": pops, "tip": tips}, simp, dec, clip=clip)
        _geojson_layer(fc, "Near-repeat alert zones", colour="#7b3294", fill_opacity=0.25, dash="4 3").add_to(m)
        legend.append(("Near-repeat", [("#7b3294", "alert zone (popup gives the expiry date)")]))

    # coverage
    for key, name, colour in (("viewsheds", "Camera viewsheds", "#1b9e77"), ("coverage_gaps", "CCTV coverage gaps",
                                                                             "#e7298a"),
                              ("proposed_sites", "Proposed camera sites", "#66a61e"),
                              ("cameras", "Cameras", "#1b9e77")):
        f = L.get(key)
        if f is None or not len(f):
            continue
        tip_col = next((c for c in ("camera_id", "gap_id", "site_id", "description", "label") if c in f.columns),
                       None)
        tips = [esc(f"{name}: {v}") for v in f[tip_col]] if tip_col else [esc(name)] * len(f)
        fc = to_geojson(f, {"tip": tips}, 0 if key == "cameras" else simp, dec, clip=clip)
        point = f.geom_type.isin(["Point", "MultiPoint"]).all()
        _geojson_layer(fc, name, colour=colour, fill_opacity=0.3, show=key in ("cameras", "coverage_gaps"),
                       point_radius=4 if point else None).add_to(m)
        legend.append((name, [(colour, name)]))

    # tasking items (on top)
    it = L.get("tasking_items")
    if it is not None and len(it):
        sel = it if ward_code is None else it[it.geometry.intersects(focus)]
        pops = []
        for r in sel.itertuples(index=False):
            pops.append(_table([("Tasking item", f"{r.item_id} (rank {r.rank}, {r.status})"),
                                ("Location", r.location), ("Ward / SNT", r.snt), ("Crime", r.crime_types),
                                ("Harm", r.harm), ("Trend", r.trend_class), ("Near repeat", r.near_repeat_window),
                                ("Peak days", r.peak_days), ("Peak hours", r.peak_hours), ("CCTV", r.cctv_coverage),
                                ("Tactic", r.tactic), ("Dosage", r.dosage), ("Owner", r.owner),
                                ("Review", r.review_date), ("Why", r.reason)]))
        fc = to_geojson(sel, {"popup": pops, "tip": [esc(f"{a} (rank {b}): {c}") for a, b, c in
                                                     zip(sel["item_id"], sel["rank"], sel["main_crime_type"])],
                              "c": [STATUS_COLOURS.get(s, "#1f78b4") for s in sel["status"]]}, simp, dec)
        _geojson_layer(fc, "Tasking items", colour_prop="c", fill_opacity=0.2, weight=3).add_to(m)
        legend.append(("Tasking items (by status)", [(c, s) for s, c in STATUS_COLOURS.items()]))

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    if ward_code is not None and it is not None and len(it):
        m.get_root().html.add_child(Element(_ward_items_html(it, ward_code)))

    # search index: wards and tasking ids
    if pieces.search_index is None:
        pieces.search_index = search_index(res, it)
    index = pieces.search_index
    head = Element(head_html() + _CSS)
    m.get_root().header.add_child(head, name="hs_offline")
    ttl = title or (f"{res.cfg.project.name}: FIM {res.fim_date:%Y-%m-%d}")
    m.get_root().html.add_child(Element(f"<div class='hs-title'>{esc(ttl)}</div>"))
    m.add_child(_Html.element(_legend_html(legend, pieces.not_run), _search_js(index)))
    strip_cdn(m)
    return m


def save_map(m, path) -> None:
    """Render to one self-contained HTML file; refuse if anything would load from outside."""
    from .offline import external_urls

    html_text = m.get_root().render()
    bad = external_urls(html_text)
    if bad:
        raise RuntimeError(f"map would load external resources: {bad[:5]}")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(html_text)


def borough_map(res, pieces: MapPieces | None = None, tasking=None):
    """The overview map of a run (kept for callers of the first version)."""
    return build_map(res, pieces or prepare(res, tasking))
