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
    assert (inv.rejected["source"] == str(p)).all()


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
    ex, ey = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(-0.2, 51.6)
    assert inv.cameras["x"].iat[0] == pytest.approx(ex, abs=0.01)
    assert inv.cameras["fov_deg"].iat[0] == 90 and inv.cameras["bearing_deg"].iat[0] == 30
    assert inv.rejected["row"].tolist() == [2] and "position" in inv.rejected["reason"].iat[0]


def test_config_section_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="cameras.rnage_m"):
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
