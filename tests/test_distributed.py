"""Distributed runs on a real (local, multi-process) Dask cluster give the serial run's results.

One LocalCluster(n_workers=2, threads_per_worker=1, processes=True) serves the module.
A worker is killed on purpose with a worker plugin that patches the pipeline inside
the worker process: once (the task must be retried and the pack still be identical),
and on every attempt (the run must stop with a clear error and leave no pack).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402  (comes with distributed)
import dask  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from distributed.diagnostics.plugin import WorkerPlugin  # noqa: E402

from hotspots.errors import HotspotsError  # noqa: E402
from hotspots.stages.forecast import CACHE_FOLDER  # noqa: E402

FIM_DATE = "2025-11-14"

# the worker plugins below are defined here, so ship this module's code by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client():
    # a task whose worker dies is re-run once; a second death is a KilledWorker error
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        c = Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def london(tmp_path_factory):
    from hotspots.scale.london import LondonParams, generate_london

    ds = generate_london(
        tmp_path_factory.mktemp("london"), LondonParams(n_incidents=700, n_boroughs=2, n_wards=2, cell_size_m=400.0)
    )
    for cfg in ds.configs:  # two crime types keep the packs small (the test is about equality, not coverage)
        text = cfg.read_text()
        cfg.write_text(text.replace("[analysis]\n", '[analysis]\ncrime_types = ["burglary_residential", "violence"]\n'))
    return ds


# --------------------------------------------------------------------------- comparing packs
def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack_contents(folder: Path) -> dict:
    """Every data product of a pack, reduced to comparable digests.

    CSV/JSON files byte for byte; GeoTIFF pixels and transform; every GeoPackage layer's
    attributes and geometries (the container stores a write time); the manifest without
    its clock fields. HTML pages are listed by name only (map widgets get random element ids).
    """
    import pyogrio
    import rasterio

    out = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(folder))
        if p.suffix in (".csv", ".json") and p.name != "manifest.json":
            out[rel] = _digest(p.read_bytes())
        elif p.suffix == ".tif":
            with rasterio.open(p) as src:
                out[rel] = (_digest(src.read().tobytes()), tuple(src.transform), str(src.crs))
        elif p.suffix == ".gpkg":
            for layer, _ in pyogrio.list_layers(p):
                df = pyogrio.read_dataframe(p, layer=layer)
                geom = df.geometry.to_wkb() if hasattr(df, "geometry") else []
                attrs = pd.DataFrame(df.drop(columns="geometry", errors="ignore"))
                out[f"{rel}:{layer}"] = (
                    _digest(attrs.to_csv(index=False).encode()),
                    _digest(b"".join(bytes(g) for g in geom)),
                    len(df),
                )
        elif p.name == "manifest.json":
            m = json.loads(p.read_text())
            out[rel] = {
                k: m[k]
                for k in ("fim_date", "random_seed", "grid", "inputs", "rows", "incidents_before_fim_date", "files")
                if k in m
            }
        else:
            out[rel] = "present"
    return out


@pytest.fixture(scope="module")
def serial_packs(london, tmp_path_factory):
    from hotspots.scale.distributed import run_packs

    out = tmp_path_factory.mktemp("serial")
    packs = run_packs(london.configs, fim_date=FIM_DATE, out_root=out, scheduler=None)
    return {p.name: pack_contents(p) for p in packs}


# --------------------------------------------------------------------------- killing workers
class DieAt(WorkerPlugin):
    """Patch ``hotspots.pipeline.<func>`` in every worker so calling it kills the worker process.

    With ``marker`` set, only the first call anywhere dies (the marker file records it).
    """

    def __init__(self, func: str, marker: str | None = None):
        self.func = func
        self.marker = marker

    def setup(self, worker):
        import hotspots.pipeline as pl

        original = getattr(pl, self.func)
        func, marker = self.func, self.marker

        def die(*args, **kwargs):
            if marker is not None:
                try:
                    fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    return original(*args, **kwargs)
                os.write(fd, f"{func} killed pid {os.getpid()}".encode())
                os.close(fd)
            os._exit(17)

        setattr(pl, func, die)


def test_two_borough_packs_on_cluster_equal_serial_even_when_a_worker_dies(client, london, serial_packs, tmp_path):
    from hotspots.scale.distributed import run_packs

    marker = tmp_path / "killed-once"
    # the first pack to finish its products (the manifest is made last, just before the hidden folder is
    # swapped into place) kills its worker
    client.register_plugin(DieAt("manifest", str(marker)), name="die-once")
    try:
        packs = run_packs(london.configs, fim_date=FIM_DATE, out_root=tmp_path / "dask", scheduler=client)
    finally:
        client.unregister_worker_plugin("die-once")
    assert marker.exists(), "no worker was killed, so the retry path was not exercised"
    assert [p.name for p in packs] == ["LB01", "LB02"]
    for p in packs:
        got, want = pack_contents(p), serial_packs[p.name]
        assert sorted(got) == sorted(want)
        differ = sorted(k for k in want if got[k] != want[k])
        assert differ == [], f"{p.name}: these outputs differ from the serial run: {differ}"
        assert any(k.endswith(".tif") for k in got) and "tasking.csv" in got
    # the dead attempt's temporary folder is gone; only the two packs remain (and, beside them, the
    # forecast's cache of fits for the next meeting, which the packs share)
    assert sorted(x.name for x in (tmp_path / "dask").iterdir() if x.name != CACHE_FOLDER) == ["LB01", "LB02"]


def test_backtest_on_cluster_equals_serial(client):
    import shapely

    from hotspots.forecast.harness import EventTable, Horizon, backtest, make_origins
    from hotspots.forecast.methods import make_methods
    from hotspots.geo.grid import Grid
    from hotspots.scale.distributed import distributed_backtest

    rng = np.random.default_rng(3)
    n = 1500
    x = np.where(rng.uniform(size=n) < 0.4, rng.normal(1200, 150, n), rng.uniform(0, 3000, n))
    y = np.where(rng.uniform(size=n) < 0.4, rng.normal(1800, 150, n), rng.uniform(0, 3000, n))
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    events = EventTable.from_dates(np.clip(x, 1, 2999), np.clip(y, 1, 2999), dates)
    grid = Grid.from_boundary(shapely.box(0, 0, 3000, 3000), 150.0)
    horizon = Horizon(days=14)
    origins = make_origins("2025-06-02", "2025-07-28", horizon)
    methods = make_methods(["naive_3m", "kde_200m", "gistar", "prospective"], seed=11)
    serial = backtest(events, grid, methods, origins, horizon=horizon)
    dist = distributed_backtest(events, grid, methods, origins, horizon=horizon, scheduler=client)
    assert len(origins) >= 4 and len(dist.scores) == len(origins) * len(methods)
    pd.testing.assert_frame_equal(serial.scores.drop(columns="fit_s"), dist.scores.drop(columns="fit_s"))
    pd.testing.assert_frame_equal(serial.curves, dist.curves)
    pd.testing.assert_frame_equal(
        serial.summary().drop(columns=["fit_s", "fit_s_se"]), dist.summary().drop(columns=["fit_s", "fit_s_se"])
    )
    assert serial.best() == dist.best()


def test_tiled_kde_on_cluster_equals_untiled(client):
    import shapely

    from hotspots.analysis.density import density_surface
    from hotspots.geo.grid import Grid
    from hotspots.scale.tiles import tiled_density_surface

    rng = np.random.default_rng(8)
    x = rng.normal(532_000, 900, 4000)
    y = rng.normal(181_000, 900, 4000)
    grid = Grid.from_boundary(shapely.Point(532_000, 181_000).buffer(2500), 50.0)
    ref = density_surface(x, y, grid, 300.0)
    got = tiled_density_surface(x, y, grid, 300.0, tile_cells=32, client=client)
    assert np.array_equal(ref[grid.mask], got[grid.mask])


def test_worker_dying_on_every_attempt_gives_a_clear_error_and_no_pack(client, london, tmp_path):
    from hotspots.scale.distributed import run_packs

    client.register_plugin(DieAt("analyse"), name="die-always")
    try:
        with pytest.raises(HotspotsError) as err:
            run_packs(london.configs[:1], fim_date=FIM_DATE, out_root=tmp_path / "out", scheduler=client)
    finally:
        client.unregister_worker_plugin("die-always")
        client.restart()  # fresh, unpatched workers
    msg = str(err.value)
    assert "LB01" in msg and "died" in msg and "Nothing was written" in msg
    out = tmp_path / "out"
    assert not (out / "LB01").exists()
    assert not out.exists() or not any(out.iterdir())


_LOCAL_SETTINGS_SCRIPT = """
import json
import dask
import distributed  # noqa: F401  (loads Dask's distributed defaults)
from hotspots.scale.distributed import connect

def settings():
    import os
    import dask
    return [os.environ.get("MALLOC_TRIM_THRESHOLD_"), dask.config.get("distributed.worker.profile.enabled")]

default = dask.config.get("distributed.nanny.pre-spawn-environ")["MALLOC_TRIM_THRESHOLD_"]
with connect("local") as c:
    seen = c.run(settings)
print(json.dumps({"default": default, "workers": list(seen.values()),
                  "here": dask.config.get("distributed.worker.profile.enabled")}))
"""


def test_local_scheduler_workers_keep_the_adaptive_allocator_and_no_sampling_profiler():
    """`--scheduler local` workers run without Dask's MALLOC_TRIM_THRESHOLD_ (it fixes glibc's memory thresholds,
    so every large array is mapped and zeroed afresh) and without the 10 ms statistical profiler."""
    # In a fresh process, as `hotspots run-boroughs` runs: a Dask nanny writes its pre-spawn variables into its
    # own process's environment whenever it (re)starts a worker and never removes them, so the module's cluster
    # (Dask's defaults), restarting a worker at any moment, would leak MALLOC_TRIM_THRESHOLD_ into this one.
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    out = subprocess.run(
        [sys.executable, "-c", _LOCAL_SETTINGS_SCRIPT], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["default"] is not None  # Dask's default sets it ...
    assert len(got["workers"]) == (os.cpu_count() or 1)
    assert all(w == [None, False] for w in got["workers"])  # ... and the local workers go without it
    # the settings were for the cluster's workers only: that process keeps Dask's defaults
    assert got["here"] is True


def test_incident_bytes_sizes_each_borough_by_its_incident_files(london, tmp_path):
    """The packs are started largest first, sized by the bytes of the incident files each config reads."""
    import dataclasses

    from hotspots.config import load_config
    from hotspots.scale.distributed import incident_bytes

    for path in london.configs:
        cfg = load_config(path)
        expected = (london.root / "boroughs" / path.stem / "incidents" / "incidents.csv").stat().st_size
        assert incident_bytes(cfg) == expected > 0
    # a folder of monthly files: every incident file below it counts, other files do not, a missing path is 0
    folder = tmp_path / "monthly"
    (folder / "2025-10").mkdir(parents=True)
    (folder / "2025-10" / "a.csv").write_bytes(b"x" * 7)
    (folder / "b.csv.gz").write_bytes(b"x" * 11)
    (folder / "notes.txt").write_bytes(b"x" * 1000)
    src = cfg.incidents[0]
    as_folder = dataclasses.replace(cfg, incidents=(dataclasses.replace(src, path=str(folder)),))
    assert incident_bytes(as_folder) == 18
    missing = dataclasses.replace(cfg, incidents=(dataclasses.replace(src, path=str(tmp_path / "none.csv")),))
    assert incident_bytes(missing) == 0
