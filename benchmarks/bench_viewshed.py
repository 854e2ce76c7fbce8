"""Benchmark: line-of-sight viewsheds for 200 cameras over a 2 m obstruction raster of 2 km x 2 km.

The raster (1000 x 1000 pixels, EPSG:27700-style metres) holds synthetic buildings: 1,500 blocks of
6-30 m x 6-30 m, 4-25 m tall, seed 1. 200 cameras (170 CCTV 80 m, half domes and half 90-degree fixed,
plus 30 traffic cameras 150 m), 6 m up, targets 1.5 m. Ours: the numba ray-casting kernel
(``viewshed_raster``: number of cameras seeing each pixel) after a warm-up call that loads the
cached compilation; also the per-camera viewshed polygons. Peer: a vectorised pure-numpy
implementation of the same rule (sector test, samples every half pixel, own and target pixels
skipped); the two count rasters must be identical. Target: 200 viewsheds in at most 5 s.

Run: ``python benchmarks/bench_viewshed.py`` (writes benchmarks/results/viewshed.json).
"""

from __future__ import annotations

import math
import time

import numpy as np

SIZE_M = 2000.0
PIXEL_M = 2.0


def _scene(seed=1):
    from hotspots.coverage.cameras import make_cameras
    from hotspots.coverage.viewshed import Obstruction

    rng = np.random.default_rng(seed)
    n = int(SIZE_M / PIXEL_M)
    h = np.zeros((n, n))
    for _ in range(1500):
        r, c = rng.integers(0, n, 2)
        hh, ww = rng.integers(3, 16, 2)
        h[r : r + hh, c : c + ww] = rng.uniform(4, 25)
    ob = Obstruction(h, 500000.0, 200000.0 + SIZE_M, PIXEL_M, "synthetic buildings")
    # cameras stand on open ground (street furniture)
    xs, ys = [], []
    while len(xs) < 200:
        x, y = rng.uniform(100, SIZE_M - 100, 2)
        if h[int((SIZE_M - y) / PIXEL_M), int(x / PIXEL_M)] == 0:
            xs.append(500000.0 + x)
            ys.append(200000.0 + y)
    xs, ys = np.array(xs), np.array(ys)
    dome = rng.random(170) < 0.5
    cctv = make_cameras(
        xs[:170],
        ys[:170],
        "cctv",
        range_m=80.0,
        bearing_deg=rng.uniform(0, 360, 170),
        fov_deg=np.where(dome, 360.0, 90.0),
    )
    traffic = make_cameras(
        xs[170:],
        ys[170:],
        "traffic",
        range_m=150.0,
        bearing_deg=rng.uniform(0, 360, 30),
        fov_deg=90.0,
        ids=[f"t{i}" for i in range(30)],
    )
    import pandas as pd

    cams = pd.concat([cctv, traffic], ignore_index=True)
    return ob, cams


def _mm(v):
    """Metres as whole millimetres (the engine's binning rule: a point on a pixel edge goes east / south)."""
    return np.floor(np.asarray(v, dtype=float) / 0.001 + 0.5).astype(np.int64)


def numpy_viewshed_count(ob, cams, mount=6.0, target=1.5):
    """Pure-numpy reference: the kernel's rule, vectorised per camera."""
    h = ob.heights
    nr, nc = h.shape
    cs = ob.cell_size
    out = np.zeros(h.shape, np.int32)
    for cx, cy, rng_, brg, fov in zip(
        cams["x"], cams["y"], cams["range_m"], cams["bearing_deg"], cams["fov_deg"], strict=True
    ):
        c0 = max(0, int(math.floor((cx - rng_ - ob.x0) / cs)))
        c1 = min(nc - 1, int(math.floor((cx + rng_ - ob.x0) / cs)))
        r0 = max(0, int(math.floor((ob.ytop - (cy + rng_)) / cs)))
        r1 = min(nr - 1, int(math.floor((ob.ytop - (cy - rng_)) / cs)))
        rr, cc = np.mgrid[r0 : r1 + 1, c0 : c1 + 1]
        xc = ob.x0 + (cc + 0.5) * cs
        yc = ob.ytop - (rr + 0.5) * cs
        dx, dy = xc - cx, yc - cy
        d = np.hypot(dx, dy)
        ins = d <= rng_
        if fov < 360:
            b = np.degrees(np.arctan2(dx, dy))
            diff = np.abs((b - brg + 540.0) % 360.0 - 180.0)
            ins &= (diff <= fov / 2 + 1e-9) | (d * d < 1e-18)
        tr, tc = rr[ins], cc[ins]
        txs, tys, td = xc[ins], yc[ins], d[ins]
        ra, ca = int((_mm(ob.ytop) - _mm(cy)) // _mm(cs)), int((_mm(cx) - _mm(ob.x0)) // _mm(cs))
        za = h[ra, ca] + mount
        zb = h[tr, tc] + target
        nstep = np.ceil(td / (0.5 * cs)).astype(int)
        smax = int(nstep.max()) if len(nstep) else 0
        vis = np.ones(len(tr), bool)
        for s in range(1, smax):
            act = s < nstep
            if not act.any():
                break
            t = s / nstep[act]
            x = cx + t * (txs[act] - cx)
            y = cy + t * (tys[act] - cy)
            c = (_mm(x) - _mm(ob.x0)) // _mm(cs)
            r = (_mm(ob.ytop) - _mm(y)) // _mm(cs)
            skip = ((r == ra) & (c == ca)) | ((r == tr[act]) & (c == tc[act]))
            inside = (r >= 0) & (c >= 0) & (r < nr) & (c < nc) & ~skip
            hh = np.where(inside, h[np.clip(r, 0, nr - 1), np.clip(c, 0, nc - 1)], -np.inf)
            blocked = hh > za + t * (zb[act] - za)
            idx = np.nonzero(act)[0]
            vis[idx[blocked]] = False
        out[tr[vis], tc[vis]] += 1
    return out


def run() -> list[dict]:
    from hotspots.coverage.viewshed import viewshed_polygons, viewshed_raster

    ob, cams = _scene()
    viewshed_raster(cams.iloc[:1], ob)  # load the cached numba compilation
    t0 = time.perf_counter()
    ours = viewshed_raster(cams, ob)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    polys = viewshed_polygons(cams, ob)
    t_poly = time.perf_counter() - t0
    t0 = time.perf_counter()
    peer = numpy_viewshed_count(ob, cams)
    t_peer = time.perf_counter() - t0
    flat = viewshed_raster(cams, ob, line_of_sight=False)
    blocked = 1 - ours.sum() / max(1, flat.sum())
    assert np.array_equal(ours, peer), "viewshed raster differs from the numpy reference"
    rows = [
        {
            "benchmark": "viewshed_200cams_2m_raster_2x2km",
            "ours_s": round(t_ours, 3),
            "peer": "vectorised numpy, same rule",
            "peer_s": round(t_peer, 3),
            "ratio": round(t_peer / t_ours, 2),
            "equal": bool(np.array_equal(ours, peer)),
            "notes": f"count raster {ob.shape[0]}x{ob.shape[1]} px; {int((ours > 0).sum()):,} pixels seen; "
            f"{100 * blocked:.1f}% of sector pixels blocked by buildings; target <= 5 s: "
            f"{'met' if t_ours <= 5 else 'NOT met'}",
        },
        {
            "benchmark": "viewshed_polygons_200cams_2m",
            "ours_s": round(t_poly, 3),
            "peer": None,
            "peer_s": None,
            "ratio": None,
            "equal": None,
            "notes": f"per-camera viewshed polygons (kernel + rasterio.features.shapes); total area "
            f"{polys.area_m2.sum() / 1e6:.3f} km2; including ray casting, target <= 5 s: "
            f"{'met' if t_poly <= 5 else 'NOT met'}",
        },
    ]
    return rows


if __name__ == "__main__":
    from _results import save_rows

    save_rows("viewshed", run())
