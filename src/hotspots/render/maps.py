"""The pack's maps: the borough map (``map.html``) and one map per ward (``wards/<code>.html``).

:func:`prepare` does the work every map of a run shares, once: each result
layer is converted from the working CRS (EPSG:27700 by default) to
longitude/latitude (:class:`~hotspots.render.geojson.FeatureSet`, simplified
by ``[render] simplify_m`` metres and rounded to ``coord_decimals`` places),
the shaded surfaces are coloured into images, and the street, ward and
town-centre names are placed and thinned by zoom (:mod:`.streets`).
:func:`build_map` then cuts the layers to one ward (or takes the whole
borough) with one function per layer, each returning a :class:`MapLayer`, and
returns a :class:`~hotspots.render.mappage.MapPage`: the fixed template, the
vendored Leaflet, the fixed script and one JSON data block. No data string is
ever template source or HTML; see :mod:`.mappage`.

Colours and symbols come from :mod:`.palette`. With ``[render] basemap =
"none"`` (the default) a page requests nothing outside itself: ward
boundaries, roads and the street names stand in for the basemap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .. import __version__
from ..config.sections import RenderConfig
from ..stages.results import RunResults, TaskingList
from ..tasking.stability import FRAGILE_WORDS
from ..vocabulary import CRIME_TYPE_LABELS, crime_type_label, stage_label
from .geojson import WGS84, FeatureSet, bounds_lonlat, plain, to_lonlat
from .layers import GI_LABELS, Overlay, harm_density, kde_overlay, top_crime_types, vector_layers
from .mappage import MapLayer, MapPage, entry, popup_rows, style_data
from .palette import EMERGING_COLOURS, EMERGING_OTHER, GI_COLOURS, LABEL_COLOURS, LAYER_STYLES, RAMPS
from .streets import Label, label_rows, labels_of_area, thin_labels

__all__ = ["WGS84", "MapLayer", "MapPieces", "build_map", "prepare", "save_map"]

#: The analysis stages a map shows; a stage that did not run is named under "Not on this map".
MAP_STAGES = ("surfaces", "trends", "nearrepeat", "coverage", "forecast")

#: Layer groups in the layer list, in order.
G_ACT = "Places to act on"
G_SURFACE = "Shaded surface (one at a time)"
G_CONC = "Where crime concentrates"
G_CAMERAS = "Cameras"
G_MAP = "Map"

#: Metres around a ward that its map also shows: analysis layers, roads and names, ward outlines.
WARD_MARGIN_M = 300.0
WARD_CONTEXT_M = 1000.0
WARD_OUTLINES_M = 2000.0

SEARCH_HINT = "Ward, street, place or tasking id"


def _column(frame: pd.DataFrame, column: str) -> list[Any]:
    """A column some data have (wards given, location text, minute-precision times), else blanks."""
    return frame[column].tolist() if column in frame.columns else [""] * len(frame)


# --------------------------------------------------------------------------- shared pieces
@dataclass(frozen=True, eq=False)
class MapPieces:
    """Everything the maps of a run share, prepared once by :func:`prepare`.

    ``features`` holds each vector layer in EPSG:4326 by layer name (the names of ``layers.gpkg``);
    ``frames`` the same layers in the working CRS; ``overlays`` the shaded surfaces with their kind
    (``density``, ``forecast``, ``nearrepeat``); ``labels`` the placed street, ward and town-centre names as
    ``(lat, lon, text, angle, min_zoom, kind)``; ``places`` the named streets and town centres for the
    search box as ``(name, south, west, north, east)``; ``ward_areas`` each ward and the areas its map shows
    (EPSG:4326, see :func:`ward_areas`).
    """

    frames: dict[str, gpd.GeoDataFrame]
    features: dict[str, FeatureSet]
    overlays: tuple[tuple[str, Overlay], ...]
    gi_types: tuple[str, ...]
    labels: tuple[tuple[Any, ...], ...]
    places: tuple[tuple[Any, ...], ...]
    rcfg: RenderConfig
    crs: Any
    ward_areas: dict[str, tuple[BaseGeometry, ...]]
    not_run: dict[str, str] = field(default_factory=dict)


def _overlays(res: RunResults, rcfg: RenderConfig) -> tuple[list[tuple[str, Overlay]], list[str]]:
    """The density, forecast and near-repeat surfaces as coloured images, and the crime types with their own
    density and Gi* layers."""
    out: list[tuple[str, Overlay | None]] = []
    gi_types: list[str] = []
    surf = res.surfaces
    if surf is not None:
        hd = harm_density(res)
        if hd is not None:
            out.append(("density", kde_overlay(res.grid, hd[0], "Density of harm: all crime types", hd[1])))
        gi_types = [t for t in top_crime_types(res, rcfg.density_types) if t in surf.kde]
        for t in gi_types:
            name = f"Density: {crime_type_label(t)}"
            out.append(("density", kde_overlay(res.grid, surf.kde[t].surface, name, surf.kde[t].units)))
    fc = res.forecast
    if fc is not None:
        out.append(
            (
                "forecast",
                kde_overlay(
                    res.grid,
                    fc.expected,
                    "Forecast: expected incidents",
                    "expected incidents per cell over the horizon",
                    cmap=RAMPS["forecast"],
                ),
            )
        )
    nr = res.nearrepeat
    if nr is not None and nr.surface.shape == res.grid.shape:
        out.append(
            (
                "nearrepeat",
                kde_overlay(
                    res.grid, nr.surface, "Near-repeat burglary risk", "relative risk", cmap=RAMPS["nearrepeat"]
                ),
            )
        )
    return [(k, o) for k, o in out if o is not None], gi_types


def _labels(res: RunResults) -> list[Label]:
    """Street names (from the incidents' location texts and a named streets layer), ward and town-centre names,
    each with the zoom from which it shows (most important first)."""
    labels, latitude = labels_of_area(res.incidents, res.area)
    return thin_labels(labels, latitude=latitude)


def _places(labels: Sequence[Label], crs: Any) -> tuple[tuple[Any, ...], ...]:
    """Named streets and town centres for the search box: ``(name, south, west, north, east)``, once per name
    and place, sorted by name."""
    named = [lab for lab in labels if lab.kind in ("street", "town")]
    if not named:
        return ()
    ext = to_lonlat(shapely.box(*np.array([lab.extent for lab in named]).T), crs, 0.0, 5)
    rows: dict[tuple[str, float, float], tuple[Any, ...]] = {}
    for lab, g in zip(named, ext, strict=True):
        b = g.bounds
        rows.setdefault((lab.text.lower(), round(b[1], 2), round(b[0], 2)), (lab.text, b[1], b[0], b[3], b[2]))
    return tuple(sorted(rows.values(), key=lambda r: (r[0].lower(), r[1], r[2])))


def prepare(res: RunResults, layers: dict[str, gpd.GeoDataFrame] | None = None) -> MapPieces:
    """The pieces every map of a run shares (``layers`` from :func:`~hotspots.render.layers.vector_layers`
    when already built)."""
    rcfg = res.cfg.render
    frames = dict(layers if layers is not None else vector_layers(res))
    if res.area.roads is not None and len(res.area.roads):
        frames["roads"] = res.area.roads
    overlays, gi_types = _overlays(res, rcfg)
    features = {name: fs for name, fs in _feature_sets(frames, res.tasking, rcfg, gi_types).items() if fs is not None}
    labels = _labels(res)
    return MapPieces(
        frames=frames,
        features=features,
        overlays=tuple(overlays),
        gi_types=tuple(gi_types),
        labels=tuple(tuple(r) for r in label_rows(labels, res.area.crs, rcfg.coord_decimals)),
        places=_places(labels, res.area.crs),
        ward_areas=ward_areas(res.area.wards),
        rcfg=rcfg,
        crs=res.area.crs,
        not_run={s: res.not_run.get(s, "not run") for s in MAP_STAGES if not res.ran(s)},
    )


# --------------------------------------------------------------------------- features of each layer (once per run)
def _feature_sets(
    frames: dict[str, gpd.GeoDataFrame], tasking: TaskingList | None, rc: RenderConfig, gi_types: Sequence[str]
) -> dict[str, FeatureSet | None]:
    """Every vector layer's features in EPSG:4326 with their tooltips, popups and colours (the tasking items
    from the list itself, for its column headings)."""
    out: dict[str, FeatureSet | None] = {
        "wards": _ward_features(frames["wards"], rc),
        "roads": _road_features(frames.get("roads"), rc),
        "emerging_hotspots": _emerging_features(frames.get("emerging_hotspots"), rc),
        "hotspot_areas": _hotspot_area_features(frames.get("hotspot_areas"), rc),
        "fragile_hotspots": _fragile_features(frames.get("hotspot_robustness"), rc),
        "near_repeat_zones": _zone_features(frames.get("near_repeat_zones"), rc),
        "viewsheds": _viewshed_features(frames.get("viewsheds"), rc),
        "coverage_gaps": _gap_features(frames.get("coverage_gaps"), rc),
        "proposed_sites": _site_features(frames.get("proposed_sites"), rc),
        "anpr_readers": _reader_features(frames.get("anpr_readers"), rc),
        "cameras": _camera_features(frames.get("cameras"), rc),
        "tasking_items": _item_features(tasking, rc),
    }
    for t in gi_types:
        out[f"gistar_{t}"] = _gistar_features(frames.get(f"gistar_{t}"), t, rc)
    return out


def _empty(frame: gpd.GeoDataFrame | None) -> bool:
    return frame is None or not len(frame)


def _ward_features(w: gpd.GeoDataFrame, rc: RenderConfig) -> FeatureSet:
    """Ward outlines with the ward table in the popup."""
    has_table = "incidents" in w.columns
    pops = []
    for r in w.itertuples(index=False):
        rows: list[tuple[str, object]] = [("Code", r.ward_code)]
        if has_table and pd.notna(r.incidents):
            rows += [
                ("Rank by harm", int(r.rank) if pd.notna(r.rank) else ""),
                ("Incidents in the last year", f"{int(r.incidents):,}"),
                ("Harm", f"{r.harm:,.0f}"),
                ("Most common", crime_type_label(r.top_crime_type)),
            ]
        pops.append(popup_rows(rows))
    names = [str(n) for n in w["ward_name"]]
    return FeatureSet.build(
        w,
        {"t": names, "pt": names, "p": pops, "code": [str(c) for c in w["ward_code"]]},
        rc.simplify_m,
        rc.coord_decimals,
    )


def _road_features(roads: gpd.GeoDataFrame | None, rc: RenderConfig) -> FeatureSet | None:
    """Road lines (the road's name as tooltip when the streets layer has names), wider for major roads."""
    if _empty(roads):
        return None
    assert roads is not None
    names = [n if isinstance(n, str) else "" for n in _column(roads, "name")]
    cls = [str(c) for c in _column(roads, "road_class")]
    return FeatureSet.build(roads, {"t": names, "k": cls}, max(rc.simplify_m, 10.0), rc.coord_decimals)


def _gistar_features(g: gpd.GeoDataFrame | None, crime_type: str, rc: RenderConfig) -> FeatureSet | None:
    """Gi* hot and cold cells of one crime type, coloured by confidence."""
    if _empty(g):
        return None
    assert g is not None
    label = crime_type_label(crime_type)
    return FeatureSet.build(
        g,
        {
            "c": [GI_COLOURS[int(v)] for v in g["value"]],
            "t": [f"{lab.capitalize()}: {label} ({n} cells)" for lab, n in zip(g["label"], g["cells"], strict=True)],
            "v": [int(v) for v in g["value"]],
        },
        0.0,
        rc.coord_decimals,
    )


def _emerging_features(e: gpd.GeoDataFrame | None, rc: RenderConfig) -> FeatureSet | None:
    """Emerging-hotspot classes, one colour per class, with what the class means."""
    if _empty(e):
        return None
    assert e is not None
    return FeatureSet.build(
        e,
        {
            "c": [EMERGING_COLOURS.get(lab, EMERGING_OTHER) for lab in e["label"]],
            "t": [f"{str(lab).capitalize()}: {ex}" for lab, ex in zip(e["label"], e["explanation"], strict=True)],
            "k": [str(lab) for lab in e["label"]],
        },
        0.0,
        rc.coord_decimals,
    )


def _hotspot_area_features(ha: gpd.GeoDataFrame | None, rc: RenderConfig) -> FeatureSet | None:
    """Hotspot areas of every crime type, with their figures in the popup."""
    if _empty(ha):
        return None
    assert ha is not None
    pops, titles = [], []
    for r, wards, places, day, hour in zip(
        ha.itertuples(index=False),
        _column(ha, "ward_names"),
        _column(ha, "top_locations"),
        _column(ha, "peak_day"),
        _column(ha, "peak_hour"),
        strict=False,
    ):
        peak = f"{day} {int(hour):02d}:00" if isinstance(day, str) and day and pd.notna(hour) and hour != "" else ""
        titles.append(f"Hotspot area: {crime_type_label(r.crime_type)}")
        pops.append(
            popup_rows(
                [
                    ("Area", f"#{r.area_id}, rank {r.rank} for this crime type"),
                    ("Incidents", r.incidents),
                    ("Harm", f"{r.harm:,.0f}"),
                    ("Wards", wards),
                    ("Locations", places),
                    ("Peak", peak),
                ]
            )
        )
    return FeatureSet.build(
        ha,
        {"pt": titles, "p": pops, "t": titles},
        rc.simplify_m,
        rc.coord_decimals,
    )


def _fragile_features(rob: gpd.GeoDataFrame | None, rc: RenderConfig) -> FeatureSet | None:
    """The fragile hotspot areas (the concentration stage's ``hotspot_robustness`` rows with ``fragile``): hotspots
    that few other grids and search radii find, in plain words."""
    if _empty(rob):
        return None
    assert rob is not None
    f = rob[rob["fragile"].astype(bool)].reset_index(drop=True)
    if not len(f):
        return None
    tips, pops = [], []
    for t, share, grid, radius in zip(
        f["crime_type"], f["robustness"], f["grid_robustness"], f["radius_robustness"], strict=True
    ):
        label = crime_type_label(str(t))
        tips.append(f"Hotspot that depends on the grid: {label} (found by {share:.0%} of other grids and radii)")
        pops.append(
            popup_rows(
                [
                    ("Crime type", label),
                    ("Found by", f"{share:.0%} of the other grids and search radii tried"),
                    ("Other grid sizes and positions", _share(grid)),
                    ("Other search radii", _share(radius)),
                    (
                        "What it means",
                        "It may be an accident of where the grid lines fall: look at the incidents before tasking "
                        "patrols to it.",
                    ),
                ]
            )
        )
    title = "Hotspot that depends on the grid"
    return FeatureSet.build(f, {"pt": [title] * len(f), "p": pops, "t": tips}, rc.simplify_m, rc.coord_decimals)


def _share(v: object) -> str:
    """A share 0..1 as "38%", "" when not known."""
    return f"{float(v):.0%}" if isinstance(v, (int, float, np.number)) and np.isfinite(v) else ""


def _zone_features(z: gpd.GeoDataFrame | None, rc: RenderConfig) -> FeatureSet | None:
    """Near-repeat alert zones with their expiry dates and streets."""
    if _empty(z):
        return None
    assert z is not None
    pops, tips = [], []
    for zid, ex, n, st in zip(
        z["zone_id"], z["expiry_date"], _column(z, "n_burglaries"), _column(z, "streets"), strict=True
    ):
        ex = f"{pd.Timestamp(ex):%a %d %b %Y}"
        pops.append(popup_rows([("Zone", zid), ("Expires", ex), ("Burglaries", n), ("Streets", st)]))
        tips.append(f"Near-repeat alert zone, expires {ex}")
    return FeatureSet.build(
        z, {"pt": ["Near-repeat alert zone"] * len(z), "p": pops, "t": tips}, rc.simplify_m, rc.coord_decimals
    )


def _camera_features(f: gpd.GeoDataFrame | None, rc: RenderConfig) -> FeatureSet | None:
    """Cameras of the inventory, described in the inventory's own words."""
    if _empty(f):
        return None
    assert f is not None
    desc = [d if isinstance(d, str) and d.strip() else "" for d in _column(f, "description")]
    tips = [f"Camera {i}: {d}" if d else f"Camera {i}" for i, d in zip(f["camera_id"], desc, strict=True)]
    pops = [
        popup_rows([("Camera", i), ("Description", d), ("Type", t), ("Status", s), ("Range", _metres(rg))])
        for i, d, t, s, rg in zip(
            f["camera_id"], desc, _column(f, "type"), _column(f, "status"), _column(f, "range_m"), strict=True
        )
    ]
    return FeatureSet.build(f, {"t": tips, "p": pops}, 0.0, rc.coord_decimals)


def _metres(v: object) -> str:
    return f"{float(v):,.0f} m" if isinstance(v, (int, float, np.number)) and np.isfinite(v) else ""


def _viewshed_features(f: gpd.GeoDataFrame | None, rc: RenderConfig) -> FeatureSet | None:
    """What each camera can see."""
    if _empty(f):
        return None
    assert f is not None
    return FeatureSet.build(f, {"t": [f"View of camera {i}" for i in f["camera_id"]]}, rc.simplify_m, rc.coord_decimals)


def _gap_features(f: gpd.GeoDataFrame | None, rc: RenderConfig) -> FeatureSet | None:
    """Places where harm is high and cameras see little of it."""
    if _empty(f):
        return None
    assert f is not None
    names = [
        str(lab) if isinstance(lab, str) and lab else str(g)
        for lab, g in zip(_column(f, "label"), f["gap_id"], strict=True)
    ]
    names = [crime_type_label(n) if n in CRIME_TYPE_LABELS else n for n in names]  # a crime type: in words
    pops = [
        popup_rows(
            [
                ("Rank", r),
                ("Place", n),
                ("Harm not seen by a camera", f"{h:,.0f}" if pd.notna(h) else ""),
                ("Share seen", f"{100 * s:.0f}%" if pd.notna(s) else ""),
            ]
        )
        for r, n, h, s in zip(
            _column(f, "rank"), names, _column(f, "harm_uncovered"), _column(f, "covered_share"), strict=True
        )
    ]
    tips = [f"CCTV gap {r}: {n}" for r, n in zip(_column(f, "rank"), names, strict=True)]
    return FeatureSet.build(
        f, {"pt": ["CCTV coverage gap"] * len(f), "p": pops, "t": tips}, rc.simplify_m, rc.coord_decimals
    )


def _site_features(f: gpd.GeoDataFrame | None, rc: RenderConfig) -> FeatureSet | None:
    """Proposed new camera sites, named by their nearest street (else their road where known)."""
    if _empty(f):
        return None
    assert f is not None
    roads = [
        s if isinstance(s, str) and s else (r if isinstance(r, str) else "")
        for s, r in zip(_column(f, "street"), _column(f, "road_name"), strict=True)
    ]
    tips = [f"Proposed camera site {k}" + (f": {r}" if r else "") for k, r in zip(f["rank"], roads, strict=True)]
    pops = [
        popup_rows(
            [
                ("Rank", k),
                ("Road", r),
                ("Harm it would see", f"{h:,.0f}" if isinstance(h, (int, float)) and np.isfinite(h) else ""),
            ]
        )
        for k, r, h in zip(f["rank"], roads, _column(f, "expected_harm_covered"), strict=True)
    ]
    ranks = list(f["rank"])
    return FeatureSet.build(
        f, {"t": tips, "pt": ["Proposed camera site"] * len(f), "p": pops, "r": ranks}, 0.0, rc.coord_decimals
    )


def _reader_features(f: gpd.GeoDataFrame | None, rc: RenderConfig) -> FeatureSet | None:
    """Proposed ANPR readers at the borough's entry points, with their road in words (``road``: "A road near
    Barnet Lane", else the road's name)."""
    if _empty(f):
        return None
    assert f is not None
    roads = [
        w if isinstance(w, str) and w else (r if isinstance(r, str) else "")
        for w, r in zip(_column(f, "road"), _column(f, "road_name"), strict=True)
    ]
    tips = [f"Proposed ANPR reader {k}" + (f": {r}" if r else "") for k, r in zip(f["chosen_rank"], roads, strict=True)]
    pops = [popup_rows([("Rank", k), ("Road", r)]) for k, r in zip(f["chosen_rank"], roads, strict=True)]
    ranks = list(f["chosen_rank"])
    return FeatureSet.build(
        f, {"t": tips, "pt": ["Proposed ANPR reader"] * len(f), "p": pops, "r": ranks}, 0.0, rc.coord_decimals
    )


#: Tasking-list columns a map shows elsewhere than in the popup's rows (the popup's title, the rank badge).
ITEM_TITLE_COLUMNS = ("rank", "item_id", "place_name")


def _item_features(tasking: TaskingList | None, rc: RenderConfig) -> FeatureSet | None:
    """The tasking items: rank badge position, tooltip, and a popup with the list's own columns (the
    :meth:`~hotspots.stages.tasking_list.TaskingList.page_columns` with their headings, values as in
    ``tasking.csv``: crime types in words, harm a whole number), one item per place."""
    if tasking is None or not len(tasking.items):
        return None
    it = tasking.items
    values = tasking.to_frame().iloc[: len(it)]  # ranked items first, then closed ones (not on the map)
    cols = [c for c in tasking.page_columns() if c.key not in ITEM_TITLE_COLUMNS]
    at = to_lonlat(shapely.point_on_surface(it.geometry.to_numpy()), it.crs, 0.0, rc.coord_decimals)
    ranks = [int(r) for r in it["rank"]]
    ids = [str(i) for i in it["item_id"]]
    places = [str(plain(n)) or i for n, i in zip(it["place_name"], ids, strict=True)]
    problems = [str(plain(m)) for m in it["main_crime"]]
    pops = [popup_rows([(c.label, _item_value(c.key, row[c.key])) for c in cols]) for _, row in values.iterrows()]
    return FeatureSet.build(
        it,
        {
            "r": ranks,
            "id": ids,
            "place": places,
            "pt": [f"Rank {r}: {n} ({i})" for r, n, i in zip(ranks, places, ids, strict=True)],
            "t": [
                f"Rank {r}: {n}, {m}" if m else f"Rank {r}: {n}"
                for r, n, m in zip(ranks, places, problems, strict=True)
            ],
            "p": pops,
            "main": problems,
            "status": [str(plain(s)) for s in it["status"]],
            "at": [[float(p.y), float(p.x)] for p in at],
            "ward": [str(w) for w in it["ward_code"]],
            "fragile": [
                FRAGILE_WORDS if str(plain(r)).startswith("fragile") else "" for r in _column(it, "robustness")
            ],
        },
        rc.simplify_m,
        rc.coord_decimals,
    )


def _item_value(column: str, value: object) -> object:
    """A tasking-list value as a popup shows it: dates as YYYY-MM-DD, counts and the score as 1,234."""
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, (int, np.integer)) and column != "rank":
        return f"{int(value):,}"
    if column == "score" and isinstance(value, (float, np.floating)) and np.isfinite(value):
        return f"{float(value):,.0f}"
    return value


# --------------------------------------------------------------------------- one function per layer
@dataclass(frozen=True)
class _View:
    """What every layer of one map shares: the prepared pieces, the ward (None = borough) and its clip areas
    (EPSG:4326)."""

    pieces: MapPieces
    ward_code: str | None
    near: BaseGeometry | None  # the ward and WARD_MARGIN_M around it
    context: BaseGeometry | None  # WARD_CONTEXT_M around the ward (roads, names)
    outlines: BaseGeometry | None  # WARD_OUTLINES_M around the ward (neighbouring ward outlines)


def _vector(
    v: _View,
    key: str,
    clip: BaseGeometry | None,
    lid: str,
    name: str,
    group: str,
    pane: str,
    show: bool,
    legend: dict,
    cut: bool = True,
) -> MapLayer | None:
    """A vector layer of the prepared features ``key``, limited to ``clip`` (cut to it, or whole with ``cut=False``)."""
    fs = v.pieces.features.get(key)
    if fs is None:
        return None
    fs = fs.clip(clip, cut=cut)
    if not len(fs):
        return None
    style = LAYER_STYLES[key]
    return MapLayer(lid, name, group, "vector", show, pane, legend, {"style": style_data(style)}, features=fs)


def tasking_layer(v: _View) -> MapLayer | None:
    """Tasking items, numbered by rank and drawn above every other layer; a ward map shows those touching it."""
    fs = v.pieces.features.get("tasking_items")
    if fs is None:
        return None
    if v.near is not None:
        fs = fs.clip(v.near, cut=False)
    if not len(fs):
        return None
    s = LAYER_STYLES["tasking_items"]
    legend = {"title": "Tasking items", "entries": [entry(s, "Place on the tasking list (number = its rank)")]}
    return MapLayer(
        "items",
        "Tasking items",
        G_ACT,
        "vector",
        True,
        "hs-items",
        legend,
        {"style": style_data(s), "ranks": True},
        features=fs,
    )


def near_repeat_layer(v: _View) -> MapLayer | None:
    """Near-repeat alert zones with their expiry dates."""
    s = LAYER_STYLES["near_repeat_zones"]
    legend = {"title": "Near-repeat alert zones", "entries": [entry(s, "Raised burglary risk until the zone expires")]}
    return _vector(
        v, "near_repeat_zones", v.near, "zones", "Near-repeat alert zones", G_ACT, "hs-areas", True, legend, cut=False
    )


def _ramp_legend(o: Overlay) -> dict[str, Any]:
    top = f"{o.vmax:,.0f}" if o.vmax >= 10 else f"{o.vmax:.2g}"
    return {"low": "low", "high": f"high ({top} {o.units})", "colours": list(o.colours)}


def surface_layers(v: _View) -> list[MapLayer]:
    """The shaded surfaces (density, forecast, near-repeat risk), one at a time; the first is shown."""
    out = []
    for i, (kind, o) in enumerate(v.pieces.overlays):
        out.append(
            MapLayer(
                f"surface-{i}",
                o.name,
                G_SURFACE,
                "image",
                i == 0,
                "hs-surface",
                {"title": o.name, "ramp": _ramp_legend(o), "entries": []},
                {"uri": o.uri, "bounds": o.bounds, "opacity": 0.75, "kind": kind},
                exclusive=True,
            )
        )
    return out


def gistar_layers(v: _View) -> list[MapLayer]:
    """Gi* hot and cold cells of the crime types with most harm."""
    out = []
    for t in v.pieces.gi_types:
        fs = v.pieces.features.get(f"gistar_{t}")
        if fs is None:
            continue
        fs = fs.clip(v.near)
        if not len(fs):
            continue
        present = sorted({int(p["v"]) for p in fs.props}, reverse=True)
        s = LAYER_STYLES["gistar"]
        legend = {
            "title": f"Hot and cold spots (Gi*): {crime_type_label(t)}",
            "entries": [entry(s, GI_LABELS[k].capitalize(), GI_COLOURS[k]) for k in present],
        }
        out.append(
            MapLayer(
                f"gistar-{t}",
                f"Hot and cold spots: {crime_type_label(t)}",
                G_CONC,
                "vector",
                False,
                "hs-cells",
                legend,
                {"style": style_data(s)},
                features=fs,
            )
        )
    return out


def emerging_layer(v: _View) -> MapLayer | None:
    """Emerging-hotspot classes (trend over time), one colour per class."""
    fs = v.pieces.features.get("emerging_hotspots")
    if fs is None:
        return None
    fs = fs.clip(v.near)
    if not len(fs):
        return None
    s = LAYER_STYLES["emerging_hotspots"]
    classes = list(dict.fromkeys(p["k"] for p in fs.props))
    legend = {
        "title": "Emerging hotspots (trend class)",
        "entries": [entry(s, k.capitalize(), EMERGING_COLOURS.get(k, EMERGING_OTHER)) for k in classes],
    }
    return MapLayer(
        "emerging",
        "Emerging hotspots (trend class)",
        G_CONC,
        "vector",
        False,
        "hs-cells",
        legend,
        {"style": style_data(s)},
        features=fs,
    )


def hotspot_areas_layer(v: _View) -> MapLayer | None:
    """Hotspot areas of every crime type (outlines)."""
    s = LAYER_STYLES["hotspot_areas"]
    legend = {"title": "Hotspot areas", "entries": [entry(s, "Hotspot area of one crime type (Gi*)")]}
    return _vector(
        v,
        "hotspot_areas",
        v.near,
        "areas",
        "Hotspot areas (by crime type)",
        G_CONC,
        "hs-areas",
        False,
        legend,
        cut=False,
    )


def fragile_layer(v: _View) -> MapLayer | None:
    """Hotspot areas that few other grids and search radii find (fragile), a layer to switch on beside the hotspot
    areas (a fragile tasking item says so in its popup and in the list of places)."""
    s = LAYER_STYLES["fragile_hotspots"]
    legend = {
        "title": "Hotspots that depend on the grid",
        "entries": [entry(s, "Hotspot that depends on the grid: other grid sizes, positions or radii rarely find it")],
    }
    return _vector(
        v,
        "fragile_hotspots",
        v.near,
        "fragile",
        "Hotspots that depend on the grid",
        G_CONC,
        "hs-areas",
        False,
        legend,
        cut=False,
    )


def camera_layers(v: _View) -> list[MapLayer]:
    """Cameras, what they see, the coverage gaps, proposed camera sites and proposed ANPR readers."""
    spec = (
        ("cameras", "cameras", "Cameras", "hs-points", True, "Camera of the inventory"),
        ("viewsheds", "viewsheds", "Camera views", "hs-areas", False, "What a camera can see"),
        ("coverage_gaps", "gaps", "CCTV coverage gaps", "hs-areas", False, "High harm that cameras see little of"),
        ("proposed_sites", "sites", "Proposed camera sites", "hs-points", False, "Proposed new camera"),
        ("anpr_readers", "anpr", "Proposed ANPR readers", "hs-points", False, "Proposed ANPR reader"),
    )
    out = []
    for key, lid, name, pane, show, what in spec:
        s = LAYER_STYLES[key]
        legend = {"title": name, "entries": [entry(s, what)]}
        layer = _vector(v, key, v.near, lid, name, G_CAMERAS, pane, show, legend, cut=False)
        if layer is not None:
            out.append(layer)
    return out


def ward_layers(v: _View) -> list[MapLayer]:
    """Ward outlines (always), and on a ward map the ward's own outline drawn heavier."""
    out = []
    s = LAYER_STYLES["wards"]
    wards = _vector(
        v,
        "wards",
        v.outlines,
        "wards",
        "Ward boundaries",
        G_MAP,
        "hs-context",
        True,
        {"title": "Wards", "entries": [entry(s, "Ward boundary")]},
        cut=False,
    )
    if wards is not None:
        out.append(wards)
    if v.ward_code is not None:
        fs = v.pieces.features["wards"]
        keep = [i for i, p in enumerate(fs.props) if p["code"] == v.ward_code]
        one = fs.take(keep)
        f = LAYER_STYLES["ward_focus"]
        out.append(
            MapLayer(
                "ward",
                "This ward",
                G_MAP,
                "vector",
                True,
                "hs-context",
                {"title": "This ward", "entries": [entry(f, "Boundary of this ward")]},
                {"style": style_data(f)},
                features=one,
            )
        )
    return out


#: Road line widths in pixels by class (other classes: the palette's roads width).
ROAD_WIDTHS = {"motorway": 3.2, "a_road": 2.6, "b_road": 2.0}


def roads_layer(v: _View) -> MapLayer | None:
    """Roads as context (they stand in for the basemap), wider for motorways, A and B roads."""
    s = LAYER_STYLES["roads"]
    layer = _vector(
        v,
        "roads",
        v.context,
        "roads",
        "Roads",
        G_MAP,
        "hs-context",
        True,
        {"title": "Roads", "entries": [entry(s, "Road")]},
    )
    if layer is not None:
        layer.content["style"]["widths"] = ROAD_WIDTHS
    return layer


def _label_rows(v: _View, kinds: set[str], clip: BaseGeometry | None) -> list[list[Any]]:
    """The prepared labels of ``kinds`` whose position lies in ``clip``'s bounding box (all when None)."""
    rows = [list(r) for r in v.pieces.labels if r[5] in kinds]
    if clip is None:
        return rows
    x0, y0, x1, y1 = clip.bounds
    return [r for r in rows if x0 <= r[1] <= x1 and y0 <= r[0] <= y1]


def name_layers(v: _View) -> list[MapLayer]:
    """Street names, and ward and town-centre names, placed by zoom level (no internet needed)."""
    out = []
    streets = _label_rows(v, {"street"}, v.context)
    if streets:
        out.append(
            MapLayer(
                "streets",
                "Street names",
                G_MAP,
                "labels",
                True,
                "hs-labels",
                {
                    "title": "Street names",
                    "entries": [
                        {
                            "symbol": "text",
                            "colour": LABEL_COLOURS["street"],
                            "label": "Street (more appear as you zoom in)",
                        }
                    ],
                },
                {"rows": streets},
            )
        )
    places = _label_rows(v, {"ward", "town"}, v.outlines)
    if places:
        kinds = {r[5] for r in places}
        entries = [
            {"symbol": "text", "colour": LABEL_COLOURS[k], "label": lab}
            for k, lab in (("ward", "Ward name"), ("town", "Town centre"))
            if k in kinds
        ]
        out.append(
            MapLayer(
                "places",
                "Ward and town-centre names",
                G_MAP,
                "labels",
                True,
                "hs-labels",
                {"title": "Names", "entries": entries},
                {"rows": places},
            )
        )
    return out


# --------------------------------------------------------------------------- the page
def _search_rows(v: _View, layers: Sequence[MapLayer]) -> list[list[Any]]:
    """``[label, s, w, n, e, item id]`` for every ward, tasking item and street on the map."""
    rows: list[list[Any]] = []
    wards = v.pieces.features["wards"].clip(v.outlines)
    for g, p in zip(wards.geoms, wards.props, strict=True):
        b = g.bounds
        for lab in (p["t"], p["code"]):
            rows.append([lab, b[1], b[0], b[3], b[2], ""])
    for layer in layers:
        if layer.id == "items" and layer.features is not None:
            for g, p in zip(layer.features.geoms, layer.features.props, strict=True):
                b = g.bounds
                for lab in dict.fromkeys((p["id"], p["place"])):  # the id, and the place's name when it has one
                    rows.append([lab, b[1], b[0], b[3], b[2], p["id"]])
    box = v.context.bounds if v.context is not None else None
    for name, south, west, north, east in v.pieces.places:
        if box is None or (west <= box[2] and east >= box[0] and south <= box[3] and north >= box[1]):
            rows.append([name, south, west, north, east, ""])
    rows.sort(key=lambda r: (str(r[0]).lower(), r[1], r[2]))
    return rows


def _item_list(v: _View, items: MapLayer | None, title: str) -> dict[str, Any]:
    """The list panel: the ward's own items (ward map) or every item (borough map), by rank."""
    props = items.features.props if items is not None and items.features is not None else ()
    own = [p for p in props if v.ward_code is None or p["ward"] == v.ward_code]
    own.sort(key=lambda p: p["r"])
    rows = []
    for p in own:
        rows.append(
            {
                "rank": p["r"],
                "id": p["id"],
                "text": p["place"],
                "detail": " · ".join(str(x) for x in (p["main"], p["status"], p.get("fragile", ""), p["id"]) if x),
            }
        )
    return {
        "title": f"{title} ({len(rows)})",
        "tab": f"Items ({len(rows)})",
        "empty": "No tasking item is owned by this ward at this meeting."
        if v.ward_code
        else "The tasking list is empty.",
        "rows": rows,
    }


def _basemap(rc: RenderConfig) -> dict[str, str] | None:
    if rc.basemap == "none":
        return None
    if rc.basemap == "osm":
        return {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "© OpenStreetMap contributors"}
    return {"url": rc.basemap, "attribution": rc.attribution}


def ward_areas(wards: gpd.GeoDataFrame) -> dict[str, tuple[BaseGeometry, ...]]:
    """Ward code -> (the ward, and it with WARD_MARGIN_M, WARD_CONTEXT_M and WARD_OUTLINES_M around it), in
    EPSG:4326: what a ward map cuts its layers to."""
    geoms = wards.geometry.to_numpy()
    rough = shapely.simplify(geoms, 25.0)  # full-resolution outlines buffer slowly; 25 m is plenty here
    rings = [geoms] + [shapely.buffer(rough, m, quad_segs=4) for m in (WARD_MARGIN_M, WARD_CONTEXT_M, WARD_OUTLINES_M)]
    ll = gpd.GeoSeries(np.concatenate(rings), crs=wards.crs).to_crs(WGS84).to_numpy().reshape(4, len(wards))
    return {str(c): tuple(ll[:, i]) for i, c in enumerate(wards["ward_code"])}


def build_map(res: RunResults, pieces: MapPieces, ward_code: str | None = None, title: str = "") -> MapPage:
    """The borough map, or one ward's map when ``ward_code`` is given (a page that works offline)."""
    cfg = res.cfg
    if ward_code is not None:
        focus, near, context, outlines = pieces.ward_areas[ward_code]
        v = _View(pieces, ward_code, near, context, outlines)
        name = str(res.area.wards.loc[res.area.wards["ward_code"] == ward_code, "ward_name"].iat[0])
        title = title or f"{name} ward"
        kind = "ward"
    else:
        v = _View(pieces, None, None, None, None)
        title = title or cfg.project.name
        kind = "borough"
    items = tasking_layer(v)
    layers = [
        items,
        near_repeat_layer(v),
        *surface_layers(v),
        *gistar_layers(v),
        hotspot_areas_layer(v),
        fragile_layer(v),
        emerging_layer(v),
        *camera_layers(v),
        *ward_layers(v),
        roads_layer(v),
        *name_layers(v),
    ]
    present = [layer for layer in layers if layer is not None]
    if ward_code is not None:
        view = _ward_view(focus, items, ward_code)
    else:
        view = bounds_lonlat(res.area.boundary, res.area.crs)
    fim = res.fim_date
    subtitle = (
        f"{cfg.project.name} · " if ward_code is not None else ""
    ) + f"Fortnightly Intelligence Meeting {fim:%d %B %Y} · incidents to {fim - pd.Timedelta(days=1):%d %B %Y}"
    data = {
        "kind": kind,
        "view": view,
        "basemap": _basemap(pieces.rcfg),
        "search": _search_rows(v, present),
        "list": _item_list(v, items, "Tasking items owned by this ward" if ward_code else "Tasking list"),
        "about": [
            "Click a place for its details; the numbers are the places' ranks on the tasking list.",
            "Switch layers on and off under Layers; the legend shows the layers that are on.",
            f"This page needs no internet: everything it shows is inside the file (hotspots {__version__}).",
        ],
        "notes": [f"{stage_label(s)}: {why}" for s, why in pieces.not_run.items()] + _zone_notes(res),
        "credits": "",
    }
    return MapPage(title=title, subtitle=subtitle, data=data, layers=tuple(present), search_hint=SEARCH_HINT)


def _zone_notes(res: RunResults) -> list[str]:
    """Why the map has no near-repeat alert zone when the analysis ran and none is live."""
    nr = res.nearrepeat
    if nr is None or len(nr.zones):
        return []
    return [f"Near-repeat alert zones: none live. {nr.zones_reason}"]


def _ward_view(focus: BaseGeometry, items: MapLayer | None, ward_code: str) -> list[list[float]]:
    """The first view of a ward map: the ward and the whole of every item it owns."""
    geoms = [focus]
    if items is not None and items.features is not None:
        geoms += [g for g, p in zip(items.features.geoms, items.features.props, strict=True) if p["ward"] == ward_code]
    b = shapely.union_all(geoms).bounds
    return [[round(b[1], 5), round(b[0], 5)], [round(b[3], 5), round(b[2], 5)]]


def save_map(page: MapPage, path: Any) -> None:
    """Write a map page to one self-contained HTML file (refused if anything would load from outside)."""
    page.save(path)
