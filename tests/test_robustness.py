"""Hotspot robustness: the overlap kernel against shapely, shifted grids, and the sweep on a
planted strong hotspot (found everywhere) and a planted one-cell artefact (fragile)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from hotspots.analysis._robustness_kernels import overlap_matrix
from hotspots.analysis.gistar import gistar_grid
from hotspots.analysis.hotspot_areas import label_cells
from hotspots.analysis.robustness import hotspot_robustness, shifted_grid, sweep_grids
from hotspots.errors import ConfigError, InputError
from hotspots.geo.grid import Grid

BOUNDARY = box(500000, 180000, 503000, 183000)
STRONG = (500800.0, 182200.0)
ARTEFACT = (502250.0, 180750.0)  # the centre of one 100 m cell


@pytest.fixture(scope="module")
def grids():
    grid = Grid.from_boundary(BOUNDARY, 100)
    return grid, sweep_grids(grid)


# --------------------------------------------------------------------------- kernel
def _cell_boxes(g, rows, cols):
    cs = g.cell_size
    return shapely.box(g.xmin + cols * cs, g.ymax - (rows + 1) * cs, g.xmin + (cols + 1) * cs, g.ymax - rows * cs)


@pytest.mark.parametrize("cell,dx,dy", [(50, 0, 0), (75, 37.5, 0), (100, 50, 50), (150, 0, 75), (200, 100, 100)])
def test_overlap_matrix_equals_shapely(cell, dx, dy):
    rng = np.random.default_rng(int(cell))
    ref = Grid.from_boundary(BOUNDARY, 100)
    other = shifted_grid(BOUNDARY, cell, dx, dy)
    ref_lab, n_ref = label_cells(rng.random(ref.shape) < 0.15)
    comp, n_comp = label_cells(rng.random(other.shape) < 0.2)
    rows, cols = np.nonzero(ref_lab)
    got = overlap_matrix(
        rows.astype(np.int64),
        cols.astype(np.int64),
        ref_lab[rows, cols].astype(np.int64),
        n_ref,
        ref.xmin,
        ref.ymax,
        ref.cell_size,
        comp.astype(np.int64),
        n_comp,
        other.xmin,
        other.ymax,
        other.cell_size,
    )
    ref_polys = [shapely.union_all(_cell_boxes(ref, *np.nonzero(ref_lab == a))) for a in range(1, n_ref + 1)]
    oth_polys = [shapely.union_all(_cell_boxes(other, *np.nonzero(comp == b))) for b in range(1, n_comp + 1)]
    tree = shapely.STRtree(oth_polys)
    want = np.zeros((n_ref + 1, n_comp + 1))
    for a, pa in enumerate(ref_polys, start=1):
        for b in tree.query(pa):
            want[a, b + 1] = shapely.intersection(pa, oth_polys[b]).area
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert got.sum() > 0


def test_shifted_grid_moves_the_cell_edges_only():
    g = shifted_grid(BOUNDARY, 150, 75, 75)
    assert (g.xmin - 75) % 150 == 0 and (g.ymax - 75) % 150 == 0
    assert g.boundary.equals(BOUNDARY)
    # every cell that touches the boundary is masked, and no other
    rows, cols = np.indices(g.shape)
    touches = shapely.intersects(BOUNDARY, _cell_boxes(g, rows.ravel(), cols.ravel())).reshape(g.shape)
    np.testing.assert_array_equal(g.mask, touches)
    assert g.n_cells == 21 * 21  # 3 km spans 20 cells plus the two half cells at the edges


# --------------------------------------------------------------------------- planted hotspots
def _planted(seed):
    """Uniform background, a strong compact hotspot, and a one-cell artefact: points spread evenly
    over the 3 x 3 cells around one cell, just enough that the reference Gi* window of that cell
    (and of no other) is significant. On any other grid the window no longer lines up with them."""
    rng = np.random.default_rng(seed)
    grid = Grid.from_boundary(BOUNDARY, 100)
    bg = np.column_stack([rng.uniform(500000, 503000, 2000), rng.uniform(180000, 183000, 2000)])
    strong = rng.normal(STRONG, 60, (150, 2))
    spread = np.asarray(ARTEFACT) + rng.uniform(-150, 150, (200, 2))
    r, c = grid.cell_index(np.array([ARTEFACT[0]]), np.array([ARTEFACT[1]]))
    for k in range(10, 200):
        pts = np.vstack([bg, strong, spread[:k]])
        res = gistar_grid(grid.counts(pts[:, 0], pts[:, 1]), grid)
        if res.to_array(res.hot(95), False)[r[0], c[0]]:
            return pd.DataFrame({"x": pts[:, 0], "y": pts[:, 1]})
    raise AssertionError("the artefact never became hot")


def _area_at(result, grid, xy):
    r, c = grid.cell_index(np.array([xy[0]]), np.array([xy[1]]))
    lab = result.reference.labels[r[0], c[0]]
    return result.areas[result.areas["area_id"] == lab].iloc[0]


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_strong_hotspot_is_robust_and_one_cell_artefact_is_fragile(grids, seed):
    grid, sg = grids
    inc = _planted(seed)
    res = hotspot_robustness(inc, grid, grids=sg)
    assert len(res.settings) == 19 + 5 and (res.settings["family"] == "grid").sum() == 19
    strong = _area_at(res, grid, STRONG)
    artefact = _area_at(res, grid, ARTEFACT)
    assert artefact["n_cells"] == 1
    assert strong["robustness"] == 1.0 and not strong["fragile"]
    assert artefact["robustness"] < 0.3 and artefact["fragile"]
    assert "fragile" in res.summary()


def test_kde_reference_and_parameters(grids):
    grid, sg = grids
    inc = _planted(0)
    res = hotspot_robustness(inc, grid, method="kde", grids=sg, radius_m=250)
    assert res.radius_m == 250 and res.radius_rule == "given"
    # the 1x radius is the reference itself and is left out
    assert list(res.settings.loc[res.settings.family == "radius", "radius_m"]) == [125, 187.5, 375, 500]
    assert _area_at(res, grid, STRONG)["robustness"] == 1.0
    again = hotspot_robustness(inc, grid, method="kde", grids=sg, radius_m=250)
    np.testing.assert_array_equal(res.overlap, again.overlap)
    with pytest.raises(ConfigError, match="method"):
        hotspot_robustness(inc, grid, method="lisa", grids=sg)
    with pytest.raises(ConfigError, match="min_overlap"):
        hotspot_robustness(inc, grid, min_overlap=0, grids=sg)
    with pytest.raises(InputError, match="another reference grid"):
        hotspot_robustness(inc, Grid.from_boundary(BOUNDARY, 100), grids=sg)


def test_no_hotspots_gives_an_empty_table(grids):
    grid, sg = grids
    rng = np.random.default_rng(2)
    inc = pd.DataFrame({"x": rng.uniform(500000, 503000, 300), "y": rng.uniform(180000, 183000, 300)})
    res = hotspot_robustness(inc, grid, grids=sg, radius_scales=())
    assert len(res.areas) == 0 and res.overlap.shape == (0, 19)
    assert "nothing to test" in res.summary()
