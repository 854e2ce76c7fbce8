"""The one CSV writer of the project: every CSV opens safely in Excel or LibreOffice.

Every CSV the engine writes (the pack's ``tasking.csv``, ``ward_table.csv`` and
``quarantine.csv``, the coverage, near-repeat, trends and backtest tables, the
synthetic data sets) goes through :func:`write_csv` (a DataFrame) or
:func:`write_rows` (a header and rows). Three rules hold for every cell,
header names included:

* **A cell cannot split a row.** A cell holding a carriage return, a line
  feed, the delimiter or a double quote is quoted (RFC 4180: quotes inside
  are doubled), so a spreadsheet and Python's :mod:`csv` module read back
  exactly the rows and columns written.
* **Text is never run as a formula.** Excel and LibreOffice run a cell as a
  formula when its first character, after any leading blanks, is ``=``,
  ``+``, ``-`` or ``@`` (or a full-width form of them), and treat a cell that
  starts with a tab or a line break specially. Such a cell gets a leading
  apostrophe (``'=2+2``, ``' =2+2``, ``'@SUM(A1)``), so it opens as the text
  it was.
* **Numbers stay numbers.** A cell that is a plain decimal number
  (``-0.200526``, ``+3``, ``1e-05``; blanks around it allowed) is written as
  it is, whether it came from a number or from a numeric-looking string in a
  raw input row, so a spreadsheet reads a number. Text that merely starts
  with ``-`` (``-cmd``, ``-1+2``, ``-inf``) is neutralised.

Files are UTF-8 with a byte-order mark (so Excel reads accents) and CRLF line
ends (RFC 4180) unless the caller asks otherwise; the same frame always gives
the same bytes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

#: First characters (after leading blanks) that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")

#: Characters that are special at the very start of a cell even without a formula after them.
CONTROL_STARTS = frozenset("\t\r\n")

#: A plain decimal number, optionally signed, with an optional exponent; spaces around it allowed.
_NUMBER = re.compile(r"^ *[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)? *$")

#: Characters that make a cell quoted: the delimiter, a double quote, a line break.
_QUOTED = re.compile('[,"\r\n]')

#: Characters a spreadsheet skips before deciding whether a cell is a formula.
_BLANKS = " \t\r\n\v\f\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"


def is_number_text(text: str) -> bool:
    """True when ``text`` is a plain decimal number a spreadsheet reads as a number (``-0.2``, ``1e5``)."""
    return bool(_NUMBER.match(text))


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet would treat ``text`` as a formula or a special cell (see the module rules)."""
    if not text:
        return False
    if text[0] in CONTROL_STARTS:
        special = True
    else:
        rest = text.lstrip(_BLANKS)
        special = bool(rest) and rest[0] in FORMULA_STARTS
    return special and not is_number_text(text)  # the number test only for the few cells that need it


def neutralise(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell: formula-like text gets a leading apostrophe.

    Anything that is not a string (numbers, dates, missing values) is returned unchanged, and so is
    a string that is a plain number.
    """
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def excel_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot be run as spreadsheet formulas."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[col] = s.map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def _field(text: str) -> str:
    """One cell as CSV text: quoted (inner quotes doubled) when it holds a delimiter, quote or line break."""
    if _QUOTED.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _line(cells: Sequence[str], lineterminator: str) -> str:
    if len(cells) == 1 and cells[0] == "":
        return '""' + lineterminator  # an empty one-cell row must not read back as no row at all
    return ",".join(_field(neutralise(c)) for c in cells) + lineterminator


def _frame_cells(df: pd.DataFrame, index: bool, float_format: str | None) -> list[list[str]]:
    """Every cell of ``df`` (header row first) as the text pandas would write for it."""
    buf = io.StringIO()
    df.to_csv(buf, index=index, float_format=float_format, quoting=csv.QUOTE_ALL, lineterminator="\n")
    return list(csv.reader(io.StringIO(buf.getvalue(), newline=""), strict=True))


def _write_text(path: Path, lines: Iterable[str], bom: bool) -> Path:
    path = Path(path)
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        for ln in lines:
            fh.write(ln)
    return path


def write_csv(
    df: pd.DataFrame,
    path: str | Path,
    *,
    index: bool = False,
    float_format: str | None = None,
    bom: bool = True,
    lineterminator: str = "\r\n",
) -> Path:
    """Write ``df`` as a spreadsheet-safe CSV (see the module rules); a ``geometry`` column is left out.

    ``index`` writes the index as the first column; ``float_format`` (e.g. ``"%.6g"``) formats floats
    as :meth:`pandas.DataFrame.to_csv` does; ``bom`` starts the file with a UTF-8 byte-order mark;
    ``lineterminator`` ends each row. Returns ``path``.
    """
    frame = pd.DataFrame(df).drop(columns=["geometry"], errors="ignore")
    rows = _frame_cells(frame, index, float_format)
    return _write_text(Path(path), (_line(r, lineterminator) for r in rows), bom)


def write_rows(
    path: str | Path,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    bom: bool = True,
    lineterminator: str = "\r\n",
) -> Path:
    """Write a header and rows (cells are converted with ``str``; None is empty) by the same rules as
    :func:`write_csv`. Returns ``path``."""

    def text(v: Any) -> str:
        return "" if v is None else str(v)

    lines = (_line([text(v) for v in r], lineterminator) for r in [header, *rows])
    return _write_text(Path(path), lines, bom)


__all__ = ["excel_safe", "is_formula_like", "is_number_text", "neutralise", "write_csv", "write_rows"]
