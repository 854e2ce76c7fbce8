"""Cameras with approximate positions: the probability a camera sees a place, checked against independent
references (hand-computed lens areas, Monte Carlo over the true position) and used by coverage and siting."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
import shapely

from hotspots.coverage.cameras import make_cameras
from hotspots.coverage.coverage import cell_covered_fraction, compute_coverage
from hotspots.coverage.siting import solve_mclp
from hotspots.coverage.uncertain import disc_offsets, lens_area, seen_probability
from hotspots.coverage.viewshed import Obstruction, covered_points
from hotspots.geo.grid import Grid


def _monte_carlo(px, py, cx, cy, big_r, err, bearing=0.0, fov=360.0, n=200_000, seed=0):
    """Share of true positions (uniform in the error disc) from which a camera sees each point (independent)."""
    rng = np.random.default_rng(seed)
    rad = err * np.sqrt(rng.random(n))
    ang = rng.random(n) * 2 * np.pi
    tx, ty = cx + rad * np.cos(ang), cy + rad * np.sin(ang)
    out = []
    for x, y in zip(px, py, strict=True):
        dx, dy = x - tx, y - ty
        ok = dx * dx + dy * dy <= big_r * big_r
        if fov < 360:
            b = np.degrees(np.arctan2(dx, dy))
            ok &= np.abs((b - bearing + 540) % 360 - 180) <= fov / 2
        out.append(ok.mean())
    return np.array(out)


def test_lens_area_hand_cases():
    assert lens_area(0.0, 80, 30) == pytest.approx(np.pi * 30**2)  # the small disc lies inside
    assert lens_area(200.0, 80, 30) == 0.0 and lens_area(110.0, 80, 30) == pytest.approx(0.0, abs=1e-9)
    # two equal circles whose centres are one radius apart: R^2 (2 pi / 3 - sqrt(3) / 2)
    assert lens_area(50.0, 50, 50) == pytest.approx(50**2 * (2 * np.pi / 3 - np.sqrt(3) / 2))
    assert lens_area(10.0, 30, 80) == pytest.approx(np.pi * 30**2)  # symmetric in the radii


def test_disc_offsets_are_spread_evenly():
    ox, oy = disc_offsets(128)
    r = np.hypot(ox, oy)
    assert r.max() < 1.0
    # equal-area rings: a quarter of the points within radius 1/2
    assert (r <= 0.5).sum() == 32
    # no two points closer than a fraction of the mean spacing sqrt(pi / n)
    d = np.hypot(ox[:, None] - ox[None], oy[:, None] - oy[None]) + np.eye(128)
    assert d.min() > 0.5 * np.sqrt(np.pi / 128)


def test_full_circle_probability_equals_monte_carlo():
    cam = make_cameras([0.0], [0.0], range_m=80.0, fov_deg=360.0, position_error_m=200.0)
    px = np.array([0.0, 50.0, 120.0, 200.0, 260.0, 279.0, 300.0])
    py = np.zeros_like(px)
    got = seen_probability(cam, px, py)
    ref = _monte_carlo(px, py, 0.0, 0.0, 80.0, 200.0)
    assert np.allclose(got, ref, atol=0.003)
    assert got[0] == pytest.approx((80 / 200) ** 2) and got[-1] == 0.0


def test_sampled_sector_probability_equals_monte_carlo():
    """A 90 degree view with positional error has no closed form: the camera stands at 128 spiral positions."""
    cam = make_cameras([0.0], [0.0], range_m=100.0, bearing_deg=45.0, fov_deg=90.0, position_error_m=60.0)
    px = np.array([30.0, 60.0, 90.0, -20.0, 0.0, 120.0])
    py = np.array([30.0, 60.0, 20.0, 10.0, 80.0, 120.0])
    got = seen_probability(cam, px, py, samples=512)
    ref = _monte_carlo(px, py, 0.0, 0.0, 100.0, 60.0, bearing=45.0, fov=90.0)
    assert np.allclose(got, ref, atol=0.03)


def test_sampled_and_closed_form_agree_for_a_circle():
    """With an obstruction raster (here flat) the same circle goes through the sampled path."""
    cam = make_cameras([500.0], [500.0], range_m=80.0, fov_deg=360.0, position_error_m=75.0)
    px = np.linspace(400, 680, 15)
    py = np.full_like(px, 510.0)
    exact = seen_probability(cam, px, py)
    flat = Obstruction.flat((0, 0, 1000, 1000), 5.0)
    sampled = seen_probability(cam, px, py, obstruction=flat, samples=256)
    assert np.abs(exact - sampled).max() < 0.04


def test_exact_positions_unchanged_and_cameras_combine():
    cams = make_cameras([0.0, 150.0], [0.0, 0.0], range_m=80.0, fov_deg=360.0)
    px = np.array([0.0, 70.0, 100.0, 200.0, 300.0])
    py = np.zeros(5)
    assert seen_probability(cams, px, py).tolist() == (covered_points(cams, px, py) > 0).astype(float).tolist()
    a = make_cameras([0.0], [0.0], range_m=80.0, fov_deg=360.0, position_error_m=100.0)
    b = make_cameras([60.0], [0.0], range_m=80.0, fov_deg=360.0, position_error_m=150.0)
    both = make_cameras([0.0, 60.0], [0.0, 0.0], range_m=80.0, fov_deg=360.0, position_error_m=[100.0, 150.0])
    pa, pb, pab = seen_probability(a, px, py), seen_probability(b, px, py), seen_probability(both, px, py)
    assert np.allclose(pab, 1 - (1 - pa) * (1 - pb))


def test_expected_area_seen_is_the_viewshed_area():
    """Spreading a camera over its error disc moves its coverage around but keeps its expected area (pi R^2)."""
    cam = make_cameras([0.0], [0.0], range_m=80.0, fov_deg=360.0, position_error_m=150.0)
    step = 4.0
    g = np.arange(-240, 240, step) + step / 2
    gx, gy = np.meshgrid(g, g)
    area = seen_probability(cam, gx.ravel(), gy.ravel()).sum() * step * step
    assert area == pytest.approx(np.pi * 80**2, rel=0.01)


def test_coverage_and_cells_use_the_probability():
    grid = Grid.from_boundary(shapely.box(-500, -500, 500, 500), 100)
    x = np.array([0.0, 40.0, 150.0, 400.0])
    y = np.zeros(4)
    harm = np.array([1.0, 2.0, 3.0, 4.0])
    cam = make_cameras([0.0], [0.0], range_m=80.0, fov_deg=360.0, position_error_m=120.0)
    st = compute_coverage(cam, x, y, np.array(["a"] * 4, object), harm, grid, grid.counts(x, y, harm))
    p = _monte_carlo(x, y, 0.0, 0.0, 80.0, 120.0)
    assert np.allclose(st.incident_seen, p, atol=0.003)
    row = st.by_type.set_index("crime_type").loc["all"]
    assert row["harm_covered"] == pytest.approx((harm * p).sum(), abs=0.02)
    assert row["incidents_covered"] == pytest.approx(p.sum(), abs=0.01)
    # the cell holding the camera: the mean probability over its 10 m sample lattice
    frac = cell_covered_fraction(grid, cam, subsample_m=10)
    sx, sy = np.meshgrid(np.arange(-95, 0, 10.0) + 0.0, np.arange(-95, 0, 10.0))
    ref = _monte_carlo(sx.ravel(), sy.ravel(), 0.0, 0.0, 80.0, 120.0, n=100_000).mean()
    r, c = grid.cell_index(np.array([-50.0]), np.array([-50.0]))
    assert frac[r[0], c[0]] == pytest.approx(ref, abs=0.01)


def test_siting_adds_only_the_harm_not_yet_seen():
    """With existing coverage probabilities, the optimum of sum w*seen + sum w*(1-seen)*[new site sees it]
    equals an independent enumeration, and differs from treating approximate coverage as certain."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        A = sp.csr_matrix((rng.random((25, 7)) < 0.25).astype(np.int8))
        w = rng.integers(1, 20, 25).astype(float)
        seen = np.where(rng.random(25) < 0.4, rng.random(25), 0.0)
        for k in (1, 2, 3):
            D = A.toarray().astype(bool)
            best = max(
                (w * seen).sum() + (w * (1 - seen))[D[:, list(c)].any(axis=1)].sum()
                for c in itertools.combinations(range(7), k)
            )
            for method in ("highs", "pulp"):
                sol = solve_mclp(A, w, k, seen=seen, method=method)
                assert sol.status == "optimal" and sol.covered == pytest.approx(best)
                assert sol.fixed_covered == pytest.approx((w * seen).sum())
