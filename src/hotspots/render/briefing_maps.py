"""The briefing's pictures: a small map of each top place and the forecast's track-record chart.

PNG images drawn with matplotlib (Agg) at a fixed size and DPI with no date in
their metadata, so the same inputs give the same bytes. A small map shows, in
the colours of :mod:`hotspots.render.palette`: ward boundaries, roads, the live
near-repeat alert zones, the other tasking places with their ranks, the place
itself (thick black outline with a white halo and its rank on a black disc),
and street, ward and town-centre names (:mod:`hotspots.render.streets`: from the
incidents' police.uk "On or near ..." location texts and a named streets layer,
thinned as the web maps thin them at the zoom that matches the map's scale).
Coordinates are in the working CRS (metres).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np
import shapely

from ..stages.results import RunResults
from .palette import LABEL_COLOURS, LAYER_STYLES
from .streets import Label, labels_of_area, metres_per_pixel
from .streets import thin_labels as _thin

matplotlib.use("Agg")
import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath

#: Small map: side in inches and resolution (fixed: the same inputs give the same bytes).
MAP_INCHES = 2.5
MAP_DPI = 200
#: The map shows at least this many metres across (a small place still shows its streets around it).
MIN_SPAN_M = 700.0
#: Font size of street names on a small map (points), and the width of one character in ems.
LABEL_PT = 5.0
_CHAR_EM = 0.56
#: Track-record chart size (inches) and resolution.
CHART_SIZE = (6.6, 2.3)
CHART_DPI = 150
#: PNG metadata: no date, so reruns give the same bytes.
PNG_METADATA = {"Software": None}
#: The web maps' street-label width per character in screen pixels (streets._CHAR_PX["street"]).
_WEB_CHAR_PX = 6.3


@dataclass(frozen=True)
class MapContext:
    """What every small map of one briefing draws besides its place: wards, roads and alert zones
    (GeoDataFrames in the working CRS, or None), the other places (rank, geometry), the labels with their
    zoom levels, and the latitude of the area (degrees, for the scale of the labels)."""

    wards: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame | None
    zones: gpd.GeoDataFrame | None
    places: tuple[tuple[int, Any], ...]
    labels: tuple[Label, ...]
    latitude: float


def map_context(res: RunResults, places: Sequence[tuple[int, Any]]) -> MapContext:
    """The layers and labels shared by the small maps of a run; ``places`` are (rank, geometry) of every
    place on the list."""
    labels, lat = labels_of_area(res.incidents, res.area)
    zones = res.nearrepeat.zones if res.nearrepeat is not None and len(res.nearrepeat.zones) else None
    return MapContext(res.area.wards, res.area.roads, zones, tuple(places), tuple(_thin(labels, lat)), lat)


def _png(fig: Any, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata=PNG_METADATA)
    plt.close(fig)
    return buf.getvalue()


def _rings(geom: Any) -> list[np.ndarray]:
    """Exterior and interior rings of a (multi)polygon as coordinate arrays."""
    out = []
    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        out.append(np.asarray(part.exterior.coords))
        out += [np.asarray(r.coords) for r in part.interiors]
    return out


def _patch(geom: Any, **kw: Any) -> PathPatch | None:
    """A matplotlib patch of a (multi)polygon (holes kept), or None when it has no area."""
    verts, codes = [], []
    for ring in _rings(geom):
        verts.append(ring)
        codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(ring) - 2) + [MplPath.CLOSEPOLY]
    if not verts:
        return None
    return PathPatch(MplPath(np.concatenate(verts), codes), **kw)


def _zoom_for(span_m: float, latitude: float) -> int:
    """The web-map zoom whose label spacing matches a small map ``span_m`` metres across: the zoom at which a
    street name takes as many metres on the web map as it does here."""
    metres_per_char = span_m / (MAP_INCHES * 72.0) * LABEL_PT * _CHAR_EM
    mpp = metres_per_char / _WEB_CHAR_PX
    z = math.log2(metres_per_pixel(0, latitude) / mpp)
    return int(math.floor(z))


def place_map_png(ctx: MapContext, rank: int, geom: Any) -> bytes:
    """PNG of the small map of the place ranked ``rank`` with outline ``geom`` (working CRS)."""
    x0, y0, x1, y1 = geom.bounds
    span = max(max(x1 - x0, y1 - y0) * 1.5 + 200.0, MIN_SPAN_M)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ext = (cx - span / 2, cy - span / 2, cx + span / 2, cy + span / 2)
    fig = plt.figure(figsize=(MAP_INCHES, MAP_INCHES))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(ext[0], ext[2])
    ax.set_ylim(ext[1], ext[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.patch.set_facecolor("white")
    box = (ext[0] - span, ext[1] - span, ext[2] + span, ext[3] + span)
    _context_layers(ax, ctx, box)
    _other_places(ax, ctx, rank, box)
    _place(ax, geom, rank)
    _labels(ax, ctx, ext, span)
    _frame(ax, ext, span)
    return _png(fig, MAP_DPI)


def _add(ax: Any, *artists: Artist | None) -> None:
    """Draw ``artists`` on ``ax``. The map's extent is fixed before anything is drawn, so the artists are added
    without growing the axes' data limits (``add_patch`` would walk every curve of every outline for them:
    most of a small map's time, for the same picture)."""
    for a in artists:
        if a is not None:
            ax.add_artist(a)


def _context_layers(ax: Any, ctx: MapContext, box: tuple[float, float, float, float]) -> None:
    """Roads, ward boundaries and live alert zones near the map (``box``: a margin around it, metres)."""
    ws = LAYER_STYLES["wards"]
    for g in ctx.wards.cx[box[0] : box[2], box[1] : box[3]].geometry:
        _add(ax, _patch(g, facecolor="none", edgecolor=ws.colour, linewidth=0.8, linestyle=(0, (4, 2)), zorder=2))
    if ctx.roads is not None and len(ctx.roads):
        rs = LAYER_STYLES["roads"]
        lines = [
            np.asarray(part.coords)
            for g in ctx.roads.cx[box[0] : box[2], box[1] : box[3]].geometry
            for part in getattr(g, "geoms", [g])
            if part.geom_type == "LineString"
        ]
        if lines:
            # one collection, not a line per road: the same picture for about half the map's drawing time
            _add(ax, LineCollection(lines, colors=rs.colour, linewidths=1.4, zorder=1, capstyle="round"))
    if ctx.zones is not None:
        zs = LAYER_STYLES["near_repeat_zones"]
        for g in ctx.zones.cx[box[0] : box[2], box[1] : box[3]].geometry:
            _add(
                ax,
                _patch(g, facecolor=zs.fill, alpha=0.18, edgecolor="none", zorder=3),
                _patch(g, facecolor="none", edgecolor=zs.colour, linewidth=1.0, linestyle=(0, (3, 2)), zorder=3),
            )


def _other_places(ax: Any, ctx: MapContext, rank: int, box: tuple[float, float, float, float]) -> None:
    """The other places of the list near the map, in grey with their ranks."""
    for r, g in ctx.places:
        if r == rank or g is None:
            continue
        gx0, gy0, gx1, gy1 = g.bounds
        if gx1 < box[0] or gx0 > box[2] or gy1 < box[1] or gy0 > box[3]:
            continue
        _add(ax, _patch(g, facecolor="none", edgecolor="#777777", linewidth=1.0, zorder=4))
        bx, by = _badge_point(g)
        _badge(ax, bx, by, r, "#777777", 5.0)


def _place(ax: Any, geom: Any, rank: int) -> None:
    """The place: light fill, a thick outline on a white halo, its rank on a disc (the tasking-item style)."""
    ts = LAYER_STYLES["tasking_items"]
    _add(
        ax,
        _patch(geom, facecolor="none", edgecolor="white", linewidth=4.0, zorder=6),
        _patch(geom, facecolor=ts.fill, edgecolor="none", alpha=ts.fill_opacity, zorder=5),
        _patch(geom, facecolor="none", edgecolor=ts.colour, linewidth=2.0, zorder=7),
    )
    bx, by = _badge_point(geom)
    _badge(ax, bx, by, rank, ts.colour, 7.0)


def _frame(ax: Any, ext: tuple[float, float, float, float], span: float) -> None:
    """A scale bar (metres) and a frame round the map."""
    scale_m = 100.0 if span < 1200 else 200.0 if span < 2500 else 500.0
    sx, sy = ext[0] + span * 0.05, ext[1] + span * 0.05
    ax.plot([sx, sx + scale_m], [sy, sy], color="black", linewidth=1.5, zorder=10)
    ax.text(sx, sy + span * 0.015, f"{scale_m:.0f} m", fontsize=5, zorder=10, path_effects=_halo())
    ax.add_patch(
        Rectangle((ext[0], ext[1]), span, span, facecolor="none", edgecolor="#333333", linewidth=1.0, zorder=11)
    )


def _badge_point(geom: Any) -> tuple[float, float]:
    """Where a rank badge goes: on the outline, at its point nearest the top-left corner of its bounds (the
    middle of the place stays free for its name)."""
    x0, _, _, y1 = geom.bounds
    corner = shapely.Point(x0, y1)
    p = geom.boundary.interpolate(geom.boundary.project(corner))
    return float(p.x), float(p.y)


def _halo(width: float = 1.6) -> list[Any]:
    return [pe.withStroke(linewidth=width, foreground="white")]


def _badge(ax: Any, x: float, y: float, rank: int, colour: str, size: float) -> None:
    ax.text(
        x,
        y,
        str(rank),
        ha="center",
        va="center",
        fontsize=size,
        fontweight="bold",
        color="white",
        zorder=12,
        bbox={"boxstyle": "circle,pad=0.25", "facecolor": colour, "edgecolor": "white", "linewidth": 0.8},
    )


def _labels(ax: Any, ctx: MapContext, ext: tuple[float, float, float, float], span: float) -> None:
    """The names that the web map would show at the matching zoom, inside the map."""
    z = _zoom_for(span, ctx.latitude)
    pad = span * 0.04
    sizes = {"street": LABEL_PT, "ward": LABEL_PT + 1.5, "town": LABEL_PT + 1.0}
    for lab in ctx.labels:
        if lab.min_zoom > z or not (ext[0] + pad < lab.x < ext[2] - pad and ext[1] + pad < lab.y < ext[3] - pad):
            continue
        ax.text(
            lab.x,
            lab.y,
            lab.text,
            rotation=lab.angle,
            rotation_mode="anchor",
            ha="center",
            va="center",
            fontsize=sizes[lab.kind],
            fontstyle="italic" if lab.kind == "street" else "normal",
            fontweight="bold" if lab.kind != "street" else "normal",
            color=LABEL_COLOURS[lab.kind],
            zorder=9,
            clip_on=True,
            path_effects=_halo(),
        )


def track_record_png(
    periods: Sequence[str],
    chosen: Sequence[float],
    naive: Sequence[float],
    share: float,
    baseline: str = "counts of the last 12 months",
) -> bytes:
    """PNG: hit rate (share of the next period's crimes in the flagged ``share`` of the area, 0..1) of the
    method chosen at each origin and of naive counts (``baseline``, in words), period by period."""
    fig, ax = plt.subplots(figsize=CHART_SIZE)
    x = np.arange(len(periods))
    ax.plot(x, 100 * np.asarray(chosen, float), marker="o", color="#1b7837", label="the forecast as chosen then")
    ax.plot(x, 100 * np.asarray(naive, float), marker="s", color="#777777", linestyle="--", label=f"naive: {baseline}")
    step = max(1, int(math.ceil(len(periods) / 12)))
    ax.set_xticks(x[::step], [str(p) for p in periods][::step], fontsize=7, rotation=30, ha="right")
    ax.set_ylabel(f"crimes in the top {100 * share:g}% (%)", fontsize=7)
    ax.set_xlabel("forecast period starting", fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylim(0, max(10.0, float(np.nanmax(100 * np.r_[np.asarray(chosen, float), np.asarray(naive, float)])) * 1.2))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return _png(fig, CHART_DPI)


def concentration_png(periods: Sequence[str], gini: Sequence[float], generalised: Sequence[float]) -> bytes:
    """PNG: how concentrated crime was period by period, the plain Gini and the generalised Gini (0 = spread
    evenly over the places, 1 = all in one place)."""
    fig, ax = plt.subplots(figsize=CHART_SIZE)
    x = np.arange(len(periods))
    ax.plot(x, np.asarray(gini, float), marker="o", color="#b35806", label="Gini (all places)")
    ax.plot(
        x,
        np.asarray(generalised, float),
        marker="s",
        color="#542788",
        linestyle="--",
        label="generalised Gini (allows for there being fewer crimes than places)",
    )
    step = max(1, int(math.ceil(len(periods) / 12)))
    ax.set_xticks(x[::step], [str(p) for p in periods][::step], fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("0 = even, 1 = one place", fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return _png(fig, CHART_DPI)
