"""``hotspots london-data`` and ``hotspots run-boroughs``. Light at import: heavy modules load in the commands."""

from __future__ import annotations


def cmd_london_data(args) -> int:
    from pathlib import Path

    from .london import LondonParams, generate_london

    lp = LondonParams(n_incidents=args.incidents, n_boroughs=args.boroughs, seed=args.seed)
    ds = generate_london(Path(args.out), lp, progress=None if args.quiet else print)
    print(f"Synthetic London dataset written to {ds.root}: {ds.n_incidents:,} incidents in "
          f"{len(ds.boroughs)} boroughs")
    print(f"  GeoParquet dataset: {ds.dataset} (partitioned by borough)")
    print(f"  configs:            {ds.root / 'configs'}/LB*.toml")
    print(f"  every pack:         hotspots run-boroughs {ds.root / 'configs'}/LB*.toml --out {ds.root / 'out'}")
    return 0


def cmd_run_boroughs(args) -> int:
    from .distributed import run_packs

    packs = run_packs(args.configs, fim_date=args.date, out_root=args.out, scheduler=args.scheduler or None,
                      retries=args.retries, data_dir=args.data_dir,
                      progress=None if args.quiet else (lambda m: print(m, flush=True)))
    print(f"{len(packs)} FIM pack(s) written" + (f" under {packs[0].parent}" if packs else ""))
    return 0


def add_scale_parsers(sub) -> None:
    p = sub.add_parser("london-data", help="write a synthetic London-sized dataset (33 boroughs, partitioned "
                                           "GeoParquet plus a config per borough) for scale tests")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write into (not committed; ~135 MB "
                                                                "for a million incidents)")
    p.add_argument("--incidents", type=int, default=1_000_000, metavar="N",
                   help="exact number of incidents over all boroughs (default 1,000,000)")
    p.add_argument("--boroughs", type=int, default=33, metavar="K", help="number of boroughs (default 33)")
    p.add_argument("--seed", type=int, default=20251114, help="random seed (default 20251114)")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the result")
    p.set_defaults(func=cmd_london_data)

    p = sub.add_parser("run-boroughs", help="build one FIM pack per borough config, in parallel on a Dask "
                                            "cluster (--scheduler) or one after another here")
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="one TOML config per borough")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the FIM meeting date for every pack (default: the day "
                                                         "after each borough's latest incident)")
    p.add_argument("--out", metavar="DIR", help="each pack goes to DIR/<config name> (default: each config's "
                                                "[output] folder)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786, or "
                                                          "'local' for the cores of this machine (default: no Dask)")
    p.add_argument("--retries", type=int, default=2, help="extra attempts for a pack whose task fails (default 2)")
    p.add_argument("--data-dir", metavar="DIR", help="folder that relative input paths start from")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the result")
    p.set_defaults(func=cmd_run_boroughs)
