"""``hotspots london-data``: write a synthetic London-sized dataset for scale tests.

33 boroughs built by the demo generator, one partitioned GeoParquet dataset and a
ready-to-run config per borough (about 135 MB for a million incidents; not committed).
"""

from __future__ import annotations

import argparse
from typing import Any

from . import options

NAME = "london-data"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="write a synthetic London-sized dataset (33 boroughs, partitioned GeoParquet plus "
        "a config per borough) for scale tests",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p, config=False)
    p.add_argument(
        "--incidents",
        type=int,
        default=1_000_000,
        metavar="N",
        help="exact number of incidents over all boroughs (default 1,000,000)",
    )
    p.add_argument("--boroughs", type=int, default=33, metavar="K", help="number of boroughs (default 33)")
    p.add_argument("--seed", type=int, default=20251114, help="random seed (default 20251114)")
    return p


def main(args: argparse.Namespace) -> int:
    from ..scale.london import LondonParams, generate_london

    lp = LondonParams(n_incidents=args.incidents, n_boroughs=args.boroughs, seed=args.seed)
    ds = generate_london(options.writable_out(args), lp, progress=None if args.quiet else print)
    print(f"Synthetic London dataset written to {ds.root}: {ds.n_incidents:,} incidents in {len(ds.boroughs)} boroughs")
    print(f"  GeoParquet dataset: {ds.dataset} (partitioned by borough)")
    print(f"  configs:            {ds.root / 'configs'}/LB*.toml")
    print(
        f"  every pack:         hotspots run-boroughs --config {ds.root / 'configs'}/LB*.toml --out {ds.root / 'out'}"
    )
    return 0
