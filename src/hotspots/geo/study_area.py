"""The study area: its contract (:class:`StudyArea`) and how it is read.

Wards (GeoJSON, GeoPackage or shapefile), the outline, population and
households, optional roads and town centres, all reprojected to the working
CRS (metres, default EPSG:27700); invalid polygons are repaired and the repair
reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..config.loader import resolve_path
from ..config.sections import StudyAreaConfig
from ..crs import DEFAULT_CRS
from ..errors import InputError
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
    """Read a vector file and reproject it to ``crs``; errors name the file."""
    if not path.exists():
        raise InputError(f"{path}: {what} file not found; check the path in the config.")
    try:
        g = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:
        raise InputError(
            f"{path}: could not read the {what} file ({exc}). Use GeoJSON, GeoPackage or a shapefile."
        ) from exc
    if g.empty:
        raise InputError(f"{path}: the {what} file has no features.")
    if g.crs is None:
        raise InputError(f"{path}: the {what} file has no CRS; save it with one (e.g. EPSG:27700 or EPSG:4326).")
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


def load_wards(
    path: Path, code_field: str, name_field: str, layer: str = "", crs: str = DEFAULT_CRS
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Ward polygons with ``ward_code`` and ``ward_name`` (sorted by code) in ``crs``, and repair notes."""
    g = read_vector(path, "ward boundary", layer, crs)
    for key, col in (("ward_code_field", code_field), ("ward_name_field", name_field)):
        if col not in g.columns:
            raise InputError(
                f"{path}: column {col!r} ([study_area] {key}) is not in the ward file; "
                f"columns found: {[c for c in g.columns if c != 'geometry']}."
            )
    types = set(g.geom_type)
    if types - {"Polygon", "MultiPolygon"}:
        raise InputError(f"{path}: wards must be polygons; found {sorted(types)}.")
    g = g.rename(columns={code_field: "ward_code", name_field: "ward_name"})[["ward_code", "ward_name", "geometry"]]
    g["ward_code"] = g["ward_code"].astype(str)
    dup = g["ward_code"][g["ward_code"].duplicated()]
    if len(dup):
        raise InputError(
            f"{path}: ward codes repeat ({sorted(set(dup))[:5]}); each ward needs one polygon row "
            "(dissolve multi-part wards first)."
        )
    g, notes = repair_polygons(g, str(path))
    return g.sort_values("ward_code").reset_index(drop=True), notes


def join_population(
    wards: gpd.GeoDataFrame, path: Path, code_field: str, pop_field: str, hh_field: str
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Add ``population`` and ``households`` per ward from a CSV (NaN where a ward is missing; reported)."""
    try:
        df = pd.read_csv(path, dtype={code_field: str})
    except Exception as exc:
        raise InputError(f"{path}: could not read the population CSV ({exc}).") from exc
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
    df = df[[code_field, pop_field, hh_field]].rename(
        columns={code_field: "ward_code", pop_field: "population", hh_field: "households"}
    )
    df["ward_code"] = df["ward_code"].astype(str).str.strip()
    for c in ("population", "households"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    out = wards.merge(df.drop_duplicates("ward_code"), on="ward_code", how="left")
    notes = []
    missing = out.loc[out["population"].isna(), "ward_code"].tolist()
    if missing:
        notes.append(f"{path}: no population for ward(s) {missing}; their rates are left blank.")
    return out, notes


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
        roads = read_vector(path(sa.roads), "road", crs=crs)
        if sa.road_class_field in roads.columns:
            roads = roads.rename(columns={sa.road_class_field: "road_class"})
        else:
            roads["road_class"] = "unclassified"
            notes.append(f"{sa.roads}: roads have no {sa.road_class_field!r} column; all roads weighted equally.")
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
