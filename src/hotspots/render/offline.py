"""Bundled JavaScript and CSS so every map works with no internet.

Leaflet 1.9.3 and leaflet.fullscreen 3.0.0 come from the npm registry and live
in ``assets/`` with their licences; ``assets/hotspots/`` holds the map page's
own script and style sheet. They are inlined into each page (images as
``data:`` URIs), so one HTML file opens from an e-mail attachment or a file
share on its own. Nothing is downloaded at run time.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"

_URL_ATTR = re.compile(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)["']""", re.I)
_CSS_URL = re.compile(r"""url\(\s*['"]?((?:https?:)?//[^)'"]+)""", re.I)


def _data_uri(path: Path) -> str:
    mime = {".png": "image/png", ".svg": "image/svg+xml"}[path.suffix]
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _inline_css_urls(css: str, base: Path) -> str:
    def sub(m: re.Match[str]) -> str:
        ref = m.group(1).strip("'\"")
        if ref.startswith(("data:", "#")):
            return m.group(0)
        return f'url("{_data_uri(base / ref)}")'

    return re.sub(r"url\(([^)]+)\)", sub, css)


def _no_end_tag(text: str, tag: str) -> str:
    """Text safe inside a ``<script>``/``<style>`` element: no closing tag can end it early."""
    return re.sub(f"</({tag})", r"<\\/\1", text, flags=re.I)


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's and leaflet.fullscreen's style sheets, images inlined (text for a ``<style>`` element)."""
    leaf = ASSETS / "leaflet"
    fs = ASSETS / "leaflet.fullscreen"
    css = "/* Leaflet 1.9.3 (BSD-2-Clause), leaflet.fullscreen 3.0.0 (MIT) */\n"
    css += _inline_css_urls((leaf / "leaflet.css").read_text(encoding="utf-8"), leaf)
    css += "\n" + _inline_css_urls((fs / "Control.FullScreen.css").read_text(encoding="utf-8"), fs)
    return _no_end_tag(css, "style")


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Leaflet and leaflet.fullscreen (text for a ``<script>`` element)."""
    js = (ASSETS / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    js += "\n" + (ASSETS / "leaflet.fullscreen" / "Control.FullScreen.js").read_text(encoding="utf-8")
    return _no_end_tag(js, "script")


@lru_cache(maxsize=1)
def map_css() -> str:
    """The map page's own style sheet (``assets/hotspots/map.css``)."""
    return _no_end_tag((ASSETS / "hotspots" / "map.css").read_text(encoding="utf-8"), "style")


@lru_cache(maxsize=1)
def map_js() -> str:
    """The map page's one fixed script (``assets/hotspots/map.js``): it builds the page from the JSON data block."""
    return _no_end_tag((ASSETS / "hotspots" / "map.js").read_text(encoding="utf-8"), "script")


def external_urls(html: str) -> list[str]:
    """Every http(s) URL a page would load by itself (script/link/img src or href, CSS url())."""
    # plain <a href> links to read more are not loads; keep only those in tags that load resources
    loads = []
    for tag in re.findall(r"<(?:script|link|img|iframe|source|embed)\b[^>]*>", html, re.I):
        loads += _URL_ATTR.findall(tag)
    return sorted(set(loads + _CSS_URL.findall(html)))


def licences() -> dict[str, str]:
    """The bundled libraries' licence texts by library name."""
    return {
        "leaflet": (ASSETS / "leaflet" / "LICENSE").read_text(encoding="utf-8"),
        "leaflet.fullscreen": (ASSETS / "leaflet.fullscreen" / "LICENSE").read_text(encoding="utf-8"),
    }
