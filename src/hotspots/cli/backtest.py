"""``hotspots backtest``: score forecast methods on the run's own data by rolling origin.

For each origin between --start and --end, fit every method on the incidents known before the
origin and score its forecast on the next horizon (14 days; one month for month-precision data
such as police.uk): hit rate, PAI, PEI and RRI at fixed shares of the area, and the Poisson
log-likelihood. Writes backtest_summary.csv (mean and standard error over origins),
backtest_scores.csv (every origin), backtest_curves.csv and two PNG plots into --out.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import options

NAME = "backtest"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="score forecast methods (counts, KDE, near-repeat, Gi*, learned model) by rolling-origin backtest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p)
    p.add_argument(
        "--start",
        required=True,
        metavar="YYYY-MM-DD",
        type=options.calendar_date("--start", "the first forecast origin"),
        help="first forecast origin",
    )
    p.add_argument(
        "--end",
        required=True,
        metavar="YYYY-MM-DD",
        type=options.calendar_date("--end", "the last forecast origin"),
        help="last forecast origin (inclusive)",
    )
    p.add_argument(
        "--horizon-days",
        type=int,
        default=0,
        metavar="N",
        help="forecast horizon in days (default 14; month-precision data always uses one month)",
    )
    p.add_argument(
        "--step-days",
        type=int,
        default=0,
        metavar="N",
        help="days between origins (default: the horizon; monthly for month-precision data)",
    )
    p.add_argument(
        "--methods",
        default="",
        metavar="LIST",
        help="comma-separated methods (default: all that suit the data): naive_3m, naive_12m, "
        "naive_36m, kde, kde_<R>m, longrun_kde, longrun_counts, gistar, prospective, learned",
    )
    p.add_argument(
        "--crime-types",
        default="",
        metavar="LIST",
        help="comma-separated canonical crime types (default: [forecast] crime_types, the burglary types)",
    )
    p.add_argument(
        "--shares",
        default="",
        metavar="LIST",
        help="area shares for the metrics, e.g. 0.01,0.05,0.1 (default: [forecast] shares)",
    )
    p.add_argument(
        "--cell-size",
        type=float,
        default=None,
        metavar="M",
        help="grid cell size in metres (default: [grid] cell_size_m)",
    )
    return p


def _list(s: str) -> list[str]:
    return [v.strip() for v in s.split(",") if v.strip()]


def _print_summary(res: Any, origins: list[Any], shares: tuple[float, ...]) -> None:
    s = res.summary()
    k = "5" if 0.05 in shares else f"{shares[0] * 100:g}"
    print(f"\nMean over {len(origins)} origins (± standard error):")
    for _, r in s.iterrows():
        print(
            f"  {r['method']:<16} hit rate at {k}%: {r[f'hit_rate_{k}'] * 100:5.1f}% ± "
            f"{r[f'hit_rate_{k}_se'] * 100:.1f}   PAI {r[f'pai_{k}']:.2f}   PEI {r[f'pei_{k}']:.2f}   "
            f"info gain {r['info_gain']:+.3f} nats/incident"
        )
    print(f"Best at {k}% of the area: {res.best(0.05 if 0.05 in shares else shares[0])}")
    for n in res.notes:
        print("note:", n)


def main(args: argparse.Namespace) -> int:
    from ..errors import ConfigError, InputError
    from ..forecast.features import CellContext
    from ..forecast.harness import EventTable, Horizon, backtest, make_origins
    from ..forecast.methods import default_method_names, make_methods
    from ..forecast.plots import plot_capture_curves, plot_hit_rate_by_origin
    from ..stages.inputs import load_inputs

    cfg = options.load(args)
    if args.cell_size is not None:  # checked like [grid] cell_size_m (finite, >= 0) before anything is read
        cfg = options.override(cfg, "grid", "--cell-size", cell_size_m=args.cell_size)
    options.writable_out(args)
    fc = cfg.forecast
    inp = load_inputs(cfg, None, options.reporter(args))
    inc = inp.incidents
    types = _list(args.crime_types) or list(fc.crime_types)
    sel = inc[inc["crime_type"].isin(types)] if types else inc
    if len(sel) == 0:
        raise InputError(
            f"no incidents of types {types} in {args.config}; present: "
            f"{sorted(inc['crime_type'].unique())}. Choose --crime-types."
        )
    events = EventTable.from_incidents(sel)
    grid = inp.grid
    horizon = Horizon.for_precision(events.precision, args.horizon_days or 14)
    if events.precision == "month" and args.horizon_days:
        options.say(args, "note: month-precision data, so the horizon is one calendar month (--horizon-days ignored)")
    try:
        shares = tuple(float(s) for s in _list(args.shares)) or tuple(fc.shares)
    except ValueError:
        raise ConfigError(f"--shares {args.shares!r}: give area shares as numbers, e.g. 0.01,0.05,0.1") from None
    names = _list(args.methods) or list(default_method_names(events.precision))
    methods = make_methods(names, cfg.project.seed, events.precision)
    origins = make_origins(args.start, args.end, horizon, cfg.timezone, args.step_days or None)
    options.say(
        args,
        f"{len(events):,} incidents ({', '.join(types)}; {events.precision} precision), "
        f"{grid.cell_size:g} m cells ({grid.n_cells:,} in the area), {len(origins)} origins, horizon "
        f"{horizon.label}, methods: {', '.join(names)}",
    )
    ctx = CellContext.from_study_area(inp.area, grid)
    res = backtest(events, grid, methods, origins, horizon, shares, ctx, progress=None if args.quiet else print)
    out = options.out_dir(args)
    paths = res.to_csv(out)
    plot_capture_curves(res, out / "hit_rate_vs_area.png")
    plot_hit_rate_by_origin(res, out / "hit_rate_by_origin.png", share=0.05 if 0.05 in shares else shares[0])
    _print_summary(res, origins, shares)
    print(
        f"Written: {paths['summary']}, {paths['scores']}, {out / 'hit_rate_vs_area.png'}, "
        f"{out / 'hit_rate_by_origin.png'}"
    )
    return 0
