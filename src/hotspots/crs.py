"""The working coordinate reference system: one default, one way to get it, one way to compare CRSs.

Everything inside the engine is in one projected CRS whose unit is the metre:
``[project] crs`` (default :data:`DEFAULT_CRS`, British National Grid). A CRS
in feet (e.g. a US State Plane CRS) is accepted: the engine then works in the
same projection with metre axes, so distances and cell sizes stay in metres;
ingest converts every input into it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:  # pyproj is imported where it is used: this module is on `hotspots --help`'s path
    import pyproj

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
    return (xmin, ymin, xmax, ymax), aou.name
