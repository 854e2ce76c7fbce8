"""ANPR: borough entry/exit points, their weights, existing coverage and where k readers go.

About a third of arrested suspects live outside the borough, so readers belong
where roads cross the borough boundary. Each crossing (roads intersected with
the boundary line, crossings closer than ``merge_distance_m`` merged) is an
entry point weighted by

    weight = class_weight(road_class) x (1 + crime_weight x near / mean(near))

where ``near`` is the harm of burglary and vehicle crime (``[anpr]
crime_types``) within ``crime_radius_m`` metres of the point. When the roads
carry no class (e.g. the DfT Major Road Network extract), every class weight is
1 and the result says so. A reader covers the entry points within
``cover_distance_m`` metres that stands on (within ``on_road_m`` of) the
entry's road; existing live ANPR readers are fixed and k new
readers (default 20) are chosen at entry points to cover the most remaining
weight (maximal covering, :mod:`.siting`). Flows along the road network are not
modelled: the weights stand in for them.

Everything is in the working CRS (metres).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..config.sections import AnprConfig
from ..crs import DEFAULT_CRS
from ..errors import InputError
from ..geo.checks import require_same_crs
from .siting import solve_mclp


@dataclass(frozen=True, eq=False)
class AnprResult:
    """Entry points (GeoDataFrame, working CRS) with weights, existing coverage and the chosen readers."""

    entries: gpd.GeoDataFrame
    readers: gpd.GeoDataFrame  # chosen new reader sites, in order of marginal gain
    weight_total: float
    weight_existing: float
    weight_with_new: float
    method: str
    gap: float
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.entries.drop(columns="geometry"))

    def summary(self) -> pd.DataFrame:
        t = self.weight_total or 1.0
        return pd.DataFrame(
            [
                {
                    "entry_points": len(self.entries),
                    "weight_total": self.weight_total,
                    "share_existing_readers": self.weight_existing / t,
                    "new_readers": len(self.readers),
                    "share_with_new_readers": self.weight_with_new / t,
                    "method": self.method,
                    "gap_to_bound": self.gap,
                    "notes": "; ".join(self.notes),
                }
            ]
        )


def _line_parts(g):
    if g.is_empty:
        return []
    if g.geom_type in ("Point",):
        return [(g.x, g.y)]
    if g.geom_type == "MultiPoint":
        return [(p.x, p.y) for p in g.geoms]
    if g.geom_type in ("LineString", "LinearRing"):
        # a road running along the boundary: its midpoint
        p = g.interpolate(0.5, normalized=True)
        return [(p.x, p.y)]
    if hasattr(g, "geoms"):
        out = []
        for part in g.geoms:
            out.extend(_line_parts(part))
        return out
    return []


def entry_points(boundary, roads, merge_distance_m: float = 30.0, snap_m: float = 5.0, crs=DEFAULT_CRS):
    """Points where ``roads`` cross ``boundary`` (shapely polygon in ``crs``, the working CRS, metres;
    roads are reprojected to it).

    Road data split into links at administrative boundaries often leaves the
    link ends a metre or so off the boundary line; a road end within
    ``snap_m`` metres of the boundary counts as a crossing there.

    Returns a GeoDataFrame ``entry_id, x, y, road_name, road_class, n_crossings, road_idx``
    (``road_idx``: positions in ``roads`` of the road(s) crossing there, ``;``-separated);
    crossings within ``merge_distance_m`` of each other are merged (the
    highest road class and the first name are kept).
    """
    ring = boundary.boundary
    r = roads.to_crs(crs) if roads.crs is not None else roads
    r = r.reset_index(drop=True)
    r = r[r.geometry.dwithin(ring, snap_m) if snap_m > 0 else r.geometry.intersects(ring)]
    xs, ys, names, classes, ridx = [], [], [], [], []
    for i in range(len(r)):
        geom = r.geometry.iat[i]
        pts = _line_parts(geom.intersection(ring))
        if snap_m > 0 and not pts:
            for part in getattr(geom, "geoms", [geom]):
                for end in (shapely.Point(part.coords[0]), shapely.Point(part.coords[-1])):
                    if end.distance(ring) <= snap_m:
                        q = ring.interpolate(ring.project(end))
                        pts.append((q.x, q.y))
        for x, y in pts:
            ridx.append(int(r.index[i]))
            xs.append(x)
            ys.append(y)
            names.append(str(r["name"].iat[i]) if "name" in r.columns and pd.notna(r["name"].iat[i]) else "")
            classes.append(
                str(r["road_class"].iat[i])
                if "road_class" in r.columns and pd.notna(r["road_class"].iat[i])
                else "unclassified"
            )
    cols = ["entry_id", "x", "y", "road_name", "road_class", "n_crossings", "road_idx"]
    if not xs:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs)
    xy = np.c_[xs, ys]
    order_rank = {"motorway": 0, "a_road": 1, "b_road": 2, "minor": 3}
    if merge_distance_m > 0 and len(xy) > 1:
        pairs = cKDTree(xy).query_pairs(merge_distance_m, output_type="ndarray")
        g = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(xy), len(xy)))
        _, lab = connected_components(g, directed=False)
    else:
        lab = np.arange(len(xy))
    rows = []
    for c in np.unique(lab):
        idx = np.nonzero(lab == c)[0]
        best = min(idx, key=lambda t: (order_rank.get(classes[t], 9), t))
        nm = next((names[t] for t in idx if names[t]), "")
        rows.append(
            {
                "x": float(xy[idx, 0].mean()),
                "y": float(xy[idx, 1].mean()),
                "road_name": nm,
                "road_class": classes[best],
                "n_crossings": int(len(idx)),
                "road_idx": ";".join(str(v) for v in sorted({ridx[t] for t in idx})),
            }
        )
    df = pd.DataFrame(rows).sort_values(["x", "y"]).reset_index(drop=True)
    df.insert(0, "entry_id", [f"E{i + 1:03d}" for i in range(len(df))])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=crs)


def weight_entries(entries, config: AnprConfig, crime_x=None, crime_y=None, crime_harm=None):
    """Add ``class_weight, crime_near, weight`` to entry points (see module docstring)."""
    e = entries.copy()
    e["class_weight"] = [float(config.class_weights.get(c, config.unknown_class_weight)) for c in e["road_class"]]
    near = np.zeros(len(e))
    if crime_x is not None and len(crime_x) and len(e):
        tree = cKDTree(np.c_[np.asarray(crime_x, float), np.asarray(crime_y, float)])
        h = np.ones(len(crime_x)) if crime_harm is None else np.asarray(crime_harm, float)
        for i, nb in enumerate(tree.query_ball_point(np.c_[e["x"], e["y"]], config.crime_radius_m)):
            near[i] = h[nb].sum()
    e["crime_near"] = near
    m = near.mean() if len(near) else 0.0
    rel = near / m if m > 0 else np.zeros(len(near))
    e["weight"] = e["class_weight"] * (1.0 + config.crime_weight * rel)
    return e


def _on_road(entries, roads, px, py, on_road_m):
    """(n_entries, n_points) bool: point within ``on_road_m`` of one of the entry's roads."""
    out = np.zeros((len(entries), len(px)), bool)
    pts = shapely.points(px, py)
    for i, ri in enumerate(entries["road_idx"]):
        for j in str(ri).split(";"):
            if j != "":
                out[i] |= shapely.dwithin(roads.geometry.iat[int(j)], pts, on_road_m)
    return out


def anpr_siting(entries, existing_readers, config: AnprConfig, k: int | None = None, roads=None) -> AnprResult:
    """Which entry points existing readers cover, and where ``k`` new readers cover most weight.

    With ``roads`` (the frame ``entries`` were built from), a reader covers an
    entry point only when it also stands on that entry's road."""

    k = config.k if k is None else int(k)
    notes = []
    e = entries.copy().reset_index(drop=True)
    n = len(e)
    if n == 0:
        raise InputError(
            "no road crosses the borough boundary: check the roads file covers the boundary "
            "(it should extend beyond it) and is in the same area."
        )
    xy = np.c_[e["x"].to_numpy(float), e["y"].to_numpy(float)]
    w = e["weight"].to_numpy(float)
    d_cov = config.cover_distance_m
    if existing_readers is not None and len(existing_readers):
        rx = existing_readers["x"].to_numpy(float)
        ry = existing_readers["y"].to_numpy(float)
        D = np.hypot(xy[:, 0:1] - rx[None, :], xy[:, 1:2] - ry[None, :])
        ok = d_cov >= D
        if roads is not None and "road_idx" in e.columns:
            ok &= _on_road(e, roads, rx, ry, config.on_road_m)
        Dm = np.where(ok, D, np.inf)
        j = Dm.argmin(axis=1)
        fixed = ok.any(axis=1)
        e["nearest_reader"] = np.where(fixed, existing_readers["camera_id"].to_numpy()[j], "")
        e["reader_distance_m"] = np.where(fixed, np.round(D[np.arange(n), j], 1), np.nan)
    else:
        fixed = np.zeros(n, bool)
        e["nearest_reader"] = ""
        e["reader_distance_m"] = np.nan
        notes.append("no live ANPR readers in the inventory")
    e["covered_existing"] = fixed
    tree = cKDTree(xy)
    pairs = tree.query_pairs(d_cov, output_type="ndarray")
    if roads is not None and "road_idx" in e.columns and len(pairs):
        onr = _on_road(e, roads, xy[:, 0], xy[:, 1], config.on_road_m)
        keep = onr[pairs[:, 0], pairs[:, 1]] & onr[pairs[:, 1], pairs[:, 0]]
        pairs = pairs[keep]
    # A[i, j]: a reader at entry point j covers entry point i
    rows = np.r_[np.arange(n), pairs[:, 0], pairs[:, 1]]
    cols = np.r_[np.arange(n), pairs[:, 1], pairs[:, 0]]
    A = sp.csr_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(n, n))
    sol = solve_mclp(A, w, min(k, n), fixed=fixed, method="auto", time_limit_s=config.time_limit_s)
    e["chosen_rank"] = 0
    e["covered_new"] = False
    for rank, j in enumerate(sol.chosen, start=1):
        e.loc[j, "chosen_rank"] = rank
    if len(sol.chosen):
        newcov = np.asarray(A[:, sol.chosen].sum(axis=1)).ravel() > 0
        e["covered_new"] = newcov & ~fixed
    readers = e.loc[list(sol.chosen)].copy()
    readers["marginal_weight"] = sol.gains
    readers = gpd.GeoDataFrame(
        readers[
            ["chosen_rank", "entry_id", "x", "y", "road_name", "road_class", "weight", "marginal_weight", "geometry"]
        ].reset_index(drop=True),
        crs=entries.crs,
    )
    if len(sol.chosen) < k:
        notes.append(f"only {len(sol.chosen)} new reader(s) add coverage: every weighted entry point is then covered")
    tot = float(w.sum())
    e = gpd.GeoDataFrame(e, geometry="geometry", crs=entries.crs)
    return AnprResult(e, readers, tot, float(w[fixed].sum()), sol.covered, sol.method, sol.gap, tuple(notes))


def run_anpr(
    boundary,
    roads,
    cameras,
    config: AnprConfig,
    crime_x=None,
    crime_y=None,
    crime_harm=None,
    k: int | None = None,
    crs=DEFAULT_CRS,
) -> AnprResult:
    """Entry points, their weights and reader siting in one call.

    ``boundary`` (shapely polygon), ``cameras`` and ``crime_*`` are in ``crs``
    (the working CRS, metres); ``roads`` are reprojected to it. ``cameras``:
    inventory frame; its live ``anpr`` cameras are the existing readers.
    ``crime_*``: burglary / vehicle-crime points (metres) and harm.
    """
    if cameras is not None:
        require_same_crs(("working CRS", crs), ("cameras", cameras))
    notes = []
    if roads is None or len(roads) == 0:
        raise InputError("ANPR siting needs road lines: set [study_area] roads or [anpr] roads.")
    classes = set(roads["road_class"].dropna().astype(str)) if "road_class" in roads.columns else set()
    if not classes - {"unclassified", ""}:
        roads = roads.copy()
        roads["road_class"] = "unclassified"
        config = dataclasses.replace(config, unknown_class_weight=1.0)
        notes.append("the roads have no class attribute: every road is weighted equally (class weight 1)")
    ent = entry_points(boundary, roads, config.merge_distance_m, config.snap_m, crs)
    ent = weight_entries(ent, config, crime_x, crime_y, crime_harm)
    readers = None
    if cameras is not None and len(cameras):
        readers = cameras[(cameras["type"] == "anpr") & (cameras["status"] == "live")]
    r = roads.to_crs(crs) if roads.crs is not None else roads
    res = anpr_siting(ent, readers, config, k, roads=r.reset_index(drop=True))
    return dataclasses.replace(res, notes=tuple(notes) + res.notes)
