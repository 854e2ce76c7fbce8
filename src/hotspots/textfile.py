"""Delimited text files, read strictly: bytes -> text -> a table of text cells, nothing guessed silently.

One reader for every CSV the engine takes in (incidents, population, patrol
logs). It refuses with :class:`~hotspots.errors.InputError`, naming the file,
the line and the fix, what it cannot read faithfully:

* a ``.gz`` that is truncated, corrupt or not gzip at all; an Excel workbook,
  zip archive or other binary file saved under a ``.csv`` name;
* bytes that are neither UTF-8 nor Windows-1252 (cp1252);
* a quoted field that is never closed, or text after a closing quote.

What it can read faithfully, it reads and says so in :attr:`CsvTable.notes`:

* a file that is not UTF-8 is read as Windows-1252 as a whole; a UTF-8 file
  with a few Windows-1252 lines keeps UTF-8 for every other line, so one stray
  byte never turns the file's accented names into mojibake;
* the delimiter (``,``, ``;``, tab or ``|``) is the one under which the header
  holds the columns the caller expects;
* a record with more or fewer fields than the header is kept as a *malformed*
  row (the caller quarantines it); trailing empty fields are dropped;
* a column name that repeats is listed in :attr:`CsvTable.duplicate_columns`
  (the caller refuses it when it is a column it needs).

Every data record keeps its row number (1-based; the header is row 0) and the
line it starts on, so accepted + quarantined = read holds downstream.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError

#: Delimiters tried, in order of preference when the header does not decide.
DELIMITERS = (",", ";", "\t", "|")

_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls) and other Office files
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class CsvTable:
    """A delimited text file as text cells.

    ``frame`` has one column per header name (a repeated name's later copies
    are renamed ``"name (column N)"``) and one row per data record, malformed
    records included with empty cells; ``rows`` holds each record's row number
    (1-based), ``lines`` the line of the file it starts on, ``malformed`` a
    sentence for each record whose field count does not match the header ('' for
    well-formed records) and ``irregular`` the cells of those records as read
    (by position in ``frame``). ``digest`` is the SHA-256 of the decompressed
    bytes, so the same data under two names is found.
    """

    path: Path
    header: tuple[str, ...]
    frame: pd.DataFrame
    rows: tuple[int, ...]
    lines: tuple[int, ...]
    malformed: tuple[str, ...]
    irregular: dict[int, list[str]]
    duplicate_columns: dict[str, tuple[int, ...]]
    encoding: str
    delimiter: str
    digest: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def well_formed(self) -> pd.Series:
        """Whether each record has as many fields as the header (index of ``frame``)."""
        return pd.Series([m == "" for m in self.malformed], index=self.frame.index, dtype=bool)

    def originals(self) -> pd.DataFrame:
        """Every record's cells as read, by column name; a malformed record's cells fill the columns in
        order, and fields beyond the header go to ``"(extra field K)"`` columns."""
        if not self.irregular:
            return self.frame
        out = self.frame.copy()
        width = len(self.header)
        for pos, rec in self.irregular.items():
            for i, value in enumerate(rec):
                col = self.header[i] if i < width else f"(extra field {i - width + 1})"
                if col not in out.columns:
                    out[col] = ""
                out.iloc[pos, out.columns.get_loc(col)] = value
        return out

    def require_unique(self, names: Iterable[str], what: str) -> None:
        """Refuse when a column the caller needs (``names``) appears more than once in the header."""
        for name in names:
            if name in self.duplicate_columns:
                cols = ", ".join(str(c) for c in self.duplicate_columns[name])
                raise InputError(
                    f"{self.path}: column {name!r} ({what}) appears {len(self.duplicate_columns[name])} times in the "
                    f"header (columns {cols}), so it is not clear which one holds the data; rename or remove the "
                    "other copies and save the file again."
                )


# --------------------------------------------------------------------------- bytes
def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is gzip; whole-file mistakes raise :class:`InputError`."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; check the path in the config.") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file; point the config at a file.") from None
    except OSError as exc:
        raise InputError(f"{path}: could not be read ({exc.strerror}); check the file's permissions.") from None
    gz_name = Path(path).name.lower().endswith(".gz")
    if data.startswith(_GZIP_MAGIC):
        data = _gunzip(data, path)
    elif gz_name and data:
        raise InputError(
            f"{path}: the name ends in .gz but the file is not gzip-compressed; if it is a plain CSV, "
            "rename it without .gz, otherwise download or compress it again."
        )
    _refuse_binary(data, path)
    return data


def _gunzip(data: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(data)
    except EOFError:
        raise InputError(
            f"{path}: the gzip file is truncated (it ends before the compressed data do); download or copy it again."
        ) from None
    except (gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise InputError(
            f"{path}: the gzip file is corrupt ({exc}); download or copy it again, or use the uncompressed CSV."
        ) from None


def _refuse_binary(data: bytes, path: Path) -> None:
    head = data[:8]
    if head.startswith(_ZIP_MAGIC):
        if b"xl/" in data[:4096] or b"[Content_Types].xml" in data[:4096]:
            raise InputError(
                f"{path}: this is an Excel workbook (.xlsx) saved under a text name, not a CSV; open it in "
                "Excel and use File > Save As > 'CSV UTF-8 (comma delimited)'."
            )
        raise InputError(f"{path}: this is a zip archive, not a CSV; unzip it and point the config at the CSV inside.")
    if head.startswith(_OLE_MAGIC):
        raise InputError(
            f"{path}: this is an Excel 97-2003 workbook (.xls), not a CSV; open it in Excel and use "
            "File > Save As > 'CSV UTF-8 (comma delimited)'."
        )
    if not data.startswith(_UTF16_BOMS) and b"\x00" in data[:65536]:
        raise InputError(
            f"{path}: this is a binary file, not text (it contains NUL bytes); export the data as a CSV file."
        )


# --------------------------------------------------------------------------- text
def decode(data: bytes, path: Path) -> tuple[str, str, list[str]]:
    """(text, encoding, notes): UTF-8 (with or without BOM) or UTF-16 with a BOM, strictly; else
    Windows-1252 for the whole file, or for just the lines that are not UTF-8 when the rest is."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: the file starts with a UTF-16 byte-order mark but is not valid UTF-16 ({exc.reason}); "
                "save it again as 'CSV UTF-8'."
            ) from None
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    lines = data.splitlines(keepends=True)
    utf8_multibyte = False
    bad: list[int] = []
    out: list[str] = []
    for i, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8")
            utf8_multibyte = utf8_multibyte or not raw.isascii()
        except UnicodeDecodeError:
            bad.append(i)
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                raise InputError(
                    f"{path}: line {i} holds bytes that are neither UTF-8 nor Windows-1252 text; "
                    "save the file again as 'CSV UTF-8'."
                ) from None
        out.append(text)
    if not utf8_multibyte:
        return (
            data.decode("cp1252"),
            "cp1252",
            [
                f"{path}: the file is not UTF-8; it was read as Windows-1252 (cp1252), the usual encoding of "
                "Excel's 'CSV (comma delimited)'. Save it as 'CSV UTF-8' to be sure accented names are right."
            ],
        )
    shown = ", ".join(str(n) for n in bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
    return (
        "".join(out),
        "utf-8 (some lines cp1252)",
        [
            f"{path}: the file is UTF-8 except line(s) {shown}, which were read as Windows-1252 (cp1252); "
            "check the accented names on those lines and save the file as 'CSV UTF-8'."
        ],
    )


def choose_delimiter(first_line: str, expected: Iterable[str]) -> str:
    """The delimiter under which the header holds most of the ``expected`` column names
    (ties: the first of :data:`DELIMITERS`; a comma when nothing is expected)."""
    want = {e.strip() for e in expected if e}
    if not want:
        return ","
    best, best_hits = ",", -1
    for d in DELIMITERS:
        try:
            names = next(csv.reader([first_line], delimiter=d))
        except (csv.Error, StopIteration):
            continue
        hits = len(want & {n.strip().lstrip("\ufeff") for n in names})
        if hits > best_hits:
            best, best_hits = d, hits
    return best


# --------------------------------------------------------------------------- records
def _unique_header(names: list[str]) -> tuple[list[str], dict[str, tuple[int, ...]]]:
    seen: dict[str, list[int]] = {}
    out = []
    for pos, n in enumerate(names, start=1):
        seen.setdefault(n, []).append(pos)
        out.append(n if len(seen[n]) == 1 else f"{n} (column {pos})")
    dups = {n: tuple(p) for n, p in seen.items() if len(p) > 1}
    return out, dups


def read_table(path: Path, expected: Iterable[str] = ()) -> CsvTable:
    """Read a delimited text file strictly (see the module docstring); ``expected`` are column names the
    caller looks for, used to choose the delimiter."""
    path = Path(path)
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    text, encoding, notes = decode(data, path)
    body = text.lstrip("\ufeff")
    if not body.strip():
        raise InputError(f"{path}: the file is empty (no header, no rows); export the data again.")
    first = next(line for line in body.splitlines() if line.strip())
    delim = choose_delimiter(first, expected)
    if delim != ",":
        notes.append(f"{path}: read with the {_DELIMITER_NAMES[delim]} as the delimiter.")
    parsed = _parse_plain(body, delim) or _parse_strict(body, delim, path)
    if parsed.header is None:
        raise InputError(f"{path}: the file is empty (no header, no rows); export the data again.")
    if not parsed.lines:
        raise InputError(f"{path}: the file has a header but no rows; export the data again or remove the file.")
    raw_names = [h.strip() for h in parsed.header]
    while len(raw_names) > 1 and raw_names[-1] == "":  # a trailing delimiter after the last name
        raw_names.pop()
    names, dups = _unique_header([n or f"(column {i})" for i, n in enumerate(raw_names, start=1)])
    if dups:
        notes.append(
            f"{path}: column name(s) {sorted(dups)} appear more than once in the header; later copies are "
            "kept as '<name> (column N)'."
        )
    if parsed.frame is not None:
        frame, malformed = parsed.frame, [""] * len(parsed.lines)
        irregular: dict[int, list[str]] = {}
        frame.columns = names
    else:
        frame, malformed, irregular, trimmed = _shape(parsed, names)
        if trimmed:
            notes.append(f"{path}: {trimmed:,} row(s) ended in extra empty fields; those empty fields were dropped.")
    if parsed.blank:
        notes.append(f"{path}: {parsed.blank:,} blank line(s) skipped.")
    return CsvTable(
        path=path,
        header=tuple(names),
        frame=frame.reset_index(drop=True),
        rows=tuple(range(1, len(frame) + 1)),
        lines=tuple(parsed.lines),
        malformed=tuple(malformed),
        irregular=irregular,
        duplicate_columns=dups,
        encoding=encoding,
        delimiter=delim,
        digest=digest,
        notes=tuple(notes),
    )


@dataclass
class _Parsed:
    """What a parser found: the header record, its line, the data records (or, on the fast path, a
    ready frame), the line each record starts on and the number of blank lines."""

    header: list[str] | None
    header_line: int
    lines: list[int]
    blank: int
    records: list[list[str]] = field(default_factory=list)
    frame: pd.DataFrame | None = None


def _shape(parsed: _Parsed, names: list[str]) -> tuple[pd.DataFrame, list[str], dict[int, list[str]], int]:
    """Records -> a frame of the header's width; records of another width are malformed (cells kept aside)."""
    width = len(names)
    cells: list[list[str]] = []
    malformed: list[str] = []
    irregular: dict[int, list[str]] = {}
    trimmed = 0
    for k, (rec, line) in enumerate(zip(parsed.records, parsed.lines, strict=False)):
        if len(rec) > width and not any(c.strip() for c in rec[width:]):
            rec = rec[:width]
            trimmed += 1
        if len(rec) == width:
            cells.append(rec)
            malformed.append("")
        else:
            cells.append([""] * width)
            irregular[k] = rec
            malformed.append(
                f"line {line} has {len(rec)} fields where the header (line {parsed.header_line}) has {width}"
                + (" (a delimiter inside an unquoted cell?)" if len(rec) > width else "")
            )
    columns = list(zip(*cells, strict=False)) if cells else [() for _ in names]
    frame = pd.DataFrame({i: pd.Series(c, dtype=str) for i, c in enumerate(columns)})
    frame.columns = names
    return frame, malformed, irregular, trimmed


def _parse_plain(text: str, delim: str) -> _Parsed | None:
    """The fast path for a file with no quote character at all: every record is one line, so pandas'
    C parser reads exactly what the strict reader would. None when it does not apply (quotes, ragged
    rows, a trailing delimiter), and the strict reader takes over."""
    if '"' in text:
        return None
    all_lines = text.splitlines()
    numbered = [i for i, line in enumerate(all_lines, start=1) if line.strip()]
    if len(numbered) < 2 or len({all_lines[i - 1].count(delim) for i in numbered}) != 1:
        return None  # ragged rows: the strict reader names them
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delim,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            skip_blank_lines=True,
            quoting=csv.QUOTE_NONE,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        return None
    if len(frame) != len(numbered) or frame.isna().to_numpy().any():
        return None
    header = [str(v) for v in frame.iloc[0]]
    if len(header) > 1 and header[-1].strip() == "":
        return None
    return _Parsed(
        header=header,
        header_line=numbered[0],
        lines=numbered[1:],
        blank=len(all_lines) - len(numbered),
        frame=frame.iloc[1:],
    )


def _parse_strict(text: str, delim: str, path: Path) -> _Parsed:
    """Every record with its starting line, read by the csv module in strict mode (quoting errors raise)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    out = _Parsed(header=None, header_line=1, lines=[], blank=0)
    while True:
        start_line = reader.line_num + 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _quoting_error(path, start_line, reader.line_num, exc) from None
        if not rec or (len(rec) == 1 and not rec[0].strip()):
            out.blank += 1
            continue
        if out.header is None:
            out.header, out.header_line = rec, start_line
            continue
        out.records.append(rec)
        out.lines.append(start_line)
    return out


def _quoting_error(path: Path, start_line: int, line: int, exc: csv.Error) -> InputError:
    msg = str(exc)
    if "unexpected end of data" in msg or "field larger than field limit" in msg:
        return InputError(
            f"{path}: line {start_line}: a quoted cell opens here and is never closed, so the rest of the file "
            'would be read as one cell; add the closing quote (") or remove the opening one, and save the file again.'
        )
    return InputError(
        f"{path}: line {line}: the quoting is broken ({msg}); a cell with a quote inside must be wholly quoted "
        'and its inner quotes doubled ("say ""hi"""). Fix that line and save the file again.'
    )


def read_csv_frame(path: Path, expected: Iterable[str] = ()) -> pd.DataFrame:
    """A delimited text file as a DataFrame of text cells, for readers that take every row or none
    (a malformed record is an :class:`InputError` naming its line)."""
    table = read_table(path, expected)
    bad = [m for m in table.malformed if m]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise InputError(f"{path}: {bad[0]}{more}; fix the row(s) and save the file again.")
    return table.frame
