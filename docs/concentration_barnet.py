"""Barnet burglary concentration, year by year, from the real police.uk data (the figures in
docs/concentration.md).

Reads the open data beside the repository (``../shared/data``, or $HOTSPOTS_SHARED_DATA) through
the engine's own ingest (config/barnet_burglary.toml: police.uk burglary, December 2010 to
February 2024; repeated Crime IDs are quarantined as in every run) and prints Markdown tables:

1. concentration on police.uk snap points (the distinct locations of all the burglaries),
2. the same on the 100 m grid cells of the borough,
3. the trajectory classes and chronic/acute labels of the 100 m cells over 2011-2023,
4. harm spots against count spots for all crime in 2017 (config/barnet.toml, ONS Crime
   Severity Score weights) on the 100 m cells.

Run from the repository root: ``python docs/concentration_barnet.py``
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import hotspots
from hotspots.analysis.concentration import concentration_table, concentration_trend
from hotspots.analysis.harm import with_harm
from hotspots.analysis.harm_spots import harm_spots
from hotspots.analysis.places import grid_places, snap_point_places
from hotspots.analysis.trajectories import place_series, place_trajectories

REPO = Path(__file__).resolve().parents[1]
COLUMNS = {
    "period": "year",
    "n_places": "places",
    "n_places_with_events": "places with a burglary",
    "n_events": "burglaries",
    "gini": "Gini",
    "generalised_gini": "generalised Gini",
    "places_for_25pct": "places for 25%",
    "places_for_50pct": "places for 50%",
    "places_for_80pct": "places for 80%",
    "top1pct_share": "share in top 1%",
    "top5pct_share": "share in top 5%",
}


def _markdown(df: pd.DataFrame) -> str:
    out = df[list(COLUMNS)].rename(columns=COLUMNS).copy()
    for c in ("places for 25%", "places for 50%", "places for 80%", "share in top 1%", "share in top 5%"):
        out[c] = (100 * out[c]).map(lambda v: f"{v:.1f}%")
    for c in ("Gini", "generalised Gini"):
        out[c] = out[c].map(lambda v: f"{v:.3f}")
    return _md(out)


def _md(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---:" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def main() -> None:
    from hotspots._util import shared_data_dir

    cfg = hotspots.load_config(REPO / "config" / "barnet_burglary.toml", data_dir=str(shared_data_dir()))
    area = hotspots.load_study_area(cfg)
    loaded = hotspots.load_incidents(cfg, area, now=pd.Timestamp("2026-01-01", tz="Europe/London"))
    inc = loaded.incidents
    s = loaded.summary()
    print(
        f"police.uk burglary rows read {s['rows_read']:,}, accepted {s['accepted']:,}, "
        f"quarantined {s['quarantined']:,} ({s['quarantined_by_reason']})\n"
    )
    snaps = snap_point_places(inc["x"], inc["y"])
    for title, places in (("snap points", snaps), ("100 m grid cells", grid_places(area.grid(100)))):
        df = concentration_table(inc, places, groupings=("all",), period="year")
        print(f"### Barnet burglary on {places.description}\n")
        print(_markdown(df))
        print(
            f"\n{df.attrs['n_set_aside']:,} burglaries in the partial years (Dec 2010, Jan-Feb 2024) set aside; "
            f"{df.attrs['n_unplaced']:,} at no place.\n"
        )
        trend = pd.concat([concentration_trend(df, m) for m in ("gini", "generalised_gini", "top5pct_share")])
        print(_md(trend[["measure", "first", "last", "slope", "tau", "p_value", "direction"]].round(4)), "\n")
    years = inc["start"].dt.tz_convert("Europe/London").dt.year.to_numpy()
    idx = snaps.locate(inc["x"], inc["y"])
    first = pd.Series(years).groupby(idx).min().value_counts().sort_index()
    last = pd.Series(years).groupby(idx).max().value_counts().sort_index()
    print("Snap points by the year of their first burglary:", {int(k): int(v) for k, v in first.items()}, "\n")
    print("Snap points by the year of their last burglary:", {int(k): int(v) for k, v in last.items()}, "\n")

    series = place_series(inc, grid_places(area.grid(100)))
    tr = place_trajectories(series, seed=cfg.project.seed)
    print(f"### Trajectories of the 100 m cells, {series.labels[0]}-{series.labels[-1]}\n")
    print(tr.method, "\n")
    print(_md(tr.group_frame().round(2)), "\n")
    table = pd.crosstab(pd.Series(tr.classes, name="trajectory"), pd.Series(tr.labels, name="label"), margins=True)
    print(_md(table.reset_index()), "\n")

    cfg = hotspots.load_config(REPO / "config" / "barnet.toml", data_dir=str(shared_data_dir()))
    area = hotspots.load_study_area(cfg)
    allcrime = hotspots.load_incidents(cfg, area, now=pd.Timestamp("2026-01-01", tz="Europe/London")).incidents
    year = allcrime[allcrime["start"].dt.tz_convert("Europe/London").dt.year == 2017]
    hs = harm_spots(with_harm(year, "ons_css"), grid_places(area.grid(100)), top=20, harm_scheme="ons_css")
    print(f"### Harm spots, all crime 2017 ({len(year):,} incidents), 100 m cells\n")
    print(hs.headline(), "\n")
    print(_md(hs.differences[["list", "harm_rank", "count_rank", "incidents", "harm", "reason"]].round(1)), "\n")


if __name__ == "__main__":
    main()
