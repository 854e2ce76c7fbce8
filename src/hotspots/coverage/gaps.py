"""CCTV coverage gaps as places: where harm concentrates and the live cameras see little of it.

The candidates are the hotspot areas of every crime type and the high-harm
grid squares. They are merged into places by the engine's one rule for a
place (:func:`hotspots.analysis.hotspot_places.merge_into_places`: areas that
overlap or lie within ``merge_distance_m`` of each other are one place), so a
street corner that is a hotspot for six crime types is one gap, not six. Each
place is then described by its own incidents (those inside its outline):

* ``name``: the two streets its incidents are recorded on most often
  ("High Street / Station Road"; police.uk location texts), else the nearest
  named street, else the station it is at; ``ward_code``/``ward_name``: the
  ward holding most of its harm, ``other_wards`` the others;
* ``incidents``, ``harm`` and ``crime_types`` (plain words with counts);
* ``harm_seen``: the expected harm the live cameras see (the probability each
  incident is seen, see :mod:`.uncertain`); ``covered_share`` and
  ``harm_uncovered``.

A place is a gap when its covered share is below ``gap_threshold``; gaps are
ranked by uncovered harm. Working CRS, metres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..analysis.hotspot_places import merge_into_places
from ..geo.streets import StreetPoints, place_of, streets_of, top_streets
from ..vocabulary import crime_type_label

#: Columns of the gap places, in order.
GAP_COLUMNS = (
    "rank",
    "gap_id",
    "name",
    "label",
    "ward_code",
    "ward_name",
    "other_wards",
    "incidents",
    "harm",
    "harm_seen",
    "harm_uncovered",
    "covered_share",
    "crime_types",
    "sources",
    "area_ids",
    "x",
    "y",
    "geometry",
)


def _sources(labels: list[str]) -> str:
    """ "Burglary, Vehicle crime hotspot areas; 3 high-harm squares" from the member labels."""
    areas = sorted({s for s in labels if s != "cell"})
    cells = sum(1 for s in labels if s == "cell")
    parts = []
    if areas:
        words = [crime_type_label(a) if a else "all crime" for a in areas]
        parts.append(", ".join(words) + (" hotspot area" if len(areas) == 1 else " hotspot areas"))
    if cells:
        parts.append(f"{cells} high-harm square{'s' if cells != 1 else ''}")
    return "; ".join(parts)


def _crime_types(types: np.ndarray, top: int = 3) -> str:
    if not len(types):
        return ""
    vc = pd.Series(types, dtype=object).value_counts()
    vc = vc.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    words = [f"{crime_type_label(t)} {n}" for t, n in vc.head(top).items()]
    more = len(vc) - top
    return ", ".join(words) + (f" and {more} more type{'s' if more != 1 else ''}" if more > 0 else "")


def _ward_of(harm: np.ndarray, codes: np.ndarray, wards: np.ndarray, names: dict[str, str]) -> tuple[str, str, str]:
    """The ward holding most of a place's harm (ties: the first code), and the others it spans."""
    if not len(codes):
        return "", "", ""
    by = np.bincount(codes, weights=harm, minlength=len(wards))
    order = [k for k in np.argsort(-by, kind="stable") if by[k] > 0 and wards[k] != ""]
    if not order:
        return "", "", ""
    main = str(wards[order[0]])
    others = [names.get(str(wards[k]), str(wards[k])) for k in order[1:]]
    return main, names.get(main, main), ", ".join(others)


def _name(
    texts: np.ndarray, streets_here: np.ndarray, point: shapely.Point, streets: StreetPoints | None, near_m: float
) -> str:
    top = top_streets(texts, names=streets_here)
    if top:
        return " / ".join(top)
    if streets is not None and len(streets):
        nm, _d = streets.nearest([point.x], [point.y], near_m)
        if nm[0]:
            return f"near {nm[0]}"
    stations = sorted({p for p in (place_of(t) for t in texts) if p.endswith(" station")})
    return stations[0] if stations else ""


def gap_places(
    candidates: gpd.GeoDataFrame,
    x,
    y,
    crime_type,
    harm,
    seen,
    *,
    location_text=None,
    ward_code=None,
    ward_names: dict[str, str] | None = None,
    streets: StreetPoints | None = None,
    merge_distance_m: float = 100.0,
    gap_threshold: float = 0.5,
    max_gaps: int = 50,
    near_street_m: float = 200.0,
) -> gpd.GeoDataFrame:
    """The gap places (:data:`GAP_COLUMNS`, ranked by uncovered harm) among ``candidates``.

    ``candidates``: polygons with ``source`` (a crime-type code for a hotspot
    area, ``""`` for an all-crime area, ``"cell"`` for a high-harm square) and
    ``area_id``. ``x, y, crime_type, harm, seen`` describe the incidents of the
    period (``seen``: the probability each is seen); ``location_text`` and
    ``ward_code`` (per incident) name the places, ``ward_names`` maps ward codes
    to names and ``streets`` names a place none of whose incidents names a street.
    """
    crs = candidates.crs
    if len(candidates) == 0:
        return gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS if c != "geometry"}, geometry=[], crs=crs)
    x, y = np.asarray(x, float), np.asarray(y, float)
    harm, seen = np.asarray(harm, float), np.asarray(seen, float)
    ctype = np.asarray(crime_type, dtype=object)
    texts = np.asarray(location_text if location_text is not None else [""] * len(x), dtype=object)
    names_all = streets_of(texts)
    wcode, ward_list = pd.factorize(
        pd.Series(np.asarray(ward_code if ward_code is not None else [""] * len(x), dtype=object)), sort=True
    )
    ward_list = np.asarray(ward_list, dtype=object)
    wnames = dict(ward_names or {})
    places = merge_into_places(candidates, merge_distance_m)
    pts = shapely.points(x, y)
    pi, ai = shapely.STRtree(places.geometry.to_numpy()).query(pts, predicate="intersects")
    # a point on the shared edge of two places counts for the first only
    first = np.unique(pi, return_index=True)[1]
    pi, ai = pi[first], ai[first]
    src = candidates["source"].astype(str).to_numpy()
    ids = candidates["area_id"].astype(str).to_numpy()
    rows = []
    for k, geom in enumerate(places.geometry):
        idx = pi[ai == k]
        h = float(harm[idx].sum())
        hs = float((harm[idx] * seen[idx]).sum())
        members = list(places["members"].iat[k])
        rp = geom.representative_point()
        ward, wname, others = _ward_of(harm[idx], wcode[idx], ward_list, wnames)
        name = _name(texts[idx], names_all[idx], rp, streets, near_street_m)
        rows.append(
            {
                "name": name or (f"a place in {wname}" if wname else "an unnamed place"),
                "ward_code": ward,
                "ward_name": wname,
                "other_wards": others,
                "incidents": int(len(idx)),
                "harm": h,
                "harm_seen": hs,
                "harm_uncovered": h - hs,
                "covered_share": hs / h if h > 0 else 0.0,
                "crime_types": _crime_types(ctype[idx]),
                "sources": _sources([src[m] for m in members]),
                "area_ids": "; ".join(ids[m] for m in members),
                "x": round(float(rp.x), 1),
                "y": round(float(rp.y), 1),
                "geometry": geom,
            }
        )
    g = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=crs)
    g = g[(g["covered_share"] < gap_threshold) & (g["harm_uncovered"] > 1e-9)]
    g = g.sort_values(["harm_uncovered", "name", "x", "y"], ascending=[False, True, True, True], kind="stable")
    g = g.head(max_gaps).reset_index(drop=True)
    g.insert(0, "rank", np.arange(1, len(g) + 1))
    g.insert(1, "gap_id", [f"G{r}" for r in g["rank"]])
    g.insert(3, "label", [f"{n} ({w})" if w else n for n, w in zip(g["name"], g["ward_name"], strict=True)])
    for c in ("harm", "harm_seen", "harm_uncovered"):
        g[c] = g[c].round(3)
    g["covered_share"] = g["covered_share"].round(4)
    return gpd.GeoDataFrame(g[list(GAP_COLUMNS)], geometry="geometry", crs=crs)
