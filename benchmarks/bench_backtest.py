"""Forecast backtests on real data: Barnet burglary (police.uk, month precision) and Chicago
residential burglary 2014-2017 (day precision), scored with fair ties, with the selection
procedure's own out-of-sample record.

Each area is backtested over a long run of origins (every candidate and variant, surfaces kept),
then analysed in three windows that never overlap:

* a burn-in, so that the first choices of the selection procedure have past scores to use;
* a **tuning window** (Barnet 2019-03 ... 2022-02, Chicago 2016), on which the selection rule,
  the learned model's options and the ETAS settings are chosen;
* the **evaluation window** (Barnet 2022-03 ... 2024-02, Chicago 2017), on which the goals are
  measured with everything fixed.

As a peer, an independent pandas implementation of the baseline (trailing-year counts per cell
scored with the same fair-tie rule) must give the same hit rates as the harness.

    python benchmarks/bench_backtest.py              # both areas (an hour or more on 2 busy cores)
    python benchmarks/bench_backtest.py barnet       # one of them
    python benchmarks/bench_backtest.py barnet --analyse-only   # re-analyse the saved backtest
    python benchmarks/bench_backtest.py rules        # the selection rule chosen on both tuning windows
    python benchmarks/bench_backtest.py chicago_cells   # Chicago cheap methods at 150/250/400 m cells
Outputs: benchmarks/results/backtest*.json (rows), benchmarks/results/backtest_<area>/ (CSV + PNG);
the raw backtest (scores and surfaces) in out/bench_backtest/<area>.pkl for re-analysis.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
RAW = REPO / "out" / "bench_backtest"
sys.path.insert(0, str(HERE))

AREAS = {
    "barnet": {
        "origins": ("2018-03-01", "2024-02-01"),
        "tune": ("2019-03-01", "2022-02-01"),
        "eval": ("2022-03-01", "2024-02-01"),
        "tz": "Europe/London",
    },
    "chicago": {
        "origins": ("2015-09-28", "2017-12-18"),
        "tune": ("2016-01-04", "2016-12-31"),
        "eval": ("2017-01-02", "2017-12-18"),
        "tz": "America/Chicago",
    },
}


# --------------------------------------------------------------------------- data
def barnet_inputs():
    import geopandas as gpd

    from hotspots._util import shared_data_dir
    from hotspots.config import load_config
    from hotspots.forecast import exposure as X
    from hotspots.forecast.features import CellContext
    from hotspots.forecast.harness import EventTable
    from hotspots.stages.inputs import load_incidents, load_study_area

    d = shared_data_dir()
    cfg = load_config(REPO / "config" / "barnet_burglary.toml")
    area = load_study_area(cfg)
    events = EventTable.from_incidents(load_incidents(cfg, area).incidents, ["burglary"])
    grid = area.grid(100)
    postcodes = gpd.read_file(d / "context" / "barnet_postcodes_codepoint_open_2025.gpkg")
    lsoa = gpd.read_file(d / "boundaries" / "barnet_lsoa_2021.geojson").to_crs(grid.crs)
    hh = pd.read_csv(d / "population" / "london_lsoa21_census2021_households_population.csv")
    lsoa = lsoa.merge(hh[["LSOA21CD", "households_2021"]], on="LSOA21CD", how="left", validate="1:1")
    cameras = gpd.read_file(d / "context" / "barnet_council_cctv_2017.gpkg")
    pubs = pd.read_csv(d / "context" / "barnet_pubs_openpubs_recent.csv").dropna(subset=["easting", "northing"])
    pubs = gpd.GeoDataFrame(pubs, geometry=gpd.points_from_xy(pubs["easting"], pubs["northing"]), crs=grid.crs)
    exposure = X.combine(
        X.address_density(postcodes, grid, 200.0),
        X.households_per_cell(lsoa, "households_2021", grid, points=postcodes),
        X.camera_coverage(cameras, grid, 100.0),
        X.distance_to(pubs, grid, "pub"),
    )
    context = CellContext.from_study_area(area, grid).with_exposure(exposure)
    return events, grid, context, cfg.project.seed


def chicago_inputs(cell_m: float = 150.0):
    import dataclasses

    import shapely

    from hotspots._util import shared_data_dir
    from hotspots.forecast.harness import EventTable
    from hotspots.geo.grid import Grid

    df = pd.read_csv(shared_data_dir() / "nearrepeat_validation" / "chicago_res_burglary_2014_2017_epsg26971.csv")
    events = EventTable.from_dates(df["x"].to_numpy(float), df["y"].to_numpy(float), df["date"])
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([events.x, events.y])))
    grid = dataclasses.replace(Grid.from_boundary(hull, cell_m), crs="EPSG:26971")
    return events, grid, None, 0


def methods_for(area: str, seed: int) -> dict:
    """Every candidate and variant backtested (a superset; the analysis picks candidate sets)."""
    from hotspots.forecast.methods import LearnedRisk, default_method_names, make_method

    if area == "barnet":
        names = list(default_method_names("month"))
        names += ["naive_24m"] + [f"{n}+relocated" for n in names]
        out = {n: make_method(n, seed, "month") for n in names}
        out["learned_no_exposure"] = LearnedRisk(random_state=seed, with_prospective=False, with_exposure=False)
        return out
    names = [*default_method_names("day"), "learned_etas"]
    return {n: make_method(n, seed, "day") for n in names}


def origins_of(area: str, which: str):
    """The origins of a window: a subset of the backtest's own origins (one horizon apart)."""
    from hotspots.forecast.harness import Horizon, make_origins

    a = AREAS[area]
    hz = Horizon(days=0, months=1) if area == "barnet" else Horizon(14)
    out = make_origins(*a[which], hz, a["tz"])
    if which != "origins":
        every = set(make_origins(*a["origins"], hz, a["tz"]))
        if not set(out) <= every:
            raise ValueError(f"{area}: the {which} window's origins are not backtest origins; align the windows.")
    return out, hz


# --------------------------------------------------------------------------- the peer
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


# --------------------------------------------------------------------------- running
def run_backtest(area: str) -> dict:
    from hotspots.forecast.harness import backtest

    events, grid, context, seed = barnet_inputs() if area == "barnet" else chicago_inputs()
    origins, hz = origins_of(area, "origins")
    methods = methods_for(area, seed)
    t0 = time.perf_counter()
    res = backtest(
        events,
        grid,
        methods,
        origins,
        hz,
        context=context,
        keep_surfaces=True,
        progress=lambda s: print(f"  [{area}] {s}", flush=True),
    )
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    peer = _peer_naive(events.x, events.y, events.t, events.t_end, grid, origins, hz, 365.25, 0.05)
    peer_s = time.perf_counter() - t0
    raw = {
        "scores": res.scores,
        "curves": res.curves,
        "surfaces": res.surfaces,
        "observed": res.observed,
        "shares": res.shares,
        "methods": res.methods,
        "horizon": hz,
        "grid": grid,
        "ours_s": ours,
        "peer": peer,
        "peer_s": peer_s,
        "load": os.getloadavg(),
        "events": events,
    }
    RAW.mkdir(parents=True, exist_ok=True)
    with open(RAW / f"{area}.pkl", "wb") as f:
        pickle.dump(raw, f, protocol=pickle.HIGHEST_PROTOCOL)
    return raw


def _result(raw, methods=None):
    """The saved backtest as a BacktestResult (optionally only some methods)."""
    from hotspots.forecast.harness import BacktestResult

    methods = tuple(methods or raw["methods"])
    sc = raw["scores"][raw["scores"]["method"].isin(methods)]
    cv = raw["curves"][raw["curves"]["method"].isin(methods)]
    return BacktestResult(
        scores=sc.reset_index(drop=True),
        curves=cv.reset_index(drop=True),
        shares=raw["shares"],
        horizon=raw["horizon"],
        methods=methods,
        n_cells=int(raw["grid"].mask.sum()),
        cell_size_m=float(raw["grid"].cell_size),
        surfaces=raw["surfaces"],
        observed=raw["observed"],
        grid=raw["grid"],
    )


def _window(result, origins):
    """The same result restricted to some origins."""
    from hotspots.forecast.harness import BacktestResult

    sc = result.scores[result.scores["origin"].isin(origins)].reset_index(drop=True)
    cv = result.curves[result.curves["origin"].isin(origins)].reset_index(drop=True)
    return BacktestResult(
        scores=sc,
        curves=cv,
        shares=result.shares,
        horizon=result.horizon,
        methods=result.methods,
        n_cells=result.n_cells,
        cell_size_m=result.cell_size_m,
    )


# --------------------------------------------------------------------------- analysis
#: Rules compared on the tuning windows (the chosen one is hotspots.forecast.selection.DEFAULT_RULE).
def rule_grid(cands):
    from hotspots.forecast.selection import SelectionRule

    learned = next(c for c in cands if c.startswith("learned"))
    rules = []
    for window in (3, 6, 12, 24, 0):
        for shrink in (0.0, 0.5):
            if window == 0 and shrink:
                continue
            rules.append(SelectionRule(window=window, shrink=shrink))
            rules.append(SelectionRule(window=window, shrink=shrink, default=learned, margin=0.005))
            rules.append(SelectionRule(window=window, shrink=shrink, blend_top=2, blend_within=0.01))
    return rules


def candidates(area: str, location_change: bool, learned: str = "learned") -> tuple[str, ...]:
    """The pipeline's candidates: the defaults for the data's precision (with ``learned`` for the
    learned model, as chosen on the tuning window); on data whose published locations changed,
    the counting and learned methods fitted on the relocated history."""
    from hotspots.forecast.methods import default_method_names

    if area == "chicago":
        return tuple(learned if n == "learned" else n for n in default_method_names("day"))
    from hotspots.forecast.locations import relocated_names

    names = default_method_names("month")
    return relocated_names(names) if location_change else names


def _summary_table(result, baseline="naive_12m") -> pd.DataFrame:
    s = result.summary().set_index("method")
    cols = [
        "hit_rate_1",
        "hit_rate_5",
        "hit_rate_5_se",
        "pai_5",
        "pei_5",
        "rri_5",
        "hit_rate_10",
        "info_gain",
        "ceiling_1",
        "of_ceiling_1",
    ]
    out = s[cols].copy()
    out["gain_5_vs_" + baseline] = s["hit_rate_5"] / s.loc[baseline, "hit_rate_5"] - 1
    out["gain_1_vs_" + baseline] = s["hit_rate_1"] / s.loc[baseline, "hit_rate_1"] - 1
    return out


def analyse(area: str, raw: dict) -> list[dict]:
    import dataclasses

    from hotspots.forecast.locations import detect_location_change
    from hotspots.forecast.plots import plot_capture_curves, plot_hit_rate_by_origin
    from hotspots.forecast.selection import DEFAULT_RULE, blend_scorer, compare_rules, track_record

    out_dir = RESULTS / f"backtest_{area}"
    out_dir.mkdir(parents=True, exist_ok=True)
    full = _result(raw)
    hz = raw["horizon"]
    all_origins, _ = origins_of(area, "origins")
    tune, _ = origins_of(area, "tune")
    evals, _ = origins_of(area, "eval")
    ev = raw["events"]
    change = detect_location_change(ev.x, ev.y, ev.t)
    tune_table = _summary_table(_window(full, tune))
    tune_table.to_csv(out_dir / "summary_tune.csv", float_format="%.6g")
    # decided on the tuning window: the learned model with the ETAS feature (day data)
    learned = "learned"
    if (
        "learned_etas" in tune_table.index
        and tune_table.loc["learned_etas", "hit_rate_5"] > tune_table.loc["learned", "hit_rate_5"]
    ):
        learned = "learned_etas"
    cands = candidates(area, change.detected, learned)
    plain = candidates(area, False, learned)
    scorer = {s: blend_scorer(full, s) for s in (0.01, 0.05)}

    # the peer
    base = full.scores[full.scores["method"] == "naive_12m"].sort_values("origin")["hit_rate_5"].to_numpy()
    equal = bool(np.allclose(base, raw["peer"], equal_nan=True))
    assert equal, "naive_12m differs from the independent pandas baseline"

    # 1. every method over the evaluation window
    ev_res = _window(full, evals)
    table = _summary_table(ev_res)
    table.to_csv(out_dir / "summary_eval.csv", float_format="%.6g")
    ev_res.to_csv(out_dir)
    plot_capture_curves(
        _window(_result(raw, cands), evals),
        out_dir / "hit_rate_vs_area.png",
        title=f"{area}: hit rate vs area, {len(evals)} origins (evaluation window)",
    )
    plot_hit_rate_by_origin(
        _window(_result(raw, cands), evals),
        out_dir / "hit_rate_by_origin.png",
        title=f"{area}: hit rate at 5% of the area by origin",
    )
    # 2. the selection rule, compared on the tuning window only
    runs = [(area, full.scores, hz, tune, cands, scorer[0.05])]
    rules = compare_rules(runs, rule_grid(cands))
    rules.to_csv(out_dir / "rules_tune.csv", index=False, float_format="%.6g")

    # 3. the procedure's record over the evaluation window, with the documented rule
    rec5 = track_record(full.scores, hz, DEFAULT_RULE, cands, evals, score_blend=scorer[0.05])
    rec1 = track_record(
        full.scores, hz, dataclasses.replace(DEFAULT_RULE, share=0.01), cands, evals, score_blend=scorer[0.01]
    )
    rec5.to_frame().to_csv(out_dir / "track_record_5.csv", index=False, float_format="%.6g")
    rec1.to_frame().to_csv(out_dir / "track_record_1.csv", index=False, float_format="%.6g")
    best_single = table.loc[list(cands), "hit_rate_5"].idxmax()
    rec_plain = (
        track_record(full.scores, hz, DEFAULT_RULE, plain, evals, score_blend=scorer[0.05]) if plain != cands else rec5
    )
    in_sample = table.loc[list(cands), "hit_rate_5"].max()

    goals = {
        "record_5": rec5.achieved,
        "record_1": rec1.achieved,
        "naive_12m_5": rec5.baseline_mean,
        "naive_12m_1": rec1.baseline_mean,
        "gain_5": rec5.relative_gain,
        "gain_1": rec1.relative_gain,
        "best_single": best_single,
        "best_single_5": float(in_sample),
        "gap_to_best_single_points": (rec5.achieved - in_sample) * 100,
        "ceiling_5": rec5.ceiling_mean,
        "ceiling_1": rec1.ceiling_mean,
        "record_5_plain_candidates": rec_plain.achieved,
        "location_change": change.latest.month if change.detected else None,
        "rule": DEFAULT_RULE.label(),
        "candidates": list(cands),
    }
    (out_dir / "goals.json").write_text(json.dumps(goals, indent=1, default=str))
    print(json.dumps(goals, indent=1, default=str))
    print(table.round(4).to_string())
    best_rules = rules.groupby("label")["gain"].mean().sort_values(ascending=False)
    print("rules on the tuning window (relative gain of the record over naive_12m):")
    print(best_rules.head(10).round(4).to_string())

    load = raw["load"]
    notes = (
        f"{len(all_origins)} origins backtested, horizon {hz.label}, {raw['grid'].cell_size:g} m cells "
        f"({int(raw['grid'].mask.sum())} in area); evaluation window {len(evals)} origins "
        f"{evals[0]:%Y-%m-%d} ... {evals[-1]:%Y-%m-%d}, fair ties. Selection record ({DEFAULT_RULE.label()}, "
        f"choices from completed origins only) at 5%: {rec5.achieved:.1%} vs naive_12m {rec5.baseline_mean:.1%} "
        f"({rec5.relative_gain * 100:+.1f}%); best single candidate {best_single} {in_sample:.1%} "
        f"(in hindsight); at 1%: {rec1.achieved:.1%} vs {rec1.baseline_mean:.1%} "
        f"({rec1.relative_gain * 100:+.1f}%); ceiling at 1% {rec1.ceiling_mean:.1%}. "
        + (f"Location change detected: {change.latest.month}. " if change.detected else "")
        + f"Load average at the end of the backtest {load[0]:.1f}. "
        + "; ".join(
            f"{m}: hit1 {r['hit_rate_1']:.3f} hit5 {r['hit_rate_5']:.3f}±{r['hit_rate_5_se']:.3f} "
            f"hit10 {r['hit_rate_10']:.3f} PAI5 {r['pai_5']:.2f} RRI5 {r['rri_5']:.2f} "
            f"gain {r['info_gain']:+.3f}"
            for m, r in table.iterrows()
        )
    )
    return [
        {
            "benchmark": f"backtest_{area}",
            "ours_s": round(raw["ours_s"], 1),
            "peer": "pandas trailing-count baseline (naive_12m) only",
            "peer_s": round(raw["peer_s"], 2),
            "ratio": None,
            "equal": equal,
            "notes": notes,
        }
    ]


def choose_rule() -> pd.DataFrame:
    """The selection rule chosen on both tuning windows together (Barnet 2019-03 ... 2022-02 and
    Chicago 2016): the highest mean relative gain of its record over naive_12m; the first of the
    grid (the simplest) wins ties. Needs both areas analysed first (their saved backtests and
    candidate lists)."""
    from hotspots.forecast.selection import DEFAULT_RULE, blend_scorer, compare_rules

    generic = rule_grid(["learned"])  # labels; 'default = learned' means each area's learned candidate
    tables = []
    for area in ("barnet", "chicago"):
        with open(RAW / f"{area}.pkl", "rb") as f:
            raw = pickle.load(f)
        full = _result(raw)
        tune, hz = origins_of(area, "tune")
        cands = tuple(json.loads((RESULTS / f"backtest_{area}" / "goals.json").read_text())["candidates"])
        t = compare_rules([(area, full.scores, hz, tune, cands, blend_scorer(full, 0.05))], rule_grid(cands))
        t["label"] = [generic[i].label() for i in t["rule"]]
        tables.append(t)
    table = pd.concat(tables, ignore_index=True)
    mean = table.groupby("rule")["gain"].mean()
    table["mean_gain"] = table["rule"].map(mean)
    table.to_csv(RESULTS / "backtest_rules_tune.csv", index=False, float_format="%.6g")
    wide = table.pivot(index="rule", columns="run", values="gain")
    wide["mean"] = mean
    wide.index = [generic[i].label() for i in wide.index]
    print(wide.sort_values("mean", ascending=False).round(4).to_string())
    best = int(mean.idxmax())
    print(
        f"best on the tuning windows: {generic[best].label()} (mean gain {mean[best] * 100:+.2f}%); "
        f"DEFAULT_RULE: {DEFAULT_RULE.label()}"
    )
    return table


def chicago_cell_sizes(cells=(150.0, 250.0, 400.0)) -> pd.DataFrame:
    """Does the prospective surface catch up with counts on coarser cells? (cheap methods only)"""
    from hotspots.forecast.harness import backtest
    from hotspots.forecast.methods import Prospective, make_methods

    origins, hz = origins_of("chicago", "eval")
    rows = []
    for cell in cells:
        events, grid, _c, _s = chicago_inputs(cell)
        methods = make_methods(["naive_12m", "naive_36m", "longrun_counts", "kde", "prospective"], 0, "day")
        methods["prospective_200m_28d"] = Prospective(200.0, 28.0)
        s = backtest(events, grid, methods, origins, hz).summary()
        s.insert(0, "cell_m", cell)
        rows.append(s[["cell_m", "method", "hit_rate_1", "hit_rate_5", "hit_rate_5_se", "hit_rate_10", "info_gain"]])
    out = pd.concat(rows, ignore_index=True)
    (RESULTS / "backtest_chicago").mkdir(parents=True, exist_ok=True)
    out.to_csv(RESULTS / "backtest_chicago" / "cell_sizes.csv", index=False, float_format="%.6g")
    return out


def run(which=("barnet", "chicago"), analyse_only: bool = False) -> list[dict]:
    rows = []
    for area in which:
        if analyse_only:
            with open(RAW / f"{area}.pkl", "rb") as f:
                raw = pickle.load(f)
        else:
            raw = run_backtest(area)
        rows += analyse(area, raw)
    return rows


if __name__ == "__main__":
    from _results import save_rows

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if args == ["chicago_cells"]:
        print(chicago_cell_sizes().to_string())
        sys.exit(0)
    if args == ["rules"]:
        choose_rule()
        sys.exit(0)
    which = tuple(args) or ("barnet", "chicago")
    rows = run(which, analyse_only="--analyse-only" in sys.argv)
    save_rows("backtest" if len(which) == 2 else f"backtest_{'_'.join(which)}", rows)
