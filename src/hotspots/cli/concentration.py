"""``hotspots concentration``: how concentrated crime and harm are, year by year; chronic and acute places;
how robust each hotspot is.

Prints the concentration of crime over places period by period (the plain Gini, the generalised Gini
that allows for sparse data, the share of places holding 50% and 80% of crime, the share of crime in
the top 1% and 5% of places) and whether it is rising, and writes the tables and the concentration page
under --out. Settings: [concentration] in the config.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import options

NAME = "concentration"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="how concentrated crime and harm are, year by year; chronic and acute places; robust hotspots",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p)
    options.add_date(p, "the FIM date (default: the day after the latest incident)")
    p.add_argument(
        "--places",
        choices=("grid", "snap_points", "auto"),
        help="places to count at (overrides [concentration] places)",
    )
    return p


def main(args: argparse.Namespace) -> int:
    from ..outfolder import writing
    from ..render.concentration import render_concentration, yearly_text
    from ..stages import REGISTRY, RunResults, load_inputs, run_stages

    cfg = options.load(args)
    if args.places:
        cfg = options.override(cfg, "concentration", "--places", places=args.places)
    out = options.writable_out(args)
    rep = options.reporter(args)
    inp = load_inputs(cfg, args.date, rep)
    res = run_stages(RunResults(inputs=inp), [REGISTRY["surfaces"], REGISTRY["concentration"]], reporter=rep)
    conc = res.concentration
    if conc is None:
        reason = res.not_run.get("concentration", "")
        print(f"Concentration could not be measured: {reason}")
        return 2
    with writing(out) as tmp:
        paths = conc.write(tmp)
        render_concentration(res, tmp)
    if not args.quiet:
        for n in conc.notes:
            print("note:", n)
        print(yearly_text(conc))
    print(f"Concentration written to {out.resolve()} ({len(paths) + 1} files)")
    return 0
