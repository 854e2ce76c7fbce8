"""``hotspots nearrepeat``: the Knox near-repeat test from the command line.

Two ways in:

* ``--config FILE`` runs the whole near-repeat stage on the configured
  incidents (Knox, prospective surface, alert zones, repeats) for ``--date``;
* ``--input CSV`` runs the banded Knox test on a plain CSV of events with
  x, y and date columns (``--crs`` says the CRS of x/y; geographic
  coordinates are projected to EPSG:27700, projected ones in feet are
  converted to metres).

Prints the observed/expected table and writes CSV/HTML into ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError


def add_nearrepeat_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``nearrepeat`` subcommand to the ``hotspots`` CLI."""
    p = subparsers.add_parser(
        "nearrepeat",
        help="Knox near-repeat test (how far and how long burglary risk spreads), alert zones and repeats",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", "-c", metavar="FILE", help="run the near-repeat stage on a configured run")
    src.add_argument("--input", "-i", metavar="CSV", help="CSV of events with x, y and date columns")
    p.add_argument("--data-dir", metavar="DIR", help="folder relative config paths start from")
    p.add_argument("--date", metavar="YYYY-MM-DD",
                   help="(with --config) the meeting date; default the day after the latest incident")
    p.add_argument("--crs", default="EPSG:27700", help="(with --input) CRS of the x/y columns (default EPSG:27700)")
    p.add_argument("--x-col", default="x", help="x column (default x)")
    p.add_argument("--y-col", default="y", help="y column (default y)")
    p.add_argument("--date-col", default="date", help="date column (default date), read as whole days")
    p.add_argument("--spatial-bandwidth", type=float, default=None, metavar="M",
                   help="spatial band width in metres (default 100, or [nearrepeat] in the config)")
    p.add_argument("--spatial-bands", type=int, default=None, metavar="N", help="number of spatial bands (default 5)")
    p.add_argument("--temporal-bandwidth", type=float, default=None, metavar="DAYS",
                   help="temporal band width in days (default 7)")
    p.add_argument("--temporal-bands", type=int, default=None, metavar="N", help="number of temporal bands (default 4)")
    p.add_argument("--permutations", type=int, default=None, metavar="N", help="Monte Carlo permutations (default 999)")
    p.add_argument("--metric", choices=("euclidean", "manhattan"), default=None, help="distance (default euclidean)")
    p.add_argument("--convention", choices=("closed", "nrc"), default=None,
                   help="band convention: closed (labels mean what they say, default) or nrc "
                        "(reproduce the Near Repeat Calculator's counting)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default the config's, else 0)")
    p.add_argument("--out", "-o", metavar="DIR", default=None, help="folder for CSV/HTML output (default nearrepeat_out)")
    p.set_defaults(func=nearrepeat_command)
    return p


def _overrides(args) -> dict:
    pairs = {"spatial_bandwidth_m": args.spatial_bandwidth, "n_spatial_bands": args.spatial_bands,
             "temporal_bandwidth_days": args.temporal_bandwidth, "n_temporal_bands": args.temporal_bands,
             "permutations": args.permutations, "metric": args.metric, "convention": args.convention}
    return {k: v for k, v in pairs.items() if v is not None}


def _read_events(args):
    import numpy as np
    import pandas as pd
    import pyproj

    path = Path(args.input)
    if not path.exists():
        raise InputError(f"--input {path} does not exist; give the path of a CSV with x, y and date columns.")
    df = pd.read_csv(path)
    missing = [c for c in (args.x_col, args.y_col, args.date_col) if c not in df.columns]
    if missing:
        raise InputError(f"{path}: column(s) {missing} not found (columns are {list(df.columns)}); "
                         "name them with --x-col/--y-col/--date-col.")
    x = pd.to_numeric(df[args.x_col], errors="coerce").to_numpy(float)
    y = pd.to_numeric(df[args.y_col], errors="coerce").to_numpy(float)
    d = pd.to_datetime(df[args.date_col], errors="coerce", dayfirst=False)
    bad = ~(np.isfinite(x) & np.isfinite(y) & d.notna().to_numpy())
    if bad.any():
        rows = (np.nonzero(bad)[0][:5] + 2).tolist()
        raise InputError(f"{path}: {int(bad.sum())} row(s) have an unreadable x, y or date (file lines {rows}...); "
                         "fix or remove them.")
    try:
        crs = pyproj.CRS.from_user_input(args.crs)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(f"--crs {args.crs!r} is not a known CRS ({exc}); e.g. EPSG:27700.") from exc
    note = ""
    if crs.is_geographic:
        tr = pyproj.Transformer.from_crs(crs, "EPSG:27700", always_xy=True)
        x, y = tr.transform(x, y)
        note = f"coordinates projected from {args.crs} to EPSG:27700 (metres)"
    else:
        factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        if abs(factor - 1.0) > 1e-12:
            x, y = x * factor, y * factor
            note = f"coordinates in {crs.axis_info[0].unit_name} converted to metres"
    t = ((d.dt.tz_localize(None) if d.dt.tz is not None else d).dt.normalize() - pd.Timestamp("1970-01-01"))
    t = (t / pd.Timedelta(days=1)).to_numpy(float)
    return np.asarray(x, float), np.asarray(y, float), t, note


def nearrepeat_command(args) -> int:
    """Run ``hotspots nearrepeat`` (see the module docstring)."""
    out = Path(args.out or "nearrepeat_out")
    if args.input:
        from .knox import knox_test
        from .nearrepeat import NearRepeatConfig

        x, y, t, note = _read_events(args)
        base = NearRepeatConfig()
        kw = {"spatial_bandwidth_m": base.spatial_bandwidth_m, "n_spatial_bands": base.n_spatial_bands,
              "temporal_bandwidth_days": base.temporal_bandwidth_days, "n_temporal_bands": base.n_temporal_bands,
              "permutations": base.permutations, "metric": base.metric, "convention": base.convention}
        kw.update(_overrides(args))
        res = knox_test(x, y, t, seed=args.seed if args.seed is not None else 0, **kw)
        out.mkdir(parents=True, exist_ok=True)
        if note:
            print("note:", note)
        _print_knox(res)
        res.to_csv(out / "knox_table.csv")
        res.to_html(out / "knox.html")
        (out / "knox_summary.txt").write_text(res.summary() + "\n", encoding="utf-8")
        print(f"Written: {out / 'knox_table.csv'}, {out / 'knox.html'}")
        return 0

    from ..config import load_config, with_overrides
    from ..geo.study_area import load_study_area
    from ..ingest import load_incidents
    from .nearrepeat import run_nearrepeat

    cfg = load_config(args.config, data_dir=args.data_dir)
    ov = _overrides(args)
    if ov:
        cfg = with_overrides(cfg, nearrepeat=ov)
    if args.seed is not None:
        import dataclasses

        cfg = dataclasses.replace(cfg, project=dataclasses.replace(cfg.project, seed=args.seed))
    area = load_study_area(cfg)
    inc = load_incidents(cfg, area).incidents
    if args.date:
        import pandas as pd

        try:
            fim = pd.Timestamp(args.date)
        except ValueError as exc:
            raise InputError(f"--date {args.date!r} is not a date; use YYYY-MM-DD.") from exc
    else:
        if not len(inc):
            raise InputError("no incidents were accepted; nothing to analyse (see `hotspots ingest`).")
        fim = inc["start"].max().tz_convert("Europe/London").tz_localize(None).normalize() + \
            __import__("pandas").Timedelta(days=1)
    grid = area.grid(cfg.grid.cell_size_m)
    res = run_nearrepeat(cfg, inc, area, grid, fim)
    if res.knox is not None:
        _print_knox(res.knox)
    else:
        print(f"Knox test not run: {res.knox_refusal}")
    print(res.calibration)
    print(f"{len(res.zones)} live alert zone(s); {res.repeats.summary()}")
    files = res.write(out)
    print("Written:", ", ".join(str(f) for f in files))
    return 0


def _print_knox(res) -> None:
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
