"""One map page: a fixed template, the vendored Leaflet, one fixed script and one JSON data block.

Every map the project writes (the borough map, the ward maps, the public map,
the CCTV consultation map and the map of ``hotspots cctv``) is this page with
different data. Nothing from the input data is ever template source: the
template (``templates/map.html``) is compiled once from a constant file with
autoescaping on; the page's title reaches it as an escaped value, and all
other data as one JSON document inside ``<script type="application/json">``
with ``<``, ``>``, ``&`` and U+2028/U+2029 written as ``\\uXXXX`` escapes, so
no data string can close the script element or start markup. The page's
script (``assets/hotspots/map.js``) reads that block with ``JSON.parse`` and
builds the layers, popups, tooltips, labels, legend, list and search index
with ``textContent`` only; no data string is ever HTML, a URL or code.

The same data give the same bytes: no random ids, no time stamps.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, Template
from markupsafe import Markup

from .. import __version__
from .geojson import FeatureSet, plain, safe_json
from .offline import external_urls, leaflet_css, leaflet_js, map_css, map_js
from .palette import LayerStyle

TEMPLATES = Path(__file__).resolve().parent / "templates"

_DATA_BLOCK = re.compile(r'<script type="application/json" id="hs-data">(.*?)</script>', re.S)


def page_json(data: dict[str, Any], layers: Sequence[MapLayer] = ()) -> str:
    """The page's data block: ``data`` with ``"layers"`` (JSON text, safe inside a ``<script>`` element, the
    same data always giving the same bytes)."""
    head = safe_json({**data, "layers": []})
    assert head.endswith('"layers":[]}')
    return head[: -len("]}")] + ",".join(layer.to_json() for layer in layers) + "]}"


def read_page_data(page_html: str) -> dict[str, Any]:
    """The JSON data block of a map page written by :func:`MapPage.html` (for tests and tools)."""
    m = _DATA_BLOCK.search(page_html)
    if m is None:
        raise ValueError("not a hotspots map page: no hs-data block")
    return json.loads(m.group(1))


@lru_cache(maxsize=1)
def _template() -> Template:
    """The page template, compiled once (a constant file; autoescape on for every value)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, auto_reload=False)
    return env.get_template("map.html")


@lru_cache(maxsize=1)
def _check_offline() -> None:
    """Refuse to write maps if the page's fixed parts would load anything from outside the page."""
    bad = external_urls(MapPage("", "", {}).html())
    if bad:
        raise RuntimeError(f"the map page would load external resources: {bad[:5]}")


@dataclass(frozen=True)
class MapPage:
    """A map page ready to write: ``title`` and ``subtitle`` (plain text), ``search_hint`` (the search box's
    placeholder), ``data`` (the rest of the JSON document the page's script draws; see
    ``assets/hotspots/map.js``) and its ``layers``."""

    title: str
    subtitle: str
    data: dict[str, Any]
    layers: tuple[MapLayer, ...] = ()
    search_hint: str = "Find a place"

    def html(self) -> str:
        """The whole self-contained page."""
        return _template().render(
            version=__version__,
            title=self.title,
            subtitle=self.subtitle,
            search_hint=self.search_hint,
            leaflet_css=Markup(leaflet_css()),
            map_css=Markup(map_css()),
            leaflet_js=Markup(leaflet_js()),
            map_js=Markup(map_js()),
            data_json=Markup(page_json({"title": self.title, "subtitle": self.subtitle, **self.data}, self.layers)),
        )

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (UTF-8).

        The page's fixed parts (template, Leaflet, our script and style) are checked once to load nothing
        from outside the page (:func:`_check_offline`); the data block cannot hold a tag or a style, as its
        ``<`` and ``>`` are escaped. A configured tile basemap (``[render] basemap``) is the one request
        the user asked for: its URL is in the data.
        """
        _check_offline()
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        """Shown inline in a notebook (the page in a sandboxed frame)."""
        return (
            f'<iframe sandbox="allow-scripts" style="width:100%;height:640px;border:1px solid #ccc" '
            f'srcdoc="{html.escape(self.html(), quote=True)}"></iframe>'
        )


@dataclass(frozen=True)
class MapLayer:
    """One layer of a map page: what the page's script needs to draw it, list it and explain it.

    ``kind`` is ``vector`` (``features``; ``content``: ``style``, optional ``ranks``), ``image``
    (``content``: ``uri``, ``bounds``) or ``labels`` (``content``: ``rows``); ``legend`` is
    ``{title, entries, ramp?}``; ``exclusive`` layers of a group are shown one at a time.
    """

    id: str
    name: str
    group: str
    kind: str
    show: bool
    pane: str
    legend: dict[str, Any]
    content: dict[str, Any]
    exclusive: bool = False
    features: FeatureSet | None = None

    def to_json(self) -> str:
        """The layer as the page's script reads it (JSON text; the features as a GeoJSON ``fc``)."""
        text = safe_json(self.to_data())
        if self.features is None:
            return text
        return text[:-1] + ',"fc":' + self.features.collection_json() + "}"

    def to_data(self) -> dict[str, Any]:
        """The layer's settings, legend and content, without its features."""
        d = {
            "id": self.id,
            "name": self.name,
            "group": self.group,
            "type": self.kind,
            "show": self.show,
            "pane": self.pane,
            "legend": self.legend,
            **self.content,
        }
        if self.exclusive:
            d["exclusive"] = True
        return d


def style_data(s: LayerStyle) -> dict[str, Any]:
    """A palette style as the page's script reads it."""
    return {
        "color": s.colour,
        "fill": s.fill,
        "fillOpacity": s.fill_opacity,
        "weight": s.weight,
        "dash": s.dash,
        "symbol": s.symbol,
        "radius": s.radius,
    }


def entry(s: LayerStyle, label: str, colour: str | None = None) -> dict[str, str]:
    """A legend entry drawn like the layer (``colour`` overrides the line and fill colour)."""
    return {"symbol": s.symbol, "colour": colour or s.colour, "fill": colour or s.fill or s.colour, "label": label}


def popup_rows(pairs: Sequence[tuple[str, object]]) -> list[list[Any]]:
    """``[[heading, value], ...]`` with blank values left out (the page shows them as text)."""
    rows = []
    for k, v in pairs:
        v = plain(v)
        if v == "" or v is None:
            continue
        rows.append([k, v if isinstance(v, (int, float)) else str(v)])
    return rows
