"""The public-consultation map: aggregated cells and proposed sites only.

Nothing incident-level goes into this file: no incident points, ids, location
strings or times. Incidents are counted on square cells (default at least
250 m); cells with fewer than ``min_count`` incidents (default 5) are left out
altogether, so a small count can never be read off the map. Proposed camera
sites are shown with their rank only. Coordinates are written in EPSG:4326
rounded to 5 decimals (about 1 m).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BNG = "EPSG:27700"


def public_cells(x, y, boundary, cell_m: float = 250.0, min_count: int = 5):
    """Incident counts per square cell (GeoDataFrame, EPSG:27700): only cells with count >= ``min_count``."""
    import geopandas as gpd

    from ..geo.grid import Grid

    grid = Grid.from_boundary(boundary, cell_m)
    counts = grid.counts(np.asarray(x, float), np.asarray(y, float))
    keep = grid.mask & (counts >= min_count)
    g = grid.to_frame(count=counts.astype(int))
    g = g[keep[g["row"], g["col"]]].reset_index(drop=True)
    return gpd.GeoDataFrame({"count": g["count"].astype(int).to_numpy()}, geometry=g.geometry.to_numpy(), crs=BNG)


def _round_coords(gdf, ndigits: int = 5):
    import shapely

    out = gdf.to_crs("EPSG:4326")
    out["geometry"] = shapely.transform(out.geometry.to_numpy(), lambda c: np.round(c, ndigits))
    return out


def write_public_map(path, cells, sites=None, boundary=None, min_count: int = 5, title: str = "Proposed CCTV sites",
                     period: str = "") -> Path:
    """Write ``public_map.html`` (folium): boundary, aggregated cells, proposed sites (rank only)."""
    import folium
    import geopandas as gpd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = cells[cells["count"] >= min_count]
    c4326 = _round_coords(cells[["count", "geometry"]]) if len(cells) else None
    if boundary is not None:
        b = _round_coords(gpd.GeoDataFrame(geometry=[boundary], crs=BNG))
        centre = b.geometry.iat[0].centroid
    elif c4326 is not None:
        centre = c4326.geometry.union_all().centroid
    else:
        centre = None
    m = folium.Map(location=[centre.y, centre.x] if centre is not None else [51.5, -0.1], zoom_start=12,
                   control_scale=True)
    if boundary is not None:
        folium.GeoJson(b.__geo_interface__, name="Borough boundary",
                       style_function=lambda f: {"color": "#333333", "weight": 2, "fill": False}).add_to(m)
    if c4326 is not None:
        qs = np.quantile(c4326["count"], [0.5, 0.8, 0.95]) if len(c4326) else [0, 0, 0]
        colours = ["#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"]

        def style(f, qs=qs):
            v = f["properties"]["count"]
            col = colours[int(np.searchsorted(qs, v, side="right"))]
            return {"fillColor": col, "color": col, "weight": 0.5, "fillOpacity": 0.55}

        folium.GeoJson(c4326.__geo_interface__, name=f"Recorded crime per cell{(' ' + period) if period else ''}",
                       style_function=style,
                       tooltip=folium.GeoJsonTooltip(fields=["count"], aliases=["recorded crimes"])).add_to(m)
    if sites is not None and len(sites):
        s = _round_coords(sites[["rank", "geometry"]])
        fg = folium.FeatureGroup(name="Proposed camera sites")
        for r, g in zip(s["rank"], s.geometry):
            folium.Marker([g.y, g.x], tooltip=f"Proposed camera site {int(r)}",
                          icon=folium.Icon(color="blue", icon="camera", prefix="fa")).add_to(fg)
        fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    note = (f"<div style='position:fixed;bottom:12px;left:12px;z-index:9999;background:white;padding:6px 10px;"
            f"border:1px solid #999;font:12px sans-serif;max-width:340px'><b>{title}</b><br>"
            f"Recorded crime is counted on squares; squares with fewer than {min_count} crimes are not shown. "
            f"No individual crime locations are published.</div>")
    m.get_root().html.add_child(folium.Element(note))
    m.save(str(path))
    return path
