"""Ingest and validation: every row is accepted or quarantined with a reason, and
whole-file mistakes get a message that names the file and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_config
from shapely.geometry import Polygon, mapping

from hotspots.config import load_config
from hotspots.errors import InputError
from hotspots.stages.inputs import load_incidents, load_study_area

# A tiny two-ward borough on the British National Grid: x 530000-532000, y 180000-181000.
WARDS = [
    ("W1", "West", Polygon([(530000, 180000), (531000, 180000), (531000, 181000), (530000, 181000)])),
    ("W2", "East", Polygon([(531000, 180000), (532000, 180000), (532000, 181000), (531000, 181000)])),
]
NOW = pd.Timestamp("2025-06-01 12:00", tz="Europe/London")


def _wards_file(folder: Path, wards=WARDS) -> Path:
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
        "features": [
            {"type": "Feature", "properties": {"ward_code": c, "ward_name": n}, "geometry": mapping(g)}
            for c, n, g in wards
        ],
    }
    p = folder / "wards.geojson"
    p.write_text(json.dumps(fc))
    return p


GENERIC = """
[project]
data_dir = "."
[study_area]
wards = "wards.geojson"
[[incidents]]
path = "{path}"
format = "generic"
crs = "{crs}"
[incidents.columns]
id = "ref"
crime_type = "type"
{coords}
start = "from"
end = "to"
location = "where"
"""


def _generic(
    tmp_path, rows, crs="EPSG:27700", coords='x = "x"\ny = "y"', header=("ref", "type", "x", "y", "from", "to", "where")
):
    _wards_file(tmp_path)
    csv = tmp_path / "inc.csv"
    pd.DataFrame(rows, columns=list(header)).to_csv(csv, index=False)
    cfg = load_config(write_config(tmp_path, GENERIC.format(path="inc.csv", crs=crs, coords=coords)))
    return cfg


def _ingest(cfg):
    area = load_study_area(cfg)
    return load_incidents(cfg, area, now=NOW)


def _good(ref, x=530500, y=180500, t="2025-01-10 21:30", crime="Robbery"):
    return [ref, crime, x, y, t, t, "On or near High Street"]


def test_each_bad_row_is_quarantined_with_its_reason(tmp_path):
    rows = [
        _good("A1"),
        ["A2", "Robbery", "", "180500", "2025-01-10 10:00", "", "x"],  # missing coordinates
        ["A3", "Robbery", "five", "180500", "2025-01-10 10:00", "", "x"],  # non-numeric
        _good("A4", x=535000, y=185000),  # outside study area
        ["A5", "Robbery", 530500, 180500, "not a date", "", "x"],  # bad date
        ["A6", "Robbery", 530500, 180500, "2025-01-10 10:00", "2025-01-09 10:00", "x"],  # end before start
        ["A7", "Robbery", 530500, 180500, "2026-01-10 10:00", "", "x"],  # future
        _good("A8", crime="Unicorn theft"),  # unmapped crime type
        _good("A1", x=531500),  # duplicate id
        _good("A9", x=532030),  # 30 m outside: within tolerance
    ]
    res = _ingest(_generic(tmp_path, rows))
    q = res.quarantine.set_index("source_row")
    expected = {
        2: "missing_coordinates",
        3: "non_numeric_coordinates",
        4: "outside_study_area",
        5: "bad_date",
        6: "end_before_start",
        7: "future_date",
        8: "unmapped_crime_type",
        9: "duplicate_id",
    }
    assert q["reason"].to_dict() == expected
    assert "Unicorn theft" in q.loc[8, "detail"]
    assert "already used by data row 1" in q.loc[9, "detail"]
    assert q.loc[4, "input:ref"] == "A4"  # original values travel with the row
    s = res.summary()
    assert s["rows_read"] == 10 and s["accepted"] == 2 and s["quarantined"] == 8 and s["reconciles"]
    acc = res.incidents.set_index("incident_id")
    assert acc.loc["A9", "ward_code"] == "W2"  # snapped to the nearest ward within 50 m
    assert acc.loc["A1", "ward_code"] == "W1"
    assert str(res.incidents.crs) == "EPSG:27700"
    assert str(acc.loc["A1", "start"].tz) == "Europe/London"
    assert acc.loc["A1", "time_precision"] == "minute"


def test_tolerance_is_configurable(tmp_path):
    rows = [_good("A1"), _good("A2", x=532030)]
    _generic(tmp_path, rows)
    body = (
        (tmp_path / "run.toml")
        .read_text()
        .replace('wards = "wards.geojson"', 'wards = "wards.geojson"\nboundary_tolerance_m = 10')
    )
    (tmp_path / "run.toml").write_text(body)
    res = _ingest(load_config(tmp_path / "run.toml"))
    assert res.quarantine["reason"].tolist() == ["outside_study_area"]
    assert "30 m outside" in res.quarantine["detail"].iloc[0]


def test_day_and_month_precision_detected(tmp_path):
    rows = [
        ["D1", "Robbery", 530500, 180500, "2025-01-10", "2025-01-10", "x"],
        ["M1", "Robbery", 530500, 180500, "2025-02", "", "x"],
    ]
    res = _ingest(_generic(tmp_path, rows))
    acc = res.incidents.set_index("incident_id")
    assert acc.loc["D1", "time_precision"] == "day"
    assert acc.loc["D1", "end"] == pd.Timestamp("2025-01-10 23:59:59", tz="Europe/London")
    assert acc.loc["M1", "time_precision"] == "month"
    assert acc.loc["M1", "end"] == pd.Timestamp("2025-02-28 23:59:59", tz="Europe/London")


def test_lon_lat_source_is_reprojected(tmp_path):
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(530500, 180500)
    rows = [["L1", "Robbery", lon, lat, "2025-01-10 10:00", "", "x"]]
    cfg = _generic(
        tmp_path,
        rows,
        crs="EPSG:4326",
        coords='lon = "lon"\nlat = "lat"',
        header=("ref", "type", "lon", "lat", "from", "to", "where"),
    )
    res = _ingest(cfg)
    assert res.incidents["x"].iloc[0] == pytest.approx(530500, abs=0.5)
    assert res.incidents["y"].iloc[0] == pytest.approx(180500, abs=0.5)


def test_swapped_lat_lon_is_named(tmp_path):
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(530500, 180500)
    rows = [["L1", "Robbery", lat, lon, "2025-01-10 10:00", "", "x"]]  # swapped
    cfg = _generic(
        tmp_path,
        rows,
        crs="EPSG:4326",
        coords='lon = "lon"\nlat = "lat"',
        header=("ref", "type", "lon", "lat", "from", "to", "where"),
    )
    with pytest.raises(InputError, match="look swapped") as e:
        _ingest(cfg)
    assert "inc.csv" in str(e.value)


def test_grid_metres_in_lon_lat_columns_are_named(tmp_path):
    rows = [["L1", "Robbery", 530500, 180500, "2025-01-10 10:00", "", "x"]]
    cfg = _generic(
        tmp_path,
        rows,
        crs="EPSG:4326",
        coords='lon = "lon"\nlat = "lat"',
        header=("ref", "type", "lon", "lat", "from", "to", "where"),
    )
    with pytest.raises(InputError, match="British National Grid"):
        _ingest(cfg)


def test_degrees_in_metre_columns_are_named(tmp_path):
    rows = [["L1", "Robbery", -0.12, 51.5, "2025-01-10 10:00", "", "x"]]
    with pytest.raises(InputError, match="longitude/latitude degrees"):
        _ingest(_generic(tmp_path, rows))


def test_whole_file_outside_study_area(tmp_path):
    rows = [_good("A1", x=400000, y=300000), _good("A2", x=400100, y=300100)]
    with pytest.raises(InputError, match="all 2 rows with coordinates fall outside the study area"):
        _ingest(_generic(tmp_path, rows))


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "empty"),
        ("ref,type,x,y,from,to,where\n", "no rows"),
        ("a,b,c\n1,2,3\n", "none of the mapped columns"),
    ],
    ids=["empty-file", "header-only", "none-of-the-columns"],
)
def test_unusable_file_is_named(tmp_path, text, message):
    _wards_file(tmp_path)
    (tmp_path / "inc.csv").write_text(text)
    cfg = load_config(
        write_config(tmp_path, GENERIC.format(path="inc.csv", crs="EPSG:27700", coords='x = "x"\ny = "y"'))
    )
    with pytest.raises(InputError, match=message) as e:
        _ingest(cfg)
    assert "inc.csv" in str(e.value)


POLICE = """
[project]
data_dir = "."
[study_area]
wards = "wards.geojson"
[[incidents]]
path = "{path}"
format = "police_uk"
"""


def _police_rows(n=3, lon=-0.1, lat=51.5):
    return pd.DataFrame(
        {
            "Crime ID": [""] * n,
            "Month": ["2025-01"] * n,
            "Reported by": "x",
            "Falls within": "x",
            "Longitude": [lon] * n,
            "Latitude": [lat] * n,
            "Location": ["On or near Park Road"] * n,
            "LSOA code": "E01",
            "LSOA name": "n",
            "Crime type": ["Burglary"] * n,
            "Last outcome category": "",
            "Context": "",
        }
    )


def test_police_uk_folder_gz_blank_ids_and_exact_duplicates_kept(tmp_path):
    from pyproj import Transformer

    _wards_file(tmp_path)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(530500, 180500)
    folder = tmp_path / "monthly"
    (folder / "2025-01").mkdir(parents=True)
    df = _police_rows(3, lon, lat)  # three identical rows without ids: distinct crimes
    df.to_csv(folder / "2025-01" / "2025-01-force-street.csv.gz", index=False, compression="gzip")
    df2 = _police_rows(2, lon, lat)
    df2["Crime ID"] = ["abc", "abc"]
    df2["Month"] = "2025-02"  # the month its file is named for (two files of one month are refused)
    df2.to_csv(folder / "2025-02-force-street.csv", index=False)
    cfg = load_config(write_config(tmp_path, POLICE.format(path="monthly")))
    res = _ingest(cfg)
    assert len(res.incidents) == 4 and len(res.quarantine) == 1
    assert res.quarantine["reason"].tolist() == ["duplicate_id"]
    assert (res.incidents["time_precision"] == "month").all()
    assert res.incidents["incident_id"].is_unique


def test_police_uk_without_its_columns(tmp_path):
    _wards_file(tmp_path)
    (tmp_path / "x.csv").write_text("foo,bar\n1,2\n")
    cfg = load_config(write_config(tmp_path, POLICE.format(path="x.csv")))
    with pytest.raises(InputError, match=r"none of the police\.uk columns"):
        _ingest(cfg)


def test_invalid_ward_polygon_is_repaired_and_reported(tmp_path):
    # a self-crossing outline in the East ward's square (wards that overlap each other are refused)
    bowtie = Polygon([(531000, 180000), (532000, 181000), (532000, 180000), (531000, 181000)])
    wards = [WARDS[0], ("W2", "East", bowtie)]
    _wards_file(tmp_path, wards)
    rows = [_good("A1")]
    pd.DataFrame(rows, columns=["ref", "type", "x", "y", "from", "to", "where"]).to_csv(
        tmp_path / "inc.csv", index=False
    )
    cfg = load_config(
        write_config(tmp_path, GENERIC.format(path="inc.csv", crs="EPSG:27700", coords='x = "x"\ny = "y"'))
    )
    area = load_study_area(cfg)
    assert area.wards.geometry.is_valid.all()
    assert any("repaired 1 invalid polygon" in n for n in area.notes)


# ------------------------------------------------------------------ real data
BARNET = """
[project]
data_dir = "{data}"
[study_area]
wards = "boundaries/barnet_wards_2002_2022.geojson"
[[incidents]]
path = "crime/{file}"
format = "police_uk"
"""


@pytest.mark.parametrize(
    "file,n_rows",
    [
        ("barnet_burglary_policeuk_2010-12_2024-02.csv.gz", 46283),
        ("barnet_street_crime_policeuk_api_2016-01_2018-06.csv.gz", 82364),
    ],
)
def test_real_barnet_files_reconcile_and_wards_agree(tmp_path, shared_data, file, n_rows):
    cfg = load_config(write_config(tmp_path, BARNET.format(data=shared_data, file=file)))
    area = load_study_area(cfg)
    res = load_incidents(cfg, area, now=pd.Timestamp("2026-01-01", tz="Europe/London"))
    s = res.summary()
    assert s["rows_read"] == n_rows
    assert s["accepted"] + s["quarantined"] == n_rows
    # every quarantined row has a reason code and a source row
    assert res.quarantine["reason"].notna().all() and res.quarantine["source_row"].between(1, n_rows).all()
    # compare our own point-in-polygon with the file's precomputed ward (never used by ingest)
    src = pd.read_csv(shared_data / "crime" / file, usecols=["ward_code_2002_2022"])
    ours = res.incidents.set_index(res.incidents["incident_id"])["ward_code"]
    # ids: blank police.uk ids become "<file>#<row>"; map rows back via quarantine-free accepted ids
    rows = res.incidents["incident_id"].str.extract(r"#(\d+)$")[0]
    with_row = rows.notna()
    theirs_blank = src["ward_code_2002_2022"].iloc[rows[with_row].astype(int).to_numpy() - 1].to_numpy()
    agree_blank = res.incidents.loc[with_row, "ward_code"].to_numpy() == theirs_blank
    full = pd.read_csv(shared_data / "crime" / file, usecols=["Crime ID", "ward_code_2002_2022"])
    full = full[full["Crime ID"].notna()].drop_duplicates("Crime ID").set_index("Crime ID")["ward_code_2002_2022"]
    ids = res.incidents.loc[~with_row, "incident_id"]
    agree_ids = res.incidents.loc[~with_row, "ward_code"].to_numpy() == ids.map(full).to_numpy()
    agreement = (agree_blank.sum() + agree_ids.sum()) / len(res.incidents)
    assert agreement >= 0.98, agreement
    assert len(ours) == s["accepted"]


@pytest.mark.parametrize("file,n", [("barnet_wards_2002_2022.geojson", 21), ("barnet_wards_2022.geojson", 24)])
def test_real_ward_sets_load(shared_data, file, n):
    from hotspots.geo.study_area import load_wards

    w, _notes = load_wards(shared_data / "boundaries" / file, "ward_code", "ward_name")
    assert len(w) == n
    assert str(w.crs) == "EPSG:27700"
    assert w.geometry.is_valid.all()
    assert w.total_bounds[0] > 515000 and w.total_bounds[2] < 535000  # Barnet in BNG metres
    assert 85e6 < w.area.sum() < 88e6


def test_dates_read_once_per_distinct_value_equal_each_value_read_alone():
    """Many rows repeating a few values (police.uk months) are read once per value: every row equals the
    value read on its own, and the precision too."""
    from hotspots.ingest.dates import parse_datetimes, precision_of

    values = ["2016-01", "2016/02", " 2018-06 ", "", "not a date", "2016-03-27 01:30", "03/04/2016", "2016-10-30 01:30"]
    import numpy as np

    rng = np.random.default_rng(5)
    text = pd.Series(rng.choice(values, 5000), index=rng.permutation(5000) + 10)
    for dayfirst in (True, False, None):
        got = parse_datetimes(text, "Europe/London", dayfirst=dayfirst)
        alone = {v: parse_datetimes(pd.Series([v]), "Europe/London", dayfirst=dayfirst).iloc[0] for v in values}
        assert got.index.equals(text.index) and str(got.dtype) == "datetime64[us, Europe/London]"
        want = text.map(alone)
        assert (got.isna() == want.isna()).all() and (got[got.notna()] == want[want.notna()]).all()
    assert got[text == "2016-01"].iloc[0] == pd.Timestamp("2016-01-01", tz="Europe/London")
    prec = precision_of(text)
    assert prec.index.equals(text.index) and prec.dtype == object
    assert (prec == text.map({v: precision_of(pd.Series([v])).iloc[0] for v in values})).all()
    assert set(prec[text == "2016-01"]) == {"month"} and set(prec[text == "2016-03-27 01:30"]) == {"minute"}


def test_wards_joined_once_per_location_equal_a_brute_force_join():
    """Repeated locations (police.uk snap points) are joined once; every row gets the ward a point-by-point
    search gives: the first ward holding it, else the nearest within the tolerance, else none."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from hotspots.ingest.validate import assign_wards

    wards = gpd.GeoDataFrame(
        {"ward_code": ["A", "B", "C"]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(50, 0, 200, 100), shapely.box(0, 150, 100, 250)],
        crs=27700,
    )
    rng = np.random.default_rng(11)
    spots = rng.uniform(-40, 260, (60, 2)).round(1)
    rows = pd.DataFrame(spots[rng.integers(0, 60, 4000)], columns=["x", "y"], index=np.arange(4000) * 3)
    code, dist = assign_wards(rows, wards, tolerance_m=20.0)
    geoms = list(wards.geometry)
    for i, (x, y) in zip(rows.index, rows.to_numpy(), strict=True):
        p = shapely.Point(x, y)
        inside = [c for c, g in zip(wards["ward_code"], geoms, strict=True) if g.intersects(p)]
        if inside:
            assert code[i] == inside[0] and dist[i] == 0.0
            continue
        d = [g.distance(p) for g in geoms]
        assert dist[i] == pytest.approx(min(d))
        assert code[i] == (wards["ward_code"].iloc[int(np.argmin(d))] if min(d) <= 20.0 else None)
    assert code.isna().any() and (dist > 0).any() and (code == "A").any() and (code == "B").any()
