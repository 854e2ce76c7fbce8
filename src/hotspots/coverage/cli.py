"""``hotspots cctv``: the coverage report for the CCTV project board.

    hotspots cctv --config config/demo.toml --k 10 --out out/cctv
    hotspots cctv --config config/barnet.toml --from 2016-01-01 --to 2018-06-30

Reads the cameras ([cameras] inventory), incidents and study area from the
config, and writes coverage_by_type.csv, gaps.csv/.gpkg, proposed_sites.csv,
marginal_gain.csv/.png, set_cover.csv, anpr_entry_points.csv, coverage.gpkg,
summary.json and public/public_map.html into the output folder (written to a
temporary folder first and renamed into place).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path


def add_cctv_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``hotspots cctv`` on the main command's subparsers."""
    p = subparsers.add_parser(
        "cctv", help="CCTV/ANPR coverage of harm, gaps, new camera and reader sites, public map",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", "-c", required=True, metavar="FILE", help="the run's TOML settings file")
    p.add_argument("--data-dir", metavar="DIR", help="folder that relative input paths start from")
    p.add_argument("--k", type=int, metavar="N", help="number of new cameras to site (default [siting] k)")
    p.add_argument("--anpr-k", type=int, metavar="N", help="number of new ANPR readers (default [anpr] k, 20)")
    p.add_argument("--from", dest="period_from", metavar="YYYY-MM-DD",
                   help="first day of the period analysed (default [coverage] period_start / all)")
    p.add_argument("--to", dest="period_to", metavar="YYYY-MM-DD",
                   help="last day of the period analysed (default [coverage] period_end / all)")
    p.add_argument("--inventory", metavar="FILE", help="camera inventory to use instead of [cameras] inventory")
    p.add_argument("--out", metavar="DIR", help="output folder (default: [output] folder/cctv)")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the output folder")
    p.set_defaults(func=cctv_command)
    return p


def cctv_command(args) -> int:
    from ..config import load_config, with_overrides
    from ..geo.grid import Grid
    from ..geo.study_area import load_study_area
    from ..ingest import load_incidents
    from .report import run_coverage

    cfg = load_config(args.config, data_dir=args.data_dir)
    cov = {}
    if args.period_from:
        cov["period_start"] = args.period_from
    if args.period_to:
        cov["period_end"] = args.period_to
    over = {}
    if cov:
        over["coverage"] = cov
    if args.k is not None:
        over["siting"] = {"k": args.k}
    if args.inventory:
        over["cameras"] = {"inventory": str(Path(args.inventory).resolve())}
    if over:
        cfg = with_overrides(cfg, **over)
    say = (lambda *a: None) if args.quiet else print
    area = load_study_area(cfg)
    ing = load_incidents(cfg, area)
    say(ing.report())
    grid = Grid.from_boundary(area.boundary, cfg.grid.cell_size_m)
    inc = ing.incidents
    harm = grid.counts(inc["x"].to_numpy(float), inc["y"].to_numpy(float), inc["harm"].to_numpy(float))
    res = run_coverage(cfg, inc, area, grid, harm, anpr_k=args.anpr_k)
    out = Path(args.out) if args.out else (cfg.path(cfg.output.folder) / "cctv")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        res.write(tmp)
        if out.exists():
            old = out.with_name(f".{out.name}-old")
            if old.exists():
                shutil.rmtree(old)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    s = res.summary()
    say(f"Inventory: {s['inventory']} ({s['live_cameras_used']} live cameras used, {s['cameras_rejected']} rows "
        "rejected)")
    say(f"Period {s['period']['start']} to {s['period']['end']}: {s['incidents']:,} incidents; live cameras see "
        f"{100 * s['share_incidents_covered']:.1f}% of incidents and {100 * s['share_harm_covered']:.1f}% of harm")
    si = s["siting"]
    say(f"{si['k']} new cameras ({si['method']}, {si['status']}): harm covered "
        f"{100 * si['share_with_new']:.1f}% (gap to bound {100 * si['gap']:.2f}%)")
    if s["anpr"]:
        a = s["anpr"]
        say(f"ANPR: {a['entry_points']} entry points; existing readers cover {100 * a['share_existing_readers']:.1f}% "
            f"of their weight, with {a['new_readers']} new readers {100 * a['share_with_new_readers']:.1f}%")
    for n in s["notes"]:
        say("note:", n)
    print(f"Coverage report written to {out}")
    return 0
