"""Every CSV the project writes opens safely in a spreadsheet: rows never split, text never runs as a
formula, numbers stay numbers. Files are read back with Python's csv module and checked with a
formula detector written here from the spreadsheet rules (independent of the writer's own)."""

from __future__ import annotations

import csv
import random
import shutil
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots._csvsafe import write_csv, write_rows

REPO = Path(__file__).resolve().parents[1]

NASTY = [
    "=2+2",
    " =2+2",
    "\t=2+2",
    "\u00a0=1+1",
    "  @SUM(A1:A9)",
    "@SUM(A1)",
    "+cmd|' /C calc'!A0",
    "-cmd",
    "-1+2",
    "-inf",
    "\r=2+2",
    "a\r=2+2",
    "line one\nline two",
    'crlf\r\n=HYPERLINK("http://evil.example")',
    'say "hi", then go',
    "a,b,c",
    "\uff1d1+1",  # full-width equals sign
    "'already quoted",
    "On or near High Street",
    "",
]
NUMBERS_AS_TEXT = ["-0.200526", "51.6123", "+3", "1e-05", " -12 ", "0", "-.5"]


def excel_number(cell: str) -> bool:
    """Whether a spreadsheet reads ``cell`` as a plain number (digits, sign, point, exponent; no names)."""
    s = cell.strip(" ")
    if not s or not set(s) <= set("0123456789+-.eE"):
        return False
    try:
        Decimal(s)
    except InvalidOperation:
        return False
    return True


def excel_formula(cell: str) -> bool:
    """Whether a spreadsheet opening the file would treat ``cell`` as a formula or a special cell:
    a tab or line break first, or (after blank characters) one of = + - @ or their full-width forms,
    unless the whole cell is a number."""
    if excel_number(cell) or not cell:
        return False
    if cell[0] in "\t\r\n":
        return True
    i = 0
    while i < len(cell) and (cell[i].isspace() or unicodedata.category(cell[i]) == "Zs"):
        i += 1
    return i < len(cell) and unicodedata.normalize("NFKC", cell[i]) in "=+-@"


def read_back(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh, strict=True))


def assert_safe(rows: list[list[str]]) -> None:
    width = len(rows[0])
    for i, r in enumerate(rows):
        assert len(r) == width, f"row {i} has {len(r)} cells, the header {width}: {r}"
        for cell in r:
            assert not excel_formula(cell), f"row {i}: {cell!r} would run as a formula"


def test_the_detector_itself_catches_what_the_issue_found():
    for bad in ("=2+2", " =2+2", "@SUM(A1)", "\r=2+2", "-cmd", "+1+1", "\uff1d1"):
        assert excel_formula(bad), bad
    for ok in ("-0.200526", "'=2+2", "text", "1e-05", " -12 "):
        assert not excel_formula(ok), ok


def test_nasty_text_reads_back_exactly_and_never_as_a_formula(tmp_path):
    df = pd.DataFrame({"text": NASTY, "n": np.arange(len(NASTY), dtype=float) - 3.5})
    p = write_csv(df, tmp_path / "t.csv")
    rows = read_back(p)
    assert rows[0] == ["text", "n"]
    assert len(rows) == len(NASTY) + 1  # a carriage return or line feed never splits a row
    assert_safe(rows)
    for want, (got, n) in zip(NASTY, rows[1:], strict=True):
        assert got == ("'" + want if excel_formula(want) else want)
        assert excel_number(n) and float(n) == float(df["n"].iat[rows.index([got, n]) - 1])


def test_numeric_text_stays_a_number(tmp_path):
    """A numeric-looking string (a raw longitude from an input row) is written so Excel reads a number."""
    df = pd.DataFrame({"input:lon": NUMBERS_AS_TEXT, "lon": [-0.2, -1.5, 3.0, 1e-5, -12.0, 0.0, -0.5]})
    rows = read_back(write_csv(df, tmp_path / "q.csv"))
    assert [r[0] for r in rows[1:]] == NUMBERS_AS_TEXT
    assert all(excel_number(r[0]) and excel_number(r[1]) for r in rows[1:])
    assert rows[1][1] == "-0.2"


def test_headers_and_rows_writer_follow_the_same_rules(tmp_path):
    p = write_rows(tmp_path / "r.csv", ["=id", "value"], [["@a", -1], ["x\r\ny", None], [" -3", 2.5]])
    rows = read_back(p)
    assert rows == [["'=id", "value"], ["'@a", "-1"], ["x\r\ny", ""], [" -3", "2.5"]]
    assert_safe(rows)
    # one empty cell is still a row
    p2 = write_rows(tmp_path / "e.csv", ["only"], [[""]])
    assert read_back(p2) == [["only"], [""]]


def test_random_strings_round_trip(tmp_path):
    """Many random strings of formula characters, quotes, separators and line breaks: each reads back as
    written (or with one leading apostrophe when it would run), on the right row and column."""
    rng = random.Random(13)
    alphabet = [*"=+-@ \t\r\n,\";'aZ0.9e", "\u00a0", "\uff1d", "é"]
    vals = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(2000)]
    df = pd.DataFrame({"a": vals, "b": vals[::-1]})
    rows = read_back(write_csv(df, tmp_path / "rand.csv"))
    assert len(rows) == len(vals) + 1
    assert_safe(rows)
    for (a, b), va, vb in zip(rows[1:], vals, vals[::-1], strict=True):
        assert a in (va, "'" + va) and b in (vb, "'" + vb)
        assert (a != va) == excel_formula(va)


def test_same_frame_same_bytes(tmp_path):
    df = pd.DataFrame({"t": NASTY, "x": np.linspace(-1, 1, len(NASTY))})
    a = write_csv(df, tmp_path / "a.csv").read_bytes()
    b = write_csv(df.copy(), tmp_path / "b.csv").read_bytes()
    assert a == b and a.startswith("\ufeff".encode()) and b"\r\n" in a


#: Calls of the engine's own ``to_csv`` methods (each writes through hotspots._csvsafe; checked below).
OWN_TO_CSV_CALLS = {
    ("cli/backtest.py", "res"),
    ("cli/nearrepeat.py", "res"),
    ("analysis/nearrepeat.py", "self.knox"),
    ("analysis/nearrepeat.py", "self.repeats"),
}


def test_every_csv_writer_in_src_uses_the_one_writer():
    """No module of the package writes a CSV except through hotspots._csvsafe: no pandas ``to_csv``, no
    ``csv.writer``; the engine's own ``to_csv`` methods call ``write_csv``."""
    import ast

    offenders = []
    for p in sorted((REPO / "src" / "hotspots").rglob("*.py")):
        rel = p.relative_to(REPO / "src" / "hotspots").as_posix()
        if rel == "_csvsafe.py":
            continue
        tree = ast.parse(p.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "to_csv":
                calls = {ast.unparse(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
                if "write_csv" not in calls:
                    offenders.append(f"{rel}:{node.lineno}: to_csv does not use write_csv")
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            recv = ast.unparse(node.func.value)
            if node.func.attr == "to_csv" and (rel, recv) not in OWN_TO_CSV_CALLS:
                offenders.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
            if node.func.attr in ("writer", "DictWriter") and recv == "csv":
                offenders.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []


# --------------------------------------------------------------------------- the pack's CSVs
@pytest.fixture(scope="module")
def crafted_ingest(tmp_path_factory, demo_config_path):
    """`hotspots ingest` on a small copy of the demo borough whose quarantined rows carry formulas,
    line breaks and negative longitudes."""
    root = tmp_path_factory.mktemp("csvsafe")
    data = root / "data"
    shutil.copytree(REPO / "data" / "boundaries", data / "boundaries")
    shutil.copytree(REPO / "data" / "patrol", data / "patrol")  # the demo config reads its patrol pings
    (data / "incidents").mkdir(parents=True)
    inc = pd.read_csv(REPO / "data" / "incidents" / "incidents.csv", dtype=str).head(300)
    bad = inc.head(len(NASTY)).copy()
    bad["location"] = NASTY
    bad["easting"] = ["-0.200526", "abc", "=1+1", " -5", "-cmd", *(["-0.15"] * (len(NASTY) - 5))]
    bad["ref"] = [f"BAD-{i}" for i in range(len(bad))]
    pd.concat([inc, bad]).to_csv(data / "incidents" / "incidents.csv", index=False, quoting=csv.QUOTE_ALL)
    for f in ("crime_types.toml", "harm_schemes.toml", "playbook.toml"):
        shutil.copy(REPO / "config" / f, root / f)
    body = (REPO / "config" / "demo.toml").read_text().replace('data_dir = ".."', 'data_dir = "."')
    (root / "crafted.toml").write_text(body)
    from hotspots.cli import main

    assert main(["ingest", "--config", str(root / "crafted.toml"), "--out", str(root / "out"), "--quiet"]) == 0
    return root / "out" / "quarantine.csv"


def test_quarantine_csv_is_safe_and_keeps_numbers(crafted_ingest):
    rows = read_back(crafted_ingest)
    assert_safe(rows)
    header = rows[0]
    body = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    bad = [r for r in body if r.get("input:ref", "").startswith("BAD-")]
    assert len(bad) == len(NASTY)  # every crafted row is there, one row each
    east = {r["input:ref"]: r["input:easting"] for r in bad}
    assert east["BAD-0"] == "-0.200526" and excel_number(east["BAD-0"])  # a number, not '-0.200526
    assert east["BAD-3"] == " -5" and excel_number(east["BAD-3"])
    assert east["BAD-2"] == "'=1+1" and east["BAD-4"] == "'-cmd"
    locs = {r["input:ref"]: r["input:location"] for r in bad}
    for i, want in enumerate(NASTY):
        assert locs[f"BAD-{i}"] in (want, "'" + want)


def test_ward_table_csv_is_safe(tmp_path, demo_config_path):
    """Ward names with formulas and line breaks: ward_table.csv keeps one row per ward, nothing runs."""
    from hotspots.analysis.ward_table import ward_table
    from hotspots.config import load_config
    from hotspots.stages.inputs import load_incidents, load_study_area

    cfg = load_config(demo_config_path)
    area = load_study_area(cfg)
    inc = load_incidents(cfg, area).incidents
    wards = area.wards.copy()
    names = ["=2+2", " =2+2", "@SUM(A1)", "North\r=2+2", "South\nWest", 'The "Quarter", East']
    wards.loc[wards.index[: len(names)], "ward_name"] = names
    wt = ward_table(inc.tail(2000), wards, period_days=365)
    rows = read_back(write_csv(wt, tmp_path / "ward_table.csv"))
    assert len(rows) == len(wt) + 1
    assert_safe(rows)
    col = rows[0].index("ward_name")
    shown = {r[col] for r in rows[1:]}
    for n in names:
        assert n in shown or "'" + n in shown
