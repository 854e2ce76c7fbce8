"""File names inside the pack that come from data: one ward map file per ward, never shared.

A ward code becomes a file name by one rule, :func:`ward_file_stem`, which the
pipeline (writing ``wards/<stem>.html``), the pages and the maps (linking to
it) all use through :func:`ward_map_href`:

* A code made only of capital letters, digits, ``_`` and ``-`` (at most 64
  characters, not a name Windows reserves such as ``CON`` or ``COM1``) is its
  own file name: ``E05013628`` -> ``wards/E05013628.html``. Every GSS ward code
  is like this, so the usual names stay readable and stable.
* Any other code is folded to a readable stem (each other character becomes
  ``_``, at most 48 characters) followed by ``.`` and the first 12 hex digits
  of the SHA-256 of the exact code: ``A/B`` -> ``A_B.5f7c3b4c1a2e``,
  ``a b`` -> ``a_b.2b8b1c6f0a4d``.

Why this is collision-free: a kept code contains no ``.`` and a folded one
always does, so the two kinds never meet; two kept codes differ as text, and
since neither has a lower-case letter they also differ on a file system that
ignores case (Windows, macOS, a zip opened there); two folded codes share a
name only if their hashes agree in 48 bits. :func:`ward_map_files` checks a
whole pack's codes and refuses (naming both codes) in the astronomically
unlikely case that two still meet.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from ..errors import InputError

#: Codes kept as their own file name: capital letters, digits, ``_`` and ``-``, 1..64 characters.
_KEEP = re.compile(r"^[A-Z0-9_-]{1,64}$")

#: Names Windows refuses as a file name (with any extension).
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL"} | {f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10)})

#: Longest readable part of a folded name; the hash keeps it unique.
_STEM_CHARS = 48

#: Hex digits of the SHA-256 appended to a folded name.
_HASH_CHARS = 12


def ward_file_stem(code: object) -> str:
    """The file name (without ``.html``) of the ward map of ``code`` (see the module rules)."""
    text = str(code)
    if _KEEP.match(text) and text not in _RESERVED:
        return text
    folded = re.sub(r"[^A-Za-z0-9_-]", "_", text)[:_STEM_CHARS] or "ward"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    return f"{folded}.{digest}"


def ward_map_href(code: object, folder: str = "wards") -> str:
    """The ward's page inside the pack, as a link: ``<folder>/<stem>.html`` (``wards/`` for its map,
    ``experiment/`` for its Safer Neighbourhood Team's patrol experiment page)."""
    return f"{folder}/{ward_file_stem(code)}.html"


def ward_map_files(codes: Iterable[object], folder: str = "wards") -> dict[str, str]:
    """Ward code -> ``<folder>/<stem>.html`` for every ward of a pack, checked to be one file per ward
    (also where upper and lower case are the same file)."""
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for code in codes:
        key = str(code)
        href = ward_map_href(key, folder)
        other = seen.get(href.lower())
        if other is not None and other != key:
            raise InputError(
                f"ward codes {other!r} and {key!r} would share the file {href}; give one of the wards another code."
            )
        seen[href.lower()] = key
        out[key] = href
    return out


__all__ = ["ward_file_stem", "ward_map_files", "ward_map_href"]
