"""Numba discipline: every kernel caches its machine code on disk, and every kernel compiles exactly one
signature however its public function is called (float32, int32, Fortran order, read-only pandas
columns, lists), so a cold start compiles each kernel once."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "hotspots"
NUMBA_DECORATORS = {"njit", "jit", "vectorize", "guvectorize", "stencil", "cfunc"}


def _decorator_name(node: ast.expr) -> str | None:
    """'njit' for njit, njit(...), numba.njit, numba.njit(...); None for anything else."""
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        name = target.id
    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "numba":
        name = target.attr
    else:
        return None
    return name if name in NUMBA_DECORATORS else None


def numba_kernels() -> list[tuple[str, str, int, bool]]:
    """(module, function, line, cache=True?) for every numba-compiled function under src/hotspots.

    Finds decorators (``@njit``, ``@njit(...)``, ``@numba.jit(...)``) and the call form
    ``njit(...)(f)`` / ``njit(f)``.
    """
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

        def cached(node: ast.expr) -> bool:
            return isinstance(node, ast.Call) and any(
                kw.arg == "cache" and isinstance(kw.value, ast.Constant) and kw.value.value is True
                for kw in node.keywords
            )

        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for dec in node.decorator_list:
                    if _decorator_name(dec):
                        found.append((module, node.name, node.lineno, cached(dec)))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Call) and _decorator_name(node.func.func):
                found.append(
                    (module, ast.unparse(node.args[0]) if node.args else "?", node.lineno, cached(node.func))
                )  # njit(cache=True)(f)
            elif (
                isinstance(node, ast.Call)
                and _decorator_name(node.func)
                and node.args
                and isinstance(node.args[0], (ast.Name, ast.Lambda))
            ):
                found.append((module, ast.unparse(node.args[0]), node.lineno, False))  # njit(f): no options
    return found


def test_every_numba_kernel_is_cached_on_disk():
    kernels = numba_kernels()
    assert len(kernels) >= 25, f"expected the engine's numba kernels, found {kernels}"
    missing = [f"{m}.{f} (line {n})" for m, f, n, ok in kernels if not ok]
    assert not missing, "numba kernels without cache=True (each would recompile in every process): " + ", ".join(
        missing
    )


def test_cache_flag_seen_by_numba_itself():
    """The imported dispatchers carry a disk cache (numba's own view of the decorator)."""
    import importlib

    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    kernels = numba_kernels()
    seen = 0
    for module in sorted({m for m, *_ in kernels}):
        mod = importlib.import_module(module)
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == module:
                assert not isinstance(obj._cache, NullCache), f"{module}.{name} has no disk cache"
                seen += 1
    assert seen == len(kernels)


# Each public function that reaches a kernel is called twice, first with plain float64/int64
# arrays, then with other dtypes, memory orders and read-only views. Afterwards every
# dispatcher must hold one compiled signature (none for kernels this sequence does not reach).
SEQUENCE = r"""
import importlib, json, sys, tempfile
from pathlib import Path
import numpy as np, pandas as pd, geopandas as gpd, shapely, scipy.sparse as sp
from numba.core.registry import CPUDispatcher

from hotspots.geo.grid import Grid
from hotspots.analysis.density import density_surface
from hotspots.analysis.gistar import gistar, gistar_grid, gistar_polygons
from hotspots.analysis.knox import knox_test
from hotspots.analysis.local_knox import local_knox
from hotspots.analysis.prospective import prospective_surface
from hotspots.analysis.aoristic import aoristic_weights
from hotspots.analysis.trends import TrendsConfig, emerging_hotspots, mann_kendall, spacetime_gistar
from hotspots.analysis.neighbours import grid_neighbours
from hotspots.coverage.viewshed import Obstruction, visibility_pairs, viewshed_raster, viewshed_polygons
from hotspots.coverage.siting import greedy_interchange
from hotspots.scale.tiles import tiled_density_surface
from hotspots.forecast.etas import SelfExciting, fit_etas
from hotspots.forecast.harness import EventTable, History, Horizon
from hotspots.forecast.methods import LearnedRisk
from hotspots.forecast.trees import FittedModels
from hotspots.analysis.dosage import detect_visits
from hotspots.analysis.robustness import hotspot_robustness
from hotspots.ingest.pings import read_pings
from hotspots._numba_ready import load_numba

load_numba()
rng = np.random.default_rng(0)
grid = Grid.from_boundary(shapely.box(0, 0, 2000, 1500), 100)
n = 400
x64 = rng.uniform(0, 2000, n); y64 = rng.uniform(0, 1500, n)
days = rng.integers(0, 400, n)
frame = pd.DataFrame({"x": x64.round(), "y": y64.round(), "t": days.astype(float), "w": rng.uniform(1, 3, n)})

def variants(k):
    '''k = 0: float64/int64 numpy arrays; k = 1: int32, float32, read-only pandas columns, lists.'''
    if k == 0:
        return x64, y64, days.astype(float), np.ones(n)
    return (frame["x"].to_numpy(), frame["y"].astype(np.float32).to_numpy(),
            frame["t"].to_numpy(), list(frame["w"].astype(np.float32)))

start = pd.Timestamp("2024-01-01", tz="Europe/London") + pd.to_timedelta(days, unit="D")
inc = gpd.GeoDataFrame({"x": x64, "y": y64, "start": start, "end": start + pd.Timedelta(hours=3),
                        "time_precision": "minute", "crime_type": "burglary", "harm": 1.0},
                       geometry=gpd.points_from_xy(x64, y64), crs=27700)
cams = pd.DataFrame({"x": [500.0, 1500.0, 900.0], "y": [700.0, 800.0, 300.0], "range_m": [200.0, 150.0, 180.0],
                     "bearing_deg": [0.0, 90.0, 200.0], "fov_deg": [90.0, 360.0, 60.0]})
cams_int = cams.astype({"x": np.int32, "y": np.int64, "range_m": np.int32, "fov_deg": np.int32})
cams_int["mount_height_m"] = np.full(3, 5, dtype=np.int32)
heights = rng.uniform(0, 12, (300, 400)) * (rng.uniform(size=(300, 400)) < 0.05)
wards = gpd.GeoDataFrame(geometry=[shapely.box(i * 100, j * 100, (i + 1) * 100, (j + 1) * 100)
                                   for i in range(5) for j in range(4)], crs=27700)
# patrol places (two overlap, one has a hole) and pings of three units crossing them every 10 s
places = gpd.GeoDataFrame({"item_id": ["P1", "P2", "P3"]},
                          geometry=[shapely.box(400, 400, 600, 600), shapely.box(550, 550, 700, 700),
                                    shapely.box(1000, 200, 1400, 600).difference(shapely.box(1100, 300, 1200, 400))],
                          crs=27700)
m = 600
ping_t = pd.Timestamp("2025-06-02 08:00", tz="Europe/London") + pd.to_timedelta(np.arange(m) * 10, unit="s")
ping_x = np.r_[np.linspace(300, 800, m // 3), np.full(m // 3, 450.0), np.linspace(900, 1500, m // 3)]
ping_y = np.r_[np.linspace(300, 800, m // 3), np.full(m // 3, 500.0), np.full(m // 3, 250.0)]
pings = pd.DataFrame({"unit": np.repeat(["U1", "U2", "U3"], m // 3), "time": np.tile(ping_t[: m // 3], 3),
                      "x": ping_x, "y": ping_y})
# a cluster on top of the uniform incidents, so that the robustness sweep has hotspots to find
cx = np.r_[x64, rng.normal(1000, 60, 150)]; cy = np.r_[y64, rng.normal(700, 60, 150)]
clustered = gpd.GeoDataFrame({"x": cx, "y": cy, "w": rng.uniform(1, 3, cx.size)},
                             geometry=gpd.points_from_xy(cx, cy), crs=27700)
ping_dir = Path(tempfile.mkdtemp())

for k in (0, 1):
    x, y, t, w = variants(k)
    density_surface(x, y, grid, 250.0, weights=w)
    density_surface(x, y, grid, 250.0, kernel="gaussian")
    tiled_density_surface(x, y, grid, 250.0, weights=w, tile_cells=8)
    counts = grid.counts(np.asarray(x, float), np.asarray(y, float))
    gistar_grid(counts if k == 0 else counts.astype(np.int32).T.copy().T, grid, permutations=19, seed=1)
    ip, ix = grid_neighbours(grid.mask, grid.cell_size)
    vals = counts[grid.mask]
    gistar(vals if k == 0 else list(vals.astype(int)), ip if k == 0 else ip.astype(np.int32),
           ix if k == 0 else ix.astype(np.int32), permutations=9)
    gistar_polygons(wards, np.arange(20.0) if k == 0 else np.arange(20, dtype=np.int32))
    knox_test(x, y, t, permutations=9)                     # whole days: look-up table
    knox_test(x, y, np.asarray(t, float) + 0.25 * k + 0.1, permutations=9)  # fractional days
    local_knox(x, y, t, permutations=9)
    prospective_surface(x, y, t, grid, 300 if k else 300.0)
    aoristic_weights(start, start + pd.Timedelta(hours=5 + k))
    res = emerging_hotspots(inc, grid, "2025-02-01", TrendsConfig(step_days=28, min_steps=6,
                                                                   share=1 if k else 0.9))
    cube = res.counts if k == 0 else np.asfortranarray(res.counts.astype(np.float32))
    spacetime_gistar(cube, grid.mask, 1 + k)
    mann_kendall(cube.T, k)
    cam = cams if k == 0 else cams_int
    obs = Obstruction(heights if k == 0 else np.asfortranarray(heights.astype(np.float32)), 0, 1500, 5.0)
    visibility_pairs(cam, x, y)
    visibility_pairs(cam, x, y, obs)
    viewshed_raster(cam, obs)
    viewshed_polygons(cam, obs)
    A = sp.random(60, 25, density=0.2, random_state=k, format="csr")
    A.data[:] = 1
    weights = rng.uniform(0, 5, 60).astype([np.float64, np.float32][k])
    greedy_interchange(A if k == 0 else A.astype(np.int32).tocsc(), weights, 4,
                       fixed=None if k == 0 else np.zeros(60, dtype=np.int8))
    bg = np.full(n, 1 / 3e6) if k == 0 else list(np.full(n, 1 / 3e6, dtype=np.float32))
    fit_etas(x, y, t, bg, -1.0, 401.0, max_lag_days=30 + k, max_distance_m=500 if k else 500.0, max_iter=5)
    hist = History(EventTable.from_incidents(inc), pd.Timestamp("2025-01-20", tz="Europe/London"), Horizon(14), grid)
    SelfExciting(random_state=k).fit(hist).predict(hist.origin, hist.horizon)
    learned = LearnedRisk(n_train_origins=3, with_prospective=False, random_state=k).fit(hist)
    if k == 0:
        learned.predict(hist.origin, hist.horizon)
    else:  # the trees read back from the forecast cache's arrays; float32 rows in reverse order
        kept = FittedModels.from_arrays(FittedModels((learned.model_,), 1).to_arrays())
        kept.ensembles[0].predict(learned.X_now_.astype(np.float32)[::-1])
    if k == 0:
        detect_visits(pings, places, crs=27700)
    else:  # float32 / whole-metre positions, times in milliseconds, another time zone, unsorted, a given gap
        p1 = pings.sample(frac=1.0, random_state=1).astype({"x": np.float32, "y": np.int32})
        p1["time"] = p1["time"].dt.tz_convert("UTC").astype("datetime64[ms, UTC]")
        detect_visits(p1, places, crs="EPSG:27700", max_gap_s=150, buffer_m=0)
    csv = ping_dir / f"pings{k}.csv"
    if k == 0:  # longitude/latitude with UTC offsets, one impossible jump
        lon, lat = np.linspace(-0.25, -0.20, 40), np.linspace(51.60, 51.62, 40)
        lat[10] = 51.9
        pd.DataFrame({"callsign": ["A"] * 20 + ["B"] * 20,
                      "timestamp": [f"2025-06-02T08:{i:02d}:00+01:00" for i in range(20)] * 2,
                      "longitude": lon, "latitude": lat}).to_csv(csv, index=False)
        read_pings(csv)
    else:  # British National Grid x/y with local times, a jump and a repeated time
        xs = np.r_[np.linspace(520000, 521000, 30), 520990.0]
        xs[15] = 530000.0
        pd.DataFrame({"unit": ["C"] * 31, "time": [f"02/06/2025 09:{i:02d}" for i in range(30)] + ["02/06/2025 09:29"],
                      "easting": xs.round(), "northing": np.full(31, 185000)}).to_csv(csv, index=False)
        read_pings(csv, crs="EPSG:27700", max_speed_mps=30.0, confirm_pings=2)
    hotspot_robustness(clustered, grid, method="gistar" if k == 0 else "kde", scales=(1.0, 2.0),
                       shifts=((0.0, 0.0), (0.5, 0.5)), radius_scales=(0.5, 1.0),
                       weights=None if k == 0 else "w", min_cells=1 + k)

out = {}
for module in sys.argv[1:]:
    mod = importlib.import_module(module)
    for name, obj in vars(mod).items():
        if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == module:
            out[f"{module}.{name}"] = [str(s) for s in obj.signatures]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_each_kernel_compiles_one_signature_whatever_the_input_types(tmp_path):
    """A fresh process with an empty numba cache (so helpers called from inside other kernels
    compile too and show their signatures) runs the sequence above."""
    import os

    modules = sorted({m for m, *_ in numba_kernels()})
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    r = subprocess.run(
        [sys.executable, "-c", SEQUENCE, *modules], cwd=REPO, capture_output=True, text=True, timeout=900, env=env
    )
    assert r.returncode == 0, r.stderr[-4000:]
    sigs = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(sigs) == len(numba_kernels())
    several = {k: v for k, v in sigs.items() if len(v) > 1}
    assert not several, "kernels compiled more than once:\n" + "\n".join(
        f"{k}:\n  " + "\n  ".join(v) for k, v in several.items()
    )
    # the sequence reaches every kernel, helpers included
    unreached = sorted(k for k, v in sigs.items() if not v)
    assert unreached == [], f"the sequence no longer reaches {unreached}"
