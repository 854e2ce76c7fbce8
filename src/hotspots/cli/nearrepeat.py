"""``hotspots nearrepeat``: the Knox near-repeat test from the command line.

Two ways in:

* ``--config FILE`` runs the whole near-repeat stage on the configured
  incidents (Knox, prospective surface, alert zones, repeats) for ``--date``;
* ``--input CSV`` runs the banded Knox test on a plain CSV of events with
  x, y and date columns (``--crs`` says the CRS of x/y; geographic
  coordinates are projected to British National Grid, projected ones in feet
  are converted to metres).

Prints the observed/expected table and writes CSV/HTML into ``--out``.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..crs import DEFAULT_CRS
from . import options

NAME = "nearrepeat"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="Knox near-repeat test (how far and how long burglary risk spreads), alert zones and repeats",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    options.add_config_option(src, required=False)
    src.add_argument("--input", "-i", metavar="CSV", help="CSV of events with x, y and date columns")
    options.add_data_dir(p)
    options.add_out_quiet(p)
    options.add_date(p, "(with --config) the meeting date; default the day after the latest incident")
    p.add_argument("--crs", default=DEFAULT_CRS, help=f"(with --input) CRS of the x/y columns (default {DEFAULT_CRS})")
    p.add_argument("--x-col", default="x", help="x column (default x)")
    p.add_argument("--y-col", default="y", help="y column (default y)")
    p.add_argument("--date-col", default="date", help="date column (default date), read as whole days")
    p.add_argument(
        "--spatial-bandwidth",
        type=float,
        default=None,
        metavar="M",
        help="spatial band width in metres (default 100, or [nearrepeat] in the config)",
    )
    p.add_argument("--spatial-bands", type=int, default=None, metavar="N", help="number of spatial bands (default 5)")
    p.add_argument(
        "--temporal-bandwidth", type=float, default=None, metavar="DAYS", help="temporal band width in days (default 7)"
    )
    p.add_argument("--temporal-bands", type=int, default=None, metavar="N", help="number of temporal bands (default 4)")
    p.add_argument("--permutations", type=int, default=None, metavar="N", help="Monte Carlo permutations (default 999)")
    p.add_argument("--metric", choices=("euclidean", "manhattan"), default=None, help="distance (default euclidean)")
    p.add_argument(
        "--convention",
        choices=("closed", "nrc"),
        default=None,
        help="band convention: closed (labels mean what they say, default) or nrc "
        "(reproduce the Near Repeat Calculator's counting)",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (default the config's, else 0)")
    return p


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    pairs = {
        "spatial_bandwidth_m": args.spatial_bandwidth,
        "n_spatial_bands": args.spatial_bands,
        "temporal_bandwidth_days": args.temporal_bandwidth,
        "n_temporal_bands": args.temporal_bands,
        "permutations": args.permutations,
        "metric": args.metric,
        "convention": args.convention,
    }
    return {k: v for k, v in pairs.items() if v is not None}


def _read_events(args: argparse.Namespace) -> tuple[Any, Any, Any, str]:
    """x, y (metres), t (whole days) of the ``--input`` CSV, and a note on any conversion made."""
    from pathlib import Path

    import numpy as np
    import pandas as pd
    import pyproj

    from ..config.sections import DEFAULT_TIMEZONE
    from ..errors import InputError
    from ..ingest.dates import day_month_order, parse_datetimes
    from ..textfile import read_table

    path = Path(args.input)
    if not path.exists():
        raise InputError(f"--input {path} does not exist; give the path of a CSV with x, y and date columns.")
    wanted = (args.x_col, args.y_col, args.date_col)
    table = read_table(path, wanted)
    df = table.frame
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise InputError(
            f"{path}: column(s) {missing} not found (columns are {list(df.columns)}); "
            "name them with --x-col/--y-col/--date-col."
        )
    table.require_unique(wanted, "named with --x-col/--y-col/--date-col")
    x = pd.to_numeric(df[args.x_col].str.strip(), errors="coerce").to_numpy(float)
    y = pd.to_numeric(df[args.y_col].str.strip(), errors="coerce").to_numpy(float)
    rows = pd.Series(table.rows, index=df.index)
    order = day_month_order({args.date_col: df[args.date_col]}, rows, str(path))
    d = parse_datetimes(df[args.date_col], DEFAULT_TIMEZONE, dayfirst=order.dayfirst)
    bad = ~(np.isfinite(x) & np.isfinite(y) & d.notna().to_numpy()) | ~table.well_formed.to_numpy()
    if bad.any():
        rows = [table.lines[i] for i in np.nonzero(bad)[0][:5]]
        raise InputError(
            f"{path}: {int(bad.sum())} row(s) have an unreadable x, y or date (file lines {rows}...); "
            "fix or remove them."
        )
    try:
        crs = pyproj.CRS.from_user_input(args.crs)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(f"--crs {args.crs!r} is not a known CRS ({exc}); e.g. EPSG:27700.") from exc
    note = ""
    if crs.is_geographic:
        tr = pyproj.Transformer.from_crs(crs, DEFAULT_CRS, always_xy=True)
        x, y = tr.transform(x, y)
        note = f"coordinates projected from {args.crs} to {DEFAULT_CRS} (metres)"
    else:
        factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        if abs(factor - 1.0) > 1e-12:
            x, y = x * factor, y * factor
            note = f"coordinates in {crs.axis_info[0].unit_name} converted to metres"
    if order.note:
        note = (note + "; " if note else "") + order.note
    t = d.dt.tz_localize(None).dt.normalize() - pd.Timestamp("1970-01-01")
    t = (t / pd.Timedelta(days=1)).to_numpy(float)
    return np.asarray(x, float), np.asarray(y, float), t, note


def _knox_from_csv(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..analysis.knox import knox_test
    from ..config import NearRepeatConfig
    from ..render.nearrepeat import write_knox_page

    out = options.writable_out(args)
    x, y, t, note = _read_events(args)
    base = asdict(NearRepeatConfig())
    keys = (
        "spatial_bandwidth_m",
        "n_spatial_bands",
        "temporal_bandwidth_days",
        "n_temporal_bands",
        "permutations",
        "metric",
        "convention",
    )
    kw = {k: base[k] for k in keys}
    kw.update(_overrides(args))
    res = knox_test(x, y, t, seed=args.seed if args.seed is not None else 0, **kw)
    out.mkdir(parents=True, exist_ok=True)
    if note:
        print("note:", note)
    _print_knox(res)
    res.to_csv(out / "knox_table.csv")
    write_knox_page(res, out / "knox.html")
    (out / "knox_summary.txt").write_text(res.summary() + "\n", encoding="utf-8")
    print(f"Written: {out / 'knox_table.csv'}, {out / 'knox.html'}")
    return 0


def main(args: argparse.Namespace) -> int:
    if args.input:
        return _knox_from_csv(args)
    from ..render.nearrepeat import write_nearrepeat_report
    from ..stages.inputs import load_inputs
    from ..stages.nearrepeat import nearrepeat

    cfg = options.load(args)
    options.writable_out(args)
    ov = _overrides(args)
    if ov:
        cfg = cfg.override("nearrepeat", **ov)
    if args.seed is not None:
        cfg = cfg.override("project", seed=args.seed)
    inp = load_inputs(cfg, args.date, options.reporter(args))
    res = nearrepeat(cfg, inp.incidents, inp.area, inp.grid, inp.fim_date)
    if res.knox is not None:
        _print_knox(res.knox)
    else:
        print(f"Knox test not run: {res.knox_refusal}")
    print(res.calibration)
    print(res.zones_sentence())
    print(res.repeats.summary())
    files = write_nearrepeat_report(res, options.out_dir(args))
    print("Written:", ", ".join(str(f) for f in files))
    return 0


def _print_knox(res: Any) -> None:
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print("Observed over mean expected (ratio):")
        print(res.to_frame("ratio").round(2).to_string())
        print("\nPseudo p-values:")
        print(res.to_frame("p_value").round(3).to_string())
        print("\nObserved pairs:")
        print(res.to_frame("observed").to_string())
    print()
    print(res.summary())
