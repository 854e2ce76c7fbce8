"""``hotspots run``: build the FIM pack (maps, tasking list, GIS layers) for one meeting date.

The pack goes to ``--out``, by default ``[output] folder/fim-DATE`` (one folder
per meeting, so the next meeting finds this one and keeps the tasking ids).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import options

NAME = "run"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="build the FIM pack (maps, tasking list, GIS layers) for one meeting date",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p)
    options.add_date(
        p,
        "the FIM meeting date; only incidents before it are used (default: the day after the latest incident; "
        "the date used is printed and recorded in the pack's manifest)",
    )
    p.add_argument(
        "--previous",
        metavar="DIR",
        help="the last FIM's pack folder, so tasking ids carry over (default: the latest earlier "
        "fim-YYYY-MM-DD folder beside the output folder)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 ('local' = the cores of this "
        "machine; default: [scale] scheduler in the config, else no Dask)",
    )
    return p


def main(args: argparse.Namespace) -> int:
    from ..scale.distributed import run_pack

    cfg = options.load(args)
    options.writable_out(args, default=Path(cfg.output.folder), what="[output] folder")
    out = run_pack(
        cfg, fim_date=args.date, out_dir=args.out, quiet=args.quiet, previous=args.previous, scheduler=args.scheduler
    )
    print(f"FIM pack written: {out / 'index.html'}")
    return 0
