"""The coverage report's typed result: what the CCTV project board, the pages, the maps and GIS read.

:class:`CoverageResult` holds frames in the working CRS (metres) and offers
plain-word tables for pages (:meth:`~CoverageResult.gap_table`,
:meth:`~CoverageResult.site_table`, :meth:`~CoverageResult.reader_table`,
:meth:`~CoverageResult.rejected_table`), one sentence per camera inventory
(:meth:`~CoverageResult.inventory_statements`), the probability that the live
cameras see any point (:meth:`~CoverageResult.seen_probability`, e.g. for the
tasking list's CCTV column), the map and GIS layers and the report files
(:meth:`~CoverageResult.write`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from .._csvsafe import write_csv
from ..config.sections import CamerasConfig
from .anpr import AnprResult
from .cameras import INVALID, TYPE_WORDS, CameraInventory, InventorySummary
from .coverage import CoverageStats
from .mobile import MobilePlan
from .siting import MCLPSolution, SetCoverSolution, plot_marginal_curve
from .uncertain import seen_probability
from .viewshed import Obstruction

#: Columns of :attr:`CoverageResult.proposed_sites` (besides ``geometry``).
SITE_COLUMNS = (
    "rank",
    "site_id",
    "street",
    "street_distance_m",
    "ward_code",
    "ward_name",
    "label",
    "x",
    "y",
    "source",
    "road_class",
    "road_name",
    "expected_harm_covered",
    "cumulative_harm_covered",
    "cumulative_share",
    "camera_type",
    "range_m",
    "method",
)


@dataclass(frozen=True, eq=False)
class ViewSettings:
    """How the cameras' views were modelled: the obstruction raster (or None for flat ground), mounting and
    target heights (metres) and the positions standing for a camera with an uncertain position."""

    obstruction: Obstruction | None = field(default=None, repr=False)
    mount_height_m: float = 6.0
    target_height_m: float = 1.5
    position_samples: int = 128


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Everything the coverage report shows (frames in the working CRS).

    ``inventory``: every camera read (all inventories) and every row set aside,
    with the reason; ``live``: the live cameras of ``[cameras] coverage_types``
    whose coverage counts; ``stats``: coverage of incidents and harm (expected
    values when positions are approximate); ``gaps``: the gap places
    (:data:`hotspots.coverage.gaps.GAP_COLUMNS`); ``proposed_sites``: the k new
    camera sites (:data:`SITE_COLUMNS`), each named by its nearest street;
    ``anpr``: entry points and proposed readers (None without road lines).
    """

    inventory: CameraInventory
    inventory_label: str
    live: gpd.GeoDataFrame
    stats: CoverageStats
    viewsheds: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    mclp: MCLPSolution
    proposed_sites: gpd.GeoDataFrame
    curve: pd.DataFrame
    set_cover: SetCoverSolution
    anpr: AnprResult | None
    mobile: MobilePlan | None
    view: ViewSettings = field(default_factory=ViewSettings)
    cameras_config: CamerasConfig = field(default_factory=CamerasConfig, repr=False)
    boundary: BaseGeometry | None = field(repr=False, default=None)
    period: tuple[str, str] = ("", "")
    k: int = 0
    notes: tuple[str, ...] = ()
    choices: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ views
    def to_frame(self) -> pd.DataFrame:
        return self.stats.by_type

    def inventories(self) -> tuple[InventorySummary, ...]:
        """One summary per camera inventory read (label, date, counts, positional quality)."""
        return self.inventory.summaries()

    def inventory_statements(self) -> tuple[str, ...]:
        """One plain sentence per inventory, e.g. "Barnet Council public-space CCTV dated 2017-06-12: 124
        camera rows in the list, 122 used; ... positions approximate: 20 good (within 75 m), ..."."""
        ranges = {t: self.cameras_config.default_range(t) for t in TYPE_WORDS}
        return tuple(s.statement(ranges) for s in self.inventories())

    def seen_probability(self, x, y) -> np.ndarray:
        """Probability that at least one live camera sees each point (x, y metres, working CRS)."""
        v = self.view
        return seen_probability(self.live, x, y, v.obstruction, v.mount_height_m, v.target_height_m, v.position_samples)

    def gap_table(self, top: int | None = None) -> pd.DataFrame:
        """The gap places in plain words: Rank, Place, Ward, Crime, Harm, Seen by cameras, Harm not seen."""
        g = self.gaps.head(top) if top else self.gaps
        return pd.DataFrame(
            {
                "Rank": g["rank"].astype(int),
                "Place": g["name"],
                "Ward": [f"{w} (also {o})" if o else w for w, o in zip(g["ward_name"], g["other_wards"], strict=True)],
                "Crime": g["crime_types"],
                "Incidents": g["incidents"].astype(int),
                "Harm": g["harm"].round(0).astype(int),
                "Seen by cameras": [f"{100 * v:.0f}%" for v in g["covered_share"]],
                "Harm not seen": g["harm_uncovered"].round(0).astype(int),
            }
        )

    def site_table(self) -> pd.DataFrame:
        """The proposed camera sites in plain words: Rank, Nearest street, Ward, Harm added, Harm seen after."""
        s = self.proposed_sites
        return pd.DataFrame(
            {
                "Rank": s["rank"].astype(int),
                "Nearest street": [
                    f"{n} ({d:.0f} m)" if n else "no named street within 500 m"
                    for n, d in zip(s["street"], s["street_distance_m"], strict=True)
                ],
                "Ward": s["ward_name"],
                "Harm added": s["expected_harm_covered"].round(0).astype(int),
                "Share of harm seen with this site": [f"{100 * v:.1f}%" for v in s["cumulative_share"]],
            }
        )

    def reader_table(self) -> pd.DataFrame:
        """The proposed ANPR readers in plain words (empty without an ANPR analysis)."""
        if self.anpr is None:
            return pd.DataFrame(columns=["Rank", "Road", "Crossing into", "Why here"])
        return self.anpr.reader_table()

    def rejected_table(self, kind: str | None = INVALID) -> pd.DataFrame:
        """Camera rows not used, with the reason: Inventory, File, Row, Camera, Field, Value, Reason.

        ``kind``: the invalid rows (default), the rows outside the study area
        (:data:`hotspots.coverage.cameras.OUTSIDE`) or every row (None).
        """
        r = self.inventory.rejected
        if kind is not None:
            r = r[r["kind"] == kind]
        return pd.DataFrame(
            {
                "Inventory": r["inventory"],
                "File": r["source"],
                "Row": r["row"],
                "Camera": r["camera_id"],
                "Field": r["column"],
                "Value": r["value"],
                "Reason": r["reason"],
            }
        )

    def summary(self) -> dict[str, Any]:
        bt = self.stats.by_type.set_index("crime_type")
        allrow = bt.loc["all"] if "all" in bt.index else None
        c = self.curve
        out = {
            "inventory": self.inventory_label,
            "inventories": [s.statement() for s in self.inventories()],
            "cameras": {f"{r.type}/{r.status}": int(r.n) for r in self.inventory.summary().itertuples()},
            "cameras_rejected": int(len(self.inventory.rejected)),
            "live_cameras_used": int(self.stats.n_cameras),
            "period": {"start": self.period[0], "end": self.period[1]},
            "incidents": int(allrow["incidents"]) if allrow is not None else 0,
            "share_incidents_covered": float(allrow["share_incidents"]) if allrow is not None else 0.0,
            "share_harm_covered": float(allrow["share_harm"]) if allrow is not None else 0.0,
            "gaps": int(len(self.gaps)),
            "siting": {
                "k": self.k,
                "candidates": int(len(self.candidates)),
                "method": self.mclp.method,
                "status": self.mclp.status,
                "solve_seconds": round(self.mclp.seconds, 3),
                "demand_harm_covered_existing": self.mclp.fixed_covered,
                "demand_harm_covered_with_new": self.mclp.covered,
                "bound": self.mclp.bound,
                "gap": self.mclp.gap,
                "share_with_new": float(c["share_covered"].iloc[-1]) if len(c) else 0.0,
            },
            "set_cover": self.set_cover.to_frame().iloc[0].to_dict(),
            "anpr": (self.anpr.summary().iloc[0].to_dict() if self.anpr is not None else None),
            "notes": list(self.notes),
        }
        return json.loads(json.dumps(out, default=lambda o: o.item() if hasattr(o, "item") else str(o)))

    def map_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """GeoDataFrames (working CRS) for maps and GIS: cameras (with their inventory, description and
        positional error), viewsheds, gap places, proposed sites, ANPR entry points and readers, mobile spots."""
        layers = {
            "viewsheds": _labelled_cameras(self.viewsheds),
            "gaps": self.gaps,
            "proposed_sites": self.proposed_sites,
            "cameras": _labelled_cameras(self.inventory.cameras),
        }
        if self.anpr is not None:
            layers["anpr_entry_points"] = self.anpr.entries
            readers = self.anpr.readers.copy()
            readers["label"] = [
                f"Proposed ANPR reader {r}: {road}"
                for r, road in zip(readers["chosen_rank"], self.anpr.reader_table()["Road"], strict=True)
            ]
            layers["anpr_readers"] = readers
        if self.mobile is not None:
            layers["mobile_spots"] = self.mobile.spots
        return layers

    # ------------------------------------------------------------------ output
    def write_tables(self, out_dir: str | Path) -> list[Path]:
        """The tables a FIM pack carries about CCTV (CSV, safe to open in Excel): ``gap_places.csv``,
        ``proposed_sites.csv``, ``anpr_readers.csv`` (with an ANPR analysis) and ``cameras_rejected.csv``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = [
            _csv(self.gaps, out / "gap_places.csv"),
            _csv(self.proposed_sites, out / "proposed_sites.csv"),
            _csv(self.inventory.rejected, out / "cameras_rejected.csv"),
        ]
        if self.anpr is not None:
            files.append(_csv(self.anpr.readers, out / "anpr_readers.csv"))
        return files

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write the coverage report's tables, plot and layers into ``out_dir`` (created); returns the files.

        The public-consultation page is written by :func:`hotspots.render.coverage.write_coverage_report`.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = [
            _csv(self.stats.by_type, out / "coverage_by_type.csv"),
            _csv(self.gaps, out / "gaps.csv"),
            _csv(self.proposed_sites, out / "proposed_sites.csv"),
            _csv(self.curve, out / "marginal_gain.csv"),
            _csv(self.set_cover.to_frame(), out / "set_cover.csv"),
            _csv(self.inventory.rejected, out / "cameras_rejected.csv"),
            plot_marginal_curve(
                self.curve, out / "marginal_gain.png", title=f"Harm covered with 1..{self.k} new cameras"
            ),
        ]
        if self.anpr is not None:
            files.append(_csv(self.anpr.entries, out / "anpr_entry_points.csv"))
            files.append(_csv(self.anpr.readers, out / "anpr_proposed_readers.csv"))
        if self.mobile is not None:
            files.append(_csv(self.mobile.spots, out / "mobile_deployments.csv"))
        gpkg = out / "coverage.gpkg"
        if gpkg.exists():
            gpkg.unlink()
        for name, g in self.map_layers().items():
            if len(g):
                g.to_file(gpkg, layer=name, driver="GPKG")
        if len(self.gaps):
            gp = out / "gaps.gpkg"
            if gp.exists():
                gp.unlink()
            self.gaps.to_file(gp, layer="gaps", driver="GPKG")
            files.append(gp)
        files.append(gpkg)
        (out / "summary.json").write_text(json.dumps(self.summary(), indent=2))
        files.append(out / "summary.json")
        return files


def _labelled_cameras(cams: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cameras (or their viewsheds) with a ``label`` for tooltips: the inventory's description of where the
    camera is, its inventory, and how approximate its position is (never an internal id alone)."""
    c = cams.copy()
    desc = c["description"].astype(str) if "description" in c.columns else pd.Series([""] * len(c), index=c.index)
    inv = c["inventory"].astype(str) if "inventory" in c.columns else pd.Series([""] * len(c), index=c.index)
    err = c["position_error_m"].to_numpy(float) if "position_error_m" in c.columns else np.zeros(len(c))
    kind = c["type"].map(TYPE_WORDS).fillna("camera") if "type" in c.columns else pd.Series(["camera"] * len(c))
    c["label"] = [
        (d or f"{k} {cid}") + (f" ({i})" if i else "") + (f"; position approximate, within {e:g} m" if e > 0 else "")
        for d, k, cid, i, e in zip(desc, kind, c["camera_id"].astype(str), inv, err, strict=True)
    ]
    return c


def _csv(df: pd.DataFrame, path: Path) -> Path:
    return write_csv(df, path)
