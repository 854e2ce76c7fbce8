"""The CCTV coverage report's pages: the public-consultation map of ``hotspots cctv``.

Nothing incident-level goes into the map: only the squares of the one public
aggregation, :func:`hotspots.render.public.public_tier` (the same squares,
period and threshold as the pack's public tier, small counts already
suppressed), and the proposed camera sites with their rank. The page is the
same offline map page as the pack's (:mod:`.public_maps`): Leaflet is inside
the file, so it opens with no internet.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from ..config.sections import RenderConfig
from ..coverage.result import CoverageResult
from .public import PublicTier
from .public_maps import OGL_CREDIT, PublicMapText, public_map


def write_public_map(
    path: str | Path,
    tier: PublicTier,
    sites: gpd.GeoDataFrame | None = None,
    boundary: BaseGeometry | None = None,
    title: str = "Proposed CCTV sites",
    render: RenderConfig | None = None,
) -> Path:
    """Write ``public_map.html``: boundary, the public tier's squares, proposed sites (rank only), offline.

    ``tier`` comes from :func:`hotspots.render.public.public_tier`; the boundary is in its CRS (without one,
    the map shows the squares, else the sites).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = tier.cells
    if boundary is None:
        shown = cells if len(cells) or sites is None else sites
        boundary = shown.geometry.union_all().buffer(0 if shown is cells else 500)
    text = PublicMapText(
        title=title,
        subtitle=f"Recorded crime {tier.period.label}, counted on {tier.cell_size_m:g} m squares",
        credits=OGL_CREDIT,
        about=(
            f"Crimes are counted on squares; squares with fewer than {tier.min_count} crimes are not shown, and no "
            "individual crime location, street or address is published.",
            "The numbered squares are proposed sites for new cameras, in order of priority.",
        ),
    )
    page = public_map(
        cells, cells["incidents"].to_numpy(), boundary, text, render or RenderConfig(), sites=sites, kind="consultation"
    )
    return page.save(path)


def write_coverage_report(
    res: CoverageResult, out_dir: str | Path, public: PublicTier, render: RenderConfig | None = None
) -> list[Path]:
    """The coverage report folder: the result's tables and layers (:meth:`CoverageResult.write`) plus
    ``public/public_map.html``, the public-consultation map of the ``public`` tier's squares."""
    out = Path(out_dir)
    files = res.write(out)
    files.append(
        write_public_map(out / "public" / "public_map.html", public, res.proposed_sites, res.boundary, render=render)
    )
    return files
