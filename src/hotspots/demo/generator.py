"""Write the deterministic synthetic demo borough (EPSG:27700, local Europe/London times).

``generate_demo(out_dir)`` writes::

    boundaries/wards.geojson          ward polygons (ward_code, ward_name)
    boundaries/ward_population.csv    ward_code, ward_name, population, households
    boundaries/roads.geojson          road_id, name, road_class (motorway/a_road/b_road/minor)
    boundaries/town_centres.geojson   name, kind (major/district)
    boundaries/cameras.csv            camera_id, type, x, y, range_m, bearing_deg, fov_deg, status, description
    incidents/incidents.csv           ref, offence, committed_from, committed_to, easting, northing, location
    incidents/planted_truth.json      every planted parameter (sorted keys), with the places of known
                                      trajectories (``trajectories``) and the patrol effect (``patrol_effect``)
    patrol/pings.csv.gz               patrol GPS pings of the fortnight before the demo meeting (callsign, timestamp,
                                      longitude, latitude)
    patrol/planted_patrols.json       the planted patrol visits and drive-throughs (see :mod:`.patrols`)
    README.md                         what the borough is and what was planted

The same parameters give byte-identical files.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point

from .._csvsafe import write_rows
from ..config.sections import DEFAULT_TIMEZONE
from ..crs import DEFAULT_CRS
from ..errors import ConfigError
from ..geo.grid import auto_cell_size
from . import geography as geo
from .params import DemoParams, DemoTruth
from .patrol_sim import plant_patrol_effect
from .patrols import PATROL_DAYS, PATROL_START, DemoPatrols, simulate_demo_patrols, write_demo_patrols

CRS_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
RESIDENTIAL_BURGLARY = "Burglary - residential"
NTE_OFFENCES = ("Robbery of personal property", "Violence with injury", "Violence without injury")
VEHICLE_OFFENCES = ("Theft from motor vehicle", "Theft of motor vehicle")
EMERGING_LABEL = "car park behind a retail parade"
#: Random streams beside the demo seed of the planted trajectories and of the patrol effect (the patrols use
#: :data:`.patrols.RNG_STREAM`), so planting them leaves every other incident as it was.
TRAJECTORY_STREAM = 17
PATROL_EFFECT_STREAM = 29
#: A place is busy in a half-year with at least this many incidents: the engine's default ``[concentration]
#: min_high_count``, which in the demo is also the top 5% of cells' counts in every half-year.
BUSY_COUNT = 3
INCIDENT_HEADER = ("ref", "offence", "committed_from", "committed_to", "easting", "northing", "location")

# relative weights by hour of day (0..23)
_H = np.arange(24)
PROFILE_DIFFUSE = np.array(
    [3, 2, 1.5, 1, 0.7, 0.6, 0.8, 1.5, 2.5, 3, 3.5, 4, 4.5, 4.5, 4.5, 5, 5.5, 6, 6, 6, 5.5, 5, 4.5, 4], float
)
PROFILE_SHOP = np.where((_H >= 9) & (_H < 19), 1.0, 0.0) * np.array(
    [0] * 9 + [1, 1.5, 2, 2.5, 2.5, 2.5, 3, 3.5, 3, 2] + [0] * 5, float
)
PROFILE_BURGLARY = np.array(
    [1, 0.8, 0.6, 0.5, 0.4, 0.4, 0.5, 0.8, 1.5, 3, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 4, 4.5, 4.5, 4, 3, 2, 1.5], float
)
PROFILE_EVENING = np.array(
    [4, 3, 2, 1, 0.5, 0.4, 0.5, 0.8, 1, 1.5, 2, 2.5, 3, 3, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6, 5.5, 5], float
)
PROFILE_NIGHT = np.array(
    [5, 5, 4.5, 4, 3, 2, 1, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.5, 0.8, 1.5, 2.5, 3.5, 4.5, 5, 5, 5], float
)
PROFILE_TFP = np.array(
    [1, 0.5, 0.3, 0.2, 0.1, 0.1, 0.3, 1, 2, 2, 2.5, 3, 4, 4, 3.5, 3.5, 4, 5, 5, 4.5, 4, 3.5, 3, 2], float
)


# --------------------------------------------------------------------------- small samplers
class _Clock:
    """Naive local time as float days since the start of the period."""

    def __init__(self, p: DemoParams):
        self.start = np.datetime64(p.start_date, "m")
        self.end_excl = np.datetime64(p.end_date, "D") + np.timedelta64(1, "D")
        self.n_days = int((self.end_excl - np.datetime64(p.start_date, "D")).astype(int))
        days = np.datetime64(p.start_date, "D") + np.arange(self.n_days)
        self.month = (days.astype("datetime64[M]").astype(int) % 12) + 1
        self.weekday = (days.astype(int) - 4) % 7  # 0 = Monday (1970-01-01 was a Thursday)
        # spring-forward gaps (01:00-01:59 local does not exist): last Sunday in March
        gaps = []
        for y in range(int(str(days[0])[:4]), int(str(days[-1])[:4]) + 1):
            d = np.datetime64(f"{y}-03-31")
            while (d.astype(int) - 4) % 7 != 6:
                d -= np.timedelta64(1, "D")
            gaps.append(d.astype("datetime64[m]") + np.timedelta64(60, "m"))
        self.gaps = np.array(gaps)

    def day_of(self, iso: str) -> float:
        return float((np.datetime64(iso, "D") - self.start.astype("datetime64[D]")).astype(int))

    def to_minutes(self, t: np.ndarray) -> np.ndarray:
        m = self.start + np.floor(np.asarray(t) * 1440.0).astype("int64").astype("timedelta64[m]")
        for g in self.gaps:  # nudge non-existent local times forward by an hour
            bad = (m >= g) & (m < g + np.timedelta64(60, "m"))
            m = np.where(bad, m + np.timedelta64(60, "m"), m)
        return m

    def clip(self, t: np.ndarray) -> np.ndarray:
        return np.clip(t, 0.0, self.n_days - 1.0 / 1440.0)


def _window(rng, t: np.ndarray, lo_h: float, hi_h: float) -> tuple[np.ndarray, np.ndarray]:
    """A recorded window around event times ``t`` (days): from/to each ``lo_h``..``hi_h`` hours away."""
    n = len(t)
    return t - rng.uniform(lo_h, hi_h, n) / 24, t + rng.uniform(lo_h, hi_h, n) / 24


def _times_of_day(rng, n: int, profile: np.ndarray) -> np.ndarray:
    """Fractions of a day drawn from an hourly profile (uniform within the hour)."""
    p = profile / profile.sum()
    h = rng.choice(24, size=n, p=p)
    return (h + rng.uniform(0, 1, n)) / 24.0


def _days(
    rng, clock: _Clock, n: int, lo: float = 0.0, hi: float | None = None, month_weight: dict[int, float] | None = None
) -> np.ndarray:
    """Integer day indices in [lo, hi), optionally weighted by calendar month."""
    lo_i, hi_i = int(math.ceil(lo)), int(clock.n_days if hi is None else math.floor(hi))
    w = np.ones(hi_i - lo_i)
    if month_weight:
        for mth, f in month_weight.items():
            w[clock.month[lo_i:hi_i] == mth] *= f
    return lo_i + rng.choice(hi_i - lo_i, size=n, p=w / w.sum())


def _nte_times(rng, clock: _Clock, n: int, weekend_share: float) -> np.ndarray:
    """Night-time economy: 21:00-03:00, mostly starting on Friday or Saturday evenings."""
    w = np.where(np.isin(clock.weekday, (4, 5)), weekend_share / 2, (1 - weekend_share) / 5)
    d = rng.choice(clock.n_days, size=n, p=w / w.sum())
    return clock.clip(d + (21.0 + rng.uniform(0, 6, n)) / 24.0)


class _Places:
    """Spatial samplers over the borough (EPSG:27700 metres)."""

    def __init__(self, rng, outline, wards, households):
        self.rng = rng
        self.outline = outline
        shapely.prepare(outline)
        self.wards = wards
        self.w = np.asarray(households, float)

    def households(self, n: int) -> np.ndarray:
        k = self.rng.multinomial(n, self.w / self.w.sum())
        parts = [geo.random_points_in(self.rng, poly, int(c)) for poly, c in zip(self.wards, k, strict=True) if c]
        pts = np.concatenate(parts) if parts else np.empty((0, 2))
        return pts[self.rng.permutation(len(pts))]

    def area(self, n: int) -> np.ndarray:
        return geo.random_points_in(self.rng, self.outline, n)

    def diffuse(self, n: int, household_share: float) -> np.ndarray:
        nh = self.rng.binomial(n, household_share)
        pts = np.concatenate([self.households(nh), self.area(n - nh)])
        return pts[self.rng.permutation(n)]

    def blobs(self, n: int, centres: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
        out = np.empty((0, 2))
        while len(out) < n:
            m = n - len(out)
            c = centres[self.rng.choice(len(centres), size=m, p=weights / weights.sum())]
            p = c + self.rng.normal(0, sigma, (m, 2))
            out = np.concatenate([out, p[shapely.contains_xy(self.outline, p[:, 0], p[:, 1])]])
        return out[:n]

    def disc(self, n: int, x: float, y: float, r: float, inside: bool = True) -> np.ndarray:
        out = np.empty((0, 2))
        while len(out) < n:
            m = max(2 * (n - len(out)), 16)
            rad = r * np.sqrt(self.rng.uniform(0, 1, m))
            th = self.rng.uniform(0, 2 * np.pi, m)
            p = np.column_stack([x + rad * np.cos(th), y + rad * np.sin(th)])
            if inside:
                p = p[shapely.contains_xy(self.outline, p[:, 0], p[:, 1])]
            out = np.concatenate([out, p])
        return out[:n]


# --------------------------------------------------------------------------- the generator
def generate_demo(out_dir: Path | str, params: DemoParams | None = None) -> DemoTruth:
    """Write the demo borough into ``out_dir`` (see the module docstring) and return its truth.

    Deterministic: the same ``params`` (including ``seed``) give byte-identical files.
    """
    p = params or DemoParams()
    out_dir = Path(out_dir)
    rng = np.random.default_rng(p.seed)
    clock = _Clock(p)
    cx, cy = p.centre_e, p.centre_n

    # ---- geography
    outline = geo.make_outline(rng, cx, cy, p.area_km2)
    ward_polys = geo.make_wards(rng, outline, p.n_wards)
    borough = shapely.union_all(ward_polys)
    roads = geo.make_roads(rng, outline, cx, cy)
    centres = geo.place_town_centres(roads, outline, p.n_town_centres)
    cxy = np.array([[c["x"], c["y"]] for c in centres])
    crossings = geo.crossing_points(roads, outline)

    # green belt: the part of the borough furthest from every town centre
    cand = geo.random_points_in(rng, outline.buffer(-1500), 400)
    dmin = np.min(np.hypot(cand[:, 0, None] - cxy[:, 0], cand[:, 1, None] - cxy[:, 1]), axis=1)
    green = tuple(np.round(cand[int(np.argmax(dmin))], 1))

    cent = np.array([[w.centroid.x, w.centroid.y] for w in ward_polys])
    dens = geo.household_density(cent[:, 0], cent[:, 1], cx, cy, cxy, green)
    raw = np.array([w.area for w in ward_polys]) / 1e6 * dens * rng.lognormal(0, 0.15, len(ward_polys))
    households = np.round(raw / raw.sum() * p.households_total).astype(int)
    pph = np.round(rng.normal(p.persons_per_household, 0.12, len(ward_polys)), 2)
    population = np.round(households * pph).astype(int)
    names = list(rng.choice(geo.WARD_NAMES, size=p.n_wards, replace=False))
    wards = [
        {
            "ward_code": f"DM{i + 1:04d}",
            "ward_name": str(names[i]),
            "geometry": ward_polys[i],
            "population": int(population[i]),
            "households": int(households[i]),
        }
        for i in range(p.n_wards)
    ]
    places = _Places(rng, outline, ward_polys, households)

    anchors = places.households(200)
    streets = geo.make_minor_streets(rng, outline, 200, anchors, [(c["x"], c["y"]) for c in centres])
    roads = roads + streets
    for i, r in enumerate(roads):
        r["road_id"] = f"R{i + 1:04d}"

    # ---- emerging / stopping hotspot sites: residential, away from centres, edge and each other
    inner = outline.buffer(-900)
    cand = places.households(600)
    cand = cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])]
    far_c = np.min(np.hypot(cand[:, 0, None] - cxy[:, 0], cand[:, 1, None] - cxy[:, 1]), axis=1)
    cross = np.array(crossings)
    far_x = np.min(np.hypot(cand[:, 0, None] - cross[:, 0], cand[:, 1, None] - cross[:, 1]), axis=1)
    ok = cand[(far_c > 1600) & (far_x > 1200)]
    em = ok[0]
    st_ok = ok[np.hypot(ok[:, 0] - em[0], ok[:, 1] - em[1]) > 2500]
    st = st_ok[0]
    em = (round(float(em[0]), 1), round(float(em[1]), 1))
    st = (round(float(st[0]), 1), round(float(st[1]), 1))

    # ---- cameras
    cameras = _make_cameras(rng, p, outline, centres, roads, crossings, em, st, anchors)

    # ---- the geography files (the patrols drive on the roads as written)
    paths = {
        "wards": out_dir / "boundaries" / "wards.geojson",
        "ward_population": out_dir / "boundaries" / "ward_population.csv",
        "roads": out_dir / "boundaries" / "roads.geojson",
        "town_centres": out_dir / "boundaries" / "town_centres.geojson",
        "cameras": out_dir / "boundaries" / "cameras.csv",
        "incidents": out_dir / "incidents" / "incidents.csv",
        "planted_truth": out_dir / "incidents" / "planted_truth.json",
        "readme": out_dir / "README.md",
    }
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)

    _write_geojson(
        paths["wards"], [({"ward_code": w["ward_code"], "ward_name": w["ward_name"]}, w["geometry"]) for w in wards]
    )
    _write_csv(
        paths["ward_population"],
        ("ward_code", "ward_name", "population", "households"),
        [(w["ward_code"], w["ward_name"], w["population"], w["households"]) for w in wards],
    )
    _write_geojson(
        paths["roads"],
        [({"road_id": r["road_id"], "name": r["name"], "road_class": r["road_class"]}, r["geometry"]) for r in roads],
    )
    _write_geojson(
        paths["town_centres"], [({"name": c["name"], "kind": c["kind"]}, Point(c["x"], c["y"])) for c in centres]
    )
    _write_csv(
        paths["cameras"],
        ("camera_id", "type", "x", "y", "range_m", "bearing_deg", "fov_deg", "status", "description"),
        [
            (
                c["camera_id"],
                c["type"],
                c["x"],
                c["y"],
                c["range_m"],
                c["bearing_deg"],
                c["fov_deg"],
                c["status"],
                c["description"],
            )
            for c in cameras
        ],
    )
    road_frame = gpd.read_file(paths["roads"])
    road_frame = road_frame.set_crs(DEFAULT_CRS, allow_override=True) if road_frame.crs is None else road_frame
    patrols = simulate_demo_patrols(
        {
            "crs": DEFAULT_CRS,
            "timezone": DEFAULT_TIMEZONE,
            "town_centres": centres,
            "emerging": {"label": EMERGING_LABEL, "x": em[0], "y": em[1]},
        },
        road_frame.to_crs(DEFAULT_CRS),
        p.seed,
    )

    # ---- incidents
    inc_x, inc_y, inc_off, inc_t0, inc_t1 = [], [], [], [], []

    def add(off, xy, t0, t1=None):
        n = len(xy)
        inc_x.append(xy[:, 0])
        inc_y.append(xy[:, 1])
        inc_off.extend([off] * n)
        t0 = clock.clip(np.asarray(t0, float))
        inc_t0.append(t0)
        inc_t1.append(t0 if t1 is None else np.maximum(t0, clock.clip(np.asarray(t1, float))))

    winter = {m: 1.0 + p.winter_uplift for m in p.winter_months}
    years = clock.n_days / 365.25

    # 1. residential burglary: background + cross-border immigrants, then triggered offspring
    n_bg = int(rng.poisson(p.burglary_background_per_year * years))
    bxy = places.households(n_bg)
    bt = _days(rng, clock, n_bg, month_weight=winter) + _times_of_day(rng, n_bg, PROFILE_BURGLARY)
    cb_xy_parts, cb_t_parts = [], []
    for px, py in crossings:
        cb_xy_parts.append(places.disc(p.cross_border_per_point, px, py, p.cross_border_radius_m))
        cb_t_parts.append(
            _days(rng, clock, p.cross_border_per_point) + _times_of_day(rng, p.cross_border_per_point, PROFILE_BURGLARY)
        )
    cb_xy, cb_t = np.concatenate(cb_xy_parts), np.concatenate(cb_t_parts)
    gen_xy, gen_t = np.concatenate([bxy, cb_xy]), np.concatenate([bt, cb_t])
    all_xy, all_t = [gen_xy], [gen_t]
    n_trig = 0
    while len(gen_t):
        k = rng.poisson(p.nr_branching, len(gen_t))
        par_xy, par_t = np.repeat(gen_xy, k, axis=0), np.repeat(gen_t, k)
        m = len(par_t)
        if m == 0:
            break
        rad = p.nr_radius_m * np.sqrt(rng.uniform(0, 1, m))
        th = rng.uniform(0, 2 * np.pi, m)
        cxy_ = par_xy + np.column_stack([rad * np.cos(th), rad * np.sin(th)])
        lag = rng.integers(int(p.nr_min_days), int(p.nr_days) + 1, m)
        ct = np.floor(par_t) + lag + _times_of_day(rng, m, PROFILE_BURGLARY)
        keep = shapely.contains_xy(outline, cxy_[:, 0], cxy_[:, 1]) & (ct < clock.n_days)
        gen_xy, gen_t = cxy_[keep], ct[keep]
        n_trig += len(gen_t)
        all_xy.append(gen_xy)
        all_t.append(gen_t)
    bur_xy, bur_t = np.concatenate(all_xy), np.concatenate(all_t)
    nb = len(bur_t)
    add(RESIDENTIAL_BURGLARY, bur_xy, *_window(rng, bur_t, 0.5, 4.0))

    # business burglary: town centres and diffuse, overnight windows
    n = p.count("Burglary - business")
    nc = rng.binomial(n, 0.5)
    xy = np.concatenate([places.blobs(nc, cxy, _centre_weights(centres), 350.0), places.area(n - nc)])
    d = _days(rng, clock, n, month_weight=winter)
    add("Burglary - business", xy, *_window(rng, d + _times_of_day(rng, n, PROFILE_NIGHT), 1.0, 4.0))

    # 2. robbery and violence: night-time economy + diffuse
    for off in NTE_OFFENCES:
        n = p.count(off)
        nn = rng.binomial(n, p.nte_share)
        add(
            off,
            places.blobs(nn, cxy, _centre_weights(centres), p.town_centre_sigma_m),
            _nte_times(rng, clock, nn, p.nte_weekend_share),
        )
        add(
            off,
            places.diffuse(n - nn, p.diffuse_household_share),
            _days(rng, clock, n - nn) + _times_of_day(rng, n - nn, PROFILE_DIFFUSE),
        )

    # 5. shoplifting (town centres, shop hours), theft from the person, vehicle crime, damage
    n = p.count("Shoplifting")
    nc = rng.binomial(n, p.shoplifting_share_centres)
    xy = np.concatenate(
        [places.blobs(nc, cxy, _centre_weights(centres), p.town_centre_sigma_m * 0.8), places.diffuse(n - nc, 0.3)]
    )
    add("Shoplifting", xy, _days(rng, clock, n) + _times_of_day(rng, n, PROFILE_SHOP))
    n = p.count("Theft from the person")
    nc = rng.binomial(n, 0.6)
    xy = np.concatenate(
        [places.blobs(nc, cxy, _centre_weights(centres), p.town_centre_sigma_m), places.diffuse(n - nc, 0.5)]
    )
    add("Theft from the person", xy, _days(rng, clock, n) + _times_of_day(rng, n, PROFILE_TFP))
    for off in VEHICLE_OFFENCES:
        n = p.count(off)
        d = _days(rng, clock, n)
        add(
            off,
            places.diffuse(n, p.diffuse_household_share),
            *_window(rng, d + _times_of_day(rng, n, PROFILE_NIGHT), 0.25, 3.0),
        )
    n = p.count("Criminal damage")
    d = _days(rng, clock, n) + _times_of_day(rng, n, PROFILE_EVENING)
    win = np.where(rng.uniform(0, 1, n) < 0.3, rng.uniform(1, 10, n) / 24, 0.0)
    dmg_xy = places.diffuse(n, p.diffuse_household_share)
    # 6. a few deliberate near-boundary points (1-40 m outside the boundary)
    ring = outline.buffer(38.0).difference(outline.buffer(1.5))
    dmg_xy[: p.n_near_boundary] = geo.random_points_in(rng, ring, p.n_near_boundary)
    add("Criminal damage", dmg_xy, d, d + win)

    # 4. cross-border vehicle crime (the burglaries joined the Hawkes process above)
    for px, py in crossings:
        n = p.cross_border_per_point
        offences = rng.choice(VEHICLE_OFFENCES, size=n, p=[0.6, 0.4])
        xy = places.disc(n, px, py, p.cross_border_radius_m)
        d = _days(rng, clock, n)
        t0, t1 = _window(rng, d + _times_of_day(rng, n, PROFILE_NIGHT), 0.25, 3.0)
        for o in VEHICLE_OFFENCES:
            sel = offences == o
            add(o, xy[sel], t0[sel], t1[sel])

    # 3. emerging and stopping hotspots
    e0 = clock.day_of(p.emerging_start)
    n_em = int(rng.poisson(p.emerging_per_month * (clock.n_days - e0) / 30.4375))
    d = _days(rng, clock, n_em, lo=e0)
    em_off = p.emerging_offence
    if em_off in VEHICLE_OFFENCES:
        em_t0, em_t1 = _window(rng, d + _times_of_day(rng, n_em, PROFILE_NIGHT), 0.25, 3.0)
    else:
        em_t0 = d + _times_of_day(rng, n_em, PROFILE_EVENING)
        em_t1 = em_t0
    add(em_off, places.disc(n_em, em[0], em[1], p.emerging_radius_m), em_t0, em_t1)
    s1 = clock.day_of(p.stopping_end) + 1
    n_st = int(rng.poisson(p.stopping_per_month * s1 / 30.4375))
    st_t = _days(rng, clock, n_st, hi=s1) + _times_of_day(rng, n_st, PROFILE_EVENING)
    st_t = np.minimum(st_t, s1 - 1.0 / 1440)
    add(p.stopping_offence, places.disc(n_st, st[0], st[1], p.stopping_radius_m), st_t)

    # 7. places with known trajectories (their own random stream: the incidents above are unchanged)
    avoid = [*map(tuple, cxy), em, st, *crossings]
    trajectories = _plant_trajectories(
        np.random.default_rng([p.seed, TRAJECTORY_STREAM]), p, clock, outline, borough, ward_polys, households, avoid
    )
    for place, xy, t in trajectories.pop("_events"):
        add(place["offence"], xy, t)

    # 8. the patrol effect at the patrolled places over the patrol fortnight (its own random stream)
    patrol_effect = _plant_patrol_effect(np.random.default_rng([p.seed, PATROL_EFFECT_STREAM]), p, clock, patrols)
    for off, xy, t in patrol_effect.pop("_events"):
        add(off, xy, t)

    # ---- assemble, name locations, order, write
    x = np.round(np.concatenate(inc_x)).astype(int)
    y = np.round(np.concatenate(inc_y)).astype(int)
    offence = np.array(inc_off)
    m0 = clock.to_minutes(np.concatenate(inc_t0))
    m1 = clock.to_minutes(np.concatenate(inc_t1))
    m1 = np.maximum(m0, m1)
    named = [r for r in roads if r["road_class"] != "motorway"]
    tree = shapely.STRtree([r["geometry"] for r in named])
    _, ridx = tree.query_nearest(shapely.points(x.astype(float), y.astype(float)), all_matches=False)
    loc = np.array([f"On or near {named[i]['name']}" for i in ridx])
    order = np.lexsort((y, x, offence, m1, m0))
    x, y, offence, m0, m1, loc = x[order], y[order], offence[order], m0[order], m1[order], loc[order]
    s0 = np.char.replace(np.datetime_as_string(m0, unit="m"), "T", " ")
    s1_ = np.char.replace(np.datetime_as_string(m1, unit="m"), "T", " ")

    rows = ((f"DM-{i + 1:06d}", offence[i], s0[i], s1_[i], int(x[i]), int(y[i]), loc[i]) for i in range(len(x)))
    _write_csv(paths["incidents"], INCIDENT_HEADER, rows)

    # ---- truth
    def covered_by(hx, hy, r):
        return sorted(
            c["camera_id"]
            for c in cameras
            if c["status"] == "live" and math.hypot(c["x"] - hx, c["y"] - hy) <= c["range_m"] + r
        )

    off_counts = {str(o): int(v) for o, v in zip(*np.unique(offence, return_counts=True), strict=True)}
    emerging = {
        "label": EMERGING_LABEL,
        "offence": em_off,
        "x": em[0],
        "y": em[1],
        "radius_m": p.emerging_radius_m,
        "start": p.emerging_start,
        "per_month": p.emerging_per_month,
        "n_planted": n_em,
        "covered_by_live_cameras": covered_by(*em, p.emerging_radius_m),
    }
    stopping = {
        "label": "footpath underpass by a bus interchange",
        "offence": p.stopping_offence,
        "x": st[0],
        "y": st[1],
        "radius_m": p.stopping_radius_m,
        "end": p.stopping_end,
        "per_month": p.stopping_per_month,
        "n_planted": n_st,
        "covered_by_live_cameras": covered_by(*st, p.stopping_radius_m),
    }
    uncovered = tuple(
        k for k, h in (("emerging", emerging), ("stopping", stopping)) if not h["covered_by_live_cameras"]
    )
    near_repeat = {
        "offence": RESIDENTIAL_BURGLARY,
        "radius_m": p.nr_radius_m,
        "min_days": p.nr_min_days,
        "days": p.nr_days,
        "branching_ratio": p.nr_branching,
        "n_background": n_bg,
        "n_cross_border": len(cb_t),
        "n_triggered": n_trig,
        "n_total": nb,
        "winter_months": list(p.winter_months),
        "winter_uplift": p.winter_uplift,
    }
    area_km2 = round(borough.area / 1e6, 3)
    planted = {
        "crs": DEFAULT_CRS,
        "timezone": DEFAULT_TIMEZONE,
        "period": {"start": p.start_date, "end": p.end_date, "n_days": clock.n_days},
        "borough": {
            "area_km2": area_km2,
            "n_wards": p.n_wards,
            "households": int(households.sum()),
            "population": int(population.sum()),
            "green_belt_centre": list(green),
            "bounds": [round(v, 1) for v in borough.bounds],
        },
        "town_centres": centres,
        "night_time_economy": {
            "offences": list(NTE_OFFENCES),
            "share_in_centres": p.nte_share,
            "weekend_share": p.nte_weekend_share,
            "hours": "21:00-03:00",
            "sigma_m": p.town_centre_sigma_m,
        },
        "shoplifting": {"share_in_centres": p.shoplifting_share_centres, "hours": "09:00-19:00"},
        "near_repeat": near_repeat,
        "emerging": emerging,
        "stopping": stopping,
        "uncovered_hotspots": list(uncovered),
        "cross_border": {
            "points": [list(c) for c in crossings],
            "radius_m": p.cross_border_radius_m,
            "per_point_burglary": p.cross_border_per_point,
            "per_point_vehicle": p.cross_border_per_point,
        },
        "near_boundary": {"n": p.n_near_boundary, "max_outside_m": 40.0},
        "cameras": {
            "n_cctv": sum(c["type"] == "cctv" for c in cameras),
            "n_anpr": sum(c["type"] == "anpr" for c in cameras),
        },
        "trajectories": trajectories,
        "patrol_effect": patrol_effect,
        "counts": off_counts,
        "n_incidents": int(len(x)),
        "params": _jsonable(asdict(p)),
        "files": {k: str(v.relative_to(out_dir)) for k, v in paths.items()},
    }
    paths["planted_truth"].write_text(json.dumps(planted, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    paths["readme"].write_text(_readme(planted), encoding="utf-8")
    paths.update(write_demo_patrols(out_dir, planted, patrols))

    return DemoTruth(
        out_dir=out_dir,
        paths=paths,
        params=p,
        town_centres=tuple(centres),
        emerging=emerging,
        stopping=stopping,
        near_repeat=near_repeat,
        uncovered_hotspots=uncovered,
        cross_border_points=tuple(crossings),
        boundary_area_km2=area_km2,
        counts=off_counts,
        planted=planted,
    )


def _centre_weights(centres) -> np.ndarray:
    return np.array([2.0 if c["kind"] == "major" else 1.0 for c in centres])


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


# --------------------------------------------------------------------------- planted trajectories, patrol effect
def _half_years(p: DemoParams, clock: _Clock) -> list[tuple[str, float, float, bool, float]]:
    """Every calendar half-year the period touches: (label, first day, end day exclusive (days since the start
    of the period), whether the period covers it whole, its length in days)."""
    d0, d1 = np.datetime64(p.start_date, "D"), clock.end_excl
    year, half = int(p.start_date[:4]), 0 if int(p.start_date[5:7]) <= 6 else 1
    out: list[tuple[str, float, float, bool, float]] = []
    while True:
        a = np.datetime64(f"{year}-{1 + 6 * half:02d}-01")
        b = np.datetime64(f"{year + half}-{7 - 6 * half:02d}-01")
        if a >= d1:
            return out
        lo, hi = max(a, d0), min(b, d1)
        out.append(
            (
                f"{year} H{half + 1}",
                float((lo - d0).astype(int)),
                float((hi - d0).astype(int)),
                bool(lo == a and hi == b),
                float((b - a).astype(int)),
            )
        )
        year, half = (year, 1) if half == 0 else (year + 1, 0)


def _expected_stability(rates: np.ndarray) -> str:
    """The chronic/acute label the engine's rule gives a place whose counts are its planted rates: chronic when
    busy (:data:`BUSY_COUNT` or more) in more than half of the half-years, acute when not chronic but busy in the
    last one, none otherwise."""
    busy = rates >= BUSY_COUNT
    if busy.sum() * 2 > busy.size:
        return "chronic"
    return "acute" if busy[-1] else "none"


def _plant_trajectories(rng, p: DemoParams, clock: _Clock, outline, borough, ward_polys, households, avoid):
    """Section 7 of :class:`DemoParams`: the places, their events and their truth (``_events`` holds
    (place, xy, t) for the generator and is removed before the truth is written)."""
    halves = _half_years(p, clock)
    whole = [h for h in halves if h[3]]
    n_whole = len(whole)
    if any(len(r) != n_whole for _, r in p.trajectory_rates):
        raise ConfigError(
            f"DemoParams.trajectory_rates: the period {p.start_date}..{p.end_date} holds {n_whole} whole "
            f"half-years ({', '.join(h[0] for h in whole)}); give one rate for each."
        )
    x0, y0, x1, y1 = borough.bounds
    cs = auto_cell_size(x1 - x0, y1 - y0)
    if p.trajectory_radius_m >= cs / 2:
        raise ConfigError(
            f"DemoParams.trajectory_radius_m: {p.trajectory_radius_m:g} m does not fit inside a cell of the "
            f"automatic {cs:g} m grid; give less than {cs / 2:g} m."
        )
    places = _Places(rng, outline, ward_polys, households)
    inner = outline.buffer(-900)
    cand = places.households(3000)
    cand = cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])]
    cand = np.floor(cand / cs) * cs + cs / 2  # the centre of the cell each candidate falls in
    avoid_xy = np.asarray(avoid, float)
    need = p.trajectory_places_per_class * len(p.trajectory_rates)
    sites: list[tuple[float, float]] = []
    for sx, sy in cand:
        if not borough.contains(shapely.box(sx - cs / 2, sy - cs / 2, sx + cs / 2, sy + cs / 2)):
            continue
        others = np.vstack([avoid_xy, np.asarray(sites, float).reshape(-1, 2)])
        if np.min(np.hypot(others[:, 0] - sx, others[:, 1] - sy)) < p.trajectory_clearance_m:
            continue
        sites.append((float(sx), float(sy)))
        if len(sites) == need:
            break
    else:
        raise ConfigError(
            f"DemoParams.trajectory_clearance_m: only {len(sites)} of {need} places fit "
            f"{p.trajectory_clearance_m:g} m from each other and the other planted hotspots; give a smaller clearance."
        )
    out_places, events = [], []
    for k, (cls, rates) in enumerate(p.trajectory_rates):
        r = np.asarray(rates, float)
        per_half = []
        for label, lo, hi, is_whole, length in halves:
            if is_whole:
                per_half.append((label, float(r[[h[0] for h in whole].index(label)]), lo, hi, True))
            else:
                nearest = r[0] if hi <= whole[0][1] else r[-1]
                per_half.append((label, float(nearest) * (hi - lo) / length, lo, hi, False))
        for j in range(p.trajectory_places_per_class):
            i = k * p.trajectory_places_per_class + j
            sx, sy = sites[i]
            offence = p.trajectory_offences[i % len(p.trajectory_offences)]
            ts, n_whole_drawn = [], []
            for _, rate, lo, hi, is_whole in per_half:
                n = int(rng.poisson(rate))
                d = np.floor(lo + rng.uniform(0, 1, n) * (hi - lo))
                ts.append(np.minimum(d, hi - 1) + _times_of_day(rng, n, PROFILE_DIFFUSE))
                if is_whole:
                    n_whole_drawn.append(n)
            t = np.concatenate(ts)
            place = {
                "id": f"TR-{i + 1:02d}",
                "class": cls,
                "stability": _expected_stability(r),
                "x": sx,
                "y": sy,
                "radius_m": p.trajectory_radius_m,
                "offence": offence,
                "rates": [float(v) for v in r],
                "n_planted": n_whole_drawn,
                "n_total": int(len(t)),
            }
            out_places.append(place)
            events.append((place, places.disc(len(t), sx, sy, p.trajectory_radius_m), t))
    return {
        "period": "half-year",
        "periods": [h[0] for h in whole],
        "cell_size_m": cs,
        "busy_count": BUSY_COUNT,
        "rates_rule": (
            "expected incidents in each whole calendar half-year (periods); a part-covered half-year at either end "
            "gets the rate of the nearest whole one, pro rata to the days covered"
        ),
        "stability_rule": (
            f"chronic: {BUSY_COUNT} or more expected in more than half of the periods; acute: not chronic and "
            f"{BUSY_COUNT} or more in the last period; none otherwise"
        ),
        "places": out_places,
        "_events": events,
    }


def _plant_patrol_effect(rng, p: DemoParams, clock: _Clock, patrols: DemoPatrols) -> dict[str, Any]:
    """Section 8 of :class:`DemoParams`: incidents at the patrolled places over the patrol fortnight, fewer on a
    day with planted patrol, and their truth (``_events`` holds (offence, xy, t) for the generator and is removed
    before the truth is written)."""
    mix = dict(p.patrol_effect_offences)
    dose = patrols.daily_minutes()
    sim = plant_patrol_effect(
        rng,
        patrols.places,
        dose,
        start=PATROL_START,
        days=PATROL_DAYS,
        base_rate_per_day=p.patrol_effect_base_per_day,
        reduction=p.patrol_effect_reduction,
        full_dose_minutes=p.patrol_effect_full_dose_minutes,
        crime_mix=mix,
        harm_weights=dict.fromkeys(mix, 1.0),
        timezone=DEFAULT_TIMEZONE,
    )
    inc = sim.incidents
    local = inc["start"].dt.tz_convert(DEFAULT_TIMEZONE).dt.tz_localize(None).to_numpy().astype("datetime64[m]")
    minutes = (local - clock.start).astype(int)
    t = (minutes + 0.25) / 1440.0  # a quarter of a minute in, so the minute survives the round trip
    xy = inc[["x", "y"]].to_numpy(float)
    offence = inc["crime_type"].to_numpy()
    events = [(o, xy[offence == o], t[offence == o]) for o in mix if (offence == o).any()]
    e = sim.expected.assign(patrol=sim.expected["minutes"] > 0)
    by = e.groupby(["place_id", "patrol"])["expected_count"].agg(["mean", "size"]).unstack("patrol")
    ids = list(patrols.places["item_id"])
    by_place = [
        {
            "id": pid,
            "patrol_days": int(by.loc[pid, ("size", True)]),
            "no_patrol_days": int(by.loc[pid, ("size", False)]),
            "expected_per_patrol_day": round(float(by.loc[pid, ("mean", True)]), 6),
            "expected_per_no_patrol_day": round(float(by.loc[pid, ("mean", False)]), 6),
            "n_planted": int((inc["place_id"] == pid).sum()),
        }
        for pid in ids
    ]
    diff = np.mean([b["expected_per_patrol_day"] - b["expected_per_no_patrol_day"] for b in by_place])
    base = np.mean([b["expected_per_no_patrol_day"] for b in by_place])
    return {
        "places": ids,
        "start": PATROL_START,
        "days": PATROL_DAYS,
        "offences": {o: float(v) for o, v in mix.items()},
        "base_per_day": p.patrol_effect_base_per_day,
        "reduction": p.patrol_effect_reduction,
        "full_dose_minutes": p.patrol_effect_full_dose_minutes,
        "patrol_days": "the days with a planted visit in patrol/planted_patrols.json (local dates)",
        "by_place": by_place,
        "n_planted": int(len(inc)),
        "effect_count_per_place_day": round(float(diff), 6),
        "relative": round(float(diff / base), 6) if base > 0 else 0.0,
        "_events": events,
    }


# --------------------------------------------------------------------------- cameras
def _bearing(dx: float, dy: float) -> int:
    return int(round(math.degrees(math.atan2(dx, dy)))) % 360


def _make_cameras(rng, p: DemoParams, outline, centres, roads, crossings, em, st, anchors) -> list[dict[str, Any]]:
    cams: list[dict[str, Any]] = []
    keep_clear = 80.0 + p.emerging_radius_m + p.uncovered_clearance_m

    def far_from_emerging(x, y):
        return math.hypot(x - em[0], y - em[1]) > keep_clear

    for c in centres:
        n = 16 if c["kind"] == "major" else 9
        placed = 0
        while placed < n:
            x, y = c["x"] + rng.normal(0, 170), c["y"] + rng.normal(0, 170)
            if not outline.contains(Point(x, y)) or not far_from_emerging(x, y):
                continue
            dome = rng.uniform() < 0.7
            cams.append(
                {
                    "type": "cctv",
                    "x": int(round(x)),
                    "y": int(round(y)),
                    "range_m": 80,
                    "bearing_deg": 0 if dome else int(rng.integers(0, 72)) * 5,
                    "fov_deg": 360 if dome else 90,
                    "desc": f"{c['name']} town centre, {'dome' if dome else 'fixed'}",
                }
            )
            placed += 1
    # a few residential / transport sites elsewhere, one at the stopping hotspot (installed mid-2024)
    cams.append(
        {
            "type": "cctv",
            "x": int(round(st[0] + 40)),
            "y": int(round(st[1] - 30)),
            "range_m": 80,
            "bearing_deg": 0,
            "fov_deg": 360,
            "desc": "Bus interchange underpass, dome (installed July 2024)",
        }
    )
    extra = 0
    for ax, ay in anchors:
        if extra >= 6:
            break
        dmin = min(math.hypot(ax - c["x"], ay - c["y"]) for c in centres)
        if dmin < 1200 or not far_from_emerging(ax, ay) or math.hypot(ax - st[0], ay - st[1]) < 800:
            continue
        cams.append(
            {
                "type": "cctv",
                "x": int(round(ax)),
                "y": int(round(ay)),
                "range_m": 80,
                "bearing_deg": int(rng.integers(0, 72)) * 5,
                "fov_deg": 90,
                "desc": "Housing estate, fixed",
            }
        )
        extra += 1
    # ANPR on A-roads, 200 m inside the edge, facing outwards at inbound traffic
    a_roads = [r["geometry"] for r in roads if r["road_class"] == "a_road"]
    for px, py in crossings[:: max(1, len(crossings) // 5)][:5]:
        pt = Point(px, py)
        line = min(a_roads, key=lambda g: g.distance(pt))
        s = line.project(pt)
        for sign in (1, -1):
            q = line.interpolate(s + sign * 200)
            if outline.contains(q):
                break
        cams.append(
            {
                "type": "anpr",
                "x": int(round(q.x)),
                "y": int(round(q.y)),
                "range_m": 40,
                "bearing_deg": _bearing(px - q.x, py - q.y),
                "fov_deg": 30,
                "desc": "A-road inbound at the borough boundary, ANPR",
            }
        )
    return _camera_rows(rng, cams)


def _camera_rows(rng: np.random.Generator, cams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The inventory rows: ids CCTV-001.. and ANPR-01.. in order; status mostly live, two CCTV
    cameras faulty and three planned (at random), the bus interchange camera always live."""
    status = np.array(["live"] * len(cams), dtype=object)
    cctv_idx = [i for i, c in enumerate(cams) if c["type"] == "cctv"]
    pick = rng.choice(cctv_idx, size=5, replace=False)
    status[pick[:2]] = "faulty"
    status[pick[2:]] = "planned"
    out = []
    nc = na = 0
    for c, s in zip(cams, status, strict=True):
        if c["type"] == "cctv":
            nc += 1
            cid = f"CCTV-{nc:03d}"
        else:
            na += 1
            cid = f"ANPR-{na:02d}"
        if c["desc"].startswith("Bus interchange"):
            s = "live"
        out.append(
            {
                "camera_id": cid,
                "type": c["type"],
                "x": c["x"],
                "y": c["y"],
                "range_m": c["range_m"],
                "bearing_deg": c["bearing_deg"],
                "fov_deg": c["fov_deg"],
                "status": s,
                "description": c["desc"],
            }
        )
    return out


# --------------------------------------------------------------------------- writers
def _coords(geom):
    if geom.geom_type == "Point":
        return [round(geom.x, 1), round(geom.y, 1)]
    if geom.geom_type == "LineString":
        return [[round(x, 1), round(y, 1)] for x, y in geom.coords]
    if geom.geom_type == "Polygon":
        geom = shapely.geometry.polygon.orient(geom, 1.0)
        return [[[round(x, 1), round(y, 1)] for x, y in ring.coords] for ring in (geom.exterior, *geom.interiors)]
    raise ValueError(f"unsupported geometry {geom.geom_type}")


def _write_geojson(path: Path, feats) -> None:
    fc = {
        "type": "FeatureCollection",
        "name": path.stem,
        "crs": CRS_MEMBER,
        "features": [
            {"type": "Feature", "properties": props, "geometry": {"type": g.geom_type, "coordinates": _coords(g)}}
            for props, g in feats
        ],
    }
    path.write_text(json.dumps(fc, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")


def _write_csv(path: Path, header, rows) -> None:
    """The data set's CSVs: the project's one CSV writer, plain UTF-8 with LF line ends."""
    write_rows(path, header, rows, bom=False, lineterminator="\n")


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _readme(t: dict) -> str:
    nr, em, st, cb = t["near_repeat"], t["emerging"], t["stopping"], t["cross_border"]
    tc = ", ".join(f"{c['name']} ({c['kind']})" for c in t["town_centres"])
    counts = "\n".join(f"| {k} | {v} |" for k, v in sorted(t["counts"].items()))
    unc = ", ".join(t["uncovered_hotspots"]) or "none"
    months = ", ".join(_MONTHS[m - 1] for m in nr["winter_months"])
    tr, pe = t["trajectories"], t["patrol_effect"]
    n_traj = len(tr["places"])
    periods = ", ".join(tr["periods"])
    traj_rows = "\n".join(
        ["   | place | class | label | offence | expected per half-year |", "   |---|---|---|---|---|"]
        + [
            f"   | {q['id']} (E {q['x']:.0f}, N {q['y']:.0f}) | {q['class']} | {q['stability']} | {q['offence']} | "
            f"{', '.join(f'{v:g}' for v in q['rates'])} |"
            for q in tr["places"]
        ]
    )
    return f"""# Demo borough

A fictional London-style borough generated by `hotspots demo-data` (module `hotspots.demo`). Nothing here is
real: the ward names, roads, cameras and crimes are all synthetic, placed in British National Grid
(EPSG:27700) coordinates so that every analysis runs on it exactly as on real data. The generator is seeded
(seed {t["params"]["seed"]}): regenerating gives byte-identical files.

- Area {t["borough"]["area_km2"]} km², {t["borough"]["n_wards"]} wards, {t["borough"]["households"]:,} households,
  {t["borough"]["population"]:,} residents; a green belt with few homes around
  E {t["borough"]["green_belt_centre"][0]:.0f}, N {t["borough"]["green_belt_centre"][1]:.0f}.
- Town centres: {tc}.
- Period {t["period"]["start"]} to {t["period"]["end"]} (local time, Europe/London), {t["n_incidents"]:,} incidents.

## Files

| file | contents |
|---|---|
| `boundaries/wards.geojson` | ward polygons (`ward_code`, `ward_name`), EPSG:27700 |
| `boundaries/ward_population.csv` | `ward_code, ward_name, population, households` |
| `boundaries/roads.geojson` | `road_id, name, road_class` (motorway, a_road, b_road, minor) |
| `boundaries/town_centres.geojson` | `name, kind` (major, district) |
| `boundaries/cameras.csv` | CCTV and ANPR cameras: position, range, bearing, field of view, status |
| `incidents/incidents.csv` | `ref, offence, committed_from, committed_to, easting, northing, location` |
| `incidents/planted_truth.json` | every planted parameter, machine-readable |
| `patrol/pings.csv.gz` | GPS pings of the fortnight before the meeting: `callsign, timestamp, longitude, latitude` |
| `patrol/planted_patrols.json` | the planted patrol visits (place, unit, start, end, minutes) and drive-throughs |

## What was planted

1. **Residential burglary repeats nearby.** Background burglaries follow households, {nr["winter_uplift"]:.0%}
   more in {months}. Every burglary raises the risk within
   {nr["radius_m"]:.0f} m for {nr["min_days"]:.0f}-{nr["days"]:.0f} days (on average {nr["branching_ratio"]}
   follow-on burglaries each): {nr["n_background"]} background, {nr["n_cross_border"]} cross-border and
   {nr["n_triggered"]} follow-on burglaries. A Knox test finds the excess at 0-200 m / 0-14 days.
   Burglaries are recorded as a window of a few hours (`committed_from` to `committed_to`).
2. **Night-time economy.** {t["night_time_economy"]["share_in_centres"]:.0%} of robbery and violence falls in
   the town centres (Gaussian spread {t["night_time_economy"]["sigma_m"]:.0f} m) between 21:00 and 03:00,
   {t["night_time_economy"]["weekend_share"]:.0%} of it on Friday and Saturday nights; the rest is spread over
   the borough.
3. **Emerging hotspot.** {em["offence"]} at a {em["label"]} (E {em["x"]:.0f}, N {em["y"]:.0f}, radius
   {em["radius_m"]:.0f} m), about {em["per_month"]:.0f} a month from {em["start"]} ({em["n_planted"]} in all).
   No live camera covers it.
   **Stopping hotspot.** {st["offence"]} at a {st["label"]} (E {st["x"]:.0f}, N {st["y"]:.0f}, radius
   {st["radius_m"]:.0f} m), about {st["per_month"]:.0f} a month until {st["end"]} ({st["n_planted"]} in all),
   when a camera was installed there.
4. **Cross-border offending.** {cb["per_point_burglary"]} extra residential burglaries and
   {cb["per_point_vehicle"]} vehicle crimes within {cb["radius_m"]:.0f} m of each of the
   {len(cb["points"])} points where A-roads cross the borough edge.
5. **Shoplifting** in the town centres during shop hours; criminal damage, vehicle crime and the rest spread
   by households and area.
6. **Near the edge.** {t["near_boundary"]["n"]} incidents lie up to {t["near_boundary"]["max_outside_m"]:.0f} m
   outside the boundary (as geocoded records often do); none lies further out.

7. **Places with known trajectories.** {n_traj} small places (a {tr["places"][0]["radius_m"]:.0f} m disc inside one
   {tr["cell_size_m"]:.0f} m cell of the automatic grid), away from the hotspots above, with these expected
   incidents in each whole half-year ({periods}):

{traj_rows}

   A place is busy in a half-year with {tr["busy_count"]} or more: busy in more than half of them is chronic,
   busy only lately is acute.
8. **Patrol works where it is delivered.** Over the patrol fortnight from {pe["start"]} ({pe["days"]} days),
   street crime at each of the {len(pe["places"])} patrolled places ({", ".join(pe["places"])}, 60 m circles) at
   {pe["base_per_day"]:g} a day, {pe["reduction"]:.0%} fewer on a day with {pe["full_dose_minutes"]:.0f} or more
   minutes of planted patrol (proportionally fewer for a shorter visit): {pe["n_planted"]} incidents. On average
   over the places a patrol day has {-pe["effect_count_per_place_day"]:.2f} fewer crimes expected than a day
   without ({-pe["relative"]:.0%} fewer). The patrol days are the days of the planted visits in
   `patrol/planted_patrols.json`.

Hotspots not covered by any live camera: {unc}.

## Counts by offence

| offence | incidents |
|---|---|
{counts}
"""
