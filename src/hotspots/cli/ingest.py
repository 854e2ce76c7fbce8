"""``hotspots ingest``: read and validate the input files; report what was accepted and why rows were quarantined.

Writes ``quarantine.csv`` (every rejected row with its reason) and
``ingest_summary.json`` (row counts per source and reason) into ``--out``.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import options

NAME = "ingest"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        NAME,
        help="read and validate the input files, report what was accepted and why rows were quarantined",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_common(p)
    return p


def main(args: argparse.Namespace) -> int:
    import json

    from ..stages.inputs import load_incidents, load_study_area

    cfg = options.load(args)
    out = options.writable_out(args)
    area = load_study_area(cfg)
    for n in area.notes:
        options.say(args, "note:", n)
    area.grid(cfg.grid.cell_size_m)  # the configured cell size must fit the study area
    res = load_incidents(cfg, area)
    out.mkdir(parents=True, exist_ok=True)
    res.write_quarantine(out / "quarantine.csv")
    summary = res.summary()
    summary["notes"] = list(area.notes) + summary["notes"]
    (out / "ingest_summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"Study area: {cfg.project.name}, {len(area.wards)} wards, {area.area_km2:.1f} km²")
    print(res.report())
    print(f"Quarantined rows (with reasons) written to {out / 'quarantine.csv'}")
    return 0
