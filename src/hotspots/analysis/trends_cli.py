"""``hotspots trends`` and ``hotspots evaluate`` subcommands."""

from __future__ import annotations

from ..cli_args import add_config_args


def cmd_trends(args) -> int:
    from pathlib import Path

    from ..config import load_config, with_overrides
    from .trends import load_inputs, run_trends

    cfg = load_config(args.config, data_dir=args.data_dir)
    over = {}
    if args.scheme:
        over["scheme"] = args.scheme
    if args.step_days:
        over["step"] = "days"
        over["step_days"] = args.step_days
    if over:
        cfg = with_overrides(cfg, trends=over)
    area, inc, grid, fim = load_inputs(cfg, args.date)
    tr = run_trends(cfg, inc, area, grid, fim)
    out = Path(args.out) if args.out else Path(cfg.output.folder) / f"trends-{fim:%Y-%m-%d}"
    paths = tr.write(out)
    em = tr.emerging
    if not args.quiet:
        for n in tr.notes:
            print("note:", n)
        print(f"Emerging hotspots ({em.scheme} scheme), {em.n_cells:,} cells x {em.n_steps} {em.step_label}s:")
        for label, n in sorted(em.counts_by_class().items(), key=lambda kv: -kv[1]):
            print(f"  {n:>7,}  {label}")
        flagged = tr.exceptions[tr.exceptions["flag"] != ""] if len(tr.exceptions) else tr.exceptions
        print(f"Exceptions flagged: {len(flagged)}")
        for r in flagged.head(10).itertuples():
            print("  ", r.reason)
    print(f"Trends written to {out.resolve()} ({len(paths)} files)")
    return 0


def add_trends_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "trends", help="emerging-hotspot classes, short-term exceptions and the seasonal outlook for one FIM date",
        description="Classify every grid cell as a new, consecutive, intensifying, persistent, diminishing, "
                    "sporadic, oscillating or historical hot (or cold) spot from a space-time Gi* cube whose "
                    "steps end at the FIM date; list what changed since the last meeting and whether the coming "
                    "fortnight is seasonally high. Settings: [trends] and [exceptions] in the config.")
    add_config_args(p)
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the FIM date (default: the day after the latest incident)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: [output] folder/trends-DATE)")
    p.add_argument("--scheme", choices=("esri", "uk"), help="class scheme (overrides [trends] scheme)")
    p.add_argument("--step-days", type=int, metavar="N", help="use N-day steps (day-precision data only)")
    p.set_defaults(func=cmd_trends)


def cmd_evaluate(args) -> int:
    from pathlib import Path

    from ..config import load_config, section
    from ..errors import InputError
    from ..geo.study_area import load_study_area
    from ..ingest import load_incidents
    from .evaluate import EvaluateConfig, evaluate_intervention, parse_target, read_polygon

    cfg = load_config(args.config, data_dir=args.data_dir)
    ecfg = section(cfg, "evaluate", EvaluateConfig)
    area = load_study_area(cfg)
    inc = load_incidents(cfg, area).incidents
    if len(inc) == 0:
        raise InputError("no accepted incidents to evaluate; run `hotspots ingest` to see why.")
    target = parse_target(args.target)
    control = read_polygon(args.control, "control") if args.control else (
        read_polygon(cfg.path(ecfg.control), "control") if ecfg.control else None)
    dcontrol = read_polygon(cfg.path(ecfg.displacement_control), "displacement control") \
        if ecfg.displacement_control else None
    types = tuple(args.crime_type or ()) or ecfg.crime_types
    res = evaluate_intervention(inc, target, args.start, args.end, boundary=area.boundary,
                                buffer_m=args.buffer_m if args.buffer_m is not None else ecfg.buffer_m,
                                control=control, displacement_control=dcontrol,
                                before_days=args.before_days or ecfg.before_days,
                                control_weight=ecfg.control_weight, crime_types=types)
    out = Path(args.out) if args.out else Path(cfg.output.folder) / f"evaluation-{args.start}"
    paths = res.write(out)
    if not args.quiet:
        for n in res.notes:
            print("note:", n)
        print(res.table.to_string(index=False))
    print(res.summary())
    print(f"Table: {paths['table'].resolve()}  Plot: {paths['plot'].resolve()}")
    return 0


def add_evaluate_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="before/after evaluation of an intervention (CCTV, patrols) with the WDD test",
        description="Count incidents before and after an intervention in its target area, a displacement buffer "
                    "and a control area; report the Weighted Displacement Difference (Wheeler & Ratcliffe 2018) "
                    "with its z-test and the before/after rate ratios with exact Poisson tests. Writes "
                    "evaluation.csv, evaluation.png and evaluation_areas.gpkg.")
    add_config_args(p)
    p.add_argument("--target", required=True, metavar="FILE|X,Y,R",
                   help="target area: a polygon file (GeoJSON/GeoPackage) or x,y,radius in metres (EPSG:27700)")
    p.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="first day of the intervention")
    p.add_argument("--end", metavar="YYYY-MM-DD", help="day after the intervention ended (default: end of data)")
    p.add_argument("--buffer-m", type=float, metavar="M", help="displacement buffer width in metres "
                                                               "(default [evaluate] buffer_m, 200)")
    p.add_argument("--before-days", type=int, metavar="N", help="length of the before period in days "
                                                                "(default: same as the after period)")
    p.add_argument("--control", metavar="FILE", help="control polygon (default: rest of the study area "
                                                     "beyond the buffer, area-weighted)")
    p.add_argument("--crime-type", action="append", metavar="TYPE",
                   help="canonical crime type to count (repeatable; default all)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: [output] folder/evaluation-START)")
    p.set_defaults(func=cmd_evaluate)
