"""Viewsheds: numba kernels against pure-numpy references and hand-computed line-of-sight cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hotspots.coverage.cameras import make_cameras
from hotspots.coverage.viewshed import (
    Obstruction,
    covered_points,
    sector_polygon,
    viewshed_polygons,
    viewshed_raster,
    visibility_pairs,
)


# ----------------------------------------------------------------------------- references (pure numpy)
def ref_in_sector(px, py, cx, cy, rng, brg, fov):
    dx, dy = px - cx, py - cy
    d = np.hypot(dx, dy)
    b = np.degrees(np.arctan2(dx, dy)) % 360
    diff = np.abs((b - brg + 180) % 360 - 180)
    ok = d <= rng
    if fov < 360:
        ok &= (diff <= fov / 2 + 1e-9) | (d < 1e-9)
    return ok


def ref_los(h, x0, ytop, cs, ax, ay, mount, bx, by, target):
    """Same rule as the kernel, written with numpy: samples every cs/2, own and target pixels skipped."""

    def mm(v):  # the engine's binning rule: whole millimetres, a point on an edge goes east / south
        return np.floor(np.asarray(v, dtype=float) / 0.001 + 0.5).astype(np.int64)

    def pix(x, y):
        return int((mm(ytop) - mm(y)) // mm(cs)), int((mm(x) - mm(x0)) // mm(cs))

    def surf(x, y):
        r, c = pix(x, y)
        return h[r, c] if 0 <= r < h.shape[0] and 0 <= c < h.shape[1] else 0.0

    za, zb = surf(ax, ay) + mount, surf(bx, by) + target
    dist = math.hypot(bx - ax, by - ay)
    n = int(math.ceil(dist / (0.5 * cs)))
    if n < 2:
        return True
    t = np.arange(1, n) / n
    xs, ys = ax + t * (bx - ax), ay + t * (by - ay)
    rows = (mm(ytop) - mm(ys)) // mm(cs)
    cols = (mm(xs) - mm(x0)) // mm(cs)
    own, tgt = pix(ax, ay), pix(bx, by)
    keep = ~(((rows == own[0]) & (cols == own[1])) | ((rows == tgt[0]) & (cols == tgt[1])))
    keep &= (rows >= 0) & (cols >= 0) & (rows < h.shape[0]) & (cols < h.shape[1])
    hh = h[rows[keep], cols[keep]]
    return bool(np.all(hh <= za + t[keep] * (zb - za)))


# ----------------------------------------------------------------------------- flat ground
def test_flat_ground_equals_geometric_sector():
    rng = np.random.default_rng(3)
    ob = Obstruction.flat((0, 0, 300, 300), 2.0)
    xs = ob.x0 + (np.arange(ob.shape[1]) + 0.5) * 2.0
    ys = ob.ytop - (np.arange(ob.shape[0]) + 0.5) * 2.0
    gx, gy = np.meshgrid(xs, ys)
    for _ in range(6):
        cx, cy = rng.uniform(80, 220, 2)
        r, b, f = rng.uniform(20, 90), rng.uniform(0, 360), rng.choice([30.0, 60.0, 90.0, 200.0, 360.0])
        cams = make_cameras([cx], [cy], range_m=r, bearing_deg=b, fov_deg=f)
        got = viewshed_raster(cams, ob) > 0
        want = ref_in_sector(gx, gy, cx, cy, r, b, f)
        assert np.array_equal(got, want)
        # the same on a raster of zeros with line of sight switched on (nothing blocks)
        assert np.array_equal(viewshed_raster(cams, ob, line_of_sight=True) > 0, want)


def test_sector_polygon_area_and_bearing():
    p = sector_polygon(0, 0, 100, 90, 60, step_deg=0.5)
    assert p.area == pytest.approx(math.pi * 100**2 * 60 / 360, rel=1e-3)
    c = p.centroid
    assert c.x > 0 and abs(c.y) < 1e-6  # bearing 90 = east
    full = sector_polygon(0, 0, 50, 0, 360)
    assert full.area == pytest.approx(math.pi * 2500, rel=2e-3)


def test_pixel_viewshed_polygon_matches_sector_on_flat_ground():
    ob = Obstruction.flat((0, 0, 400, 400), 1.0)
    cams = make_cameras([200.0], [200.0], range_m=80, bearing_deg=30, fov_deg=90)
    pix = viewshed_polygons(cams, ob).geometry.iat[0]
    geo = viewshed_polygons(cams).geometry.iat[0]
    iou = pix.intersection(geo).area / pix.union(geo).area
    assert iou > 0.97


def test_cover_pairs_against_bruteforce():
    rng = np.random.default_rng(11)
    px, py = rng.uniform(0, 1000, 3000), rng.uniform(0, 1000, 3000)
    n = 40
    cams = make_cameras(
        rng.uniform(0, 1000, n),
        rng.uniform(0, 1000, n),
        range_m=rng.uniform(20, 150, n),
        bearing_deg=rng.uniform(0, 360, n),
        fov_deg=rng.choice([45.0, 90.0, 360.0], n),
    )
    p, c = visibility_pairs(cams, px, py)
    got = set(zip(p.tolist(), c.tolist(), strict=True))
    want = set()
    for k in range(n):
        r = cams.iloc[k]
        idx = np.nonzero(ref_in_sector(px, py, r.x, r.y, r.range_m, r.bearing_deg, r.fov_deg))[0]
        want |= {(int(i), k) for i in idx}
    assert got == want


# ----------------------------------------------------------------------------- obstructions
def _wall_raster(height=5.0):
    # 1 m pixels over x 0..200, y 0..100; a wall (one pixel thick) at x = 110..111 for y 30..70
    h = np.zeros((100, 200))
    h[30:70, 110] = height
    return Obstruction(h, 0.0, 100.0, 1.0)


def test_wall_hand_computed_shadow():
    # camera at (100.5, 50.5), 6 m up; wall 5 m high 10 m east; target 1.5 m.
    # the sight line clears the wall when 6 - 4.5 * 10 / d > 5, i.e. beyond d = 45 m.
    ob = _wall_raster(5.0)
    cams = make_cameras([100.5], [50.5], range_m=150, fov_deg=360)
    tx = 100.5 + np.array([5.0, 20.0, 30.0, 40.0, 50.0, 60.0, 80.0])
    ty = np.full(len(tx), 50.5)
    seen = covered_points(cams, tx, ty, ob) > 0
    assert seen.tolist() == [True, False, False, False, True, True, True]
    # a 3 m wall never blocks (6 - 4.5 * 10 / d > 3 for every d >= 10)
    assert (covered_points(cams, tx, ty, _wall_raster(3.0)) > 0).all()
    # on flat ground everything in range is seen
    assert (covered_points(cams, tx, ty, None) > 0).all()


def test_cells_behind_wall_not_covered():
    ob = _wall_raster(20.0)  # tall wall: nothing behind it is visible
    cams = make_cameras([100.5], [50.5], range_m=60, fov_deg=360)
    vis = viewshed_raster(cams, ob) > 0
    flat = viewshed_raster(cams, Obstruction(np.zeros_like(ob.heights), 0, 100, 1)) > 0
    # directly behind the wall (x 112..150, y 45..55): not covered; in front: covered as on flat ground
    assert not vis[45:55, 112:150].any()
    assert flat[45:55, 112:150].all()
    assert np.array_equal(vis[:, :110], flat[:, :110])
    # the blocked region is a subset of the flat viewshed
    assert not (vis & ~flat).any()
    poly = viewshed_polygons(cams, ob).geometry.iat[0]
    assert poly.area < viewshed_polygons(cams, Obstruction(np.zeros_like(ob.heights), 0, 100, 1)).geometry.iat[0].area


def test_line_of_sight_kernel_against_numpy_reference():
    rng = np.random.default_rng(5)
    h = np.where(rng.random((60, 60)) < 0.08, rng.uniform(2, 15, (60, 60)), 0.0)
    ob = Obstruction(h, 1000.0, 2060.0, 2.0)
    cams = make_cameras(
        [1060.0, 1030.0], [2030.0, 2010.0], range_m=[70.0, 50.0], bearing_deg=[45.0, 200.0], fov_deg=[360.0, 120.0]
    )
    px, py = rng.uniform(1000, 1120, 800), rng.uniform(1940, 2060, 800)
    p, c = visibility_pairs(cams, px, py, ob)
    got = set(zip(p.tolist(), c.tolist(), strict=True))
    want = set()
    for k in range(len(cams)):
        r = cams.iloc[k]
        ins = ref_in_sector(px, py, r.x, r.y, r.range_m, r.bearing_deg, r.fov_deg)
        for i in np.nonzero(ins)[0]:
            if ref_los(h, 1000.0, 2060.0, 2.0, r.x, r.y, 6.0, px[i], py[i], 1.5):
                want.add((int(i), k))
    assert got == want
    assert len(want) > 50  # the case exercises both visible and blocked targets
    blocked = sum(
        ref_in_sector(px, py, cams.x[k], cams.y[k], cams.range_m[k], cams.bearing_deg[k], cams.fov_deg[k]).sum()
        for k in range(2)
    ) - len(want)
    assert blocked > 10


def test_geotiff_roundtrip(tmp_path):
    import rasterio
    from affine import Affine

    h = _wall_raster(20.0).heights.astype("float32")
    p = tmp_path / "dsm.tif"
    with rasterio.open(
        p,
        "w",
        driver="GTiff",
        width=200,
        height=100,
        count=1,
        dtype="float32",
        crs="EPSG:27700",
        transform=Affine(1, 0, 0, 0, -1, 100),
    ) as dst:
        dst.write(h, 1)
    ob = Obstruction.from_geotiff(p)
    assert ob.x0 == 0 and ob.ytop == 100 and ob.cell_size == 1 and np.array_equal(ob.heights, h)
    p2 = tmp_path / "wgs.tif"
    with rasterio.open(
        p2,
        "w",
        driver="GTiff",
        width=2,
        height=2,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(0.1, 0, 0, 0, -0.1, 51),
    ) as dst:
        dst.write(np.zeros((2, 2), "float32"), 1)
    from hotspots.errors import InputError

    with pytest.raises(InputError, match="EPSG:27700"):
        Obstruction.from_geotiff(p2)
