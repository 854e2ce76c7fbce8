"""Scale: the synthetic London generator, per-tile KDE, lazy imports and the numba cache."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.analysis.density import density_surface
from hotspots.geo.grid import Grid
from hotspots.scale.tiles import kernel_reach, plan_tiles, tiled_density_surface

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


# --------------------------------------------------------------------------- per-tile KDE
def _points(n=3000, seed=5, x0=530_000.0, y0=180_000.0, size=6000.0):
    rng = np.random.default_rng(seed)
    # clustered + uniform, some points outside the grid and a NaN, as real data has
    c = rng.normal([x0 + size * 0.3, y0 + size * 0.6], 250.0, (n // 2, 2))
    u = rng.uniform([x0 - 500, y0 - 500], [x0 + size + 500, y0 + size + 500], (n - n // 2, 2))
    xy = np.vstack([c, u])
    xy[7] = np.nan
    w = rng.uniform(0.5, 3.0, len(xy))
    return xy[:, 0], xy[:, 1], w


def _grid(cell):
    poly = shapely.Polygon([(530_000, 180_000), (536_000, 180_400), (535_200, 186_000), (530_600, 185_100)])
    return Grid.from_boundary(poly, cell)


@pytest.mark.parametrize("kernel", ["quartic", "epanechnikov", "gaussian"])
def test_tiled_kde_is_bitwise_equal_to_untiled(kernel):
    x, y, w = _points()
    grid = _grid(50.0)
    ref = density_surface(x, y, grid, 400.0, kernel=kernel, weights=w)
    tiles = plan_tiles(grid, 17)
    assert len(tiles) > 20  # many tiles, so halos matter
    got = tiled_density_surface(x, y, grid, 400.0, kernel=kernel, weights=w, tile_cells=17)
    assert np.array_equal(np.isnan(ref), np.isnan(got))
    assert np.array_equal(ref[grid.mask], got[grid.mask])  # identical, not merely close
    assert np.nanmax(ref) > 0


def test_tiled_kde_without_halo_would_differ():
    """The halo is what makes tiles exact: dropping points outside each tile changes edge cells."""
    from hotspots.scale import tiles as T

    x, y, _ = _points()
    grid = _grid(50.0)
    ref = density_surface(x, y, grid, 400.0)
    out = np.zeros(grid.shape)
    for t in plan_tiles(grid, 17):
        idx = T.tile_points(x, y, grid, t, 0.0)  # no halo
        out[t.row0 : t.row1, t.col0 : t.col1] = T.kde_tile(
            x[idx], y[idx], np.ones(idx.size), grid.xmin, grid.ymax, grid.cell_size, t, 400.0, "quartic"
        )
    out *= 1e6
    assert not np.allclose(ref[grid.mask], out[grid.mask])


def test_tiled_kde_unaligned_cell_size_matches_to_rounding():
    x, y, w = _points(seed=9)
    grid = _grid(37.3)
    ref = density_surface(x, y, grid, 250.0, weights=w)
    got = tiled_density_surface(x, y, grid, 250.0, weights=w, tile_cells=23)
    np.testing.assert_allclose(got[grid.mask], ref[grid.mask], rtol=1e-12, atol=1e-9)


def test_kernel_reach_matches_density_kernel():
    from hotspots.analysis import _kernels

    assert kernel_reach(300.0, "quartic") == 300.0
    assert kernel_reach(300.0, "gaussian") == pytest.approx(
        _kernels.GAUSS_TRUNCATE_SIGMAS * 300.0 / _kernels.GAUSS_SIGMAS_PER_RADIUS
    )


# --------------------------------------------------------------------------- synthetic London
@pytest.fixture(scope="module")
def small_london(tmp_path_factory):
    from hotspots.scale.london import LondonParams, generate_london

    root = tmp_path_factory.mktemp("london")
    return generate_london(root, LondonParams(n_incidents=1234, n_boroughs=2, n_wards=3, cell_size_m=200.0))


def test_london_dataset_has_exactly_n_incidents_and_matches_csv(small_london):
    from hotspots.scale.london import read_dataset

    ds = small_london
    assert ds.n_incidents == 1234
    g = read_dataset(ds.root)
    assert len(g) == 1234
    assert g.crs.to_epsg() == 27700
    assert g["incident_id"].is_unique
    assert sorted(g["borough"].unique()) == ["LB01", "LB02"]
    assert sorted(p.name for p in ds.dataset.iterdir()) == ["borough=LB01", "borough=LB02"]
    for code in ds.boroughs:
        csv = pd.read_csv(ds.root / "boroughs" / code / "incidents" / "incidents.csv", dtype=str)
        part = read_dataset(ds.root, boroughs=[code])
        assert len(csv) == len(part) == ds.counts[code]
        assert (code + "-" + csv["ref"]).tolist() == part["incident_id"].tolist()
        assert np.array_equal(csv["easting"].astype(int).to_numpy(), part.geometry.x.to_numpy().astype(int))
        assert np.array_equal(csv["northing"].astype(int).to_numpy(), part["northing"].to_numpy())
        assert (pd.to_datetime(csv["committed_from"]) == part["committed_from"]).all()
    # the two boroughs are separate areas ~15 km apart
    b1 = read_dataset(ds.root, boroughs=["LB01"])
    b2 = read_dataset(ds.root, boroughs=["LB02"])
    assert shapely.MultiPoint(b1.geometry.to_numpy()).convex_hull.disjoint(
        shapely.MultiPoint(b2.geometry.to_numpy()).convex_hull
    )


def test_london_configs_ingest_every_row(small_london):
    from hotspots.config import load_config
    from hotspots.stages.inputs import load_incidents, load_study_area

    cfg = load_config(small_london.configs[1])
    area = load_study_area(cfg)
    res = load_incidents(cfg, area)
    assert len(res.incidents) == small_london.counts["LB02"]
    assert len(area.wards) == 3
    assert cfg.grid.cell_size_m == 200.0


def test_london_configs_fix_the_forecast_method_and_are_rewritten_unchanged(small_london):
    from hotspots.config import load_config
    from hotspots.scale.london import borough_configs, write_borough_configs

    cfg = load_config(small_london.configs[0])
    assert cfg.forecast.method == "learned"  # a force-wide run: no per-borough backtest of every candidate
    before = {p.name: p.read_bytes() for p in borough_configs(small_london.root)}
    p0 = small_london.configs[0]
    p0.write_text(p0.read_text().replace('method = "learned"', 'method = "auto"'))
    assert load_config(p0).forecast.method == "auto"
    written = write_borough_configs(small_london.root)
    assert [p.name for p in written] == sorted(before)
    assert {p.name: p.read_bytes() for p in written} == before


def test_write_borough_configs_refuses_a_folder_that_is_not_a_dataset(tmp_path):
    from hotspots.errors import ConfigError
    from hotspots.scale.london import write_borough_configs

    with pytest.raises(ConfigError, match=r"london\.json"):
        write_borough_configs(tmp_path)


def test_london_generator_is_deterministic(small_london, tmp_path):
    from hotspots.scale.london import LondonParams, generate_london

    again = generate_london(
        tmp_path / "again", LondonParams(n_incidents=1234, n_boroughs=2, n_wards=3, cell_size_m=200.0)
    )
    for code in again.boroughs:
        rel = Path("boroughs") / code / "incidents" / "incidents.csv"
        assert (again.root / rel).read_bytes() == (small_london.root / rel).read_bytes()


def test_borough_centres_are_far_enough_apart():
    from hotspots.scale.london import borough_centres

    c = borough_centres(33, 15_000.0)
    d = np.hypot(c[:, None, 0] - c[None, :, 0], c[:, None, 1] - c[None, :, 1])
    np.fill_diagonal(d, np.inf)
    assert len(np.unique(c, axis=0)) == 33
    assert d.min() == pytest.approx(15_000.0)


# --------------------------------------------------------------------------- cold start
HEAVY = (
    "geopandas",
    "numba",
    "sklearn",
    "folium",
    "pandas",
    "scipy",
    "shapely",
    "matplotlib",
    "dask",
    "distributed",
    "rasterio",
    "esda",
    "libpysal",
    "pyarrow",
)


def test_help_imports_no_heavy_library():
    """`hotspots --help` must stay quick: none of the heavy libraries may be imported for it."""
    r = subprocess.run(
        [PY, "-X", "importtime", "-m", "hotspots.cli", "--help"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "london-data" in r.stdout and "run-boroughs" in r.stdout
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in r.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "hotspots" in imported  # the parse worked
    heavy = sorted(set(HEAVY) & imported)
    assert heavy == [], f"`hotspots --help` imports {heavy}; import them inside the commands instead"


def test_run_help_lists_scheduler():
    r = subprocess.run(
        [PY, "-m", "hotspots.cli", "run", "--help"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert r.returncode == 0 and "--scheduler" in r.stdout


def _jit_decorators(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for d in node.decorator_list:
                target = d.func if isinstance(d, ast.Call) else d
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                if name in ("njit", "jit", "vectorize", "guvectorize", "generated_jit"):
                    yield node.name, d


def test_every_numba_function_caches_to_disk():
    src = REPO / "src" / "hotspots"
    found, missing = 0, []
    for f in sorted(src.rglob("*.py")):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for name, d in _jit_decorators(tree):
            found += 1
            ok = isinstance(d, ast.Call) and any(
                k.arg == "cache" and isinstance(k.value, ast.Constant) and k.value.value is True for k in d.keywords
            )
            if not ok:
                missing.append(f"{f.relative_to(src)}:{name}")
    assert found >= 5
    assert missing == [], f"numba functions without cache=True (recompiled in every process): {missing}"


_CACHE_PROBE = """
import numpy as np
from hotspots.analysis import _kernels
x = np.array([530050.0, 530120.0]); y = np.array([180050.0, 180020.0])
_kernels.kde_grid(x, y, np.ones(2), 530000.0, 180200.0, 50.0, 4, 4, 100.0, 0)
"""


def test_numba_cache_is_reused_by_a_fresh_process(tmp_path):
    """A second fresh process loads the compiled KDE kernel from the on-disk cache instead of compiling."""
    env = dict(os.environ, NUMBA_DEBUG_CACHE="1", NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    first = subprocess.run([PY, "-c", _CACHE_PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "[cache] data saved to" in first.stdout + first.stderr
    second = subprocess.run([PY, "-c", _CACHE_PROBE], capture_output=True, text=True, env=env, timeout=120)
    out = second.stdout + second.stderr
    assert second.returncode == 0, out[-2000:]
    assert "[cache] data loaded from" in out
    assert "[cache] data saved to" not in out  # nothing recompiled


# --------------------------------------------------------------------------- [scale] config
def test_scale_config_section(small_london, tmp_path):
    from hotspots.config import load_config
    from hotspots.errors import ConfigError
    from hotspots.scale.distributed import configured_scheduler

    src = small_london.configs[0].read_text()
    cfg_dir = small_london.configs[0].parent

    def cfg_with(extra: str):
        p = cfg_dir / "scale_probe.toml"
        p.write_text(src + "\n" + extra)
        try:
            return load_config(p)
        finally:
            p.unlink()

    assert configured_scheduler(cfg_with("")) == ""
    c = cfg_with('[scale]\nscheduler = "tcp://10.0.0.5:8786"\nretries = 4\n')
    assert configured_scheduler(c) == "tcp://10.0.0.5:8786" and c.scale.retries == 4
    # a wrong [scale] section stops loading the config, before anything runs
    with pytest.raises(ConfigError, match=re.escape("scale.workers")):
        cfg_with("[scale]\nworkers = 3\n")
    with pytest.raises(ConfigError, match="not an address"):
        cfg_with('[scale]\nscheduler = "bigcluster"\n')
    with pytest.raises(ConfigError, match="retries"):
        cfg_with("[scale]\nretries = -1\n")
