"""What happens to bad input: one case per class of issue 13, run through the ``hotspots`` command.

Every case builds a tiny borough (two wards of 1 km², a handful of incidents)
with one thing wrong, runs a command (``hotspots ingest`` unless the case is
about the run) and checks what the user sees:

* a refusal: exit status 2, a message that names the file, row, column or key
  and the fix, no traceback, and nothing written to ``--out``;
* an accepted run: exit status 0, no traceback, accepted + quarantined = the
  number of data rows the case wrote (counted here, not by the engine), each
  quarantined row with the expected reason, and the expected notes.

To add a case, append a :class:`Case` to :data:`CASES` (set ``owner`` to your
task). The README's table "What happens to bad input" lists the classes.
"""

from __future__ import annotations

import errno
import gzip
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, write_config
from pyproj import Transformer
from shapely.geometry import Polygon, mapping

from hotspots import cli

# --------------------------------------------------------------------------- the tiny borough
#: Two wards of 1 km² on the British National Grid: x 530000-532000, y 180000-181000 (central London).
WARDS = [
    ("W1", "West", Polygon([(530000, 180000), (531000, 180000), (531000, 181000), (530000, 181000)])),
    ("W2", "East", Polygon([(531000, 180000), (532000, 180000), (532000, 181000), (531000, 181000)])),
]
GENERIC_HEADER = "ref,type,x,y,from,to,where"
TO_LONLAT = Transformer.from_crs(27700, 4326, always_xy=True)


def generic_row(ref: str, x: float = 530500, y: float = 180500, t: str = "2025-01-10 21:30", end: str = "") -> str:
    return f"{ref},Robbery,{x},{y},{t},{end or t},On or near High Street"


def good_rows(n: int = 3, start: int = 1) -> list[str]:
    return [generic_row(f"A{i}", x=530100 + 150 * i, t=f"2025-01-{10 + i:02d} 21:30") for i in range(start, start + n)]


POLICE_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
    "Last outcome category,Context"
)


def police_row(month: str = "2025-01", x: float = 530500, y: float = 180500, crime_id: str = "", lon=None, lat=None):
    if lon is None:
        lon, lat = TO_LONLAT.transform(x, y)
    return (
        f"{crime_id},{month},Metropolitan Police Service,Metropolitan Police Service,{lon:.6f},{lat:.6f},"
        "On or near Park Road,E01000001,Camden 001A,Burglary,,"
    )


def ward_collection(wards=WARDS, crs: str | None = "EPSG::27700", geometries=None) -> dict:
    features = []
    for i, (code, name, poly) in enumerate(wards):
        geom = geometries[i] if geometries is not None else mapping(poly)
        features.append({"type": "Feature", "properties": {"ward_code": code, "ward_name": name}, "geometry": geom})
    fc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{crs}"}}
    return fc


GENERIC_CONFIG = """
[project]
data_dir = "."
{project}
[study_area]
wards = "wards.geojson"
{study_area}
[[incidents]]
path = "{path}"
format = "generic"
crs = "{crs}"
{source}
[incidents.columns]
id = "ref"
{crime_column}
{coords}
start = "from"
end = "to"
location = "where"
{extra}
"""

POLICE_CONFIG = """
[project]
data_dir = "."
{project}
[study_area]
wards = "wards.geojson"
[[incidents]]
path = "{path}"
format = "police_uk"
{extra}
"""


class World:
    """Files of one case in its own folder; ``out`` is where the command writes."""

    def __init__(self, root: Path):
        self.root = root
        self.out = root / "out"

    def write(self, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_bytes(content.encode(encoding))
        return p

    def wards(self, fc: dict | None = None) -> None:
        self.write("wards.geojson", json.dumps(fc or ward_collection()))

    def generic(
        self,
        lines: list[str],
        *,
        header: str = GENERIC_HEADER,
        name: str = "inc.csv",
        crs: str = "EPSG:27700",
        coords: str = 'x = "x"\ny = "y"',
        project: str = "",
        study_area: str = "",
        source: str = "",
        crime_column: str = 'crime_type = "type"',
        extra: str = "",
        wards: dict | None = None,
        encoding: str = "utf-8",
    ) -> Path:
        self.wards(wards)
        self.write(name, "\n".join([header, *lines]) + "\n", encoding)
        return self.config(
            GENERIC_CONFIG.format(
                path=name,
                crs=crs,
                coords=coords,
                project=project,
                study_area=study_area,
                source=source,
                crime_column=crime_column,
                extra=extra,
            )
        )

    def police(self, files: dict[str, list[str]], *, path: str = "police", project: str = "", extra: str = "") -> Path:
        self.wards()
        for name, rows in files.items():
            text = "\n".join([POLICE_HEADER, *rows]) + "\n"
            if name.endswith(".gz"):
                self.write(f"{path}/{name}", gzip.compress(text.encode(), mtime=0))
            else:
                self.write(f"{path}/{name}", text)
        return self.config(POLICE_CONFIG.format(path=path, project=project, extra=extra))

    def config(self, body: str) -> Path:
        return write_config(self.root, body)

    def ingest(self, cfg: Path) -> list[str]:
        return ["ingest", "--config", str(cfg), "--out", str(self.out)]

    def run(self, cfg: Path, *more: str) -> list[str]:
        return ["run", "--config", str(cfg), "--out", str(self.out), "--quiet", *more]


# --------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    """One class of bad input and what the user must see.

    ``build`` writes the inputs and returns the command line; ``refused`` holds
    regular expressions the error message must match (then exit status 2 and
    nothing written); otherwise the run is accepted with ``rows`` data rows read,
    ``reasons`` quarantined rows per reason, ``notes`` patterns some note matches
    and ``printed`` patterns the terminal output matches. ``setup`` may patch the
    engine (e.g. a full disk) through pytest's monkeypatch.
    """

    id: str
    what: str  # the class, in the issue's words
    build: Callable[[World], list[str]]
    refused: tuple[str, ...] = ()
    rows: int | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    printed: tuple[str, ...] = ()
    setup: Callable[[pytest.MonkeyPatch, World], None] | None = None
    owner: str = "ingest"
    xfail: str = ""


def _generic_case(lines: list[str], **kw) -> Callable[[World], list[str]]:
    return lambda w: w.ingest(w.generic(lines, **kw))


def _police_case(files: dict[str, list[str]], **kw) -> Callable[[World], list[str]]:
    return lambda w: w.ingest(w.police(files, **kw))


def _xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def _gzip_text() -> bytes:
    text = "\n".join([GENERIC_HEADER, *good_rows(200)]) + "\n"
    return gzip.compress(text.encode(), mtime=0)


def _corrupt_gzip() -> bytes:
    data = bytearray(_gzip_text())
    for i in range(20, len(data) - 20, 7):  # damage the compressed stream, keep header and trailer
        data[i] ^= 0x5A
    return bytes(data)


def _gz_case(content: Callable[[], bytes]) -> Callable[[World], list[str]]:
    def build(w: World) -> list[str]:
        cfg = w.generic(good_rows(), name="inc.csv.gz")
        w.write("inc.csv.gz", content())
        return w.ingest(cfg)

    return build


def _raw_file_case(content: bytes) -> Callable[[World], list[str]]:
    def build(w: World) -> list[str]:
        cfg = w.generic(good_rows())
        w.write("inc.csv", content)
        return w.ingest(cfg)

    return build


def _wards_case(fc: dict) -> Callable[[World], list[str]]:
    return lambda w: w.ingest(w.generic(good_rows(), wards=fc))


def _population_case(text: str) -> Callable[[World], list[str]]:
    def build(w: World) -> list[str]:
        w.write("population.csv", text)
        return w.ingest(w.generic(good_rows(), study_area='population = "population.csv"'))

    return build


def _config_case(extra: str, command: str = "run") -> Callable[[World], list[str]]:
    def build(w: World) -> list[str]:
        cfg = w.generic(good_rows(), extra=extra)
        return w.run(cfg) if command == "run" else w.ingest(cfg)

    return build


def _out_case(make_out: Callable[[World], Path], command: str = "ingest") -> Callable[[World], list[str]]:
    def build(w: World) -> list[str]:
        cfg = w.generic(good_rows())
        w.out = make_out(w)
        return w.ingest(cfg) if command == "ingest" else w.run(cfg, "--date", "2025-02-01")

    return build


def _file_in_the_way(w: World) -> Path:
    w.write("blocker", "I am a file")
    return w.root / "blocker" / "pack"


def _read_only_folder(w: World) -> Path:
    ro = w.root / "read-only"
    ro.mkdir()
    ro.chmod(0o555)
    return ro / "pack"


def _refuse_writes_as_root(mp: pytest.MonkeyPatch, w: World) -> None:
    """Root writes into a read-only folder anyway; then the write probe reports what a user would meet."""
    if os.geteuid() == 0:
        from hotspots import writable

        def denied(folder: Path) -> None:
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))

        mp.setattr(writable, "_probe", denied)


def _full_disk(mp: pytest.MonkeyPatch, w: World) -> None:
    from hotspots import writable

    def no_space(folder: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(folder))

    mp.setattr(writable, "_probe", no_space)


def _nearly_full_disk(mp: pytest.MonkeyPatch, w: World) -> None:
    import shutil

    from hotspots import writable

    real = shutil.disk_usage

    def usage(path):
        total, used, _free = real(path)
        return type(real(path))(total, used, 3 * 2**20)

    mp.setattr(writable.shutil, "disk_usage", usage)


def _no_analysis(mp: pytest.MonkeyPatch, w: World) -> None:
    """The refusal must come before the study area is read (no analysis after a bad option)."""
    from hotspots.stages import inputs

    def fail(*a, **k):
        raise AssertionError("the inputs were read although the command line or config is wrong")

    mp.setattr(inputs, "read_study_area", fail)


def _old_rows_then_today(w: World) -> list[str]:
    import datetime as dt

    old = dt.date.today() - dt.timedelta(days=800)
    rows = [generic_row(f"A{i}", t=f"{old:%Y-%m-%d} 1{i}:00") for i in range(3)]
    return w.run(w.generic(rows), "--date", f"{dt.date.today():%Y-%m-%d}")


def _us_dates(lines_dates: list[str], **kw) -> Callable[[World], list[str]]:
    rows = [generic_row(f"D{i}", x=530100 + 100 * i, t=d) for i, d in enumerate(lines_dates)]
    return _generic_case(rows, **kw)


def _camera_range_case(w: World) -> list[str]:
    w.write(
        "cameras.csv",
        "camera_id,type,x,y,range_m,bearing_deg,fov_deg,status\nC1,cctv,530500,180500,1e12,0,360,live\n",
    )
    cfg = w.generic(good_rows(8), extra='[cameras]\ninventory = "cameras.csv"\n')
    return ["cctv", "--config", str(cfg), "--out", str(w.out), "--k", "1"]


def _command(name: str, *more: str) -> Callable[[World, Path], list[str]]:
    """The command line of subcommand ``name`` on a config, writing to the case's ``--out``."""
    return lambda w, cfg: [name, "--config", str(cfg), "--out", str(w.out), *more]


#: Every subcommand that reads a config's incidents, with the options it needs.
SUBCOMMANDS: dict[str, Callable[[World, Path], list[str]]] = {
    "trends": _command("trends"),
    "nearrepeat": _command("nearrepeat"),
    "backtest": _command("backtest", "--start", "2025-01-01", "--end", "2025-02-01"),
    "evaluate": _command("evaluate", "--target", "530500,180500,200", "--start", "2025-01-05"),
    "cctv": _command("cctv", "--k", "1"),
    "run-boroughs": _command("run-boroughs"),
}


def _truncated_gzip_for(command: str) -> Callable[[World], list[str]]:
    def build(w: World) -> list[str]:
        cfg = w.generic(good_rows(), name="inc.csv.gz")
        w.write("inc.csv.gz", _gzip_text()[:-40])
        return SUBCOMMANDS[command](w, cfg)

    return build


def _option_case(command: str, *more: str) -> Callable[[World], list[str]]:
    return lambda w: _command(command, *more)(w, w.generic(good_rows()))


GEO_CONFIG = """
[project]
data_dir = "."
[study_area]
wards = "wards.geojson"
[[incidents]]
path = "inc.geojson"
format = "geo"
[incidents.columns]
id = "ref"
crime_type = "type"
start = "from"
location = "where"
"""


def _geo_case(geometries: list, crs: str | None = "EPSG::27700") -> Callable[[World], list[str]]:
    """Incidents as GeoJSON points (``geometries``: GeoJSON geometry dicts or None)."""

    def build(w: World) -> list[str]:
        w.wards()
        fc: dict = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"ref": f"G{i}", "type": "Robbery", "from": "2025-01-10 10:00", "where": "x"},
                    "geometry": g,
                }
                for i, g in enumerate(geometries)
            ],
        }
        if crs:
            fc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{crs}"}}
        w.write("inc.geojson", json.dumps(fc))
        return w.ingest(w.config(GEO_CONFIG))

    return build


def _point(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


NEW_YORK = [  # two 1 km squares in Manhattan, as longitude/latitude polygons
    ("NY1", "Midtown West", (-73.995, 40.750)),
    ("NY2", "Midtown East", (-73.983, 40.750)),
]


def _new_york(project: str) -> Callable[[World], list[str]]:
    def build(w: World) -> list[str]:
        d = 0.0059  # about 500 m of latitude; longitude half-width chosen alike
        polys = []
        for code, name, (lon, lat) in NEW_YORK:
            polys.append(
                (code, name, Polygon([(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)]))
            )
        fc = ward_collection(polys, crs=None)  # GeoJSON: longitude/latitude
        rows = [
            f"N{i},Burglary,{lon + 0.001 * i:.6f},{lat:.6f},2025-01-1{i} 10:00,2025-01-1{i} 10:00,On or near 5th Avenue"
            for i, (lon, lat) in enumerate([NEW_YORK[0][2], NEW_YORK[1][2], NEW_YORK[0][2]])
        ]
        cfg = w.generic(
            rows,
            header="ref,type,lon,lat,from,to,where",
            crs="EPSG:4326",
            coords='lon = "lon"\nlat = "lat"',
            project=project + '\ntimezone = "America/New_York"',
            wards=fc,
        )
        return w.ingest(cfg)

    return build


CASES: list[Case] = [
    # ---------------------------------------------------------------- crashes -> clear message or quarantine
    Case(
        "coordinate-1e155",
        "coordinates of 1e155 or more",
        _generic_case([*good_rows(), generic_row("B1", x=1e155)]),
        rows=4,
        reasons={"impossible_coordinates": 1},
    ),
    Case(
        "coordinate-overflows-to-infinity",
        "coordinates of 1e155 or more",
        _generic_case([*good_rows(), generic_row("B1", y="1e400")]),  # type: ignore[arg-type]
        rows=4,
        reasons={"impossible_coordinates": 1},
    ),
    Case(
        "latitude-95",
        "latitude 95 / longitude 200",
        _police_case({"2025-01.csv": [police_row(), police_row(), police_row(lon=-0.12, lat=95.0)]}),
        rows=3,
        reasons={"impossible_coordinates": 1},
    ),
    Case(
        "longitude-200",
        "latitude 95 / longitude 200",
        _police_case({"2025-01.csv": [police_row(), police_row(), police_row(lon=200.0, lat=51.5)]}),
        rows=3,
        reasons={"impossible_coordinates": 1},
    ),
    Case(
        "grid-metres-declared-as-degrees",
        "grid metres declared as EPSG:4326",
        _generic_case(good_rows(), crs="EPSG:4326"),
        refused=(r"inc\.csv", r"'x'/'y'", "grid metres", r"crs = 'EPSG:27700'"),
    ),
    Case(
        "row-with-an-extra-field",
        "a row with an extra field",
        _generic_case([*good_rows(), generic_row("B1") + ",surplus"]),
        rows=4,
        reasons={"malformed_row": 1},
    ),
    Case(
        "row-with-a-missing-field",
        "a row with an extra field",
        _generic_case([*good_rows(), "B1,Robbery,530500,180500,2025-01-10 21:30"]),
        rows=4,
        reasons={"malformed_row": 1},
    ),
    Case(
        "unterminated-quote",
        "an unterminated quote",
        _generic_case([*good_rows(1), 'B1,Robbery,530500,180500,2025-01-10,2025-01-10,"On or near', *good_rows(2, 5)]),
        refused=(r"inc\.csv", "line 3", "never closed", "closing quote"),
    ),
    Case(
        "text-after-closing-quote",
        "an unterminated quote",
        _generic_case([*good_rows(1), 'B1,Robbery,530500,180500,2025-01-10,2025-01-10,"High" Street']),
        refused=(r"inc\.csv", "line 3", "quoting is broken"),
    ),
    Case(
        "xlsx-saved-as-csv",
        "an .xlsx saved as .csv",
        _raw_file_case(_xlsx_bytes()),
        refused=(r"inc\.csv", "Excel workbook", "Save As"),
    ),
    Case(
        "binary-file-as-csv",
        "an .xlsx saved as .csv",
        _raw_file_case(b"\x00\x01\x02BINARY\x00" * 10),
        refused=(r"inc\.csv", "binary file"),
    ),
    Case(
        "gzip-truncated",
        "a truncated .gz",
        _gz_case(lambda: _gzip_text()[:-40]),
        refused=(r"inc\.csv\.gz", "truncated", "again"),
    ),
    Case(
        "gzip-corrupt",
        "a corrupt .gz",
        _gz_case(_corrupt_gzip),
        refused=(r"inc\.csv\.gz", "corrupt", "again"),
    ),
    Case(
        "gzip-name-but-plain-text",
        "a non-gzip .gz",
        _gz_case(lambda: ("\n".join([GENERIC_HEADER, *good_rows()]) + "\n").encode()),
        refused=(r"inc\.csv\.gz", "not gzip-compressed", "rename it"),
    ),
    Case(
        "geojson-incident-without-geometry",
        "a null ward geometry",
        _geo_case([_point(530500, 180500), _point(530600, 180500), None]),
        rows=3,
        reasons={"missing_coordinates": 1},
    ),
    Case(
        "geojson-incidents-in-metres-without-crs",
        "a wards GeoJSON in metres without a crs member",
        _geo_case([_point(530500, 180500), _point(530600, 180500)], crs=None),
        refused=(r"inc\.geojson", "grid metres", "'crs' member"),
    ),
    Case(
        "police-month-16-01",
        "a police.uk Month of 16-01",
        _police_case({"2025-01.csv": [police_row(), police_row(), police_row(month="16-01")]}),
        rows=3,
        reasons={"bad_date": 1},
    ),
    Case(
        "wards-in-metres-without-crs",
        "a wards GeoJSON in metres without a crs member",
        _wards_case(ward_collection(crs=None)),
        refused=(r"wards\.geojson", "grid metres", "'crs' member", "EPSG:4326"),
    ),
    Case(
        "ward-null-geometry",
        "a null ward geometry",
        _wards_case(ward_collection(geometries=[mapping(WARDS[0][2]), None])),
        refused=(r"wards\.geojson", r"W2 \(feature 2\)", "no geometry", "draw their boundaries"),
    ),
    Case(
        "ward-empty-geometry",
        "an empty ward geometry",
        _wards_case(ward_collection(geometries=[mapping(WARDS[0][2]), {"type": "Polygon", "coordinates": []}])),
        refused=(r"wards\.geojson", r"W2 \(feature 2\)", "empty geometry"),
    ),
    Case(
        "invalid-time-zone",
        "an invalid time zone name",
        lambda w: w.ingest(w.generic(good_rows(), project='timezone = "Europe/Londn"')),
        refused=(r"\[project\] timezone 'Europe/Londn'", "IANA name"),
        setup=_no_analysis,
    ),
    Case(
        "invalid-crs-code",
        "an invalid CRS code",
        lambda w: w.ingest(w.generic(good_rows(), project='crs = "EPSG:999999"')),
        refused=(r"\[project\] crs", "EPSG:999999", "EPSG:27700"),
        setup=_no_analysis,
    ),
    Case(
        "invalid-source-crs-code",
        "an invalid CRS code",
        _generic_case(good_rows(), crs="EPSG:123456789"),
        refused=(r"\[\[incidents\]\] crs 'EPSG:123456789'", "EPSG code"),
        setup=_no_analysis,
    ),
    Case(
        "geographic-working-crs",
        "an invalid CRS code",
        lambda w: w.ingest(w.generic(good_rows(), project='crs = "EPSG:4326"')),
        refused=(r"\[project\] crs", "not a projected CRS"),
        setup=_no_analysis,
    ),
    Case(
        "date-nan",
        "--date nan",
        lambda w: w.run(w.generic(good_rows()), "--date", "nan"),
        refused=("--date 'nan' is not a date", "YYYY-MM-DD"),
        setup=_no_analysis,
    ),
    Case(
        "date-3000-01-01",
        "--date 3000-01-01",
        lambda w: w.run(w.generic(good_rows()), "--date", "3000-01-01"),
        refused=("--date 3000-01-01 is more than a year after today", "YYYY-MM-DD"),
        setup=_no_analysis,
    ),
    Case(
        "date-february-30",
        "--date nan",
        lambda w: w.run(w.generic(good_rows()), "--date", "2025-02-30"),
        refused=("--date '2025-02-30' is not a date",),
        setup=_no_analysis,
    ),
    Case(
        "date-with-an-empty-analysis-window",
        "--date 3000-01-01",
        _old_rows_then_today,
        refused=("analysis window before --date", "holds no accepted incident", "leave --date out"),
    ),
    Case(
        "out-parent-is-a-file",
        "an output folder whose parent is a file",
        _out_case(_file_in_the_way),
        refused=("--out", r"blocker is a file", "choose another output folder"),
    ),
    Case(
        "out-is-a-file",
        "an output folder whose parent is a file",
        _out_case(lambda w: w.write("pack.html", "x")),
        refused=("--out", r"pack\.html is a file, not a folder"),
    ),
    Case(
        "out-read-only",
        "an output folder that is read-only",
        _out_case(_read_only_folder),
        refused=("--out", "cannot write in", "read-only", "write permission"),
        setup=_refuse_writes_as_root,
    ),
    Case(
        "out-on-a-full-disk",
        "an output folder on a full disk",
        _out_case(lambda w: w.root / "pack"),
        refused=("--out", "disk holding", "is full", "free some space"),
        setup=_full_disk,
    ),
    Case(
        "out-on-a-nearly-full-disk",
        "an output folder on a full disk",
        _out_case(lambda w: w.root / "pack"),
        refused=("--out", "only 3 MB free", "products need"),
        setup=_nearly_full_disk,
    ),
    Case(
        "run-out-checked-before-analysis",
        "an output folder whose parent is a file",
        _out_case(_file_in_the_way, command="run"),
        refused=("--out", r"blocker is a file"),
        setup=_no_analysis,
    ),
    # ---------------------------------------------------------------- silent wrong answers
    Case(
        "us-month-first-dates",
        "US mm/dd/yyyy dates",
        _us_dates(["01/13/2025 10:00", "02/03/2025 11:00", "12/25/2024 09:30"]),
        rows=3,
        notes=(r"inc\.csv: dates read month first \(US order, mm/dd/yyyy\)", "'01/13/2025 10:00'"),
    ),
    Case(
        "uk-day-first-dates",
        "US mm/dd/yyyy dates",
        _us_dates(["13/01/2025 10:00", "02/03/2025 11:00"]),
        rows=2,
        notes=(r"dates read day first \(dd/mm/yyyy\)",),
    ),
    Case(
        "ambiguous-day-month-order",
        "US mm/dd/yyyy dates",
        _us_dates(["03/04/2025 10:00", "05/06/2025 11:00"]),
        refused=(r"inc\.csv", "'03/04/2025 10:00'", "could be day first", "dayfirst = true", "date_format"),
    ),
    Case(
        "mixed-day-month-order",
        "US mm/dd/yyyy dates",
        _us_dates(["13/01/2025 10:00", "01/14/2025 11:00"]),
        refused=(r"inc\.csv", "mix day-first and month-first", "row 1", "row 2"),
    ),
    Case(
        "dayfirst-set-but-a-month-first-date",
        "US mm/dd/yyyy dates",
        _us_dates(["03/04/2025 10:00", "01/14/2025 11:00"], source="dayfirst = true"),
        rows=2,
        reasons={"bad_date": 1},
    ),
    Case(
        "one-cp1252-byte-in-utf8",
        "one cp1252 byte in a UTF-8 file",
        _raw_file_case(
            (GENERIC_HEADER + "\n").encode()
            + "A1,Robbery,530500,180500,2025-01-10,2025-01-10,On or near Café Road\n".encode()
            + "A2,Robbery,530600,180500,2025-01-11,2025-01-11,On or near Crème Lane\n".encode("cp1252")
        ),
        rows=2,
        notes=(r"inc\.csv: the file is UTF-8 except line\(s\) 3, which were read as Windows-1252",),
    ),
    Case(
        "whole-file-cp1252",
        "one cp1252 byte in a UTF-8 file",
        _raw_file_case(
            (GENERIC_HEADER + "\nA1,Robbery,530500,180500,2025-01-10,2025-01-10,On or near Crème Lane\n").encode(
                "cp1252"
            )
        ),
        rows=1,
        notes=(r"inc\.csv: the file is not UTF-8; it was read as Windows-1252",),
    ),
    Case(
        "bytes-neither-utf8-nor-cp1252",
        "one cp1252 byte in a UTF-8 file",
        _raw_file_case((GENERIC_HEADER + "\n").encode() + b"A1,Robbery,530500,180500,2025-01-10,2025-01-10,\x81\x8d\n"),
        refused=(r"inc\.csv", "line 2", "neither UTF-8 nor Windows-1252", "CSV UTF-8"),
    ),
    Case(
        "police-same-month-csv-and-gz",
        "a police.uk folder holding the same month as .csv and .csv.gz",
        _police_case({"2025-01-met-street.csv": [police_row()] * 3, "2025-01-met-street.csv.gz": [police_row()] * 3}),
        refused=(r"2025-01-met-street\.csv and .*2025-01-met-street\.csv\.gz", "for 2025-01", "Keep one"),
    ),
    Case(
        "police-backup-subfolder",
        "a police.uk folder with a backup subfolder",
        _police_case(
            {
                "2025-01-met-street.csv": [police_row()] * 3,
                "2025-02-met-street.csv": [police_row("2025-02")] * 2,
                "backup/2025-02-met-street.csv": [police_row("2025-02")] * 2,
            }
        ),
        refused=(r"2025-02-met-street\.csv and .*backup/2025-02-met-street\.csv", "for 2025-02", "twice"),
    ),
    Case(
        "same-file-named-by-two-sources",
        "a police.uk folder with a backup subfolder",
        lambda w: w.ingest(w.police({"2025-01.csv": [police_row()] * 2}, extra='[[incidents]]\npath = "police"\n')),
        refused=(r"2025-01\.csv is named by two \[\[incidents\]\] sources", "counted twice"),
    ),
    Case(
        "population-zero-households",
        "zero or negative households or population",
        _population_case("ward_code,population,households\nW1,1000,400\nW2,900,0\n"),
        refused=(r"population\.csv: line 3, column 'households'", "W2 is 0", "above 0"),
    ),
    Case(
        "population-negative",
        "zero or negative households or population",
        _population_case("ward_code,population,households\nW1,-1000,400\nW2,900,300\n"),
        refused=(r"population\.csv: line 2, column 'population'", "W1 is -1000"),
    ),
    Case(
        "population-not-a-number",
        "zero or negative households or population",
        _population_case("ward_code,population,households\nW1,n/a,400\nW2,900,300\n"),
        refused=(r"population\.csv: line 2, column 'population'", "'n/a'", "not a number"),
    ),
    Case(
        "population-duplicated-ward",
        "a duplicated ward code in the population file",
        _population_case("ward_code,population,households\nW1,1000,400\nW2,900,300\nW1,1100,420\n"),
        refused=(r"population\.csv: ward W1 has more than one row \(lines 2, 4\)",),
    ),
    Case(
        "population-missing-ward",
        "a missing ward gets only a note",
        _population_case("ward_code,population,households\nW1,1000,400\n"),
        refused=(r"population\.csv: no row for ward\(s\) \['W2'\]", "add a row"),
    ),
    Case(
        "population-unknown-counts-stated",
        "a missing ward gets only a note",
        _population_case('ward_code,population,households\nW1,"1,000",400\nW2,,\n'),
        rows=3,
        notes=(r"population\.csv: ward\(s\) \['W2'\] have no population or household count",),
    ),
    Case(
        "end-date-in-the-future",
        "incidents with an end date in the future",
        _generic_case([*good_rows(), generic_row("B1", end="2999-01-01 10:00")]),
        rows=4,
        reasons={"future_date": 1},
    ),
    Case(
        "date-1677-01-01",
        "a date of 1677-01-01",
        _generic_case([*good_rows(), generic_row("B1", t="1677-01-01 10:00")]),
        rows=4,
        reasons={"implausible_date": 1},
    ),
    Case(
        "date-in-year-9999",
        "a date of 1677-01-01",
        _generic_case([*good_rows(), generic_row("B1", t="9999-01-01 10:00")]),
        rows=4,
        reasons={"future_date": 1},
    ),
    Case(
        "duplicate-mapped-header",
        "duplicate header names",
        _generic_case([r + ",530000" for r in good_rows()], header=GENERIC_HEADER + ",x"),
        refused=(r"inc\.csv: column 'x'", "appears 2 times", r"columns 3, 8", "rename"),
    ),
    Case(
        "duplicate-unused-header",
        "duplicate header names",
        _generic_case([r + ",a,b" for r in good_rows()], header=GENERIC_HEADER + ",note,note"),
        rows=3,
        notes=(r"column name\(s\) \['note'\] appear more than once",),
    ),
    Case(
        "wards-overlap-slightly",
        "overlapping wards",
        _wards_case(
            ward_collection(
                [
                    WARDS[0],
                    ("W2", "East", Polygon([(530990, 180000), (532000, 180000), (532000, 181000), (530990, 181000)])),
                ]
            )
        ),
        rows=3,
        notes=(r"1 pair\(s\) of wards overlap slightly \(largest: W1 and W2, 10,000 m²", "sorts first"),
    ),
    Case(
        "wards-overlap-heavily",
        "overlapping wards",
        _wards_case(
            ward_collection(
                [
                    WARDS[0],
                    WARDS[1],
                    (
                        "W3",
                        "West (new)",
                        Polygon([(530200, 180000), (531200, 180000), (531200, 181000), (530200, 181000)]),
                    ),
                ]
            )
        ),
        refused=(r"wards\.geojson: wards W1 and W3 overlap", "two sets of wards"),
    ),
    Case(
        "config-negative-radius",
        "configuration errors stop the run before analysis",
        _config_case("[density]\nradius_m = -5\n"),
        refused=(r"\[density\] radius_m must be >= 0",),
        setup=_no_analysis,
    ),
    Case(
        "config-typo-in-trends",
        "configuration errors stop the run before analysis",
        _config_case("[trends]\nstep_dyas = 14\n"),
        refused=("'trends.step_dyas'", "allowed keys"),
        setup=_no_analysis,
    ),
    Case(
        "config-public-min-count-zero",
        "configuration errors stop the run before analysis",
        _config_case("[coverage]\npublic_min_count = 0\n"),
        refused=("public_min_count",),
        setup=_no_analysis,
    ),
    Case(
        "config-nan",
        "configuration errors stop the run before analysis",
        _config_case("[density]\nradius_m = nan\n"),
        refused=("'density.radius_m' must be a finite number",),
        setup=_no_analysis,
    ),
    Case(
        "config-infinity",
        "configuration errors stop the run before analysis",
        _config_case("[grid]\ncell_size_m = inf\n"),
        refused=("'grid.cell_size_m' must be a finite number",),
        setup=_no_analysis,
    ),
    Case(
        "config-experiment-crossover-one-day",
        "an experiment that cannot give both patrol and no-patrol days",
        _config_case('[experiment]\nkind = "crossover"\ndays = 1\n'),
        refused=(r"\[experiment\] days is 1", "at least 2 days", "days = 14"),
        setup=_no_analysis,
        owner="experiment",
    ),
    Case(
        "config-experiment-crossover-block-of-one-day",
        "an experiment that cannot give both patrol and no-patrol days",
        _config_case('[experiment]\nkind = "crossover"\nblock_days = 1\n'),
        refused=(r"\[experiment\] block_days is 1", "block_days = 7"),
        setup=_no_analysis,
        owner="experiment",
    ),
    Case(
        "config-experiment-crossover-share-too-small-for-the-block",
        "an experiment that cannot give both patrol and no-patrol days",
        _config_case('[experiment]\nkind = "crossover"\nshare = 0.1\nblock_days = 7\n'),
        refused=(r"\[experiment\] share 0\.1", "no patrol day", r"between 0\.143 and 0\.857"),
        setup=_no_analysis,
        owner="experiment",
    ),
    Case(
        "config-experiment-crossover-share-too-large-for-a-short-experiment",
        "an experiment that cannot give both patrol and no-patrol days",
        _config_case('[experiment]\nkind = "crossover"\nshare = 0.8\nblock_days = 7\ndays = 3\n'),
        refused=(r"\[experiment\] share 0\.8", "no day without extra patrol", "days = 3"),
        setup=_no_analysis,
        owner="experiment",
    ),
    Case(
        "config-experiment-share-one",
        "an experiment share outside (0, 1)",
        _config_case('[experiment]\nkind = "allocation"\nshare = 1.0\n'),
        refused=(r"\[experiment\] share must be a share between 0 and 1",),
        setup=_no_analysis,
        owner="experiment",
    ),
    Case(
        "config-experiment-unknown-kind",
        "an experiment of an unknown kind",
        _config_case('[experiment]\nkind = "cross-over"\n'),
        refused=(r"\[experiment\] kind must be", "crossover"),
        setup=_no_analysis,
        owner="experiment",
    ),
    Case(
        "config-date-format-without-year",
        "configuration errors stop the run before analysis",
        _generic_case(good_rows(), source='date_format = "%d/%m %H:%M"'),
        refused=(r"date_format '%d/%m %H:%M' has no year",),
        setup=_no_analysis,
    ),
    # ---------------------------------------------------------------- correctness on real data
    Case(
        "new-york-data-under-british-national-grid",
        "working CRS: data outside its area of use",
        _new_york(""),
        refused=(r"wards\.geojson: the ward boundary features lie around longitude -73\.9", "EPSG:27700", "EPSG:32618"),
    ),
    Case(
        "incidents-from-elsewhere",
        "working CRS: data outside its area of use",
        lambda w: w.ingest(
            w.generic(
                ["N1,Burglary,-73.99,40.75,2025-01-10,,x", "N2,Burglary,-73.98,40.75,2025-01-10,,x"],
                header="ref,type,lon,lat,from,to,where",
                crs="EPSG:4326",
                coords='lon = "lon"\nlat = "lat"',
            )
        ),
        refused=(r"inc\.csv: the incidents lie around longitude -73\.98", "not for this area", "right file"),
    ),
    Case(
        "new-york-data-under-utm-18n",
        "working CRS: data outside its area of use",
        _new_york('crs = "EPSG:32618"'),
        rows=3,
    ),
    Case(
        "new-york-data-under-state-plane-feet",
        "working CRS: data outside its area of use",
        _new_york('crs = "EPSG:2263"'),
        rows=3,
    ),
    Case(
        "no-crime-type-column-one-type-for-the-source",
        "generic CSV without a crime-type column",
        _generic_case(
            [",".join(r.split(",")[:1] + r.split(",")[2:]) for r in good_rows(4)],
            header="ref,x,y,from,to,where",
            crime_column="",
            source='crime_type = "burglary_residential"',
        ),
        rows=4,
        printed=("Accepted by crime type: burglary_residential 4",),
    ),
    Case(
        "no-crime-type-at-all",
        "generic CSV without a crime-type column",
        _generic_case(good_rows(), crime_column=""),
        refused=("has no crime type", r"\[incidents\.columns\] crime_type", r'crime_type = "burglary_residential"'),
        setup=_no_analysis,
    ),
    Case(
        "crime-type-column-and-constant",
        "generic CSV without a crime-type column",
        _generic_case(good_rows(), source='crime_type = "robbery"'),
        refused=("are both set", "keep one"),
        setup=_no_analysis,
    ),
    # ---------------------------------------------------------------- every subcommand, and its own options
    *(
        Case(
            f"{command}-truncated-gzip",
            "a truncated .gz (every subcommand)",
            _truncated_gzip_for(command),
            refused=(r"inc\.csv\.gz", "truncated", "copy it again"),
        )
        for command in SUBCOMMANDS
    ),
    Case(
        "backtest-start-nan",
        "--date nan (backtest --start)",
        _option_case("backtest", "--start", "nan", "--end", "2025-02-01"),
        refused=("--start 'nan' is not a date", "first forecast origin as YYYY-MM-DD"),
        setup=_no_analysis,
    ),
    Case(
        "backtest-end-3000-01-01",
        "--date 3000-01-01 (backtest --end)",
        _option_case("backtest", "--start", "2025-01-01", "--end", "3000-01-01"),
        refused=("--end 3000-01-01 is more than a year after today", "YYYY-MM-DD"),
        setup=_no_analysis,
    ),
    Case(
        "evaluate-start-nan",
        "--date nan (evaluate --start)",
        _option_case("evaluate", "--target", "530500,180500,200", "--start", "nan"),
        refused=("--start 'nan' is not a date", "first day of the intervention as YYYY-MM-DD"),
        setup=_no_analysis,
    ),
    Case(
        "evaluate-buffer-nan",
        "a number option of nan",
        _option_case("evaluate", "--target", "530500,180500,200", "--start", "2025-01-05", "--buffer-m", "nan"),
        refused=(r"--buffer-m", r"evaluate\.buffer_m", "finite number"),
        setup=_no_analysis,
    ),
    Case(
        "evaluate-negative-before-days",
        "a negative number option",
        _option_case("evaluate", "--target", "530500,180500,200", "--start", "2025-01-05", "--before-days", "-5"),
        refused=(r"--before-days", r"before_days must be >= 0"),
        setup=_no_analysis,
    ),
    Case(
        "backtest-cell-size-nan",
        "a number option of nan",
        _option_case("backtest", "--start", "2025-01-01", "--end", "2025-02-01", "--cell-size", "nan"),
        refused=(r"--cell-size", r"grid\.cell_size_m", "finite number"),
        setup=_no_analysis,
    ),
    Case(
        "concentration-date-nan",
        "--date nan (concentration)",
        _option_case("concentration", "--date", "nan"),
        refused=("--date 'nan' is not a date", "YYYY-MM-DD"),
        setup=_no_analysis,
        owner="concentration",
    ),
    Case(
        "experiment-days-zero",
        "a zero option that was ignored",
        _option_case(
            "experiment", "--places", "places.gpkg", "--start", "2025-01-05", "--kind", "crossover", "--days", "0"
        ),
        refused=(r"--days", r"\[experiment\] days must be >= 1 day, got 0"),
        setup=_no_analysis,
        owner="experiment",
    ),
    Case(
        "trends-step-days-zero",
        "a zero option that was ignored",
        _option_case("trends", "--step-days", "0"),
        refused=(r"--step-days", r"step_days must be a positive number of days"),
        setup=_no_analysis,
    ),
    # ---------------------------------------------------------------- camera inventories
    Case(
        "camera-range-1e12",
        "a camera range of 1e12",
        _camera_range_case,
        refused=(r"cameras\.csv", "range_m"),
    ),
]


def _ids() -> list[str]:
    return [c.id for c in CASES]


def test_the_table_has_one_id_per_case_and_covers_the_issue():
    assert len(set(_ids())) == len(CASES)
    assert len(CASES) >= 45


def _run(argv: list[str]) -> tuple[int, str, str, BaseException | None]:
    """``hotspots`` in this process: exit status, stdout, stderr and any exception that escaped ``main``."""
    out, err = io.StringIO(), io.StringIO()
    from contextlib import redirect_stderr, redirect_stdout

    escaped = None
    with redirect_stdout(out), redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as exc:  # argparse refuses an option value with status 2
            rc = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:  # anything else reaches the user as a traceback
            escaped, rc = exc, -1
    return rc, out.getvalue(), err.getvalue(), escaped


@pytest.mark.parametrize("case", CASES, ids=_ids())
def test_bad_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request):
    if case.xfail:
        request.applymarker(pytest.mark.xfail(reason=f"owner {case.owner}: {case.xfail}", strict=False))
    monkeypatch.setenv("COLUMNS", "200")  # no wrapped terminal lines in the captured output
    w = World(tmp_path)
    argv = case.build(w)
    if case.setup is not None:
        case.setup(monkeypatch, w)
    rc, out, err, escaped = _run(argv)
    assert escaped is None, f"{type(escaped).__name__} escaped to the user: {escaped}"
    assert "Traceback" not in out + err
    if case.refused:
        assert rc == 2, f"exit status {rc}; stderr: {err}"
        message = " ".join(err.split())
        for pattern in case.refused:
            assert re.search(pattern, message), f"{pattern!r} not in: {message}"
        assert not (w.out / "quarantine.csv").exists() and not (w.out / "manifest.json").exists()
        return
    assert rc == 0, f"exit status {rc}; stderr: {err}"
    summary = json.loads((w.out / "ingest_summary.json").read_text())
    assert summary["rows_read"] == case.rows
    assert summary["accepted"] + summary["quarantined"] == summary["rows_read"]
    assert summary["quarantined_by_reason"] == case.reasons
    quarantine = pd.read_csv(w.out / "quarantine.csv", dtype=str, keep_default_na=False)
    assert len(quarantine) == summary["quarantined"]
    assert quarantine["reason"].value_counts().to_dict() == case.reasons
    assert (quarantine["detail"] != "").all()
    notes = " | ".join(" ".join(n.split()) for n in summary["notes"])
    for pattern in case.notes:
        assert re.search(pattern, notes), f"{pattern!r} not in the notes: {notes}"
    printed = " ".join((out + err).split())
    for pattern in case.printed:
        assert re.search(pattern, printed), f"{pattern!r} not printed: {printed}"


def test_the_installed_command_prints_no_traceback(tmp_path):
    """The real entry point (a new process), on a file that used to crash it: one line, status 2."""
    w = World(tmp_path)
    cfg = w.generic(good_rows(), name="inc.csv.gz")
    w.write("inc.csv.gz", _gzip_text()[:-40])
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "hotspots.cli", *w.ingest(cfg)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "inc.csv.gz" in last and "truncated" in last


def test_cctv_prints_the_ingest_summary_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The report of what was read (rows read, accepted, quarantined) is printed once, not once per layer."""
    monkeypatch.setenv("COLUMNS", "200")
    w = World(tmp_path)
    w.write(
        "cameras.csv",
        "camera_id,type,x,y,range_m,bearing_deg,fov_deg,status\nC1,cctv,530500,180500,60,0,360,live\n",
    )
    cfg = w.generic(good_rows(8), extra='[cameras]\ninventory = "cameras.csv"\n')
    rc, out, err, escaped = _run(["cctv", "--config", str(cfg), "--out", str(w.out), "--k", "1"])
    assert escaped is None and rc == 0, err
    shown = out + err
    first = next(ln for ln in shown.splitlines() if "accepted" in ln)
    assert shown.count(first) == 1, shown
