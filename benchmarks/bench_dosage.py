"""Patrol dosage benchmark: a week of GPS pings from 200 units at 10 s intervals
(about 12 million pings) turned into visits, against a straightforward shapely/pandas
implementation of the same rules.

Data (generated here, seeded): 200 units in a 10 km square of British National Grid
drive in straight lines at 7-13 m/s between waypoints and stop at each for 1-40
minutes; about a third of the waypoints are inside one of 60 places (circles of 80-200
m radius), so the pings hold parked visits, short stops and drive-throughs. Pings every
10 s from 00:00 on Monday for 7 days with a 3 m position error; 0.1% of the pings are
repeated and 0.05% are 0,0 no-fix rows, so the reader's quarantine has work to do.

Rows
----
* visits, 12 M pings: ``detect_visits`` on the pings as arrays (target: < 60 s). Peer: the
  plain shapely/pandas implementation in ``tests/dosage_reference.py`` on a subset (10
  units x 1 day), timed and scaled linearly to the whole; on that subset the stays of both
  are asserted equal.
* read + visits, 12 M pings from CSV: ``read_pings`` (parse, validate, quarantine,
  pseudonymise, reproject, speed checks) on the CSV export of the same pings, then
  ``detect_visits`` (target: < 60 s for the whole).

Times: wall seconds and CPU seconds of this process (``time.process_time``); the machine
is shared, so both are reported.

Run as a script to print the rows and write ``benchmarks/results/dosage.json``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
BNG = "EPSG:27700"
X0, Y0, SIDE = 520000.0, 185000.0, 10000.0
START = "2025-06-02"  # a Monday


def make_places(rng, n=60):
    import geopandas as gpd
    import shapely

    xy = rng.uniform([X0 + 500, Y0 + 500], [X0 + SIDE - 500, Y0 + SIDE - 500], size=(n, 2))
    r = rng.uniform(80, 200, n)
    geoms = shapely.buffer(shapely.points(xy), r, quad_segs=8)
    return gpd.GeoDataFrame({"item_id": [f"T{k:03d}" for k in range(n)], "radius": r}, geometry=geoms, crs=BNG), xy, r


def make_pings(rng, places_xy, radii, n_units=200, days=7, step_s=10.0, gps_error_m=3.0) -> pd.DataFrame:
    """Straight drives between waypoints, with stops; about a third of the stops inside a place."""
    span = days * 86400.0
    frames = []
    for u in range(n_units):
        t, p = 0.0, rng.uniform([X0, Y0], [X0 + SIDE, Y0 + SIDE])
        kt, kx, ky = [0.0], [p[0]], [p[1]]
        while t < span:
            if rng.random() < 0.35:
                k = int(rng.integers(len(places_xy)))
                q = places_xy[k] + rng.uniform(-0.5, 0.5, 2) * radii[k]
                dwell = rng.uniform(3, 25) * 60
            else:
                q = rng.uniform([X0, Y0], [X0 + SIDE, Y0 + SIDE])
                dwell = rng.uniform(1, 40) * 60
            t += float(np.hypot(*(q - p))) / rng.uniform(7, 13)
            kt.append(t), kx.append(q[0]), ky.append(q[1])
            t += dwell
            kt.append(t), kx.append(q[0]), ky.append(q[1])
            p = q
        ts = np.arange(rng.uniform(0, step_s), span, step_s)
        x = np.interp(ts, kt, kx) + rng.normal(0, gps_error_m, len(ts))
        y = np.interp(ts, kt, ky) + rng.normal(0, gps_error_m, len(ts))
        frames.append(pd.DataFrame({"unit": np.full(len(ts), f"CS{1000 + u}"), "t": ts, "x": x, "y": y}))
    df = pd.concat(frames, ignore_index=True)
    df["time"] = pd.Timestamp(START, tz="Europe/London") + pd.to_timedelta(np.round(df["t"].to_numpy(), 3), unit="s")
    return df.drop(columns="t")


def write_csv(pings: pd.DataFrame, path: Path, rng) -> int:
    """The pings as an AVLS export (call sign, local time, longitude, latitude), with some bad rows."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(BNG, "EPSG:4326", always_xy=True).transform(
        pings["x"].to_numpy(), pings["y"].to_numpy()
    )
    local = pings["time"].dt.tz_localize(None).to_numpy().astype("datetime64[s]")
    table = pd.DataFrame(
        {
            "callsign": pings["unit"].to_numpy(),
            "timestamp": np.datetime_as_string(local),
            "longitude": np.round(lon, 6),
            "latitude": np.round(lat, 6),
        }
    )
    n = len(table)
    dup = rng.choice(n, n // 1000, replace=False)
    zero = rng.choice(n, n // 2000, replace=False)
    table.loc[zero, ["longitude", "latitude"]] = 0.0
    table = pd.concat([table, table.iloc[dup]]).sort_index(kind="stable")
    pcsv.write_csv(pa.Table.from_pandas(table, preserve_index=False), str(path))
    return len(table)


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def run() -> list[dict]:
    sys.path.insert(0, str(REPO / "tests"))
    from dosage_reference import reference_visits

    from hotspots.analysis.dosage import detect_visits
    from hotspots.ingest.pings import read_pings

    rng = np.random.default_rng(20250602)
    places, pxy, radii = make_places(rng)
    w_gen, _, pings = _timed(lambda: make_pings(rng, pxy, radii))
    n = len(pings)
    # warm the numba cache on a small slice, then the whole run
    detect_visits(pings.iloc[:5000], places, crs=BNG)
    wall, cpu, res = _timed(partial(detect_visits, pings, places, crs=BNG))
    kinds = res.stays["kind"].value_counts().to_dict()
    # peer on a subset: 10 units x 1 day
    units = sorted(pings["unit"].unique())[:10]
    day_end = pd.Timestamp(START, tz="Europe/London") + pd.Timedelta(days=1)
    sub = pings[pings["unit"].isin(units) & (pings["time"] < day_end)].reset_index(drop=True)
    gap = res.settings["max_gap_s"]
    _, c_ref, ref = _timed(lambda: reference_visits(sub, places, max_gap_s=gap))
    _, c_sub, ours_sub = _timed(lambda: detect_visits(sub, places, crs=BNG, max_gap_s=gap))
    got = ours_sub.stays
    equal = (
        len(got) == len(ref)
        and got["kind"].tolist() == ref["kind"].tolist()
        and got["place_id"].tolist() == ref["place_id"].tolist()
        and np.allclose(got["minutes"], ref["minutes"], rtol=1e-9, atol=1e-9)
    )
    assert equal, f"engine and reference stays differ on the subset ({len(got)} vs {len(ref)} stays)"
    scale = n / len(sub)
    peer_s = c_ref * scale
    rows = [
        {
            "benchmark": f"visits from {n / 1e6:.1f} M pings (200 units, 7 days, 10 s), 60 places",
            "ours_s": round(cpu, 2),
            "peer": "plain shapely/pandas implementation of the same rules (tests/dosage_reference.py)",
            "peer_s": round(peer_s, 0),
            "ratio": round(peer_s / cpu, 0),
            "equal": bool(equal),
            "notes": (
                f"{n:,} pings; ours wall {wall:.1f} s (target < 60 s: {'met' if wall < 60 else 'NOT met'}); "
                f"{len(res.stays):,} stays: {kinds.get('visit', 0):,} visits, {kinds.get('drive_through', 0):,} "
                f"drive-throughs, {kinds.get('short', 0):,} short stops; automatic gap {gap:g} s. Peer timed (CPU) "
                f"on {len(sub):,} pings (10 units x 1 day: {c_ref:.1f} s; ours on the same {c_sub:.3f} s) and scaled "
                f"linearly x{scale:.0f}; on that subset {len(got)} stays, equal kind, place and minutes. "
                f"Pings generated in {w_gen:.0f} s (not timed)."
            ),
        }
    ]
    del res, ours_sub
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "avls.csv"
        n_rows = write_csv(pings, csv, rng)
        size_mb = csv.stat().st_size / 1e6
        del pings
        read_pings(_small_copy(csv), timezone="Europe/London")
        w_read, c_read, rd = _timed(lambda: read_pings(csv, timezone="Europe/London"))
        w_vis, c_vis, v2 = _timed(lambda: detect_visits(rd.pings, places, crs=rd.crs))
        s = rd.summary()
        rows.append(
            {
                "benchmark": f"read CSV + visits, {n_rows / 1e6:.1f} M pings",
                "ours_s": round(c_read + c_vis, 2),
                "peer": None,
                "peer_s": None,
                "ratio": None,
                "equal": None,
                "notes": (
                    f"{size_mb:.0f} MB CSV; read_pings wall {w_read:.1f} s (CPU {c_read:.1f} s), detect_visits wall "
                    f"{w_vis:.1f} s; total wall {w_read + w_vis:.1f} s (target < 60 s: "
                    f"{'met' if w_read + w_vis < 60 else 'NOT met'}). {s['accepted']:,} accepted, "
                    f"{s['quarantined']:,} quarantined {s['quarantined_by_reason']}; reconciles: {s['reconciles']}; "
                    f"{int((v2.stays['kind'] == 'visit').sum()):,} visits."
                ),
            }
        )
    return rows


def _small_copy(csv: Path) -> Path:
    """The first 20,000 lines of ``csv`` beside it, to warm the numba cache and imports."""
    small = csv.with_name("warm.csv")
    with open(csv) as src, open(small, "w") as dst:
        for k, line in enumerate(src):
            if k > 20000:
                break
            dst.write(line)
    return small


if __name__ == "__main__":
    from _results import save_rows

    save_rows("dosage", run())
