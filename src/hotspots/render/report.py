"""The pack's HTML pages that are not maps: one place to import them from.

The pages live in :mod:`hotspots.render.pages` (one module each: ``index``, ``tasking``, ``public_index``,
with the index's sections in ``headline``, ``sections`` and ``forecast``, and the shared template
environment in ``common``); this module keeps the names the pipeline and other pages import."""

from __future__ import annotations

from .pages.common import TEMPLATES, env
from .pages.headline import headline, periods
from .pages.index import FILE_NOTES, render_index
from .pages.public_index import render_public
from .pages.tasking import render_tasking

__all__ = ["FILE_NOTES", "TEMPLATES", "env", "headline", "periods", "render_index", "render_public", "render_tasking"]
