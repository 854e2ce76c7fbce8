"""The colours and symbols of every map layer: one palette for the web maps and the GIS styles.

Each kind of result has its own colour *family* and symbol, so no two layers
can be mistaken for each other, and the families are chosen to stay apart for
the common forms of colour blindness (ColorBrewer ramps, the Okabe-Ito
categorical set; ``tests/test_maps.py`` checks the distances under simulated
protanopia, deuteranopia and tritanopia):

=========================  =======================================  ==========================================
layer                      family                                   symbol
=========================  =======================================  ==========================================
density (KDE)              sequential yellow-orange-brown (YlOrBr)  shaded surface
forecast                   sequential greens (Greens)               shaded surface
near-repeat risk           sequential purples (Purples)             shaded surface
Gi* hot and cold spots     diverging red-blue (RdBu, 6 classes)     filled cells
emerging-hotspot classes   categorical (Okabe-Ito; cold = tints)    filled cells
hotspot areas              brown ``#8c510a``                        outline, no fill
hotspots that depend on    pink ``#dd3497``                         dash-dot outline, light fill
the grid (fragile)
tasking items              black ``#111111``                        thick outline with a white halo and a
                                                                    numbered rank badge (black disc)
near-repeat alert zones    purple ``#6a3d9a``                       dashed outline, light fill
CCTV coverage gaps         orange ``#e66101``                       dotted outline, light fill
proposed camera sites      green ``#00a651``                        numbered square marker
proposed ANPR readers      sky blue ``#56b4e9``                     numbered triangle marker
cameras / camera views     dark teal ``#01665e`` / ``#80cdc1``      round marker / light fill
wards, roads, labels       greys                                    lines and text
public recorded crime      sequential oranges (Oranges, 4 classes)  filled squares
=========================  =======================================  ==========================================

:data:`LAYER_STYLES` holds the vector styles by the layer names of
``layers.gpkg``; :data:`RAMPS` the matplotlib colour-map names of the shaded
surfaces; :data:`GI_COLOURS` and :data:`EMERGING_COLOURS` the class colours.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Colour-map names (matplotlib / ColorBrewer) of the shaded surfaces, by surface kind.
RAMPS: dict[str, str] = {
    "density": "YlOrBr",
    "forecast": "Greens",
    "nearrepeat": "Purples",
}

#: Gi* classes (-3..3 = cold 99% .. hot 99%): ColorBrewer RdBu, 6 classes.
GI_COLOURS: dict[int, str] = {
    3: "#b2182b",
    2: "#ef8a62",
    1: "#fddbc7",
    -1: "#d1e5f0",
    -2: "#67a9cf",
    -3: "#2166ac",
}

_HOT = {
    "new": "#e69f00",
    "consecutive": "#f0e442",
    "intensifying": "#d55e00",
    "persistent": "#cc79a7",
    "diminishing": "#56b4e9",
    "sporadic": "#009e73",
    "oscillating": "#0072b2",
    "historical": "#666666",
}


def _tint(hex_colour: str, share: float = 0.55) -> str:
    """``hex_colour`` mixed with ``share`` white (the cold-spot version of a hot-spot class colour)."""
    rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * share):02x}" for c in rgb)


#: Emerging-hotspot classes (both schemes): Okabe-Ito hues for hot-spot classes, tints of them for cold spots.
EMERGING_COLOURS: dict[str, str] = {
    **{f"{k} hot spot": v for k, v in _HOT.items()},
    **{f"{k} cold spot": _tint(v) for k, v in _HOT.items()},
    # the UK scheme
    "persistent": _HOT["persistent"],
    "emerging": _HOT["new"],
    "former": _HOT["historical"],
    "intermittent": _HOT["sporadic"],
}

#: Colour of an emerging class not listed above (a new scheme's class is still drawn, in a neutral blue).
EMERGING_OTHER = "#74add1"

#: Public tier: recorded crime per square, four classes (ColorBrewer Oranges).
PUBLIC_CLASSES: tuple[str, ...] = ("#fdd0a2", "#fdae6b", "#e6550d", "#a63603")


@dataclass(frozen=True)
class LayerStyle:
    """How one vector layer is drawn, on the web map and in QGIS.

    ``colour`` is the line (and marker) colour, ``fill`` the fill colour
    (``""`` = no fill) with ``fill_opacity`` 0..1; ``weight`` the line width
    in pixels; ``dash`` an SVG dash pattern in pixels (``""`` = solid);
    ``symbol`` one of ``fill``, ``line``, ``dash``, ``dot``, ``circle``,
    ``square``, ``triangle``, ``badge``, ``text``; ``radius`` the marker
    radius in pixels.
    """

    colour: str
    fill: str = ""
    fill_opacity: float = 0.0
    weight: float = 1.5
    dash: str = ""
    symbol: str = "fill"
    radius: float = 0.0


#: Vector layer styles by layer name (the names of ``layers.gpkg``; ``gistar_*`` and ``emerging_hotspots`` take
#: their fill per class from :data:`GI_COLOURS` / :data:`EMERGING_COLOURS`).
LAYER_STYLES: dict[str, LayerStyle] = {
    "wards": LayerStyle("#4d4d4d", fill="#ffffff", fill_opacity=0.02, weight=1.4, symbol="line"),
    "ward_focus": LayerStyle("#000000", fill="#ffffff", fill_opacity=0.0, weight=3.0, symbol="line"),
    "roads": LayerStyle("#a3a3a3", weight=1.5, symbol="line"),
    "gistar": LayerStyle("#b2182b", fill="#b2182b", fill_opacity=0.55, weight=0.0, symbol="fill"),
    "emerging_hotspots": LayerStyle("#999999", fill="#999999", fill_opacity=0.6, weight=0.0, symbol="fill"),
    "hotspot_areas": LayerStyle("#8c510a", weight=2.0, symbol="line"),
    "tasking_items": LayerStyle("#111111", fill="#111111", fill_opacity=0.08, weight=3.0, symbol="badge"),
    "near_repeat_zones": LayerStyle(
        "#6a3d9a", fill="#6a3d9a", fill_opacity=0.12, weight=2.0, dash="6 4", symbol="dash"
    ),
    "coverage_gaps": LayerStyle("#e66101", fill="#e66101", fill_opacity=0.15, weight=2.5, dash="1 5", symbol="dot"),
    # hotspot areas few other grids and search radii find (the map's "hotspot that depends on the grid")
    "fragile_hotspots": LayerStyle(
        "#dd3497", fill="#dd3497", fill_opacity=0.12, weight=2.5, dash="9 4 2 4", symbol="dash"
    ),
    "proposed_sites": LayerStyle("#00441b", fill="#00a651", fill_opacity=0.95, weight=2.0, symbol="square", radius=9),
    "anpr_readers": LayerStyle("#08519c", fill="#56b4e9", fill_opacity=0.95, weight=2.0, symbol="triangle", radius=9),
    "cameras": LayerStyle("#003c30", fill="#01665e", fill_opacity=0.9, weight=1.5, symbol="circle", radius=4),
    "viewsheds": LayerStyle("#35978f", fill="#80cdc1", fill_opacity=0.3, weight=0.8, symbol="fill"),
    "anpr_entry_points": LayerStyle("#737373", fill="#bdbdbd", fill_opacity=0.9, weight=1.0, symbol="circle", radius=5),
    "mobile_spots": LayerStyle("#b15928", fill="#ffff99", fill_opacity=0.9, weight=1.5, symbol="circle", radius=6),
    "tasking_closed": LayerStyle("#969696", fill="", fill_opacity=0.0, weight=1.5, dash="4 3", symbol="dash"),
    "public_cells": LayerStyle("#ffffff", fill=PUBLIC_CLASSES[0], fill_opacity=0.7, weight=0.5, symbol="fill"),
}

#: Label colours (street, ward and town-centre names), drawn with a white halo.
LABEL_COLOURS: dict[str, str] = {"street": "#555555", "ward": "#222222", "town": "#7f2704"}

#: Tasking items by status (the GIS style of ``tasking_items`` in ``layers.gpkg``; the web map draws every item
#: in black with its rank badge).
STATUS_COLOURS: dict[str, str] = {"new": "#6a3d9a", "continuing": "#1f78b4", "escalated": "#e31a1c"}

#: Trajectory classes of places over the years (stable low is not drawn).
TRAJECTORY_COLOURS: dict[str, str] = {
    "stable high": "#b2182b",
    "rising": "#ef8a62",
    "flare-up": "#7b3294",
    "falling": "#2166ac",
}
