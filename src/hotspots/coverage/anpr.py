"""ANPR: where roads enter the area, how much each entry matters, and where k new readers go.

About a third of arrested suspects live outside the borough, so readers belong
where roads cross the borough boundary. Entry points come from two sources:

* road lines (``[anpr] roads`` or the study area's roads) crossing the
  boundary line: crossings closer than ``merge_distance_m`` are merged;
* with a street index (:class:`hotspots.geo.streets.StreetPoints`: police.uk
  "On or near ..." points inside the area and just beyond it), streets whose
  named points lie on both sides of the boundary (:func:`street_crossings`).
  police.uk places a crime at the snap point of the street it happened on, so
  the same street name close on both sides of the line is a street crossing
  it. Three guards keep roads that only run along the boundary (the boundary
  often follows a main road) and unrelated streets of the same name out: the
  two points are at most ``street_pair_max_m`` apart and their segment crosses
  the line once; the segment meets the line at ``street_min_angle_deg`` or
  more; and one of the two points lies ``street_min_side_m`` or more from it.

A street crossing within ``street_merge_m`` of a road crossing is the same
entry: the street names it. A road crossing without a name is described by
the named street nearest it ("A road near Barnet Lane"). Each entry is
weighted by

    weight = class_weight(road_class) x (1 + crime_weight x near / mean(near))

where ``near`` is the harm of burglary and vehicle crime (``[anpr]
crime_types``) within ``crime_radius_m`` metres of the point. A reader covers
the entry points within ``cover_distance_m`` metres that stands on (within
``on_road_m`` of) the entry's road; existing live ANPR readers are fixed and k
new readers (default 20) are chosen at entry points to cover the most remaining
weight (maximal covering, :mod:`.siting`). When fewer than k sites exist, the
result says why and which input would give more. Flows along the road network
are not modelled: the weights stand in for them.

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
from shapely.geometry.base import BaseGeometry

from ..config.sections import AnprConfig
from ..crs import DEFAULT_CRS
from ..errors import InputError
from ..geo.checks import require_same_crs
from ..geo.streets import StreetPoints, road_class_of
from .siting import solve_mclp

#: Where an entry point was found.
FROM_ROADS = "road network"
FROM_STREETS = "police.uk street names"

#: Road classes in plain words.
ROAD_WORDS = {
    "motorway": "motorway",
    "a_road": "A road",
    "b_road": "B road",
    "minor": "street",
    "unclassified": "road",
}

#: Columns of :attr:`AnprResult.readers` (besides ``geometry``).
READER_COLUMNS = (
    "chosen_rank",
    "entry_id",
    "road",
    "road_name",
    "near_street",
    "road_class",
    "into",
    "source",
    "crime_near_n",
    "crime_near",
    "weight",
    "marginal_weight",
    "reason",
    "x",
    "y",
)


@dataclass(frozen=True, eq=False)
class AnprResult:
    """Entry points (GeoDataFrame, working CRS) with weights, existing coverage and the chosen readers.

    ``readers`` (:data:`READER_COLUMNS`) are the proposed new readers in order of
    marginal gain, each with its road, the area it leads to and the reason it
    ranks; ``requested`` is how many were asked for and ``shortfall`` says, when
    fewer are proposed, why and what input would give more ("" otherwise).
    """

    entries: gpd.GeoDataFrame
    readers: gpd.GeoDataFrame
    weight_total: float
    weight_existing: float
    weight_with_new: float
    method: str
    gap: float
    notes: tuple[str, ...] = ()
    requested: int = 0
    shortfall: str = ""

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.entries.drop(columns="geometry"))

    def reader_table(self) -> pd.DataFrame:
        """The proposed readers in plain words: Rank, Road, Crossing into, Why here."""
        r = self.readers
        return pd.DataFrame(
            {
                "Rank": r["chosen_rank"].astype(int),
                "Road": r["road"],
                "Crossing into": r["into"],
                "Why here": r["reason"],
            }
        )

    def summary(self) -> pd.DataFrame:
        t = self.weight_total or 1.0
        e = self.entries
        return pd.DataFrame(
            [
                {
                    "entry_points": len(e),
                    "from_roads": int(e["source"].str.contains(FROM_ROADS).sum()) if len(e) else 0,
                    "from_street_names": int((e["source"] == FROM_STREETS).sum()) if len(e) else 0,
                    "weight_total": self.weight_total,
                    "share_existing_readers": self.weight_existing / t,
                    "requested": self.requested,
                    "new_readers": len(self.readers),
                    "share_with_new_readers": self.weight_with_new / t,
                    "method": self.method,
                    "gap_to_bound": self.gap,
                    "shortfall": self.shortfall,
                    "notes": "; ".join(self.notes),
                }
            ]
        )


def _road_words(name: str, road_class: str, near: str = "") -> str:
    """How a page names an entry's road: "Finchley Road", "A406", "Pinkham Way (A road)", "A road near
    Barnet Lane" (no name in the data, the nearest named street), "unnamed A road"."""
    words = ROAD_WORDS.get(road_class, "road")
    if not name:
        return f"{words} near {near}" if near else f"unnamed {words}"
    if road_class_of(name):  # "A406" says its class itself
        return name
    return f"{name} ({words})" if road_class in ("motorway", "a_road", "b_road") else name


# --------------------------------------------------------------------------- crossings
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


def _road_class(r: gpd.GeoDataFrame, i: int) -> str:
    if "road_class" in r.columns and pd.notna(r["road_class"].iat[i]) and str(r["road_class"].iat[i]):
        return str(r["road_class"].iat[i])
    return "unclassified"


def entry_points(boundary, roads, merge_distance_m: float = 30.0, snap_m: float = 5.0, crs=DEFAULT_CRS):
    """Points where ``roads`` cross ``boundary`` (shapely polygon in ``crs``, the working CRS, metres;
    roads are reprojected to it).

    Road data split into links at administrative boundaries often leaves the
    link ends a metre or so off the boundary line; a road end within
    ``snap_m`` metres of the boundary counts as a crossing there.

    Returns a GeoDataFrame ``entry_id, x, y, road_name, road_class, n_crossings, road_idx, source``
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
            for part in shapely.get_parts(geom):
                for end in (shapely.Point(part.coords[0]), shapely.Point(part.coords[-1])):
                    if end.distance(ring) <= snap_m:
                        q = ring.interpolate(ring.project(end))
                        pts.append((q.x, q.y))
        for x, y in pts:
            ridx.append(int(r.index[i]))
            xs.append(x)
            ys.append(y)
            names.append(str(r["name"].iat[i]) if "name" in r.columns and pd.notna(r["name"].iat[i]) else "")
            classes.append(_road_class(r, i))
    cols = ["entry_id", "x", "y", "road_name", "road_class", "n_crossings", "road_idx", "source"]
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
                "source": FROM_ROADS,
            }
        )
    df = pd.DataFrame(rows).sort_values(["x", "y"]).reset_index(drop=True)
    df.insert(0, "entry_id", [f"E{i + 1:03d}" for i in range(len(df))])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=crs)


@dataclass(frozen=True)
class _Pair:
    """One candidate crossing of a street: the inside and outside points, where it crosses, how far apart."""

    name: str
    inside: tuple[float, float]
    outside: tuple[float, float]
    cross: tuple[float, float]
    length: float


def _pairs_of(name, a, b, da, db, ring, config: AnprConfig) -> list[_Pair]:
    """Valid inside/outside pairs of one street name (the guards of the module docstring)."""
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    out = []
    for i, j in zip(*np.nonzero(d <= config.street_pair_max_m), strict=True):
        if max(da[i], db[j]) < config.street_min_side_m:
            continue
        seg = shapely.LineString([a[i], b[j]])
        x = seg.intersection(ring)
        if x.geom_type != "Point":
            continue  # touches the line along a stretch, or crosses it more than once
        s = ring.project(x)
        t1, t2 = ring.interpolate(s - 15.0), ring.interpolate(s + 15.0)
        tv = np.array([t2.x - t1.x, t2.y - t1.y])
        sv = np.asarray(b[j]) - np.asarray(a[i])
        nt, ns = float(np.linalg.norm(tv)), float(np.linalg.norm(sv))
        if nt == 0 or ns == 0:
            continue
        angle = float(np.degrees(np.arccos(min(1.0, abs(float(tv @ sv)) / (nt * ns)))))
        if angle < config.street_min_angle_deg:
            continue
        out.append(_Pair(name, tuple(a[i]), tuple(b[j]), (x.x, x.y), float(d[i, j])))
    return out


def street_crossings(boundary: BaseGeometry, streets: StreetPoints, config: AnprConfig) -> gpd.GeoDataFrame:
    """Streets crossing ``boundary``, found from police.uk points of one name on both sides (module docstring).

    One row per crossing (crossings of one street within ``street_merge_m`` of
    each other are one, the shortest pair kept): ``x, y`` (on the boundary
    line), ``road_name``, ``road_class`` (from a road number such as "A406",
    else ``minor``), ``source``, ``evidence`` (the two points' distances from
    the line) and ``line`` (the inside point, the crossing and the outside
    point: the street as far as the points show it).
    """
    cols = ["x", "y", "road_name", "road_class", "source", "evidence", "line"]
    ring = boundary.boundary
    if not len(streets):
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=streets.crs)
    shapely.prepare(boundary)
    dist = np.asarray(shapely.distance(shapely.points(streets.x, streets.y), ring), float)
    near = np.nonzero(dist <= config.street_pair_max_m)[0]
    inside = shapely.contains_xy(boundary, streets.x[near], streets.y[near])
    codes, names = pd.factorize(pd.Series(streets.name[near], dtype=object), sort=True)
    both = np.intersect1d(codes[inside], codes[~inside])  # names with points on both sides
    xy = np.c_[streets.x[near], streets.y[near]]
    rows = []
    for code in both:
        a, b = (codes == code) & inside, (codes == code) & ~inside
        pairs = _pairs_of(str(names[code]), xy[a], xy[b], dist[near][a], dist[near][b], ring, config)
        pairs.sort(key=lambda p: p.length)
        kept: list[_Pair] = []
        for p in pairs:
            if all(np.hypot(p.cross[0] - q.cross[0], p.cross[1] - q.cross[1]) > config.street_merge_m for q in kept):
                kept.append(p)
        for p in kept:
            din = float(shapely.Point(p.inside).distance(ring))
            dout = float(shapely.Point(p.outside).distance(ring))
            rows.append(
                {
                    "x": p.cross[0],
                    "y": p.cross[1],
                    "road_name": p.name,
                    "road_class": road_class_of(p.name) or "minor",
                    "source": FROM_STREETS,
                    "evidence": f"police.uk points on {p.name} {din:.0f} m inside and {dout:.0f} m outside",
                    "line": shapely.LineString([p.inside, p.cross, p.outside]),
                }
            )
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=streets.crs)
    out = pd.DataFrame(rows).sort_values(["x", "y"]).reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["x"], out["y"]), crs=streets.crs)


def combine_entries(
    road_entries: gpd.GeoDataFrame,
    road_lines: list,
    street_entries: gpd.GeoDataFrame,
    streets: StreetPoints | None,
    config: AnprConfig,
) -> tuple[gpd.GeoDataFrame, list]:
    """Road crossings and street crossings as one set of entry points, and the road line of each.

    A street crossing within ``street_merge_m`` of a road crossing names it (when
    the road file has no name there) and is not listed again. ``near_street``
    is the entry's road name, else the named street nearest the crossing (within
    ``near_street_m``): police.uk points are too sparse along main roads to tell
    a road's own name from a side street's, so an unnamed road is described as
    "near" that street, never given its name.
    """
    rows, lines = [], []
    used = np.zeros(len(street_entries), bool)
    sxy = street_entries[["x", "y"]].to_numpy(float) if len(street_entries) else np.zeros((0, 2))
    for i in range(len(road_entries)):
        e = road_entries.iloc[i]
        row = {c: e[c] for c in ("x", "y", "road_name", "road_class", "n_crossings", "source")}
        row["evidence"] = "the road crosses the boundary line in the road network file"
        d = np.hypot(sxy[:, 0] - e["x"], sxy[:, 1] - e["y"]) if len(sxy) else np.zeros(0)
        match = np.nonzero((d <= config.street_merge_m) & ~used)[0]
        if len(match):
            j = match[np.argmin(d[match])]
            used[j] = True
            s = street_entries.iloc[j]
            row["source"] = f"{FROM_ROADS} and {FROM_STREETS}"
            row["evidence"] += f"; {s['evidence']}"
            if not row["road_name"]:
                row["road_name"] = s["road_name"]
        rows.append(row)
        lines.append(road_lines[i])
    for j in np.nonzero(~used)[0]:
        s = street_entries.iloc[j]
        rows.append(
            {
                "x": s["x"],
                "y": s["y"],
                "road_name": s["road_name"],
                "road_class": s["road_class"],
                "n_crossings": 1,
                "source": FROM_STREETS,
                "evidence": s["evidence"],
            }
        )
        lines.append(s["line"])
    cols = ["entry_id", "x", "y", "road_name", "near_street", "road_class", "n_crossings", "source", "evidence"]
    crs = road_entries.crs if road_entries.crs is not None else street_entries.crs
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs), []
    df = pd.DataFrame(rows)
    if streets is not None and len(streets):
        near, _d = streets.nearest(df["x"].to_numpy(float), df["y"].to_numpy(float), config.near_street_m)
    else:
        near = np.full(len(df), "", dtype=object)
    df["near_street"] = np.where(df["road_name"] != "", df["road_name"], near)
    order = np.lexsort((df["y"].to_numpy(), df["x"].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    lines = [lines[i] for i in order]
    df.insert(0, "entry_id", [f"E{i + 1:03d}" for i in range(len(df))])
    return gpd.GeoDataFrame(df[cols], geometry=gpd.points_from_xy(df["x"], df["y"]), crs=crs), lines


def neighbour_of(entries: gpd.GeoDataFrame, neighbours: gpd.GeoDataFrame | None, boundary, name_field: str):
    """The neighbouring area each entry point leads to ("" when none is within 200 m).

    Polygons covering most of the study area (the area itself, when the file
    holds it too) are not neighbours.
    """
    if neighbours is None or not len(neighbours) or not len(entries):
        return [""] * len(entries)
    if name_field not in neighbours.columns:
        raise InputError(
            f"[anpr] neighbours has no {name_field!r} column; set [anpr] neighbours_name_field "
            f"(columns: {list(neighbours.columns)})."
        )
    n = neighbours[neighbours.geometry.intersection(boundary).area < 0.5 * boundary.area].reset_index(drop=True)
    out = []
    for p in entries.geometry:
        d = n.geometry.distance(p).to_numpy()
        out.append(str(n[name_field].iat[int(np.argmin(d))]) if len(d) and d.min() <= 200 else "")
    return out


# --------------------------------------------------------------------------- weights and siting
def weight_entries(entries, config: AnprConfig, crime_x=None, crime_y=None, crime_harm=None):
    """Add ``class_weight, crime_near_n, crime_near, weight`` to entry points (see module docstring)."""
    e = entries.copy()
    e["class_weight"] = [float(config.class_weights.get(c, config.unknown_class_weight)) for c in e["road_class"]]
    near = np.zeros(len(e))
    count = np.zeros(len(e), np.int64)
    if crime_x is not None and len(crime_x) and len(e):
        tree = cKDTree(np.c_[np.asarray(crime_x, float), np.asarray(crime_y, float)])
        h = np.ones(len(crime_x)) if crime_harm is None else np.asarray(crime_harm, float)
        for i, nb in enumerate(tree.query_ball_point(np.c_[e["x"], e["y"]], config.crime_radius_m)):
            near[i] = h[nb].sum()
            count[i] = len(nb)
    e["crime_near_n"] = count
    e["crime_near"] = near
    m = near.mean() if len(near) else 0.0
    rel = near / m if m > 0 else np.zeros(len(near))
    e["weight"] = e["class_weight"] * (1.0 + config.crime_weight * rel)
    return e


def _on_road(lines, px, py, on_road_m):
    """(n_entries, n_points) bool: point within ``on_road_m`` of the entry's road line."""
    out = np.zeros((len(lines), len(px)), bool)
    pts = shapely.points(px, py)
    for i, ln in enumerate(lines):
        if ln is not None:
            out[i] = shapely.dwithin(ln, pts, on_road_m)
    return out


def _lines_from_roads(entries, roads) -> list:
    lines = []
    for ri in entries["road_idx"]:
        idx = [int(j) for j in str(ri).split(";") if j != ""]
        lines.append(shapely.union_all(roads.geometry.iloc[idx].to_numpy()) if idx else None)
    return lines


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _reason(e: pd.Series, rank_near: int, n_entries: int, config: AnprConfig, crime_words: str) -> str:
    """Why an entry point ranks, in plain words: the road and where it leads, how much it counts as a route,
    the burglary and vehicle crime near it, and the evidence that a road crosses there."""
    road = _road_words(str(e["road_name"]), str(e["road_class"]), str(e["near_street"]))
    into = f" into {e['into']}" if e["into"] else ""
    minor = float(config.class_weights.get("minor", config.unknown_class_weight)) or 1.0
    times = float(e["class_weight"]) / minor
    if e["source"] == FROM_STREETS:
        route = (
            f"{road} crosses the boundary{into} (a street found from police.uk names on both sides; "
            "its road class is not known, so it counts as a side street)"
        )
    else:
        cls = ROAD_WORDS.get(str(e["road_class"]), "road")
        article = "an" if cls[:1].lower() in "aeiou" else "a"
        weight = f": it counts {times:g} times a side street as a route" if times != 1 else ""
        route = f"{road} crosses the boundary{into} ({article} {cls} in the road network file{weight})"
    km = config.crime_radius_m / 1000
    crime = (
        f"{int(e['crime_near_n']):,} {crime_words} within {km:g} km in the period "
        f"({_ordinal(rank_near)} most of {n_entries} entry points)"
    )
    return f"{route}; {crime}; evidence: {e['evidence']}"


def anpr_siting(
    entries, existing_readers, config: AnprConfig, k: int | None = None, roads=None, lines=None
) -> AnprResult:
    """Which entry points existing readers cover, and where ``k`` new readers cover most weight.

    A reader covers an entry point only when it also stands on that entry's
    road: ``lines`` gives each entry's road line, or ``roads`` (the frame the
    entries were built from, via their ``road_idx``); without either, distance alone counts.
    """
    k = config.k if k is None else int(k)
    notes = []
    e = entries.copy().reset_index(drop=True)
    n = len(e)
    if n == 0:
        raise InputError(
            "no road crosses the borough boundary: check the roads file covers the boundary "
            "(it should extend beyond it) and is in the same area."
        )
    if lines is None and roads is not None and "road_idx" in e.columns:
        lines = _lines_from_roads(e, roads)
    xy = np.c_[e["x"].to_numpy(float), e["y"].to_numpy(float)]
    w = e["weight"].to_numpy(float)
    d_cov = config.cover_distance_m
    if existing_readers is not None and len(existing_readers):
        rx = existing_readers["x"].to_numpy(float)
        ry = existing_readers["y"].to_numpy(float)
        D = np.hypot(xy[:, 0:1] - rx[None, :], xy[:, 1:2] - ry[None, :])
        ok = d_cov >= D
        if lines is not None:
            ok &= _on_road(lines, rx, ry, config.on_road_m)
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
    if lines is not None and len(pairs):
        onr = _on_road(lines, xy[:, 0], xy[:, 1], config.on_road_m)
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
    for c, default in (
        ("into", ""),
        ("source", FROM_ROADS),
        ("evidence", ""),
        ("crime_near_n", 0),
        ("near_street", ""),
    ):
        if c not in e.columns:
            e[c] = default
    near_rank = pd.Series(e["crime_near"]).rank(ascending=False, method="min").astype(int).to_numpy()
    crime_words = "burglaries and vehicle crimes" if _burglary_and_vehicle(config) else "crimes"
    readers = e.loc[list(sol.chosen)].copy()
    readers["marginal_weight"] = sol.gains
    readers["reason"] = [_reason(readers.loc[j], int(near_rank[j]), n, config, crime_words) for j in readers.index]
    readers["road"] = [
        _road_words(nm if isinstance(nm, str) else "", str(c), near if isinstance(near, str) else "")
        for nm, c, near in zip(readers["road_name"], readers["road_class"], readers["near_street"], strict=True)
    ]
    readers = gpd.GeoDataFrame(readers[[*READER_COLUMNS, "geometry"]].reset_index(drop=True), crs=entries.crs)
    if len(sol.chosen) < k and n > len(sol.chosen):
        notes.append(f"only {len(sol.chosen)} new reader(s) add coverage: every weighted entry point is then covered")
    tot = float(w.sum())
    e = gpd.GeoDataFrame(e, geometry="geometry", crs=entries.crs)
    return AnprResult(
        e, readers, tot, float(w[fixed].sum()), sol.covered, sol.method, sol.gap, tuple(notes), requested=k
    )


def _burglary_and_vehicle(config: AnprConfig) -> bool:
    return set(config.crime_types) <= {"burglary", "burglary_residential", "burglary_business", "vehicle_crime"}


def _shortfall(res: AnprResult, n_roads: int, n_streets: int, uncovered: list[str], have_streets: bool) -> str:
    """Why fewer readers than requested are proposed, and what input would give more ("" when none are missing)."""
    got, want, n = len(res.readers), res.requested, len(res.entries)
    if got >= want:
        return ""
    if n > got:
        return (
            f"{got} readers are proposed, not {want}: together they already cover every one of the {n} entry "
            f"points found (a reader covers the entry points within its cover distance on the same road)."
        )
    found = f"{n_roads} where the road network file crosses the boundary"
    if have_streets:
        found += f" and {n_streets} more from police.uk street names on both sides of it"
    msg = (
        f"{got} readers are proposed, not {want}: only {n} places where roads enter the area were found ({found}). "
        "More need a fuller road network: for example Ordnance Survey's OS Open Roads (an open download "
        "with every road's name and class), set as [anpr] roads."
    )
    if not have_streets:
        msg += " A police.uk file of the crimes just beyond the boundary ([anpr] street_points) also finds streets."
    if uncovered:
        msg += f" No police.uk points were available beyond the boundary with {', '.join(uncovered)}."
    return msg


def _unwatched_neighbours(boundary, streets, neighbours, name_field: str, reach_m: float = 400.0) -> list[str]:
    """Neighbours along whose shared boundary no police.uk point lies outside the area (so no street there
    could be found)."""
    if neighbours is None or streets is None or not len(neighbours):
        return []
    outside = ~shapely.contains_xy(boundary, streets.x, streets.y)
    pts = np.c_[streets.x[outside], streets.y[outside]]
    tree = cKDTree(pts) if len(pts) else None
    ring = boundary.boundary
    out = []
    for geom, name in zip(neighbours.geometry, neighbours[name_field], strict=True):
        if geom.intersection(boundary).area >= 0.5 * boundary.area:
            continue
        shared = ring.intersection(geom.buffer(50))
        if shared.is_empty or shared.length < 500:
            continue
        samples = shapely.line_interpolate_point(shared, np.arange(0, shared.length, 250.0))
        xy = shapely.get_coordinates(samples)
        if tree is None or not len(xy) or not np.isfinite(tree.query(xy, distance_upper_bound=reach_m)[0]).any():
            out.append(str(name))
    return out


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
    streets: StreetPoints | None = None,
    neighbours: gpd.GeoDataFrame | None = None,
) -> AnprResult:
    """Entry points, their weights and reader siting in one call.

    ``boundary`` (shapely polygon), ``cameras``, ``crime_*``, ``streets`` and
    ``neighbours`` are in ``crs`` (the working CRS, metres); ``roads`` are
    reprojected to it. ``cameras``: inventory frame; its live ``anpr`` cameras
    are the existing readers. ``crime_*``: burglary / vehicle-crime points
    (metres) and harm. ``streets``: police.uk named points inside and beyond
    the boundary (street crossings and names); ``neighbours``: polygons of
    the neighbouring areas, with ``[anpr] neighbours_name_field``.
    """
    if cameras is not None:
        require_same_crs(("working CRS", crs), ("cameras", cameras))
    notes = []
    if (roads is None or len(roads) == 0) and (streets is None or not len(streets)):
        raise InputError("ANPR siting needs road lines ([study_area] roads or [anpr] roads) or [anpr] street_points.")
    roads = roads if roads is not None else gpd.GeoDataFrame(geometry=[], crs=crs)
    classes = set(roads["road_class"].dropna().astype(str)) if "road_class" in roads.columns else set()
    if not classes - {"unclassified", ""}:
        roads = roads.copy()
        if config.default_road_class:
            roads["road_class"] = config.default_road_class
            if len(roads):
                notes.append(
                    f"the roads file has no road class: its roads are taken as "
                    f"{ROAD_WORDS.get(config.default_road_class, config.default_road_class)}s "
                    "([anpr] default_road_class)"
                )
        else:
            roads["road_class"] = "unclassified"
            config = dataclasses.replace(config, unknown_class_weight=1.0)
            if len(roads):
                notes.append("the roads have no class attribute: every road is weighted equally (class weight 1)")
    r = (roads.to_crs(crs) if roads.crs is not None else roads).reset_index(drop=True)
    road_ent = entry_points(boundary, r, config.merge_distance_m, config.snap_m, crs)
    street_ent = (
        street_crossings(boundary, streets, config)
        if streets is not None and len(streets)
        else street_crossings(boundary, StreetPoints.empty(crs), config)
    )
    ent, lines = combine_entries(road_ent, _lines_from_roads(road_ent, r), street_ent, streets, config)
    ent["into"] = neighbour_of(ent, neighbours, boundary, config.neighbours_name_field)
    ent = weight_entries(ent, config, crime_x, crime_y, crime_harm)
    readers = None
    if cameras is not None and len(cameras):
        readers = cameras[(cameras["type"] == "anpr") & (cameras["status"] == "live")]
    res = anpr_siting(ent, readers, config, k, lines=lines)
    if streets is not None and len(streets):
        notes.append(
            f"entry points: {len(road_ent)} from the road network file, {len(street_ent)} streets from police.uk "
            f"names on both sides of the boundary ({int((ent['source'] == FROM_STREETS).sum())} of them new)"
        )
    unwatched = _unwatched_neighbours(boundary, streets, neighbours, config.neighbours_name_field)
    n_streets = int((ent["source"] == FROM_STREETS).sum())
    shortfall = _shortfall(res, len(road_ent), n_streets, unwatched, streets is not None and len(streets) > 0)
    return dataclasses.replace(res, notes=tuple(notes) + res.notes, shortfall=shortfall)
