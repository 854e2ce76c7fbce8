"""Seeded geography of the demo borough: outline, wards, roads, town centres, cameras.

Everything is EPSG:27700 metres. Functions take a numpy Generator so the whole
borough follows from one seed.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry, BaseMultipartGeometry

WARD_NAMES = (
    "Ashcombe",
    "Brookfield",
    "Coldharbour",
    "Dunmore Park",
    "Elmstead",
    "Fairholme",
    "Greyfriars",
    "Hollins Green",
    "Ivybridge Vale",
    "Kingsmead",
    "Larkhill",
    "Millbrook",
    "Northcote",
    "Oakwell",
    "Pennington",
    "Queensbury Heath",
    "Rushmere",
    "Stanwell Common",
    "Thornbury",
    "Underhill",
    "Westcombe",
    "Yardley Vale",
    "Abbotsfield",
    "Belmont Rise",
)

TOWN_CENTRE_NAMES = ("Elmbridge", "Hollins Cross", "Millbrook Green", "Northcote Parade", "Stanwell")

A_ROAD_NAMES = ("Great North Road", "Kingsway", "London Road", "Watling Way")
B_ROAD_NAMES = ("Church Lane", "Mill Hill Road", "Station Road", "Park Lane", "Green Lane", "Heath Road", "Manor Road")
MOTORWAY_NAME = "North Orbital Motorway"

STREET_STEMS = (
    "Acacia",
    "Alder",
    "Beech",
    "Birch",
    "Bramble",
    "Cedar",
    "Chestnut",
    "Clover",
    "Cromwell",
    "Dale",
    "Denmark",
    "Dorset",
    "Elder",
    "Fern",
    "Fox",
    "Gladstone",
    "Hawthorn",
    "Hazel",
    "Holly",
    "Juniper",
    "Kent",
    "Laburnum",
    "Larch",
    "Lime",
    "Linden",
    "Maple",
    "Meadow",
    "Nelson",
    "Oak",
    "Orchard",
    "Palmerston",
    "Pine",
    "Poplar",
    "Primrose",
    "Queens",
    "Rowan",
    "Sefton",
    "Spruce",
    "Sycamore",
    "Tennyson",
    "Victoria",
    "Walnut",
    "Willow",
    "Windsor",
    "Woodland",
    "York",
    "Albert",
    "Beaumont",
    "Cavendish",
    "Darwin",
)
STREET_KINDS = ("Road", "Avenue", "Close", "Gardens", "Street", "Crescent", "Grove", "Way", "Drive", "Walk")
CENTRE_STREETS = ("High Street", "Market Place", "Station Approach", "Church Street")


# --------------------------------------------------------------------------- outline and wards
def make_outline(rng: np.random.Generator, cx: float, cy: float, area_km2: float, n: int = 240) -> Polygon:
    """An irregular, star-shaped outline of the given area (metres), vertices rounded to 0.1 m."""
    th = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k, amp in ((2, 0.13), (3, 0.08), (4, 0.05), (5, 0.04), (7, 0.025), (11, 0.012)):
        r += amp * np.cos(k * th + rng.uniform(0, 2 * np.pi))
    r += rng.normal(0, 0.004, n)
    xy = np.column_stack([np.cos(th) * r, np.sin(th) * r])
    unit_area = Polygon(xy).area
    scale = math.sqrt(area_km2 * 1e6 / unit_area)
    xy = np.round(xy * scale + [cx, cy], 1)
    poly = Polygon(xy)
    assert poly.is_valid
    return shapely.set_precision(poly, 0.1)


def random_points_in(rng: np.random.Generator, poly, n: int, batch: int = 4096) -> np.ndarray:
    """``n`` points uniform in ``poly`` (rejection sampling), shape (n, 2)."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out = []
    got = 0
    while got < n:
        m = max(batch, int((n - got) * 1.6))
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(poly, x, y)
        pts = np.column_stack([x[ok], y[ok]])
        out.append(pts)
        got += len(pts)
    return np.concatenate(out)[:n]


def make_wards(rng: np.random.Generator, outline: Polygon, n_wards: int) -> list[Polygon]:
    """Voronoi cells of seeded, Lloyd-relaxed points clipped to the outline (ordered north-west first)."""
    pts = random_points_in(rng, outline, n_wards)
    for _ in range(4):
        cells = _clipped_cells(pts, outline)
        pts = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    cells = _clipped_cells(pts, outline)
    order = sorted(range(n_wards), key=lambda i: (-round(pts[i, 1], -3), round(pts[i, 0], 1)))
    return [cells[i] for i in order]


def _clipped_cells(pts: np.ndarray, outline: Polygon) -> list[Polygon]:
    vor = shapely.voronoi_polygons(MultiPoint(pts), extend_to=outline.buffer(5000), ordered=True)
    cells = list(vor.geoms)
    out = []
    for c in cells:
        g = shapely.set_precision(c.intersection(outline), 0.1)
        if not isinstance(g, Polygon):  # keep the largest part
            g = max(_parts(g), key=lambda p: p.area)
        out.append(g)
    return out


def _parts(g: BaseGeometry) -> list[Polygon]:
    """The polygons of a multi-part geometry."""
    return [p for p in (g.geoms if isinstance(g, BaseMultipartGeometry) else []) if isinstance(p, Polygon)]


def household_density(
    x: np.ndarray, y: np.ndarray, cx: float, cy: float, centres: np.ndarray, green: tuple[float, float]
) -> np.ndarray:
    """Relative household density: denser near the middle and town centres, sparse in a green belt."""
    d = 1.0 + 1.2 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 3000.0**2))
    for ex, ey in centres:
        d += 0.8 * np.exp(-((x - ex) ** 2 + (y - ey) ** 2) / (2 * 1200.0**2))
    gx, gy = green
    d *= 1.0 - 0.8 * np.exp(-((x - gx) ** 2 + (y - gy) ** 2) / (2 * 1800.0**2))
    return d


# --------------------------------------------------------------------------- roads
def _wiggly_line(rng, p0, p1, n_mid: int, amp: float) -> np.ndarray:
    t = np.linspace(0, 1, n_mid + 2)
    p0 = np.asarray(p0, float)
    p1 = np.asarray(p1, float)
    base = p0 + t[:, None] * (p1 - p0)
    d = p1 - p0
    nrm = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
    off = rng.normal(0, amp, n_mid + 2)
    off[0] = off[-1] = 0.0
    off = np.convolve(off, [0.25, 0.5, 0.25], mode="same")
    off[0] = off[-1] = 0.0
    return base + off[:, None] * nrm


def _longest_line(g: BaseGeometry) -> LineString | None:
    if g.is_empty:
        return None
    if isinstance(g, LineString):
        return g
    parts = [p for p in (g.geoms if isinstance(g, BaseMultipartGeometry) else []) if isinstance(p, LineString)]
    return max(parts, key=lambda p: p.length) if parts else None


def _road_across(g: BaseGeometry) -> LineString:
    """The longest line of a road drawn right across the area (it always has one)."""
    line = _longest_line(g)
    if line is None:
        raise ValueError("a road drawn across the demo borough does not cross it; check the demo parameters.")
    return line


def _round_line(line: LineString) -> LineString:
    return LineString(np.round(np.asarray(line.coords), 1))


def make_roads(rng: np.random.Generator, outline: Polygon, cx: float, cy: float) -> list[dict]:
    """Motorway, A-roads crossing the edge (extending 2 km out), B-roads inside. Returns dicts."""
    rmax = max(math.hypot(x - cx, y - cy) for x, y in outline.exterior.coords)
    ext = outline.buffer(2000.0)
    far = rmax + 3000.0
    roads: list[dict] = []

    def chord(a_deg, b_deg, offset):
        a, b = math.radians(a_deg), math.radians(b_deg)
        p0 = (cx + far * math.cos(a), cy + far * math.sin(a))
        p1 = (cx + far * math.cos(b), cy + far * math.sin(b))
        # shift the chord sideways by `offset` metres
        d = np.subtract(p1, p0)
        nrm = np.array([-d[1], d[0]]) / np.hypot(*d)
        return np.add(p0, offset * nrm), np.add(p1, offset * nrm)

    # motorway across the north-west
    p0, p1 = chord(200 + rng.uniform(-10, 10), 60 + rng.uniform(-10, 10), rng.uniform(2500, 3200))
    m = _road_across(LineString(_wiggly_line(rng, p0, p1, 12, 150)).intersection(ext))
    roads.append({"name": MOTORWAY_NAME, "road_class": "motorway", "geometry": _round_line(m)})

    # four A-roads through the middle
    base = rng.uniform(0, 45)
    for i, name in enumerate(A_ROAD_NAMES):
        a = base + 45 * i + rng.uniform(-8, 8)
        p0, p1 = chord(a, a + 180 + rng.uniform(-20, 20), rng.uniform(-900, 900))
        a_road = _road_across(LineString(_wiggly_line(rng, p0, p1, 14, 220)).intersection(ext))
        roads.append({"name": name, "road_class": "a_road", "geometry": _round_line(a_road)})

    # B-roads inside the borough
    for name in B_ROAD_NAMES:
        a = rng.uniform(0, 360)
        p0, p1 = chord(a, a + rng.uniform(100, 160), rng.uniform(-600, 600))
        line = _longest_line(LineString(_wiggly_line(rng, p0, p1, 10, 250)).intersection(outline))
        if line is not None and line.length > 1500:
            roads.append({"name": name, "road_class": "b_road", "geometry": _round_line(line)})
    return roads


def make_minor_streets(
    rng: np.random.Generator, outline: Polygon, n: int, anchors: np.ndarray, centres: list[tuple[float, float]]
) -> list[dict]:
    """Short named residential streets at ``anchors`` plus a few named streets at each town centre."""
    names = [f"{s} {k}" for s in STREET_STEMS for k in STREET_KINDS]
    pick = rng.choice(len(names), size=n, replace=False)
    streets = []
    inner = outline.buffer(-5.0)
    for j, (ax, ay) in enumerate(anchors[:n]):
        ang = rng.uniform(0, np.pi)
        half = rng.uniform(90, 260)
        dx, dy = math.cos(ang) * half, math.sin(ang) * half
        bend = rng.normal(0, 25)
        coords = [(ax - dx, ay - dy), (ax - dy * bend / half, ay + dx * bend / half), (ax + dx, ay + dy)]
        line = _longest_line(LineString(coords).intersection(inner))
        if line is None or line.length < 60:
            continue
        streets.append({"name": names[pick[j]], "road_class": "minor", "geometry": _round_line(line)})
    for ex, ey in centres:
        for k, nm in enumerate(CENTRE_STREETS):
            ang = rng.uniform(0, 2 * np.pi) if k else rng.uniform(0, np.pi)
            ln = rng.uniform(250, 400)
            if k == 0:  # the high street runs through the centre
                c = [
                    (ex - math.cos(ang) * ln, ey - math.sin(ang) * ln),
                    (ex + math.cos(ang) * ln, ey + math.sin(ang) * ln),
                ]
            else:
                s = rng.uniform(60, 150)
                c = [
                    (ex + math.cos(ang) * s, ey + math.sin(ang) * s),
                    (ex + math.cos(ang) * (s + ln), ey + math.sin(ang) * (s + ln)),
                ]
            line = _longest_line(LineString(c).intersection(inner))
            if line is not None and line.length > 60:
                streets.append({"name": nm, "road_class": "minor", "geometry": _round_line(line)})
    return streets


def _multi_parts(g: BaseGeometry) -> list[BaseGeometry]:
    """The parts of a multi-part geometry; none for a single geometry."""
    return list(g.geoms) if isinstance(g, BaseMultipartGeometry) else []


def crossing_points(roads: list[dict], outline: Polygon) -> list[tuple[float, float]]:
    """Where A-roads cross the borough edge (ordered as the roads, then along each road)."""
    out: list[tuple[float, float]] = []
    for r in roads:
        if r["road_class"] != "a_road":
            continue
        inter = r["geometry"].intersection(outline.exterior)
        pts = [inter] if inter.geom_type == "Point" else list(_multi_parts(inter))
        pts = sorted(pts, key=lambda p: r["geometry"].project(p))
        out.extend((round(p.x, 1), round(p.y, 1)) for p in pts if isinstance(p, Point))
    return out


def place_town_centres(roads: list[dict], outline: Polygon, n: int, min_sep: float = 2200.0) -> list[dict]:
    """Town centres on A-roads: the major one where two A-roads meet nearest the middle, then districts."""
    a_roads = [r for r in roads if r["road_class"] == "a_road"]
    inner = outline.buffer(-1200.0)
    c = outline.centroid
    cands = []
    for i in range(len(a_roads)):
        for j in range(i + 1, len(a_roads)):
            g = a_roads[i]["geometry"].intersection(a_roads[j]["geometry"])
            for p in [g] if g.geom_type == "Point" else list(_multi_parts(g)):
                if isinstance(p, Point) and inner.contains(p):
                    cands.append((p.distance(c), p.x, p.y))
    cands.sort()
    chosen = [(cands[0][1], cands[0][2])] if cands else [(c.x, c.y)]
    # district centres: points along each A-road, as far from the others as possible
    along = []
    for r in a_roads:
        g = r["geometry"]
        for f in np.linspace(0.1, 0.9, 33):
            p = g.interpolate(f, normalized=True)
            if inner.contains(p):
                along.append((p.x, p.y))
    pool = np.array(along)
    while len(chosen) < n and len(pool):
        d = np.min(
            np.hypot(pool[:, 0, None] - np.array(chosen)[:, 0], pool[:, 1, None] - np.array(chosen)[:, 1]), axis=1
        )
        k = int(np.argmax(d))
        if d[k] < min_sep:
            break
        chosen.append((float(pool[k, 0]), float(pool[k, 1])))
    out = []
    for i, (x, y) in enumerate(chosen):
        out.append(
            {
                "name": TOWN_CENTRE_NAMES[i],
                "kind": "major" if i == 0 else "district",
                "x": round(x, 1),
                "y": round(y, 1),
            }
        )
    return out
