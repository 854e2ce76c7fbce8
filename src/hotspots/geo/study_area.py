"""The study area: its contract (:class:`StudyArea`) and how it is read.

Wards (GeoJSON, GeoPackage or shapefile), the outline, population and
households, optional roads and town centres, all reprojected to the working
CRS (metres, default EPSG:27700); invalid polygons are repaired and the repair
reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from ..config.loader import resolve_path
from ..config.sections import StudyAreaConfig
from ..crs import DEFAULT_CRS, area_of_use_problem, crs_label
from ..errors import InputError
from ..textfile import read_table
from .grid import Grid


@dataclass(frozen=True, eq=False)
class StudyArea:
    """Boundary and wards of the area analysed, all in ``crs`` (metres).

    ``wards`` has columns ``ward_code, ward_name, population, households,
    geometry`` (population/households NaN when no population file is given).
    ``roads`` (optional) has ``road_class`` and geometry; ``town_centres``
    (optional) has ``name`` and point geometry; ``lsoas`` (optional) ``lsoa_code``.
    """

    name: str
    boundary: BaseGeometry
    wards: gpd.GeoDataFrame
    lsoas: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    town_centres: gpd.GeoDataFrame | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    crs: str = DEFAULT_CRS

    @property
    def area_km2(self) -> float:
        return float(self.boundary.area) / 1e6

    def grid(self, cell_size_m: float = 0.0) -> Grid:
        """The analysis grid over this area (0 = cell size chosen automatically; see :class:`Grid`)."""
        return Grid.from_boundary(self.boundary, cell_size_m, crs=self.crs)


def read_vector(path: Path, what: str, layer: str = "", crs: str = DEFAULT_CRS) -> gpd.GeoDataFrame:
    """Read a vector file and reproject it to ``crs``; errors name the file.

    Refused: a missing, unreadable or empty file, a file without a CRS,
    coordinates that are grid metres in a file that says longitude/latitude
    (a GeoJSON file without a ``crs`` member is read as longitude/latitude), and
    data lying outside the working CRS's area of use (the message names a CRS
    that suits them). Features without a geometry are kept (callers decide).
    """
    if not path.exists():
        raise InputError(f"{path}: {what} file not found; check the path in the config.")
    try:
        g = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types
        raise InputError(
            f"{path}: could not read the {what} file ({exc}). Use GeoJSON, GeoPackage or a shapefile."
        ) from exc
    if g.empty:
        raise InputError(f"{path}: the {what} file has no features.")
    if g.crs is None:
        raise InputError(f"{path}: the {what} file has no CRS; save it with one (e.g. EPSG:27700 or EPSG:4326).")
    present = ~g.geometry.isna() & ~g.geometry.is_empty
    if present.any():
        x0, y0, x1, y1 = g.geometry[present].total_bounds
        if not np.isfinite([x0, y0, x1, y1]).all():
            raise InputError(f"{path}: the {what} file has coordinates that are not finite numbers; draw it again.")
        if g.crs.is_geographic and (max(abs(x0), abs(x1)) > 180 or max(abs(y0), abs(y1)) > 90):
            raise InputError(
                f"{path}: the {what} file's coordinates run from {x0:.0f} to {x1:.0f} (x) and {y0:.0f} to {y1:.0f} "
                f"(y): grid metres, but the file says they are longitude/latitude degrees ({crs_label(g.crs)}). "
                "A GeoJSON file without a 'crs' member is read as longitude/latitude (RFC 7946). Save the file "
                "in EPSG:4326 (longitude/latitude), or as a GeoPackage, which records its CRS."
            )
        lon, lat = Transformer.from_crs(g.crs, "EPSG:4326", always_xy=True).transform((x0 + x1) / 2, (y0 + y1) / 2)
        problem = area_of_use_problem(lon, lat, crs, f"{path}: the {what} features")
        if problem:
            raise InputError(problem)
    return g.to_crs(crs)


def repair_polygons(g: gpd.GeoDataFrame, where: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Make invalid polygons valid (shapely make_valid, keeping polygonal parts); returns notes."""
    notes = []
    bad = ~g.geometry.is_valid
    if bad.any():
        fixed = shapely.make_valid(g.geometry[bad].to_numpy())
        fixed = [
            shapely.union_all(shapely.get_parts(f)[np.isin(shapely.get_type_id(shapely.get_parts(f)), [3, 6])])
            for f in fixed
        ]
        g = g.copy()
        g.loc[bad, "geometry"] = fixed
        notes.append(f"{where}: repaired {int(bad.sum())} invalid polygon(s) with make_valid.")
    return g, notes


#: Wards overlapping by more than this share of the smaller ward's area are refused (two ward sets in one file).
MAX_WARD_OVERLAP_SHARE = 0.10
#: Overlaps smaller than this (square metres) are digitising slivers and are not reported.
WARD_OVERLAP_NOTE_M2 = 1.0


def ward_overlaps(wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """Pairs of wards whose polygons overlap: ``ward_a, ward_b, area_m2, share`` (share of the smaller ward)."""
    geoms = wards.geometry.to_numpy()
    left, right = wards.sindex.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return pd.DataFrame(columns=["ward_a", "ward_b", "area_m2", "share"])
    area = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    codes = wards["ward_code"].to_numpy()
    out = pd.DataFrame(
        {
            "ward_a": codes[left],
            "ward_b": codes[right],
            "area_m2": area,
            "share": np.divide(area, smaller, out=np.zeros_like(area), where=smaller > 0),
        }
    )
    return out[out["area_m2"] >= WARD_OVERLAP_NOTE_M2].sort_values("area_m2", ascending=False).reset_index(drop=True)


def _check_overlaps(wards: gpd.GeoDataFrame, path: Path) -> list[str]:
    over = ward_overlaps(wards)
    if not len(over):
        return []
    worst = over.sort_values("share", ascending=False).iloc[0]
    if worst["share"] > MAX_WARD_OVERLAP_SHARE:
        raise InputError(
            f"{path}: wards {worst['ward_a']} and {worst['ward_b']} overlap by {worst['area_m2']:,.0f} m² "
            f"({100 * worst['share']:.0f}% of the smaller one): the file may hold two sets of wards (e.g. before "
            "and after a boundary review). Keep one set, or mend the boundaries so each place lies in one ward."
        )
    top = over.iloc[0]
    return [
        f"{path}: {len(over)} pair(s) of wards overlap slightly (largest: {top['ward_a']} and {top['ward_b']}, "
        f"{top['area_m2']:,.0f} m², {100 * top['share']:.2f}% of the smaller ward); an incident in an overlap "
        "counts for the ward whose code sorts first."
    ]


def load_wards(
    path: Path, code_field: str, name_field: str, layer: str = "", crs: str = DEFAULT_CRS
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Ward polygons with ``ward_code`` and ``ward_name`` (sorted by code) in ``crs``, and notes.

    A ward without a geometry (null or empty), without a code, or with a code
    that repeats is an :class:`InputError` naming it; invalid polygons are repaired
    (noted); overlapping wards are noted, or refused when the overlap is large.
    """
    g = read_vector(path, "ward boundary", layer, crs)
    for key, col in (("ward_code_field", code_field), ("ward_name_field", name_field)):
        if col not in g.columns:
            raise InputError(
                f"{path}: column {col!r} ([study_area] {key}) is not in the ward file; "
                f"columns found: {[c for c in g.columns if c != 'geometry']}."
            )
    g = g.rename(columns={code_field: "ward_code", name_field: "ward_name"})[["ward_code", "ward_name", "geometry"]]
    code_text = g["ward_code"].astype(object).where(g["ward_code"].notna(), "").astype(str).str.strip()
    no_code = np.flatnonzero(code_text.to_numpy() == "")
    if len(no_code):
        raise InputError(
            f"{path}: feature(s) {[int(i) + 1 for i in no_code[:5]]} have no ward code in column {code_field!r}; "
            "give every ward its code."
        )
    g["ward_code"] = code_text
    for problem, mask in (("no geometry (null)", g.geometry.isna()), ("an empty geometry", g.geometry.is_empty)):
        if mask.any():
            bad = [
                f"{c} (feature {i + 1})"
                for i, c in zip(np.flatnonzero(mask.to_numpy()), g["ward_code"][mask], strict=False)
            ]
            raise InputError(
                f"{path}: ward(s) {', '.join(bad[:5])} have {problem}; draw their boundaries or remove those "
                "features from the ward file."
            )
    types = set(g.geom_type)
    if types - {"Polygon", "MultiPolygon"}:
        raise InputError(f"{path}: wards must be polygons; found {sorted(types)}.")
    names = g["ward_name"].astype(object).where(g["ward_name"].notna(), "").astype(str).str.strip()
    notes = []
    if (names == "").any():
        notes.append(f"{path}: {int((names == '').sum())} ward(s) have no name; their code is shown instead.")
        names = names.where(names != "", g["ward_code"])
    g["ward_name"] = names
    dup = g["ward_code"][g["ward_code"].duplicated()]
    if len(dup):
        raise InputError(
            f"{path}: ward codes repeat ({sorted(set(dup))[:5]}); each ward needs one polygon row "
            "(dissolve multi-part wards first)."
        )
    g, repaired = repair_polygons(g, str(path))
    g = g.sort_values("ward_code").reset_index(drop=True)
    return g, notes + repaired + _check_overlaps(g, path)


_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _count(text: str) -> float:
    """A population or household count from a cell: '' -> NaN; '17,550' -> 17550.0; ValueError otherwise."""
    t = text.strip()
    if not t:
        return float("nan")
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    v = float(t)
    if not np.isfinite(v):
        raise ValueError(t)
    return v


def join_population(
    wards: gpd.GeoDataFrame, path: Path, code_field: str, pop_field: str, hh_field: str
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Add ``population`` and ``households`` per ward from a CSV.

    Every ward must have exactly one row; its counts must be positive numbers or
    empty (unknown: the ward's rates are left blank, and a note says so). Rows
    for wards outside the ward file are ignored (noted). Anything else is an
    :class:`InputError` naming the line, the column and the fix.
    """
    table = read_table(path, (code_field, pop_field, hh_field))
    df = table.frame
    for key, col in (
        ("population_code_field", code_field),
        ("population_field", pop_field),
        ("households_field", hh_field),
    ):
        if col not in df.columns:
            raise InputError(
                f"{path}: column {col!r} ([study_area] {key}) is not in the population CSV; "
                f"columns found: {list(df.columns)[:15]}."
            )
    table.require_unique((code_field, pop_field, hh_field), "named in [study_area]")
    codes = df[code_field].str.strip()
    wanted = set(wards["ward_code"])
    lines = pd.Series(table.lines, index=df.index)
    ours = codes.isin(wanted)
    bad_rows = [m for m, o in zip(table.malformed, ours, strict=False) if m and o]
    if bad_rows:
        raise InputError(f"{path}: {bad_rows[0]}; fix the row and save the file again.")
    dup = codes[ours & codes.duplicated(keep=False)]
    if len(dup):
        code = sorted(set(dup))[0]
        at = ", ".join(str(v) for v in lines[codes == code])
        raise InputError(
            f"{path}: ward {code} has more than one row (lines {at}); keep one row per ward so its "
            "population and households are not in doubt."
        )
    rows = []
    for i in np.flatnonzero(ours.to_numpy()):
        row = {"ward_code": codes.iloc[i]}
        for key, col, out in (
            ("population_field", pop_field, "population"),
            ("households_field", hh_field, "households"),
        ):
            cell = str(df[col].iloc[i])
            try:
                v = _count(cell)
            except ValueError:
                raise InputError(
                    f"{path}: line {lines.iloc[i]}, column {col!r} ([study_area] {key}): {cell.strip()[:30]!r} for "
                    f"ward {codes.iloc[i]} is not a number; give the count, or leave the cell empty if unknown."
                ) from None
            if v <= 0:
                per = "household" if out == "households" else "resident"
                raise InputError(
                    f"{path}: line {lines.iloc[i]}, column {col!r} ([study_area] {key}): {out} of ward "
                    f"{codes.iloc[i]} is {cell.strip()}, but a rate per {per} needs a count above 0; correct "
                    "it, or leave the cell empty to leave the ward's rates blank."
                )
            row[out] = v
        rows.append(row)
    counts = pd.DataFrame(rows, columns=["ward_code", "population", "households"])
    missing = sorted(wanted - set(counts["ward_code"]))
    if missing:
        raise InputError(
            f"{path}: no row for ward(s) {missing[:10]}{' ...' if len(missing) > 10 else ''} (column {code_field!r}); "
            "add a row for each ward of the ward file (leave its counts empty if unknown)."
        )
    out = wards.merge(counts, on="ward_code", how="left")
    notes = list(table.notes)
    blank = out.loc[out["population"].isna() | out["households"].isna(), "ward_code"].tolist()
    if blank:
        notes.append(f"{path}: ward(s) {blank} have no population or household count; their rates are left blank.")
    others = int((~ours & (codes != "")).sum())
    if others:
        notes.append(f"{path}: {others:,} row(s) for wards outside the ward file were ignored.")
    return out, notes


#: Road classes as sources spell them (OS Open Roads: "Motorway", "A Road", "B Road") -> the engine's classes.
_ROAD_CLASSES = {"motorway": "motorway", "a road": "a_road", "a_road": "a_road", "b road": "b_road", "b_road": "b_road"}


def road_class(value: object) -> str:
    """The engine's road class (``motorway``, ``a_road``, ``b_road``, or the source's own class in lower case
    with underscores, e.g. ``minor``, ``unclassified``); blank reads ``unclassified``."""
    if not isinstance(value, str) or not value.strip():
        return "unclassified"
    v = " ".join(value.strip().lower().replace("-", " ").split())
    return _ROAD_CLASSES.get(v, v.replace(" ", "_"))


def read_roads(path: Path, class_field: str, name_field: str, crs: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Road lines in ``crs`` with ``road_class`` (see :func:`road_class`) and ``name`` columns, and notes on
    columns the file lacks ([study_area] ``road_class_field`` and ``road_name_field`` name them)."""
    roads = read_vector(path, "road", crs=crs)
    notes = []
    if class_field in roads.columns:
        roads["road_class"] = [road_class(v) for v in roads[class_field]]
    else:
        roads["road_class"] = "unclassified"
        notes.append(f"{path}: roads have no {class_field!r} column; all roads weighted equally.")
    if name_field in roads.columns:
        roads["name"] = [v.strip() if isinstance(v, str) and v.strip() else None for v in roads[name_field]]
    else:
        roads["name"] = None
        notes.append(
            f"{path}: roads have no {name_field!r} column ([study_area] road_name_field), so the maps label "
            "streets from the incidents' locations only."
        )
    return roads, notes


def read_study_area(settings: StudyAreaConfig, data_dir: Path, name: str = "", crs: str = DEFAULT_CRS) -> StudyArea:
    """Build the :class:`StudyArea` described by a ``[study_area]`` section.

    Relative paths in ``settings`` start at ``data_dir``; everything is
    reprojected to ``crs`` (the working CRS, metres).
    """
    sa = settings

    def path(value: str) -> Path:
        return resolve_path(value, data_dir)

    wards, notes = load_wards(path(sa.wards), sa.ward_code_field, sa.ward_name_field, sa.layer, crs)
    if sa.population:
        wards, n2 = join_population(
            wards, path(sa.population), sa.population_code_field, sa.population_field, sa.households_field
        )
        notes += n2
    else:
        wards["population"] = np.nan
        wards["households"] = np.nan
    wards = gpd.GeoDataFrame(wards, geometry="geometry", crs=crs)
    if sa.boundary:
        b = read_vector(path(sa.boundary), "boundary", crs=crs)
        b, n3 = repair_polygons(b, sa.boundary)
        notes += n3
        boundary = shapely.union_all(b.geometry.to_numpy())
    else:
        # union of wards, with slivers between neighbouring wards closed by a tiny buffer
        boundary = shapely.union_all(wards.geometry.buffer(0.01).to_numpy()).buffer(-0.01)
    roads = town_centres = lsoas = None
    if sa.roads:
        roads, n4 = read_roads(path(sa.roads), sa.road_class_field, sa.road_name_field, crs)
        notes += n4
    if sa.town_centres:
        town_centres = read_vector(path(sa.town_centres), "town centre", crs=crs)
    if sa.lsoas:
        lsoas = read_vector(path(sa.lsoas), "LSOA", crs=crs)
        if sa.lsoa_code_field not in lsoas.columns:
            raise InputError(f"{sa.lsoas}: column {sa.lsoa_code_field!r} ([study_area] lsoa_code_field) not found.")
        lsoas = lsoas.rename(columns={sa.lsoa_code_field: "lsoa_code"})
    return StudyArea(
        name=name,
        boundary=boundary,
        wards=wards,
        lsoas=lsoas,
        roads=roads,
        town_centres=town_centres,
        notes=tuple(notes),
        crs=crs,
    )
