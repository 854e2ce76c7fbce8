"""``hotspots dosage``: the patrol the last list's places got since the last meeting, against what was asked.

Reads the previous FIM pack (--previous: its tasking.csv and layers.gpkg), the patrol positions (--pings: GPS
pings as CSV, CSV.GZ or GPX, or a folder of them; else --log: a patrol log CSV; else [dosage] in the config)
for the days from the previous meeting to --date, and writes under --out the compliance table, every
patrol stay, the outcomes and the patrol page (dosage.html). Units appear only as pseudonyms. Settings:
[dosage] in the config.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import options

NAME = "dosage"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="patrol asked for and delivered at the last list's places (from GPS pings or a patrol log)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p)
    options.add_date(p, "this meeting's date (default: the day after the latest incident)")
    p.add_argument("--pings", metavar="FILE", help="GPS pings: CSV, CSV.GZ or GPX file, or a folder of them")
    p.add_argument("--log", metavar="FILE", help="a patrol log CSV (place or item id, start, end, unit)")
    p.add_argument("--previous", metavar="PACK", required=True, help="the previous FIM pack folder")
    return p


def main(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..outfolder import writing
    from ..render.dosage import render_dosage
    from ..stages import RunResults, load_inputs, run_stages
    from ..tasking import dosage as dosage_stage

    cfg = options.load(args)
    changes: dict[str, str] = {}
    if args.pings:
        changes.update(pings=str(Path(args.pings).resolve()), patrol_log="")
    elif args.log:
        changes.update(pings="", patrol_log=str(Path(args.log).resolve()))
    for given in (args.pings, args.log):
        if given and not Path(given).exists():
            raise InputError(f"{given}: no such file or folder; give the patrol positions' path.")
    if changes:
        cfg = options.override(cfg, "dosage", "--pings/--log", **changes)
    if not Path(args.previous).is_dir():
        raise InputError(f"--previous {args.previous}: not a folder; give the previous FIM pack's folder.")
    out = options.writable_out(args)
    rep = options.reporter(args)
    inp = load_inputs(cfg, args.date, rep, previous=args.previous)
    res = run_stages(RunResults(inputs=inp), [dosage_stage.STAGE], reporter=rep)
    d = res.dosage
    if d is None:
        print(f"Patrol delivered could not be measured: {res.not_run.get('dosage', '')}")
        return 2
    with writing(out) as tmp:
        paths = d.write(tmp)
        render_dosage(res, tmp)
    s = d.summary()
    options.say(
        args,
        f"{s['period'][0]} to {s['period'][1]}: {s['visits']} visits, {s['minutes']:,.0f} of "
        f"{s['asked_minutes']:,.0f} minutes asked for at {s['places']} places; {s['drive_throughs']} drive-throughs "
        "not counted",
    )
    options.say(args, "; ".join(f"{v} {k}" for k, v in s["flags"].items()))
    for n in d.notes:
        options.say(args, "note:", n)
    print(f"Patrol dosage written to {out.resolve()} ({len(paths) + 1} files)")
    return 0
