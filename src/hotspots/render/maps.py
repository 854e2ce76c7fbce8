"""Folium maps of a run. Geometry is EPSG:27700 inside the engine and is
converted to EPSG:4326 here, at the edge. Every string from input data is
HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html

import numpy as np

WGS84 = "EPSG:4326"


def esc(value) -> str:
    """HTML-escape any value for a popup or tooltip."""
    return html.escape(str(value), quote=True)


def _ward_layer(res, m):
    import branca.colormap as cm
    import folium

    wt = res.ward_table.set_index("ward_code")
    wards = res.area.wards.to_crs(WGS84)
    vals = wards["ward_code"].map(wt["harm"]).fillna(0).to_numpy(float)
    vmax = float(vals.max()) if len(vals) and vals.max() > 0 else 1.0
    cmap = cm.LinearColormap(["#fff7ec", "#fc8d59", "#b30000"], vmin=0, vmax=vmax,
                             caption=f"Harm in the {res.cfg.analysis.lookback_days} days before the FIM date "
                                     f"({esc(res.cfg.harm.scheme)} scheme)")
    fg = folium.FeatureGroup(name="Wards by harm", show=True)
    for (_, w), v in zip(wards.iterrows(), vals):
        row = wt.loc[w["ward_code"]] if w["ward_code"] in wt.index else None
        popup = (f"<b>{esc(w['ward_name'])}</b> ({esc(w['ward_code'])})<br>"
                 + (f"rank {int(row['rank'])}, {int(row['incidents']):,} incidents, harm {row['harm']:,.0f}<br>"
                    f"burglary rate {row['burglary_rate_per_1000_households']} per 1,000 households / year"
                    if row is not None else "no data"))
        folium.GeoJson(
            w.geometry.__geo_interface__,
            style_function=lambda _f, c=cmap(v): {"fillColor": c, "color": "#444", "weight": 1, "fillOpacity": 0.6},
            tooltip=esc(w["ward_name"]), popup=folium.Popup(popup, max_width=300),
        ).add_to(fg)
    fg.add_to(m)
    cmap.add_to(m)


def _incident_layer(res, m, days: int = 14, limit: int = 3000):
    import folium

    recent = res.recent(days)
    if len(recent) > limit:
        recent = recent.sort_values("start").tail(limit)
    pts = recent.to_crs(WGS84)
    fg = folium.FeatureGroup(name=f"Incidents, last {days} days", show=False)
    for r in pts.itertuples():
        folium.CircleMarker(
            [r.geometry.y, r.geometry.x], radius=3, color="#333", weight=1, fill=True, fill_opacity=0.8,
            popup=folium.Popup(f"{esc(r.crime_type)}<br>{esc(r.location_text)}<br>{r.start:%Y-%m-%d}", max_width=250),
        ).add_to(fg)
    fg.add_to(m)


def borough_map(res):
    """The overview map of a run: ward choropleth, recent incidents, layer control, legend."""
    import folium

    b = res.area.wards.to_crs(WGS84).total_bounds
    m = folium.Map(location=[float(np.mean(b[[1, 3]])), float(np.mean(b[[0, 2]]))], zoom_start=12,
                   tiles="OpenStreetMap", control_scale=True)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    _ward_layer(res, m)
    _incident_layer(res, m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
