"""Render layers with the QGIS plugin's styles to a PNG, offscreen (PyQGIS, QGIS's own Python).

    QT_QPA_PLATFORM=offscreen python3 scripts/render_qgis_map.py OUT.png \
        "conflicts.gpkg|layername=conflicts::conflicts" "YJJBNT.shp::farmland" [--extent …]

Each layer is ``SOURCE::STYLE``, drawn in the order given (the first at the bottom), styled by
``geozones_qgis.styles.apply_style``. It prints, as JSON, what a test needs to find a feature's
pixels: the visible extent, the size and the map units per pixel. The tests check the colours
of the styled layers with it, and it draws the pictures of docs/qgis.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "qgis_plugin"))

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def main() -> int:
    app = QgsApplication([], False)
    app.initQgis()
    try:
        return render()
    finally:
        app.exitQgis()


def render() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("layers", nargs="+", help="SOURCE::STYLE, bottom first")
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--height", type=int, default=600)
    parser.add_argument("--extent", help="xmin,ymin,xmax,ymax (default: all layers)")
    parser.add_argument(
        "--each",
        action="store_true",
        help="Also draw each layer alone, on the same extent, as OUT-1.png, OUT-2.png, …",
    )
    args = parser.parse_args()
    from geozones_qgis.algorithms.base import quiet_gdal
    from geozones_qgis.styles import apply_style

    layers = []
    with quiet_gdal():
        for number, spec in enumerate(args.layers):
            source, _, style = spec.rpartition("::")
            layer = QgsVectorLayer(source, f"layer{number}", "ogr")
            if not layer.isValid():
                print(f"cannot open {source}", file=sys.stderr)
                return 2
            apply_style(layer, style)
            layers.append(layer)
        settings = QgsMapSettings()
        settings.setDestinationCrs(layers[0].crs())
        settings.setOutputSize(QSize(args.width, args.height))
        settings.setOutputDpi(96)
        settings.setBackgroundColor(QColor(255, 255, 255))
        if args.extent:
            settings.setExtent(QgsRectangle(*(float(v) for v in args.extent.split(","))))
        else:
            extent = QgsRectangle(layers[0].extent())
            for layer in layers[1:]:
                extent.combineExtentWith(layer.extent())
            settings.setExtent(extent)
        maps = [(args.output, layers)]
        if args.each:
            stem, suffix = args.output.with_suffix(""), args.output.suffix
            maps += [
                (Path(f"{stem}-{number}{suffix}"), [layer])
                for number, layer in enumerate(layers, start=1)
            ]
        args.output.parent.mkdir(parents=True, exist_ok=True)
        for path, drawn in maps:
            settings.setLayers(list(reversed(drawn)))  # QGIS lists the top layer first
            job = QgsMapRendererSequentialJob(settings)
            job.start()
            job.waitForFinished()
            image = job.renderedImage()
            if not image.save(str(path), "PNG"):
                print(f"cannot write {path}", file=sys.stderr)
                return 2
    visible = settings.visibleExtent()
    print(
        json.dumps(
            {
                "extent": [
                    visible.xMinimum(),
                    visible.yMinimum(),
                    visible.xMaximum(),
                    visible.yMaximum(),
                ],
                "width": image.width(),
                "height": image.height(),
                "units_per_pixel": settings.mapUnitsPerPixel(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
