"""layers.gpkg and the GeoTIFFs as a GIS analyst opens them: declared geometry types, styles stored in the
GeoPackage (checked in a real QGIS when Debian's python3-qgis is installed: `make qgis`), class rasters with
a colour table and class names, and the same bytes from the same layers."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from conftest import REPO, build_demo_pack

from hotspots.analysis.trends import ESRI_LABELS, UK_LABELS
from hotspots.geo.grid import Grid
from hotspots.render.gis_styles import GI_LABELS, layer_style
from hotspots.render.layers import CLASS_NODATA, declared_geometry_type, write_class_geotiff, write_gpkg
from hotspots.render.palette import EMERGING_COLOURS, EMERGING_OTHER, GI_COLOURS, STATUS_COLOURS

SYSTEM_PYTHON = "/usr/bin/python3"
DEMO_STAMP = "2025-11-14T00:00:00.000Z"


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    return build_demo_pack(tmp_path_factory)


def map_layers(gpkg: Path) -> dict[str, str]:
    """Layer name -> declared geometry type of the spatial layers."""
    return {str(n): str(t) for n, t in pyogrio.list_layers(gpkg) if t is not None}


def test_every_layer_declares_one_geometry_type_and_has_a_default_style(pack):
    gpkg = pack / "layers.gpkg"
    layers = map_layers(gpkg)
    assert {"wards", "tasking_items", "near_repeat_zones", "coverage_gaps", "place_trajectories"} <= set(layers)
    for name, gtype in layers.items():
        assert gtype in ("MultiPolygon", "Point", "MultiPoint", "MultiLineString"), (name, gtype)
        kinds = set(gpd.read_file(gpkg, layer=name).geom_type)
        assert kinds <= {gtype}, (name, kinds)  # every row is of the declared type (promoted to multi)
    with sqlite3.connect(gpkg) as con:
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, useAsDefault, styleQML, styleSLD, update_time FROM layer_styles"
        ).fetchall()
        geom_cols = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        stamps = {r[0] for r in con.execute("SELECT last_change FROM gpkg_contents")}
    assert sorted(r[0] for r in rows) == sorted(layers)  # one style per layer
    for name, geom_col, default, qml, sld, stamp in rows:
        assert geom_col == geom_cols[name] and default == 1 and stamp == DEMO_STAMP
        ET.fromstring(qml.split("\n", 1)[1])  # both are well-formed XML
        ET.fromstring(sld.encode())
    assert stamps == {DEMO_STAMP}


def test_coverage_gaps_have_real_incident_counts(pack):
    gaps = gpd.read_file(pack / "layers.gpkg", layer="coverage_gaps")
    assert len(gaps) and (gaps["incidents"] >= 0).all()


def test_styles_use_the_map_palette(pack):
    gpkg = pack / "layers.gpkg"
    items = gpd.read_file(gpkg, layer="tasking_items")
    st = layer_style("tasking_items", items, "MultiPolygon")
    assert st.kind == "categorised" and st.attribute == "status" and st.label_field == "rank"
    assert {c.value: c.symbol.fill for c in st.classes} == STATUS_COLOURS
    gi_name = next(n for n in map_layers(gpkg) if n.startswith("gistar_"))
    gi = layer_style(gi_name, gpd.read_file(gpkg, layer=gi_name), "MultiPolygon")
    assert {int(c.value): (c.symbol.fill, c.label) for c in gi.classes if c.value is not None} == {
        k: (GI_COLOURS[k], GI_LABELS[k]) for k in GI_COLOURS
    }
    wards = gpd.read_file(gpkg, layer="wards")
    ws = layer_style("wards", wards, "MultiPolygon")
    assert ws.kind == "graduated" and ws.label_field == "ward_name"
    # the ranges cover every ward's harm, lightest fill for the lowest harm
    assert ws.classes[0].lower == wards["harm"].min() and ws.classes[-1].upper == wards["harm"].max()


def test_declared_geometry_type_of_mixed_and_empty_layers():
    crs = "EPSG:27700"
    mixed = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(2, 2, 3, 3)])], crs=crs
    )
    assert declared_geometry_type("near_repeat_zones", mixed) == "MultiPolygon"
    empty = gpd.GeoDataFrame({"a": []}, geometry=[], crs=crs)
    assert declared_geometry_type("near_repeat_zones", empty) == "MultiPolygon"
    assert declared_geometry_type("cameras", empty) == "Point"
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.MultiPoint([(1, 1), (2, 2)])], crs=crs)
    assert declared_geometry_type("cameras", pts) == "MultiPoint"
    with pytest.raises(ValueError, match="one kind of geometry"):
        declared_geometry_type("x", gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.box(0, 0, 1, 1)], crs=crs))


def test_same_layers_give_the_same_geopackage_bytes(tmp_path):
    crs = "EPSG:27700"
    layers = {
        "wards": gpd.GeoDataFrame({"ward_name": ["A"], "harm": [3.0]}, geometry=[shapely.box(0, 0, 10, 10)], crs=crs),
        "near_repeat_zones": gpd.GeoDataFrame({"zone_id": []}, geometry=[], crs=crs),
    }
    first = write_gpkg(layers, tmp_path / "a.gpkg", as_of=None)
    time.sleep(1.1)  # GDAL stamps the clock (to the second); the finished file must not carry it
    second = write_gpkg(layers, tmp_path / "b.gpkg", as_of=None)
    assert first.read_bytes() == second.read_bytes()
    assert map_layers(first) == {"wards": "MultiPolygon", "near_repeat_zones": "MultiPolygon"}


def test_class_raster_has_colour_table_and_class_names(tmp_path):
    grid = Grid.from_boundary(shapely.box(0, 0, 400, 300), 100)
    codes = np.array([[0, 1, 2, 3], [4, 0, 1, -1], [8, 8, 0, 0]])
    labels = ESRI_LABELS
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    a = write_class_geotiff(grid, tmp_path / "a" / "emerging_classes.tif", codes, labels)
    with rasterio.open(a) as src:
        assert src.dtypes[0] == "uint8" and src.nodata == CLASS_NODATA
        arr = src.read(1)
        assert arr[1, 3] == CLASS_NODATA and arr[0, 2] == 2
        cmap = src.colormap(1)
        assert src.units[0] == "class code"
        assert "TIFFTAG_DATETIME" not in src.tags()
    for code, lab in enumerate(labels):
        hexc = "#{:02x}{:02x}{:02x}".format(*cmap[code][:3])
        assert hexc == EMERGING_COLOURS.get(lab, EMERGING_OTHER)
    pam = ET.parse(a.with_name(a.name + ".aux.xml")).getroot()
    assert [c.text for c in pam.iter("Category")] == list(labels)
    rows = pam.find(".//GDALRasterAttributeTable").findall("Row")
    assert [r.findall("F")[1].text for r in rows] == list(labels)
    qml = ET.parse(a.with_suffix(".qml")).getroot()
    assert [e.get("label") for e in qml.iter("paletteEntry")] == list(labels)
    # a TIFF colour table has no alpha: QGIS's style leaves "no pattern" (code 0) transparent
    assert [e.get("alpha") for e in qml.iter("paletteEntry")] == ["0"] + ["255"] * (len(labels) - 1)
    # the same classes give the same bytes
    b = write_class_geotiff(grid, tmp_path / "b" / "emerging_classes.tif", codes, labels)
    for suffix in ("", ".aux.xml"):
        assert Path(str(a) + suffix).read_bytes() == Path(str(b) + suffix).read_bytes()


def test_rasters_carry_units_and_descriptions(pack):
    for tif in sorted((pack / "gis").glob("*.tif")):
        with rasterio.open(tif) as src:
            assert src.descriptions[0], tif.name
            assert src.units[0], tif.name


# --------------------------------------------------------------------------- real QGIS
def qgis_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=60)
    return done.returncode == 0


@pytest.fixture(scope="module")
def qgis_report(pack, tmp_path_factory) -> tuple[dict, Path]:
    if not qgis_available():
        pytest.skip("QGIS Python bindings missing for /usr/bin/python3: run `make qgis` (apt python3-qgis)")
    png = tmp_path_factory.mktemp("qgis") / "qgis_layers.png"
    # QGIS writes statistics files (.aux.xml) beside the rasters it draws: it gets a copy, so the
    # session's pack stays byte for byte as built (the rerun test compares it)
    opened = png.parent / pack.name
    shutil.copytree(pack, opened)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(png.parent)}
    done = subprocess.run(
        [SYSTEM_PYTHON, str(REPO / "tests" / "qgis_check.py"), str(opened), str(png)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=png.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), png


def test_qgis_opens_every_layer_valid_with_its_declared_type_and_count(pack, qgis_report):
    rep, _ = qgis_report
    gpkg = pack / "layers.gpkg"
    layers = map_layers(gpkg)
    assert set(rep["vectors"]) == set(layers)  # every map layer (QGIS keeps the styles table out of the list)
    for name, gtype in layers.items():
        v = rep["vectors"][name]
        assert v["valid"], name
        assert v["geometry_type"] == gtype, (name, v["geometry_type"])
        assert v["features"] == pyogrio.read_info(gpkg, layer=name)["features"], name


def test_qgis_loads_each_default_style_from_the_geopackage(pack, qgis_report):
    rep, _ = qgis_report
    gpkg = pack / "layers.gpkg"
    renderer = {"single": "singleSymbol", "categorised": "categorizedSymbol", "graduated": "graduatedSymbol"}
    for name, gtype in map_layers(gpkg).items():
        v = rep["vectors"][name]
        st = layer_style(name, gpd.read_file(gpkg, layer=name), gtype)
        assert v["style_loaded"], (name, v["style_message"])
        assert v["renderer"] == renderer[st.kind], name
        assert v["label_field"] == st.label_field, name
        if st.kind == "categorised":
            got = {(c["value"], c["label"], c["colour"]) for c in v["classes"]}
            assert got == {(str(c.value), c.label, c.symbol.fill) for c in st.classes}, name
        if st.kind == "graduated":
            assert [c["label"] for c in v["classes"]] == [c.label for c in st.classes], name
    items = rep["vectors"]["tasking_items"]
    assert items["label_field"] == "rank"
    assert {c["value"]: c["colour"] for c in items["classes"]} == STATUS_COLOURS
    assert rep["vectors"]["wards"]["label_field"] == "ward_name"


def test_qgis_shows_emerging_classes_by_name_and_colour(qgis_report):
    rep, _ = qgis_report
    em = rep["rasters"]["emerging_classes.tif"]
    assert em["valid"] and em["data_type"] == 1 and em["renderer"] == "paletted"  # 1 = Byte
    labels = [c["label"] for c in em["classes"]]
    assert tuple(labels) in (ESRI_LABELS, UK_LABELS)
    for c in em["classes"][1:]:
        assert c["colour"] == EMERGING_COLOURS.get(c["label"], EMERGING_OTHER)
    for name, r in rep["rasters"].items():
        assert r["valid"], name


def test_qgis_draws_the_styled_map(qgis_report):
    rep, png = qgis_report
    assert rep["png_saved"] and png.stat().st_size > 10_000
    assert rep["png_inked_share"] > 0.4  # the wards fill the frame
    # the tasking items' status colour is drawn (outline at full opacity)
    assert set(STATUS_COLOURS.values()) & set(rep["png_colours"])
