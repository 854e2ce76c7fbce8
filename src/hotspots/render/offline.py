"""Bundled JavaScript and CSS so every map works with no internet.

Leaflet 1.9.3 (the version folium 0.20 uses) and leaflet.fullscreen 3.0.0 come
from the npm registry and live in ``assets/`` with their licences. They are
inlined into each page (images as ``data:`` URIs), so one HTML file opens
from an e-mail attachment or a file share on its own. Nothing is downloaded
at run time.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

from branca.element import Element
from folium.elements import JSCSSMixin

ASSETS = Path(__file__).resolve().parent / "assets"

_URL_ATTR = re.compile(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)["']""", re.I)
_CSS_URL = re.compile(r"""url\(\s*['"]?((?:https?:)?//[^)'"]+)""", re.I)


def _data_uri(path: Path) -> str:
    mime = {".png": "image/png", ".svg": "image/svg+xml"}[path.suffix]
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _inline_css_urls(css: str, base: Path) -> str:
    def sub(m):
        ref = m.group(1).strip("'\"")
        if ref.startswith(("data:", "#")):
            return m.group(0)
        return f'url("{_data_uri(base / ref)}")'

    return re.sub(r"url\(([^)]+)\)", sub, css)


@lru_cache(maxsize=1)
def head_html() -> str:
    """<style> and <script> blocks with Leaflet and leaflet.fullscreen, images inlined."""
    leaf = ASSETS / "leaflet"
    fs = ASSETS / "leaflet.fullscreen"
    css = _inline_css_urls((leaf / "leaflet.css").read_text(), leaf)
    css += "\n" + _inline_css_urls((fs / "Control.FullScreen.css").read_text(), fs)
    js = (leaf / "leaflet.js").read_text() + "\n" + (fs / "Control.FullScreen.js").read_text()
    js = js.replace("</script", "<\\/script")
    return (
        f"<style>/* Leaflet 1.9.3 (BSD-2-Clause), leaflet.fullscreen 3.0.0 (MIT) */\n{css}</style>\n"
        f"<script>\n{js}\n</script>\n"
    )


def strip_cdn(element: Element) -> None:
    """Remove folium's CDN links from a map and everything in it (call before rendering)."""
    if isinstance(element, JSCSSMixin):
        element.default_js = []
        element.default_css = []
    for child in element._children.values():
        if isinstance(child, Element):
            strip_cdn(child)


def external_urls(html: str) -> list[str]:
    """Every http(s) URL a page would load by itself (script/link/img src or href, CSS url())."""
    # plain <a href> links to read more are not loads; keep only those in tags that load resources
    loads = []
    for tag in re.findall(r"<(?:script|link|img|iframe|source|embed)\b[^>]*>", html, re.I):
        loads += _URL_ATTR.findall(tag)
    return sorted(set(loads + _CSS_URL.findall(html)))


def licences() -> dict[str, str]:
    return {
        "leaflet": (ASSETS / "leaflet" / "LICENSE").read_text(),
        "leaflet.fullscreen": (ASSETS / "leaflet.fullscreen" / "LICENSE").read_text(),
    }
