"""Camera inventory reading and validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from hotspots.config import build_section
from hotspots.coverage.cameras import CamerasConfig, load_tfl_jamcams, read_inventory, restrict_to_area
from hotspots.errors import ConfigError, InputError

HEADER = "camera_id,type,x,y,range_m,bearing_deg,fov_deg,status,description\n"


def _write(tmp_path, body, name="cams.csv"):
    p = tmp_path / name
    p.write_text(HEADER + body)
    return p


def test_valid_rows_get_type_defaults(tmp_path):
    p = _write(
        tmp_path,
        "C1,cctv,530000,180000,,,,live,dome\n"
        "A1,ANPR,530100,180000,,90,,live,reader\n"
        "T1,traffic,530200,180000,120,45,70,faulty,jam\n"
        "P1,cctv,530300,180000,60,,,planned,\n",
    )
    inv = read_inventory(p)
    c = inv.cameras.set_index("camera_id")
    assert len(inv.rejected) == 0
    assert c.loc["C1", "range_m"] == 80 and c.loc["C1", "fov_deg"] == 360
    assert c.loc["A1", "type"] == "anpr" and c.loc["A1", "range_m"] == 30 and c.loc["A1", "fov_deg"] == 60
    assert c.loc["A1", "bearing_deg"] == 90
    assert c.loc["T1", "range_m"] == 120 and c.loc["T1", "fov_deg"] == 70 and c.loc["T1", "status"] == "faulty"
    assert c.loc["P1", "range_m"] == 60 and c.loc["P1", "status"] == "planned"
    assert list(inv.live()["camera_id"]) == ["C1", "A1"]
    assert inv.cameras.crs.to_epsg() == 27700
    assert c.loc["C1", "geometry"].x == 530000


def test_custom_defaults_from_config(tmp_path):
    p = _write(tmp_path, "C1,cctv,530000,180000,,,,live,\n")
    cfg = build_section(CamerasConfig, {"cctv_range_m": 55.0, "cctv_fov_deg": 120.0}, "run.toml", "cameras")
    inv = read_inventory(p, cfg)
    row = inv.cameras.iloc[0]
    # narrow default view but no bearing: kept, full circle, with a note
    assert row["range_m"] == 55 and row["fov_deg"] == 360 and "no bearing" in row["note"]


def test_bad_rows_rejected_with_file_row_column_reason(tmp_path):
    body = (
        "C1,cctv,530000,180000,80,0,360,live,ok\n"  # line 2 ok
        "C2,camera,530000,180000,80,0,360,live,\n"  # line 3 bad type
        "C1,cctv,530010,180000,80,0,360,live,\n"  # line 4 duplicate id
        "C3,cctv,,180000,80,0,360,live,\n"  # line 5 missing x
        "C4,cctv,530000,180000,far,0,360,live,\n"  # line 6 range not a number
        "C5,cctv,530000,180000,80,0,400,live,\n"  # line 7 fov out of range
        "C6,cctv,530000,180000,80,0,360,broken-ish,\n"  # line 8 unknown status
        ",cctv,530000,180000,80,0,360,live,\n"  # line 9 empty id
        "C7,anpr,530000,180000,-5,0,60,live,\n"
    )  # line 10 negative range
    p = _write(tmp_path, body)
    inv = read_inventory(p)
    rej = inv.rejected.set_index("row")
    assert list(inv.cameras["camera_id"]) == ["C1"]
    assert len(inv.cameras) + len(inv.rejected) == 9  # nothing silently dropped
    assert set(rej.index) == {3, 4, 5, 6, 7, 8, 9, 10}
    assert rej.loc[3, "column"] == "type" and "unknown camera type" in rej.loc[3, "reason"]
    assert "duplicate" in rej.loc[4, "reason"] and "row 2" in rej.loc[4, "reason"]
    assert rej.loc[5, "column"] == "x/y"
    assert rej.loc[6, "column"] == "range_m" and rej.loc[6, "value"] == "far"
    assert rej.loc[7, "column"] == "fov_deg"
    assert rej.loc[8, "column"] == "status"
    assert rej.loc[9, "column"] == "camera_id"
    assert rej.loc[10, "column"] == "range_m"
    # the pack lists rejected rows by inventory and file name, never by a local path
    assert (inv.rejected["source"] == p.name).all() and (inv.rejected["inventory"] == p.name).all()
    assert rej.loc[6, "camera_id"] == "C4" and rej.loc[9, "camera_id"] == ""


def test_lonlat_columns_converted(tmp_path):
    p = tmp_path / "ll.csv"
    p.write_text("id,type,lon,lat\nX1,cctv,-0.2,51.6\nX2,cctv,-0.21,51.61\n")
    inv = read_inventory(p)
    ex, ey = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform([-0.2, -0.21], [51.6, 51.61])
    assert np.allclose(inv.cameras["x"], ex) and np.allclose(inv.cameras["y"], ey)


def test_xy_in_other_crs(tmp_path):
    p = _write(tmp_path, "C1,cctv,-22263.0,6725000.0,,,,live,\n")
    inv = read_inventory(p, crs="EPSG:3857")
    ex, ey = Transformer.from_crs("EPSG:3857", "EPSG:27700", always_xy=True).transform(-22263.0, 6725000.0)
    assert inv.cameras["x"].iat[0] == pytest.approx(ex) and inv.cameras["y"].iat[0] == pytest.approx(ey)


def test_position_outside_gb_rejected(tmp_path):
    p = _write(
        tmp_path,
        "C1,cctv,530000,180000,,,,live,\nC2,cctv,-0.1,51.5,,,,live,degrees in x/y\n"
        "C3,cctv,900000,180000,,,,live,off the grid\n",
    )
    inv = read_inventory(p)
    assert list(inv.cameras["camera_id"]) == ["C1"]
    rej = inv.rejected.set_index("row")
    assert list(rej.index) == [3, 4]
    assert "lon,lat" in rej.loc[3, "reason"] and "Great Britain" in rej.loc[4, "reason"]


def test_whole_file_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_inventory(tmp_path / "nope.csv")
    p = tmp_path / "noid.csv"
    p.write_text("type,x,y\ncctv,1,2\n")
    with pytest.raises(InputError, match=r"noid\.csv.*camera_id"):
        read_inventory(p)
    p = tmp_path / "nopos.csv"
    p.write_text("camera_id,type\nC1,cctv\n")
    with pytest.raises(InputError, match="position"):
        read_inventory(p)
    p = _write(tmp_path, "C1,bogus,530000,180000,,,,live,\n", "allbad.csv")
    with pytest.raises(InputError, match=r"no valid camera rows.*row 2 type"):
        read_inventory(p)


def test_geojson_inventory(tmp_path):
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-0.2, 51.6]},
                "properties": {"camera_id": "G1", "type": "cctv", "bearing_deg": 30, "fov_deg": 90},
            },
            {"type": "Feature", "geometry": None, "properties": {"camera_id": "G2", "type": "cctv"}},
        ],
    }
    p = tmp_path / "cams.geojson"
    p.write_text(json.dumps(fc))
    inv = read_inventory(p)
    ex, _ey = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(-0.2, 51.6)
    assert inv.cameras["x"].iat[0] == pytest.approx(ex, abs=0.01)
    assert inv.cameras["fov_deg"].iat[0] == 90 and inv.cameras["bearing_deg"].iat[0] == 30
    assert inv.rejected["row"].tolist() == [2] and "position" in inv.rejected["reason"].iat[0]


def test_config_section_rejects_unknown_keys():
    with pytest.raises(ConfigError, match=r"cameras\.rnage_m"):
        build_section(CamerasConfig, {"rnage_m": 3}, "run.toml", "cameras")
    with pytest.raises(ConfigError, match="anpr_fov_deg"):
        build_section(CamerasConfig, {"anpr_fov_deg": 0.0}, "run.toml", "cameras")


def test_demo_inventory(repo):
    p = repo / "data" / "boundaries" / "cameras.csv"
    if not p.exists():
        pytest.skip("demo data missing")
    raw = pd.read_csv(p)
    inv = read_inventory(p)
    assert len(inv.cameras) == len(raw) and len(inv.rejected) == 0
    assert inv.cameras["type"].value_counts().to_dict() == raw["type"].value_counts().to_dict()


def test_tfl_jamcams_as_traffic_inventory(shared_data):
    import geopandas as gpd
    import shapely

    path = shared_data / "context" / "london_tfl_jamcam_traffic_cameras_2024-04.geojson"
    raw = gpd.read_file(path)
    inv = load_tfl_jamcams(path)
    assert len(inv.cameras) == len(raw) == 900
    assert set(inv.cameras["type"]) == {"traffic"}
    assert (inv.cameras["status"] == "faulty").sum() == (raw["available"].astype(str) == "false").sum()
    outline = gpd.read_file(shared_data / "boundaries" / "barnet_borough_outline.geojson").to_crs(27700)
    b = shapely.union_all(outline.geometry.to_numpy())
    near = restrict_to_area(inv, b, 0.0)
    # the file's own in_barnet flag is an independent point-in-polygon
    assert len(near.cameras) == int(raw["in_barnet"].sum())
    assert len(near.cameras) + len(near.rejected) == 900
    # the generic reader with default_type gives the same cameras
    inv2 = read_inventory(path, CamerasConfig(default_type="traffic"))
    assert len(inv2.cameras) == 900 and np.allclose(np.sort(inv2.cameras["x"]), np.sort(inv.cameras["x"]))


# ----------------------------------------------------------------------------- every field validated (issue 13)
BAD_ROWS = [
    # (row body, column named in the rejection, words in the reason)
    ("R1,cctv,530000,180000,1e12,0,360,live,", "range_m", "at most 1000"),
    ("R2,cctv,530000,180000,inf,0,360,live,", "range_m", "metres"),
    ("R3,cctv,530000,180000,0,0,360,live,", "range_m", "above 0"),
    ("B1,cctv,530000,180000,80,-10,90,live,", "bearing_deg", "0 to 360"),
    ("B2,cctv,530000,180000,80,400,90,live,", "bearing_deg", "0 to 360"),
    ("B3,cctv,530000,180000,80,north,90,live,", "bearing_deg", "0 to 360"),
    ("F1,cctv,530000,180000,80,0,0,live,", "fov_deg", "(0, 360]"),
    ("F2,cctv,530000,180000,80,0,361,live,", "fov_deg", "(0, 360]"),
    ("X1,cctv,1e155,180000,80,0,360,live,", "x/y", "not in"),
    ("X2,cctv,530000,-1e308,80,0,360,live,", "x/y", "not in"),
    ("X3,cctv,nan,180000,80,0,360,live,", "x/y", "missing"),
    ("S1,cctv,530000,180000,80,0,360,switched off,", "status", "unknown status"),
    ("T1,speed camera,530000,180000,80,0,360,live,", "type", "unknown camera type"),
]


@pytest.mark.parametrize(("body", "column", "words"), BAD_ROWS, ids=[b.split(",")[0] for b, _c, _w in BAD_ROWS])
def test_every_camera_field_is_validated(tmp_path, body, column, words):
    """A camera row with an impossible value is rejected with the column and a reason; the good row stays."""
    p = _write(tmp_path, "OK,cctv,530000,180000,80,0,360,live,fine\n" + body + "\n")
    inv = read_inventory(p)
    assert inv.cameras["camera_id"].tolist() == ["OK"]
    assert len(inv.cameras) + len(inv.rejected) == 2  # accepted + rejected = read
    r = inv.rejected.iloc[0]
    assert r["column"] == column and words in r["reason"] and r["row"] == 3
    assert r["camera_id"] == body.split(",")[0]


def test_height_and_lonlat_checks(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(
        "camera_id,type,lon,lat,mount_height_m\n"
        "H0,cctv,-0.2,51.6,8\n"
        "H1,cctv,-0.2,51.6,-1\n"
        "H2,cctv,-0.2,51.6,1e6\n"
        "L1,cctv,200,51.6,\n"
        "L2,cctv,-0.2,95,\n"
        "H3,cctv,-0.2,51.6,\n"
    )
    inv = read_inventory(p, CamerasConfig(mount_height_m=7.0))
    c = inv.cameras.set_index("camera_id")
    assert c.loc["H0", "mount_height_m"] == 8 and c.loc["H3", "mount_height_m"] == 7  # blank -> [cameras] default
    rej = inv.rejected.set_index("camera_id")
    assert set(rej.index) == {"H1", "H2", "L1", "L2"}
    assert rej.loc["H1", "column"] == "mount_height_m" and "at most 100" in rej.loc["H2", "reason"]
    assert "longitude/latitude out of range" in rej.loc["L1", "reason"]
    assert "longitude/latitude out of range" in rej.loc["L2", "reason"]


def test_coverage_stage_lists_a_camera_with_an_absurd_range(tmp_path, demo_config_path):
    """A camera range of 1e12 used to crash the run; now the row is rejected and the report lists it."""
    from hotspots.config import load_config
    from hotspots.stages.coverage import coverage
    from hotspots.stages.inputs import load_incidents, load_study_area

    raw = (demo_config_path.parents[1] / "data" / "boundaries" / "cameras.csv").read_text().splitlines()
    bad = raw[1].split(",")
    bad[0], bad[4] = "HUGE", "1e12"
    p = tmp_path / "cams.csv"
    p.write_text("\n".join([*raw, ",".join(bad)]) + "\n")
    cfg = load_config(demo_config_path)
    cfg = cfg.override("cameras", inventory=str(p)).override("siting", k=2, curve="greedy").override("anpr", k=2)
    area = load_study_area(cfg)
    inc = load_incidents(cfg, area, now=pd.Timestamp("2026-01-01", tz="Europe/London")).incidents
    res = coverage(cfg, inc.tail(3000), area, area.grid(100))
    rej = res.inventory.rejected
    assert rej["camera_id"].tolist() == ["HUGE"] and "max_range_m" in rej["reason"].iat[0]
    assert "HUGE" not in set(res.inventory.cameras["camera_id"])


# ----------------------------------------------------------------------------- several inventories, positional quality
def _two_inventories(tmp_path):
    from hotspots.config import CameraInventorySource

    a = tmp_path / "council.csv"
    a.write_text(
        "camera_id,x,y,location_desc,quality\n"
        "C1,530000,180000,High Street junction with Station Road,good\n"
        "C2,530400,180000,Outside 12 Station Road,fair\n"
        "C3,530800,180000,Car park,suspect\n"
        "C4,531200,180000,Somewhere,unknown\n"
    )
    b = tmp_path / "traffic.csv"
    b.write_text(
        "camera_id,type,x,y,view,available\nC1,traffic,530000,181000,A1 northbound,true\nT2,,530500,181000,,false\n"
    )
    council = CameraInventorySource(
        path=str(a),
        label="Council CCTV",
        dated="2017-06-12",
        default_type="cctv",
        quality_field="quality",
        position_error_m={"good": 75.0, "fair": 200.0, "suspect": 2000.0},
    )
    traffic = CameraInventorySource(path=str(b), label="Traffic cameras", default_type="traffic")
    return council, traffic


def test_two_inventories_in_one_run(tmp_path):
    from hotspots.coverage.cameras import combine

    council, traffic = _two_inventories(tmp_path)
    cfg = CamerasConfig()
    inv = combine(
        [read_inventory(council.path, cfg, source=council), read_inventory(traffic.path, cfg, source=traffic)]
    )
    c = inv.cameras
    assert c["inventory"].tolist() == ["Council CCTV"] * 3 + ["Traffic cameras"] * 2
    # the same id in two inventories is two cameras; within one inventory ids are unique
    assert (c["camera_id"] == "C1").sum() == 2
    assert c["type"].tolist() == ["cctv", "cctv", "cctv", "traffic", "traffic"]  # blank type -> default
    assert c["description"].tolist()[:2] == ["High Street junction with Station Road", "Outside 12 Station Road"]
    assert c["position_error_m"].tolist() == [75.0, 200.0, 2000.0, 0.0, 0.0]
    assert c["status"].tolist()[3:] == ["live", "faulty"]
    rej = inv.rejected
    assert rej["camera_id"].tolist() == ["C4"] and rej["column"].iat[0] == "quality"
    assert "position_error_m knows" in rej["reason"].iat[0]
    s_council, s_traffic = inv.summaries()
    assert (s_council.rows, s_council.used, s_council.rejected) == (4, 3, 1)
    assert s_council.positions == {"good": 1, "fair": 1, "suspect": 1} and s_council.approximate
    text = s_council.statement({"cctv": 80.0})
    assert text.startswith("Council CCTV dated 2017-06-12: 4 camera rows in the list, 3 used")
    assert "1 good (within 75 m)" in text and "1 suspect (within 2000 m)" in text
    assert "360° view of 80 m (no range given)" in text
    assert (s_traffic.used, s_traffic.live, s_traffic.positions) == (2, 1, {})
    with pytest.raises(InputError, match="share the label"):
        combine([read_inventory(traffic.path, cfg, source=traffic)] * 2)


def test_inventories_from_the_config(tmp_path):
    from conftest import write_config

    from hotspots.config import load_config
    from hotspots.stages.coverage import read_camera_inventory

    _two_inventories(tmp_path)
    (tmp_path / "i.csv").write_text("incident_id,crime_type,x,y,date\n1,burglary,530000,180000,2024-01-01\n")
    body = f"""
[project]
data_dir = "{tmp_path}"
[[incidents]]
path = "i.csv"
format = "generic"
[incidents.columns]
crime_type = "crime_type"
[study_area]
wards = "{tmp_path / "w.geojson"}"
[[cameras.inventories]]
path = "council.csv"
label = "Council CCTV"
dated = "2017-06-12"
default_type = "cctv"
quality_field = "quality"
position_error_m = {{ good = 75, fair = 200, suspect = 2000 }}
[[cameras.inventories]]
path = "traffic.csv"
label = "Traffic cameras"
default_type = "traffic"
"""
    (tmp_path / "w.geojson").write_text('{"type":"FeatureCollection","features":[]}')
    cfg = load_config(write_config(tmp_path, body))
    assert [s.label for s in cfg.cameras.sources()] == ["Council CCTV", "Traffic cameras"]
    inv = read_camera_inventory(cfg)
    assert [s.label for s in inv.summaries()] == ["Council CCTV", "Traffic cameras"] and len(inv.cameras) == 5
    # a missing file in a nested table stops the run before any analysis, naming the key
    bad = body.replace('path = "traffic.csv"', 'path = "nope.csv"')
    with pytest.raises(ConfigError, match=r"cameras\.inventories\[1\]\.path"):
        load_config(write_config(tmp_path, bad))
    with pytest.raises(ConfigError, match="position_error_m"):
        load_config(
            write_config(tmp_path, body.replace("position_error_m = { good = 75, fair = 200, suspect = 2000 }\n", ""))
        )
    with pytest.raises(ConfigError, match="dated"):
        load_config(write_config(tmp_path, body.replace("2017-06-12", "June 2017")))


def test_default_ranges_above_the_maximum_are_a_config_error():
    with pytest.raises(ConfigError, match="cctv_range_m"):
        build_section(CamerasConfig, {"cctv_range_m": 5000.0}, "run.toml", "cameras")


def test_barnet_council_cctv_list(shared_data):
    """Barnet's public-space CCTV list: 124 rows, approximate positions in five quality classes, no bearing
    or range (each camera a 360 degree view of the default range), descriptions from location_desc."""
    from hotspots.config import CameraInventorySource

    path = shared_data / "context" / "barnet_council_cctv_2017.gpkg"
    src = CameraInventorySource(
        path=str(path),
        label="Barnet Council public-space CCTV",
        dated="2017-06-12",
        default_type="cctv",
        description_field="location_desc",
        quality_field="geom_quality",
        position_error_m={"good": 75, "fair": 200, "approx_street_only": 400, "unverified": 500, "suspect": 2000},
    )
    inv = read_inventory(path, CamerasConfig(), source=src)
    assert len(inv.cameras) == 124 and len(inv.rejected) == 0
    c = inv.cameras
    assert (c["fov_deg"] == 360).all() and (c["range_m"] == 80).all() and (c["type"] == "cctv").all()
    assert c["position_quality"].value_counts().to_dict() == {
        "fair": 48,
        "approx_street_only": 35,
        "good": 20,
        "suspect": 15,
        "unverified": 6,
    }
    assert c.set_index("camera_id").loc["TH2", "description"] == "309 Ballards Lane junction with the Kingsway"
    (s,) = inv.summaries()
    text = s.statement({"cctv": 80.0})
    assert text.startswith("Barnet Council public-space CCTV dated 2017-06-12: 124 camera rows in the list, 124 used")
    assert "20 good (within 75 m), 48 fair (within 200 m)" in text and "360° view of 80 m" in text
