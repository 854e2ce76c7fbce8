"""Spreadsheet-safe CSV export.

A cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return)
is read as a formula by Excel and LibreOffice. :func:`excel_safe` prefixes such
text cells with an apostrophe so they open as text. Numbers are left alone
(a negative number is a number, not a formula).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Return ``value`` made safe for a spreadsheet cell (strings only)."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def excel_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot be run as spreadsheet formulas."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[col] = s.map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs) -> Path:
    """Write ``df`` as UTF-8 CSV (with BOM so Excel reads accents) after :func:`excel_safe`."""
    path = Path(path)
    excel_safe(pd.DataFrame(df).drop(columns=["geometry"], errors="ignore")).to_csv(
        path, index=False, encoding="utf-8-sig", **kwargs
    )
    return path
