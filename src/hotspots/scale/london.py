"""A synthetic London-sized dataset built from the demo borough generator.

The Metropolitan Police area has 32 boroughs plus the City: 33 areas and about a
million recorded crimes a year. :func:`generate_london` lays out ``n_boroughs``
borough-sized synthetic areas (default 33, each the size of the demo borough:
85 km² and 150,000 households, about Barnet's size) on a lattice of centres ``spacing_m`` metres apart
around central London (EPSG:27700), runs the deterministic demo generator
(:func:`hotspots.demo.generate_demo`) for each with its own seed, scales the crime
counts so the total is a little above ``n_incidents`` and then keeps exactly
``n_incidents`` of them (a seeded uniform thinning, so every planted pattern stays,
only thinner).

What it writes into ``out_dir``::

    incidents/borough=LB01/part-0.parquet ...   one partitioned GeoParquet dataset
                                                (hive partitioning on ``borough``)
    boroughs/LB01/boundaries/*                  wards, population, roads, town centres, cameras
    boroughs/LB01/incidents/incidents.csv       the same incidents as the LB01 partition
    configs/LB01.toml ...                       a ready-to-run config per borough
    configs/crime_types.toml, harm_schemes.toml the mapping tables the configs use
    london.json                                 what was generated (per borough counts, seeds)
    README.md

Columns of the GeoParquet dataset: ``incident_id`` (unique across London),
``offence``, ``committed_from``/``committed_to`` (local Europe/London wall-clock
time, minute precision, naive timestamps), ``easting``/``northing`` (EPSG:27700
metres), ``location``, ``geometry`` (points, EPSG:27700) and the partition column
``borough``. Same arguments -> identical data.

Nothing here is real: names, roads and crimes are synthetic.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .._csvsafe import write_csv
from ..config.sections import DEFAULT_TIMEZONE
from ..crs import DEFAULT_CRS
from ..demo import generate_demo
from ..demo.params import DemoParams
from ..errors import ConfigError

#: Centre of the lattice of boroughs (Charing Cross, EPSG:27700 metres).
LONDON_CENTRE = (530_000.0, 180_500.0)
#: Incidents the demo generator writes for one borough at scale 1 over its three years (approx.).
BASE_INCIDENTS = 36_500
N_LONDON_BOROUGHS = 33


@dataclass(frozen=True)
class LondonParams:
    """Knobs of the synthetic London dataset (EPSG:27700 metres).

    ``n_incidents``: exact number of incidents kept over all boroughs (the demo period,
    three years). ``n_boroughs``: borough-sized areas (33 = the 32 boroughs and the City).
    ``area_km2`` / ``households``: size of each area. ``spacing_m``: distance between
    neighbouring borough centres (large enough that outlines never overlap).
    ``cell_size_m``: the analysis grid cell written into each borough config.
    ``n_wards``: wards per borough (2..24).
    """

    n_incidents: int = 1_000_000
    n_boroughs: int = N_LONDON_BOROUGHS
    seed: int = 20251114
    area_km2: float = 85.0
    households: int = 150_000
    spacing_m: float = 15_000.0
    cell_size_m: float = 100.0
    n_wards: int = 20

    def __post_init__(self) -> None:
        if self.n_incidents < 1:
            raise ConfigError(f"--incidents must be at least 1, got {self.n_incidents}.")
        if not 1 <= self.n_boroughs <= 99:
            raise ConfigError(f"--boroughs must be 1..99, got {self.n_boroughs}.")
        if self.spacing_m < 2.8 * math.sqrt(self.area_km2 * 1e6 / math.pi):
            raise ConfigError(
                f"spacing_m {self.spacing_m:g} m is too small for {self.area_km2:g} km² areas; outlines would overlap."
            )


@dataclass(frozen=True)
class LondonDataset:
    """What :func:`generate_london` wrote (paths are absolute)."""

    root: Path
    dataset: Path  # the partitioned GeoParquet folder
    configs: tuple[Path, ...]
    boroughs: tuple[str, ...]
    counts: dict[str, int]
    scale: float

    @property
    def n_incidents(self) -> int:
        return int(sum(self.counts.values()))


def borough_codes(n: int) -> list[str]:
    return [f"LB{i + 1:02d}" for i in range(n)]


def borough_centres(n: int, spacing_m: float) -> np.ndarray:
    """The ``n`` lattice points nearest the centre (ties broken by angle), shape (n, 2) metres."""
    k = int(math.ceil(math.sqrt(n))) + 2
    gi, gj = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1))
    ii, jj = gi.ravel(), gj.ravel()
    d = np.hypot(ii, jj)
    ang = np.mod(np.arctan2(jj, ii), 2 * np.pi)
    order = np.lexsort((ang, np.round(d, 9)))[:n]
    return np.column_stack([LONDON_CENTRE[0] + ii[order] * spacing_m, LONDON_CENTRE[1] + jj[order] * spacing_m])


def borough_params(lp: LondonParams, i: int, scale: float, centre) -> DemoParams:
    """Demo parameters of borough ``i`` with every crime count multiplied by ``scale``."""
    base = DemoParams()
    counts = tuple((off, int(round(n * scale))) for off, n in base.counts)
    damage = dict(counts)["Criminal damage"]
    return replace(
        base,
        seed=lp.seed + 7919 * (i + 1),
        centre_e=float(round(centre[0])),
        centre_n=float(round(centre[1])),
        area_km2=lp.area_km2,
        households_total=lp.households,
        n_wards=lp.n_wards,
        burglary_background_per_year=base.burglary_background_per_year * scale,
        cross_border_per_point=int(round(base.cross_border_per_point * scale)),
        emerging_per_month=base.emerging_per_month * scale,
        stopping_per_month=base.stopping_per_month * scale,
        counts=counts,
        n_near_boundary=min(base.n_near_boundary, damage),
    )


def _count_rows(csv_path: Path) -> int:
    with open(csv_path, "rb") as fh:
        return sum(1 for _ in fh) - 1


def generate_london(out_dir: str | Path, params: LondonParams | None = None, progress=None) -> LondonDataset:
    """Write the synthetic London dataset into ``out_dir`` (see the module docstring).

    ``progress`` is an optional callable receiving one line per borough.
    Deterministic: the same ``params`` give identical data.
    """
    lp = params or LondonParams()
    root = Path(out_dir).resolve()
    codes = borough_codes(lp.n_boroughs)
    centres = borough_centres(lp.n_boroughs, lp.spacing_m)
    bdir = root / "boroughs"
    scale = 1.12 * lp.n_incidents / (lp.n_boroughs * BASE_INCIDENTS)
    for _attempt in range(4):
        raw_counts = {}
        for i, code in enumerate(codes):
            _generate_borough(generate_demo, bdir / code, borough_params(lp, i, scale, centres[i]))
            raw_counts[code] = _count_rows(bdir / code / "incidents" / "incidents.csv")
            if progress:
                progress(f"{code}: {raw_counts[code]:,} incidents generated")
        total = sum(raw_counts.values())
        if total >= lp.n_incidents:
            break
        scale *= 1.15 * lp.n_incidents / max(total, 1)
    else:  # pragma: no cover - the count model is within a few per cent
        raise RuntimeError(f"could not generate {lp.n_incidents:,} incidents (got {total:,}).")

    # keep exactly n_incidents: a seeded uniform sample over all generated rows
    rng = np.random.default_rng(lp.seed)
    keep = np.sort(rng.choice(total, size=lp.n_incidents, replace=False))
    bounds = np.cumsum([0] + [raw_counts[c] for c in codes])
    dataset = root / "incidents"
    if dataset.exists():
        shutil.rmtree(dataset)
    cfg_dir = root / "configs"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    repo_config = Path(__file__).resolve().parents[3] / "config"
    for name in ("crime_types.toml", "harm_schemes.toml"):
        shutil.copyfile(_shipped_table(repo_config, name), cfg_dir / name)
    counts, configs = {}, []
    for i, code in enumerate(codes):
        sel = keep[(keep >= bounds[i]) & (keep < bounds[i + 1])] - bounds[i]
        counts[code] = _thin_and_write(bdir / code, dataset, code, sel)
        configs.append(_write_config(cfg_dir, code, lp))
    meta = {
        "params": asdict(lp),
        "scale": scale,
        "generated": raw_counts,
        "kept": counts,
        "centres": {c: [float(x), float(y)] for c, (x, y) in zip(codes, centres, strict=True)},
        "seeds": {c: borough_params(lp, i, scale, centres[i]).seed for i, c in enumerate(codes)},
        "crs": DEFAULT_CRS,
        "dataset": "incidents",
        "partitioning": "hive (borough=LBnn)",
    }
    (root / "london.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (root / "README.md").write_text(_readme(lp, counts), encoding="utf-8")
    return LondonDataset(
        root=root, dataset=dataset, configs=tuple(configs), boroughs=tuple(codes), counts=counts, scale=scale
    )


def _generate_borough(generate_demo, out: Path, p) -> None:
    """Run the demo generator; a seed whose random road layout misses the outline moves to the next seed."""
    for k in range(20):
        try:
            generate_demo(out, replace(p, seed=p.seed + k))
            return
        except (AttributeError, IndexError, ValueError):
            continue
    raise RuntimeError(f"the demo generator failed for 20 seeds from {p.seed}")  # pragma: no cover


def _shipped_table(repo_config: Path, name: str) -> Path:
    p = repo_config / name
    if p.exists():
        return p

    return Path(str(resources.files("hotspots") / "config_defaults" / name))


def _thin_and_write(bdir: Path, dataset: Path, code: str, sel: np.ndarray) -> int:
    """Keep rows ``sel`` of the borough CSV, rewrite it and write its GeoParquet partition."""
    csv_path = bdir / "incidents" / "incidents.csv"
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    df = df.iloc[sel].reset_index(drop=True)
    write_csv(df, csv_path, bom=False, lineterminator="\n")
    e = df["easting"].astype(np.int32)
    n = df["northing"].astype(np.int32)
    part = gpd.GeoDataFrame(
        {
            "incident_id": code + "-" + df["ref"],
            "offence": df["offence"],
            "committed_from": pd.to_datetime(df["committed_from"], format="%Y-%m-%d %H:%M"),
            "committed_to": pd.to_datetime(df["committed_to"], format="%Y-%m-%d %H:%M"),
            "easting": e,
            "northing": n,
            "location": df["location"],
        },
        geometry=gpd.points_from_xy(e.to_numpy(float), n.to_numpy(float)),
        crs=DEFAULT_CRS,
    )
    out = dataset / f"borough={code}"
    out.mkdir(parents=True, exist_ok=True)
    part.to_parquet(out / "part-0.parquet", index=False, compression="zstd")
    return int(len(part))


_CONFIG = """\
# Synthetic London borough {code} (written by `hotspots london-data`; nothing here is real).
# Relative paths start at [project] data_dir, itself relative to this file.

[project]
name = "Synthetic London borough {code}"
timezone = "{timezone}"
seed = {seed}
data_dir = "../boroughs/{code}"

[study_area]
wards = "boundaries/wards.geojson"
ward_code_field = "ward_code"
ward_name_field = "ward_name"
population = "boundaries/ward_population.csv"
population_code_field = "ward_code"
population_field = "population"
households_field = "households"
roads = "boundaries/roads.geojson"
town_centres = "boundaries/town_centres.geojson"
boundary_tolerance_m = 50

[[incidents]]
path = "incidents/incidents.csv"
format = "generic"
crs = "{crs}"
time_precision = "minute"

[incidents.columns]
id = "ref"
crime_type = "offence"
x = "easting"
y = "northing"
start = "committed_from"
end = "committed_to"
location = "location"

[crime_types]
mapping_file = "crime_types.toml"

[harm]
scheme = "count"
schemes_file = "harm_schemes.toml"

[grid]
cell_size_m = {cell:g}

[analysis]
lookback_days = 365
fortnight_days = 14

# A force-wide run fixes one forecast method for every borough (chosen once for the force, e.g.
# with `hotspots backtest` on a few boroughs) instead of backtesting every candidate method over
# 28 past fortnights in each borough, which is most of a pack's time; the pack still shows the
# method's record over the last [forecast] window forecast dates. "learned" had the highest hit rate
# at 5% of the map in a borough's backtest; method = "auto" gives each borough its own choice.
[forecast]
method = "learned"

[output]
folder = "out/{code}"

[cameras]
inventory = "boundaries/cameras.csv"
mount_height_m = 6.0
target_height_m = 1.5
"""


def _write_config(cfg_dir: Path, code: str, lp: LondonParams) -> Path:
    p = cfg_dir / f"{code}.toml"
    p.write_text(
        _CONFIG.format(code=code, seed=lp.seed, cell=lp.cell_size_m, timezone=DEFAULT_TIMEZONE, crs=DEFAULT_CRS),
        encoding="utf-8",
    )
    return p


def _readme(lp: LondonParams, counts: dict[str, int]) -> str:
    rows = "\n".join(f"| {c} | {n:,} |" for c, n in counts.items())
    return f"""# Synthetic London dataset

Written by `hotspots london-data` (module `hotspots.scale.london`). Nothing here is real: every
borough is the synthetic demo borough generated with its own seed and centre, about
{lp.area_km2:g} km² and {lp.households:,} households, placed {lp.spacing_m / 1000:g} km apart around
central London in British National Grid (EPSG:27700) metres. Crime counts were scaled and then
thinned uniformly (seed {lp.seed}) to exactly {lp.n_incidents:,} incidents over the demo period,
so the `planted_truth.json` counts of each borough are before thinning.

- `incidents/` - one partitioned GeoParquet dataset (`borough=LBnn/part-0.parquet`); read it with
  `geopandas.read_parquet("incidents", filters=[("borough", "=", "LB01")])` or
  `hotspots.scale.london.read_dataset`.
- `boroughs/LBnn/` - the borough's boundaries, cameras and the same incidents as CSV.
- `configs/LBnn.toml` - ready-to-run configs: `hotspots run --config configs/LB01.toml`, or every
  borough at once (locally or on a Dask cluster): `hotspots run-boroughs configs/LB*.toml --date
  2025-11-14 --out out --scheduler local` (or `--scheduler tcp://HOST:8786`).

| borough | incidents |
|---|---:|
{rows}
"""


def read_dataset(root: str | Path, boroughs=None, columns=None):
    """Read the partitioned GeoParquet dataset (EPSG:27700), optionally only some boroughs.

    ``root`` is the folder given to ``london-data`` or its ``incidents`` subfolder. With
    ``columns`` that leave out ``geometry`` a plain DataFrame is returned (faster, e.g.
    ``["easting", "northing"]`` for a KDE).
    """
    root = Path(root)
    ds = root / "incidents" if (root / "incidents").is_dir() else root
    filters = [("borough", "in", list(boroughs))] if boroughs else None
    if columns is not None and "geometry" not in columns:
        return pd.read_parquet(ds, columns=list(columns), filters=filters)
    g = gpd.read_parquet(ds, columns=columns, filters=filters)
    if "borough" in g.columns:
        g["borough"] = g["borough"].astype(str)
    return g


def write_borough_configs(root: str | Path) -> list[Path]:
    """Rewrite the per-borough configs of a dataset written by :func:`generate_london` (with the
    parameters in its ``london.json``), e.g. after a newer version changed what they set; the data
    are left as they are. Returns the config paths, sorted."""
    root = Path(root)
    meta = root / "london.json"
    if not meta.is_file():
        raise ConfigError(f"{root} is not a synthetic London dataset (no london.json); run `hotspots london-data`.")
    lp = LondonParams(**json.loads(meta.read_text(encoding="utf-8"))["params"])
    return [_write_config(root / "configs", code, lp) for code in borough_codes(lp.n_boroughs)]


def borough_configs(root: str | Path) -> list[Path]:
    """The per-borough config files of a dataset written by :func:`generate_london`, sorted."""
    return sorted((Path(root) / "configs").glob("LB*.toml"))
