"""The working coordinate reference system: one default, one way to get it, one way to compare CRSs.

Everything inside the engine is in one projected CRS whose unit is the metre:
``[project] crs`` (default :data:`DEFAULT_CRS`, British National Grid). A CRS
in feet (e.g. a US State Plane CRS) is accepted: the engine then works in the
same projection with metre axes, so distances and cell sizes stay in metres;
ingest converts every input into it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:  # pyproj is imported where it is used: this module is on `hotspots --help`'s path
    import pyproj
    from pyproj._crs import AreaOfUse

#: British National Grid (metres), the engine's default working CRS.
DEFAULT_CRS = "EPSG:27700"

#: Units a working CRS may have, with their size in metres.
_LENGTH_UNITS = ("metre", "foot", "US survey foot", "British foot (1936)", "Clarke's foot", "Indian foot")


def parse_crs(value: Any) -> pyproj.CRS | None:
    """A :class:`pyproj.CRS` from anything pyproj understands; None when it cannot be read."""
    import pyproj

    try:
        return pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError:
        return None


def crs_problem(value: Any) -> str:
    """Why ``value`` cannot be the working CRS ('' when it can): unknown, geographic, or not in metres or feet."""
    return _crs_problem_of_text(value) if isinstance(value, str) else _crs_problem(value)


@lru_cache(maxsize=64)
def _crs_problem_of_text(value: str) -> str:
    """:func:`_crs_problem` of a CRS given as text, kept: the library checks the grid's CRS (text) at
    every call, and reading a CRS from pyproj's database costs most of a millisecond."""
    return _crs_problem(value)


def _crs_problem(value: Any) -> str:
    crs = parse_crs(value)
    if crs is None:
        return f"{value!r} is not a CRS pyproj knows (give an EPSG code such as {DEFAULT_CRS})"
    name = f"{crs_label(value)} ({crs.name})" if crs.to_epsg() else crs_label(value)
    if not crs.is_projected:
        return (
            f"{name} is not a projected CRS: distances in degrees cannot be measured in "
            f"metres; give a projected CRS such as {DEFAULT_CRS} (British National Grid)"
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if unit not in _LENGTH_UNITS:
        return f"{name} has axes in {unit or 'unknown units'}; give a projected CRS in metres or feet"
    return ""


def working_crs(value: str, where: str = "[project] crs") -> str:
    """The CRS the engine works in for a configured CRS ``value``.

    A CRS in metres is returned as given (e.g. ``"EPSG:27700"``). A CRS in feet
    becomes the same projection with metre axes (as WKT), so coordinates read in
    it are metres. Raises :class:`~hotspots.errors.ConfigError` naming ``where``
    for anything else.
    """
    problem = crs_problem(value)
    crs = parse_crs(value)
    if problem or crs is None:
        raise ConfigError(f"{where}: {problem}.")
    if crs.axis_info[0].unit_name == "metre":
        return value
    import pyproj

    spec = crs.to_json_dict()
    for axis in spec["coordinate_system"]["axis"]:
        axis["unit"] = "metre"
    spec.pop("id", None)
    spec["name"] = f"{spec['name']} (metres)"
    return pyproj.CRS.from_json_dict(spec).to_wkt()


def same_crs(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` describe the same CRS (EPSG code, WKT or pyproj objects alike)."""
    if a is None or b is None:
        return a is None and b is None
    ca, cb = parse_crs(a), parse_crs(b)
    if ca is None or cb is None:
        return str(a) == str(b)
    return bool(ca == cb or ca.equals(cb, ignore_axis_order=True))


def crs_label(value: Any) -> str:
    """A short name for messages and pages, e.g. ``EPSG:27700`` or the CRS's name."""
    return _crs_label_of_text(value) if isinstance(value, str) else _crs_label(value)


@lru_cache(maxsize=64)
def _crs_label_of_text(value: str) -> str:
    """:func:`_crs_label` of a CRS given as text, kept (see :func:`_crs_problem_of_text`)."""
    return _crs_label(value)


def _crs_label(value: Any) -> str:
    crs = parse_crs(value)
    if crs is None:
        return str(value)
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


#: Where coordinates of well-known working CRSs can fall (metres), and the name of that area.
_KNOWN_EXTENTS = {"EPSG:27700": ((0.0, 0.0, 700000.0, 1250000.0), "Great Britain")}


def crs_extent(value: Any) -> tuple[tuple[float, float, float, float], str]:
    """((xmin, ymin, xmax, ymax), area name): where coordinates in CRS ``value`` can plausibly fall.

    British National Grid uses the grid's own extent over Great Britain; any
    other CRS its area of use (from the EPSG database) projected into it.
    """
    label = crs_label(value)
    if label in _KNOWN_EXTENTS:
        return _KNOWN_EXTENTS[label]
    crs = parse_crs(value)
    aou = crs.area_of_use if crs is not None else None
    if aou is None:
        return (-float("inf"), -float("inf"), float("inf"), float("inf")), "the CRS's area"
    import pyproj

    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xmin, ymin, xmax, ymax = tr.transform_bounds(*aou.bounds)
    return (float(xmin), float(ymin), float(xmax), float(ymax)), aou.name


#: Degrees by which data may stray beyond a CRS's published area of use (its edges are not cliffs).
AREA_OF_USE_MARGIN_DEG = 1.0


def utm_crs_for(lon: float, lat: float) -> str:
    """The WGS 84 / UTM zone CRS holding a point given in degrees, e.g. ``"EPSG:32618"`` for New York."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def _area_of_use(value: Any) -> AreaOfUse | None:
    """The published area of use (degrees) of the CRS ``value``; None when it has none or is no CRS."""
    crs = parse_crs(value)
    return crs.area_of_use if crs is not None else None


def suggest_crs(lon: float, lat: float) -> str:
    """A projected CRS in metres suited to data around (``lon``, ``lat``) in degrees, named for a message:
    British National Grid in Great Britain, else the point's UTM zone."""
    gb = _area_of_use(DEFAULT_CRS)
    if gb is not None and gb.west <= lon <= gb.east and gb.south <= lat <= gb.north:
        return f"{DEFAULT_CRS} (British National Grid)"
    code = utm_crs_for(lon, lat)
    utm = parse_crs(code)
    return f"{code} ({utm.name if utm is not None else 'UTM'}) or the local national or state grid"


def _outside(lon: float, lat: float, aou: AreaOfUse | None) -> bool:
    m = AREA_OF_USE_MARGIN_DEG
    return aou is not None and not (aou.west - m <= lon <= aou.east + m and aou.south - m <= lat <= aou.north + m)


def inside_area_of_use(lon: float, lat: float, value: Any) -> bool:
    """Whether (``lon``, ``lat``) in degrees lies in the area of use of the CRS ``value`` (with a margin of
    :data:`AREA_OF_USE_MARGIN_DEG`); True when the CRS publishes no area of use."""
    return not _outside(lon, lat, _area_of_use(value))


def _area_name(name: str) -> str:
    first = name.split(" - ")[0].split(". ")[0].rstrip(".")
    return first if len(first) <= 60 else first[:57].rstrip() + "..."


def area_of_use_problem(lon: float, lat: float, value: Any, what: str) -> str:
    """Why data centred on (``lon``, ``lat``) in degrees should not be worked in the CRS ``value`` ('' when
    they may): the point lies outside the CRS's area of use (plus :data:`AREA_OF_USE_MARGIN_DEG`), where its
    distances are stretched. ``what`` names the data in the sentence, which names a suitable CRS."""
    aou = _area_of_use(value)
    if aou is None or not _outside(lon, lat, aou):
        return ""
    return (
        f"{what} lie around longitude {lon:.3f}, latitude {lat:.3f}, outside the area of use of the working CRS "
        f"{crs_label(value)} ({_area_name(aou.name or 'its area')}: longitude {aou.west:g} to {aou.east:g}, latitude "
        f"{aou.south:g} to {aou.north:g}); distances there would be distorted. Set [project] crs to a "
        f"projected CRS for that area, e.g. {suggest_crs(lon, lat)}."
    )
