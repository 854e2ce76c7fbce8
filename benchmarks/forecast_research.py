"""A fast research loop for forecast candidates: score only the origins asked for, cache every
(candidate, settings, origin) score and surface on disk, and replay the selection record.

The full backtest (``bench_backtest.py``) fits every candidate at 72 Barnet / 59 Chicago origins
(over an hour on the shared machine). Here each (area, candidate's settings, origin) is scored
once, exactly as the harness scores it (one-origin ``backtest`` calls sharing a feature cache),
and kept under ``out/forecast_research/<area>/<settings digest>/<origin>.npz`` (the score row,
the surface over the masked cells, the observed counts), so a new variant costs only its own fits.

    python benchmarks/forecast_research.py score barnet tune learned,learned_bag5
    python benchmarks/forecast_research.py table barnet tune learned,learned_bag5
    python benchmarks/forecast_research.py blends chicago tune "learned_etas:1;learned_etas:0.5+etas:0.5"
    python benchmarks/forecast_research.py record barnet eval <candidates>
    python benchmarks/forecast_research.py goals     # the evaluation window's records
    python benchmarks/forecast_research.py ceiling chicago   # look-ahead fixed maps (diagnostic)
    python benchmarks/forecast_research.py timing    # seconds per learned fit (Barnet)
    python benchmarks/forecast_research.py timing learned_v1,learned_6o   # the named variants

Windows: ``tune`` and ``eval`` as in ``bench_backtest.AREAS``; ``rule+eval`` = the evaluation
window and the rule's window of origins before it (what a selection record needs).
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
OUT = REPO / "out" / "forecast_research"
sys.path.insert(0, str(HERE))

import bench_backtest as B  # noqa: E402

#: The recent-count features the monotone variant constrains (the forecast may only rise with them).
MONOTONE_RECENT = ("count_91d", "count_182d", "count_365d", "decayed_count_hl365d", "active_months_12")

#: Radii (metres) of the address-density squares measured as learned-model features.
ADDRESS_RADII_M = (100.0, 200.0, 400.0, 800.0)


def variants(area: str, seed: int) -> dict:
    """Every candidate the loop knows (name -> method); new research variants are added here."""
    from hotspots.forecast.etas import SelfExciting
    from hotspots.forecast.locations import Relocated
    from hotspots.forecast.methods import Blend, DecayedKDE, LearnedRisk, make_method

    prec = "month" if area == "barnet" else "day"
    base = {n: make_method(n, seed, prec) for n in B.methods_for(area, seed) if n != "learned_no_exposure"}
    pro = prec != "month"

    def learned(**kw):
        return LearnedRisk(random_state=seed, with_prospective=pro, **kw)

    extra = {
        "learned_v1": learned(),  # the learned model before with_rings / n_seeds (same settings digest)
        "learned_bag5": learned(n_seeds=5),
        "learned_rings": learned(with_rings=True),
        "learned_rings_bag5": learned(with_rings=True, n_seeds=5),
        "learned_places": learned(with_places=True),
        "learned_rings_places_bag5": learned(with_rings=True, with_places=True, n_seeds=5),
        "learned_24o_bag5": learned(n_train_origins=24, n_seeds=5),
        # cheaper fits (issue 16): coarser binning, fewer boosting rounds, fewer training origins
        "learned_bins63": learned(max_bins=63),
        "learned_lr10": learned(learning_rate=0.1, max_iter=100),
        "learned_6o": learned(n_train_origins=6),
        "learned_6o_bins63": learned(max_bins=63, n_train_origins=6),
        "learned_6o_bins63_lr10": learned(max_bins=63, n_train_origins=6, learning_rate=0.1, max_iter=100),
        # issue 15, Barnet goals: smoother labels, more training origins, regularisation, monotone counts
        "learned_lh2": learned(label_horizons=2),
        "learned_lh3": learned(label_horizons=3),
        "learned_24o": learned(n_train_origins=24),
        "learned_leaf300": learned(min_samples_leaf=300),
        "learned_leaves31": learned(max_leaf_nodes=31, min_samples_leaf=50),
        "learned_l2_10": learned(l2_regularization=10.0),
        "learned_mono": learned(monotone_increasing=MONOTONE_RECENT),
        "learned_bins31": learned(max_bins=31),
        "learned_bins15": learned(max_bins=15),
        "learned_bins31_bag5": learned(max_bins=31, n_seeds=5),
        "learned_bins63_mono": learned(max_bins=63, monotone_increasing=MONOTONE_RECENT),
        # Barnet goals, more features (31 bins as month data's default): address density over squares
        # of 100-800 m, incidents per address, percentile ranks of the long-run counts
        "learned_b31_addr": learned(max_bins=31, exposure_radii_m=ADDRESS_RADII_M),
        "learned_b31_addrrate": learned(max_bins=31, exposure_radii_m=ADDRESS_RADII_M, with_exposure_rates=True),
        "learned_b31_ranks": learned(max_bins=31, with_ranks=True),
        "learned_b31_rate100": learned(max_bins=31, exposure_radii_m=(100.0,), with_exposure_rates=True),
        "learned_b31_places": learned(max_bins=31, with_places=True),
        "learned_b31_rings": learned(max_bins=31, with_rings=True),
        "learned_b31_all": learned(
            max_bins=31, exposure_radii_m=ADDRESS_RADII_M, with_exposure_rates=True, with_ranks=True
        ),
        # refit cadence (issue 16): the model fitted at a refit date is used up to the next one
        **{f"learned_every{k}": learned(refit_every=k) for k in (2, 3, 4, 6)},
        "learned_bins31_every4": learned(max_bins=31, refit_every=4),
    }
    if pro:
        extra["learned_etas_v1"] = learned(with_etas=True)  # refitted at every origin
        extra["learned_etas_every4"] = learned(with_etas=True, refit_every=4)
        extra["learned_etas_bag5"] = learned(with_etas=True, n_seeds=5)
        extra["learned_etas_rings_bag5"] = learned(with_etas=True, with_rings=True, n_seeds=5)
        # Chicago (issue 15): smoother labels, more training origins, stronger regularisation
        extra["learned_etas_lh2"] = learned(with_etas=True, label_horizons=2)
        extra["learned_etas_lh4"] = learned(with_etas=True, label_horizons=4)
        extra["learned_etas_24o"] = learned(with_etas=True, n_train_origins=24)
        extra["learned_etas_leaf300"] = learned(with_etas=True, min_samples_leaf=300, l2_regularization=5.0)
        extra["learned_etas_rings"] = learned(with_etas=True, with_rings=True)
    out_cheap = {}
    if pro:
        # Chicago (issue 15): long-run counts and ETAS settings (no learning, cheap to score)
        out_cheap = {
            "counts_hl365": DecayedKDE(radius_m=0.0, half_life_days=365.0),
            "counts_hl1461": DecayedKDE(radius_m=0.0, half_life_days=1461.0),
            "counts_all": DecayedKDE(radius_m=0.0, half_life_days=float("inf")),
            "lrkde_75": DecayedKDE(radius_m=75.0, half_life_days=730.0),
            "lrkde_100": DecayedKDE(radius_m=100.0, half_life_days=730.0),
            "etas_fit365": SelfExciting(fit_window_days=365.0, random_state=seed),
            "etas_fit1095": SelfExciting(fit_window_days=1095.0, random_state=seed),
            "etas_bg100": SelfExciting(background_radius_m=100.0, random_state=seed),
            "etas_bghl1461": SelfExciting(background_half_life_days=1461.0, random_state=seed),
        }
    for n in list(extra):
        if n.startswith("learned"):
            extra["blend_" + n] = Blend(
                methods=(extra[n], DecayedKDE(radius_m=0.0, half_life_days=365.0)), weights=(0.5, 0.5)
            )
    out = {**base, **extra, **out_cheap}
    if area == "barnet":
        for n in list(extra):
            out[n + "+relocated"] = Relocated(extra[n])
    return out


def origins(area: str, which: str):
    from hotspots.forecast.harness import Horizon, make_origins

    a = B.AREAS[area]
    hz = Horizon(days=0, months=1) if area == "barnet" else Horizon(14)
    if which == "rule+eval":
        every = make_origins(*a["origins"], hz, a["tz"])
        ev = make_origins(*a["eval"], hz, a["tz"])
        i = every.index(ev[0])
        return every[max(0, i - 24) :], hz
    return make_origins(*a[which], hz, a["tz"]), hz


_INPUTS: dict = {}


def inputs(area: str):
    if area not in _INPUTS:
        _INPUTS[area] = B.barnet_inputs() if area == "barnet" else B.chicago_inputs()
    return _INPUTS[area]


def _path(area: str, method, origin) -> Path:
    from hotspots.forecast.cache_key import digest, method_key

    return OUT / area / digest(method_key(method))[:16] / f"{pd.Timestamp(origin):%Y-%m-%d}.npz"


def score(area: str, which: str, names, progress=True) -> None:
    """Score the named candidates at the window's origins (only those not yet on disk)."""
    from hotspots.forecast.harness import backtest

    events, grid, context, seed = inputs(area)
    allv = variants(area, seed)
    orgs, hz = origins(area, which)
    cache: dict = {}
    for o in orgs:
        todo = {n: allv[n] for n in names if not _stored(area, allv, n, o).exists()}
        if not todo:
            continue
        t0 = time.perf_counter()
        res = backtest(events, grid, todo, [o], hz, context=context, cache=cache, keep_surfaces=True)
        o_ts = res.origins[0]
        actual, expected = res.observed[o_ts]
        for n, m in todo.items():
            row = res.scores[res.scores["method"] == n].iloc[0].drop(["origin", "method"]).to_dict()
            p = _path(area, m, o)
            p.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(
                p,
                row=json.dumps(row),
                surface=res.surfaces[(o_ts, n)],
                actual=actual,
                expected=expected,
            )
        # keep only the features (drop what grows without bound)
        if progress:
            hr = {n: float(res.scores.loc[res.scores["method"] == n, "hit_rate_5"].iloc[0]) for n in todo}
            print(
                f"[{area}] {o:%Y-%m-%d} {time.perf_counter() - t0:.0f}s "
                + " ".join(f"{n}={v:.3f}" for n, v in hr.items()),
                flush=True,
            )


def blends(area: str, which: str, spec: str) -> pd.DataFrame:
    """Weighted blends of stored surfaces (``a:0.5+b:0.5;a:0.3+c:0.7``; each member scaled to sum
    to 1 as in :class:`~hotspots.forecast.methods.Blend`), scored as the harness scores a method:
    mean hit rates over the window's origins where every member is stored, and the paired
    difference at 5% against the first member of the first blend."""
    from hotspots.forecast.methods import blend_surfaces

    combos = [[(m.split(":")[0], float(m.split(":")[1])) for m in c.split("+")] for c in spec.split(";")]
    names = list(dict.fromkeys(n for c in combos for n, _ in c))
    res = load(area, which, names, partial=True)
    mask = np.ones(res.n_cells, dtype=bool)
    rows = []
    for o in res.origins:
        for c in combos:
            surf = blend_surfaces([res.surfaces[(o, n)] for n, _ in c], [w for _, w in c], mask)
            sc = res.score_surface(o, surf)
            rows.append({"origin": o, "blend": "+".join(f"{n}:{w:g}" for n, w in c), **sc})
        first = combos[0][0][0]
        rows.append({"origin": o, "blend": first, **res.score_surface(o, res.surfaces[(o, first)])})
    df = pd.DataFrame(rows)
    print(f"{df['origin'].nunique()} origins")
    wide = df.pivot(index="origin", columns="blend", values="hit_rate_5")
    first = combos[0][0][0]
    out = df.groupby("blend", sort=False)[["hit_rate_1", "hit_rate_5", "hit_rate_10", "info_gain"]].mean()
    out["paired_vs_first_pts"] = [(wide[b] - wide[first]).mean() * 100 for b in out.index]
    out["paired_se_pts"] = [(wide[b] - wide[first]).std(ddof=1) / np.sqrt(len(wide)) * 100 for b in out.index]
    out["wins"] = [int((wide[b] > wide[first]).sum()) for b in out.index]
    return out


def static_ceiling(area: str = "chicago") -> dict:
    """Look-ahead diagnostics (no forecast could have them): the hit rate at 5% of fixed maps built
    with knowledge of the future, at every origin of each window. ``all_but_horizon``: every
    incident of the data (all years, before and after the origin) except those of the horizon
    scored; ``same_year_others``: the window's other horizons. They bound what a map of persistent
    places, however well estimated, could reach; the rest would have to come from dynamics."""
    from hotspots.forecast import metrics
    from hotspots.forecast.harness import to_days

    events, grid, _context, _seed = inputs(area)
    m = grid.mask
    everything = grid.counts(events.x, events.y)
    out: dict = {}
    for which in ("tune", "eval"):
        orgs, hz = origins(area, which)
        first, last = to_days(orgs[0]), to_days(hz.end(orgs[-1]))
        sel = (events.t >= first) & (events.t < last)
        window = grid.counts(events.x[sel], events.y[sel])
        rates: dict = {"all_but_horizon": [], "same_year_others": []}
        for o in orgs:
            sel = (events.t >= to_days(o)) & (events.t < to_days(hz.end(o)))
            hor = grid.counts(events.x[sel], events.y[sel])
            for k, s in (("all_but_horizon", everything - hor), ("same_year_others", window - hor)):
                risk = np.where(m, s.astype(float), np.nan)
                sc = metrics.score_forecast(risk, hor.astype(float), m, (0.05,), float(sel.sum()))
                rates[k].append(sc["hit_rate_5"])
        out[which] = {k: float(np.mean(v)) for k, v in rates.items()} | {"origins": len(orgs)}
    return out


#: Barnet: the first origin that knows a month of the new police.uk location set (2022-07); before
#: it a ``+relocated`` candidate is the plain one (no change detected, nothing moved).
FIRST_RELOCATED = {"barnet": pd.Timestamp("2022-08-01", tz="Europe/London")}


def _stored(area, allv, n, o) -> Path:
    """The file of (n, o); before the location change a relocated candidate's is its plain one's."""
    p = _path(area, allv[n], o)
    plain = n.removesuffix("+relocated")
    if not p.exists() and plain != n and area in FIRST_RELOCATED and o < FIRST_RELOCATED[area]:
        return _path(area, allv[plain], o)
    return p


def load(area: str, which: str, names, partial: bool = False):
    """A BacktestResult (scores, surfaces, observed) of the named candidates over the window, from
    disk (``partial``: only the origins where all of them are stored)."""
    from hotspots.forecast.harness import BacktestResult

    _events, grid, _context, seed = inputs(area)
    allv = variants(area, seed)
    orgs, hz = origins(area, which)
    rows, surfaces, observed = [], {}, {}
    for o in orgs:
        if partial and not all(_stored(area, allv, n, o).exists() for n in names):
            continue
        for n in names:
            p = _stored(area, allv, n, o)
            if not p.exists():
                raise SystemExit(f"missing {n} at {o:%Y-%m-%d}: run 'score' first")
            z = np.load(p)
            rows.append({"origin": o, "method": n, **json.loads(str(z["row"]))})
            surfaces[(o, n)] = z["surface"]
            observed[o] = (z["actual"], float(z["expected"]))
    return BacktestResult(
        scores=pd.DataFrame(rows),
        curves=pd.DataFrame(),
        shares=(0.01, 0.05, 0.1),
        horizon=hz,
        methods=tuple(names),
        n_cells=int(grid.mask.sum()),
        cell_size_m=float(grid.cell_size),
        surfaces=surfaces,
        observed=observed,
        grid=grid,
    )


def table(area: str, which: str, names) -> pd.DataFrame:
    """Mean hit rates over the window's stored origins, and each candidate's paired difference
    against the first (points, its standard error, origins better) at 5% and (``_1``) 1%."""
    res = load(area, which, names, partial=True)
    print(f"{res.scores['origin'].nunique()} origins")
    s = res.scores.groupby("method", sort=False)[["hit_rate_1", "hit_rate_5", "hit_rate_10", "info_gain"]].mean()
    ref = names[0]
    for share, tag in ((5, ""), (1, "_1")):
        wide = res.scores.pivot(index="origin", columns="method", values=f"hit_rate_{share}")
        s[f"paired_vs_first_pts{tag}"] = [(wide[n] - wide[ref]).mean() * 100 for n in s.index]
        s[f"paired_se_pts{tag}"] = [(wide[n] - wide[ref]).std(ddof=1) / np.sqrt(len(wide)) * 100 for n in s.index]
        s[f"wins_vs_first{tag}"] = [int((wide[n] > wide[ref]).sum()) for n in s.index]
    return s


def record(area: str, which: str, cands, baseline: str = "naive_12m", rule=None):
    """The selection record (DEFAULT_RULE) over the evaluation window of ``which`` ('rule+eval' or
    'tune'), choosing from the origins of the window before each."""
    import dataclasses

    from hotspots.forecast.selection import DEFAULT_RULE, blend_scorer, track_record

    rule = rule or DEFAULT_RULE
    names = list(dict.fromkeys([*cands, baseline]))
    res = load(area, which, names)
    if which == "rule+eval":
        ev, _ = origins(area, "eval")
    else:
        orgs, _ = origins(area, which)
        ev = orgs[24:] if area == "barnet" else orgs[13:]
    out = {}
    for share in (0.05, 0.01):
        r = dataclasses.replace(rule, share=share)
        rec = track_record(
            res.scores, res.horizon, r, cands, ev, baseline=baseline, score_blend=blend_scorer(res, share)
        )
        out[share] = rec
    return out


#: Barnet's candidates after the location change: the defaults on the relocated history.
BARNET_CANDIDATES = tuple(
    f"{n}+relocated"
    for n in (
        "naive_3m",
        "naive_12m",
        "naive_36m",
        "kde",
        "longrun_kde",
        "longrun_counts",
        "gistar",
        "learned",
        "blend",
    )
)
#: The same with the learned model as it was before the neighbourhood features, the ensemble and
#: the 31 bins of month data (255 bins).
BARNET_CANDIDATES_V1 = tuple(
    c.replace("learned+", "learned_v1+").replace("blend+", "blend_learned_v1+") for c in BARNET_CANDIDATES
)

#: The same with the neighbourhood features and the five-seed ensemble (``n_seeds=5``, a measured option).
BARNET_CANDIDATES_BAG5 = tuple(
    c.replace("learned+", "learned_rings_bag5+").replace("blend+", "blend_learned_rings_bag5+")
    for c in BARNET_CANDIDATES
)


#: A second learned candidate beside today's (31 bins): the model and its blend with 63 bins (the
#: better single model at 1% on the tuning window), a measured option, not the default.
BARNET_CANDIDATES_BINS63 = (
    *BARNET_CANDIDATES,
    "learned_bins63+relocated",
    "blend_learned_bins63+relocated",
)


def goals(area: str = "barnet") -> dict:
    """The evaluation window's figures: every candidate's mean and the selection record (DEFAULT_RULE,
    choosing from the rule's window of origins before each evaluation origin) for the candidates
    of today's engine, and for those with the earlier learned model when they are stored."""
    import os

    out: dict = {"load_average": os.getloadavg()[0]}
    sets = {
        "current": BARNET_CANDIDATES,
        "learned_v1": BARNET_CANDIDATES_V1,
        "rings_bag5": BARNET_CANDIDATES_BAG5,
        "with_bins63": BARNET_CANDIDATES_BINS63,
    }
    for label, cands in sets.items():
        try:
            rec = record(area, "rule+eval", list(cands))
        except SystemExit as exc:
            out[label] = f"not stored: {exc}"
            continue
        r5, r1 = rec[0.05], rec[0.01]
        ev, _ = origins(area, "eval")
        res = load(area, "eval", [*cands, "naive_12m"])
        means = res.scores.groupby("method")[["hit_rate_1", "hit_rate_5"]].mean()
        out[label] = {
            "record_5": r5.achieved,
            "record_1": r1.achieved,
            "naive_12m_5": r5.baseline_mean,
            "naive_12m_1": r1.baseline_mean,
            "gain_5": r5.relative_gain,
            "gain_1": r1.relative_gain,
            "best_single": r5.best_single,
            "best_single_5": r5.best_single_mean,
            "gap_to_best_single_points": (r5.achieved - r5.best_single_mean) * 100,
            "chosen_5": r5.table["chosen"].value_counts().to_dict(),
            "means": means.round(6).to_dict(orient="index"),
            "origins": len(ev),
        }
    return out


def fit_timing(names=("learned_v1", "learned_rings", "learned_rings_bag5"), picks=(12, 24, 35)) -> list:
    """Seconds per fit of the learned variants at three Barnet tuning origins: each once with its
    features computed (cold) and once more with them cached (warm), and the time inside the
    boosting models' ``fit`` alone."""
    import os

    from hotspots.forecast import methods as M
    from hotspots.forecast.harness import backtest

    spent = {"s": 0.0}
    base = M.HistGradientBoostingRegressor

    class Timed(base):  # type: ignore[misc, valid-type]
        def fit(self, X, y, *a, **k):
            t0 = time.perf_counter()
            try:
                return super().fit(X, y, *a, **k)
            finally:
                spent["s"] += time.perf_counter() - t0

    events, grid, context, seed = inputs("barnet")
    allv = variants("barnet", seed)
    orgs, hz = origins("barnet", "tune")
    rows = []
    M.HistGradientBoostingRegressor = Timed
    try:
        for o in [orgs[i] for i in picks]:
            cache: dict = {}
            for phase in ("cold", "warm"):
                for n in names:
                    spent["s"] = 0.0
                    t0 = time.perf_counter()
                    backtest(events, grid, {n: allv[n]}, [o], hz, context=context, cache=cache)
                    rows.append(
                        {
                            "origin": f"{o:%Y-%m-%d}",
                            "phase": phase,
                            "method": n,
                            "wall_s": round(time.perf_counter() - t0, 1),
                            "boosting_s": round(spent["s"], 1),
                            "load": round(os.getloadavg()[0], 1),
                        }
                    )
                    print(json.dumps(rows[-1]), flush=True)
    finally:
        M.HistGradientBoostingRegressor = base
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["timing"]:
        if len(sys.argv) > 2:  # timing <names>: the named variants, kept beside the default file
            rows = fit_timing(tuple(sys.argv[2].split(",")))
            (OUT / "fit_timing_barnet_cheaper.json").write_text(json.dumps(rows, indent=1))
        else:
            (OUT / "fit_timing_barnet.json").write_text(json.dumps(fit_timing(), indent=1))
        sys.exit(0)
    if sys.argv[1:2] == ["ceiling"]:  # ceiling [area]: look-ahead fixed maps (diagnostic only)
        c = static_ceiling(*(sys.argv[2:3] or ["chicago"]))
        (OUT / f"static_ceiling_{(sys.argv[2:3] or ['chicago'])[0]}.json").write_text(json.dumps(c, indent=1))
        print(json.dumps(c, indent=1))
        sys.exit(0)
    if sys.argv[1:2] == ["goals"]:
        g = goals()
        (OUT / "goals_barnet.json").write_text(json.dumps(g, indent=1, default=str))
        print(json.dumps(g, indent=1, default=str))
        sys.exit(0)
    cmd, area, which, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")  # blends: a spec
    pd.set_option("display.width", 200)
    if cmd == "score":
        score(area, which, names)
    elif cmd == "blends":
        print(blends(area, which, sys.argv[4]).round(4).to_string())
    elif cmd == "table":
        print(table(area, which, names).round(4).to_string())
    elif cmd == "record":
        for share, rec in record(area, which, names).items():
            print(
                f"share {share}: record {rec.achieved:.4f} baseline {rec.baseline_mean:.4f} "
                f"gain {rec.relative_gain * 100:+.2f}% best single {rec.best_single} {rec.best_single_mean:.4f}"
            )
            print(rec.table["chosen"].value_counts().to_string())
