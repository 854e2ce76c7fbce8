"""Synthetic patrol GPS pings for the demo borough, with the planted truth.

The fortnight before the demo meeting (from the previous meeting, :data:`PATROL_START`, for
:data:`PATROL_DAYS` days), patrol units drive the demo roads to the planted hotspots (the town
centres and the car park of the emerging hotspot), park there for planted minutes, and drive back;
other units drive straight through them at speed. :func:`write_demo_patrols` writes

* ``patrol/pings.csv.gz``: ``callsign, timestamp`` (UTC, ``Z``), ``longitude, latitude`` (EPSG:4326), as an
  AVLS export would give them, one ping every :data:`INTERVAL_S` seconds from 08:00 to 22:00 every day;
* ``patrol/planted_patrols.json``: the places (name, point, radius in metres), the planted visits (place,
  call sign, start, end, minutes parked, where parked) and the planted drive-throughs.

Deterministic: its own random generator from the demo seed. :func:`simulate_demo_patrols` runs before the
incidents are written, because the demo plants a patrol effect at these places on the days of the planted
visits (:class:`~hotspots.demo.params.DemoParams`, section 8); :func:`write_demo_patrols` writes the result.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._csvsafe import write_csv
from .patrol_sim import SimulatedPatrols, simulate_patrols

__all__ = ["INTERVAL_S", "PATROL_DAYS", "PATROL_START", "DemoPatrols", "simulate_demo_patrols", "write_demo_patrols"]

#: First day of the demo patrols (the demo's previous meeting), local date.
PATROL_START = "2025-10-31"
#: Days of patrol (up to the demo meeting, 2025-11-14).
PATROL_DAYS = 14
#: Seconds between pings.
INTERVAL_S = 30.0
#: Random stream of the patrols beside the demo seed (one whose unit bases lie inside the borough and
#: outside every place the demo's 2025-10-31 list tasks, so a unit waiting at base is not a patrol visit).
RNG_STREAM = 23
#: Radius of each patrolled place around its planted point (metres).
PLACE_RADIUS_M = 60.0
#: (minutes per visit, visits a week) planted per place, in the order of :func:`_places`: some places get the
#: 15 minutes 3 times a week a tasking list asks for, some less, one more.
DOSES = ((15.0, 3), (15.0, 3), (10.0, 2), (15.0, 5), (20.0, 3))


def _places(truth: dict[str, Any]) -> gpd.GeoDataFrame:
    """The patrolled places: each town centre and the emerging hotspot, circles in EPSG:27700."""
    rows = [(f"TC-{k + 1}", c["name"], c["x"], c["y"]) for k, c in enumerate(truth["town_centres"])]
    em = truth["emerging"]
    rows.append(("EM-1", em["label"], em["x"], em["y"]))
    pts = shapely.points([(x, y) for _, _, x, y in rows])
    return gpd.GeoDataFrame(
        {"item_id": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=shapely.buffer(pts, PLACE_RADIUS_M),
        crs=truth["crs"],
    )


@dataclass(frozen=True, eq=False)
class DemoPatrols:
    """The simulated demo patrols: the patrolled ``places`` (60 m circles, EPSG:27700), the planted ``doses``
    (minutes per visit, visits a week, in ``places`` order) and the simulation (pings and planted visits)."""

    places: gpd.GeoDataFrame
    doses: tuple[tuple[float, int], ...]
    sim: SimulatedPatrols

    def daily_minutes(self) -> pd.DataFrame:
        """Planted minutes of patrol per place and local day (``place_id``, ``day``, ``minutes``); days without
        a visit are absent."""
        v = self.sim.planted_visits
        day = pd.DatetimeIndex(v["start"]).tz_localize(None).normalize()
        return v.assign(day=day).groupby(["place_id", "day"], sort=True)["minutes"].sum().reset_index()


def simulate_demo_patrols(truth: dict[str, Any], roads: gpd.GeoDataFrame, seed: int) -> DemoPatrols:
    """Simulate the demo patrols (see the module docstring) from the demo's truth (its town centres, emerging
    hotspot, CRS and time zone) on ``roads`` (EPSG:27700, as written to ``roads.geojson``)."""
    places = _places(truth)
    doses = DOSES[: len(places)] + ((15.0, 3),) * max(0, len(places) - len(DOSES))
    plans = pd.DataFrame(
        {
            "item_id": places["item_id"],
            "minutes_per_visit": [m for m, _ in doses],
            "visits_per_week": [v for _, v in doses],
        }
    )
    rng = np.random.default_rng([seed, RNG_STREAM])
    sim = simulate_patrols(
        rng,
        roads,
        places,
        start=PATROL_START,
        days=PATROL_DAYS,
        plans=plans,
        n_visiting_units=4,
        n_passing_units=3,
        passes_per_day=6,
        interval_s=INTERVAL_S,
        drive_speed_mps=10.0,
        day_hours=(8.0, 22.0),
        timezone=truth["timezone"],
    )
    return DemoPatrols(places=places, doses=tuple(doses), sim=sim)


def write_demo_patrols(out_dir: Path | str, truth: dict[str, Any], patrols: DemoPatrols) -> dict[str, Path]:
    """Write the simulated demo patrols under ``out_dir/patrol`` (see the module docstring)."""
    out = Path(out_dir) / "patrol"
    out.mkdir(parents=True, exist_ok=True)
    places, doses, sim = patrols.places, patrols.doses, patrols.sim
    frame = sim.to_csv_frame()
    pings = out / "pings.csv.gz"
    plain = write_csv(frame, out / "pings.csv", bom=False, lineterminator="\n")  # the one CSV writer
    pings.write_bytes(gzip.compress(plain.read_bytes(), compresslevel=9, mtime=0))
    plain.unlink()
    park = shapely.get_coordinates(shapely.point_on_surface(places.geometry.to_numpy()))
    park_of = dict(zip(places["item_id"], park.round(1).tolist(), strict=True))
    planted = {
        "crs": truth["crs"],
        "timezone": truth["timezone"],
        "start": PATROL_START,
        "days": PATROL_DAYS,
        "interval_s": INTERVAL_S,
        "settings": sim.settings,
        "places": [
            {
                "id": i,
                "name": n,
                "x": round(float(g.centroid.x), 1),
                "y": round(float(g.centroid.y), 1),
                "radius_m": PLACE_RADIUS_M,
                "minutes_per_visit": m,
                "visits_per_week": v,
            }
            for i, n, g, (m, v) in zip(places["item_id"], places["name"], places.geometry, doses, strict=True)
        ],
        "visits": [
            {
                "place_id": r.place_id,
                "callsign": r.unit,
                "start": r.start.isoformat(),
                "end": r.end.isoformat(),
                "minutes": float(r.minutes),
                "parked_at": park_of[r.place_id],
            }
            for r in sim.planted_visits.itertuples(index=False)
        ],
        "passes": [
            {"place_id": r.place_id, "callsign": r.unit, "time": r.time.isoformat()}
            for r in sim.planted_passes.itertuples(index=False)
        ],
        "n_pings": int(len(frame)),
    }
    truth_file = out / "planted_patrols.json"
    truth_file.write_text(json.dumps(planted, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return {"pings": pings, "planted_patrols": truth_file}
