"""The ``hotspots`` command. Thin: parse arguments, load the config, call the engine.

Heavy libraries are imported inside the commands, so ``hotspots --help`` is quick.
Errors the engine raises on purpose (:class:`~hotspots.errors.HotspotsError`)
are printed without a traceback and the command exits with status 2.
"""

from __future__ import annotations

import argparse
import sys

from .cli_args import add_config_args

DESCRIPTION = """\
hotspots turns crime records and ward boundaries into the products a community-safety
partnership works from: hotspot maps, a ranked tasking list for the Fortnightly
Intelligence Meeting (FIM), near-repeat burglary alerts and CCTV/ANPR siting.

Typical use:
  hotspots ingest --config config/demo.toml          check the input files and report
  hotspots run --config config/demo.toml --date 2025-11-14
                                                     build the FIM pack for that meeting
  hotspots demo-data --out data                      rebuild the synthetic demo borough

Every command takes --help. Settings live in a TOML config file (see config/demo.toml).
"""


def _load(args):
    from .config import load_config

    return load_config(args.config, data_dir=args.data_dir)


def cmd_ingest(args) -> int:
    from .geo.study_area import load_study_area
    from .ingest import load_incidents

    cfg = _load(args)
    area = load_study_area(cfg)
    for n in area.notes:
        print("note:", n)
    res = load_incidents(cfg, area)
    print(f"Study area: {cfg.project.name}, {len(area.wards)} wards, {area.area_km2:.1f} km²")
    print(res.report())
    if args.quarantine:
        res.write_quarantine(args.quarantine)
        print(f"Quarantined rows written to {args.quarantine}")
    return 0


def cmd_run(args) -> int:
    from . import pipeline

    cfg = _load(args)
    out = pipeline.run(cfg, fim_date=args.date, out_dir=args.out, quiet=args.quiet,
                       **({"previous": args.previous} if getattr(args, "previous", None) else {}),
                       **({"scheduler": args.scheduler} if getattr(args, "scheduler", None) else {}))
    print(f"FIM pack written: {out / 'index.html'}")
    return 0


def cmd_demo_data(args) -> int:
    from pathlib import Path

    from .demo import generate_demo

    truth = generate_demo(Path(args.out))
    print(f"Demo borough written to {Path(args.out).resolve()}")
    for p in getattr(truth, "paths", {}).values() if isinstance(getattr(truth, "paths", None), dict) else []:
        print("  ", p)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="hotspots", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"hotspots {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="read and validate the input files, report what was accepted and why rows "
                                      "were quarantined")
    add_config_args(p)
    p.add_argument("--quarantine", metavar="CSV", help="also write the quarantined rows (with reasons) to this CSV")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("run", help="build the FIM pack (maps, tasking list, GIS layers) for one meeting date")
    add_config_args(p)
    p.add_argument("--date", metavar="YYYY-MM-DD",
                   help="the FIM meeting date; only incidents before it are used (default: the day after the "
                        "latest incident)")
    p.add_argument("--out", metavar="DIR", help="folder for the pack (default: [output] folder/fim-DATE)")
    p.add_argument("--previous", metavar="DIR",
                   help="the last FIM's pack folder, so tasking ids carry over (default: the latest earlier "
                        "fim-YYYY-MM-DD folder beside the output folder)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 ('local' = the cores of this "
                        "machine; default: [scale] scheduler in the config, else no Dask)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo-data", help="regenerate the synthetic demo borough (deterministic)")
    p.add_argument("--out", default="data", metavar="DIR", help="folder to write into (default: data)")
    p.set_defaults(func=cmd_demo_data)

    for register in _plugins():
        register(sub)
    return parser


def _plugins():
    """Subcommands that live beside their analyses."""
    regs = []
    for mod, fn in (("hotspots.analysis.nearrepeat_cli", "add_nearrepeat_parser"),
                    ("hotspots.analysis.trends_cli", "add_trends_parser"),
                    ("hotspots.analysis.trends_cli", "add_evaluate_parser"),
                    ("hotspots.coverage.cli", "add_cctv_parser"),
                    ("hotspots.forecast.cli", "add_backtest_parser"),
                    ("hotspots.scale.cli", "add_scale_parsers")):
        try:
            module = __import__(mod, fromlist=[fn])
        except ModuleNotFoundError as exc:
            if exc.name and mod.startswith(exc.name):
                continue
            raise
        regs.append(getattr(module, fn))
    return regs


def main(argv: list[str] | None = None) -> int:
    from .errors import HotspotsError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except HotspotsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
