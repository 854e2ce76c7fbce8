"""``hotspots cctv``: the coverage report for the CCTV project board.

    hotspots cctv --config config/demo.toml --k 10 --out out/cctv
    hotspots cctv --config config/barnet.toml --from 2016-01-01 --to 2018-06-30

Reads the cameras ([cameras] inventory), incidents and study area from the
config, and writes coverage_by_type.csv, gaps.csv/.gpkg, proposed_sites.csv,
marginal_gain.csv/.png, set_cover.csv, anpr_entry_points.csv, coverage.gpkg,
summary.json and public/public_map.html into --out (written whole: a hidden
folder swapped into place when complete, one run at a time; see hotspots.outfolder).
"""

from __future__ import annotations

import argparse
from typing import Any

from . import options

NAME = "cctv"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="CCTV/ANPR coverage of harm, gaps, new camera and reader sites, public map",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p)
    p.add_argument("--k", type=int, metavar="N", help="number of new cameras to site (default [siting] k)")
    p.add_argument("--anpr-k", type=int, metavar="N", help="number of new ANPR readers (default [anpr] k, 20)")
    p.add_argument(
        "--from",
        dest="period_from",
        metavar="YYYY-MM-DD",
        help="first day of the period analysed (default [coverage] period_start / all)",
    )
    p.add_argument(
        "--to",
        dest="period_to",
        metavar="YYYY-MM-DD",
        help="last day of the period analysed (default [coverage] period_end / all)",
    )
    p.add_argument("--inventory", metavar="FILE", help="camera inventory to use instead of [cameras] inventory")
    return p


def _with_overrides(cfg: Any, args: argparse.Namespace) -> Any:
    from pathlib import Path

    cov = {}
    if args.period_from:
        cov["period_start"] = args.period_from
    if args.period_to:
        cov["period_end"] = args.period_to
    if cov:
        cfg = cfg.override("coverage", **cov)
    if args.k is not None:
        cfg = cfg.override("siting", k=args.k)
    if args.inventory:
        cfg = cfg.override("cameras", inventory=str(Path(args.inventory).resolve()))
    return cfg


def _print_summary(args: argparse.Namespace, s: dict[str, Any]) -> None:
    options.say(
        args,
        f"Inventory: {s['inventory']} ({s['live_cameras_used']} live cameras used, "
        f"{s['cameras_rejected']} rows rejected)",
    )
    options.say(
        args,
        f"Period {s['period']['start']} to {s['period']['end']}: {s['incidents']:,} incidents; live "
        f"cameras see {100 * s['share_incidents_covered']:.1f}% of incidents and "
        f"{100 * s['share_harm_covered']:.1f}% of harm",
    )
    si = s["siting"]
    options.say(
        args,
        f"{si['k']} new cameras ({si['method']}, {si['status']}): harm covered "
        f"{100 * si['share_with_new']:.1f}% (gap to bound {100 * si['gap']:.2f}%)",
    )
    if s["anpr"]:
        a = s["anpr"]
        options.say(
            args,
            f"ANPR: {a['entry_points']} entry points; existing readers cover "
            f"{100 * a['share_existing_readers']:.1f}% of their weight, with {a['new_readers']} new "
            f"readers {100 * a['share_with_new_readers']:.1f}%",
        )
    for n in s["notes"]:
        options.say(args, "note:", n)


def main(args: argparse.Namespace) -> int:
    from ..outfolder import writing
    from ..render.coverage import write_coverage_report
    from ..render.public import public_tier_for
    from ..stages.coverage import coverage
    from ..stages.inputs import load_inputs

    cfg = _with_overrides(options.load(args), args)
    options.writable_out(args)
    inp = load_inputs(cfg, None, options.reporter(args))
    inc = inp.incidents
    harm = inp.grid.counts(inc["x"].to_numpy(float), inc["y"].to_numpy(float), inc["harm"].to_numpy(float))
    res = coverage(cfg, inc, inp.area, inp.grid, harm, anpr_k=args.anpr_k)
    out = options.out_dir(args)
    with writing(out) as tmp:
        write_coverage_report(res, tmp, public_tier_for(inp), render=cfg.render)
    _print_summary(args, res.summary())
    print(f"Coverage report written to {out}")
    return 0
