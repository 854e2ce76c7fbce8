"""``hotspots trends``: emerging-hotspot classes, short-term exceptions and the seasonal outlook for one FIM date.

Classify every grid cell as a new, consecutive, intensifying, persistent, diminishing, sporadic,
oscillating or historical hot (or cold) spot from a space-time Gi* cube whose steps end at the FIM
date; list what changed since the last meeting and whether the coming fortnight is seasonally high.
Settings: [trends] and [exceptions] in the config.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import options

NAME = "trends"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="emerging-hotspot classes, short-term exceptions and the seasonal outlook for one FIM date",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p)
    options.add_date(p, "the FIM date (default: the day after the latest incident)")
    p.add_argument("--scheme", choices=("esri", "uk"), help="class scheme (overrides [trends] scheme)")
    p.add_argument("--step-days", type=int, metavar="N", help="use N-day steps (day-precision data only)")
    return p


def main(args: argparse.Namespace) -> int:
    from ..stages.inputs import load_inputs
    from ..stages.trends import trends

    cfg = options.load(args)
    options.writable_out(args)
    over: dict[str, Any] = {}
    if args.scheme:
        over["scheme"] = args.scheme
    if args.step_days is not None:  # 0 or a negative number is refused, not ignored
        over["step"] = "days"
        over["step_days"] = args.step_days
    if over:
        cfg = options.override(cfg, "trends", "--scheme/--step-days", **over)
    inp = load_inputs(cfg, args.date, options.reporter(args))
    tr = trends(cfg, inp.incidents, inp.area, inp.grid, inp.fim_date)
    out = options.out_dir(args)
    paths = tr.write(out)
    em = tr.emerging
    if not args.quiet:
        for note in tr.notes:
            print("note:", note)
        print(f"Emerging hotspots ({em.scheme} scheme), {em.n_cells:,} cells x {em.n_steps} {em.step_label}s:")
        for label, count in sorted(em.counts_by_class().items(), key=lambda kv: -kv[1]):
            print(f"  {count:>7,}  {label}")
        flagged = tr.exceptions[tr.exceptions["flag"] != ""] if len(tr.exceptions) else tr.exceptions
        print(f"Exceptions flagged: {len(flagged)}")
        for r in flagged.head(10).itertuples():
            print("  ", r.reason)
    print(f"Trends written to {out.resolve()} ({len(paths)} files)")
    return 0
