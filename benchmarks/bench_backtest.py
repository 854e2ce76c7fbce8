"""Forecast backtests on real data: Barnet burglary (police.uk, month precision) and Chicago
residential burglary 2014-2017 (day precision).

Each backtest row times our whole rolling-origin run and, as the peer, an independent pandas
implementation of the baseline (trailing-window counts per cell scored by the share of the
next horizon's incidents in the top-k cells), checking that both give the same baseline hit
rates. The notes carry every method's mean hit rate, PAI and PEI at 1/5/10% of the area.

    python benchmarks/bench_backtest.py            # both areas (about 10-20 minutes on 2 cores)
    python benchmarks/bench_backtest.py barnet     # one of them
    python benchmarks/bench_backtest.py chicago_cells   # Chicago cheap methods at 150/250/400 m cells
    python benchmarks/bench_backtest.py barnet_ceiling  # look-ahead ceiling of a fixed map for Barnet
Outputs: benchmarks/results/backtest.json (rows) and benchmarks/results/backtest_<area>/ (CSV + PNG).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"


def _peer_naive(x, y, t, t_end, grid, origins, horizon, window_days, share):
    """Independent baseline: pandas groupby counts per cell id; the top k cells by count, the cells tied
    at the k-th count sharing the remaining places equally (the expectation over random tie orders)."""
    from hotspots.forecast.harness import to_days

    def mm(v):  # the binning rule: whole millimetres; a point on a grid line goes east / south
        return np.floor(np.asarray(v, dtype=float) / 0.001 + 0.5).astype(np.int64)

    col = (mm(x) - mm(grid.xmin)) // mm(grid.cell_size)
    row = (mm(grid.ymax) - mm(y)) // mm(grid.cell_size)
    ok = (col >= 0) & (col < grid.ncols) & (row >= 0) & (row < grid.nrows)
    df = pd.DataFrame({"cell": row * grid.ncols + col, "t": t, "t_end": t_end})[ok]
    inside = set(np.flatnonzero(grid.mask.ravel()).tolist())
    df = df[df["cell"].isin(inside)]
    cells = pd.Index(sorted(inside))
    k = max(1, int(np.floor(share * len(cells) + 0.5)))
    out = []
    for o in origins:
        od, ed = to_days(o), to_days(horizon.end(o))
        past = df[(df["t_end"] < od) & (df["t"] >= od - window_days)].groupby("cell").size()
        past = past.reindex(cells, fill_value=0)
        kth = past.sort_values(ascending=False).iloc[k - 1]
        above = set(past.index[past > kth])
        tied = set(past.index[past == kth])
        fut = df[(df["t"] >= od) & (df["t"] < ed)]
        got = fut["cell"].isin(above).sum() + (k - len(above)) / len(tied) * fut["cell"].isin(tied).sum()
        out.append(got / len(fut) if len(fut) else np.nan)
    return np.array(out)


def _notes(res) -> str:
    s = res.summary()
    parts = []
    for _, r in s.iterrows():
        parts.append(f"{r['method']}: hit1 {r['hit_rate_1']:.3f} hit5 {r['hit_rate_5']:.3f}±{r['hit_rate_5_se']:.3f} "
                     f"hit10 {r['hit_rate_10']:.3f} PAI5 {r['pai_5']:.2f} PEI5 {r['pei_5']:.2f} "
                     f"RRI5 {r['rri_5']:.2f} gain {r['info_gain']:+.3f}")
    return "; ".join(parts)


def _run(name, events, grid, methods, origins, horizon, context, baseline, baseline_days):
    from hotspots.forecast.harness import backtest
    from hotspots.forecast.plots import plot_capture_curves, plot_hit_rate_by_origin

    t0 = time.perf_counter()
    res = backtest(events, grid, methods, origins, horizon, context=context,
                   progress=lambda s: print(f"  [{name}] {s}", flush=True))
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    peer = _peer_naive(events.x, events.y, events.t, events.t_end, grid, origins, horizon, baseline_days, 0.05)
    peer_s = time.perf_counter() - t0
    ours_base = res.scores[res.scores["method"] == baseline].sort_values("origin")["hit_rate_5"].to_numpy()
    equal = bool(np.allclose(ours_base, peer, equal_nan=True))
    out = RESULTS / f"backtest_{name}"
    res.to_csv(out)
    plot_capture_curves(res, out / "hit_rate_vs_area.png", title=f"{name}: hit rate vs area")
    plot_hit_rate_by_origin(res, out / "hit_rate_by_origin.png", title=f"{name}: hit rate at 5% of the area")
    best = res.best(0.05)
    s = res.summary().set_index("method")
    gain = s.loc[best, "hit_rate_5"] / s.loc[baseline, "hit_rate_5"] - 1
    assert equal, f"{baseline} differs from the independent pandas baseline"
    row = {"benchmark": f"backtest_{name}", "ours_s": round(ours, 2),
           "peer": f"pandas trailing-count baseline ({baseline}) only", "peer_s": round(peer_s, 2),
           "ratio": None, "equal": equal,
           "notes": (f"{len(origins)} origins, horizon {horizon.label}, {grid.cell_size:g} m cells "
                     f"({grid.n_cells} in area); best at 5%: {best} ({gain * 100:+.1f}% relative to {baseline}); "
                     + _notes(res))}
    return row, res


def bench_barnet():
    from hotspots.config import load_config
    from hotspots.forecast.features import CellContext
    from hotspots.forecast.harness import EventTable, Horizon, make_origins
    from hotspots.forecast.methods import default_method_names, make_methods
    from hotspots.geo.study_area import load_study_area
    from hotspots.ingest import load_incidents

    cfg = load_config(REPO / "config" / "barnet_burglary.toml")
    area = load_study_area(cfg)
    inc = load_incidents(cfg, area).incidents
    events = EventTable.from_incidents(inc, ["burglary"])
    grid = area.grid(100)
    horizon = Horizon.for_precision(events.precision)
    origins = make_origins("2022-03-01", "2024-02-01", horizon, cfg.project.timezone)
    names = list(default_method_names(events.precision))
    methods = make_methods(names, cfg.project.seed, events.precision)
    return _run("barnet", events, grid, methods, origins, horizon, CellContext.from_study_area(area, grid),
                "naive_12m", 365.25)


def bench_chicago(cell_m: float = 150.0, start="2017-01-02", end="2017-12-17"):
    import dataclasses

    import shapely

    from hotspots._util import shared_data_dir
    from hotspots.forecast.harness import EventTable, Horizon, make_origins
    from hotspots.forecast.methods import default_method_names, make_methods
    from hotspots.geo.grid import Grid

    df = pd.read_csv(shared_data_dir() / "nearrepeat_validation" / "chicago_res_burglary_2014_2017_epsg26971.csv")
    events = EventTable.from_dates(df["x"].to_numpy(float), df["y"].to_numpy(float), df["date"])
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([events.x, events.y])))
    grid = dataclasses.replace(Grid.from_boundary(hull, cell_m), crs="EPSG:26971")
    horizon = Horizon(14)
    origins = make_origins(start, end, horizon, "America/Chicago")
    names = list(default_method_names("day"))
    methods = make_methods(names, 0, "day")
    return _run("chicago", events, grid, methods, origins, horizon, None, "naive_12m", 365.25)


def chicago_cell_sizes(cells=(150.0, 250.0, 400.0)) -> pd.DataFrame:
    """Does the prospective surface catch up with counts on coarser cells? (cheap methods only)"""
    import dataclasses

    import shapely

    from hotspots._util import shared_data_dir
    from hotspots.forecast.harness import EventTable, Horizon, backtest, make_origins
    from hotspots.forecast.methods import Prospective, make_methods
    from hotspots.geo.grid import Grid

    df = pd.read_csv(shared_data_dir() / "nearrepeat_validation" / "chicago_res_burglary_2014_2017_epsg26971.csv")
    events = EventTable.from_dates(df["x"].to_numpy(float), df["y"].to_numpy(float), df["date"])
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([events.x, events.y])))
    horizon = Horizon(14)
    origins = make_origins("2017-01-02", "2017-12-17", horizon, "America/Chicago")
    rows = []
    for cell in cells:
        grid = dataclasses.replace(Grid.from_boundary(hull, cell), crs="EPSG:26971")
        methods = make_methods(["naive_12m", "naive_36m", "longrun_counts", "kde", "prospective"], 0, "day")
        methods["prospective_200m_28d"] = Prospective(200.0, 28.0)
        s = backtest(events, grid, methods, origins, horizon).summary()
        s.insert(0, "cell_m", cell)
        rows.append(s[["cell_m", "method", "hit_rate_1", "hit_rate_5", "hit_rate_5_se", "hit_rate_10", "info_gain"]])
    out = pd.concat(rows, ignore_index=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.to_csv(RESULTS / "backtest_chicago" / "cell_sizes.csv", index=False, float_format="%.6g")
    return out


def barnet_ceiling() -> float:
    """Look-ahead ceiling for a fixed map: for each evaluation month, rank cells by the counts of
    all the *other* months of the window (future included) and score the month at 5% of the area."""
    from hotspots.config import load_config
    from hotspots.forecast import metrics
    from hotspots.forecast.harness import EventTable, Horizon, make_origins, to_days
    from hotspots.geo.study_area import load_study_area
    from hotspots.ingest import load_incidents

    cfg = load_config(REPO / "config" / "barnet_burglary.toml")
    area = load_study_area(cfg)
    ev = EventTable.from_incidents(load_incidents(cfg, area).incidents, ["burglary"])
    grid = area.grid(100)
    horizon = Horizon(days=0, months=1)
    origins = make_origins("2022-03-01", "2024-02-01", horizon, cfg.project.timezone)
    a, b = to_days(origins[0]), to_days(horizon.end(origins[-1]))
    sel = (ev.t >= a) & (ev.t < b)
    total = grid.counts(ev.x[sel], ev.y[sel])
    hits = []
    for o in origins:
        s = (ev.t >= to_days(o)) & (ev.t < to_days(horizon.end(o)))
        month = grid.counts(ev.x[s], ev.y[s])
        hits.append(metrics.hit_rate(total - month, month, grid.mask, 0.05))
    return float(np.mean(hits))


def run(which=("barnet", "chicago")) -> list[dict]:
    rows = []
    if "barnet" in which:
        rows.append(bench_barnet()[0])
    if "chicago" in which:
        rows.append(bench_chicago()[0])
    return rows


if __name__ == "__main__":
    if sys.argv[1:] == ["chicago_cells"]:
        print(chicago_cell_sizes().to_string())
        sys.exit(0)
    if sys.argv[1:] == ["barnet_ceiling"]:
        print(f"fixed map from the other months of the window (uses the future), hit rate at 5%: "
              f"{barnet_ceiling():.4f}")
        sys.exit(0)
    which = tuple(sys.argv[1:]) or ("barnet", "chicago")
    rows = run(which)
    for r in rows:
        print(json.dumps(r, indent=1))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("backtest.json" if len(which) == 2 else f"backtest_{'_'.join(which)}.json")
    path.write_text(json.dumps(rows, indent=1))
    print("written", path)
