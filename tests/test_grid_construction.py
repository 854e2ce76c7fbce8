"""Grid construction: the cell fractions and mask equal those of testing every cell square against
the boundary (the plain construction, kept here as the reference), on the demo and Barnet outlines,
for several cell sizes and origin shifts, including the robustness sweep's grids."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from hotspots.analysis.robustness import shifted_grid, sweep_grids
from hotspots.geo.grid import Grid


def reference_grid(boundary, cs: float) -> dict:
    """Every cell square built and tested against ``boundary`` (metres, EPSG:27700)."""
    minx, miny, maxx, maxy = boundary.bounds
    x0 = math.floor(minx / cs) * cs
    y1 = math.ceil(maxy / cs) * cs
    ncols = int(math.ceil((maxx - x0) / cs))
    nrows = int(math.ceil((y1 - miny) / cs))
    cols, rows = np.meshgrid(np.arange(ncols), np.arange(nrows))
    boxes = shapely.box(x0 + cols * cs, y1 - (rows + 1) * cs, x0 + (cols + 1) * cs, y1 - rows * cs)
    shapely.prepare(boundary)  # the same predicates, answered from an index of the outline's edges
    hit = shapely.intersects(boundary, boxes)
    frac = np.zeros((nrows, ncols))
    inside = shapely.contains_properly(boundary, boxes)
    frac[inside] = 1.0
    edge = hit & ~inside
    frac[edge] = shapely.area(shapely.intersection(boundary, boxes[edge])) / (cs * cs)
    return {"xmin": x0, "ymax": y1, "ncols": ncols, "nrows": nrows, "inside_fraction": frac, "mask": frac > 0}


def reference_shifted(boundary, cs: float, dx: float, dy: float) -> dict:
    ref = reference_grid(shapely.affinity.translate(boundary, -dx, -dy), cs)
    return {**ref, "xmin": ref["xmin"] + dx, "ymax": ref["ymax"] + dy}


def assert_same(grid: Grid, ref: dict, boundary) -> None:
    """``grid`` has the reference's corner, shape and mask; its fractions are the reference's bit for bit,
    or (a mask-only grid, the robustness sweep's) measured on demand to within a nanometre squared."""
    assert (grid.xmin, grid.ymax, grid.ncols, grid.nrows) == (ref["xmin"], ref["ymax"], ref["ncols"], ref["nrows"])
    assert np.array_equal(grid.mask, ref["mask"])
    if grid.inside_fraction is not None:
        assert np.array_equal(grid.inside_fraction, ref["inside_fraction"])  # bit for bit
    else:
        measured = grid.cell_fractions()
        assert np.allclose(measured, ref["inside_fraction"], rtol=0, atol=1e-9)
        assert np.array_equal(measured > 0, ref["mask"])
    assert (
        grid.transform
        == Grid(
            grid.cell_size, ref["xmin"], ref["ymax"], ref["ncols"], ref["nrows"], ref["mask"], ref["inside_fraction"]
        ).transform
    )
    assert np.array_equal(grid.cell_ids[grid.mask], np.flatnonzero(ref["mask"].ravel()))
    assert grid.boundary.equals_exact(boundary, 0.0)


@pytest.fixture(scope="module")
def demo_boundary(demo_config_path):
    from hotspots.config import load_config
    from hotspots.geo.study_area import read_study_area

    cfg = load_config(demo_config_path)
    return read_study_area(cfg.study_area, cfg.data_dir, cfg.project.name, cfg.crs).boundary


@pytest.fixture(scope="module")
def barnet_boundary(shared_data):
    import geopandas as gpd

    outline = gpd.read_file(shared_data / "boundaries" / "barnet_borough_outline.geojson").to_crs(27700)
    return outline.geometry.union_all()


CASES = [(100.0, 0.0, 0.0), (50.0, 25.0, 0.0), (75.0, 0.0, 37.5), (150.0, 75.0, 75.0), (62.5, 10.0, 3.0), (333.0, 0, 0)]


@pytest.mark.parametrize("name", ["demo_boundary", "barnet_boundary"])
def test_grids_equal_the_cell_by_cell_construction(name, request):
    boundary = request.getfixturevalue(name)
    for cs, dx, dy in CASES:
        assert shifted_grid(boundary, cs, dx, dy).inside_fraction is None  # the sweep's grids: masks only
        assert_same(shifted_grid(boundary, cs, dx, dy), reference_shifted(boundary, cs, dx, dy), boundary)
        moved = shapely.affinity.translate(boundary, -dx, -dy)
        assert_same(Grid.from_boundary(moved, cs), reference_grid(moved, cs), moved)  # with fractions


@pytest.mark.parametrize("name", ["demo_boundary", "barnet_boundary"])
def test_mask_by_predicates_equals_fractions_above_zero(name, request):
    """The mask found without clipping any square is the cells whose clipped area is above zero."""
    boundary = request.getfixturevalue(name)
    for cs, dx, dy in CASES:
        moved = shapely.affinity.translate(boundary, -dx, -dy)
        full, masked = Grid.from_boundary(moved, cs), Grid.from_boundary(moved, cs, fractions=False)
        assert masked.inside_fraction is None
        assert np.array_equal(masked.mask, full.mask)
        assert np.array_equal(masked.cell_fractions(), full.inside_fraction)  # the same squares, measured later


@pytest.mark.parametrize("name", ["demo_boundary", "barnet_boundary"])
def test_sweep_grids_equal_the_cell_by_cell_construction(name, request):
    boundary = request.getfixturevalue(name)
    grid = Grid.from_boundary(boundary, 100)
    assert_same(grid, reference_grid(boundary, 100), boundary)
    sweep = sweep_grids(grid)
    assert len(sweep.grids) == 19
    for s, g in zip(sweep.settings, sweep.grids, strict=True):
        assert_same(g, reference_shifted(boundary, s.cell_size_m, s.offset_x_m, s.offset_y_m), boundary)


def test_hand_made_outlines_with_holes_parts_and_edges_on_grid_lines():
    """A ring with a hole, a second part, an edge lying on a grid line, a vertex on a cell corner,
    a long diagonal edge across many cells and a spike thinner than a cell."""
    outer = [(0, 0), (1000, 0), (1000, 400), (1003.7, 400), (1000, 700), (1000, 1000), (0, 1000)]
    hole = [(200, 200), (200, 600), (600, 600), (600, 200)]
    spike = Polygon([(1500, 0), (1500.01, 950.3), (1500.02, 0)])
    diag = Polygon([(2000, 0), (4000, 1900), (2000, 100)])
    b = shapely.union_all([Polygon(outer, [hole]), spike, diag, box(-100, 1000, 0, 1100)])
    for cs, dx, dy in [(100.0, 0, 0), (50.0, 25.0, 25.0), (33.0, 0, 0), (100.0, 0.005, 0)]:
        g = shifted_grid(b, cs, dx, dy)
        assert_same(g, reference_shifted(b, cs, dx, dy), b)
        moved = shapely.affinity.translate(b, -dx, -dy)
        assert_same(Grid.from_boundary(moved, cs), reference_grid(moved, cs), moved)
        assert np.array_equal(Grid.from_boundary(moved, cs, fractions=False).mask, reference_grid(moved, cs)["mask"])
    g = Grid.from_boundary(b, 100)  # corner (-100, 1900): columns from x = -100, rows from y = 1900
    assert (g.xmin, g.ymax, g.nrows) == (-100.0, 1900.0, 19)
    assert g.mask[14, 16] and 0 < g.inside_fraction[14, 16] < 0.001  # the spike, 2 cm wide
    assert not g.mask[15, 4]  # inside the hole
    assert not g.mask[18, 0] and g.mask[8, 0]  # beside the edge on x = 0; the small square north-west


@pytest.mark.parametrize("name", ["demo_boundary", "barnet_boundary"])
def test_clipped_cells_equal_intersecting_every_square(name, request):
    """Clipped cell polygons (the public tier's cells) have the coordinates, in order, of intersecting every
    square with the boundary, though only the squares on the outline are intersected."""
    boundary = request.getfixturevalue(name)
    for cs in (100.0, 250.0, 500.0):
        grid = Grid.from_boundary(boundary, cs)
        rows, cols = np.nonzero(grid.mask)
        squares = shapely.box(
            grid.xmin + cols * cs, grid.ymax - (rows + 1) * cs, grid.xmin + (cols + 1) * cs, grid.ymax - rows * cs
        )
        reference = shapely.intersection(squares, boundary)
        clipped = grid.cell_polygons(clip=True)
        assert len(clipped) == len(reference)
        assert shapely.contains_properly(boundary, squares).sum() > len(squares) / 2  # most are interior ones
        assert list(shapely.to_wkb(clipped)) == list(shapely.to_wkb(reference))  # byte for byte
