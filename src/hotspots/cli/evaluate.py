"""``hotspots evaluate``: before/after evaluation of an intervention (CCTV, patrols) with the WDD test.

Count incidents before and after an intervention in its target area, a displacement buffer and a
control area; report the Weighted Displacement Difference (Wheeler & Ratcliffe 2018) with its
z-test and the before/after rate ratios with exact Poisson tests. Writes evaluation.csv,
evaluation.png and evaluation_areas.gpkg into --out.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import options

NAME = "evaluate"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="before/after evaluation of an intervention (CCTV, patrols) with the WDD test",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p)
    p.add_argument(
        "--target",
        required=True,
        metavar="FILE|X,Y,R",
        help="target area: a polygon file (GeoJSON/GeoPackage) or x,y,radius in metres (working CRS)",
    )
    p.add_argument(
        "--start",
        required=True,
        metavar="YYYY-MM-DD",
        type=options.calendar_date("--start", "the first day of the intervention"),
        help="first day of the intervention",
    )
    p.add_argument(
        "--end",
        metavar="YYYY-MM-DD",
        type=options.calendar_date("--end", "the day after the intervention ended"),
        help="day after the intervention ended (default: end of data)",
    )
    p.add_argument(
        "--buffer-m",
        type=float,
        metavar="M",
        help="displacement buffer width in metres (default [evaluate] buffer_m, 200)",
    )
    p.add_argument(
        "--before-days",
        type=int,
        metavar="N",
        help="length of the before period in days (default: same as the after period)",
    )
    p.add_argument(
        "--control",
        metavar="FILE",
        help="control polygon (default: rest of the study area beyond the buffer, area-weighted)",
    )
    p.add_argument(
        "--crime-type", action="append", metavar="TYPE", help="canonical crime type to count (repeatable; default all)"
    )
    return p


def main(args: argparse.Namespace) -> int:
    from ..analysis.evaluate import evaluate_intervention, parse_target, read_polygon
    from ..stages.inputs import load_inputs

    cfg = options.load(args)
    given = {k: v for k, v in (("buffer_m", args.buffer_m), ("before_days", args.before_days)) if v is not None}
    if given:  # checked like the config's keys (finite, >= 0) before anything is read
        cfg = options.override(cfg, "evaluate", "--buffer-m/--before-days", **given)
    options.writable_out(args)
    ecfg = cfg.evaluate
    inp = load_inputs(cfg, None, options.reporter(args))
    crs = cfg.crs
    target = parse_target(args.target, crs)
    control = (
        read_polygon(args.control, "control", crs)
        if args.control
        else (read_polygon(cfg.path(ecfg.control), "control", crs) if ecfg.control else None)
    )
    dcontrol = (
        read_polygon(cfg.path(ecfg.displacement_control), "displacement control", crs)
        if ecfg.displacement_control
        else None
    )
    types = tuple(args.crime_type or ()) or ecfg.crime_types
    res = evaluate_intervention(
        inp.incidents,
        target,
        args.start,
        args.end,
        boundary=inp.area.boundary,
        buffer_m=ecfg.buffer_m,
        control=control,
        displacement_control=dcontrol,
        before_days=ecfg.before_days,
        control_weight=ecfg.control_weight,
        crime_types=types,
        timezone=cfg.timezone,
    )
    paths = res.write(options.out_dir(args))
    if not args.quiet:
        for n in res.notes:
            print("note:", n)
        print(res.table.to_string(index=False))
    print(res.summary())
    print(f"Table: {paths['table'].resolve()}  Plot: {paths['plot'].resolve()}")
    return 0
