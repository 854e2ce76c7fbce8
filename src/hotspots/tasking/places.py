"""Places: the pieces (hotspot areas of every crime type, alert zones) that belong together, described.

A tasking item is a **place**. Pieces (:mod:`hotspots.tasking.pieces`) whose
polygons overlap or lie within ``merge_distance_m`` metres of each other
(working CRS) are one place: chains count, so A near B near C is one place. The
automatic distance is the larger of the grid cell size (two areas a cell apart
are within the resolution of the analysis) and the median spacing of
neighbouring distinct incident locations in the window (police.uk moves every
crime to one of a set of snap points, about 80 m apart in Barnet; two areas a
snap apart are the same street).

An incident counts for a place when it lies inside one of its pieces and is of
that piece's crime types (a hotspot area: its type; an alert zone: the
near-repeat crime types; an all-crime area: every type); an incident inside two
pieces counts once. Membership is computed once for every piece with one
spatial query of the incident points (``STRtree``), and everything a place
shows (counts and harm per crime type, wards, location texts, time profiles,
camera view) is summed from those pairs with ``np.bincount``.

Each place has its *problems*: a (kind, crime type) per piece (a hotspot of
robbery, a near-repeat burglary zone), each with its time of day (night, day,
or unknown when incidents are not timed to the minute). The playbook gives one
tactic per problem (:mod:`hotspots.tasking.fim`).
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..analysis.hotspot_places import automatic_merge_distance, place_labels
from ..announce import choose
from ..config.sections import TaskingConfig
from ..coverage.report import CoverageResult
from ..geo.grid import Grid
from ..geo.streets import location_text, place_of
from ..stages.results import RunResults
from ..vocabulary import crime_type_label
from .pieces import HOTSPOT, NEAR_REPEAT, Piece, run_pieces
from .score import trend_multiplier, trend_of_codes
from .times import SLOTS, UNKNOWN_TIME, peak_days_hours, slot_codes

#: Another ward shares a place when it holds at least this share of the place's harm.
SHARED_WARD_SHARE = 0.1

#: Plain words for a place's kind, from the kinds of its pieces.
KIND_WORDS = {
    (True, False): "hotspot",
    (False, True): "near-repeat alert zone",
    (True, True): "hotspot and near-repeat alert zone",
}

PLACE_COLUMNS = [
    "kind",
    "source",
    "place_name",
    "location",
    "ward_code",
    "ward_name",
    "snt",
    "shared_with",
    "main_crime_type",
    "main_crime",
    "crime_types",
    "counts_by_type",
    "problems",
    "incidents",
    "harm",
    "harm_share",
    "trend_class",
    "near_repeat_window",
    "expires",
    "peak_days",
    "peak_hours",
    "time_of_day",
    "cctv_coverage",
    "multiplier",
    "score",
    "score_notes",
    "area_ha",
    "x",
    "y",
]


# --------------------------------------------------------------------------- the window
@dataclass(frozen=True, eq=False)
class Window:
    """The analysis window's incidents as arrays (working CRS, metres), with codes for grouping.

    ``type_code`` indexes ``types`` (sorted), ``ward_code_idx`` indexes
    ``ward_codes`` (-1: no ward), ``loc_code`` indexes ``loc_texts`` (-1: no
    text); ``slots`` day-of-week x hour of each incident (None unless every
    incident is timed to the minute).
    """

    inc: gpd.GeoDataFrame
    px: np.ndarray
    py: np.ndarray
    harm: np.ndarray
    types: tuple[str, ...]
    type_code: np.ndarray
    ward_codes: tuple[str, ...]
    ward_code_idx: np.ndarray
    loc_texts: tuple[str, ...]
    loc_code: np.ndarray
    slots: np.ndarray | None
    precision_word: str
    total_harm: float

    @classmethod
    def of(cls, inc: gpd.GeoDataFrame) -> Window:
        type_code, types = pd.factorize(inc["crime_type"].astype(str), sort=True)
        ward_idx, ward_codes = pd.factorize(inc["ward_code"].astype("string").fillna(""), sort=True)
        loc = inc["location_text"].astype("string").fillna("").str.strip()
        loc_code, loc_texts = pd.factorize(loc.where(loc.str.len() > 0), sort=True)  # NaN -> -1
        ward_list = [str(w) for w in ward_codes]
        if "" in ward_list:  # incidents without a ward
            blank = ward_list.index("")
            ward_idx = np.where(ward_idx == blank, -1, ward_idx)
        harm = inc["harm"].to_numpy(float)
        prec = inc["time_precision"]
        return cls(
            inc=inc,
            px=inc["x"].to_numpy(float),
            py=inc["y"].to_numpy(float),
            harm=harm,
            types=tuple(str(t) for t in types),
            type_code=np.asarray(type_code, dtype=np.int64),
            ward_codes=tuple(ward_list),
            ward_code_idx=np.asarray(ward_idx, dtype=np.int64),
            loc_texts=tuple(str(t) for t in loc_texts),
            loc_code=np.asarray(loc_code, dtype=np.int64),
            slots=slot_codes(inc),
            precision_word="month" if (prec == "month").any() else "day",
            total_harm=float(harm.sum()) or 1.0,
        )

    @property
    def minute(self) -> bool:
        return self.slots is not None


# --------------------------------------------------------------------------- the merge distance
def merge_distance(tcfg: TaskingConfig, grid: Grid, w: Window, choices: MutableMapping[str, str]) -> float:
    """``[tasking] merge_distance_m``, or (0) the larger of the grid cell and the median location spacing,
    rounded up to 10 m, announced and recorded in ``choices``."""
    if tcfg.merge_distance_m > 0:
        return float(tcfg.merge_distance_m)
    d, spacing = automatic_merge_distance(grid.cell_size, w.px, w.py)
    choose(
        choices,
        "merge_distance_m",
        f"tasking places: hotspot areas and alert zones within {d:g} m of each other are one place "
        f"(the larger of the {grid.cell_size:g} m grid cell and the {spacing:.0f} m median spacing of "
        "neighbouring incident locations; set [tasking] merge_distance_m to change it)",
    )
    return d


def group_pieces(geoms: Sequence[BaseGeometry] | np.ndarray, distance: float) -> np.ndarray:
    """Place number of each piece: connected components of "overlaps or lies within ``distance`` metres"
    (the one rule for a place, :func:`hotspots.analysis.hotspot_places.place_labels`).

    Numbered in order of each place's first piece, so the same pieces in the same order give the same
    numbers.
    """
    return place_labels(geoms, distance)


# --------------------------------------------------------------------------- membership
def piece_members(pieces: Sequence[Piece], w: Window) -> tuple[np.ndarray, np.ndarray]:
    """(piece index, incident index) of every incident that counts for a piece, sorted by piece then incident.

    One spatial query of all pieces against the incident points (strictly inside, as
    ``shapely.contains_xy``), then the crime-type condition of each piece.
    """
    if not pieces or not len(w.px):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    geoms = np.asarray([p.geometry for p in pieces], dtype=object)
    points = np.asarray(shapely.points(w.px, w.py), dtype=object)
    pi, ii = shapely.STRtree(points).query(geoms, predicate="contains")
    allowed = np.zeros((len(pieces), len(w.types)), dtype=bool)
    code = {t: k for k, t in enumerate(w.types)}
    for k, p in enumerate(pieces):
        if p.crime_types:
            allowed[k, [code[t] for t in p.crime_types if t in code]] = True
        else:
            allowed[k, :] = True
    keep = allowed[pi, w.type_code[ii]]
    pi, ii = pi[keep], ii[keep]
    order = np.lexsort((ii, pi))
    return pi[order].astype(np.int64), ii[order].astype(np.int64)


def place_members(
    place_of_piece: np.ndarray, pi: np.ndarray, ii: np.ndarray, piece_mult: np.ndarray, n_incidents: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(place, incident, multiplier) once per incident of each place, sorted; the multiplier is the largest
    of the place's pieces that hold the incident."""
    if not len(pi):
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    pl = place_of_piece[pi]
    key = pl * np.int64(n_incidents) + ii
    mult = piece_mult[pi]
    order = np.lexsort((-mult, key))  # by key, the largest multiplier first
    key, mult = key[order], mult[order]
    first = np.r_[True, key[1:] != key[:-1]]
    key, mult = key[first], mult[first]
    return key // n_incidents, key % n_incidents, mult


# --------------------------------------------------------------------------- cells and trends
def piece_cells(pieces: Sequence[Piece], grid: Grid) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows, cols) of the grid cells whose centre lies inside each piece (the cell under its representative
    point when none does)."""
    xc, yc = grid.centres()
    r, c = np.nonzero(grid.mask)
    geoms = np.asarray([p.geometry for p in pieces], dtype=object)
    centres = np.asarray(shapely.points(xc[r, c], yc[r, c]), dtype=object)
    pi, ci = shapely.STRtree(centres).query(geoms, predicate="contains")
    order = np.lexsort((ci, pi))
    pi, ci = pi[order], ci[order]
    bounds = np.searchsorted(pi, np.arange(len(pieces) + 1))
    out = []
    for k, p in enumerate(pieces):
        sel = ci[bounds[k] : bounds[k + 1]]
        if len(sel):
            out.append((r[sel], c[sel]))
        else:
            pt = p.geometry.representative_point()
            rr, cc = grid.cell_index(np.array([pt.x]), np.array([pt.y]))
            out.append((rr[rr >= 0], cc[rr >= 0]))
    return out


def coverage_polygons(cov: CoverageResult) -> BaseGeometry | None:
    """Union of the live cameras' viewsheds (working CRS), or None when there are none."""
    v = cov.viewsheds
    return shapely.union_all(np.asarray(v.geometry.values)) if len(v) else None


def cctv_words(share: float) -> str:
    """'covered' (half the harm or more in camera view), 'partly covered' or 'gap' (under 10%), with the share."""
    word = "covered" if share >= 0.5 else ("partly covered" if share >= 0.1 else "gap")
    return f"{word} ({100 * share:.0f}% of harm in camera view)"


# --------------------------------------------------------------------------- words
def location_words(texts: list[tuple[str, int]]) -> str:
    """The two commonest location texts (given most common first) and how many others."""
    if not texts:
        return "no location text"
    top = [t for t, _ in texts[:2]]
    more = len(texts) - len(top)
    return "; ".join(top) + (f" and {more} other location{'s' if more != 1 else ''}" if more > 0 else "")


def counts_words(counts: list[tuple[str, int]]) -> str:
    """ "Violence and sexual offences 751, Shoplifting 413" from (code, incidents), in the given order."""
    return ", ".join(f"{crime_type_label(t)} {n:,}" for t, n in counts)


# --------------------------------------------------------------------------- places
@dataclass(frozen=True, eq=False)
class Places:
    """The run's places (``frame``: one row per place, columns :data:`PLACE_COLUMNS`, working CRS), the
    merge distance used (metres) and the automatic choices made."""

    frame: gpd.GeoDataFrame
    merge_distance_m: float
    choices: dict[str, str]


def _town_centre_names(area_tc: gpd.GeoDataFrame | None) -> tuple[np.ndarray, list[str]] | None:
    if area_tc is None or not len(area_tc) or "name" not in area_tc.columns:
        return None
    return np.asarray(area_tc.geometry.values, dtype=object), [str(n) for n in area_tc["name"]]


def describe_places(res: RunResults, tcfg: TaskingConfig | None = None) -> Places:
    """Every place of a run, described and scored (unranked)."""
    tcfg = tcfg or res.cfg.tasking
    choices: dict[str, str] = {}
    w = Window.of(res.recent())
    distance = merge_distance(tcfg, res.grid, w, choices)
    pieces = run_pieces(res, tcfg)
    pi, ii = piece_members(pieces, w)
    # a hotspot area needs min_incidents of its own incidents to count (an alert zone always counts)
    n_in = np.bincount(pi, minlength=len(pieces))
    keep = np.array([p.kind != HOTSPOT or n_in[k] >= tcfg.min_incidents for k, p in enumerate(pieces)], dtype=bool)
    if not keep.all():
        new_index = np.cumsum(keep) - 1
        sel = keep[pi]
        pi, ii = new_index[pi[sel]], ii[sel]
        pieces = [p for p, k in zip(pieces, keep, strict=True) if k]
    frame = _describe(pieces, pi, ii, w, distance, res, tcfg)
    return Places(frame=frame, merge_distance_m=distance, choices=choices)


def _describe(
    pieces: list[Piece],
    pi: np.ndarray,
    ii: np.ndarray,
    w: Window,
    distance: float,
    res: RunResults,
    tcfg: TaskingConfig,
) -> gpd.GeoDataFrame:
    crs = res.grid.crs
    if not pieces:
        return gpd.GeoDataFrame({c: [] for c in PLACE_COLUMNS}, geometry=[], crs=crs)
    n_inc, n_types = len(w.px), len(w.types)
    place_of = group_pieces([p.geometry for p in pieces], distance)
    n_places = int(place_of.max()) + 1

    # per piece: trend class and multiplier
    em = res.trends.emerging if res.trends is not None else None
    cells = piece_cells(pieces, res.grid) if em is not None else []
    cg = em.class_grid() if em is not None else None
    piece_trend = [trend_of_codes(em, cg[r, c]) for r, c in cells] if em is not None and cg is not None else []
    mult = np.ones(len(pieces))
    for k, p in enumerate(pieces):
        if piece_trend:
            mult[k] *= trend_multiplier(piece_trend[k], tcfg)
        if p.kind == NEAR_REPEAT:
            mult[k] *= tcfg.near_repeat_multiplier

    # per place: incidents once each, with the largest multiplier of the pieces holding them
    pl, ix, mx = place_members(place_of, pi, ii, mult, max(n_inc, 1))
    h = w.harm[ix]
    n_by_place = np.bincount(pl, minlength=n_places)
    harm_by_place = np.bincount(pl, weights=h, minlength=n_places)
    score_by_place = np.bincount(pl, weights=h * mx, minlength=n_places)
    pt_key = pl * n_types + w.type_code[ix]
    n_by_type = np.bincount(pt_key, minlength=n_places * n_types).reshape(n_places, n_types)
    harm_by_type = np.bincount(pt_key, weights=h, minlength=n_places * n_types).reshape(n_places, n_types)
    n_wards = len(w.ward_codes)
    wi = w.ward_code_idx[ix]
    has_w = wi >= 0
    harm_by_ward = np.bincount(pl[has_w] * n_wards + wi[has_w], weights=h[has_w], minlength=max(n_places * n_wards, 1))[
        : n_places * n_wards
    ].reshape(n_places, n_wards)
    profiles = None
    if w.slots is not None:
        profiles = np.bincount(pt_key * SLOTS + w.slots[ix], minlength=n_places * n_types * SLOTS).reshape(
            n_places, n_types, 7, 24
        )
    seen_harm = seen_n = None
    cov_union = coverage_polygons(res.coverage) if res.coverage is not None else None
    if cov_union is not None:
        seen = shapely.contains_xy(cov_union, w.px[ix], w.py[ix])
        seen_harm = np.bincount(pl, weights=h * seen, minlength=n_places)
        seen_n = np.bincount(pl, weights=seen.astype(float), minlength=n_places)
    locs = _place_locations(pl, ix, w, n_places)
    piece_harm = np.bincount(pi, weights=w.harm[ii], minlength=len(pieces))
    piece_main = _piece_main_types(pi, ii, w, len(pieces))

    wards = res.area.wards
    ward_name_of = dict(zip(wards["ward_code"].astype(str), wards["ward_name"].astype(str), strict=True))
    ward_geoms = np.asarray(wards.geometry.values, dtype=object)
    tc = _town_centre_names(res.area.town_centres)
    rows: list[dict[str, Any]] = []
    for q in range(n_places):
        members = np.nonzero(place_of == q)[0]
        geom = shapely.union_all(np.asarray([pieces[k].geometry for k in members], dtype=object))
        kinds = {pieces[k].kind for k in members}
        incidents = int(n_by_place[q])
        harm = float(harm_by_place[q])
        order = _type_order(n_by_type[q], harm_by_type[q])
        counts = [(w.types[t], int(n_by_type[q, t])) for t in order]
        main = _main_of(n_by_type[q], harm_by_type[q], w.types) or _first_problem_type(pieces, members)
        problems = _problems(pieces, members, piece_main, harm_by_type[q], w)
        ward_code, shared = _owner_ward(harm_by_ward[q], w, geom, wards, ward_geoms)
        ward_name = ward_name_of.get(ward_code, "")
        times = _peak_words(profiles[q] if profiles is not None else None, problems, w)
        heaviest = members[np.argmax(piece_harm[members])]
        rp = pieces[heaviest].geometry.representative_point()
        expiries = [
            e for k in members if pieces[k].kind == NEAR_REPEAT and (e := pieces[k].expires) is not None and pd.notna(e)
        ]
        rows.append(
            {
                "kind": KIND_WORDS[(HOTSPOT in kinds, NEAR_REPEAT in kinds)],
                "source": "; ".join(pieces[k].source for k in members),
                "place_name": _place_name(geom, distance, tc, locs[q], ward_name),
                "location": location_words(locs[q]) if incidents else "no incidents in the window",
                "ward_code": ward_code,
                "ward_name": ward_name,
                "snt": (f"{ward_name} SNT" if ward_name else "")
                + (
                    " (shared with " + ", ".join(f"{ward_name_of.get(c, c)} SNT" for c in shared) + ")"
                    if shared
                    else ""
                ),
                "shared_with": ", ".join(f"{ward_name_of.get(c, c)} SNT" for c in shared),
                "main_crime_type": main,
                "main_crime": crime_type_label(main),
                "crime_types": counts_words(counts),
                "counts_by_type": json.dumps(dict(counts)),
                "problems": json.dumps([[k, t, tod] for k, t, tod in _with_times(problems, times)]),
                "incidents": incidents,
                "harm": round(harm, 2),
                "harm_share": harm / w.total_harm,
                "trend_class": trend_of_codes(em, np.concatenate([cg[cells[k]] for k in members]))
                if em is not None and cg is not None
                else "not run",
                "near_repeat_window": f"alert zone until {max(expiries):%Y-%m-%d}"
                if expiries
                else ("alert zone (live)" if NEAR_REPEAT in kinds else _no_zone(res)),
                "expires": max(expiries) if expiries else pd.NaT,
                "peak_days": times.days,
                "peak_hours": times.hours,
                "time_of_day": times.of_type.get(main, UNKNOWN_TIME if not w.minute else ""),
                "cctv_coverage": _cctv(res, seen_harm, seen_n, q, harm, incidents),
                "multiplier": float(score_by_place[q] / harm) if harm > 0 else float(mult[members].max()),
                "score": round(float(score_by_place[q]), 3),
                "score_notes": _score_notes(pieces, members, piece_trend, piece_main, tcfg),
                "area_ha": round(geom.area / 1e4, 2),
                "x": round(rp.x, 1),
                "y": round(rp.y, 1),
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(rows, columns=[*PLACE_COLUMNS, "geometry"], geometry="geometry", crs=crs)


def _type_order(n: np.ndarray, harm: np.ndarray) -> list[int]:
    """Crime types present, most harm first (then most incidents, then code order)."""
    present = np.nonzero(n > 0)[0]
    return sorted(present.tolist(), key=lambda t: (-harm[t], -n[t], t))


def _main_of(n_by_type: np.ndarray, harm_by_type: np.ndarray, types: tuple[str, ...]) -> str:
    """The crime type with the most harm (with no harm at all: the most incidents; the first in code order
    on a tie); '' without incidents."""
    if not len(n_by_type) or n_by_type.sum() == 0:
        return ""
    return types[int(np.argmax(harm_by_type if (harm_by_type > 0).any() else n_by_type))]


def _first_problem_type(pieces: list[Piece], members: np.ndarray) -> str:
    """A place without incidents: the crime type of its first piece ('burglary' for an alert zone)."""
    p = pieces[int(members[0])]
    if p.crime_type:
        return p.crime_type
    return (p.crime_types[0] if p.crime_types else "burglary") if p.kind == NEAR_REPEAT else ""


def _piece_main_types(pi: np.ndarray, ii: np.ndarray, w: Window, n_pieces: int) -> list[str]:
    """Per piece, the crime type of its incidents with the most harm ('' without incidents)."""
    n_types = len(w.types)
    flat = np.bincount(pi * n_types + w.type_code[ii], weights=w.harm[ii], minlength=n_pieces * n_types)
    nb = np.bincount(pi, minlength=n_pieces)
    hb = flat.reshape(n_pieces, n_types) if n_types else np.zeros((n_pieces, 0))
    return [w.types[int(np.argmax(hb[k]))] if nb[k] and n_types else "" for k in range(n_pieces)]


def _problems(
    pieces: list[Piece], members: np.ndarray, piece_main: list[str], harm_by_type: np.ndarray, w: Window
) -> list[tuple[str, str]]:
    """(kind, crime type) of each problem of a place, de-duplicated, most harm first (an alert zone before a
    hotspot of the same type)."""
    probs: list[tuple[str, str]] = []
    for k in members:
        p = pieces[k]
        if p.kind == NEAR_REPEAT:
            t = piece_main[k] or (p.crime_types[0] if p.crime_types else "burglary")
        else:
            t = p.crime_type or piece_main[k]
        if (p.kind, t) not in probs:
            probs.append((p.kind, t))
    code = {t: k for k, t in enumerate(w.types)}

    def key(pr: tuple[str, str]) -> tuple[float, int, str]:
        h = float(harm_by_type[code[pr[1]]]) if pr[1] in code else 0.0
        return (-h, 0 if pr[0] == NEAR_REPEAT else 1, pr[1])

    return sorted(probs, key=key)


@dataclass(frozen=True)
class _Times:
    days: str
    hours: str
    of_type: dict[str, str]  # crime type -> night / day / unknown


def _peak_words(profile: np.ndarray | None, problems: list[tuple[str, str]], w: Window) -> _Times:
    """Peak days and hours of each problem's crime type (labelled when there are several), and each type's
    time of day; "n/a" with the reason when times are not known to the minute."""
    types = list(dict.fromkeys(t for _, t in problems if t))
    if profile is None:
        na = f"n/a (times known only to the {w.precision_word})"
        return _Times(na, na, {t: UNKNOWN_TIME for t in types})
    code = {t: k for k, t in enumerate(w.types)}
    days, hours, tods = [], [], {}
    for t in types:
        d, hh, tod = peak_days_hours(profile[code[t]] if t in code else None)
        tods[t] = tod or UNKNOWN_TIME
        if d:
            lab = f"{crime_type_label(t)}: " if len(types) > 1 else ""
            days.append(lab + d)
            hours.append(lab + hh)
    return _Times("; ".join(days), "; ".join(hours), tods)


def _with_times(problems: list[tuple[str, str]], times: _Times) -> list[tuple[str, str, str]]:
    return [(k, t, times.of_type.get(t, UNKNOWN_TIME)) for k, t in problems]


def _owner_ward(
    harm_by_ward: np.ndarray,
    w: Window,
    geom: BaseGeometry,
    wards: gpd.GeoDataFrame,
    ward_geoms: np.ndarray,
) -> tuple[str, list[str]]:
    """(ward holding most of the place's harm, other wards holding at least :data:`SHARED_WARD_SHARE` of it);
    the ward holding most of its area when its incidents have no ward."""
    if len(harm_by_ward) and harm_by_ward.sum() > 0:
        order = sorted(range(len(harm_by_ward)), key=lambda k: (-harm_by_ward[k], w.ward_codes[k]))
        tot = harm_by_ward.sum()
        shared = [w.ward_codes[k] for k in order[1:] if harm_by_ward[k] >= SHARED_WARD_SHARE * tot]
        return w.ward_codes[order[0]], shared
    inter = shapely.area(shapely.intersection(ward_geoms, geom))
    if not len(inter) or inter.max() <= 0:
        return "", []
    return str(wards["ward_code"].iat[int(np.argmax(inter))]), []


def _place_locations(pl: np.ndarray, ix: np.ndarray, w: Window, n_places: int) -> list[list[tuple[str, int]]]:
    """Per place, its location texts with their incidents, most common first (then alphabetical)."""
    lc = w.loc_code[ix]
    ok = lc >= 0
    n_loc = max(len(w.loc_texts), 1)
    keys, counts = np.unique(pl[ok] * n_loc + lc[ok], return_counts=True)
    place, loc = keys // n_loc, keys % n_loc
    order = np.lexsort((loc, -counts, place))  # loc codes are sorted texts, so ties are alphabetical
    out: list[list[tuple[str, int]]] = [[] for _ in range(n_places)]
    for k in order:
        out[int(place[k])].append((w.loc_texts[int(loc[k])], int(counts[k])))
    return out


def _place_name(
    geom: BaseGeometry,
    distance: float,
    tc: tuple[np.ndarray, list[str]] | None,
    locs: list[tuple[str, int]],
    ward_name: str,
) -> str:
    """The town centre the place is in or next to (within the merge distance), else its commonest street and
    its ward."""
    if tc is not None:
        d = shapely.distance(tc[0], geom)
        k = int(np.argmin(d))
        if d[k] <= distance:
            return f"{tc[1][k]} town centre"
    texts = [location_text(t) for t, _ in locs]
    first = texts[0] if texts else ""
    street = place_of(first)
    if first and not street:  # a kind of place ("Shopping Area"): say which street it is by
        named = next((n for n in map(place_of, texts[1:6]) if n), "")
        street = f"{first} by {named}" if named else first
    if street and ward_name:
        return f"{street}, {ward_name}"
    return street or ward_name or "unnamed place"


def _no_zone(res: RunResults) -> str:
    return "no live alert zone" if res.nearrepeat is not None else "not run"


def _cctv(
    res: RunResults,
    seen_harm: np.ndarray | None,
    seen_n: np.ndarray | None,
    q: int,
    harm: float,
    incidents: int,
) -> str:
    if res.coverage is None:
        return "not run"
    if seen_harm is None or seen_n is None:
        return "not assessed"
    if not incidents:
        return "no incidents to assess"
    share = float(seen_harm[q] / harm) if harm > 0 else float(seen_n[q] / incidents)
    return cctv_words(share)


def _score_notes(
    pieces: list[Piece], members: np.ndarray, piece_trend: list[str], piece_main: list[str], tcfg: TaskingConfig
) -> str:
    """What raised or lowered the score, once each: "intensifying hot spot for Vehicle crime (x1.25); live
    near-repeat alert zone (x2)"."""
    notes: list[str] = []
    for k in members:
        p = pieces[k]
        if piece_trend:
            m = trend_multiplier(piece_trend[k], tcfg)
            if m != 1.0:
                t = p.crime_type or piece_main[k]
                what = f" for {crime_type_label(t)}" if t else ""
                notes.append(f"{piece_trend[k]}{what} (x{m:g})")
        if p.kind == NEAR_REPEAT:
            notes.append(f"live near-repeat alert zone (x{tcfg.near_repeat_multiplier:g})")
    return "; ".join(dict.fromkeys(notes))
