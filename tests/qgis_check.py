"""Open a pack's GIS layers in QGIS (headless) and report what QGIS sees, as JSON on stdout.

Run with the system python3 that has Debian's QGIS bindings (``make qgis``), not the project's
virtual environment:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_check.py PACK_FOLDER OUT.png

For every layer of ``PACK_FOLDER/layers.gpkg``: valid, geometry type, feature count, whether its
default style loads from the GeoPackage, the renderer type with its classes (value or range, label,
fill colour) and the label field. For every GeoTIFF in ``PACK_FOLDER/gis``: valid, data type, the
renderer and, for a paletted raster, its classes (value, label, colour). Finally the wards, the
emerging hotspots and the tasking items are drawn with their styles into ``OUT.png``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRasterLayer,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def colour(c: QColor) -> str:
    return c.name()  # "#rrggbb"


def vector_report(layer: QgsVectorLayer) -> dict:
    msg, loaded = layer.loadDefaultStyle()
    r = layer.renderer()
    out = {
        "valid": layer.isValid(),
        "geometry_type": QgsWkbTypes.displayString(layer.wkbType()),
        "features": layer.featureCount(),
        "style_loaded": bool(loaded),
        "style_message": msg,
        "renderer": r.type() if r else None,
        "labels": layer.labelsEnabled() and layer.labeling() is not None,
        "label_field": layer.labeling().settings().fieldName if layer.labelsEnabled() and layer.labeling() else "",
    }
    if r is None:
        return out
    if r.type() == "categorizedSymbol":
        out["attribute"] = r.classAttribute()
        out["classes"] = [
            {"value": str(c.value()), "label": c.label(), "colour": colour(c.symbol().color())} for c in r.categories()
        ]
    elif r.type() == "graduatedSymbol":
        out["attribute"] = r.classAttribute()
        out["classes"] = [
            {"lower": g.lowerValue(), "upper": g.upperValue(), "label": g.label(), "colour": colour(g.symbol().color())}
            for g in r.ranges()
        ]
    elif r.type() == "singleSymbol":
        out["classes"] = [{"colour": colour(r.symbol().color())}]
    return out


def raster_report(layer: QgsRasterLayer) -> dict:
    r = layer.renderer()
    prov = layer.dataProvider()
    out = {
        "valid": layer.isValid(),
        "data_type": int(prov.dataType(1)),
        "renderer": r.type() if r else None,
        "description": prov.generateBandName(1),
    }
    if r is not None and r.type() == "paletted":
        out["classes"] = [{"value": int(c.value), "label": c.label, "colour": colour(c.color)} for c in r.classes()]
    return out


def main(pack: Path, png: Path) -> dict:
    gpkg = pack / "layers.gpkg"
    report: dict = {}
    whole = QgsVectorLayer(str(gpkg), "all", "ogr")
    names = [sub.split("!!::!!")[1] for sub in whole.dataProvider().subLayers() if "!!::!!" in sub]
    report["layer_names"] = names
    vectors = {}
    layers = {}
    for name in names:
        lyr = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        layers[name] = lyr
        vectors[name] = vector_report(lyr)
    report["vectors"] = vectors
    rasters = {}
    for tif in sorted((pack / "gis").glob("*.tif")):
        rl = QgsRasterLayer(str(tif), tif.stem)
        rasters[tif.name] = raster_report(rl)
    report["rasters"] = rasters
    # draw the wards, emerging hotspots and tasking items (top) with their stored styles
    drawn = [layers[n] for n in ("tasking_items", "emerging_hotspots", "wards") if n in layers]
    settings = QgsMapSettings()
    settings.setLayers(drawn)
    settings.setDestinationCrs(layers["wards"].crs())
    settings.setExtent(layers["wards"].extent().buffered(200))
    settings.setOutputSize(QSize(1000, 800))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    report["png_saved"] = bool(image.save(str(png), "PNG"))
    # share of the picture that is not white (the styles drew something) and its most common colours
    counts: dict[str, int] = {}
    for x in range(0, image.width(), 2):
        for y in range(0, image.height(), 2):
            name = image.pixelColor(x, y).name()
            counts[name] = counts.get(name, 0) + 1
    total = sum(counts.values())
    report["png_inked_share"] = 1 - counts.get("#ffffff", 0) / total
    report["png_colours"] = sorted(counts, key=lambda c: -counts[c])[:200]
    return report


if __name__ == "__main__":
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    result = main(Path(sys.argv[1]), Path(sys.argv[2]))
    result["qgis"] = app.applicationVersion()
    print(json.dumps(result))
    app.exitQgis()
