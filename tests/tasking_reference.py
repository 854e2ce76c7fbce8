"""A straightforward reference for the tasking list's places: one piece at a time with shapely and pandas.

The engine (``hotspots.tasking.places``) computes membership with one spatial query and sums with
``np.bincount``; this module does the same job the obvious way (a ``contains_xy`` mask and pandas
boolean indexing per piece, brute-force pairwise distances and union-find for the grouping), so
the two can be compared on the demo borough.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import shapely


def reference_members(pieces, inc: pd.DataFrame) -> list[pd.DataFrame]:
    """The incidents that count for each piece: inside it (``contains_xy``) and of its crime types."""
    out = []
    for p in pieces:
        sub = inc[shapely.contains_xy(p.geometry, inc["x"].to_numpy(float), inc["y"].to_numpy(float))]
        if p.crime_types:
            sub = sub[sub["crime_type"].isin(list(p.crime_types))]
        out.append(sub)
    return out


def reference_groups(geoms, distance: float) -> list[list[int]]:
    """Pieces within ``distance`` of each other (chains included), by union-find over every pair."""
    parent = list(range(len(geoms)))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, j in itertools.combinations(range(len(geoms)), 2):
        if geoms[i].distance(geoms[j]) <= distance:
            parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for k in range(len(geoms)):
        groups.setdefault(find(k), []).append(k)
    return sorted(groups.values())


def reference_places(pieces, inc: pd.DataFrame, distance: float, min_incidents: int, piece_mult) -> list[dict]:
    """Per place: its pieces' sources, incidents, harm, counts by type, harm by ward, score, location counts."""
    members = reference_members(pieces, inc)
    keep = [k for k, p in enumerate(pieces) if p.kind != "hotspot" or len(members[k]) >= min_incidents]
    pieces = [pieces[k] for k in keep]
    members = [members[k] for k in keep]
    mult = [piece_mult[k] for k in keep]
    out = []
    for group in reference_groups([p.geometry for p in pieces], distance):
        best: dict[object, float] = {}
        for k in group:
            for idx in members[k].index:
                best[idx] = max(best.get(idx, 0.0), mult[k])
        sub = inc.loc[sorted(best)]
        loc = sub["location_text"].astype("string").fillna("").str.strip()
        loc = loc[loc.str.len() > 0]
        out.append(
            {
                "sources": sorted(pieces[k].source for k in group),
                "incidents": len(sub),
                "harm": float(sub["harm"].sum()),
                "counts": dict(Counter(sub["crime_type"])),
                "ward_harm": sub.groupby("ward_code")["harm"].sum().to_dict(),
                "score": float(sum(inc.at[i, "harm"] * m for i, m in best.items())),
                "locations": dict(Counter(loc)),
                "index": sorted(best),
            }
        )
    return out


def reference_cctv_share(union, sub: pd.DataFrame) -> float:
    """Share of ``sub``'s harm inside the camera views (incidents when there is no harm)."""
    seen = shapely.contains_xy(union, sub["x"].to_numpy(float), sub["y"].to_numpy(float))
    h = sub["harm"].to_numpy(float)
    return float(h[seen].sum() / h.sum()) if h.sum() > 0 else float(np.mean(seen))


def reference_piece_multipliers(pieces, grid, emerging, tcfg) -> list[float]:
    """Each piece's multiplier, its cells found one piece at a time with ``contains_xy`` on the cell centres
    (the cell under its representative point when no centre is inside)."""
    from hotspots.tasking.score import trend_multiplier, trend_of_codes

    xc, yc = grid.centres()
    r, c = np.nonzero(grid.mask)
    cg = emerging.class_grid() if emerging is not None else None
    out = []
    for p in pieces:
        m = 1.0
        if cg is not None:
            inside = shapely.contains_xy(p.geometry, xc[r, c], yc[r, c])
            if inside.any():
                rr, cc = r[inside], c[inside]
            else:
                pt = p.geometry.representative_point()
                rr, cc = grid.cell_index(np.array([pt.x]), np.array([pt.y]))
            m *= trend_multiplier(trend_of_codes(emerging, cg[rr, cc]), tcfg)
        if p.kind == "near_repeat":
            m *= tcfg.near_repeat_multiplier
        out.append(m)
    return out
