"""The colours of every map layer: one palette for the web maps and the GIS styles of ``layers.gpkg``.

:data:`GI_COLOURS` (Gi* classes, ColorBrewer RdBu), :data:`EMERGING_COLOURS` (emerging-hotspot
classes, both schemes; :data:`EMERGING_OTHER` for a class not listed), :data:`STATUS_COLOURS`
(tasking item status), :data:`TRAJECTORY_COLOURS` (trajectory classes of places) and
:data:`LAYER_STYLES` (the other vector layers, by their names in ``layers.gpkg``); :data:`RAMPS`
holds the matplotlib colour-map names of the shaded surfaces. Colours are ``#rrggbb`` strings.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Colour-map names (matplotlib / ColorBrewer) of the shaded surfaces, by surface kind.
RAMPS: dict[str, str] = {"density": "YlOrRd"}

#: Gi* classes (-3..3 = cold 99% .. hot 99%): ColorBrewer RdBu, 6 classes.
GI_COLOURS: dict[int, str] = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}

#: Emerging-hotspot classes of both schemes (ESRI-style names and the UK scheme).
EMERGING_COLOURS: dict[str, str] = {
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

#: Colour of an emerging class not listed above (a new scheme's class is still drawn, in a neutral blue).
EMERGING_OTHER = "#74add1"

#: Tasking items by status.
STATUS_COLOURS: dict[str, str] = {"new": "#6a3d9a", "continuing": "#1f78b4", "escalated": "#e31a1c"}

#: Trajectory classes of places over the years (stable low is not drawn).
TRAJECTORY_COLOURS: dict[str, str] = {
    "stable high": "#b2182b",
    "rising": "#ef8a62",
    "flare-up": "#7b3294",
    "falling": "#2166ac",
}


@dataclass(frozen=True)
class LayerStyle:
    """How one vector layer is drawn: line (and marker) ``colour``, ``fill`` colour (``""`` = no fill)
    with ``fill_opacity`` 0..1, line ``weight`` in pixels, ``dash`` an SVG dash pattern in pixels
    (``""`` = solid)."""

    colour: str
    fill: str = ""
    fill_opacity: float = 0.0
    weight: float = 1.5
    dash: str = ""


#: Vector layer styles by layer name (``gistar_*``, ``emerging_hotspots`` and ``tasking_items`` take their
#: colours per class from :data:`GI_COLOURS`, :data:`EMERGING_COLOURS` and :data:`STATUS_COLOURS`).
LAYER_STYLES: dict[str, LayerStyle] = {
    "wards": LayerStyle("#555555", fill="#555555", fill_opacity=0.03, weight=1.2),
    "hotspot_areas": LayerStyle("#d95f02", fill="#d95f02", fill_opacity=0.15, weight=1.5),
    "near_repeat_zones": LayerStyle("#7b3294", fill="#7b3294", fill_opacity=0.25, weight=2.0, dash="4 3"),
    "viewsheds": LayerStyle("#1b9e77", fill="#1b9e77", fill_opacity=0.3, weight=1.0),
    "coverage_gaps": LayerStyle("#e7298a", fill="#e7298a", fill_opacity=0.3, weight=1.5),
    "proposed_sites": LayerStyle("#66a61e", fill="#66a61e", fill_opacity=0.9, weight=1.5),
    "cameras": LayerStyle("#1b9e77", fill="#1b9e77", fill_opacity=0.9, weight=1.0),
    "anpr_entry_points": LayerStyle("#737373", fill="#bdbdbd", fill_opacity=0.9, weight=1.0),
    "anpr_readers": LayerStyle("#08519c", fill="#6baed6", fill_opacity=0.9, weight=1.5),
    "mobile_spots": LayerStyle("#b15928", fill="#ffff99", fill_opacity=0.9, weight=1.5),
    "tasking_closed": LayerStyle("#969696", fill="", fill_opacity=0.0, weight=1.5, dash="4 3"),
}
