"""The CCTV coverage report's pages: the public-consultation map of ``hotspots cctv``.

Nothing incident-level goes into the map: only the aggregated cells of
:func:`hotspots.coverage.public_map.public_cells` (counts below the threshold
already removed) and the proposed camera sites with their rank. The page is
the same offline map page as the pack's (:mod:`.public_maps`): Leaflet is
inside the file, so it opens with no internet.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry

from ..config.sections import RenderConfig
from ..coverage.report import CoverageResult
from .public_maps import OGL_CREDIT, PublicMapText, public_map


def write_public_map(
    path: str | Path,
    cells: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame | None = None,
    boundary: BaseGeometry | None = None,
    min_count: int = 5,
    title: str = "Proposed CCTV sites",
    period: str = "",
    render: RenderConfig | None = None,
) -> Path:
    """Write ``public_map.html``: boundary, aggregated cells, proposed sites (rank only), offline.

    ``cells`` come from :func:`hotspots.coverage.public_map.public_cells` (a ``count`` column, a metric CRS);
    the boundary is in the cells' CRS. Cells below ``min_count`` are dropped again here, so a caller cannot
    publish them by mistake.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = cells[cells["count"] >= min_count]
    if boundary is None:  # the area the map shows: the cells, else the sites
        shown = cells if len(cells) or sites is None else sites
        boundary = shown.geometry.union_all().buffer(0 if shown is cells else 500)
    cell_m = float(np.sqrt(cells.geometry.area.iloc[0])) if len(cells) else 0.0
    text = PublicMapText(
        title=title,
        subtitle=(f"Recorded crime {period}" if period else "Recorded crime")
        + (f", counted on {cell_m:g} m squares" if cell_m else ""),
        credits=OGL_CREDIT,
        about=(
            f"Crimes are counted on squares; squares with fewer than {min_count} crimes are not shown, and no "
            "individual crime location, street or address is published.",
            "The numbered squares are proposed sites for new cameras, in order of priority.",
        ),
    )
    page = public_map(
        cells, cells["count"].to_numpy(), boundary, text, render or RenderConfig(), sites=sites, kind="consultation"
    )
    return page.save(path)


def write_coverage_report(res: CoverageResult, out_dir: str | Path) -> list[Path]:
    """The coverage report folder: the result's tables and layers (:meth:`CoverageResult.write`) plus
    ``public/public_map.html``, the public-consultation map."""
    out = Path(out_dir)
    files = res.write(out)
    period = f"{res.period[0]} to {res.period[1]}" if res.period[0] else ""
    files.append(
        write_public_map(
            out / "public" / "public_map.html",
            res.public_cells,
            res.proposed_sites,
            res.boundary,
            res.public_min_count,
            period=period,
        )
    )
    return files
