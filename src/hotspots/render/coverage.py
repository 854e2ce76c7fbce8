"""The CCTV coverage report's pages: the public-consultation map of ``hotspots cctv``.

Nothing incident-level goes into the map: only the squares of the one public
aggregation, :func:`hotspots.render.public.public_tier` (the same squares,
period and threshold as the pack's public tier, small counts already
suppressed), and the proposed camera sites with their rank. Coordinates are
written in EPSG:4326 rounded to 5 decimals (about 1 m).
"""

from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Figure
from shapely.geometry.base import BaseGeometry

from ..coverage.result import CoverageResult
from .public import PublicTier


def _round_coords(gdf: gpd.GeoDataFrame, ndigits: int = 5) -> gpd.GeoDataFrame:
    out = gdf.to_crs("EPSG:4326")
    out["geometry"] = shapely.transform(out.geometry.to_numpy(), lambda c: np.round(c, ndigits))
    return out


def write_public_map(
    path: str | Path,
    tier: PublicTier,
    sites: gpd.GeoDataFrame | None = None,
    boundary: BaseGeometry | None = None,
    title: str = "Proposed CCTV sites",
) -> Path:
    """Write ``public_map.html`` (folium): boundary, the public tier's squares, proposed sites (rank only).

    ``tier`` comes from :func:`hotspots.render.public.public_tier`; the boundary is in its CRS.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    min_count, period = tier.min_count, tier.period.label
    cells = gpd.GeoDataFrame({"count": tier.cells["incidents"].to_numpy()}, geometry=tier.cells.geometry, crs=tier.crs)
    c4326 = _round_coords(cells[["count", "geometry"]]) if len(cells) else None
    if boundary is not None:
        b = _round_coords(gpd.GeoDataFrame(geometry=[boundary], crs=cells.crs))
        centre = b.geometry.iat[0].centroid
    elif c4326 is not None:
        centre = c4326.geometry.union_all().centroid
    else:
        centre = None
    m = folium.Map(
        location=[centre.y, centre.x] if centre is not None else [51.5, -0.1], zoom_start=12, control_scale=True
    )
    if boundary is not None:
        folium.GeoJson(
            b.__geo_interface__,
            name="Borough boundary",
            style_function=lambda f: {"color": "#333333", "weight": 2, "fill": False},
        ).add_to(m)
    if c4326 is not None:
        qs = np.quantile(c4326["count"], [0.5, 0.8, 0.95]) if len(c4326) else [0, 0, 0]
        colours = ["#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"]

        def style(f, qs=qs):
            v = f["properties"]["count"]
            col = colours[int(np.searchsorted(qs, v, side="right"))]
            return {"fillColor": col, "color": col, "weight": 0.5, "fillOpacity": 0.55}

        folium.GeoJson(
            c4326.__geo_interface__,
            name=f"Recorded crime per {tier.cell_size_m:g} m square, {period}",
            style_function=style,
            tooltip=folium.GeoJsonTooltip(fields=["count"], aliases=["recorded crimes"]),
        ).add_to(m)
    if sites is not None and len(sites):
        s = _round_coords(sites[["rank", "geometry"]])
        fg = folium.FeatureGroup(name="Proposed camera sites")
        for r, g in zip(s["rank"], s.geometry, strict=True):
            folium.Marker(
                [g.y, g.x],
                tooltip=f"Proposed camera site {int(r)}",
                icon=folium.Icon(color="blue", icon="camera", prefix="fa"),
            ).add_to(fg)
        fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    note = (
        f"<div style='position:fixed;bottom:12px;left:12px;z-index:9999;background:white;padding:6px 10px;"
        f"border:1px solid #999;font:12px sans-serif;max-width:340px'><b>{title}</b><br>"
        f"Recorded crime is counted on squares; squares with fewer than {min_count} crimes are not shown. "
        f"No individual crime locations are published.</div>"
    )
    root = m.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(folium.Element(note))
    m.save(str(path))
    return path


def write_coverage_report(res: CoverageResult, out_dir: str | Path, public: PublicTier) -> list[Path]:
    """The coverage report folder: the result's tables and layers (:meth:`CoverageResult.write`) plus
    ``public/public_map.html``, the public-consultation map of the ``public`` tier's squares."""
    out = Path(out_dir)
    files = res.write(out)
    files.append(write_public_map(out / "public" / "public_map.html", public, res.proposed_sites, res.boundary))
    return files
