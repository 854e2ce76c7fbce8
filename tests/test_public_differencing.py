"""The public tier cannot be differenced: the attack, written out.

The attacker reads every public file of a pack (and of the next meeting's pack), takes the squares of
the area (the documented grid: squares of ``[public] cell_size_m`` at whole multiples of it, those
overlapping the borough), and writes every relation the files give: each square's count where
shown, 0..min_count-1 where not shown ("squares with fewer than 5 crimes are not shown"), each crime
type's count where shown and any number >= 0 where "not shown", and the one link between them (all
squares and all crime types count the same crimes). A linear program (scipy's HiGHS, independent of
the engine's own closed-form check) then gives the smallest and largest value every hidden figure
can take. The test passes when no hidden square is narrowed below 0..min_count-1 and no hidden
crime type is narrowed away from 0 or below min_count-1: no small count is pinned, or even bounded.
The same attack pins the small counts of a naive publication (primary suppression only), so it can
fail.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import REPO, build_demo_pack, fast_config
from pyproj import Transformer
from scipy.optimize import linprog

from hotspots.config.sections import PublicConfig
from hotspots.render.public import exposed, protect, public_period

TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


# --------------------------------------------------------------------------- reading the public files
def feature_collections(html: str) -> list[dict]:
    """Every GeoJSON FeatureCollection embedded in a page, whatever the script around it."""
    dec = json.JSONDecoder()
    out = []
    for m in re.finditer(r"\{\s*\"(?:features|type)\"", html):
        try:
            obj, _ = dec.raw_decode(html, m.start())
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("features"), list):
            out.append(obj)
    return out


def square_counts(html: str, cell: float) -> dict[tuple[int, int], int]:
    """Square (column, row of its south-west corner / cell) -> count, for every square a map draws."""
    out: dict[tuple[int, int], int] = {}
    for fc in feature_collections(html):
        for f in fc["features"]:
            props = f.get("properties") or {}
            n = None
            for v in props.values():
                if isinstance(v, str) and (m := re.fullmatch(r"([\d,]+) (?:incidents|crimes)", v)):
                    n = int(m.group(1).replace(",", ""))
            if n is None:
                continue
            geom = shapely.geometry.shape(f["geometry"])
            assert geom.geom_type in ("Polygon", "MultiPolygon"), geom.geom_type
            p = geom.representative_point()
            x, y = TO_BNG.transform(p.x, p.y)
            key = (int(np.floor(x / cell)), int(np.floor(y / cell)))
            # the drawn shape lies within that square of the fixed grid (corners at multiples of the size)
            vx, vy = TO_BNG.transform(*shapely.get_coordinates(geom).T)
            tol = 2.0  # metres: the pages round longitude/latitude
            assert key[0] * cell - tol <= vx.min() and vx.max() <= (key[0] + 1) * cell + tol, key
            assert key[1] * cell - tol <= vy.min() and vy.max() <= (key[1] + 1) * cell + tol, key
            assert out.get(key, n) == n, f"square {key} drawn twice with different counts"
            out[key] = n
    return out


class _Table(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def type_counts(html: str) -> dict[str, int | None]:
    """Crime type -> count (None when "not shown") from the public index's table."""
    t = _Table()
    t.feed(html)
    body = [r for r in t.rows if len(r) == 2 and r[0] != "Crime type"]
    assert body, "no crime-type table on the public index"
    out: dict[str, int | None] = {}
    for name, v in body:
        out[name] = int(v.replace(",", "")) if re.fullmatch(r"[\d,]+", v) else None
        assert out[name] is not None or v == "not shown", v
    return out


def area_squares(boundary, cell: float) -> set[tuple[int, int]]:
    """The documented grid: squares at whole multiples of ``cell`` that overlap the area (brute force)."""
    x0, y0, x1, y1 = boundary.bounds
    out = set()
    for i in range(int(np.floor(x0 / cell)), int(np.ceil(x1 / cell))):
        for j in range(int(np.floor(y0 / cell)), int(np.ceil(y1 / cell))):
            sq = shapely.box(i * cell, j * cell, (i + 1) * cell, (j + 1) * cell)
            if sq.intersection(boundary).area > 0:
                out.add((i, j))
    return out


# --------------------------------------------------------------------------- the attack
@dataclass
class Publication:
    """What one pack publishes: shown squares, the area's squares, crime types (None = not shown)."""

    squares: dict[tuple[int, int], int]
    area: set[tuple[int, int]]
    types: dict[str, int | None]


@dataclass
class Finding:
    what: str
    lo: float
    hi: float


def attack(pubs: list[Publication], min_count: int) -> list[Finding]:
    """Every hidden figure's range over all publications at once: one variable per hidden square
    (0..m) and per hidden crime type (0 or more) of each publication, one equation per publication
    (its hidden squares minus its hidden types = its types shown minus its squares shown). Figures
    that enter the equations identically (same publication, same kind) have the same range; the LP is
    solved for one of each such group and the range given to all of them."""
    m = min_count - 1
    names: list[str] = []
    groups: list[int] = []  # group of each variable
    bounds: list[tuple[float, float | None]] = []
    rows: list[tuple[list[int], list[float], float]] = []
    for k, pub in enumerate(pubs):
        idx, coef = [], []
        for sq in sorted(pub.area - set(pub.squares)):
            idx.append(len(names))
            coef.append(1.0)
            names.append(f"pack {k} square {sq}")
            groups.append(2 * k)
            bounds.append((0, m))
        for t, v in pub.types.items():
            if v is None:
                idx.append(len(names))
                coef.append(-1.0)
                names.append(f"pack {k} type {t}")
                groups.append(2 * k + 1)
                bounds.append((0, None))
        rhs = sum(v for v in pub.types.values() if v is not None) - sum(pub.squares.values())
        rows.append((idx, coef, float(rhs)))
    a_eq = np.zeros((len(rows), len(names)))
    b_eq = np.zeros(len(rows))
    for r, (idx, coef, rhs) in enumerate(rows):
        a_eq[r, idx] = coef
        b_eq[r] = rhs
    solved: dict[int, tuple[float, float]] = {}
    findings = []
    for i, name in enumerate(names):
        if groups[i] not in solved:
            c = np.zeros(len(names))
            c[i] = 1.0
            lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            assert lo.status == 0, f"the published figures are inconsistent ({lo.message})"
            top = np.inf if hi.status == 3 else round(-hi.fun, 6)
            solved[groups[i]] = (round(lo.fun, 6), top)
        findings.append(Finding(name, *solved[groups[i]]))
    return findings


def leaks(findings: list[Finding], min_count: int) -> list[Finding]:
    """What the attack learns about small counts, without knowing the truth: a hidden square narrowed
    below 0..m, a hidden figure pinned below the threshold, or a crime type proved small (its range
    below the threshold) and narrowed within 0..m."""
    m = min_count - 1
    out = []
    for f in findings:
        square_narrowed = "square" in f.what and (f.lo > 0 or f.hi < m)
        pinned_small = f.lo == f.hi and f.hi < min_count
        type_proved_small_and_narrowed = "type" in f.what and f.hi < min_count and (f.lo > 0 or f.hi < m)
        if square_narrowed or pinned_small or type_proved_small_and_narrowed:
            out.append(f)
    return out


def narrowed_small(findings: list[Finding], min_count: int, truth: dict[str, int]) -> list[Finding]:
    """Knowing the truth: hidden figures holding fewer than ``min_count`` whose range does not reach
    from 0 to m (the attacker learnt something about a small count)."""
    m = min_count - 1
    return [f for f in findings if truth[f.what] < min_count and (f.lo > 0 or f.hi < m)]


def truth_of(cells: list[int], types: dict[str, int]) -> dict[str, int]:
    out = {f"pack 0 square {(i, 0)}": n for i, n in enumerate(cells)}
    out.update({f"pack 0 type {k}": v for k, v in types.items()})
    return out


# --------------------------------------------------------------------------- the attack can succeed
def naive(cells: list[int], types: dict[str, int], t: int) -> Publication:
    """Primary suppression only: what the public tier published before (and what it must not)."""
    sq = {(i, 0): n for i, n in enumerate(cells) if n >= t}
    return Publication(sq, {(i, 0) for i in range(len(cells))}, {k: (v if v >= t else None) for k, v in types.items()})


def protected(cells: list[int], types: dict[str, int], t: int) -> Publication:
    shown, tshown, _ = protect(np.array(cells), types, t)
    sq = {(i, 0): n for i, n in enumerate(cells) if shown[i]}
    return Publication(
        sq, {(i, 0) for i in range(len(cells))}, {k: (v if tshown[k] else None) for k, v in types.items()}
    )


@pytest.mark.parametrize(
    ("cells", "types", "secret"),
    [
        ([10, 8, 3], {"a": 12, "b": 9}, "square (2, 0)"),  # total minus the squares shown = the hidden square
        ([10, 8, 3, 0], {"a": 12, "b": 9}, "square (2, 0)"),  # hidden squares narrowed to 0..3
        ([10, 10], {"a": 17, "b": 3}, "type b"),  # total minus the types shown = the hidden type
        ([9, 6, 4], {"a": 9, "b": 9, "c": 1}, "type c"),  # a hidden square and a hidden type, linked: 3 + c = 4
    ],
)
def test_attack_breaks_primary_suppression_and_secondary_suppression_stops_it(cells, types, secret):
    t = 5
    truth = truth_of(cells, types)
    before = attack([naive(cells, types, t)], t)
    assert any(secret in f.what for f in narrowed_small(before, t, truth)), before
    assert leaks(before, t)  # the truth-free check sees it too
    after = attack([protected(cells, types, t)], t)
    assert narrowed_small(after, t, truth) == [] and leaks(after, t) == []
    assert exposed(np.array(cells), np.array(cells) >= t, types, {k: v >= t for k, v in types.items()}, t)


def test_secondary_suppression_on_random_areas():
    """Random small areas (few squares, counts near the threshold, where leaks are likeliest): after
    protect() the attack learns nothing about any small count, and protect()'s own closed-form check
    agrees with the LP on every naive publication."""
    rng = np.random.default_rng(2025)
    naive_leaks = 0
    for _ in range(120):
        t = int(rng.integers(2, 7))
        n_cells = int(rng.integers(1, 7))
        cells = [int(v) for v in rng.integers(0, 3 * t, n_cells)]
        n_types = int(rng.integers(1, 5))
        split = rng.multinomial(sum(cells), np.ones(n_types) / n_types) if sum(cells) else np.zeros(n_types, int)
        types = {f"t{k}": int(v) for k, v in enumerate(split)}
        truth = truth_of(cells, types)
        pub = protected(cells, types, t)
        found = attack([pub], t)
        assert narrowed_small(found, t, truth) == [] and leaks(found, t) == [], (cells, types, t, found)
        shown = np.array([(i, 0) in pub.squares for i in range(n_cells)])
        tshown = {k: v is not None for k, v in pub.types.items()}
        assert not exposed(np.array(cells), shown, types, tshown, t)
        lp_says = bool(narrowed_small(attack([naive(cells, types, t)], t), t, truth))
        own = exposed(np.array(cells), np.array(cells) >= t, types, {k: v >= t for k, v in types.items()}, t)
        assert own == lp_says, (cells, types, t)
        naive_leaks += lp_says
    assert naive_leaks > 12  # the random areas did exercise the leaks


# --------------------------------------------------------------------------- periods across packs
def test_consecutive_meetings_show_the_same_period_or_periods_that_do_not_overlap():
    for months in (1, 2, 3, 4, 6, 12):
        dates = pd.date_range("2023-01-06", "2026-12-31", freq="14D", tz="Europe/London")
        periods = [public_period(d, months) for d in dates]
        for d, p in zip(dates, periods, strict=True):
            assert p.end <= d and (d - p.end) < pd.Timedelta(days=31 * months + 1)  # ended before, the latest one
            assert p.start.day == 1 and (p.start.month - 1) % months == 0
        for a, b in itertools.pairwise(periods):
            assert (a.start, a.end) == (b.start, b.end) or a.end <= b.start


# --------------------------------------------------------------------------- the demo pack
@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return build_demo_pack(tmp_path_factory)


@pytest.fixture(scope="module")
def area():
    from hotspots.stages.inputs import load_study_area

    return load_study_area(fast_config()).boundary


def read_publication(pub_dir: Path, boundary, pcfg: PublicConfig) -> tuple[Publication, dict]:
    """Every public file of a pack, read as the attacker reads them; the maps must agree square by square."""
    maps = {p.name: square_counts(p.read_text(), pcfg.cell_size_m) for p in sorted(pub_dir.glob("*.html"))}
    maps.pop("index.html")
    assert "map.html" in maps
    first = maps["map.html"]
    for name, sq in maps.items():
        assert sq == first, f"{name} shows other squares or counts than map.html: they could be differenced"
    types = type_counts((pub_dir / "index.html").read_text())
    return Publication(first, area_squares(boundary, pcfg.cell_size_m), types), maps


def test_every_public_file_of_the_pack_resists_the_attack(pack, area):
    pcfg = fast_config().public
    pub, maps = read_publication(pack / "public", area, pcfg)
    assert set(maps) >= {"map.html", "cctv_consultation.html"}
    assert pub.squares and min(pub.squares.values()) >= pcfg.min_count
    assert set(pub.squares) <= pub.area  # every square drawn is a square of the documented grid
    assert all(v is None or v >= pcfg.min_count for v in pub.types.values())
    found = attack([pub], pcfg.min_count)
    assert len(found) >= len(pub.area) - len(pub.squares)
    assert leaks(found, pcfg.min_count) == []
    assert all((f.lo, f.hi) == (0, pcfg.min_count - 1) for f in found if "square" in f.what)
    # the counts are the truth: a brute-force count of the demo CSV for the period, square by square
    man = json.loads((pack / "manifest.json").read_text())["public"]
    raw = pd.read_csv(REPO / "data" / "incidents" / "incidents.csv")
    end = pd.to_datetime(raw["committed_to"])
    sel = (end >= man["period"]["start"]) & (end < pd.Timestamp(man["period"]["end"]) + pd.Timedelta(days=1))
    x, y = raw.loc[sel, "easting"].to_numpy(), raw.loc[sel, "northing"].to_numpy()
    # a point on a square's edge belongs to the square to its east and to its south
    key = pd.Series(
        1, index=pd.MultiIndex.from_arrays([np.floor(x / 250).astype(int), np.ceil(y / 250).astype(int) - 1])
    )
    truth = key.groupby(level=[0, 1]).sum()
    assert {k: int(v) for k, v in truth.items() if v >= pcfg.min_count and k in pub.area} == pub.squares


def test_no_points_streets_or_incident_details_in_any_public_file(pack):
    raw = pd.read_csv(REPO / "data" / "incidents" / "incidents.csv")
    streets = sorted(set(raw["location"].dropna()))
    ids = set(raw["ref"].astype(str))
    tasking = pd.read_csv(pack / "tasking.csv")
    for p in sorted((pack / "public").rglob("*")):
        if not p.is_file():
            continue
        text = p.read_text()
        for s in streets:
            assert s not in text, (p.name, s)
        assert not ids & set(re.findall(r"DM-\d{6}", text)), p.name
        for item in tasking["item_id"].dropna():
            assert str(item) not in text, (p.name, item)
        for fc in feature_collections(text):
            for f in fc["features"]:
                g = f.get("geometry") or {}
                if g.get("type") == "Point":  # only the proposed camera sites, by rank
                    assert p.name == "cctv_consultation.html"
                    assert re.fullmatch(r"Proposed camera site \d+", str((f.get("properties") or {}).get("t", "")))
    assert not (pack / "public" / "cells.json").exists()


# --------------------------------------------------------------------------- two packs of consecutive meetings
def _public_files(date: str, out: Path) -> Path:
    from hotspots import pipeline
    from hotspots.render import report

    res = pipeline.analyse(fast_config(), date, stages=())
    report.render_public(res, out, res.cfg.public)
    return out / "public"


@pytest.fixture(scope="module")
def consecutive(tmp_path_factory):
    root = tmp_path_factory.mktemp("consecutive")
    return {d: _public_files(d, root / d) for d in ("2025-09-26", "2025-10-10", "2025-11-14", "2025-11-28")}


def test_consecutive_packs_cannot_be_differenced(consecutive, area):
    """Meetings a fortnight apart: within a quarter the public figures are the same; across the turn of
    a quarter they cover periods that do not overlap. Attacking all four packs at once narrows nothing."""
    pcfg = fast_config().public
    pubs = {d: read_publication(p, area, pcfg)[0] for d, p in consecutive.items()}
    same = ("2025-11-14", "2025-11-28")
    assert pubs[same[0]] == pubs[same[1]]
    for d in same:
        assert (consecutive[d] / "index.html").read_bytes() == (consecutive[same[0]] / "index.html").read_bytes()
    a, b = ((consecutive[d] / "index.html").read_text() for d in ("2025-09-26", "2025-10-10"))
    assert "April to June 2025" in a and "July to September 2025" in b
    assert pubs["2025-09-26"] != pubs["2025-10-10"]
    distinct = [pubs["2025-09-26"], pubs["2025-10-10"], pubs["2025-11-14"]]
    found = attack(distinct, pcfg.min_count)
    assert leaks(found, pcfg.min_count) == []


def test_an_empty_period_with_no_crime_types_publishes_nothing():
    shown, tshown, withheld = protect(np.zeros(4, dtype=int), {}, 5)
    assert not shown.any() and tshown == {} and withheld == []
