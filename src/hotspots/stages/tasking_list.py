"""The FIM tasking list as a typed result: one item per place, its columns and what was left out.

Built by :func:`hotspots.tasking.fim.build_tasking`; read by the pages, the maps,
the briefing and the GIS layers. Everything a reader needs is typed here:

* ``items`` (ranked places) and ``closed`` (the last list's places that nothing
  on this list continues): GeoDataFrames in the working CRS, one row per place,
  with the columns of :data:`ITEM_COLUMNS`;
* ``columns``: the columns that carry information for the data at hand, in
  ``tasking.csv`` order, each with a heading and a plain description
  (:class:`TaskingColumn`); ``omitted``: the columns left out and why
  (:class:`OmittedColumn`, e.g. peak days and hours when times are known only to
  the month), to be said once per page (:meth:`TaskingList.omitted_notes`);
* ``tactics``: per item id, the tactic set (:class:`Tactic`: one per problem,
  de-duplicated); ``delivered``: per item id of the last list, the patrol
  delivered (:class:`DeliveredDosage`, empty until patrol data are read);
* ``harm_unit`` (from the harm scheme), ``merge_distance_m`` (places closer
  than this are one item) and ``choices`` (automatic choices, in words).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

#: GeoPackage layer of the ranked tasking items (the next meeting reads it back).
ITEMS_LAYER = "tasking_items"


@dataclass(frozen=True)
class TaskingColumn:
    """One column of the list: ``key`` (in ``items`` and tasking.csv), ``label`` (a page heading),
    ``description`` (what it holds, in plain words) and ``on_page`` (shown on tasking.html and in map
    popups; the others are for spreadsheets and GIS: ids, codes, coordinates)."""

    key: str
    label: str
    description: str
    on_page: bool = True


@dataclass(frozen=True)
class OmittedColumn:
    """A column left out of this list's CSV and pages because it carries no information for the data at
    hand; ``reason`` says why in plain words (shown once, not on every row)."""

    key: str
    label: str
    reason: str


@dataclass(frozen=True)
class Tactic:
    """One tactic of a place: the playbook rule's ``tactic``, ``dosage`` and ``owner`` (filled in), and the
    ``problems`` it answers (plain words, e.g. "Violence and sexual offences at night")."""

    tactic: str
    dosage: str
    owner: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class DeliveredDosage:
    """Patrol delivered at a place of the last list over its tasking period (from patrol pings or a patrol
    log): visits, minutes, the minutes asked for and the compliance flag (on target, under-dosed, ...)."""

    visits: int
    minutes: float
    asked_minutes: float
    flag: str
    asked: str = ""  # the dosage asked for, in words ("15 minutes, 3 times a week"); '' = not stated

    def describe(self) -> str:
        """ "asked 15 minutes, 3 times a week; delivered 2 visits, 24 of 90 minutes (27%, under-dosed)"; without
        ``asked``, "2 visits, 24 of 90 minutes asked for (under-dosed)"."""
        if not self.asked:
            return (
                f"{self.visits} visits, {self.minutes:,.0f} of {self.asked_minutes:,.0f} minutes asked for "
                f"({self.flag})"
            )
        share = f"{self.minutes / self.asked_minutes:.0%}, " if self.asked_minutes > 0 else ""
        visits = "1 visit" if self.visits == 1 else f"{self.visits} visits"
        return (
            f"asked {self.asked}; delivered {visits}, {self.minutes:,.0f} of {self.asked_minutes:,.0f} minutes "
            f"({share}{self.flag})"
        )


def item_columns(harm_unit: str = "count") -> tuple[TaskingColumn, ...]:
    """Every column an item can have, in tasking.csv order (the harm heading names ``harm_unit``)."""
    c = TaskingColumn
    return (
        c("rank", "Rank", "order of priority; closed items have none"),
        c("item_id", "Id", "stable reference: the same place keeps it at the next meeting"),
        c("status", "Status", "new, continuing, escalated (score up by a quarter or more) or closed"),
        c("place_name", "Place", "the town centre or street the place is known by, and its ward"),
        c("location", "Location", "the commonest location descriptions of its incidents"),
        c("ward_name", "Ward", "the ward holding most of the place's harm"),
        c("ward_code", "Ward code", "code of that ward", on_page=False),
        c("snt", "SNT", "the Safer Neighbourhood Team that owns the place (and any it shares it with)"),
        c("kind", "Kind", "hotspot, near-repeat alert zone, or both"),
        c("main_crime", "Main problem", "the crime type with the most harm at the place"),
        c("crime_types", "Crime types", "every crime type tasked here with its incidents in the window"),
        c("incidents", "Incidents", "incidents of those crime types in the window"),
        c("harm", f"Harm ({harm_unit})", f"harm of those incidents, in {harm_unit}"),
        c("score", "Score", "harm raised for rising trends and live alert zones, lowered for fading ones"),
        c("change", "Since last FIM", "incidents and harm against the last list's figures"),
        c("trend_class", "Trend", "emerging-hotspot class of the place's cells"),
        c(
            "stability",
            "Chronic or acute",
            "chronic: busy in most years, for a problem-solving plan with partners; acute: a recent flare-up, "
            "for patrol; with the place's trajectory",
        ),
        c(
            "robustness",
            "Robustness",
            "share of other grids and search radii that find the place's hotspot; fragile (a hotspot that depends "
            "on the grid) when few do: it may be an accident of where the grid lines fall, so check it on the map "
            "before tasking patrols to it",
        ),
        c("near_repeat_window", "Near repeat", "the date a live near-repeat alert zone at the place runs to"),
        c("peak_days", "Peak days", "the two busiest days of each problem, with their share"),
        c("peak_hours", "Peak hours", "the busiest three hours of each problem, with their share"),
        c("cctv_coverage", "CCTV", "share of the place's harm a live camera can see"),
        c("tactic", "Tactic", "one tactic per problem, from the playbook"),
        c("dosage", "Dosage", "how much of each tactic"),
        c("owner", "Owner", "who answers for the item at the next meeting"),
        c("review_date", "Review", "the next meeting"),
        c("reason", "Why", "the figures behind the rank"),
        c("previous_rank", "Last rank", "rank on the last list"),
        c("worked", "Did it work", "harm in the place before and after the last tasking, with the WDD test"),
        c("delivered", "Patrol delivered", "patrol delivered since the last meeting against the dosage asked for"),
        c("x", "x", "a point inside the place (working CRS, metres)", on_page=False),
        c("y", "y", "a point inside the place (working CRS, metres)", on_page=False),
        c("area_ha", "Area (ha)", "size of the place in hectares", on_page=False),
    )


#: Columns of tasking.csv when every column carries information, in order.
CSV_COLUMNS: list[str] = [c.key for c in item_columns()]

#: Columns of ``TaskingList.items`` beyond :data:`CSV_COLUMNS` (for programs and GIS; not in tasking.csv):
#: ``main_crime_type`` (canonical code), ``counts_by_type`` (JSON code -> incidents), ``problems``
#: (JSON list of [kind, code, time of day], most harm first), ``source`` (the hotspot areas and zones
#: merged), ``shared_with`` (the other SNTs holding a tenth or more of the harm), ``harm_share``,
#: ``time_of_day`` (of the main problem: night, day or unknown), ``expires`` (last live day of an alert
#: zone, NaT otherwise), ``multiplier`` (score / harm), ``score_notes`` (what raised or lowered the
#: score), ``stability_label`` (chronic, acute, none, or '' without trajectories; the playbook reads it),
#: ``geometry`` (the union of the merged areas: a MultiPolygon when they do not touch).
EXTRA_ITEM_COLUMNS: tuple[str, ...] = (
    "main_crime_type",
    "counts_by_type",
    "problems",
    "source",
    "shared_with",
    "harm_share",
    "time_of_day",
    "expires",
    "multiplier",
    "score_notes",
    "stability_label",
)

#: Every column of ``TaskingList.items``.
ITEM_COLUMNS: tuple[str, ...] = (*CSV_COLUMNS, *EXTRA_ITEM_COLUMNS)


@dataclass(frozen=True, eq=False)
class TaskingList:
    """The ranked list (``items``) and the previous items it closes (``closed``), both GeoDataFrames in the
    working CRS, one row per place; built by :func:`hotspots.tasking.fim.build_tasking`. See the module
    docstring for the other fields."""

    items: gpd.GeoDataFrame
    closed: gpd.GeoDataFrame
    fim_date: pd.Timestamp
    review_date: pd.Timestamp
    previous: str = ""  # the previous pack folder, "" when none
    playbook_source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    columns: tuple[TaskingColumn, ...] = field(default_factory=item_columns)
    omitted: tuple[OmittedColumn, ...] = field(default_factory=tuple)
    harm_unit: str = "count"
    merge_distance_m: float = 0.0
    choices: Mapping[str, str] = field(default_factory=dict)
    tactics: Mapping[str, tuple[Tactic, ...]] = field(default_factory=dict)
    delivered: Mapping[str, DeliveredDosage] = field(default_factory=dict)

    @property
    def column_keys(self) -> list[str]:
        """Keys of the columns that carry information, in tasking.csv order."""
        return [c.key for c in self.columns]

    def page_columns(self) -> tuple[TaskingColumn, ...]:
        """The columns a page or a map popup shows (information-bearing and ``on_page``), in order."""
        return tuple(c for c in self.columns if c.on_page)

    def omitted_notes(self) -> tuple[str, ...]:
        """One sentence per reason for the columns left out ("Peak days and Peak hours are not shown: ...")."""
        by_reason: dict[str, list[str]] = {}
        for o in self.omitted:
            by_reason.setdefault(o.reason, []).append(o.label)
        out = []
        for reason, labels in by_reason.items():
            names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
            out.append(f"{names} {'is' if len(labels) == 1 else 'are'} not shown: {reason}.")
        return tuple(out)

    def with_delivered(self, delivered: Mapping[str, DeliveredDosage]) -> TaskingList:
        """A copy whose ``delivered`` column says, for the items and closed items of the last list found in
        ``delivered`` (by item id), the patrol delivered; the column is shown once any item has a value."""
        if not delivered:
            return self

        def fill(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            out = frame.copy()
            ids = out["item_id"].astype(str) if "item_id" in out.columns else pd.Series([], dtype=str)
            out["delivered"] = [delivered[i].describe() if i in delivered else "" for i in ids]
            return out

        keys = {c.key for c in self.columns} | {"delivered"}
        return dataclasses.replace(
            self,
            items=fill(self.items),
            closed=fill(self.closed),
            delivered=dict(delivered),
            columns=tuple(c for c in item_columns(self.harm_unit) if c.key in keys),
            omitted=tuple(o for o in self.omitted if o.key != "delivered"),
        )

    def to_frame(self) -> pd.DataFrame:
        """tasking.csv rows: ranked items, then closed items (no rank); only the columns that carry
        information. Harm is a whole number (its unit is in :attr:`harm_unit` and the column heading)."""
        keys = self.column_keys
        a = pd.DataFrame(self.items.drop(columns="geometry"))
        b = pd.DataFrame(self.closed.drop(columns="geometry")) if len(self.closed) else pd.DataFrame()
        df = pd.concat([a, b], ignore_index=True) if len(b) else a
        for c in keys:
            if c not in df.columns:
                df[c] = ""
        df = df[keys].copy()
        for c in ("rank", "previous_rank", "incidents"):
            if c in df.columns:
                df[c] = pd.to_numeric(df[c], errors="coerce").round().astype("Int64")
        if "harm" in df.columns:
            df["harm"] = pd.to_numeric(df["harm"], errors="coerce").round().astype("Int64")
        return df

    def status_counts(self) -> dict[str, int]:
        c = self.items["status"].value_counts().to_dict() if len(self.items) else {}
        c["closed"] = int(len(self.closed))
        return {k: int(c.get(k, 0)) for k in ("new", "continuing", "escalated", "closed")}

    def to_gpkg(self, path: str | Path, layer: str = ITEMS_LAYER, geometry_type: str | None = None) -> Path:
        """Write the ranked items (and closed ones as ``tasking_closed``) to a GeoPackage layer, every column
        (text where a column mixes types); ``geometry_type`` (e.g. ``MultiPolygon``) declares both layers'
        geometry type, promoting single parts to multi (default: GDAL's guess from the rows)."""
        declared = (
            {}
            if geometry_type is None
            else {"geometry_type": geometry_type, "promote_to_multi": geometry_type.startswith("Multi")}
        )
        it = self.items.copy()
        if "expires" in it:  # the last live day of an alert zone, empty for a place without one
            it["expires"] = [f"{pd.Timestamp(v):%Y-%m-%d}" if pd.notna(v) else "" for v in it["expires"]]
        it["review_date"] = it["review_date"].astype(str)
        for c in ("previous_rank",):
            if c in it.columns:
                it[c] = pd.to_numeric(it[c], errors="coerce").astype(float)
        for c in it.columns:
            if c != "geometry" and it[c].dtype == object:
                it[c] = it[c].map(_as_text)
        it.to_file(path, layer=layer, driver="GPKG", **declared)
        if len(self.closed):
            cl = self.closed.copy()
            for c in cl.columns:
                if c != "geometry" and cl[c].dtype == object:
                    cl[c] = cl[c].map(_as_text)
            cl.to_file(path, layer="tasking_closed", driver="GPKG", **declared)
        return Path(path)


def _as_text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or v is pd.NA:
        return ""
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v)
    return str(v)
