"""Getis-Ord Gi*: z and FDR against esda on the real Barnet grid, permutation kernel against a
numpy reference, ArcGIS-style classes, and the planted robbery hotspots of the demo borough."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.analysis import _kernels
from hotspots.analysis.gistar import (
    GiStarConfig,
    classify,
    fdr_cutoff,
    gistar,
    gistar_grid,
    gistar_polygons,
    grid_neighbours,
    hotspot_gistar,
)
from hotspots.errors import ConfigError
from hotspots.geo.grid import Grid


@pytest.fixture(scope="module")
def barnet(shared_data):
    import geopandas as gpd

    outline = gpd.read_file(shared_data / "boundaries" / "barnet_borough_outline.geojson").to_crs(27700)
    grid = Grid.from_boundary(outline.geometry.union_all(), 100)
    d = pd.read_csv(
        shared_data / "crime" / "barnet_burglary_policeuk_2010-12_2024-02.csv.gz", usecols=["Month", "x_bng", "y_bng"]
    )
    counts = grid.counts(d["x_bng"].to_numpy(float), d["y_bng"].to_numpy(float))
    return grid, counts, d


@pytest.fixture(scope="module")
def barnet_w(barnet):
    """libpysal distance-band weights on the cell centres, equivalent to our queen band."""
    from libpysal.weights import DistanceBand

    grid, _, _ = barnet
    xc, yc = grid.centres()
    rows, cols = np.nonzero(grid.mask)
    pts = np.column_stack([xc[rows, cols], yc[rows, cols]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistanceBand(pts, threshold=grid.cell_size * math.sqrt(2) + 1e-6, binary=True, silence_warnings=True)


def test_z_equals_esda_on_barnet_grid(barnet, barnet_w):
    import esda

    grid, counts, _ = barnet
    res = gistar_grid(counts, grid)
    assert res.n == grid.n_cells > 8000
    # the neighbour sets are the same as libpysal's
    ip, ix = grid_neighbours(grid.mask, grid.cell_size)
    for i in range(0, res.n, 97):
        assert set(ix[ip[i] : ip[i + 1]].tolist()) == set(barnet_w.neighbors[i])
    e = esda.G_Local(res.y, barnet_w, star=True, transform="B", permutations=0)
    assert np.max(np.abs(res.z - e.Zs)) < 1e-8
    assert np.max(np.abs(res.G - e.Gs)) < 1e-12
    # our p_norm is two-sided, esda's is one-sided
    assert np.allclose(res.p_norm, 2 * e.p_norm, rtol=1e-9, atol=1e-15)


def test_fdr_cutoff_equals_esda(barnet):
    import esda

    grid, counts, _ = barnet
    res = gistar_grid(counts, grid)
    for alpha in (0.01, 0.05, 0.10):
        assert fdr_cutoff(res.p_norm, alpha) == esda.fdr(res.p_norm, alpha)
    rng = np.random.default_rng(3)
    for _ in range(20):
        p = np.concatenate([rng.uniform(0, 1, 300), rng.uniform(0, 0.002, rng.integers(0, 30))])
        assert fdr_cutoff(p, 0.05) == esda.fdr(p, 0.05)
    # no p passes: esda returns the Bonferroni bound
    assert fdr_cutoff(np.full(50, 0.9), 0.05) == esda.fdr(np.full(50, 0.9), 0.05) == 0.05 / 50
    assert res.cutoffs[95] == esda.fdr(res.p_norm, 0.05)
    # on permutation pseudo p-values too (many ties at 1/(P+1))
    perm = gistar_grid(counts, grid, permutations=999, seed=4, p_value="sim")
    for alpha in (0.01, 0.05, 0.10):
        assert fdr_cutoff(perm.p_sim, alpha) == esda.fdr(perm.p_sim, alpha)
    p_two = np.minimum(1.0, 2 * perm.p_sim_directed)
    assert perm.cutoffs[90] == esda.fdr(p_two, 0.10)


def test_polygons_queen_equals_esda(shared_data, barnet):
    import esda
    import geopandas as gpd
    from libpysal.weights import Queen

    wards = gpd.read_file(shared_data / "boundaries" / "barnet_wards_2002_2022.geojson").to_crs(27700)
    _, _, d = barnet
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(d["x_bng"], d["y_bng"]), crs=27700)
    j = gpd.sjoin(pts, wards[["ward_code", "geometry"]], predicate="within")
    wards["n"] = wards["ward_code"].map(j["ward_code"].value_counts()).fillna(0).to_numpy()
    res = gistar_polygons(wards, "n", contiguity="queen")
    w = Queen.from_dataframe(wards, use_index=False, silence_warnings=True)
    e = esda.G_Local(wards["n"].to_numpy(float), w, star=True, transform="B", permutations=0)
    assert np.max(np.abs(res.z - e.Zs)) < 1e-8
    assert list(res.to_frame()["ward_code"]) == list(wards["ward_code"])


def numpy_permutation_counts(y, indptr, indices, draws):
    """Reference for the permutation kernel: the same conditional scheme in plain numpy."""
    n = y.size
    ge = np.zeros(n, dtype=int)
    le = np.zeros(n, dtype=int)
    for i in range(n):
        nb = indices[indptr[i] : indptr[i + 1]]
        obs = y[i] + y[nb].sum()
        others = np.delete(np.arange(n), i)
        sims = y[i] + y[others[draws[:, : nb.size]]].sum(axis=1)
        tol = 1e-9 * max(1.0, abs(obs))  # sums equal up to rounding are ties
        ge[i] = (sims >= obs - tol).sum()
        le[i] = (sims <= obs + tol).sum()
    return ge, le


def test_permutation_kernel_matches_numpy_reference():
    rng = np.random.default_rng(11)
    mask = np.ones((9, 11), dtype=bool)
    mask[0, :3] = False
    mask[5:, 8:] = False
    ip, ix = grid_neighbours(mask, 50.0)
    n = int(mask.sum())
    harm = rng.choice([438.0, 709.3, 746.0, 13.0], n) * rng.poisson(1.0, n)  # sums of weights tie often
    for y in (rng.poisson(1.5, n).astype(float), rng.gamma(2.0, 3.0, n), harm):
        draws = _kernels.permutation_draws(n, int(np.diff(ip).max()), 499, 5)
        assert draws.shape == (499, 8) and draws.min() >= 0 and draws.max() <= n - 2
        assert all(len(set(row)) == row.size for row in draws)  # without replacement
        ge, le = _kernels.gistar_permutation_counts(y, ip, ix, draws)
        rge, rle = numpy_permutation_counts(y, ip, ix, draws)
        assert np.array_equal(ge, rge) and np.array_equal(le, rle)
    # the draws cover the other sites evenly (chi-square on 499*8 draws over n-1 values)
    counts = np.bincount(draws.ravel(), minlength=n - 1)
    expected = draws.size / (n - 1)
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < (n - 2) + 5 * math.sqrt(2 * (n - 2))


def test_permutations_seeded_and_directed():
    rng = np.random.default_rng(2)
    grid = Grid.from_boundary(shapely.box(0, 0, 2000, 2000), 100)
    y = rng.poisson(0.5, grid.shape).astype(float)
    y[3:6, 3:6] += 6  # a hot block
    y[14:17, 14:17] = 0
    a = gistar_grid(y, grid, permutations=199, seed=9)
    b = gistar_grid(y, grid, permutations=199, seed=9)
    c = gistar_grid(y, grid, permutations=199, seed=10)
    assert np.array_equal(a.p_sim, b.p_sim) and not np.array_equal(a.p_sim, c.p_sim)
    assert a.p_sim.min() >= 1 / 200 and a.p_sim.max() <= 0.5 + 1e-12
    centre = grid.ncols * 4 + 4
    k = np.nonzero(a.rows * grid.ncols + a.cols == centre)[0][0]
    assert a.z[k] > 3 and a.p_sim_directed[k] == pytest.approx(1 / 200)
    s = gistar_grid(y, grid, permutations=199, seed=9, p_value="sim", correction="none")
    assert np.all(s.classes[s.z < 0] <= 0)
    # 199 permutations cannot resolve two-sided p below 2/200 = 0.01, so 95% is the most it can reach
    assert s.classes[k] == 2 and s.classes.max() == 2


def test_classify_bins_and_direction():
    z = np.array([4.0, -4.0, 2.2, -2.2, 1.7, 0.1, -1.0])
    p = np.array([6e-5, 6e-5, 0.028, 0.028, 0.089, 0.92, 0.32])
    bins, cut = classify(z, p, "none")
    assert bins.tolist() == [3, -3, 2, -2, 1, 0, 0]
    assert cut == {90: 0.10, 95: 0.05, 99: 0.01}
    bins_b, _ = classify(z, p, "bonferroni")  # alpha / 7
    assert bins_b.tolist() == [3, -3, 0, 0, 0, 0, 0]
    # a tiny p with negative z is a cold spot, never hot
    assert classify(np.array([-5.0, 0.5, 0.2]), np.array([1e-7, 0.6, 0.8]), "fdr")[0].tolist() == [-3, 0, 0]
    # FDR lets through more than Bonferroni and no more than uncorrected
    rng = np.random.default_rng(1)
    zz = np.concatenate([rng.normal(0, 1, 900), rng.normal(3.5, 1, 100)])
    from scipy.stats import norm

    pp = 2 * norm.sf(np.abs(zz))
    nb = (classify(zz, pp, "bonferroni")[0] >= 2).sum()
    nf = (classify(zz, pp, "fdr")[0] >= 2).sum()
    nn = (classify(zz, pp, "none")[0] >= 2).sum()
    assert nb < nf < nn


def test_config_and_errors():
    from hotspots.config import build_section

    c = build_section(
        GiStarConfig, {"permutations": 999, "p_value": "sim", "correction": "bonferroni"}, "r.toml", "gistar"
    )
    assert c.permutations == 999
    with pytest.raises(ConfigError, match="permutations > 0"):
        build_section(GiStarConfig, {"p_value": "sim"}, "r.toml", "gistar")
    with pytest.raises(ConfigError, match="correction"):
        build_section(GiStarConfig, {"correction": "holm"}, "r.toml", "gistar")
    with pytest.raises(ConfigError):
        gistar(np.ones(5), np.zeros(6, dtype=np.int64), np.zeros(0, dtype=np.int64), correction="x")


def test_demo_planted_robbery_hotspots_found(demo_config_path, repo):
    """Planted town-centre (and 'stopping') robbery hotspots are 99% FDR hot spots; none far from them."""
    import geopandas as gpd

    truth = json.loads((repo / "data" / "incidents" / "planted_truth.json").read_text())
    wards = gpd.read_file(repo / "data" / "boundaries" / "wards.geojson").to_crs(27700)
    grid = Grid.from_boundary(wards.geometry.union_all(), 0)
    inc = pd.read_csv(repo / "data" / "incidents" / "incidents.csv")
    rob = inc[inc["offence"] == "Robbery of personal property"]
    res = hotspot_gistar(rob[["easting", "northing"]].to_numpy(float), grid, correction="fdr")
    planted = [(c["x"], c["y"]) for c in truth["town_centres"]] + [(truth["stopping"]["x"], truth["stopping"]["y"])]
    xc, yc = grid.centres()
    xs, ys = xc[res.rows, res.cols], yc[res.rows, res.cols]
    for px, py in planted:
        k = np.argmin(np.hypot(xs - px, ys - py))
        assert res.classes[k] == 3, f"planted robbery hotspot at {px:.0f},{py:.0f} not a 99% hot spot"
    # hot cells (99%, FDR) more than 4 NTE sigmas (800 m) from every planted source
    sigma = truth["night_time_economy"]["sigma_m"]
    dist = np.min(np.hypot(xs[:, None] - np.array(planted)[:, 0], ys[:, None] - np.array(planted)[:, 1]), axis=1)
    hot = res.classes == 3
    assert hot.sum() >= len(planted)
    assert (hot & (dist > 4 * sigma)).sum() <= math.floor(0.01 * hot.sum())


@pytest.mark.slow
def test_permutation_p_consistent_with_esda(barnet, barnet_w):
    """9,999 conditional permutations: our p_sim and esda's agree within sampling error."""
    import esda

    grid, counts, _ = barnet
    P = 9999
    ours = gistar_grid(counts, grid, permutations=P, seed=1)
    e = esda.G_Local(ours.y, barnet_w, star=True, transform="B", permutations=P, seed=1, n_jobs=1)
    diff = np.abs(ours.p_sim - e.p_sim)
    p = np.clip((ours.p_sim + e.p_sim) / 2, 1 / (P + 1), 0.5)
    bound = 4.5 * np.sqrt(2 * p * (1 - p) / P) + 2 / (P + 1)  # 4.5 sd of a difference of two estimates
    assert np.all(diff <= bound)
    assert np.quantile(diff, 0.999) <= 0.02
    assert diff.mean() < 0.005
    assert fdr_cutoff(e.p_sim, 0.05) == esda.fdr(e.p_sim, 0.05)
