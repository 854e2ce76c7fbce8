"""Stage ``coverage``: which harm the cameras see, the gaps, new CCTV and ANPR sites.

Reads ``[cameras]`` (the inventories and, optionally, an obstruction raster),
``[coverage]``, ``[siting]`` (optionally a file of candidate sites), ``[anpr]``
(optionally its own roads, outline, police.uk points beyond the boundary and
neighbouring areas) and ``[tasking] merge_distance_m`` (the one rule for a
place), reads those files into the working CRS and calls
:func:`hotspots.coverage.report.coverage_report` with the sections as
parameter objects. Without a camera inventory the stage refuses (the pack says so).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import Config
from ..coverage.cameras import CameraInventory, combine, read_inventory
from ..coverage.readers import read_outline, read_roads, read_sites
from ..coverage.report import coverage_report
from ..coverage.result import CoverageResult
from ..coverage.viewshed import Obstruction
from ..errors import InputError
from ..geo.grid import Grid
from ..geo.streets import StreetPoints
from ..geo.study_area import StudyArea, read_vector
from .registry import Stage
from .results import RunResults


def read_camera_inventory(cfg: Config) -> CameraInventory:
    """Every inventory of ``[cameras]`` (``inventory`` and ``[[cameras.inventories]]``) in the working CRS,
    as one; a run without any cannot assess coverage."""
    cams = cfg.cameras
    sources = cams.sources()
    if not sources:
        raise InputError(
            f'{cfg.source_file}: no camera inventory; set [cameras] inventory = "path/to/'
            'cameras.csv" (CSV with camera_id,type,x,y,... or a GeoJSON of points) or add '
            "[[cameras.inventories]] tables."
        )
    return combine([read_inventory(cfg.path(s.path), cams, target_crs=cfg.crs, source=s) for s in sources], crs=cfg.crs)


def coverage(
    cfg: Config,
    incidents: pd.DataFrame,
    area: StudyArea,
    grid: Grid,
    harm_per_cell: np.ndarray | None = None,
    hotspot_areas: gpd.GeoDataFrame | None = None,
    *,
    inventory: CameraInventory | None = None,
    k: int | None = None,
    anpr_k: int | None = None,
    mobile_zones: gpd.GeoDataFrame | None = None,
    mobile_start=None,
    obstruction: Obstruction | None = None,
    street_incidents: pd.DataFrame | None = None,
) -> CoverageResult:
    """The coverage report of ``incidents`` with the settings and files of ``cfg``.

    ``inventory`` / ``obstruction`` replace the configured files; ``k`` /
    ``anpr_k`` the numbers of new cameras / readers. ``street_incidents`` (by
    default ``incidents``) are the incidents whose location texts name streets:
    give every incident read, not only the analysis window, so that more
    streets have a name.
    """
    inventory = inventory if inventory is not None else read_camera_inventory(cfg)
    cams, sit, anpr = cfg.cameras, cfg.siting, cfg.anpr
    if obstruction is None and cams.obstruction:
        obstruction = Obstruction.from_geotiff(cfg.path(cams.obstruction), cfg.crs)
    candidates = read_sites(cfg.path(sit.candidates), cfg.crs) if sit.candidates else None
    roads = read_roads(cfg.path(anpr.roads), cfg.crs) if anpr.roads else None
    outline = read_outline(cfg.path(anpr.boundary), cfg.crs) if anpr.boundary else None
    streets = StreetPoints.from_incidents(street_incidents if street_incidents is not None else incidents, cfg.crs)
    beyond = StreetPoints.read_police_uk(cfg.path(anpr.street_points), cfg.crs) if anpr.street_points else None
    neighbours = read_vector(cfg.path(anpr.neighbours), "[anpr] neighbours", crs=cfg.crs) if anpr.neighbours else None
    return coverage_report(
        incidents,
        area,
        grid,
        inventory,
        cameras=cams,
        coverage=cfg.coverage,
        siting=sit,
        anpr=anpr,
        harm_per_cell=harm_per_cell,
        hotspot_areas=hotspot_areas,
        obstruction=obstruction,
        candidates=candidates,
        anpr_roads=roads,
        anpr_outline=outline,
        anpr_streets=beyond,
        anpr_neighbours=neighbours,
        streets=streets,
        merge_distance_m=cfg.tasking.merge_distance_m,
        harm_weights=cfg.harm_weights(),
        k=k,
        anpr_k=anpr_k,
        mobile_zones=mobile_zones,
        mobile_start=mobile_start,
    )


def run(res: RunResults) -> CoverageResult:
    """Coverage of the analysis window's harm, with the surfaces' hotspot areas as candidate gaps and every
    incident read before the meeting naming the streets."""
    areas = res.surfaces.hotspot_polygons() if res.surfaces is not None else None
    return coverage(res.cfg, res.recent(), res.area, res.grid, hotspot_areas=areas, street_incidents=res.incidents)


STAGE: Stage[CoverageResult] = Stage(
    name="coverage",
    title="coverage",
    sections=("cameras", "coverage", "siting", "anpr", "harm", "tasking"),
    depends_on=("surfaces",),
    run=run,
)
