"""The one rule for which cell a point is in: exact on grid lines, stable under tiny coordinate noise."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.errors import ConfigError
from hotspots.geo.grid import Grid


def _reference(xs: list[str], ys: list[str], x0: str, ytop: str, cs: str) -> tuple[list[int], list[int]]:
    """Exact decimal arithmetic on the coordinates as written: column floor((x - x0) / cs) (a point on
    a vertical line goes east), row floor((ytop - y) / cs) (a point on a horizontal line goes south)."""

    def fl(v: Decimal) -> int:
        return int(v.to_integral_value(rounding=ROUND_FLOOR))

    cols = [fl((Decimal(x) - Decimal(x0)) / Decimal(cs)) for x in xs]
    rows = [fl((Decimal(ytop) - Decimal(y)) / Decimal(cs)) for y in ys]
    return rows, cols


@pytest.mark.parametrize("cell", ["100", "150", "62.5", "0.3", "0.1", "25"])
def test_points_on_grid_lines_go_east_and_south(cell):
    cs = Decimal(cell)
    # grids are aligned to multiples of the cell size
    x0 = (Decimal(523400) / cs).to_integral_value(rounding=ROUND_FLOOR) * cs
    y0 = (Decimal(187000) / cs).to_integral_value(rounding=ROUND_FLOOR) * cs
    ncols = nrows = 40
    grid = Grid.from_boundary(
        shapely.box(float(x0), float(y0), float(x0 + ncols * cs), float(y0 + nrows * cs)), float(cs)
    )
    assert grid.xmin == float(x0) and grid.ymax == float(y0 + nrows * cs)
    rng = np.random.default_rng(int(float(cell) * 10))
    # points on vertical lines, on horizontal lines, on both (corners), and at millimetre offsets beside them
    k = rng.integers(1, ncols, 400)
    j = rng.integers(1, nrows, 400)
    off_mm = rng.choice([0, 0, 0, 1, -1, 7, -7], 400)
    xs = [str(x0 + int(a) * cs + Decimal(int(o)) / 1000) for a, o in zip(k, off_mm, strict=True)]
    ys = [str(y0 + int(b) * cs - Decimal(int(o)) / 1000) for b, o in zip(j, off_mm, strict=True)]
    rows, cols = grid.cell_index(np.array(xs, dtype=float), np.array(ys, dtype=float))
    ref_rows, ref_cols = _reference(xs, ys, str(x0), str(grid.ymax), cell)
    np.testing.assert_array_equal(cols, ref_cols)
    np.testing.assert_array_equal(rows, ref_rows)
    on = off_mm == 0
    # on a vertical line x = x0 + k*cs: column k, the cell east of the line
    np.testing.assert_array_equal(cols[on], k[on])
    # on a horizontal line y = y0 + j*cs: the cell below it, row nrows - j
    np.testing.assert_array_equal(rows[on], nrows - j[on])
    # counts use the same rule
    counts = grid.counts(np.array(xs, dtype=float), np.array(ys, dtype=float))
    ref = np.zeros(grid.shape)
    np.add.at(ref, (np.array(ref_rows), np.array(ref_cols)), 1.0)
    np.testing.assert_array_equal(counts, ref)


def test_float_division_residue_no_longer_decides():
    # 0.3 / 0.1 is 2.9999999999999996 in floating point: a naive floor puts x = 0.3 in column 2
    grid = Grid.from_boundary(shapely.box(0, 0, 3, 3), 0.1)
    x = np.array([0.3, 0.7, 2.9, 1.1])
    assert list(np.floor(x / 0.1).astype(int)) == [2, 6, 28, 11]  # the residue the rule removes
    _rows, cols = grid.cell_index(x, np.full(4, 1.5))
    assert list(cols) == [3, 7, 29, 11]


def test_three_centimetres_of_noise_moves_only_points_within_three_centimetres_of_a_line():
    grid = Grid.from_boundary(shapely.box(520000, 185000, 530000, 195000), 100)
    rng = np.random.default_rng(5)
    n = 20000
    x = rng.uniform(520000, 530000, n).round(3)
    y = rng.uniform(185000, 195000, n).round(3)
    dx = rng.choice([-0.03, 0.03], n)
    dy = rng.choice([-0.03, 0.03], n)
    r0, c0 = grid.cell_index(x, y)
    r1, c1 = grid.cell_index(x + dx, y + dy)
    dist_x = np.abs(x - np.round(x / 100) * 100)
    dist_y = np.abs(y - np.round(y / 100) * 100)
    far = (dist_x > 0.0305) & (dist_y > 0.0305)
    assert far.sum() > 0.99 * n
    assert (r0[far] == r1[far]).all() and (c0[far] == c1[far]).all()
    # a point exactly on a line stays in its documented cell when moved 3 cm into that cell,
    # and moves across when moved 3 cm the other way
    on_x = np.array([523400.0, 523400.0]), np.array([190050.0, 190050.0])
    _r, c = grid.cell_index(on_x[0] + np.array([0.0, 0.03]), on_x[1])
    assert c[0] == c[1] == 34
    _r, c = grid.cell_index(on_x[0] - 0.03, on_x[1])
    assert c[0] == 33


def test_points_off_the_grid_and_non_finite_get_minus_one():
    grid = Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100)
    r, c = grid.cell_index(
        np.array([1000.0, -0.01, 5.0, np.nan, 1e300, 500.0]), np.array([500.0, 500.0, 1000.0001, 5.0, 5.0, 0.0])
    )
    # x = 1000 is the east edge's line: the cell east of it is off the grid; y = 0 is the bottom
    # line: the cell south of it is off the grid; y = 1000.0001 rounds to the top line (row 0)
    assert list(c) == [-1, -1, 0, -1, -1, -1]
    assert list(r) == [-1, -1, 0, -1, -1, -1]


def test_cell_size_must_be_whole_millimetres():
    with pytest.raises(ConfigError, match="whole number of millimetres"):
        Grid.from_boundary(shapely.box(0, 0, 1000, 1000), 100.0004)


def test_police_uk_longitude_latitude_recover_the_published_whole_metre_points():
    """police.uk publishes its whole-metre map points as 6-decimal longitude/latitude; rounding the
    reprojected coordinates restores them, so points on a grid line land in the documented cell."""
    from pyproj import Transformer

    from hotspots.ingest.validate import police_uk_whole_metres, to_working_crs

    rng = np.random.default_rng(8)
    n = 3000
    ex = rng.integers(520000, 530000, n).astype(float)
    ny = rng.integers(185000, 195000, n).astype(float)
    ex[: n // 3] = np.round(ex[: n // 3] / 100) * 100  # a third on vertical 100 m lines
    ny[n // 3 : 2 * n // 3] = np.round(ny[n // 3 : 2 * n // 3] / 100) * 100  # a third on horizontal lines
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(ex, ny)
    raw = pd.DataFrame({"lon": [f"{v:.6f}" for v in lon], "lat": [f"{v:.6f}" for v in lat]})
    x, y, reason = to_working_crs(raw, "EPSG:4326")
    assert (reason == "").all()
    resid = np.abs(x.to_numpy() - ex)
    assert resid.max() < 0.1 and np.median(resid) > 0.005  # the 6-decimal round trip is not exact ...
    np.testing.assert_array_equal(police_uk_whole_metres(x).to_numpy(), ex)  # ... the whole metre is
    np.testing.assert_array_equal(police_uk_whole_metres(y).to_numpy(), ny)
    grid = Grid.from_boundary(shapely.box(519000, 184000, 531000, 196000), 100)
    r, c = grid.cell_index(police_uk_whole_metres(x).to_numpy(), police_uk_whole_metres(y).to_numpy())
    on_v = slice(0, n // 3)
    np.testing.assert_array_equal(c[on_v], (ex[on_v] - grid.xmin) // 100)  # east of the line
    on_h = slice(n // 3, 2 * n // 3)
    np.testing.assert_array_equal(r[on_h], (grid.ymax - ny[on_h]) // 100)  # south of the line
