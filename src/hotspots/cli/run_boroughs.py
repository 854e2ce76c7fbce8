"""``hotspots run-boroughs``: one FIM pack per borough config, in parallel on a Dask cluster or one after another.

    hotspots run-boroughs --config configs/LB*.toml --out out/packs --scheduler local

Each pack goes to ``--out``/<config name> (default out/run-boroughs/<config name>).
"""

from __future__ import annotations

import argparse
from typing import Any

from . import options

NAME = "run-boroughs"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="build one FIM pack per borough config, in parallel on a Dask cluster "
        "(--scheduler) or one after another here",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_config_option(p, required=False, nargs="+")
    options.add_data_dir(p)
    options.add_out_quiet(p)
    p.add_argument("configs", nargs="*", metavar="CONFIG", help="more borough configs (the same as --config)")
    options.add_date(p, "the FIM meeting date for every pack (default: the day after each borough's latest incident)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786, or "
        "'local' for the cores of this machine (default: no Dask)",
    )
    p.add_argument("--retries", type=int, default=2, help="extra attempts for a pack whose task fails (default 2)")
    return p


def main(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..scale.distributed import run_packs

    configs = list(args.config or []) + list(args.configs)
    if not configs:
        raise ConfigError("no config files given; name one config per borough, e.g. --config configs/LB*.toml.")
    packs = run_packs(
        configs,
        fim_date=args.date,
        out_root=options.writable_out(args),
        scheduler=args.scheduler or None,
        retries=args.retries,
        data_dir=args.data_dir,
        progress=None if args.quiet else (lambda m: print(m, flush=True)),
    )
    print(f"{len(packs)} FIM pack(s) written" + (f" under {packs[0].parent}" if packs else ""))
    return 0
