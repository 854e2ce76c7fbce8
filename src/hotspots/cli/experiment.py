"""``hotspots experiment``: draw a randomised patrol schedule for given places, or evaluate one that has ended.

Draw (``--list PACK`` or ``--places FILE``): the places of a FIM pack's list, or the polygons of a file
(GeoPackage, GeoJSON or shapefile with a column of place ids), get a seeded random design from --start for
[experiment] days days: ``crossover`` (every place has patrol days and days without extra patrol, drawn in
blocks of block_days days) or ``allocation`` (a share of the places patrolled every day, the others not).
Writes under --out the schedule (experiment/schedule.csv), its design record (experiment/design.json) and one
page per Safer Neighbourhood Team (experiment/<ward code>.html). The same places, start, settings and seed
always give the same schedule.

Evaluate (``--evaluate FOLDER``: the folder a draw wrote, or a FIM pack that handed out a schedule): once its
last day is before --date, compares crime and harm on patrol days (places) with the days (places) without
extra patrol, with confidence intervals, and writes experiment/evaluation.csv, experiment/evaluation_places.csv
and the page experiment.html.

Settings: [experiment] in the config (kind, share, block_days, days, seed); the options below override them and
are checked like the config file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import options

NAME = "experiment"


def _whole_number(option: str) -> Any:
    def parse(value: str) -> int:
        try:
            return int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} {value!r} is not a whole number") from None

    return parse


def _number(option: str) -> Any:
    def parse(value: str) -> float:
        try:
            return float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} {value!r} is not a number") from None

    return parse


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="draw a randomised patrol schedule for a list's places, or evaluate one that has ended",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", metavar="PACK", help="draw: the places of this FIM pack's tasking list")
    what.add_argument("--places", metavar="FILE", help="draw: the polygons of this file (GeoPackage, GeoJSON...)")
    what.add_argument(
        "--evaluate", metavar="FOLDER", help="evaluate the schedule a draw (or a FIM pack) wrote into this folder"
    )
    p.add_argument(
        "--start",
        metavar="YYYY-MM-DD",
        type=options.calendar_date("--start", "the experiment's first day"),
        help="draw: the first day of the experiment (default with --list: that pack's meeting date)",
    )
    p.add_argument("--id-column", metavar="COLUMN", default="item_id", help="--places: the column of place ids")
    p.add_argument("--name-column", metavar="COLUMN", default="", help="--places: a column of place names")
    p.add_argument("--kind", choices=("crossover", "allocation"), help="draw: the design (overrides [experiment] kind)")
    p.add_argument("--days", type=_whole_number("--days"), metavar="N", help="draw: how many days it runs")
    p.add_argument(
        "--block-days", type=_whole_number("--block-days"), metavar="N", help="draw: crossover block length in days"
    )
    p.add_argument("--share", type=_number("--share"), metavar="F", help="draw: share of days (places) on patrol")
    p.add_argument(
        "--seed",
        type=_whole_number("--seed"),
        metavar="N",
        help="the random seed of the draw and of the evaluation's re-draws (0: [project] seed)",
    )
    options.add_date(p, "evaluate: the date the data run to (default: the day after the latest incident)")
    return p


def main(args: argparse.Namespace) -> int:
    cfg = options.load(args)
    if args.evaluate:
        return _evaluate(args, cfg)
    return _draw(args, cfg)


def _settings(args: argparse.Namespace, cfg: Any, *, draw: bool) -> Any:
    """The config with the command line's [experiment] values (checked like the file); a draw needs a kind."""
    from ..errors import ConfigError

    changes = {
        k: v
        for k, v in (
            ("kind", args.kind),
            ("days", args.days),
            ("block_days", args.block_days),
            ("share", args.share),
            ("seed", args.seed),
        )
        if v is not None
    }
    if changes:
        named = ", ".join("--" + k.replace("_", "-") for k in changes)
        cfg = options.override(cfg, "experiment", named, **changes)
    if draw and not cfg.experiment.kind:
        raise ConfigError(
            f"{args.config}: no design chosen; give --kind crossover (patrol and no-patrol days at every place) "
            "or --kind allocation (some places patrolled, the others not), or set [experiment] kind."
        )
    return cfg


def _draw(args: argparse.Namespace, cfg: Any) -> int:
    import pandas as pd

    from ..errors import InputError
    from ..outfolder import writing
    from ..render.experiment import write_team_pages
    from ..stages.inputs import load_study_area
    from ..tasking.experiment import draw_plan, places_from_file, places_from_pack

    cfg = _settings(args, cfg, draw=True)
    out = options.writable_out(args)
    start = args.start
    if args.list:
        items, meeting = places_from_pack(args.list, cfg.crs)
        if start is None:
            if meeting is None:
                raise InputError(f"--list {args.list}: the pack records no meeting date; give --start YYYY-MM-DD.")
            start = f"{meeting:%Y-%m-%d}"
    else:
        if start is None:
            raise InputError("--places: give the experiment's first day with --start YYYY-MM-DD.")
        area = load_study_area(cfg)
        items = places_from_file(
            args.places, area.wards, cfg.crs, id_column=args.id_column, name_column=args.name_column
        )
    seed = cfg.experiment.seed or cfg.project.seed
    plan = draw_plan(items, pd.Timestamp(start), cfg.experiment, seed=seed, timezone=cfg.timezone)
    with writing(out) as tmp:
        files = plan.write(tmp / "experiment")
        pages = write_team_pages(plan, tmp, cfg.project.name)
    teams = plan.teams()
    options.say(args, plan.design)
    options.say(
        args,
        f"{plan.schedule['place_id'].nunique()} places, {len(teams)} Safer Neighbourhood Team(s), "
        f"{plan.start:%Y-%m-%d} to {plan.last_day:%Y-%m-%d}",
    )
    for code, page in pages.items():
        options.say(args, f"  {teams[code]}: {page.relative_to(tmp)}")
    print(f"Patrol experiment written to {out.resolve()} ({len(files) + len(pages)} files)")
    return 0


def _evaluate(args: argparse.Namespace, cfg: Any) -> int:
    import pandas as pd

    from ..analysis.harm import with_harm
    from ..errors import InputError
    from ..outfolder import writing
    from ..render.experiment import write_evaluation_page
    from ..stages.experiment_result import DESIGN_FILE, EXPERIMENT_DIR, PatrolExperiment
    from ..stages.inputs import load_inputs
    from ..tasking.experiment import evaluate_plan, read_plan

    cfg = _settings(args, cfg, draw=False)
    folder = Path(args.evaluate)
    if (folder / DESIGN_FILE).exists() and folder.name == EXPERIMENT_DIR:
        folder = folder.parent  # the experiment folder itself was given
    plan = read_plan(folder)
    if plan is None:
        raise InputError(
            f"--evaluate {args.evaluate}: no {EXPERIMENT_DIR}/{DESIGN_FILE} there; give the folder "
            "`hotspots experiment --list/--places` wrote, or a FIM pack that handed out a schedule."
        )
    out = options.writable_out(args)
    inp = load_inputs(cfg, args.date, options.reporter(args))
    meeting = inp.fim_date.tz_convert(cfg.timezone).tz_localize(None).normalize()
    if plan.end > meeting:
        raise InputError(
            f"--evaluate {args.evaluate}: the experiment runs until {plan.last_day:%Y-%m-%d}, but the data run to "
            f"{meeting - pd.Timedelta(days=1):%Y-%m-%d}; evaluate it once the incidents of its last day are in the "
            "data (then --date after its last day)."
        )
    inc = with_harm(inp.incidents, cfg.harm.scheme, cfg.harm_schemes)
    seed = cfg.experiment.seed or cfg.project.seed
    ev = evaluate_plan(plan, inc, cfg.crs, seed=seed, pack=str(folder))
    with writing(out) as tmp:
        files = PatrolExperiment(plan=None, evaluation=ev).write(tmp)
        page = write_evaluation_page(ev, tmp, cfg.project.name)
    if not args.quiet:
        for e in (ev.result.harm, ev.result.count):
            print(f"{'Harm' if e.outcome == 'harm' else 'Crimes'}: {e.summary()}")
        for n in (*ev.notes, *ev.result.notes):
            print("note:", n)
    print(f"Experiment evaluation written to {out.resolve()} ({len(files)} tables and {page.name})")
    return 0
