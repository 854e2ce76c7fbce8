"""Kernel density: exact against brute force, scikit-learn and KDEpy; radius rule; GeoTIFF output."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from hotspots.analysis.density import DensityConfig, density_surface, hotspot_kde, silverman_radius
from hotspots.errors import ConfigError
from hotspots.geo.grid import Grid


def brute_force(x, y, w, grid, r, kernel):
    """Pure-numpy reference: every point against every cell centre, per km²."""
    xc, yc = grid.centres()
    d = np.hypot(xc[..., None] - x, yc[..., None] - y)
    if kernel == "quartic":
        k = np.where(d < r, 3 / (np.pi * r * r) * (1 - (d / r) ** 2) ** 2, 0.0)
    elif kernel == "epanechnikov":
        k = np.where(d < r, 2 / (np.pi * r * r) * (1 - (d / r) ** 2), 0.0)
    else:
        s = r / 3
        k = np.exp(-(d**2) / (2 * s * s)) / (2 * np.pi * s * s)
    out = (k * w).sum(-1) * 1e6
    out[~grid.mask] = np.nan
    return out


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(7)
    # an L-shaped area so that some cells are masked out
    area = shapely.union_all([shapely.box(0, 0, 3000, 1200), shapely.box(0, 0, 1200, 2500)])
    grid = Grid.from_boundary(area, 50)
    n = 700
    x = np.concatenate([rng.normal(800, 250, n // 2), rng.uniform(-200, 3200, n - n // 2)])
    y = np.concatenate([rng.normal(700, 300, n // 2), rng.uniform(-200, 2700, n - n // 2)])
    w = rng.uniform(0.2, 5.0, n)
    return grid, x, y, w


@pytest.mark.parametrize("kernel", ["quartic", "epanechnikov", "gaussian"])
def test_matches_brute_force(case, kernel):
    grid, x, y, w = case
    for weights in (None, w):
        ours = density_surface(x, y, grid, 350.0, kernel=kernel, weights=weights)
        ref = brute_force(x, y, np.ones_like(x) if weights is None else weights, grid, 350.0, kernel)
        assert np.array_equal(np.isnan(ours), ~grid.mask)
        m = grid.mask
        scale = np.abs(ref[m]).max()
        assert scale > 0
        assert np.max(np.abs(ours[m] - ref[m])) / scale < 1e-9
        pos = ref[m] > 1e-6 * scale
        assert np.max(np.abs(ours[m][pos] - ref[m][pos]) / ref[m][pos]) < 1e-9


def test_integrates_to_total_weight():
    # a fine grid over a square much larger than the kernel: the surface integrates to sum(w)
    grid = Grid.from_boundary(shapely.box(0, 0, 4000, 4000), 10)
    x = np.array([2000.0, 1500.0, 2600.0])
    y = np.array([2000.0, 2500.0, 1800.0])
    w = np.array([1.0, 2.0, 0.5])
    for kernel in ("quartic", "epanechnikov", "gaussian"):
        s = density_surface(x, y, grid, 400.0, kernel=kernel, weights=w)
        total = np.nansum(s) * grid.cell_area_m2 / 1e6
        assert total == pytest.approx(3.5, rel=2e-3)


def test_matches_sklearn_epanechnikov(case):
    from sklearn.neighbors import KernelDensity

    grid, x, y, w = case
    r = 300.0
    ours = density_surface(x, y, grid, r, kernel="epanechnikov")
    xc, yc = grid.centres()
    m = grid.mask
    kd = KernelDensity(kernel="epanechnikov", bandwidth=r).fit(np.column_stack([x, y]))
    sk = np.exp(kd.score_samples(np.column_stack([xc[m], yc[m]])))  # per m², normalised by n
    sk_per_km2 = sk * x.size * 1e6
    pos = sk_per_km2 > 0
    assert np.array_equal(pos, ours[m] > 0)
    assert np.max(np.abs(ours[m][pos] - sk_per_km2[pos]) / sk_per_km2[pos]) < 1e-9
    # weighted: sklearn normalises by the total weight
    kdw = KernelDensity(kernel="epanechnikov", bandwidth=r).fit(np.column_stack([x, y]), sample_weight=w)
    skw = np.exp(kdw.score_samples(np.column_stack([xc[m], yc[m]]))) * w.sum() * 1e6
    oursw = density_surface(x, y, grid, r, kernel="epanechnikov", weights=w)[m]
    pos = skw > 0
    assert np.max(np.abs(oursw[pos] - skw[pos]) / skw[pos]) < 1e-9


def test_matches_kdepy_biweight(case):
    from KDEpy import NaiveKDE

    grid, x, y, _ = case
    R = 400.0
    ours = density_surface(x, y, grid, R, kernel="quartic")
    xc, yc = grid.centres()
    m = grid.mask
    # KDEpy's biweight takes bw = standard deviation; its support radius is bw * sqrt(7)
    kp = NaiveKDE(kernel="biweight", bw=R / math.sqrt(7), norm=2).fit(np.column_stack([x, y]))
    ref = kp.evaluate(np.column_stack([xc[m], yc[m]])) * x.size * 1e6
    assert np.max(np.abs(ours[m] - ref)) / ref.max() < 1e-8


def test_silverman_hand_case():
    a = 1000.0
    x = np.array([a, -a, 0, 0])
    y = np.array([0, 0, a, -a])
    # SD = sqrt(a²/2 + a²/2) = a; Dm = a; min(a, 1.2011 a) = a
    assert silverman_radius(x, y) == pytest.approx(0.9 * a * 4**-0.2, rel=1e-12)
    # Dm smaller than SD/1.2011: one far outlier pulls SD up, the median distance stays small
    x2 = np.array([0.0, 10, -10, 0, 0, 5000])
    y2 = np.array([0.0, 0, 0, 10, -10, 0])
    mx, my = x2.mean(), y2.mean()
    sd = math.sqrt(np.mean((x2 - mx) ** 2) + np.mean((y2 - my) ** 2))
    dm = np.median(np.hypot(x2 - mx, y2 - my))
    assert math.sqrt(1 / math.log(2)) * dm < sd
    assert silverman_radius(x2, y2) == pytest.approx(0.9 * math.sqrt(1 / math.log(2)) * dm * 6**-0.2)


def test_hotspot_kde_reports_radius_and_writes_geotiff(case, tmp_path):
    import rasterio

    grid, x, y, _ = case
    res = hotspot_kde(np.column_stack([x, y]), grid=grid)
    assert res.radius_m == pytest.approx(silverman_radius(x, y))
    assert "Silverman" in res.radius_rule and res.kernel == "quartic" and res.units == "incidents per km²"
    fixed = hotspot_kde(np.column_stack([x, y]), grid=grid, radius_m=250)
    assert fixed.radius_m == 250 and fixed.radius_rule == "given"
    clamped = hotspot_kde(np.column_stack([x, y]), grid=grid, min_radius_m=900, max_radius_m=1000)
    assert clamped.radius_m == 900 and "clamped" in clamped.radius_rule
    p = res.to_geotiff(tmp_path / "kde.tif")
    with rasterio.open(p) as src:
        assert src.crs.to_epsg() == 27700
        assert src.bounds == pytest.approx(grid.bounds)
        arr = src.read(1, masked=True)
    assert np.array_equal(arr.mask, ~grid.mask)
    assert np.allclose(arr.filled(np.nan)[grid.mask], res.surface[grid.mask].astype("float32"))
    df = res.to_frame()
    assert len(df) == grid.n_cells and df.crs.to_epsg() == 27700
    assert df["density"].sum() == pytest.approx(np.nansum(res.surface))


def test_config_validation():
    from hotspots.config import build_section

    assert build_section(DensityConfig, {"kernel": "gaussian", "radius_m": 300}, "x.toml", "density").radius_m == 300
    with pytest.raises(ConfigError, match="kernel"):
        build_section(DensityConfig, {"kernel": "triangular"}, "x.toml", "density")
    with pytest.raises(ConfigError, match="unknown key"):
        build_section(DensityConfig, {"bandwidth": 3}, "x.toml", "density")
    with pytest.raises(ConfigError, match="radius_m"):
        density_surface([0.0], [0.0], Grid.from_boundary(shapely.box(0, 0, 100, 100), 10), 0.0)
